//! The PostgreSQL backend.
//!
//! Why the blocking `postgres` crate and not `sqlx` (which DEPENDENCIES.md lists): customs is
//! a blocking codebase (its registry client, analyzers and matcher are synchronous and use
//! threads), and `sqlx` is async-only — using it here would mean building a tokio runtime
//! inside the store and `block_on` around every call, plus a second SQLite driver in the graph
//! unless its features are pinned carefully. rust-postgres' `postgres` crate is that same
//! wrapper done once by its authors (a private current-thread runtime per client), so the
//! store stays a plain synchronous type and the public API has no runtime in it.
//!
//! Connections honour libpq's `sslmode` (`disable`, `allow`, `prefer` — the default —,
//! `require`, `verify-ca`, `verify-full`) and `sslrootcert`, over rustls on aws-lc-rs; the
//! server's certificate is checked against the system roots plus the given CA files.
//! `require` encrypts without authenticating the server (as libpq's does) unless a root
//! certificate is given. The details are in `pg/tls.rs`.
//!
//! Every write is one transaction that first takes a transaction-scoped advisory lock keyed
//! by the current schema, so writers queue one behind another as they do on SQLite and the
//! read-then-write findings reconciliation cannot race (READ COMMITTED is then enough).
//!
//! What is PostgreSQL's here: connecting (with JIT compilation off and random page reads
//! costed for today's disks, see [`SESSION`]), that transaction
//! discipline (and REPEATABLE READ read-only transactions for reads), the schema scripts,
//! binding [`Param`]s (timestamps as `timestamptz`, lists as arrays) and reading columns,
//! `= ANY(array)` for list parameters, [`Sql::insert_many`] as one
//! `INSERT … SELECT FROM unnest(…)` and [`Sql::update_many`] as one `UPDATE … FROM unnest(…)`.
//! Rows are handed on as they arrive, never collected first (a full rematch reads every
//! package row of the store). The operations themselves are shared (`crate::sql`). Statements
//! are prepared once per connection and kept: a statement then costs one round trip, not two.

use std::collections::HashMap;
use std::time::SystemTime;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, Statement, Transaction};
use serde_json::Value;

use crate::error::json;
use crate::sql::{Backend, Dialect, Param, Row, Sql};
use crate::{StoreError, StoreOptions, Timestamp};

mod tls;

/// Run once per connection: the planner settings of the store's sessions.
///
/// JIT compilation off. The store's statements are key look-ups and batches of a few thousand
/// rows, short enough that compiling them costs more than it saves; but lists of names or
/// digests make the planner's cost estimates pass the JIT threshold, and a prepared statement
/// is compiled again at each execution (a keyed rematch spent a tenth of a second a query on
/// it). Through `pg_settings`, so that a server without the setting (before PostgreSQL 11) is
/// left alone.
///
/// A random page read costed at 1.1 sequential ones, not 4: the default assumes spinning disks.
/// With it, a rematch batch's look-ups of 256 images' findings (`digest = ANY(…)`) scanned the
/// whole findings table, 14 ms a batch against 3 ms by the primary key (`EXPLAIN ANALYZE`, a
/// store of 10,000 images).
const SESSION: &str = "SELECT set_config(name, 'off', false) FROM pg_settings WHERE name = 'jit';
    SET random_page_cost = 1.1";

/// Taken at the start of every write transaction (and the migration), released at its end.
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('customs-store:' || current_schema()))";

