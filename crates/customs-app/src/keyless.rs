//! Keyless signing (`customs sign-blob`): what cosign and sigstore-python do with an OIDC
//! identity token. A key is made for this one signature; Fulcio certifies it for the token's
//! identity (ten minutes); the signature is entered in Rekor; and the certificate, the
//! signature and Rekor's entry (signed timestamp, inclusion proof, checkpoint) become a Sigstore
//! bundle v0.3 that anyone can verify offline. The key is dropped when the bundle is written.
//!
//! Before the bundle is returned it is verified against the trusted root given, so a service
//! that answered with something else is caught here rather than by the bundle's readers.

use base64::Engine as _;
use customs_http::Transport;
use customs_registry::{Client, Reference};
use customs_sign::SigningKey;
use customs_sign::bundle::{self, Signed, Signer, TrustedRoot};
use customs_types::{Algorithm, Digest};
use serde::Deserialize;

use crate::{AppError, Result};

/// A certificate chain or a log entry is a few kilobytes.
const MAX_ANSWER: u64 = 1 << 20;

/// Where the Sigstore services are, and who signs.
#[derive(Debug, Clone)]
pub struct KeylessOptions {
    /// Fulcio's base URL (`https://fulcio.sigstore.dev`).
    pub fulcio_url: String,
    /// Rekor's base URL (`https://rekor.sigstore.dev`).
    pub rekor_url: String,
    /// The OIDC identity token (a JWT with audience `sigstore`).
    pub identity_token: String,
}

fn invalid(what: &str, why: impl Into<String>) -> AppError {
    AppError::invalid(what, why)
}

/// The identity a token names (`email`, else `sub`), which the proof of possession signs.
fn token_subject(token: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct Claims {
        email: Option<String>,
        sub: Option<String>,
    }
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("--identity-token", "not a JWT (header.payload.signature)"))?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| {
            invalid(
                "--identity-token",
                format!("its payload is not base64url: {e}"),
            )
        })?;
    let c: Claims = serde_json::from_slice(&raw)
        .map_err(|e| invalid("--identity-token", format!("its claims are not JSON: {e}")))?;
    c.email
        .or(c.sub)
        .ok_or_else(|| invalid("--identity-token", "the token names neither email nor sub"))
}

/// The DER of the first `CERTIFICATE` block.
fn first_certificate(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = pem[start..].find("-----END CERTIFICATE-----")? + start;
    let body: String = pem[start..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[derive(Deserialize)]
struct FulcioAnswer {
    #[serde(rename = "signedCertificateEmbeddedSct")]
    embedded: Option<FulcioChain>,
}

#[derive(Deserialize)]
struct FulcioChain {
    chain: Certificates,
}

#[derive(Deserialize)]
struct Certificates {
    certificates: Vec<String>,
}

#[derive(Deserialize)]
struct RekorEntry {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    #[serde(rename = "logIndex")]
    log_index: i64,
    verification: RekorVerification,
}

#[derive(Deserialize)]
struct RekorVerification {
    #[serde(rename = "signedEntryTimestamp")]
    set: String,
    #[serde(rename = "inclusionProof")]
    proof: Option<RekorProof>,
}

#[derive(Deserialize)]
struct RekorProof {
    checkpoint: String,
    hashes: Vec<String>,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "rootHash")]
    root_hash: String,
    #[serde(rename = "treeSize")]
    tree_size: i64,
}

/// Sign `artifact` keylessly and return the Sigstore bundle (v0.3, JSON), verified against
/// `root` for the token's identity before it is returned.
///
/// # Errors
/// A token that is not a JWT, the services' errors and malformed answers, and a bundle that
/// does not verify against `root`.
pub fn sign_blob(
    http: &Transport,
    artifact: &[u8],
    opts: &KeylessOptions,
    root: &TrustedRoot,
) -> Result<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (key, leaf_pem, leaf, subject) = certify(http, opts)?;
    let digest = Digest::compute(Algorithm::Sha256, artifact);
    let signature = b64.encode(key.sign(artifact));
    let entry = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            "signature": {"content": signature, "publicKey": {"content": b64.encode(&leaf_pem)}},
        },
    });
    let tlog = log_entry(http, opts, &entry, "hashedrekord")?;
    let raw_digest = hex::decode(digest.hex()).unwrap_or_default();
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": b64.encode(&leaf)},
            "tlogEntries": [tlog],
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64.encode(raw_digest)},
            "signature": signature,
        },
    })
    .to_string();
    // The certificate's issuer is whatever the token's was; any identity that Fulcio gave
    // this key will do for the self-check, which is about the evidence, not the policy.
    let me = Signer::Matching {
        identity: bundle::Pattern::Exact(subject),
        issuer: bundle::Pattern::regex(".*").map_err(|e| invalid("issuer", e.detail))?,
    };
    bundle::verify(&bundle, &Signed::Bytes(artifact), &me, root)
        .map_err(|e| invalid("the new bundle", e.to_string()))?;
    Ok(bundle)
}

