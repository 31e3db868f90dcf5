//! Matching against real advisory data: each expected list was derived by hand from the feed
//! files, as the comments show.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{corpus, customs, shared};

/// Build a database from inputs under ../shared/data/advisories.
pub(crate) fn build_db(dir: &Path, inputs: &[&str]) -> String {
    let out = dir.join("vuln.db");
    let mut args = vec![
        "db".to_owned(),
        "build".to_owned(),
        "--out".to_owned(),
        out.display().to_string(),
    ];
    for i in inputs {
        let (kind, rel) = i.split_once(':').map_or(("", *i), |(k, r)| (k, r));
        let p = shared()
            .join("data/advisories")
            .join(rel)
            .display()
            .to_string();
        args.push(if kind.is_empty() {
            p
        } else {
            format!("{kind}:{p}")
        });
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = customs(&a, dir);
    assert_eq!(r.code, 0, "db build: {}", r.stderr);
    out.display().to_string()
}

/// Two databases under `dir` (`v1/vuln.db` from `older`, `v2/vuln.db` from `newer`): what a
/// stored scan was matched against, and the update a rematch brings.
pub(crate) fn two_dbs(dir: &Path, older: &[&str], newer: &[&str]) -> (String, String) {
    let (v1, v2) = (dir.join("v1"), dir.join("v2"));
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::create_dir_all(&v2).unwrap();
    (build_db(&v1, older), build_db(&v2, newer))
}

pub(crate) fn scan(db: &str, source: &str, cache: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["scan", "--format", "json", "--db", db];
    args.extend_from_slice(extra);
    args.push(source);
    let r = customs(&args, cache);
    assert_eq!(r.code, 0, "scan {source}: {}", r.stderr);
    r.json()
}

/// (package, id, aliases…) of every finding.
fn found(v: &Value) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut aliases: Vec<&str> = f["aliases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            aliases.sort_unstable();
            format!(
                "{} {} [{}]",
                f["package"]["name"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                aliases.join(" ")
            )
        })
        .collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The first finding for a package.
fn first_of<'a>(v: &'a Value, pkg: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == pkg)
        .unwrap_or_else(|| panic!("no finding for {pkg}"))
}

fn ids(v: &Value) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["package"]["name"].as_str().unwrap(),
                f["id"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn alpine_310_against_its_secdb() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(work.path(), &["alpine-secdb-yaml/v3.10"]);
    let image = shared().join("data/images/real/alpine-310.tar.gz");
    // The image's packages are all at or past every secfix in the v3.10 secdb.
    let clean = scan(&db, &image.display().to_string(), work.path(), &[]);
    assert_eq!(clean["namespaces"][0], "alpine:3.10");
    assert!(ids(&clean).is_empty(), "{:?}", ids(&clean));

    let root = alpine_310_downgraded();
    let v = scan(
        &db,
        &format!("dir:{}", root.path().display()),
        work.path(),
        &[],
    );
    let want = strings(&[
        "busybox CVE-2019-5747",
        "libcrypto1.1 CVE-2019-1547",
        "libcrypto1.1 CVE-2019-1549",
        "libcrypto1.1 CVE-2019-1563",
        "musl CVE-2019-14697",
    ]);
    assert_eq!(ids(&v), want);
    let musl = first_of(&v, "musl");
    assert_eq!(musl["fixed_versions"][0], "1.1.22-r3");
    assert_eq!(musl["status"], "fixed");
    assert_eq!(musl["data_source"]["namespace"], "alpine:3.10");
}

