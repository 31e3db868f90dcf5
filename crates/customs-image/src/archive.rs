//! An index of a tar archive's entries, so that an oci-archive or docker-archive is read in
//! place: each blob is a byte range of the archive file. Links inside the archive (skopeo's
//! legacy docker-archive layout symlinks layers to each other) are resolved within the archive
//! and never leave it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{ImageError, LayerReader, StreamLimits};

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
        let compressed = matches!(&head[..n], [0x1f, 0x8b, ..] | [0x28, 0xb5, 0x2f, 0xfd]);
        if !compressed {
            return Self::build(path);
        }
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
        let mut index = Self::build(&spool).map_err(|e| match e {
            ImageError::Invalid { why, .. } => ImageError::invalid(&what, why),
            e => e,
        })?;
        index.display = path.to_owned();
        index._spool = Some(spool);
        Ok(index)
    }

    fn build(path: &Path) -> Result<Self, ImageError> {
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let what = path.display().to_string();
        let bad = |e: std::io::Error| {
            ImageError::invalid(&what, format!("not a readable tar archive: {e}"))
        };
        let mut archive = tar::Archive::new(BufReader::new(file));
        let mut entries = HashMap::new();
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
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
        if entries.is_empty() {
            return Err(ImageError::invalid(&what, "empty or not a tar archive"));
        }
        Ok(Self {
            path: path.to_owned(),
            display: path.to_owned(),
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

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./a//b/./c").as_deref(), Some("a/b/c"));
        assert_eq!(normalize("/a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("a/../../etc"), None);
        assert_eq!(normalize("").as_deref(), Some(""));
    }
}
