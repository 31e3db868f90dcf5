//! Python (PyPI) packages: installed core metadata and declared pins.
//!
//! Installed ([`Evidence::Installed`]), wherever they are (site-packages, dist-packages,
//! `pip install --target` dirs, venvs):
//! - `NAME-VER.dist-info/METADATA`: wheels (the binary distribution format spec).
//! - `NAME.egg-info/PKG-INFO`: setuptools; `NAME.egg/EGG-INFO/PKG-INFO`: unzipped eggs.
//! - `NAME-VER-pyX.Y.egg-info` as a *file*: distutils' `install_egg_info` (Debian's
//!   `python3-*` packages and old CPython installs have them).
//!
//! All are core metadata: RFC 822 headers (`Name:`, `Version:`, ...), a blank line, then the
//! description as the body, which is never read. Header values may be in any encoding in old
//! files (Latin-1 author names), so the bytes are read leniently.
//!
//! Declared ([`Evidence::Lockfile`]):
//! - `requirements*.txt`: only exact pins (`name==1.0`, `name[extra]==1.0`, `name===1.0`)
//!   count; ranges, URLs, paths, editables and option lines (`-r`, `-c`, `-e`, `--index-url`)
//!   are skipped; markers (`; python_version < "3"`) are not evaluated, per-requirement
//!   options (`--hash=...`) are dropped, and comments and `\` continuations follow pip's rules.
//! - `poetry.lock`: `[[package]]` name and version. Dev: poetry < 1.5 writes
//!   `category = "dev"`; poetry 2 writes `groups`, and a package none of whose groups is `main`
//!   is dev (the other groups are not installed by `poetry install --only main`). Poetry
//!   1.5 to 1.8 write neither, and the lockfile alone cannot tell: those packages are not dev.
//! - `Pipfile.lock`: `default` and `develop` (dev), versions `==1.2.3`; entries without a
//!   version (git, path, editable) are skipped, as is a `develop` entry also in `default`.
//! - `uv.lock`: `[[package]]`; the project and workspace members (`source = { editable }` or
//!   `{ virtual }`) are skipped. Dev: reachable from the members' `dev-dependencies` and not
//!   from their `dependencies` or `optional-dependencies` (followed by name, so a package
//!   locked at two versions gets one answer for both).
//!
//! Declared files inside installed trees (`site-packages/`, `dist-packages/`,
//! `node_modules/`) are a package's own test data or build leftovers, not what the image
//! declares, and are not wanted. Non-registry sources are kept in `note`: `git+URL#REV`,
//! `path:DIR`, `url:URL`, and `index:URL` for an index other than PyPI.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Deserialize;

use super::{Evidence, LangEcosystem, LangPackage};

const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// Whether `path` (relative to the image root, normalised, no leading '/') is a file this
/// module parses. It cannot tell a file from a directory (a `*.egg-info` name is both): the
/// caller offers regular files only.
pub(crate) fn wants(path: &str) -> bool {
    let mut segs = path.rsplit('/');
    let file = segs.next().unwrap_or_default();
    let parent = segs.next().unwrap_or_default();
    match file {
        "METADATA" => has_stem(parent, ".dist-info"),
        "PKG-INFO" => {
            has_stem(parent, ".egg-info")
                || (parent == "EGG-INFO" && has_stem(segs.next().unwrap_or_default(), ".egg"))
        }
        _ if has_stem(file, ".egg-info") => true,
        _ => is_declared(file) && !path.split('/').any(is_installed_tree),
    }
}

/// Parses one file `wants` accepted, dispatching on its name.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file {
        "METADATA" | "PKG-INFO" => parse_core_metadata(bytes).map(|p| vec![p]),
        _ if file.ends_with(".egg-info") => parse_core_metadata(bytes).map(|p| vec![p]),
        "poetry.lock" => parse_poetry_lock(utf8(bytes)?),
        "Pipfile.lock" => parse_pipfile_lock(bytes),
        "uv.lock" => parse_uv_lock(utf8(bytes)?),
        _ if is_requirements(file) => Ok(parse_requirements(utf8(bytes)?)),
        _ => Err(format!(
            "{file:?} is not a Python metadata file or lockfile"
        )),
    }
}

