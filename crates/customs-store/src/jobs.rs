//! The job queue and the API tokens, written once for both backends ([`Jobs`], [`Tokens`]).
//!
//! A job is claimed with a lease: `running` until `lease_until`, then claimable again, so a
//! job whose worker died is taken by another once its lease ends. The attempt number taken
//! with the lease fences every later change (`WHERE attempts = ?`): a worker whose lease
//! ran out cannot complete, fail or release a job another worker now holds. Claims and state
//! changes run in [`Backend::queue`] transactions (on PostgreSQL without the store's write
//! lock, rows locked with `FOR UPDATE SKIP LOCKED`); a completion that stores a scan runs in
//! the write transaction of the scan, so the job is done exactly when its scan is stored.

use std::time::Duration;

use serde_json::Value;

use crate::scans::{ScanRows, write_scan};
use crate::sql::{Backend, Param, Row, Sql};
use crate::{
    Delta, Enqueued, Job, JobState, Jobs, Layers, Lease, NewJob, QueueCounts, ScanRecord,
    StoreError, Timestamp, TokenRecord, Tokens, WriteStage,
};

/// The payload member that holds a credential for the job's run (a registry authorization):
/// dropped when the job ends, done or dead, so no finished job keeps a secret.
const SECRET: &str = "authorization";

const COLUMNS: &str = "id, kind, job_key, payload, state, attempts, max_attempts, run_at, \
     lease_until, worker, last_error, result, created_at, finished_at";

fn job(r: &dyn Row) -> Result<Job, StoreError> {
    Ok(Job {
        id: r.i64(0)?,
        kind: r.text(1)?,
        key: r.text(2)?,
        payload: r.json(3, "jobs.payload")?,
        state: crate::word("job state", &r.text(4)?)?,
        attempts: count(r.i64(5)?),
        max_attempts: count(r.i64(6)?),
        run_at: r.time(7)?,
        lease_until: r.opt_time(8)?,
        worker: r.opt_text(9)?,
        last_error: r.opt_text(10)?,
        result: r.opt_json(11, "jobs.result")?,
        created_at: r.time(12)?,
        finished_at: r.opt_time(13)?,
    })
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `Ok(())` when the fenced statement changed the job, else [`StoreError::LeaseLost`].
fn fenced(n: u64, lease: &Lease) -> Result<(), StoreError> {
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::LeaseLost {
            id: lease.job.id,
            worker: lease.worker.clone(),
        })
    }
}

/// The fence every change by a lease holder carries: the job is still running under this
/// worker and this attempt.
const FENCE: &str = "id = ?1 AND state = 'running' AND worker = ?2 AND attempts = ?3";

fn fence(lease: &Lease) -> [Param<'_>; 3] {
    [
        Param::I64(lease.job.id),
        Param::Text(&lease.worker),
        Param::I64(i64::from(lease.job.attempts)),
    ]
}

fn complete_in(
    tx: &mut dyn Sql,
    lease: &Lease,
    result: &Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    let [id, worker, attempt] = fence(lease);
    let n = tx.execute(
        &format!(
            "UPDATE jobs SET state = 'done', lease_until = NULL, result = ?4, finished_at = ?5,
                payload = {}
             WHERE {FENCE}",
            tx.json_without("payload", SECRET)
        ),
        &[id, worker, attempt, Param::Json(result), now.into()],
    )?;
    fenced(n, lease)
}

