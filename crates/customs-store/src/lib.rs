//! The scan store: what `customs scan --store`, `images`, `history`, `rematch` and `diff` read
//! and write.
//!
//! What is stored (see the crate README for the tables): images by manifest digest with their
//! inventory; the history of tag → digest; a package → images index; each image's findings
//! with first seen, resolved at and why; and an outbox of notifications not yet delivered.
//! Inventories and findings are JSON documents owned by other crates; the store reads only the
//! keys it is given ([`ScanRecord::packages`], [`FindingRecord`]).
//!
//! The operations, one trait per concern, all of them a [`Store`]:
//! - [`Scans`]: images, tags, inventories and package rows — `put_scan`, `apply_rematches`,
//!   `rematch_inputs`, `images`, `image`, `tag_history`, `images_with_package`;
//! - [`Findings`]: an image's findings timeline — `history`;
//! - [`Outbox`]: notifications — `enqueue`, `pending`, `mark_delivered`, `mark_failed`;
//! - [`Store`] itself: `schema_version` and `check`.
//!
//! Two backends, the same schema, the same operations and the same tests:
//! - SQLite ([`SqliteStore`]): one file, WAL mode, a busy timeout, every write one
//!   `BEGIN IMMEDIATE` transaction (retried while another writer holds the lock).
//! - PostgreSQL ([`PgStore`]): the blocking `postgres` client, every write one transaction
//!   that first takes a per-schema advisory lock, so writers are serialised as in SQLite.
//!
//! [`open`] picks the backend from a URL. Opening migrates the schema (`schema_migrations`,
//! versions applied in order in one transaction) and refuses a store whose schema is newer
//! than [`SCHEMA_VERSION`].
//!
//! # Where things are
//! Every operation is written once, over a small abstraction of the database; a backend only
//! says how to run it.
//!
//! - `sql.rs`, the abstraction: `Backend` (a write transaction, a read transaction, the
//!   migration scripts, the engine's own check), `Sql` (execute, query, `insert_many` and
//!   `update_many` inside a transaction), `Param` (typed parameters), `Row` (typed columns),
//!   `Dialect` (the fragments the two dialects spell differently).
//! - `scans.rs`: [`Scans`] for every backend — image, tag and package rows, rematch batches,
//!   the reads.
//! - `findings.rs`: the findings rows (load, write a reconciliation, carry first-seen times)
//!   and [`Findings`].
//! - `outbox.rs`: [`Outbox`].
//! - `schema.rs`: the migrations runner, [`Store::schema_version`], [`Store::check`].
//! - `reconcile.rs`: the decisions, as pure functions — what a scan's findings change, what a
//!   tag move resolves.
//! - `sqlite.rs`: opening, `BEGIN IMMEDIATE` and busy retries, the schema scripts, timestamps
//!   and JSON as text, lists as JSON arrays read with `json_each`, `insert_many` and
//!   `update_many` as a prepared statement run per row, reads through a memory map, the `PRAGMA`
//!   checks.
//! - `pg.rs`: connecting, the advisory write lock, the schema scripts (`timestamptz`,
//!   `bigserial`), `?N` → `$N` and a cache of prepared statements, lists as `= ANY(array)`,
//!   `insert_many` as one `INSERT … SELECT FROM unnest(…)` and `update_many` as one
//!   `UPDATE … FROM unnest(…)`, rows streamed from the server as they come.
//! - `model.rs` and `error.rs`: what goes in and comes out, and [`StoreError`].
//!
//! # Adding an operation
//! Declare it on the trait of its concern, or on a new trait added to `Store`'s supertraits
//! (a job queue would be `Jobs`), and write it once, in that concern's module, as
//! `impl<B: Backend> Jobs for B`: `self.write(|tx| …)` for a write (one transaction, writers
//! serialised, retried from the start on SQLite while busy) or `self.read(|tx| …)` for a read,
//! with SQL both dialects accept, `?N` placeholders and typed `Param`s, and rows read with the
//! typed getters of `Row`. A backend gets code only where the dialects really differ: a method
//! on `Dialect` implemented in `sqlite.rs` and `pg.rs` (a job queue's claim would add one
//! giving `FOR UPDATE SKIP LOCKED` on PostgreSQL and nothing on SQLite, where
//! `BEGIN IMMEDIATE` already lets one writer in at a time), or a primitive on `Sql` when the
//! fast way to run something differs, as `insert_many` does. (If claims must not wait behind
//! the store's write lock, that is a third kind of transaction on `Backend`, next to `write`
//! and `read`.) New tables go in a new script at the end of each backend's `MIGRATIONS`, with
//! [`SCHEMA_VERSION`] bumped; a test in `tests/it` under `both!` runs the operation on both
//! backends. Callers through `dyn Store` (what [`open`] returns) or a `Store` bound need no
//! new imports: supertrait methods come with them; calls on a concrete [`SqliteStore`] or
//! [`PgStore`] import the trait.
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
#![warn(missing_docs)]

