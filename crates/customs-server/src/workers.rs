//! The service's worker threads, and stopping them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use customs_app::worker::{Outcome, Worker, WorkerOptions};

use crate::metrics::Metrics;

/// Worker threads running jobs from the store's queue.
pub struct WorkerPool {
    stop: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// How a stop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Workers that finished their job (or were idle) within the grace period.
    pub finished: usize,
    /// Workers whose job was given back to the queue when the grace period ended.
    pub released: usize,
}

/// Start `n` workers named `{opts.name}-{i}`; each reports its outcomes to `metrics` and the
/// log.
#[must_use]
pub fn spawn_workers(opts: &WorkerOptions, n: usize, metrics: Option<Metrics>) -> WorkerPool {
    let stop = Arc::new(AtomicBool::new(false));
    let abort = Arc::new(AtomicBool::new(false));
    let threads = (0..n)
        .map(|i| {
            let mut opts = opts.clone();
            opts.name = format!("{}-{i}", opts.name);
            let (stop, abort, metrics) = (Arc::clone(&stop), Arc::clone(&abort), metrics.clone());
            thread::spawn(move || run(opts, &stop, &abort, metrics.as_ref()))
        })
        .collect();
    WorkerPool {
        stop,
        abort,
        threads,
    }
}

fn run(opts: WorkerOptions, stop: &AtomicBool, abort: &Arc<AtomicBool>, metrics: Option<&Metrics>) {
    let name = opts.name.clone();
    while !stop.load(Ordering::SeqCst) {
        let mut worker = match Worker::new(opts.clone()) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(worker = %name, error = %e, "worker cannot open the store; retrying");
                thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let result = worker.run(stop, abort, &mut |outcome| {
            log(&name, outcome);
            if let Some(m) = metrics {
                m.job(outcome);
            }
        });
        if let Err(e) = result {
            // The store went away mid-claim: reconnect and go on.
            tracing::error!(worker = %name, error = %e, "worker failed; restarting");
            thread::sleep(Duration::from_secs(1));
        }
    }
}

fn log(worker: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Done {
            id,
            kind,
            took,
            result,
        } => tracing::info!(
            worker, job = id, kind = %kind, took_ms = took.as_millis() as u64,
            result = %result, "job done"
        ),
        Outcome::Failed {
            id,
            kind,
            error,
            now,
        } => tracing::warn!(
            worker, job = id, kind = %kind, error = %error, now = now.as_str(), "job failed"
        ),
        Outcome::Released { id } => tracing::info!(worker, job = id, "job given back"),
        Outcome::LeaseLost { id } => {
            tracing::warn!(worker, job = id, "lease lost; another worker has the job");
        }
    }
}

impl WorkerPool {
    /// How many workers there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Stop: no new jobs; wait up to `grace` for the running ones to finish; then give the
    /// rest back to the queue (their leases released, their results not stored).
    #[must_use]
    pub fn shutdown(self, grace: Duration) -> Stopped {
        self.stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + grace;
        let mut pending = self.threads;
        let mut finished = 0;
        while !pending.is_empty() && Instant::now() < deadline {
            let (done, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|t| t.is_finished());
            finished += done.len();
            for t in done {
                let _ = t.join();
            }
            pending = rest;
            thread::sleep(Duration::from_millis(20));
        }
        let released = pending.len();
        if released > 0 {
            self.abort.store(true, Ordering::SeqCst);
            // The keepers release their leases within a few milliseconds; the workers'
            // threads may stay blocked in a scan, and end with the process.
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until && !pending.iter().all(|t| t.is_finished()) {
                thread::sleep(Duration::from_millis(20));
            }
        }
        Stopped { finished, released }
    }
}
