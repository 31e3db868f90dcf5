//! `db update`: fetch the upstream feeds over HTTP(S) into customs' cache, then build the
//! database from them. A feed that cannot be fetched keeps its previous download (with a
//! warning); the database file is replaced only when the new build succeeds.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use customs_types::Timestamp;
use serde::Serialize;

use crate::build::{BuildReport, FeedKind, build};
use crate::db::DbError;

/// No single feed file we fetch is larger (NVD pages and KEV are tens of MB).
const MAX_DOWNLOAD: u64 = 1 << 30;
const ATTEMPTS: u32 = 3;

/// One feed to fetch: what it is, where from, and the file name it is kept under.
#[derive(Debug, Clone, Serialize)]
pub struct FeedSource {
    pub kind: FeedKind,
    pub url: String,
    pub name: String,
}

impl FeedSource {
    /// `KIND=URL`, as `--feed` takes it.
    pub fn parse(s: &str) -> Option<Self> {
        let (k, url) = s.split_once('=')?;
        let kind = FeedKind::parse_name(k)?;
        let tail: String = url
            .rsplit('/')
            .next()
            .unwrap_or("feed")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // Distinct names even for two URLs ending alike (DSA/list and DLA/list).
        let name = format!(
            "{}-{}",
            kind.as_str(),
            if tail.is_empty() {
                "feed".to_owned()
            } else {
                tail
            }
        );
        Some(Self {
            kind,
            url: url.to_owned(),
            name,
        })
    }
}

/// The feeds fetched when none are named: the ones small enough to fetch whole.
pub fn default_sources() -> Vec<FeedSource> {
    const TRACKER: &str =
        "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data";
    let mut v: Vec<String> = vec![
        format!("debian-cve-list={TRACKER}/CVE/list"),
        format!("debian-dsa={TRACKER}/DSA/list"),
        format!("debian-dla={TRACKER}/DLA/list"),
        "kev-json=https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json".to_owned(),
        "epss=https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".to_owned(),
    ];
    for rel in ["v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "edge"] {
        for repo in ["main", "community"] {
            v.push(format!(
                "alpine-json=https://secdb.alpinelinux.org/{rel}/{repo}.json"
            ));
        }
    }
    v.iter()
        .filter_map(|s| FeedSource::parse(s))
        .enumerate()
        .map(|(i, mut f)| {
            f.name = format!("{i:02}-{}", f.name);
            f
        })
        .collect()
}

#[derive(Debug, Default, Serialize)]
pub struct UpdateReport {
    pub fetched: Vec<String>,
    /// Feeds that could not be fetched; a previous download was used where there was one.
    pub failed: Vec<String>,
    pub build: BuildReport,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("no feed could be fetched and none was downloaded before:\n  {0}")]
    NothingFetched(String),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("HTTP client: {0}")]
    Client(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn fetch(client: &reqwest::blocking::Client, url: &str, dest: &Path) -> Result<u64, String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 << attempt));
        }
        match fetch_once(client, url, dest) {
            Ok(n) => return Ok(n),
            // Client errors will not change on retry.
            Err((false, e)) => return Err(e),
            Err((true, e)) => last = e,
        }
    }
    Err(last)
}

/// `Err((retryable, message))`.
fn fetch_once(
    client: &reqwest::blocking::Client,
    url: &str,
    dest: &Path,
) -> Result<u64, (bool, String)> {
    let resp = client
        .get(url)
        .send()
        .map_err(|e| (true, format!("{url}: {e}")))?;
    let status = resp.status();
    if !status.is_success() {
        let retry = status.is_server_error() || status.as_u16() == 429;
        return Err((retry, format!("{url}: HTTP {status}")));
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| (false, format!("{}: {e}", dir.display())))?;
    let mut body: Box<dyn Read> = Box::new(resp.take(MAX_DOWNLOAD + 1));
    // EPSS is published gzip-compressed as a file, not as a transfer encoding.
    if url.ends_with(".gz") {
        body = Box::new(flate2::read::MultiGzDecoder::new(body).take(MAX_DOWNLOAD + 1));
    }
    let n =
        std::io::copy(&mut body, tmp.as_file_mut()).map_err(|e| (true, format!("{url}: {e}")))?;
    if n > MAX_DOWNLOAD {
        return Err((false, format!("{url}: larger than {MAX_DOWNLOAD} bytes")));
    }
    tmp.as_file_mut()
        .flush()
        .map_err(|e| (false, e.to_string()))?;
    tmp.persist(dest)
        .map_err(|e| (false, format!("{}: {}", dest.display(), e.error)))?;
    Ok(n)
}

/// Fetch `sources` into `download_dir` and build `out` from what is there.
pub fn update(
    out: &Path,
    sources: &[FeedSource],
    download_dir: &Path,
    built_at: Timestamp,
) -> Result<UpdateReport, UpdateError> {
    std::fs::create_dir_all(download_dir)
        .map_err(|e| UpdateError::Io(download_dir.to_owned(), e))?;
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(600))
        .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| UpdateError::Client(e.to_string()))?;
    let mut report = UpdateReport::default();
    let mut inputs = Vec::new();
    for s in sources {
        let dest = download_dir.join(&s.name);
        match fetch(&client, &s.url, &dest) {
            Ok(n) => report.fetched.push(format!("{} ({n} bytes)", s.url)),
            Err(e) => {
                let kept = dest.is_file();
                report.failed.push(if kept {
                    format!("{e} (using the previous download)")
                } else {
                    e
                });
                if !kept {
                    continue;
                }
            }
        }
        inputs.push(format!("{}:{}", s.kind.as_str(), dest.display()));
    }
    if inputs.is_empty() {
        return Err(UpdateError::NothingFetched(report.failed.join("\n  ")));
    }
    report.build = build(out, &inputs, built_at)?;
    Ok(report)
}
