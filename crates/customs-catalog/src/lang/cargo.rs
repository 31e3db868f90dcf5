//! Cargo: `Cargo.lock` and the dependency list cargo-auditable compiles into binaries.
//!
//! **Cargo.lock**, all four formats (Cargo's `resolve` documentation and real files): v1 has no
//! top-level `version` and keeps checksums in a `[metadata]` table; v2 moved them into each
//! `[[package]]`; v3 added `version = 3`; v4 (`version = 4`) changed how git sources are
//! written. What customs needs, `[[package]]` `name`, `version` and `source`, is the same in all
//! of them, so one reader serves all (checksums are not reported, so `[metadata]` is simply not
//! read). Pre-2017 lockfiles name the root package in a `[root]` table instead of a
//! `[[package]]`; it is reported too. Every package with a name and a version is reported, with
//! its `source` (`registry+https://...`, `git+https://...?rev=...#commit`) as the note; path and
//! workspace packages have no source, hence no note. A lockfile `version` above 4 is read the
//! same way, as long as it parses.
//!
//! **cargo-auditable** (`cargo auditable build`) stores the resolved dependency tree as
//! zlib-compressed JSON in a `.dep-v0` section (ELF, PE) or `__DATA,__dep_v0` (Mach-O):
//! `{"packages":[{"name","version","source","kind","dependencies","root"}],"format":N}`
//! (schema: the `auditable-serde` crate's documentation). `source` is `crates.io`, `git`,
//! `local`, `registry` or something newer, and becomes the note; `kind` is `runtime` (the default)
//! or `build` (proc-macros, build scripts and their dependencies: not in the binary's code, but
//! reported, as `"<source>; kind=build"`); `root: true` marks the binary's own crate
//! (location `root`). The section is decompressed to at most [`MAX_DEP_INFO`] bytes.

use std::io::Read as _;

use object::{Object as _, ObjectSection as _};
use serde::Deserialize;

use super::golang::images;
use super::{Evidence, LangEcosystem, LangPackage};

/// The most a `.dep-v0` section may inflate to. Real ones are a few kilobytes (about 100 bytes
/// per crate); more is a decompression bomb.
pub(crate) const MAX_DEP_INFO: u64 = 8 << 20;

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    package: Vec<RawLockPackage>,
    /// Cargo before 0.20 (2017) put the root package here.
    #[serde(default)]
    root: Option<RawLockPackage>,
}

#[derive(Deserialize)]
struct RawLockPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
}

/// Every package a `Cargo.lock` (format v1 to v4) names.
pub(crate) fn parse_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("Cargo.lock is not UTF-8: {e}"))?;
    let lock: RawLock = toml::from_str(text).map_err(|e| format!("Cargo.lock: {e}"))?;
    if let Some(v) = lock.version
        && v < 1
    {
        return Err(format!("Cargo.lock: unknown format version {v}"));
    }
    Ok(lock
        .root
        .into_iter()
        .chain(lock.package)
        .filter_map(|p| {
            let (Some(name), Some(version)) = (p.name, p.version) else {
                return None;
            };
            let mut pkg = LangPackage::new(LangEcosystem::Cargo, name, version, Evidence::Lockfile);
            pkg.note = p.source;
            Some(pkg)
        })
        .collect())
}

#[derive(Deserialize)]
struct RawDepInfo {
    packages: Vec<RawDep>,
}

#[derive(Deserialize)]
struct RawDep {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    root: bool,
}

/// The crates cargo-auditable recorded in an ELF, PE or Mach-O (also fat) file. `Ok(None)` when
/// the file is not one of those, or has no `.dep-v0` section; `Err` when the section is there
/// but does not inflate or parse.
pub(crate) fn parse_auditable(bytes: &[u8]) -> Result<Option<Vec<LangPackage>>, String> {
    for file in images(bytes) {
        let section = file.sections().find(|s| {
            matches!(s.name_bytes(), Ok(b".dep-v0" | b"__dep_v0"))
                && !matches!(s.segment_name_bytes(), Ok(Some(seg)) if seg != b"__DATA")
        });
        let Some(section) = section else { continue };
        let data = section
            .data()
            .map_err(|e| format!("unreadable .dep-v0 section: {e}"))?;
        return parse_dep_info(data).map(Some);
    }
    Ok(None)
}

