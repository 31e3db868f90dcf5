//! apk: `lib/apk/db/installed`, the installed-database of apk-tools.
//!
//! The format (apk-tools' "installed database", also used by APKINDEX) is stanzas of `K:value`
//! lines separated by blank lines. `P` name, `V` version, `A` arch, `o` origin (the source
//! package), `F` a directory, `R` a file in the last `F` directory. Other keys are ignored.

use serde::{Deserialize, Serialize};

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::facts::Fact;
use crate::inventory::Ecosystem;
use crate::osdb::{OsPackage, PackageDb};

pub(crate) const INSTALLED: &str = "lib/apk/db/installed";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ApkPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) arch: Option<String>,
    pub(crate) origin: Option<String>,
    /// `L:`, an SPDX-like expression (`MIT AND GPL-2.0-only`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) license: Option<String>,
    /// `m:`, the Alpine maintainer (`Name <email>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) maintainer: Option<String>,
    /// `D:` without its version constraints and conflicts (`!name`): names and
    /// `so:`/`cmd:` capabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) depends: Vec<String>,
    /// `p:` without versions: the capabilities it provides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) provides: Vec<String>,
    /// Absolute paths of the files the package installed.
    pub(crate) files: Vec<String>,
}

impl From<ApkPackage> for OsPackage {
    fn from(p: ApkPackage) -> Self {
        Self {
            // A package without an origin is its own source.
            source_name: p.origin.clone().or_else(|| Some(p.name.clone())),
            source_version: Some(p.version.clone()),
            upstream: p.origin,
            name: p.name,
            version: p.version,
            arch: p.arch,
            files: p.files,
            purl_version: None,
            epoch: None,
            licenses: p.license.into_iter().collect(),
            author: p.maintainer,
            depends: p.depends.into_iter().map(|d| vec![d]).collect(),
            provides: p.provides,
        }
    }
}

pub(crate) struct ApkAnalyzer;

impl PackageDb for ApkAnalyzer {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Apk
    }
    fn is_db(&self, path: &str) -> bool {
        path == INSTALLED
    }
    fn purl_namespace(&self) -> &'static str {
        "alpine"
    }
}

impl Analyzer for ApkAnalyzer {
    fn name(&self) -> &'static str {
        "apk"
    }
    fn version(&self) -> u32 {
        // 2: facts in the form every OS analyzer gives (osdb.rs).
        // 3: L: licence, m: maintainer, D: dependencies, p: provides.
        3
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[Root::flat("lib/apk/db")];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        path == INSTALLED
    }
    fn max_size(&self) -> u64 {
        64 << 20
    }
    fn parse(&self, _path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        parse_installed(&String::from_utf8_lossy(bytes))
            .map(|p| Fact::OsPackages(p.into_iter().map(Into::into).collect()).into())
    }
}

/// The names of a `D:` or `p:` list, each without its version (`so:libc.musl-x86_64.so.1=1`,
/// `musl>=1.1.22`, `cmd:ls`): at most 256 per line.
fn capabilities(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split_whitespace()
        .take(256)
        .filter_map(|d| d.split(['=', '<', '>', '~']).next())
        .filter(|d| !d.is_empty() && d.len() <= 256)
        .map(str::to_owned)
}

pub(crate) fn parse_installed(text: &str) -> Result<Vec<ApkPackage>, String> {
    let mut out = Vec::new();
    let mut cur: Option<ApkPackage> = None;
    let mut dir = String::new();
    let mut stanza = 0usize;
    let finish = |cur: &mut Option<ApkPackage>, out: &mut Vec<ApkPackage>, stanza: usize| {
        if let Some(p) = cur.take() {
            if p.name.is_empty() || p.version.is_empty() {
                return Err(format!("stanza {stanza} lacks a P: name or V: version"));
            }
            out.push(p);
        }
        Ok(())
    };
    for (lineno, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            finish(&mut cur, &mut out, stanza)?;
            dir.clear();
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("line {}: not KEY:VALUE", lineno + 1));
        };
        if key.len() != 1 {
            return Err(format!("line {}: not KEY:VALUE", lineno + 1));
        }
        if cur.is_none() {
            stanza += 1;
        }
        let p = cur.get_or_insert_with(|| ApkPackage {
            name: String::new(),
            version: String::new(),
            arch: None,
            origin: None,
            license: None,
            maintainer: None,
            depends: Vec::new(),
            provides: Vec::new(),
            files: Vec::new(),
        });
        match key {
            "P" => p.name = value.to_owned(),
            "V" => p.version = value.to_owned(),
            "A" => p.arch = Some(value.to_owned()),
            "o" => p.origin = Some(value.to_owned()),
            "L" if !value.trim().is_empty() => p.license = Some(value.trim().to_owned()),
            "m" if !value.trim().is_empty() => p.maintainer = Some(value.trim().to_owned()),
            "D" => p
                .depends
                .extend(capabilities(value).filter(|d| !d.starts_with('!'))),
            "p" => p.provides.extend(capabilities(value)),
            "F" => {
                dir = value.trim_matches('/').to_owned();
                p.files.push(format!("/{dir}"));
            }
            "R" => p.files.push(if dir.is_empty() {
                format!("/{value}")
            } else {
                format!("/{dir}/{value}")
            }),
            _ => {}
        }
    }
    finish(&mut cur, &mut out, stanza)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_and_maintainer() {
        // The musl stanza of Alpine 3.10's real installed database (shared/data/images/real).
        let text = "P:musl\nV:1.1.22-r3\nA:x86_64\nL:MIT\no:musl\nm:Timo Teräs <timo.teras@iki.fi>\n\nP:bare\nV:1\nL:\n";
        let p = parse_installed(text).unwrap();
        let os: OsPackage = p[0].clone().into();
        assert_eq!(os.licenses, ["MIT"]);
        assert_eq!(os.author.as_deref(), Some("Timo Teräs <timo.teras@iki.fi>"));
        let bare: OsPackage = p[1].clone().into();
        assert!(bare.licenses.is_empty() && bare.author.is_none());
    }

    #[test]
    fn parses_stanzas_and_files() {
        let text = "C:Q1abc=\nP:musl\nV:1.1.22-r3\nA:x86_64\no:musl\nF:lib\nR:libc.musl-x86_64.so.1\nR:ld-musl-x86_64.so.1\n\nP:busybox\nV:1.30.1-r3\nA:x86_64\no:busybox\nF:bin\nR:busybox\n\n";
        let p = parse_installed(text).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].files,
            [
                "/lib",
                "/lib/libc.musl-x86_64.so.1",
                "/lib/ld-musl-x86_64.so.1"
            ]
        );
        assert_eq!(p[1].origin.as_deref(), Some("busybox"));
    }

    #[test]
    fn corrupt() {
        assert!(parse_installed("garbage line\n").is_err());
        assert!(parse_installed("P:x\n\n").is_err());
        assert!(parse_installed("").unwrap().is_empty());
    }
}
