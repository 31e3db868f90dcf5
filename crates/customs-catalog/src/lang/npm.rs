//! npm packages: installed manifests and the lockfiles of npm, yarn and pnpm.
//!
//! Installed ([`Evidence::Installed`]): `node_modules/NAME/package.json` and
//! `node_modules/@SCOPE/NAME/package.json`, at any depth of `node_modules` nesting (and
//! through pnpm's `node_modules/.pnpm/ID/node_modules/` store), but only a package's own
//! manifest: everything between one `node_modules` and the next must be a package folder, so
//! `node_modules/x/lib/package.json` and `node_modules/x/test/node_modules/y/package.json`
//! (test fixtures) are not wanted. A manifest without a string `name` and `version` is
//! skipped. A folder name other than the manifest's name is an alias (`"foo": "npm:lodash@4"`
//! installs lodash in `node_modules/foo`).
//!
//! Lockfiles ([`Evidence::Lockfile`]); those inside `node_modules` are a dependency's own and
//! describe nothing installed, so they are not wanted:
//! - `package-lock.json` / `npm-shrinkwrap.json` v2 and v3: the `packages` map, keyed by
//!   install path (kept as `location`). The root `""` and workspace folders are the project;
//!   `link: true` entries are reported with their target's name and version. `dev: true` is
//!   dev; `devOptional` is not (it marks what is both a dev dependency and an optional
//!   dependency of a production one, which `--omit=dev` still installs).
//! - v1 (and v2 without `packages`): the nested `dependencies` tree, walked without
//!   recursion and refused past [`MAX_V1_DEPTH`] levels; `file:` (local) versions are skipped.
//! - `yarn.lock` v1 (yarn's own format) and berry (YAML with `__metadata`): yarn records no
//!   dev flag. Berry's workspaces and local `link:`/`portal:` packages are skipped.
//! - `pnpm-lock.yaml` 5.x (`/name/1.0.0_peer@1`), 6.x (`/name@1.0.0(peer@1)`) with their `dev`
//!   field, and 9.x (`name@1.0.0` in `packages`), whose dev flag is computed: reachable from
//!   the importers' `devDependencies` through `snapshots` and not from their `dependencies` or
//!   `optionalDependencies`.
//!
//! Aliases are reported under the real package's name and version, with
//! `note = "alias:<the name it is installed or declared under>"`.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Map, Value};

use super::{Evidence, LangEcosystem, LangPackage};

/// Levels of package-lock v1 `dependencies` nesting accepted (serde_json stops at 128 levels
/// of JSON first, about 63 of these).
const MAX_V1_DEPTH: usize = 64;

/// Whether `path` (relative to the image root, normalised, no leading '/') is a file this
/// module parses.
pub(crate) fn wants(path: &str) -> bool {
    match path.rsplit('/').next().unwrap_or(path) {
        "package.json" => installed_folder(path).is_some(),
        "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => {
            !path.split('/').any(|s| s == "node_modules")
        }
        _ => false,
    }
}

/// Parses one file `wants` accepted, dispatching on its name.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    match path.rsplit('/').next().unwrap_or(path) {
        "package.json" => parse_manifest(path, bytes),
        "package-lock.json" | "npm-shrinkwrap.json" => parse_package_lock(bytes),
        "yarn.lock" => {
            let text = utf8(bytes)?;
            if text.lines().any(|l| l.starts_with("__metadata:")) {
                parse_yarn_berry(text)
            } else {
                Ok(parse_yarn_v1(text))
            }
        }
        "pnpm-lock.yaml" => parse_pnpm_lock(utf8(bytes)?),
        file => Err(format!("{file:?} is not an npm manifest or lockfile")),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

fn npm(name: &str, version: &str, evidence: Evidence) -> LangPackage {
    LangPackage::new(LangEcosystem::Npm, name, version, evidence)
}

fn alias_note(real: &str, alias: &str) -> Option<String> {
    (real != alias).then(|| format!("alias:{alias}"))
}

/// `name@rest` split at the `@` after the name (a scope's leading `@` is part of the name).
fn split_at_name(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some((&spec[..at], &spec[at + 1..]))
}

fn str_field<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    entry.get(key)?.as_str().filter(|s| !s.is_empty())
}

fn flag(entry: &Map<String, Value>, key: &str) -> bool {
    entry.get(key).and_then(Value::as_bool) == Some(true)
}

// ---------------------------------------------------------------- installed package.json

/// For `.../node_modules/[@scope/]name/package.json` whose every folder after the first
/// `node_modules` is a package folder, that folder's name (`@scope/name`).
fn installed_folder(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    let end = segs.len().checked_sub(1)?; // index of "package.json"
    let mut i = segs.iter().position(|s| *s == "node_modules")? + 1;
    let valid = |s: &str| !s.is_empty() && !s.starts_with(['.', '_']) && s != "node_modules";
    loop {
        // segs[i - 1] is "node_modules".
        if i >= end {
            return None;
        }
        if matches!(segs[i], ".pnpm" | ".store") {
            // A package store: node_modules/.pnpm/<id>/node_modules/<package>.
            if i + 2 < end && segs[i + 2] == "node_modules" {
                i += 3;
                continue;
            }
            return None;
        }
        let name = if let Some(scope) = segs[i].strip_prefix('@') {
            if !valid(scope) || i + 1 >= end || !valid(segs[i + 1]) {
                return None;
            }
            i += 2;
            format!("{}/{}", segs[i - 2], segs[i - 1])
        } else {
            if !valid(segs[i]) {
                return None;
            }
            i += 1;
            segs[i - 1].to_owned()
        };
        if i == end {
            return Some(name);
        }
        if segs[i] != "node_modules" {
            return None;
        }
        i += 1;
    }
}

