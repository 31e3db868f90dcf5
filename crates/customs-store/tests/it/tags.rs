use crate::support::{Fixture, at, both, finding, scan};

both!(moved_tag_keeps_both_rows);

fn moved_tag_keeps_both_rows(fx: &Fixture) {
    let mut store = fx.open();
    let tag = Some(("registry.local/app", "1.0"));
    store
        .put_scan(&scan(
            "sha256:old",
            tag,
            &["zlib"],
            vec![finding("CVE-1", "zlib", "low")],
            0,
        ))
        .unwrap();
    store
        .put_scan(&scan("sha256:new", tag, &["zlib"], vec![], 10))
        .unwrap();
    // Seen again at the same digest: no new row.
    store
        .put_scan(&scan("sha256:new", tag, &["zlib"], vec![], 20))
        .unwrap();

    let rows = store.tag_history("registry.local/app", "1.0").unwrap();
    let rows: Vec<_> = rows
        .iter()
        .map(|r| (r.digest.as_str(), r.seen_at))
        .collect();
    assert_eq!(rows, [("sha256:old", at(0)), ("sha256:new", at(10))]);

    let images = store.images().unwrap();
    let listed: Vec<_> = images
        .iter()
        .map(|i| (i.digest.as_str(), i.tags.clone()))
        .collect();
    assert_eq!(
        listed,
        [
            ("sha256:new", vec!["registry.local/app:1.0".to_owned()]),
            ("sha256:old", vec![])
        ]
    );
    assert_eq!(images[1].open.get("low"), Some(&1));

    let by_tag = store.image("registry.local/app:1.0").unwrap().unwrap();
    assert_eq!(by_tag.summary.digest, "sha256:new");
    let by_digest = store
        .image("registry.local/app@sha256:old")
        .unwrap()
        .unwrap();
    assert_eq!(by_digest.summary.digest, "sha256:old");
    assert_eq!(by_digest.inventory["packages"][0], "zlib");
    assert_eq!(
        store
            .image("sha256:old")
            .unwrap()
            .unwrap()
            .summary
            .repository
            .as_deref(),
        Some("registry.local/app")
    );
    assert!(store.image("registry.local/app:2.0").unwrap().is_none());
    assert!(store.image("sha256:none").unwrap().is_none());

    // Moving back adds a third row.
    store
        .put_scan(&scan("sha256:old", tag, &["zlib"], vec![], 30))
        .unwrap();
    assert_eq!(
        store
            .tag_history("registry.local/app", "1.0")
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store
            .image("registry.local/app:1.0")
            .unwrap()
            .unwrap()
            .summary
            .digest,
        "sha256:old"
    );
    store.check().unwrap();
}
