//! Findings reconciliation, shared by both backends: what is stored for an image against the
//! complete set a scan or rematch produced → the row changes to make and the [`Delta`].

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::model::{Delta, FindingKey, FindingRecord};

/// A findings row as loaded for reconciliation.
pub(crate) struct StoredFinding {
    pub(crate) key: FindingKey,
    pub(crate) severity: String,
    pub(crate) data: Value,
    pub(crate) open: bool,
}

/// A row change. Timestamps and the resolved reason are the caller's.
pub(crate) enum Change<'a> {
    /// Never stored: insert with `first_seen = last_changed = now`.
    Insert(&'a FindingRecord),
    /// Stored and resolved, found again: clear the resolution, `last_changed = now`.
    Reopen(&'a FindingRecord),
    /// Open, new severity: update severity and data, `last_changed = now`.
    Severity(&'a FindingRecord),
    /// Open, same severity, different document: update data only.
    Data(&'a FindingRecord),
    /// Open and no longer found: `resolved_at = last_changed = now`, with the reason.
    Resolve(FindingKey),
}

/// Compare. Findings with the same key in `incoming` are one finding: the first one wins (two
/// copies of a package at different paths give the same id, name and version).
pub(crate) fn reconcile(
    stored: Vec<StoredFinding>,
    incoming: &[FindingRecord],
) -> (Vec<Change<'_>>, Delta) {
    let mut seen = HashSet::new();
    let incoming: BTreeMap<FindingKey, &FindingRecord> = incoming
        .iter()
        .filter(|f| seen.insert(f.key()))
        .map(|f| (f.key(), f))
        .collect();
    let mut stored: BTreeMap<FindingKey, StoredFinding> =
        stored.into_iter().map(|s| (s.key.clone(), s)).collect();

    let mut changes = Vec::new();
    let mut delta = Delta::default();
    for (key, finding) in &incoming {
        match stored.remove(key) {
            None => {
                changes.push(Change::Insert(finding));
                delta.new.push(finding.data.clone());
            }
            Some(old) if !old.open => {
                changes.push(Change::Reopen(finding));
                delta.new.push(finding.data.clone());
            }
            Some(old) if old.severity != finding.severity => {
                changes.push(Change::Severity(finding));
                delta.changed.push(finding.data.clone());
            }
            Some(old) if old.data != finding.data => changes.push(Change::Data(finding)),
            Some(_) => {}
        }
    }
    for (key, old) in stored {
        if old.open {
            changes.push(Change::Resolve(key));
            delta.resolved.push(old.data);
        }
    }
    (changes, delta)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rec(id: &str, severity: &str) -> FindingRecord {
        FindingRecord {
            id: id.into(),
            package_name: "p".into(),
            package_version: "1".into(),
            severity: severity.into(),
            data: json!({"id": id, "severity": severity}),
        }
    }

    fn stored(id: &str, severity: &str, open: bool) -> StoredFinding {
        let r = rec(id, severity);
        StoredFinding {
            key: r.key(),
            severity: r.severity,
            data: r.data,
            open,
        }
    }

    #[test]
    fn classifies() {
        let incoming = [
            rec("A", "high"),
            rec("B", "low"),
            rec("C", "low"),
            rec("C", "x"),
            rec("E", "low"),
        ];
        let (changes, delta) = reconcile(
            vec![
                stored("A", "high", true),
                stored("B", "high", true),
                stored("D", "low", true),
                stored("E", "low", false),
                stored("F", "low", false),
            ],
            &incoming,
        );
        assert_eq!(changes.len(), 4);
        let ids = |v: &[Value]| {
            v.iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&delta.new), ["C", "E"]);
        assert_eq!(ids(&delta.changed), ["B"]);
        assert_eq!(ids(&delta.resolved), ["D"]);
        assert_eq!(delta.new[0]["severity"], "low");
    }
}
