//! Go: the module list compiled into every Go binary (buildinfo), and `go.mod`.
//!
//! **buildinfo**, as the Go source's `debug/buildinfo` and `runtime/debug` documentation
//! describe it. The linker writes a 32-byte header, `\xff Go buildinf:` (14 bytes), the pointer
//! size (1 byte), flags (1 byte: bit 0 big-endian, bit 1 "inline strings") and 16 bytes that
//! depend on the format, 16-byte aligned at the start of the writable data: the `.go.buildinfo`
//! section in ELF, `__DATA,__go_buildinfo` in Mach-O, the first writable data section otherwise
//! (PE `.data`, older Mach-O `__DATA,__noptrdata`). It is looked for there, in the first
//! [`MAX_SECTION_SCAN`] bytes of each such section; in a file without sections (ELF section
//! headers stripped), in each writable segment, whole, as `debug/buildinfo` does; a file whose
//! headers `object` cannot read is scanned up to [`MAX_RAW_SCAN`], which only works for the
//! inline format.
//! - Go 1.18 and later (flag bit 1): the Go version and the module info follow the header as two
//!   strings, each prefixed by its length as an unsigned LEB128 varint.
//! - Go 1.13 to 1.17: the 16 bytes hold two pointers (of the pointer size and byte order the
//!   header gives) to Go string headers (data pointer, length), resolved through the file's
//!   virtual addresses.
//!
//! A binary of any size is read in bounded memory (`exe.rs`): a file through its headers and the
//! few bytes they lead to; a layer's stream ([`BuildinfoWatch`]) by catching the header as it
//! goes by. A stream's ELF section table usually comes last, so there the writable segments are
//! searched, whose first aligned header is the `.go.buildinfo` section's as the Go linker lays
//! them out (first in the segment; after `.data` and the GOT when an external linker is used).
//! The pointer format cannot be read from a stream (its strings usually lie behind the header):
//! that is reported as a problem of the file, not as nothing.
//!
//! The module info is wrapped in two 16-byte sentinels, and is tab-separated lines:
//! `path P`, `mod PATH VERSION [SUM]` (the main module), `dep PATH VERSION [SUM]`,
//! `=> PATH VERSION [SUM]` (replaces the module on the line before), `build KEY=VALUE`.
//!
//! Reported: the main module (location `main`), each dependency (location `dep`) and the
//! toolchain as `stdlib` at the Go version exactly as recorded (`go1.20.5`, possibly with a
//! suffix such as ` X:boringcrypto`; location `stdlib`).
//!
//! **Replacements**, the same rule for buildinfo and go.mod: a replacement by another module
//! version (`a v1 => b v2`) is reported as what is compiled in, `b v2`, with the note
//! `replaces:a v1`; a replacement by a local directory (`a v1 => ../a`, no version) keeps
//! `a v1`, noted `replaced-by:../a`, since the directory is most likely a patched copy of it.
//!
//! **Main module version.** Go stamps it from version control since Go 1.24, and leaves
//! `(devel)` otherwise. Many projects set their version with `-ldflags "-X main.version=1.2.3"`
//! instead, and Go 1.18+ records the flags as the `-ldflags` build setting (not with
//! `-trimpath`). The rule: when the main module is `(devel)` (or blank), the last `-X SYM=VALUE`
//! whose symbol's name is `version` in any case (`main.version`, `main.Version`,
//! `<main module path>/internal/build.VERSION`) and whose package is `main` or inside the main
//! module wins, with the note `version-from:-X SYM`. Values from other modules' packages are
//! ignored, as are values with whitespace or longer than 128 bytes. Otherwise `(devel)` stays.
//!
//! **go.mod**: `require` (single and block) gives the dependencies (location `dep`; note
//! `indirect` for `// indirect`), with `replace` applied as above; `module`, `exclude`,
//! `retract`, `go`, `toolchain`, `tool` and anything newer are ignored. Notes join with `; `.

pub(crate) use super::exe::is_executable_format;
use super::exe::{self, Exe, Extent, Image};
use super::{Evidence, LangEcosystem, LangPackage};

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
const ALIGN: u64 = 16;
/// How far into a writable data section the header is looked for (Go puts it at the start).
pub(crate) const MAX_SECTION_SCAN: u64 = 1 << 20;
/// How far into an unreadable (headers-wise) executable the header is looked for.
pub(crate) const MAX_RAW_SCAN: u64 = 64 << 20;
/// How much of a region is read at a time while looking for the header.
const SCAN_CHUNK: u64 = 64 << 10;
const MAX_VERSION_LEN: u64 = 1 << 10;
const MAX_MODINFO_LEN: u64 = 8 << 20;
const MAX_MODULES: usize = 100_000;
const MAX_X_VALUE_LEN: usize = 128;

/// The modules a Go binary (ELF, PE, Mach-O, also fat) in memory was built from.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_buildinfo(bytes: &[u8]) -> Result<Option<Vec<LangPackage>>, String> {
    buildinfo(&Exe::open(exe::Source::Mem(bytes)))
}

/// The modules a Go binary was built from. `Ok(None)` when it is not a Go binary (or not an
/// executable); `Err` when the buildinfo is there but unreadable.
pub(crate) fn buildinfo(exe: &Exe<'_>) -> Result<Option<Vec<LangPackage>>, String> {
    if !exe.executable() {
        return Ok(None);
    }
    let found = if exe.images.is_empty() {
        search(exe, raw_region(exe.len())).map(|h| (h, None))
    } else {
        exe.images.iter().find_map(|image| {
            regions(image)
                .into_iter()
                .find_map(|r| search(exe, r))
                .map(|h| (h, Some(image)))
        })
    };
    let Some((header, image)) = found else {
        return Ok(None);
    };
    let resolve = |addr, len| {
        let at = image?.locate(addr, len)?;
        exe.read(at).map(std::borrow::Cow::into_owned)
    };
    let (go_version, modinfo) = decode(&header, resolve)?;
    packages(&go_version, &modinfo).map(Some)
}

