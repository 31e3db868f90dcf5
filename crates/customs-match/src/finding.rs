//! A finding: one vulnerability in one installed package, with where every fact came from.

use std::fmt;
use std::str::FromStr;

use customs_types::{Digest, Ecosystem, Feed, Namespace, Severity};
use customs_vulndb::{Epss, Kev};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the advisory says about the installed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingStatus {
    /// A fixed version exists and the installed one is below it.
    Fixed,
    /// Affected, no fix published (a distro's "no fix yet", or OSV ranges with no `fixed`
    /// above the installed version).
    Affected,
    /// The vendor is still analysing whether the package is affected (CSAF
    /// `under_investigation`, Debian `<undetermined>`, Ubuntu `needs-triage`).
    UnderInvestigation,
    /// The vendor will not fix (no-dsa, ignored, postponed, end-of-life, deferred, no_fix_planned).
    WontFix,
    /// The vendor says this package is not affected.
    NotAffected,
}

impl FindingStatus {
    /// The status as the scan report spells it (`under-investigation`), which is also its
    /// serialized form.
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

/// Why a finding is hidden by default and never fails a gate: the vendor's verdict that
/// nothing needs doing. Written as one string in JSON (`not-affected`, `not-affected: REASON`,
/// `wont-fix: REASON`, `unimportant`), as the scan report has always spelled it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Suppression {
    /// The vendor states the package is not affected.
    NotAffected {
        /// The vendor's justification, when it gives one.
        reason: Option<String>,
    },
    /// The vendor will not fix it, or defers (no-dsa, ignored, postponed, end-of-life,
    /// deferred, no_fix_planned).
    WontFix {
        /// The vendor's word for it, with its note.
        reason: String,
    },
    /// Debian rates it unimportant (negligible).
    Unimportant,
    /// The scan's policy has an exception for it that has not expired: a risk someone
    /// accepted (`excepted: OWNER until DATE: REASON`). Only a scan with `--policy` marks it;
    /// the store keeps the vendor's verdicts, not a team's.
    Excepted {
        /// Who, until when, and why.
        reason: String,
    },
    /// A VEX statement given to the scan (`--vex`) says the package is not affected or has
    /// the fix (`vex: STATUS (JUSTIFICATION) by AUTHOR in SOURCE`). As with exceptions, only
    /// the scan marks it; the store keeps the vendor's verdicts.
    Vex {
        /// The status, why, who and where.
        reason: String,
    },
}

impl fmt::Display for Suppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAffected { reason: None } => f.write_str("not-affected"),
            Self::NotAffected { reason: Some(r) } => write!(f, "not-affected: {r}"),
            Self::WontFix { reason } => write!(f, "wont-fix: {reason}"),
            Self::Unimportant => f.write_str("unimportant"),
            Self::Excepted { reason } => write!(f, "excepted: {reason}"),
            Self::Vex { reason } => write!(f, "vex: {reason}"),
        }
    }
}

/// Text that is not a [`Suppression`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a suppression: {0:?} (expected not-affected[: REASON], wont-fix: REASON, unimportant, excepted: REASON or vex: REASON)"
)]
pub struct UnknownSuppression(String);

impl FromStr for Suppression {
    type Err = UnknownSuppression;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (word, reason) = match s.split_once(": ") {
            Some((w, r)) => (w, Some(r.to_owned())),
            None => (s, None),
        };
        match (word, reason) {
            ("not-affected", reason) => Ok(Self::NotAffected { reason }),
            ("wont-fix", Some(reason)) => Ok(Self::WontFix { reason }),
            ("unimportant", None) => Ok(Self::Unimportant),
            ("excepted", Some(reason)) => Ok(Self::Excepted { reason }),
            ("vex", Some(reason)) => Ok(Self::Vex { reason }),
            _ => Err(UnknownSuppression(s.chars().take(80).collect())),
        }
    }
}

impl Serialize for Suppression {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Suppression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The installed package a finding is about: the inventory's
/// [`Package`](customs_catalog::Package), without its file lists and evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageRef {
    /// See [`Package::name`](customs_catalog::Package::name).
    pub name: String,
    /// The package's own version (for Debian, the binary's; the version compared is
    /// [`Finding::installed_version`]).
    pub version: String,
    /// See [`Package::ecosystem`](customs_catalog::Package::ecosystem).
    pub ecosystem: Ecosystem,
    /// See [`Package::purl`](customs_catalog::Package::purl).
    pub purl: Option<String>,
    /// See [`Package::source_name`](customs_catalog::Package::source_name).
    pub source_name: Option<String>,
    /// See [`Package::source_version`](customs_catalog::Package::source_version).
    pub source_version: Option<String>,
    /// The diff_id of the layer that introduced the package at this version.
    pub layer: Option<Digest>,
    /// See [`Package::layer_index`](customs_catalog::Package::layer_index).
    pub layer_index: Option<usize>,
}

/// When a fix for a finding became available, as closely as the feeds date it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixDate {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// How the date is known.
    pub source: FixDateSource,
}

