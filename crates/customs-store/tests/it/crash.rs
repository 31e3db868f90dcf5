use std::thread;

use customs_store::WriteStage;

use crate::support::{Fixture, both, finding, ids, scan};

both!(panic_inside_write_leaves_nothing);

/// A writer that dies at each point inside `put_scan`'s transaction leaves the store exactly as
/// before: neither the new image nor the changes to an existing one are visible.
fn panic_inside_write_leaves_nothing(fx: &Fixture) {
    let tag = Some(("app", "1"));
    let mut store = fx.open();
    store
        .put_scan(&scan(
            "sha256:a",
            tag,
            &["zlib"],
            vec![finding("CVE-1", "zlib", "low")],
            0,
        ))
        .unwrap();
    let before = (store.images().unwrap(), store.history("sha256:a").unwrap());
    drop(store);

    for stage in [
        WriteStage::ImageWritten,
        WriteStage::TagWritten,
        WriteStage::PackagesIndexed,
        WriteStage::FindingsReconciled,
    ] {
        for digest in ["sha256:a", "sha256:b"] {
            let url = fx.url().to_owned();
            let record = scan(
                digest,
                tag,
                &["curl"],
                vec![finding("CVE-2", "curl", "critical")],
                5,
            );
            let died = thread::spawn(move || {
                let mut store = customs_store::open(&url).unwrap();
                store
                    .put_scan_with(&record, &mut |at| {
                        assert_ne!(at, stage, "simulated crash");
                    })
                    .unwrap();
            })
            .join();
            assert!(died.is_err(), "the writer should have died at {stage:?}");

            let mut store = fx.open();
            store.check().unwrap();
            assert_eq!(
                (store.images().unwrap(), store.history("sha256:a").unwrap()),
                before
            );
            assert_eq!(store.tag_history("app", "1").unwrap().len(), 1);
            assert!(
                store
                    .images_with_package(customs_store::Ecosystem::Deb, "curl")
                    .unwrap()
                    .is_empty()
            );
        }
    }

    // And the store still takes writes.
    let mut store = fx.open();
    let delta = store
        .put_scan(&scan(
            "sha256:a",
            tag,
            &["curl"],
            vec![finding("CVE-2", "curl", "critical")],
            6,
        ))
        .unwrap();
    assert_eq!(
        (ids(&delta.new), ids(&delta.resolved)),
        (vec!["CVE-2"], vec!["CVE-1"])
    );
    store.check().unwrap();
}
