//! Java: archives (jar, war, ear, jmod, and the plugin formats built on them) read as streams
//! with every archive nested inside them, and, on disk, `pom.xml` and Gradle lockfiles.
//!
//! An archive's coordinates come from the first of these that it holds, and the one used is
//! recorded in the package's note:
//! 1. `META-INF/maven/**/pom.properties`: each is a package, so a shaded jar reports every
//!    dependency shaded into it, located at that jar;
//! 2. `META-INF/maven/**/pom.xml`, the same way;
//! 3. `META-INF/MANIFEST.MF`'s `Implementation-*` and `Bundle-*` fields;
//! 4. the file name (`log4j-core-2.14.1.jar`).
//!
//! Memory is bounded whatever the archive's size: entries are read through
//! [`super::zipstream`], an inner archive is read from its parent's stream (never extracted),
//! and only the small metadata files are held, each within a limit.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use super::zipstream::{ZipError, ZipStream};
use super::{Evidence, LangEcosystem, LangPackage};

/// Archives inside archives deeper than this are not opened: real ones nest three deep (an
/// ear's war's jar), and each level holds a read buffer and an inflater.
pub(crate) const MAX_DEPTH: usize = 8;
const MAX_PROPERTIES: u64 = 64 << 10;
const MAX_POM: u64 = 1 << 20;
const MAX_MANIFEST: u64 = 1 << 20;
/// Problems listed per top-level archive; a hostile one could otherwise name millions.
const MAX_PROBLEMS: usize = 50;
/// Bytes searched for the first entry: an executable jar starts with a launch script.
const MAX_PREFIX: u64 = 1 << 20;
const BUFFER: usize = 64 << 10;

const ARCHIVES: [&str; 9] = [
    ".jar", ".war", ".ear", ".jmod", ".hpi", ".jpi", ".par", ".sar", ".nar",
];

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether the file is a Java archive, by its name.
pub(crate) fn is_archive(path: &str) -> bool {
    let b = base(path).to_ascii_lowercase();
    ARCHIVES
        .iter()
        .any(|ext| b.len() > ext.len() && b.ends_with(ext))
}

fn is_gradle_lock(path: &str) -> bool {
    let b = base(path);
    b == "gradle.lockfile"
        || b.ends_with("-gradle.lockfile")
        || (b.ends_with(".lockfile") && path.contains("gradle/dependency-locks/"))
}

/// Whether this module reads the file: an archive, a `pom.xml` or a Gradle lockfile.
pub(crate) fn wants(path: &str) -> bool {
    is_archive(path) || base(path) == "pom.xml" || is_gradle_lock(path)
}

/// What reading an archive gave: its packages, and what could not be read, each naming where.
#[derive(Debug, Default)]
pub(crate) struct ArchiveFindings {
    pub(crate) packages: Vec<LangPackage>,
    pub(crate) problems: Vec<String>,
    suppressed: usize,
}

impl ArchiveFindings {
    fn problem(&mut self, at: &str, what: impl std::fmt::Display) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(if at.is_empty() {
                what.to_string()
            } else {
                format!("{at}: {what}")
            });
        } else {
            self.suppressed += 1;
        }
    }
}

/// Read the archive at `path` (for the file-name fallback) from `r`. Problems do not stop
/// the reading of anything else: a bad inner archive costs only itself.
pub(crate) fn read_archive(path: &str, r: impl Read) -> ArchiveFindings {
    let mut found = ArchiveFindings::default();
    let mut r = BufReader::with_capacity(BUFFER, r);
    if let Err(e) = archive(&mut r, base(path), None, 0, &mut found) {
        found.problem("", e);
    }
    if found.suppressed > 0 {
        let n = found.suppressed;
        found.problems.push(format!("{n} more problems not listed"));
    }
    found
}

/// Where an entry is, as the evidence path shows it: `BOOT-INF/lib/a.jar`, and one level
/// deeper `BOOT-INF/lib/a.jar!/lib/b.jar`.
fn inner(location: Option<&str>, name: &str) -> String {
    match location {
        Some(l) => format!("{l}!/{name}"),
        None => name.to_owned(),
    }
}

enum Kind {
    Properties,
    Pom,
    Manifest,
    Nested,
}

fn kind(name: &str) -> Option<Kind> {
    if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
        return Some(Kind::Manifest);
    }
    if let Some(rest) = name.strip_prefix("META-INF/maven/") {
        if rest.ends_with("/pom.properties") {
            return Some(Kind::Properties);
        }
        if rest.ends_with("/pom.xml") {
            return Some(Kind::Pom);
        }
    }
    is_archive(name).then_some(Kind::Nested)
}

