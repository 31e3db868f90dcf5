//! npm versions: SemVer 2.0, read as node-semver reads a single version.
//!
//! A version is `MAJOR.MINOR.PATCH[-PRE][+BUILD]` by the SemVer 2.0 grammar, ordered by
//! SemVer precedence (see `semver`): build metadata is ignored, so `1.2.3+a` == `1.2.3+b`.
//! Like node-semver (`semver.clean`), surrounding whitespace and a leading `v` or `=` are
//! tolerated: ` =v1.2.3 ` is `1.2.3`.
//!
//! node-semver refuses numbers above 2^53 - 1 (JavaScript's safe integers); they are ordered
//! here by value instead, as nothing is gained by refusing a version that a lockfile holds.
//!
//! Ranges (`^1.2.3 || >=2.0.0-rc.1 <3`) are in [`npm_range`](crate::npm_range_matches).

use std::cmp::Ordering;

use crate::semver::{self, Layout};
use crate::{Ecosystem, VersionError};

/// A valid npm version, parsed once.
///
/// `==` and `Ord` are SemVer precedence, so `"1.2.3+a"` == `"v1.2.3"`;
/// [`Display`](std::fmt::Display) prints the string as given.
#[derive(Clone)]
pub struct NpmVersion {
    original: String,
    layout: Layout,
}

impl NpmVersion {
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

    pub(crate) fn parts(&self) -> semver::Parts<'_> {
        self.layout.parts(&self.original)
    }
}

crate::version_traits!(NpmVersion, parsed_by parse);

impl Ord for NpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().precedence(&other.parts())
    }
}

/// Checks a version as node-semver's `valid` does, after `clean`'s trimming.
pub(crate) fn parse(v: &str) -> Result<Layout, VersionError> {
    let span = semver::trim_prefix(Ecosystem::Npm, v)?;
    semver::parse_strict(v, span)
        .map(|strict| strict.layout)
        .map_err(|reason| VersionError::invalid(Ecosystem::Npm, v, reason))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::str::FromStr;

    use super::*;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    fn v(s: &str) -> NpmVersion {
        s.parse().unwrap()
    }

    #[test]
    fn tolerated_spellings() {
        assert_eq!(v(" =v1.2.3 "), v("1.2.3"));
        assert_eq!(v("v1.2.3"), v("1.2.3+build.1"));
        assert_eq!(v("v1.2.3").to_string(), "v1.2.3");
        assert!(v("1.0.0-rc.1").is_prerelease());
        assert!(!v("1.0.0+rc.1").is_prerelease());
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (s, reason) in [
            ("", "empty npm version"),
            ("  ", "empty npm version"),
            ("v", "the major version is missing"),
            ("1.2", "the patch version is missing"),
            ("1.2.3.4", "'.' at byte 5 follows the version"),
            ("01.2.3", "leading zero"),
            ("1.2.3-01", "leading zero"),
            ("1.2.3 x", "' ' at byte 5 follows the version"),
            ("^1.2.3", "'^' at byte 0 is not a major version"),
        ] {
            let msg = NpmVersion::from_str(s).expect_err(s).to_string();
            assert!(msg.contains(reason), "{s:?}: {msg}");
            assert!(crate::validate(Ecosystem::Npm, s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn hostile_input() {
        let huge = format!("{}.0.0", "9".repeat(100_000));
        let bigger = format!("1{}.0.0", "0".repeat(100_000));
        assert!(v(&huge) < v(&bigger));
        let long_pre = format!("1.0.0-{}", "a.1.".repeat(20_000) + "z");
        assert!(v(&long_pre) < v("1.0.0"));
        let msg = NpmVersion::from_str(&"1".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(msg.len() < 300, "{msg}");
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[1-9][0-9]{0,2}",
            2 => Just("0".to_owned()),
            1 => Just("90071992547409931234".to_owned()),
        ]
    }

    fn identifier() -> impl Strategy<Value = String> {
        prop_oneof![number(), "[0-9a-zA-Z-]{0,3}[a-zA-Z-][0-9a-zA-Z-]{0,3}"]
    }

    prop_compose! {
        fn npm_version()(
            core in [number(), number(), number()],
            pre in prop::option::of(prop::collection::vec(identifier(), 1..4)),
            build in prop::option::of("[0-9a-z]{1,4}(\\.[0-9A-Z-]{1,3}){0,2}"),
            prefix in prop::sample::select(vec!["", "v", "=", " v"]),
        ) -> String {
            let mut s = format!("{prefix}{}", core.join("."));
            if let Some(pre) = pre {
                s.push('-');
                s.push_str(&pre.join("."));
            }
            if let Some(build) = build {
                s.push('+');
                s.push_str(&build);
            }
            s
        }
    }

    proptest! {
        #[test]
        fn ordering_is_total(a in npm_version(), b in npm_version(), c in npm_version()) {
            assert_total_order(&v(&a), &v(&b), &v(&c), Ord::cmp);
        }

        #[test]
        fn sorting_is_consistent(vs in prop::collection::vec(npm_version(), 2..12)) {
            let mut vs: Vec<NpmVersion> = vs.iter().map(|s| v(s)).collect();
            assert_sorts_consistently(&mut vs, Ord::cmp);
        }

        #[test]
        fn typed_ordering_matches_compare(a in npm_version(), b in npm_version()) {
            prop_assert_eq!(Ok(v(&a).cmp(&v(&b))), crate::compare(Ecosystem::Npm, &a, &b));
        }

        #[test]
        fn display_round_trips(s in npm_version()) {
            let parsed = v(&s);
            prop_assert_eq!(parsed.to_string(), s.clone());
            prop_assert_eq!(v(&parsed.to_string()), parsed);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,16}") {
            let _ = NpmVersion::from_str(&s);
            let _ = crate::compare(Ecosystem::Npm, &s, "1.0.0");
        }
    }
}
