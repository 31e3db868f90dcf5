//! NVD's CVE API 2.0 (`https://services.nvd.nist.gov/rest/json/cves/2.0`) as a feed.
//!
//! The first update pages through every CVE (`startIndex`, `resultsPerPage`); later ones ask
//! only for what was modified since the last sync, in windows of at most 120 days (the API's
//! limit on `lastModStartDate`..`lastModEndDate`), paged the same way. The pages are kept on
//! disk behind a manifest ([`Bundle`], the feed's download in the update's sense), and parsed
//! in order so that a CVE's later record replaces its earlier one. When no CVE was modified,
//! nothing is parsed.
//!
//! The API asks clients to wait 6 seconds between requests without a key (`NVD_API_KEY`,
//! sent as the `apiKey` header, allows 0.6 s): the pause is [`NvdOptions::delay`].

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use customs_http::Transport;
use customs_types::Timestamp;
use serde::{Deserialize, Serialize};

use crate::feeds::{FeedError, enrich};
use crate::model::Enrichment;

/// The API's page size limit.
const PAGE: usize = 2000;
/// The API refuses wider last-modified windows.
const WINDOW_DAYS: u64 = 120;
/// NVD holds about 300,000 CVEs: 150 pages. Anything far beyond is not the API.
const MAX_PAGES: usize = 2000;
const MAX_PAGE_BYTES: u64 = 512 << 20;

/// How the NVD feed is asked.
#[derive(Debug, Clone)]
pub struct NvdOptions {
    /// Sent as the `apiKey` header (from `NVD_API_KEY`).
    pub api_key: Option<String>,
    /// The pause between two requests.
    pub delay: Duration,
}

impl Default for NvdOptions {
    fn default() -> Self {
        let api_key = std::env::var("NVD_API_KEY").ok().filter(|k| !k.is_empty());
        let delay = if api_key.is_some() {
            Duration::from_millis(600)
        } else {
            Duration::from_secs(6)
        };
        Self { api_key, delay }
    }
}

/// What an update keeps of the feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Bundle {
    /// The folder the pages are kept in.
    dir: PathBuf,
    /// Page files in `dir`, oldest first: the full download, then each increment's.
    pages: Vec<String>,
    /// When the last sync started: the next one asks for CVEs modified since.
    synced_at: Timestamp,
}

#[derive(Deserialize)]
struct PageHead {
    #[serde(rename = "totalResults")]
    total_results: usize,
    #[serde(rename = "resultsPerPage", default)]
    results_per_page: usize,
}

/// The API's date form: `2026-12-01T00:00:00.000+00:00`, the `+` escaped for the query.
fn api_date(t: Timestamp) -> String {
    let s = t.to_string();
    format!("{}.000%2B00:00", &s[..19])
}

/// The pages of one query (`extra`: the window's parameters, or none for every CVE), written
/// to `dir` as `PREFIX-NNNN.json`. Returns their file names and the bytes transferred.
fn fetch_pages(
    transport: &Transport,
    url: &str,
    extra: &str,
    dir: &Path,
    prefix: &str,
    opts: &NvdOptions,
    first_request: &mut bool,
) -> Result<(Vec<String>, u64), String> {
    let mut files = Vec::new();
    let mut bytes = 0u64;
    let mut start = 0usize;
    loop {
        if files.len() >= MAX_PAGES {
            return Err(format!("{url}: more than {MAX_PAGES} pages"));
        }
        if !*first_request {
            std::thread::sleep(opts.delay);
        }
        *first_request = false;
        let page_url = format!("{url}?resultsPerPage={PAGE}&startIndex={start}{extra}");
        let body = match &opts.api_key {
            Some(key) => transport.get_bytes_with_header(&page_url, "apiKey", key, MAX_PAGE_BYTES),
            None => transport.get_bytes(&page_url, MAX_PAGE_BYTES),
        }
        .map_err(|e| e.to_string())?;
        bytes += body.len() as u64;
        let head: PageHead = serde_json::from_slice(&body)
            .map_err(|e| format!("{page_url}: not a CVE API 2.0 page: {e}"))?;
        let name = format!("{prefix}-{:04}.json", files.len());
        std::fs::write(dir.join(&name), &body).map_err(|e| format!("{}: {e}", dir.display()))?;
        files.push(name);
        // An empty page ends the query whatever the total says (a total that grew while
        // paging, or a server that pages by less than asked).
        if head.results_per_page == 0 {
            break;
        }
        start += head.results_per_page;
        if start >= head.total_results {
            break;
        }
    }
    Ok((files, bytes))
}

