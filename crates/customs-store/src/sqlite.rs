//! The SQLite backend: one file, WAL (readers never block the writer and a killed writer
//! leaves a rolled-back transaction), `foreign_keys` on, and every write one `BEGIN IMMEDIATE`
//! transaction so two processes queue for the write lock instead of failing on a lock upgrade.
//! `synchronous` stays at SQLite's default (FULL): a commit survives power loss too.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value;

use crate::error::{json, reason};
use crate::model::{FindingId, RematchInput, RematchRecord, Resolutions};
use crate::reconcile::{
    Change, StoredFinding, data_hash, reconcile, rematch_input, resolved_doc, superseded,
};
use crate::{
    Delta, FindingHistory, FindingRecord, ImageDetail, ImageSummary, OutboxEntry, PackageKey,
    SCHEMA_VERSION, ScanRecord, Store, StoreError, TagEvent, Timestamp, WriteStage,
};

/// How long one statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a whole write transaction is retried when still busy after the timeout.
const BUSY_RETRIES: u32 = 20;

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

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    text.parse()
        .map_err(|e: crate::TimestampError| StoreError::Corrupt {
            what: "timestamp",
            detail: e.to_string(),
        })
}

impl SqliteStore {
    /// Open or create the store at `path`, and migrate it.
    ///
    /// # Errors
    /// SQLite failures, or [`StoreError::SchemaTooNew`].
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let e = err(path);
        let conn = Connection::open(path).map_err(&e)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
        // Returns the mode in effect; a file system without shared memory keeps the rollback
        // journal, which is still transactional, only without concurrent readers.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(&e)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(&e)?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.write(|tx, e| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY NOT NULL,
                    applied_at TEXT NOT NULL)",
            )
            .map_err(e)?;
            let found: i64 = tx
                .query_row(
                    "SELECT coalesce(max(version), 0) FROM schema_migrations",
                    [],
                    |r| r.get(0),
                )
                .map_err(e)?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            for (version, sql) in (1..)
                .zip(MIGRATIONS)
                .skip(usize::try_from(found).unwrap_or(0))
            {
                tx.execute_batch(sql).map_err(e)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![version, Timestamp::now().to_string()],
                )
                .map_err(e)?;
            }
            Ok(())
        })
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction and commit; retried from the start while
    /// another connection holds the lock longer than the busy timeout. A panic in `f` drops
    /// the transaction, which rolls back.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(
            &Transaction<'_>,
            &dyn Fn(rusqlite::Error) -> StoreError,
        ) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let e = err(&self.path);
        let mut attempt = 0;
        loop {
            let result = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&e)
                .and_then(|tx| {
                    let value = f(&tx, &e)?;
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

    /// Run `f` in one read transaction, so multi-query reads see one snapshot.
    fn read<T>(
        &mut self,
        f: impl FnOnce(
            &Transaction<'_>,
            &dyn Fn(rusqlite::Error) -> StoreError,
        ) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let e = err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        let value = f(&tx, &e)?;
        tx.commit().map_err(&e)?;
        Ok(value)
    }
}

type ErrFn<'a> = &'a dyn Fn(rusqlite::Error) -> StoreError;

/// Every findings row of an image, with its first-seen time.
fn load_findings(
    tx: &Transaction<'_>,
    e: ErrFn<'_>,
    digest: &str,
) -> Result<Vec<(StoredFinding, String)>, StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT finding_id, package_name, package_version, severity, data_hash,
                resolved_at IS NULL, kev, first_seen
             FROM findings WHERE digest = ?1",
        )
        .map_err(e)?;
    let rows = stmt
        .query_map([digest], |r| {
            Ok((
                FindingId {
                    id: r.get(0)?,
                    package_name: r.get(1)?,
                    package_version: r.get(2)?,
                },
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .map_err(e)?;
    let mut stored = Vec::new();
    for row in rows {
        let (key, severity, data_hash, open, kev, first_seen) = row.map_err(e)?;
        stored.push((
            StoredFinding {
                key,
                severity: crate::word("severity", &severity)?,
                kev,
                data_hash,
                open,
            },
            first_seen,
        ));
    }
    Ok(stored)
}

/// Reconcile one image's findings (see [`reconcile`]). New rows take their first-seen time
/// from `carried` (the digest a tag moved from) when it has the (id, package).
#[allow(clippy::too_many_arguments)]
fn reconcile_findings(
    tx: &Transaction<'_>,
    e: ErrFn<'_>,
    digest: &str,
    findings: &[FindingRecord],
    scope: Option<&BTreeSet<String>>,
    resolutions: &Resolutions,
    now: Timestamp,
    carried: &HashMap<(String, String), String>,
) -> Result<Delta, StoreError> {
    let stored = load_findings(tx, e, digest)?
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let (changes, delta) = reconcile(stored, findings, scope, resolutions, &mut |k| {
        stored_data(tx, e, digest, k)
    })?;
    let now = now.to_string();
    for change in changes {
        match change {
            Change::Insert(f) => {
                let first = carried
                    .get(&(f.id.clone(), f.package_name.clone()))
                    .unwrap_or(&now);
                tx.prepare_cached(
                    "INSERT INTO findings (digest, finding_id, package_name, package_version,
                        severity, data, first_seen, last_changed, kev, data_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        digest,
                        f.id,
                        f.package_name,
                        f.package_version,
                        f.severity.as_str(),
                        f.data.to_string(),
                        first,
                        now,
                        f.kev,
                        data_hash(&f.data)
                    ])
                })
            }
            Change::Reopen(f) | Change::Severity(f) => tx
                .prepare_cached(
                    "UPDATE findings SET severity = ?5, data = ?6, resolved_at = NULL,
                        resolved_reason = NULL, last_changed = ?7, kev = ?8, data_hash = ?9
                     WHERE digest = ?1 AND finding_id = ?2 AND package_name = ?3
                        AND package_version = ?4",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        digest,
                        f.id,
                        f.package_name,
                        f.package_version,
                        f.severity.as_str(),
                        f.data.to_string(),
                        now,
                        f.kev,
                        data_hash(&f.data)
                    ])
                }),
            Change::Data(f) => tx
                .prepare_cached(
                    "UPDATE findings SET data = ?5, kev = ?6, data_hash = ?7
                     WHERE digest = ?1 AND finding_id = ?2
                        AND package_name = ?3 AND package_version = ?4",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        digest,
                        f.id,
                        f.package_name,
                        f.package_version,
                        f.data.to_string(),
                        f.kev,
                        data_hash(&f.data)
                    ])
                }),
            Change::Resolve(k, why) => resolve(tx, digest, &k, why, &now),
        }
        .map_err(e)?;
    }
    Ok(delta)
}

