//! `Packages`, the Berkeley DB hash database of rpm ≤ 4.15 (RHEL/CentOS ≤ 8, Amazon Linux 2,
//! SLES ≤ 15 SP2).
//!
//! The layout is Berkeley DB's "hash" access method (`dbinc/db_page.h`, `dbinc/hash.h`):
//!
//! - The file is an array of `pagesize`-byte pages. Page 0 is the metadata page: magic
//!   `0x061561` at 12, page size at 20, encryption at 24, page type (8, hash metadata) at 25,
//!   flags at 26, the highest bucket number at 72 and `spares[32]` at 96. Integers are in the
//!   byte order of the machine that created the file, which the magic reveals.
//! - Every other page starts with a 26-byte header: next page at 16, entry count (u16) at 20,
//!   `hf_offset` (u16) at 22, page type at 25. With page checksums (metadata flag 1) the header
//!   grows to 32 bytes; encrypted files cannot be read without their key.
//! - Bucket `b` starts on page `b + spares[ceil(log2(b + 1))]` and continues through the
//!   next-page links of its hash pages (type 13, or 2 before Berkeley DB 4.6).
//! - A hash page's header is followed by `entries` u16 item offsets. Items alternate key and
//!   data and are packed down from the page's end, so item `i` ends where item `i - 1` begins.
//!   An item's first byte is its kind: `H_KEYDATA` (1) holds its bytes inline, `H_OFFPAGE` (3)
//!   names the first page (u32 at 4) and total length (u32 at 8) of an overflow chain.
//! - Overflow pages (type 7) hold `hf_offset` bytes of the item after their header and link by
//!   their next-page field.
//!
//! rpm stores each package under a 4-byte key, its header number in the file's byte order, with
//! the header blob as data. Key 0 is rpm's counter of header numbers, not a package.
//!
//! Quirks:
//! - Berkeley DB allocates a doubling's bucket pages together but writes them only when used,
//!   so a bucket page can lie past the end of the file or be all zeroes: an empty bucket.
//! - Links come from the file. Each page is read at most once, as part of at most one item,
//!   which bounds the work by the page count even on cyclic chains.

use super::{Records, RpmError};

const METADATA_LEN: usize = 512;
const PAGE_HEADER_LEN: usize = 26;
/// Two bytes of alignment and a 4-byte checksum follow the page header when checksums are on.
const CHECKSUMMED_PAGE_HEADER_LEN: usize = 32;

const PAGE_INVALID: u8 = 0;
const PAGE_HASH_UNSORTED: u8 = 2;
const PAGE_OVERFLOW: u8 = 7;
const PAGE_HASH_METADATA: u8 = 8;
const PAGE_HASH: u8 = 13;

const ITEM_KEYDATA: u8 = 1;
const ITEM_OFFPAGE: u8 = 3;
const OFFPAGE_LEN: usize = 12;

const METADATA_CHECKSUM: u8 = 0x01;

pub(super) fn has_magic(bytes: &[u8]) -> bool {
    ByteOrder::detect(bytes).is_some()
}

#[derive(Debug, Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    fn detect(bytes: &[u8]) -> Option<Self> {
        let magic: [u8; 4] = bytes.get(12..16)?.try_into().ok()?;
        if u32::from_le_bytes(magic) == super::BDB_HASH_MAGIC {
            Some(ByteOrder::Little)
        } else if u32::from_be_bytes(magic) == super::BDB_HASH_MAGIC {
            Some(ByteOrder::Big)
        } else {
            None
        }
    }

    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let word: [u8; 4] = bytes.get(at..)?.get(..4)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(word),
            ByteOrder::Big => u32::from_be_bytes(word),
        })
    }

    fn u16(self, bytes: &[u8], at: usize) -> Option<usize> {
        let word: [u8; 2] = bytes.get(at..)?.get(..2)?.try_into().ok()?;
        Some(usize::from(match self {
            ByteOrder::Little => u16::from_le_bytes(word),
            ByteOrder::Big => u16::from_be_bytes(word),
        }))
    }
}

