//! The findings table, written once for both backends: loading an image's rows for
//! reconciliation, writing what [`reconcile`] decided, and the timeline
//! ([`Findings::history`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::model::{FindingId, Resolutions};
use crate::reconcile::{Change, StoredFinding, data_hash, reconcile, resolved_doc};
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

/// The primary key of a findings row, as [`Sql::update_many`] picks rows by it.
const KEY: [&str; 4] = ["digest", "finding_id", "package_name", "package_version"];

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
    let mut writes = Writes::new(now);
    writes.add(digest, stored, findings, scope, resolutions, carried);
    Ok(writes.finish(tx)?.pop().unwrap_or_default())
}

/// The findings changes of a batch of images (a rematch's), reconciled image by image and
/// written together: one statement per kind of change and one query for the documents the
/// deltas report resolved, for the whole batch. (A statement per finding is a round trip per
/// finding on PostgreSQL: thousands in a rematch of thousands of images.)
pub(crate) struct Writes<'r> {
    now: Timestamp,
    /// One per [`add`](Writes::add), in order; `resolved` is filled by [`flush`](Writes::flush).
    deltas: Vec<Delta>,
    /// New rows, with their first-seen time.
    inserts: Vec<(&'r str, &'r FindingRecord, Timestamp)>,
    /// Reopened, or with a new severity.
    reopened: Vec<(&'r str, &'r FindingRecord)>,
    /// A new document only.
    rewritten: Vec<(&'r str, &'r FindingRecord)>,
    /// To resolve, with the delta that reports it.
    resolved: Vec<(usize, &'r str, FindingId, ResolvedReason)>,
}

impl<'r> Writes<'r> {
    pub(crate) fn new(now: Timestamp) -> Self {
        Self {
            now,
            deltas: Vec::new(),
            inserts: Vec::new(),
            reopened: Vec::new(),
            rewritten: Vec::new(),
            resolved: Vec::new(),
        }
    }

    /// Reconcile one image's findings (see [`reconcile`]) against its `stored` rows, and
    /// queue the changes. New rows take their first-seen time from `carried` (the digest a
    /// tag moved from) when it has the (id, package). Rows of an image written since its
    /// `stored` rows were read must be flushed first.
    pub(crate) fn add(
        &mut self,
        digest: &'r str,
        stored: Vec<StoredFinding>,
        findings: &'r [FindingRecord],
        scope: Option<&BTreeSet<String>>,
        resolutions: &Resolutions,
        carried: &Carried,
    ) {
        let (changes, delta) = reconcile(stored, findings, scope, resolutions);
        let at = self.deltas.len();
        self.deltas.push(delta);
        for change in changes {
            match change {
                Change::Insert(f) => {
                    let first = if carried.is_empty() {
                        self.now
                    } else {
                        carried
                            .get(&(f.id.clone(), f.package_name.clone()))
                            .copied()
                            .unwrap_or(self.now)
                    };
                    self.inserts.push((digest, f, first));
                }
                Change::Reopen(f) | Change::Severity(f) => self.reopened.push((digest, f)),
                Change::Data(f) => self.rewritten.push((digest, f)),
                Change::Resolve(k, why) => self.resolved.push((at, digest, k, why)),
            }
        }
    }

