//! The scan store: what `customs scan --store`, `images`, `history`, `rematch` and `diff` read
//! and write.
//!
//! One [`Store`] trait, two backends with the same schema and the same tests:
//! - SQLite ([`SqliteStore`], `sqlite.rs`): one file, WAL mode, a busy timeout, every write one
//!   `BEGIN IMMEDIATE` transaction (retried while another writer holds the lock).
//! - PostgreSQL ([`PgStore`], `pg.rs`): the blocking `postgres` client, every write one
//!   transaction that first takes a per-schema advisory lock, so writers are serialised as in
//!   SQLite.
//!
//! [`open`] picks the backend from a URL. Opening migrates the schema (`schema_migrations`,
//! versions applied in order in one transaction) and refuses a store whose schema is newer
//! than [`SCHEMA_VERSION`].
//!
//! What is stored (see the crate README for the tables): images by manifest digest with their
//! inventory; the history of tag → digest; a package → images index; each image's findings
//! with first seen, resolved at and why; and an outbox of notifications not yet delivered.
//! Inventories and findings are JSON documents owned by other crates; the store reads only the
//! keys it is given ([`ScanRecord::packages`], [`FindingRecord`]).
//!
//! ```no_run
//! # fn main() -> Result<(), customs_store::StoreError> {
//! let mut store = customs_store::open("sqlite:/var/lib/customs/store.db")?;
//! for image in store.images()? {
//!     let _ = (image.digest, image.tags, image.open);
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod error;
mod model;
mod pg;
mod reconcile;
mod sqlite;

pub use customs_types::{Ecosystem, Severity, Timestamp, TimestampError};
pub use error::StoreError;
pub use model::{
    Delta, FindingHistory, FindingId, FindingRecord, ImageDetail, ImageSummary, IndexedPackage,
    OutboxEntry, PackageKey, RematchInput, RematchRecord, Resolutions, ResolvedReason, ScanRecord,
    TagEvent, UnknownReason, WriteStage,
};
pub use pg::PgStore;
pub use sqlite::SqliteStore;

use std::collections::BTreeSet;

use serde_json::Value;

/// The schema version this code writes; [`open`] migrates older stores up to it.
pub const SCHEMA_VERSION: i64 = 2;

/// The migration scripts of a backend (`MIGRATIONS[i]` brings the schema to version `i + 1`),
/// for tests that build a store as an older version left it.
#[doc(hidden)]
#[must_use]
pub fn migration_scripts(postgres: bool) -> &'static [&'static str] {
    if postgres {
        pg::MIGRATIONS
    } else {
        sqlite::MIGRATIONS
    }
}

/// Open (creating and migrating if needed) the store at `url`:
/// - `postgres://…` or `postgresql://…`: PostgreSQL (libpq-style URL; e.g.
///   `?options=-csearch_path%3Dcustoms` to keep the tables in a schema);
/// - `sqlite:PATH`, `sqlite://PATH`, or a plain path: a SQLite file.
///
/// # Errors
/// An unknown URL scheme, a connection or migration failure, or
/// [`StoreError::SchemaTooNew`].
pub fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PgStore::connect(url)?));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::UnsupportedUrl {
            url: url.to_owned(),
        });
    }
    Ok(Box::new(SqliteStore::open(path)?))
}

/// The store's operations. Every write is one transaction: it is all there after it returns
/// `Ok`, and none of it is there otherwise (error, panic, or a killed process).
///
/// Methods take `&mut self` because a PostgreSQL client needs it; open one store per thread.
pub trait Store: Send {
    /// The schema version of the open store (always [`SCHEMA_VERSION`] after [`open`]).
    ///
    /// # Errors
    /// A database failure.
    fn schema_version(&mut self) -> Result<i64, StoreError>;

