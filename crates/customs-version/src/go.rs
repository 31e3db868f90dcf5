//! Go versions: module versions, and the toolchain's own `go1.x` versions.
//!
//! **Module versions** (the Go modules reference, "Versions"): `vMAJOR.MINOR.PATCH[-PRE]` with
//! an optional `+incompatible`, the only build metadata Go allows (a v2+ module without a
//! `go.mod`). The `v` is required and the version must be canonical (all three numbers, as
//! `go.mod` requires). Ordering is SemVer precedence (see `semver`), so `+incompatible` takes no
//! part in it.
//!
//! **Pseudo-versions** name a commit with no tag, in one of three forms:
//!
//! - `vX.0.0-yyyymmddhhmmss-abcdefabcdef` when there is no earlier tag;
//! - `vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdefabcdef` after the release `vX.Y.Z`;
//! - `vX.Y.Z-pre.0.yyyymmddhhmmss-abcdefabcdef` after the pre-release `vX.Y.Z-pre`.
//!
//! They are pre-releases, so plain SemVer precedence puts them where Go does: after the tag
//! they are based on, before the next release, in time order among themselves.
//! [`GoVersion::is_pseudo`] tells them apart.
//!
//! **Toolchain versions** (`runtime.Version()`, build info, the `stdlib` and `toolchain`
//! packages): `go1.20.5`, `go1.21rc2`, `go1.9beta1`. OSV's Go records spell them as SemVer
//! without `v`, as the Go vulnerability database converts its tags, and this crate maps them
//! the same way:
//!
//! | toolchain | SemVer |
//! |---|---|
//! | `go1.20.5` | `1.20.5` |
//! | `go1.21rc2` | `1.21.0-rc.2` |
//! | `go1.9.2rc2` | `1.9.2-rc.2` |
//! | `go1.18beta1` | `1.18.0-beta.1` |
//! | `go1.21`, `go1` | `1.21.0`, `1.0.0` |
//!
//! so that `go1.21rc2` < `1.21.0` and `go1.21.0` > `1.21.0-0` (OSV's "from the first 1.21
//! pre-release on"). A custom toolchain suffix after `-` or a space (`go1.21.0-bigcorp`,
//! `go1.22.0 X:boringcrypto`) is ignored, as `go/version` ignores it. One difference from
//! `go/version`: since Go 1.21 the bare language version `go1.21` sorts *before* `go1.21rc1`
//! there, while here (as in the vulnerability database) it is `1.21.0`; toolchains report
//! `go1.21.0`, never `go1.21`.
//!
//! **What [`compare`](crate::compare) reads.** OSV's Go ranges omit the `v` (`"fixed":
//! "1.2.3"`, `"introduced": "0"`; not one of the 12,888 events in the 4,291 records of
//! `shared/data/advisories/osv-go` has a `v`, and the `stdlib`/`toolchain` ones are shaped
//! `1.20.5`, `1.21.0-0`, `1.21.0-rc.1` or `0`), so `compare` takes module versions with or
//! without `v`, shorthands such as `v1.2`, and toolchain versions, each read by `semver`'s
//! lenient reading. OSV's `"introduced": "0"` is then `0.0.0`, after `v0.0.0-...`
//! pseudo-versions; range evaluation treats it as "from the beginning" (OSV's rule), not this
//! ordering.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::digits::digit_run_end;
use crate::semver::{self, Layout, Parts};
use crate::{Ecosystem, VersionError};

/// A valid Go module or toolchain version, parsed once.
///
/// `==` and `Ord` are SemVer precedence, so `"v2.0.0+incompatible"` == `"v2.0.0"` and
/// `"go1.21rc2"` == `"v1.21.0-rc.2"`; [`Display`](std::fmt::Display) prints the string as
/// given, [`semver`](Self::semver) the SemVer spelling that OSV uses.
#[derive(Clone)]
pub struct GoVersion {
    original: String,
    /// The SemVer spelling of a toolchain version; `None` for a module version.
    toolchain: Option<String>,
    /// Over `toolchain` if there is one, else over `original`.
    layout: Layout,
}

