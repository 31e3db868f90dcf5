//! .NET (NuGet) packages: what an application was built and deployed with, and what its
//! projects lock.
//!
//! Installed ([`Evidence::Installed`]): `<app>.deps.json`, which the .NET SDK writes next to
//! every built or published application and which the host (`dotnet`, the apphost) reads to
//! load its assemblies: it describes exactly what was deployed. Its `libraries` object is keyed
//! `Name/Version`, each with a `type`:
//! - `package`: a NuGet package, reported;
//! - `runtimepack`: a self-contained app's bundled runtime, keyed
//!   `runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1`, reported under the real
//!   package's name (without `runtimepack.`) with the note `runtimepack`;
//! - `project` (the application itself and the projects it references), `reference` and
//!   anything else: built from the image's own sources, not packages anyone publishes, and not
//!   reported (an app named like a nuget.org package would otherwise draw that package's
//!   advisories).
//!
//! `targets` says what runs: `runtimeTarget.name` names the target (`.NETCoreApp,Version=v8.0`,
//! or `.../linux-x64` for a RID-specific build) whose entries list each library's assets. A
//! library that target lists without a `runtime`, `native`, `runtimeTargets` or `resources`
//! asset ships no file with the app (a metapackage such as `Microsoft.NETCore.App` 1.x, or a
//! package whose assembly the shared framework supersedes, such as
//! `System.Runtime.CompilerServices.Unsafe` 6.0.0 on .NET 6) and is not reported. A library the
//! target does not list at all, or every library when the file names no runtime target, is
//! reported: what cannot be told is not dropped.
//!
//! Declared ([`Evidence::Lockfile`]): NuGet's `packages.lock.json` (and the per-project
//! `packages.<project>.lock.json`): `dependencies` per target framework (`net8.0`, and
//! `net8.0/linux-x64` for a runtime identifier), each package with its `type` (`Direct`,
//! `Transitive`, `CentralTransitive`) and `resolved` version. `Project` entries are the
//! solution's own projects and are not reported. A package locked for several frameworks is
//! reported once. NuGet has no notion of a development dependency, so nothing is dev.
//!
//! Names are reported as written; NuGet compares them case-insensitively, and so does matching.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Evidence, LangEcosystem, LangPackage};

/// Whether `path` (relative to the image root, normalised, no leading '/') is a file this
/// module parses.
pub(crate) fn wants(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    is_deps_json(file) || is_lock(file)
}

/// Parses one file `wants` accepted, dispatching on its name.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let file = path.rsplit('/').next().unwrap_or(path);
    if is_deps_json(file) {
        parse_deps_json(bytes)
    } else if is_lock(file) {
        parse_packages_lock(bytes)
    } else {
        Err(format!(
            "{file:?} is not a .deps.json or packages.lock.json"
        ))
    }
}

fn is_deps_json(file: &str) -> bool {
    file.len() > ".deps.json".len() && file.ends_with(".deps.json")
}

/// `packages.lock.json` or `packages.<project>.lock.json`.
fn is_lock(file: &str) -> bool {
    file.strip_prefix("packages.")
        .and_then(|f| f.strip_suffix("lock.json"))
        .is_some_and(|middle| middle.is_empty() || (middle.len() > 1 && middle.ends_with('.')))
}

fn json(bytes: &[u8], what: &str) -> Result<Map<String, Value>, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match serde_json::from_slice(bytes).map_err(|e| format!("{what}: {e}"))? {
        Value::Object(o) => Ok(o),
        _ => Err(format!("{what}: not a JSON object")),
    }
}

fn nuget(name: &str, version: &str, evidence: Evidence) -> LangPackage {
    LangPackage::new(LangEcosystem::NuGet, name, version, evidence)
}

/// A name or version fit to report.
fn token_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

// ---------------------------------------------------------------- .deps.json

const RUNTIMEPACK: &str = "runtimepack.";

/// The asset kinds that put files into the deployed application.
const ASSETS: [&str; 4] = ["runtime", "native", "runtimeTargets", "resources"];

