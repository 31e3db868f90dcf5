//! What the renderers share: which format, where it goes (`-o FORMAT[=FILE]`), and the
//! settings that make a document reproducible.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use customs_catalog::Inventory;
use customs_match::Finding;
use customs_types::Timestamp;

use crate::report::{Filter, ScanReport};

/// A document format customs writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The table for people (the command line renders it).
    Table,
    /// customs' own JSON (`customs.inventory` or `customs.scan`).
    Json,
    /// CycloneDX 1.6 JSON: the SBOM, and with a scan its vulnerabilities (a VDR).
    CycloneDx,
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// SARIF 2.1.0 (scans only).
    Sarif,
    /// One self-contained HTML page (scans only).
    Html,
    /// A user's minijinja template, by path.
    Template(PathBuf),
}

impl Format {
    /// Whether an inventory alone (`customs sbom`) can be written in it.
    #[must_use]
    pub fn for_inventories(&self) -> bool {
        matches!(
            self,
            Self::Table | Self::Json | Self::CycloneDx | Self::SpdxJson | Self::Template(_)
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Table => f.write_str("table"),
            Self::Json => f.write_str("json"),
            Self::CycloneDx => f.write_str("cyclonedx"),
            Self::SpdxJson => f.write_str("spdx-json"),
            Self::Sarif => f.write_str("sarif"),
            Self::Html => f.write_str("html"),
            Self::Template(p) => write!(f, "template={}", p.display()),
        }
    }
}

/// One `-o` argument: a format, and the file it goes to (standard output when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// The format.
    pub format: Format,
    /// The file; `None` for standard output.
    pub file: Option<PathBuf>,
}

/// An `-o` argument that names no format customs knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown output {0:?}: expected table, json, cyclonedx, spdx-json, sarif, html or template=TEMPLATE, each optionally followed by =FILE"
)]
pub struct UnknownFormat(String);

impl FromStr for OutputSpec {
    type Err = UnknownFormat;

    /// `FORMAT`, `FORMAT=FILE`, `template=TEMPLATE` or `template=TEMPLATE=FILE`. Trivy's and
    /// syft's spellings of the same formats are accepted (`cyclonedx-json`, `spdx`, `sarif`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownFormat(s.chars().take(80).collect());
        let (name, rest) = match s.split_once('=') {
            Some((n, r)) => (n, Some(r)),
            None => (s, None),
        };
        let nonempty = |r: &str| (!r.is_empty()).then(|| PathBuf::from(r));
        let format = match name.to_ascii_lowercase().as_str() {
            "table" => Format::Table,
            "json" => Format::Json,
            "cyclonedx" | "cyclonedx-json" | "cdx" | "cdx-json" => Format::CycloneDx,
            "spdx-json" | "spdx" => Format::SpdxJson,
            "sarif" => Format::Sarif,
            "html" => Format::Html,
            "template" => {
                let rest = rest.ok_or_else(unknown)?;
                let (template, file) = match rest.split_once('=') {
                    Some((t, f)) => (t, Some(f)),
                    None => (rest, None),
                };
                return Ok(Self {
                    format: Format::Template(nonempty(template).ok_or_else(unknown)?),
                    file: match file {
                        Some(f) => Some(nonempty(f).ok_or_else(unknown)?),
                        None => None,
                    },
                });
            }
            _ => return Err(unknown()),
        };
        Ok(Self {
            format,
            file: match rest {
                Some(f) => Some(nonempty(f).ok_or_else(unknown)?),
                None => None,
            },
        })
    }
}

/// What every document records about how it was made, pinned so that the same input gives
/// byte-identical output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocOptions {
    /// The creation time written into documents: `SOURCE_DATE_EPOCH` when set (the
    /// reproducible-builds convention), else now.
    pub created: Timestamp,
    /// customs' version, named as the tool that wrote the document.
    pub tool_version: String,
}

