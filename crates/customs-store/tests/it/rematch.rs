//! Rematch batches: the changes of many images written together (a statement per kind of
//! change for the whole batch) give what writing them image by image gives.

use customs_store::{FindingId, RematchRecord, Resolutions, ResolvedReason};

use crate::support::{Fixture, both, finding, ids, scan};

both!(a_batch_writes_every_kind_of_change);

const D1: &str = "sha256:1111";
const D2: &str = "sha256:2222";

fn a_batch_writes_every_kind_of_change(fx: &Fixture) {
    let mut store = fx.open();
    store
        .put_scan(&scan(
            D1,
            None,
            &["openssl", "zlib"],
            vec![
                finding("CVE-A", "openssl", "high"),
                finding("CVE-B", "openssl", "low"),
                finding("CVE-C", "zlib", "low"),
            ],
            0,
        ))
        .unwrap();
    store
        .put_scan(&scan(
            D2,
            None,
            &["openssl"],
            vec![finding("CVE-A", "openssl", "high")],
            0,
        ))
        .unwrap();
    let record = |digest: &str, findings| RematchRecord {
        digest: digest.to_owned(),
        findings,
        scope: None,
        resolutions: Resolutions::default(),
    };
    let mut rewritten = finding("CVE-C", "zlib", "low");
    rewritten.data["note"] = "rewritten".into();
    let mut withdrawn = Resolutions::default();
    withdrawn.by_finding.insert(
        FindingId {
            id: "CVE-A".into(),
            package_name: "openssl".into(),
            package_version: "1.0".into(),
        },
        ResolvedReason::AdvisoryWithdrawn,
    );
    let deltas = store
        .apply_rematches(
            &[
                // A raised, B gone, C's document changed, N new.
                record(
                    D1,
                    vec![
                        finding("CVE-A", "openssl", "critical"),
                        rewritten.clone(),
                        finding("CVE-N", "zlib", "medium"),
                    ],
                ),
                // A withdrawn.
                RematchRecord {
                    resolutions: withdrawn,
                    ..record(D2, vec![])
                },
                // D1 again in the same batch: it reads what the first record wrote, so B is
                // found again (reopened: new) and nothing else changes.
                record(
                    D1,
                    vec![
                        finding("CVE-A", "openssl", "critical"),
                        finding("CVE-B", "openssl", "low"),
                        rewritten,
                        finding("CVE-N", "zlib", "medium"),
                    ],
                ),
            ],
            None,
        )
        .unwrap();
    let reasons = |d: &customs_store::Delta| -> Vec<String> {
        d.resolved
            .iter()
            .map(|f| f["resolved_reason"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        (ids(&deltas[0].new), ids(&deltas[0].changed)),
        (vec!["CVE-N"], vec!["CVE-A"])
    );
    assert_eq!(ids(&deltas[0].resolved), ["CVE-B"]);
    assert_eq!(reasons(&deltas[0]), ["no-longer-matched"]);
    // The resolved finding is reported with its stored document.
    assert_eq!(deltas[0].resolved[0]["package"]["name"], "openssl");
    assert_eq!(ids(&deltas[1].resolved), ["CVE-A"]);
    assert_eq!(reasons(&deltas[1]), ["advisory-withdrawn"]);
    assert!(deltas[1].new.is_empty() && deltas[1].changed.is_empty());
    assert_eq!(ids(&deltas[2].new), ["CVE-B"]);
    assert!(deltas[2].changed.is_empty() && deltas[2].resolved.is_empty());

    let history = store.history(D1).unwrap();
    let open: Vec<(&str, String)> = history
        .iter()
        .filter(|h| h.resolved_at.is_none())
        .map(|h| (h.id.as_str(), h.severity.to_string()))
        .collect();
    assert_eq!(
        open,
        [
            ("CVE-A", "critical".to_owned()),
            ("CVE-B", "low".to_owned()),
            ("CVE-C", "low".to_owned()),
            ("CVE-N", "medium".to_owned()),
        ]
    );
    let c = history.iter().find(|h| h.id == "CVE-C").unwrap();
    assert_eq!(c.data["note"], "rewritten");
    let b = history.iter().find(|h| h.id == "CVE-B").unwrap();
    assert_eq!(
        (b.resolved_reason, b.first_seen),
        (None, crate::support::at(0))
    );
    let a = &store.history(D2).unwrap()[0];
    assert_eq!(a.resolved_reason, Some(ResolvedReason::AdvisoryWithdrawn));
    assert!(a.resolved_at.is_some());
    store.check().unwrap();
}
