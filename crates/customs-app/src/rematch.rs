//! Re-matching stored inventories against a database, without reading any image again
//! (`customs rematch`), on every core.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use customs_catalog::Inventory;
use customs_match::Matcher;
use customs_store::{Delta, PackageKey, RematchInput, RematchRecord, ResolvedReason, Store};
use customs_types::{Ecosystem, Severity, Timestamp};
use customs_vulndb::VulnDb;
use serde::Serialize;

use crate::record::{finding_records, package_keys, resolutions, withdrawn_ids};
use crate::{AppError, Result};

/// How many rematched images are written per store transaction: large enough that commits
/// do not dominate, small enough that a batch's deltas stay a few megabytes.
const BATCH: usize = 256;

/// What to re-match.
#[derive(Default)]
pub struct RematchOptions<'a> {
    /// The database the stored findings were last matched against: only packages named by
    /// advisories that changed between it and the current one are re-evaluated, and only the
    /// images that hold them (a keyed look-up in the store's package index).
    pub since: Option<&'a VulnDb>,
    /// Worker threads; `None` for one per core.
    pub workers: Option<usize>,
    /// Also judge every stored image by a policy, and report those whose verdict changed.
    pub rejudge: Option<Rejudge<'a>>,
}

/// A policy to judge every stored image by after a rematch.
#[derive(Debug, Clone, Copy)]
pub struct Rejudge<'a> {
    /// The policy.
    pub policy: &'a customs_policy::Policy,
    /// The clock exceptions expire by; `None`: now.
    pub now: Option<Timestamp>,
    /// Who runs customs (recorded with exception changes).
    pub by: &'a str,
    /// VEX documents applied to every image before it is judged, as `scan --vex` applies
    /// them (their statements name products by purl, so each reaches only its images).
    pub vex: &'a [customs_policy::vex::VexDocument],
}

/// One stored image's change.
#[derive(Debug, Clone, Serialize)]
pub struct ImageDelta {
    /// The image.
    pub digest: String,
    /// What changed.
    #[serde(flatten)]
    pub delta: Delta,
    /// Ecosystems of the image the database holds no advisories for: their packages' stored
    /// findings were left as they were, neither resolved nor notified (a missing feed is not
    /// a fix).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<Ecosystem>,
    /// Packages the stored source lists that customs has no ecosystem for (an SBOM's gems),
    /// by kind: never checked, whatever the database holds.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unsupported: BTreeMap<String, usize>,
}

/// What a rematch changed, image by image.
#[derive(Debug, Clone, Serialize)]
pub struct RematchReport {
    /// Every image re-matched, in the store's order, changed or not.
    pub images: Vec<ImageDelta>,
    /// `built_at` of the database matched against.
    pub vulnerability_db_built_at: Option<Timestamp>,
    /// With a policy: the images whose verdict under it changed since it last judged them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<crate::gate::VerdictChange>,
}

impl RematchReport {
    /// Whether anything changed: findings, or a verdict.
    #[must_use]
    pub fn anything_changed(&self) -> bool {
        self.changed().next().is_some() || !self.verdicts.is_empty()
    }

    /// The images whose findings changed.
    pub fn changed(&self) -> impl Iterator<Item = &ImageDelta> {
        self.images.iter().filter(|i| !i.delta.is_empty())
    }

    /// For each ecosystem the database lacks advisories for, how many images had packages
    /// of it whose findings were held as they were.
    #[must_use]
    pub fn unchecked(&self) -> BTreeMap<Ecosystem, usize> {
        let mut out = BTreeMap::new();
        for e in self.images.iter().flat_map(|i| &i.unchecked) {
            *out.entry(*e).or_insert(0) += 1;
        }
        out
    }

    /// For each kind of package customs has no ecosystem for, how many re-matched images
    /// list such packages.
    #[must_use]
    pub fn unsupported(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for kind in self.images.iter().flat_map(|i| i.unsupported.keys()) {
            *out.entry(kind.clone()).or_insert(0) += 1;
        }
        out
    }

