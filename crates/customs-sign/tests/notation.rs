//! Notation signatures from the Notary Project's own test data and a real registry copy
//! (`../shared/data/signing/notation`), with the clock injected: their certificates and
//! expiry dates are as the README lists them, so each case is checked at a stated date.

use std::path::{Path, PathBuf};

use customs_sign::notation::{self, Level, StoreKind, TrustStore};
use customs_types::{Digest, Timestamp};

fn data(rel: &str) -> PathBuf {
    let base = std::env::var_os("CUSTOMS_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let p = base.join("data/signing/notation").join(rel);
    assert!(p.exists(), "shared data missing at {}", p.display());
    p
}

fn store(rel: &str, kind: StoreKind) -> TrustStore {
    TrustStore::from_dir(&data(rel), kind).unwrap()
}

fn at(date: &str) -> Timestamp {
    date.parse().unwrap()
}

/// The image notation-go's mock envelopes sign.
fn mock_digest() -> Digest {
    "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e"
        .parse()
        .unwrap()
}

fn mock(
    name: &str,
    kind: StoreKind,
    level: Level,
    now: &str,
) -> Result<notation::Verified, String> {
    let envelope = std::fs::read(data(&format!("notation-go/envelopes/mock/{name}"))).unwrap();
    let dir = match kind {
        StoreKind::Ca => "notation-go/truststore/x509/ca/valid-trust-store",
        StoreKind::SigningAuthority => {
            "notation-go/truststore/x509/signingAuthority/valid-trust-store"
        }
    };
    notation::verify(&envelope, &mock_digest(), &store(dir, kind), level, at(now))
        .map_err(|e| e.code.to_owned())
}

const NOW: &str = "2026-12-01T00:00:00Z";

#[test]
fn valid_envelopes_verify_and_broken_ones_fail_integrity() {
    for (name, kind) in [
        ("ca_valid_sig_env.json", StoreKind::Ca),
        ("sa_valid_sig_env.json", StoreKind::SigningAuthority),
    ] {
        let v = mock(name, kind, Level::Strict, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(v.subject.contains("Notation Test"), "{v:?}");
        assert!(v.logged.is_empty(), "{v:?}");
    }
    for (name, kind) in [
        ("ca_invalid_sig_env.json", StoreKind::Ca),
        ("sa_invalid_sig_env.json", StoreKind::SigningAuthority),
    ] {
        for level in [Level::Strict, Level::Permissive, Level::Audit] {
            assert_eq!(
                mock(name, kind, level, NOW).unwrap_err(),
                "signature-invalid",
                "{name}"
            );
        }
    }
}

#[test]
fn an_expired_signature_fails_strict_and_is_logged_below() {
    let name = "ca_expired_sig_env.json";
    assert_eq!(
        mock(name, StoreKind::Ca, Level::Strict, NOW).unwrap_err(),
        "signature-expired"
    );
    let v = mock(name, StoreKind::Ca, Level::Permissive, NOW).unwrap();
    assert!(
        v.logged.iter().any(|l| l.starts_with("signature-expired")),
        "{v:?}"
    );
    // The injected clock: before its expiry date, it verifies strictly.
    mock(name, StoreKind::Ca, Level::Strict, "2022-07-29T12:00:00Z").unwrap();
}

#[test]
fn a_trust_store_of_the_other_kind_or_other_certificates_is_not_authentic() {
    let e = mock(
        "ca_valid_sig_env.json",
        StoreKind::SigningAuthority,
        Level::Strict,
        NOW,
    );
    assert_eq!(e.unwrap_err(), "certificate-untrusted");
    // Audit logs authenticity instead.
    let v = mock(
        "ca_valid_sig_env.json",
        StoreKind::SigningAuthority,
        Level::Audit,
        NOW,
    )
    .unwrap();
    assert!(
        v.logged
            .iter()
            .any(|l| l.starts_with("certificate-untrusted")),
        "{v:?}"
    );
    let envelope = std::fs::read(data("notation-go/envelopes/mock/ca_valid_sig_env.json")).unwrap();
    let other = store(
        "notation-go/truststore/x509/ca/valid-trust-store-self-signed",
        StoreKind::Ca,
    );
    let e = notation::verify(
        &envelope,
        &mock_digest(),
        &other,
        Level::Permissive,
        at(NOW),
    );
    assert_eq!(e.unwrap_err().code, "certificate-untrusted");
}

#[test]
fn another_digest_and_a_required_plugin_are_refused() {
    let envelope = std::fs::read(data("notation-go/envelopes/mock/ca_valid_sig_env.json")).unwrap();
    let s = store(
        "notation-go/truststore/x509/ca/valid-trust-store",
        StoreKind::Ca,
    );
    let other: Digest = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
    let e = notation::verify(&envelope, &other, &s, Level::Audit, at(NOW)).unwrap_err();
    assert_eq!(e.code, "digest-mismatch");
    assert_eq!(
        mock("ca_plugin_sig_env.json", StoreKind::Ca, Level::Strict, NOW).unwrap_err(),
        "plugin-unsupported"
    );
}

#[test]
fn a_real_registry_signature_verifies_with_its_signers_certificate_only() {
    // connaisseur's copy of the Notation signature of sse-secure-systems/testimage.
    let base = data("connaisseur/sse-secure-systems/testimage");
    let envelope = std::fs::read(base.join(
        "blobs/sha256_929a0a249c4614eb8bef5a914308896e7c8c5422d508eaddfd98dfe61683e556.json",
    ))
    .unwrap();
    let image = std::fs::read(base.join("manifests/notation-sign.json")).unwrap();
    let digest = Digest::compute(customs_types::Algorithm::Sha256, &image);
    let config = std::fs::read_to_string(data("connaisseur/01_notation.yaml")).unwrap();
    let certs: Vec<String> = config
        .split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|b| {
            let body = b.split("-----END CERTIFICATE-----").next().unwrap();
            let body: String = body.split_whitespace().collect::<Vec<_>>().join("\n");
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        })
        .collect();
    assert_eq!(certs.len(), 2);
    for (cert, ok) in [(&certs[0], true), (&certs[1], false)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("root.pem"), cert).unwrap();
        let s = TrustStore::from_dir(dir.path(), StoreKind::Ca).unwrap();
        let r = notation::verify(&envelope, &digest, &s, Level::Strict, at(NOW));
        assert_eq!(r.is_ok(), ok, "{r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().code, "certificate-untrusted");
        }
    }
}

