//! The rpm analyzer: finds rpm databases in any of their three backends and locations. The
//! formats themselves are read by [`crate::rpm`].

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::facts::Fact;
use crate::inventory::Ecosystem;
use crate::osdb::{OsPackage, PackageDb};
use crate::rpm::RpmPackage;

/// Where rpm keeps its database: the classic location, and `/usr/lib/sysimage/rpm` (Fedora 36+,
/// SUSE, RHEL 10), in each backend's file name.
pub(crate) const DB_PATHS: &[&str] = &[
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages.db",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages",
];

impl From<RpmPackage> for OsPackage {
    fn from(p: RpmPackage) -> Self {
        let evr = format!("{}-{}", p.version, p.release);
        let with_epoch = |v: &str| match p.epoch {
            Some(e) if e > 0 => format!("{e}:{v}"),
            _ => v.to_owned(),
        };
        let version = with_epoch(&evr);
        let (source_name, source_version) = match p.source_rpm.as_deref().and_then(split_srpm) {
            Some((n, v)) => (n, with_epoch(&v)),
            None => (p.name.clone(), version.clone()),
        };
        Self {
            name: p.name,
            version,
            arch: p.arch,
            source_name: Some(source_name),
            source_version: Some(source_version),
            files: p.files,
            purl_version: Some(evr),
            epoch: p.epoch,
            upstream: p.source_rpm,
            licenses: p.license.into_iter().collect(),
            author: p.vendor,
            depends: p.requires.into_iter().map(|r| vec![r]).collect(),
            provides: p.provides,
        }
    }
}

/// `openssl-3.0.7-1.el9.src.rpm` → (`openssl`, `3.0.7-1.el9`): the source package's name and
/// `VERSION-RELEASE` from the SRPM file name rpm records as a package's source.
#[must_use]
pub fn split_srpm(srpm: &str) -> Option<(String, String)> {
    let nvr = srpm.strip_suffix(".rpm")?;
    let nvr = nvr
        .strip_suffix(".src")
        .or_else(|| nvr.strip_suffix(".nosrc"))
        .unwrap_or(nvr);
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    (!name.is_empty()).then(|| (name.to_owned(), format!("{version}-{release}")))
}

pub(crate) struct RpmAnalyzer;

impl PackageDb for RpmAnalyzer {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Rpm
    }
    fn is_db(&self, path: &str) -> bool {
        DB_PATHS.contains(&path)
    }
    fn purl_namespace(&self) -> &'static str {
        "redhat"
    }
    /// Images migrated between backends can hold two databases; rpm reads one. Take the one
    /// written last, and among those the newest backend.
    fn choose<'p>(&self, present: Vec<(&'p str, usize)>) -> Vec<&'p str> {
        present
            .into_iter()
            .max_by_key(|(path, layer)| (*layer, std::cmp::Reverse(rank(path))))
            .map(|(path, _)| path)
            .into_iter()
            .collect()
    }
}

impl Analyzer for RpmAnalyzer {
    fn name(&self) -> &'static str {
        "rpm"
    }
    fn version(&self) -> u32 {
        // 2: facts in the form every OS analyzer gives (osdb.rs).
        // 3: License, Vendor, requires and provides.
        3
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[
            Root::flat("var/lib/rpm"),
            Root::flat("usr/lib/sysimage/rpm"),
        ];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        DB_PATHS.contains(&path)
    }
    fn max_size(&self) -> u64 {
        // Large RHEL hosts reach a few hundred MB of Berkeley DB.
        1 << 30
    }
    fn parse(&self, _path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        crate::rpm::parse_db(bytes)
            .map(|p| Fact::OsPackages(p.into_iter().map(Into::into).collect()).into())
            .map_err(|e| {
                // The errors nest (which record, then what is wrong in it): show the whole chain.
                let mut msg = format!("corrupt rpm database: {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    let sep = if msg.ends_with(':') { " " } else { ": " };
                    msg.push_str(&format!("{sep}{c}"));
                    cause = c.source();
                }
                msg
            })
    }
}

/// Preference among several databases in one image: newer backends first.
fn rank(path: &str) -> usize {
    DB_PATHS
        .iter()
        .position(|p| *p == path)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::split_srpm;

    #[test]
    fn srpm_names() {
        assert_eq!(
            split_srpm("openssl-3.0.7-1.el9.src.rpm"),
            Some(("openssl".into(), "3.0.7-1.el9".into()))
        );
        assert_eq!(
            split_srpm("util-linux-2.32.1-42.el8_8.src.rpm"),
            Some(("util-linux".into(), "2.32.1-42.el8_8".into()))
        );
        assert_eq!(split_srpm("junk"), None);
    }
}
