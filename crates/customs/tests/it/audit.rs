//! The registry audit (issue 18) over a population the test builds itself in the plain
//! registry, from the corpus's layers: seven repositories and 33 tags (bases, apps rebuilt on
//! older and newer bases, an image with base annotations and many without, tags that move,
//! cosign-style signature tags). What the audit and its report say is checked against a
//! ground truth computed here from the construction alone: images per repository, current
//! versus all tags, the base of each image, the drift, each blob fetched once, the tags
//! `--tags current` and `--tags latest:N` choose. Then the report's page in headless Chromium,
//! and an audit killed with `kill -9` and run again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::customs;
use crate::registry::{PLAIN, push_built, registries_up, registry_root, skopeo_manifest};

/// The corpus layers the population is made of, by letter.
fn part(letter: char) -> (&'static str, usize) {
    match letter {
        // bookworm's base layer, and debian-app's pip packages (PyPA findings) on it
        'D' => ("debian-app", 0),
        'P' => ("debian-app", 1),
        // bookworm-big's own packages
        'G' => ("bookworm-big", 1),
        'O' => ("bullseye-minbase", 0),
        'T' => ("trixie-minbase", 0),
        other => panic!("no layer {other}"),
    }
}

/// One tag of the population: its repository (under the test's prefix), its layers by
/// letter, its build date, and the base tag (in the prefix's `base` repository) its manifest
/// names by annotation.
#[derive(Clone, Copy)]
struct Spec {
    repo: &'static str,
    tag: &'static str,
    layers: &'static str,
    created: &'static str,
    base: Option<&'static str>,
}

const fn spec(
    repo: &'static str,
    tag: &'static str,
    layers: &'static str,
    created: &'static str,
) -> Spec {
    Spec {
        repo,
        tag,
        layers,
        created,
        base: None,
    }
}

/// The population before the moves. Same layers, date and annotations make the same digest:
/// several tags (and repositories) share images.
const POPULATION: [Spec; 28] = [
    spec("base", "bookworm", "DP", "2026-06-01T00:00:00Z"),
    spec("base", "bookworm-2026-06", "DP", "2026-06-01T00:00:00Z"),
    spec("base", "bullseye", "O", "2025-01-01T00:00:00Z"),
    spec("base", "trixie", "T", "2026-11-15T00:00:00Z"),
    spec("base", "latest", "T", "2026-11-15T00:00:00Z"),
    spec("web", "1.0", "DPG", "2026-06-10T00:00:00Z"),
    Spec {
        base: Some("bookworm"),
        ..spec("web", "1.1", "DPG", "2026-07-01T00:00:00Z")
    },
    spec("web", "1.2", "DPG", "2026-09-01T00:00:00Z"),
    spec("web", "latest", "DPG", "2026-09-01T00:00:00Z"),
    Spec {
        base: Some("bookworm"),
        ..spec("web", "stable", "DPG", "2026-07-01T00:00:00Z")
    },
    spec("api", "2023", "OG", "2023-05-01T00:00:00Z"),
    spec("api", "2024", "OG", "2024-05-01T00:00:00Z"),
    spec("api", "2025", "OP", "2025-05-01T00:00:00Z"),
    spec("api", "2026", "OP", "2026-10-01T00:00:00Z"),
    spec("api", "latest", "OP", "2026-10-01T00:00:00Z"),
    spec("worker", "a", "TG", "2026-11-16T00:00:00Z"),
    spec("worker", "b", "TP", "2026-11-17T00:00:00Z"),
    // Its annotation names trixie, though worker:a's layers are a longer prefix of its own:
    // the annotation wins when the layers agree with it.
    Spec {
        base: Some("trixie"),
        ..spec("worker", "c", "TGP", "2026-11-18T00:00:00Z")
    },
    spec("worker", "old", "TP", "2025-11-01T00:00:00Z"),
    Spec {
        base: Some("trixie"),
        ..spec("worker", "latest", "TGP", "2026-11-18T00:00:00Z")
    },
    spec("tools", "1", "G", "2026-01-01T00:00:00Z"),
    spec("tools", "2", "GP", "2026-02-01T00:00:00Z"),
    spec("tools", "3", "P", "2026-03-01T00:00:00Z"),
    spec("team/a/svc", "1", "DG", "2026-11-01T00:00:00Z"),
    spec("team/a/svc", "2", "DPG", "2026-11-02T00:00:00Z"),
    spec("batch", "1", "DG", "2026-11-01T00:00:00Z"),
    spec("batch", "2", "O", "2025-01-01T00:00:00Z"),
    spec("batch", "3", "TP", "2024-01-01T00:00:00Z"),
];

