//! The policy corpus (tests/corpus/*.yaml): policy files whose examples give, for each rule
//! kind, an input that passes and one that fails, with the verdict and the codes and rules
//! that decided it. Every example must get what it expects; the corpus must hold at least 40,
//! and every violation code must be decided by some example.

use std::collections::BTreeSet;
use std::path::Path;

use customs_policy::{Outcome, Policy, ViolationCode};
use customs_types::Timestamp;

fn corpus() -> Vec<Policy> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| Policy::from_file(f).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn every_corpus_example_gets_its_verdict() {
    let now = Timestamp::parse_lenient("2026-12-01").unwrap();
    let mut total = 0;
    let mut codes: BTreeSet<ViolationCode> = BTreeSet::new();
    let mut outcomes: BTreeSet<&str> = BTreeSet::new();
    for p in corpus() {
        for r in p.run_examples(now) {
            assert!(
                r.passed,
                "{}:{} {}: {:?}",
                p.path.display(),
                r.line,
                r.name,
                r.problems
            );
            codes.extend(&r.codes);
            outcomes.insert(r.outcome.as_str());
            total += 1;
        }
    }
    assert!(total >= 40, "{total} examples");
    let all = [
        ViolationCode::Finding,
        ViolationCode::ExceptionExpired,
        ViolationCode::NotSigned,
        ViolationCode::SignatureUnknown,
        ViolationCode::ImageTooOld,
        ViolationCode::ImageAgeUnknown,
        ViolationCode::BannedPackage,
        ViolationCode::DeniedLicense,
        ViolationCode::Rego,
        ViolationCode::RegoError,
        ViolationCode::Detection,
        ViolationCode::ScannerNotRun,
        ViolationCode::DetectionSkipped,
    ];
    assert_eq!(codes, BTreeSet::from(all));
    assert_eq!(outcomes, BTreeSet::from(["fail", "pass", "warn"]));
    // The names the report writes are the names `as_str` gives.
    for c in all {
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }
    for o in [Outcome::Pass, Outcome::Warn, Outcome::Fail] {
        assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
    }
}

/// An example whose expectation is wrong fails, saying how.
#[test]
fn a_wrong_expectation_fails() {
    let p = Policy::parse(
        "version: 1\nrules:\n  - name: critical\n    findings:\n      severity-at-least: critical\n\
         examples:\n  - name: wrong\n    findings:\n      - {id: CVE-1, package: a, severity: critical}\n    \
         expect: {outcome: pass, codes: [], rules: [other]}\n",
        "p.yaml",
    )
    .unwrap();
    let r = &p.run_examples(Timestamp::parse_lenient("2026-12-01").unwrap())[0];
    assert!(!r.passed);
    assert_eq!(r.line, 7);
    assert_eq!(
        r.problems,
        [
            "outcome fail, expected pass",
            "codes {Finding}, expected {}",
            "rules {\"critical\"}, expected {\"other\"}"
        ]
    );
}

/// Mistakes in examples and image rules are errors with their line and column.
#[test]
fn mistakes_in_examples_and_image_rules_name_their_line() {
    let cases = [
        (
            "version: 1\nexamples:\n  - name: x\n    expect: {outcome: maybe}\n",
            "p.yaml:4:",
        ),
        (
            "version: 1\nexamples:\n  - name: x\n    findings:\n      - {id: C, package: a, epss: 2}\n    expect: {outcome: pass}\n",
            "p.yaml:5:",
        ),
        (
            "version: 1\nexamples:\n  - name: x\n    now: someday\n    expect: {outcome: pass}\n",
            "p.yaml:4:",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    image:\n      banned-packages:\n        - {name: a, versions: \"~> 1\"}\n",
            "p.yaml:6:",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    image: {}\n",
            "p.yaml:4:",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    rego:\n      module: \"package customs\\ndeny contains x if {\"\n",
            "p.yaml:5:",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    rego:\n      query: data.customs.nothing\n      module: \"package customs\\ndeny contains 1 if { true }\"\n",
            "p.yaml:5:",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    rego:\n      file: missing.rego\n",
            "p.yaml:5:",
        ),
        // A rule an override disables must exist: a typo would keep the rule silently.
        (
            "version: 1\nrules:\n  - name: r\n    findings: {kev: true}\noverrides:\n  - repositories: [a/*]\n    disable: [rr]\n",
            "p.yaml:7:",
        ),
        (
            "version: 1\noverrides:\n  - repositories: []\n    mode: warn\n",
            "p.yaml:3:",
        ),
        (
            "version: 1\nexceptions:\n  - vulnerability: C\n    images: [sha256:abc]\n    reason: r\n    owner: o\n    created: 2026-01-01\n    expires: 2026-02-01\n",
            "p.yaml:4:",
        ),
        (
            "version: 1\nexamples:\n  - name: x\n    findings:\n      - {id: C, package: a, fixed-on: 2026-01-01}\n    expect: {outcome: pass}\n",
            "p.yaml:5:",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    findings: {layer: middle}\n",
            "p.yaml:4:",
        ),
    ];
    for (text, want) in cases {
        let e = Policy::parse(text, "p.yaml").unwrap_err().to_string();
        assert!(e.starts_with(want), "{text}: {e}");
    }
}
