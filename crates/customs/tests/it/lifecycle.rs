//! The scan store through the command line: `scan --store`, `images`, `history`, on SQLite
//! and on the PostgreSQL server every machine here runs (127.0.0.1:5432, database `test`).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{corpus, customs};
use crate::scan::build_db;

/// A schema of its own on the local PostgreSQL, dropped afterwards.
pub(crate) struct PgSchema {
    base: String,
    name: String,
}

impl PgSchema {
    pub(crate) fn new() -> Self {
        let base = std::env::var("CUSTOMS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = format!(
            "customs_it_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap_or_else(|e| {
            panic!("this test needs PostgreSQL at {base} (scripts/test.sh starts it): {e}")
        });
        c.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap();
        Self { base, name }
    }

    pub(crate) fn url(&self) -> String {
        format!("{}?options=-csearch_path%3D{}", self.base, self.name)
    }

    /// The server's URL, without the schema.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The schema's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

/// `customs scan --store` as JSON, which must succeed.
fn stored_scan(
    cwd: &std::path::Path,
    store_url: &str,
    db: &str,
    source: &str,
) -> crate::common::Run {
    let r = customs(
        &[
            "scan",
            "--format",
            "json",
            "--no-cache",
            "--store",
            "--store-url",
            store_url,
            "--db",
            db,
            source,
        ],
        cwd,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

/// (id, package) of the findings a scan shows by default.
fn shown(v: &Value) -> BTreeSet<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["package"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `stored DIGEST: N new, M resolved, K changed ...` → (N, M, K).
fn delta_counts(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("stored "))
        .unwrap_or_else(|| panic!("no `stored` line in {stderr}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    // The digest's hex digits come first; the three counts are the last numbers.
    let k = n.len();
    (n[k - 3], n[k - 2], n[k - 1])
}

fn lifecycle(store_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("v1");
    let v2 = dir.path().join("v2");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::create_dir_all(&v2).unwrap();
    let db1 = build_db(&v1, &["rustsec"]);
    let db2 = build_db(&v2, &["rustsec", "osv-pypa-yaml"]);
    let source = format!("oci:{}:1", corpus().join("debian-app/oci").display());
    let scan = |db: &str| {
        let r = stored_scan(dir.path(), store_url, db, &source);
        (shown(&r.json()), delta_counts(&r.stderr))
    };
    let (first, d1) = scan(&db1);
    assert!(!first.is_empty());
    assert_eq!(d1, (first.len(), 0, 0), "everything is new the first time");
    let (second, d2) = scan(&db2);
    let added = second.difference(&first).count();
    let gone = first.difference(&second).count();
    assert!(added > 0);
    assert_eq!(
        d2.0, added,
        "new findings: exactly what the bigger database adds"
    );
    assert_eq!(d2.1, gone);
    // The same scan again changes nothing.
    let (_, d3) = scan(&db2);
    assert_eq!(d3, (0, 0, 0));

    let images = customs(
        &["images", "--format", "json", "--store-url", store_url],
        dir.path(),
    );
    assert_eq!(images.code, 0, "{}", images.stderr);
    let list = images.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let digest = list[0]["digest"].as_str().unwrap().to_owned();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("debian-app/summary.json")).unwrap())
            .unwrap();
    assert_eq!(digest, summary["manifest_digest"].as_str().unwrap());

    let history = customs(
        &[
            "history",
            "--format",
            "json",
            "--store-url",
            store_url,
            &digest,
        ],
        dir.path(),
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    let h = history.json();
    let rows = h["findings"].as_array().unwrap();
    assert_eq!(rows.len(), second.union(&first).count());
    // Findings from the first database were seen before those only the second one has.
    let seen = |set: &BTreeSet<(String, String)>| -> Vec<String> {
        rows.iter()
            .filter(|r| {
                set.contains(&(
                    r["id"].as_str().unwrap().to_owned(),
                    r["package_name"].as_str().unwrap().to_owned(),
                ))
            })
            .map(|r| r["first_seen"].as_str().unwrap().to_owned())
            .collect()
    };
    let early = seen(&first);
    let late: Vec<String> = seen(&second.difference(&first).cloned().collect());
    assert!(early.iter().max() < late.iter().min(), "{early:?} {late:?}");
    assert!(rows.iter().all(|r| r["resolved_at"].is_null()));

    let missing = customs(
        &["history", "--store-url", store_url, "sha256:0000"],
        dir.path(),
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no such image"),
        "{}",
        missing.stderr
    );
}

#[test]
fn stored_scans_report_what_changed_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    lifecycle(&format!("sqlite:{}", dir.path().join("store.db").display()));
}

#[test]
fn stored_scans_report_what_changed_postgres() {
    let schema = PgSchema::new();
    lifecycle(&schema.url());
}

/// Copy a directory tree (the OCI layout), so the test can delete it afterwards.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Store with a small database, delete the image, re-match with a bigger one: the new
/// findings are exactly what the bigger database adds, and nothing was read from the image.
/// debian-app (an OCI layout) and an Alpine 3.10 root are stored against DB v1 (RustSec only),
/// then both sources are deleted and the store is re-matched against DB v2 (+ the PyPA
/// advisories and Alpine's v3.10 secdb): each image's new findings are exactly what a fresh
/// scan with v2 adds to one with v1.
fn rematch_without_the_image(store_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::create_dir_all(&v2).unwrap();
    let db1 = build_db(&v1, &["rustsec"]);
    let db2 = build_db(
        &v2,
        &["rustsec", "osv-pypa-yaml", "alpine-secdb-yaml/v3.10"],
    );
    let copy = dir.path().join("layout");
    copy_tree(&corpus().join("debian-app/oci"), &copy);
    let alpine = crate::scan::alpine_310_downgraded();
    let sources = [
        format!("oci:{}:1", copy.display()),
        format!("dir:{}", alpine.path().display()),
    ];
    let before: Vec<_> = sources
        .iter()
        .map(|src| shown(&stored_scan(dir.path(), store_url, &db1, src).json()))
        .collect();
    // What a fresh scan with v2 shows (not stored), from a source the store never read: the
    // original layout and another copy of the Alpine root.
    let alpine_again = crate::scan::alpine_310_downgraded();
    let after: Vec<_> = [
        format!("oci:{}:1", corpus().join("debian-app/oci").display()),
        format!("dir:{}", alpine_again.path().display()),
    ]
    .iter()
    .map(|src| shown(&crate::scan::scan(&db2, src, dir.path(), &[])))
    .collect();
    std::fs::remove_dir_all(&copy).unwrap();
    let alpine_path = alpine.path().to_owned();
    drop(alpine);
    assert!(!alpine_path.exists() && !copy.exists());

    let rematch_with = |db: &str, extra: &[&str], code: i32| {
        let mut args = vec![
            "rematch",
            "--format",
            "json",
            "--store-url",
            store_url,
            "--db",
            db,
        ];
        args.extend_from_slice(extra);
        let r = customs(&args, dir.path());
        assert_eq!(r.code, code, "{extra:?}: {}", r.stderr);
        r
    };
    let rematch = |db: &str| rematch_with(db, &[], 0).json();
    let ids = |list: &Value| -> BTreeSet<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["package"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // New findings at or above the threshold: the gate fails (exit 1) and names them. (The
    // bigger database has no Debian, npm or Maven feed either: those gaps are accepted.)
    let allow = ["--allow-missing-coverage", "deb,npm,maven"];
    let gated = rematch_with(&db2, &["--fail-on", "negligible", allow[0], allow[1]], 1);
    assert!(
        gated.stderr.contains("--fail-on negligible: "),
        "{}",
        gated.stderr
    );
    let delta = gated.json();
    let images = delta["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    let image = |key: &str| -> &Value {
        images
            .iter()
            .find(|i| i["digest"].as_str().unwrap().contains(key))
            .unwrap_or_else(|| panic!("no stored image {key} in {delta}"))
    };
    let stored_keys = [
        debian_app_digest(),
        format!("dir:{}", alpine_path.display()),
    ];
    for (i, key) in stored_keys.iter().enumerate() {
        let added: BTreeSet<_> = after[i].difference(&before[i]).cloned().collect();
        assert!(!added.is_empty(), "{key}: v2 adds nothing");
        let got = image(key);
        assert_eq!(ids(&got["new"]), added, "{key}");
        assert!(got["resolved"].as_array().unwrap().is_empty(), "{key}");
        assert!(got["changed"].as_array().unwrap().is_empty(), "{key}");
    }
    // Nothing more to say the second time.
    let again = rematch(&db2);
    for i in again["images"].as_array().unwrap() {
        assert!(i["new"].as_array().unwrap().is_empty(), "{i}");
    }
    // Back to the small database, which lacks the PyPI and Alpine feeds: a missing feed is not
    // a fix, so what only the big one knew stays open, and the rematch says which ecosystems
    // it could not check.
    let back = rematch(&db1);
    let back_images = back["images"].as_array().unwrap();
    for (key, unchecked) in stored_keys
        .iter()
        .zip([vec!["deb", "pypi", "npm", "maven"], vec!["apk"]])
    {
        let got = back_images
            .iter()
            .find(|i| i["digest"].as_str().unwrap().contains(key.as_str()))
            .unwrap();
        assert!(
            got["resolved"].as_array().unwrap().is_empty(),
            "{key}: {got}"
        );
        assert_eq!(got["unchecked"], serde_json::json!(unchecked), "{key}");
    }
    // A gate that cannot check those ecosystems does not pass (exit 2, each one named) until
    // the gaps are accepted; nothing new then passes. Nothing new with the full database
    // passes too.
    let unknown = rematch_with(&db1, &["--fail-on", "critical"], 2);
    for eco in ["deb", "pypi", "npm", "maven", "apk"] {
        let named = format!("accept the gap with --allow-missing-coverage {eco}\n");
        assert!(unknown.stderr.contains(&named), "{eco}: {}", unknown.stderr);
    }
    rematch_with(
        &db1,
        &[
            "--fail-on",
            "critical",
            "--allow-missing-coverage",
            "deb,pypi,npm,maven,apk",
        ],
        0,
    );
    rematch_with(&db2, &["--fail-on", "negligible", allow[0], allow[1]], 0);
    // ... and unaccepted, those two gaps still say "cannot tell".
    rematch_with(&db2, &["--fail-on", "negligible"], 2);
}

/// debian-app's manifest digest, as its build recorded it.
pub(crate) fn debian_app_digest() -> String {
    let summary: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("debian-app/summary.json")).unwrap())
            .unwrap();
    summary["manifest_digest"]
        .as_str()
        .or_else(|| summary["oci"]["manifest_digest"].as_str())
        .unwrap_or_else(|| panic!("no manifest digest in summary.json: {summary}"))
        .to_owned()
}

#[test]
fn rematch_reports_new_findings_without_the_image_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    rematch_without_the_image(&format!("sqlite:{}", dir.path().join("store.db").display()));
}

