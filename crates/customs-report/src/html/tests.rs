use std::path::PathBuf;

use customs_catalog::Inventory;
use customs_match::{Coverage, CoverageSource, Finding};
use customs_types::{Feed, Severity, Timestamp};

use super::*;
use crate::report::DatabaseInfo;

/// The invented bookworm scan of `tests/fixtures/ui-scan.json` (see `ui-scan.py` there), with
/// the parts that do not deserialize built here: the database and its coverage.
pub(crate) fn fixture() -> ScanReport {
    #[derive(serde::Deserialize)]
    struct Fixture {
        inventory: Inventory,
        findings: Vec<Finding>,
    }
    let f: Fixture =
        serde_json::from_str(include_str!("../../tests/fixtures/ui-scan.json")).unwrap();
    let debian = "debian:12".parse::<customs_types::Namespace>().unwrap();
    let newest = Timestamp::from_unix_secs(1_707_518_467); // 2024-02-09T22:41:07Z
    ScanReport {
        inventory: f.inventory,
        findings: f.findings,
        namespaces: vec![debian.clone()],
        database: DatabaseInfo {
            path: PathBuf::from("/var/cache/customs/vuln.db"),
            built_at: Some(Timestamp::from_unix_secs(1_707_544_800)), // 2024-02-10T06:00:00Z
            newest_advisory: Some(newest),
            empty: false,
        },
        match_warnings: vec![],
        withdrawn: Default::default(),
        coverage: vec![
            Coverage {
                ecosystem: customs_types::Ecosystem::Deb,
                packages: 9,
                sources: vec![
                    CoverageSource {
                        namespace: debian.clone(),
                        feed: Feed::DebianCveList,
                        newest: Some(newest),
                    },
                    CoverageSource {
                        namespace: debian,
                        feed: Feed::DebianDsa,
                        newest: Some(Timestamp::from_unix_secs(1_707_436_800)),
                    },
                ],
            },
            Coverage {
                ecosystem: customs_types::Ecosystem::PyPI,
                packages: 3,
                sources: vec![],
            },
        ],
        signature: None,
        policy: None,
        vex: None,
        scanners: Default::default(),
    }
}

/// 2024-02-12T08:00:00Z: the newest advisory is three calendar days old then.
pub(crate) fn opts() -> DocOptions {
    DocOptions {
        created: Timestamp::from_unix_secs(1_707_724_800),
        tool_version: "0.1.0".to_owned(),
    }
}

/// The text between `open` (searched from `from`) and the next `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let start = s.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let len = s[start..].find(close).unwrap();
    &s[start..start + len]
}

fn data_json(html: &str) -> serde_json::Value {
    let raw = between(
        html,
        "<script type=\"application/json\" id=\"customs-data\">",
        "</script>",
    );
    serde_json::from_str(raw).unwrap()
}

#[test]
fn csp_hashes_are_those_of_the_inline_style_and_script() {
    let html = render(&fixture(), &Filter::default(), &opts());
    let csp = between(
        &html,
        "http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    );
    let style = between(&html, "<style>", "</style>");
    let script = between(&html, "\n<script>", "</script>");
    assert_eq!(style, STYLE);
    assert_eq!(script, SCRIPT);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
            b64(script),
            b64(style)
        )
    );
    // One style, one executable script and the data block: anything else would be blocked.
    assert_eq!(html.matches("<style").count(), 1);
    assert_eq!(html.matches("<script").count(), 2);
    assert!(
        !html.contains(" style="),
        "inline style attributes are blocked by the CSP"
    );
    let handler = html.match_indices(" on").any(|(i, _)| {
        let rest = &html[i + 3..];
        let name_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(0);
        name_len > 0 && rest[name_len..].starts_with('=')
    });
    assert!(!handler, "inline event handlers are blocked by the CSP");
    assert!(!html.contains("http://") && !html.contains("https://"));
    // The CSP must come before anything it governs.
    assert!(html.find("Content-Security-Policy").unwrap() < html.find("<style>").unwrap());
}

