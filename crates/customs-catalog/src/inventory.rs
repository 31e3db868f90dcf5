//! The inventory: the versioned, documented output of a catalog run (docs/inventory-schema.md).

use std::collections::BTreeMap;
use std::fmt;

use customs_image::{Digest, HistoryEntry, Layer, SourceInfo};
use serde::{Deserialize, Serialize};

pub use crate::facts::FileMeta;

/// The inventory JSON schema's version. Bump the minor for additions, the major for changes.
pub const SCHEMA_VERSION: &str = "customs.inventory/1.0";

#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub schema: &'static str,
    pub source: SourceInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageMeta>,
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    /// The final filesystem, when asked for (`customs sbom --files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileEntry>>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    pub layer_index: Option<usize>,
    #[serde(flatten)]
    pub meta: FileMeta,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageMeta {
    pub manifest_digest: Option<Digest>,
    pub config_digest: Option<Digest>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub created: Option<String>,
    pub layers: Vec<LayerMeta>,
    pub config: ConfigMeta,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerMeta {
    #[serde(flatten)]
    pub layer: Layer,
    /// Whether the facts came from the layer cache rather than reading the layer.
    pub cached: bool,
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Apk,
    Rpm,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Apk => "apk",
            Self::Rpm => "rpm",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The package database it was read from.
    pub found_in: String,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The file (or layer blob) the problem is in.
    pub file: String,
    pub problem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Digest>,
}
