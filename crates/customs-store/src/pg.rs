//! The PostgreSQL backend.
//!
//! Why the blocking `postgres` crate and not `sqlx` (which DEPENDENCIES.md lists): customs is
//! a blocking codebase (its registry client, analyzers and matcher are synchronous and use
//! threads), and `sqlx` is async-only — using it here would mean building a tokio runtime
//! inside the store and `block_on` around every call, plus a second SQLite driver in the graph
//! unless its features are pinned carefully. rust-postgres' `postgres` crate is that same
//! wrapper done once by its authors (a private current-thread runtime per client), so the
//! store stays a plain synchronous type and the public API has no runtime in it. Connections
//! use `NoTls`: the store server is local (127.0.0.1); TLS can be added with
//! `postgres-rustls` when a remote store is needed.
//!
//! Every write is one transaction that first takes a transaction-scoped advisory lock keyed
//! by the current schema, so writers queue one behind another as they do on SQLite and the
//! read-then-write findings reconciliation cannot race (READ COMMITTED is then enough).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use postgres::{Client, NoTls, Row, Transaction};
use serde_json::Value;

use crate::error::{json, reason};
use crate::model::{FindingId, RematchInput, RematchRecord, Resolutions};
use crate::reconcile::{
    Change, StoredFinding, data_hash, reconcile, rematch_input, resolved_doc, superseded,
};
use crate::{
    Delta, FindingHistory, FindingRecord, ImageDetail, ImageSummary, OutboxEntry, PackageKey,
    ResolvedReason, SCHEMA_VERSION, ScanRecord, Store, StoreError, TagEvent, Timestamp, WriteStage,
};

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
];

/// A store in a PostgreSQL database (in the first schema of the connection's `search_path`).
pub struct PgStore {
    client: Client,
}

fn pg(source: postgres::Error) -> StoreError {
    StoreError::Postgres { source }
}

fn time(row: &Row, idx: usize) -> Result<Timestamp, StoreError> {
    Ok(row.try_get::<_, SystemTime>(idx).map_err(pg)?.into())
}

fn opt_time(row: &Row, idx: usize) -> Result<Option<Timestamp>, StoreError> {
    Ok(row
        .try_get::<_, Option<SystemTime>>(idx)
        .map_err(pg)?
        .map(Into::into))
}

fn text(row: &Row, idx: usize) -> Result<String, StoreError> {
    row.try_get(idx).map_err(pg)
}

fn opt_text(row: &Row, idx: usize) -> Result<Option<String>, StoreError> {
    row.try_get(idx).map_err(pg)
}

impl PgStore {
    /// Connect to `url` (libpq URL or key=value string) without TLS, and migrate.
    ///
    /// # Errors
    /// Connection or migration failures, or [`StoreError::SchemaTooNew`].
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let client = Client::connect(url, NoTls).map_err(pg)?;
        let mut store = Self { client };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    BIGINT PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL)",
            )
            .map_err(pg)?;
            let found: i64 = tx
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM schema_migrations",
                    &[],
                )
                .and_then(|r| r.try_get(0))
                .map_err(pg)?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            for (version, sql) in (1_i64..)
                .zip(MIGRATIONS)
                .skip(usize::try_from(found).unwrap_or(0))
            {
                tx.batch_execute(sql).map_err(pg)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                    &[&version],
                )
                .map_err(pg)?;
            }
            Ok(())
        })
    }

    /// Run `f` in one transaction holding the store's write lock, and commit. Dropping the
    /// transaction (an error or a panic in `f`) rolls it back.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.batch_execute(LOCK).map_err(pg)?;
        let value = f(&mut tx)?;
        tx.commit().map_err(pg)?;
        Ok(value)
    }

    /// Run `f` in one REPEATABLE READ read-only transaction: one snapshot for all its queries.
    fn read<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg)?;
        let value = f(&mut tx)?;
        tx.commit().map_err(pg)?;
        Ok(value)
    }
}

/// Every findings row of an image, with its first-seen time.
fn load_findings(
    tx: &mut Transaction<'_>,
    digest: &str,
) -> Result<Vec<(StoredFinding, SystemTime)>, StoreError> {
    Ok(load_findings_of(tx, &[digest])?
        .remove(digest)
        .unwrap_or_default())
}