/// An entry name that climbs out of the archive or is absolute: harmless here (nothing is
/// extracted), but a sign of a hostile archive, so it is named and not read.
fn escapes(name: &str) -> bool {
    name.starts_with('/') || name.starts_with('\\') || name.split(['/', '\\']).any(|p| p == "..")
}

fn read_bounded(r: impl Read, limit: u64) -> Result<Option<Vec<u8>>, ZipError> {
    let mut buf = Vec::new();
    r.take(limit + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

/// Read up to and including the first local header's signature: past a jmod's 4-byte header
/// or an executable jar's launch script. `false` when there is none in reach.
fn find_first_entry(r: &mut dyn BufRead) -> io::Result<bool> {
    const SIG: &[u8; 4] = b"PK\x03\x04";
    // `P` occurs only first in the signature, so a mismatch restarts the match at this byte.
    let mut matched = 0;
    let mut searched = 0u64;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let mut i = 0;
        while i < buf.len() {
            if buf[i] == SIG[matched] {
                matched += 1;
                i += 1;
                if matched == SIG.len() {
                    r.consume(i);
                    return Ok(true);
                }
            } else if matched > 0 {
                matched = 0;
            } else {
                i += 1;
            }
        }
        let n = buf.len();
        r.consume(n);
        searched += n as u64;
        if searched > MAX_PREFIX {
            return Ok(false);
        }
    }
}

/// Read one archive level. `location` is where it is inside the top-level file (`None` for
/// the file itself).
fn archive(
    r: &mut dyn BufRead,
    file_name: &str,
    location: Option<&str>,
    depth: usize,
    found: &mut ArchiveFindings,
) -> Result<(), ZipError> {
    let at = location.unwrap_or("");
    if !find_first_entry(r)? {
        found.problem(at, "not a zip archive (no local file header)");
        return Ok(());
    }
    let mut props: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut poms: Vec<(String, Pom)> = Vec::new();
    let mut manifest: Option<BTreeMap<String, String>> = None;
    let mut zip = ZipStream::after_signature(r);
    loop {
        let entry = match zip.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                found.problem(at, e);
                break;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let Some(k) = kind(&entry.name) else {
            continue;
        };
        let shown = inner(location, &entry.name);
        if escapes(&entry.name) {
            found.problem(&shown, "entry name climbs out of the archive: not read");
            continue;
        }
        if let Some(why) = entry.unreadable() {
            found.problem(&shown, format!("{why}: not read"));
            continue;
        }
        let limit = match k {
            Kind::Properties => MAX_PROPERTIES,
            Kind::Pom => MAX_POM,
            Kind::Manifest => MAX_MANIFEST,
            Kind::Nested => {
                if depth + 1 >= MAX_DEPTH {
                    found.problem(
                        &shown,
                        format!("archives nested more than {MAX_DEPTH} deep: not opened"),
                    );
                    continue;
                }
                let mut inner_r = BufReader::with_capacity(BUFFER, zip.content());
                if let Err(e) = archive(
                    &mut inner_r,
                    base(&entry.name),
                    Some(&shown),
                    depth + 1,
                    found,
                ) {
                    found.problem(&shown, e);
                }
                continue;
            }
        };
        let bytes = match read_bounded(zip.content(), limit) {
            Ok(Some(b)) => b,
            Ok(None) => {
                found.problem(&shown, format!("over {limit} bytes: not read"));
                continue;
            }
            Err(e) => {
                // The error names the entry.
                found.problem(at, e);
                break;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        match k {
            Kind::Properties => props.push((entry.name.clone(), properties(&text))),
            Kind::Pom => match read_pom(&text) {
                Ok(p) => poms.push((entry.name.clone(), p)),
                Err(e) => found.problem(&shown, e),
            },
            Kind::Manifest => manifest = Some(main_section(&text)),
            Kind::Nested => {}
        }
    }
    coordinates(file_name, location, &props, &poms, manifest.as_ref(), found);
    Ok(())
}

/// `META-INF/maven/GROUP/ARTIFACT/pom.*`: the group and artifact its path names.
fn path_coordinates(entry: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = entry.trim_start_matches("META-INF/maven/").split('/');
    (parts.next(), parts.next())
}

fn package(name: String, version: &str, location: Option<&str>, how: &str) -> LangPackage {
    let mut p = LangPackage::new(LangEcosystem::Maven, name, version, Evidence::Installed);
    p.location = location.map(str::to_owned);
    p.note = Some(format!("coordinates: {how}"));
    p
}

fn usable(v: &str) -> bool {
    !v.is_empty() && !v.contains("${") && v.len() <= 256 && !v.contains(char::is_whitespace)
}

fn coordinates(
    file_name: &str,
    location: Option<&str>,
    props: &[(String, BTreeMap<String, String>)],
    poms: &[(String, Pom)],
    manifest: Option<&BTreeMap<String, String>>,
    found: &mut ArchiveFindings,
) {
    let at = location.unwrap_or("");
    let mut named = 0;
    for (entry, p) in props {
        let (pg, pa) = path_coordinates(entry);
        let group = p.get("groupId").map(String::as_str).or(pg).unwrap_or("");
        let artifact = p.get("artifactId").map(String::as_str).or(pa).unwrap_or("");
        match p.get("version") {
            Some(v) if usable(v) && usable(group) && usable(artifact) => {
                found.packages.push(package(
                    format!("{group}:{artifact}"),
                    v,
                    location,
                    "pom.properties",
                ));
                named += 1;
            }
            _ => found.problem(
                &inner(location, entry),
                "no usable groupId, artifactId and version",
            ),
        }
    }
    if named > 0 {
        return;
    }
    for (entry, pom) in poms {
        match (&pom.group, &pom.artifact, &pom.version) {
            (Some(g), Some(a), Some(v)) => {
                found
                    .packages
                    .push(package(format!("{g}:{a}"), v, location, "pom.xml"));
                named += 1;
            }
            _ => found.problem(
                &inner(location, entry),
                "no usable groupId, artifactId and version",
            ),
        }
    }
    if named > 0 {
        return;
    }
    let (file_artifact, file_version) = split_file_name(file_name);
    if let Some(m) = manifest {
        let field = |k: &str| m.get(k).map(String::as_str).filter(|v| usable(v));
        let version = field("Implementation-Version").or_else(|| field("Bundle-Version"));
        let artifact = file_artifact
            .or_else(|| field("Implementation-Title"))
            .or_else(|| field("Bundle-SymbolicName").map(|b| b.rsplit('.').next().unwrap_or(b)));
        if let (Some(v), Some(a)) = (version, artifact) {
            // Only a vendor id says the group outright; a bundle's symbolic name is a group
            // for some projects and group plus artifact for others.
            let name = match field("Implementation-Vendor-Id") {
                Some(g) => format!("{g}:{a}"),
                None => a.to_owned(),
            };
            found
                .packages
                .push(package(name, v, location, "MANIFEST.MF"));
            return;
        }
    }
    match (file_artifact, file_version) {
        (Some(a), Some(v)) => found
            .packages
            .push(package(a.to_owned(), v, location, "file name")),
        _ => found.problem(
            at,
            "no coordinates: no pom.properties, pom.xml, manifest version or versioned file name",
        ),
    }
}

/// `log4j-core-2.14.1.jar` → (`log4j-core`, `2.14.1`): the version starts at the first `-`
/// followed by a digit.
fn split_file_name(file_name: &str) -> (Option<&str>, Option<&str>) {
    let stem = match file_name.rfind('.') {
        Some(i) if i > 0 => &file_name[..i],
        _ => file_name,
    };
    let bytes = stem.as_bytes();
    let cut = (1..bytes.len()).find(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit());
    let (artifact, version) = match cut {
        Some(i) => (&stem[..i - 1], Some(&stem[i..])),
        None => (stem, None),
    };
    (
        Some(artifact).filter(|s| usable(s)),
        version.filter(|s| usable(s)),
    )
}

/// A `.properties` file's `key=value` (or `key: value`) pairs; comments and continuation
/// lines are not used by pom.properties.
fn properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| {
            let i = l.find(['=', ':'])?;
            Some((l[..i].trim().to_owned(), l[i + 1..].trim().to_owned()))
        })
        .collect()
}

/// A manifest's main section (up to the first blank line), continuation lines joined.
fn main_section(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(more) = line.strip_prefix(' ') {
            if let Some(k) = &last
                && let Some(v) = out.get_mut(k)
            {
                let v: &mut String = v;
                v.push_str(more);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_owned();
            out.insert(k.clone(), v.trim().to_owned());
            last = Some(k);
        }
    }
    out
}

/// What customs reads of a POM.
#[derive(Debug, Default)]
pub(crate) struct Pom {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    dependencies: Vec<Dependency>,
    /// Dependencies left out, and why.
    left_out: Vec<String>,
}

#[derive(Debug)]
struct Dependency {
    name: String,
    version: String,
    test: bool,
}

fn child<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == tag)
}

