//! `db update`: fetch the upstream feeds over HTTP(S) into customs' cache, then build the
//! database from them. Each download is parsed before it replaces the previous one: a feed
//! that cannot be fetched, parses to nothing, or shrinks by more than a threshold keeps its
//! previous download, and the update names it as failed. The database file is replaced only
//! when the new build succeeds. Connections, proxies, trust and retries are the caller's
//! [`Transport`]'s, shared with the registry.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use customs_http::{Conditional, Transport, Validators};
use std::collections::BTreeMap;

use customs_types::Timestamp;
use serde::{Deserialize, Serialize};

use crate::build::{BuildReport, FeedKind, build_inner, count_records};
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
    /// The name `--feeds` picks it by (`debian`, `osv-pypi`, `kev`); for a `--feed KIND=URL`
    /// source, its kind.
    pub group: String,
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
            group: kind.as_str().to_owned(),
        })
    }

    /// The same feed from a mirror laid out like upstream, one folder per host:
    /// `https://HOST/PATH` becomes `BASE/HOST/PATH` (the layout `wget --mirror` writes).
    #[must_use]
    pub fn mirrored(&self, base: &str) -> Self {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        Self {
            url: format!("{}/{rest}", base.trim_end_matches('/')),
            ..self.clone()
        }
    }
}

/// OSV's per-ecosystem archives: the ecosystem as OSV spells it in the URL, and the group name.
const OSV_ECOSYSTEMS: &[(&str, &str)] = &[
    ("PyPI", "osv-pypi"),
    ("npm", "osv-npm"),
    ("Go", "osv-go"),
    ("crates.io", "osv-crates-io"),
    ("Maven", "osv-maven"),
    ("RubyGems", "osv-rubygems"),
    ("Packagist", "osv-packagist"),
    ("NuGet", "osv-nuget"),
    ("Debian", "osv-debian"),
    ("Alpine", "osv-alpine"),
    ("Ubuntu", "osv-ubuntu"),
];

