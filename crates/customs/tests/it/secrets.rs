//! Secrets, config and file checks through the command line: debian-app's planted ground
//! truth (`expected.json`, written by ../shared/tools/build-images.sh), a key deleted in a
//! later layer, and the redaction of every planted value in every output, the stores and the
//! logs.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{Comp, LayerTar, corpus, customs, sha256_hex};
use crate::lifecycle::PgSchema;

/// `customs scan -o json` with the given scanners, which must exit 0.
fn scan_json(source: &str, cache: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["scan", "-o", "json", "--no-cache", source];
    args.extend_from_slice(extra);
    let r = customs(&args, cache);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

fn detections(report: &Value) -> Vec<Value> {
    report["detections"]
        .as_array()
        .unwrap_or_else(|| panic!("no detections array: {report}"))
        .clone()
}

/// The config's diff_ids of an OCI layout's first manifest.
fn diff_ids(layout: &Path) -> Vec<String> {
    let blob = |d: &str| -> Value {
        let hex = d.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap())
            .unwrap()
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = blob(index["manifests"][0]["digest"].as_str().unwrap());
    let config = blob(manifest["config"]["digest"].as_str().unwrap());
    config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

/// The secret codes of the rule ids `expected.json` names.
fn code_of(kind: &str) -> &'static str {
    match kind {
        "aws-access-key-id" => "secret-aws-access-key",
        "aws-secret-access-key" => "secret-aws-secret-key",
        "github-pat" => "secret-github-token",
        "private-key" => "secret-private-key",
        other => panic!("expected.json names a kind this test does not know: {other}"),
    }
}

#[test]
fn debian_app_planted_secrets_and_files_are_found_at_their_layer_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let layout = corpus().join("debian-app/oci");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("debian-app/expected.json")).unwrap())
            .unwrap();
    let ids = diff_ids(&layout);
    let report = scan_json(
        &format!("oci:{}", layout.display()),
        dir.path(),
        &["--scanners", "secret,config,file"],
    );
    let found = detections(&report);
    let at = |code: &str, path: &str| -> Vec<&Value> {
        found
            .iter()
            .filter(|d| d["code"] == code && d["location"]["path"] == path)
            .collect()
    };
    let mut explained = 0;
    for s in expected["secrets"].as_array().unwrap() {
        let path = s["path"].as_str().unwrap();
        for kind in s["kinds"].as_array().unwrap() {
            let kind = kind.as_str().unwrap();
            let code = code_of(kind);
            if path.starts_with('/') {
                let hits = at(code, path);
                assert_eq!(hits.len(), 1, "{code} at {path}: {found:#?}");
                let d = hits[0];
                assert_eq!(d["location"]["layer_index"], 1, "{d}");
                assert_eq!(d["location"]["layer"], ids[1].as_str(), "{d}");
                assert!(d["location"]["line"].as_u64().unwrap() >= 1, "{d}");
                assert!(
                    d["references"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r == kind),
                    "{d}"
                );
                assert_eq!(d["kind"], "secret");
            } else {
                // The config's Env: `GITHUB_TOKEN`.
                let hits = at(code, "config:Env GITHUB_TOKEN");
                assert_eq!(hits.len(), 1, "{found:#?}");
                assert_eq!(
                    at("config-secret-env", "config:Env GITHUB_TOKEN").len(),
                    1,
                    "the config check names the variable too"
                );
                let env = &report["image"]["config"]["env"];
                assert!(env.as_array().is_some_and(|e| e.len() == 4), "{env}");
                let env = env.to_string();
                let prefix = s["value_prefix"].as_str().unwrap();
                assert!(!env.contains(prefix), "Env is redacted: {env}");
                explained += 1;
            }
            explained += 1;
        }
    }
    for f in expected["file_modes"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let code = if f["setuid"] == true {
            "file-setuid"
        } else if f["setgid"] == true {
            "file-setgid"
        } else if f["world_writable_dir"] == true {
            "file-world-writable-dir"
        } else {
            // /home/app/.ssh/id_rsa: mode 0600, owned by app (1000), whom /etc/passwd lists.
            assert!(
                found
                    .iter()
                    .all(|d| d["kind"] != "file" || d["location"]["path"] != path),
                "{path} is not a risky file: {found:#?}"
            );
            continue;
        };
        let hits = at(code, path);
        assert_eq!(hits.len(), 1, "{code} at {path}: {found:#?}");
        assert_eq!(hits[0]["location"]["layer"], ids[1].as_str());
        explained += 1;
    }
    // The image sets USER app, exposes 8080 and declares no health check.
    assert_eq!(at("config-no-healthcheck", "config:Healthcheck").len(), 1);
    explained += 1;
    // Nothing else: the bookworm base layer yields nothing at all.
    assert_eq!(found.len(), explained, "unexpected detections: {found:#?}");
    assert!(found.iter().all(|d| d["location"]["layer_index"] != 0));
    let stats = &report["inspected"]["secrets"];
    assert!(stats["files"].as_u64().unwrap() > 1000, "{stats}");
    assert!(stats["skipped_binary"].as_u64().unwrap() > 1000, "{stats}");

    // The same image unpacked by umoci, read as a root filesystem: the same secrets and files
    // at the same paths (no layers, and no config to check).
    let rootfs = corpus().join("debian-app/bundle/rootfs");
    let unpacked = scan_json(
        &format!("dir:{}", rootfs.display()),
        dir.path(),
        &["--scanners", "secret,file"],
    );
    let key = |d: &Value| (d["code"].to_string(), d["location"]["path"].to_string());
    let mut from_dir: Vec<_> = detections(&unpacked).iter().map(key).collect();
    let mut from_layers: Vec<_> = found
        .iter()
        .filter(|d| {
            d["kind"] != "config" && d["location"]["path"].as_str().unwrap().starts_with('/')
        })
        .map(key)
        .collect();
    from_dir.sort();
    from_layers.sort();
    assert_eq!(from_dir, from_layers);
}

