//! The database as a signed OCI artifact: `db push` and `db pull` against the real registry
//! on :5000 (started by scripts/test.sh with ../shared/tools/registry-up.sh), with keys made
//! by openssl, blob downloads counted in the registry's own access log, and tampering done
//! where an attacker would: in the registry's storage and its tags.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::customs;
use crate::feeds::{Mirror, mirror_tree};
use crate::registry::{registry_root, run};

const REGISTRY: &str = "127.0.0.1:5000";

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `NAME.key` and `NAME.pub` in `dir`: P-256 or Ed25519.
pub(crate) fn keypair(dir: &Path, name: &str, ed25519: bool) {
    if ed25519 {
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "ed25519",
                "-out",
                &format!("{name}.key"),
            ],
            dir,
        );
    } else {
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &format!("{name}.key"),
            ],
            dir,
        );
    }
    openssl(
        &[
            "pkey",
            "-in",
            &format!("{name}.key"),
            "-pubout",
            "-out",
            &format!("{name}.pub"),
        ],
        dir,
    );
}

/// The `GET`s of blobs of `repo` the registry logged after byte `from` of its log, by digest.
pub(crate) fn blob_gets(log: &Path, from: usize, repo: &str) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let needle = format!("\"GET /v2/{repo}/blobs/");
    text[from..]
        .lines()
        .filter_map(|l| {
            let i = l.find(&needle)? + needle.len();
            Some(l[i..].split_whitespace().next()?.to_owned())
        })
        .collect()
}

