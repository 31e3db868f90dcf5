//! NuGet versions, read as `NuGetVersion.TryParse` reads them and ordered as NuGet's default
//! `VersionComparer` orders them.
//!
//! Grammar (NuGet.Versioning): `N(.N){0,3}[-LABEL(.LABEL)*][+METADATA]`, with surrounding
//! whitespace allowed.
//!
//! - One to four numbers; a missing one is 0, so `1` = `1.0` = `1.0.0` = `1.0.0.0`. Leading zeros
//!   are allowed and dropped (`1.01` = `1.1`), as NuGet normalises them.
//! - Release labels (SemVer 2.0 pre-release identifiers): non-empty, `[0-9A-Za-z-]`, a numeric
//!   label without leading zeros.
//! - Metadata: non-empty dot-separated `[0-9A-Za-z-]` parts. It never takes part in ordering.
//!
//! Ordering is SemVer 2.0 precedence on four numbers, except that labels compare
//! *case-insensitively* (`1.0.0-BETA` = `1.0.0-beta`): numbers one by one, then a version
//! without labels after one with labels, then labels one by one (numeric ones by value and
//! before the others, the others by ordinal comparison of their upper-case forms), a shorter
//! list of equal labels first.
//!
//! # Two levels of acceptance
//!
//! NuGet stores each number in an `int`, so [`validate`](crate::validate) and
//! [`NuGetVersion`] refuse numbers above 2,147,483,647 as `NuGetVersion.TryParse` does.
//! [`compare`](crate::compare) takes the same grammar with numbers of any length, compared by
//! value (OSV's test data orders 30-digit versions). A numeric label is also compared by value
//! at any length, where NuGet compares one beyond `int` as text. A sign or whitespace inside a
//! number, which .NET's number parsing lets through, is refused.

use std::cmp::Ordering;
use std::ops::Range;

use crate::digits::{cmp_decimal, strip_leading_zeros};
use crate::{Ecosystem, VersionError};

/// A valid NuGet version, parsed once.
///
/// `==` and `Ord` are NuGet's ordering (so `"1.0"` == `"1.0.0.0"` and `"1.0.0-Beta+a"` ==
/// `"1.0.0-beta"`); [`Display`](std::fmt::Display) prints the string as given and
/// [`normalized`](Self::normalized) NuGet's normalised form.
#[derive(Clone)]
pub struct NuGetVersion {
    original: String,
    layout: Layout,
}

impl NuGetVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether the version has release labels (`1.0.0-rc.1`).
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.layout.labels.is_some()
    }

    /// NuGet's `ToNormalizedString`: three numbers (four when the last is not 0) without
    /// leading zeros, then the labels as written; metadata is dropped, as NuGet drops it from
    /// package identities.
    #[must_use]
    pub fn normalized(&self) -> String {
        let s = &self.original;
        let number = |r: &Range<usize>| {
            let digits = strip_leading_zeros(s[r.clone()].as_bytes());
            if digits.is_empty() {
                "0"
            } else {
                &s[r.end - digits.len()..r.end]
            }
        };
        let mut numbers: Vec<&str> = self.layout.numbers.iter().map(number).collect();
        numbers.resize(4, "0");
        if numbers[3] == "0" {
            numbers.pop();
        }
        let mut out = numbers.join(".");
        if let Some(labels) = &self.layout.labels {
            out.push('-');
            out.push_str(&s[labels.clone()]);
        }
        out
    }
}

crate::version_traits!(NuGetVersion, parsed_by parse);

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_layouts(&self.original, &self.layout, &other.original, &other.layout)
    }
}

/// Where the parts of a NuGet version lie in its string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// One to four digit runs.
    numbers: Vec<Range<usize>>,
    /// The release labels, without their `-`.
    labels: Option<Range<usize>>,
}

/// NuGet's `IsValidPart`: non-empty, `[0-9A-Za-z-]`, and for a label, no leading zero on a
/// numeric one.
fn check_part(part: &str, label: bool) -> Result<(), String> {
    if part.is_empty() {
        return Err("an empty label or metadata part".to_owned());
    }
    if let Some(c) = part
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
    {
        return Err(format!("{c:?} in {part:?}"));
    }
    if label && part.len() > 1 && part.starts_with('0') && part.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(format!("the numeric label {part:?} has a leading zero"));
    }
    Ok(())
}

