//! Version ordering for package ecosystems, each by the rules of its own package manager.
//!
//! A vulnerability match comes down to "is the installed version older than the fixed one?".
//! Answering with the wrong ordering gives false findings or, worse, silent misses, so each
//! ecosystem here follows its tool exactly rather than a common approximation:
//!
//! | ecosystem | spelling | follows |
//! |---|---|---|
//! | [`Ecosystem::Deb`] | `[epoch:]upstream[-revision]` | deb-version(5) and `dpkg --compare-versions` ([`deb`](DebVersion)) |
//! | [`Ecosystem::Rpm`] | `[epoch:]version[-release]` | rpmvercmp and rpm's EVR comparison, as rpm 4.18 `rpm.vercmp` ([`rpm`](RpmVersion)) |
//! | [`Ecosystem::Apk`] | `number{.number}[letter]{_suffix[number]}[~hash][-rN]` | apk-package(5), `apk version -c` and `apk version -t` ([`apk`](ApkVersion)) |
//! | [`Ecosystem::PyPI`] | `[N!]N(.N)*[{a\|b\|rc}N][.postN][.devN][+local]` | PEP 440 with its normalisations, and pip < 22's legacy ordering for the rest ([`pypi`](PypiVersion)) |
//! | [`Ecosystem::Npm`] | `[v]MAJOR.MINOR.PATCH[-pre][+build]` | SemVer 2.0 precedence, read as node-semver reads it ([`npm`](NpmVersion)); ranges by node-semver's rules ([`npm_range_matches`], [`NpmRange`]) |
//! | [`Ecosystem::Cargo`] | `MAJOR.MINOR.PATCH[-pre][+build]` | strict SemVer 2.0 precedence, as Cargo ([`cargo`](CargoVersion)) |
//! | [`Ecosystem::Go`] | `vMAJOR.MINOR.PATCH[-pre][+incompatible]`, `go1.21rc2` | Go modules' SemVer with pseudo-versions, and toolchain versions mapped to SemVer as the Go vulnerability database maps them ([`go`](GoVersion)) |
//! | [`Ecosystem::Maven`] | any string: `1.0`, `1.0-SNAPSHOT`, `2.0.0.Final`, `1.0-rc-1` | maven-artifact 3.8.6's `ComparableVersion`, as OSV's data and matcher ([`maven`](MavenVersion)) |
//! | [`Ecosystem::Gem`] | `N{.X}[-X{.X}]`: `1.0.0.rc1`, `1.0-1` | `Gem::Version` ([`rubygems`](GemVersion)) |
//! | [`Ecosystem::Composer`] | `[v]N{.N}[-stability[N]][+build]`, `dev-branch`, `1.x-dev` | PHP's `version_compare` with OSV's `v` prefix and `#`; Composer's `VersionParser` for validity ([`composer`](ComposerVersion)) |
//! | [`Ecosystem::NuGet`] | `N[.N[.N[.N]]][-label{.label}][+metadata]` | NuGet.Versioning's `NuGetVersion` and default `VersionComparer` ([`nuget`](NuGetVersion)) |
//!
//! Strings are compared with [`compare`] and checked with [`validate`]; a version that is
//! parsed once and compared many times becomes a [`DebVersion`], [`RpmVersion`],
//! [`ApkVersion`], [`PypiVersion`], [`NpmVersion`], [`CargoVersion`], [`GoVersion`],
//! [`MavenVersion`], [`GemVersion`], [`ComposerVersion`] or [`NuGetVersion`] (each `FromStr`,
//! `Ord`, and `Display` that prints the original string). With serde, the version types travel
//! as strings and are checked again when read back. [`Ecosystem`] is the workspace's one
//! ecosystem type, from `customs-types`; its `FromStr` takes OSV's names (`PyPI`, `crates.io`,
//! `Go`, `RubyGems`, `Packagist`, `NuGet`) as well as the inventory's (`pypi`, `cargo`,
//! `golang`, `gem`, `composer`, `nuget`).
//!
//! # Quirks worth knowing
//!
//! - **Equality is the tool's equality.** dpkg says `1.0` = `0:1.0` = `1.0-0`, rpm says `1.0` =
//!   `1_0` and `10.0001` = `10.1`, PEP 440 says `1.0` = `v1.0.0` and `1.0-1` = `1.0.post1`,
//!   SemVer ignores build metadata, Maven says `1` = `1.0-GA` = `1.0.Final`, RubyGems `1.0` =
//!   `1`, NuGet `1` = `1.0.0.0` and `1.0.0-BETA` = `1.0.0-beta`. PHP does not: `1.0` < `1.0.0`.
//!   `==` on the version types is therefore the comparison, not string equality, and the
//!   types do not implement `Hash`.
//! - **What is accepted differs per tool, and so does [`compare`]:**
//!   - deb: [`compare`] rejects what dpkg's strict parser rejects (the one that reads package
//!     control data), including a stray character or a non-digit start, which
//!     `dpkg --compare-versions` only warns about.
//!   - rpm: rpm compares any non-empty string, so only the empty string (and a NUL byte, which
//!     rpm cannot see) is an error.
//!   - apk: `apk version -t` compares *arbitrary* strings while `apk version -c` reports invalid
//!     ones. [`compare`] is the former (only the empty string is an error), [`validate`] and
//!     [`ApkVersion`] the latter. Real Alpine history has versions such as `5.7.1p1-r0` that
//!     apk-tools 2 accepted and today's grammar does not; they still compare sensibly.
//!   - PyPI: [`validate`] and [`PypiVersion`] accept PEP 440 only; [`compare`] also orders
//!     non-PEP 440 strings (`2.0.0-final`, `0.3m1`) as pip before 22 did, before every PEP 440
//!     version. Only an empty string is an error.
//!   - npm, crates.io, Go: [`validate`] and the types are strict (npm tolerates a leading `v`
//!     or `=` and whitespace, Go requires the `v`). [`compare`] reads what OSV's `SEMVER` ranges
//!     hold: `"0"` for "since the beginning", missing `v`s, `1.2` for `1.2.0`; for Go also
//!     `go1.21rc2`. It fails only when no number starts the version.
//!   - Maven: Maven compares any string, and so does [`compare`] (only the empty string is an
//!     error); [`validate`] and [`MavenVersion`] also refuse what cannot name a directory of a
//!     Maven repository (whitespace, control characters, `\ / : " < > | ? *`).
//!   - RubyGems: [`validate`] and [`GemVersion`] take `Gem::Version`'s pattern; [`compare`]
//!     reads any non-empty string by `Gem::Version`'s segments, as OSV does (`1beta`).
//!   - Composer: [`validate`] and [`ComposerVersion`] take what Composer's version parser
//!     normalises (not the `as` aliases and `@stability` flags of requirements); [`compare`]
//!     orders any non-empty string, as `version_compare` does.
//!   - NuGet: [`validate`] and [`NuGetVersion`] refuse numbers above 2^31 - 1, as NuGet does;
//!     [`compare`] takes numbers of any length.
//! - **Not always an order: Maven, and Packagist's `#`.** The reference orderings are OSV's,
//!   whose advisories customs matches and whose test data every ordering here passes in full.
//!   For Maven that is maven-artifact 3.8.6's `ComparableVersion` (OSV's data was generated
//!   with it, and OSV's matcher reproduces it), including 3.8.6's reading of a qualifier after
//!   a `.`: `1.5.9.RC1` < `1.5.9-RC0` and `6.1.12.rc5` < `6.1.12rc1`, where Maven 3.8.7 and 3.9
//!   (MNG-7644, which reads `.RC1` as `-RC1`) answer `>`. `ComparableVersion` is not
//!   transitive (`2.9.0.RC3` < `2.9.0` < `2.9.0-1` < `2.9.0.RC1` < `2.9.0.RC3`, recorded in
//!   OSV's vectors), and [`compare`] and [`MavenVersion`]'s `Ord` give its answers, cycles
//!   included: compare a version with each bound of a range, and do not sort Maven versions
//!   and rely on the result. For Packagist, OSV reads a `#` component as tying with a number
//!   and with the end (`1.2.3.#` = `1.2.3` and = `1.2.3.1`), and so does [`compare`]; without a
//!   `#` it is an order. PHP's `version_compare` would say `1.0.` < `1.0.`; [`compare`] does
//!   not ([`composer`](ComposerVersion)).
//! - **Numbers of any length.** Digit runs are compared by stripping leading zeros, then by
//!   length, then byte by byte; nothing is converted to an integer, so `20240101123456789012`
//!   neither overflows nor panics. All comparisons are iterative and linear in the input.
//!
//! # Example
//!
//! ```
//! use std::cmp::Ordering;
//! use customs_version::{compare, npm_range_matches, validate, DebVersion, Ecosystem, GoVersion};
//!
//! // A Debian security update sorts before the release it patches.
//! assert_eq!(compare(Ecosystem::Deb, "1.2.3-1~deb7u1", "1.2.3-1")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Rpm, "1.0~rc1", "1.0")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Apk, "1.2_rc1-r0", "1.2-r0")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::PyPI, "1.0.dev1", "1.0a1")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Npm, "1.0.0-beta.11", "1.0.0-beta.2")?, Ordering::Greater);
//! assert_eq!(compare(Ecosystem::Go, "go1.21rc2", "1.21.0-0")?, Ordering::Greater);
//! assert_eq!(compare(Ecosystem::Maven, "1.0-SNAPSHOT", "1.0")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Maven, "1.0.Final", "1-GA")?, Ordering::Equal);
//! assert_eq!(compare(Ecosystem::Gem, "1.0.0.rc1", "1.0.0")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Composer, "v1.0RC1", "1.0-dev")?, Ordering::Greater);
//! assert_eq!(compare(Ecosystem::NuGet, "1.0", "1.0.0.0")?, Ordering::Equal);
//!
//! let a: DebVersion = "1.0".parse()?;
//! let b: DebVersion = "0:1.0-0".parse()?;
//! assert_eq!(a, b);
//! assert_eq!(b.to_string(), "0:1.0-0");
//!
//! let pseudo: GoVersion = "v0.0.0-20191109021931-daa7c04131f5".parse()?;
//! assert!(pseudo.is_pseudo() && pseudo < "v0.1.0".parse()?);
//!
//! assert!(npm_range_matches("^1.2.3 || ~2.0", "1.9.0")?);
//! assert!(!npm_range_matches(">=1.2.0 <2", "1.2.3-beta.4")?);
//!
//! assert!(validate(Ecosystem::Apk, "1.0-r").is_err());
//! assert!(validate(Ecosystem::Cargo, "v1.0.0").is_err());
//! # Ok::<(), customs_version::VersionError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Display, Debug and equality for a version type that keeps its `original` string and orders
/// by its own `Ord`: equality is the ecosystem's (`1.0` == `0:1.0` in deb), not the string's.
/// With `parsed_by PARSE`, also `FromStr` for a type that is its `original` string plus the
/// `layout` that `PARSE` makes of it.
macro_rules! version_traits {
    ($t:ident, parsed_by $parse:path) => {
        impl std::str::FromStr for $t {
            type Err = crate::VersionError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self {
                    original: s.to_owned(),
                    layout: $parse(s)?,
                })
            }
        }

        crate::version_traits!($t);
    };
    ($t:ident) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.original)
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($t)).field(&self.original).finish()
            }
        }

        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }

        impl Eq for $t {}
    };
}
pub(crate) use version_traits;

