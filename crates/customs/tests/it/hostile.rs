//! The hostile-input corpus, generated here: each case is an image a stranger could hand us.
//! Every case asserts the outcome (a warning naming the file, or a refusal with exit 2), that
//! nothing was written outside customs' cache, and, for the expensive ones, that memory stays
//! under a ceiling (`ulimit -v`).

use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{
    Comp, LayerTar, Run, customs_with, dpkg_stanza, files_under, sha256_hex, write_layout,
};

mod documents;
mod java;
mod ruby_php_dotnet;
mod tars;

/// The address-space ceiling every case runs under, in KiB (1 GiB).
const CEILING_KIB: u64 = 1 << 20;

/// Run `customs sbom --format json` on the layout in `dir`, from an empty working directory,
/// under a virtual-memory ceiling; then check nothing was written outside the cache.
fn scan(dir: &Path) -> (Run, Option<Value>) {
    let cache = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let before = files_under(dir);
    let cmd = format!(
        "ulimit -v {CEILING_KIB}; exec '{}' sbom --format json 'oci:{}'",
        env!("CARGO_BIN_EXE_customs"),
        dir.display()
    );
    let run = customs_with(
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(cwd.path()),
        cache.path(),
    );
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    // An allocation refused under the ceiling aborts the process (SIGABRT, no exit code).
    assert!(
        !run.stderr.contains("memory allocation"),
        "ran out of memory under the {CEILING_KIB} KiB ceiling: {}",
        run.stderr
    );
    assert!(
        run.code == 0 || run.code == 2,
        "exit code {} (a signal when -1): {}",
        run.code,
        run.stderr
    );
    assert_eq!(files_under(dir), before, "the image directory was modified");
    assert!(
        files_under(cwd.path()).is_empty(),
        "files written to the working directory"
    );
    for f in files_under(cache.path()) {
        assert!(
            f.starts_with("layers/"),
            "unexpected file in the cache: {f}"
        );
    }
    let json = (run.code == 0).then(|| run.json());
    (run, json)
}

/// Run one case, reporting its wall time (the module has a time budget: see tars.rs).
#[expect(
    clippy::print_stderr,
    reason = "case timings are part of the test's report"
)]
fn timed<T>(case: &str, f: impl FnOnce() -> T) -> T {
    let t = std::time::Instant::now();
    let r = f();
    eprintln!("hostile case {case}: {:.1}s", t.elapsed().as_secs_f64());
    r
}

