//! Debian versions, ordered as dpkg orders them.
//!
//! Syntax, from deb-version(5): `[epoch:]upstream_version[-debian_revision]`.
//!
//! - The **epoch** is everything before the *first* colon: an unsigned integer that dpkg caps at
//!   2147483647. Without one the epoch is 0, so `1.0` and `0:1.0` are the same version.
//! - The **revision** is everything after the *last* hyphen. Without one the revision is empty,
//!   which compares equal to `0`: `1.0` and `1.0-0` are the same version too.
//! - The **upstream version** must start with a digit and may hold `A-Za-z0-9 . + ~ - :` (a
//!   hyphen only when a revision follows and a colon only after an epoch, which the two splits
//!   above give for free). The revision may hold `A-Za-z0-9 . + ~`.
//!
//! Validity is dpkg's strict parser, the one that reads package control data: a stray character
//! or a non-digit start, which `dpkg --compare-versions` lets through with a warning, is an error
//! here, because no installable package can carry such a version. Leading and trailing
//! whitespace is ignored, as dpkg ignores it.
//!
//! Comparison: epochs as numbers, then upstream versions, then revisions, each by dpkg's
//! algorithm. A string is read as alternating runs of non-digits and digits. Non-digit runs
//! compare character by character, where `~` sorts before everything (even the end of the
//! string, so `1.0~rc1` < `1.0`), then the end of the run, then letters, then every other
//! character; digit runs compare as numbers.

use std::cmp::Ordering;
use std::ops::Range;

use crate::digits::{cmp_decimal, digit_run_end, strip_leading_zeros};
use crate::{Ecosystem, VersionError};

/// dpkg stores the epoch in an `int` and refuses anything larger.
const MAX_EPOCH: u32 = 2_147_483_647;

/// A valid Debian version, parsed once.
///
/// `==` and `Ord` are dpkg's ordering, so `"1.0"` == `"0:1.0-0"`; [`Display`](std::fmt::Display)
/// prints the string as given.
#[derive(Clone)]
pub struct DebVersion {
    original: String,
    layout: Layout,
}

/// Where the parts of a version lie in its string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    epoch: u32,
    upstream: Range<usize>,
    revision: Option<Range<usize>>,
}

impl DebVersion {
    /// The epoch, 0 when the version has none.
    #[must_use]
    pub fn epoch(&self) -> u32 {
        self.layout.epoch
    }

    /// The upstream version: between the epoch and the revision.
    #[must_use]
    pub fn upstream(&self) -> &str {
        &self.original[self.layout.upstream.clone()]
    }

    /// The Debian revision, after the last hyphen, if there is one.
    #[must_use]
    pub fn revision(&self) -> Option<&str> {
        self.layout.revision.clone().map(|r| &self.original[r])
    }

    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

crate::version_traits!(DebVersion, parsed_by parse);

impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_layouts(&self.original, &self.layout, &other.original, &other.layout)
    }
}

/// dpkg's `isspace`: these are trimmed at both ends and rejected inside.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn is_upstream_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-' | ':')
}

fn is_revision_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')
}

/// Splits and checks a version as dpkg's strict parser does, in the same order of checks so
/// that the reason given is the one dpkg would give.
pub(crate) fn parse(v: &str) -> Result<Layout, VersionError> {
    let err = |reason: &str| VersionError::invalid(Ecosystem::Deb, v, reason);
    let start = v.len() - v.trim_start_matches(is_space).len();
    let end = v.trim_end_matches(is_space).len();
    if start >= end {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Deb,
        });
    }
    let s = &v[start..end];
    if s.contains(is_space) {
        return Err(err("it contains whitespace"));
    }

    let (epoch, rest_start) = match s.find(':') {
        None => (0, start),
        Some(colon) => (parse_epoch(&s[..colon]).map_err(err)?, start + colon + 1),
    };
    if rest_start == end {
        return Err(err("nothing follows the epoch colon"));
    }

    let rest = &v[rest_start..end];
    let (upstream, revision) = match rest.rfind('-') {
        None => (rest_start..end, None),
        Some(hyphen) if hyphen + 1 == rest.len() => {
            return Err(err("the revision after the last '-' is empty"));
        }
        Some(hyphen) => (
            rest_start..rest_start + hyphen,
            Some(rest_start + hyphen + 1..end),
        ),
    };

    let up = &v[upstream.clone()];
    if up.is_empty() {
        return Err(err("the upstream version is empty"));
    }
    if !up.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(err("the upstream version does not start with a digit"));
    }
    if let Some(c) = up.chars().find(|&c| !is_upstream_char(c)) {
        return Err(err(&format!(
            "invalid character {c:?} in the upstream version"
        )));
    }
    if let Some(c) = revision
        .clone()
        .and_then(|r| v[r].chars().find(|&c| !is_revision_char(c)))
    {
        return Err(err(&format!("invalid character {c:?} in the revision")));
    }
    Ok(Layout {
        epoch,
        upstream,
        revision,
    })
}