#[test]
fn the_inline_sources_cannot_end_their_own_elements() {
    assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
    assert!(!SCRIPT.contains("<!--"));
    assert!(!STYLE.to_ascii_lowercase().contains("</style"));
}

#[test]
fn no_string_from_the_image_escapes_its_element() {
    let evil = "</script><script>alert(1)</script>";
    let mut report = fixture();
    let f = &mut report.findings[0];
    f.package.name = evil.to_owned();
    f.title = Some(format!("a\u{2028}b\u{2029}c & <!-- {evil} \"'"));
    report.inventory.packages[0].name = evil.to_owned();
    report.inventory.source.reference = format!("evil{evil}");
    if let Some(image) = &mut report.inventory.image {
        image.config.history[0].created_by = Some(format!("<img src=x onerror=alert(2)>{evil}"));
    }
    let html = render(&report, &Filter::default(), &opts());

    assert!(!html.contains(evil));
    assert!(!html.contains("<img"));
    let data = between(&html, "id=\"customs-data\">", "</script>");
    assert!(!data.contains(['<', '>', '&', '\u{2028}', '\u{2029}']));
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The data block parses back to the exact strings.
    let data = data_json(&html);
    let rows = data["findings"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["package"] == evil));
    assert!(
        rows.iter()
            .any(|r| r["title"] == format!("a\u{2028}b\u{2029}c & <!-- {evil} \"'"))
    );
}

#[test]
fn same_report_same_bytes() {
    let report = fixture();
    let a = render(&report, &Filter::default(), &opts());
    let b = render(&report.clone(), &Filter::default(), &opts());
    assert_eq!(a, b);
    // The age is counted to the document's time, not to now.
    assert!(a.contains("id=\"db-age\" data-days=\"3\""), "{a}");
    let later = DocOptions {
        created: Timestamp::from_unix_secs(1_707_724_800 + 30 * 86_400),
        ..opts()
    };
    let c = render(&report, &Filter::default(), &later);
    assert!(c.contains("id=\"db-age\" data-days=\"33\""));
    assert!(c.contains("id=\"db-stale\""));
    assert!(!a.contains("id=\"db-stale\""));
}

#[test]
fn summary_counts_the_open_findings_by_severity() {
    let report = fixture();
    let html = render(&report, &Filter::default(), &opts());
    for sev in Severity::ALL {
        let n = report.open().filter(|f| f.severity == sev).count();
        let row = between(&html, &format!("<tr data-severity=\"{sev}\">"), "</tr>");
        assert!(row.contains(&format!("data-count=\"{n}\"")), "{sev}: {row}");
    }
    let open = report.open().count();
    let suppressed = report.suppressed().count();
    let fixable = report.open().filter(|f| f.fixable()).count();
    assert_eq!((open, suppressed, fixable), (9, 2, 8));
    assert!(html.contains(&format!("id=\"count-open\" data-count=\"{open}\"")));
    assert!(html.contains(&format!(
        "id=\"count-suppressed\" data-count=\"{suppressed}\""
    )));
    assert!(html.contains(&format!("id=\"count-fixable\" data-count=\"{fixable}\"")));
    assert!(html.contains("id=\"count-kev\" data-count=\"1\""));
    assert!(!html.contains("count-left-out"));
}

