//! SBOMs in, on real documents: trivy's, syft's and Konflux's SBOMs from `../shared/data`, the
//! CycloneDX and SPDX specifications' examples, syft 1.18.1 run on the corpus image
//! debian-app (compared with customs' own catalog of that image), customs' own CycloneDX and
//! SPDX read back, and hostile input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use customs_catalog::{CatalogOptions, Inventory, Package};
use customs_image::{OpenOptions, SourceRef};
use customs_report::sbom::{self, MAX_COMPONENTS, SbomError, SbomFormat};
use customs_report::{DocOptions, Subject};
use customs_types::{Algorithm, Digest, Ecosystem, Timestamp, pep503_name};

/// `../shared` (or `$CUSTOMS_SHARED`). Panics when missing: these tests never skip.
fn shared() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("data/schemas").is_dir(),
        "shared data missing at {} (set CUSTOMS_SHARED)",
        p.display()
    );
    p
}

/// The image corpus (`$CUSTOMS_CORPUS`, built by `../shared/tools/build-images.sh`).
fn corpus() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_CORPUS")
        .map_or_else(|| PathBuf::from("/var/tmp/customs-corpus"), PathBuf::from);
    assert!(
        p.join("out/debian-app/oci/index.json").is_file(),
        "image corpus missing at {}: run scripts/test.sh (it builds it with ../shared/tools/build-images.sh)",
        p.display()
    );
    p
}

fn real(name: &str) -> (Vec<u8>, String) {
    let path = shared().join("data/schemas/real-sboms").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (bytes, path.display().to_string())
}

fn read(bytes: &[u8], origin: &str) -> Inventory {
    sbom::read(bytes, origin).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(inv: &Inventory) -> Vec<&str> {
    inv.warnings.iter().map(|w| w.problem.as_str()).collect()
}

fn count(inv: &Inventory, eco: Ecosystem) -> usize {
    inv.packages.iter().filter(|p| p.ecosystem == eco).count()
}

fn pkg<'a>(inv: &'a Inventory, name: &str) -> &'a Package {
    inv.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

fn digest(s: &str) -> Digest {
    s.parse().unwrap()
}

#[test]
fn trivy_cyclonedx_of_the_fluentd_image() {
    let (bytes, origin) = real("trivy-fluentd-image.cdx-1.6.json");
    let (inv, format) = sbom::read_with_format(&bytes, &origin).unwrap();
    assert_eq!(format, SbomFormat::CycloneDx);
    // 161 components: 105 deb, 55 gem, the operating system.
    assert_eq!(
        (
            inv.packages.len(),
            count(&inv, Ecosystem::Deb),
            count(&inv, Ecosystem::Gem)
        ),
        (160, 105, 55)
    );
    assert!(problems(&inv).is_empty(), "{:?}", problems(&inv));
    assert_eq!(pkg(&inv, "activesupport").version, "6.0.2.1");
    let d = inv.distro.as_ref().unwrap();
    assert_eq!(
        (
            d.id.as_str(),
            d.version_id.as_deref(),
            d.codename.as_deref()
        ),
        ("debian", Some("10"), Some("buster"))
    );
    assert_eq!(
        inv.source.described.as_deref(),
        Some("testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz")
    );
    assert_eq!(inv.source.reference, format!("sbom:{origin}"));
    let image = inv.image.as_ref().unwrap();
    // trivy names the image ID (the config's digest), and no manifest digest: the document's
    // own digest keys it.
    assert_eq!(
        image.config_digest,
        Some(digest(
            "sha256:5a992077baba51b97f27591a10d54d2f2723dc9c81a3fe419e261023f2554933"
        ))
    );
    assert_eq!(
        image.manifest_digest,
        Some(Digest::compute(Algorithm::Sha256, &bytes))
    );
    // Its DiffIDs are listed sorted by value, not in the image's order: every package keeps
    // the layer trivy found it in, and no layer gets an index that would be a guess.
    assert!(image.layers.is_empty());
    let diff_ids: BTreeSet<String> = inv
        .packages
        .iter()
        .map(|p| {
            p.layer
                .as_ref()
                .expect("every trivy package names its layer")
                .to_string()
        })
        .collect();
    // The debs came with the base layer and one above it.
    assert_eq!(diff_ids.len(), 2, "{diff_ids:?}");
    assert!(inv.packages.iter().all(|p| p.layer_index.is_none()));
    let b = pkg(&inv, "bsdutils");
    assert_eq!(
        (
            b.version.as_str(),
            b.source_name.as_deref(),
            b.source_version.as_deref(),
            b.arch.as_deref()
        ),
        (
            "1:2.33.1-0.1",
            Some("util-linux"),
            Some("2.33.1-0.1"),
            Some("amd64")
        )
    );
    let p = pkg(&inv, "libpcre3");
    assert_eq!(
        (
            p.version.as_str(),
            p.source_name.as_deref(),
            p.source_version.as_deref()
        ),
        ("2:8.39-12", Some("pcre3"), Some("2:8.39-12"))
    );
}

