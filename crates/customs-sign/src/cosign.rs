//! cosign's key-based signatures, as its signature specification lays them out
//! (`specs/SIGNATURE_SPEC.md` in the cosign repository):
//!
//! - the **payload** is a "simple signing" JSON document naming the signed manifest's digest
//!   (`critical.image.docker-manifest-digest`) and the type `cosign container image
//!   signature`, with free `optional` claims;
//! - the **signature** is over the payload's bytes exactly as stored, base64 in the layer
//!   annotation `dev.cosignproject.cosign/signature`;
//! - payload and signature are a layer of an OCI manifest tagged `sha256-<hex>.sig` in the
//!   signed object's repository (tag-based discovery), one layer per signature.
//!
//! This module builds and checks those documents; moving them is the registry client's.

use std::collections::BTreeMap;

use base64::Engine as _;
use customs_types::{Algorithm, Digest};
use serde::{Deserialize, Serialize};

use crate::{SignError, SigningKey, VerifyingKey};

/// The media type of a simple signing payload layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation that holds the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The layer annotation with a keyless signature's Fulcio certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation with the certificate's chain (PEM, intermediates then root).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The layer annotation with the Rekor entry: `{"SignedEntryTimestamp", "Payload": {"body",
/// "integratedTime", "logIndex", "logID"}}`.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The layer annotation with an RFC 3161 timestamp (`{"SignedRFC3161Timestamp": base64}`).
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// `critical.type` of a cosign signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
/// The OCI image manifest media type the signature manifest uses.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// A signature payload is a few hundred bytes; this bounds what a verifier downloads.
pub const MAX_PAYLOAD: u64 = 64 << 10;
/// Signatures one manifest may carry before it is taken as hostile.
const MAX_SIGNATURES: usize = 64;

/// Where cosign looks for the signatures of `digest`: `sha256-<hex>.sig`.
#[must_use]
pub fn signature_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm().as_str(), digest.hex())
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    critical: Critical,
    #[serde(default)]
    optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Image {
    // The containers-signature format spells it with a capital D; cosign writes lower case.
    #[serde(rename = "docker-manifest-digest", alias = "Docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// What a verified payload claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// `critical.identity.docker-reference`: the repository the signer named. cosign's
    /// specification says it is ignored (a copy to a mirror keeps its signature); it is
    /// reported, not checked.
    pub docker_reference: String,
    /// The manifest digest that was signed.
    pub manifest_digest: Digest,
    /// The `optional` claims.
    pub optional: BTreeMap<String, serde_json::Value>,
}

/// A signature, ready to be stored as cosign stores it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The payload bytes (the layer blob).
    pub payload: Vec<u8>,
    /// The payload's digest.
    pub payload_digest: Digest,
    /// The signature, base64.
    pub signature: String,
    /// The signature manifest's config blob.
    pub config: Vec<u8>,
    /// The signature manifest (tag it [`signature_tag`] of the signed digest).
    pub manifest: Vec<u8>,
}

/// Sign `digest` as cosign does: a simple signing payload naming `docker_reference` and the
/// digest, with `optional` claims, signed with `key`, wrapped in its signature manifest.
#[must_use]
pub fn sign(
    key: &SigningKey,
    docker_reference: &str,
    digest: &Digest,
    optional: &BTreeMap<String, String>,
) -> Signed {
    let payload = Payload {
        critical: Critical {
            identity: Identity {
                docker_reference: docker_reference.to_owned(),
            },
            image: Image {
                docker_manifest_digest: digest.to_string(),
            },
            kind: SIGNATURE_TYPE.to_owned(),
        },
        optional: (!optional.is_empty()).then(|| {
            optional
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect()
        }),
    };
    // Serialising plain structs and maps of strings cannot fail.
    let payload = serde_json::to_vec(&payload).unwrap_or_default();
    let payload_digest = Digest::compute(Algorithm::Sha256, &payload);
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&payload));
    let (config, manifest) = wrap(&[layer_of(&payload, &payload_digest, &signature)]);
    Signed {
        payload,
        payload_digest,
        signature,
        config,
        manifest,
    }
}

/// The manifest layer of one signature.
fn layer_of(payload: &[u8], digest: &Digest, signature: &str) -> serde_json::Value {
    serde_json::json!({
        "mediaType": SIMPLE_SIGNING,
        "size": payload.len(),
        "digest": digest.to_string(),
        "annotations": {SIGNATURE_ANNOTATION: signature},
    })
}

/// cosign's signature manifest around `layers`, and its config: an image config whose
/// "layers" are the payloads.
fn wrap(layers: &[serde_json::Value]) -> (Vec<u8>, Vec<u8>) {
    let diff_ids: Vec<&serde_json::Value> = layers.iter().map(|l| &l["digest"]).collect();
    let config = serde_json::json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    // Serialising JSON values cannot fail.
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "size": config.len(),
            "digest": Digest::compute(Algorithm::Sha256, &config).to_string(),
        },
        "layers": layers,
    });
    (config, serde_json::to_vec(&manifest).unwrap_or_default())
}