/// The moves: bookworm's base rebuilt without the pip packages, and web rebuilt on it.
const MOVES: [Spec; 3] = [
    spec("base", "bookworm", "D", "2026-11-20T00:00:00Z"),
    spec("web", "latest", "DG", "2026-11-25T00:00:00Z"),
    spec("web", "1.3", "DG", "2026-11-25T00:00:00Z"),
];

/// What the test built: every tag's digest now, every stored digest's layers and date.
#[derive(Default)]
struct Built {
    /// (repository, tag) -> digest, as the registry holds them now.
    tags: BTreeMap<(String, String), String>,
    /// digest -> (layers by letter, build date)
    images: BTreeMap<String, (String, String)>,
    /// digest -> the annotated base's digest
    annotated: BTreeMap<String, String>,
}

impl Built {
    fn push(&mut self, prefix: &str, s: &Spec) -> String {
        let parts: Vec<(&str, usize)> = s.layers.chars().map(part).collect();
        let annotations = match s.base {
            Some(base) => {
                let digest = self.tags[&(format!("{prefix}/base"), base.to_owned())].clone();
                json!({
                    "org.opencontainers.image.base.digest": digest,
                    "org.opencontainers.image.base.name": format!("{PLAIN}/{prefix}/base:{base}"),
                })
            }
            None => json!({}),
        };
        let digest = push_built(
            &format!("{prefix}/{}:{}", s.repo, s.tag),
            &parts,
            &annotations,
            Some(s.created),
        );
        if let Some(base) = annotations["org.opencontainers.image.base.digest"].as_str() {
            self.annotated.insert(digest.clone(), base.to_owned());
        }
        self.tags.insert(
            (format!("{prefix}/{}", s.repo), s.tag.to_owned()),
            digest.clone(),
        );
        self.images
            .insert(digest.clone(), (s.layers.to_owned(), s.created.to_owned()));
        digest
    }

    /// The base of `digest` by the construction: the annotated base, else the one stored image
    /// whose layers are the longest proper prefix of its own (the construction has no ties).
    fn base_of(&self, digest: &str) -> Option<String> {
        if let Some(b) = self.annotated.get(digest) {
            return Some(b.clone());
        }
        let layers = &self.images[digest].0;
        let longest = self
            .images
            .values()
            .map(|(l, _)| l)
            .filter(|l| l.len() < layers.len() && layers.starts_with(l.as_str()))
            .map(String::len)
            .max()?;
        let at: Vec<&String> = self
            .images
            .iter()
            .filter(|(_, (l, _))| l.len() == longest && layers.starts_with(l.as_str()))
            .map(|(d, _)| d)
            .collect();
        assert_eq!(
            at.len(),
            1,
            "the construction has a tie for the base of {digest}"
        );
        Some(at[0].clone())
    }

    fn created(&self, digest: &str) -> customs_types::Timestamp {
        customs_types::Timestamp::parse_lenient(&self.images[digest].1).unwrap()
    }

