//! SARIF within GitHub's upload limits: past 25,000 results or 10 MB the most severe findings
//! are kept and the run says how many were left out; fingerprints tell findings apart and stay
//! the same for the same finding.

use customs_report::{DocOptions, Filter, sarif};
use customs_types::{Severity, Timestamp};
use serde_json::Value;

fn opts() -> DocOptions {
    DocOptions {
        created: Timestamp::from_unix_secs(1_764_547_200),
        tool_version: "0.1.0".to_owned(),
    }
}

fn notes(v: &Value) -> Vec<String> {
    v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| n["message"]["text"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn more_results_than_github_takes_are_cut_to_the_most_severe_with_a_note() {
    let mut report = crate::html_browser::report();
    // Findings only: the counts below are of them.
    report.inventory.detections.clear();
    let template = report.findings.clone();
    report.findings.clear();
    let severities = [
        Severity::Low,
        Severity::Critical,
        Severity::Medium,
        Severity::High,
    ];
    for i in 0..sarif::MAX_RESULTS + 10 {
        let mut f = template[i % template.len()].clone();
        f.id = format!("CVE-2099-{i:05}");
        f.suppressed = None;
        f.severity = severities[i % severities.len()];
        f.cvss = None;
        f.title = None;
        report.findings.push(f);
    }
    let out = sarif::write(&report, &Filter::default(), &opts()).unwrap();
    assert!(sarif::gzip_size(out.as_bytes()) <= sarif::MAX_BYTES);
    let v: Value = serde_json::from_str(&out).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), sarif::MAX_RESULTS);
    // Ten left out, all of the least severe kind.
    let lows = results.iter().filter(|r| r["level"] == "note").count();
    let all_lows = (0..sarif::MAX_RESULTS + 10).filter(|i| i % 4 == 0).count();
    assert_eq!(lows, all_lows - 10);
    let n = notes(&v);
    assert!(
        n.iter().any(|t| t.starts_with(&format!(
            "10 of {} findings are left out",
            sarif::MAX_RESULTS + 10
        ))),
        "{n:?}"
    );
}

/// `len` hex digits from a xorshift generator seeded with `seed`: text gzip cannot shrink
/// much below half.
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{x:016x}"));
    }
    out.truncate(len);
    out
}

#[test]
fn a_log_over_ten_megabytes_is_cut_below_it() {
    let mut report = crate::html_browser::report();
    // Findings only: the counts below are of them.
    report.inventory.detections.clear();
    let template = report.findings.clone();
    report.findings.clear();
    for i in 0..400 {
        let mut f = template[i % template.len()].clone();
        f.id = format!("CVE-2099-{i:05}");
        f.suppressed = None;
        // 40 KB of title that does not compress (hex of a generator's output) per rule,
        // three times over (full description, help text and markdown): 400 rules are over
        // 10 MB even gzip-compressed, as GitHub counts.
        f.title = Some(noise(i as u64, 40_000));
        report.findings.push(f);
    }
    let out = sarif::write(&report, &Filter::default(), &opts()).unwrap();
    let size = sarif::gzip_size(out.as_bytes());
    assert!(size <= sarif::MAX_BYTES, "{size} bytes compressed");
    assert!(
        out.len() > sarif::MAX_BYTES,
        "uncompressed it may be larger"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let kept = v["runs"][0]["results"].as_array().unwrap().len();
    assert!(kept > 0 && kept < 400, "{kept}");
    let n = notes(&v);
    assert!(
        n.iter()
            .any(|t| t.starts_with(&format!("{} of 400 findings are left out", 400 - kept))),
        "{n:?}"
    );
}

#[test]
fn fingerprints_tell_findings_apart_and_repeat_for_the_same_one() {
    let report = crate::html_browser::report();
    let filter = Filter {
        show_suppressed: true,
        ..Filter::default()
    };
    let a: Value = serde_json::from_str(&sarif::write(&report, &filter, &opts()).unwrap()).unwrap();
    let b: Value = serde_json::from_str(&sarif::write(&report, &filter, &opts()).unwrap()).unwrap();
    let prints = |v: &Value| -> Vec<String> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let p = &r["partialFingerprints"];
                // A finding's, or a secret, config or file detection's.
                p["customsFinding/v1"]
                    .as_str()
                    .or_else(|| p["customsDetection/v1"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let (pa, pb) = (prints(&a), prints(&b));
    assert_eq!(pa, pb);
    let distinct: std::collections::BTreeSet<&String> = pa.iter().collect();
    assert_eq!(
        distinct.len(),
        pa.len(),
        "each (id, purl, path) and each detection has its own fingerprint"
    );
    assert_eq!(
        pa.len(),
        report.findings.len() + report.inventory.detections.len()
    );
}
