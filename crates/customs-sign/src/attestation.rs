//! In-toto attestations about an image, as cosign stores them.
//!
//! - **Legacy layout** (`cosign attest`, cosign 1 and 2): each layer of the manifest tagged
//!   `sha256-<hex>.att` is a DSSE envelope (`application/vnd.dsse.envelope.v1+json`) around an
//!   in-toto statement whose subject is the image digest. A keyed envelope carries its
//!   signature over DSSE's pre-authentication encoding (PAE); a keyless one also has the
//!   certificate and Rekor annotations of a signature layer, and is checked as the Sigstore
//!   bundle v0.1 those amount to.
//! - **cosign v3**: a Sigstore bundle attached as a referrer, checked by [`crate::image`] with
//!   the wanted predicate type.
//!
//! What is checked: who signed (as for signatures), that the statement's subject names the
//! digest, and that its predicate type is the one asked for.

use base64::Engine as _;
use customs_types::{Algorithm, Digest};
use serde::{Deserialize, Serialize};

use crate::bundle::{self, BundleError, Signed, Signer, TrustedRoot, Verified};
use crate::cosign::{self, SignatureLayer};
use crate::{SigningKey, VerifyingKey};

/// The media type of a DSSE envelope layer.
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The layer annotation naming the predicate type (cosign writes it; unsigned, a hint).
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// An envelope is a statement plus a signature; SBOM predicates can be large.
pub const MAX_ENVELOPE: u64 = 64 << 20;

/// The predicate type cosign's `--type` names, or the URI given.
#[must_use]
pub fn predicate_type(kind: &str) -> String {
    match kind {
        "cyclonedx" => "https://cyclonedx.org/bom",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "openvex" => "https://openvex.dev/ns",
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        other => other,
    }
    .to_owned()
}

/// Where `cosign attest` stores attestations of `digest`: `sha256-<hex>.att`.
#[must_use]
pub fn attestation_tag(digest: &Digest) -> String {
    format!("{}-{}.att", digest.algorithm().as_str(), digest.hex())
}

/// One layer of an `.att` manifest.
#[derive(Debug, Clone)]
pub struct AttestationLayer {
    /// The envelope blob's digest.
    pub digest: Digest,
    /// Its size as the manifest states it.
    pub size: u64,
    /// The predicate type the layer claims (unsigned).
    pub predicate_type: Option<String>,
    /// The keyless annotations, shaped as a signature layer's (its `signature` unused).
    pub annotations: SignatureLayer,
}

/// The attestation layers of an `.att` manifest (other layers are passed over).
///
/// # Errors
/// The manifest is not JSON of a manifest's shape, or has more layers than any real one.
pub fn attestation_layers(manifest: &[u8]) -> Result<Vec<AttestationLayer>, BundleError> {
    let layers = cosign::layers_of(manifest, DSSE_ENVELOPE, 256).map_err(|why| BundleError {
        code: "signature-malformed",
        detail: format!("attestation manifest: {why}"),
    })?;
    Ok(layers
        .into_iter()
        .map(|(annotations, all)| AttestationLayer {
            digest: annotations.digest.clone(),
            size: annotations.size,
            predicate_type: all.get(PREDICATE_TYPE_ANNOTATION).cloned(),
            annotations,
        })
        .collect())
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Serialize, Deserialize)]
struct EnvelopeSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// DSSE's pre-authentication encoding: what is actually signed.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// An attestation that verified.
#[derive(Debug, Clone, Serialize)]
pub struct Attested {
    /// Who signed.
    #[serde(flatten)]
    pub verified: Verified,
    /// The predicate type.
    pub predicate_type: String,
    /// The in-toto statement (subject, predicate).
    pub statement: serde_json::Value,
}

fn error(code: &'static str, detail: impl Into<String>) -> BundleError {
    BundleError {
        code,
        detail: detail.into(),
    }
}

