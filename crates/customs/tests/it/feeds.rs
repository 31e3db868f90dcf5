//! The vulnerability data as a lifecycle: `db diff` between two builds, `db build` that
//! names what it skips and refuses to write an empty database.

use crate::common::{customs, shared};

/// The shared DSA list, and a copy edited three ways: its first entry (DSA-5380-1) dropped,
/// the fixed version of the second (DSA-5379-1) raised, and an entry added that no real list
/// has (DSA-9999-1, invented here). `db diff` between the two builds names exactly those.
#[test]
fn db_diff_names_exactly_the_advisories_that_differ() {
    let work = tempfile::tempdir().unwrap();
    let real =
        std::fs::read_to_string(shared().join("data/advisories/debian-tracker/data/DSA/list"))
            .unwrap();
    assert!(real.starts_with("[29 Mar 2023] DSA-5380-1 xorg-server"));
    let second = real.find("[27 Mar 2023] DSA-5379-1 dino-im").unwrap();
    let edited = format!(
        "[01 Dec 2026] DSA-9999-1 zlib - security update\n\t{{CVE-2099-0001}}\n\t[bullseye] - zlib 1:1.2.11.dfsg-9\n{}",
        real[second..].replacen("dino-im 0.2.0-3+deb11u1", "dino-im 0.2.0-3+deb11u2", 1)
    );
    for (name, text) in [("old", &real), ("new", &edited)] {
        let dir = work.path().join(name).join("DSA");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("list"), text).unwrap();
        let r = customs(
            &[
                "db",
                "build",
                "--out",
                &work.path().join(format!("{name}.db")).display().to_string(),
                &dir.join("list").display().to_string(),
            ],
            work.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let old = work.path().join("old.db").display().to_string();
    let new = work.path().join("new.db").display().to_string();
    let r = customs(&["db", "diff", &old, &new, "--format", "json"], work.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d = r.json();
    let ids = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{} {}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect()
    };
    assert_eq!(ids("added"), ["debian-dsa DSA-9999-1"], "{d}");
    assert_eq!(ids("changed"), ["debian-dsa DSA-5379-1"], "{d}");
    assert_eq!(ids("removed"), ["debian-dsa DSA-5380-1"], "{d}");
    assert!(ids("withdrawn").is_empty(), "{d}");
    // The same file twice: nothing differs.
    let r = customs(&["db", "diff", &old, &old], work.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("0 added, 0 changed, 0 withdrawn, 0 removed"),
        "{}",
        r.stdout
    );
}

/// `db build` names every file it skips and why; given nothing it can read, it writes no
/// database and exits non-zero, keeping what was there.
#[test]
fn db_build_names_skipped_files_and_refuses_to_write_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("vuln.db");
    let out_s = out.display().to_string();
    let good = shared().join("data/advisories/alpine-secdb-yaml/v3.10/main.yaml");
    let r = customs(
        &["db", "build", "--out", &out_s, &good.display().to_string()],
        work.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = std::fs::read(&out).unwrap();

    let feeds = work.path().join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("broken.json"), "{\"vulns\": [ {\"id\": ").unwrap();
    std::fs::write(feeds.join("notes.txt"), "not a feed").unwrap();
    let r = customs(
        &["db", "build", "--out", &out_s, &feeds.display().to_string()],
        work.path(),
    );
    assert_ne!(r.code, 0, "{}", r.stderr);
    for name in ["broken.json", "notes.txt"] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(name) && l.contains("not a feed")),
            "{name}: {}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("no database was written"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the old database is kept"
    );
    assert!(!work.path().join("vuln.building").exists());
}

