//! Prometheus metrics (`GET /metrics`): HTTP requests and their latency, jobs by outcome and
//! their duration, the queue's depth, registry notifications.

use std::sync::Arc;
use std::time::Duration;

use customs_app::worker::Outcome;
use customs_store::QueueCounts;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    result: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The service's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    http: Family<HttpLabels, Counter>,
    http_seconds: Histograms<RouteLabels>,
    jobs: Family<JobLabels, Counter>,
    job_seconds: Histograms<KindLabels>,
    queue: Family<StateLabels, Gauge>,
    hooks: Family<HookLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("customs");
        let http = Family::<HttpLabels, Counter>::default();
        let http_seconds: Histograms<RouteLabels> = Family::new_with_constructor(latency);
        let jobs = Family::<JobLabels, Counter>::default();
        let job_seconds: Histograms<KindLabels> = Family::new_with_constructor(latency);
        let queue = Family::<StateLabels, Gauge>::default();
        let hooks = Family::<HookLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", http.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            http_seconds.clone(),
        );
        registry.register(
            "jobs",
            "Jobs run by this process's workers, by outcome",
            jobs.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "Time a job took, from claim to done",
            job_seconds.clone(),
        );
        registry.register(
            "queue_jobs",
            "Jobs in the store's queue, by state",
            queue.clone(),
        );
        registry.register(
            "registry_events",
            "Registry notification events received, by what became of them",
            hooks.clone(),
        );
        Self {
            registry: Arc::new(registry),
            http,
            http_seconds,
            jobs,
            job_seconds,
            queue,
            hooks,
        }
    }

    pub(crate) fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn job(&self, outcome: &Outcome) {
        let (kind, what) = match outcome {
            Outcome::Done { kind, took, .. } => {
                self.job_seconds
                    .get_or_create(&KindLabels { kind: kind.clone() })
                    .observe(took.as_secs_f64());
                (kind.as_str(), "done")
            }
            Outcome::Failed { kind, now, .. } => (kind.as_str(), now.as_str()),
            Outcome::Released { .. } => ("", "released"),
            Outcome::LeaseLost { .. } => ("", "lease-lost"),
        };
        self.jobs
            .get_or_create(&JobLabels {
                kind: kind.to_owned(),
                outcome: what.to_owned(),
            })
            .inc();
    }

    pub(crate) fn hook_event(&self, result: &str) {
        self.hooks
            .get_or_create(&HookLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// The text exposition, with the queue's depth as of `counts`.
    pub(crate) fn render(&self, counts: QueueCounts) -> String {
        for (state, n) in [
            ("queued", counts.queued),
            ("running", counts.running),
            ("done", counts.done),
            ("dead", counts.dead),
        ] {
            self.queue
                .get_or_create(&StateLabels {
                    state: state.to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