/// Checks a legacy attestation layer's envelope: `signer` signed it, its statement names
/// `digest`, and its predicate type is `predicate`.
///
/// # Errors
/// A [`BundleError`] with the reason code.
pub fn check_legacy(
    envelope: &[u8],
    layer: &AttestationLayer,
    digest: &Digest,
    signer: &Signer,
    root: &TrustedRoot,
    predicate: &str,
) -> Result<Attested, BundleError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let env: Envelope = serde_json::from_slice(envelope)
        .map_err(|e| error("signature-malformed", format!("DSSE envelope: {e}")))?;
    let payload = b64
        .decode(env.payload.trim())
        .map_err(|e| error("signature-malformed", format!("DSSE payload: {e}")))?;
    if env.signatures.is_empty() {
        return Err(error("unsigned", "the DSSE envelope has no signature"));
    }
    let verified = match signer {
        Signer::Key { pem, origin } => {
            let key = VerifyingKey::from_pem(pem, origin)
                .map_err(|e| error("invalid-key", e.to_string()))?;
            let message = pae(&env.payload_type, &payload);
            let ok = env.signatures.iter().any(|s| {
                b64.decode(s.sig.trim())
                    .is_ok_and(|raw| key.verify(&message, &raw).is_ok())
            });
            if !ok {
                return Err(error(
                    "untrusted-key",
                    format!(
                        "no signature of the envelope verifies with the key {}",
                        key.fingerprint()
                    ),
                ));
            }
            Verified {
                identity: None,
                issuer: None,
                integrated_time: None,
                tlog: false,
                key: Some(key.fingerprint()),
            }
        }
        Signer::Identity { .. } | Signer::Matching { .. } => {
            let a = &layer.annotations;
            if a.certificate.is_none() {
                return Err(error(
                    "certificate-missing",
                    "a key-signed attestation, and the policy wants a certificate identity",
                ));
            }
            if a.rekor.is_none() {
                return Err(error(
                    "tlog-missing",
                    "a keyless attestation without a Rekor entry",
                ));
            }
            let json = crate::image::as_dsse_bundle(envelope, a)?;
            // The statement's subject is the artifact of a DSSE bundle.
            bundle::verify(&json, &Signed::Sha256(digest.to_string()), signer, root)?
        }
    };
    let statement = statement_for(&env.payload_type, &payload, digest, predicate)?;
    Ok(Attested {
        verified,
        predicate_type: predicate.to_owned(),
        statement,
    })
}

/// The statement, provided it is an in-toto statement about `digest` of type `predicate`.
pub(crate) fn statement_for(
    payload_type: &str,
    payload: &[u8],
    digest: &Digest,
    predicate: &str,
) -> Result<serde_json::Value, BundleError> {
    if payload_type != IN_TOTO {
        return Err(error(
            "signature-malformed",
            format!("payload type {payload_type:?}, not {IN_TOTO}"),
        ));
    }
    let statement: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| error("signature-malformed", format!("the statement: {e}")))?;
    let got = statement["predicateType"].as_str().unwrap_or_default();
    if got != predicate {
        return Err(error(
            "predicate-mismatch",
            format!("the statement's predicate type is {got:?}, not {predicate:?}"),
        ));
    }
    let names = statement["subject"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["digest"]["sha256"] == digest.hex()));
    if !names {
        return Err(error(
            "digest-mismatch",
            format!("the statement's subjects do not name {digest}"),
        ));
    }
    Ok(statement)
}

/// An attestation made by `cosign attest --key`: the envelope bytes, ready for an `.att`
/// layer.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// The DSSE envelope (the layer blob).
    pub envelope: Vec<u8>,
    /// Its digest.
    pub digest: Digest,
    /// The predicate type.
    pub predicate_type: String,
}

/// Attest `predicate` (JSON) of type `predicate_type` about `digest` in `repository`, signed
/// with `key`, as `cosign attest --key` does.
///
/// # Errors
/// `predicate` is not JSON.
pub fn attest(
    key: &SigningKey,
    repository: &str,
    digest: &Digest,
    predicate_type: &str,
    predicate: &[u8],
) -> Result<Attestation, BundleError> {
    let predicate: serde_json::Value = serde_json::from_slice(predicate).map_err(|e| {
        error(
            "unreadable-input",
            format!("the predicate is not JSON: {e}"),
        )
    })?;
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": predicate_type,
        "subject": [{"name": repository, "digest": {"sha256": digest.hex()}}],
        "predicate": predicate,
    });
    let payload = statement.to_string().into_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    let sig = key.sign(&pae(IN_TOTO, &payload));
    let envelope = Envelope {
        payload_type: IN_TOTO.to_owned(),
        payload: b64.encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: b64.encode(sig),
        }],
    };
    let envelope = serde_json::to_vec(&envelope).unwrap_or_default();
    Ok(Attestation {
        digest: Digest::compute(Algorithm::Sha256, &envelope),
        envelope,
        predicate_type: predicate_type.to_owned(),
    })
}

