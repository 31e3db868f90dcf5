//! Image signatures in the real registry on :5000 (Debian's docker-registry 2.8): `customs
//! sign` then `customs verify`, keyed; cosign v3 bundles made by sigstore-python and npm
//! `sigstore` through `../shared/tools/sigstore-local.sh` (a local Fulcio, CT log and Rekor),
//! found through the referrers tag fallback, and through the referrers API of a small test
//! double in front of the registry (it is one, and says so below: 2.8 has no such API);
//! tampering done where an attacker would, in the registry.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sha2::Digest as _;

use crate::common::{corpus, customs, shared};
use crate::dbpush::keypair;
use crate::registry::{push_unique, registries_up};

const ISSUER: &str = "https://issuer.sigstore.local";

fn verify(args: &[&str], cache: &Path) -> (i32, Value, String) {
    let mut all = vec!["verify", "-f", "json"];
    all.extend_from_slice(args);
    let r = customs(&all, cache);
    let v = if r.code == 2 { Value::Null } else { r.json() };
    (r.code, v, r.stderr)
}

fn codes(v: &Value) -> Vec<String> {
    v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap_or("ok").to_owned())
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A blob pushed with curl, as any client would (monolithic upload).
fn put_blob(repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let out = Command::new("curl")
        .args(["-sS", "-f", "-D", "-", "-o", "/dev/null", "-X", "POST"])
        .arg(format!("http://127.0.0.1:5000/v2/{repo}/blobs/uploads/"))
        .output()
        .expect("curl (scripts/test.sh installs it)");
    assert!(out.status.success(), "{out:?}");
    let head = String::from_utf8_lossy(&out.stdout);
    let location = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .unwrap()
        .trim()
        .to_owned();
    let sep = if location.contains('?') { '&' } else { '?' };
    send(
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        "application/octet-stream",
        bytes,
    );
    digest
}

