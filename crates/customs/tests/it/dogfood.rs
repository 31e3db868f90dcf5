//! customs on itself: its own repository scanned as a directory must list every crate of its
//! `Cargo.lock` at the locked version, and scanning it against the RustSec database must run
//! and exit by the rules of `--fail-on`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::customs;
use crate::scan::build_db;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// (name, version) of every `[[package]]` of a Cargo.lock, read line by line: the file is
/// written by cargo in a fixed shape, and this reading shares no code with customs' own.
fn locked(path: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeSet::new();
    for block in text.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or_else(|| panic!("a package without {key}: {block}"))
                .to_owned()
        };
        out.insert((field("name"), field("version")));
    }
    out
}

/// The cargo packages whose evidence is the repository's own Cargo.lock.
fn from_root_lock(inv: &Value) -> BTreeSet<(String, String)> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["ecosystem"] == "cargo"
                && p["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == "/Cargo.lock")
        })
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn own_cargo_lock_is_listed_exactly() {
    let root = repo_root();
    let want = locked(&root.join("Cargo.lock"));
    assert!(
        want.len() > 100,
        "{} crates: not our lock file?",
        want.len()
    );
    assert!(want.iter().any(|(n, _)| n == "customs-catalog"));
    let cache = tempfile::tempdir().unwrap();
    let r = customs(
        &[
            "sbom",
            "--format",
            "json",
            &format!("dir:{}", root.display()),
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = from_root_lock(&r.json());
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from customs' list: {missing:?}\nnot in Cargo.lock: {extra:?}"
    );
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the findings on our own crates are the point"
)]
fn own_repository_scanned_against_rustsec() {
    let root = repo_root();
    let want = locked(&root.join("Cargo.lock"));
    let dir = tempfile::tempdir().unwrap();
    let db = build_db(dir.path(), &["rustsec"]);
    let source = format!("dir:{}", root.display());
    let r = customs(
        &["scan", "--format", "json", "--db", &db, &source],
        dir.path(),
    );
    assert_eq!(r.code, 0, "without --fail-on a scan succeeds: {}", r.stderr);
    let report = r.json();
    let findings = report["findings"].as_array().unwrap();
    let mut ours = 0;
    for f in findings {
        let pkg = &f["package"];
        if pkg["ecosystem"] == "cargo" {
            ours += 1;
            let key = (
                pkg["name"].as_str().unwrap().to_owned(),
                pkg["version"].as_str().unwrap().to_owned(),
            );
            // A finding on a crate we lock is real; elsewhere it comes from a fixture.
            if want.contains(&key) {
                eprintln!(
                    "dog-food finding: {} {} {}",
                    key.0,
                    key.1,
                    f["id"].as_str().unwrap_or("?")
                );
            }
        }
    }
    eprintln!(
        "dog-food: {} findings, {ours} on cargo packages",
        findings.len()
    );
    // The repository's fixtures hold Python, npm and Go packages the RustSec-only database
    // cannot judge: a gate on it exits 2 unless those gaps are accepted.
    let uncovered: Vec<&str> = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["covered"] == false)
        .map(|c| c["ecosystem"].as_str().unwrap())
        .collect();
    assert!(!uncovered.contains(&"cargo"), "{uncovered:?}");
    let gate = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json", "--fail-on", "low", "--db", &db];
        args.extend_from_slice(extra);
        args.push(&source);
        customs(&args, dir.path())
    };
    if !uncovered.is_empty() {
        let r = gate(&[]);
        assert_eq!(r.code, 2, "{}", r.stderr);
    }
    // --fail-on low fails exactly when something unsuppressed was found.
    let allowed = uncovered.join(",");
    let r = if uncovered.is_empty() {
        gate(&[])
    } else {
        gate(&["--allow-missing-coverage", &allowed])
    };
    let unsuppressed = findings.iter().any(|f| f["suppressed"].is_null());
    assert_eq!(
        r.code,
        i32::from(unsuppressed),
        "--fail-on low with {} findings: {}",
        findings.len(),
        r.stderr
    );
}