    /// What `rematch --fail-on min` decides. A gate that does not know must not pass: an
    /// ecosystem of a stored image that the database holds no advisories for (and `allow`
    /// does not accept) makes it [`Gate::Unknown`], and so do packages of a kind customs has
    /// no ecosystem for ([`Gate::Unsupported`], as `scan --fail-on` treats them), whatever the
    /// findings; else findings this rematch brought (new, changed in severity, newly known
    /// exploited) at or above `min` make it [`Gate::Fail`].
    #[must_use]
    pub fn gate(&self, min: Severity, allow: &[Ecosystem]) -> Gate {
        let gaps: Vec<(Ecosystem, usize)> = self
            .unchecked()
            .into_iter()
            .filter(|(e, _)| !allow.contains(e))
            .collect();
        if !gaps.is_empty() {
            return Gate::Unknown(gaps);
        }
        let unsupported: Vec<(String, usize)> = self.unsupported().into_iter().collect();
        if !unsupported.is_empty() {
            return Gate::Unsupported(unsupported);
        }
        let mut failing = BTreeSet::new();
        for image in &self.images {
            let d = &image.delta;
            for f in d.new.iter().chain(&d.changed).chain(&d.kev) {
                let severity = f["severity"]
                    .as_str()
                    .and_then(|s| Severity::parse_lenient(s).ok())
                    .unwrap_or(Severity::Unknown);
                if severity >= min {
                    failing.insert((
                        image.digest.clone(),
                        f["id"].as_str().unwrap_or_default().to_owned(),
                        f["package"]["name"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        if failing.is_empty() {
            Gate::Pass
        } else {
            Gate::Fail(failing.into_iter().collect())
        }
    }
}

/// The verdict of [`RematchReport::gate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Nothing at or above the threshold arrived, and every ecosystem was checked.
    Pass,
    /// Findings at or above the threshold arrived: (image, advisory, package) each.
    Fail(Vec<(String, String, String)>),
    /// The database could not check these ecosystems (with the number of images holding
    /// them): the rematch cannot say.
    Unknown(Vec<(Ecosystem, usize)>),
    /// Stored sources list packages of these kinds, which customs has no ecosystem for (with
    /// the number of images listing them): they were never checked.
    Unsupported(Vec<(String, usize)>),
}

/// The store keys of the packages whose advisories differ between two databases: for each
/// (namespace, package) whose statements changed, the ecosystem the namespace speaks of and
/// the package as the namespace names it. Namespaces of ecosystems customs has no packages of
/// reach no stored image and are left out.
///
/// # Errors
/// The databases' errors.
pub fn changed_packages(before: &VulnDb, after: &VulnDb) -> Result<BTreeSet<PackageKey>> {
    // The two databases are read at once, `before` through a handle of its own (a connection
    // is not shared between threads): each read is a tenth of a second or more.
    let path = before.path().to_owned();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(move || VulnDb::open(&path)?.package_fingerprints());
        let b = after.package_fingerprints();
        (a.join(), b)
    });
    let a = a.map_err(|_| AppError::WorkerPanicked("changed_packages"))??;
    let b = b?;
    let mut out = BTreeSet::new();
    for key in a.keys().chain(b.keys()) {
        if a.get(key) != b.get(key)
            && let Some(ecosystem) = key.0.ecosystem()
        {
            out.insert(PackageKey {
                ecosystem,
                name: key.1.clone(),
            });
        }
    }
    Ok(out)
}

/// Re-match every stored inventory (or, with [`RematchOptions::since`], only what changed
/// advisories touch) and reconcile the stored findings: new, resolved (with why), severity
/// changed, newly known exploited.
///
/// The packages of an ecosystem the database holds no advisories for are not re-evaluated:
/// their stored findings stay open ([`ImageDelta::unchecked`]).
///
/// # Errors
/// [`AppError::EmptyDatabase`] for a database without any advisory (every finding would look
/// fixed); the store's or the databases' errors, or a stored inventory that does not read
/// back.
pub fn rematch(
    store: &mut dyn Store,
    db: &VulnDb,
    opts: &RematchOptions<'_>,
) -> Result<RematchReport> {
    if db.is_empty() {
        return Err(AppError::EmptyDatabase(db.path().to_owned()));
    }
    let built_at = db.meta()?.built_at;
    let keys = opts
        .since
        .map(|before| changed_packages(before, db))
        .transpose()?;
    let inputs = store.rematch_inputs(keys.as_ref())?;
    let withdrawn = withdrawn_ids(db)?;
    let workers = opts
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let images = in_parallel(db, inputs, keys.as_ref(), &withdrawn, workers, |batch| {
        Ok(store.apply_rematches(batch, built_at)?)
    })?;
    Ok(RematchReport {
        images,
        vulnerability_db_built_at: built_at,
        verdicts: Vec::new(),
    })
}

/// Match stored inputs on `workers` threads and hand the results to `write` in batches;
/// returns each image's delta in input order. With `keys`, only the packages under them were
/// read (see [`Store::rematch_inputs`]), so only their findings are reconciled.
fn in_parallel(
    db: &VulnDb,
    inputs: Vec<RematchInput>,
    keys: Option<&BTreeSet<PackageKey>>,
    withdrawn: &Arc<BTreeMap<String, ResolvedReason>>,
    workers: usize,
    mut write: impl FnMut(&[RematchRecord]) -> Result<Vec<Delta>>,
) -> Result<Vec<ImageDelta>> {
    type Matched = (RematchRecord, Gaps);
    let workers = workers.clamp(1, inputs.len().max(1));
    let chunk = inputs.len().div_ceil(workers).max(1);
    let mut chunks: Vec<Vec<RematchInput>> = Vec::new();
    let mut rest = inputs.into_iter();
    loop {
        let next: Vec<_> = rest.by_ref().take(chunk).collect();
        if next.is_empty() {
            break;
        }
        chunks.push(next);
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Result<Matched>)>(BATCH * 2);
        let mut handles = Vec::new();
        let mut start = 0;
        for part in chunks {
            let tx = tx.clone();
            let first = start;
            start += part.len();
            let path = db.path().to_owned();
            handles.push(scope.spawn(move || -> Result<()> {
                // A SQLite connection is not shared between threads: one per worker.
                let db = VulnDb::open(&path)?;
                let mut matcher = Matcher::new(&db);
                for (i, input) in part.into_iter().enumerate() {
                    let record = rematch_one(&mut matcher, input, keys, withdrawn);
                    if tx.send((first + i, record)).is_err() {
                        break;
                    }
                }
                Ok(())
            }));
        }
        drop(tx);
        // Results arrive interleaved from the workers; batches are written as they fill, and
        // the deltas are put back in input order at the end.
        let mut out: Vec<(usize, ImageDelta)> = Vec::new();
        let mut order: Vec<(usize, Gaps)> = Vec::new();
        let mut pending: Vec<RematchRecord> = Vec::new();
        let mut flush =
            |order: &mut Vec<(usize, Gaps)>, pending: &mut Vec<RematchRecord>| -> Result<()> {
                let deltas = write(pending)?;
                for (((i, (unchecked, unsupported)), r), delta) in
                    order.drain(..).zip(pending.drain(..)).zip(deltas)
                {
                    out.push((
                        i,
                        ImageDelta {
                            digest: r.digest,
                            delta,
                            unchecked,
                            unsupported,
                        },
                    ));
                }
                Ok(())
            };
        for (i, matched) in rx {
            let (record, gaps) = matched?;
            order.push((i, gaps));
            pending.push(record);
            if pending.len() >= BATCH {
                flush(&mut order, &mut pending)?;
            }
        }
        flush(&mut order, &mut pending)?;
        for h in handles {
            h.join()
                .map_err(|_| AppError::WorkerPanicked("rematch"))??;
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, d)| d).collect())
    })
}

