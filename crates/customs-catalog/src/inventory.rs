//! The inventory: the versioned, documented output of a catalog run (docs/inventory-schema.md).

use std::collections::BTreeMap;

use customs_image::{Digest, HistoryEntry, Layer, SourceInfo};
use serde::{Deserialize, Serialize};

pub use crate::facts::FileMeta;

/// The inventory JSON schema's version. Bump the minor for additions, the major for changes.
pub const SCHEMA_VERSION: &str = "customs.inventory/1.2";

/// Round-trips through JSON (`serde_json::to_value` then `from_value` gives an inventory that
/// serializes the same), so stored inventories can be matched again without the image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    pub schema: String,
    pub source: SourceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageMeta>,
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    /// The final filesystem, when asked for (`customs sbom --files`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileEntry>>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub layer_index: Option<usize>,
    #[serde(flatten)]
    pub meta: FileMeta,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageMeta {
    pub manifest_digest: Option<Digest>,
    pub config_digest: Option<Digest>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub created: Option<String>,
    pub layers: Vec<LayerMeta>,
    pub config: ConfigMeta,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerMeta {
    #[serde(flatten)]
    pub layer: Layer,
    /// Whether the facts came from the layer cache rather than reading the layer.
    pub cached: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigMeta {
    pub user: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub exposed_ports: Vec<String>,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// os-release `ID`, lower-case: `debian`, `ubuntu`, `alpine`, `rhel`, `sles`, …
    pub id: String,
    pub version_id: Option<String>,
    pub codename: Option<String>,
    pub pretty_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// The file it was read from.
    pub source_file: String,
}

pub use customs_types::{Ecosystem, pep503_name as pep503};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// The full version as the package manager prints it (rpm: `[EPOCH:]VERSION-RELEASE`).
    pub version: String,
    pub ecosystem: Ecosystem,
    pub purl: Option<String>,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    pub arch: Option<String>,
    /// diff_id of the layer that introduced this package at this version.
    pub layer: Option<Digest>,
    pub layer_index: Option<usize>,
    /// The package database it was read from (for a language package: the best evidence,
    /// installed metadata over a binary over a lockfile).
    pub found_in: String,
    /// OS packages: the files the package manager says it installed. Language packages: every
    /// file that names this package at this version.
    pub paths: Vec<String>,
    /// Only needed for development (npm devDependencies, Pipfile `develop`, ...).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// How a language package was found: `installed`, `lockfile`, `binary` (every kind seen).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Language packages inside this OS package's own files (a Debian python3-urllib3's
    /// dist-info), reported here once rather than again as language packages:
    /// `ECOSYSTEM:NAME@VERSION PATH`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owns: Vec<String>,
    /// What the evidence files add about a language package: its source (`registry+…`,
    /// `git+…`), an npm alias (`alias:NAME`), a Go replacement (`replaces:PATH VERSION`),
    /// where the version came from (`version-from:-X main.version`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The file (or layer blob) the problem is in.
    pub file: String,
    pub problem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Digest>,
}