#[test]
fn ecosystems_without_advisories_are_shown_first_and_loud() {
    let mut report = fixture();
    let html = render(&report, &Filter::default(), &opts());
    let gaps = between(&html, "<section id=\"gaps\"", "</section>");
    assert!(gaps.contains("data-gap=\"not-covered\" data-ecosystem=\"pypi\""));
    assert!(gaps.contains("3 packages went unchecked"));
    assert!(html.find("id=\"gaps\"").unwrap() < html.find("id=\"summary\"").unwrap());
    assert!(
        html.contains("<tr data-ecosystem=\"pypi\" data-covered=\"false\" class=\"uncovered\">")
    );
    assert!(html.contains("<tr data-ecosystem=\"deb\" data-covered=\"true\">"));

    report.database.empty = true;
    let html = render(&report, &Filter::default(), &opts());
    assert!(html.contains("data-gap=\"empty-database\""));
    assert!(html.contains("<tr data-ecosystem=\"deb\" data-covered=\"false\""));

    report.database.empty = false;
    report.coverage[1].sources = report.coverage[0].sources.clone();
    let html = render(&report, &Filter::default(), &opts());
    assert!(!html.contains("id=\"gaps\""));
}

#[test]
fn the_document_holds_suppressed_findings_for_the_toggle_and_obeys_the_other_filters() {
    let report = fixture();
    let html = render(&report, &Filter::default(), &opts());
    let data = data_json(&html);
    assert_eq!(data["show_suppressed"], false);
    assert_eq!(data["sort"], "severity");
    let rows = data["findings"].as_array().unwrap();
    assert_eq!(rows.len(), report.findings.len());
    assert_eq!(
        rows.iter().filter(|r| !r["suppressed"].is_null()).count(),
        2
    );
    // Report order, numbered for the script's tie-break.
    for (i, (row, f)) in rows.iter().zip(&report.findings).enumerate() {
        assert_eq!(row["order"], i);
        assert_eq!(row["id"], f.id.as_str());
    }

    let only_fixed_high = Filter {
        only_fixed: true,
        severities: vec![Severity::High, Severity::Critical],
        show_suppressed: true,
    };
    let html = render(&report, &only_fixed_high, &opts());
    let data = data_json(&html);
    let ids: Vec<&str> = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "CVE-2023-4911",
            "CVE-2024-2961",
            "CVE-2024-5535",
            "CVE-2024-6119",
            "CVE-2024-6119"
        ]
    );
    assert!(html.contains("id=\"count-left-out\" data-count=\"6\""));
    assert!(html.contains("<input type=\"checkbox\" id=\"filter-fixable\" checked>"));
}

#[test]
fn layers_carry_their_build_step_packages_and_findings() {
    let html = render(&fixture(), &Filter::default(), &opts());
    let layer = |i: usize| between(&html, &format!("<tr id=\"layer-{i}\""), "</tr>\n").to_owned();
    let base = layer(0);
    assert!(
        base.contains("data-packages=\"3\" data-findings=\"2\""),
        "{base}"
    );
    assert!(base.contains("#(nop) ADD file:"));
    assert!(base.contains("data-severity=\"high\">2 high<"));
    assert!(base.contains(">2 suppressed<"));
    let apt = layer(1);
    assert!(
        apt.contains("data-packages=\"6\" data-findings=\"7\""),
        "{apt}"
    );
    // A long RUN line folds; the whole of it is still there.
    assert!(apt.contains("<details><summary><code>RUN /bin/sh -c apt-get update"));
    assert!(apt.contains("python3-pip &amp;&amp; rm -rf /var/lib/apt/lists/* # buildkit</code>"));
    assert!(apt.contains("data-severity=\"critical\">1 critical<"));
    assert!(apt.contains("<li>libssl3 <span class=\"version\">3.0.11-1~deb12u2</span></li>"));
    let pip = layer(2);
    assert!(
        pip.contains("data-packages=\"3\" data-findings=\"0\""),
        "{pip}"
    );
    assert!(pip.contains("pip install --no-cache-dir"));
    assert!(pip.contains("12.5 MB") || pip.contains("3.3 MB"), "{pip}");
    assert!(!html.contains("layers-unattributed"));
}

#[test]
fn a_source_without_layers_says_so() {
    let mut report = fixture();
    report.inventory.image = None;
    let html = render(&report, &Filter::default(), &opts());
    assert!(html.contains("The source has no layers"));
    assert!(!html.contains("id=\"layers-table\""));
}

