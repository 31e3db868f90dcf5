//! Hostile documents rather than hostile tar framing: manifests that loop, a config with a
//! megabyte of environment, a dpkg status with a 60 MB line, an rpm header that claims 2^31
//! index entries.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Comp, LayerTar, sha256_hex, write_layout};

use super::{has_warning, layout_from, names, scan, status, timed, warnings};

const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn index_listing(digests: &[String]) -> Vec<u8> {
    let manifests: Vec<Value> = digests
        .iter()
        .map(|d| json!({"mediaType": INDEX, "digest": d, "size": 200}))
        .collect();
    serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}))
        .unwrap()
}

/// Store `bytes` as blob `hex` (its digest or not) and point index.json at it.
fn put(dir: &Path, hex: &str, bytes: &[u8]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(hex), bytes).unwrap();
}

fn top(dir: &Path, hex: &str) {
    std::fs::write(
        dir.join("index.json"),
        index_listing(&[format!("sha256:{hex}")]),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// An index that lists itself, and two that list each other. Content addressing makes both
/// impossible with true digests, so each is stored under a name that is not its digest: the
/// digest check refuses the first blob read, before any loop could start.
#[test]
fn manifest_cycles_are_refused() {
    timed("manifest cycles", || {
        let fake = |s: &str| sha256_hex(s.as_bytes());
        // One index listing itself.
        let me = fake("self");
        let dir = tempfile::tempdir().unwrap();
        let body = index_listing(&[format!("sha256:{me}")]);
        put(dir.path(), &me, &body);
        top(dir.path(), &me);
        let (run, _) = scan(dir.path());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "blobs/sha256/{me}: digest mismatch: expected sha256:{me}, content hashes to sha256:{}",
                sha256_hex(&body)
            )),
            "{}",
            run.stderr
        );

        // Two indexes listing each other.
        let (a, b) = (fake("a"), fake("b"));
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), &a, &index_listing(&[format!("sha256:{b}")]));
        put(dir.path(), &b, &index_listing(&[format!("sha256:{a}")]));
        top(dir.path(), &a);
        let (run, _) = scan(dir.path());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("blobs/sha256/{a}: digest mismatch")),
            "{}",
            run.stderr
        );
    });
}

/// What can be built honestly is depth: six indexes nested, each listing the next.
#[test]
fn deeply_nested_indexes_are_refused() {
    timed("nested indexes", || {
        let dir = tempfile::tempdir().unwrap();
        let layer = LayerTar::new().file("a", b"1").finish();
        let manifest = write_layout(dir.path(), &[layer], Comp::None);
        let mut next = manifest;
        for _ in 0..6 {
            let body = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": INDEX,
                "manifests": [{"mediaType": INDEX, "digest": next, "size": 1}]}))
            .unwrap();
            let h = sha256_hex(&body);
            put(dir.path(), &h, &body);
            next = format!("sha256:{h}");
        }
        top(dir.path(), next.trim_start_matches("sha256:"));
        let (run, _) = scan(dir.path());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("index nesting loops or is deeper than 4 at sha256:"),
            "{}",
            run.stderr
        );
    });
}

#[test]
fn config_with_a_megabyte_of_env() {
    timed("1 MB of env", || {
        let long = format!("BIG={}", "x".repeat(1 << 20));
        let many: Vec<String> = (0..20_000).map(|i| format!("V{i}=v")).collect();
        let mut env = vec![long.clone()];
        env.extend(many);
        let layer = LayerTar::new()
            .file("var/lib/dpkg/status", &status(&[("a", "1")]))
            .finish();
        let gz = crate::common::compress(&layer, Comp::Gzip);
        let dir = tempfile::tempdir().unwrap();
        layout_from(
            dir.path(),
            &[(gz.as_slice(), "application/vnd.oci.image.layer.v1.tar+gzip")],
            &[format!("sha256:{}", sha256_hex(&layer))],
            json!({"Env": env}),
        );
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(names(&inv), ["a"]);
        let got = inv["image"]["config"]["env"].as_array().unwrap();
        assert_eq!(got.len(), 20_001);
        assert_eq!(got[0], long.as_str());

        // Past the 8 MiB limit for JSON documents the config is refused, by name.
        let dir = tempfile::tempdir().unwrap();
        let huge: Vec<String> = (0..9)
            .map(|i| format!("B{i}={}", "y".repeat(1 << 20)))
            .collect();
        layout_from(dir.path(), &[], &[], json!({"Env": huge}));
        let (run, _) = scan(dir.path());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("larger than the 8388608-byte limit for this kind of file"),
            "{}",
            run.stderr
        );
    });
}

/// The 100 MB line is over the dpkg analyzer's size limit (`oversized_files_are_skipped_not_loaded`);
/// this one is under it, so the parser itself meets a 60 MB line.
#[test]
fn dpkg_status_with_a_sixty_megabyte_line() {
    timed("dpkg 60 MB line", || {
        let mut s =
            b"Package: wide\nStatus: install ok installed\nVersion: 1\nDescription: ".to_vec();
        s.resize(60 << 20, b'a');
        s.extend_from_slice(b"\n\n");
        s.extend_from_slice(&status(&[("after", "2")]));
        let layer = LayerTar::new().file("var/lib/dpkg/status", &s).finish();
        drop(s);
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(names(&inv), ["after", "wide"]);
        assert!(warnings(&inv).is_empty(), "{:?}", warnings(&inv));
    });
}

/// An rpmdb.sqlite whose one header blob claims 2^31 index entries (32 GiB of index) in 24
/// bytes.
#[test]
fn rpm_header_claiming_two_to_the_31_entries() {
    timed("rpm 2^31 entries", || {
        let mut blob = 0x8000_0000u32.to_be_bytes().to_vec();
        blob.extend_from_slice(&16u32.to_be_bytes());
        blob.extend_from_slice(&[0u8; 16]);
        let db = tempfile::NamedTempFile::new().unwrap();
        {
            let c = rusqlite::Connection::open(db.path()).unwrap();
            c.execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);")
                .unwrap();
            c.execute("INSERT INTO Packages (blob) VALUES (?1)", [&blob])
                .unwrap();
        }
        let bytes = std::fs::read(db.path()).unwrap();
        let layer = LayerTar::new()
            .file("var/lib/rpm/rpmdb.sqlite", &bytes)
            .finish();
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(names(&inv).is_empty());
        assert!(
            has_warning(
                &inv,
                "/var/lib/rpm/rpmdb.sqlite",
                "corrupt rpm database: no package could be read: all 1 package records are corrupt, \
                 the first: package header #1 is corrupt: index count 2147483648 needs 34359738368 bytes but only 16 follow"
            ),
            "{:?}",
            warnings(&inv)
        );
    });
}
