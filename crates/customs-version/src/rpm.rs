//! RPM versions, ordered as rpm orders them.
//!
//! An rpm version is an EVR, `[epoch:]version[-release]`, split as rpm splits it:
//!
//! - The **epoch** is a run of digits at the very start followed by a colon. Anything else
//!   before a colon is not an epoch (`a:1` is a version with a colon in it, and there is no
//!   epoch), and a missing or empty epoch is 0.
//! - The **release** is everything after the *last* hyphen. A version without one sorts before
//!   the same version with any release, even an empty one (`1` < `1-` < `1-0`).
//!
//! Each part compares with rpmvercmp (the algorithm in rpm's `rpmvercmp.c`, described in the rpm
//! documentation and Fedora's packaging guidelines):
//!
//! - Only ASCII letters and digits carry meaning; every other byte is a separator, and runs of
//!   separators are all alike (`1.0` = `1_0` = `1..0`, `1.1.α` = `1.1.β`).
//! - `~` sorts before everything, even the end of the string: `1.0~rc1` < `1.0`.
//! - `^` sorts after the end of the string but before anything else: `1.0` < `1.0^git1` < `1.0.1`.
//! - The rest is split into segments of digits or of letters. A numeric segment beats an
//!   alphabetic one; numeric segments compare as numbers (`10.0001` = `10.1`), alphabetic ones
//!   byte by byte.
//! - When one string runs out first, the longer one is newer (`1.0` < `1.0.1`).
//!
//! rpm compares any non-empty string, so that is what is valid here; a NUL byte is refused as
//! well, because rpm would read the string only up to it. This matches rpm 4.18's
//! `rpm.vercmp`, against which it has been checked.

use std::cmp::Ordering;
use std::ops::Range;

use crate::digits::{cmp_decimal, digit_run_end};
use crate::{Ecosystem, VersionError};

/// A valid RPM version (EVR), parsed once.
///
/// `==` and `Ord` are rpm's ordering, so `"1.0"` == `"0:1_0"`; [`Display`](std::fmt::Display)
/// prints the string as given.
#[derive(Clone)]
pub struct RpmVersion {
    original: String,
    layout: Layout,
}

/// Where the parts of an EVR lie in its string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    epoch: Option<Range<usize>>,
    version: Range<usize>,
    release: Option<Range<usize>>,
}

impl RpmVersion {
    /// The epoch digits as written, if the EVR has an epoch (they may be empty, as in `:1.0`,
    /// which means 0).
    #[must_use]
    pub fn epoch(&self) -> Option<&str> {
        self.layout.epoch.clone().map(|r| &self.original[r])
    }

    /// The version: between the epoch and the release.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.original[self.layout.version.clone()]
    }

    /// The release, after the last hyphen, if there is one.
    #[must_use]
    pub fn release(&self) -> Option<&str> {
        self.layout.release.clone().map(|r| &self.original[r])
    }

    /// The EVR as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

crate::version_traits!(RpmVersion, parsed_by parse);

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_layouts(&self.original, &self.layout, &other.original, &other.layout)
    }
}

/// Splits an EVR as rpm does.
pub(crate) fn parse(s: &str) -> Result<Layout, VersionError> {
    if s.is_empty() {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Rpm,
        });
    }
    if s.contains('\0') {
        return Err(VersionError::invalid(
            Ecosystem::Rpm,
            s,
            "it contains a NUL byte, which rpm cannot hold",
        ));
    }
    let b = s.as_bytes();
    let digits_end = digit_run_end(b, 0);
    let (epoch, version_start) = if b.get(digits_end) == Some(&b':') {
        (Some(0..digits_end), digits_end + 1)
    } else {
        (None, 0)
    };
    // rpm looks for the release hyphen only past the leading digits, so with an epoch the
    // hyphen always lies after its colon.
    let (version_end, release) = match s[digits_end..].rfind('-') {
        Some(at) => (digits_end + at, Some(digits_end + at + 1..s.len())),
        None => (s.len(), None),
    };
    Ok(Layout {
        epoch,
        version: version_start..version_end,
        release,
    })
}