/// `body` sent with curl as `METHOD url`; the answer's body (curl must succeed).
fn send(method: &str, url: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut child = Command::new("curl")
        .args(["-sS", "-f", "-X", method, "--data-binary", "@-"])
        .args(["-H", &format!("Content-Type: {content_type}")])
        .arg(url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{method} {url}: {out:?}");
    out.stdout
}

fn put_manifest(repo: &str, tag: &str, bytes: &[u8]) {
    put_document(
        repo,
        tag,
        bytes,
        "application/vnd.oci.image.manifest.v1+json",
    );
}

fn put_document(repo: &str, tag: &str, bytes: &[u8], media_type: &str) {
    send(
        "PUT",
        &format!("http://127.0.0.1:5000/v2/{repo}/manifests/{tag}"),
        media_type,
        bytes,
    );
}

fn get(url: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sS", "-f"])
        .args(["-H", "Accept: application/vnd.oci.image.manifest.v1+json"])
        .arg(url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{url}: {out:?}");
    out.stdout
}

fn repo_of(reference: &str) -> &str {
    let path = reference.split_once('/').unwrap().1;
    path.rsplit_once(':').unwrap().0
}

#[test]
fn sign_then_verify_round_trips_and_refusals_carry_their_codes() {
    registries_up();
    let (reference, _, digest) = push_unique("signed");
    let (other_ref, _, other_digest) = push_unique("other");
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), "a", false);
    keypair(keys.path(), "b", true);
    let k = |f: &str| keys.path().join(f).display().to_string();
    let cache = tempfile::tempdir().unwrap();

    // Nothing signed yet: refused, not an error, and not a pass.
    let (code, v, err) = verify(&[&reference, "--key", &k("a.pub")], cache.path());
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["code"], "no-signature");
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["referrers_api"], false);

    let r = customs(&["sign", &reference, "--key", &k("a.key")], cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, v, err) = verify(&[&reference, "--key", &k("a.pub")], cache.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["satisfied"], true);
    assert_eq!(codes(&v), ["ok"]);
    let repo = repo_of(&reference);
    assert_eq!(
        v["signatures"][0]["verified"]["docker_reference"],
        format!("127.0.0.1:5000/{repo}")
    );
    // The wrong key.
    let (code, v, _) = verify(&[&reference, "--key", &k("b.pub")], cache.path());
    assert_eq!((code, v["code"].as_str()), (1, Some("untrusted-key")));
    // A second signer (Ed25519) is added beside the first; both verify, each with its own key.
    let r = customs(&["sign", &reference, "--key", &k("b.key")], cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (key, expect) in [
        ("a.pub", ["ok", "untrusted-key"]),
        ("b.pub", ["untrusted-key", "ok"]),
    ] {
        let (code, v, _) = verify(&[&reference, "--key", &k(key)], cache.path());
        assert_eq!(code, 0);
        assert_eq!(codes(&v), expect, "{key}");
    }
    // Signing again with a key already there adds nothing.
    let r = customs(
        &["sign", &reference, "--key", &k("a.key"), "-f", "json"],
        cache.path(),
    );
    assert_eq!(r.json()["signatures"], 2);
    // A pinned digest verifies the same; keyless wants a certificate the keyed ones lack.
    let pinned = format!("127.0.0.1:5000/{repo}@{digest}");
    assert_eq!(verify(&[&pinned, "--key", &k("a.pub")], cache.path()).0, 0);
    let (code, v, _) = verify(
        &[
            &pinned,
            "--certificate-identity",
            "a@b.c",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        cache.path(),
    );
    assert_eq!((code, v["code"].as_str()), (1, Some("certificate-missing")));

    // The signature manifest of one image copied to another's tag: it signs another digest.
    let sig_tag = |d: &str| format!("{}.sig", d.replacen(':', "-", 1));
    let sig = get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/manifests/{}",
        sig_tag(&digest)
    ));
    let other_repo = repo_of(&other_ref);
    let m: Value = serde_json::from_slice(&sig).unwrap();
    for l in m["layers"].as_array().unwrap() {
        let blob = get(&format!(
            "http://127.0.0.1:5000/v2/{repo}/blobs/{}",
            l["digest"].as_str().unwrap()
        ));
        put_blob(other_repo, &blob);
    }
    let config = get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/blobs/{}",
        m["config"]["digest"].as_str().unwrap()
    ));
    put_blob(other_repo, &config);
    put_manifest(other_repo, &sig_tag(&other_digest), &sig);
    let (code, v, _) = verify(&[&other_ref, "--key", &k("a.pub")], cache.path());
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["digest-mismatch", "untrusted-key"]);

    // A tampered payload: the manifest now names a changed payload (and its true digest),
    // with the original signature.
    let mut m = m;
    let layer = &mut m["layers"][0];
    let payload = get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/blobs/{}",
        layer["digest"].as_str().unwrap()
    ));
    let text = String::from_utf8(payload).unwrap();
    let changed = text.replace(
        "cosign container image signature",
        "cosign container image signaturE",
    );
    assert_ne!(changed, text);
    layer["digest"] = put_blob(repo, changed.as_bytes()).into();
    layer["size"] = changed.len().into();
    put_manifest(repo, &sig_tag(&digest), m.to_string().as_bytes());
    let (code, v, _) = verify(&[&reference, "--key", &k("a.pub")], cache.path());
    assert_eq!(code, 1);
    assert_eq!(codes(&v)[0], "untrusted-key");

    // Inputs that cannot be used are errors (2), not refusals.
    let r = customs(
        &["verify", &reference, "--key", "/nonexistent.pub"],
        cache.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent.pub"), "{}", r.stderr);
    // A file that is no public key is an error before any signature is judged.
    let r = customs(&["verify", &reference, "--key", &k("a.key")], cache.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("invalid-key") && r.stderr.contains("a.key"),
        "{}",
        r.stderr
    );
    let r = customs(
        &["verify", "127.0.0.1:5000/no/such:1", "--key", &k("a.pub")],
        cache.path(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// `../shared/tools/sigstore-local.sh` with this corpus: started if it is not running (it
/// installs on first use). Returns the trusted root of the server now running.
fn sigstore_local(args: &[&str]) -> String {
    sigstore_local_with(args, &[])
}

/// As [`sigstore_local`], with more environment (another server's root, its clock).
fn sigstore_local_with(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> String {
    let out = Command::new("bash")
        .arg(shared().join("tools/sigstore-local.sh"))
        .args(args)
        .env("CUSTOMS_CORPUS", corpus().parent().unwrap())
        .envs(env.iter().copied())
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "sigstore-local.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Where the local Sigstore keeps its files: `SIGSTORE_ROOT` when set (scripts/test.sh sets it
/// for the run in a network namespace of its own), else the corpus' `sigstore`.
fn sigstore_dir() -> PathBuf {
    std::env::var_os("SIGSTORE_ROOT").map_or_else(
        || corpus().parent().unwrap().join("sigstore"),
        PathBuf::from,
    )
}

fn trusted_root() -> PathBuf {
    sigstore_local(&["up"]);
    let root = sigstore_dir().join("trusted_root.json");
    assert!(root.is_file(), "{}", root.display());
    root
}

#[test]
fn a_cosign_v3_bundle_is_found_through_the_tag_fallback_and_verified_offline() {
    registries_up();
    let root = trusted_root();
    let root = root.display().to_string();
    let (reference, _, digest) = push_unique("keyless");
    sigstore_local(&["sign-image", &reference]);
    let cache = tempfile::tempdir().unwrap();
    let keyless = |who: &str, issuer: &str, root: &str| {
        verify(
            &[
                &reference,
                "--certificate-identity",
                who,
                "--certificate-oidc-issuer",
                issuer,
                "--trusted-root",
                root,
            ],
            cache.path(),
        )
    };
    let (code, v, err) = keyless("signer@customs.test", ISSUER, &root);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["referrers_api"], false);
    let s = &v["signatures"][0];
    assert_eq!(s["layout"], "bundle");
    assert_eq!(s["verified"]["identity"], "signer@customs.test");
    assert_eq!(s["verified"]["tlog"], true);
    let refused = |who: &str, issuer: &str, root: &str| {
        let (code, v, _) = keyless(who, issuer, root);
        assert_eq!(code, 1, "{v}");
        v["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        refused("mallory@customs.test", ISSUER, &root),
        "identity-mismatch"
    );
    assert_eq!(
        refused("signer@customs.test", "https://accounts.google.com", &root),
        "issuer-mismatch"
    );
    // The production root does not know this log, CA or CT log.
    let production = shared().join("data/signing/trusted-roots/production/trusted_root.json");
    let code = refused(
        "signer@customs.test",
        ISSUER,
        &production.display().to_string(),
    );
    assert!(
        code.starts_with("tlog-") || code.starts_with("certificate-"),
        "{code}"
    );
    // A root that knows this CA and CT log but not this Rekor log (it names production's):
    // the SET is from an unknown log.
    let mut other_log: Value = serde_json::from_slice(&std::fs::read(&root).unwrap()).unwrap();
    let production: Value = serde_json::from_slice(&std::fs::read(&production).unwrap()).unwrap();
    other_log["tlogs"] = production["tlogs"].clone();
    let dir = tempfile::tempdir().unwrap();
    let other_log_file = dir.path().join("other-log.json");
    std::fs::write(&other_log_file, other_log.to_string()).unwrap();
    assert_eq!(
        refused(
            "signer@customs.test",
            ISSUER,
            &other_log_file.display().to_string()
        ),
        "tlog-unknown"
    );
}

/// **A test double, not a registry**: a front for the real registry on :5000 that adds the
/// OCI 1.1 referrers API, which Debian's docker-registry 2.8 lacks. Every request is passed
/// to :5000 unchanged, except `GET /v2/REPO/referrers/DIGEST`, answered from the manifests
/// with a `subject` pushed through this front (whose PUT answers carry `OCI-Subject`, as a
/// registry with the API does, so clients skip the tag fallback).
struct ReferrersFront {
    addr: String,
}

impl ReferrersFront {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let index: Arc<Mutex<HashMap<String, Vec<Value>>>> = Arc::default();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let index = Arc::clone(&index);
                std::thread::spawn(move || {
                    let _ = serve(conn, &index);
                });
            }
        });
        Self { addr }
    }
}

fn serve(conn: TcpStream, index: &Mutex<HashMap<String, Vec<Value>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let first: Vec<String> = head[0].split_whitespace().map(str::to_owned).collect();
    let (method, path) = (first[0].as_str(), first[1].as_str());
    let mut out = conn;
    if let Some((repo, digest)) = path
        .strip_prefix("/v2/")
        .and_then(|p| p.rsplit_once("/referrers/"))
        .filter(|(_, d)| d.starts_with("sha256:") && !d.contains('/'))
    {
        let digest = digest.split('?').next().unwrap();
        let list = index
            .lock()
            .unwrap()
            .get(&format!("{repo}@{digest}"))
            .cloned()
            .unwrap_or_default();
        let body = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": list,
        })
        .to_string();
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    let mut up = TcpStream::connect("127.0.0.1:5000")?;
    for l in &head {
        up.write_all(l.as_bytes())?;
    }
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let subject = (method == "PUT" && path.contains("/manifests/"))
        .then(|| serde_json::from_slice::<Value>(&body).ok())
        .flatten()
        .filter(|m| m["subject"]["digest"].is_string());
    if let Some(m) = subject {
        let repo = path
            .strip_prefix("/v2/")
            .unwrap()
            .split("/manifests/")
            .next()
            .unwrap();
        let subject = m["subject"]["digest"].as_str().unwrap().to_owned();
        let descriptor = serde_json::json!({
            "mediaType": m["mediaType"],
            "digest": sha256(&body),
            "size": body.len(),
            "artifactType": m["artifactType"],
            "annotations": m["annotations"],
        });
        index
            .lock()
            .unwrap()
            .entry(format!("{repo}@{subject}"))
            .or_default()
            .push(descriptor);
        let at = response.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        let header = format!("OCI-Subject: {subject}\r\n");
        response.splice(at..at, header.bytes());
    }
    out.write_all(&response)
}

