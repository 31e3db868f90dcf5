//! An inventory read back from its JSON is the inventory that was written: stored inventories
//! are matched again later without re-reading the image.

use std::path::Path;

use customs_catalog::{CatalogOptions, Ecosystem, Inventory, catalog};
use customs_image::{OpenOptions, SourceRef};
use sha2::{Digest as _, Sha256};

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// An uncompressed tar of `(path, contents)` regular files.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Writes an OCI image layout of uncompressed `layers` to `dir`.
fn write_layout(dir: &Path, layers: &[Vec<u8>]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        h
    };
    let media = "application/vnd.oci.image.layer.v1.tar";
    let mut diff_ids = Vec::new();
    let mut descs = Vec::new();
    for l in layers {
        let h = put(l);
        diff_ids.push(format!("sha256:{h}"));
        descs.push(
            serde_json::json!({"mediaType": media, "digest": format!("sha256:{h}"), "size": l.len()}),
        );
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": {
            "User": "app", "Env": ["PATH=/usr/bin"], "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["serve"], "WorkingDir": "/srv", "Labels": {"org.example": "yes"},
            "ExposedPorts": {"8080/tcp": {}}
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "ADD rootfs", "created": "2024-01-01T00:00:00Z"},
            {"created_by": "ENV x=1", "empty_layer": true},
            {"created_by": "RUN apk add", "comment": "buildkit"}
        ]
    });
    let cb = serde_json::to_vec(&config).unwrap();
    let ch = put(&cb);
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{ch}"), "size": cb.len()},
        "layers": descs
    });
    let mb = serde_json::to_vec(&manifest).unwrap();
    let mh = put(&mb);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": format!("sha256:{mh}"), "size": mb.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "1"}}]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

fn scan(list_files: bool) -> Inventory {
    let dir = tempfile::tempdir().unwrap();
    let base = tar_of(&[
        (
            "etc/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian 12\"\n",
        ),
        (
            "var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\n\
              Version: 2.36-9\n\nPackage: zlib1g\nStatus: install ok installed\n\
              Architecture: amd64\nSource: zlib (1:1.2.13.dfsg-1)\nVersion: 1:1.2.13.dfsg-1\n\n",
        ),
        (
            "var/lib/dpkg/info/libc6.list",
            b"/lib/x86_64-linux-gnu/libc.so.6\n",
        ),
        (
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
        ),
    ]);
    let top = tar_of(&[
        (
            "lib/apk/db/installed",
            b"P:busybox\nV:1.36.1-r5\nA:x86_64\no:busybox\n\n",
        ),
        (
            "srv/node_modules/left-pad/package.json",
            br#"{"name":"left-pad","version":"1.3.0"}"#,
        ),
        ("srv/node_modules/broken/package.json", b"{ not json"),
    ]);
    write_layout(dir.path(), &[base, top]);
    let src = SourceRef::parse(&format!("oci:{}", dir.path().display())).unwrap();
    let image = customs_image::open(&src, &OpenOptions::default()).unwrap();
    let opts = CatalogOptions {
        jobs: 1,
        list_files,
        ..CatalogOptions::default()
    };
    catalog(&image, &opts).unwrap()
}

fn round_trip(inv: &Inventory) {
    let json = serde_json::to_value(inv).unwrap();
    let back: Inventory = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    assert_eq!(back.schema, inv.schema);
    assert_eq!(back.source, inv.source);
    assert_eq!(back.distro, inv.distro);
    assert_eq!(back.packages, inv.packages);
    assert_eq!(back.files, inv.files);
    assert_eq!(back.warnings, inv.warnings);
    // Through text too, as the store keeps it.
    let text = serde_json::to_string(inv).unwrap();
    let back: Inventory = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

#[test]
fn a_scanned_inventory_round_trips_through_json() {
    for list_files in [false, true] {
        let inv = scan(list_files);
        // The scan found what the round trip is meant to exercise.
        let ecosystems: std::collections::BTreeSet<Ecosystem> =
            inv.packages.iter().map(|p| p.ecosystem).collect();
        for e in [
            Ecosystem::Deb,
            Ecosystem::Apk,
            Ecosystem::PyPI,
            Ecosystem::Npm,
        ] {
            assert!(
                ecosystems.contains(&e),
                "no {e} package in {:#?}",
                inv.packages
            );
        }
        let image = inv.image.as_ref().expect("image meta");
        assert_eq!(image.layers.len(), 2);
        assert!(!image.config.history.is_empty());
        assert!(inv.distro.is_some());
        assert!(!inv.warnings.is_empty(), "the broken package.json warns");
        assert_eq!(inv.files.is_some(), list_files);
        round_trip(&inv);
    }
}

#[test]
fn a_minimal_inventory_round_trips_through_json() {
    // Optional parts left out of the JSON deserialize to their defaults.
    let json = serde_json::json!({
        "schema": customs_catalog::SCHEMA_VERSION,
        "source": {"kind": "dir", "reference": "/rootfs"},
        "distro": null,
        "packages": [{
            "name": "x", "version": "1", "ecosystem": "cargo", "purl": null,
            "source_name": null, "source_version": null, "arch": null, "layer": null,
            "layer_index": null, "found_in": "Cargo.lock", "paths": []
        }],
        "warnings": []
    });
    let inv: Inventory = serde_json::from_value(json.clone()).unwrap();
    assert!(inv.image.is_none() && inv.files.is_none());
    assert!(!inv.packages[0].dev && inv.packages[0].evidence.is_empty());
    assert_eq!(serde_json::to_value(&inv).unwrap(), json);
}
