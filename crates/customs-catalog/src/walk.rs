//! Walking a layer (a tar stream) or a root filesystem once, handing each analyzer only the
//! entries it wants.
//!
//! Nothing is ever written: entries are read into memory only when an analyzer wants them and
//! they are within its size limit. Hostile entries are skipped with a warning that names them:
//! paths that climb out of the root (`../`) or are absolute, links whose targets climb out,
//! device nodes and FIFOs, and over-long names.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use customs_detect::RuleSet;

use crate::analyzer::{self, Analyzer, Root};

mod framing;
use crate::facts::{Entry, FileMeta, LayerFacts};
use crate::inventory::Warning;

/// What a walk gathers beyond the analyzers' files.
#[derive(Clone, Copy, Default)]
pub(crate) struct WalkOptions<'a> {
    /// Every entry's metadata (`customs sbom --files`).
    pub(crate) list_files: bool,
    /// Scan every text file for secrets with these rules.
    pub(crate) secrets: Option<&'a RuleSet>,
    /// Keep the entries the file and config checks look at (set-id bits, world-writable,
    /// owned by a user, package-manager caches), and every path's hash, so a later layer's
    /// replacement of a file is seen.
    pub(crate) meta: bool,
}

impl WalkOptions<'_> {
    /// Whether a root-filesystem walk must read the whole tree, not only the analyzers' roots.
    fn whole_tree(&self) -> bool {
        self.list_files || self.secrets.is_some() || self.meta
    }

    fn paths(&self) -> bool {
        self.secrets.is_some() || self.meta
    }
}

/// Bytes of a file's head that decide, by a NUL among them, that it is binary and not scanned
/// for secrets (git's and grep's rule).
const TEXT_SNIFF: usize = 8192;

/// Scan one regular file for secrets: `head` is what was read of it already, `rest` the
/// remainder. The head decides whether it is text before the rest is read.
fn scan_secrets(
    rules: &RuleSet,
    facts: &mut LayerFacts,
    path: &str,
    size: u64,
    head: Vec<u8>,
    rest: impl Read,
) -> io::Result<()> {
    let abs = format!("/{path}");
    if !rules.wants_path(&abs) {
        return Ok(());
    }
    if size > rules.max_file_size() {
        facts.secret_stats.skipped_large += 1;
        return Ok(());
    }
    let mut r = io::Cursor::new(head).chain(rest);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(TEXT_SNIFF));
    (&mut r).take(TEXT_SNIFF as u64).read_to_end(&mut bytes)?;
    if bytes.contains(&0) {
        facts.secret_stats.skipped_binary += 1;
        return Ok(());
    }
    match read_bounded(io::Cursor::new(bytes).chain(r), size, rules.max_file_size())? {
        Some(bytes) => {
            let hits = rules.scan_file(&abs, &bytes, &mut facts.secret_stats);
            if !hits.is_empty() {
                facts.secrets.insert(path.to_owned(), hits);
            }
        }
        None => facts.secret_stats.skipped_large += 1,
    }
    Ok(())
}

/// Whether the file and config checks need this entry (see [`WalkOptions::meta`]).
fn notable(path: &str, meta: &FileMeta) -> bool {
    let kind = meta.kind.as_str();
    (kind == "file" && meta.mode & 0o6000 != 0)
        || (matches!(kind, "file" | "dir") && meta.mode & 0o002 != 0)
        || (kind != "symlink" && meta.uid != 0)
        || (kind == "file" && customs_detect::files::cache_dir_of(path).is_some())
}

/// Notable entries kept per layer; beyond this the rest are counted in a warning.
const MAX_NOTABLE: usize = 100_000;

fn keep_meta(facts: &mut LayerFacts, warnings: &mut Warnings<'_>, path: &str, meta: FileMeta) {
    if !notable(path, &meta) {
        return;
    }
    if facts.notable.len() < MAX_NOTABLE {
        facts.notable.insert(path.to_owned(), meta);
    } else if facts.notable.len() == MAX_NOTABLE {
        warnings.push(
            format!("/{path}"),
            format!(
                "over {MAX_NOTABLE} entries with notable modes or owners: the rest are not checked"
            ),
        );
    }
}

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";
/// Beyond this many warnings in one layer, the rest are counted, not listed.
const MAX_WARNINGS: usize = 100;
const MAX_PATH: usize = 4096;
/// Whiteouts recorded per layer; each is a short string, so this bounds memory to tens of MB.
const MAX_WHITEOUTS: usize = 1_000_000;

