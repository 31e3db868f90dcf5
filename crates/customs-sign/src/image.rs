//! Image signatures, as cosign stores them, checked for one manifest digest.
//!
//! - **Legacy layout** (cosign 1 and 2): a layer of the `sha256-<hex>.sig` manifest holds a
//!   simple signing payload naming the digest, with the signature in an annotation. A keyed
//!   signature is checked with the key; when it carries a Rekor entry
//!   (`dev.sigstore.cosign/bundle`), that entry's signed timestamp is checked too, as
//!   `cosign verify --key` does. A keyless signature carries its Fulcio certificate and Rekor
//!   entry in annotations: they are the same evidence a Sigstore bundle v0.1 holds, so they are
//!   rewritten as one and go through the same verifier as every bundle (chain at the log's
//!   time, SCT, SET, identity and issuer; and a TSA's RFC 3161 timestamp when
//!   `dev.sigstore.cosign/rfc3161timestamp` carries one).
//! - **cosign v3**: a Sigstore bundle v0.3 attached to the image as an OCI referrer: a DSSE
//!   envelope around an in-toto statement of predicate type [`COSIGN_SIGN_PREDICATE`] whose
//!   subject is the digest (or a message signature over the manifest).
//!
//! Finding and fetching those documents is the registry client's; this module judges them.

use base64::Engine as _;
use customs_types::Digest;
use serde::{Deserialize, Serialize};
use sigstore_verify::trust_root::TrustedRoot;

use crate::VerifyingKey;
use crate::bundle::{self, BundleError, Signed, Signer, Verified};
use crate::cosign::{self, CosignError, SignatureLayer};

/// The `artifactType` of a cosign v3 signature or attestation manifest.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The in-toto predicate type of a cosign v3 image signature.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The manifest annotation naming a bundle's predicate type (a hint: unsigned).
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// Where a signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// A layer of the `sha256-<hex>.sig` manifest.
    Legacy,
    /// A Sigstore bundle attached as a referrer (cosign v3).
    Bundle,
    /// A Notation signature attached as a referrer.
    Notation,
}

/// A signature's documents, fetched and digest-checked.
#[derive(Debug, Clone, Copy)]
pub enum Material<'a> {
    /// A legacy signature layer and its payload blob.
    Legacy {
        /// The payload's bytes.
        payload: &'a [u8],
        /// The layer's annotations.
        layer: &'a SignatureLayer,
    },
    /// A bundle's JSON.
    Bundle {
        /// The bundle.
        json: &'a str,
    },
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Who signed and what the log says.
    #[serde(flatten)]
    pub verified: Verified,
    /// The repository a legacy payload names (reported, not checked: cosign's specification
    /// lets a copy keep its signature).
    pub docker_reference: Option<String>,
    /// Checks that failed but that the verification level only logs (Notation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logged: Vec<String>,
}

fn error(code: &'static str, detail: impl Into<String>) -> BundleError {
    BundleError {
        code,
        detail: detail.into(),
    }
}

fn from_cosign(e: CosignError) -> BundleError {
    match e {
        CosignError::OtherDigest { .. } => error("digest-mismatch", e.to_string()),
        CosignError::Malformed { .. } => error("signature-malformed", e.to_string()),
        CosignError::Signature(s) => error(
            "untrusted-key",
            format!("{s} (made by another key, or over other bytes)"),
        ),
    }
}

/// Checks one signature of `digest`: that `signer` made it, and that it signs `digest`.
/// `predicate` is the in-toto predicate type a DSSE bundle must carry
/// ([`COSIGN_SIGN_PREDICATE`] for a signature).
///
/// # Errors
/// A [`BundleError`] with the reason code of the refusal.
pub fn check(
    material: Material<'_>,
    digest: &Digest,
    signer: &Signer,
    root: &TrustedRoot,
    predicate: &str,
) -> Result<Checked, BundleError> {
    match material {
        Material::Legacy { payload, layer } => legacy(payload, layer, digest, signer, root),
        Material::Bundle { json } => {
            // A signature of the other kind is by someone else, whatever else is wrong with it.
            match (signer, has_certificate(json)) {
                (Signer::Key { .. }, Some(true)) => {
                    return Err(error(
                        "untrusted-key",
                        "a keyless (certificate) signature, and the policy wants a key",
                    ));
                }
                (Signer::Identity { .. } | Signer::Matching { .. }, Some(false)) => {
                    return Err(error(
                        "certificate-missing",
                        "a key-signed bundle, and the policy wants a certificate identity",
                    ));
                }
                _ => {}
            }
            let verified = bundle::verify(json, &Signed::Sha256(digest.to_string()), signer, root)?;
            // sigstore-verify has matched the subject; the predicate type is ours to check,
            // and the subject is checked again here because it is what the answer rests on.
            if let Some(statement) = dsse_statement(json)? {
                if statement.predicate_type != predicate {
                    return Err(error(
                        "predicate-mismatch",
                        format!(
                            "the statement's predicate type is {:?}, not {predicate:?}",
                            statement.predicate_type
                        ),
                    ));
                }
                let names = statement
                    .subject
                    .iter()
                    .any(|s| s.digest.sha256.as_deref() == Some(digest.hex()));
                if !names {
                    return Err(error(
                        "digest-mismatch",
                        format!("the statement's subjects do not name {digest}"),
                    ));
                }
            }
            Ok(Checked {
                verified,
                docker_reference: None,
                logged: Vec::new(),
            })
        }
    }
}

