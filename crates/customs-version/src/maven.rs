//! Maven versions, ordered as maven-artifact 3.8.6's `ComparableVersion` orders them.
//!
//! Maven compares *any* string, so there is no grammar to fail; what follows is how a string
//! is read (the POM reference's "Version Order Specification", and `ComparableVersion` where
//! the two differ).
//!
//! # Which Maven
//!
//! The advisories customs matches are OSV's, and OSV's Maven test data was generated with
//! maven-artifact 3.8.6 (`maven-versions-generated.txt`, made by sorting each package's
//! versions with it), which OSV's own matcher (osv-scalibr's `semantic` package) reproduces.
//! This module therefore follows 3.8.6. Maven 3.8.7 and 3.9 differ in one rule, MNG-7644: they
//! read a qualifier after a `.` that is followed by digits or ends the version as if a `-` came
//! before it (`1.0.RC1` = `1.0-RC1`); 3.8.6 keeps it in the list it is in, so `1.0.RC1` >
//! `1.0-RC1`, `1.5.9.RC1` < `1.5.9-RC0`, `6.1.12.rc5` < `6.1.12rc1` and `1.2.8.sec10` <
//! `1.2.8_noneautotype`, where 3.8.7+ answers each the other way (18 of OSV's generated
//! vectors tell the two apart).
//!
//! # Reading and ordering
//!
//! - The version is lower-cased and split into items at `.`, at `-` and at every transition
//!   between digits and other characters: `1.0-beta2` is `1`, `0`, `beta`, `2`. An empty item
//!   (`1..2`, a leading `-`) is `0`.
//! - Items are numbers (digit runs, of any length) or qualifiers (anything else). A `-`, and a
//!   transition, starts a nested list, Maven's way of recording "after a hyphen": `1.0-beta2` is
//!   `[1, 0, [beta, [2]]]`, and `1.0.beta2` is `[1, 0, beta, [2]]`.
//! - Known qualifiers order `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < the
//!   release (none, `ga`, `final`, `release`) < `sp`; any other qualifier comes after `sp`, in
//!   (case-insensitive) lexical order. `a`, `b` and `m` directly followed by a digit are
//!   `alpha`, `beta` and `milestone` (`1a1` = `1-alpha-1`, but `1-a` is the unknown `a`).
//! - "Null" items (`0`, and the release qualifiers) at the end of each list, and before the
//!   list nested in it, are dropped, so `1` = `1.0.0` = `1-ga` = `1.0-0`.
//! - Lists compare item by item: a qualifier < a nested list < a number (`1.0-sp` < `1.0-1` <
//!   `1.0.1`), two nested lists by their items, two qualifiers or two numbers by value. When
//!   one side runs out, the other side's items are compared against nothing: a qualifier by its
//!   rank against the release, a `0` is skipped, any other number is newer (`1-rc1` < `1` <
//!   `1-1`).
//!
//! # Not an order
//!
//! `ComparableVersion` is not transitive, and neither is [`compare`](crate::compare) nor
//! [`MavenVersion`]'s `Ord`, which give its answers: a `0` is skipped when the other version
//! has ended but outranks a nested list or a qualifier when it has not, so `2.9.0.rc.1` <
//! `2.9` < `2.9-1` < `2.9.0.rc.1` (3.8.7 and 3.9 too), and, by 3.8.6's reading of `.RC1`,
//! `2.9.0.RC3` < `2.9.0` < `2.9.0-1` < `2.9.0.RC1` < `2.9.0.RC3`, which OSV's generated vectors
//! record (their lines 5774 to 5777). An order that broke such cycles would fail some of
//! those vectors, and OSV's matcher answers them as Maven does; so each comparison here is
//! Maven's. Sorting Maven versions (with `sort`, `BTreeMap`, `max`) can therefore give an order
//! that depends on the input, and Rust's sorts may panic on such input; compare a version with
//! a range's bounds one pair at a time, as OSV does.
//!
//! # Where this differs from `ComparableVersion`
//!
//! - Lists left empty merge into the next, so `1-ga-1` = `1-1` (the POM reference's rule that
//!   a null item before a hyphen is dropped). Maven gives `1-ga-1` < `1-1`; OSV's test data and
//!   matcher give `=`.
//! - Numbers compare by value (Maven ranks an all-zero run of 10 or more digits above a
//!   shorter `0`), and only ASCII digits are digits (Java also takes other scripts' digits);
//!   qualifiers are lower-cased by Unicode's rules, as Java does, and compared by code point.
//!
//! Against maven-artifact 3.8.7 on the 8,856 versions of OSV's Maven data that 3.8.6 and 3.8.7
//! read alike (no qualifier right after a `.`), all of 319,904 pairs drawn from them get the same answers here.
//!
//! # What [`validate`](crate::validate) accepts
//!
//! Maven itself accepts every string. A version also names a directory of the repository
//! layout, and Maven's model validator bans the characters that cannot be part of one, so
//! [`validate`](crate::validate) and [`MavenVersion`] refuse an empty string, whitespace and
//! control characters, and any of `\ / : " < > | ? *`; [`compare`](crate::compare) orders
//! every non-empty string.