/// What `customs sign --identity-token` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageSignReport {
    /// The reference as given.
    pub reference: String,
    /// The digest signed.
    pub digest: Digest,
    /// The referrer manifest that holds the bundle.
    pub referrer: Digest,
    /// The identity the certificate names.
    pub identity: String,
    /// The referrers tag fallback written (`sha256-<hex>`), when the registry has no
    /// referrers API.
    pub fallback_tag: Option<String>,
    /// The bundle itself.
    #[serde(skip)]
    pub bundle: String,
}

/// An ephemeral key certified by Fulcio for the token's identity: the key, the leaf
/// certificate as PEM and DER, and the identity.
fn certify(
    http: &Transport,
    opts: &KeylessOptions,
) -> Result<(SigningKey, String, Vec<u8>, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let subject = token_subject(&opts.identity_token)?;
    let key = SigningKey::generate_p256()?;
    let public = key.verifying_key().to_pem();
    let request = serde_json::json!({
        "credentials": {"oidcIdentityToken": opts.identity_token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": public},
            "proofOfPossession": b64.encode(key.sign(subject.as_bytes())),
        },
    });
    let fulcio = format!(
        "{}/api/v2/signingCert",
        opts.fulcio_url.trim_end_matches('/')
    );
    let answer = http.post_json_for(&fulcio, request.to_string().as_bytes(), MAX_ANSWER)?;
    let answer: FulcioAnswer = serde_json::from_slice(&answer)
        .map_err(|e| invalid(&fulcio, format!("not a certificate answer: {e}")))?;
    let leaf_pem = answer
        .embedded
        .and_then(|c| c.chain.certificates.into_iter().next())
        .ok_or_else(|| invalid(&fulcio, "no certificate with an embedded SCT in the answer"))?;
    let leaf = first_certificate(&leaf_pem)
        .ok_or_else(|| invalid(&fulcio, "the certificate is not PEM"))?;
    Ok((key, leaf_pem, leaf, subject))
}

/// Enters `entry` in Rekor and returns it as a bundle's `tlogEntries` item.
fn log_entry(
    http: &Transport,
    opts: &KeylessOptions,
    entry: &serde_json::Value,
    kind: &str,
) -> Result<serde_json::Value> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let rekor = format!(
        "{}/api/v1/log/entries",
        opts.rekor_url.trim_end_matches('/')
    );
    let answer = http.post_json_for(&rekor, entry.to_string().as_bytes(), MAX_ANSWER)?;
    let answer: std::collections::BTreeMap<String, RekorEntry> = serde_json::from_slice(&answer)
        .map_err(|e| invalid(&rekor, format!("not a log entry: {e}")))?;
    let (_, logged) = answer
        .into_iter()
        .next()
        .ok_or_else(|| invalid(&rekor, "an empty answer"))?;
    let hex_b64 = |h: &str| {
        hex::decode(h)
            .map(|raw| b64.encode(raw))
            .map_err(|e| invalid(&rekor, format!("{h:?} is not hex: {e}")))
    };
    let mut tlog = serde_json::json!({
        "logIndex": logged.log_index.to_string(),
        "logId": {"keyId": hex_b64(&logged.log_id)?},
        "kindVersion": {"kind": kind, "version": "0.0.1"},
        "integratedTime": logged.integrated_time.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": logged.verification.set},
        "canonicalizedBody": logged.body,
    });
    if let Some(p) = logged.verification.proof {
        tlog["inclusionProof"] = serde_json::json!({
            "logIndex": p.log_index.to_string(),
            "rootHash": hex_b64(&p.root_hash)?,
            "treeSize": p.tree_size.to_string(),
            "hashes": p.hashes.iter().map(|h| hex_b64(h)).collect::<Result<Vec<_>>>()?,
            "checkpoint": {"envelope": p.checkpoint},
        });
    }
    Ok(tlog)
}

