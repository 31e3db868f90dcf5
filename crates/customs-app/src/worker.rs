//! Running queued jobs (`customs worker`, and the server's own workers): claim a job from the
//! store's queue, run it, and record its outcome.
//!
//! A job is held with a lease that a keeper thread renews while the job runs (on its own
//! store connection, so a long scan never lets its lease lapse). A scan's result is stored
//! with the job's completion in one transaction ([`Jobs::complete_scan`]): a job is never
//! done without its scan, and a job taken over after its worker died cannot store its scan
//! twice (the lease fences the old worker). Failed jobs are retried with exponential backoff
//! until `max_attempts`, then kept as dead letters.
//!
//! Only registry references are scanned: a job comes from someone else (an API client, a
//! registry's notification), and must not make customs read its own machine's files.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use customs_store::{JobState, Lease, NewJob, Store, StoreError, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::database::DbLocation;
use crate::scan::ImageOptions;
use crate::{AppError, Result};

/// The kind of a scan job.
pub const SCAN: &str = "scan";
/// The kind of a rematch job.
pub const REMATCH: &str = "rematch";

/// What a scan job scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJob {
    /// An image reference in a registry (`reg.lan/app:1`, `reg.lan/app@sha256:…`).
    pub reference: String,
    /// The tag to record for an image pulled by digest: the tag a registry said it pushed
    /// that digest under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The `Authorization` header to pull with (`Basic …` or `Bearer …`), when the caller
    /// hands one over with the job (Harbor does: a robot account made for this scan). Kept in
    /// the job's payload until the job ends; [`redact`] hides it from listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// What the caller wants kept with the job for its answer (Harbor's artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// Further `REGISTRY/REPOSITORY:TAG`s that point at the image, stored with it in the same
    /// write (a registry audit scans each digest once for all its tags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// `REGISTRY/REPOSITORY:TAG` as the store's (repository, tag).
fn repository_tag(reference: &str) -> Result<(String, String)> {
    let bad = |why: &str| AppError::invalid(format!("tag reference {reference:?}"), why);
    let r = customs_registry::Reference::parse(reference).map_err(|e| bad(&e.to_string()))?;
    match (r.tag, r.digest) {
        (Some(tag), None) if reference.ends_with(&format!(":{tag}")) => {
            Ok((format!("{}/{}", r.registry, r.repository), tag))
        }
        _ => Err(bad("not REGISTRY/REPOSITORY:TAG")),
    }
}

/// A job's payload fit to show: any registry credential replaced.
#[must_use]
pub fn redact(payload: &Value) -> Value {
    let mut shown = payload.clone();
    if let Some(a) = shown.get_mut("authorization")
        && !a.is_null()
    {
        *a = Value::String("***".to_owned());
    }
    shown
}

/// Queue a scan of `reference`; `key` de-duplicates it (the digest when the caller knows it,
/// else the reference).
///
/// # Errors
/// A reference that is not a registry reference, or the store's errors.
pub fn enqueue_scan(
    store: &mut dyn Store,
    job: &ScanJob,
    key: Option<&str>,
    max_attempts: u32,
) -> Result<customs_store::Enqueued> {
    let reference = job.reference.as_str();
    registry_source(reference)?;
    if let Some(a) = &job.authorization
        && customs_registry::Credential::from_authorization(a).is_none()
    {
        return Err(AppError::invalid(
            "the registry authorization",
            "not `Basic BASE64(USER:PASSWORD)` or `Bearer TOKEN`",
        ));
    }
    if let Some(tag) = &job.tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid {
            return Err(AppError::invalid(format!("tag {tag:?}"), "not a tag"));
        }
    }
    for also in &job.also {
        repository_tag(also)?;
    }
    let payload =
        serde_json::to_value(job).map_err(|e| AppError::invalid("a scan job", e.to_string()))?;
    Ok(store.enqueue_job(&NewJob {
        kind: SCAN,
        key: key.unwrap_or(reference),
        payload: &payload,
        max_attempts,
    })?)
}