/// The header in `region` of `exe` and what follows it, as far as decoding needs; `None` when
/// the region holds none.
fn search(exe: &Exe<'_>, region: Region) -> Option<Vec<u8>> {
    let mut s = Search::new(region);
    while let Some(want) = s.want() {
        match exe.read(want) {
            Some(bytes) => s.feed(want.offset, &bytes),
            None => s.end(),
        }
    }
    s.take()
}

/// A stretch of a file where the header may be: a section or a segment.
#[derive(Debug, Clone, Copy)]
struct Region {
    /// Its bytes; the strings after the header must end inside.
    file: Extent,
    /// The virtual address of its first byte: the header is 16-byte aligned in memory.
    address: u64,
    /// How many of its first bytes may hold the header.
    scan: u64,
}

impl Region {
    fn scan_end(&self) -> u64 {
        self.file.offset + self.scan.min(self.file.len)
    }
}

/// Where Go puts the header, in the order they are searched: the sections named for it, then
/// the writable data sections; the writable segments when there are no sections.
fn regions(image: &Image) -> Vec<Region> {
    let inside = |e: &Extent| e.within(image.extent);
    match &image.sections {
        Some(sections) if !sections.is_empty() => {
            let named = sections
                .iter()
                .filter(|s| matches!(&s.name[..], b".go.buildinfo" | b"__go_buildinfo"));
            let writable = sections.iter().filter(|s| s.writable_data);
            named
                .chain(writable)
                .filter_map(|s| {
                    let file = s.file.filter(inside)?;
                    Some(Region {
                        file,
                        address: s.address,
                        scan: MAX_SECTION_SCAN,
                    })
                })
                .collect()
        }
        _ => image
            .segments
            .iter()
            .filter(|s| s.writable && inside(&s.file))
            .map(|s| Region {
                file: s.file,
                address: s.address,
                scan: s.file.len,
            })
            .collect(),
    }
}

/// For files whose headers cannot be read: from the start, at 16-byte aligned offsets.
fn raw_region(len: u64) -> Region {
    Region {
        file: Extent { offset: 0, len },
        address: 0,
        scan: MAX_RAW_SCAN,
    }
}

/// The search of one region for the header, fed the region's bytes in file order: those it
/// asks for ([`Search::want`]) when the file can be read anywhere, every byte as it goes by in
/// a stream. The same steps either way, so both find the same.
#[derive(Debug)]
struct Search {
    region: Region,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Looking at the 16-byte aligned offset `next`, the bytes up to `seen` looked at; `carry`
    /// holds those from `next` to `seen` (fewer than a magic's length).
    Scanning {
        next: u64,
        seen: u64,
        carry: Vec<u8>,
    },
    /// Gathering the header at `from` and what decoding it needs.
    Collecting {
        from: u64,
        buf: Vec<u8>,
    },
    Found(Vec<u8>),
    Missed,
}

impl Search {
    fn new(region: Region) -> Self {
        let start = region.file.offset;
        let next = start + (ALIGN - region.address % ALIGN) % ALIGN;
        let mut s = Self {
            region,
            state: State::Scanning {
                next,
                seen: start,
                carry: Vec::new(),
            },
        };
        s.settle();
        s
    }

    /// The bytes it needs next, if any.
    fn want(&self) -> Option<Extent> {
        match &self.state {
            State::Scanning { seen, .. } => Some(Extent {
                offset: *seen,
                len: (self.region.scan_end() - seen).min(SCAN_CHUNK),
            }),
            State::Collecting { from, buf } => {
                let have = from + buf.len() as u64;
                Some(Extent {
                    offset: have,
                    len: self.collect_end(*from, buf) - have,
                })
            }
            State::Found(_) | State::Missed => None,
        }
    }

    /// Where the bytes decoding needs end, as far as `buf` tells.
    fn collect_end(&self, from: u64, buf: &[u8]) -> u64 {
        (from + extent(buf) as u64).min(self.region.file.end())
    }

    /// The file's bytes from `at`.
    fn feed(&mut self, at: u64, chunk: &[u8]) {
        let scan_end = self.region.scan_end();
        if let State::Scanning { next, seen, carry } = &mut self.state
            && let Some((from, bytes)) = exe::clip(at, chunk, *seen..scan_end)
        {
            let mut hit = None;
            if from != *seen {
                // A gap (never in a stream, which comes whole): what straddled it is lost.
                carry.clear();
                *next = (*next).max(from);
                let misaligned =
                    (*next - self.region.file.offset).wrapping_add(self.region.address) % ALIGN;
                *next += (ALIGN - misaligned) % ALIGN;
            }
            if !carry.is_empty() {
                // A magic may straddle the chunks: the bytes before this one start the header.
                let k = carry.len();
                let more = (MAGIC.len() - k).min(bytes.len());
                carry.extend_from_slice(&bytes[..more]);
                if carry.len() == MAGIC.len() {
                    if *next + HEADER_LEN as u64 <= scan_end && carry[..] == MAGIC[..] {
                        carry.truncate(k);
                        hit = Some((*next, std::mem::take(carry)));
                    }
                    *next += ALIGN;
                    carry.clear();
                }
            }
            let end = from + bytes.len() as u64;
            while hit.is_none()
                && *next + MAGIC.len() as u64 <= end
                && *next + HEADER_LEN as u64 <= scan_end
            {
                let i = (*next - from) as usize;
                if bytes[i..i + MAGIC.len()] == MAGIC[..] {
                    hit = Some((*next, Vec::new()));
                } else {
                    *next += ALIGN;
                }
            }
            *seen = end;
            if hit.is_none() && *next < end && carry.is_empty() {
                carry.extend_from_slice(&bytes[(*next - from) as usize..]);
            }
            if let Some((from, buf)) = hit {
                self.state = State::Collecting { from, buf };
            }
        }
        if let State::Collecting { from, buf } = &mut self.state {
            let from = *from;
            loop {
                let have = from + buf.len() as u64;
                let end = (from + extent(buf) as u64).min(self.region.file.end());
                match exe::clip(at, chunk, have..end) {
                    Some((_, b)) => buf.extend_from_slice(b),
                    None => break,
                }
            }
        }
        self.settle();
    }

