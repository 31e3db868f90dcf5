//! A layer as a stream: the blob's bytes are hashed as they are read (and checked against the
//! manifest's digest at the end), decompressed by magic number rather than by the declared
//! media type (Docker archives often say "tar" for gzip and vice versa), and watched for
//! decompression bombs.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::{Digest, ImageError};
use customs_types::Hasher;

/// Bounds on what one layer may expand to.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Refuse a layer that decompresses to more than this many bytes.
    pub max_uncompressed: u64,
    /// Refuse a layer whose expansion ratio passes this, once it is past `ratio_floor` bytes.
    pub max_ratio: u64,
    /// Uncompressed bytes a layer may reach before `max_ratio` applies: below this, even a
    /// layer of zeros expands to nothing harmful.
    pub ratio_floor: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        // Real layers compress 2–10×; text-heavy ones reach ~20×. Zeros compress ~1000× with
        // gzip and far more with zstd. 100× past 256 MiB only stops bombs.
        Self {
            max_uncompressed: 64 << 30,
            max_ratio: 100,
            ratio_floor: 256 << 20,
        }
    }
}

/// How a blob is compressed, as detected from its first bytes (not from its media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (magic `1f 8b`), including several gzip members one after another.
    Gzip,
    /// Zstandard (magic `28 b5 2f fd`).
    Zstd,
}

/// Reads through to an inner reader, hashing, counting, and at EOF comparing with `expected`.
struct Verify<R> {
    inner: R,
    hasher: Option<Hasher>,
    expected: Option<Digest>,
    count: Arc<AtomicU64>,
    what: Arc<str>,
    label: &'static str,
}

impl<R: Read> Read for Verify<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(h) = self.hasher.as_mut() {
            if n > 0 {
                h.update(&buf[..n]);
            } else if !buf.is_empty()
                && let (Some(h), Some(expected)) = (self.hasher.take(), self.expected.as_ref())
            {
                let actual = h.finish();
                if actual != *expected {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        ImageError::DigestMismatch {
                            what: format!("{} ({})", self.what, self.label),
                            expected: expected.to_string(),
                            actual: actual.to_string(),
                        },
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Stops a stream that expands past the limits.
struct Guard<R> {
    inner: R,
    out: u64,
    compressed: Arc<AtomicU64>,
    limits: StreamLimits,
    what: Arc<str>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let inn = self.compressed.load(Ordering::Relaxed).max(1);
        let bomb = self.out > self.limits.max_uncompressed
            || (self.out > self.limits.ratio_floor && self.out / inn > self.limits.max_ratio);
        if bomb {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: decompression bomb: {} bytes expanded to more than {} bytes (limits: {}× past {} bytes, {} bytes in all)",
                    self.what,
                    inn,
                    self.out,
                    self.limits.max_ratio,
                    self.limits.ratio_floor,
                    self.limits.max_uncompressed
                ),
            ));
        }
        Ok(n)
    }
}

/// The raw blob reader, shared so that a failed decode can still read the blob to its end.
type RawBlob = Arc<Mutex<Verify<Box<dyn Read + Send>>>>;

struct Shared(RawBlob);

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("layer reader poisoned"))?
            .read(buf)
    }
}

/// A layer's uncompressed tar stream.
pub struct LayerReader {
    inner: Box<dyn Read + Send>,
    raw: RawBlob,
    drained: bool,
    compression: Compression,
    compressed: Arc<AtomicU64>,
}

