//! The inventory: the versioned, documented output of a catalog run (docs/inventory-schema.md).

use std::collections::BTreeMap;

use customs_detect::Detection;
use customs_detect::secrets::SecretStats;
use customs_image::{Digest, HistoryEntry, Layer, SourceInfo};
use serde::{Deserialize, Serialize};

pub use crate::facts::FileMeta;

/// The inventory JSON schema's version. Bump the minor for additions, the major for changes.
pub const SCHEMA_VERSION: &str = "customs.inventory/1.6";

/// What is installed in an image: its distribution and packages, with where each came from.
///
/// Round-trips through JSON (`serde_json::to_value` then `from_value` gives an inventory that
/// serializes the same), so stored inventories can be matched again without the image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    /// The schema version the inventory was written with ([`SCHEMA_VERSION`] for a new one; a
    /// stored one may be older).
    pub schema: String,
    /// What the user named and how it was read.
    pub source: SourceInfo,
    /// The image's manifest, config and layers; `None` for a `dir:` source, which has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageMeta>,
    /// The distribution, from `/etc/os-release` or an older release file; `None` when the
    /// image has none (`scratch` with a static binary).
    pub distro: Option<Distro>,
    /// Every package found, OS and language alike, sorted by ecosystem, name, arch and
    /// version.
    pub packages: Vec<Package>,
    /// The final filesystem, when asked for (`customs sbom --files`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileEntry>>,
    /// Files inside the image that could not be read, or only in part, and layers read only
    /// in part: the scan went on without them.
    pub warnings: Vec<Warning>,
    /// Packages the source lists that customs has no ecosystem for, counted by kind (an
    /// SBOM's package-URL type: `gem`, `maven`; `unknown` for a component without one). They
    /// were not checked, so a gate cannot call the image clean while any remain.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unchecked: BTreeMap<String, usize>,
    /// Secrets, config and file findings (1.6), sorted by kind, code and location. Secret
    /// values are redacted in them, as they are in `image.config`'s `env` and `history`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detections: Vec<Detection>,
    /// Which of the secret, config and file scanners ran, and what the secret scanner read
    /// (1.6); `None` when none ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspected: Option<Inspected>,
}

/// What the secret, config and file scanners covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspected {
    /// The scanners that ran (`secret`, `config`, `file`).
    pub scanners: Vec<String>,
    /// Files and bytes the secret scanner read, and what it skipped as binary or too large,
    /// summed over every layer.
    pub secrets: SecretStats,
    /// The fingerprint of the secret rules used (`--secret-config` changes it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rules: String,
    /// Detections removed by `--skip-check` and `--skip-path`, by code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, usize>,
}

/// One path of the final filesystem, after every layer's whiteouts are applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The absolute path in the image (`/usr/bin/env`).
    pub path: String,
    /// The layer the path's final version comes from (0 is the base); `None` for a `dir:`
    /// source.
    pub layer_index: Option<usize>,
    /// Kind, mode, owner, size and link target (flattened into this object in JSON).
    #[serde(flatten)]
    pub meta: FileMeta,
}

/// What the image's manifest and config say, as recorded in the inventory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageMeta {
    /// See [`Image::manifest_digest`](customs_image::Image::manifest_digest): `None` for a
    /// legacy docker archive.
    pub manifest_digest: Option<Digest>,
    /// See [`Image::config_digest`](customs_image::Image::config_digest).
    pub config_digest: Option<Digest>,
    /// The config's `os` (`linux`).
    pub os: Option<String>,
    /// The config's `architecture` (`amd64`, `arm64`).
    pub architecture: Option<String>,
    /// The config's `created`, as written (RFC 3339).
    pub created: Option<String>,
    /// The layers, base first.
    pub layers: Vec<LayerMeta>,
    /// What a container of the image runs with, and how it was built.
    pub config: ConfigMeta,
    /// The manifest's annotations (OCI `annotations`: `org.opencontainers.image.base.digest`
    /// names the image it was built on).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A layer, and whether this scan read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerMeta {
    /// Index, digests, media type and size (flattened into this object in JSON).
    #[serde(flatten)]
    pub layer: Layer,
    /// Whether the facts came from the layer cache rather than reading the layer.
    pub cached: bool,
}