/// The source a scan job reads: always a registry, never a path on this machine.
fn registry_source(reference: &str) -> Result<String> {
    let trimmed = reference.trim();
    let bad = |why: &str| AppError::invalid(format!("image reference {reference:?}"), why);
    if trimmed.is_empty() || trimmed != reference {
        return Err(bad("empty, or with spaces around it"));
    }
    if reference.len() > 512 {
        return Err(bad("longer than 512 bytes"));
    }
    let source = format!("registry:{reference}");
    match customs_image::SourceRef::parse(&source) {
        Ok(_) => Ok(source),
        Err(e) => Err(bad(&e.to_string())),
    }
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The store's URL: the keeper renews leases on a connection of its own.
    pub store_url: String,
    /// This worker's name, unique in the fleet (`host:pid:n`).
    pub name: String,
    /// How long a claim holds a job without renewal; a worker that dies loses its jobs after
    /// this long.
    pub lease: Duration,
    /// How long to wait before looking again when the queue is empty.
    pub idle: Duration,
    /// The first retry's delay; each later one doubles it.
    pub backoff: Duration,
    /// The vulnerability database.
    pub db: DbLocation,
    /// How images are read.
    pub image: ImageOptions,
    /// What a rematch job does besides re-matching: update the database first, notify
    /// after. `None`: only re-match, against the database as it stands.
    pub lifecycle: Option<Lifecycle>,
    /// Share layer facts through the store: a layer one worker has read is not read by
    /// another, and one being read is waited for (a fleet on PostgreSQL).
    pub share_layers: bool,
}

/// Layer facts kept in the store for a fleet ([`customs_catalog::SharedFacts`]), on a
/// connection of their own. A miss claims the layer for this worker; another worker that
/// wants it meanwhile waits (up to `wait`) for its facts rather than reading it too.
pub struct StoreLayers {
    store: std::sync::Mutex<Box<dyn Store>>,
    holder: String,
    /// How long a claim lasts: a worker that dies mid-read holds the layer no longer.
    ttl: Duration,
    /// How long to wait for another worker's facts before reading the layer anyway.
    wait: Duration,
}

impl std::fmt::Debug for StoreLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLayers")
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

impl StoreLayers {
    /// Layer facts in the store at `url`, claimed as `holder`.
    ///
    /// # Errors
    /// The store cannot be opened.
    pub fn open(url: &str, holder: &str) -> Result<Self> {
        Ok(Self {
            store: std::sync::Mutex::new(customs_store::open(url)?),
            holder: holder.to_owned(),
            ttl: Duration::from_secs(120),
            wait: Duration::from_secs(300),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn Store) -> T) -> Option<T> {
        self.store.lock().ok().map(|mut s| f(s.as_mut()))
    }
}

impl customs_catalog::SharedFacts for StoreLayers {
    fn get(&self, set: &str, diff_id: &str) -> Option<Vec<u8>> {
        let deadline = Instant::now() + self.wait;
        loop {
            let step = self.with(|s| {
                if let Ok(Some(facts)) = s.layer_facts(set, diff_id) {
                    return Some(Some(facts));
                }
                match s.claim_layer(set, diff_id, &self.holder, self.ttl) {
                    // Claimed: look once more (the holder before may have just put them).
                    Ok(true) => match s.layer_facts(set, diff_id) {
                        Ok(Some(facts)) => {
                            let _ = s.release_layer(set, diff_id, &self.holder);
                            Some(Some(facts))
                        }
                        _ => Some(None),
                    },
                    Ok(false) => None,
                    // The store is unreachable: read the layer, as without a fleet.
                    Err(_) => Some(None),
                }
            })?;
            if let Some(found) = step {
                return found.map(String::into_bytes);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn put(&self, set: &str, diff_id: &str, facts: &[u8]) {
        if let Ok(text) = std::str::from_utf8(facts) {
            let _ = self.with(|s| s.put_layer_facts(set, diff_id, text));
        }
    }

    fn abandon(&self, set: &str, diff_id: &str) {
        let _ = self.with(|s| s.release_layer(set, diff_id, &self.holder));
    }
}

/// The rest of `watch`'s round, for rematch jobs: the update before, the notification after.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// Feeds to fetch before re-matching; `None` to re-match against the database as it
    /// stands (kept current by something else).
    pub feeds: Option<Vec<customs_vulndb::FeedSource>>,
    /// Where feed downloads are kept.
    pub cache: crate::CacheDir,
    /// How feeds are fetched.
    pub http: customs_http::Transport,
    /// Where deltas are sent.
    pub notifier: crate::notify::Notifier,
}

/// What became of a job a worker took.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done; its result.
    Done {
        /// The job's id.
        id: i64,
        /// Its kind.
        kind: String,
        /// What it produced.
        result: Value,
        /// How long it ran.
        took: Duration,
    },
    /// Failed, and queued again or dead.
    Failed {
        /// The job's id.
        id: i64,
        /// Its kind.
        kind: String,
        /// Why.
        error: String,
        /// `Queued` (to be retried) or `Dead`.
        now: JobState,
    },
    /// Given back unfinished because the worker is stopping.
    Released {
        /// The job's id.
        id: i64,
    },
    /// Its lease ended before it finished; another worker has it.
    LeaseLost {
        /// The job's id.
        id: i64,
    },
}

/// A worker: claims and runs jobs one at a time until told to stop.
pub struct Worker {
    store: Box<dyn Store>,
    opts: WorkerOptions,
}

impl Worker {
    /// A worker on its own store connection.
    ///
    /// # Errors
    /// The store cannot be opened.
    pub fn new(mut opts: WorkerOptions) -> Result<Self> {
        if opts.share_layers {
            opts.image.shared_layers =
                Some(Arc::new(StoreLayers::open(&opts.store_url, &opts.name)?));
        }
        Ok(Self {
            store: customs_store::open(&opts.store_url)?,
            opts,
        })
    }

