//! Small documents written for one behaviour each; the real SBOMs (trivy's, syft's, Konflux's,
//! the specifications' examples) are read in `tests/it/sbom_in.rs`.

use customs_catalog::{Inventory, Package};
use customs_types::{Algorithm, Digest, Ecosystem};

use super::*;

fn ok(doc: &str) -> Inventory {
    match read(doc.as_bytes(), "t.json") {
        Ok(inv) => inv,
        Err(e) => panic!("{e}"),
    }
}

fn err(doc: &[u8]) -> SbomError {
    match read(doc, "t.json") {
        Ok(_) => panic!(
            "read: {}",
            String::from_utf8_lossy(&doc[..doc.len().min(200)])
        ),
        Err(e) => e,
    }
}

/// A CycloneDX 1.6 document with these components.
fn cdx(components: &str) -> String {
    format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{components}]}}"#)
}

fn pkg<'a>(inv: &'a Inventory, name: &str) -> &'a Package {
    inv.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name} in {:?}", inv.packages))
}

fn problems(inv: &Inventory) -> Vec<&str> {
    inv.warnings.iter().map(|w| w.problem.as_str()).collect()
}

#[test]
fn formats_are_detected_from_the_content() {
    let (_, f) = read_with_format(cdx("").as_bytes(), "-").unwrap();
    assert_eq!(f, SbomFormat::CycloneDx);
    let (_, f) = read_with_format(
        br#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}"#,
        "-",
    )
    .unwrap();
    assert_eq!(f, SbomFormat::Spdx);
    let (_, f) =
        read_with_format(br#"{"artifacts": [], "source": {}, "schema": {}}"#, "-").unwrap();
    assert_eq!(
        (f, f.to_string().as_str(), f.as_str()),
        (SbomFormat::SyftJson, "syft JSON", "syft-json")
    );
    // A byte-order mark in front is no reason to refuse a document.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(cdx("").as_bytes());
    assert!(read(&bom, "-").is_ok());
}

#[test]
fn what_is_not_an_sbom_is_refused_saying_what_was_expected() {
    let e = err(b"[1, 2]");
    assert!(matches!(e, SbomError::Unrecognized { .. }), "{e}");
    let e = err(br#"{"name": "x"}"#).to_string();
    assert!(e.starts_with("t.json: not an SBOM customs reads"), "{e}");
    assert!(
        e.contains("CycloneDX") && e.contains("SPDX") && e.contains("syft"),
        "{e}"
    );
    let e = err(br#"{"bomFormat": "SPDX"}"#).to_string();
    assert!(e.contains("bomFormat is \"SPDX\""), "{e}");
    let e = err(b"<?xml version=\"1.0\"?><bom/>").to_string();
    assert!(
        e.contains("not a JSON document") && e.contains("XML"),
        "{e}"
    );
    let e = err(b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n").to_string();
    assert!(e.contains("tag-value"), "{e}");
    let e = err(b"").to_string();
    assert!(e.contains("empty"), "{e}");
}

#[test]
fn versions_outside_the_range_are_refused_with_the_version_found() {
    let e = err(br#"{"bomFormat": "CycloneDX", "specVersion": "1.3", "components": []}"#);
    assert!(
        matches!(&e, SbomError::UnsupportedVersion { format: SbomFormat::CycloneDx, found, .. } if found == "1.3"),
        "{e}"
    );
    assert!(e.to_string().contains("1.4 to 1.7"), "{e}");
    let e = err(br#"{"bomFormat": "CycloneDX", "specVersion": "2.0"}"#).to_string();
    assert!(e.contains("version 2.0"), "{e}");
    let e = err(br#"{"bomFormat": "CycloneDX"}"#).to_string();
    assert!(e.contains("no specVersion"), "{e}");
    let e = err(br#"{"spdxVersion": "SPDX-2.1"}"#).to_string();
    assert!(e.contains("SPDX version SPDX-2.1 is not supported"), "{e}");
    let e = err(br#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#)
        .to_string();
    assert!(e.contains("SPDX version 3"), "{e}");
    // CycloneDX 1.4 wrote metadata.tools as a list; 1.5 made it an object: both read.
    ok(
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.4", "metadata": {"tools": [{"name": "x"}]}}"#,
    );
    ok(
        r#"{"bomFormat": "CycloneDX", "specVersion": 1.7, "metadata": {"tools": {"components": []}}}"#,
    );
}

#[test]
fn broken_json_is_an_error_naming_the_input() {
    let full = cdx(r#"{"type": "library", "name": "a", "purl": "pkg:npm/a@1"}"#);
    let e = err(&full.as_bytes()[..full.len() - 5]);
    assert!(matches!(e, SbomError::NotJson { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("t.json: not a JSON document (EOF"),
        "{e}"
    );
    // A list that is not one: the document's packages cannot be known.
    let e = err(cdx("").replace("[]", "\"none\"").as_bytes());
    assert!(
        matches!(
            e,
            SbomError::Invalid {
                format: SbomFormat::CycloneDx,
                ..
            }
        ),
        "{e}"
    );
    let e = err(br#"{"spdxVersion": "SPDX-2.3", "packages": {"a": 1}}"#).to_string();
    assert!(
        e.contains("not a valid SPDX document") && e.contains("expected a list"),
        "{e}"
    );
}

#[test]
fn scalars_of_the_wrong_type_are_read_leniently() {
    let inv = ok(&cdx(
        r#"{"type": "library", "name": 7, "version": 1.5, "purl": "pkg:cargo/x@1.5", "properties": null},
           {"type": "library", "name": ["a"], "version": {}, "purl": 12}"#,
    ));
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(
        (
            inv.packages[0].name.as_str(),
            inv.packages[0].version.as_str()
        ),
        ("x", "1.5")
    );
    assert_eq!(
        problems(&inv),
        ["component \"#2\" left out: its package URL \"12\" does not parse (missing scheme)"]
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let nested = |n: usize| {
        let mut doc = String::new();
        for i in 0..n {
            doc.push_str(&format!(
                r#"{{"type": "library", "name": "c{i}", "components": ["#
            ));
        }
        doc.push_str(&"]}".repeat(n));
        cdx(&doc)
    };
    let e = err(nested(200).as_bytes());
    assert!(matches!(e, SbomError::TooDeep { .. }), "{e}");
    assert!(e.to_string().contains("128 levels"), "{e}");
    // Deep nesting in a field customs does not read is skipped by serde_json without
    // recursion, and so is harmless.
    let skipped = cdx("").replace(
        "\"components\"",
        &format!(
            "\"x\": {}{}, \"components\"",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    );
    assert!(read(skipped.as_bytes(), "t.json").is_ok());
    let e = err(format!("{}{}", "[".repeat(5000), "]".repeat(5000)).as_bytes());
    assert!(
        matches!(
            e,
            SbomError::TooDeep { .. } | SbomError::Unrecognized { .. }
        ),
        "{e}"
    );
    // Components nested within serde_json's limit but past customs' own.
    let n = MAX_DEPTH + 5;
    let mut doc = String::new();
    for i in 0..n {
        doc.push_str(&format!(
            r#"{{"type": "library", "name": "c{i}", "components": ["#
        ));
    }
    doc.push_str(&"]}".repeat(n));
    let e = err(cdx(&doc).as_bytes());
    assert!(
        matches!(&e, SbomError::TooDeep { what, .. } if what.contains("components nested")),
        "{e}"
    );
    // Nested components within the limit are read.
    let inv = ok(&cdx(
        r#"{"type": "application", "name": "app", "components": [
             {"type": "library", "name": "a", "purl": "pkg:npm/a@1", "components": [
               {"type": "library", "name": "b", "purl": "pkg:npm/b@2"}]}]}"#,
    ));
    let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    // The application only groups them: no warning about a component without a purl.
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn too_large_input_is_refused_before_parsing() {
    // Zeroed memory the allocator need not touch: not JSON at all, and never parsed.
    let big = vec![0u8; MAX_SBOM_BYTES + 1];
    let e = err(&big);
    assert!(
        matches!(e, SbomError::TooLarge { size, .. } if size == MAX_SBOM_BYTES + 1),
        "{e}"
    );
}

#[test]
fn huge_strings_and_bad_purls_cost_one_component_with_a_warning() {
    let name = "n".repeat(1 << 20);
    let inv = ok(&cdx(&format!(
        r#"{{"bom-ref": "big", "type": "library", "name": "{name}", "purl": "pkg:npm/x@1"}},
           {{"bom-ref": "bad-purl", "type": "library", "name": "y", "purl": "pkg:/nope@@"}},
           {{"bom-ref": "no-version", "type": "library", "name": "z", "purl": "pkg:npm/z"}},
           {{"bom-ref": "fine", "type": "library", "name": "ok", "purl": "pkg:npm/ok@1"}}"#
    )));
    assert_eq!(inv.packages.len(), 1);
    let p = problems(&inv);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(
        p[0].starts_with(
            "component \"big\" left out: its name is 1048576 bytes, more than the 4096"
        ),
        "{p:?}"
    );
    assert!(
        p[1].starts_with(
            "component \"bad-purl\" left out: its package URL \"pkg:/nope@@\" does not parse"
        ),
        "{p:?}"
    );
    assert!(
        p[2].contains("\"no-version\"") && p[2].contains("has no version"),
        "{p:?}"
    );
    assert!(inv.warnings.iter().all(|w| w.file == "t.json"));
}

#[test]
fn named_warnings_are_bounded() {
    let comps: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"bom-ref": "r{i}", "purl": "pkg:/bad{i}"}}"#))
        .collect();
    let inv = ok(&cdx(&comps.join(",")));
    let p = problems(&inv);
    assert_eq!(p.len(), 21, "{p:?}");
    assert!(p[20].starts_with("10 more components left out"), "{p:?}");
}

#[test]
fn java_ruby_php_and_dotnet_components_are_read_with_their_names() {
    let inv = ok(&cdx(
        r#"{"type": "library", "name": "rack", "version": "2.2.3", "purl": "pkg:gem/rack@2.2.3"},
           {"type": "library", "name": "log4j-core", "version": "2.14.1", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
           {"type": "library", "name": "console", "version": "v5.4.0", "purl": "pkg:composer/symfony/console@v5.4.0"},
           {"type": "library", "name": "Newtonsoft.Json", "version": "12.0.1", "purl": "pkg:nuget/Newtonsoft.Json@12.0.1"}"#,
    ));
    assert!(problems(&inv).is_empty(), "{:?}", problems(&inv));
    let got: Vec<(Ecosystem, &str, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.ecosystem, p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1"
            ),
            (Ecosystem::Gem, "rack", "2.2.3"),
            (Ecosystem::Composer, "symfony/console", "v5.4.0"),
            (Ecosystem::NuGet, "Newtonsoft.Json", "12.0.1"),
        ]
    );
}

#[test]
fn unknown_types_and_components_without_purls_get_one_warning_each() {
    let inv = ok(&cdx(
        r#"{"type": "library", "name": "plug", "version": "1.14.0", "purl": "pkg:hex/plug@1.14.0"},
           {"type": "library", "name": "phoenix", "version": "1.7.0", "purl": "pkg:hex/phoenix@1.7.0"},
           {"type": "library", "name": "http", "version": "1.0.0", "purl": "pkg:pub/http@1.0.0"},
           {"type": "library", "name": "mystery", "version": "1"},
           {"type": "operating-system", "name": "debian", "version": "12"}"#,
    ));
    assert!(inv.packages.is_empty());
    assert_eq!(
        problems(&inv),
        [
            "1 component without a package URL left out (\"mystery\"): customs cannot tell their ecosystem, so they were not checked for vulnerabilities",
            "2 components of package URL type \"hex\" left out (\"plug@1.14.0\", \"phoenix@1.7.0\"): customs has no ecosystem for them, so they were not checked for vulnerabilities",
            "1 component of package URL type \"pub\" left out (\"http@1.0.0\"): customs has no ecosystem for them, so they were not checked for vulnerabilities",
        ]
    );
    let d = inv.distro.unwrap();
    assert_eq!(
        (
            d.id.as_str(),
            d.version_id.as_deref(),
            d.codename.as_deref(),
            d.source_file.as_str()
        ),
        ("debian", Some("12"), Some("bookworm"), "t.json")
    );
}

#[test]
fn trivy_properties_give_the_source_package_and_epochs() {
    let inv = ok(&cdx(
        r#"{"bom-ref": "a", "type": "library", "name": "bsdutils", "version": "1:2.33.1-0.1",
            "purl": "pkg:deb/debian/bsdutils@2.33.1-0.1?arch=amd64&distro=debian-10.2&epoch=1",
            "properties": [
              {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:831c5620387fb9efec59fc82a42b948546c6be601e3ab34a87108ecf852aa15f"},
              {"name": "aquasecurity:trivy:SrcName", "value": "util-linux"},
              {"name": "aquasecurity:trivy:SrcRelease", "value": "0.1"},
              {"name": "aquasecurity:trivy:SrcVersion", "value": "2.33.1"}]},
           {"bom-ref": "b", "type": "library", "name": "libgmp10", "version": "2:6.1.2+dfsg-4",
            "purl": "pkg:deb/debian/libgmp10@6.1.2%2Bdfsg-4?arch=amd64&distro=debian-10.2&epoch=2",
            "properties": [
              {"name": "aquasecurity:trivy:SrcEpoch", "value": "2"},
              {"name": "aquasecurity:trivy:SrcName", "value": "gmp"},
              {"name": "aquasecurity:trivy:SrcRelease", "value": "4"},
              {"name": "aquasecurity:trivy:SrcVersion", "value": "6.1.2+dfsg"}]}"#,
    ));
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
    assert_eq!(
        b.layer.as_ref().map(ToString::to_string).as_deref(),
        Some("sha256:831c5620387fb9efec59fc82a42b948546c6be601e3ab34a87108ecf852aa15f")
    );
    // trivy's DiffIDs are not in the image's order: no index is made up.
    assert_eq!(b.layer_index, None);
    let g = pkg(&inv, "libgmp10");
    assert_eq!(
        (
            g.version.as_str(),
            g.source_name.as_deref(),
            g.source_version.as_deref()
        ),
        ("2:6.1.2+dfsg-4", Some("gmp"), Some("2:6.1.2+dfsg-4"))
    );
    let d = inv.distro.as_ref().unwrap();
    assert_eq!(
        (d.id.as_str(), d.version_id.as_deref()),
        ("debian", Some("10"))
    );
    assert_eq!(b.found_in, "sbom:cyclonedx");
    assert!(b.evidence.is_empty());
}

#[test]
fn upstream_qualifiers_give_the_source_package_as_the_catalog_records_it() {
    let inv = ok(&cdx(
        r#"{"type": "library", "name": "libc6", "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc"},
           {"type": "library", "name": "bsdutils", "purl": "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"},
           {"type": "library", "name": "libcrypt1", "purl": "pkg:deb/debian/libcrypt1@1:4.4.33-2?arch=amd64&upstream=libxcrypt"},
           {"type": "library", "name": "base-files", "purl": "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64"},
           {"type": "library", "name": "openssl-libs", "purl": "pkg:rpm/redhat/openssl-libs@3.5.1-4.el9_7?arch=x86_64&distro=rhel-9.7&epoch=1&upstream=openssl-3.5.1-4.el9_7.src.rpm"},
           {"type": "library", "name": "busybox-binsh", "purl": "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&upstream=busybox&distro=alpine-3.19.1"},
           {"type": "library", "name": "requests", "purl": "pkg:pypi/requests@2.25.1"}"#,
    ));
    let src = |n: &str| {
        let p = pkg(&inv, n);
        (
            p.version.as_str(),
            p.source_name.as_deref(),
            p.source_version.as_deref(),
        )
    };
    assert_eq!(
        src("libc6"),
        ("2.36-9+deb12u14", Some("glibc"), Some("2.36-9+deb12u14"))
    );
    assert_eq!(
        src("bsdutils"),
        (
            "1:2.38.1-5+deb12u3",
            Some("util-linux"),
            Some("2.38.1-5+deb12u3")
        )
    );
    assert_eq!(
        src("libcrypt1"),
        ("1:4.4.33-2", Some("libxcrypt"), Some("1:4.4.33-2"))
    );
    assert_eq!(
        src("base-files"),
        ("12.4+deb12u5", Some("base-files"), Some("12.4+deb12u5"))
    );
    assert_eq!(
        src("openssl-libs"),
        ("1:3.5.1-4.el9_7", Some("openssl"), Some("1:3.5.1-4.el9_7"))
    );
    assert_eq!(
        src("busybox-binsh"),
        ("1.36.1-r15", Some("busybox"), Some("1.36.1-r15"))
    );
    assert_eq!(src("requests"), ("2.25.1", None, None));
    assert_eq!(pkg(&inv, "requests").evidence, ["sbom"]);
    // Sorted as the catalog sorts: by ecosystem, then name.
    let order: Vec<(Ecosystem, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.ecosystem, p.name.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (Ecosystem::Deb, "base-files"),
            (Ecosystem::Deb, "bsdutils"),
            (Ecosystem::Deb, "libc6"),
            (Ecosystem::Deb, "libcrypt1"),
            (Ecosystem::Apk, "busybox-binsh"),
            (Ecosystem::Rpm, "openssl-libs"),
            (Ecosystem::PyPI, "requests"),
        ]
    );
    // No operating-system component: the purls' most common distro qualifier.
    assert_eq!(inv.distro.unwrap().id, "debian");
}

#[test]
fn language_names_keep_their_spelling() {
    let inv = ok(&cdx(
        r#"{"type": "library", "name": "github.com/BurntSushi/toml", "version": "v1.2.1", "purl": "pkg:golang/github.com/BurntSushi/toml@v1.2.1"},
           {"type": "library", "name": "stdlib", "version": "go1.22.1", "purl": "pkg:golang/stdlib@1.22.1"},
           {"type": "library", "name": "Jinja2", "version": "2.11.2", "purl": "pkg:pypi/jinja2@2.11.2"},
           {"type": "library", "group": "@babel", "name": "core", "version": "7.0.0", "purl": "pkg:npm/%40babel/core@7.0.0"}"#,
    ));
    let names: Vec<(&str, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Jinja2", "2.11.2"),
            ("@babel/core", "7.0.0"),
            ("github.com/BurntSushi/toml", "v1.2.1"),
            ("stdlib", "go1.22.1"),
        ]
    );
}

#[test]
fn duplicates_merge_keeping_the_stated_source() {
    let inv = ok(&cdx(
        r#"{"bom-ref": "1", "name": "glibc-common", "purl": "pkg:rpm/redhat/glibc-common@2.34-231.el9?arch=x86_64&repository_id=baseos"},
           {"bom-ref": "2", "name": "glibc-common", "purl": "pkg:rpm/redhat/glibc-common@2.34-231.el9?arch=x86_64&distro=rhel-9.7&upstream=glibc-2.34-231.el9.src.rpm"},
           {"bom-ref": "3", "name": "glibc-common", "purl": "pkg:rpm/redhat/glibc-common@2.34-231.el9?arch=x86_64&distro=rhel-9.7&upstream=glibc-2.34-231.el9.src.rpm"}"#,
    ));
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(inv.packages[0].source_name.as_deref(), Some("glibc"));
    assert!(inv.warnings.is_empty());
}

#[test]
fn other_platforms_and_source_rpms_are_counted_out() {
    let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
      "metadata": {"component": {"type": "container", "name": "ubi9",
        "purl": "pkg:oci/ubi9@sha256:989a54762df6a21190a34dda0ffb682358fe5c29b249645536a2436b313af367?arch=amd64&repository_url=quay.io/x/ubi9"}},
      "components": [
        {"name": "bash", "purl": "pkg:rpm/redhat/bash@5.1.8-9.el9?arch=x86_64"},
        {"name": "bash", "purl": "pkg:rpm/redhat/bash@5.1.8-9.el9?arch=aarch64"},
        {"name": "bash", "purl": "pkg:rpm/redhat/bash@5.1.8-9.el9?arch=src"},
        {"name": "glibc", "purl": "pkg:rpm/redhat/glibc@2.34-231.el9?arch=i686"},
        {"name": "tzdata", "purl": "pkg:rpm/redhat/tzdata@2025b-1.el9?arch=noarch"}]}"#;
    let inv = ok(doc);
    let kept: Vec<(&str, Option<&str>)> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.arch.as_deref()))
        .collect();
    assert_eq!(
        kept,
        [
            ("bash", Some("x86_64")),
            ("glibc", Some("i686")),
            ("tzdata", Some("noarch"))
        ]
    );
    let p = problems(&inv);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("1 source rpm (arch=src) left out"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("1 package for \"aarch64\" left out"),
        "{p:?}"
    );
    assert_eq!(
        inv.source.described.as_deref(),
        Some(
            "quay.io/x/ubi9@sha256:989a54762df6a21190a34dda0ffb682358fe5c29b249645536a2436b313af367"
        )
    );
    let image = inv.image.unwrap();
    assert_eq!(
        image.manifest_digest.unwrap().to_string(),
        "sha256:989a54762df6a21190a34dda0ffb682358fe5c29b249645536a2436b313af367"
    );
    assert_eq!(image.architecture.as_deref(), Some("amd64"));
}

#[test]
fn customs_properties_round_trip_layers_and_sources() {
    let l0 = "sha256:048971776ee933da61667286622153dc605c6d47aa6aea28aa18a6ed43d6c397";
    let l1 = "sha256:76b65115991c53232b14a743465242f9862f9240e6e36b2405cc14a9cfa22166";
    let doc = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6",
      "metadata": {{"component": {{"type": "container", "name": "app", "version": "sha256:20ca577fdd70215ecd3cb3758846780066b5062aabe421d5b1b62fc6103bae27",
        "properties": [
          {{"name": "customs:image:config_digest", "value": "sha256:34fa3f279e0965cb79fca15560d2b92cb91ad565fdebbd230d11892089a4a14b"}},
          {{"name": "customs:image:architecture", "value": "amd64"}},
          {{"name": "customs:image:layer", "value": "1 {l1}"}},
          {{"name": "customs:image:layer", "value": "0 {l0}"}},
          {{"name": "customs:image:label:org.opencontainers.image.title", "value": "debian-app"}}]}}}},
      "components": [
        {{"name": "libssl3", "version": "3.0.11-1~deb12u2", "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
          "properties": [
            {{"name": "customs:layer:index", "value": "1"}},
            {{"name": "customs:layer:diff_id", "value": "{l1}"}},
            {{"name": "customs:source_name", "value": "openssl"}},
            {{"name": "customs:source_version", "value": "3.0.11-1~deb12u1"}}]}},
        {{"name": "requests", "version": "2.25.1", "purl": "pkg:pypi/requests@2.25.1",
          "properties": [
            {{"name": "customs:path", "value": "/app/requirements.txt"}},
            {{"name": "customs:dev", "value": "true"}}]}}]}}"#
    );
    let inv = ok(&doc);
    let image = inv.image.as_ref().unwrap();
    let layers: Vec<(usize, String)> = image
        .layers
        .iter()
        .map(|l| (l.layer.index, l.layer.diff_id.as_ref().unwrap().to_string()))
        .collect();
    assert_eq!(layers, [(0, l0.to_owned()), (1, l1.to_owned())]);
    assert_eq!(
        image.config_digest.as_ref().unwrap().to_string(),
        "sha256:34fa3f279e0965cb79fca15560d2b92cb91ad565fdebbd230d11892089a4a14b"
    );
    assert_eq!(
        image.config.labels["org.opencontainers.image.title"],
        "debian-app"
    );
    let s = pkg(&inv, "libssl3");
    assert_eq!(
        (
            s.source_version.as_deref(),
            s.layer_index,
            s.layer.as_ref().map(ToString::to_string)
        ),
        (Some("3.0.11-1~deb12u1"), Some(1), Some(l1.to_owned()))
    );
    let r = pkg(&inv, "requests");
    assert!(r.dev);
    assert_eq!(r.paths, ["/app/requirements.txt"]);
    assert_eq!(
        inv.source.described.as_deref(),
        Some("app@sha256:20ca577fdd70215ecd3cb3758846780066b5062aabe421d5b1b62fc6103bae27")
    );
    assert_eq!(inv.source.reference, "sbom:t.json");
}

#[test]
fn without_a_named_manifest_the_document_digest_is_the_key() {
    let doc = cdx(r#"{"name": "a", "purl": "pkg:npm/a@1"}"#);
    let inv = ok(&doc);
    assert_eq!(
        inv.image.unwrap().manifest_digest,
        Some(Digest::compute(Algorithm::Sha256, doc.as_bytes()))
    );
}

#[test]
fn spdx_22_and_23_with_either_category_spelling() {
    let doc = r#"{"spdxVersion": "SPDX-2.2", "SPDXID": "SPDXRef-DOCUMENT",
      "documentDescribes": ["SPDXRef-img"],
      "packages": [
        {"SPDXID": "SPDXRef-img", "name": "registry.example/app", "versionInfo": "1.2"},
        {"SPDXID": "SPDXRef-a", "name": "zlib1g", "versionInfo": "1:1.2.13.dfsg-1",
         "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"}]},
        {"SPDXID": "SPDXRef-b", "name": "urllib3", "versionInfo": "1.26.5",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:pypi/urllib3@1.26.5"}],
         "annotations": [{"annotator": "Tool: trivy-0.50", "annotationType": "OTHER",
                          "comment": "FilePath: usr/lib/python3/dist-packages/urllib3-1.26.5.dist-info/METADATA"}]},
        {"SPDXID": "SPDXRef-c", "name": "python3-urllib3", "versionInfo": "1.26.12-1",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:deb/debian/python3-urllib3@1.26.12-1?arch=all"}]}],
      "relationships": [
        {"spdxElementId": "SPDXRef-c", "relationshipType": "OTHER", "relatedSpdxElement": "SPDXRef-b",
         "comment": "ownership-by-file-overlap: the parent's files hold the child"}]}"#;
    let inv = ok(doc);
    assert_eq!(
        inv.source.described.as_deref(),
        Some("registry.example/app:1.2")
    );
    let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["python3-urllib3", "zlib1g"]);
    assert_eq!(
        pkg(&inv, "python3-urllib3").owns,
        ["pypi:urllib3@1.26.5 usr/lib/python3/dist-packages/urllib3-1.26.5.dist-info/METADATA"]
    );
    assert_eq!(pkg(&inv, "zlib1g").source_name.as_deref(), Some("zlib"));
    assert_eq!(pkg(&inv, "zlib1g").found_in, "sbom:spdx");
}

#[test]
fn syft_json_reads_layers_in_order_and_metadata_sources() {
    let doc = r#"{"schema": {"version": "16.0.18"},
      "source": {"type": "image", "name": "app", "metadata": {
        "userInput": "registry.example/app:1", "imageID": "sha256:34fa3f279e0965cb79fca15560d2b92cb91ad565fdebbd230d11892089a4a14b",
        "manifestDigest": "sha256:20ca577fdd70215ecd3cb3758846780066b5062aabe421d5b1b62fc6103bae27",
        "architecture": "amd64", "os": "linux",
        "layers": [{"digest": "sha256:048971776ee933da61667286622153dc605c6d47aa6aea28aa18a6ed43d6c397"},
                   {"digest": "sha256:76b65115991c53232b14a743465242f9862f9240e6e36b2405cc14a9cfa22166"}]}},
      "distro": {"id": "ubuntu", "versionID": "22.04", "versionCodename": "jammy", "idLike": ["debian"]},
      "artifacts": [
        {"id": "x1", "name": "libssl3", "version": "3.0.2-0ubuntu1.15", "type": "deb",
         "purl": "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.15?arch=amd64&distro=ubuntu-22.04",
         "locations": [{"path": "/var/lib/dpkg/status", "layerID": "sha256:76b65115991c53232b14a743465242f9862f9240e6e36b2405cc14a9cfa22166"},
                       {"path": "/var/lib/dpkg/info/libssl3:amd64.list", "layerID": "sha256:048971776ee933da61667286622153dc605c6d47aa6aea28aa18a6ed43d6c397"}],
         "metadataType": "dpkg-db-entry", "metadata": {"source": "openssl", "sourceVersion": "", "architecture": "amd64"}},
        {"id": "x2", "name": "serde", "version": "1.0.100", "type": "rust-crate", "purl": "pkg:cargo/serde@1.0.100",
         "metadata": {"source": "crates.io"}}]}"#;
    let inv = ok(doc);
    let s = pkg(&inv, "libssl3");
    assert_eq!(
        (
            s.source_name.as_deref(),
            s.source_version.as_deref(),
            s.layer_index
        ),
        (Some("openssl"), Some("3.0.2-0ubuntu1.15"), Some(0))
    );
    assert_eq!(pkg(&inv, "serde").source_name, None);
    let d = inv.distro.as_ref().unwrap();
    assert_eq!(
        (
            d.id.as_str(),
            d.version_id.as_deref(),
            d.codename.as_deref(),
            d.id_like.as_slice()
        ),
        (
            "ubuntu",
            Some("22.04"),
            Some("jammy"),
            ["debian".to_owned()].as_slice()
        )
    );
    let image = inv.image.unwrap();
    assert_eq!(image.layers.len(), 2);
    assert_eq!(
        (image.os.as_deref(), image.architecture.as_deref()),
        (Some("linux"), Some("amd64"))
    );
    assert_eq!(
        inv.source.described.as_deref(),
        Some("registry.example/app:1")
    );
}
