//! `Packages.db`, rpm's own "NDB" package store, used by SUSE (SLES 15 SP3+, openSUSE).
//!
//! The format is defined by rpm's `lib/backend/ndb/rpmpkg.c`. All integers are little-endian.
//!
//! ```text
//! 0      header (32 bytes): "RpmP", version 0, generation, slot page count, next package index
//! 32     slots of 16 bytes filling `slot page count` pages of 4096 bytes:
//!          "Slot", package index, block offset, block count
//! after  blobs, addressed in 16-byte blocks:
//!          head "BlbS", package index, timestamp, blob length
//!          the header blob
//!          zero padding to a whole block
//!          tail adler32, blob length, "BlbE"  (the last 12 bytes of the last block)
//! ```
//!
//! A slot with block offset 0 is free. A blob spans exactly the blocks its length needs, so
//! `block count == ceil((16 + length + 12) / 16)`.
//!
//! Quirks:
//! - The adler32 in the tail is not checked: rpm checks it only when it verifies the database,
//!   not when it reads a package, so `rpm -qa` lists packages whose checksum is off.
//! - rpm refuses the whole database if one slot is bad. Here a bad slot costs only its own
//!   package; a bad file header still stops everything.
//! - rpm can be built to compress blobs with LZO; no distribution does, and such blobs are
//!   reported as corrupt headers.

use super::{Records, RpmError};

const HEADER_LEN: usize = 32;
const VERSION: u32 = 0;
const PAGE_LEN: usize = 4096;
const SLOT_LEN: usize = 16;
const BLOCK_LEN: usize = 16;
const BLOB_HEAD_LEN: usize = 16;
const BLOB_TAIL_LEN: usize = 12;

const SLOT_MAGIC: &[u8] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8] = b"BlbE";

pub(super) fn read(bytes: &[u8], records: &mut Records) -> Result<(), RpmError> {
    let version = le_u32(bytes, 4).ok_or_else(|| too_short(bytes))?;
    let slot_pages = le_u32(bytes, 12).ok_or_else(|| too_short(bytes))?;
    if bytes.len() < HEADER_LEN {
        return Err(too_short(bytes));
    }
    if version != VERSION {
        return Err(RpmError::Ndb(format!("unknown format version {version}")));
    }
    let slots_end = usize::try_from(slot_pages)
        .ok()
        .and_then(|pages| pages.checked_mul(PAGE_LEN))
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            RpmError::Ndb(format!(
                "header claims {slot_pages} slot pages but the file has only {} bytes",
                bytes.len()
            ))
        })?;
    let slot_area = bytes.get(HEADER_LEN..slots_end).unwrap_or_default();
    // The header occupies the first two slot positions, so slot numbers start at 2.
    for (slotno, slot) in (HEADER_LEN / SLOT_LEN..).zip(slot_area.chunks_exact(SLOT_LEN)) {
        match read_slot(bytes, slots_end, slotno, slot) {
            Ok(Some((pkgidx, blob))) => records.header(i64::from(pkgidx), blob)?,
            Ok(None) => {}
            Err(message) => records.corrupt(RpmError::Ndb(message)),
        }
    }
    Ok(())
}

fn too_short(bytes: &[u8]) -> RpmError {
    RpmError::Ndb(format!(
        "file is {} bytes, shorter than the {HEADER_LEN}-byte header",
        bytes.len()
    ))
}

