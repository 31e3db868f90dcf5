//! The real Debian images built by ../shared/tools/build-images.sh: package sets against
//! `dpkg-query` (dpkg.tsv), every form of one image, layer attribution, metadata, the cache.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{corpus, os_package_rows, package_rows, sbom};

const IMAGES: [&str; 4] = [
    "debian-app",
    "bookworm-big",
    "bullseye-minbase",
    "trixie-minbase",
];

/// `dpkg-query --admindir` of the flattened rootfs, written by build-images.sh.
fn dpkg_tsv(image: &str) -> Vec<String> {
    let text = std::fs::read_to_string(corpus().join(image).join("dpkg.tsv")).expect("dpkg.tsv");
    let mut rows: Vec<String> = text.lines().map(str::to_owned).collect();
    rows.sort();
    rows
}

#[test]
fn dpkg_packages_match_dpkg_query() {
    let cache = tempfile::tempdir().unwrap();
    for image in IMAGES {
        let src = format!("oci:{}", corpus().join(image).join("oci").display());
        let inv = sbom(&src, cache.path(), &["--no-cache"]);
        let ours = os_package_rows(&inv);
        let want = dpkg_tsv(image);
        assert!(want.len() > 50, "{image}: implausible dpkg.tsv");
        assert_eq!(ours, want, "{image}: inventory differs from dpkg-query");
        assert!(
            inv["packages"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["ecosystem"] != "apk" && p["ecosystem"] != "rpm"),
            "{image}: an OS package that is not a deb"
        );
        assert!(
            inv["warnings"].as_array().unwrap().is_empty(),
            "{image}: {}",
            inv["warnings"]
        );
    }
}

/// (rows, layer index per package) of one form.
fn rows_and_layers(inv: &Value) -> (Vec<String>, BTreeMap<String, Value>) {
    let layers = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["layer_index"].clone(),
            )
        })
        .collect();
    (package_rows(inv), layers)
}

#[test]
fn every_form_of_an_image_gives_the_same_inventory() {
    let cache = tempfile::tempdir().unwrap();
    let d = corpus().join("debian-app");
    let reference = sbom(
        &format!("oci:{}", d.join("oci").display()),
        cache.path(),
        &["--no-cache"],
    );
    let (want_rows, want_layers) = rows_and_layers(&reference);
    assert_eq!(os_package_rows(&reference), dpkg_tsv("debian-app"));
    for form in [
        format!("oci:{}:1", d.join("oci-zstd").display()),
        format!("oci:{}", d.join("oci-uncompressed").display()),
        format!("oci-archive:{}", d.join("oci-archive.tar").display()),
        format!("docker-archive:{}", d.join("docker-archive.tar").display()),
        // Bare paths: the kind is detected.
        d.join("oci-archive.tar").display().to_string(),
        d.join("docker-archive.tar").display().to_string(),
    ] {
        let inv = sbom(&form, cache.path(), &["--no-cache"]);
        let (rows, layers) = rows_and_layers(&inv);
        assert_eq!(rows, want_rows, "{form}");
        assert_eq!(layers, want_layers, "{form}: layer attribution differs");
        assert!(
            inv["warnings"].as_array().unwrap().is_empty(),
            "{form}: {}",
            inv["warnings"]
        );
    }
    let rootfs = sbom(
        &format!("dir:{}", d.join("bundle/rootfs").display()),
        cache.path(),
        &["--no-cache"],
    );
    assert_eq!(package_rows(&rootfs), want_rows, "rootfs");
    assert_eq!(rootfs["distro"]["id"], "debian");
    assert!(rootfs.get("image").is_none());
    // The other images too, in their two archive forms.
    for image in ["bookworm-big", "bullseye-minbase", "trixie-minbase"] {
        let d = corpus().join(image);
        for form in [
            format!("docker-archive:{}", d.join("docker-archive.tar").display()),
            format!("dir:{}", d.join("bundle/rootfs").display()),
        ] {
            assert_eq!(
                package_rows(&sbom(&form, cache.path(), &["--no-cache"])),
                dpkg_tsv(image),
                "{form}"
            );
        }
    }
}