/// alpine-310's apk database in a root directory (with its release file), three packages
/// downgraded below secfixes of the v3.10 secdb:
///   musl 1.1.22-r3 -> 1.1.22-r2: secfix 1.1.22-r3 lists CVE-2019-14697 (1.1.15-r4's is older).
///   busybox 1.30.1-r3 -> 1.30.1-r1: secfix 1.30.1-r2 lists CVE-2019-5747; 1.29.3-r10's two
///     CVEs are fixed below 1.30.1-r1, but CVE-2019-5747 is listed again at 1.30.1-r2.
///   libcrypto1.1 (origin openssl) 1.1.1d-r2 -> 1.1.1c-r0: secfix 1.1.1d-r0 lists
///     CVE-2019-1547, CVE-2019-1549, CVE-2019-1563; the older ones are fixed below 1.1.1c.
pub(crate) fn alpine_310_downgraded() -> tempfile::TempDir {
    let image = shared().join("data/images/real/alpine-310.tar.gz");
    let sh = format!(
        "tar -xzOf '{}' 71dba1fabbde4baabcdebcde4895d3f3887e388b09cef162f8159cf7daffa1b8/layer.tar | tar -xOf - lib/apk/db/installed",
        image.display()
    );
    let installed = String::from_utf8(
        Command::new("sh")
            .arg("-c")
            .arg(sh)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut out = String::new();
    let mut name = String::new();
    for line in installed.lines() {
        if let Some(n) = line.strip_prefix("P:") {
            name = n.to_owned();
        }
        let line = match (name.as_str(), line) {
            ("musl", l) if l.starts_with("V:") => "V:1.1.22-r2".to_owned(),
            ("busybox", l) if l.starts_with("V:") => "V:1.30.1-r1".to_owned(),
            ("libcrypto1.1", l) if l.starts_with("V:") => "V:1.1.1c-r0".to_owned(),
            (_, l) => l.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("lib/apk/db")).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("lib/apk/db/installed"), out).unwrap();
    std::fs::write(root.path().join("etc/alpine-release"), "3.10.4\n").unwrap();
    root
}

/// bullseye-minbase's dpkg status and os-release in a root directory, with `edit` applied.
pub(crate) fn bullseye_root(edit: &dyn Fn(&str, &str) -> Option<String>) -> tempfile::TempDir {
    let rootfs = corpus().join("bullseye-minbase/bundle/rootfs");
    let status = std::fs::read_to_string(rootfs.join("var/lib/dpkg/status")).unwrap();
    let mut out = String::new();
    let mut pkg = String::new();
    for line in status.lines() {
        if let Some(p) = line.strip_prefix("Package: ") {
            pkg = p.to_owned();
        }
        match line.strip_prefix("Version: ").and_then(|v| edit(&pkg, v)) {
            Some(v) => out.push_str(&format!("Version: {v}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("var/lib/dpkg/status"), out).unwrap();
    std::fs::copy(
        rootfs.join("usr/lib/os-release"),
        root.path().join("etc/os-release"),
    )
    .unwrap();
    root
}

#[test]
fn bullseye_against_the_dsa_and_dla_lists() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(
        work.path(),
        &[
            "debian-tracker/data/DSA/list",
            "debian-tracker/data/DLA/list",
        ],
    );
    // The point-release packages are newer than every fix in the 2023 lists.
    let image = format!("oci:{}", corpus().join("bullseye-minbase/oci").display());
    let clean = scan(&db, &image, work.path(), &[]);
    assert_eq!(clean["namespaces"][0], "debian:11");
    assert!(ids(&clean).is_empty(), "{:?}", ids(&clean));

    // Downgrades, matched through the source package:
    //   libssl1.1 (source openssl) 1.1.1w-0+deb11u1 -> 1.1.1n-0+deb11u3: DSA-5343-1 fixed openssl
    //     in bullseye at 1.1.1n-0+deb11u4 {CVE-2022-2097 CVE-2022-4304 CVE-2022-4450
    //     CVE-2023-0215 CVE-2023-0286}; every older openssl DSA for bullseye is fixed at or below u3.
    //   libgnutls30 (source gnutls28) 3.7.1-5+deb11u5 -> 3.7.1-5+deb11u2: DSA-5349-1 fixed it at
    //     3.7.1-5+deb11u3 {CVE-2023-0361}; the DSA fixing it at +deb11u2 is not below it.
    let root = bullseye_root(&|pkg, _| match pkg {
        "libssl1.1" => Some("1.1.1n-0+deb11u3".to_owned()),
        "libgnutls30" => Some("3.7.1-5+deb11u2".to_owned()),
        _ => None,
    });
    let v = scan(
        &db,
        &format!("dir:{}", root.path().display()),
        work.path(),
        &[],
    );
    let want = strings(&[
        "libgnutls30 DSA-5349-1 [CVE-2023-0361]",
        "libssl1.1 DSA-5343-1 [CVE-2022-2097 CVE-2022-4304 CVE-2022-4450 CVE-2023-0215 CVE-2023-0286]",
    ]);
    assert_eq!(found(&v), want);
    let ssl = first_of(&v, "libssl1.1");
    assert_eq!(ssl["data_source"]["package"], "openssl");
    assert_eq!(ssl["fixed_versions"][0], "1.1.1n-0+deb11u4");
    assert_eq!(ssl["installed_version"], "1.1.1n-0+deb11u3");
    // The fix is dated by the DSA that announced it (`[07 Feb 2023] DSA-5343-1`).
    assert_eq!(
        ssl["fix_date"],
        serde_json::json!({"date": "2023-02-07", "source": "announced"})
    );
    assert_eq!(
        first_of(&v, "libgnutls30")["fix_date"],
        serde_json::json!({"date": "2023-02-14", "source": "announced"})
    );
    // --fail-on: exit 1 only when a finding at or above the level remains.
    let r = customs(
        &[
            "scan",
            "--db",
            &db,
            "--fail-on",
            "unknown",
            &format!("dir:{}", root.path().display()),
        ],
        work.path(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Only the findings gate here: the image's config (root, no health check) fails on its
    // own, as `config-root-user` and `config-no-healthcheck`.
    let r = customs(
        &["scan", "--db", &db, "--fail-on", "unknown", &image],
        work.path(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("config-root-user"), "{}", r.stdout);
    let r = customs(
        &[
            "scan",
            "--db",
            &db,
            "--fail-on",
            "unknown",
            "--scanners",
            "vuln",
            &image,
        ],
        work.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn vercmp_cli_agrees_with_every_vector() {
    use std::io::Write;
    let dir = shared().join("data/versions/osv-semantic");
    for (file, eco) in [
        ("debian-versions.txt", "deb"),
        ("debian-versions-generated.txt", "deb"),
        ("redhat-versions.txt", "rpm"),
        ("alpine-versions.txt", "apk"),
        ("alpine-versions-generated.txt", "apk"),
        ("maven-versions.txt", "maven"),
        ("maven-versions-generated.txt", "maven"),
        ("rubygems-versions.txt", "gem"),
        ("rubygems-versions-generated.txt", "gem"),
        ("packagist-versions.txt", "composer"),
        ("packagist-versions-generated.txt", "composer"),
        ("nuget-versions.txt", "nuget"),
    ] {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let vectors: Vec<(usize, &str, &str, &str)> = text
            .lines()
            .enumerate()
            .filter_map(|(n, l)| {
                let l = l.trim();
                if l.is_empty() || l.starts_with('#') || l.starts_with("//") {
                    return None;
                }
                let parts: Vec<&str> = l.split_whitespace().collect();
                match parts[..] {
                    [a, op @ ("<" | "=" | ">"), b] => Some((n + 1, a, op, b)),
                    _ => panic!("{file}:{}: unreadable vector {l:?}", n + 1),
                }
            })
            .collect();
        assert!(vectors.len() > 20, "{file}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_customs"))
            .args(["vercmp", eco, "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let input: String = vectors
            .iter()
            .map(|(_, a, _, b)| format!("{a} {b}\n"))
            .collect();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        let answers: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(answers.len(), vectors.len(), "{file}");
        let failures: Vec<String> = vectors
            .iter()
            .zip(&answers)
            .filter(|((_, _, op, _), got)| got != op)
            .map(|((n, a, op, b), got)| format!("{file}:{n}: {a} {op} {b} -> {got}"))
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {} vectors fail:\n{}",
            failures.len(),
            vectors.len(),
            failures.join("\n")
        );
        assert!(out.status.success());
    }
    let cache = tempfile::tempdir().unwrap();
    let r = customs(&["version", "compare", "deb", "1:", "1.0"], cache.path());
    assert_eq!(r.code, 2);
    assert!(!r.stderr.is_empty());
}

/// A minimal HTTP/1.1 file server on loopback, serving ../shared/data/advisories, for `db update`.
/// Paths under /missing/ answer 404; each request is answered and the connection closed.
fn serve_advisories() -> (
    String,
    std::thread::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let root = shared().join("data/advisories");
    let handle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !flag.load(std::sync::atomic::Ordering::Relaxed)
            && std::time::Instant::now() < deadline
        {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            let mut line = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let file = root.join(&path);
            let ok = !path.contains("..") && !path.starts_with("missing/") && file.is_file();
            if ok {
                let body = std::fs::read(&file).unwrap();
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            } else {
                let _ = s.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        }
    });
    (addr, handle, stop)
}

#[test]
fn db_update_fetches_feeds_over_http() {
    let (base, handle, stop) = serve_advisories();
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("data/vuln.db");
    let db_s = db.display().to_string();
    let feeds = [
        format!("debian-dsa={base}/debian-tracker/data/DSA/list"),
        format!("debian-dla={base}/debian-tracker/data/DLA/list"),
        format!("alpine-yaml={base}/alpine-secdb-yaml/v3.10/main.yaml"),
        format!("kev-json={base}/kev/known_exploited_vulnerabilities.json"),
        format!("epss={base}/missing/epss.csv"),
    ];
    let mut args = vec!["db", "update", "--db", &db_s];
    for f in &feeds {
        args.push("--feed");
        args.push(f);
    }
    // The missing feed is named, and the update's status says a feed failed (3); the others
    // make the database.
    let r = customs(&args, work.path());
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: feed epss") && r.stderr.contains("404"),
        "the missing feed is reported: {}",
        r.stderr
    );
    let info = customs(
        &["db", "info", "--db", &db_s, "--format", "json"],
        work.path(),
    );
    assert_eq!(info.code, 0, "{}", info.stderr);
    let v = info.json();
    let feeds: BTreeSet<String> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["feed"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        feeds,
        ["alpine-yaml", "debian-dla", "debian-dsa", "kev-json"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
    assert_eq!(v["kev"], 1404);
    assert!(v["advisories"].as_i64().unwrap() > 8000);
    // An old database warns with its age, never fails.
    assert!(info.stderr.contains("days old"), "{}", info.stderr);
    // A second update with the server gone names each feed, keeps its download, and leaves
    // the database as it was.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    handle.join().unwrap();
    let before = std::fs::read(&db).unwrap();
    let r = customs(&args, work.path());
    assert_eq!(r.code, 3, "{}", r.stderr);
    for feed in ["debian-dsa", "debian-dla", "alpine-yaml", "kev-json"] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(&format!("error: feed {feed} "))
                    && l.ends_with("its previous data is kept")),
            "{feed}: {}",
            r.stderr
        );
    }
    // Every feed kept its data, so the database is the one built before, untouched.
    assert!(r.stdout.contains("not rebuilt"), "{}", r.stdout);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_fresh_install_scans_offline_from_the_built_in_snapshot() {
    let home = tempfile::tempdir().unwrap();
    let r = crate::common::customs_with(
        Command::new(env!("CARGO_BIN_EXE_customs"))
            .args([
                "scan",
                "--format",
                "json",
                &format!("oci:{}", corpus().join("bullseye-minbase/oci").display()),
            ])
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env_remove("CUSTOMS_DB"),
        home.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("built-in snapshot"), "{}", r.stderr);
    assert!(home.path().join("data/customs/vuln.db").is_file());
    let v = r.json();
    assert_eq!(v["schema"], "customs.scan/1.9");
    // The newest records are the RustSec and Go snapshots' (2026-08, data/snapshot/SOURCES.md).
    assert!(
        v["vulnerability_db"]["newest_advisory"]
            .as_str()
            .unwrap()
            .starts_with("2026-08"),
        "{}",
        v["vulnerability_db"]
    );
    // The same snapshot carries the language advisories: debian-app's planted Python and
    // Cargo packages are found offline (the RustSec ids cargo-audit reports on its
    // Cargo.lock, see ../shared/tools/README.md, and PyPA's for its old urllib3/requests).
    let r = crate::common::customs_with(
        Command::new(env!("CARGO_BIN_EXE_customs"))
            .args([
                "scan",
                "--format",
                "json",
                &format!("oci:{}", corpus().join("debian-app/oci").display()),
            ])
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env_remove("CUSTOMS_DB"),
        home.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let named = |eco: &str, id: &str| {
        v["findings"].as_array().unwrap().iter().any(|f| {
            f["package"]["ecosystem"] == eco
                && (f["id"] == id || f["aliases"].as_array().unwrap().iter().any(|a| a == id))
        })
    };
    for id in [
        "RUSTSEC-2022-0013",
        "RUSTSEC-2021-0003",
        "RUSTSEC-2020-0071",
    ] {
        assert!(named("cargo", id), "{id} not found offline");
    }
    for id in ["PYSEC-2021-108", "PYSEC-2023-74"] {
        assert!(named("pypi", id), "{id} not found offline");
    }
    let covered: Vec<&str> = v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["covered"] == true)
        .map(|c| c["ecosystem"].as_str().unwrap())
        .collect();
    assert!(
        covered.contains(&"pypi") && covered.contains(&"cargo"),
        "{covered:?}"
    );
    // A missing --db says how to get one.
    let r = customs(
        &["scan", "--db", "/nonexistent/vuln.db", "dir:/"],
        home.path(),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("customs db build") && r.stderr.contains("customs db update"),
        "{}",
        r.stderr
    );
}

fn finding<'a>(v: &'a Value, pkg: &str, id: &str) -> Option<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == pkg && f["id"] == id)
}

/// Ubuntu 18.04 with libssl1.1 (source openssl) at 1.1.0g-2ubuntu4.1, a real bionic version,
/// against the UCT files. Every `bionic_openssl:` line in the data, by hand:
///   released (1.1.0g-2ubuntu4.3): CVE-2018-0734, CVE-2018-0735, CVE-2018-5407 -> fixed findings
///   needed: CVE-2019-1547, CVE-2019-1549, CVE-2019-1551, CVE-2019-1563 -> affected, no fix
///   not-affected (1.1.0g-2ubuntu4.3): CVE-2019-1559 -> suppressed
#[test]
fn ubuntu_status_against_the_cve_tracker() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(work.path(), &["ubuntu-uct/active"]);
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/os-release"),
        "NAME=\"Ubuntu\"\nVERSION=\"18.04.3 LTS (Bionic Beaver)\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"18.04\"\nVERSION_CODENAME=bionic\n",
    )
    .unwrap();
    std::fs::write(
        root.path().join("var/lib/dpkg/status"),
        "Package: libssl1.1\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 1.1.0g-2ubuntu4.1\n\n\
         Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.11.dfsg-0ubuntu2\n\n",
    )
    .unwrap();
    let src = format!("dir:{}", root.path().display());
    let v = scan(&db, &src, work.path(), &[]);
    assert_eq!(v["namespaces"][0], "ubuntu:18.04");
    let ssl: BTreeSet<String> = ids(&v)
        .into_iter()
        .filter(|i| i.starts_with("libssl1.1 "))
        .collect();
    let want: BTreeSet<String> = [
        "CVE-2018-0734",
        "CVE-2018-0735",
        "CVE-2018-5407",
        "CVE-2019-1547",
        "CVE-2019-1549",
        "CVE-2019-1551",
        "CVE-2019-1563",
    ]
    .iter()
    .map(|c| format!("libssl1.1 {c}"))
    .collect();
    assert_eq!(ssl, want);
    let f = finding(&v, "libssl1.1", "CVE-2018-0734").unwrap();
    assert_eq!(f["status"], "fixed");
    assert_eq!(f["fixed_versions"][0], "1.1.0g-2ubuntu4.3");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["severity_source"], "ubuntu");
    assert_eq!(
        finding(&v, "libssl1.1", "CVE-2019-1547").unwrap()["status"],
        "affected"
    );
    // not-affected is hidden by default and shown, suppressed, on request.
    assert!(finding(&v, "libssl1.1", "CVE-2019-1559").is_none());
    let all = scan(&db, &src, work.path(), &["--show-suppressed"]);
    let na = finding(&all, "libssl1.1", "CVE-2019-1559").unwrap();
    assert_eq!(na["status"], "not-affected");
    assert!(
        na["suppressed"]
            .as_str()
            .unwrap()
            .starts_with("not-affected")
    );
    // --only-fixed keeps the three with a fixed version.
    let fixed = scan(&db, &src, work.path(), &["--only-fixed"]);
    assert_eq!(
        ids(&fixed)
            .iter()
            .filter(|i| i.starts_with("libssl1.1 "))
            .count(),
        3
    );
}

/// A RHEL 9.3 rpm database (tests/fixtures/rhel9, written by rpm) against the CSAF VEX files:
///   curl/libcurl 7.76.1-26.el9: CVE-2023-38545 fixed in 7.76.1-26.el9_3.2 (BaseOS/AppStream
///     9.3.0.Z.MAIN) -> fixed findings; the 9.0 and 9.2 EUS fixes are below the installed EVR.
///   libsmbclient 4.18.6-100.el9: red_hat_enterprise_linux_9:libsmbclient is known_not_affected
///     by CVE-2023-4154 -> suppressed.
#[test]
fn rhel_rpms_against_csaf_vex() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(work.path(), &["redhat-csaf-vex"]);
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rhel9/rpmdb.sqlite"),
        root.path().join("var/lib/rpm/rpmdb.sqlite"),
    )
    .unwrap();
    std::fs::write(
        root.path().join("etc/os-release"),
        "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"9.3 (Plow)\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.3\"\n",
    )
    .unwrap();
    let src = format!("dir:{}", root.path().display());
    let v = scan(&db, &src, work.path(), &[]);
    assert_eq!(v["namespaces"][0], "rhel:9");
    let want: BTreeSet<String> = ["curl CVE-2023-38545", "libcurl CVE-2023-38545"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids(&v), want);
    let f = finding(&v, "curl", "CVE-2023-38545").unwrap();
    assert_eq!(f["status"], "fixed");
    assert_eq!(f["fixed_versions"][0], "7.76.1-26.el9_3.2");
    assert_eq!(f["data_source"]["feed"], "redhat-csaf");
    // Dated by the erratum's release (the `vendor_fix` remediation of RHSA-2023:6745), not by
    // the CVE's public date (2023-10-11).
    assert_eq!(
        f["fix_date"],
        serde_json::json!({"date": "2023-11-07", "source": "announced"}),
        "{f}"
    );
    let all = scan(&db, &src, work.path(), &["--show-suppressed"]);
    let na = finding(&all, "libsmbclient", "CVE-2023-4154").unwrap();
    assert_eq!(na["status"], "not-affected");
    assert!(na["suppressed"].is_string());
}