impl<B: Backend> Jobs for B {
    fn enqueue_job(&mut self, job: &NewJob<'_>) -> Result<Enqueued, StoreError> {
        let now = Timestamp::now();
        self.queue(|tx| {
            let id = tx.row(
                "INSERT INTO jobs (kind, job_key, payload, state, max_attempts, run_at, created_at)
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?5)
                 ON CONFLICT (kind, job_key) WHERE state IN ('queued', 'running') DO NOTHING
                 RETURNING id",
                &[
                    job.kind.into(),
                    job.key.into(),
                    Param::Json(job.payload),
                    Param::I64(i64::from(job.max_attempts.max(1))),
                    now.into(),
                ],
                |r| r.i64(0),
            )?;
            if let Some(id) = id {
                return Ok(Enqueued { id, created: true });
            }
            let live = tx.row(
                "SELECT id FROM jobs WHERE kind = ?1 AND job_key = ?2
                 AND state IN ('queued', 'running')",
                &[job.kind.into(), job.key.into()],
                |r| r.i64(0),
            )?;
            // The live job can only have left the live states in a transaction that
            // committed after our conflict check; then ours would not have conflicted.
            live.map(|id| Enqueued { id, created: false })
                .ok_or_else(|| StoreError::Corrupt {
                    what: "jobs",
                    detail: format!("no live {} job for {} after a conflict", job.kind, job.key),
                })
        })
    }

    fn claim(&mut self, worker: &str, lease: Duration) -> Result<Option<Lease>, StoreError> {
        let now = Timestamp::now();
        let until = now.saturating_add(lease);
        self.queue(|tx| {
            // A job whose lease ended on its last allowed attempt is dead, not retried.
            let sql = format!(
                "UPDATE jobs SET state = 'dead', lease_until = NULL, finished_at = ?1,
                    last_error = coalesce(last_error || '; ', '') || 'lease ended',
                    payload = {}
                 WHERE state = 'running' AND lease_until < ?1 AND attempts >= max_attempts",
                tx.json_without("payload", SECRET)
            );
            tx.execute(&sql, &[now.into()])?;
            let sql = format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?2,
                    worker = ?3
                 WHERE id = (SELECT id FROM jobs
                    WHERE (state = 'queued' AND run_at <= ?1)
                       OR (state = 'running' AND lease_until < ?1)
                    ORDER BY run_at, id LIMIT 1{})
                 RETURNING {COLUMNS}",
                tx.skip_locked()
            );
            let job = tx.row(&sql, &[now.into(), until.into(), worker.into()], job)?;
            Ok(job.map(|job| Lease {
                job,
                worker: worker.to_owned(),
            }))
        })
    }

    fn extend(&mut self, lease: &Lease, by: Duration) -> Result<Timestamp, StoreError> {
        let until = Timestamp::now().saturating_add(by);
        self.queue(|tx| {
            let [id, worker, attempt] = fence(lease);
            let n = tx.execute(
                &format!("UPDATE jobs SET lease_until = ?4 WHERE {FENCE}"),
                &[id, worker, attempt, until.into()],
            )?;
            fenced(n, lease)
        })?;
        Ok(until)
    }

    fn complete(&mut self, lease: &Lease, result: &Value) -> Result<(), StoreError> {
        let now = Timestamp::now();
        self.queue(|tx| complete_in(tx, lease, result, now))
    }

    fn complete_scan(
        &mut self,
        lease: &Lease,
        record: &ScanRecord,
        result: &Value,
    ) -> Result<Delta, StoreError> {
        let rows = ScanRows::of(record)?;
        let now = Timestamp::now();
        self.write(|tx| {
            // The fence first: a lost lease stores nothing.
            complete_in(tx, lease, result, now)?;
            write_scan(tx, record, &rows, &mut |_: WriteStage| {})
        })
    }

    fn fail(
        &mut self,
        lease: &Lease,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<JobState, StoreError> {
        let now = Timestamp::now();
        self.queue(|tx| {
            let [id, worker, attempt] = fence(lease);
            let dead = retry_at.is_none() || lease.job.attempts >= lease.job.max_attempts;
            let n = if dead {
                tx.execute(
                    &format!(
                        "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = ?4,
                            finished_at = ?5, payload = {}
                         WHERE {FENCE}",
                        tx.json_without("payload", SECRET)
                    ),
                    &[id, worker, attempt, error.into(), now.into()],
                )?
            } else {
                tx.execute(
                    &format!(
                        "UPDATE jobs SET state = 'queued', lease_until = NULL, last_error = ?4,
                            run_at = ?5
                         WHERE {FENCE}"
                    ),
                    &[
                        id,
                        worker,
                        attempt,
                        error.into(),
                        retry_at.unwrap_or(now).into(),
                    ],
                )?
            };
            fenced(n, lease)?;
            Ok(if dead {
                JobState::Dead
            } else {
                JobState::Queued
            })
        })
    }

    fn release(&mut self, lease: &Lease) -> Result<(), StoreError> {
        let now = Timestamp::now();
        self.queue(|tx| {
            let [id, worker, attempt] = fence(lease);
            // Not counted as an attempt: the worker stopped, the job did not fail.
            let n = tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'queued', lease_until = NULL,
                        attempts = attempts - 1, run_at = ?4
                     WHERE {FENCE}"
                ),
                &[id, worker, attempt, now.into()],
            )?;
            fenced(n, lease)
        })
    }

    fn job(&mut self, id: i64) -> Result<Option<Job>, StoreError> {
        self.read(|tx| {
            tx.row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
                &[id.into()],
                job,
            )
        })
    }

    fn jobs(
        &mut self,
        state: Option<JobState>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        self.read(|tx| {
            tx.rows(
                &format!(
                    "SELECT {COLUMNS} FROM jobs
                     WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1) AND id < ?2
                     ORDER BY id DESC LIMIT ?3"
                ),
                &[
                    Param::OptText(state.map(JobState::as_str)),
                    Param::I64(before.unwrap_or(i64::MAX)),
                    Param::I64(i64::from(limit)),
                ],
                job,
            )
        })
    }

    fn queue_counts(&mut self) -> Result<QueueCounts, StoreError> {
        self.read(|tx| {
            let mut counts = QueueCounts::default();
            tx.query(
                "SELECT state, count(*) FROM jobs GROUP BY state",
                &[],
                &mut |r| {
                    let n = u64::try_from(r.i64(1)?).unwrap_or(0);
                    match crate::word::<JobState>("job state", &r.text(0)?)? {
                        JobState::Queued => counts.queued = n,
                        JobState::Running => counts.running = n,
                        JobState::Done => counts.done = n,
                        JobState::Dead => counts.dead = n,
                    }
                    Ok(())
                },
            )?;
            Ok(counts)
        })
    }
}