/// The feeds fetched when none are named: every source whose records the matcher reads.
pub fn default_sources() -> Vec<FeedSource> {
    const TRACKER: &str =
        "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data";
    const OSV: &str = "https://osv-vulnerabilities.storage.googleapis.com";
    let mut v: Vec<(String, &str)> = vec![
        (format!("debian-cve-list={TRACKER}/CVE/list"), "debian"),
        (format!("debian-dsa={TRACKER}/DSA/list"), "debian"),
        (format!("debian-dla={TRACKER}/DLA/list"), "debian"),
    ];
    for rel in ["v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "edge"] {
        for repo in ["main", "community"] {
            v.push((
                format!("alpine-json=https://secdb.alpinelinux.org/{rel}/{repo}.json"),
                "alpine",
            ));
        }
    }
    for (ecosystem, group) in OSV_ECOSYSTEMS {
        v.push((format!("osv-zip={OSV}/{ecosystem}/all.zip"), group));
    }
    v.push((
        "redhat-vex=https://security.access.redhat.com/data/csaf/v2/vex/".to_owned(),
        "redhat",
    ));
    v.push((
        "nvd-api=https://services.nvd.nist.gov/rest/json/cves/2.0".to_owned(),
        "nvd",
    ));
    v.push((
        "kev-json=https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json".to_owned(),
        "kev",
    ));
    v.push((
        "epss=https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".to_owned(),
        "epss",
    ));
    v.iter()
        .filter_map(|(s, group)| {
            let mut f = FeedSource::parse(s)?;
            f.group = (*group).to_owned();
            Some(f)
        })
        .enumerate()
        .map(|(i, mut f)| {
            // The OSV archives all end in all.zip: the ecosystem goes into the name.
            if f.kind == FeedKind::OsvZip {
                f.name = format!("{}-all.zip", f.group);
            }
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
    /// How NVD's API is asked (its key, the pause between requests).
    pub nvd: crate::NvdOptions,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        Self {
            max_shrink: 0.2,
            allow_shrink: Vec::new(),
            nvd: crate::NvdOptions::default(),
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
    /// Feeds the server said are unchanged since the last download (`304 Not Modified`):
    /// nothing was transferred for them.
    pub unchanged: Vec<String>,
    /// Feeds parsed this time (a new download, or a previous one without its staging
    /// database); the others were merged from their staging databases as they were.
    pub parsed: Vec<String>,
    /// Whether the database was rebuilt. It is not when every feed was unchanged (or failed
    /// and kept its previous data) and the database is there: it already holds that data.
    pub rebuilt: bool,
    /// The build from the downloads (fresh or kept); empty when not [`rebuilt`](Self::rebuilt).
    pub build: BuildReport,
}

/// What the download folder remembers of each feed between updates (`state.json`): the
/// record count its last taken download parsed to, which the next one is held against.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    feeds: BTreeMap<String, FeedState>,
    /// The last build made from this folder's downloads: a database built from another feed
    /// list, or changed since (another build into the same file), is rebuilt even when no
    /// feed changed.
    #[serde(default)]
    built: Option<Built>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Built {
    inputs: Vec<String>,
    #[serde(flatten)]
    db: FileStamp,
}

impl Built {
    fn of(inputs: Vec<String>, db: &Path) -> Option<Self> {
        Some(Self {
            inputs,
            db: FileStamp::of(db)?,
        })
    }
}

/// A database file as it was when a step that made it finished: another write to it (another
/// build, a pull) changes its size or modification time, and the step's result no longer
/// describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// The file.
    pub db: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its modification time (u64 nanoseconds last until 2554, and unlike u128 they pass
    /// through serde's `flatten`, which keeps `state.json` as it was).
    pub modified_unix_nanos: u64,
}

impl FileStamp {
    /// The stamp of `db` now; `None` when it is not there.
    #[must_use]
    pub fn of(db: &Path) -> Option<Self> {
        let meta = std::fs::metadata(db).ok()?;
        Some(Self {
            db: db.to_owned(),
            size: meta.len(),
            modified_unix_nanos: u64::try_from(
                meta.modified()
                    .ok()?
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?
                    .as_nanos(),
            )
            .ok()?,
        })
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FeedState {
    records: usize,
    /// The validators of the download taken, asked back next time so that an unchanged
    /// feed is answered `304 Not Modified`. Only kept for the URL they came from.
    #[serde(default)]
    url: String,
    #[serde(default)]
    validators: Validators,
    /// When the download now held was taken.
    #[serde(default)]
    fetched_at: Option<Timestamp>,
    /// When the server was last asked (it may have said "unchanged").
    #[serde(default)]
    checked_at: Option<Timestamp>,
}

/// What the download folder knows of one feed (`db info`).
#[derive(Debug, Clone, Serialize)]
pub struct FeedStatus {
    /// The file name in the download folder.
    pub name: String,
    /// Where it was last fetched from.
    pub url: String,
    /// Records the download held parses to.
    pub records: usize,
    /// When that download was taken.
    pub fetched_at: Option<Timestamp>,
    /// When the server was last asked.
    pub checked_at: Option<Timestamp>,
    /// What the server identified that version by.
    pub validators: Validators,
}

/// Every feed the download folder `dir` holds state for, by name; empty when `db update`
/// never ran there.
#[must_use]
pub fn feed_status(dir: &Path) -> Vec<FeedStatus> {
    State::load(dir)
        .feeds
        .into_iter()
        .map(|(name, f)| FeedStatus {
            name,
            url: f.url,
            records: f.records,
            fetched_at: f.fetched_at,
            checked_at: f.checked_at,
            validators: f.validators,
        })
        .collect()
}

/// The staging databases, one per feed, that the database `db` was last built from by
/// [`update`] in the download folder `dir`: `None` when `db` was not built there, or changed
/// since (another build into the same file, a pull).
#[must_use]
pub fn built_from(dir: &Path, db: &Path) -> Option<Vec<PathBuf>> {
    let built = State::load(dir).built?;
    let inputs: Vec<PathBuf> = built.inputs.iter().map(PathBuf::from).collect();
    (Built::of(built.inputs.clone(), db) == Some(built) && inputs.iter().all(|p| p.is_file()))
        .then_some(inputs)
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

/// Write a bundle feed's manifest (Red Hat's archive, NVD's pages: feeds that are a folder of
/// files behind one manifest) to `staged`, then remove the files of `dir` that neither it nor
/// the manifest in use names (`keep`): what older bundles left.
pub(crate) fn write_bundle(
    staged: &Path,
    manifest: &impl Serialize,
    dir: &Path,
    keep: &std::collections::BTreeSet<&str>,
) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?;
    std::fs::write(staged, json).map_err(|e| format!("{}: {e}", staged.display()))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if !keep.contains(e.file_name().to_string_lossy().as_ref()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// What a fetch brought.
enum Got {
    /// The server said the held copy is current.
    Unchanged,
    /// A new download of this many bytes, with its validators.
    New(u64, Validators),
}

/// Download `url` to `dest` (written only when the download is complete), undoing the gzip
/// of feeds published as `.gz` files; with `held`, only if the server says it changed.
/// Retries are the transport's.
fn fetch(
    transport: &Transport,
    url: &str,
    dest: &Path,
    held: Option<&Validators>,
) -> Result<Got, String> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let gz = url.ends_with(".gz");
    let got = transport
        .get_if_changed(url, held.unwrap_or(&Validators::default()), |body| {
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
    let Conditional::Fetched {
        value: (mut tmp, n),
        validators,
    } = got
    else {
        return Ok(Got::Unchanged);
    };
    if n > MAX_DOWNLOAD {
        return Err(format!("{url}: larger than {MAX_DOWNLOAD} bytes"));
    }
    tmp.as_file_mut()
        .flush()
        .map_err(|e| format!("{}: {e}", dest.display()))?;
    tmp.persist(dest)
        .map_err(|e| format!("{}: {}", dest.display(), e.error))?;
    Ok(Got::New(n, validators))
}

/// The record count of the feed's previous download: from the saved state, else by parsing
/// the file (a folder written by an older customs has no state).
fn previous_records(state: &State, source: &FeedSource, dest: &Path) -> Option<usize> {
    if let Some(s) = state.feeds.get(&source.name) {
        return Some(s.records);
    }
    let bytes = std::fs::read(dest).ok()?;
    count_records(source.kind, &dest.display().to_string(), &bytes).ok()
}

/// Parse a download into its own database `staging` (the feed's records alone, merged into
/// the full database by SQL copy), and hold it against the feed's previous download: its
/// record count, or why it is refused (`staging` is then removed).
fn stage(
    source: &FeedSource,
    download: &Path,
    staging: &Path,
    previous: Option<usize>,
    opts: &UpdateOptions,
    built_at: Timestamp,
) -> Result<(usize, Vec<String>), String> {
    let input = format!("{}:{}", source.kind.as_str(), download.display());
    let built = build_inner(staging, &[input], built_at, true).map_err(|e| match e {
        DbError::NothingRead { problems } => format!(
            "the download holds no {} records: {}",
            source.kind.as_str(),
            problems.join("; ")
        ),
        other => other.to_string(),
    })?;
    let records = built.advisories + built.enrichment;
    let allowed = opts
        .allow_shrink
        .iter()
        .any(|a| a == source.kind.as_str() || *a == source.name || *a == source.group);
    // Line-oriented formats read anything as "no records"; a structured document with an
    // empty list (Alpine's secdb for a repository without fixes) may really hold none.
    let lenient = matches!(
        source.kind,
        FeedKind::DebianCveList
            | FeedKind::DebianDsa
            | FeedKind::DebianDla
            | FeedKind::UbuntuUct
            | FeedKind::KevCsv
            | FeedKind::Epss
    );
    let refused = if records == 0 && (lenient || previous.is_some_and(|p| p > 0)) {
        Some(format!(
            "the download parses to no {} records{}",
            source.kind.as_str(),
            previous
                .filter(|p| *p > 0)
                .map(|p| format!(" (its previous one held {p})"))
                .unwrap_or_default()
        ))
    } else if !built.warnings.is_empty() {
        // A download whose file does not parse: build() read nothing from it but a warning.
        Some(format!(
            "the download does not parse as {}: {}",
            source.kind.as_str(),
            built.warnings.join("; ")
        ))
    } else if let Some(previous) = previous
        && !allowed
        && (records as f64) < (previous as f64) * (1.0 - opts.max_shrink)
    {
        Some(format!(
            "the download holds {records} records against {previous} before, a drop of more than {:.0} % (--allow-shrink {} takes it)",
            opts.max_shrink * 100.0,
            source.group
        ))
    } else {
        None
    };
    if let Some(why) = refused {
        let _ = std::fs::remove_file(staging);
        return Err(why);
    }
    Ok((records, built.skipped))
}

/// Whether `staging` is a feed database this build can merge.
fn usable(staging: &Path) -> bool {
    crate::VulnDb::open(staging).is_ok()
}

/// Fetch `sources` over `transport` into `download_dir` and build `out` from what is there.
/// Each download is parsed into its own staging database and checked ([`UpdateOptions`])
/// before it replaces the feed's previous one; a feed that fails keeps its previous download
/// and is listed in [`UpdateReport::failed`]. The database is then the merge of every feed's
/// staging database: a feed that did not change is not parsed again, and when none changed
/// nothing is rebuilt.
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
    let mut inputs: Vec<String> = Vec::new();
    for s in sources {
        let dest = download_dir.join(&s.name);
        let staged = download_dir.join(format!(".{}.new", s.name));
        let staging = download_dir.join(format!("{}.db", s.name));
        let staging_new = download_dir.join(format!(".{}.db.new", s.name));
        let failure = |why: String, kept_previous: bool| FeedFailure {
            kind: s.kind,
            name: s.name.clone(),
            url: s.url.clone(),
            why,
            kept_previous,
        };
        let had_staging = usable(&staging);
        // Conditional only when the copy the validators describe is there, from this URL,
        // with its staging database.
        let held = state
            .feeds
            .get(&s.name)
            .filter(|f| f.url == s.url && dest.is_file() && had_staging)
            .map(|f| &f.validators);
        let got = if s.kind == FeedKind::NvdApi {
            let dir = download_dir.join(format!("{}.d", s.name));
            crate::nvd_api::fetch(
                transport,
                &s.url,
                &staged,
                &dir,
                held.map(|_| dest.as_path()),
                built_at,
                &opts.nvd,
            )
            .map(|f| match f {
                crate::nvd_api::Fetched::Unchanged => Got::Unchanged,
                crate::nvd_api::Fetched::New(n) => Got::New(n, Validators::default()),
            })
        } else if s.kind == FeedKind::RedhatVex {
            // A folder of files behind one manifest: the manifest is the download.
            let dir = download_dir.join(format!("{}.d", s.name));
            crate::vex_archive::fetch(
                transport,
                &s.url,
                &staged,
                &dir,
                held.map(|v| (dest.as_path(), v)),
            )
            .map(|f| match f {
                crate::vex_archive::Fetched::Unchanged => Got::Unchanged,
                crate::vex_archive::Fetched::New(n, v) => Got::New(n, v),
            })
        } else {
            fetch(transport, &s.url, &staged, held)
        };
        let taken = got.and_then(|got| match got {
            Got::Unchanged => Ok(None),
            Got::New(n, validators) => {
                let previous = previous_records(&state, s, &dest);
                let (records, skipped) = stage(s, &staged, &staging_new, previous, opts, built_at)?;
                std::fs::rename(&staged, &dest)
                    .and_then(|()| std::fs::rename(&staging_new, &staging))
                    .map_err(|e| format!("{}: {e}", dest.display()))?;
                Ok(Some((n, records, validators, skipped)))
            }
        });
        let _ = std::fs::remove_file(&staged);
        let _ = std::fs::remove_file(&staging_new);
        let staged_now = matches!(taken, Ok(Some(_)));
        match taken {
            Ok(None) => {
                if let Some(f) = state.feeds.get_mut(&s.name) {
                    f.checked_at = Some(built_at);
                }
                report.unchanged.push(s.url.clone());
            }
            Ok(Some((n, records, validators, skipped))) => {
                state.feeds.insert(
                    s.name.clone(),
                    FeedState {
                        records,
                        url: s.url.clone(),
                        validators,
                        fetched_at: Some(built_at),
                        checked_at: Some(built_at),
                    },
                );
                report.parsed.push(s.url.clone());
                report.build.skipped.extend(skipped);
                report
                    .fetched
                    .push(format!("{} ({n} bytes, {records} records)", s.url));
            }
            Err(why) => {
                let kept_previous = dest.is_file();
                report.failed.push(failure(why, kept_previous));
                if !kept_previous {
                    continue;
                }
            }
        }
        // A previous download without a usable staging database (an older customs, or a
        // schema change) is parsed once more.
        if !staged_now && !had_staging {
            let previous = state.feeds.get(&s.name).map(|f| f.records);
            let no_shrink_check = UpdateOptions {
                max_shrink: 1.0,
                ..opts.clone()
            };
            match stage(s, &dest, &staging, previous, &no_shrink_check, built_at) {
                Ok(_) => report.parsed.push(s.url.clone()),
                Err(why) => {
                    report
                        .failed
                        .push(failure(format!("its previous download: {why}"), false));
                    continue;
                }
            }
        }
        inputs.push(staging.display().to_string());
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
    // Nothing new: the database is the one the last update built from these very feeds.
    if report.parsed.is_empty()
        && state.built.is_some()
        && state.built == Built::of(inputs.clone(), out)
    {
        state
            .save(download_dir)
            .map_err(|e| UpdateError::Io(download_dir.join(State::FILE), e))?;
        return Ok(report);
    }
    let mut w = crate::DbWriter::create(out)?;
    for staging in &inputs {
        if let Err(e) = w.merge(Path::new(staging)) {
            w.abandon();
            return Err(e.into());
        }
    }
    w.finish(built_at)?;
    let info = crate::VulnDb::open(out)?.info()?;
    report.build.advisories = usize::try_from(info.advisories).unwrap_or(0);
    report.build.enrichment = usize::try_from(info.nvd + info.kev + info.epss).unwrap_or(0);
    report.build.sources = info.sources;
    report.rebuilt = true;
    state.built = Built::of(inputs, out);
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
                let mut seen = line.trim().to_owned();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    // The conditional headers, after the request line.
                    if h.to_ascii_lowercase().starts_with("if-") {
                        seen.push_str(" | ");
                        seen.push_str(h.trim());
                    }
                }
                log.lock().unwrap().push(seen);
                if let Some(r) = replies.next() {
                    last = r;
                }
                let mut conn = conn;
                let _ = conn.write_all(last.as_bytes());
            }
        });
        (addr, seen)
    }

    /// A transport that reaches the local origin directly, with `retry`.
    fn direct(retry: RetryPolicy) -> Transport {
        Transport::new(HttpOptions {
            proxy: ProxyConfig::none(),
            retry,
            ..HttpOptions::default()
        })
        .unwrap()
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
        let transport = direct(RetryPolicy {
            retries: 3,
            backoff_base: Duration::from_secs(5),
            ..RetryPolicy::default()
        });
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
        let transport = direct(RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        });
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
            // Nothing new was taken, so the database is not even rebuilt.
            assert!(!second.rebuilt, "{label}: {second:?}");
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
        let transport = direct(RetryPolicy::default());
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

    /// An unchanged feed costs a request with its validators and a `304`: nothing is
    /// transferred or rebuilt. A changed one is fetched and the database rebuilt.
    #[test]
    fn an_unchanged_feed_is_asked_conditionally_and_not_rebuilt() {
        let etag = "ETag: \"v1\"\r\nLast-Modified: Wed, 02 Dec 2026 10:00:00 GMT\r\n";
        let (addr, seen) = origin(vec![
            answer("200 OK", etag, &secdb(10)),
            "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_owned(),
            answer("200 OK", "ETag: \"v2\"\r\n", &secdb(11)),
        ]);
        let transport = direct(RetryPolicy::default());
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite");
        let feeds = dir.path().join("feeds");
        let sources = [FeedSource::parse(&format!("alpine-json=http://{addr}/main.json")).unwrap()];
        let at = Timestamp::from_unix_secs(1_700_000_000);
        let opts = UpdateOptions::default();
        let first = update(&transport, &db, &sources, &feeds, at, &opts).unwrap();
        assert!(first.rebuilt && first.unchanged.is_empty(), "{first:?}");
        let before = std::fs::read(&db).unwrap();
        let second = update(&transport, &db, &sources, &feeds, at, &opts).unwrap();
        assert!(!second.rebuilt, "{second:?}");
        assert_eq!(second.unchanged.len(), 1, "{second:?}");
        assert!(std::fs::read(&db).unwrap() == before);
        let third = update(&transport, &db, &sources, &feeds, at, &opts).unwrap();
        assert!(third.rebuilt, "{third:?}");
        assert_eq!(third.build.advisories, 11);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "GET /main.json HTTP/1.1".to_owned(),
                "GET /main.json HTTP/1.1 | if-none-match: \"v1\" | if-modified-since: Wed, 02 Dec 2026 10:00:00 GMT".to_owned(),
                "GET /main.json HTTP/1.1 | if-none-match: \"v1\" | if-modified-since: Wed, 02 Dec 2026 10:00:00 GMT".to_owned(),
            ]
        );
    }
}
