//! The registry-wide audit (`customs audit`): what a registry holds, crawled.
//!
//! This is the crawl: the registry's repositories (`_catalog`, paged), chosen by globs, each
//! repository's tags (`tags/list`, paged), and each tag resolved to the digest it points at
//! (`HEAD`). Signature, attestation and SBOM tags (cosign's `sha256-<hex>.sig`, `.att`,
//! `.sbom`, the referrers API's fallback tag `sha256-<hex>`) are not images: they are set
//! apart, or they would count in every statistic. A repository or a tag that cannot be read
//! is recorded with the reason and the crawl goes on: one bad repository never sinks the
//! rest.
//!
//! Then the scan ([`scan_crawl`]): each distinct image (by digest) once, on a few threads,
//! into the store under every tag that points at it. What the store already holds under the same tags
//! is not scanned again, so an audit stopped half-way (even by `kill -9`) continues where it
//! stopped.

use std::collections::{BTreeMap, BTreeSet};

use customs_registry::{Client, Reference, RegistryError};
use customs_store::Store;
use customs_types::Timestamp;
use customs_vulndb::VulnDb;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::{AppError, Result};

mod html;
pub mod report;

/// What to crawl.
#[derive(Debug, Clone, Default)]
pub struct CrawlOptions {
    /// Repository globs (`team/*`, `**`); none: every repository. `*` and `?` stay within a
    /// path segment, `**` crosses them, as in `.gitignore`.
    pub repos: Vec<String>,
    /// Names asked per page of a listing (at most [`customs_registry::MAX_PAGE`]); 0: the
    /// largest.
    pub page: usize,
    /// Known base images (`REGISTRY/REPOSITORY:TAG`, in this registry or another): scanned
    /// and stored with the audit whatever `repos` says, so that the images built on them are
    /// placed on them by their layers, and "rebuild on X" is computed against their current
    /// builds.
    pub bases: Vec<String>,
}

/// A known base image ([`CrawlOptions::bases`]), resolved.
#[derive(Debug, Clone, Serialize)]
pub struct KnownBase {
    /// `registry/repository`.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// The digest the tag points at; `None` when it could not be resolved (see `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Why it could not be resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A registry, crawled.
#[derive(Debug, Clone, Serialize)]
pub struct Crawl {
    /// The registry (`host[:port]`).
    pub registry: String,
    /// The repositories chosen, in the catalog's order.
    pub repositories: Vec<RepositoryCrawl>,
    /// The known bases, in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bases: Vec<KnownBase>,
    /// Images [`select_tags`] opened to read their build dates, by digest: the scan reads
    /// them from here rather than fetch their manifests and configs a second time.
    #[serde(skip)]
    pub opened: BTreeMap<String, std::sync::Arc<customs_image::Image>>,
}

/// Which of a repository's image tags an audit scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagSelection {
    /// Every image tag.
    #[default]
    All,
    /// The current tags, by the report's rule: `latest`, and tags whose image was built
    /// within the window of the repository's newest build, and tags whose image has no build
    /// date (an image of unknown age is not let off).
    Current,
    /// The tags of the repository's N newest images by build date, and of any undated image.
    Latest(usize),
}

impl std::str::FromStr for TagSelection {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "all" => Ok(Self::All),
            "current" => Ok(Self::Current),
            _ => match s.strip_prefix("latest:").map(str::parse::<usize>) {
                Some(Ok(n)) if n > 0 => Ok(Self::Latest(n)),
                _ => Err(format!(
                    "{s:?}: give all, current or latest:N (N a whole number from 1)"
                )),
            },
        }
    }
}

/// Whether a tag is current: `latest`; or its image, built at `created`, was built within
/// `window_days` of `newest` (its repository's newest build); or either date is unknown.
pub(crate) fn is_current_tag(
    tag: &str,
    created: Option<Timestamp>,
    newest: Option<Timestamp>,
    window_days: u32,
) -> bool {
    if tag == "latest" {
        return true;
    }
    match (created, newest) {
        (Some(c), Some(n)) => c.days_until(n) <= i64::from(window_days),
        _ => true,
    }
}