fn text_of(n: roxmltree::Node<'_, '_>, tag: &str) -> Option<String> {
    child(n, tag)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Replace `${name}` with the POM's own properties (and `project.*`), a few rounds deep;
/// `None` when one is left (a parent's property, which customs does not fetch).
fn resolve(v: &str, props: &BTreeMap<String, String>) -> Option<String> {
    let mut s = v.to_owned();
    for _ in 0..8 {
        let Some(start) = s.find("${") else {
            return usable(&s).then_some(s);
        };
        let end = start + s[start..].find('}')?;
        let key = &s[start + 2..end];
        let value = props.get(key)?;
        s = format!("{}{}{}", &s[..start], value, &s[end + 1..]);
        if s.len() > 256 {
            return None;
        }
    }
    None
}

/// Parse a POM: its own coordinates (a parent's where it inherits them) and its declared
/// dependencies. A DTD is refused, so no entity is ever expanded.
pub(crate) fn read_pom(text: &str) -> Result<Pom, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 200_000,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts)
        .map_err(|e| format!("not a POM: {e}"))?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err("not a POM: the root element is not <project>".to_owned());
    }
    let parent = child(project, "parent");
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(p) = child(project, "properties") {
        for c in p.children().filter(roxmltree::Node::is_element) {
            if let Some(t) = c.text() {
                props.insert(c.tag_name().name().to_owned(), t.trim().to_owned());
            }
        }
    }
    let group = text_of(project, "groupId").or_else(|| parent.and_then(|p| text_of(p, "groupId")));
    let version =
        text_of(project, "version").or_else(|| parent.and_then(|p| text_of(p, "version")));
    let artifact = text_of(project, "artifactId");
    for (k, v) in [
        ("project.groupId", &group),
        ("pom.groupId", &group),
        ("project.version", &version),
        ("pom.version", &version),
        ("version", &version),
        ("project.artifactId", &artifact),
    ] {
        if let Some(v) = v {
            props.entry(k.to_owned()).or_insert_with(|| v.clone());
        }
    }
    if let Some(pv) = parent.and_then(|p| text_of(p, "version")) {
        props
            .entry("project.parent.version".to_owned())
            .or_insert(pv.clone());
        props.entry("parent.version".to_owned()).or_insert(pv);
    }
    let mut pom = Pom {
        group: group.as_deref().and_then(|g| resolve(g, &props)),
        artifact: artifact.as_deref().and_then(|a| resolve(a, &props)),
        version: version.as_deref().and_then(|v| resolve(v, &props)),
        ..Pom::default()
    };
    if let Some(deps) = child(project, "dependencies") {
        for d in deps
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "dependency")
        {
            let g = text_of(d, "groupId").and_then(|g| resolve(&g, &props));
            let a = text_of(d, "artifactId").and_then(|a| resolve(&a, &props));
            let (Some(g), Some(a)) = (g, a) else {
                pom.left_out
                    .push("a dependency without groupId or artifactId".to_owned());
                continue;
            };
            let Some(raw) = text_of(d, "version") else {
                pom.left_out.push(format!(
                    "{g}:{a} has no version (a parent or BOM manages it, which customs does not fetch)"
                ));
                continue;
            };
            let Some(v) = resolve(&raw, &props) else {
                pom.left_out.push(format!(
                    "{g}:{a}: version {raw} names a property this POM does not define"
                ));
                continue;
            };
            if v.starts_with(['[', '(']) {
                pom.left_out.push(format!(
                    "{g}:{a}: version range {v} (only a resolver can pick the version)"
                ));
                continue;
            }
            let test = text_of(d, "scope").is_some_and(|s| s == "test");
            pom.dependencies.push(Dependency {
                name: format!("{g}:{a}"),
                version: v,
                test,
            });
        }
    }
    Ok(pom)
}

