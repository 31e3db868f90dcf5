//! The lifecycle commands over the scan store: `scan --store`, `images`, `history`.
//! The store itself is `customs-store`; this module turns a scan into a record for it and
//! prints what it holds.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use customs_catalog::Inventory;
use customs_match::MatchReport;
use customs_store::{
    Delta, FindingId, FindingRecord, IndexedPackage, PackageKey, RematchRecord, Resolutions,
    ResolvedReason, ScanRecord, Store, Timestamp,
};

use crate::Format;

#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct StoreArgs {
    /// Where scans are kept: `sqlite:PATH` (default `$XDG_DATA_HOME/customs/store.db`) or
    /// `postgres://USER@HOST/DB`.
    #[arg(long, env = "CUSTOMS_STORE_URL", value_name = "URL")]
    pub(crate) store_url: Option<String>,
}

impl StoreArgs {
    pub(crate) fn open(&self) -> Result<Box<dyn Store>> {
        let url = match &self.store_url {
            Some(u) => u.clone(),
            None => {
                let path = default_store().context("no home directory: pass --store-url")?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
                }
                format!("sqlite:{}", path.display())
            }
        };
        customs_store::open(&url).with_context(|| format!("opening the store {}", redact(&url)))
    }
}

/// A URL fit for a message: any password in it replaced.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn default_store() -> Option<PathBuf> {
    crate::db::default_db().map(|p| p.with_file_name("store.db"))
}

/// The store's key for an image: its manifest digest, or for a root filesystem its path.
fn image_key(inv: &Inventory) -> String {
    match inv.image.as_ref().and_then(|i| i.manifest_digest.as_ref()) {
        Some(d) => d.to_string(),
        None => format!("{}:{}", inv.source.kind, inv.source.reference),
    }
}

/// Repository and tag, for registry references (`docker.io/library/nginx`, `1.25`).
fn repository_and_tag(inv: &Inventory) -> (Option<String>, Option<String>) {
    if inv.source.kind != customs_image::SourceKind::Registry {
        return (Some(inv.source.reference.clone()), None);
    }
    let reference = inv
        .source
        .reference
        .strip_prefix("registry:")
        .or_else(|| inv.source.reference.strip_prefix("docker://"))
        .unwrap_or(&inv.source.reference);
    match customs_registry::Reference::parse(reference) {
        Ok(r) => (
            Some(format!("{}/{}", r.registry, r.repository)),
            r.tag.filter(|_| r.digest.is_none()),
        ),
        Err(_) => (Some(inv.source.reference.clone()), None),
    }
}

/// Every package of the inventory as the store keeps it for rematches: without its file
/// lists (a rematch reads names, versions and sources), under the keys advisories look it up
/// by.
fn indexed_packages(inv: &Inventory) -> Result<Vec<IndexedPackage>> {
    inv.packages
        .iter()
        .map(|p| {
            let mut data = serde_json::to_value(p)?;
            if let Some(object) = data.as_object_mut() {
                object.insert("paths".to_owned(), serde_json::Value::Array(Vec::new()));
                object.remove("owns");
                object.remove("evidence");
            }
            Ok(IndexedPackage {
                keys: package_keys_of(p),
                data,
            })
        })
        .collect()
}

/// The inventory without its packages and files: what else a rematch reads (the distro).
fn match_context(inv: &Inventory) -> Result<serde_json::Value> {
    let mut context = serde_json::to_value(inv)?;
    if let Some(object) = context.as_object_mut() {
        object.remove("packages");
        object.remove("files");
    }
    Ok(context)
}

fn package_keys_of(p: &customs_catalog::Package) -> Vec<PackageKey> {
    let mut keys = vec![PackageKey {
        ecosystem: p.ecosystem,
        name: p.ecosystem.match_name(&p.name),
    }];
    if let Some(src) = p.source_name.as_ref().filter(|s| **s != p.name) {
        keys.push(PackageKey {
            ecosystem: p.ecosystem,
            name: src.clone(),
        });
    }
    keys
}