mod error;
mod findings;
mod gates;
mod jobs;
mod model;
mod outbox;
mod pg;
mod reconcile;
mod scans;
mod schema;
mod sql;
mod sqlite;

pub use customs_types::{Ecosystem, Severity, Timestamp, TimestampError};
pub use error::StoreError;
pub use model::{
    Delta, Enqueued, ExceptionEvent, FindingHistory, FindingId, FindingRecord, ImageDetail,
    ImageSummary, IndexedPackage, Job, JobState, Lease, NewJob, OutboxEntry, PackageKey,
    QueueCounts, RematchInput, RematchRecord, Resolutions, ResolvedReason, ScanRecord, StoredBase,
    StoredPolicyVerdict, StoredVerdict, TagEvent, TokenRecord, UnknownReason, WriteStage,
};
pub use pg::PgStore;
pub use sqlite::SqliteStore;

use std::collections::BTreeSet;

use serde_json::Value;

/// The schema version this code writes; [`open`] migrates older stores up to it.
pub const SCHEMA_VERSION: i64 = 6;

/// The migration scripts of a backend (`MIGRATIONS[i]` brings the schema to version `i + 1`),
/// for tests that build a store as an older version left it.
#[doc(hidden)]
#[must_use]
pub fn migration_scripts(postgres: bool) -> &'static [&'static str] {
    if postgres {
        <PgStore as sql::Backend>::MIGRATIONS
    } else {
        <SqliteStore as sql::Backend>::MIGRATIONS
    }
}

/// Open (creating and migrating if needed) the store at `url`:
/// - `postgres://…` or `postgresql://…`: PostgreSQL (libpq-style URL; e.g.
///   `?options=-csearch_path%3Dcustoms` to keep the tables in a schema);
/// - `sqlite:PATH`, `sqlite://PATH`, or a plain path: a SQLite file.
///
/// PostgreSQL connections use TLS as libpq would: `sslmode=disable|allow|prefer|require|
/// verify-ca|verify-full` (default `prefer`; `require` does not check the certificate) and
/// `sslrootcert=PATH` (CA certificates trusted besides the system roots) in the URL;
/// [`open_with`] adds CA files from outside the URL. Details: `docs/store.md`.
///
/// # Errors
/// An unknown URL scheme, a connection or migration failure, or
/// [`StoreError::SchemaTooNew`].
pub fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    open_with(url, &StoreOptions::default())
}

/// How to open a store, beyond its URL: see [`open_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// PEM files of CA certificates trusted for the PostgreSQL server's certificate, besides
    /// the system roots and `sslrootcert` in the URL (the CLI's `--ca-cert`). Given with
    /// `sslmode` `require`, `prefer` or `allow`, they make them check the chain, as
    /// `verify-ca` does (libpq does the same with its root file). SQLite ignores them.
    pub ca_certs: Vec<std::path::PathBuf>,
}

/// [`open`] with [`StoreOptions`].
///
/// # Errors
/// As [`open`]; and [`StoreError::PostgresSettings`] (an unknown `sslmode`, an unreadable CA
/// file) or [`StoreError::PostgresTls`] (the server's certificate is not trusted or does not
/// name the host, the server has no TLS where it is required).
pub fn open_with(url: &str, options: &StoreOptions) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PgStore::connect_with(url, options)?));
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

/// Images and their scans: storing a scan, applying a rematch, and reading images, their
/// inventories, tags and packages (`scans.rs`).
///
/// Every write is one transaction: it is all there after it returns `Ok`, and none of it is
/// there otherwise (error, panic, or a killed process). Methods take `&mut self` because a
/// PostgreSQL client needs it; open one store per thread.
pub trait Scans {
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

    /// [`put_scan`](Scans::put_scan), calling `on_stage` at each [`WriteStage`] inside the
    /// transaction. For crash tests: a panic (or a kill) there must leave nothing behind.
    ///
    /// # Errors
    /// As [`put_scan`](Scans::put_scan).
    fn put_scan_with(
        &mut self,
        record: &ScanRecord,
        on_stage: &mut dyn FnMut(WriteStage),
    ) -> Result<Delta, StoreError>;

