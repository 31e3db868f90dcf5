//! Building a database from feed files: each input is a file or a folder, its format named
//! (`KIND:PATH`) or detected from its name and content. A file that fails to parse becomes a
//! warning naming it; the build goes on with the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use customs_types::Timestamp;
use serde::Serialize;

use crate::db::{DbError, DbWriter, SourceInfo};
use crate::feeds::{FeedError, alpine, debian, enrich, osv, redhat, ubuntu};
use crate::model::{Advisory, Enrichment};

/// Feed files larger than this are refused: the biggest real ones (NVD pages, KEV) are tens of MB.
const MAX_FEED_FILE: u64 = 512 << 20;

/// The formats `customs db build` reads. Each is named in `KIND:PATH` inputs and `--feed
/// KIND=URL` by its [`FeedKind::as_str`] spelling, which is also its serialized form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    /// The Debian security tracker's `data/CVE/list`.
    DebianCveList,
    /// The Debian security tracker's `data/DSA/list` (Debian Security Advisories).
    DebianDsa,
    /// The Debian security tracker's `data/DLA/list` (Debian LTS Advisories).
    DebianDla,
    /// The Debian security tracker's JSON export (`/tracker/data/json`).
    DebianJson,
    /// Alpine secdb in YAML (the archived `alpine-secdb` repository, v3.3 to v3.11).
    AlpineYaml,
    /// Alpine secdb in JSON (`secdb.alpinelinux.org/<release>/<repo>.json`).
    AlpineJson,
    /// One file of the Ubuntu CVE tracker (`active/CVE-…`, `retired/CVE-…`).
    UbuntuUct,
    /// One Red Hat CSAF VEX document (one CVE per file).
    RedhatCsaf,
    /// Red Hat's CSAF VEX archive with the documents changed and deleted since, as `db
    /// update` keeps it (a manifest naming them; the URL is the folder Red Hat publishes
    /// `archive_latest.txt`, `changes.csv` and `deletions.csv` in).
    RedhatVex,
    /// OSV records in JSON: one, a list, or an API `{"vulns": […]}` answer.
    OsvJson,
    /// OSV records in YAML, as PyPA's advisory database commits them.
    OsvYaml,
    /// A zip archive of OSV JSON records, as OSV publishes each ecosystem's (`all.zip`).
    OsvZip,
    /// One rustsec/advisory-db advisory (Markdown with TOML front matter, or TOML).
    Rustsec,
    /// NVD CVE API 2.0 JSON: an API page, one item or one CVE (enrichment).
    Nvd,
    /// NVD's CVE API 2.0 itself, paged and then asked by last-modified windows, as `db
    /// update` keeps it (a manifest naming the pages; the URL is the API's endpoint).
    NvdApi,
    /// CISA's KEV catalog as JSON (enrichment).
    KevJson,
    /// CISA's KEV catalog as CSV (enrichment).
    KevCsv,
    /// A FIRST EPSS scores CSV (enrichment).
    Epss,
}

impl FeedKind {
    /// Every kind, in declaration order (the order `customs db build --help` lists them in).
    pub const ALL: [Self; 18] = [
        Self::DebianCveList,
        Self::DebianDsa,
        Self::DebianDla,
        Self::DebianJson,
        Self::AlpineYaml,
        Self::AlpineJson,
        Self::UbuntuUct,
        Self::RedhatCsaf,
        Self::RedhatVex,
        Self::OsvJson,
        Self::OsvYaml,
        Self::OsvZip,
        Self::Rustsec,
        Self::Nvd,
        Self::NvdApi,
        Self::KevJson,
        Self::KevCsv,
        Self::Epss,
    ];

