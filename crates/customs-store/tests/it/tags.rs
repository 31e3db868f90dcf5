use customs_store::ResolvedReason;

use crate::support::{Fixture, at, both, finding, ids, scan};

both!(
    moved_tag_keeps_both_rows,
    tag_move_carries_and_resolves,
    one_write_stores_every_tag_of_an_image
);

/// A record with further tags (an audit's image under every tag that points at it) is stored
/// under each, in one write: each tag's history, and a tag that moved off an older digest
/// resolves that digest's findings once no tag points at it, as a single tag's move does.
fn one_write_stores_every_tag_of_an_image(fx: &Fixture) {
    let mut store = fx.open();
    let app = "registry.local/app";
    let mut old = scan(
        "sha256:old",
        Some((app, "1")),
        &["zlib"],
        vec![finding("CVE-1", "zlib", "high")],
        0,
    );
    old.also_tagged = vec![(app.to_owned(), "latest".to_owned())];
    store.put_scan(&old).unwrap();
    let tags_of = |store: &mut Box<dyn customs_store::Store>, digest: &str| {
        store
            .images()
            .unwrap()
            .into_iter()
            .find(|i| i.digest == digest)
            .map(|i| i.tags)
            .unwrap_or_default()
    };
    assert_eq!(
        tags_of(&mut store, "sha256:old"),
        [format!("{app}:1"), format!("{app}:latest")]
    );
    // Both tags move to the new digest in one write; the old digest, untagged now, has its
    // finding resolved once.
    let mut new = scan("sha256:new", Some((app, "1")), &["zlib"], vec![], 10);
    new.packages[0].data["version"] = "1.1".into();
    new.also_tagged = vec![
        (app.to_owned(), "latest".to_owned()),
        ("registry.local/mirror".to_owned(), "app-1".to_owned()),
    ];
    let delta = store.put_scan(&new).unwrap();
    assert_eq!(delta.resolved.len(), 1, "{delta:?}");
    assert_eq!(tags_of(&mut store, "sha256:old"), Vec::<String>::new());
    assert_eq!(
        tags_of(&mut store, "sha256:new"),
        [
            format!("{app}:1"),
            format!("{app}:latest"),
            "registry.local/mirror:app-1".to_owned()
        ]
    );
    for tag in ["1", "latest"] {
        let history: Vec<String> = store
            .tag_history(app, tag)
            .unwrap()
            .into_iter()
            .map(|e| e.digest)
            .collect();
        assert_eq!(history, ["sha256:old", "sha256:new"], "{tag}");
    }
    let mut bad = scan("sha256:bad", Some((app, "1")), &[], vec![], 20);
    bad.also_tagged = vec![(String::new(), "x".to_owned())];
    assert!(store.put_scan(&bad).is_err());
    store.check().unwrap();
}

/// A tag moves to a build that upgraded zlib and dropped bash: the old digest's zlib and bash
/// findings are resolved as upgraded and removed; curl's, which the new build still has, is
/// new for the new digest but keeps its first-seen time.
fn tag_move_carries_and_resolves(fx: &Fixture) {
    let mut store = fx.open();
    let tag = Some(("registry.local/app", "1.0"));
    store
        .put_scan(&scan(
            "sha256:old",
            tag,
            &["zlib", "bash", "curl"],
            vec![
                finding("CVE-1", "zlib", "high"),
                finding("CVE-2", "bash", "low"),
                finding("CVE-3", "curl", "medium"),
            ],
            0,
        ))
        .unwrap();
    let mut next = scan(
        "sha256:new",
        tag,
        &["zlib", "curl"],
        vec![finding("CVE-3", "curl", "medium")],
        10,
    );
    next.packages[0].data["version"] = "1.1".into();
    let delta = store.put_scan(&next).unwrap();
    assert_eq!(ids(&delta.new), ["CVE-3"]);
    let mut resolved: Vec<_> = delta
        .resolved
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap(),
                d["resolved_reason"].as_str().unwrap(),
                d["digest"].as_str().unwrap(),
            )
        })
        .collect();
    resolved.sort_unstable();
    assert_eq!(
        resolved,
        [
            ("CVE-1", "package-upgraded", "sha256:old"),
            ("CVE-2", "package-removed", "sha256:old")
        ]
    );
    let old: Vec<_> = store
        .history("sha256:old")
        .unwrap()
        .into_iter()
        .map(|h| (h.id, h.resolved_reason, h.resolved_at))
        .collect();
    assert_eq!(
        old,
        [
            (
                "CVE-1".to_owned(),
                Some(ResolvedReason::PackageUpgraded),
                Some(at(10))
            ),
            (
                "CVE-2".to_owned(),
                Some(ResolvedReason::PackageRemoved),
                Some(at(10))
            ),
            ("CVE-3".to_owned(), None, None),
        ]
    );
    let new = store.history("sha256:new").unwrap();
    assert_eq!(
        (new.len(), new[0].first_seen, new[0].last_changed),
        (1, at(0), at(10))
    );

    // A digest another tag still points at is left as it is.
    let x = || {
        scan(
            "sha256:x",
            Some(("registry.local/app", "2.0")),
            &["zlib"],
            vec![finding("CVE-9", "zlib", "low")],
            20,
        )
    };
    store.put_scan(&x()).unwrap();
    let mut latest = x();
    latest.tag = Some("latest".into());
    store.put_scan(&latest).unwrap();
    let delta = store
        .put_scan(&scan(
            "sha256:y",
            Some(("registry.local/app", "2.0")),
            &[],
            vec![],
            30,
        ))
        .unwrap();
    assert!(delta.is_empty(), "{delta:?}");
    assert_eq!(store.history("sha256:x").unwrap()[0].resolved_at, None);
    store.check().unwrap();
}

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
    assert_eq!(images[1].open.get(&customs_store::Severity::Low), Some(&1));

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