/// Every findings row of the images, by digest: one round trip for a whole batch (a rematch
/// of thousands of images otherwise spends its time waiting on the network).
fn load_findings_of(
    tx: &mut Transaction<'_>,
    digests: &[&str],
) -> Result<HashMap<String, Vec<(StoredFinding, SystemTime)>>, StoreError> {
    let rows = tx
        .query(
            "SELECT finding_id, package_name, package_version, severity, data_hash,
                resolved_at IS NULL, kev, first_seen, digest
             FROM findings WHERE digest = ANY($1)",
            &[&digests],
        )
        .map_err(pg)?;
    let mut stored: HashMap<String, Vec<(StoredFinding, SystemTime)>> = HashMap::new();
    for row in rows {
        stored.entry(text(&row, 8)?).or_default().push((
            StoredFinding {
                key: FindingId {
                    id: text(&row, 0)?,
                    package_name: text(&row, 1)?,
                    package_version: text(&row, 2)?,
                },
                severity: crate::word("severity", &text(&row, 3)?)?,
                data_hash: row.try_get(4).map_err(pg)?,
                open: row.try_get(5).map_err(pg)?,
                kev: row.try_get(6).map_err(pg)?,
            },
            row.try_get(7).map_err(pg)?,
        ));
    }
    Ok(stored)
}

/// Reconcile one image's findings (see [`reconcile`]). New rows take their first-seen time
/// from `carried` (the digest a tag moved from) when it has the (id, package).
#[allow(clippy::too_many_arguments)]
fn reconcile_findings(
    tx: &mut Transaction<'_>,
    digest: &str,
    stored: Vec<StoredFinding>,
    findings: &[FindingRecord],
    scope: Option<&BTreeSet<String>>,
    resolutions: &Resolutions,
    now: Timestamp,
    carried: &HashMap<(String, String), SystemTime>,
) -> Result<Delta, StoreError> {
    let (changes, delta) = reconcile(stored, findings, scope, resolutions, &mut |k| {
        stored_data(tx, digest, k)
    })?;
    let now = SystemTime::from(now);
    // New findings (most of a rematch's writes) go in one statement; the rest row by row.
    let (mut ids, mut names, mut versions, mut severities) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut datas, mut firsts, mut kevs, mut hashes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for change in &changes {
        if let Change::Insert(f) = change {
            ids.push(f.id.as_str());
            names.push(f.package_name.as_str());
            versions.push(f.package_version.as_str());
            severities.push(f.severity.as_str());
            datas.push(f.data.to_string());
            firsts.push(
                *carried
                    .get(&(f.id.clone(), f.package_name.clone()))
                    .unwrap_or(&now),
            );
            kevs.push(f.kev);
            hashes.push(data_hash(&f.data));
        }
    }
    if !firsts.is_empty() {
        tx.execute(
            "INSERT INTO findings (digest, finding_id, package_name, package_version, severity,
                data, first_seen, last_changed, kev, data_hash)
             SELECT $1, i, n, v, s, d, f, $2, k, h
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::timestamptz[], $9::bool[], $10::bigint[]) AS u (i, n, v, s, d, f, k, h)",
            &[
                &digest,
                &now,
                &ids,
                &names,
                &versions,
                &severities,
                &datas,
                &firsts,
                &kevs,
                &hashes,
            ],
        )
        .map_err(pg)?;
    }
    for change in changes {
        match change {
            Change::Insert(_) => Ok(0),
            Change::Reopen(f) | Change::Severity(f) => tx.execute(
                "UPDATE findings SET severity = $5, data = $6, resolved_at = NULL,
                    resolved_reason = NULL, last_changed = $7, kev = $8, data_hash = $9
                 WHERE digest = $1 AND finding_id = $2 AND package_name = $3
                    AND package_version = $4",
                &[
                    &digest,
                    &f.id,
                    &f.package_name,
                    &f.package_version,
                    &f.severity.as_str(),
                    &f.data.to_string(),
                    &now,
                    &f.kev,
                    &data_hash(&f.data),
                ],
            ),
            Change::Data(f) => tx.execute(
                "UPDATE findings SET data = $5, kev = $6, data_hash = $7
                 WHERE digest = $1 AND finding_id = $2
                    AND package_name = $3 AND package_version = $4",
                &[
                    &digest,
                    &f.id,
                    &f.package_name,
                    &f.package_version,
                    &f.data.to_string(),
                    &f.kev,
                    &data_hash(&f.data),
                ],
            ),
            Change::Resolve(k, why) => resolve(tx, digest, &k, why, now),
        }
        .map_err(pg)?;
    }
    Ok(delta)
}

