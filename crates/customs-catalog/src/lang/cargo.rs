//! Cargo: `Cargo.lock` and the dependency list cargo-auditable compiles into binaries.
//!
//! **Cargo.lock**, all four formats (Cargo's `resolve` documentation and real files): v1 has no
//! top-level `version` and keeps checksums in a `[metadata]` table; v2 moved them into each
//! `[[package]]`; v3 added `version = 3`; v4 (`version = 4`) changed how git sources are
//! written. What customs needs, `[[package]]` `name`, `version` and `source`, is the same in all
//! of them, so one reader serves all (checksums are not reported, so `[metadata]` is simply not
//! read). Pre-2017 lockfiles name the root package in a `[root]` table instead of a
//! `[[package]]`; it is reported too. Every package with a name and a version is reported, with
//! its `source` (`registry+https://...`, `git+https://...?rev=...#commit`) as the note; path and
//! workspace packages have no source, hence no note. A lockfile `version` above 4 is read the
//! same way, as long as it parses.
//!
//! **cargo-auditable** (`cargo auditable build`) stores the resolved dependency tree as
//! zlib-compressed JSON in a `.dep-v0` section (ELF, PE) or `__DATA,__dep_v0` (Mach-O):
//! `{"packages":[{"name","version","source","kind","dependencies","root"}],"format":N}`
//! (schema: the `auditable-serde` crate's documentation). `source` is `crates.io`, `git`,
//! `local`, `registry` or something newer, and becomes the note; `kind` is `runtime` (the default)
//! or `build` (proc-macros, build scripts and their dependencies: not in the binary's code, but
//! reported, as `"<source>; kind=build"`); `root: true` marks the binary's own crate
//! (location `root`). The section is decompressed to at most [`MAX_DEP_INFO`] bytes, and a
//! section bigger than that is refused (a real one is a few KiB). A binary of any size is read
//! in bounded memory (`exe.rs`); a layer's stream as [`AuditableWatch`] explains.

use std::borrow::Cow;
use std::io::Read as _;

use serde::Deserialize;

use super::exe::{self, Exe, Extent, Format, Image, Section};
use super::{Evidence, LangEcosystem, LangPackage};

/// The most a `.dep-v0` section may inflate to. Real ones are a few kilobytes (about 100 bytes
/// per crate); more is a decompression bomb.
pub(crate) const MAX_DEP_INFO: u64 = 8 << 20;

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    package: Vec<RawLockPackage>,
    /// Cargo before 0.20 (2017) put the root package here.
    #[serde(default)]
    root: Option<RawLockPackage>,
}

#[derive(Deserialize)]
struct RawLockPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
}

/// Every package a `Cargo.lock` (format v1 to v4) names.
pub(crate) fn parse_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("Cargo.lock is not UTF-8: {e}"))?;
    let lock: RawLock = toml::from_str(text).map_err(|e| format!("Cargo.lock: {e}"))?;
    if let Some(v) = lock.version
        && v < 1
    {
        return Err(format!("Cargo.lock: unknown format version {v}"));
    }
    Ok(lock
        .root
        .into_iter()
        .chain(lock.package)
        .filter_map(|p| {
            let (Some(name), Some(version)) = (p.name, p.version) else {
                return None;
            };
            let mut pkg = LangPackage::new(LangEcosystem::Cargo, name, version, Evidence::Lockfile);
            pkg.note = p.source;
            Some(pkg)
        })
        .collect())
}

#[derive(Deserialize)]
struct RawDepInfo {
    packages: Vec<RawDep>,
}

#[derive(Deserialize)]
struct RawDep {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    root: bool,
}

/// The crates cargo-auditable recorded in an ELF, PE or Mach-O (also fat) file in memory.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_auditable(bytes: &[u8]) -> Result<Option<Vec<LangPackage>>, String> {
    auditable(&Exe::open(exe::Source::Mem(bytes)))
}

/// The crates cargo-auditable recorded in an executable. `Ok(None)` when it is not one, or has
/// no `.dep-v0` section; `Err` when the section is there but does not inflate or parse.
pub(crate) fn auditable(exe: &Exe<'_>) -> Result<Option<Vec<LangPackage>>, String> {
    for image in &exe.images {
        let Some(section) = dep_section(image) else {
            continue;
        };
        let data = match dep_extent(image, section)? {
            Some(e) => exe.read(e).ok_or("unreadable .dep-v0 section")?,
            None => Cow::Borrowed(&[][..]),
        };
        return parse_dep_info(&data).map(Some);
    }
    Ok(None)
}

