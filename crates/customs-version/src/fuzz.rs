//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`), one per ecosystem and one
//! for npm ranges.
//!
//! The input is UTF-8 text holding up to three versions, one per line. Besides "never panics",
//! each entry point asserts what matching relies on:
//!
//! - [`compare`] is an order: `a == a`, `a < b` exactly when `b > a` (and an error for one
//!   order is an error for the other), and it is transitive over the three versions, except
//!   for Maven and Composer, whose reference orderings (maven-artifact 3.8.6, OSV's reading of
//!   a Packagist `#`) are not transitive and are only held to the first two;
//! - the version type agrees: it is reflexive and antisymmetric, prints the string it was
//!   parsed from, that string parses back to an equal version, serde round-trips it, and where
//!   [`compare`] accepts both versions it orders them as the type does;
//! - PEP 440's and NuGet's normalised forms are the same version.
//!
//! `cargo test` replays every file under `fuzz/regressions/<target>/` through [`TARGETS`].

use std::cmp::Ordering;
use std::fmt::{Debug, Display};
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{
    ApkVersion, CargoVersion, ComposerVersion, DebVersion, Ecosystem, GemVersion, GoVersion,
    MavenVersion, NpmRange, NpmVersion, NuGetVersion, PypiVersion, RpmVersion, compare,
    npm_range_matches, validate,
};

/// What every fuzz target calls.
pub type Entry = fn(&[u8]);

/// Every entry point of this crate, by its fuzz target's name.
pub const TARGETS: &[(&str, Entry)] = &[
    ("version_deb", version_deb),
    ("version_rpm", version_rpm),
    ("version_apk", version_apk),
    ("version_pypi", version_pypi),
    ("version_npm", version_npm),
    ("version_cargo", version_cargo),
    ("version_go", version_go),
    ("version_maven", version_maven),
    ("version_rubygems", version_rubygems),
    ("version_composer", version_composer),
    ("version_nuget", version_nuget),
    ("npm_range", npm_range),
];

/// Up to three strings, one per line; `None` for input that is not UTF-8.
fn lines(data: &[u8]) -> Option<Vec<&str>> {
    let text = std::str::from_utf8(data).ok()?;
    Some(text.splitn(3, '\n').collect())
}

fn check_compare(eco: Ecosystem, vs: &[&str]) {
    for &a in vs {
        let _ = validate(eco, a);
        if let Ok(order) = compare(eco, a, a) {
            assert_eq!(order, Ordering::Equal, "{eco}: {a:?} != itself");
        }
        for &b in vs {
            match (compare(eco, a, b), compare(eco, b, a)) {
                (Ok(ab), Ok(ba)) => assert_eq!(ab, ba.reverse(), "{eco}: {a:?} vs {b:?}"),
                (Err(_), Err(_)) => {}
                (ab, ba) => panic!("{eco}: {a:?} vs {b:?} gives {ab:?}, the reverse {ba:?}"),
            }
        }
    }
    if matches!(eco, Ecosystem::Maven | Ecosystem::Composer) {
        // Not transitive by reference: see the `maven` and `composer` module documentation.
        return;
    }
    for &a in vs {
        for &b in vs {
            for &c in vs {
                let (Ok(ab), Ok(bc), Ok(ac)) =
                    (compare(eco, a, b), compare(eco, b, c), compare(eco, a, c))
                else {
                    continue;
                };
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    let expected = if ab == Ordering::Equal && bc == Ordering::Equal {
                        Ordering::Equal
                    } else {
                        Ordering::Less
                    };
                    assert_eq!(ac, expected, "{eco}: not transitive: {a:?} {b:?} {c:?}");
                }
            }
        }
    }
}

fn check_type<T>(eco: Ecosystem, vs: &[&str])
where
    T: FromStr + Display + Debug + Ord + Serialize + DeserializeOwned,
{
    let parsed: Vec<(&str, T)> = vs
        .iter()
        .filter_map(|s| s.parse::<T>().ok().map(|v| (*s, v)))
        .collect();
    for (s, v) in &parsed {
        assert!(
            validate(eco, s).is_ok(),
            "{eco}: {s:?} parses but does not validate"
        );
        assert_eq!(v.cmp(v), Ordering::Equal, "{eco}: {v:?} != itself");
        let printed = v.to_string();
        assert_eq!(&printed, s, "{eco}: {v:?} does not print as read");
        let again: T = printed
            .parse()
            .unwrap_or_else(|_| panic!("{eco}: printed {printed:?} does not parse"));
        assert_eq!(&again, v, "{eco}: {printed:?} parses to another version");
        let json = serde_json::to_string(v).expect("a version serialises");
        let back: T = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{eco}: {json} does not deserialise: {e}"));
        assert_eq!(&back, v, "{eco}: serde changes {v:?}");
    }
    for (a, va) in &parsed {
        for (b, vb) in &parsed {
            assert_eq!(va.cmp(vb), vb.cmp(va).reverse(), "{eco}: {a:?} vs {b:?}");
            if let Ok(order) = compare(eco, a, b) {
                assert_eq!(order, va.cmp(vb), "{eco}: compare and the type differ");
            }
        }
    }
}