#[test]
fn a_registry_with_the_referrers_api_is_asked_through_it() {
    registries_up();
    let root = trusted_root().display().to_string();
    let front = ReferrersFront::start();
    let (reference, _, digest) = push_unique("refapi");
    let repo = repo_of(&reference).to_owned();
    let via_front = format!("{}/{repo}@{digest}", front.addr);
    sigstore_local(&["sign-image", &via_front]);
    let cache = tempfile::tempdir().unwrap();
    let args = |r: &str| -> Vec<String> {
        [
            r,
            "--certificate-identity",
            "signer@customs.test",
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            &root,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let a = args(&via_front);
    let (code, v, err) = verify(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        cache.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["referrers_api"], true);
    assert_eq!(codes(&v), ["ok"]);
    // The signer saw OCI-Subject and wrote no fallback tag: the registry itself, without the
    // front, shows no signature, so the one found above came through the API.
    let direct = format!("127.0.0.1:5000/{repo}@{digest}");
    let a = args(&direct);
    let (code, v, _) = verify(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        cache.path(),
    );
    assert_eq!((code, v["code"].as_str()), (1, Some("no-signature")));
}

#[test]
fn a_trust_policy_decides_who_must_have_signed() {
    registries_up();
    let root = trusted_root();
    let (reference, _, digest) = push_unique("policy");
    let dir = tempfile::tempdir().unwrap();
    keypair(dir.path(), "a", false);
    keypair(dir.path(), "b", false);
    let cache = tempfile::tempdir().unwrap();
    let key = dir.path().join("a.key").display().to_string();
    assert_eq!(
        customs(&["sign", &reference, "--key", &key], cache.path()).code,
        0
    );
    sigstore_local(&["sign-image", &reference]);

    let with_policy = |file: &Path| {
        customs(
            &[
                "verify",
                &reference,
                "--trust-policy",
                &file.display().to_string(),
                "-f",
                "json",
            ],
            cache.path(),
        )
    };
    // (mode, required, key file, identity pattern, repository glob) -> (exit, outcome, code)
    let run = |mode: &str, required: u32, key: &str, identity: &str, glob: &str| {
        let policy = format!(
            "version: 1\npolicies:\n  - name: test\n    repositories: [\"{glob}\"]\n    \
             mode: {mode}\n    required: {required}\n    authorities:\n      - name: release\n        \
             key: {key}\n      - name: ci\n        keyless:\n          identity-regexp: '{identity}'\n          \
             issuer: {ISSUER}\n          trusted-root: {}\n",
            root.display()
        );
        let file = dir.path().join("trust.yaml");
        std::fs::write(&file, policy).unwrap();
        let r = with_policy(&file);
        let v = r.json();
        assert_eq!(v["digest"], digest.as_str());
        (
            r.code,
            v["outcome"].as_str().unwrap().to_owned(),
            v["code"].as_str().map(str::to_owned),
        )
    };
    let repo = "127.0.0.1:5000/customs-test/*";
    let pass = (0, "pass".to_owned(), None);
    assert_eq!(run("enforce", 2, "a.pub", ".*@customs\\.test", repo), pass);
    // One of two is enough when one is required.
    assert_eq!(run("enforce", 1, "b.pub", ".*@customs\\.test", repo), pass);
    let fail = |code: &str| (1, "fail".to_owned(), Some(code.to_owned()));
    assert_eq!(
        run("enforce", 2, "b.pub", ".*@customs\\.test", repo),
        fail("untrusted-key")
    );
    assert_eq!(
        run("enforce", 2, "a.pub", "mallory@.*", repo),
        fail("identity-mismatch")
    );
    // The pattern must match the whole identity.
    assert_eq!(
        run("enforce", 2, "a.pub", "signer", repo),
        fail("identity-mismatch")
    );
    // Warn: reported, exit 0.
    let warned = run("warn", 2, "b.pub", ".*@customs\\.test", repo);
    assert_eq!(
        warned,
        (0, "warn".to_owned(), Some("untrusted-key".to_owned()))
    );
    // A repository no policy names is refused, not passed.
    assert_eq!(
        run("enforce", 1, "a.pub", ".*", "elsewhere/*"),
        fail("no-policy")
    );
    // `*` does not cross a path segment.
    assert_eq!(
        run("enforce", 1, "a.pub", ".*", "127.0.0.1:5000/*"),
        fail("no-policy")
    );
    // Notation's skip: nothing is read, and the verdict says so rather than `pass`.
    let file = dir.path().join("skip.yaml");
    std::fs::write(
        &file,
        format!("version: 1\npolicies:\n  - name: scratch\n    repositories: [\"{repo}\"]\n    mode: skip\n"),
    )
    .unwrap();
    let r = with_policy(&file);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (&v["outcome"], &v["code"], &v["satisfied"], &v["signatures"]),
        (
            &"skip".into(),
            &"verification-skipped".into(),
            &false.into(),
            &0.into()
        ),
        "{v}"
    );
    assert!(r.stderr.contains("skips verification"), "{}", r.stderr);
}

#[test]
fn scan_with_a_trust_policy_scans_the_verified_digest_and_stores_the_verdict() {
    registries_up();
    let (reference, _, digest) = push_unique("scanpolicy");
    let (unsigned, _, _) = push_unique("scanunsigned");
    let dir = tempfile::tempdir().unwrap();
    keypair(dir.path(), "a", false);
    let cache = tempfile::tempdir().unwrap();
    let key = dir.path().join("a.key").display().to_string();
    assert_eq!(
        customs(&["sign", &reference, "--key", &key], cache.path()).code,
        0
    );
    let policy = dir.path().join("trust.yaml");
    std::fs::write(
        &policy,
        "version: 1\npolicies:\n  - name: ours\n    repositories: [\"127.0.0.1:5000/customs-test/*\"]\n    \
         authorities:\n      - name: release\n        key: a.pub\n",
    )
    .unwrap();
    let store = dir.path().join("store.db");
    let store_url = format!("sqlite:{}", store.display());
    let scan = |source: &str| {
        customs(
            &[
                "scan",
                "-f",
                "json",
                "--store",
                "--store-url",
                &store_url,
                "--trust-policy",
                &policy.display().to_string(),
                source,
            ],
            cache.path(),
        )
    };
    let r = scan(&reference);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["schema"], "customs.scan/1.9");
    assert_eq!(v["signature"]["outcome"], "pass");
    assert_eq!(v["signature"]["policy"], "ours");
    assert_eq!(v["signature"]["digest"], digest.as_str());
    // What was scanned is the digest that was verified.
    assert_eq!(
        v["image"]["manifest_digest"],
        digest.as_str(),
        "{}",
        v["image"]
    );
    // The verdict is kept with the stored scan.
    let mut s = customs_store::open(&store_url).unwrap();
    let stored = s.image(&digest).unwrap().expect("stored");
    let kept = stored.signature.expect("a stored verdict");
    assert_eq!(kept.verdict["outcome"], "pass");
    assert_eq!(kept.verdict["authorities"][0]["name"], "release");

    // Unsigned: the scan's report is written, the verdict fails, exit 1.
    let r = scan(&unsigned);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["signature"]["code"], "no-signature");
    assert!(
        r.stderr.contains("signature: fail: no-signature"),
        "{}",
        r.stderr
    );
    // The verdict is in the other formats too, and they stay valid: a SARIF result (an
    // error), CycloneDX metadata properties, a section of the HTML page.
    let sarif = dir.path().join("scan.sarif");
    let cdx = dir.path().join("scan.cdx.json");
    let html = dir.path().join("scan.html");
    let r = customs(
        &[
            "scan",
            "--trust-policy",
            &policy.display().to_string(),
            "-o",
            &format!("sarif={}", sarif.display()),
            "-o",
            &format!("cyclonedx={}", cdx.display()),
            "-o",
            &format!("html={}", html.display()),
            &unsigned,
        ],
        cache.path(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    crate::formats::check_sarif(&sarif);
    crate::formats::check_cyclonedx(&cdx);
    let s: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let result = s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "customs/image-signature")
        .expect("a signature result");
    assert_eq!(result["level"], "error");
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("no-signature"),
        "{result}"
    );
    let c: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    assert!(
        c["metadata"]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "customs:signature:code" && p["value"] == "no-signature"),
        "{}",
        c["metadata"]
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("data-outcome=\"fail\""),
        "no signature section"
    );
    // A source outside a registry cannot show signatures: it fails, it is not passed.
    let oci = corpus().join("debian-app/oci");
    let r = scan(&format!("oci:{}", oci.display()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["signature"]["code"], "not-in-registry");
}

/// An OCI index in `repo` (tag `idx`) whose one entry is `manifest`, for this machine's
/// platform; returns its reference and digest.
fn index_of(repo: &str, manifest: &str) -> (String, String) {
    let bytes = get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/manifests/{manifest}"
    ));
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest,
            "size": bytes.len(),
            "platform": {"os": "linux", "architecture": arch},
        }],
    })
    .to_string();
    put_document(
        repo,
        "idx",
        index.as_bytes(),
        "application/vnd.oci.image.index.v1+json",
    );
    (
        format!("127.0.0.1:5000/{repo}:idx"),
        sha256(index.as_bytes()),
    )
}

