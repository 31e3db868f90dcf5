//! Composer (Packagist) versions: accepted as Composer's `VersionParser::normalize` accepts
//! them, ordered as PHP's `version_compare` orders them, with OSV's reading of the `v` prefix.
//!
//! # Ordering
//!
//! `version_compare` (php-src `ext/standard/versioning.c`) cuts a version into elements: runs of
//! ASCII digits and runs of ASCII letters, anything else (`.`, `-`, `_`, `+`, …) separating them
//! (`1.0rc1` is `1`, `0`, `rc`, `1`). Elements compare one by one:
//!
//! - two numbers by value;
//! - two words by their *special form*, matched on the word's start and case-sensitively:
//!   `dev` < `alpha` = `a…` < `beta` = `b…` < `RC` = `rc` < `#` < `pl` = `p…`; a word that
//!   matches none ranks below `dev`, and two such words are equal (`1.0-ALPHA` = `1.0-BETA`:
//!   only lower-case names are special);
//! - a number against a word as `#` against the word: above `RC`, below `pl`;
//! - when one version has run out, a number left on the other side makes it newer, and a word
//!   decides as against `#` (`1.0` < `1.0.0`, `1.0rc1` < `1.0` < `1.0pl1`).
//!
//! Composer orders installed versions the same way, on their normalised form; OSV's Packagist
//! ranges use the versions as written, and so does this ordering, with OSV's adjustments:
//!
//! - one leading `v` or `V` is dropped (`v1.2` = `1.2`), as Composer's normalisation does;
//! - numbers of any length compare by value (PHP reads them into a `long`, so two 30-digit
//!   numbers compare equal there);
//! - separators never make empty elements: PHP copies a leading separator as an element of its
//!   own and reads a trailing one as an empty element, which makes `1.0.` less than itself;
//! - a `#` is not a separator but starts a word (`#`, with any letters right after it), as in
//!   OSV's matcher, which splits only at `.`, `-`, `_`, `+` and digit boundaries and then gives
//!   a word starting with `#` the rank of `#`. Against a number, and against the end, that is
//!   a tie, so OSV's test data has `1.2.3.#` = `1.2.3`, `1.2.3.#` = `1.2.3.1` and `1.2.3.#.1` >
//!   `1.2.3`, and this gives all three. These equalities are not transitive (`1.2.3` <
//!   `1.2.3.1`), so with a `#` this comparison is not an order; without one it is. PHP reads
//!   the `#` as a separator (and `1.2.3.#` < `1.2.3.#`). Composer refuses `#` in a version
//!   except in a `dev-` branch name, the one place where it can reach [`ComposerVersion`].
//!
//! Composer's normalisation (`1.0` → `1.0.0.0`, `1.0-b2` → `1.0.0.0-beta2`) is *not* applied:
//! OSV's data orders `1.0` < `1.0.0` and `5.1.0-stable` < `5.1.0-beta2`, as `version_compare`
//! does on the strings as written.
//!
//! # What [`validate`](crate::validate) accepts
//!
//! [`validate`](crate::validate) and [`ComposerVersion`] accept what
//! `VersionParser::normalize` (composer/semver 3) accepts, surrounding whitespace included: a
//! classical version (`v?` and 1 to 4 numbers, the first of at most 5 digits), a date version
//! (`20240101`, `2024-01-01.2`), each with an optional stability modifier (`-beta2`, `RC1`,
//! `-p1`, `.dev`) and build metadata (`+build`); a branch (`dev-main`, `master`); or a numeric
//! branch (`1.2.x-dev`). Two spellings that only requirements use are refused: `1.0 as 2.0`
//! aliases and `@stable` flags. [`compare`](crate::compare) orders any non-empty string.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::digits::{cmp_decimal, digit_run_end};
use crate::{Ecosystem, VersionError};

