//! Alpine (apk) versions, ordered as apk-tools orders them.
//!
//! Grammar, from apk-package(5): `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`.
//!
//! - dot-separated runs of digits, then at most one lower-case letter;
//! - any number of `_suffix` with an optional number, the suffix one of `alpha`, `beta`, `pre`,
//!   `rc` (pre-releases, older than the plain version) or `cvs`, `svn`, `git`, `hg`, `p`
//!   (post-releases, newer), in that order;
//! - an optional `~` and a lower-case hexadecimal commit hash;
//! - an optional build revision `-r` and a number.
//!
//! Comparison walks both versions part by part. Parts of the same kind compare by value:
//! numbers as numbers, except that a dotted number with a leading zero on either side compares
//! as a string (`1.02` < `1.1`, a Gentoo heritage), letters and hashes as strings, suffixes by
//! the order above. At the first place where the kinds differ, a pre-release suffix is the older
//! side, and otherwise the side that stopped earlier in the grammar is (`1.0` < `1.0.1`,
//! `1.0` < `1.0a`, `1.0` < `1.0_p1` but `1.0_rc1` < `1.0`; `1.0` < `1.0-r0`).
//!
//! # Two levels of acceptance
//!
//! apk-tools itself has two: `apk version -c` reports invalid versions, and `apk version -t`
//! "accepts two arbitrary version strings and compares them" (apk-version(8)).
//! [`validate`](crate::validate) and [`ApkVersion`] are the first, strict, level;
//! [`compare`](crate::compare) is the second and orders any non-empty string. How apk-tools
//! orders malformed strings has changed between releases, and this crate follows the reference
//! vectors in `shared/data/versions/osv-semantic/alpine-versions*.txt` where they differ:
//!
//! - digits straight after the letter (`5.7.1p1-r0`) continue the version as a number, as
//!   apk-tools 2 read them: Alpine's own history has such versions (openssh, sudo);
//! - `-r` with no number is `-r0`;
//! - anything from the first `-` on that is not `-r` and digits is a malformed revision: older
//!   than a missing or well-formed revision, and equal to any other malformed revision;
//! - anything else that cannot be read ends the walk: it is older than whatever the other side
//!   has at that place (even the end), and two unreadable remainders at the same place compare
//!   byte by byte.
//!
//! With these rules [`compare`](crate::compare) is still a total order on all strings.

use std::cmp::Ordering;
use std::ops::Range;
use std::str::FromStr;

use crate::digits::{cmp_decimal, digit_run_end};
use crate::{Ecosystem, VersionError};

/// A valid Alpine version, parsed once.
///
/// `==` and `Ord` are apk's ordering (so `"1.0-r1"` == `"1.0-r01"`); [`Display`](std::fmt::Display)
/// prints the string as given.
#[derive(Clone)]
pub struct ApkVersion {
    original: String,
}

impl ApkVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl FromStr for ApkVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate(s)?;
        Ok(Self {
            original: s.to_owned(),
        })
    }
}

crate::version_traits!(ApkVersion);

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.original, &other.original)
    }
}

/// The suffixes in sorting order.
const SUFFIXES: [&[u8]; 9] = [
    b"alpha", b"beta", b"pre", b"rc", b"cvs", b"svn", b"git", b"hg", b"p",
];
/// The first this many of [`SUFFIXES`] mark pre-releases.
const PRE_RELEASES: usize = 4;

/// The kinds of part before the revision, in the order the grammar allows them: a part may be
/// followed only by parts of a later kind (or another dotted number after a number, or another
/// suffix after a suffix), which `Tokens::read` checks by comparing kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    First,
    Dot,
    Letter,
    /// Digits right after the letter: not in today's grammar, read as apk-tools 2 read them.
    LetterNumber,
    Suffix,
    SuffixNumber,
    Hash,
    End,
    /// What cannot be read, up to the end of the string.
    Invalid,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    /// The value: digits, the letter, the suffix name or the hash; for `Invalid`, the rest of
    /// the string.
    text: &'a [u8],
    /// Where the part starts, separator included.
    at: usize,
    /// The index in [`SUFFIXES`], for a suffix.
    suffix: usize,
}