pub(super) fn read(bytes: &[u8], records: &mut Records) -> Result<(), RpmError> {
    let db = Db::open(bytes)?;
    let mut hash_pages_seen = vec![false; db.pages];
    let mut overflow_pages_seen = vec![false; db.pages];
    // Bucket b starts on a page numbered at least b, so buckets past the page count cannot
    // start inside the file, whatever the metadata claims.
    let last_bucket = db.max_bucket.min(db.pages);
    for bucket in 0..=last_bucket {
        let Some(first) = db.bucket_page(bucket) else {
            records.corrupt(RpmError::Bdb(format!(
                "bucket {bucket} has no valid start page"
            )));
            continue;
        };
        let mut pgno = first;
        while pgno != 0 {
            let Some((index, page)) = db.page(pgno) else {
                if pgno != first {
                    records.corrupt(RpmError::Bdb(format!(
                        "bucket {bucket} links to page {pgno}, past the end of the file"
                    )));
                }
                break;
            };
            let Some(seen) = hash_pages_seen.get_mut(index).filter(|seen| !**seen) else {
                records.corrupt(RpmError::Bdb(format!(
                    "bucket {bucket} reaches page {pgno} a second time"
                )));
                break;
            };
            *seen = true;
            match page.get(25).copied() {
                Some(PAGE_HASH | PAGE_HASH_UNSORTED) => {}
                Some(PAGE_INVALID) if pgno == first => break,
                kind => {
                    records.corrupt(RpmError::Bdb(format!(
                        "bucket {bucket}: page {pgno} has type {kind:?}, not a hash page"
                    )));
                    break;
                }
            }
            db.read_hash_page(pgno, page, records, &mut overflow_pages_seen)?;
            pgno = db.order.u32(page, 16).unwrap_or(0);
        }
    }
    Ok(())
}

struct Db<'a> {
    bytes: &'a [u8],
    order: ByteOrder,
    page_len: usize,
    page_header_len: usize,
    pages: usize,
    max_bucket: usize,
    spares: [u32; 32],
}