#[test]
fn packages_record_the_layer_that_introduced_them() {
    // bookworm-big = the bookworm minbase layer (debian-app's base) + `apt-get install ...`.
    let base: BTreeSet<(String, String)> = dpkg_tsv("debian-app")
        .iter()
        .map(|r| {
            let f: Vec<&str> = r.split('\t').collect();
            (f[0].to_owned(), f[1].to_owned())
        })
        .collect();
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom(
        &format!("oci:{}", corpus().join("bookworm-big/oci").display()),
        cache.path(),
        &["--no-cache"],
    );
    let diff_ids: Vec<Value> = inv["image"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diff_id"].clone())
        .collect();
    assert_eq!(diff_ids.len(), 2);
    let mut upper = 0;
    for p in inv["packages"].as_array().unwrap() {
        let key = (
            p["name"].as_str().unwrap().to_owned(),
            p["version"].as_str().unwrap().to_owned(),
        );
        let want = usize::from(!base.contains(&key));
        upper += want;
        assert_eq!(p["layer_index"], want, "{key:?}");
        assert_eq!(p["layer"], diff_ids[want], "{key:?}");
    }
    assert!(upper >= 30, "the apt layer adds packages (saw {upper})");
}

#[test]
fn image_metadata_matches_the_build() {
    let d = corpus().join("debian-app");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom(
        &format!("oci:{}", d.join("oci").display()),
        cache.path(),
        &["--no-cache"],
    );
    assert_eq!(inv["schema"], "customs.inventory/1.6");
    assert_eq!(inv["source"]["kind"], "oci");
    let img = &inv["image"];
    assert_eq!(img["manifest_digest"], summary["manifest_digest"]);
    assert_eq!(img["config_digest"], summary["config_digest"]);
    for (l, s) in img["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(summary["layers"].as_array().unwrap())
    {
        assert_eq!(l["digest"], s["digest"]);
        assert_eq!(l["diff_id"], s["diff_id"]);
    }
    assert_eq!(img["config"]["user"], "app");
    assert_eq!(img["config"]["cmd"], serde_json::json!(["/app/start.sh"]));
    // The environment as built, with the planted token's value redacted (issue 20).
    let env: Vec<String> = summary["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let e = e.as_str().unwrap();
            match e.split_once('=') {
                Some(("GITHUB_TOKEN", _)) => "GITHUB_TOKEN=********".to_owned(),
                _ => e.to_owned(),
            }
        })
        .collect();
    assert_eq!(img["config"]["env"], serde_json::json!(env));
    assert_eq!(img["config"]["labels"], summary["config"]["Labels"]);
    assert_eq!(
        img["config"]["history"].as_array().unwrap().len(),
        summary["history"].as_array().unwrap().len()
    );
    assert_eq!(inv["distro"]["id"], "debian");
    assert_eq!(inv["distro"]["version_id"], "12");
    assert_eq!(inv["distro"]["codename"], "bookworm");
    let libc = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libc6")
        .unwrap();
    assert_eq!(libc["source_name"], "glibc");
    let purl = libc["purl"].as_str().unwrap();
    assert!(
        purl.starts_with("pkg:deb/debian/libc6@")
            && purl.contains("arch=amd64")
            && purl.contains("distro=debian-12")
            && purl.contains("upstream=glibc"),
        "{purl}"
    );
    assert!(
        libc["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "/lib/x86_64-linux-gnu/libc.so.6"),
        "paths from libc6:amd64.list"
    );
    // The app layer whites out /etc/motd and makes /var/log opaque.
    let files = sbom(
        &format!("oci:{}", d.join("oci").display()),
        cache.path(),
        &["--no-cache", "--files"],
    );
    let paths: BTreeSet<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(!paths.contains("/etc/motd"));
    assert!(!paths.contains("/var/log/dpkg.log") && !paths.contains("/var/log/apt"));
    assert!(paths.contains("/etc/os-release") && paths.contains("/app/start.sh"));
}

#[test]
fn layer_cache_skips_layers_already_read() {
    let cache = tempfile::tempdir().unwrap();
    let app = format!("oci:{}", corpus().join("debian-app/oci").display());
    let cached = |inv: &Value| -> Vec<bool> {
        inv["image"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["cached"].as_bool().unwrap())
            .collect()
    };
    let cold = sbom(&app, cache.path(), &[]);
    assert_eq!(cached(&cold), [false, false]);
    let warm = sbom(&app, cache.path(), &[]);
    assert_eq!(cached(&warm), [true, true]);
    assert_eq!(package_rows(&cold), package_rows(&warm));
    assert_eq!(cold["packages"], warm["packages"]);
    // Another image on the same base layer reads only its own layer.
    let big = sbom(
        &format!("oci:{}", corpus().join("bookworm-big/oci").display()),
        cache.path(),
        &[],
    );
    assert_eq!(cached(&big), [true, false]);
    assert_eq!(os_package_rows(&big), dpkg_tsv("bookworm-big"));
    // --no-cache neither reads nor writes it.
    let fresh = tempfile::tempdir().unwrap();
    let nc = sbom(&app, fresh.path(), &["--no-cache"]);
    assert_eq!(cached(&nc), [false, false]);
    assert!(!fresh.path().join("layers").exists());
}
