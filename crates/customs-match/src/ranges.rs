//! OSV range evaluation (osv-schema: "Evaluation"): within each range, events are ordered by
//! version; `introduced` opens an affected interval, `fixed` closes it before that version,
//! `last_affected` closes it after; a version listed in `versions` is affected too. GIT ranges
//! name commits, not versions, and cannot be evaluated against an installed package.

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
    ranges
        .iter()
        .filter(|r| r.kind != "GIT")
        .any(|r| in_range(r, installed, &mut *cmp))
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