/// Schema migrations, in order; `MIGRATIONS[i]` brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE images (
    digest           TEXT PRIMARY KEY,
    repository       TEXT,
    inventory        TEXT NOT NULL CHECK (inventory::json IS NOT NULL),
    first_scanned_at TIMESTAMPTZ NOT NULL,
    last_scanned_at  TIMESTAMPTZ NOT NULL,
    db_built_at      TEXT
);
CREATE TABLE tags (
    id         BIGSERIAL PRIMARY KEY,
    repository TEXT NOT NULL,
    tag        TEXT NOT NULL,
    digest     TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    seen_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX tags_by_name ON tags (repository, tag, id);
CREATE INDEX tags_by_digest ON tags (digest);
CREATE TABLE package_index (
    ecosystem TEXT NOT NULL,
    name      TEXT NOT NULL,
    digest    TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, digest)
);
CREATE INDEX package_index_by_digest ON package_index (digest);
CREATE TABLE findings (
    digest          TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    finding_id      TEXT NOT NULL,
    package_name    TEXT NOT NULL,
    package_version TEXT NOT NULL,
    severity        TEXT NOT NULL,
    data            TEXT NOT NULL CHECK (data::json IS NOT NULL),
    first_seen      TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    resolved_reason TEXT CHECK (resolved_reason IN
        ('package-upgraded', 'advisory-withdrawn', 'not-affected', 'no-longer-matched')),
    last_changed    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (digest, finding_id, package_name, package_version),
    CHECK ((resolved_at IS NULL) = (resolved_reason IS NULL))
);
CREATE INDEX findings_open ON findings (digest, severity) WHERE resolved_at IS NULL;
CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    target       TEXT NOT NULL,
    payload      TEXT NOT NULL CHECK (payload::json IS NOT NULL),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;
",
    r"
CREATE TABLE inventories (
    digest    TEXT PRIMARY KEY REFERENCES images (digest) ON DELETE CASCADE,
    inventory TEXT NOT NULL CHECK (inventory::json IS NOT NULL)
);
INSERT INTO inventories (digest, inventory) SELECT digest, inventory FROM images;
ALTER TABLE images DROP COLUMN inventory;
CREATE TABLE contexts (
    digest  TEXT PRIMARY KEY REFERENCES images (digest) ON DELETE CASCADE,
    context TEXT NOT NULL CHECK (context::json IS NOT NULL)
);
ALTER TABLE findings ADD COLUMN kev BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE findings ADD COLUMN data_hash BIGINT;
ALTER TABLE findings DROP CONSTRAINT findings_resolved_reason_check;
ALTER TABLE findings ADD CONSTRAINT findings_resolved_reason_check CHECK (resolved_reason IN
    ('package-upgraded', 'package-removed', 'advisory-withdrawn', 'not-affected', 'suppressed',
     'no-longer-matched'));
CREATE TABLE packages (
    digest TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (digest, seq)
);
ALTER TABLE package_index ADD COLUMN package BIGINT NOT NULL DEFAULT -1;
ALTER TABLE package_index DROP CONSTRAINT package_index_pkey;
ALTER TABLE package_index ADD PRIMARY KEY (ecosystem, name, digest, package);
ALTER TABLE package_index ALTER COLUMN package DROP DEFAULT;
",
    r"
CREATE TABLE signature_verdicts (
    digest     TEXT PRIMARY KEY REFERENCES images (digest) ON DELETE CASCADE,
    verdict    TEXT NOT NULL CHECK (verdict::json IS NOT NULL),
    checked_at TEXT NOT NULL
);
",
    r"
CREATE TABLE policy_verdicts (
    digest    TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    policy    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    verdict   TEXT NOT NULL CHECK (verdict::json IS NOT NULL),
    judged_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (digest, policy)
);
CREATE TABLE exception_events (
    id            BIGSERIAL PRIMARY KEY,
    policy        TEXT NOT NULL,
    exception_key TEXT NOT NULL,
    change        TEXT NOT NULL CHECK (change IN ('added', 'changed', 'removed')),
    exception     TEXT NOT NULL CHECK (exception::json IS NOT NULL),
    by_user       TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX exception_events_by_policy ON exception_events (policy, exception_key, id);
",
    r"
CREATE TABLE image_layers (
    digest  TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    idx     BIGINT NOT NULL,
    diff_id TEXT NOT NULL,
    PRIMARY KEY (digest, idx)
);
CREATE INDEX image_layers_by_diff_id ON image_layers (diff_id, idx);
INSERT INTO image_layers (digest, idx, diff_id)
    SELECT i.digest, l.n - 1, l.v ->> 'diff_id'
    FROM inventories i,
        jsonb_array_elements(coalesce(i.inventory::jsonb -> 'image' -> 'layers', '[]'::jsonb))
            WITH ORDINALITY AS l(v, n)
    WHERE l.v ->> 'diff_id' IS NOT NULL;
",
    r"
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    job_key      TEXT NOT NULL,
    payload      TEXT NOT NULL CHECK (payload::json IS NOT NULL),
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at       TIMESTAMPTZ NOT NULL,
    lease_until  TIMESTAMPTZ,
    worker       TEXT,
    last_error   TEXT,
    result       TEXT CHECK (result IS NULL OR result::json IS NOT NULL),
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    CHECK ((state = 'running') = (lease_until IS NOT NULL))
);
CREATE UNIQUE INDEX jobs_live_key ON jobs (kind, job_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_ready ON jobs (state, run_at, id);
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'scan', 'admin')),
    hash         TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE TABLE layer_facts (
    set_version TEXT NOT NULL,
    diff_id     TEXT NOT NULL,
    facts       TEXT NOT NULL,
    stored_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (set_version, diff_id)
);
CREATE TABLE layer_claims (
    set_version TEXT NOT NULL,
    diff_id     TEXT NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (set_version, diff_id)
);
",
];

