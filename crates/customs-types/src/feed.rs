//! Where an advisory record came from.

use serde::{Deserialize, Serialize};

/// The upstream feed a record was read from. The input *formats* a feed comes in (Alpine's
/// secdb as YAML or JSON, OSV as JSON or YAML) are `customs-vulndb`'s business; this is the
/// publisher's data set, which is what a finding cites and what ranks one feed over another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feed {
    /// `data/CVE/list` of the Debian security tracker.
    DebianCveList,
    /// `data/DSA/list`: Debian Security Advisories.
    DebianDsa,
    /// `data/DLA/list`: Debian LTS Advisories.
    DebianDla,
    /// The tracker's JSON export (`/tracker/data/json`).
    DebianJson,
    /// Alpine's secdb.
    AlpineSecdb,
    /// The Ubuntu CVE tracker.
    UbuntuUct,
    /// Red Hat's CSAF VEX documents.
    RedhatCsaf,
    /// An OSV database (PyPA, Go, GHSA, …).
    Osv,
    /// The RustSec advisory database.
    RustSec,
    /// NVD's CVE API.
    Nvd,
    /// CISA's Known Exploited Vulnerabilities catalog.
    Kev,
    /// FIRST's Exploit Prediction Scoring System.
    Epss,
}

impl Feed {
    /// Every feed.
    pub const ALL: [Self; 12] = [
        Self::DebianCveList,
        Self::DebianDsa,
        Self::DebianDla,
        Self::DebianJson,
        Self::AlpineSecdb,
        Self::UbuntuUct,
        Self::RedhatCsaf,
        Self::Osv,
        Self::RustSec,
        Self::Nvd,
        Self::Kev,
        Self::Epss,
    ];

    /// Who publishes it, as a finding's `severity_source` names them.
    #[must_use]
    pub fn publisher(self) -> &'static str {
        match self {
            Self::DebianCveList | Self::DebianDsa | Self::DebianDla | Self::DebianJson => "debian",
            Self::AlpineSecdb => "alpine",
            Self::UbuntuUct => "ubuntu",
            Self::RedhatCsaf => "redhat",
            Self::Osv => "osv",
            Self::RustSec => "rustsec",
            Self::Nvd => "nvd",
            Self::Kev => "cisa",
            Self::Epss => "first",
        }
    }

    /// Whether it is CVE-keyed enrichment (scores, exploitation) rather than statements about
    /// packages.
    #[must_use]
    pub fn is_enrichment(self) -> bool {
        matches!(self, Self::Nvd | Self::Kev | Self::Epss)
    }
}

crate::name::named_by_serde!(Feed, "feed");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feed_has_one_name() {
        let mut seen = std::collections::BTreeSet::new();
        for f in Feed::ALL {
            assert!(seen.insert(f.as_str()), "{f:?}");
            assert_eq!(f.as_str().parse::<Feed>(), Ok(f));
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        assert_eq!(Feed::RustSec.to_string(), "rust-sec");
        assert!("osv-json".parse::<Feed>().is_err());
    }
}