#[test]
fn rematch_reports_new_findings_without_the_image_postgres() {
    let schema = PgSchema::new();
    rematch_without_the_image(&schema.url());
}

/// `diff` of two stored images equals what their own scans say, image by image.
#[test]
fn diff_of_two_stored_images() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let db = build_db(dir.path(), &["rustsec", "osv-pypa-yaml"]);
    let scan = |image: &str| -> Value {
        let src = format!("oci:{}:1", corpus().join(image).join("oci").display());
        let r = stored_scan(dir.path(), &store, &db, &src);
        r.json()
    };
    let (a, b) = (scan("debian-app"), scan("bookworm-big"));
    let digest = |v: &Value| v["image"]["manifest_digest"].as_str().unwrap().to_owned();
    let r = customs(
        &[
            "diff",
            "--format",
            "json",
            "--store-url",
            &store,
            &digest(&a),
            &digest(&b),
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d = r.json();
    let pkgs = |v: &Value| -> std::collections::BTreeMap<(String, String), String> {
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap().to_owned();
                ((s("ecosystem"), s("name")), s("version"))
            })
            .collect()
    };
    let (pa, pb) = (pkgs(&a), pkgs(&b));
    let names = |list: &Value| -> BTreeSet<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["ecosystem"].as_str().unwrap().to_owned(),
                    p["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let want_added: BTreeSet<_> = pb
        .keys()
        .filter(|k| !pa.contains_key(*k))
        .cloned()
        .collect();
    let want_removed: BTreeSet<_> = pa
        .keys()
        .filter(|k| !pb.contains_key(*k))
        .cloned()
        .collect();
    assert!(!want_added.is_empty() && !want_removed.is_empty());
    assert_eq!(names(&d["packages"]["added"]), want_added);
    assert_eq!(names(&d["packages"]["removed"]), want_removed);
    let want_changed: BTreeSet<_> = pa
        .iter()
        .filter(|(k, v)| pb.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(names(&d["packages"]["changed"]), want_changed);
    let fids = |list: &Value| -> BTreeSet<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["package"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (fa, fb) = (shown(&a), shown(&b));
    assert_eq!(
        fids(&d["findings"]["added"]),
        fb.difference(&fa).cloned().collect()
    );
    assert_eq!(
        fids(&d["findings"]["removed"]),
        fa.difference(&fb).cloned().collect()
    );
}

/// HMAC-SHA256 per RFC 2104, written out here so the test checks customs' signature with an
/// implementation of its own.
fn hmac_sha256(key: &[u8], data: &[u8]) -> String {
    use sha2::Digest as _;
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = sha2::Sha256::digest([pad(0x36), data.to_vec()].concat());
    let outer = sha2::Sha256::digest([pad(0x5c), inner.to_vec()].concat());
    format!("sha256={}", hex::encode(outer))
}

/// Accept one HTTP request on `listener`, answer 200, and hand back (headers, body).
fn receive_one(listener: std::net::TcpListener) -> std::sync::mpsc::Receiver<(String, Vec<u8>)> {
    use std::io::{Read, Write};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let (head, body) = loop {
            let n = s.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let mut body = buf[i + 4..].to_vec();
                while body.len() < len {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                break (head, body);
            }
        };
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let _ = tx.send((head, body));
    });
    rx
}

