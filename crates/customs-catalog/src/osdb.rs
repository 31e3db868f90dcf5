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
    /// Licences its database record declares (apk `L:`, rpm `License`); dpkg's come from
    /// the package's `copyright` file instead ([`PackageDb::licenses`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) licenses: Vec<String>,
    /// dpkg `Maintainer`, apk `m:`, rpm `Vendor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) author: Option<String>,
    /// What it needs, as alternative groups of names (versions and architecture qualifiers
    /// dropped): dpkg `Pre-Depends` and `Depends`; apk `D:` and rpm's requirements, one name
    /// per group. Resolved against the installed set in [`collect`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) depends: Vec<Vec<String>>,
    /// What it stands in for: dpkg `Provides`, apk `p:`, rpm `PROVIDENAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) provides: Vec<String>,
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
    /// Licences kept outside the database records (dpkg's `usr/share/doc/NAME/copyright`):
    /// package name → licences.
    fn licenses<'m>(&self, merged: &'m Merged) -> HashMap<&'m str, &'m Vec<String>> {
        let _ = merged;
        HashMap::new()
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
        // Dependencies resolve within one package manager's packages.
        let first = out.len();
        let mut depends: Vec<&Vec<Vec<String>>> = Vec::new();
        let mut provides: Vec<&Vec<String>> = Vec::new();
        let present = m
            .files
            .iter()
            .filter(|(path, _)| db.is_db(path))
            .map(|(path, (layer, _))| (path.as_str(), *layer))
            .collect();
        let lists = db.file_lists(m);
        let licenses = db.licenses(m);
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
                    licenses: if p.licenses.is_empty() {
                        licenses
                            .get(p.name.as_str())
                            .map(|l| (*l).clone())
                            .unwrap_or_default()
                    } else {
                        p.licenses.clone()
                    },
                    author: p.author.clone(),
                    depends: Vec::new(),
                });
                depends.push(&p.depends);
                provides.push(&p.provides);
            }
        }
        resolve_depends(&mut out[first..], &depends, &provides);
    }
}