use std::cmp::Ordering;
use std::ops::Range;
use std::str::FromStr;

use crate::digits::cmp_decimal;
use crate::{Ecosystem, VersionError};

/// A Maven version, parsed once.
///
/// `==` and `Ord` are Maven's (3.8.6's) comparison (so `"1.0"` == `"1-GA"` and
/// `"1.0-SNAPSHOT"` < `"1.0"`); [`Display`](std::fmt::Display) prints the string as given.
///
/// Like maven-artifact 3.8.6's, which OSV's data and matcher follow, this comparison is not
/// transitive (`2.9.0.RC3` < `2.9.0` < `2.9.0-1` < `2.9.0.RC1` < `2.9.0.RC3`): `Ord`'s
/// contract of a total order does not hold, so do not sort these versions or keep them in
/// ordered collections and rely on the result; comparing two of them always gives Maven's
/// answer.
#[derive(Clone)]
pub struct MavenVersion {
    original: String,
    layout: Layout,
}

impl MavenVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl FromStr for MavenVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate(s)?;
        Ok(Self {
            original: s.to_owned(),
            layout: parse(s),
        })
    }
}

crate::version_traits!(MavenVersion);

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_layouts(&self.original, &self.layout, &other.original, &other.layout)
    }
}

/// Where each item of a version lies, after Maven's normalisation: the items in order, each
/// marked with whether it starts a nested list.
pub(crate) type Layout = Vec<Item>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    kind: Kind,
    /// Whether a nested list starts with this item (a `-` or a transition came before it).
    nested: bool,
    /// The digits, or the qualifier's text.
    text: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Qualifier(Qualifier),
}

/// A qualifier's rank: an index into [`KNOWN`], or after all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Qualifier {
    Known(u8),
    Unknown,
}

/// The known qualifiers in order; the empty one is the release (`ga`, `final`, `release`).
const KNOWN: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: Qualifier = Qualifier::Known(5);
const ALIASES: [(&str, &str); 4] = [("ga", ""), ("final", ""), ("release", ""), ("cr", "rc")];

/// Whether `text` lower-cases (by Unicode's rules, as Java's `toLowerCase`) to `word`.
fn lower_eq(text: &str, word: &str) -> bool {
    text.chars().flat_map(char::to_lowercase).eq(word.chars())
}