/// An OpenSSH key made by ssh-keygen, and the invented tokens of the history image.
struct Planted {
    key: String,
    github: String,
    npm: String,
    slack: String,
}

fn planted(dir: &Path) -> Planted {
    let key = dir.join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (openssh-client)");
    assert!(out.status.success(), "{out:?}");
    // Invented, random-looking values of each token format.
    let tail = |n: usize, seed: &str| -> String {
        sha256_hex(seed.as_bytes())
            .chars()
            .zip(
                "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUiOpAsDfGhJk"
                    .chars()
                    .cycle(),
            )
            .map(|(h, c)| if h.is_ascii_digit() { h } else { c })
            .take(n)
            .collect()
    };
    Planted {
        key: std::fs::read_to_string(&key).unwrap(),
        github: format!("ghp_{}", tail(36, "github")),
        npm: format!("npm_{}", tail(36, "npm")),
        slack: format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            tail(8, "t").to_uppercase(),
            tail(10, "b").to_uppercase(),
            tail(24, "s")
        ),
    }
}

/// Three layers: a base, a layer adding a key, a Slack webhook in settings and a token in
/// `.env`, and a layer deleting the key and replacing the settings. The history keeps an npm
/// token passed as a build argument.
fn history_image(dir: &Path, p: &Planted) -> std::path::PathBuf {
    let layout = dir.join("history-oci");
    let base = LayerTar::new()
        .dir("etc")
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n",
        )
        .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
        .finish();
    let add = LayerTar::new()
        .dir("root")
        .dir("root/.ssh")
        .file_mode("root/.ssh/id_ed25519", p.key.as_bytes(), 0o600)
        .dir("app")
        .file(
            "app/.env",
            format!("GITHUB_TOKEN={}\n", p.github).as_bytes(),
        )
        .file(
            "app/settings.py",
            format!("DEBUG = False\nSLACK_WEBHOOK = \"{}\"\n", p.slack).as_bytes(),
        )
        .finish();
    let delete = LayerTar::new()
        .dir("root/.ssh")
        .file("root/.ssh/.wh.id_ed25519", b"")
        .dir("app")
        .file(
            "app/settings.py",
            b"DEBUG = False\nSLACK_WEBHOOK = os.environ[\"SLACK_WEBHOOK\"]\n",
        )
        .finish();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        // DB_PASSWORD's value matches no secret rule (too little entropy): the config check
        // names it by its name, and it is redacted all the same.
        "config": {"User": "1000", "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2hunter2"],
                   "Cmd": ["/bin/sh"]},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:0a1b2c in / "},
            {"created_by": format!("RUN |1 NPM_TOKEN={} /bin/sh -c npm ci # buildkit", p.npm),
             "comment": "buildkit.dockerfile.v0"},
            {"created_by": "RUN /bin/sh -c rm /root/.ssh/id_ed25519 # buildkit",
             "comment": "buildkit.dockerfile.v0"}
        ]
    });
    crate::common::write_layout_with_config(&layout, &[base, add, delete], Comp::Gzip, config);
    layout
}