impl GoVersion {
    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The version as SemVer without `v`, as OSV's Go records spell it: `v1.2.3+incompatible`
    /// gives `1.2.3+incompatible`, `go1.21rc2` gives `1.21.0-rc.2`.
    #[must_use]
    pub fn semver(&self) -> &str {
        match &self.toolchain {
            Some(semver) => semver,
            None => &self.original[1..],
        }
    }

    /// Whether this is a toolchain version (`go1.21.0`) rather than a module version.
    #[must_use]
    pub fn is_toolchain(&self) -> bool {
        self.toolchain.is_some()
    }

    /// Whether this is a pseudo-version, in any of its three forms.
    #[must_use]
    pub fn is_pseudo(&self) -> bool {
        self.toolchain.is_none() && is_pseudo(&self.parts())
    }

    fn parts(&self) -> Parts<'_> {
        self.layout
            .parts(self.toolchain.as_deref().unwrap_or(&self.original))
    }
}

impl FromStr for GoVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (toolchain, layout) = parse(s)?;
        Ok(Self {
            original: s.to_owned(),
            toolchain,
            layout,
        })
    }
}

crate::version_traits!(GoVersion);

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().precedence(&other.parts())
    }
}

fn invalid(v: &str, reason: impl Into<String>) -> VersionError {
    VersionError::invalid(Ecosystem::Go, v, reason)
}

/// Checks a module version (strictly) or a toolchain version; for the latter, also returns
/// its SemVer spelling, which the layout indexes.
pub(crate) fn parse(v: &str) -> Result<(Option<String>, Layout), VersionError> {
    if v.is_empty() {
        return Err(VersionError::Empty {
            ecosystem: Ecosystem::Go,
        });
    }
    if v.starts_with("go") {
        let semver = toolchain_semver(v)?;
        let layout = semver::parse_strict(&semver, 0..semver.len())
            .map_err(|reason| invalid(v, reason))?
            .layout;
        return Ok((Some(semver), layout));
    }
    if !v.starts_with('v') {
        return Err(invalid(v, "a module version starts with 'v'"));
    }
    let strict = semver::parse_strict(v, 1..v.len()).map_err(|reason| invalid(v, reason))?;
    if let Some(build) = strict.build
        && &v[build] != "incompatible"
    {
        return Err(invalid(
            v,
            "the only build metadata Go allows is \"+incompatible\"",
        ));
    }
    Ok((None, strict.layout))
}

/// Maps a toolchain version (`go1.21rc2`) to SemVer (`1.21.0-rc.2`).
fn toolchain_semver(v: &str) -> Result<String, VersionError> {
    let b = v.as_bytes();
    // A custom suffix after '-' or whitespace is ignored.
    let end = v
        .find(|c: char| c == '-' || c.is_whitespace())
        .unwrap_or(v.len());
    let mut pos = 2;
    let mut numbers: Vec<&str> = Vec::with_capacity(3);
    loop {
        let digits = pos..digit_run_end(&b[..end], pos);
        if digits.is_empty() {
            return Err(invalid(v, format!("expected a number at byte {pos}")));
        }
        if digits.len() > 1 && b[digits.start] == b'0' {
            return Err(invalid(
                v,
                format!("the number at byte {pos} has a leading zero"),
            ));
        }
        numbers.push(&v[digits.clone()]);
        pos = digits.end;
        if numbers.len() == 3 || pos >= end || b[pos] != b'.' {
            break;
        }
        pos += 1;
    }
    let mut pre = None;
    for label in ["rc", "beta"] {
        if v[pos..end].starts_with(label) {
            let from = pos + label.len();
            let digits = from..digit_run_end(&b[..end], from);
            if digits.is_empty() {
                return Err(invalid(
                    v,
                    format!("\"{label}\" is not followed by a number"),
                ));
            }
            pre = Some((label, &v[digits.clone()]));
            pos = digits.end;
            break;
        }
    }
    if pos < end {
        return Err(invalid(
            v,
            format!(
                "{} at byte {pos} does not belong in a toolchain version",
                semver::unexpected(v, pos)
            ),
        ));
    }
    numbers.resize(3, "0");
    let mut semver = numbers.join(".");
    if let Some((label, n)) = pre {
        semver.push('-');
        semver.push_str(label);
        semver.push('.');
        semver.push_str(n);
    }
    Ok(semver)
}