mod apk;
mod cargo;
mod composer;
mod deb;
mod digits;
mod error;
mod go;
mod maven;
mod npm;
mod npm_range;
mod nuget;
mod pypi;
mod rpm;
mod rubygems;
mod semver;
mod serialize;

use std::cmp::Ordering;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;

pub use apk::ApkVersion;
pub use cargo::CargoVersion;
pub use composer::ComposerVersion;
pub use customs_types::{Ecosystem, UnknownName, pep503_name};
pub use deb::DebVersion;
pub use error::VersionError;
pub use go::GoVersion;
pub use maven::MavenVersion;
pub use npm::NpmVersion;
pub use npm_range::{NpmRange, npm_range_matches};
pub use nuget::NuGetVersion;
pub use pypi::PypiVersion;
pub use rpm::RpmVersion;
pub use rubygems::GemVersion;

/// Orders two versions of one ecosystem as its package manager does.
///
/// # Errors
///
/// When either version is one the tool would not compare: see the crate documentation for
/// what each ecosystem accepts. Never panics, whatever the input.
pub fn compare(eco: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    match eco {
        Ecosystem::Deb => {
            let (la, lb) = (deb::parse(a)?, deb::parse(b)?);
            Ok(deb::compare_layouts(a, &la, b, &lb))
        }
        Ecosystem::Rpm => {
            let (la, lb) = (rpm::parse(a)?, rpm::parse(b)?);
            Ok(rpm::compare_layouts(a, &la, b, &lb))
        }
        Ecosystem::Apk => {
            apk::check_comparable(a)?;
            apk::check_comparable(b)?;
            Ok(apk::compare(a, b))
        }
        Ecosystem::PyPI => pypi::compare(a, b),
        Ecosystem::Npm | Ecosystem::Cargo => {
            let (la, lb) = (semver::lenient(eco, a)?, semver::lenient(eco, b)?);
            Ok(la.parts(a).precedence(&lb.parts(b)))
        }
        Ecosystem::Go => go::compare(a, b),
        Ecosystem::Maven => maven::compare(a, b),
        Ecosystem::Gem => rubygems::compare(a, b),
        Ecosystem::Composer => composer::compare(a, b),
        Ecosystem::NuGet => nuget::compare(a, b),
    }
}

