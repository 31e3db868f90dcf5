//! The SQLite backend: one file, WAL (readers never block the writer and a killed writer
//! leaves a rolled-back transaction), `foreign_keys` on, and every write one `BEGIN IMMEDIATE`
//! transaction so two processes queue for the write lock instead of failing on a lock upgrade.
//! `synchronous` stays at SQLite's default (FULL): a commit survives power loss too.
//!
//! What is SQLite's here: opening, the transaction discipline (a write still busy after the
//! busy timeout is retried from the start), the schema scripts, binding [`Param`]s and reading
//! columns (timestamps and JSON are text), lists as JSON arrays read by `json_each`, and the
//! engine's own integrity checks. The operations themselves are shared (`crate::sql`).

use std::time::Duration;

use rusqlite::types::{Null, ToSqlOutput};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::json;
use crate::sql::{Backend, Dialect, Param, Row, Sql};
use crate::{StoreError, Timestamp};

/// How long one statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a whole write transaction is retried when still busy after the timeout.
const BUSY_RETRIES: u32 = 20;
/// Prepared statements kept per connection: rusqlite's default (16) is fewer than the
/// statements one `put_scan` runs, and a miss prepares the statement again.
const STATEMENT_CACHE: usize = 64;

/// Schema migrations, in order; `MIGRATIONS[i]` brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE images (
    digest           TEXT PRIMARY KEY NOT NULL,
    repository       TEXT,
    inventory        TEXT NOT NULL CHECK (json_valid(inventory)),
    first_scanned_at TEXT NOT NULL,
    last_scanned_at  TEXT NOT NULL,
    db_built_at      TEXT
);
CREATE TABLE tags (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    repository TEXT NOT NULL,
    tag        TEXT NOT NULL,
    digest     TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    seen_at    TEXT NOT NULL
);
CREATE INDEX tags_by_name ON tags (repository, tag, id);
CREATE INDEX tags_by_digest ON tags (digest);
CREATE TABLE package_index (
    ecosystem TEXT NOT NULL,
    name      TEXT NOT NULL,
    digest    TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, digest)
) WITHOUT ROWID;
CREATE INDEX package_index_by_digest ON package_index (digest);
CREATE TABLE findings (
    digest          TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    finding_id      TEXT NOT NULL,
    package_name    TEXT NOT NULL,
    package_version TEXT NOT NULL,
    severity        TEXT NOT NULL,
    data            TEXT NOT NULL CHECK (json_valid(data)),
    first_seen      TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_reason TEXT CHECK (resolved_reason IN
        ('package-upgraded', 'advisory-withdrawn', 'not-affected', 'no-longer-matched')),
    last_changed    TEXT NOT NULL,
    PRIMARY KEY (digest, finding_id, package_name, package_version),
    CHECK ((resolved_at IS NULL) = (resolved_reason IS NULL))
);
CREATE INDEX findings_open ON findings (digest, severity) WHERE resolved_at IS NULL;
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    target       TEXT NOT NULL,
    payload      TEXT NOT NULL CHECK (json_valid(payload)),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;
",
    r"
CREATE TABLE inventories (
    digest    TEXT PRIMARY KEY NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    inventory TEXT NOT NULL CHECK (json_valid(inventory))
);
INSERT INTO inventories (digest, inventory) SELECT digest, inventory FROM images;
ALTER TABLE images DROP COLUMN inventory;
CREATE TABLE contexts (
    digest  TEXT PRIMARY KEY NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    context TEXT NOT NULL CHECK (json_valid(context))
);
CREATE TABLE findings_2 (
    digest          TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    finding_id      TEXT NOT NULL,
    package_name    TEXT NOT NULL,
    package_version TEXT NOT NULL,
    severity        TEXT NOT NULL,
    data            TEXT NOT NULL CHECK (json_valid(data)),
    first_seen      TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_reason TEXT CHECK (resolved_reason IN
        ('package-upgraded', 'package-removed', 'advisory-withdrawn', 'not-affected',
         'suppressed', 'no-longer-matched')),
    last_changed    TEXT NOT NULL,
    kev             INTEGER NOT NULL DEFAULT 0,
    data_hash       INTEGER,
    PRIMARY KEY (digest, finding_id, package_name, package_version),
    CHECK ((resolved_at IS NULL) = (resolved_reason IS NULL))
);
INSERT INTO findings_2 (digest, finding_id, package_name, package_version, severity, data,
    first_seen, resolved_at, resolved_reason, last_changed)
    SELECT digest, finding_id, package_name, package_version, severity, data, first_seen,
        resolved_at, resolved_reason, last_changed FROM findings;
