//! Red Hat's CSAF VEX data as Red Hat publishes it for mirroring
//! (`https://security.access.redhat.com/data/csaf/v2/vex/`): one dated archive of every
//! document (`archive_latest.txt` names it, `csaf_vex_YYYY-MM-DD.tar.zst`), then the
//! documents changed since, listed in `changes.csv`, and those deleted, in `deletions.csv`
//! (both lines of `"PATH","TIMESTAMP"`).
//!
//! An update fetches the archive only when a new one is named, asks for `changes.csv`
//! conditionally, and fetches each changed document once (kept by path and timestamp). What
//! it keeps is a *bundle*: the archive, the changed documents, and a small manifest (the
//! feed's download in the update's sense, [`Bundle`]) naming them. Parsing the bundle reads
//! the archive as a stream, entry by entry, with each changed document replacing the
//! archive's copy and each deleted one left out.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use customs_http::{Conditional, Transport, Validators};
use serde::{Deserialize, Serialize};

use crate::feeds::{FeedError, redhat};
use crate::model::Advisory;

/// At most this many changed documents are fetched in one update; more mean the archive is
/// old (Red Hat publishes a new one weekly) or the list is not what it claims.
const MAX_CHANGES: usize = 50_000;
/// A CSAF VEX document larger than this is refused (the largest real ones are a few MB).
const MAX_DOCUMENT: u64 = 32 << 20;
/// The archive: every document Red Hat has published, compressed.
const MAX_ARCHIVE: u64 = 4 << 30;
const MAX_LIST: u64 = 256 << 20;
/// The share of documents that may fail to parse before the whole is refused.
const MAX_BAD_SHARE: f64 = 0.05;

/// What an update keeps of the feed: the manifest written as the feed's download file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Bundle {
    /// The folder the archive and the changed documents are kept in.
    dir: PathBuf,
    /// The archive's file name (in `dir`), as `archive_latest.txt` named it.
    archive: String,
    /// Changed documents: path in the archive → (timestamp of the change, file in `dir`).
    changes: BTreeMap<String, (String, String)>,
    /// Paths deleted since the archive.
    deleted: BTreeSet<String>,
}

/// The date an archive's name carries (`csaf_vex_2026-11-29.tar.zst` → `2026-11-29`).
pub(crate) fn archive_date(name: &str) -> Option<&str> {
    let date = name.strip_prefix("csaf_vex_")?.strip_suffix(".tar.zst")?;
    (date.len() == 10 && date.bytes().all(|b| b.is_ascii_digit() || b == b'-')).then_some(date)
}

/// A document path as the lists give it: `2024/cve-2024-1234.json`, nothing that could leave
/// the folder it is kept in.
fn sane_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 200
        && p.ends_with(".json")
        && !p.starts_with('/')
        && !p.contains("..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'))
}

/// The `"PATH","TIMESTAMP"` lines of `changes.csv` / `deletions.csv` on or after `since`
/// (a date; the archive of that day may predate a change made later that day, and fetching
/// a document twice is harmless). The newest timestamp wins for a path listed twice.
pub(crate) fn listed_since(
    text: &str,
    since: &str,
    list: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split(',').map(|c| c.trim().trim_matches('"'));
        let (Some(path), Some(ts)) = (cols.next(), cols.next()) else {
            return Err(format!("{list} line {}: not \"PATH\",\"TIMESTAMP\"", i + 1));
        };
        // The date is the timestamp's first ten characters; a timestamp that does not start
        // with ten ASCII ones is not one (and slicing it could split a character).
        let day = ts.get(..10).filter(|d| d.is_ascii());
        let (true, Some(day)) = (sane_path(path), day) else {
            return Err(format!(
                "{list} line {}: {line:?} is not a document entry",
                i + 1
            ));
        };
        if day >= since {
            let e = out.entry(path.to_owned()).or_insert_with(String::new);
            if ts > e.as_str() {
                *e = ts.to_owned();
            }
        }
    }
    Ok(out)
}

/// A download's result, as the update loop takes it.
pub(crate) enum Fetched {
    /// Nothing changed upstream since the bundle `held` describes.
    Unchanged,
    /// A new manifest was written to `staged`: bytes transferred, `changes.csv`'s validators.
    New(u64, Validators),
}

