//! A finding: one vulnerability in one installed package, with where every fact came from.

use std::fmt;
use std::str::FromStr;

use customs_types::{Digest, Ecosystem, Feed, Namespace, Severity};
use customs_vulndb::{Epss, Kev};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
}

impl fmt::Display for Suppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAffected { reason: None } => f.write_str("not-affected"),
            Self::NotAffected { reason: Some(r) } => write!(f, "not-affected: {r}"),
            Self::WontFix { reason } => write!(f, "wont-fix: {reason}"),
            Self::Unimportant => f.write_str("unimportant"),
        }
    }
}

/// Text that is not a [`Suppression`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a suppression: {0:?} (expected not-affected[: REASON], wont-fix: REASON or unimportant)"
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    pub ecosystem: Ecosystem,
    pub purl: Option<String>,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    pub layer: Option<Digest>,
    pub layer_index: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CvssScore {
    pub version: String,
    pub vector: String,
    pub score: Option<f64>,
    pub source: Option<String>,
}

/// The record a finding rests on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataSource {
    pub feed: Feed,
    /// The input file and record, e.g. `data/DSA/list:1234`.
    pub record: String,
    pub namespace: Namespace,
    /// The package name the feed used (the source package for Debian and Ubuntu).
    pub package: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// The vulnerability id: a CVE where the record is one, else the advisory's own id.
    pub id: String,
    pub aliases: Vec<String>,
    pub package: PackageRef,
    /// The version compared against the advisory (a Debian source version for Debian feeds).
    pub installed_version: String,
    pub fixed_versions: Vec<String>,
    pub status: FindingStatus,
    /// Why it is hidden by default, if it is.
    pub suppressed: Option<Suppression>,
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
