//! The normalised advisory model every feed is parsed into.
//!
//! One [`Advisory`] is one record of one feed (a Debian tracker CVE entry, a DSA, an Alpine
//! secfix, a USN-less Ubuntu CVE file, a CSAF VEX document, an OSV record). It lists, per
//! package in a namespace, what the feed says: fixed in a version, affected with no fix, not
//! affected, or a state that suppresses the finding (won't fix, no DSA, end of life, ...).

use serde::{Deserialize, Serialize};

/// Which feed a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feed {
    /// `data/CVE/list` of the Debian security tracker.
    DebianCveList,
    /// `data/DSA/list` and `data/DLA/list`.
    DebianDsa,
    DebianDla,
    /// The tracker's JSON export (`/tracker/data/json`).
    DebianJson,
    AlpineSecdb,
    UbuntuUct,
    RedhatCsaf,
    Osv,
    RustSec,
    Nvd,
    Kev,
    Epss,
}

/// The vendor's (or NVD's) severity, normalised. `Unknown` sorts lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

/// What a feed says about one package in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Status {
    /// Affected below `fixed` (a version in the namespace's ecosystem).
    Fixed { fixed: String },
    /// Affected, no fix yet (Debian `<unfixed>`, Ubuntu `needed`, CSAF `known_affected`).
    Unfixed,
    /// The vendor will not fix, or defers: (Debian `<no-dsa>`, `<ignored>`, `<postponed>`,
    /// `<end-of-life>`, Ubuntu `deferred`/`ignored`). Reported, hidden by default, never fixable.
    WontFix { reason: String },
    /// Not affected (Debian `<not-affected>`, Ubuntu `not-affected`/`DNE`, CSAF
    /// `known_not_affected`). Never a finding; shown only on request.
    NotAffected { reason: Option<String> },
    /// Still being analysed (CSAF `under_investigation`, Debian unimportant is NOT this).
    UnderInvestigation,
    /// OSV ranges: affected where any range says so. Versions are in the namespace's ecosystem.
    Ranges {
        ranges: Vec<Range>,
        versions: Vec<String>,
    },
}

/// An OSV range: `type` is ECOSYSTEM, SEMVER or GIT; events in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: String,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// `debian:12`, `ubuntu:22.04`, `alpine:3.10`, `rhel:9`, or `osv:<OSV ecosystem>` such as
    /// `osv:PyPI`, `osv:Debian:12`.
    pub namespace: String,
    /// The package as the feed names it. For Debian and Ubuntu this is the SOURCE package.
    pub package: String,
    pub status: Status,
    /// Per-package severity where the feed gives one (Debian urgency, Ubuntu priority).
    pub severity: Option<Severity>,
    /// Free text from the feed (e.g. the `<no-dsa>` note), for `explain`.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// "2.0", "3.0", "3.1", "4.0".
    pub version: String,
    pub vector: String,
    pub score: Option<f64>,
    /// Who scored it: "nvd@nist.gov", "secalert@redhat.com", ...
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// CVE-…, DSA-…, DLA-…, GHSA-…, RUSTSEC-…, GO-…, PYSEC-…, ALPINE secfix CVE id, …
    pub id: String,
    pub aliases: Vec<String>,
    pub feed: Feed,
    /// Where in the input it came from (file, and line or record), for `explain`.
    pub record: String,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub summary: Option<String>,
    /// The advisory-level vendor severity (Red Hat aggregate severity, OSV database_specific…).
    pub severity: Option<Severity>,
    pub cvss: Vec<Cvss>,
    pub affected: Vec<Affected>,
    /// Withdrawn/rejected records are kept so a rematch can resolve findings they caused.
    pub withdrawn: bool,
}

/// Enrichment that is keyed by CVE id rather than by package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Enrichment {
    /// NVD CVE API 2.0 record: CVSS and description.
    Nvd {
        cve: String,
        description: Option<String>,
        cvss: Vec<Cvss>,
        published: Option<String>,
        rejected: bool,
    },
    /// CISA KEV entry.
    Kev {
        cve: String,
        date_added: Option<String>,
        due_date: Option<String>,
        ransomware: Option<String>,
        name: Option<String>,
    },
    /// FIRST EPSS score.
    Epss {
        cve: String,
        probability: f64,
        percentile: f64,
        date: Option<String>,
    },
}
