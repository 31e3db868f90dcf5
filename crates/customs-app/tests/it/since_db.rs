//! `rematch --since-db` reaches a stored package of every ecosystem: the store's package keys
//! (`record::package_keys`) and the database's (`Ecosystem::match_name` under the namespace's
//! ecosystem) agree, so a new advisory about a package is traced to the images holding it.
//!
//! The images are synthetic inventories of one package each, recorded through the same
//! `record::record` that `customs scan --store` calls; the advisories are written with the
//! database's own writer. Every `Ecosystem` variant is covered: the table below is an
//! exhaustive match, so a new variant does not compile until it is added here.

use std::collections::BTreeSet;

use customs_app::rematch::{RematchOptions, rematch};
use customs_catalog::{Distro, Ecosystem, Inventory, Package};
use customs_image::{SourceInfo, SourceKind};
use customs_types::{Feed, Namespace, Timestamp};
use customs_vulndb::{Advisory, Affected, DbWriter, Event, Range, RangeKind, Status, VulnDb};

/// One stored package, and what an advisory about it looks like.
pub(crate) struct Case {
    pub(crate) ecosystem: Ecosystem,
    /// os-release ID and VERSION_ID of the image.
    distro: (&'static str, &'static str),
    /// The package as installed (name, version, source package).
    name: &'static str,
    version: &'static str,
    source: Option<&'static str>,
    /// The advisory: namespace, the package as it names it, and its status.
    namespace: &'static str,
    advisory_names: &'static str,
    status: Status,
}

fn ranges(kind: RangeKind, fixed: &str) -> Status {
    Status::Ranges {
        ranges: vec![Range {
            kind,
            events: vec![Event::Introduced("0".into()), Event::Fixed(fixed.into())],
        }],
        versions: Vec::new(),
    }
}

pub(crate) fn case(ecosystem: Ecosystem) -> Case {
    let fixed = |v: &str| Status::Fixed {
        fixed: v.into(),
        date: None,
    };
    match ecosystem {
        // Debian advisories name the source package.
        Ecosystem::Deb => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "libfoo1",
            version: "1.0-1",
            source: Some("foo"),
            namespace: "debian:12",
            advisory_names: "foo",
            status: fixed("1.0-2"),
        },
        Ecosystem::Apk => Case {
            ecosystem,
            distro: ("alpine", "3.10.4"),
            name: "musl",
            version: "1.1.22-r2",
            source: Some("musl"),
            namespace: "alpine:3.10",
            advisory_names: "musl",
            status: fixed("1.1.22-r3"),
        },
        Ecosystem::Rpm => Case {
            ecosystem,
            distro: ("rhel", "9.3"),
            name: "openssl-libs",
            version: "1:3.0.7-24.el9",
            source: Some("openssl"),
            namespace: "rhel:9",
            advisory_names: "openssl",
            status: fixed("1:3.0.7-25.el9"),
        },
        // PyPI names are compared PEP 503-normalised on both sides.
        Ecosystem::PyPI => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "Foo_Bar",
            version: "1.0",
            source: None,
            namespace: "osv:PyPI",
            advisory_names: "foo.bar",
            status: ranges(RangeKind::Ecosystem, "1.1"),
        },
        Ecosystem::Npm => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "@scope/pkg",
            version: "1.0.0",
            source: None,
            namespace: "osv:npm",
            advisory_names: "@scope/pkg",
            status: ranges(RangeKind::Semver, "1.0.1"),
        },
        Ecosystem::Cargo => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "smallvec",
            version: "1.6.0",
            source: None,
            namespace: "osv:crates.io",
            advisory_names: "smallvec",
            status: ranges(RangeKind::Semver, "1.6.1"),
        },
        Ecosystem::Go => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "golang.org/x/text",
            version: "v0.3.5",
            source: None,
            namespace: "osv:Go",
            advisory_names: "golang.org/x/text",
            status: ranges(RangeKind::Semver, "0.3.7"),
        },
        Ecosystem::Maven => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "org.apache.logging.log4j:log4j-core",
            version: "2.14.1",
            source: None,
            namespace: "osv:Maven",
            advisory_names: "org.apache.logging.log4j:log4j-core",
            status: ranges(RangeKind::Ecosystem, "2.15.0"),
        },
        Ecosystem::Gem => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "rack",
            version: "2.2.3",
            source: None,
            namespace: "osv:RubyGems",
            advisory_names: "rack",
            status: ranges(RangeKind::Ecosystem, "2.2.3.1"),
        },
        // Packagist and NuGet names are compared without case on both sides.
        Ecosystem::Composer => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "Symfony/Console",
            version: "v5.4.0",
            source: None,
            namespace: "osv:Packagist",
            advisory_names: "symfony/console",
            status: ranges(RangeKind::Ecosystem, "5.4.1"),
        },
        Ecosystem::NuGet => Case {
            ecosystem,
            distro: ("debian", "12"),
            name: "newtonsoft.json",
            version: "12.0.1",
            source: None,
            namespace: "osv:NuGet",
            advisory_names: "Newtonsoft.Json",
            status: ranges(RangeKind::Ecosystem, "13.0.1"),
        },
    }
}

