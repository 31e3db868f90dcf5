//! Pulling from a real registry: the CNCF distribution registry (Debian's `docker-registry`)
//! started by `scripts/test.sh` with `../shared/tools/registry-up.sh all`, holding the corpus
//! pushed by `build-images.sh`. Faults come from a real proxy on loopback (`proxy.rs`), not
//! from a mock registry.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{self, LayerTar, Run, corpus, customs};
use crate::proxy::{Fault, FaultProxy, Rule};

pub(crate) const PLAIN: &str = "127.0.0.1:5000";
const BASIC: &str = "127.0.0.1:5001";
const TLS: &str = "127.0.0.1:5002";
const TOKEN: &str = "127.0.0.1:5003";
const USER: &str = "scanner";
const PASS: &str = "scanner-pass";

pub(crate) fn registry_root() -> PathBuf {
    corpus()
        .parent()
        .expect("corpus has a parent")
        .join("registry")
}

/// Every variant must answer: a missing registry fails the test, it never skips it.
pub(crate) fn registries_up() {
    for hp in [PLAIN, BASIC, TLS, TOKEN] {
        let addr: SocketAddr = hp.parse().unwrap();
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok(),
            "no registry at {hp}: start them with ../shared/tools/registry-up.sh all \
             (scripts/test.sh does)"
        );
    }
}

