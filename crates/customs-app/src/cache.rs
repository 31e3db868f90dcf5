//! customs' cache directory: its one owner. Every other crate is handed the subdirectory it
//! writes to; this module alone knows the layout, reports on it and prunes it.
//!
//! | path | what | written by | pruned |
//! |---|---|---|---|
//! | `layers/<analyzer-set>/<alg>/<hex>.json` | a layer's facts, keyed by diff_id; a hit refreshes the mtime, so mtime is the last use | `customs-catalog` | sets other than this build's are stale and always go; the current set by `--older-than` |
//! | `feeds/` | the last download of each feed, `db update`'s fallback when a fetch fails; `feeds/pulled/`: `db pull`'s layers by digest | `customs-vulndb` | only by `--all`: their age says nothing about whether they are still needed |
//! | `configs/blobs/<alg>/<hex>` | registry images' configs by digest (checked on read); a hit refreshes the mtime | `customs-image` | by `--older-than` |
//! | `tmp/` | scratch (decompressed archives), removed after use | `customs-image` | anything older than an hour is left over from a crash |
//!
//! Anything else in the directory is not customs' and is never removed, so a mistyped cache
//! directory costs nothing. The tree is read without following symlinks: a link is an entry of
//! its own and removing it removes the link, and every path removed is the cache root joined
//! with names read from it, so nothing outside is reached.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use customs_types::Timestamp;
use serde::Serialize;

use crate::{AppError, Result};

/// The layer facts' directory under the cache root.
const LAYERS: &str = "layers";
/// Feed downloads.
const FEEDS: &str = "feeds";
/// Scratch space.
const SCRATCH: &str = "tmp";
/// Registry images' configs.
const CONFIGS: &str = "configs";

/// Scratch files younger than this may belong to a scan still running.
const SCRATCH_GRACE: Duration = Duration::from_secs(3600);

/// customs' cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDir {
    root: PathBuf,
}

/// What each part of the cache is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Layer facts (`layers/<set>`).
    Layers,
    /// Feed downloads (`feeds/`).
    Feeds,
    /// Scratch (`tmp/`).
    Tmp,
    /// Registry images' configs (`configs/`).
    Configs,
    /// Not customs': reported, never removed.
    Other,
}

/// Whether a set of layer facts is this build's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Written and read by this build's analyzers.
    Current,
    /// Another build's: never read again.
    Stale,
}

/// One part of the cache, as `cache info` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// What it is.
    pub kind: Kind,
    /// Its path relative to the cache root (`layers/<set>`, `feeds`, …).
    pub name: String,
    /// For layer facts: this build's or another's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Files in it.
    pub entries: usize,
    /// Their size.
    pub bytes: u64,
    /// The least recent last use.
    pub oldest_use: Option<Timestamp>,
    /// The most recent last use.
    pub newest_use: Option<Timestamp>,
}

/// What `cache info` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CacheInfo {
    /// The cache root.
    pub path: PathBuf,
    /// Whether it exists.
    pub exists: bool,
    /// Files in all.
    pub entries: usize,
    /// Their size.
    pub bytes: u64,
    /// Each part.
    pub groups: Vec<Group>,
}

/// What to prune.
#[derive(Debug, Clone, Copy, Default)]
pub struct PruneOptions {
    /// Also layer facts not used within this long.
    pub older_than: Option<Duration>,
    /// Everything customs keeps.
    pub all: bool,
    /// Say what would go; remove nothing.
    pub dry_run: bool,
}

/// One file pruned (or that would be).
#[derive(Debug, Clone, Serialize)]
pub struct Pruned {
    /// Relative to the cache root.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its last use.
    pub last_used: Timestamp,
}

/// Per part of the cache: why and how much went.
#[derive(Debug, Clone, Serialize)]
pub struct PrunedGroup {
    /// The part (`layers/<set>`, `tmp`, …).
    pub name: String,
    /// Why its files went, when it is not simply their age: `stale analyzer set`, `leftovers`.
    pub why: Option<&'static str>,
    /// Files.
    pub entries: usize,
    /// Their size.
    pub bytes: u64,
}

/// What `cache prune` did (or would do).
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// The cache root as given.
    pub path: PathBuf,
    /// Whether it exists at all.
    pub exists: bool,
    /// Nothing was removed: the files are what would go.
    pub dry_run: bool,
    /// The files, in order.
    pub files: Vec<Pruned>,
    /// Per part.
    pub groups: Vec<PrunedGroup>,
    /// Paths that could not be removed, and why.
    pub failed: Vec<(PathBuf, String)>,
}

impl PruneReport {
    /// Files removed (or that would be).
    #[must_use]
    pub fn entries(&self) -> usize {
        self.files.len()
    }

    /// Their size.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

impl CacheDir {
    /// The cache at `root`.
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The default cache: `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`.
    ///
    /// # Errors
    /// [`AppError::NoHome`] when neither is set.
    pub fn default_location() -> Result<Self> {
        crate::paths::cache_dir()
            .map(Self::new)
            .ok_or(AppError::NoHome("pass --cache-dir or set HOME"))
    }

