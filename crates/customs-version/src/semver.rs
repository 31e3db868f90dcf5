//! SemVer 2.0 precedence, shared by the npm, Cargo and Go orderings.
//!
//! Precedence follows semver.org §11: major, minor and patch compare as numbers; a version
//! with a pre-release is older than the same version without one; two pre-releases compare
//! identifier by identifier (split on `.`), numeric identifiers as numbers and below
//! alphanumeric ones, alphanumeric identifiers in ASCII order, and a shorter list of equal
//! identifiers first. Build metadata (`+...`) never takes part.
//!
//! Two readings of a version string live here:
//!
//! - [`parse_strict`]: the SemVer 2.0 grammar, `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, numbers and
//!   numeric pre-release identifiers without leading zeros, identifiers non-empty and made of
//!   `[0-9A-Za-z-]`. The ecosystems add their own tolerance around it (npm's `v`, Go's
//!   required `v`).
//! - [`parse_lenient`]: what OSV's `SEMVER` ranges need. Their events say `"0"` for "since
//!   the beginning" and Go's omit the `v`, so [`compare`](crate::compare) drops surrounding
//!   whitespace and a leading run of `v` and `=`, reads one to three numbers (missing ones
//!   are 0), then takes everything up to a `+` as the pre-release, one leading `-` or `.`
//!   dropped (`1.2.3rc1` has pre-release `rc1`, `1.1.3.4.5` has `4.5`: OSV's SemVer vectors
//!   only ask that such a version equal itself). Identifiers may then be empty or hold any
//!   character; they still compare by the rules above, so the order stays total.
//!
//! Numbers are never converted to integers (see `digits`), so 30-digit versions order
//! correctly where node-semver gives up past 2^53 and the `semver` crate past 2^64.

use std::cmp::Ordering;
use std::ops::Range;

use crate::digits::{cmp_decimal, digit_run_end};
use crate::{Ecosystem, VersionError};

/// Where the parts of a SemVer version lie in its string; build metadata is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The digits of each number; an empty range is a missing number, which counts as 0.
    pub(crate) core: [Range<usize>; 3],
    /// The pre-release, without its `-`.
    pub(crate) pre: Option<Range<usize>>,
}

impl Layout {
    pub(crate) fn parts<'a>(&self, s: &'a str) -> Parts<'a> {
        Parts {
            core: self.core.clone().map(|r| &s[r]),
            pre: self.pre.clone().map(|r| &s[r]),
        }
    }
}

/// A version as the pieces that decide its precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    /// Major, minor and patch as runs of digits (an empty run is 0).
    pub(crate) core: [&'a str; 3],
    pub(crate) pre: Option<&'a str>,
}

impl Parts<'_> {
    /// SemVer precedence (semver.org §11).
    pub(crate) fn precedence(&self, other: &Parts<'_>) -> Ordering {
        self.cmp_core(other)
            .then_with(|| match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => cmp_pre_release(a, b),
            })
    }

    /// Compares major, minor and patch only.
    pub(crate) fn cmp_core(&self, other: &Parts<'_>) -> Ordering {
        self.core
            .iter()
            .zip(other.core.iter())
            .map(|(a, b)| cmp_decimal(a.as_bytes(), b.as_bytes()))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// Compares two pre-releases identifier by identifier.
pub(crate) fn cmp_pre_release(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = cmp_identifier(x, y);
                if order.is_ne() {
                    return order;
                }
            }
        }
    }
}

fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())
}

fn cmp_identifier(x: &str, y: &str) -> Ordering {
    match (is_numeric(x), is_numeric(y)) {
        (true, true) => cmp_decimal(x.as_bytes(), y.as_bytes()),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.as_bytes().cmp(y.as_bytes()),
    }
}

/// What [`parse_strict`] found, besides the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Strict {
    pub(crate) layout: Layout,
    /// The build metadata, without its `+`.
    pub(crate) build: Option<Range<usize>>,
}

