//! The policy file and its verdicts: each rule kind matching and not, exceptions before and
//! after their date, and malformed files with their line and column. The findings are built
//! from the shape a scan report writes (invented values; no real scan has every case).

use customs_match::Finding;
use customs_policy::{Input, Outcome, Policy, ViolationCode, evaluate};
use customs_types::Timestamp;
use serde_json::json;

fn finding(id: &str, package: &str, severity: &str, extra: serde_json::Value) -> Finding {
    let mut v = json!({
        "id": id, "aliases": [],
        "package": {"name": package, "version": "1.0-1", "ecosystem": "deb",
                    "purl": format!("pkg:deb/debian/{package}@1.0-1?distro=debian-12"),
                    "source_name": null, "source_version": null, "layer": null, "layer_index": null},
        "installed_version": "1.0-1", "fixed_versions": [], "status": "affected",
        "suppressed": null, "severity": severity, "severity_source": "debian", "cvss": null,
        "kev": null, "epss": null, "title": null, "note": null,
        "data_source": {"feed": "debian-cve-list", "record": "data/CVE/list:1",
                        "namespace": "debian:12", "package": package},
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn at(date: &str) -> Timestamp {
    Timestamp::parse_lenient(date).unwrap()
}

fn judge(
    policy: &str,
    findings: &[Finding],
    signed: Option<bool>,
    now: &str,
) -> customs_policy::Verdict {
    let p = Policy::parse(policy, "policy.yaml").unwrap();
    evaluate(
        &p,
        &Input {
            findings,
            repository: Some("registry.example/app/web"),
            signed,
            now: at(now),
            packages: &[],
            created: None,
            digest: None,
            base: None,
        },
    )
}

fn rule(findings: &str) -> String {
    format!("version: 1\nrules:\n  - name: r\n    findings:\n{findings}")
}

/// Each finding condition, with a finding that matches it and one that does not.
#[test]
fn each_finding_condition_matches_and_does_not() {
    let fixed = json!({"status": "fixed", "fixed_versions": ["1.0-2"]});
    let kev = json!({"kev": {"date_added": "2024-01-01", "due_date": null, "ransomware": null, "name": null}});
    let epss = |p: f64| json!({"epss": {"probability": p, "percentile": 0.9}});
    let cases: Vec<(&str, Finding, Finding)> = vec![
        (
            "      severity-at-least: high\n",
            finding("CVE-1", "a", "critical", json!({})),
            finding("CVE-1", "a", "medium", json!({})),
        ),
        (
            "      fixable: true\n",
            finding("CVE-1", "a", "low", fixed.clone()),
            finding("CVE-1", "a", "low", json!({})),
        ),
        (
            "      fixable: false\n",
            finding("CVE-1", "a", "low", json!({})),
            finding("CVE-1", "a", "low", fixed.clone()),
        ),
        (
            "      kev: true\n",
            finding("CVE-1", "a", "medium", kev.clone()),
            finding("CVE-1", "a", "critical", json!({})),
        ),
        (
            "      epss-above: 0.5\n",
            finding("CVE-1", "a", "low", epss(0.7)),
            finding("CVE-1", "a", "low", epss(0.5)),
        ),
        (
            "      ecosystems: [deb]\n",
            finding("CVE-1", "a", "low", json!({})),
            finding(
                "CVE-1",
                "a",
                "low",
                json!({"package": {"name": "a", "version": "1", "ecosystem": "pypi", "purl": null, "source_name": null, "source_version": null, "layer": null, "layer_index": null}}),
            ),
        ),
        (
            "      packages: [\"openssl\"]\n",
            finding("CVE-1", "openssl", "low", json!({})),
            finding("CVE-1", "openssh", "low", json!({})),
        ),
        (
            "      packages: [\"pkg:deb/debian/libc6*\"]\n",
            finding("CVE-1", "libc6", "low", json!({})),
            finding("CVE-1", "libc-bin", "low", json!({})),
        ),
        (
            "      severity-at-least: high\n      kev: true\n",
            finding("CVE-1", "a", "high", kev.clone()),
            finding("CVE-1", "a", "high", json!({})),
        ),
    ];
    for (conditions, yes, no) in cases {
        let policy = rule(conditions);
        let v = judge(&policy, std::slice::from_ref(&yes), None, "2026-12-01");
        assert_eq!(v.outcome, Outcome::Fail, "{conditions}");
        assert_eq!(v.violations.len(), 1, "{conditions}");
        assert_eq!(v.violations[0].code, ViolationCode::Finding);
        assert_eq!(v.violations[0].rule, "r");
        let v = judge(&policy, std::slice::from_ref(&no), None, "2026-12-01");
        assert_eq!(v.outcome, Outcome::Pass, "{conditions}: {v:?}");
    }
}

/// A finding the vendor suppressed never blocks, however severe.
#[test]
fn suppressed_findings_never_block() {
    let policy = rule("      severity-at-least: low\n");
    let f = finding(
        "CVE-1",
        "a",
        "critical",
        json!({"suppressed": "not-affected: vulnerable code not present"}),
    );
    assert_eq!(
        judge(&policy, &[f], None, "2026-12-01").outcome,
        Outcome::Pass
    );
}

/// Warn rules and warn mode report without failing.
#[test]
fn warn_actions_and_warn_mode_do_not_fail() {
    let f = [finding("CVE-1", "a", "critical", json!({}))];
    let warn_rule = "version: 1\nrules:\n  - name: r\n    action: warn\n    findings:\n      severity-at-least: high\n";
    assert_eq!(
        judge(warn_rule, &f, None, "2026-12-01").outcome,
        Outcome::Warn
    );
    let warn_mode = format!(
        "version: 1\nmode: warn\n{}",
        &rule("      severity-at-least: high\n")[11..]
    );
    let v = judge(&warn_mode, &f, None, "2026-12-01");
    assert_eq!(
        (v.outcome, v.violations.len()),
        (Outcome::Warn, 1),
        "{warn_mode}"
    );
}

/// The image must be signed: passes with a passing verdict, fails without one or with a
/// failing one (not known is not passed).
#[test]
fn the_signature_rule_fails_closed() {
    let policy = "version: 1\nrules:\n  - name: signed\n    image:\n      signed: true\n";
    assert_eq!(
        judge(policy, &[], Some(true), "2026-12-01").outcome,
        Outcome::Pass
    );
    let v = judge(policy, &[], Some(false), "2026-12-01");
    assert_eq!(
        (v.outcome, v.violations[0].code),
        (Outcome::Fail, ViolationCode::NotSigned)
    );
    let v = judge(policy, &[], None, "2026-12-01");
    assert_eq!(
        (v.outcome, v.violations[0].code),
        (Outcome::Fail, ViolationCode::SignatureUnknown)
    );
}

const EXCEPTION: &str = "version: 1
rules:
  - name: high
    findings:
      severity-at-least: high
exceptions:
  - vulnerability: CVE-2024-0001
    packages: [\"pkg:deb/debian/openssl*\"]
    repositories: [\"registry.example/app/*\"]
    reason: the vulnerable function is not called
    owner: alice@example.com
    created: 2026-11-01
    expires: 2027-01-31
    ticket: https://tracker.example/SEC-12
";

/// An exception applies through its last day; the day after, the same findings fail and the
/// verdict names the expired exception and its owner.
#[test]
fn an_exception_applies_until_its_date_and_not_after() {
    let f = [
        finding("CVE-2024-0001", "openssl", "high", json!({})),
        // An alias names it too.
        finding(
            "DSA-5555-1",
            "openssl",
            "critical",
            json!({"aliases": ["CVE-2024-0001"]}),
        ),
    ];
    let v = judge(EXCEPTION, &f, None, "2027-01-31T23:59:59Z");
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert_eq!(v.exceptions.len(), 1);
    assert_eq!(v.exceptions[0].owner, "alice@example.com");
    assert_eq!(v.exceptions[0].packages, ["openssl@1.0-1"]);
    let v = judge(EXCEPTION, &f, None, "2027-02-01T00:00:00Z");
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(
        v.violations
            .iter()
            .all(|x| x.code == ViolationCode::ExceptionExpired)
    );
    assert!(
        v.violations[0].detail.contains("alice@example.com"),
        "{}",
        v.violations[0].detail
    );
    assert_eq!(v.expired.len(), 1);
    assert_eq!(v.expired[0].expired, "2027-01-31");
    assert!(v.exceptions.is_empty());
}

/// An exception covers only what it names: another vulnerability, another package, another
/// repository, or an image from no registry stay violations.
#[test]
fn an_exception_covers_only_its_scope() {
    let p = Policy::parse(EXCEPTION, "policy.yaml").unwrap();
    let run = |f: Finding, repository: Option<&str>| {
        evaluate(
            &p,
            &Input {
                findings: &[f],
                repository,
                signed: None,
                now: at("2026-12-01"),
                packages: &[],
                created: None,
                digest: None,
                base: None,
            },
        )
        .outcome
    };
    let repo = Some("registry.example/app/web");
    assert_eq!(
        run(finding("CVE-2024-0001", "openssl", "high", json!({})), repo),
        Outcome::Pass
    );
    assert_eq!(
        run(finding("CVE-2024-0002", "openssl", "high", json!({})), repo),
        Outcome::Fail
    );
    assert_eq!(
        run(finding("CVE-2024-0001", "gnutls", "high", json!({})), repo),
        Outcome::Fail
    );
    assert_eq!(
        run(
            finding("CVE-2024-0001", "openssl", "high", json!({})),
            Some("registry.example/app/web/sub")
        ),
        Outcome::Fail
    );
    assert_eq!(
        run(finding("CVE-2024-0001", "openssl", "high", json!({})), None),
        Outcome::Fail
    );
}

/// Every field is read.
#[test]
fn every_field_is_read() {
    let p = Policy::parse(EXCEPTION, "policy.yaml").unwrap();
    let e = &p.exceptions[0];
    assert_eq!(
        (
            e.vulnerability.as_str(),
            e.owner.as_str(),
            e.created.as_str(),
            e.expires.as_deref(),
            e.ticket.as_deref(),
            e.line
        ),
        (
            "CVE-2024-0001",
            "alice@example.com",
            "2026-11-01",
            Some("2027-01-31"),
            Some("https://tracker.example/SEC-12"),
            7
        )
    );
    assert_eq!(e.packages.patterns, ["pkg:deb/debian/openssl*"]);
    assert_eq!(e.repositories.patterns, ["registry.example/app/*"]);
    assert_eq!(p.rules[0].name, "high");
}

/// Mistakes are errors with their line and column.
#[test]
fn mistakes_are_reported_with_line_and_column() {
    let cases: &[(&str, &str, (u64, u64), &str)] = &[
        (
            "    expires: 2027-01-31\n",
            "",
            (7, 5),
            "has no expires date",
        ),
        (
            "    expires: 2027-01-31\n",
            "    expires: 2026-10-01\n",
            (13, 14),
            "before created",
        ),
        (
            "    created: 2026-11-01\n",
            "    created: November\n",
            (12, 14),
            "not a date",
        ),
        (
            "    owner: alice@example.com\n",
            "    owner: \"\"\n",
            (11, 12),
            "owner is empty",
        ),
        (
            "      severity-at-least: high\n",
            "      severity-at-least: severe\n",
            (5, 26),
            "unknown",
        ),
        (
            "      severity-at-least: high\n",
            "      severity-at-least: high\n      epss-above: 7\n",
            (6, 19),
            "between 0 and 1",
        ),
        (
            "    findings:\n",
            "    colour: red\n    findings:\n",
            (4, 5),
            "unknown field `colour`",
        ),
        (
            "    packages: [\"pkg:deb/debian/openssl*\"]\n",
            "    packages: [\"pkg:deb/[openssl\"]\n",
            (8, 16),
            "glob",
        ),
    ];
    for (line, replacement, (l, c), message) in cases {
        assert!(EXCEPTION.contains(line), "{line:?}");
        let text = EXCEPTION.replacen(line, replacement, 1);
        let e = Policy::parse(&text, "policy.yaml").unwrap_err();
        assert_eq!((e.line, e.column), (Some(*l), Some(*c)), "{message}: {e}");
        assert!(e.message.contains(message), "{message}: {e}");
    }
    // A permanent exception is allowed only when the policy says so.
    let permanent = format!(
        "version: 1\nallow-permanent-exceptions: true\n{}",
        &EXCEPTION.replacen("    expires: 2027-01-31\n", "", 1)[11..]
    );
    let p = Policy::parse(&permanent, "policy.yaml").unwrap();
    assert_eq!(p.exceptions[0].expires, None);
    // A rule that is neither about findings nor the image.
    let e = Policy::parse(
        "version: 1\nrules:\n  - name: r\n    action: warn\n",
        "policy.yaml",
    )
    .unwrap_err();
    assert!(e.message.contains("give findings, image or rego"), "{e}");
}
