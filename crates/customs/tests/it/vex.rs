//! VEX in and out on a real scan: a bullseye image (an OCI layout of the minbase root's dpkg
//! database with libssl1.1 and libgnutls30 downgraded) against Debian's DSA list.
//! `vex export` of the stored image passes the OpenVEX schema; fed back with `scan --vex`, it
//! suppresses exactly the findings the policy's exception covered, and nothing more;
//! `--fail-on` and the policy agree on what VEX suppressed; `policy check` judges the stored
//! image after the layout is gone.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{LayerTar, customs, write_layout};
use crate::scan::{build_db, bullseye_root};

const POLICY: &str = "version: 1
rules:
  - name: fixable
    findings:
      fixable: true
exceptions:
  - vulnerability: CVE-2023-0286
    packages: [\"libssl1.1\"]
    reason: TLS is terminated by the proxy in front of it
    owner: alice@example.com
    created: 2026-11-01
    expires: 2026-12-31
";

/// (id, package, suppression) of every finding of a `-f json --show-suppressed` report.
pub(crate) fn states(v: &Value) -> BTreeSet<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["package"]["name"].as_str().unwrap().to_owned(),
                f["suppressed"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// An OCI layout at `dir` (tag `1`) of the bullseye minbase's dpkg database with libssl1.1
/// below DSA-5343-1 and libgnutls30 below DSA-5349-1; returns its manifest digest.
pub(crate) fn bullseye_layout(dir: &Path) -> String {
    let root = bullseye_root(&|pkg, _| match pkg {
        "libssl1.1" => Some("1.1.1n-0+deb11u3".to_owned()),
        "libgnutls30" => Some("3.7.1-5+deb11u2".to_owned()),
        _ => None,
    });
    let read = |p: &str| std::fs::read(root.path().join(p)).unwrap();
    let layer = LayerTar::new()
        .dir("etc")
        .file("etc/os-release", &read("etc/os-release"))
        .dir("var")
        .dir("var/lib")
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", &read("var/lib/dpkg/status"))
        .finish();
    write_layout(dir, &[layer], crate::common::Comp::Gzip)
}

#[test]
fn exported_vex_round_trips_and_gates_agree() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["debian-tracker/data/DSA/list"]);
    let layout = w.join("bullseye");
    let digest = bullseye_layout(&layout);
    let image = format!("oci:{}", layout.display());
    let store = format!("sqlite:{}", w.join("store.db").display());
    let policy = w.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let policy = policy.display().to_string();
    let scan = |extra: &[&str]| {
        // The gates here judge findings: the image's own config (root, no health check) is
        // another test's subject.
        let mut args = vec![
            "scan",
            "--db",
            &db,
            "-f",
            "json",
            "--show-suppressed",
            "--scanners",
            "vuln",
        ];
        args.extend_from_slice(extra);
        args.push(&image);
        let r = customs(&args, w);
        let v: Value = r.json();
        (r.code, v, r.stderr)
    };

    // The plain scan, stored: both DSAs open.
    let (code, plain, err) = scan(&["--store", "--store-url", &store]);
    assert_eq!(code, 0, "{err}");
    let open: Vec<_> = states(&plain)
        .into_iter()
        .filter(|s| s.2.is_empty())
        .map(|s| (s.0, s.1))
        .collect();
    assert_eq!(
        open,
        [
            ("DSA-5343-1".to_owned(), "libssl1.1".to_owned()),
            ("DSA-5349-1".to_owned(), "libgnutls30".to_owned())
        ]
    );
    // The policy's exception covers the openssl DSA (through its alias CVE-2023-0286).
    let (code, judged, err) = scan(&["--policy", &policy, "--now", "2026-12-01"]);
    assert_eq!(code, 1, "the gnutls fix is a violation: {err}");
    let excepted: BTreeSet<_> = states(&judged)
        .into_iter()
        .filter(|s| s.2.starts_with("excepted: "))
        .map(|s| (s.0, s.1))
        .collect();
    assert_eq!(
        excepted,
        BTreeSet::from([("DSA-5343-1".to_owned(), "libssl1.1".to_owned())])
    );

    // Export from the store: valid OpenVEX 0.2, about the image by its digest.
    let r = customs(
        &[
            "vex",
            "export",
            "--image",
            &digest,
            "--policy",
            &policy,
            "--now",
            "2026-12-01",
            "--store-url",
            &store,
            "--db",
            &db,
            "--author",
            "alice@example.com",
        ],
        w,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = r.json();
    let file = w.join("image.openvex.json");
    std::fs::write(&file, &r.stdout).unwrap();
    crate::formats::check_openvex(&file);
    let statements = doc["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{doc:#}");
    let s = &statements[0];
    assert_eq!(s["vulnerability"]["name"], "DSA-5343-1");
    assert_eq!(s["status"], "not_affected");
    let product = s["products"][0]["@id"].as_str().unwrap();
    assert!(
        // The digest names the image; a tag would tie the statement to one name of it.
        product == format!("pkg:oci/bullseye@{digest}"),
        "{product}"
    );
    assert!(
        s["products"][0]["subcomponents"][0]["@id"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u3")
    );

    // Fed back: exactly the excepted finding is suppressed, and nothing else changes.
    let file = file.display().to_string();
    let (code, with_vex, err) = scan(&["--vex", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("(openvex, 1 statements): 1 findings suppressed"),
        "{err}"
    );
    let before = states(&plain);
    let after = states(&with_vex);
    let changed: BTreeSet<_> = after
        .difference(&before)
        .map(|s| (s.0.clone(), s.1.clone()))
        .collect();
    assert_eq!(changed, excepted);
    assert_eq!(before.len(), after.len());
    let vex = &with_vex["vex"];
    assert_eq!(vex["suppressed"][0]["vulnerability"], "DSA-5343-1");
    assert_eq!(vex["documents"][0]["format"], "openvex");

    // --fail-on and the policy agree on what VEX suppressed: with a CycloneDX VEX for the
    // gnutls finding too, neither blocks; without it, both do.
    let cdx = w.join("gnutls.cdx.json");
    std::fs::write(
        &cdx,
        serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"timestamp": "2026-11-20T00:00:00Z"},
            "components": [{"type": "library", "name": "libgnutls30", "bom-ref": "gnutls",
                            "purl": "pkg:deb/debian/libgnutls30"}],
            "vulnerabilities": [{"id": "CVE-2023-0361",
                                 "analysis": {"state": "not_affected",
                                              "justification": "code_not_reachable"},
                                 "affects": [{"ref": "gnutls"}]}]
        })
        .to_string(),
    )
    .unwrap();
    let cdx = cdx.display().to_string();
    for gate in [
        &["--fail-on", "unknown"][..],
        &["--policy", &policy, "--now", "2026-12-01"][..],
    ] {
        let (code, _, err) = scan(&[gate, &["--vex", &file]].concat());
        assert_eq!(code, 1, "{gate:?}: the gnutls finding remains: {err}");
        let (code, v, err) = scan(&[gate, &["--vex", &file, "--vex", &cdx]].concat());
        assert_eq!(code, 0, "{gate:?}: {err}");
        assert!(
            states(&v).iter().all(|s| !s.2.is_empty()),
            "{:?}",
            states(&v)
        );
    }

    // A day after the exception's date, the stored image fails the policy without being read
    // again (the layout is gone), naming the expired exception.
    std::fs::remove_dir_all(&layout).unwrap();
    let check = |now: &str| {
        customs(
            &[
                "policy",
                "check",
                "--policy",
                &policy,
                "--now",
                now,
                "--store-url",
                &store,
                "--db",
                &db,
                "-f",
                "json",
                &digest,
            ],
            w,
        )
    };
    let r = check("2026-12-31");
    assert_eq!(r.code, 1, "the gnutls fix still fails: {}", r.stderr);
    let v: Value = r.json();
    assert_eq!(v["exceptions"][0]["vulnerability"], "CVE-2023-0286");
    let r = check("2027-01-01");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = r.json();
    assert_eq!(v["expired"][0]["vulnerability"], "CVE-2023-0286");
    let codes: BTreeSet<_> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        BTreeSet::from(["exception-expired".to_owned(), "finding".to_owned()])
    );
    assert!(
        r.stderr.contains("expired after 2026-12-31"),
        "{}",
        r.stderr
    );
}