/// Where a [`FixDate`] comes from, most exact first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixDateSource {
    /// The vendor released the fixed package that day: a DSA or DLA, or the Red Hat
    /// erratum a CSAF document's `vendor_fix` remediation dates.
    Announced,
    /// The advisory that names the fixed version was published that day (OSV, GHSA,
    /// RustSec, Go): the fix is at least as old.
    Advisory,
    /// Only the vulnerability's public date is known (Ubuntu's and Red Hat's public date,
    /// NVD's publication): a fix may have come later, so the days since it count high, which
    /// makes a grace-period rule stricter, never laxer.
    Disclosed,
}

impl FixDateSource {
    /// Its name, as reports write it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Announced => "announced",
            Self::Advisory => "advisory",
            Self::Disclosed => "disclosed",
        }
    }
}

/// The CVSS assessment shown with a finding: the advisory's own best one, else NVD's. The
/// best is the newest v3, then v4, then v2.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CvssScore {
    /// "2.0", "3.0", "3.1", "4.0".
    pub version: String,
    /// The vector string as the source writes it (`CVSS:3.1/AV:N/…`).
    pub vector: String,
    /// The base score, 0.0 to 10.0, when the source gives it or it could be computed.
    pub score: Option<f64>,
    /// Who scored it (`nvd@nist.gov`, `secalert@redhat.com`), when known.
    pub source: Option<String>,
}

/// The record a finding rests on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataSource {
    /// The feed the record came from.
    pub feed: Feed,
    /// The input file and record, e.g. `data/DSA/list:1234`.
    pub record: String,
    /// The namespace the statement was made in (`debian:12`, `osv:PyPI`). For a Debian
    /// release the CVE list says nothing of its own about, `debian:unstable`: the list's
    /// unnumbered line, which holds for every release without one.
    pub namespace: Namespace,
    /// The package name the feed used (the source package for Debian and Ubuntu; for PyPI,
    /// PEP 503-normalised).
    pub package: String,
}

/// One vulnerability in one installed package: the verdict, and where every part of it came
/// from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// The vulnerability id: a CVE where the record is one, else the advisory's own id.
    pub id: String,
    /// Other ids of the vulnerability: the advisory's aliases, those the same id has in other
    /// feeds, and any DSA or DLA folded into it.
    pub aliases: Vec<String>,
    /// The installed package.
    pub package: PackageRef,
    /// The version compared against the advisory (a Debian source version for Debian feeds).
    pub installed_version: String,
    /// The versions that fix it, above the installed one: the distro's fixed version, or for
    /// OSV every `fixed` event above it (for RustSec, the `patched` requirements as written).
    /// Empty unless `status` is [`FindingStatus::Fixed`].
    pub fixed_versions: Vec<String>,
    /// What the advisory says about the installed version.
    pub status: FindingStatus,
    /// When the fix became available; `None` when the finding is not fixable or no feed
    /// dates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_date: Option<FixDate>,
    /// Why it is hidden by default, if it is.
    pub suppressed: Option<Suppression>,
    /// The vendor's severity for the package (else for the advisory) when it gives one; else
    /// from NVD's CVSS base score; else from the advisory's own CVSS score; else
    /// [`Severity::Unknown`].
    pub severity: Severity,
    /// Who said so: the distribution (`debian`, `ubuntu`, `rhel`, …), the OSV database
    /// (`osv (pypi)`) or `nvd`; `None` when the severity is unknown.
    pub severity_source: Option<String>,
    /// The CVSS assessment to show; `None` when neither the advisory nor NVD has one.
    pub cvss: Option<CvssScore>,
    /// The CISA KEV entry of the first of its CVE ids (the id, then the aliases) that has
    /// one: the vulnerability is exploited in the wild.
    pub kev: Option<Kev>,
    /// The EPSS score of the first of its CVE ids that has one.
    pub epss: Option<Epss>,
    /// The advisory's summary, else NVD's description of its first CVE.
    pub title: Option<String>,
    /// The feed's own words about this package (a `<no-dsa>` note, Go's vulnerable symbols,
    /// the fixes of Red Hat's other streams).
    pub note: Option<String>,
    /// The record the verdict rests on: when several feeds report the same id for the
    /// package, the most authoritative one's (the distro's tracker first).
    pub data_source: DataSource,
}

impl Finding {
    /// Fixable: a fixed version exists and nothing suppresses it.
    pub fn fixable(&self) -> bool {
        self.status == FindingStatus::Fixed && self.suppressed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_keep_their_spelling() {
        for (s, text) in [
            (Suppression::NotAffected { reason: None }, "not-affected"),
            (
                Suppression::NotAffected {
                    reason: Some("vulnerable code not present".into()),
                },
                "not-affected: vulnerable code not present",
            ),
            (
                Suppression::WontFix {
                    reason: "no-dsa: Minor issue".into(),
                },
                "wont-fix: no-dsa: Minor issue",
            ),
            (Suppression::Unimportant, "unimportant"),
        ] {
            assert_eq!(s.to_string(), text);
            assert_eq!(text.parse::<Suppression>(), Ok(s.clone()));
            assert_eq!(serde_json::to_value(&s).unwrap(), text);
        }
        for bad in ["", "wont-fix", "unimportant: x", "fixed"] {
            assert!(bad.parse::<Suppression>().is_err(), "{bad}");
        }
    }
}