#[test]
fn for_an_index_the_policy_says_whether_the_index_or_the_platform_must_be_signed() {
    registries_up();
    let dir = tempfile::tempdir().unwrap();
    keypair(dir.path(), "a", false);
    let key = dir.path().join("a.key").display().to_string();
    let cache = tempfile::tempdir().unwrap();
    // A: only the index is signed. B: only the platform manifest is.
    let (a_ref, _, a_manifest) = push_unique("index-a");
    let (a_index, a_digest) = index_of(repo_of(&a_ref), &a_manifest);
    assert_eq!(
        customs(&["sign", &a_index, "--key", &key], cache.path()).code,
        0
    );
    let (b_ref, _, b_manifest) = push_unique("index-b");
    let (b_index, _) = index_of(repo_of(&b_ref), &b_manifest);
    let b_platform = format!("127.0.0.1:5000/{}@{b_manifest}", repo_of(&b_ref));
    assert_eq!(
        customs(&["sign", &b_platform, "--key", &key], cache.path()).code,
        0
    );

    let run = |image: &str, object: &str| {
        let file = dir.path().join("trust.yaml");
        std::fs::write(
            &file,
            format!(
                "version: 1\npolicies:\n  - name: p\n    repositories: [\"127.0.0.1:5000/**\"]\n    \
                 signed-object: {object}\n    authorities:\n      - name: k\n        key: a.pub\n"
            ),
        )
        .unwrap();
        let r = customs(
            &[
                "verify",
                image,
                "--trust-policy",
                &file.display().to_string(),
                "-f",
                "json",
            ],
            cache.path(),
        );
        let v = r.json();
        (r.code, v["code"].as_str().unwrap_or("ok").to_owned(), v)
    };
    let (code, why, v) = run(&a_index, "either");
    assert_eq!((code, why.as_str()), (0, "ok"), "{v}");
    assert_eq!(v["digest"], a_digest.as_str());
    assert_eq!(v["platform_digest"], a_manifest.as_str());
    assert_eq!(run(&a_index, "index").1, "ok");
    let (code, why, _) = run(&a_index, "platform");
    assert_eq!((code, why.as_str()), (1, "platform-not-signed"));
    assert_eq!(run(&b_index, "either").1, "ok");
    assert_eq!(run(&b_index, "platform").1, "ok");
    let (code, why, _) = run(&b_index, "index");
    assert_eq!((code, why.as_str()), (1, "index-not-signed"));
}

/// A referrer manifest holding `bundle` about `subject` in `repo`, pushed as
/// `sigstore-local.sh sign-image` pushes one (with the `sha256-<hex>` tag fallback).
fn push_referrer(repo: &str, subject: &str, bundle: &[u8], predicate: &str) {
    let subject_bytes = get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/manifests/{subject}"
    ));
    let layer = put_blob(repo, bundle);
    let empty = put_blob(repo, b"{}");
    let bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": bundle_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": bundle_type, "digest": layer, "size": bundle.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": subject, "size": subject_bytes.len()},
        "annotations": {"dev.sigstore.bundle.predicateType": predicate},
    })
    .to_string();
    let digest = sha256(manifest.as_bytes());
    put_manifest(repo, &digest, manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": digest, "size": manifest.len(), "artifactType": bundle_type,
                       "annotations": {"dev.sigstore.bundle.predicateType": predicate}}],
    })
    .to_string();
    put_document(
        repo,
        &subject.replacen(':', "-", 1),
        index.as_bytes(),
        "application/vnd.oci.image.index.v1+json",
    );
}

#[test]
fn attestations_keyed_and_keyless_are_verified_by_type_subject_and_signer() {
    registries_up();
    let root = trusted_root().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    keypair(dir.path(), "a", false);
    keypair(dir.path(), "b", true);
    let k = |f: &str| dir.path().join(f).display().to_string();
    let cache = tempfile::tempdir().unwrap();
    let (reference, _, digest) = push_unique("attested");
    let repo = repo_of(&reference).to_owned();
    // A CycloneDX SBOM made by customs itself is the predicate.
    let bom = dir.path().join("bom.cdx.json");
    let r = customs(
        &[
            "sbom",
            "-o",
            &format!("cyclonedx={}", bom.display()),
            &reference,
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = customs(
        &[
            "attest",
            &reference,
            "--key",
            &k("a.key"),
            "--type",
            "cyclonedx",
            "--predicate",
            &bom.display().to_string(),
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let verify = |kind: &str, who: &[&str]| {
        let mut args = vec![
            "verify-attestation",
            reference.as_str(),
            "--type",
            kind,
            "-f",
            "json",
        ];
        args.extend_from_slice(who);
        let r = customs(&args, cache.path());
        let v = r.json();
        (r.code, v["code"].as_str().unwrap_or("ok").to_owned(), v)
    };
    let a_pub = k("a.pub");
    let (code, why, v) = verify("cyclonedx", &["--key", &a_pub]);
    assert_eq!((code, why.as_str()), (0, "ok"), "{v}");
    let statement = &v["attestations"][0]["verified"]["statement"];
    assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );
    assert_eq!(statement["predicate"]["bomFormat"], "CycloneDX");
    let b_pub = k("b.pub");
    assert_eq!(verify("cyclonedx", &["--key", &b_pub]).1, "untrusted-key");
    assert_eq!(verify("openvex", &["--key", &a_pub]).1, "no-attestation");
    // The attestation is not a signature.
    let (code, v, _) = self::verify(&[&reference, "--key", &a_pub], cache.path());
    assert_eq!((code, v["code"].as_str()), (1, Some("no-signature")));

    // Keyless, cosign v3: npm sigstore (through sigstore-local) attests the manifest's bytes,
    // whose digest is the image's; the bundle is attached as a referrer.
    let manifest = get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/manifests/{digest}"
    ));
    let subject = dir.path().join("manifest.json");
    std::fs::write(&subject, &manifest).unwrap();
    let vex = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}"#;
    let bundle = sigstore_local(&[
        "attest-blob",
        &subject.display().to_string(),
        "https://openvex.dev/ns",
        vex,
    ]);
    let bundle = std::fs::read(bundle).unwrap();
    push_referrer(&repo, &digest, &bundle, "https://openvex.dev/ns");
    let who = [
        "--certificate-identity",
        "signer@customs.test",
        "--certificate-oidc-issuer",
        ISSUER,
        "--trusted-root",
        &root,
    ];
    let (code, why, v) = verify("openvex", &who);
    assert_eq!((code, why.as_str()), (0, "ok"), "{v}");
    assert_eq!(v["attestations"][0]["layout"], "bundle");
    assert_eq!(
        v["attestations"][0]["verified"]["statement"]["predicate"]["statements"],
        serde_json::json!([])
    );
    let mallory = [
        "--certificate-identity",
        "mallory@customs.test",
        "--certificate-oidc-issuer",
        ISSUER,
        "--trusted-root",
        &root,
    ];
    assert_eq!(verify("openvex", &mallory).1, "identity-mismatch");
    // The keyed CycloneDX attestation is still found and still the only one of its type.
    assert_eq!(verify("cyclonedx", &["--key", &a_pub]).2["verified"], 1);
}

#[test]
fn an_encrypted_cosign_key_signs_with_its_password() {
    registries_up();
    let (reference, _, _) = push_unique("encrypted-key");
    let keys = shared().join("data/signing/cosign/encrypted-keys");
    let key = keys
        .join("ecdsa_encrypted_private.key")
        .display()
        .to_string();
    let cache = tempfile::tempdir().unwrap();
    let with_password = |args: &[&str], password: &str| {
        crate::common::customs_with(
            Command::new(env!("CARGO_BIN_EXE_customs"))
                .args(args)
                .env("COSIGN_PASSWORD", password),
            cache.path(),
        )
    };
    let r = with_password(&["sign", &reference, "--key", &key], "wrong");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("wrong password"), "{}", r.stderr);
    let r = with_password(&["public-key", "--key", &key], "123");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(public.path(), &r.stdout).unwrap();
    let r = with_password(&["sign", &reference, "--key", &key], "123");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, v, err) = verify(
        &[&reference, "--key", &public.path().display().to_string()],
        cache.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["verified"], 1);
}