fn warnings(inv: &Value) -> Vec<(String, String)> {
    inv["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["file"].as_str().unwrap().to_owned(),
                w["problem"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has_warning(inv: &Value, file: &str, problem: &str) -> bool {
    warnings(inv)
        .iter()
        .any(|(f, p)| f.contains(file) && p.contains(problem))
}

fn names(inv: &Value) -> Vec<String> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    pkgs.iter()
        .map(|(n, v)| dpkg_stanza(n, v))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn path_traversal_and_absolute_paths_are_skipped() {
    let layer = LayerTar::new()
        .file("../../outside/evil", b"x")
        .file("a/../../escape", b"x")
        .file("/etc/abs-evil", b"x")
        .file("var/lib/dpkg/status", &status(&[("good", "1.0")]))
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let (run, inv) = scan(dir.path());
    let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
    assert_eq!(names(&inv), ["good"]);
    assert!(has_warning(
        &inv,
        "../../outside/evil",
        "climbs out of the image root"
    ));
    assert!(has_warning(&inv, "a/../../escape", "climbs out"));
    assert!(has_warning(&inv, "/etc/abs-evil", "absolute path"));
    assert!(!dir.path().parent().unwrap().join("outside").exists());
}

#[test]
fn link_escapes_are_not_followed() {
    let layer = LayerTar::new()
        .symlink("etc/os-release", "../../../../../etc/os-release")
        .hardlink("var/lib/dpkg/status", "../../../etc/passwd")
        .symlink("usr/lib/os-release", "/usr/lib/os-release-real")
        .file("usr/lib/os-release-real", b"ID=alpine\n")
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let (run, inv) = scan(dir.path());
    let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(has_warning(
        &inv,
        "/etc/os-release",
        "leaves the image root"
    ));
    assert!(has_warning(
        &inv,
        "/var/lib/dpkg/status",
        "leaves the image root"
    ));
    // The host's /etc/os-release was not read: the image has no distro of its own there.
    assert!(inv["distro"].is_null() || inv["distro"]["id"] != "debian");
    assert!(names(&inv).is_empty());
}

#[test]
fn links_inside_the_image_are_followed() {
    // /etc/os-release -> ../usr/lib/os-release is how Debian ships it.
    let layer = LayerTar::new()
        .file(
            "usr/lib/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        )
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("var/lib/dpkg/status", &status(&[("a", "1")]))
        .hardlink("var/lib/dpkg/status.d/a", "var/lib/dpkg/status")
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let (_, inv) = scan(dir.path());
    let inv = inv.unwrap();
    assert_eq!(inv["distro"]["id"], "debian");
    assert_eq!(inv["distro"]["source_file"], "/etc/os-release");
    assert_eq!(
        names(&inv),
        ["a", "a"],
        "status and its hard link in status.d"
    );
}

#[test]
fn device_nodes_and_fifos_are_skipped() {
    let layer = LayerTar::new()
        .device("dev/sda", b'4')
        .device("dev/null", b'3')
        .device("tmp/fifo", b'6')
        .file("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\nA:x86_64\n\n")
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::None);
    let (_, inv) = scan(dir.path());
    let inv = inv.unwrap();
    for f in ["/dev/sda", "/dev/null", "/tmp/fifo"] {
        assert!(has_warning(&inv, f, "device node or FIFO"), "{f}");
    }
    assert_eq!(names(&inv), ["musl"]);
}

/// A layer of `size` zero bytes in one file, compressed as it is generated: only the
/// compressed output is ever held in memory.
fn bomb(size: u64, comp: Comp) -> Vec<u8> {
    enum Enc {
        Gz(flate2::write::GzEncoder<Vec<u8>>),
        Zst(zstd::stream::write::Encoder<'static, Vec<u8>>),
    }
    let mut enc = match comp {
        Comp::Gzip => Enc::Gz(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::best(),
        )),
        Comp::Zstd => Enc::Zst(zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap()),
        Comp::None => unreachable!("a bomb is compressed"),
    };
    let mut write = |b: &[u8]| match &mut enc {
        Enc::Gz(e) => e.write_all(b).unwrap(),
        Enc::Zst(e) => e.write_all(b).unwrap(),
    };
    write(
        &LayerTar::new()
            .lying_file("zeros", size, b"")
            .unterminated(),
    );
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).unwrap();
        write(&chunk[..n]);
        left -= n as u64;
    }
    write(&[0u8; 1024]);
    match enc {
        Enc::Gz(e) => e.finish().unwrap(),
        Enc::Zst(e) => e.finish().unwrap(),
    }
}

/// Write a layout whose single layer blob is given already compressed.
fn layout_with_blob(dir: &Path, blob: &[u8], diff_id: Option<&str>, media: &str) {
    let diff_ids: Vec<String> = diff_id.map(str::to_owned).into_iter().collect();
    layout_from(dir, &[(blob, media)], &diff_ids, serde_json::json!({}));
}

/// Write a layout whose layer blobs are given already compressed, without diff_ids (so a
/// blob may be anything, a cut stream included).
fn layout_with_blobs(dir: &Path, blobs: &[(&[u8], &str)]) {
    layout_from(dir, blobs, &[], serde_json::json!({}));
}

/// The layout behind the two above, with `config` as the image config's `config` object.
fn layout_from(dir: &Path, layers: &[(&[u8], &str)], diff_ids: &[String], config: Value) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        h
    };
    let descs: Vec<Value> = layers
        .iter()
        .map(|(blob, media)| {
            serde_json::json!({"mediaType": media, "digest": format!("sha256:{}", put(blob)), "size": blob.len()})
        })
        .collect();
    let cfg = serde_json::to_vec(&serde_json::json!({"architecture":"amd64","os":"linux","config":config,"rootfs":{"type":"layers","diff_ids":diff_ids}})).unwrap();
    let ch = put(&cfg);
    let m = serde_json::to_vec(&serde_json::json!({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":format!("sha256:{ch}"),"size":cfg.len()},
        "layers":descs})).unwrap();
    let mh = put(&m);
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&serde_json::json!({"schemaVersion":2,
        "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":format!("sha256:{mh}"),"size":m.len()}]})).unwrap()).unwrap();
}