/// The first `.dep-v0` (Mach-O: `__DATA,__dep_v0`) section.
fn dep_section(image: &Image) -> Option<&Section> {
    image.sections.as_ref()?.iter().find(|s| {
        matches!(&s.name[..], b".dep-v0" | b"__dep_v0")
            && s.segment.as_deref().is_none_or(|seg| seg == b"__DATA")
    })
}

/// Where the section's bytes are; `None` when it has none in the file.
fn dep_extent(image: &Image, s: &Section) -> Result<Option<Extent>, String> {
    let Some(e) = s.file else {
        return Ok(None);
    };
    if !e.within(image.extent) {
        return Err("unreadable .dep-v0 section: it ends past the file".to_owned());
    }
    if e.len > MAX_DEP_INFO {
        return Err(format!(
            ".dep-v0 section of {} bytes, over {MAX_DEP_INFO}: refused",
            e.len
        ));
    }
    Ok(Some(e))
}

/// The section's contents: zlib, then JSON.
fn parse_dep_info(compressed: &[u8]) -> Result<Vec<LangPackage>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_DEP_INFO + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!(".dep-v0 does not inflate: {e}"))?;
    if json.len() as u64 > MAX_DEP_INFO {
        return Err(format!(
            ".dep-v0 inflates to more than {MAX_DEP_INFO} bytes: refused"
        ));
    }
    parse_dep_json(&json)
}

/// The inflated JSON.
fn parse_dep_json(json: &[u8]) -> Result<Vec<LangPackage>, String> {
    let info: RawDepInfo =
        serde_json::from_slice(json).map_err(|e| format!(".dep-v0 is not audit JSON: {e}"))?;
    info.packages
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            if d.name.is_empty() || d.version.is_empty() {
                return Err(format!(".dep-v0 package {i} lacks a name or a version"));
            }
            let mut pkg =
                LangPackage::new(LangEcosystem::Cargo, d.name, d.version, Evidence::Binary);
            let source = d.source.unwrap_or_else(|| "unknown".to_owned());
            pkg.note = Some(match d.kind.as_deref() {
                None | Some("runtime") => source,
                Some(kind) => format!("{source}; kind={kind}"),
            });
            if d.root {
                pkg.location = Some("root".to_owned());
            }
            Ok(pkg)
        })
        .collect()
}

/// A stream's Rust binary: its `.dep-v0` section, picked up as it goes by. PE and Mach-O name
/// their sections at the front, so the section's bytes are simply kept when they come; in ELF
/// it is guessed and then confirmed by the section table (`Guesses`). What it reports, the
/// seekable path reports too.
#[derive(Default)]
pub(crate) struct AuditableWatch {
    images: Vec<(usize, Pick)>,
}

enum Pick {
    /// The section, known from the headers (`None`: it has no bytes), and its bytes so far.
    Section(Result<Option<Extent>, String>, Vec<u8>),
    /// ELF without section names: guessed.
    Guess(Guesses),
}

/// How many zlib streams an ELF stream may try to inflate, and at once: real binaries have a
/// few hundred candidates in their unloaded bytes, and false ones die within bytes.
const MAX_ATTEMPTS: u32 = 200_000;
const MAX_TRYING: usize = 16;
/// How many complete finds are kept (one is real).
const MAX_FINDS: usize = 4;
/// About what an inflater holds (its 32 KiB window and state).
const INFLATER_SIZE: usize = 48 << 10;