/// Bring the bundle up to date from `base` (the folder URL, ending in `/`): the manifest goes
/// to `staged`, the files into `dir`. `held` is the manifest now in use with the validators
/// of its `changes.csv`, when there is one.
pub(crate) fn fetch(
    transport: &Transport,
    base: &str,
    staged: &Path,
    dir: &Path,
    held: Option<(&Path, &Validators)>,
) -> Result<Fetched, String> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let previous: Option<Bundle> = held
        .and_then(|(p, _)| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let latest_url = format!("{base}archive_latest.txt");
    let latest = transport
        .get_bytes(&latest_url, 4096)
        .map_err(|e| e.to_string())?;
    let archive = String::from_utf8_lossy(&latest).trim().to_owned();
    let Some(date) = archive_date(&archive) else {
        return Err(format!(
            "{latest_url}: {archive:?} does not name an archive (csaf_vex_YYYY-MM-DD.tar.zst)"
        ));
    };
    let same_archive = previous
        .as_ref()
        .is_some_and(|p| p.archive == archive && dir.join(&archive).is_file());
    let mut transferred = latest.len() as u64;
    // The list of changes, conditionally while the archive is the one held.
    let ask = match (same_archive, held) {
        (true, Some((_, v))) => v.clone(),
        _ => Validators::default(),
    };
    let changes_url = format!("{base}changes.csv");
    let got = transport
        .get_if_changed(&changes_url, &ask, |body| {
            let mut text = String::new();
            body.take(MAX_LIST + 1).read_to_string(&mut text)?;
            Ok(text)
        })
        .map_err(|e| e.to_string())?;
    let (changes_text, validators) = match got {
        Conditional::NotModified => return Ok(Fetched::Unchanged),
        Conditional::Fetched { value, validators } => (value, validators),
    };
    transferred += changes_text.len() as u64;
    if !same_archive {
        let n = transport
            .get_to_file(
                &format!("{base}{archive}"),
                &dir.join(&archive),
                MAX_ARCHIVE,
            )
            .map_err(|e| e.to_string())?;
        transferred += n;
    }
    let changed = listed_since(&changes_text, date, "changes.csv")?;
    if changed.len() > MAX_CHANGES {
        return Err(format!(
            "{changes_url}: {} documents changed since {date}, over the limit of {MAX_CHANGES}",
            changed.len()
        ));
    }
    let deletions = transport
        .get_bytes(&format!("{base}deletions.csv"), MAX_LIST)
        .map_err(|e| e.to_string())?;
    transferred += deletions.len() as u64;
    let deleted: BTreeSet<String> =
        listed_since(&String::from_utf8_lossy(&deletions), date, "deletions.csv")?
            .into_keys()
            .collect();
    let mut bundle = Bundle {
        dir: dir.to_owned(),
        archive,
        changes: BTreeMap::new(),
        deleted,
    };
    for (path, ts) in changed {
        let file = format!("change-{}", path.replace('/', "_"));
        // A change already fetched at this timestamp is not fetched again.
        let kept = previous
            .as_ref()
            .and_then(|p| p.changes.get(&path))
            .filter(|(t, f)| *t == ts && *f == file && dir.join(f).is_file());
        if kept.is_none() {
            transferred += transport
                .get_to_file(&format!("{base}{path}"), &dir.join(&file), MAX_DOCUMENT)
                .map_err(|e| e.to_string())?;
        }
        bundle.changes.insert(path, (ts, file));
    }
    // Files neither this bundle nor the one in use names are left over from older ones.
    let mut keep: BTreeSet<&str> = bundle.changes.values().map(|(_, f)| f.as_str()).collect();
    keep.insert(&bundle.archive);
    if let Some(p) = &previous {
        keep.extend(p.changes.values().map(|(_, f)| f.as_str()));
        keep.insert(&p.archive);
    }
    crate::update::write_bundle(staged, &bundle, dir, &keep)?;
    Ok(Fetched::New(transferred, validators))
}

