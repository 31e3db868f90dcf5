//! dpkg: `var/lib/dpkg/status`, distroless `var/lib/dpkg/status.d/*`, and the `.list` files that
//! name each package's paths.
//!
//! The status file is a sequence of RFC 822-style stanzas (deb-control(5)). A package counts as
//! installed when the third word of `Status:` is `installed` (so `hold ok installed` counts, and
//! `deinstall ok config-files`, i.e. `rc`, and the half-installed states do not). Distroless
//! writes one stanza per file in `status.d/` with no `Status:` field; those count as installed.
//! Source name and version follow dpkg-query's `${source:Package}` and `${source:Version}`.
//!
//! An installed stanza without a `Version` is left out with a warning naming the file and the
//! package, and the file's other packages are read. dpkg itself refuses such a file whole
//! (`dpkg-query -W` 1.21: "parsing file … package 'x': missing 'Version' field", and lists
//! nothing); a scanner that did the same would report an image with one damaged stanza as
//! empty, which hides every package it could still name. A stanza without a `Package` is
//! still an error for the whole file, as in dpkg: there is nothing to name it by.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::apply::Merged;
use crate::facts::{Entry, Fact};
use crate::inventory::Ecosystem;
use crate::osdb::{FileLists, OsPackage, PackageDb};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) maintainer: Option<String>,
    /// `Pre-Depends` then `Depends`, as alternative groups of names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) depends: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) provides: Vec<String>,
}

impl From<DpkgPackage> for OsPackage {
    fn from(p: DpkgPackage) -> Self {
        Self {
            upstream: Some(p.source_name.clone()),
            name: p.name,
            version: p.version,
            arch: p.arch,
            source_name: Some(p.source_name),
            source_version: Some(p.source_version),
            files: Vec::new(),
            purl_version: None,
            epoch: None,
            licenses: Vec::new(),
            author: p.maintainer,
            depends: p.depends,
            provides: p.provides,
        }
    }
}

pub(crate) struct DpkgAnalyzer;

impl PackageDb for DpkgAnalyzer {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Deb
    }
    fn is_db(&self, path: &str) -> bool {
        is_db(path)
    }
    fn purl_namespace(&self) -> &'static str {
        "debian"
    }
    fn licenses<'m>(&self, m: &'m Merged) -> HashMap<&'m str, &'m Vec<String>> {
        let mut out = HashMap::new();
        for (path, (_, entry)) in &m.files {
            if let Some(owner) = copyright_owner(path)
                && let Some((_, Fact::Licenses(l))) = m.resolve(path)
            {
                out.insert(owner, l);
            } else if let Some(owner) = doc_dir_owner(path)
                && let Entry::Symlink { target } = entry
                && let Some(dir) = crate::walk::resolve_target(path, target)
                && let Some((_, Fact::Licenses(l))) = m.resolve(&format!("{dir}/copyright"))
            {
                // Packages built from one source often share its doc folder (`libgcc-s1 ->
                // gcc-12-base`), and so its copyright file.
                out.entry(owner).or_insert(l);
            }
        }
        out
    }
    fn file_lists<'m>(&self, m: &'m Merged) -> FileLists<'m> {
        let mut lists = FileLists::new();
        for path in m.files.keys() {
            if let Some(owner) = list_owner(path)
                && let Some((_, Fact::FileList(l))) = m.resolve(path)
            {
                lists.insert(owner, l);
            }
        }
        lists
    }
}

