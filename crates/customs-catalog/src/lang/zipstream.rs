//! Reading a zip archive (a jar) front to back, from its local headers, in bounded memory.
//!
//! Written by hand because the `zip` crate's stream reader refuses every entry whose sizes
//! follow its data (a data descriptor, general-purpose flag bit 3), and that is how `jar`,
//! Maven and Gradle write every deflated entry. A deflate stream ends itself, so such an entry
//! can still be read as a stream; only a *stored* entry with a data descriptor cannot (its end
//! is unknowable without the central directory), which Java's own `ZipInputStream` refuses too.
//!
//! The central directory at the end is never read: the archive is what its local headers say,
//! as `ZipInputStream` reads it. A huge or lying central directory therefore costs nothing.

use std::io::{self, BufRead, Read};

use flate2::{Decompress, FlushDecompress, Status};

const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
/// Entries read in one archive before the rest are left unread: a real jar has at most tens
/// of thousands, and each entry costs a header's worth of work even when skipped.
pub(crate) const MAX_ENTRIES: u64 = 1_000_000;
/// A deflated entry inflating beyond this many bytes…
const BOMB_FLOOR: u64 = 64 << 20;
/// …at more than this many bytes out per byte in is a zip bomb; deflate's own limit is about
/// 1032, and real class files and resources compress less than 20 to 1.
const BOMB_RATIO: u64 = 200;

/// What is wrong with an archive; it ends the reading of that archive.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ZipError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Format(String),
}

fn bad(why: impl Into<String>) -> ZipError {
    ZipError::Format(why.into())
}

/// A local file header.
#[derive(Debug, Clone)]
pub(crate) struct LocalEntry {
    /// The name as stored (UTF-8 or, without flag bit 11, CP437; read lossily either way).
    pub(crate) name: String,
    method: u16,
    /// Sizes follow the data.
    descriptor: bool,
    /// Compressed size, when the local header states it.
    compressed: Option<u64>,
    zip64: bool,
    encrypted: bool,
}

impl LocalEntry {
    pub(crate) fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }

    /// Why the entry's content cannot be read, if it cannot (it can still be skipped when its
    /// size is known).
    pub(crate) fn unreadable(&self) -> Option<String> {
        if self.encrypted {
            return Some("encrypted".to_owned());
        }
        match self.method {
            0 | 8 => None,
            m => Some(format!("compression method {m}, which jars do not use")),
        }
    }
}

enum Body {
    None,
    /// Stored, or deflated but skipped without inflating: this many raw bytes left.
    Raw(u64),
    Inflate {
        d: Box<Decompress>,
        /// Compressed bytes left, when the header states them.
        left: Option<u64>,
        done: bool,
    },
}

/// An archive read entry by entry.
pub(crate) struct ZipStream<'r> {
    r: &'r mut dyn BufRead,
    body: Body,
    /// The current entry, until its body and descriptor are consumed.
    current: Option<LocalEntry>,
    pub(crate) entries: u64,
    ended: bool,
    /// The first entry's signature was read by whoever found it.
    signature_read: bool,
}