    /// Write what is queued, and add the documents of the findings it resolves to the
    /// deltas.
    ///
    /// # Errors
    /// A database failure, or a resolved finding whose stored document is missing or not
    /// JSON.
    pub(crate) fn flush(&mut self, tx: &mut dyn Sql) -> Result<(), StoreError> {
        let now = self.now;
        let resolved = std::mem::take(&mut self.resolved);
        self.report_resolved(tx, &resolved)?;
        let mut values = Vec::with_capacity(self.inserts.len() * 10);
        for (digest, f, first) in self.inserts.drain(..) {
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
        values.clear();
        for (digest, f) in self.reopened.drain(..) {
            values.extend(key(digest, f));
            values.extend([
                Param::Text(f.severity.as_str()),
                Param::Json(&f.data),
                Param::Time(now),
                Param::Bool(f.kev),
                Param::I64(data_hash(&f.data)),
            ]);
        }
        tx.update_many(
            "findings",
            &KEY,
            &["severity", "data", "last_changed", "kev", "data_hash"],
            "resolved_at = NULL, resolved_reason = NULL",
            &values,
        )?;
        values.clear();
        for (digest, f) in self.rewritten.drain(..) {
            values.extend(key(digest, f));
            values.extend([
                Param::Json(&f.data),
                Param::Bool(f.kev),
                Param::I64(data_hash(&f.data)),
            ]);
        }
        tx.update_many("findings", &KEY, &["data", "kev", "data_hash"], "", &values)?;
        values.clear();
        for (_, digest, k, why) in &resolved {
            values.extend([
                Param::Text(digest),
                Param::Text(&k.id),
                Param::Text(&k.package_name),
                Param::Text(&k.package_version),
                Param::Time(now),
                Param::Text(why.as_str()),
                Param::Time(now),
            ]);
        }
        tx.update_many(
            "findings",
            &KEY,
            &["resolved_at", "resolved_reason", "last_changed"],
            "",
            &values,
        )
    }

    /// [`flush`](Writes::flush), and the deltas in the order of [`add`](Writes::add).
    ///
    /// # Errors
    /// As [`flush`](Writes::flush).
    pub(crate) fn finish(mut self, tx: &mut dyn Sql) -> Result<Vec<Delta>, StoreError> {
        self.flush(tx)?;
        Ok(self.deltas)
    }

    /// Add the stored documents of the findings `resolved` to their deltas, in order: one
    /// query for all of them (the images' rows of those advisories, a few more than asked).
    fn report_resolved(
        &mut self,
        tx: &mut dyn Sql,
        resolved: &[(usize, &str, FindingId, ResolvedReason)],
    ) -> Result<(), StoreError> {
        if resolved.is_empty() {
            return Ok(());
        }
        let wanted: HashSet<(&str, &FindingId)> =
            resolved.iter().map(|(_, d, k, _)| (*d, k)).collect();
        let digests: Vec<&str> = wanted
            .iter()
            .map(|(d, _)| *d)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ids: Vec<&str> = wanted
            .iter()
            .map(|(_, k)| k.id.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let sql = format!(
            "SELECT digest, finding_id, package_name, package_version, data FROM findings
             WHERE {} AND {}",
            tx.in_texts("digest", 1),
            tx.in_texts("finding_id", 2)
        );
        let mut docs: HashMap<(String, FindingId), String> = HashMap::new();
        tx.query(
            &sql,
            &[Param::Texts(&digests), Param::Texts(&ids)],
            &mut |r| {
                let digest = r.text(0)?;
                let k = FindingId {
                    id: r.text(1)?,
                    package_name: r.text(2)?,
                    package_version: r.text(3)?,
                };
                if wanted.contains(&(digest.as_str(), &k)) {
                    docs.insert((digest, k), r.text(4)?);
                }
                Ok(())
            },
        )?;
        for (at, digest, k, why) in resolved {
            let data = docs
                .get(&((*digest).to_owned(), k.clone()))
                .ok_or_else(|| StoreError::Corrupt {
                    what: "findings.data",
                    detail: format!("{digest}: no row for {} in {}", k.id, k.package_name),
                })?;
            let data = crate::error::json(data, "findings.data")?;
            self.deltas[*at].resolved.push(resolved_doc(data, *why));
        }
        Ok(())
    }
}

/// The primary key of `f`'s row in image `digest`, as [`KEY`] names its columns.
fn key<'a>(digest: &'a str, f: &'a FindingRecord) -> [Param<'a>; 4] {
    [
        Param::Text(digest),
        Param::Text(&f.id),
        Param::Text(&f.package_name),
        Param::Text(&f.package_version),
    ]
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