    /// Run jobs until `stop` is set (the job under way is finished first), calling
    /// `on_outcome` after each. When `abort` is set too, the job under way is given back to
    /// the queue at once (its lease released) and its result, if it comes, is not stored.
    ///
    /// # Errors
    /// The store's errors while claiming (a job's own failure is an [`Outcome`]).
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        abort: &Arc<AtomicBool>,
        on_outcome: &mut dyn FnMut(&Outcome),
    ) -> Result<()> {
        while !stop.load(Ordering::SeqCst) {
            match self.run_one(abort)? {
                Some(outcome) => on_outcome(&outcome),
                None => {
                    // Idle: look again soon, but wake at once when told to stop.
                    let until = Instant::now() + self.opts.idle;
                    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                        thread::sleep(Duration::from_millis(20).min(self.opts.idle));
                    }
                }
            }
        }
        Ok(())
    }

    /// Claim one job and run it; `None` when none is ready.
    ///
    /// # Errors
    /// The store's errors while claiming.
    pub fn run_one(&mut self, abort: &Arc<AtomicBool>) -> Result<Option<Outcome>> {
        let Some(lease) = self.store.claim(&self.opts.name, self.opts.lease)? else {
            return Ok(None);
        };
        let keeper = Keeper::start(&self.opts, lease.clone(), Arc::clone(abort));
        let started = Instant::now();
        let ran = self.execute(&lease);
        let released = keeper.stop();
        let id = lease.job.id;
        if released {
            return Ok(Some(Outcome::Released { id }));
        }
        let kind = lease.job.kind.clone();
        let outcome = match ran {
            Ok(done) => match self.finish(&lease, done) {
                Ok(result) => Outcome::Done {
                    id,
                    kind,
                    result,
                    took: started.elapsed(),
                },
                Err(AppError::Store(StoreError::LeaseLost { .. })) => Outcome::LeaseLost { id },
                Err(e) => self.failed(&lease, &e)?,
            },
            Err(e) => self.failed(&lease, &e)?,
        };
        Ok(Some(outcome))
    }

    /// Run the job; what is left to store.
    fn execute(&mut self, lease: &Lease) -> Result<Finished> {
        match lease.job.kind.as_str() {
            SCAN => {
                let job: ScanJob = serde_json::from_value(lease.job.payload.clone())
                    .map_err(|e| AppError::invalid("the scan job's payload", e.to_string()))?;
                let source = registry_source(&job.reference)?;
                let db = crate::database::open(&self.opts.db)?.db;
                let image = match &job.authorization {
                    Some(a) => self.with_credential(a)?,
                    None => self.opts.image.clone(),
                };
                let report = crate::scan::scan(&source, &image, &db)?;
                let mut record = crate::record::scan_record(&db, &report)?;
                if job.tag.is_some() && record.repository.is_some() {
                    record.tag.clone_from(&job.tag);
                }
                record.also_tagged = job
                    .also
                    .iter()
                    .map(|r| repository_tag(r))
                    .collect::<Result<_>>()?;
                Ok(Finished::Scan(Box::new(record)))
            }
            REMATCH => self.rematch().map(Finished::Value),
            other => Err(AppError::invalid(
                format!("job {}", lease.job.id),
                format!("no worker runs jobs of kind {other:?}"),
            )),
        }
    }

    /// The image options with a registry client that pulls with the job's credential only
    /// (never the machine's docker credentials).
    fn with_credential(&self, authorization: &str) -> Result<ImageOptions> {
        let credential = customs_registry::Credential::from_authorization(authorization)
            .ok_or_else(|| {
                AppError::invalid("the registry authorization", "not Basic or Bearer")
            })?;
        let transport = match &self.opts.image.registry {
            Some(c) => c.transport().clone(),
            None => customs_registry::Client::with_defaults()?
                .transport()
                .clone(),
        };
        let mut image = self.opts.image.clone();
        image.registry = Some(customs_registry::Client::new(
            transport,
            customs_registry::ClientOptions {
                credential: Some(credential),
                docker_config: false,
                observer: None,
            },
        ));
        Ok(image)
    }

