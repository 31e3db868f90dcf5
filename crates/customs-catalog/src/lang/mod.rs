//! Language packages: Python, npm, Cargo, Go, Java (Maven), Ruby, PHP (Composer) and .NET
//! (NuGet), from installed metadata, archives, lockfiles and binaries. Each format has one file of pure parsers (bytes in, packages out); the analyzers
//! that route files to them live in `crate::langs`.

use serde::{Deserialize, Serialize};

pub(crate) mod cargo;
pub(crate) mod dotnet;
pub(crate) mod exe;
pub(crate) mod golang;
pub(crate) mod java;
pub(crate) mod npm;
pub(crate) mod php;
pub(crate) mod python;
pub(crate) mod ruby;
pub(crate) mod zipstream;

/// The language ecosystems customs inventories, spelled as OSV spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum LangEcosystem {
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "crates.io")]
    Cargo,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "Maven")]
    Maven,
    #[serde(rename = "RubyGems")]
    Gem,
    #[serde(rename = "Packagist")]
    Composer,
    #[serde(rename = "NuGet")]
    NuGet,
}

/// How a package was found: what is installed outranks what a lockfile declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Evidence {
    /// Installed metadata: dist-info/egg-info, node_modules/*/package.json.
    Installed,
    /// A lockfile or pinned requirements: package-lock.json, yarn.lock, Cargo.lock, go.mod, ...
    Lockfile,
    /// Compiled into a binary: Go buildinfo, cargo-auditable's `.dep-v0`.
    Binary,
}

/// One package a language file names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LangPackage {
    pub(crate) ecosystem: LangEcosystem,
    /// As the ecosystem writes it (`Jinja2`, `@babel/core`, `golang.org/x/text`). PyPI names
    /// are normalised (PEP 503) only where they are compared, not here.
    pub(crate) name: String,
    /// Exactly as recorded (`2.25.1`, `v0.3.7`, `0.0.0-20210101000000-abcdef123456`).
    pub(crate) version: String,
    pub(crate) evidence: Evidence,
    /// Only needed in development (npm `dev`, poetry `category = "dev"`/groups, Pipfile
    /// `develop`, pnpm `dev`): reported, marked, and excludable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) dev: bool,
    /// Where inside the file, when one file names many: a package-lock key
    /// (`node_modules/a/node_modules/b`), a Go module's role (`main`, `dep`, `stdlib`), the
    /// archive inside a Java archive that holds it (`BOOT-INF/lib/a.jar`, one level deeper
    /// `BOOT-INF/lib/a.jar!/lib/b.jar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<String>,
    /// Anything else worth keeping for the report, as short text: an npm alias
    /// (`alias:<the alias>`, the package itself reported under its real name), a Go `=>` replacement, a Cargo source
    /// (`registry+https://github.com/rust-lang/crates.io-index`, `git+...`, `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    /// Licences installed metadata declares (see [`crate::inventory::Package::licenses`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) licenses: Vec<String>,
    /// The author installed metadata names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) author: Option<String>,
}

impl LangPackage {
    pub(crate) fn new(
        ecosystem: LangEcosystem,
        name: impl Into<String>,
        version: impl Into<String>,
        evidence: Evidence,
    ) -> Self {
        Self {
            ecosystem,
            name: name.into(),
            version: version.into(),
            evidence,
            dev: false,
            location: None,
            note: None,
            licenses: Vec::new(),
            author: None,
        }
    }
}