#[test]
fn trust_stores_that_cannot_be_used_are_errors() {
    let e = TrustStore::from_dir(Path::new("/nonexistent"), StoreKind::Ca).unwrap_err();
    assert_eq!(e.code, "invalid-trust-store");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.pem"), "not a certificate").unwrap();
    let e = TrustStore::from_dir(dir.path(), StoreKind::Ca).unwrap_err();
    assert!(e.detail.contains("junk.pem"), "{e}");
}

/// The Notation signatures in one of notation's end-to-end OCI layouts: the envelopes of
/// the manifests whose `subject` is the tagged image, and that image's digest.
fn layout(name: &str) -> (Digest, Vec<Vec<u8>>) {
    let dir = data(&format!("notation-cli/oci-layouts/{name}"));
    let blob = |d: &str| {
        std::fs::read(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let image = entries
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "v1")
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let envelopes = entries
        .iter()
        .filter(|m| m["mediaType"] == "application/vnd.oci.image.manifest.v1+json")
        .map(|m| {
            serde_json::from_slice::<serde_json::Value>(&blob(m["digest"].as_str().unwrap()))
                .unwrap()
        })
        // OCI 1.1: a manifest without artifactType takes its config's media type for it,
        // which is how Notation wrote signatures before artifactType existed.
        .filter(|m| {
            let kind = m["artifactType"]
                .as_str()
                .or(m["config"]["mediaType"].as_str());
            m["subject"]["digest"] == image.as_str() && kind == Some(notation::ARTIFACT_TYPE)
        })
        .map(|m| {
            // e2e-invalid-signature's one layer is the text "invalid signature", as a tar.
            blob(m["layers"][0]["digest"].as_str().unwrap())
        })
        .collect();
    (image.parse().unwrap(), envelopes)
}

fn cert_store(cert: &str) -> (tempfile::TempDir, TrustStore) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data(&format!("notation-cli/certs/{cert}")),
        dir.path().join(cert),
    )
    .unwrap();
    let s = TrustStore::from_dir(dir.path(), StoreKind::Ca).unwrap();
    (dir, s)
}

#[test]
fn notations_end_to_end_layouts_verify_or_fail_as_their_names_say() {
    let (_d, e2e) = cert_store("e2e.crt");
    let run = |name: &str, store: &TrustStore, level: Level| {
        let (digest, envelopes) = layout(name);
        assert!(!envelopes.is_empty(), "{name}");
        envelopes
            .iter()
            .map(|e| notation::verify(e, &digest, store, level, at(NOW)).map_err(|e| e.code))
            .collect::<Vec<_>>()
    };
    assert!(run("e2e-valid-signature", &e2e, Level::Strict)[0].is_ok());
    for level in [Level::Strict, Level::Permissive, Level::Audit] {
        let r = run("e2e-invalid-signature", &e2e, level);
        assert_eq!(
            r[0].as_ref().unwrap_err(),
            &"signature-malformed",
            "{level:?}: {r:?}"
        );
    }
    let r = run("e2e-expired-signature", &e2e, Level::Strict);
    assert_eq!(r[0].as_ref().unwrap_err(), &"signature-expired");
    let r = run("e2e-expired-signature", &e2e, Level::Permissive);
    assert!(
        r[0].as_ref().unwrap().logged[0].starts_with("signature-expired"),
        "{r:?}"
    );
    // Two signatures: one by e2e.crt verifies, the other's signer is in no store.
    let r = run("e2e-valid-multiple-signatures", &e2e, Level::Strict);
    assert_eq!(r.iter().filter(|r| r.is_ok()).count(), 1, "{r:?}");
    assert!(
        r.iter()
            .any(|r| r.as_ref().err() == Some(&"certificate-untrusted")),
        "{r:?}"
    );
    let (_d, expired) = cert_store("expired_e2e.crt");
    let r = run("e2e-with-expired-cert", &expired, Level::Strict);
    assert_eq!(r[0].as_ref().unwrap_err(), &"certificate-expired");
    let r = run("e2e-with-expired-cert", &expired, Level::Permissive);
    assert!(
        r[0].as_ref().unwrap().logged[0].starts_with("certificate-expired"),
        "{r:?}"
    );
}
