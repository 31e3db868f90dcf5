//! `db update`: fetch the upstream feeds over HTTP(S) into customs' cache, then build the
//! database from them. Each download is parsed before it replaces the previous one: a feed
//! that cannot be fetched, parses to nothing, or shrinks by more than a threshold keeps its
//! previous download, and the update names it as failed. The database file is replaced only
//! when the new build succeeds. Connections, proxies, trust and retries are the caller's
//! [`Transport`]'s, shared with the registry.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use customs_http::Transport;
use std::collections::BTreeMap;

use customs_types::Timestamp;
use serde::{Deserialize, Serialize};

use crate::build::{BuildReport, FeedKind, build, count_records};
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

/// How strict an update is with what a feed sends.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// A download with fewer records than this share of the feed's previous one is refused
    /// (0.2: a drop of more than 20 %).
    pub max_shrink: f64,
    /// Feeds allowed to shrink by any amount this time, by kind (`debian-dsa`) or by file
    /// name.
    pub allow_shrink: Vec<String>,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        Self {
            max_shrink: 0.2,
            allow_shrink: Vec::new(),
        }
    }
}

/// A feed this update did not take: it keeps its previous download, if it has one.
#[derive(Debug, Clone, Serialize)]
pub struct FeedFailure {
    /// The feed's kind.
    pub kind: FeedKind,
    /// Its file name in the download folder.
    pub name: String,
    /// Where it was fetched from.
    pub url: String,
    /// Why it was not taken.
    pub why: String,
    /// Whether a previous download was there and went into the database instead.
    pub kept_previous: bool,
}

impl std::fmt::Display for FeedFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "feed {} ({}): {}",
            self.kind.as_str(),
            self.url,
            self.why
        )?;
        f.write_str(if self.kept_previous {
            "; its previous data is kept"
        } else {
            "; it has no previous data, so the database lacks it"
        })
    }
}

/// What `db update` did.
#[derive(Debug, Default, Serialize)]
pub struct UpdateReport {
    /// Feeds downloaded and taken, as `URL (N bytes, R records)` (bytes after
    /// decompression).
    pub fetched: Vec<String>,
    /// Feeds not taken (not fetched, or refused after fetching).
    pub failed: Vec<FeedFailure>,
    /// The build from the downloads (fresh or kept).
    pub build: BuildReport,
}

/// What the download folder remembers of each feed between updates (`state.json`): the
/// record count its last taken download parsed to, which the next one is held against.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    feeds: BTreeMap<String, FeedState>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FeedState {
    records: usize,
}

impl State {
    const FILE: &'static str = "state.json";