    /// The root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `customs-catalog` keeps layer facts.
    #[must_use]
    pub fn layers(&self) -> PathBuf {
        self.root.join(LAYERS)
    }

    /// Where `db update` keeps feed downloads.
    #[must_use]
    pub fn feeds(&self) -> PathBuf {
        self.root.join(FEEDS)
    }

    /// Where `db pull` keeps the database artifact's layers, by digest, so the next pull
    /// downloads only the feeds that changed (inside `feeds/`: pruned only by `--all`).
    #[must_use]
    pub fn db_layers(&self) -> PathBuf {
        self.root.join(FEEDS).join("pulled")
    }

    /// Scratch space for decompressed archives.
    #[must_use]
    pub fn scratch(&self) -> PathBuf {
        self.root.join(SCRATCH)
    }

    /// Where `customs-image` keeps registry images' configs.
    #[must_use]
    pub fn configs(&self) -> PathBuf {
        self.root.join(CONFIGS)
    }

    /// What the cache holds, part by part.
    ///
    /// # Errors
    /// A directory that cannot be read.
    pub fn info(&self) -> Result<CacheInfo> {
        let exists = self.root.is_dir();
        let groups: Vec<Group> = if exists {
            survey(&self.root, true)?
                .iter()
                .map(|g| Group {
                    kind: g.kind,
                    name: g.name.clone(),
                    state: g.state,
                    entries: g.entries.len(),
                    bytes: g.bytes(),
                    oldest_use: g.entries.iter().map(|e| e.used).min().map(Timestamp::from),
                    newest_use: g.entries.iter().map(|e| e.used).max().map(Timestamp::from),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(CacheInfo {
            path: self.root.clone(),
            exists,
            entries: groups.iter().map(|g| g.entries).sum(),
            bytes: groups.iter().map(|g| g.bytes).sum(),
            groups,
        })
    }

    /// Remove stale analyzer sets, scratch leftovers, and what `opts` names. A file that
    /// cannot be removed is listed in [`PruneReport::failed`]; the rest still goes.
    ///
    /// # Errors
    /// A root whose loss would be a disaster (the filesystem root, or one holding the home
    /// directory), or a directory that cannot be read.
    pub fn prune(&self, opts: &PruneOptions) -> Result<PruneReport> {
        let mut report = PruneReport {
            path: self.root.clone(),
            exists: self.root.exists(),
            dry_run: opts.dry_run,
            files: Vec::new(),
            groups: Vec::new(),
            failed: Vec::new(),
        };
        if !report.exists {
            return Ok(report);
        }
        let root = check_root(&self.root)?;
        let now = SystemTime::now();
        for g in &survey(&root, false)? {
            let gone = doomed(g, opts, now);
            let (mut n, mut b) = (0usize, 0u64);
            for e in gone {
                if !opts.dry_run {
                    match std::fs::remove_file(&e.path) {
                        Ok(()) => {}
                        // Another prune got there first.
                        Err(err) if err.kind() == ErrorKind::NotFound => {}
                        Err(err) => {
                            report.failed.push((e.path.clone(), err.to_string()));
                            continue;
                        }
                    }
                }
                report.files.push(Pruned {
                    path: e.path.strip_prefix(&root).unwrap_or(&e.path).to_owned(),
                    bytes: e.bytes,
                    last_used: Timestamp::from(e.used),
                });
                n += 1;
                b += e.bytes;
            }
            if !opts.dry_run
                && g.kind != Kind::Other
                && let Some(dir) = &g.dir
            {
                // tmp/ itself stays: a scan starting now creates its scratch file in it.
                remove_empty_dirs(dir, g.kind == Kind::Tmp, &mut report.failed)?;
            }
            if n > 0 {
                let why = match (g.kind, g.state) {
                    (Kind::Layers, Some(State::Stale)) => Some("stale analyzer set"),
                    (Kind::Tmp, _) if !opts.all => Some("leftovers"),
                    _ => None,
                };
                report.groups.push(PrunedGroup {
                    name: g.name.clone(),
                    why,
                    entries: n,
                    bytes: b,
                });
            }
        }
        let layers = root.join(LAYERS);
        if !opts.dry_run && std::fs::symlink_metadata(&layers).is_ok_and(|m| m.is_dir()) {
            // Emptied of every set.
            remove_empty_dirs(&layers, false, &mut report.failed)?;
        }
        Ok(report)
    }
}

struct Entry {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

impl Entry {
    fn new(path: PathBuf, meta: &std::fs::Metadata) -> Self {
        Self {
            path,
            bytes: meta.len(),
            used: meta.modified().unwrap_or(UNIX_EPOCH),
        }
    }
}

/// One directory of the cache (`layers/<set>`, `feeds`, …) or one foreign top-level entry.
struct Survey {
    kind: Kind,
    name: String,
    state: Option<State>,
    /// The directory itself, when it is one (never a symlink).
    dir: Option<PathBuf>,
    entries: Vec<Entry>,
}

impl Survey {
    fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.bytes).sum()
    }
}

/// The children of `dir` with their lstat, sorted; one that vanished meanwhile (a concurrent
/// scan renaming its temporary file) is skipped.
fn children(dir: &Path) -> Result<Vec<(String, PathBuf, std::fs::Metadata)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AppError::io(dir)(e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(AppError::io(dir))?;
        let path = e.path();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) => out.push((e.file_name().to_string_lossy().into_owned(), path, meta)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(AppError::io(path)(e)),
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Every non-directory under `dir`.
fn entries_under(dir: &Path, out: &mut Vec<Entry>) -> Result<()> {
    for (_, path, meta) in children(dir)? {
        if meta.is_dir() {
            entries_under(&path, out)?;
        } else {
            out.push(Entry::new(path, &meta));
        }
    }
    Ok(())
}

fn group(
    kind: Kind,
    name: String,
    state: Option<State>,
    path: PathBuf,
    meta: &std::fs::Metadata,
) -> Result<Survey> {
    let mut entries = Vec::new();
    let dir = if meta.is_dir() {
        entries_under(&path, &mut entries)?;
        Some(path)
    } else {
        entries.push(Entry::new(path, meta));
        None
    };
    Ok(Survey {
        kind,
        name,
        state,
        dir,
        entries,
    })
}

/// The cache's parts; entries that are not customs' are only walked when `foreign` (prune
/// never touches them, so it need not read them).
fn survey(root: &Path, foreign: bool) -> Result<Vec<Survey>> {
    let mut groups = Vec::new();
    for (name, path, meta) in children(root)? {
        let kind = match name.as_str() {
            _ if !meta.is_dir() => Kind::Other,
            LAYERS => {
                for (set, path, meta) in children(&path)? {
                    let state = if meta.is_dir() && customs_catalog::is_current_cache_set(&set) {
                        State::Current
                    } else {
                        State::Stale
                    };
                    let name = format!("{LAYERS}/{set}");
                    groups.push(group(Kind::Layers, name, Some(state), path, &meta)?);
                }
                continue;
            }
            FEEDS => Kind::Feeds,
            SCRATCH => Kind::Tmp,
            CONFIGS => Kind::Configs,
            _ => Kind::Other,
        };
        if kind == Kind::Other && !foreign {
            continue;
        }
        groups.push(group(kind, name, None, path, &meta)?);
    }
    Ok(groups)
}

/// Refuse directories whose loss would be a disaster whatever they hold.
fn check_root(root: &Path) -> Result<PathBuf> {
    let canon = root.canonicalize().map_err(AppError::io(root))?;
    if canon.parent().is_none() {
        return Err(AppError::invalid(
            format!("refusing to prune {}", root.display()),
            "it is the filesystem root",
        ));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| PathBuf::from(h).canonicalize().ok());
    if let Some(home) = home
        && home.starts_with(&canon)
    {
        return Err(AppError::invalid(
            format!("refusing to prune {}", root.display()),
            format!("it is or holds the home directory {}", home.display()),
        ));
    }
    Ok(canon)
}

/// What goes from one part, by the rules in the module doc.
fn doomed<'g>(g: &'g Survey, opts: &PruneOptions, now: SystemTime) -> Vec<&'g Entry> {
    let before = |cutoff: SystemTime| -> Vec<&'g Entry> {
        g.entries.iter().filter(|e| e.used < cutoff).collect()
    };
    let unused_since = opts
        .older_than
        .map(|age| now.checked_sub(age).unwrap_or(UNIX_EPOCH));
    match (g.kind, g.state) {
        (Kind::Other, _) => Vec::new(),
        _ if opts.all => g.entries.iter().collect(),
        (Kind::Layers, Some(State::Stale)) => g.entries.iter().collect(),
        (Kind::Layers | Kind::Configs, _) => unused_since.map(before).unwrap_or_default(),
        (Kind::Tmp, _) => before(now.checked_sub(SCRATCH_GRACE).unwrap_or(UNIX_EPOCH)),
        (Kind::Feeds, _) => Vec::new(),
    }
}

/// Remove the empty directories under `dir` bottom-up, and `dir` too unless `keep`; a directory
/// that is not empty (a scan wrote meanwhile) stays. Failures are collected.
fn remove_empty_dirs(dir: &Path, keep: bool, failed: &mut Vec<(PathBuf, String)>) -> Result<()> {
    for (_, path, meta) in children(dir)? {
        if meta.is_dir() {
            remove_empty_dirs(&path, false, failed)?;
        }
    }
    if !keep {
        match std::fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::DirectoryNotEmpty) => {}
            Err(e) => failed.push((dir.to_owned(), e.to_string())),
        }
    }
    Ok(())
}
