use customs_store::{SCHEMA_VERSION, StoreError};

use crate::support::{Fixture, both, finding, scan};

both!(
    migrates_from_empty,
    migrates_a_version_1_store,
    reopen_is_idempotent,
    future_schema_is_refused
);

fn migrates_from_empty(fx: &Fixture) {
    let mut store = fx.open();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(store.images().unwrap().is_empty());
    assert!(store.pending().unwrap().is_empty());
    store.check().unwrap();
    assert_eq!(
        fx.query_i64("SELECT count(*) FROM schema_migrations"),
        SCHEMA_VERSION
    );
}

/// A store as schema 1 left it: an image whose package index rows name it only. After the
/// migration its findings are intact, and a rematch reads its whole inventory.
fn migrates_a_version_1_store(fx: &Fixture) {
    let applied = if fx.is_sqlite() {
        "TEXT"
    } else {
        "TIMESTAMPTZ"
    };
    fx.exec(&format!(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at {applied} NOT NULL);
         {}
         INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z');
         INSERT INTO images (digest, repository, inventory, first_scanned_at, last_scanned_at)
            VALUES ('sha256:v1', NULL, '{{\"packages\": [{{\"name\": \"zlib\"}}]}}',
                    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO package_index (ecosystem, name, digest) VALUES ('deb', 'zlib', 'sha256:v1');
         INSERT INTO findings (digest, finding_id, package_name, package_version, severity,
            data, first_seen, resolved_at, resolved_reason, last_changed)
            VALUES ('sha256:v1', 'CVE-1', 'zlib', '1.0', 'low', '{{\"id\": \"CVE-1\"}}',
                    '2026-01-01T00:00:00Z', NULL, NULL, '2026-01-01T00:00:00Z');",
        customs_store::migration_scripts(!fx.is_sqlite())[0]
    ));
    let mut store = fx.open();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    store.check().unwrap();
    let history = store.history("sha256:v1").unwrap();
    assert_eq!((history.len(), history[0].resolved_at), (1, None));
    let keys = std::collections::BTreeSet::from([customs_store::PackageKey {
        ecosystem: customs_store::Ecosystem::Deb,
        name: "zlib".into(),
    }]);
    for inputs in [
        store.rematch_inputs(None).unwrap(),
        store.rematch_inputs(Some(&keys)).unwrap(),
    ] {
        assert_eq!(inputs.len(), 1);
        assert!(inputs[0].whole_inventory);
        let document: serde_json::Value = serde_json::from_str(&inputs[0].document).unwrap();
        assert_eq!(document["packages"][0]["name"], "zlib");
    }
    assert_eq!(
        store
            .images_with_package(customs_store::Ecosystem::Deb, "zlib")
            .unwrap(),
        ["sha256:v1"]
    );
    // Stored again, the image gets package rows.
    store
        .put_scan(&scan("sha256:v1", None, &["zlib"], vec![], 5))
        .unwrap();
    assert!(!store.rematch_inputs(None).unwrap()[0].whole_inventory);
    store.check().unwrap();
}

fn reopen_is_idempotent(fx: &Fixture) {
    let mut store = fx.open();
    store
        .put_scan(&scan(
            "sha256:a",
            None,
            &["zlib"],
            vec![finding("CVE-1", "zlib", "low")],
            0,
        ))
        .unwrap();
    drop(store);
    for _ in 0..2 {
        let mut store = fx.open();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.images().unwrap().len(), 1);
        store.check().unwrap();
    }
    assert_eq!(
        fx.query_i64("SELECT count(*) FROM schema_migrations"),
        SCHEMA_VERSION
    );
}

fn future_schema_is_refused(fx: &Fixture) {
    drop(fx.open());
    fx.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (99, CURRENT_TIMESTAMP)");
    let Err(error) = customs_store::open(fx.url()) else {
        panic!("a store at schema version 99 was opened");
    };
    assert!(
        matches!(
            error,
            StoreError::SchemaTooNew {
                found: 99,
                supported: SCHEMA_VERSION
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("version 99") && message.contains(&format!("version {SCHEMA_VERSION}")),
        "{message}"
    );
    // Refusing changed nothing.
    assert_eq!(
        fx.query_i64("SELECT max(version) FROM schema_migrations"),
        99
    );
}
