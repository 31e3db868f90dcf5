//! The standard formats, in and out: every CycloneDX, SPDX and SARIF document customs writes
//! for the corpus images passes the formats' own validators; syft reads customs' SBOMs and
//! customs reads syft's and trivy's; an SBOM scanned finds what the image scanned finds; a
//! stored SBOM is re-matched after the file is gone. The validators come from PyPI and npm
//! (scripts/format-tools.sh, run by scripts/test.sh); a missing one fails the test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{corpus, customs, customs_with, name_versions, shared};

const IMAGES: [&str; 4] = [
    "bookworm-big",
    "bullseye-minbase",
    "debian-app",
    "trixie-minbase",
];

/// Where scripts/format-tools.sh installed the validators.
pub(crate) fn tools() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_FORMAT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus().parent().unwrap().join("tools"));
    assert!(
        p.join("venv/bin/check-jsonschema").is_file(),
        "format validators missing at {}: run scripts/format-tools.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

fn syft() -> PathBuf {
    let p = corpus().parent().unwrap().join("peers/venv/bin/syft");
    assert!(
        p.is_file(),
        "syft missing at {}: run ../shared/tools/install-peers.sh syft (scripts/test.sh does)",
        p.display()
    );
    p
}

/// Run a validator; its output when it fails.
fn run_tool(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub(crate) fn check_cyclonedx(file: &Path) {
    let schema = shared().join("data/schemas/cyclonedx-1.6/bom-1.6.schema.json");
    let (ok, text) = run_tool(
        Command::new(tools().join("venv/bin/check-jsonschema"))
            .arg("--schemafile")
            .arg(&schema)
            // The schema's $refs (spdx.schema.json, jsf) resolve beside it, never online.
            .arg("--base-uri")
            .arg(format!("file://{}", schema.display()))
            .arg(file),
    );
    assert!(ok, "{}: CycloneDX 1.6 schema: {text}", file.display());
}

/// An OpenVEX document against the OpenVEX 0.2.0 JSON schema.
pub(crate) fn check_openvex(file: &Path) {
    let schema = shared().join("data/schemas/openvex-0.2.0/openvex_json_schema.json");
    let (ok, text) = run_tool(
        Command::new(tools().join("venv/bin/check-jsonschema"))
            .arg("--schemafile")
            .arg(&schema)
            .arg(file),
    );
    assert!(ok, "{}: OpenVEX 0.2.0 schema: {text}", file.display());
}

pub(crate) fn check_sarif(file: &Path) {
    let schema = shared().join("data/schemas/sarif-2.1.0/sarif-schema-2.1.0.json");
    let (ok, text) = run_tool(
        Command::new(tools().join("venv/bin/check-jsonschema"))
            .arg("--schemafile")
            .arg(&schema)
            .arg(file),
    );
    assert!(ok, "{}: SARIF 2.1.0 schema: {text}", file.display());
    let multitool =
        tools().join("npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    let log = file.with_extension("validation.sarif");
    let (ok, text) = run_tool(
        Command::new(&multitool)
            .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
            .arg(&log)
            .arg(file),
    );
    assert!(ok, "{}: sarif-multitool: {text}", file.display());
    // Its own log lists every rule it broke; errors (GitHub's upload rules among them) fail.
    let v: Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
    let errors: Vec<&Value> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
}

pub(crate) fn check_spdx(file: &Path) {
    let (ok, text) = run_tool(
        Command::new(tools().join("venv/bin/pyspdxtools"))
            .arg("-i")
            .arg(file),
    );
    assert!(ok, "{}: pyspdxtools: {text}", file.display());
    // NTIA's minimum elements: all of them, for every package. (The image's own supplier
    // comes from its vendor label or its config's author, which every corpus image records.)
    let doc = read_json(file);
    let (_, text) = run_tool(
        Command::new(tools().join("venv/bin/ntia-checker"))
            .arg("--file")
            .arg(file),
    );
    for element in [
        "All component names provided?",
        "All component versions provided?",
        "All component identifiers provided?",
        "All component suppliers provided?",
        "SBOM author name provided?",
        "SBOM creation timestamp provided?",
        "Dependency relationships provided?",
        "Conformant:",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(element))
            .unwrap_or_else(|| {
                panic!(
                    "{}: ntia-checker says nothing of {element}: {text}",
                    file.display()
                )
            });
        assert!(
            line.trim_end().ends_with("True"),
            "{}: {line}",
            file.display()
        );
    }
    for p in doc["packages"].as_array().unwrap() {
        assert_ne!(p["supplier"], "NOASSERTION", "{}: {p}", file.display());
    }
}

fn layout(image: &str) -> String {
    format!("oci:{}", corpus().join(image).join("oci").display())
}

/// (id, package, version, severity, status, suppressed) of every finding of a scan's JSON.
fn findings(v: &Value) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {v}"))
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {} {}",
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
                f["suppressed"].as_str().unwrap_or("-"),
            )
        })
        .collect()
}