    /// Moves on from a state with nothing left to do.
    fn settle(&mut self) {
        let scan_end = self.region.scan_end();
        let file_end = self.region.file.end();
        match &mut self.state {
            State::Scanning { next, seen, .. }
                if *seen >= scan_end || *next + HEADER_LEN as u64 > scan_end =>
            {
                self.state = State::Missed;
            }
            State::Collecting { from, buf }
                if *from + buf.len() as u64 >= (*from + extent(buf) as u64).min(file_end) =>
            {
                self.state = State::Found(std::mem::take(buf));
            }
            _ => {}
        }
    }

    /// No more bytes will come: decide with what there is.
    fn end(&mut self) {
        self.state = match std::mem::replace(&mut self.state, State::Missed) {
            State::Collecting { buf, .. } | State::Found(buf) => State::Found(buf),
            State::Scanning { .. } | State::Missed => State::Missed,
        };
    }

    /// `Some` once decided: the header and what follows it, or `None` when there is none.
    fn outcome(&self) -> Option<Option<&[u8]>> {
        match &self.state {
            State::Found(b) => Some(Some(b)),
            State::Missed => Some(None),
            State::Scanning { .. } | State::Collecting { .. } => None,
        }
    }

    fn take(mut self) -> Option<Vec<u8>> {
        self.end();
        match self.state {
            State::Found(b) => Some(b),
            _ => None,
        }
    }

    fn held(&self) -> usize {
        match &self.state {
            State::Scanning { carry: b, .. }
            | State::Collecting { buf: b, .. }
            | State::Found(b) => b.len(),
            State::Missed => 0,
        }
    }
}

/// How many bytes from the header on [`decode`] reads, as far as the first `h.len()` of them
/// tell: more than `h.len()` when it needs more to tell or to decode.
fn extent(h: &[u8]) -> usize {
    if h.len() < HEADER_LEN || h[15] & 2 == 0 {
        // The pointer format needs only the header; the strings are elsewhere.
        return HEADER_LEN;
    }
    let mut at = HEADER_LEN;
    for max in [MAX_VERSION_LEN, MAX_MODINFO_LEN] {
        let rest = h.get(at..).unwrap_or_default();
        match varint(rest) {
            Some((len, n)) if len <= max => at += n + len as usize,
            // A varint not all there yet: it is at most 10 bytes.
            None if rest.len() < 10 => return at + 10,
            // Bad or too long: decode fails on what is there.
            _ => return h.len(),
        }
        if at > h.len() {
            return at;
        }
    }
    at
}

/// A stream's Go binary: finds the header as the bytes go by, in the same regions and order as
/// [`buildinfo`] does.
#[derive(Debug)]
pub(crate) struct BuildinfoWatch {
    /// Until an image shows up: the search of a file whose headers cannot be read.
    raw: Option<Search>,
    /// Per image (index, searches in order).
    images: Vec<(usize, Vec<Search>)>,
}

impl BuildinfoWatch {
    /// For a stream of `size` bytes.
    pub(crate) fn new(size: u64) -> Self {
        Self {
            raw: Some(Search::new(raw_region(size))),
            images: Vec::new(),
        }
    }

    /// The modules, as [`buildinfo`] has them; a header in the pointer format becomes a
    /// problem, since its strings cannot be reached in one pass.
    pub(crate) fn finish(
        mut self,
        problems: &mut Vec<String>,
    ) -> Result<Option<Vec<LangPackage>>, String> {
        self.images.sort_by_key(|(i, _)| *i);
        let header = match self.raw {
            Some(s) => s.take(),
            None => self
                .images
                .into_iter()
                .find_map(|(_, searches)| searches.into_iter().find_map(Search::take)),
        };
        let Some(header) = header else {
            return Ok(None);
        };
        if header.len() >= HEADER_LEN && header[15] & 2 == 0 {
            problems.push(
                "Go < 1.18 buildinfo needs seeking: its strings lie elsewhere in the binary, \
                 which a layer's stream has gone past; its modules are not reported"
                    .to_owned(),
            );
            return Ok(None);
        }
        let (go_version, modinfo) = decode(&header, |_, _| None)?;
        packages(&go_version, &modinfo).map(Some)
    }
}

impl exe::Watch for BuildinfoWatch {
    fn image(&mut self, index: usize, image: &Image) {
        self.raw = None;
        let searches = regions(image).into_iter().map(Search::new).collect();
        self.images.push((index, searches));
    }

    fn feed(&mut self, at: u64, chunk: &[u8]) {
        let searches = self
            .raw
            .iter_mut()
            .chain(self.images.iter_mut().flat_map(|(_, s)| s));
        for s in searches {
            if s.outcome().is_none() {
                s.feed(at, chunk);
            }
        }
    }

    fn done(&self) -> bool {
        // An image whose first regions are decided can stop: later ones do not count.
        self.raw.is_none()
            && self.images.iter().all(|(_, searches)| {
                searches
                    .iter()
                    .map(Search::outcome)
                    .find(|o| !matches!(o, Some(None)))
                    .is_none_or(|o| o.is_some())
            })
    }

    fn held(&self) -> usize {
        let searches = self
            .raw
            .iter()
            .chain(self.images.iter().flat_map(|(_, s)| s));
        searches.map(Search::held).sum()
    }
}

