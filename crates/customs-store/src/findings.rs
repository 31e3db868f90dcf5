//! The findings table, written once for both backends: loading an image's rows for
//! reconciliation, writing what [`reconcile`] decided, and the timeline
//! ([`Findings::history`]).

use std::collections::{BTreeSet, HashMap};

use crate::model::{FindingId, Resolutions};
use crate::reconcile::{Change, StoredFinding, data_hash, reconcile};
use crate::sql::{Backend, Param, Row, Sql};
use crate::{
    Delta, FindingHistory, FindingRecord, Findings, ResolvedReason, StoreError, Timestamp,
};

/// First-seen times a tag move carries over to the new digest, by (id, package name).
pub(crate) type Carried = HashMap<(String, String), Timestamp>;

/// The columns of a [`StoredFinding`], then the digest.
const STORED: &str = "SELECT finding_id, package_name, package_version, severity, data_hash,
        resolved_at IS NULL, kev, digest
    FROM findings";

fn stored(r: &dyn Row) -> Result<StoredFinding, StoreError> {
    Ok(StoredFinding {
        key: FindingId {
            id: r.text(0)?,
            package_name: r.text(1)?,
            package_version: r.text(2)?,
        },
        severity: crate::word("severity", &r.text(3)?)?,
        data_hash: r.opt_i64(4)?,
        open: r.bool(5)?,
        kev: r.bool(6)?,
    })
}

/// Every findings row of one image.
pub(crate) fn load(tx: &mut dyn Sql, digest: &str) -> Result<Vec<StoredFinding>, StoreError> {
    tx.rows(
        &format!("{STORED} WHERE digest = ?1"),
        &[digest.into()],
        stored,
    )
}

/// Every findings row of the images, by digest: one query for a whole batch (a rematch of
/// thousands of images otherwise spends its time on round trips to PostgreSQL).
pub(crate) fn load_all(
    tx: &mut dyn Sql,
    digests: &[&str],
) -> Result<HashMap<String, Vec<StoredFinding>>, StoreError> {
    let sql = format!("{STORED} WHERE {}", tx.in_texts("digest", 1));
    let mut out: HashMap<String, Vec<StoredFinding>> = HashMap::new();
    tx.query(&sql, &[Param::Texts(digests)], &mut |r| {
        out.entry(r.text(7)?).or_default().push(stored(r)?);
        Ok(())
    })?;
    Ok(out)
}

/// The earliest first-seen time of each (id, package) of an image: what a tag moving away
/// from it carries over.
pub(crate) fn first_seen(tx: &mut dyn Sql, digest: &str) -> Result<Carried, StoreError> {
    // min() of the stored text is the earliest on SQLite too: timestamps are fixed-width.
    let rows = tx.rows(
        "SELECT finding_id, package_name, min(first_seen) FROM findings WHERE digest = ?1
         GROUP BY finding_id, package_name",
        &[digest.into()],
        |r| Ok(((r.text(0)?, r.text(1)?), r.time(2)?)),
    )?;
    Ok(rows.into_iter().collect())
}

/// One stored finding document, as text.
pub(crate) fn stored_data(
    tx: &mut dyn Sql,
    digest: &str,
    k: &FindingId,
) -> Result<String, StoreError> {
    tx.row(
        "SELECT data FROM findings WHERE digest = ?1 AND finding_id = ?2 AND package_name = ?3
            AND package_version = ?4",
        &[
            digest.into(),
            (&k.id).into(),
            (&k.package_name).into(),
            (&k.package_version).into(),
        ],
        |r| r.text(0),
    )?
    .ok_or_else(|| StoreError::Corrupt {
        what: "findings.data",
        detail: format!("{digest}: no row for {} in {}", k.id, k.package_name),
    })
}

/// Mark one open finding resolved at `now` for `why`.
pub(crate) fn resolve(
    tx: &mut dyn Sql,
    digest: &str,
    k: &FindingId,
    why: ResolvedReason,
    now: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE findings SET resolved_at = ?5, resolved_reason = ?6, last_changed = ?5
         WHERE digest = ?1 AND finding_id = ?2 AND package_name = ?3 AND package_version = ?4",
        &[
            digest.into(),
            (&k.id).into(),
            (&k.package_name).into(),
            (&k.package_version).into(),
            now.into(),
            why.as_str().into(),
        ],
    )?;
    Ok(())
}