/// One repository, crawled.
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryCrawl {
    /// The repository's name in the registry.
    pub name: String,
    /// Its image tags, each with the digest it points at, in the registry's order.
    pub tags: Vec<TagDigest>,
    /// Its signature, attestation and SBOM tags: listed, not images.
    pub artifact_tags: Vec<String>,
    /// Image tags [`select_tags`] left out (not current, not among the latest N).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<TagDigest>,
    /// What could not be read (the tag list, a tag gone between listing and `HEAD`), with
    /// the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// A tag and the digest it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagDigest {
    /// The tag.
    pub tag: String,
    /// The manifest's (or index's) digest.
    pub digest: String,
}

impl Crawl {
    /// The distinct digests of every image tag: what an audit scans, each once.
    #[must_use]
    pub fn digests(&self) -> BTreeSet<(&str, &str)> {
        self.repositories
            .iter()
            .flat_map(|r| r.tags.iter().map(|t| (r.name.as_str(), t.digest.as_str())))
            .collect()
    }
}

/// Whether `tag` names a signature, an attestation or an SBOM rather than an image: cosign's
/// `sha256-<hex>.sig`, `.att` and `.sbom`, any tag ending in those, and the referrers API's
/// fallback tag `sha256-<hex>` (with or without a suffix).
#[must_use]
pub fn is_artifact_tag(tag: &str) -> bool {
    if [".sig", ".att", ".sbom"].iter().any(|s| tag.ends_with(s)) {
        return true;
    }
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let hex = rest.split_once('.').map_or(rest, |(h, _)| h);
    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A tag by the distribution grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The repository globs as one matcher; `None` for none (every repository).
fn repo_matcher(globs: &[String]) -> Result<Option<GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for g in globs {
        let glob = GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| AppError::invalid(format!("--repos {g:?}"), e.to_string()))?;
        set.add(glob);
    }
    set.build()
        .map(Some)
        .map_err(|e| AppError::invalid("--repos", e.to_string()))
}

/// Crawl `registry` (`host[:port]`): its catalog, the repositories `opts.repos` chooses,
/// their tags, and each image tag's digest.
///
/// # Errors
/// [`AppError::Invalid`] for a registry name or glob that is not one; the catalog's errors
/// (a registry that refuses its catalog cannot be crawled). Errors of one repository or tag
/// are recorded in it ([`RepositoryCrawl::errors`]), not returned.
pub fn crawl(client: &Client, registry: &str, opts: &CrawlOptions) -> Result<Crawl> {
    let matcher = repo_matcher(&opts.repos)?;
    // The catalog is the registry's; a placeholder repository carries the host.
    let host = Reference::parse(&format!("{registry}/catalog"))
        .map_err(|e| AppError::invalid(format!("registry {registry:?}"), e.to_string()))?;
    if host.registry != registry.trim_end_matches('/') {
        return Err(AppError::invalid(
            format!("registry {registry:?}"),
            "give the registry as HOST[:PORT], without a repository",
        ));
    }
    let page = if opts.page == 0 {
        customs_registry::MAX_PAGE
    } else {
        opts.page
    };
    let names = client.catalog(&host, page)?;
    let repositories = names
        .into_iter()
        .filter(|n| matcher.as_ref().is_none_or(|m| m.is_match(n)))
        .map(|name| crawl_repository(client, &host.registry, name, page))
        .collect();
    let bases = opts
        .bases
        .iter()
        .map(|b| known_base(client, b))
        .collect::<Result<_>>()?;
    Ok(Crawl {
        registry: host.registry,
        repositories,
        bases,
        opened: BTreeMap::new(),
    })
}