    /// The kind's name as inputs and `--feed` spell it (`debian-cve-list`, `osv-json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DebianCveList => "debian-cve-list",
            Self::DebianDsa => "debian-dsa",
            Self::DebianDla => "debian-dla",
            Self::DebianJson => "debian-json",
            Self::AlpineYaml => "alpine-yaml",
            Self::AlpineJson => "alpine-json",
            Self::UbuntuUct => "ubuntu-uct",
            Self::RedhatCsaf => "redhat-csaf",
            Self::RedhatVex => "redhat-vex",
            Self::OsvJson => "osv-json",
            Self::OsvYaml => "osv-yaml",
            Self::OsvZip => "osv-zip",
            Self::Rustsec => "rustsec",
            Self::Nvd => "nvd",
            Self::NvdApi => "nvd-api",
            Self::KevJson => "kev-json",
            Self::KevCsv => "kev-csv",
            Self::Epss => "epss",
        }
    }

    /// The kind [`FeedKind::as_str`] spells `s`, exactly (case matters); `None` for any other
    /// text.
    pub fn parse_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

enum Parsed {
    Advisories(Vec<Advisory>),
    Enrichment(Vec<Enrichment>),
}

fn parse_file(kind: FeedKind, origin: &str, text: &str) -> Result<Parsed, FeedError> {
    use Parsed::{Advisories as A, Enrichment as E};
    Ok(match kind {
        FeedKind::DebianCveList => A(debian::parse_cve_list(origin, text)?),
        FeedKind::DebianDsa => A(debian::parse_dsa_list(origin, text)?),
        FeedKind::DebianDla => A(debian::parse_dla_list(origin, text)?),
        FeedKind::DebianJson => A(debian::parse_tracker_json(origin, text)?),
        FeedKind::AlpineYaml => A(alpine::parse_secdb_yaml(origin, text)?),
        FeedKind::AlpineJson => A(alpine::parse_secdb_json(origin, text)?),
        FeedKind::UbuntuUct => A(ubuntu::parse_uct(origin, text)?),
        FeedKind::RedhatCsaf => A(redhat::parse_csaf_vex(origin, text)?),
        FeedKind::OsvJson => A(osv::parse_osv_json(origin, text)?),
        FeedKind::OsvYaml => A(osv::parse_osv_yaml(origin, text)?),
        FeedKind::OsvZip => {
            return Err(FeedError::new(
                origin,
                "an OSV zip archive is binary, read with parse_bytes",
            ));
        }
        FeedKind::RedhatVex | FeedKind::NvdApi => {
            return Err(FeedError::new(
                origin,
                "a bundle written by `db update`, read with the files it names",
            ));
        }
        FeedKind::Rustsec => A(osv::parse_rustsec(origin, text)?),
        FeedKind::Nvd => E(enrich::parse_nvd(origin, text)?),
        FeedKind::KevJson => E(enrich::parse_kev_json(origin, text)?),
        FeedKind::KevCsv => E(enrich::parse_kev_csv(origin, text)?),
        FeedKind::Epss => E(enrich::parse_epss_csv(origin, text)?),
    })
}

/// Entries of an OSV archive larger than this are refused: the largest OSV records are a few
/// MB (a Linux kernel CVE listing hundreds of commits).
const MAX_ZIP_ENTRY: u64 = 32 << 20;
/// Entries read from one OSV archive at most (npm's, the largest, holds about 200,000).
const MAX_ZIP_ENTRIES: usize = 2_000_000;
/// The share of an archive's records that may fail to parse before the archive as a whole is
/// refused: a few malformed records are the publisher's, many mean a broken download or a
/// format change customs does not read.
const MAX_BAD_SHARE: f64 = 0.05;

/// A feed file as bytes: an OSV archive is read entry by entry, every other format as text.
fn parse_bytes(kind: FeedKind, origin: &str, bytes: &[u8]) -> Result<Parsed, FeedError> {
    if kind == FeedKind::OsvZip {
        return parse_osv_zip(origin, std::io::Cursor::new(bytes)).map(Parsed::Advisories);
    }
    parse_file(kind, origin, &String::from_utf8_lossy(bytes))
}