/// A `pom.xml` on disk: the dependencies it declares with a version (a test-scoped one as
/// dev), without resolving anything over the network. What it leaves out is returned too.
pub(crate) fn parse_pom_file(bytes: &[u8]) -> Result<(Vec<LangPackage>, Vec<String>), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "pom.xml is not UTF-8".to_owned())?;
    let pom = read_pom(text)?;
    let pkgs = pom
        .dependencies
        .into_iter()
        .map(|d| {
            let mut p =
                LangPackage::new(LangEcosystem::Maven, d.name, d.version, Evidence::Lockfile);
            p.dev = d.test;
            p.note = Some("declared in pom.xml".to_owned());
            p
        })
        .collect();
    Ok((pkgs, pom.left_out))
}

/// A Gradle lockfile: `group:artifact:version=configuration,...` lines. A dependency locked
/// only for test configurations is dev.
pub(crate) fn parse_gradle_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "Gradle lockfile is not UTF-8".to_owned())?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coords, configs) = line.split_once('=').unwrap_or((line, ""));
        let mut parts = coords.split(':');
        let (Some(g), Some(a), Some(v), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "line {}: expected group:artifact:version=configurations",
                i + 1
            ));
        };
        if !(usable(g) && usable(a) && usable(v)) {
            return Err(format!("line {}: an empty or unusable coordinate", i + 1));
        }
        let mut p = LangPackage::new(
            LangEcosystem::Maven,
            format!("{g}:{a}"),
            v,
            Evidence::Lockfile,
        );
        p.dev = !configs.is_empty()
            && configs
                .split(',')
                .all(|c| c.trim().starts_with("test") || c.trim().starts_with("androidTest"));
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A jar written by the `zip` crate (central directory and all), stored or deflated.
    fn jar(entries: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let method = if stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn coords(f: &ArchiveFindings) -> Vec<(String, String, Option<String>, String)> {
        f.packages
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.location.clone(),
                    p.note.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn each_source_of_coordinates_in_turn() {
        let props = b"version=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n";
        let j = jar(
            &[
                (
                    "META-INF/MANIFEST.MF",
                    b"Manifest-Version: 1.0\r\nImplementation-Version: 9\r\n",
                ),
                (
                    "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                    props,
                ),
            ],
            false,
        );
        let f = read_archive("app/x-1.0.jar", &j[..]);
        assert_eq!(
            coords(&f),
            [(
                "org.apache.logging.log4j:log4j-core".into(),
                "2.14.1".into(),
                None,
                "coordinates: pom.properties".into()
            )]
        );
        let pom = b"<project><parent><groupId>g.p</groupId><version>3</version></parent>\
            <artifactId>a</artifactId></project>";
        let f = read_archive(
            "x.jar",
            &jar(&[("META-INF/maven/g.p/a/pom.xml", pom)], true)[..],
        );
        assert_eq!(coords(&f)[0].0, "g.p:a");
        assert_eq!(coords(&f)[0].1, "3");
        let mf = b"Manifest-Version: 1.0\nImplementation-Vendor-Id: org.exa\r\n mple\nImplementation-Version: 1.2\n\nName: other\nImplementation-Version: 7\n";
        let f = read_archive(
            "lib/thing-0.9.jar",
            &jar(&[("META-INF/MANIFEST.MF", mf)], false)[..],
        );
        assert_eq!(
            coords(&f),
            [(
                "org.example:thing".into(),
                "1.2".into(),
                None,
                "coordinates: MANIFEST.MF".into()
            )]
        );
        let f = read_archive(
            "lib/commons-io-2.11.0.jar",
            &jar(&[("a.class", b"x")], false)[..],
        );
        assert_eq!(
            coords(&f),
            [(
                "commons-io".into(),
                "2.11.0".into(),
                None,
                "coordinates: file name".into()
            )]
        );
    }

    #[test]
    fn nested_archives_are_read_through_their_parents() {
        let props =
            |g: &str, a: &str, v: &str| format!("groupId={g}\nartifactId={a}\nversion={v}\n");
        let c = jar(
            &[(
                "META-INF/maven/c/c/pom.properties",
                props("c", "c", "3").as_bytes(),
            )],
            false,
        );
        let b = jar(&[("lib/c-3.jar", &c), ("x.class", b"x")], true);
        let a = jar(
            &[
                ("BOOT-INF/lib/b.jar", &b),
                (
                    "META-INF/maven/a/a/pom.properties",
                    props("a", "a", "1").as_bytes(),
                ),
                (
                    "META-INF/maven/s/shaded/pom.properties",
                    props("s", "shaded", "2").as_bytes(),
                ),
            ],
            true,
        );
        let f = read_archive("app.jar", &a[..]);
        let mut got = coords(&f);
        got.sort();
        assert_eq!(
            got.iter()
                .map(|(n, v, l, _)| (n.as_str(), v.as_str(), l.as_deref()))
                .collect::<Vec<_>>(),
            [
                ("a:a", "1", None),
                ("c:c", "3", Some("BOOT-INF/lib/b.jar!/lib/c-3.jar")),
                ("s:shaded", "2", None),
            ]
        );
        assert_eq!(
            f.problems,
            [
                "BOOT-INF/lib/b.jar: no coordinates: no pom.properties, pom.xml, manifest version or versioned file name"
            ]
        );
    }

    #[test]
    fn hostile_archives_cost_only_themselves() {
        let props = b"groupId=g\nartifactId=a\nversion=1\n";
        // Nesting beyond the limit.
        let mut j = jar(&[("META-INF/maven/g/a/pom.properties", props)], false);
        for i in 0..MAX_DEPTH + 2 {
            j = jar(&[(&format!("l{i}.jar"), &j)], true);
        }
        let f = read_archive("deep.jar", &j[..]);
        assert!(f.packages.is_empty());
        assert!(
            f.problems.iter().any(|p| p.contains("nested more than")),
            "{:?}",
            f.problems
        );
        // Traversal names, a bomb, garbage inside, and a good neighbour still read.
        let zeros = vec![0u8; 100 << 20];
        let j = jar(
            &[
                ("../../etc/evil.jar", b"x"),
                ("bomb.jar", &jar(&[("z", &zeros)], false)),
                ("garbage.jar", b"PK\x03\x04 not really"),
                ("META-INF/maven/g/a/pom.properties", props),
            ],
            false,
        );
        let f = read_archive("hostile.jar", &j[..]);
        assert_eq!(coords(&f).len(), 1, "{:?}", f.problems);
        let all = f.problems.join("\n");
        assert!(
            all.contains("../../etc/evil.jar: entry name climbs out"),
            "{all}"
        );
        assert!(all.contains("bomb.jar"), "{all}");
        assert!(all.contains("garbage.jar"), "{all}");
    }

    #[test]
    fn poms_and_gradle_locks_on_disk() {
        let pom = br#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <groupId>com.example</groupId><artifactId>app</artifactId><version>1.0</version>
  <properties><log4j.version>2.14.1</log4j.version></properties>
  <dependencies>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${log4j.version}</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13</version><scope>test</scope></dependency>
    <dependency><groupId>x</groupId><artifactId>managed</artifactId></dependency>
    <dependency><groupId>x</groupId><artifactId>ranged</artifactId><version>[1.0,2.0)</version></dependency>
  </dependencies>
  <dependencyManagement><dependencies><dependency><groupId>no</groupId><artifactId>no</artifactId><version>1</version></dependency></dependencies></dependencyManagement>
</project>"#;
        let (pkgs, left) = parse_pom_file(pom).unwrap();
        let got: Vec<(&str, &str, bool)> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("org.apache.logging.log4j:log4j-core", "2.14.1", false),
                ("junit:junit", "4.13", true)
            ]
        );
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(parse_pom_file(b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><project/>").is_err());
        let lock = b"# This is a Gradle generated file\ncom.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\njunit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath\nempty=annotationProcessor\n";
        let got = parse_gradle_lock(lock).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].name.as_str(), got[0].version.as_str(), got[0].dev),
            ("com.google.guava:guava", "31.1-jre", false)
        );
        assert!(got[1].dev);
        assert!(parse_gradle_lock(b"nonsense line\n").is_err());
    }

    #[test]
    fn file_names() {
        assert_eq!(
            split_file_name("log4j-core-2.14.1.jar"),
            (Some("log4j-core"), Some("2.14.1"))
        );
        assert_eq!(
            split_file_name("guava-31.1-jre.jar"),
            (Some("guava"), Some("31.1-jre"))
        );
        assert_eq!(split_file_name("app.jar"), (Some("app"), None));
        assert_eq!(split_file_name("-1.jar"), (None, Some("1")));
    }

    #[test]
    fn executable_jars_with_a_launch_script() {
        let props = b"groupId=g\nartifactId=a\nversion=1\n";
        let mut j = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".repeat(5000);
        j.extend(jar(&[("META-INF/maven/g/a/pom.properties", props)], false));
        assert_eq!(coords(&read_archive("run.jar", &j[..])).len(), 1);
        // A jmod's header.
        let mut m = b"JM\x01\x00".to_vec();
        m.extend(jar(&[("META-INF/maven/g/a/pom.properties", props)], false));
        assert_eq!(coords(&read_archive("x.jmod", &m[..])).len(), 1);
    }
}