/// Reads a version; `int_numbers` refuses numbers that do not fit NuGet's `int`.
fn read(v: &str, int_numbers: bool) -> Result<Layout, VersionError> {
    let err = |reason: String| VersionError::invalid(Ecosystem::NuGet, v, reason);
    let t = v.trim();
    if t.is_empty() {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::NuGet,
        });
    }
    let offset = v.len() - v.trim_start().len();
    // The numbers end at the first `-` or `+`; the labels at the first `+` after that.
    let numbers_end = t.find(['-', '+']).unwrap_or(t.len());
    let (labels, metadata) = match t[numbers_end..].chars().next() {
        Some('-') => {
            let rest = &t[numbers_end + 1..];
            let end = rest.find('+').map_or(t.len(), |p| numbers_end + 1 + p);
            (
                Some(numbers_end + 1..end),
                t.get(end + 1..).filter(|_| end < t.len()),
            )
        }
        Some(_) => (None, Some(&t[numbers_end + 1..])),
        None => (None, None),
    };
    let mut numbers = Vec::with_capacity(4);
    let mut at = 0;
    for part in t[..numbers_end].split('.') {
        if numbers.len() == 4 {
            return Err(err("more than four numbers".to_owned()));
        }
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(err(format!("{part:?} is not a number")));
        }
        if int_numbers && cmp_decimal(part.as_bytes(), b"2147483647") == Ordering::Greater {
            return Err(err(format!("{part} does not fit NuGet's 32-bit numbers")));
        }
        numbers.push(offset + at..offset + at + part.len());
        at += part.len() + 1;
    }
    if let Some(labels) = &labels {
        for label in t[labels.clone()].split('.') {
            check_part(label, true)
                .map_err(|what| err(format!("invalid release label: {what}")))?;
        }
    }
    if let Some(metadata) = metadata {
        for part in metadata.split('.') {
            check_part(part, false).map_err(|what| err(format!("invalid metadata: {what}")))?;
        }
    }
    Ok(Layout {
        numbers,
        labels: labels.map(|r| offset + r.start..offset + r.end),
    })
}

/// Checks a version as `NuGetVersion.TryParse` does.
pub(crate) fn parse(v: &str) -> Result<Layout, VersionError> {
    read(v, true)
}

fn cmp_label(x: &str, y: &str) -> Ordering {
    let numeric = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(x), numeric(y)) {
        (true, true) => cmp_decimal(x.as_bytes(), y.as_bytes()),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(y.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

pub(crate) fn compare_layouts(a: &str, la: &Layout, b: &str, lb: &Layout) -> Ordering {
    for i in 0..4 {
        let x = la
            .numbers
            .get(i)
            .map_or(&b""[..], |r| &a.as_bytes()[r.clone()]);
        let y = lb
            .numbers
            .get(i)
            .map_or(&b""[..], |r| &b.as_bytes()[r.clone()]);
        let order = cmp_decimal(x, y);
        if order != Ordering::Equal {
            return order;
        }
    }
    match (&la.labels, &lb.labels) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let (mut xs, mut ys) = (a[x.clone()].split('.'), b[y.clone()].split('.'));
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(p), Some(q)) => {
                        let order = cmp_label(p, q);
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                }
            }
        }
    }
}

