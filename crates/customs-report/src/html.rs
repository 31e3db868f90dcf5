//! One self-contained HTML page for a scan (`customs scan -o html`): a file to attach to a
//! ticket or open from a CI artifact, which shows the same findings as `-f json`.
//!
//! - **It fetches nothing.** The stylesheet (`src/html/report.css`) and the script
//!   (`src/html/report.js`) are inline, and a `Content-Security-Policy` in a `<meta>` allows
//!   exactly those two by their SHA-256 (`default-src 'none'`): no request leaves the page,
//!   and no script that an image smuggles into the data can run.
//! - **The data cannot break out.** The findings travel as JSON in
//!   `<script type="application/json" id="customs-data">` with `<`, `>`, `&`, U+2028 and
//!   U+2029 written as `\u` escapes, so no string from the image closes the tag; the script
//!   builds the table with `textContent`. Everything else is HTML-escaped text.
//! - **Readable without JavaScript.** The image, the database, the summary by severity, the
//!   coverage gaps and the layers are static HTML; a `<noscript>` table lists the findings.
//!   The script adds the findings table that sorts and filters.
//! - **Deterministic.** The same report and [`DocOptions`] give the same bytes: the database's
//!   age is counted to [`DocOptions::created`], not to now.
//!
//! The document holds the findings the reader's [`Filter`] shows, and the suppressed ones
//! among them whatever `show_suppressed` says: the page's "show suppressed" box starts as
//! the filter has it, and can then show them.
//!
//! Secret, config and file detections are a static section (`#detections`): each row's
//! severity, code, title, location (layer, path and line) and redacted evidence, with the
//! secret scanner's coverage; scanners that did not run are named before the summary
//! (`#not-scanned`), so that a page without findings of a kind does not read as clean of it.
//!
//! Elements tests (and users' scripts) can rely on: `#image-name`, `#signature[data-outcome]`,
//! `#policy[data-outcome]` (`li[data-code]` per violation, `[data-detection]` for a
//! detection's), `#gaps li[data-gap]`, `#not-scanned[data-scanners]`,
//! `#detections[data-count]` (`#detections-table tr[data-code][data-kind][data-severity]
//! [data-suppressed]`, `td.location`, `td.evidence`), `#secret-coverage[data-ran]`
//! (`[data-files][data-skipped-binary][data-skipped-large]`),
//! `#severity-summary tr[data-severity] td.count[data-count]`, `#count-open`,
//! `#count-suppressed`, `#count-fixable`, `#db-age[data-days]`, `#coverage tr[data-covered]`,
//! `#findings-table` (`th[data-sort]` headers with `aria-sort`, rows
//! `tr[data-id][data-severity][data-fixable][data-suppressed]`), `#findings-count[data-shown]`,
//! `#filter-text`, `#filter-severity`, `#filter-fixable`, `#filter-suppressed`,
//! `#layers-table tr#layer-N[data-layer]`; `body[data-ready]` once the script ran.

use std::fmt::{self, Write as _};

use base64::Engine as _;
use customs_catalog::Inventory;
use customs_match::Finding;
use customs_types::Severity;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::output::DocOptions;
use crate::report::{Filter, Gap, ScanReport, ShownDetection};

mod detections;
#[cfg(test)]
pub(crate) mod tests;

/// The page's script, inline and allowed by its hash.
const SCRIPT: &str = include_str!("html/report.js");
/// The page's stylesheet, inline and allowed by its hash.
const STYLE: &str = include_str!("html/report.css");

/// The column the findings table is first sorted by: worst first is what a reader looks for.
const FIRST_SORT: &str = "severity";

/// Severities worst first, as every table of the page lists them.
const WORST_FIRST: [Severity; 6] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Negligible,
    Severity::Unknown,
];

/// `created_by` longer than this is folded into a `<details>`: a `RUN` line can be a whole
/// shell script.
const CREATED_BY_FOLD: usize = 160;