fn parse_manifest(path: &str, bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc: Value =
        serde_json::from_slice(strip_bom(bytes)).map_err(|e| format!("package.json: {e}"))?;
    let doc = doc.as_object().ok_or("package.json: not a JSON object")?;
    let (Some(name), Some(version)) = (str_field(doc, "name"), str_field(doc, "version")) else {
        return Ok(Vec::new());
    };
    let mut pkg = npm(name, version, Evidence::Installed);
    pkg.note = installed_folder(path).and_then(|folder| alias_note(name, &folder));
    pkg.licenses = manifest_licenses(doc);
    pkg.author = match doc.get("author") {
        // `Name <email> (url)`, or an object with a name.
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => str_field(o, "name"),
        _ => None,
    }
    .map(str::trim)
    .filter(|s| !s.is_empty() && s.len() <= 200)
    .map(str::to_owned);
    Ok(vec![pkg])
}

/// `license` as an SPDX expression, or the deprecated `{type}` object and `licenses` array
/// older packages still carry.
fn manifest_licenses(doc: &Map<String, Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Object(o) => str_field(o, "type").map(|s| s.trim().to_owned()),
        _ => None,
    };
    let mut out: Vec<String> = Vec::new();
    match (doc.get("license"), doc.get("licenses")) {
        (Some(v), _) => out.extend(one(v)),
        (None, Some(Value::Array(a))) => out.extend(a.iter().take(16).filter_map(one)),
        _ => {}
    }
    out.retain(|l| !l.is_empty() && l.len() <= 200);
    out
}

// ---------------------------------------------------------------- package-lock.json

fn parse_package_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc: Value =
        serde_json::from_slice(strip_bom(bytes)).map_err(|e| format!("package-lock: {e}"))?;
    let doc = doc.as_object().ok_or("package-lock: not a JSON object")?;
    let mut out = match (doc.get("packages"), doc.get("dependencies")) {
        (Some(Value::Object(packages)), _) => lock_packages(packages),
        (_, Some(Value::Object(deps))) => lock_v1(deps)?,
        (None, None) => Vec::new(),
        _ => return Err("package-lock: `packages`/`dependencies` is not an object".into()),
    };
    // The project itself, as Cargo.lock lists its own crate (and as syft reports it), so the
    // application shows up in the inventory; marked by its location.
    if let (Some(name), Some(version)) = (str_field(doc, "name"), str_field(doc, "version")) {
        let mut root = LangPackage::new(LangEcosystem::Npm, name, version, Evidence::Lockfile);
        root.location = Some("root".to_owned());
        // v2/v3 keep the project's own package.json fields under "".
        if let Some(Value::Object(project)) = doc.get("packages").and_then(|p| p.get("")) {
            root.licenses = manifest_licenses(project);
        }
        out.push(root);
    }
    out.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(out)
}

/// v2/v3 `packages`: `node_modules/...` keys; the root and workspace folders are skipped.
fn lock_packages(packages: &Map<String, Value>) -> Vec<LangPackage> {
    let mut out = Vec::new();
    for (key, entry) in packages {
        let Some(at) = key.rfind("node_modules/") else {
            continue; // "" (the project) or a workspace folder, reached through its link.
        };
        let folder = &key[at + "node_modules/".len()..];
        let Some(entry) = entry.as_object().filter(|_| !folder.is_empty()) else {
            continue;
        };
        let target = if flag(entry, "link") {
            let resolved = str_field(entry, "resolved");
            match resolved.and_then(|r| packages.get(r)?.as_object()) {
                Some(target) => target,
                None => continue,
            }
        } else {
            entry
        };
        let name = str_field(target, "name").unwrap_or(folder);
        let Some(version) = str_field(target, "version") else {
            continue;
        };
        let mut pkg = npm(name, version, Evidence::Lockfile);
        pkg.dev = flag(entry, "dev");
        pkg.location = Some(key.clone());
        pkg.note = alias_note(name, folder);
        // npm 7+ copies each package's `license` into the lockfile.
        pkg.licenses = manifest_licenses(target);
        out.push(pkg);
    }
    out
}

