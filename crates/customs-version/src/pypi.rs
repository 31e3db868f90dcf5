//! Python (PyPI) versions, ordered by PEP 440 as pip and `packaging` order them.
//!
//! Grammar, from PEP 440 and its appendix: `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`,
//! with the spellings that PEP 440 normalises:
//!
//! - case does not matter, and surrounding whitespace and a leading `v` are dropped;
//! - the epoch `N!` defaults to 0; the release has any number of parts, and missing parts
//!   are zeros (`1.0` == `1.0.0`);
//! - pre-releases: `a`/`alpha`, `b`/`beta`, `rc`/`c`/`pre`/`preview`, with an optional `.`,
//!   `-` or `_` before and after the label and an implicit number 0 (`1.0-Alpha_2` ==
//!   `1.0a2`, `1.0rc` == `1.0rc0`);
//! - post-releases: `post`/`rev`/`r` with the same optional separators (`1.0-r` ==
//!   `1.0.post0`), or the implicit form `1.0-1` == `1.0.post1`;
//! - development releases: `dev` with the same optional separators;
//! - a local version after `+`: alphanumeric segments separated by `.`, `-` or `_` (all read
//!   as `.`).
//!
//! Ordering (PEP 440 "Summary of permitted suffixes and relative ordering"): epoch, then the
//! release, then `X.devN` < `XaN` < `XbN` < `XrcN` < `X` < `X.postN`, where a pre- or
//! post-release's own dev releases come just before it (`1.0a1.dev1` < `1.0a1`), then the
//! local version: a version without one comes first, segments compare one by one, numbers as
//! numbers and above any alphanumeric segment, alphanumeric segments case-insensitively as
//! strings, and a prefix before a longer version (`1.0+abc` < `1.0+abc.1`).
//!
//! # Two levels of acceptance, as with apk
//!
//! [`PypiVersion`] and [`validate`](crate::validate) accept PEP 440 only, as pip does today.
//! [`compare`](crate::compare) also orders the non-PEP 440 "legacy" versions that pip before
//! 22 (packaging's `LegacyVersion`) ordered and that old PyPI releases and advisory data still
//! hold (`0.3m1`, `2.0.0-final`, `2013-01-21T20:33:09+0100`): they sort before every PEP 440
//! version, and among themselves by the rules in [`legacy`]. The reference vectors in
//! `shared/data/versions/osv-semantic/pypi-versions*.txt` were generated with that ordering.
//!
//! # Why not `pep440_rs`
//!
//! `pep440_rs` 0.7 stores every number in a `u64` (a 21-digit release part is an error, where
//! Python has unbounded integers), has no legacy ordering, and would bring four crates through
//! the workspace manifest; the grammar is small enough to read by hand. Numbers here are
//! never converted (see `digits`), so no length overflows.
//!
//! Only ASCII is read as letters and digits: Python's case-insensitive regular expressions
//! would also read a few Unicode look-alikes (`ſ` as `s`), which no real version uses.

pub(crate) mod legacy;

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::ops::Range;

use crate::digits::{cmp_decimal, digit_run_end, strip_leading_zeros};
use crate::{Ecosystem, VersionError};

/// A valid PEP 440 version, parsed once.
///
/// `==` and `Ord` are PEP 440's ordering, so `"1.0"` == `"v1.0.0"` and `"1.0-1"` ==
/// `"1.0.post1"`; [`Display`](std::fmt::Display) prints the string as given and
/// [`normalized`](Self::normalized) the canonical spelling.
#[derive(Clone)]
pub struct PypiVersion {
    original: String,
    layout: Layout,
}