/// A VEX file that cannot be read stops the scan before any work, naming the file.
#[test]
fn a_bad_vex_file_is_an_error_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("bad.json");
    std::fs::write(&bad, "{\"statements\": ").unwrap();
    let bad = bad.display().to_string();
    let r = customs(
        &["scan", "--vex", &bad, "dir:/nonexistent-root-for-vex"],
        work.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{bad}:1:15: not JSON")),
        "{}",
        r.stderr
    );
}

const TWO_EXCEPTIONS: &str = "version: 1
rules:
  - name: fixable
    findings:
      fixable: true
exceptions:
  - vulnerability: CVE-2023-0286
    packages: [\"libssl1.1\"]
    reason: TLS is terminated by the proxy in front of it
    owner: alice@example.com
    created: 2026-11-01
    expires: EXPIRES
  - vulnerability: CVE-2023-0361
    reason: no TLS client certificates are used
    owner: bob@example.com
    created: 2026-11-01
    expires: 2027-06-30
";

/// The verdict is stored with the scan; `rematch --policy` reports the day it changes (the
/// exception expired) without reading the image, and again when the exception is extended;
/// each change to the exceptions is in the store with who and when.
fn verdict_changes_are_reported_by_rematch(store: &str) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["debian-tracker/data/DSA/list"]);
    let layout = w.join("bullseye");
    let digest = bullseye_layout(&layout);
    let image = format!("oci:{}", layout.display());
    let policy = w.join("policy.yaml");
    let write_policy = |expires: &str| {
        std::fs::write(&policy, TWO_EXCEPTIONS.replace("EXPIRES", expires)).unwrap();
    };
    write_policy("2026-12-31");
    let policy = policy.display().to_string();
    let run = |user: &str, args: &[&str]| {
        crate::common::customs_with(
            std::process::Command::new(env!("CARGO_BIN_EXE_customs"))
                .args(args)
                .env("CUSTOMS_USER", user),
            w,
        )
    };
    let r = run(
        "ci",
        &[
            "scan",
            "--db",
            &db,
            "--store",
            "--store-url",
            store,
            "--policy",
            &policy,
            "--now",
            "2026-12-01",
            "-f",
            "json",
            &image,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["policy"]["outcome"], "pass");
    // The stored verdict.
    let mut s = customs_store::open(store).unwrap();
    let kept = s.policy_verdicts(&digest).unwrap();
    assert_eq!(
        (kept[0].policy.as_str(), kept[0].outcome.as_str()),
        (policy.as_str(), "pass")
    );
    drop(s);
    std::fs::remove_dir_all(&layout).unwrap();

    let sent = w.join("notified.json");
    let notify = format!("exec=cat > {}", sent.display());
    let rematch = |now: &str| {
        let _ = std::fs::remove_file(&sent);
        let r = run(
            "ci",
            &[
                "rematch",
                "--db",
                &db,
                "--store-url",
                store,
                "--policy",
                &policy,
                "--now",
                now,
                "-f",
                "json",
                "--notify",
                &notify,
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["verdicts"].clone()
    };
    assert_eq!(
        rematch("2026-12-31"),
        Value::Null,
        "no change on the last day"
    );
    let changed = rematch("2027-01-01");
    assert_eq!(changed.as_array().map(Vec::len), Some(1), "{changed}");
    let c = &changed[0];
    assert_eq!(
        (
            c["digest"].as_str(),
            c["before"].as_str(),
            c["after"].as_str()
        ),
        (Some(digest.as_str()), Some("pass"), Some("fail"))
    );
    assert_eq!(c["expired"], serde_json::json!(["CVE-2023-0286"]));
    assert!(
        c["violations"][0]
            .as_str()
            .unwrap()
            .starts_with("fixable: exception-expired DSA-5343-1 in libssl1.1@"),
        "{c}"
    );
    // The findings did not change, the verdict did: --notify sends it.
    let piped: Value = serde_json::from_slice(&std::fs::read(&sent).unwrap()).unwrap();
    assert_eq!(piped["verdicts"], changed);
    assert_eq!(rematch("2027-01-02"), Value::Null, "reported once");
    assert!(!sent.exists(), "nothing changed, nothing sent");
    // Alice extends it: the verdict changes back, and the change is on record.
    write_policy("2027-03-31");
    let r = run(
        "alice",
        &[
            "rematch",
            "--db",
            &db,
            "--store-url",
            store,
            "--policy",
            &policy,
            "--now",
            "2027-01-02",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("verdict fail -> pass under"),
        "{}",
        r.stdout
    );
    let r = run(
        "ci",
        &["exceptions", "history", "--store-url", store, "-f", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events: Vec<(String, String, String)> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["change"].as_str().unwrap().to_owned(),
                e["exception"]["vulnerability"].as_str().unwrap().to_owned(),
                e["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("added".into(), "CVE-2023-0286".into(), "ci".into()),
            ("added".into(), "CVE-2023-0361".into(), "ci".into()),
            ("changed".into(), "CVE-2023-0286".into(), "alice".into()),
        ]
    );
}

#[test]
fn verdict_changes_are_reported_by_rematch_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    verdict_changes_are_reported_by_rematch(&format!(
        "sqlite:{}",
        dir.path().join("store.db").display()
    ));
}

#[test]
fn verdict_changes_are_reported_by_rematch_postgres() {
    let schema = crate::lifecycle::PgSchema::new();
    verdict_changes_are_reported_by_rematch(&schema.url());
}

/// What [`stored_bullseye`] made: the work directory, the database, the store URL, the policy
/// file and the image's digest.
struct Stored {
    work: tempfile::TempDir,
    db: String,
    store: String,
    policy: String,
    digest: String,
}

/// The bullseye layout scanned into a new SQLite store with `policy` and `extra` scan
/// arguments (the scan must pass), then deleted, so that what follows cannot read it again.
fn stored_bullseye(policy: &str, extra: &[&str]) -> Stored {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["debian-tracker/data/DSA/list"]);
    let layout = w.join("bullseye");
    let digest = bullseye_layout(&layout);
    let image = format!("oci:{}", layout.display());
    let store = format!("sqlite:{}", w.join("store.db").display());
    let file = w.join("policy.yaml");
    std::fs::write(&file, policy).unwrap();
    let policy = file.display().to_string();
    let mut args = vec![
        "scan",
        "--db",
        &db,
        "--store",
        "--store-url",
        &store,
        "--policy",
        &policy,
        "-f",
        "json",
    ];
    args.extend_from_slice(extra);
    args.push(&image);
    let r = customs(&args, w);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["policy"]["outcome"], "pass");
    std::fs::remove_dir_all(&layout).unwrap();
    Stored {
        work,
        db,
        store,
        policy,
        digest,
    }
}

/// `watch --policy` judges every stored image each round, as `rematch --policy` does: an
/// exception that has expired since the scan turns the stored `pass` into `fail`, reported
/// without reading the image. (`watch` has no `--now`: the exception ended on 2026-11-30, before
/// any clock this test runs at.)
#[test]
fn watch_reports_a_verdict_change() {
    let Stored {
        work,
        db,
        store,
        policy,
        digest,
    } = stored_bullseye(
        &TWO_EXCEPTIONS.replace("EXPIRES", "2026-11-30"),
        &["--now", "2026-11-15"],
    );
    let w = work.path();
    let watch = || {
        let r = customs(
            &[
                "watch",
                "--no-update",
                "--rounds",
                "1",
                "--db",
                &db,
                "--store-url",
                &store,
                "--policy",
                &policy,
                "-f",
                "json",
            ],
            w,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let round = watch();
    let changed = round["verdicts"].as_array().expect("verdict changes");
    assert_eq!(changed.len(), 1, "{round}");
    assert_eq!(
        (
            changed[0]["digest"].as_str(),
            changed[0]["before"].as_str(),
            changed[0]["after"].as_str()
        ),
        (Some(digest.as_str()), Some("pass"), Some("fail"))
    );
    assert!(
        changed[0]["expired"]
            .as_array()
            .unwrap()
            .contains(&Value::from("CVE-2023-0286")),
        "{round}"
    );
    // A second round has nothing new to say.
    assert_eq!(watch()["verdicts"], Value::Null);
}

/// `rematch --policy --vex` applies the VEX documents before it judges, as the scan did: the
/// verdict a scan stored with `--vex` stays; judged without them, it changes.
#[test]
fn rematch_applies_vex_before_judging() {
    let dir = tempfile::tempdir().unwrap();
    let vex = dir.path().join("vendor.cdx.json");
    std::fs::write(
        &vex,
        serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"timestamp": "2026-11-20T00:00:00Z"},
            "components": [
                {"type": "library", "name": "libssl1.1", "bom-ref": "ssl",
                 "purl": "pkg:deb/debian/libssl1.1"},
                {"type": "library", "name": "libgnutls30", "bom-ref": "gnutls",
                 "purl": "pkg:deb/debian/libgnutls30"}],
            "vulnerabilities": [
                {"id": "CVE-2023-0286", "analysis": {"state": "not_affected",
                    "justification": "code_not_reachable"}, "affects": [{"ref": "ssl"}]},
                {"id": "CVE-2023-0361", "analysis": {"state": "not_affected",
                    "justification": "code_not_reachable"}, "affects": [{"ref": "gnutls"}]}]
        })
        .to_string(),
    )
    .unwrap();
    let vex = vex.display().to_string();
    let Stored {
        work,
        db,
        store,
        policy,
        digest,
    } = stored_bullseye(
        "version: 1\nrules:\n  - name: fixable\n    findings:\n      fixable: true\n",
        &["--vex", &vex],
    );
    let rematch = |extra: &[&str]| {
        let mut args = vec![
            "rematch",
            "--db",
            &db,
            "--store-url",
            &store,
            "--policy",
            &policy,
            "-f",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = customs(&args, work.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["verdicts"].clone()
    };
    assert_eq!(
        rematch(&["--vex", &vex]),
        Value::Null,
        "the same VEX: no change"
    );
    let changed = rematch(&[]);
    assert_eq!(
        (changed[0]["digest"].as_str(), changed[0]["after"].as_str()),
        (Some(digest.as_str()), Some("fail")),
        "{changed}"
    );
}