#[test]
fn trivy_spdx_of_a_julia_project() {
    let (bytes, origin) = real("trivy-julia-repo.spdx-2.3.json");
    let (inv, format) = sbom::read_with_format(&bytes, &origin).unwrap();
    assert_eq!(format, SbomFormat::Spdx);
    assert!(inv.packages.is_empty());
    assert!(inv.distro.is_none());
    // The Manifest.toml application only groups A and B; the filesystem is what is described.
    assert_eq!(
        problems(&inv),
        [
            "3 components of package URL type \"julia\" left out (\"A@1.9.0\", \"B@1.9.0\", …): customs has no ecosystem for them, so they were not checked for vulnerabilities"
        ]
    );
    assert_eq!(
        inv.source.described.as_deref(),
        Some("testdata/fixtures/repo/julia")
    );
}

#[test]
fn konflux_spdx_of_ubi9() {
    let (bytes, origin) = real("konflux-ubi9.7-syft.spdx-2.3.json");
    let inv = read(&bytes, &origin);
    // 1,532 packages: 188 rpms syft found installed, 1,323 the build prefetched (every
    // platform's, and the source rpms), 18 Python packages inside rpms, 3 images.
    assert_eq!(inv.packages.len(), 196);
    assert_eq!(count(&inv, Ecosystem::Rpm), 196);
    assert_eq!(
        problems(&inv),
        [
            "2 other container images named in the SBOM left out (\"ubi10-micro@latest\", \"ubi9@latest\"): an image is not a package; scan each on its own to check it",
            "551 source rpms (arch=src) left out (\"acl@2.3.1-4.el9\", \"attr@2.5.1-3.el9\", \"audit@3.1.5-7.el9\", …): they are what packages are built from, not installed packages",
            "154 packages for \"aarch64\" left out (\"acl@2.3.1-4.el9\", \"alternatives@1.24-2.el9\", \"attr@2.5.1-3.el9\", …): the SBOM says the image is \"amd64\", which does not install them (a multi-platform build's SBOM lists every platform's packages)",
            "154 packages for \"ppc64le\" left out (\"acl@2.3.1-4.el9\", \"alternatives@1.24-2.el9\", \"attr@2.5.1-3.el9\", …): the SBOM says the image is \"amd64\", which does not install them (a multi-platform build's SBOM lists every platform's packages)",
            "153 packages for \"s390x\" left out (\"acl@2.3.1-4.el9\", \"alternatives@1.24-2.el9\", \"attr@2.5.1-3.el9\", …): the SBOM says the image is \"amd64\", which does not install them (a multi-platform build's SBOM lists every platform's packages)",
        ]
    );
    // The Python packages syft found inside rpms' files are recorded where the catalog
    // records them: in the owning rpm.
    let owned: usize = inv.packages.iter().map(|p| p.owns.len()).sum();
    assert_eq!(owned, 18);
    assert_eq!(pkg(&inv, "python3-requests").owns, ["pypi:requests@2.25.1"]);
    let d = inv.distro.as_ref().unwrap();
    assert_eq!(
        (d.id.as_str(), d.version_id.as_deref()),
        ("rhel", Some("9.7"))
    );
    let s = pkg(&inv, "openssl-libs");
    assert_eq!(
        (
            s.version.as_str(),
            s.source_name.as_deref(),
            s.source_version.as_deref()
        ),
        ("1:3.5.1-4.el9_7", Some("openssl"), Some("1:3.5.1-4.el9_7"))
    );
    // Listed twice (installed, and prefetched without its source): one package, with it.
    let dbus: Vec<&Package> = inv.packages.iter().filter(|p| p.name == "dbus").collect();
    assert_eq!(dbus.len(), 1);
    assert_eq!(dbus[0].source_name.as_deref(), Some("dbus"));
    assert_eq!(
        inv.source.described.as_deref(),
        Some(
            "quay.io/redhat-user-workloads/osci-rhel-containers-tenant/rhel-9-7/ubi9-9-7@sha256:989a54762df6a21190a34dda0ffb682358fe5c29b249645536a2436b313af367"
        )
    );
    let image = inv.image.as_ref().unwrap();
    assert_eq!(
        image.manifest_digest,
        Some(digest(
            "sha256:989a54762df6a21190a34dda0ffb682358fe5c29b249645536a2436b313af367"
        ))
    );
    assert_eq!(image.architecture.as_deref(), Some("amd64"));
}