/// A known base resolved to its digest; an error of the registry is kept in it, a reference
/// that is not one is returned.
fn known_base(client: &Client, reference: &str) -> Result<KnownBase> {
    let r = Reference::parse(reference)
        .map_err(|e| AppError::invalid(format!("known base {reference:?}"), e.to_string()))?;
    if r.digest.is_some() {
        return Err(AppError::invalid(
            format!("known base {reference:?}"),
            "name a base by its tag (REPOSITORY:TAG): its tag's later builds are what a rebuild \
             is measured against",
        ));
    }
    let tag = r.tag.clone().unwrap_or_else(|| "latest".to_owned());
    let (digest, error) = match client.resolve(&r, &tag) {
        Ok(d) => (Some(d), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(KnownBase {
        repository: format!("{}/{}", r.registry, r.repository),
        tag,
        digest,
        error,
    })
}

/// Keep of each repository of `crawl` the tags `selection` chooses; the rest move to
/// [`RepositoryCrawl::left_out`]. A build date is read from the store for an image it holds,
/// else from the image's config in the registry (the image is kept open in
/// [`Crawl::opened`], so the scan does not fetch it again). An image whose config cannot be
/// read is kept, with the reason in the repository's errors: an image of unknown age is not
/// let off.
///
/// # Errors
/// The store's errors.
pub fn select_tags(
    crawl: &mut Crawl,
    store: &mut dyn Store,
    image: &crate::scan::ImageOptions,
    selection: TagSelection,
    window_days: u32,
) -> Result<()> {
    if selection == TagSelection::All {
        return Ok(());
    }
    let open = crate::scan::open_options(image);
    let registry = crawl.registry.clone();
    let mut dates: BTreeMap<String, Option<Timestamp>> = BTreeMap::new();
    for repo in &mut crawl.repositories {
        // This repository's digests and their build dates.
        let mut created: BTreeMap<String, Option<Timestamp>> = BTreeMap::new();
        for t in &repo.tags {
            if created.contains_key(&t.digest) {
                continue;
            }
            // A digest in several repositories is dated once.
            let date = if let Some(date) = dates.get(&t.digest) {
                *date
            } else if let Some(stored) = store.image(&t.digest)? {
                stored.inventory["image"]["created"]
                    .as_str()
                    .and_then(|c| Timestamp::parse_lenient(c).ok())
            } else {
                let source = format!("{registry}/{}@{}", repo.name, t.digest);
                match customs_image::SourceRef::parse(&source)
                    .and_then(|src| customs_image::open(&src, &open))
                {
                    Ok(opened) => {
                        let date = opened
                            .config
                            .created
                            .as_deref()
                            .and_then(|c| Timestamp::parse_lenient(c).ok());
                        crawl
                            .opened
                            .insert(t.digest.clone(), std::sync::Arc::new(opened));
                        date
                    }
                    Err(e) => {
                        repo.errors
                            .push(format!("tag {}: its build date: {e}", t.tag));
                        None
                    }
                }
            };
            dates.insert(t.digest.clone(), date);
            created.insert(t.digest.clone(), date);
        }
        let newest = created.values().flatten().max().copied();
        // The digests of the N newest builds, and every undated one.
        let latest: BTreeSet<&String> = match selection {
            TagSelection::Latest(n) => {
                let mut dated: Vec<(Timestamp, &String)> = created
                    .iter()
                    .filter_map(|(d, c)| c.map(|c| (c, d)))
                    .collect();
                dated.sort_by(|a, b| b.cmp(a));
                dated
                    .into_iter()
                    .take(n)
                    .map(|(_, d)| d)
                    .chain(created.iter().filter(|(_, c)| c.is_none()).map(|(d, _)| d))
                    .collect()
            }
            TagSelection::All | TagSelection::Current => BTreeSet::new(),
        };
        let (kept, left): (Vec<TagDigest>, Vec<TagDigest>) = std::mem::take(&mut repo.tags)
            .into_iter()
            .partition(|t| match selection {
                TagSelection::Latest(_) => latest.contains(&t.digest),
                TagSelection::All | TagSelection::Current => {
                    is_current_tag(&t.tag, created[&t.digest], newest, window_days)
                }
            });
        repo.tags = kept;
        repo.left_out = left;
    }
    // Only the images still chosen stay open.
    let chosen: BTreeSet<String> = crawl
        .repositories
        .iter()
        .flat_map(|r| r.tags.iter().map(|t| t.digest.clone()))
        .collect();
    crawl.opened.retain(|d, _| chosen.contains(d));
    Ok(())
}

fn crawl_repository(client: &Client, registry: &str, name: String, page: usize) -> RepositoryCrawl {
    let mut out = RepositoryCrawl {
        name,
        tags: Vec::new(),
        artifact_tags: Vec::new(),
        left_out: Vec::new(),
        errors: Vec::new(),
    };
    // A name the catalog sent is checked like any reference: a hostile registry's
    // `../x` is not requested.
    let image = match Reference::parse(&format!("{registry}/{}", out.name)) {
        Ok(r) if r.repository == out.name => r,
        Ok(_) | Err(_) => {
            out.errors
                .push(format!("{:?} is not a repository name", out.name));
            return out;
        }
    };
    let tags = match client.tags(&image, page) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(format!("the tag list: {e}"));
            return out;
        }
    };
    for tag in tags {
        // A name outside the distribution grammar is not requested: from a hostile registry
        // `x?y` or `../x` would change the request's meaning.
        if !is_tag(&tag) {
            out.errors.push(format!("{tag:?} is not a tag"));
            continue;
        }
        if is_artifact_tag(&tag) {
            out.artifact_tags.push(tag);
            continue;
        }
        match client.resolve(&image, &tag) {
            Ok(digest) => out.tags.push(TagDigest { tag, digest }),
            Err(RegistryError::NotFound { .. }) => {
                out.errors
                    .push(format!("tag {tag}: gone since it was listed"));
            }
            Err(e) => out.errors.push(format!("tag {tag}: {e}")),
        }
    }
    out
}

