//! Rust crate (crates.io) versions: strict SemVer 2.0, as Cargo reads them.
//!
//! A version is exactly `MAJOR.MINOR.PATCH[-PRE][+BUILD]` by the SemVer 2.0 grammar: no `v`,
//! no whitespace, no leading zeros, no missing parts. Ordering is SemVer precedence (see
//! `semver`), in which build metadata takes no part, so `1.0.0+a` == `1.0.0+b` here (Cargo's
//! `semver` crate also orders by build metadata as a tie-break; crates.io refuses to publish
//! two versions that differ only there, so no real pair is affected).
//!
//! Cargo stores numbers in a `u64`; here they are compared by value at any length.
//!
//! [`compare`](crate::compare) reads OSV range events leniently (`"0"`, `v1.2`), as for npm:
//! see `semver`.

use std::cmp::Ordering;

use crate::semver::{self, Layout};
use crate::{Ecosystem, VersionError};

/// A valid Cargo version, parsed once.
///
/// `==` and `Ord` are SemVer precedence, so `"1.0.0+a"` == `"1.0.0"`;
/// [`Display`](std::fmt::Display) prints the string as given.
#[derive(Clone)]
pub struct CargoVersion {
    original: String,
    layout: Layout,
}

impl CargoVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether the version has a pre-release part (`1.0.0-rc.1`).
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.layout.pre.is_some()
    }
}

crate::version_traits!(CargoVersion, parsed_by parse);

impl Ord for CargoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (
            self.layout.parts(&self.original),
            other.layout.parts(&other.original),
        );
        a.precedence(&b)
    }
}

/// Checks a version by the SemVer 2.0 grammar.
pub(crate) fn parse(v: &str) -> Result<Layout, VersionError> {
    if v.is_empty() {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Cargo,
        });
    }
    semver::parse_strict(v, 0..v.len())
        .map(|strict| strict.layout)
        .map_err(|reason| VersionError::invalid(Ecosystem::Cargo, v, reason))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::str::FromStr;

    use super::*;

    fn v(s: &str) -> CargoVersion {
        s.parse().unwrap()
    }

    #[test]
    fn ordering() {
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.1") < v("1.0.0-alpha.beta"));
        assert!(v("1.0.0-beta.2") < v("1.0.0-beta.11"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert!(v("0.9.99") < v("0.10.0"));
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
        assert_eq!(
            v("18446744073709551616.0.0").to_string(),
            "18446744073709551616.0.0"
        );
        assert!(v("18446744073709551615.0.0") < v("18446744073709551616.0.0"));
    }

    #[test]
    fn strict_grammar() {
        for (s, reason) in [
            ("", "empty crates.io version"),
            ("v1.0.0", "'v' at byte 0 is not a major version"),
            ("=1.0.0", "'=' at byte 0"),
            (" 1.0.0", "' ' at byte 0"),
            ("1.0.0 ", "' ' at byte 5 follows the version"),
            ("1.0", "the patch version is missing"),
            ("1.0.0-", "empty pre-release identifier"),
            ("1.0.0-a.01", "leading zero"),
            ("1.0.0+", "empty build metadata identifier"),
        ] {
            let msg = CargoVersion::from_str(s).expect_err(s).to_string();
            assert!(msg.contains(reason), "{s:?}: {msg}");
            assert!(crate::validate(Ecosystem::Cargo, s).is_err(), "{s:?}");
        }
        assert!(CargoVersion::from_str("1.0.0-0.3.7+build.01").is_ok());
    }

    #[test]
    fn compare_reads_osv_range_events() {
        use Ordering::{Equal, Less};
        for (a, b, expected) in [
            ("0", "0.0.0", Equal),
            ("0", "0.0.1-alpha", Less),
            ("1.2", "1.2.0", Equal),
            ("v1.2.3", "1.2.3", Equal),
        ] {
            assert_eq!(
                crate::compare(Ecosystem::Cargo, a, b),
                Ok(expected),
                "{a} {b}"
            );
        }
        assert!(crate::compare(Ecosystem::Cargo, "", "1.0.0").is_err());
        assert!(crate::compare(Ecosystem::Cargo, "x", "1.0.0").is_err());
    }

    proptest! {
        #[test]
        fn display_round_trips(s in "(0|[1-9][0-9]{0,3})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]?)(-[a-z][a-z0-9]{0,2}(\\.(0|[1-9][0-9]?))?)?(\\+[a-z0-9]{1,3})?") {
            let parsed = v(&s);
            prop_assert_eq!(parsed.to_string(), s.clone());
            prop_assert_eq!(v(&parsed.to_string()), parsed.clone());
            prop_assert_eq!(crate::compare(Ecosystem::Cargo, &s, &s), Ok(Ordering::Equal));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,16}") {
            let _ = CargoVersion::from_str(&s);
            let _ = crate::compare(Ecosystem::Cargo, &s, "1.0.0");
        }
    }
}
