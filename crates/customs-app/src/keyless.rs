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
        "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
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