/// Every blob and manifest of an OCI layout pushed to `repo` as it is, by digest, with its
/// `ref.name` annotations as tags (the referrers tag fallback index among them).
fn push_layout(dir: &Path, repo: &str) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let blobs = dir.join("blobs/sha256");
    let mut names: Vec<_> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let entries = index["manifests"].as_array().unwrap();
    let is_manifest = |d: &str| entries.iter().any(|m| m["digest"].as_str() == Some(d));
    for p in &names {
        let digest = format!("sha256:{}", p.file_name().unwrap().to_string_lossy());
        if !is_manifest(&digest) {
            put_blob(repo, &std::fs::read(p).unwrap());
        }
    }
    // Manifests before the indexes that list them.
    let mut ordered: Vec<&Value> = entries.iter().collect();
    ordered.sort_by_key(|m| {
        m["mediaType"]
            .as_str()
            .unwrap_or_default()
            .contains("index")
    });
    for m in ordered {
        let digest = m["digest"].as_str().unwrap();
        let bytes = std::fs::read(blobs.join(digest.trim_start_matches("sha256:"))).unwrap();
        let media_type = m["mediaType"].as_str().unwrap();
        put_document(repo, digest, &bytes, media_type);
        if let Some(tag) = m["annotations"]["org.opencontainers.image.ref.name"].as_str() {
            put_document(repo, tag, &bytes, media_type);
        }
    }
}

#[test]
fn notation_signatures_in_the_registry_are_verified_against_a_trust_store() {
    registries_up();
    let layouts = shared().join("data/signing/notation/notation-cli/oci-layouts");
    let certs = shared().join("data/signing/notation/notation-cli/certs");
    let stamp = std::process::id();
    let valid = format!("customs-test/notation-valid-{stamp}");
    let expired = format!("customs-test/notation-expired-{stamp}");
    push_layout(&layouts.join("e2e-valid-signature"), &valid);
    push_layout(&layouts.join("e2e-expired-signature"), &expired);
    let store = tempfile::tempdir().unwrap();
    std::fs::copy(certs.join("e2e.crt"), store.path().join("e2e.crt")).unwrap();
    let store = store.path().display().to_string();
    let cache = tempfile::tempdir().unwrap();
    let image = |repo: &str| format!("127.0.0.1:5000/{repo}:v1");
    let notation = |repo: &str, level: &str| {
        verify(
            &[
                &image(repo),
                "--notation-trust-store",
                &store,
                "--notation-level",
                level,
            ],
            cache.path(),
        )
    };
    let (code, v, err) = notation(&valid, "strict");
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["signatures"][0]["layout"], "notation");
    assert!(
        v["signatures"][0]["verified"]["identity"]
            .as_str()
            .unwrap()
            .contains("e2e"),
        "{v}"
    );
    // Its signature expired in 2023: strict refuses, permissive passes and logs it.
    let (code, v, _) = notation(&expired, "strict");
    assert_eq!((code, v["code"].as_str()), (1, Some("signature-expired")));
    let (code, v, _) = notation(&expired, "permissive");
    assert_eq!(code, 0);
    assert!(
        v["signatures"][0]["verified"]["logged"][0]
            .as_str()
            .unwrap()
            .starts_with("signature-expired")
    );
    // Another trust store: not authentic.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(certs.join("new_e2e.crt"), other.path().join("new_e2e.crt")).unwrap();
    let (code, v, _) = verify(
        &[
            &image(&valid),
            "--notation-trust-store",
            &other.path().display().to_string(),
        ],
        cache.path(),
    );
    assert_eq!(
        (code, v["code"].as_str()),
        (1, Some("certificate-untrusted"))
    );
    // A cosign key does not accept a Notation signature.
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), "a", false);
    let (code, v, _) = verify(
        &[
            &image(&valid),
            "--key",
            &keys.path().join("a.pub").display().to_string(),
        ],
        cache.path(),
    );
    assert_eq!((code, v["code"].as_str()), (1, Some("other-scheme")));
    // A trust policy with a Notation authority.
    let policy = keys.path().join("trust.yaml");
    std::fs::write(
        &policy,
        format!(
            "version: 1\npolicies:\n  - name: n\n    repositories: [\"127.0.0.1:5000/customs-test/**\"]\n    \
             authorities:\n      - name: e2e\n        notation:\n          trust-store: {store}\n          \
             level: strict\n"
        ),
    )
    .unwrap();
    for (repo, expect) in [(&valid, "pass"), (&expired, "fail")] {
        let r = customs(
            &[
                "verify",
                &image(repo),
                "--trust-policy",
                &policy.display().to_string(),
                "-f",
                "json",
            ],
            cache.path(),
        );
        assert_eq!(r.json()["outcome"], expect, "{repo}: {}", r.stdout);
    }
}

/// `sigstore-local.sh verify-blob` (sigstore-python 4.3, offline): its exit status.
fn python_verifies(file: &Path, bundle: &Path, who: &str) -> bool {
    Command::new("bash")
        .arg(shared().join("tools/sigstore-local.sh"))
        .args([
            "verify-blob",
            &file.display().to_string(),
            &bundle.display().to_string(),
            who,
        ])
        .env("CUSTOMS_CORPUS", corpus().parent().unwrap())
        .output()
        .expect("bash")
        .status
        .success()
}