DROP TABLE findings;
ALTER TABLE findings_2 RENAME TO findings;
CREATE INDEX findings_open ON findings (digest, severity) WHERE resolved_at IS NULL;
CREATE TABLE packages (
    digest TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (digest, seq)
) WITHOUT ROWID;
CREATE TABLE package_index_2 (
    ecosystem TEXT NOT NULL,
    name      TEXT NOT NULL,
    digest    TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    package   INTEGER NOT NULL,
    PRIMARY KEY (ecosystem, name, digest, package)
) WITHOUT ROWID;
INSERT INTO package_index_2 SELECT ecosystem, name, digest, -1 FROM package_index;
DROP TABLE package_index;
ALTER TABLE package_index_2 RENAME TO package_index;
CREATE INDEX package_index_by_digest ON package_index (digest);
",
    r"
CREATE TABLE signature_verdicts (
    digest     TEXT PRIMARY KEY NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    verdict    TEXT NOT NULL CHECK (json_valid(verdict)),
    checked_at TEXT NOT NULL
);
",
    r"
CREATE TABLE policy_verdicts (
    digest    TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    policy    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    verdict   TEXT NOT NULL CHECK (json_valid(verdict)),
    judged_at TEXT NOT NULL,
    PRIMARY KEY (digest, policy)
);
CREATE TABLE exception_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    policy        TEXT NOT NULL,
    exception_key TEXT NOT NULL,
    change        TEXT NOT NULL CHECK (change IN ('added', 'changed', 'removed')),
    exception     TEXT NOT NULL CHECK (json_valid(exception)),
    by_user       TEXT NOT NULL,
    at            TEXT NOT NULL
);
CREATE INDEX exception_events_by_policy ON exception_events (policy, exception_key, id);
",
    r"
CREATE TABLE image_layers (
    digest  TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    diff_id TEXT NOT NULL,
    PRIMARY KEY (digest, idx)
) WITHOUT ROWID;
CREATE INDEX image_layers_by_diff_id ON image_layers (diff_id, idx);
INSERT INTO image_layers (digest, idx, diff_id)
    SELECT i.digest, CAST(l.key AS INTEGER), json_extract(l.value, '$.diff_id')
    FROM inventories i, json_each(i.inventory, '$.image.layers') l
    WHERE json_extract(l.value, '$.diff_id') IS NOT NULL;
",
    r"
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    job_key      TEXT NOT NULL,
    payload      TEXT NOT NULL CHECK (json_valid(payload)),
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at       TEXT NOT NULL,
    lease_until  TEXT,
    worker       TEXT,
    last_error   TEXT,
    result       TEXT CHECK (result IS NULL OR json_valid(result)),
    created_at   TEXT NOT NULL,
    finished_at  TEXT,
    CHECK ((state = 'running') = (lease_until IS NOT NULL))
);
CREATE UNIQUE INDEX jobs_live_key ON jobs (kind, job_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_ready ON jobs (state, run_at, id);
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'scan', 'admin')),
    hash         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE TABLE layer_facts (
    set_version TEXT NOT NULL,
    diff_id     TEXT NOT NULL,
    facts       TEXT NOT NULL,
    stored_at   TEXT NOT NULL,
    PRIMARY KEY (set_version, diff_id)
);
CREATE TABLE layer_claims (
    set_version TEXT NOT NULL,
    diff_id     TEXT NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (set_version, diff_id)
);
",
];