fn qualifier(text: &str, followed_by_digit: bool) -> Qualifier {
    let mut lower = text.chars().flat_map(char::to_lowercase);
    let shorthand = match (lower.next(), lower.next()) {
        (Some('a'), None) => Some("alpha"),
        (Some('b'), None) => Some("beta"),
        (Some('m'), None) => Some("milestone"),
        _ => None,
    };
    let word = match shorthand {
        Some(word) if followed_by_digit => word,
        _ => ALIASES
            .iter()
            .find(|(alias, _)| lower_eq(text, alias))
            .map_or(text, |&(_, word)| word),
    };
    KNOWN
        .iter()
        .position(|known| lower_eq(word, known))
        .map_or(Qualifier::Unknown, |i| Qualifier::Known(i as u8))
}

/// An item while the version is read: which list it belongs to, counted from the outermost.
struct Raw {
    kind: Kind,
    list: usize,
    text: Range<usize>,
}

impl Raw {
    fn is_null(&self, s: &str) -> bool {
        match self.kind {
            Kind::Number => s.as_bytes()[self.text.clone()].iter().all(|&c| c == b'0'),
            Kind::Qualifier(q) => q == RELEASE,
        }
    }
}

/// Reads any string as maven-artifact 3.8.6's `ComparableVersion.parseVersion` does, then
/// normalises it.
pub(crate) fn parse(s: &str) -> Layout {
    let b = s.as_bytes();
    let mut raw: Vec<Raw> = Vec::new();
    // The innermost list so far, counted from the outermost.
    let mut list = 0;
    let number = Kind::Number;
    let item = |digits: bool, text: Range<usize>, followed_by_digit: bool| {
        if digits {
            number
        } else {
            Kind::Qualifier(qualifier(&s[text], followed_by_digit))
        }
    };
    let (mut start, mut digits) = (0, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'.' | b'-' => {
                // An empty item is 0: an empty digit run.
                let kind = if i == start {
                    number
                } else {
                    item(digits, start..i, false)
                };
                raw.push(Raw {
                    kind,
                    list,
                    text: start..i,
                });
                start = i + 1;
                if c == b'-' {
                    list += 1;
                }
            }
            b'0'..=b'9' => {
                if !digits && i > start {
                    // A qualifier followed by digits stays in the list it is in (3.8.7's
                    // MNG-7644 would start a list for it after a `.`); the digits start one.
                    raw.push(Raw {
                        kind: item(false, start..i, true),
                        list,
                        text: start..i,
                    });
                    list += 1;
                    start = i;
                }
                digits = true;
            }
            _ => {
                if digits && i > start {
                    raw.push(Raw {
                        kind: number,
                        list,
                        text: start..i,
                    });
                    list += 1;
                    start = i;
                }
                digits = false;
            }
        }
    }
    if start < b.len() {
        // A qualifier at the end stays in its list too: `1.0.RC` is not `1.0-RC`.
        raw.push(Raw {
            kind: item(digits, start..b.len(), false),
            list,
            text: start..b.len(),
        });
    }
    normalize(s, raw)
}

/// Drops the null items at the end of each list and marks where nested lists start (lists
/// left empty merge into the next).
fn normalize(s: &str, raw: Vec<Raw>) -> Layout {
    let mut keep = vec![true; raw.len()];
    let mut end = raw.len();
    while end > 0 {
        let list = raw[end - 1].list;
        let mut i = end;
        while i > 0 && raw[i - 1].list == list && raw[i - 1].is_null(s) {
            keep[i - 1] = false;
            i -= 1;
        }
        while i > 0 && raw[i - 1].list == list {
            i -= 1;
        }
        end = i;
    }
    let mut previous_list = 0;
    raw.into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| {
            let nested = r.list != previous_list;
            previous_list = r.list;
            Item {
                kind: r.kind,
                nested,
                text: r.text,
            }
        })
        .collect()
}

impl Item {
    /// How `ComparableVersion` ranks the item's kind against another present item: a
    /// qualifier in the same list (`StringItem`) < a nested list (`ListItem`) < a number in
    /// the same list (`IntItem`).
    fn class(&self) -> u8 {
        match (self.nested, self.kind) {
            (true, _) => 1,
            (false, Kind::Qualifier(_)) => 0,
            (false, Kind::Number) => 2,
        }
    }