#[test]
fn customs_signs_keylessly_and_sigstore_python_verifies_and_the_reverse() {
    let root = trusted_root();
    let url = "http://127.0.0.1:5010";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("artifact.txt");
    std::fs::write(&file, b"signed by customs, checked by sigstore-python\n").unwrap();
    let token = sigstore_local(&["token", "signer@customs.test"]);
    let cache = tempfile::tempdir().unwrap();
    let r = customs(
        &[
            "sign-blob",
            &file.display().to_string(),
            "--identity-token",
            &token,
            "--fulcio-url",
            url,
            "--rekor-url",
            url,
            "--trusted-root",
            &root.display().to_string(),
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bundle = PathBuf::from(r.stdout.trim());
    assert!(python_verifies(&file, &bundle, "signer@customs.test"));
    // The same bundle for another file or another identity: sigstore-python refuses it.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, b"something else\n").unwrap();
    assert!(!python_verifies(&other, &bundle, "signer@customs.test"));
    assert!(!python_verifies(&file, &bundle, "mallory@customs.test"));
    // A token that is not a JWT is an error, before anything is asked of the services.
    let r = customs(
        &[
            "sign-blob",
            &file.display().to_string(),
            "--identity-token",
            "nonsense",
            "--fulcio-url",
            url,
            "--rekor-url",
            url,
        ],
        cache.path(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a JWT"), "{}", r.stderr);

    // The reverse: sigstore-python signs, customs verifies.
    let theirs = PathBuf::from(sigstore_local(&["sign-blob", &other.display().to_string()]));
    let verify_blob = |target: &Path, who: &str| {
        customs(
            &[
                "verify-blob",
                "--bundle",
                &theirs.display().to_string(),
                "--certificate-identity",
                who,
                "--certificate-oidc-issuer",
                ISSUER,
                "--trusted-root",
                &root.display().to_string(),
                &target.display().to_string(),
            ],
            cache.path(),
        )
        .code
    };
    assert_eq!(verify_blob(&other, "signer@customs.test"), 0);
    assert_eq!(verify_blob(&file, "signer@customs.test"), 1);
    assert_eq!(verify_blob(&other, "mallory@customs.test"), 1);
}

#[test]
fn customs_signs_an_image_keylessly_in_cosign_v3s_layout() {
    registries_up();
    let root = trusted_root().display().to_string();
    let url = "http://127.0.0.1:5010";
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let front = ReferrersFront::start();
    let (plain, _, plain_digest) = push_unique("v3-signed");
    let (fronted, _, fronted_digest) = push_unique("v3-front");
    let via_front = format!("{}/{}@{fronted_digest}", front.addr, repo_of(&fronted));
    for (image, digest, fallback) in [
        (&plain, &plain_digest, true),
        (&via_front, &fronted_digest, false),
    ] {
        let token = sigstore_local(&["token", "signer@customs.test"]);
        let bundle = dir
            .path()
            .join(format!("{}.json", digest.replace(':', "-")));
        let r = customs(
            &[
                "sign",
                image,
                "--identity-token",
                &token,
                "--fulcio-url",
                url,
                "--rekor-url",
                url,
                "--trusted-root",
                &root,
                "--output-bundle",
                &bundle.display().to_string(),
                "-f",
                "json",
            ],
            cache.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v = r.json();
        assert_eq!(v["digest"], digest.as_str());
        // Only a registry without the referrers API needs the tag.
        assert_eq!(v["fallback_tag"].is_string(), fallback, "{v}");
        let (code, v, err) = verify(
            &[
                image,
                "--certificate-identity",
                "signer@customs.test",
                "--certificate-oidc-issuer",
                ISSUER,
                "--trusted-root",
                &root,
            ],
            cache.path(),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(v["signatures"][0]["layout"], "bundle");
        assert_eq!(v["referrers_api"], !fallback);
        // sigstore-python checks the same bundle for the image's digest.
        assert!(python_verifies(
            Path::new(digest),
            &bundle,
            "signer@customs.test"
        ));
    }
}

/// sigstore-rs, the oracle the issue names for cosign's legacy layout, signs images with its own
/// registry client and keys (P-256, Ed25519, RSA PKCS#1 v1.5) and customs verifies them; then
/// customs signs and sigstore-rs finds the `.sig` manifest and verifies it, and refuses it for
/// another key. Neither side shares code with the other.
#[test]
fn sigstore_rs_and_customs_verify_each_others_legacy_signatures() {
    use sigstore::cosign::constraint::{Constraint as _, PrivateKeySigner};
    use sigstore::cosign::verification_constraint::{
        PublicKeyVerifier, VerificationConstraint as _,
    };
    use sigstore::cosign::{ClientBuilder, CosignCapabilities as _, SignatureLayer};
    use sigstore::crypto::SigningScheme;
    use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};

    registries_up();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut client = ClientBuilder::default()
        .with_oci_client_config(ClientConfig {
            protocol: ClientProtocol::Http,
            ..Default::default()
        })
        .build()
        .unwrap();
    let keys = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut public_keys = Vec::new();

    for (n, scheme) in [
        SigningScheme::ECDSA_P256_SHA256_ASN1,
        SigningScheme::ED25519,
        SigningScheme::RSA_PKCS1_SHA256(2048),
    ]
    .into_iter()
    .enumerate()
    {
        let (reference, _, digest) = push_unique("oracle");
        let image: OciReference = reference.parse().unwrap();
        let signer = scheme.create_signer().unwrap();
        let public = signer
            .to_sigstore_keypair()
            .unwrap()
            .public_key_to_pem()
            .unwrap();
        let key = keys.path().join(format!("{n}.pub"));
        std::fs::write(&key, &public).unwrap();
        public_keys.push(key.clone());
        rt.block_on(async {
            let (sig_image, source_digest) =
                client.triangulate(&image, &Auth::Anonymous).await.unwrap();
            assert_eq!(source_digest, digest);
            let mut layer = SignatureLayer::new_unsigned(&image, &source_digest).unwrap();
            assert!(
                PrivateKeySigner::new_with_signer(signer)
                    .add_constraint(&mut layer)
                    .unwrap()
            );
            client
                .push_signature(None, &Auth::Anonymous, &sig_image, vec![layer])
                .await
                .unwrap();
        });
        let (code, v, err) = verify(
            &[&reference, "--key", &key.display().to_string()],
            cache.path(),
        );
        assert_eq!(code, 0, "{scheme}: {err}");
        assert_eq!(codes(&v), ["ok"], "{scheme}");
        assert_eq!(v["digest"], digest.as_str());
        // Another scheme's key does not verify it.
        if n > 0 {
            let other = public_keys[n - 1].display().to_string();
            let (code, v, _) = verify(&[&reference, "--key", &other], cache.path());
            assert_eq!(
                (code, codes(&v)),
                (1, vec!["untrusted-key".to_owned()]),
                "{scheme}"
            );
        }
    }

    // The reverse: customs signs (P-256, Ed25519), sigstore-rs reads the `.sig` manifest.
    let (reference, _, digest) = push_unique("oracle-reverse");
    let image: OciReference = reference.parse().unwrap();
    for (name, ed25519) in [("p256", false), ("ed", true)] {
        keypair(keys.path(), name, ed25519);
        let key = keys
            .path()
            .join(format!("{name}.key"))
            .display()
            .to_string();
        let r = customs(&["sign", &reference, "--key", &key], cache.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let layers = rt.block_on(async {
        let (_, source_digest) = client.triangulate(&image, &Auth::Anonymous).await.unwrap();
        assert_eq!(source_digest, digest);
        client
            .trusted_signature_layers(&Auth::Anonymous, &image)
            .await
            .unwrap()
    });
    assert_eq!(layers.len(), 2);
    for (name, scheme) in [
        ("p256", SigningScheme::ECDSA_P256_SHA256_ASN1),
        ("ed", SigningScheme::ED25519),
    ] {
        let public = std::fs::read(keys.path().join(format!("{name}.pub"))).unwrap();
        let verifier = PublicKeyVerifier::new(&public, &scheme).unwrap();
        let verified: Vec<bool> = layers.iter().map(|l| verifier.verify(l).unwrap()).collect();
        assert_eq!(
            verified.iter().filter(|v| **v).count(),
            1,
            "{name}: {verified:?}"
        );
    }
    // A key that signed nothing here verifies no layer.
    let stranger = std::fs::read(&public_keys[0]).unwrap();
    let verifier =
        PublicKeyVerifier::new(&stranger, &SigningScheme::ECDSA_P256_SHA256_ASN1).unwrap();
    assert!(layers.iter().all(|l| !verifier.verify(l).unwrap()));
}

/// Another local Sigstore on `port`, in `CORPUS/NAME`, whose clock is `shift` seconds off
/// and kept to whole seconds: its Node process loads `tests/fixtures/sigstore/clock-shift.js`,
/// which moves `Date`. It shares the first server's installed packages (installed when the
/// first is up). Returns its trusted root.
fn sigstore_shifted(name: &str, port: u16, shift: i64) -> Value {
    trusted_root();
    let first = sigstore_dir();
    let root = first.parent().unwrap().join(name);
    std::fs::create_dir_all(&root).unwrap();
    for d in ["node", "venv"] {
        let link = root.join(d);
        if std::fs::symlink_metadata(&link).is_err() {
            // The first server's folder may itself hold links: point at what they name.
            let target = std::fs::canonicalize(first.join(d)).unwrap();
            std::os::unix::fs::symlink(target, &link).unwrap();
        }
    }
    let preload =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore/clock-shift.js");
    let require = format!("--require={}", preload.display());
    let shift_s = shift.to_string();
    sigstore_local_with(
        &["up", &port.to_string()],
        &[
            ("SIGSTORE_ROOT", root.as_os_str()),
            ("NODE_OPTIONS", require.as_ref()),
            ("CUSTOMS_CLOCK_SHIFT_S", shift_s.as_ref()),
        ],
    );
    serde_json::from_slice(&std::fs::read(root.join("trusted_root.json")).unwrap()).unwrap()
}

fn post_json(url: &str, body: &Value) -> Value {
    serde_json::from_slice(&send(
        "POST",
        url,
        "application/json",
        body.to_string().as_bytes(),
    ))
    .unwrap()
}

/// Whether a legacy signature carries a timestamp from the TSA on :5012 (whole seconds), and of
/// what.
#[derive(Clone, Copy, PartialEq)]
enum Tsa {
    No,
    /// Of the signature's bytes, as cosign asks for one.
    OfSignature,
    /// Of the payload instead: a timestamp of something else.
    OfPayload,
}

/// What cosign 2 pushes for `cosign sign` with an identity token: a key made for the one
/// signature, a certificate for it from the CA at `fulcio`, the simple signing payload's
/// signature entered in the Rekor log at `rekor`, and a `.sig` manifest whose layer carries
/// the signature, the certificate, the chain and the log entry as annotations (and, with a
/// [`Tsa`], `cosign sign --timestamp-server-url`'s RFC 3161 timestamp).
fn push_legacy_keyless(reference: &str, digest: &str, fulcio: &str, rekor: &str, tsa: Tsa) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let identity = "signer@customs.test";
    let key = customs_sign::SigningKey::generate_p256().unwrap();
    let token = sigstore_local(&["token", identity]);
    let answer = post_json(
        &format!("{fulcio}/api/v2/signingCert"),
        &serde_json::json!({
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": key.verifying_key().to_pem()},
                "proofOfPossession": b64.encode(key.sign(identity.as_bytes())),
            },
        }),
    );
    let chain: Vec<&str> = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let repo = repo_of(reference);
    let payload = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": format!("127.0.0.1:5000/{repo}")},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": null,
    })
    .to_string();
    let raw_signature = key.sign(payload.as_bytes());
    let signature = b64.encode(&raw_signature);
    let entries = post_json(
        &format!("{rekor}/api/v1/log/entries"),
        &serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256",
                                  "value": hex::encode(sha2::Sha256::digest(payload.as_bytes()))}},
                "signature": {"content": signature, "publicKey": {"content": b64.encode(chain[0])}},
            },
        }),
    );
    let entry = entries.as_object().unwrap().values().next().unwrap();
    let rekor_bundle = serde_json::json!({
        "SignedEntryTimestamp": entry["verification"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["body"],
            "integratedTime": entry["integratedTime"],
            "logIndex": entry["logIndex"],
            "logID": entry["logID"],
        },
    });
    let mut annotations = serde_json::json!({
        "dev.cosignproject.cosign/signature": signature,
        "dev.sigstore.cosign/certificate": chain[0],
        "dev.sigstore.cosign/chain": chain[1..].concat(),
        "dev.sigstore.cosign/bundle": rekor_bundle.to_string(),
    });
    if tsa != Tsa::No {
        let stamped = if tsa == Tsa::OfSignature {
            raw_signature
        } else {
            payload.as_bytes().to_vec()
        };
        let answer = send(
            "POST",
            "http://127.0.0.1:5012/api/v1/timestamp",
            "application/json",
            serde_json::json!({
                "artifactHash": b64.encode(sha2::Sha256::digest(&stamped)),
                "hashAlgorithm": "sha256",
                "certificates": true,
            })
            .to_string()
            .as_bytes(),
        );
        annotations["dev.sigstore.cosign/rfc3161timestamp"] =
            serde_json::json!({"SignedRFC3161Timestamp": b64.encode(&answer)})
                .to_string()
                .into();
    }
    let config = put_blob(repo, b"{}");
    let layer = put_blob(repo, payload.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": layer,
            "size": payload.len(),
            "annotations": annotations,
        }],
    });
    let tag = format!("{}.sig", digest.replacen(':', "-", 1));
    put_manifest(repo, &tag, manifest.to_string().as_bytes());
}

