//! A finding: one vulnerability in one installed package, with where every fact came from.

use customs_image::Digest;
use customs_vulndb::{Epss, Kev, Severity};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingStatus {
    /// A fixed version exists and the installed one is below it.
    Fixed,
    /// Affected, no fix published.
    Affected,
    /// Affected per OSV ranges (a fixed version may be listed).
    UnderInvestigation,
    /// The vendor will not fix (no-dsa, ignored, postponed, end-of-life, deferred, no_fix_planned).
    WontFix,
    /// The vendor says this package is not affected.
    NotAffected,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Affected => "affected",
            Self::UnderInvestigation => "under-investigation",
            Self::WontFix => "wont-fix",
            Self::NotAffected => "not-affected",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    pub ecosystem: String,
    pub purl: Option<String>,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    pub layer: Option<Digest>,
    pub layer_index: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CvssScore {
    pub version: String,
    pub vector: String,
    pub score: Option<f64>,
    pub source: Option<String>,
}

/// The record a finding rests on.
#[derive(Debug, Clone, Serialize)]
pub struct DataSource {
    pub feed: String,
    /// The input file and record, e.g. `data/DSA/list:1234`.
    pub record: String,
    pub namespace: String,
    /// The package name the feed used (the source package for Debian and Ubuntu).
    pub package: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The vulnerability id: a CVE where the record is one, else the advisory's own id.
    pub id: String,
    pub aliases: Vec<String>,
    pub package: PackageRef,
    /// The version compared against the advisory (a Debian source version for Debian feeds).
    pub installed_version: String,
    pub fixed_versions: Vec<String>,
    pub status: FindingStatus,
    /// Why it is hidden by default: `not-affected`, `wont-fix: <reason>`, `unimportant`.
    pub suppressed: Option<String>,
    pub severity: Severity,
    /// Who said so: the feed (`debian`, `ubuntu`, `redhat`, …) or `nvd`.
    pub severity_source: Option<String>,
    pub cvss: Option<CvssScore>,
    pub kev: Option<Kev>,
    pub epss: Option<Epss>,
    pub title: Option<String>,
    pub note: Option<String>,
    pub data_source: DataSource,
}

impl Finding {
    /// Fixable: a fixed version exists and nothing suppresses it.
    pub fn fixable(&self) -> bool {
        self.status == FindingStatus::Fixed && self.suppressed.is_none()
    }
}