/// The Go version and the module info (sentinels still on) from a header and what follows it.
/// `resolve` reads `len` bytes at a virtual address, for the pointer format.
fn decode(
    h: &[u8],
    resolve: impl Fn(u64, u64) -> Option<Vec<u8>>,
) -> Result<(String, Vec<u8>), String> {
    if h.len() < HEADER_LEN {
        return Err("Go buildinfo: the header is cut short".to_owned());
    }
    let (ptr_size, flags) = (h[14], h[15]);
    let (version, modinfo) = if flags & 2 != 0 {
        let (version, rest) = varint_string(&h[HEADER_LEN..], MAX_VERSION_LEN)?;
        let (modinfo, _) = varint_string(rest, MAX_MODINFO_LEN)?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        let ps = usize::from(ptr_size);
        if ps != 4 && ps != 8 {
            return Err(format!("Go buildinfo: pointer size {ps}"));
        }
        let word = |b: &[u8]| -> u64 {
            let b = &b[..ps];
            let acc = |v: u64, &x: &u8| v << 8 | u64::from(x);
            if flags & 1 != 0 {
                b.iter().fold(0, acc)
            } else {
                b.iter().rev().fold(0, acc)
            }
        };
        let string = |at: usize, max: u64, what: &str| -> Result<Vec<u8>, String> {
            let unresolved = || format!("Go buildinfo: the {what} pointer leads nowhere");
            let hdr = resolve(word(&h[at..]), 2 * ps as u64)
                .filter(|hdr| hdr.len() >= 2 * ps)
                .ok_or_else(unresolved)?;
            let (data, len) = (word(&hdr), word(&hdr[ps..]));
            if len > max {
                return Err(format!("Go buildinfo: {what} of {len} bytes"));
            }
            if len == 0 {
                return Ok(Vec::new());
            }
            resolve(data, len).ok_or_else(unresolved)
        };
        (
            string(16, MAX_VERSION_LEN, "version")?,
            string(16 + ps, MAX_MODINFO_LEN, "module info")?,
        )
    };
    let version = std::str::from_utf8(&version)
        .ok()
        .filter(|v| !v.is_empty() && !v.contains(['\n', '\t', '\0']))
        .ok_or("Go buildinfo without a readable Go version")?;
    Ok((version.to_owned(), modinfo))
}

/// An unsigned LEB128 varint at the start of `b`: its value and length. `None` when it does
/// not end within `b` (or within 10 bytes), or is over 64 bits.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        if i == 9 && byte > 1 {
            return None; // Over 64 bits.
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// A string prefixed by its length as an unsigned LEB128 varint, and what follows it.
fn varint_string(b: &[u8], max: u64) -> Result<(&[u8], &[u8]), String> {
    let (len, n) = varint(b).ok_or("Go buildinfo: bad varint")?;
    let rest = &b[n..];
    match usize::try_from(len) {
        Ok(n) if len <= max && n <= rest.len() => Ok(rest.split_at(n)),
        _ => Err(format!("Go buildinfo: a string of {len} bytes")),
    }
}

#[derive(Debug, Default)]
struct Module {
    path: String,
    version: String,
    /// `=>` path and version (empty for a local directory).
    replace: Option<(String, String)>,
}

/// The packages from a Go version and raw module info.
fn packages(go_version: &str, modinfo: &[u8]) -> Result<Vec<LangPackage>, String> {
    let modinfo = std::str::from_utf8(strip_sentinels(modinfo))
        .map_err(|e| format!("Go module info is not UTF-8: {e}"))?;
    let mut main: Option<Module> = None;
    let mut deps: Vec<Module> = Vec::new();
    let mut ldflags = None;
    // Where the last `mod`/`dep` went, for `=>`: false = main, true = last dep.
    let mut last_is_dep = None;
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, rest @ ..] => {
                main = Some(module(path, rest));
                last_is_dep = Some(false);
            }
            ["dep", path, rest @ ..] => {
                if deps.len() >= MAX_MODULES {
                    return Err(format!("Go module info lists over {MAX_MODULES} modules"));
                }
                deps.push(module(path, rest));
                last_is_dep = Some(true);
            }
            ["=>", path, rest @ ..] => {
                let target = match last_is_dep.take() {
                    Some(true) => deps.last_mut(),
                    Some(false) => main.as_mut(),
                    None => None,
                };
                if let Some(m) = target {
                    m.replace = Some(((*path).to_owned(), rest.first().unwrap_or(&"").to_string()));
                }
            }
            ["build", setting, ..] => {
                if let Some(v) = setting.strip_prefix("-ldflags=") {
                    ldflags = Some(v);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::with_capacity(deps.len() + 2);
    if let Some(m) = main.filter(|m| !m.path.is_empty()) {
        let mut pkg = to_package(m, Evidence::Binary, "main");
        if pkg.version.is_empty() || pkg.version == "(devel)" {
            pkg.version = "(devel)".to_owned();
            if let Some((sym, value)) = ldflags.and_then(|l| version_from_ldflags(l, &pkg.name)) {
                pkg.version = value;
                add_note(&mut pkg, format!("version-from:-X {sym}"));
            }
        }
        out.push(pkg);
    }
    out.extend(
        deps.into_iter()
            .filter(|m| !m.path.is_empty())
            .map(|m| to_package(m, Evidence::Binary, "dep")),
    );
    let mut stdlib = LangPackage::new(LangEcosystem::Go, "stdlib", go_version, Evidence::Binary);
    stdlib.location = Some("stdlib".to_owned());
    out.push(stdlib);
    Ok(out)
}

fn module(path: &str, rest: &[&str]) -> Module {
    Module {
        path: path.to_owned(),
        version: rest.first().unwrap_or(&"").to_string(),
        replace: None,
    }
}

/// The module info between its 16-byte sentinels; empty when they are not there.
fn strip_sentinels(m: &[u8]) -> &[u8] {
    if m.len() >= 33 && m[m.len() - 17] == b'\n' {
        &m[16..m.len() - 16]
    } else {
        &[]
    }
}

/// A module as a package, with the replacement rule of the module docs applied.
fn to_package(m: Module, evidence: Evidence, location: &str) -> LangPackage {
    let (name, version, note) = match m.replace {
        Some((path, version)) if !version.is_empty() => (
            path,
            version,
            Some(format!("replaces:{} {}", m.path, m.version)),
        ),
        Some((path, _)) => (m.path, m.version, Some(format!("replaced-by:{path}"))),
        None => (m.path, m.version, None),
    };
    let mut pkg = LangPackage::new(LangEcosystem::Go, name, version, evidence);
    pkg.location = Some(location.to_owned());
    pkg.note = note;
    pkg
}

fn add_note(pkg: &mut LangPackage, note: String) {
    pkg.note = Some(match pkg.note.take() {
        Some(old) => format!("{old}; {note}"),
        None => note,
    });
}

/// The main module's version from `-X` flags in the recorded `-ldflags` value (the rule in the
/// module docs): `(symbol, value)`.
fn version_from_ldflags(recorded: &str, main_path: &str) -> Option<(String, String)> {
    // Go writes a setting's value with strconv.Quote when it has spaces or quotes.
    let flags = if recorded.starts_with('"') {
        unquote(recorded)?
    } else {
        recorded.to_owned()
    };
    let args = split_args(&flags);
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let assignment = match a.strip_prefix("--").or_else(|| a.strip_prefix('-')) {
            Some("X") => {
                i += 1;
                args.get(i).map(String::as_str)
            }
            Some(x) => x.strip_prefix("X="),
            None => None,
        };
        i += 1;
        let Some((sym, value)) = assignment.and_then(|s| s.split_once('=')) else {
            continue;
        };
        let Some((package, name)) = sym.rsplit_once('.') else {
            continue;
        };
        let ours = package == "main"
            || package == main_path
            || package
                .strip_prefix(main_path)
                .is_some_and(|p| p.starts_with('/'));
        if ours
            && name.eq_ignore_ascii_case("version")
            && !value.is_empty()
            && value.len() <= MAX_X_VALUE_LEN
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            found = Some((sym.to_owned(), value.to_owned()));
        }
    }
    found
}