impl LayerReader {
    /// Wrap a raw blob. `compressed_digest` is checked over the raw bytes, `diff_id` over the
    /// uncompressed ones (either may be absent).
    pub(crate) fn new(
        raw: Box<dyn Read + Send>,
        what: &str,
        compressed_digest: Option<&Digest>,
        diff_id: Option<&Digest>,
        limits: StreamLimits,
    ) -> Result<Self, ImageError> {
        let what: Arc<str> = Arc::from(what);
        let compressed = Arc::new(AtomicU64::new(0));
        let verify = Verify {
            inner: raw,
            hasher: compressed_digest.map(|d| Hasher::new(d.algorithm())),
            expected: compressed_digest.cloned(),
            count: compressed.clone(),
            what: what.clone(),
            label: "blob digest",
        };
        let raw: RawBlob = Arc::new(Mutex::new(verify));
        let mut buffered = BufReader::with_capacity(256 << 10, Shared(raw.clone()));
        let head = buffered
            .fill_buf()
            .map_err(|e| ImageError::invalid(what.to_string(), e.to_string()))?;
        let compression = match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [b'B', b'Z', b'h', ..] => {
                return Err(ImageError::unsupported(
                    what.to_string(),
                    "bzip2-compressed layer",
                ));
            }
            [0xfd, b'7', b'z', b'X', b'Z', ..] => {
                return Err(ImageError::unsupported(
                    what.to_string(),
                    "xz-compressed layer",
                ));
            }
            _ => Compression::None,
        };
        let decoded: Box<dyn Read + Send> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(buffered)
                    .map_err(|e| ImageError::invalid(what.to_string(), e.to_string()))?,
            ),
            Compression::None => Box::new(buffered),
        };
        let guarded = Guard {
            inner: decoded,
            out: 0,
            compressed: compressed.clone(),
            limits,
            what: what.clone(),
        };
        // An uncompressed layer's diff_id is its blob digest, already checked above.
        let check_diff =
            diff_id.filter(|d| compression != Compression::None || Some(*d) != compressed_digest);
        let inner: Box<dyn Read + Send> = match check_diff {
            Some(d) => Box::new(Verify {
                inner: guarded,
                hasher: Some(Hasher::new(d.algorithm())),
                expected: Some(d.clone()),
                count: Arc::new(AtomicU64::new(0)),
                what,
                label: "diff_id",
            }),
            None => Box::new(guarded),
        };
        Ok(Self {
            inner,
            raw,
            drained: false,
            compression,
            compressed,
        })
    }

    /// A decode error in a blob that is not what the manifest names is a digest mismatch, not
    /// a corrupt layer: read the rest of the raw blob so its digest decides which it is.
    fn explain(&mut self, e: io::Error) -> io::Error {
        let ours = e
            .get_ref()
            .is_some_and(|i| i.downcast_ref::<ImageError>().is_some());
        if ours || self.drained {
            return e;
        }
        self.drained = true;
        let Ok(mut raw) = self.raw.lock() else {
            return e;
        };
        match io::copy(&mut *raw, &mut io::sink()) {
            Err(d)
                if d.get_ref()
                    .and_then(|i| i.downcast_ref::<ImageError>())
                    .is_some_and(|i| matches!(i, ImageError::DigestMismatch { .. })) =>
            {
                d
            }
            _ => e,
        }
    }

    /// The compression detected from the blob's first bytes.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Raw (compressed) bytes read so far.
    pub fn compressed_bytes(&self) -> u64 {
        self.compressed.load(Ordering::Relaxed)
    }

    /// Read to the end, so that the digest checks run over the whole blob (a tar reader stops
    /// at the end-of-archive marker and may leave padding unread).
    pub fn finish(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| self.explain(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn detects_and_verifies() {
        let plain = b"hello layer".repeat(100);
        let z = gz(&plain);
        let d = Digest::compute(crate::Algorithm::Sha256, &z);
        let diff = Digest::compute(crate::Algorithm::Sha256, &plain);
        let mut r = LayerReader::new(
            Box::new(io::Cursor::new(z.clone())),
            "l",
            Some(&d),
            Some(&diff),
            StreamLimits::default(),
        )
        .unwrap();
        assert_eq!(r.compression(), Compression::Gzip);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, plain);

        let wrong = Digest::compute(crate::Algorithm::Sha256, b"other");
        let mut r = LayerReader::new(
            Box::new(io::Cursor::new(z)),
            "l",
            Some(&wrong),
            None,
            StreamLimits::default(),
        )
        .unwrap();
        let err = io::copy(&mut r, &mut io::sink()).unwrap_err().to_string();
        assert!(err.contains("digest mismatch"), "{err}");
    }

    #[test]
    fn stops_bombs() {
        let z = gz(&vec![0u8; 4 << 20]);
        let limits = StreamLimits {
            max_uncompressed: 1 << 40,
            max_ratio: 10,
            ratio_floor: 1 << 20,
        };
        let mut r =
            LayerReader::new(Box::new(io::Cursor::new(z)), "bomb", None, None, limits).unwrap();
        let err = io::copy(&mut r, &mut io::sink()).unwrap_err().to_string();
        assert!(err.contains("decompression bomb"), "{err}");
    }

    #[test]
    fn corrupt_blob_is_a_digest_mismatch_not_a_bad_layer() {
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        let z = gz(&plain);
        let d = Digest::compute(crate::Algorithm::Sha256, &z);
        let mut bad = z.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        let mut r = LayerReader::new(
            Box::new(io::Cursor::new(bad)),
            "c",
            Some(&d),
            None,
            StreamLimits::default(),
        )
        .unwrap();
        let err = io::copy(&mut r, &mut io::sink()).unwrap_err().to_string();
        assert!(err.contains("digest mismatch"), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let z = gz(&b"abcdefgh".repeat(10_000));
        let cut = z[..z.len() / 2].to_vec();
        let mut r = LayerReader::new(
            Box::new(io::Cursor::new(cut)),
            "t",
            None,
            None,
            StreamLimits::default(),
        )
        .unwrap();
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
    }
}
