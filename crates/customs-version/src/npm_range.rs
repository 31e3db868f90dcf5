//! npm version ranges, matched as node-semver's `satisfies` matches them.
//!
//! A range is comparator sets joined by `||`; a version matches when it matches every
//! comparator of at least one set. What each spelling means, from node-semver's documentation
//! (`X` stands for a missing number or `x`, `X`, `*`):
//!
//! | range | means |
//! |---|---|
//! | `1.2.3`, `=1.2.3`, `v1.2.3` | exactly 1.2.3 (build metadata ignored) |
//! | `>1.2.3`, `>=`, `<`, `<=` | as said; a space may follow the operator (`>= 1.2.3`) |
//! | `*`, `x`, `` (empty) | any version |
//! | `1.x`, `1`, `1.*` | `>=1.0.0 <2.0.0-0` |
//! | `1.2.x`, `1.2` | `>=1.2.0 <1.3.0-0` |
//! | `>1`, `>1.2` | `>=2.0.0`, `>=1.3.0` |
//! | `<=1`, `<=1.2` | `<2.0.0-0`, `<1.3.0-0` |
//! | `<1.2`, `>=1.2` | `<1.2.0-0`, `>=1.2.0` |
//! | `~1.2.3`, `~1.2`, `~1` | `>=1.2.3 <1.3.0-0`, `>=1.2.0 <1.3.0-0`, `>=1.0.0 <2.0.0-0` (`~>` is `~`) |
//! | `^1.2.3`, `^0.2.3`, `^0.0.3` | `>=1.2.3 <2.0.0-0`, `>=0.2.3 <0.3.0-0`, `>=0.0.3 <0.0.4-0` |
//! | `^1.2.x`, `^0.0.x`, `^0.x` | `>=1.2.0 <2.0.0-0`, `>=0.0.0 <0.1.0-0`, `>=0.0.0 <1.0.0-0` |
//! | `1.2.3 - 2.3.4` | `>=1.2.3 <=2.3.4` |
//! | `1.2 - 2.3.4`, `1.2.3 - 2.3`, `1.2.3 - 2` | `>=1.2.0 <=2.3.4`, `>=1.2.3 <2.4.0-0`, `>=1.2.3 <3.0.0-0` |
//! | `>1.x`, `<*` | nothing |
//!
//! A hyphen range must be a whole comparator set, with spaces around the `-`. As in
//! node-semver 7.8, a number after an `x` (`1.x.3`) is an error in a plain or `<`/`>`
//! comparator, and ignored after `~`, `^` and in a hyphen range (`~1.x.3` is `~1`); an operator
//! and a version written apart are joined as written (`> =1.x` is `>=1.x`); and a full version
//! after an operator may have one `v` before it but no `=` (`>==1.2.3` is an error).
//!
//! **Pre-releases.** A version with a pre-release tag matches a set only if, besides every
//! comparator, some comparator of that set has a pre-release *and* the same
//! `major.minor.patch`: `1.2.3-beta.4` matches `>=1.2.3-beta.2 <2` but not `>=1.2.0 <2` nor `*`,
//! so that opting into one release's pre-releases does not opt into all of them. The `-0`
//! upper bounds above keep `~1.2.3` from matching `1.3.0-beta`. (node-semver's
//! `includePrerelease` option is not offered.) One quirk kept from node-semver: a range with a
//! set that matches anything (`*`, `x`, an empty set, `>=0.0.0`) is reduced to that set, so
//! `* || >=1.0.0-beta` matches no pre-release at all, not even `1.0.0-beta`.
//!
//! Versions and comparator versions are read as [`NpmVersion`] reads them (a leading `v` or
//! `=` is allowed); numbers may be of any length. node-semver's `loose` mode (`1.2.3beta`) is not
//! offered.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::digits::digit_run_end;
use crate::semver::{self, Parts};
use crate::{Ecosystem, NpmVersion, VersionError};

/// A parsed npm range: comparator sets joined by `||`.
///
/// [`Display`](fmt::Display) prints the range as given.
#[derive(Clone)]
pub struct NpmRange {
    original: String,
    /// The comparator sets; an empty set matches every version without a pre-release.
    sets: Vec<Vec<Bound>>,
}