fn log_len(log: &Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |t| t.len())
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-fsS"])
        .args(args)
        .output()
        .expect("curl is installed (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Where the registry keeps a blob.
fn blob_file(digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap();
    registry_root().join(format!(
        "storage/docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ))
}

fn layers(report: &Value) -> Vec<(String, String, bool)> {
    report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["feed"].as_str().unwrap().to_owned(),
                l["digest"].as_str().unwrap().to_owned(),
                l["transferred"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The round trip; a pull after one feed changed downloads that feed's layer alone (counted
/// in the registry's log); a wrong key, a tampered layer, an unsigned manifest and a
/// signature moved onto another manifest are refused, each time with the old database kept.
#[test]
fn a_database_is_pushed_signed_and_pulled_incrementally() {
    let log = registry_root().join("run/plain.log");
    assert!(
        log.is_file(),
        "no registry log at {}: start the registries with ../shared/tools/registry-up.sh all \
         (scripts/test.sh does)",
        log.display()
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let feeds = customs(&["db", "feeds", "--format", "json"], w);
    let root = w.join("mirror");
    mirror_tree(&root, &feeds.json());
    let mirror = Mirror::serve(root.clone());
    keypair(w, "db", false);
    keypair(w, "other", true);
    // A repository of this run alone, so the log lines counted are this test's.
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let repo = format!("customs-test/db-{nonce}");
    let tag = format!("{REGISTRY}/{repo}:latest");
    let s = |p: &Path| p.display().to_string();
    let (pub_db, pub_cache) = (s(&w.join("pub.db")), s(&w.join("pub-cache")));
    let (sub_db, sub_cache) = (s(&w.join("sub.db")), s(&w.join("sub-cache")));
    let (key, public, other) = (
        s(&w.join("db.key")),
        s(&w.join("db.pub")),
        s(&w.join("other.pub")),
    );

    let update = || {
        let r = customs(
            &[
                "db",
                "update",
                "--db",
                &pub_db,
                "--cache-dir",
                &pub_cache,
                "--mirror",
                &mirror.base,
                "--feeds",
                "debian,kev,osv-go",
            ],
            w,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    let push = || {
        let r = customs(
            &[
                "db",
                "push",
                &tag,
                "--key",
                &key,
                "--db",
                &pub_db,
                "--cache-dir",
                &pub_cache,
                "--format",
                "json",
            ],
            w,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let pull = |db: &str, cache: &str, key: &str, reference: &str| {
        customs(
            &[
                "db",
                "pull",
                reference,
                "--key",
                key,
                "--db",
                db,
                "--cache-dir",
                cache,
                "--format",
                "json",
            ],
            w,
        )
    };

    update();
    let first = push();
    let pushed = layers(&first);
    // debian is three feeds (CVE list, DSA, DLA), then KEV and the Go archive.
    assert_eq!(pushed.len(), 5, "{first}");
    assert!(
        pushed.iter().all(|l| l.2),
        "a new repository lacks every layer: {first}"
    );
    assert_eq!(
        first["signature_tag"],
        format!("sha256-{}.sig", &first["digest"].as_str().unwrap()[7..])
    );
    // The manifest as the registry keeps it: our artifact type, one titled layer per feed.
    let manifest: Value = serde_json::from_str(&curl(&[
        "-H",
        "Accept: application/vnd.oci.image.manifest.v1+json",
        &format!("http://{REGISTRY}/v2/{repo}/manifests/latest"),
    ]))
    .unwrap();
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.customs.vulndb.v1"
    );
    assert!(manifest["annotations"]["org.opencontainers.image.created"].is_string());
    assert!(manifest["annotations"]["dev.customs.vulndb.newest"].is_string());

    // The round trip: the pulled database holds exactly the pushed one's advisories.
    let at = log_len(&log);
    let r = pull(&sub_db, &sub_cache, &public, &tag);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pulled = r.json();
    assert!(layers(&pulled).iter().all(|l| l.2), "{pulled}");
    assert_eq!(pulled["digest"], first["digest"]);
    assert_eq!(
        blob_gets(&log, at, &repo).len(),
        5 + 2,
        "5 layers, the config, the payload"
    );
    let diff = customs(&["db", "diff", &pub_db, &sub_db, "--format", "json"], w).json();
    for k in ["added", "changed", "withdrawn", "removed"] {
        assert_eq!(diff[k], serde_json::json!([]), "{k}: {diff}");
    }
    let advisories = |db: &str| {
        customs(&["db", "info", "--db", db, "--format", "json"], w).json()["advisories"].clone()
    };
    assert_eq!(advisories(&sub_db), advisories(&pub_db));
    let good = std::fs::read(&sub_db).unwrap();

    // A wrong key: refused, the database untouched.
    let r = pull(&sub_db, &sub_cache, &other, &tag);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no signature of"), "{}", r.stderr);
    assert_eq!(std::fs::read(&sub_db).unwrap(), good);

    // Nothing changed: no layer is downloaded, nothing rebuilt.
    let at = log_len(&log);
    let r = pull(&sub_db, &sub_cache, &public, &tag);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["unchanged"].as_bool().unwrap(), "{}", r.stdout);
    assert!(layers(&r.json()).iter().all(|l| !l.2));
    let layer_digests: Vec<&String> = pushed.iter().map(|l| &l.1).collect();
    assert!(
        blob_gets(&log, at, &repo)
            .iter()
            .all(|d| !layer_digests.contains(&d)),
        "an unchanged pull fetched a layer"
    );

    // One feed changes upstream (an entry of this run alone, so its layer is new to the
    // registry): the next push uploads one layer, the next pull downloads one layer.
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
    let cve = format!(
        "CVE-2099-{}",
        100_000
            + nonce
                .bytes()
                .map(u64::from)
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b))
                % 900_000
    );
    std::fs::write(
        &dsa,
        format!("[01 Dec 2026] DSA-9999-1 zlib - security update\n\t{{{cve}}}\n\t[bullseye] - zlib 1:1.2.11.dfsg-9\n{text}"),
    )
    .unwrap();
    update();
    let second = push();
    let second_layers = layers(&second);
    let uploaded: Vec<_> = second_layers.iter().filter(|l| l.2).collect();
    assert_eq!(uploaded.len(), 1, "{second}");
    assert!(uploaded[0].0.contains("dsa"), "{uploaded:?}");
    let changed = uploaded[0].1.clone();
    let at = log_len(&log);
    let r = pull(&sub_db, &sub_cache, &public, &tag);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fetched_layers: Vec<String> = blob_gets(&log, at, &repo)
        .into_iter()
        .filter(|d| second_layers.iter().any(|l| l.1 == *d))
        .collect();
    assert_eq!(
        fetched_layers,
        std::slice::from_ref(&changed),
        "only the changed feed's layer"
    );
    assert_eq!(
        blob_gets(&log, at, &repo).len(),
        3,
        "the layer, the config, the payload"
    );
    let diff = customs(
        &[
            "db",
            "diff",
            &s(&w.join("pub.db")),
            &sub_db,
            "--format",
            "json",
        ],
        w,
    )
    .json();
    assert_eq!(diff["added"], serde_json::json!([]), "{diff}");
    let good = std::fs::read(&sub_db).unwrap();

    // A tampered layer: the registry serves other bytes under its digest. A consumer without
    // that layer cached refuses it; its database stays as it was.
    let blob = blob_file(&changed);
    let original = std::fs::read(&blob).unwrap();
    let mut evil = original.clone();
    let mid = evil.len() / 2;
    evil[mid] ^= 0xff;
    std::fs::write(&blob, &evil).unwrap();
    let fresh_cache = s(&w.join("fresh-cache"));
    let r = pull(&sub_db, &fresh_cache, &public, &tag);
    std::fs::write(&blob, &original).unwrap();
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains(&changed) && r.stderr.contains("hash"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&sub_db).unwrap(), good);

    // A manifest pushed under a tag with no signature: refused as unsigned.
    let mut forged = manifest.clone();
    forged["annotations"]["dev.customs.vulndb.advisories"] = Value::from("1");
    let forged = serde_json::to_vec(&forged).unwrap();
    let forged_file = w.join("forged.json");
    std::fs::write(&forged_file, &forged).unwrap();
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        &format!("@{}", forged_file.display()),
        &format!("http://{REGISTRY}/v2/{repo}/manifests/forged"),
    ]);
    let r = pull(
        &sub_db,
        &sub_cache,
        &public,
        &format!("{REGISTRY}/{repo}:forged"),
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("is not signed"), "{}", r.stderr);
    // ... and with a real signature of another manifest copied to its signature tag.
    let sig = curl(&[
        "-H",
        "Accept: application/vnd.oci.image.manifest.v1+json",
        &format!(
            "http://{REGISTRY}/v2/{repo}/manifests/{}",
            second["signature_tag"].as_str().unwrap()
        ),
    ]);
    let sig_file = w.join("sig.json");
    std::fs::write(&sig_file, sig).unwrap();
    let forged_digest = crate::common::sha256_hex(&forged);
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        &format!("@{}", sig_file.display()),
        &format!("http://{REGISTRY}/v2/{repo}/manifests/sha256-{forged_digest}.sig"),
    ]);
    let r = pull(
        &sub_db,
        &sub_cache,
        &public,
        &format!("{REGISTRY}/{repo}:forged"),
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("the signature is for"), "{}", r.stderr);
    assert_eq!(std::fs::read(&sub_db).unwrap(), good);

    // An Ed25519 key signs too, and the signature verifies only with its own public key.
    let r = customs(
        &[
            "db",
            "push",
            &format!("{REGISTRY}/{repo}:ed25519"),
            "--key",
            &s(&w.join("other.key")),
            "--db",
            &pub_db,
            "--cache-dir",
            &pub_cache,
        ],
        w,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("ED25519"), "{}", r.stdout);
    let ed = format!("{REGISTRY}/{repo}:ed25519");
    assert_ne!(pull(&sub_db, &sub_cache, &public, &ed).code, 0);
    let r = pull(&sub_db, &sub_cache, &other, &ed);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The registry behind bearer tokens: a push asks for a push-scoped token and needs the
    // credentials; anonymous pulls then verify as before.
    let tok = format!("127.0.0.1:5003/{repo}:token");
    let args = [
        "db",
        "push",
        &tok,
        "--key",
        &key,
        "--db",
        &pub_db,
        "--cache-dir",
        &pub_cache,
    ];
    let r = run(&args, w, None, &[]);
    assert_ne!(r.code, 0, "an anonymous push was taken");
    assert!(r.stderr.contains("authentication required"), "{}", r.stderr);
    let mut with_user = args.to_vec();
    with_user.extend(["--username", "scanner", "--password-stdin"]);
    let r = run(&with_user, w, Some("scanner-pass\n"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = pull(&sub_db, &sub_cache, &public, &tok);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