/// Turns each package's alternative groups into the package URLs of the installed packages
/// that satisfy them: a group is met by the first alternative installed under that name, else
/// by the first installed package that provides it (a dpkg virtual package, an apk `so:` or
/// an rpm capability), else, for a path (rpm's `/bin/sh`), by the package that installed
/// that file. A group nothing installed meets is left out: the image lacks it, which is not
/// an edge.
fn resolve_depends(pkgs: &mut [Package], depends: &[&Vec<Vec<String>>], provides: &[&Vec<String>]) {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut by_virtual: HashMap<&str, usize> = HashMap::new();
    let wanted_paths: std::collections::HashSet<&str> = depends
        .iter()
        .flat_map(|d| d.iter().flatten())
        .filter(|n| n.starts_with('/'))
        .map(String::as_str)
        .collect();
    for (i, p) in pkgs.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_insert(i);
        for v in provides.get(i).copied().into_iter().flatten() {
            by_virtual.entry(v.as_str()).or_insert(i);
        }
        for path in &p.paths {
            if let Some(&w) = wanted_paths.get(path.as_str()) {
                by_virtual.entry(w).or_insert(i);
            }
        }
    }
    let mut edges: Vec<Vec<String>> = Vec::with_capacity(pkgs.len());
    for (i, p) in pkgs.iter().enumerate() {
        let mut out: Vec<String> = Vec::new();
        // A set, not `out.contains`: a hostile database can give one package millions of
        // groups naming the same few packages.
        let mut seen = std::collections::HashSet::new();
        for group in depends.get(i).copied().into_iter().flatten() {
            let hit = group
                .iter()
                .find_map(|n| by_name.get(n.as_str()))
                .or_else(|| group.iter().find_map(|n| by_virtual.get(n.as_str())));
            if let Some(&j) = hit
                && j != i
                && let Some(purl) = &pkgs[j].purl
                && p.purl.is_some()
                && seen.insert(j)
            {
                out.push(purl.clone());
            }
        }
        edges.push(out);
    }
    for (p, e) in pkgs.iter_mut().zip(edges) {
        p.depends = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inventory package of ecosystem `ty` with the purl `pkg:TY/NS/NAME@VERSION`.
    pub(super) fn package(
        ty: &str,
        ns: &str,
        name: &str,
        version: &str,
        paths: &[String],
    ) -> Package {
        serde_json::from_value(serde_json::json!({
            "name": name, "version": version, "ecosystem": ty,
            "purl": format!("pkg:{ty}/{ns}/{name}@{version}"), "source_name": null,
            "source_version": null, "arch": null, "layer": null, "layer_index": null,
            "found_in": "/db", "paths": paths
        }))
        .unwrap()
    }

    fn pkg(name: &str) -> Package {
        package("deb", "debian", name, "1", &[])
    }

    fn groups(g: &[&[&str]]) -> Vec<Vec<String>> {
        g.iter()
            .map(|a| a.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn dependencies_resolve_to_installed_packages() {
        let mut pkgs = vec![pkg("app"), pkg("libc6"), pkg("mawk"), pkg("libssl3")];
        let depends = [
            // libc6; an alternative not installed then one that is; a virtual package; a
            // package the image lacks; itself.
            groups(&[
                &["libc6"],
                &["libssl1.1", "libssl3"],
                &["awk"],
                &["gone"],
                &["app"],
            ]),
            Vec::new(),
            groups(&[&["libc6"]]),
            groups(&[&["libc6"], &["libc6"]]),
        ];
        let provides = [vec![], vec![], vec!["awk".to_owned()], vec![]];
        let d: Vec<&Vec<Vec<String>>> = depends.iter().collect();
        let p: Vec<&Vec<String>> = provides.iter().collect();
        resolve_depends(&mut pkgs, &d, &p);
        assert_eq!(
            pkgs[0].depends,
            [
                "pkg:deb/debian/libc6@1",
                "pkg:deb/debian/libssl3@1",
                "pkg:deb/debian/mawk@1"
            ]
        );
        assert!(pkgs[1].depends.is_empty());
        assert_eq!(pkgs[3].depends, ["pkg:deb/debian/libc6@1"]);
    }
}

#[cfg(test)]
mod real_dependencies {
    use super::*;

    fn shared() -> String {
        std::env::var("CUSTOMS_SHARED")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_owned())
    }

    fn resolved(os: &[OsPackage], ty: &str) -> Vec<Package> {
        let mut pkgs: Vec<Package> = os
            .iter()
            .map(|p| super::tests::package(ty, "x", &p.name, &p.version, &p.files))
            .collect();
        let d: Vec<&Vec<Vec<String>>> = os.iter().map(|p| &p.depends).collect();
        let v: Vec<&Vec<String>> = os.iter().map(|p| &p.provides).collect();
        resolve_depends(&mut pkgs, &d, &v);
        pkgs
    }

    fn needs<'p>(pkgs: &'p [Package], name: &str) -> Vec<&'p str> {
        let p = pkgs.iter().find(|p| p.name == name).unwrap();
        p.depends
            .iter()
            .map(|d| d.rsplit('/').next().unwrap().split('@').next().unwrap())
            .collect()
    }

    /// Mariner 2.0's real rpm database: capabilities (`libc.so.6()(64bit)`) and file paths
    /// (`/bin/sh`) resolve to the packages that provide or install them.
    #[test]
    fn rpm_requires_resolve_through_provides_and_files() {
        let shared = shared();
        let bytes = std::fs::read(format!(
            "{shared}/data/packagedb/rpm/mariner-2.0-rpmdb.sqlite"
        ))
        .unwrap();
        let os: Vec<OsPackage> = crate::rpm::parse_db(&bytes)
            .unwrap()
            .into_iter()
            .map(Into::into)
            .collect();
        let pkgs = resolved(&os, "rpm");
        let bash = needs(&pkgs, "bash");
        assert!(bash.contains(&"glibc"), "{bash:?}");
        let edges: usize = pkgs.iter().map(|p| p.depends.len()).sum();
        assert!(
            edges > pkgs.len(),
            "{edges} edges for {} packages",
            pkgs.len()
        );
    }

    /// Alpine 3.10's real installed database: `so:` dependencies resolve through `p:`.
    #[test]
    fn apk_depends_resolve_through_provides() {
        let shared = shared();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "tar -xzOf {shared}/data/images/real/alpine-310.tar.gz --wildcards '*/layer.tar' | tar -xO lib/apk/db/installed"
            ))
            .output()
            .unwrap();
        assert!(out.status.success());
        let os: Vec<OsPackage> =
            crate::apk::parse_installed(&String::from_utf8(out.stdout).unwrap())
                .unwrap()
                .into_iter()
                .map(Into::into)
                .collect();
        let pkgs = resolved(&os, "apk");
        assert_eq!(needs(&pkgs, "busybox"), ["musl"]);
        assert!(
            needs(&pkgs, "apk-tools").contains(&"libcrypto1.1"),
            "{:?}",
            needs(&pkgs, "apk-tools")
        );
    }
}