/// The OSV records of a zip archive. Entries that are not `.json` files are passed over; one
/// record that does not parse is left out, but more than [`MAX_BAD_SHARE`] of them refuse the
/// archive, naming the first.
fn parse_osv_zip(
    origin: &str,
    reader: impl std::io::Read + std::io::Seek,
) -> Result<Vec<Advisory>, FeedError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|e| FeedError::new(origin, format!("not a zip archive: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(FeedError::new(
            origin,
            format!(
                "{} entries, over the limit of {MAX_ZIP_ENTRIES}",
                archive.len()
            ),
        ));
    }
    let mut out = Vec::new();
    let (mut records, mut bad) = (0usize, Vec::new());
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| FeedError::new(origin, format!("entry {i}: {e}")))?;
        let entry_name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                records += 1;
                bad.push(format!("{origin}: entry {i}: {e}"));
                continue;
            }
        };
        if !entry.is_file() || !entry.name_raw().ends_with(b".json") {
            continue;
        }
        records += 1;
        let name = format!("{origin}#{entry_name}");
        if entry.size() > MAX_ZIP_ENTRY {
            bad.push(format!(
                "{name}: {} bytes, over the {MAX_ZIP_ENTRY}-byte limit",
                entry.size()
            ));
            continue;
        }
        let mut text = String::new();
        // The declared size is the archive's word; the read is bounded on its own.
        match (&mut entry)
            .take(MAX_ZIP_ENTRY + 1)
            .read_to_string(&mut text)
        {
            Ok(n) if n as u64 > MAX_ZIP_ENTRY => {
                bad.push(format!("{name}: over the {MAX_ZIP_ENTRY}-byte limit"));
            }
            Ok(_) => match osv::parse_osv_json(&name, &text) {
                Ok(a) => out.extend(a),
                Err(e) => bad.push(e.to_string()),
            },
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    if !bad.is_empty() && bad.len() as f64 > records as f64 * MAX_BAD_SHARE {
        return Err(FeedError::new(
            origin,
            format!(
                "{} of {records} records do not parse (more than {:.0} %), the first: {}",
                bad.len(),
                MAX_BAD_SHARE * 100.0,
                bad[0]
            ),
        ));
    }
    Ok(out)
}

/// How many records a feed file of `kind` holds, by parsing it as a build would: what an
/// update checks a download with before it takes the place of the previous one.
///
/// # Errors
/// The parser's, naming `origin`.
pub fn count_records(kind: FeedKind, origin: &str, bytes: &[u8]) -> Result<usize, FeedError> {
    Ok(match parse_bytes(kind, origin, bytes)? {
        Parsed::Advisories(a) => a.len(),
        Parsed::Enrichment(e) => e.len(),
    })
}

/// Decide a file's format from its path and first bytes. `None`: not a feed file (README, …).
pub fn detect(path: &Path, text: &str) -> Option<FeedKind> {
    let name = path.file_name()?.to_string_lossy();
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let head: String = text.chars().take(4096).collect();
    if name == "list" {
        return match parent.as_str() {
            "DSA" => Some(FeedKind::DebianDsa),
            "DLA" => Some(FeedKind::DebianDla),
            "CVE" => Some(FeedKind::DebianCveList),
            _ => None,
        };
    }
    if name.contains("CVE-list") {
        return Some(FeedKind::DebianCveList);
    }
    match ext.as_str() {
        // RustSec advisories open with their TOML front matter; a README merely mentions it.
        "md" => head
            .trim_start()
            .starts_with("```toml")
            .then_some(FeedKind::Rustsec),
        "csv" => {
            if head.starts_with("cveID") || head.starts_with("\"cveID\"") {
                Some(FeedKind::KevCsv)
            } else if head.starts_with("#model_version")
                || head.to_lowercase().starts_with("cve,epss")
            {
                Some(FeedKind::Epss)
            } else {
                None
            }
        }
        "yaml" | "yml" => {
            if head.contains("secfixes") || head.contains("distroversion") {
                Some(FeedKind::AlpineYaml)
            } else if head.contains("id:") {
                Some(FeedKind::OsvYaml)
            } else {
                None
            }
        }
        "json" => detect_json(text),
        "" if name.starts_with("CVE-") && head.contains("Candidate:") => Some(FeedKind::UbuntuUct),
        _ => None,
    }
}