/// The report as one HTML page. See the [module documentation](self).
#[must_use]
pub fn render(report: &ScanReport, filter: &Filter, opts: &DocOptions) -> String {
    let in_doc = Filter {
        show_suppressed: true,
        ..filter.clone()
    };
    let view = report.view(&in_doc);
    let page = Page {
        report,
        opts,
        findings: &view.shown,
        left_out: view.hidden,
        detections: &view.detections,
        detections_left_out: view.detections_hidden,
        summary: Summary::of(view.shown.iter().copied()),
    };
    let mut out = String::with_capacity(32 * 1024 + 600 * view.shown.len());
    page.write(&mut out, filter);
    out
}

/// The `Content-Security-Policy` the page carries: nothing but its own inline style and
/// script, each by hash. `base-uri` and `form-action` are listed because `default-src` does
/// not cover them.
#[must_use]
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    )
}

/// The CSP source expression's hash: base64 of the SHA-256 of the element's exact text.
#[must_use]
pub fn csp_hash(inline: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(inline.as_bytes()))
}

/// Counts over the findings a document shows; the page's summary and templates' `summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Open (not suppressed) findings per severity, indexed by [`rank`].
    pub(crate) open: [usize; 6],
    /// Suppressed findings, of any severity.
    pub(crate) suppressed: usize,
    /// Open findings with a fixed version.
    pub(crate) fixable: usize,
    /// Open findings in CISA's KEV catalog.
    pub(crate) kev: usize,
}

impl Summary {
    pub(crate) fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut s = Self::default();
        for f in findings {
            if f.suppressed.is_some() {
                s.suppressed += 1;
                continue;
            }
            s.open[rank(f.severity)] += 1;
            s.fixable += usize::from(f.fixable());
            s.kev += usize::from(f.kev.is_some());
        }
        s
    }

    pub(crate) fn open_total(&self) -> usize {
        self.open.iter().sum()
    }

    /// The counts as the template context's `summary` object: one key per severity, then
    /// `open`, `suppressed`, `fixable`, `kev`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for s in WORST_FIRST {
            m.insert(s.as_str().to_owned(), self.open[rank(s)].into());
        }
        m.insert("open".to_owned(), self.open_total().into());
        m.insert("suppressed".to_owned(), self.suppressed.into());
        m.insert("fixable".to_owned(), self.fixable.into());
        m.insert("kev".to_owned(), self.kev.into());
        serde_json::Value::Object(m)
    }
}

/// 0 for unknown to 5 for critical: the order `Severity` compares in.
pub(crate) fn rank(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// Text made safe for HTML content and quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// JSON for a `<script type="application/json">` element: the characters that could end the
/// element or start a comment (`<`, `>`, `&`) and the two that old JavaScript parsers took for
/// line ends become `\u` escapes. They only occur inside strings, where the escape means the
/// same character, so the JSON parses to the same value.
fn script_json(value: &impl Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// One finding as the script reads it: what the table shows and sorts by, nothing more (the
/// full record is in `customs scan -f json`).
#[derive(Serialize)]
struct Row<'a> {
    /// Position in report order: the sort's tie-breaker.
    order: usize,
    id: &'a str,
    aliases: &'a [String],
    package: &'a str,
    version: &'a str,
    severity: Severity,
    status: &'static str,
    fixed: &'a [String],
    fixable: bool,
    suppressed: Option<String>,
    epss: Option<f64>,
    epss_percentile: Option<f64>,
    kev: bool,
    cvss: Option<f64>,
    title: Option<&'a str>,
    layer: Option<usize>,
}

/// The `#customs-data` object.
#[derive(Serialize)]
struct Data<'a> {
    sort: &'static str,
    show_suppressed: bool,
    findings: Vec<Row<'a>>,
}

struct Page<'a> {
    report: &'a ScanReport,
    opts: &'a DocOptions,
    findings: &'a [&'a Finding],
    left_out: usize,
    detections: &'a [ShownDetection<'a>],
    detections_left_out: usize,
    summary: Summary,
}