/// A store in a PostgreSQL database (in the first schema of the connection's `search_path`).
pub struct PgStore {
    client: Client,
    /// Prepared statements by their SQL as the shared code writes it (`?N` placeholders).
    statements: HashMap<String, Statement>,
}

fn pg(source: postgres::Error) -> StoreError {
    StoreError::Postgres { source }
}

impl PgStore {
    /// Connect to `url` (libpq URL or key=value string), with TLS as its `sslmode` and
    /// `sslrootcert` say, and migrate.
    ///
    /// # Errors
    /// As [`connect_with`](Self::connect_with).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &StoreOptions::default())
    }

    /// [`connect`](Self::connect), trusting also the CA certificates of
    /// [`StoreOptions::ca_certs`] for the server's certificate.
    ///
    /// # Errors
    /// [`StoreError::PostgresSettings`] (an unknown `sslmode`, an unreadable CA file),
    /// [`StoreError::PostgresTls`] (an untrusted certificate, a host name it does not carry, a
    /// server without TLS where TLS is required), other connection or migration failures, or
    /// [`StoreError::SchemaTooNew`].
    pub fn connect_with(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let mut client = tls::connect(url, &options.ca_certs)?;
        client.batch_execute(SESSION).map_err(pg)?;
        let mut store = Self {
            client,
            statements: HashMap::new(),
        };
        crate::schema::migrate(&mut store)?;
        Ok(store)
    }
}

impl Backend for PgStore {
    const BOOKKEEPING: &'static str = "CREATE TABLE IF NOT EXISTS schema_migrations (
        version    BIGINT PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL)";

    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;

    /// One transaction holding the store's write lock. Dropping the transaction (an error or
    /// a panic in `f`) rolls it back.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.batch_execute(LOCK).map_err(pg)?;
        let value = f(&mut Tx {
            tx: &mut tx,
            statements: &mut self.statements,
        })?;
        tx.commit().map_err(pg)?;
        Ok(value)
    }

    /// One transaction without the store's write lock: the job queue's rows are locked one
    /// by one (`FOR UPDATE SKIP LOCKED`), so claims do not wait behind a scan being written.
    fn queue<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let value = f(&mut Tx {
            tx: &mut tx,
            statements: &mut self.statements,
        })?;
        tx.commit().map_err(pg)?;
        Ok(value)
    }

    /// One REPEATABLE READ read-only transaction: one snapshot for all its queries.
    fn read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg)?;
        let value = f(&mut Tx {
            tx: &mut tx,
            statements: &mut self.statements,
        })?;
        tx.commit().map_err(pg)?;
        Ok(value)
    }
}

/// The connection inside a transaction, with the store's prepared statements.
struct Tx<'a, 'c> {
    tx: &'a mut Transaction<'c>,
    statements: &'a mut HashMap<String, Statement>,
}

impl Tx<'_, '_> {
    /// `sql` prepared, once per connection.
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(&numbered(sql)).map_err(pg)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// `sql` with SQLite's `?N` placeholders written `$N` (outside quoted text).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter as the server's type for it wants it: timestamps as `timestamptz`, JSON as
/// text, an integer as wide as its column.
fn bind<'a>(param: &Param<'a>, ty: &Type) -> Box<dyn ToSql + Sync + 'a> {
    match *param {
        Param::I64(n) if *ty == Type::INT4 => match i32::try_from(n) {
            Ok(n) => Box::new(n),
            // Out of range: the client's type error says so.
            Err(_) => Box::new(n),
        },
        Param::I64(n) => Box::new(n),
        Param::Bool(b) => Box::new(b),
        Param::Text(text) => Box::new(text),
        Param::OptText(text) => Box::new(text),
        Param::Json(document) => Box::new(document.to_string()),
        Param::Time(t) => Box::new(SystemTime::from(t)),
        Param::Texts(list) => Box::new(list),
    }
}