impl Analyzer for DpkgAnalyzer {
    fn name(&self) -> &'static str {
        "dpkg"
    }
    fn version(&self) -> u32 {
        // 2: a stanza without a Version is left out with a warning, no longer the whole file.
        // 3: facts in the form every OS analyzer gives (osdb.rs).
        // 4: Maintainer, Pre-Depends, Depends, Provides; licences from copyright files.
        4
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[
            Root::flat("var/lib/dpkg"),
            Root::flat("var/lib/dpkg/info"),
            Root::flat("var/lib/dpkg/status.d"),
            Root::deep(DOC),
        ];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        path == STATUS
            || is_status_d(path)
            || list_owner(path).is_some()
            || copyright_owner(path).is_some()
    }
    fn wants_entry(&self, path: &str, mode: u32) -> bool {
        // A doc folder that is a link to another package's (mode 0: a link).
        self.wants(path) || (mode == 0 && doc_dir_owner(path).is_some())
    }
    fn max_size(&self) -> u64 {
        // The largest real status files are a few MB; .list files rarely pass 1 MB.
        64 << 20
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        if copyright_owner(path).is_some() {
            // Copyright files are often Latin-1 in their prose; the fields read are ASCII.
            return Ok(Fact::Licenses(copyright_licenses(&String::from_utf8_lossy(bytes))).into());
        }
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
        if list_owner(path).is_some() {
            return Ok(Fact::FileList(
                text.lines()
                    .filter(|l| !l.is_empty() && *l != "/.")
                    .map(str::to_owned)
                    .collect(),
            )
            .into());
        }
        let status = parse_status(text, is_status_d(path))?;
        Ok(Parsed {
            fact: Fact::OsPackages(status.packages.into_iter().map(Into::into).collect()),
            problems: status.skipped,
        })
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

const DOC: &str = "usr/share/doc";

/// The package a `usr/share/doc/NAME/copyright` file belongs to.
pub(crate) fn copyright_owner(path: &str) -> Option<&str> {
    let name = path
        .strip_prefix(DOC)?
        .strip_prefix('/')?
        .strip_suffix("/copyright")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// The package a `usr/share/doc/NAME` folder belongs to.
fn doc_dir_owner(path: &str) -> Option<&str> {
    let name = path.strip_prefix(DOC)?.strip_prefix('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// At most this many licences are kept from one copyright file, each at most this long: a
/// real file names a handful, a hostile one could name thousands.
const MAX_LICENSES: usize = 32;
const MAX_LICENSE_LEN: usize = 200;

/// The licences a copyright file declares. A machine-readable file (DEP-5, `Format:
/// https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/`) gives them in the
/// first line of each `License:` field; any other file is searched for the
/// `/usr/share/common-licenses/NAME` paths Debian policy has it cite. In the order first seen,
/// without repeats.
pub(crate) fn copyright_licenses(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |l: &str| {
        let l = l.trim().trim_end_matches(['.', ',', ';', ')']);
        // `none` (liblzma5's files without a licence) names no licence.
        if !l.is_empty()
            && !l.eq_ignore_ascii_case("none")
            && l.len() <= MAX_LICENSE_LEN
            && out.len() < MAX_LICENSES
            && !out.iter().any(|o| o == l)
        {
            out.push(l.to_owned());
        }
    };
    let machine_readable = text.lines().take_while(|l| !l.trim().is_empty()).any(|l| {
        l.get(..7)
            .is_some_and(|k| k.eq_ignore_ascii_case("Format:"))
            && (l.contains("copyright-format") || l.contains("dep5"))
    });
    if machine_readable {
        for line in text.lines() {
            if let Some(k) = line.get(..8)
                && k.eq_ignore_ascii_case("License:")
            {
                add(&line[8..]);
            }
        }
    } else {
        const CITED: &str = "/usr/share/common-licenses/";
        for (at, _) in text.match_indices(CITED) {
            let rest = &text[at + CITED.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+' | '_')))
                .unwrap_or(rest.len());
            add(&rest[..end]);
        }
    }
    out
}

/// Package names of a `Depends`-style field: `a (>= 1), b | c:any, d [amd64]` gives
/// `[[a], [b, c], [d]]`.
fn relation_groups(field: &str) -> Vec<Vec<String>> {
    field
        .split(',')
        .filter_map(|group| {
            let alts: Vec<String> = group
                .split('|')
                .filter_map(|alt| {
                    let name = alt.trim().split([' ', '(', '[', '<', '\n', '\t']).next()?;
                    let name = name.split(':').next()?;
                    (!name.is_empty()).then(|| name.to_owned())
                })
                .collect();
            (!alts.is_empty()).then_some(alts)
        })
        .collect()
}

/// Whether a path is a package database this analyzer reads (not a `.list`).
pub(crate) fn is_db(path: &str) -> bool {
    path == STATUS || is_status_d(path)
}

/// At most this many stanzas left out of one file are named; the rest are counted, so that one
/// hostile file cannot fill a layer's warnings.
const MAX_SKIPPED_NAMED: usize = 10;
/// A package name is shown up to this many characters in a warning (real ones are far
/// shorter; a hostile one could be the whole file).
const MAX_NAME_SHOWN: usize = 100;

/// A status file's installed packages, and the stanzas left out of them.
#[derive(Debug, Default)]
pub(crate) struct Status {
    pub(crate) packages: Vec<DpkgPackage>,
    /// One problem per stanza left out, naming it (the caller names the file).
    pub(crate) skipped: Vec<String>,
}

/// Parse a status file. `lenient_status`: a stanza without `Status:` is installed (status.d).
pub(crate) fn parse_status(text: &str, lenient_status: bool) -> Result<Status, String> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut unnamed = 0usize;
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
            if skipped.len() < MAX_SKIPPED_NAMED {
                // Quoted with escapes: the name is the image's bytes, and ends up on a terminal.
                let mut shown: String = name.chars().take(MAX_NAME_SHOWN).collect();
                if shown.len() < name.len() {
                    shown.push('…');
                }
                skipped.push(format!(
                    "stanza {} (package {shown:?}) has no Version: left out, the file's other packages are read",
                    i + 1
                ));
            } else {
                unnamed += 1;
            }
            continue;
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
            maintainer: field("Maintainer")
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
            depends: ["Pre-Depends", "Depends"]
                .into_iter()
                .filter_map(field)
                .flat_map(relation_groups)
                .collect(),
            provides: field("Provides")
                .map(relation_groups)
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect(),
        });
    }
    if stanzas == 0 && !text.trim().is_empty() {
        return Err("no stanzas".to_owned());
    }
    if unnamed > 0 {
        skipped.push(format!("{unnamed} more stanzas without a Version left out"));
    }
    Ok(Status {
        packages: out,
        skipped,
    })
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
        let p = parse_status(text, false).unwrap().packages;
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
        .unwrap()
        .packages;
        assert_eq!(p.len(), 1);
        assert!(
            parse_status("Package: x\nVersion: 1\n", false)
                .unwrap()
                .packages
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
        assert!(parse_status("", false).unwrap().packages.is_empty());
    }

    fn texlive_status() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/packagedb/dpkg/texlive.status"
        );
        std::fs::read_to_string(path).expect("shared data: packagedb/dpkg/texlive.status")
    }

    /// The text with the `Version:` line of the `n`th stanza (from 1) removed.
    fn without_version(text: &str, n: usize) -> String {
        let mut stanza = 0;
        let mut out = String::new();
        for line in text.split_inclusive('\n') {
            if line.starts_with("Package:") {
                stanza += 1;
            }
            if !(stanza == n && line.starts_with("Version:")) {
                out.push_str(line);
            }
        }
        assert_ne!(out.len(), text.len(), "stanza {n} has a Version line");
        out
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/dpkg-copyright/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn copyright_licences_machine_readable_and_cited() {
        assert_eq!(
            copyright_licenses(&fixture("libssl3.copyright")),
            ["Apache-2.0", "Artistic or GPL-1+", "Artistic", "GPL-1+"]
        );
        // Free-form text: the licences it cites under /usr/share/common-licenses.
        assert_eq!(
            copyright_licenses(&fixture("base-files.copyright")),
            ["GPL"]
        );
        assert!(copyright_licenses("no licence named here").is_empty());
        // A hostile file names a bounded number of bounded licences.
        let many: String = (0..1000).map(|i| format!("License: L{i}\n")).collect();
        let text = format!(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n{many}License: {}\n",
            "x".repeat(5000)
        );
        let l = copyright_licenses(&text);
        assert_eq!(l.len(), MAX_LICENSES);
        assert!(l.iter().all(|l| l.len() <= MAX_LICENSE_LEN));
        assert_eq!(
            copyright_owner("usr/share/doc/libssl3/copyright"),
            Some("libssl3")
        );
        assert_eq!(copyright_owner("usr/share/doc/a/b/copyright"), None);
        assert_eq!(copyright_owner("usr/share/doc//copyright"), None);
        assert!(DpkgAnalyzer.wants("usr/share/doc/zlib1g/copyright"));
    }

    #[test]
    fn relations_and_maintainer() {
        assert_eq!(
            relation_groups(
                "libc6 (>= 2.34), libssl3 (>= 3.0.0) | libssl1.1, python3:any, foo [amd64]"
            ),
            vec![
                vec!["libc6".to_owned()],
                vec!["libssl3".to_owned(), "libssl1.1".to_owned()],
                vec!["python3".to_owned()],
                vec!["foo".to_owned()],
            ]
        );
        let text = "Package: a\nStatus: install ok installed\nVersion: 1\nMaintainer: Jane <j@example.org>\nPre-Depends: p\nDepends: b (>= 1),\n c | d\nProvides: virt (= 1), other\n";
        let p = &parse_status(text, false).unwrap().packages[0];
        assert_eq!(p.maintainer.as_deref(), Some("Jane <j@example.org>"));
        assert_eq!(
            p.depends,
            vec![
                vec!["p".to_owned()],
                vec!["b".to_owned()],
                vec!["c".to_owned(), "d".to_owned()]
            ]
        );
        assert_eq!(p.provides, ["virt", "other"]);
        // The real texlive status: every package with a Depends line has its groups.
        let status = parse_status(&texlive_status(), false).unwrap();
        let base = status
            .packages
            .iter()
            .find(|p| p.name == "texlive-base")
            .unwrap();
        assert!(
            base.depends
                .iter()
                .any(|g| g.contains(&"tex-common".to_owned())),
            "{:?}",
            base.depends
        );
    }

    #[test]
    fn real_texlive_status() {
        let status = parse_status(&texlive_status(), false).unwrap();
        assert!(status.skipped.is_empty());
        let p = status.packages;
        assert_eq!(p.len(), 357);
        assert!(
            p.iter()
                .any(|p| p.name == "texlive-base" && p.source_name == "texlive-base")
        );
    }

    /// Papercut: one installed stanza without a `Version` made the whole status file an error,
    /// so the image listed no Debian package at all. The real texlive status file, with the
    /// second stanza's (libgs9-common's) Version line removed.
    #[test]
    fn a_stanza_without_version_costs_only_itself() {
        let text = texlive_status();
        let all = parse_status(&text, false).unwrap().packages;
        let status = parse_status(&without_version(&text, 2), false).unwrap();
        assert_eq!(
            status.skipped,
            [
                "stanza 2 (package \"libgs9-common\") has no Version: left out, the file's other packages are read"
            ]
        );
        let kept: Vec<&DpkgPackage> = all.iter().filter(|p| p.name != "libgs9-common").collect();
        assert_eq!(kept.len(), 356);
        assert_eq!(status.packages.iter().collect::<Vec<_>>(), kept);

        // Through the analyzer: the packages are the fact, the stanza a problem of the file.
        let parsed = DpkgAnalyzer
            .parse(STATUS, without_version(&text, 2).as_bytes())
            .unwrap();
        assert!(matches!(&parsed.fact, Fact::OsPackages(p) if p.len() == 356));
        assert_eq!(parsed.problems, status.skipped);
    }

    /// Distroless writes one stanza per `status.d/` file, without `Status:`. No such file is in
    /// the shared data, so this is texlive.status's first stanza written that way.
    #[test]
    fn a_status_d_file_without_version_is_left_out_with_a_problem() {
        let text = texlive_status();
        let first: String = text
            .split("\n\n")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("Status:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let path = "var/lib/dpkg/status.d/libquadmath0";
        let whole = DpkgAnalyzer.parse(path, first.as_bytes()).unwrap();
        assert!(whole.problems.is_empty());
        assert!(
            matches!(&whole.fact, Fact::OsPackages(p) if p.len() == 1 && p[0].version == "8.4.0-1ubuntu1~18.04")
        );
        let parsed = DpkgAnalyzer
            .parse(path, without_version(&first, 1).as_bytes())
            .unwrap();
        assert!(matches!(&parsed.fact, Fact::OsPackages(p) if p.is_empty()));
        assert_eq!(
            parsed.problems,
            [
                "stanza 1 (package \"libquadmath0\") has no Version: left out, the file's other packages are read"
            ]
        );
    }

    /// One file names at most ten stanzas it left out and counts the rest, so a hostile file
    /// cannot fill its layer's warnings. Minimal invented stanzas: only the count matters.
    #[test]
    fn stanzas_left_out_are_named_up_to_a_bound() {
        let text: String = (0..15)
            .map(|i| format!("Package: p{i}\nStatus: install ok installed\n\n"))
            .chain(["Package: ok\nStatus: install ok installed\nVersion: 1\n".to_owned()])
            .collect();
        let status = parse_status(&text, false).unwrap();
        assert_eq!(status.packages.len(), 1);
        assert_eq!(status.skipped.len(), MAX_SKIPPED_NAMED + 1);
        assert!(status.skipped[9].contains("\"p9\""), "{:?}", status.skipped);
        assert_eq!(
            status.skipped[10],
            "5 more stanzas without a Version left out"
        );
        // A hostile name is cut, and its control characters escaped.
        let long = format!("Package: \x1b[2J{}\n", "x".repeat(10_000));
        let status = parse_status(&long, true).unwrap();
        let [problem] = status.skipped.as_slice() else {
            panic!("{:?}", status.skipped);
        };
        assert!(
            problem.starts_with("stanza 1 (package \"\\u{1b}[2Jxxx"),
            "{problem}"
        );
        assert!(problem.len() < 200, "{problem}");
    }
}