/// One stored finding document.
fn stored_data(
    tx: &Transaction<'_>,
    e: ErrFn<'_>,
    digest: &str,
    k: &FindingId,
) -> Result<String, StoreError> {
    tx.prepare_cached(
        "SELECT data FROM findings WHERE digest = ?1 AND finding_id = ?2 AND package_name = ?3
            AND package_version = ?4",
    )
    .and_then(|mut s| {
        s.query_row(
            params![digest, k.id, k.package_name, k.package_version],
            |r| r.get(0),
        )
    })
    .map_err(e)
}

fn resolve(
    tx: &Transaction<'_>,
    digest: &str,
    k: &FindingId,
    why: crate::ResolvedReason,
    now: &str,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "UPDATE findings SET resolved_at = ?5, resolved_reason = ?6, last_changed = ?5
         WHERE digest = ?1 AND finding_id = ?2 AND package_name = ?3 AND package_version = ?4",
    )
    .and_then(|mut s| {
        s.execute(params![
            digest,
            k.id,
            k.package_name,
            k.package_version,
            now,
            why.as_str()
        ])
    })
}

/// Whether any tag's latest row points at `digest`.
fn is_tagged(tx: &Transaction<'_>, e: ErrFn<'_>, digest: &str) -> Result<bool, StoreError> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM tags t WHERE t.digest = ?1
            AND t.id = (SELECT max(u.id) FROM tags u
                        WHERE u.repository = t.repository AND u.tag = t.tag))",
        [digest],
        |r| r.get(0),
    )
    .map_err(e)
}

