//! PHP (Packagist) packages: what Composer installed, and what its lockfile pins.
//!
//! Installed ([`Evidence::Installed`]): `<vendor-dir>/composer/installed.json`, which Composer
//! rewrites on every install. Composer 1 writes a top-level array of package records; Composer 2
//! writes `{"packages": [...], "dev": bool, "dev-package-names": [...]}`, and a package named in
//! `dev-package-names` is dev (installed only because `--no-dev` was not given).
//!
//! Declared ([`Evidence::Lockfile`]): `composer.lock`, its `packages` and `packages-dev` (dev).
//! A `composer.lock` inside a `vendor` directory is an installed package's own and describes
//! nothing installed, so it is not wanted.
//!
//! From each record: `name` (`vendor/package`, reported as written; Composer compares names in
//! lower case, and so does matching), `version` exactly as written (`v5.4.0`, `1.2.3`,
//! `dev-main`), `license` (an array of SPDX identifiers, or a string in old records) and the
//! `authors`' names. A package installed from a `path` repository is noted `path:<url>`; a
//! branch (`dev-*` or `*-dev` version) is noted with the commit it was locked at,
//! `ref:<reference>`. Records without a string name and version are skipped.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Evidence, LangEcosystem, LangPackage};

/// Whether `path` (relative to the image root, normalised, no leading '/') is a file this
/// module parses.
pub(crate) fn wants(path: &str) -> bool {
    let mut segs = path.rsplit('/');
    match segs.next().unwrap_or_default() {
        "installed.json" => segs.next() == Some("composer"),
        "composer.lock" => !path.split('/').any(|s| s == "vendor"),
        _ => false,
    }
}

/// Parses one file `wants` accepted, dispatching on its name.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    match path.rsplit('/').next().unwrap_or(path) {
        "installed.json" => parse_installed(bytes),
        "composer.lock" => parse_lock(bytes),
        file => Err(format!(
            "{file:?} is not a Composer installed.json or lockfile"
        )),
    }
}

fn json(bytes: &[u8], what: &str) -> Result<Value, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| format!("{what}: {e}"))
}

fn str_field<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    entry.get(key)?.as_str().filter(|s| !s.is_empty())
}

fn parse_installed(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc = json(bytes, "installed.json")?;
    let (packages, dev_names) = match &doc {
        // Composer 1.
        Value::Array(packages) => (packages, HashSet::new()),
        // Composer 2.
        Value::Object(o) => {
            let packages = match o.get("packages") {
                Some(Value::Array(p)) => p,
                _ => return Err("installed.json: no `packages` array".into()),
            };
            let dev: HashSet<&str> = match o.get("dev-package-names") {
                Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
                _ => HashSet::new(),
            };
            (packages, dev)
        }
        _ => return Err("installed.json: neither an array nor an object".into()),
    };
    Ok(packages
        .iter()
        .filter_map(|p| {
            let mut pkg = record(p.as_object()?, Evidence::Installed)?;
            pkg.dev = dev_names.contains(pkg.name.as_str());
            Some(pkg)
        })
        .collect())
}

fn parse_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc = json(bytes, "composer.lock")?;
    let doc = doc.as_object().ok_or("composer.lock: not a JSON object")?;
    let mut out = Vec::new();
    for (section, dev) in [("packages", false), ("packages-dev", true)] {
        let packages = match doc.get(section) {
            Some(Value::Array(p)) => p,
            None | Some(Value::Null) => continue,
            Some(_) => return Err(format!("composer.lock: `{section}` is not an array")),
        };
        for p in packages {
            if let Some(mut pkg) = p.as_object().and_then(|p| record(p, Evidence::Lockfile)) {
                pkg.dev = dev;
                out.push(pkg);
            }
        }
    }
    Ok(out)
}