/// Collects warnings for one layer, listing the first [`MAX_WARNINGS`] and counting the rest.
pub(crate) struct Warnings<'a> {
    pub(crate) list: Vec<Warning>,
    suppressed: usize,
    layer: &'a str,
}

impl<'a> Warnings<'a> {
    pub(crate) fn new(layer: &'a str) -> Self {
        Self {
            list: Vec::new(),
            suppressed: 0,
            layer,
        }
    }

    pub(crate) fn push(&mut self, file: impl Into<String>, problem: impl Into<String>) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(Warning {
                file: file.into(),
                problem: problem.into(),
                layer: None,
            });
        } else {
            self.suppressed += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Warning> {
        if self.suppressed > 0 {
            self.list.push(Warning {
                file: self.layer.to_owned(),
                problem: format!("{} more warnings in this layer not listed", self.suppressed),
                layer: None,
            });
        }
        self.list
    }
}

/// Normalise a tar entry name to a relative path. `Err` names why the entry is refused.
fn entry_path(raw: &[u8]) -> Result<Option<String>, &'static str> {
    if raw.len() > MAX_PATH {
        return Err("path longer than 4096 bytes");
    }
    let s = String::from_utf8_lossy(raw);
    if s.starts_with('/')
        && !s
            .trim_start_matches('/')
            .trim_start_matches("./")
            .is_empty()
    {
        return Err("absolute path in a layer");
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("path climbs out of the image root (..)"),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

/// Resolve a link target relative to the link's directory, clamped to the image root the way
/// the kernel resolves it inside the container. `None` when the target would climb above the
/// root.
pub(crate) fn resolve_target(link: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        link.split('/').collect::<Vec<_>>()
    };
    if !target.starts_with('/') {
        parts.pop();
    }
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// A file whose bytes end before its stated size: a tar entry reader reports that as a plain
/// end of file, and half a package database parses as a smaller one.
#[derive(Debug, thiserror::Error)]
#[error("cut short: the layer ends {got} bytes into its {size} bytes")]
struct CutShort {
    got: u64,
    size: u64,
}

/// Read up to `limit` bytes; `Ok(None)` when the entry is larger, [`CutShort`] when it ends
/// before `size`.
fn read_bounded(r: impl Read, size: u64, limit: u64) -> io::Result<Option<Vec<u8>>> {
    if size > limit {
        return Ok(None);
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 20));
    r.take(limit + 1).read_to_end(&mut buf)?;
    let got = buf.len() as u64;
    if got < size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            CutShort { got, size },
        ));
    }
    Ok((got <= limit).then_some(buf))
}

/// What reading a wanted file gave: its bytes (`None`: too big), what a streaming analyzer
/// made of it, or nothing (not worth reading, by its head).
enum Wanted {
    Bytes(Option<Vec<u8>>),
    Streamed(Result<analyzer::Parsed, String>),
    /// Not worth reading, by its head (kept: the secret scan reads on from it).
    Declined(Vec<u8>),
}

/// Read a wanted file: its head first, for [`Analyzer::sniff`], then the rest, bounded, or as
/// a stream when the analyzer streams it. `file` is the same file as `r` when it can seek.
fn read_wanted(
    mut r: impl Read,
    file: Option<&mut std::fs::File>,
    path: &str,
    size: u64,
    a: &dyn Analyzer,
) -> io::Result<Wanted> {
    let mut head = Vec::with_capacity(analyzer::SNIFF);
    (&mut r)
        .take(analyzer::SNIFF as u64)
        .read_to_end(&mut head)?;
    if !a.sniff(&head) {
        return Ok(Wanted::Declined(head));
    }
    if a.streams(path, size) {
        let parsed = match file {
            Some(f) => {
                io::Seek::rewind(f)?;
                a.parse_stream(path, size, analyzer::Input::File(f))
            }
            None => {
                let mut rest = io::Cursor::new(head).chain(r);
                a.parse_stream(path, size, analyzer::Input::Stream(&mut rest))
            }
        };
        return Ok(Wanted::Streamed(parsed));
    }
    read_bounded(io::Cursor::new(head).chain(r), size, a.max_size()).map(Wanted::Bytes)
}