impl DocOptions {
    /// `created` from `SOURCE_DATE_EPOCH` when it is set to a number of seconds, else now.
    ///
    /// # Errors
    /// `SOURCE_DATE_EPOCH` set to something that is not a non-negative integer: a pipeline
    /// that asks for reproducible output must not silently get the current time.
    pub fn from_env(tool_version: &str) -> Result<Self, String> {
        let created = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) => {
                let secs: i64 = v.trim().parse().ok().filter(|s| *s >= 0).ok_or_else(|| {
                    format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970")
                })?;
                Timestamp::from_unix_secs(secs)
            }
            Err(_) => Timestamp::now(),
        };
        Ok(Self {
            created,
            tool_version: tool_version.to_owned(),
        })
    }

    /// `created` as RFC 3339 in whole seconds (`2026-12-03T10:00:00Z`), the form CycloneDX,
    /// SPDX and SARIF all accept.
    #[must_use]
    pub fn created_rfc3339(&self) -> String {
        rfc3339_secs(self.created)
    }
}

/// A timestamp in whole seconds, `YYYY-MM-DDTHH:MM:SSZ`.
#[must_use]
pub fn rfc3339_secs(t: Timestamp) -> String {
    Timestamp::from_unix_secs(t.unix_secs())
        .to_string()
        .replace(".000000Z", "Z")
}

/// What a document is written about: an inventory alone (`customs sbom`), or a scan with the
/// findings a filter shows.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// An inventory.
    Inventory(&'a Inventory),
    /// A scan and the reader's filter.
    Scan(&'a ScanReport, &'a Filter),
}

impl<'a> Subject<'a> {
    /// The inventory either way.
    #[must_use]
    pub fn inventory(&self) -> &'a Inventory {
        match self {
            Self::Inventory(i) => i,
            Self::Scan(r, _) => &r.inventory,
        }
    }

    /// The findings shown, in report order; `None` for an inventory.
    #[must_use]
    pub fn findings(&self) -> Option<Vec<&'a Finding>> {
        match self {
            Self::Inventory(_) => None,
            Self::Scan(r, f) => Some(r.view(f).shown),
        }
    }

    /// The secret, config and file detections shown, in report order; `None` for an
    /// inventory (whose document lists none as findings).
    #[must_use]
    pub fn detections(&self) -> Option<Vec<crate::report::ShownDetection<'a>>> {
        match self {
            Self::Inventory(_) => None,
            Self::Scan(r, f) => Some(r.view(f).detections),
        }
    }
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The format needs findings, and there is only an inventory (`customs sbom -o sarif`).
    #[error("{0} describes findings: use it with `customs scan`, not with an inventory alone")]
    NeedsScan(Format),
    /// The table is drawn by the command line, not here.
    #[error("the table is drawn by the command line")]
    Table,
    /// Serialization failed.
    #[error("writing {format}: {source}")]
    Json {
        /// The format being written.
        format: Format,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A user template failed.
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
}

/// `subject` written in `format` (every format but the table, which is the command line's).
///
/// # Errors
/// [`RenderError::NeedsScan`] for SARIF and HTML of an inventory, a template's errors, and
/// serialization failures.
pub fn render(
    format: &Format,
    subject: Subject<'_>,
    opts: &DocOptions,
) -> Result<String, RenderError> {
    let json = |source| RenderError::Json {
        format: format.clone(),
        source,
    };
    match (format, subject) {
        (Format::Table, _) => Err(RenderError::Table),
        (Format::Json, Subject::Inventory(inv)) => {
            let mut s = serde_json::to_string_pretty(inv).map_err(json)?;
            s.push('\n');
            Ok(s)
        }
        (Format::Json, Subject::Scan(report, filter)) => {
            let value = report.to_json(filter).map_err(json)?;
            let mut s = serde_json::to_string_pretty(&value).map_err(json)?;
            s.push('\n');
            Ok(s)
        }
        (Format::CycloneDx, s) => crate::cyclonedx::write(s, opts).map_err(json),
        (Format::SpdxJson, s) => crate::spdx::write(s, opts).map_err(json),
        (Format::Sarif, Subject::Scan(report, filter)) => {
            crate::sarif::write(report, filter, opts).map_err(json)
        }
        (Format::Html, Subject::Scan(report, filter)) => {
            Ok(crate::html::render(report, filter, opts))
        }
        (Format::Template(path), s) => Ok(crate::template::render_file(path, s, opts)?),
        (f @ (Format::Sarif | Format::Html), Subject::Inventory(_)) => {
            Err(RenderError::NeedsScan(f.clone()))
        }
    }
}
