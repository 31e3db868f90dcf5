//! `customs cache info|prune`: what customs' cache directory holds, and removing what has not
//! been used lately.
//!
//! customs keeps, under the cache directory:
//! - `layers/<analyzer-set>/<alg>/<hex>.json`: a layer's facts. A hit refreshes the file's mtime,
//!   so mtime is the entry's last use. Sets other than this build's are stale: nothing reads them.
//! - `blobs/<alg>/<hex>`: downloaded blobs, aged by mtime like layer facts.
//! - `feeds/`: the last download of each feed, `db update`'s fallback when a fetch fails; only
//!   `--all` removes them, since their age says nothing about whether they are still needed.
//! - `tmp/`: scratch (decompressed archives), removed after use; anything older than an hour is
//!   left over from a crash.
//!
//! Anything else in the directory is not customs' and is never removed, so a mistyped
//! `--cache-dir` costs nothing. The tree is read without following symlinks: a link is an entry
//! of its own and removing it removes the link, and every path removed is the cache root joined
//! with names read from it, so nothing outside is reached.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::Format;

#[derive(clap::Subcommand)]
pub(crate) enum CacheCmd {
    /// Where the cache is, its size, and per kind the entries and their oldest and newest use.
    Info(InfoArgs),
    /// Remove stale analyzer sets, scratch leftovers, and (with --older-than) what has not been
    /// used lately.
    Prune(PruneArgs),
}

#[derive(clap::Args)]
pub(crate) struct CacheDirArg {
    /// customs' cache directory (default `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`).
    #[arg(long, env = "CUSTOMS_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

impl CacheDirArg {
    fn root(&self) -> Result<PathBuf> {
        self.cache_dir
            .clone()
            .or_else(default_root)
            .context("no cache directory: pass --cache-dir or set HOME")
    }
}

#[derive(clap::Args)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    dir: CacheDirArg,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct PruneArgs {
    #[command(flatten)]
    dir: CacheDirArg,
    /// Also remove layer facts and blobs not used within DURATION: a whole number and a unit,
    /// s, m, h, d or w (`30d`, `12h`, `2w`).
    #[arg(long, value_name = "DURATION", value_parser = parse_age, conflicts_with = "all")]
    older_than: Option<Duration>,
    /// Remove everything customs keeps in the cache.
    #[arg(long)]
    all: bool,
    /// List what would be removed, and remove nothing.
    #[arg(long)]
    dry_run: bool,
}

/// `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`.
pub(crate) fn default_root() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"));
    xdg.or(home).map(|d| d.join("customs"))
}

/// Scratch files younger than this may belong to a scan still running.
const TMP_GRACE: Duration = Duration::from_secs(3600);

