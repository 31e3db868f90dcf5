//! The page's "Secrets, configuration and files" section and its "not scanned for" notice:
//! static HTML, worst first, each value escaped (a secret's evidence arrives redacted and is
//! only copied).

use std::fmt::Write as _;

use customs_catalog::customs_detect::{DetectionKind, Location};

use super::{Esc, Page, human_size, plural};
use crate::report::ShownDetection;

impl Page<'_> {
    /// What the scan did not look for (`--scanners`), before the summary: a report without
    /// findings of a kind is clean of them only if they were looked for.
    pub(super) fn not_scanned(&self, out: &mut String) {
        let not_run = self.report.not_run();
        if not_run.is_empty() {
            return;
        }
        let ran = self.report.scanners.names().join(",");
        _ = writeln!(
            out,
            "<p class=\"warn\" id=\"not-scanned\" data-scanners=\"{}\">Not scanned for: \
             <strong>{}</strong> (<code>--scanners {}</code>). This report says nothing about \
             what was not looked for; its counts of those are not a verdict.</p>",
            not_run.join(" "),
            not_run.join(", "),
            Esc(&ran),
        );
    }

    /// The secret, config and file detections, worst first, with the secret scanner's
    /// coverage.
    pub(super) fn detections(&self, out: &mut String) {
        let scanners = self.report.scanners;
        let shown = self.detections;
        _ = writeln!(
            out,
            "<section id=\"detections\" data-count=\"{}\">\n<h2>Secrets, configuration and files</h2>",
            shown.len()
        );
        self.secret_coverage(out);
        let kinds = [
            DetectionKind::Secret,
            DetectionKind::Config,
            DetectionKind::File,
        ];
        let skipped: Vec<&str> = kinds
            .iter()
            .filter(|k| !scanners.runs(**k))
            .map(|k| k.as_str())
            .collect();
        if skipped.len() == kinds.len() {
            out.push_str(
                "<p class=\"warn\" id=\"detections-not-scanned\">The secret, config and file \
                 scanners did not run: the image was not looked at for any of them.</p>\n</section>\n",
            );
            return;
        }
        let count = |k: DetectionKind| shown.iter().filter(|d| d.detection.kind == k).count();
        let excepted = shown.iter().filter(|d| d.exception.is_some()).count();
        _ = write!(
            out,
            "<p id=\"detections-summary\">{} secret{}, {} config and {} file detection{}",
            count(DetectionKind::Secret),
            plural(count(DetectionKind::Secret)),
            count(DetectionKind::Config),
            count(DetectionKind::File),
            plural(count(DetectionKind::File)),
        );
        if excepted > 0 {
            _ = write!(
                out,
                "; {excepted} of them accepted by the policy's exceptions"
            );
        }
        if !skipped.is_empty() {
            _ = write!(
                out,
                ". Not scanned for: <strong>{}</strong>",
                skipped.join(", ")
            );
        }
        out.push_str(".</p>\n");
        let left_out = self.detections_left_out;
        if left_out > 0 {
            _ = writeln!(
                out,
                "<p class=\"warn\" id=\"detections-left-out\" data-count=\"{left_out}\">{left_out} \
                 detection{} left out of this report by its filter (<code>--severity</code>).</p>",
                plural(left_out),
            );
        }
        if shown.is_empty() {
            out.push_str("</section>\n");
            return;
        }
        out.push_str(
            "<table id=\"detections-table\">\n<thead><tr><th>Severity</th><th>Code</th><th>Title</th>\
             <th>Location</th><th>Evidence</th></tr></thead>\n<tbody>\n",
        );
        let mut sorted: Vec<&ShownDetection<'_>> = shown.iter().collect();
        sorted.sort_by_key(|d| {
            (
                d.exception.is_some(),
                std::cmp::Reverse(d.detection.severity),
            )
        });
        for s in sorted {
            let d = s.detection;
            let suppressed = s.suppressed();
            _ = write!(
                out,
                "<tr data-code=\"{code}\" data-kind=\"{kind}\" data-severity=\"{sev}\" \
                 data-suppressed=\"{sup}\"{class}><td><span class=\"sev sev-{sev}\">{sev}</span></td>\
                 <td class=\"col-id\"><code>{code}</code></td><td>{title}<br><span class=\"muted\">{message}</span>",
                code = Esc(&d.code),
                kind = d.kind.as_str(),
                sev = d.severity,
                sup = suppressed.is_some(),
                class = if suppressed.is_some() {
                    " class=\"suppressed\""
                } else {
                    ""
                },
                title = Esc(&d.title),
                message = Esc(&d.message),
            );
            if let Some(why) = &suppressed {
                _ = write!(out, "<br><span class=\"why\">{}</span>", Esc(why));
            }
            out.push_str("</td><td class=\"location\">");
            location(out, &d.location);
            if let Some(r) = &d.removed_in {
                out.push_str("<br><span class=\"muted\">removed in</span> ");
                location(out, r);
            }
            out.push_str("</td><td class=\"evidence\">");
            match &d.evidence {
                Some(e) => _ = write!(out, "<code>{}</code>", Esc(e)),
                None => out.push_str("<span class=\"muted\">none</span>"),
            }
            out.push_str("</td></tr>\n");
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }

    /// What the secret scanner read, and what it left out: a reader must see that a binary or
    /// an oversized file was not searched.
    fn secret_coverage(&self, out: &mut String) {
        if !self.report.scanners.secret {
            out.push_str(
                "<p class=\"warn\" id=\"secret-coverage\" data-ran=\"false\">The secret scanner \
                 did not run: the image was not searched for secrets.</p>\n",
            );
            return;
        }
        let Some(i) = &self.report.inventory.inspected else {
            out.push_str(
                "<p id=\"secret-coverage\" data-ran=\"true\">The secret scanner's coverage was \
                 not recorded.</p>\n",
            );
            return;
        };
        let s = &i.secrets;
        _ = writeln!(
            out,
            "<p id=\"secret-coverage\" data-ran=\"true\" data-files=\"{files}\" \
             data-skipped-binary=\"{bin}\" data-skipped-large=\"{large}\">The secret scanner \
             read {files} file{fp} ({size}) in every layer, and the config's environment and \
             history; it skipped {bin} binary file{bp} and {large} larger than its limit{dropped}.</p>",
            files = s.files,
            fp = plural(usize::try_from(s.files).unwrap_or(usize::MAX)),
            size = human_size(s.bytes),
            bin = s.skipped_binary,
            bp = plural(usize::try_from(s.skipped_binary).unwrap_or(usize::MAX)),
            large = s.skipped_large,
            dropped = if s.hits_dropped > 0 {
                format!(
                    "; {} matches in files with too many were not reported",
                    s.hits_dropped
                )
            } else {
                String::new()
            },
        );
    }
}

/// `layer 1 399bd13cbb70 /app/.env:3`, or the config location alone.
fn location(out: &mut String, l: &Location) {
    if let Some(i) = l.layer_index {
        _ = write!(out, "layer {i} ");
    }
    if let Some(d) = &l.layer {
        _ = write!(
            out,
            "<span class=\"digest\" title=\"{d}\">{}</span> ",
            d.short()
        );
    }
    match l.line {
        Some(line) => _ = write!(out, "<code>{}:{line}</code>", Esc(&l.path)),
        None => _ = write!(out, "<code>{}</code>", Esc(&l.path)),
    }
}