#[test]
fn decompression_bombs_stop_with_a_clear_warning() {
    for (comp, media) in [
        (Comp::Gzip, "application/vnd.oci.image.layer.v1.tar+gzip"),
        (Comp::Zstd, "application/vnd.oci.image.layer.v1.tar+zstd"),
    ] {
        // 2 GiB of zeros: about 2 MB of gzip, a few hundred KB of zstd.
        let blob = bomb(2 << 30, comp);
        assert!(blob.len() < 16 << 20);
        let dir = tempfile::tempdir().unwrap();
        layout_with_blob(dir.path(), &blob, None, media);
        let (run, inv) = scan(dir.path());
        // The memory ceiling, explicitly: under `ulimit -v` the scan ends normally (exit 0,
        // `scan` has already checked there was no allocation failure or signal), with the
        // bomb named as a warning in the report and on stderr.
        assert_eq!(run.code, 0, "{}", run.stderr);
        let inv = inv.unwrap();
        let blob_hex = sha256_hex(&blob);
        assert!(
            has_warning(&inv, &blob_hex, "decompression bomb"),
            "{:?}",
            warnings(&inv)
        );
        assert!(
            run.stderr.lines().any(|l| l.starts_with("warning: ")
                && l.contains(&blob_hex)
                && l.contains("decompression bomb")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn two_hundred_thousand_tiny_entries() {
    let mut t = LayerTar::new();
    for i in 0..200_000 {
        t = t.file(&format!("d{}/f{i}", i % 1000), b"x");
    }
    let layer = t
        .file("var/lib/dpkg/status", &status(&[("last", "1")]))
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let (run, inv) = scan(dir.path());
    let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
    assert_eq!(
        names(&inv),
        ["last"],
        "the entry after 200k others is still read"
    );
    assert!(warnings(&inv).is_empty());
}

#[test]
fn truncated_gzip_layer_warns_and_keeps_the_rest() {
    let good = LayerTar::new()
        .file("var/lib/dpkg/status", &status(&[("base", "1")]))
        .finish();
    let mut filler = LayerTar::new();
    for i in 0..2000 {
        filler = filler.file(&format!("junk/{i}"), format!("{i:0>4000}").as_bytes());
    }
    let bad = filler.finish();
    let gz = crate::common::compress(&bad, Comp::Gzip);
    let cut = gz[..gz.len() / 2].to_vec();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[good, bad], Comp::Gzip);
    // Replace the second layer's blob with its first half, and fix up the manifest to match,
    // as a stranger would.
    let idx: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    let mdig = idx["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    let mpath = dir.path().join("blobs/sha256").join(&mdig);
    let mut m: Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    let h = sha256_hex(&cut);
    std::fs::write(dir.path().join("blobs/sha256").join(&h), &cut).unwrap();
    m["layers"][1]["digest"] = Value::from(format!("sha256:{h}"));
    m["layers"][1]["size"] = Value::from(cut.len());
    let mb = serde_json::to_vec(&m).unwrap();
    let mh = sha256_hex(&mb);
    std::fs::write(dir.path().join("blobs/sha256").join(&mh), &mb).unwrap();
    let mut idx = idx;
    idx["manifests"][0]["digest"] = Value::from(format!("sha256:{mh}"));
    idx["manifests"][0]["size"] = Value::from(mb.len());
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&idx).unwrap(),
    )
    .unwrap();
    let (run, inv) = scan(dir.path());
    let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
    assert_eq!(names(&inv), ["base"]);
    assert!(
        has_warning(&inv, &h, "could not be read to the end"),
        "{:?}",
        warnings(&inv)
    );
}

#[test]
fn corrupt_package_databases_warn_and_the_rest_is_read() {
    let layer = LayerTar::new()
        .file(
            "var/lib/dpkg/status",
            b"Version: 1\n\nnonsense without fields\n",
        )
        .file(
            "var/lib/rpm/rpmdb.sqlite",
            b"SQLite format 3\0this is not a database at all",
        )
        .file("usr/lib/sysimage/rpm/Packages", &[0xffu8; 4096])
        .file(
            "lib/apk/db/installed",
            b"P:busybox\nV:1.36.1-r5\nA:x86_64\n\n",
        )
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let (run, inv) = scan(dir.path());
    let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
    assert_eq!(names(&inv), ["busybox"]);
    assert!(has_warning(
        &inv,
        "/var/lib/dpkg/status",
        "no Package field"
    ));
    assert!(has_warning(
        &inv,
        "/var/lib/rpm/rpmdb.sqlite",
        "corrupt rpm database"
    ));
    assert!(has_warning(
        &inv,
        "/usr/lib/sysimage/rpm/Packages",
        "corrupt rpm database"
    ));
}

#[test]
fn oversized_files_are_skipped_not_loaded() {
    // A dpkg status with one 100 MB line, over the analyzer's 64 MiB limit.
    let mut big = b"Package: x\nStatus: install ok installed\nVersion: 1\nDescription: ".to_vec();
    big.resize(100 << 20, b'a');
    let layer = LayerTar::new().file("var/lib/dpkg/status", &big).finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let (run, inv) = scan(dir.path());
    let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        has_warning(&inv, "/var/lib/dpkg/status", "over the 67108864-byte limit"),
        "{:?}",
        warnings(&inv)
    );
}

#[test]
fn missing_blob_is_refused() {
    let layer = LayerTar::new().file("a", b"1").finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), std::slice::from_ref(&layer), Comp::Gzip);
    let gz = crate::common::compress(&layer, Comp::Gzip);
    std::fs::remove_file(dir.path().join("blobs/sha256").join(sha256_hex(&gz))).unwrap();
    let (run, _) = scan(dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "blob sha256:{} is missing from the image",
            sha256_hex(&gz)
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn tampered_layer_is_refused() {
    let layer = LayerTar::new()
        .file("var/lib/dpkg/status", &status(&[("a", "1")]))
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), std::slice::from_ref(&layer), Comp::None);
    // Same size, different bytes: the digest check must catch it.
    let p = dir.path().join("blobs/sha256").join(sha256_hex(&layer));
    let mut bytes = std::fs::read(&p).unwrap();
    let i = bytes.windows(4).position(|w| w == b"1\n\n").unwrap_or(600);
    bytes[i] = b'2';
    std::fs::write(&p, &bytes).unwrap();
    let (run, _) = scan(dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("digest mismatch") && run.stderr.contains(&sha256_hex(&layer)),
        "{}",
        run.stderr
    );
}