fn parse_epoch(e: &str) -> Result<u32, &'static str> {
    if e.is_empty() {
        return Err("the epoch before ':' is empty");
    }
    if !e.bytes().all(|c| c.is_ascii_digit()) {
        return Err("the epoch before ':' is not a number");
    }
    // Parsing is safe here: the run has only digits, and `parse` reports overflow as an error.
    let digits = strip_leading_zeros(e.as_bytes());
    let value = if digits.is_empty() {
        Some(0)
    } else {
        e.parse::<u32>().ok()
    };
    value
        .filter(|&n| n <= MAX_EPOCH)
        .ok_or("the epoch is too big (dpkg allows at most 2147483647)")
}

/// dpkg's ordering of two parsed versions.
pub(crate) fn compare_layouts(a: &str, la: &Layout, b: &str, lb: &Layout) -> Ordering {
    fn revision<'s>(s: &'s str, l: &Layout) -> &'s [u8] {
        l.revision.clone().map_or(b"", |r| s[r].as_bytes())
    }
    la.epoch
        .cmp(&lb.epoch)
        .then_with(|| {
            compare_part(
                a[la.upstream.clone()].as_bytes(),
                b[lb.upstream.clone()].as_bytes(),
            )
        })
        .then_with(|| compare_part(revision(a, la), revision(b, lb)))
}