/// The `.att` manifest (and its config) holding the attestations of `existing` and `new`.
///
/// # Errors
/// `existing` is not a manifest.
pub fn merged(
    existing: Option<&[u8]>,
    new: &Attestation,
) -> Result<(Vec<u8>, Vec<u8>), BundleError> {
    let layer = serde_json::json!({
        "mediaType": DSSE_ENVELOPE,
        "size": new.envelope.len(),
        "digest": new.digest.to_string(),
        "annotations": {PREDICATE_TYPE_ANNOTATION: new.predicate_type},
    });
    cosign::merge_layers(existing, layer).map_err(|e| error("signature-malformed", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        // Made with `openssl genpkey -algorithm ed25519` for these tests; signs nothing else.
        SigningKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEBVDC1JpC+6qe7zaDU0IKn1pWDoaw0KW0+EW9KnFd33\n-----END PRIVATE KEY-----\n",
            "test key",
        )
        .unwrap()
    }

    fn signer(k: &SigningKey) -> Signer {
        Signer::Key {
            pem: k.verifying_key().to_pem(),
            origin: "test".to_owned(),
        }
    }

    fn layer(a: &Attestation) -> AttestationLayer {
        let manifest = merged(None, a).unwrap().1;
        attestation_layers(&manifest).unwrap().remove(0)
    }

    #[test]
    fn pae_is_dsses() {
        // The example of the DSSE specification (protocol.md).
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn an_attestation_round_trips_and_is_refused_for_another_type_key_or_digest() {
        let k = key();
        let root = bundle::trusted_root(None).unwrap();
        let d = Digest::compute(Algorithm::Sha256, b"manifest");
        let t = predicate_type("cyclonedx");
        let a = attest(&k, "reg/app", &d, &t, br#"{"bomFormat":"CycloneDX"}"#).unwrap();
        let l = layer(&a);
        assert_eq!(l.predicate_type.as_deref(), Some(t.as_str()));
        let ok = check_legacy(&a.envelope, &l, &d, &signer(&k), &root, &t).unwrap();
        assert_eq!(ok.statement["predicate"]["bomFormat"], "CycloneDX");
        let e = check_legacy(
            &a.envelope,
            &l,
            &d,
            &signer(&k),
            &root,
            "https://openvex.dev/ns",
        );
        assert_eq!(e.unwrap_err().code, "predicate-mismatch");
        let other = Digest::compute(Algorithm::Sha256, b"other");
        let e = check_legacy(&a.envelope, &l, &other, &signer(&k), &root, &t);
        assert_eq!(e.unwrap_err().code, "digest-mismatch");
        let p256 = SigningKey::P256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap());
        let e = check_legacy(&a.envelope, &l, &d, &signer(&p256), &root, &t);
        assert_eq!(e.unwrap_err().code, "untrusted-key");
        assert!(attest(&k, "reg/app", &d, &t, b"not json").is_err());
    }

    #[test]
    fn trivys_real_envelope_is_read_and_refused_without_its_key() {
        // cosign attest --type cyclonedx output kept by trivy; its key is not published.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../../shared/data/signing/cosign/attestations/centos-7-cyclonedx.intoto.jsonl",
        );
        let envelope = std::fs::read(&path).unwrap();
        let a = Attestation {
            digest: Digest::compute(Algorithm::Sha256, &envelope),
            envelope: envelope.clone(),
            predicate_type: predicate_type("cyclonedx"),
        };
        let l = layer(&a);
        let root = bundle::trusted_root(None).unwrap();
        let d = Digest::compute(Algorithm::Sha256, b"manifest");
        let e = check_legacy(&envelope, &l, &d, &signer(&key()), &root, &a.predicate_type);
        assert_eq!(e.unwrap_err().code, "untrusted-key");
    }
}
