//! Advisory namespaces: where a feed's statement about a package applies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Ecosystem, excerpt};

/// Where a statement about a package applies, as the vulnerability database keys it:
///
/// - a distribution's own feed: `DISTRO:RELEASE` (`debian:12`, `debian:unstable`,
///   `ubuntu:22.04`, `alpine:3.10`, `rhel:9`), the distribution as os-release's `ID` names it;
/// - an OSV database: `osv:ECOSYSTEM`, OSV's ecosystem string as the record wrote it
///   (`osv:PyPI`, `osv:crates.io`, `osv:Debian:12`, `osv:Alpine:v3.10`, `osv:Ubuntu:22.04:LTS`).
///
/// A package is looked up in the namespaces of its image's distribution and of its own
/// language ecosystem; [`ecosystem`](Self::ecosystem) says whose packages a namespace speaks
/// of, so a changed advisory can be traced to the stored packages it concerns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace(String);

/// A string that is not a namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not an advisory namespace ({why}); expected DISTRO:RELEASE or osv:ECOSYSTEM", excerpt(.given))]
pub struct NamespaceError {
    given: String,
    why: &'static str,
}

/// Longer than any real one (OSV's longest ecosystem strings are a few tens of bytes).
const MAX_LEN: usize = 200;

impl Namespace {
    /// `DISTRO:RELEASE`, the distribution lower-cased.
    ///
    /// # Errors
    /// An empty or malformed distribution or release.
    pub fn distro(id: &str, release: &str) -> Result<Self, NamespaceError> {
        format!("{}:{release}", id.to_ascii_lowercase()).parse()
    }

    /// `osv:ECOSYSTEM` for an OSV ecosystem string (`PyPI`, `Debian:12`).
    ///
    /// # Errors
    /// An empty or malformed ecosystem string.
    pub fn osv(ecosystem: &str) -> Result<Self, NamespaceError> {
        format!("osv:{ecosystem}").parse()
    }

    /// The OSV namespace a language ecosystem's advisories are kept under (`osv:PyPI`); `None`
    /// for the OS ecosystems, whose advisories are per distribution release.
    #[must_use]
    pub fn language(ecosystem: Ecosystem) -> Option<Self> {
        ecosystem.osv_name().map(|n| Self(format!("osv:{n}")))
    }

    /// The namespace as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is an OSV database's.
    #[must_use]
    pub fn is_osv(&self) -> bool {
        self.0.starts_with("osv:")
    }

    /// The distribution (`debian`) or the OSV ecosystem's first part (`PyPI`, `Debian`).
    #[must_use]
    pub fn family(&self) -> &str {
        let rest = self.0.strip_prefix("osv:").unwrap_or(&self.0);
        rest.split(':').next().unwrap_or(rest)
    }

    /// What follows the family: a release (`12`, `v3.10`, `22.04:LTS`), if any.
    #[must_use]
    pub fn release(&self) -> Option<&str> {
        let rest = self.0.strip_prefix("osv:").unwrap_or(&self.0);
        rest.split_once(':').map(|(_, r)| r)
    }

    /// Whose packages its statements are about: a language ecosystem for `osv:PyPI` and the
    /// like, the distribution's package manager otherwise. `None` for an ecosystem customs has
    /// no packages of (`osv:Maven`, `osv:Hex`).
    #[must_use]
    pub fn ecosystem(&self) -> Option<Ecosystem> {
        let family = self.family();
        if self.is_osv()
            && let Some(language) = Ecosystem::ALL
                .into_iter()
                .find(|e| e.osv_name().is_some_and(|n| n.eq_ignore_ascii_case(family)))
        {
            return Some(language);
        }
        Ecosystem::of_distribution(family)
    }
}

impl FromStr for Namespace {
    type Err = NamespaceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why| NamespaceError {
            given: s.to_owned(),
            why,
        };
        if s.len() > MAX_LEN {
            return Err(bad("too long"));
        }
        if s.chars().any(char::is_control) {
            return Err(bad("control characters"));
        }
        let Some((family, rest)) = s.split_once(':') else {
            return Err(bad("no ':'"));
        };
        if family.is_empty() || family.trim() != family {
            return Err(bad("no distribution or database before ':'"));
        }
        if rest.trim().is_empty() {
            return Err(bad("nothing after ':'"));
        }
        if family == "osv" && rest.split(':').next().is_none_or(|e| e.trim().is_empty()) {
            return Err(bad("no OSV ecosystem"));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Namespace {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Namespace {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<String> for Namespace {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for Namespace {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Namespace {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for Namespace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Namespace {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> Namespace {
        s.parse().unwrap()
    }

    #[test]
    fn ecosystems_of_namespaces() {
        for (text, eco) in [
            ("debian:12", Some(Ecosystem::Deb)),
            ("debian:unstable", Some(Ecosystem::Deb)),
            ("ubuntu:22.04", Some(Ecosystem::Deb)),
            ("alpine:3.10", Some(Ecosystem::Apk)),
            ("rhel:9", Some(Ecosystem::Rpm)),
            ("osv:PyPI", Some(Ecosystem::PyPI)),
            ("osv:npm", Some(Ecosystem::Npm)),
            ("osv:crates.io", Some(Ecosystem::Cargo)),
            ("osv:Go", Some(Ecosystem::Go)),
            ("osv:Debian:12", Some(Ecosystem::Deb)),
            ("osv:Ubuntu:22.04:LTS", Some(Ecosystem::Deb)),
            ("osv:Alpine:v3.10", Some(Ecosystem::Apk)),
            ("osv:Rocky Linux:9", Some(Ecosystem::Rpm)),
            ("osv:Maven", Some(Ecosystem::Maven)),
            ("osv:RubyGems", Some(Ecosystem::Gem)),
            ("osv:Packagist", Some(Ecosystem::Composer)),
            ("osv:NuGet", Some(Ecosystem::NuGet)),
            ("osv:Hex", None),
            ("gentoo:2.0", None),
        ] {
            assert_eq!(ns(text).ecosystem(), eco, "{text}");
        }
        // Every language ecosystem's own namespace leads back to it.
        for eco in Ecosystem::ALL {
            match Namespace::language(eco) {
                Some(n) => assert_eq!(n.ecosystem(), Some(eco)),
                None => assert!(eco.is_os()),
            }
        }
    }

    #[test]
    fn parts() {
        let n = ns("osv:Ubuntu:22.04:LTS");
        assert!(n.is_osv());
        assert_eq!((n.family(), n.release()), ("Ubuntu", Some("22.04:LTS")));
        let n = Namespace::distro("Debian", "12").unwrap();
        assert_eq!(n.as_str(), "debian:12");
        assert_eq!((n.family(), n.release()), ("debian", Some("12")));
        assert_eq!(Namespace::osv("PyPI").unwrap(), "osv:PyPI");
        assert_eq!(serde_json::to_value(&n).unwrap(), "debian:12");
    }

    #[test]
    fn junk_is_refused() {
        for bad in [
            "", "debian", ":12", "debian:", "osv:", "osv::x", "a:\n", " x:1",
        ] {
            assert!(bad.parse::<Namespace>().is_err(), "{bad:?}");
        }
        assert!("x:".repeat(200).parse::<Namespace>().is_err());
    }
}
