//! When a fix became available (`Finding::fix_date`), from the record that dates it best: a
//! DSA folded into the CVE it fixes dates the fix by its announcement; an OSV record by its
//! publication; a CVE entry that dates nothing by NVD's publication of the CVE.
//!
//! The advisories are invented, written with the database's own writer; the dates are those
//! of real records (DSA-5343-1 was announced on 7 Feb 2023; NVD published CVE-2023-0286 the
//! day after).

use customs_catalog::Ecosystem;
use customs_types::{Feed, Timestamp};
use customs_vulndb::{Advisory, DbWriter, Enrichment, VulnDb};

use crate::since_db::{advisory, case, inventory};

fn db(path: &std::path::Path, advisories: &[Advisory], nvd_published: Option<&str>) -> VulnDb {
    let mut w = DbWriter::create(path).unwrap();
    w.add_advisories(advisories).unwrap();
    w.add_enrichment(&[Enrichment::Nvd {
        cve: "CVE-2023-0286".to_owned(),
        description: None,
        cvss: Vec::new(),
        published: nvd_published.map(str::to_owned),
        rejected: false,
    }])
    .unwrap();
    w.finish(Timestamp::now()).unwrap();
    VulnDb::open(path).unwrap()
}

fn fix_date(db: &VulnDb, ecosystem: Ecosystem) -> Option<(String, String)> {
    let report = customs_app::scan::match_inventory(inventory(&case(ecosystem), 0), db).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    report.findings[0]
        .fix_date
        .as_ref()
        .map(|d| (d.date.clone(), d.source.as_str().to_owned()))
}

#[test]
fn a_fix_is_dated_by_the_record_that_dates_it_best() {
    let dir = tempfile::tempdir().unwrap();
    let deb = case(Ecosystem::Deb);
    let cve = Advisory {
        id: "CVE-2023-0286".to_owned(),
        feed: Feed::DebianJson,
        ..advisory(&deb)
    };
    let dsa = Advisory {
        id: "DSA-5343-1".to_owned(),
        aliases: vec!["CVE-2023-0286".to_owned()],
        feed: Feed::DebianDsa,
        published: Some("2023-02-07".to_owned()),
        ..advisory(&deb)
    };
    let nvd = Some("2023-02-08T20:15:23.973");

    // The tracker's entry alone dates nothing: NVD's publication of the CVE, said as such.
    let only_cve = db(&dir.path().join("a.db"), std::slice::from_ref(&cve), nvd);
    assert_eq!(
        fix_date(&only_cve, Ecosystem::Deb),
        Some(("2023-02-08".to_owned(), "disclosed".to_owned()))
    );
    // With the DSA folded in, its announcement dates the fix.
    let both = db(&dir.path().join("b.db"), &[cve.clone(), dsa], nvd);
    assert_eq!(
        fix_date(&both, Ecosystem::Deb),
        Some(("2023-02-07".to_owned(), "announced".to_owned()))
    );
    // Nothing dates it: none, which a `fix-available-days` rule does not take as young.
    let undated = db(&dir.path().join("c.db"), &[cve], None);
    assert_eq!(fix_date(&undated, Ecosystem::Deb), None);

    // An OSV record by its publication (a date-time, kept as its UTC day).
    let pypi = Advisory {
        published: Some("2023-03-01T23:30:00-02:00".to_owned()),
        ..advisory(&case(Ecosystem::PyPI))
    };
    let osv = db(&dir.path().join("d.db"), &[pypi], None);
    assert_eq!(
        fix_date(&osv, Ecosystem::PyPI),
        Some(("2023-03-02".to_owned(), "advisory".to_owned()))
    );
}