fn summary(image: &str) -> Value {
    let p = corpus().join(image).join("summary.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// (name, version, ecosystem, layer diff_id) per package: what must agree between forms.
fn packages(inv: &Value) -> Vec<String> {
    let mut rows: Vec<String> = inv["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p["name"].as_str().unwrap_or(""),
                p["version"].as_str().unwrap_or(""),
                p["ecosystem"].as_str().unwrap_or(""),
                p["layer"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Run customs with stdin fed and the environment cleaned of docker settings.
pub(crate) fn run(args: &[&str], cache: &Path, stdin: Option<&str>, env: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
    cmd.args(args)
        .env_remove("DOCKER_CONFIG")
        .env_remove("CUSTOMS_REGISTRY_USERNAME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Some(input) = stdin else {
        return common::customs_with(&mut cmd, cache);
    };
    let mut child = cmd
        .env("CUSTOMS_CACHE_DIR", cache)
        .env("HOME", cache.join("home"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sbom_ok(args: &[&str], cache: &Path) -> Value {
    let mut all = vec!["sbom", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(&all, cache, None, &[]);
    assert_eq!(r.code, 0, "customs {all:?} failed: {}", r.stderr);
    r.json()
}

#[test]
fn registry_scan_gives_the_layout_inventory_for_every_tag() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let layout = common::sbom(
        &format!("oci:{}:1", corpus().join("debian-app/oci").display()),
        cache.path(),
        &["--no-cache"],
    );
    let want = packages(&layout);
    assert!(want.len() >= 88, "{} packages", want.len());
    let manifest = summary("debian-app")["manifest_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    for tag in ["1", "1-docker", "1-zstd", "1-index"] {
        let reference = format!("{PLAIN}/debian-app:{tag}");
        let inv = sbom_ok(&["--no-cache", &reference], cache.path());
        let layers = inv["image"]["layers"].as_array().unwrap();
        // The zstd and docker forms re-compress: their layer diff_ids are what must agree.
        assert_eq!(packages(&inv), want, "{reference}");
        assert_eq!(layers.len(), 2, "{reference}");
        assert_eq!(inv["source"]["kind"], "registry");
        assert_eq!(inv["source"]["reference"], reference);
        if tag == "1" || tag == "1-index" {
            assert_eq!(inv["image"]["manifest_digest"], manifest.as_str(), "{tag}");
        }
    }
    // By digest, in the plain `docker.io`-style short form and with the registry named.
    let by_digest = sbom_ok(
        &["--no-cache", &format!("{PLAIN}/debian-app@{manifest}")],
        cache.path(),
    );
    assert_eq!(packages(&by_digest), want);
    let named = sbom_ok(
        &["--no-cache", &format!("docker://{PLAIN}/debian-app:1")],
        cache.path(),
    );
    assert_eq!(packages(&named), want);
}

#[test]
fn platform_is_chosen_from_the_index() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{PLAIN}/debian-app:1-index");
    let inv = sbom_ok(
        &["--no-cache", "--platform", "linux/amd64", &reference],
        cache.path(),
    );
    assert_eq!(inv["image"]["architecture"], "amd64");
    let r = customs(
        &[
            "sbom",
            "--no-cache",
            "--platform",
            "linux/arm64",
            &reference,
        ],
        cache.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no image for platform linux/arm64") && r.stderr.contains("linux/amd64"),
        "{}",
        r.stderr
    );
}

#[test]
fn basic_auth_with_and_without_credentials() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{BASIC}/debian-app:1");
    let ok = run(
        &[
            "sbom",
            "--no-cache",
            "--format",
            "json",
            "--username",
            USER,
            "--password-stdin",
            &reference,
        ],
        cache.path(),
        Some(&format!("{PASS}\n")),
        &[],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.json()["packages"].as_array().unwrap().len() >= 88);

    let anon = customs(&["sbom", "--no-cache", &reference], cache.path());
    assert_eq!(anon.code, 2);
    assert!(
        anon.stderr.contains("unauthorized (HTTP 401)")
            && anon.stderr.contains("authentication required")
            && anon.stderr.contains("--password-stdin"),
        "{}",
        anon.stderr
    );

    let secret = "wrong-Pa55word-do-not-print";
    let wrong = run(
        &[
            "sbom",
            "--no-cache",
            "-v",
            "--username",
            USER,
            "--password-stdin",
            &reference,
        ],
        cache.path(),
        Some(secret),
        &[],
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("HTTP 401")
            && wrong
                .stderr
                .contains("rejected the credentials of user \"scanner\""),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains(secret) && !wrong.stdout.contains(secret));
}

#[test]
fn bearer_tokens_anonymous_and_with_credentials() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{TOKEN}/debian-app:1");
    // Anonymous pull: the token server grants `pull` to anyone. One token serves the
    // manifest, the config and both layers: the token pull costs one request more than the
    // same pull from the registry without auth.
    let anon = run(
        &["sbom", "--no-cache", "-v", &reference],
        cache.path(),
        None,
        &[],
    );
    assert_eq!(anon.code, 0, "{}", anon.stderr);
    let plain = run(
        &["sbom", "--no-cache", "-v", &format!("{PLAIN}/debian-app:1")],
        cache.path(),
        None,
        &[],
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(
        requests(&anon.stderr),
        requests(&plain.stderr) + 1,
        "token:\n{}\nplain:\n{}",
        anon.stderr,
        plain.stderr
    );

    let ok = run(
        &[
            "sbom",
            "--no-cache",
            "--format",
            "json",
            "--username",
            USER,
            "--password-stdin",
            &reference,
        ],
        cache.path(),
        Some(PASS),
        &[],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    let secret = "Not-The-Password-42";
    let wrong = run(
        &[
            "sbom",
            "--no-cache",
            "--username",
            USER,
            "--password-stdin",
            &reference,
        ],
        cache.path(),
        Some(secret),
        &[],
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("token server") && wrong.stderr.contains("HTTP 401"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains(secret));
}

/// N from the `registry: N requests, …` line of `--verbose`.
fn requests(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("registry: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {stderr}"))
}

#[test]
fn a_silent_registry_times_out() {
    // Accepts connections and never answers, like a hung server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let r = customs(
        &[
            "sbom",
            "--no-cache",
            "--registry-timeout",
            "1",
            "--retries",
            "1",
            &format!("{addr}/silent:1"),
        ],
        cache.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
    // Bounded by the timeout and the retries, not by the 60-second default.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn tls_needs_its_ca_or_an_insecure_opt_in() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{TLS}/debian-app:1");
    let ca = registry_root().join("tls/ca.crt");
    assert!(ca.is_file(), "{} missing", ca.display());

    let refused = customs(&["sbom", "--no-cache", &reference], cache.path());
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("UnknownIssuer") && refused.stderr.contains("--ca-cert"),
        "{}",
        refused.stderr
    );
    let with_ca = sbom_ok(
        &["--no-cache", "--ca-cert", ca.to_str().unwrap(), &reference],
        cache.path(),
    );
    assert!(with_ca["packages"].as_array().unwrap().len() >= 88);
    let insecure = sbom_ok(
        &["--no-cache", "--insecure-registry", TLS, &reference],
        cache.path(),
    );
    assert_eq!(packages(&insecure), packages(&with_ca));

    let bad_ca = cache.path().join("not-a-cert.pem");
    std::fs::write(&bad_ca, "hello").unwrap();
    let r = customs(
        &[
            "sbom",
            "--no-cache",
            "--ca-cert",
            bad_ca.to_str().unwrap(),
            &reference,
        ],
        cache.path(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not-a-cert.pem"), "{}", r.stderr);
}

fn write_docker_config(dir: &Path, json: &Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), serde_json::to_vec(json).unwrap()).unwrap();
}

#[test]
fn credentials_from_docker_config_and_helpers() {
    use base64_like::encode;
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{BASIC}/debian-app:1");

    // `auths` with the base64 USER:PASSWORD docker login writes.
    let cfg = cache.path().join("docker-auths");
    write_docker_config(
        &cfg,
        &serde_json::json!({"auths": {BASIC: {"auth": encode(&format!("{USER}:{PASS}"))}}}),
    );
    let r = run(
        &["sbom", "--no-cache", &reference],
        cache.path(),
        None,
        &[("DOCKER_CONFIG", &cfg)],
    );
    assert_eq!(r.code, 0, "auths: {}", r.stderr);

    // `credHelpers`: docker-credential-NAME on PATH answers `get` with JSON.
    let bin = cache.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-customstest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASS}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let path = PathBuf::from(path);
    let cfg = cache.path().join("docker-helpers");
    write_docker_config(
        &cfg,
        &serde_json::json!({"credHelpers": {BASIC: "customstest"}}),
    );
    let r = run(
        &["sbom", "--no-cache", &reference],
        cache.path(),
        None,
        &[("DOCKER_CONFIG", &cfg), ("PATH", &path)],
    );
    assert_eq!(r.code, 0, "credHelpers: {}", r.stderr);
    let asked = std::fs::read_to_string(bin.join("asked")).unwrap();
    assert!(asked.contains(BASIC), "helper asked for {asked:?}");

    // `credsStore` covers every registry, here the token registry with credentials.
    let cfg = cache.path().join("docker-store");
    write_docker_config(&cfg, &serde_json::json!({"credsStore": "customstest"}));
    let r = run(
        &["sbom", "--no-cache", &format!("{TOKEN}/debian-app:1")],
        cache.path(),
        None,
        &[("DOCKER_CONFIG", &cfg), ("PATH", &path)],
    );
    assert_eq!(r.code, 0, "credsStore: {}", r.stderr);
    assert!(
        std::fs::read_to_string(bin.join("asked"))
            .unwrap()
            .contains(TOKEN)
    );

    // A helper that is configured but missing is an error that names it, not a silent anonymous pull.
    let cfg = cache.path().join("docker-missing");
    write_docker_config(
        &cfg,
        &serde_json::json!({"credHelpers": {BASIC: "nosuchhelper"}}),
    );
    let r = run(
        &["sbom", "--no-cache", &reference],
        cache.path(),
        None,
        &[("DOCKER_CONFIG", &cfg)],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("docker-credential"), "{}", r.stderr);
}

/// Base64 for the docker config test, written here to keep the test crate's dependencies small.
mod base64_like {
    pub(crate) fn encode(s: &str) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk.len();
            let v = (u32::from(chunk[0]) << 16)
                | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
                | u32::from(*chunk.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= n {
                    out.push(T[((v >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[test]
fn missing_tag_and_repository_are_404() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    for reference in [
        format!("{PLAIN}/debian-app:no-such-tag"),
        format!("{PLAIN}/no-such/repository:1"),
        format!("{PLAIN}/debian-app@sha256:{}", "0".repeat(64)),
    ] {
        let r = customs(&["sbom", "--no-cache", &reference], cache.path());
        assert_eq!(r.code, 2, "{reference}");
        assert!(
            r.stderr.contains("not found (HTTP 404)") && r.stderr.contains("MANIFEST_UNKNOWN"),
            "{reference}: {}",
            r.stderr
        );
    }
    let r = customs(&["sbom", "--no-cache", "Upper/Case:1"], cache.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an image reference"), "{}", r.stderr);
}

/// Push a small image of our own, unique to this run, so corrupting its blobs in the
/// registry's storage touches nothing another test reads. Returns (reference, layer digest,
/// manifest digest).
pub(crate) fn push_unique(name: &str) -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let status = common::dpkg_stanza("customs-probe", "1.0-1");
    let layer = LayerTar::new()
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", status.as_bytes())
        .file("etc/stamp", stamp.as_bytes())
        .finish();
    let manifest = common::write_layout(dir.path(), &[layer], common::Comp::Gzip);
    let reference = format!("{PLAIN}/customs-test/{name}:1");
    skopeo(
        &format!("oci:{}:1", dir.path().display()),
        &format!("docker://{reference}"),
    );
    let m: Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join("blobs/sha256")
                .join(manifest.trim_start_matches("sha256:")),
        )
        .unwrap(),
    )
    .unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap().to_owned();
    (reference, layer, manifest)
}

/// Flip one byte of a blob in the registry's filesystem storage, keeping its length.
fn corrupt_in_storage(digest: &str) {
    let hex = digest.trim_start_matches("sha256:");
    let data = registry_root()
        .join("storage/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut bytes = std::fs::read(&data).unwrap_or_else(|e| panic!("{}: {e}", data.display()));
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
}

#[test]
fn blob_corrupted_in_the_registry_is_refused() {
    registries_up();
    let (reference, layer, _) = push_unique("corrupt-layer");
    let cache = tempfile::tempdir().unwrap();
    // Before: the image reads.
    let inv = sbom_ok(&["--no-cache", &reference], cache.path());
    assert_eq!(inv["packages"][0]["name"], "customs-probe");
    corrupt_in_storage(&layer);
    let r = customs(&["sbom", "--no-cache", &reference], cache.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("digest mismatch") && r.stderr.contains(&layer),
        "{}",
        r.stderr
    );
}

#[test]
fn manifest_digest_is_verified() {
    registries_up();
    let (reference, _, manifest) = push_unique("corrupt-manifest");
    let cache = tempfile::tempdir().unwrap();
    let by_digest = reference.replace(":1", &format!("@{manifest}"));
    sbom_ok(&["--no-cache", &by_digest], cache.path());
    corrupt_in_storage(&manifest);
    for r in [&by_digest, &reference] {
        let out = customs(&["sbom", "--no-cache", r], cache.path());
        assert_eq!(out.code, 2, "{r}: {}", out.stderr);
        assert!(
            out.stderr.contains("digest mismatch") && out.stderr.contains(&manifest),
            "{r}: {}",
            out.stderr
        );
    }
}

fn plain_upstream() -> SocketAddr {
    PLAIN.parse().unwrap()
}

#[test]
fn retries_through_resets_503_and_429_and_resumes_cut_downloads() {
    registries_up();
    let proxy = FaultProxy::start(plain_upstream());
    let cache = tempfile::tempdir().unwrap();
    let s = summary("debian-app");
    let big = s["layers"][0]["digest"].as_str().unwrap().to_owned();
    let rule = |path: &str, times: usize, fault: Fault| Rule {
        path_contains: path.to_owned(),
        method: None,
        times,
        fault,
    };
    proxy.add(rule(
        "/manifests/",
        2,
        Fault::Status {
            code: 503,
            retry_after: None,
        },
    ));
    proxy.add(rule(
        "/blobs/",
        1,
        Fault::Status {
            code: 429,
            retry_after: Some(1),
        },
    ));
    proxy.add(rule("/blobs/", 1, Fault::Reset));
    proxy.add(rule(&big, 1, Fault::CutAfter(5 << 20)));
    proxy.add(rule(
        "/blobs/",
        1,
        Fault::Status {
            code: 502,
            retry_after: None,
        },
    ));
    let reference = format!("{}/debian-app:1", proxy.host_port());
    let r = run(
        &["sbom", "--format", "json", "--no-cache", "-v", &reference],
        cache.path(),
        None,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = packages(&common::sbom(
        &format!("oci:{}:1", corpus().join("debian-app/oci").display()),
        cache.path(),
        &["--no-cache"],
    ));
    assert_eq!(packages(&r.json()), want);
    // Each fault shows as a retry line, and the summary counts them.
    let retries = r.stderr.lines().filter(|l| l.starts_with("retry ")).count();
    assert!(retries >= 5, "{retries} retry lines in:\n{}", r.stderr);
    assert!(
        r.stderr.contains("HTTP 503") && r.stderr.contains("HTTP 429"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("resumed downloads"), "{}", r.stderr);
    assert!(r.stderr.contains(" 1 resumed downloads"), "{}", r.stderr);
    // The cut download went on from where it broke, with a Range request.
    let resumed = proxy
        .log()
        .into_iter()
        .filter(|l| l.path.contains(&big) && l.range.is_some())
        .collect::<Vec<_>>();
    assert!(
        resumed.iter().any(|l| l
            .range
            .as_deref()
            .is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-")),
        "no Range request for {big}: {:?}",
        proxy.log()
    );
}

#[test]
fn blobs_redirected_to_storage_are_followed() {
    registries_up();
    let proxy = FaultProxy::start(plain_upstream());
    proxy.add(Rule {
        path_contains: "/blobs/".to_owned(),
        method: Some("GET".to_owned()),
        times: 100,
        fault: Fault::Redirect(plain_upstream()),
    });
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/debian-app:1", proxy.host_port());
    let inv = sbom_ok(&["--no-cache", &reference], cache.path());
    assert!(inv["packages"].as_array().unwrap().len() >= 88);
    let redirected = proxy
        .log()
        .iter()
        .filter(|l| l.path.contains("/blobs/") && l.status == 307)
        .count();
    assert_eq!(redirected, 3, "config and two layers: {:?}", proxy.log());
}

#[test]
fn registry_that_dies_mid_pull_gives_a_clean_error() {
    registries_up();
    let proxy = FaultProxy::start(plain_upstream());
    let big = summary("debian-app")["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    proxy.add(Rule {
        path_contains: big.clone(),
        method: None,
        times: 1,
        fault: Fault::DieAfter(2 << 20),
    });
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/debian-app:1", proxy.host_port());
    let r = customs(
        &["sbom", "--no-cache", "-v", "--retries", "3", &reference],
        cache.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("customs: error:")
            && r.stderr.contains(&big)
            && r.stderr.contains("gave up after"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // Nothing half-read was cached.
    let layers = cache.path().join("layers");
    assert!(!layers.exists() || common::files_under(&layers).is_empty());
}

#[test]
fn warm_scan_fetches_only_the_manifest() {
    registries_up();
    let proxy = FaultProxy::start(plain_upstream());
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/debian-app:1", proxy.host_port());
    let cold = sbom_ok(&[&reference], cache.path());
    let s = summary("debian-app");
    let layer_digests: Vec<String> = s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect();
    for d in &layer_digests {
        assert_eq!(proxy.count("GET", d), 1, "cold scan reads {d} once");
    }
    proxy.clear_log();
    let warm = sbom_ok(&[&reference], cache.path());
    assert_eq!(packages(&warm), packages(&cold));
    let log = proxy.log();
    let fetched: Vec<&str> = log
        .iter()
        .filter(|l| l.path.contains("/manifests/") || l.path.contains("/blobs/"))
        .map(|l| l.path.as_str())
        .collect();
    // The config comes from the cache too (its digest is in the manifest, and checked).
    assert_eq!(fetched.len(), 1, "{log:?}");
    assert_eq!(proxy.count("GET", "/manifests/1"), 1, "{log:?}");
    let config = s["config_digest"].as_str().unwrap();
    assert_eq!(
        proxy.count("GET", &format!("/blobs/{config}")),
        0,
        "{log:?}"
    );
    for d in &layer_digests {
        assert_eq!(proxy.count("GET", d), 0, "warm scan must not download {d}");
    }
    assert!(
        warm["image"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["cached"] == true)
    );
    // A cached config that is not what its digest says is fetched again, not believed.
    let kept = cache
        .path()
        .join("configs/blobs")
        .join(config.replacen(':', "/", 1));
    assert!(kept.is_file(), "{}", kept.display());
    std::fs::write(&kept, b"{\"rootfs\":{\"diff_ids\":[]}}").unwrap();
    proxy.clear_log();
    let again = sbom_ok(&[&reference], cache.path());
    assert_eq!(packages(&again), packages(&cold));
    assert_eq!(
        proxy.count("GET", &format!("/blobs/{config}")),
        1,
        "{:?}",
        proxy.log()
    );
}

#[test]
fn progress_bars_on_a_terminal_only() {
    registries_up();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{PLAIN}/debian-app:1");
    let layer = summary("debian-app")["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")[..12]
        .to_owned();
    // `script` gives the command a pseudo-terminal, as a user's shell would.
    let cmd = format!(
        "{} sbom --no-cache -f json {reference} > /dev/null",
        env!("CARGO_BIN_EXE_customs")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("CUSTOMS_CACHE_DIR", cache.path())
        // A terminal session has a TERM; without one, indicatif takes the terminal for a dumb
        // one and draws nothing (as under `env -i`).
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux)");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tty}");
    assert!(
        tty.contains(&layer) && tty.contains("MiB"),
        "no progress bar in {tty:?}"
    );
    // Not a terminal, or --quiet on one: no bar.
    let piped = customs(
        &["sbom", "--no-cache", "-f", "json", &reference],
        cache.path(),
    );
    assert!(!piped.stderr.contains(&layer), "{}", piped.stderr);
    let out = Command::new("script")
        .args(["-qec", &format!("{cmd} -q"), "/dev/null"])
        .env("CUSTOMS_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&layer));
}

/// The issue's reproduction (`customs sbom nosuchhost.invalid/x:1`): a registry whose name does
/// not resolve is one request, not six, with the reason and without a misleading hint.
#[test]
fn a_registry_that_does_not_resolve_is_one_request() {
    let cache = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let r = customs(
        &["sbom", "--no-cache", "-v", "nosuchhost.invalid/x:1"],
        cache.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("nosuchhost.invalid/v2/: could not resolve host nosuchhost.invalid"),
        "{}",
        r.stderr
    );
    assert_eq!(requests(&r.stderr), 1, "{}", r.stderr);
    assert!(
        !r.stderr.lines().any(|l| l.starts_with("retry ")),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("--insecure-registry"), "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Proxy variables do not apply to a registry on loopback: a proxy's loopback is not ours.
#[test]
fn loopback_registries_are_not_proxied() {
    registries_up();
    // A proxy that refuses every connection: had it been used, the pull would fail.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let proxy = format!("http://{dead}");
    let proxy = Path::new(&proxy);
    let cache = tempfile::tempdir().unwrap();
    let r = run(
        &[
            "sbom",
            "--format",
            "json",
            "--no-cache",
            &format!("{PLAIN}/debian-app:1"),
        ],
        cache.path(),
        None,
        &[
            ("HTTP_PROXY", proxy),
            ("HTTPS_PROXY", proxy),
            ("ALL_PROXY", proxy),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["packages"].as_array().unwrap().len() >= 88);
}

/// A client for the test registries, with `credential` for every registry.
fn crawl_client(credential: Option<(&str, &str)>) -> customs_registry::Client {
    let transport =
        customs_http::Transport::new(customs_http::HttpOptions::default()).expect("transport");
    customs_registry::Client::new(
        transport,
        customs_registry::ClientOptions {
            credential: credential.map(|(u, p)| customs_registry::Credential::Basic {
                username: u.to_owned(),
                password: customs_registry::Secret::new(p),
            }),
            docker_config: false,
            observer: None,
        },
    )
}

/// The crawl of a registry (issue 18): `_catalog` and `tags/list` read in pages, following the
/// registry's `Link` headers (docker-registry sends them on the catalog) and stopping when a
/// page brings nothing new (it ignores `n` on tags/list); tags resolved to digests by `HEAD`;
/// the catalog token asked with scope `registry:catalog:*` on the token registry. Other
/// tests may push while this one runs, and repositories are never deleted: a paged listing
/// lies between one-shot listings taken before and after it.
#[test]
fn a_registry_is_crawled_page_by_page() {
    registries_up();
    let plain = customs_registry::Reference::parse(&format!("{PLAIN}/debian-app")).unwrap();
    let client = crawl_client(None);
    let before: BTreeSet<String> = client
        .catalog(&plain, 10_000)
        .unwrap()
        .into_iter()
        .collect();
    let requests = client.stats().requests;
    let paged = client.catalog(&plain, 1).unwrap();
    let one_per_page = client.stats().requests - requests;
    let after: BTreeSet<String> = client
        .catalog(&plain, 10_000)
        .unwrap()
        .into_iter()
        .collect();
    let paged_set: BTreeSet<String> = paged.iter().cloned().collect();
    assert_eq!(paged_set.len(), paged.len(), "a name twice: {paged:?}");
    assert!(
        before.is_subset(&paged_set) && paged_set.is_subset(&after),
        "{paged:?}"
    );
    for repo in [
        "debian-app",
        "bookworm-big",
        "bullseye-minbase",
        "trixie-minbase",
    ] {
        assert!(paged_set.contains(repo), "{repo} missing: {paged:?}");
    }
    // A page per name, and the last, empty page.
    assert!(one_per_page > paged.len() as u64, "{one_per_page} requests");
    let mid = client.catalog(&plain, 2).unwrap();
    assert!(before.iter().all(|r| mid.contains(r)), "{mid:?}");

    let tags = client.tags(&plain, 1).unwrap();
    let all = client.tags(&plain, customs_registry::MAX_PAGE).unwrap();
    let tag_set: BTreeSet<&String> = tags.iter().collect();
    assert_eq!(tag_set.len(), tags.len(), "a tag twice: {tags:?}");
    for t in ["1", "1-docker", "1-index", "1-zstd"] {
        assert!(tags.iter().any(|x| x == t), "{t} missing: {tags:?}");
    }
    assert!(tags.iter().all(|t| all.contains(t)), "{tags:?} / {all:?}");

    let digest = client.resolve(&plain, "1").unwrap();
    let manifest = client.manifest(&plain, "1").unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&manifest.bytes));
    assert_eq!(digest, format!("sha256:{sha}"));
    let gone = client.resolve(&plain, "no-such-tag").unwrap_err();
    assert!(
        matches!(gone, customs_registry::RegistryError::NotFound { .. }),
        "{gone}"
    );

    // The token registry: the catalog needs a token for `registry:catalog:*`, which its token
    // server grants only to a known user.
    let token = customs_registry::Reference::parse(&format!("{TOKEN}/debian-app")).unwrap();
    let listed = crawl_client(Some((USER, PASS))).catalog(&token, 2).unwrap();
    assert!(listed.iter().any(|r| r == "debian-app"), "{listed:?}");
    let anonymous = crawl_client(None).catalog(&token, 2);
    assert!(anonymous.is_err(), "{anonymous:?}");
}

/// `skopeo copy` from one registry reference to another (blobs are mounted, not sent again).
pub(crate) fn skopeo_copy(from: &str, to: &str) {
    skopeo(&format!("docker://{from}"), &format!("docker://{to}"));
}

/// `skopeo copy FROM TO`, both with their transports (`oci:DIR:TAG`, `docker://REF`), to and
/// from the plain-HTTP registries.
fn skopeo(from: &str, to: &str) {
    let mut args = vec!["copy", "--quiet", "--dest-tls-verify=false"];
    if from.starts_with("docker://") {
        args.push("--src-tls-verify=false");
    }
    let out = Command::new("skopeo")
        .args(args)
        .args([from, to])
        .output()
        .expect("skopeo is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "skopeo copy {from} {to}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The manifest of a registry reference, as skopeo reads it (`--raw`: the manifest alone, so
/// the registry's log shows no blob fetched for it).
pub(crate) fn skopeo_manifest(reference: &str) -> Vec<u8> {
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("skopeo is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The digest of a registry reference, as skopeo reads it (the oracle for the crawl's HEAD).
pub(crate) fn skopeo_digest(reference: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(skopeo_manifest(
            reference
        )))
    )
}

/// The registry audit (issue 18) on the plain registry, over repositories the test makes with
/// skopeo under a prefix of its own. The crawl: image tags with their digests (checked
/// against skopeo's), cosign-style signature, attestation and SBOM tags and the referrers
/// fallback tag set apart, the repository globs, the registry's other repositories left out.
/// `customs audit`: each distinct digest scanned once and stored under every tag, each blob
/// fetched once (the registry's access log), a rerun fetching nothing. Then a tag moves, and
/// `customs images --drift` shows the move with the findings it fixed.
#[test]
fn a_registry_audit_crawls_scans_each_image_once_and_shows_drift() {
    registries_up();
    let prefix = format!("audit-crawl-{}", std::process::id());
    let app = format!("{PLAIN}/{prefix}/app");
    let base = format!("{PLAIN}/{prefix}/base");
    skopeo_copy(&format!("{PLAIN}/debian-app:1"), &format!("{app}:1"));
    skopeo_copy(&format!("{PLAIN}/trixie-minbase:1"), &format!("{app}:2"));
    skopeo_copy(&format!("{PLAIN}/trixie-minbase:1"), &format!("{base}:13"));
    // bookworm-big shares its base layer with debian-app.
    skopeo_copy(&format!("{PLAIN}/bookworm-big:1"), &format!("{base}:big"));
    let d1 = skopeo_digest(&format!("{app}:1"));
    let hex = d1.trim_start_matches("sha256:");
    let artifacts = [
        format!("sha256-{hex}.sig"),
        format!("sha256-{hex}.att"),
        format!("sha256-{hex}.sbom"),
        format!("sha256-{hex}"),
    ];
    for tag in &artifacts {
        // Any manifest will do: the tag's form is what marks it.
        skopeo_copy(
            &format!("{PLAIN}/trixie-minbase:1"),
            &format!("{app}:{tag}"),
        );
    }

    let client = crawl_client(None);
    let opts = customs_app::audit::CrawlOptions {
        repos: vec![format!("{prefix}/*")],
        page: 1,
        bases: Vec::new(),
    };
    let crawl = customs_app::audit::crawl(&client, PLAIN, &opts).unwrap();
    assert_eq!(crawl.registry, PLAIN);
    let names: Vec<&str> = crawl.repositories.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [format!("{prefix}/app"), format!("{prefix}/base")]);
    let d3 = skopeo_digest(&format!("{base}:big"));
    let app_crawl = &crawl.repositories[0];
    assert!(app_crawl.errors.is_empty(), "{:?}", app_crawl.errors);
    let mut tags: Vec<(&str, &str)> = app_crawl
        .tags
        .iter()
        .map(|t| (t.tag.as_str(), t.digest.as_str()))
        .collect();
    tags.sort_unstable();
    let d2 = skopeo_digest(&format!("{app}:2"));
    assert_eq!(tags, [("1", d1.as_str()), ("2", d2.as_str())]);
    let mut set_apart = app_crawl.artifact_tags.clone();
    set_apart.sort();
    let mut expected = artifacts.to_vec();
    expected.sort();
    assert_eq!(set_apart, expected);
    // Two repositories, four image tags, three distinct images: base:13 is app:2.
    assert_eq!(
        crawl
            .digests()
            .iter()
            .map(|(_, d)| *d)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([d1.as_str(), d2.as_str(), d3.as_str()])
    );

    let only_base = customs_app::audit::CrawlOptions {
        repos: vec![format!("{prefix}/base")],
        page: 0,
        bases: Vec::new(),
    };
    let crawl = customs_app::audit::crawl(&client, PLAIN, &only_base).unwrap();
    assert_eq!(crawl.repositories.len(), 1);
    let digests: BTreeSet<&str> = crawl.repositories[0]
        .tags
        .iter()
        .map(|t| t.digest.as_str())
        .collect();
    assert_eq!(digests, BTreeSet::from([d2.as_str(), d3.as_str()]));

    let bad = customs_app::audit::crawl(&client, &format!("{PLAIN}/debian-app"), &opts);
    assert!(bad.is_err(), "a repository given as the registry");

    // `customs audit`: each distinct image scanned once into the store, with every tag; a
    // second run finds them stored and scans nothing.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = crate::scan::build_db(w, &["osv-pypa-yaml"]);
    let store = format!("sqlite:{}", w.join("store.db").display());
    let glob = format!("{prefix}/*");
    let audit = |cache: &Path| {
        customs(
            &[
                "audit",
                PLAIN,
                "--repos",
                &glob,
                "--store-url",
                &store,
                "--db",
                &db,
                "--format",
                "json",
                "--concurrency",
                "3",
            ],
            cache,
        )
    };
    let first = audit(&w.join("cache"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let report = first.json();
    let first_report = report.clone();
    // app:1 → d1; app:2 and base:13 → d2; base:big → d3: three images, each scanned once.
    assert_eq!(report["run"]["images"], 3, "{report}");
    assert_eq!(report["run"]["scanned"].as_array().unwrap().len(), 3);
    // Each blob fetched once, by the registry's own access log: the layer debian-app and
    // bookworm-big share was read once though the two were scanned at the same time.
    let fetched = blob_gets(&prefix);
    let mut layers = BTreeSet::new();
    for image in [
        &format!("{app}:1"),
        &format!("{app}:2"),
        &format!("{base}:big"),
    ] {
        layers.extend(skopeo_layers(image));
    }
    assert!(
        fetched.values().all(|n| *n == 1),
        "a blob fetched twice: {fetched:?}"
    );
    assert!(
        layers.iter().all(|l| fetched.contains_key(l)),
        "{layers:?} / {fetched:?}"
    );
    // The layers and the three configs.
    assert_eq!(fetched.len(), layers.len() + 3, "{fetched:?}");
    assert_eq!(report["run"]["already_stored"], 0);
    assert_eq!(
        report["crawl"]["repositories"][0]["artifact_tags"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let images = customs(&["images", "--format", "json", "--store-url", &store], w);
    assert_eq!(images.code, 0, "{}", images.stderr);
    let mut stored: Vec<(String, Vec<String>)> = images
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let mut tags: Vec<String> = i["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect();
            tags.sort();
            (i["digest"].as_str().unwrap().to_owned(), tags)
        })
        .collect();
    stored.sort();
    let mut expected = vec![
        (d1.clone(), vec![format!("{app}:1")]),
        (d2.clone(), vec![format!("{app}:2"), format!("{base}:13")]),
        (d3.clone(), vec![format!("{base}:big")]),
    ];
    expected.sort();
    assert_eq!(stored, expected);
    let again = audit(&w.join("cache"));
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report = again.json();
    assert_eq!(
        report["run"]["scanned"].as_array().unwrap().len(),
        0,
        "{report}"
    );
    assert_eq!(report["run"]["already_stored"], 3);
    assert_eq!(blob_gets(&prefix), fetched, "the rerun fetched blobs");

    // Tag drift: app:1 moves from debian-app's digest to bookworm-big's. The next audit
    // stores the new digest under app:1, and `images --drift` shows the move with the
    // findings it fixed and brought, the same as `customs diff` of the two digests.
    skopeo_copy(&format!("{PLAIN}/bookworm-big:1"), &format!("{app}:1"));
    let third = audit(&w.join("cache"));
    assert_eq!(third.code, 0, "{}", third.stderr);
    let report = third.json();
    assert_eq!(report["run"]["images"], 2, "{report}");
    assert_eq!(report["run"]["already_stored"], 1, "{report}");
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
    let drift = drift.json();
    let moved = drift.as_array().unwrap();
    assert_eq!(moved.len(), 1, "{drift}");
    assert_eq!(moved[0]["repository"], app.as_str());
    assert_eq!(moved[0]["tag"], "1");
    assert_eq!(moved[0]["from"], d1.as_str());
    assert_eq!(moved[0]["to"], d3.as_str());
    // debian-app's PyPA findings (its pip packages) are gone with the move: bookworm-big
    // has none. The counts are those the first audit's scans found.
    let found = |digest: &str| {
        first_report["run"]["scanned"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["digest"] == digest)
            .unwrap()["findings"]
            .as_u64()
            .unwrap()
    };
    assert!(found(&d1) > 0);
    assert_eq!(found(&d3), 0);
    let removed = moved[0]["findings"]["removed"].as_array().unwrap();
    assert_eq!(removed.len() as u64, found(&d1), "{drift}");
    assert!(removed.iter().any(|f| f["package"] == "urllib3"), "{drift}");
    assert_eq!(moved[0]["findings"]["added"], serde_json::json!([]));
    let table = customs(&["images", "--drift", "--store-url", &store], w);
    assert!(table.stdout.contains("1 tags moved"), "{}", table.stdout);
}

/// The layer digests of a registry image, from its manifest.
pub(crate) fn skopeo_layers(reference: &str) -> Vec<String> {
    let v: Value = serde_json::from_slice(&skopeo_manifest(reference)).unwrap();
    v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// Blob GETs of the audit test's repositories in the plain registry's access log, by digest.
/// The log is written as responses complete: read again until it stops changing.
fn blob_gets(prefix: &str) -> std::collections::BTreeMap<String, usize> {
    let log = registry_root().join("run/plain.log");
    let mut last = None;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let mut counts = std::collections::BTreeMap::new();
        for repo in ["app", "base"] {
            for digest in crate::dbpush::blob_gets(&log, 0, &format!("{prefix}/{repo}")) {
                *counts.entry(digest).or_insert(0) += 1;
            }
        }
        if last.as_ref() == Some(&counts) {
            return counts;
        }
        last = Some(counts);
    }
}

/// A JSON file.
fn json_file(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON blob of the corpus's OCI layout of `image`.
fn corpus_blob(image: &str, digest: &str) -> Value {
    let hex = digest.trim_start_matches("sha256:");
    json_file(&corpus().join(image).join("oci/blobs/sha256").join(hex))
}

/// Push to the plain registry, as `target` (`REPO:TAG`), an image made of corpus layers:
/// `parts` names each layer, bottom first, as (corpus image, its layer index). The config is
/// the first part's image's, with the new layers' diff_ids; the manifest carries
/// `annotations`. Written as an OCI layout from the corpus's own blobs and copied with
/// skopeo; `created` replaces the config's build date. Returns the pushed digest.
pub(crate) fn push_built(
    target: &str,
    parts: &[(&str, usize)],
    annotations: &Value,
    created: Option<&str>,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let manifest_of = |image: &str| {
        let index = json_file(&corpus().join(image).join("oci/index.json"));
        corpus_blob(image, index["manifests"][0]["digest"].as_str().unwrap())
    };
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (image, i) in parts {
        let manifest = manifest_of(image);
        let config = corpus_blob(image, manifest["config"]["digest"].as_str().unwrap());
        let layer = manifest["layers"][*i].clone();
        let hex = layer["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned();
        let from = corpus().join(image).join("oci/blobs/sha256").join(&hex);
        if std::fs::hard_link(&from, blobs.join(&hex)).is_err() {
            std::fs::copy(&from, blobs.join(&hex)).unwrap();
        }
        layers.push(layer);
        diff_ids.push(config["rootfs"]["diff_ids"][*i].clone());
    }
    let write = |bytes: &[u8]| -> (String, usize) {
        let hex = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let first = manifest_of(parts[0].0);
    let mut config = corpus_blob(parts[0].0, first["config"]["digest"].as_str().unwrap());
    config["rootfs"]["diff_ids"] = Value::Array(diff_ids);
    if let Some(c) = created {
        config["created"] = Value::String(c.to_owned());
    }
    config["history"] = Value::Array(
        (0..parts.len())
            .map(|i| serde_json::json!({"created_by": format!("test layer {i}")}))
            .collect(),
    );
    let (config_digest, config_size) = write(&serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": layers,
        "annotations": annotations,
    });
    let (digest, size) = write(&serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
            "annotations": {"org.opencontainers.image.ref.name": "built"},
        }],
    });
    std::fs::write(dir.path().join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        dir.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    skopeo(
        &format!("oci:{}:built", dir.path().display()),
        &format!("docker://{PLAIN}/{target}"),
    );
    let pushed = skopeo_digest(&format!("{PLAIN}/{target}"));
    assert_eq!(pushed, digest, "skopeo rewrote the manifest of {target}");
    pushed
}

/// Base-image attribution (issue 18) on images the test builds from corpus layers: a base
/// of debian-app's two layers (its pip packages, with their PyPA findings, are in the second),
/// an app of those two and one layer of bookworm-big on top, pushed once without annotations
/// (placed by its layer chain) and once with `org.opencontainers.image.base.digest` and
/// `.name` (placed by them). `customs base` puts every finding in the base's layers; after the
/// base's tag moves to a build of the first layer alone (no pip packages), it says that a
/// rebuild on it fixes all of them.
#[test]
fn the_base_of_an_image_and_what_a_rebuild_fixes() {
    registries_up();
    let prefix = format!("audit-base-{}", std::process::id());
    let none = serde_json::json!({});
    let old_base = push_built(
        &format!("{prefix}/base:1"),
        &[("debian-app", 0), ("debian-app", 1)],
        &none,
        None,
    );
    let app_layers = [("debian-app", 0), ("debian-app", 1), ("bookworm-big", 1)];
    let app = push_built(&format!("{prefix}/app:1"), &app_layers, &none, None);
    let base_name = format!("{PLAIN}/{prefix}/base:1");
    let annotated = push_built(
        &format!("{prefix}/app:annotated"),
        &app_layers,
        &serde_json::json!({
            "org.opencontainers.image.base.digest": old_base,
            "org.opencontainers.image.base.name": base_name,
        }),
        // Built long before the others: not a current tag.
        Some("2020-01-01T00:00:00Z"),
    );
    assert_ne!(app, annotated);

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let db = crate::scan::build_db(w, &["osv-pypa-yaml"]);
    let store = format!("sqlite:{}", w.join("store.db").display());
    let glob = format!("{prefix}/*");
    let audit = || {
        let r = customs(
            &[
                "audit",
                PLAIN,
                "--repos",
                &glob,
                "--store-url",
                &store,
                "--db",
                &db,
                "--format",
                "json",
            ],
            &w.join("cache"),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let first = audit();
    let findings_of = |digest: &str| {
        first["run"]["scanned"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["digest"] == digest)
            .unwrap()["findings"]
            .as_u64()
            .unwrap()
    };
    let in_base = findings_of(&old_base);
    assert!(in_base > 0);
    assert_eq!(findings_of(&app), in_base);
    let base_of = |image: &str| {
        let r = customs(
            &["base", "--format", "json", "--store-url", &store, image],
            w,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    for (image, named) in [(&app, None), (&annotated, Some(base_name.as_str()))] {
        let report = base_of(image);
        assert_eq!(report["base"]["digest"], old_base.as_str(), "{report}");
        assert_eq!(report["base"]["layers"], 2, "{report}");
        if let Some(name) = named {
            assert_eq!(report["base"]["names"][0], name, "{report}");
        }
        assert_eq!(
            report["from_base"].as_array().unwrap().len() as u64,
            in_base
        );
        assert_eq!(report["from_image"], serde_json::json!([]), "{report}");
        assert_eq!(report["unplaced"], serde_json::json!([]), "{report}");
        assert_eq!(report["rebuilds"], serde_json::json!([]), "{report}");
    }
    // The base on its own is built on nothing stored.
    assert!(base_of(&old_base)["base"].is_null());

    // A known base outside the audited repositories (`--base`, `--bases-file`) is scanned
    // with them, and places the apps; without it no stored image is their base.
    let app_glob = format!("{prefix}/app");
    let only_apps = |name: &str, extra: &[&str]| {
        let store = format!("sqlite:{}", w.join(name).display());
        let mut args = vec![
            "audit",
            PLAIN,
            "--repos",
            &app_glob,
            "--store-url",
            &store,
            "--db",
            &db,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = customs(&args, &w.join("cache"));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let base = customs(
            &["base", "--format", "json", "--store-url", &store, &app],
            w,
        );
        assert_eq!(base.code, 0, "{}", base.stderr);
        (r.json(), base.json())
    };
    let (run, base) = only_apps("apps.db", &[]);
    assert_eq!(run["run"]["images"], 2, "{run}");
    assert!(base["base"].is_null(), "{base}");
    let list = w.join("bases.txt");
    std::fs::write(
        &list,
        format!("# our bases\n{base_name}  # bookworm with pip\n"),
    )
    .unwrap();
    for (name, extra) in [
        ("with-base.db", ["--base", base_name.as_str()]),
        (
            "with-bases-file.db",
            ["--bases-file", list.to_str().unwrap()],
        ),
    ] {
        let (run, base) = only_apps(name, &extra);
        assert_eq!(run["run"]["images"], 3, "{run}");
        assert_eq!(
            run["crawl"]["bases"][0]["digest"],
            old_base.as_str(),
            "{run}"
        );
        assert_eq!(base["base"]["digest"], old_base.as_str(), "{base}");
    }
    let missing = customs(
        &[
            "audit",
            PLAIN,
            "--repos",
            &app_glob,
            "--store-url",
            &format!("sqlite:{}", w.join("missing.db").display()),
            "--db",
            &db,
            "--base",
            &format!("{PLAIN}/{prefix}/base:nope"),
        ],
        &w.join("cache"),
    );
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    assert!(
        missing.stdout.contains("error: known base"),
        "{}",
        missing.stdout
    );

    // The base's tag moves to a new build without the pip packages.
    let new_base = push_built(
        &format!("{prefix}/base:1"),
        &[("debian-app", 0)],
        &none,
        None,
    );
    audit();
    let report = base_of(&format!("{PLAIN}/{prefix}/app:1"));
    assert_eq!(report["base"]["digest"], old_base.as_str(), "{report}");
    let rebuilds = report["rebuilds"].as_array().unwrap();
    assert_eq!(rebuilds.len(), 1, "{report}");
    assert_eq!(rebuilds[0]["on"], base_name.as_str());
    assert_eq!(rebuilds[0]["current"], new_base.as_str());
    assert_eq!(rebuilds[0]["of"].as_u64(), Some(in_base));
    assert_eq!(
        rebuilds[0]["fixes"].as_array().unwrap().len() as u64,
        in_base
    );
    let table = customs(
        &[
            "base",
            "--store-url",
            &store,
            &format!("{PLAIN}/{prefix}/app:1"),
        ],
        w,
    );
    assert!(
        table
            .stdout
            .contains(&format!("fixes {in_base} of {in_base}")),
        "{}",
        table.stdout
    );

    // The audit's report, checked against its committed schema and against what the test
    // built: base:1 (the new base), app:1 and app:annotated (built in 2020, so not current).
    let scope = format!("{PLAIN}/{prefix}/");
    let report_of = |format: &str| crate::audit::audit_report(&scope, format, &store, &db, w);
    let json_text = report_of("json");
    let file = w.join("audit-report.json");
    std::fs::write(&file, &json_text).unwrap();
    crate::audit::check_schema(&file);
    let r: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(r["schema"], "customs.audit-report/1");
    // The database holds PyPA's advisories only: every image's Debian packages went
    // unchecked, and debian-app's Cargo, Maven and npm packages (its second layer) too; the
    // report says so rather than count them clean.
    assert_eq!(r["all"]["with_gaps"], r["all"]["images"], "{r}");
    for row in r["images"].as_array().unwrap() {
        let want = if row["digest"] == new_base.as_str() {
            serde_json::json!(["deb"])
        } else {
            serde_json::json!(["cargo", "deb", "maven", "npm"])
        };
        assert_eq!(row["unchecked"], want, "{row}");
    }
    assert_eq!(r["all"]["repositories"], 2, "{r}");
    assert_eq!(r["all"]["tags"], 3, "{r}");
    assert_eq!(r["all"]["images"], 3, "{r}");
    assert_eq!(r["current"]["tags"], 2, "{r}");
    assert_eq!(r["current"]["images"], 2, "{r}");
    let current: BTreeSet<&str> = r["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["current"] == true)
        .map(|i| i["digest"].as_str().unwrap())
        .collect();
    assert_eq!(current, BTreeSet::from([app.as_str(), new_base.as_str()]));
    // app:1 and app:annotated carry the old base's findings, the new base none.
    assert_eq!(r["findings"]["open"].as_u64(), Some(2 * in_base), "{r}");
    assert_eq!(
        r["findings"]["from_base"].as_u64(),
        Some(2 * in_base),
        "{r}"
    );
    assert_eq!(r["findings"]["from_image"], 0);
    assert_eq!(r["findings"]["unplaced"], 0);
    let ages: u64 = r["by_age"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["images"].as_u64().unwrap())
        .sum();
    assert_eq!(ages, 3);
    assert_eq!(r["by_age"][3]["name"], "over a year");
    assert!(r["by_age"][3]["images"].as_u64().unwrap() >= 1, "{r}");
    let bases: u64 = r["by_base"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["images"].as_u64().unwrap())
        .sum();
    assert_eq!(bases, 3);
    // The rebuild list: both apps on the base's new build, and the old base's own users told
    // to update to base:1; each fixes every base finding.
    let mut advice: Vec<(String, String, u64)> = r["rebuilds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["digest"].as_str().unwrap().to_owned(),
                a["advice"].as_str().unwrap().to_owned(),
                a["fixes"].as_u64().unwrap(),
            )
        })
        .collect();
    advice.sort();
    let mut expected = vec![
        (app.clone(), format!("rebuild on {base_name}"), in_base),
        (
            annotated.clone(),
            format!("rebuild on {base_name}"),
            in_base,
        ),
        (old_base.clone(), format!("update to {base_name}"), in_base),
    ];
    expected.sort();
    assert_eq!(advice, expected);
    // Nothing stored under a prefix: an error, not a report of a clean registry.
    let empty = customs(
        &[
            "audit",
            "report",
            "--prefix",
            "nowhere/",
            "--store-url",
            &store,
            "--db",
            &db,
        ],
        w,
    );
    assert_eq!(empty.code, 2, "{}", empty.stdout);
    assert!(
        empty.stderr.contains("holds no tagged image"),
        "{}",
        empty.stderr
    );
    let csv = report_of("csv");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.starts_with("digest,tags,current,created,age_days,base,critical,high"),
        "{csv}"
    );
    let md = report_of("markdown");
    assert!(md.contains("| share with critical or high |"), "{md}");
    assert!(md.contains("**Not checked:** 3 of 3 images"), "{md}");
    assert!(md.contains(&format!("rebuild on {base_name}")), "{md}");
}