impl NpmRange {
    /// The range as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether `version` satisfies the range, by node-semver's rules (see the module
    /// documentation for pre-releases).
    #[must_use]
    pub fn matches(&self, version: &NpmVersion) -> bool {
        let v = version.parts();
        self.sets.iter().any(|set| set_matches(set, &v))
    }
}

impl fmt::Display for NpmRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl fmt::Debug for NpmRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NpmRange").field(&self.original).finish()
    }
}

impl FromStr for NpmRange {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut sets = s
            .split("||")
            .map(parse_set)
            .collect::<Result<Vec<_>, String>>()
            .map_err(|reason| VersionError::InvalidRange {
                ecosystem: Ecosystem::Npm,
                range: s.to_owned(),
                reason,
            })?;
        // node-semver replaces a range that has a match-anything set by that set alone, which
        // then refuses every pre-release: `* || >=1.0.0-beta` does not match `1.0.0-beta`.
        if sets.len() > 1 && sets.iter().any(|set| set.iter().all(Bound::is_any)) {
            sets = vec![Vec::new()];
        }
        Ok(Self {
            original: s.to_owned(),
            sets,
        })
    }
}

/// Whether `version` satisfies the npm `range`, as node-semver's `satisfies(version, range)`.
///
/// To test many versions against one range, parse it once as an [`NpmRange`].
///
/// # Errors
///
/// [`VersionError::InvalidRange`] for a range node-semver would not parse, and the version's
/// error for a version that is not a valid npm version (where `satisfies` answers `false`).
pub fn npm_range_matches(range: &str, version: &str) -> Result<bool, VersionError> {
    let range: NpmRange = range.parse()?;
    let version: NpmVersion = version.parse()?;
    Ok(range.matches(&version))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// One primitive comparator: an operator and a full version.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bound {
    op: Op,
    core: [String; 3],
    pre: Option<String>,
}

impl Bound {
    fn new(op: Op, core: [&str; 3], pre: Option<&str>) -> Self {
        Self {
            op,
            core: core.map(str::to_owned),
            pre: pre.map(str::to_owned),
        }
    }

    /// An upper bound below every pre-release of `core`: `<core-0`.
    fn below(core: [&str; 3]) -> Self {
        Self::new(Op::Lt, core, Some("0"))
    }

    fn at_least(core: [&str; 3]) -> Self {
        Self::new(Op::Ge, core, None)
    }

    /// `>=0.0.0`, which node-semver reads as `*`.
    fn is_any(&self) -> bool {
        self.op == Op::Ge && self.pre.is_none() && self.core.iter().all(|n| n == "0")
    }

    fn parts(&self) -> Parts<'_> {
        Parts {
            core: [&self.core[0], &self.core[1], &self.core[2]],
            pre: self.pre.as_deref(),
        }
    }

    fn matches(&self, v: &Parts<'_>) -> bool {
        let order = v.precedence(&self.parts());
        match self.op {
            Op::Lt => order.is_lt(),
            Op::Le => order.is_le(),
            Op::Gt => order.is_gt(),
            Op::Ge => order.is_ge(),
            Op::Eq => order.is_eq(),
        }
    }
}

fn set_matches(set: &[Bound], v: &Parts<'_>) -> bool {
    set.iter().all(|bound| bound.matches(v))
        && (v.pre.is_none()
            || set
                .iter()
                .any(|b| b.pre.is_some() && b.parts().cmp_core(v) == Ordering::Equal))
}

/// A version with numbers missing from the first `x` on.
struct Partial<'a> {
    /// The numbers given before the first `x`, `X`, `*` or missing one: 0 to 3 of them.
    numbers: Vec<&'a str>,
    /// The pre-release, when all three numbers are given.
    pre: Option<&'a str>,
    /// Whether a number follows an `x` (`1.x.3`), which node-semver refuses in a plain or
    /// `<`/`>` comparator but reads as `1.x` after `~`, `^` and in hyphen ranges.
    number_after_x: bool,
    /// The `v`s and `=`s before the version.
    prefix: &'a str,
}

