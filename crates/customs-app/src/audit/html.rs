//! `customs audit report -f html`: the audit report as one page with SVG charts.
//!
//! Like the scan's page (`customs_report::html`) it fetches nothing: the charts are inline
//! SVG drawn here, the stylesheet is inline and allowed by its hash, and a
//! `Content-Security-Policy` with `default-src 'none'` forbids everything else. There is no
//! script at all, so nothing from the store (a repository or package name a stranger chose)
//! can run: every such string is HTML-escaped text. The same report gives the same bytes.
//!
//! Elements a reader's script (and the tests) can rely on: `svg.chart` with an `id` per chart
//! (`chart-share`, `chart-age`, `chart-base`, `chart-origin`, `chart-fixable`,
//! `chart-packages`); in them `rect.bar[data-value]` (one per drawn quantity, its width
//! proportional to `data-value` within the chart's `data-max`) inside `g[data-name]`; the
//! tables `#populations`, `#rebuilds` and `#images` (`tr[data-digest]`).

use std::fmt::Write as _;

use customs_report::html::{Esc, csp_hash};
use customs_types::Severity;

use super::report::{AuditReport, Group};

/// The page's stylesheet, inline and allowed by its hash.
const STYLE: &str = include_str!("report.css");

/// The drawing width of a chart's bars, in SVG user units.
const BAR_WIDTH: f64 = 420.0;
/// Where the bars start: room for the labels on their left.
const LABEL_WIDTH: f64 = 190.0;
/// One row of a bar chart.
const ROW: f64 = 26.0;

/// One bar of a chart: its segments (class, value, what it means) and the label on its left.
struct Bar {
    name: String,
    segments: Vec<(&'static str, usize, &'static str)>,
}

fn width(value: usize, max: usize) -> f64 {
    if max == 0 {
        return 0.0;
    }
    // Counts of images and findings stay far below 2^52: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    let w = value as f64 / max as f64 * BAR_WIDTH;
    (w * 10.0).round() / 10.0
}

/// A horizontal bar chart, each bar's segments stacked, scaled to the largest bar.
fn chart(out: &mut String, id: &str, title: &str, bars: &[Bar]) {
    let max = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.1).sum::<usize>())
        .max()
        .unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let _ = write!(
        out,
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" id=\"{id}\" data-max=\"{max}\" \
         role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {} {height}\" width=\"{}\" height=\"{height}\">",
        Esc(title),
        Esc(title),
        LABEL_WIDTH + BAR_WIDTH + 90.0,
        LABEL_WIDTH + BAR_WIDTH + 90.0,
    );
    if bars.is_empty() {
        let _ = write!(out, "<text x=\"0\" y=\"18\" class=\"label\">none</text>");
    }
    for (i, bar) in bars.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = ROW * i as f64 + 4.0;
        let total: usize = bar.segments.iter().map(|s| s.1).sum();
        let _ = write!(
            out,
            "<g data-name=\"{}\" data-total=\"{total}\"><text x=\"{}\" y=\"{}\" class=\"label\" \
             text-anchor=\"end\">{}</text>",
            Esc(&bar.name),
            LABEL_WIDTH - 8.0,
            y + 14.0,
            Esc(&shorten(&bar.name, 28)),
        );
        let mut x = LABEL_WIDTH;
        for (class, value, meaning) in &bar.segments {
            let w = width(*value, max);
            let _ = write!(
                out,
                "<rect class=\"bar {class}\" data-value=\"{value}\" x=\"{x:.1}\" y=\"{y}\" \
                 width=\"{w:.1}\" height=\"{}\"><title>{}: {value} {}</title></rect>",
                ROW - 8.0,
                Esc(&bar.name),
                Esc(meaning),
            );
            x += w;
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" class=\"value\">{}</text></g>",
            x + 6.0,
            y + 14.0,
            bar.segments
                .iter()
                .map(|s| s.1.to_string())
                .collect::<Vec<_>>()
                .join(" / ")
        );
    }
    out.push_str("</svg></figure>");
}

/// `s` cut to its last `max` characters after an ellipsis: a label must not run into its bar,
/// and the end of a name (`…/base:bookworm`) tells more than its registry (the full name is
/// in the bar's tooltip and the tables).
fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let tail: String = s.chars().skip(n - (max - 1)).collect();
    format!("…{tail}")
}