/// One image the audit scanned.
#[derive(Debug, Clone, Serialize)]
pub struct AuditedImage {
    /// The image's digest.
    pub digest: String,
    /// Every `registry/repository:tag` that points at it.
    pub tags: Vec<String>,
    /// Packages found.
    pub packages: usize,
    /// Findings stored.
    pub findings: usize,
}

/// An image the audit could not scan, and why.
#[derive(Debug, Clone, Serialize)]
pub struct AuditFailure {
    /// `registry/repository@digest`.
    pub reference: String,
    /// Why, with its causes.
    pub error: String,
}

/// What [`scan_crawl`] did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditRun {
    /// Distinct images (by digest) the crawl found.
    pub images: usize,
    /// Those scanned and stored by this run.
    pub scanned: Vec<AuditedImage>,
    /// Those the store already held under the same tags: not scanned again.
    pub already_stored: usize,
    /// Those that could not be scanned.
    pub failed: Vec<AuditFailure>,
}

/// Told as the audit goes: an image done (scanned, found stored, or failed), of how many.
pub trait AuditProgress: Sync {
    /// `done` of `total` images are through.
    fn advanced(&self, done: usize, total: usize);
}

impl AuditProgress for () {
    fn advanced(&self, _: usize, _: usize) {}
}

/// Layer facts shared by an audit's scans in one process ([`customs_catalog::SharedFacts`]):
/// a layer one scan is reading is waited for by the others rather than read again, so images
/// scanned at the same time that share a base read its layers once. Facts are kept in memory
/// for the audit's length (a layer's package lists: kilobytes to a few hundred). A wait ends
/// after `WAIT` whatever happens, so two scans that wait for each other's layers (images
/// whose shared layers lie in opposite orders) read them rather than hang.
#[derive(Debug, Default)]
pub struct LocalLayers {
    slots: std::sync::Mutex<Slots>,
    ready: std::sync::Condvar,
}

/// (analyzer set, diff_id) -> the layer's facts, or `None` while a scan reads it.
type Slots = std::collections::HashMap<(String, String), Option<Vec<u8>>>;

impl LocalLayers {
    const WAIT: std::time::Duration = std::time::Duration::from_secs(120);
}