/// One package record, the same in installed.json and composer.lock.
fn record(p: &Map<String, Value>, evidence: Evidence) -> Option<LangPackage> {
    let (name, version) = (str_field(p, "name")?, str_field(p, "version")?);
    if name.len() > 256 || version.len() > 256 {
        return None;
    }
    let mut pkg = LangPackage::new(LangEcosystem::Composer, name, version, evidence);
    let dist = p.get("dist").and_then(Value::as_object);
    let source = p.get("source").and_then(Value::as_object);
    pkg.note = if let Some(url) = dist
        .filter(|d| str_field(d, "type") == Some("path"))
        .and_then(|d| str_field(d, "url"))
    {
        Some(format!("path:{url}"))
    } else if version.starts_with("dev-") || version.ends_with("-dev") {
        source
            .and_then(|s| str_field(s, "reference"))
            .or_else(|| dist.and_then(|d| str_field(d, "reference")))
            .map(|r| format!("ref:{r}"))
    } else {
        None
    };
    pkg.licenses = match p.get("license") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .take(16)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    pkg.licenses
        .retain(|l| !l.trim().is_empty() && l.len() <= 200);
    pkg.author = authors(p);
    Some(pkg)
}

/// The authors' names, comma-separated, as many as fit in 200 bytes ("et al." for the rest).
fn authors(p: &Map<String, Value>) -> Option<String> {
    let Some(Value::Array(list)) = p.get("authors") else {
        return None;
    };
    let mut out = String::new();
    let names = list
        .iter()
        .filter_map(|a| a.as_object().and_then(|a| str_field(a, "name")))
        .map(str::trim)
        .filter(|n| !n.is_empty());
    for (i, n) in names.enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        if out.len() + sep.len() + n.len() > 200 {
            if out.is_empty() {
                return None;
            }
            out.push_str(" et al.");
            break;
        }
        out.push_str(sep);
        out.push_str(n);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lang/php");

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{FIXTURES}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// (name, version, dev, note) rows, for compact assertions.
    fn rows(pkgs: &[LangPackage]) -> Vec<(&str, &str, bool, &str)> {
        pkgs.iter()
            .map(|p| {
                let note = p.note.as_deref().unwrap_or("");
                (p.name.as_str(), p.version.as_str(), p.dev, note)
            })
            .collect()
    }

    #[test]
    fn wants_installed_json_and_lockfiles() {
        for yes in [
            "var/www/html/vendor/composer/installed.json",
            "app/lib/composer/installed.json",
            "var/www/html/composer.lock",
            "composer.lock",
        ] {
            assert!(wants(yes), "{yes}");
        }
        for no in [
            "var/www/html/vendor/installed.json",
            "installed.json",
            "var/www/html/vendor/symfony/console/composer.lock",
            "var/www/html/composer.json",
            "var/www/html/vendor/composer/installed.php",
        ] {
            assert!(!wants(no), "{no}");
        }
    }

    /// The files Debian's Composer 2.5 wrote for sample/app (regen.sh): path repositories, a
    /// `v`-prefixed version, a dev requirement. Expected values by hand from the files.
    #[test]
    fn composer2_installed_and_lock() {
        let want = [
            ("acme/alpha", "1.2.3", false, "path:../pkgs/alpha"),
            ("acme/beta", "v2.0.1", false, "path:../pkgs/beta"),
            ("acme/gamma", "0.9.0", true, "path:../pkgs/gamma"),
        ];
        let path = "app/vendor/composer/installed.json";
        assert!(wants(path));
        let installed = parse(path, &fixture("composer2/vendor/composer/installed.json")).unwrap();
        assert_eq!(rows(&installed), want);
        assert!(installed.iter().all(|p| p.evidence == Evidence::Installed));
        assert!(
            installed
                .iter()
                .all(|p| p.ecosystem == LangEcosystem::Composer)
        );
        let lock = parse("app/composer.lock", &fixture("composer2/composer.lock")).unwrap();
        assert_eq!(rows(&lock), want);
        assert!(lock.iter().all(|p| p.evidence == Evidence::Lockfile));
        for pkgs in [&installed, &lock] {
            let meta: Vec<_> = pkgs
                .iter()
                .map(|p| (p.licenses.clone(), p.author.as_deref()))
                .collect();
            assert_eq!(
                meta,
                [
                    (vec!["MIT".to_owned()], Some("Ann Alpha")),
                    (
                        vec!["Apache-2.0".to_owned(), "GPL-2.0-or-later".to_owned()],
                        Some("Bo Beta")
                    ),
                    (vec!["BSD-3-Clause".to_owned()], None),
                ]
            );
        }
    }

    /// Composer 1's installed.json, two records of a real one (README.md).
    #[test]
    fn composer1_installed() {
        let pkgs = parse_installed(&fixture("composer1/installed.json")).unwrap();
        assert_eq!(
            rows(&pkgs),
            [
                ("asm89/stack-cors", "1.3.0", false, ""),
                ("behat/mink", "v1.8.1", false, ""),
            ]
        );
        assert_eq!(pkgs[0].licenses, ["MIT"]);
        assert_eq!(pkgs[0].author.as_deref(), Some("Alexander"));
        assert_eq!(pkgs[1].author.as_deref(), Some("Konstantin Kudryashov"));
    }

    /// Hand-written: branches, a string licence, records without a name or version, no
    /// sections, and files that are not Composer's.
    #[test]
    fn record_edges() {
        let text = br#"{"packages": [
            {"name": "a/branch", "version": "dev-main", "source": {"type": "git", "url": "https://x/a.git", "reference": "0123abc"}},
            {"name": "a/alias", "version": "2.x-dev", "dist": {"type": "zip", "reference": "fedcba9"}},
            {"name": "a/old", "version": "1.0", "license": "BSD-2-Clause", "authors": [{"email": "x@y"}, {"name": " Ann "}, 7]},
            {"name": "a/noversion"},
            {"version": "1.0"},
            {"name": "a/numeric", "version": 1},
            "junk"
        ], "dev-package-names": ["a/old", 5]}"#;
        let pkgs = parse_installed(text).unwrap();
        assert_eq!(
            rows(&pkgs),
            [
                ("a/branch", "dev-main", false, "ref:0123abc"),
                ("a/alias", "2.x-dev", false, "ref:fedcba9"),
                ("a/old", "1.0", true, ""),
            ]
        );
        assert_eq!(pkgs[2].licenses, ["BSD-2-Clause"]);
        assert_eq!(pkgs[2].author.as_deref(), Some("Ann"));
        assert!(parse_lock(br#"{"_readme": []}"#).unwrap().is_empty());
        assert!(
            parse_lock(br#"{"packages": null, "packages-dev": []}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse_lock(br#"{"packages": {}}"#).is_err());
        assert!(parse_lock(b"[]").is_err());
        assert!(parse_installed(br#"{"dev": true}"#).is_err());
        assert!(parse_installed(b"\"x\"").is_err());
        assert!(parse("composer.json", b"{}").is_err());
    }

    #[test]
    fn hostile_input_never_panics() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for name in ["vendor/composer/installed.json", "composer.lock"] {
            let _ = parse(name, &garbage);
            let _ = parse(name, b"");
            let _ = parse(name, &garbage[..9]);
        }
        // Nested 100,000 deep: serde_json's recursion limit refuses it, no stack overflow.
        let deep = format!("{{\"packages\": {}", "[".repeat(100_000));
        assert!(parse_lock(deep.as_bytes()).is_err());
        assert!(parse_installed(deep.as_bytes()).is_err());
        // A megabyte-long name is skipped, not reported.
        let long = format!(
            r#"[{{"name": "{}", "version": "1"}}, {{"name": "a/b", "version": "1"}}]"#,
            "n".repeat(1 << 20)
        );
        assert_eq!(
            rows(&parse_installed(long.as_bytes()).unwrap()),
            [("a/b", "1", false, "")]
        );
        // Truncated.
        let lock = fixture("composer2/composer.lock");
        for cut in [1, lock.len() / 2, lock.len() - 2] {
            assert!(parse_lock(&lock[..cut]).is_err());
        }
    }
}