    /// The tags current by the report's rule, with the window in days.
    fn current(&self, window: i64) -> BTreeSet<(String, String)> {
        let mut newest: BTreeMap<&str, customs_types::Timestamp> = BTreeMap::new();
        for ((repo, _), d) in &self.tags {
            let c = self.created(d);
            let n = newest.entry(repo).or_insert(c);
            *n = (*n).max(c);
        }
        self.tags
            .iter()
            .filter(|((repo, tag), d)| {
                tag == "latest" || self.created(d).days_until(newest[repo.as_str()]) <= window
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The tags of each repository's N newest builds.
    fn latest(&self, n: usize) -> BTreeSet<(String, String)> {
        let mut by_repo: BTreeMap<&str, BTreeSet<(customs_types::Timestamp, &String)>> =
            BTreeMap::new();
        for ((repo, _), d) in &self.tags {
            by_repo
                .entry(repo)
                .or_default()
                .insert((self.created(d), d));
        }
        let keep: BTreeSet<(&str, &String)> = by_repo
            .iter()
            .flat_map(|(repo, builds)| builds.iter().rev().take(n).map(|(_, d)| (*repo, *d)))
            .collect();
        self.tags
            .iter()
            .filter(|((repo, _), d)| keep.contains(&(repo.as_str(), d)))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// The blob requests of the plain registry's access log between byte offsets `from` and `to`
/// (`None`: the end), under `prefix`: (repository, digest, status, bytes sent).
fn blob_requests(from: usize, to: Option<usize>, prefix: &str) -> Vec<(String, String, u16, u64)> {
    let log = registry_root().join("run/plain.log");
    // The log is written as responses complete: read until it stops changing.
    let mut last = String::new();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let text = std::fs::read_to_string(&log).unwrap();
        if text.len() == last.len() {
            break;
        }
        last = text;
    }
    let needle = format!("\"GET /v2/{prefix}/");
    let to = to.unwrap_or(last.len()).min(last.len());
    last[from.min(to)..to]
        .lines()
        .filter_map(|l| {
            let i = l.find(&needle)? + needle.len() - prefix.len() - 1;
            let path = l[i..].split_whitespace().next()?;
            let (repo, digest) = path.split_once("/blobs/")?;
            // `… HTTP/1.1" 200 51124193 "" "customs/…"`
            let mut after = l[i..].split_once("\" ")?.1.split_whitespace();
            let status = after.next()?.parse().ok()?;
            let bytes = after.next()?.parse().ok()?;
            Some((repo.to_owned(), digest.to_owned(), status, bytes))
        })
        .collect()
}

fn log_len() -> usize {
    std::fs::metadata(registry_root().join("run/plain.log")).map_or(0, |m| m.len() as usize)
}

/// A pushed image's config digest, and every blob of it (its layers and config) with its size.
fn blobs_of(reference: &str) -> (String, BTreeMap<String, u64>) {
    let m: Value = serde_json::from_slice(&skopeo_manifest(reference)).unwrap();
    let blobs = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&m["config"]])
        .map(|b| {
            (
                b["digest"].as_str().unwrap().to_owned(),
                b["size"].as_u64().unwrap(),
            )
        })
        .collect();
    (m["config"]["digest"].as_str().unwrap().to_owned(), blobs)
}

/// The (repository, tag)s an audit's JSON says it scanned.
fn audited_tags(run: &Value) -> BTreeSet<(String, String)> {
    run["crawl"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let name = r["name"].as_str().unwrap().to_owned();
            r["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |t| (name.clone(), t["tag"].as_str().unwrap().to_owned()))
        })
        .collect()
}

#[test]
fn an_audit_of_a_population_the_test_built_matches_its_ground_truth() {
    registries_up();
    let prefix = format!("audit-pop-{}", std::process::id());
    let mut built = Built::default();
    for s in &POPULATION {
        built.push(&prefix, s);
    }
    // cosign-style signature and attestation tags, the referrers API's fallback tag and an
    // SBOM tag: artifacts, not images (made of a layer so the registry takes them).
    let web10 = built.tags[&(format!("{prefix}/web"), "1.0".to_owned())].clone();
    let api26 = built.tags[&(format!("{prefix}/api"), "2026".to_owned())].clone();
    let hex = |d: &str| d.trim_start_matches("sha256:").to_owned();
    for (repo, tag) in [
        ("web", format!("sha256-{}.sig", hex(&web10))),
        ("web", format!("sha256-{}.att", hex(&web10))),
        ("web", format!("sha256-{}", hex(&web10))),
        ("api", format!("sha256-{}.sbom", hex(&api26))),
    ] {
        push_built(
            &format!("{prefix}/{repo}:{tag}"),
            &[part('T')],
            &json!({"dev.sigstore.cosign/bundle": "test"}),
            Some("2026-01-01T00:00:00Z"),
        );
    }
    let repositories: BTreeSet<&str> = POPULATION.iter().map(|s| s.repo).collect();
    assert_eq!(repositories.len(), 7);

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = crate::scan::build_db(
        w,
        &["osv-pypa-yaml", "debian-dsa:debian-tracker/data/DSA/list"],
    );
    let glob = format!("{prefix}/**");
    let cache = w.join("cache");
    let audit = |store: &str, extra: &[&str]| {
        let mut args = vec![
            "audit",
            PLAIN,
            "--repos",
            &glob,
            "--store-url",
            store,
            "--db",
            &db,
            "--format",
            "json",
            "--concurrency",
            "3",
        ];
        args.extend_from_slice(extra);
        let r = customs(&args, &cache);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        r.json()
    };
    let store = format!("sqlite:{}", w.join("store.db").display());

    // The whole population: each distinct image scanned once, under each of its tags.
    let from = log_len();
    let first = audit(&store, &[]);
    let distinct: BTreeSet<&String> = built.tags.values().collect();
    assert_eq!(first["run"]["images"], distinct.len(), "{first}");
    assert_eq!(
        first["run"]["scanned"].as_array().unwrap().len(),
        distinct.len()
    );
    assert_eq!(
        audited_tags(&first),
        built.tags.keys().cloned().collect::<BTreeSet<_>>()
    );
    let artifacts: usize = first["crawl"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["artifact_tags"].as_array().unwrap().len())
        .sum();
    assert_eq!(artifacts, 4);
    // Each blob (layer or config) of the distinct images fetched once, whole, across all the
    // repositories that hold it.
    let mut blobs: BTreeMap<String, u64> = BTreeMap::new();
    for (repo, tag) in built.tags.keys() {
        blobs.extend(blobs_of(&format!("{PLAIN}/{repo}:{tag}")).1);
    }
    let mut fetched: BTreeMap<String, usize> = BTreeMap::new();
    for (_, digest, status, bytes) in blob_requests(from, None, &prefix) {
        assert_eq!(status, 200, "{digest}");
        assert_eq!(Some(&bytes), blobs.get(&digest), "{digest}: a part");
        *fetched.entry(digest).or_insert(0) += 1;
    }
    assert!(
        fetched.values().all(|n| *n == 1),
        "a blob fetched twice: {fetched:?}"
    );
    assert_eq!(
        fetched.keys().collect::<BTreeSet<_>>(),
        blobs.keys().collect::<BTreeSet<_>>()
    );

    // The moves, and the audit that follows them: only the new digests are scanned.
    let before = built.tags.clone();
    for s in &MOVES {
        built.push(&prefix, s);
    }
    let moved: BTreeSet<&String> = MOVES
        .iter()
        .map(|s| &built.tags[&(format!("{prefix}/{}", s.repo), s.tag.to_owned())])
        .collect();
    let second = audit(&store, &[]);
    assert_eq!(
        second["run"]["scanned"].as_array().unwrap().len(),
        moved.len(),
        "{second}"
    );
    let drift = customs(
        &[
            "images",
            "--drift",
            "--format",
            "json",
            "--store-url",
            &store,
        ],
        w,
    );
    assert_eq!(drift.code, 0, "{}", drift.stderr);
    let got: BTreeSet<(String, String, String, String)> = drift
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_owned();
            (s("repository"), s("tag"), s("from"), s("to"))
        })
        .collect();
    let want: BTreeSet<(String, String, String, String)> = before
        .iter()
        .filter_map(|((repo, tag), d)| {
            let now = &built.tags[&(repo.clone(), tag.clone())];
            (now != d).then(|| {
                (
                    format!("{PLAIN}/{repo}"),
                    tag.clone(),
                    d.clone(),
                    now.clone(),
                )
            })
        })
        .collect();
    assert_eq!(want.len(), 2);
    assert_eq!(got, want);