#[test]
fn explain_says_why_and_why_not() {
    let work = tempfile::tempdir().unwrap();
    let db = build_db(work.path(), &["debian-tracker/data/DSA/list"]);
    let root = bullseye_root(&|pkg, _| (pkg == "libssl1.1").then(|| "1.1.1n-0+deb11u3".to_owned()));
    let src = format!("dir:{}", root.path().display());
    let r = customs(
        &["explain", "--db", &db, "CVE-2023-0286", &src],
        work.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "FINDING DSA-5343-1 in libssl1.1 1.1.1n-0+deb11u3",
        "source package openssl",
        "namespace:       debian:11 (the feed names package \"openssl\")",
        "rule:            installed 1.1.1n-0+deb11u3 < fixed 1.1.1n-0+deb11u4",
        "data source:     debian-dsa record",
    ] {
        assert!(
            r.stdout.contains(want),
            "missing {want:?} in:\n{}",
            r.stdout
        );
    }
    // The unmodified image is past the fix: explain says so.
    let clean = format!(
        "dir:{}",
        corpus().join("bullseye-minbase/bundle/rootfs").display()
    );
    let r = customs(
        &["explain", "--db", &db, "CVE-2023-0286", &clean],
        work.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("NO FINDING")
            && r.stdout
                .contains(">= fixed 1.1.1n-0+deb11u4: already fixed"),
        "{}",
        r.stdout
    );
}