fn legacy(
    payload: &[u8],
    layer: &SignatureLayer,
    digest: &Digest,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Checked, BundleError> {
    match signer {
        Signer::Key { pem, origin } => {
            let key = VerifyingKey::from_pem(pem, origin)
                .map_err(|e| error("invalid-key", e.to_string()))?;
            let claims =
                cosign::verify(&key, payload, &layer.signature, digest).map_err(from_cosign)?;
            let mut verified = Verified {
                identity: None,
                issuer: None,
                integrated_time: None,
                tlog: false,
                key: Some(key.fingerprint()),
            };
            if layer.rekor.is_some() {
                // The log entry must hold up too; a key from the certificate would be a
                // keyless signature, which a key policy does not accept.
                let json = as_bundle(payload, layer, false)?;
                let logged = bundle::verify(&json, &Signed::Bytes(payload), signer, root)?;
                verified.integrated_time = logged.integrated_time;
                verified.tlog = logged.tlog;
            }
            Ok(Checked {
                verified,
                docker_reference: Some(claims.docker_reference),
                logged: Vec::new(),
            })
        }
        Signer::Identity { .. } | Signer::Matching { .. } => {
            if layer.certificate.is_none() {
                return Err(error(
                    "certificate-missing",
                    "a key-signed signature, and the policy wants a certificate identity",
                ));
            }
            if layer.rekor.is_none() {
                return Err(error(
                    "tlog-missing",
                    "a keyless signature without a Rekor entry: nothing proves when the \
                     short-lived certificate signed",
                ));
            }
            let json = as_bundle(payload, layer, true)?;
            let verified = bundle::verify(&json, &Signed::Bytes(payload), signer, root)?;
            let claims = cosign::claims(payload, digest).map_err(from_cosign)?;
            Ok(Checked {
                verified,
                docker_reference: Some(claims.docker_reference),
                logged: Vec::new(),
            })
        }
    }
}

/// cosign's `dev.sigstore.cosign/rfc3161timestamp` annotation: a TSA's `TimeStampResp` (DER,
/// base64) over the signature's bytes.
#[derive(Deserialize)]
struct TimestampAnnotation {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed: String,
}

/// cosign's `dev.sigstore.cosign/bundle` annotation.
#[derive(Deserialize)]
struct RekorAnnotation {
    #[serde(rename = "SignedEntryTimestamp")]
    set: String,
    #[serde(rename = "Payload")]
    payload: RekorPayload,
}

#[derive(Deserialize)]
struct RekorPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

#[derive(Deserialize)]
struct EntryKind {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
}

/// The legacy annotations as the Sigstore bundle v0.1 that holds the same evidence: the
/// signature over the payload, the leaf certificate (or no key material for a keyed
/// signature), and the Rekor entry with its signed timestamp.
fn as_bundle(payload: &[u8], layer: &SignatureLayer, keyless: bool) -> Result<String, BundleError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let digest = customs_types::Digest::compute(customs_types::Algorithm::Sha256, payload);
    let raw_digest = hex::decode(digest.hex()).unwrap_or_default();
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": material(layer, keyless)?,
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64.encode(raw_digest)},
            "signature": layer.signature.trim(),
        },
    });
    Ok(bundle.to_string())
}

/// A keyless legacy attestation (a DSSE envelope with a signature layer's certificate and
/// Rekor annotations) as a Sigstore bundle v0.1.
pub(crate) fn as_dsse_bundle(
    envelope: &[u8],
    layer: &SignatureLayer,
) -> Result<String, BundleError> {
    let envelope: serde_json::Value = serde_json::from_slice(envelope)
        .map_err(|e| error("signature-malformed", format!("DSSE envelope: {e}")))?;
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": material(layer, true)?,
        "dsseEnvelope": envelope,
    });
    Ok(bundle.to_string())
}

