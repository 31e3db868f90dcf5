//! The gate's records, written once for both backends ([`Gates`]): each image's last verdict
//! under each policy, and the versioned history of a policy's exceptions.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::sql::{Backend, Param};
use crate::{ExceptionEvent, Gates, StoreError, StoredPolicyVerdict, Timestamp};

impl<B: Backend> Gates for B {
    fn put_policy_verdict(
        &mut self,
        digest: &str,
        policy: &str,
        outcome: &str,
        verdict: &Value,
        at: Timestamp,
    ) -> Result<Option<StoredPolicyVerdict>, StoreError> {
        self.write(|tx| {
            let known = tx.row(
                "SELECT 1 FROM images WHERE digest = ?1",
                &[digest.into()],
                |_| Ok(()),
            )?;
            if known.is_none() {
                return Err(StoreError::UnknownImage {
                    digest: digest.to_owned(),
                });
            }
            let previous = tx.row(
                "SELECT outcome, verdict, judged_at FROM policy_verdicts
                 WHERE digest = ?1 AND policy = ?2",
                &[digest.into(), policy.into()],
                |r| {
                    Ok(StoredPolicyVerdict {
                        policy: policy.to_owned(),
                        outcome: r.text(0)?,
                        verdict: r.json(1, "policy_verdicts.verdict")?,
                        judged_at: r.time(2)?,
                    })
                },
            )?;
            tx.execute(
                "INSERT INTO policy_verdicts (digest, policy, outcome, verdict, judged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (digest, policy) DO UPDATE SET outcome = excluded.outcome,
                    verdict = excluded.verdict, judged_at = excluded.judged_at",
                &[
                    digest.into(),
                    policy.into(),
                    outcome.into(),
                    Param::Json(verdict),
                    at.into(),
                ],
            )?;
            Ok(previous)
        })
    }

    fn policy_verdicts(&mut self, digest: &str) -> Result<Vec<StoredPolicyVerdict>, StoreError> {
        self.read(|tx| {
            tx.rows(
                "SELECT policy, outcome, verdict, judged_at FROM policy_verdicts
                 WHERE digest = ?1 ORDER BY policy",
                &[digest.into()],
                |r| {
                    Ok(StoredPolicyVerdict {
                        policy: r.text(0)?,
                        outcome: r.text(1)?,
                        verdict: r.json(2, "policy_verdicts.verdict")?,
                        judged_at: r.time(3)?,
                    })
                },
            )
        })
    }

    fn sync_exceptions(
        &mut self,
        policy: &str,
        current: &[(String, Value)],
        by: &str,
        at: Timestamp,
    ) -> Result<Vec<ExceptionEvent>, StoreError> {
        self.write(|tx| {
            // Each key's latest event: what the store last knew of it.
            let mut known: BTreeMap<String, (String, Value)> = BTreeMap::new();
            tx.query(
                "SELECT exception_key, change, exception FROM exception_events
                 WHERE policy = ?1 ORDER BY id",
                &[policy.into()],
                &mut |r| {
                    known.insert(
                        r.text(0)?,
                        (r.text(1)?, r.json(2, "exception_events.exception")?),
                    );
                    Ok(())
                },
            )?;
            let mut changes: Vec<(&str, &str, &Value)> = Vec::new();
            for (key, value) in current {
                match known.get(key) {
                    Some((change, last)) if change != "removed" => {
                        if last != value {
                            changes.push((key, "changed", value));
                        }
                    }
                    _ => changes.push((key, "added", value)),
                }
            }
            for (key, (change, last)) in &known {
                if change != "removed" && !current.iter().any(|(k, _)| k == key) {
                    changes.push((key, "removed", last));
                }
            }
            let mut out = Vec::new();
            for (key, change, value) in changes {
                let id = tx
                    .row(
                        "INSERT INTO exception_events
                            (policy, exception_key, change, exception, by_user, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                        &[
                            policy.into(),
                            key.into(),
                            change.into(),
                            Param::Json(value),
                            by.into(),
                            at.into(),
                        ],
                        |r| r.i64(0),
                    )?
                    .unwrap_or_default();
                out.push(ExceptionEvent {
                    id,
                    policy: policy.to_owned(),
                    key: key.to_owned(),
                    change: change.to_owned(),
                    exception: value.clone(),
                    by: by.to_owned(),
                    at,
                });
            }
            Ok(out)
        })
    }

    fn exception_events(
        &mut self,
        policy: Option<&str>,
    ) -> Result<Vec<ExceptionEvent>, StoreError> {
        self.read(|tx| {
            tx.rows(
                "SELECT id, policy, exception_key, change, exception, by_user, at
                 FROM exception_events WHERE CAST(?1 AS TEXT) IS NULL OR policy = ?1 ORDER BY id",
                &[Param::OptText(policy)],
                |r| {
                    Ok(ExceptionEvent {
                        id: r.i64(0)?,
                        policy: r.text(1)?,
                        key: r.text(2)?,
                        change: r.text(3)?,
                        exception: r.json(4, "exception_events.exception")?,
                        by: r.text(5)?,
                        at: r.time(6)?,
                    })
                },
            )
        })
    }
}