/// Reads `s[span]` by the SemVer 2.0 grammar. Byte positions in the reasons are positions in
/// `s`.
pub(crate) fn parse_strict(s: &str, span: Range<usize>) -> Result<Strict, String> {
    let bytes = s.as_bytes();
    let end = span.end;
    let mut pos = span.start;
    let mut core = [0..0, 0..0, 0..0];
    for (i, name) in ["major", "minor", "patch"].into_iter().enumerate() {
        if i > 0 {
            if pos >= end || bytes[pos] != b'.' {
                return Err(format!(
                    "the {name} version is missing: expected MAJOR.MINOR.PATCH"
                ));
            }
            pos += 1;
        }
        let digits = pos..digit_run_end(&bytes[..end], pos);
        if digits.is_empty() {
            return Err(match bytes[..end].get(pos) {
                None => format!("the {name} version is missing: expected MAJOR.MINOR.PATCH"),
                Some(_) => format!(
                    "{} at byte {pos} is not a {name} version",
                    unexpected(s, pos)
                ),
            });
        }
        if digits.len() > 1 && bytes[digits.start] == b'0' {
            return Err(format!("the {name} version has a leading zero"));
        }
        pos = digits.end;
        core[i] = digits;
    }
    let Tail { pre, build } = parse_tail(s, pos, end)?;
    Ok(Strict {
        layout: Layout { core, pre },
        build,
    })
}

/// What follows `MAJOR.MINOR.PATCH`: where the pre-release and the build metadata lie, without
/// their `-` and `+`.
pub(crate) struct Tail {
    pub(crate) pre: Option<Range<usize>>,
    pub(crate) build: Option<Range<usize>>,
}

/// Reads an optional `-PRE` and `+BUILD` from `pos` up to `end`, which must be all that is
/// left.
pub(crate) fn parse_tail(s: &str, mut pos: usize, end: usize) -> Result<Tail, String> {
    let bytes = s.as_bytes();
    let mut pre = None;
    if pos < end && bytes[pos] == b'-' {
        let from = pos + 1;
        pos = identifiers(s, from, end, true)?;
        pre = Some(from..pos);
    }
    let mut build = None;
    if pos < end && bytes[pos] == b'+' {
        let from = pos + 1;
        pos = identifiers(s, from, end, false)?;
        build = Some(from..pos);
    }
    if pos < end {
        return Err(format!(
            "{} at byte {pos} follows the version",
            unexpected(s, pos)
        ));
    }
    Ok(Tail { pre, build })
}

/// Reads dot-separated identifiers from `from` up to `end` (or, for a pre-release, up to a
/// `+`); returns where they stop.
fn identifiers(s: &str, from: usize, end: usize, pre_release: bool) -> Result<usize, String> {
    let bytes = s.as_bytes();
    let what = if pre_release {
        "pre-release"
    } else {
        "build metadata"
    };
    let stop = if pre_release {
        bytes[from..end]
            .iter()
            .position(|&c| c == b'+')
            .map_or(end, |i| from + i)
    } else {
        end
    };
    let mut at = from;
    for id in s[from..stop].split('.') {
        if id.is_empty() {
            return Err(format!("empty {what} identifier at byte {at}"));
        }
        if let Some(bad) = id
            .bytes()
            .position(|c| !(c.is_ascii_alphanumeric() || c == b'-'))
        {
            return Err(format!(
                "{} at byte {} in the {what}",
                unexpected(s, at + bad),
                at + bad
            ));
        }
        if pre_release && is_numeric(id) && id.len() > 1 && id.starts_with('0') {
            return Err(format!(
                "numeric {what} identifier {id:?} has a leading zero"
            ));
        }
        at += id.len() + 1;
    }
    Ok(stop)
}

/// Names the character at byte `at` of `s`, which must be a character boundary.
pub(crate) fn unexpected(s: &str, at: usize) -> String {
    s[at..]
        .chars()
        .next()
        .map_or_else(|| "the end".to_owned(), |c| format!("{c:?}"))
}

/// Reads `s[span]` leniently, as OSV's `SEMVER` range events need (see the module
/// documentation). Fails only when no number starts the span.
pub(crate) fn parse_lenient(s: &str, span: Range<usize>) -> Result<Layout, String> {
    let bytes = &s.as_bytes()[..span.end];
    let mut pos = span.start;
    let first = pos..digit_run_end(bytes, pos);
    if first.is_empty() {
        return Err(match bytes.get(pos) {
            None => "no version follows the prefix".to_owned(),
            Some(_) => format!("it starts with {}, not a number", unexpected(s, pos)),
        });
    }
    pos = first.end;
    let mut core = [first, pos..pos, pos..pos];
    for slot in &mut core[1..] {
        if bytes.get(pos) == Some(&b'.') && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
            let digits = pos + 1..digit_run_end(bytes, pos + 1);
            pos = digits.end;
            *slot = digits;
        } else {
            *slot = pos..pos;
        }
    }
    let stop = bytes[pos..]
        .iter()
        .position(|&c| c == b'+')
        .map_or(span.end, |i| pos + i);
    let pre = if pos == stop {
        None
    } else if matches!(bytes[pos], b'-' | b'.') {
        Some(pos + 1..stop)
    } else {
        Some(pos..stop)
    };
    Ok(Layout { core, pre })
}