#[test]
fn schema1_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = std::fs::read(
        crate::common::shared().join("data/images/format-fixtures/manifests/v2s1.manifest.json"),
    )
    .unwrap();
    let h = sha256_hex(&s1);
    std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
    std::fs::write(dir.path().join("blobs/sha256").join(&h), &s1).unwrap();
    std::fs::write(
        dir.path().join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"sha256:{h}","size":{}}}]}}"#,
            s1.len()
        ),
    )
    .unwrap();
    let (run, _) = scan(dir.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("schema 1"), "{}", run.stderr);
}

#[test]
fn bad_sources_exit_2_with_a_message() {
    let cache = tempfile::tempdir().unwrap();
    for (src, msg) in [
        ("oci:/nonexistent/layout", "no such file or directory"),
        ("/nonexistent/thing", "no such file or directory"),
        (
            "docker-archive:/etc/hostname",
            "/etc/hostname: not a tar archive",
        ),
    ] {
        let r = customs_with(
            Command::new(env!("CARGO_BIN_EXE_customs")).args(["sbom", src]),
            cache.path(),
        );
        assert_eq!(r.code, 2, "{src}");
        assert!(r.stderr.contains(msg), "{src}: {}", r.stderr);
    }
}

/// Papercut: `customs sbom missing.tar` (no such file) asked Docker Hub for
/// `library/missing.tar` and retried the DNS failure six times. A name that can only be a path,
/// or is named like an archive, is a missing file: said at once, with no network request.
#[test]
fn a_missing_file_is_said_at_once_and_no_registry_is_asked() {
    let cache = tempfile::tempdir().unwrap();
    // Relative names are looked up here, where nothing is.
    let cwd = tempfile::tempdir().unwrap();
    // Every proxy variable points at this listener, so any request customs made would show
    // as a connection to it. Never accepted during a run: a client that got through would
    // wait for an answer, which the time bound catches too.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let proxy = format!("http://{}", trap.local_addr().unwrap());
    let connections = || {
        let mut n = 0;
        loop {
            match trap.accept() {
                Ok(_) => n += 1,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return n,
                Err(e) => panic!("trap listener: {e}"),
            }
        }
    };
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
        cmd.args(args).current_dir(cwd.path());
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
        ] {
            cmd.env(var, &proxy);
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
        let t = std::time::Instant::now();
        let r = customs_with(&mut cmd, cache.path());
        (r, t.elapsed())
    };
    let said = |path: &str, hint: &str| {
        format!("customs: error: {path}: no such file or directory{hint}\n")
    };
    let named_like_an_archive = |name: &str| {
        let hint = format!(" (for an image of that name in a registry, write registry:{name})");
        said(name, &hint)
    };
    let cases = [
        ("missing.tar", named_like_an_archive("missing.tar")),
        ("app.tgz", named_like_an_archive("app.tgz")),
        (
            "images/app.tar.gz",
            named_like_an_archive("images/app.tar.gz"),
        ),
        ("app.tar.zst", named_like_an_archive("app.tar.zst")),
        ("/nonexistent/app.tar", said("/nonexistent/app.tar", "")),
        ("./app", said("./app", "")),
        ("../app", said("../app", "")),
        (
            "~/app.tar",
            said(
                "~/app.tar",
                " (customs does not expand ~; the shell does, when it is not quoted)",
            ),
        ),
        ("oci:layout", said("layout", "")),
        ("oci-archive:missing.tar", said("missing.tar", "")),
        ("docker-archive:missing.tar", said("missing.tar", "")),
        ("dir:rootfs", said("rootfs", "")),
    ];
    for (src, want) in cases {
        let (r, took) = run(&["sbom", src]);
        assert_eq!(r.code, 2, "{src}: {}", r.stderr);
        assert_eq!(r.stderr, want, "{src}");
        assert_eq!(connections(), 0, "{src}: customs made a network request");
        assert!(
            took < std::time::Duration::from_secs(1),
            "{src}: took {took:?}"
        );
    }
    // The trap catches what it is meant to: a reference forced to a registry goes through it
    // (one attempt, given up after a second's silence).
    let (r, _) = run(&[
        "sbom",
        "--retries",
        "0",
        "--registry-timeout",
        "1",
        "registry:missing.tar",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        connections() >= 1,
        "the proxy trap saw nothing: {}",
        r.stderr
    );
}

