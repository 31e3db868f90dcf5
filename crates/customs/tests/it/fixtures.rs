//! Every fixture in ../shared/data/images/format-fixtures is read correctly or refused with a
//! clear error. "Correctly" is checked against the fixture's own layers (listed with `tar`
//! when the expectation was written down): whiteouts, opaque directories, overwritten files.

use crate::common::{customs, sbom, shared};

fn fixture(rel: &str) -> String {
    shared()
        .join("data/images/format-fixtures")
        .join(rel)
        .display()
        .to_string()
}

fn files(rel: &str, extra: &[&str]) -> Vec<(String, u64, String)> {
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["--files"];
    args.extend_from_slice(extra);
    let inv = sbom(&fixture(rel), cache.path(), &args);
    assert!(
        inv["warnings"].as_array().unwrap().is_empty(),
        "{rel}: {}",
        inv["warnings"]
    );
    inv["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["layer_index"].as_u64().unwrap(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn refused(rel: &str, extra: &[&str], message: &str) {
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["sbom"];
    args.extend_from_slice(extra);
    let src = fixture(rel);
    args.push(&src);
    let r = customs(&args, cache.path());
    assert_eq!(
        r.code, 2,
        "{rel} should be refused with exit 2: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(message),
        "{rel}: expected {message:?} in: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{rel}: {}", r.stderr);
}

fn f(p: &str, l: u64, k: &str) -> (String, u64, String) {
    (p.to_owned(), l, k.to_owned())
}

#[test]
fn whiteout_file_removes_lower_file() {
    // layers: [bar.txt, foo.txt], [.wh.foo.txt], [] in manifest order.
    assert_eq!(
        files("docker-archive/whiteout_image.tar", &[]),
        [f("/bar.txt", 0, "file")]
    );
}

#[test]
fn whiteout_of_directory_then_recreated() {
    // layers: [a/, a/foo], [b/, b/bar], [.wh.a], [a/, a/baz]: a/foo is gone, a/baz is new.
    assert_eq!(
        files("docker-archive/whiteout_dir.tar", &[]),
        [
            f("/a", 3, "dir"),
            f("/a/baz", 3, "file"),
            f("/b", 1, "dir"),
            f("/b/bar", 1, "file")
        ]
    );
}

#[test]
fn overwritten_file_takes_upper_layer() {
    // foo.txt is a file in layer 0 and a symlink in layer 1.
    assert_eq!(
        files("docker-archive/overwritten_file.tar", &[]),
        [f("/bar.txt", 1, "file"), f("/foo.txt", 1, "symlink")]
    );
}

#[test]
fn docker_archives_that_read() {
    for rel in [
        "docker-archive/source_image.tar",
        "docker-archive/source_image_with_empty_layer_history.tar",
        "docker-archive/test_image_1.tar",
        "docker-archive/test_image_2.tar",
        "docker-archive/test_load_manifest.tar",
        "docker-archive/hello-world-v25.tar",
    ] {
        let fs = files(rel, &[]);
        assert!(!fs.is_empty(), "{rel}: no files");
    }
    // Docker 25's form: layers named by blob digest (its index.json lists no manifests).
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom(
        &fixture("docker-archive/hello-world-v25.tar"),
        cache.path(),
        &[],
    );
    assert_eq!(inv["image"]["architecture"], "arm64");
    assert_eq!(
        inv["image"]["layers"][0]["digest"],
        "sha256:12660636fe55438cc3ae7424da7ac56e845cdb52493ff9cf949c47a7f57f8b43"
    );
    assert!(files("docker-archive/hello-world-v25.tar", &[]).contains(&f("/hello", 0, "file")));
}

#[test]
fn bundles_need_a_choice_and_accept_one() {
    refused("docker-archive/test_bundle.tar", &[], "holds 2 images");
    let src = format!(
        "docker-archive:{}:test_image_2",
        fixture("docker-archive/test_bundle.tar")
    );
    let cache = tempfile::tempdir().unwrap();
    let a = sbom(&src, cache.path(), &["--files"]);
    let b = sbom(
        &format!(
            "docker-archive:{}:test_image_1",
            fixture("docker-archive/test_bundle.tar")
        ),
        cache.path(),
        &[],
    );
    let first = sbom(
        &format!(
            "docker-archive:{}:@0",
            fixture("docker-archive/test_bundle.tar")
        ),
        cache.path(),
        &[],
    );
    // Config files are named by their digest in this archive.
    assert_eq!(
        a["image"]["config_digest"],
        "sha256:930705ce23e3b6ed4c08746b6fe880089c864fbaf62482702ae3fdd66b8c7fe9"
    );
    assert_eq!(
        b["image"]["config_digest"],
        "sha256:6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e"
    );
    assert_eq!(first["image"]["config_digest"], a["image"]["config_digest"]);
    // test_link.tar's layers are links to each other inside the archive.
    let src = format!(
        "docker-archive:{}:bazel/v1/tarball:test_image_3",
        fixture("docker-archive/test_link.tar")
    );
    let inv = sbom(&src, cache.path(), &["--files"]);
    assert!(inv["image"]["layers"].as_array().unwrap().len() >= 2);
    assert!(
        inv["warnings"].as_array().unwrap().is_empty(),
        "{}",
        inv["warnings"]
    );
}

#[test]
fn broken_docker_archives_are_refused() {
    refused("docker-archive/null_manifest.tar", &[], "lists no images");
    refused("docker-archive/no_manifest.tar", &[], "before Docker 1.10");
    refused("docker-archive/content.tar", &[], "not an image archive");
}

#[test]
fn oci_layouts() {
    for rel in [
        "oci-layout/valid_oci_dir",
        "oci-layout/test.oci",
        "oci-layout/valid-oci.tar",
    ] {
        assert!(!files(rel, &[]).is_empty(), "{rel}");
    }
    let tagged = format!("oci:{}:0.0.1", fixture("oci-layout/test_image_tag.oci"));
    let cache = tempfile::tempdir().unwrap();
    sbom(&tagged, cache.path(), &[]);
    let wrong = format!("oci:{}:nope", fixture("oci-layout/test_image_tag.oci"));
    let r = customs(&["sbom", &wrong], cache.path());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no image tagged \"nope\"; tags here: 0.0.1"),
        "{}",
        r.stderr
    );
}

#[test]
fn multi_platform_layout_picks_the_platform() {
    let cache = tempfile::tempdir().unwrap();
    let src = fixture("oci-layout/multiplatform_oci_dir");
    let amd = sbom(&src, cache.path(), &["--platform", "linux/amd64"]);
    let arm = sbom(&src, cache.path(), &["--platform", "linux/arm64"]);
    assert_eq!(amd["image"]["architecture"], "amd64");
    assert_eq!(arm["image"]["architecture"], "arm64");
    assert_ne!(
        amd["image"]["manifest_digest"],
        arm["image"]["manifest_digest"]
    );
    refused(
        "oci-layout/multiplatform_oci_dir",
        &["--platform", "linux/s390x"],
        "no image for platform linux/s390x",
    );
}

#[test]
fn broken_layouts_are_refused() {
    refused(
        "oci-layout/test_bad_index_json.oci",
        &[],
        "index.json: not valid JSON",
    );
    refused(
        "oci-layout/test_index_json_dir.oci",
        &[],
        "index.json: is a directory",
    );
    refused("oci-layout/no_manifests", &[], "must be an image index");
    refused(
        "oci-layout/test_no_valid_manifests.oci",
        &[],
        "neither an image manifest",
    );
    refused(
        "oci-layout/test_invalid_oci_image.oci",
        &[],
        "is missing from the image",
    );
}
