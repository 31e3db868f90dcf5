//! The rpm header blob: one installed package as rpm stores it in its database.
//!
//! A `.rpm` file carries a lead, a signature header and the main header behind an 8-byte
//! header magic. The database keeps only the main header, without the magic:
//!
//! ```text
//! il  u32 BE                  number of index entries
//! dl  u32 BE                  size of the data store
//! il × 16 bytes               { tag u32 BE, type u32 BE, offset i32 BE, count u32 BE }
//! dl bytes                    data store
//! ```
//!
//! An entry's value starts at `offset` in the data store, and `type` says how to read
//! `count` values there: `STRING` (6) is one NUL-terminated string, `STRING_ARRAY` (8) and
//! `I18NSTRING` (9) are `count` of them back to back, `INT32` (4) is `count` big-endian `u32`s.
//!
//! Quirks:
//! - The first entry is normally a region tag (`HEADER_IMMUTABLE`, 63) pointing at a trailer that
//!   describes the signed part of the header. Nothing here needs it, and digests are not
//!   checked: the database is read as it is, as `rpm -qa` does.
//! - A tag can appear twice. When rpm changes an installed header it appends "dribble" entries
//!   after the immutable region, and those replace the region's values, so the last entry wins.
//! - File names are stored split: file `i` is `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, where
//!   every dirname ends in `/`. Headers written by very old rpm versions carry the full paths in
//!   `OLDFILENAMES` instead.
//! - Strings are bytes; rpm does not promise UTF-8, so invalid sequences become U+FFFD.

use super::RpmPackage;

const PREAMBLE_LEN: usize = 8;
const ENTRY_LEN: usize = 16;

/// How much bigger than its header blob a package's joined file list may get. Joining repeats
/// each dirname for every file in it: real packages stay under ~20× (deep directories of short
/// names), while a hostile header could point a million basenames at one huge dirname.
const FILE_LIST_EXPANSION: usize = 64;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

#[derive(Debug, Clone, Copy)]
struct Tag {
    number: u32,
    name: &'static str,
}

const NAME: Tag = Tag {
    number: 1000,
    name: "NAME",
};
const VERSION: Tag = Tag {
    number: 1001,
    name: "VERSION",
};
const RELEASE: Tag = Tag {
    number: 1002,
    name: "RELEASE",
};
const EPOCH: Tag = Tag {
    number: 1003,
    name: "EPOCH",
};
const VENDOR: Tag = Tag {
    number: 1011,
    name: "VENDOR",
};
const LICENSE: Tag = Tag {
    number: 1014,
    name: "LICENSE",
};
const ARCH: Tag = Tag {
    number: 1022,
    name: "ARCH",
};
const OLDFILENAMES: Tag = Tag {
    number: 1027,
    name: "OLDFILENAMES",
};
const SOURCERPM: Tag = Tag {
    number: 1044,
    name: "SOURCERPM",
};
const PROVIDENAME: Tag = Tag {
    number: 1047,
    name: "PROVIDENAME",
};
const REQUIRENAME: Tag = Tag {
    number: 1049,
    name: "REQUIRENAME",
};
const DIRINDEXES: Tag = Tag {
    number: 1116,
    name: "DIRINDEXES",
};
const BASENAMES: Tag = Tag {
    number: 1117,
    name: "BASENAMES",
};
const DIRNAMES: Tag = Tag {
    number: 1118,
    name: "DIRNAMES",
};

