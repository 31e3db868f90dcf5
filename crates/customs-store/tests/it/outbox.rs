use customs_store::StoreError;
use serde_json::json;

use crate::support::{Fixture, both};

both!(outbox_retries_until_delivered);

fn outbox_retries_until_delivered(fx: &Fixture) {
    let mut store = fx.open();
    let a = store
        .enqueue("webhook=http://127.0.0.1:1/hook", &json!({"images": []}))
        .unwrap();
    let b = store.enqueue("exec=true", &json!({"n": 2})).unwrap();
    assert!(b > a);
    store.mark_failed(a, "connection refused").unwrap();
    store.mark_failed(a, "connection refused again").unwrap();
    store.mark_delivered(b).unwrap();
    drop(store);

    // The next run finds the failed delivery.
    let mut store = fx.open();
    let pending = store.pending().unwrap();
    assert_eq!(pending.len(), 1);
    let entry = &pending[0];
    assert_eq!(
        (entry.id, entry.target.as_str(), entry.attempts),
        (a, "webhook=http://127.0.0.1:1/hook", 2)
    );
    assert_eq!(
        entry.last_error.as_deref(),
        Some("connection refused again")
    );
    assert_eq!(entry.payload, json!({"images": []}));
    store.mark_delivered(a).unwrap();
    assert!(store.pending().unwrap().is_empty());
    assert!(matches!(
        store.mark_failed(999, "x"),
        Err(StoreError::UnknownOutboxEntry { id: 999 })
    ));
    assert!(matches!(
        store.mark_delivered(999),
        Err(StoreError::UnknownOutboxEntry { id: 999 })
    ));
    store.check().unwrap();
}