impl<'a> Partial<'a> {
    /// node-semver allows any run of `v` and `=` before a partial version, but at most one `v`
    /// before a full one that follows an operator.
    fn check_prefix(&self, text: &str) -> Result<(), String> {
        if matches!(self.prefix, "" | "v") {
            Ok(())
        } else {
            Err(format!(
                "in {text:?}: only one 'v' may come before a full version"
            ))
        }
    }

    /// The numbers, missing ones as 0.
    fn filled(&self) -> [&'a str; 3] {
        let n = |i: usize| self.numbers.get(i).copied().unwrap_or("0");
        [n(0), n(1), n(2)]
    }
}

fn parse_partial(text: &str) -> Result<Partial<'_>, String> {
    let bad = |what: String| format!("in {text:?}: {what}");
    let t = text.trim_start_matches(['v', '=']);
    let prefix = &text[..text.len() - t.len()];
    let b = t.as_bytes();
    let mut pos = 0;
    let mut numbers = Vec::new();
    let mut wild = false;
    let mut number_after_x = false;
    let mut given = 0;
    loop {
        match b.get(pos) {
            Some(b'x' | b'X' | b'*') => {
                wild = true;
                pos += 1;
            }
            Some(c) if c.is_ascii_digit() => {
                let end = digit_run_end(b, pos);
                if end - pos > 1 && *c == b'0' {
                    return Err(bad("a number has a leading zero".to_owned()));
                }
                if wild {
                    number_after_x = true;
                } else {
                    numbers.push(&t[pos..end]);
                }
                pos = end;
            }
            _ => {
                return Err(bad(format!(
                    "expected a number, x or * but found {}",
                    semver::unexpected(t, pos)
                )));
            }
        }
        given += 1;
        if given == 3 || b.get(pos) != Some(&b'.') {
            break;
        }
        pos += 1;
    }
    let mut pre = None;
    if given == 3 {
        let tail = semver::parse_tail(t, pos, t.len()).map_err(bad)?;
        pre = tail.pre.filter(|_| !wild).map(|r| &t[r]);
    } else if pos < t.len() {
        return Err(bad(format!(
            "{} follows the version",
            semver::unexpected(t, pos)
        )));
    }
    Ok(Partial {
        numbers,
        pre,
        number_after_x,
        prefix,
    })
}

/// `n + 1` for a run of decimal digits.
fn increment(n: &str) -> String {
    let mut digits: Vec<u8> = n.bytes().collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    digits.into_iter().map(char::from).collect()
}

/// The set that matches nothing: `<0.0.0-0`.
fn nothing() -> Vec<Bound> {
    vec![Bound::below(["0", "0", "0"])]
}

fn tilde(p: &Partial<'_>) -> Vec<Bound> {
    let [major, minor, patch] = p.filled();
    match p.numbers.len() {
        0 => vec![],
        1 => vec![
            Bound::at_least([major, "0", "0"]),
            Bound::below([&increment(major), "0", "0"]),
        ],
        2 => vec![
            Bound::at_least([major, minor, "0"]),
            Bound::below([major, &increment(minor), "0"]),
        ],
        _ => vec![
            Bound::new(Op::Ge, [major, minor, patch], p.pre),
            Bound::below([major, &increment(minor), "0"]),
        ],
    }
}

fn caret(p: &Partial<'_>) -> Vec<Bound> {
    let [major, minor, patch] = p.filled();
    let upper = |n: usize| -> Bound {
        if major != "0" || n == 1 {
            Bound::below([&increment(major), "0", "0"])
        } else if minor != "0" || n == 2 {
            Bound::below(["0", &increment(minor), "0"])
        } else {
            Bound::below(["0", "0", &increment(patch)])
        }
    };
    match p.numbers.len() {
        0 => vec![],
        n @ (1 | 2) => vec![Bound::at_least([major, minor, "0"]), upper(n)],
        n => vec![Bound::new(Op::Ge, [major, minor, patch], p.pre), upper(n)],
    }
}

