//! Package ecosystems: which package manager installed a package, whose version rules order
//! it, and under which name advisories list it.

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::UnknownName;

/// A package ecosystem: an OS package manager's or a language's.
///
/// The one type for it in the workspace. Inventories, package URLs, store keys and the
/// command line spell it as [`as_str`](Self::as_str) (the purl type); advisories in OSV form
/// spell the language ones as [`osv_name`](Self::osv_name). Matches over it are exhaustive,
/// so adding a variant makes the compiler list every place that must learn about it: its
/// version rules (`customs-version`), its analyzers (`customs-catalog`), its namespaces
/// ([`Namespace::ecosystem`](crate::Namespace::ecosystem)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Ecosystem {
    /// Debian and its derivatives (Ubuntu, …): dpkg.
    #[serde(rename = "deb")]
    Deb,
    /// Alpine (and Wolfi, …): apk-tools.
    #[serde(rename = "apk")]
    Apk,
    /// Red Hat and its derivatives (RHEL, Fedora, CentOS, SUSE, …): rpm.
    #[serde(rename = "rpm")]
    Rpm,
    /// Python packages: PEP 440 versions, PEP 503 names.
    #[serde(rename = "pypi")]
    PyPI,
    /// JavaScript packages: node-semver.
    #[serde(rename = "npm")]
    Npm,
    /// Rust crates: SemVer as Cargo reads it.
    #[serde(rename = "cargo")]
    Cargo,
    /// Go modules and the Go toolchain.
    #[serde(rename = "golang")]
    Go,
    /// Java (and JVM) artifacts: Maven's ComparableVersion; named `groupId:artifactId`.
    #[serde(rename = "maven")]
    Maven,
    /// Ruby gems: `Gem::Version`.
    #[serde(rename = "gem")]
    Gem,
    /// PHP packages installed by Composer (OSV's Packagist): Composer's version rules.
    #[serde(rename = "composer")]
    Composer,
    /// .NET packages: NuGet's SemVer 2 with four-part versions.
    #[serde(rename = "nuget")]
    NuGet,
}

impl Ecosystem {
    /// Every ecosystem: the OS ones first, then the languages.
    pub const ALL: [Self; 11] = [
        Self::Deb,
        Self::Apk,
        Self::Rpm,
        Self::PyPI,
        Self::Npm,
        Self::Cargo,
        Self::Go,
        Self::Maven,
        Self::Gem,
        Self::Composer,
        Self::NuGet,
    ];

    /// The name as inventories, purls and the store spell it: `deb`, `apk`, `rpm`, `pypi`,
    /// `npm`, `cargo`, `golang`, `maven`, `gem`, `composer`, `nuget`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        crate::name::variant_name(&self)
    }

    /// Whether an OS package manager's (as opposed to a language's).
    #[must_use]
    pub fn is_os(self) -> bool {
        match self {
            Self::Deb | Self::Apk | Self::Rpm => true,
            Self::PyPI
            | Self::Npm
            | Self::Cargo
            | Self::Go
            | Self::Maven
            | Self::Gem
            | Self::Composer
            | Self::NuGet => false,
        }
    }

    /// OSV's name of a language ecosystem (`PyPI`, `npm`, `crates.io`, `Go`, `Maven`,
    /// `RubyGems`, `Packagist`, `NuGet`), the `osv:`
    /// namespace its advisories are kept under. OS ecosystems have none: OSV names their
    /// distributions instead (`Debian:12`).
    #[must_use]
    pub fn osv_name(self) -> Option<&'static str> {
        match self {
            Self::PyPI => Some("PyPI"),
            Self::Npm => Some("npm"),
            Self::Cargo => Some("crates.io"),
            Self::Go => Some("Go"),
            Self::Maven => Some("Maven"),
            Self::Gem => Some("RubyGems"),
            Self::Composer => Some("Packagist"),
            Self::NuGet => Some("NuGet"),
            Self::Deb | Self::Apk | Self::Rpm => None,
        }
    }

    /// The name for messages: OSV's for a language (`PyPI`, `crates.io`, `Go`), the package
    /// format for an OS ecosystem (`deb`).
    #[must_use]
    pub fn label(self) -> &'static str {
        self.osv_name().unwrap_or(self.as_str())
    }

    /// The name as advisories key a package: PyPI names are compared PEP 503-normalised,
    /// NuGet and Composer names in lower case (both registries treat names case-insensitively:
    /// `Newtonsoft.Json` is `newtonsoft.json`), every other ecosystem's as written.
    #[must_use]
    pub fn match_name(self, name: &str) -> String {
        match self {
            Self::PyPI => pep503_name(name),
            Self::NuGet | Self::Composer => name.to_lowercase(),
            Self::Deb
            | Self::Apk
            | Self::Rpm
            | Self::Npm
            | Self::Cargo
            | Self::Go
            | Self::Maven
            | Self::Gem => name.to_owned(),
        }
    }

    /// The package manager of a distribution, named by its os-release `ID` or by OSV's name
    /// for it, in any case: `debian`, `Ubuntu`, `alpine`, `rhel`, `Rocky Linux`, …
    #[must_use]
    pub fn of_distribution(name: &str) -> Option<Self> {
        const FAMILIES: [(Ecosystem, &[&str]); 3] = [
            (
                Ecosystem::Deb,
                &["debian", "ubuntu", "raspbian", "linuxmint", "kali"],
            ),
            (
                Ecosystem::Apk,
                &["alpine", "wolfi", "chainguard", "postmarketos"],
            ),
            (
                Ecosystem::Rpm,
                &[
                    "rhel",
                    "redhat",
                    "red hat",
                    "centos",
                    "rocky",
                    "rocky linux",
                    "almalinux",
                    "fedora",
                    "amzn",
                    "amazon linux",
                    "ol",
                    "oracle",
                    "sles",
                    "suse",
                    "opensuse",
                    "opensuse-leap",
                    "opensuse-tumbleweed",
                    "photon",
                    "mariner",
                    "azurelinux",
                ],
            ),
        ];
        FAMILIES
            .iter()
            .find(|(_, ids)| ids.iter().any(|id| id.eq_ignore_ascii_case(name)))
            .map(|(eco, _)| *eco)
    }

    /// The spellings [`FromStr`] accepts besides [`as_str`](Self::as_str) and
    /// [`osv_name`](Self::osv_name): distribution, tool and language names.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Deb => &["debian", "dpkg", "ubuntu"],
            Self::Apk => &["alpine"],
            Self::Rpm => &["redhat", "rhel"],
            Self::PyPI => &["python", "pip"],
            Self::Npm => &[],
            Self::Cargo => &[],
            Self::Go => &["go"],
            Self::Maven => &["java", "mvn"],
            Self::Gem => &["ruby", "rubygem"],
            Self::Composer => &["php"],
            Self::NuGet => &["dotnet", ".net"],
        }
    }
}