/// Orders two versions of NuGet's grammar, numbers of any length.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (la, lb) = (read(a, false)?, read(b, false)?);
    Ok(compare_layouts(a, &la, b, &lb))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    fn v(s: &str) -> NuGetVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn nuget_ordering() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("1", "1.0.0.0", Equal),
            ("1.0", "1.0.0", Equal),
            ("1.0.01", "1.0.1.0", Equal),
            ("1.0.0.1", "1.0.0", Greater),
            ("1.0.0-beta", "1.0.0", Less),
            ("1.0.0-BETA", "1.0.0-beta", Equal),
            ("1.0.0-beta+a", "1.0.0-beta+b", Equal),
            ("1.0.0-beta.2", "1.0.0-beta.10", Less),
            ("1.0.0-beta", "1.0.0-beta.1", Less),
            ("1.0.0-1", "1.0.0-a", Less),
            ("1.0.0-a-b", "1.0.0-a", Greater),
            ("1.0.0-Z", "1.0.0-a", Greater),
            ("1.0.0.1-alpha", "1.0.0.1-pre", Less),
            ("1.0.0-pre", "1.0.0.1-alpha", Less),
            (" 1.0 ", "1.0", Equal),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
            assert_eq!(v(a).cmp(&v(b)), expected, "typed {a} vs {b}");
        }
        assert_eq!(
            cmp(
                "999999999999999999999999999991",
                "999999999999999999999999999999"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (s, reason) in [
            ("", "empty NuGet version"),
            ("  ", "empty NuGet version"),
            ("1.0.0.0.0", "more than four numbers"),
            ("v1.0", "\"v1\" is not a number"),
            ("1..0", "\"\" is not a number"),
            ("1.0-", "an empty label"),
            ("1.0.0-beta..1", "an empty label"),
            ("1.0.0-beta.01", "leading zero"),
            ("1.0.0-beta_1", "'_'"),
            ("1.0.0+", "invalid metadata"),
            ("1.0.0+a+b", "'+'"),
            ("2147483648.0", "32-bit"),
            ("1.-1", "\"\" is not a number"),
        ] {
            let msg = NuGetVersion::from_str(s)
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert!(msg.contains(reason), "{s:?}: {msg}");
        }
        assert!(NuGetVersion::from_str("2147483647.0").is_ok());
        assert!(crate::compare(Ecosystem::NuGet, "2147483648", "1").is_ok());
        assert!(crate::compare(Ecosystem::NuGet, "x", "1").is_err());
    }

    #[test]
    fn normalized_form() {
        for (s, normal) in [
            ("1", "1.0.0"),
            ("1.01.002", "1.1.2"),
            ("1.0.0.0", "1.0.0"),
            ("1.0.0.4", "1.0.0.4"),
            ("1.0.0-Beta.1+abc", "1.0.0-Beta.1"),
            (" 00.0.0 ", "0.0.0"),
        ] {
            let parsed = v(s);
            assert_eq!(parsed.normalized(), normal, "{s}");
            assert_eq!(v(normal), parsed);
            assert_eq!(parsed.to_string(), s);
        }
        assert!(v("1.0-rc.1").is_prerelease());
        assert!(!v("1.0+rc.1").is_prerelease());
    }

    #[test]
    fn hostile_input() {
        let huge = format!("{}.1", "9".repeat(100_000));
        let bigger = format!("1{}", "0".repeat(100_000));
        assert_eq!(cmp(&huge, &bigger), Ordering::Less);
        let labels = format!("1.0.0-{}", "a.".repeat(50_000))
            .trim_end_matches('.')
            .to_owned();
        assert_eq!(cmp(&labels, &labels), Ordering::Equal);
        assert!(NuGetVersion::from_str(&huge).is_err());
    }

    prop_compose! {
        fn nuget_version()(
            numbers in prop::collection::vec("0|[1-9][0-9]{0,2}|0[0-9]", 1..=4),
            labels in prop::option::of(prop::collection::vec("0|[1-9][0-9]?|[a-zA-Z][a-zA-Z0-9-]{0,3}", 1..4)),
            metadata in prop::option::of("[a-z0-9]{1,4}"),
        ) -> String {
            let mut s = numbers.join(".");
            if let Some(labels) = labels {
                s.push('-');
                s.push_str(&labels.join("."));
            }
            if let Some(m) = metadata {
                s.push('+');
                s.push_str(&m);
            }
            s
        }
    }

    proptest! {
        #[test]
        fn ordering_is_total(a in nuget_version(), b in nuget_version(), c in nuget_version()) {
            assert_total_order(&v(&a), &v(&b), &v(&c), Ord::cmp);
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(nuget_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| cmp(a, b));
        }

        #[test]
        fn typed_ordering_matches_compare(a in nuget_version(), b in nuget_version()) {
            prop_assert_eq!(v(&a).cmp(&v(&b)), cmp(&a, &b));
            prop_assert_eq!(v(&a) == v(&b), cmp(&a, &b) == Ordering::Equal);
        }

        #[test]
        fn normalizing_keeps_the_version(s in nuget_version()) {
            let parsed = v(&s);
            let normal = parsed.normalized();
            prop_assert_eq!(v(&normal), parsed.clone());
            prop_assert_eq!(v(&normal).normalized(), normal);
            prop_assert_eq!(parsed.to_string(), s);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,16}", t in "[0-9.a-z+ -]{0,12}") {
            let _ = NuGetVersion::from_str(&s);
            let _ = crate::compare(Ecosystem::NuGet, &s, &t);
        }
    }
}