/// Reconcile one image's findings (see [`reconcile`]) against its `stored` rows and write
/// the changes. New rows take their first-seen time from `carried` (the digest a tag moved
/// from) when it has the (id, package).
#[expect(
    clippy::too_many_arguments,
    reason = "one call per write path; a struct would only rename the arguments"
)]
pub(crate) fn write(
    tx: &mut dyn Sql,
    digest: &str,
    stored: Vec<StoredFinding>,
    findings: &[FindingRecord],
    scope: Option<&BTreeSet<String>>,
    resolutions: &Resolutions,
    now: Timestamp,
    carried: &Carried,
) -> Result<Delta, StoreError> {
    let (changes, delta) = reconcile(stored, findings, scope, resolutions, &mut |k| {
        stored_data(tx, digest, k)
    })?;
    // New findings (most of a rematch's writes) go in one insert; the rest row by row.
    let mut values = Vec::new();
    for change in &changes {
        let Change::Insert(f) = change else { continue };
        let first = if carried.is_empty() {
            now
        } else {
            carried
                .get(&(f.id.clone(), f.package_name.clone()))
                .copied()
                .unwrap_or(now)
        };
        values.extend([
            Param::Text(digest),
            Param::Text(&f.id),
            Param::Text(&f.package_name),
            Param::Text(&f.package_version),
            Param::Text(f.severity.as_str()),
            Param::Json(&f.data),
            Param::Time(first),
            Param::Time(now),
            Param::Bool(f.kev),
            Param::I64(data_hash(&f.data)),
        ]);
    }
    if !values.is_empty() {
        tx.insert_many(
            "findings",
            &[
                "digest",
                "finding_id",
                "package_name",
                "package_version",
                "severity",
                "data",
                "first_seen",
                "last_changed",
                "kev",
                "data_hash",
            ],
            &values,
        )?;
    }
    for change in changes {
        match change {
            Change::Insert(_) => {}
            Change::Reopen(f) | Change::Severity(f) => {
                tx.execute(
                    "UPDATE findings SET severity = ?5, data = ?6, resolved_at = NULL,
                        resolved_reason = NULL, last_changed = ?7, kev = ?8, data_hash = ?9
                     WHERE digest = ?1 AND finding_id = ?2 AND package_name = ?3
                        AND package_version = ?4",
                    &[
                        digest.into(),
                        (&f.id).into(),
                        (&f.package_name).into(),
                        (&f.package_version).into(),
                        f.severity.as_str().into(),
                        Param::Json(&f.data),
                        now.into(),
                        Param::Bool(f.kev),
                        data_hash(&f.data).into(),
                    ],
                )?;
            }
            Change::Data(f) => {
                tx.execute(
                    "UPDATE findings SET data = ?5, kev = ?6, data_hash = ?7
                     WHERE digest = ?1 AND finding_id = ?2
                        AND package_name = ?3 AND package_version = ?4",
                    &[
                        digest.into(),
                        (&f.id).into(),
                        (&f.package_name).into(),
                        (&f.package_version).into(),
                        Param::Json(&f.data),
                        Param::Bool(f.kev),
                        data_hash(&f.data).into(),
                    ],
                )?;
            }
            Change::Resolve(k, why) => resolve(tx, digest, &k, why, now)?,
        }
    }
    Ok(delta)
}

impl<B: Backend> Findings for B {
    fn history(&mut self, digest: &str) -> Result<Vec<FindingHistory>, StoreError> {
        self.read(|tx| {
            tx.rows(
                "SELECT finding_id, package_name, package_version, severity, first_seen,
                    resolved_at, resolved_reason, last_changed, data
                 FROM findings WHERE digest = ?1
                 ORDER BY first_seen, finding_id, package_name, package_version",
                &[digest.into()],
                |r| {
                    Ok(FindingHistory {
                        id: r.text(0)?,
                        package_name: r.text(1)?,
                        package_version: r.text(2)?,
                        severity: crate::word("severity", &r.text(3)?)?,
                        first_seen: r.time(4)?,
                        resolved_at: r.opt_time(5)?,
                        resolved_reason: r
                            .opt_text(6)?
                            .as_deref()
                            .map(crate::error::reason)
                            .transpose()?,
                        last_changed: r.time(7)?,
                        data: r.json(8, "findings.data")?,
                    })
                },
            )
        })
    }
}
