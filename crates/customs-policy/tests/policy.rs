//! The policy file and its verdicts: each rule kind matching and not (detections too),
//! exceptions before and after their date, rules that cannot be judged failing closed, and
//! malformed files with their line and column. The findings are built
//! from the shape a scan report writes (invented values; no real scan has every case).

use std::collections::BTreeMap;

use customs_detect::{Detection, Scanners};
use customs_match::Finding;
use customs_policy::{Detections, Input, Outcome, Policy, ViolationCode, evaluate};
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
            detections: Detections::not_scanned(),
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
                detections: Detections::not_scanned(),
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
    assert!(
        e.message
            .contains("give findings, detections, image or rego"),
        "{e}"
    );
}

// Detections: secrets, config and file checks (docs/checks.md), as `detections:` rules and
// `code:` exceptions.

/// A detection as the inventory writes it (invented values, in the fixture image's layers).
fn detection(code: &str, severity: &str, path: &str, line: Option<usize>) -> Detection {
    let kind = code.split('-').next().unwrap();
    serde_json::from_value(json!({
        "code": code, "kind": kind, "severity": severity, "title": format!("{code} title"),
        "message": format!("{code} at {path}"),
        "location": {"layer": format!("sha256:{}", "1a".repeat(32)), "layer_index": 1,
                     "path": path, "line": line},
        "evidence": "AWS_ACCESS_KEY_ID=********",
    }))
    .unwrap()
}

fn scan_detections() -> Vec<Detection> {
    vec![
        detection("secret-aws-access-key", "critical", "/app/.env", Some(3)),
        detection("config-root-user", "high", "config:User", None),
        detection("config-no-healthcheck", "low", "config:Healthcheck", None),
        detection("file-setuid", "high", "/usr/local/bin/helper", None),
    ]
}

/// `policy` applied to `found`, with the scanners `scanners` names and `skipped` detections,
/// for an image of `repository` at `now`.
fn judge_detections(
    policy: &str,
    found: &[Detection],
    scanners: &str,
    skipped: &[(&str, usize)],
    repository: Option<&str>,
    now: &str,
) -> customs_policy::Verdict {
    let p = Policy::parse(policy, "policy.yaml").unwrap();
    let skipped: BTreeMap<String, usize> =
        skipped.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect();
    evaluate(
        &p,
        &Input {
            findings: &[],
            repository,
            signed: None,
            now: at(now),
            packages: &[],
            created: None,
            digest: None,
            base: None,
            detections: Detections {
                found,
                scanners: Scanners::parse(scanners).unwrap(),
                skipped: &skipped,
            },
        },
    )
}

fn detection_rule(conditions: &str) -> String {
    format!("version: 1\nrules:\n  - name: r\n    detections: {conditions}\n")
}

/// The codes a verdict's violations name, in order.
fn detection_codes(v: &customs_policy::Verdict) -> Vec<(ViolationCode, Option<&str>)> {
    v.violations
        .iter()
        .map(|x| (x.code, x.detection.as_deref()))
        .collect()
}

/// Each detection condition, with the detections of the scan it matches.
#[test]
fn each_detection_condition_matches_its_detections() {
    let all = ALL_SCANNERS;
    let cases: &[(&str, &[&str])] = &[
        (
            "{}",
            &[
                "secret-aws-access-key",
                "config-root-user",
                "config-no-healthcheck",
                "file-setuid",
            ],
        ),
        ("{codes: [\"secret-*\"]}", &["secret-aws-access-key"]),
        (
            "{codes: [config-root-user, \"file-*\"]}",
            &["config-root-user", "file-setuid"],
        ),
        (
            "{kinds: [config]}",
            &["config-root-user", "config-no-healthcheck"],
        ),
        (
            "{severity-at-least: high}",
            &["secret-aws-access-key", "config-root-user", "file-setuid"],
        ),
        (
            "{kinds: [config], severity-at-least: high}",
            &["config-root-user"],
        ),
        ("{paths: [\"/app/**\"]}", &["secret-aws-access-key"]),
        (
            "{paths: [\"config:*\"], codes: [\"*-no-*\"]}",
            &["config-no-healthcheck"],
        ),
        ("{codes: [\"secret-github-*\"]}", &[]),
    ];
    for (conditions, want) in cases {
        let v = judge_detections(
            &detection_rule(conditions),
            &scan_detections(),
            all,
            &[],
            None,
            "2026-12-01",
        );
        let got: Vec<&str> = v
            .violations
            .iter()
            .map(|x| {
                assert_eq!(x.code, ViolationCode::Detection, "{conditions}: {x:?}");
                x.detection.as_deref().unwrap()
            })
            .collect();
        assert_eq!(got, *want, "{conditions}");
        let outcome = if want.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        assert_eq!(v.outcome, outcome, "{conditions}");
    }
}