const TOKEN_COLUMNS: &str = "id, name, scope, created_at, revoked_at";

fn token(r: &dyn Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: r.i64(0)?,
        name: r.text(1)?,
        scope: r.text(2)?,
        created_at: r.time(3)?,
        revoked_at: r.opt_time(4)?,
    })
}

impl<B: Backend> Tokens for B {
    fn create_token(
        &mut self,
        name: &str,
        scope: &str,
        hash: &str,
        at: Timestamp,
    ) -> Result<TokenRecord, StoreError> {
        self.write(|tx| {
            let taken = tx
                .row(
                    "SELECT 1 FROM api_tokens WHERE name = ?1",
                    &[name.into()],
                    |r| r.i64(0),
                )?
                .is_some();
            if taken {
                return Err(StoreError::TokenNameTaken {
                    name: name.to_owned(),
                });
            }
            tx.row(
                &format!(
                    "INSERT INTO api_tokens (name, scope, hash, created_at) VALUES (?1, ?2, ?3, ?4)
                     RETURNING {TOKEN_COLUMNS}"
                ),
                &[name.into(), scope.into(), hash.into(), at.into()],
                token,
            )?
            .ok_or_else(|| StoreError::Corrupt {
                what: "api_tokens",
                detail: "the insert returned no row".to_owned(),
            })
        })
    }

    fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.read(|tx| {
            tx.row(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?1"),
                &[hash.into()],
                token,
            )
        })
    }

    fn revoke_token(&mut self, name: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                &[name.into(), at.into()],
            )?;
            Ok(n == 1)
        })
    }

    fn tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|tx| {
            tx.rows(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"),
                &[],
                token,
            )
        })
    }
}

impl<B: Backend> Layers for B {
    fn layer_facts(&mut self, set: &str, diff_id: &str) -> Result<Option<String>, StoreError> {
        self.read(|tx| {
            tx.row(
                "SELECT facts FROM layer_facts WHERE set_version = ?1 AND diff_id = ?2",
                &[set.into(), diff_id.into()],
                |r| r.text(0),
            )
        })
    }

    fn put_layer_facts(&mut self, set: &str, diff_id: &str, facts: &str) -> Result<(), StoreError> {
        let now = Timestamp::now();
        self.queue(|tx| {
            tx.execute(
                "INSERT INTO layer_facts (set_version, diff_id, facts, stored_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (set_version, diff_id) DO UPDATE SET facts = excluded.facts,
                    stored_at = excluded.stored_at",
                &[set.into(), diff_id.into(), facts.into(), now.into()],
            )?;
            tx.execute(
                "DELETE FROM layer_claims WHERE set_version = ?1 AND diff_id = ?2",
                &[set.into(), diff_id.into()],
            )?;
            Ok(())
        })
    }

    fn claim_layer(
        &mut self,
        set: &str,
        diff_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        let until = now.saturating_add(ttl);
        self.queue(|tx| {
            // Taken when there is no claim, when the claim has expired, or when it is ours.
            let n = tx.execute(
                "INSERT INTO layer_claims (set_version, diff_id, holder, expires_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (set_version, diff_id) DO UPDATE SET holder = excluded.holder,
                    expires_at = excluded.expires_at
                 WHERE layer_claims.expires_at < ?5 OR layer_claims.holder = excluded.holder",
                &[
                    set.into(),
                    diff_id.into(),
                    holder.into(),
                    until.into(),
                    now.into(),
                ],
            )?;
            Ok(n == 1)
        })
    }

    fn release_layer(&mut self, set: &str, diff_id: &str, holder: &str) -> Result<(), StoreError> {
        self.queue(|tx| {
            tx.execute(
                "DELETE FROM layer_claims WHERE set_version = ?1 AND diff_id = ?2 AND holder = ?3",
                &[set.into(), diff_id.into(), holder.into()],
            )?;
            Ok(())
        })
    }
}
