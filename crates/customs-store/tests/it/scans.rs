use std::collections::{BTreeMap, BTreeSet};

use customs_store::{FindingId, RematchRecord, Resolutions, ResolvedReason, StoreError};

use crate::support::{Fixture, at, both, finding, ids, scan};

both!(
    put_scan_twice_gives_exact_delta,
    rematch_reconciles_without_inventory,
    reopened_finding_is_new
);

const D: &str = "sha256:1111";

fn put_scan_twice_gives_exact_delta(fx: &Fixture) {
    let mut store = fx.open();
    let first = vec![
        finding("CVE-A", "openssl", "high"),
        finding("CVE-B", "zlib", "low"),
        finding("CVE-C", "bash", "medium"),
    ];
    let delta = store
        .put_scan(&scan(
            D,
            Some(("app", "1")),
            &["openssl", "zlib", "bash"],
            first,
            0,
        ))
        .unwrap();
    assert_eq!(ids(&delta.new), ["CVE-A", "CVE-B", "CVE-C"]);
    assert!(delta.resolved.is_empty() && delta.changed.is_empty());

    // One fewer (C), one new (D), one with a new severity (A), one unchanged (B).
    let second = vec![
        finding("CVE-A", "openssl", "critical"),
        finding("CVE-B", "zlib", "low"),
        finding("CVE-D", "openssl", "high"),
    ];
    let delta = store
        .put_scan(&scan(
            D,
            Some(("app", "1")),
            &["openssl", "zlib", "bash"],
            second.clone(),
            10,
        ))
        .unwrap();
    assert_eq!(ids(&delta.new), ["CVE-D"]);
    assert_eq!(ids(&delta.resolved), ["CVE-C"]);
    assert_eq!(ids(&delta.changed), ["CVE-A"]);
    assert_eq!(delta.changed[0]["severity"], "critical");
    let mut resolved = finding("CVE-C", "bash", "medium").data;
    resolved["resolved_reason"] = "no-longer-matched".into();
    assert_eq!(delta.resolved[0], resolved);
    assert_eq!(delta.new[0], second[2].data);

    // The same scan again changes nothing.
    let delta = store
        .put_scan(&scan(
            D,
            Some(("app", "1")),
            &["openssl", "zlib", "bash"],
            second,
            20,
        ))
        .unwrap();
    assert!(delta.is_empty(), "{delta:?}");

    let history: BTreeMap<_, _> = store
        .history(D)
        .unwrap()
        .into_iter()
        .map(|h| (h.id.clone(), h))
        .collect();
    assert_eq!(history.len(), 4);
    let a = &history["CVE-A"];
    assert_eq!(
        (a.first_seen, a.last_changed, a.resolved_at),
        (at(0), at(10), None)
    );
    assert_eq!(a.severity, customs_store::Severity::Critical);
    let c = &history["CVE-C"];
    assert_eq!(c.first_seen, at(0));
    assert_eq!(c.resolved_at, Some(at(10)));
    assert_eq!(c.resolved_reason, Some(ResolvedReason::NoLongerMatched));
    assert_eq!(c.data, finding("CVE-C", "bash", "medium").data);
    let d = &history["CVE-D"];
    assert_eq!(
        (d.first_seen, d.resolved_at, d.resolved_reason),
        (at(10), None, None)
    );
    assert_eq!(history["CVE-B"].last_changed, at(0));

    let images = store.images().unwrap();
    assert_eq!(images.len(), 1);
    let open: Vec<_> = images[0]
        .open
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect();
    assert_eq!(open, [("low", 1), ("high", 1), ("critical", 1)]);
    assert_eq!(
        (images[0].first_scanned_at, images[0].last_scanned_at),
        (at(0), at(20))
    );
    store.check().unwrap();
}

