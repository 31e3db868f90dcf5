//! Findings reconciliation, shared by both backends: what is stored for an image against the
//! complete set a scan or rematch produced → the row changes to make and the [`Delta`]; and
//! what a tag move resolves in the digest the tag left.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use crate::error::json;
use crate::model::{Delta, FindingId, FindingRecord, IndexedPackage, RematchInput, Resolutions};
use crate::{ResolvedReason, StoreError};

/// A findings row as loaded for reconciliation.
pub(crate) struct StoredFinding {
    pub(crate) key: FindingId,
    pub(crate) severity: crate::Severity,
    pub(crate) kev: bool,
    /// [`data_hash`] of the stored document (`None` for rows written before there was one).
    /// Compared instead of the document: a rematch of thousands of images compares far more
    /// findings than it reports, and reading each document back would dominate it.
    pub(crate) data_hash: Option<i64>,
    pub(crate) open: bool,
}

/// A hash of a finding document's JSON text, to tell whether it changed. Not stable across
/// Rust releases (std's SipHash with fixed keys): a changed hash only rewrites the document.
pub(crate) fn data_hash(data: &Value) -> i64 {
    use std::hash::Hasher;
    struct Feed<'a>(&'a mut std::collections::hash_map::DefaultHasher);
    impl std::io::Write for Feed<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // Writing JSON into a hasher cannot fail.
    let _ = serde_json::to_writer(Feed(&mut h), data);
    i64::from_ne_bytes(h.finish().to_ne_bytes())
}

/// A row change. Timestamps are the caller's.
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
    Resolve(FindingId, ResolvedReason),
}

/// A resolved finding's document as a delta reports it: with the reason.
pub(crate) fn resolved_doc(mut data: Value, reason: ResolvedReason) -> Value {
    if let Some(object) = data.as_object_mut() {
        object.insert("resolved_reason".to_owned(), reason.as_str().into());
    }
    data
}

/// Compare. Findings with the same key in `incoming` are one finding: the first one wins (two
/// copies of a package at different paths give the same id, name and version). Only stored
/// findings of packages in `scope` (all when `None`) can be resolved.
///
/// The delta's `resolved` is left to the caller: the stored documents of the findings the
/// [`Change::Resolve`]s name, in their order, each through [`resolved_doc`] (read back for a
/// whole batch of images at once, not one query per finding).
pub(crate) fn reconcile<'a>(
    stored: Vec<StoredFinding>,
    incoming: &'a [FindingRecord],
    scope: Option<&BTreeSet<String>>,
    resolutions: &Resolutions,
) -> (Vec<Change<'a>>, Delta) {
    let mut seen = HashSet::new();
    let incoming: BTreeMap<FindingId, &FindingRecord> = incoming
        .iter()
        .filter(|f| seen.insert(f.key()))
        .map(|f| (f.key(), f))
        .collect();
    // Findings of packages outside the scope were not re-evaluated: they are neither
    // compared nor resolved.
    let mut stored: BTreeMap<FindingId, StoredFinding> = stored
        .into_iter()
        .filter(|s| scope.is_none_or(|sc| sc.contains(&s.key.package_name)))
        .map(|s| (s.key.clone(), s))
        .collect();

    let mut changes = Vec::new();
    let mut delta = Delta::default();
    for (key, finding) in &incoming {
        let old = stored.remove(key);
        if finding.kev && !old.as_ref().is_some_and(|o| o.open && o.kev) {
            delta.kev.push(finding.data.clone());
        }
        match old {
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
            Some(old)
                if old.kev != finding.kev || old.data_hash != Some(data_hash(&finding.data)) =>
            {
                changes.push(Change::Data(finding));
            }
            Some(_) => {}
        }
    }
    for (key, old) in stored {
        if old.open {
            let reason = resolutions.of(&key);
            changes.push(Change::Resolve(key, reason));
        }
    }
    (changes, delta)
}