/// rpm's ordering of two parsed EVRs: epoch, then version, then release.
pub(crate) fn compare_layouts(a: &str, la: &Layout, b: &str, lb: &Layout) -> Ordering {
    // Epochs are digit runs, and a missing or empty one is 0 for rpm just as for `cmp_decimal`.
    let epoch_a = la.epoch.clone().map_or(&b""[..], |r| &a.as_bytes()[r]);
    let epoch_b = lb.epoch.clone().map_or(&b""[..], |r| &b.as_bytes()[r]);
    cmp_decimal(epoch_a, epoch_b)
        .then_with(|| {
            rpmvercmp(
                &a.as_bytes()[la.version.clone()],
                &b.as_bytes()[lb.version.clone()],
            )
        })
        .then_with(|| match (&la.release, &lb.release) {
            (Some(ra), Some(rb)) => rpmvercmp(&a.as_bytes()[ra.clone()], &b.as_bytes()[rb.clone()]),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        })
}

fn is_separator(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || c == b'~' || c == b'^')
}

/// Compares one part of an EVR (epoch, version or release) as rpm's `rpmvercmp` does.
pub(crate) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    loop {
        while a.get(i).is_some_and(|&c| is_separator(c)) {
            i += 1;
        }
        while b.get(j).is_some_and(|&c| is_separator(c)) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());

        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            (i, j) = (i + 1, j + 1);
            continue;
        }
        // `^` is newer than the end of the string but older than any further segment.
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (Some(b'^'), Some(b'^')) => {
                    (i, j) = (i + 1, j + 1);
                    continue;
                }
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(b'^'), _) => return Ordering::Less,
                _ => return Ordering::Greater,
            }
        }
        let (Some(ca), Some(_)) = (ca, cb) else { break };

        // Past the separators and markers both sides are at a letter or a digit; the segment
        // type is the one `a` starts with.
        let numeric = ca.is_ascii_digit();
        let in_segment = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let end_a = i + a[i..].iter().take_while(|c| in_segment(c)).count();
        let end_b = j + b[j..].iter().take_while(|c| in_segment(c)).count();
        if end_b == j {
            // Segments of different types: the numeric one is newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let order = if numeric {
            cmp_decimal(&a[i..end_a], &b[j..end_b])
        } else {
            a[i..end_a].cmp(&b[j..end_b])
        };
        if order != Ordering::Equal {
            return order;
        }
        (i, j) = (end_a, end_b);
    }
    // Whoever still has something left (after the separators) is newer.
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::str::FromStr;

    use super::*;
    use crate::compare;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(Ecosystem::Rpm, a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rpm_ordering() {
        use Ordering::{Equal, Greater, Less};
        // Each checked against rpm 4.18's `rpm.vercmp`.
        for (a, b, expected) in [
            ("1.0", "1_0", Equal),
            ("10.0001", "10.1", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1~git1", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("1^", "1~", Greater),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0.1", Less),
            ("1a", "1.1", Less),
            ("2.0", "2a", Greater),
            ("1", "1-1", Less),
            ("1-", "1", Greater),
            ("1-", "1-0", Less),
            (":1", "0:1", Equal),
            ("1:", "1", Greater),
            ("-1", "0", Less),
            ("1-2-3", "1-2", Greater),
            ("1:2:3", "1:2", Greater),
            ("a:1", "0:a", Greater),
            ("00001:1", "1:1", Equal),
            ("99999999999999999999:1", "1:1", Greater),
            (" 1", "1", Equal),
            ("1.1.α", "1.1.a", Less),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn parts() {
        let v: RpmVersion = "2:1.0-3.el9-1.x".parse().unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (Some("2"), "1.0-3.el9", Some("1.x"))
        );
        let v: RpmVersion = "a:1-2".parse().unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (None, "a:1", Some("2"))
        );
        let v: RpmVersion = ":-".parse().unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (Some(""), "", Some(""))
        );
        assert_eq!(format!("{v:?}"), r#"RpmVersion(":-")"#);
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (v, reason) in [("", "empty rpm version"), ("1.0\0", "NUL")] {
            let msg = RpmVersion::from_str(v).expect_err(v).to_string();
            assert!(msg.contains(reason), "{v:?}: {msg}");
            assert!(crate::validate(Ecosystem::Rpm, v).is_err());
            assert!(compare(Ecosystem::Rpm, v, "1").is_err());
            assert!(compare(Ecosystem::Rpm, "1", v).is_err());
        }
    }

    #[test]
    fn hostile_input() {
        let zeros = format!("1.{}1", "0".repeat(100_000));
        assert_eq!(cmp(&zeros, "1.1"), Ordering::Equal);
        let huge = format!("{}:1", "9".repeat(100_000));
        assert_eq!(cmp(&huge, "1:2"), Ordering::Greater);
        let separators = format!("1{}", ".".repeat(100_000));
        assert_eq!(cmp(&separators, "1"), Ordering::Equal);
        let tildes = "~".repeat(100_000);
        assert_eq!(cmp(&tildes, "~"), Ordering::Less);
        let carets = "^".repeat(100_000);
        assert_eq!(cmp(&carets, "^"), Ordering::Greater);
        let hyphens = "-".repeat(100_000);
        assert_eq!(cmp(&hyphens, &hyphens), Ordering::Equal);
        let mixed = "a1.".repeat(40_000);
        assert_eq!(cmp(&mixed, &format!("{mixed}0")), Ordering::Less);
    }

    /// Realistic pieces of rpm versions: `~` and `^`, distribution tags, separators, epochs,
    /// and non-ASCII that rpm treats as separators.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,3}",
            Just("0".to_owned()),
            Just("000".to_owned()),
            Just("18446744073709551616".to_owned()),
            "[a-zA-Z]{1,3}",
            Just(".".to_owned()),
            Just("_".to_owned()),
            Just("+".to_owned()),
            Just("~".to_owned()),
            Just("^".to_owned()),
            Just("~rc".to_owned()),
            Just("^git".to_owned()),
            Just(".el9".to_owned()),
            Just("α".to_owned()),
        ]
    }

    prop_compose! {
        fn rpm_version()(
            epoch in prop::option::of("[0-9]{0,3}"),
            version in prop::collection::vec(piece(), 1..6),
            release in prop::option::of(prop::collection::vec(piece(), 0..4)),
        ) -> String {
            let mut v = String::new();
            if let Some(e) = epoch {
                v.push_str(&e);
                v.push(':');
            }
            v.push_str(&version.concat());
            if let Some(r) = release {
                v.push('-');
                v.push_str(&r.concat());
            }
            v
        }
    }

    proptest! {
        #[test]
        fn ordering_is_total(a in rpm_version(), b in rpm_version(), c in rpm_version()) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(rpm_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| cmp(a, b));
        }

        #[test]
        fn any_strings_are_ordered_totally(a in "\\PC{1,12}", b in "[0-9a-z.:~^_-]{1,10}", c in "[0-9a:~^.-]{1,8}") {
            // rpm compares any non-empty string, so its ordering must be total on all of them.
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn typed_ordering_matches_compare(a in rpm_version(), b in rpm_version()) {
            let (va, vb) = (RpmVersion::from_str(&a).unwrap(), RpmVersion::from_str(&b).unwrap());
            prop_assert_eq!(va.cmp(&vb), cmp(&a, &b));
            prop_assert_eq!(va == vb, cmp(&a, &b) == Ordering::Equal);
        }

        #[test]
        fn display_round_trips(v in rpm_version()) {
            let parsed = RpmVersion::from_str(&v).unwrap();
            let shown = parsed.to_string();
            prop_assert_eq!(&shown, &v);
            let again = RpmVersion::from_str(&shown).unwrap();
            prop_assert_eq!(&again, &parsed);
            prop_assert_eq!((again.epoch(), again.version(), again.release()), (parsed.epoch(), parsed.version(), parsed.release()));
        }
    }
}