/// The span of `v` without surrounding whitespace and a leading run of `v`, `=` and
/// whitespace (what npm tolerates, and what `compare` tolerates for every SemVer ecosystem);
/// `Empty` when `v` is only whitespace.
pub(crate) fn trim_prefix(eco: Ecosystem, v: &str) -> Result<Range<usize>, VersionError> {
    let end = v.trim_end().len();
    let body = v[..end].trim_start_matches(|c: char| c.is_whitespace() || c == '=' || c == 'v');
    if v.trim().is_empty() {
        return Err(VersionError::Empty { ecosystem: eco });
    }
    Ok(end - body.len()..end)
}

/// [`parse_lenient`] after [`trim_prefix`], with errors for `eco`.
pub(crate) fn lenient(eco: Ecosystem, v: &str) -> Result<Layout, VersionError> {
    let span = trim_prefix(eco, v)?;
    parse_lenient(v, span).map_err(|reason| VersionError::invalid(eco, v, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(s: &str) -> Result<Parts<'_>, String> {
        parse_strict(s, 0..s.len()).map(|p| p.layout.parts(s))
    }

    fn lenient(s: &str) -> Parts<'_> {
        parse_lenient(s, 0..s.len()).unwrap().parts(s)
    }

    #[test]
    fn precedence_of_the_specification_example() {
        // semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta
        // < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        for pair in chain.windows(2) {
            let (a, b) = (strict(pair[0]).unwrap(), strict(pair[1]).unwrap());
            assert_eq!(a.precedence(&b), Ordering::Less, "{pair:?}");
            assert_eq!(b.precedence(&a), Ordering::Greater, "{pair:?}");
        }
    }

    #[test]
    fn build_metadata_is_kept_apart() {
        let s = "1.2.3-rc.1+build.5";
        let p = parse_strict(s, 0..s.len()).unwrap();
        assert_eq!(&s[p.layout.pre.clone().unwrap()], "rc.1");
        assert_eq!(&s[p.build.unwrap()], "build.5");
        let s = "1.2.3+b-1.x";
        let p = parse_strict(s, 0..s.len()).unwrap();
        assert_eq!(p.layout.pre, None);
        assert_eq!(&s[p.build.unwrap()], "b-1.x");
    }

    #[test]
    fn strict_grammar_errors() {
        for (v, reason) in [
            ("", "the major version is missing"),
            ("1", "the minor version is missing"),
            ("1.2", "the patch version is missing"),
            ("1.2.", "the patch version is missing"),
            ("01.2.3", "the major version has a leading zero"),
            ("1.02.3", "the minor version has a leading zero"),
            ("1.2.3-", "empty pre-release identifier at byte 6"),
            ("1.2.3-a..b", "empty pre-release identifier at byte 8"),
            ("1.2.3-01", "\"01\" has a leading zero"),
            ("1.2.3+", "empty build metadata identifier"),
            ("1.2.3-a_b", "'_' at byte 7 in the pre-release"),
            ("1.2.3+a+b", "'+' at byte 7 in the build metadata"),
            ("1.2.3.4", "'.' at byte 5 follows the version"),
            ("1.2.3rc1", "'r' at byte 5 follows the version"),
            ("v1.2.3", "'v' at byte 0 is not a major version"),
            ("1.x.3", "'x' at byte 2 is not a minor version"),
            ("1.2.3-é", "'é' at byte 6 in the pre-release"),
        ] {
            let err = strict(v).expect_err(v);
            assert!(err.contains(reason), "{v:?}: {err}");
        }
        assert!(strict("1.2.3-0.a-b.0a+001.x").is_ok());
    }

    #[test]
    fn lenient_reading() {
        let p = lenient("7");
        assert_eq!(p.core, ["7", "", ""]);
        assert_eq!(p.pre, None);
        assert_eq!(p.precedence(&strict("7.0.0").unwrap()), Ordering::Equal);
        assert_eq!(lenient("1.2rc1").pre, Some("rc1"));
        assert_eq!(lenient("1.2.3-rc1+x").pre, Some("rc1"));
        assert_eq!(lenient("1.1.3.4.5").pre, Some("4.5"));
        assert_eq!(lenient("1.2.x").core, ["1", "2", ""]);
        assert_eq!(lenient("1.2.x").pre, Some("x"));
        assert_eq!(lenient("1.2.3+").pre, None);
        assert!(parse_lenient("x1", 0..2).is_err());
        assert!(parse_lenient("", 0..0).is_err());
    }
}
