//! Running the catalog over an image: the layer cache, parallel layer walks, and turning the
//! merged facts into an [`Inventory`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use customs_image::{Image, ImageError, LayerReader, StreamLimits};

use customs_detect::{RuleSet, Scanners};

use crate::analyzer::{self, Analyzer};
use crate::apply::{self, Merged};
use crate::cache::LayerCache;
use crate::facts::{Fact, LayerFacts};
use crate::inventory::{
    ConfigMeta, Distro, FileEntry, ImageMeta, Inventory, LayerMeta, Package, SCHEMA_VERSION,
    Warning,
};
use crate::os;
use crate::walk::WalkOptions;

/// Resource bounds for one scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Decompression-bomb bounds for each layer stream.
    pub stream: StreamLimits,
}

/// How to run the catalog.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// The directory of the layer cache (customs keeps it at `layers/` in its cache
    /// directory); `None` disables it, for reads and writes.
    pub layer_cache: Option<PathBuf>,
    /// Layers walked at once (for a registry image, also downloaded at once); the number of
    /// CPUs by default. Clamped to between 1 and the number of layers.
    pub jobs: usize,
    /// Also list every file of the final filesystem (`Inventory::files`).
    pub list_files: bool,
    /// Resource bounds for the scan.
    pub limits: Limits,
    /// Layer facts shared by a fleet (kept in its store), read after a miss in `layer_cache`
    /// and written after a layer is read.
    pub shared: Option<Arc<dyn SharedFacts>>,
    /// Which of the secret, config and file scanners run (`vuln` is the matcher's, not the
    /// catalog's).
    pub scanners: Scanners,
    /// The secret rules; the built-in ones when `None`. They also redact the config's `Env`
    /// and history, whichever scanners run.
    pub secret_rules: Option<Arc<RuleSet>>,
}

/// Layer facts shared by many scanners (a fleet of workers on one store), as the JSON the
/// layer cache keeps, by analyzer set and diff_id.
///
/// After a miss, an implementation may hold a claim on the layer until [`put`] or
/// [`abandon`], so that another scanner asking for the same layer meanwhile waits for its
/// facts instead of reading the layer too: a base layer is then read once per fleet.
///
/// [`put`]: SharedFacts::put
/// [`abandon`]: SharedFacts::abandon
pub trait SharedFacts: Send + Sync + std::fmt::Debug {
    /// The facts of a layer, or `None`: the caller reads the layer and then calls `put` (or
    /// `abandon` if it cannot).
    fn get(&self, set: &str, diff_id: &str) -> Option<Vec<u8>>;
    /// Keep a layer's facts, and release the caller's claim on it.
    fn put(&self, set: &str, diff_id: &str, facts: &[u8]);
    /// Release a claim without facts (the layer could not be read whole).
    fn abandon(&self, set: &str, diff_id: &str);
}

/// Claims on shared layers not yet put, abandoned when the scan ends without facts for them
/// (an error, a partial layer).
struct Claims<'a> {
    shared: &'a dyn SharedFacts,
    set: &'a str,
    open: Vec<String>,
}

impl Claims<'_> {
    fn put(&mut self, diff_id: &str, facts: &LayerFacts) {
        if let Ok(json) = serde_json::to_vec(facts) {
            self.shared.put(self.set, diff_id, &json);
            self.open.retain(|d| d != diff_id);
        }
    }
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        for d in &self.open {
            self.shared.abandon(self.set, d);
        }
    }
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            layer_cache: None,
            jobs: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            list_files: false,
            limits: Limits::default(),
            shared: None,
            scanners: Scanners::default(),
            secret_rules: None,
        }
    }
}