/// `30d`, `12h`, `90m`, `45s`, `2w`: a whole number and one unit.
pub(crate) fn parse_age(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let per = match unit {
        _ if num.is_empty() => {
            return Err("expected a whole number and a unit (s, m, h, d or w), e.g. 30d".into());
        }
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" => {
            return Err(format!(
                "missing unit: {num}s, {num}m, {num}h, {num}d or {num}w"
            ));
        }
        _ => {
            return Err(format!(
                "unknown unit {unit:?}: use s, m, h, d or w, e.g. 30d"
            ));
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .map(Duration::from_secs)
        .ok_or_else(|| "too long".into())
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Layers,
    Blobs,
    Feeds,
    Tmp,
    /// Not customs': reported, never removed.
    Other,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Layers => "layers",
            Self::Blobs => "blobs",
            Self::Feeds => "feeds",
            Self::Tmp => "tmp",
            Self::Other => "other",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum State {
    Current,
    Stale,
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

/// One directory of the cache (`layers/<set>`, `blobs`, …) or one foreign top-level entry.
struct Group {
    kind: Kind,
    /// Relative to the cache root.
    name: String,
    /// Set for layer facts only.
    state: Option<State>,
    /// The directory itself, when it is one (never a symlink).
    dir: Option<PathBuf>,
    entries: Vec<Entry>,
}

impl Group {
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
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        let path = e.path();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) => out.push((e.file_name().to_string_lossy().into_owned(), path, meta)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| path.display().to_string()),
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
) -> Result<Group> {
    let mut entries = Vec::new();
    let dir = if meta.is_dir() {
        entries_under(&path, &mut entries)?;
        Some(path)
    } else {
        entries.push(Entry::new(path, meta));
        None
    };
    Ok(Group {
        kind,
        name,
        state,
        dir,
        entries,
    })
}

/// The cache's groups; directories that are not customs' are only walked when `foreign` (prune
/// never touches them, so it need not read them).
fn survey(root: &Path, foreign: bool) -> Result<Vec<Group>> {
    let current = [
        customs_catalog::cache_set_version(false),
        customs_catalog::cache_set_version(true),
    ];
    let mut groups = Vec::new();
    for (name, path, meta) in children(root)? {
        let kind = match name.as_str() {
            _ if !meta.is_dir() => Kind::Other,
            "layers" => {
                for (set, path, meta) in children(&path)? {
                    let state = if meta.is_dir() && current.contains(&set) {
                        State::Current
                    } else {
                        State::Stale
                    };
                    let name = format!("layers/{set}");
                    groups.push(group(Kind::Layers, name, Some(state), path, &meta)?);
                }
                continue;
            }
            "blobs" => Kind::Blobs,
            "feeds" => Kind::Feeds,
            "tmp" => Kind::Tmp,
            _ => Kind::Other,
        };
        if kind == Kind::Other && !foreign {
            continue;
        }
        groups.push(group(kind, name, None, path, &meta)?);
    }
    Ok(groups)
}

pub(crate) fn run(cmd: &CacheCmd) -> Result<ExitCode> {
    match cmd {
        CacheCmd::Info(args) => info(&args.dir.root()?, args.format),
        CacheCmd::Prune(args) => prune(args),
    }
}

#[derive(Serialize)]
struct InfoJson {
    path: String,
    exists: bool,
    entries: usize,
    bytes: u64,
    groups: Vec<GroupJson>,
}

#[derive(Serialize)]
struct GroupJson {
    kind: Kind,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<State>,
    entries: usize,
    bytes: u64,
    oldest_use: Option<String>,
    newest_use: Option<String>,
}

fn info(root: &Path, format: Format) -> Result<ExitCode> {
    let exists = root.is_dir();
    let groups = if exists {
        survey(root, true)?
    } else {
        Vec::new()
    };
    let rows: Vec<GroupJson> = groups
        .iter()
        .map(|g| GroupJson {
            kind: g.kind,
            name: g.name.clone(),
            state: g.state,
            entries: g.entries.len(),
            bytes: g.bytes(),
            oldest_use: g
                .entries
                .iter()
                .map(|e| e.used)
                .min()
                .map(|t| customs_types::Timestamp::from(t).to_string()),
            newest_use: g
                .entries
                .iter()
                .map(|e| e.used)
                .max()
                .map(|t| customs_types::Timestamp::from(t).to_string()),
        })
        .collect();
    let report = InfoJson {
        path: root.display().to_string(),
        exists,
        entries: rows.iter().map(|r| r.entries).sum(),
        bytes: rows.iter().map(|r| r.bytes).sum(),
        groups: rows,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => print_info(&mut out, &report)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_info(out: &mut impl Write, r: &InfoJson) -> Result<()> {
    if !r.exists {
        writeln!(out, "cache:  {} (does not exist)", r.path)?;
        return Ok(());
    }
    writeln!(out, "cache:  {}", r.path)?;
    writeln!(out, "total:  {} in {}", human(r.bytes), plural(r.entries))?;
    if r.groups.is_empty() {
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "KIND",
        "NAME",
        "STATE",
        "ENTRIES",
        "SIZE",
        "OLDEST USE",
        "NEWEST USE",
    ]);
    let when = |t: &Option<String>| {
        t.as_deref()
            .map_or(String::new(), |s| s.replacen('T', " ", 1))
    };
    for g in &r.groups {
        let state = match (g.kind, g.state) {
            (_, Some(State::Current)) => "current",
            (_, Some(State::Stale)) => "stale",
            (Kind::Other, None) => "not customs'",
            _ => "",
        };
        t.add_row([
            g.kind.as_str().to_owned(),
            g.name.clone(),
            state.to_owned(),
            g.entries.to_string(),
            human(g.bytes),
            when(&g.oldest_use),
            when(&g.newest_use),
        ]);
    }
    for i in [3, 4] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(out, "{t}")?;
    if r.groups.iter().any(|g| g.state == Some(State::Stale)) {
        writeln!(
            out,
            "stale analyzer sets are never read again: `customs cache prune` removes them"
        )?;
    }
    Ok(())
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 entry".to_owned()
    } else {
        format!("{n} entries")
    }
}

/// Refuse directories whose loss would be a disaster whatever they hold.
fn check_root(root: &Path) -> Result<PathBuf> {
    let canon = root
        .canonicalize()
        .with_context(|| format!("cache directory {}", root.display()))?;
    if canon.parent().is_none() {
        bail!(
            "refusing to prune {}: it is the filesystem root",
            root.display()
        );
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| PathBuf::from(h).canonicalize().ok());
    if let Some(home) = home
        && home.starts_with(&canon)
    {
        bail!(
            "refusing to prune {}: it is or holds the home directory {}",
            root.display(),
            home.display()
        );
    }
    Ok(canon)
}

/// What goes from one group, by the rules in the module doc.
fn doomed<'g>(g: &'g Group, args: &PruneArgs, now: SystemTime) -> Vec<&'g Entry> {
    let before = |cutoff: SystemTime| -> Vec<&'g Entry> {
        g.entries.iter().filter(|e| e.used < cutoff).collect()
    };
    let unused_since = args
        .older_than
        .map(|age| now.checked_sub(age).unwrap_or(UNIX_EPOCH));
    match (g.kind, g.state) {
        (Kind::Other, _) => Vec::new(),
        _ if args.all => g.entries.iter().collect(),
        (Kind::Layers, Some(State::Stale)) => g.entries.iter().collect(),
        (Kind::Layers | Kind::Blobs, _) => unused_since.map(before).unwrap_or_default(),
        (Kind::Tmp, _) => before(now.checked_sub(TMP_GRACE).unwrap_or(UNIX_EPOCH)),
        (Kind::Feeds, _) => Vec::new(),
    }
}