/// A rematch with news notifies a webhook (HMAC-signed) and a command. A webhook that is down
/// gets the delivery at the next run.
#[test]
fn rematch_notifies_and_retries_undelivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let (db1, db2) = crate::scan::two_dbs(dir.path(), &["rustsec"], &["rustsec", "osv-pypa-yaml"]);
    let source = format!("oci:{}:1", corpus().join("debian-app/oci").display());
    stored_scan(dir.path(), &store, &db1, &source);

    // A port with nothing listening: the receiver is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-for-the-test\n").unwrap();
    let out = dir.path().join("exec.json");
    let rematch = |db: &str| {
        customs(
            &[
                "rematch",
                "--format",
                "json",
                "--store-url",
                &store,
                "--db",
                db,
                "--notify",
                &format!("webhook=http://127.0.0.1:{port}/hook"),
                "--notify",
                &format!("exec=cat > {}", out.display()),
                "--webhook-secret-file",
                secret.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let first = rematch(&db2);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("not delivered") && first.stderr.contains("kept for the next run"),
        "{}",
        first.stderr
    );
    // The command got the same document the rematch printed.
    let printed = first.json();
    let piped: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(piped, printed);
    assert!(!printed["images"][0]["new"].as_array().unwrap().is_empty());

    // The receiver comes up; the next run (with nothing new) delivers what was kept.
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got = receive_one(listener);
    let second = rematch(&db2);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        !second.stderr.contains("not delivered"),
        "{}",
        second.stderr
    );
    let (head, body) = got
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the webhook was not called");
    let signature = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-customs-signature")
                .then(|| v.trim().to_owned())
        })
        .expect("no signature header");
    assert_eq!(signature, hmac_sha256(b"s3cr3t-for-the-test", &body));
    let delivered: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(delivered, printed, "the delivery is the first run's delta");
}