    /// The item against the end of the other version (Maven's `compareTo(null)`): a qualifier
    /// by its rank against the release, a number above unless it is `0`, which is skipped.
    fn against_end(&self, s: &str) -> Ordering {
        match self.kind {
            Kind::Qualifier(q) => q.cmp(&RELEASE),
            Kind::Number if s.as_bytes()[self.text.clone()].iter().all(|&c| c == b'0') => {
                Ordering::Equal
            }
            Kind::Number => Ordering::Greater,
        }
    }
}

fn compare_items(a: &str, x: &Item, b: &str, y: &Item) -> Ordering {
    x.class()
        .cmp(&y.class())
        // Two nested lists compare by their first items, as two items of one list.
        .then_with(|| match (x.kind, y.kind) {
            (Kind::Qualifier(p), Kind::Qualifier(q)) => p.cmp(&q).then_with(|| {
                if p == Qualifier::Unknown {
                    lowered(a, &x.text).cmp(lowered(b, &y.text))
                } else {
                    Ordering::Equal
                }
            }),
            (Kind::Number, Kind::Number) => {
                cmp_decimal(&a.as_bytes()[x.text.clone()], &b.as_bytes()[y.text.clone()])
            }
            (Kind::Qualifier(_), Kind::Number) => Ordering::Less,
            (Kind::Number, Kind::Qualifier(_)) => Ordering::Greater,
        })
}

/// An unknown qualifier as Maven compares it: lower-cased, character by character.
fn lowered<'a>(s: &'a str, r: &Range<usize>) -> impl Iterator<Item = char> + 'a {
    s[r.clone()].chars().flat_map(char::to_lowercase)
}

