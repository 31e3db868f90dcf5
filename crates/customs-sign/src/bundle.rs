//! Sigstore bundles (v0.1 to v0.3; a message signature or a DSSE envelope), verified offline
//! against a trusted root: the Fulcio chain at the log's or the timestamp authority's time,
//! the SCT, the Rekor entry (SET, inclusion proof, checkpoint), and who signed, by certificate
//! identity and issuer or by public key.
//!
//! `sigstore-verify` does the cryptography and the Sigstore rules (it runs the
//! sigstore-conformance suite in its own CI); this module chooses the policy, reads the inputs
//! with errors that name their file, and gives every refusal a stable reason code.

use std::fmt;
use std::path::Path;

pub use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Artifact, Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{
    CertificateError, Error as SigstoreError, PublicKeyVerificationPolicy, TimestampError,
    TransparencyLogError, VerificationPolicy, Verifier,
};

/// A bundle is JSON of a few kilobytes; one far larger is not a bundle.
const MAX_BUNDLE: u64 = 16 << 20;
/// A trusted root lists a handful of authorities.
const MAX_ROOT: u64 = 16 << 20;

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A Fulcio certificate whose subject alternative name is exactly `identity` and whose
    /// OIDC issuer extension is exactly `issuer`.
    Identity {
        /// The SAN: an email address or a URI (a CI workflow).
        identity: String,
        /// The OIDC issuer (`https://token.actions.githubusercontent.com`).
        issuer: String,
    },
    /// A Fulcio certificate whose identity and issuer match these patterns (either may be
    /// exact).
    Matching {
        /// The SAN.
        identity: Pattern,
        /// The OIDC issuer.
        issuer: Pattern,
    },
    /// A public key (PEM, `BEGIN PUBLIC KEY`): a signature without a certificate.
    Key {
        /// The PEM text.
        pem: String,
        /// Where it came from, for errors.
        origin: String,
    },
}

/// How an identity or issuer is matched: exactly, or by a regular expression that must match
/// the whole value (cosign's `--certificate-identity-regexp` matches anywhere in it, so
/// `ci@example.com` there also admits `ci@example.com.evil`; here it does not).
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Equal to this.
    Exact(String),
    /// The whole value matches (anchored `^(?:…)$`).
    Regex(regex::Regex),
}

impl Pattern {
    /// A pattern from a regular expression, anchored at both ends.
    ///
    /// # Errors
    /// `invalid-pattern` with the regex's own message.
    pub fn regex(expr: &str) -> Result<Self, BundleError> {
        regex::RegexBuilder::new(&format!("^(?:{expr})$"))
            .size_limit(1 << 20)
            .build()
            .map(Self::Regex)
            .map_err(|e| BundleError::new("invalid-pattern", format!("{expr:?}: {e}")))
    }

    /// Whether `value` matches.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(s) => f.write_str(s),
            // Shown as given, without the anchors added.
            Self::Regex(r) => {
                let s = r.as_str();
                let inner = s
                    .strip_prefix("^(?:")
                    .and_then(|s| s.strip_suffix(")$"))
                    .unwrap_or(s);
                write!(f, "/{inner}/")
            }
        }
    }
}

impl Signer {
    /// A [`Signer::Key`] read from a PEM file (at most 16 MiB).
    ///
    /// # Errors
    /// `unreadable-input`, or `invalid-key` for a file that is no public key, naming the
    /// file: checked here, so that a wrong file is an error rather than a refusal of every
    /// signature.
    pub fn key_file(path: &Path) -> Result<Self, BundleError> {
        let pem = read_bounded(path, MAX_BUNDLE, "key file")?;
        DerPublicKey::from_pem(&pem).map_err(|e| {
            BundleError::new(
                "invalid-key",
                format!("{}: not a PEM public key: {e}", path.display()),
            )
        })?;
        Ok(Self::Key {
            pem,
            origin: path.display().to_string(),
        })
    }
}

/// What was signed: the artifact's bytes, or only its SHA-256.
#[derive(Debug, Clone)]
pub enum Signed<'a> {
    /// The whole artifact.
    Bytes(&'a [u8]),
    /// `sha256:<hex>` of the artifact.
    Sha256(String),
}

