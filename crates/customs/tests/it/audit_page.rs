//! The audit report's page (`customs audit report -f html`) in headless Chromium with the
//! network blocked: the stylesheet applies (its CSP hash matches), every chart is drawn, each
//! bar as long as its value says, the figures are the JSON report's, and nothing is fetched.
//! It leaves a screenshot in `$CARGO_TARGET_TMPDIR/customs-audit-report.png`.

use std::path::Path;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::Value;

use crate::browser::{Driver, capabilities, severe_console, tool};

/// Open `page` and check it against `report` (the same store's JSON report).
pub(crate) fn check(page: &Path, report: &Value) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(check_in_browser(page, report));
}

async fn check_in_browser(page: &Path, report: &Value) {
    // As in customs-report's browser test: fantoccini's TLS stack needs a provider named.
    _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let chromium = tool("CHROMIUM", "/usr/bin/chromium", "chromium");
    let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");
    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::start(&chromedriver, &dir.path().join("chromedriver.log"));
    let c = ClientBuilder::rustls()
        .unwrap()
        .capabilities(capabilities(&chromium, &dir.path().join("profile")))
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("no WebDriver session from {}: {e}", chromedriver.display()));
    c.goto(&format!("file://{}", page.display())).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#chart-share"))
        .await
        .expect("the page has no share chart");
    let js = |script: &'static str| {
        let c = &c;
        async move { c.execute(script, vec![]).await.unwrap() }
    };

    // The stylesheet applied: its hash matched the CSP.
    assert_eq!(
        js("return getComputedStyle(document.querySelector('rect.bar.serious')).fill;").await,
        "rgb(198, 40, 40)"
    );
    // Every chart drawn, and every bar as wide as its value within its chart's largest.
    let charts = js(
        "return Array.from(document.querySelectorAll('svg.chart')).map(s => { \
         const box = s.getBoundingClientRect(); \
         return {id: s.id, w: box.width, h: box.height, max: Number(s.dataset.max), \
           bars: Array.from(s.querySelectorAll('g[data-name]')).map(g => ({ \
             name: g.dataset.name, \
             total: Number(g.dataset.total), \
             rects: Array.from(g.querySelectorAll('rect.bar')).map(r => ({ \
               value: Number(r.dataset.value), w: r.getBoundingClientRect().width, \
               cls: r.getAttribute('class')}))}))}; });",
    )
    .await;
    let charts = charts.as_array().unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "chart-share",
            "chart-age",
            "chart-base",
            "chart-origin",
            "chart-fixable",
            "chart-packages"
        ]
    );
    for chart in charts {
        let id = &chart["id"];
        assert!(chart["w"].as_f64().unwrap() > 100.0, "{chart}");
        assert!(chart["h"].as_f64().unwrap() > 10.0, "{chart}");
        let max = chart["max"].as_f64().unwrap();
        for bar in chart["bars"].as_array().unwrap() {
            for r in bar["rects"].as_array().unwrap() {
                let value = r["value"].as_f64().unwrap();
                let want = if max > 0.0 { value / max * 420.0 } else { 0.0 };
                let got = r["w"].as_f64().unwrap();
                assert!(
                    (got - want).abs() < 1.0,
                    "{id}: a bar of {value} (of {max}) is {got} px wide, not {want}"
                );
            }
        }
    }
    let bars = |id: &str| -> Vec<(String, Vec<u64>)> {
        charts.iter().find(|c| c["id"] == id).unwrap()["bars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["name"].as_str().unwrap().to_owned(),
                    b["rects"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r["value"].as_u64().unwrap())
                        .collect(),
                )
            })
            .collect()
    };
    // The figures are the report's.
    let permille =
        |p: &Value| (p["share_critical_or_high"].as_f64().unwrap() * 1000.0).round() as u64;
    let share = bars("chart-share");
    assert_eq!(share[0].1[0], permille(&report["all"]), "{share:?}");
    assert_eq!(share[1].1[0], permille(&report["current"]), "{share:?}");
    for (chart, key) in [("chart-age", "by_age"), ("chart-base", "by_base")] {
        let want: Vec<(String, Vec<u64>)> = report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let images = g["images"].as_u64().unwrap();
                let serious = g["with_critical_or_high"].as_u64().unwrap();
                (
                    g["name"].as_str().unwrap().to_owned(),
                    vec![serious, images - serious],
                )
            })
            .collect();
        assert_eq!(bars(chart), want, "{chart}");
    }
    let f = &report["findings"];
    let n = |k: &str| f[k].as_u64().unwrap();
    assert_eq!(
        bars("chart-origin")
            .into_iter()
            .map(|b| b.1[0])
            .collect::<Vec<_>>(),
        [n("from_base"), n("from_image"), n("unplaced")]
    );
    assert_eq!(
        bars("chart-fixable")
            .into_iter()
            .map(|b| b.1[0])
            .collect::<Vec<_>>(),
        [n("fixable"), n("not_fixable"), n("kev")]
    );
    let rows =
        js("return document.querySelectorAll('#images tbody tr[data-digest]').length;").await;
    assert_eq!(rows, report["images"].as_array().unwrap().len());

    // Nothing was fetched; nothing was blocked or broken.
    assert_eq!(
        js("return performance.getEntriesByType('resource').length;").await,
        0
    );
    assert_eq!(js("return document.scripts.length;").await, 0);
    let severe = severe_console(&c).await;
    assert!(severe.is_empty(), "{severe:#?}");

    let png = c.screenshot().await.unwrap();
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("customs-audit-report.png");
    std::fs::write(&shot, png).unwrap();
    c.close().await.unwrap();
    drop(driver);
}