fn check<T>(eco: Ecosystem, data: &[u8])
where
    T: FromStr + Display + Debug + Ord + Serialize + DeserializeOwned,
{
    if let Some(vs) = lines(data) {
        check_compare(eco, &vs);
        check_type::<T>(eco, &vs);
    }
}

pub fn version_deb(data: &[u8]) {
    check::<DebVersion>(Ecosystem::Deb, data);
}

pub fn version_rpm(data: &[u8]) {
    check::<RpmVersion>(Ecosystem::Rpm, data);
}

pub fn version_apk(data: &[u8]) {
    check::<ApkVersion>(Ecosystem::Apk, data);
}

pub fn version_pypi(data: &[u8]) {
    check::<PypiVersion>(Ecosystem::PyPI, data);
    for s in lines(data).unwrap_or_default() {
        if let Ok(v) = s.parse::<PypiVersion>() {
            let normal = v.normalized();
            let n: PypiVersion = normal
                .parse()
                .unwrap_or_else(|_| panic!("normalised {normal:?} of {s:?} does not parse"));
            assert_eq!(n, v, "normalising {s:?} changes the version");
            assert_eq!(
                n.normalized(),
                normal,
                "normalising {s:?} is not idempotent"
            );
        }
    }
}

pub fn version_npm(data: &[u8]) {
    check::<NpmVersion>(Ecosystem::Npm, data);
}

pub fn version_cargo(data: &[u8]) {
    check::<CargoVersion>(Ecosystem::Cargo, data);
}

pub fn version_go(data: &[u8]) {
    check::<GoVersion>(Ecosystem::Go, data);
}

pub fn version_maven(data: &[u8]) {
    check::<MavenVersion>(Ecosystem::Maven, data);
}

pub fn version_rubygems(data: &[u8]) {
    check::<GemVersion>(Ecosystem::Gem, data);
}

pub fn version_composer(data: &[u8]) {
    check::<ComposerVersion>(Ecosystem::Composer, data);
}

pub fn version_nuget(data: &[u8]) {
    check::<NuGetVersion>(Ecosystem::NuGet, data);
    for s in lines(data).unwrap_or_default() {
        if let Ok(v) = s.parse::<NuGetVersion>() {
            let normal = v.normalized();
            let n: NuGetVersion = normal
                .parse()
                .unwrap_or_else(|_| panic!("normalised {normal:?} of {s:?} does not parse"));
            assert_eq!(n, v, "normalising {s:?} changes the version");
            assert_eq!(
                n.normalized(),
                normal,
                "normalising {s:?} is not idempotent"
            );
        }
    }
}

/// A range on the first line, versions on the others.
pub fn npm_range(data: &[u8]) {
    let Some(vs) = lines(data) else { return };
    let Some((range, versions)) = vs.split_first() else {
        return;
    };
    let Ok(parsed) = range.parse::<NpmRange>() else {
        for v in versions {
            assert!(npm_range_matches(range, v).is_err());
        }
        return;
    };
    assert_eq!(parsed.to_string(), *range, "range does not print as read");
    let again: NpmRange = parsed.to_string().parse().expect("a printed range parses");
    let json = serde_json::to_string(&parsed).expect("a range serialises");
    let back: NpmRange = serde_json::from_str(&json).expect("a serialised range parses");
    for v in versions {
        let Ok(version) = v.parse::<NpmVersion>() else {
            continue;
        };
        let m = parsed.matches(&version);
        assert_eq!(
            again.matches(&version),
            m,
            "{range:?} reparsed differs on {v:?}"
        );
        assert_eq!(
            back.matches(&version),
            m,
            "{range:?} via serde differs on {v:?}"
        );
        assert_eq!(npm_range_matches(range, v).ok(), Some(m));
    }
}

#[cfg(test)]
#[path = "../../../fuzz/replay.rs"]
mod tests;
