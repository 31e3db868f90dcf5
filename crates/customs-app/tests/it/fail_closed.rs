//! A database that lacks data never passes for one that found nothing: a scan names each
//! ecosystem it could not check, and a rematch leaves the stored findings of such an
//! ecosystem open instead of resolving them as fixed. The inventories and advisories are the
//! synthetic ones of `since_db` (one package of every ecosystem), on real SQLite files.

use customs_app::rematch::{RematchOptions, rematch};
use customs_app::report::Gap;
use customs_catalog::Ecosystem;
use customs_store::Store;

use crate::since_db::{Case, advisory, case, inventory, write_db};

fn store(dir: &std::path::Path) -> Box<dyn Store> {
    customs_store::open(&format!("sqlite:{}", dir.join("store.db").display())).unwrap()
}

/// Every ecosystem's image stored with its one finding from a database holding all the
/// advisories; returns the cases and the stored digests in the same order.
fn stored(dir: &std::path::Path, store: &mut dyn Store) -> (Vec<Case>, Vec<String>) {
    let cases: Vec<Case> = Ecosystem::ALL.into_iter().map(case).collect();
    let all = write_db(
        &dir.join("all.db"),
        &cases.iter().map(advisory).collect::<Vec<_>>(),
    );
    let mut digests = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let report = customs_app::scan::match_inventory(inventory(c, i), &all).unwrap();
        assert_eq!(report.open().count(), 1, "{}", c.ecosystem);
        assert!(report.gaps(&[]).is_empty(), "{:?}", report.gaps(&[]));
        let recorded = customs_app::record::record(store, &all, &report).unwrap();
        assert_eq!(recorded.delta.new.len(), 1);
        digests.push(recorded.digest);
    }
    (cases, digests)
}

#[test]
fn a_rematch_without_the_pypi_feed_resolves_no_pypi_finding() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(dir.path());
    let (cases, digests) = stored(dir.path(), store.as_mut());
    // The next database lacks the PyPI advisories and, to show the rule is not "resolve
    // nothing", the Debian one too while keeping another advisory in debian:12.
    let mut advisories: Vec<_> = cases
        .iter()
        .filter(|c| !matches!(c.ecosystem, Ecosystem::PyPI | Ecosystem::Deb))
        .map(advisory)
        .collect();
    let mut other = advisory(&cases[0]);
    other.id = "TEST-other".to_owned();
    other.affected[0].package = "something-else".to_owned();
    advisories.push(other);
    let without = write_db(&dir.path().join("without-pypi.db"), &advisories);
    let report = rematch(store.as_mut(), &without, &RematchOptions::default()).unwrap();
    for (c, digest) in cases.iter().zip(&digests) {
        let image = report.images.iter().find(|i| i.digest == *digest).unwrap();
        match c.ecosystem {
            Ecosystem::PyPI => {
                assert!(image.delta.is_empty(), "{:?}", image.delta);
                assert_eq!(image.unchecked, [Ecosystem::PyPI]);
            }
            // debian:12 is still covered: the finding is gone because its advisory is.
            Ecosystem::Deb => {
                assert_eq!(image.delta.resolved.len(), 1, "{:?}", image.delta);
                assert_eq!(
                    image.delta.resolved[0]["resolved_reason"],
                    "no-longer-matched"
                );
                assert!(image.unchecked.is_empty());
            }
            _ => assert!(image.delta.is_empty() && image.unchecked.is_empty()),
        }
    }
    assert_eq!(
        report.unchecked().into_iter().collect::<Vec<_>>(),
        [(Ecosystem::PyPI, 1)]
    );
    // The PyPI finding is still open in the store: a rematch with the feed back changes nothing.
    let all = customs_vulndb::VulnDb::open(&dir.path().join("all.db")).unwrap();
    let back = rematch(store.as_mut(), &all, &RematchOptions::default()).unwrap();
    let pypi = back.images.iter().find(|i| i.digest == digests[3]).unwrap();
    assert_eq!(cases[3].ecosystem, Ecosystem::PyPI);
    assert!(pypi.delta.is_empty(), "{:?}", pypi.delta);
}

#[test]
fn a_rematch_against_an_empty_database_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(dir.path());
    let (_, digests) = stored(dir.path(), store.as_mut());
    let empty = write_db(&dir.path().join("empty.db"), &[]);
    let err = rematch(store.as_mut(), &empty, &RematchOptions::default()).unwrap_err();
    assert!(
        matches!(err, customs_app::AppError::EmptyDatabase(_)),
        "{err}"
    );
    assert!(err.to_string().contains("holds no advisories"), "{err}");
    // Every stored finding is still open.
    for digest in &digests {
        let history = store.history(digest).unwrap();
        assert_eq!(history.len(), 1, "{digest}: {history:?}");
        assert_eq!(history[0].resolved_at, None, "{digest}: {history:?}");
    }
}

#[test]
fn a_scan_names_each_ecosystem_it_could_not_check() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = Ecosystem::ALL.into_iter().map(case).collect();
    let npm = cases
        .iter()
        .position(|c| c.ecosystem == Ecosystem::Npm)
        .unwrap();
    let without_npm = write_db(
        &dir.path().join("without-npm.db"),
        &cases
            .iter()
            .filter(|c| c.ecosystem != Ecosystem::Npm)
            .map(advisory)
            .collect::<Vec<_>>(),
    );
    let report =
        customs_app::scan::match_inventory(inventory(&cases[npm], 0), &without_npm).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(
        report.gaps(&[]),
        [Gap::NotCovered {
            ecosystem: Ecosystem::Npm,
            packages: 1
        }]
    );
    assert!(report.gaps(&[Ecosystem::Npm]).is_empty());
    let json = report
        .to_json(&customs_app::report::Filter::default())
        .unwrap();
    assert_eq!(json["coverage"][0]["ecosystem"], "npm");
    assert_eq!(json["coverage"][0]["covered"], false);
    // A covered ecosystem names the feed and the namespace behind it.
    let pypi = cases
        .iter()
        .find(|c| c.ecosystem == Ecosystem::PyPI)
        .unwrap();
    let report = customs_app::scan::match_inventory(inventory(pypi, 1), &without_npm).unwrap();
    assert!(report.gaps(&[]).is_empty());
    let json = report
        .to_json(&customs_app::report::Filter::default())
        .unwrap();
    assert_eq!(json["coverage"][0]["covered"], true, "{}", json["coverage"]);
    assert_eq!(json["coverage"][0]["sources"][0]["namespace"], "osv:PyPI");

    // An empty database: one gap, whatever the image, that no allowance lifts.
    let empty = write_db(&dir.path().join("empty.db"), &[]);
    let report = customs_app::scan::match_inventory(inventory(pypi, 2), &empty).unwrap();
    assert_eq!(report.gaps(&Ecosystem::ALL), [Gap::EmptyDatabase]);
    assert_eq!(
        report
            .to_json(&customs_app::report::Filter::default())
            .unwrap()["vulnerability_db"]["empty"],
        true
    );
}
