//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`), one per parser.
//!
//! Each takes arbitrary bytes, runs a parser and drops the result: the property under test is
//! that no input makes a parser panic, hang or allocate without bound. Where a parser reads
//! text, bytes that are not UTF-8 are dropped, because its callers only hand it text.
//! `cargo test` replays every file under `fuzz/regressions/<target>/` through [`TARGETS`].

use std::io::{Cursor, Write as _};

use customs_image::{OpenOptions, SourceRef, StreamLimits};

use crate::analyzer;
use crate::apply;
use crate::lang::{cargo, golang, npm, python};
use crate::walk;
use crate::{CatalogOptions, Limits, apk, dpkg, os, rpm};

/// What every fuzz target calls.
pub type Entry = fn(&[u8]);

/// Every entry point of this crate, by its fuzz target's name.
pub const TARGETS: &[(&str, Entry)] = &[
    ("tar_walk", tar_walk),
    ("image_archive", image_archive),
    ("dpkg_status", dpkg_status),
    ("apk_installed", apk_installed),
    ("os_release", os_release),
    ("rpm_header", rpm_header),
    ("rpm_sqlite", rpm_sqlite),
    ("rpm_bdb", rpm_bdb),
    ("rpm_ndb", rpm_ndb),
    ("lang_python", lang_python),
    ("lang_npm", lang_npm),
    ("lang_cargo_lock", lang_cargo_lock),
    ("lang_go_mod", lang_go_mod),
    ("go_buildinfo", go_buildinfo),
    ("cargo_auditable", cargo_auditable),
    ("lang_ruby", lang_ruby),
    ("lang_php", lang_php),
    ("lang_dotnet", lang_dotnet),
    ("java_archive", java_archive),
    ("lang_java", lang_java),
];

/// A layer tar walked with every analyzer, then applied twice over itself (so its whiteouts
/// and opaque directories remove what the copy below holds) and turned into packages.
pub fn tar_walk(data: &[u8]) {
    let (facts, _err) = walk::walk_tar(
        Cursor::new(data),
        analyzer::all(),
        "fuzz",
        walk::WalkOptions {
            list_files: true,
            secrets: Some(&customs_detect::RuleSet::builtin()),
            meta: true,
        },
    );
    let merged = apply::apply(&[facts.clone(), facts]);
    let _ = crate::catalog::packages(&merged);
}

/// An oci-archive or docker-archive file opened in place (the outer tar's index, `index.json`,
/// docker's `manifest.json`, manifests, configs, digests), then catalogued: the whole path of
/// a scan that reads no network.
pub fn image_archive(data: &[u8]) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).and_then(|()| file.flush()).is_err() {
        return;
    }
    let opts = OpenOptions {
        platform: "linux/amd64".parse().expect("a valid platform"),
        scratch_dir: None,
        // Small enough that a decompression bomb costs milliseconds, not the run's budget.
        limits: StreamLimits {
            max_uncompressed: 16 << 20,
            max_ratio: 100,
            ratio_floor: 1 << 20,
        },
        registry: None,
        config_cache: None,
    };
    let catalog_opts = CatalogOptions {
        layer_cache: None,
        jobs: 1,
        list_files: true,
        limits: Limits {
            stream: opts.limits,
        },
        shared: None,
        ..CatalogOptions::default()
    };
    for kind in ["docker-archive", "oci-archive"] {
        let Ok(src) = SourceRef::parse(&format!("{kind}:{}", file.path().display())) else {
            continue;
        };
        if let Ok(image) = customs_image::open(&src, &opts) {
            let _ = crate::catalog(&image, &catalog_opts);
        }
    }
}

pub fn dpkg_status(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dpkg::parse_status(text, false);
        let _ = dpkg::parse_status(text, true);
        // The same stanza format carries a machine-readable copyright file.
        let _ = dpkg::copyright_licenses(text);
    }
}

pub fn apk_installed(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = apk::parse_installed(text);
    }
}

pub fn os_release(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = os::parse_os_release(text);
    }
}