/// Why a catalog run could not produce an inventory at all. Problems inside a layer are not
/// errors: they become warnings in the inventory.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A layer could not be opened, its content is not what the manifest's digests name, or
    /// its registry download failed for good: the inventory would describe another image,
    /// or part of one.
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// Inventory an opened image.
pub fn catalog(image: &Image, opts: &CatalogOptions) -> Result<Inventory, CatalogError> {
    let analyzers = analyzer::all();
    let rules = opts.secret_rules.clone().unwrap_or_else(RuleSet::builtin);
    let walk = WalkOptions {
        list_files: opts.list_files,
        secrets: opts.scanners.secret.then_some(&*rules),
        meta: opts.scanners.file || opts.scanners.config,
    };
    let set = crate::cache::cache_set(opts.list_files, &opts.scanners, &rules);
    let cache = opts.layer_cache.as_ref().map(|d| LayerCache::new(d, &set));
    let mut warnings: Vec<Warning> = Vec::new();

    let (layer_facts, cached) = if let Some(root) = image.rootfs() {
        (
            vec![crate::walk::walk_dir(root, analyzers, walk)],
            vec![false],
        )
    } else {
        read_layers(
            image,
            analyzers,
            cache.as_ref(),
            &set,
            opts,
            walk,
            &mut warnings,
        )?
    };
    for (i, lf) in layer_facts.iter().enumerate() {
        let diff = image.layers.get(i).and_then(|l| l.diff_id.clone());
        warnings.extend(lf.warnings.iter().cloned().map(|mut w| {
            w.layer.clone_from(&diff);
            w
        }));
    }
    let merged = apply::apply(&layer_facts);
    let (distro, mut packages) = packages(&merged);
    for p in &mut packages {
        p.layer = p
            .layer_index
            .and_then(|i| image.layers.get(i))
            .and_then(|l| l.diff_id.clone());
    }
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.arch, &a.version).cmp(&(
            b.ecosystem,
            &b.name,
            &b.arch,
            &b.version,
        ))
    });
    let mut meta = image.rootfs().is_none().then(|| image_meta(image, &cached));
    let ctx = crate::inspect::Context {
        scanners: opts.scanners,
        rules: &rules,
        layers: if image.rootfs().is_some() {
            vec![None]
        } else {
            image.layers.iter().map(|l| l.diff_id.clone()).collect()
        },
        rootfs: image.rootfs().is_some(),
    };
    let (detections, inspected) = crate::inspect::run(
        &ctx,
        &layer_facts,
        &merged,
        &packages,
        meta.as_mut().map(|m| &mut m.config),
    );
    // Warnings of one layer stay in order; layers in order.
    Ok(Inventory {
        schema: SCHEMA_VERSION.to_owned(),
        source: image.source.clone(),
        image: meta,
        distro,
        packages,
        files: opts.list_files.then(|| {
            merged
                .listing
                .iter()
                .map(|(path, (layer, meta))| FileEntry {
                    path: format!("/{path}"),
                    layer_index: image.rootfs().is_none().then_some(*layer),
                    meta: meta.clone(),
                })
                .collect()
        }),
        warnings,
        unchecked: std::collections::BTreeMap::new(),
        detections,
        inspected,
    })
}

type LayerResult = (Vec<LayerFacts>, Vec<bool>);