    /// Store a scan: upsert the image and its inventory, add a tag row if the tag is new or now
    /// points at another digest, rebuild the image's package rows and index, and reconcile its
    /// findings — findings of `record` not open in the store are new (inserted or reopened),
    /// open ones missing from `record` are resolved with `record.resolutions`, and open
    /// ones whose severity differs are changed. Returns that delta.
    ///
    /// When the tag moved, findings carry over: one the previous digest already had (same id
    /// and package) keeps its first-seen time. And the previous digest, if no tag points at it
    /// any more, has the findings the new build does not resolved as `package-upgraded` or
    /// `package-removed`; the delta lists them under `resolved` with that digest.
    ///
    /// # Errors
    /// An invalid record (empty digest, tag without repository, null inventory) or a database
    /// failure; nothing is written then.
    fn put_scan(&mut self, record: &ScanRecord) -> Result<Delta, StoreError> {
        self.put_scan_with(record, &mut |_| {})
    }

    /// [`put_scan`](Store::put_scan), calling `on_stage` at each [`WriteStage`] inside the
    /// transaction. For crash tests: a panic (or a kill) there must leave nothing behind.
    ///
    /// # Errors
    /// As [`put_scan`](Store::put_scan).
    fn put_scan_with(
        &mut self,
        record: &ScanRecord,
        on_stage: &mut dyn FnMut(WriteStage),
    ) -> Result<Delta, StoreError>;

    /// Reconcile stored images' findings with a rematch of their stored packages, as
    /// [`put_scan`](Store::put_scan) does, without touching inventories or tags, all in one
    /// transaction; `db_built_at` (if given) is recorded as each image's database. One delta
    /// per record, in order.
    ///
    /// # Errors
    /// [`StoreError::UnknownImage`] (and nothing is written), or a database failure.
    fn apply_rematches(
        &mut self,
        batch: &[RematchRecord],
        db_built_at: Option<Timestamp>,
    ) -> Result<Vec<Delta>, StoreError>;

    /// Every stored image, most recently scanned first.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn images(&mut self) -> Result<Vec<ImageSummary>, StoreError>;

    /// One image with its inventory, by digest (`sha256:…` or `REPO@sha256:…`) or by tag
    /// (`REPO:TAG`, or `REPO` for `REPO:latest`; the tag's latest digest). `None` if unknown.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn image(&mut self, reference: &str) -> Result<Option<ImageDetail>, StoreError>;

    /// Every row of a tag's history, oldest first.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn tag_history(&mut self, repository: &str, tag: &str) -> Result<Vec<TagEvent>, StoreError>;

    /// The finding timeline of one image, ordered by first seen, then id, package, version.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn history(&mut self, digest: &str) -> Result<Vec<FindingHistory>, StoreError>;

    /// What a rematch reads, by digest: with `keys` `None` every stored image with all its
    /// packages; else only the images holding a package under one of `keys` (keyed look-ups
    /// in the package index), each with only those packages.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn rematch_inputs(
        &mut self,
        keys: Option<&BTreeSet<PackageKey>>,
    ) -> Result<Vec<RematchInput>, StoreError>;

    /// Digests of the stored images whose inventory has a package `name` in `ecosystem`
    /// (a primary-key look-up), sorted.
    ///
    /// # Errors
    /// A database failure.
    fn images_with_package(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// Add a notification to the outbox; returns its id.
    ///
    /// # Errors
    /// A database failure.
    fn enqueue(&mut self, target: &str, payload: &Value) -> Result<i64, StoreError>;

    /// Notifications not delivered yet, oldest first.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn pending(&mut self) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Record a successful delivery; the entry leaves [`pending`](Store::pending).
    ///
    /// # Errors
    /// [`StoreError::UnknownOutboxEntry`], or a database failure.
    fn mark_delivered(&mut self, id: i64) -> Result<(), StoreError>;

    /// Record a failed delivery attempt: one more attempt, and the error.
    ///
    /// # Errors
    /// [`StoreError::UnknownOutboxEntry`], or a database failure.
    fn mark_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError>;

    /// Check integrity: the database's own check where it has one (SQLite
    /// `integrity_check` and `foreign_key_check`), the schema version, and the store's
    /// invariants ([`INVARIANTS`]).
    ///
    /// # Errors
    /// [`StoreError::Integrity`] listing every problem, or a database failure.
    fn check(&mut self) -> Result<(), StoreError>;
}