/// The verification material of a legacy layer: its leaf certificate (keyless) or nothing
/// (keyed), and its Rekor entry.
fn material(layer: &SignatureLayer, keyless: bool) -> Result<serde_json::Value, BundleError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let malformed =
        |what: &str, why: String| error("signature-malformed", format!("{what}: {why}"));
    let rekor: RekorAnnotation =
        serde_json::from_str(layer.rekor.as_deref().unwrap_or_default())
            .map_err(|e| malformed(cosign::BUNDLE_ANNOTATION, e.to_string()))?;
    let body = b64
        .decode(rekor.payload.body.trim())
        .map_err(|e| malformed("the Rekor entry's body", e.to_string()))?;
    let kind: EntryKind = serde_json::from_slice(&body)
        .map_err(|e| malformed("the Rekor entry's body", e.to_string()))?;
    let log_id = hex::decode(rekor.payload.log_id.trim())
        .map_err(|e| malformed("the Rekor entry's logID", e.to_string()))?;
    let mut material = if keyless {
        let pem = layer.certificate.as_deref().unwrap_or_default();
        let leaf = pem_certificates(pem)
            .map_err(|e| malformed(cosign::CERTIFICATE_ANNOTATION, e))?
            .into_iter()
            .next()
            .ok_or_else(|| malformed(cosign::CERTIFICATE_ANNOTATION, "no certificate".into()))?;
        serde_json::json!({"x509CertificateChain": {"certificates": [{"rawBytes": b64.encode(leaf)}]}})
    } else {
        serde_json::json!({"publicKey": {"hint": ""}})
    };
    material["tlogEntries"] = serde_json::json!([{
        "logIndex": rekor.payload.log_index.to_string(),
        "logId": {"keyId": b64.encode(log_id)},
        "kindVersion": {"kind": kind.kind, "version": kind.api_version},
        "integratedTime": rekor.payload.integrated_time.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": rekor.set},
        "canonicalizedBody": rekor.payload.body.trim(),
    }]);
    // A TSA's timestamp is more evidence of when the certificate signed: the verifier checks
    // it against the trusted root's timestamp authorities, and the chain at its time too.
    if let Some(text) = layer.timestamp.as_deref() {
        let t: TimestampAnnotation = serde_json::from_str(text)
            .map_err(|e| malformed(cosign::TIMESTAMP_ANNOTATION, e.to_string()))?;
        b64.decode(t.signed.trim())
            .map_err(|e| malformed(cosign::TIMESTAMP_ANNOTATION, e.to_string()))?;
        material["timestampVerificationData"] =
            serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": t.signed.trim()}]});
    }
    Ok(material)
}

/// Whether a bundle's verification material is a certificate (`Some(true)`), a public key
/// (`Some(false)`), or unreadable (`None`: the verifier says why).
fn has_certificate(json: &str) -> Option<bool> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let m = v.get("verificationMaterial")?.as_object()?;
    if m.contains_key("certificate") || m.contains_key("x509CertificateChain") {
        Some(true)
    } else if m.contains_key("publicKey") {
        Some(false)
    } else {
        None
    }
}

/// The DER of each `CERTIFICATE` block of a PEM text.
fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let end = after
            .find(END)
            .ok_or("a certificate block without its END line")?;
        let body: String = after[..end].split_whitespace().collect();
        out.push(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|e| format!("a certificate block that is not base64: {e}"))?,
        );
        rest = &after[end + END.len()..];
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Statement {
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    subject: Vec<Subject>,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    digest: SubjectDigest,
}

#[derive(Deserialize, Default)]
struct SubjectDigest {
    sha256: Option<String>,
}

/// The in-toto statement of a DSSE bundle as JSON (to be read only once the bundle verified).
#[must_use]
pub fn statement(json: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let payload = v["dsseEnvelope"]["payload"].as_str()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .ok()?;
    serde_json::from_slice(&raw).ok()
}

/// The in-toto statement of a DSSE bundle (already verified), or `None` for a message
/// signature.
fn dsse_statement(json: &str) -> Result<Option<Statement>, BundleError> {
    #[derive(Deserialize)]
    struct Outer {
        #[serde(rename = "dsseEnvelope")]
        dsse: Option<Envelope>,
    }
    #[derive(Deserialize)]
    struct Envelope {
        payload: String,
    }
    let bad = |why: String| error("bundle-invalid", why);
    let outer: Outer = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let Some(env) = outer.dsse else {
        return Ok(None);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(env.payload.trim())
        .map_err(|e| bad(format!("the DSSE payload is not base64: {e}")))?;
    serde_json::from_slice(&raw)
        .map(Some)
        .map_err(|e| bad(format!("the DSSE payload is not an in-toto statement: {e}")))
}