/// [`findings`] with PyPI package names normalised as PEP 503 does.
fn pep503_findings(v: &Value) -> BTreeSet<String> {
    let mut v = v.clone();
    for f in v["findings"].as_array_mut().unwrap() {
        if f["package"]["ecosystem"] == "pypi" {
            let name = f["package"]["name"].as_str().unwrap().to_ascii_lowercase();
            f["package"]["name"] = name.replace(['_', '.'], "-").into();
        }
    }
    findings(&v)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_document_for_every_corpus_image_passes_its_validators() {
    let dir = tempfile::tempdir().unwrap();
    for image in IMAGES {
        let out = |ext: &str| dir.path().join(format!("{image}.{ext}"));
        // One scan, four documents.
        let r = customs(
            &[
                "scan",
                "--show-suppressed",
                "-o",
                &format!("json={}", out("json").display()),
                "-o",
                &format!("cyclonedx={}", out("vdr.cdx.json").display()),
                "-o",
                &format!("sarif={}", out("sarif").display()),
                "-o",
                &format!("spdx-json={}", out("spdx.json").display()),
                &layout(image),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{image}: {}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "every output went to a file: {}",
            r.stdout
        );
        let sbom = customs(&["sbom", "-o", "cyclonedx", &layout(image)], dir.path());
        assert_eq!(sbom.code, 0, "{image}: {}", sbom.stderr);
        std::fs::write(out("cdx.json"), &sbom.stdout).unwrap();

        check_cyclonedx(&out("cdx.json"));
        check_cyclonedx(&out("vdr.cdx.json"));
        check_sarif(&out("sarif"));
        check_spdx(&out("spdx.json"));

        // What the documents say agrees with the scan they came from.
        let scan = read_json(&out("json"));
        let packages = scan["packages"].as_array().unwrap().len();
        let shown = scan["findings"].as_array().unwrap().len();
        let bom = read_json(&out("cdx.json"));
        let libraries = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == "library")
            .count();
        assert_eq!(libraries, packages, "{image}");
        assert!(
            bom.get("vulnerabilities").is_none(),
            "{image}: an SBOM has no findings"
        );
        assert_eq!(bom["metadata"]["component"]["type"], "container");
        let purl = bom["metadata"]["component"]["purl"].as_str().unwrap();
        assert!(
            purl.starts_with("pkg:oci/") && purl.contains("@sha256:"),
            "{image}: {purl}"
        );
        let vdr = read_json(&out("vdr.cdx.json"));
        // Each secret, config and file detection is a vulnerability of the image too.
        let detections = scan["detections"].as_array().map_or(0, Vec::len);
        assert_eq!(
            vdr["vulnerabilities"].as_array().map_or(0, Vec::len),
            shown + detections,
            "{image}"
        );
        let sarif = read_json(&out("sarif"));
        assert_eq!(
            sarif["runs"][0]["results"].as_array().unwrap().len(),
            shown + detections,
            "{image}"
        );
        let spdx = read_json(&out("spdx.json"));
        // The image, its distribution, and every package.
        assert_eq!(
            spdx["packages"].as_array().unwrap().len(),
            packages + 2,
            "{image}"
        );
    }
}

#[test]
fn documents_are_byte_identical_for_the_same_input() {
    let dir = tempfile::tempdir().unwrap();
    let write = |n: u32| -> Vec<Vec<u8>> {
        let files: Vec<PathBuf> = ["cdx.json", "spdx.json", "sarif", "html"]
            .iter()
            .map(|e| dir.path().join(format!("{n}.{e}")))
            .collect();
        let r = customs_with(
            Command::new(env!("CARGO_BIN_EXE_customs"))
                .env("SOURCE_DATE_EPOCH", "1764547200")
                .args(["scan", "-o"])
                .arg(format!("cyclonedx={}", files[0].display()))
                .arg("-o")
                .arg(format!("spdx-json={}", files[1].display()))
                .arg("-o")
                .arg(format!("sarif={}", files[2].display()))
                .arg("-o")
                .arg(format!("html={}", files[3].display()))
                .arg(layout("debian-app")),
            dir.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    };
    let (a, b) = (write(1), write(2));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(x == y, "output {i} differs between two runs");
    }
    let bom: Value = serde_json::from_slice(&a[0]).unwrap();
    assert_eq!(bom["metadata"]["timestamp"], "2025-12-01T00:00:00Z");
    let spdx: Value = serde_json::from_slice(&a[1]).unwrap();
    assert_eq!(spdx["creationInfo"]["created"], "2025-12-01T00:00:00Z");
    // A different image gets a different serial number and namespace.
    let other = customs(
        &["sbom", "-o", "cyclonedx", &layout("trixie-minbase")],
        dir.path(),
    );
    let other: Value = serde_json::from_str(&other.stdout).unwrap();
    assert_ne!(other["serialNumber"], bom["serialNumber"]);
}

#[test]
fn an_sbom_round_trip_finds_what_the_image_scan_finds() {
    let dir = tempfile::tempdir().unwrap();
    // The corpus images, and an Alpine root whose apk findings (matched by origin package)
    // must survive the trip too: the Debian images have none with the data at hand.
    let alpine = crate::scan::alpine_310_downgraded();
    let mut sources: Vec<(String, String)> = IMAGES
        .iter()
        .map(|i| ((*i).to_owned(), layout(i)))
        .collect();
    sources.push((
        "alpine-3.10".to_owned(),
        format!("dir:{}", alpine.path().display()),
    ));
    for (image, source) in &sources {
        let direct = customs(
            &["scan", "--show-suppressed", "-o", "json", source],
            dir.path(),
        );
        assert_eq!(direct.code, 0, "{image}: {}", direct.stderr);
        let direct = direct.json();
        for format in ["cyclonedx", "spdx-json"] {
            let bom = customs(&["sbom", "-o", format, source], dir.path());
            assert_eq!(bom.code, 0, "{image}: {}", bom.stderr);
            let mut child = Command::new(env!("CARGO_BIN_EXE_customs"))
                .args(["scan", "--show-suppressed", "-o", "json", "sbom:-"])
                .env("CUSTOMS_CACHE_DIR", dir.path())
                .env("HOME", dir.path().join("home"))
                .env_remove("XDG_CACHE_HOME")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), bom.stdout.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{image} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let via: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(
                findings(&via),
                findings(&direct),
                "{image}: scanning its {format} SBOM"
            );
            assert_eq!(via["namespaces"], direct["namespaces"], "{image} {format}");
            assert!(
                !findings(&direct).is_empty()
                    || !["debian-app", "alpine-3.10"].contains(&image.as_str()),
                "{image} has findings to compare"
            );
        }
    }
}