/// A store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

fn err(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// The most of the store file read through a memory map (SQLite maps no more than the file).
const MMAP_SIZE: u64 = 1 << 30;

impl SqliteStore {
    /// Open or create the store at `path`, and migrate it.
    ///
    /// # Errors
    /// SQLite failures, or [`StoreError::SchemaTooNew`].
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let e = err(path);
        let conn = Connection::open(path).map_err(&e)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Returns the mode in effect; a file system without shared memory keeps the rollback
        // journal, which is still transactional, only without concurrent readers.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(&e)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(&e)?;
        // Pages read through a memory map, not a read() each into SQLite's small page cache: a
        // rematch looks up tens of thousands of package rows spread over the whole file.
        conn.execute_batch(&format!("PRAGMA mmap_size = {MMAP_SIZE}"))
            .map_err(&e)?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        crate::schema::migrate(&mut store)?;
        Ok(store)
    }
}

impl Backend for SqliteStore {
    const BOOKKEEPING: &'static str = "CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INTEGER PRIMARY KEY NOT NULL,
        applied_at TEXT NOT NULL)";

    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;

    /// One `BEGIN IMMEDIATE` transaction; retried from the start while another connection
    /// holds the lock longer than the busy timeout. A panic in `f` drops the transaction,
    /// which rolls back.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let e = err(&self.path);
        let mut attempt = 0;
        loop {
            let result = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&e)
                .and_then(|tx| {
                    let value = f(&mut Tx {
                        conn: &tx,
                        path: &self.path,
                    })?;
                    tx.commit().map_err(&e)?;
                    Ok(value)
                });
            match result {
                Err(error) if error.is_busy() && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10 * u64::from(attempt)));
                }
                other => return other,
            }
        }
    }

    /// One deferred transaction: WAL gives it one snapshot from its first read.
    fn read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let e = err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        let value = f(&mut Tx {
            conn: &tx,
            path: &self.path,
        })?;
        tx.commit().map_err(&e)?;
        Ok(value)
    }

    fn engine_check(tx: &mut dyn Sql) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        tx.query("PRAGMA integrity_check", &[], &mut |r| {
            let line = r.text(0)?;
            if line != "ok" {
                problems.push(format!("integrity_check: {line}"));
            }
            Ok(())
        })?;
        tx.query("PRAGMA foreign_key_check", &[], &mut |r| {
            let (table, rowid) = (r.text(0)?, r.opt_i64(1)?);
            problems.push(format!("foreign key broken in {table} row {rowid:?}"));
            Ok(())
        })?;
        Ok(problems)
    }
}

/// The connection inside a transaction. Every statement goes through the connection's cache
/// of prepared statements.
struct Tx<'a> {
    conn: &'a Connection,
    path: &'a str,
}

impl Dialect for Tx<'_> {
    fn in_texts(&self, expr: &str, param: usize) -> String {
        format!("{expr} IN (SELECT value FROM json_each(?{param}))")
    }

    /// Nothing: `BEGIN IMMEDIATE` already lets one writer in at a time.
    fn skip_locked(&self) -> &'static str {
        ""
    }

    fn json_without(&self, column: &str, key: &str) -> String {
        format!("json_remove({column}, '$.{key}')")
    }
}