/// `watch` re-matches in rounds and stops cleanly on SIGTERM while it waits.
#[test]
fn watch_rounds_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let db = build_db(dir.path(), &["rustsec"]);
    let source = format!("oci:{}:1", corpus().join("debian-app/oci").display());
    stored_scan(dir.path(), &store, &db, &source);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_customs"))
        .args([
            "watch",
            "--interval",
            "1h",
            "--no-update",
            "--store-url",
            &store,
            "--db",
            &db,
        ])
        .env("CUSTOMS_CACHE_DIR", dir.path())
        .env("HOME", dir.path().join("home"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first round's report, then the signal while it waits an hour.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("stored images re-matched"))
        .expect("no round report");
    assert!(first.starts_with("1 stored images"), "{first}");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("customs watch: stopped after 1 rounds"),
        "{stderr}"
    );
}

/// `rematch --since-db` looks only at images holding a package whose advisories changed, and
/// finds there what a full rematch finds.
#[test]
fn rematch_since_db_touches_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (db1, db2) = crate::scan::two_dbs(dir.path(), &["rustsec"], &["rustsec", "osv-pypa-yaml"]);
    let run = |store: &str, since: bool| -> Value {
        for image in ["debian-app", "bookworm-big"] {
            let src = format!("oci:{}:1", corpus().join(image).join("oci").display());
            stored_scan(dir.path(), store, &db1, &src);
        }
        let mut args = vec![
            "rematch",
            "--format",
            "json",
            "--store-url",
            store,
            "--db",
            &db2,
        ];
        if since {
            args.extend(["--since-db", db1.as_str()]);
        }
        let r = customs(&args, dir.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let full = run(
        &format!("sqlite:{}", dir.path().join("full.db").display()),
        false,
    );
    let since = run(
        &format!("sqlite:{}", dir.path().join("since.db").display()),
        true,
    );
    let app = |v: &Value| -> Value {
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| {
                let news = i["new"].as_array().unwrap();
                !news.is_empty()
            })
            .cloned()
            .expect("an image with new findings")
    };
    assert_eq!(full["images"].as_array().unwrap().len(), 2);
    // bookworm-big holds no PyPI package: only debian-app is re-matched.
    assert_eq!(since["images"].as_array().unwrap().len(), 1);
    assert_eq!(app(&since)["digest"], app(&full)["digest"]);
    assert_eq!(app(&since)["new"], app(&full)["new"]);
    assert!(app(&since)["resolved"].as_array().unwrap().is_empty());
}