/// The advisories of a bundle: the archive's documents, each replaced by its change when it
/// changed and left out when deleted, then the changed documents. A document that does not
/// parse is left out; more than 5 % of them refuse the whole.
pub(crate) fn parse(origin: &str, manifest: &Path) -> Result<Vec<Advisory>, FeedError> {
    let bundle: Bundle = std::fs::read(manifest)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| FeedError::new(origin, format!("not a Red Hat VEX bundle: {e}")))?;
    let archive_path = bundle.dir.join(&bundle.archive);
    let name = format!("{origin}#{}", bundle.archive);
    let file =
        std::fs::File::open(&archive_path).map_err(|e| FeedError::new(&name, e.to_string()))?;
    let decoder = zstd::stream::read::Decoder::new(file)
        .map_err(|e| FeedError::new(&name, format!("not zstd: {e}")))?;
    let mut tar = tar::Archive::new(decoder);
    let mut out = Vec::new();
    let (mut documents, mut bad) = (0usize, Vec::new());
    let entries = tar
        .entries()
        .map_err(|e| FeedError::new(&name, format!("not a tar archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| FeedError::new(&name, format!("not a tar archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().trim_start_matches("./").to_owned())
            .unwrap_or_default();
        if !path.ends_with(".json") {
            continue;
        }
        if bundle.changes.contains_key(&path) || bundle.deleted.contains(&path) {
            continue;
        }
        documents += 1;
        let doc = format!("{name}#{path}");
        match read_bounded(&mut entry) {
            Ok(text) => match redhat::parse_csaf_vex(&doc, &text) {
                Ok(a) => out.extend(a),
                Err(e) => bad.push(e.to_string()),
            },
            Err(e) => bad.push(format!("{doc}: {e}")),
        }
    }
    for (path, (_, file)) in &bundle.changes {
        if bundle.deleted.contains(path) {
            continue;
        }
        documents += 1;
        let doc = format!("{origin}#{path}");
        let parsed = std::fs::File::open(bundle.dir.join(file))
            .and_then(|mut f| read_bounded(&mut f))
            .map_err(|e| format!("{doc}: {e}"))
            .and_then(|text| redhat::parse_csaf_vex(&doc, &text).map_err(|e| e.to_string()));
        match parsed {
            Ok(a) => out.extend(a),
            Err(e) => bad.push(e),
        }
    }
    if documents == 0 {
        return Err(FeedError::new(&name, "the archive holds no CSAF documents"));
    }
    if !bad.is_empty() && bad.len() as f64 > documents as f64 * MAX_BAD_SHARE {
        return Err(FeedError::new(
            origin,
            format!(
                "{} of {documents} documents do not parse (more than {:.0} %), the first: {}",
                bad.len(),
                MAX_BAD_SHARE * 100.0,
                bad[0]
            ),
        ));
    }
    Ok(out)
}

fn read_bounded(r: &mut impl Read) -> io::Result<String> {
    let mut text = String::new();
    let n = r.take(MAX_DOCUMENT + 1).read_to_string(&mut text)?;
    if n as u64 > MAX_DOCUMENT {
        return Err(io::Error::other(format!(
            "over the {MAX_DOCUMENT}-byte limit"
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_since_the_archive_and_checked() {
        let text = "\"2023/cve-2023-1.json\",\"2026-11-28T10:00:00+00:00\"\n\
                    \"2023/cve-2023-2.json\",\"2026-11-30T01:00:00+00:00\"\n\
                    \"2023/cve-2023-2.json\",\"2026-12-01T01:00:00+00:00\"\n";
        let got = listed_since(text, "2026-11-30", "changes.csv").unwrap();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            [(
                "2023/cve-2023-2.json".to_owned(),
                "2026-12-01T01:00:00+00:00".to_owned()
            )]
        );
        for evil in [
            "\"../../etc/passwd.json\",\"2026-12-01\"",
            "\"/abs.json\",\"2026-12-01\"",
            "<html>",
        ] {
            assert!(
                listed_since(evil, "2026-11-30", "changes.csv").is_err(),
                "{evil}"
            );
        }
        assert_eq!(
            archive_date("csaf_vex_2026-11-29.tar.zst"),
            Some("2026-11-29")
        );
        assert_eq!(archive_date("csaf_vex_../x.tar.zst"), None);
        assert_eq!(archive_date("<html>"), None);
    }
}
