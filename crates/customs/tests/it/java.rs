//! Java archives: Debian's own jars, a Spring-Boot-style fat jar built from them with the JDK's
//! `jar`, debian-app's log4j, and a 1 GB jar of nested jars read in bounded memory.
//!
//! The expected coordinates are read from each jar's `pom.properties` with Info-ZIP's `unzip`,
//! independently of customs' own zip reader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{self, corpus, shared};
use crate::scan::{build_db, scan};

const DEBIAN_JARS: &str = "/usr/share/java";

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/test.sh installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `group:artifact` → version of every `pom.properties` in the jar, read with `unzip`.
fn pom_properties(jar: &Path) -> BTreeSet<(String, String)> {
    let list = run(Command::new("unzip").arg("-Z1").arg(jar));
    list.lines()
        .filter(|e| e.starts_with("META-INF/maven/") && e.ends_with("/pom.properties"))
        .map(|e| {
            let text = run(Command::new("unzip").arg("-p").arg(jar).arg(e));
            let props: BTreeMap<&str, &str> = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            (
                format!("{}:{}", props["groupId"], props["artifactId"]),
                props["version"].to_owned(),
            )
        })
        .collect()
}

/// Every jar Debian installed under /usr/share/java (not the unversioned symlinks), with the
/// coordinates its pom.properties give. Fails when liblog4j2-java is missing: the test then
/// checks nothing, which it must not do silently.
fn debian_jars() -> Vec<(PathBuf, BTreeSet<(String, String)>)> {
    let log4j = Path::new(DEBIAN_JARS).join("log4j-core.jar");
    assert!(
        log4j.exists(),
        "{} is missing: install liblog4j2-java (scripts/test.sh does)",
        log4j.display()
    );
    let mut jars: Vec<PathBuf> = std::fs::read_dir(DEBIAN_JARS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "jar")
                && !std::fs::symlink_metadata(p)
                    .unwrap()
                    .file_type()
                    .is_symlink()
        })
        .collect();
    jars.sort();
    let with: Vec<_> = jars
        .into_iter()
        .map(|j| {
            let c = pom_properties(&j);
            (j, c)
        })
        .collect();
    let log4j_core = with
        .iter()
        .flat_map(|(_, c)| c)
        .find(|(n, _)| n == "org.apache.logging.log4j:log4j-core");
    assert_eq!(
        log4j_core.map(|(_, v)| v.as_str()),
        Some("2.19.0"),
        "bookworm's liblog4j2-java"
    );
    with
}