    /// Reconcile stored images' findings with a rematch of their stored packages, as
    /// [`put_scan`](Scans::put_scan) does, without touching inventories or tags, all in one
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

    /// Every stored image, most recently scanned first.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn images(&mut self) -> Result<Vec<ImageSummary>, StoreError>;

    /// A page of [`images`](Scans::images): `limit` images after the first `offset`, and
    /// how many are stored in all. Reads only that page's rows.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn images_page(
        &mut self,
        offset: u64,
        limit: u32,
    ) -> Result<(u64, Vec<ImageSummary>), StoreError>;

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

    /// The image `digest` (whose layer diff_ids, bottom first, are `chain`) is built on: the
    /// stored image, other than itself, whose whole layer chain is the longest proper prefix
    /// of `chain`. `None` when no stored image is.
    ///
    /// # Errors
    /// A database failure.
    fn base_of(&mut self, digest: &str, chain: &[String])
    -> Result<Option<StoredBase>, StoreError>;
}

/// The diff_ids of an inventory's layers, bottom first; empty when it has no image or a layer
/// without one (a chain with a gap cannot be compared).
#[must_use]
pub fn layer_chain(inventory: &Value) -> Vec<String> {
    let Some(layers) = inventory.pointer("/image/layers").and_then(Value::as_array) else {
        return Vec::new();
    };
    layers
        .iter()
        .map(|l| l.get("diff_id").and_then(Value::as_str).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default()
}

/// The findings history of an image (`findings.rs`; the findings themselves are written by
/// [`Scans`]).
pub trait Findings {
    /// The finding timeline of one image, ordered by first seen, then id, package, version.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn history(&mut self, digest: &str) -> Result<Vec<FindingHistory>, StoreError>;
}

/// The outbox of notifications not yet delivered (`outbox.rs`).
pub trait Outbox {
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

    /// Record a successful delivery; the entry leaves [`pending`](Outbox::pending).
    ///
    /// # Errors
    /// [`StoreError::UnknownOutboxEntry`], or a database failure.
    fn mark_delivered(&mut self, id: i64) -> Result<(), StoreError>;

    /// Record a failed delivery attempt: one more attempt, and the error.
    ///
    /// # Errors
    /// [`StoreError::UnknownOutboxEntry`], or a database failure.
    fn mark_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError>;
}

/// The gate's records (`gates.rs`): verdicts under policies, and the history of exceptions.
pub trait Gates {
    /// Keep `verdict` (with its `outcome`) as the image's latest under `policy`; returns the
    /// one it replaces.
    ///
    /// # Errors
    /// [`StoreError::UnknownImage`], or a database failure.
    fn put_policy_verdict(
        &mut self,
        digest: &str,
        policy: &str,
        outcome: &str,
        verdict: &Value,
        at: Timestamp,
    ) -> Result<Option<StoredPolicyVerdict>, StoreError>;

    /// The image's latest verdict under each policy, by policy.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn policy_verdicts(&mut self, digest: &str) -> Result<Vec<StoredPolicyVerdict>, StoreError>;

    /// Record how `policy`'s exceptions changed since the store last saw them: `current`
    /// holds each one by its key (what it covers) with its record; a key not seen before (or
    /// removed since) is `added`, one whose record differs is `changed`, and one no longer in
    /// `current` is `removed`. Each change is a new event by `by` at `at`, never an update:
    /// the history is kept whole. Returns the new events.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn sync_exceptions(
        &mut self,
        policy: &str,
        current: &[(String, Value)],
        by: &str,
        at: Timestamp,
    ) -> Result<Vec<ExceptionEvent>, StoreError>;

    /// Every exception event, of one policy or of all, oldest first.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn exception_events(&mut self, policy: Option<&str>)
    -> Result<Vec<ExceptionEvent>, StoreError>;
}