/// A comparator with an operator (or none) and a possibly partial version.
fn primitive(op: Option<Op>, p: &Partial<'_>) -> Vec<Bound> {
    let [major, minor, patch] = p.filled();
    let n = p.numbers.len();
    if n == 3 {
        return vec![Bound::new(
            op.unwrap_or(Op::Eq),
            [major, minor, patch],
            p.pre,
        )];
    }
    // With a partial version, `=` means the same as no operator.
    let op = op.filter(|&op| op != Op::Eq);
    match (op, n) {
        (Some(Op::Gt | Op::Lt), 0) => nothing(),
        (_, 0) => vec![],
        (None, 1) => vec![
            Bound::at_least([major, "0", "0"]),
            Bound::below([&increment(major), "0", "0"]),
        ],
        (None, _) => vec![
            Bound::at_least([major, minor, "0"]),
            Bound::below([major, &increment(minor), "0"]),
        ],
        (Some(Op::Gt), 1) => vec![Bound::at_least([&increment(major), "0", "0"])],
        (Some(Op::Gt), _) => vec![Bound::at_least([major, &increment(minor), "0"])],
        (Some(Op::Le), 1) => vec![Bound::below([&increment(major), "0", "0"])],
        (Some(Op::Le), _) => vec![Bound::below([major, &increment(minor), "0"])],
        (Some(Op::Lt), _) => vec![Bound::below([major, minor, "0"])],
        (Some(Op::Ge | Op::Eq), _) => vec![Bound::at_least([major, minor, "0"])],
    }
}

fn hyphen(from: &Partial<'_>, to: &Partial<'_>) -> Vec<Bound> {
    let mut set = Vec::new();
    let [major, minor, patch] = from.filled();
    match from.numbers.len() {
        0 => {}
        1 | 2 => set.push(Bound::at_least([major, minor, "0"])),
        _ => set.push(Bound::new(Op::Ge, [major, minor, patch], from.pre)),
    }
    let [major, minor, patch] = to.filled();
    match to.numbers.len() {
        0 => {}
        1 => set.push(Bound::below([&increment(major), "0", "0"])),
        2 => set.push(Bound::below([major, &increment(minor), "0"])),
        _ => set.push(Bound::new(Op::Le, [major, minor, patch], to.pre)),
    }
    set
}

/// The operators, longest first.
const OPERATORS: [&str; 8] = ["~>", ">=", "<=", "~", "^", ">", "<", "="];