impl PypiVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The version spelled as PEP 440 normalises it: `V1.0-Alpha_2.POST-3.dev+Ubuntu-1`
    /// becomes `1.0a2.post3.dev0+ubuntu.1`. Numbers lose their leading zeros; the release keeps
    /// its trailing zeros.
    #[must_use]
    pub fn normalized(&self) -> String {
        let s = &self.original;
        let l = &self.layout;
        let number = |r: &Range<usize>| {
            let digits = strip_leading_zeros(s[r.clone()].as_bytes());
            if digits.is_empty() {
                "0"
            } else {
                &s[r.end - digits.len()..r.end]
            }
        };
        let mut out = String::new();
        if let Some(epoch) = &l.epoch {
            let _ = write!(out, "{}!", number(epoch));
        }
        for (i, part) in l.release.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(number(part));
        }
        if let Some((kind, n)) = &l.pre {
            out.push_str(kind.as_str());
            out.push_str(number(n));
        }
        if let Some(n) = &l.post {
            let _ = write!(out, ".post{}", number(n));
        }
        if let Some(n) = &l.dev {
            let _ = write!(out, ".dev{}", number(n));
        }
        if let Some(local) = &l.local {
            out.push('+');
            for (i, segment) in local_segments(&s[local.clone()]).enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if is_number(segment) {
                    out.push_str(number(&sub_range(s, segment)));
                } else {
                    out.push_str(&segment.to_ascii_lowercase());
                }
            }
        }
        out
    }

    /// Whether this is a pre-release or a development release, which PEP 440 specifiers leave
    /// out unless asked.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.layout.pre.is_some() || self.layout.dev.is_some()
    }
}

/// Where a substring of `s` (given as a slice of it) lies.
fn sub_range(s: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - s.as_ptr() as usize;
    start..start + part.len()
}

crate::version_traits!(PypiVersion, parsed_by parse);

impl Ord for PypiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_layouts(&self.original, &self.layout, &other.original, &other.layout)
    }
}

/// The pre-release kinds, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreKind {
    Alpha,
    Beta,
    Rc,
}

impl PreKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Alpha => "a",
            Self::Beta => "b",
            Self::Rc => "rc",
        }
    }
}

/// The pre-release labels, longest first so that `alpha` is not read as `a` then `lpha`.
const PRE_LABELS: [(&str, PreKind); 8] = [
    ("preview", PreKind::Rc),
    ("alpha", PreKind::Alpha),
    ("beta", PreKind::Beta),
    ("pre", PreKind::Rc),
    ("rc", PreKind::Rc),
    ("a", PreKind::Alpha),
    ("b", PreKind::Beta),
    ("c", PreKind::Rc),
];
const POST_LABELS: [&str; 3] = ["post", "rev", "r"];

/// Where the parts of a version lie in its string. Number ranges may be empty: an implicit 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    epoch: Option<Range<usize>>,
    release: Vec<Range<usize>>,
    pre: Option<(PreKind, Range<usize>)>,
    post: Option<Range<usize>>,
    dev: Option<Range<usize>>,
    /// The local version, without its `+`.
    local: Option<Range<usize>>,
}

fn is_separator(c: u8) -> bool {
    matches!(c, b'.' | b'-' | b'_')
}

fn is_number(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|c| c.is_ascii_digit())
}

fn local_segments(local: &str) -> impl Iterator<Item = &str> {
    local.split(|c: char| c.is_ascii() && is_separator(c as u8))
}

/// A cursor over the version, matching case-insensitively.
struct Reader<'a> {
    s: &'a [u8],
    end: usize,
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.s[self.pos].to_ascii_lowercase())
    }

    fn eat_separator(&mut self) -> bool {
        let found = self.peek().is_some_and(is_separator);
        if found {
            self.pos += 1;
        }
        found
    }

    fn eat_label(&mut self, label: &str) -> bool {
        let found = self.end - self.pos >= label.len()
            && self.s[self.pos..self.pos + label.len()].eq_ignore_ascii_case(label.as_bytes());
        if found {
            self.pos += label.len();
        }
        found
    }

    fn digits(&mut self) -> Range<usize> {
        let from = self.pos;
        self.pos = digit_run_end(&self.s[..self.end], from);
        from..self.pos
    }

    /// `[-_.]?` then the digits, if any: the number of a pre-, post- or dev-release. The
    /// separator is taken even with no digits after it, as the PEP 440 regular expression
    /// takes it (`1.0a.` is `1.0a0`).
    fn optional_number(&mut self) -> Range<usize> {
        self.eat_separator();
        self.digits()
    }

    /// Tries `[-_.]?` followed by one of `labels`; puts the cursor back if none follows.
    fn labelled<T: Copy>(&mut self, labels: &[(&str, T)]) -> Option<T> {
        let start = self.pos;
        self.eat_separator();
        for &(label, value) in labels {
            if self.eat_label(label) {
                return Some(value);
            }
        }
        self.pos = start;
        None
    }
}