    // The report against the construction.
    let scope = format!("{PLAIN}/{prefix}/");
    let report_of = |format: &str| audit_report(&scope, format, &store, &db, w);
    let r: Value = serde_json::from_str(&report_of("json")).unwrap();
    let file = w.join("audit-report.json");
    std::fs::write(&file, r.to_string()).unwrap();
    check_schema(&file);
    let now_images: BTreeSet<&String> = built.tags.values().collect();
    // The findings' age: the database every image was matched against.
    let info = customs(&["db", "info", "--format", "json", "--db", &db], w);
    assert_eq!(info.code, 0, "{}", info.stderr);
    let info = info.json();
    assert_eq!(r["findings_as_of"], info["built_at"], "{r}");
    assert_eq!(r["newest_advisory"], info["newest_advisory"], "{r}");
    assert!(report_of("markdown").contains("Findings as of the vulnerability database built"));
    assert_eq!(r["all"]["repositories"], 7, "{r}");
    assert_eq!(r["all"]["tags"], built.tags.len(), "{r}");
    assert_eq!(r["all"]["images"], now_images.len(), "{r}");
    let current = built.current(90);
    let current_images: BTreeSet<&String> = current.iter().map(|k| &built.tags[k]).collect();
    assert_eq!(r["current"]["tags"], current.len(), "{r}");
    assert_eq!(r["current"]["images"], current_images.len(), "{r}");
    assert!(current.len() < built.tags.len());
    // What the database could not check, by the construction: it holds Debian's DSA list
    // (whose snapshot names bullseye, not bookworm or trixie) and PyPA's advisories, none for
    // Rust, npm or Maven. So an image's Debian packages are unchecked unless it is built on
    // bullseye (layer O at the bottom); layer P's Cargo, npm and Maven (log4j) packages are
    // never checked.
    let unchecked = |layers: &str| -> Vec<&str> {
        let mut u = Vec::new();
        if layers.contains('P') {
            u.extend(["cargo", "maven", "npm"]);
        }
        if layers.contains(['D', 'G', 'T']) && !layers.starts_with('O') {
            u.push("deb");
        }
        u.sort_unstable();
        u
    };
    let mut with_gaps = 0;
    for row in r["images"].as_array().unwrap() {
        let digest = row["digest"].as_str().unwrap();
        let want = unchecked(&built.images[digest].0);
        with_gaps += usize::from(!want.is_empty());
        let got: Vec<&str> = row["unchecked"]
            .as_array()
            .map(|u| u.iter().map(|e| e.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(got, want, "{digest} {:?}", built.images[digest]);
    }
    assert_eq!(r["all"]["with_gaps"], with_gaps, "{r}");
    // Images per repository, from the report's rows.
    let mut per_repo: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for row in r["images"].as_array().unwrap() {
        for t in row["tags"].as_array().unwrap() {
            let (repo, _) = t.as_str().unwrap().rsplit_once(':').unwrap();
            let e = per_repo.entry(repo.to_owned()).or_default();
            e.0 += 1;
            e.1.insert(row["digest"].as_str().unwrap().to_owned());
        }
    }
    let mut want_per_repo: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for ((repo, _), d) in &built.tags {
        let e = want_per_repo.entry(format!("{PLAIN}/{repo}")).or_default();
        e.0 += 1;
        e.1.insert(d.clone());
    }
    assert_eq!(per_repo, want_per_repo);
    // The base of every image, and which are current.
    for row in r["images"].as_array().unwrap() {
        let digest = row["digest"].as_str().unwrap();
        assert_eq!(
            row["base_digest"].as_str().map(str::to_owned),
            built.base_of(digest),
            "the base of {digest} ({:?})",
            built.images[digest]
        );
        assert_eq!(
            row["current"].as_bool().unwrap(),
            current_images.contains(&digest.to_owned()),
            "{row}"
        );
    }
    // Findings come only with layer P (debian-app's pip packages): an image has them exactly
    // when it holds P, in the base's layers when its base holds P too.
    for row in r["images"].as_array().unwrap() {
        let digest = row["digest"].as_str().unwrap();
        let open: u64 = row["open"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(
            open > 0,
            built.images[digest].0.contains('P'),
            "{digest}: {row}"
        );
    }
    let by_base_total: u64 = r["by_base"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["images"].as_u64().unwrap())
        .sum();
    assert_eq!(by_base_total as usize, now_images.len());
    // The rebuild list: web's and svc's builds on the old bookworm base are told to rebuild
    // on base:bookworm, which fixes every base finding.
    let rebuilds = r["rebuilds"].as_array().unwrap();
    let old_bookworm = &before[&(format!("{prefix}/base"), "bookworm".to_owned())];
    for (digest, (layers, _)) in &built.images {
        let on_old = built.base_of(digest).as_ref() == Some(old_bookworm);
        let tagged = now_images.contains(digest);
        let advised = rebuilds.iter().any(|a| {
            a["digest"] == digest.as_str()
                && a["advice"] == format!("rebuild on {PLAIN}/{prefix}/base:bookworm")
                && a["fixes"] == a["of"]
        });
        assert_eq!(advised, on_old && tagged, "{digest} {layers}: {rebuilds:?}");
    }

    // The page: charts drawn, nothing fetched.
    let page = w.join("audit-report.html");
    std::fs::write(&page, report_of("html")).unwrap();
    crate::audit_page::check(&page, &r);

    // --tags: the current tags, and the newest build of each repository, in fresh stores.
    for (selection, want) in [
        ("current", current.clone()),
        ("latest:1", built.latest(1)),
        ("latest:2", built.latest(2)),
    ] {
        let store = format!(
            "sqlite:{}",
            w.join(format!("{}.db", selection.replace(':', "-")))
                .display()
        );
        let run = audit(&store, &["--tags", selection]);
        assert_eq!(audited_tags(&run), want, "--tags {selection}");
        let left: usize = run["crawl"]["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["left_out"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(left + want.len(), built.tags.len(), "--tags {selection}");
    }
    let bad = customs(&["audit", PLAIN, "--tags", "latest:0"], w);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// `customs audit report` of the stored images under `prefix`, with the clock at 2026-12-06.
pub(crate) fn audit_report(prefix: &str, format: &str, store: &str, db: &str, w: &Path) -> String {
    let r = customs(
        &[
            "audit",
            "report",
            "--prefix",
            prefix,
            "--format",
            format,
            "--store-url",
            store,
            "--db",
            db,
            "--now",
            "2026-12-06",
        ],
        w,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

/// Check an audit report's JSON against the committed schema.
pub(crate) fn check_schema(file: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit-report.schema.json");
    let check = Command::new(crate::formats::tools().join("venv/bin/check-jsonschema"))
        .arg("--schemafile")
        .arg(&schema)
        .arg(file)
        .output()
        .expect("check-jsonschema");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `kill -9` in the middle of an audit, then the same audit again: it finishes, scanning only
/// what the first did not store, and fetches no blob the first run had read whole (layers'
/// facts and configs are cached as each is read). The registry is reached through the test's
/// fault proxy, which stalls one layer's download half way: the image being scanned then has
/// its config and two layers read whole and one in flight when the audit is killed. (The cut
/// layer is fetched again from its start: only whole layers' facts are kept.)
#[test]
fn an_audit_killed_with_kill_9_continues_where_it_stopped() {
    use crate::proxy::{Fault, FaultProxy, Rule};
    registries_up();
    let prefix = format!("audit-kill-{}", std::process::id());
    let mut built = Built::default();
    // The last image alone holds P, G and D; the stalled layer is D.
    let combos = ["O", "T", "OT", "TO", "PGD"];
    for (i, layers) in combos.iter().enumerate() {
        built.push(
            &prefix,
            &Spec {
                repo: "app",
                tag: ["v0", "v1", "v2", "v3", "v4"][i],
                layers,
                created: "2026-11-01T00:00:00Z",
                base: None,
            },
        );
    }
    let total = combos.len();
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut configs: BTreeMap<String, String> = BTreeMap::new();
    for ((repo, tag), digest) in &built.tags {
        let (config, blobs) = blobs_of(&format!("{PLAIN}/{repo}:{tag}"));
        configs.insert(config, digest.clone());
        sizes.extend(blobs);
    }
    let layer = |letter: char| {
        let (image, i) = part(letter);
        let m: Value =
            serde_json::from_slice(&skopeo_manifest(&format!("{PLAIN}/{image}:1"))).unwrap();
        m["layers"][i]["digest"].as_str().unwrap().to_owned()
    };
    let (p, g, d) = (layer('P'), layer('G'), layer('D'));
    let proxy = FaultProxy::start(PLAIN.parse().unwrap());
    proxy.add(Rule {
        path_contains: format!("/blobs/{d}"),
        method: Some("GET".to_owned()),
        times: 1,
        fault: Fault::StallAfter(1 << 20),
    });
    let registry = proxy.host_port();

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = crate::scan::build_db(w, &["osv-pypa-yaml"]);
    let store_path = w.join("store.db");
    let store = format!("sqlite:{}", store_path.display());
    let glob = format!("{prefix}/*");
    let cache = w.join("cache");
    let args = [
        "audit",
        &registry,
        "--repos",
        &glob,
        "--store-url",
        &store,
        "--db",
        &db,
        "--format",
        "json",
        "--concurrency",
        "1",
    ];
    let stored = || -> BTreeSet<String> {
        let Ok(c) = rusqlite::Connection::open(&store_path) else {
            return BTreeSet::new();
        };
        let Ok(mut q) = c.prepare("SELECT digest FROM images") else {
            return BTreeSet::new();
        };
        q.query_map([], |r| r.get(0))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default()
    };
    let from = log_len();
    let mut child = Command::new(env!("CARGO_BIN_EXE_customs"))
        .args(args)
        .env("CUSTOMS_CACHE_DIR", &cache)
        .env("HOME", cache.join("home"))
        .env_remove("XDG_CACHE_HOME")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once P and G were read whole (the registry logged them sent) while D stalls,
    // and a moment more for their facts to be written.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let whole: BTreeSet<String> = blob_requests(from, None, &prefix)
            .into_iter()
            .filter(|(_, digest, status, bytes)| *status == 200 && sizes.get(digest) == Some(bytes))
            .map(|r| r.1)
            .collect();
        if whole.contains(&p) && whole.contains(&g) {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the audit ended first");
        assert!(Instant::now() < deadline, "P and G not read in 300 s");
    }
    std::thread::sleep(Duration::from_millis(500));
    // SIGKILL: no handler runs, nothing is flushed.
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = stored();
    let stalled = &built.tags[&(format!("{prefix}/app"), "v4".to_owned())];
    assert!(!at_kill.contains(stalled), "the stalled image was stored");
    assert!(at_kill.len() < total);
    // The registry logs a cut request when it notices: wait for the log to settle.
    blob_requests(from, None, &prefix);
    let middle = log_len();

    let rerun = customs(&args, &cache);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let run = rerun.json();
    assert_eq!(run["run"]["already_stored"], at_kill.len(), "{run}");
    assert_eq!(
        run["run"]["scanned"].as_array().unwrap().len(),
        total - at_kill.len(),
        "{run}"
    );
    assert_eq!(stored().len(), total);

    let first = blob_requests(from, Some(middle), &prefix);
    let second = blob_requests(middle, None, &prefix);
    let whole_in_first: BTreeSet<&String> = first
        .iter()
        .filter(|(_, digest, status, bytes)| *status == 200 && sizes.get(digest) == Some(bytes))
        .map(|(_, digest, _, _)| digest)
        .collect();
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for (_, digest, _, _) in &second {
        *counts.entry(digest).or_insert(0) += 1;
    }
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    // P and G, read whole before the kill, are not fetched again; D is, once.
    assert!(
        !counts.contains_key(&p) && !counts.contains_key(&g),
        "{counts:?}"
    );
    assert_eq!(counts.get(&d), Some(&1), "{counts:?}");
    // Nothing read whole in the first run is fetched again: not a layer, not the stalled
    // image's config.
    let again: Vec<&&String> = counts
        .keys()
        .filter(|d| whole_in_first.contains(*d))
        .collect();
    assert!(
        again.is_empty(),
        "read whole before the kill, fetched again: {again:?}"
    );
    assert!(configs.keys().any(|c| whole_in_first.contains(c)));
}

/// `customs audit --queue`: the audit's scans go to the service's queue in a PostgreSQL
/// store, and a fleet of two `customs worker`s (each with its own cache, sharing layer facts
/// through the store) takes them. Each distinct image is one job stored under all its tags,
/// and each blob is fetched once by the whole fleet (the registry's log).
#[test]
fn an_audit_through_the_queue_is_shared_by_a_fleet_of_workers() {
    registries_up();
    let prefix = format!("audit-queue-{}", std::process::id());
    let mut built = Built::default();
    for (tag, layers) in [
        ("a", "DP"),
        ("b", "DG"),
        ("c", "DPG"),
        ("d", "T"),
        ("e", "TP"),
        ("latest", "DPG"),
    ] {
        for repo in ["app", "mirror"] {
            built.push(
                &prefix,
                &Spec {
                    repo,
                    tag,
                    layers,
                    created: "2026-11-01T00:00:00Z",
                    base: None,
                },
            );
        }
    }
    let distinct: BTreeSet<&String> = built.tags.values().collect();
    let schema = crate::lifecycle::PgSchema::new();
    let store = schema.url();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = crate::scan::build_db(w, &["osv-pypa-yaml"]);
    let from = log_len();
    let worker = |name: &str| {
        let cache = w.join(format!("cache-{name}"));
        let child = Command::new(env!("CARGO_BIN_EXE_customs"))
            .args([
                "worker",
                "--store-url",
                &store,
                "--db",
                &db,
                "--name",
                name,
                "--concurrency",
                "1",
                "--share-layers",
            ])
            .env("CUSTOMS_CACHE_DIR", &cache)
            .env("HOME", cache.join("home"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(w.join(format!("{name}.log"))).unwrap())
            .spawn()
            .expect("start customs worker");
        (name.to_owned(), child)
    };
    let glob = format!("{prefix}/*");
    // No worker yet: the wait ends, the audit fails (it does not say clean), the jobs stay.
    let alone = customs(
        &[
            "audit",
            PLAIN,
            "--repos",
            &glob,
            "--queue",
            "--wait",
            "2",
            "--store-url",
            &store,
        ],
        &w.join("cache"),
    );
    assert_eq!(alone.code, 2, "{}", alone.stdout);
    assert!(
        alone.stderr.contains("is a worker running"),
        "{}",
        alone.stderr
    );
    // With the fleet, the rerun waits for those same jobs rather than queue them twice.
    let fleet = crate::serve::Fleet(vec![worker("w1"), worker("w2")]);
    let audit = customs(
        &[
            "audit",
            PLAIN,
            "--repos",
            &glob,
            "--queue",
            "--wait",
            "300",
            "--store-url",
            &store,
            "--format",
            "json",
        ],
        &w.join("cache"),
    );
    assert_eq!(
        audit.code,
        0,
        "{}\n{}\nw1: {}",
        audit.stdout,
        audit.stderr,
        std::fs::read_to_string(w.join("w1.log")).unwrap_or_default()
    );
    let run = audit.json();
    assert_eq!(run["run"]["images"], distinct.len(), "{run}");
    assert_eq!(
        run["run"]["scanned"].as_array().unwrap().len(),
        distinct.len(),
        "{run}"
    );
    // Stored under every tag, by one job per image.
    let mut pg = customs_store::open(&store).unwrap();
    let mut stored: BTreeMap<(String, String), String> = BTreeMap::new();
    for image in pg.images().unwrap() {
        for t in image.tags {
            let (repo, tag) = t.rsplit_once(':').unwrap();
            let repo = repo.strip_prefix(&format!("{PLAIN}/")).unwrap().to_owned();
            stored.insert((repo, tag.to_owned()), image.digest.clone());
        }
    }
    assert_eq!(stored, built.tags);
    let jobs = pg.jobs(None, None, 1000).unwrap();
    let keys: Vec<&String> = jobs.iter().map(|j| &j.key).collect();
    assert_eq!(keys.len(), distinct.len(), "{keys:?}");
    assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), distinct);
    // Each layer read once by the whole fleet, by the jobs' own account and by the registry's.
    let mut reads: BTreeMap<String, usize> = BTreeMap::new();
    for j in &jobs {
        for d in j.result.as_ref().unwrap()["layers_read"]
            .as_array()
            .unwrap()
        {
            *reads.entry(d.as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert_eq!(reads.len(), 4, "D, P, G and T: {reads:?}");
    assert!(reads.values().all(|&n| n == 1), "{reads:?}");
    let mut fetched: BTreeMap<String, usize> = BTreeMap::new();
    for (_, digest, status, _) in blob_requests(from, None, &prefix) {
        assert_eq!(status, 200);
        *fetched.entry(digest).or_default() += 1;
    }
    assert!(fetched.values().all(|&n| n == 1), "{fetched:?}");
    // The four layers and one config per image.
    assert_eq!(fetched.len(), 4 + distinct.len(), "{fetched:?}");
    // A rerun finds everything stored and queues nothing.
    let again = customs(
        &[
            "audit",
            PLAIN,
            "--repos",
            &glob,
            "--queue",
            "--wait",
            "60",
            "--store-url",
            &store,
            "--format",
            "json",
        ],
        &w.join("cache"),
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["run"]["already_stored"], distinct.len());
    assert_eq!(pg.jobs(None, None, 1000).unwrap().len(), jobs.len());
    drop(fleet);
}
