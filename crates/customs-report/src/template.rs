//! User report templates (`-o template=FILE`): [minijinja], which is Jinja2's syntax, over
//! the same JSON `customs scan -f json` and `customs sbom -f json` print.
//!
//! # The context
//!
//! | name | what |
//! |---|---|
//! | `report` | the whole document: `customs.scan/1.9` JSON for a scan (with the findings and detections the reader's filter shows), `customs.inventory/1.6` for an inventory |
//! | each top-level key of `report` | the same, directly: `source`, `image`, `distro`, `packages`, `warnings`, `detections` and `inspected` (when the inventory has them); for a scan also `findings`, `hidden`, `detections_hidden`, `scanners`, `coverage`, `vulnerability_db`, `namespaces`, `match_warnings` |
//! | `detections` | the secret, config and file detections, each `{code, kind, severity, title, message, location: {layer?, layer_index?, path, line?}, removed_in?, evidence?, references?}`, and for a scan `suppressed` (`null`, or the policy exception's words); evidence is redacted |
//! | `not_scanned` (scans) | the scanners that did not run (`vuln`, `secret`, `config`, `file`): a template should say so, or a report without findings of a kind reads as clean of it |
//! | `summary` (scans) | `critical`, `high`, `medium`, `low`, `negligible`, `unknown`: open findings of each severity; `open`, `fixable`, `kev`; `suppressed`, counted whether or not the filter shows them |
//! | `gaps` (scans) | what the scan could not judge, each `{gap, ecosystem?, packages?, message}`: a template that lists findings should list these too, or an image nobody checked reads as clean |
//! | `created` | the document's time, RFC 3339 in whole seconds (`SOURCE_DATE_EPOCH` when set) |
//! | `tool_version` | customs' version |
//!
//! Besides minijinja's built-in filters (`length`, `selectattr`, `groupby`, `sort`, `join`,
//! `tojson`, …) templates have:
//!
//! - `severity_rank`: `"critical"` → 5 … `"unknown"` → 0, for comparisons;
//! - `by_severity`: a list of findings worst first (by rank, not by name), ties in report order;
//! - `short_digest`: `sha256:0123…` → its first 12 hex digits, as `docker images` shows ids;
//! - `csv`: one CSV field (RFC 4180 quoting), with a leading `=`, `+`, `-`, `@`, tab or
//!   carriage return defused by a `'` (OWASP's advice): an image's strings must not become
//!   spreadsheet formulas.
//!
//! # Rules
//!
//! - **Undefined values fail** when printed or looped over (minijinja's semi-strict mode), so a
//!   misspelt field is an error with its line, not an empty column. Testing one in `{% if %}`
//!   is allowed: fields serde leaves out when empty (`dev`, `evidence`, `tag`) are tested that
//!   way.
//! - **Escaping** follows the template's name: HTML escaping for `.html` and `.htm` (also under
//!   a `.j2`, `.jinja` or `.jinja2` suffix), none otherwise. `|safe` opts out, as in Jinja.
//! - **Limits:** a template over [`MAX_TEMPLATE_BYTES`] is refused, and a render has a fuel
//!   budget that grows with the report ([`fuel_for`]), so a runaway loop stops with an error
//!   instead of hanging a CI job.
//! - **No loader:** `include`, `import` and `extends` find nothing. A template reads its
//!   context and nothing else on the machine.
//!
//! Examples: `crates/customs-report/templates/markdown.tmpl` and `csv.tmpl`.
//!
//! ```
//! use customs_report::template;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let inventory: customs_catalog::Inventory = serde_json::from_value(serde_json::json!({
//! #     "schema": "customs.inventory/1.2",
//! #     "source": {"kind": "dir", "reference": "dir:rootfs"},
//! #     "distro": null, "packages": [], "warnings": []}))?;
//! let opts = customs_report::DocOptions::from_env("0.1.0")?;
//! let subject = customs_report::Subject::Inventory(&inventory);
//! let text = template::render("{{ packages|length }} packages in {{ source.reference }}",
//!     "count.txt", subject, &opts)?;
//! assert_eq!(text, "0 packages in dir:rootfs");
//! # Ok(())
//! # }
//! ```

use std::io::Read as _;
use std::path::{Path, PathBuf};

use customs_types::Severity;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use crate::html::{Summary, rank};
use crate::output::{DocOptions, Subject};
use crate::report::Filter;