impl Sql for Tx<'_> {
    fn batch(&mut self, script: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(script).map_err(err(self.path))
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let e = err(self.path);
        let mut stmt = self.conn.prepare_cached(sql).map_err(&e)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(&e)?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let e = err(self.path);
        let mut stmt = self.conn.prepare_cached(sql).map_err(&e)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(&e)?;
        while let Some(row) = rows.next().map_err(&e)? {
            each(&SqliteRow {
                row,
                path: self.path,
            })?;
        }
        Ok(())
    }

    /// A prepared `INSERT` run per row: in-process, a statement costs no round trip.
    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        values: &[Param<'_>],
    ) -> Result<(), StoreError> {
        if values.is_empty() {
            return Ok(());
        }
        let e = err(self.path);
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
        for row in values.chunks(columns.len()) {
            stmt.execute(rusqlite::params_from_iter(row)).map_err(&e)?;
        }
        Ok(())
    }

    /// A prepared `UPDATE` run per row, as [`insert_many`](Sql::insert_many).
    fn update_many(
        &mut self,
        table: &str,
        keys: &[&str],
        columns: &[&str],
        also: &str,
        values: &[Param<'_>],
    ) -> Result<(), StoreError> {
        if values.is_empty() {
            return Ok(());
        }
        let e = err(self.path);
        let set: Vec<String> = (keys.len() + 1..)
            .zip(columns)
            .map(|(i, c)| format!("{c} = ?{i}"))
            .chain((!also.is_empty()).then(|| also.to_owned()))
            .collect();
        let on: Vec<String> = (1..)
            .zip(keys)
            .map(|(i, k)| format!("{k} = ?{i}"))
            .collect();
        let sql = format!(
            "UPDATE {table} SET {} WHERE {}",
            set.join(", "),
            on.join(" AND ")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
        for row in values.chunks(keys.len() + columns.len()) {
            stmt.execute(rusqlite::params_from_iter(row)).map_err(&e)?;
        }
        Ok(())
    }
}

/// Timestamps are stored as [`Timestamp`] text, JSON as text, lists as JSON arrays.
impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Param::I64(n) => ToSqlOutput::from(n),
            Param::Bool(b) => ToSqlOutput::from(b),
            Param::Text(text) | Param::OptText(Some(text)) => ToSqlOutput::from(text),
            Param::OptText(None) => ToSqlOutput::from(Null),
            Param::Json(document) => ToSqlOutput::from(document.to_string()),
            Param::Time(t) => ToSqlOutput::from(t.to_string()),
            Param::Texts(list) => ToSqlOutput::from(
                serde_json::to_string(list)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            ),
        })
    }
}

struct SqliteRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    path: &'a str,
}

impl SqliteRow<'_, '_> {
    /// A text column, borrowed: JSON and timestamps are parsed from it without a copy.
    fn str(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.row
            .get_ref(i)
            .and_then(|v| {
                v.as_str_or_null().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), e.into())
                })
            })
            .map_err(err(self.path))
    }

    fn required(&self, i: usize) -> Result<&str, StoreError> {
        self.str(i)?.ok_or_else(|| {
            err(self.path)(rusqlite::Error::InvalidColumnType(
                i,
                String::new(),
                rusqlite::types::Type::Null,
            ))
        })
    }
}

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    text.parse()
        .map_err(|e: crate::TimestampError| StoreError::Corrupt {
            what: "timestamp",
            detail: e.to_string(),
        })
}

impl Row for SqliteRow<'_, '_> {
    fn i64(&self, i: usize) -> Result<i64, StoreError> {
        self.row.get(i).map_err(err(self.path))
    }

    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.row.get(i).map_err(err(self.path))
    }

    fn bool(&self, i: usize) -> Result<bool, StoreError> {
        self.row.get(i).map_err(err(self.path))
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.row.get(i).map_err(err(self.path))
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.row.get(i).map_err(err(self.path))
    }

    fn json(&self, i: usize, what: &'static str) -> Result<serde_json::Value, StoreError> {
        json(self.required(i)?, what)
    }

    fn opt_json(
        &self,
        i: usize,
        what: &'static str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.str(i)?.map(|text| json(text, what)).transpose()
    }

    fn time(&self, i: usize) -> Result<Timestamp, StoreError> {
        ts(self.required(i)?)
    }

    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>, StoreError> {
        self.str(i)?.map(ts).transpose()
    }
}