/// (ecosystem, package) pairs whose advisories differ between two databases.
fn changed_packages(
    before: &customs_vulndb::VulnDb,
    after: &customs_vulndb::VulnDb,
) -> Result<std::collections::BTreeSet<PackageKey>> {
    let (a, b) = (
        before.package_fingerprints()?,
        after.package_fingerprints()?,
    );
    let mut out = std::collections::BTreeSet::new();
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

/// The findings a store tracks: what the report shows by default (suppressed ones are the
/// distro's verdict that nothing needs doing).
pub(crate) fn finding_records(report: &MatchReport) -> Result<Vec<FindingRecord>> {
    report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            Ok(FindingRecord {
                id: f.id.clone(),
                package_name: f.package.name.clone(),
                package_version: f.package.version.clone(),
                severity: f.severity,
                kev: f.kev.is_some(),
                data: serde_json::to_value(f)?,
            })
        })
        .collect()
}

/// Why a finding the store has open could be missing from `report`: the advisory was withdrawn
/// (`withdrawn`: ids from [`withdrawn_ids`]), or the distro now says not affected or hides it.
/// Anything else is `no-longer-matched`.
pub(crate) fn resolutions(
    report: &MatchReport,
    withdrawn: &std::sync::Arc<std::collections::BTreeMap<String, ResolvedReason>>,
) -> Resolutions {
    let mut by_finding = std::collections::BTreeMap::new();
    let id = |id: &str, name: &str, version: &str| FindingId {
        id: id.to_owned(),
        package_name: name.to_owned(),
        package_version: version.to_owned(),
    };
    for (advisory, name, version) in &report.withdrawn {
        by_finding.insert(
            id(advisory, name, version),
            ResolvedReason::AdvisoryWithdrawn,
        );
    }
    for f in report.findings.iter().filter(|f| f.suppressed.is_some()) {
        let why = if f.status == customs_match::FindingStatus::NotAffected {
            ResolvedReason::NotAffected
        } else {
            ResolvedReason::Suppressed
        };
        for name in std::iter::once(&f.id).chain(&f.aliases) {
            by_finding.insert(id(name, &f.package.name, &f.package.version), why);
        }
    }
    Resolutions {
        default: ResolvedReason::NoLongerMatched,
        by_finding,
        by_advisory: std::sync::Arc::clone(withdrawn),
    }
}

/// Every withdrawn or rejected advisory id of the database, as resolution reasons.
pub(crate) fn withdrawn_ids(
    db: &customs_vulndb::VulnDb,
) -> Result<std::sync::Arc<std::collections::BTreeMap<String, ResolvedReason>>> {
    Ok(std::sync::Arc::new(
        db.withdrawn_ids()?
            .into_iter()
            .map(|id| (id, ResolvedReason::AdvisoryWithdrawn))
            .collect(),
    ))
}

/// Store a scan; the delta against what the store knew.
pub(crate) fn record(
    store: &mut dyn Store,
    db: &customs_vulndb::VulnDb,
    inv: &Inventory,
    report: &MatchReport,
    db_built_at: Option<customs_types::Timestamp>,
) -> Result<(String, Delta)> {
    let digest = image_key(inv);
    let (repository, tag) = repository_and_tag(inv);
    let rec = ScanRecord {
        digest: digest.clone(),
        repository,
        tag,
        inventory: serde_json::to_value(inv)?,
        context: match_context(inv)?,
        packages: indexed_packages(inv)?,
        findings: finding_records(report)?,
        scanned_at: Timestamp::now(),
        db_built_at,
        resolutions: resolutions(report, &withdrawn_ids(db)?),
    };
    let delta = store.put_scan(&rec)?;
    Ok((digest, delta))
}