fn rematch_reconciles_without_inventory(fx: &Fixture) {
    let mut store = fx.open();
    store
        .put_scan(&scan(
            D,
            None,
            &["openssl", "zlib"],
            vec![
                finding("CVE-A", "openssl", "high"),
                finding("CVE-B", "openssl", "low"),
                finding("CVE-C", "openssl", "low"),
                finding("CVE-Z", "zlib", "low"),
            ],
            0,
        ))
        .unwrap();
    let mut resolutions = Resolutions::default();
    resolutions.by_finding.insert(
        FindingId {
            id: "CVE-B".into(),
            package_name: "openssl".into(),
            package_version: "1.0".into(),
        },
        ResolvedReason::AdvisoryWithdrawn,
    );
    let mut exploited = finding("CVE-A", "openssl", "high");
    exploited.kev = true;
    exploited.data["kev"] = serde_json::json!({"date_added": "2026-02-01"});
    let deltas = store
        .apply_rematches(
            &[RematchRecord {
                digest: D.to_owned(),
                findings: vec![exploited, finding("CVE-N", "openssl", "medium")],
                // Only openssl was re-evaluated: CVE-Z stays open.
                scope: Some(BTreeSet::from(["openssl".to_owned()])),
                resolutions,
            }],
            Some("2026-02-01T00:00:00Z".parse().unwrap()),
        )
        .unwrap();
    let delta = &deltas[0];
    assert_eq!(
        (ids(&delta.new), ids(&delta.resolved), ids(&delta.kev)),
        (vec!["CVE-N"], vec!["CVE-B", "CVE-C"], vec!["CVE-A"])
    );
    let reasons: Vec<_> = delta
        .resolved
        .iter()
        .map(|d| d["resolved_reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["advisory-withdrawn", "no-longer-matched"]);
    assert!(delta.changed.is_empty());
    let history: BTreeMap<String, _> = store
        .history(D)
        .unwrap()
        .into_iter()
        .map(|h| (h.id.clone(), h))
        .collect();
    assert_eq!(
        history["CVE-B"].resolved_reason,
        Some(ResolvedReason::AdvisoryWithdrawn)
    );
    assert_eq!(history["CVE-Z"].resolved_at, None);
    assert_eq!(history["CVE-A"].data["kev"]["date_added"], "2026-02-01");
    let image = store.image(D).unwrap().unwrap();
    assert_eq!(
        image.summary.db_built_at,
        Some("2026-02-01T00:00:00Z".parse().unwrap())
    );

    // The same rematch again changes nothing: the KEV listing is reported once.
    let mut exploited = finding("CVE-A", "openssl", "high");
    exploited.kev = true;
    exploited.data["kev"] = serde_json::json!({"date_added": "2026-02-01"});
    let again = store
        .apply_rematches(
            &[RematchRecord {
                digest: D.to_owned(),
                findings: vec![exploited, finding("CVE-N", "openssl", "medium")],
                scope: Some(BTreeSet::from(["openssl".to_owned()])),
                resolutions: Resolutions::default(),
            }],
            None,
        )
        .unwrap();
    assert!(again[0].is_empty(), "{:?}", again[0]);

    // An unknown image fails the whole batch: nothing is written.
    let error = store.apply_rematches(
        &[
            RematchRecord {
                digest: D.to_owned(),
                ..RematchRecord::default()
            },
            RematchRecord {
                digest: "sha256:none".to_owned(),
                ..RematchRecord::default()
            },
        ],
        None,
    );
    assert!(
        matches!(error, Err(StoreError::UnknownImage { .. })),
        "{error:?}"
    );
    assert_eq!(
        store
            .history(D)
            .unwrap()
            .iter()
            .filter(|h| h.resolved_at.is_none())
            .count(),
        3
    );
    store.check().unwrap();
}

fn reopened_finding_is_new(fx: &Fixture) {
    let mut store = fx.open();
    let a = || vec![finding("CVE-A", "openssl", "high")];
    store
        .put_scan(&scan(D, None, &["openssl"], a(), 0))
        .unwrap();
    let delta = store
        .put_scan(&scan(D, None, &["openssl"], vec![], 1))
        .unwrap();
    assert_eq!(ids(&delta.resolved), ["CVE-A"]);
    let delta = store
        .put_scan(&scan(D, None, &["openssl"], a(), 2))
        .unwrap();
    assert_eq!(ids(&delta.new), ["CVE-A"]);
    let h = &store.history(D).unwrap()[0];
    assert_eq!(
        (
            h.first_seen,
            h.resolved_at,
            h.resolved_reason,
            h.last_changed
        ),
        (at(0), None, None, at(2))
    );
    // Duplicates within one scan are one finding.
    let delta = store
        .put_scan(&scan(D, None, &["openssl"], [a(), a()].concat(), 3))
        .unwrap();
    assert!(delta.is_empty());
    store.check().unwrap();
}

both!(pages_of_images_are_slices_of_the_list);

fn pages_of_images_are_slices_of_the_list(fx: &Fixture) {
    let mut store = fx.open();
    assert_eq!(store.images_page(0, 10).unwrap(), (0, Vec::new()));
    for i in 0..5_i64 {
        let findings = (0..i)
            .map(|n| finding(&format!("CVE-{i}-{n}"), "zlib", "high"))
            .collect();
        store
            .put_scan(&scan(
                &format!("sha256:p{i}"),
                Some(("app", &format!("t{i}"))),
                &["zlib"],
                findings,
                i,
            ))
            .unwrap();
    }
    let all = store.images().unwrap();
    assert_eq!(all.len(), 5);
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        let (total, page) = store.images_page(offset, 2).unwrap();
        assert_eq!(total, 5);
        paged.extend(page);
    }
    assert_eq!(paged, all, "tags and open findings included");
    assert!(store.images_page(5, 2).unwrap().1.is_empty());
    assert_eq!(all[0].open.values().sum::<u64>(), 4);
    assert_eq!(all[0].tags, ["app:t4"]);
}