#[test]
fn the_specifications_examples_read() {
    let dir = shared().join("data/schemas/cyclonedx-1.6/examples");
    let mut valid = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let got = sbom::read(&bytes, &name);
        if name.starts_with("valid-") {
            valid += 1;
            if let Err(e) = got {
                panic!("{e}");
            }
        }
        // The invalid ones break the schema in ways customs does not check (hash lengths,
        // enum values): read or refused, never a panic.
    }
    assert_eq!(valid, 45);
    let path = shared().join("data/schemas/spdx-2.3/examples/SPDXJSONExample-v2.3.spdx.json");
    let inv = read(
        &std::fs::read(&path).unwrap(),
        "SPDXJSONExample-v2.3.spdx.json",
    );
    // It describes glibc's source; the other packages are Apache Commons Lang and Saxon,
    // named by no purl, and Jena, by a Maven one, which is read.
    let got: Vec<(Ecosystem, &str, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.ecosystem, p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        [(Ecosystem::Maven, "org.apache.jena:apache-jena", "3.12.0")]
    );
    assert_eq!(
        problems(&inv),
        [
            "2 components without a package URL left out (\"Apache Commons Lang\", \"Saxon\"): customs cannot tell their ecosystem, so they were not checked for vulnerabilities",
        ]
    );
}

/// customs' CycloneDX and SPDX, read back, give the inventory they were written from.
#[test]
fn customs_own_documents_read_back() {
    let cat = catalog_debian_app();
    let opts = DocOptions {
        created: Timestamp::from_unix_secs(0),
        tool_version: "0.0.0-test".to_owned(),
    };
    for (format, doc) in [
        (
            SbomFormat::CycloneDx,
            customs_report::cyclonedx::write(Subject::Inventory(&cat), &opts).unwrap(),
        ),
        (
            SbomFormat::Spdx,
            customs_report::spdx::write(Subject::Inventory(&cat), &opts).unwrap(),
        ),
    ] {
        let (inv, f) = sbom::read_with_format(doc.as_bytes(), "customs.json").unwrap();
        assert_eq!(f, format);
        let want: Vec<_> = cat.packages.iter().map(identity).collect();
        let got: Vec<_> = inv.packages.iter().map(identity).collect();
        assert_eq!(got, want, "{format}");
        let layers = |i: &Inventory| -> Vec<(Option<usize>, Option<String>)> {
            i.packages
                .iter()
                .map(|p| (p.layer_index, p.layer.as_ref().map(ToString::to_string)))
                .collect()
        };
        assert_eq!(layers(&inv), layers(&cat), "{format}");
        let (d, c) = (inv.distro.unwrap(), cat.distro.clone().unwrap());
        assert_eq!(
            (d.id, d.version_id, d.codename),
            (c.id, c.version_id, c.codename),
            "{format}"
        );
        let (i, c) = (inv.image.unwrap(), cat.image.clone().unwrap());
        assert_eq!(i.manifest_digest, c.manifest_digest, "{format}");
        assert!(inv.warnings.is_empty(), "{format}: {:?}", inv.warnings);
        if format == SbomFormat::CycloneDx {
            assert_eq!(i.config_digest, c.config_digest);
            let diff_ids = |m: &customs_catalog::ImageMeta| -> Vec<Option<Digest>> {
                m.layers.iter().map(|l| l.layer.diff_id.clone()).collect()
            };
            assert_eq!(diff_ids(&i), diff_ids(&c));
        }
    }
}

