//! The notification outbox, written once for both backends ([`Outbox`]).

use serde_json::Value;

use crate::sql::{Backend, Param};
use crate::{Outbox, OutboxEntry, StoreError, Timestamp};

impl<B: Backend> Outbox for B {
    fn enqueue(&mut self, target: &str, payload: &Value) -> Result<i64, StoreError> {
        let now = Timestamp::now();
        self.write(|tx| {
            let id = tx.row(
                "INSERT INTO outbox (target, payload, created_at) VALUES (?1, ?2, ?3)
                 RETURNING id",
                &[target.into(), Param::Json(payload), now.into()],
                |r| r.i64(0),
            )?;
            // INSERT … RETURNING returns the row it inserted.
            id.ok_or_else(|| StoreError::Corrupt {
                what: "outbox.id",
                detail: "the insert returned no id".to_owned(),
            })
        })
    }

    fn pending(&mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(|tx| {
            tx.rows(
                "SELECT id, target, payload, attempts, last_error, created_at FROM outbox
                 WHERE delivered_at IS NULL ORDER BY id",
                &[],
                |r| {
                    Ok(OutboxEntry {
                        id: r.i64(0)?,
                        target: r.text(1)?,
                        payload: r.json(2, "outbox.payload")?,
                        attempts: u32::try_from(r.i64(3)?).unwrap_or(0),
                        last_error: r.opt_text(4)?,
                        created_at: r.time(5)?,
                    })
                },
            )
        })
    }

    fn mark_delivered(&mut self, id: i64) -> Result<(), StoreError> {
        let now = Timestamp::now();
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE outbox SET delivered_at = coalesce(delivered_at, ?2) WHERE id = ?1",
                &[id.into(), now.into()],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownOutboxEntry { id });
            }
            Ok(())
        })
    }

    fn mark_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                &[id.into(), error.into()],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownOutboxEntry { id });
            }
            Ok(())
        })
    }
}
