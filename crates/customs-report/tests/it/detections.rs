//! Secret, config and file detections in every scan format: the JSON's `detections`, a SARIF
//! rule per code and a result per detection, a CycloneDX `vulnerabilities` entry per
//! detection, the HTML page's section and the Markdown template. A policy's exception and a
//! severity filter apply alike in all of them; scanners that did not run are named, not
//! taken for gaps; the SARIF and CycloneDX documents pass the formats' validators
//! (`check-jsonschema` and sarif-multitool, installed by scripts/format-tools.sh; a missing
//! one fails the test); and the evidence written is the redacted evidence the report holds:
//! no writer reads anything else, not even a file at a detection's path.
//!
//! The detections are invented for the UI fixture's image (`fixtures/ui-scan.json`: three
//! layers), one or more of each kind, with the shapes `customs-catalog` gives them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use customs_catalog::Inspected;
use customs_catalog::customs_detect::secrets::SecretStats;
use customs_catalog::customs_detect::{Detection, DetectionKind, Location, Scanners};
use customs_report::{DocOptions, Filter, Format, ScanReport, Subject, render};
use customs_types::{Digest, Severity, Timestamp};
use serde_json::{Value, json};

/// A file name a hostile image may hold: it must reach every format as text.
pub(crate) const HOSTILE_PATH: &str = "/srv/app/<img src=x onerror=alert(4)>";

/// The fixture's layers' diff_ids, bottom first.
const LAYERS: [&str; 3] = [
    "sha256:374aa538f3b520be114e6e23f5e43956387afd91aea707cd358a9b8a414627eb",
    "sha256:399bd13cbb70f509cee839dcced9782d04d953dcab5287ac01f022570e4a9aae",
    "sha256:1601d59e5cf130e7369a392da0158c6d4a141265f70f994e4e7a7d539c28dcb8",
];

fn at(layer: Option<usize>, path: &str, line: Option<usize>) -> Location {
    Location {
        layer: layer.map(|i| LAYERS[i].parse::<Digest>().unwrap()),
        layer_index: layer,
        path: path.to_owned(),
        line,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one line per field of a detection"
)]
fn detection(
    code: &str,
    kind: DetectionKind,
    severity: Severity,
    title: &str,
    message: &str,
    location: Location,
    evidence: Option<&str>,
    references: &[&str],
) -> Detection {
    Detection {
        code: code.to_owned(),
        kind,
        severity,
        title: title.to_owned(),
        message: message.to_owned(),
        location,
        removed_in: None,
        evidence: evidence.map(str::to_owned),
        references: references.iter().map(|r| (*r).to_owned()).collect(),
    }
}

/// Detections of every kind, sorted as an inventory sorts them (kind, code, location): a
/// secret with a line, one in the config, one in a file a later layer deleted; config checks
/// on the config and on a build step; file checks, one on a hostile file name.
pub(crate) fn planted() -> Vec<Detection> {
    use DetectionKind::{Config, File, Secret};
    let mut history = detection(
        "secret-in-layer-history",
        Secret,
        Severity::Critical,
        "AWS secret access key in a deleted or replaced file",
        "AWS secret access key in /root/.aws/credentials, which layer 1 added and layer 2 \
         deleted or replaced. The file is still in layer 1: anyone who pulls the image can \
         read it.",
        at(Some(1), "/root/.aws/credentials", Some(3)),
        Some("aws_secret_access_key = ********"),
        &["secret-aws-secret-access-key", "aws-secret-access-key"],
    );
    history.removed_in = Some(at(Some(2), "/root/.aws/credentials", None));
    vec![
        detection(
            "secret-aws-access-key",
            Secret,
            Severity::Critical,
            "AWS access key ID",
            "AWS access key ID in /srv/app/.env.",
            at(Some(2), "/srv/app/.env", Some(3)),
            Some("AWS_ACCESS_KEY_ID=********"),
            &["aws-access-key-id"],
        ),
        detection(
            "secret-github-token",
            Secret,
            Severity::Critical,
            "GitHub personal access token",
            "GitHub personal access token in config:Env GITHUB_TOKEN.",
            at(None, "config:Env GITHUB_TOKEN", None),
            Some("GITHUB_TOKEN=********"),
            &["github-pat"],
        ),
        history,
        detection(
            "config-curl-pipe-shell",
            Config,
            Severity::High,
            "A download piped into a shell",
            "Build step 2 runs a download without keeping it: curl -fsSL https://get.example/i.sh | sh.",
            at(Some(1), "history[2].created_by", None),
            Some("RUN /bin/sh -c curl -fsSL https://get.example/i.sh | sh"),
            &[],
        ),
        detection(
            "config-no-healthcheck",
            Config,
            Severity::Low,
            "No health check",
            "The image config declares no HEALTHCHECK.",
            at(None, "config:Healthcheck", None),
            None,
            &["CIS-DI-0006", "4.6"],
        ),
        detection(
            "config-root-user",
            Config,
            Severity::High,
            "The image runs as root",
            "User is not set: the container runs as root.",
            at(None, "config:User", None),
            Some("User: (not set)"),
            &["CIS-DI-0001", "4.1"],
        ),
        detection(
            "file-setuid",
            File,
            Severity::High,
            "Setuid executable no package owns",
            "/usr/local/bin/helper is setuid root and no OS package installed it.",
            at(Some(2), "/usr/local/bin/helper", None),
            Some("mode 4755, uid 0"),
            &["CIS-DI-0008", "4.8"],
        ),
        detection(
            "file-world-writable",
            File,
            Severity::Medium,
            "World-writable file",
            &format!("{HOSTILE_PATH} can be written by anyone."),
            at(Some(2), HOSTILE_PATH, None),
            Some("mode 0666, uid 0"),
            &[],
        ),
    ]
}