fn parse_into(
    facts: &mut LayerFacts,
    warnings: &mut Warnings<'_>,
    a: &dyn Analyzer,
    path: &str,
    wanted: Wanted,
    size: u64,
) {
    let parsed = match wanted {
        Wanted::Declined(_) => return,
        Wanted::Bytes(None) => Err(format!(
            "{size} bytes, over the {}-byte limit of the {} analyzer: skipped",
            a.max_size(),
            a.name()
        )),
        Wanted::Bytes(Some(b)) => a.parse(path, &b),
        Wanted::Streamed(parsed) => parsed,
    };
    let entry = match parsed {
        Ok(analyzer::Parsed { fact, problems }) => {
            for problem in problems {
                warnings.push(format!("/{path}"), problem);
            }
            Entry::Fact { fact }
        }
        Err(problem) => {
            warnings.push(format!("/{path}"), problem);
            Entry::Unreadable
        }
    };
    facts.files.insert(path.to_owned(), entry);
}

/// Walk one layer's tar stream. An error from the stream (truncated, corrupt, a bomb) ends the
/// walk; what was gathered so far is returned with the error, so the caller can keep it and
/// warn.
pub(crate) fn walk_tar(
    stream: impl Read,
    analyzers: &[&dyn Analyzer],
    layer_name: &str,
    opts: WalkOptions<'_>,
) -> (LayerFacts, Option<io::Error>) {
    let mut facts = LayerFacts::default();
    let mut warnings = Warnings::new(layer_name);
    let mut archive = tar::Archive::new(framing::Framing::new(stream));
    let err = (|| -> io::Result<()> {
        for entry in archive.entries()? {
            let mut entry = entry?;
            facts.entries += 1;
            let raw = entry.path_bytes().into_owned();
            let path = match entry_path(&raw) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(why) => {
                    warnings.push(
                        String::from_utf8_lossy(&raw)
                            .chars()
                            .take(200)
                            .collect::<String>(),
                        format!("{why}: skipped"),
                    );
                    continue;
                }
            };
            let (dir, base) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            if opts.paths() && !base.starts_with(WHITEOUT) {
                facts.present.push(crate::facts::path_hash(&path));
            }
            if base == OPAQUE {
                facts.opaque.push(dir.to_owned());
                continue;
            }
            if let Some(hidden) = base.strip_prefix(WHITEOUT) {
                if facts.whiteouts.len() < MAX_WHITEOUTS {
                    let p = if dir.is_empty() {
                        hidden.to_owned()
                    } else {
                        format!("{dir}/{hidden}")
                    };
                    facts.whiteouts.push(p);
                } else {
                    warnings.push(
                        format!("/{path}"),
                        "too many whiteouts in one layer: ignored",
                    );
                }
                continue;
            }
            let kind = entry.header().entry_type();
            if opts.list_files || opts.meta {
                let meta = meta_of(&entry);
                if opts.meta {
                    keep_meta(&mut facts, &mut warnings, &path, meta.clone());
                }
                if opts.list_files {
                    facts.listing.insert(path.clone(), meta);
                }
            }
            let is_link = kind.is_symlink() || kind.is_hard_link();
            let mode = if is_link {
                0
            } else {
                entry.header().mode().unwrap_or(0)
            };
            let wanted = analyzer::route(analyzers, &path, mode);
            if is_link {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                if kind.is_hard_link() {
                    // Hard link names are relative to the layer root.
                    match entry_path(target.as_bytes()) {
                        Ok(Some(t)) => {
                            if wanted.is_some() {
                                facts.files.insert(path, Entry::Hardlink { target: t });
                            }
                        }
                        _ => warnings.push(
                            format!("/{path}"),
                            format!("hard link to {target:?} leaves the image root: skipped"),
                        ),
                    }
                } else {
                    match resolve_target(&path, &target) {
                        Some(_) => {
                            if wanted.is_some() {
                                facts.files.insert(path, Entry::Symlink { target });
                            }
                        }
                        None => warnings.push(
                            format!("/{path}"),
                            format!("symlink to {target:?} leaves the image root: not followed"),
                        ),
                    }
                }
                continue;
            }
            if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
                warnings.push(
                    format!("/{path}"),
                    "device node or FIFO in a layer: skipped",
                );
                continue;
            }
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                continue;
            }
            let size = entry.size();
            let Some(a) = wanted else {
                if let Some(rules) = opts.secrets {
                    scan_secrets(rules, &mut facts, &path, size, Vec::new(), &mut entry)?;
                }
                continue;
            };
            {
                match read_wanted(&mut entry, None, &path, size, a) {
                    Ok(wanted) => {
                        if let Some(rules) = opts.secrets {
                            match &wanted {
                                Wanted::Bytes(Some(b)) => {
                                    scan_secrets(
                                        rules,
                                        &mut facts,
                                        &path,
                                        size,
                                        b.clone(),
                                        io::empty(),
                                    )?;
                                }
                                Wanted::Declined(head) => {
                                    scan_secrets(
                                        rules,
                                        &mut facts,
                                        &path,
                                        size,
                                        head.clone(),
                                        &mut entry,
                                    )?;
                                }
                                Wanted::Bytes(None) | Wanted::Streamed(_) => {}
                            }
                        }
                        parse_into(&mut facts, &mut warnings, a, &path, wanted, size);
                    }
                    Err(e) => {
                        // The layer ends inside this file: name it, and let what the file
                        // stands for still hide what lower layers had there.
                        if let Some(cut) = e.get_ref().and_then(|i| i.downcast_ref::<CutShort>()) {
                            warnings.push(format!("/{path}"), cut.to_string());
                            facts.files.insert(path, Entry::Unreadable);
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    })()
    .err();
    facts.warnings = warnings.finish();
    facts.present.sort_unstable();
    facts.present.dedup();
    (facts, err)
}

fn meta_of<R: Read>(entry: &tar::Entry<'_, R>) -> FileMeta {
    let h = entry.header();
    let t = h.entry_type();
    let kind = if t.is_dir() {
        "dir"
    } else if t.is_symlink() {
        "symlink"
    } else if t.is_hard_link() {
        "hardlink"
    } else if t.is_character_special() {
        "char"
    } else if t.is_block_special() {
        "block"
    } else if t.is_fifo() {
        "fifo"
    } else {
        "file"
    };
    FileMeta {
        kind: kind.to_owned(),
        mode: h.mode().unwrap_or(0) & 0o7777,
        uid: h.uid().unwrap_or(0),
        gid: h.gid().unwrap_or(0),
        size: entry.size(),
        link: entry
            .link_name_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Walk a root filesystem directory. Only the analyzers' root directories are read; symlinks
/// are recorded and never followed, and a root reached through a symlink (an absolute
/// `/lib -> /usr/lib`, say) is resolved inside `root`, so nothing outside it is ever read.
pub(crate) fn walk_dir(
    root: &Path,
    analyzers: &[&dyn Analyzer],
    opts: WalkOptions<'_>,
) -> LayerFacts {
    let mut facts = LayerFacts::default();
    let mut warnings = Warnings::new("root filesystem");
    let mut roots: BTreeSet<Root> = analyzers
        .iter()
        .flat_map(|a| a.roots().iter().copied())
        .collect();
    if opts.whole_tree() {
        roots.insert(Root::deep(""));
    }
    // A whole-tree walk never follows a symlinked directory, so a root reached through one
    // (`lib -> usr/lib` for `lib/apk/db`) is walked on its own as well, resolved inside `root`.
    let through_link = |r: &Root| {
        !r.dir.is_empty()
            && resolve_in_root(root, r.dir).is_some_and(|real| real != root.join(r.dir))
    };
    let roots: Vec<Root> = roots
        .iter()
        .copied()
        .filter(|r| !roots.iter().any(|o| o.covers(r)) || through_link(r))
        .collect();
    for r in roots {
        let Some(real) = resolve_in_root(root, r.dir) else {
            continue;
        };
        let mut stack: Vec<(PathBuf, String)> = vec![(real, r.dir.to_owned())];
        let mut first = true;
        while let Some((dir, rel)) = stack.pop() {
            let descend = first || r.recursive;
            first = false;
            visit(
                &dir,
                &rel,
                analyzers,
                &mut facts,
                &mut warnings,
                &mut stack,
                opts,
                descend,
            );
        }
    }
    facts.warnings = warnings.finish();
    facts
}

/// The real path of `rel` inside `root`, resolving symlinks component by component with the
/// root as `/` (as the kernel would inside the container). `None` if it does not exist or
/// loops.
fn resolve_in_root(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut done: Vec<String> = Vec::new();
    let mut todo: Vec<String> = rel
        .split('/')
        .filter(|p| !p.is_empty())
        .rev()
        .map(str::to_owned)
        .collect();
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let candidate = root.join(done.join("/")).join(&part);
        let meta = std::fs::symlink_metadata(&candidate).ok()?;
        if meta.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = std::fs::read_link(&candidate).ok()?;
            let target = target.to_string_lossy();
            if target.starts_with('/') {
                done.clear();
            }
            todo.extend(
                target
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .rev()
                    .map(str::to_owned),
            );
        } else {
            done.push(part);
        }
    }
    Some(root.join(done.join("/")))
}

#[allow(clippy::too_many_arguments)]
fn visit(
    path: &Path,
    rel: &str,
    analyzers: &[&dyn Analyzer],
    facts: &mut LayerFacts,
    warnings: &mut Warnings<'_>,
    stack: &mut Vec<(PathBuf, String)>,
    opts: WalkOptions<'_>,
    descend: bool,
) {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            warnings.push(format!("/{rel}"), e.to_string());
            return;
        }
    };
    let ft = meta.file_type();
    if (opts.list_files || opts.meta) && !rel.is_empty() {
        let m = dir_meta(&meta, path);
        if opts.meta {
            keep_meta(facts, warnings, rel, m.clone());
        }
        if opts.list_files {
            facts.listing.insert(rel.to_owned(), m);
        }
    }
    if ft.is_dir() {
        if !descend {
            return;
        }
        let Ok(rd) = std::fs::read_dir(path) else {
            warnings.push(format!("/{rel}"), "directory not readable");
            return;
        };
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if child.len() > MAX_PATH || matches!(child.as_str(), "proc" | "sys" | "dev") {
                continue;
            }
            stack.push((ent.path(), child));
        }
        return;
    }
    facts.entries += 1;
    let mode = if ft.is_symlink() {
        0
    } else {
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions())
    };
    let Some(a) = analyzer::route(analyzers, rel, mode) else {
        if let Some(rules) = opts.secrets
            && ft.is_file()
        {
            let scanned = std::fs::File::open(path)
                .and_then(|f| scan_secrets(rules, facts, rel, meta.len(), Vec::new(), f));
            if let Err(e) = scanned {
                warnings.push(format!("/{rel}"), format!("not readable: {e}"));
            }
        }
        return;
    };
    if ft.is_symlink() {
        if let Ok(t) = std::fs::read_link(path) {
            facts.files.insert(
                rel.to_owned(),
                Entry::Symlink {
                    target: t.to_string_lossy().into_owned(),
                },
            );
        }
        return;
    }
    if !ft.is_file() {
        return;
    }
    let wanted = std::fs::File::open(path).and_then(|mut f| {
        let r = f.try_clone()?;
        read_wanted(r, Some(&mut f), rel, meta.len(), a)
    });
    match wanted {
        Ok(w) => {
            if let Some(rules) = opts.secrets {
                let scanned = match &w {
                    Wanted::Bytes(Some(b)) => {
                        scan_secrets(rules, facts, rel, meta.len(), b.clone(), io::empty())
                    }
                    Wanted::Declined(_) => std::fs::File::open(path)
                        .and_then(|f| scan_secrets(rules, facts, rel, meta.len(), Vec::new(), f)),
                    Wanted::Bytes(None) | Wanted::Streamed(_) => Ok(()),
                };
                if let Err(e) = scanned {
                    warnings.push(format!("/{rel}"), format!("not readable: {e}"));
                }
            }
            parse_into(facts, warnings, a, rel, w, meta.len());
        }
        Err(e) => warnings.push(format!("/{rel}"), format!("not readable: {e}")),
    }
}