const ALL_SCANNERS: &str = "vuln,secret,config,file";

/// A violation names the detection: its code, where it is, and a detail a person can act on.
#[test]
fn a_detection_violation_names_its_code_and_location() {
    let mut history = detection("secret-in-layer-history", "high", "/root/.npmrc", Some(1));
    history.removed_in = Some(customs_detect::Location {
        layer: Some(format!("sha256:{}", "2b".repeat(32)).parse().unwrap()),
        layer_index: Some(2),
        path: "/root/.npmrc".to_owned(),
        line: None,
    });
    let v = judge_detections(
        &detection_rule("{codes: [\"secret-*\"]}"),
        &[history.clone()],
        ALL_SCANNERS,
        &[],
        None,
        "2026-12-01",
    );
    let x = &v.violations[0];
    assert_eq!(x.detection.as_deref(), Some("secret-in-layer-history"));
    assert_eq!(x.location.as_ref(), Some(&history.location));
    assert_eq!(
        (x.vulnerability.as_deref(), x.package.as_deref()),
        (None, None)
    );
    assert_eq!(
        x.detail,
        "secret-in-layer-history (high) at /root/.npmrc:1 in layer 1: \
         secret-in-layer-history title; removed at /root/.npmrc in layer 2"
    );
    let json = serde_json::to_value(x).unwrap();
    assert_eq!(json["code"], "detection");
    assert_eq!(json["detection"], "secret-in-layer-history");
    assert_eq!(json["location"]["path"], "/root/.npmrc");
    assert_eq!(json["location"]["line"], 1);
    assert_eq!(json["location"]["layer_index"], 1);
}

/// Rules over findings (and the image) never match detections: a policy written before
/// detections existed gives the same verdict.
#[test]
fn findings_rules_do_not_match_detections() {
    for policy in [
        rule("      severity-at-least: low\n"),
        "version: 1\nrules:\n  - name: r\n    findings: {}\n".to_owned(),
    ] {
        let v = judge_detections(
            &policy,
            &scan_detections(),
            "vuln",
            &[("config-root-user", 1)],
            None,
            "2026-12-01",
        );
        assert_eq!(v.outcome, Outcome::Pass, "{policy}: {v:?}");
    }
}

/// The issue's example: fail on any secret, warn on running as root, and accept the missing
/// health check in one repository, with a reason.
const DETECTION_POLICY: &str = "version: 1
rules:
  - name: no-secrets
    detections:
      kinds: [secret]
  - name: not-root
    action: warn
    detections:
      codes: [config-root-user]