/// Match one stored image: its findings, the reasons for what went, and the scope; and the
/// ecosystems left unchecked for want of advisory data.
fn rematch_one(
    matcher: &mut Matcher<'_>,
    input: RematchInput,
    keys: Option<&BTreeSet<PackageKey>>,
    withdrawn: &Arc<BTreeMap<String, ResolvedReason>>,
) -> Result<(RematchRecord, Gaps)> {
    let digest = input.digest;
    let stored = |source| AppError::StoredInventory {
        digest: digest.clone(),
        source,
    };
    let mut inv: Inventory = serde_json::from_str(&input.document).map_err(stored)?;
    // Each stored package parsed straight into a package, here on the worker threads: a full
    // rematch reads every package of the store.
    inv.packages.reserve(input.packages.len());
    for package in &input.packages {
        inv.packages
            .push(serde_json::from_str(package).map_err(stored)?);
    }
    let scope = keys.map(|keys| {
        if input.whole_inventory {
            // Stored before package rows: the whole inventory came; keep what was asked for.
            inv.packages
                .retain(|p| package_keys(p).iter().any(|k| keys.contains(k)));
        }
        inv.packages.iter().map(|p| p.name.clone()).collect()
    });
    let report = matcher.match_inventory(&inv)?;
    let unchecked = customs_match::unchecked(&report.coverage);
    let scope = held_out(&inv, &unchecked, scope);
    Ok((
        RematchRecord {
            findings: finding_records(&report.findings)?,
            resolutions: resolutions(&report.findings, &report.withdrawn, withdrawn),
            scope,
            digest,
        },
        (unchecked, inv.unchecked),
    ))
}

/// What a re-match of one image could not check: the ecosystems without advisory data, and
/// the kinds of package customs has no ecosystem for.
type Gaps = (Vec<Ecosystem>, BTreeMap<String, usize>);

/// The scope of a reconcile once the packages of `unchecked` ecosystems are taken out of it,
/// so that their stored findings stay as they were: a database without a feed has not shown
/// them fixed. A name that is also a package of a checked ecosystem is left out too (the
/// store's scope is by name), which errs on the side of keeping a finding open.
#[must_use]
pub fn held_out(
    inv: &Inventory,
    unchecked: &[Ecosystem],
    scope: Option<BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    if unchecked.is_empty() {
        return scope;
    }
    let held: BTreeSet<&str> = inv
        .packages
        .iter()
        .filter(|p| unchecked.contains(&p.ecosystem))
        .map(|p| p.name.as_str())
        .collect();
    let judged = inv
        .packages
        .iter()
        .filter(|p| !held.contains(p.name.as_str()))
        .map(|p| p.name.clone());
    Some(match scope {
        Some(scope) => judged.filter(|n| scope.contains(n)).collect(),
        None => judged.collect(),
    })
}