/// A bundle that verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// The certificate's identity (SAN), for a keyless signature.
    pub identity: Option<String>,
    /// The certificate's OIDC issuer.
    pub issuer: Option<String>,
    /// When the transparency log recorded the signature (RFC 3339), when it did.
    pub integrated_time: Option<String>,
    /// Whether a transparency-log entry was verified.
    pub tlog: bool,
    /// The key's fingerprint (`sha256:` of its SubjectPublicKeyInfo), for a signature
    /// checked with a key.
    pub key: Option<String>,
}

/// Why a bundle did not verify, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleError {
    /// The stable reason code (`identity-mismatch`, `tlog-proof-invalid`, …).
    pub code: &'static str,
    /// What exactly went wrong.
    pub detail: String,
}

impl BundleError {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// Whether the inputs could not be read or used (exit 2), rather than a signature that
    /// was checked and refused (exit 1).
    #[must_use]
    pub fn is_input_error(&self) -> bool {
        matches!(
            self.code,
            "unreadable-input" | "invalid-trusted-root" | "invalid-key" | "invalid-pattern"
        )
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for BundleError {}

/// The reason code of a refusal by `sigstore-verify`.
fn code_of(e: &SigstoreError) -> &'static str {
    match e {
        SigstoreError::IdentityMismatch { .. } => "identity-mismatch",
        SigstoreError::IssuerMismatch { .. } => "issuer-mismatch",
        SigstoreError::SignatureInvalid(_) => "signature-invalid",
        SigstoreError::ArtifactMismatch(_) => "digest-mismatch",
        SigstoreError::Certificate(c) => match c {
            CertificateError::Expired { .. } | CertificateError::NotYetValid { .. } => {
                "certificate-expired"
            }
            CertificateError::Sct(_) => "sct-invalid",
            // sigstore-verify (=0.15.1) checks the chain at the log's or the TSA's time with
            // rustls-webpki and passes on only webpki's error, as text: a leaf that had
            // expired (or was not valid yet) at that time is named by it.
            CertificateError::ChainInvalid(why)
                if why.contains("CertExpired") || why.contains("CertNotValidYet") =>
            {
                "certificate-expired"
            }
            CertificateError::NoValidAuthority { .. } | CertificateError::ChainInvalid(_) => {
                "certificate-untrusted"
            }
            _ => "certificate-invalid",
        },
        SigstoreError::TransparencyLog(t) => match t {
            TransparencyLogError::UnknownLog { .. } => "tlog-unknown",
            // sigstore-verify (=0.15.1) reports an entry whose log ID the root has no key for
            // (at the entry's integrated time) as an inclusion promise error, by this text.
            TransparencyLogError::InclusionPromise(why) if why.starts_with("No log key valid") => {
                "tlog-unknown"
            }
            TransparencyLogError::InclusionPromise(_) => "tlog-set-invalid",
            TransparencyLogError::IntegratedTime(_) => "tlog-time-invalid",
            _ => "tlog-proof-invalid",
        },
        SigstoreError::Timestamp(t) => match t {
            TimestampError::OutsideAuthorityValidity { .. } => "timestamp-untrusted",
            _ => "timestamp-invalid",
        },
        SigstoreError::Bundle(b) => match b {
            sigstore_bundle::Error::MissingInclusionPromise(_) => "tlog-set-missing",
            sigstore_bundle::Error::MissingSigningTimeEvidence => "tlog-missing",
            sigstore_bundle::Error::MissingTimestamp => "timestamp-missing",
            sigstore_bundle::Error::MissingInclusionProof(_)
            | sigstore_bundle::Error::MissingCheckpoint
            | sigstore_bundle::Error::LogIndexOutOfRange { .. }
            | sigstore_bundle::Error::CheckpointRootMismatch => "tlog-proof-invalid",
            _ => "bundle-invalid",
        },
        SigstoreError::UnsupportedBundle(_) | SigstoreError::UnsupportedArtifact(_) => {
            "bundle-unsupported"
        }
        SigstoreError::InvalidTrustRoot(_) | SigstoreError::TrustRoot(_) => "invalid-trusted-root",
        SigstoreError::ArtifactRead(_) => "unreadable-input",
        _ => "bundle-invalid",
    }
}

fn read_bounded(path: &Path, max: u64, what: &str) -> Result<String, BundleError> {
    let len = std::fs::metadata(path)
        .map_err(|e| BundleError::new("unreadable-input", format!("{}: {e}", path.display())))?
        .len();
    if len > max {
        return Err(BundleError::new(
            "unreadable-input",
            format!(
                "{}: {len} bytes, more than a {what} can be ({max})",
                path.display()
            ),
        ));
    }
    std::fs::read_to_string(path)
        .map_err(|e| BundleError::new("unreadable-input", format!("{}: {e}", path.display())))
}

/// A trusted root from a `trusted_root.json` file, or, without one, the Sigstore production
/// root shipped with customs (the one `sigstore-verify` embeds).
///
/// # Errors
/// `unreadable-input` or `invalid-trusted-root`, naming the file.
pub fn trusted_root(path: Option<&Path>) -> Result<TrustedRoot, BundleError> {
    match path {
        None => {
            TrustedRoot::from_json(sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT)
                .map_err(|e| BundleError::new("invalid-trusted-root", format!("shipped root: {e}")))
        }
        Some(p) => {
            let text = read_bounded(p, MAX_ROOT, "trusted root")?;
            TrustedRoot::from_json(&text).map_err(|e| {
                BundleError::new("invalid-trusted-root", format!("{}: {e}", p.display()))
            })
        }
    }
}

/// Reads a bundle file (at most 16 MiB) and verifies it: `signed` must be what it signs, and
/// `signer` who signed it, against `root`. Offline: the clock is the log's integrated time or
/// the timestamp authority's, never now.
///
/// # Errors
/// A [`BundleError`] with the reason code; [`BundleError::is_input_error`] tells a file that
/// could not be used from a signature that was refused.
pub fn verify_file(
    bundle: &Path,
    signed: &Signed<'_>,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Verified, BundleError> {
    let text = read_bounded(bundle, MAX_BUNDLE, "bundle")?;
    verify(&text, signed, signer, root)
        .map_err(|e| BundleError::new(e.code, format!("{}: {}", bundle.display(), e.detail)))
}

/// Verifies a bundle given as JSON text (see [`verify_file`]).
///
/// # Errors
/// As [`verify_file`].
pub fn verify(
    bundle_json: &str,
    signed: &Signed<'_>,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Verified, BundleError> {
    let bundle = Bundle::from_json(bundle_json)
        .map_err(|e| BundleError::new("bundle-invalid", e.to_string()))?;
    let artifact: Artifact<'_> =
        match signed {
            Signed::Bytes(b) => Artifact::from(*b),
            Signed::Sha256(d) => {
                let hex = d.strip_prefix("sha256:").unwrap_or(d);
                Artifact::from(Sha256Hash::from_hex(hex).map_err(|e| {
                    BundleError::new("unreadable-input", format!("digest {d:?}: {e}"))
                })?)
            }
        };
    let verifier =
        Verifier::new(root).map_err(|e| BundleError::new("invalid-trusted-root", e.to_string()))?;
    let refused = |e: SigstoreError| BundleError::new(code_of(&e), e.to_string());
    let mut key_id = None;
    let result = match signer {
        Signer::Identity { identity, issuer } => {
            let policy = VerificationPolicy::new(identity.as_str(), issuer.as_str());
            verifier
                .verify(artifact, &bundle, &policy)
                .map_err(refused)?
        }
        Signer::Matching { identity, issuer } => {
            let mut policy = VerificationPolicy::any_identity();
            if let Pattern::Exact(i) = issuer {
                policy = policy.require_issuer(i.as_str());
            }
            let r = verifier
                .verify(artifact, &bundle, &policy)
                .map_err(refused)?;
            let got = r
                .identity()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            if !identity.matches(&got) {
                return Err(BundleError::new(
                    "identity-mismatch",
                    format!("identity mismatch: expected {identity}, got {got}"),
                ));
            }
            let got = r.issuer().unwrap_or_default();
            if !issuer.matches(got) {
                return Err(BundleError::new(
                    "issuer-mismatch",
                    format!("issuer mismatch: expected {issuer}, got {got}"),
                ));
            }
            r
        }
        Signer::Key { pem, origin } => {
            let key = DerPublicKey::from_pem(pem)
                .map_err(|e| BundleError::new("invalid-key", format!("{origin}: {e}")))?;
            key_id = crate::VerifyingKey::from_pem(pem, origin)
                .ok()
                .map(|k| k.fingerprint());
            let policy = PublicKeyVerificationPolicy::new(key);
            verifier
                .verify(artifact, &bundle, &policy)
                .map_err(refused)?
        }
    };
    Ok(Verified {
        identity: result.identity().map(|s| s.as_str().to_owned()),
        issuer: result.issuer().map(str::to_owned),
        integrated_time: result.integrated_time().map(|t| t.to_string()),
        tlog: result.tlog_verified(),
        key: key_id,
    })
}