/// A Go double-quoted string literal (as strconv.Quote writes it) to its value.
fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<u32> {
            let digits: String = chars.by_ref().take(n).collect();
            (digits.len() == n).then_some(())?;
            u32::from_str_radix(&digits, 16).ok()
        };
        match chars.next()? {
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(11),
            '\\' => out.push(b'\\'),
            '"' => out.push(b'"'),
            '\'' => out.push(b'\''),
            'x' => out.push(u8::try_from(hex(&mut chars, 2)?).ok()?),
            e @ ('u' | 'U') => {
                let c = char::from_u32(hex(&mut chars, if e == 'u' { 4 } else { 8 })?)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Whitespace-separated arguments, where one starting with `'` or `"` runs to the same quote
/// (how `go build` splits a flag list, quotes without escapes).
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
        let (arg, tail) = match quote {
            Some(q) => match rest[1..].find(q) {
                Some(end) => (&rest[1..=end], &rest[end + 2..]),
                None => (&rest[1..], ""),
            },
            None => rest.split_at(rest.find(char::is_whitespace).unwrap_or(rest.len())),
        };
        out.push(arg.to_owned());
        rest = tail.trim_start();
    }
    out
}

/// One `go.mod` line as tokens, `(` and `)` apart, and its `//` comment.
fn tokens(line: &str) -> Result<(Vec<String>, Option<&str>), String> {
    let mut toks = Vec::new();
    let mut rest = line.trim_start();
    loop {
        if rest.is_empty() {
            return Ok((toks, None));
        }
        if let Some(comment) = rest.strip_prefix("//") {
            return Ok((toks, Some(comment.trim())));
        }
        let (tok, tail) = match rest.as_bytes()[0] {
            b'(' | b')' => rest.split_at(1),
            b'"' => {
                let end = rest[1..]
                    .char_indices()
                    .scan(false, |esc, (i, c)| {
                        let r = Some((i, c, *esc));
                        *esc = !*esc && c == '\\';
                        r
                    })
                    .find(|&(_, c, esc)| c == '"' && !esc)
                    .map(|(i, _, _)| i + 2)
                    .ok_or("unterminated string")?;
                rest.split_at(end)
            }
            b'`' => {
                let end = rest[1..].find('`').ok_or("unterminated string")? + 2;
                rest.split_at(end)
            }
            _ => rest.split_at(
                rest.find(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
                    .unwrap_or(rest.len()),
            ),
        };
        let tok = match tok.as_bytes()[0] {
            b'"' => unquote(tok).ok_or_else(|| format!("bad string {tok}"))?,
            b'`' => tok[1..tok.len() - 1].to_owned(),
            _ => tok.to_owned(),
        };
        toks.push(tok);
        rest = tail.trim_start();
    }
}

struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    new_version: String,
}

/// The modules a `go.sum` holds source hashes for (lines without the `/go.mod` suffix), one
/// version per module: the highest, which is the one minimal version selection builds with.
/// Used only where no `go.mod` sits beside it (`crate::langpkgs`): a go.sum also records
/// versions the module graph considered and did not select, so it over-reports next to the
/// go.mod's complete (Go 1.17+) requirement list.
pub(crate) fn parse_go_sum(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "go.sum is not UTF-8".to_owned())?;
    let mut best: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(path), Some(version), Some(hash), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("go.sum line {}: not `MODULE VERSION HASH`", n + 1));
        };
        if !hash.starts_with("h1:") && !hash.contains(':') {
            return Err(format!("go.sum line {}: {hash:?} is not a hash", n + 1));
        }
        if version.ends_with("/go.mod") {
            continue;
        }
        let newer = best.get(path).is_none_or(|old| {
            customs_version::compare(customs_version::Ecosystem::Go, version, old)
                .is_ok_and(|o| o == std::cmp::Ordering::Greater)
        });
        if newer {
            best.insert(path, version);
        }
    }
    Ok(best
        .into_iter()
        .map(|(path, version)| {
            let mut p = LangPackage::new(LangEcosystem::Go, path, version, Evidence::Lockfile);
            p.note = Some("go.sum".to_owned());
            p
        })
        .collect())
}

