//! `customs scan --policy`: the gate on a real scan (a bullseye root with two packages
//! downgraded, against Debian's DSA and DLA lists), its exceptions before and after their date
//! (`--now`), a policy file with a mistake, and coverage gaps, which a gate never passes.

use serde_json::Value;

use crate::common::{corpus, customs};
use crate::scan::{build_db, bullseye_root};

const POLICY: &str = "version: 1
rules:
  - name: fixable-openssl
    findings:
      fixable: true
      packages: [\"libssl*\"]
  - name: gnutls
    action: warn
    findings:
      packages: [\"libgnutls*\"]
  - name: signed
    action: warn
    image:
      signed: true
exceptions:
  - vulnerability: CVE-2023-0286
    packages: [\"libssl1.1\"]
    reason: TLS is terminated by the proxy in front of it
    owner: alice@example.com
    created: 2026-11-01
    expires: 2026-12-31
    ticket: https://tracker.example/SEC-12
";

#[test]
fn scan_with_a_policy_applies_exceptions_until_their_date() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(
        work.path(),
        &[
            "debian-tracker/data/DSA/list",
            "debian-tracker/data/DLA/list",
        ],
    );
    // libssl1.1 below DSA-5343-1 (CVE-2023-0286 among its ids), libgnutls30 below DSA-5349-1.
    let root = bullseye_root(&|pkg, _| match pkg {
        "libssl1.1" => Some("1.1.1n-0+deb11u3".to_owned()),
        "libgnutls30" => Some("3.7.1-5+deb11u2".to_owned()),
        _ => None,
    });
    let source = format!("dir:{}", root.path().display());
    let policy = work.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let policy = policy.display().to_string();
    let gate = |now: &str| {
        let r = customs(
            &[
                "scan", "--db", &db, "-f", "json", "--policy", &policy, "--now", now, &source,
            ],
            work.path(),
        );
        let v: Value = r.json();
        (r.code, v, r.stderr)
    };

    // On its last day the exception covers the openssl finding: the gnutls finding and the
    // unknown signature only warn.
    let (code, v, err) = gate("2026-12-31T23:59:59Z");
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["schema"], "customs.scan/1.9");
    let p = &v["policy"];
    assert_eq!(p["outcome"], "warn", "{p}");
    let rules: Vec<(&str, &str)> = p["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["rule"].as_str().unwrap(), x["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [("gnutls", "finding"), ("signed", "signature-unknown")],
        "{p}"
    );
    assert_eq!(p["exceptions"][0]["owner"], "alice@example.com");
    assert_eq!(
        p["exceptions"][0]["packages"][0],
        "libssl1.1@1.1.1n-0+deb11u3"
    );
    assert_eq!(p["expired"].as_array().unwrap().len(), 0);
    assert!(
        err.contains("policy: exception for CVE-2023-0286 by alice@example.com"),
        "{err}"
    );

    // The day after, the same scan fails and names the expired exception and its owner.
    let (code, v, err) = gate("2027-01-01");
    assert_eq!(code, 1, "{err}");
    let p = &v["policy"];
    assert_eq!(p["outcome"], "fail");
    assert_eq!(p["violations"][0]["rule"], "fixable-openssl");
    assert_eq!(p["violations"][0]["code"], "exception-expired");
    assert_eq!(p["expired"][0]["expired"], "2026-12-31");
    assert!(
        err.contains("the exception for CVE-2023-0286 by alice@example.com")
            && err.contains("expired after 2026-12-31"),
        "{err}"
    );

    // --fail-on agrees with the policy: findings an exception covers never block, and show
    // as suppressed with their owner. With the gnutls finding excepted too, nothing is left.
    let both = POLICY.to_owned()
        + "  - vulnerability: CVE-2023-0361
    reason: only the system's own TLS clients use it
    owner: bob@example.com
    created: 2026-11-01
    expires: 2026-12-31
";
    std::fs::write(&policy, both).unwrap();
    let fail_on = |now: &str| {
        customs(
            &[
                "scan",
                "--db",
                &db,
                "-f",
                "json",
                "--show-suppressed",
                "--fail-on",
                "unknown",
                "--policy",
                &policy,
                "--now",
                now,
                &source,
            ],
            work.path(),
        )
    };
    let r = fail_on("2026-12-31");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let excepted: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["suppressed"].as_str())
        .filter(|s| s.starts_with("excepted: "))
        .collect();
    assert_eq!(
        excepted,
        [
            "excepted: bob@example.com until 2026-12-31: only the system's own TLS clients use it",
            "excepted: alice@example.com until 2026-12-31: TLS is terminated by the proxy in front of it",
        ],
        "{}",
        v["findings"]
    );
    assert_eq!(v["policy"]["outcome"], "warn");
    let r = fail_on("2027-01-01");
    assert_eq!(r.code, 1, "{}", r.stderr);

    // The verdict in SARIF and CycloneDX, valid against their schemas.
    let sarif = work.path().join("gate.sarif");
    let cdx = work.path().join("gate.cdx.json");
    let r = customs(
        &[
            "scan",
            "--db",
            &db,
            "--policy",
            &policy,
            "--now",
            "2027-01-01",
            "-o",
            &format!("sarif={}", sarif.display()),
            "-o",
            &format!("cyclonedx={}", cdx.display()),
            &source,
        ],
        work.path(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    crate::formats::check_sarif(&sarif);
    crate::formats::check_cyclonedx(&cdx);
    let s: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(s["runs"][0]["properties"]["policyOutcome"], "fail");
    assert_eq!(s["runs"][0]["properties"]["policyExceptionsExpired"], 2);
    let c: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    assert!(
        c["metadata"]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "customs:policy:expired-exception"
                && p["value"]
                    .as_str()
                    .unwrap()
                    .starts_with("CVE-2023-0286 by alice@example.com")),
        "{}",
        c["metadata"]["properties"]
    );

    // A mistake in the file: exit 2, naming the file, line and column; nothing scanned.
    std::fs::write(&policy, POLICY.replace("    expires: 2026-12-31\n", "")).unwrap();
    let r = customs(
        &["scan", "--db", &db, "--policy", &policy, &source],
        work.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{policy}:16:5: ")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("has no expires date"), "{}", r.stderr);
}

/// A gate that does not know does not pass: with --policy as with --fail-on, an ecosystem
/// without advisory data exits 2, though no rule matched.
#[test]
fn a_policy_gate_with_a_coverage_gap_exits_2() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(work.path(), &["rustsec"]);
    let image = format!("oci:{}", corpus().join("bullseye-minbase/oci").display());
    let policy = work.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\nrules:\n  - name: critical\n    findings:\n      severity-at-least: critical\n",
    )
    .unwrap();
    let gate = |extra: &[&str]| {
        let mut args = vec!["scan", "--db", &db, "--policy"];
        let policy = policy.display().to_string();
        args.push(&policy);
        args.extend_from_slice(extra);
        args.push(&image);
        customs(&args, work.path())
    };
    let r = gate(&[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("customs: error: --policy: "),
        "{}",
        r.stderr
    );
    let r = gate(&["--allow-missing-coverage", "deb"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `customs policy test` runs the corpus' examples (exit 0), and a file with a wrong
/// expectation exits 1 naming it.
#[test]
fn policy_test_runs_the_examples_in_the_file() {
    let work = tempfile::tempdir().unwrap();
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../customs-policy/tests/corpus");
    for f in [
        "findings.yaml",
        "image.yaml",
        "exceptions.yaml",
        "modes.yaml",
    ] {
        let file = corpus.join(f).display().to_string();
        let r = customs(
            &["policy", "test", &file, "--now", "2026-12-01"],
            work.path(),
        );
        assert_eq!(r.code, 0, "{f}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(" failed\n") && r.stdout.contains(", 0 failed"),
            "{}",
            r.stdout
        );
    }
    let wrong = work.path().join("wrong.yaml");
    std::fs::write(
        &wrong,
        "version: 1\nrules:\n  - name: critical\n    findings:\n      severity-at-least: critical\n\
         examples:\n  - name: a critical passes, says the author\n    findings:\n      - {id: CVE-1, package: a, severity: critical}\n    expect: {outcome: pass}\n",
    )
    .unwrap();
    let wrong = wrong.display().to_string();
    let r = customs(&["policy", "test", &wrong], work.path());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("FAIL a critical passes, says the author (line 7): fail [finding]")
            && r.stdout.contains("outcome fail, expected pass"),
        "{}",
        r.stdout
    );
    let empty = work.path().join("empty.yaml");
    std::fs::write(&empty, "version: 1\n").unwrap();
    let r = customs(
        &["policy", "test", &empty.display().to_string()],
        work.path(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no examples to run"), "{}", r.stderr);
}

/// `customs exceptions list` shows each exception's state at --now; `--expired` and
/// `--expiring` select. A Harbor allowlist (the shape of Harbor's API model `CVEAllowlist`;
/// no real one is in ../shared/data, so this one is written here) becomes exceptions a policy
/// file takes.
#[test]
fn exceptions_are_listed_and_a_harbor_allowlist_is_imported() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let harbor = w.join("allowlist.json");
    // 2027-01-01T00:00:00Z: the allowlist ends as 2027 begins, so its last day is 2026-12-31.
    std::fs::write(
        &harbor,
        r#"{"id": 1, "project_id": 3, "expires_at": 1798761600,
            "items": [{"cve_id": "CVE-2023-0286"}, {"cve_id": "CVE-2024-3094"}, {"cve_id": "CVE-2023-0286"}],
            "creation_time": "2026-11-02T10:00:00.000Z", "update_time": "2026-11-02T10:00:00.000Z"}"#,
    )
    .unwrap();
    let r = customs(
        &[
            "exceptions",
            "import-harbor",
            &harbor.display().to_string(),
            "--owner",
            "carol@example.com",
            "--reason",
            "accepted in Harbor",
            "--repositories",
            "harbor.example/payments/*",
        ],
        w,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("2 exceptions from"), "{}", r.stderr);
    let policy = w.join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "version: 1\nrules:\n  - name: any\n    findings: {{}}\n{}  - vulnerability: CVE-2022-0001\n    reason: old\n    owner: dave@example.com\n    created: 2026-01-01\n    expires: 2026-06-30\n",
            r.stdout
        ),
    )
    .unwrap();
    let policy = policy.display().to_string();
    let list = |extra: &[&str]| {
        let mut args = vec![
            "exceptions",
            "list",
            "--policy",
            &policy,
            "--now",
            "2026-12-20",
            "-f",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = customs(&args, w);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = r.json();
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["vulnerability"].as_str().unwrap().to_owned(),
                    e["state"].as_str().unwrap().to_owned(),
                    e["expires"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let all = list(&[]);
    assert_eq!(
        all,
        [
            (
                "CVE-2023-0286".into(),
                "in-force".into(),
                "2026-12-31".into()
            ),
            (
                "CVE-2024-3094".into(),
                "in-force".into(),
                "2026-12-31".into()
            ),
            (
                "CVE-2022-0001".into(),
                "expired".into(),
                "2026-06-30".into()
            ),
        ]
    );
    assert_eq!(list(&["--expired"]).len(), 1);
    assert_eq!(list(&["--expiring", "14d"]).len(), 2);
    assert_eq!(list(&["--expiring", "5"]).len(), 0);
    // The imported ones carry Harbor's project, the owner and the scope.
    let r = customs(
        &[
            "exceptions",
            "list",
            "--policy",
            &policy,
            "--now",
            "2026-12-20",
            "-f",
            "json",
        ],
        w,
    );
    let v: Value = r.json();
    assert_eq!(v[0]["owner"], "carol@example.com");
    assert_eq!(v[0]["repositories"][0], "harbor.example/payments/*");
    assert_eq!(v[0]["created"], "2026-11-02");
    assert!(
        v[0]["reason"]
            .as_str()
            .unwrap()
            .contains("Harbor project 3")
    );
    // Not an allowlist: an error naming the file.
    let bad = w.join("bad.json");
    std::fs::write(&bad, r#"{"items": [{"id": 1}]}"#).unwrap();
    let r = customs(
        &[
            "exceptions",
            "import-harbor",
            &bad.display().to_string(),
            "--owner",
            "x",
            "--reason",
            "y",
        ],
        w,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bad.json: items[0] has no cve_id"),
        "{}",
        r.stderr
    );
}

/// Two layers of Debian 11: the first with libssl1.1 at a version DSA-5343-1 fixes, the second
/// rewriting the dpkg database with libgnutls30 also at one DSA-5349-1 fixes. The first alone
/// is the base image.
fn based_layouts(dir: &std::path::Path) -> (String, String) {
    use crate::common::{Comp, LayerTar, write_layout};
    let status = |gnutls: bool| {
        let root = bullseye_root(&|pkg, _| match pkg {
            "libssl1.1" => Some("1.1.1n-0+deb11u3".to_owned()),
            "libgnutls30" if gnutls => Some("3.7.1-5+deb11u2".to_owned()),
            _ => None,
        });
        let read = |p: &str| std::fs::read(root.path().join(p)).unwrap();
        (read("etc/os-release"), read("var/lib/dpkg/status"))
    };
    let (os, base_status) = status(false);
    let base = LayerTar::new()
        .dir("etc")
        .file("etc/os-release", &os)
        .dir("var")
        .dir("var/lib")
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", &base_status)
        .finish();
    let app = LayerTar::new()
        .dir("var")
        .dir("var/lib")
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", &status(true).1)
        .finish();
    let base_dir = dir.join("base");
    let app_dir = dir.join("app");
    let b = write_layout(&base_dir, std::slice::from_ref(&base), Comp::Gzip);
    let a = write_layout(&app_dir, &[base.clone(), app.clone()], Comp::Gzip);
    assert_ne!(a, b);
    // A third layer on top of the app, under two manifests: one whose annotation names the
    // one-layer base, one whose annotation names an image that is not stored.
    let extra = LayerTar::new().dir("srv").file("srv/extra", b"x").finish();
    let unknown = format!("sha256:{}", "0".repeat(64));
    for (name, named) in [("annotated", &b), ("misnamed", &unknown)] {
        let d = dir.join(name);
        write_layout(&d, &[base.clone(), app.clone(), extra.clone()], Comp::Gzip);
        annotate(
            &d,
            &serde_json::json!({"org.opencontainers.image.base.digest": named,
                                "org.opencontainers.image.base.name": "registry.example/debian:11"}),
        );
    }
    (
        format!("oci:{}", base_dir.display()),
        format!("oci:{}", app_dir.display()),
    )
}

/// Gives the manifest of the one-image layout at `dir` these `annotations` (written under its
/// new digest, which the index then names); returns that digest.
fn annotate(dir: &std::path::Path, annotations: &Value) -> String {
    let index_path = dir.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let blob = |d: &str| {
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let old = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(blob(&old)).unwrap()).unwrap();
    manifest["annotations"] = annotations.clone();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = format!("sha256:{}", crate::common::sha256_hex(&bytes));
    std::fs::write(blob(&digest), &bytes).unwrap();
    index["manifests"][0]["digest"] = Value::from(digest.clone());
    index["manifests"][0]["size"] = Value::from(bytes.len());
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    digest
}

#[test]
fn layer_rules_judge_by_the_stored_base_image() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["debian-tracker/data/DSA/list"]);
    let (base, app) = based_layouts(w);
    let store = format!("sqlite:{}", w.join("store.db").display());
    let policy = w.join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\nrules:\n  - name: app-layers\n    findings:\n      layer: application\n",
    )
    .unwrap();
    let policy = policy.display().to_string();
    let scan = |image: &str, extra: &[&str]| {
        let mut args = vec!["scan", "--db", &db, "-f", "json", "--policy", &policy];
        args.extend_from_slice(extra);
        args.push(image);
        let r = customs(&args, w);
        let v: Value = r.json();
        (r.code, v["policy"].clone(), r.stderr)
    };
    let violated = |verdict: &Value| -> Vec<String> {
        let mut v: Vec<String> = verdict["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["package"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let both = ["libgnutls30@3.7.1-5+deb11u2", "libssl1.1@1.1.1n-0+deb11u3"];

    // No store, no known base: each finding's origin is unknown, so the rule holds for both.
    let (code, verdict, err) = scan(&app, &[]);
    assert_eq!(
        (code, verdict["outcome"].as_str()),
        (1, Some("fail")),
        "{err}"
    );
    assert_eq!(violated(&verdict), both);
    assert!(
        verdict["violations"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("the base image is not known"),
        "{verdict}"
    );
    assert!(verdict.get("base").is_none(), "{verdict}");

    // The app stored before its base: still unknown.
    let (code, verdict, err) = scan(&app, &["--store", "--store-url", &store]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(violated(&verdict), both);

    // The base stored: the app's bottom layer is the base's, and only the package its own
    // layer changed is the application's.
    let (code, verdict, err) = scan(&base, &["--store", "--store-url", &store]);
    assert_eq!(code, 1, "{err}");
    assert!(
        verdict.get("base").is_none(),
        "a one-layer image has no stored base: {verdict}"
    );
    let (code, verdict, err) = scan(&app, &["--store", "--store-url", &store]);
    assert_eq!(
        (code, verdict["outcome"].as_str()),
        (1, Some("fail")),
        "{err}"
    );
    assert_eq!(violated(&verdict), ["libgnutls30@3.7.1-5+deb11u2"]);
    assert_eq!(verdict["base"]["layers"], 1, "{verdict}");
    assert_eq!(verdict["base"]["digest"], layout_digest(&base), "{verdict}");
    assert!(
        verdict["violations"][0]["detail"]
            .as_str()
            .unwrap()
            .ends_with("layer 1, application"),
        "{verdict}"
    );

    // `policy check` on the stored app judges by the same base.
    let r = customs(
        &[
            "policy",
            "check",
            "--db",
            &db,
            "--store-url",
            &store,
            "--policy",
            &policy,
            "-f",
            "json",
            &layout_digest(&app),
        ],
        w,
    );
    let v: Value = r.json();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(violated(&v), ["libgnutls30@3.7.1-5+deb11u2"]);
    assert_eq!(v["base"]["layers"], 1);

    // Three layers, with the two-layer app stored: the longest stored prefix is the app, but an
    // annotation naming the stored one-layer base is believed, as its layers agree.
    let annotated = format!("oci:{}", w.join("annotated").display());
    let (_, verdict, err) = scan(&annotated, &["--store", "--store-url", &store]);
    assert_eq!(verdict["base"]["layers"], 1, "{verdict} {err}");
    assert_eq!(verdict["base"]["digest"], layout_digest(&base));
    assert_eq!(verdict["base"]["names"][0], "registry.example/debian:11");
    // One naming an image the store does not hold is not: the stored prefix decides.
    let misnamed = format!("oci:{}", w.join("misnamed").display());
    let (_, verdict, err) = scan(&misnamed, &["--store", "--store-url", &store]);
    assert_eq!(verdict["base"]["layers"], 2, "{verdict} {err}");
    assert_eq!(verdict["base"]["digest"], layout_digest(&app));
    assert!(
        verdict["violations"].as_array().unwrap().is_empty(),
        "{verdict}"
    );
}

/// The manifest digest of a one-image layout `oci:DIR`.
fn layout_digest(image: &str) -> String {
    let dir = image.strip_prefix("oci:").unwrap();
    let index: Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"].as_str().unwrap().to_owned()
}