impl Token<'_> {
    /// How a part ranks against a part of another kind at the same place: a pre-release suffix
    /// is oldest, then an unreadable remainder, then the end; past that a part is newer the
    /// earlier its kind comes in the grammar, because the other side stopped before it.
    fn standing(&self) -> u8 {
        match self.kind {
            Kind::Suffix if self.suffix < PRE_RELEASES => 0,
            Kind::Invalid => 1,
            Kind::End => 2,
            Kind::Hash => 3,
            Kind::SuffixNumber => 4,
            Kind::Suffix => 5,
            Kind::LetterNumber => 6,
            Kind::Letter => 7,
            Kind::Dot => 8,
            Kind::First => 9,
        }
    }
}

/// Reads the parts before the revision. The revision starts at the first `-`, which no part
/// can contain.
struct Tokens<'a> {
    s: &'a [u8],
    /// Where the revision starts (or the string ends).
    end: usize,
    pos: usize,
    last: Option<Kind>,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a [u8]) -> Self {
        let end = s.iter().position(|&c| c == b'-').unwrap_or(s.len());
        Self {
            s,
            end,
            pos: 0,
            last: None,
        }
    }

    fn next(&mut self) -> Token<'a> {
        let at = self.pos;
        let (kind, value, suffix) = self.read();
        self.last = Some(kind);
        self.pos = match kind {
            Kind::Invalid => self.s.len(),
            _ => value.end,
        };
        Token {
            kind,
            text: &self.s[value],
            at,
            suffix,
        }
    }

    /// The kind of the part at `pos`, where its value lies, and its suffix index.
    fn read(&self) -> (Kind, Range<usize>, usize) {
        let (s, at) = (self.s, self.pos);
        let invalid = (Kind::Invalid, at..s.len(), 0);
        let Some(last) = self.last else {
            let digits = digit_run_end(s, at);
            return if digits == at {
                invalid
            } else {
                (Kind::First, at..digits, 0)
            };
        };
        if matches!(last, Kind::End | Kind::Invalid) {
            return (last, at..at, 0);
        }
        if at == self.end {
            return (Kind::End, at..at, 0);
        }
        let run = |from: usize, pred: fn(&u8) -> bool| {
            from..from + s[from..].iter().take_while(|c| pred(c)).count()
        };
        match s[at] {
            b'.' if last <= Kind::Dot => match run(at + 1, u8::is_ascii_digit) {
                digits if digits.is_empty() => invalid,
                digits => (Kind::Dot, digits, 0),
            },
            b'a'..=b'z' if last <= Kind::Dot => (Kind::Letter, at..at + 1, 0),
            b'0'..=b'9' if last == Kind::Letter => {
                (Kind::LetterNumber, run(at, u8::is_ascii_digit), 0)
            }
            b'0'..=b'9' if last == Kind::Suffix => {
                (Kind::SuffixNumber, run(at, u8::is_ascii_digit), 0)
            }
            b'_' if last <= Kind::SuffixNumber => {
                let name = run(at + 1, u8::is_ascii_lowercase);
                match SUFFIXES.iter().position(|&known| known == &s[name.clone()]) {
                    Some(index) => (Kind::Suffix, name, index),
                    None => invalid,
                }
            }
            b'~' if last < Kind::Hash => match run(at + 1, is_hash_digit) {
                hash if hash.is_empty() => invalid,
                hash => (Kind::Hash, hash, 0),
            },
            _ => invalid,
        }
    }
}

fn is_hash_digit(c: &u8) -> bool {
    matches!(c, b'0'..=b'9' | b'a'..=b'f')
}

/// The part from the first `-` on.
#[derive(Debug, Clone, Copy)]
enum Revision<'a> {
    /// Something other than `-r` and digits.
    Malformed,
    Missing,
    /// The digits after `-r`, possibly none.
    Number(&'a [u8]),
}

impl<'a> Revision<'a> {
    fn of(part: &'a [u8]) -> Self {
        if part.is_empty() {
            return Self::Missing;
        }
        match part.strip_prefix(b"-r") {
            Some(digits) if digits.iter().all(u8::is_ascii_digit) => Self::Number(digits),
            _ => Self::Malformed,
        }
    }

    fn standing(self) -> u8 {
        match self {
            Self::Malformed => 0,
            Self::Missing => 1,
            Self::Number(_) => 2,
        }
    }

