//! Image signatures made by cosign and found in the wild (`../shared/data/signing/cosign`):
//! containers/image's fixtures and connaisseur's registry copies, checked against the
//! production Sigstore root. Every expected outcome is what the data's README says of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use customs_sign::bundle::{self, BundleError, Signer};
use customs_sign::cosign::{self, SignatureLayer};
use customs_sign::image::{self, COSIGN_SIGN_PREDICATE, Checked, Material};
use customs_types::{Algorithm, Digest};

fn shared(rel: &str) -> PathBuf {
    let base = std::env::var_os("CUSTOMS_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let p = base.join("data/signing/cosign").join(rel);
    assert!(p.exists(), "shared data missing at {}", p.display());
    p
}

fn key(rel: &str) -> Signer {
    Signer::key_file(&shared(rel)).unwrap()
}

fn identity(identity: &str, issuer: &str) -> Signer {
    Signer::Identity {
        identity: identity.to_owned(),
        issuer: issuer.to_owned(),
    }
}

fn production() -> sigstore_verify::trust_root::TrustedRoot {
    bundle::trusted_root(None).unwrap()
}

/// A containers/image signature file: `\0sigstore-json\n` then `{mimeType, payload,
/// annotations}`. `None` when it is not a simple signing layer.
fn containers_signature(path: &Path) -> Option<(Vec<u8>, SignatureLayer)> {
    let raw = std::fs::read(path).unwrap();
    let json = &raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..];
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    if v["mimeType"] != cosign::SIMPLE_SIGNING {
        return None;
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["payload"].as_str().unwrap())
        .unwrap();
    let a = |k: &str| v["annotations"][k].as_str().map(str::to_owned);
    let layer = SignatureLayer {
        digest: Digest::compute(Algorithm::Sha256, &payload),
        size: payload.len() as u64,
        signature: a(cosign::SIGNATURE_ANNOTATION)?,
        certificate: a(cosign::CERTIFICATE_ANNOTATION),
        chain: a(cosign::CHAIN_ANNOTATION),
        rekor: a(cosign::BUNDLE_ANNOTATION),
        timestamp: a(cosign::TIMESTAMP_ANNOTATION),
    };
    Some((payload, layer))
}

fn manifest_digest(path: &Path) -> Digest {
    Digest::compute(Algorithm::Sha256, &std::fs::read(path).unwrap())
}

/// Checks the `n`th signature (from 1) of a containers/image fixture.
fn fixture(dir: &str, n: usize, signer: &Signer) -> Result<Checked, BundleError> {
    let d = shared(&format!("containers-image/images/{dir}"));
    let digest = manifest_digest(&d.join("manifest.json"));
    check_fixture(&d, n, &digest, signer)
}

fn check_fixture(
    dir: &Path,
    n: usize,
    digest: &Digest,
    signer: &Signer,
) -> Result<Checked, BundleError> {
    let (payload, layer) = containers_signature(&dir.join(format!("signature-{n}"))).unwrap();
    image::check(
        Material::Legacy {
            payload: &payload,
            layer: &layer,
        },
        digest,
        signer,
        &production(),
        COSIGN_SIGN_PREDICATE,
    )
}

fn code(r: Result<Checked, BundleError>) -> &'static str {
    match r {
        Ok(c) => panic!("verified, expected a refusal: {c:?}"),
        Err(e) => e.code,
    }
}

#[test]
fn keyed_legacy_signatures_verify_with_their_key_only() {
    let ok = fixture(
        "dir-img-cosign-valid",
        1,
        &key("containers-image/keys/cosign.pub"),
    )
    .unwrap();
    assert_eq!(
        ok.docker_reference.as_deref(),
        Some("192.168.64.2:5000/cosign-signed-single-sample")
    );
    assert!(!ok.verified.tlog);
    assert!(ok.verified.key.as_deref().unwrap().starts_with("sha256:"));
    for n in [1, 2] {
        fixture(
            "dir-img-cosign-valid-2",
            n,
            &key("containers-image/keys/cosign.pub"),
        )
        .unwrap();
    }
    assert_eq!(
        code(fixture(
            "dir-img-cosign-valid",
            1,
            &key("containers-image/keys/cosign2.pub")
        )),
        "untrusted-key"
    );
    // The mixed image: the first signature is by a key nobody staged, the second is good.
    let k = key("containers-image/keys/cosign.pub");
    assert_eq!(
        code(fixture("dir-img-cosign-mixed", 1, &k)),
        "untrusted-key"
    );
    fixture("dir-img-cosign-mixed", 2, &k).unwrap();
}