/// What the scanners read: every one ran.
pub(crate) fn inspected() -> Inspected {
    Inspected {
        scanners: vec!["secret".into(), "config".into(), "file".into()],
        secrets: SecretStats {
            files: 1834,
            bytes: 48_213_000,
            skipped_binary: 212,
            skipped_large: 3,
            hits_dropped: 0,
        },
        rules: "sha256:0f".to_owned(),
        skipped: Default::default(),
    }
}

fn report() -> ScanReport {
    crate::html_browser::report()
}

fn opts() -> DocOptions {
    DocOptions {
        created: Timestamp::from_unix_secs(1_707_724_800),
        tool_version: "0.1.0".to_owned(),
    }
}

fn out(format: &Format, report: &ScanReport, filter: &Filter) -> String {
    render(format, Subject::Scan(report, filter), &opts()).unwrap()
}

fn json_of(format: &Format, report: &ScanReport, filter: &Filter) -> Value {
    serde_json::from_str(&out(format, report, filter)).unwrap()
}

fn markdown() -> Format {
    Format::Template(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/markdown.tmpl"))
}

/// The SARIF results of detections (`properties.kind` set), by rule id.
fn sarif_detections(v: &Value) -> Vec<&Value> {
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["kind"].is_string())
        .collect()
}

fn cdx_detections(v: &Value) -> Vec<&Value> {
    v["vulnerabilities"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["bom-ref"].as_str().unwrap().starts_with("detection:"))
                .collect()
        })
        .unwrap_or_default()
}

fn cdx_prop<'a>(x: &'a Value, name: &str) -> Vec<&'a str> {
    x["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == name)
        .map(|p| p["value"].as_str().unwrap())
        .collect()
}

/// The text between `open` and the next `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let start = s.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let len = s[start..].find(close).unwrap();
    &s[start..start + len]
}

#[test]
fn the_json_report_writes_the_detections_once_with_scanners_and_coverage() {
    let report = report();
    let v = report.to_json(&Filter::default()).unwrap();
    assert_eq!(v["schema"], "customs.scan/1.9");
    assert_eq!(v["scanners"], json!(["vuln", "secret", "config", "file"]));
    let found = v["detections"].as_array().unwrap();
    assert_eq!(found.len(), report.inventory.detections.len());
    assert_eq!(v["detections_hidden"], 0);
    // As the inventory writes them, each with `suppressed` added.
    for (j, d) in found.iter().zip(&report.inventory.detections) {
        let mut want = serde_json::to_value(d).unwrap();
        want["suppressed"] = Value::Null;
        assert_eq!(*j, want);
    }
    let history = &found[2];
    assert_eq!(history["code"], "secret-in-layer-history");
    assert_eq!(history["location"]["layer"], LAYERS[1]);
    assert_eq!(history["location"]["line"], 3);
    assert_eq!(history["removed_in"]["layer_index"], 2);
    assert_eq!(history["evidence"], "aws_secret_access_key = ********");
    assert_eq!(v["inspected"]["secrets"]["files"], 1834);
    assert_eq!(v["inspected"]["secrets"]["skipped_binary"], 212);
}