/// The package index and header blob a used slot points at; `None` for a free slot.
fn read_slot<'a>(
    bytes: &'a [u8],
    slots_end: usize,
    slotno: usize,
    slot: &[u8],
) -> Result<Option<(u32, &'a [u8])>, String> {
    if slot.get(..4) != Some(SLOT_MAGIC) {
        return Err(format!("slot {slotno} has no slot magic"));
    }
    let field = |at| le_u32(slot, at).ok_or_else(|| format!("slot {slotno} is truncated"));
    let (pkgidx, block_offset, block_count) = (field(4)?, field(8)?, field(12)?);
    if block_offset == 0 {
        return Ok(None);
    }
    if pkgidx == 0 || block_count == 0 {
        return Err(format!(
            "slot {slotno} is used but has package index {pkgidx} and {block_count} blocks"
        ));
    }
    let blocks = |n: u32| {
        usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(BLOCK_LEN))
    };
    let start =
        blocks(block_offset).ok_or_else(|| format!("slot {slotno} points past end of file"))?;
    if start < slots_end {
        return Err(format!("slot {slotno} points into the slot pages"));
    }
    let area = blocks(block_count)
        .and_then(|len| start.checked_add(len))
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| format!("slot {slotno} points past end of file"))?;

    let blob_err = |what: &str| format!("slot {slotno}: blob of package {pkgidx} {what}");
    if area.get(..4) != Some(BLOB_HEAD_MAGIC) {
        return Err(blob_err("has no head magic"));
    }
    if le_u32(area, 4) != Some(pkgidx) {
        return Err(blob_err("belongs to another package"));
    }
    let blob_len = le_u32(area, 12).ok_or_else(|| blob_err("is truncated"))?;
    let needed = usize::try_from(blob_len)
        .ok()
        .and_then(|len| len.checked_add(BLOB_HEAD_LEN + BLOB_TAIL_LEN))
        .map(|len| len.div_ceil(BLOCK_LEN) * BLOCK_LEN);
    if needed != Some(area.len()) {
        return Err(blob_err(&format!(
            "claims {blob_len} bytes, which do not fit its {block_count} blocks"
        )));
    }
    let tail = area
        .len()
        .checked_sub(BLOB_TAIL_LEN)
        .and_then(|at| area.get(at..))
        .ok_or_else(|| blob_err("is truncated"))?;
    if le_u32(tail, 4) != Some(blob_len) || tail.get(8..) != Some(BLOB_TAIL_MAGIC) {
        return Err(blob_err("has a damaged tail"));
    }
    let blob = usize::try_from(blob_len)
        .ok()
        .and_then(|len| area.get(BLOB_HEAD_LEN..)?.get(..len))
        .ok_or_else(|| blob_err("is truncated"))?;
    Ok(Some((pkgidx, blob)))
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..)?.get(..4)?;
    Some(u32::from_le_bytes(word.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::super::header::tests::package;
    use super::*;

    /// A one-slot-page NDB file holding `blobs` as packages 1, 2, … in slots 2, 3, ….
    fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
        let mut file = vec![0; PAGE_LEN];
        file[..4].copy_from_slice(b"RpmP");
        file[12..16].copy_from_slice(&1_u32.to_le_bytes());
        for slot in file[HEADER_LEN..].chunks_exact_mut(SLOT_LEN) {
            slot[..4].copy_from_slice(SLOT_MAGIC);
        }
        for (i, blob) in blobs.iter().enumerate() {
            let pkgidx = u32::try_from(i + 1).expect("few packages");
            let len = u32::try_from(blob.len()).expect("small blob");
            let start = file.len();
            file.extend_from_slice(BLOB_HEAD_MAGIC);
            file.extend_from_slice(&pkgidx.to_le_bytes());
            file.extend_from_slice(&0_u32.to_le_bytes());
            file.extend_from_slice(&len.to_le_bytes());
            file.extend_from_slice(blob);
            let padded = (file.len() + BLOB_TAIL_LEN).div_ceil(BLOCK_LEN) * BLOCK_LEN;
            file.resize(padded - BLOB_TAIL_LEN, 0);
            file.extend_from_slice(&0_u32.to_le_bytes());
            file.extend_from_slice(&len.to_le_bytes());
            file.extend_from_slice(BLOB_TAIL_MAGIC);
            let slot = HEADER_LEN + i * SLOT_LEN;
            let block_offset = u32::try_from(start / BLOCK_LEN).expect("small file");
            let block_count = u32::try_from((file.len() - start) / BLOCK_LEN).expect("small");
            file[slot + 4..slot + 8].copy_from_slice(&pkgidx.to_le_bytes());
            file[slot + 8..slot + 12].copy_from_slice(&block_offset.to_le_bytes());
            file[slot + 12..slot + 16].copy_from_slice(&block_count.to_le_bytes());
        }
        file
    }

    fn parse(bytes: &[u8]) -> Result<Vec<String>, RpmError> {
        let mut records = Records::new(bytes.len());
        read(bytes, &mut records)?;
        Ok(records.finish()?.into_iter().map(|p| p.name).collect())
    }

    fn set_slot_field(file: &mut [u8], slot: usize, field: usize, value: u32) {
        let at = slot * SLOT_LEN + field;
        file[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn reads_every_used_slot() {
        let file = ndb(&[package("bash"), package("zlib")]);
        assert_eq!(parse(&file).expect("readable"), ["bash", "zlib"]);
    }

    #[test]
    fn a_slot_past_the_end_is_skipped_and_named() {
        let mut file = ndb(&[package("bash"), package("zlib")]);
        set_slot_field(&mut file, 3, 8, u32::MAX);
        assert_eq!(parse(&file).expect("bash is still readable"), ["bash"]);

        set_slot_field(&mut file, 2, 12, 1 << 30);
        let err = parse(&file).expect_err("nothing readable");
        let RpmError::NothingReadable { first, .. } = err else {
            panic!("unexpected error {err:?}");
        };
        assert_eq!(first.to_string(), "NDB: slot 2 points past end of file");
    }

    #[test]
    fn a_slot_into_the_slot_pages_is_refused() {
        let mut file = ndb(&[package("bash")]);
        set_slot_field(&mut file, 2, 8, 2);
        assert!(parse(&file).is_err());
    }

    #[test]
    fn blob_length_must_match_the_blocks() {
        let mut file = ndb(&[package("bash")]);
        let blob_len_at = PAGE_LEN + 12;
        file[blob_len_at..blob_len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&file).is_err());
    }

    #[test]
    fn overlapping_slots_cannot_multiply_the_work() {
        // Every slot names the same blob: 254 packages read from one, which no real
        // database does, so the reader stops once the blobs outgrow the file.
        let mut file = ndb(&[package("bash")]);
        let (offset, count) = (PAGE_LEN / BLOCK_LEN, (file.len() - PAGE_LEN) / BLOCK_LEN);
        for slot in 2..PAGE_LEN / SLOT_LEN {
            set_slot_field(&mut file, slot, 4, 1);
            set_slot_field(&mut file, slot, 8, u32::try_from(offset).expect("small"));
            set_slot_field(&mut file, slot, 12, u32::try_from(count).expect("small"));
        }
        assert!(matches!(parse(&file), Err(RpmError::Oversized { .. })));
    }

    #[test]
    fn a_bad_file_header_is_an_error() {
        let mut file = ndb(&[package("bash")]);
        file[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            parse(&file)
                .expect_err("refused")
                .to_string()
                .contains("slot pages")
        );
        file[4] = 1;
        assert_eq!(
            parse(&file).expect_err("refused").to_string(),
            "NDB: unknown format version 1"
        );
        assert!(parse(b"RpmP").is_err());
    }
}
