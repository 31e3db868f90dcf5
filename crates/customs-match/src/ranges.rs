//! OSV range evaluation (osv-schema: "Evaluation"): within each range, events are ordered by
//! version; `introduced` opens an affected interval, `fixed` closes it before that version,
//! `last_affected` closes it after; a version listed in `versions` is affected too. GIT ranges
//! name commits, not versions, and cannot be evaluated against an installed package.
//!
//! RustSec advisories (range kind `RUSTSEC`) say it the other way round: `patched` and
//! `unaffected` are Cargo version requirements (`>= 1.5.5`, `^0.3.4`, `>= 0.6.14, < 1.0.0`),
//! and a version is affected when it meets none of them. They are evaluated with the `semver`
//! crate, whose `VersionReq` is Cargo's own implementation of those rules.

use std::cmp::Ordering;

use customs_vulndb::{Event, Range, RangeKind};

/// Whether `installed` is affected. `cmp` compares two versions of the ecosystem; an event whose
/// version does not parse is skipped (and reported by the caller through `bad`).
pub(crate) fn affected(
    ranges: &[Range],
    versions: &[String],
    installed: &str,
    cmp: &mut dyn FnMut(&str, &str) -> Option<Ordering>,
) -> bool {
    if versions
        .iter()
        .any(|v| cmp(installed, v) == Some(Ordering::Equal))
    {
        return true;
    }
    ranges.iter().any(|r| match r.kind {
        RangeKind::Git => false,
        RangeKind::Rustsec => rustsec_affected(r, installed),
        RangeKind::Ecosystem | RangeKind::Semver => in_range(r, installed, &mut *cmp),
    })
}

/// Affected unless a `patched` (`Fixed`) or `unaffected` (`Limit`) requirement matches. A
/// version that is not SemVer, or a requirement that does not parse, is not evaluated (the
/// range does not match): RustSec data and Cargo.lock versions are SemVer by construction.
pub(crate) fn rustsec_affected(r: &Range, installed: &str) -> bool {
    let Ok(v) = semver::Version::parse(installed.trim()) else {
        return false;
    };
    !r.events.iter().any(|e| match e {
        Event::Fixed(req) | Event::Limit(req) => {
            semver::VersionReq::parse(req).is_ok_and(|q| q.matches(&v))
        }
        _ => false,
    })
}

