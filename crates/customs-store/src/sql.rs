//! What the shared operations need of a database, and nothing more: run statements with typed
//! parameters inside a transaction, read typed columns, and spell the few things the two
//! dialects spell differently. `sqlite.rs` and `pg.rs` implement it; `scans.rs`,
//! `findings.rs`, `outbox.rs` and `schema.rs` are written against it once.
//!
//! SQL is written once, in the syntax both dialects accept, with SQLite's numbered
//! placeholders (`?1`, `?2`, …); the PostgreSQL backend rewrites them to `$1`, `$2`, ….
//! Where the dialects differ, the statement asks the [`Dialect`] for the fragment (a list
//! parameter) or calls a primitive whose implementation differs ([`Sql::insert_many`],
//! [`Sql::update_many`]).

use serde_json::Value;

use crate::{StoreError, Timestamp};

/// A statement parameter. Each backend binds each kind as its schema stores it: SQLite
/// timestamps and JSON as text, PostgreSQL timestamps as `timestamptz`, lists as arrays.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    I64(i64),
    Bool(bool),
    Text(&'a str),
    OptText(Option<&'a str>),
    /// A JSON document (stored as text by both backends today).
    Json(&'a Value),
    Time(Timestamp),
    /// A list of texts, only for [`Dialect::in_texts`]: a PostgreSQL `text[]`, a JSON array
    /// for SQLite.
    Texts(&'a [&'a str]),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Self::I64(n)
    }
}

impl From<Timestamp> for Param<'_> {
    fn from(t: Timestamp) -> Self {
        Self::Time(t)
    }
}

/// One result row, read by column index. A value of the wrong type is an error of the
/// backend's kind (a NULL where none is allowed, text where a number was expected); a value
/// of the right type that does not parse (JSON, timestamp) is [`StoreError::Corrupt`].
pub(crate) trait Row {
    /// An integer (PostgreSQL `smallint`, `integer` or `bigint`).
    fn i64(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError>;
    /// A boolean (SQLite: an integer, as `IS NULL` and `EXISTS` give).
    fn bool(&self, i: usize) -> Result<bool, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// A JSON document; `what` names the column in a [`StoreError::Corrupt`].
    fn json(&self, i: usize, what: &'static str) -> Result<Value, StoreError>;
    fn opt_json(&self, i: usize, what: &'static str) -> Result<Option<Value>, StoreError>;
    fn time(&self, i: usize) -> Result<Timestamp, StoreError>;
    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>, StoreError>;
}

/// The fragments of SQL that the dialects spell differently.
pub(crate) trait Dialect {
    /// A condition: `expr` is one of the texts of parameter `?param`, a [`Param::Texts`].
    /// (`expr = ANY($n)`; `expr IN (SELECT value FROM json_each(?n))`.) Both use an index
    /// on `expr` when there is one.
    fn in_texts(&self, expr: &str, param: usize) -> String;

    /// What follows a `SELECT` whose rows the transaction is about to claim, so that
    /// concurrent claimers pass over each other's rows instead of waiting (PostgreSQL's
    /// `FOR UPDATE SKIP LOCKED`; nothing on SQLite, where one writer runs at a time).
    fn skip_locked(&self) -> &'static str;

    /// The JSON text in column `column` without its top-level member `key` (a literal the
    /// caller spells, never user input).
    fn json_without(&self, column: &str, key: &str) -> String;
}

/// A connection inside one transaction (see [`Backend`]): what the shared operations run
/// their statements on. Errors are the backend's, already wrapped in [`StoreError`].
pub(crate) trait Sql: Dialect {
    /// Run a script of statements without parameters (migrations).
    fn batch(&mut self, script: &str) -> Result<(), StoreError>;

    /// Run one statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError>;

    /// Run one statement and call `each` with every row it returns, in order.
    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Insert rows into `table`: `values` holds `columns.len()` parameters per row, row after
    /// row, each column of one kind in every row. (One `INSERT … SELECT FROM unnest(…)` on
    /// PostgreSQL, a prepared statement run per row on SQLite: each the fast way there.)
    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        values: &[Param<'_>],
    ) -> Result<(), StoreError>;

    /// Update rows of `table`: `values` holds `keys.len() + columns.len()` parameters per
    /// row, the values of the `keys` columns that pick the row and then the new values of
    /// `columns`, each column of one kind in every row; `also` is more assignments without
    /// parameters, made in every row (`resolved_at = NULL`), or empty. (One
    /// `UPDATE … FROM unnest(…)` on PostgreSQL, a prepared statement run per row on SQLite,
    /// as [`insert_many`](Sql::insert_many).) The keys should pick one row each, each row
    /// once.
    fn update_many(
        &mut self,
        table: &str,
        keys: &[&str],
        columns: &[&str],
        also: &str,
        values: &[Param<'_>],
    ) -> Result<(), StoreError>;
}

impl dyn Sql + '_ {
    /// Every row of a query, mapped by `f`.
    pub(crate) fn rows<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |row| {
            out.push(f(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query (which should return at most one), mapped by `f`.
    pub(crate) fn row<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut out = None;
        self.query(sql, params, &mut |row| {
            if out.is_none() {
                out = Some(f(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// A database the store runs on: how it runs a transaction, and its schema. The store's
/// operations are implemented once for every `Backend` (`impl<B: Backend> Scans for B`, …).
pub(crate) trait Backend: Send {
    /// Creates the `schema_migrations` table if it is missing.
    const BOOKKEEPING: &'static str;

    /// Schema migrations, in order; `MIGRATIONS[i]` brings the schema to version `i + 1`.
    const MIGRATIONS: &'static [&'static str];

    /// Run `f` in one write transaction and commit. Writers are serialised (one at a time
    /// per store), so a read-then-write in `f` cannot race another writer. `f` may be called
    /// again from the start if the backend retries a transaction that could not get its lock;
    /// an error or a panic in `f` rolls back.
    ///
    /// # Errors
    /// `f`'s error, or the backend's.
    fn write<T>(
        &mut self,
        f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Run `f` in one transaction for the job queue: it changes only queue rows, so it need
    /// not wait for the store's write lock where rows can be locked one by one (PostgreSQL).
    /// The default is [`write`](Backend::write).
    ///
    /// # Errors
    /// `f`'s error, or the backend's.
    fn queue<T>(
        &mut self,
        f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(f)
    }

    /// Run `f` in one read transaction: all its queries see one snapshot.
    ///
    /// # Errors
    /// `f`'s error, or the backend's.
    fn read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// The database's own integrity check, where it has one: a line per problem.
    ///
    /// # Errors
    /// A database failure.
    fn engine_check(_tx: &mut dyn Sql) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
}