    /// The saved state; a missing or unreadable file is an empty state (the counts are then
    /// rebuilt from the downloads there, see [`previous_records`]).
    fn load(dir: &Path) -> Self {
        std::fs::read(dir.join(Self::FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, dir: &Path) -> io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(tmp.as_file_mut(), self)?;
        tmp.persist(dir.join(Self::FILE)).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Why `db update` produced no database. A feed that fails is not an error as long as another
/// one (or an earlier download) is there: see [`UpdateReport::failed`].
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

/// Download `url` to `dest` (written only when the download is complete), undoing the gzip
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

/// The record count of the feed's previous download: from the saved state, else by parsing
/// the file (a folder written by an older customs has no state).
fn previous_records(state: &State, source: &FeedSource, dest: &Path) -> Option<usize> {
    if let Some(s) = state.feeds.get(&source.name) {
        return Some(s.records);
    }
    let text = std::fs::read(dest).ok()?;
    count_records(
        source.kind,
        &dest.display().to_string(),
        &String::from_utf8_lossy(&text),
    )
    .ok()
}

/// Parse a fresh download and hold it against the feed's previous one: its record count, or
/// why it is refused.
fn check(
    source: &FeedSource,
    staged: &Path,
    previous: Option<usize>,
    opts: &UpdateOptions,
) -> Result<usize, String> {
    let bytes = std::fs::read(staged).map_err(|e| format!("{}: {e}", staged.display()))?;
    let records = count_records(source.kind, &source.url, &String::from_utf8_lossy(&bytes))
        .map_err(|e| {
            format!(
                "the download does not parse as {}: {}",
                source.kind.as_str(),
                e.problem
            )
        })?;
    if records == 0 {
        return Err(format!(
            "the download parses to no records ({} bytes)",
            bytes.len()
        ));
    }
    let allowed = opts
        .allow_shrink
        .iter()
        .any(|a| a == source.kind.as_str() || *a == source.name);
    if let Some(previous) = previous
        && !allowed
        && (records as f64) < (previous as f64) * (1.0 - opts.max_shrink)
    {
        return Err(format!(
            "the download holds {records} records against {previous} before, a drop of more than {:.0} % (--allow-shrink {} takes it)",
            opts.max_shrink * 100.0,
            source.kind.as_str()
        ));
    }
    Ok(records)
}

/// Fetch `sources` over `transport` into `download_dir` and build `out` from what is there.
/// Each download is checked ([`UpdateOptions`]) before it replaces the feed's previous one;
/// a feed that fails keeps its previous download and is listed in [`UpdateReport::failed`].
///
/// # Errors
/// [`UpdateError::NothingFetched`] when no feed has any data; the build's errors. Either way
/// the database at `out` is left as it was.
pub fn update(
    transport: &Transport,
    out: &Path,
    sources: &[FeedSource],
    download_dir: &Path,
    built_at: Timestamp,
    opts: &UpdateOptions,
) -> Result<UpdateReport, UpdateError> {
    std::fs::create_dir_all(download_dir)
        .map_err(|e| UpdateError::Io(download_dir.to_owned(), e))?;
    let mut state = State::load(download_dir);
    let mut report = UpdateReport::default();
    let mut inputs = Vec::new();
    for s in sources {
        let dest = download_dir.join(&s.name);
        let staged = download_dir.join(format!(".{}.new", s.name));
        let taken = fetch(transport, &s.url, &staged).and_then(|n| {
            let records = check(s, &staged, previous_records(&state, s, &dest), opts)?;
            std::fs::rename(&staged, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
            Ok((n, records))
        });
        let _ = std::fs::remove_file(&staged);
        match taken {
            Ok((n, records)) => {
                state.feeds.insert(s.name.clone(), FeedState { records });
                report
                    .fetched
                    .push(format!("{} ({n} bytes, {records} records)", s.url));
            }
            Err(why) => {
                let kept_previous = dest.is_file();
                report.failed.push(FeedFailure {
                    kind: s.kind,
                    name: s.name.clone(),
                    url: s.url.clone(),
                    why,
                    kept_previous,
                });
                if !kept_previous {
                    continue;
                }
            }
        }
        inputs.push(format!("{}:{}", s.kind.as_str(), dest.display()));
    }
    if inputs.is_empty() {
        return Err(UpdateError::NothingFetched(
            report
                .failed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  "),
        ));
    }
    report.build = build(out, &inputs, built_at)?;
    state
        .save(download_dir)
        .map_err(|e| UpdateError::Io(download_dir.join(State::FILE), e))?;
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
            &UpdateOptions::default(),
        )
        .unwrap();
        assert_eq!(report.fetched.len(), 1, "{report:?}");
        assert_eq!(report.failed.len(), 1, "{report:?}");
        // The unresolvable feed is one attempt, with no backoff waited.
        let why = &report.failed[0].why;
        assert!(
            why.contains("could not resolve host nosuchhost.invalid") && !why.contains("gave up"),
            "{report:?}"
        );
        assert!(!report.failed[0].kept_previous);
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

    /// Three releases of a secdb file, as one feed's successive downloads.
    fn secdb(packages: usize) -> String {
        let pkgs: Vec<String> = (0..packages)
            .map(|i| {
                format!(
                    r#"{{"pkg": {{"name": "pkg{i}", "secfixes": {{"1.0-r1": ["CVE-2020-{:04}"]}}}}}}"#,
                    1000 + i
                )
            })
            .collect();
        format!(
            r#"{{"distroversion": "v3.20", "packages": [{}]}}"#,
            pkgs.join(",")
        )
    }

    /// Each bad answer in turn, after a good one: the feed keeps its previous download, the
    /// database is rebuilt from it, and the failure names the feed. The database file is
    /// byte-identical to the good build's except for its build time (the same time is
    /// given here, so it is byte-identical).
    #[test]
    fn a_bad_download_keeps_the_previous_data() {
        let good = secdb(10);
        let truncated = &good[..good.len() / 2];
        let html = "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>";
        let cases: Vec<(&str, String)> = vec![
            ("500", answer("500 Internal Server Error", "", "")),
            (
                "html with 200",
                answer("200 OK", "Content-Type: text/html\r\n", html),
            ),
            ("truncated", answer("200 OK", "", truncated)),
            ("empty", answer("200 OK", "", "")),
            ("tenfold shrink", answer("200 OK", "", &secdb(1))),
        ];
        let transport = Transport::new(HttpOptions {
            proxy: ProxyConfig::none(),
            retry: RetryPolicy {
                retries: 0,
                ..RetryPolicy::default()
            },
            ..HttpOptions::default()
        })
        .unwrap();
        for (label, bad) in cases {
            let (addr, _) = origin(vec![answer("200 OK", "", &good), bad]);
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("db.sqlite");
            let feeds = dir.path().join("feeds");
            let sources =
                [
                    FeedSource::parse(&format!("alpine-json=http://{addr}/v3.20/main.json"))
                        .unwrap(),
                ];
            let at = Timestamp::from_unix_secs(1_700_000_000);
            let first = update(
                &transport,
                &db,
                &sources,
                &feeds,
                at,
                &UpdateOptions::default(),
            )
            .unwrap();
            assert!(first.failed.is_empty(), "{label}: {first:?}");
            assert_eq!(first.build.advisories, 10, "{label}");
            let before = std::fs::read(&db).unwrap();
            let second = update(
                &transport,
                &db,
                &sources,
                &feeds,
                at,
                &UpdateOptions::default(),
            )
            .unwrap();
            assert_eq!(second.failed.len(), 1, "{label}: {second:?}");
            let failure = &second.failed[0];
            assert_eq!(failure.kind, FeedKind::AlpineJson, "{label}");
            assert!(failure.kept_previous, "{label}");
            assert!(
                failure.to_string().contains("alpine-json"),
                "{label}: {failure}"
            );
            assert_eq!(second.build.advisories, 10, "{label}: {second:?}");
            assert!(
                std::fs::read(&db).unwrap() == before,
                "{label}: the database changed"
            );
            // No staging file is left behind.
            let left: Vec<_> = std::fs::read_dir(&feeds)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".new"))
                .collect();
            assert!(left.is_empty(), "{label}: {left:?}");
        }
    }

    /// A shrink is taken when the user says so, and is then the new baseline.
    #[test]
    fn allow_shrink_takes_a_smaller_download() {
        let (addr, _) = origin(vec![
            answer("200 OK", "", &secdb(10)),
            answer("200 OK", "", &secdb(1)),
        ]);
        let transport = Transport::new(HttpOptions {
            proxy: ProxyConfig::none(),
            ..HttpOptions::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite");
        let feeds = dir.path().join("feeds");
        let sources = [FeedSource::parse(&format!("alpine-json=http://{addr}/x.json")).unwrap()];
        let at = Timestamp::from_unix_secs(1_700_000_000);
        update(
            &transport,
            &db,
            &sources,
            &feeds,
            at,
            &UpdateOptions::default(),
        )
        .unwrap();
        let opts = UpdateOptions {
            allow_shrink: vec!["alpine-json".to_owned()],
            ..UpdateOptions::default()
        };
        let r = update(&transport, &db, &sources, &feeds, at, &opts).unwrap();
        assert!(r.failed.is_empty(), "{r:?}");
        assert_eq!(r.build.advisories, 1);
        let state = State::load(&feeds);
        assert_eq!(
            state.feeds.values().map(|f| f.records).collect::<Vec<_>>(),
            [1]
        );
    }
}