/// A valid Composer version, parsed once.
///
/// `==` and `Ord` are `version_compare`'s ordering (so `"v1.0RC1"` == `"1.0.rc.1"`, and
/// `"1.0"` < `"1.0.0"`); [`Display`](std::fmt::Display) prints the string as given.
///
/// A `#` (which Composer accepts only in a `dev-` branch name) ties with a number and with the
/// end, as OSV reads it, so with a `#` `Ord` is not transitive.
#[derive(Clone)]
pub struct ComposerVersion {
    original: String,
}

impl ComposerVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl FromStr for ComposerVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate(s)?;
        Ok(Self {
            original: s.to_owned(),
        })
    }
}

crate::version_traits!(ComposerVersion);

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_elements(&self.original, &other.original)
    }
}

/// One element of a version, or the end of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element<'a> {
    Number(&'a [u8]),
    Word(&'a [u8]),
    End,
}

/// The rank of `#` in `compare_special_version_forms`, which numbers and the end share.
const NUMBER_RANK: i8 = 4;

/// `compare_special_version_forms`' rank of a word: the first special form it starts with.
fn rank(word: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |&(_, rank)| rank)
}

impl Element<'_> {
    fn cmp(self, other: Self) -> Ordering {
        use Element::{End, Number, Word};
        match (self, other) {
            (Number(a), Number(b)) => cmp_decimal(a, b),
            (Word(a), Word(b)) => rank(a).cmp(&rank(b)),
            (Number(_), Word(w)) | (End, Word(w)) => NUMBER_RANK.cmp(&rank(w)),
            (Word(w), Number(_)) | (Word(w), End) => rank(w).cmp(&NUMBER_RANK),
            (End, Number(_)) => Ordering::Less,
            (Number(_), End) => Ordering::Greater,
            (End, End) => Ordering::Equal,
        }
    }
}

/// The elements of a version, after one leading `v` or `V`.
struct Elements<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Elements<'a> {
    fn new(v: &'a str) -> Self {
        let s = v.as_bytes();
        let pos = usize::from(matches!(s.first(), Some(b'v' | b'V')));
        Self { s, pos }
    }

    fn next(&mut self) -> Element<'a> {
        let s = self.s;
        while self.pos < s.len() && !s[self.pos].is_ascii_alphanumeric() && s[self.pos] != b'#' {
            self.pos += 1;
        }
        let Some(&c) = s.get(self.pos) else {
            return Element::End;
        };
        let start = self.pos;
        if c.is_ascii_digit() {
            self.pos = digit_run_end(s, start);
            Element::Number(&s[start..self.pos])
        } else {
            // OSV's reading: a `#` starts a word (with the letters after it), which ranks as
            // `#`; PHP would read it as a separator.
            let first = usize::from(c == b'#');
            self.pos += first
                + s[start + first..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
            Element::Word(&s[start..self.pos])
        }
    }
}

/// `version_compare` on any two strings (see the module documentation).
fn compare_elements(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (Elements::new(a), Elements::new(b));
    loop {
        let (x, y) = (xs.next(), ys.next());
        if x == Element::End && y == Element::End {
            return Ordering::Equal;
        }
        let order = x.cmp(y);
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// Orders any two non-empty strings as `version_compare` does.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    for v in [a, b] {
        if v.is_empty() {
            return Err(VersionError::Empty {
                ecosystem: Ecosystem::Composer,
            });
        }
    }
    Ok(compare_elements(a, b))
}

/// PHP's `trim`: spaces, tabs, line ends, NUL and vertical tab.
fn trim(v: &str) -> &str {
    v.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0b'])
}

