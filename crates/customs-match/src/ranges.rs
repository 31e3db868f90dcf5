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

use customs_vulndb::{Event, Range};

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
    ranges.iter().filter(|r| r.kind != "GIT").any(|r| {
        if r.kind == "RUSTSEC" {
            rustsec_affected(r, installed)
        } else {
            in_range(r, installed, &mut *cmp)
        }
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
            kind: "ECOSYSTEM".into(),
            events,
        }
    }

    #[test]
    fn rustsec_requirements() {
        // RUSTSEC-2021-0003 (smallvec): patched [">= 0.6.14, < 1.0.0", ">= 1.6.1"],
        // unaffected ["< 0.6.3"].
        let r = Range {
            kind: "RUSTSEC".into(),
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
            kind: "RUSTSEC".into(),
            events: vec![Event::Fixed("^0.3.4".into())],
        };
        assert!(!rustsec_affected(&caret, "0.3.9"));
        assert!(rustsec_affected(&caret, "0.4.0"));
        assert!(rustsec_affected(&caret, "0.3.3"));
        // No requirement at all: every version.
        let all = Range {
            kind: "RUSTSEC".into(),
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
                kind: "GIT".into(),
                events: vec![Event::Introduced("0".into())]
            }],
            &[],
            "1",
            &mut n
        ));
    }
}
