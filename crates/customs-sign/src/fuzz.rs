//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`). What they read comes from
//! strangers: a signature manifest and its payload from any registry, and key files a user
//! points at. The property is that no input makes them panic or allocate without bound.
//! `cargo test` replays every file under `fuzz/regressions/<target>/` through [`TARGETS`].

use customs_types::{Algorithm, Digest};

use crate::{SigningKey, VerifyingKey, cosign};

/// What every fuzz target calls.
pub type Entry = fn(&[u8]);

/// Every entry point of this crate, by its fuzz target's name.
pub const TARGETS: &[(&str, Entry)] = &[
    ("cosign_signature", cosign_signature),
    ("signing_keys", signing_keys),
    ("sigstore_bundle", sigstore_bundle),
];

/// A key of this crate's tests (an Ed25519 key made with `openssl genpkey` for them).
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEBVDC1JpC+6qe7zaDU0IKn1pWDoaw0KW0+EW9KnFd33\n-----END PRIVATE KEY-----\n";

/// The input as a signature or attestation manifest, and split at its first NUL into a
/// payload and a signature annotation verified with a fixed key; and, signed for real, as a
/// payload; and whole as an attestation's DSSE envelope.
pub fn cosign_signature(data: &[u8]) {
    let _ = cosign::signature_layers(data);
    let _ = crate::attestation::attestation_layers(data);
    let Ok(key) = SigningKey::from_pem(KEY, "fuzz") else {
        return;
    };
    let vk = key.verifying_key();
    let digest = Digest::compute(Algorithm::Sha256, b"fuzz");
    let (payload, sig) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let _ = cosign::verify(&vk, payload, &String::from_utf8_lossy(sig), &digest);
    // A payload that verifies reaches the JSON parser.
    let signature = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(key.sign(payload))
    };
    let _ = cosign::verify(&vk, payload, &signature, &digest);
    // The rest of the input as the Rekor entry and certificate annotations of a legacy
    // layer: the rewriting into a bundle v0.1, then the verifier, for both kinds of signer.
    let Some(root) = root() else {
        return;
    };
    let annotation = String::from_utf8_lossy(sig).into_owned();
    let layer = cosign::SignatureLayer {
        digest: Digest::compute(Algorithm::Sha256, payload),
        size: payload.len() as u64,
        signature,
        certificate: Some(annotation.clone()),
        chain: None,
        rekor: Some(annotation),
        timestamp: None,
    };
    let material = crate::image::Material::Legacy {
        payload,
        layer: &layer,
    };
    // The whole input as a legacy attestation's envelope, with those annotations.
    let att_layer = crate::attestation::AttestationLayer {
        digest: layer.digest.clone(),
        size: layer.size,
        predicate_type: None,
        annotations: layer.clone(),
    };
    for who in signers() {
        let _ = crate::attestation::check_legacy(
            data,
            &att_layer,
            &digest,
            &who,
            root,
            "https://cyclonedx.org/bom",
        );
        let _ = crate::image::check(
            material,
            &digest,
            &who,
            root,
            crate::image::COSIGN_SIGN_PREDICATE,
        );
    }
}

fn root() -> Option<&'static sigstore_verify::trust_root::TrustedRoot> {
    static ROOT: std::sync::OnceLock<Option<sigstore_verify::trust_root::TrustedRoot>> =
        std::sync::OnceLock::new();
    ROOT.get_or_init(|| crate::bundle::trusted_root(None).ok())
        .as_ref()
}

/// A keyless signer and a key (the public half of [`KEY`]'s fuzz twin, [`PUBLIC_KEY`]).
fn signers() -> [crate::bundle::Signer; 2] {
    [
        crate::bundle::Signer::Identity {
            identity: "a@example.com".to_owned(),
            issuer: "https://issuer.example".to_owned(),
        },
        crate::bundle::Signer::Key {
            pem: PUBLIC_KEY.to_owned(),
            origin: "fuzz".to_owned(),
        },
    ]
}

/// A P-256 public key made with `openssl ecparam` for the fuzz target (no private key kept).
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaMA7cFPuY/zKCbE1jqIDl0cfel+5\n93yo5Bu3EMEsLjK/J9znfVoFIkhfsqBUy1gLaVhNq8YWFN/4SvPuSDWavg==\n-----END PUBLIC KEY-----\n";

/// The input as a Sigstore bundle, verified for a fixed artifact and as an image's bundle, by
/// identity and by key, against the shipped production root.
pub fn sigstore_bundle(data: &[u8]) {
    let Some(root) = root() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let signed = crate::bundle::Signed::Bytes(b"fuzz");
    let digest = Digest::compute(Algorithm::Sha256, b"fuzz");
    for who in signers() {
        let _ = crate::bundle::verify(text, &signed, &who, root);
        // As an image's v3 bundle: the statement's subject and predicate are read too.
        let material = crate::image::Material::Bundle { json: text };
        let _ = crate::image::check(
            material,
            &digest,
            &who,
            root,
            crate::image::COSIGN_SIGN_PREDICATE,
        );
    }
}

/// Key files: the input as a private and as a public key in PEM.
pub fn signing_keys(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = SigningKey::from_pem(text, "fuzz");
    let _ = VerifyingKey::from_pem(text, "fuzz");
}

#[cfg(test)]
#[path = "../../../fuzz/replay.rs"]
mod tests;