#[test]
fn the_static_table_lists_every_finding_worst_first() {
    let report = fixture();
    let html = render(&report, &Filter::default(), &opts());
    let table = between(&html, "<table id=\"findings-static\">", "</table>");
    let ids: Vec<&str> = table
        .split("<td class=\"col-id\">")
        .skip(1)
        .map(|s| &s[..s.find(['<', ' ']).unwrap()])
        .collect();
    assert_eq!(ids.len(), report.findings.len());
    assert_eq!(ids[0], "CVE-2024-5535");
    // The suppressed ones come last, whatever their severity, and worst first among them.
    assert_eq!(ids[ids.len() - 2..], ["CVE-2023-45853", "CVE-2010-4756"]);
}

#[test]
fn sizes_read_like_a_registry_s() {
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(999), "999 B");
    assert_eq!(human_size(1000), "1.0 kB");
    assert_eq!(human_size(29_150_000), "29.2 MB");
    assert_eq!(human_size(3_310_000), "3.3 MB");
    assert_eq!(human_size(1_500_000_000), "1.5 GB");
    assert_eq!(human_size(u64::MAX), "18446744.1 TB");
}

/// `scan --trust-policy`'s verdict is in every report format, not only in the JSON: a section
/// of the page, a SARIF result when the policy does not clear the image (an error when it
/// enforces, a warning when it warns; nothing but properties when it passes), and CycloneDX
/// metadata properties.
#[test]
fn the_signature_verdict_is_in_html_sarif_and_cyclonedx() {
    use crate::report::{AuthorityResult, Outcome, SignatureVerdict};
    let verdict = |outcome: Outcome, code: Option<&str>| SignatureVerdict {
        reference: "127.0.0.1:5000/app:1".to_owned(),
        digest: format!("sha256:{}", "ab".repeat(32)),
        platform_digest: None,
        policy: Some("production".to_owned()),
        mode: Some("enforce".to_owned()),
        required: 1,
        authorities: vec![AuthorityResult {
            name: "release-key".to_owned(),
            signed: code.is_none(),
            code: code.map(str::to_owned),
            detail: None,
        }],
        signatures: 1,
        satisfied: code.is_none(),
        outcome,
        code: code.map(str::to_owned),
    };
    let mut report = fixture();
    report.signature = Some(verdict(Outcome::Fail, Some("untrusted-key")));

    let html = render(&report, &Filter::default(), &opts());
    let section = between(&html, "<section id=\"signature\"", "</section>");
    assert!(section.contains("data-outcome=\"fail\""), "{section}");
    assert!(
        section.contains(
            "fail: untrusted-key (policy production; 0 of 1 required authorities signed)"
        ),
        "{section}"
    );
    assert!(
        section.contains("<li>release-key not signed: untrusted-key</li>"),
        "{section}"
    );
    assert!(html.find("id=\"signature\"").unwrap() < html.find("id=\"summary\"").unwrap());

    let sarif: serde_json::Value =
        serde_json::from_str(&crate::sarif::write(&report, &Filter::default(), &opts()).unwrap())
            .unwrap();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let signature: Vec<_> = results
        .iter()
        .filter(|r| r["ruleId"] == "customs/image-signature")
        .collect();
    assert_eq!(signature.len(), 1);
    assert_eq!(signature[0]["level"], "error");
    assert!(
        signature[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("untrusted-key"),
        "{}",
        signature[0]
    );
    let uri = signature[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(!uri.contains(':'), "{uri}");
    let rule =
        &run["tool"]["driver"]["rules"][signature[0]["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "customs/image-signature");
    assert_eq!(run["properties"]["signatureOutcome"], "fail");
    assert_eq!(run["properties"]["signatureCode"], "untrusted-key");

    let cdx = crate::cyclonedx::write(
        crate::output::Subject::Scan(&report, &Filter::default()),
        &opts(),
    )
    .unwrap();
    let cdx: serde_json::Value = serde_json::from_str(&cdx).unwrap();
    let props: Vec<(String, String)> = cdx["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["value"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(n, _)| n.starts_with("customs:signature:"))
        .collect();
    let want = |n: &str, v: &str| (format!("customs:signature:{n}"), v.to_owned());
    assert_eq!(
        props,
        [
            want("outcome", "fail"),
            want("digest", &format!("sha256:{}", "ab".repeat(32))),
            want("policy", "production"),
            want("code", "untrusted-key"),
            want("authority", "release-key not signed: untrusted-key"),
        ]
    );

    // Warn is a warning; pass and skip add no result, only the properties.
    for (outcome, code, level) in [
        (Outcome::Warn, Some("untrusted-key"), Some("warning")),
        (Outcome::Pass, None, None),
        (Outcome::Skip, Some("verification-skipped"), None),
    ] {
        report.signature = Some(verdict(outcome, code));
        let sarif: serde_json::Value = serde_json::from_str(
            &crate::sarif::write(&report, &Filter::default(), &opts()).unwrap(),
        )
        .unwrap();
        let levels: Vec<_> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ruleId"] == "customs/image-signature")
            .map(|r| r["level"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            levels,
            level.into_iter().map(str::to_owned).collect::<Vec<_>>()
        );
        assert_eq!(
            sarif["runs"][0]["properties"]["signatureOutcome"],
            outcome.as_str()
        );
        let html = render(&report, &Filter::default(), &opts());
        assert!(html.contains(&format!("data-outcome=\"{}\"", outcome.as_str())));
    }
    // No verdict asked for: no section, no result, no property.
    report.signature = None;
    let html = render(&report, &Filter::default(), &opts());
    assert!(!html.contains("id=\"signature\""));
}

#[test]
fn the_policy_verdict_is_in_html_sarif_and_cyclonedx() {
    let mut report = fixture();
    let policy = customs_policy::Policy::parse(
        "version: 1\nrules:\n  - name: signed\n    image:\n      signed: true\n",
        "gate.yaml",
    )
    .unwrap();
    let now = customs_types::Timestamp::parse_lenient("2026-12-01").unwrap();
    report.policy = Some(customs_policy::evaluate(
        &policy,
        &customs_policy::Input {
            findings: &report.findings,
            repository: None,
            signed: None,
            now,
            packages: &[],
            created: None,
            digest: None,
            base: None,
            detections: customs_policy::Detections::not_scanned(),
        },
    ));

    let html = render(&report, &Filter::default(), &opts());
    let section = between(&html, "<section id=\"policy\"", "</section>");
    assert!(section.contains("data-outcome=\"fail\""), "{section}");
    assert!(
        section.contains("<li data-code=\"signature-unknown\">signed: no signature verdict"),
        "{section}"
    );
    assert!(html.find("id=\"policy\"").unwrap() < html.find("id=\"summary\"").unwrap());

    let sarif: serde_json::Value =
        serde_json::from_str(&crate::sarif::write(&report, &Filter::default(), &opts()).unwrap())
            .unwrap();
    let props = &sarif["runs"][0]["properties"];
    assert_eq!(props["policyOutcome"], "fail");
    assert_eq!(props["policyFile"], "gate.yaml");
    assert_eq!(props["policyViolations"], 1);

    let cdx = crate::cyclonedx::write(
        crate::output::Subject::Scan(&report, &Filter::default()),
        &opts(),
    )
    .unwrap();
    let cdx: serde_json::Value = serde_json::from_str(&cdx).unwrap();
    let props: Vec<(&str, &str)> = cdx["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .filter(|(n, _)| n.starts_with("customs:policy:"))
        .collect();
    assert_eq!(
        props,
        [
            ("customs:policy:outcome", "fail"),
            ("customs:policy:file", "gate.yaml"),
            (
                "customs:policy:violation",
                "signed: signature-unknown: no signature verdict: scan with --trust-policy"
            ),
        ]
    );
}
