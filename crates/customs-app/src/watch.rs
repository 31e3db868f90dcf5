//! The lifecycle loop (`customs watch`): update the database, re-match every stored image,
//! notify; then wait, until told to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use customs_store::Store;
use customs_vulndb::{FeedSource, UpdateReport};

use crate::database::{self, DbLocation};
use crate::notify::{Delivery, Notifier};
use crate::rematch::{RematchOptions, RematchReport, rematch};
use crate::{CacheDir, Result};

/// How often, and what each round does.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Time between the end of one round and the start of the next.
    pub interval: Duration,
    /// Feeds to fetch each round; `None` to re-match against the database as it stands (kept
    /// current by something else).
    pub feeds: Option<Vec<FeedSource>>,
    /// Stop after this many rounds; `None` to run until stopped.
    pub rounds: Option<u64>,
    /// The database updated and matched against.
    pub db: DbLocation,
    /// Where feed downloads are kept.
    pub cache: CacheDir,
    /// How feeds are fetched.
    pub http: customs_http::Transport,
    /// Where deltas are sent.
    pub notifier: Notifier,
    /// A policy to judge every stored image by each round; its verdict changes are reported
    /// and sent with the delta.
    pub policy: Option<std::sync::Arc<customs_policy::Policy>>,
    /// Who runs customs (recorded with exception changes).
    pub by: String,
    /// VEX documents applied before each image is judged by `policy`.
    pub vex: Vec<customs_policy::vex::VexDocument>,
}

/// What happened in a round, as it happens.
#[derive(Debug)]
pub enum WatchEvent {
    /// The feeds were fetched and the database rebuilt.
    Updated(UpdateReport),
    /// The update failed; the round re-matches against the previous database.
    UpdateFailed(crate::AppError),
    /// The stored images were re-matched.
    Rematched(RematchReport),
    /// The rematch failed; the next round tries again.
    RematchFailed(crate::AppError),
    /// Notifications were delivered (or kept for later).
    Notified(Delivery),
}

/// Re-match every stored image against the database and send the delta to `notifier`'s
/// targets when anything changed (what earlier runs could not deliver goes anyway).
///
/// # Errors
/// As [`rematch`], and the store's errors while queueing notifications.
pub fn rematch_and_notify(
    store: &mut dyn Store,
    db: &customs_vulndb::VulnDb,
    opts: &RematchOptions<'_>,
    notifier: &Notifier,
) -> Result<(RematchReport, Option<Delivery>)> {
    let mut report = rematch(store, db, opts)?;
    if let Some(r) = &opts.rejudge {
        report.verdicts = crate::gate::rejudge(store, db, r)?;
    }
    if notifier.targets.is_empty() {
        return Ok((report, None));
    }
    let payload = if report.anything_changed() {
        Some(
            serde_json::to_value(&report)
                .map_err(|e| crate::AppError::invalid("the rematch report", e.to_string()))?,
        )
    } else {
        None
    };
    let delivery = notifier.send(store, payload.as_ref())?;
    Ok((report, Some(delivery)))
}

/// Run rounds until `stop` is set (checked between steps and while waiting, never in the
/// middle of a store write) or `opts.rounds` are done; returns the rounds run. A failed
/// update or rematch is reported through `on_event` and the loop goes on.
///
/// # Errors
/// Only what makes further rounds pointless: none today, since every step's failure is an
/// event; the signature leaves room for a store that cannot be opened at all.
pub fn watch(
    store: &mut dyn Store,
    opts: &WatchOptions,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(WatchEvent),
) -> Result<u64> {
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        if let Some(feeds) = &opts.feeds {
            match database::update(
                &opts.http,
                &opts.db,
                feeds,
                &opts.cache,
                &customs_vulndb::UpdateOptions::default(),
            ) {
                Ok((_, report)) => on_event(WatchEvent::Updated(report)),
                Err(e) => on_event(WatchEvent::UpdateFailed(e)),
            }
        }
        if !stop.load(Ordering::Relaxed) {
            let step = database::open(&opts.db).and_then(|opened| {
                let options = RematchOptions {
                    rejudge: opts
                        .policy
                        .as_deref()
                        .map(|policy| crate::rematch::Rejudge {
                            policy,
                            now: None,
                            by: &opts.by,
                            vex: &opts.vex,
                        }),
                    ..RematchOptions::default()
                };
                rematch_and_notify(store, &opened.db, &options, &opts.notifier)
            });
            match step {
                Ok((report, delivery)) => {
                    on_event(WatchEvent::Rematched(report));
                    if let Some(d) = delivery {
                        on_event(WatchEvent::Notified(d));
                    }
                }
                Err(e) => on_event(WatchEvent::RematchFailed(e)),
            }
        }
        if opts.rounds.is_some_and(|n| round >= n) {
            break;
        }
        let until = Instant::now() + opts.interval;
        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(round)
}