/// A keyless legacy signature whose certificate had expired when the log took it in is
/// refused (`certificate-expired`), though every signature in it is good: the same signature
/// made the same way with a CA whose clock is right verifies. The CA that is a day behind is a
/// second local Sigstore; the trusted root given names its CA and CT log and the first one's
/// Rekor log, so only the time is wrong.
#[test]
fn a_certificate_that_expired_before_its_log_entry_is_refused() {
    registries_up();
    let now_root: Value = serde_json::from_slice(&std::fs::read(trusted_root()).unwrap()).unwrap();
    let behind = sigstore_shifted("sigstore-behind", 5011, -86_400);
    let mut behind_root = now_root.clone();
    behind_root["certificateAuthorities"] = behind["certificateAuthorities"].clone();
    behind_root["ctlogs"] = behind["ctlogs"].clone();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let rekor = "http://127.0.0.1:5010";
    for (fulcio, root, expect) in [
        ("http://127.0.0.1:5010", &now_root, (0, "ok")),
        (
            "http://127.0.0.1:5011",
            &behind_root,
            (1, "certificate-expired"),
        ),
    ] {
        let (reference, _, digest) = push_unique("keyless-legacy");
        push_legacy_keyless(&reference, &digest, fulcio, rekor, Tsa::No);
        let root_file = dir.path().join(format!("{}.json", expect.1));
        std::fs::write(&root_file, root.to_string()).unwrap();
        let (code, v, err) = verify(
            &[
                &reference,
                "--certificate-identity",
                "signer@customs.test",
                "--certificate-oidc-issuer",
                ISSUER,
                "--trusted-root",
                &root_file.display().to_string(),
            ],
            cache.path(),
        );
        assert_eq!(code, expect.0, "{fulcio}: {err}");
        assert_eq!(codes(&v), [expect.1], "{fulcio}: {v}");
        assert_eq!(v["signatures"][0]["layout"], "legacy", "{v}");
    }
}

