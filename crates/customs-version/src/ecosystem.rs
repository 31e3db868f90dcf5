//! Which package manager's rules a version follows.

use std::fmt;
use std::str::FromStr;

use crate::error::Excerpt;

/// An OS package ecosystem whose versions this crate orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    /// Debian and its derivatives (Ubuntu, ...): dpkg's rules.
    Deb,
    /// Red Hat and its derivatives (RHEL, Fedora, CentOS, SUSE, ...): rpm's rules.
    Rpm,
    /// Alpine (and Wolfi, ...): apk-tools' rules.
    Apk,
}

impl Ecosystem {
    /// The canonical name: `"deb"`, `"rpm"` or `"apk"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Rpm => "rpm",
            Self::Apk => "apk",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is none of the ecosystems [`Ecosystem::from_str`] knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ecosystem {}: expected deb, rpm or apk", Excerpt(.0))]
pub struct UnknownEcosystem(String);

impl FromStr for Ecosystem {
    type Err = UnknownEcosystem;

    /// Accepts the canonical names and the distribution or tool names that advisories and
    /// package URLs use for them, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [(&str, Ecosystem); 9] = [
            ("deb", Ecosystem::Deb),
            ("debian", Ecosystem::Deb),
            ("dpkg", Ecosystem::Deb),
            ("ubuntu", Ecosystem::Deb),
            ("rpm", Ecosystem::Rpm),
            ("redhat", Ecosystem::Rpm),
            ("rhel", Ecosystem::Rpm),
            ("apk", Ecosystem::Apk),
            ("alpine", Ecosystem::Apk),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, eco)| eco)
            .ok_or_else(|| UnknownEcosystem(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        for (name, eco) in [
            ("deb", Ecosystem::Deb),
            ("Debian", Ecosystem::Deb),
            ("DPKG", Ecosystem::Deb),
            ("ubuntu", Ecosystem::Deb),
            ("rpm", Ecosystem::Rpm),
            ("RedHat", Ecosystem::Rpm),
            ("rhel", Ecosystem::Rpm),
            ("apk", Ecosystem::Apk),
            ("ALPINE", Ecosystem::Apk),
        ] {
            assert_eq!(name.parse::<Ecosystem>(), Ok(eco), "{name}");
        }
        for eco in [Ecosystem::Deb, Ecosystem::Rpm, Ecosystem::Apk] {
            assert_eq!(eco.as_str().parse::<Ecosystem>(), Ok(eco));
            assert_eq!(eco.to_string(), eco.as_str());
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        for name in ["", "npm", "deb ", "alpine3.19", "débian"] {
            let err = name.parse::<Ecosystem>().unwrap_err();
            assert!(err.to_string().contains("unknown ecosystem"), "{err}");
        }
    }
}