/// One stored finding document.
fn stored_data(
    tx: &mut Transaction<'_>,
    digest: &str,
    k: &FindingId,
) -> Result<String, StoreError> {
    tx.query_one(
        "SELECT data FROM findings WHERE digest = $1 AND finding_id = $2 AND package_name = $3
            AND package_version = $4",
        &[&digest, &k.id, &k.package_name, &k.package_version],
    )
    .and_then(|r| r.try_get(0))
    .map_err(pg)
}

fn resolve(
    tx: &mut Transaction<'_>,
    digest: &str,
    k: &FindingId,
    why: ResolvedReason,
    now: SystemTime,
) -> Result<u64, postgres::Error> {
    tx.execute(
        "UPDATE findings SET resolved_at = $5, resolved_reason = $6, last_changed = $5
         WHERE digest = $1 AND finding_id = $2 AND package_name = $3 AND package_version = $4",
        &[
            &digest,
            &k.id,
            &k.package_name,
            &k.package_version,
            &now,
            &why.as_str(),
        ],
    )
}

/// Whether any tag's latest row points at `digest`.
fn is_tagged(tx: &mut Transaction<'_>, digest: &str) -> Result<bool, StoreError> {
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM tags t WHERE t.digest = $1
            AND t.id = (SELECT max(u.id) FROM tags u
                        WHERE u.repository = t.repository AND u.tag = t.tag))",
        &[&digest],
    )
    .and_then(|r| r.try_get(0))
    .map_err(pg)
}

fn summaries(
    tx: &mut Transaction<'_>,
    only: Option<&str>,
) -> Result<Vec<(ImageSummary, String)>, StoreError> {
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in tx
        .query(
            "SELECT t.repository, t.tag, t.digest FROM tags t
             WHERE ($1::text IS NULL OR t.digest = $1)
               AND t.id = (SELECT max(u.id) FROM tags u
                           WHERE u.repository = t.repository AND u.tag = t.tag)
             ORDER BY t.repository, t.tag",
            &[&only],
        )
        .map_err(pg)?
    {
        let (repository, tag) = (text(&row, 0)?, text(&row, 1)?);
        tags.entry(text(&row, 2)?)
            .or_default()
            .push(format!("{repository}:{tag}"));
    }
    let mut open: BTreeMap<String, BTreeMap<crate::Severity, u64>> = BTreeMap::new();
    for row in tx
        .query(
            "SELECT digest, severity, count(*) FROM findings
             WHERE resolved_at IS NULL AND ($1::text IS NULL OR digest = $1)
             GROUP BY digest, severity",
            &[&only],
        )
        .map_err(pg)?
    {
        let n: i64 = row.try_get(2).map_err(pg)?;
        open.entry(text(&row, 0)?).or_default().insert(
            crate::word("severity", &text(&row, 1)?)?,
            u64::try_from(n).unwrap_or(0),
        );
    }
    let mut out = Vec::new();
    for row in tx
        .query(
            "SELECT digest, repository, first_scanned_at, last_scanned_at, db_built_at,
                CASE WHEN $1::text IS NULL THEN '' ELSE
                    (SELECT v.inventory FROM inventories v WHERE v.digest = images.digest) END
             FROM images WHERE $1::text IS NULL OR digest = $1
             ORDER BY last_scanned_at DESC, digest",
            &[&only],
        )
        .map_err(pg)?
    {
        let digest = text(&row, 0)?;
        out.push((
            ImageSummary {
                tags: tags.remove(&digest).unwrap_or_default(),
                open: open.remove(&digest).unwrap_or_default(),
                digest,
                repository: opt_text(&row, 1)?,
                first_scanned_at: time(&row, 2)?,
                last_scanned_at: time(&row, 3)?,
                db_built_at: crate::built_at(opt_text(&row, 4)?)?,
            },
            text(&row, 5)?,
        ));
    }
    Ok(out)
}