#[test]
fn sarif_has_a_rule_per_code_and_a_located_result_per_detection() {
    let report = report();
    let v = json_of(&Format::Sarif, &report, &Filter::default());
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = sarif_detections(&v);
    assert_eq!(results.len(), report.inventory.detections.len());
    let codes: BTreeSet<&str> = report
        .inventory
        .detections
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    for code in &codes {
        let matching: Vec<&Value> = rules.iter().filter(|r| r["id"] == *code).collect();
        assert_eq!(matching.len(), 1, "{code}");
    }
    let result = |code: &str| {
        *results
            .iter()
            .find(|r| r["ruleId"] == code)
            .unwrap_or_else(|| panic!("no result for {code}"))
    };
    let rule_of = |r: &Value| &rules[r["ruleIndex"].as_u64().unwrap() as usize];

    // A secret in a file: the path without its `/`, the line, the redacted evidence.
    let aws = result("secret-aws-access-key");
    assert_eq!(aws["level"], "error");
    assert_eq!(
        aws["message"]["text"],
        "AWS access key ID in /srv/app/.env."
    );
    let physical = &aws["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "srv/app/.env");
    assert_eq!(physical["artifactLocation"]["uriBaseId"], "ROOTPATH");
    assert_eq!(physical["region"]["startLine"], 3);
    assert_eq!(
        physical["region"]["snippet"]["text"],
        "AWS_ACCESS_KEY_ID=********"
    );
    assert_eq!(aws["properties"]["layer"], LAYERS[2]);
    assert_eq!(aws["properties"]["layerIndex"], 2);
    let rule = rule_of(aws);
    assert_eq!(rule["id"], "secret-aws-access-key");
    assert_eq!(rule["name"], "SecretAwsAccessKey");
    assert_eq!(rule["shortDescription"]["text"], "AWS access key ID");
    assert_eq!(rule["properties"]["tags"], json!(["security", "secret"]));
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("References: aws-access-key-id"),
        "{rule}"
    );

    // A secret in a deleted file names both layers.
    let history = result("secret-in-layer-history");
    assert_eq!(history["properties"]["layerIndex"], 1);
    assert_eq!(history["properties"]["removedInLayer"], LAYERS[2]);
    assert_eq!(history["properties"]["removedInLayerIndex"], 2);
    assert_eq!(
        history["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );

    // A config location is the image, as for a package without a file, with the place in
    // the config as a logical location; no line, so the first.
    let root = result("config-root-user");
    let location = &root["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        "image"
    );
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "config:User"
    );
    assert_eq!(
        rule_of(root)["properties"]["tags"],
        json!(["security", "config"])
    );
    assert!(
        rule_of(root)["help"]["text"]
            .as_str()
            .unwrap()
            .contains("CIS-DI-0001, 4.1")
    );
    assert_eq!(result("config-no-healthcheck")["level"], "note");
    assert_eq!(result("file-world-writable")["level"], "warning");
    // A hostile file name is one percent-encoded path.
    assert_eq!(
        result("file-world-writable")["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "srv/app/%3Cimg%20src=x%20onerror=alert(4)%3E"
    );

    // Every fingerprint differs; the run counts both kinds.
    let prints: BTreeSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["customsDetection/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(prints.len(), results.len());
    assert_eq!(
        run["properties"]["detectionsTotal"],
        report.inventory.detections.len()
    );
    assert_eq!(run["properties"]["findingsTotal"], report.open().count());
    assert_eq!(run["properties"]["secretScan"]["skippedLarge"], 3);
    // One rule for a code whose detections differ (a secret-in-layer-history per secret
    // rule): what their titles share, and the references all of them have.
    let mut two = report.clone();
    let mut github = two.inventory.detections[2].clone();
    github.title = "GitHub personal access token in a deleted or replaced file".to_owned();
    github.location.path = "/root/.git-credentials".to_owned();
    github.references = vec!["secret-github-token".to_owned(), "github-pat".to_owned()];
    two.inventory.detections.insert(3, github);
    let v = json_of(&Format::Sarif, &two, &Filter::default());
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let history: Vec<&Value> = rules
        .iter()
        .filter(|r| r["id"] == "secret-in-layer-history")
        .collect();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0]["shortDescription"]["text"],
        "Secret in a deleted or replaced file"
    );
    assert!(
        history[0]["help"]["text"]
            .as_str()
            .unwrap()
            .contains("References: none"),
        "{}",
        history[0]
    );
    assert_eq!(
        sarif_detections(&v)
            .iter()
            .filter(|r| r["ruleId"] == "secret-in-layer-history")
            .count(),
        2
    );

    // Worst first, findings and detections together.
    let levels: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    let rank = |l: &str| ["note", "warning", "error"].iter().position(|x| *x == l);
    assert!(
        levels.windows(2).all(|w| rank(w[0]) >= rank(w[1])),
        "{levels:?}"
    );
}

#[test]
fn cyclonedx_lists_each_detection_as_a_vulnerability_of_the_image() {
    let report = report();
    let v = json_of(&Format::CycloneDx, &report, &Filter::default());
    let image_ref = v["metadata"]["component"]["bom-ref"].as_str().unwrap();
    let found = cdx_detections(&v);
    assert_eq!(found.len(), report.inventory.detections.len());
    let refs: BTreeSet<&str> = v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), v["vulnerabilities"].as_array().unwrap().len());
    for x in &found {
        assert_eq!(x["affects"], json!([{"ref": image_ref}]));
        assert_eq!(x["source"], json!({"name": "customs"}));
        assert_eq!(x["ratings"][0]["method"], "other");
    }
    let aws = found
        .iter()
        .find(|x| x["id"] == "secret-aws-access-key@/srv/app/.env:3")
        .unwrap();
    assert_eq!(aws["ratings"][0]["severity"], "critical");
    assert_eq!(aws["description"], "AWS access key ID in /srv/app/.env.");
    assert_eq!(aws["detail"], "AWS_ACCESS_KEY_ID=********");
    assert_eq!(cdx_prop(aws, "customs:detection:kind"), ["secret"]);
    assert_eq!(cdx_prop(aws, "customs:detection:path"), ["/srv/app/.env"]);
    assert_eq!(cdx_prop(aws, "customs:detection:line"), ["3"]);
    assert_eq!(cdx_prop(aws, "customs:detection:layer"), [LAYERS[2]]);
    let history = found
        .iter()
        .find(|x| x["id"] == "secret-in-layer-history@/root/.aws/credentials:3")
        .unwrap();
    assert_eq!(
        cdx_prop(history, "customs:detection:removed-in-layer"),
        [LAYERS[2]]
    );
    assert_eq!(cdx_prop(history, "customs:detection:layer"), [LAYERS[1]]);
    let root = found
        .iter()
        .find(|x| x["id"] == "config-root-user@config:User")
        .unwrap();
    assert_eq!(root["ratings"][0]["severity"], "high");
    assert!(cdx_prop(root, "customs:detection:line").is_empty());
    assert_eq!(
        cdx_prop(root, "customs:detection:reference"),
        ["CIS-DI-0001", "4.1"]
    );
    let meta: Vec<(&str, &str)> = v["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .filter(|(n, _)| n.starts_with("customs:scanner") || n.starts_with("customs:secret-scan"))
        .collect();
    assert_eq!(
        meta,
        [
            ("customs:scanner", "vuln"),
            ("customs:scanner", "secret"),
            ("customs:scanner", "config"),
            ("customs:scanner", "file"),
            ("customs:secret-scan:files", "1834"),
            ("customs:secret-scan:bytes", "48213000"),
            ("customs:secret-scan:skipped-binary", "212"),
            ("customs:secret-scan:skipped-large", "3"),
        ]
    );
    // An SBOM of the inventory alone lists no vulnerabilities.
    let sbom: Value = serde_json::from_str(
        &render(
            &Format::CycloneDx,
            Subject::Inventory(&report.inventory),
            &opts(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(sbom.get("vulnerabilities").is_none());
}

#[test]
fn the_html_page_has_a_section_of_secrets_configuration_and_files() {
    let report = report();
    let html = out(&Format::Html, &report, &Filter::default());
    let section = between(&html, "<section id=\"detections\"", "</section>");
    assert!(
        section.starts_with(&format!(
            " data-count=\"{}\">\n<h2>Secrets, configuration and files</h2>",
            report.inventory.detections.len()
        )),
        "{section}"
    );
    assert!(
        section.contains(
            "<p id=\"secret-coverage\" data-ran=\"true\" data-files=\"1834\" \
             data-skipped-binary=\"212\" data-skipped-large=\"3\">The secret scanner read 1834 \
             files (48.2 MB)"
        ),
        "{section}"
    );
    assert!(
        section.contains("3 secrets, 3 config and 2 file detections."),
        "{section}"
    );
    let rows: Vec<&str> = section.split("<tr data-code=").skip(1).collect();
    assert_eq!(rows.len(), report.inventory.detections.len());
    // Worst first.
    assert!(rows[0].contains("data-severity=\"critical\""));
    assert!(rows.last().unwrap().contains("data-severity=\"low\""));
    let aws = rows
        .iter()
        .find(|r| r.starts_with("\"secret-aws-access-key\""))
        .unwrap();
    assert!(
        aws.contains(&format!(
            "<td class=\"location\">layer 2 <span class=\"digest\" title=\"{}\">1601d59e5cf1</span> \
             <code>/srv/app/.env:3</code></td><td class=\"evidence\"><code>AWS_ACCESS_KEY_ID=********</code></td>",
            LAYERS[2]
        )),
        "{aws}"
    );
    let history = rows
        .iter()
        .find(|r| r.starts_with("\"secret-in-layer-history\""))
        .unwrap();
    assert!(
        history.contains("<br><span class=\"muted\">removed in</span> layer 2 "),
        "{history}"
    );
    let root = rows
        .iter()
        .find(|r| r.starts_with("\"config-root-user\""))
        .unwrap();
    assert!(
        root.contains("<td class=\"location\"><code>config:User</code></td>"),
        "{root}"
    );
    // The hostile file name is text.
    assert!(!html.contains("<img src=x"));
    assert!(section.contains("/srv/app/&lt;img src=x onerror=alert(4)&gt;"));
    // After the findings, before the layers.
    let at = |id: &str| html.find(&format!("id=\"{id}\"")).unwrap();
    assert!(at("findings-section") < at("detections") && at("detections") < at("layers"));
    assert!(!html.contains("id=\"not-scanned\""));
}

#[test]
fn the_markdown_template_lists_the_detections() {
    let report = report();
    let md = out(&markdown(), &report, &Filter::default());
    let section = md
        .split("## Secrets, configuration and files\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        section
            .contains("The secret scanner read 1834 files; it skipped 212 binary and 3 too large."),
        "{section}"
    );
    assert!(
        section.contains(
            "| critical | `secret-aws-access-key` | AWS access key ID | layer 2: `/srv/app/.env:3` | `AWS_ACCESS_KEY_ID=********` |"
        ),
        "{section}"
    );
    assert!(
        section.contains("layer 1: `/root/.aws/credentials:3`, removed in layer 2 |"),
        "{section}"
    );
    assert!(
        section.contains(
            "| low | `config-no-healthcheck` | No health check | `config:Healthcheck` |  |"
        ),
        "{section}"
    );
}

/// Every format holds the redacted evidence, and nothing the report does not: a writer that
/// read a detection's file again (here, a file on this machine at the detection's path, with
/// a key in it) would show it.
#[test]
fn writers_copy_the_redacted_evidence_and_read_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let raw = ["AKIA", "PLANTEDRAWVALUE7"].concat();
    let file = dir.path().join("app.env");
    std::fs::write(
        &file,
        format!("# a comment\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID={raw}\n"),
    )
    .unwrap();
    let mut report = report();
    let host_path = file.display().to_string();
    report.inventory.detections[0].location.path = host_path.clone();
    report.inventory.detections[0].message = format!("AWS access key ID in {host_path}.");
    for format in [
        Format::Json,
        Format::Sarif,
        Format::CycloneDx,
        Format::Html,
        markdown(),
    ] {
        let text = out(&format, &report, &Filter::default());
        assert!(
            text.contains("AWS_ACCESS_KEY_ID=********"),
            "{format}: the redacted evidence is missing"
        );
        assert!(!text.contains(&raw), "{format} holds the raw value");
        assert!(!text.contains("eu-west-1"), "{format} read the file");
    }
}

/// An exception of the policy suppresses a detection as it does a finding: hidden unless the
/// reader shows suppressed ones, then marked with the exception's words; never failing
/// `--fail-on`; listed in the verdict.
#[test]
fn a_policy_exception_suppresses_a_detection_in_every_format() {
    let mut report = report();
    let policy = customs_policy::Policy::parse(
        "version: 1
rules:
  - name: no-secrets
    detections: {kinds: [secret]}
  - name: not-root
    action: warn
    detections: {codes: [config-root-user]}
exceptions:
  - code: config-no-healthcheck
    repositories: [\"registry.example/shop/*\"]
    reason: probed by Kubernetes
    owner: bob@example.com
    created: 2024-01-01
    expires: 2024-12-31
",
        "gate.yaml",
    )
    .unwrap();
    let skipped = Default::default();
    let verdict = customs_policy::evaluate(
        &policy,
        &customs_policy::Input {
            findings: &report.findings,
            repository: Some("registry.example/shop/api"),
            signed: None,
            now: Timestamp::parse_lenient("2024-02-12").unwrap(),
            packages: &[],
            created: None,
            digest: None,
            base: None,
            detections: customs_policy::Detections {
                found: &report.inventory.detections,
                scanners: report.scanners,
                skipped: &skipped,
            },
        },
    );
    assert_eq!(verdict.outcome, customs_policy::Outcome::Fail);
    report.policy = Some(verdict);
    let why = "excepted: bob@example.com until 2024-12-31: probed by Kubernetes";
    let healthcheck = &report.inventory.detections[4];
    assert_eq!(healthcheck.code, "config-no-healthcheck");
    assert_eq!(
        report.detection_suppression(healthcheck).as_deref(),
        Some(why)
    );

    // Hidden by default, shown with --show-suppressed.
    let all = Filter {
        show_suppressed: true,
        ..Filter::default()
    };
    let v = report.to_json(&Filter::default()).unwrap();
    assert_eq!(v["detections_hidden"], 1);
    assert!(
        v["detections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["code"] != "config-no-healthcheck")
    );
    let v = report.to_json(&all).unwrap();
    let d = v["detections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "config-no-healthcheck")
        .unwrap();
    assert_eq!(d["suppressed"], why);
    let excepted = &v["policy"]["detection_exceptions"][0];
    assert_eq!(excepted["code"], "config-no-healthcheck");
    assert_eq!(excepted["detections"][0]["path"], "config:Healthcheck");
    let violations = v["policy"]["violations"].as_array().unwrap();
    assert!(violations.iter().any(|x| x["code"] == "detection"
        && x["detection"] == "secret-aws-access-key"
        && x["location"]["line"] == 3));

    // SARIF: left out by default; with the suppressed, marked.
    let sarif = json_of(&Format::Sarif, &report, &Filter::default());
    assert!(
        sarif_detections(&sarif)
            .iter()
            .all(|r| r["ruleId"] != "config-no-healthcheck")
    );
    let sarif = json_of(&Format::Sarif, &report, &all);
    let r = sarif_detections(&sarif)
        .into_iter()
        .find(|r| r["ruleId"] == "config-no-healthcheck")
        .unwrap();
    assert_eq!(
        r["message"]["text"],
        format!("The image config declares no HEALTHCHECK.; suppressed: {why}")
    );
    assert_eq!(r["properties"]["suppressed"], why);
    assert_eq!(sarif["runs"][0]["properties"]["policyExceptionsApplied"], 1);

    // CycloneDX: the analysis says the risk was accepted.
    let cdx = json_of(&Format::CycloneDx, &report, &all);
    let x = cdx_detections(&cdx)
        .into_iter()
        .find(|x| x["id"] == "config-no-healthcheck@config:Healthcheck")
        .unwrap();
    assert_eq!(
        x["analysis"],
        json!({"state": "exploitable", "response": ["will_not_fix"],
               "detail": "risk accepted by the policy's exception: bob@example.com until 2024-12-31: probed by Kubernetes"})
    );

    // HTML: the page keeps it, marked, after the open ones; the policy section names the
    // detection violations and the exception.
    let html = out(&Format::Html, &report, &Filter::default());
    let section = between(&html, "<section id=\"detections\"", "</section>");
    let row = between(section, "<tr data-code=\"config-no-healthcheck\"", "</tr>");
    assert!(
        row.contains("data-suppressed=\"true\" class=\"suppressed\""),
        "{row}"
    );
    assert!(
        row.contains(&format!("<span class=\"why\">{why}</span>")),
        "{row}"
    );
    assert!(section.contains("1 of them accepted by the policy's exceptions"));
    let policy = between(&html, "<section id=\"policy\"", "</section>");
    assert!(
        policy.contains("<li data-code=\"detection\" data-detection=\"secret-aws-access-key\">no-secrets: secret-aws-access-key (critical) at /srv/app/.env:3 in layer 2: AWS access key ID</li>"),
        "{policy}"
    );
    assert!(
        policy.contains("<li data-code=\"exception\">exception for config-no-healthcheck by bob@example.com until 2024-12-31: probed by Kubernetes (1 detection)</li>"),
        "{policy}"
    );

    // --fail-on: an excepted detection never fails it; the others do.
    let view = report.view(&Filter::default());
    assert!(view.fails_at(Severity::Critical));
    report.findings.clear();
    report
        .inventory
        .detections
        .retain(|d| d.code == "config-no-healthcheck");
    assert!(!report.view(&all).fails_at(Severity::Low));
    report.policy = None;
    assert!(report.view(&all).fails_at(Severity::Low));
}

/// `--severity` shows the same detections in every format, and says how many it hid.
#[test]
fn the_severity_filter_applies_to_detections_as_to_findings() {
    let report = report();
    let critical = Filter {
        severities: vec![Severity::Critical],
        ..Filter::default()
    };
    let want: BTreeSet<&str> = report
        .inventory
        .detections
        .iter()
        .filter(|d| d.severity == Severity::Critical)
        .map(|d| d.code.as_str())
        .collect();
    let hidden = report.inventory.detections.len() - 3;
    let v = report.to_json(&critical).unwrap();
    let got: BTreeSet<&str> = v["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(v["detections_hidden"], hidden);
    let sarif = json_of(&Format::Sarif, &report, &critical);
    let got: BTreeSet<&str> = sarif_detections(&sarif)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);
    let cdx = json_of(&Format::CycloneDx, &report, &critical);
    assert_eq!(cdx_detections(&cdx).len(), 3);
    let html = out(&Format::Html, &report, &critical);
    assert!(html.contains(&format!(
        "<p class=\"warn\" id=\"detections-left-out\" data-count=\"{hidden}\">"
    )));
    // --only-fixed is about packages' fixed versions: it hides no detection.
    let fixed = Filter {
        only_fixed: true,
        ..Filter::default()
    };
    assert_eq!(report.view(&fixed).detections.len(), 8);
}

/// A scan without the vulnerability scanner matched nothing by choice: it has no coverage
/// gaps, but every format says it was not scanned for vulnerabilities; a scan without the
/// secret scanner says the image was not searched for secrets.
#[test]
fn scanners_that_did_not_run_are_named_not_taken_for_gaps() {
    let mut report = report();
    // The fixture has a PyPI gap when the vulnerability scanner runs.
    assert!(!report.gaps(&[]).is_empty());
    report.scanners = Scanners {
        vuln: false,
        ..Scanners::default()
    };
    report.findings.clear();
    assert_eq!(report.not_run(), ["vuln"]);
    assert!(report.gaps(&[]).is_empty());
    assert!(report.scan_warnings().is_empty());

    let v = report.to_json(&Filter::default()).unwrap();
    assert_eq!(v["scanners"], json!(["secret", "config", "file"]));
    let sarif = json_of(&Format::Sarif, &report, &Filter::default());
    let notes: Vec<&str> = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "not scanned for: vuln (--scanners secret,config,file): no result of that kind means none was looked for"
        ]
    );
    assert_eq!(
        sarif["runs"][0]["properties"]["notScanned"],
        json!(["vuln"])
    );
    let cdx = json_of(&Format::CycloneDx, &report, &Filter::default());
    let props: Vec<(&str, &str)> = cdx["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(props.contains(&("customs:not-scanned", "vuln")));
    assert!(!props.iter().any(|(n, _)| *n == "customs:gap"));
    let html = out(&Format::Html, &report, &Filter::default());
    assert!(html.contains("<p class=\"warn\" id=\"not-scanned\" data-scanners=\"vuln\">Not scanned for: <strong>vuln</strong>"));
    assert!(!html.contains("id=\"gaps\""));
    assert!(html.find("id=\"not-scanned\"").unwrap() < html.find("id=\"summary\"").unwrap());
    let md = out(&markdown(), &report, &Filter::default());
    assert!(md.contains("> **Not scanned for:** vuln."), "{md}");

    // Without the secret scanner: not searched, said in the section.
    report.scanners = Scanners {
        secret: false,
        ..Scanners::default()
    };
    report
        .inventory
        .detections
        .retain(|d| d.kind != DetectionKind::Secret);
    let html = out(&Format::Html, &report, &Filter::default());
    assert!(html.contains("<p class=\"warn\" id=\"secret-coverage\" data-ran=\"false\">"));
    assert!(html.contains(". Not scanned for: <strong>secret</strong>."));
    let cdx = json_of(&Format::CycloneDx, &report, &Filter::default());
    assert!(
        !cdx["metadata"]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "customs:secret-scan:files")
    );
    // Only the vulnerability scanner: the section says none of the three ran.
    report.scanners = Scanners::parse("vuln").unwrap();
    report.inventory.detections.clear();
    let html = out(&Format::Html, &report, &Filter::default());
    assert!(html.contains("id=\"detections-not-scanned\""));
}

/// A report rebuilt from a stored inventory believes only the scanners the inventory records.
#[test]
fn recorded_scanners_are_those_the_inventory_lists() {
    let mut inventory = report().inventory;
    let s = customs_report::recorded_scanners(&inventory, true);
    assert_eq!(s, Scanners::default());
    inventory.inspected.as_mut().unwrap().scanners = vec!["config".to_owned()];
    assert_eq!(
        customs_report::recorded_scanners(&inventory, true),
        Scanners::parse("vuln,config").unwrap()
    );
    // An inventory written before detections existed: none of the three ran.
    inventory.inspected = None;
    assert_eq!(
        customs_report::recorded_scanners(&inventory, false),
        Scanners {
            vuln: false,
            secret: false,
            config: false,
            file: false
        }
    );
}

/// Where scripts/format-tools.sh installed the validators (`CUSTOMS_FORMAT_TOOLS`, else
/// `$CUSTOMS_CORPUS/tools`).
fn tools() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_FORMAT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CUSTOMS_CORPUS")
                .map_or_else(|| PathBuf::from("/var/tmp/customs-corpus"), PathBuf::from)
                .join("tools")
        });
    assert!(
        p.join("venv/bin/check-jsonschema").is_file(),
        "format validators missing at {}: run scripts/format-tools.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

/// `../shared` (or `$CUSTOMS_SHARED`), where the formats' schemas are.
fn schemas() -> PathBuf {
    let p = std::env::var_os("CUSTOMS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("data/schemas");
    assert!(
        p.is_dir(),
        "schemas missing at {} (set CUSTOMS_SHARED)",
        p.display()
    );
    p
}

fn run(cmd: &mut Command) -> (bool, String) {
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

/// The SARIF (with GitHub's rules) and CycloneDX documents of a scan with detections pass
/// the formats' validators. It leaves them in `$CARGO_TARGET_TMPDIR/detections/` to look at,
/// with the HTML page.
#[test]
fn sarif_and_cyclonedx_with_detections_pass_their_validators() {
    let tools = tools();
    let schemas = schemas();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("detections");
    std::fs::create_dir_all(&dir).unwrap();
    let report = report();
    let all = Filter {
        show_suppressed: true,
        ..Filter::default()
    };
    let sarif = dir.join("scan.sarif");
    std::fs::write(&sarif, out(&Format::Sarif, &report, &all)).unwrap();
    let schema = schemas.join("sarif-2.1.0/sarif-schema-2.1.0.json");
    let (ok, text) = run(Command::new(tools.join("venv/bin/check-jsonschema"))
        .arg("--schemafile")
        .arg(&schema)
        .arg(&sarif));
    assert!(ok, "SARIF 2.1.0 schema: {text}");
    let multitool = tools.join("npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    let log = dir.join("validation.sarif");
    // The multitool does not overwrite its log: a previous run's goes first.
    _ = std::fs::remove_file(&log);
    let (ok, text) = run(Command::new(&multitool)
        .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
        .arg(&log)
        .arg(&sarif));
    assert!(ok, "sarif-multitool: {text}");
    let v: Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
    let errors: Vec<&Value> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    std::fs::write(dir.join("scan.html"), out(&Format::Html, &report, &all)).unwrap();
    let cdx = dir.join("scan.cdx.json");
    std::fs::write(&cdx, out(&Format::CycloneDx, &report, &all)).unwrap();
    let schema = schemas.join("cyclonedx-1.6/bom-1.6.schema.json");
    let (ok, text) = run(Command::new(tools.join("venv/bin/check-jsonschema"))
        .arg("--schemafile")
        .arg(&schema)
        // The schema's $refs (spdx.schema.json, jsf) resolve beside it, never online.
        .arg("--base-uri")
        .arg(format!("file://{}", schema.display()))
        .arg(&cdx));
    assert!(ok, "CycloneDX 1.6 schema: {text}");
}