fn detect_json(text: &str) -> Option<FeedKind> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    if v.is_array() {
        return Some(FeedKind::OsvJson);
    }
    let o = v.as_object()?;
    if o.get("document")
        .and_then(|d| d.get("csaf_version"))
        .is_some()
    {
        return Some(FeedKind::RedhatCsaf);
    }
    if o.contains_key("catalogVersion") {
        return Some(FeedKind::KevJson);
    }
    if o.contains_key("resultsPerPage")
        || (o.contains_key("cve") && !o.contains_key("affected"))
        || o.get("format").and_then(|f| f.as_str()) == Some("NVD_CVE")
    {
        return Some(FeedKind::Nvd);
    }
    if o.contains_key("distroversion") || o.contains_key("secfixes") {
        return Some(FeedKind::AlpineJson);
    }
    if o.contains_key("vulns")
        || (o.contains_key("id")
            && (o.contains_key("affected")
                || o.contains_key("modified")
                || o.contains_key("schema_version")))
    {
        return Some(FeedKind::OsvJson);
    }
    // The tracker export: source package → CVE id → {releases: …}.
    let looks_tracker = o.values().take(3).all(|p| {
        p.as_object().is_some_and(|m| {
            m.keys()
                .take(3)
                .all(|k| k.starts_with("CVE-") || k.starts_with("TEMP-"))
        })
    });
    (looks_tracker && !o.is_empty()).then_some(FeedKind::DebianJson)
}

/// What a build read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildReport {
    /// What each input contributed, per format, as stored in the database.
    pub sources: Vec<SourceInfo>,
    /// Advisory records stored, withdrawn ones included.
    pub advisories: usize,
    /// NVD, KEV and EPSS records read (a CVE read twice counts twice but is stored once).
    pub enrichment: usize,
    /// Files that are not feeds in a format customs reads (README, LICENSE, a malformed
    /// file whose format cannot be told), each with why.
    pub skipped: Vec<String>,
    /// Files that failed to parse, with why; the build went on without them.
    pub warnings: Vec<String>,
}

/// An input as the user gave it: an optional kind and a path.
pub fn parse_input(s: &str) -> (Option<FeedKind>, PathBuf) {
    if let Some((k, p)) = s.split_once(':')
        && let Some(kind) = FeedKind::parse_name(k)
    {
        return (Some(kind), PathBuf::from(p));
    }
    (None, PathBuf::from(s))
}

fn files_under(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_file() {
        out.push(path.to_owned());
        return;
    }
    if !meta.is_dir() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(path) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for e in entries {
        if e.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        files_under(&e, out);
    }
}

fn newest(adv: &[Advisory]) -> Option<String> {
    adv.iter()
        .filter_map(|a| a.modified.clone().or_else(|| a.published.clone()))
        .max()
}