#[test]
fn a_key_deleted_in_a_later_layer_is_reported_as_secret_in_layer_history() {
    let dir = tempfile::tempdir().unwrap();
    let p = planted(dir.path());
    let layout = history_image(dir.path(), &p);
    let ids = diff_ids(&layout);
    let source = format!("oci:{}", layout.display());
    let report = scan_json(&source, dir.path(), &["--scanners", "secret"]);
    let found = detections(&report);
    // From the layer cache (each layer's hits and path hashes), the same judgement.
    for _ in 0..2 {
        let r = customs(
            &["scan", "-o", "json", "--scanners", "secret", &source],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(detections(&r.json()), found);
    }
    let one = |code: &str, path: &str| -> &Value {
        let hits: Vec<&Value> = found
            .iter()
            .filter(|d| d["code"] == code && d["location"]["path"] == path)
            .collect();
        assert_eq!(hits.len(), 1, "{code} at {path}: {found:#?}");
        hits[0]
    };
    for (path, rule) in [
        ("/root/.ssh/id_ed25519", "secret-private-key"),
        ("/app/settings.py", "secret-slack-webhook"),
    ] {
        let d = one("secret-in-layer-history", path);
        assert_eq!(d["location"]["layer_index"], 1, "{d}");
        assert_eq!(d["location"]["layer"], ids[1].as_str(), "{d}");
        assert_eq!(d["removed_in"]["layer_index"], 2, "{d}");
        assert_eq!(d["removed_in"]["layer"], ids[2].as_str(), "{d}");
        assert_eq!(d["references"][0], rule, "{d}");
        assert!(
            ["high", "critical"].contains(&d["severity"].as_str().unwrap()),
            "{d}"
        );
    }
    // A file no later layer touches is a plain secret.
    let kept = one("secret-github-token", "/app/.env");
    assert_eq!(kept["location"]["layer_index"], 1);
    assert!(kept.get("removed_in").is_none());
    // The build argument in the history, located at the step's layer.
    let arg = one("secret-npm-token", "history[1].created_by");
    assert_eq!(arg["location"]["layer"], ids[1].as_str());
    let history = &report["image"]["config"]["history"];
    assert_eq!(history.as_array().map(Vec::len), Some(3), "{history}");
    let history = history.to_string();
    assert!(!history.contains(&p.npm), "history is redacted: {history}");
    assert_eq!(
        report["image"]["config"]["env"],
        serde_json::json!(["PATH=/usr/bin", "DB_PASSWORD=********"])
    );
    assert_eq!(
        found.len(),
        4,
        "nothing else (the replacement settings.py is clean): {found:#?}"
    );
}

/// Every planted value, and the lines of every private key body.
fn secret_values(p: &Planted) -> Vec<String> {
    let mut v = vec![
        "hunter2hunter2".to_owned(),
        p.github.clone(),
        p.npm.clone(),
        p.slack.clone(),
        "AKIAZ3MHQF7XW5TKD2PQ".to_owned(),
        format!("{}{}", "q8J2nV5xR+3kLm0P", "a7TzW9yB4cD6eF1gH2iJ3kL4"),
        format!("{}_{}", "ghp", "x7K2mN9pQ4rS6tU8vW0yZ1aB3cD5eF7gH9iJ"),
    ];
    v.extend(
        p.key
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 20)
            .map(str::to_owned),
    );
    v
}

fn assert_clean(what: &str, text: &str, values: &[String]) {
    for v in values {
        assert!(
            !text.contains(v.as_str()),
            "{what} holds a planted secret: {v}"
        );
    }
}