fn u16le(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn u32le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn u64le(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

impl<'r> ZipStream<'r> {
    pub(crate) fn new(r: &'r mut dyn BufRead) -> Self {
        Self {
            r,
            body: Body::None,
            current: None,
            entries: 0,
            ended: false,
            signature_read: false,
        }
    }

    /// An archive whose first local header's signature has just been read.
    pub(crate) fn after_signature(r: &'r mut dyn BufRead) -> Self {
        Self {
            signature_read: true,
            ..Self::new(r)
        }
    }

    /// The next entry, after finishing the current one. `None` at the central directory (or
    /// anything else that is not a local header: what follows the entries is not read).
    pub(crate) fn next_entry(&mut self) -> Result<Option<LocalEntry>, ZipError> {
        self.finish()?;
        if self.ended {
            return Ok(None);
        }
        let mut sig = LOCAL.to_le_bytes();
        if !std::mem::take(&mut self.signature_read) && !read_full(self.r, &mut sig)? {
            // A stream that ends between entries: the central directory is missing, but every
            // entry was whole.
            self.ended = true;
            return Ok(None);
        }
        if u32le(&sig) != LOCAL {
            self.ended = true;
            return Ok(None);
        }
        if self.entries >= MAX_ENTRIES {
            return Err(bad(format!(
                "more than {MAX_ENTRIES} entries: the rest not read"
            )));
        }
        self.entries += 1;
        let mut h = [0u8; 26];
        self.r.read_exact(&mut h).map_err(cut)?;
        let flags = u16le(&h[2..]);
        let method = u16le(&h[4..]);
        let mut compressed = u64::from(u32le(&h[14..]));
        let name_len = usize::from(u16le(&h[22..]));
        let extra_len = usize::from(u16le(&h[24..]));
        let mut name = vec![0u8; name_len];
        self.r.read_exact(&mut name).map_err(cut)?;
        let mut extra = vec![0u8; extra_len];
        self.r.read_exact(&mut extra).map_err(cut)?;
        let mut zip64 = false;
        // The zip64 extra field holds the sizes the header marks 0xFFFFFFFF, uncompressed
        // first.
        let mut rest = &extra[..];
        while rest.len() >= 4 {
            let (id, len) = (u16le(rest), usize::from(u16le(&rest[2..])));
            let Some(data) = rest.get(4..4 + len) else {
                break;
            };
            if id == 1 {
                zip64 = true;
                let mut fields = data.chunks_exact(8).map(u64le);
                if u32le(&h[18..]) == u32::MAX {
                    fields.next();
                }
                if compressed == u64::from(u32::MAX)
                    && let Some(c) = fields.next()
                {
                    compressed = c;
                }
            }
            rest = &rest[4 + len..];
        }
        let descriptor = flags & 0x8 != 0;
        let entry = LocalEntry {
            name: String::from_utf8_lossy(&name).into_owned(),
            method,
            descriptor,
            compressed: (!descriptor || compressed != 0).then_some(compressed),
            zip64,
            encrypted: flags & 0x1 != 0,
        };
        if descriptor && method == 0 && entry.compressed.is_none() {
            return Err(bad(format!(
                "{}: a stored entry whose size follows its data, so a stream cannot find its \
                 end (Java's ZipInputStream refuses it too): the rest not read",
                entry.name
            )));
        }
        self.body = match (method, entry.compressed) {
            (8, left) if !entry.encrypted => Body::Inflate {
                d: Box::new(Decompress::new(false)),
                left,
                done: false,
            },
            (_, Some(n)) => Body::Raw(n),
            (_, None) => {
                return Err(bad(format!(
                    "{}: {} and no size in its header, so its end cannot be found: the rest \
                     not read",
                    entry.name,
                    entry.unreadable().unwrap_or_default()
                )));
            }
        };
        self.current = Some(entry.clone());
        Ok(Some(entry))
    }

    /// The current entry's content. Call only for an entry whose `unreadable` is `None`.
    pub(crate) fn content(&mut self) -> Content<'_, 'r> {
        Content {
            zip: self,
            out: 0,
            input: 0,
        }
    }

    /// Skip the rest of the current entry and its data descriptor.
    fn finish(&mut self) -> Result<(), ZipError> {
        let Some(entry) = self.current.take() else {
            return Ok(());
        };
        match &mut self.body {
            Body::None => {}
            Body::Raw(n) => {
                let n = *n;
                skip(self.r, n)?;
            }
            Body::Inflate { left: Some(n), .. } => {
                // Its compressed size is known: skipped without inflating.
                let n = *n;
                skip(self.r, n)?;
            }
            Body::Inflate { left: None, .. } => {
                let mut sink = vec![0u8; 32 << 10];
                let mut c = Content {
                    zip: self,
                    out: 0,
                    input: 0,
                };
                while c.read_inner(&mut sink)? > 0 {}
            }
        }
        self.body = Body::None;
        if entry.descriptor {
            // An optional signature, the CRC, then both sizes (8 bytes each for zip64).
            let mut four = [0u8; 4];
            self.r.read_exact(&mut four).map_err(cut)?;
            if u32le(&four) == DESCRIPTOR {
                self.r.read_exact(&mut four).map_err(cut)?;
            }
            let mut sizes = [0u8; 16];
            let n = if entry.zip64 { 16 } else { 8 };
            self.r.read_exact(&mut sizes[..n]).map_err(cut)?;
        }
        Ok(())
    }
}

/// The content of the current entry, inflated.
pub(crate) struct Content<'z, 'r> {
    zip: &'z mut ZipStream<'r>,
    out: u64,
    input: u64,
}

impl Content<'_, '_> {
    fn read_inner(&mut self, buf: &mut [u8]) -> Result<usize, ZipError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let name = || {
            self.zip
                .current
                .as_ref()
                .map_or_else(String::new, |e| e.name.clone())
        };
        match &mut self.zip.body {
            Body::None => Ok(0),
            Body::Raw(left) => {
                if *left == 0 {
                    return Ok(0);
                }
                let want = usize::try_from((*left).min(buf.len() as u64)).unwrap_or(buf.len());
                let n = self.zip.r.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(ZipError::Io(cut(io::ErrorKind::UnexpectedEof.into())));
                }
                *left -= n as u64;
                Ok(n)
            }
            Body::Inflate { d, left, done } => loop {
                if *done {
                    return Ok(0);
                }
                let input = self.zip.r.fill_buf()?;
                let input = match left {
                    Some(l) => &input[..input.len().min(usize::try_from(*l).unwrap_or(usize::MAX))],
                    None => input,
                };
                // With its compressed size all read, the inflater may still hold output.
                let flush = if input.is_empty() && *left == Some(0) {
                    FlushDecompress::Finish
                } else if input.is_empty() {
                    return Err(bad(format!("{}: the archive ends inside it", name())));
                } else {
                    FlushDecompress::None
                };
                let (in0, out0) = (d.total_in(), d.total_out());
                let status = d
                    .decompress(input, buf, flush)
                    .map_err(|e| bad(format!("{}: bad deflate data: {e}", name())))?;
                let used = usize::try_from(d.total_in() - in0).unwrap_or(0);
                let made = usize::try_from(d.total_out() - out0).unwrap_or(0);
                self.zip.r.consume(used);
                if let Some(l) = left {
                    *l -= used as u64;
                }
                self.input += used as u64;
                self.out += made as u64;
                if self.out > BOMB_FLOOR && self.out > self.input.saturating_mul(BOMB_RATIO) {
                    return Err(bad(format!(
                        "{}: inflates beyond {} MiB at over {BOMB_RATIO} to 1, a zip bomb: the \
                         rest not read",
                        name(),
                        BOMB_FLOOR >> 20
                    )));
                }
                if status == Status::StreamEnd {
                    *done = true;
                    // What a stated size leaves after the deflate stream's end is not data.
                    if let Some(l) = left.take() {
                        skip(self.zip.r, l)?;
                    }
                }
                if made > 0 || *done {
                    return Ok(made);
                }
                if used == 0 {
                    return Err(bad(format!(
                        "{}: bad deflate data, or the archive ends inside it",
                        name()
                    )));
                }
            },
        }
    }
}