#[test]
fn a_signature_of_another_digest_is_refused() {
    // The manifest was changed after signing: the payload names the old digest.
    let k = key("containers-image/keys/cosign.pub");
    assert_eq!(
        code(fixture("dir-img-cosign-modified-manifest", 1, &k)),
        "digest-mismatch"
    );
    let d = shared("containers-image/images/dir-img-cosign-valid");
    let other = Digest::compute(Algorithm::Sha256, b"another manifest");
    assert_eq!(code(check_fixture(&d, 1, &other, &k)), "digest-mismatch");
}

#[test]
fn a_keyed_signature_with_a_rekor_entry_has_its_set_checked() {
    let k = key("containers-image/keys/cosign2.pub");
    let ok = fixture("dir-img-cosign-key-rekor-valid", 1, &k).unwrap();
    assert!(ok.verified.tlog, "{ok:?}");
    assert!(ok.verified.integrated_time.is_some());
    // The same signature with its entry's time moved: the log's signature no longer holds.
    let d = shared("containers-image/images/dir-img-cosign-key-rekor-valid");
    let digest = manifest_digest(&d.join("manifest.json"));
    let (payload, mut layer) = containers_signature(&d.join("signature-1")).unwrap();
    let mut rekor: serde_json::Value =
        serde_json::from_str(layer.rekor.as_deref().unwrap()).unwrap();
    let t = rekor["Payload"]["integratedTime"].as_i64().unwrap();
    rekor["Payload"]["integratedTime"] = (t + 60).into();
    layer.rekor = Some(rekor.to_string());
    let e = image::check(
        Material::Legacy {
            payload: &payload,
            layer: &layer,
        },
        &digest,
        &k,
        &production(),
        COSIGN_SIGN_PREDICATE,
    )
    .unwrap_err();
    assert_eq!(e.code, "tlog-set-invalid", "{e}");
}

#[test]
fn keyless_legacy_signatures_verify_by_identity_and_issuer() {
    let dir = "dir-img-cosign-fulcio-rekor-valid";
    let github = "https://github.com/login/oauth";
    let ok = fixture(dir, 1, &identity("mitr@redhat.com", github)).unwrap();
    assert_eq!(ok.verified.identity.as_deref(), Some("mitr@redhat.com"));
    assert_eq!(ok.verified.issuer.as_deref(), Some(github));
    assert!(ok.verified.tlog);
    assert_eq!(
        code(fixture(dir, 1, &identity("someone@redhat.com", github))),
        "identity-mismatch"
    );
    assert_eq!(
        code(fixture(
            dir,
            1,
            &identity("mitr@redhat.com", "https://accounts.google.com")
        )),
        "issuer-mismatch"
    );
    // A key policy does not accept a certificate's key.
    assert_eq!(
        code(fixture(dir, 1, &key("containers-image/keys/cosign.pub"))),
        "untrusted-key"
    );
    // A key-signed image under an identity policy.
    assert_eq!(
        code(fixture(
            "dir-img-cosign-valid",
            1,
            &identity("mitr@redhat.com", github)
        )),
        "certificate-missing"
    );
}