fn parse_set(set: &str) -> Result<Vec<Bound>, String> {
    let tokens: Vec<&str> = set.split_whitespace().collect();
    if let [from_text, "-", to_text] = tokens[..] {
        let (from, to) = (parse_partial(from_text)?, parse_partial(to_text)?);
        // node-semver writes a full lower bound, and a full upper bound without pre-release,
        // back as `>=` or `<=` and the text as given, which must then read as a comparator.
        if from.numbers.len() == 3 {
            from.check_prefix(from_text)?;
        }
        if to.numbers.len() == 3 && to.pre.is_none() {
            to.check_prefix(to_text)?;
        }
        return Ok(hyphen(&from, &to));
    }
    // An operator may stand apart from its version (`>= 1.2.3`, `~ 1.2`): node-semver joins
    // the two as written, so `> =1` is `>=1`.
    let mut comparators: Vec<Cow<'_, str>> = Vec::with_capacity(tokens.len());
    let mut rest = tokens.into_iter();
    while let Some(token) = rest.next() {
        if OPERATORS.contains(&token) {
            let next = rest
                .next()
                .ok_or_else(|| format!("no version follows {token:?}"))?;
            comparators.push(Cow::Owned(format!("{token}{next}")));
        } else {
            comparators.push(Cow::Borrowed(token));
        }
    }
    let mut bounds = Vec::new();
    for comparator in &comparators {
        let op = OPERATORS
            .iter()
            .find(|op| comparator.starts_with(**op))
            .copied()
            .unwrap_or("");
        let text = &comparator[op.len()..];
        let partial = parse_partial(text)?;
        if !matches!(op, "~" | "~>" | "^") {
            if partial.number_after_x {
                return Err(format!("in {text:?}: a number follows an x"));
            }
            if partial.numbers.len() == 3 {
                partial.check_prefix(text)?;
            }
        }
        bounds.extend(match op {
            "~" | "~>" => tilde(&partial),
            "^" => caret(&partial),
            ">=" => primitive(Some(Op::Ge), &partial),
            "<=" => primitive(Some(Op::Le), &partial),
            ">" => primitive(Some(Op::Gt), &partial),
            "<" => primitive(Some(Op::Lt), &partial),
            "=" => primitive(Some(Op::Eq), &partial),
            _ => primitive(None, &partial),
        });
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn matches(range: &str, version: &str) -> bool {
        npm_range_matches(range, version).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Renders a range's sets as comparators, to check the desugaring.
    fn desugar(range: &str) -> String {
        let range: NpmRange = range.parse().unwrap_or_else(|e| panic!("{e}"));
        range
            .sets
            .iter()
            .map(|set| {
                if set.is_empty() {
                    return "*".to_owned();
                }
                set.iter()
                    .map(|b| {
                        let op = match b.op {
                            Op::Lt => "<",
                            Op::Le => "<=",
                            Op::Gt => ">",
                            Op::Ge => ">=",
                            Op::Eq => "=",
                        };
                        let pre = b.pre.as_ref().map(|p| format!("-{p}")).unwrap_or_default();
                        format!("{op}{}{pre}", b.core.join("."))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(" || ")
    }

    #[test]
    fn desugaring_follows_the_documented_table() {
        for (range, expected) in [
            ("1.2.3", "=1.2.3"),
            ("=v1.2.3", "=1.2.3"),
            ("*", "*"),
            ("", "*"),
            ("x", "*"),
            ("1.x", ">=1.0.0 <2.0.0-0"),
            ("1", ">=1.0.0 <2.0.0-0"),
            ("1.2.*", ">=1.2.0 <1.3.0-0"),
            ("=1.2", ">=1.2.0 <1.3.0-0"),
            (">1", ">=2.0.0"),
            (">1.2", ">=1.3.0"),
            (">1.x", ">=2.0.0"),
            ("<=1", "<2.0.0-0"),
            ("<=0.7.x", "<0.8.0-0"),
            ("<1.2", "<1.2.0-0"),
            (">=1.2", ">=1.2.0"),
            ("<*", "<0.0.0-0"),
            (">=*", "*"),
            ("~1.2.3", ">=1.2.3 <1.3.0-0"),
            ("~1.2", ">=1.2.0 <1.3.0-0"),
            ("~1", ">=1.0.0 <2.0.0-0"),
            ("~0.2.3", ">=0.2.3 <0.3.0-0"),
            ("~>3.2.1", ">=3.2.1 <3.3.0-0"),
            ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
            ("^1.2.3", ">=1.2.3 <2.0.0-0"),
            ("^0.2.3", ">=0.2.3 <0.3.0-0"),
            ("^0.0.3", ">=0.0.3 <0.0.4-0"),
            ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
            ("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0"),
            ("^1.2.x", ">=1.2.0 <2.0.0-0"),
            ("^0.0.x", ">=0.0.0 <0.1.0-0"),
            ("^0.0", ">=0.0.0 <0.1.0-0"),
            ("^1.x", ">=1.0.0 <2.0.0-0"),
            ("^0.x", ">=0.0.0 <1.0.0-0"),
            ("^0.1", ">=0.1.0 <0.2.0-0"),
            ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
            ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4"),
            ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
            ("1.2.3 - 2", ">=1.2.3 <3.0.0-0"),
            ("* - 2", "<3.0.0-0"),
            (">= 1.2.3 <  2", ">=1.2.3 <2.0.0-0"),
            ("^ 1.2 || ~ 3.4.5", ">=1.2.0 <2.0.0-0 || >=3.4.5 <3.5.0-0"),
            ("1.2.3 ||", "*"),
            ("^9.9.9", ">=9.9.9 <10.0.0-0"),
            ("~1.99", ">=1.99.0 <1.100.0-0"),
            ("~1.x.3", ">=1.0.0 <2.0.0-0"),
            ("^x.2.3", "*"),
            ("x.2 - 3", "<4.0.0-0"),
            ("1.2.x-beta", ">=1.2.0 <1.3.0-0"),
            ("* || 2", "*"),
            ("> =x.X", "*"),
        ] {
            assert_eq!(desugar(range), expected, "{range:?}");
        }
    }

    #[test]
    fn documented_examples() {
        for (range, version, expected) in [
            // Comparator sets, `||`.
            (">=1.2.7", "1.2.7", true),
            (">=1.2.7", "1.2.8", true),
            (">=1.2.7", "2.5.3", true),
            (">=1.2.7", "1.2.6", false),
            (">=1.2.7 <1.3.0", "1.2.99", true),
            (">=1.2.7 <1.3.0", "1.3.0", false),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7", true),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.2.8", false),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.4.6", true),
            ("1.2.7 || >=1.2.9 <2.0.0", "2.0.0", false),
            // Pre-release tags.
            (">1.2.3-alpha.3", "1.2.3-alpha.7", true),
            (">1.2.3-alpha.3", "3.4.5-alpha.9", false),
            (">1.2.3-alpha.3", "3.4.5", true),
            (">1.2.3-alpha.3", "1.2.3-alpha.2", false),
            (">=1.2.3-beta.2 <2", "1.2.3-beta.4", true),
            (">=1.2.0 <2", "1.2.3-beta.4", false),
            ("*", "1.0.0-beta", false),
            ("*", "1.0.0", true),
            ("", "0.0.0", true),
            // Tilde and caret.
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("~1.2.3", "1.3.0-beta", false),
            ("~1.2.3-beta.2", "1.2.3-beta.4", true),
            ("~1.2.3-beta.2", "1.2.4-beta.2", false),
            ("~1.2.3-beta.2", "1.2.4", true),
            ("^1.2.3", "1.9.9", true),
            ("^1.2.3", "2.0.0", false),
            ("^1.2.3", "2.0.0-0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.0.3", "0.0.3", true),
            ("^0.0.3", "0.0.4", false),
            ("^1.2.3-beta.2", "1.2.3-beta.4", true),
            ("^1.2.3-beta.2", "1.2.4-beta.2", false),
            ("^0.0.3-beta", "0.0.3-pr.2", true),
            ("^0.0.x", "0.0.9", true),
            ("^0.0.x", "0.1.0", false),
            ("^0.x", "0.9.9", true),
            // X-ranges and hyphen ranges.
            ("1.x", "1.99.99", true),
            ("1.x", "2.0.0", false),
            ("1.2.*", "1.2.1234567890123456789012345678", true),
            ("1.2.*", "1.3.0", false),
            ("1.2.3 - 2.3.4", "2.3.4", true),
            ("1.2.3 - 2.3.4", "2.3.5", false),
            ("1.2.3 - 2.3", "2.3.99", true),
            ("1.2.3 - 2.3", "2.4.0", false),
            ("1.2 - 2.3.4", "1.2.0", true),
            ("1.2.3 - 2.3.4", "2.3.4-beta", false),
            ("1.2.3-pre - 2.3.4", "1.2.3-pre.1", true),
            // Exact versions ignore build metadata; `v`/`=` are tolerated.
            ("1.2.3", "1.2.3+build.7", true),
            ("=v1.2.3", "v1.2.3", true),
            ("1.2.3", "1.2.4", false),
            ("1.2.3-beta", "1.2.3-beta", true),
            ("<*", "0.0.0", false),
            (">*", "99.0.0", false),
            // A match-anything set swallows the others, pre-release comparators included.
            ("* || >=1.0.0-beta", "1.0.0-beta", false),
            (">=0.0.0 || 1.0.0-beta", "1.0.0-beta", false),
            ("|| 1.0.0-beta", "1.0.0-beta", false),
            ("<0.0.0-0 || 1.0.0-beta", "1.0.0-beta", true),
            ("* 1.0.0-beta || 2", "1.0.0-beta", true),
            // Operators written apart are joined as written.
            ("> =1.x", "1.0.0", true),
            ("< =2", "2.3.2", true),
        ] {
            assert_eq!(
                matches(range, version),
                expected,
                "{version} in {range:?} ({})",
                desugar(range)
            );
        }
    }

    #[test]
    fn invalid_ranges_and_versions_are_errors() {
        for (range, reason) in [
            (">=", "no version follows \">=\""),
            ("1.2.3 -", "in \"-\": expected a number"),
            ("- 1.2.3", "in \"-\""),
            ("1.2.3 - 2.3.4 - 3", "in \"-\""),
            (
                "^1.x.y",
                "in \"1.x.y\": expected a number, x or * but found 'y'",
            ),
            ("01.2", "leading zero"),
            ("1.2.3.4", "'.' at byte 5 follows the version"),
            ("1.2-beta", "'-' follows the version"),
            ("1.2.3-", "empty pre-release identifier"),
            ("1.2.3 | 2", "in \"|\""),
            (">=1.2.3 <=", "no version follows \"<=\""),
            ("~>~1", "in \"~1\""),
            ("latest", "in \"latest\""),
            ("1.x.3", "a number follows an x"),
            ("<x.0", "a number follows an x"),
            (">==1.2.3", "only one 'v' may come before a full version"),
            ("= =1.2.3", "only one 'v'"),
            ("=1.0.0 - =2.0.2", "only one 'v'"),
        ] {
            let msg = npm_range_matches(range, "1.2.3")
                .expect_err(range)
                .to_string();
            assert!(msg.contains(reason), "{range:?}: {msg}");
            assert!(msg.starts_with("invalid npm range"), "{msg}");
        }
        let msg = npm_range_matches("*", "1.2").unwrap_err().to_string();
        assert!(msg.starts_with("invalid npm version"), "{msg}");
    }

    #[test]
    fn parsed_ranges_are_reusable() {
        let range: NpmRange = "^1.2.3 || ~2.0.1".parse().unwrap();
        assert_eq!(range.to_string(), "^1.2.3 || ~2.0.1");
        let yes: Vec<&str> = ["1.2.3", "1.5.0", "2.0.5", "0.9.0", "2.1.0", "1.2.4-rc.1"]
            .into_iter()
            .filter(|v| range.matches(&v.parse().unwrap()))
            .collect();
        assert_eq!(yes, ["1.2.3", "1.5.0", "2.0.5"]);
    }

    #[test]
    fn hostile_input() {
        let huge = "9".repeat(100_000);
        assert!(matches(&format!("^{huge}.0.0"), &format!("{huge}.5.0")));
        assert!(!matches(
            &format!("~{huge}"),
            &format!("1{}.0.0", "0".repeat(100_000))
        ));
        assert!(matches(
            &format!("<={huge}"),
            &format!("{huge}.{huge}.{huge}")
        ));
        let many = "1.2.3 ".repeat(20_000);
        assert!(matches(&many, "1.2.3"));
        let alternatives = "||".repeat(20_000);
        assert!(matches(&alternatives, "1.2.3"));
        assert!(npm_range_matches("^é", "1.0.0").is_err());
    }

    #[test]
    fn increments() {
        assert_eq!(increment("0"), "1");
        assert_eq!(increment("9"), "10");
        assert_eq!(increment("1299"), "1300");
        assert_eq!(increment("999"), "1000");
    }

    proptest! {
        /// `^` and `~` agree with the bounds they stand for, on release versions.
        #[test]
        fn caret_and_tilde_bounds(
            base in (0u8..3, 0u8..3, 0u8..3),
            v in (0u8..4, 0u8..4, 0u8..4),
        ) {
            let version = format!("{}.{}.{}", v.0, v.1, v.2);
            let (lo, hi) = ((base.0, base.1, base.2), (v.0, v.1, v.2));
            let at_least = hi >= lo;
            let caret = at_least && if base.0 > 0 {
                v.0 == base.0
            } else if base.1 > 0 {
                v.0 == 0 && v.1 == base.1
            } else {
                v.0 == 0 && v.1 == 0 && v.2 == base.2
            };
            let tilde = at_least && v.0 == base.0 && v.1 == base.1;
            let b = format!("{}.{}.{}", base.0, base.1, base.2);
            prop_assert_eq!(matches(&format!("^{b}"), &version), caret);
            prop_assert_eq!(matches(&format!("~{b}"), &version), tilde);
        }

        #[test]
        fn parsing_never_panics(range in "[0-9xX*^~<>=v. |-]{0,16}", junk in "\\PC{0,12}") {
            let _ = npm_range_matches(&range, "1.2.3");
            let _ = npm_range_matches(&junk, "1.2.3-rc.1");
        }
    }
}