pub(crate) fn inventory(c: &Case, i: usize) -> Inventory {
    Inventory {
        schema: customs_catalog::SCHEMA_VERSION.to_owned(),
        source: SourceInfo {
            kind: SourceKind::Dir,
            reference: format!("/images/{}-{i}", c.ecosystem),
            tag: None,
            described: None,
        },
        image: None,
        distro: Some(Distro {
            id: c.distro.0.to_owned(),
            version_id: Some(c.distro.1.to_owned()),
            codename: None,
            pretty_name: None,
            id_like: Vec::new(),
            source_file: "etc/os-release".to_owned(),
        }),
        packages: vec![Package {
            name: c.name.to_owned(),
            version: c.version.to_owned(),
            ecosystem: c.ecosystem,
            purl: None,
            source_name: c.source.map(str::to_owned),
            source_version: c.source.map(|_| c.version.to_owned()),
            arch: None,
            layer: None,
            layer_index: None,
            found_in: "test".to_owned(),
            paths: Vec::new(),
            dev: false,
            evidence: Vec::new(),
            owns: Vec::new(),
            notes: Vec::new(),
            licenses: Vec::new(),
            author: None,
            depends: Vec::new(),
        }],
        files: None,
        warnings: Vec::new(),
        unchecked: std::collections::BTreeMap::new(),
        detections: Vec::new(),
        inspected: None,
    }
}

pub(crate) fn write_db(path: &std::path::Path, advisories: &[Advisory]) -> VulnDb {
    let mut w = DbWriter::create(path).unwrap();
    w.add_advisories(advisories).unwrap();
    w.finish(Timestamp::now()).unwrap();
    VulnDb::open(path).unwrap()
}

pub(crate) fn advisory(c: &Case) -> Advisory {
    Advisory {
        id: format!("TEST-{}", c.ecosystem),
        aliases: Vec::new(),
        feed: Feed::Osv,
        record: "since_db.rs".to_owned(),
        published: None,
        modified: None,
        summary: None,
        severity: Some(customs_types::Severity::High),
        cvss: Vec::new(),
        affected: vec![Affected {
            namespace: c.namespace.parse::<Namespace>().unwrap(),
            package: c.advisory_names.to_owned(),
            status: c.status.clone(),
            severity: None,
            note: None,
        }],
        withdrawn: false,
    }
}

#[test]
fn a_new_advisory_reaches_a_stored_package_of_every_ecosystem() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = Ecosystem::ALL.into_iter().map(case).collect();
    // v1 knows nothing; v2 has one advisory per ecosystem.
    let v1 = write_db(&dir.path().join("v1.db"), &[]);
    let v2 = write_db(
        &dir.path().join("v2.db"),
        &cases.iter().map(advisory).collect::<Vec<_>>(),
    );
    let mut store =
        customs_store::open(&format!("sqlite:{}", dir.path().join("store.db").display())).unwrap();
    // Two images per ecosystem, and each scanned against v1: nothing to report yet.
    let mut keys = BTreeSet::new();
    for (i, c) in cases.iter().enumerate() {
        for copy in 0..2 {
            let inv = inventory(c, i * 2 + copy);
            let report = customs_app::scan::match_inventory(inv, &v1).unwrap();
            assert!(report.findings.is_empty());
            let recorded = customs_app::record::record(store.as_mut(), &v1, &report).unwrap();
            keys.insert((c.ecosystem, recorded.digest));
        }
    }
    let report = rematch(
        store.as_mut(),
        &v2,
        &RematchOptions {
            since: Some(&v1),
            workers: Some(2),
            rejudge: None,
        },
    )
    .unwrap();
    let reached: BTreeSet<&str> = report.images.iter().map(|i| i.digest.as_str()).collect();
    for (ecosystem, digest) in &keys {
        assert!(
            reached.contains(digest.as_str()),
            "{ecosystem}: {digest} was not re-matched by --since-db (reached: {reached:?})"
        );
        let image = report.images.iter().find(|i| i.digest == *digest).unwrap();
        let new: Vec<&str> = image
            .delta
            .new
            .iter()
            .filter_map(|f| f["id"].as_str())
            .collect();
        assert_eq!(new, [format!("TEST-{ecosystem}")], "{ecosystem}: {digest}");
    }
    assert_eq!(
        report.images.len(),
        keys.len(),
        "only the images holding the packages"
    );

    // A full rematch against v2 now finds nothing more to tell.
    let again = rematch(store.as_mut(), &v2, &RematchOptions::default()).unwrap();
    assert_eq!(again.changed().count(), 0);
}
