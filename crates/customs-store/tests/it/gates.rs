//! The gate's records on both backends: an image's verdict under a policy, replaced and
//! returned; and a policy's exceptions as versioned events (added, changed, removed, added
//! again), with who and when, never overwritten.

use customs_store::{ScanRecord, StoreError};
use serde_json::json;

use crate::support::{Fixture, at, both, scan};

both!(verdicts_are_kept_per_image_and_policy);
both!(exception_changes_are_versioned_events);

fn verdicts_are_kept_per_image_and_policy(fx: &Fixture) {
    let mut store = fx.open();
    store
        .put_scan(&scan("sha256:aa", None, &["openssl"], vec![], 0))
        .unwrap();
    let pass = json!({"outcome": "pass", "violations": []});
    let fail = json!({"outcome": "fail", "violations": [{"code": "exception-expired"}]});
    assert_eq!(
        store
            .put_policy_verdict("sha256:aa", "policy.yaml", "pass", &pass, at(1))
            .unwrap(),
        None
    );
    let before = store
        .put_policy_verdict("sha256:aa", "policy.yaml", "fail", &fail, at(2))
        .unwrap()
        .expect("the verdict it replaced");
    assert_eq!((before.outcome.as_str(), before.judged_at), ("pass", at(1)));
    assert_eq!(before.verdict, pass);
    store
        .put_policy_verdict("sha256:aa", "other.yaml", "pass", &pass, at(3))
        .unwrap();
    drop(store);
    let mut store = fx.open();
    let all = store.policy_verdicts("sha256:aa").unwrap();
    let kept: Vec<(&str, &str)> = all
        .iter()
        .map(|v| (v.policy.as_str(), v.outcome.as_str()))
        .collect();
    assert_eq!(kept, [("other.yaml", "pass"), ("policy.yaml", "fail")]);
    assert_eq!(all[1].verdict, fail);
    assert!(matches!(
        store.put_policy_verdict("sha256:zz", "policy.yaml", "pass", &pass, at(4)),
        Err(StoreError::UnknownImage { .. })
    ));
    store.check().unwrap();
}

fn exception_changes_are_versioned_events(fx: &Fixture) {
    let mut store = fx.open();
    let ssl = |expires: &str| {
        json!({"vulnerability": "CVE-2023-0286", "owner": "alice@example.com",
               "reason": "proxy", "expires": expires})
    };
    let xz = json!({"vulnerability": "CVE-2024-3094", "owner": "bob@example.com",
                    "reason": "retiring", "expires": "2027-03-31"});
    let key = |v: &str| format!("{v} packages=[] repositories=[]");
    let (k_ssl, k_xz) = (key("CVE-2023-0286"), key("CVE-2024-3094"));
    let changes = |events: Vec<customs_store::ExceptionEvent>| {
        events
            .into_iter()
            .map(|e| (e.change, e.key))
            .collect::<Vec<_>>()
    };
    let first = vec![
        (k_ssl.clone(), ssl("2026-12-31")),
        (k_xz.clone(), xz.clone()),
    ];
    assert_eq!(
        changes(
            store
                .sync_exceptions("p.yaml", &first, "ci", at(1))
                .unwrap()
        ),
        [
            ("added".into(), k_ssl.clone()),
            ("added".into(), k_xz.clone())
        ]
    );
    // The same file again: nothing new.
    assert!(
        store
            .sync_exceptions("p.yaml", &first, "ci", at(2))
            .unwrap()
            .is_empty()
    );
    // Extended by alice, xz's removed.
    let second = vec![(k_ssl.clone(), ssl("2027-01-31"))];
    assert_eq!(
        changes(
            store
                .sync_exceptions("p.yaml", &second, "alice", at(3))
                .unwrap()
        ),
        [
            ("changed".into(), k_ssl.clone()),
            ("removed".into(), k_xz.clone())
        ]
    );
    // xz comes back.
    assert_eq!(
        changes(
            store
                .sync_exceptions("p.yaml", &first, "bob", at(4))
                .unwrap()
        ),
        [
            ("changed".into(), k_ssl.clone()),
            ("added".into(), k_xz.clone())
        ]
    );
    // Another policy's history is its own.
    store
        .sync_exceptions("q.yaml", &second, "carol", at(5))
        .unwrap();
    drop(store);
    let mut store = fx.open();
    let history = store.exception_events(Some("p.yaml")).unwrap();
    let seen: Vec<(String, String, &str)> = history
        .iter()
        .map(|e| {
            (
                e.change.clone(),
                e.by.clone(),
                e.exception["expires"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("added".into(), "ci".into(), "2026-12-31"),
            ("added".into(), "ci".into(), "2027-03-31"),
            ("changed".into(), "alice".into(), "2027-01-31"),
            ("removed".into(), "alice".into(), "2027-03-31"),
            ("changed".into(), "bob".into(), "2026-12-31"),
            ("added".into(), "bob".into(), "2027-03-31"),
        ]
    );
    assert_eq!(history[2].at, at(3));
    assert!(history.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(store.exception_events(None).unwrap().len(), 7);
    assert_eq!(
        store.exception_events(Some("q.yaml")).unwrap()[0].by,
        "carol"
    );
}

both!(a_base_is_the_longest_stored_prefix);
both!(layers_of_images_stored_before_schema_5_are_read_back);

fn layered(digest: &str, reference: Option<(&str, &str)>, chain: &[&str]) -> ScanRecord {
    let mut r = scan(digest, reference, &["zlib"], vec![], 0);
    let layers: Vec<_> = chain
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"index": i, "diff_id": d}))
        .collect();
    r.inventory = json!({"packages": ["zlib"], "image": {"layers": layers}});
    r
}

