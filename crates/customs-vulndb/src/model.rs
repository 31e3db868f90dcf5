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
    Fixed {
        /// The first fixed version, as the feed writes it (`1:2.3-4+deb12u1`, `2.8.4-r0`; an
        /// RPM EVR without arch, epoch only when not 0).
        fixed: String,
        /// When the vendor released the fix, as it dates it (Red Hat: the `vendor_fix`
        /// remediation's date, the erratum's release); `None` where the feed does not say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<String>,
    },
    /// Affected, no fix yet (Debian `<unfixed>`, Ubuntu `needed`, CSAF `known_affected`).
    Unfixed,
    /// The vendor will not fix, or defers (Debian `<no-dsa>`, `<ignored>`, `<postponed>`,
    /// `<end-of-life>`, `<removed>`, Ubuntu `deferred`/`ignored`). Reported, hidden by default,
    /// never fixable.
    WontFix {
        /// The feed's word for the state, followed by its note when it gives one
        /// (`no-dsa: Minor issue`, `end-of-life`, `deferred`).
        reason: String,
    },
    /// Not affected (Debian `<not-affected>`, Ubuntu `not-affected`/`DNE`, CSAF
    /// `known_not_affected`). Never a finding; shown only on request.
    NotAffected {
        /// Why, in the feed's words (Debian's note, the CSAF flag such as
        /// `vulnerable_code_not_present`) or in customs' where the feed encodes it
        /// (`listed under version 0: never affected in Alpine`).
        reason: Option<String>,
    },
    /// Still being analysed (CSAF `under_investigation`, Debian `<undetermined>`, Ubuntu
    /// `needs-triage`). Debian's `unimportant` is an urgency, not this state.
    UnderInvestigation,
    /// OSV ranges: affected where any range says so. Versions are in the namespace's ecosystem.
    Ranges {
        /// OSV `ranges[]`, evaluated each on its own; the version is affected when any says so.
        ranges: Vec<Range>,
        /// OSV `versions[]`: versions listed as affected one by one, whatever the ranges say.
        versions: Vec<String>,
    },
}

/// An OSV range; events in the order the record gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// How the events' versions are compared.
    pub kind: RangeKind,
    /// The range's boundaries, in the record's order (the matcher sorts them by version).
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

/// A boundary of a [`Range`], as OSV's `events[]` give them. The versions are in the range's
/// [`RangeKind`]; for [`RangeKind::Rustsec`] they are Cargo requirements instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Affected from this version on; `"0"` means from the first version.
    Introduced(String),
    /// Not affected from this version on. In a RustSec range: a `patched` requirement.
    Fixed(String),
    /// Affected up to and including this version, not after (used when no fix is known).
    LastAffected(String),
    /// OSV's upper bound on the range, for GIT ranges; ignored when evaluating versions. In a
    /// RustSec range: an `unaffected` requirement.
    Limit(String),
}

/// What one advisory says about one package in one namespace: its [`Status`] and the details
/// the feed gives with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// `debian:12`, `ubuntu:22.04`, `alpine:3.10`, `rhel:9`, or `osv:<OSV ecosystem>` such as
    /// `osv:PyPI`, `osv:Debian:12`.
    pub namespace: Namespace,
    /// The package as the feed names it. For Debian and Ubuntu this is the SOURCE package.
    pub package: String,
    /// What the feed says about the package.
    pub status: Status,
    /// Per-package severity where the feed gives one (Debian urgency, Ubuntu priority).
    pub severity: Option<Severity>,
    /// Free text from the feed (e.g. the `<no-dsa>` note), for `explain`.
    pub note: Option<String>,
}