fn in_range(
    r: &Range,
    installed: &str,
    cmp: &mut dyn FnMut(&str, &str) -> Option<Ordering>,
) -> bool {
    // "0" is the start of time for introduced.
    let key = |e: &Event| -> Option<String> {
        match e {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) => Some(v.clone()),
            Event::Limit(_) => None,
        }
    };
    let mut events: Vec<&Event> = r.events.iter().filter(|e| key(e).is_some()).collect();
    events.sort_by(|a, b| {
        let (a, b) = (key(a).unwrap_or_default(), key(b).unwrap_or_default());
        match (a == "0", b == "0") {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => cmp(&a, &b).unwrap_or(Ordering::Equal),
        }
    });
    let mut affected = false;
    for e in events {
        match e {
            Event::Introduced(v) => {
                if v == "0"
                    || matches!(cmp(installed, v), Some(Ordering::Greater | Ordering::Equal))
                {
                    affected = true;
                }
            }
            Event::Fixed(v) => {
                if matches!(cmp(installed, v), Some(Ordering::Greater | Ordering::Equal)) {
                    affected = false;
                }
            }
            Event::LastAffected(v) => {
                if matches!(cmp(installed, v), Some(Ordering::Greater)) {
                    affected = false;
                }
            }
            Event::Limit(_) => {}
        }
    }
    affected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(a: &str, b: &str) -> Option<Ordering> {
        Some(a.parse::<u32>().ok()?.cmp(&b.parse::<u32>().ok()?))
    }

    fn r(events: Vec<Event>) -> Range {
        Range {
            kind: RangeKind::Ecosystem,
            events,
        }
    }

    #[test]
    fn rustsec_requirements() {
        // RUSTSEC-2021-0003 (smallvec): patched [">= 0.6.14, < 1.0.0", ">= 1.6.1"],
        // unaffected ["< 0.6.3"].
        let r = Range {
            kind: RangeKind::Rustsec,
            events: vec![
                Event::Fixed(">= 0.6.14, < 1.0.0".into()),
                Event::Fixed(">= 1.6.1".into()),
                Event::Limit("< 0.6.3".into()),
            ],
        };
        assert!(rustsec_affected(&r, "1.6.0"));
        assert!(rustsec_affected(&r, "1.0.0"));
        assert!(rustsec_affected(&r, "0.6.5"));
        assert!(!rustsec_affected(&r, "1.6.1"));
        assert!(!rustsec_affected(&r, "0.6.14"));
        assert!(!rustsec_affected(&r, "0.5.0"));
        // A bare requirement is a caret requirement, as in Cargo.toml.
        let caret = Range {
            kind: RangeKind::Rustsec,
            events: vec![Event::Fixed("^0.3.4".into())],
        };
        assert!(!rustsec_affected(&caret, "0.3.9"));
        assert!(rustsec_affected(&caret, "0.4.0"));
        assert!(rustsec_affected(&caret, "0.3.3"));
        // No requirement at all: every version.
        let all = Range {
            kind: RangeKind::Rustsec,
            events: vec![],
        };
        assert!(rustsec_affected(&all, "9.9.9"));
        assert!(!rustsec_affected(&all, "not-semver"));
    }

    #[test]
    fn intervals() {
        let ranges = [r(vec![
            Event::Introduced("0".into()),
            Event::Fixed("5".into()),
            Event::Introduced("7".into()),
            Event::LastAffected("8".into()),
        ])];
        let mut n = num;
        let mut at = |v: &str| affected(&ranges, &[], v, &mut n);
        assert!(at("1") && at("4") && !at("5") && !at("6") && at("7") && at("8") && !at("9"));
        assert!(affected(&[], &["3".into()], "3", &mut n));
        assert!(!affected(
            &[Range {
                kind: RangeKind::Git,
                events: vec![Event::Introduced("0".into())]
            }],
            &[],
            "1",
            &mut n
        ));
    }

    /// OSV ranges against a model: disjoint intervals over integers, each opened by
    /// `introduced` and closed by `fixed` (exclusive) or `last_affected` (inclusive), or left
    /// open; the events handed over in any order, the first `introduced` sometimes "0". A
    /// version is affected exactly when an interval holds it or it is listed.
    mod model {
        use proptest::prelude::*;

        use super::*;

        #[derive(Debug, Clone)]
        struct Interval {
            start: u32,
            end: Option<(u32, bool)>, // (version, inclusive)
        }

        fn intervals() -> impl Strategy<Value = (Vec<Interval>, bool)> {
            (
                prop::collection::vec((1u32..4, 1u32..4, any::<bool>()), 0..4),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(steps, open_last, from_zero)| {
                    let mut at = 0;
                    let mut out = Vec::new();
                    let n = steps.len();
                    for (i, (gap, len, inclusive)) in steps.into_iter().enumerate() {
                        let start = at + gap;
                        let end = start + len;
                        at = end + 1;
                        out.push(Interval {
                            start,
                            end: (!(open_last && i + 1 == n)).then_some((end, inclusive)),
                        });
                    }
                    (out, from_zero)
                })
        }

        fn holds(iv: &[Interval], from_zero: bool, v: u32) -> bool {
            iv.iter().enumerate().any(|(i, x)| {
                let start = if i == 0 && from_zero { 0 } else { x.start };
                v >= start
                    && match x.end {
                        None => true,
                        Some((e, true)) => v <= e,
                        Some((e, false)) => v < e,
                    }
            })
        }

        proptest! {
            #[test]
            fn ranges_match_the_model(
                (iv, from_zero) in intervals(),
                listed in prop::collection::vec(0u32..30, 0..3),
                shuffle in any::<u64>(),
            ) {
                let mut events = Vec::new();
                for (i, x) in iv.iter().enumerate() {
                    events.push(Event::Introduced(if i == 0 && from_zero {
                        "0".to_owned()
                    } else {
                        x.start.to_string()
                    }));
                    match x.end {
                        Some((e, true)) => events.push(Event::LastAffected(e.to_string())),
                        Some((e, false)) => events.push(Event::Fixed(e.to_string())),
                        None => {}
                    }
                }
                // Feeds list events in any order; evaluation must not depend on it.
                let mut state = shuffle;
                for i in (1..events.len()).rev() {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let j = usize::try_from(state >> 33).unwrap_or(0) % (i + 1);
                    events.swap(i, j);
                }
                let range = r(events);
                let versions: Vec<String> = listed.iter().map(u32::to_string).collect();
                for v in 0u32..30 {
                    let want = holds(&iv, from_zero, v) || listed.contains(&v);
                    let got = affected(
                        std::slice::from_ref(&range),
                        &versions,
                        &v.to_string(),
                        &mut num,
                    );
                    prop_assert_eq!(got, want, "version {} of {:?}", v, range);
                }
            }
        }
    }
}