/// Reads what OSV ranges and binaries hold: a toolchain version, or a module version with or
/// without its `v`, leniently.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let read = |v: &str| -> Result<(Option<String>, Layout), VersionError> {
        if v.trim_start().starts_with("go") {
            let trimmed = v.trim();
            let semver = toolchain_semver(trimmed)?;
            let layout = semver::parse_lenient(&semver, 0..semver.len())
                .map_err(|reason| invalid(v, reason))?;
            Ok((Some(semver), layout))
        } else {
            Ok((None, semver::lenient(Ecosystem::Go, v)?))
        }
    };
    let ((sa, la), (sb, lb)) = (read(a)?, read(b)?);
    let pa = la.parts(sa.as_deref().unwrap_or(a));
    let pb = lb.parts(sb.as_deref().unwrap_or(b));
    Ok(pa.precedence(&pb))
}

/// Tells a pseudo-version by its pre-release: an optional base and `0.`, a 14-digit UTC
/// timestamp, `-`, and a commit hash prefix; the form without a base needs `X.0.0`.
fn is_pseudo(parts: &Parts<'_>) -> bool {
    let Some(pre) = parts.pre else {
        return false;
    };
    let Some((head, revision)) = pre.rsplit_once('-') else {
        return false;
    };
    if revision.is_empty() || !revision.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let Some(base) = head
        .len()
        .checked_sub(14)
        .filter(|&i| head.is_char_boundary(i))
    else {
        return false;
    };
    let (base, timestamp) = head.split_at(base);
    if !timestamp.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match base {
        "" => parts.core[1] == "0" && parts.core[2] == "0",
        "0." => true,
        _ => base.ends_with(".0."),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn v(s: &str) -> GoVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn cmp(a: &str, b: &str) -> Ordering {
        crate::compare(Ecosystem::Go, a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pseudo_versions_order_as_pre_releases() {
        let chain = [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-000000000000",
            "v0.1.0",
            "v0.1.1-0.20200102030405-abcdefabcdef",
            "v0.1.1-0.20210102030405-000000000001",
            "v0.1.1",
            "v1.2.0-rc.1",
            "v1.2.0-rc.1.0.20220101000000-abcdefabcdef",
            "v1.2.0-rc.2",
            "v1.2.0",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{pair:?}");
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
            assert_eq!(cmp(pair[1], pair[0]), Ordering::Greater, "{pair:?}");
        }
        for s in [chain[0], chain[1], chain[3], chain[4], chain[7]] {
            assert!(v(s).is_pseudo(), "{s}");
        }
        for s in [
            "v0.1.0",
            "v1.2.0-rc.1",
            "v1.2.3-20191109021931-daa7c04131f5",
            "v1.2.3-1.20191109021931-daa7c04131f5",
            "v1.0.0-0.2019110902193-daa7c04131f5",
            "go1.21.0",
        ] {
            assert!(!v(s).is_pseudo(), "{s}");
        }
        // OSV's records omit the `v`.
        assert_eq!(
            cmp(
                "0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20191109021931-daa7c04131f5"
            ),
            Ordering::Equal
        );
        // By SemVer a v0.0.0 pseudo-version is older than "0" (0.0.0): OSV's `"introduced":
        // "0"` means "from the beginning" and is the range evaluator's special case, not an
        // ordering.
        assert_eq!(
            cmp("v0.0.0-20191109021931-daa7c04131f5", "0"),
            Ordering::Less
        );
    }

    #[test]
    fn incompatible_is_ignored() {
        assert_eq!(v("v2.0.0+incompatible"), v("v2.0.0"));
        assert!(v("v2.0.0+incompatible") < v("v2.0.1"));
        assert!(v("v20.10.0-beta1+incompatible") < v("v20.10.0+incompatible"));
        assert_eq!(cmp("20.10.27+incompatible", "v20.10.27"), Ordering::Equal);
        assert_eq!(cmp("20.10.27+incompatible", "20.10.28"), Ordering::Less);
        assert_eq!(v("v2.0.0+incompatible").semver(), "2.0.0+incompatible");
    }

    #[test]
    fn toolchain_versions() {
        for (tag, semver) in [
            ("go1.20.5", "1.20.5"),
            ("go1.21rc2", "1.21.0-rc.2"),
            ("go1.9.2rc2", "1.9.2-rc.2"),
            ("go1.18beta1", "1.18.0-beta.1"),
            ("go1.21", "1.21.0"),
            ("go1", "1.0.0"),
            ("go1.21.0-bigcorp", "1.21.0"),
            ("go1.22.0 X:boringcrypto", "1.22.0"),
        ] {
            let parsed = v(tag);
            assert_eq!(parsed.semver(), semver, "{tag}");
            assert!(parsed.is_toolchain());
            assert_eq!(parsed.to_string(), tag);
            assert_eq!(cmp(tag, semver), Ordering::Equal, "{tag}");
        }
        use Ordering::{Greater, Less};
        for (a, b, expected) in [
            ("go1.21rc2", "go1.21.0", Less),
            ("go1.21rc2", "1.21.0-0", Greater),
            ("go1.21.0", "1.21.0-0", Greater),
            ("go1.20.14", "1.21.0-0", Less),
            ("go1.22.0", "go1.21.13", Greater),
            ("go1.9.7", "go1.10", Less),
            ("go1.21beta1", "go1.21rc1", Less),
            ("go1.20.5", "1.20.6", Less),
        ] {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
        assert_eq!(v("go1.21rc2"), v("v1.21.0-rc.2"));
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (s, reason) in [
            ("", "empty Go version"),
            ("1.2.3", "a module version starts with 'v'"),
            ("v1.2", "the patch version is missing"),
            ("v1.2.3+build", "only build metadata Go allows"),
            ("v1.2.3-01", "leading zero"),
            ("V1.2.3", "starts with 'v'"),
            ("go", "expected a number at byte 2"),
            ("go1.", "expected a number at byte 4"),
            ("go1.21rc", "\"rc\" is not followed by a number"),
            ("go1.21.0.1", "'.' at byte 8 does not belong"),
            ("go01.2", "leading zero"),
            ("gox", "expected a number"),
            ("devel go1.22-abcdef", "starts with 'v'"),
        ] {
            let msg = GoVersion::from_str(s).expect_err(s).to_string();
            assert!(msg.contains(reason), "{s:?}: {msg}");
            assert!(crate::validate(Ecosystem::Go, s).is_err(), "{s:?}");
        }
        for s in ["", "x", "go", "v", "vx"] {
            assert!(crate::compare(Ecosystem::Go, s, "1.0.0").is_err(), "{s:?}");
        }
    }

    #[test]
    fn hostile_input() {
        let huge = format!("v{}.0.0", "9".repeat(100_000));
        let bigger = format!("v1{}.0.0", "0".repeat(100_000));
        assert!(v(&huge) < v(&bigger));
        let tool = format!("go1.{}", "9".repeat(100_000));
        assert_eq!(cmp(&tool, "go1.21"), Ordering::Greater);
        let pseudo = format!("v0.0.0-{}-abc", "1".repeat(100_000));
        assert!(!v(&pseudo).is_pseudo());
    }

    proptest! {
        #[test]
        fn module_versions_round_trip(
            s in "v(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]?)\\.(0|[1-9][0-9]?)(-(0|[a-z]{1,3})(\\.(0|[1-9][0-9]{0,13}|[a-f][a-f0-9]{0,11}(-[a-f0-9]{1,3})?))*)?(\\+incompatible)?"
        ) {
            let parsed = v(&s);
            prop_assert_eq!(parsed.to_string(), s.clone());
            prop_assert_eq!(v(&parsed.to_string()), parsed.clone());
            prop_assert_eq!(cmp(&s, parsed.semver()), Ordering::Equal);
            prop_assert_eq!(cmp(&s, &s[1..]), Ordering::Equal);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,16}", t in "(go|v)?[0-9.a-z+ -]{0,12}") {
            let _ = GoVersion::from_str(&s);
            let _ = GoVersion::from_str(&t);
            let _ = crate::compare(Ecosystem::Go, &s, &t);
        }
    }
}