/// The signature manifest (and its config) holding the signatures of `existing` and `new`,
/// as cosign adds a signature to those already there. A signature already present (same
/// payload and signature) is not added twice.
///
/// # Errors
/// [`CosignError::Malformed`] when `existing` is not a manifest, or is full.
pub fn merged(existing: Option<&[u8]>, new: &Signed) -> Result<(Vec<u8>, Vec<u8>), CosignError> {
    merge_layers(
        existing,
        layer_of(&new.payload, &new.payload_digest, &new.signature),
    )
}

/// `existing`'s layers plus `layer` (unless the very same layer is there), wrapped as
/// cosign's `.sig` and `.att` manifests are.
///
/// # Errors
/// [`CosignError::Malformed`] when `existing` is not a manifest, or is full.
pub fn merge_layers(
    existing: Option<&[u8]>,
    layer: serde_json::Value,
) -> Result<(Vec<u8>, Vec<u8>), CosignError> {
    let bad = |why: String| CosignError::Malformed {
        what: "manifest",
        why,
    };
    let mut layers: Vec<serde_json::Value> = match existing {
        None => Vec::new(),
        Some(bytes) => {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
            v.get("layers")
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default()
        }
    };
    if !layers.contains(&layer) {
        if layers.len() >= MAX_SIGNATURES {
            return Err(bad(format!(
                "it holds {} layers already, the most customs keeps",
                layers.len()
            )));
        }
        layers.push(layer);
    }
    Ok(wrap(&layers))
}

/// One signature layer of a signature manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// The payload blob's digest.
    pub digest: Digest,
    /// Its size as the manifest states it.
    pub size: u64,
    /// The signature, base64, as found.
    pub signature: String,
    /// The Fulcio certificate (PEM), for a keyless signature.
    pub certificate: Option<String>,
    /// The certificate's chain (PEM).
    pub chain: Option<String>,
    /// The Rekor entry ([`BUNDLE_ANNOTATION`]), JSON.
    pub rekor: Option<String>,
    /// The RFC 3161 timestamp ([`TIMESTAMP_ANNOTATION`]), JSON.
    pub timestamp: Option<String>,
}

/// Why a signature was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// The signature manifest or payload is not what cosign writes.
    #[error("malformed signature {what}: {why}")]
    Malformed {
        /// Which document.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A well-formed payload that signs something else.
    #[error("the signature is for {signed}, not {expected}")]
    OtherDigest {
        /// What the payload names.
        signed: String,
        /// The digest being verified.
        expected: Digest,
    },
    /// The signature itself does not verify.
    #[error(transparent)]
    Signature(#[from] SignError),
}

/// The signature layers of a signature manifest (layers of another media type, or without
/// the signature annotation, are not signatures and are passed over).
///
/// # Errors
/// [`CosignError::Malformed`] for a manifest that is not JSON of that shape, or that carries
/// more signatures than any real one would.
pub fn signature_layers(manifest: &[u8]) -> Result<Vec<SignatureLayer>, CosignError> {
    let layers = layers_of(manifest, SIMPLE_SIGNING, MAX_SIGNATURES).map_err(|why| {
        CosignError::Malformed {
            what: "manifest",
            why,
        }
    })?;
    Ok(layers
        .into_iter()
        .filter(|(l, _)| !l.signature.is_empty())
        .map(|(l, _)| l)
        .collect())
}

/// A layer read by [`layers_of`], and all its annotations.
pub(crate) type Annotated = (SignatureLayer, BTreeMap<String, String>);

/// The layers of `media_type` in a `.sig` or `.att` manifest (at most `max` layers in all),
/// each with cosign's annotations read into a [`SignatureLayer`] (its `signature` empty when
/// the layer has none), and all its annotations.
pub(crate) fn layers_of(
    manifest: &[u8],
    media_type: &str,
    max: usize,
) -> Result<Vec<Annotated>, String> {
    #[derive(Deserialize)]
    struct Manifest {
        #[serde(default)]
        layers: Vec<Layer>,
    }
    #[derive(Deserialize)]
    struct Layer {
        #[serde(rename = "mediaType", default)]
        media_type: String,
        digest: String,
        size: u64,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let m: Manifest = serde_json::from_slice(manifest).map_err(|e| e.to_string())?;
    if m.layers.len() > max {
        return Err(format!("{} layers; at most {max} are read", m.layers.len()));
    }
    m.layers
        .into_iter()
        .filter(|l| l.media_type == media_type)
        .map(|l| {
            let digest: Digest = l
                .digest
                .parse()
                .map_err(|e: customs_types::DigestError| e.to_string())?;
            let get = |k: &str| l.annotations.get(k).cloned();
            let layer = SignatureLayer {
                digest,
                size: l.size,
                signature: get(SIGNATURE_ANNOTATION).unwrap_or_default(),
                certificate: get(CERTIFICATE_ANNOTATION),
                chain: get(CHAIN_ANNOTATION),
                rekor: get(BUNDLE_ANNOTATION),
                timestamp: get(TIMESTAMP_ANNOTATION),
            };
            Ok((layer, l.annotations))
        })
        .collect()
}

/// Check one signature: `signature` (base64) over `payload` with `key`, and the payload names
/// `expected` with cosign's type. The payload's bytes must already be known to be the layer's
/// (its digest checked by whoever fetched it).
///
/// # Errors
/// [`CosignError::Signature`] when the signature does not verify (checked first: an
/// unverified payload is not even parsed), [`CosignError::Malformed`],
/// [`CosignError::OtherDigest`].
pub fn verify(
    key: &VerifyingKey,
    payload: &[u8],
    signature: &str,
    expected: &Digest,
) -> Result<Claims, CosignError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|e| CosignError::Malformed {
            what: "annotation",
            why: format!("{SIGNATURE_ANNOTATION} is not base64: {e}"),
        })?;
    key.verify(payload, &raw)?;
    claims(payload, expected)
}