/// `scan --store` killed with SIGKILL at 50 random moments leaves a store that opens and passes
/// its integrity check every time, holding either the old state or the new one.
#[test]
fn sigkill_during_scan_store_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = format!("sqlite:{}", path.display());
    let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::create_dir_all(&v2).unwrap();
    let dbs = [
        build_db(&v1, &["rustsec"]),
        build_db(&v2, &["rustsec", "osv-pypa-yaml"]),
    ];
    let source = format!("oci:{}:1", corpus().join("debian-app/oci").display());
    stored_scan(dir.path(), &store, &dbs[0], &source);
    // How long one whole (warm) run takes here: the kills land anywhere inside it.
    let t0 = std::time::Instant::now();
    stored_scan(dir.path(), &store, &dbs[1], &source);
    let full = u64::try_from(t0.elapsed().as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    let mut seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
    let mut killed_midway = 0;
    for i in 0..50 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Measured with its JSON read back, a run takes longer than one writing to /dev/null.
        let wait = std::time::Duration::from_micros((seed >> 33) % (full / 3).max(1));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_customs"))
            .args([
                "scan",
                "-q",
                "--format",
                "json",
                "--store",
                "--store-url",
                &store,
                "--db",
                &dbs[i % 2],
                &source,
            ])
            .env("CUSTOMS_CACHE_DIR", dir.path())
            .env("HOME", dir.path().join("home"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_none() {
            killed_midway += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let mut s = customs_store::open(&store)
            .unwrap_or_else(|e| panic!("round {i}: the store does not open: {e}"));
        s.check()
            .unwrap_or_else(|e| panic!("round {i}: integrity check: {e}"));
        let images = s.images().unwrap();
        assert!(images.len() <= 1, "round {i}: {images:?}");
    }
    assert!(
        killed_midway >= 25,
        "only {killed_midway} of 50 kills hit a running scan"
    );
}

/// The Debian CVE list a rematch test builds its databases from. These entries are invented
/// (CVE-2099-…: no real entry changes this way between two days of the tracker); the format
/// is the tracker's own, as in `debian-tracker/format-samples/CVE-list-excerpt`.
const CVE_LIST_V1: &str = "\
CVE-2099-0001 (customs test: stays open, then known exploited)
\t- zlib 1:9.9-1
CVE-2099-0002 (customs test: rejected later)
\t- zlib 1:9.9-1
CVE-2099-0003 (customs test: not affected later)
\t- zlib 1:9.9-1
CVE-2099-0004 (customs test: minor later)
\t- zlib 1:9.9-1
CVE-2099-0005 (customs test: fixed version corrected later)
\t- zlib 1:9.9-1
CVE-2099-0100 (customs test: names bullseye, so the database holds debian:11)
\t- nosuchpackage 1.0-1
\t[bullseye] - nosuchpackage 1.0-1
";

const CVE_LIST_V2: &str = "\
CVE-2099-0001 (customs test: stays open, then known exploited)
\t- zlib 1:9.9-1
CVE-2099-0002
\tREJECTED
CVE-2099-0003 (customs test: not affected later)
\t- zlib 1:9.9-1
\t[bullseye] - zlib <not-affected> (Vulnerable code not present)
CVE-2099-0004 (customs test: minor later)
\t- zlib 1:9.9-1
\t[bullseye] - zlib <no-dsa> (Minor issue)
CVE-2099-0005 (customs test: fixed version corrected later)
\t- zlib 1:1.0-1
CVE-2099-0100 (customs test: names bullseye, so the database holds debian:11)
\t- nosuchpackage 1.0-1
\t[bullseye] - nosuchpackage 1.0-1
";

/// Each finding a data change resolves says why: withdrawn, not affected, suppressed by the
/// distro, or simply no longer matched; and a finding newly in CISA's KEV catalog is reported.
fn rematch_gives_reasons(store_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let list1 = write("v1/list", CVE_LIST_V1);
    let list2 = write("v2/list", CVE_LIST_V2);
    let kev = write(
        "v2/kev.json",
        r#"{"vulnerabilities": [{"cveID": "CVE-2099-0001", "dateAdded": "2026-11-27",
            "vulnerabilityName": "customs test entry", "knownRansomwareCampaignUse": "Unknown"}]}"#,
    );
    let build = |out: &str, inputs: &[String]| -> String {
        let out = dir.path().join(out).display().to_string();
        let mut args = vec!["db", "build", "--out", out.as_str()];
        args.extend(inputs.iter().map(String::as_str));
        let r = customs(&args, dir.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    };
    let db1 = build("v1.db", &[format!("debian-cve-list:{list1}")]);
    let db2 = build(
        "v2.db",
        &[
            format!("debian-cve-list:{list2}"),
            format!("kev-json:{kev}"),
        ],
    );
    let root = crate::scan::bullseye_root(&|_, _| None);
    let source = format!("dir:{}", root.path().display());
    let first = stored_scan(dir.path(), store_url, &db1, &source).json();
    let zlib: BTreeSet<_> = shown(&first)
        .into_iter()
        .filter(|(_, p)| p == "zlib1g")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        zlib,
        (1..=5).map(|i| format!("CVE-2099-000{i}")).collect(),
        "{first}"
    );
    let r = customs(
        &[
            "rematch",
            "--format",
            "json",
            "--store-url",
            store_url,
            "--db",
            &db2,
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let delta = r.json();
    let image = &delta["images"][0];
    let resolved: Vec<(&str, &str)> = image["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["resolved_reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        resolved,
        [
            ("CVE-2099-0002", "advisory-withdrawn"),
            ("CVE-2099-0003", "not-affected"),
            ("CVE-2099-0004", "suppressed"),
            ("CVE-2099-0005", "no-longer-matched"),
        ]
    );
    let kev: Vec<&str> = image["kev"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(kev, ["CVE-2099-0001"]);
    assert_eq!(image["kev"][0]["kev"]["date_added"], "2026-11-27");
    assert!(image["new"].as_array().unwrap().is_empty(), "{image}");

    // The timeline keeps the reasons; the table says them too.
    let key = image["digest"].as_str().unwrap();
    let r = customs(
        &["history", "--format", "json", "--store-url", store_url, key],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let history = r.json();
    let reason = |id: &str| -> Value {
        history["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap()["resolved_reason"]
            .clone()
    };
    assert_eq!(reason("CVE-2099-0001"), Value::Null);
    assert_eq!(reason("CVE-2099-0003"), "not-affected");
    let r = customs(&["history", "--store-url", store_url, key], dir.path());
    assert!(r.stdout.contains("advisory-withdrawn"), "{}", r.stdout);
}

#[test]
fn rematch_gives_reasons_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    rematch_gives_reasons(&format!("sqlite:{}", dir.path().join("store.db").display()));
}

#[test]
fn rematch_gives_reasons_postgres() {
    let schema = PgSchema::new();
    rematch_gives_reasons(&schema.url());
}

/// `--store-ca-cert` on the command line, against a PostgreSQL of the test's own that admits
/// TCP clients only over TLS (so a connection that works is encrypted) with a certificate of a
/// test CA for `localhost`: a scan stored with `sslmode=verify-full` and the CA given by the
/// flag, then read back by `customs images`; without the CA, or with another CA, the command
/// fails and says why.
#[test]
fn the_command_line_reaches_postgresql_over_tls_with_store_ca_cert() {
    let server = crate::pg_tls_server::server();
    let url = format!(
        "{}?sslmode=verify-full",
        server.database("cli_store_ca_cert", "localhost")
    );
    let dir = tempfile::tempdir().unwrap();
    let db = build_db(dir.path(), &["rustsec"]);
    let image = format!("oci:{}:1", corpus().join("trixie-minbase/oci").display());
    let ca = server.ca.to_str().unwrap();
    let scan = customs(
        &[
            "scan",
            "--format",
            "json",
            "--no-cache",
            "--store",
            "--store-url",
            &url,
            "--store-ca-cert",
            ca,
            "--db",
            &db,
            &image,
        ],
        dir.path(),
    );
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let images = customs(
        &[
            "images",
            "--format",
            "json",
            "--store-url",
            &url,
            "--store-ca-cert",
            ca,
        ],
        dir.path(),
    );
    assert_eq!(images.code, 0, "{}", images.stderr);
    let list = images.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert!(
        list[0]["digest"].as_str().unwrap().starts_with("sha256:"),
        "{list}"
    );

    let other = server.other_ca.to_str().unwrap();
    for args in [
        vec!["images", "--store-url", &url],
        vec!["images", "--store-url", &url, "--store-ca-cert", other],
    ] {
        let refused = customs(&args, dir.path());
        assert_ne!(refused.code, 0, "{args:?} connected");
        assert!(
            refused.stderr.contains("not trusted"),
            "{args:?}: {}",
            refused.stderr
        );
    }
}