#[test]
fn planted_secret_values_are_in_no_output_store_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let p = planted(dir.path());
    let values = secret_values(&p);
    let history = history_image(dir.path(), &p);
    let db = crate::scan::build_db(dir.path(), &["rustsec", "osv-pypa-yaml"]);
    let pg = PgSchema::new();
    let sqlite = dir.path().join("store.db");
    let formats = ["json", "sarif", "cyclonedx", "spdx-json", "html", "table"];
    for (i, source) in [
        format!("oci:{}", corpus().join("debian-app/oci").display()),
        format!("oci:{}", history.display()),
    ]
    .iter()
    .enumerate()
    {
        for store in [format!("sqlite:{}", sqlite.display()), pg.url()] {
            let mut args: Vec<String> = vec![
                "scan".into(),
                "-v".into(),
                "--db".into(),
                db.clone(),
                "--store".into(),
                "--store-url".into(),
                store.clone(),
            ];
            for f in formats {
                args.push("-o".into());
                args.push(format!(
                    "{f}={}",
                    dir.path().join(format!("{i}.{f}")).display()
                ));
            }
            args.push(source.clone());
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = customs(&a, dir.path());
            assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
            assert_clean("the log (stderr)", &r.stderr, &values);
            assert_clean("stdout", &r.stdout, &values);
        }
        for f in formats {
            let out = std::fs::read_to_string(dir.path().join(format!("{i}.{f}"))).unwrap();
            assert!(out.len() > 100, "{f} output written");
            if f != "spdx-json" {
                assert!(out.contains("********"), "{f} shows redacted evidence");
            }
            assert_clean(f, &out, &values);
        }
        // The sbom command and its inventory JSON too.
        let r = customs(&["sbom", "-o", "json", source], dir.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_clean("customs sbom", &r.stdout, &values);
    }
    let dump = Command::new("sqlite3")
        .arg(&sqlite)
        .arg(".dump")
        .output()
        .unwrap();
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("secret-in-layer-history"),
        "the store keeps detections"
    );
    assert_clean("the SQLite store", &dump, &values);
    let dump = Command::new("pg_dump")
        .arg(format!("--dbname={}", pg.base()))
        .arg(format!("--schema={}", pg.name()))
        .output()
        .unwrap();
    assert!(dump.status.success(), "{dump:?}");
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("secret-in-layer-history"),
        "the store keeps detections"
    );
    assert_clean("the PostgreSQL store", &dump, &values);
    // customs' own layer cache keeps each layer's secrets, redacted.
    let mut cached = String::new();
    let layers = dir.path().join("layers");
    for f in crate::common::files_under(&layers) {
        cached.push_str(&std::fs::read_to_string(layers.join(f)).unwrap_or_default());
    }
    assert!(
        cached.contains("secret-private-key"),
        "the layer cache keeps hits"
    );
    assert_clean("the layer cache", &cached, &values);
}

#[test]
fn a_detection_exception_is_listed_applied_and_kept_in_the_store_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::scan::build_db(dir.path(), &["rustsec", "osv-pypa-yaml"]);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\nrules:\n  - name: no-config-problems\n    detections: {kinds: [config]}\n\
         exceptions:\n  - code: config-no-healthcheck\n    reason: a batch image, probed by Kubernetes\n\
         \x20   owner: bob@example.com\n    created: 2026-11-01\n    expires: 2027-05-01\n",
    )
    .unwrap();
    let policy = policy.display().to_string();
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let image = format!("oci:{}", corpus().join("debian-app/oci").display());
    let r = customs(
        &[
            "scan",
            "-o",
            "json",
            "--db",
            &db,
            "--scanners",
            "vuln,config",
            "--allow-missing-coverage",
            "deb,npm,maven",
            "--policy",
            &policy,
            "--now",
            "2026-12-06",
            "--store",
            "--store-url",
            &store,
            &image,
        ],
        dir.path(),
    );
    // The Env token still fails the rule; the health check is excepted.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("config-secret-env")
            && !r.stderr.contains("(fail): config-no-healthcheck"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("policy: exception for config-no-healthcheck by bob@example.com"),
        "{}",
        r.stderr
    );
    let v = r.json();
    assert!(
        detections(&v)
            .iter()
            .all(|d| d["code"] != "config-no-healthcheck"),
        "hidden without --show-suppressed: {v}"
    );
    let r = customs(
        &[
            "exceptions",
            "list",
            "--policy",
            &policy,
            "--now",
            "2026-12-06",
            "-f",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed = r.json();
    assert_eq!(listed[0]["code"], "config-no-healthcheck", "{listed}");
    assert_eq!(listed[0]["state"], "in-force");
    let r = customs(
        &["exceptions", "history", "--store-url", &store, "-f", "json"],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let history = r.json();
    assert!(
        history.as_array().unwrap().iter().any(|e| e["key"]
            .as_str()
            .unwrap()
            .starts_with("code:config-no-healthcheck")),
        "{history}"
    );
}