/// The weight of a character in a non-digit run; `None` is the end of the run.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares an upstream version or a revision: alternating non-digit and digit runs.
fn compare_part(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        loop {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let order = weight(ca).cmp(&weight(cb));
            if order != Ordering::Equal {
                return order;
            }
            // Every character weighs something other than the end of a run, so equal weights
            // mean the same character on both sides.
            i += 1;
            j += 1;
        }
        let (end_a, end_b) = (digit_run_end(a, i), digit_run_end(b, j));
        let order = cmp_decimal(&a[i..end_a], &b[j..end_b]);
        if order != Ordering::Equal {
            return order;
        }
        (i, j) = (end_a, end_b);
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::str::FromStr;

    use super::*;
    use crate::compare;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(Ecosystem::Deb, a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn dpkg_ordering() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("1.0", "0:1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1.0", "1.00", Equal),
            ("01:1.0", "1:1.0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.0a", "1.0+", Less),
            ("1.0+", "1.0.", Less),
            ("1.0", "1.0.0", Less),
            ("1:0.1", "2.0", Greater),
            ("2.0-1", "2.0-1+deb12u1", Less),
            ("2.0-1+b1", "2.0-1+deb12u1", Less),
            ("1.2-3-4", "1.2-3-5", Less),
            ("1:2:3", "1:2:3-0", Equal),
            ("9", "10", Less),
            ("1.0-1", "1.0-1ubuntu1", Less),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn parts() {
        let v: DebVersion = " 2:1.2-3-4ubuntu1 ".parse().unwrap();
        assert_eq!(v.epoch(), 2);
        assert_eq!(v.upstream(), "1.2-3");
        assert_eq!(v.revision(), Some("4ubuntu1"));
        assert_eq!(v.to_string(), " 2:1.2-3-4ubuntu1 ");
        let v: DebVersion = "1.0".parse().unwrap();
        assert_eq!((v.epoch(), v.upstream(), v.revision()), (0, "1.0", None));
        assert_eq!(format!("{v:?}"), r#"DebVersion("1.0")"#);
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (v, reason) in [
            ("", "empty"),
            ("  \t", "empty"),
            ("1:", "nothing follows the epoch colon"),
            (":1", "epoch before ':' is empty"),
            ("a:1.0", "not a number"),
            ("-1:1.0", "not a number"),
            ("+1:1.0", "not a number"),
            ("1.0-a:b", "not a number"),
            ("2147483648:1", "too big"),
            ("99999999999999999999999999:1", "too big"),
            ("1.0 space", "whitespace"),
            ("1.0-", "revision after the last '-' is empty"),
            ("1:-1", "upstream version is empty"),
            ("-1", "upstream version is empty"),
            ("abc", "does not start with a digit"),
            ("1:a1", "does not start with a digit"),
            ("1.0_x", "invalid character '_' in the upstream"),
            ("1.0é", "invalid character 'é' in the upstream"),
            ("1.0-1_x", "invalid character '_' in the revision"),
            ("1.0-1é", "invalid character 'é' in the revision"),
            // The first colon ends the epoch, wherever it is.
            ("1.0-1:2", "epoch before ':' is not a number"),
            ("1.0\0", "invalid character '\\0' in the upstream"),
        ] {
            let err = DebVersion::from_str(v).expect_err(v);
            let msg = err.to_string();
            assert!(msg.contains(reason), "{v:?}: {msg}");
            assert!(validate_err(v), "{v:?}");
            assert!(compare(Ecosystem::Deb, v, "1.0").is_err(), "{v:?}");
            assert!(compare(Ecosystem::Deb, "1.0", v).is_err(), "{v:?}");
        }
        assert_eq!(
            DebVersion::from_str("2147483647:1").unwrap().epoch(),
            2_147_483_647
        );
        assert_eq!(
            DebVersion::from_str("0000000000000000000001:1")
                .unwrap()
                .epoch(),
            1
        );
    }

    fn validate_err(v: &str) -> bool {
        crate::validate(Ecosystem::Deb, v).is_err()
    }

    #[test]
    fn hostile_input() {
        let tildes = format!("1{}", "~".repeat(100_000));
        assert_eq!(cmp(&tildes, "1~"), Ordering::Less);
        let zeros = format!("1.{}1", "0".repeat(100_000));
        assert_eq!(cmp(&zeros, "1.1"), Ordering::Equal);
        let huge = format!("1.{}", "9".repeat(100_000));
        let bigger = format!("1.1{}", "0".repeat(100_000));
        assert_eq!(cmp(&huge, &bigger), Ordering::Less);
        let long = "1.a".repeat(40_000);
        assert_eq!(cmp(&long, &long), Ordering::Equal);
        let hyphens = format!("1{}", "-1".repeat(50_000));
        assert_eq!(
            DebVersion::from_str(&hyphens).unwrap().revision(),
            Some("1")
        );
        let colons = format!("1{}", ":1".repeat(50_000));
        assert_eq!(cmp(&colons, &colons), Ordering::Equal);
        let err = DebVersion::from_str(&"x".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 300, "{err}");
    }

    /// Realistic pieces of Debian versions; `~`, `+`, letters and epochs included.
    fn upstream_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,3}",
            Just("0".to_owned()),
            Just("00".to_owned()),
            Just("99999999999999999999999".to_owned()),
            "[a-zA-Z]{1,3}",
            Just(".".to_owned()),
            Just("+".to_owned()),
            Just("~".to_owned()),
            Just("~~".to_owned()),
            Just("+dfsg".to_owned()),
            Just("~rc".to_owned()),
        ]
    }

    fn revision_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,2}",
            "[a-z]{1,6}",
            Just(".".to_owned()),
            Just("+".to_owned()),
            Just("~".to_owned())
        ]
    }

    prop_compose! {
        fn deb_version()(
            epoch in prop::option::of("[0-9]{1,3}"),
            first in "[0-9]{1,2}",
            upstream in prop::collection::vec(upstream_piece(), 0..6),
            colon_in_upstream in any::<bool>(),
            revision in prop::option::of(prop::collection::vec(revision_piece(), 1..4)),
            hyphen_in_upstream in any::<bool>(),
        ) -> String {
            let mut v = String::new();
            if let Some(e) = &epoch {
                v.push_str(e);
                v.push(':');
            }
            v.push_str(&first);
            v.push_str(&upstream.concat());
            if epoch.is_some() && colon_in_upstream {
                v.push_str(":1");
            }
            if let Some(r) = revision {
                if hyphen_in_upstream {
                    v.push_str("-1");
                }
                v.push('-');
                v.push_str(&r.concat());
            }
            v
        }
    }

    proptest! {
        #[test]
        fn generated_versions_are_valid(v in deb_version()) {
            prop_assert!(DebVersion::from_str(&v).is_ok(), "{v}");
        }

        #[test]
        fn ordering_is_total(a in deb_version(), b in deb_version(), c in deb_version()) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(deb_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| cmp(a, b));
        }

        #[test]
        fn typed_ordering_matches_compare(a in deb_version(), b in deb_version()) {
            let (va, vb) = (DebVersion::from_str(&a).unwrap(), DebVersion::from_str(&b).unwrap());
            prop_assert_eq!(va.cmp(&vb), cmp(&a, &b));
            prop_assert_eq!(va == vb, cmp(&a, &b) == Ordering::Equal);
        }

        #[test]
        fn display_round_trips(v in deb_version()) {
            let parsed = DebVersion::from_str(&v).unwrap();
            let shown = parsed.to_string();
            prop_assert_eq!(&shown, &v);
            let again = DebVersion::from_str(&shown).unwrap();
            prop_assert_eq!(&again, &parsed);
            prop_assert_eq!(again.epoch(), parsed.epoch());
            prop_assert_eq!(again.upstream(), parsed.upstream());
            prop_assert_eq!(again.revision(), parsed.revision());
        }

        #[test]
        fn any_string_is_an_answer_or_an_error(a in "\\PC{0,20}", b in "[0-9a-z.:~+-]{0,12}") {
            // Never a panic: either both parse and compare, or an error says why not.
            let _ = compare(Ecosystem::Deb, &a, &b);
            let _ = compare(Ecosystem::Deb, &b, &a);
        }
    }
}
