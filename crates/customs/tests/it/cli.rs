//! The command line as a new user meets it: naming stored images the ways `customs images`
//! prints them, output that reads as text, a closed pipe, each command's own options,
//! `version`, completions and manual pages. Regression tests for the papercuts of issue 12.

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{corpus, customs};
use crate::scan::build_db;

fn ok(args: &[&str], cwd: &std::path::Path) -> crate::common::Run {
    let r = customs(args, cwd);
    assert_eq!(r.code, 0, "customs {args:?}: {}{}", r.stdout, r.stderr);
    r
}

#[test]
fn stored_images_are_named_the_ways_images_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let db = build_db(dir.path(), &["rustsec", "osv-pypa-yaml"]);
    // Two OCI layouts scanned without naming a tag: one as `oci:PATH`, one as a bare path
    // whose kind is detected. Each index names its image `1`.
    let app = corpus().join("debian-app/oci");
    let big = corpus().join("bookworm-big/oci");
    for src in [format!("oci:{}", app.display()), big.display().to_string()] {
        ok(
            &[
                "scan",
                "-q",
                "--no-cache",
                "--store",
                "--store-url",
                &store,
                "--db",
                &db,
                &src,
            ],
            dir.path(),
        );
    }
    let images = ok(
        &["images", "--format", "json", "--store-url", &store],
        dir.path(),
    )
    .json();
    let images = images.as_array().unwrap();
    assert_eq!(images.len(), 2);
    for (layout, image) in [(&app, &images[1]), (&big, &images[0])] {
        let repository = format!("oci:{}", layout.display());
        assert_eq!(image["repository"], repository.as_str(), "{image}");
        // The tag comes from the index's org.opencontainers.image.ref.name.
        assert_eq!(
            image["tags"],
            serde_json::json!([format!("{repository}:1")])
        );
    }
    let digest = images[1]["digest"].as_str().unwrap().to_owned();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let table = ok(&["images", "--store-url", &store], dir.path()).stdout;
    assert!(
        table.contains(&hex[..12]) && !table.contains(hex),
        "{table}"
    );

    let repository = format!("oci:{}", app.display());
    for name in [
        digest.clone(),
        hex[..12].to_owned(),
        format!("sha256:{}", &hex[..12]),
        repository.clone(),
        format!("{repository}:1"),
        format!("{repository}@{digest}"),
    ] {
        let h = ok(
            &["history", "--format", "json", "--store-url", &store, &name],
            dir.path(),
        )
        .json();
        assert_eq!(h["digest"], digest.as_str(), "history {name}");
    }
    let unknown = customs(
        &["history", "--store-url", &store, "0123456789abcdef"],
        dir.path(),
    );
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no such image in the store"),
        "{}",
        unknown.stderr
    );

    // diff takes short digests too, and prints a table, not Rust's debug quoting.
    let other = images[0]["digest"].as_str().unwrap();
    let short_other = &other["sha256:".len().."sha256:".len() + 12];
    let text = ok(
        &["diff", "--store-url", &store, &hex[..12], short_other],
        dir.path(),
    )
    .stdout;
    assert!(!text.contains("\"deb\""), "{text}");
    assert!(text.contains("│ + ") && text.contains(" deb "), "{text}");
    assert!(
        text.contains("packages: ") && text.contains(" added, "),
        "{text}"
    );
    let json = ok(
        &[
            "diff",
            "--format",
            "json",
            "--store-url",
            &store,
            &hex[..12],
            short_other,
        ],
        dir.path(),
    )
    .json();
    assert_eq!(json["from"], digest.as_str());
    assert_eq!(json["to"], other);
    let added = json["packages"]["added"].as_array().unwrap();
    assert!(!added.is_empty());
    assert!(
        added
            .iter()
            .all(|p| p["ecosystem"].is_string() && p["version"].is_string())
    );
    assert_eq!(
        added.len(),
        text.lines().filter(|l| l.starts_with("│ + ")).count()
            - json["findings"]["added"].as_array().unwrap().len()
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("oci:{}", corpus().join("debian-app/oci").display());
    // Megabytes of JSON: far more than a pipe holds, so the writes meet the closed pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_customs"))
        .args(["sbom", "--format", "json", "--files", "--no-cache", &src])
        .env("CUSTOMS_CACHE_DIR", dir.path())
        .env("HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // `head -c 64`: the reader goes away.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn each_command_lists_only_its_own_options() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| ok(args, dir.path()).stdout;
    let update = help(&["db", "update", "--help"]);
    for foreign in [
        "--platform",
        "--exclude-dev",
        "--insecure-registry",
        "--username",
        "--no-cache",
        "--files",
    ] {
        assert!(
            !update.contains(foreign),
            "db update --help lists {foreign}:\n{update}"
        );
    }
    for own in ["--feed", "--db", "--cache-dir", "--ca-cert", "--timeout"] {
        assert!(
            update.contains(own),
            "db update --help lacks {own}:\n{update}"
        );
    }
    let images = help(&["images", "--help"]);
    for foreign in ["--ca-cert", "--platform", "--db", "--cache-dir"] {
        assert!(
            !images.contains(foreign),
            "images --help lists {foreign}:\n{images}"
        );
    }
    let scan = help(&["scan", "--help"]);
    for own in [
        "--platform",
        "--ca-cert",
        "--store-url",
        "--fail-on",
        "--insecure-registry",
    ] {
        assert!(scan.contains(own), "scan --help lacks {own}");
    }
    let build = help(&["db", "build", "--help"]);
    assert!(
        build.contains("debian-cve-list") && build.contains("osv-json"),
        "{build}"
    );
}

#[test]
fn version_prints_the_build_and_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = build_db(dir.path(), &["rustsec"]);
    let v = ok(&["version", "--format", "json", "--db", &db], dir.path()).json();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["target"].as_str().unwrap().contains("linux"), "{v}");
    assert_eq!(v["scan_schema"], "customs.scan/1.9");
    let vdb = &v["vulnerability_db"];
    assert_eq!(vdb["status"]["state"], "ready", "{v}");
    assert!(vdb["advisories"].as_i64().unwrap() > 100, "{v}");
    assert!(vdb["built_at"].as_str().unwrap().starts_with("20"), "{v}");
    let text = ok(&["version", "--db", &db], dir.path()).stdout;
    assert!(
        text.starts_with(&format!("customs {} (", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains(&db), "{text}");
    // Asking never builds a database.
    let missing = dir.path().join("none.db");
    let v: Value = ok(
        &[
            "version",
            "--format",
            "json",
            "--db",
            &missing.display().to_string(),
        ],
        dir.path(),
    )
    .json();
    assert_eq!(v["vulnerability_db"]["status"]["state"], "missing");
    assert!(!missing.exists());
    // --version still answers, as clap spells it.
    assert!(
        ok(&["--version"], dir.path())
            .stdout
            .starts_with("customs ")
    );
}

#[test]
fn completions_and_manual_pages() {
    let dir = tempfile::tempdir().unwrap();
    let bash = ok(&["completions", "bash"], dir.path()).stdout;
    assert!(
        bash.contains("_customs()") && bash.contains("vercmp"),
        "{bash}"
    );
    let zsh = ok(&["completions", "zsh"], dir.path()).stdout;
    assert!(zsh.starts_with("#compdef customs"), "{zsh}");
    let man = ok(&["man"], dir.path()).stdout;
    assert!(
        man.contains(".TH customs 1") || man.contains(".TH CUSTOMS"),
        "{man}"
    );
    let pages = dir.path().join("man");
    ok(
        &["man", "--out-dir", &pages.display().to_string()],
        dir.path(),
    );
    for page in [
        "customs.1",
        "customs-scan.1",
        "customs-db-update.1",
        "customs-cache-prune.1",
    ] {
        let text =
            std::fs::read_to_string(pages.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".SH"), "{page}");
    }
    let scan_page = std::fs::read_to_string(pages.join("customs-scan.1")).unwrap();
    assert!(scan_page.contains("fail\\-on"), "{scan_page}");
}