// Why ELF's `.dep-v0` is guessed. ELF names its sections in a table at the end, after the
// data, and the names themselves usually lie before that table: by the time a stream could
// tell which bytes were `.dep-v0`, they are gone, and keeping every byte that might be it is
// what bounded memory rules out. cargo-auditable writes the section as one zlib stream with no
// magic of its own, in a section that is not loaded (no `SHF_ALLOC`), so it lies outside every
// loaded segment: only there (a few KiB in a stripped binary, whatever its size; which also
// keeps a 700 MB Go binary from costing thousands of attempts), each `0x78` followed by a
// valid zlib flag byte starts an attempt to inflate from there. An attempt dies as soon as its
// output cannot be JSON (its first byte is not `{`, or a control character comes out), when
// zlib rejects it (usually within a few bytes), or past `MAX_DEP_INFO`; one that reaches the
// end of its zlib stream must parse as cargo-auditable JSON to be kept. At the end a kept one
// counts only if the section table has a section starting exactly there: named `.dep-v0` when
// the names could be read, else not loaded and at least as long as the zlib stream. So no
// package is reported that the section does not hold. The attempts are bounded in number
// (`MAX_ATTEMPTS`) and at once (`MAX_TRYING`), and a problem says when they gave up.
#[derive(Default)]
struct Guesses {
    /// Where an attempt may start: the bytes outside every loaded segment.
    gaps: Vec<Extent>,
    trying: Vec<Attempt>,
    finds: Vec<Find>,
    attempts: u32,
    gave_up: bool,
    /// A `0x78` that ended the last chunk: its flag byte comes next.
    split: Option<u64>,
    /// How far the stream went.
    seen: u64,
    spare: Vec<flate2::Decompress>,
}

struct Attempt {
    at: u64,
    z: flate2::Decompress,
    json: Vec<u8>,
}

struct Find {
    at: u64,
    /// Its zlib stream's length.
    len: u64,
    packages: Vec<LangPackage>,
}

enum Step {
    More,
    Dead,
    Done,
}

impl Attempt {
    fn step(&mut self, mut input: &[u8]) -> Step {
        let mut out = [0u8; 4096];
        while !input.is_empty() {
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            let status = self
                .z
                .decompress(input, &mut out, flate2::FlushDecompress::None);
            let used = usize::try_from(self.z.total_in() - in0).unwrap_or(usize::MAX);
            let made = usize::try_from(self.z.total_out() - out0).unwrap_or(usize::MAX);
            let fresh = &out[..made.min(out.len())];
            let json_like = fresh
                .iter()
                .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
                && (!self.json.is_empty() || fresh.first().is_none_or(|&b| b == b'{'));
            if !json_like || (self.json.len() + fresh.len()) as u64 > MAX_DEP_INFO {
                return Step::Dead;
            }
            self.json.extend_from_slice(fresh);
            input = input.get(used..).unwrap_or_default();
            match status {
                Ok(flate2::Status::StreamEnd) => return Step::Done,
                Ok(_) if used > 0 || made > 0 => {}
                _ => return Step::Dead,
            }
        }
        Step::More
    }
}

impl Guesses {
    fn new(image: &Image) -> Self {
        let mut loaded: Vec<Extent> = image
            .segments
            .iter()
            .map(|s| s.file)
            .filter(|e| e.len > 0)
            .collect();
        loaded.sort_by_key(|e| e.offset);
        let mut gaps = Vec::new();
        let mut at = image.extent.offset;
        for e in loaded {
            if e.offset > at {
                gaps.push(Extent {
                    offset: at,
                    len: e.offset - at,
                });
            }
            at = at.max(e.end());
        }
        if at < image.extent.end() {
            gaps.push(Extent {
                offset: at,
                len: image.extent.end() - at,
            });
        }
        Self {
            gaps,
            ..Self::default()
        }
    }

    fn feed(&mut self, at: u64, chunk: &[u8]) {
        let mut trying = std::mem::take(&mut self.trying);
        trying.retain_mut(|a| self.go_on(a, chunk));
        self.trying = trying;
        if let Some(p) = self.split.take()
            && p + 1 == at
            && chunk.first().is_some_and(|&b| zlib_flag(b))
        {
            self.try_at(p, &[&[0x78], chunk]);
        }
        for k in 0..self.gaps.len() {
            let gap = self.gaps[k];
            let Some((from, bytes)) = exe::clip(at, chunk, gap.offset..gap.end()) else {
                continue;
            };
            let i0 = usize::try_from(from - at).unwrap_or(usize::MAX);
            let mut next = 0;
            while let Some(i) = find_zlib_start(bytes, next) {
                next = i + 1;
                let i = i0 + i;
                match chunk.get(i + 1) {
                    Some(&flag) if zlib_flag(flag) => self.try_at(at + i as u64, &[&chunk[i..]]),
                    Some(_) => {}
                    None => self.split = Some(at + i as u64),
                }
            }
        }
        self.seen = at + chunk.len() as u64;
    }