/// Sign the image `reference` names keylessly, as cosign v3 does: a DSSE envelope around an
/// in-toto statement (predicate type `https://sigstore.dev/cosign/sign/v1`, subject the
/// digest), certified by Fulcio and logged in Rekor (a `dsse` entry), as a Sigstore bundle
/// v0.3 attached to the image as an OCI referrer; where the registry has no referrers API, the
/// `sha256-<hex>` tag fallback index lists it. The bundle is verified before it is pushed.
///
/// # Errors
/// The services' and the registry's errors; a bundle that does not verify against `root`.
pub fn sign_image(
    client: &Client,
    http: &Transport,
    reference: &Reference,
    opts: &KeylessOptions,
    root: &TrustedRoot,
) -> Result<ImageSignReport> {
    use customs_sign::attestation::{IN_TOTO, pae};
    use customs_sign::image::{BUNDLE_ARTIFACT_TYPE, COSIGN_SIGN_PREDICATE, PREDICATE_ANNOTATION};
    let b64 = base64::engine::general_purpose::STANDARD;
    let (digest, media_type, manifest) = crate::signatures::resolve(client, reference)?;
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": repository, "digest": {"sha256": digest.hex()}}],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {},
    })
    .to_string();
    let (key, leaf_pem, leaf, identity) = certify(http, opts)?;
    let signature = b64.encode(key.sign(&pae(IN_TOTO, statement.as_bytes())));
    let envelope = serde_json::json!({
        "payload": b64.encode(statement.as_bytes()),
        "payloadType": IN_TOTO,
        "signatures": [{"sig": signature, "keyid": ""}],
    });
    let entry = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": envelope.to_string(),
            "verifiers": [b64.encode(&leaf_pem)],
        }},
    });
    let tlog = log_entry(http, opts, &entry, "dsse")?;
    let bundle = serde_json::json!({
        "mediaType": BUNDLE_ARTIFACT_TYPE,
        "verificationMaterial": {
            "certificate": {"rawBytes": b64.encode(&leaf)},
            "tlogEntries": [tlog],
        },
        "dsseEnvelope": envelope,
    })
    .to_string();
    let me = Signer::Matching {
        identity: bundle::Pattern::Exact(identity.clone()),
        issuer: bundle::Pattern::regex(".*").map_err(|e| invalid("issuer", e.detail))?,
    };
    customs_sign::image::check(
        customs_sign::image::Material::Bundle { json: &bundle },
        &digest,
        &me,
        root,
        COSIGN_SIGN_PREDICATE,
    )
    .map_err(|e| invalid("the new bundle", e.to_string()))?;

    // The referrer: the empty config, the bundle as its one layer, the image as its subject.
    const EMPTY: &str = "application/vnd.oci.empty.v1+json";
    const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    let empty = Digest::compute(Algorithm::Sha256, b"{}");
    client.push_blob(reference, &empty.to_string(), b"{}".to_vec().into())?;
    let layer = Digest::compute(Algorithm::Sha256, bundle.as_bytes());
    client.push_blob(
        reference,
        &layer.to_string(),
        bundle.clone().into_bytes().into(),
    )?;
    let annotations = serde_json::json!({
        "dev.sigstore.bundle.content": "dsse-envelope",
        PREDICATE_ANNOTATION: COSIGN_SIGN_PREDICATE,
    });
    let referrer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY, "digest": empty.to_string(), "size": 2},
        "layers": [{"mediaType": BUNDLE_ARTIFACT_TYPE, "digest": layer.to_string(), "size": bundle.len()}],
        "subject": {
            "mediaType": media_type.unwrap_or_else(|| OCI_MANIFEST.to_owned()),
            "digest": digest.to_string(),
            "size": manifest.len(),
        },
        "annotations": annotations,
    })
    .to_string();
    let referrer_digest = Digest::compute(Algorithm::Sha256, referrer.as_bytes());
    client.put_manifest(
        reference,
        &referrer_digest.to_string(),
        OCI_MANIFEST,
        referrer.clone().into_bytes().into(),
    )?;
    // A registry with the referrers API lists the referrer by itself; otherwise the tag
    // fallback index gets it, beside what it already lists.
    let fallback_tag = if client.referrers(reference, &digest.to_string())?.is_some() {
        None
    } else {
        let tag = format!("{}-{}", digest.algorithm().as_str(), digest.hex());
        let mut index = match client.manifest(reference, &tag) {
            Ok(m) => serde_json::from_slice::<serde_json::Value>(&m.bytes)
                .map_err(|e| invalid(&tag, format!("the referrers tag is not an index: {e}")))?,
            Err(customs_registry::RegistryError::NotFound { .. }) => {
                serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
            }
            Err(e) => return Err(e.into()),
        };
        let entry = serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": referrer_digest.to_string(),
            "size": referrer.len(),
            "artifactType": BUNDLE_ARTIFACT_TYPE,
            "annotations": annotations,
        });
        let list = index["manifests"]
            .as_array_mut()
            .ok_or_else(|| invalid(&tag, "the referrers tag lists no manifests"))?;
        if !list.iter().any(|m| m["digest"] == entry["digest"]) {
            list.push(entry);
        }
        client.put_manifest(
            reference,
            &tag,
            OCI_INDEX,
            index.to_string().into_bytes().into(),
        )?;
        Some(tag)
    };
    Ok(ImageSignReport {
        reference: format!(
            "{repository}{}",
            reference
                .tag
                .as_deref()
                .map(|t| format!(":{t}"))
                .unwrap_or_default()
        ),
        digest,
        referrer: referrer_digest,
        identity,
        fallback_tag,
        bundle,
    })
}