fn owned(chain: &[&str]) -> Vec<String> {
    chain.iter().map(|s| (*s).to_owned()).collect()
}

fn a_base_is_the_longest_stored_prefix(fx: &Fixture) {
    let mut store = fx.open();
    for r in [
        layered("sha256:base", Some(("reg/debian", "12")), &["sha256:l0"]),
        layered(
            "sha256:mid",
            Some(("reg/python", "3")),
            &["sha256:l0", "sha256:l1"],
        ),
        layered("sha256:other", None, &["sha256:l0", "sha256:x1"]),
        layered(
            "sha256:app",
            Some(("reg/app", "1")),
            &["sha256:l0", "sha256:l1", "sha256:l2"],
        ),
        // The same layers under another manifest: not a base of the app (not a proper prefix).
        layered(
            "sha256:app-docker",
            None,
            &["sha256:l0", "sha256:l1", "sha256:l2"],
        ),
    ] {
        store.put_scan(&r).unwrap();
    }
    let app = owned(&["sha256:l0", "sha256:l1", "sha256:l2"]);
    let base = store.base_of("sha256:app", &app).unwrap().unwrap();
    assert_eq!(
        (base.digest.as_str(), base.layers, base.names),
        ("sha256:mid", 2, vec!["reg/python:3".to_owned()])
    );
    let base = store
        .base_of("sha256:mid", &owned(&["sha256:l0", "sha256:l1"]))
        .unwrap()
        .unwrap();
    assert_eq!((base.digest.as_str(), base.layers), ("sha256:base", 1));
    // An image not stored yet, on the other branch.
    let base = store
        .base_of(
            "sha256:new",
            &owned(&["sha256:l0", "sha256:x1", "sha256:x2"]),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (base.digest.as_str(), base.names.len()),
        ("sha256:other", 0)
    );
    assert_eq!(
        store
            .base_of("sha256:base", &owned(&["sha256:l0"]))
            .unwrap(),
        None
    );
    assert_eq!(
        store.base_of("sha256:new", &owned(&["sha256:zz"])).unwrap(),
        None
    );
    assert_eq!(store.base_of("sha256:new", &[]).unwrap(), None);
    store.check().unwrap();
}

fn layers_of_images_stored_before_schema_5_are_read_back(fx: &Fixture) {
    let applied = if fx.is_sqlite() {
        "TEXT"
    } else {
        "TIMESTAMPTZ"
    };
    let scripts = customs_store::migration_scripts(!fx.is_sqlite());
    fx.exec(&format!(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at {applied} NOT NULL);
         {} {} {} {}
         INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z'), (2, '2026-01-01T00:00:00Z'),
            (3, '2026-01-01T00:00:00Z'), (4, '2026-01-01T00:00:00Z');
         INSERT INTO images (digest, repository, first_scanned_at, last_scanned_at)
            VALUES ('sha256:base', 'reg/debian', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                   ('sha256:dir', NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO inventories (digest, inventory) VALUES
            ('sha256:base', '{{\"image\": {{\"layers\": [{{\"index\": 0, \"diff_id\": \"sha256:l0\"}}]}}}}'),
            ('sha256:dir', '{{\"packages\": []}}');",
        scripts[0], scripts[1], scripts[2], scripts[3]
    ));
    let mut store = fx.open();
    let base = store
        .base_of("sha256:app", &owned(&["sha256:l0", "sha256:l1"]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (base.digest.as_str(), base.layers, base.names),
        ("sha256:base", 1, vec!["reg/debian".to_owned()])
    );
    store.check().unwrap();
}
