//! An index of a tar archive's entries, so that an oci-archive or docker-archive is read in
//! place: each blob is a byte range of the archive file. Links inside the archive (skopeo's
//! legacy docker-archive layout symlinks layers to each other) are resolved within the archive
//! and never leave it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{Compression, ImageError, LayerReader, StreamLimits};

/// At most this many entries in an outer archive: an image archive holds a few files per layer.
const MAX_ENTRIES: usize = 100_000;
/// At most this many link hops when resolving an entry.
const MAX_HOPS: usize = 16;

#[derive(Debug, Clone)]
enum Entry {
    File { offset: u64, size: u64 },
    Symlink(String),
    Hardlink(String),
    Dir,
}

#[derive(Debug)]
pub(crate) struct ArchiveIndex {
    /// The file the entries are read from (the decompressed copy, for a compressed archive).
    path: PathBuf,
    /// What the user named, for messages.
    display: PathBuf,
    entries: HashMap<String, Entry>,
    /// Deletes the decompressed copy when the image is dropped.
    _spool: Option<tempfile::TempPath>,
}

/// Normalise a relative path: drop `.` and empty components and a leading `/`, apply `..`.
/// `None` when `..` would climb above the root.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

impl ArchiveIndex {
    /// Index an archive. A gzip- or zstd-compressed archive cannot be read in place, so it is
    /// first decompressed (with the bomb limits) into a temporary file under `scratch`.
    pub(crate) fn open(
        path: &Path,
        scratch: Option<&Path>,
        limits: StreamLimits,
    ) -> Result<Self, ImageError> {
        let mut head = [0u8; 4];
        let n = File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| ImageError::io(path, e))?;
        let compression = match &head[..n] {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
            _ => return Self::build(path, path, Compression::None),
        };
        let Some(scratch) = scratch else {
            return Err(ImageError::unsupported(
                path.display().to_string(),
                "a compressed archive, and no cache directory to decompress it into",
            ));
        };
        std::fs::create_dir_all(scratch).map_err(|e| ImageError::io(scratch, e))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(scratch).map_err(|e| ImageError::io(scratch, e))?;
        let raw = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let what = path.display().to_string();
        let mut reader = LayerReader::new(Box::new(raw), &what, None, None, limits)?;
        std::io::copy(&mut reader, tmp.as_file_mut())
            .map_err(|e| ImageError::invalid(&what, format!("could not be decompressed: {e}")))?;
        let spool = tmp.into_temp_path();
        let mut index = Self::build(&spool, path, compression)?;
        index._spool = Some(spool);
        Ok(index)
    }

    /// Index the tar at `path`; errors name `display` (what the user named) and say whether
    /// it was `compression`-compressed.
    fn build(path: &Path, display: &Path, compression: Compression) -> Result<Self, ImageError> {
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let what = display.display().to_string();
        // The tar crate's messages quote the header bytes it could not parse, so they are not
        // passed on: only the operating system's own read errors are (naming the file read,
        // which for a compressed archive is the decompressed copy).
        let bad = |e: std::io::Error, seen: usize| {
            if e.raw_os_error().is_some() {
                ImageError::io(path, e)
            } else if seen == 0 {
                ImageError::NotTar {
                    path: display.to_owned(),
                    compression,
                }
            } else {
                ImageError::CorruptTar {
                    path: display.to_owned(),
                    entry: seen + 1,
                }
            }
        };
        let mut archive = tar::Archive::new(BufReader::new(file));
        let mut entries = HashMap::new();
        // Entries read, including those not indexed, for messages.
        let mut seen = 0usize;
        for entry in archive.entries_with_seek().map_err(|e| bad(e, 0))? {
            let entry = entry.map_err(|e| bad(e, seen))?;
            seen += 1;
            if entries.len() >= MAX_ENTRIES {
                return Err(ImageError::invalid(
                    &what,
                    format!("more than {MAX_ENTRIES} entries: not an image archive"),
                ));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = normalize(&raw) else {
                // An entry that climbs out of the archive root can never be referenced by a
                // normalised name, so it is simply not indexed.
                continue;
            };
            let link = || {
                entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            };
            let kind = entry.header().entry_type();
            let e = if kind.is_file() || kind == tar::EntryType::Continuous {
                Entry::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                }
            } else if kind.is_symlink() {
                Entry::Symlink(link())
            } else if kind.is_hard_link() {
                Entry::Hardlink(link())
            } else if kind.is_dir() {
                Entry::Dir
            } else {
                continue;
            };
            entries.insert(name, e);
        }
        if seen == 0 {
            // An empty file is no archive (as `detect` says too); two zero blocks are a valid
            // archive with nothing in it.
            let empty_file = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
            return Err(if empty_file {
                ImageError::NotTar {
                    path: display.to_owned(),
                    compression,
                }
            } else {
                ImageError::invalid(&what, "an empty tar archive: no image in it")
            });
        }
        if entries.is_empty() {
            return Err(ImageError::invalid(
                &what,
                "a tar archive with no files or directories in it: not an image archive",
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            display: display.to_owned(),
            entries,
            _spool: None,
        })
    }

    /// The file to read entries from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The archive as the user named it.
    pub(crate) fn display(&self) -> &Path {
        &self.display
    }

    /// The byte range of the file at `rel`, following links inside the archive.
    pub(crate) fn locate(&self, rel: &str) -> Result<Option<(u64, u64)>, ImageError> {
        let mut name = rel.to_owned();
        for _ in 0..MAX_HOPS {
            match self.entries.get(&name) {
                None => return Ok(None),
                Some(Entry::File { offset, size }) => return Ok(Some((*offset, *size))),
                Some(Entry::Dir) => {
                    return Err(ImageError::invalid(
                        format!("{}!{rel}", self.display.display()),
                        "is a directory, expected a file",
                    ));
                }
                Some(Entry::Hardlink(target)) => {
                    name = normalize(target).ok_or_else(|| self.escape(rel))?;
                }
                Some(Entry::Symlink(target)) => {
                    let base = name.rsplit_once('/').map_or("", |(d, _)| d);
                    let joined = if target.starts_with('/') {
                        target.clone()
                    } else {
                        format!("{base}/{target}")
                    };
                    name = normalize(&joined).ok_or_else(|| self.escape(rel))?;
                }
            }
        }
        Err(ImageError::invalid(
            format!("{}!{rel}", self.display.display()),
            "too many levels of links",
        ))
    }

    fn escape(&self, rel: &str) -> ImageError {
        ImageError::invalid(
            format!("{}!{rel}", self.display.display()),
            "link points outside the archive",
        )
    }

    pub(crate) fn contains(&self, rel: &str) -> bool {
        self.entries.contains_key(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use crate::{ImageError, OpenOptions, SourceRef};
    use std::io::Write;
    use std::path::{Path, PathBuf};

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(rel)
    }

    /// What `customs sbom SOURCE` would print (the binary prints the chain with `{:#}`, and
    /// these errors have no source).
    fn open_error(source: &str, scratch: &Path) -> String {
        let opts = OpenOptions {
            scratch_dir: Some(scratch.to_owned()),
            ..OpenOptions::default()
        };
        let e = SourceRef::parse(source)
            .and_then(|s| crate::open(&s, &opts))
            .unwrap_err();
        assert!(
            matches!(e, ImageError::NotTar { .. } | ImageError::CorruptTar { .. }),
            "{source}: {e:?}"
        );
        e.to_string()
    }

    /// Papercut: `customs sbom docker-archive:/etc/passwd` printed the tar reader's message,
    /// which quotes the header it could not parse: the file's first 100 bytes.
    #[test]
    fn a_file_that_is_not_a_tar_is_named_and_never_quoted() {
        let scratch = tempfile::tempdir().unwrap();
        // A real text file of 30 KB: the first header the tar reader tries is its first 512
        // bytes, and its name field would start with "Package: libquadmath0".
        let text = shared("packagedb/dpkg/texlive.status");
        let t = text.display();
        for source in [
            format!("docker-archive:{t}"),
            format!("oci-archive:{t}"),
            t.to_string(),
        ] {
            let e = open_error(&source, scratch.path());
            assert_eq!(e, format!("{t}: not a tar archive"), "{source}");
        }

        // The same text, compressed: detected as a compressed archive, and found not to be a
        // tar once decompressed.
        let bytes = std::fs::read(&text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("status.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = dir.path().join("status.zst");
        std::fs::write(&zst, zstd::encode_all(bytes.as_slice(), 3).unwrap()).unwrap();
        // An empty file is no archive either, named or detected.
        let empty = dir.path().join("empty.tar");
        std::fs::write(&empty, b"").unwrap();
        let f = empty.display();
        for source in [format!("oci-archive:{f}"), f.to_string()] {
            let e = open_error(&source, scratch.path());
            assert_eq!(e, format!("{f}: not a tar archive"), "{source}");
        }
        for (file, kind) in [(&gz, "gzip"), (&zst, "zstd")] {
            let f = file.display();
            for source in [format!("docker-archive:{f}"), f.to_string()] {
                let e = open_error(&source, scratch.path());
                assert_eq!(e, format!("{f}: not a {kind}-compressed tar archive"));
            }
        }
    }

    /// A real archive whose second header is damaged is corrupt, not "not a tar"; the message
    /// does not quote the damaged header either.
    #[test]
    fn a_corrupt_header_after_the_first_is_counted_not_quoted() {
        let real = shared("images/format-fixtures/docker-archive/hello-world-v25.tar");
        let mut bytes = std::fs::read(&real).unwrap();
        let second = {
            let mut a = tar::Archive::new(bytes.as_slice());
            let mut entries = a.entries().unwrap();
            entries.next().unwrap().unwrap();
            entries.next().unwrap().unwrap().raw_header_position()
        };
        let at = usize::try_from(second).unwrap();
        // A name and a checksum field no tar tool wrote.
        bytes[at..at + 12].copy_from_slice(b"SECRET-BYTES");
        bytes[at + 148..at + 156].copy_from_slice(b"login\nsy");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("damaged.tar");
        std::fs::write(&file, &bytes).unwrap();
        let f = file.display();
        let e = open_error(&format!("docker-archive:{f}"), dir.path());
        assert_eq!(
            e,
            format!("{f}: corrupt or truncated tar archive: entry 2 is unreadable")
        );
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./a//b/./c").as_deref(), Some("a/b/c"));
        assert_eq!(normalize("/a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("a/../../etc"), None);
        assert_eq!(normalize("").as_deref(), Some(""));
    }
}
