//! RubyGems versions, ordered as `Gem::Version#<=>` orders them.
//!
//! Grammar, from `Gem::Version::VERSION_PATTERN` (RubyGems 3.x):
//! `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, with whitespace allowed around
//! it. A `-` means `.pre.` (`1.0-1` is `1.0.pre.1`).
//!
//! Ordering: the version is cut into segments, runs of digits (numbers) and runs of ASCII
//! letters (strings), everything else being a separator; a version with a letter is a
//! pre-release. The segments split at the first string into a release part and a pre-release
//! part, and each part loses its trailing zeros (`1.0.a.0` is `1.a`). Segments then compare one
//! by one, a missing one counting as `0`: numbers by value, strings byte by byte (so
//! case-sensitively: `B` < `a`), and a string before any number (`1.a` < `1` < `1.0.1`).
//!
//! # Two levels of acceptance
//!
//! [`validate`](crate::validate) and [`GemVersion`] accept what `Gem::Version.correct?`
//! accepts, except the empty (or blank) string, which RubyGems reads as `0` and this crate
//! refuses as it does for every ecosystem. [`compare`](crate::compare) orders any non-empty
//! string by its segments, as OSV does: advisory data holds spellings such as `1beta`, which
//! `Gem::Version.new` refuses but whose segments are plain. Numbers are never converted (Ruby's
//! are unbounded too), and only ASCII letters make strings.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::digits::{cmp_decimal, digit_run_end};
use crate::{Ecosystem, VersionError};

/// A valid RubyGems version, parsed once.
///
/// `==` and `Ord` are `Gem::Version`'s ordering (so `"1.0"` == `"1"` and `"1.0-1"` ==
/// `"1.0.pre.1"`); [`Display`](std::fmt::Display) prints the string as given.
#[derive(Clone)]
pub struct GemVersion {
    original: String,
}

impl GemVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether this is a pre-release (`Gem::Version#prerelease?`): it has a letter or a `-`.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.original
            .bytes()
            .any(|c| c.is_ascii_alphabetic() || c == b'-')
    }
}

impl FromStr for GemVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate(s)?;
        Ok(Self {
            original: s.to_owned(),
        })
    }
}

crate::version_traits!(GemVersion);

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_segments(&self.original, &other.original)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Number(&'a [u8]),
    String(&'a [u8]),
}

impl Segment<'_> {
    fn is_zero(self) -> bool {
        matches!(self, Segment::Number(digits) if digits.iter().all(|&c| c == b'0'))
    }

    fn cmp(self, other: Self) -> Ordering {
        match (self, other) {
            (Segment::Number(a), Segment::Number(b)) => cmp_decimal(a, b),
            (Segment::String(a), Segment::String(b)) => a.cmp(b),
            (Segment::String(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::String(_)) => Ordering::Greater,
        }
    }
}

const ZERO: Segment<'static> = Segment::Number(b"0");

/// The segments of `@version.scan(/[0-9]+|[a-z]+/i)`, where `@version` has each `-` replaced
/// by `.pre.`.
fn segments(s: &str) -> Vec<Segment<'_>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let end = digit_run_end(b, i);
            out.push(Segment::Number(&b[i..end]));
            i = end;
        } else if c.is_ascii_alphabetic() {
            let end = i + b[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            out.push(Segment::String(&b[i..end]));
            i = end;
        } else {
            if c == b'-' {
                out.push(Segment::String(b"pre"));
            }
            i += 1;
        }
    }
    out
}

/// `Gem::Version#canonical_segments`: each of the release part (up to the first string) and
/// the pre-release part loses its trailing zeros.
fn canonical(s: &str) -> Vec<Segment<'_>> {
    let mut segs = segments(s);
    let split = segs
        .iter()
        .position(|s| matches!(s, Segment::String(_)))
        .unwrap_or(segs.len());
    let mut pre = segs.split_off(split);
    while pre.last().is_some_and(|s| s.is_zero()) {
        pre.pop();
    }
    while segs.last().is_some_and(|s| s.is_zero()) {
        segs.pop();
    }
    segs.append(&mut pre);
    segs
}

