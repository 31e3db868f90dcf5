use std::thread;

use crate::support::{Fixture, both, finding, scan};

both!(two_writers);

const SCANS: i64 = 50;

/// Two writers with their own connections: 50 scans each of their own digests, each also
/// re-storing one shared digest and moving one shared tag.
fn two_writers(fx: &Fixture) {
    drop(fx.open()); // migrate once, so both writers start on a ready schema
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = fx.url().to_owned();
            thread::spawn(move || {
                let mut store = customs_store::open(&url).unwrap();
                for i in 0..SCANS {
                    let digest = format!("sha256:w{w}-{i}");
                    let findings = vec![finding(&format!("CVE-{w}-{i}"), "zlib", "high")];
                    store
                        .put_scan(&scan(
                            &digest,
                            Some(("app", &format!("w{w}"))),
                            &["zlib"],
                            findings,
                            i,
                        ))
                        .unwrap();
                    let shared = vec![finding(
                        "CVE-S",
                        "zlib",
                        if i % 2 == 0 { "low" } else { "high" },
                    )];
                    store
                        .put_scan(&scan(
                            "sha256:shared",
                            Some(("app", "shared")),
                            &["zlib"],
                            shared,
                            i,
                        ))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut store = fx.open();
    store.check().unwrap();
    let images = store.images().unwrap();
    assert_eq!(images.len(), 2 * usize::try_from(SCANS).unwrap() + 1);
    assert_eq!(
        fx.query_i64("SELECT count(*) FROM findings WHERE resolved_at IS NULL"),
        2 * SCANS + 1
    );
    assert_eq!(
        store
            .images_with_package(customs_store::Ecosystem::Deb, "zlib")
            .unwrap()
            .len(),
        images.len()
    );
    for w in 0..2 {
        let rows = store.tag_history("app", &format!("w{w}")).unwrap();
        assert_eq!(rows.len(), usize::try_from(SCANS).unwrap());
    }
    assert_eq!(store.tag_history("app", "shared").unwrap().len(), 1);
}