#[derive(clap::Args)]
pub(crate) struct ImagesArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn images(args: &ImagesArgs) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let list = store.images()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header([
                "DIGEST",
                "REPOSITORY",
                "TAGS",
                "SCANNED AT",
                "CRITICAL",
                "HIGH",
                "MEDIUM",
                "LOW",
                "OTHER",
            ]);
            for i in &list {
                use customs_types::Severity;
                let n = |k: Severity| i.open.get(&k).copied().unwrap_or(0);
                let other: u64 = i
                    .open
                    .iter()
                    .filter(|(k, _)| **k < Severity::Low)
                    .map(|(_, v)| *v)
                    .sum();
                t.add_row([
                    short(&i.digest),
                    i.repository.clone().unwrap_or_default(),
                    i.tags.join(", "),
                    i.last_scanned_at.to_string(),
                    n(Severity::Critical).to_string(),
                    n(Severity::High).to_string(),
                    n(Severity::Medium).to_string(),
                    n(Severity::Low).to_string(),
                    other.to_string(),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{} images stored", list.len())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn short(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) if alg.starts_with("sha") => hex.chars().take(12).collect(),
        _ => digest.to_owned(),
    }
}

#[derive(clap::Args)]
pub(crate) struct HistoryArgs {
    /// A stored image: its digest, REPOSITORY:TAG or REPOSITORY@DIGEST.
    reference: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

/// `REPOSITORY:TAG` (or `REPOSITORY`, meaning `:latest`) of a reference that names a tag.
fn tag_of(reference: &str) -> Option<(&str, &str)> {
    if reference.contains('@') || reference.starts_with("sha256:") {
        return None;
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    Some(match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            &reference[last_slash + i + 1..],
        ),
        None => (reference, "latest"),
    })
}

pub(crate) fn history(args: &HistoryArgs) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let Some(image) = store.image(&args.reference)? else {
        anyhow::bail!(
            "{}: no such image in the store (see `customs images`)",
            args.reference
        );
    };
    let digest = image.summary.digest.clone();
    let timeline = store.history(&digest)?;
    // For a tag: the digests it pointed at, and what each move resolved in the digest it left.
    let moves = match tag_of(&args.reference) {
        Some((repository, tag)) => store.tag_history(repository, tag)?,
        None => Vec::new(),
    };
    let mut superseded = Vec::new();
    for old in moves.iter().filter(|m| m.digest != digest) {
        for f in store.history(&old.digest)? {
            if matches!(
                f.resolved_reason,
                Some(ResolvedReason::PackageUpgraded | ResolvedReason::PackageRemoved)
            ) {
                superseded.push((old.digest.clone(), f));
            }
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            let superseded: Vec<_> = superseded
                .iter()
                .map(|(d, f)| {
                    let mut v = serde_json::to_value(f).unwrap_or_default();
                    v["digest"] = d.clone().into();
                    v
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({
                    "digest": digest,
                    "findings": timeline,
                    "tag_history": moves,
                    "resolved_by_tag_moves": superseded,
                }),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            for m in &moves {
                writeln!(
                    out,
                    "{}:{} → {} at {}",
                    m.repository, m.tag, m.digest, m.seen_at
                )?;
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header([
                "ID",
                "PACKAGE",
                "VERSION",
                "SEVERITY",
                "FIRST SEEN",
                "RESOLVED AT",
                "REASON",
            ]);
            let rows = timeline
                .iter()
                .map(|f| (None, f))
                .chain(superseded.iter().map(|(d, f)| (Some(d), f)));
            for (old, f) in rows {
                let reason = match (f.resolved_reason, old) {
                    (Some(r), Some(d)) => format!("{r} (in {})", short(d)),
                    (Some(r), None) => r.to_string(),
                    (None, _) => "open".to_owned(),
                };
                t.add_row([
                    f.id.clone(),
                    f.package_name.clone(),
                    f.package_version.clone(),
                    f.severity.to_string(),
                    f.first_seen.to_string(),
                    f.resolved_at.map(|r| r.to_string()).unwrap_or_default(),
                    reason,
                ]);
            }
            writeln!(out, "{digest}")?;
            writeln!(out, "{t}")?;
            let open = timeline.iter().filter(|f| f.resolved_at.is_none()).count();
            writeln!(
                out,
                "{} findings seen, {open} open, {} resolved; {} resolved by tag moves",
                timeline.len(),
                timeline.len() - open,
                superseded.len()
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:/x/y.db"), "sqlite:/x/y.db");
    }
}

#[derive(clap::Args, Clone)]
pub(crate) struct RematchArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    /// Print nothing but the result.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    db: crate::db::DbArgs,
    #[command(flatten)]
    notify: crate::notify::NotifyArgs,
    /// The database the stored findings were last matched against: only packages named by
    /// advisories that changed between it and --db are re-evaluated, and only the images that
    /// hold them (a keyed look-up in the store's package index).
    #[arg(long, value_name = "PREVIOUS.db")]
    since_db: Option<PathBuf>,
}

/// How many rematched images are written per store transaction: large enough that commits
/// do not dominate, small enough that a batch's deltas stay a few megabytes.
const REMATCH_BATCH: usize = 256;

/// Re-match every stored inventory against the database, without reading any image again,
/// and report per image what changed: new findings, findings the data no longer supports (and
/// why), severity changes, and findings newly listed as known exploited.
pub(crate) fn rematch(args: &RematchArgs) -> Result<ExitCode> {
    args.notify.validate()?;
    let db = crate::db::open(&args.db, args.quiet)?;
    let built_at = db.meta()?.built_at;
    let mut store = args.store.open()?;
    let changed = match &args.since_db {
        Some(prev) => {
            let before = customs_vulndb::VulnDb::open(prev)
                .with_context(|| format!("--since-db {}", prev.display()))?;
            Some(changed_packages(&before, &db)?)
        }
        None => None,
    };
    let keys: Option<std::collections::BTreeSet<PackageKey>> = changed;
    let inputs = store.rematch_inputs(keys.as_ref())?;
    let withdrawn = withdrawn_ids(&db)?;
    let images = rematch_in_parallel(&db, inputs, keys.as_ref(), &withdrawn, |batch| {
        Ok(store.apply_rematches(batch, built_at)?)
    })?;
    let list: Vec<serde_json::Value> = images
        .iter()
        .map(|(digest, d)| {
            serde_json::json!({
                "digest": digest,
                "new": d.new,
                "resolved": d.resolved,
                "changed": d.changed,
                "kev": d.kev,
            })
        })
        .collect();
    let doc = serde_json::json!({ "images": list, "vulnerability_db_built_at": built_at });
    if !args.notify.targets.is_empty() {
        // Only a delta worth telling is sent; what earlier runs could not deliver goes anyway.
        let changed = images.iter().any(|(_, d)| !d.is_empty());
        crate::notify::send(
            store.as_mut(),
            &args.notify,
            changed.then_some(&doc),
            args.quiet,
        )?;
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Table => {
            // Unchanged images are counted, not listed: a fleet is thousands of them.
            for (digest, d) in images.iter().filter(|(_, d)| !d.is_empty()) {
                writeln!(
                    out,
                    "{digest}: {} new, {} resolved, {} changed, {} newly exploited (KEV)",
                    d.new.len(),
                    d.resolved.len(),
                    d.changed.len(),
                    d.kev.len()
                )?;
                for (label, list) in [
                    ("new", &d.new),
                    ("resolved", &d.resolved),
                    ("changed", &d.changed),
                    ("kev", &d.kev),
                ] {
                    for f in list {
                        let why = f["resolved_reason"]
                            .as_str()
                            .map(|r| format!(" [{r}]"))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "  {label:<8} {} {} {} ({}){why}",
                            f["id"].as_str().unwrap_or(""),
                            f["package"]["name"].as_str().unwrap_or(""),
                            f["package"]["version"].as_str().unwrap_or(""),
                            f["severity"].as_str().unwrap_or("")
                        )?;
                    }
                }
            }
            let touched = images.iter().filter(|(_, d)| !d.is_empty()).count();
            writeln!(
                out,
                "{} stored images re-matched, {touched} changed",
                images.len()
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Match stored inputs on every core and hand the results to `write` in batches, in input
/// order; returns each image's delta. With `keys`, only the packages under them were read
/// (see [`Store::rematch_inputs`]), so only their findings are reconciled.
fn rematch_in_parallel(
    db: &customs_vulndb::VulnDb,
    inputs: Vec<customs_store::RematchInput>,
    keys: Option<&std::collections::BTreeSet<PackageKey>>,
    withdrawn: &std::sync::Arc<std::collections::BTreeMap<String, ResolvedReason>>,
    mut write: impl FnMut(&[RematchRecord]) -> Result<Vec<Delta>>,
) -> Result<Vec<(String, Delta)>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(inputs.len().max(1));
    let chunk = inputs.len().div_ceil(workers).max(1);
    let mut chunks: Vec<Vec<customs_store::RematchInput>> = Vec::new();
    let mut rest = inputs.into_iter();
    loop {
        let next: Vec<_> = rest.by_ref().take(chunk).collect();
        if next.is_empty() {
            break;
        }
        chunks.push(next);
    }
    std::thread::scope(|scope| {
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(usize, Result<RematchRecord>)>(REMATCH_BATCH * 2);
        let mut handles = Vec::new();
        let mut start = 0;
        for part in chunks {
            let tx = tx.clone();
            let first = start;
            start += part.len();
            let path = db.path().to_owned();
            handles.push(scope.spawn(move || -> Result<()> {
                // A SQLite connection is not shared between threads: one per worker.
                let db = customs_vulndb::VulnDb::open(&path)?;
                let mut matcher = customs_match::Matcher::new(&db);
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
        let mut out: Vec<(usize, String, Delta)> = Vec::new();
        let mut order: Vec<usize> = Vec::new();
        let mut pending: Vec<RematchRecord> = Vec::new();
        let mut flush = |order: &mut Vec<usize>, pending: &mut Vec<RematchRecord>| -> Result<()> {
            let deltas = write(pending)?;
            for ((i, r), d) in order.drain(..).zip(pending.drain(..)).zip(deltas) {
                out.push((i, r.digest, d));
            }
            Ok(())
        };
        for (i, record) in rx {
            order.push(i);
            pending.push(record?);
            if pending.len() >= REMATCH_BATCH {
                flush(&mut order, &mut pending)?;
            }
        }
        flush(&mut order, &mut pending)?;
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a rematch worker panicked"))??;
        }
        out.sort_by_key(|(i, _, _)| *i);
        Ok(out.into_iter().map(|(_, d, delta)| (d, delta)).collect())
    })
}

/// Match one stored image: its findings, the reasons for what went, and the scope.
fn rematch_one(
    matcher: &mut customs_match::Matcher<'_>,
    input: customs_store::RematchInput,
    keys: Option<&std::collections::BTreeSet<PackageKey>>,
    withdrawn: &std::sync::Arc<std::collections::BTreeMap<String, ResolvedReason>>,
) -> Result<RematchRecord> {
    let digest = input.digest;
    let mut inv: Inventory = serde_json::from_value(input.document)
        .with_context(|| format!("{digest}: the stored inventory does not read back"))?;
    let scope = keys.map(|keys| {
        if input.whole_inventory {
            // Stored before package rows: the whole inventory came; keep what was asked for.
            inv.packages
                .retain(|p| package_keys_of(p).iter().any(|k| keys.contains(k)));
        }
        inv.packages.iter().map(|p| p.name.clone()).collect()
    });
    let report = matcher.match_inventory(&inv)?;
    Ok(RematchRecord {
        findings: finding_records(&report)?,
        resolutions: resolutions(&report, withdrawn),
        scope,
        digest,
    })
}

#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The older image: digest, REPOSITORY:TAG or REPOSITORY@DIGEST.
    from: String,
    /// The newer image.
    to: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

/// (ecosystem, name) → version of every package of a stored inventory.
fn package_versions(
    inventory: &serde_json::Value,
) -> std::collections::BTreeMap<(String, String), String> {
    inventory["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            ((s("ecosystem"), s("name")), s("version"))
        })
        .collect()
}

/// A stored image for `diff`: its digest, inventory, and open (finding id, package) pairs.
type Stored = (
    String,
    serde_json::Value,
    std::collections::BTreeSet<(String, String)>,
);

/// Two stored images (two builds of one tag, say): packages added, removed and upgraded, and
/// the open findings each has that the other has not. Read from the store only.
pub(crate) fn diff(args: &DiffArgs) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let mut load = |r: &str| -> Result<Stored> {
        let Some(image) = store.image(r)? else {
            anyhow::bail!("{r}: no such image in the store (see `customs images`)");
        };
        let digest = image.summary.digest.clone();
        let open = store
            .history(&digest)?
            .into_iter()
            .filter(|f| f.resolved_at.is_none())
            .map(|f| (f.id, f.package_name))
            .collect();
        Ok((digest, image.inventory, open))
    };
    let (da, inv_a, open_a) = load(&args.from)?;
    let (db, inv_b, open_b) = load(&args.to)?;
    let (pa, pb) = (package_versions(&inv_a), package_versions(&inv_b));
    let row = |(eco, name): &(String, String), v: &str| serde_json::json!({"ecosystem": eco, "name": name, "version": v});
    let added: Vec<_> = pb
        .iter()
        .filter(|(k, _)| !pa.contains_key(*k))
        .map(|(k, v)| row(k, v))
        .collect();
    let removed: Vec<_> = pa
        .iter()
        .filter(|(k, _)| !pb.contains_key(*k))
        .map(|(k, v)| row(k, v))
        .collect();
    let changed: Vec<_> = pa
        .iter()
        .filter_map(|(k, va)| {
            let vb = pb.get(k).filter(|vb| *vb != va)?;
            Some(serde_json::json!({"ecosystem": k.0, "name": k.1, "from": va, "to": vb}))
        })
        .collect();
    let finding = |(id, pkg): &(String, String)| serde_json::json!({"id": id, "package": pkg});
    let new_findings: Vec<_> = open_b.difference(&open_a).map(finding).collect();
    let gone_findings: Vec<_> = open_a.difference(&open_b).map(finding).collect();
    let doc = serde_json::json!({
        "from": da, "to": db,
        "packages": {"added": added, "removed": removed, "changed": changed},
        "findings": {"added": new_findings, "removed": gone_findings},
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "{da} → {db}")?;
            for p in &added {
                writeln!(out, "  + {} {} {}", p["ecosystem"], p["name"], p["version"])?;
            }
            for p in &removed {
                writeln!(out, "  - {} {} {}", p["ecosystem"], p["name"], p["version"])?;
            }
            for p in &changed {
                writeln!(
                    out,
                    "  ~ {} {} {} → {}",
                    p["ecosystem"], p["name"], p["from"], p["to"]
                )?;
            }
            for f in &new_findings {
                writeln!(out, "  + finding {} in {}", f["id"], f["package"])?;
            }
            for f in &gone_findings {
                writeln!(out, "  - finding {} in {}", f["id"], f["package"])?;
            }
            writeln!(
                out,
                "packages: {} added, {} removed, {} changed; findings: {} added, {} removed",
                added.len(),
                removed.len(),
                changed.len(),
                new_findings.len(),
                gone_findings.len()
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct WatchArgs {
    /// Time between rounds: `45s`, `15m`, `6h`, `1d`.
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    interval: String,
    /// Feeds to fetch each round, as `customs db update --feed KIND=URL` (default: upstream's).
    #[arg(long = "feed", value_name = "KIND=URL")]
    feeds: Vec<String>,
    /// Do not fetch feeds: re-match against the database as it stands (kept current by
    /// something else).
    #[arg(long)]
    no_update: bool,
    /// Stop after this many rounds (default: until SIGTERM or SIGINT).
    #[arg(long, value_name = "N")]
    rounds: Option<u64>,
    #[command(flatten)]
    rematch: RematchArgs,
}

/// The lifecycle loop: update the database, re-match every stored image, notify; then wait.
/// SIGTERM and SIGINT end it between steps, never in the middle of a store write.
pub(crate) fn watch(args: &WatchArgs) -> Result<ExitCode> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let interval = crate::cache::parse_age(&args.interval)
        .map_err(|why| anyhow::anyhow!("--interval {:?}: {why}", args.interval))?;
    args.rematch.notify.validate()?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        if !args.no_update {
            let update = crate::db::DbCmd::Update {
                db: args.rematch.db.clone(),
                feeds: args.feeds.clone(),
                common: crate::CommonArgs {
                    quiet: args.rematch.quiet,
                    ..crate::CommonArgs::default()
                },
            };
            // A failed fetch leaves the previous database; the round re-matches against it.
            if let Err(e) = crate::db::run(&update) {
                writeln!(std::io::stderr(), "customs watch: update failed: {e:#}")?;
            }
        }
        if let Err(e) = rematch(&args.rematch) {
            writeln!(std::io::stderr(), "customs watch: rematch failed: {e:#}")?;
        }
        if args.rounds.is_some_and(|n| round >= n) {
            break;
        }
        let until = std::time::Instant::now() + interval;
        while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    if !args.rematch.quiet {
        writeln!(
            std::io::stderr(),
            "customs watch: stopped after {round} rounds"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