/// A legacy keyless signature with an RFC 3161 timestamp (the
/// `dev.sigstore.cosign/rfc3161timestamp` annotation): the timestamp is checked, not only
/// carried. Of the signature, it verifies; of other bytes, or with a trusted root that knows no
/// timestamp authority, the signature is refused though its Rekor entry is good. The TSA is a
/// second local Sigstore's (:5012), whose clock keeps to whole seconds (see clock-shift.js).
#[test]
fn a_legacy_signatures_timestamp_is_checked() {
    registries_up();
    let mut root: Value = serde_json::from_slice(&std::fs::read(trusted_root()).unwrap()).unwrap();
    root["timestampAuthorities"] =
        sigstore_shifted("sigstore-seconds", 5012, 0)["timestampAuthorities"].clone();
    assert!(!root["timestampAuthorities"].as_array().unwrap().is_empty());
    let mut no_tsa = root.clone();
    no_tsa["timestampAuthorities"] = serde_json::json!([]);
    let dir = tempfile::tempdir().unwrap();
    let root_file = dir.path().join("with-tsa.json");
    std::fs::write(&root_file, root.to_string()).unwrap();
    let no_tsa_file = dir.path().join("no-tsa.json");
    std::fs::write(&no_tsa_file, no_tsa.to_string()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let url = "http://127.0.0.1:5010";
    let judge = |tsa: Tsa, root: &Path| {
        let (reference, _, digest) = push_unique("keyless-tsa");
        push_legacy_keyless(&reference, &digest, url, url, tsa);
        let (code, v, err) = verify(
            &[
                &reference,
                "--certificate-identity",
                "signer@customs.test",
                "--certificate-oidc-issuer",
                ISSUER,
                "--trusted-root",
                &root.display().to_string(),
            ],
            cache.path(),
        );
        assert_ne!(code, 2, "{err}");
        (code, codes(&v)[0].clone(), v)
    };
    let (code, c, v) = judge(Tsa::OfSignature, &root_file);
    assert_eq!((code, c.as_str()), (0, "ok"), "{v}");
    let (code, c, v) = judge(Tsa::OfPayload, &root_file);
    assert_eq!(code, 1, "{v}");
    assert!(c.starts_with("timestamp-"), "{v}");
    let (code, c, v) = judge(Tsa::OfSignature, &no_tsa_file);
    assert_eq!(code, 1, "{v}");
    assert!(c.starts_with("timestamp-"), "{v}");
    // Without the annotation the same root without a TSA verifies: the refusal above is the
    // timestamp's.
    let (code, c, v) = judge(Tsa::No, &no_tsa_file);
    assert_eq!((code, c.as_str()), (0, "ok"), "{v}");
}

/// A Sigstore bundle v0.1 attached as the image's signature: it must carry its log entry's
/// signed timestamp (SET), which is all a v0.1 bundle has to prove when it was logged. customs'
/// own keyless v3 bundle, rewritten as the v0.1 bundle holding the same evidence (a chain
/// instead of a lone certificate), verifies; without its SET it is refused, in the registry,
/// where an attacker would swap it in.
#[test]
fn a_v0_1_bundle_without_its_set_is_refused_in_the_registry() {
    registries_up();
    let root = trusted_root().display().to_string();
    let (reference, _, digest) = push_unique("v01");
    let repo = repo_of(&reference);
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = dir.path().join("v03.json");
    let token = sigstore_local(&["token", "signer@customs.test"]);
    let url = "http://127.0.0.1:5010";
    let r = customs(
        &[
            "sign",
            &reference,
            "--identity-token",
            &token,
            "--fulcio-url",
            url,
            "--rekor-url",
            url,
            "--trusted-root",
            &root,
            "--output-bundle",
            &out.display().to_string(),
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let who = [
        "--certificate-identity",
        "signer@customs.test",
        "--certificate-oidc-issuer",
        ISSUER,
        "--trusted-root",
        &root,
    ];
    let mut v01: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    v01["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    let material = v01["verificationMaterial"].as_object_mut().unwrap();
    let leaf = material.remove("certificate").unwrap();
    material.insert(
        "x509CertificateChain".into(),
        serde_json::json!({"certificates": [leaf]}),
    );
    assert!(material["tlogEntries"][0]["inclusionPromise"].is_object());
    let predicate = "https://sigstore.dev/cosign/sign/v1";
    push_referrer(repo, &digest, v01.to_string().as_bytes(), predicate);
    let mut args = vec![reference.as_str()];
    args.extend_from_slice(&who);
    let (code, v, err) = verify(&args, cache.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(codes(&v), ["ok"], "{v}");

    v01["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise");
    push_referrer(repo, &digest, v01.to_string().as_bytes(), predicate);
    let (code, v, err) = verify(&args, cache.path());
    assert_eq!(code, 1, "{err}");
    assert_eq!(codes(&v), ["tlog-set-missing"], "{v}");
}

/// A VEX statement found as an attestation on the image counts only when the trust policy
/// accepts its signer: the one signed by the policy's key suppresses its finding; one signed
/// by another key, and one without a signature, are ignored and the report says why; without
/// a policy for the repository, none counts.
#[test]
fn vex_attestations_count_only_when_the_trust_policy_accepts_the_signer() {
    use base64::Engine as _;
    registries_up();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let repo = format!("customs-test/vex-attested-{stamp}");
    let digest = crate::vex::bullseye_layout(&d.join("layout"));
    push_layout(&d.join("layout"), &repo);
    let reference = format!("127.0.0.1:5000/{repo}:1");
    let db = crate::scan::build_db(d, &["debian-tracker/data/DSA/list"]);
    keypair(d, "a", false);
    keypair(d, "b", false);
    let k = |f: &str| d.join(f).display().to_string();
    assert_eq!(
        customs(&["sign", &reference, "--key", &k("a.key")], cache.path()).code,
        0
    );
    let openvex = |id: &str, package: &str| {
        serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": format!("https://example.invalid/vex/{id}"),
            "author": "release team", "timestamp": "2026-11-20T00:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": id},
                            "products": [{"@id": format!("pkg:deb/debian/{package}")}],
                            "status": "not_affected",
                            "justification": "vulnerable_code_not_in_execute_path"}]
        })
    };
    let attest = |key: &str, doc: &Value, name: &str| {
        let file = d.join(name);
        std::fs::write(&file, doc.to_string()).unwrap();
        let r = customs(
            &[
                "attest",
                &reference,
                "--key",
                &k(key),
                "--type",
                "openvex",
                "--predicate",
                &file.display().to_string(),
            ],
            cache.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    attest("a.key", &openvex("DSA-5343-1", "libssl1.1"), "ssl.json");
    attest(
        "b.key",
        &openvex("DSA-5349-1", "libgnutls30"),
        "gnutls.json",
    );
    // A third layer in the `.att` manifest: an envelope with the curl statement and no
    // signature at all.
    let att_tag = format!("sha256-{}.att", digest.trim_start_matches("sha256:"));
    let mut att: Value = serde_json::from_slice(&get(&format!(
        "http://127.0.0.1:5000/v2/{repo}/manifests/{att_tag}"
    )))
    .unwrap();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://openvex.dev/ns",
        "subject": [{"name": reference, "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
        "predicate": openvex("DSA-5343-1", "libssl1.1"),
    });
    let envelope = serde_json::json!({
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
        "signatures": [],
    })
    .to_string();
    let blob = put_blob(&repo, envelope.as_bytes());
    att["layers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.dsse.envelope.v1+json", "digest": blob,
            "size": envelope.len(), "annotations": {"predicateType": "https://openvex.dev/ns"}
        }));
    assert_eq!(att["layers"].as_array().unwrap().len(), 3, "{att}");
    put_manifest(&repo, &att_tag, att.to_string().as_bytes());

    let scan = |repositories: &str| {
        let policy = d.join("trust.yaml");
        std::fs::write(
            &policy,
            format!(
                "version: 1\npolicies:\n  - name: ours\n    repositories: [\"{repositories}\"]\n    \
                 authorities:\n      - name: release\n        key: a.pub\n"
            ),
        )
        .unwrap();
        let r = customs(
            &[
                "scan",
                "--db",
                &db,
                "-f",
                "json",
                "--show-suppressed",
                "--trust-policy",
                &policy.display().to_string(),
                "--vex-attestations",
                &reference,
            ],
            cache.path(),
        );
        let v = r.json();
        (r.code, v, r.stderr)
    };
    let (code, v, err) = scan("127.0.0.1:5000/customs-test/*");
    assert_eq!(code, 0, "{err}");
    let suppressed: Vec<_> = crate::vex::states(&v)
        .into_iter()
        .filter(|s| !s.2.is_empty())
        .collect();
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    let (id, package, why) = &suppressed[0];
    assert_eq!((id.as_str(), package.as_str()), ("DSA-5343-1", "libssl1.1"));
    assert!(
        why.starts_with("vex: not_affected (vulnerable_code_not_in_execute_path) by release team in attestation ")
            && why.ends_with("(signed by release)"),
        "{why}"
    );
    let ignored = v["vex"]["ignored"].as_array().unwrap();
    let mut codes: Vec<&str> = ignored
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["unsigned", "untrusted-key"], "{ignored:?}");
    assert!(
        ignored
            .iter()
            .all(|i| i["source"].as_str().unwrap().starts_with(&att_tag)),
        "{ignored:?}"
    );
    assert!(err.contains("warning: vex: "), "{err}");

    // No policy for the repository: no attestation counts, and the report says so.
    let (_, v, err) = scan("127.0.0.1:5000/elsewhere/*");
    assert!(
        crate::vex::states(&v).iter().all(|s| s.2.is_empty()),
        "{:?}",
        crate::vex::states(&v)
    );
    assert_eq!(v["vex"]["ignored"][0]["code"], "no-policy", "{err}");
}
