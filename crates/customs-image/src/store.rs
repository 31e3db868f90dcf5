//! Where an image's files live: a directory on disk, or entries inside a tar archive that is
//! indexed once and read in place (never unpacked).

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::ImageError;
use crate::archive::ArchiveIndex;

/// An open file inside a store, with its size when known.
pub(crate) struct Blob {
    pub(crate) reader: Box<dyn Read + Send>,
    pub(crate) size: u64,
}

pub(crate) enum Store {
    Dir(PathBuf),
    Archive(ArchiveIndex),
    /// Blobs fetched from a registry as they are read.
    Registry {
        client: customs_registry::Client,
        image: customs_registry::Reference,
        /// Where image configs are kept by digest ([`crate::OpenOptions::config_cache`]).
        config_cache: Option<PathBuf>,
    },
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(p) => write!(f, "Dir({})", p.display()),
            Self::Archive(a) => write!(f, "Archive({})", a.display().display()),
            Self::Registry { image, .. } => write!(f, "Registry({image})"),
        }
    }
}

impl Store {
    /// A human name for a file in this store, used in every message about it.
    pub(crate) fn describe(&self, rel: &str) -> String {
        match self {
            Self::Dir(root) => root.join(rel).display().to_string(),
            Self::Archive(a) => format!("{}!{rel}", a.display().display()),
            Self::Registry { image, .. } => match registry_digest(rel) {
                Some(d) => format!("{}/{}@{d}", image.registry, image.repository),
                None => format!("{}/{} {rel}", image.registry, image.repository),
            },
        }
    }

    /// Open a blob whose size the manifest gives; a registry download needs it to resume.
    pub(crate) fn open_sized(
        &self,
        rel: &str,
        size: Option<u64>,
    ) -> Result<Option<Blob>, ImageError> {
        match self {
            Self::Registry { client, image, .. } => {
                let digest = registry_digest(rel)
                    .ok_or_else(|| ImageError::invalid(self.describe(rel), "not a blob path"))?;
                let reader = client.blob(image, &digest, size)?;
                let size = reader.expected_len().unwrap_or(0);
                Ok(Some(Blob {
                    reader: Box::new(RegistryBlob(reader)),
                    size,
                }))
            }
            _ => self.open(rel),
        }
    }

    /// Open `rel` (a relative, `/`-separated path). `Ok(None)` when it does not exist.
    pub(crate) fn open(&self, rel: &str) -> Result<Option<Blob>, ImageError> {
        if matches!(self, Self::Registry { .. }) {
            return self.open_sized(rel, None);
        }
        let Some(rel) = crate::archive::normalize(rel) else {
            return Err(ImageError::invalid(
                self.describe(rel),
                "path leaves the image root",
            ));
        };
        match self {
            Self::Dir(root) => {
                let path = root.join(&rel);
                let meta = match std::fs::metadata(&path) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(ImageError::io(path, e)),
                };
                if meta.is_dir() {
                    return Err(ImageError::invalid(
                        path.display().to_string(),
                        "is a directory, expected a file",
                    ));
                }
                let file = File::open(&path).map_err(|e| ImageError::io(&path, e))?;
                Ok(Some(Blob {
                    reader: Box::new(file),
                    size: meta.len(),
                }))
            }
            Self::Archive(a) => {
                let Some((offset, size)) = a.locate(&rel)? else {
                    return Ok(None);
                };
                let mut file = File::open(a.path()).map_err(|e| ImageError::io(a.path(), e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| ImageError::io(a.path(), e))?;
                Ok(Some(Blob {
                    reader: Box::new(file.take(size)),
                    size,
                }))
            }
            Self::Registry { .. } => unreachable!("registry blobs are opened above"),
        }
    }

    /// Read a small file (a manifest, a config, an index) whole, refusing one over `limit`.
    pub(crate) fn read_small(&self, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, ImageError> {
        let Some(blob) = self.open(rel)? else {
            return Ok(None);
        };
        if blob.size > limit {
            return Err(ImageError::TooLarge {
                what: self.describe(rel),
                limit,
            });
        }
        let mut buf = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0));
        blob.reader
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ImageError::io(self.describe(rel), e))?;
        if buf.len() as u64 > limit {
            return Err(ImageError::TooLarge {
                what: self.describe(rel),
                limit,
            });
        }
        Ok(Some(buf))
    }

    pub(crate) fn root(&self) -> &Path {
        match self {
            Self::Dir(p) => p,
            Self::Archive(a) => a.display(),
            Self::Registry { .. } => Path::new(""),
        }
    }
}

/// `blobs/ALG/HEX` back to `ALG:HEX`.
fn registry_digest(rel: &str) -> Option<String> {
    let mut parts = rel.strip_prefix("blobs/")?.splitn(2, '/');
    Some(format!("{}:{}", parts.next()?, parts.next()?))
}

/// A registry download whose failures surface as [`ImageError::Registry`] inside the I/O
/// error, so the catalog can tell a failed pull (fatal) from a bad layer (a warning).
struct RegistryBlob(customs_registry::BlobReader);

impl Read for RegistryBlob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if !e
                .get_ref()
                .is_some_and(|i| i.is::<customs_registry::RegistryError>())
            {
                return e;
            }
            let kind = e.kind();
            match e
                .into_inner()
                .map(|i| i.downcast::<customs_registry::RegistryError>())
            {
                Some(Ok(r)) => std::io::Error::other(ImageError::Registry(*r)),
                Some(Err(other)) => std::io::Error::new(kind, other),
                None => std::io::Error::from(kind),
            }
        })
    }
}