/// What the matcher sees of a package: the same tuple gives the same findings.
type Identity = (
    Ecosystem,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn identity(p: &Package) -> Identity {
    (
        p.ecosystem,
        p.name.clone(),
        p.version.clone(),
        p.arch.clone(),
        p.source_name.clone(),
        p.source_version.clone(),
    )
}

fn catalog_debian_app() -> Inventory {
    let dir = corpus().join("out/debian-app/oci");
    let src = SourceRef::parse(&format!("oci:{}", dir.display())).unwrap();
    let image = customs_image::open(&src, &OpenOptions::default()).unwrap();
    customs_catalog::catalog(&image, &CatalogOptions::default()).unwrap()
}

/// syft 1.18.1 on debian-app, in its three formats, against customs' own catalog of the image.
#[test]
fn syft_on_debian_app_matches_the_catalog() {
    // Where ../shared/tools/install-peers.sh puts it.
    let peers = std::env::var_os("PEERS").map_or_else(|| corpus().join("peers"), PathBuf::from);
    let syft = peers.join("venv/bin/syft");
    assert!(
        syft.is_file(),
        "syft missing at {}: install it with ../shared/tools/install-peers.sh syft",
        syft.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = |f: &str| tmp.path().join(format!("debian-app.{f}.json"));
    let image = corpus().join("out/debian-app/oci");
    let run = Command::new(&syft)
        .arg("scan")
        .arg(format!("oci-dir:{}", image.display()))
        .arg("-q")
        .args(
            ["cyclonedx-json", "spdx-json", "syft-json"]
                .map(|f| format!("-o={f}={}", out(f).display())),
        )
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "syft: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cat = catalog_debian_app();
    // PyPI names compared as the matcher compares them, PEP 503-normalised: syft writes
    // `jinja2` where the catalog keeps the installed metadata's `Jinja2`.
    let key = |p: &Package| -> Identity {
        let mut id = identity(p);
        if p.ecosystem == Ecosystem::PyPI {
            id.1 = pep503_name(&id.1);
        }
        id
    };
    let want: BTreeSet<Identity> = cat.packages.iter().map(key).collect();
    for (f, format) in [
        ("cyclonedx-json", SbomFormat::CycloneDx),
        ("spdx-json", SbomFormat::Spdx),
        ("syft-json", SbomFormat::SyftJson),
    ] {
        let bytes = std::fs::read(out(f)).unwrap();
        let (inv, got_format) = sbom::read_with_format(&bytes, f).unwrap();
        assert_eq!(got_format, format);
        let got: BTreeSet<Identity> = inv.packages.iter().map(key).collect();
        let only_catalog: Vec<(Ecosystem, &str, &str)> = want
            .difference(&got)
            .map(|k| (k.0, k.1.as_str(), k.2.as_str()))
            .collect();
        // The catalog also reads /app/rust/Cargo.lock; syft's image scan reads Rust crates
        // only from the binary's cargo-auditable data, which lacks these Windows-only crates
        // (never compiled into a Linux binary). Every other package, all 88 debs with their
        // source packages and versions among them, is the same.
        assert_eq!(
            only_catalog,
            [
                (Ecosystem::Cargo, "winapi", "0.3.9"),
                (Ecosystem::Cargo, "winapi-i686-pc-windows-gnu", "0.4.0"),
                (Ecosystem::Cargo, "winapi-x86_64-pc-windows-gnu", "0.4.0"),
            ],
            "{f}"
        );
        assert_eq!(
            got.difference(&want).count(),
            0,
            "{f}: {:?}",
            got.difference(&want)
        );
        // syft finds log4j-core in its jar too, with the same coordinates: nothing is left out.
        assert!(problems(&inv).is_empty(), "{f}: {:?}", problems(&inv));
        assert!(
            inv.packages.iter().any(|p| p.ecosystem == Ecosystem::Maven
                && p.name == "org.apache.logging.log4j:log4j-core"
                && p.version == "2.14.1"),
            "{f}"
        );
        let (d, c) = (inv.distro.clone().unwrap(), cat.distro.clone().unwrap());
        assert_eq!(
            (d.id, d.version_id, d.codename),
            (c.id, c.version_id, c.codename),
            "{f}"
        );
        let (i, c) = (inv.image.clone().unwrap(), cat.image.clone().unwrap());
        assert_eq!(i.manifest_digest, c.manifest_digest, "{f}");
        if format == SbomFormat::SyftJson {
            // Only syft's own JSON gives the layers in order: there the layer of every
            // package is the catalog's too.
            assert_eq!(i.config_digest, c.config_digest);
            let diff_ids = |m: &customs_catalog::ImageMeta| -> Vec<Option<Digest>> {
                m.layers.iter().map(|l| l.layer.diff_id.clone()).collect()
            };
            assert_eq!(diff_ids(&i), diff_ids(&c));
            for p in &inv.packages {
                let Some(q) = cat.packages.iter().find(|q| key(q) == key(p)) else {
                    continue;
                };
                assert_eq!(
                    (p.layer_index, &p.layer),
                    (q.layer_index, &q.layer),
                    "{}",
                    p.name
                );
            }
        }
    }
}

#[test]
fn more_components_than_the_limit_are_refused() {
    let one = r#"{"type":"library","purl":"pkg:npm/a@1"},"#;
    let mut doc = String::with_capacity(one.len() * (MAX_COMPONENTS + 1) + 100);
    doc.push_str(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":["#);
    for _ in 0..=MAX_COMPONENTS {
        doc.push_str(one);
    }
    doc.pop();
    doc.push_str("]}");
    let e = sbom::read(doc.as_bytes(), "big.json").unwrap_err();
    assert!(matches!(e, SbomError::TooManyComponents { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "big.json: more than 500000 components (or entries in one list): customs refuses SBOMs this large"
    );
}

/// The fuzz target's seeds read, and no cut or byte flip of them makes the reader panic: a
/// quick, deterministic share of what `fuzz/fuzz_targets/sbom_read.rs` explores.
#[test]
fn fuzz_seeds_and_their_mutations_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/sbom_read");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let inv = read(&bytes, &path.display().to_string());
        assert!(!inv.packages.is_empty(), "{}", path.display());
        seeds += 1;
        for cut in 0..bytes.len() {
            let _ = sbom::read(&bytes[..cut], "cut");
        }
        let mut m = bytes.clone();
        for i in 0..m.len() {
            for b in [b'"', b'{', b'[', b'0', 0xff] {
                let old = m[i];
                m[i] = b;
                let _ = sbom::read(&m, "flip");
                m[i] = old;
            }
        }
    }
    assert_eq!(seeds, 4);
    for purl in [
        "pkg:",
        "pkg:/",
        "pkg:deb/",
        "pkg:deb/x@",
        "pkg:deb/é@1?arch=%ZZ",
        "pkg:deb/x@1#",
        "pkg:npm/@",
        "pkg:npm/%40/x@1",
        "pkg:rpm/x@1?epoch=99999999999999999999",
        "pkg:golang/@v1",
        "pkg:deb/x@1?upstream=%40",
        "pkg:rpm/x@1?upstream=.src.rpm",
        "pkg:deb/debian/x@1?distro=-",
        "pkg:oci/x@sha256:zz?repository_url=%00",
    ] {
        let doc = format!(
            r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {{"component": {{"name": "i", "purl": {purl:?}}}}}, "components": [{{"name": "c", "version": "1", "purl": {purl:?}}}]}}"#
        );
        let _ = sbom::read(doc.as_bytes(), purl);
    }
}
