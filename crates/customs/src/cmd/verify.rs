//! `customs verify-blob`, `customs verify` and `customs sign`: signatures of files and images,
//! checked offline against a trusted root.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use customs_sign::bundle::{self, Signed, Signer};

use crate::args::{Format, HttpArgs, RegistryArgs};
use crate::render;

/// Who must have signed, and the root of trust for keyless signatures.
#[derive(clap::Args)]
pub(crate) struct TrustArgs {
    /// The certificate's identity (its SAN: an email address or a workflow URI), exactly.
    #[arg(long, conflicts_with = "certificate_identity_regexp")]
    certificate_identity: Option<String>,
    /// A regular expression the whole identity must match (anchored at both ends, unlike
    /// cosign's).
    #[arg(long, value_name = "REGEX")]
    certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the certificate names, exactly.
    #[arg(long, conflicts_with = "certificate_oidc_issuer_regexp")]
    certificate_oidc_issuer: Option<String>,
    /// A regular expression the whole OIDC issuer must match.
    #[arg(long, value_name = "REGEX")]
    certificate_oidc_issuer_regexp: Option<String>,
    /// A PEM public key (ECDSA P-256, Ed25519 or RSA; `cosign.pub`) to verify with instead of
    /// a certificate identity.
    #[arg(long, conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer",
        "certificate_identity_regexp", "certificate_oidc_issuer_regexp"])]
    key: Option<PathBuf>,
    /// The trusted root (`trusted_root.json`); default: the Sigstore production root shipped
    /// with customs.
    #[arg(long)]
    trusted_root: Option<PathBuf>,
}

impl TrustArgs {
    fn signer(&self) -> Result<Signer, bundle::BundleError> {
        use bundle::Pattern;
        if let Some(k) = &self.key {
            return Signer::key_file(k);
        }
        let pattern = |exact: &Option<String>, regexp: &Option<String>| match (exact, regexp) {
            (Some(e), _) => Some(Ok(Pattern::Exact(e.clone()))),
            (None, Some(r)) => Some(Pattern::regex(r)),
            (None, None) => None,
        };
        let identity = pattern(
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        );
        let issuer = pattern(
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        );
        match (identity, issuer) {
            (Some(identity), Some(issuer)) => Ok(match (identity?, issuer?) {
                (Pattern::Exact(identity), Pattern::Exact(issuer)) => {
                    Signer::Identity { identity, issuer }
                }
                (identity, issuer) => Signer::Matching { identity, issuer },
            }),
            _ => Err(bundle::BundleError {
                code: "unreadable-input",
                detail: "give --key, or a certificate identity (--certificate-identity or \
                         --certificate-identity-regexp) with its issuer \
                         (--certificate-oidc-issuer or --certificate-oidc-issuer-regexp)"
                    .to_owned(),
            }),
        }
    }

    fn given(&self) -> bool {
        self.key.is_some()
            || self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.certificate_oidc_issuer_regexp.is_some()
    }
}

#[derive(clap::Args)]
pub(crate) struct VerifyBlobArgs {
    /// The Sigstore bundle (`*.sigstore.json`, v0.1 to v0.3).
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// The signed file, or its digest as `sha256:<hex>`.
    artifact: String,
}

#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// The image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:….
    reference: String,
    #[command(flatten)]
    trust: TrustArgs,
    /// A trust policy (YAML): the policy for the image's repository says who must have
    /// signed, how many, and whether to enforce or warn. Instead of --key or an identity.
    #[arg(long, value_name = "FILE")]
    trust_policy: Option<PathBuf>,
    /// Verify Notation signatures against this trust store (a folder of certificates)
    /// instead of cosign's.
    #[arg(long, value_name = "DIR", conflicts_with = "trust_policy")]
    notation_trust_store: Option<PathBuf>,
    /// The trust store's kind: ca (signing scheme notary.x509) or signingAuthority.
    #[arg(long, value_enum, default_value = "ca")]
    notation_store_type: NotationStoreType,
    /// Notation's verification level: strict, permissive or audit.
    #[arg(long, value_enum, default_value = "strict")]
    notation_level: NotationLevel,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