/// Whether `file` is a zip archive named as one (`.zip`, and the local-file magic).
fn is_zip(file: &Path) -> bool {
    use std::io::Read;
    let named = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let mut magic = [0u8; 4];
    named
        && std::fs::File::open(file)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Build `out` from the inputs. The file appears only when the build succeeds, and a build
/// that read no record at all fails ([`DbError::NothingRead`]) rather than write an empty
/// database.
pub fn build(out: &Path, inputs: &[String], built_at: Timestamp) -> Result<BuildReport, DbError> {
    build_inner(out, inputs, built_at, false)
}

/// [`build`], or with `allow_empty` also a database of no records when every input parsed
/// (a well-formed feed with nothing in it): `db update` judges each feed's count itself.
pub(crate) fn build_inner(
    out: &Path,
    inputs: &[String],
    built_at: Timestamp,
    allow_empty: bool,
) -> Result<BuildReport, DbError> {
    let mut w = DbWriter::create(out)?;
    let mut report = BuildReport::default();
    for input in inputs {
        let (forced, path) = parse_input(input);
        if !path.exists() {
            report
                .warnings
                .push(format!("{}: no such file or directory", path.display()));
            continue;
        }
        let mut files = Vec::new();
        files_under(&path, &mut files);
        let mut per_kind: BTreeMap<FeedKind, (i64, Option<String>)> = BTreeMap::new();
        if files.is_empty() {
            report
                .warnings
                .push(format!("{}: no files in it", path.display()));
        }
        for file in files {
            let origin = file.display().to_string();
            // An OSV archive is read from disk entry by entry (each entry bounded, their
            // number too), never whole into memory: npm's is hundreds of megabytes.
            let (kind, parsed) = if forced == Some(FeedKind::NvdApi) {
                (
                    FeedKind::NvdApi,
                    crate::nvd_api::parse(&origin, &file).map(Parsed::Enrichment),
                )
            } else if forced == Some(FeedKind::RedhatVex) {
                (
                    FeedKind::RedhatVex,
                    crate::vex_archive::parse(&origin, &file).map(Parsed::Advisories),
                )
            } else if forced.is_none_or(|k| k == FeedKind::OsvZip) && is_zip(&file) {
                let parsed = std::fs::File::open(&file)
                    .map_err(|e| FeedError::new(&origin, e.to_string()))
                    .and_then(|f| parse_osv_zip(&origin, std::io::BufReader::new(f)));
                (FeedKind::OsvZip, parsed.map(Parsed::Advisories))
            } else {
                let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
                if size > MAX_FEED_FILE {
                    report.warnings.push(format!(
                        "{}: {size} bytes, over the {MAX_FEED_FILE}-byte limit: skipped",
                        file.display()
                    ));
                    continue;
                }
                let bytes = match std::fs::read(&file) {
                    Ok(b) => b,
                    Err(e) => {
                        report.warnings.push(format!("{}: {e}", file.display()));
                        continue;
                    }
                };
                // A zip not named `.zip` is no archive customs reads.
                let kind = forced.or_else(|| {
                    (!bytes.starts_with(b"PK\x03\x04"))
                        .then(|| detect(&file, &String::from_utf8_lossy(&bytes)))
                        .flatten()
                });
                let Some(kind) = kind else {
                    report.skipped.push(format!(
                        "{}: not a feed in a format customs reads (name it as KIND:PATH to force one)",
                        file.display()
                    ));
                    continue;
                };
                (kind, parse_bytes(kind, &origin, &bytes))
            };
            match parsed {
                Ok(Parsed::Advisories(a)) => {
                    let e = per_kind.entry(kind).or_default();
                    e.0 += a.len() as i64;
                    e.1 = e.1.clone().max(newest(&a));
                    report.advisories += a.len();
                    w.add_advisories(&a)?;
                }
                Ok(Parsed::Enrichment(items)) => {
                    per_kind.entry(kind).or_default().0 += items.len() as i64;
                    report.enrichment += items.len();
                    w.add_enrichment(&items)?;
                }
                Err(e) => report.warnings.push(e.to_string()),
            }
        }
        for (kind, (records, newest)) in per_kind {
            let s = SourceInfo {
                feed: kind.as_str().to_owned(),
                input: path.display().to_string(),
                records,
                newest,
            };
            w.add_source(&s)?;
            report.sources.push(s);
        }
    }
    let nothing = report.advisories == 0 && report.enrichment == 0;
    if nothing && !(allow_empty && report.warnings.is_empty() && report.skipped.is_empty()) {
        w.abandon();
        let mut problems = report.warnings;
        problems.extend(report.skipped);
        if problems.is_empty() {
            problems.push("the inputs hold no records".to_owned());
        }
        return Err(DbError::NothingRead { problems });
    }
    w.finish(built_at)?;
    Ok(report)
}

/// Build `out` from feed texts held in memory (the snapshot compiled into the binary), each
/// named by an origin like `snapshot:osv-go/data/GO-2020-0001.json`. The sources table gets
/// one row per kind and origin up to its first `/` (`snapshot:osv-go`), not one per file.
pub fn build_embedded(
    out: &Path,
    files: &[(FeedKind, &str, &str)],
    built_at: Timestamp,
) -> Result<BuildReport, DbError> {
    let mut w = DbWriter::create(out)?;
    let mut report = BuildReport::default();
    let mut groups: BTreeMap<(FeedKind, &str), (i64, Option<String>)> = BTreeMap::new();
    for (kind, origin, text) in files {
        let group = groups
            .entry((*kind, origin.split('/').next().unwrap_or(origin)))
            .or_default();
        match parse_file(*kind, origin, text) {
            Ok(Parsed::Advisories(a)) => {
                report.advisories += a.len();
                group.0 += a.len() as i64;
                group.1 = group.1.clone().max(newest(&a));
                w.add_advisories(&a)?;
            }
            Ok(Parsed::Enrichment(items)) => {
                report.enrichment += items.len();
                group.0 += items.len() as i64;
                w.add_enrichment(&items)?;
            }
            Err(e) => report.warnings.push(e.to_string()),
        }
    }
    for ((kind, input), (records, newest)) in groups {
        let s = SourceInfo {
            feed: kind.as_str().to_owned(),
            input: input.to_owned(),
            records,
            newest,
        };
        w.add_source(&s)?;
        report.sources.push(s);
    }
    w.finish(built_at)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(detect(&p("data/DSA/list"), ""), Some(FeedKind::DebianDsa));
        assert_eq!(detect(&p("x/README.md"), "# readme"), None);
        assert_eq!(
            detect(&p("kev.csv"), "cveID,vendorProject"),
            Some(FeedKind::KevCsv)
        );
        assert_eq!(
            detect(&p("a.json"), r#"{"id":"GO-1","affected":[]}"#),
            Some(FeedKind::OsvJson)
        );
        assert_eq!(
            detect(&p("a.json"), r#"{"document":{"csaf_version":"2.0"}}"#),
            Some(FeedKind::RedhatCsaf)
        );
        assert_eq!(detect(&p("a.json"), "not json"), None);
        assert_eq!(parse_input("osv-json:/x").0, Some(FeedKind::OsvJson));
        assert_eq!(parse_input("/x:y").0, None);
    }

    /// A zip of real Go OSV records, the way OSV publishes `all.zip`, with `bad` malformed
    /// entries and a README among them.
    fn go_zip(good: usize, bad: usize) -> Vec<u8> {
        use std::io::Write;
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/advisories/osv-go/data/osv"
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for f in files.iter().take(good) {
            zip.start_file(f.file_name().unwrap().to_string_lossy(), opts)
                .unwrap();
            zip.write_all(&std::fs::read(f).unwrap()).unwrap();
        }
        for i in 0..bad {
            zip.start_file(format!("BROKEN-{i}.json"), opts).unwrap();
            zip.write_all(b"{\"id\": \"BROKEN\", \"affected\": [")
                .unwrap();
        }
        zip.start_file("README.md", opts).unwrap();
        zip.write_all(b"not a record").unwrap();
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn an_osv_archive_is_read_entry_by_entry() {
        let records = count_records(FeedKind::OsvZip, "go.zip", &go_zip(40, 1)).unwrap();
        assert_eq!(records, 40, "one broken record of 41 is left out");
        let err = count_records(FeedKind::OsvZip, "go.zip", &go_zip(10, 2)).unwrap_err();
        assert!(
            err.to_string().contains("2 of 12 records do not parse")
                && err.to_string().contains("go.zip#BROKEN-0.json"),
            "{err}"
        );
        let err = count_records(FeedKind::OsvZip, "x.zip", b"<html>gateway</html>").unwrap_err();
        assert!(err.to_string().contains("not a zip archive"), "{err}");
        // A build detects an archive by its magic and name.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("all.zip"), go_zip(5, 0)).unwrap();
        let report = build(
            &dir.path().join("db.sqlite"),
            &[dir.path().join("all.zip").display().to_string()],
            Timestamp::from_unix_secs(1_700_000_000),
        )
        .unwrap();
        assert!(report.advisories >= 5, "{report:?}");
        assert_eq!(report.sources[0].feed, "osv-zip");
    }
}