fn has_stem(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len() && name.ends_with(suffix)
}

fn is_requirements(file: &str) -> bool {
    file.starts_with("requirements") && file.ends_with(".txt")
}

fn is_declared(file: &str) -> bool {
    matches!(file, "poetry.lock" | "Pipfile.lock" | "uv.lock") || is_requirements(file)
}

fn is_installed_tree(seg: &str) -> bool {
    matches!(seg, "site-packages" | "dist-packages" | "node_modules")
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn pypi(name: &str, version: &str, evidence: Evidence) -> LangPackage {
    LangPackage::new(LangEcosystem::PyPI, name, version, evidence)
}

// ---------------------------------------------------------------- core metadata

/// A header value that says nothing: setuptools writes `UNKNOWN` for an unset field.
fn known(v: String) -> Option<String> {
    (!v.is_empty() && v != "UNKNOWN").then_some(v)
}

/// A `License:` value longer than this, or folded over lines, is the licence's text, not its
/// name (older setuptools put whole files there).
const MAX_LICENSE_NAME: usize = 120;

/// `Name:` and `Version:` from the RFC 822 headers, which end at the first blank line; with
/// the licence (`License-Expression`, else a short `License`, else the `License ::`
/// classifiers) and the author (`Author`, `Author-email`, `Maintainer`, `Maintainer-email`).
fn parse_core_metadata(bytes: &[u8]) -> Result<LangPackage, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (mut name, mut version) = (None, None);
    let (mut expression, mut license, mut classifiers) = (None, None, Vec::new());
    let mut folded_license = false;
    let mut authors: [Option<String>; 4] = [None, None, None, None];
    let mut last_was_license = false;
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            break; // End of the headers: the body is the description.
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // A folded continuation of the previous header.
            folded_license |= last_was_license;
            continue;
        }
        last_was_license = false;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = || {
            String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_owned()
        };
        let key = &line[..colon];
        if name.is_none() && key.eq_ignore_ascii_case(b"Name") {
            name = Some(value());
        } else if version.is_none() && key.eq_ignore_ascii_case(b"Version") {
            version = Some(value());
        } else if key.eq_ignore_ascii_case(b"License-Expression") {
            expression = expression.or_else(|| known(value()));
        } else if key.eq_ignore_ascii_case(b"License") {
            last_was_license = true;
            license = license.or_else(|| known(value()));
        } else if key.eq_ignore_ascii_case(b"Classifier") {
            let v = value();
            if let Some(rest) = v.strip_prefix("License ::") {
                let last = rest.rsplit("::").next().unwrap_or("").trim();
                if !last.is_empty() && last != "OSI Approved" && classifiers.len() < 16 {
                    classifiers.push(last.to_owned());
                }
            }
        } else {
            for (i, k) in ["Author", "Author-email", "Maintainer", "Maintainer-email"]
                .iter()
                .enumerate()
            {
                if key.eq_ignore_ascii_case(k.as_bytes()) && authors[i].is_none() {
                    authors[i] = known(value());
                }
            }
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("no Name: header before the first blank line")?;
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or("no Version: header before the first blank line")?;
    let mut pkg = pypi(&name, &version, Evidence::Installed);
    let license = license.filter(|l| !folded_license && l.len() <= MAX_LICENSE_NAME);
    pkg.licenses = match (expression, license) {
        (Some(e), _) => vec![e],
        (None, Some(l)) => vec![l],
        (None, None) => classifiers,
    };
    pkg.author = authors.into_iter().flatten().next();
    Ok(pkg)
}

// ---------------------------------------------------------------- requirements.txt