fn serious_bars(groups: &[Group]) -> Vec<Bar> {
    groups
        .iter()
        .map(|g| Bar {
            name: g.name.clone(),
            segments: vec![
                (
                    "serious",
                    g.with_critical_or_high,
                    "images with critical or high findings",
                ),
                (
                    "other",
                    g.images - g.with_critical_or_high.min(g.images),
                    "images without",
                ),
            ],
        })
        .collect()
}

impl AuditReport {
    /// The report as one HTML page: see the [module documentation](self).
    #[must_use]
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(16 * 1024 + self.images.len() * 400);
        let scope = self.prefix.as_deref().unwrap_or("every stored repository");
        let _ = write!(
            out,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Registry audit: {}</title><style>{STYLE}</style></head><body>\
             <h1>Registry audit</h1><p class=\"meta\">{} · generated {} · a tag is current \
             within {} days of its repository's newest build, or <code>latest</code>, or when \
             its image has no build date</p>",
            csp_hash(STYLE),
            Esc(scope),
            Esc(scope),
            self.generated_at,
            self.current_window_days,
        );
        if let Some(line) = self.findings_age() {
            let _ = write!(
                out,
                "<p id=\"findings-age\" class=\"meta\">{}</p>",
                Esc(&line)
            );
        }
        self.gaps_html(&mut out);
        self.populations_html(&mut out);
        let f = &self.findings;
        out.push_str("<h2>Images</h2><div class=\"charts\">");
        chart(
            &mut out,
            "chart-age",
            "Images by age, with critical or high findings",
            &serious_bars(&self.by_age),
        );
        chart(
            &mut out,
            "chart-base",
            "Images by base image, with critical or high findings",
            &serious_bars(&self.by_base),
        );
        out.push_str("</div><h2>Findings</h2>");
        let _ = write!(
            out,
            "<p>{} open findings: {} fixable, {} not; {} in KEV (in {} images).</p>\
             <div class=\"charts\">",
            f.open, f.fixable, f.not_fixable, f.kev, self.kev_images
        );
        chart(
            &mut out,
            "chart-origin",
            "Open findings by the layers that brought the package",
            &[
                Bar {
                    name: "base image".to_owned(),
                    segments: vec![("base", f.from_base, "findings")],
                },
                Bar {
                    name: "own layers".to_owned(),
                    segments: vec![("own", f.from_image, "findings")],
                },
                Bar {
                    name: "layer unknown".to_owned(),
                    segments: vec![("other", f.unplaced, "findings")],
                },
            ],
        );
        chart(
            &mut out,
            "chart-fixable",
            "Open findings with and without a fixed version",
            &[
                Bar {
                    name: "fixable".to_owned(),
                    segments: vec![("fixable", f.fixable, "findings")],
                },
                Bar {
                    name: "not fixable".to_owned(),
                    segments: vec![("other", f.not_fixable, "findings")],
                },
                Bar {
                    name: "in KEV".to_owned(),
                    segments: vec![("serious", f.kev, "findings")],
                },
            ],
        );
        chart(
            &mut out,
            "chart-packages",
            "Top packages by images with open findings",
            &self
                .top_packages
                .iter()
                .map(|p| Bar {
                    name: p.package.clone(),
                    segments: vec![("other", p.images, "images")],
                })
                .collect::<Vec<_>>(),
        );
        out.push_str("</div>");
        self.rebuilds_html(&mut out);
        self.images_html(&mut out);
        out.push_str("</body></html>\n");
        out
    }

    fn gaps_html(&self, out: &mut String) {
        let with: Vec<_> = self
            .images
            .iter()
            .filter(|r| !r.unchecked.is_empty())
            .collect();
        if with.is_empty() {
            return;
        }
        let _ = write!(
            out,
            "<section id=\"gaps\"><h2>Not checked</h2><p>{} of {} images hold packages that no \
             advisory data covered: they may have findings this report cannot show, so the \
             shares below are lower bounds.</p><ul>",
            with.len(),
            self.images.len()
        );
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for r in &with {
            for k in &r.unchecked {
                *kinds.entry(k.as_str()).or_insert(0) += 1;
            }
        }
        for (kind, images) in kinds {
            let _ = write!(
                out,
                "<li data-gap=\"{}\">{}: {images} images</li>",
                Esc(kind),
                Esc(kind)
            );
        }
        out.push_str("</ul></section>");
    }

    fn populations_html(&self, out: &mut String) {
        let (a, c) = (&self.all, &self.current);
        out.push_str(
            "<h2>All tags and current tags</h2><table id=\"populations\"><thead><tr><th></th>\
             <th>all tags</th><th>current tags</th></tr></thead><tbody>",
        );
        for (name, all, current) in self.population_rows() {
            let _ = write!(
                out,
                "<tr><th>{name}</th><td>{all}</td><td>{current}</td></tr>"
            );
        }
        out.push_str("</tbody></table>");
        // Shares as per-mille bars of a common 100 %: both populations on one scale.
        let permille = |x: f64| {
            let p = (x * 1000.0).round().clamp(0.0, 1000.0);
            // In 0..=1000 after the clamp.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let p = p as usize;
            p
        };
        let bar = |name: &str, share: f64| {
            let p = permille(share);
            Bar {
                name: name.to_owned(),
                segments: vec![
                    ("serious", p, "‰ of images with critical or high findings"),
                    ("other", 1000 - p, "‰ without"),
                ],
            }
        };
        out.push_str("<div class=\"charts\">");
        chart(
            out,
            "chart-share",
            "Share of images with critical or high findings (‰)",
            &[
                bar("all tags", a.share_critical_or_high),
                bar("current tags", c.share_critical_or_high),
            ],
        );
        out.push_str("</div>");
    }

    fn rebuilds_html(&self, out: &mut String) {
        out.push_str(
            "<h2>Rebuild list</h2><table id=\"rebuilds\"><thead><tr><th>image</th><th>tags</th>\
             <th>advice</th><th>fixes</th></tr></thead><tbody>",
        );
        if self.rebuilds.is_empty() {
            out.push_str("<tr><td colspan=\"4\">no rebuild or update fixes a finding</td></tr>");
        }
        for r in &self.rebuilds {
            let _ = write!(
                out,
                "<tr data-digest=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td>\
                 <td>{} of {}</td></tr>",
                Esc(&r.digest),
                Esc(short(&r.digest)),
                Esc(&r.tags.join(", ")),
                Esc(&r.advice),
                r.fixes,
                r.of
            );
        }
        out.push_str("</tbody></table>");
    }

    fn images_html(&self, out: &mut String) {
        out.push_str(
            "<h2>Every image</h2><table id=\"images\"><thead><tr><th>image</th><th>tags</th>\
             <th>current</th><th>age (days)</th><th>base</th><th>critical</th><th>high</th>\
             <th>medium</th><th>low</th><th>fixable</th><th>KEV</th><th>not checked</th></tr>\
             </thead><tbody>",
        );
        for r in &self.images {
            let n = |s: Severity| r.open.get(&s).copied().unwrap_or(0);
            let _ = write!(
                out,
                "<tr data-digest=\"{}\" data-current=\"{}\"><td><code>{}</code></td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                Esc(&r.digest),
                r.current,
                Esc(short(&r.digest)),
                Esc(&r.tags.join(", ")),
                if r.current { "yes" } else { "no" },
                r.age_days.map(|a| a.to_string()).unwrap_or_default(),
                Esc(r.base.as_deref().unwrap_or("")),
                n(Severity::Critical),
                n(Severity::High),
                n(Severity::Medium),
                n(Severity::Low),
                r.fixable,
                r.kev,
                Esc(&r.unchecked.join(", ")),
            );
        }
        out.push_str("</tbody></table>");
    }
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_labels_are_cut() {
        assert!((width(5, 10) - BAR_WIDTH / 2.0).abs() < 0.1);
        assert!((width(10, 10) - BAR_WIDTH).abs() < 0.1);
        assert!(width(0, 10).abs() < f64::EPSILON);
        assert!(width(3, 0).abs() < f64::EPSILON);
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "…cd");
    }

    #[test]
    fn names_from_the_store_are_text() {
        let mut out = String::new();
        chart(
            &mut out,
            "c",
            "t",
            &[Bar {
                name: "<script>alert(1)</script>".to_owned(),
                segments: vec![("other", 1, "x")],
            }],
        );
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"));
    }
}