pub fn rpm_header(data: &[u8]) {
    let _ = rpm::parse_header(data);
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const NDB_MAGIC: &[u8] = b"RpmP";
const BDB_MAGIC_LE: [u8; 4] = 0x0006_1561_u32.to_le_bytes();
const BDB_MAGIC_BE: [u8; 4] = 0x0006_1561_u32.to_be_bytes();

/// The input with `magic` written over its start, so that mutations spend their time inside
/// one backend instead of on the format detection.
fn with_magic(data: &[u8], at: usize, magic: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    if v.len() < at + magic.len() {
        v.resize(at + magic.len(), 0);
    }
    v[at..at + magic.len()].copy_from_slice(magic);
    v
}

pub fn rpm_sqlite(data: &[u8]) {
    let _ = rpm::parse_db(&with_magic(data, 0, SQLITE_MAGIC));
}

pub fn rpm_ndb(data: &[u8]) {
    let _ = rpm::parse_db(&with_magic(data, 0, NDB_MAGIC));
}

pub fn rpm_bdb(data: &[u8]) {
    let mut v = data.to_vec();
    // The other backends' magics are checked first; break them.
    if v.starts_with(SQLITE_MAGIC) || v.starts_with(NDB_MAGIC) {
        v[0] ^= 0xff;
    }
    // Keep the input's byte order when it has one: both are valid.
    if v.get(12..16) != Some(&BDB_MAGIC_BE[..]) {
        v = with_magic(&v, 12, &BDB_MAGIC_LE);
    }
    let _ = rpm::parse_db(&v);
}

pub fn lang_python(data: &[u8]) {
    for path in [
        "usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA",
        "app/poetry.lock",
        "app/Pipfile.lock",
        "app/uv.lock",
        "app/requirements.txt",
    ] {
        let _ = python::parse(path, data);
    }
}

pub fn lang_npm(data: &[u8]) {
    for path in [
        "app/node_modules/x/package.json",
        "app/package-lock.json",
        "app/yarn.lock",
        "app/pnpm-lock.yaml",
    ] {
        let _ = npm::parse(path, data);
    }
}

pub fn lang_cargo_lock(data: &[u8]) {
    let _ = cargo::parse_lock(data);
}

pub fn lang_go_mod(data: &[u8]) {
    let _ = golang::parse_go_mod(data);
    let _ = golang::parse_go_sum(data);
}

pub fn go_buildinfo(data: &[u8]) {
    let _ = golang::is_executable_format(data);
    let _ = golang::parse_buildinfo(data);
    binary_stream(data);
}

pub fn cargo_auditable(data: &[u8]) {
    let _ = cargo::parse_auditable(data);
    binary_stream(data);
}

/// The bytes as a layer's stream of a binary over the size limit, read once, front to back
/// (`lang/exe.rs`): the headers buffered and parsed as they come, the readers watching.
fn binary_stream(data: &[u8]) {
    use crate::analyzer::Analyzer as _;
    let mut stream = data;
    let input = analyzer::Input::Stream(&mut stream);
    let _ = crate::langs::BinaryAnalyzer.parse_stream("bin/x", data.len() as u64, input);
}

/// Installed gem specifications (read statically, never run) and `Gemfile.lock`.
pub fn lang_ruby(data: &[u8]) {
    for path in [
        "usr/lib/ruby/gems/3.1.0/specifications/x-1.0.gemspec",
        "app/Gemfile.lock",
    ] {
        let _ = crate::lang::ruby::parse(path, data);
    }
}

/// Composer's `installed.json` (both formats) and `composer.lock`.
pub fn lang_php(data: &[u8]) {
    for path in ["app/vendor/composer/installed.json", "app/composer.lock"] {
        let _ = crate::lang::php::parse(path, data);
    }
}

/// `*.deps.json` and NuGet's `packages.lock.json`.
pub fn lang_dotnet(data: &[u8]) {
    for path in ["app/App.deps.json", "src/packages.lock.json"] {
        let _ = crate::lang::dotnet::parse(path, data);
    }
}

/// A Java archive read as a stream, with the archives nested in it.
pub fn java_archive(data: &[u8]) {
    let _ = crate::lang::java::read_archive("app/app.jar", data);
}

/// `pom.xml` and Gradle lockfiles on disk.
pub fn lang_java(data: &[u8]) {
    let _ = crate::lang::java::parse_pom_file(data);
    let _ = crate::lang::java::parse_gradle_lock(data);
}

#[cfg(test)]
#[path = "../../../fuzz/replay.rs"]
mod tests;

/// The secret scanner on any bytes as a file, and as a config text to scan and redact.
pub fn secret_scan(data: &[u8]) {
    let rules = customs_detect::RuleSet::builtin();
    let mut stats = customs_detect::secrets::SecretStats::default();
    let _ = rules.scan_file("/app/.env", data, &mut stats);
    let _ = rules.scan_file("/root/.docker/config.json", data, &mut stats);
    let text = String::from_utf8_lossy(data);
    let _ = rules.scan_text(&text);
    let _ = rules.redact(&text);
}

/// A user's secret rule file (`--secret-config`): any text loads or is an error.
pub fn secret_rules(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = customs_detect::RuleSet::with_toml("fuzz.toml", text);
    }
}

/// The config checks on any image config.
pub fn config_checks(data: &[u8]) {
    let Ok(c) = serde_json::from_slice::<customs_image::ImageConfig>(data) else {
        return;
    };
    let input = customs_detect::config::ConfigInput {
        user: c.config.user.clone(),
        env: c.config.env.clone(),
        history: c
            .history
            .iter()
            .map(|h| customs_detect::config::HistoryStep {
                created_by: h.created_by.clone().unwrap_or_default(),
                empty_layer: h.empty_layer,
            })
            .collect(),
        healthcheck: c.config.healthcheck.as_ref().map(|h| h.test.clone()),
        exposed_ports: c.config.exposed_ports.keys().cloned().collect(),
        ..Default::default()
    };
    let _ = customs_detect::config::check(&input);
}