// Writing to a String cannot fail: the `_ =` on every `write!` below says so.
impl Page<'_> {
    fn write(&self, out: &mut String, filter: &Filter) {
        let inv = &self.report.inventory;
        let title = image_name(inv);
        _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"customs {version}\">\n\
             <title>customs scan: {title}</title>\n\
             <link rel=\"icon\" href=\"data:,\">\n<style>{STYLE}</style>\n</head>\n<body>\n",
            csp = content_security_policy(),
            version = Esc(&self.opts.tool_version),
            title = Esc(&title),
        );
        self.header(out, &title);
        self.signature(out);
        self.policy(out);
        self.gaps(out);
        self.not_scanned(out);
        self.summary(out);
        self.database(out);
        self.findings(out, filter);
        self.detections(out);
        self.layers(out);
        _ = writeln!(
            out,
            "<footer>Written by customs {} on {}. This page loads nothing from the network; \
             <code>customs scan -f json</code> gives every field of the findings.</footer>",
            Esc(&self.opts.tool_version),
            self.opts.created_rfc3339(),
        );
        _ = write!(
            out,
            "<script type=\"application/json\" id=\"customs-data\">{}</script>\n\
             <script>{SCRIPT}</script>\n</body>\n</html>\n",
            script_json(&self.data(filter)),
        );
    }

    fn data(&self, filter: &Filter) -> Data<'_> {
        Data {
            sort: FIRST_SORT,
            show_suppressed: filter.show_suppressed,
            findings: self
                .findings
                .iter()
                .enumerate()
                .map(|(order, f)| Row {
                    order,
                    id: &f.id,
                    aliases: &f.aliases,
                    package: &f.package.name,
                    version: &f.package.version,
                    severity: f.severity,
                    status: f.status.as_str(),
                    fixed: &f.fixed_versions,
                    fixable: f.fixable(),
                    suppressed: f.suppressed.as_ref().map(ToString::to_string),
                    epss: f.epss.map(|e| e.probability),
                    epss_percentile: f.epss.map(|e| e.percentile),
                    kev: f.kev.is_some(),
                    cvss: f.cvss.as_ref().and_then(|c| c.score),
                    title: f.title.as_deref(),
                    layer: f.package.layer_index,
                })
                .collect(),
        }
    }

    fn header(&self, out: &mut String, title: &str) {
        let inv = &self.report.inventory;
        let image = inv.image.as_ref();
        let digest = image
            .and_then(|i| i.manifest_digest.as_ref().or(i.config_digest.as_ref()))
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        let distro = inv.distro.as_ref().map_or_else(
            || "none found".to_owned(),
            |d| {
                d.pretty_name.clone().unwrap_or_else(|| {
                    format!("{} {}", d.id, d.version_id.as_deref().unwrap_or(""))
                })
            },
        );
        _ = write!(
            out,
            "<header id=\"image\">\n<p class=\"muted\">customs scan report</p>\n\
             <h1 id=\"image-name\">{}</h1>\n<dl class=\"facts\">\n\
             <dt>Digest</dt><dd class=\"digest\" id=\"image-digest\">{}</dd>\n\
             <dt>Distribution</dt><dd id=\"image-distro\">{}</dd>\n",
            Esc(title),
            Esc(&digest),
            Esc(&distro),
        );
        if let Some(i) = image {
            let platform = [i.os.as_deref(), i.architecture.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/");
            _ = write!(
                out,
                "<dt>Platform</dt><dd>{}</dd>\n<dt>Image created</dt><dd id=\"image-created\">{}</dd>\n\
                 <dt>Layers</dt><dd>{}</dd>\n",
                Esc(&platform),
                Esc(i.created.as_deref().unwrap_or("not recorded")),
                i.layers.len(),
            );
        }
        let mut per_ecosystem = std::collections::BTreeMap::new();
        for p in &inv.packages {
            *per_ecosystem.entry(p.ecosystem.label()).or_insert(0_usize) += 1;
        }
        let per: Vec<String> = per_ecosystem
            .iter()
            .map(|(e, n)| format!("{n} {e}"))
            .collect();
        _ = write!(
            out,
            "<dt>Packages</dt><dd id=\"image-packages\">{} ({})</dd>\n\
             <dt>Read from</dt><dd>{}</dd>\n</dl>\n</header>\n",
            inv.packages.len(),
            Esc(&per.join(", ")),
            inv.source.kind,
        );
    }

    /// The trust policy's verdict, when the scan was asked for one: in red unless it passed.
    fn signature(&self, out: &mut String) {
        let Some(v) = &self.report.signature else {
            return;
        };
        let class = if v.outcome == crate::report::Outcome::Pass {
            "signature"
        } else {
            "signature gaps"
        };
        _ = write!(
            out,
            "<section id=\"signature\" class=\"{class}\" data-outcome=\"{}\">\n<h2>Signature</h2>\n\
             <p>{}</p>\n<p class=\"digest\">{}</p>\n<ul>\n",
            v.outcome.as_str(),
            Esc(&v.summary()),
            Esc(&v.digest),
        );
        for a in v.authority_lines() {
            _ = writeln!(out, "<li>{}</li>", Esc(&a));
        }
        out.push_str("</ul>\n</section>\n");
    }

    /// The gate's verdict, when the scan was asked for one: each violation, and the
    /// exceptions that applied or expired; in red unless it passed.
    fn policy(&self, out: &mut String) {
        let Some(v) = &self.report.policy else {
            return;
        };
        let class = if v.outcome == customs_policy::Outcome::Pass {
            "signature"
        } else {
            "signature gaps"
        };
        _ = write!(
            out,
            "<section id=\"policy\" class=\"{class}\" data-outcome=\"{}\">\n<h2>Policy</h2>\n\
             <p>{}: {} ({} violations, {} exceptions applied, {} expired)</p>\n<ul>\n",
            v.outcome.as_str(),
            v.outcome.as_str(),
            Esc(&v.policy),
            v.violations.len(),
            v.exceptions.len() + v.detection_exceptions.len(),
            v.expired.len() + v.detection_expired.len()
        );
        for x in &v.violations {
            _ = writeln!(
                out,
                "<li data-code=\"{}\"{}>{}: {}</li>",
                x.code.as_str(),
                x.detection
                    .as_deref()
                    .map(|d| format!(" data-detection=\"{}\"", Esc(d)))
                    .unwrap_or_default(),
                Esc(&x.rule),
                Esc(&x.detail)
            );
        }
        for e in &v.detection_exceptions {
            _ = writeln!(
                out,
                "<li data-code=\"exception\">exception for {} by {}{}: {} ({} detection{})</li>",
                Esc(&e.code),
                Esc(&e.owner),
                e.expires
                    .as_deref()
                    .map(|d| format!(" until {}", Esc(d)))
                    .unwrap_or_default(),
                Esc(&e.reason),
                e.detections.len(),
                plural(e.detections.len())
            );
        }
        for e in &v.exceptions {
            _ = writeln!(
                out,
                "<li data-code=\"exception\">exception for {} by {}{}: {}</li>",
                Esc(&e.vulnerability),
                Esc(&e.owner),
                e.expires
                    .as_deref()
                    .map(|d| format!(" until {}", Esc(d)))
                    .unwrap_or_default(),
                Esc(&e.reason)
            );
        }
        out.push_str("</ul>\n</section>\n");
    }

    /// What the scan could not judge, first and in red: a reader who sees no findings must
    /// also see that some packages were never checked.
    fn gaps(&self, out: &mut String) {
        let gaps = self.report.gaps(&[]);
        if gaps.is_empty() {
            return;
        }
        out.push_str(
            "<section id=\"gaps\" class=\"gaps\">\n\
             <h2>Not checked: this report cannot call these packages clean</h2>\n<ul>\n",
        );
        for gap in &gaps {
            match gap {
                Gap::EmptyDatabase => out.push_str(
                    "<li data-gap=\"empty-database\">The vulnerability database holds no \
                     advisories: <strong>nothing was matched</strong>.</li>\n",
                ),
                Gap::NotCovered {
                    ecosystem,
                    packages,
                } => {
                    _ = writeln!(
                        out,
                        "<li data-gap=\"not-covered\" data-ecosystem=\"{}\">No advisory data for \
                         <strong>{}</strong>: {packages} package{} went unchecked.</li>",
                        ecosystem.as_str(),
                        ecosystem.label(),
                        plural(*packages),
                    );
                }
                Gap::Unsupported { kind, packages } => {
                    _ = writeln!(
                        out,
                        "<li data-gap=\"unsupported\" data-kind=\"{}\">customs has no ecosystem \
                         for <strong>{}</strong> packages: {packages} package{} went unchecked.</li>",
                        Esc(kind),
                        Esc(kind),
                        plural(*packages),
                    );
                }
            }
        }
        out.push_str("</ul>\n</section>\n");
    }

    fn summary(&self, out: &mut String) {
        let s = &self.summary;
        let max = s.open.iter().copied().max().unwrap_or(0).max(1);
        out.push_str(
            "<section id=\"summary\">\n<h2>Summary</h2>\n<table id=\"severity-summary\">\n\
             <thead><tr><th>Severity</th><th class=\"num\">Findings</th><th></th></tr></thead>\n<tbody>\n",
        );
        for sev in WORST_FIRST {
            let n = s.open[rank(sev)];
            _ = writeln!(
                out,
                "<tr data-severity=\"{sev}\"><td><span class=\"sev sev-{sev}\">{sev}</span></td>\
                 <td class=\"count\" data-count=\"{n}\">{n}</td>\
                 <td><meter min=\"0\" max=\"{max}\" value=\"{n}\">{n}</meter></td></tr>",
            );
        }
        let open = s.open_total();
        _ = write!(
            out,
            "</tbody>\n<tfoot><tr><th>Total</th><td class=\"count\" id=\"count-open\" data-count=\"{open}\">{open}</td><td></td></tr></tfoot>\n</table>\n\
             <p><span id=\"count-fixable\" data-count=\"{fixable}\">{fixable}</span> of them can be fixed by upgrading; \
             <span id=\"count-kev\" data-count=\"{kev}\">{kev}</span> {kev_verb} exploited in the wild (CISA KEV). \
             <span id=\"count-suppressed\" data-count=\"{sup}\">{sup}</span> more {sup_verb} suppressed by the vendor's \
             verdict (not affected, won't fix, unimportant) and not counted above.</p>\n",
            fixable = s.fixable,
            kev = s.kev,
            kev_verb = if s.kev == 1 { "is" } else { "are" },
            sup = s.suppressed,
            sup_verb = if s.suppressed == 1 { "is" } else { "are" },
        );
        if self.left_out > 0 {
            _ = writeln!(
                out,
                "<p class=\"warn\" id=\"count-left-out\" data-count=\"{n}\">{n} finding{s} left out \
                 of this report by its filter (<code>--only-fixed</code>, <code>--severity</code>).</p>",
                n = self.left_out,
                s = plural(self.left_out),
            );
        }
        out.push_str("</section>\n");
    }

    fn database(&self, out: &mut String) {
        let db = &self.report.database;
        let when = |t: Option<customs_types::Timestamp>| {
            t.map_or_else(|| "not recorded".to_owned(), crate::output::rfc3339_secs)
        };
        _ = write!(
            out,
            "<section id=\"database\">\n<h2>Vulnerability database</h2>\n<dl class=\"facts\">\n\
             <dt>File</dt><dd><code>{}</code></dd>\n<dt>Built</dt><dd>{}</dd>\n\
             <dt>Newest advisory</dt><dd>{}</dd>\n",
            Esc(&db.path.display().to_string()),
            when(db.built_at),
            when(db.newest_advisory),
        );
        if let Some(newest) = db.newest_advisory.or(db.built_at) {
            let days = newest.days_until(self.opts.created);
            _ = writeln!(
                out,
                "<dt>Age</dt><dd id=\"db-age\" data-days=\"{days}\">{days} day{} when this report was written</dd>",
                plural(usize::try_from(days).unwrap_or(0)),
            );
        }
        let namespaces: Vec<&str> = self
            .report
            .namespaces
            .iter()
            .map(customs_types::Namespace::as_str)
            .collect();
        _ = writeln!(
            out,
            "<dt>Namespaces</dt><dd>{}</dd>\n</dl>",
            if namespaces.is_empty() {
                "none for this image's distribution".to_owned()
            } else {
                Esc(&namespaces.join(", ")).to_string()
            }
        );
        if let Some((days, newest)) = db.stale_days(self.opts.created) {
            _ = writeln!(
                out,
                "<p class=\"warn\" id=\"db-stale\">The vulnerability data is {days} days old (newest \
                 advisory {}): run <code>customs db update</code> for current data.</p>",
                newest.date(),
            );
        }
        out.push_str(
            "<h3>Coverage</h3>\n<table id=\"coverage\">\n<thead><tr><th>Ecosystem</th><th class=\"num\">Packages</th>\
             <th>Advisory data</th><th>Newest record</th></tr></thead>\n<tbody>\n",
        );
        for c in &self.report.coverage {
            let covered = c.covered() && !db.empty;
            let sources = if covered {
                let s: Vec<String> = c
                    .sources
                    .iter()
                    .map(|s| format!("{} ({})", s.namespace, s.feed))
                    .collect();
                Esc(&s.join(", ")).to_string()
            } else {
                "<strong>none: not checked</strong>".to_owned()
            };
            _ = writeln!(
                out,
                "<tr data-ecosystem=\"{eco}\" data-covered=\"{covered}\"{class}><td>{label}</td>\
                 <td class=\"num\">{n}</td><td>{sources}</td><td>{newest}</td></tr>",
                eco = c.ecosystem.as_str(),
                class = if covered { "" } else { " class=\"uncovered\"" },
                label = c.ecosystem.label(),
                n = c.packages,
                newest = c.newest().map_or_else(String::new, |t| t.date()),
            );
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }

    fn findings(&self, out: &mut String, filter: &Filter) {
        out.push_str(
            "<section id=\"findings-section\">\n<h2>Findings</h2>\n<div id=\"findings-app\" hidden>\n\
             <div class=\"controls\">\n\
             <input type=\"search\" id=\"filter-text\" placeholder=\"Filter by id, package or title\" \
             aria-label=\"Filter by id, package or title\">\n\
             <label>Severity at least <select id=\"filter-severity\"><option value=\"\">any</option>",
        );
        for sev in WORST_FIRST {
            _ = write!(out, "<option value=\"{sev}\">{sev}</option>");
        }
        _ = write!(
            out,
            "</select></label>\n\
             <label><input type=\"checkbox\" id=\"filter-fixable\"{}> Fixable only</label>\n\
             <label><input type=\"checkbox\" id=\"filter-suppressed\"> Show suppressed</label>\n\
             <span id=\"findings-count\" aria-live=\"polite\"></span>\n</div>\n",
            if filter.only_fixed { " checked" } else { "" },
        );
        out.push_str("<table id=\"findings-table\">\n<thead><tr>");
        for (key, label, class) in [
            ("id", "ID", ""),
            ("package", "Package", ""),
            ("severity", "Severity", ""),
            ("status", "Status", ""),
            ("fixed", "Fixed in", ""),
            ("epss", "EPSS", " class=\"num\""),
            ("layer", "Layer", " class=\"num\""),
        ] {
            _ = write!(
                out,
                "<th data-sort=\"{key}\"{class}><button type=\"button\">{label}</button></th>"
            );
        }
        out.push_str(
            "<th>Title</th></tr></thead>\n<tbody id=\"findings-body\"></tbody>\n</table>\n</div>\n",
        );
        self.static_findings(out);
        out.push_str("</section>\n");
    }

    /// The findings for a reader without JavaScript, worst first.
    fn static_findings(&self, out: &mut String) {
        let mut sorted: Vec<&Finding> = self.findings.to_vec();
        sorted.sort_by_key(|f| (f.suppressed.is_some(), std::cmp::Reverse(f.severity)));
        out.push_str(
            "<noscript>\n<p>Sorting and filtering need JavaScript; here is every finding, worst first.</p>\n\
             <table id=\"findings-static\">\n<thead><tr><th>ID</th><th>Package</th><th>Severity</th>\
             <th>Status</th><th>Fixed in</th><th class=\"num\">EPSS</th><th class=\"num\">Layer</th>\
             <th>Title</th></tr></thead>\n<tbody>\n",
        );
        for f in sorted {
            let status = match &f.suppressed {
                Some(s) => format!("{} (suppressed: {s})", f.status.as_str()),
                None => f.status.as_str().to_owned(),
            };
            _ = writeln!(
                out,
                "<tr{class}><td class=\"col-id\">{id}{kev}</td><td>{name} <span class=\"version\">{version}</span></td>\
                 <td><span class=\"sev sev-{sev}\">{sev}</span></td><td>{status}</td><td class=\"col-fixed\">{fixed}</td>\
                 <td class=\"num\">{epss}</td><td class=\"num\">{layer}</td><td class=\"col-title\">{title}</td></tr>",
                class = if f.suppressed.is_some() {
                    " class=\"suppressed\""
                } else {
                    ""
                },
                id = Esc(&f.id),
                kev = if f.kev.is_some() {
                    " <span class=\"kev\">KEV</span>"
                } else {
                    ""
                },
                name = Esc(&f.package.name),
                version = Esc(&f.package.version),
                sev = f.severity,
                status = Esc(&status),
                fixed = Esc(&f.fixed_versions.join("\n")),
                epss = f
                    .epss
                    .map_or_else(String::new, |e| format!("{:.2}%", e.probability * 100.0)),
                layer = f
                    .package
                    .layer_index
                    .map_or_else(String::new, |l| l.to_string()),
                title = Esc(f.title.as_deref().unwrap_or("")),
            );
        }
        out.push_str("</tbody>\n</table>\n</noscript>\n");
    }

    /// Each layer with the build step that made it, the packages it brought and their
    /// findings: which line of the Dockerfile to change.
    fn layers(&self, out: &mut String) {
        let inv = &self.report.inventory;
        out.push_str("<section id=\"layers\">\n<h2>Layers</h2>\n");
        let Some(image) = &inv.image else {
            out.push_str(
                "<p>The source has no layers (a directory or an SBOM): every package is \
                 counted as one layer's.</p>\n</section>\n",
            );
            return;
        };
        // The config's history lists every build step; only those without `empty_layer`
        // made a layer, in layer order (OCI image spec, "history").
        let mut steps = image
            .config
            .history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.as_deref());
        out.push_str(
            "<table id=\"layers-table\">\n<thead><tr><th class=\"num\">#</th><th>diff_id</th>\
             <th>Created by</th><th>Packages introduced</th><th>Findings</th></tr></thead>\n<tbody>\n",
        );
        for layer in &image.layers {
            let index = layer.layer.index;
            let step = steps.next().flatten();
            let packages: Vec<_> = inv
                .packages
                .iter()
                .filter(|p| p.layer_index == Some(index))
                .collect();
            let summary = Summary::of(
                self.findings
                    .iter()
                    .copied()
                    .filter(|f| f.package.layer_index == Some(index)),
            );
            _ = write!(
                out,
                "<tr id=\"layer-{index}\" data-layer=\"{index}\" data-packages=\"{}\" data-findings=\"{}\">\
                 <td class=\"num\">{index}</td>",
                packages.len(),
                summary.open_total(),
            );
            match &layer.layer.diff_id {
                Some(d) => _ = write!(out, "<td class=\"digest\" title=\"{d}\">{}", d.short()),
                None => out.push_str("<td class=\"muted\">none"),
            }
            if let Some(size) = layer.layer.size {
                _ = write!(out, "<br><span class=\"muted\">{}</span>", human_size(size));
            }
            out.push_str("</td><td class=\"created-by\">");
            match step {
                Some(s) if s.chars().count() > CREATED_BY_FOLD => {
                    let head: String = s.chars().take(CREATED_BY_FOLD).collect();
                    _ = write!(
                        out,
                        "<details><summary><code>{}…</code></summary><code>{}</code></details>",
                        Esc(&head),
                        Esc(s)
                    );
                }
                Some(s) => _ = write!(out, "<code>{}</code>", Esc(s)),
                None => out.push_str("<span class=\"muted\">not recorded</span>"),
            }
            out.push_str("</td><td>");
            if packages.is_empty() {
                out.push_str("<span class=\"muted\">none</span>");
            } else {
                _ = write!(
                    out,
                    "<details><summary>{} package{}</summary><ul class=\"packages\">",
                    packages.len(),
                    plural(packages.len())
                );
                for p in &packages {
                    _ = write!(
                        out,
                        "<li>{} <span class=\"version\">{}</span></li>",
                        Esc(&p.name),
                        Esc(&p.version)
                    );
                }
                out.push_str("</ul></details>");
            }
            out.push_str("</td><td>");
            self.severity_badges(out, &summary);
            out.push_str("</td></tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        let unattributed = inv
            .packages
            .iter()
            .filter(|p| {
                p.layer_index
                    .is_none_or(|i| !image.layers.iter().any(|l| l.layer.index == i))
            })
            .count();
        if unattributed > 0 {
            _ = writeln!(
                out,
                "<p class=\"muted\" id=\"layers-unattributed\">{unattributed} package{} could not \
                 be attributed to a layer.</p>",
                plural(unattributed)
            );
        }
        out.push_str("</section>\n");
    }

    fn severity_badges(&self, out: &mut String, s: &Summary) {
        if s.open_total() == 0 && s.suppressed == 0 {
            out.push_str("<span class=\"muted\">none</span>");
            return;
        }
        for sev in WORST_FIRST {
            let n = s.open[rank(sev)];
            if n > 0 {
                _ = write!(
                    out,
                    "<span class=\"badge sev sev-{sev}\" data-severity=\"{sev}\">{n} {sev}</span>"
                );
            }
        }
        if s.suppressed > 0 {
            _ = write!(
                out,
                "<span class=\"badge muted\" data-severity=\"suppressed\">{} suppressed</span>",
                s.suppressed
            );
        }
    }
}

/// What the user named, with the tag a layout gave it.
fn image_name(inv: &Inventory) -> String {
    match &inv.source.tag {
        Some(tag) if !inv.source.reference.ends_with(tag.as_str()) => {
            format!("{} ({tag})", inv.source.reference)
        }
        _ => inv.source.reference.clone(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Bytes in decimal units, one decimal: what registries and `docker images` show.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    // Integer arithmetic keeps the text the same on every platform.
    let bytes = u128::from(bytes);
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >= 1000_u128.pow(u32::try_from(unit + 1).unwrap_or(0)) {
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} B");
    }
    let div = 1000_u128.pow(u32::try_from(unit).unwrap_or(0));
    let tenths = (bytes * 10 + div / 2) / div;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}