/// The dependencies a `go.mod` requires, replacements applied (see the module docs).
pub(crate) fn parse_go_mod(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("go.mod is not UTF-8: {e}"))?;
    let mut requires: Vec<(String, String, bool)> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    let mut block: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("go.mod line {}: {e}", n + 1);
        let (toks, comment) = tokens(line).map_err(at)?;
        let toks: Vec<&str> = toks.iter().map(String::as_str).collect();
        let (verb, args) = match (&block, toks.as_slice()) {
            (_, []) => continue,
            (Some(_), [")"]) => {
                block = None;
                continue;
            }
            (Some(verb), args) => (verb.clone(), args),
            (None, [verb, "("]) => {
                block = Some((*verb).to_owned());
                continue;
            }
            (None, [_, "(", ")"]) => continue,
            (None, [verb, args @ ..]) => ((*verb).to_owned(), args),
        };
        match verb.as_str() {
            "require" => {
                let [path, version] = args else {
                    return Err(at(format!("require needs a path and a version: {line}")));
                };
                if requires.len() >= MAX_MODULES {
                    return Err(format!("go.mod requires over {MAX_MODULES} modules"));
                }
                let indirect = comment.is_some_and(|c| {
                    c == "indirect"
                        || c.strip_prefix("indirect")
                            .is_some_and(|r| r.starts_with(';'))
                });
                requires.push(((*path).to_owned(), (*version).to_owned(), indirect));
            }
            "replace" => {
                let r = match args {
                    [old, "=>", new] => (old, None, new, ""),
                    [old, "=>", new, nv] => (old, None, new, *nv),
                    [old, ov, "=>", new] => (old, Some(ov), new, ""),
                    [old, ov, "=>", new, nv] => (old, Some(ov), new, *nv),
                    _ => return Err(at(format!("unreadable replace: {line}"))),
                };
                if replaces.len() >= MAX_MODULES {
                    return Err(format!("go.mod replaces over {MAX_MODULES} modules"));
                }
                replaces.push(Replace {
                    old: (*r.0).to_owned(),
                    old_version: r.1.map(|v| (*v).to_owned()),
                    new: (*r.2).to_owned(),
                    new_version: r.3.to_owned(),
                });
            }
            _ => {}
        }
    }
    if block.is_some() {
        return Err("go.mod ends inside a ( block".to_owned());
    }
    Ok(requires
        .into_iter()
        .map(|(path, version, indirect)| {
            // A replacement of this exact version wins over one of all versions.
            let r = replaces
                .iter()
                .rev()
                .find(|r| r.old == path && r.old_version.as_deref() == Some(version.as_str()))
                .or_else(|| {
                    replaces
                        .iter()
                        .rev()
                        .find(|r| r.old == path && r.old_version.is_none())
                });
            let m = Module {
                path,
                version,
                replace: r.map(|r| (r.new.clone(), r.new_version.clone())),
            };
            let mut pkg = to_package(m, Evidence::Lockfile, "dep");
            if indirect {
                let replaced = pkg.note.take();
                pkg.note = Some("indirect".to_owned());
                if let Some(r) = replaced {
                    add_note(&mut pkg, r);
                }
            }
            pkg
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {

    #[test]
    fn go_sum_of_the_go_toolchain() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lang/go/gosum");
        let sum = parse_go_sum(&std::fs::read(format!("{dir}/go.sum")).unwrap()).unwrap();
        let sum: std::collections::BTreeMap<&str, &str> = sum
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        // Every module go.mod requires is in go.sum at the same version.
        let modreq = parse_go_mod(&std::fs::read(format!("{dir}/go.mod")).unwrap()).unwrap();
        assert!(modreq.len() >= 10, "{modreq:?}");
        for p in &modreq {
            assert_eq!(
                sum.get(p.name.as_str()),
                Some(&p.version.as_str()),
                "{}",
                p.name
            );
        }
        assert!(parse_go_sum(b"golang.org/x/text v0.3.7\n").is_err());
        assert!(parse_go_sum(b"\xff\xfe").is_err());
        // Two versions of one module: the higher one is built.
        let two = parse_go_sum(
            b"a.io/m v1.2.0 h1:x=\na.io/m v1.10.0 h1:y=\na.io/m v1.11.0/go.mod h1:z=\n",
        )
        .unwrap();
        assert_eq!(two.len(), 1);
        assert_eq!(two[0].version, "v1.10.0");
    }
    use std::io::Read as _;
    use std::path::Path;

    use super::*;

    /// A fixture of `tests/fixtures/lang/go`, gunzipped when its name ends in `.gz`.
    pub(crate) fn fixture(name: &str) -> Vec<u8> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lang/go")
            .join(name);
        let raw = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if name.ends_with(".gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&*raw)
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            raw
        }
    }

    /// `(name, version, location, note)` of each package.
    fn rows(pkgs: &[LangPackage]) -> Vec<(&str, &str, &str, Option<&str>)> {
        pkgs.iter()
            .map(|p| {
                assert_eq!(p.ecosystem, LangEcosystem::Go);
                assert!(!p.dev);
                let loc = p.location.as_deref().unwrap();
                (p.name.as_str(), p.version.as_str(), loc, p.note.as_deref())
            })
            .collect()
    }

    const DEMO_GO: [(&str, &str, &str, Option<&str>); 4] = [
        (
            "example.com/demo-go",
            "1.2.3",
            "main",
            Some("version-from:-X main.version"),
        ),
        (
            "example.com/greet-fork",
            "v1.1.0",
            "dep",
            Some("replaces:example.com/greet v1.0.0"),
        ),
        ("golang.org/x/text", "v0.3.7", "dep", None),
        ("stdlib", "go1.27.3", "stdlib", None),
    ];

    #[test]
    fn demo_go_inline_format_elf_pe_macho_and_fat() {
        let elf = fixture("demo-go");
        let macho = fixture("demo-go-darwin-arm64.sparse.gz");
        for bin in [
            elf,
            fixture("demo-go-windows-amd64.sparse.gz"),
            fat(&macho),
            macho,
        ] {
            assert!(is_executable_format(&bin));
            // Found through the headers, not by the raw scan.
            let exe = Exe::open(exe::Source::Mem(&bin));
            assert!(exe.images.iter().any(|image| {
                regions(image)
                    .into_iter()
                    .any(|r| search(&exe, r).is_some())
            }));
            let got = parse_buildinfo(&bin).unwrap().expect("a Go binary");
            assert_eq!(rows(&got), DEMO_GO);
            assert!(got.iter().all(|p| p.evidence == Evidence::Binary));
        }
    }

    /// The first 16-byte aligned offset of the magic.
    fn magic_at(b: &[u8]) -> usize {
        (0..b.len() - HEADER_LEN)
            .step_by(16)
            .find(|&i| b[i..].starts_with(MAGIC))
            .unwrap()
    }

    /// A universal Mach-O holding one arm64 slice, laid out as `lipo` does.
    pub(crate) fn fat(slice: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [
            0xcafe_babe_u32,
            1,
            0x0100_000c,
            0,
            0x4000,
            slice.len() as u32,
            14,
        ] {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out.resize(0x4000, 0);
        out.extend_from_slice(slice);
        out
    }

    #[test]
    fn esbuild_pointer_format_go_1_15() {
        let sys = (
            "golang.org/x/sys",
            "v0.0.0-20200501145240-bc7a7d42d5c3",
            "dep",
            None,
        );
        for (name, has_sys) in [
            ("linux-64", true),
            ("linux-32", true),
            ("darwin-64", true),
            ("windows-64", false),
        ] {
            let bin = fixture(&format!("esbuild-0.8.9/esbuild-{name}.sparse.gz"));
            assert_eq!(Exe::open(exe::Source::Mem(&bin)).images.len(), 1);
            let got = parse_buildinfo(&bin).unwrap().expect(name);
            let mut want = vec![("github.com/evanw/esbuild", "(devel)", "main", None)];
            want.extend(has_sys.then_some(sys));
            want.push(("stdlib", "go1.15.5", "stdlib", None));
            assert_eq!(rows(&got), want, "{name}");
        }
    }

    #[test]
    fn not_go_is_none() {
        let ls = std::fs::read("/bin/ls").expect("/bin/ls");
        assert_eq!(parse_buildinfo(&ls), Ok(None));
        // This test binary holds the magic as a constant, in read-only data.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(me.windows(MAGIC.len()).any(|w| w == MAGIC));
        assert_eq!(parse_buildinfo(&me), Ok(None));
        for other in [
            &b""[..],
            b"MZ",
            b"\x7fELF",
            b"#!/bin/sh\n",
            &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52],
        ] {
            assert_eq!(parse_buildinfo(other), Ok(None));
        }
    }

    #[test]
    fn executable_formats() {
        for yes in [
            &b"\x7fELF\x02\x01"[..],
            b"MZ\x90\0",
            &[0xcf, 0xfa, 0xed, 0xfe],
            &[0xfe, 0xed, 0xfa, 0xce],
            &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2],
        ] {
            assert!(is_executable_format(yes), "{yes:?}");
        }
        // A Java class file (version 52) shares the fat magic.
        for no in [
            &b""[..],
            b"\x7fEL",
            b"PK\x03\x04",
            &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52],
        ] {
            assert!(!is_executable_format(no), "{no:?}");
        }
    }

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// An `MZ` file object cannot read, with an inline-format header at offset 16.
    pub(crate) fn raw_inline(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = b"MZ".to_vec();
        b.resize(16, 0);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&[8, 2]);
        b.resize(48, 0);
        varint(version.len(), &mut b);
        b.extend_from_slice(version.as_bytes());
        let wrapped = format!("0123456789abcdef{modinfo}fedcba9876543210");
        varint(wrapped.len(), &mut b);
        b.extend_from_slice(wrapped.as_bytes());
        b
    }

    #[test]
    fn unreadable_headers_fall_back_to_a_raw_scan() {
        let modinfo = "path\tx\nmod\texample.com/x\t(devel)\t\ndep\ta.io/b\tv1.0.0\th1:abc=\n\
                       =>\t../b\t\t\ndep\tc.io/d\tv0.1.0\th1:def=\n=>\tc.io/e\tv0.2.0\th1:ghi=\n\
                       build\t-ldflags=\"-X 'example.com/x/internal/build.VERSION=v2.0.0' -X other.io/y.Version=9\"\n";
        let got = parse_buildinfo(&raw_inline("go1.21.0 X:boringcrypto", modinfo))
            .unwrap()
            .unwrap();
        assert_eq!(
            rows(&got),
            [
                (
                    "example.com/x",
                    "v2.0.0",
                    "main",
                    Some("version-from:-X example.com/x/internal/build.VERSION")
                ),
                ("a.io/b", "v1.0.0", "dep", Some("replaced-by:../b")),
                ("c.io/e", "v0.2.0", "dep", Some("replaces:c.io/d v0.1.0")),
                ("stdlib", "go1.21.0 X:boringcrypto", "stdlib", None),
            ]
        );
        // No module info (a GOPATH build): only the toolchain.
        let got = parse_buildinfo(&raw_inline("go1.20", "")).unwrap().unwrap();
        assert_eq!(rows(&got), [("stdlib", "go1.20", "stdlib", None)]);
        // The pointer format needs addresses that only the headers give.
        let mut b = raw_inline("go1.16", "");
        b[31] = 0;
        assert!(parse_buildinfo(&b).unwrap_err().contains("leads nowhere"));
    }

    /// A search fed a chunk at a time finds what one fed everything at once finds, wherever the
    /// chunks split the header: the stream and the file take the same steps.
    #[test]
    fn a_search_finds_the_same_whatever_the_chunks() {
        let modinfo = "path\tx\nmod\texample.com/x\tv1.0.0\t\n";
        let mut b = raw_inline("go1.21.0", modinfo);
        // A magic that is not 16-byte aligned (at 12), before the real one (now at 48): never
        // a header.
        let mut fake = vec![0; 4];
        fake.extend_from_slice(MAGIC);
        fake.resize(32, 0);
        b.splice(8..8, fake);
        b.resize(b.len() + 40, 0);
        let whole = || {
            let mut s = Search::new(raw_region(b.len() as u64));
            s.feed(0, &b);
            s.take()
        };
        let want = whole().expect("the header at 48");
        assert_eq!(&want[..MAGIC.len()], MAGIC);
        assert_eq!(decode(&want, |_, _| None).unwrap().0, "go1.21.0");
        for k in 1..=40 {
            let mut s = Search::new(raw_region(b.len() as u64));
            for (i, chunk) in b.chunks(k).enumerate() {
                s.feed((i * k) as u64, chunk);
            }
            assert_eq!(s.take().as_ref(), Some(&want), "chunks of {k}");
        }
    }

    #[test]
    fn ldflags_rule() {
        let v = |flags: &str| version_from_ldflags(flags, "example.com/app").map(|(_, v)| v);
        assert_eq!(v("\"-s -w -X main.version=1.2.3\""), Some("1.2.3".into()));
        assert_eq!(v("-X=main.Version=v1"), Some("v1".into()));
        assert_eq!(v("--X main.VERSION=2 -X main.version=3"), Some("3".into()));
        assert_eq!(v("\"-X \\\"main.version=4\\\"\""), Some("4".into()));
        assert_eq!(v("-X example.com/app/cmd.version=5"), Some("5".into()));
        for none in [
            "-s -w",
            "-X main.gitVersion=abc",
            "-X example.com/application.version=6",
            "-X other.io/lib.Version=7",
            "-X main.version=",
            "\"-X 'main.version=has space'\"",
            "-X",
            "\"unterminated",
        ] {
            assert_eq!(v(none), None, "{none}");
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let bin = fixture("demo-go");
        for len in (0..bin.len()).step_by(1499).chain([bin.len() - 1]) {
            let _ = parse_buildinfo(&bin[..len]);
        }
        // Every byte of the header and the strings after it, set to extremes.
        let at = magic_at(&bin);
        for i in at..at + 96 {
            for byte in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut b = bin.clone();
                b[i] = byte;
                let _ = parse_buildinfo(&b);
            }
        }
        // Hostile pointer-format headers: wild pointers, bad sizes, huge lengths.
        let esbuild = fixture("esbuild-0.8.9/esbuild-linux-64.sparse.gz");
        let at = magic_at(&esbuild);
        for (i, byte) in (at + 14..at + 32).flat_map(|i| [(i, 0x00), (i, 0x03), (i, 0xff)]) {
            let mut b = esbuild.clone();
            b[i] = byte;
            let _ = parse_buildinfo(&b);
        }
        // Huge or unterminated varints.
        for tail in [&[0xff; 12][..], &[0xff, 0xff, 0xff, 0x7f], &[5, b'g']] {
            let mut b = raw_inline("", "");
            b.truncate(48);
            b.extend_from_slice(tail);
            assert!(parse_buildinfo(&b).is_err());
        }
        // Pseudo-random bytes behind each magic.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for head in [
            &b"\x7fELF\x02\x01\x01"[..],
            b"MZ",
            &[0xcf, 0xfa, 0xed, 0xfe],
        ] {
            for _ in 0..200 {
                let mut b = head.to_vec();
                b.extend((0..4096).map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                }));
                b[64..78].copy_from_slice(MAGIC);
                let _ = parse_buildinfo(&b);
            }
        }
    }

    #[test]
    fn go_mod() {
        let text = br#"// A module.
module example.com/app

go 1.21

toolchain go1.21.5

require golang.org/x/text v0.3.7

require (
	github.com/a/b v1.2.3 // indirect
	"github.com/quoted/q" v0.1.0
	github.com/c/d v1.0.0 // indirect; used by b
	github.com/local/l v0.0.0-20200101000000-abcdefabcdef
	github.com/all/versions v1.1.1
)

replace github.com/c/d v1.0.0 => github.com/fork/d v1.0.1

replace (
	github.com/local/l => ../l
	github.com/all/versions => github.com/all/versions v1.1.2 // a fix
	github.com/not/required => github.com/x/y v1.0.0
	github.com/c/d v0.9.0 => github.com/wrong/d v9.9.9
)

exclude golang.org/x/text v0.3.6

retract [v1.0.0, v1.0.5]
retract (
	v1.1.0 // oops
)
"#;
        let got = parse_go_mod(text).unwrap();
        assert_eq!(
            rows(&got),
            [
                ("golang.org/x/text", "v0.3.7", "dep", None),
                ("github.com/a/b", "v1.2.3", "dep", Some("indirect")),
                ("github.com/quoted/q", "v0.1.0", "dep", None),
                (
                    "github.com/fork/d",
                    "v1.0.1",
                    "dep",
                    Some("indirect; replaces:github.com/c/d v1.0.0")
                ),
                (
                    "github.com/local/l",
                    "v0.0.0-20200101000000-abcdefabcdef",
                    "dep",
                    Some("replaced-by:../l")
                ),
                (
                    "github.com/all/versions",
                    "v1.1.2",
                    "dep",
                    Some("replaces:github.com/all/versions v1.1.1")
                ),
            ]
        );
        assert!(got.iter().all(|p| p.evidence == Evidence::Lockfile));
        assert_eq!(parse_go_mod(b"module x\n").unwrap(), []);
    }

    #[test]
    fn go_mod_errors() {
        for bad in [
            &b"require (\n\ta v1\n"[..],
            b"require a\n",
            b"require a v1 v2\n",
            b"replace a v1 b\n",
            b"require \"a v1\n",
            b"\xff\n",
        ] {
            assert!(
                parse_go_mod(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
