//! Which package manager's rules a version follows.

use std::fmt;
use std::str::FromStr;

use crate::error::Excerpt;

/// A package ecosystem whose versions this crate orders: an OS package manager's, or a
/// language's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    /// Debian and its derivatives (Ubuntu, ...): dpkg's rules.
    Deb,
    /// Red Hat and its derivatives (RHEL, Fedora, CentOS, SUSE, ...): rpm's rules.
    Rpm,
    /// Alpine (and Wolfi, ...): apk-tools' rules.
    Apk,
    /// Python packages: PEP 440.
    PyPI,
    /// JavaScript packages: SemVer 2.0 as node-semver reads it.
    Npm,
    /// Rust crates: strict SemVer 2.0.
    Cargo,
    /// Go modules and the Go toolchain: SemVer 2.0 with a `v`, pseudo-versions, `go1.x`.
    Go,
}

impl Ecosystem {
    /// Every ecosystem, in declaration order.
    pub const ALL: [Ecosystem; 7] = [
        Self::Deb,
        Self::Rpm,
        Self::Apk,
        Self::PyPI,
        Self::Npm,
        Self::Cargo,
        Self::Go,
    ];

    /// The canonical name: `"deb"`, `"rpm"` and `"apk"` for the OS ecosystems, and OSV's
    /// ecosystem names for the languages: `"PyPI"`, `"npm"`, `"crates.io"`, `"Go"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Rpm => "rpm",
            Self::Apk => "apk",
            Self::PyPI => "PyPI",
            Self::Npm => "npm",
            Self::Cargo => "crates.io",
            Self::Go => "Go",
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
#[error(
    "unknown ecosystem {}: expected deb, rpm, apk, PyPI, npm, crates.io or Go",
    Excerpt(.0)
)]
pub struct UnknownEcosystem(String);

impl FromStr for Ecosystem {
    type Err = UnknownEcosystem;

    /// Accepts the canonical names and the distribution, tool or package-URL type names that
    /// advisories and package URLs use for them, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [(&str, Ecosystem); 17] = [
            ("deb", Ecosystem::Deb),
            ("debian", Ecosystem::Deb),
            ("dpkg", Ecosystem::Deb),
            ("ubuntu", Ecosystem::Deb),
            ("rpm", Ecosystem::Rpm),
            ("redhat", Ecosystem::Rpm),
            ("rhel", Ecosystem::Rpm),
            ("apk", Ecosystem::Apk),
            ("alpine", Ecosystem::Apk),
            ("PyPI", Ecosystem::PyPI),
            ("python", Ecosystem::PyPI),
            ("pip", Ecosystem::PyPI),
            ("npm", Ecosystem::Npm),
            ("crates.io", Ecosystem::Cargo),
            ("cargo", Ecosystem::Cargo),
            ("Go", Ecosystem::Go),
            ("golang", Ecosystem::Go),
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
            ("PyPI", Ecosystem::PyPI),
            ("pypi", Ecosystem::PyPI),
            ("npm", Ecosystem::Npm),
            ("crates.io", Ecosystem::Cargo),
            ("Cargo", Ecosystem::Cargo),
            ("Go", Ecosystem::Go),
            ("golang", Ecosystem::Go),
        ] {
            assert_eq!(name.parse::<Ecosystem>(), Ok(eco), "{name}");
        }
        for eco in Ecosystem::ALL {
            assert_eq!(eco.as_str().parse::<Ecosystem>(), Ok(eco));
            assert_eq!(eco.to_string(), eco.as_str());
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        for name in [
            "",
            "maven",
            "deb ",
            "alpine3.19",
            "débian",
            "crates",
            "go1.21",
        ] {
            let err = name.parse::<Ecosystem>().unwrap_err();
            assert!(err.to_string().contains("unknown ecosystem"), "{err}");
        }
    }
}
