//! OS package databases: what every OS package manager's analyzer gives, and how the catalog
//! turns it into inventory packages, written once.
//!
//! An OS analyzer (`dpkg.rs`, `apk.rs`, `rpmdb.rs`) implements [`Analyzer`] to find and parse its
//! database files into [`Fact::OsPackages`], and [`PackageDb`] to say what the catalog cannot
//! know from the facts: the ecosystem, which wanted files are databases, the purl namespace to
//! fall back on, which of several databases to read, and where else a package's files are
//! listed. [`package_dbs`] lists them; layer attribution (`apply.rs`) and collection
//! ([`collect`]) treat them all alike. Adding an OS package manager is one file and one line
//! in [`package_dbs`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analyzer::Analyzer;
use crate::apply::Merged;
use crate::facts::Fact;
use crate::inventory::{Distro, Ecosystem, Package};
use crate::purl::{self, PurlParts};

/// A package as an OS package database records it, normalised by its analyzer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OsPackage {
    pub(crate) name: String,
    /// As the package manager prints it (rpm: `[EPOCH:]VERSION-RELEASE`).
    pub(crate) version: String,
    pub(crate) arch: Option<String>,
    /// The source package (dpkg `Source:`, apk origin, the SRPM's name).
    pub(crate) source_name: Option<String>,
    /// The source package's version, as advisories compare it.
    pub(crate) source_version: Option<String>,
    /// Absolute paths of the files it installed, when its database record lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) files: Vec<String>,
    /// The version as its package URL spells it, when not `version` (rpm: without the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) purl_version: Option<String>,
    /// The epoch, a purl qualifier of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) epoch: Option<u32>,
    /// The purl's `upstream` qualifier (the source package or SRPM file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upstream: Option<String>,
}

impl OsPackage {
    /// Its identity within one database, for layer attribution: a database may list one name
    /// once per architecture.
    pub(crate) fn key(&self) -> String {
        format!("{}:{}", self.name, self.arch.as_deref().unwrap_or(""))
    }
}

/// Package file lists kept apart from the database records (dpkg's `info/NAME[:ARCH].list`):
/// (name, arch) → paths.
pub(crate) type FileLists<'m> = HashMap<(&'m str, Option<&'m str>), &'m Vec<String>>;

/// What the catalog needs of an OS package database beyond its facts.
pub(crate) trait PackageDb: Analyzer {
    /// Whose packages it holds.
    fn ecosystem(&self) -> Ecosystem;
    /// Whether a wanted path is one of its databases (it may want other files too).
    fn is_db(&self, path: &str) -> bool;
    /// The purl namespace when the image's distribution is unknown (`debian`, `alpine`, …).
    fn purl_namespace(&self) -> &'static str;
    /// Of the databases present, as (path, layer that wrote it), the ones to read. All by
    /// default; rpm reads one.
    fn choose<'p>(&self, present: Vec<(&'p str, usize)>) -> Vec<&'p str> {
        present.into_iter().map(|(p, _)| p).collect()
    }
    /// File lists kept outside the database records.
    fn file_lists<'m>(&self, merged: &'m Merged) -> FileLists<'m> {
        let _ = merged;
        FileLists::new()
    }
}

/// The OS package databases a scan reads, in the order their packages are listed.
pub(crate) fn package_dbs() -> &'static [&'static dyn PackageDb] {
    &[
        &crate::dpkg::DpkgAnalyzer,
        &crate::apk::ApkAnalyzer,
        &crate::rpmdb::RpmAnalyzer,
    ]
}

/// Every OS package of the merged layers.
pub(crate) fn collect(m: &Merged, distro: Option<&Distro>, out: &mut Vec<Package>) {
    for db in package_dbs() {
        let present = m
            .files
            .iter()
            .filter(|(path, _)| db.is_db(path))
            .map(|(path, (layer, _))| (path.as_str(), *layer))
            .collect();
        let lists = db.file_lists(m);
        for path in db.choose(present) {
            let Some((real, Fact::OsPackages(pkgs))) = m.resolve(path) else {
                continue;
            };
            for p in pkgs {
                let paths = lists
                    .get(&(p.name.as_str(), p.arch.as_deref()))
                    .or_else(|| lists.get(&(p.name.as_str(), None)))
                    .map_or_else(|| p.files.clone(), |l| (*l).clone());
                out.push(Package {
                    purl: purl::build(
                        &PurlParts {
                            ty: db.ecosystem().as_str(),
                            name: &p.name,
                            version: p.purl_version.as_deref().unwrap_or(&p.version),
                            arch: p.arch.as_deref(),
                            epoch: p.epoch,
                            upstream: p.upstream.as_deref(),
                        },
                        distro,
                        db.purl_namespace(),
                    ),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    ecosystem: db.ecosystem(),
                    source_name: p.source_name.clone(),
                    source_version: p.source_version.clone(),
                    arch: p.arch.clone(),
                    layer: None,
                    layer_index: m.layer_of(real, &p.key()),
                    found_in: format!("/{real}"),
                    paths,
                    dev: false,
                    evidence: Vec::new(),
                    owns: Vec::new(),
                    notes: Vec::new(),
                });
            }
        }
    }
}