/// Checks and splits a version by the PEP 440 grammar.
pub(crate) fn parse(v: &str) -> Result<Layout, VersionError> {
    let err = |reason: String| VersionError::invalid(Ecosystem::PyPI, v, reason);
    let start = v.len() - v.trim_start().len();
    let end = v.trim_end().len();
    if start >= end {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::PyPI,
        });
    }
    let mut r = Reader {
        s: v.as_bytes(),
        end,
        pos: start,
    };
    if r.peek() == Some(b'v') {
        r.pos += 1;
    }
    let mut first = r.digits();
    if first.is_empty() {
        return Err(err(describe(v, r.pos, "a release number")));
    }
    let mut epoch = None;
    if r.peek() == Some(b'!') {
        r.pos += 1;
        epoch = Some(first);
        first = r.digits();
        if first.is_empty() {
            return Err(err(describe(v, r.pos, "a release number after the epoch")));
        }
    }
    let mut release = vec![first];
    while r.peek() == Some(b'.') && r.s.get(r.pos + 1).is_some_and(u8::is_ascii_digit) {
        r.pos += 1;
        release.push(r.digits());
    }

    let pre = r
        .labelled(&PRE_LABELS)
        .map(|kind| (kind, r.optional_number()));

    let post = if r.peek() == Some(b'-') && r.s.get(r.pos + 1).is_some_and(u8::is_ascii_digit) {
        r.pos += 1;
        Some(r.digits())
    } else {
        let labels = POST_LABELS.map(|l| (l, ()));
        r.labelled(&labels).map(|()| r.optional_number())
    };

    let dev = r.labelled(&[("dev", ())]).map(|()| r.optional_number());

    let mut local = None;
    if r.peek() == Some(b'+') {
        let from = r.pos + 1;
        let text = &v[from..end];
        for segment in local_segments(text) {
            let at = sub_range(v, segment).start;
            if segment.is_empty() {
                return Err(err(format!("empty local version segment at byte {at}")));
            }
            if let Some(bad) = segment.bytes().position(|c| !c.is_ascii_alphanumeric()) {
                return Err(err(describe(v, at + bad, "a letter or digit")));
            }
        }
        local = Some(from..end);
        r.pos = end;
    }
    if r.pos < end {
        return Err(err(describe(v, r.pos, "a pre-, post-, dev- or local part")));
    }
    Ok(Layout {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// Says what is at byte `at` of `v` where `expected` should be; `at` is a character boundary
/// because everything before it is ASCII.
fn describe(v: &str, at: usize, expected: &str) -> String {
    match v[at..].chars().next() {
        Some(c) => format!("found {c:?} at byte {at} where {expected} should be"),
        None => format!("it ends where {expected} should be"),
    }
}

/// How the pre-release part ranks: a bare development release comes before every
/// pre-release, a final release after them.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreRank {
    DevOnly,
    Pre(PreKind),
    Final,
}

fn pre_rank(l: &Layout) -> PreRank {
    match &l.pre {
        Some((kind, _)) => PreRank::Pre(*kind),
        None if l.post.is_none() && l.dev.is_some() => PreRank::DevOnly,
        None => PreRank::Final,
    }
}

/// Orders two parsed versions by PEP 440.
pub(crate) fn compare_layouts(a: &str, la: &Layout, b: &str, lb: &Layout) -> Ordering {
    // Compares a number of `a` with a number of `b`; an empty range is an implicit 0.
    let n = |s: &str, r: &Range<usize>, t: &str, q: &Range<usize>| {
        cmp_decimal(&s.as_bytes()[r.clone()], &t.as_bytes()[q.clone()])
    };
    let none = 0..0;
    n(
        a,
        la.epoch.as_ref().unwrap_or(&none),
        b,
        lb.epoch.as_ref().unwrap_or(&none),
    )
    .then_with(|| {
        (0..la.release.len().max(lb.release.len()))
            .map(|i| {
                n(
                    a,
                    la.release.get(i).unwrap_or(&none),
                    b,
                    lb.release.get(i).unwrap_or(&none),
                )
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
    .then_with(|| pre_rank(la).cmp(&pre_rank(lb)))
    .then_with(|| match (&la.pre, &lb.pre) {
        (Some((_, x)), Some((_, y))) => n(a, x, b, y),
        _ => Ordering::Equal,
    })
    // No post-release comes first, no dev release last.
    .then_with(|| match (&la.post, &lb.post) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => n(a, x, b, y),
    })
    .then_with(|| match (&la.dev, &lb.dev) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => n(a, x, b, y),
    })
    .then_with(|| match (&la.local, &lb.local) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_local(&a[x.clone()], &b[y.clone()]),
    })
}

/// Compares local versions segment by segment.
fn cmp_local(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (local_segments(a), local_segments(b));
    loop {
        let order = match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match (is_number(x), is_number(y)) {
                (true, true) => cmp_decimal(x.as_bytes(), y.as_bytes()),
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => x
                    .bytes()
                    .map(|c| c.to_ascii_lowercase())
                    .cmp(y.bytes().map(|c| c.to_ascii_lowercase())),
            },
        };
        if order.is_ne() {
            return order;
        }
    }
}

/// Orders any two non-empty strings: PEP 440 versions by PEP 440, the rest before them by
/// the legacy rules.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    for v in [a, b] {
        if v.trim().is_empty() {
            return Err(VersionError::Empty {
                ecosystem: Ecosystem::PyPI,
            });
        }
    }
    Ok(match (parse(a), parse(b)) {
        (Ok(la), Ok(lb)) => compare_layouts(a, &la, b, &lb),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => legacy::compare(a, b),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::str::FromStr;

    use super::*;
    use crate::test_util::{assert_sorts_consistently, assert_total_order};

    fn v(s: &str) -> PypiVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pep_440_summary_of_ordering() {
        // The example sequence from PEP 440, "Summary of permitted suffixes and relative
        // ordering", extended with epochs and local versions.
        let chain = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "2!0.1",
        ];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
            assert_eq!(cmp(pair[1], pair[0]), Ordering::Greater, "{pair:?}");
            assert!(v(pair[0]) < v(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn normalised_spellings_are_equal() {
        for (a, b) in [
            ("1.0", "1.0.0.0"),
            ("1.0", "v1.0"),
            ("1.0", " V1.0\n"),
            ("0!1.0", "1.0"),
            ("1.0a1", "1.0.ALPHA.1"),
            ("1.0a0", "1.0-a"),
            ("1.0b2", "1.0_beta-2"),
            ("1.0rc1", "1.0c1"),
            ("1.0rc1", "1.0pre1"),
            ("1.0rc1", "1.0-preview_1"),
            ("1.0.post1", "1.0-1"),
            ("1.0.post1", "1.0.rev1"),
            ("1.0.post1", "1.0_r-1"),
            ("1.0.post0", "1.0-post"),
            ("1.0.dev0", "1.0-DEV"),
            ("1.0.dev0", "1.0dev."),
            ("1.0a0", "1.0a."),
            ("1.0+ubuntu.1", "1.0+Ubuntu-1"),
            ("1.0+ubuntu.1", "1.0+ubuntu_01"),
            ("01.002", "1.2"),
        ] {
            assert_eq!(cmp(a, b), Ordering::Equal, "{a:?} vs {b:?}");
            assert_eq!(v(a), v(b), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn normalized_spelling() {
        for (given, normal) in [
            (
                "V1.0-Alpha_2.POST-3.dev+Ubuntu-1",
                "1.0a2.post3.dev0+ubuntu.1",
            ),
            ("2!01.0.00", "2!1.0.0"),
            ("1.0-1", "1.0.post1"),
            ("1.0c", "1.0rc0"),
            ("1.0.preview.7", "1.0rc7"),
            ("1.0+abc.007", "1.0+abc.7"),
            ("1.0.r", "1.0.post0"),
        ] {
            let parsed = v(given);
            assert_eq!(parsed.normalized(), normal, "{given}");
            assert_eq!(parsed.to_string(), given);
            assert_eq!(v(normal), parsed);
        }
        assert!(v("1.0a1").is_prerelease());
        assert!(v("1.0.dev1").is_prerelease());
        assert!(!v("1.0.post1").is_prerelease());
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (s, reason) in [
            ("", "empty PyPI version"),
            (" \t", "empty PyPI version"),
            ("v", "it ends where a release number should be"),
            (
                "1!",
                "it ends where a release number after the epoch should be",
            ),
            ("1.0.", "found '.' at byte 3"),
            ("1..0", "found '.' at byte 1"),
            ("1.0-final", "found '-' at byte 3"),
            ("0.3m1", "found 'm' at byte 3"),
            ("1.0+", "empty local version segment at byte 4"),
            ("1.0+a..b", "empty local version segment at byte 6"),
            ("1.0+a/b", "found '/' at byte 5 where a letter or digit"),
            ("1.0+é", "found 'é' at byte 4"),
            ("1.0 1", "found ' ' at byte 3"),
            ("1.0.post1.post2", "found '.' at byte 9"),
            ("1.0.dev1a1", "found 'a' at byte 8"),
            ("1.0alphabet", "found 'b' at byte 8"),
        ] {
            let msg = PypiVersion::from_str(s).expect_err(s).to_string();
            assert!(msg.contains(reason), "{s:?}: {msg}");
            assert!(crate::validate(Ecosystem::PyPI, s).is_err(), "{s:?}");
        }
        assert!(compare("", "1.0").is_err());
        assert!(compare("1.0", "  ").is_err());
    }

    #[test]
    fn legacy_versions_sort_first() {
        for (a, b, expected) in [
            ("2.0.0-final", "0.1", Ordering::Less),
            ("0.3m1", "0.3m2", Ordering::Less),
            ("trunk", "0.0.0.dev0", Ordering::Less),
            ("1.0-final", "1.0-FINAL", Ordering::Equal),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn hostile_input() {
        let huge = format!("{}.0", "9".repeat(100_000));
        let bigger = format!("1{}", "0".repeat(100_000));
        assert!(v(&huge) < v(&bigger));
        assert_eq!(cmp(&huge, &bigger), Ordering::Less);
        let post = format!("1.0.post{}", "9".repeat(100_000));
        assert!(v(&post) > v("1.0.post99999999999999999999"));
        let local = format!("1.0+{}", "a.".repeat(30_000) + "1");
        assert!(v(&local) > v("1.0"));
        let release = format!("1{}", ".0".repeat(50_000));
        assert_eq!(v(&release), v("1"));
        let junk = "-".repeat(100_000);
        assert_eq!(cmp(&junk, "0"), Ordering::Less);
        assert_eq!(cmp(&junk, &junk), Ordering::Equal);
        let msg = PypiVersion::from_str(&"x".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(msg.len() < 300, "{msg}");
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[0-9]",
            2 => "[1-9][0-9]{1,2}",
            1 => "0[0-9]",
            1 => Just("123456789012345678901234567890".to_owned()),
        ]
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", ".", "-", "_"])
    }

    prop_compose! {
        /// PEP 440 versions in every spelling PEP 440 normalises.
        fn pypi_version()(
            v in prop::sample::select(vec!["", "v", "V"]),
            epoch in prop::option::weighted(0.1, number()),
            release in prop::collection::vec(number(), 1..4),
            pre in prop::option::of((separator(), prop::sample::select(vec![
                "a", "b", "c", "rc", "alpha", "beta", "pre", "preview", "RC", "Alpha",
            ]), separator(), prop::option::of(number()))),
            post in prop::option::of(prop_oneof![
                number().prop_map(|n| format!("-{n}")),
                (separator(), prop::sample::select(vec!["post", "rev", "r", "POST"]), separator(), prop::option::of(number()))
                    .prop_map(|(s, l, t, n)| format!("{s}{l}{}", n.map(|n| format!("{t}{n}")).unwrap_or_default())),
            ]),
            dev in prop::option::of((separator(), separator(), prop::option::of(number()))),
            local in prop::option::of(prop::collection::vec("[a-zA-Z]{1,3}|[0-9]{1,3}", 1..4)),
            local_separator in separator(),
        ) -> String {
            let mut s = v.to_owned();
            if let Some(e) = epoch {
                s.push_str(&e);
                s.push('!');
            }
            s.push_str(&release.join("."));
            if let Some((s1, label, s2, n)) = pre {
                s.push_str(s1);
                s.push_str(label);
                if let Some(n) = n {
                    s.push_str(s2);
                    s.push_str(&n);
                }
            }
            if let Some(p) = post {
                s.push_str(&p);
            }
            if let Some((s1, s2, n)) = dev {
                s.push_str(s1);
                s.push_str("dev");
                if let Some(n) = n {
                    s.push_str(s2);
                    s.push_str(&n);
                }
            }
            if let Some(local) = local {
                s.push('+');
                let sep = if local_separator.is_empty() { "." } else { local_separator };
                s.push_str(&local.join(sep));
            }
            s
        }
    }

    proptest! {
        #[test]
        fn generated_versions_are_valid(s in pypi_version()) {
            prop_assert!(PypiVersion::from_str(&s).is_ok(), "{s}");
        }

        #[test]
        fn ordering_is_total(a in pypi_version(), b in pypi_version(), c in pypi_version()) {
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn lenient_ordering_is_total_on_any_string(
            a in "[0-9a-zA-Z.!+_-]{1,10}",
            b in "[0-9.a-z-]{1,10}",
            c in "\\PC{1,8}",
        ) {
            prop_assume!(!a.trim().is_empty() && !b.trim().is_empty() && !c.trim().is_empty());
            assert_total_order(a.as_str(), b.as_str(), c.as_str(), cmp);
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(pypi_version(), 2..12)) {
            assert_sorts_consistently(&mut vs, |a, b| cmp(a, b));
        }

        #[test]
        fn typed_ordering_matches_compare(a in pypi_version(), b in pypi_version()) {
            prop_assert_eq!(v(&a).cmp(&v(&b)), cmp(&a, &b));
            prop_assert_eq!(v(&a) == v(&b), cmp(&a, &b) == Ordering::Equal);
        }

        #[test]
        fn display_and_normalized_round_trip(s in pypi_version()) {
            let parsed = v(&s);
            prop_assert_eq!(parsed.to_string(), s.clone());
            prop_assert_eq!(v(&parsed.to_string()), parsed.clone());
            let normal = parsed.normalized();
            prop_assert_eq!(v(&normal), parsed.clone());
            prop_assert_eq!(v(&normal).normalized(), normal);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,16}") {
            let _ = PypiVersion::from_str(&s);
            let _ = compare(&s, "1.0");
        }
    }
}