/// `Gem::Version#<=>` on any two strings.
fn compare_segments(a: &str, b: &str) -> Ordering {
    let (a, b) = (canonical(a), canonical(b));
    (0..a.len().max(b.len()))
        .map(|i| {
            let x = a.get(i).copied().unwrap_or(ZERO);
            let y = b.get(i).copied().unwrap_or(ZERO);
            x.cmp(y)
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Orders any two non-empty strings by their segments.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    for v in [a, b] {
        if v.is_empty() {
            return Err(VersionError::Empty {
                ecosystem: Ecosystem::Gem,
            });
        }
    }
    Ok(compare_segments(a, b))
}

/// Ruby's `\s`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Checks a version against `Gem::Version::ANCHORED_VERSION_PATTERN`.
pub(crate) fn validate(v: &str) -> Result<(), VersionError> {
    let b = v.as_bytes();
    let start = b.iter().take_while(|&&c| is_space(c)).count();
    let end = b.len()
        - b[start..]
            .iter()
            .rev()
            .take_while(|&&c| is_space(c))
            .count();
    if start == end {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Gem,
        });
    }
    let err = |at: usize, what: &str| {
        let c = v[at..].chars().next().unwrap_or(' ');
        VersionError::invalid(Ecosystem::Gem, v, format!("{c:?} at byte {at} {what}"))
    };
    let mut i = digit_run_end(&b[..end], start);
    if i == start {
        return Err(err(start, "is not a digit, which a version starts with"));
    }
    // `(\.[0-9a-zA-Z]+)*`, then at most one `-` part whose segments may also hold `-`.
    let mut dashed = false;
    while i < end {
        match b[i] {
            b'.' => {}
            b'-' if !dashed => dashed = true,
            _ => return Err(err(i, "does not belong in a version")),
        }
        let from = i + 1;
        i = from
            + b[from..end]
                .iter()
                .take_while(|&&c| c.is_ascii_alphanumeric() || (dashed && c == b'-'))
                .count();
        if i == from {
            return Err(err(
                from - 1,
                "is not followed by a letter or digit, as a segment must be",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn gem_ordering() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("1.0", "1", Equal),
            ("1.0.0", "1.0", Equal),
            ("1.0.a", "1.a", Equal),
            ("1.0.a.0", "1.a", Equal),
            ("1.a", "1", Less),
            ("1.0.0.pre", "1.0.0", Less),
            ("1.0.0.rc1", "1.0.0.rc2", Less),
            ("1.0.0.rc10", "1.0.0.rc2", Greater),
            ("1.0.0.beta", "1.0.0.alpha", Greater),
            ("1.0.0.B", "1.0.0.a", Less),
            ("1.0-1", "1.0.pre.1", Equal),
            ("1.0-1", "1.0", Less),
            ("1.0.a", "1.0.0.1", Less),
            ("1.9.3", "1.10", Less),
            ("0.10.0a1", "0.10.0.a.1", Equal),
            ("1beta", "1", Less),
            ("2.0.0.rc.1", "2.0.0.rc1", Equal),
            ("1.01", "1.1", Equal),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn validation_follows_the_pattern() {
        for v in [
            "0",
            "1.0",
            "1.0.a",
            "1.0.0.rc1",
            "1.0-1",
            "1.0-beta-1.2",
            "1--",
            " 1.0\n",
            "007",
        ] {
            assert!(GemVersion::from_str(v).is_ok(), "{v:?}");
        }
        for (v, reason) in [
            ("", "empty RubyGems version"),
            ("  ", "empty RubyGems version"),
            ("1beta", "'b' at byte 1 does not belong"),
            ("a1", "'a' at byte 0 is not a digit"),
            ("1..0", "'.' at byte 1 is not followed"),
            ("1.0.", "'.' at byte 3 is not followed"),
            ("1.0-", "'-' at byte 3 is not followed"),
            ("1.0-a-b.c-d", ""),
            ("1.0 1", "' ' at byte 3"),
            ("1.0-a_b", "'_' at byte 5"),
            ("1-a-b", ""),
            ("1.0.-1", "'.' at byte 3 is not followed"),
        ] {
            let result = GemVersion::from_str(v);
            if reason.is_empty() {
                assert!(result.is_ok(), "{v:?}");
                continue;
            }
            let msg = result
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert!(msg.contains(reason), "{v:?}: {msg}");
        }
        assert!(GemVersion::from_str("1.0.0.rc1").unwrap().is_prerelease());
        assert!(GemVersion::from_str("1.0-1").unwrap().is_prerelease());
        assert!(!GemVersion::from_str("1.0.0").unwrap().is_prerelease());
    }

    #[test]
    fn hostile_input() {
        let huge = format!("{}.1", "9".repeat(100_000));
        let bigger = format!("1{}", "0".repeat(100_000));
        assert_eq!(cmp(&huge, &bigger), Ordering::Less);
        let zeros = format!("1{}", ".0".repeat(50_000));
        assert_eq!(cmp(&zeros, "1"), Ordering::Equal);
        let dashes = "-".repeat(100_000);
        assert_eq!(cmp(&dashes, "0"), Ordering::Less);
        assert!(GemVersion::from_str(&format!("1{}", ".a".repeat(50_000))).is_ok());
    }

    prop_compose! {
        fn gem_version()(
            release in prop::collection::vec("0|[1-9][0-9]{0,2}|0[0-9]", 1..5),
            pre in prop::option::of(prop::collection::vec("[0-9]{1,2}|pre|rc|beta|[a-zA-Z]{1,3}", 1..4)),
            dash in prop::option::of("[0-9a-z]{1,3}"),
        ) -> String {
            let mut v = release.join(".");
            if let Some(pre) = pre {
                v.push('.');
                v.push_str(&pre.join("."));
            }
            if let Some(d) = dash {
                v.push('-');
                v.push_str(&d);
            }
            v
        }
    }

    proptest! {
        #[test]
        fn generated_versions_are_valid(v in gem_version()) {
            prop_assert!(GemVersion::from_str(&v).is_ok(), "{v}");
        }

        #[test]
        fn ordering_is_total(a in gem_version(), b in gem_version(), c in gem_version()) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn ordering_is_total_on_any_string(a in "[0-9a-zA-Z.-]{1,10}", b in "[0.1a-]{1,10}", c in "\\PC{1,8}") {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(gem_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| cmp(a, b));
        }

        #[test]
        fn typed_ordering_matches_compare(a in gem_version(), b in gem_version()) {
            let (va, vb) = (GemVersion::from_str(&a).unwrap(), GemVersion::from_str(&b).unwrap());
            prop_assert_eq!(va.cmp(&vb), cmp(&a, &b));
            prop_assert_eq!(va == vb, cmp(&a, &b) == Ordering::Equal);
            prop_assert_eq!(va.to_string(), a);
        }

        #[test]
        fn validation_never_panics(v in "\\PC{0,16}") {
            let _ = crate::validate(Ecosystem::Gem, &v);
        }
    }
}