/// Exact pins of a requirements file. Never fails: what is not a pin is skipped.
fn parse_requirements(text: &str) -> Vec<LangPackage> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        // pip joins `\` continuations first, except that a comment line ends the join.
        if let Some(head) = line.strip_suffix('\\')
            && comment_start(line).is_none()
        {
            logical.push_str(head);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        out.extend(requirement_pin(&logical));
        logical.clear();
    }
    out.extend(requirement_pin(&logical));
    out
}

/// Where a comment starts: `#` at the start of the line or after whitespace (so that
/// `url#egg=name` is not one).
fn comment_start(line: &str) -> Option<usize> {
    line.match_indices('#')
        .map(|(i, _)| i)
        .find(|&i| i == 0 || line[..i].ends_with(char::is_whitespace))
}

fn requirement_pin(line: &str) -> Option<LangPackage> {
    let line = &line[..comment_start(line).unwrap_or(line.len())];
    // As pip does: the requirement is the tokens before the first option (`--hash=...`).
    let req: Vec<&str> = line
        .split_whitespace()
        .take_while(|t| !t.starts_with('-'))
        .collect();
    let req = req.join(" ");
    // Markers are not evaluated: the pin is declared, whatever the platform.
    let spec = req.split(';').next().unwrap_or_default().trim();
    let name_len = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let (name, mut rest) = spec.split_at(name_len);
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None; // A path, URL or archive, not a named requirement.
    }
    rest = rest.trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        rest = extras.split_once(']')?.1.trim_start();
    }
    // The old parenthesised form: `name (==1.0)`.
    if let Some(inner) = rest.strip_prefix('(') {
        rest = inner.strip_suffix(')')?.trim();
    }
    let version = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))?
        .trim();
    let version_ok = !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '-' | '_'));
    version_ok.then(|| pypi(name, version, Evidence::Lockfile))
}

// ---------------------------------------------------------------- poetry.lock

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    category: Option<String>,
    groups: Option<Vec<String>>,
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

fn parse_poetry_lock(text: &str) -> Result<Vec<LangPackage>, String> {
    let lock: PoetryLock = toml::from_str(text).map_err(|e| format!("poetry.lock: {e}"))?;
    Ok(lock
        .package
        .into_iter()
        .map(|p| {
            let mut pkg = pypi(&p.name, &p.version, Evidence::Lockfile);
            pkg.dev = match (&p.category, &p.groups) {
                (Some(category), _) => category == "dev",
                (None, Some(groups)) => !groups.is_empty() && !groups.iter().any(|g| g == "main"),
                (None, None) => false,
            };
            pkg.note = p.source.and_then(|s| {
                let url = s.url?;
                match s.kind.as_deref()? {
                    "git" => {
                        let rev = s.resolved_reference.or(s.reference).unwrap_or_default();
                        Some(format!("git+{url}#{rev}"))
                    }
                    "directory" | "file" => Some(format!("path:{url}")),
                    "url" => Some(format!("url:{url}")),
                    _ => index_note(&url),
                }
            });
            pkg
        })
        .collect())
}

fn index_note(url: &str) -> Option<String> {
    (url.trim_end_matches('/') != PYPI_SIMPLE).then(|| format!("index:{url}"))
}

// ---------------------------------------------------------------- Pipfile.lock