    /// Starts an attempt at `at`, fed `parts` (the bytes from `at` to the end of the chunk).
    fn try_at(&mut self, at: u64, parts: &[&[u8]]) {
        if self.finds.len() >= MAX_FINDS {
            return;
        }
        if self.attempts >= MAX_ATTEMPTS || self.trying.len() >= MAX_TRYING {
            self.gave_up = true;
            return;
        }
        self.attempts += 1;
        let z = match self.spare.pop() {
            Some(mut z) => {
                z.reset(true);
                z
            }
            None => flate2::Decompress::new(true),
        };
        let mut a = Attempt {
            at,
            z,
            json: Vec::new(),
        };
        if parts.iter().all(|p| self.go_on(&mut a, p)) {
            self.trying.push(a);
        }
    }

    /// Feeds an attempt; `false` once it is over (kept if it found something).
    fn go_on(&mut self, a: &mut Attempt, input: &[u8]) -> bool {
        match a.step(input) {
            Step::More => return true,
            Step::Done => {
                if let Ok(packages) = parse_dep_json(&a.json) {
                    self.finds.push(Find {
                        at: a.at,
                        len: a.z.total_in(),
                        packages,
                    });
                }
            }
            Step::Dead => {}
        }
        let z = std::mem::replace(&mut a.z, flate2::Decompress::new(true));
        self.spare.push(z);
        false
    }

    /// The find the section table confirms, as the module docs of [`AuditableWatch`] say.
    fn confirmed(&self, image: &Image) -> Option<&Find> {
        image.sections.as_ref()?.iter().find_map(|s| {
            let file = s.file?;
            let named = if s.name.is_empty() {
                !s.loaded
            } else {
                s.name == b".dep-v0"
            };
            self.finds
                .iter()
                .find(|f| named && f.at == file.offset && f.len <= file.len)
        })
    }
}