/// Every parameter bound for `statement`. Extra parameters are bound too, as text: the client
/// then refuses the count, as SQLite does.
fn bind_all<'a>(statement: &Statement, params: &[Param<'a>]) -> Vec<Box<dyn ToSql + Sync + 'a>> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| bind(p, statement.params().get(i).unwrap_or(&Type::TEXT)))
        .collect()
}

impl Dialect for Tx<'_, '_> {
    fn in_texts(&self, expr: &str, param: usize) -> String {
        format!("{expr} = ANY(?{param})")
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn json_without(&self, column: &str, key: &str) -> String {
        format!("({column}::jsonb - '{key}')::text")
    }
}

impl Sql for Tx<'_, '_> {
    fn batch(&mut self, script: &str) -> Result<(), StoreError> {
        self.tx.batch_execute(script).map_err(pg)
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        let bound = bind_all(&statement, params);
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(AsRef::as_ref).collect();
        self.tx.execute(&statement, &refs).map_err(pg)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let statement = self.statement(sql)?;
        let bound = bind_all(&statement, params);
        // Each row as it arrives: `Transaction::query` would hold all of them first (a full
        // rematch reads every package row of the store, hundreds of megabytes).
        let mut rows = self
            .tx
            .query_raw(&statement, bound.iter().map(AsRef::as_ref))
            .map_err(pg)?;
        while let Some(row) = rows.next().map_err(pg)? {
            each(&PgRow(&row))?;
        }
        Ok(())
    }

    /// One statement for all the rows: a column per array, `unnest` zips them back into
    /// rows. (A statement per row would cost a round trip per row.)
    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        values: &[Param<'_>],
    ) -> Result<(), StoreError> {
        let Some(arrays) = Array::columns(table, columns, values) else {
            return Ok(());
        };
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT * FROM unnest({})",
            columns.join(", "),
            Array::casts(&arrays)
        );
        let statement = self.statement(&sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(Array::as_sql).collect();
        self.tx.execute(&statement, &refs).map_err(pg)?;
        Ok(())
    }

