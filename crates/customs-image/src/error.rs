use std::path::PathBuf;

use crate::Compression;

/// Why an image could not be opened or read. Every variant names what it was reading.
///
/// A `what` field is the human name of the file concerned, as every message about it spells
/// it: a path on disk, `ARCHIVE!ENTRY` for an entry of a tar archive, `REGISTRY/REPO@DIGEST`
/// for a registry blob, or the source as the user typed it when no one file is to blame.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Opening or reading a file failed. For a registry blob the I/O error wraps the
    /// [`ImageError::Registry`] that caused it.
    #[error("{path}")]
    Io {
        /// The file on disk (or the scratch directory a compressed archive is unpacked to), or
        /// the name of a file inside an archive or registry as every message spells it.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A digest the image names (e.g. the `@sha256:…` pinned in a registry reference) is not
    /// `ALGORITHM:HEX` of a supported algorithm.
    #[error(transparent)]
    BadDigest(#[from] customs_types::DigestError),
    /// What the user typed does not name a source: an unknown or empty path part, a selector
    /// where none is allowed, a malformed `--platform` or `@N`, a `dir:` that is not a
    /// directory.
    #[error("invalid source {input:?}: {why}")]
    BadSource {
        /// The source (or platform) exactly as given.
        input: String,
        /// What is wrong with it, as a phrase to follow a colon.
        why: String,
    },
    /// A source names a path that is not there. `hint` (empty, or starting with a space) says
    /// what else the input could have meant.
    #[error("{}: no such file or directory{hint}", path.display())]
    NotFound {
        /// The path part of the source, as given.
        path: PathBuf,
        /// Empty, or a parenthesised suggestion preceded by a space.
        hint: String,
    },
    /// The file is not a tar archive (once decompressed, for a compressed one). The tar
    /// reader's own message is never shown: it quotes the header it could not parse, i.e. the
    /// file's first bytes (`customs sbom docker-archive:/etc/passwd` printed the password file).
    #[error("{}: not a {}tar archive", path.display(), compressed_prefix(*compression))]
    NotTar {
        /// The archive file.
        path: PathBuf,
        /// The compression detected from the file's magic number, so the message can say
        /// "not a gzip-compressed tar archive".
        compression: Compression,
    },
    /// A tar archive whose entry `entry` (counted from 1) could not be read: a corrupt header
    /// or a file cut short. Like [`ImageError::NotTar`], it does not quote the bad header.
    #[error("{}: corrupt or truncated tar archive: entry {entry} is unreadable", path.display())]
    CorruptTar {
        /// The archive file.
        path: PathBuf,
        /// The 1-based position of the first unreadable entry.
        entry: usize,
    },
    /// A manifest, index, config, `oci-layout` or docker `manifest.json` that does not parse
    /// as JSON of the expected shape.
    #[error("{what}: not valid JSON")]
    Json {
        /// The file, named as in every message (see [`ImageError`]).
        what: String,
        /// serde_json's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The image is malformed: a file it needs is missing or is a directory, a path leaves
    /// the image root, layer and `diff_ids` counts disagree, a blob's size differs from the
    /// manifest's, index nesting loops.
    #[error("{what}: {why}")]
    Invalid {
        /// The file (or source) at fault, named as in every message (see [`ImageError`]).
        what: String,
        /// What is wrong, as a phrase to follow a colon.
        why: String,
    },
    /// A well-formed input customs does not read: Docker schema 1 manifests, OCI artifacts,
    /// encrypted or bzip2/xz layers, unknown media types or layout versions.
    #[error("{what}: unsupported: {why}")]
    Unsupported {
        /// The file, named as in every message (see [`ImageError`]).
        what: String,
        /// What is not supported, and what to do instead when there is something.
        why: String,
    },
    /// A blob the manifest (or docker `manifest.json`) refers to is not in the image.
    #[error("{what}: blob {digest} is missing from the image")]
    MissingBlob {
        /// The source as the user typed it.
        what: String,
        /// The blob's digest (`sha256:…`), or, for a legacy docker archive, its path in the
        /// archive.
        digest: String,
    },
    /// A manifest, index, config or `oci-layout` file past the size bound for its kind (8 MiB
    /// for the JSON documents), read no further: nothing legitimate is that big.
    #[error("{what}: larger than the {limit}-byte limit for this kind of file")]
    TooLarge {
        /// The file, named as in every message (see [`ImageError`]).
        what: String,
        /// The bound, in bytes.
        limit: u64,
    },
    /// Content whose hash is not the digest it was fetched or listed by. For a layer this
    /// surfaces at the end of the stream, inside an [`std::io::Error`] of kind `InvalidData`.
    #[error("{what}: digest mismatch: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        /// The file, named as in every message (see [`ImageError`]); for a layer, followed by
        /// which check failed (`(blob digest)` or `(diff_id)`).
        what: String,
        /// The digest the manifest, index or reference gives, as `ALGORITHM:HEX`.
        expected: String,
        /// The digest of the bytes read, with the same algorithm.
        actual: String,
    },
    /// An image index has no entry for the wanted platform (attestation manifests are not
    /// counted as offers).
    #[error(
        "{reference}: no image for platform {wanted}; the index offers {offered} (choose with --platform)"
    )]
    NoPlatform {
        /// The source as the user typed it.
        reference: String,
        /// The wanted [`Platform`](crate::Platform), as `os/arch[/variant]`.
        wanted: String,
        /// The platforms the index lists, comma-separated, or `nothing`.
        offered: String,
    },
    /// A layout or archive that holds several images when none was selected, or none that
    /// matches the selector given.
    #[error("{reference}: {why}")]
    Ambiguous {
        /// The source as the user typed it.
        reference: String,
        /// What matched (or did not), with the tags available and how to select one.
        why: String,
    },
    /// A registry source failed: the reference, the credentials, the connection or the
    /// registry's answer (see [`customs_registry::RegistryError`]).
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