/// The parts of the image config a report needs: the run settings of
/// [`RunConfig`](customs_image::RunConfig) and the build history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigMeta {
    /// The user the container runs as (`app`, `1000:1000`); `None` when unset or empty,
    /// which means root.
    pub user: Option<String>,
    /// The environment, as `KEY=VALUE` strings.
    pub env: Vec<String>,
    /// The entrypoint, as an argument vector.
    pub entrypoint: Vec<String>,
    /// The command, or the entrypoint's arguments when there is an entrypoint.
    pub cmd: Vec<String>,
    /// The working directory; `None` when unset or empty, which means `/`.
    pub working_dir: Option<String>,
    /// The image labels.
    pub labels: BTreeMap<String, String>,
    /// The exposed ports, as `PORT/PROTOCOL` (`8080/tcp`), sorted.
    pub exposed_ports: Vec<String>,
    /// The build steps, oldest first (see
    /// [`ImageConfig::history`](customs_image::ImageConfig::history)).
    pub history: Vec<HistoryEntry>,
    /// The config's `author`: who made and maintains the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The health check's test (`["CMD-SHELL", "curl -f localhost"]`, `["NONE"]`); `None`
    /// when the config declares none (1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Vec<String>>,
}

/// The distribution an image is built on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// os-release `ID`, lower-case: `debian`, `ubuntu`, `alpine`, `rhel`, `sles`, …
    pub id: String,
    /// os-release `VERSION_ID` (`12`, `22.04`, `3.19.1`), or the version an older release
    /// file gives. For Debian without one (testing, distroless), the major version of
    /// `/etc/debian_version`.
    pub version_id: Option<String>,
    /// The release's codename (`bookworm`, `jammy`): os-release
    /// `VERSION_CODENAME`, else the one in `VERSION="12 (bookworm)"`, else, for Debian, the
    /// codename of its major version.
    pub codename: Option<String>,
    /// A human name: os-release `PRETTY_NAME` (else `NAME`), or one customs writes for an
    /// older release file (`Alpine Linux v3.19.1`).
    pub pretty_name: Option<String>,
    /// os-release `ID_LIKE`: the distributions this one derives from (`["debian"]` for
    /// Ubuntu), nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// The file it was read from.
    pub source_file: String,
}

pub use customs_types::{Ecosystem, pep503_name as pep503};

/// One installed package: an OS package manager's database entry, or a language package
/// gathered from every file that names it at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The name as the package manager or ecosystem spells it (dpkg `Package:`, apk `P:`, rpm
    /// `NAME`; for PyPI, the installed metadata's spelling when there is one: `Jinja2`).
    pub name: String,
    /// The full version as the package manager prints it (rpm: `[EPOCH:]VERSION-RELEASE`).
    pub version: String,
    /// The package type, which decides how versions compare and which advisories apply.
    pub ecosystem: Ecosystem,
    /// The package URL (`pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12`):
    /// for OS packages with `arch`, `epoch`, `upstream` and `distro` qualifiers, the namespace
    /// from the distribution (`redhat` for RHEL). `None` only when the purl library refuses
    /// the name or version.
    pub purl: Option<String>,
    /// The source package it was built from: dpkg `Source:`, apk origin, the SRPM's name. The
    /// package's own name when the database gives none; `None` for language packages.
    /// Debian, Ubuntu and Alpine advisories are looked up by this name (Red Hat's by both).
    pub source_name: Option<String>,
    /// The source package's version (dpkg `Source: name (version)`, the SRPM's
    /// `[EPOCH:]VERSION-RELEASE`), else the package's own; `None` for language packages.
    pub source_version: Option<String>,
    /// The architecture the database records (`amd64`, `x86_64`, `noarch`, `all`); `None`
    /// for language packages and databases that record none.
    pub arch: Option<String>,
    /// diff_id of the layer that introduced this package at this version.
    pub layer: Option<Digest>,
    /// The index of that layer, 0 at the base (see [`Package::layer`]). A `dir:` source is
    /// read as one layer: 0 here, and no `layer`.
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
    /// The licences the package declares, each as written where it was found (dpkg's
    /// machine-readable `copyright` `License:` fields, apk `L:`, rpm `License`, Python
    /// `License-Expression`/`License`/classifiers, package.json `license`). Often SPDX
    /// expressions, not always (`GPL-2+`, `Expat`): the SBOM writers normalise them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Who made or maintains the package, as its metadata names them (dpkg `Maintainer`, apk
    /// `m:`, rpm `Vendor`, Python `Author`/`Maintainer`, package.json `author`): a name,
    /// often with `<email>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The installed packages this one needs, by package URL: dpkg `Pre-Depends` and
    /// `Depends` (each alternative group resolved to the first installed package that is or
    /// provides it), apk `D:`, rpm's requirements. Empty for language packages, whose
    /// dependency graphs customs does not record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
}

/// A file the catalog could not read, or read only in part. Not an error: the scan goes on,
/// and the warning says what the inventory lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The file (or layer blob) the problem is in.
    pub file: String,
    /// What went wrong and what was left out, as a sentence (`stanza 2 (package "x") has no
    /// Version: left out, the file's other packages are read`). It may quote the image's
    /// content: escape control characters before printing it.
    pub problem: String,
    /// The diff_id of the layer the file is in; `None` for a `dir:` source and a layer whose
    /// config lists no diff_id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Digest>,
}
