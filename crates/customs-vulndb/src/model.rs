//! The normalised advisory model every feed is parsed into.
//!
//! One [`Advisory`] is one record of one feed (a Debian tracker CVE entry, a DSA, an Alpine
//! secfix, a USN-less Ubuntu CVE file, a CSAF VEX document, an OSV record). It lists, per
//! package in a namespace, what the feed says: fixed in a version, affected with no fix, not
//! affected, or a state that suppresses the finding (won't fix, no DSA, end of life, ...).

use serde::{Deserialize, Serialize};

pub use customs_types::{Feed, Namespace, Severity};

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

/// An OSV range; events in the order the record gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// How a range's versions are read (OSV's `type`, plus customs' own for RustSec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// Versions in the ecosystem's own ordering.
    Ecosystem,
    /// SemVer 2.0 versions.
    Semver,
    /// Commits of a repository: not comparable with an installed version.
    Git,
    /// RustSec's `patched`/`unaffected` Cargo requirements (as `Fixed`/`Limit` events): a
    /// version is affected when it meets none of them.
    Rustsec,
}

impl std::str::FromStr for RangeKind {
    type Err = String;

    /// OSV's spelling of the three kinds it defines.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ECOSYSTEM" => Ok(Self::Ecosystem),
            "SEMVER" => Ok(Self::Semver),
            "GIT" => Ok(Self::Git),
            other => Err(format!(
                "unknown range type {:?} (OSV defines ECOSYSTEM, SEMVER and GIT)",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
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
    pub namespace: Namespace,
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
