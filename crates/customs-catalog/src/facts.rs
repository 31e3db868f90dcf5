//! What one layer yields: the parsed facts of the files analyzers asked for, and the layer's
//! whiteouts. This is what the layer cache stores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use customs_detect::SecretHit;
use customs_detect::secrets::SecretStats;

use crate::inventory::Warning;
use crate::osdb::OsPackage;

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
pub(crate) enum Fact {
    /// `KEY=value` pairs of an os-release file.
    OsRelease(BTreeMap<String, String>),
    /// The first line of a release file such as `/etc/alpine-release`.
    ReleaseFile(String),
    /// The packages an OS package database lists (dpkg, apk, rpm: see `osdb.rs`).
    OsPackages(Vec<OsPackage>),
    /// The paths a package's file list names, kept apart from its database (dpkg's `.list`).
    FileList(Vec<String>),
    /// Language packages a metadata file, lockfile or binary names (possibly none: a binary
    /// that is neither Go nor cargo-auditable still hides what a lower layer had there).
    Lang(Vec<crate::lang::LangPackage>),
    /// The licences a package's own licence file declares (dpkg's `copyright`).
    Licenses(Vec<String>),
    /// The user ids `/etc/passwd` lists.
    Users(Vec<u64>),
}

/// What stands at a wanted path in one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "kebab-case")]
pub(crate) enum Entry {
    Fact {
        fact: Fact,
    },
    /// A symlink; the target as written.
    Symlink {
        target: String,
    },
    /// A hard link to another path of the image (normalised).
    Hardlink {
        target: String,
    },
    /// Present but not readable (too big, corrupt): it still hides what lower layers had.
    Unreadable,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct LayerFacts {
    /// Wanted paths (relative, normalised) and what stands there.
    pub(crate) files: BTreeMap<String, Entry>,
    /// Paths deleted by `.wh.NAME` entries.
    pub(crate) whiteouts: Vec<String>,
    /// Directories made opaque by `.wh..wh..opq`: lower layers' contents are hidden.
    pub(crate) opaque: Vec<String>,
    pub(crate) warnings: Vec<Warning>,
    /// Entries seen, for reports and tests.
    pub(crate) entries: u64,
    /// Every entry's metadata, only when a file listing was asked for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) listing: BTreeMap<String, FileMeta>,
    /// Secrets in the layer's files, by path (values redacted), when the secret scanner ran.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) secrets: BTreeMap<String, Vec<SecretHit>>,
    /// What the secret scanner read and skipped in this layer.
    #[serde(default)]
    pub(crate) secret_stats: SecretStats,
    /// The [`path_hash`] of every entry, sorted, when the secret or file checks ran: a later
    /// layer's entry at a path replaces what lower layers had there, and this says which
    /// paths a layer replaces without keeping them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) present: Vec<u64>,
    /// The entries the file and config checks read (see `walk::notable`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) notable: BTreeMap<String, FileMeta>,
}

/// A path's 64-bit FNV-1a hash. Written out because the hash is stored in the layer cache and
/// must not change between builds; std's hashers promise no such thing.
pub(crate) fn path_hash(path: &str) -> u64 {
    path.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One entry of a layer, for the file listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// `file`, `dir`, `symlink`, `hardlink`, `char`, `block`, `fifo`.
    pub kind: String,
    /// The permission bits, setuid, setgid and sticky included (`mode & 0o7777`; `0o4755`
    /// for a setuid binary). JSON has no octal: this is the decimal number.
    pub mode: u32,
    /// The owner's numeric user id, as the tar header (or the directory) records it.
    pub uid: u64,
    /// The owner's numeric group id.
    pub gid: u64,
    /// The size in bytes of a regular file; 0 for other kinds, hard links included (the
    /// content is counted once, at the file linked to).
    pub size: u64,
    /// A symlink's target as written (relative or absolute), or a hard link's target path
    /// in the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}