/// Checks that `v` is a well-formed version of the ecosystem.
///
/// This is the strict check: the same one the version types' parsers ([`DebVersion`],
/// [`RpmVersion`], [`ApkVersion`], [`PypiVersion`], [`NpmVersion`], [`CargoVersion`],
/// [`GoVersion`], [`MavenVersion`], [`GemVersion`], [`ComposerVersion`], [`NuGetVersion`])
/// apply.
///
/// # Errors
///
/// A [`VersionError`] naming the version and what is wrong with it.
pub fn validate(eco: Ecosystem, v: &str) -> Result<(), VersionError> {
    match eco {
        Ecosystem::Deb => deb::parse(v).map(drop),
        Ecosystem::Rpm => rpm::parse(v).map(drop),
        Ecosystem::Apk => apk::validate(v),
        Ecosystem::PyPI => pypi::parse(v).map(drop),
        Ecosystem::Npm => npm::parse(v).map(drop),
        Ecosystem::Cargo => cargo::parse(v).map(drop),
        Ecosystem::Go => go::parse(v).map(drop),
        Ecosystem::Maven => maven::validate(v),
        Ecosystem::Gem => rubygems::validate(v),
        Ecosystem::Composer => composer::validate(v),
        Ecosystem::NuGet => nuget::parse(v).map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ecosystem answers every string with an ordering or an error, never a panic, and
    /// in time linear in the input.
    #[test]
    fn hostile_strings_never_panic() {
        // Sizes stay moderate: each module's own tests take 100 kB inputs; this one crosses
        // every string with every ecosystem.
        let digits = "9".repeat(20_000);
        let hostile = [
            String::new(),
            " ".to_owned(),
            "\0".to_owned(),
            "é".repeat(1000),
            "🦀.1.2".to_owned(),
            "1.2.3-🦀".to_owned(),
            "١.٢.٣".to_owned(),
            digits.clone(),
            format!("{digits}.{digits}.{digits}-{digits}+{digits}"),
            format!("v{digits}!{digits}.post{digits}.dev{digits}+{digits}"),
            format!("go{digits}.{digits}rc{digits}"),
            ".".repeat(20_000),
            "-".repeat(20_000),
            "+".repeat(20_000),
            "1.".repeat(10_000),
            "a.".repeat(10_000),
            "||".repeat(10_000),
        ];
        for eco in Ecosystem::ALL {
            for a in &hostile {
                let _ = validate(eco, a);
                for b in &hostile[..7] {
                    let _ = compare(eco, a, b);
                    let _ = compare(eco, b, a);
                }
                if let Ok(order) = compare(eco, a, a) {
                    assert_eq!(order, Ordering::Equal, "{eco}: {:?}", &a[..a.len().min(20)]);
                }
            }
        }
        for a in &hostile {
            let _ = npm_range_matches(a, "1.2.3");
            let _ = npm_range_matches("^1.2.3 || >=2", a);
        }
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Checks shared by the property tests of each ecosystem.

    use std::cmp::Ordering;

    /// Fails unless `cmp` behaves as a total order on `a`, `b` and `c`: reflexive,
    /// antisymmetric, transitive.
    pub(crate) fn assert_total_order<T: ?Sized + std::fmt::Debug>(
        a: &T,
        b: &T,
        c: &T,
        cmp: impl Fn(&T, &T) -> Ordering,
    ) {
        for x in [a, b, c] {
            assert_eq!(cmp(x, x), Ordering::Equal, "not reflexive: {x:?}");
        }
        for (x, y) in [(a, b), (b, c), (a, c)] {
            assert_eq!(
                cmp(x, y),
                cmp(y, x).reverse(),
                "not antisymmetric: {x:?} vs {y:?}"
            );
        }
        // Every ordering of the three must be consistent: if x <= y <= z then x <= z, with
        // x < z when either step is strict.
        let all = [a, b, c];
        for x in all {
            for y in all {
                for z in all {
                    let (xy, yz, xz) = (cmp(x, y), cmp(y, z), cmp(x, z));
                    if xy != Ordering::Greater && yz != Ordering::Greater {
                        let expected = if xy == Ordering::Equal && yz == Ordering::Equal {
                            Ordering::Equal
                        } else {
                            Ordering::Less
                        };
                        assert_eq!(
                            xz, expected,
                            "not transitive: {x:?} {xy:?} {y:?} {yz:?} {z:?}"
                        );
                    }
                }
            }
        }
    }

    /// Fails unless sorting `items` with `cmp` gives a sequence in which every pair is ordered,
    /// which does not hold for a comparison that is not a total order.
    pub(crate) fn assert_sorts_consistently<T: std::fmt::Debug>(
        items: &mut [T],
        cmp: impl Fn(&T, &T) -> Ordering,
    ) {
        items.sort_by(&cmp);
        for i in 0..items.len() {
            for j in i + 1..items.len() {
                assert_ne!(
                    cmp(&items[i], &items[j]),
                    Ordering::Greater,
                    "sorted out of order: {:?} before {:?}",
                    items[i],
                    items[j]
                );
            }
        }
    }
}
