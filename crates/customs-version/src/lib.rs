//! Version ordering for OS package ecosystems, each by the rules of its own package manager.
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
//!
//! Strings are compared with [`compare`] and checked with [`validate`]; a version that is
//! parsed once and compared many times becomes a [`DebVersion`], [`RpmVersion`] or
//! [`ApkVersion`] (each `FromStr`, `Ord`, and `Display` that prints the original string).
//! With serde, the version types and [`Ecosystem`] travel as strings and are checked again
//! when read back.
//!
//! # Quirks worth knowing
//!
//! - **Equality is the tool's equality.** dpkg says `1.0` = `0:1.0` = `1.0-0`, rpm says `1.0` =
//!   `1_0` and `10.0001` = `10.1`. `==` on the version types is therefore the comparison, not
//!   string equality, and the types do not implement `Hash`.
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
//! - **Numbers of any length.** Digit runs are compared by stripping leading zeros, then by
//!   length, then byte by byte; nothing is converted to an integer, so `20240101123456789012`
//!   neither overflows nor panics. All comparisons are iterative and linear in the input.
//!
//! # Example
//!
//! ```
//! use std::cmp::Ordering;
//! use customs_version::{compare, validate, DebVersion, Ecosystem};
//!
//! // A Debian security update sorts before the release it patches.
//! assert_eq!(compare(Ecosystem::Deb, "1.2.3-1~deb7u1", "1.2.3-1")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Rpm, "1.0~rc1", "1.0")?, Ordering::Less);
//! assert_eq!(compare(Ecosystem::Apk, "1.2_rc1-r0", "1.2-r0")?, Ordering::Less);
//!
//! let a: DebVersion = "1.0".parse()?;
//! let b: DebVersion = "0:1.0-0".parse()?;
//! assert_eq!(a, b);
//! assert_eq!(b.to_string(), "0:1.0-0");
//!
//! assert!(validate(Ecosystem::Apk, "1.0-r").is_err());
//! # Ok::<(), customs_version::VersionError>(())
//! ```
#![forbid(unsafe_code)]

/// Display, Debug and equality for a version type that keeps its `original` string and orders
/// by its own `Ord`: equality is the ecosystem's (`1.0` == `0:1.0` in deb), not the string's.
macro_rules! version_traits {
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
mod deb;
mod digits;
mod ecosystem;
mod error;
mod rpm;
mod serialize;

use std::cmp::Ordering;

pub use apk::ApkVersion;
pub use deb::DebVersion;
pub use ecosystem::{Ecosystem, UnknownEcosystem};
pub use error::VersionError;
pub use rpm::RpmVersion;

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
    }
}

/// Checks that `v` is a well-formed version of the ecosystem.
///
/// This is the strict check: the same one the [`DebVersion`], [`RpmVersion`] and
/// [`ApkVersion`] parsers apply.
///
/// # Errors
///
/// A [`VersionError`] naming the version and what is wrong with it.
pub fn validate(eco: Ecosystem, v: &str) -> Result<(), VersionError> {
    match eco {
        Ecosystem::Deb => deb::parse(v).map(drop),
        Ecosystem::Rpm => rpm::parse(v).map(drop),
        Ecosystem::Apk => apk::validate(v),
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