impl Read for Content<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_inner(buf).map_err(|e| match e {
            ZipError::Io(e) => e,
            ZipError::Format(why) => io::Error::new(io::ErrorKind::InvalidData, why),
        })
    }
}

/// Fill `buf`; `false` when the stream ends before its first byte.
fn read_full(r: &mut dyn BufRead, buf: &mut [u8]) -> Result<bool, ZipError> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(&mut buf[got..])?;
        if n == 0 {
            if got == 0 {
                return Ok(false);
            }
            return Err(ZipError::Io(cut(io::ErrorKind::UnexpectedEof.into())));
        }
        got += n;
    }
    Ok(true)
}

fn skip(r: &mut dyn BufRead, mut n: u64) -> Result<(), ZipError> {
    while n > 0 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(ZipError::Io(cut(io::ErrorKind::UnexpectedEof.into())));
        }
        let k = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        r.consume(k);
        n -= k as u64;
    }
    Ok(())
}

fn cut(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        io::Error::new(e.kind(), "the archive ends inside an entry")
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive as Java's `ZipOutputStream` writes it: deflated entries with data
    /// descriptors, stored ones with their sizes up front.
    fn archive(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        use std::io::Write;
        let mut out = Vec::new();
        for (name, data, deflate) in entries {
            let crc = 0u32;
            let (flags, method, body): (u16, u16, Vec<u8>) = if *deflate {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                (8, 8, e.finish().unwrap())
            } else {
                (0, 0, data.to_vec())
            };
            out.extend(LOCAL.to_le_bytes());
            out.extend(20u16.to_le_bytes());
            out.extend(flags.to_le_bytes());
            out.extend(method.to_le_bytes());
            out.extend([0u8; 4]);
            out.extend(crc.to_le_bytes());
            let (c, u) = if *deflate {
                (0u32, 0u32)
            } else {
                (body.len() as u32, data.len() as u32)
            };
            out.extend(c.to_le_bytes());
            out.extend(u.to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes());
            out.extend(name.as_bytes());
            out.extend(&body);
            if *deflate {
                out.extend(DESCRIPTOR.to_le_bytes());
                out.extend(crc.to_le_bytes());
                out.extend((body.len() as u32).to_le_bytes());
                out.extend((data.len() as u32).to_le_bytes());
            }
        }
        // A central directory header's signature ends the entries.
        out.extend(0x0201_4b50u32.to_le_bytes());
        out.extend([0u8; 64]);
        out
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ZipError> {
        let mut r = io::BufReader::new(bytes);
        let mut z = ZipStream::new(&mut r);
        let mut out = Vec::new();
        while let Some(e) = z.next_entry()? {
            let mut data = Vec::new();
            z.content().read_to_end(&mut data)?;
            out.push((e.name, data));
        }
        Ok(out)
    }

    #[test]
    fn descriptors_and_stored_entries_read_in_order() {
        let big = b"class ".repeat(50_000);
        let bytes = archive(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n", true),
            ("a/B.class", &big, true),
            ("lib/x.jar", b"PK stored bytes", false),
            ("empty", b"", true),
        ]);
        let got = read_all(&bytes).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["META-INF/MANIFEST.MF", "a/B.class", "lib/x.jar", "empty"]
        );
        assert_eq!(got[1].1, big);
        assert_eq!(got[2].1, b"PK stored bytes");
        assert!(got[3].1.is_empty());
    }

    #[test]
    fn skipped_entries_are_skipped_whole() {
        let bytes = archive(&[
            ("a", b"aaaa", true),
            ("b", b"bbbb", false),
            ("c", b"cc", true),
        ]);
        let mut r = io::BufReader::new(&bytes[..]);
        let mut z = ZipStream::new(&mut r);
        let mut names = Vec::new();
        while let Some(e) = z.next_entry().unwrap() {
            names.push(e.name);
        }
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let zeros = vec![0u8; 300 << 20];
        let bytes = archive(&[("bomb", &zeros, true)]);
        assert!(bytes.len() < zeros.len() / 100);
        let err = read_all(&bytes).unwrap_err().to_string();
        assert!(err.contains("zip bomb"), "{err}");
    }

    #[test]
    fn truncated_and_garbage_archives_are_errors_not_panics() {
        let bytes = archive(&[("a", &b"x".repeat(10_000), true), ("b", b"bb", false)]);
        for cut_at in [5, 30, 40, 60, bytes.len() / 2] {
            let _ = read_all(&bytes[..cut_at]);
        }
        assert!(read_all(&bytes[..60]).is_err());
        assert!(read_all(b"not a zip at all").unwrap().is_empty());
        let mut lying = archive(&[("a", b"aaaa", false)]);
        // The stored size says far more than the archive holds.
        lying[18] = 0xff;
        assert!(read_all(&lying).is_err());
    }
}