pub(crate) fn compare_layouts(a: &str, la: &Layout, b: &str, lb: &Layout) -> Ordering {
    for i in 0..la.len().max(lb.len()) {
        let order = match (la.get(i), lb.get(i)) {
            (Some(x), Some(y)) => compare_items(a, x, b, y),
            (Some(x), None) => x.against_end(a),
            (None, Some(y)) => y.against_end(b).reverse(),
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// Orders any two non-empty strings as Maven does (see the module documentation).
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    for v in [a, b] {
        if v.is_empty() {
            return Err(VersionError::Empty {
                ecosystem: Ecosystem::Maven,
            });
        }
    }
    Ok(compare_layouts(a, &parse(a), b, &parse(b)))
}

/// Checks that a version can name a directory of a Maven repository.
pub(crate) fn validate(v: &str) -> Result<(), VersionError> {
    if v.is_empty() {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Maven,
        });
    }
    if let Some((at, c)) = v
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || c.is_control() || r#"\/:"<>|?*"#.contains(c))
    {
        return Err(VersionError::invalid(
            Ecosystem::Maven,
            v,
            format!("{c:?} at byte {at} cannot be part of a Maven version"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::assert_total_order;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn maven_ordering() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("1.0-SNAPSHOT", "1.0", Less),
            ("1.0-alpha-1", "1.0-alpha-2", Less),
            ("1.0-alpha-2", "1.0-beta-1", Less),
            ("1.0-beta-1", "1.0-milestone-1", Less),
            ("1.0-M1", "1.0-RC1", Less),
            ("1.0-RC1", "1.0-cr1", Equal),
            ("1.0-rc1", "1.0-SNAPSHOT", Less),
            ("1.0", "1.0-GA", Equal),
            ("1.0.Final", "1.0.0.RELEASE", Equal),
            ("1.0", "1.0-sp1", Less),
            ("1.0-sp1", "1.0-jboss-1", Less),
            ("1.0-foo", "1.0-bar", Greater),
            ("1.0-FOO", "1.0-foo", Equal),
            ("1.0", "1.0-1", Less),
            ("1.0-1", "1.0.1", Less),
            ("1.0.0", "1.0-1", Less),
            ("1a1", "1-alpha-1", Equal),
            ("1-a", "1-alpha", Greater),
            // 3.8.6 keeps a qualifier after a `.` in its list (3.8.7's MNG-7644 would not).
            ("1.0.RC1", "1.0-RC1", Greater),
            ("1.5.9.RC1", "1.5.9-RC0", Less),
            ("6.1.12.rc5", "6.1.12rc1", Less),
            ("1.1.31.sec10", "1.1.31_noneautotype", Less),
            ("1.0.0rc0", "1.0.beta8", Less),
            ("1.0.RC1", "1.0.RC2", Less),
            ("1", "01.0.000", Equal),
            ("1.1", "1.01", Equal),
            ("20190126.230843", "1234567890.12345", Less),
            (
                "123456789012345.1H.5-beta",
                "12345678901234567890.1H.5-beta",
                Less,
            ),
            ("1-1", "1-ga-1", Equal),
            ("9.4.1212.jre7", "9.4.1212", Greater),
            ("3.5.0-CR-2", "3.5.0.Beta-1", Less),
            // Maven's cycles, kept: `2.9.0.rc.1` < `2.9` < `2.9-1` < `2.9.0.rc.1`, and
            // `2.9.0.RC3` < `2.9.0` < `2.9.0-1` < `2.9.0.RC1` < `2.9.0.RC3`.
            ("2.9.0.rc.1", "2.9", Less),
            ("2.9", "2.9-1", Less),
            ("2.9-1", "2.9.0.rc.1", Less),
            ("2.9.0.rc.1", "2.9.0.rc.2", Less),
            ("2.9.0.RC3", "2.9.0", Less),
            ("2.9.0", "2.9.0-1", Less),
            ("2.9.0-1", "2.9.0.RC1", Less),
            ("2.9.0.RC1", "2.9.0.RC3", Less),
            // A qualifier in the list is older than a nested list, whatever its rank.
            ("1.jre.7", "1-rc", Less),
            ("2.9.0.sp.1", "2.9-1", Greater),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
            let (ta, tb) = (
                MavenVersion::from_str(a).unwrap(),
                MavenVersion::from_str(b).unwrap(),
            );
            assert_eq!(ta.cmp(&tb), expected, "typed {a} vs {b}");
        }
    }

    #[test]
    fn any_string_compares_but_validate_wants_a_path_segment() {
        for v in ["x", "-", ".", "!!", "é", "1.0 beta", "a/b", "1:2", "\0"] {
            assert_eq!(cmp(v, v), Ordering::Equal, "{v:?}");
        }
        assert_eq!(cmp("-", "0"), Ordering::Equal);
        assert!(crate::compare(Ecosystem::Maven, "", "1").is_err());
        assert!(crate::compare(Ecosystem::Maven, "1", "").is_err());
        for (v, reason) in [
            ("", "empty Maven version"),
            ("1.0 beta", "' ' at byte 3"),
            ("1.0/2", "'/' at byte 3"),
            ("${project.version}", "':'"),
            ("1\t", "'\\t' at byte 1"),
        ] {
            let msg = MavenVersion::from_str(v)
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            if v == "${project.version}" {
                // `$`, `{` and `}` are allowed: Maven refuses the expression, not its spelling.
                assert!(msg.is_empty(), "{v:?}: {msg}");
                continue;
            }
            assert!(msg.contains(reason), "{v:?}: {msg}");
        }
        for v in [
            "1.0",
            "1.0-SNAPSHOT",
            "v6.4.0-RC6",
            "2.0.0.Final-redhat-00001",
            "é",
        ] {
            assert!(crate::validate(Ecosystem::Maven, v).is_ok(), "{v}");
        }
    }

    #[test]
    fn hostile_input() {
        let huge = format!("{}.1", "9".repeat(100_000));
        let bigger = format!("1{}", "0".repeat(100_000));
        assert_eq!(cmp(&huge, &bigger), Ordering::Less);
        let nested = "1-".repeat(50_000);
        assert_eq!(cmp(&nested, &format!("{nested}1")), Ordering::Less);
        let zeros = format!("1{}", ".0".repeat(50_000));
        assert_eq!(cmp(&zeros, "1"), Ordering::Equal);
        let mixed = "a1".repeat(50_000);
        assert_eq!(cmp(&mixed, &mixed), Ordering::Equal);
        let dashes = "-".repeat(100_000);
        assert_eq!(cmp(&dashes, "0"), Ordering::Equal);
        let upper = "İ".repeat(50_000);
        assert_eq!(cmp(&upper, &upper.to_lowercase()), Ordering::Equal);
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[1-9][0-9]{0,2}",
            2 => Just("0".to_owned()),
            1 => "0[0-9]{1,2}",
            1 => Just("20240101123456789012345".to_owned()),
        ]
    }

    fn qualifier() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "alpha",
            "a",
            "Beta",
            "b",
            "m",
            "milestone",
            "RC",
            "cr",
            "SNAPSHOT",
            "ga",
            "Final",
            "RELEASE",
            "sp",
            "jboss",
            "redhat",
            "jre",
            "x",
        ])
        .prop_map(str::to_owned)
    }

    prop_compose! {
        /// Versions as Maven Central holds them: numbers and qualifiers joined by `.`, `-` or
        /// nothing.
        fn maven_version()(
            first in number(),
            rest in prop::collection::vec(
                (prop::sample::select(vec![".", "-", ""]), prop_oneof![number(), qualifier()]),
                0..6,
            ),
        ) -> String {
            let mut v = first;
            for (sep, part) in rest {
                v.push_str(sep);
                v.push_str(&part);
            }
            v
        }
    }

    proptest! {
        #[test]
        fn comparison_is_reflexive_and_antisymmetric(
            a in maven_version(),
            b in maven_version(),
            c in "[0-9a-zA-Z.-]{1,10}",
            d in "\\PC{1,8}",
        ) {
            // Not transitive (see the module documentation), but every pair is answered one
            // way whichever side is asked first.
            for x in [&a, &b, &c, &d] {
                prop_assert_eq!(cmp(x, x), Ordering::Equal, "{}", x);
                for y in [&a, &b, &c, &d] {
                    prop_assert_eq!(cmp(x, y), cmp(y, x).reverse(), "{} vs {}", x, y);
                }
            }
        }

        #[test]
        fn numbers_only_are_ordered(
            a in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
            b in "[0-9]{1,3}([.-][0-9]{1,3}){0,3}",
            c in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
        ) {
            // Without qualifiers, and with a `-` only in `b`, Maven's comparison is consistent.
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn typed_ordering_matches_compare(a in maven_version(), b in maven_version()) {
            let (va, vb) = (MavenVersion::from_str(&a).unwrap(), MavenVersion::from_str(&b).unwrap());
            prop_assert_eq!(va.cmp(&vb), cmp(&a, &b));
            prop_assert_eq!(va == vb, cmp(&a, &b) == Ordering::Equal);
        }

        #[test]
        fn display_round_trips(v in maven_version()) {
            let parsed = MavenVersion::from_str(&v).unwrap();
            prop_assert_eq!(parsed.to_string(), v.clone());
            prop_assert_eq!(MavenVersion::from_str(&parsed.to_string()).unwrap(), parsed);
        }

        #[test]
        fn trailing_nulls_do_not_count(v in maven_version(), nulls in "(\\.0|-0|\\.ga|-final){1,3}") {
            // A null item right after a qualifier would be part of it (`rc.0` is `rc` then
            // `0`, but `rc0` is `rc` then `0` too), so only versions ending in a number.
            prop_assume!(v.ends_with(|c: char| c.is_ascii_digit()));
            prop_assert_eq!(cmp(&v, &format!("{v}{nulls}")), Ordering::Equal);
        }
    }
}
