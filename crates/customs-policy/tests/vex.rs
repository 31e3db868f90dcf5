//! VEX in: the spec's and the tools' own documents (OpenVEX 0.2 and 0.0.1, CycloneDX 1.6, Red
//! Hat's CSAF VEX), read and applied to findings. The findings are built in the shape a scan
//! report writes, for the packages those documents name (invented values).

use std::path::{Path, PathBuf};

use customs_match::Finding;
use customs_policy::vex::{self, VexDocument, VexFormat, VexStatus};
use serde_json::json;

fn shared(rel: &str) -> PathBuf {
    let base = std::env::var_os("CUSTOMS_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let p = base.join("data").join(rel);
    assert!(p.exists(), "shared data missing at {}", p.display());
    p
}

fn at(t: &str) -> customs_types::Timestamp {
    customs_types::Timestamp::parse_lenient(t).unwrap()
}

fn read(rel: &str) -> VexDocument {
    VexDocument::from_file(&shared(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn finding(id: &str, purl: &str) -> Finding {
    let name = purl
        .split(['@', '?'])
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    serde_json::from_value(json!({
        "id": id, "aliases": [],
        "package": {"name": name, "version": "1", "ecosystem": "deb", "purl": purl,
                    "source_name": null, "source_version": null, "layer": null, "layer_index": null},
        "installed_version": "1", "fixed_versions": [], "status": "affected",
        "suppressed": null, "severity": "high", "severity_source": null, "cvss": null,
        "kev": null, "epss": null, "title": null, "note": null,
        "data_source": {"feed": "debian-cve-list", "record": "data/CVE/list:1",
                        "namespace": "debian:12", "package": name},
    }))
    .unwrap()
}

/// How `apply` leaves one finding: its suppression's text, if any.
fn verdict(docs: &[VexDocument], f: Finding, image: Option<&str>) -> Option<String> {
    let mut fs = [f];
    vex::apply(docs, &mut fs, image);
    fs[0].suppressed.as_ref().map(ToString::to_string)
}

const IMAGE: &str = "pkg:oci/debian@sha256%3Aabc0123456789abc0123456789abc0123456789abc0123456789abc0123456789a?repository_url=registry.example/library/debian";
const BASH: &str = "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12";

/// Every OpenVEX document of the spec, go-vex and Trivy is read, with its statements.
#[test]
fn every_openvex_example_is_read() {
    let dir = shared("schemas/openvex-0.2.0/examples");
    let mut n = 0;
    for sub in ["spec", "go-vex", "trivy"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            let d = VexDocument::from_file(&p).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.format, VexFormat::OpenVex, "{}", p.display());
            assert!(!d.statements.is_empty(), "{}", p.display());
            assert!(
                d.statements.iter().all(|s| !s.products.is_empty()),
                "{}: {:?}",
                p.display(),
                d.warnings
            );
            n += 1;
        }
    }
    assert_eq!(n, 11);
    let min = read("schemas/openvex-0.2.0/examples/spec/minimal-document.json");
    let s = &min.statements[0];
    assert_eq!(s.vulnerability, "CVE-2023-12345");
    assert_eq!(s.status, VexStatus::Fixed);
    assert_eq!(s.products.len(), 2);
    assert_eq!(min.author.as_deref(), Some("Wolfi J Inkinson"));
    // 0.0.1 wrote the vulnerability and products as strings.
    let old = read("schemas/openvex-0.2.0/examples/go-vex/v0.0.1.json");
    assert_eq!(old.statements[0].vulnerability, "CVE-2023-12345");
    assert_eq!(old.statements[0].products.len(), 2);
}

/// A statement without a timestamp has its document's (the spec's inheritance example).
#[test]
fn timestamps_cascade_from_the_document() {
    let d = read("schemas/openvex-0.2.0/examples/spec/inherited-timestamp-v1.json");
    assert_eq!(
        d.statements[0].timestamp,
        Some(at("2023-01-08T18:02:03-06:00"))
    );
    let own = read("schemas/openvex-0.2.0/examples/go-vex/v020-1.vex.json");
    assert_eq!(
        own.statements[0].timestamp,
        Some(at("2022-12-22T21:36:43Z"))
    );
}

/// The spec's example applies to exactly the package it names, at that version and arch.
#[test]
fn a_statement_names_its_package_version_and_qualifiers() {
    let d = [read(
        "schemas/openvex-0.2.0/examples/spec/minimal-document.json",
    )];
    let git = |v: &str, arch: &str| {
        finding(
            "CVE-2023-12345",
            &format!("pkg:apk/wolfi/git@{v}?arch={arch}&distro=wolfi"),
        )
    };
    assert!(
        verdict(&d, git("2.39.0-r1", "x86_64"), None)
            .unwrap()
            .starts_with("vex: fixed by Wolfi J Inkinson in ")
    );
    assert_eq!(verdict(&d, git("2.39.0-r2", "x86_64"), None), None);
    assert_eq!(verdict(&d, git("2.39.0-r1", "aarch64"), None), None);
    let other = finding("CVE-2023-99999", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64");
    assert_eq!(verdict(&d, other, None), None);
}

/// Trivy's image document: the image with a subcomponent applies to that package in that
/// image, not in another image, and not to a package scanned outside an image.
#[test]
fn an_image_product_applies_to_its_subcomponents_in_that_image() {
    let d = [read(
        "schemas/openvex-0.2.0/examples/trivy/openvex-oci.json",
    )];
    let bash = || finding("CVE-2022-3715", BASH);
    assert_eq!(
        verdict(&d, bash(), Some(IMAGE)).as_deref(),
        Some(
            "vex: not_affected (vulnerable_code_not_in_execute_path) by Aqua Security in "
                .to_owned()
                + &d[0].source
        )
        .as_deref()
    );
    assert_eq!(verdict(&d, bash(), None), None);
    let other = "pkg:oci/ubuntu@sha256%3Aabc?repository_url=registry.example/library/ubuntu";
    assert_eq!(verdict(&d, bash(), Some(other)), None);
    let mismatch = [read(
        "schemas/openvex-0.2.0/examples/trivy/openvex-oci-mismatch.json",
    )];
    assert_eq!(verdict(&mismatch, bash(), Some(IMAGE)), None);
    // Another package of the same image is not covered.
    let curl = finding("CVE-2022-3715", "pkg:deb/debian/curl@7.88.1-10?arch=amd64");
    assert_eq!(verdict(&d, curl, Some(IMAGE)), None);
}

/// A package inside another package (not the image): customs has no dependency graph to
/// place one under the other, so it does not apply.
#[test]
fn a_nested_package_product_is_not_applied() {
    let d = [read(
        "schemas/openvex-0.2.0/examples/trivy/openvex-nested.json",
    )];
    let f = finding(
        "CVE-2024-0001",
        "pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0",
    );
    assert_eq!(verdict(&d, f, Some(IMAGE)), None);
}

fn openvex(timestamp: &str, status: &str) -> VexDocument {
    let doc = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("https://example.invalid/{status}"),
        "author": "a", "timestamp": timestamp, "version": 1,
        "statements": [{"vulnerability": {"name": "CVE-2022-3715"},
                        "products": [{"@id": "pkg:deb/debian/bash"}],
                        "status": status, "justification": "component_not_present"}]
    });
    VexDocument::parse(&doc.to_string(), &format!("{status}.json")).unwrap()
}

/// Of two statements about the same finding, the later wins, whatever order they are read in.
#[test]
fn the_latest_statement_wins() {
    let early = openvex("2024-01-01T00:00:00Z", "not_affected");
    let late = openvex("2024-06-01T00:00:00Z", "affected");
    for docs in [
        vec![early.clone(), late.clone()],
        vec![late.clone(), early.clone()],
    ] {
        assert_eq!(verdict(&docs, finding("CVE-2022-3715", BASH), None), None);
    }
    let later = openvex("2024-09-01T00:00:00Z", "not_affected");
    assert!(verdict(&[late, later], finding("CVE-2022-3715", BASH), None).is_some());
    // A statement the vendor already suppressed keeps the vendor's reason.
    let mut f = finding("CVE-2022-3715", BASH);
    f.suppressed = Some(customs_match::Suppression::Unimportant);
    let mut fs = [f];
    let r = vex::apply(&[early], &mut fs, None);
    assert_eq!(
        fs[0].suppressed,
        Some(customs_match::Suppression::Unimportant)
    );
    assert!(r.suppressed.is_empty());
}

/// CycloneDX 1.6's own vulnerability example: a not_affected analysis of one component, with
/// its reference as an alias.
#[test]
fn cyclonedx_analysis_is_read() {
    let d = read("schemas/cyclonedx-1.6/examples/valid-vulnerability-1.6.json");
    assert_eq!(d.format, VexFormat::CycloneDx);
    let s = &d.statements[0];
    assert_eq!(s.status, VexStatus::NotAffected);
    assert_eq!(s.justification.as_deref(), Some("code_not_reachable"));
    assert_eq!(s.aliases, ["CVE-2018-7489"]);
    assert_eq!(s.timestamp, Some(at("2022-02-01T00:00:00Z")));
    let docs = [d];
    let jackson = |v: &str| {
        finding(
            "CVE-2018-7489",
            &format!("pkg:maven/com.fasterxml.jackson.core/jackson-databind@{v}"),
        )
    };
    assert!(verdict(&docs, jackson("2.9.4"), None).is_some());
    assert_eq!(verdict(&docs, jackson("2.9.5"), None), None);
}

/// Red Hat's CSAF VEX: an exact build that is fixed applies; versionless components of a
/// platform named only by a CPE (RHEL 6's libsmbclient) do not, and the document says so.
#[test]
fn red_hat_csaf_vex_is_read() {
    let fixed = read("advisories/redhat-csaf-vex/cve-2024-24786-simple.json");
    assert_eq!(fixed.format, VexFormat::Csaf);
    assert_eq!(fixed.author.as_deref(), Some("Red Hat Product Security"));
    let docs = [fixed];
    let cri = |arch: &str| {
        finding(
            "CVE-2024-24786",
            &format!("pkg:rpm/redhat/cri-tools@1.29.0-3.1.el9?arch={arch}&distro=rhel-9.4"),
        )
    };
    assert!(
        verdict(&docs, cri("aarch64"), None)
            .unwrap()
            .starts_with("vex: fixed by Red Hat Product Security")
    );
    assert_eq!(verdict(&docs, cri("x86_64"), None), None);

    let samba = read("advisories/redhat-csaf-vex/cve-2023-4154.json");
    assert!(
        samba
            .warnings
            .iter()
            .any(|w| w.contains("platform named only by CPE")),
        "{:?}",
        samba.warnings
    );
    let f = finding(
        "CVE-2023-4154",
        "pkg:rpm/redhat/libsmbclient@4.18.6-1.el9?arch=x86_64",
    );
    assert_eq!(verdict(&[samba], f, None), None);

    let big = read("advisories/redhat-csaf-vex/cve-2022-38752.json");
    let n: usize = big
        .statements
        .iter()
        .filter(|s| s.status == VexStatus::NotAffected)
        .map(|s| s.products.len())
        .sum();
    // 2,353 not-affected product ids: 5 have no purl, and 1 is a versionless component of a
    // CPE-named platform (counted by a separate reading of the file).
    assert_eq!(n, 2347, "{:?}", big.warnings);
    assert!(
        big.statements
            .iter()
            .filter(|s| s.status == VexStatus::NotAffected)
            .all(|s| s.justification.as_deref() == Some("vulnerable_code_not_present"))
    );
}

/// Bad input: an error naming the file and the problem, never a panic.
#[test]
fn bad_documents_are_errors_that_name_the_file() {
    let cases = [
        ("{\"@context\": ", "x.json:1:13: not JSON"),
        ("{\"hello\": 1}", "x.json: not a VEX document"),
        (
            "{\"document\": {\"csaf_version\": \"2.0\", \"category\": \"csaf_security_advisory\"}}",
            "x.json: a CSAF document of category \"csaf_security_advisory\", not csaf_vex",
        ),
        (
            "{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": [{\"status\": \"nope\"}]}",
            "x.json: not an OpenVEX document",
        ),
        (
            "{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"timestamp\": \"yesterday\"}",
            "x.json: timestamp \"yesterday\" is not a timestamp",
        ),
    ];
    for (text, want) in cases {
        let e = VexDocument::parse(text, "x.json").unwrap_err().to_string();
        assert!(e.starts_with(want), "{text}: {e}");
    }
    let missing = VexDocument::from_file(Path::new("/nonexistent/vex.json"))
        .unwrap_err()
        .to_string();
    assert!(missing.starts_with("/nonexistent/vex.json: "), "{missing}");
}

/// A not_affected statement without a justification or impact statement is not one (the
/// spec requires either): it is reported and not applied.
#[test]
fn not_affected_without_a_reason_is_not_applied() {
    let doc = json!({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/x",
        "author": "a", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
        "statements": [{"vulnerability": {"name": "CVE-2022-3715"},
                        "products": [{"@id": "pkg:deb/debian/bash"}], "status": "not_affected"}]
    });
    let d = VexDocument::parse(&doc.to_string(), "x.json").unwrap();
    assert!(d.statements.is_empty());
    assert!(d.warnings[0].contains("without a justification"));
}