exceptions:
  - code: config-no-healthcheck
    repositories: [\"registry.example/jobs/*\"]
    reason: batch jobs run to completion; Kubernetes probes them
    owner: bob@example.com
    created: 2026-11-01
    expires: 2027-01-31
  - code: \"file-*\"
    paths: [\"/usr/local/bin/*\"]
    reason: the helper is setuid by design, reviewed in SEC-40
    owner: carol@example.com
    created: 2026-11-01
    expires: 2026-11-30
";

#[test]
fn fail_on_secrets_warn_on_root_and_except_a_check_for_a_repository() {
    let found = scan_detections();
    fn rules_and(v: &customs_policy::Verdict) -> Vec<(&str, ViolationCode, String)> {
        v.violations
            .iter()
            .map(|x| {
                (
                    x.rule.as_str(),
                    x.code,
                    x.detection.clone().unwrap_or_default(),
                )
            })
            .collect()
    }
    let v = judge_detections(
        DETECTION_POLICY,
        &found,
        ALL_SCANNERS,
        &[],
        Some("registry.example/jobs/nightly"),
        "2026-12-01",
    );
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(
        rules_and(&v),
        [
            (
                "no-secrets",
                ViolationCode::Detection,
                "secret-aws-access-key".to_owned()
            ),
            (
                "not-root",
                ViolationCode::Detection,
                "config-root-user".to_owned()
            ),
        ]
    );
    // The health check is excepted, and the verdict says for which detection and by whom.
    assert_eq!(v.detection_exceptions.len(), 1, "{v:?}");
    let e = &v.detection_exceptions[0];
    assert_eq!((e.code.as_str(), e.line), ("config-no-healthcheck", 11));
    assert_eq!(e.detections.len(), 1);
    assert_eq!(e.detections[0].location.path, "config:Healthcheck");
    assert_eq!(
        v.detection_exception(&found[2]).map(|e| e.suppression()),
        Some(
            "excepted: bob@example.com until 2027-01-31: batch jobs run to completion; \
             Kubernetes probes them"
                .to_owned()
        )
    );
    assert!(v.detection_exception(&found[1]).is_none());
    // The file exception expired on 2026-11-30, but no rule selects files: it is listed as
    // expired, and nothing fails for it.
    assert_eq!(v.detection_expired.len(), 1);
    assert_eq!(v.detection_expired[0].owner, "carol@example.com");
    assert_eq!(v.detection_expired[0].detections[0].code, "file-setuid");

    // Without the secret, only the warning is left.
    let v = judge_detections(
        DETECTION_POLICY,
        &found[1..],
        ALL_SCANNERS,
        &[],
        Some("registry.example/jobs/nightly"),
        "2026-12-01",
    );
    assert_eq!(v.outcome, Outcome::Warn);
    // Another repository is not covered: the exception did not apply, and no rule selects
    // the health check, so it changes nothing but the verdict's list.
    let v = judge_detections(
        DETECTION_POLICY,
        &found[1..],
        ALL_SCANNERS,
        &[],
        Some("registry.example/app/web"),
        "2026-12-01",
    );
    assert!(v.detection_exceptions.is_empty());
    assert_eq!(v.outcome, Outcome::Warn);
}

/// A `code:` exception applies through its last day, only within its scope (paths,
/// repositories); the day after, a rule's match names it.
#[test]
fn a_detection_exception_applies_within_its_scope_until_its_date() {
    let policy = "version: 1
rules:
  - name: files
    detections: {kinds: [file]}
exceptions:
  - code: \"file-*\"
    paths: [\"/usr/local/bin/*\"]
    repositories: [\"registry.example/app/*\"]
    reason: the helper is setuid by design
    owner: carol@example.com
    created: 2026-11-01
    expires: 2026-12-31
";
    let found = [detection(
        "file-setuid",
        "high",
        "/usr/local/bin/helper",
        None,
    )];
    let repo = Some("registry.example/app/web");
    let v = judge_detections(
        policy,
        &found,
        ALL_SCANNERS,
        &[],
        repo,
        "2026-12-31T23:59:59Z",
    );
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert_eq!(v.detection_exceptions[0].owner, "carol@example.com");
    let v = judge_detections(policy, &found, ALL_SCANNERS, &[], repo, "2027-01-01");
    assert_eq!(
        detection_codes(&v),
        [(ViolationCode::ExceptionExpired, Some("file-setuid"))]
    );
    assert!(
        v.violations[0]
            .detail
            .contains("the exception by carol@example.com (line 6) expired after 2026-12-31"),
        "{}",
        v.violations[0].detail
    );
    assert_eq!(v.detection_expired[0].expired, "2026-12-31");
    // Another path, another repository, or an image from no registry: not covered.
    let elsewhere = [detection(
        "file-setuid",
        "high",
        "/opt/tool/bin/helper",
        None,
    )];
    for (found, repo) in [
        (&elsewhere, repo),
        (&found, Some("registry.example/other/web")),
        (&found, None),
    ] {
        let v = judge_detections(policy, found, ALL_SCANNERS, &[], repo, "2026-12-01");
        assert_eq!(
            detection_codes(&v),
            [(ViolationCode::Detection, Some("file-setuid"))],
            "{repo:?}"
        );
    }
}

/// A rule over a kind whose scanner did not run does not pass: the image was not looked at.
/// A rule whose codes name only other kinds is not affected.
#[test]
fn a_rule_over_a_scanner_that_did_not_run_fails_closed() {
    let v = judge_detections(
        &detection_rule("{kinds: [secret]}"),
        &[],
        "vuln,config,file",
        &[],
        None,
        "2026-12-01",
    );
    assert_eq!(
        (v.outcome, detection_codes(&v)),
        (Outcome::Fail, vec![(ViolationCode::ScannerNotRun, None)])
    );
    assert_eq!(
        v.violations[0].detail,
        "the secret scanner did not run (--scanners vuln,config,file): the image was not \
         looked at for secret detections"
    );
    // A warn rule warns about it.
    let warn = "version: 1\nrules:\n  - name: r\n    action: warn\n    detections: {codes: [\"secret-aws-*\"]}\n";
    let v = judge_detections(warn, &[], "vuln", &[], None, "2026-12-01");
    assert_eq!(v.outcome, Outcome::Warn);
    // Every kind a rule can select is checked: `{}` selects all three.
    let v = judge_detections(&detection_rule("{}"), &[], "vuln", &[], None, "2026-12-01");
    assert_eq!(v.violations.len(), 3);
    assert!(
        v.violations
            .iter()
            .all(|x| x.code == ViolationCode::ScannerNotRun)
    );
    // Codes of config checks only need the config scanner; a glob that could name a secret
    // (`*-token`) needs the secret scanner too.
    for (conditions, scanners, n) in [
        ("{codes: [\"config-*\"]}", "config", 0),
        (
            "{codes: [config-root-user], kinds: [config, secret]}",
            "config",
            0,
        ),
        ("{codes: [\"*-token\"]}", "config", 2),
        ("{codes: [\"s*\"]}", "config,file", 1),
        ("{kinds: [file]}", "vuln,secret,config,file", 0),
    ] {
        let v = judge_detections(
            &detection_rule(conditions),
            &[],
            scanners,
            &[],
            None,
            "2026-12-01",
        );
        assert_eq!(v.violations.len(), n, "{conditions} with {scanners}: {v:?}");
    }
    // Policy examples default to every scanner, and no detections rule: old examples pass.
    let v = judge_detections(
        &detection_rule("{}"),
        &[],
        ALL_SCANNERS,
        &[],
        None,
        "2026-12-01",
    );
    assert_eq!(v.outcome, Outcome::Pass);
}

/// Detections `--skip-check` or `--skip-path` removed cannot be judged: a rule that could
/// match their code does not pass, unless an exception in force accepts the code everywhere.
#[test]
fn skipped_detections_a_rule_could_match_do_not_pass() {
    let skipped = [("config-root-user", 1), ("file-world-writable", 12)];
    let v = judge_detections(
        &detection_rule("{kinds: [config]}"),
        &[],
        ALL_SCANNERS,
        &skipped,
        None,
        "2026-12-01",
    );
    assert_eq!(
        detection_codes(&v),
        [(ViolationCode::DetectionSkipped, Some("config-root-user"))]
    );
    assert_eq!(
        v.violations[0].detail,
        "1 config-root-user detection was skipped (--skip-check or --skip-path) cannot be \
         judged by this rule; accept them with an exception, which has a reason"
    );
    let v = judge_detections(
        &detection_rule("{codes: [\"config-no-*\"]}"),
        &[],
        ALL_SCANNERS,
        &skipped,
        None,
        "2026-12-01",
    );
    assert_eq!(v.outcome, Outcome::Pass);
    let accepted = format!(
        "{}exceptions:\n  - code: config-root-user\n    reason: the entrypoint drops to uid 10001\n    \
         owner: dan@example.com\n    created: 2026-11-01\n    expires: 2027-01-31\n",
        detection_rule("{kinds: [config]}")
    );
    let v = judge_detections(&accepted, &[], ALL_SCANNERS, &skipped, None, "2026-12-01");
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    // Once it has expired, it accepts nothing.
    let v = judge_detections(&accepted, &[], ALL_SCANNERS, &skipped, None, "2027-02-01");
    assert_eq!(v.outcome, Outcome::Fail);
}

/// Mistakes in `detections:` rules and `code:` exceptions are errors with their line.
#[test]
fn detection_mistakes_name_their_line() {
    let exception = |body: &str| {
        format!(
            "version: 1\nexceptions:\n  - {body}\n    reason: r\n    owner: o\n    created: 2026-01-01\n    expires: 2026-02-01\n"
        )
    };
    let cases = [
        (
            exception("vulnerability: CVE-1\n    code: config-root-user"),
            "p.yaml:3:",
            "a vulnerability or a detection code",
        ),
        (
            exception("reason-only: x"),
            "p.yaml:3:",
            "unknown field",
        ),
        (
            exception("code: config-root-user\n    packages: [openssl]"),
            "p.yaml:4:",
            "scoped by paths",
        ),
        (
            exception("code: \"config-[root\""),
            "p.yaml:3:",
            "glob",
        ),
        (
            exception("code: \"  \""),
            "p.yaml:3:",
            "names no detection code",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    detections: {kinds: [secrets]}\n".to_owned(),
            "p.yaml:4:",
            "unknown variant",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    detections: {code: [x]}\n".to_owned(),
            "p.yaml:4:",
            "unknown field",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    detections: {}\n    findings: {}\n".to_owned(),
            "p.yaml:3:",
            "one of them",
        ),
        (
            "version: 1\nexamples:\n  - name: x\n    detections:\n      - {code: root-user}\n    expect: {outcome: pass}\n".to_owned(),
            "p.yaml:5:",
            "names no kind",
        ),
        (
            "version: 1\nexamples:\n  - name: x\n    scanners: [vuln, secrets, dockerfile]\n    expect: {outcome: pass}\n".to_owned(),
            "p.yaml:4:",
            "unknown scanner",
        ),
    ];
    for (text, at, message) in cases {
        let e = Policy::parse(&text, "p.yaml").unwrap_err().to_string();
        assert!(e.starts_with(at) && e.contains(message), "{text}: {e}");
    }
    let p = Policy::parse(
        &exception("code: \"file-*\"\n    paths: [\"/opt/**\"]"),
        "p.yaml",
    )
    .unwrap();
    assert!(p.exceptions.is_empty());
    let e = &p.detection_exceptions[0];
    assert_eq!(
        (e.code.as_str(), e.paths.patterns.as_slice(), e.line),
        ("file-*", &["/opt/**".to_owned()][..], 3)
    );
}

/// A `rego:` rule sees the detections no exception covers, and which scanners ran.
#[test]
fn rego_rules_see_detections_and_scanners() {
    let policy = "version: 1
rules:
  - name: r
    rego:
      module: |
        package customs
        deny contains msg if {
          some d in input.detections
          d.kind == \"secret\"
          msg := sprintf(\"%s at %s (scanners %v)\", [d.code, d.location.path, input.scanners])
        }
";
    let v = judge_detections(
        policy,
        &scan_detections(),
        "secret",
        &[],
        None,
        "2026-12-01",
    );
    assert_eq!(v.violations.len(), 1, "{v:?}");
    assert_eq!(v.violations[0].code, ViolationCode::Rego);
    assert!(
        v.violations[0]
            .detail
            .starts_with("secret-aws-access-key at /app/.env (scanners"),
        "{}",
        v.violations[0].detail
    );
}