fn prune(args: &PruneArgs) -> Result<ExitCode> {
    let given = args.dir.root()?;
    let mut out = std::io::stdout().lock();
    if !given.exists() {
        writeln!(out, "nothing to remove: {} does not exist", given.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let root = check_root(&given)?;
    let now = SystemTime::now();
    let groups = survey(&root, false)?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut failed = 0usize;
    let (mut count, mut bytes) = (0usize, 0u64);
    let mut summary = Vec::new();
    for g in &groups {
        let gone = doomed(g, args, now);
        let (mut n, mut b) = (0usize, 0u64);
        for e in gone {
            let rel = e.path.strip_prefix(&root).unwrap_or(&e.path);
            if args.dry_run {
                writeln!(
                    out,
                    "would remove {} ({}, last used {})",
                    rel.display(),
                    human(e.bytes),
                    customs_types::Timestamp::from(e.used)
                        .to_string()
                        .replacen('T', " ", 1)
                )?;
            } else {
                match std::fs::remove_file(&e.path) {
                    Ok(()) => {}
                    // Another prune got there first.
                    Err(err) if err.kind() == ErrorKind::NotFound => {}
                    Err(err) => {
                        failed += 1;
                        writeln!(
                            std::io::stderr(),
                            "customs: removing {}: {err}",
                            e.path.display()
                        )?;
                        continue;
                    }
                }
            }
            n += 1;
            b += e.bytes;
        }
        if !args.dry_run
            && g.kind != Kind::Other
            && let Some(dir) = &g.dir
        {
            // tmp/ itself stays: a scan starting now creates its scratch file in it.
            failed += remove_empty_dirs(dir, g.kind == Kind::Tmp)?;
        }
        if n > 0 {
            summary.push((g, n, b));
        }
        count += n;
        bytes += b;
    }
    let layers = root.join("layers");
    let layers_is_dir = std::fs::symlink_metadata(&layers).is_ok_and(|m| m.is_dir());
    if !args.dry_run && layers_is_dir {
        // Emptied of every set.
        failed += remove_empty_dirs(&layers, false)?;
    }
    if count == 0 {
        writeln!(out, "nothing to remove from {}", given.display())?;
    } else {
        writeln!(
            out,
            "{verb} {}, {} from {}",
            plural(count),
            human(bytes),
            given.display()
        )?;
        for (g, n, b) in summary {
            let why = match (g.kind, g.state) {
                (Kind::Layers, Some(State::Stale)) => " (stale analyzer set)",
                (Kind::Tmp, _) if !args.all => " (leftovers)",
                _ => "",
            };
            writeln!(out, "  {}{why}: {}, {}", g.name, plural(n), human(b))?;
        }
    }
    if failed > 0 {
        bail!("{failed} entries could not be removed (named above)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Remove the empty directories under `dir` bottom-up, and `dir` too unless `keep`; a directory
/// that is not empty (a scan wrote meanwhile) stays. Returns how many removals failed.
fn remove_empty_dirs(dir: &Path, keep: bool) -> Result<usize> {
    let mut failed = 0;
    for (_, path, meta) in children(dir)? {
        if meta.is_dir() {
            failed += remove_empty_dirs(&path, false)?;
        }
    }
    if !keep {
        match std::fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::DirectoryNotEmpty) => {}
            Err(e) => {
                failed += 1;
                writeln!(
                    std::io::stderr(),
                    "customs: removing {}: {e}",
                    dir.display()
                )?;
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(90 * 60)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("0d"), Ok(Duration::ZERO));
    }

    #[test]
    fn junk_ages_are_refused_with_a_reason() {
        for (junk, why) in [
            ("", "expected a whole number"),
            ("d", "expected a whole number"),
            ("-5d", "expected a whole number"),
            ("1.5d", "unknown unit \".5d\""),
            ("30", "missing unit: 30s"),
            ("30D", "unknown unit \"D\""),
            ("30 d", "unknown unit \" d\""),
            ("1d12h", "unknown unit \"d12h\""),
            ("30days", "unknown unit \"days\""),
            ("99999999999999999999d", "too long"),
            ("999999999999999w", "too long"),
        ] {
            let e = parse_age(junk).expect_err(junk);
            assert!(e.contains(why), "{junk:?}: {e}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(5 << 20), "5.0 MiB");
    }
}