/// Why one header blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeaderError {
    #[error("blob is {len} bytes, too short for the 8-byte index count and data size")]
    TooShort { len: usize },
    #[error("index count {count} needs {needed} bytes but only {available} follow")]
    IndexTooLarge {
        count: u32,
        needed: u64,
        available: usize,
    },
    #[error("data store size {size} is larger than the {available} bytes after the index")]
    DataTooLarge { size: u32, available: usize },
    #[error("{tag}: offset {offset} is outside the {size}-byte data store")]
    BadOffset {
        tag: &'static str,
        offset: i32,
        size: usize,
    },
    #[error("{tag}: value has type {found}, expected {expected}")]
    WrongType {
        tag: &'static str,
        found: u32,
        expected: &'static str,
    },
    #[error("{tag}: count {count} does not fit in the {available} bytes left in the data store")]
    CountTooLarge {
        tag: &'static str,
        count: u32,
        available: usize,
    },
    #[error("{tag}: string runs past the end of the data store")]
    Unterminated { tag: &'static str },
    #[error("required tag {tag} is missing")]
    Missing { tag: &'static str },
    #[error("BASENAMES has {basenames} entries but DIRINDEXES has {dirindexes}")]
    FileArrays { basenames: usize, dirindexes: usize },
    #[error("DIRINDEXES entry {index} points past the {dirnames} DIRNAMES")]
    DirIndex { index: u32, dirnames: usize },
    #[error("file list expands past {limit} bytes, {FILE_LIST_EXPANSION}× the header's size")]
    FileListTooLarge { limit: usize },
}

/// Read the package a header blob describes.
pub(super) fn parse_package(blob: &[u8]) -> Result<RpmPackage, HeaderError> {
    let header = Header::parse(blob)?;
    Ok(RpmPackage {
        name: header.required(NAME)?,
        epoch: header
            .int32s(EPOCH)?
            .and_then(|epochs| epochs.first().copied()),
        version: header.required(VERSION)?,
        release: header.required(RELEASE)?,
        arch: header.string(ARCH)?.map(text),
        source_rpm: header.string(SOURCERPM)?.map(text),
        license: header.string(LICENSE)?.map(text).filter(|s| !s.is_empty()),
        vendor: header.string(VENDOR)?.map(text).filter(|s| !s.is_empty()),
        // Dependencies are an extra: a header whose lists are malformed still names the
        // package, without them.
        requires: header
            .strings(REQUIRENAME)
            .ok()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .map(text)
            .filter(|r| !r.starts_with("rpmlib("))
            .collect(),
        provides: header
            .strings(PROVIDENAME)
            .ok()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .map(text)
            .collect(),
        files: file_list(&header, blob.len())?,
    })
}

fn file_list(header: &Header<'_>, blob_len: usize) -> Result<Vec<String>, HeaderError> {
    let Some(basenames) = header.strings(BASENAMES)? else {
        return Ok(header
            .strings(OLDFILENAMES)?
            .unwrap_or_default()
            .into_iter()
            .map(text)
            .collect());
    };
    let dirnames = header.strings(DIRNAMES)?.unwrap_or_default();
    let dirindexes = header.int32s(DIRINDEXES)?.unwrap_or_default();
    if dirindexes.len() != basenames.len() {
        return Err(HeaderError::FileArrays {
            basenames: basenames.len(),
            dirindexes: dirindexes.len(),
        });
    }
    let limit = blob_len.saturating_mul(FILE_LIST_EXPANSION);
    let mut spent = 0_usize;
    let mut files = Vec::with_capacity(basenames.len());
    for (basename, &index) in basenames.iter().zip(&dirindexes) {
        let dirname = usize::try_from(index)
            .ok()
            .and_then(|i| dirnames.get(i))
            .ok_or(HeaderError::DirIndex {
                index,
                dirnames: dirnames.len(),
            })?;
        // The extra byte charges each path for existing, so that a million empty names
        // cannot slip under the limit.
        spent = spent.saturating_add(dirname.len() + basename.len() + 1);
        if spent > limit {
            return Err(HeaderError::FileListTooLarge { limit });
        }
        let mut path = Vec::with_capacity(dirname.len() + basename.len());
        path.extend_from_slice(dirname);
        path.extend_from_slice(basename);
        files.push(match String::from_utf8(path) {
            Ok(path) => path,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        });
    }
    Ok(files)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A header blob split into its index and data store, both checked to lie inside the blob.
/// Entries are looked up in place rather than copied out, so a huge index count costs nothing
/// until it is proven to fit.
struct Header<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    kind: u32,
    offset: i32,
    count: u32,
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, HeaderError> {
        let too_short = HeaderError::TooShort { len: blob.len() };
        let il = be_u32(blob, 0).ok_or_else(|| too_short.clone())?;
        let dl = be_u32(blob, 4).ok_or_else(|| too_short.clone())?;
        let rest = blob.get(PREAMBLE_LEN..).ok_or(too_short)?;
        let index_len = usize::try_from(il)
            .ok()
            .and_then(|il| il.checked_mul(ENTRY_LEN))
            .filter(|&len| len <= rest.len())
            .ok_or(HeaderError::IndexTooLarge {
                count: il,
                needed: u64::from(il) * ENTRY_LEN as u64,
                available: rest.len(),
            })?;
        let (index, rest) = rest.split_at(index_len);
        let data = usize::try_from(dl)
            .ok()
            .and_then(|dl| rest.get(..dl))
            .ok_or(HeaderError::DataTooLarge {
                size: dl,
                available: rest.len(),
            })?;
        Ok(Header { index, data })
    }

    /// The last entry for `tag`, as rpm lets dribble entries override the region's.
    fn entry(&self, tag: Tag) -> Option<Entry> {
        self.index.chunks_exact(ENTRY_LEN).rev().find_map(|entry| {
            (be_u32(entry, 0)? == tag.number).then_some(Entry {
                kind: be_u32(entry, 4)?,
                offset: i32::from_be_bytes(entry.get(8..12)?.try_into().ok()?),
                count: be_u32(entry, 12)?,
            })
        })
    }

    /// The data store from the entry's offset to its end.
    fn value(&self, tag: Tag, entry: Entry) -> Result<&'a [u8], HeaderError> {
        usize::try_from(entry.offset)
            .ok()
            .and_then(|offset| self.data.get(offset..))
            .ok_or(HeaderError::BadOffset {
                tag: tag.name,
                offset: entry.offset,
                size: self.data.len(),
            })
    }

    fn required(&self, tag: Tag) -> Result<String, HeaderError> {
        self.string(tag)?
            .map(text)
            .ok_or(HeaderError::Missing { tag: tag.name })
    }

    /// A single string; for the array types, their first element, as rpm's `%{TAG}` prints.
    fn string(&self, tag: Tag) -> Result<Option<&'a [u8]>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if !matches!(
            entry.kind,
            TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING
        ) {
            return Err(HeaderError::WrongType {
                tag: tag.name,
                found: entry.kind,
                expected: "a string",
            });
        }
        // An empty array has no first element; rpm prints such a tag as absent.
        if entry.kind != TYPE_STRING && entry.count == 0 {
            return Ok(None);
        }
        let value = self.value(tag, entry)?;
        let end = value
            .iter()
            .position(|&b| b == 0)
            .ok_or(HeaderError::Unterminated { tag: tag.name })?;
        Ok(value.get(..end))
    }

    fn strings(&self, tag: Tag) -> Result<Option<Vec<&'a [u8]>>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if !matches!(entry.kind, TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(HeaderError::WrongType {
                tag: tag.name,
                found: entry.kind,
                expected: "a string array",
            });
        }
        let value = self.value(tag, entry)?;
        // Every string takes at least its NUL, so the count can be checked before anything is
        // allocated for it.
        let count = usize::try_from(entry.count)
            .ok()
            .filter(|&count| count <= value.len())
            .ok_or(HeaderError::CountTooLarge {
                tag: tag.name,
                count: entry.count,
                available: value.len(),
            })?;
        let mut pieces = value.splitn(count + 1, |&b| b == 0);
        let strings: Vec<&[u8]> = pieces.by_ref().take(count).collect();
        // With `count` NULs there is a piece after the last string, even if empty; without,
        // the last string ran off the end.
        if pieces.next().is_none() {
            return Err(HeaderError::Unterminated { tag: tag.name });
        }
        Ok(Some(strings))
    }

    fn int32s(&self, tag: Tag) -> Result<Option<Vec<u32>>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if entry.kind != TYPE_INT32 {
            return Err(HeaderError::WrongType {
                tag: tag.name,
                found: entry.kind,
                expected: "INT32",
            });
        }
        let value = self.value(tag, entry)?;
        let bytes = usize::try_from(entry.count)
            .ok()
            .and_then(|count| count.checked_mul(4))
            .and_then(|len| value.get(..len))
            .ok_or(HeaderError::CountTooLarge {
                tag: tag.name,
                count: entry.count,
                available: value.len(),
            })?;
        Ok(Some(
            bytes
                .chunks_exact(4)
                .filter_map(|chunk| chunk.try_into().ok().map(u32::from_be_bytes))
                .collect(),
        ))
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..)?.get(..4)?;
    Some(u32::from_be_bytes(word.try_into().ok()?))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// One index entry of a hand-built header: its data is laid out in order in the store.
    pub(crate) struct Field {
        pub(crate) tag: u32,
        pub(crate) kind: u32,
        pub(crate) count: u32,
        pub(crate) data: Vec<u8>,
    }

    pub(crate) fn string(tag: u32, value: &str) -> Field {
        let mut data = value.as_bytes().to_vec();
        data.push(0);
        Field {
            tag,
            kind: TYPE_STRING,
            count: 1,
            data,
        }
    }

    pub(crate) fn strings(tag: u32, values: &[&str]) -> Field {
        let mut data = Vec::new();
        for value in values {
            data.extend_from_slice(value.as_bytes());
            data.push(0);
        }
        let count = u32::try_from(values.len()).expect("test arrays are small");
        Field {
            tag,
            kind: TYPE_STRING_ARRAY,
            count,
            data,
        }
    }

    pub(crate) fn int32s(tag: u32, values: &[u32]) -> Field {
        let data = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let count = u32::try_from(values.len()).expect("test arrays are small");
        Field {
            tag,
            kind: TYPE_INT32,
            count,
            data,
        }
    }

    pub(crate) fn blob(fields: &[Field]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for field in fields {
            let offset = u32::try_from(data.len()).expect("test headers are small");
            index.extend_from_slice(&field.tag.to_be_bytes());
            index.extend_from_slice(&field.kind.to_be_bytes());
            index.extend_from_slice(&offset.to_be_bytes());
            index.extend_from_slice(&field.count.to_be_bytes());
            data.extend_from_slice(&field.data);
        }
        let il = u32::try_from(fields.len()).expect("test headers are small");
        let dl = u32::try_from(data.len()).expect("test headers are small");
        let mut blob = il.to_be_bytes().to_vec();
        blob.extend_from_slice(&dl.to_be_bytes());
        blob.extend_from_slice(&index);
        blob.extend_from_slice(&data);
        blob
    }

    /// A plausible package header, as rpm would write it for `name`.
    pub(crate) fn package(name: &str) -> Vec<u8> {
        blob(&[
            string(1000, name),
            string(1001, "1.2.3"),
            string(1002, "4.el9"),
            int32s(1003, &[2]),
            string(1022, "x86_64"),
            string(1044, &format!("{name}-1.2.3-4.el9.src.rpm")),
            int32s(1116, &[0, 1, 1]),
            strings(1117, &["bin", "a.so", "b.so"]),
            strings(1118, &["/usr/", "/usr/lib64/"]),
        ])
    }

    fn set_u32(blob: &mut [u8], at: usize, value: u32) {
        blob[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }

    /// Byte position of the index entry field `field` (0 tag, 4 type, 8 offset, 12 count).
    fn entry_field(entry: usize, field: usize) -> usize {
        PREAMBLE_LEN + entry * ENTRY_LEN + field
    }

    #[test]
    fn reads_every_field() {
        let pkg = parse_package(&package("zlib")).expect("valid header");
        assert_eq!(
            pkg,
            RpmPackage {
                name: "zlib".to_owned(),
                epoch: Some(2),
                version: "1.2.3".to_owned(),
                release: "4.el9".to_owned(),
                arch: Some("x86_64".to_owned()),
                source_rpm: Some("zlib-1.2.3-4.el9.src.rpm".to_owned()),
                license: None,
                vendor: None,
                requires: Vec::new(),
                provides: Vec::new(),
                files: vec![
                    "/usr/bin".to_owned(),
                    "/usr/lib64/a.so".to_owned(),
                    "/usr/lib64/b.so".to_owned()
                ],
            }
        );
    }

    #[test]
    fn optional_tags_may_be_absent() {
        let blob = blob(&[
            string(1000, "gpg-pubkey"),
            string(1001, "8783d481"),
            string(1002, "63ceb953"),
        ]);
        let pkg = parse_package(&blob).expect("valid header");
        assert_eq!((pkg.epoch, pkg.arch, pkg.source_rpm), (None, None, None));
        assert!(pkg.files.is_empty());
    }

    #[test]
    fn a_later_entry_overrides_an_earlier_one() {
        let blob = blob(&[
            string(1000, "old"),
            string(1001, "1"),
            string(1002, "1"),
            string(1000, "new"),
        ]);
        assert_eq!(parse_package(&blob).expect("valid header").name, "new");
    }

    #[test]
    fn old_headers_list_full_paths() {
        let blob = blob(&[
            string(1000, "ancient"),
            string(1001, "1"),
            string(1002, "1"),
            strings(1027, &["/etc/a", "/etc/b"]),
        ]);
        assert_eq!(
            parse_package(&blob).expect("valid header").files,
            ["/etc/a", "/etc/b"]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut name = string(1000, "x");
        name.data = vec![b'a', 0xff, 0];
        let blob = blob(&[name, string(1001, "1"), string(1002, "1")]);
        assert_eq!(
            parse_package(&blob).expect("valid header").name,
            "a\u{fffd}"
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let whole = package("bash");
        for len in 0..whole.len() {
            assert!(
                parse_package(&whole[..len]).is_err(),
                "prefix of {len} bytes parsed"
            );
        }
    }

    #[test]
    fn index_count_of_2_pow_31_is_rejected_without_allocating() {
        let mut blob = package("bash");
        set_u32(&mut blob, 0, 1 << 31);
        assert!(matches!(
            parse_package(&blob),
            Err(HeaderError::IndexTooLarge {
                count: 0x8000_0000,
                ..
            })
        ));
        set_u32(&mut blob, 0, u32::MAX);
        assert!(matches!(
            parse_package(&blob),
            Err(HeaderError::IndexTooLarge { .. })
        ));
    }

    #[test]
    fn data_size_past_the_end_is_rejected() {
        let mut blob = package("bash");
        set_u32(&mut blob, 4, u32::MAX);
        assert!(matches!(
            parse_package(&blob),
            Err(HeaderError::DataTooLarge { .. })
        ));
    }

    #[test]
    fn offsets_outside_the_data_store_are_rejected() {
        for offset in [u32::MAX, 0x7fff_ffff, 1 << 20] {
            let mut blob = package("bash");
            set_u32(&mut blob, entry_field(0, 8), offset);
            assert!(
                matches!(
                    parse_package(&blob),
                    Err(HeaderError::BadOffset { tag: "NAME", .. })
                ),
                "offset {offset:#x}"
            );
        }
    }

    #[test]
    fn a_string_without_its_nul_is_rejected() {
        let mut name = string(1000, "bash");
        name.data.pop();
        let blob = blob(&[string(1001, "1"), string(1002, "1"), name]);
        assert_eq!(
            parse_package(&blob),
            Err(HeaderError::Unterminated { tag: "NAME" })
        );
    }

    #[test]
    fn huge_counts_are_rejected_without_allocating() {
        // Entry 6 is DIRINDEXES, 7 BASENAMES: see `package`.
        for (entry, tag) in [(6, "DIRINDEXES"), (7, "BASENAMES"), (3, "EPOCH")] {
            for count in [1 << 31, u32::MAX, 1 << 20] {
                let mut blob = package("bash");
                set_u32(&mut blob, entry_field(entry, 12), count);
                assert!(
                    matches!(
                        parse_package(&blob),
                        Err(HeaderError::CountTooLarge { tag: t, .. } | HeaderError::Unterminated { tag: t })
                            if t == tag
                    ),
                    "{tag} count {count}: {:?}",
                    parse_package(&blob)
                );
            }
        }
    }

    #[test]
    fn a_wrong_type_is_rejected() {
        let mut blob = package("bash");
        set_u32(&mut blob, entry_field(0, 4), TYPE_INT32);
        assert!(matches!(
            parse_package(&blob),
            Err(HeaderError::WrongType { tag: "NAME", .. })
        ));
    }

    #[test]
    fn a_missing_name_is_rejected() {
        let blob = blob(&[string(1001, "1"), string(1002, "1")]);
        assert_eq!(
            parse_package(&blob),
            Err(HeaderError::Missing { tag: "NAME" })
        );
    }

    #[test]
    fn file_arrays_must_agree() {
        let with_files = |dirindexes: &[u32]| {
            blob(&[
                string(1000, "x"),
                string(1001, "1"),
                string(1002, "1"),
                int32s(1116, dirindexes),
                strings(1117, &["a", "b"]),
                strings(1118, &["/"]),
            ])
        };
        assert_eq!(
            parse_package(&with_files(&[0])),
            Err(HeaderError::FileArrays {
                basenames: 2,
                dirindexes: 1
            })
        );
        assert_eq!(
            parse_package(&with_files(&[0, 7])),
            Err(HeaderError::DirIndex {
                index: 7,
                dirnames: 1
            })
        );
    }

    #[test]
    fn a_file_list_bomb_is_refused() {
        // 100 000 one-byte basenames all in one 4 KiB directory: a 0.6 MB header that would
        // join into 400 MB of paths.
        let dir = format!("/{}/", "d".repeat(4096));
        let names = vec!["f"; 100_000];
        let blob = blob(&[
            string(1000, "bomb"),
            string(1001, "1"),
            string(1002, "1"),
            int32s(1116, &vec![0; names.len()]),
            strings(1117, &names),
            strings(1118, &[&dir]),
        ]);
        assert!(matches!(
            parse_package(&blob),
            Err(HeaderError::FileListTooLarge { .. })
        ));
    }
}
