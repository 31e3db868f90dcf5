use crate::support::{Fixture, both, scan};

both!(package_index_follows_inventories);

fn package_index_follows_inventories(fx: &Fixture) {
    let mut store = fx.open();
    store
        .put_scan(&scan(
            "sha256:a",
            None,
            &["openssl", "zlib", "zlib"],
            vec![],
            0,
        ))
        .unwrap();
    store
        .put_scan(&scan("sha256:b", None, &["openssl", "musl"], vec![], 1))
        .unwrap();
    assert_eq!(
        store
            .images_with_package(customs_store::Ecosystem::Deb, "openssl")
            .unwrap(),
        ["sha256:a", "sha256:b"]
    );
    assert_eq!(
        store
            .images_with_package(customs_store::Ecosystem::Deb, "zlib")
            .unwrap(),
        ["sha256:a"]
    );
    assert!(
        store
            .images_with_package(customs_store::Ecosystem::Apk, "openssl")
            .unwrap()
            .is_empty()
    );

    // Re-storing `a` without openssl rebuilds its rows.
    store
        .put_scan(&scan("sha256:a", None, &["zlib", "curl"], vec![], 2))
        .unwrap();
    assert_eq!(
        store
            .images_with_package(customs_store::Ecosystem::Deb, "openssl")
            .unwrap(),
        ["sha256:b"]
    );
    assert_eq!(
        store
            .images_with_package(customs_store::Ecosystem::Deb, "curl")
            .unwrap(),
        ["sha256:a"]
    );
    assert_eq!(fx.query_i64("SELECT count(*) FROM package_index"), 4);
    let all = store.rematch_inputs(None).unwrap();
    let digests: Vec<&str> = all.iter().map(|i| i.digest.as_str()).collect();
    assert_eq!(digests, ["sha256:a", "sha256:b"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&all[0].document).unwrap(),
        serde_json::json!({"distro": "test", "packages": []})
    );
    assert_eq!(
        parsed(&all[0].packages),
        serde_json::json!([{"name": "zlib", "version": "1.0"}, {"name": "curl", "version": "1.0"}])
    );
    assert!(!all[0].whole_inventory);

    // Keyed: only the images holding the packages asked for, with only those packages.
    let keys = std::collections::BTreeSet::from([customs_store::PackageKey {
        ecosystem: customs_store::Ecosystem::Deb,
        name: "musl".into(),
    }]);
    let some = store.rematch_inputs(Some(&keys)).unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(
        (some[0].digest.as_str(), parsed(&some[0].packages)),
        (
            "sha256:b",
            serde_json::json!([{"name": "musl", "version": "1.0"}])
        )
    );

    if fx.is_sqlite() {
        let plan = fx.sqlite_plan(
            "SELECT digest FROM package_index WHERE ecosystem = 'deb' AND name = 'x' ORDER BY digest",
        );
        assert!(
            plan.contains("USING PRIMARY KEY (ecosystem=? AND name=?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
    store.check().unwrap();
}

/// Packages as [`customs_store::RematchInput::packages`] gives them (JSON texts), as one array.
fn parsed(packages: &[String]) -> serde_json::Value {
    packages
        .iter()
        .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
        .collect()
}