/// PCRE's `\s`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn starts_with_ignore_case(v: &str, prefix: &str) -> bool {
    v.len() >= prefix.len() && v.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn ends_with_ignore_case(v: &str, suffix: &str) -> bool {
    v.len() >= suffix.len()
        && v.as_bytes()[v.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Drops build metadata as `normalize` does: `{^([^,\s+]++)\+[^\s]++$}`.
fn strip_metadata(v: &str) -> &str {
    let Some(plus) = v.find('+') else {
        return v;
    };
    let (head, tail) = (&v.as_bytes()[..plus], &v.as_bytes()[plus + 1..]);
    if !head.is_empty()
        && !tail.is_empty()
        && head.iter().all(|&c| c != b',' && !is_space(c))
        && tail.iter().all(|&c| !is_space(c))
    {
        &v[..plus]
    } else {
        v
    }
}

/// Whether `v` is a classical or a date version, with its modifier.
fn is_release(v: &str) -> bool {
    let b = v.as_bytes();
    let start = usize::from(matches!(b.first(), Some(b'v' | b'V')));
    // Classical: `(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?`, then the modifier. Taking whole digit
    // runs and every `.digits` group is the only way to a match: what follows is never a digit.
    let first = digit_run_end(b, start);
    if (1..=5).contains(&(first - start)) {
        let mut i = first;
        for _ in 0..3 {
            if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i = digit_run_end(b, i + 1);
            }
        }
        if is_modifier(&b[i..]) {
            return true;
        }
    }
    // Date: `\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?`: every way it can end is tried.
    let digits_at =
        |i: usize, n: usize| b.len() >= i + n && b[i..i + n].iter().all(u8::is_ascii_digit);
    let sep = |i: usize| usize::from(matches!(b.get(i), Some(b'.' | b':' | b'-')));
    if !digits_at(start, 4) {
        return false;
    }
    let mut i = start + 4;
    for _ in 0..6 {
        let at = i + sep(i);
        if !digits_at(at, 2) {
            break;
        }
        i = at + 2;
        if is_modifier(&b[i..]) {
            return true;
        }
        let tail = i + sep(i);
        if (1..=3).any(|n| digits_at(tail, n) && is_modifier(&b[tail + n..])) {
            return true;
        }
    }
    false
}

/// `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?$`,
/// case-insensitively.
fn is_modifier(rest: &[u8]) -> bool {
    let skip_sep = usize::from(matches!(rest.first(), Some(b'.' | b'_' | b'-')));
    [0, skip_sep].into_iter().any(|sep| {
        let rest = &rest[sep..];
        const STABILITIES: [&[u8]; 9] = [
            b"stable", b"beta", b"b", b"rc", b"alpha", b"a", b"patch", b"pl", b"p",
        ];
        let with_stability = STABILITIES
            .iter()
            .filter(|s| rest.len() >= s.len() && rest[..s.len()].eq_ignore_ascii_case(s))
            .map(|s| &rest[after_numbers(rest, s.len())..]);
        std::iter::once(rest)
            .chain(with_stability)
            .any(is_dev_suffix)
    })
}

/// Where `((?:[.-]?\d+)*+)` starting at `from` ends: it is possessive, so after as many
/// numbers as there are.
fn after_numbers(rest: &[u8], from: usize) -> usize {
    let mut i = from;
    loop {
        let at = i + usize::from(matches!(rest.get(i), Some(b'.' | b'-')));
        if at >= rest.len() {
            return i;
        }
        let end = digit_run_end(rest, at);
        if end == at {
            return i;
        }
        i = end;
    }
}

/// `([.-]?dev)?$`, case-insensitively.
fn is_dev_suffix(tail: &[u8]) -> bool {
    let dev = match tail.first() {
        Some(b'.' | b'-') => &tail[1..],
        _ => tail,
    };
    tail.is_empty() || dev.eq_ignore_ascii_case(b"dev")
}

/// `normalizeBranch`'s numeric form: `v?\d+(\.(\d+|[xX*])){0,3}`.
fn is_numeric_branch(name: &str) -> bool {
    let b = name.as_bytes();
    let start = usize::from(matches!(b.first(), Some(b'v' | b'V')));
    let mut i = digit_run_end(b, start);
    if i == start {
        return false;
    }
    for _ in 0..3 {
        if b.get(i) != Some(&b'.') {
            break;
        }
        match b.get(i + 1) {
            Some(b'x' | b'X' | b'*') => i += 2,
            Some(c) if c.is_ascii_digit() => i = digit_run_end(b, i + 1),
            _ => return false,
        }
    }
    i == b.len()
}

/// Checks a version as `VersionParser::normalize` does.
pub(crate) fn validate(v: &str) -> Result<(), VersionError> {
    let t = trim(v);
    if t.is_empty() {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Composer,
        });
    }
    if ["master", "trunk", "default"].contains(&t) || starts_with_ignore_case(t, "dev-") {
        return Ok(());
    }
    let core = strip_metadata(t);
    if is_release(core) {
        return Ok(());
    }
    // A branch ending in `dev` is valid when its name is numeric: `{(.*?)[.-]?dev$}i`.
    if ends_with_ignore_case(core, "dev") {
        let name = &core[..core.len() - 3];
        let name = name.strip_suffix(['.', '-']).unwrap_or(name);
        if is_numeric_branch(trim(name)) {
            return Ok(());
        }
    }
    let reason = if t.contains(" as ") || t.contains('@') {
        "aliases and stability flags belong to requirements, not to versions"
    } else {
        "Composer's version parser does not accept it"
    };
    Err(VersionError::invalid(Ecosystem::Composer, v, reason))
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
    fn version_compare_ordering() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("1.0-dev", "1.0a1", Less),
            ("1.0a1", "1.0b1", Less),
            ("1.0b1", "1.0RC1", Less),
            ("1.0RC1", "1.0rc1", Equal),
            ("1.0rc1", "1.0", Less),
            ("1.0", "1.0pl1", Less),
            ("1.0", "1.0.0", Less),
            ("1.0.0rc2", "1.0.0.rc2", Equal),
            ("1.25.0-beta2.1", "1.25.0-b.2.1", Equal),
            ("v1.0pl1", "1.0pl1", Equal),
            ("V1.0.0", "v1.0.0", Equal),
            ("dev-foo", "1.26.0", Less),
            ("5.1.0-stable", "5.1.0-beta2", Less),
            ("v1.9.0-ALPHA.1", "v1.9.0-BETA.1", Equal),
            ("1.0-gamma", "1.0-dev", Less),
            ("1.0-patch1", "1.0", Greater),
            // OSV's reading of `#`: it ranks as a number does and as the end does, so these
            // equalities are not transitive (`1.2.3` < `1.2.3.1`).
            ("1.2.3.#", "1.2.3", Equal),
            ("1.2.3.#", "1.2.3.#", Equal),
            ("1.2.3.#", "1.2.3.1", Equal),
            ("1.2.3", "1.2.3.1", Less),
            ("1.2.3.#.1", "1.2.3", Greater),
            ("1.2.3.#.p3", "1.2.3", Greater),
            ("1.2.3.#.beta", "1.2.3", Less),
            ("1.2.3#", "1.2.3.#", Equal),
            ("1.2.3.#abc", "1.2.3.RC1", Greater),
            ("1.2.3.#", "1.2.3.pl1", Less),
            ("1.0.", "1.0", Equal),
            ("3.10", "3.2", Greater),
            (
                "999999999999999999999999999991",
                "999999999999999999999999999999",
                Less,
            ),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
        assert!(crate::compare(Ecosystem::Composer, "", "1").is_err());
        assert_eq!(cmp("v", "..."), Ordering::Equal);
    }

    #[test]
    fn validation_follows_composer() {
        for v in [
            "1",
            "1.0",
            "v1.2.3.4",
            "V1.0.0",
            "1.0.0-beta2",
            "1.0.0-BETA.2",
            "1.0.0beta2.1",
            "1.0.0-rc.1-dev",
            "1.0-dev",
            "1.0.x-dev",
            "1.x-dev",
            "v2.*-dev",
            "dev-main",
            "DEV-feature/x",
            "master",
            "1.0.0-p1",
            "1.0.0-patch.2",
            "1.0.0-stable",
            "1.0.0+build.1",
            "1.0.",
            "20240101",
            "2024-01-01",
            "2024.01.01.12",
            "20240101120000",
            "202401011200001",
            " 1.0.0 ",
            "12345.1",
            "123456.1",
        ] {
            assert!(ComposerVersion::from_str(v).is_ok(), "{v:?}");
        }
        for v in [
            "",
            " ",
            "1.0.0.0.0",
            "1.0-foo",
            "1.0-beta-foo",
            "foo",
            "1.0 as 2.0",
            "1.0@dev",
            "dev",
            "feature-dev",
            "1.0.0+",
            "1.0.0+build info",
            "999999999999999999999999999991",
            "1..0",
            "0..",
            "1p.",
            "1234567.1",
        ] {
            assert!(ComposerVersion::from_str(v).is_err(), "{v:?}");
        }
        let msg = ComposerVersion::from_str("1.0 as 2.0")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("belong to requirements"), "{msg}");
    }

    #[test]
    fn hostile_input() {
        let huge = format!("{}.1", "9".repeat(100_000));
        let bigger = format!("1{}", "0".repeat(100_000));
        assert_eq!(cmp(&huge, &bigger), Ordering::Less);
        let words = "a1".repeat(50_000);
        assert_eq!(cmp(&words, &words), Ordering::Equal);
        let date = format!("2024{}", "-01".repeat(30_000));
        assert!(ComposerVersion::from_str(&date).is_err());
        let modifier = format!("1.0-beta{}", ".1".repeat(30_000));
        assert!(ComposerVersion::from_str(&modifier).is_ok());
    }

    prop_compose! {
        fn composer_version()(
            v in prop::option::of("[vV]"),
            numbers in prop::collection::vec("0|[1-9][0-9]{0,2}|0[0-9]", 1..5),
            modifier in prop::option::of((
                "[._-]?",
                prop::sample::select(vec!["alpha", "a", "beta", "b", "RC", "rc", "patch", "pl", "p", "dev"]),
                "([.-]?[0-9]{1,2}){0,2}",
            )),
        ) -> String {
            let mut s = v.unwrap_or_default();
            s.push_str(&numbers.join("."));
            if let Some((sep, name, n)) = modifier {
                s.push_str(&sep);
                s.push_str(name);
                if name != "dev" {
                    s.push_str(&n);
                }
            }
            s
        }
    }

    proptest! {
        #[test]
        fn generated_versions_are_valid(v in composer_version()) {
            prop_assert!(ComposerVersion::from_str(&v).is_ok(), "{v}");
        }

        #[test]
        fn ordering_is_total(a in composer_version(), b in composer_version(), c in composer_version()) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn ordering_is_total_on_any_string(a in "[0-9a-zA-Z.-]{1,10}", b in "[0.1apRC-]{1,10}", c in "[^#\\p{C}]{1,8}") {
            // Without `#`, which OSV reads as equal to a number and to the end alike.
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn hash_is_reflexive_and_antisymmetric(a in "[0-9a-z.#-]{1,10}", b in "[0-9a-z.#-]{1,10}") {
            prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
            prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(composer_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| cmp(a, b));
        }

        #[test]
        fn typed_ordering_matches_compare(a in composer_version(), b in composer_version()) {
            let (va, vb) = (ComposerVersion::from_str(&a).unwrap(), ComposerVersion::from_str(&b).unwrap());
            prop_assert_eq!(va.cmp(&vb), cmp(&a, &b));
            prop_assert_eq!(va == vb, cmp(&a, &b) == Ordering::Equal);
            prop_assert_eq!(va.to_string(), a);
        }

        #[test]
        fn validation_never_panics(v in "\\PC{0,16}", w in "[0-9.:_vV+ -]{0,20}(dev|beta|rc|p)?[0-9.-]{0,4}") {
            let _ = crate::validate(Ecosystem::Composer, &v);
            let _ = crate::validate(Ecosystem::Composer, &w);
        }
    }
}