    fn compare_with(self, other: Self) -> Ordering {
        match (self, other) {
            (Self::Number(a), Self::Number(b)) => cmp_decimal(a, b),
            _ => self.standing().cmp(&other.standing()),
        }
    }
}

/// Orders any two strings as apk does (see the module documentation for malformed ones).
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut parts_a, mut parts_b) = (Tokens::new(a), Tokens::new(b));
    loop {
        let (x, y) = (parts_a.next(), parts_b.next());
        if x.kind != y.kind {
            return x.standing().cmp(&y.standing());
        }
        let order = match x.kind {
            Kind::End => {
                return Revision::of(&a[parts_a.end..])
                    .compare_with(Revision::of(&b[parts_b.end..]));
            }
            Kind::Invalid => return x.text.cmp(y.text),
            Kind::First | Kind::LetterNumber | Kind::SuffixNumber => cmp_decimal(x.text, y.text),
            // A leading zero makes a dotted number a string, as in Gentoo whose rules apk
            // started from: `1.02` < `1.1`, and `1.0` < `1.00`.
            Kind::Dot if x.text[0] == b'0' || y.text[0] == b'0' => x.text.cmp(y.text),
            Kind::Dot => cmp_decimal(x.text, y.text),
            Kind::Letter | Kind::Hash => x.text.cmp(y.text),
            Kind::Suffix => x.suffix.cmp(&y.suffix),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// The only string that [`compare`] refuses: there is nothing to order.
pub(crate) fn check_comparable(v: &str) -> Result<(), VersionError> {
    if v.is_empty() {
        Err(VersionError::Empty {
            ecosystem: Ecosystem::Apk,
        })
    } else {
        Ok(())
    }
}

/// Checks a version against the grammar, as `apk version -c` does.
pub(crate) fn validate(v: &str) -> Result<(), VersionError> {
    check_comparable(v)?;
    let err = |reason: String| VersionError::invalid(Ecosystem::Apk, v, reason);
    let mut parts = Tokens::new(v.as_bytes());
    loop {
        let part = parts.next();
        match part.kind {
            Kind::End => break,
            Kind::Invalid => return Err(err(describe_unreadable(v, part.at))),
            Kind::LetterNumber => {
                return Err(err(format!(
                    "digits follow the letter at byte {} (apk-tools 2 accepted that; the grammar does not)",
                    part.at - 1
                )));
            }
            _ => {}
        }
    }
    match Revision::of(&v.as_bytes()[parts.end..]) {
        Revision::Missing => Ok(()),
        Revision::Number(digits) if !digits.is_empty() => Ok(()),
        Revision::Number(_) => Err(err("'-r' is not followed by a number".to_owned())),
        Revision::Malformed => Err(err(format!(
            "only '-r' and a number may follow the version at byte {}",
            parts.end
        ))),
    }
}

/// Says why the part at byte `at` of `v` cannot be read. Parts are made of ASCII, so `at` is
/// always a character boundary.
fn describe_unreadable(v: &str, at: usize) -> String {
    let rest = &v[at..];
    let Some(c) = rest.chars().next() else {
        return "it is empty".to_owned();
    };
    if at == 0 {
        return format!("it starts with {c:?}, not a digit");
    }
    let after = &rest[c.len_utf8()..];
    let name: String = after
        .chars()
        .take_while(char::is_ascii_lowercase)
        .take(16)
        .collect();
    match c {
        '.' if after.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("'.' at byte {at} is out of place")
        }
        '.' => format!("'.' at byte {at} is not followed by a digit"),
        '_' if SUFFIXES.contains(&name.as_bytes()) => {
            format!("suffix \"_{name}\" at byte {at} is out of place")
        }
        '_' if !name.is_empty() => format!("unknown suffix \"_{name}\" at byte {at}"),
        '_' => format!("'_' at byte {at} is not followed by a suffix"),
        '~' if after.starts_with(|c: char| c.is_ascii_digit() || ('a'..='f').contains(&c)) => {
            format!("'~' at byte {at} is out of place")
        }
        '~' => format!("'~' at byte {at} is not followed by a lower-case hexadecimal hash"),
        'a'..='z' => format!("letter {c:?} at byte {at} is out of place"),
        _ => format!("unexpected {c:?} at byte {at}"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    #[test]
    fn apk_ordering() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("1.0", "1.0.0", Less),
            ("1.0", "1.0-r0", Less),
            ("1.0-r1", "1.0-r01", Equal),
            ("1.0_rc1", "1.0", Less),
            ("1.0_rc1-r5", "1.0-r0", Less),
            ("1.0_alpha", "1.0_alpha1", Less),
            ("1.0_alpha_pre2", "1.0_alpha", Less),
            ("1.0_p", "1.0_p0", Less),
            ("1.0_p1", "1.0", Greater),
            ("1.0_p1", "1.0a", Less),
            ("1.0a", "1.0.1", Less),
            ("1.0_rc1", "1.0a", Less),
            ("1.02", "1.1", Less),
            ("1.0", "1.00", Less),
            ("01.1", "1.1", Equal),
            ("1.0~abc", "1.0~abd", Less),
            ("1.0~abc", "1.0", Greater),
            ("1.0~abc-r1", "1.0-r1", Greater),
            ("1.0_git20240101~ab12", "1.0_git20240101", Greater),
            (
                "1.0.0_pre20191002222144-r0",
                "1.0.0_pre20210530193627-r0",
                Less,
            ),
            ("5.7.1p1-r0", "5.7.1p2-r0", Less),
            ("5.7.1p9-r0", "5.7.1p10-r0", Less),
            ("5.7.1p1-r0", "5.7.1_p1-r0", Greater),
            ("5.7.1p1-r0", "5.7.2-r0", Less),
        ] {
            assert_eq!(compare(a, b), expected, "{a} vs {b}");
            assert_eq!(compare(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (v, reason) in [
            ("", "empty apk version"),
            ("abc", "starts with 'a', not a digit"),
            (".1", "starts with '.'"),
            ("1.0-r", "'-r' is not followed by a number"),
            (
                "1-r-1",
                "only '-r' and a number may follow the version at byte 1",
            ),
            ("1.0-1", "only '-r' and a number"),
            ("1.0-r1x", "only '-r' and a number"),
            ("1.0-R1", "only '-r' and a number"),
            ("1..0", "'.' at byte 1 is not followed by a digit"),
            ("1.0.", "'.' at byte 3 is not followed by a digit"),
            ("1.2.0A", "unexpected 'A' at byte 5"),
            ("1.0bc", "letter 'c' at byte 4 is out of place"),
            ("1.0_foo", "unknown suffix \"_foo\" at byte 3"),
            ("1.0_", "'_' at byte 3 is not followed by a suffix"),
            ("1.0_rc1.1", "'.' at byte 7 is out of place"),
            ("1.0_RC1", "'_' at byte 3 is not followed by a suffix"),
            (
                "1.0~",
                "'~' at byte 3 is not followed by a lower-case hexadecimal hash",
            ),
            ("1.0~XYZ", "'~' at byte 3"),
            ("1.0~ab_p1", "suffix \"_p\" at byte 6 is out of place"),
            ("1.0~ab~cd", "'~' at byte 6 is out of place"),
            ("1.0a.1", "'.' at byte 4 is out of place"),
            ("5.7.1p1-r0", "digits follow the letter at byte 5"),
            ("1.0 ", "unexpected ' ' at byte 3"),
            ("1.0é", "unexpected 'é' at byte 3"),
            ("1\0", "unexpected '\\0' at byte 1"),
        ] {
            let msg = ApkVersion::from_str(v).expect_err(v).to_string();
            assert!(msg.contains(reason), "{v:?}: {msg}");
            assert!(crate::validate(Ecosystem::Apk, v).is_err(), "{v:?}");
        }
        for v in [
            "0",
            "1.0",
            "1.0a",
            "1.0_alpha",
            "1.0_p1_rc2",
            "1.0~0a1f-r3",
            "1.0b_git1~ff-r0",
            "006",
        ] {
            assert!(ApkVersion::from_str(v).is_ok(), "{v}");
        }
    }

    #[test]
    fn compare_accepts_what_apk_version_t_accepts() {
        assert!(crate::compare(Ecosystem::Apk, "", "1").is_err());
        assert!(crate::compare(Ecosystem::Apk, "1", "").is_err());
        assert_eq!(
            crate::compare(Ecosystem::Apk, "abc", "1"),
            Ok(Ordering::Less)
        );
        assert_eq!(
            crate::compare(Ecosystem::Apk, "1.0-r", "1.0-r0"),
            Ok(Ordering::Equal)
        );
    }

    #[test]
    fn hostile_input() {
        let zeros = format!("1.{}1", "0".repeat(100_000));
        assert_eq!(
            compare(&zeros, "1.1"),
            Ordering::Less,
            "leading zeros compare as strings"
        );
        let huge = format!("{}-r1", "9".repeat(100_000));
        let bigger = format!("1{}-r0", "0".repeat(100_000));
        assert_eq!(compare(&huge, &bigger), Ordering::Less);
        let dotted = format!("1{}", ".1".repeat(50_000));
        assert!(ApkVersion::from_str(&dotted).is_ok());
        assert_eq!(compare(&dotted, &format!("{dotted}.0")), Ordering::Less);
        let suffixes = format!("1{}", "_p1".repeat(30_000));
        assert_eq!(compare(&suffixes, &suffixes), Ordering::Equal);
        let revision = format!("1-r{}", "9".repeat(100_000));
        assert_eq!(compare(&revision, "1-r1"), Ordering::Greater);
        let junk = "-".repeat(100_000);
        assert_eq!(compare(&junk, &junk), Ordering::Equal);
        let msg = ApkVersion::from_str(&"x".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(msg.len() < 300, "{msg}");
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[1-9][0-9]{0,2}",
            1 => Just("0".to_owned()),
            1 => Just("00".to_owned()),
            1 => "0[0-9]{1,2}",
            1 => Just("20240101123456789012345".to_owned()),
        ]
    }

    fn suffix() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                "alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p",
            ]),
            prop::option::of(number()),
        )
            .prop_map(|(name, n)| format!("_{name}{}", n.unwrap_or_default()))
    }

    prop_compose! {
        /// Valid versions built from every part of the grammar.
        fn apk_version()(
            first in number(),
            dotted in prop::collection::vec(number(), 0..4),
            letter in prop::option::of("[a-z]"),
            suffixes in prop::collection::vec(suffix(), 0..3),
            hash in prop::option::of("[0-9a-f]{1,6}"),
            revision in prop::option::of(number()),
        ) -> String {
            let mut v = first;
            for n in dotted {
                v.push('.');
                v.push_str(&n);
            }
            v.push_str(&letter.unwrap_or_default());
            v.push_str(&suffixes.concat());
            if let Some(h) = hash {
                v.push('~');
                v.push_str(&h);
            }
            if let Some(r) = revision {
                v.push_str("-r");
                v.push_str(&r);
            }
            v
        }
    }

    proptest! {
        #[test]
        fn generated_versions_are_valid(v in apk_version()) {
            prop_assert!(ApkVersion::from_str(&v).is_ok(), "{v}");
        }

        #[test]
        fn ordering_is_total(a in apk_version(), b in apk_version(), c in apk_version()) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), compare);
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(apk_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| compare(a, b));
        }

        #[test]
        fn lenient_ordering_is_total_on_any_string(
            a in "[0-9a-zA-Z._~-]{1,10}",
            b in "[0-9.pr_~-]{1,10}",
            c in "\\PC{1,8}",
        ) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), compare);
        }

        #[test]
        fn lenient_sorting_is_consistent(mut vs in prop::collection::vec("[0-9.ap_~r-]{1,8}", 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| compare(a, b));
        }

        #[test]
        fn typed_ordering_matches_compare(a in apk_version(), b in apk_version()) {
            let (va, vb) = (ApkVersion::from_str(&a).unwrap(), ApkVersion::from_str(&b).unwrap());
            prop_assert_eq!(va.cmp(&vb), compare(&a, &b));
            prop_assert_eq!(va == vb, compare(&a, &b) == Ordering::Equal);
        }

        #[test]
        fn display_round_trips(v in apk_version()) {
            let parsed = ApkVersion::from_str(&v).unwrap();
            let shown = parsed.to_string();
            prop_assert_eq!(&shown, &v);
            prop_assert_eq!(ApkVersion::from_str(&shown).unwrap(), parsed);
        }

        #[test]
        fn validation_never_panics(v in "\\PC{0,16}") {
            let _ = crate::validate(Ecosystem::Apk, &v);
        }
    }
}