fn parse_pipfile_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc: serde_json::Value = serde_json::from_slice(utf8(bytes)?.as_bytes())
        .map_err(|e| format!("Pipfile.lock: {e}"))?;
    let doc = doc.as_object().ok_or("Pipfile.lock: not a JSON object")?;
    let mut out = Vec::new();
    let mut runtime = BTreeSet::new();
    for (section, dev) in [("default", false), ("develop", true)] {
        let Some(entries) = doc.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (name, entry) in entries {
            let Some(pin) = entry.get("version").and_then(|v| v.as_str()) else {
                continue; // git, path or editable: no version recorded.
            };
            let version = pin.trim_start_matches('=').trim();
            if version.is_empty() {
                continue;
            }
            let key = (crate::inventory::pep503(name), version.to_owned());
            if dev && runtime.contains(&key) {
                continue;
            }
            if !dev {
                runtime.insert(key);
            }
            let mut pkg = pypi(name, version, Evidence::Lockfile);
            pkg.dev = dev;
            out.push(pkg);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- uv.lock

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: UvSource,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<UvDep>>,
}

#[derive(Default, Deserialize)]
struct UvSource {
    registry: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_: Option<String>,
    git: Option<String>,
    directory: Option<String>,
    path: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
}

impl UvPackage {
    fn is_member(&self) -> bool {
        self.source.editable.is_some() || self.source.virtual_.is_some()
    }
}

fn parse_uv_lock(text: &str) -> Result<Vec<LangPackage>, String> {
    let lock: UvLock = toml::from_str(text).map_err(|e| format!("uv.lock: {e}"))?;
    let mut by_name: HashMap<&str, Vec<&UvPackage>> = HashMap::new();
    for p in &lock.package {
        by_name.entry(p.name.as_str()).or_default().push(p);
    }
    let members = lock.package.iter().filter(|p| p.is_member());
    let (mut prod_roots, mut dev_roots) = (Vec::new(), Vec::new());
    for m in members {
        prod_roots.extend(m.dependencies.iter());
        prod_roots.extend(m.optional_dependencies.values().flatten());
        dev_roots.extend(m.dev_dependencies.values().flatten());
    }
    let prod = uv_reach(&by_name, prod_roots);
    let dev = uv_reach(&by_name, dev_roots);
    let mut out = Vec::new();
    for p in &lock.package {
        let Some(version) = p.version.as_deref().filter(|_| !p.is_member()) else {
            continue;
        };
        let mut pkg = pypi(&p.name, version, Evidence::Lockfile);
        pkg.dev = dev.contains(p.name.as_str()) && !prod.contains(p.name.as_str());
        let s = &p.source;
        pkg.note = if let Some(git) = &s.git {
            Some(format!("git+{git}"))
        } else if let Some(dir) = s.directory.as_ref().or(s.path.as_ref()) {
            Some(format!("path:{dir}"))
        } else if let Some(url) = &s.url {
            Some(format!("url:{url}"))
        } else {
            s.registry.as_deref().and_then(index_note)
        };
        out.push(pkg);
    }
    Ok(out)
}

/// The names reachable from `roots` through `dependencies` and `optional-dependencies` (all
/// extras: which ones are requested is not worth resolving for a dev flag).
fn uv_reach<'a>(
    by_name: &HashMap<&'a str, Vec<&'a UvPackage>>,
    roots: Vec<&'a UvDep>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&str> = roots.iter().map(|d| d.name.as_str()).collect();
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name) {
            continue;
        }
        for p in by_name.get(name).into_iter().flatten() {
            let deps = p.dependencies.iter();
            let extras = p.optional_dependencies.values().flatten();
            queue.extend(deps.chain(extras).map(|d| d.name.as_str()));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lang/python");

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{FIXTURES}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// `../shared` (or `$CUSTOMS_SHARED`), where the debian-app fixture sources live.
    fn shared(rel: &str) -> Vec<u8> {
        let root = std::env::var("CUSTOMS_SHARED")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_owned());
        let path = format!("{root}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path} (set CUSTOMS_SHARED): {e}"))
    }

    #[test]
    fn metadata_licence_and_author() {
        let jinja = parse_core_metadata(&fixture(
            "debian-app/site-packages/Jinja2-2.11.2.dist-info/METADATA",
        ))
        .unwrap();
        assert_eq!(jinja.licenses, ["BSD-3-Clause"]);
        assert_eq!(jinja.author.as_deref(), Some("Armin Ronacher"));
        let m = |s: &str| parse_core_metadata(s.as_bytes()).unwrap();
        // PEP 639's expression wins; a License that is the licence's text is not a name.
        let p = m("Name: a\nVersion: 1\nLicense: MIT\nLicense-Expression: MIT OR Apache-2.0\n");
        assert_eq!(p.licenses, ["MIT OR Apache-2.0"]);
        let p = m(
            "Name: a\nVersion: 1\nLicense: Copyright (c) someone\n        Permission is hereby granted\nClassifier: License :: OSI Approved :: MIT License\nAuthor: UNKNOWN\nMaintainer-email: m@example.org\n",
        );
        assert_eq!(p.licenses, ["MIT License"]);
        assert_eq!(p.author.as_deref(), Some("m@example.org"));
        let p = m("Name: a\nVersion: 1\nLicense: UNKNOWN\n");
        assert!(p.licenses.is_empty() && p.author.is_none());
    }

    /// (name, version, dev) triples, for compact assertions.
    fn triples(pkgs: &[LangPackage]) -> Vec<(&str, &str, bool)> {
        pkgs.iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.dev))
            .collect()
    }

    /// The ten packages planted in the debian-app image (its expected.json).
    const DEBIAN_APP: [(&str, &str); 10] = [
        ("requests", "2.25.1"),
        ("urllib3", "1.26.4"),
        ("idna", "2.10"),
        ("chardet", "4.0.0"),
        ("certifi", "2020.12.5"),
        ("Jinja2", "2.11.2"),
        ("MarkupSafe", "2.1.3"),
        ("cryptography", "3.3.1"),
        ("cffi", "1.15.1"),
        ("pycparser", "2.21"),
    ];

    #[test]
    fn wants_only_metadata_and_lockfiles() {
        for yes in [
            "usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA",
            "app/python/site-packages/Jinja2-2.11.2.dist-info/METADATA",
            "opt/venv/lib/python3.11/site-packages/foo.egg-info/PKG-INFO",
            "usr/lib/python2.7/site-packages/foo-1.0-py2.7.egg/EGG-INFO/PKG-INFO",
            "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
            "usr/lib/python2.7/wsgiref.egg-info",
            "app/requirements.txt",
            "requirements-dev.txt",
            "srv/app/poetry.lock",
            "srv/app/Pipfile.lock",
            "srv/app/uv.lock",
        ] {
            assert!(wants(yes), "{yes}");
        }
        for no in [
            "METADATA",
            "usr/lib/foo/METADATA",
            "x/.dist-info/METADATA",
            "x/foo.dist-info/RECORD",
            "x/foo.dist-info/METADATA.bak",
            "x/PKG-INFO",
            "x/foo-1.0/PKG-INFO",
            "x/EGG-INFO/PKG-INFO",
            "x/.egg-info",
            "app/requirements.in",
            "app/dev-requirements.txt",
            "app/Pipfile",
            "app/pyproject.toml",
            "usr/lib/python3/dist-packages/foo/requirements.txt",
            "venv/lib/python3.11/site-packages/pkg/tests/poetry.lock",
            "app/node_modules/x/requirements.txt",
        ] {
            assert!(!wants(no), "{no}");
        }
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(crate::inventory::pep503("Jinja2"), "jinja2");
        assert_eq!(crate::inventory::pep503("zope.interface"), "zope-interface");
        assert_eq!(crate::inventory::pep503("Foo__Bar-._baz"), "foo-bar-baz");
        assert_eq!(crate::inventory::pep503("_x_"), "-x-");
        assert_eq!(crate::inventory::pep503(""), "");
    }

    #[test]
    fn debian_app_dist_info() {
        let mut found = Vec::new();
        for (name, version) in DEBIAN_APP {
            let path = format!("debian-app/site-packages/{name}-{version}.dist-info/METADATA");
            assert!(wants(&format!("app/python/{path}")));
            let pkgs = parse(&path, &fixture(&path)).unwrap();
            assert_eq!(pkgs.len(), 1);
            assert_eq!(pkgs[0].evidence, Evidence::Installed);
            assert_eq!(pkgs[0].ecosystem, LangEcosystem::PyPI);
            assert_eq!(pkgs[0].location, None);
            found.push((pkgs[0].name.clone(), pkgs[0].version.clone()));
        }
        let want: Vec<_> = DEBIAN_APP
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(found, want);
    }

    #[test]
    fn debian_app_requirements() {
        let pkgs = parse(
            "app/python/requirements.txt",
            &shared("tools/fixtures/app/python/requirements.txt"),
        )
        .unwrap();
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, DEBIAN_APP);
        assert!(
            pkgs.iter()
                .all(|p| p.evidence == Evidence::Lockfile && !p.dev)
        );
    }

    #[test]
    fn egg_info_dir_and_file() {
        let p = parse(
            "usr/lib/python3/dist-packages/crcmod-1.7.egg-info/PKG-INFO",
            &fixture("egg-info/crcmod-1.7.egg-info/PKG-INFO"),
        )
        .unwrap();
        assert_eq!(triples(&p), [("crcmod", "1.7", false)]);
        let p = parse(
            "usr/lib/python2.7/wsgiref.egg-info",
            &fixture("egg-info/wsgiref.egg-info"),
        )
        .unwrap();
        assert_eq!(triples(&p), [("wsgiref", "0.1.2", false)]);
        assert_eq!(p[0].evidence, Evidence::Installed);
    }

    #[test]
    fn core_metadata_edges() {
        let meta = |s: &str| parse_core_metadata(s.as_bytes());
        // CRLF, a folded header, case-insensitive keys, first occurrence wins.
        let p = meta("Metadata-Version: 2.1\r\nSummary: a\r\n  Name: folded\r\nname: Foo.Bar\r\nVERSION: 1.0rc1\r\nVersion: 9\r\n\r\nName: body\r\n").unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("Foo.Bar", "1.0rc1"));
        // The body is never read.
        assert!(meta("Metadata-Version: 2.1\nName: x\n\nVersion: 1.0\n").is_err());
        assert!(meta("Name: x\n").is_err());
        assert!(meta("Version: 1\n").is_err());
        assert!(meta("Name:\nVersion: 1\n").is_err());
        assert!(meta("").is_err());
        // Latin-1 is read leniently.
        let latin1: &[u8] = b"Author: Ren\xe9\nName: caf\xe9\nVersion: 2\n";
        assert_eq!(parse_core_metadata(latin1).unwrap().name, "caf\u{fffd}");
    }

    #[test]
    fn requirements_generated_with_hashes() {
        // `uv pip compile --generate-hashes`: continuations, `--hash`, `# via` comments.
        let pkgs = parse(
            "requirements.txt",
            &fixture("requirements/requirements.txt"),
        )
        .unwrap();
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("certifi", "2026.10.19.post1"),
                ("chardet", "4.0.0"),
                ("idna", "2.10"),
                ("jinja2", "2.11.2"),
                ("markupsafe", "3.0.4"),
                ("pysocks", "1.7.1"),
                ("requests", "2.25.1"),
                ("six", "1.16.0"),
                ("urllib3", "1.26.20"),
            ]
        );
    }

    #[test]
    fn requirements_edges() {
        // Hand-written: every line kind pip accepts.
        let text = "\
# comment
-r base.txt
--requirement other.txt
-c constraints.txt
-i https://pypi.example/simple
--extra-index-url https://x.example/simple
-e git+https://github.com/x/y.git#egg=y
-e .
./local/pkg
/abs/path/pkg.whl
https://example.com/pkg-1.0.tar.gz#egg=pkg
pkg-url @ https://example.com/pkg-1.0.tar.gz
requests[security,socks]==2.25.1  # pinned
Django == 3.2.1
zope.interface===5.4.0
six==1.16.0 ; python_version < \"3\"
futures==3.3.0; python_version<'3'
cryptography==3.3.1 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
numpy>=1.20
scipy==1.*
pandas==1.3.0,!=1.3.1
pytest~=6.0
old-style (==0.9)
flask
PyYAML==5.4.1 \\
  # a comment line ends the continuation
ujson==${UJSON_VERSION}
torch==1.9.0+cpu
";
        let pkgs = parse_requirements(text);
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("requests", "2.25.1"),
                ("Django", "3.2.1"),
                ("zope.interface", "5.4.0"),
                ("six", "1.16.0"),
                ("futures", "3.3.0"),
                ("cryptography", "3.3.1"),
                ("old-style", "0.9"),
                ("PyYAML", "5.4.1"),
                ("torch", "1.9.0+cpu"),
            ]
        );
        assert!(parse("requirements.txt", b"\xff\xfe").is_err());
        assert!(parse("requirements.txt", b"").unwrap().is_empty());
        assert!(parse("requirements.txt", b"\\").unwrap().is_empty());
    }

    #[test]
    fn poetry_category_groups_and_neither() {
        let runtime = [
            ("certifi", "2026.10.19.post1"),
            ("chardet", "4.0.0"),
            ("idna", "2.10"),
            ("jinja2", "2.11.2"),
            ("markupsafe", "2.1.3"),
            ("requests", "2.25.1"),
        ];
        let want = |six_dev: bool| {
            let mut w: Vec<_> = runtime.iter().map(|(n, v)| (*n, *v, false)).collect();
            w.push(("six", "1.16.0", six_dev));
            w.push(("urllib3", "1.26.20", false));
            w
        };
        // Poetry 1.4: `category`.
        let p = parse("poetry.lock", &fixture("poetry-1.4/poetry.lock")).unwrap();
        assert_eq!(triples(&p), want(true));
        // Poetry 1.8: neither `category` nor `groups`: nothing is known to be dev.
        let p = parse("poetry.lock", &fixture("poetry-1.8/poetry.lock")).unwrap();
        assert_eq!(triples(&p), want(false));
        // Poetry 2: `groups` (idna is in ["main", "dev"]).
        let p = parse("poetry.lock", &fixture("poetry-2/poetry.lock")).unwrap();
        assert_eq!(triples(&p), want(true));
        assert!(p.iter().all(|p| p.evidence == Evidence::Lockfile));
        // The fixtures' source is PyPI's simple index: no note.
        assert!(p.iter().all(|p| p.note.is_none()), "{p:?}");
    }

    #[test]
    fn poetry_sources_and_errors() {
        let text = r#"
[[package]]
name = "mylib"
version = "0.1.0"
groups = ["docs"]
[package.source]
type = "git"
url = "https://github.com/x/mylib.git"
reference = "main"
resolved_reference = "0123abc"

[[package]]
name = "local"
version = "1.0"
groups = []
[package.source]
type = "directory"
url = "../local"

[[package]]
name = "private"
version = "2.0"
[package.source]
type = "legacy"
url = "https://pypi.corp.example/simple"
reference = "corp"
"#;
        let p = parse_poetry_lock(text).unwrap();
        assert_eq!(
            triples(&p),
            [
                ("mylib", "0.1.0", true),
                ("local", "1.0", false),
                ("private", "2.0", false)
            ]
        );
        let notes: Vec<_> = p.iter().map(|p| p.note.as_deref().unwrap()).collect();
        assert_eq!(
            notes,
            [
                "git+https://github.com/x/mylib.git#0123abc",
                "path:../local",
                "index:https://pypi.corp.example/simple"
            ]
        );
        assert!(parse_poetry_lock("").unwrap().is_empty());
        assert!(parse_poetry_lock("[[package]]\nname = \"x\"\n").is_err());
        assert!(parse_poetry_lock("[[package]\n").is_err());
    }

    #[test]
    fn pipfile_lock() {
        let p = parse("Pipfile.lock", &fixture("pipenv/Pipfile.lock")).unwrap();
        assert_eq!(
            triples(&p),
            [
                ("certifi", "2026.10.19.post1", false),
                ("chardet", "4.0.0", false),
                ("idna", "2.10", false),
                ("jinja2", "2.11.2", false),
                ("markupsafe", "2.1.3", false),
                ("requests", "2.25.1", false),
                ("urllib3", "1.26.20", false),
                // idna is in `develop` too, at the same version: reported once, not dev.
                ("six", "1.16.0", true),
            ]
        );
        let edge = br#"{"default": {"y": {"git": "https://x/y.git", "ref": "abc"},
            "z": {"editable": true, "path": "."}, "w": {"version": "==1.0"}},
            "develop": {"W": {"version": "==2.0"}}}"#;
        assert_eq!(
            triples(&parse_pipfile_lock(edge).unwrap()),
            [("w", "1.0", false), ("W", "2.0", true)]
        );
        assert!(parse_pipfile_lock(b"[1]").is_err());
        assert!(parse_pipfile_lock(b"{\"default\": {").is_err());
        assert!(parse_pipfile_lock(b"{}").unwrap().is_empty());
    }

    #[test]
    fn uv_lock_editable_project() {
        let p = parse("uv.lock", &fixture("uv/uv.lock")).unwrap();
        assert_eq!(
            triples(&p),
            [
                ("certifi", "2026.10.19.post1", false),
                ("chardet", "4.0.0", false),
                ("idna", "2.10", false), // dev group, and a dependency of requests
                ("jinja2", "2.11.2", false),
                ("markupsafe", "2.1.3", false),
                ("requests", "2.25.1", false),
                ("six", "1.16.0", true),
                ("urllib3", "1.26.20", false),
            ]
        );
        assert!(p.iter().all(|p| p.note.is_none()));
    }

    #[test]
    fn uv_lock_virtual_project_transitive_dev() {
        let p = parse("uv.lock", &fixture("uv-virtual/uv.lock")).unwrap();
        let dev: Vec<_> = p
            .iter()
            .filter(|p| p.dev)
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(dev, ["python-dateutil", "six"]);
        assert!(!p.iter().any(|p| p.name == "virtual-sample"));
        assert_eq!(p.len(), 9);
    }

    #[test]
    fn uv_lock_sources_and_errors() {
        let text = r#"
version = 1
[[package]]
name = "member"
version = "0.2.0"
source = { editable = "packages/member" }
dependencies = [{ name = "g" }, { name = "u" }]
[[package]]
name = "g"
version = "1.0"
source = { git = "https://github.com/x/g?rev=v1#0123abc" }
[[package]]
name = "u"
version = "2.0"
source = { registry = "https://pypi.corp.example/simple/" }
[[package]]
name = "cyclic"
version = "3.0"
source = { path = "dist/cyclic-3.0.whl" }
dependencies = [{ name = "cyclic" }]
[[package]]
name = "dynamic"
source = { directory = "../dynamic" }
"#;
        let p = parse_uv_lock(text).unwrap();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.note.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                ("g", "git+https://github.com/x/g?rev=v1#0123abc"),
                ("u", "index:https://pypi.corp.example/simple/"),
                ("cyclic", "path:dist/cyclic-3.0.whl"),
            ]
        );
        assert!(parse_uv_lock("[[package]]\nversion = \"1\"\n").is_err());
        assert!(parse_uv_lock("version = ").is_err());
    }

    #[test]
    fn hostile_input_never_panics() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for name in [
            "x.dist-info/METADATA",
            "x.egg-info/PKG-INFO",
            "x.egg-info",
            "requirements.txt",
            "poetry.lock",
            "Pipfile.lock",
            "uv.lock",
        ] {
            let _ = parse(name, &garbage);
            let _ = parse(name, b"");
            let _ = parse(name, &garbage[..7]);
        }
        // Deep nesting: the TOML and JSON parsers bound their recursion.
        let deep_toml = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse("uv.lock", deep_toml.as_bytes()).is_err());
        assert!(parse("poetry.lock", deep_toml.as_bytes()).is_err());
        let deep_json = format!("{{\"default\": {}", "[".repeat(100_000));
        assert!(parse("Pipfile.lock", deep_json.as_bytes()).is_err());
        assert!(parse("setup.py", b"").is_err());
    }
}
