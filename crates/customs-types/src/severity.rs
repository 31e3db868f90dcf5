//! How bad a finding is.

use serde::{Deserialize, Serialize};

use crate::UnknownName;

/// A vendor's (or NVD's) severity, normalised to one scale. Ordered: `Unknown` is lowest,
/// `Critical` highest, so `severity >= Severity::High` reads as "high or worse".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No one rated it.
    Unknown,
    /// Debian's "unimportant" and Ubuntu's "negligible": the vendor sees no real risk.
    Negligible,
    /// Low.
    Low,
    /// Medium (GitHub's "moderate").
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Self; 6] = [
        Self::Unknown,
        Self::Negligible,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// The qualitative rating CVSS v3 and v4 give a base score (v3.1 specification, table 14):
    /// 9.0 and up critical, 7.0 high, 4.0 medium, above 0 low; 0 (or less) says nothing.
    #[must_use]
    pub fn from_cvss_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Self::Critical,
            s if s >= 7.0 => Self::High,
            s if s >= 4.0 => Self::Medium,
            s if s > 0.0 => Self::Low,
            _ => Self::Unknown,
        }
    }

    /// Read a severity as users and feeds write it: any case, surrounding blanks ignored,
    /// and GitHub's `moderate` for medium.
    ///
    /// # Errors
    /// A word that is none of the severities.
    pub fn parse_lenient(s: &str) -> Result<Self, UnknownName> {
        let word = s.trim().to_ascii_lowercase();
        if word == "moderate" {
            return Ok(Self::Medium);
        }
        word.parse()
    }
}

crate::name::named_by_serde!(Severity, "severity");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(Severity::Critical.to_string(), "critical");
        assert!(Severity::Critical > Severity::High && Severity::Negligible > Severity::Unknown);
    }

    #[test]
    fn lenient_reading() {
        assert_eq!(Severity::parse_lenient(" HIGH "), Ok(Severity::High));
        assert_eq!(Severity::parse_lenient("moderate"), Ok(Severity::Medium));
        let e = Severity::parse_lenient("severe").unwrap_err().to_string();
        assert!(e.contains("unknown severity \"severe\""), "{e}");
        assert!(e.contains("critical"), "{e}");
        assert!("High".parse::<Severity>().is_err(), "FromStr is exact");
    }

    #[test]
    fn cvss_bands() {
        assert_eq!(Severity::from_cvss_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(8.9), Severity::High);
        assert_eq!(Severity::from_cvss_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(0.1), Severity::Low);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Unknown);
    }
}