/// A static file server on loopback for a mirror tree: `ETag` (the content's hash) and
/// `Last-Modified`, `304 Not Modified` for a matching `If-None-Match`, and a count of the body
/// bytes it sent.
pub(crate) struct Mirror {
    pub(crate) base: String,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Mirror {
    pub(crate) fn serve(root: std::path::PathBuf) -> Self {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (counter, flag) = (sent.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                s.set_nonblocking(false).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    continue;
                }
                let mut if_none_match = None;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("if-none-match")
                    {
                        if_none_match = Some(v.trim().to_owned());
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let file = root.join(path.trim_start_matches('/'));
                if path.contains("..") || !file.is_file() {
                    let _ = s.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                // A `FILE.500` beside the file: the server fails on it.
                let mut marker = file.clone().into_os_string();
                marker.push(".500");
                if std::path::Path::new(&marker).exists() {
                    let _ = s.write_all(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                let body = std::fs::read(&file).unwrap();
                let etag = format!("\"{}\"", &crate::common::sha256_hex(&body)[..16]);
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    let _ = write!(
                        s,
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    );
                    continue;
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nLast-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
                counter.fetch_add(body.len() as u64, Ordering::Relaxed);
            }
        });
        Self {
            base,
            sent,
            stop,
            handle: Some(handle),
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A zip of the files `records` as JSON entries, as OSV publishes `all.zip`.
fn osv_zip(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, json) in records {
        zip.start_file(name.as_str(), opts).unwrap();
        zip.write_all(json).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Every file under `dir` with extension `ext`, sorted.
fn files(dir: &std::path::Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The mirror tree (`HOST/PATH` for each default feed URL) built from ../shared/data: the
/// tracker's DSA and DLA lists and its CVE-list excerpt, Alpine's 3.12 secdb files under
/// each release's name, OSV archives made of the PyPA records (YAML, rewritten as JSON), the
/// Go database and the GHSA records per ecosystem, KEV, and the EPSS sample gzipped. The
/// feeds with no local data (OSV's crates.io, Debian, Alpine and Ubuntu archives) are left
/// out; the returned names are the groups that have data.
pub(crate) fn mirror_tree(root: &std::path::Path, feeds: &serde_json::Value) -> Vec<String> {
    let a = shared().join("data/advisories");
    let mut groups = Vec::new();
    for f in feeds.as_array().unwrap() {
        let (group, url) = (f["group"].as_str().unwrap(), f["url"].as_str().unwrap());
        let rel = url.split_once("://").unwrap().1;
        if group == "redhat" {
            redhat_tree(&root.join(rel));
            groups.push(group.to_owned());
            continue;
        }
        let body: Vec<u8> = match group {
            "debian" if url.ends_with("CVE/list") => {
                std::fs::read(a.join("debian-tracker/format-samples/CVE-list-excerpt")).unwrap()
            }
            "debian" if url.ends_with("DSA/list") => {
                std::fs::read(a.join("debian-tracker/data/DSA/list")).unwrap()
            }
            "debian" => std::fs::read(a.join("debian-tracker/data/DLA/list")).unwrap(),
            "alpine" => {
                let repo = if url.ends_with("community.json") {
                    "community"
                } else {
                    "main"
                };
                std::fs::read(a.join(format!("alpine-secdb-json/312-{repo}.json"))).unwrap()
            }
            "osv-pypi" => osv_zip(
                &files(&a.join("osv-pypa-yaml/vulns"), "yaml")
                    .iter()
                    .map(|p| {
                        let v: serde_json::Value =
                            serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                        (
                            p.file_stem().unwrap().to_string_lossy().into_owned() + ".json",
                            serde_json::to_vec(&v).unwrap(),
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
            "osv-go" | "osv-npm" | "osv-maven" | "osv-rubygems" | "osv-packagist" | "osv-nuget" => {
                let dir = match group {
                    "osv-go" => a.join("osv-go/data/osv"),
                    "osv-npm" => a.join("ghsa/npm"),
                    "osv-maven" => a.join("ghsa/Maven"),
                    "osv-rubygems" => a.join("ghsa/RubyGems"),
                    "osv-packagist" => a.join("ghsa/Packagist"),
                    _ => a.join("ghsa/NuGet"),
                };
                osv_zip(
                    &files(&dir, "json")
                        .iter()
                        .map(|p| {
                            (
                                p.file_name().unwrap().to_string_lossy().into_owned(),
                                std::fs::read(p).unwrap(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            }
            "kev" => std::fs::read(a.join("kev/known_exploited_vulnerabilities.json")).unwrap(),
            "epss" => {
                use std::io::Write;
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&std::fs::read(a.join("epss/epss-sample.csv")).unwrap())
                    .unwrap();
                gz.finish().unwrap()
            }
            _ => continue,
        };
        let dest = root.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, body).unwrap();
        if !groups.iter().any(|g| g == group) {
            groups.push(group.to_owned());
        }
    }
    groups
}

/// Red Hat's CSAF VEX folder, made of the shared documents: an archive dated 2026-11-30 of
/// four documents (one of them a withdrawal), then in `changes.csv` a document added after it
/// (CVE-2023-42670) and one changed (CVE-2024-24786, another real revision of it), and in
/// `deletions.csv` one deleted (CVE-2023-4154). Each CVE is one path, as Red Hat lays them out.
pub(crate) const REDHAT_ARCHIVE: &str = "csaf_vex_2026-11-30.tar.zst";

pub(crate) fn redhat_tree(dir: &std::path::Path) {
    let docs = shared().join("data/advisories/redhat-csaf-vex");
    std::fs::create_dir_all(dir.join("2023")).unwrap();
    std::fs::create_dir_all(dir.join("2024")).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    for (path, file) in [
        ("2022/cve-2022-38752.json", "cve-2022-38752.json"),
        ("2023/cve-2023-38545.json", "cve-2023-38545.json"),
        ("2023/cve-2023-4154.json", "cve-2023-4154.json"),
        ("2023/cve-2023-0030.json", "delete_CVE-2023-0030.json"),
        ("2024/cve-2024-24786.json", "cve-2024-24786-simple.json"),
    ] {
        let body = std::fs::read(docs.join(file)).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, body.as_slice()).unwrap();
    }
    let archive = zstd::encode_all(tar.into_inner().unwrap().as_slice(), 3).unwrap();
    std::fs::write(dir.join(REDHAT_ARCHIVE), archive).unwrap();
    std::fs::write(
        dir.join("archive_latest.txt"),
        format!("{REDHAT_ARCHIVE}\n"),
    )
    .unwrap();
    std::fs::copy(
        docs.join("cve-2023-42670.json"),
        dir.join("2023/cve-2023-42670.json"),
    )
    .unwrap();
    std::fs::copy(
        docs.join("cve-2024-24786-bad-rpmmod.json"),
        dir.join("2024/cve-2024-24786.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("changes.csv"),
        "\"2024/cve-2024-24786.json\",\"2026-12-01T09:00:00+00:00\"\n\
         \"2023/cve-2023-42670.json\",\"2026-11-30T18:00:00+00:00\"\n\
         \"2023/cve-2023-38545.json\",\"2026-11-02T10:00:00+00:00\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("deletions.csv"),
        "\"2023/cve-2023-4154.json\",\"2026-12-01T11:00:00+00:00\"\n",
    )
    .unwrap();
}

/// `db update --mirror`: the first update fetches every feed; the second asks each one
/// conditionally, transfers under 1 % of the bytes, and neither parses nor rebuilds
/// anything; after one feed's file changes, only that feed is fetched and parsed again.
#[test]
fn an_update_from_a_mirror_is_incremental() {
    let work = tempfile::tempdir().unwrap();
    let feeds = customs(&["db", "feeds", "--format", "json"], work.path());
    assert_eq!(feeds.code, 0, "{}", feeds.stderr);
    let root = work.path().join("mirror");
    let groups = mirror_tree(&root, &feeds.json());
    let mirror = Mirror::serve(root.clone());
    let db = work.path().join("vuln.db").display().to_string();
    let cache = work.path().join("cache").display().to_string();
    let names = groups.join(",");
    let update = || {
        customs(
            &[
                "db",
                "update",
                "--db",
                &db,
                "--cache-dir",
                &cache,
                "--mirror",
                &mirror.base,
                "--feeds",
                &names,
            ],
            work.path(),
        )
    };
    let first = update();
    assert_eq!(first.code, 0, "{}", first.stderr);
    let wanted = feeds
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| groups.iter().any(|g| f["group"] == g.as_str()))
        .count();
    let fetched = first
        .stderr
        .lines()
        .filter(|l| l.starts_with("fetched "))
        .count();
    assert_eq!(fetched, wanted, "{}", first.stderr);
    assert!(
        first.stdout.contains(&format!("{wanted} parsed")),
        "{}",
        first.stdout
    );
    let full = mirror.sent();
    // Every ecosystem with data is in the database.
    let info = customs(
        &["db", "info", "--db", &db, "--format", "json"],
        work.path(),
    )
    .json();
    let kinds: std::collections::BTreeSet<&str> = info["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["feed"].as_str().unwrap())
        .collect();
    for k in [
        "debian-dsa",
        "debian-dla",
        "debian-cve-list",
        "alpine-json",
        "osv-zip",
        "redhat-vex",
        "kev-json",
        "epss",
    ] {
        assert!(kinds.contains(k), "{k}: {kinds:?}");
    }
    // db info shows each download: where from, when, its records and validator.
    let info = customs(
        &[
            "db",
            "info",
            "--db",
            &db,
            "--cache-dir",
            &cache,
            "--format",
            "json",
        ],
        work.path(),
    )
    .json();
    let downloads = info["feeds"].as_array().unwrap();
    assert_eq!(downloads.len(), wanted, "{}", info["feeds"]);
    for d in downloads {
        assert!(d["url"].as_str().unwrap().starts_with(&mirror.base), "{d}");
        assert!(d["fetched_at"].is_string() && d["records"].is_u64(), "{d}");
        assert!(d["validators"]["etag"].is_string(), "{d}");
    }
    let before = std::fs::read(&db).unwrap();

    let second = update();
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("not rebuilt"), "{}", second.stdout);
    let again = mirror.sent() - full;
    assert!(
        again * 100 < full,
        "the second update transferred {again} bytes of {full}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // One feed changes upstream: only it is fetched and parsed; the others are merged.
    let dsa = root.join(
        feeds
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["url"].as_str().unwrap().ends_with("DSA/list"))
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .split_once("://")
            .unwrap()
            .1,
    );
    let text = std::fs::read_to_string(&dsa).unwrap();
    std::fs::write(
        &dsa,
        format!("[01 Dec 2026] DSA-9999-1 zlib - security update\n\t{{CVE-2099-0001}}\n\t[bullseye] - zlib 1:1.2.11.dfsg-9\n{text}"),
    )
    .unwrap();
    let third = update();
    assert_eq!(third.code, 0, "{}", third.stderr);
    let fetched: Vec<&str> = third
        .stderr
        .lines()
        .filter(|l| l.starts_with("fetched "))
        .collect();
    assert_eq!(fetched.len(), 1, "{}", third.stderr);
    assert!(fetched[0].contains("DSA/list"), "{fetched:?}");
    assert!(third.stdout.contains("; 1 parsed"), "{}", third.stdout);
    let old = work.path().join("old.db");
    std::fs::write(&old, &before).unwrap();
    let diff = customs(
        &[
            "db",
            "diff",
            &old.display().to_string(),
            &db,
            "--format",
            "json",
        ],
        work.path(),
    );
    assert_eq!(
        diff.json()["added"],
        serde_json::json!([["debian-dsa", "DSA-9999-1"]])
    );
    assert_eq!(diff.json()["changed"], serde_json::json!([]));
    assert_eq!(diff.json()["removed"], serde_json::json!([]));
}

/// `kill -9` at any moment of an update leaves a usable database: the old one, byte for byte,
/// or the complete new one; and the next update succeeds. The update is killed at several
/// points of its run (fetching, parsing into staging databases, merging).
#[test]
fn an_update_killed_at_any_point_leaves_a_usable_database() {
    let work = tempfile::tempdir().unwrap();
    let feeds = customs(&["db", "feeds", "--format", "json"], work.path()).json();
    let root = work.path().join("mirror");
    let groups = mirror_tree(&root, &feeds).join(",");
    let mirror = Mirror::serve(root.clone());
    let db = work.path().join("vuln.db");
    let db_s = db.display().to_string();
    let cache = work.path().join("cache").display().to_string();
    let args = [
        "db",
        "update",
        "--db",
        &db_s,
        "--cache-dir",
        &cache,
        "--mirror",
        &mirror.base,
        "--feeds",
        &groups,
    ];
    let r = customs(&args, work.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dsa_before = dsa_records(&db_s, work.path());
    let dsa = root.join(
        feeds
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["url"].as_str().unwrap().ends_with("DSA/list"))
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .split_once("://")
            .unwrap()
            .1,
    );
    let original = std::fs::read_to_string(&dsa).unwrap();
    for (round, after_ms) in [30u64, 100, 250, 500, 900, 1500].into_iter().enumerate() {
        let before = std::fs::read(&db).unwrap();
        // Each round brings a change, so the update has work to be killed in.
        std::fs::write(
            &dsa,
            format!("[01 Dec 2026] DSA-999{round}-1 zlib - security update\n\t{{CVE-2099-000{round}}}\n\t[bullseye] - zlib 1:1.2.11.dfsg-9\n{original}"),
        )
        .unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_customs"))
            .args(args)
            .env("HOME", work.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(after_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = std::fs::read(&db).unwrap();
        if now != before {
            // The rename landed: the new database must be whole.
            let info = customs(&["db", "info", "--db", &db_s], work.path());
            assert_eq!(info.code, 0, "killed after {after_ms} ms: {}", info.stderr);
        }
        let info = customs(
            &["db", "info", "--db", &db_s, "--format", "json"],
            work.path(),
        );
        assert_eq!(info.code, 0, "killed after {after_ms} ms: {}", info.stderr);
        assert!(info.json()["advisories"].as_i64().unwrap() > 8000);
    }
    // The next update finishes the work: the DSA source holds the original list and the last
    // round's added advisory.
    let r = customs(&args, work.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(dsa_records(&db_s, work.path()), dsa_before + 1);
}

/// Records the database's debian-dsa source holds.
fn dsa_records(db: &str, cwd: &std::path::Path) -> i64 {
    let info = customs(&["db", "info", "--db", db, "--format", "json"], cwd);
    assert_eq!(info.code, 0, "{}", info.stderr);
    info.json()["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["feed"] == "debian-dsa")
        .map(|s| s["records"].as_i64().unwrap())
        .sum()
}

/// A tenth of a feed file's records, in its own format: what a feed that lost 90 % of its
/// data looks like.
fn a_tenth(url: &str, body: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    if url.ends_with(".zip") {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
        let mut records = Vec::new();
        for i in 0..z.len() / 10 {
            let mut e = z.by_index(i).unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            records.push((e.name().unwrap().into_owned(), data));
        }
        return osv_zip(&records);
    }
    if url.ends_with(".csv.gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let keep: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| l.starts_with('#') || l.starts_with("cve,") || i % 10 == 0)
            .map(|(_, l)| *l)
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all((keep.join("\n") + "\n").as_bytes()).unwrap();
        return gz.finish().unwrap();
    }
    if url.ends_with(".json") {
        let mut v: serde_json::Value = serde_json::from_slice(body).unwrap();
        for key in ["vulnerabilities", "packages"] {
            if let Some(list) = v.get_mut(key).and_then(|l| l.as_array_mut()) {
                let n = list.len() / 10;
                list.truncate(n);
            }
        }
        return serde_json::to_vec(&v).unwrap();
    }
    // The tracker's lists: an entry starts at a line that does not start with whitespace.
    let text = String::from_utf8_lossy(body);
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) {
            if let Some(last) = entries.last_mut() {
                last.push_str(line);
                last.push('\n');
            }
        } else {
            entries.push(format!("{line}\n"));
        }
    }
    let n = entries.len() / 10;
    entries.truncate(n);
    entries.concat().into_bytes()
}

/// Each default feed in turn answers 500, an HTML page with status 200, a truncated body, an
/// empty body, and a tenth of its records: every time the update exits 3 naming that feed
/// (its kind and URL), and the database stays byte-identical (the other feeds are unchanged,
/// the bad one keeps its previous data, so nothing is rebuilt).
#[test]
fn every_feed_in_turn_fails_every_way_and_the_database_stays() {
    let work = tempfile::tempdir().unwrap();
    let feeds = customs(&["db", "feeds", "--format", "json"], work.path()).json();
    let root = work.path().join("mirror");
    let groups = mirror_tree(&root, &feeds);
    let mirror = Mirror::serve(root.clone());
    let db = work.path().join("vuln.db");
    let db_s = db.display().to_string();
    let cache = work.path().join("cache").display().to_string();
    let names = groups.join(",");
    let args = [
        "db",
        "update",
        "--db",
        &db_s,
        "--cache-dir",
        &cache,
        "--mirror",
        &mirror.base,
        "--feeds",
        &names,
    ];
    let r = customs(&args, work.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = std::fs::read(&db).unwrap();
    let mut tried = 0;
    for group in &groups {
        if group == "redhat" {
            tried += redhat_faults(&root, &feeds, &args, &mirror.base, &db, &before);
            continue;
        }
        // The group's largest file (a release's empty secdb cannot shrink).
        let Some(url) = feeds
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["group"] == group.as_str())
            .map(|f| f["url"].as_str().unwrap().to_owned())
            .max_by_key(|url| {
                std::fs::metadata(root.join(url.split_once("://").unwrap().1))
                    .map_or(0, |m| m.len())
            })
        else {
            continue;
        };
        let file = root.join(url.split_once("://").unwrap().1);
        let original = std::fs::read(&file).unwrap();
        let html =
            b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>".to_vec();
        let faults: [(&str, Option<Vec<u8>>); 5] = [
            ("500", None),
            ("html", Some(html)),
            ("truncated", Some(original[..original.len() / 2].to_vec())),
            ("empty", Some(Vec::new())),
            ("tenfold shrink", Some(a_tenth(&url, &original))),
        ];
        for (label, body) in faults {
            let mut marker = file.clone().into_os_string();
            marker.push(".500");
            match &body {
                None => std::fs::write(&marker, b"").unwrap(),
                Some(b) => std::fs::write(&file, b).unwrap(),
            }
            let r = customs(&args, work.path());
            let _ = std::fs::remove_file(&marker);
            std::fs::write(&file, &original).unwrap();
            assert_eq!(r.code, 3, "{group} {label}: {}", r.stderr);
            let mirrored = format!("{}/{}", mirror.base, url.split_once("://").unwrap().1);
            assert!(
                r.stderr.lines().any(|l| l.contains("error: feed ")
                    && l.contains(&mirrored)
                    && l.ends_with("its previous data is kept")),
                "{group} {label}: {}",
                r.stderr
            );
            assert!(
                std::fs::read(&db).unwrap() == before,
                "{group} {label}: the database changed"
            );
            tried += 1;
        }
    }
    assert_eq!(tried, 5 * groups.len(), "{tried} faults tried");
}

/// The faults of the fault test for Red Hat's folder, whose big download is the archive: a
/// new archive is named in `archive_latest.txt` and answers each fault in turn. Returns how
/// many were tried.
fn redhat_faults(
    root: &std::path::Path,
    feeds: &serde_json::Value,
    args: &[&str],
    base: &str,
    db: &std::path::Path,
    before: &[u8],
) -> usize {
    let url = feeds
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["group"] == "redhat")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let rel = url.split_once("://").unwrap().1;
    let dir = root.join(rel);
    let original = std::fs::read(dir.join(REDHAT_ARCHIVE)).unwrap();
    let latest = std::fs::read(dir.join("archive_latest.txt")).unwrap();
    let next = dir.join("csaf_vex_2026-12-02.tar.zst");
    let tenth = {
        // One document of the five: a tenth rounds down to none, so keep one.
        let mut a = tar::Archive::new(zstd::Decoder::new(original.as_slice()).unwrap());
        let mut b = tar::Builder::new(Vec::new());
        let mut e = a.entries().unwrap().next().unwrap().unwrap();
        let mut h = e.header().clone();
        let path = e.path().unwrap().into_owned();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut body).unwrap();
        h.set_cksum();
        b.append_data(&mut h, path, body.as_slice()).unwrap();
        zstd::encode_all(b.into_inner().unwrap().as_slice(), 3).unwrap()
    };
    let html = b"<!DOCTYPE html><html><body><h1>503</h1></body></html>".to_vec();
    let faults: [(&str, Vec<u8>, bool); 5] = [
        ("500", original.clone(), true),
        ("html", html, false),
        ("truncated", original[..original.len() / 2].to_vec(), false),
        ("empty", Vec::new(), false),
        ("shrink", tenth, false),
    ];
    let mut tried = 0;
    for (label, body, fail) in faults {
        std::fs::write(&next, &body).unwrap();
        let marker = dir.join("csaf_vex_2026-12-02.tar.zst.500");
        if fail {
            std::fs::write(&marker, b"").unwrap();
        }
        std::fs::write(
            dir.join("archive_latest.txt"),
            "csaf_vex_2026-12-02.tar.zst\n",
        )
        .unwrap();
        let r = customs(args, root);
        std::fs::write(dir.join("archive_latest.txt"), &latest).unwrap();
        let _ = std::fs::remove_file(&marker);
        let _ = std::fs::remove_file(&next);
        assert_eq!(r.code, 3, "redhat {label}: {}", r.stderr);
        let mirrored = format!("{base}/{rel}");
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains("error: feed redhat-vex")
                    && l.contains(&mirrored)
                    && l.ends_with("its previous data is kept")),
            "redhat {label}: {}",
            r.stderr
        );
        assert!(
            std::fs::read(db).unwrap() == before,
            "redhat {label}: the database changed"
        );
        tried += 1;
    }
    tried
}

/// Red Hat's folder: the archive with its changes and deletions applied; a second update
/// asks `changes.csv` conditionally and rebuilds nothing; a new change fetches that document
/// alone (the archive is not fetched again: it is gone from the mirror by then) and parses
/// only the Red Hat feed again.
#[test]
fn red_hat_vex_archive_is_taken_with_its_changes_and_deletions() {
    let work = tempfile::tempdir().unwrap();
    let feeds = customs(&["db", "feeds", "--format", "json"], work.path());
    let root = work.path().join("mirror");
    mirror_tree(&root, &feeds.json());
    let mirror = Mirror::serve(root.clone());
    let db = work.path().join("vuln.db");
    let db_s = db.display().to_string();
    let cache = work.path().join("cache").display().to_string();
    let args = [
        "db",
        "update",
        "--db",
        &db_s,
        "--cache-dir",
        &cache,
        "--mirror",
        &mirror.base,
        "--feeds",
        "redhat,kev",
    ];
    let first = customs(&args, work.path());
    assert_eq!(first.code, 0, "{}", first.stderr);
    let advisories = || -> Vec<(String, bool)> {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut q = c
            .prepare("SELECT id, withdrawn FROM advisories ORDER BY id")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let ids = |list: &[(String, bool)]| -> Vec<String> {
        list.iter().map(|(id, _)| id.clone()).collect()
    };
    let got = advisories();
    assert_eq!(
        ids(&got),
        [
            "CVE-2022-38752",
            "CVE-2023-0030",
            "CVE-2023-38545",
            "CVE-2023-42670",
            "CVE-2024-24786"
        ],
        "the deleted CVE-2023-4154 is gone, the added CVE-2023-42670 is there"
    );
    assert!(got.iter().any(|(id, w)| id == "CVE-2023-0030" && *w));
    // The changed revision replaced the archive's copy: the database holds what a build of
    // that document alone holds for the CVE.
    let changed = work.path().join("changed.db");
    let r = customs(
        &[
            "db",
            "build",
            "--out",
            &changed.display().to_string(),
            &format!(
                "redhat-csaf:{}",
                shared()
                    .join("data/advisories/redhat-csaf-vex/cve-2024-24786-bad-rpmmod.json")
                    .display()
            ),
        ],
        work.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let statements = |path: &std::path::Path| -> Vec<String> {
        let c = rusqlite::Connection::open(path).unwrap();
        let mut q = c
            .prepare(
                "SELECT f.namespace || ' ' || f.package || ' ' || f.status FROM affected f \
                 JOIN advisories a ON a.rowid = f.advisory WHERE a.id = 'CVE-2024-24786' ORDER BY 1",
            )
            .unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!statements(&changed).is_empty());
    assert_eq!(statements(&db), statements(&changed));

    let before = std::fs::read(&db).unwrap();
    let sent = mirror.sent();
    let second = customs(&args, work.path());
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("not rebuilt"), "{}", second.stdout);
    assert!(mirror.sent() - sent < 100, "{} bytes", mirror.sent() - sent);
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // A new change: the archive is no longer on the mirror, so fetching it would fail.
    let vex = root.join(
        feeds
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["group"] == "redhat")
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .split_once("://")
            .unwrap()
            .1,
    );
    std::fs::remove_file(vex.join(REDHAT_ARCHIVE)).unwrap();
    std::fs::create_dir_all(vex.join("2022")).unwrap();
    std::fs::copy(
        shared().join("data/advisories/redhat-csaf-vex/cve-2023-4154.json"),
        vex.join("2022/cve-2022-38752.json"),
    )
    .unwrap();
    let mut changes = std::fs::read_to_string(vex.join("changes.csv")).unwrap();
    changes.insert_str(
        0,
        "\"2022/cve-2022-38752.json\",\"2026-12-02T08:00:00+00:00\"\n",
    );
    std::fs::write(vex.join("changes.csv"), changes).unwrap();
    let third = customs(&args, work.path());
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(third.stdout.contains("; 1 parsed"), "{}", third.stdout);
    // CVE-2022-38752's path now holds another CVE's document: its record replaced the old one.
    let after = ids(&advisories());
    assert!(!after.contains(&"CVE-2022-38752".to_owned()), "{after:?}");
    assert!(after.contains(&"CVE-2023-4154".to_owned()), "{after:?}");
}

/// A stand-in for NVD's CVE API 2.0 on loopback, serving the shared API page's 38 CVEs: it
/// pages by at most 10 whatever is asked (as a server may), and filters by
/// `lastModStartDate`..`lastModEndDate` on each CVE's `lastModified`, as the API does. Its
/// data can be edited between requests; it records every query.
struct NvdApi {
    url: String,
    data: std::sync::Arc<std::sync::Mutex<serde_json::Value>>,
    queries: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl NvdApi {
    fn serve() -> Self {
        use std::io::{BufRead, BufReader, Write};
        let page: serde_json::Value = serde_json::from_slice(
            &std::fs::read(shared().join("data/advisories/nvd/nvd-api2-page.json")).unwrap(),
        )
        .unwrap();
        let data = std::sync::Arc::new(std::sync::Mutex::new(page));
        let queries = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/rest/json/cves/2.0",
            listener.local_addr().unwrap()
        );
        let (d, q) = (data.clone(), queries.clone());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                let _ = r.read_line(&mut line);
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                        break;
                    }
                }
                let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                q.lock().unwrap().push(target.clone());
                let query = target
                    .split_once('?')
                    .map_or("", |(_, q)| q)
                    .replace("%2B", "+");
                let param = |k: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                        .map(str::to_owned)
                };
                let all = d.lock().unwrap().clone();
                let mut list: Vec<serde_json::Value> = all["vulnerabilities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|v| {
                        let m = v["cve"]["lastModified"].as_str().unwrap();
                        param("lastModStartDate").is_none_or(|a| m[..19] >= a[..19])
                            && param("lastModEndDate").is_none_or(|b| m[..19] <= b[..19])
                    })
                    .cloned()
                    .collect();
                let total = list.len();
                let start: usize = param("startIndex")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let per: usize = param("resultsPerPage")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(2000)
                    .min(10);
                let page: Vec<_> = list
                    .drain(start.min(total)..(start + per).min(total))
                    .collect();
                let body = serde_json::to_vec(&serde_json::json!({
                    "resultsPerPage": page.len(), "startIndex": start, "totalResults": total,
                    "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-12-03T00:00:00.000",
                    "vulnerabilities": page,
                }))
                .unwrap();
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            }
        });
        Self { url, data, queries }
    }

    fn take_queries(&self) -> Vec<String> {
        std::mem::take(&mut *self.queries.lock().unwrap())
    }
}

/// NVD's API: the first update pages through every CVE; the next asks for what was modified
/// since, gets nothing and rebuilds nothing; after one CVE is modified upstream, the next
/// fetches that one record and the database holds its new description.
#[test]
fn nvd_is_paged_then_asked_by_last_modified_window() {
    let work = tempfile::tempdir().unwrap();
    let api = NvdApi::serve();
    let db = work.path().join("vuln.db");
    let db_s = db.display().to_string();
    let cache = work.path().join("cache").display().to_string();
    let feed = format!("nvd-api={}", api.url);
    let args = [
        "db",
        "update",
        "--db",
        &db_s,
        "--cache-dir",
        &cache,
        "--feed",
        &feed,
        "--nvd-delay-ms",
        "0",
    ];
    let nvd_rows = || -> Vec<(String, String)> {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut q = c
            .prepare("SELECT cve, description FROM nvd ORDER BY cve")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let first = customs(&args, work.path());
    assert_eq!(first.code, 0, "{}", first.stderr);
    let q = api.take_queries();
    assert_eq!(q.len(), 4, "38 CVEs in pages of 10: {q:?}");
    assert!(q.iter().all(|q| !q.contains("lastModStartDate")), "{q:?}");
    let rows = nvd_rows();
    assert_eq!(rows.len(), 38);

    let before = std::fs::read(&db).unwrap();
    let second = customs(&args, work.path());
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("not rebuilt"), "{}", second.stdout);
    let q = api.take_queries();
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(
        q[0].contains("lastModStartDate=") && q[0].contains("lastModEndDate="),
        "{q:?}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // One CVE is modified upstream, after the last sync.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (cve, _) = rows[5].clone();
    {
        let mut data = api.data.lock().unwrap();
        let v = data["vulnerabilities"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|v| v["cve"]["id"] == cve.as_str())
            .unwrap();
        let now = customs_types::Timestamp::now().to_string();
        v["cve"]["lastModified"] = serde_json::json!(format!("{}.000", &now[..19]));
        v["cve"]["descriptions"] =
            serde_json::json!([{"lang": "en", "value": "Rewritten upstream."}]);
    }
    let third = customs(&args, work.path());
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(third.stdout.contains("; 1 parsed"), "{}", third.stdout);
    assert_eq!(api.take_queries().len(), 1);
    let after = nvd_rows();
    assert_eq!(after.len(), 38);
    let changed: Vec<_> = after.iter().filter(|r| !rows.contains(r)).collect();
    assert_eq!(changed, [&(cve, "Rewritten upstream.".to_owned())]);

    // Last synced 300 days ago: the API takes windows of at most 120 days, so three.
    let manifest = work.path().join("cache/feeds/nvd-api-2.0");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let long_ago = customs_types::Timestamp::now()
        .saturating_sub(std::time::Duration::from_secs(300 * 86_400));
    m["synced_at"] = serde_json::json!(long_ago.to_string());
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    let fourth = customs(&args, work.path());
    assert_eq!(fourth.code, 0, "{}", fourth.stderr);
    let q = api.take_queries();
    assert_eq!(q.len(), 3, "{q:?}");
    let starts: Vec<&str> = q
        .iter()
        .map(|q| {
            q.split("lastModStartDate=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
}