/// A Python package name normalised as PEP 503 says: lower case (Unicode's), every run of `-`, `_` and
/// `.` one `-`. Two names are the same package when these are equal.
#[must_use]
pub fn pep503_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ecosystem {
    type Err = UnknownName;

    /// The canonical name, OSV's name, or a distribution, tool or language name for it, in any
    /// case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| {
                std::iter::once(e.as_str())
                    .chain(e.osv_name())
                    .chain(e.aliases().iter().copied())
                    .any(|name| name.eq_ignore_ascii_case(s))
            })
            .ok_or_else(|| UnknownName::new("ecosystem", s, Self::ALL.map(Self::as_str)))
    }
}

impl<'de> Deserialize<'de> for Ecosystem {
    /// Lenient, as [`FromStr`]: stored data may use any of the names.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
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
            ("python", Ecosystem::PyPI),
            ("npm", Ecosystem::Npm),
            ("crates.io", Ecosystem::Cargo),
            ("Cargo", Ecosystem::Cargo),
            ("Go", Ecosystem::Go),
            ("golang", Ecosystem::Go),
            ("maven", Ecosystem::Maven),
            ("Maven", Ecosystem::Maven),
            ("java", Ecosystem::Maven),
            ("RubyGems", Ecosystem::Gem),
            ("gem", Ecosystem::Gem),
            ("Packagist", Ecosystem::Composer),
            ("composer", Ecosystem::Composer),
            ("NuGet", Ecosystem::NuGet),
            ("nuget", Ecosystem::NuGet),
        ] {
            assert_eq!(name.parse::<Ecosystem>(), Ok(eco), "{name}");
        }
        for eco in Ecosystem::ALL {
            assert_eq!(eco.as_str().parse::<Ecosystem>(), Ok(eco));
            assert_eq!(eco.to_string(), eco.as_str());
            assert_eq!(serde_json::to_value(eco).unwrap(), eco.as_str());
            if let Some(osv) = eco.osv_name() {
                assert_eq!(osv.parse::<Ecosystem>(), Ok(eco));
                assert!(!eco.is_os());
            } else {
                assert!(eco.is_os());
            }
        }
        assert_eq!(
            serde_json::from_str::<Ecosystem>("\"crates.io\"").unwrap(),
            Ecosystem::Cargo
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        for name in [
            "",
            "mavem",
            "deb ",
            "alpine3.19",
            "débian",
            "crates",
            "go1.21",
        ] {
            let err = name.parse::<Ecosystem>().unwrap_err();
            assert!(err.to_string().contains("unknown ecosystem"), "{err}");
        }
        let long = "x".repeat(10_000);
        assert!(long.parse::<Ecosystem>().unwrap_err().to_string().len() < 300);
    }

    #[test]
    fn pep503() {
        assert_eq!(pep503_name("Jinja2"), "jinja2");
        assert_eq!(pep503_name("zope.interface"), "zope-interface");
        assert_eq!(pep503_name("A__B-._C"), "a-b-c");
        assert_eq!(pep503_name("_x_"), "-x-");
        assert_eq!(
            Ecosystem::PyPI.match_name("Requests_OAuthlib"),
            "requests-oauthlib"
        );
        assert_eq!(Ecosystem::Npm.match_name("@Scope/Pkg"), "@Scope/Pkg");
        assert_eq!(
            Ecosystem::NuGet.match_name("Newtonsoft.Json"),
            "newtonsoft.json"
        );
        assert_eq!(
            Ecosystem::Maven.match_name("org.apache.logging.log4j:log4j-core"),
            "org.apache.logging.log4j:log4j-core"
        );
    }
}