impl<'a> Db<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, RpmError> {
        let meta = bytes.get(..METADATA_LEN).ok_or_else(|| {
            RpmError::Bdb(format!(
                "file is {} bytes, shorter than a {METADATA_LEN}-byte metadata page",
                bytes.len()
            ))
        })?;
        let order =
            ByteOrder::detect(meta).ok_or_else(|| RpmError::Bdb("no hash magic".to_owned()))?;
        let field = |at| order.u32(meta, at).unwrap_or(0);
        let page_type = meta.get(25).copied().unwrap_or(0);
        if page_type != PAGE_HASH_METADATA {
            return Err(RpmError::Bdb(format!(
                "page 0 has type {page_type}, not a hash metadata page"
            )));
        }
        if meta.get(24).copied().unwrap_or(0) != 0 {
            return Err(RpmError::Bdb("the database is encrypted".to_owned()));
        }
        let page_len = usize::try_from(field(20))
            .ok()
            .filter(|len| len.is_power_of_two() && (512..=65536).contains(len))
            .ok_or_else(|| {
                RpmError::Bdb(format!(
                    "page size {} is not a power of two in 512..=65536",
                    field(20)
                ))
            })?;
        let page_header_len = if meta.get(26).copied().unwrap_or(0) & METADATA_CHECKSUM == 0 {
            PAGE_HEADER_LEN
        } else {
            CHECKSUMMED_PAGE_HEADER_LEN
        };
        let mut spares = [0; 32];
        for (i, spare) in spares.iter_mut().enumerate() {
            *spare = field(96 + 4 * i);
        }
        Ok(Db {
            bytes,
            order,
            page_len,
            page_header_len,
            pages: bytes.len() / page_len,
            max_bucket: usize::try_from(field(72)).unwrap_or(usize::MAX),
            spares,
        })
    }

    /// Page `pgno` and its index, if it lies inside the file.
    fn page(&self, pgno: u32) -> Option<(usize, &'a [u8])> {
        let index = usize::try_from(pgno)
            .ok()
            .filter(|&index| index < self.pages)?;
        let start = index.checked_mul(self.page_len)?;
        Some((index, self.bytes.get(start..)?.get(..self.page_len)?))
    }

    fn bucket_page(&self, bucket: usize) -> Option<u32> {
        // ceil(log2(bucket + 1)): the doubling this bucket was created in.
        let doubling = usize::try_from(
            bucket
                .checked_add(1)?
                .checked_next_power_of_two()?
                .trailing_zeros(),
        )
        .ok()?;
        let spare = *self.spares.get(doubling)?;
        u32::try_from(bucket)
            .ok()?
            .checked_add(spare)
            .filter(|&pgno| pgno != 0)
    }

    /// Hand every key/data pair of a hash page to `records`.
    fn read_hash_page(
        &self,
        pgno: u32,
        page: &[u8],
        records: &mut Records,
        overflow_pages_seen: &mut [bool],
    ) -> Result<(), RpmError> {
        let items = match self.items(page) {
            Ok(items) => items,
            Err(what) => {
                records.corrupt(RpmError::Bdb(format!("page {pgno}: {what}")));
                return Ok(());
            }
        };
        for (pair, key_data) in items.chunks_exact(2).enumerate() {
            let [key, data] = key_data else { continue };
            let hnum = match key {
                [ITEM_KEYDATA, rest @ ..] if rest.len() == 4 => {
                    self.order.u32(rest, 0).unwrap_or(0)
                }
                _ => {
                    records.corrupt(RpmError::Bdb(format!(
                        "page {pgno}, pair {pair}: key is not a 4-byte header number"
                    )));
                    continue;
                }
            };
            if hnum == 0 {
                continue;
            }
            match data {
                [ITEM_KEYDATA, blob @ ..] => records.header(i64::from(hnum), blob)?,
                [ITEM_OFFPAGE, ..] if data.len() >= OFFPAGE_LEN => {
                    let first = self.order.u32(data, 4).unwrap_or(0);
                    let len = self.order.u32(data, 8).unwrap_or(0);
                    match self.overflow(first, len, overflow_pages_seen) {
                        Ok(blob) => records.header(i64::from(hnum), &blob)?,
                        Err(what) => records.corrupt(RpmError::Bdb(format!(
                            "header #{hnum} (page {pgno}): {what}"
                        ))),
                    }
                }
                _ => records.corrupt(RpmError::Bdb(format!(
                    "header #{hnum} (page {pgno}): data item of kind {:?}, which rpm does not write",
                    data.first()
                ))),
            }
        }
        Ok(())
    }

    /// The items of a hash page, each checked to lie between the offset table and the item
    /// before it.
    fn items<'p>(&self, page: &'p [u8]) -> Result<Vec<&'p [u8]>, String> {
        let entries = self.order.u16(page, 20).unwrap_or(0);
        let table_end = entries
            .checked_mul(2)
            .map(|len| len + self.page_header_len)
            .filter(|&end| end <= self.page_len)
            .ok_or_else(|| format!("{entries} item offsets do not fit in the page"))?;
        let mut items = Vec::with_capacity(entries);
        let mut end = self.page_len;
        for i in 0..entries {
            let start = self
                .order
                .u16(page, self.page_header_len + 2 * i)
                .unwrap_or(0);
            if start < table_end || start >= end {
                return Err(format!(
                    "item {i} at offset {start} overlaps its neighbours"
                ));
            }
            items.push(
                page.get(start..end)
                    .ok_or_else(|| format!("item {i} is outside the page"))?,
            );
            end = start;
        }
        Ok(items)
    }

    /// The `len` bytes of the overflow chain starting at page `first`.
    fn overflow(&self, first: u32, len: u32, seen: &mut [bool]) -> Result<Vec<u8>, String> {
        let capacity = self
            .pages
            .saturating_mul(self.page_len - self.page_header_len);
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= capacity)
            .ok_or_else(|| format!("overflow item of {len} bytes is larger than the file"))?;
        let mut blob = Vec::with_capacity(len);
        let mut pgno = first;
        while blob.len() < len {
            if pgno == 0 {
                return Err(format!(
                    "overflow chain ends after {} of {len} bytes",
                    blob.len()
                ));
            }
            let (index, page) = self
                .page(pgno)
                .ok_or_else(|| format!("overflow page {pgno} is past the end of the file"))?;
            let seen = seen
                .get_mut(index)
                .filter(|seen| !**seen)
                .ok_or_else(|| format!("overflow page {pgno} is already part of an item"))?;
            *seen = true;
            if page.get(25) != Some(&PAGE_OVERFLOW) {
                return Err(format!(
                    "page {pgno} in an overflow chain is not an overflow page"
                ));
            }
            let on_page = self.order.u16(page, 22).unwrap_or(0);
            let chunk = page
                .get(self.page_header_len..)
                .and_then(|data| data.get(..on_page))
                .ok_or_else(|| format!("overflow page {pgno} claims {on_page} bytes"))?;
            let wanted = (len - blob.len()).min(chunk.len());
            blob.extend_from_slice(chunk.get(..wanted).unwrap_or_default());
            pgno = self.order.u32(page, 16).unwrap_or(0);
        }
        Ok(blob)
    }
}