/// The job queue (`jobs.rs`): scan, rematch and notify jobs, claimed by workers with a lease.
///
/// A job runs at least once and its effects are stored at most once: a worker that dies
/// loses its lease and the job runs again elsewhere, and every change a worker makes is
/// fenced by its lease ([`StoreError::LeaseLost`] once another worker holds the job).
pub trait Jobs {
    /// Queue a job, unless one with the same kind and key is queued or running: then that
    /// one's id, with `created: false`.
    ///
    /// # Errors
    /// A database failure.
    fn enqueue_job(&mut self, job: &NewJob<'_>) -> Result<Enqueued, StoreError>;

    /// Take the oldest job that is ready (queued with `run_at` come, or running with its
    /// lease ended), for `lease`; `None` when there is none. Concurrent claimers never take
    /// the same job. A job whose lease ended on its last attempt becomes dead instead.
    ///
    /// # Errors
    /// A database failure.
    fn claim(
        &mut self,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<Option<Lease>, StoreError>;

    /// Extend a held lease to `by` from now (a heartbeat); returns its new end.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`], or a database failure.
    fn extend(&mut self, lease: &Lease, by: std::time::Duration) -> Result<Timestamp, StoreError>;

    /// Mark a held job done with `result`.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`], or a database failure.
    fn complete(&mut self, lease: &Lease, result: &Value) -> Result<(), StoreError>;

    /// Store `record` as [`Scans::put_scan`] does and mark the held job done, in one
    /// transaction: both or neither.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] (and nothing is stored), an invalid record, or a database
    /// failure.
    fn complete_scan(
        &mut self,
        lease: &Lease,
        record: &ScanRecord,
        result: &Value,
    ) -> Result<Delta, StoreError>;

    /// Record a failed attempt: queued again at `retry_at`, or dead when `retry_at` is `None`
    /// or this was its last attempt. Returns the state it is now in.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`], or a database failure.
    fn fail(
        &mut self,
        lease: &Lease,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<JobState, StoreError>;

    /// Give a held job back unfinished (a worker shutting down): queued again at once, the
    /// attempt not counted.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`], or a database failure.
    fn release(&mut self, lease: &Lease) -> Result<(), StoreError>;

    /// One job by id.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn job(&mut self, id: i64) -> Result<Option<Job>, StoreError>;

    /// Jobs, newest first: of one state or all, with ids below `before` (the page cursor),
    /// at most `limit`.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn jobs(
        &mut self,
        state: Option<JobState>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// How many jobs are in each state.
    ///
    /// # Errors
    /// A database failure.
    fn queue_counts(&mut self) -> Result<QueueCounts, StoreError>;
}

/// The API's bearer tokens (`jobs.rs`), kept by name with their scope and a hash of the
/// token; the token itself is never stored.
pub trait Tokens {
    /// Keep a new token's hash under `name` with `scope` (`read`, `scan` or `admin`).
    ///
    /// # Errors
    /// [`StoreError::TokenNameTaken`], or a database failure.
    fn create_token(
        &mut self,
        name: &str,
        scope: &str,
        hash: &str,
        at: Timestamp,
    ) -> Result<TokenRecord, StoreError>;

    /// The token with this hash, revoked or not.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Revoke the token named `name`; `false` if there is none that is not revoked.
    ///
    /// # Errors
    /// A database failure.
    fn revoke_token(&mut self, name: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Every token, oldest first.
    ///
    /// # Errors
    /// A database failure or a corrupt stored value.
    fn tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError>;
}

/// What a layer yields, shared by a fleet of workers (`jobs.rs`): facts by analyzer set and
/// diff_id, and claims that let one worker read a layer while the others wait for its facts.
pub trait Layers {
    /// The facts kept for a layer (the layer cache's JSON).
    ///
    /// # Errors
    /// A database failure.
    fn layer_facts(&mut self, set: &str, diff_id: &str) -> Result<Option<String>, StoreError>;

    /// Keep a layer's facts, and drop any claim on it.
    ///
    /// # Errors
    /// A database failure.
    fn put_layer_facts(&mut self, set: &str, diff_id: &str, facts: &str) -> Result<(), StoreError>;

    /// Claim a layer for `holder` until `ttl` from now; `false` when another holder's claim
    /// has not expired. (A claim of a worker that died expires.)
    ///
    /// # Errors
    /// A database failure.
    fn claim_layer(
        &mut self,
        set: &str,
        diff_id: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError>;

    /// Drop `holder`'s claim on a layer.
    ///
    /// # Errors
    /// A database failure.
    fn release_layer(&mut self, set: &str, diff_id: &str, holder: &str) -> Result<(), StoreError>;
}

/// A whole store, as [`open`] returns it: every concern, and the schema (`schema.rs`).
pub trait Store: Scans + Findings + Outbox + Gates + Jobs + Tokens + Layers + Send {
    /// The schema version of the open store (always [`SCHEMA_VERSION`] after [`open`]).
    ///
    /// # Errors
    /// A database failure.
    fn schema_version(&mut self) -> Result<i64, StoreError>;

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
        "policy verdicts whose image is missing",
        "SELECT count(*) FROM policy_verdicts v WHERE NOT EXISTS \
         (SELECT 1 FROM images i WHERE i.digest = v.digest)",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(matches!(
            open("http://x"),
            Err(StoreError::UnsupportedUrl { .. })
        ));
    }
}
