//! Follows a tar stream's framing as it passes to the `tar` crate, to refuse extension
//! entries (local PAX headers `x`, GNU long names `L`/`K`) that claim more than
//! [`MAX_EXTENSION`] bytes.
//!
//! The `tar` crate reads an extension entry's whole body into memory before handing out the
//! entry it describes, with no bound: a layer holding a 600 MiB PAX header costs 600 MiB (and
//! one claiming 2^62 bytes reads until the stream ends). Real extension bodies are paths
//! (≤ 4 KiB) and extended attributes (≤ 64 KiB each on Linux), so a megabyte is generous.
//!
//! To know which 512-byte blocks are headers, this reader keeps the same account of sizes as
//! the `tar` crate 0.4: an entry's data is its header's size, or the `size` record of the local
//! PAX header before it; extension entries (and global PAX headers, which it hands out as
//! ordinary entries) never take a PAX size; a GNU sparse header may be
//! followed by extension blocks; the first all-zero block ends the archive. Where it cannot
//! follow (a size field that does not parse), it stops watching and lets the `tar` crate
//! report the problem.

use std::io::{self, Read};

/// The largest extension entry body accepted.
pub(crate) const MAX_EXTENSION: u64 = 1 << 20;
const BLOCK: u64 = 512;

/// Passes a tar stream through unchanged, failing at the header of an oversized extension.
pub(crate) struct Framing<R> {
    inner: R,
    /// Bytes passed through so far.
    pos: u64,
    /// Where the next header block starts.
    next_header: u64,
    header: Vec<u8>,
    /// The body of the local PAX header being passed: bytes still to come, bytes so far.
    pax: Option<(u64, Vec<u8>)>,
    /// The PAX `size` for the next entry that is not an extension.
    pending_size: Option<u64>,
    /// A GNU sparse entry's data size, while its extension blocks are passing.
    sparse: Option<u64>,
    /// Past the end-of-archive block, or lost: nothing more to watch.
    done: bool,
}

impl<R> Framing<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            pos: 0,
            next_header: 0,
            header: Vec::with_capacity(BLOCK as usize),
            pax: None,
            pending_size: None,
            sparse: None,
            done: false,
        }
    }

    fn watch(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() && !self.done {
            if self.pos < self.next_header {
                let gap = self.next_header - self.pos;
                let n = usize::try_from(gap).map_or(bytes.len(), |g| g.min(bytes.len()));
                if let Some((left, body)) = &mut self.pax {
                    let take = usize::try_from(*left).map_or(n, |l| l.min(n));
                    body.extend_from_slice(&bytes[..take]);
                    *left -= take as u64;
                    if *left == 0 {
                        self.pending_size = pax_size(body);
                        self.pax = None;
                    }
                }
                self.pos += n as u64;
                bytes = &bytes[n..];
                continue;
            }
            let want = BLOCK as usize - self.header.len();
            let n = want.min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            self.pos += n as u64;
            bytes = &bytes[n..];
            if self.header.len() == BLOCK as usize {
                let block = std::mem::take(&mut self.header);
                self.on_block(&block)?;
                self.header = block;
                self.header.clear();
            }
        }
        Ok(())
    }

    fn on_block(&mut self, h: &[u8]) -> io::Result<()> {
        if let Some(size) = self.sparse {
            // A sparse extension block: byte 504 says whether another follows.
            if h[504] == 0 {
                self.sparse = None;
                self.skip(size);
            } else {
                self.next_header = self.pos;
            }
            return Ok(());
        }
        if h.iter().all(|b| *b == 0) {
            self.done = true;
            return Ok(());
        }
        let Some(size) = numeric(&h[124..136]) else {
            self.done = true;
            return Ok(());
        };
        // The `tar` crate takes `x`, `L` and `K` as extensions only in a ustar or GNU header;
        // elsewhere they, like every `g`, are entries of their own, sized by their header.
        let magic = &h[257..265];
        let recognized = magic == b"ustar\x0000" || magic == b"ustar  \0";
        match h[156] {
            kind @ (b'x' | b'L' | b'K') if recognized => {
                if size > MAX_EXTENSION {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "tar extension header (PAX or GNU long name) of {size} bytes, over \
                             the {MAX_EXTENSION}-byte limit, at offset {}",
                            self.pos - BLOCK
                        ),
                    ));
                }
                if kind == b'x' {
                    self.pending_size = None;
                    if size > 0 {
                        self.pax = Some((size, Vec::new()));
                    }
                }
                self.skip(size);
            }
            b'x' | b'g' | b'L' | b'K' => {
                self.pending_size = None;
                self.skip(size);
            }
            kind => {
                let size = self.pending_size.take().unwrap_or(size);
                if kind == b'S' && h[482] != 0 {
                    self.sparse = Some(size);
                    self.next_header = self.pos;
                } else {
                    self.skip(size);
                }
            }
        }
        Ok(())
    }

    /// The next header follows `size` bytes of data, padded to a block.
    fn skip(&mut self, size: u64) {
        match size
            .checked_next_multiple_of(BLOCK)
            .and_then(|s| self.pos.checked_add(s))
        {
            Some(next) => self.next_header = next,
            None => self.done = true,
        }
    }
}