/// A download's result, as the update loop takes it.
pub(crate) enum Fetched {
    /// No CVE was modified since the held sync: nothing to parse.
    Unchanged,
    /// A new manifest was written to `staged`, after this many bytes.
    New(u64),
}

/// Bring the bundle up to date: every CVE when `held` (the manifest in use) is missing or
/// unusable, else what was modified since its sync, window by window.
pub(crate) fn fetch(
    transport: &Transport,
    url: &str,
    staged: &Path,
    dir: &Path,
    held: Option<&Path>,
    now: Timestamp,
    opts: &NvdOptions,
) -> Result<Fetched, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let previous: Option<Bundle> = held
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<Bundle>(&b).ok())
        .filter(|b| !b.pages.is_empty() && b.pages.iter().all(|f| dir.join(f).is_file()));
    // Distinct from every earlier update's names: two updates may run within a second.
    let stamp = now.as_micros();
    let mut first_request = true;
    let (pages, bytes) = match &previous {
        None => {
            let (files, bytes) = fetch_pages(
                transport,
                url,
                "",
                dir,
                &format!("full-{stamp}"),
                opts,
                &mut first_request,
            )?;
            (files, bytes)
        }
        Some(p) => {
            let mut pages = p.pages.clone();
            let mut bytes = 0;
            let mut new = 0usize;
            let mut from = p.synced_at;
            let mut window = 0;
            while from < now {
                let to = from
                    .saturating_add(Duration::from_secs(WINDOW_DAYS * 86_400))
                    .min(now);
                let extra = format!(
                    "&lastModStartDate={}&lastModEndDate={}",
                    api_date(from),
                    api_date(to)
                );
                let prefix = format!("delta-{stamp}-{window:03}");
                let (files, b) = fetch_pages(
                    transport,
                    url,
                    &extra,
                    dir,
                    &prefix,
                    opts,
                    &mut first_request,
                )?;
                bytes += b;
                for f in files {
                    let head: Option<PageHead> = std::fs::read(dir.join(&f))
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    if head.is_some_and(|h| h.results_per_page > 0) {
                        new += 1;
                        pages.push(f);
                    } else {
                        let _ = std::fs::remove_file(dir.join(&f));
                    }
                }
                from = to;
                window += 1;
            }
            if new == 0 {
                // Nothing to parse; the manifest in use moves its sync time forward, so the
                // next update asks from now (written whole, then renamed over it).
                if let Some(path) = held {
                    let synced = Bundle {
                        synced_at: now,
                        ..p.clone()
                    };
                    let json = serde_json::to_vec_pretty(&synced).map_err(|e| e.to_string())?;
                    let tmp = path.with_extension("synced");
                    std::fs::write(&tmp, json)
                        .and_then(|()| std::fs::rename(&tmp, path))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                return Ok(Fetched::Unchanged);
            }
            (pages, bytes)
        }
    };
    let bundle = Bundle {
        dir: dir.to_owned(),
        pages,
        synced_at: now,
    };
    // Pages neither this manifest nor the one in use names are left over.
    let keep: std::collections::BTreeSet<&str> = bundle
        .pages
        .iter()
        .chain(previous.iter().flat_map(|p| &p.pages))
        .map(String::as_str)
        .collect();
    crate::update::write_bundle(staged, &bundle, dir, &keep)?;
    Ok(Fetched::New(bytes))
}

/// The NVD records of a bundle: every page in order, a CVE's later record replacing its
/// earlier one.
pub(crate) fn parse(origin: &str, manifest: &Path) -> Result<Vec<Enrichment>, FeedError> {
    let bundle: Bundle = std::fs::read(manifest)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| FeedError::new(origin, format!("not an NVD bundle: {e}")))?;
    let mut by_cve: BTreeMap<String, Enrichment> = BTreeMap::new();
    for page in &bundle.pages {
        let name = format!("{origin}#{page}");
        let mut text = String::new();
        std::fs::File::open(bundle.dir.join(page))
            .and_then(|f| f.take(MAX_PAGE_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| FeedError::new(&name, e.to_string()))?;
        for e in enrich::parse_nvd(&name, &text)? {
            if let Enrichment::Nvd { cve, .. } = &e {
                by_cve.insert(cve.clone(), e);
            }
        }
    }
    Ok(by_cve.into_values().collect())
}