fn parse_deps_json(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc = json(bytes, ".deps.json")?;
    let libraries = match doc.get("libraries") {
        Some(Value::Object(l)) => l,
        None => return Ok(Vec::new()),
        Some(_) => return Err(".deps.json: `libraries` is not an object".into()),
    };
    // The runtime target's entries, when the file says which target runs.
    let target = doc
        .get("runtimeTarget")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .and_then(|name| doc.get("targets")?.get(name)?.as_object());
    let mut out = Vec::new();
    for (key, lib) in libraries {
        let Some((name, version)) = key.split_once('/') else {
            continue;
        };
        let (name, note) = match lib.get("type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("package") => (name, None),
            Some(t) if t.eq_ignore_ascii_case("runtimepack") => (
                name.strip_prefix(RUNTIMEPACK).unwrap_or(name),
                Some("runtimepack".to_owned()),
            ),
            _ => continue, // project, reference, or unknown: not a NuGet package.
        };
        if !token_ok(name) || !token_ok(version) {
            continue;
        }
        if let Some(entry) = target.and_then(|t| t.get(key))
            && !ships_files(entry)
        {
            continue;
        }
        let mut pkg = nuget(name, version, Evidence::Installed);
        pkg.note = note;
        out.push(pkg);
    }
    Ok(out)
}

/// Whether a target entry lists an asset that is deployed with the app.
fn ships_files(entry: &Value) -> bool {
    ASSETS.iter().any(|kind| match entry.get(kind) {
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    })
}

// ---------------------------------------------------------------- packages.lock.json

