//! customs as a service (`customs serve`): the HTTP API over the store, the job queue's
//! workers, and scan on push.
//!
//! The server is a thin face over the same library functions the command line calls:
//! handlers parse, call `customs-app` and `customs-store` on tokio's blocking pool (their
//! clients are blocking: see `pool.rs`), and render JSON. Scans never run on a request:
//! a request queues a job in the store, and workers (threads of this process, or
//! `customs worker` processes on other machines sharing a PostgreSQL store) run it.
//!
//! | path | what | scope |
//! |---|---|---|
//! | `GET /healthz`, `GET /readyz` | liveness; readiness (store and database usable) | none |
//! | `GET /metrics` | Prometheus metrics | none |
//! | `GET /api/v1/openapi.json` | this API, described | none |
//! | `POST /api/v1/scans`, `GET /api/v1/scans/{id}` | queue a scan; its job | scan; read |
//! | `GET /api/v1/jobs`, `GET /api/v1/jobs/{id}` | the queue, dead letters included | read |
//! | `POST /api/v1/rematches`, `GET /api/v1/rematches` | queue a rematch; rematch jobs | admin; read |
//! | `GET /api/v1/images`, `/images/{ref}`, `/images/{ref}/findings`, `/images/{ref}/history` | the store | read |
//! | `GET /api/v1/diff?from=&to=` | two stored images compared | read |
//! | `GET /api/v1/db` | the vulnerability database's status | read |
//! | `GET /api/v1/schedule` | the scheduled rematch: interval, last run, next run | read |
//! | `POST /hooks/registry` | a registry's notifications: pushes become scans | the hook token |
//! | `/harbor/api/v1/metadata`, `/scan`, `/scan/{id}/report` | Harbor's Pluggable Scanner API v1.2 | scan |

mod api;
mod error;
mod harbor;
mod hooks;
mod metrics;
mod pool;
mod schedule;
mod state;
mod tls;
pub mod tokens;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use error::ServerError;
pub use metrics::Metrics;
pub use workers::{Stopped, WorkerPool, spawn_workers};

use customs_app::database::DbLocation;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The store's URL.
    pub store_url: String,
    /// The vulnerability database the status endpoint and readiness look at.
    pub db: DbLocation,
    /// The token a registry's notifications must carry (`Authorization: Bearer …`); `None`
    /// turns `/hooks/registry` off.
    pub hook_token: Option<String>,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Requests per second each token may make, and the burst above it.
    pub rate_per_second: u32,
    /// Requests a token may make at once above the rate.
    pub rate_burst: u32,
    /// Store connections for requests.
    pub pool_size: usize,
    /// How many times a job runs before it is dead.
    pub max_attempts: u32,
    /// How long running jobs may take to finish at shutdown before they are given back.
    pub grace: Duration,
    /// Queue a rematch (with the workers' database update and notifications) at start and
    /// then this often: `watch`, moved into the service. `None`: only on request.
    pub rematch_every: Option<Duration>,
    /// Serve HTTPS with this PEM certificate chain and private key; `None`: plain HTTP.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Config {
    /// Defaults for everything but the store and the database.
    #[must_use]
    pub fn new(store_url: String, db: DbLocation) -> Self {
        Self {
            store_url,
            db,
            hook_token: None,
            body_limit: 1 << 20,
            request_timeout: Duration::from_secs(30),
            rate_per_second: 50,
            rate_burst: 100,
            pool_size: 8,
            max_attempts: 3,
            grace: Duration::from_secs(30),
            rematch_every: None,
            tls: None,
        }
    }
}

/// Serve on `listener` until `shutdown` completes, then stop: no new requests, the workers
/// finish their jobs within the grace period, and jobs still running after it are given
/// back to the queue.
///
/// `workers` run in this process ([`spawn_workers`], reporting to the same `metrics`); start
/// them outside the tokio runtime: their registry client is blocking, and must not be made
/// or dropped on the runtime's threads.
///
/// # Errors
/// The store cannot be opened, or the listener fails.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    workers: WorkerPool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let config = Arc::new(config);
    // Open (and migrate) the store once before anything else uses it.
    {
        let url = config.store_url.clone();
        tokio::task::spawn_blocking(move || customs_store::open(&url).map(drop))
            .await
            .map_err(|e| ServerError::Internal(e.to_string()))??;
    }
    let state = state::AppState::new(Arc::clone(&config), metrics);
    let scheduler = config
        .rematch_every
        .map(|every| tokio::spawn(schedule::run(state.clone(), every)));
    let tls = config
        .tls
        .as_ref()
        .map(|(cert, key)| tls::server_config(cert, key))
        .transpose()?;
    let router = api::router(state);
    let local: SocketAddr = listener.local_addr().map_err(|source| ServerError::Io {
        what: "the listening socket".to_owned(),
        source,
    })?;
    tracing::info!(%local, workers = workers.len(), tls = tls.is_some(), "customs serve: listening");
    match tls {
        Some(tls) => tls::serve(listener, tls, router, shutdown).await,
        None => axum::serve(listener, router.into_make_service())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| ServerError::Io {
                what: "serving HTTP".to_owned(),
                source,
            })?,
    }
    if let Some(task) = scheduler {
        task.abort();
    }
    tracing::info!("shutting down: waiting for running jobs");
    let grace = config.grace;
    let outcome = tokio::task::spawn_blocking(move || workers.shutdown(grace))
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    tracing::info!(
        finished = outcome.finished,
        released = outcome.released,
        "stopped"
    );
    Ok(())
}

/// The OpenAPI document of the API, as served at `/api/v1/openapi.json`.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::openapi()
}
