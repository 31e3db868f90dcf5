use customs_store::{SCHEMA_VERSION, StoreError};

use crate::support::{Fixture, both, finding, scan};

both!(
    migrates_from_empty,
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