/// A tag moved from `previous` to the image of `incoming`/`packages`: the open findings of
/// `previous` that the new image does not have — the package is there at another version
/// (upgraded) or not at all (removed). Findings whose package is there at the same version
/// stay open: their absence is the database's doing, not the build's.
///
/// # Errors
/// A stored document that is not JSON.
pub(crate) fn superseded(
    previous: Vec<StoredFinding>,
    incoming: &[FindingRecord],
    packages: &[IndexedPackage],
    stored_data: &mut dyn FnMut(&FindingId) -> Result<String, StoreError>,
) -> Result<Vec<(FindingId, ResolvedReason, Value)>, StoreError> {
    let still: HashSet<(&str, &str)> = incoming
        .iter()
        .map(|f| (f.id.as_str(), f.package_name.as_str()))
        .collect();
    let mut versions: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in packages {
        if let (Some(name), Some(version)) = (p.data["name"].as_str(), p.data["version"].as_str()) {
            versions.entry(name).or_default().push(version);
        }
    }
    previous
        .into_iter()
        .filter(|f| f.open && !still.contains(&(f.key.id.as_str(), f.key.package_name.as_str())))
        .filter_map(|f| {
            let reason = match versions.get(f.key.package_name.as_str()) {
                None => ResolvedReason::PackageRemoved,
                Some(v) if v.contains(&f.key.package_version.as_str()) => return None,
                Some(_) => ResolvedReason::PackageUpgraded,
            };
            Some(
                stored_data(&f.key)
                    .and_then(|d| json(&d, "findings.data"))
                    .map(|data| (f.key, reason, data)),
            )
        })
        .collect()
}

/// What a rematch reads: the context (with `"packages"` empty) and `packages`, or a schema-1
/// inventory; documents as the JSON text stored.
pub(crate) fn rematch_input(
    digest: String,
    context: Option<String>,
    inventory: Option<String>,
    packages: Vec<String>,
) -> Result<RematchInput, StoreError> {
    match (context, inventory) {
        (Some(context), _) => {
            let document = with_empty_packages(&context).ok_or_else(|| StoreError::Corrupt {
                what: "contexts.context",
                detail: format!("{digest}: not a JSON object"),
            })?;
            Ok(RematchInput {
                digest,
                document,
                packages,
                whole_inventory: false,
            })
        }
        (None, Some(document)) => Ok(RematchInput {
            digest,
            document,
            packages: Vec::new(),
            whole_inventory: true,
        }),
        (None, None) => Err(StoreError::Corrupt {
            what: "images.context",
            detail: format!("{digest}: neither a context nor an inventory"),
        }),
    }
}