/// The largest template accepted, in bytes. Report templates are a few kilobytes; a bigger
/// file is a mistake (a report passed as the template) or an attempt to exhaust the parser.
pub const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// A template that could not be read or rendered. Errors inside the template name the file
/// and, where minijinja knows it, the line.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file is missing or unreadable (or not UTF-8).
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        /// The template file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The template is over [`MAX_TEMPLATE_BYTES`].
    #[error("template {name} is {size} bytes: more than the {limit} a template may have")]
    TooLarge {
        /// The template's name (its path for a file).
        name: String,
        /// Its size (at least; reading stops past the limit).
        size: u64,
        /// [`MAX_TEMPLATE_BYTES`].
        limit: u64,
    },
    /// A syntax error, an undefined value, a failed filter, fuel run out.
    // minijinja's own error is not kept as the source: its text repeats the file and line
    // this one leads with.
    #[error("{name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template {
        /// The template's name (its path for a file).
        name: String,
        /// The 1-based line of the template the error is on, when known.
        line: Option<usize>,
        /// What went wrong, with the line's text.
        message: String,
        /// minijinja's classification (syntax error, undefined value, out of fuel, …).
        kind: ErrorKind,
    },
    /// The report did not serialize (not seen in practice: it is plain data).
    #[error("cannot serialize the report for the template: {0}")]
    Json(#[from] serde_json::Error),
}

impl TemplateError {
    /// The template line an error is on, when it is one in the template and minijinja knows it.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Template { line, .. } => *line,
            _ => None,
        }
    }
}

/// Renders `template`, named `name` (which chooses the escaping and appears in errors), over
/// `subject`. See the [module documentation](self) for the context and the rules.
///
/// # Errors
/// [`TemplateError::TooLarge`], and [`TemplateError::Template`] for anything minijinja
/// rejects, with the line.
pub fn render(
    template: &str,
    name: &str,
    subject: Subject<'_>,
    opts: &DocOptions,
) -> Result<String, TemplateError> {
    let size = u64::try_from(template.len()).unwrap_or(u64::MAX);
    if size > MAX_TEMPLATE_BYTES {
        return Err(TemplateError::TooLarge {
            name: name.to_owned(),
            size,
            limit: MAX_TEMPLATE_BYTES,
        });
    }
    let (context, items) = context(subject, opts)?;
    let env = environment(fuel_for(items));
    let wrap = |e: minijinja::Error| template_error(name, template, &e);
    let compiled = env.template_from_named_str(name, template).map_err(wrap)?;
    compiled.render(Value::from(Serde(&context))).map_err(wrap)
}

/// Reads the template at `path` and [`render`]s it; the path is its name.
///
/// # Errors
/// [`TemplateError::Read`] for a missing, unreadable or non-UTF-8 file, else those of
/// [`render`].
pub fn render_file(
    path: &Path,
    subject: Subject<'_>,
    opts: &DocOptions,
) -> Result<String, TemplateError> {
    let name = path.display().to_string();
    let read_error = |source| TemplateError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    // Read one byte past the limit rather than trusting the size the file system reports:
    // `/dev/zero` or a growing file has none worth believing.
    let mut bytes = Vec::new();
    file.take(MAX_TEMPLATE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_TEMPLATE_BYTES {
        let size = std::fs::metadata(path).map_or(MAX_TEMPLATE_BYTES + 1, |m| m.len());
        return Err(TemplateError::TooLarge {
            name,
            size: size.max(MAX_TEMPLATE_BYTES + 1),
            limit: MAX_TEMPLATE_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        ))
    })?;
    render(&text, &name, subject, opts)
}

/// Fuel for a render over `items` findings, packages, layers and build steps. minijinja
/// charges about one unit per instruction and per 64 bytes made; the example templates spend
/// under 100 per finding (`csv.tmpl`: 460,000 for 5,000 findings), so 2,000 per item leaves
/// room for templates twenty times as busy, while `{% for i in range(10**9) %}` stops within
/// a second or so on a small report and the memory a render may build stays near 64 bytes a
/// unit.
#[must_use]
pub fn fuel_for(items: usize) -> u64 {
    const BASE: u64 = 1_000_000;
    const PER_ITEM: u64 = 2_000;
    BASE.saturating_add(PER_ITEM.saturating_mul(u64::try_from(items).unwrap_or(u64::MAX)))
}