    /// One statement for all the rows, as [`insert_many`](Sql::insert_many): the rows from
    /// `unnest`, joined to the table's rows on the keys.
    fn update_many(
        &mut self,
        table: &str,
        keys: &[&str],
        columns: &[&str],
        also: &str,
        values: &[Param<'_>],
    ) -> Result<(), StoreError> {
        let names: Vec<&str> = keys.iter().chain(columns).copied().collect();
        let Some(arrays) = Array::columns(table, &names, values) else {
            return Ok(());
        };
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = u.{c}"))
            .chain((!also.is_empty()).then(|| also.to_owned()))
            .collect();
        let on: Vec<String> = keys.iter().map(|k| format!("t.{k} = u.{k}")).collect();
        let sql = format!(
            "UPDATE {table} AS t SET {} FROM unnest({}) AS u ({}) WHERE {}",
            set.join(", "),
            Array::casts(&arrays),
            names.join(", "),
            on.join(" AND ")
        );
        let statement = self.statement(&sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(Array::as_sql).collect();
        self.tx.execute(&statement, &refs).map_err(pg)?;
        Ok(())
    }
}

/// One column of [`Sql::insert_many`]'s or [`Sql::update_many`]'s rows, as a PostgreSQL
/// array.
enum Array<'a> {
    I64(Vec<i64>),
    Bool(Vec<bool>),
    Text(Vec<Option<&'a str>>),
    Json(Vec<String>),
    Time(Vec<SystemTime>),
}

impl<'a> Array<'a> {
    /// `values`, `columns.len()` a row, as one array per column; `None` without rows.
    ///
    /// # Panics
    /// A column whose values are not all of one kind (a bug of the caller).
    fn columns(table: &str, columns: &[&str], values: &[Param<'a>]) -> Option<Vec<Self>> {
        let first = values.get(..columns.len())?;
        let mut arrays: Vec<Self> = first.iter().map(Self::of).collect();
        for row in values.chunks(columns.len()) {
            for ((array, param), column) in arrays.iter_mut().zip(row).zip(columns) {
                assert!(
                    array.push(param),
                    "rows of {table}: column {column} mixes kinds of values"
                );
            }
        }
        Some(arrays)
    }

    /// The arrays as numbered parameters with their types: `?1::text[], ?2::bigint[]`.
    fn casts(arrays: &[Self]) -> String {
        let casts: Vec<String> = (1..)
            .zip(arrays)
            .map(|(i, a)| format!("?{i}::{}", a.sql_type()))
            .collect();
        casts.join(", ")
    }

    /// An empty array for values of `param`'s kind.
    fn of(param: &Param<'_>) -> Self {
        match param {
            Param::I64(_) => Self::I64(Vec::new()),
            Param::Bool(_) => Self::Bool(Vec::new()),
            Param::Text(_) | Param::OptText(_) => Self::Text(Vec::new()),
            Param::Json(_) => Self::Json(Vec::new()),
            Param::Time(_) => Self::Time(Vec::new()),
            Param::Texts(_) => panic!("a list is not a column value"),
        }
    }

    /// Append `param`; false if it is not of this array's kind.
    fn push(&mut self, param: &Param<'a>) -> bool {
        match (self, *param) {
            (Self::I64(v), Param::I64(n)) => v.push(n),
            (Self::Bool(v), Param::Bool(b)) => v.push(b),
            (Self::Text(v), Param::Text(t)) => v.push(Some(t)),
            (Self::Text(v), Param::OptText(t)) => v.push(t),
            (Self::Json(v), Param::Json(d)) => v.push(d.to_string()),
            (Self::Time(v), Param::Time(t)) => v.push(t.into()),
            _ => return false,
        }
        true
    }

    fn sql_type(&self) -> &'static str {
        match self {
            Self::I64(_) => "bigint[]",
            Self::Bool(_) => "bool[]",
            Self::Text(_) | Self::Json(_) => "text[]",
            Self::Time(_) => "timestamptz[]",
        }
    }

    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Self::I64(v) => v,
            Self::Bool(v) => v,
            Self::Text(v) => v,
            Self::Json(v) => v,
            Self::Time(v) => v,
        }
    }
}

struct PgRow<'a>(&'a postgres::Row);

impl PgRow<'_> {
    fn get<'r, T: postgres::types::FromSql<'r>>(&'r self, i: usize) -> Result<T, StoreError> {
        self.0.try_get(i).map_err(pg)
    }
}

impl Row for PgRow<'_> {
    fn i64(&self, i: usize) -> Result<i64, StoreError> {
        match self.opt_i64(i)? {
            Some(n) => Ok(n),
            // NULL: the client's error says so.
            None => self.get(i),
        }
    }

    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        let ty = self.0.columns().get(i).map(|c| c.type_());
        if ty == Some(&Type::INT4) {
            Ok(self.get::<Option<i32>>(i)?.map(i64::from))
        } else if ty == Some(&Type::INT2) {
            Ok(self.get::<Option<i16>>(i)?.map(i64::from))
        } else {
            self.get(i)
        }
    }

    fn bool(&self, i: usize) -> Result<bool, StoreError> {
        self.get(i)
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.get(i)
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.get(i)
    }

    fn json(&self, i: usize, what: &'static str) -> Result<Value, StoreError> {
        json(self.get::<&str>(i)?, what)
    }

    fn opt_json(&self, i: usize, what: &'static str) -> Result<Option<Value>, StoreError> {
        self.get::<Option<&str>>(i)?
            .map(|text| json(text, what))
            .transpose()
    }

    fn time(&self, i: usize) -> Result<Timestamp, StoreError> {
        Ok(self.get::<SystemTime>(i)?.into())
    }

    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.get::<Option<SystemTime>>(i)?.map(Into::into))
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders() {
        assert_eq!(
            numbered("SELECT ?1, '?2', ?10 FROM t WHERE a = ?2"),
            "SELECT $1, '?2', $10 FROM t WHERE a = $2"
        );
    }
}