fn summaries(
    tx: &Transaction<'_>,
    e: ErrFn<'_>,
    only: Option<&str>,
) -> Result<Vec<(ImageSummary, String)>, StoreError> {
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stmt = tx
        .prepare_cached(
            "SELECT t.repository, t.tag, t.digest FROM tags t
             WHERE (?1 IS NULL OR t.digest = ?1)
               AND t.id = (SELECT max(u.id) FROM tags u
                           WHERE u.repository = t.repository AND u.tag = t.tag)
             ORDER BY t.repository, t.tag",
        )
        .map_err(e)?;
    let rows = stmt
        .query_map([only], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(e)?;
    for row in rows {
        let (repository, tag, digest) = row.map_err(e)?;
        tags.entry(digest)
            .or_default()
            .push(format!("{repository}:{tag}"));
    }
    let mut open: BTreeMap<String, BTreeMap<crate::Severity, u64>> = BTreeMap::new();
    let mut stmt = tx
        .prepare_cached(
            "SELECT digest, severity, count(*) FROM findings
             WHERE resolved_at IS NULL AND (?1 IS NULL OR digest = ?1)
             GROUP BY digest, severity",
        )
        .map_err(e)?;
    let rows = stmt
        .query_map([only], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(e)?;
    for row in rows {
        let (digest, severity, n) = row.map_err(e)?;
        open.entry(digest).or_default().insert(
            crate::word("severity", &severity)?,
            u64::try_from(n).unwrap_or(0),
        );
    }
    let mut stmt = tx
        .prepare_cached(
            "SELECT digest, repository, first_scanned_at, last_scanned_at, db_built_at,
                CASE WHEN ?1 IS NULL THEN '' ELSE
                    (SELECT v.inventory FROM inventories v WHERE v.digest = images.digest) END
             FROM images WHERE ?1 IS NULL OR digest = ?1
             ORDER BY last_scanned_at DESC, digest",
        )
        .map_err(e)?;
    let rows = stmt
        .query_map([only], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(e)?;
    let mut out = Vec::new();
    for row in rows {
        let (digest, repository, first, last, db_built_at, inventory) = row.map_err(e)?;
        out.push((
            ImageSummary {
                tags: tags.remove(&digest).unwrap_or_default(),
                open: open.remove(&digest).unwrap_or_default(),
                digest,
                repository,
                first_scanned_at: ts(&first)?,
                last_scanned_at: ts(&last)?,
                db_built_at: crate::built_at(db_built_at)?,
            },
            inventory,
        ));
    }
    Ok(out)
}

impl Store for SqliteStore {
    fn schema_version(&mut self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .map_err(err(&self.path))
    }

    fn put_scan_with(
        &mut self,
        record: &ScanRecord,
        on_stage: &mut dyn FnMut(WriteStage),
    ) -> Result<Delta, StoreError> {
        crate::validate(record)?;
        let inventory = record.inventory.to_string();
        let context = record.context.to_string();
        let now = record.scanned_at.to_string();
        self.write(|tx, e| {
            tx.execute(
                "INSERT INTO images (digest, repository, first_scanned_at, last_scanned_at,
                    db_built_at)
                 VALUES (?1, ?2, ?3, ?3, ?4)
                 ON CONFLICT (digest) DO UPDATE SET
                    repository = coalesce(excluded.repository, images.repository),
                    first_scanned_at = min(images.first_scanned_at, excluded.first_scanned_at),
                    last_scanned_at = max(images.last_scanned_at, excluded.last_scanned_at),
                    db_built_at = coalesce(excluded.db_built_at, images.db_built_at)",
                params![
                    record.digest,
                    record.repository,
                    now,
                    record.db_built_at.map(|t| t.to_string())
                ],
            )
            .map_err(e)?;
            // Inventories (hundreds of kilobytes) live apart from the image rows, which a
            // rematch updates by the thousand, and apart from the contexts it reads.
            tx.execute(
                "INSERT INTO inventories (digest, inventory) VALUES (?1, ?2)
                 ON CONFLICT (digest) DO UPDATE SET inventory = excluded.inventory",
                params![record.digest, inventory],
            )
            .map_err(e)?;
            tx.execute(
                "INSERT INTO contexts (digest, context) VALUES (?1, ?2)
                 ON CONFLICT (digest) DO UPDATE SET context = excluded.context",
                params![record.digest, context],
            )
            .map_err(e)?;
            on_stage(WriteStage::ImageWritten);
            let mut previous = None;
            if let (Some(repository), Some(tag)) = (&record.repository, &record.tag) {
                let current: Option<String> = tx
                    .query_row(
                        "SELECT digest FROM tags WHERE repository = ?1 AND tag = ?2
                         ORDER BY id DESC LIMIT 1",
                        params![repository, tag],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(e)?;
                if current.as_deref() != Some(record.digest.as_str()) {
                    tx.execute(
                        "INSERT INTO tags (repository, tag, digest, seen_at) VALUES (?1, ?2, ?3, ?4)",
                        params![repository, tag, record.digest, now],
                    )
                    .map_err(e)?;
                    previous = current;
                }
            }
            on_stage(WriteStage::TagWritten);
            tx.execute("DELETE FROM package_index WHERE digest = ?1", [&record.digest])
                .map_err(e)?;
            tx.execute("DELETE FROM packages WHERE digest = ?1", [&record.digest])
                .map_err(e)?;
            let mut insert_package = tx
                .prepare_cached("INSERT INTO packages (digest, seq, data) VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            let mut insert_key = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO package_index (ecosystem, name, digest, package)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(e)?;
            for (seq, p) in (0_i64..).zip(&record.packages) {
                insert_package
                    .execute(params![record.digest, seq, p.data.to_string()])
                    .map_err(e)?;
                for k in &p.keys {
                    insert_key
                        .execute(params![k.ecosystem.as_str(), k.name, record.digest, seq])
                        .map_err(e)?;
                }
            }
            on_stage(WriteStage::PackagesIndexed);
            let previous_findings = match &previous {
                Some(p) => load_findings(tx, e, p)?,
                None => Vec::new(),
            };
            let mut carried: HashMap<(String, String), String> = HashMap::new();
            for (f, first) in &previous_findings {
                let slot = carried
                    .entry((f.key.id.clone(), f.key.package_name.clone()))
                    .or_insert_with(|| first.clone());
                // Timestamps are fixed-width UTC text, so text order is time order.
                if first < slot {
                    slot.clone_from(first);
                }
            }
            let mut delta = reconcile_findings(
                tx,
                e,
                &record.digest,
                &record.findings,
                None,
                &record.resolutions,
                record.scanned_at,
                &carried,
            )?;
            if let Some(previous) = previous
                && !is_tagged(tx, e, &previous)?
            {
                let stored = previous_findings.into_iter().map(|(f, _)| f).collect();
                for (key, why, data) in superseded(
                    stored,
                    &record.findings,
                    &record.packages,
                    &mut |k| stored_data(tx, e, &previous, k),
                )? {
                    resolve(tx, &previous, &key, why, &now).map_err(e)?;
                    let mut doc = resolved_doc(data, why);
                    if let Some(object) = doc.as_object_mut() {
                        object.insert("digest".to_owned(), previous.clone().into());
                    }
                    delta.resolved.push(doc);
                }
            }
            on_stage(WriteStage::FindingsReconciled);
            Ok(delta)
        })
    }

    fn apply_rematches(
        &mut self,
        batch: &[RematchRecord],
        db_built_at: Option<Timestamp>,
    ) -> Result<Vec<Delta>, StoreError> {
        let now = Timestamp::now();
        let db_built_at = db_built_at.map(|t| t.to_string());
        self.write(|tx, e| {
            let mut deltas = Vec::with_capacity(batch.len());
            for record in batch {
                let n = tx
                    .prepare_cached(
                        "UPDATE images SET db_built_at = coalesce(?2, db_built_at)
                         WHERE digest = ?1",
                    )
                    .and_then(|mut s| s.execute(params![record.digest, db_built_at]))
                    .map_err(e)?;
                if n == 0 {
                    return Err(StoreError::UnknownImage {
                        digest: record.digest.clone(),
                    });
                }
                deltas.push(reconcile_findings(
                    tx,
                    e,
                    &record.digest,
                    &record.findings,
                    record.scope.as_ref(),
                    &record.resolutions,
                    now,
                    &HashMap::new(),
                )?);
            }
            Ok(deltas)
        })
    }

    fn rematch_inputs(
        &mut self,
        keys: Option<&BTreeSet<PackageKey>>,
    ) -> Result<Vec<RematchInput>, StoreError> {
        self.read(|tx, e| {
            // digest -> seq -> package document
            let mut packages: BTreeMap<String, BTreeMap<i64, Value>> = BTreeMap::new();
            match keys {
                None => {
                    let mut stmt = tx
                        .prepare("SELECT digest, seq, data FROM packages")
                        .map_err(e)?;
                    let rows = stmt
                        .query_map([], |r| {
                            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?))
                        })
                        .map_err(e)?;
                    for row in rows {
                        let (digest, seq, data) = row.map_err(e)?;
                        packages
                            .entry(digest)
                            .or_default()
                            .insert(seq, json(&data, "packages.data")?);
                    }
                }
                Some(keys) => {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT i.digest, i.package, p.data FROM package_index i
                             LEFT JOIN packages p ON p.digest = i.digest AND p.seq = i.package
                             WHERE i.ecosystem = ?1 AND i.name = ?2",
                        )
                        .map_err(e)?;
                    for key in keys {
                        let rows = stmt
                            .query_map([key.ecosystem.as_str(), &key.name], |r| {
                                Ok((
                                    r.get::<_, String>(0)?,
                                    r.get::<_, i64>(1)?,
                                    r.get::<_, Option<String>>(2)?,
                                ))
                            })
                            .map_err(e)?;
                        for row in rows {
                            let (digest, seq, data) = row.map_err(e)?;
                            let slot = packages.entry(digest).or_default();
                            // A schema-1 row (-1) names the image only; its inventory is read.
                            if let Some(data) = data {
                                slot.insert(seq, json(&data, "packages.data")?);
                            }
                        }
                    }
                }
            }
            // One pass over the images (their rows, not their inventories): cheaper than a
            // look-up per image when most are wanted, and cheap when few are.
            let wanted: Option<BTreeSet<String>> = keys.map(|_| packages.keys().cloned().collect());
            let mut out = Vec::new();
            let mut stmt = tx
                .prepare_cached(
                    "SELECT i.digest, c.context, CASE WHEN c.context IS NULL THEN
                        (SELECT v.inventory FROM inventories v WHERE v.digest = i.digest) END
                     FROM images i LEFT JOIN contexts c ON c.digest = i.digest
                     ORDER BY i.digest",
                )
                .map_err(e)?;
            let rows = stmt
                .query_map([], |r| {
                    let digest = r.get::<_, String>(0)?;
                    if wanted.as_ref().is_some_and(|w| !w.contains(&digest)) {
                        return Ok(None);
                    }
                    Ok(Some((
                        digest,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    )))
                })
                .map_err(e)?;
            for row in rows {
                let Some((digest, context, inventory)) = row.map_err(e)? else {
                    continue;
                };
                let list = packages
                    .remove(&digest)
                    .map(|m| m.into_values().collect())
                    .unwrap_or_default();
                out.push(rematch_input(digest, context, inventory, list)?);
            }
            Ok(out)
        })
    }

    fn images(&mut self) -> Result<Vec<ImageSummary>, StoreError> {
        self.read(|tx, e| {
            Ok(summaries(tx, e, None)?
                .into_iter()
                .map(|(s, _)| s)
                .collect())
        })
    }

    fn image(&mut self, reference: &str) -> Result<Option<ImageDetail>, StoreError> {
        let r = crate::parse_reference(reference);
        self.read(|tx, e| {
            let mut found = summaries(tx, e, Some(r.digest))?;
            if found.is_empty()
                && let Some((repository, tag)) = r.tag
                && let Some(digest) = tx
                    .query_row(
                        "SELECT digest FROM tags WHERE repository = ?1 AND tag = ?2
                         ORDER BY id DESC LIMIT 1",
                        params![repository, tag],
                        |r| r.get::<_, String>(0),
                    )
                    .optional()
                    .map_err(e)?
            {
                found = summaries(tx, e, Some(&digest))?;
            }
            found
                .pop()
                .map(|(summary, inventory)| {
                    Ok(ImageDetail {
                        summary,
                        inventory: json(&inventory, "images.inventory")?,
                    })
                })
                .transpose()
        })
    }

    fn tag_history(&mut self, repository: &str, tag: &str) -> Result<Vec<TagEvent>, StoreError> {
        self.read(|tx, e| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT digest, seen_at FROM tags WHERE repository = ?1 AND tag = ?2 ORDER BY id",
                )
                .map_err(e)?;
            let rows = stmt
                .query_map(params![repository, tag], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(e)?;
            let mut out = Vec::new();
            for row in rows {
                let (digest, seen_at) = row.map_err(e)?;
                out.push(TagEvent {
                    repository: repository.to_owned(),
                    tag: tag.to_owned(),
                    digest,
                    seen_at: ts(&seen_at)?,
                });
            }
            Ok(out)
        })
    }

    fn history(&mut self, digest: &str) -> Result<Vec<FindingHistory>, StoreError> {
        self.read(|tx, e| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT finding_id, package_name, package_version, severity, first_seen,
                        resolved_at, resolved_reason, last_changed, data
                     FROM findings WHERE digest = ?1
                     ORDER BY first_seen, finding_id, package_name, package_version",
                )
                .map_err(e)?;
            let rows = stmt
                .query_map([digest], |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                        ),
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                })
                .map_err(e)?;
            let mut out = Vec::new();
            for row in rows {
                let (
                    (id, package_name, package_version),
                    severity,
                    first,
                    resolved,
                    why,
                    last,
                    data,
                ) = row.map_err(e)?;
                out.push(FindingHistory {
                    id,
                    package_name,
                    package_version,
                    severity: crate::word("severity", &severity)?,
                    first_seen: ts(&first)?,
                    resolved_at: resolved.as_deref().map(ts).transpose()?,
                    resolved_reason: why.as_deref().map(reason).transpose()?,
                    last_changed: ts(&last)?,
                    data: json(&data, "findings.data")?,
                });
            }
            Ok(out)
        })
    }

    fn images_with_package(
        &mut self,
        ecosystem: crate::Ecosystem,
        name: &str,
    ) -> Result<Vec<String>, StoreError> {
        let e = err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT digest FROM package_index WHERE ecosystem = ?1 AND name = ?2
                 ORDER BY digest",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([ecosystem.as_str(), name], |r| r.get(0))
            .map_err(&e)?;
        rows.collect::<Result<_, _>>().map_err(&e)
    }

    fn enqueue(&mut self, target: &str, payload: &Value) -> Result<i64, StoreError> {
        let payload = payload.to_string();
        let now = Timestamp::now().to_string();
        self.write(|tx, e| {
            tx.execute(
                "INSERT INTO outbox (target, payload, created_at) VALUES (?1, ?2, ?3)",
                params![target, payload, now],
            )
            .map_err(e)?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn pending(&mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(|tx, e| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, target, payload, attempts, last_error, created_at FROM outbox
                     WHERE delivered_at IS NULL ORDER BY id",
                )
                .map_err(e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(e)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, target, payload, attempts, last_error, created_at) = row.map_err(e)?;
                out.push(OutboxEntry {
                    id,
                    target,
                    payload: json(&payload, "outbox.payload")?,
                    attempts,
                    last_error,
                    created_at: ts(&created_at)?,
                });
            }
            Ok(out)
        })
    }

    fn mark_delivered(&mut self, id: i64) -> Result<(), StoreError> {
        let now = Timestamp::now().to_string();
        self.write(|tx, e| {
            let n = tx
                .execute(
                    "UPDATE outbox SET delivered_at = coalesce(delivered_at, ?2) WHERE id = ?1",
                    params![id, now],
                )
                .map_err(e)?;
            if n == 0 {
                return Err(StoreError::UnknownOutboxEntry { id });
            }
            Ok(())
        })
    }

    fn mark_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError> {
        self.write(|tx, e| {
            let n = tx
                .execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                    params![id, error],
                )
                .map_err(e)?;
            if n == 0 {
                return Err(StoreError::UnknownOutboxEntry { id });
            }
            Ok(())
        })
    }

    fn check(&mut self) -> Result<(), StoreError> {
        let version = self.schema_version()?;
        self.read(|tx, e| {
            let mut problems = Vec::new();
            let mut stmt = tx.prepare("PRAGMA integrity_check").map_err(e)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(e)?;
            for row in rows {
                let line = row.map_err(e)?;
                if line != "ok" {
                    problems.push(format!("integrity_check: {line}"));
                }
            }
            let mut stmt = tx.prepare("PRAGMA foreign_key_check").map_err(e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
                })
                .map_err(e)?;
            for row in rows {
                let (table, rowid) = row.map_err(e)?;
                problems.push(format!("foreign key broken in {table} row {rowid:?}"));
            }
            for (what, sql) in crate::INVARIANTS {
                let n: i64 = tx.query_row(sql, [], |r| r.get(0)).map_err(e)?;
                if n != 0 {
                    problems.push(format!("{n} {what}"));
                }
            }
            if version != SCHEMA_VERSION {
                problems.push(format!(
                    "schema version {version}, expected {SCHEMA_VERSION}"
                ));
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(StoreError::Integrity { problems })
            }
        })
    }
}