/// What a payload whose signature has already been checked claims, provided it is a cosign
/// payload naming `expected`.
///
/// # Errors
/// [`CosignError::Malformed`], [`CosignError::OtherDigest`].
pub fn claims(payload: &[u8], expected: &Digest) -> Result<Claims, CosignError> {
    let bad = |why: String| CosignError::Malformed {
        what: "payload",
        why,
    };
    let p: Payload = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
    if p.critical.kind != SIGNATURE_TYPE {
        return Err(bad(format!(
            "critical.type is {:?}, not {SIGNATURE_TYPE:?}",
            p.critical.kind
        )));
    }
    let signed = p.critical.image.docker_manifest_digest;
    let manifest_digest: Digest = match signed.parse() {
        Ok(d) if d == *expected => d,
        _ => {
            return Err(CosignError::OtherDigest {
                signed,
                expected: expected.clone(),
            });
        }
    };
    Ok(Claims {
        docker_reference: p.critical.identity.docker_reference,
        manifest_digest,
        optional: p.optional.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        // Generated once with `openssl genpkey -algorithm ed25519` for this test; it signs
        // nothing else.
        SigningKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEBVDC1JpC+6qe7zaDU0IKn1pWDoaw0KW0+EW9KnFd33\n-----END PRIVATE KEY-----\n",
            "test key",
        )
        .unwrap()
    }

    #[test]
    fn a_signature_round_trips_through_its_manifest() {
        let k = key();
        let d = Digest::compute(Algorithm::Sha256, b"some manifest");
        let opt = BTreeMap::from([("purpose".to_owned(), "test".to_owned())]);
        let s = sign(&k, "127.0.0.1:5000/db", &d, &opt);
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", d.hex()));
        let layers = signature_layers(&s.manifest).unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].digest, s.payload_digest);
        assert_eq!(layers[0].size, s.payload.len() as u64);
        let claims = verify(&k.verifying_key(), &s.payload, &layers[0].signature, &d).unwrap();
        assert_eq!(claims.manifest_digest, d);
        assert_eq!(claims.docker_reference, "127.0.0.1:5000/db");
        assert_eq!(claims.optional["purpose"], "test");
        // The payload is what cosign writes.
        let v: serde_json::Value = serde_json::from_slice(&s.payload).unwrap();
        assert_eq!(v["critical"]["type"], SIGNATURE_TYPE);
        assert_eq!(
            v["critical"]["image"]["docker-manifest-digest"],
            d.to_string()
        );
    }

    #[test]
    fn another_digest_another_payload_or_garbage_is_refused() {
        let k = key();
        let d = Digest::compute(Algorithm::Sha256, b"one");
        let other = Digest::compute(Algorithm::Sha256, b"two");
        let s = sign(&k, "r/db", &d, &BTreeMap::new());
        let e = verify(&k.verifying_key(), &s.payload, &s.signature, &other).unwrap_err();
        assert!(matches!(e, CosignError::OtherDigest { .. }), "{e}");
        let mut changed = s.payload.clone();
        changed[10] ^= 1;
        let e = verify(&k.verifying_key(), &changed, &s.signature, &d).unwrap_err();
        assert!(matches!(e, CosignError::Signature(_)), "{e}");
        let e = verify(&k.verifying_key(), &s.payload, "%%%", &d).unwrap_err();
        assert!(matches!(e, CosignError::Malformed { .. }), "{e}");
        assert!(signature_layers(b"<html>").is_err());
        // A validly signed document that is not a cosign payload.
        let raw = base64::engine::general_purpose::STANDARD.encode(k.sign(b"{}"));
        let e = verify(&k.verifying_key(), b"{}", &raw, &d).unwrap_err();
        assert!(matches!(e, CosignError::Malformed { .. }), "{e}");
    }
}
