//! `db update`: fetch the upstream feeds over HTTP(S) into customs' cache, then build the
//! database from them. A feed that cannot be fetched keeps its previous download (with a
//! warning); the database file is replaced only when the new build succeeds. Connections,
//! proxies, trust and retries are the caller's [`Transport`]'s, shared with the registry.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use customs_http::Transport;
use customs_types::Timestamp;
use serde::Serialize;

use crate::build::{BuildReport, FeedKind, build};
use crate::db::DbError;

/// No single feed file we fetch is larger (NVD pages and KEV are tens of MB).
const MAX_DOWNLOAD: u64 = 1 << 30;

/// One feed to fetch: what it is, where from, and the file name it is kept under.
#[derive(Debug, Clone, Serialize)]
pub struct FeedSource {
    /// The format the download is parsed as.
    pub kind: FeedKind,
    /// Where it is fetched from (`http://` or `https://`). A `.gz` URL is decompressed as it
    /// is saved.
    pub url: String,
    /// The file name in the download folder: `KIND-LASTSEGMENT`, with characters other than
    /// ASCII letters, digits, `.` and `-` replaced by `_` (the defaults also get an index
    /// prefix, `03-kev-json-…`). A failed fetch falls back to the file already there.
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

/// What `db update` did.
#[derive(Debug, Default, Serialize)]
pub struct UpdateReport {
    /// Feeds downloaded, as `URL (N bytes)` (bytes after decompression).
    pub fetched: Vec<String>,
    /// Feeds that could not be fetched; a previous download was used where there was one.
    pub failed: Vec<String>,
    /// The build from the downloads (fresh or kept).
    pub build: BuildReport,
}

/// Why `db update` produced no database. A feed that fails to download is not an error as
/// long as another one (or an earlier download) is there: see [`UpdateReport::failed`].
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// No feed downloaded and no earlier download to fall back on. Holds each feed's failure,
    /// one per line.
    #[error("no feed could be fetched and none was downloaded before:\n  {0}")]
    NothingFetched(String),
    /// The download folder could not be created.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Building the database from the downloads failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Download `url` to `dest` (replaced only when the download is complete), undoing the gzip
/// of feeds published as `.gz` files. Retries are the transport's.
fn fetch(transport: &Transport, url: &str, dest: &Path) -> Result<u64, String> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let gz = url.ends_with(".gz");
    let (tmp, n) = transport
        .get_with(url, |body| {
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
            let mut body: Box<dyn Read + '_> = Box::new(body.take(MAX_DOWNLOAD + 1));
            // EPSS is published gzip-compressed as a file, not as a transfer encoding.
            if gz {
                body = Box::new(flate2::read::MultiGzDecoder::new(body).take(MAX_DOWNLOAD + 1));
            }
            let n = io::copy(&mut body, tmp.as_file_mut())?;
            Ok((tmp, n))
        })
        .map_err(|e| e.to_string())?;
    if n > MAX_DOWNLOAD {
        return Err(format!("{url}: larger than {MAX_DOWNLOAD} bytes"));
    }
    let mut tmp = tmp;
    tmp.as_file_mut()
        .flush()
        .map_err(|e| format!("{}: {e}", dest.display()))?;
    tmp.persist(dest)
        .map_err(|e| format!("{}: {}", dest.display(), e.error))?;
    Ok(n)
}

/// Fetch `sources` over `transport` into `download_dir` and build `out` from what is there.
pub fn update(
    transport: &Transport,
    out: &Path,
    sources: &[FeedSource],
    download_dir: &Path,
    built_at: Timestamp,
) -> Result<UpdateReport, UpdateError> {
    std::fs::create_dir_all(download_dir)
        .map_err(|e| UpdateError::Io(download_dir.to_owned(), e))?;
    let mut report = UpdateReport::default();
    let mut inputs = Vec::new();
    for s in sources {
        let dest = download_dir.join(&s.name);
        match fetch(transport, &s.url, &dest) {
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

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use customs_http::{HttpOptions, ProxyConfig, RetryPolicy};

    use super::*;

    const SECDB: &str = r#"{"distroversion": "v3.20", "packages": [
        {"pkg": {"name": "zlib", "secfixes": {"1.2.12-r0": ["CVE-2018-25032"]}}}]}"#;

    /// An origin on loopback answering each connection with the next of `replies` (the last
    /// repeats); returns its address and the request lines it saw.
    fn origin(replies: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut replies = replies.into_iter().peekable();
            let mut last = String::new();
            for conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                log.lock().unwrap().push(line.trim().to_owned());
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                if let Some(r) = replies.next() {
                    last = r;
                }
                let mut conn = conn;
                let _ = conn.write_all(last.as_bytes());
            }
        });
        (addr, seen)
    }

    fn answer(status: &str, extra: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn update_fetches_over_the_transport_with_its_retries() {
        let (addr, seen) = origin(vec![
            answer("503 Service Unavailable", "Retry-After: 0\r\n", ""),
            answer("200 OK", "", SECDB),
        ]);
        let transport = Transport::new(HttpOptions {
            proxy: ProxyConfig::none(),
            retry: RetryPolicy {
                retries: 3,
                backoff_base: Duration::from_secs(5),
                ..RetryPolicy::default()
            },
            ..HttpOptions::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sources: Vec<FeedSource> = [
            format!("alpine-json=http://{addr}/v3.20/main.json"),
            "alpine-json=http://nosuchhost.invalid/v3.20/community.json".to_owned(),
        ]
        .iter()
        .map(|s| FeedSource::parse(s).unwrap())
        .collect();
        let started = std::time::Instant::now();
        let report = update(
            &transport,
            &dir.path().join("db.sqlite"),
            &sources,
            &dir.path().join("feeds"),
            Timestamp::from_unix_secs(1_700_000_000),
        )
        .unwrap();
        assert_eq!(report.fetched.len(), 1, "{report:?}");
        assert_eq!(report.failed.len(), 1, "{report:?}");
        // The unresolvable feed is one attempt, with no backoff waited.
        assert!(
            report.failed[0].contains("could not resolve host nosuchhost.invalid")
                && !report.failed[0].contains("gave up"),
            "{report:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(report.build.advisories >= 1, "{report:?}");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "GET /v3.20/main.json HTTP/1.1",
                "GET /v3.20/main.json HTTP/1.1"
            ]
        );
    }
}