#[test]
fn real_sboms_by_trivy_and_syft_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let real = shared().join("data/schemas/real-sboms");
    for (file, packages) in [
        // 105 debs and 55 gems.
        ("trivy-fluentd-image.cdx-1.6.json", 160),
        ("konflux-ubi9.7-syft.spdx-2.3.json", 0),
    ] {
        let r = customs(
            &[
                "sbom",
                "-o",
                "json",
                &format!("sbom:{}", real.join(file).display()),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let inv = r.json();
        let n = inv["packages"].as_array().unwrap().len();
        if packages > 0 {
            assert_eq!(n, packages, "{file}");
        } else {
            assert!(n > 100, "{file}: {n} packages");
        }
        let scan = customs(
            &[
                "scan",
                "-o",
                "json",
                &format!("sbom:{}", real.join(file).display()),
            ],
            dir.path(),
        );
        assert_eq!(scan.code, 0, "{file}: {}", scan.stderr);
    }
    // With its 55 gems made `pkg:hex` (an edit of the real document: gems are read now), the
    // fluentd SBOM lists packages customs has no ecosystem for: a gate cannot pass it,
    // whatever the findings (fail closed), and says why.
    let text = std::fs::read_to_string(real.join("trivy-fluentd-image.cdx-1.6.json")).unwrap();
    let hex = dir.path().join("fluentd-hex.cdx.json");
    std::fs::write(&hex, text.replace("pkg:gem/", "pkg:hex/")).unwrap();
    let fluentd = format!("sbom:{}", hex.display());
    let gate = customs(
        &[
            "scan",
            "--fail-on",
            "critical",
            "--allow-missing-coverage",
            "deb",
            &fluentd,
        ],
        dir.path(),
    );
    assert_eq!(gate.code, 2, "{}", gate.stderr);
    assert!(
        gate.stderr
            .contains("customs has no ecosystem for the 55 hex package(s) the source lists"),
        "{}",
        gate.stderr
    );
}

/// syft's documents for debian-app, written by syft itself.
fn syft_documents(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let layout = corpus().join("debian-app/oci");
    ["cyclonedx-json", "spdx-json", "syft-json"]
        .into_iter()
        .map(|f| {
            let file = dir.join(format!("syft.{f}.json"));
            let (ok, text) = run_tool(
                Command::new(syft())
                    .args(["scan", "-q"])
                    .arg(format!("oci-dir:{}", layout.display()))
                    .arg("-o")
                    .arg(format!("{f}={}", file.display())),
            );
            assert!(ok, "syft {f}: {text}");
            (f, file)
        })
        .collect()
}

#[test]
fn syft_and_customs_read_each_others_sboms() {
    let dir = tempfile::tempdir().unwrap();
    let inv = customs(&["sbom", "-o", "json", &layout("debian-app")], dir.path()).json();
    let ours: BTreeSet<(String, String)> = name_versions(&inv["packages"]);
    // syft converts customs' documents to its own JSON and lists the same packages.
    for (format, ext) in [("cyclonedx", "cdx.json"), ("spdx-json", "spdx.json")] {
        let file = dir.path().join(format!("customs.{ext}"));
        let r = customs(
            &[
                "sbom",
                "-o",
                &format!("{format}={}", file.display()),
                &layout("debian-app"),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out = Command::new(syft())
            .arg("convert")
            .arg(&file)
            .args(["-o", "syft-json", "-q"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "syft convert {format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let converted: Value = serde_json::from_slice(&out.stdout).unwrap();
        let theirs: BTreeSet<(String, String)> = name_versions(&converted["artifacts"]);
        // The distribution is an OPERATING-SYSTEM package in customs' SPDX (as trivy writes
        // it); syft lists such a package as one more package (its own SPDX has none, and
        // gives the distribution only in purl qualifiers). That is the one difference.
        let mut theirs = theirs;
        if format == "spdx-json" {
            assert!(
                theirs.remove(&("debian".to_owned(), "12".to_owned())),
                "{theirs:?}"
            );
        }
        assert_eq!(theirs, ours, "syft's reading of customs' {format}");
        let distro = &converted["distro"];
        assert_eq!(distro["id"], "debian", "{format}: {distro}");
    }
    // customs reads syft's three documents and finds what the image scan finds.
    let direct = customs(
        &[
            "scan",
            "--show-suppressed",
            "-o",
            "json",
            &layout("debian-app"),
        ],
        dir.path(),
    )
    .json();
    for (format, file) in syft_documents(dir.path()) {
        let r = customs(
            &[
                "scan",
                "--show-suppressed",
                "-o",
                "json",
                &format!("sbom:{}", file.display()),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        // syft spells PyPI names as the index normalises them (`jinja2`), customs as the
        // installed metadata does (`Jinja2`): the same package to the matcher (PEP 503), so
        // compared normalised. syft also lists no crates from Cargo.lock (winapi: no finding)
        // and one maven package customs reports as unchecked; neither changes the findings.
        let via = r.json();
        let (a, b) = (pep503_findings(&via), pep503_findings(&direct));
        let missing: Vec<_> = b.difference(&a).collect();
        let extra: Vec<_> = a.difference(&b).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "syft's {format}: missing {missing:#?}\nextra {extra:#?}"
        );
    }
}

#[test]
fn a_stored_sbom_is_rematched_after_the_file_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (db1, db2) = crate::scan::two_dbs(dir.path(), &["rustsec"], &["rustsec", "osv-pypa-yaml"]);
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let bom = dir.path().join("app.spdx.json");
    let r = customs(
        &[
            "sbom",
            "-o",
            &format!("spdx-json={}", bom.display()),
            &layout("debian-app"),
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let source = format!("sbom:{}", bom.display());
    let stored = customs(
        &[
            "scan",
            "-o",
            "json",
            "--store",
            "--store-url",
            &store,
            "--db",
            &db1,
            &source,
        ],
        dir.path(),
    );
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    let before = findings(&stored.json());
    let fresh = customs(&["scan", "-o", "json", "--db", &db2, &source], dir.path());
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    let added: BTreeSet<String> = findings(&fresh.json())
        .difference(&before)
        .cloned()
        .collect();
    assert!(
        !added.is_empty(),
        "the PyPI feed adds findings to debian-app"
    );
    std::fs::remove_file(&bom).unwrap();

    // Keyed by the image digest the SBOM names, listed under the image's name.
    let images = customs(
        &["images", "--format", "json", "--store-url", &store],
        dir.path(),
    );
    assert_eq!(images.code, 0, "{}", images.stderr);
    let digest = crate::lifecycle::debian_app_digest();
    assert!(images.stdout.contains(&digest), "{}", images.stdout);

    let r = customs(
        &[
            "rematch",
            "--format",
            "json",
            "--store-url",
            &store,
            "--db",
            &db2,
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let delta = r.json();
    let image = &delta["images"][0];
    assert_eq!(image["digest"], digest.as_str(), "{delta}");
    let new: BTreeSet<String> = image["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap()
            )
        })
        .collect();
    let expected: BTreeSet<String> = added
        .iter()
        .map(|f| {
            let mut w = f.split(' ');
            format!("{} {}", w.next().unwrap(), w.next().unwrap())
        })
        .collect();
    assert_eq!(new, expected);
}

#[test]
fn bad_outputs_and_sboms_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let r = customs(&["scan", "-o", "pdf", &layout("debian-app")], dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown output \"pdf\""), "{}", r.stderr);
    let r = customs(
        &["scan", "-o", "json", "-o", "sarif", &layout("debian-app")],
        dir.path(),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("more than one output goes to standard output"),
        "{}",
        r.stderr
    );
    let r = customs(&["sbom", "-o", "sarif", &layout("debian-app")], dir.path());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("use it with `customs scan`"),
        "{}",
        r.stderr
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"hello\": 1}").unwrap();
    let r = customs(&["scan", &format!("sbom:{}", junk.display())], dir.path());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("junk.json"),
        "the error names the file: {}",
        r.stderr
    );
    let r = customs(&["scan", "sbom:/nonexistent/bom.json"], dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/bom.json"), "{}", r.stderr);
}

/// Every format for one small image whose bytes never change: the root filesystem of Alpine
/// 3.10 from ../shared/data/images/real with three packages set back to versions Alpine's
/// advisories name (as the scan tests use it: 14 packages, findings from the built-in
/// snapshot), pinned by SOURCE_DATE_EPOCH. What differs between runs and machines (the
/// root's and the database's paths, the moment the database was built) is replaced before
/// comparing.
#[test]
fn snapshots_of_every_format_for_a_small_fixed_image() {
    let dir = tempfile::tempdir().unwrap();
    let root = crate::scan::alpine_310_downgraded();
    let source = format!("dir:{}", root.path().display());
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../customs-report/templates/markdown.tmpl");
    let files: Vec<(&str, PathBuf)> = [
        ("json", "scan.json"),
        ("cyclonedx", "vdr.cdx.json"),
        ("spdx-json", "spdx.json"),
        ("sarif", "sarif"),
        ("html", "html"),
    ]
    .into_iter()
    .map(|(f, name)| (f, dir.path().join(name)))
    .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
    cmd.env("SOURCE_DATE_EPOCH", "1764547200").args([
        "scan",
        "--no-cache",
        "--show-suppressed",
        "-o",
        "table",
    ]);
    for (format, file) in &files {
        cmd.arg("-o").arg(format!("{format}={}", file.display()));
    }
    let md = dir.path().join("report.md");
    cmd.arg("-o")
        .arg(format!("template={}={}", template.display(), md.display()))
        .arg(&source);
    let r = customs_with(&mut cmd, dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let scan = read_json(&files[0].1);
    let built = scan["vulnerability_db"]["built_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let db_path = scan["vulnerability_db"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared_path = shared().canonicalize().unwrap().display().to_string();
    // A root filesystem's documents are named after its directory, a random temporary name.
    let root_name = root
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_ascii_lowercase();
    let clean = |text: &str| -> String {
        let built_secs = format!("{}Z", &built[..19]);
        // The serial number and namespace hash the content, paths and database age included;
        // that they repeat for the same input is documents_are_byte_identical_…'s to show.
        let mut text = text.to_owned();
        if let Ok(doc) = serde_json::from_str::<Value>(&text) {
            for key in ["serialNumber", "documentNamespace"] {
                if let Some(v) = doc[key].as_str() {
                    text = text.replace(v, &format!("[{key}]"));
                }
            }
        }
        text.replace(&db_path, "[DB]")
            .replace(&root.path().display().to_string(), "[ROOT]")
            .replace(&root_name, "[ROOT-NAME]")
            .replace(&built, "[DB-BUILT]")
            .replace(&built_secs, "[DB-BUILT]")
            .replace(&shared().display().to_string(), "[SHARED]")
            .replace(&shared_path, "[SHARED]")
    };
    insta::assert_snapshot!("alpine-310.table", clean(&r.stdout));
    for (format, file) in &files {
        let text = std::fs::read_to_string(file).unwrap();
        insta::assert_snapshot!(format!("alpine-310.{format}"), clean(&text));
    }
    insta::assert_snapshot!(
        "alpine-310.template-markdown",
        clean(&std::fs::read_to_string(&md).unwrap())
    );
    let sbom = customs_with(
        Command::new(env!("CARGO_BIN_EXE_customs"))
            .env("SOURCE_DATE_EPOCH", "1764547200")
            .args(["sbom", "--no-cache", "-o", "cyclonedx"])
            .arg(&source),
        dir.path(),
    );
    assert_eq!(sbom.code, 0, "{}", sbom.stderr);
    insta::assert_snapshot!("alpine-310.sbom.cdx", clean(&sbom.stdout));
}

/// The element of a JSON list whose `name` is `name`.
fn named(list: &Value, name: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in the list"))
        .clone()
}

/// Licences, authors and the package graph of debian-app, against what syft 1.18.1 reads from
/// the same files; and through the SBOM formats.
#[test]
fn licences_authors_and_dependencies_agree_with_syft() {
    let dir = tempfile::tempdir().unwrap();
    let inv = customs(&["sbom", "-o", "json", &layout("debian-app")], dir.path()).json();
    let syft_json = syft_documents(dir.path())
        .into_iter()
        .find(|(f, _)| *f == "syft-json")
        .unwrap()
        .1;
    let syft = read_json(&syft_json);
    let syft_ty = |eco: &str| match eco {
        "pypi" => "python",
        other => {
            if other == "npm" {
                "npm"
            } else {
                "deb"
            }
        }
    };
    let theirs = |eco: &str, name: &str| -> Option<BTreeSet<String>> {
        syft["artifacts"].as_array().unwrap().iter().find_map(|a| {
            (a["type"] == syft_ty(eco) && a["name"].as_str()?.eq_ignore_ascii_case(name)).then(
                || {
                    a["licenses"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l["value"].as_str().map(str::to_owned))
                        .collect()
                },
            )
        })
    };
    let mut debs = 0;
    for p in inv["packages"].as_array().unwrap() {
        let eco = p["ecosystem"].as_str().unwrap();
        let name = p["name"].as_str().unwrap();
        let ours: BTreeSet<String> = p["licenses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        match eco {
            // Installed metadata and the lockfile: exactly syft's.
            "pypi" | "npm" => {
                assert_eq!(Some(ours), theirs(eco, name), "{eco} {name}");
            }
            // Copyright files: every simple licence customs names, syft names too. syft also
            // lists the /usr/share/common-licenses files a DEP-5 file cites (GPL-2 beside
            // GPL-2+) and splits `A or B` apart, which customs keeps as one expression.
            "deb" => {
                let theirs = theirs(eco, name).unwrap_or_default();
                for l in &ours {
                    let compound = [" or ", " and", " with ", ",", "/"]
                        .iter()
                        .any(|w| l.contains(w));
                    // perl-base's copyright writes `License:  CC0-1.0` with two spaces,
                    // which syft's reader misses.
                    let syft_misses = name == "perl-base" && l == "CC0-1.0";
                    assert!(
                        compound || syft_misses || theirs.contains(l),
                        "deb {name}: {l} not in syft's {theirs:?}"
                    );
                }
                // libcrypt1's copyright file cites no licence by name.
                assert_eq!(
                    ours.is_empty(),
                    name == "libcrypt1",
                    "deb {name}: {theirs:?}"
                );
                debs += usize::from(!ours.is_empty());
                assert!(
                    p["author"].as_str().is_some_and(|a| a.contains('@')),
                    "deb {name}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        debs, 87,
        "debian-app's debs with a licence (libcrypt1's copyright names none)"
    );
    // Dependencies: dpkg's Depends and Pre-Depends, resolved to installed packages, give as
    // many edges as syft's dependency-of relationships between debs.
    let edges: usize = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["depends"].as_array().map_or(0, Vec::len))
        .sum();
    let deb_ids: BTreeSet<&str> = syft["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "deb")
        .filter_map(|a| a["id"].as_str())
        .collect();
    let syft_edges: BTreeSet<(&str, &str)> = syft["artifactRelationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "dependency-of")
        .filter_map(|r| Some((r["parent"].as_str()?, r["child"].as_str()?)))
        .filter(|(a, b)| deb_ids.contains(a) && deb_ids.contains(b))
        .collect();
    assert_eq!(edges, syft_edges.len());
    assert_eq!(edges, 216);

    // The same facts in the documents: SPDX licenseDeclared, originator and DEPENDS_ON;
    // CycloneDX licenses, supplier, authors and dependencies.
    let spdx = dir.path().join("d.spdx.json");
    let cdx = dir.path().join("d.cdx.json");
    let r = customs(
        &[
            "sbom",
            "-o",
            &format!("spdx-json={}", spdx.display()),
            "-o",
            &format!("cyclonedx={}", cdx.display()),
            &layout("debian-app"),
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let spdx = read_json(&spdx);
    let pkg = |name: &str| named(&spdx["packages"], name);
    assert_eq!(pkg("Jinja2")["licenseDeclared"], "BSD-3-Clause");
    assert_eq!(pkg("Jinja2")["supplier"], "Organization: PyPI");
    assert_eq!(pkg("Jinja2")["originator"], "Person: Armin Ronacher");
    assert_eq!(pkg("usr-is-merged")["licenseDeclared"], "GPL-2.0-or-later");
    assert_eq!(pkg("requests")["licenseDeclared"], "Apache-2.0");
    let refs: BTreeSet<&str> = spdx["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["licenseId"].as_str().unwrap())
        .collect();
    // `BSD-like` is no SPDX licence: a LicenseRef the document defines.
    let idna = pkg("idna")["licenseDeclared"].as_str().unwrap().to_owned();
    assert!(
        idna.starts_with("LicenseRef-BSD-like-") && refs.contains(idna.as_str()),
        "{idna}"
    );
    let depends_on = spdx["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["relationshipType"] == "DEPENDS_ON")
        .count();
    assert_eq!(depends_on, 216);
    let cdx = read_json(&cdx);
    let comp = |name: &str| named(&cdx["components"], name);
    assert_eq!(comp("Jinja2")["licenses"][0]["expression"], "BSD-3-Clause");
    assert_eq!(comp("idna")["licenses"][0]["license"]["name"], "BSD-like");
    assert_eq!(comp("tar")["supplier"]["name"], "Debian");
    assert!(
        comp("tar")["authors"][0]["email"]
            .as_str()
            .is_some_and(|e| e.contains('@'))
    );
    let dependencies = cdx["dependencies"].as_array().unwrap();
    let tar_ref = comp("tar")["bom-ref"].clone();
    let libc_ref = comp("libc6")["bom-ref"].clone();
    assert!(
        dependencies
            .iter()
            .any(|d| d["ref"] == tar_ref && d["dependsOn"].as_array().unwrap().contains(&libc_ref)),
        "tar depends on libc6"
    );
}

/// A stored SBOM's packages of a kind customs has no ecosystem for stay a gap when it is
/// re-matched: `rematch --fail-on` cannot pass them, as `scan --fail-on` cannot. The real
/// fluentd SBOM's 55 gems are made `pkg:hex` here (an edit of the real document), a type
/// customs has no ecosystem for, now that gems are read.
#[test]
fn a_stored_sboms_unsupported_packages_fail_the_rematch_gate() {
    let dir = tempfile::tempdir().unwrap();
    let (db1, db2) = crate::scan::two_dbs(dir.path(), &["rustsec"], &["rustsec"]);
    let store = format!("sqlite:{}", dir.path().join("store.db").display());
    let real = std::fs::read_to_string(
        shared().join("data/schemas/real-sboms/trivy-fluentd-image.cdx-1.6.json"),
    )
    .unwrap();
    let hex = dir.path().join("fluentd-hex.cdx.json");
    std::fs::write(&hex, real.replace("pkg:gem/", "pkg:hex/")).unwrap();
    let fluentd = format!("sbom:{}", hex.display());
    let stored = customs(
        &[
            "scan",
            "--store",
            "--store-url",
            &store,
            "--db",
            &db1,
            &fluentd,
        ],
        dir.path(),
    );
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    let rematch = |extra: &[&str]| {
        let mut args = vec![
            "rematch",
            "--format",
            "json",
            "--store-url",
            &store,
            "--db",
            &db2,
        ];
        args.extend_from_slice(extra);
        customs(&args, dir.path())
    };
    let plain = rematch(&[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(plain.json()["images"][0]["unsupported"]["hex"], 55);
    let gate = rematch(&["--fail-on", "critical", "--allow-missing-coverage", "deb"]);
    assert_eq!(gate.code, 2, "{}", gate.stderr);
    assert!(
        gate.stderr
            .contains("customs has no ecosystem for the hex packages 1 stored image(s) list"),
        "{}",
        gate.stderr
    );
}
