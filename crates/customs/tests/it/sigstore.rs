//! Sigstore bundles: the `bundle-verify` cases of sigstore-conformance
//! (`../shared/data/signing/conformance`), through `scripts/sigstore-conformance`, which speaks
//! the suite's client protocol and calls `customs verify-blob`. A case passes when customs
//! accepts exactly the bundles the suite says verify (the folder name's `_fail` suffix is the
//! oracle), once with the artifact's path and once with its `sha256:` digest, as the suite runs
//! them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::common::shared;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn wrapper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sigstore-conformance")
}

fn read_or(dir: &Path, name: &str, default: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .map_or_else(|_| default.to_owned(), |s| s.trim().to_owned())
}

/// The suite's call for one case, as its harness builds it.
fn call(case: &Path, artifact: &str) -> Vec<String> {
    let mut args = vec![
        "verify-bundle".to_owned(),
        "--bundle".to_owned(),
        case.join("bundle.sigstore.json").display().to_string(),
    ];
    if case.join("key.pub").is_file() {
        args.extend([
            "--key".to_owned(),
            case.join("key.pub").display().to_string(),
        ]);
    } else {
        args.extend([
            "--certificate-identity".to_owned(),
            read_or(case, "identity", IDENTITY),
            "--certificate-oidc-issuer".to_owned(),
            read_or(case, "issuer", ISSUER),
        ]);
    }
    if case.join("trusted_root.json").is_file() {
        args.extend([
            "--trusted-root".to_owned(),
            case.join("trusted_root.json").display().to_string(),
        ]);
    }
    args.push(artifact.to_owned());
    args
}

/// Every case, twice (by path and by digest), each call prefixed with `prefix` (a command
/// that runs the rest); returns how many were right, and what was wrong.
fn suite(prefix: &[&str]) -> (usize, Vec<String>) {
    let root = shared().join("data/signing/conformance/bundle-verify");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the shared snapshot has 70 cases");
    let (mut right, mut wrong) = (0, Vec::new());
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expect_ok = !name.ends_with("fail");
        let artifact = if case.join("artifact").is_file() {
            case.join("artifact")
        } else {
            root.join("a.txt")
        };
        let digest = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(std::fs::read(&artifact).unwrap()))
        );
        for target in [artifact.display().to_string(), digest] {
            let mut cmd = match prefix {
                [] => Command::new(wrapper()),
                [first, rest @ ..] => {
                    let mut c = Command::new(first);
                    c.args(rest).arg(wrapper());
                    c
                }
            };
            let out = cmd
                .args(call(case, &target))
                .env("CUSTOMS", env!("CARGO_BIN_EXE_customs"))
                .env("CUSTOMS_SHARED", shared())
                .output()
                .unwrap();
            let code = out.status.code();
            // A refusal is exit 1 (or 2 for a bundle that cannot be used); never a crash.
            assert!(matches!(code, Some(0..=2)), "{name}: {out:?}");
            if (code == Some(0)) == expect_ok {
                right += 1;
            } else {
                wrong.push(format!(
                    "{name} ({target}): exit {code:?}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    (right, wrong)
}

#[test]
#[allow(clippy::print_stderr)]
fn every_bundle_verify_case_of_sigstore_conformance() {
    let (right, wrong) = suite(&[]);
    eprintln!("sigstore-conformance bundle-verify: {right}/140 right");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Refusals carry their reason code, and unusable input is exit 2.
#[test]
fn refusals_have_stable_codes() {
    let root = shared().join("data/signing/conformance/bundle-verify");
    let good = root.join("bundle-with-sct-with-extensions");
    let trusted = good.join("trusted_root.json");
    let bundle = good.join("bundle.sigstore.json");
    let a = root.join("a.txt");
    let a = a.to_str().unwrap();
    // `customs verify-blob` of `bundle` by identity and issuer: exit code and standard error.
    let keyless = |bundle: &Path, identity: &str, issuer: &str, artifact: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_customs"))
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(&trusted)
            .arg("--bundle")
            .arg(bundle)
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer, artifact])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = keyless(&bundle, IDENTITY, ISSUER, a);
    assert_eq!(code, Some(0), "{err}");
    let zero = format!("sha256:{}", "0".repeat(64));
    for (identity, issuer, artifact, reason) in [
        ("someone@example.com", ISSUER, a, "identity-mismatch"),
        (
            IDENTITY,
            "https://accounts.google.com",
            a,
            "issuer-mismatch",
        ),
        (IDENTITY, ISSUER, zero.as_str(), "digest-mismatch"),
    ] {
        let (code, err) = keyless(&bundle, identity, issuer, artifact);
        assert_eq!(code, Some(1), "{reason}: {err}");
        assert!(err.contains(reason), "{reason}: {err}");
    }
    let (code, err) = keyless(Path::new("/nonexistent.json"), IDENTITY, ISSUER, a);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent.json"), "{err}");
    // A certificate that was not valid when the log (or the TSA) saw the signature is
    // `certificate-expired`, whichever way round.
    for case in [
        "intoto-set-outside-signing-cert-validity_fail",
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "intoto-expired-certificate_fail",
    ] {
        let dir = root.join(case);
        let out = Command::new(env!("CARGO_BIN_EXE_customs"))
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(dir.join("trusted_root.json"))
            .arg("--bundle")
            .arg(dir.join("bundle.sigstore.json"))
            .args(["--certificate-identity-regexp", ".*"])
            .args(["--certificate-oidc-issuer-regexp", ".*"])
            .arg(dir.join("artifact"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {err}");
        assert!(err.contains("certificate-expired"), "{case}: {err}");
    }
}

/// Verification is offline: the whole suite gives the same answers in a network namespace
/// of its own, which has no interface but a loopback that is down (`unshare -n`; the tests
/// run as root, as scripts/test.sh does).
#[test]
fn the_suite_passes_without_any_network() {
    let probe = Command::new("unshare")
        .args(["-n", "true"])
        .output()
        .expect("unshare (util-linux) must be installed");
    assert!(
        probe.status.success(),
        "unshare -n needs root (or CAP_SYS_ADMIN): {probe:?}"
    );
    let (right, wrong) = suite(&["unshare", "-n"]);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(right, 140);
}