#[cfg(test)]
mod tests {
    use super::super::header::tests::{blob, package, string};
    use super::*;

    const PAGE: usize = 512;

    /// A Berkeley DB hash file of 512-byte pages, built page by page.
    struct Builder {
        order: ByteOrder,
        pages: Vec<Vec<u8>>,
    }

    impl Builder {
        /// Metadata for one bucket, whose hash page is page 1.
        fn new(order: ByteOrder) -> Self {
            let mut builder = Builder {
                order,
                pages: vec![vec![0; PAGE]],
            };
            builder.put_u32(0, 12, super::super::BDB_HASH_MAGIC);
            builder.put_u32(0, 16, 9);
            builder.put_u32(0, 20, 512);
            builder.pages[0][25] = PAGE_HASH_METADATA;
            builder.put_u32(0, 72, 0);
            builder.put_u32(0, 96, 1);
            builder.new_page(PAGE_HASH, 0);
            builder
        }

        fn put_u32(&mut self, page: usize, at: usize, value: u32) {
            let bytes = match self.order {
                ByteOrder::Little => value.to_le_bytes(),
                ByteOrder::Big => value.to_be_bytes(),
            };
            self.pages[page][at..at + 4].copy_from_slice(&bytes);
        }

        fn put_u16(&mut self, page: usize, at: usize, value: usize) {
            let value = u16::try_from(value).expect("fits a page");
            let bytes = match self.order {
                ByteOrder::Little => value.to_le_bytes(),
                ByteOrder::Big => value.to_be_bytes(),
            };
            self.pages[page][at..at + 2].copy_from_slice(&bytes);
        }

        fn key(&self, hnum: u32) -> Vec<u8> {
            let mut key = vec![ITEM_KEYDATA];
            key.extend_from_slice(&match self.order {
                ByteOrder::Little => hnum.to_le_bytes(),
                ByteOrder::Big => hnum.to_be_bytes(),
            });
            key
        }

        /// Fill hash page `page` with `items` (key, data, key, data, …).
        fn fill_hash_page(&mut self, page: usize, items: &[Vec<u8>]) {
            self.put_u16(page, 20, items.len());
            let mut end = PAGE;
            for (i, item) in items.iter().enumerate() {
                let start = end - item.len();
                self.pages[page][start..end].copy_from_slice(item);
                self.put_u16(page, PAGE_HEADER_LEN + 2 * i, start);
                end = start;
            }
        }

        /// Overflow pages holding `data`; returns the item pointing at them.
        fn overflow(&mut self, data: &[u8]) -> Vec<u8> {
            let first = self.pages.len();
            let chunks: Vec<&[u8]> = data.chunks(PAGE - PAGE_HEADER_LEN).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                let next = if i + 1 == chunks.len() {
                    0
                } else {
                    first + i + 1
                };
                let page = self.new_page(PAGE_OVERFLOW, u32::try_from(next).expect("small"));
                self.put_u16(page, 22, chunk.len());
                self.pages[page][PAGE_HEADER_LEN..PAGE_HEADER_LEN + chunk.len()]
                    .copy_from_slice(chunk);
            }
            let mut item = vec![ITEM_OFFPAGE, 0, 0, 0];
            let (pgno, len) = (u32::try_from(first), u32::try_from(data.len()));
            for value in [pgno.expect("small"), len.expect("small")] {
                item.extend_from_slice(&match self.order {
                    ByteOrder::Little => value.to_le_bytes(),
                    ByteOrder::Big => value.to_be_bytes(),
                });
            }
            item
        }

        fn new_page(&mut self, kind: u8, next: u32) -> usize {
            let page = self.pages.len();
            self.pages.push(vec![0; PAGE]);
            self.put_u32(page, 8, u32::try_from(page).expect("small"));
            self.put_u32(page, 16, next);
            self.pages[page][25] = kind;
            page
        }