/// A gate that cannot tell does not pass: debian-app has npm packages, and a database without
/// npm advisories makes `--fail-on` exit 2 naming the gap, unless the gap is accepted; a
/// database without any advisory (only the KEV catalog) exits 2 whatever is accepted.
#[test]
fn a_gate_without_the_data_for_an_ecosystem_exits_2() {
    let image = format!("oci:{}", corpus().join("debian-app/oci").display());
    let work = tempfile::tempdir().unwrap();
    let db = build_db(
        work.path(),
        &[
            "debian-tracker/data/DSA/list",
            "debian-tracker/data/DLA/list",
            "rustsec",
            "osv-pypa-yaml",
        ],
    );
    let report = scan(&db, &image, work.path(), &[]);
    let uncovered: Vec<&str> = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["covered"] == false)
        .map(|c| c["ecosystem"].as_str().unwrap())
        .collect();
    // The shared Debian lists end in March 2023, before bookworm's first DSA: debian:12 has no
    // advisories in them, so the image's deb packages are a gap too; so is its log4j jar
    // (no GHSA records in this database).
    assert_eq!(uncovered, ["deb", "npm", "maven"], "{}", report["coverage"]);
    let gate = |extra: &[&str]| {
        let mut args = vec!["scan", "--db", &db, "--fail-on", "critical"];
        args.extend_from_slice(extra);
        args.push(&image);
        customs(&args, work.path())
    };
    let r = gate(&[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no advisories for npm packages")
            && r.stderr.contains("--allow-missing-coverage"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("coverage: "), "{}", r.stdout);
    assert!(
        r.stdout.contains("npm 6 (NO ADVISORY DATA)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("pypi 10 (osv, newest "), "{}", r.stdout);
    let r = gate(&["--allow-missing-coverage", "deb,maven"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.contains("error:")).collect();
    assert!(
        errors.len() == 1 && errors[0].contains("npm packages"),
        "{}",
        r.stderr
    );
    let r = gate(&["--allow-missing-coverage", "deb,npm,maven"]);
    assert!(r.code == 0 || r.code == 1, "{}: {}", r.code, r.stderr);
    // Without --fail-on the scan succeeds and warns.
    let r = customs(&["scan", "--db", &db, &image], work.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: the vulnerability database has no advisories for npm"),
        "{}",
        r.stderr
    );

    let kev_only = tempfile::tempdir().unwrap();
    let db = build_db(kev_only.path(), &["kev"]);
    let r = customs(
        &[
            "scan",
            "--db",
            &db,
            "--fail-on",
            "critical",
            "--allow-missing-coverage",
            "deb,pypi,npm,cargo",
            &image,
        ],
        work.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("holds no advisories"), "{}", r.stderr);
}
