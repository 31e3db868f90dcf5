//! The scheduler: `watch` moved into the service. At start and then every interval it queues
//! a rematch job (the workers update the database first and notify after, as `watch`'s round
//! does); the last run and the next one are visible at `GET /api/v1/schedule`.

use std::time::Duration;

use customs_app::worker::REMATCH;
use customs_store::{NewJob, Timestamp};
use serde_json::Value;

use crate::state::AppState;

/// What the schedule did last and will do next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schedule {
    /// The interval, when scheduling is on.
    pub(crate) every: Option<Duration>,
    /// The last rematch queued: its job, and when.
    pub(crate) last: Option<(i64, Timestamp)>,
    /// When the next one will be queued.
    pub(crate) next: Option<Timestamp>,
    /// Why the last attempt to queue one failed, if it did.
    pub(crate) error: Option<String>,
}

pub(crate) async fn run(state: AppState, every: Duration) {
    loop {
        let attempts = state.config().max_attempts;
        let queued = state
            .pool()
            .run(move |store| {
                Ok(store.enqueue_job(&NewJob {
                    kind: REMATCH,
                    key: "scheduled",
                    payload: &Value::Object(serde_json::Map::new()),
                    max_attempts: attempts,
                })?)
            })
            .await;
        let now = Timestamp::now();
        state.update_schedule(|s| {
            s.every = Some(every);
            match &queued {
                Ok(q) => {
                    s.last = Some((q.id, now));
                    s.error = None;
                }
                Err(e) => s.error = Some(e.to_string()),
            }
            s.next = Some(now.saturating_add(every));
        });
        match queued {
            Ok(q) => tracing::info!(job = q.id, created = q.created, "scheduled rematch queued"),
            Err(e) => tracing::error!(error = %e, "queueing the scheduled rematch"),
        }
        tokio::time::sleep(every).await;
    }
}