fn latest_tag(
    tx: &mut Transaction<'_>,
    repository: &str,
    tag: &str,
) -> Result<Option<String>, StoreError> {
    tx.query_opt(
        "SELECT digest FROM tags WHERE repository = $1 AND tag = $2 ORDER BY id DESC LIMIT 1",
        &[&repository, &tag],
    )
    .map_err(pg)?
    .map(|row| text(&row, 0))
    .transpose()
}

impl Store for PgStore {
    fn schema_version(&mut self) -> Result<i64, StoreError> {
        self.client
            .query_one("SELECT max(version) FROM schema_migrations", &[])
            .and_then(|r| r.try_get(0))
            .map_err(pg)
    }

    fn put_scan_with(
        &mut self,
        record: &ScanRecord,
        on_stage: &mut dyn FnMut(WriteStage),
    ) -> Result<Delta, StoreError> {
        crate::validate(record)?;
        let inventory = record.inventory.to_string();
        let context = record.context.to_string();
        let mut ecosystems: Vec<&str> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut seqs: Vec<i64> = Vec::new();
        let mut datas: Vec<String> = Vec::new();
        let mut indexed = BTreeSet::new();
        for (seq, p) in (0_i64..).zip(&record.packages) {
            datas.push(p.data.to_string());
            for k in &p.keys {
                if indexed.insert((k, seq)) {
                    ecosystems.push(k.ecosystem.as_str());
                    names.push(&k.name);
                    seqs.push(seq);
                }
            }
        }
        let all_seqs: Vec<i64> = (0_i64..).take(datas.len()).collect();
        let now = SystemTime::from(record.scanned_at);
        let db_built_at = record.db_built_at.map(|t| t.to_string());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO images (digest, repository, first_scanned_at, last_scanned_at,
                    db_built_at)
                 VALUES ($1, $2, $3, $3, $4)
                 ON CONFLICT (digest) DO UPDATE SET
                    repository = coalesce(excluded.repository, images.repository),
                    first_scanned_at = least(images.first_scanned_at, excluded.first_scanned_at),
                    last_scanned_at = greatest(images.last_scanned_at, excluded.last_scanned_at),
                    db_built_at = coalesce(excluded.db_built_at, images.db_built_at)",
                &[&record.digest, &record.repository, &now, &db_built_at],
            )
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO inventories (digest, inventory) VALUES ($1, $2)
                 ON CONFLICT (digest) DO UPDATE SET inventory = excluded.inventory",
                &[&record.digest, &inventory],
            )
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO contexts (digest, context) VALUES ($1, $2)
                 ON CONFLICT (digest) DO UPDATE SET context = excluded.context",
                &[&record.digest, &context],
            )
            .map_err(pg)?;
            on_stage(WriteStage::ImageWritten);
            let mut previous = None;
            if let (Some(repository), Some(tag)) = (&record.repository, &record.tag) {
                let current = latest_tag(tx, repository, tag)?;
                if current.as_deref() != Some(record.digest.as_str()) {
                    tx.execute(
                        "INSERT INTO tags (repository, tag, digest, seen_at)
                         VALUES ($1, $2, $3, $4)",
                        &[repository, tag, &record.digest, &now],
                    )
                    .map_err(pg)?;
                    previous = current;
                }
            }
            on_stage(WriteStage::TagWritten);
            for table in ["package_index", "packages"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE digest = $1"),
                    &[&record.digest],
                )
                .map_err(pg)?;
            }
            tx.execute(
                "INSERT INTO packages (digest, seq, data)
                 SELECT $3, s, d FROM unnest($1::bigint[], $2::text[]) AS u (s, d)",
                &[&all_seqs, &datas, &record.digest],
            )
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO package_index (ecosystem, name, digest, package)
                 SELECT e, n, $4, s FROM unnest($1::text[], $2::text[], $3::bigint[])
                    AS u (e, n, s)",
                &[&ecosystems, &names, &seqs, &record.digest],
            )
            .map_err(pg)?;
            on_stage(WriteStage::PackagesIndexed);
            let previous_findings = match &previous {
                Some(p) => load_findings(tx, p)?,
                None => Vec::new(),
            };
            let mut carried: HashMap<(String, String), SystemTime> = HashMap::new();
            for (f, first) in &previous_findings {
                let slot = carried
                    .entry((f.key.id.clone(), f.key.package_name.clone()))
                    .or_insert(*first);
                *slot = (*slot).min(*first);
            }
            let stored = load_findings(tx, &record.digest)?
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            let mut delta = reconcile_findings(
                tx,
                &record.digest,
                stored,
                &record.findings,
                None,
                &record.resolutions,
                record.scanned_at,
                &carried,
            )?;
            if let Some(previous) = previous
                && !is_tagged(tx, &previous)?
            {
                let stored = previous_findings.into_iter().map(|(f, _)| f).collect();
                for (key, why, data) in
                    superseded(stored, &record.findings, &record.packages, &mut |k| {
                        stored_data(tx, &previous, k)
                    })?
                {
                    resolve(tx, &previous, &key, why, now).map_err(pg)?;
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
        let digests: Vec<&str> = batch.iter().map(|r| r.digest.as_str()).collect();
        self.write(|tx| {
            let known: BTreeSet<String> = tx
                .query(
                    "UPDATE images SET db_built_at = coalesce($2, db_built_at)
                     WHERE digest = ANY($1) RETURNING digest",
                    &[&digests, &db_built_at],
                )
                .map_err(pg)?
                .iter()
                .map(|r| text(r, 0))
                .collect::<Result<_, _>>()?;
            if let Some(missing) = digests.iter().find(|d| !known.contains(**d)) {
                return Err(StoreError::UnknownImage {
                    digest: (*missing).to_owned(),
                });
            }
            let mut stored = load_findings_of(tx, &digests)?;
            let mut deltas = Vec::with_capacity(batch.len());
            let mut seen = BTreeSet::new();
            for record in batch {
                // A digest twice in one batch reads what its first record wrote.
                let rows = if seen.insert(record.digest.as_str()) {
                    stored.remove(&record.digest).unwrap_or_default()
                } else {
                    load_findings(tx, &record.digest)?
                };
                let rows = rows.into_iter().map(|(f, _)| f).collect();
                deltas.push(reconcile_findings(
                    tx,
                    &record.digest,
                    rows,
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
        self.read(|tx| {
            // digest -> seq -> package document
            let mut packages: BTreeMap<String, BTreeMap<i64, Value>> = BTreeMap::new();
            let rows = match keys {
                None => tx
                    .query("SELECT digest, seq, data FROM packages", &[])
                    .map_err(pg)?,
                Some(keys) => {
                    let (ecosystems, names): (Vec<&str>, Vec<&str>) = keys
                        .iter()
                        .map(|k| (k.ecosystem.as_str(), k.name.as_str()))
                        .unzip();
                    tx.query(
                        "SELECT i.digest, i.package, p.data
                         FROM unnest($1::text[], $2::text[]) AS k (e, n)
                         JOIN package_index i ON i.ecosystem = k.e AND i.name = k.n
                         LEFT JOIN packages p ON p.digest = i.digest AND p.seq = i.package",
                        &[&ecosystems, &names],
                    )
                    .map_err(pg)?
                }
            };
            for row in rows {
                let slot = packages.entry(text(&row, 0)?).or_default();
                // A schema-1 row (-1) names the image only; its inventory is read.
                if let Some(data) = opt_text(&row, 2)? {
                    slot.insert(row.try_get(1).map_err(pg)?, json(&data, "packages.data")?);
                }
            }
            let digests: Option<Vec<&str>> =
                keys.map(|_| packages.keys().map(String::as_str).collect());
            let rows = tx
                .query(
                    "SELECT i.digest, c.context, CASE WHEN c.context IS NULL THEN
                        (SELECT v.inventory FROM inventories v WHERE v.digest = i.digest) END
                     FROM images i LEFT JOIN contexts c ON c.digest = i.digest
                     WHERE $1::text[] IS NULL OR i.digest = ANY($1) ORDER BY i.digest",
                    &[&digests],
                )
                .map_err(pg)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let digest = text(&row, 0)?;
                let list = packages
                    .remove(&digest)
                    .map(|m| m.into_values().collect())
                    .unwrap_or_default();
                out.push(rematch_input(
                    digest,
                    opt_text(&row, 1)?,
                    opt_text(&row, 2)?,
                    list,
                )?);
            }
            Ok(out)
        })
    }

    fn images(&mut self) -> Result<Vec<ImageSummary>, StoreError> {
        self.read(|tx| Ok(summaries(tx, None)?.into_iter().map(|(s, _)| s).collect()))
    }

    fn image(&mut self, reference: &str) -> Result<Option<ImageDetail>, StoreError> {
        let r = crate::parse_reference(reference);
        self.read(|tx| {
            let mut found = summaries(tx, Some(r.digest))?;
            if found.is_empty()
                && let Some((repository, tag)) = r.tag
                && let Some(digest) = latest_tag(tx, repository, tag)?
            {
                found = summaries(tx, Some(&digest))?;
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
        let rows = self
            .client
            .query(
                "SELECT digest, seen_at FROM tags WHERE repository = $1 AND tag = $2 ORDER BY id",
                &[&repository, &tag],
            )
            .map_err(pg)?;
        rows.iter()
            .map(|row| {
                Ok(TagEvent {
                    repository: repository.to_owned(),
                    tag: tag.to_owned(),
                    digest: text(row, 0)?,
                    seen_at: time(row, 1)?,
                })
            })
            .collect()
    }

    fn history(&mut self, digest: &str) -> Result<Vec<FindingHistory>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT finding_id, package_name, package_version, severity, first_seen,
                    resolved_at, resolved_reason, last_changed, data
                 FROM findings WHERE digest = $1
                 ORDER BY first_seen, finding_id, package_name, package_version",
                &[&digest],
            )
            .map_err(pg)?;
        rows.iter()
            .map(|row| {
                Ok(FindingHistory {
                    id: text(row, 0)?,
                    package_name: text(row, 1)?,
                    package_version: text(row, 2)?,
                    severity: crate::word("severity", &text(row, 3)?)?,
                    first_seen: time(row, 4)?,
                    resolved_at: opt_time(row, 5)?,
                    resolved_reason: opt_text(row, 6)?.as_deref().map(reason).transpose()?,
                    last_changed: time(row, 7)?,
                    data: json(&text(row, 8)?, "findings.data")?,
                })
            })
            .collect()
    }

    fn images_with_package(
        &mut self,
        ecosystem: crate::Ecosystem,
        name: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT DISTINCT digest FROM package_index WHERE ecosystem = $1 AND name = $2
                 ORDER BY digest",
                &[&ecosystem.as_str(), &name],
            )
            .map_err(pg)?;
        rows.iter().map(|row| text(row, 0)).collect()
    }

    fn enqueue(&mut self, target: &str, payload: &Value) -> Result<i64, StoreError> {
        let payload = payload.to_string();
        let now = SystemTime::from(Timestamp::now());
        self.write(|tx| {
            tx.query_one(
                "INSERT INTO outbox (target, payload, created_at) VALUES ($1, $2, $3)
                 RETURNING id",
                &[&target, &payload, &now],
            )
            .and_then(|r| r.try_get(0))
            .map_err(pg)
        })
    }

    fn pending(&mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT id, target, payload, attempts, last_error, created_at FROM outbox
                 WHERE delivered_at IS NULL ORDER BY id",
                &[],
            )
            .map_err(pg)?;
        rows.iter()
            .map(|row| {
                Ok(OutboxEntry {
                    id: row.try_get(0).map_err(pg)?,
                    target: text(row, 1)?,
                    payload: json(&text(row, 2)?, "outbox.payload")?,
                    attempts: u32::try_from(row.try_get::<_, i32>(3).map_err(pg)?).unwrap_or(0),
                    last_error: opt_text(row, 4)?,
                    created_at: time(row, 5)?,
                })
            })
            .collect()
    }

    fn mark_delivered(&mut self, id: i64) -> Result<(), StoreError> {
        let now = SystemTime::from(Timestamp::now());
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE outbox SET delivered_at = coalesce(delivered_at, $2) WHERE id = $1",
                    &[&id, &now],
                )
                .map_err(pg)?;
            if n == 0 {
                return Err(StoreError::UnknownOutboxEntry { id });
            }
            Ok(())
        })
    }

    fn mark_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                    &[&id, &error],
                )
                .map_err(pg)?;
            if n == 0 {
                return Err(StoreError::UnknownOutboxEntry { id });
            }
            Ok(())
        })
    }

    fn check(&mut self) -> Result<(), StoreError> {
        let version = self.schema_version()?;
        self.read(|tx| {
            let mut problems = Vec::new();
            for (what, sql) in crate::INVARIANTS {
                let n: i64 = tx
                    .query_one(*sql, &[])
                    .and_then(|r| r.try_get(0))
                    .map_err(pg)?;
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