/// Papercut: a source that is not a tar printed the tar reader's message, which quotes the
/// header it could not parse, i.e. the first 100 bytes of the user's file.
#[test]
fn a_source_that_is_not_a_tar_is_named_not_printed() {
    let cache = tempfile::tempdir().unwrap();
    // A real file of the host that is not a tar, and the start of its first line.
    let passwd = "/etc/passwd";
    let head: String = std::fs::read_to_string(passwd)
        .unwrap()
        .chars()
        .take_while(|c| *c != ':')
        .collect();
    assert!(!head.is_empty());
    for src in [
        format!("docker-archive:{passwd}"),
        format!("oci-archive:{passwd}"),
        passwd.to_owned(),
    ] {
        let r = customs_with(
            Command::new(env!("CARGO_BIN_EXE_customs")).args(["sbom", &src]),
            cache.path(),
        );
        assert_eq!(r.code, 2, "{src}: {}", r.stderr);
        assert_eq!(
            r.stderr.trim_end(),
            "customs: error: /etc/passwd: not a tar archive",
            "{src}"
        );
        assert!(
            !r.stderr.contains(&format!("{head}:")),
            "{src}: {}",
            r.stderr
        );
    }
}

/// A root filesystem whose links point at absolute paths: they resolve inside the root, never
/// on the host running customs.
#[test]
fn rootfs_links_resolve_inside_the_root() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/lib/apk/db")).unwrap();
    std::fs::write(
        r.join("usr/lib/apk/db/installed"),
        b"P:musl\nV:1.2.4-r2\nA:x86_64\n\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/usr/lib", r.join("lib")).unwrap();
    // The host has /etc/os-release and /var/lib/dpkg/status; this root's links point there.
    std::os::unix::fs::symlink("/etc", r.join("etc")).unwrap();
    std::fs::create_dir_all(r.join("var/lib")).unwrap();
    std::os::unix::fs::symlink("/var/lib/dpkg", r.join("var/lib/dpkg")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let inv = crate::common::sbom(&format!("dir:{}", r.display()), cache.path(), &[]);
    assert_eq!(names(&inv), ["musl"]);
    assert!(
        inv["distro"].is_null(),
        "read the host's os-release: {}",
        inv["distro"]
    );
}