/// A CVSS assessment: the vector, and the base score when known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// "2.0", "3.0", "3.1", "4.0".
    pub version: String,
    /// The vector string as the source writes it (`CVSS:3.1/AV:N/AC:L/…`; v2 vectors have
    /// no `CVSS:` prefix).
    pub vector: String,
    /// The base score, 0.0 to 10.0: as the feed gives it, or computed from the vector for OSV
    /// v2 and v3 vectors. `None` when neither is available (an OSV v4 vector, an Ubuntu
    /// line without a bracketed score).
    pub score: Option<f64>,
    /// Who scored it: "nvd@nist.gov", "secalert@redhat.com", ...
    pub source: Option<String>,
}

/// One record of one feed, normalised (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// CVE-…, DSA-…, DLA-…, GHSA-…, RUSTSEC-…, GO-…, PYSEC-…, ALPINE secfix CVE id, …
    pub id: String,
    /// Other ids for the same issue, as the feed links them (a DSA's CVEs, an OSV record's
    /// `aliases`, further ids on an Alpine secfix line). The CVE ids among them are what
    /// enrichment is looked up by.
    pub aliases: Vec<String>,
    /// The feed the record came from.
    pub feed: Feed,
    /// Where in the input it came from (file, and line or record), for `explain`.
    pub record: String,
    /// When the issue was made public, as the feed dates it: an ISO 8601 date
    /// (`2023-03-25`) or date-time (`2019-03-05T16:29:00Z`). `None` where the feed dates
    /// nothing (Alpine, the Debian CVE list).
    pub published: Option<String>,
    /// When the record last changed, in the same forms; OSV and CSAF give one.
    pub modified: Option<String>,
    /// A one-line description: the header text of a Debian entry, OSV `summary` (or
    /// `details` when there is none), the Ubuntu description, the CSAF title.
    pub summary: Option<String>,
    /// The advisory-level vendor severity (Red Hat aggregate severity, OSV database_specific…).
    pub severity: Option<Severity>,
    /// Every CVSS assessment the record carries, in its order.
    pub cvss: Vec<Cvss>,
    /// What the record says, per package and namespace. Empty for a withdrawn record that
    /// names no package any more.
    pub affected: Vec<Affected>,
    /// Withdrawn/rejected records are kept so a rematch can resolve findings they caused.
    pub withdrawn: bool,
}

/// Enrichment that is keyed by CVE id rather than by package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Enrichment {
    /// NVD CVE API 2.0 record: CVSS and description.
    Nvd {
        /// The CVE id (`CVE-2021-44228`).
        cve: String,
        /// NVD's English description.
        description: Option<String>,
        /// Every CVSS metric NVD lists, newest CVSS version first; read `source` to tell
        /// NVD's own scores (`nvd@nist.gov`) from a CNA's.
        cvss: Vec<Cvss>,
        /// NVD's `published` date-time, as written (`2021-12-10T10:15:09.143`, no zone).
        published: Option<String>,
        /// NVD's `vulnStatus` is `Rejected`: the CVE was withdrawn.
        rejected: bool,
    },
    /// CISA KEV entry.
    Kev {
        /// The CVE id.
        cve: String,
        /// When CISA added the CVE to the catalog (`YYYY-MM-DD`).
        date_added: Option<String>,
        /// The remediation deadline CISA set for US federal agencies (`YYYY-MM-DD`).
        due_date: Option<String>,
        /// `knownRansomwareCampaignUse` as written: `Known` or `Unknown`.
        ransomware: Option<String>,
        /// CISA's name for the vulnerability (`Apache Log4j2 Remote Code Execution
        /// Vulnerability`).
        name: Option<String>,
    },
    /// FIRST EPSS score.
    Epss {
        /// The CVE id.
        cve: String,
        /// The EPSS score: the probability, 0 to 1, of exploitation activity in the next 30
        /// days.
        probability: f64,
        /// The share, 0 to 1, of scored CVEs whose score is at most this one's.
        percentile: f64,
        /// The file's `score_date` (`2025-02-20T00:00:00+0000`); `None` for older files
        /// without the comment line.
        date: Option<String>,
    },
}