impl<R: Read> Read for Framing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.watch(&buf[..n])?;
        Ok(n)
    }
}

/// A tar numeric field: octal text, or base-256 when the high bit of the first byte is set.
fn numeric(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let (high, low) = field.split_at(field.len() - 8);
        if high[0] & 0x7f != 0 || high[1..].iter().any(|b| *b != 0) {
            return None;
        }
        return Some(u64::from_be_bytes(low.try_into().ok()?));
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// The `size` record of a PAX body (`LEN key=value\n` records), read as the `tar` crate reads
/// it: the first `size` record counts, and a malformed record or an empty line ends the
/// search.
fn pax_size(body: &[u8]) -> Option<u64> {
    for line in body.split(|b| *b == b'\n') {
        if line.is_empty() {
            return None;
        }
        let space = line.iter().position(|b| *b == b' ')?;
        let len: usize = std::str::from_utf8(&line[..space]).ok()?.parse().ok()?;
        if line.len() + 1 != len {
            return None;
        }
        let record = &line[space + 1..];
        let eq = record.iter().position(|b| *b == b'=')?;
        if &record[..eq] == b"size" {
            return std::str::from_utf8(&record[eq + 1..]).ok()?.parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn pass(bytes: &[u8], chunk: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut r = Framing::new(bytes);
        let mut buf = vec![0u8; chunk];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn real_archives_pass_unchanged_whatever_the_read_size() {
        let long = "d/".repeat(300) + "file";
        let bytes = tar(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_size(5);
            b.append_data(&mut h, &long, &b"hello"[..]).unwrap();
            let mut h = tar::Header::new_ustar();
            h.set_size(700);
            b.append_pax_extensions([("user.big", &[b'x'; 70_000][..])])
                .unwrap();
            b.append_data(&mut h, "x", &[7u8; 700][..]).unwrap();
        });
        for chunk in [1, 7, 512, 1 << 16] {
            assert_eq!(pass(&bytes, chunk).unwrap(), bytes, "chunk {chunk}");
        }
    }

    #[test]
    fn a_pax_size_moves_the_next_header() {
        // The PAX size says 1024; the ustar header says 0. A fake oversized extension header
        // sits in the data, where only a reader that ignored the PAX size would look.
        let mut fake = tar::Header::new_ustar();
        fake.set_entry_type(tar::EntryType::XHeader);
        fake.set_size(1 << 40);
        fake.set_cksum();
        let mut data = fake.as_bytes().to_vec();
        data.resize(1024, 0);
        let body = b"13 size=1024\n";
        let mut x = tar::Header::new_ustar();
        x.set_entry_type(tar::EntryType::XHeader);
        x.set_size(body.len() as u64);
        x.set_cksum();
        let mut bytes = x.as_bytes().to_vec();
        bytes.extend_from_slice(body);
        bytes.resize(1024, 0);
        let mut h = tar::Header::new_ustar();
        h.set_path("f").unwrap();
        h.set_size(0);
        h.set_cksum();
        bytes.extend_from_slice(h.as_bytes());
        bytes.extend_from_slice(&data);
        bytes.extend_from_slice(&[0u8; 1024]);
        assert_eq!(pass(&bytes, 100).unwrap(), bytes);
    }

    #[test]
    fn oversized_extensions_are_refused() {
        for kind in [b'x', b'L', b'K'] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::new(kind));
            h.set_size(MAX_EXTENSION + 1);
            h.set_cksum();
            let err = pass(h.as_bytes(), 512).unwrap_err().to_string();
            assert!(
                err.contains(&format!("of {} bytes", MAX_EXTENSION + 1)),
                "{err}"
            );
        }
    }

    #[test]
    fn numeric_fields() {
        assert_eq!(numeric(b"00000001750\0"), Some(1000));
        assert_eq!(numeric(b"          \0\0"), Some(0));
        let mut b = [0u8; 12];
        b[0] = 0x80;
        b[4..].copy_from_slice(&(1u64 << 62).to_be_bytes());
        assert_eq!(numeric(&b), Some(1 << 62));
        assert_eq!(numeric(b"zz\0\0\0\0\0\0\0\0\0\0"), None);
    }
}