#[test]
fn keyless_legacy_signatures_need_their_log_entry_and_a_known_log() {
    let d = shared("containers-image/images/dir-img-cosign-fulcio-rekor-valid");
    let digest = manifest_digest(&d.join("manifest.json"));
    let who = identity("mitr@redhat.com", "https://github.com/login/oauth");
    let (payload, layer) = containers_signature(&d.join("signature-1")).unwrap();
    let prod = production();
    let run = |layer: &SignatureLayer, root| {
        image::check(
            Material::Legacy {
                payload: &payload,
                layer,
            },
            &digest,
            &who,
            root,
            COSIGN_SIGN_PREDICATE,
        )
    };
    // Without the entry, nothing says the ten-minute certificate was valid when it signed.
    let mut bare = layer.clone();
    bare.rekor = None;
    assert_eq!(code(run(&bare, &prod)), "tlog-missing");
    // An entry without its signed entry timestamp (what a bundle v0.1 must carry): refused.
    let mut no_set = layer.clone();
    let mut rekor: serde_json::Value =
        serde_json::from_str(layer.rekor.as_deref().unwrap()).unwrap();
    rekor
        .as_object_mut()
        .unwrap()
        .remove("SignedEntryTimestamp");
    no_set.rekor = Some(rekor.to_string());
    let e = run(&no_set, &prod).unwrap_err();
    assert_eq!(e.code, "signature-malformed", "{e}");
    // The production root without its transparency logs: the SET is from an unknown log.
    let mut root: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared("../trusted-roots/production/trusted_root.json")).unwrap(),
    )
    .unwrap();
    root["tlogs"] = serde_json::json!([]);
    let root = sigstore_verify::trust_root::TrustedRoot::from_json(&root.to_string()).unwrap();
    let e = run(&layer, &root).unwrap_err();
    assert!(e.code.starts_with("tlog-"), "{e}");
    // A tampered payload no longer matches the logged signature.
    let mut changed = payload.clone();
    let at = changed.iter().position(|&b| b == b'1').unwrap();
    changed[at] = b'2';
    let e = image::check(
        Material::Legacy {
            payload: &changed,
            layer: &layer,
        },
        &digest,
        &who,
        &production(),
        COSIGN_SIGN_PREDICATE,
    )
    .unwrap_err();
    assert!(
        ["signature-invalid", "digest-mismatch"].contains(&e.code),
        "{e}"
    );
}

/// connaisseur's copy of a registry: an image manifest, the `.sig` manifest cosign's tag
/// scheme puts beside it, and the payload blobs.
fn connaisseur(image: &str) -> (Digest, Vec<(Vec<u8>, SignatureLayer)>) {
    let base = shared("connaisseur/securesystemsengineering/testimage");
    let digest = manifest_digest(&base.join("manifests").join(image));
    let tag = cosign::signature_tag(&digest);
    let manifest = std::fs::read(base.join("manifests").join(format!("{tag}.json"))).unwrap();
    let layers = cosign::signature_layers(&manifest).unwrap();
    let with_payloads = layers
        .into_iter()
        .map(|l| {
            let blob = format!("{}_{}.json", l.digest.algorithm().as_str(), l.digest.hex());
            let payload = std::fs::read(base.join("blobs").join(blob)).unwrap();
            assert!(l.digest.matches(&payload));
            (payload, l)
        })
        .collect();
    (digest, with_payloads)
}

fn verifies(digest: &Digest, sigs: &[(Vec<u8>, SignatureLayer)], signer: &Signer) -> Vec<bool> {
    sigs.iter()
        .map(|(payload, layer)| {
            image::check(
                Material::Legacy { payload, layer },
                digest,
                signer,
                &production(),
                COSIGN_SIGN_PREDICATE,
            )
            .is_ok()
        })
        .collect()
}

#[test]
fn each_of_three_signers_verifies_their_own_layer() {
    let (digest, sigs) = connaisseur("multi-cosigned-alice-bob-charlie.json");
    assert_eq!(sigs.len(), 3);
    for (who, expect) in [
        ("alice", [true, false, false]),
        ("bob", [false, true, false]),
        ("charlie", [false, false, true]),
        ("default", [false, false, false]),
    ] {
        let k = key(&format!("connaisseur/keys/{who}.key"));
        assert_eq!(verifies(&digest, &sigs, &k), expect, "{who}");
    }
}

#[test]
fn connaisseurs_keyless_signature_verifies_against_the_production_root() {
    let (digest, sigs) = connaisseur("keyless.json");
    let github = "https://github.com/login/oauth";
    let who = identity("philipp.belitz@securesystems.de", github);
    assert_eq!(verifies(&digest, &sigs, &who), [true]);
    let other = identity("mallory@securesystems.de", github);
    assert_eq!(verifies(&digest, &sigs, &other), [false]);
}

