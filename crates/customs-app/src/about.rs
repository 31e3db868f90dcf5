//! What this customs is, and what data it works with (`customs version`).

use std::path::PathBuf;

use serde::Serialize;

use crate::database::{DatabaseInfo, DbLocation};

/// The build and the data, as `customs version` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    /// customs' version.
    pub version: &'static str,
    /// The target it was built for (`x86_64-unknown-linux-gnu`).
    pub target: &'static str,
    /// `release` or `debug`.
    pub profile: &'static str,
    /// The inventory JSON schema written.
    pub inventory_schema: &'static str,
    /// The scan report JSON schema written.
    pub scan_schema: &'static str,
    /// The vulnerability database schema read.
    pub db_schema: i64,
    /// The scan store schema written.
    pub store_schema: i64,
    /// The vulnerability database, when there is one (it is not built by asking).
    pub vulnerability_db: Option<DbAbout>,
}

/// The database part of [`About`].
#[derive(Debug, Clone, Serialize)]
pub struct DbAbout {
    /// Its file.
    pub path: PathBuf,
    /// Whether it exists and opens.
    pub status: DbStatus,
    /// Its metadata, when it opens.
    #[serde(flatten)]
    pub info: Option<DatabaseInfo>,
    /// Advisories in it.
    pub advisories: Option<i64>,
}

/// Whether the database is usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum DbStatus {
    /// It opens.
    Ready,
    /// There is no file; the default one is built on first use.
    Missing,
    /// It does not open (another schema, a corrupt file).
    Unusable(String),
}

/// This build, and the database at `db` (never built or changed by asking).
#[must_use]
pub fn about(db: &DbLocation, target: &'static str, profile: &'static str) -> About {
    let vulnerability_db = db.path().ok().map(|path| {
        if !path.is_file() {
            return DbAbout {
                path,
                status: DbStatus::Missing,
                info: None,
                advisories: None,
            };
        }
        match customs_vulndb::VulnDb::open(&path) {
            Ok(opened) => DbAbout {
                info: DatabaseInfo::of(&opened).ok(),
                advisories: opened.info().ok().map(|i| i.advisories),
                path,
                status: DbStatus::Ready,
            },
            Err(e) => DbAbout {
                path,
                status: DbStatus::Unusable(e.to_string()),
                info: None,
                advisories: None,
            },
        }
    });
    About {
        version: env!("CARGO_PKG_VERSION"),
        target,
        profile,
        inventory_schema: customs_catalog::SCHEMA_VERSION,
        scan_schema: crate::SCAN_SCHEMA,
        db_schema: customs_vulndb::DB_SCHEMA_VERSION,
        store_schema: customs_store::SCHEMA_VERSION,
        vulnerability_db,
    }
}