fn read_layers(
    image: &Image,
    analyzers: &[&dyn Analyzer],
    cache: Option<&LayerCache>,
    set: &str,
    opts: &CatalogOptions,
    walk: WalkOptions<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<LayerResult, CatalogError> {
    let n = image.layers.len();
    let mut slots: Vec<Option<LayerFacts>> = vec![None; n];
    let mut cached = vec![false; n];
    let mut todo: Vec<usize> = Vec::new();
    let mut claims = opts.shared.as_deref().map(|shared| Claims {
        shared,
        set,
        open: Vec::new(),
    });
    for (i, layer) in image.layers.iter().enumerate() {
        if let (Some(c), Some(d)) = (cache, &layer.diff_id)
            && let Some(f) = c.get(d)
        {
            slots[i] = Some(f);
            cached[i] = true;
            continue;
        }
        if let (Some(claims), Some(d)) = (claims.as_mut(), &layer.diff_id) {
            let key = d.to_string();
            // Facts that do not parse (another customs' set would have another key) are a
            // miss, and this scan's put replaces them.
            match claims
                .shared
                .get(set, &key)
                .and_then(|b| serde_json::from_slice::<LayerFacts>(&b).ok())
            {
                Some(f) => {
                    if let Some(c) = cache {
                        let _ = c.put(d, &f);
                    }
                    slots[i] = Some(f);
                    cached[i] = true;
                    continue;
                }
                None => claims.open.push(key),
            }
        }
        todo.push(i);
    }
    // Popped from the end: the largest layer first, so the workers finish together.
    todo.sort_by_key(|i| image.layers[*i].size.unwrap_or(0));
    let queue = Mutex::new(todo);
    type Read = (
        usize,
        LayerFacts,
        Option<std::io::Error>,
        Option<std::io::Error>,
    );
    let done: Mutex<Vec<Read>> = Mutex::new(Vec::new());
    let failed: Mutex<Option<ImageError>> = Mutex::new(None);
    let workers = opts.jobs.clamp(1, n.max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if failed.lock().map_or(true, |f| f.is_some()) {
                        break;
                    }
                    let next = queue.lock().map(|mut q| q.pop()).ok().flatten();
                    let Some(i) = next else { break };
                    // Opened here, not up front: for a registry, opening starts the download,
                    // and only as many run at once as there are workers.
                    let mut reader: LayerReader = match image.open_layer(i, opts.limits.stream) {
                        Ok(r) => r,
                        Err(e) => {
                            if let Ok(mut f) = failed.lock() {
                                f.get_or_insert(e);
                            }
                            break;
                        }
                    };
                    let name = image.describe_layer(i);
                    let (facts, err) = crate::walk::walk_tar(&mut reader, analyzers, &name, walk);
                    // Read to the end so the digest checks cover the whole blob.
                    let err = err.or_else(|| reader.finish().err());
                    // Cached as soon as the layer is read whole and checked, not when the
                    // image is done: a scan killed half-way (an audit's `kill -9`) keeps
                    // every layer it finished, and the rerun does not fetch them again.
                    let cache_err = match (&err, cache, &image.layers[i].diff_id) {
                        (None, Some(c), Some(d)) => c.put(d, &facts).err(),
                        _ => None,
                    };
                    if let Ok(mut d) = done.lock() {
                        d.push((i, facts, err, cache_err));
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(CatalogError::Image(e));
    }
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|(i, _, _, _)| *i);
    for (i, facts, err, cache_err) in done {
        // A layer that is not what the manifest says is not the image the user named, and a
        // download that failed after its retries read only part of it: refuse both rather
        // than report on something else.
        let (err, fatal) = split_fatal(err);
        if let Some(e) = fatal {
            return Err(CatalogError::Image(e));
        }
        match err {
            Some(problem) => warnings.push(Warning {
                file: image.describe_layer(i),
                problem: format!("layer could not be read to the end; its results are partial and not cached: {problem}"),
                layer: image.layers[i].diff_id.clone(),
            }),
            None => {
                if let (Some(claims), Some(d)) = (claims.as_mut(), &image.layers[i].diff_id) {
                    claims.put(&d.to_string(), &facts);
                }
                if let (Some(e), Some(d)) = (cache_err, &image.layers[i].diff_id) {
                    warnings.push(Warning {
                        file: image.describe_layer(i),
                        problem: format!("layer cache not written: {e}"),
                        layer: Some(d.clone()),
                    });
                }
            }
        }
        slots[i] = Some(facts);
    }
    Ok((
        slots.into_iter().map(Option::unwrap_or_default).collect(),
        cached,
    ))
}

/// Separate the stream errors that end the scan (a blob that is not what the manifest names,
/// a download that failed for good) from those that only make a layer partial. The tar reader
/// wraps what it reads, so the cause is looked for along the whole chain.
fn split_fatal(err: Option<std::io::Error>) -> (Option<std::io::Error>, Option<ImageError>) {
    let Some(e) = err else {
        return (None, None);
    };
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|i| i as _);
    while let Some(c) = cur {
        match c.downcast_ref::<ImageError>() {
            Some(ImageError::DigestMismatch {
                what,
                expected,
                actual,
            }) => {
                let fatal = ImageError::DigestMismatch {
                    what: what.clone(),
                    expected: expected.clone(),
                    actual: actual.clone(),
                };
                return (None, Some(fatal));
            }
            Some(ImageError::Registry(r)) => return (None, Some(ImageError::Registry(r.clone()))),
            _ => cur = c.source(),
        }
    }
    (Some(e), None)
}

fn image_meta(image: &Image, cached: &[bool]) -> ImageMeta {
    let c = &image.config;
    ImageMeta {
        annotations: image.annotations.clone(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.config_digest.clone(),
        os: c.os.clone(),
        architecture: c.architecture.clone(),
        created: c.created.clone(),
        layers: image
            .layers
            .iter()
            .map(|l| LayerMeta {
                layer: l.clone(),
                cached: cached.get(l.index).copied().unwrap_or(false),
            })
            .collect(),
        config: ConfigMeta {
            user: c.config.user.clone().filter(|u| !u.is_empty()),
            env: c.config.env.clone(),
            entrypoint: c.config.entrypoint.clone(),
            cmd: c.config.cmd.clone(),
            working_dir: c.config.working_dir.clone().filter(|w| !w.is_empty()),
            labels: c.config.labels.clone(),
            exposed_ports: c.config.exposed_ports.keys().cloned().collect(),
            history: c.history.clone(),
            author: c.author.clone().filter(|a| !a.trim().is_empty()),
            healthcheck: c.config.healthcheck.as_ref().map(|h| h.test.clone()),
        },
    }
}

/// The distribution and every package the merged layers hold, before layer attribution.
pub(crate) fn packages(merged: &Merged) -> (Option<Distro>, Vec<Package>) {
    let distro = detect_distro(merged);
    let mut packages = Vec::new();
    crate::osdb::collect(merged, distro.as_ref(), &mut packages);
    crate::langpkgs::collect(merged, &mut packages);
    (distro, packages)
}

fn detect_distro(m: &Merged) -> Option<Distro> {
    let mut files: BTreeMap<&str, &Fact> = BTreeMap::new();
    for (path, _) in m.files.iter().filter(|(p, _)| os::OsAnalyzer.wants(p)) {
        if let Some((_, f)) = m.resolve(path) {
            files.insert(path.as_str(), f);
        }
    }
    os::detect(&files)
}