#[test]
fn an_rsa_key_made_by_openssl_verifies_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl must be installed (scripts/test.sh installs it)");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "rsa.key",
    ]);
    run(&["pkey", "-in", "rsa.key", "-pubout", "-out", "rsa.pub"]);
    let digest = Digest::compute(Algorithm::Sha256, b"an image manifest");
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"reg.test/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    std::fs::write(dir.path().join("payload"), &payload).unwrap();
    run(&[
        "dgst", "-sha256", "-sign", "rsa.key", "-out", "sig", "payload",
    ]);
    let sig = std::fs::read(dir.path().join("sig")).unwrap();
    let layer = SignatureLayer {
        digest: Digest::compute(Algorithm::Sha256, payload.as_bytes()),
        size: payload.len() as u64,
        signature: base64::engine::general_purpose::STANDARD.encode(&sig),
        certificate: None,
        chain: None,
        rekor: None,
        timestamp: None,
    };
    let signer = Signer::key_file(&dir.path().join("rsa.pub")).unwrap();
    let material = Material::Legacy {
        payload: payload.as_bytes(),
        layer: &layer,
    };
    let ok = image::check(material, &digest, &signer, &production(), "").unwrap();
    assert_eq!(ok.docker_reference.as_deref(), Some("reg.test/app"));
    // The same signature with one bit flipped.
    let mut bad = layer.clone();
    let mut flipped = sig.clone();
    flipped[10] ^= 1;
    bad.signature = base64::engine::general_purpose::STANDARD.encode(&flipped);
    let material = Material::Legacy {
        payload: payload.as_bytes(),
        layer: &bad,
    };
    let e = image::check(material, &digest, &signer, &production(), "").unwrap_err();
    assert_eq!(e.code, "untrusted-key");
}

#[test]
fn a_v3_bundle_is_checked_for_its_subject_and_predicate_type() {
    let json = std::fs::read_to_string(shared("oci-bundle/oci-attestation.sigstore.json")).unwrap();
    let digest: Digest = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"
        .parse()
        .unwrap();
    let who = identity("cody@soyland.com", "https://github.com/login/oauth");
    let attestation = "https://cosign.sigstore.dev/attestation/v1";
    let run = |digest: &Digest, who: &Signer, predicate: &str| {
        image::check(
            Material::Bundle { json: &json },
            digest,
            who,
            &production(),
            predicate,
        )
    };
    let ok = run(&digest, &who, attestation).unwrap();
    assert!(ok.verified.tlog);
    // An attestation is not a signature.
    assert_eq!(
        code(run(&digest, &who, COSIGN_SIGN_PREDICATE)),
        "predicate-mismatch"
    );
    let other = Digest::compute(Algorithm::Sha256, b"other");
    assert_eq!(code(run(&other, &who, attestation)), "digest-mismatch");
    let mallory = identity("mallory@soyland.com", "https://github.com/login/oauth");
    assert_eq!(
        code(run(&digest, &mallory, attestation)),
        "identity-mismatch"
    );
}

#[test]
fn a_v0_1_bundle_without_its_set_is_refused() {
    // sigstore-conformance's happy-path-v0.1, with its inclusion promise taken out: a v0.1
    // bundle has no inclusion proof to fall back on.
    let case = shared("../conformance/bundle-verify/happy-path-v0.1");
    let text = std::fs::read_to_string(case.join("bundle.sigstore.json")).unwrap();
    let who = identity(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    let artifact = std::fs::read(shared("../conformance/bundle-verify/a.txt")).unwrap();
    let signed = bundle::Signed::Bytes(&artifact);
    bundle::verify(&text, &signed, &who, &production()).unwrap();
    let mut b: serde_json::Value = serde_json::from_str(&text).unwrap();
    for entry in b["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
    {
        entry.as_object_mut().unwrap().remove("inclusionPromise");
    }
    let e = bundle::verify(&b.to_string(), &signed, &who, &production()).unwrap_err();
    assert_eq!(e.code, "tlog-set-missing", "{e}");
}
