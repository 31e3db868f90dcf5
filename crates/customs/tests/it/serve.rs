//! customs as a service, through the real binary: `customs serve` on loopback, its API with
//! tokens, its workers pulling from the real registry, scan on push from a real
//! `docker-registry` whose notifications point at it, and a graceful stop. SQLite and the
//! PostgreSQL server every machine here runs (127.0.0.1:5432).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::customs;
use crate::lifecycle::PgSchema;
use crate::registry::registries_up;
use crate::scan::build_db;

/// A free port on loopback (bound, then released for the child to take).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 client over a TcpStream: the tests must see exactly what the server
/// sends (status, headers), with no client-side retries or redirects.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to customs serve");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    // A server may answer (413) and close before taking the whole body.
    let _ = s.write_all(body);
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse::<usize>().ok();
            }
            if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                chunked = true;
            }
            headers.push((k, v));
        }
    }
    let mut body = Vec::new();
    if method == "HEAD" {
        // Headers only, whatever Content-Length says.
    } else if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n + 2];
            std::io::Read::read_exact(&mut reader, &mut chunk).unwrap();
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        std::io::Read::read_exact(&mut reader, &mut body).unwrap();
    } else {
        std::io::Read::read_to_end(&mut reader, &mut body).unwrap();
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// `customs serve` on a free loopback port, killed on drop.
pub(crate) struct Server {
    pub(crate) port: u16,
    child: Child,
    log: PathBuf,
}

impl Server {
    pub(crate) fn start(work: &Path, store_url: &str, db: &str, extra: &[&str]) -> Self {
        let port = free_port();
        let log = work.join(format!("serve-{port}.log"));
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec![
            "serve",
            "--listen",
            &listen,
            "--store-url",
            store_url,
            "--db",
            db,
            "--log-format",
            "json",
        ];
        args.extend_from_slice(extra);
        let child = Command::new(env!("CARGO_BIN_EXE_customs"))
            .args(&args)
            .env("CUSTOMS_CACHE_DIR", work.join("cache"))
            .env("HOME", work.join("home"))
            .env_remove("DOCKER_CONFIG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start customs serve");
        let server = Self { port, child, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "customs serve did not listen: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait for the process to exit; its exit code.
    pub(crate) fn terminate(&mut self, within: Duration) -> i32 {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "customs serve did not stop within {within:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        http(self.port, "GET", path, &headers, None)
    }

    pub(crate) fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        headers.push(("Content-Type", "application/json"));
        http(
            self.port,
            "POST",
            path,
            &headers,
            Some(body.to_string().as_bytes()),
        )
    }

    /// Wait until job `id` is done or dead; the job.
    pub(crate) fn wait_job(&self, id: i64, token: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let job = self.get(&format!("/api/v1/jobs/{id}"), Some(token));
            assert_eq!(job.status, 200, "{}", job.text());
            let job = job.json();
            if job["state"] == "done" || job["state"] == "dead" {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} not finished: {job}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new token from `customs token create`.
pub(crate) fn token(work: &Path, store_url: &str, name: &str, scope: &str) -> String {
    let r = customs(
        &[
            "token",
            "create",
            "--name",
            name,
            "--scope",
            scope,
            "--store-url",
            store_url,
        ],
        work,
    );
    assert_eq!(r.code, 0, "token create: {}", r.stderr);
    let t = r.stdout.trim().to_owned();
    assert!(t.starts_with("cst_") && t.len() == 68, "{t}");
    t
}

fn the_api(store_url: &str) {
    registries_up();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["rustsec", "osv-pypa-yaml"]);
    let read = token(w, store_url, "dashboard", "read");
    let scan = token(w, store_url, "ci", "scan");
    let admin = token(w, store_url, "ops", "admin");
    let gone = token(w, store_url, "old", "read");
    let r = customs(&["token", "revoke", "old", "--store-url", store_url], w);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The store keeps hashes, never the tokens.
    let list = customs(
        &[
            "token",
            "list",
            "--format",
            "json",
            "--store-url",
            store_url,
        ],
        w,
    );
    assert!(!list.stdout.contains("cst_"), "{}", list.stdout);
    assert_eq!(list.json().as_array().unwrap().len(), 4);

    let server = Server::start(w, store_url, &db, &["--workers", "1"]);
    assert_eq!(server.get("/healthz", None).status, 200);
    assert_eq!(server.get("/readyz", None).status, 200, "{}", server.log());

    // Refusals: no token, a wrong one, a revoked one, a malformed header, a short scope.
    let scan_body = json!({"reference": "127.0.0.1:5000/debian-app:1"});
    let none = server.post("/api/v1/scans", None, &scan_body);
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"customs\"")
    );
    assert_eq!(none.json()["error"]["code"], "unauthorized");
    let wrong = format!("cst_{}", "0".repeat(64));
    assert_eq!(
        server
            .post("/api/v1/scans", Some(&wrong), &scan_body)
            .status,
        401
    );
    assert_eq!(server.get("/api/v1/images", Some(&gone)).status, 401);
    let basic = http(
        server.port,
        "GET",
        "/api/v1/images",
        &[("Authorization", "Basic c2Nhbm5lcjp4")],
        None,
    );
    assert_eq!(basic.status, 401);
    let under = server.post("/api/v1/scans", Some(&read), &scan_body);
    assert_eq!(under.status, 403, "{}", under.text());
    assert_eq!(under.json()["error"]["code"], "forbidden");
    assert_eq!(
        server
            .post("/api/v1/rematches", Some(&scan), &json!({}))
            .status,
        403
    );

    // Hostile references: never a path on the server's machine.
    for bad in [
        "/etc/passwd",
        "dir:/etc",
        "oci:/tmp/x",
        " 127.0.0.1:5000/a:1",
        "",
    ] {
        let r = server.post("/api/v1/scans", Some(&scan), &json!({"reference": bad}));
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text());
    }
    assert_eq!(
        server
            .post("/api/v1/scans", Some(&scan), &json!({"ref": "x"}))
            .status,
        400
    );

    // A scan: queued once while live, done by the worker, stored.
    let queued = server.post("/api/v1/scans", Some(&scan), &scan_body);
    assert_eq!(queued.status, 202, "{}", queued.text());
    let id = queued.json()["id"].as_i64().unwrap();
    let again = server.post("/api/v1/scans", Some(&scan), &scan_body).json();
    if again["created"] == false {
        assert_eq!(again["id"].as_i64(), Some(id), "the live job is returned");
    }
    let job = server.wait_job(id, &read, Duration::from_secs(120));
    assert_eq!(job["state"], "done", "{job}\n{}", server.log());
    let digest = job["result"]["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"));
    let findings = job["result"]["findings"].as_u64().unwrap();
    assert!(findings > 0, "{job}");
    let scan_job = server.get(&format!("/api/v1/scans/{id}"), Some(&read));
    assert_eq!(scan_job.json()["id"].as_i64(), Some(id));

    let images = server.get("/api/v1/images", Some(&read));
    assert_eq!(images.status, 200);
    let images = images.json();
    assert_eq!(images["total"], 1);
    assert_eq!(images["items"][0]["digest"], digest.as_str());
    assert_eq!(
        images["items"][0]["repository"],
        "127.0.0.1:5000/debian-app"
    );
    let image = server
        .get(&format!("/api/v1/images/{digest}"), Some(&read))
        .json();
    assert!(image["inventory"]["packages"].as_array().unwrap().len() > 100);
    let open = server
        .get(&format!("/api/v1/images/{digest}/findings"), Some(&read))
        .json();
    assert_eq!(open["items"].as_array().unwrap().len() as u64, findings);
    let history = server
        .get(&format!("/api/v1/images/{digest}/history"), Some(&read))
        .json();
    assert_eq!(history["items"].as_array().unwrap().len() as u64, findings);
    assert_eq!(
        server.get("/api/v1/images/sha256:nope", Some(&read)).status,
        404
    );
    let diff = server.get(
        &format!("/api/v1/diff?from={digest}&to={digest}"),
        Some(&read),
    );
    assert_eq!(diff.status, 200, "{}", diff.text());
    let status = server.get("/api/v1/db", Some(&read));
    assert_eq!(status.status, 200, "{}", status.text());
    assert!(
        status.json()["advisories"].as_u64().unwrap_or(0) > 0,
        "{}",
        status.text()
    );

    // A rematch job, by an admin.
    let rematch = server.post("/api/v1/rematches", Some(&admin), &json!({}));
    assert_eq!(rematch.status, 202);
    let rid = rematch.json()["id"].as_i64().unwrap();
    let done = server.wait_job(rid, &read, Duration::from_secs(60));
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["result"]["images"], 1);
    let runs = server.get("/api/v1/rematches", Some(&read)).json();
    assert_eq!(runs["items"][0]["id"].as_i64(), Some(rid));

    // Pages of jobs, newest first.
    let page = server.get("/api/v1/jobs?limit=1", Some(&read)).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let next = page["next"].as_i64().unwrap();
    let rest = server
        .get(&format!("/api/v1/jobs?before={next}"), Some(&read))
        .json();
    assert!(
        rest["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["id"].as_i64().unwrap() < next)
    );
    assert_eq!(server.get("/api/v1/jobs?limit=0", Some(&read)).status, 400);
    assert_eq!(
        server.get("/api/v1/jobs?state=lost", Some(&read)).status,
        400
    );

    // The metrics, and the document describing the API.
    let metrics = server.get("/metrics", None).text();
    assert!(
        metrics.contains("customs_jobs_total{kind=\"scan\",outcome=\"done\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("customs_queue_jobs{state=\"done\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("customs_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let doc = server.get("/api/v1/openapi.json", None).json();
    assert!(doc["paths"]["/api/v1/scans"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/images/{image}/findings"]["get"].is_object());

    // The request body limit.
    let big = json!({"reference": "x".repeat(2 << 20)});
    assert_eq!(server.post("/api/v1/scans", Some(&scan), &big).status, 413);
    // Logs are JSON lines.
    let log = server.log();
    assert!(
        log.lines()
            .filter(|l| l.starts_with('{'))
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    assert!(!log.contains(&scan), "a token in the log");
}

#[test]
fn the_api_sqlite() {
    let work = tempfile::tempdir().unwrap();
    the_api(&format!(
        "sqlite:{}",
        work.path().join("store.db").display()
    ));
}

#[test]
fn the_api_postgres() {
    let schema = PgSchema::new();
    the_api(&schema.url());
}

#[test]
fn a_token_over_its_rate_is_told_to_wait() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = format!("sqlite:{}", w.join("store.db").display());
    let db = build_db(w, &["rustsec"]);
    let read = token(w, &store, "busy", "read");
    let server = Server::start(
        w,
        &store,
        &db,
        &["--workers", "0", "--rate", "1", "--burst", "3"],
    );
    let codes: Vec<u16> = (0..6)
        .map(|_| server.get("/api/v1/jobs", Some(&read)).status)
        .collect();
    assert_eq!(&codes[..3], [200, 200, 200], "{codes:?}");
    let limited = server.get("/api/v1/jobs", Some(&read));
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    // Another token has its own budget.
    let other = token(w, &store, "calm", "read");
    assert_eq!(server.get("/api/v1/jobs", Some(&other)).status, 200);
}

/// A `docker-registry` of the test's own, on a free port, whose notifications go to
/// `hook_url` with `token`; killed on drop.
struct NotifyingRegistry {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl NotifyingRegistry {
    fn start(hook_url: &str, token: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: test-secret\n\
             notifications:\n  endpoints:\n    - name: customs\n      url: {hook_url}\n\
             \x20     headers:\n        Authorization: [\"Bearer {token}\"]\n\
             \x20     timeout: 5s\n      threshold: 10\n      backoff: 1s\n",
            dir.path().join("storage").display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect("docker-registry is installed (.ci/run installs it)");
        let child = Command::new(bin)
            .args(["serve", cfg.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .expect("start docker-registry");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child,
            _dir: dir,
        }
    }

    /// Push an OCI layout's image with skopeo, as a CI pipeline would.
    fn push(&self, layout: &Path, target: &str) {
        let out = Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                &format!("oci:{}:1", layout.display()),
                &format!("docker://127.0.0.1:{}/{target}", self.port),
            ])
            .output()
            .expect("skopeo is installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for NotifyingRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Jobs of a kind, all pages.
fn all_jobs(server: &Server, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = "/api/v1/jobs?limit=1000".to_owned();
    loop {
        let page = server.get(&path, Some(token)).json();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_i64() {
            Some(n) => path = format!("/api/v1/jobs?limit=1000&before={n}"),
            None => return out,
        }
    }
}

fn wait_idle(server: &Server, token: &str, within: Duration) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let jobs = all_jobs(server, token);
        if !jobs.is_empty()
            && jobs
                .iter()
                .all(|j| j["state"] == "done" || j["state"] == "dead")
        {
            return jobs;
        }
        assert!(
            Instant::now() < deadline,
            "jobs not finished: {jobs:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the push-to-findings latency is a figure to report"
)]
fn pushes_are_scanned_once_per_digest() {
    let schema = PgSchema::new();
    let store = schema.url();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["rustsec", "osv-pypa-yaml"]);
    let read = token(w, &store, "reader", "read");
    let hook = "hook-token-0123456789abcdef";
    std::fs::write(w.join("hook"), hook).unwrap();
    let hook_file = w.join("hook").display().to_string();
    let server = Server::start(
        w,
        &store,
        &db,
        &["--workers", "2", "--hook-token-file", &hook_file],
    );

    // A notification without the token, or with another one, is refused.
    let envelope = std::fs::read(
        crate::common::shared()
            .join("data/api/registry-notifications/envelope-push-3-events.events-v2.json"),
    )
    .unwrap();
    let ct = (
        "Content-Type",
        "application/vnd.docker.distribution.events.v2+json",
    );
    assert_eq!(
        http(
            server.port,
            "POST",
            "/hooks/registry",
            &[ct],
            Some(&envelope)
        )
        .status,
        401
    );
    let wrong = http(
        server.port,
        "POST",
        "/hooks/registry",
        &[ct, ("Authorization", "Bearer not-the-token-at-all")],
        Some(&envelope),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(
        http(
            server.port,
            "POST",
            "/hooks/registry",
            &[ct, ("Authorization", &format!("Bearer {hook}"))],
            Some(b"{\"events\": 7}")
        )
        .status,
        400
    );

    let registry = NotifyingRegistry::start(
        &format!("http://127.0.0.1:{}/hooks/registry", server.port),
        hook,
    );
    let corpus = crate::common::corpus();
    let pushed = Instant::now();
    registry.push(&corpus.join("debian-app/oci"), "app:1");
    registry.push(&corpus.join("bookworm-big/oci"), "big:1");
    // The same digest again, under the same tag and under another: no second scan while the
    // first is queued or running, and none once it is stored.
    registry.push(&corpus.join("debian-app/oci"), "app:1");
    let jobs = wait_idle(&server, &read, Duration::from_secs(180));
    let latency = pushed.elapsed();
    registry.push(&corpus.join("debian-app/oci"), "app:1");
    std::thread::sleep(Duration::from_secs(2));
    let jobs_after = wait_idle(&server, &read, Duration::from_secs(60));
    eprintln!("scan on push: 2 images pushed, findings stored {latency:?} after the first push");

    let scans: Vec<&Value> = jobs_after.iter().filter(|j| j["kind"] == "scan").collect();
    assert!(
        scans.iter().all(|j| j["state"] == "done"),
        "{scans:?}\n{}",
        server.log()
    );
    let digests: std::collections::BTreeSet<&str> =
        scans.iter().map(|j| j["key"].as_str().unwrap()).collect();
    assert_eq!(digests.len(), 2, "{scans:?}");
    assert_eq!(scans.len(), 2, "one job per digest: {scans:?}");
    assert_eq!(
        jobs.len(),
        jobs_after.len(),
        "the re-push of a stored digest queued nothing"
    );
    let images = server.get("/api/v1/images", Some(&read)).json();
    assert_eq!(images["total"], 2, "{images}");
    for item in images["items"].as_array().unwrap() {
        let digest = item["digest"].as_str().unwrap();
        assert!(digests.contains(digest));
        let repo = item["repository"].as_str().unwrap();
        assert!(
            repo.starts_with(&format!("127.0.0.1:{}/", registry.port)),
            "{repo}"
        );
        assert_eq!(item["tags"].as_array().unwrap().len(), 1, "{item}");
    }
    let metrics = server.get("/metrics", None).text();
    assert!(
        metrics.contains("customs_registry_events_total{result=\"queued\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("customs_registry_events_total{result=\"duplicate\"}")
            || metrics.contains("customs_registry_events_total{result=\"stored\"}"),
        "{metrics}"
    );
    let mut store = customs_store::open(&store).unwrap();
    store.check().unwrap();
}

/// SIGTERM while scans run: with no grace, running jobs go back to the queue; with grace,
/// they finish. Either way no job is lost, and a restarted server finishes them all.
fn graceful_stop(store: &str) {
    registries_up();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["rustsec"]);
    let scan = token(w, store, "ci", "scan");
    let images = [
        "debian-app:1",
        "bookworm-big:1",
        "bullseye-minbase:1",
        "trixie-minbase:1",
    ];
    let running = |server: &Server| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let jobs = all_jobs(server, &scan);
            if jobs.iter().any(|j| j["state"] == "running") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no job started: {jobs:?}\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // No grace: given back.
    let mut server = Server::start(
        w,
        store,
        &db,
        &["--workers", "2", "--no-cache", "--grace", "0"],
    );
    for image in images {
        let r = server.post(
            "/api/v1/scans",
            Some(&scan),
            &json!({"reference": format!("127.0.0.1:5000/{image}")}),
        );
        assert_eq!(r.status, 202, "{}", r.text());
    }
    running(&server);
    assert_eq!(
        server.terminate(Duration::from_secs(30)),
        0,
        "{}",
        server.log()
    );
    let log = server.log();
    assert!(log.contains("job given back"), "{log}");
    let mut s = customs_store::open(store).unwrap();
    let jobs = s.jobs(None, None, 100).unwrap();
    assert_eq!(jobs.len(), 4);
    assert!(
        jobs.iter().all(|j| matches!(
            j.state,
            customs_store::JobState::Queued | customs_store::JobState::Done
        )),
        "{jobs:?}"
    );
    drop(s);

    // With grace: the running jobs finish before the process ends.
    let mut server = Server::start(
        w,
        store,
        &db,
        &["--workers", "2", "--no-cache", "--grace", "120"],
    );
    running(&server);
    let before: Vec<i64> = all_jobs(&server, &scan)
        .iter()
        .filter(|j| j["state"] == "running")
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        server.terminate(Duration::from_secs(150)),
        0,
        "{}",
        server.log()
    );
    let mut s = customs_store::open(store).unwrap();
    for id in &before {
        let job = s.job(*id).unwrap().unwrap();
        assert_eq!(job.state, customs_store::JobState::Done, "{job:?}");
    }
    drop(s);

    // Restarted, it finishes the rest: every image stored once, the store consistent.
    let server = Server::start(w, store, &db, &["--workers", "2"]);
    let jobs = wait_idle(&server, &scan, Duration::from_secs(240));
    assert!(jobs.iter().all(|j| j["state"] == "done"), "{jobs:?}");
    let listed = server.get("/api/v1/images", Some(&scan)).json();
    assert_eq!(listed["total"], 4, "{listed}");
    let mut s = customs_store::open(store).unwrap();
    s.check().unwrap();
}

#[test]
fn sigterm_loses_no_job_sqlite() {
    let work = tempfile::tempdir().unwrap();
    graceful_stop(&format!(
        "sqlite:{}",
        work.path().join("store.db").display()
    ));
}

#[test]
fn sigterm_loses_no_job_postgres() {
    let schema = PgSchema::new();
    graceful_stop(&schema.url());
}

fn sha256_digest(b: &[u8]) -> String {
    format!("sha256:{}", crate::common::sha256_hex(b))
}

/// Push `n` images that share debian-app's layers (each with its own config, so its own
/// digest) to `registry` as `fleet:0` … `fleet:{n-1}`.
fn push_fleet(registry: &NotifyingRegistry, n: usize) {
    registry.push(
        &crate::common::corpus().join("debian-app/oci"),
        "fleet:seed",
    );
    let port = registry.port;
    let accept = ("Accept", "application/vnd.oci.image.manifest.v1+json");
    let manifest = http(port, "GET", "/v2/fleet/manifests/seed", &[accept], None);
    assert_eq!(manifest.status, 200, "{}", manifest.text());
    let manifest = manifest.json();
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = http(
        port,
        "GET",
        &format!("/v2/fleet/blobs/{config_digest}"),
        &[],
        None,
    );
    assert_eq!(config.status, 200);
    let config = config.json();
    for i in 0..n {
        let mut c = config.clone();
        c["config"]["Labels"]["fleet.n"] = json!(i.to_string());
        let bytes = serde_json::to_vec(&c).unwrap();
        let digest = sha256_digest(&bytes);
        let start = http(port, "POST", "/v2/fleet/blobs/uploads/", &[], Some(b""));
        assert_eq!(start.status, 202, "{}", start.text());
        let location = start.header("location").unwrap().to_owned();
        let path = match location.split_once("://") {
            Some((_, rest)) => format!("/{}", rest.split_once('/').unwrap().1),
            None => location,
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        let put = http(
            port,
            "PUT",
            &format!("{path}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            Some(&bytes),
        );
        assert_eq!(put.status, 201, "{}", put.text());
        let mut m = manifest.clone();
        m["config"]["digest"] = json!(digest);
        m["config"]["size"] = json!(bytes.len());
        let body = serde_json::to_vec(&m).unwrap();
        let r = http(
            port,
            "PUT",
            &format!("/v2/fleet/manifests/{i}"),
            &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
            Some(&body),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

/// `customs worker` processes, killed on drop.
/// Named child processes, killed when dropped.
pub(crate) struct Fleet(pub(crate) Vec<(String, Child)>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Three workers on PostgreSQL, 200 queued scans of images sharing their layers, one worker
/// killed with SIGKILL mid-job: every scan done exactly once, the killed worker's job
/// finished by another after its lease, and each shared layer read once by the whole fleet.
#[test]
#[expect(clippy::print_stderr, reason = "the fleet's figures are reported")]
fn a_fleet_of_workers_scans_each_image_once() {
    const IMAGES: usize = 200;
    let schema = PgSchema::new();
    let store = schema.url();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = build_db(w, &["rustsec", "osv-pypa-yaml"]);
    let scan = token(w, &store, "ci", "scan");
    // A registry of the test's own: the shared one on :5000 is not the test's to fill.
    let registry = NotifyingRegistry::start("http://127.0.0.1:9/unused", "unused-token-0000");
    push_fleet(&registry, IMAGES);
    // The API only queues: no workers in the server.
    let server = Server::start(
        w,
        &store,
        &db,
        &["--workers", "0", "--rate", "1000", "--burst", "1000"],
    );
    for i in 0..IMAGES {
        let r = server.post(
            "/api/v1/scans",
            Some(&scan),
            &json!({"reference": format!("127.0.0.1:{}/fleet:{i}", registry.port)}),
        );
        assert_eq!(r.status, 202, "{}", r.text());
    }
    let started = Instant::now();
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
                "--lease",
                "3",
                "--share-layers",
                "--log-format",
                "json",
            ])
            .env("CUSTOMS_CACHE_DIR", &cache)
            .env("HOME", w.join("home"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(w.join(format!("{name}.log"))).unwrap())
            .spawn()
            .expect("start customs worker");
        (name.to_owned(), child)
    };
    let mut fleet = Fleet(vec![worker("w1"), worker("w2"), worker("w3")]);

    // Once w1 has done some jobs, kill it in the middle of its next one.
    let mut pg = customs_store::open(&store).unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let victim = loop {
        let jobs = pg.jobs(None, None, 1000).unwrap();
        let done_by_w1 = jobs
            .iter()
            .filter(|j| {
                j.state == customs_store::JobState::Done && j.worker.as_deref() == Some("w1-0")
            })
            .count();
        let running = jobs.iter().find(|j| {
            j.state == customs_store::JobState::Running && j.worker.as_deref() == Some("w1-0")
        });
        if done_by_w1 >= 3
            && let Some(j) = running
        {
            let _ = fleet.0[0].1.kill();
            let _ = fleet.0[0].1.wait();
            break j.id;
        }
        assert!(
            Instant::now() < deadline,
            "w1 never ran jobs: {}",
            std::fs::read_to_string(w.join("w1.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(5));
    };

    let deadline = Instant::now() + Duration::from_secs(900);
    let jobs = loop {
        let jobs = pg.jobs(None, None, 1000).unwrap();
        if jobs.iter().all(|j| {
            j.state == customs_store::JobState::Done || j.state == customs_store::JobState::Dead
        }) {
            break jobs;
        }
        assert!(
            Instant::now() < deadline,
            "the fleet did not finish: {:?}",
            pg.queue_counts().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = started.elapsed();
    assert_eq!(jobs.len(), IMAGES);
    assert!(
        jobs.iter()
            .all(|j| j.state == customs_store::JobState::Done),
        "{jobs:?}"
    );
    // The killed worker's job: taken again after its lease, by another worker.
    let redone = pg.job(victim).unwrap().unwrap();
    assert_eq!(redone.attempts, 2, "{redone:?}");
    assert_ne!(redone.worker.as_deref(), Some("w1-0"));
    // Exactly once: one stored image per job, distinct digests, a consistent store.
    let digests: std::collections::BTreeSet<String> = jobs
        .iter()
        .map(|j| {
            j.result.as_ref().unwrap()["digest"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(digests.len(), IMAGES);
    assert_eq!(pg.images().unwrap().len(), IMAGES);
    pg.check().unwrap();
    // Each layer read once by the whole fleet (the killed worker's reads are not counted:
    // its jobs that finished are; the one it died in stored nothing).
    let mut reads: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for j in &jobs {
        for d in j.result.as_ref().unwrap()["layers_read"]
            .as_array()
            .unwrap()
        {
            *reads.entry(d.as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert_eq!(reads.len(), 2, "debian-app's two layers: {reads:?}");
    assert!(
        reads.values().all(|&n| n == 1),
        "each layer read once: {reads:?}"
    );
    let per_worker = |name: &str| {
        jobs.iter()
            .filter(|j| j.worker.as_deref() == Some(name))
            .count()
    };
    eprintln!(
        "fleet: {IMAGES} scans by 3 workers (w1 killed) in {took:?}; done by w1 {}, w2 {}, w3 {}; layer reads {reads:?}",
        per_worker("w1-0"),
        per_worker("w2-0"),
        per_worker("w3-0")
    );
    drop(server);
}

/// schemathesis (installed by scripts/format-tools.sh) against the document the server
/// serves: no server errors, and every response as the document says (status, content type,
/// schema), for generated requests on every operation, with a token that may do everything
/// and, separately, with none.
#[test]
fn schemathesis_finds_nothing_wrong_with_the_api() {
    let bin = crate::formats::tools().join("schemathesis/bin/schemathesis");
    assert!(
        bin.is_file(),
        "schemathesis missing at {}: run scripts/format-tools.sh (scripts/test.sh does)",
        bin.display()
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = format!("sqlite:{}", w.join("store.db").display());
    let db = build_db(w, &["rustsec"]);
    let admin = token(w, &store, "schemathesis", "admin");
    // Generated scans name registries that do not exist: no workers, so none is pulled.
    let server = Server::start(
        w,
        &store,
        &db,
        &["--workers", "0", "--rate", "10000", "--burst", "10000"],
    );
    let url = format!("http://127.0.0.1:{}/api/v1/openapi.json", server.port);
    for auth in [Some(format!("Authorization: Bearer {admin}")), None] {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "run",
            &url,
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(w);
        if let Some(a) = &auth {
            cmd.args(["--header", a]);
        }
        let out = cmd.output().expect("run schemathesis");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "schemathesis ({}) failed:\n{text}\n{}",
            if auth.is_some() {
                "with a token"
            } else {
                "without one"
            },
            server.log()
        );
    }
}

/// The digest the plain registry serves for `repo:tag` (as an OCI manifest).
fn registry_digest(repo: &str, tag: &str) -> String {
    let r = http(
        5000,
        "HEAD",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
        None,
    );
    assert_eq!(r.status, 200);
    r.header("docker-content-digest").unwrap().to_owned()
}

/// A bearer token from the token registry's token server (:5004), as Harbor's core would get
/// one for its scanner.
fn registry_token(repo: &str) -> String {
    let challenge = http(5003, "GET", "/v2/", &[], None);
    let header = challenge.header("www-authenticate").unwrap().to_owned();
    let param = |name: &str| {
        let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        header[start..].split('"').next().unwrap().to_owned()
    };
    let (realm, service) = (param("realm"), param("service"));
    let port: u16 = realm
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let path = format!(
        "/{}?service={service}&scope=repository:{repo}:pull",
        realm.splitn(4, '/').nth(3).unwrap()
    );
    let basic = format!("Basic {}", base64_encode("scanner:scanner-pass"));
    let r = http(port, "GET", &path, &[("Authorization", &basic)], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    body["token"]
        .as_str()
        .or(body["access_token"].as_str())
        .unwrap()
        .to_owned()
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Harbor's side of the Pluggable Scanner API: register (metadata), ask for scans with a
/// registry URL and the Authorization header to pull with (the basic-auth and the token
/// registries), poll the report (302 with Refresh-After until a worker has scanned it, then
/// 200) in the vulnerability and the SBOM report types, and a scan that cannot pull (500 with
/// the reason).
#[test]
fn harbor_uses_customs_as_its_scanner() {
    registries_up();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = format!("sqlite:{}", w.join("store.db").display());
    let db = build_db(w, &["rustsec", "osv-pypa-yaml"]);
    let harbor = token(w, &store, "harbor", "scan");
    let reader = token(w, &store, "reader", "read");
    // No workers in the server at first: every report is pending.
    let server = Server::start(w, &store, &db, &["--workers", "0", "--max-attempts", "1"]);
    let auth = format!("Bearer {harbor}");
    let h = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, String)> = vec![("Authorization", auth.clone())];
        v.extend(extra.iter().map(|(k, val)| (*k, (*val).to_owned())));
        v
    };
    let call = |method: &str, path: &str, headers: &[(&str, String)], body: Option<&[u8]>| {
        let hv: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        http(server.port, method, path, &hv, body)
    };
    let meta = call("GET", "/harbor/api/v1/metadata", &h(&[]), None);
    assert_eq!(meta.status, 200);
    assert_eq!(
        meta.header("content-type"),
        Some("application/vnd.scanner.adapter.metadata+json; version=1.1")
    );
    let meta = meta.json();
    assert_eq!(meta["scanner"]["name"], "customs");
    assert_eq!(meta["capabilities"][0]["type"], "vulnerability");
    assert_eq!(meta["capabilities"][1]["type"], "sbom");
    assert_eq!(
        meta["capabilities"][1]["produces_mime_types"],
        json!(["application/vnd.security.sbom.report+json; version=1.0"])
    );
    assert_eq!(
        meta["capabilities"][1]["additional_attributes"]["sbom_media_types"],
        json!(["application/spdx+json", "application/vnd.cyclonedx+json"])
    );
    assert!(
        meta["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"].is_string()
    );
    assert_eq!(
        http(server.port, "GET", "/harbor/api/v1/metadata", &[], None).status,
        401
    );

    let digest = registry_digest("debian-app", "1");
    let big = registry_digest("bookworm-big", "1");
    let request_for = |repo: &str, digest: &str, registry: &str, authorization: &str| {
        json!({
            "registry": {"url": registry, "authorization": authorization},
            "artifact": {"repository": repo, "digest": digest, "tag": "1",
                         "mime_type": "application/vnd.oci.image.manifest.v1+json"},
        })
        .to_string()
    };
    let request = |registry: &str, authorization: &str| {
        request_for("debian-app", &digest, registry, authorization)
    };
    let ct = (
        "Content-Type",
        "application/vnd.scanner.adapter.scan.request+json; version=1.1",
    );
    let submit = |body: &str| {
        let r = call(
            "POST",
            "/harbor/api/v1/scan",
            &h(&[ct]),
            Some(body.as_bytes()),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.scanner.adapter.scan.response+json; version=1.0")
        );
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let basic = submit(&request(
        "http://127.0.0.1:5001",
        &format!("Basic {}", base64_encode("scanner:scanner-pass")),
    ));
    let bearer = submit(&request(
        "http://127.0.0.1:5003",
        &format!("Bearer {}", registry_token("debian-app")),
    ));
    let refused = submit(&request_for(
        "bookworm-big",
        &big,
        "http://127.0.0.1:5001",
        &format!("Basic {}", base64_encode("scanner:wrong")),
    ));
    assert_ne!(basic, bearer);
    // The same artifact asked again while its scan is pending is that scan.
    let again = submit(&request(
        "http://127.0.0.1:5001",
        &format!("Basic {}", base64_encode("scanner:scanner-pass")),
    ));
    assert_eq!(again, basic);
    // The credential is kept for the worker, never shown.
    let jobs = server.get("/api/v1/jobs", Some(&reader)).text();
    assert!(
        !jobs.contains("scanner-pass") && !jobs.contains(&base64_encode("scanner:scanner-pass")),
        "{jobs}"
    );
    assert!(jobs.contains("\"authorization\":\"***\""), "{jobs}");

    let accept = (
        "Accept",
        "application/vnd.security.vulnerability.report; version=1.1",
    );
    let pending = call(
        "GET",
        &format!("/harbor/api/v1/scan/{basic}/report"),
        &h(&[accept]),
        None,
    );
    assert_eq!(pending.status, 302);
    assert_eq!(pending.header("refresh-after"), Some("5"));
    assert_eq!(
        call(
            "GET",
            "/harbor/api/v1/scan/999999/report",
            &h(&[accept]),
            None
        )
        .status,
        404
    );
    assert_eq!(
        call("GET", "/harbor/api/v1/scan/abc/report", &h(&[accept]), None).status,
        404
    );
    let raw = call(
        "GET",
        &format!("/harbor/api/v1/scan/{basic}/report"),
        &h(&[("Accept", "application/vnd.scanner.adapter.vuln.report.raw")]),
        None,
    );
    assert_eq!(raw.status, 501);

    // A worker on another process (the same store) runs the scans with Harbor's credentials.
    let worker = Command::new(env!("CARGO_BIN_EXE_customs"))
        .args([
            "worker",
            "--store-url",
            &store,
            "--db",
            &db,
            "--max-attempts",
            "1",
            "--concurrency",
            "2",
        ])
        .env("CUSTOMS_CACHE_DIR", w.join("worker-cache"))
        .env("HOME", w.join("home"))
        .env_remove("DOCKER_CONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(w.join("worker.log")).unwrap())
        .spawn()
        .unwrap();
    let worker = Fleet(vec![("worker".to_owned(), worker)]);
    let poll = |id: &str| {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let r = call(
                "GET",
                &format!("/harbor/api/v1/scan/{id}/report"),
                &h(&[accept]),
                None,
            );
            if r.status != 302 {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "report {id} still pending: {}",
                std::fs::read_to_string(w.join("worker.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    for id in [&basic, &bearer] {
        let r = poll(id);
        assert_eq!(
            r.status,
            200,
            "{}\n{}",
            r.text(),
            std::fs::read_to_string(w.join("worker.log")).unwrap_or_default()
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.security.vulnerability.report; version=1.1")
        );
        let report = r.json();
        assert_eq!(report["artifact"]["digest"], digest.as_str());
        assert_eq!(report["scanner"]["name"], "customs");
        let vulns = report["vulnerabilities"].as_array().unwrap();
        assert!(!vulns.is_empty());
        let levels = ["Unknown", "Negligible", "Low", "Medium", "High", "Critical"];
        assert!(
            vulns.iter().all(|v| v["id"].is_string()
                && v["package"].is_string()
                && v["version"].is_string()
                && levels.contains(&v["severity"].as_str().unwrap())),
            "{report}"
        );
        assert!(levels.contains(&report["severity"].as_str().unwrap()));
        // The same findings the API shows for the stored image.
        let open = server
            .get(&format!("/api/v1/images/{digest}/findings"), Some(&reader))
            .json();
        assert_eq!(open["items"].as_array().unwrap().len(), vulns.len());
        let v10 = call(
            "GET",
            &format!("/harbor/api/v1/scan/{id}/report"),
            &h(&[(
                "Accept",
                "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
            )]),
            None,
        );
        assert_eq!(v10.status, 200);
        assert_eq!(
            v10.header("content-type"),
            Some("application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0")
        );
    }
    // The SBOM capability: the stored scan's inventory as SPDX or CycloneDX, in Harbor's SBOM
    // report, each document valid by its format's own validator and listing every package
    // the store holds for the image.
    let stored_packages = server
        .get(&format!("/api/v1/images/{digest}"), Some(&reader))
        .json()["inventory"]["packages"]
        .as_array()
        .unwrap()
        .len();
    assert!(stored_packages > 50, "{stored_packages}");
    let sbom_accept = (
        "Accept",
        "application/vnd.security.sbom.report+json; version=1.0",
    );
    let sbom = |query: &str| {
        call(
            "GET",
            &format!("/harbor/api/v1/scan/{basic}/report{query}"),
            &h(&[sbom_accept]),
            None,
        )
    };
    for (query, media_type) in [
        (
            "?sbom_media_type=application%2Fspdx%2Bjson",
            "application/spdx+json",
        ),
        // The `+` left unescaped, as a careless client sends it.
        (
            "?sbom_media_type=application/spdx+json",
            "application/spdx+json",
        ),
        (
            "?sbom_media_type=application%2Fvnd.cyclonedx%2Bjson",
            "application/vnd.cyclonedx+json",
        ),
    ] {
        let r = sbom(query);
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.security.sbom.report+json; version=1.0")
        );
        let report = r.json();
        assert_eq!(report["media_type"], media_type);
        assert_eq!(report["artifact"]["digest"], digest.as_str());
        assert_eq!(report["scanner"]["name"], "customs");
        assert!(report["generated_at"].is_string());
        let file = w.join("harbor-sbom.json");
        std::fs::write(&file, report["sbom"].to_string()).unwrap();
        if media_type == "application/spdx+json" {
            crate::formats::check_spdx(&file);
            // The image, its distribution, and every package.
            assert_eq!(
                report["sbom"]["packages"].as_array().unwrap().len(),
                stored_packages + 2
            );
        } else {
            crate::formats::check_cyclonedx(&file);
            let libraries = report["sbom"]["components"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["type"] == "library")
                .count();
            assert_eq!(libraries, stored_packages);
        }
        // Polled again, the same document: it is dated by the scan, not by the request.
        assert_eq!(sbom(query).json(), report, "{query}");
    }
    // Without the media type, or with one customs does not write: 400, in Harbor's format.
    for query in ["", "?sbom_media_type=text%2Fplain"] {
        let r = sbom(query);
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.scanner.adapter.error+json; version=1.0")
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("sbom_media_type"),
            "{}",
            r.text()
        );
    }
    // A scan request that enables the SBOM capability alone is taken (Harbor's own example
    // asks for both).
    let only_sbom = {
        let mut body: Value = serde_json::from_str(&request(
            "http://127.0.0.1:5001",
            &format!("Basic {}", base64_encode("scanner:scanner-pass")),
        ))
        .unwrap();
        body["enabled_capabilities"] = json!([{
            "type": "sbom",
            "produces_mime_types": ["application/vnd.security.sbom.report+json; version=1.0"],
            "parameters": {"sbom_media_types": ["application/spdx+json"]},
        }]);
        body.to_string()
    };
    let id = submit(&only_sbom);
    let r = poll(&id);
    assert_eq!(r.status, 200, "{}", r.text());
    let unknown = {
        let mut body: Value = serde_json::from_str(&only_sbom).unwrap();
        body["enabled_capabilities"] = json!([{"type": "licence-audit"}]);
        body.to_string()
    };
    let r = call(
        "POST",
        "/harbor/api/v1/scan",
        &h(&[ct]),
        Some(unknown.as_bytes()),
    );
    assert_eq!(r.status, 501, "{}", r.text());
    let failed = poll(&refused);
    assert_eq!(failed.status, 500, "{}", failed.text());
    assert_eq!(
        failed.header("content-type"),
        Some("application/vnd.scanner.adapter.error+json; version=1.0")
    );
    let message = failed.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("rejected"), "{message}");
    drop(worker);
}

/// schemathesis against Harbor's own v1.2 spec, pointed at `/harbor/api/v1`. Its generic
/// `not_a_server_error` check is left out: this spec prescribes 5xx answers (501 for a
/// capability the scanner lacks; 500 for a failed scan), and `status_code_conformance` still
/// checks that every answer is one it documents.
#[test]
fn schemathesis_finds_the_harbor_adapter_true_to_harbors_spec() {
    let bin = crate::formats::tools().join("schemathesis/bin/schemathesis");
    assert!(
        bin.is_file(),
        "schemathesis missing at {}: run scripts/format-tools.sh",
        bin.display()
    );
    let spec =
        crate::common::shared().join("data/api/harbor-scanner/scanner-adapter-openapi-v1.2.yaml");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = format!("sqlite:{}", w.join("store.db").display());
    let db = build_db(w, &["rustsec"]);
    let harbor = token(w, &store, "harbor", "scan");
    let server = Server::start(
        w,
        &store,
        &db,
        &["--workers", "0", "--rate", "10000", "--burst", "10000"],
    );
    let out = Command::new(&bin)
        .args([
            "run",
            spec.to_str().unwrap(),
            "--url",
            &format!("http://127.0.0.1:{}/harbor/api/v1", server.port),
            "--header",
            &format!("Authorization: Bearer {harbor}"),
            "--checks",
            "status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--no-color",
        ])
        .current_dir(w)
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis failed:\n{text}\n{}",
        server.log()
    );
}

/// `serve --tls-cert --tls-key`: the API over HTTPS, checked by curl against the test's CA;
/// plain HTTP to the TLS port gets no answer, and a key that does not fit the certificate is
/// refused at start.
#[test]
fn the_api_over_tls() {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "customs test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    let (cert_file, key_file, ca_file) =
        (w.join("server.crt"), w.join("server.key"), w.join("ca.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let store = format!("sqlite:{}", w.join("store.db").display());
    let db = build_db(w, &["rustsec"]);
    let read = token(w, &store, "reader", "read");
    let (c, k) = (
        cert_file.display().to_string(),
        key_file.display().to_string(),
    );
    let server = Server::start(
        w,
        &store,
        &db,
        &["--workers", "0", "--tls-cert", &c, "--tls-key", &k],
    );
    let curl = |url: &str, extra: &[&str]| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                ca_file.to_str().unwrap(),
            ])
            .args(extra)
            .arg(url)
            .output()
            .expect("curl is installed");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let base = format!("https://localhost:{}", server.port);
    let (ok, body, err) = curl(&format!("{base}/healthz"), &[]);
    assert!(ok, "{err}\n{}", server.log());
    assert_eq!(body, "ok\n");
    let auth = format!("Authorization: Bearer {read}");
    let (ok, body, err) = curl(&format!("{base}/api/v1/images"), &["-H", &auth, "--http2"]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["total"], 0);
    // The certificate names localhost, not the address: curl refuses it by address.
    let (ok, _, err) = curl(&format!("https://127.0.0.1:{}/healthz", server.port), &[]);
    assert!(!ok, "{err}");
    // Plain HTTP to the TLS port is not served.
    let plain = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "5",
            &format!("http://127.0.0.1:{}/healthz", server.port),
        ])
        .output()
        .unwrap();
    assert!(!plain.status.success() || !String::from_utf8_lossy(&plain.stdout).contains("ok"));
    drop(server);

    // A key that is not the certificate's: refused at start, naming the file.
    let other = KeyPair::generate().unwrap();
    let other_file = w.join("other.key");
    std::fs::write(&other_file, other.serialize_pem()).unwrap();
    let port = free_port();
    let r = customs(
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--store-url",
            &store,
            "--db",
            &db,
            "--tls-cert",
            &c,
            "--tls-key",
            other_file.to_str().unwrap(),
        ],
        w,
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("other.key"), "{}", r.stderr);
}

/// `serve --rematch-every`: `watch` in the service. A rematch is queued at start and then
/// every interval, run by the workers against the stored images, and the schedule (last run,
/// next run) is visible; rematch jobs that are live are not queued twice.
#[test]
fn the_scheduler_rematches_on_its_interval() {
    registries_up();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = format!("sqlite:{}", w.join("store.db").display());
    let db = build_db(w, &["rustsec", "osv-pypa-yaml"]);
    // One stored image for the rematches to re-match.
    let r = customs(
        &[
            "scan",
            "--store",
            "--store-url",
            &store,
            "--db",
            &db,
            "-q",
            "--format",
            "json",
            &format!(
                "oci:{}:1",
                crate::common::corpus().join("debian-app/oci").display()
            ),
        ],
        w,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = token(w, &store, "reader", "read");
    let server = Server::start(w, &store, &db, &["--workers", "1", "--rematch-every", "2s"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let runs = server.get("/api/v1/rematches", Some(&read)).json();
        let done: Vec<Value> = runs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["state"] == "done")
            .cloned()
            .collect();
        if done.len() >= 2 {
            break done;
        }
        assert!(Instant::now() < deadline, "{runs}\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    };
    for run in &runs {
        assert_eq!(run["key"], "scheduled");
        assert_eq!(run["result"]["images"], 1, "{run}");
    }
    let schedule = server.get("/api/v1/schedule", Some(&read)).json();
    assert_eq!(schedule["interval_seconds"], 2);
    let last = schedule["last_job"].as_i64().unwrap();
    assert!(
        runs.iter().any(|r| r["id"].as_i64() == Some(last))
            || last > runs[0]["id"].as_i64().unwrap()
    );
    let (last_at, next_at) = (
        schedule["last_run_at"].as_str().unwrap().to_owned(),
        schedule["next_run_at"].as_str().unwrap().to_owned(),
    );
    assert!(next_at > last_at, "{schedule}");
    // Without --rematch-every the schedule says so.
    drop(server);
    let server = Server::start(w, &store, &db, &["--workers", "0"]);
    let schedule = server.get("/api/v1/schedule", Some(&read)).json();
    assert!(
        schedule["interval_seconds"].is_null() && schedule["next_run_at"].is_null(),
        "{schedule}"
    );
}