/// v1: `dependencies` nested like `node_modules`, walked with an explicit stack.
fn lock_v1(deps: &Map<String, Value>) -> Result<Vec<LangPackage>, String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), deps, 1usize)];
    while let Some((parent, deps, depth)) = stack.pop() {
        if depth > MAX_V1_DEPTH {
            return Err(format!(
                "package-lock: `dependencies` nested deeper than {MAX_V1_DEPTH} levels"
            ));
        }
        for (folder, entry) in deps {
            let Some(entry) = entry.as_object() else {
                continue;
            };
            let location = format!("{parent}node_modules/{folder}");
            if let Some(Value::Object(nested)) = entry.get("dependencies") {
                stack.push((format!("{location}/"), nested, depth + 1));
            }
            let Some(version) = str_field(entry, "version") else {
                continue;
            };
            if version.starts_with("file:") || version.starts_with("link:") {
                continue; // A local folder or workspace: its version is not recorded.
            }
            let (name, version) = match version.strip_prefix("npm:").and_then(split_at_name) {
                Some((real, version)) => (real, version),
                None => (folder.as_str(), version),
            };
            let mut pkg = npm(name, version, Evidence::Lockfile);
            pkg.dev = flag(entry, "dev");
            pkg.location = Some(location);
            pkg.note = alias_note(name, folder);
            out.push(pkg);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- yarn.lock

/// yarn v1: `"a@^1.0.0", a@^1.1.0:` headers, then indented fields (`  version "1.2.3"`).
/// Never fails: what does not parse is skipped.
fn parse_yarn_v1(text: &str) -> Vec<LangPackage> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut header: Option<&str> = None;
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            header = line.trim_end().strip_suffix(':');
            continue;
        }
        let (Some(spec), Some(version)) = (header, line.strip_prefix("  version ")) else {
            continue;
        };
        header = None;
        let version = unquote(version.trim());
        let first = unquote(spec.split(',').next().unwrap_or_default().trim());
        let Some((declared, range)) = split_at_name(first) else {
            continue;
        };
        // `foo@npm:lodash@^4.17.15` declares lodash under the name foo.
        let name = match range.strip_prefix("npm:").and_then(split_at_name) {
            Some((real, _)) => real,
            None => declared,
        };
        if version.is_empty() || !seen.insert((name, version)) {
            continue;
        }
        let mut pkg = npm(name, version, Evidence::Lockfile);
        pkg.note = yarn_alias(spec, name);
        out.push(pkg);
    }
    out
}

/// The alias note for a yarn entry whose descriptors (`a@^1, "b@npm:a@^1"`) resolved to the
/// package `real`: none when one of them names `real` itself, else the first one's name.
fn yarn_alias(descriptors: &str, real: &str) -> Option<String> {
    let mut names = descriptors
        .split(',')
        .filter_map(|d| split_at_name(unquote(d.trim())).map(|(name, _)| name));
    let first = names.next()?;
    if first == real || names.any(|n| n == real) {
        return None;
    }
    alias_note(real, first)
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Limits for the YAML lockfiles: the caller caps them at 16 MiB, which is far more nodes
/// than serde-saphyr's defaults allow; yarn berry keys list every range of a package and can
/// pass YAML's 1024-character limit on implicit keys.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_events: 40_000_000,
            max_nodes: 20_000_000,
            simple_key_max_lookahead: 16 * 1024,
        },
    }
}

/// A YAML scalar as text whatever it resolves to: `version: 10`, `lockfileVersion: 5.4`.
#[derive(Debug)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct BerryEntry {
    version: Option<Text>,
    resolution: Option<String>,
}

