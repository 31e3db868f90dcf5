//! `customs verify-blob`: a Sigstore bundle, checked offline against a trusted root.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use customs_sign::bundle::{self, Signed, Signer};

#[derive(clap::Args)]
pub(crate) struct VerifyBlobArgs {
    /// The Sigstore bundle (`*.sigstore.json`, v0.1 to v0.3).
    #[arg(long)]
    bundle: PathBuf,
    /// The certificate's identity (its SAN: an email address or a workflow URI), exactly.
    #[arg(
        long,
        requires = "certificate_oidc_issuer",
        required_unless_present = "key"
    )]
    certificate_identity: Option<String>,
    /// The OIDC issuer the certificate names, exactly.
    #[arg(long, requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// A PEM public key to verify with instead of a certificate identity.
    #[arg(long, conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    key: Option<PathBuf>,
    /// The trusted root (`trusted_root.json`); default: the Sigstore production root shipped
    /// with customs.
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// The signed file, or its digest as `sha256:<hex>`.
    artifact: String,
}

/// Exit 0 when the bundle verifies, 1 when it is refused (with its reason code), 2 when an
/// input cannot be used.
pub(crate) fn run(args: &VerifyBlobArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    let outcome = (|| {
        let root = bundle::trusted_root(args.trusted_root.as_deref())?;
        let signer = match (
            &args.key,
            &args.certificate_identity,
            &args.certificate_oidc_issuer,
        ) {
            (Some(k), _, _) => Signer::key_file(k)?,
            (None, Some(identity), Some(issuer)) => Signer::Identity {
                identity: identity.clone(),
                issuer: issuer.clone(),
            },
            _ => {
                return Err(bundle::BundleError {
                    code: "unreadable-input",
                    detail: "give --key, or --certificate-identity with --certificate-oidc-issuer"
                        .to_owned(),
                });
            }
        };
        let bytes;
        let signed = if args.artifact.starts_with("sha256:") {
            Signed::Sha256(args.artifact.clone())
        } else {
            bytes = std::fs::read(&args.artifact).map_err(|e| bundle::BundleError {
                code: "unreadable-input",
                detail: format!("{}: {e}", args.artifact),
            })?;
            Signed::Bytes(&bytes)
        };
        bundle::verify_file(&args.bundle, &signed, &signer, &root)
    })();
    match outcome {
        Ok(v) => {
            if args.json {
                serde_json::to_writer_pretty(
                    &mut *out,
                    &serde_json::json!({
                        "verified": true, "identity": v.identity, "issuer": v.issuer,
                        "integrated_time": v.integrated_time, "tlog": v.tlog,
                    }),
                )?;
                writeln!(out)?;
            } else {
                let who = match (&v.identity, &v.issuer) {
                    (Some(i), Some(s)) => format!("{i} ({s})"),
                    _ => "the key".to_owned(),
                };
                writeln!(out, "verified: signed by {who}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                serde_json::to_writer_pretty(
                    &mut *out,
                    &serde_json::json!({"verified": false, "code": e.code, "detail": e.detail}),
                )?;
                writeln!(out)?;
            }
            writeln!(err, "customs: not verified: {e}")?;
            Ok(ExitCode::from(if e.is_input_error() { 2 } else { 1 }))
        }
    }
}