/// A stored context (an inventory document without `"packages"`; the column holds JSON) with
/// an empty `"packages"`, as text: `{"packages":[],…}`. Spliced into the text rather than
/// parsed and written again, since a rematch reads thousands of contexts and parses each once
/// more, into its own type, on its worker threads. `None` for text that is not an object.
fn with_empty_packages(context: &str) -> Option<String> {
    let rest = context.trim_start().strip_prefix('{')?;
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    Some(format!("{{\"packages\":[]{sep}{rest}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rec(id: &str, severity: &str) -> FindingRecord {
        let severity: crate::Severity = severity.parse().unwrap();
        FindingRecord {
            id: id.into(),
            package_name: "p".into(),
            package_version: "1".into(),
            severity,
            kev: false,
            data: json!({"id": id, "severity": severity}),
        }
    }

    fn stored(id: &str, severity: &str, open: bool) -> StoredFinding {
        let r = rec(id, severity);
        StoredFinding {
            key: r.key(),
            severity: r.severity,
            kev: false,
            data_hash: Some(data_hash(&r.data)),
            open,
        }
    }

    #[test]
    fn a_context_gets_an_empty_package_list() {
        let parsed = |s: &str| serde_json::from_str::<Value>(&with_empty_packages(s).unwrap());
        assert_eq!(
            parsed(r#" {"distro": {"id": "debian"}}"#).unwrap(),
            serde_json::json!({"packages": [], "distro": {"id": "debian"}})
        );
        assert_eq!(parsed("{ }").unwrap(), serde_json::json!({"packages": []}));
        assert_eq!(with_empty_packages("[1]"), None);
        assert_eq!(with_empty_packages("null"), None);
    }

    #[test]
    fn classifies() {
        let incoming = [
            rec("A", "high"),
            rec("B", "low"),
            rec("C", "low"),
            rec("C", "medium"),
            rec("E", "low"),
        ];
        let mut resolutions = Resolutions::default();
        resolutions
            .by_finding
            .insert(rec("D", "low").key(), ResolvedReason::AdvisoryWithdrawn);
        let (changes, delta) = reconcile(
            vec![
                stored("A", "high", true),
                stored("B", "high", true),
                stored("D", "low", true),
                stored("E", "low", false),
                stored("F", "low", false),
            ],
            &incoming,
            None,
            &resolutions,
        );
        assert_eq!(changes.len(), 4);
        let ids = |v: &[Value]| {
            v.iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&delta.new), ["C", "E"]);
        assert_eq!(ids(&delta.changed), ["B"]);
        assert!(delta.resolved.is_empty(), "the caller's to fill");
        let resolved: Vec<_> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Resolve(k, why) => Some((k.id.as_str(), *why)),
                _ => None,
            })
            .collect();
        assert_eq!(resolved, [("D", ResolvedReason::AdvisoryWithdrawn)]);
        assert_eq!(delta.new[0]["severity"], "low");
        assert!(delta.kev.is_empty());
        assert_eq!(
            resolved_doc(rec("D", "low").data, ResolvedReason::AdvisoryWithdrawn)["resolved_reason"],
            "advisory-withdrawn"
        );

        // Out of scope: D stays open.
        let scope = BTreeSet::from(["q".to_owned()]);
        let (changes, delta) = reconcile(
            vec![stored("D", "low", true)],
            &[],
            Some(&scope),
            &resolutions,
        );
        assert!(changes.is_empty() && delta.is_empty());
    }

    #[test]
    fn kev_listing_is_reported_once() {
        let mut listed = rec("A", "high");
        listed.kev = true;
        let (changes, delta) = reconcile(
            vec![stored("A", "high", true)],
            std::slice::from_ref(&listed),
            None,
            &Resolutions::default(),
        );
        assert_eq!((changes.len(), delta.kev.len()), (1, 1));
        let mut again = stored("A", "high", true);
        again.kev = true;
        let (_, delta) = reconcile(
            vec![again],
            std::slice::from_ref(&listed),
            None,
            &Resolutions::default(),
        );
        assert!(delta.is_empty());
    }

    #[test]
    fn tag_move_resolves_by_what_the_new_build_has() {
        let mut old: Vec<StoredFinding> = ["A", "B", "C", "D"]
            .iter()
            .map(|id| stored(id, "high", true))
            .collect();
        for (f, pkg) in old.iter_mut().zip(["up", "gone", "same", "kept"]) {
            f.key.package_name = pkg.to_owned();
        }
        let mut kept = rec("D", "high");
        kept.package_name = "kept".into();
        kept.package_version = "2".into();
        let pkg = |name: &str, version: &str| IndexedPackage {
            keys: vec![],
            data: json!({"name": name, "version": version}),
        };
        let out = superseded(
            old,
            &[kept],
            &[pkg("up", "2"), pkg("same", "1"), pkg("kept", "2")],
            &mut |k| Ok(format!("{{\"id\": \"{}\"}}", k.id)),
        )
        .unwrap();
        let got: Vec<_> = out.iter().map(|(k, r, _)| (k.id.as_str(), *r)).collect();
        assert_eq!(
            got,
            [
                ("A", ResolvedReason::PackageUpgraded),
                ("B", ResolvedReason::PackageRemoved)
            ]
        );
    }
}