/// yarn berry: keys are the descriptors resolved (`"lodash@npm:^4.17.15, lodash@npm:^4.17.20"`),
/// `resolution` names the real package (`lodash@npm:4.17.21`).
fn parse_yarn_berry(text: &str) -> Result<Vec<LangPackage>, String> {
    let doc: BTreeMap<String, BerryEntry> =
        serde_saphyr::from_str_with_options(text, yaml_options())
            .map_err(|e| format!("yarn.lock: {e}"))?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (key, entry) in &doc {
        let (Some(resolution), Some(Text(version))) = (&entry.resolution, &entry.version) else {
            continue; // `__metadata`, or not an entry.
        };
        let Some((name, reference)) = split_at_name(resolution) else {
            continue;
        };
        let protocol = reference.split_once(':').map_or("", |(p, _)| p);
        if matches!(protocol, "workspace" | "link" | "portal") || version.is_empty() {
            continue; // The project, its workspaces and local folders.
        }
        let note = yarn_alias(key, name);
        // A `patch:` resolution repeats the package it patches.
        if seen.insert((name, version.as_str(), note.clone())) {
            let mut pkg = npm(name, version, Evidence::Lockfile);
            pkg.note = note;
            out.push(pkg);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- pnpm-lock.yaml

#[derive(Deserialize)]
struct PnpmHead {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<Text>,
}

/// 5.x and 6.x: `packages` with a `dev` field each.
#[derive(Deserialize)]
struct PnpmOld {
    #[serde(default)]
    packages: BTreeMap<String, PnpmPackage>,
}

#[derive(Deserialize)]
struct PnpmPackage {
    name: Option<Text>,
    version: Option<Text>,
    dev: Option<bool>,
}

/// 9.x: `packages` (no dev field), `snapshots` (the graph) and `importers` (the roots).
#[derive(Deserialize)]
struct Pnpm9 {
    #[serde(default)]
    importers: BTreeMap<String, PnpmImporter>,
    #[serde(default)]
    packages: BTreeMap<String, PnpmPackage>,
    #[serde(default)]
    snapshots: BTreeMap<String, PnpmSnapshot>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PnpmImporter {
    #[serde(default)]
    dependencies: BTreeMap<String, PnpmImporterDep>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, PnpmImporterDep>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, PnpmImporterDep>,
}

#[derive(Deserialize)]
struct PnpmImporterDep {
    version: Text,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PnpmSnapshot {
    #[serde(default)]
    dependencies: BTreeMap<String, Text>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Text>,
}

fn parse_pnpm_lock(text: &str) -> Result<Vec<LangPackage>, String> {
    let err = |e: serde_saphyr::Error| format!("pnpm-lock.yaml: {e}");
    let head: PnpmHead = serde_saphyr::from_str_with_options(text, yaml_options()).map_err(err)?;
    let version = head.lockfile_version.map(|Text(v)| v).unwrap_or_default();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok())
        .ok_or_else(|| format!("pnpm-lock.yaml: lockfileVersion {version:?} is not a version"))?;
    if major >= 9 {
        let lock: Pnpm9 = serde_saphyr::from_str_with_options(text, yaml_options()).map_err(err)?;
        return Ok(pnpm9(&lock));
    }
    let lock: PnpmOld = serde_saphyr::from_str_with_options(text, yaml_options()).map_err(err)?;
    let mut out = Vec::new();
    for (key, entry) in &lock.packages {
        if let Some(mut pkg) = pnpm_package(key, entry, major < 6) {
            pkg.dev = entry.dev == Some(true);
            out.push(pkg);
        }
    }
    Ok(out)
}

/// Name and version from the entry's own `name`/`version` (tarball and git packages) or else
/// from its key, without the peer suffix: `/a/1.0.0_p@1` (v5), `/a@1.0.0(p@1)` (v6),
/// `a@1.0.0` (v9).
fn pnpm_package(key: &str, entry: &PnpmPackage, v5: bool) -> Option<LangPackage> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let from_key = if v5 {
        key.rsplit_once('/')
            .map(|(n, v)| (n, v.split('_').next().unwrap_or(v)))
    } else {
        split_at_name(pnpm_base(key))
    };
    let name = entry.name.as_ref().map(|Text(n)| n.as_str());
    let version = entry.version.as_ref().map(|Text(v)| v.as_str());
    let name = name
        .or(from_key.map(|(n, _)| n))
        .filter(|n| !n.is_empty())?;
    let version = version
        .or(from_key.map(|(_, v)| v))
        .filter(|v| !v.is_empty())?;
    Some(npm(name, version, Evidence::Lockfile))
}

/// A v6+ key or reference without its peer suffix: `a@1.0.0(p@1)(q@2)` is `a@1.0.0`.
fn pnpm_base(key: &str) -> &str {
    key.split('(').next().unwrap_or(key)
}

fn pnpm9(lock: &Pnpm9) -> Vec<LangPackage> {
    let (mut prod, mut dev) = (Vec::new(), Vec::new());
    for importer in lock.importers.values() {
        let runtime = importer.dependencies.iter();
        let runtime = runtime.chain(&importer.optional_dependencies);
        prod.extend(runtime.filter_map(|(n, d)| pnpm9_ref(n, &d.version.0)));
        let devs = importer.dev_dependencies.iter();
        dev.extend(devs.filter_map(|(n, d)| pnpm9_ref(n, &d.version.0)));
    }
    let prod = pnpm9_reach(&lock.snapshots, prod);
    let dev = pnpm9_reach(&lock.snapshots, dev);
    let mut out = Vec::new();
    for (key, entry) in &lock.packages {
        if let Some(mut pkg) = pnpm_package(key, entry, false) {
            pkg.dev = dev.contains(key.as_str()) && !prod.contains(key.as_str());
            out.push(pkg);
        }
    }
    out
}

/// The snapshot key a dependency refers to: `dep: 1.0.0(p@1)` is `dep@1.0.0(p@1)`, an alias
/// `foo: lodash@4.17.15` is `lodash@4.17.15`; `link:` (a workspace folder) is none.
fn pnpm9_ref(name: &str, reference: &str) -> Option<String> {
    if reference.starts_with("link:") {
        return None;
    }
    if split_at_name(pnpm_base(reference)).is_some() {
        Some(reference.to_owned())
    } else {
        Some(format!("{name}@{reference}"))
    }
}

/// The `packages` keys (snapshot keys without peer suffixes) reachable from `roots`.
fn pnpm9_reach(snapshots: &BTreeMap<String, PnpmSnapshot>, roots: Vec<String>) -> HashSet<&str> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut bases = HashSet::new();
    let mut queue: VecDeque<String> = roots.into();
    while let Some(key) = queue.pop_front() {
        let Some((key, snapshot)) = snapshots.get_key_value(key.as_str()) else {
            continue;
        };
        if !seen.insert(key.clone()) {
            continue;
        }
        bases.insert(pnpm_base(key));
        let deps = snapshot.dependencies.iter();
        let deps = deps.chain(&snapshot.optional_dependencies);
        queue.extend(deps.filter_map(|(n, Text(r))| pnpm9_ref(n, r)));
    }
    bases
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lang/npm");

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
    fn manifest_and_lock_licences() {
        let axios = parse(
            "node_modules/axios/package.json",
            &fixture("debian-app/node_modules/axios/package.json"),
        )
        .unwrap();
        assert_eq!(axios[0].licenses, ["MIT"]);
        assert_eq!(axios[0].author.as_deref(), Some("Matt Zabriskie"));
        let old = parse(
            "node_modules/x/package.json",
            br#"{"name":"x","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}],"author":{"name":"Ann"}}"#,
        )
        .unwrap();
        assert_eq!(old[0].licenses, ["MIT", "Apache-2.0"]);
        assert_eq!(old[0].author.as_deref(), Some("Ann"));
        let lock = parse("package-lock.json", &fixture("lock-v3/package-lock.json")).unwrap();
        assert!(lock.iter().filter(|p| !p.licenses.is_empty()).count() >= 10);
    }

    /// (name, version, dev, note), sorted, for compact assertions.
    fn rows(pkgs: &[LangPackage]) -> Vec<(&str, &str, bool, &str)> {
        let mut rows: Vec<_> = pkgs
            .iter()
            .map(|p| {
                let note = p.note.as_deref().unwrap_or("");
                (p.name.as_str(), p.version.as_str(), p.dev, note)
            })
            .collect();
        rows.sort_unstable();
        rows
    }

    /// The five packages planted in the debian-app image (its expected.json).
    const DEBIAN_APP: [(&str, &str, bool, &str); 5] = [
        ("axios", "0.21.0", false, ""),
        ("follow-redirects", "1.13.0", false, ""),
        ("lodash", "4.17.15", false, ""),
        ("minimist", "1.2.5", false, ""),
        ("semver", "5.7.1", true, ""),
    ];

    /// What the sample project (`tests/fixtures/lang/npm/sample`) locks, every tool agreeing:
    /// `foo` is `npm:lodash@4.17.15`, `debug2` is `npm:debug@2.6.9` (dev), semver is dev.
    /// (name, version, dev, alias) where the dev flags hold for npm and pnpm.
    const SAMPLE: [(&str, &str, bool, &str); 12] = [
        ("@isaacs/string-locale-compare", "1.1.0", false, ""),
        ("debug", "2.6.9", true, "alias:debug2"),
        ("debug", "4.3.4", false, ""),
        ("js-tokens", "4.0.0", false, ""),
        ("lodash", "4.17.15", false, "alias:foo"),
        ("loose-envify", "1.4.0", false, ""),
        ("ms", "2.0.0", true, ""),
        ("ms", "2.1.2", false, ""),
        ("ms", "2.1.3", false, ""),
        ("react", "18.2.0", false, ""),
        ("semver", "5.7.1", true, ""),
        ("use-sync-external-store", "1.2.0", false, ""),
    ];

    fn sample(
        dev_known: bool,
        aliases_known: bool,
    ) -> Vec<(&'static str, &'static str, bool, &'static str)> {
        SAMPLE
            .iter()
            .map(|&(n, v, d, a)| (n, v, d && dev_known, if aliases_known { a } else { "" }))
            .collect()
    }

    #[test]
    fn wants_own_manifests_and_lockfiles() {
        for yes in [
            "app/web/node_modules/axios/package.json",
            "node_modules/@babel/core/package.json",
            "app/node_modules/a/node_modules/b/package.json",
            "app/node_modules/a/node_modules/@s/b/node_modules/c/package.json",
            "usr/lib/node_modules/npm/package.json",
            "usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json",
            "app/node_modules/.pnpm/lodash@4.17.15/node_modules/lodash/package.json",
            "app/node_modules/.pnpm/@b+c@1.0.0/node_modules/@b/c/package.json",
            "app/package-lock.json",
            "npm-shrinkwrap.json",
            "srv/yarn.lock",
            "srv/pnpm-lock.yaml",
        ] {
            assert!(wants(yes), "{yes}");
        }
        for no in [
            "app/package.json",
            "package.json",
            "node_modules/package.json",
            "node_modules/x/lib/package.json",
            "node_modules/x/test/node_modules/y/package.json",
            "node_modules/@scope/package.json",
            "node_modules/@/x/package.json",
            "node_modules/.bin/package.json",
            "node_modules/.pnpm/node_modules/x/package.json",
            "node_modules/x/package.json.bak",
            "node_modules/x/node_modules/package.json",
            "node_modules/.package-lock.json",
            "app/node_modules/x/package-lock.json",
            "app/node_modules/x/yarn.lock",
            "app/package-lock.json.orig",
            "app/bun.lockb",
        ] {
            assert!(!wants(no), "{no}");
        }
    }

    #[test]
    fn debian_app_installed_manifests() {
        let mut pkgs = Vec::new();
        for (name, ..) in DEBIAN_APP {
            let rel = format!("debian-app/node_modules/{name}/package.json");
            let path = format!("app/web/{rel}");
            assert!(wants(&path), "{path}");
            pkgs.extend(parse(&path, &fixture(&rel)).unwrap());
        }
        assert!(pkgs.iter().all(|p| p.evidence == Evidence::Installed));
        assert!(pkgs.iter().all(|p| p.ecosystem == LangEcosystem::Npm));
        assert!(pkgs.iter().all(|p| p.location.is_none()));
        // Installed manifests do not say what is dev.
        let want: Vec<_> = DEBIAN_APP
            .iter()
            .map(|&(n, v, _, a)| (n, v, false, a))
            .collect();
        assert_eq!(rows(&pkgs), want);
    }

    #[test]
    fn manifest_edges() {
        let p = parse(
            "a/node_modules/foo/package.json",
            br#"{"name":"lodash","version":"4.17.15"}"#,
        );
        assert_eq!(
            rows(&p.unwrap()),
            [("lodash", "4.17.15", false, "alias:foo")]
        );
        for skipped in [
            r#"{"name":"x"}"#,
            r#"{"version":"1"}"#,
            r#"{"name":"x","version":1}"#,
            r#"{"name":"","version":"1"}"#,
        ] {
            assert!(
                parse("node_modules/x/package.json", skipped.as_bytes())
                    .unwrap()
                    .is_empty()
            );
        }
        assert!(parse("node_modules/x/package.json", b"[]").is_err());
        assert!(parse("node_modules/x/package.json", b"{\"name\": \"x\", ").is_err());
    }

    /// The lockfile's own project, checked and taken out.
    fn without_root(mut pkgs: Vec<LangPackage>, name: &str, version: &str) -> Vec<LangPackage> {
        let at = pkgs
            .iter()
            .position(|p| p.location.as_deref() == Some("root"))
            .expect("the project itself");
        let root = pkgs.remove(at);
        assert_eq!((root.name.as_str(), root.version.as_str()), (name, version));
        pkgs
    }

    #[test]
    fn debian_app_package_lock() {
        let pkgs = parse(
            "app/web/package-lock.json",
            &shared("tools/fixtures/app/web/package-lock.json"),
        )
        .unwrap();
        let pkgs = without_root(pkgs, "demo-web", "1.0.0");
        assert_eq!(rows(&pkgs), DEBIAN_APP);
        assert!(pkgs.iter().all(|p| p.evidence == Evidence::Lockfile));
        let locations: Vec<_> = pkgs
            .iter()
            .map(|p| p.location.as_deref().unwrap())
            .collect();
        assert_eq!(
            locations,
            [
                "node_modules/axios",
                "node_modules/follow-redirects",
                "node_modules/lodash",
                "node_modules/minimist",
                "node_modules/semver"
            ]
        );
    }

    #[test]
    fn package_lock_v1_v2_v3() {
        let v3 = parse("package-lock.json", &fixture("lock-v3/package-lock.json")).unwrap();
        let v3 = without_root(v3, "lock-sample", "1.0.0");
        let mut want = sample(true, true);
        // The workspace, through its link.
        want.insert(1, ("@sample/util", "0.3.0", false, ""));
        assert_eq!(rows(&v3), want);
        let at = |pkgs: &[LangPackage], name: &str, version: &str| {
            let p = pkgs
                .iter()
                .find(|p| p.name == name && p.version == version)
                .unwrap();
            p.location.clone().unwrap()
        };
        assert_eq!(
            at(&v3, "@sample/util", "0.3.0"),
            "node_modules/@sample/util"
        );
        assert_eq!(
            at(&v3, "ms", "2.0.0"),
            "node_modules/debug2/node_modules/ms"
        );
        assert_eq!(at(&v3, "lodash", "4.17.15"), "node_modules/foo");

        // v2 has both `packages` and v1's `dependencies`: `packages` wins.
        let v2 = parse("package-lock.json", &fixture("lock-v2/package-lock.json")).unwrap();
        assert_eq!(without_root(v2, "lock-sample", "1.0.0"), v3);

        // v1: the workspace's version is `file:packages/util`, not recorded.
        let v1 = parse("npm-shrinkwrap.json", &fixture("lock-v1/package-lock.json")).unwrap();
        let v1 = without_root(v1, "lock-sample", "1.0.0");
        want.remove(1);
        assert_eq!(rows(&v1), want);
        assert_eq!(
            at(&v1, "ms", "2.0.0"),
            "node_modules/debug2/node_modules/ms"
        );
        assert_eq!(at(&v1, "ms", "2.1.2"), "node_modules/debug/node_modules/ms");
    }

    #[test]
    fn package_lock_edges() {
        // Hand-written v3: devOptional, a dangling link, no version, a scoped alias.
        let text = br#"{"lockfileVersion": 3, "packages": {
            "": {"name": "p", "version": "1.0.0"},
            "node_modules/fsevents": {"version": "2.3.2", "devOptional": true, "optional": true},
            "node_modules/gone": {"resolved": "../gone", "link": true},
            "node_modules/nover": {"resolved": "https://x/nover.tgz"},
            "node_modules/b": {"name": "@s/real", "version": "1.0.0", "dev": true},
            "node_modules/lib": {"resolved": "../lib", "link": true, "dev": true},
            "../lib": {"name": "lib", "version": "0.0.1"},
            "node_modules/weird": 7
        }}"#;
        let p = parse_package_lock(text).unwrap();
        assert_eq!(
            rows(&p),
            [
                ("@s/real", "1.0.0", true, "alias:b"),
                ("fsevents", "2.3.2", false, ""),
                ("lib", "0.0.1", true, ""),
            ]
        );
        // Hand-written v1: a scoped alias, git and file versions.
        let text = br#"{"lockfileVersion": 1, "dependencies": {
            "x": {"version": "npm:@s/real@2.0.0", "dev": true},
            "g": {"version": "git+https://github.com/a/g.git#0123abc"},
            "f": {"version": "file:../f"}
        }}"#;
        assert_eq!(
            rows(&parse_package_lock(text).unwrap()),
            [
                ("@s/real", "2.0.0", true, "alias:x"),
                ("g", "git+https://github.com/a/g.git#0123abc", false, ""),
            ]
        );
        assert!(
            parse_package_lock(b"{\"name\": \"empty\", \"lockfileVersion\": 1}")
                .unwrap()
                .is_empty()
        );
        assert!(parse_package_lock(b"{\"packages\": []}").is_err());
        assert!(parse_package_lock(b"null").is_err());
        let bom = b"\xef\xbb\xbf{\"packages\": {\"node_modules/a\": {\"version\": \"1.0.0\"}}}";
        assert_eq!(parse_package_lock(bom).unwrap().len(), 1);
    }

    #[test]
    fn yarn_v1() {
        let p = parse("yarn.lock", &fixture("yarn-v1/yarn.lock")).unwrap();
        assert_eq!(rows(&p), sample(false, true));
        assert!(
            p.iter()
                .all(|p| p.evidence == Evidence::Lockfile && p.location.is_none())
        );
        // Hand-written: several descriptors, CRLF, a scoped alias, a duplicate.
        let text = "# yarn lockfile v1\r\n\r\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\r\n  version \"7.12.13\"\r\n  dependencies:\r\n    \"@babel/highlight\" \"^7.12.13\"\r\n\r\nx@npm:@s/real@^1:\n  version \"1.0.1\"\n\n\"sw-cjs@npm:sw@^4.2.0\", sw@^4.1.0:\n  version \"4.2.3\"\n\nno-version@^1:\n  resolved \"https://x\"\n\n\"@babel/code-frame@7.12.13\":\n  version \"7.12.13\"\n";
        assert_eq!(
            rows(&parse_yarn_v1(text)),
            [
                ("@babel/code-frame", "7.12.13", false, ""),
                ("@s/real", "1.0.1", false, "alias:x"),
                ("sw", "4.2.3", false, ""),
            ]
        );
    }

    #[test]
    fn yarn_berry() {
        let p = parse("yarn.lock", &fixture("yarn-berry/yarn.lock")).unwrap();
        assert_eq!(rows(&p), sample(false, true));
        // Hand-written: a patch repeating its package, portal and link, long keys.
        let long_key: Vec<String> = (0..200).map(|i| format!("lodash@npm:^4.17.{i}")).collect();
        let text = format!(
            "__metadata:\n  version: 6\n  cacheKey: 8\n\n\"{}\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n\n\"sw-cjs@npm:sw@^4.2.0, sw@npm:^4.1.0\":\n  version: 4.2.3\n  resolution: \"sw@npm:4.2.3\"\n\n\"resolve@patch:resolve@npm%3A^1.1.7#~builtin<compat/resolve>\":\n  version: 1.22.1\n  resolution: \"resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b\"\n\n\"resolve@npm:^1.1.7\":\n  version: 1.22.1\n  resolution: \"resolve@npm:1.22.1\"\n\n\"p@portal:../p::locator=app%40workspace%3A.\":\n  version: 0.0.0-use.local\n  resolution: \"p@portal:../p::locator=app%40workspace%3A.\"\n\n\"l@link:../l::locator=app%40workspace%3A.\":\n  version: 0.0.0-use.local\n  resolution: \"l@link:../l::locator=app%40workspace%3A.\"\n",
            long_key.join(", ")
        );
        assert!(long_key.join(", ").len() > 4000);
        assert_eq!(
            rows(&parse(".yarn/../yarn.lock", text.as_bytes()).unwrap()),
            [
                ("lodash", "4.17.21", false, ""),
                ("resolve", "1.22.1", false, ""),
                ("sw", "4.2.3", false, "")
            ]
        );
        assert!(parse("yarn.lock", b"__metadata:\n  version: [\n").is_err());
    }

    #[test]
    fn pnpm_v5_v6_v9() {
        for dir in ["pnpm-v5", "pnpm-v6", "pnpm-v9"] {
            let p = parse("pnpm-lock.yaml", &fixture(&format!("{dir}/pnpm-lock.yaml"))).unwrap();
            // pnpm keys name the real package: no alias notes.
            assert_eq!(rows(&p), sample(true, false), "{dir}");
            assert!(p.iter().all(|p| p.evidence == Evidence::Lockfile), "{dir}");
        }
    }

    #[test]
    fn pnpm_edges() {
        // Hand-written v6: a tarball package with its own name and version, peer suffixes.
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /@b/c@1.0.0(react@18.2.0)(x@1.0.0):\n    resolution: {integrity: sha512-x}\n    dev: false\n  '@t/tar@https://example.com/tar-1.2.3.tgz':\n    resolution: {tarball: https://example.com/tar-1.2.3.tgz}\n    name: '@t/tar'\n    version: 1.2.3\n    dev: true\n  github.com/a/b/0123abc:\n    resolution: {tarball: https://codeload.github.com/a/b/tar.gz/0123abc}\n";
        assert_eq!(
            rows(&parse_pnpm_lock(v6).unwrap()),
            [("@b/c", "1.0.0", false, ""), ("@t/tar", "1.2.3", true, "")]
        );
        // Hand-written v9: workspace links, an optional dependency, a dev-only chain through
        // a peer-suffixed snapshot, and a cycle.
        let v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      w:\n        specifier: workspace:*\n        version: link:packages/w\n    optionalDependencies:\n      o:\n        specifier: ^1\n        version: 1.0.0\n    devDependencies:\n      t:\n        specifier: ^2\n        version: 2.0.0(o@1.0.0)\npackages:\n  o@1.0.0:\n    resolution: {integrity: sha512-o}\n  t@2.0.0:\n    resolution: {integrity: sha512-t}\n  u@3.0.0:\n    resolution: {integrity: sha512-u}\nsnapshots:\n  o@1.0.0: {}\n  t@2.0.0(o@1.0.0):\n    dependencies:\n      o: 1.0.0\n      uu: u@3.0.0\n  u@3.0.0:\n    dependencies:\n      t: 2.0.0(o@1.0.0)\n";
        assert_eq!(
            rows(&parse_pnpm_lock(v9).unwrap()),
            [
                ("o", "1.0.0", false, ""),
                ("t", "2.0.0", true, ""),
                ("u", "3.0.0", true, "")
            ]
        );
        assert!(parse_pnpm_lock("packages: {}\n").is_err());
        assert!(parse_pnpm_lock("lockfileVersion: banana\n").is_err());
        assert!(
            parse_pnpm_lock("lockfileVersion: '9.0'\n")
                .unwrap()
                .is_empty()
        );
        assert!(parse_pnpm_lock("lockfileVersion: '6.0'\npackages: [1, 2]\n").is_err());
    }

    #[test]
    fn hostile_input_never_panics() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for name in [
            "node_modules/x/package.json",
            "package-lock.json",
            "yarn.lock",
            "pnpm-lock.yaml",
        ] {
            let _ = parse(name, &garbage);
            let _ = parse(name, b"");
            let _ = parse(name, &garbage[..9]);
        }
        let ascii: String = garbage.iter().map(|&b| char::from(b % 96 + 32)).collect();
        let _ = parse_yarn_v1(&ascii);
        let _ = parse("yarn.lock", format!("__metadata:\n{ascii}").as_bytes());
        let _ = parse("pnpm-lock.yaml", ascii.as_bytes());

        // Truncated JSON.
        let lock = shared("tools/fixtures/app/web/package-lock.json");
        for cut in [1, lock.len() / 3, lock.len() - 2] {
            assert!(parse("package-lock.json", &lock[..cut]).is_err());
        }

        // A v1 lockfile 10,000 levels deep: refused, no stack overflow.
        let mut deep = String::from(r#"{"lockfileVersion": 1, "dependencies": "#);
        for _ in 0..10_000 {
            deep.push_str(r#"{"a": {"version": "1.0.0", "dependencies": "#);
        }
        deep.push_str("{}");
        deep.push_str(&"}}".repeat(10_000));
        deep.push('}');
        assert!(parse("package-lock.json", deep.as_bytes()).is_err());

        // Past MAX_V1_DEPTH while still within serde_json's limit.
        let mut nested = Map::new();
        for _ in 0..=MAX_V1_DEPTH {
            let mut entry = Map::new();
            entry.insert("version".into(), "1.0.0".into());
            entry.insert("dependencies".into(), Value::Object(nested));
            nested = Map::new();
            nested.insert("a".into(), Value::Object(entry));
        }
        let err = lock_v1(&nested).unwrap_err();
        assert!(err.contains("deeper"), "{err}");

        // Deeply nested YAML: refused by the parser's depth budget.
        let deep_yaml = format!("lockfileVersion: '9.0'\nx: {}", "[".repeat(100_000));
        assert!(parse("pnpm-lock.yaml", deep_yaml.as_bytes()).is_err());
        let deep_yaml = format!("__metadata:\n  version: 6\nx: {}", "{a: ".repeat(100_000));
        assert!(parse("yarn.lock", deep_yaml.as_bytes()).is_err());
        // An alias bomb.
        let bomb = "lockfileVersion: '9.0'\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        let _ = parse("pnpm-lock.yaml", bomb.as_bytes());
        assert!(parse("bun.lockb", b"").is_err());
    }
}