/// The section's contents: zlib, then JSON.
fn parse_dep_info(compressed: &[u8]) -> Result<Vec<LangPackage>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_DEP_INFO + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!(".dep-v0 does not inflate: {e}"))?;
    if json.len() as u64 > MAX_DEP_INFO {
        return Err(format!(
            ".dep-v0 inflates to more than {MAX_DEP_INFO} bytes: refused"
        ));
    }
    let info: RawDepInfo =
        serde_json::from_slice(&json).map_err(|e| format!(".dep-v0 is not audit JSON: {e}"))?;
    info.packages
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            if d.name.is_empty() || d.version.is_empty() {
                return Err(format!(".dep-v0 package {i} lacks a name or a version"));
            }
            let mut pkg =
                LangPackage::new(LangEcosystem::Cargo, d.name, d.version, Evidence::Binary);
            let source = d.source.unwrap_or_else(|| "unknown".to_owned());
            pkg.note = Some(match d.kind.as_deref() {
                None | Some("runtime") => source,
                Some(kind) => format!("{source}; kind={kind}"),
            });
            if d.root {
                pkg.location = Some("root".to_owned());
            }
            Ok(pkg)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::path::{Path, PathBuf};

    use super::*;

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn fixture(name: &str) -> Vec<u8> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lang/cargo")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// `../shared` (or `$CUSTOMS_SHARED`). Panics when missing: these tests never skip.
    fn shared() -> PathBuf {
        let p = std::env::var_os("CUSTOMS_SHARED").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        );
        assert!(
            p.join("data").is_dir(),
            "shared data missing at {} (set CUSTOMS_SHARED)",
            p.display()
        );
        p
    }

    /// The image corpus built by `../shared/tools/build-images.sh`. Panics when missing.
    fn corpus() -> PathBuf {
        let p = std::env::var_os("CUSTOMS_CORPUS")
            .map_or_else(|| PathBuf::from("/var/tmp/customs-corpus"), PathBuf::from)
            .join("out");
        assert!(
            p.join("debian-app/oci/index.json").is_file(),
            "image corpus missing at {}: run scripts/test.sh (it builds it with ../shared/tools/build-images.sh)",
            p.display()
        );
        p
    }

    fn expected() -> serde_json::Value {
        let p = corpus().join("debian-app/expected.json");
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
    }

    fn triples(pkgs: &[LangPackage]) -> Vec<(&str, &str, Option<&str>)> {
        pkgs.iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.note.as_deref()))
            .collect()
    }

    #[test]
    fn lock_v4_demo_fixture_matches_expected() {
        let lock = std::fs::read(shared().join("tools/fixtures/app/rust/Cargo.lock")).unwrap();
        let got = parse_lock(&lock).unwrap();
        let want = expected();
        let want: Vec<(&str, &str, Option<&str>)> = want["cargo"]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["source"].as_str(),
                )
            })
            .collect();
        assert_eq!(want.len(), 11);
        assert_eq!(triples(&got), want);
        assert!(got.iter().all(|p| p.ecosystem == LangEcosystem::Cargo
            && p.evidence == Evidence::Lockfile
            && !p.dev
            && p.location.is_none()));
    }

    #[test]
    fn lock_v1_with_metadata_checksums() {
        let got = parse_lock(&fixture("v1-same-file-1.0.6.Cargo.lock")).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("doc-comment", "0.3.1", Some(CRATES_IO)),
                ("same-file", "1.0.6", None),
                ("winapi", "0.3.2", Some(CRATES_IO)),
                ("winapi-i686-pc-windows-gnu", "0.3.2", Some(CRATES_IO)),
                ("winapi-util", "0.1.1", Some(CRATES_IO)),
                ("winapi-x86_64-pc-windows-gnu", "0.3.2", Some(CRATES_IO)),
            ]
        );
    }

    #[test]
    fn lock_v2_inline_checksums() {
        let got = parse_lock(&fixture("v2-tracing-core-0.1.36.Cargo.lock")).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("once_cell", "1.21.3", Some(CRATES_IO)),
                ("tracing-core", "0.1.36", None),
                ("valuable", "0.1.1", Some(CRATES_IO)),
            ]
        );
    }

    #[test]
    fn lock_v3() {
        let got = parse_lock(&fixture("v3-regex-1.5.4.Cargo.lock")).unwrap();
        assert_eq!(got.len(), 12);
        assert!(got.contains(&{
            let mut p = LangPackage::new(
                LangEcosystem::Cargo,
                "aho-corasick",
                "0.7.18",
                Evidence::Lockfile,
            );
            p.note = Some(CRATES_IO.to_owned());
            p
        }));
        assert_eq!(
            got.iter().filter(|p| p.note.is_none()).count(),
            1,
            "only regex itself is local"
        );
    }

    #[test]
    fn lock_git_sources_root_table_and_gaps() {
        // Hand-written: a git source (v4 style), a pre-2017 `[root]`, a package without a
        // version (skipped).
        let lock = br#"
[root]
name = "old-app"
version = "0.1.0"

[[package]]
name = "from-git"
version = "0.2.0"
source = "git+https://example.invalid/from-git?branch=main#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "no-version"
"#;
        let got = parse_lock(lock).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("old-app", "0.1.0", None),
                (
                    "from-git",
                    "0.2.0",
                    Some(
                        "git+https://example.invalid/from-git?branch=main#0123456789abcdef0123456789abcdef01234567"
                    )
                ),
            ]
        );
    }

    #[test]
    fn lock_garbage_is_an_error() {
        for bad in [
            &b"[[package]\nname = "[..],
            b"\xff\xfe",
            b"version = 0\n",
            b"version = \"four\"\n",
            b"package = 3\n",
        ] {
            assert!(
                parse_lock(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_lock(b"").unwrap(), []);
    }

    fn demo_svc() -> Vec<u8> {
        std::fs::read(corpus().join("debian-app/bundle/rootfs/usr/local/bin/demo-svc")).unwrap()
    }

    #[test]
    fn auditable_demo_svc_matches_expected() {
        let got = parse_auditable(&demo_svc())
            .unwrap()
            .expect("demo-svc has .dep-v0");
        let want = expected();
        let want = want["rust_binaries"][0]["embedded_deps"]
            .as_array()
            .unwrap();
        assert_eq!(want.len(), 8);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.name, w["name"].as_str().unwrap());
            assert_eq!(g.version, w["version"].as_str().unwrap());
            assert_eq!(g.note.as_deref(), w["source"].as_str());
            assert_eq!(w["kind"], "runtime");
            assert_eq!(g.location.as_deref() == Some("root"), w["root"] == true);
            assert_eq!(
                (g.ecosystem, g.evidence, g.dev),
                (LangEcosystem::Cargo, Evidence::Binary, false)
            );
        }
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// demo-svc with its `.dep-v0` contents swapped for `payload` (same size or smaller; the
    /// section header is patched).
    fn with_dep_section(payload: &[u8]) -> Vec<u8> {
        let mut bin = demo_svc();
        let file = object::File::parse(&*bin).unwrap();
        let sec = file.section_by_name(".dep-v0").unwrap();
        let (off, size) = sec.file_range().unwrap();
        let (off, size) = (
            usize::try_from(off).unwrap(),
            usize::try_from(size).unwrap(),
        );
        assert!(payload.len() <= size, "payload too big for the section");
        drop(file);
        bin[off..off + size].fill(0);
        bin[off..off + payload.len()].copy_from_slice(payload);
        bin
    }

    /// demo-svc's real `.dep-v0` bytes in a PE image and a Mach-O object, both written with
    /// the object crate (no Windows or macOS cargo-auditable build is possible here).
    #[test]
    fn auditable_in_pe_and_macho() {
        use object::{Object as _, ObjectSection as _};
        let bin = demo_svc();
        let dep = object::File::parse(&*bin)
            .unwrap()
            .section_by_name(".dep-v0")
            .unwrap()
            .data()
            .unwrap()
            .to_vec();
        let want = parse_auditable(&bin).unwrap().unwrap();

        let mut obj = object::write::Object::new(
            object::BinaryFormat::MachO,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let s = obj.add_section(
            b"__DATA".to_vec(),
            b"__dep_v0".to_vec(),
            object::SectionKind::Data,
        );
        obj.append_section_data(s, &dep, 1);
        let macho = obj.write().unwrap();
        assert!(super::super::golang::is_executable_format(&macho[..64]));
        assert_eq!(parse_auditable(&macho).unwrap().unwrap(), want);

        let mut pe = Vec::new();
        let mut w = object::write::pe::Writer::new(true, 0x1000, 0x200, &mut pe);
        w.reserve_dos_header_and_stub();
        w.reserve_nt_headers(16);
        w.reserve_section_headers(1);
        let len = u32::try_from(dep.len()).unwrap();
        let range = w.reserve_section(
            *b".dep-v0\0",
            object::pe::IMAGE_SCN_CNT_INITIALIZED_DATA | object::pe::IMAGE_SCN_MEM_READ,
            len,
            len,
        );
        w.write_dos_header_and_stub().unwrap();
        w.write_nt_headers(object::write::pe::NtHeaders {
            machine: object::pe::IMAGE_FILE_MACHINE_AMD64,
            time_date_stamp: 0,
            characteristics: object::pe::IMAGE_FILE_EXECUTABLE_IMAGE
                | object::pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
            major_linker_version: 14,
            minor_linker_version: 0,
            address_of_entry_point: 0,
            image_base: 0x1_4000_0000,
            major_operating_system_version: 6,
            minor_operating_system_version: 0,
            major_image_version: 0,
            minor_image_version: 0,
            major_subsystem_version: 6,
            minor_subsystem_version: 0,
            subsystem: object::pe::IMAGE_SUBSYSTEM_WINDOWS_CUI,
            dll_characteristics: object::pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT,
            size_of_stack_reserve: 0x10_0000,
            size_of_stack_commit: 0x1000,
            size_of_heap_reserve: 0x10_0000,
            size_of_heap_commit: 0x1000,
        });
        w.write_section_headers();
        w.write_section(range.file_offset, &dep);
        assert!(super::super::golang::is_executable_format(&pe[..64]));
        assert_eq!(parse_auditable(&pe).unwrap().unwrap(), want);
    }

    #[test]
    fn auditable_build_kind_and_other_sources() {
        let json = br#"{"packages":[{"name":"app","version":"1.0.0","source":"local","root":true,"dependencies":[1]},{"name":"serde_derive","version":"1.0.0","source":"crates.io","kind":"build"},{"name":"g","version":"0.1.0","source":"git"}],"format":8}"#;
        let got = parse_dep_info(&zlib(json)).unwrap();
        assert_eq!(
            triples(&got),
            [
                ("app", "1.0.0", Some("local")),
                ("serde_derive", "1.0.0", Some("crates.io; kind=build")),
                ("g", "0.1.0", Some("git")),
            ]
        );
        assert_eq!(got[0].location.as_deref(), Some("root"));
        assert_eq!(got[1].location, None);
    }

    #[test]
    fn auditable_bad_section_is_an_error() {
        // Not zlib; truncated zlib; zlib of non-JSON; of JSON without packages; a nameless one.
        let full = zlib(br#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io"}]}"#);
        for payload in [
            b"not zlib at all".to_vec(),
            full[..full.len() / 2].to_vec(),
            zlib(b"<html>"),
            zlib(b"{\"format\":1}"),
            zlib(br#"{"packages":[{"name":"","version":"1.0.0"}]}"#),
        ] {
            let bin = with_dep_section(&payload);
            assert!(parse_auditable(&bin).is_err(), "{payload:?}");
        }
    }

    #[test]
    fn auditable_bomb_is_refused() {
        // 8 MiB of spaces deflate to about 8 KiB: too big for demo-svc's section, so the
        // section reader is called directly.
        let bomb = zlib(&vec![b' '; usize::try_from(MAX_DEP_INFO).unwrap() + 10]);
        let err = parse_dep_info(&bomb).unwrap_err();
        assert!(err.contains("refused"), "{err}");
        let just_fits = zlib(&vec![b' '; usize::try_from(MAX_DEP_INFO).unwrap()]);
        assert!(!parse_dep_info(&just_fits).unwrap_err().contains("refused"));
    }

    #[test]
    fn auditable_absent_is_none() {
        let ls = std::fs::read("/bin/ls").expect("/bin/ls");
        assert_eq!(parse_auditable(&ls), Ok(None));
        let go = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/go/demo-go"),
        )
        .unwrap();
        assert_eq!(parse_auditable(&go), Ok(None));
        assert_eq!(parse_auditable(b""), Ok(None));
        assert_eq!(parse_auditable(b"#!/bin/sh\necho hi\n"), Ok(None));
    }

    #[test]
    fn auditable_truncated_never_panics() {
        let bin = demo_svc();
        for len in (0..bin.len()).step_by(997).chain([bin.len() - 1]) {
            let _ = parse_auditable(&bin[..len]);
        }
    }
}