        fn bytes(&self) -> Vec<u8> {
            self.pages.concat()
        }
    }

    fn parse(bytes: &[u8]) -> Result<Vec<String>, RpmError> {
        let mut records = Records::new(bytes.len());
        read(bytes, &mut records)?;
        Ok(records.finish()?.into_iter().map(|p| p.name).collect())
    }

    /// Bucket 0 on page 1 with rpm's counter record, an overflow header and an inline one.
    fn two_packages(order: ByteOrder) -> Builder {
        let mut db = Builder::new(order);
        let overflow = db.overflow(&package("bash"));
        let mut inline = vec![ITEM_KEYDATA];
        inline.extend_from_slice(&blob(&[
            string(1000, "tiny"),
            string(1001, "1"),
            string(1002, "1"),
        ]));
        let items = [
            db.key(0),
            vec![ITEM_KEYDATA, 3, 0, 0, 0],
            db.key(1),
            overflow,
            db.key(2),
            inline,
        ];
        db.fill_hash_page(1, &items);
        db
    }

    /// Where `two_packages` puts the overflow item: items are packed down from the page end,
    /// after the 5-byte counter key, counter data and key 1.
    const OVERFLOW_ITEM: usize = PAGE - 5 - 5 - 5 - OFFPAGE_LEN;

    #[test]
    fn reads_inline_and_overflow_headers_in_both_byte_orders() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let bytes = two_packages(order).bytes();
            assert!(has_magic(&bytes));
            assert_eq!(
                parse(&bytes).expect("readable"),
                ["bash", "tiny"],
                "{order:?}"
            );
        }
    }

    #[test]
    fn a_cyclic_overflow_chain_ends() {
        let mut db = two_packages(ByteOrder::Little);
        let last = db.pages.len() - 1;
        db.put_u32(last, 16, 2);
        // The chain loops back to its first page before its length is reached.
        db.put_u16(last, 22, 1);
        assert_eq!(parse(&db.bytes()).expect("tiny survives"), ["tiny"]);
    }

    #[test]
    fn a_cyclic_bucket_chain_ends() {
        let mut db = two_packages(ByteOrder::Little);
        db.put_u32(1, 16, 1);
        assert_eq!(parse(&db.bytes()).expect("readable"), ["bash", "tiny"]);
    }

    #[test]
    fn overlapping_items_are_refused() {
        let mut db = two_packages(ByteOrder::Little);
        db.put_u16(1, PAGE_HEADER_LEN + 2, PAGE - 1);
        assert!(parse(&db.bytes()).is_err());
        db.put_u16(1, 20, 60_000);
        assert!(parse(&db.bytes()).is_err());
    }

    #[test]
    fn a_huge_overflow_length_is_refused_without_allocating() {
        let mut db = two_packages(ByteOrder::Little);
        db.put_u32(1, OVERFLOW_ITEM + 8, u32::MAX);
        assert_eq!(parse(&db.bytes()).expect("tiny survives"), ["tiny"]);
    }

    #[test]
    fn a_bucket_page_past_the_end_is_an_empty_bucket() {
        let mut db = two_packages(ByteOrder::Little);
        db.put_u32(0, 72, 3);
        db.put_u32(0, 100, 100);
        db.put_u32(0, 104, 100);
        assert_eq!(parse(&db.bytes()).expect("readable"), ["bash", "tiny"]);
        // A max_bucket far past the page count must not loop for ages either.
        db.put_u32(0, 72, u32::MAX);
        assert_eq!(parse(&db.bytes()).expect("readable"), ["bash", "tiny"]);
    }

    #[test]
    fn bad_metadata_is_an_error() {
        let good = two_packages(ByteOrder::Little);
        for (at, value, message) in [(20, 1000, "page size 1000"), (20, 0, "page size 0")] {
            let mut db = Builder {
                order: good.order,
                pages: good.pages.clone(),
            };
            db.put_u32(0, at, value);
            let err = parse(&db.bytes()).expect_err("refused").to_string();
            assert!(err.contains(message), "{err}");
        }
        let mut bytes = good.bytes();
        bytes[24] = 1;
        assert_eq!(
            parse(&bytes).expect_err("refused").to_string(),
            "Berkeley DB: the database is encrypted"
        );
        assert!(parse(&bytes[..100]).is_err());
    }
}