fn environment(fuel: u64) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(auto_escape);
    env.set_fuel(Some(fuel));
    // Debug mode would copy the template and its locals into every error, and its output
    // depends on the build profile; the error here quotes the line itself.
    env.set_debug(false);
    env.add_filter("severity_rank", severity_rank);
    env.add_filter("by_severity", by_severity);
    env.add_filter("short_digest", short_digest);
    env.add_filter("csv", csv_field);
    env
}

/// HTML escaping for `.html`/`.htm`, under a Jinja suffix too (`report.html.j2`).
fn auto_escape(name: &str) -> AutoEscape {
    let lower = name.to_ascii_lowercase();
    let base = [".j2", ".jinja2", ".jinja"]
        .iter()
        .find_map(|suffix| lower.strip_suffix(suffix))
        .unwrap_or(&lower);
    if base.ends_with(".html") || base.ends_with(".htm") {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

/// The context (see the module documentation), and how many items it holds.
fn context(
    subject: Subject<'_>,
    opts: &DocOptions,
) -> Result<(serde_json::Map<String, serde_json::Value>, usize), TemplateError> {
    let inventory = subject.inventory();
    let mut items = inventory.packages.len()
        + inventory
            .image
            .as_ref()
            .map_or(0, |i| i.layers.len() + i.config.history.len());
    let mut extra = serde_json::Map::new();
    let doc = match subject {
        Subject::Inventory(inv) => serde_json::to_value(inv)?,
        Subject::Scan(report, filter) => {
            // Counted as the HTML page counts: the suppressed ones too, shown or not.
            let counted = Filter {
                show_suppressed: true,
                ..filter.clone()
            };
            let summary = Summary::of(report.view(&counted).shown);
            items += report.findings.len() + report.inventory.detections.len();
            extra.insert("summary".to_owned(), summary.to_json());
            extra.insert("not_scanned".to_owned(), report.not_run().into());
            let gaps = report
                .gaps(&[])
                .iter()
                .map(|g| {
                    let mut v = serde_json::to_value(g)?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("message".to_owned(), g.to_string().into());
                    }
                    Ok(v)
                })
                .collect::<serde_json::Result<Vec<_>>>()?;
            extra.insert("gaps".to_owned(), gaps.into());
            report.to_json(filter)?
        }
    };
    let mut ctx = doc.as_object().cloned().unwrap_or_default();
    ctx.insert("report".to_owned(), doc);
    ctx.extend(extra);
    ctx.insert("created".to_owned(), opts.created_rfc3339().into());
    ctx.insert("tool_version".to_owned(), opts.tool_version.clone().into());
    Ok((ctx, items))
}

fn template_error(name: &str, source: &str, e: &minijinja::Error) -> TemplateError {
    let mut message = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(cause) = std::error::Error::source(e) {
        message.push_str(&format!(": {cause}"));
    }
    let line = e.line();
    if let Some(text) = line.and_then(|l| source.lines().nth(l.checked_sub(1)?)) {
        let text = text.trim();
        if !text.is_empty() {
            let quoted: String = text.chars().take(100).collect();
            let more = if quoted.len() < text.len() { "…" } else { "" };
            message.push_str(&format!(" (in `{quoted}{more}`)"));
        }
    }
    TemplateError::Template {
        name: e.name().unwrap_or(name).to_owned(),
        line,
        message,
        kind: e.kind(),
    }
}

fn parse_severity(s: &str) -> Result<Severity, minijinja::Error> {
    Severity::parse_lenient(s)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

/// `"critical"|severity_rank` → 5.
fn severity_rank(severity: &str) -> Result<usize, minijinja::Error> {
    parse_severity(severity).map(rank)
}

/// Worst first, ties in their given order; an item without a severity counts as unknown.
fn by_severity(items: Vec<Value>) -> Result<Vec<Value>, minijinja::Error> {
    let mut keyed = items
        .into_iter()
        .map(|item| {
            let sev = item.get_attr("severity")?;
            let r = match sev.as_str() {
                Some(s) => rank(parse_severity(s)?),
                None => 0,
            };
            Ok((r, item))
        })
        .collect::<Result<Vec<_>, minijinja::Error>>()?;
    keyed.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
    Ok(keyed.into_iter().map(|(_, item)| item).collect())
}

/// `sha256:0123456789abcdef…` → `0123456789ab`.
fn short_digest(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// One CSV field: quoted when it must be (RFC 4180), and never a formula.
fn csv_field(value: &Value) -> String {
    let text = if value.is_none() || value.is_undefined() {
        String::new()
    } else {
        value.to_string()
    };
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests;