/// The invariants [`Store::check`] verifies: a description and a query (valid in both
/// dialects) counting the rows that break it.
pub const INVARIANTS: &[(&str, &str)] = &[
    (
        "findings rows whose image is missing",
        "SELECT count(*) FROM findings f WHERE NOT EXISTS \
         (SELECT 1 FROM images i WHERE i.digest = f.digest)",
    ),
    (
        "tag rows whose image is missing",
        "SELECT count(*) FROM tags t WHERE NOT EXISTS \
         (SELECT 1 FROM images i WHERE i.digest = t.digest)",
    ),
    (
        "package index rows whose image is missing",
        "SELECT count(*) FROM package_index p WHERE NOT EXISTS \
         (SELECT 1 FROM images i WHERE i.digest = p.digest)",
    ),
    (
        "images without an inventory",
        "SELECT count(*) FROM images i WHERE NOT EXISTS \
         (SELECT 1 FROM inventories v WHERE v.digest = i.digest AND v.inventory <> 'null')",
    ),
    (
        "findings with only one of resolved_at and resolved_reason",
        "SELECT count(*) FROM findings WHERE (resolved_at IS NULL) <> (resolved_reason IS NULL)",
    ),
    (
        "findings with an unknown resolved_reason",
        "SELECT count(*) FROM findings WHERE resolved_reason IS NOT NULL AND resolved_reason NOT IN \
         ('package-upgraded', 'package-removed', 'advisory-withdrawn', 'not-affected', \
          'suppressed', 'no-longer-matched')",
    ),
    (
        "package index rows whose package row is missing",
        "SELECT count(*) FROM package_index p WHERE p.package >= 0 AND NOT EXISTS \
         (SELECT 1 FROM packages q WHERE q.digest = p.digest AND q.seq = p.package)",
    ),
    (
        "package rows whose image is missing",
        "SELECT count(*) FROM packages p WHERE NOT EXISTS \
         (SELECT 1 FROM images i WHERE i.digest = p.digest)",
    ),
    (
        "images last scanned before first scanned",
        "SELECT count(*) FROM images WHERE last_scanned_at < first_scanned_at",
    ),
];

/// A stored vocabulary word (severity, ecosystem, database build time) read back into its type;
/// a value no customs writes is [`StoreError::Corrupt`].
pub(crate) fn word<T>(what: &'static str, text: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

/// A stored database build time: written as [`Timestamp`] text, or by older versions as
/// RFC 3339 without a fraction.
pub(crate) fn built_at(text: Option<String>) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| {
        Timestamp::parse_lenient(&t).map_err(|e| StoreError::Corrupt {
            what: "database build time",
            detail: e.to_string(),
        })
    })
    .transpose()
}

/// Checks shared by both backends before a record is written.
fn validate(record: &ScanRecord) -> Result<(), StoreError> {
    let invalid = |reason: &str| {
        Err(StoreError::InvalidRecord {
            digest: record.digest.clone(),
            reason: reason.to_owned(),
        })
    };
    if record.digest.is_empty() {
        return invalid("empty digest");
    }
    if record.tag.is_some() && record.repository.is_none() {
        return invalid("a tag needs a repository");
    }
    if record.inventory.is_null() {
        return invalid("the inventory is null");
    }
    if !record.context.is_object() {
        return invalid("the context is not a JSON object");
    }
    Ok(())
}

/// How [`Store::image`] reads a reference: a digest to try as is, then a tag.
struct Reference<'a> {
    digest: &'a str,
    tag: Option<(&'a str, &'a str)>,
}

fn parse_reference(reference: &str) -> Reference<'_> {
    if let Some((_, digest)) = reference.rsplit_once('@') {
        return Reference { digest, tag: None };
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    let tag = match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            &reference[last_slash + i + 1..],
        ),
        None => (reference, "latest"),
    };
    Reference {
        digest: reference,
        tag: Some(tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = parse_reference("reg:5000/app@sha256:ab");
        assert_eq!((r.digest, r.tag), ("sha256:ab", None));
        let r = parse_reference("reg:5000/app:1.2");
        assert_eq!(r.tag, Some(("reg:5000/app", "1.2")));
        let r = parse_reference("reg:5000/app");
        assert_eq!(r.tag, Some(("reg:5000/app", "latest")));
        assert!(matches!(
            open("http://x"),
            Err(StoreError::UnsupportedUrl { .. })
        ));
    }
}
