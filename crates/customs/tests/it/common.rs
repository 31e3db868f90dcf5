//! Shared helpers: where the data is, running the binary, and writing images.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::Digest as _;

/// `../shared` (or `$CUSTOMS_SHARED`). Panics when missing: these tests never skip.
pub(crate) fn shared() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("data").is_dir(),
        "shared data missing at {} (set CUSTOMS_SHARED)",
        p.display()
    );
    p
}

/// The image corpus built by `../shared/tools/build-images.sh`. Panics when missing.
pub(crate) fn corpus() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/customs-corpus"));
    let out = p.join("out");
    assert!(
        out.join("debian-app/oci/index.json").is_file(),
        "image corpus missing at {}: run scripts/test.sh (it builds it with ../shared/tools/build-images.sh)",
        out.display()
    );
    out
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

pub(crate) fn customs(args: &[&str], cache: &Path) -> Run {
    customs_with(
        Command::new(env!("CARGO_BIN_EXE_customs")).args(args),
        cache,
    )
}

pub(crate) fn customs_with(cmd: &mut Command, cache: &Path) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .env("CUSTOMS_CACHE_DIR", cache)
        .env("HOME", cache.join("home"))
        .env_remove("XDG_CACHE_HOME")
        .output()
        .expect("run customs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `customs sbom --format json SOURCE` that must succeed.
pub(crate) fn sbom(source: &str, cache: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["sbom", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(source);
    let r = customs(&args, cache);
    assert_eq!(r.code, 0, "customs sbom {source} failed: {}", r.stderr);
    r.json()
}

/// (name, version, arch, source_name, source_version) of every package, sorted.
/// (name, version) of every entry of a JSON list of packages (customs' inventory `packages`,
/// syft's `artifacts`).
pub(crate) fn name_versions(list: &Value) -> std::collections::BTreeSet<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list of packages: {list}"))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) fn package_rows(inv: &Value) -> Vec<String> {
    rows_where(inv, |_| true)
}

/// The same, for OS packages only: what dpkg-query and rpm list.
pub(crate) fn os_package_rows(inv: &Value) -> Vec<String> {
    rows_where(inv, |p| {
        matches!(p["ecosystem"].as_str(), Some("deb" | "apk" | "rpm"))
    })
}

fn rows_where(inv: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut rows: Vec<String> = inv["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| keep(p))
        .map(|p| {
            ["name", "version", "arch", "source_name", "source_version"]
                .iter()
                .map(|k| p[k].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect();
    rows.sort();
    rows
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

/// Builds a layer tar in memory, including entries no well-behaved tool would write.
pub(crate) struct LayerTar {
    buf: Vec<u8>,
}

impl Default for LayerTar {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerTar {
    pub(crate) fn new() -> Self {
        Self { buf: Vec::new() }
    }

    /// Write one ustar header with the name copied raw (so `..` and `/abs` survive).
    fn header(&mut self, name: &str, kind: u8, size: u64, link: &str, mode: u32) {
        let mut h = [0u8; 512];
        let nb = name.as_bytes();
        assert!(nb.len() <= 100, "test names fit the ustar name field");
        h[..nb.len()].copy_from_slice(nb);
        let octal = |v: u64, width: usize| format!("{v:0w$o}\0", w = width - 1);
        h[100..108].copy_from_slice(octal(u64::from(mode), 8).as_bytes());
        h[108..116].copy_from_slice(octal(0, 8).as_bytes());
        h[116..124].copy_from_slice(octal(0, 8).as_bytes());
        h[124..136].copy_from_slice(octal(size, 12).as_bytes());
        h[136..148].copy_from_slice(octal(1_735_689_600, 12).as_bytes());
        h[156] = kind;
        let lb = link.as_bytes();
        h[157..157 + lb.len()].copy_from_slice(lb);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.buf.extend_from_slice(&h);
    }

    pub(crate) fn file(self, name: &str, data: &[u8]) -> Self {
        self.file_mode(name, data, 0o644)
    }

    pub(crate) fn file_mode(mut self, name: &str, data: &[u8], mode: u32) -> Self {
        self.header(name, b'0', data.len() as u64, "", mode);
        self.buf.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub(crate) fn dir(mut self, name: &str) -> Self {
        self.header(name, b'5', 0, "", 0o755);
        self
    }

    pub(crate) fn symlink(mut self, name: &str, target: &str) -> Self {
        self.header(name, b'2', 0, target, 0o777);
        self
    }

    pub(crate) fn hardlink(mut self, name: &str, target: &str) -> Self {
        self.header(name, b'1', 0, target, 0o644);
        self
    }

    pub(crate) fn device(mut self, name: &str, kind: u8) -> Self {
        self.header(name, kind, 0, "", 0o644);
        self
    }

    /// A header claiming `size` bytes, followed by fewer.
    pub(crate) fn lying_file(mut self, name: &str, size: u64, actual: &[u8]) -> Self {
        self.header(name, b'0', size, "", 0o644);
        self.buf.extend_from_slice(actual);
        self
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.extend(std::iter::repeat_n(0u8, 1024));
        self.buf
    }

    /// End without the end-of-archive blocks.
    pub(crate) fn unterminated(self) -> Vec<u8> {
        self.buf
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Comp {
    None,
    Gzip,
    Zstd,
}

pub(crate) fn compress(data: &[u8], c: Comp) -> Vec<u8> {
    match c {
        Comp::None => data.to_vec(),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Comp::Zstd => zstd::encode_all(data, 3).unwrap(),
    }
}

/// Write an OCI image layout at `dir` with the given layers (uncompressed tars) and return the
/// manifest digest. `tamper` may edit the layout after it is written.
pub(crate) fn write_layout(dir: &Path, layers: &[Vec<u8>], comp: Comp) -> String {
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "app", "Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
        "history": [{"created_by": "test"}]
    });
    write_layout_with_config(dir, layers, comp, config)
}

/// [`write_layout`] with this config; its `rootfs` is written from the layers.
pub(crate) fn write_layout_with_config(
    dir: &Path,
    layers: &[Vec<u8>],
    comp: Comp,
    mut config: Value,
) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        h
    };
    let media = match comp {
        Comp::None => "application/vnd.oci.image.layer.v1.tar",
        Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    let mut diff_ids = Vec::new();
    let mut descs = Vec::new();
    for l in layers {
        diff_ids.push(format!("sha256:{}", sha256_hex(l)));
        let c = compress(l, comp);
        let h = put(&c);
        descs.push(serde_json::json!({"mediaType": media, "digest": format!("sha256:{h}"), "size": c.len()}));
    }
    config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": diff_ids});
    let cb = serde_json::to_vec(&config).unwrap();
    let ch = put(&cb);
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{ch}"), "size": cb.len()},
        "layers": descs
    });
    let mb = serde_json::to_vec(&manifest).unwrap();
    let mh = put(&mb);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{mh}"), "size": mb.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "1"}}]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("sha256:{mh}")
}

/// A dpkg status stanza for an installed package.
pub(crate) fn dpkg_stanza(name: &str, version: &str) -> String {
    format!(
        "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n"
    )
}

/// Every file under `dir`, relative, sorted.
pub(crate) fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}