    /// `watch`'s round: update the database (a failed update keeps the old data, and says
    /// so in the result), re-match every stored image, notify.
    fn rematch(&mut self) -> Result<Value> {
        let mut update = Value::Null;
        if let Some(Lifecycle {
            feeds: Some(feeds),
            cache,
            http,
            ..
        }) = &self.opts.lifecycle
        {
            update = match crate::database::update(
                http,
                &self.opts.db,
                feeds,
                cache,
                &customs_vulndb::UpdateOptions::default(),
            ) {
                Ok((_, report)) => json!({
                    "rebuilt": report.rebuilt,
                    "failed": report.failed.len(),
                }),
                Err(e) => json!({"error": error_chain(&e)}),
            };
        }
        let db = crate::database::open(&self.opts.db)?.db;
        let options = crate::rematch::RematchOptions {
            since: None,
            workers: Some(1),
            rejudge: None,
        };
        let (report, delivery) = match &self.opts.lifecycle {
            Some(l) => {
                crate::watch::rematch_and_notify(self.store.as_mut(), &db, &options, &l.notifier)?
            }
            None => (
                crate::rematch::rematch(self.store.as_mut(), &db, &options)?,
                None,
            ),
        };
        Ok(json!({
            "update": update,
            "images": report.images.len(),
            "changed": report.changed().count(),
            "vulnerability_db_built_at": report.vulnerability_db_built_at,
            "notified": delivery.map(|d| serde_json::to_value(d).unwrap_or(Value::Null)),
        }))
    }

    fn finish(&mut self, lease: &Lease, done: Finished) -> Result<Value> {
        match done {
            Finished::Scan(record) => {
                let findings = record.findings.len();
                // The layers this scan read rather than took from a cache: what a fleet's
                // shared layer facts save.
                let read: Vec<&str> = record
                    .inventory
                    .pointer("/image/layers")
                    .and_then(Value::as_array)
                    .map(|layers| {
                        layers
                            .iter()
                            .filter(|l| l.get("cached") != Some(&Value::Bool(true)))
                            .filter_map(|l| l.get("diff_id").and_then(Value::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut result = json!({
                    "digest": record.digest,
                    "repository": record.repository,
                    "tag": record.tag,
                    "packages": record.packages.len(),
                    "findings": findings,
                    "layers_read": read,
                });
                let delta = self.store.complete_scan(lease, &record, &result)?;
                result["new"] = delta.new.len().into();
                Ok(result)
            }
            Finished::Value(result) => {
                self.store.complete(lease, &result)?;
                Ok(result)
            }
        }
    }

    /// Record a failure: retried after a backoff that doubles per attempt, dead after the
    /// last. A worker that lost its lease records nothing.
    fn failed(&mut self, lease: &Lease, error: &AppError) -> Result<Outcome> {
        let message = error_chain(error);
        let exponent = lease.job.attempts.saturating_sub(1).min(16);
        let delay = self.opts.backoff.saturating_mul(1 << exponent);
        let retry_at = Timestamp::now().saturating_add(delay);
        match self.store.fail(lease, &message, Some(retry_at)) {
            Ok(now) => Ok(Outcome::Failed {
                id: lease.job.id,
                kind: lease.job.kind.clone(),
                error: message,
                now,
            }),
            Err(StoreError::LeaseLost { id, .. }) => Ok(Outcome::LeaseLost { id }),
            Err(e) => Err(e.into()),
        }
    }
}

enum Finished {
    Scan(Box<customs_store::ScanRecord>),
    Value(Value),
}

/// An error with its causes, one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// Renews a lease while its job runs; on abort, gives the job back.
struct Keeper {
    done: Arc<AtomicBool>,
    handle: thread::JoinHandle<bool>,
}

impl Keeper {
    fn start(opts: &WorkerOptions, lease: Lease, abort: Arc<AtomicBool>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let url = opts.store_url.clone();
        let period = (opts.lease / 3).max(Duration::from_millis(10));
        let length = opts.lease;
        let flag = Arc::clone(&done);
        let handle = thread::spawn(move || {
            let mut store = None;
            let mut last = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
                let aborting = abort.load(Ordering::SeqCst);
                if !aborting && last.elapsed() < period {
                    continue;
                }
                if store.is_none() {
                    store = customs_store::open(&url).ok();
                }
                let Some(s) = store.as_mut() else { continue };
                if aborting {
                    return s.release(&lease).is_ok();
                }
                // A failed renewal is retried next period; if the lease ends meanwhile,
                // the job's completion finds out (LeaseLost).
                if s.extend(&lease, length).is_ok() {
                    last = Instant::now();
                }
            }
            false
        });
        Self { done, handle }
    }

    /// Stop renewing; whether the lease was released (on abort).
    fn stop(self) -> bool {
        self.done.store(true, Ordering::SeqCst);
        self.handle.join().unwrap_or(false)
    }
}