/// The offset of the first `0x78` in `b` from `from` on. Eight bytes at a time: most of what
/// is searched (symbol tables, debug info, padding) has none.
fn find_zlib_start(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let mut i = from;
    while let Some(word) = b.get(i..i + 8) {
        let w = u64::from_ne_bytes([
            word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
        ]) ^ (0x78 * ONES);
        // Whether a byte of `w` is zero, i.e. a byte of the word is 0x78.
        if w.wrapping_sub(ONES) & !w & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    let rest = b.get(i..)?;
    rest.iter().position(|&c| c == 0x78).map(|p| i + p)
}

/// Whether `flag` completes a zlib header whose first byte is `0x78` (deflate, 32 KiB window,
/// no preset dictionary), as zlib and miniz write it.
fn zlib_flag(flag: u8) -> bool {
    matches!(flag, 0x01 | 0x5e | 0x9c | 0xda)
}

impl AuditableWatch {
    /// The crates, as [`auditable`] has them. `images` are the stream's images as
    /// [`exe::watch`] finally read them (ELF section tables included).
    pub(crate) fn finish(
        mut self,
        images: &[Option<Image>],
        problems: &mut Vec<String>,
    ) -> Result<Option<Vec<LangPackage>>, String> {
        self.images.sort_by_key(|(i, _)| *i);
        for (i, pick) in self.images {
            match pick {
                Pick::Section(extent, bytes) => {
                    return match extent? {
                        Some(e) if bytes.len() as u64 != e.len => {
                            Err("unreadable .dep-v0 section".to_owned())
                        }
                        _ => parse_dep_info(&bytes).map(Some),
                    };
                }
                Pick::Guess(g) => {
                    let image = images.get(i).and_then(Option::as_ref);
                    if let Some(find) = image.and_then(|image| g.confirmed(image)) {
                        return Ok(Some(find.packages.clone()));
                    }
                    if g.gave_up {
                        problems.push(format!(
                            "cargo-auditable data looked for in {} places of this stream, then \
                             given up: it may hold crates that are not reported",
                            g.attempts
                        ));
                    }
                }
            }
        }
        Ok(None)
    }
}

impl exe::Watch for AuditableWatch {
    fn image(&mut self, index: usize, image: &Image) {
        let pick = if let Some(s) = dep_section(image) {
            Pick::Section(dep_extent(image, s), Vec::new())
        } else if image.format == Format::Elf
            && image
                .sections
                .as_ref()
                .is_none_or(|s| s.iter().all(|s| s.name.is_empty()))
        {
            Pick::Guess(Guesses::new(image))
        } else {
            return;
        };
        self.images.push((index, pick));
    }

    fn feed(&mut self, at: u64, chunk: &[u8]) {
        for (_, pick) in &mut self.images {
            match pick {
                Pick::Section(Ok(Some(e)), bytes) => {
                    if let Some((_, b)) = exe::clip(at, chunk, e.offset..e.end()) {
                        bytes.extend_from_slice(b);
                    }
                }
                Pick::Section(..) => {}
                Pick::Guess(g) => g.feed(at, chunk),
            }
        }
    }

    fn done(&self) -> bool {
        self.images.iter().all(|(_, pick)| match pick {
            Pick::Section(Ok(Some(e)), bytes) => bytes.len() as u64 >= e.len,
            Pick::Section(..) => true,
            Pick::Guess(g) => {
                g.trying.is_empty() && g.gaps.last().is_none_or(|last| g.seen >= last.end())
            }
        })
    }

    fn held(&self) -> usize {
        let held = |pick: &Pick| match pick {
            Pick::Section(_, bytes) => bytes.len(),
            Pick::Guess(g) => g
                .trying
                .iter()
                .map(|a| a.json.len() + INFLATER_SIZE)
                .sum::<usize>(),
        };
        self.images.iter().map(|(_, p)| held(p)).sum()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write as _;
    use std::path::{Path, PathBuf};

    use object::{Object as _, ObjectSection as _};

    use super::*;

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn fixture(name: &str) -> Vec<u8> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lang/cargo")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// `../shared` (or `$CUSTOMS_SHARED`). Panics when missing: these tests never skip.
    fn shared() -> PathBuf {
        let p = std::env::var_os("CUSTOMS_SHARED").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        );
        assert!(
            p.join("data").is_dir(),
            "shared data missing at {} (set CUSTOMS_SHARED)",
            p.display()
        );
        p
    }

    /// The image corpus built by `../shared/tools/build-images.sh`. Panics when missing.
    fn corpus() -> PathBuf {
        let p = std::env::var_os("CUSTOMS_CORPUS")
            .map_or_else(|| PathBuf::from("/var/tmp/customs-corpus"), PathBuf::from)
            .join("out");
        assert!(
            p.join("debian-app/oci/index.json").is_file(),
            "image corpus missing at {}: run scripts/test.sh (it builds it with ../shared/tools/build-images.sh)",
            p.display()
        );
        p
    }

    fn expected() -> serde_json::Value {
        let p = corpus().join("debian-app/expected.json");
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
    }

    fn triples(pkgs: &[LangPackage]) -> Vec<(&str, &str, Option<&str>)> {
        pkgs.iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.note.as_deref()))
            .collect()
    }

    #[test]
    fn lock_v4_demo_fixture_matches_expected() {
        let lock = std::fs::read(shared().join("tools/fixtures/app/rust/Cargo.lock")).unwrap();
        let got = parse_lock(&lock).unwrap();
        let want = expected();
        let want: Vec<(&str, &str, Option<&str>)> = want["cargo"]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["source"].as_str(),
                )
            })
            .collect();
        assert_eq!(want.len(), 11);
        assert_eq!(triples(&got), want);
        assert!(got.iter().all(|p| p.ecosystem == LangEcosystem::Cargo
            && p.evidence == Evidence::Lockfile
            && !p.dev
            && p.location.is_none()));
    }

    #[test]
    fn lock_v1_with_metadata_checksums() {
        let got = parse_lock(&fixture("v1-same-file-1.0.6.Cargo.lock")).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("doc-comment", "0.3.1", Some(CRATES_IO)),
                ("same-file", "1.0.6", None),
                ("winapi", "0.3.2", Some(CRATES_IO)),
                ("winapi-i686-pc-windows-gnu", "0.3.2", Some(CRATES_IO)),
                ("winapi-util", "0.1.1", Some(CRATES_IO)),
                ("winapi-x86_64-pc-windows-gnu", "0.3.2", Some(CRATES_IO)),
            ]
        );
    }

    #[test]
    fn lock_v2_inline_checksums() {
        let got = parse_lock(&fixture("v2-tracing-core-0.1.36.Cargo.lock")).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("once_cell", "1.21.3", Some(CRATES_IO)),
                ("tracing-core", "0.1.36", None),
                ("valuable", "0.1.1", Some(CRATES_IO)),
            ]
        );
    }

    #[test]
    fn lock_v3() {
        let got = parse_lock(&fixture("v3-regex-1.5.4.Cargo.lock")).unwrap();
        assert_eq!(got.len(), 12);
        assert!(got.contains(&{
            let mut p = LangPackage::new(
                LangEcosystem::Cargo,
                "aho-corasick",
                "0.7.18",
                Evidence::Lockfile,
            );
            p.note = Some(CRATES_IO.to_owned());
            p
        }));
        assert_eq!(
            got.iter().filter(|p| p.note.is_none()).count(),
            1,
            "only regex itself is local"
        );
    }

    #[test]
    fn lock_git_sources_root_table_and_gaps() {
        // Hand-written: a git source (v4 style), a pre-2017 `[root]`, a package without a
        // version (skipped).
        let lock = br#"
[root]
name = "old-app"
version = "0.1.0"

[[package]]
name = "from-git"
version = "0.2.0"
source = "git+https://example.invalid/from-git?branch=main#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "no-version"
"#;
        let got = parse_lock(lock).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("old-app", "0.1.0", None),
                (
                    "from-git",
                    "0.2.0",
                    Some(
                        "git+https://example.invalid/from-git?branch=main#0123456789abcdef0123456789abcdef01234567"
                    )
                ),
            ]
        );
    }

    #[test]
    fn lock_garbage_is_an_error() {
        for bad in [
            &b"[[package]\nname = "[..],
            b"\xff\xfe",
            b"version = 0\n",
            b"version = \"four\"\n",
            b"package = 3\n",
        ] {
            assert!(
                parse_lock(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_lock(b"").unwrap(), []);
    }

    /// The debian-app corpus image's cargo-auditable binary.
    pub(crate) fn demo_svc() -> Vec<u8> {
        std::fs::read(corpus().join("debian-app/bundle/rootfs/usr/local/bin/demo-svc")).unwrap()
    }

    #[test]
    fn auditable_demo_svc_matches_expected() {
        let got = parse_auditable(&demo_svc())
            .unwrap()
            .expect("demo-svc has .dep-v0");
        let want = expected();
        let want = want["rust_binaries"][0]["embedded_deps"]
            .as_array()
            .unwrap();
        assert_eq!(want.len(), 8);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.name, w["name"].as_str().unwrap());
            assert_eq!(g.version, w["version"].as_str().unwrap());
            assert_eq!(g.note.as_deref(), w["source"].as_str());
            assert_eq!(w["kind"], "runtime");
            assert_eq!(g.location.as_deref() == Some("root"), w["root"] == true);
            assert_eq!(
                (g.ecosystem, g.evidence, g.dev),
                (LangEcosystem::Cargo, Evidence::Binary, false)
            );
        }
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// demo-svc with its `.dep-v0` contents swapped for `payload` (same size or smaller; the
    /// section header is patched).
    fn with_dep_section(payload: &[u8]) -> Vec<u8> {
        let mut bin = demo_svc();
        let file = object::File::parse(&*bin).unwrap();
        let sec = file.section_by_name(".dep-v0").unwrap();
        let (off, size) = sec.file_range().unwrap();
        let (off, size) = (
            usize::try_from(off).unwrap(),
            usize::try_from(size).unwrap(),
        );
        assert!(payload.len() <= size, "payload too big for the section");
        drop(file);
        bin[off..off + size].fill(0);
        bin[off..off + payload.len()].copy_from_slice(payload);
        bin
    }

    /// demo-svc's real `.dep-v0` bytes in a PE image and a Mach-O object, both written with
    /// the object crate (no Windows or macOS cargo-auditable build is possible here).
    #[test]
    fn auditable_in_pe_and_macho() {
        use object::{Object as _, ObjectSection as _};
        let bin = demo_svc();
        let dep = object::File::parse(&*bin)
            .unwrap()
            .section_by_name(".dep-v0")
            .unwrap()
            .data()
            .unwrap()
            .to_vec();
        let want = parse_auditable(&bin).unwrap().unwrap();

        let mut obj = object::write::Object::new(
            object::BinaryFormat::MachO,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let s = obj.add_section(
            b"__DATA".to_vec(),
            b"__dep_v0".to_vec(),
            object::SectionKind::Data,
        );
        obj.append_section_data(s, &dep, 1);
        let macho = obj.write().unwrap();
        assert!(super::super::golang::is_executable_format(&macho[..64]));
        assert_eq!(parse_auditable(&macho).unwrap().unwrap(), want);

        let mut pe = Vec::new();
        let mut w = object::write::pe::Writer::new(true, 0x1000, 0x200, &mut pe);
        w.reserve_dos_header_and_stub();
        w.reserve_nt_headers(16);
        w.reserve_section_headers(1);
        let len = u32::try_from(dep.len()).unwrap();
        let range = w.reserve_section(
            *b".dep-v0\0",
            object::pe::IMAGE_SCN_CNT_INITIALIZED_DATA | object::pe::IMAGE_SCN_MEM_READ,
            len,
            len,
        );
        w.write_dos_header_and_stub().unwrap();
        w.write_nt_headers(object::write::pe::NtHeaders {
            machine: object::pe::IMAGE_FILE_MACHINE_AMD64,
            time_date_stamp: 0,
            characteristics: object::pe::IMAGE_FILE_EXECUTABLE_IMAGE
                | object::pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
            major_linker_version: 14,
            minor_linker_version: 0,
            address_of_entry_point: 0,
            image_base: 0x1_4000_0000,
            major_operating_system_version: 6,
            minor_operating_system_version: 0,
            major_image_version: 0,
            minor_image_version: 0,
            major_subsystem_version: 6,
            minor_subsystem_version: 0,
            subsystem: object::pe::IMAGE_SUBSYSTEM_WINDOWS_CUI,
            dll_characteristics: object::pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT,
            size_of_stack_reserve: 0x10_0000,
            size_of_stack_commit: 0x1000,
            size_of_heap_reserve: 0x10_0000,
            size_of_heap_commit: 0x1000,
        });
        w.write_section_headers();
        w.write_section(range.file_offset, &dep);
        assert!(super::super::golang::is_executable_format(&pe[..64]));
        assert_eq!(parse_auditable(&pe).unwrap().unwrap(), want);
    }

    #[test]
    fn auditable_build_kind_and_other_sources() {
        let json = br#"{"packages":[{"name":"app","version":"1.0.0","source":"local","root":true,"dependencies":[1]},{"name":"serde_derive","version":"1.0.0","source":"crates.io","kind":"build"},{"name":"g","version":"0.1.0","source":"git"}],"format":8}"#;
        let got = parse_dep_info(&zlib(json)).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("app", "1.0.0", Some("local")),
                ("serde_derive", "1.0.0", Some("crates.io; kind=build")),
                ("g", "0.1.0", Some("git")),
            ]
        );
        assert_eq!(got[0].location.as_deref(), Some("root"));
        assert_eq!(got[1].location, None);
    }

    #[test]
    fn auditable_bad_section_is_an_error() {
        // Not zlib; truncated zlib; zlib of non-JSON; of JSON without packages; a nameless one.
        let full = zlib(br#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io"}]}"#);
        for payload in [
            b"not zlib at all".to_vec(),
            full[..full.len() / 2].to_vec(),
            zlib(b"<html>"),
            zlib(b"{\"format\":1}"),
            zlib(br#"{"packages":[{"name":"","version":"1.0.0"}]}"#),
        ] {
            let bin = with_dep_section(&payload);
            assert!(parse_auditable(&bin).is_err(), "{payload:?}");
        }
    }

    #[test]
    fn auditable_bomb_is_refused() {
        // 8 MiB of spaces deflate to about 8 KiB: too big for demo-svc's section, so the
        // section reader is called directly.
        let bomb = zlib(&vec![b' '; usize::try_from(MAX_DEP_INFO).unwrap() + 10]);
        let err = parse_dep_info(&bomb).unwrap_err();
        assert!(err.contains("refused"), "{err}");
        let just_fits = zlib(&vec![b' '; usize::try_from(MAX_DEP_INFO).unwrap()]);
        assert!(!parse_dep_info(&just_fits).unwrap_err().contains("refused"));
    }

    #[test]
    fn auditable_absent_is_none() {
        let ls = std::fs::read("/bin/ls").expect("/bin/ls");
        assert_eq!(parse_auditable(&ls), Ok(None));
        let go = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/go/demo-go"),
        )
        .unwrap();
        assert_eq!(parse_auditable(&go), Ok(None));
        assert_eq!(parse_auditable(b""), Ok(None));
        assert_eq!(parse_auditable(b"#!/bin/sh\necho hi\n"), Ok(None));
    }

    #[test]
    fn auditable_truncated_never_panics() {
        let bin = demo_svc();
        for len in (0..bin.len()).step_by(997).chain([bin.len() - 1]) {
            let _ = parse_auditable(&bin[..len]);
        }
    }
}
