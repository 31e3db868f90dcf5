//! Package databases other than the corpus's dpkg: apk (a real Alpine image) and rpm (real
//! databases in all three backends), read through the whole pipeline.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::{Comp, LayerTar, name_versions, sbom, shared, write_layout};

/// The apk database of alpine-310.tar.gz, read with `tar` (an independent reader) for the
/// reference list.
fn alpine_reference() -> BTreeSet<(String, String)> {
    let archive = shared().join("data/images/real/alpine-310.tar.gz");
    let sh = format!(
        "tar -xzOf '{}' 71dba1fabbde4baabcdebcde4895d3f3887e388b09cef162f8159cf7daffa1b8/layer.tar | tar -xOf - lib/apk/db/installed",
        archive.display()
    );
    let out = Command::new("sh").arg("-c").arg(sh).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut set = BTreeSet::new();
    let mut name = String::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("P:") {
            name = n.to_owned();
        } else if let Some(v) = line.strip_prefix("V:") {
            set.insert((name.clone(), v.to_owned()));
        }
    }
    set
}

#[test]
fn alpine_apk_database() {
    let cache = tempfile::tempdir().unwrap();
    let src = shared().join("data/images/real/alpine-310.tar.gz");
    let inv = sbom(&src.display().to_string(), cache.path(), &[]);
    let ours: BTreeSet<(String, String)> = name_versions(&inv["packages"]);
    assert_eq!(ours.len(), 14);
    assert_eq!(ours, alpine_reference());
    assert_eq!(inv["distro"]["id"], "alpine");
    assert_eq!(inv["distro"]["version_id"], "3.10.4");
    let musl = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "musl")
        .unwrap();
    assert_eq!(musl["ecosystem"], "apk");
    assert_eq!(
        musl["purl"],
        "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4"
    );
    assert!(
        musl["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "/lib/libc.musl-x86_64.so.1")
    );
    assert_eq!(inv["source"]["kind"], "docker-archive");
    // The decompressed copy of the .tar.gz lived in the cache's tmp/ and is gone.
    let tmp = cache.path().join("tmp");
    assert!(!tmp.exists() || std::fs::read_dir(&tmp).unwrap().next().is_none());
}

/// rpm databases placed in an image layer at each backend's path; the packages must equal rpm's
/// own listing (fixtures written by `rpm -qa --dbpath`, see customs-catalog's rpm fixtures).
#[test]
fn rpm_databases_in_an_image() {
    let db = shared().join("data/packagedb/rpm");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../customs-catalog/tests/fixtures/rpm");
    for (file, at, expected) in [
        (
            "mariner-2.0-rpmdb.sqlite",
            "var/lib/rpm/rpmdb.sqlite",
            "mariner-2.0-rpmdb.sqlite.qa.tsv",
        ),
        (
            "rhel8-libuuid-Packages.bdb",
            "var/lib/rpm/Packages",
            "rhel8-libuuid-Packages.bdb.qa.tsv",
        ),
        (
            "sle15-bci-Packages.db",
            "usr/lib/sysimage/rpm/Packages.db",
            "sle15-bci-Packages.db.qa.tsv",
        ),
    ] {
        let bytes = std::fs::read(db.join(file)).unwrap();
        let layer = LayerTar::new()
            .file("etc/os-release", b"ID=\"rhel\"\nVERSION_ID=\"8.9\"\n")
            .file(at, &bytes)
            .finish();
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let cache = tempfile::tempdir().unwrap();
        let inv = sbom(&format!("oci:{}", dir.path().display()), cache.path(), &[]);
        assert!(
            inv["warnings"].as_array().unwrap().is_empty(),
            "{file}: {}",
            inv["warnings"]
        );
        let ours: BTreeSet<String> = inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}\t{}\t{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["arch"].as_str().unwrap_or("")
                )
            })
            .collect();
        let text = std::fs::read_to_string(fixtures.join(expected))
            .unwrap_or_else(|e| panic!("{expected}: {e}"));
        let want: BTreeSet<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let (name, epoch, version, release, arch) = (f[0], f[1], f[2], f[3], f[4]);
                let evr = if epoch.is_empty() || epoch == "0" || epoch == "(none)" {
                    format!("{version}-{release}")
                } else {
                    format!("{epoch}:{version}-{release}")
                };
                let arch = if arch == "(none)" { "" } else { arch };
                format!("{name}\t{evr}\t{arch}")
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(ours, want, "{file}");
        assert!(
            inv["packages"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["ecosystem"] == "rpm" && p["layer_index"] == 0)
        );
    }
}

/// `customs sbom dir:/` on this very machine against the package manager's own listing.
#[test]
fn this_machine_matches_dpkg_query() {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n"])
        .output()
        .expect("dpkg-query (this is a Debian machine)");
    assert!(out.status.success());
    let mut want: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    want.sort();
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom("dir:/", cache.path(), &["--no-cache"]);
    assert_eq!(crate::common::os_package_rows(&inv), want);
    assert!(want.len() > 100);
}

