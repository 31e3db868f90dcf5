use std::path::PathBuf;

use crate::Compression;

/// Why an image could not be opened or read. Every variant names what it was reading.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    BadDigest(#[from] customs_types::DigestError),
    #[error("invalid source {input:?}: {why}")]
    BadSource { input: String, why: String },
    /// A source names a path that is not there. `hint` (empty, or starting with a space) says
    /// what else the input could have meant.
    #[error("{}: no such file or directory{hint}", path.display())]
    NotFound { path: PathBuf, hint: String },
    /// The file is not a tar archive (once decompressed, for a compressed one). The tar
    /// reader's own message is never shown: it quotes the header it could not parse, i.e. the
    /// file's first bytes (`customs sbom docker-archive:/etc/passwd` printed the password file).
    #[error("{}: not a {}tar archive", path.display(), compressed_prefix(*compression))]
    NotTar {
        path: PathBuf,
        compression: Compression,
    },
    /// A tar archive whose entry `entry` (counted from 1) could not be read: a corrupt header
    /// or a file cut short. Like [`ImageError::NotTar`], it does not quote the bad header.
    #[error("{}: corrupt or truncated tar archive: entry {entry} is unreadable", path.display())]
    CorruptTar { path: PathBuf, entry: usize },
    #[error("{what}: not valid JSON")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what}: {why}")]
    Invalid { what: String, why: String },
    #[error("{what}: unsupported: {why}")]
    Unsupported { what: String, why: String },
    #[error("{what}: blob {digest} is missing from the image")]
    MissingBlob { what: String, digest: String },
    #[error("{what}: larger than the {limit}-byte limit for this kind of file")]
    TooLarge { what: String, limit: u64 },
    #[error("{what}: digest mismatch: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{reference}: no image for platform {wanted}; the index offers {offered} (choose with --platform)"
    )]
    NoPlatform {
        reference: String,
        wanted: String,
        offered: String,
    },
    #[error("{reference}: {why}")]
    Ambiguous { reference: String, why: String },
    #[error(transparent)]
    Registry(#[from] customs_registry::RegistryError),
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }

    pub(crate) fn unsupported(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self::Unsupported {
            what: what.into(),
            why: why.into(),
        }
    }
}

/// `"gzip-compressed "` and so on, or nothing for an uncompressed file.
fn compressed_prefix(c: Compression) -> &'static str {
    match c {
        Compression::None => "",
        Compression::Gzip => "gzip-compressed ",
        Compression::Zstd => "zstd-compressed ",
    }
}
