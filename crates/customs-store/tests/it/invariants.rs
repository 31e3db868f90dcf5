//! Store and rematch invariants, as a property: random sequences of scans and rematches
//! (random finding sets over a small universe, random scopes, random tags that move) against
//! a model of what must be open. After every write:
//! - the delta is exactly the model's difference (new = now open and not before; resolved =
//!   open before, in scope, not produced; changed = open both times with another severity);
//! - the store's open findings per image equal the model's;
//! - the integrity check passes (schema, foreign keys, the store's invariants).
//!
//! Both backends: the same sequences on a SQLite file and on a PostgreSQL schema.

use std::collections::{BTreeMap, BTreeSet};

use customs_store::{RematchRecord, Resolutions, Store};
use proptest::prelude::*;

use crate::support::{Fixture, finding, scan};

const DIGESTS: [&str; 3] = ["sha256:a", "sha256:b", "sha256:c"];
const PACKAGES: [&str; 3] = ["zlib", "curl", "bash"];
const SEVERITIES: [&str; 2] = ["low", "high"];

/// One finding of the universe: (advisory 0..4, package, severity).
type F = (u8, usize, usize);

#[derive(Debug, Clone)]
enum Op {
    /// `scan --store` of an image, under tag `t0`/`t1` or none, with these findings.
    Scan(usize, Option<u8>, Vec<F>),
    /// A rematch of one image; `Some(packages)`: only those were re-evaluated.
    Rematch(usize, Option<BTreeSet<usize>>, Vec<F>),
}

fn findings() -> impl Strategy<Value = Vec<F>> {
    prop::collection::vec((0u8..4, 0..PACKAGES.len(), 0..SEVERITIES.len()), 0..6)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..DIGESTS.len(), prop::option::of(0u8..2), findings())
            .prop_map(|(d, t, f)| Op::Scan(d, t, f)),
        (
            0..DIGESTS.len(),
            prop::option::of(prop::collection::btree_set(0..PACKAGES.len(), 0..3)),
            findings()
        )
            .prop_map(|(d, s, f)| Op::Rematch(d, s, f)),
    ]
}

/// (id, package) → severity; the first of duplicates wins, as in the store.
fn keyed(list: &[F]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for &(id, p, s) in list {
        out.entry((format!("CVE-{id}"), PACKAGES[p].to_owned()))
            .or_insert_with(|| SEVERITIES[s].to_owned());
    }
    out
}

fn records(list: &[F]) -> Vec<customs_store::FindingRecord> {
    list.iter()
        .map(|&(id, p, s)| finding(&format!("CVE-{id}"), PACKAGES[p], SEVERITIES[s]))
        .collect()
}

fn pairs(docs: &[serde_json::Value]) -> BTreeSet<(String, String)> {
    docs.iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                d["package"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn run(fx: &Fixture, ops: &[Op]) {
    let mut store: Box<dyn Store> = fx.open();
    // digest → open (id, package) → severity
    let mut model: BTreeMap<usize, BTreeMap<(String, String), String>> = BTreeMap::new();
    for (minute, op) in (0_i64..).zip(ops) {
        let (d, scope, list) = match op {
            Op::Scan(d, _, list) | Op::Rematch(d, _, list) => (*d, None::<&BTreeSet<usize>>, list),
        };
        let scope = match op {
            Op::Rematch(_, s, _) => s.as_ref(),
            Op::Scan(..) => scope,
        };
        if matches!(op, Op::Rematch(..)) && !model.contains_key(&d) {
            continue; // a rematch needs a stored image
        }
        let in_scope = |p: &str| scope.is_none_or(|s| s.iter().any(|&i| PACKAGES[i] == p));
        // The rematch of a scope produces findings of those packages only.
        let list: Vec<F> = list
            .iter()
            .copied()
            .filter(|&(_, p, _)| in_scope(PACKAGES[p]))
            .collect();
        let before = model.get(&d).cloned().unwrap_or_default();
        let after_in = keyed(&list);
        let delta = match op {
            Op::Scan(_, tag, _) => {
                // Every image has all three packages at version 1.0, so a tag move resolves
                // nothing in the digest it left (same versions): the model stays per digest.
                let reference =
                    tag.map(|t| ("registry.test/app", if t == 0 { "t0" } else { "t1" }));
                store
                    .put_scan(&scan(
                        DIGESTS[d],
                        reference,
                        &PACKAGES,
                        records(&list),
                        minute,
                    ))
                    .unwrap()
            }
            Op::Rematch(..) => {
                let record = RematchRecord {
                    digest: DIGESTS[d].to_owned(),
                    findings: records(&list),
                    scope: scope.map(|s| s.iter().map(|&i| PACKAGES[i].to_owned()).collect()),
                    resolutions: Resolutions::default(),
                };
                store.apply_rematches(&[record], None).unwrap().remove(0)
            }
        };
        let want_new: BTreeSet<_> = after_in
            .keys()
            .filter(|k| !before.contains_key(*k))
            .cloned()
            .collect();
        let want_resolved: BTreeSet<_> = before
            .keys()
            .filter(|k| in_scope(&k.1) && !after_in.contains_key(*k))
            .cloned()
            .collect();
        let want_changed: BTreeSet<_> = after_in
            .iter()
            .filter(|(k, s)| before.get(*k).is_some_and(|b| b != *s))
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(pairs(&delta.new), want_new, "new after {op:?}");
        assert_eq!(
            pairs(&delta.resolved),
            want_resolved,
            "resolved after {op:?}"
        );
        assert_eq!(pairs(&delta.changed), want_changed, "changed after {op:?}");
        let mut next: BTreeMap<_, _> = before
            .into_iter()
            .filter(|(k, _)| !in_scope(&k.1))
            .collect();
        next.extend(after_in);
        model.insert(d, next);

        for (&digest, open) in &model {
            let stored: BTreeMap<_, _> = store
                .history(DIGESTS[digest])
                .unwrap()
                .into_iter()
                .filter(|h| h.resolved_at.is_none())
                .map(|h| ((h.id, h.package_name), h.severity.to_string()))
                .collect();
            assert_eq!(&stored, open, "{} after {op:?}", DIGESTS[digest]);
        }
        store.check().unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn store_follows_the_model_sqlite(ops in prop::collection::vec(op(), 1..12)) {
        run(&Fixture::sqlite(), &ops);
    }

    #[test]
    fn store_follows_the_model_postgres(ops in prop::collection::vec(op(), 1..12)) {
        run(&Fixture::postgres(), &ops);
    }
}