/// Distroless images keep one stanza per file in status.d, without a Status field.
#[test]
fn distroless_status_d() {
    let layer = LayerTar::new()
        .file(
            "etc/os-release",
            b"PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\nHOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n",
        )
        .file("var/lib/dpkg/status.d/base-files", b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n")
        .file("var/lib/dpkg/status.d/base-files.md5sums", b"d41d8cd98f00b204e9800998ecf8427e  etc/debian_version\n")
        .file("var/lib/dpkg/status.d/libssl3", b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl (3.0.11-1~deb12u2)\n")
        .finish();
    let upgrade = LayerTar::new()
        .file(
            "var/lib/dpkg/status.d/libssl3",
            b"Package: libssl3\nVersion: 3.0.13-1~deb12u1\nArchitecture: amd64\nSource: openssl\n",
        )
        .file("var/lib/dpkg/status.d/.wh.base-files", b"")
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer, upgrade], Comp::Zstd);
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom(&format!("oci:{}", dir.path().display()), cache.path(), &[]);
    let pkgs = inv["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 1, "base-files was whited out: {pkgs:?}");
    assert_eq!(pkgs[0]["name"], "libssl3");
    assert_eq!(pkgs[0]["version"], "3.0.13-1~deb12u1");
    assert_eq!(pkgs[0]["source_name"], "openssl");
    assert_eq!(pkgs[0]["source_version"], "3.0.13-1~deb12u1");
    assert_eq!(pkgs[0]["layer_index"], 1, "upgraded in the second layer");
    assert_eq!(pkgs[0]["found_in"], "/var/lib/dpkg/status.d/libssl3");
    assert_eq!(inv["distro"]["pretty_name"], "Distroless");
    assert_eq!(inv["distro"]["codename"], "bookworm");
}

/// Papercut: one installed stanza without a `Version` made customs drop the whole status file,
/// so the image listed no Debian package. Now only that stanza is left out, with a warning
/// naming the file and the package. The real texlive status file, with its second stanza's
/// (libgs9-common's) Version line removed; the expected list is dpkg-query's of the intact
/// file without libgs9-common (dpkg-query refuses the damaged file whole). And its first stanza
/// as distroless writes it, in status.d/ without Status and, here, without Version.
#[test]
fn a_dpkg_stanza_without_version_is_left_out_with_a_warning() {
    let text =
        std::fs::read_to_string(shared().join("data/packagedb/dpkg/texlive.status")).unwrap();
    let admin = tempfile::tempdir().unwrap();
    std::fs::create_dir(admin.path().join("info")).unwrap();
    std::fs::write(admin.path().join("status"), &text).unwrap();
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admin.path().display()))
        .args(["-W", "-f=${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n"])
        .output()
        .expect("dpkg-query (this is a Debian machine)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut want: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("libgs9-common\t"))
        .map(str::to_owned)
        .collect();
    want.sort();
    assert_eq!(want.len(), 356);

    let mut stanza = 0;
    let mut damaged = String::new();
    for line in text.split_inclusive('\n') {
        stanza += usize::from(line.starts_with("Package:"));
        if !(stanza == 2 && line.starts_with("Version:")) {
            damaged.push_str(line);
        }
    }
    assert_eq!(
        damaged.len() + "Version: 9.26~dfsg+0-0ubuntu0.18.04.12\n".len(),
        text.len()
    );
    let distroless: String = text
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("Status:") && !l.starts_with("Version:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let layer = LayerTar::new()
        .file("var/lib/dpkg/status", damaged.as_bytes())
        .file("var/lib/dpkg/status.d/libquadmath0", distroless.as_bytes())
        .finish();
    let diff_id = format!("sha256:{}", crate::common::sha256_hex(&layer));
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[layer], Comp::Gzip);
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom(&format!("oci:{}", dir.path().display()), cache.path(), &[]);
    assert_eq!(crate::common::os_package_rows(&inv), want);
    let warnings: Vec<(&str, &str, &str)> = inv["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["file"].as_str().unwrap(),
                w["problem"].as_str().unwrap(),
                w["layer"].as_str().unwrap(),
            )
        })
        .collect();
    let left_out = |n: usize, package: &str| {
        format!(
            "stanza {n} (package \"{package}\") has no Version: left out, the file's other packages are read"
        )
    };
    assert_eq!(
        warnings,
        [
            (
                "/var/lib/dpkg/status",
                left_out(2, "libgs9-common").as_str(),
                diff_id.as_str()
            ),
            (
                "/var/lib/dpkg/status.d/libquadmath0",
                left_out(1, "libquadmath0").as_str(),
                diff_id.as_str()
            ),
        ]
    );
}

/// A package removed in a later layer is gone; one kept keeps its original layer.
#[test]
fn removal_in_a_later_layer() {
    let s = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(n, v)| crate::common::dpkg_stanza(n, v))
            .collect::<String>()
            .into_bytes()
    };
    let l0 = LayerTar::new()
        .file("var/lib/dpkg/status", &s(&[("keep", "1"), ("drop", "1")]))
        .file("var/lib/dpkg/info/drop.list", b"/usr/bin/drop\n")
        .finish();
    let l1 = LayerTar::new()
        .file("var/lib/dpkg/status", &s(&[("keep", "1"), ("new", "2")]))
        .file("var/lib/dpkg/info/.wh.drop.list", b"")
        .finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[l0, l1], Comp::Gzip);
    let cache = tempfile::tempdir().unwrap();
    let inv = sbom(&format!("oci:{}", dir.path().display()), cache.path(), &[]);
    let got: Vec<(String, u64)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["layer_index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("keep".to_owned(), 0), ("new".to_owned(), 1)]);
}