fn parse_packages_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let doc = json(bytes, "packages.lock.json")?;
    if let Some(v) = doc.get("version")
        && v.as_i64().is_none_or(|v| v < 1)
    {
        return Err(format!("packages.lock.json: unknown format version {v}"));
    }
    let frameworks = match doc.get("dependencies") {
        Some(Value::Object(d)) => d,
        None => return Ok(Vec::new()),
        Some(_) => return Err("packages.lock.json: `dependencies` is not an object".into()),
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for deps in frameworks.values() {
        let Some(deps) = deps.as_object() else {
            continue;
        };
        for (name, entry) in deps {
            if entry.get("type").and_then(Value::as_str) == Some("Project") {
                continue;
            }
            let Some(version) = entry.get("resolved").and_then(Value::as_str) else {
                continue;
            };
            if !token_ok(name) || !token_ok(version) {
                continue;
            }
            if seen.insert((name.to_ascii_lowercase(), version.to_owned())) {
                out.push(nuget(name, version, Evidence::Lockfile));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lang/dotnet");

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{FIXTURES}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// (name, version) pairs, sorted: JSON objects carry no order customs relies on.
    fn pairs(pkgs: &[LangPackage]) -> Vec<(&str, &str)> {
        let mut v: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn wants_deps_json_and_lockfiles() {
        for yes in [
            "app/MyApp.deps.json",
            "usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.1/Microsoft.NETCore.App.deps.json",
            "src/Api/packages.lock.json",
            "src/Api/packages.Api.lock.json",
        ] {
            assert!(wants(yes), "{yes}");
        }
        for no in [
            "app/.deps.json",
            "app/deps.json",
            "app/MyApp.runtimeconfig.json",
            "src/packages.config",
            "src/packages..lock.json",
            "src/packageslock.json",
            "src/obj/project.assets.json",
        ] {
            assert!(!wants(no), "{no}");
        }
    }

    /// syft's dir-example-1 (README.md): two projects, eleven packages, two of which the
    /// net6.0 target lists without any asset (the shared framework carries them). By hand.
    #[test]
    fn deps_json_runtime_packages_only() {
        let pkgs = parse(
            "app/TestLibrary.deps.json",
            &fixture("syft-dir-example-1/TestLibrary.deps.json"),
        )
        .unwrap();
        assert_eq!(
            pairs(&pkgs),
            [
                ("AWSSDK.Core", "3.7.10.6"),
                ("Microsoft.Extensions.DependencyInjection", "6.0.0"),
                (
                    "Microsoft.Extensions.DependencyInjection.Abstractions",
                    "6.0.0"
                ),
                ("Microsoft.Extensions.Logging", "6.0.0"),
                ("Microsoft.Extensions.Logging.Abstractions", "6.0.0"),
                ("Microsoft.Extensions.Options", "6.0.0"),
                ("Microsoft.Extensions.Primitives", "6.0.0"),
                ("Newtonsoft.Json", "13.0.1"),
                ("Serilog", "2.10.0"),
                ("Serilog.Sinks.Console", "4.0.1"),
            ]
        );
        assert!(pkgs.iter().all(|p| p.evidence == Evidence::Installed));
        assert!(pkgs.iter().all(|p| p.ecosystem == LangEcosystem::NuGet));
        assert!(pkgs.iter().all(|p| p.note.is_none() && !p.dev));
    }

    /// trivy's without-runtime (README.md): a native-only package (Libuv's runtimeTargets) is
    /// deployed; a metapackage and an empty entry are not; a library missing from the target
    /// is kept.
    #[test]
    fn deps_json_native_assets_and_missing_entries() {
        let pkgs =
            parse_deps_json(&fixture("trivy-without-runtime/without-runtime.deps.json")).unwrap();
        assert_eq!(
            pairs(&pkgs),
            [
                ("JsonDiffPatch", "2.0.61"),
                ("Libuv", "1.9.1"),
                ("System.Collections.Immutable", "1.3.0"),
            ]
        );
    }

    /// Hand-written in the SDK's shape: a runtime pack, no runtime target (everything kept),
    /// odd keys and types.
    #[test]
    fn deps_json_edges() {
        let text = br#"{
          "runtimeTarget": {"name": ".NETCoreApp,Version=v9.0/linux-x64"},
          "targets": {".NETCoreApp,Version=v9.0/linux-x64": {
            "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/9.0.1": {"native": {"libclrjit.so": {}}},
            "Satellite/1.0.0": {"resources": {"de/Satellite.resources.dll": {"locale": "de"}}},
            "Empty/1.0.0": {"runtime": {}}
          }},
          "libraries": {
            "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/9.0.1": {"type": "runtimepack"},
            "Satellite/1.0.0": {"type": "Package"},
            "Empty/1.0.0": {"type": "package"},
            "App/1.0.0": {"type": "project"},
            "Ref/1.0.0": {"type": "reference"},
            "NoSlash": {"type": "package"},
            "/1.0": {"type": "package"},
            "Untyped/1.0": {},
            "Weird/1.0": 7
          }
        }"#;
        let pkgs = parse_deps_json(text).unwrap();
        assert_eq!(
            pairs(&pkgs),
            [
                ("Microsoft.NETCore.App.Runtime.linux-x64", "9.0.1"),
                ("Satellite", "1.0.0"),
            ]
        );
        let pack = pkgs
            .iter()
            .find(|p| p.name.starts_with("Microsoft"))
            .unwrap();
        assert_eq!(pack.note.as_deref(), Some("runtimepack"));
        // Without a runtime target nothing can be told apart: every package is kept.
        let text = br#"{"libraries": {"A/1.0": {"type": "package"}, "B/2.0": {"type": "package"}},
                        "targets": {"x": {"A/1.0": {}}}}"#;
        assert_eq!(
            pairs(&parse_deps_json(text).unwrap()),
            [("A", "1.0"), ("B", "2.0")]
        );
        assert!(parse_deps_json(b"{}").unwrap().is_empty());
        assert!(parse_deps_json(br#"{"libraries": []}"#).is_err());
        assert!(parse_deps_json(b"[]").is_err());
    }

    /// packageurl-dotnet's test project lock (README.md): Direct, Transitive and its Project.
    #[test]
    fn packages_lock_direct_transitive_project() {
        let pkgs = parse(
            "tests/packages.lock.json",
            &fixture("packageurl-dotnet-tests/packages.lock.json"),
        )
        .unwrap();
        assert_eq!(
            pairs(&pkgs),
            [
                ("FluentAssertions", "6.12.0"),
                ("GitVersion.MsBuild", "5.8.1"),
                ("Microsoft.Build.Tasks.Git", "1.1.1"),
                ("Microsoft.CodeCoverage", "17.11.0"),
                ("Microsoft.NET.Test.Sdk", "17.11.0"),
                ("Microsoft.SourceLink.Common", "1.1.1"),
                ("Microsoft.SourceLink.GitHub", "1.1.1"),
                ("Microsoft.TestPlatform.ObjectModel", "17.11.0"),
                ("Microsoft.TestPlatform.TestHost", "17.11.0"),
                ("Newtonsoft.Json", "13.0.1"),
                ("System.Configuration.ConfigurationManager", "4.4.0"),
                ("System.Reflection.Metadata", "1.6.0"),
                ("System.Runtime.CompilerServices.Unsafe", "6.0.0"),
                ("System.Security.Cryptography.ProtectedData", "4.4.0"),
                ("System.Text.Encodings.Web", "8.0.0"),
                ("System.Text.Json", "8.0.4"),
                ("xunit", "2.9.0"),
                ("xunit.abstractions", "2.0.3"),
                ("xunit.analyzers", "1.15.0"),
                ("xunit.assert", "2.9.0"),
                ("xunit.core", "2.9.0"),
                ("xunit.extensibility.core", "2.9.0"),
                ("xunit.extensibility.execution", "2.9.0"),
                ("xunit.runner.visualstudio", "2.8.2"),
            ]
        );
        assert!(
            pkgs.iter()
                .all(|p| p.evidence == Evidence::Lockfile && !p.dev)
        );
    }

    /// trivy's subdependencies lock (README.md): the old `.NETCoreApp,Version=v5.0` key.
    #[test]
    fn packages_lock_old_framework_key() {
        let pkgs = parse_packages_lock(&fixture(
            "trivy-subdependencies/packages_lock_subdependencies.json",
        ))
        .unwrap();
        assert_eq!(
            pairs(&pkgs),
            [
                ("Microsoft.Extensions.ApiDescription.Server", "3.0.0"),
                ("Microsoft.OpenApi", "1.1.4"),
                ("Newtonsoft.Json", "12.0.3"),
                ("NuGet.Frameworks", "5.7.0"),
                ("Swashbuckle.AspNetCore", "5.5.1"),
                ("Swashbuckle.AspNetCore.Swagger", "5.5.1"),
                ("Swashbuckle.AspNetCore.SwaggerGen", "5.5.1"),
                ("Swashbuckle.AspNetCore.SwaggerUI", "5.5.1"),
            ]
        );
    }

    /// Hand-written in NuGet's shape: frameworks and RIDs repeating packages, central pins,
    /// entries without a version.
    #[test]
    fn packages_lock_edges() {
        let text = br#"{"version": 2, "dependencies": {
            "net8.0": {
                "A": {"type": "Direct", "requested": "[1.0.0, )", "resolved": "1.0.0"},
                "B": {"type": "CentralTransitive", "requested": "[2.0.0, )", "resolved": "2.0.0"},
                "lib": {"type": "Project", "dependencies": {"A": "[1.0.0, )"}},
                "NoVersion": {"type": "Transitive"}
            },
            "net8.0/linux-x64": {"A": {"type": "Transitive", "resolved": "1.0.0"}, "a": {"type": "Direct", "resolved": "1.0.0"}},
            "net9.0": {"A": {"type": "Direct", "resolved": "1.1.0"}},
            "net9.0/win-x64": {},
            "junk": 5
        }}"#;
        assert_eq!(
            pairs(&parse_packages_lock(text).unwrap()),
            [("A", "1.0.0"), ("A", "1.1.0"), ("B", "2.0.0")]
        );
        assert!(
            parse_packages_lock(br#"{"version": 1}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse_packages_lock(br#"{"version": 0, "dependencies": {}}"#).is_err());
        assert!(parse_packages_lock(br#"{"version": "x", "dependencies": {}}"#).is_err());
        assert!(parse_packages_lock(br#"{"dependencies": []}"#).is_err());
    }

    #[test]
    fn hostile_input_never_panics() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for name in ["App.deps.json", "packages.lock.json"] {
            let _ = parse(name, &garbage);
            let _ = parse(name, b"");
            let _ = parse(name, &garbage[..9]);
            // Nested 100,000 deep: refused by serde_json's recursion limit.
            let deep = format!("{{\"libraries\": {}", "{\"a\": ".repeat(100_000));
            assert!(parse(name, deep.as_bytes()).is_err());
        }
        // A megabyte-long key is skipped.
        let long = format!(
            r#"{{"libraries": {{"{}/1.0": {{"type": "package"}}, "B/1.0": {{"type": "package"}}}}}}"#,
            "n".repeat(1 << 20)
        );
        assert_eq!(
            pairs(&parse_deps_json(long.as_bytes()).unwrap()),
            [("B", "1.0")]
        );
        let deps = fixture("syft-dir-example-1/TestLibrary.deps.json");
        for cut in [1, deps.len() / 2, deps.len() - 2] {
            assert!(parse_deps_json(&deps[..cut]).is_err());
        }
    }
}