fn dir_meta(meta: &std::fs::Metadata, path: &Path) -> FileMeta {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else if ft.is_fifo() {
        "fifo"
    } else {
        "file"
    };
    FileMeta {
        kind: kind.to_owned(),
        mode: meta.mode() & 0o7777,
        uid: u64::from(meta.uid()),
        gid: u64::from(meta.gid()),
        size: if ft.is_file() { meta.len() } else { 0 },
        link: ft
            .is_symlink()
            .then(|| std::fs::read_link(path).ok())
            .flatten()
            .map(|t| t.to_string_lossy().into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file an analyzer read only in part is a fact and a warning naming the file, both kept
    /// in the layer's facts (and so in the layer cache). The real texlive status file, with
    /// its second stanza's (libgs9-common's) Version line removed.
    #[test]
    fn problems_of_a_file_read_in_part_are_warnings_naming_it() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/packagedb/dpkg/texlive.status"
        ))
        .expect("shared data: packagedb/dpkg/texlive.status");
        let damaged = text.replacen("Version: 9.26~dfsg+0-0ubuntu0.18.04.12\n", "", 1);
        assert_ne!(damaged, text);
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(damaged.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, "var/lib/dpkg/status", damaged.as_bytes())
            .unwrap();
        let layer = b.into_inner().unwrap();
        let (facts, err) = walk_tar(
            layer.as_slice(),
            analyzer::all(),
            "layer",
            WalkOptions::default(),
        );
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            facts.warnings,
            [Warning {
                file: "/var/lib/dpkg/status".to_owned(),
                problem: "stanza 2 (package \"libgs9-common\") has no Version: left out, the file's other packages are read".to_owned(),
                layer: None,
            }]
        );
        let Some(Entry::Fact {
            fact: crate::facts::Fact::OsPackages(p),
        }) = facts.files.get("var/lib/dpkg/status")
        else {
            panic!("{:?}", facts.files.get("var/lib/dpkg/status"));
        };
        assert_eq!(p.len(), 356);
    }

    #[test]
    fn entry_paths() {
        assert_eq!(
            entry_path(b"./etc/os-release").unwrap().as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(entry_path(b"./").unwrap(), None);
        assert_eq!(entry_path(b"/").unwrap(), None);
        assert!(entry_path(b"../etc/passwd").is_err());
        assert!(entry_path(b"a/../../etc/passwd").is_err());
        assert!(entry_path(b"/etc/passwd").is_err());
    }

    #[test]
    fn roots_resolve_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/lib/apk/db")).unwrap();
        std::os::unix::fs::symlink("/usr/lib", r.join("lib")).unwrap();
        std::os::unix::fs::symlink("../../../../..", r.join("usr/lib/up")).unwrap();
        std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
        assert_eq!(
            resolve_in_root(r, "lib/apk/db"),
            Some(r.join("usr/lib/apk/db"))
        );
        assert_eq!(
            resolve_in_root(r, "usr/lib/up/etc"),
            None,
            "clamped at the root: {}/etc does not exist",
            r.display()
        );
        assert_eq!(resolve_in_root(r, "loop/x"), None);
    }

    #[test]
    fn link_targets() {
        assert_eq!(
            resolve_target("etc/os-release", "../usr/lib/os-release").as_deref(),
            Some("usr/lib/os-release")
        );
        assert_eq!(
            resolve_target("etc/os-release", "/usr/lib/os-release").as_deref(),
            Some("usr/lib/os-release")
        );
        assert_eq!(
            resolve_target("etc/os-release", "../../../etc/shadow"),
            None
        );
    }
}
