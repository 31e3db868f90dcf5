//! The HTML report in a real browser: headless Chromium driven over WebDriver, with the network
//! blocked. It proves what a string test cannot: the CSP hashes let the page's own style and
//! script run (the table is drawn by the script, the layout by the stylesheet), nothing is
//! fetched, and sorting and filtering work when a person clicks and types.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`;
//! override with `CHROMIUM` and `CHROMEDRIVER`). Without them the test fails: it never skips.
//! It leaves a screenshot in `$CARGO_TARGET_TMPDIR/customs-report.png`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use customs_catalog::Inventory;
use customs_match::{Coverage, CoverageSource, Finding};
use customs_report::{DatabaseInfo, DocOptions, Filter, ScanReport, html};
use customs_types::{Ecosystem, Feed, Namespace, Severity, Timestamp};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::browser::{Driver, capabilities, severe_console, tool};

/// A title no browser may run: it must appear in the table as text.
const HOSTILE: &str = "</script><script>alert(1)</script><img src=x onerror=alert(2)>";

/// The scan shown. Invented for this UI test (see `fixtures/ui-scan.py`): real Debian bookworm
/// packages and CVEs, made-up digests and scores; no vulnerability database is behind it.
pub(crate) fn report() -> ScanReport {
    #[derive(serde::Deserialize)]
    struct Fixture {
        inventory: Inventory,
        findings: Vec<Finding>,
    }
    let mut f: Fixture = serde_json::from_str(include_str!("../fixtures/ui-scan.json")).unwrap();
    let t = f
        .findings
        .iter_mut()
        .find(|f| f.id == "CVE-2024-13176")
        .unwrap();
    t.title = Some(format!("openssl: Timing side-channel {HOSTILE}"));
    // Secrets, config and file detections of every kind, one on a hostile file name.
    f.inventory.detections = crate::detections::planted();
    f.inventory.inspected = Some(crate::detections::inspected());
    let debian: Namespace = "debian:12".parse().unwrap();
    let newest = Timestamp::from_unix_secs(1_707_518_467);
    ScanReport {
        inventory: f.inventory,
        findings: f.findings,
        namespaces: vec![debian.clone()],
        database: DatabaseInfo {
            path: PathBuf::from("/var/cache/customs/vuln.db"),
            built_at: Some(Timestamp::from_unix_secs(1_707_544_800)),
            newest_advisory: Some(newest),
            empty: false,
        },
        match_warnings: vec![],
        withdrawn: Default::default(),
        coverage: vec![
            Coverage {
                ecosystem: Ecosystem::Deb,
                packages: 9,
                sources: vec![CoverageSource {
                    namespace: debian,
                    feed: Feed::DebianCveList,
                    newest: Some(newest),
                }],
            },
            Coverage {
                ecosystem: Ecosystem::PyPI,
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

/// The findings table's rows as (id, severity, fixable, suppressed, fixed-in text).
async fn rows(c: &Client) -> Vec<(String, String, bool, bool, String)> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('#findings-body tr[data-id]')).map(r => \
             [r.dataset.id, r.dataset.severity, r.dataset.fixable === 'true', \
              r.dataset.suppressed === 'true', r.querySelector('.col-fixed').textContent]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

fn rank(severity: &str) -> usize {
    Severity::ALL
        .iter()
        .position(|s| s.as_str() == severity)
        .unwrap_or_else(|| panic!("not a severity: {severity}"))
}

async fn aria_sort(c: &Client, column: &str) -> String {
    c.find(Locator::Css(&format!("th[data-sort='{column}']")))
        .await
        .unwrap()
        .attr("aria-sort")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "current_thread")]
async fn the_report_works_in_chromium_without_the_network() {
    // fantoccini's client builder makes a TLS configuration even for chromedriver's plain
    // HTTP. Its hyper-rustls brings aws-lc-rs, customs' provider, and `ring` is not in the
    // graph (`cargo tree -i ring -e all --target all`); naming the provider keeps this test
    // from panicking should a dependency ever add `ring` as a second one.
    _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let chromium = tool("CHROMIUM", "/usr/bin/chromium", "chromium");
    let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");

    let report = report();
    let opts = DocOptions {
        created: Timestamp::from_unix_secs(1_707_724_800),
        tool_version: "0.1.0".to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::render(&report, &Filter::default(), &opts)).unwrap();
    let profile = dir.path().join("profile");

    let driver = Driver::start(&chromedriver, &dir.path().join("chromedriver.log"));
    let c = ClientBuilder::rustls()
        .unwrap()
        .capabilities(capabilities(&chromium, &profile))
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("no WebDriver session from {}: {e}", chromedriver.display()));
    c.goto(&format!("file://{}", page.display())).await.unwrap();
    // The script marks the body once it drew the table: it ran, so its hash matched.
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("body[data-ready='true']"))
        .await
        .expect("the report's script never ran: is its CSP hash wrong?");
    // Any violation from here on (while sorting and filtering) is counted.
    js(
        &c,
        "window.cspViolations = []; document.addEventListener('securitypolicyviolation', \
         e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
    )
    .await;

    // The stylesheet applied, so its hash matched too.
    let gap_border = js(
        &c,
        "return getComputedStyle(document.getElementById('gaps')).borderLeftWidth;",
    )
    .await;
    assert_eq!(gap_border, "8px");
    assert_eq!(
        js(
            &c,
            "return document.querySelector('#gaps li').dataset.ecosystem;"
        )
        .await,
        "pypi"
    );

    // The static summary says what the report says.
    for sev in Severity::ALL {
        let want = report.open().filter(|f| f.severity == sev).count();
        let got = c
            .find(Locator::Css(&format!(
                "#severity-summary tr[data-severity='{sev}'] td.count"
            )))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(got, want.to_string(), "{sev}");
    }
    let text_of = |css: &'static str| {
        let c = &c;
        async move {
            c.find(Locator::Css(css))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        text_of("#count-open").await,
        report.open().count().to_string()
    );
    assert_eq!(
        text_of("#count-suppressed").await,
        report.suppressed().count().to_string()
    );
    assert_eq!(
        text_of("#image-name").await,
        "registry.example/shop/api:2.4.1"
    );

    // The table: open findings, worst first.
    let initial = rows(&c).await;
    assert_eq!(initial.len(), report.open().count());
    assert!(initial.iter().all(|r| !r.3));
    assert!(initial.windows(2).all(|w| rank(&w[0].1) >= rank(&w[1].1)));
    assert_eq!(aria_sort(&c, "severity").await, "descending");

    // By id, then by severity: critical first; again: reversed.
    click(&c, "th[data-sort='id'] button").await;
    let by_id: Vec<String> = rows(&c).await.into_iter().map(|r| r.0).collect();
    assert_eq!(by_id.first().map(String::as_str), Some("CVE-2023-4911"));
    assert_eq!(by_id.last().map(String::as_str), Some("CVE-2024-13176"));
    assert_eq!(aria_sort(&c, "id").await, "ascending");
    click(&c, "th[data-sort='severity'] button").await;
    let worst_first = rows(&c).await;
    assert_eq!(worst_first[0].1, "critical");
    assert!(
        worst_first
            .windows(2)
            .all(|w| rank(&w[0].1) >= rank(&w[1].1))
    );
    assert_eq!(aria_sort(&c, "severity").await, "descending");
    click(&c, "th[data-sort='severity'] button").await;
    let best_first = rows(&c).await;
    assert_eq!(best_first.last().unwrap().1, "critical");
    assert!(
        best_first
            .windows(2)
            .all(|w| rank(&w[0].1) <= rank(&w[1].1))
    );
    assert_eq!(aria_sort(&c, "severity").await, "ascending");
    assert_eq!(aria_sort(&c, "id").await, "none");

    // A CVE id leaves exactly its rows: the two binary packages of openssl.
    let filter = c.find(Locator::Id("filter-text")).await.unwrap();
    filter.send_keys("cve-2024-6119").await.unwrap();
    let matched = rows(&c).await;
    assert_eq!(matched.len(), 2, "{matched:?}");
    assert!(matched.iter().all(|r| r.0 == "CVE-2024-6119"));
    let packages = js(
        &c,
        "return Array.from(document.querySelectorAll('#findings-body tr')).map(r => r.dataset.package);",
    )
    .await;
    assert_eq!(packages, json!(["libssl3", "openssl"]));
    assert_eq!(
        c.find(Locator::Id("findings-count"))
            .await
            .unwrap()
            .attr("data-shown")
            .await
            .unwrap()
            .as_deref(),
        Some("2")
    );
    filter.clear().await.unwrap();
    // `clear` fires no input event; a keystroke does.
    filter.send_keys(" ").await.unwrap();
    assert_eq!(rows(&c).await.len(), report.open().count());

    // Fixable only: every row left has a fixed version.
    click(&c, "#filter-fixable").await;
    let fixable = rows(&c).await;
    assert_eq!(fixable.len(), report.open().filter(|f| f.fixable()).count());
    assert!(
        fixable.iter().all(|r| r.2 && !r.4.is_empty()),
        "{fixable:?}"
    );
    click(&c, "#filter-fixable").await;

    // Suppressed ones on request.
    click(&c, "#filter-suppressed").await;
    let all = rows(&c).await;
    assert_eq!(all.len(), report.findings.len());
    assert_eq!(
        all.iter().filter(|r| r.3).count(),
        report.suppressed().count()
    );
    click(&c, "#filter-suppressed").await;

    // At least high.
    c.find(Locator::Id("filter-severity"))
        .await
        .unwrap()
        .select_by_value("high")
        .await
        .unwrap();
    let high = rows(&c).await;
    assert_eq!(high.len(), 5);
    assert!(high.iter().all(|r| rank(&r.1) >= rank("high")));
    c.find(Locator::Id("filter-severity"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();

    // The detections: a row each, worst first, the evidence redacted and the hostile file
    // name as text.
    let detections = js(
        &c,
        "return Array.from(document.querySelectorAll('#detections-table tbody tr')).map(r => \
         [r.dataset.code, r.dataset.severity, r.querySelector('td.location').textContent, \
          r.querySelector('td.evidence').textContent]);",
    )
    .await;
    let detections: Vec<(String, String, String, String)> =
        serde_json::from_value(detections).unwrap();
    assert_eq!(detections.len(), report.inventory.detections.len());
    assert_eq!(
        detections[0],
        (
            "secret-aws-access-key".to_owned(),
            "critical".to_owned(),
            "layer 2 1601d59e5cf1 /srv/app/.env:3".to_owned(),
            "AWS_ACCESS_KEY_ID=********".to_owned()
        )
    );
    assert!(
        detections
            .windows(2)
            .all(|w| rank(&w[0].1) >= rank(&w[1].1))
    );
    let hostile = detections
        .iter()
        .find(|d| d.0 == "file-world-writable")
        .unwrap();
    assert_eq!(
        hostile.2,
        format!("layer 2 1601d59e5cf1 {}", crate::detections::HOSTILE_PATH)
    );
    // Laid out by the stylesheet: the table is drawn, its rows visible.
    assert_eq!(
        js(
            &c,
            "return document.querySelector('#detections-table tbody tr').getBoundingClientRect().height > 0;"
        )
        .await,
        true
    );
    assert_eq!(
        text_of("#secret-coverage").await,
        "The secret scanner read 1834 files (48.2 MB) in every layer, and the config's \
         environment and history; it skipped 212 binary files and 3 larger than its limit."
    );

    // The hostile title is text in its cell, and ran nothing.
    let title = js(
        &c,
        "return document.querySelector(\"#findings-body tr[data-id='CVE-2024-13176'] .col-title\").textContent;",
    )
    .await;
    assert_eq!(title, format!("openssl: Timing side-channel {HOSTILE}"));
    assert_eq!(
        js(
            &c,
            "return document.scripts.length + document.images.length;"
        )
        .await,
        2
    );
    assert!(c.get_alert_text().await.is_err(), "an alert is open");

    // Nothing was fetched, nothing was blocked.
    assert_eq!(
        js(
            &c,
            "return performance.getEntriesByType('resource').length;"
        )
        .await,
        0
    );
    assert_eq!(js(&c, "return window.cspViolations;").await, json!([]));
    // Chrome reports a blocked style or script as a SEVERE console entry ("… violates the
    // following Content Security Policy directive …"); the page should log nothing that bad.
    let severe = severe_console(&c).await;
    assert!(severe.is_empty(), "{severe:#?}");

    // For a person to look at: sorted worst first, as a reader first sees it.
    click(&c, "th[data-sort='severity'] button").await;
    filter.clear().await.unwrap();
    js(&c, "window.scrollTo(0, 0);").await;
    let png = c.screenshot().await.unwrap();
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("customs-report.png");
    std::fs::write(&shot, png).unwrap();

    c.close().await.unwrap();
    drop(driver);
}