impl customs_catalog::SharedFacts for LocalLayers {
    fn get(&self, set: &str, diff_id: &str) -> Option<Vec<u8>> {
        let key = (set.to_owned(), diff_id.to_owned());
        let deadline = std::time::Instant::now() + Self::WAIT;
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            match slots.get(&key) {
                // Nobody has it: this scan reads it.
                None => {
                    slots.insert(key, None);
                    return None;
                }
                Some(Some(facts)) => return Some(facts.clone()),
                // Another scan is reading it.
                Some(None) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    slots = self
                        .ready
                        .wait_timeout(slots, left)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    fn put(&self, set: &str, diff_id: &str, facts: &[u8]) {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((set.to_owned(), diff_id.to_owned()), Some(facts.to_vec()));
        self.ready.notify_all();
    }

    fn abandon(&self, set: &str, diff_id: &str) {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if matches!(slots.get(&(set.to_owned(), diff_id.to_owned())), Some(None)) {
            slots.remove(&(set.to_owned(), diff_id.to_owned()));
        }
        drop(slots);
        self.ready.notify_all();
    }
}

/// Scan every distinct image of `crawl` once (by digest, whatever repositories and tags
/// point at it), on `concurrency` threads, and store it under each of its tags. An image the
/// store holds under every tag that points at it now is skipped, so a rerun after an
/// interruption continues where the last run stopped; layers read before are taken from the
/// layer cache (`image.use_layer_cache`), and the scans running at once read a shared layer
/// once ([`LocalLayers`], unless `image.shared_layers` brings a fleet's). An image that
/// cannot be scanned is recorded in [`AuditRun::failed`] and the audit goes on.
///
/// # Errors
/// The store's errors (a scan is stored as it arrives; what was stored stays stored).
pub fn scan_crawl(
    store: &mut dyn Store,
    db: &VulnDb,
    crawl: &Crawl,
    image: &crate::scan::ImageOptions,
    concurrency: usize,
    progress: &dyn AuditProgress,
) -> Result<AuditRun> {
    let (mut run, todo) = to_scan(store, crawl)?;
    progress.advanced(run.already_stored, run.images);
    let mut image = image.clone();
    if image.shared_layers.is_none() {
        image.shared_layers = Some(std::sync::Arc::new(LocalLayers::default()));
    }
    let image = &image;
    let queue = std::sync::Mutex::new(todo.into_iter());
    let path = db.path().to_owned();
    std::thread::scope(|scope| -> Result<()> {
        type Scanned = (
            String,
            Vec<(String, String)>,
            Result<customs_store::ScanRecord>,
        );
        let (tx, rx) = std::sync::mpsc::sync_channel::<Scanned>(concurrency.max(1));
        for _ in 0..concurrency.max(1) {
            let tx = tx.clone();
            let queue = &queue;
            let path = &path;
            let opened = &crawl.opened;
            scope.spawn(move || {
                // A SQLite connection is not shared between threads: one per thread.
                let db = VulnDb::open(path).map_err(AppError::from);
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .next();
                    let Some((digest, tags)) = next else {
                        break;
                    };
                    let source = format!("{}@{digest}", tags[0].0);
                    let record = match &db {
                        Ok(db) => match opened.get(&digest) {
                            Some(open) => crate::scan::inventory_of(open, &source, image)
                                .and_then(|inv| crate::scan::match_inventory(inv, db)),
                            None => crate::scan::scan(&source, image, db),
                        }
                        .and_then(|report| crate::record::scan_record(db, &report)),
                        Err(e) => Err(AppError::invalid(
                            "the vulnerability database",
                            e.to_string(),
                        )),
                    };
                    if tx.send((digest, tags, record)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = run.already_stored;
        for (digest, tags, record) in rx {
            done += 1;
            match record {
                Ok(mut record) => {
                    let findings = record.findings.len();
                    let packages = record.packages.len();
                    // Stored once, under every tag that points at the image.
                    record.repository = Some(tags[0].0.clone());
                    record.tag = Some(tags[0].1.clone());
                    record.also_tagged = tags[1..].to_vec();
                    store.put_scan(&record)?;
                    run.scanned.push(AuditedImage {
                        digest,
                        tags: tags.iter().map(|(r, t)| format!("{r}:{t}")).collect(),
                        packages,
                        findings,
                    });
                }
                Err(e) => run.failed.push(AuditFailure {
                    reference: format!("{}@{digest}", tags[0].0),
                    error: crate::worker::error_chain(&e),
                }),
            }
            progress.advanced(done, run.images);
        }
        Ok(())
    })?;
    run.scanned.sort_by(|a, b| a.digest.cmp(&b.digest));
    Ok(run)
}

/// What an audit has to scan: each distinct digest of `crawl` (and of its known bases) with
/// every `(registry/repository, tag)` that points at it, less those the store holds under all
/// of them already (counted in the run as already stored).
fn to_scan(store: &mut dyn Store, crawl: &Crawl) -> Result<(AuditRun, Vec<(String, Tags)>)> {
    let mut wanted: BTreeMap<String, Tags> = BTreeMap::new();
    for r in &crawl.repositories {
        for t in &r.tags {
            wanted
                .entry(t.digest.clone())
                .or_default()
                .push((format!("{}/{}", crawl.registry, r.name), t.tag.clone()));
        }
    }
    for b in &crawl.bases {
        if let Some(digest) = &b.digest {
            let tags = wanted.entry(digest.clone()).or_default();
            let tag = (b.repository.clone(), b.tag.clone());
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    let mut run = AuditRun {
        images: wanted.len(),
        ..AuditRun::default()
    };
    let mut todo = Vec::new();
    for (digest, tags) in wanted {
        if stored_under(store, &digest, &tags)? {
            run.already_stored += 1;
        } else {
            todo.push((digest, tags));
        }
    }
    Ok((run, todo))
}

/// The `(registry/repository, tag)`s that point at one image.
type Tags = Vec<(String, String)>;

/// How [`queue_crawl`] hands an audit to the service's queue.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// Attempts per scan job before it is dead.
    pub max_attempts: u32,
    /// How often the jobs' states are read.
    pub poll: std::time::Duration,
    /// How long to wait for the workers at most; `None`: as long as it takes.
    pub wait: Option<std::time::Duration>,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            poll: std::time::Duration::from_millis(500),
            wait: None,
        }
    }
}

/// [`scan_crawl`] through the service's queue: each distinct image not stored yet becomes a
/// scan job in `store` (keyed by its digest, with every tag that points at it), for the
/// service's workers and any `customs worker` on the same store to take, so a fleet shares
/// the crawl (and, with `--share-layers`, its layers). Then it waits for the jobs: a job done
/// is an image scanned, a dead one a failure with its last error. A job already queued for the
/// same digest (an earlier audit's, a registry's push) is waited for rather than doubled.
///
/// # Errors
/// The store's errors, or [`AppError::Invalid`] when the wait ends first (the jobs stay
/// queued: a rerun waits for them again).
pub fn queue_crawl(
    store: &mut dyn Store,
    crawl: &Crawl,
    opts: &QueueOptions,
    progress: &dyn AuditProgress,
) -> Result<AuditRun> {
    let (mut run, todo) = to_scan(store, crawl)?;
    progress.advanced(run.already_stored, run.images);
    let mut pending: BTreeMap<i64, (String, Tags)> = BTreeMap::new();
    for (digest, tags) in todo {
        let (repository, tag) = &tags[0];
        let job = crate::worker::ScanJob {
            reference: format!("{repository}@{digest}"),
            tag: Some(tag.clone()),
            authorization: None,
            context: None,
            also: tags[1..].iter().map(|(r, t)| format!("{r}:{t}")).collect(),
        };
        let queued = crate::worker::enqueue_scan(store, &job, Some(&digest), opts.max_attempts)?;
        pending.insert(queued.id, (digest, tags));
    }
    let started = std::time::Instant::now();
    let mut done = run.already_stored;
    while !pending.is_empty() {
        let mut finished = Vec::new();
        for (id, (digest, tags)) in &pending {
            let Some(job) = store.job(*id)? else {
                finished.push(*id);
                run.failed.push(AuditFailure {
                    reference: format!("{}@{digest}", tags[0].0),
                    error: format!("scan job {id} is gone from the queue"),
                });
                continue;
            };
            match job.state {
                customs_store::JobState::Done => {
                    finished.push(*id);
                    let count = |k: &str| {
                        job.result
                            .as_ref()
                            .and_then(|r| r[k].as_u64())
                            .and_then(|n| usize::try_from(n).ok())
                            .unwrap_or(0)
                    };
                    run.scanned.push(AuditedImage {
                        digest: digest.clone(),
                        tags: tags.iter().map(|(r, t)| format!("{r}:{t}")).collect(),
                        packages: count("packages"),
                        findings: count("findings"),
                    });
                }
                customs_store::JobState::Dead => {
                    finished.push(*id);
                    run.failed.push(AuditFailure {
                        reference: format!("{}@{digest}", tags[0].0),
                        error: job
                            .last_error
                            .unwrap_or_else(|| format!("scan job {id} failed")),
                    });
                }
                customs_store::JobState::Queued | customs_store::JobState::Running => {}
            }
        }
        for id in finished {
            pending.remove(&id);
            done += 1;
        }
        progress.advanced(done, run.images);
        if pending.is_empty() {
            break;
        }
        if opts.wait.is_some_and(|w| started.elapsed() > w) {
            return Err(AppError::invalid(
                "the audit's queue",
                format!(
                    "{} scan jobs not finished within the wait (ids {}); they stay queued, and a \
                     rerun waits for them: is a worker running on this store?",
                    pending.len(),
                    pending
                        .keys()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        std::thread::sleep(opts.poll);
    }
    run.scanned.sort_by(|a, b| a.digest.cmp(&b.digest));
    Ok(run)
}

/// Whether the store holds `digest` and each of `tags` points at it there.
fn stored_under(store: &mut dyn Store, digest: &str, tags: &[(String, String)]) -> Result<bool> {
    // A tag row names a stored image (it goes with the image), and every image here has a
    // tag: the tag histories alone say whether it is stored, without reading its inventory.
    for (repository, tag) in tags {
        let history = store.tag_history(repository, tag)?;
        if history.last().is_none_or(|e| e.digest != digest) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An open finding, placed in the layers of the image's base or in its own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PlacedFinding {
    /// The vulnerability id.
    pub id: String,
    /// The package.
    pub package: String,
    /// Its severity.
    pub severity: customs_types::Severity,
    /// The index of the layer that brought the package (0 at the bottom), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

/// What rebuilding an image on the current build of its base would fix.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuild {
    /// The base's tag (`REPOSITORY:TAG`) that has moved on since the image was built.
    pub on: String,
    /// The digest that tag points at now (stored).
    pub current: String,
    /// The image's base findings that the current base does not have.
    pub fixes: Vec<PlacedFinding>,
    /// How many base findings the image has.
    pub of: usize,
}

/// `customs base REF`: the base an image is built on, its open findings split into the
/// base's layers and its own, and what a rebuild on the current base would fix.
#[derive(Debug, Clone, Serialize)]
pub struct BaseReport {
    /// The image.
    pub digest: String,
    /// Its base: the stored image named by its `org.opencontainers.image.base.digest`
    /// annotation when its layers agree, else the stored image whose layers are the longest
    /// proper prefix of its own. `None`: no stored image is its base.
    pub base: Option<customs_policy::BaseImage>,
    /// Open findings of packages the base's layers brought.
    pub from_base: Vec<PlacedFinding>,
    /// Open findings of packages the image's own layers brought (all of them without a base).
    pub from_image: Vec<PlacedFinding>,
    /// Open findings whose package's layer is not known.
    pub unplaced: Vec<PlacedFinding>,
    /// For each tag the base was stored under that now points elsewhere: what a rebuild on
    /// that build would fix.
    pub rebuilds: Vec<Rebuild>,
}

/// Open findings of a stored image, placed by layer.
pub(crate) fn placed(store: &mut dyn Store, digest: &str) -> Result<Vec<PlacedFinding>> {
    Ok(placed_in(&store.history(digest)?))
}

/// The open findings of an image's finding history, placed by layer.
fn placed_in(history: &[customs_store::FindingHistory]) -> Vec<PlacedFinding> {
    history
        .iter()
        .filter(|f| f.resolved_at.is_none())
        .map(|f| PlacedFinding {
            layer: f.data["package"]["layer_index"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok()),
            id: f.id.clone(),
            package: f.package_name.clone(),
            severity: f.severity,
        })
        .collect()
}

/// The base of the stored image `reference`, its findings by origin, and the rebuilds that
/// would fix some (see [`BaseReport`]). Read from the store alone: store the base images
/// (scan them with `--store`, or audit their registry) and each image is placed.
///
/// # Errors
/// As [`crate::images::resolve`], a stored inventory that does not read back, or the
/// store's errors.
pub fn base_report(store: &mut dyn Store, reference: &str) -> Result<BaseReport> {
    let tags = tag_histories(store)?;
    let image = crate::images::resolve(store, reference)?;
    let digest = image.summary.digest;
    let inventory: customs_catalog::Inventory =
        serde_json::from_value(image.inventory).map_err(|source| AppError::StoredInventory {
            digest: digest.clone(),
            source,
        })?;
    let history = store.history(&digest)?;
    base_report_of(store, digest, &inventory, &history, &tags)
}

/// Every `(repository, tag)` the store's images carry now, with its history (oldest first).
pub(crate) type TagHistories = BTreeMap<(String, String), Vec<customs_store::TagEvent>>;

/// [`TagHistories`] of the store: each tag's history read once, for a whole report or drift
/// rather than once per image.
pub(crate) fn tag_histories(store: &mut dyn Store) -> Result<TagHistories> {
    let mut tags = BTreeSet::new();
    for i in store.images()? {
        for t in i.tags {
            // `repository:tag`; a repository may hold a registry's `host:port`, a tag no `:`.
            if let Some((repository, tag)) = t.rsplit_once(':') {
                tags.insert((repository.to_owned(), tag.to_owned()));
            }
        }
    }
    let mut histories = TagHistories::new();
    for (repository, tag) in tags {
        let history = store.tag_history(&repository, &tag)?;
        histories.insert((repository, tag), history);
    }
    Ok(histories)
}

/// [`base_report`] of the stored image `digest`, whose inventory and finding history the
/// caller has read.
pub(crate) fn base_report_of(
    store: &mut dyn Store,
    digest: String,
    inventory: &customs_catalog::Inventory,
    history: &[customs_store::FindingHistory],
    tags: &TagHistories,
) -> Result<BaseReport> {
    let base = crate::gate::base_of_inventory(store, inventory)?;
    let mut report = BaseReport {
        digest: digest.clone(),
        base: base.clone(),
        from_base: Vec::new(),
        from_image: Vec::new(),
        unplaced: Vec::new(),
        rebuilds: Vec::new(),
    };
    let layers = base.as_ref().map_or(0, |b| b.layers);
    for f in placed_in(history) {
        match f.layer {
            None => report.unplaced.push(f),
            Some(l) if l < layers => report.from_base.push(f),
            Some(_) => report.from_image.push(f),
        }
    }
    let Some(base_digest) = base.and_then(|b| b.digest) else {
        return Ok(report);
    };
    // Tags that showed the base's digest once and show another now: its newer builds.
    for ((repository, tag), history) in tags {
        let Some(now) = history.last() else { continue };
        if now.digest == base_digest || !history.iter().any(|e| e.digest == base_digest) {
            continue;
        }
        let current: BTreeSet<(String, String)> = placed(store, &now.digest)?
            .into_iter()
            .map(|f| (f.id, f.package))
            .collect();
        report.rebuilds.push(Rebuild {
            on: format!("{repository}:{tag}"),
            current: now.digest.clone(),
            fixes: report
                .from_base
                .iter()
                .filter(|f| !current.contains(&(f.id.clone(), f.package.clone())))
                .cloned()
                .collect(),
            of: report.from_base.len(),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_attestation_and_sbom_tags_are_not_images() {
        let hex = "a".repeat(64);
        for tag in [
            format!("sha256-{hex}.sig"),
            format!("sha256-{hex}.att"),
            format!("sha256-{hex}.sbom"),
            format!("sha256-{hex}"),
            "v1.sig".to_owned(),
        ] {
            assert!(is_artifact_tag(&tag), "{tag}");
        }
        for tag in [
            "1",
            "latest",
            "sha256-abc",
            "sha256",
            "v1.signed",
            "3.19-sbom",
            &format!("sha256-{}", "A".repeat(64)),
        ] {
            assert!(!is_artifact_tag(tag), "{tag}");
        }
    }

    #[test]
    fn tags_follow_the_distribution_grammar() {
        for ok in ["1", "latest", "v1.2.3-rc_1", "_x", &"a".repeat(128)] {
            assert!(is_tag(ok), "{ok}");
        }
        for bad in [
            "",
            ".x",
            "-x",
            "x?y",
            "../x",
            "a/b",
            "x y",
            &"a".repeat(129),
        ] {
            assert!(!is_tag(bad), "{bad}");
        }
    }

    #[test]
    fn repository_globs_stay_within_a_segment_unless_doubled() {
        let m = repo_matcher(&["team/*".to_owned()]).unwrap().unwrap();
        assert!(m.is_match("team/app"));
        assert!(!m.is_match("team/app/worker"));
        assert!(!m.is_match("other/app"));
        let m = repo_matcher(&["team/**".to_owned(), "base".to_owned()])
            .unwrap()
            .unwrap();
        assert!(m.is_match("team/app/worker"));
        assert!(m.is_match("base"));
        assert!(repo_matcher(&[]).unwrap().is_none());
        assert!(repo_matcher(&["[".to_owned()]).is_err());
    }

    #[test]
    fn a_layer_being_read_is_waited_for_not_read_again() {
        use customs_catalog::SharedFacts;
        let layers = LocalLayers::default();
        // The first scan to ask reads the layer.
        assert_eq!(layers.get("set", "sha256:a"), None);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| layers.get("set", "sha256:a"));
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(!waiter.is_finished(), "the second scan waits");
            layers.put("set", "sha256:a", b"facts");
            assert_eq!(waiter.join().unwrap().as_deref(), Some(&b"facts"[..]));
        });
        // A layer given up is read by the next scan that asks; other sets are apart.
        assert_eq!(layers.get("set", "sha256:b"), None);
        layers.abandon("set", "sha256:b");
        assert_eq!(layers.get("set", "sha256:b"), None);
        assert_eq!(layers.get("other", "sha256:a"), None);
    }
}