/// `--notation-store-type`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum NotationStoreType {
    /// notary.x509.
    Ca,
    /// notary.x509.signingAuthority.
    #[value(name = "signingAuthority")]
    SigningAuthority,
}

/// `--notation-level`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum NotationLevel {
    /// Every check enforced.
    Strict,
    /// Integrity and authenticity enforced.
    Permissive,
    /// Integrity enforced.
    Audit,
}

impl From<NotationStoreType> for customs_sign::notation::StoreKind {
    fn from(t: NotationStoreType) -> Self {
        match t {
            NotationStoreType::Ca => Self::Ca,
            NotationStoreType::SigningAuthority => Self::SigningAuthority,
        }
    }
}

impl From<NotationLevel> for customs_sign::notation::Level {
    fn from(l: NotationLevel) -> Self {
        match l {
            NotationLevel::Strict => Self::Strict,
            NotationLevel::Permissive => Self::Permissive,
            NotationLevel::Audit => Self::Audit,
        }
    }
}

#[derive(clap::Args)]
pub(crate) struct SignArgs {
    /// The image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:….
    reference: String,
    /// The private key (PEM: PKCS#8 or SEC1, or cosign's encrypted key with its password in
    /// COSIGN_PASSWORD; ECDSA P-256 or Ed25519): a legacy `.sig` signature.
    #[arg(long, value_name = "FILE", required_unless_present = "identity_token")]
    key: Option<PathBuf>,
    /// Sign keylessly with this OIDC identity token instead: a cosign v3 bundle (DSSE,
    /// Fulcio, Rekor) attached as a referrer.
    #[arg(
        long,
        env = "SIGSTORE_ID_TOKEN",
        hide_env_values = true,
        conflicts_with = "key"
    )]
    identity_token: Option<String>,
    /// Fulcio, for keyless signing.
    #[arg(long, default_value = "https://fulcio.sigstore.dev")]
    fulcio_url: String,
    /// Rekor, for keyless signing.
    #[arg(long, default_value = "https://rekor.sigstore.dev")]
    rekor_url: String,
    /// The trusted root a keyless bundle is checked against before it is pushed.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// Also write a keyless signature's bundle to this file.
    #[arg(long, value_name = "FILE")]
    output_bundle: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct VerifyAttestationArgs {
    /// The image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:….
    reference: String,
    /// The predicate type: cyclonedx, spdx, openvex, slsaprovenance, slsaprovenance1, vuln,
    /// custom (cosign's names), or a URI.
    #[arg(long = "type", value_name = "TYPE")]
    kind: String,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct AttestArgs {
    /// The image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:….
    reference: String,
    /// The private key (PEM: PKCS#8 or SEC1, or cosign's encrypted key with its password in
    /// COSIGN_PASSWORD; ECDSA P-256 or Ed25519).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The predicate type: as for verify-attestation.
    #[arg(long = "type", value_name = "TYPE")]
    kind: String,
    /// The predicate: a JSON file (a CycloneDX SBOM, an OpenVEX document, provenance, …).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

/// Exit 0 when an attestation of the type by the signer verifies, 1 when none does, 2 on
/// errors.
pub(crate) fn verify_attestation(
    args: &VerifyAttestationArgs,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    let inputs = args
        .trust
        .signer()
        .and_then(|s| Ok((s, bundle::trusted_root(args.trust.trusted_root.as_deref())?)));
    let (signer, root) = match inputs {
        Ok(x) => x,
        Err(e) => {
            writeln!(err, "customs: error: {e}")?;
            return Ok(ExitCode::from(2));
        }
    };
    let predicate = customs_sign::attestation::predicate_type(&args.kind);
    let image = reference(&args.reference)?;
    let v = customs_app::signatures::verify_attestations(
        &client(&args.registry, &args.http)?,
        &image,
        &signer,
        &root,
        &predicate,
    )?;
    match args.format {
        Format::Json => render::json(out, &v)?,
        Format::Table => {
            for a in &v.attestations {
                match (&a.verified, a.code) {
                    (Some(ok), _) => {
                        let who = match (&ok.verified.identity, &ok.verified.key) {
                            (Some(i), _) => i.clone(),
                            (_, Some(k)) => format!("key {k}"),
                            _ => String::new(),
                        };
                        writeln!(out, "  {}  verified: {who}", a.source)?;
                    }
                    (None, code) => writeln!(
                        out,
                        "  {}  refused: {} {}",
                        a.source,
                        code.unwrap_or_default(),
                        a.detail.as_deref().unwrap_or_default()
                    )?,
                }
            }
            if v.satisfied {
                writeln!(
                    out,
                    "verified {}@{}: {} attestation(s) of {}",
                    v.reference, v.digest, v.verified, v.predicate_type
                )?;
            }
        }
    }
    if let Some(code) = v.code {
        writeln!(
            err,
            "customs: not verified: {code}: {}@{}: no {} attestation by the required signer",
            v.reference, v.digest, v.predicate_type
        )?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds a cosign-compatible attestation about the image's digest to the registry.
pub(crate) fn attest(args: &AttestArgs, out: &mut impl Write) -> Result<ExitCode> {
    let key = signing_key(&args.key)?;
    let predicate = std::fs::read(&args.predicate)
        .with_context(|| format!("reading {}", args.predicate.display()))?;
    let image = reference(&args.reference)?;
    let r = customs_app::signatures::attest(
        &client(&args.registry, &args.http)?,
        &image,
        &key,
        &customs_sign::attestation::predicate_type(&args.kind),
        &predicate,
    )?;
    match args.format {
        Format::Json => render::json(out, &r)?,
        Format::Table => writeln!(
            out,
            "attested {}@{} ({}) with key {}: tag {}",
            r.reference, r.digest, r.predicate_type, r.key, r.attestation_tag
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct SignBlobArgs {
    /// The file to sign.
    file: PathBuf,
    /// The OIDC identity token (a JWT whose audience is `sigstore`).
    #[arg(long, env = "SIGSTORE_ID_TOKEN", hide_env_values = true)]
    identity_token: String,
    /// Fulcio, the certificate authority.
    #[arg(long, default_value = "https://fulcio.sigstore.dev")]
    fulcio_url: String,
    /// Rekor, the transparency log.
    #[arg(long, default_value = "https://rekor.sigstore.dev")]
    rekor_url: String,
    /// Where the bundle goes (default: FILE.sigstore.json).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// The trusted root the new bundle is checked against before it is written (default:
    /// the Sigstore production root).
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    #[command(flatten)]
    http: HttpArgs,
}

/// Signs a file keylessly: a Sigstore bundle v0.3, checked before it is written.
pub(crate) fn sign_blob(args: &SignBlobArgs, out: &mut impl Write) -> Result<ExitCode> {
    let artifact =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let root = bundle::trusted_root(args.trusted_root.as_deref())?;
    let transport = args.http.transport(&[], None)?;
    let opts = customs_app::keyless::KeylessOptions {
        fulcio_url: args.fulcio_url.clone(),
        rekor_url: args.rekor_url.clone(),
        identity_token: args.identity_token.clone(),
    };
    let json = customs_app::keyless::sign_blob(&transport, &artifact, &opts, &root)?;
    let path = args.bundle.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(".sigstore.json");
        PathBuf::from(p)
    });
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    writeln!(out, "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct PublicKeyArgs {
    /// The private key (PEM, or cosign's encrypted key with COSIGN_PASSWORD).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Prints the public half of a private key as PEM (`cosign public-key`).
pub(crate) fn public_key(args: &PublicKeyArgs, out: &mut impl Write) -> Result<ExitCode> {
    write!(out, "{}", signing_key(&args.key)?.verifying_key().to_pem())?;
    Ok(ExitCode::SUCCESS)
}

/// A signing key file, decrypted with `COSIGN_PASSWORD` (empty when unset) when it is in
/// cosign's encrypted format, as cosign does.
fn signing_key(path: &Path) -> Result<customs_sign::SigningKey> {
    let password = std::env::var("COSIGN_PASSWORD").unwrap_or_default();
    Ok(customs_sign::SigningKey::from_file_with_password(
        path,
        password.as_bytes(),
    )?)
}

fn client(registry: &RegistryArgs, http: &HttpArgs) -> Result<customs_registry::Client> {
    Ok(customs_registry::Client::new(
        http.transport(&registry.insecure_registries, None)?,
        customs_registry::ClientOptions {
            credential: registry.credential()?,
            ..customs_registry::ClientOptions::default()
        },
    ))
}

fn reference(s: &str) -> Result<customs_registry::Reference> {
    customs_registry::Reference::parse(s)
        .with_context(|| format!("{s:?} is not a registry reference"))
}

/// Exit 0 when the image carries a signature by the signer, 1 when it does not (with the
/// reason code), 2 when the inputs or the registry cannot be used.
pub(crate) fn verify(args: &VerifyArgs, out: &mut impl Write) -> Result<ExitCode> {
    if let Some(policy) = &args.trust_policy {
        return verify_policy(args, policy, out);
    }
    let mut err = std::io::stderr().lock();
    let image = reference(&args.reference)?;
    let v = if let Some(dir) = &args.notation_trust_store {
        let store = match customs_sign::notation::TrustStore::from_dir(
            dir,
            args.notation_store_type.into(),
        ) {
            Ok(s) => s,
            Err(e) => {
                writeln!(err, "customs: error: {e}")?;
                return Ok(ExitCode::from(2));
            }
        };
        let collected =
            customs_app::signatures::collect(&client(&args.registry, &args.http)?, &image)?;
        collected.judge_with(customs_app::signatures::Who::Notation(
            &store,
            args.notation_level.into(),
            customs_types::Timestamp::now(),
        ))
    } else {
        let inputs = args
            .trust
            .signer()
            .and_then(|s| Ok((s, bundle::trusted_root(args.trust.trusted_root.as_deref())?)));
        let (signer, root) = match inputs {
            Ok(x) => x,
            Err(e) => {
                writeln!(err, "customs: error: {e}")?;
                return Ok(ExitCode::from(2));
            }
        };
        customs_app::signatures::verify(
            &client(&args.registry, &args.http)?,
            &image,
            &signer,
            &root,
        )?
    };
    match args.format {
        Format::Json => render::json(out, &v)?,
        Format::Table => {
            for s in &v.signatures {
                let what = match (&s.verified, s.code) {
                    (Some(c), _) => {
                        match (&c.verified.identity, &c.verified.issuer, &c.verified.key) {
                            (Some(i), Some(o), _) => format!("verified: {i} ({o})"),
                            (_, _, Some(k)) => format!("verified: key {k}"),
                            _ => "verified".to_owned(),
                        }
                    }
                    (None, code) => format!(
                        "refused: {} {}",
                        code.unwrap_or("refused"),
                        s.detail.as_deref().unwrap_or_default()
                    ),
                };
                let layout = match s.layout {
                    customs_sign::image::Layout::Legacy => "legacy",
                    customs_sign::image::Layout::Bundle => "bundle",
                    customs_sign::image::Layout::Notation => "notation",
                };
                writeln!(out, "  {layout:<6} {}  {what}", s.source)?;
            }
            if v.satisfied {
                writeln!(
                    out,
                    "verified {}@{}: {} of {} signature(s)",
                    v.reference,
                    v.digest,
                    v.verified,
                    v.signatures.len()
                )?;
            }
        }
    }
    if let Some(code) = v.code {
        writeln!(
            err,
            "customs: not verified: {code}: {}@{}: {} signature(s) found, none by the required signer",
            v.reference,
            v.digest,
            v.signatures.len()
        )?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_policy(args: &VerifyArgs, policy: &Path, out: &mut impl Write) -> Result<ExitCode> {
    use customs_app::signatures::Outcome;
    let mut err = std::io::stderr().lock();
    if args.trust.given() {
        writeln!(
            err,
            "customs: error: --trust-policy names its signers; give it without --key or identities"
        )?;
        return Ok(ExitCode::from(2));
    }
    let inputs = customs_sign::policy::TrustPolicy::from_file(policy)
        .map_err(|e| e.to_string())
        .and_then(|p| {
            let root = bundle::trusted_root(args.trust.trusted_root.as_deref())
                .map_err(|e| e.to_string())?;
            Ok((p, root))
        });
    let (policy, root) = match inputs {
        Ok(x) => x,
        Err(e) => {
            writeln!(err, "customs: error: {e}")?;
            return Ok(ExitCode::from(2));
        }
    };
    let image = reference(&args.reference)?;
    let v = customs_app::signatures::verify_policy(
        &client(&args.registry, &args.http)?,
        &image,
        &policy,
        &root,
        &customs_image::Platform::host(),
        customs_types::Timestamp::now(),
    )?;
    match args.format {
        Format::Json => render::json(out, &v)?,
        Format::Table => {
            let signed = v.authorities.iter().filter(|a| a.signed).count();
            if let (Some(name), Some(mode)) = (&v.policy, &v.mode) {
                writeln!(
                    out,
                    "policy {name} ({mode}): {signed} of {} authorit(ies) signed, {} required; {} signature(s) found",
                    v.authorities.len(),
                    v.required,
                    v.signatures
                )?;
            }
            for a in &v.authorities {
                match &a.code {
                    None => writeln!(out, "  {:<20} signed", a.name)?,
                    Some(c) => writeln!(
                        out,
                        "  {:<20} not signed: {c} {}",
                        a.name,
                        a.detail.as_deref().unwrap_or_default()
                    )?,
                }
            }
            writeln!(out, "{}: {}@{}", v.outcome.as_str(), v.reference, v.digest)?;
        }
    }
    let code = v.code.as_deref();
    match (v.outcome, code) {
        (Outcome::Pass, _) => Ok(ExitCode::SUCCESS),
        (Outcome::Skip, _) => {
            writeln!(
                err,
                "customs: not verified: {}@{}: policy {} skips verification",
                v.reference,
                v.digest,
                v.policy.as_deref().unwrap_or_default()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        (Outcome::Warn, code) => {
            writeln!(
                err,
                "customs: warning: {}: {} (the policy only warns)",
                code.unwrap_or_default(),
                v.reference
            )?;
            Ok(ExitCode::SUCCESS)
        }
        (Outcome::Fail, code) => {
            let why = if code == Some("no-policy") {
                format!(
                    "no policy in {} names this repository",
                    policy.path.display()
                )
            } else {
                "not signed as the policy requires".to_owned()
            };
            writeln!(
                err,
                "customs: not verified: {}: {}@{}: {why}",
                code.unwrap_or_default(),
                v.reference,
                v.digest
            )?;
            Ok(ExitCode::from(1))
        }
    }
}

/// Adds a cosign-compatible signature of the image's digest to the registry.
pub(crate) fn sign(args: &SignArgs, out: &mut impl Write) -> Result<ExitCode> {
    let image = reference(&args.reference)?;
    let Some(key) = &args.key else {
        let root = bundle::trusted_root(args.trusted_root.as_deref())?;
        let opts = customs_app::keyless::KeylessOptions {
            fulcio_url: args.fulcio_url.clone(),
            rekor_url: args.rekor_url.clone(),
            identity_token: args.identity_token.clone().unwrap_or_default(),
        };
        let r = customs_app::keyless::sign_image(
            &client(&args.registry, &args.http)?,
            &args.http.transport(&[], None)?,
            &image,
            &opts,
            &root,
        )?;
        if let Some(path) = &args.output_bundle {
            std::fs::write(path, &r.bundle)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        match args.format {
            Format::Json => render::json(out, &r)?,
            Format::Table => writeln!(
                out,
                "signed {}@{} as {}: referrer {}{}",
                r.reference,
                r.digest,
                r.identity,
                r.referrer,
                r.fallback_tag
                    .as_deref()
                    .map(|t| format!(", listed in tag {t}"))
                    .unwrap_or_default()
            )?,
        }
        return Ok(ExitCode::SUCCESS);
    };
    let key = signing_key(key)?;
    let r = customs_app::signatures::sign(&client(&args.registry, &args.http)?, &image, &key)?;
    match args.format {
        Format::Json => render::json(out, &r)?,
        Format::Table => writeln!(
            out,
            "signed {}@{} with {} key {}: tag {} ({} signature(s))",
            r.reference,
            r.digest,
            key.scheme(),
            r.key,
            r.signature_tag,
            r.signatures
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit 0 when the bundle verifies, 1 when it is refused (with its reason code), 2 when an
/// input cannot be used.
pub(crate) fn run(args: &VerifyBlobArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    let outcome = (|| {
        let root = bundle::trusted_root(args.trust.trusted_root.as_deref())?;
        let signer = args.trust.signer()?;
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
