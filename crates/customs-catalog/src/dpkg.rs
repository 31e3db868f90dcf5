//! dpkg: `var/lib/dpkg/status`, distroless `var/lib/dpkg/status.d/*`, and the `.list` files that
//! name each package's paths.
//!
//! The status file is a sequence of RFC 822-style stanzas (deb-control(5)). A package counts as
//! installed when the third word of `Status:` is `installed` (so `hold ok installed` counts, and
//! `deinstall ok config-files`, i.e. `rc`, and the half-installed states do not). Distroless
//! writes one stanza per file in `status.d/` with no `Status:` field; those count as installed.
//! Source name and version follow dpkg-query's `${source:Package}` and `${source:Version}`.

use serde::{Deserialize, Serialize};

use crate::analyzer::{Analyzer, Root};
use crate::facts::Fact;

pub(crate) const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d/";
const INFO: &str = "var/lib/dpkg/info/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DpkgPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) arch: Option<String>,
    pub(crate) source_name: String,
    pub(crate) source_version: String,
}

pub(crate) struct DpkgAnalyzer;

impl Analyzer for DpkgAnalyzer {
    fn name(&self) -> &'static str {
        "dpkg"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[
            Root::flat("var/lib/dpkg"),
            Root::flat("var/lib/dpkg/info"),
            Root::flat("var/lib/dpkg/status.d"),
        ];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        path == STATUS || is_status_d(path) || list_owner(path).is_some()
    }
    fn max_size(&self) -> u64 {
        // The largest real status files are a few MB; .list files rarely pass 1 MB.
        64 << 20
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Fact, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
        if list_owner(path).is_some() {
            return Ok(Fact::DpkgList(
                text.lines()
                    .filter(|l| !l.is_empty() && *l != "/.")
                    .map(str::to_owned)
                    .collect(),
            ));
        }
        parse_status(text, is_status_d(path)).map(Fact::DpkgStatus)
    }
}

fn is_status_d(path: &str) -> bool {
    path.strip_prefix(STATUS_D)
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums"))
}

/// The package a `var/lib/dpkg/info/NAME[:ARCH].list` file belongs to: `(name, arch)`.
pub(crate) fn list_owner(path: &str) -> Option<(&str, Option<&str>)> {
    let file = path.strip_prefix(INFO)?.strip_suffix(".list")?;
    if file.is_empty() || file.contains('/') {
        return None;
    }
    Some(match file.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (file, None),
    })
}

/// Whether a path is a package database this analyzer reads (not a `.list`).
pub(crate) fn is_db(path: &str) -> bool {
    path == STATUS || is_status_d(path)
}

/// Parse a status file. `lenient_status`: a stanza without `Status:` is installed (status.d).
pub(crate) fn parse_status(text: &str, lenient_status: bool) -> Result<Vec<DpkgPackage>, String> {
    let mut out = Vec::new();
    let mut stanzas = 0usize;
    for (i, stanza) in stanzas_of(text).enumerate() {
        stanzas += 1;
        let field = |name: &str| -> Option<&str> {
            stanza
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let Some(name) = field("Package") else {
            if stanza.is_empty() {
                continue;
            }
            return Err(format!("stanza {} has no Package field", i + 1));
        };
        let installed = match field("Status") {
            Some(s) => s.split_whitespace().nth(2) == Some("installed"),
            None => lenient_status,
        };
        if !installed {
            continue;
        }
        let Some(version) = field("Version").filter(|v| !v.is_empty()) else {
            return Err(format!("package {name:?} has no Version"));
        };
        let (source_name, source_version) = match field("Source") {
            Some(src) if !src.is_empty() => match src.split_once('(') {
                Some((n, v)) => (
                    n.trim().to_owned(),
                    v.trim_end().trim_end_matches(')').trim().to_owned(),
                ),
                None => (src.to_owned(), version.to_owned()),
            },
            _ => (name.to_owned(), version.to_owned()),
        };
        out.push(DpkgPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: field("Architecture").map(str::to_owned),
            source_name,
            source_version,
        });
    }
    if stanzas == 0 && !text.trim().is_empty() {
        return Err("no stanzas".to_owned());
    }
    Ok(out)
}

/// Split into stanzas of `(field, value)`; continuation lines are folded into the value.
fn stanzas_of(text: &str) -> impl Iterator<Item = Vec<(&str, String)>> {
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        while lines.peek().is_some_and(|l| l.trim().is_empty()) {
            lines.next();
        }
        lines.peek()?;
        let mut fields: Vec<(&str, String)> = Vec::new();
        while let Some(line) = lines.next_if(|l| !l.trim().is_empty()) {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = fields.last_mut() {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim(), v.trim().to_owned()));
            }
        }
        Some(fields)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_states_and_source() {
        let text = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.11-1)\nVersion: 3.0.11-1~deb12u2\nDescription: x\n multi\n .\n line\n\n\
Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
Package: half\nStatus: install reinstreq half-installed\nVersion: 1.0\n\n\
Package: held\nStatus: hold ok installed\nVersion: 2\nSource: heldsrc\n\n\
Package: plain\nStatus: install ok installed\nVersion: 1:2.3-4\n";
        let p = parse_status(text, false).unwrap();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libssl3", "held", "plain"]);
        assert_eq!(
            (p[0].source_name.as_str(), p[0].source_version.as_str()),
            ("openssl", "3.0.11-1")
        );
        assert_eq!(
            (p[1].source_name.as_str(), p[1].source_version.as_str()),
            ("heldsrc", "2")
        );
        assert_eq!(
            (p[2].source_name.as_str(), p[2].source_version.as_str()),
            ("plain", "1:2.3-4")
        );
    }

    #[test]
    fn status_d_without_status_counts() {
        let p = parse_status(
            "Package: base-files\nVersion: 12.4\nArchitecture: amd64\n",
            true,
        )
        .unwrap();
        assert_eq!(p.len(), 1);
        assert!(
            parse_status("Package: x\nVersion: 1\n", false)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn routing() {
        let a = DpkgAnalyzer;
        assert!(a.wants("var/lib/dpkg/status"));
        assert!(a.wants("var/lib/dpkg/status.d/base"));
        assert!(!a.wants("var/lib/dpkg/status.d/base.md5sums"));
        assert!(!a.wants("var/lib/dpkg/status-old"));
        assert_eq!(
            list_owner("var/lib/dpkg/info/libc6:amd64.list"),
            Some(("libc6", Some("amd64")))
        );
        assert!(!a.wants("var/lib/dpkg/info/libc6.md5sums"));
    }

    #[test]
    fn corrupt_is_an_error_not_a_panic() {
        assert!(parse_status("Version: 1\n\nfoo\n", false).is_err());
        assert!(parse_status("Package: x\nStatus: install ok installed\n", false).is_err());
        assert!(parse_status("", false).unwrap().is_empty());
    }

    #[test]
    fn real_texlive_status() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/packagedb/dpkg/texlive.status"
        );
        let text =
            std::fs::read_to_string(path).expect("shared data: packagedb/dpkg/texlive.status");
        let p = parse_status(&text, false).unwrap();
        assert_eq!(p.len(), 357);
        assert!(
            p.iter()
                .any(|p| p.name == "texlive-base" && p.source_name == "texlive-base")
        );
    }
}