/// Maven packages of an inventory: (name, version) → evidence paths.
fn maven(inv: &Value) -> BTreeMap<(String, String), Vec<String>> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "maven")
        .map(|p| {
            (
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["version"].as_str().unwrap().to_owned(),
                ),
                p["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// What each evidence path yields: path → (name, version) set.
fn by_path(
    found: &BTreeMap<(String, String), Vec<String>>,
) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for (nv, paths) in found {
        for p in paths {
            out.entry(p.clone()).or_default().insert(nv.clone());
        }
    }
    out
}

/// Check customs against the jars: a jar with pom.properties yields exactly their
/// coordinates; one without yields something (its manifest or file name) or a warning naming
/// it. `shown` maps a jar to the evidence path customs should give it.
fn check_jars(
    inv: &Value,
    jars: &[(PathBuf, BTreeSet<(String, String)>)],
    shown: impl Fn(&Path) -> String,
) {
    let got = by_path(&maven(inv));
    let warnings = inv["warnings"].to_string();
    let mut with_pom = 0;
    for (jar, want) in jars {
        let at = shown(jar);
        if want.is_empty() {
            assert!(
                got.contains_key(&at) || warnings.contains(&at),
                "{at}: neither a package nor a warning"
            );
            continue;
        }
        with_pom += 1;
        assert_eq!(got.get(&at), Some(want), "{at}");
    }
    assert!(
        with_pom >= 20,
        "only {with_pom} Debian jars with pom.properties"
    );
}

#[test]
fn debian_jars_yield_their_pom_properties_in_a_directory_and_an_image() {
    let jars = debian_jars();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let java = root.join("usr/share/java");
    std::fs::create_dir_all(&java).unwrap();
    let mut layer = common::LayerTar::new()
        .dir("usr/")
        .dir("usr/share/")
        .dir("usr/share/java/");
    for (jar, _) in &jars {
        let name = jar.file_name().unwrap().to_str().unwrap();
        std::fs::copy(jar, java.join(name)).unwrap();
        layer = layer.file(
            &format!("usr/share/java/{name}"),
            &std::fs::read(jar).unwrap(),
        );
    }
    let shown = |j: &Path| {
        format!(
            "/usr/share/java/{}",
            j.file_name().unwrap().to_str().unwrap()
        )
    };
    // A root filesystem: each jar is a file customs may seek in.
    let inv = common::sbom(
        &format!("dir:{}", root.display()),
        dir.path(),
        &["--no-cache"],
    );
    check_jars(&inv, &jars, shown);
    let log4j = &inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "org.apache.logging.log4j:log4j-core")
        .unwrap();
    assert_eq!(
        log4j["purl"],
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0"
    );
    assert_eq!(log4j["notes"][0], "coordinates: pom.properties");
    // An image: each jar is read from the layer's tar stream, once, front to back.
    let layout = dir.path().join("oci");
    common::write_layout(&layout, &[layer.finish()], common::Comp::Gzip);
    let img = common::sbom(
        &format!("oci:{}:1", layout.display()),
        dir.path(),
        &["--no-cache"],
    );
    check_jars(&img, &jars, shown);
    assert_eq!(maven(&inv), maven(&img));
}

#[test]
fn a_fat_jar_three_levels_deep_yields_the_debian_jars_through_the_nesting() {
    let jars: Vec<_> = debian_jars()
        .into_iter()
        .filter(|(_, c)| !c.is_empty())
        .take(12)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    // Level 3: Debian's jars as installed. Level 2: a library jar holding them, deflated by
    // `jar` (each entry's sizes in a data descriptor after its data). Level 1: a Spring Boot
    // layout, stored (`--no-compress`), as Spring Boot stores BOOT-INF/lib.
    let libs = dir.path().join("libs");
    std::fs::create_dir_all(libs.join("lib")).unwrap();
    for (j, _) in &jars {
        std::fs::copy(j, libs.join("lib").join(j.file_name().unwrap())).unwrap();
    }
    let boot = dir.path().join("boot");
    std::fs::create_dir_all(boot.join("BOOT-INF/lib")).unwrap();
    std::fs::create_dir_all(boot.join("BOOT-INF/classes")).unwrap();
    std::fs::write(boot.join("BOOT-INF/classes/app.properties"), "x=1\n").unwrap();
    run(Command::new("jar")
        .arg("--create")
        .arg("--file")
        .arg(boot.join("BOOT-INF/lib/shared-libs-4.2.jar"))
        .arg("-C")
        .arg(&libs)
        .arg("lib"));
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("app")).unwrap();
    run(Command::new("jar")
        .arg("--create")
        .arg("--no-compress")
        .arg("--file")
        .arg(root.join("app/app-1.0.jar"))
        .arg("-C")
        .arg(&boot)
        .arg("BOOT-INF"));
    let inv = common::sbom(
        &format!("dir:{}", root.display()),
        dir.path(),
        &["--no-cache"],
    );
    let got = maven(&inv);
    let mut want: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (j, coords) in &jars {
        let at = format!(
            "/app/app-1.0.jar!/BOOT-INF/lib/shared-libs-4.2.jar!/lib/{}",
            j.file_name().unwrap().to_str().unwrap()
        );
        for c in coords {
            want.entry(c.clone()).or_default().push(at.clone());
        }
    }
    // The two outer jars have no metadata but a versioned name.
    want.insert(
        ("app".into(), "1.0".into()),
        vec!["/app/app-1.0.jar".into()],
    );
    want.insert(
        ("shared-libs".into(), "4.2".into()),
        vec!["/app/app-1.0.jar!/BOOT-INF/lib/shared-libs-4.2.jar".into()],
    );
    for paths in want.values_mut() {
        paths.sort();
    }
    let got: BTreeMap<_, _> = got
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            (k, v)
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn debian_app_log4j_is_found_matched_and_known_exploited() {
    let dir = tempfile::tempdir().unwrap();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("debian-app/expected.json")).unwrap())
            .unwrap();
    let db = build_db(dir.path(), &["osv-json:ghsa", "kev"]);
    let layout = format!("oci:{}:1", corpus().join("debian-app/oci").display());
    let v = scan(&db, &layout, dir.path(), &["--no-cache"]);
    let java = expected["java"].as_array().unwrap();
    assert!(!java.is_empty());
    let want: BTreeSet<(String, String)> = java
        .iter()
        .map(|j| {
            (
                format!(
                    "{}:{}",
                    j["group"].as_str().unwrap(),
                    j["artifact"].as_str().unwrap()
                ),
                j["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let got = maven(&v);
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), want);
    let log4j = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ecosystem"] == "maven")
        .unwrap();
    assert_eq!(
        log4j["purl"],
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    assert_eq!(log4j["paths"][0], java[0]["path"]);
    assert_eq!(log4j["layer_index"], 1);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "GHSA-jfh8-c2jp-5v3q")
        .unwrap_or_else(|| panic!("no GHSA-jfh8-c2jp-5v3q in {}", v["findings"]));
    assert!(
        f["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "CVE-2021-44228"),
        "{f}"
    );
    assert_eq!(f["package"]["name"], "org.apache.logging.log4j:log4j-core");
    assert_eq!(
        f["kev"]["name"],
        "Apache Log4j2 Remote Code Execution Vulnerability"
    );
    assert_eq!(f["severity"], "critical");
    // The GHSA record says the fix is 2.15.0 for the 2.13.0 line.
    let record: Value = serde_json::from_slice(
        &std::fs::read(shared().join("data/advisories/ghsa/Maven/GHSA-jfh8-c2jp-5v3q.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(record.to_string().contains("\"fixed\":\"2.15.0\""));
}

/// Peak resident memory of a command, in KiB, with GNU time.
fn peak_rss_kib(cmd: &mut Command) -> (std::process::Output, u64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let out = timed
        .output()
        .expect("/usr/bin/time (Debian's time package)");
    let kib = std::fs::read_to_string(report.path())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (out, kib)
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the peak RSS is a figure the issue asks for"
)]
fn a_1_gb_jar_of_nested_jars_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    let jar = root.join("big.jar");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gen-nested-jar.py");
    let made: Value = serde_json::from_str(&run(Command::new("python3")
        .arg(&script)
        .arg(&jar)
        .arg("--parts")
        .arg("10")
        .arg("--part-mib")
        .arg("100")))
    .unwrap();
    let size = std::fs::metadata(&jar).unwrap().len();
    assert!(size > 1_000_000_000, "{size}");
    let cache = dir.path().join("cache");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
    cmd.args(["sbom", "--no-cache", "--format", "json"])
        .arg(format!("dir:{}", root.display()))
        .env("CUSTOMS_CACHE_DIR", &cache)
        .env("HOME", dir.path().join("home"))
        .env("NO_COLOR", "1");
    let (out, kib) = peak_rss_kib(&mut cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = maven(&inv);
    let want: BTreeMap<(String, String), Vec<String>> = made["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["version"].as_str().unwrap().to_owned(),
                ),
                vec![format!("/big.jar{}", p["at"].as_str().unwrap())],
            )
        })
        .collect();
    assert_eq!(got, want);
    eprintln!("peak RSS scanning a {size}-byte jar: {} MiB", kib / 1024);
    assert!(kib < 200 * 1024, "peak RSS {kib} KiB");
}
