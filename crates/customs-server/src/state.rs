//! What every handler shares: the store pool, the metrics, the rate limiter, the settings;
//! and the bearer-token check.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use customs_store::TokenRecord;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::metrics::Metrics;
use crate::pool::Pool;
use crate::schedule::Schedule;
use crate::tokens::{self, Scope};
use crate::{Config, ServerError};

/// The handlers' shared state; clones share it.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

struct Inner {
    config: Arc<Config>,
    pool: Pool,
    metrics: Metrics,
    limiter: DefaultKeyedRateLimiter<String>,
    schedule: Mutex<Schedule>,
}

impl AppState {
    pub(crate) fn new(config: Arc<Config>, metrics: Metrics) -> Self {
        let rate = NonZeroU32::new(config.rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.rate_burst).unwrap_or(rate);
        Self(Arc::new(Inner {
            pool: Pool::new(&config.store_url, config.pool_size),
            metrics,
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            schedule: Mutex::new(Schedule {
                every: config.rematch_every,
                ..Schedule::default()
            }),
            config,
        }))
    }

    pub(crate) fn config(&self) -> &Config {
        &self.0.config
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.0.pool
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub(crate) fn schedule(&self) -> Schedule {
        self.0
            .schedule
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    pub(crate) fn update_schedule(&self, f: impl FnOnce(&mut Schedule)) {
        if let Ok(mut s) = self.0.schedule.lock() {
            f(&mut s);
        }
    }

    /// The caller's token, if it may do what `needed` allows and is within its rate.
    pub(crate) async fn authorize(
        &self,
        headers: &HeaderMap,
        needed: Scope,
    ) -> Result<TokenRecord, ServerError> {
        let secret = bearer(headers)
            .ok_or_else(|| ServerError::Unauthorized("no bearer token".to_owned()))?
            .to_owned();
        let found = self
            .pool()
            .run(move |store| tokens::verify(store, &secret))
            .await?;
        let (record, scope) = found
            .ok_or_else(|| ServerError::Unauthorized("unknown or revoked token".to_owned()))?;
        if !scope.allows(needed) {
            return Err(ServerError::Forbidden(format!(
                "token {:?} has scope {}; this needs {}",
                record.name,
                scope.as_str(),
                needed.as_str()
            )));
        }
        if let Err(not_until) = self.0.limiter.check_key(&record.name) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(ServerError::RateLimited {
                retry_after: wait.as_secs().max(1),
            });
        }
        Ok(record)
    }
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
