//! The vulnerability database as a scan uses it: which file, built from the snapshot compiled
//! into customs on first use, how old its data is; and `db build` / `db update`.

use std::path::{Path, PathBuf};

use customs_types::Timestamp;
use customs_vulndb::{BuildReport, FeedKind, FeedSource, UpdateOptions, UpdateReport, VulnDb};

pub use customs_report::DatabaseInfo;

use crate::{AppError, CacheDir, Result};

/// The snapshot of real advisory data compiled into customs (see data/snapshot/SOURCES.md), so
/// a fresh install scans offline.
const SNAPSHOT: &[(FeedKind, &str, &str)] = &[
    (
        FeedKind::DebianDsa,
        "snapshot:debian/DSA/list",
        include_str!("../../../data/snapshot/debian/DSA/list"),
    ),
    (
        FeedKind::DebianDla,
        "snapshot:debian/DLA/list",
        include_str!("../../../data/snapshot/debian/DLA/list"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.10/main.yaml",
        include_str!("../../../data/snapshot/alpine/v3.10/main.yaml"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.10/community.yaml",
        include_str!("../../../data/snapshot/alpine/v3.10/community.yaml"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.11/main.yaml",
        include_str!("../../../data/snapshot/alpine/v3.11/main.yaml"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.11/community.yaml",
        include_str!("../../../data/snapshot/alpine/v3.11/community.yaml"),
    ),
    (
        FeedKind::KevJson,
        "snapshot:kev/known_exploited_vulnerabilities.json",
        include_str!("../../../data/snapshot/kev/known_exploited_vulnerabilities.json"),
    ),
];

/// The language advisories of the snapshot (PyPA, Go, RustSec, GHSA), one tar compressed
/// with zstd: 40 MB of text in 1.5 MB (see data/snapshot/SOURCES.md and
/// scripts/snapshot-languages.sh).
const LANGUAGES: &[u8] = include_bytes!("../../../data/snapshot/languages.tar.zst");

/// Every feed file of [`LANGUAGES`], as (kind, name, text); files that are no feed (README,
/// LICENSE) are left out.
fn language_snapshot() -> Result<Vec<(FeedKind, String, String)>> {
    let corrupt = |e: std::io::Error| {
        AppError::invalid("the built-in snapshot (languages.tar.zst)", e.to_string())
    };
    let mut archive =
        tar::Archive::new(zstd::stream::read::Decoder::new(LANGUAGES).map_err(corrupt)?);
    let mut out = Vec::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(corrupt)?.into_owned();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).map_err(corrupt)?;
        if let Some(kind) = customs_vulndb::detect(&path, &text) {
            out.push((kind, format!("snapshot:{}", path.display()), text));
        }
    }
    Ok(out)
}

/// Which database file: the one named (`--db`, `CUSTOMS_DB`), else the default in customs'
/// data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbLocation(pub Option<PathBuf>);

impl DbLocation {
    /// The file, named or default.
    ///
    /// # Errors
    /// [`AppError::NoHome`] when no file is named and there is no data directory.
    pub fn path(&self) -> Result<PathBuf> {
        match &self.0 {
            Some(p) => Ok(p.clone()),
            None => crate::paths::default_db().ok_or(AppError::NoHome("pass --db FILE")),
        }
    }
}

/// An opened database, and whether opening it first built it from the snapshot.
pub struct Opened {
    /// The database.
    pub db: VulnDb,
    /// Set when the default database did not exist (or was an older customs' schema) and was
    /// just built from the snapshot.
    pub built_from_snapshot: bool,
}

/// Open the database. A named file must exist; the default one is built from the snapshot
/// compiled into customs on first use, and rebuilt when an older customs wrote it.
///
/// # Errors
/// [`AppError::NoDatabase`] for a named file that is not there, or the database's own errors.
pub fn open(location: &DbLocation) -> Result<Opened> {
    if let Some(p) = &location.0 {
        if !p.is_file() {
            return Err(AppError::NoDatabase(p.clone()));
        }
        return Ok(Opened {
            db: VulnDb::open(p)?,
            built_from_snapshot: false,
        });
    }
    let path = location.path()?;
    let stale = path.is_file()
        && matches!(
            VulnDb::open(&path),
            Err(customs_vulndb::DbError::Schema { .. })
        );
    let build = !path.is_file() || stale;
    if build {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(AppError::io(dir))?;
        }
        let languages = language_snapshot()?;
        let mut files: Vec<(FeedKind, &str, &str)> = SNAPSHOT.to_vec();
        files.extend(
            languages
                .iter()
                .map(|(k, o, t)| (*k, o.as_str(), t.as_str())),
        );
        customs_vulndb::build_embedded(&path, &files, Timestamp::now())?;
    }
    Ok(Opened {
        db: VulnDb::open(&path)?,
        built_from_snapshot: build,
    })
}

/// How `new` differs from `old`, advisory by advisory (`customs db diff`).
///
/// # Errors
/// [`AppError::NoDatabase`] for a path that is not there; the databases' own errors.
pub fn diff(old: &Path, new: &Path) -> Result<customs_vulndb::DbDiff> {
    let open = |p: &Path| -> Result<VulnDb> {
        if !p.is_file() {
            return Err(AppError::NoDatabase(p.to_owned()));
        }
        Ok(VulnDb::open(p)?)
    };
    Ok(open(new)?.diff_from(&open(old)?)?)
}

/// Build a database file from feed files or folders (`customs db build`).
///
/// # Errors
/// The database's own errors; a feed file that fails to parse is a warning in the report.
pub fn build(out: &Path, inputs: &[String]) -> Result<BuildReport> {
    Ok(customs_vulndb::build(out, inputs, Timestamp::now())?)
}

/// Fetch feeds into the cache's `feeds/` and rebuild the database (`customs db update`). A
/// feed whose download fails its checks keeps its previous data
/// ([`UpdateReport::failed`]); the database file is replaced only when the new build
/// succeeds.
///
/// # Errors
/// No feed has any data, or the build failed; the database is then as it was.
pub fn update(
    http: &customs_http::Transport,
    location: &DbLocation,
    sources: &[FeedSource],
    cache: &CacheDir,
    opts: &UpdateOptions,
) -> Result<(PathBuf, UpdateReport)> {
    let path = location.path()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(AppError::io(dir))?;
    }
    let report =
        customs_vulndb::update(http, &path, sources, &cache.feeds(), Timestamp::now(), opts)?;
    Ok((path, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_data_is_named_with_its_age() {
        let t = |s: &str| Timestamp::parse_lenient(s).unwrap();
        let info = DatabaseInfo {
            path: PathBuf::from("x.db"),
            built_at: Some(t("2025-01-31")),
            newest_advisory: Some(t("2025-01-01")),
            empty: false,
        };
        assert_eq!(
            info.stale_days(t("2025-01-31T10:00:00Z")),
            Some((30, t("2025-01-01")))
        );
        assert_eq!(info.stale_days(t("2025-01-08")), None);
        let fresh = DatabaseInfo {
            newest_advisory: None,
            ..info
        };
        assert_eq!(fresh.stale_days(t("2025-02-01")), None);
    }
}
