//! Executables: ELF, PE, Mach-O and universal ("fat") Mach-O files as their headers lay them
//! out (sections, segments, addresses), read in bounded memory whatever their size. The Go
//! buildinfo reader (`golang.rs`) and the cargo-auditable reader (`cargo.rs`) ask this module
//! for an executable's layout, then read only the few bytes they need.
//!
//! An executable comes in one of three ways, and both readers answer the same for all three,
//! but for what a stream has gone past before it is known to be wanted (see the readers):
//! - **in memory** ([`Source::Mem`]): a file within the binaries analyzer's size limit, read
//!   whole;
//! - **a seekable file** ([`Source::File`]): a root filesystem's file beyond that limit. Its
//!   headers are parsed through `object::ReadCache`, which reads only the structures they
//!   point to, and the readers read their sections where they lie;
//! - **a stream** ([`watch`]): a layer's tar entry beyond that limit, read once from its first
//!   byte. The headers an executable starts with (the ELF header and program headers, the PE
//!   section table, the Mach-O load commands; each slice's in turn for a universal file) are
//!   buffered and parsed by the same code as for the other two, and each reader ([`Watch`])
//!   then picks up the bytes it wants as they go by. ELF files usually keep their section
//!   table at the end, after the data: it is read when the stream gets there, so it can only
//!   confirm what was picked up before it (see the readers for how each copes).
//!
//! The first two share every line but the one that fetches bytes. Reads of header structures
//! are charged to [`MAX_HEADER_READ`], so a hostile header (a section table of a billion
//! entries) costs an error, never memory; a stream never holds more than [`MAX_HELD`].

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Read;
use std::ops::Range;

use object::read::coff::CoffHeader as _;
use object::read::elf::{ProgramHeader as _, SectionHeader as _};
use object::read::macho::{Section as _, Segment as _};
use object::read::pe::ImageOptionalHeader as _;
use object::{Endianness, FileKind, LittleEndian as LE, ReadRef, elf, macho, pe};

/// The most a universal Mach-O may hold: real ones have two or three architectures.
pub(crate) const MAX_FAT_ARCHES: u32 = 32;
/// The most header bytes (tables, names) read from one file. Real executables need a few KiB.
const MAX_HEADER_READ: u64 = 8 << 20;
/// The most a stream may hold at once: its headers, what the readers gathered, what they are
/// decompressing. A real binary needs well under a MiB whatever its size.
pub(crate) const MAX_HELD: usize = 32 << 20;
/// How much of a stream (or a slice of a universal file) is buffered at first to parse its
/// headers, doubled while they do not parse, up to [`MAX_HEAD`].
const FIRST_HEAD: usize = 4 << 10;
const MAX_HEAD: usize = 1 << 20;
/// How much of a stream is read at a time.
const STREAM_CHUNK: usize = 256 << 10;

/// Whether the first bytes are an ELF, PE (any `MZ`) or Mach-O header, or a Mach-O universal
/// ("fat") header: a cheap pre-filter for the walker. Java class files share the fat magic
/// `CAFEBABE`; a fat header is told apart by its small architecture count (at most
/// [`MAX_FAT_ARCHES`]) where a class file has its version (45 or more).
pub(crate) fn is_executable_format(head: &[u8]) -> bool {
    match head {
        [0x7f, b'E', b'L', b'F', ..]
        | [b'M', b'Z', ..]
        | [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
        | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => true,
        [0xca, 0xfe, 0xba, 0xbe | 0xbf, a, b, c, d, ..] => {
            (1..=MAX_FAT_ARCHES).contains(&u32::from_be_bytes([*a, *b, *c, *d]))
        }
        _ => false,
    }
}

/// `len` bytes of a file from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Extent {
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl Extent {
    pub(crate) fn end(self) -> u64 {
        self.offset.saturating_add(self.len)
    }

    /// Whether it lies inside `outer` (and ends before 2^64).
    pub(crate) fn within(self, outer: Self) -> bool {
        self.offset >= outer.offset
            && self
                .offset
                .checked_add(self.len)
                .is_some_and(|end| end <= outer.end())
    }
}

/// The bytes of `chunk` (which starts at file offset `at`) that fall in `want`, with the file
/// offset of the first.
pub(crate) fn clip(at: u64, chunk: &[u8], want: Range<u64>) -> Option<(u64, &[u8])> {
    let end = at.checked_add(chunk.len() as u64)?;
    let (from, to) = (want.start.max(at), want.end.min(end));
    if from >= to {
        return None;
    }
    let i = usize::try_from(from - at).ok()?;
    let j = usize::try_from(to - at).ok()?;
    Some((from, &chunk[i..j]))
}

/// What the object file of an [`Image`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Elf,
    Pe,
    MachO,
}

/// One object file: the whole file, or one architecture of a universal Mach-O.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub(crate) format: Format,
    /// Its bytes in the file.
    pub(crate) extent: Extent,
    /// In table order, without ELF's null section 0. `None` when not read (yet): a stream's
    /// ELF section table, which usually comes after the data.
    pub(crate) sections: Option<Vec<Section>>,
    /// ELF's loadable segments (`PT_LOAD`), Mach-O's segments, PE's sections.
    pub(crate) segments: Vec<Segment>,
    /// ELF: where the section table lies, while `sections` is `None`.
    section_table: Option<Extent>,
}

#[derive(Debug, Clone)]
pub(crate) struct Section {
    /// Empty when unreadable (a stream's ELF names usually lie behind the section table).
    pub(crate) name: Vec<u8>,
    /// Mach-O's segment name.
    pub(crate) segment: Option<Vec<u8>>,
    pub(crate) address: u64,
    /// Its bytes in the file; `None` when it has none (`.bss`).
    pub(crate) file: Option<Extent>,
    /// Initialized writable data, as `object`'s `SectionKind::Data` has it.
    pub(crate) writable_data: bool,
    /// Mapped into memory at run time (ELF `SHF_ALLOC`; every PE and Mach-O section).
    pub(crate) loaded: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) address: u64,
    pub(crate) file: Extent,
    /// Writable and not executable: where Go's linker puts buildinfo.
    pub(crate) writable: bool,
}

impl Image {
    /// Where the `len` bytes at virtual address `addr` lie in the file, by the segments, then
    /// the sections.
    pub(crate) fn locate(&self, addr: u64, len: u64) -> Option<Extent> {
        let inside = |address: u64, file: Extent| {
            let at = addr.checked_sub(address)?;
            let e = Extent {
                offset: file.offset.checked_add(at)?,
                len,
            };
            (at.checked_add(len)? <= file.len && file.within(self.extent)).then_some(e)
        };
        let sections = self.sections.iter().flatten();
        self.segments
            .iter()
            .find_map(|s| inside(s.address, s.file))
            .or_else(|| sections.filter_map(|s| inside(s.address, s.file?)).next())
    }
}

/// Where an executable's bytes come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    Mem(&'a [u8]),
    File(&'a std::fs::File),
}

/// An executable opened from memory or from a seekable file, its headers parsed.
pub(crate) struct Exe<'a> {
    source: Source<'a>,
    len: u64,
    executable: bool,
    pub(crate) images: Vec<Image>,
    /// Every byte read, headers included: what reading it cost.
    read: Cell<u64>,
}

impl<'a> Exe<'a> {
    /// Parses the headers: one image, one per architecture of a universal Mach-O, none when
    /// `object` cannot read them.
    pub(crate) fn open(source: Source<'a>) -> Self {
        let len = match source {
            Source::Mem(b) => b.len() as u64,
            Source::File(f) => f.metadata().map_or(0, |m| m.len()),
        };
        let mut exe = Self {
            source,
            len,
            executable: false,
            images: Vec::new(),
            read: Cell::new(0),
        };
        let whole = Extent { offset: 0, len };
        exe.executable = exe
            .read(Extent {
                offset: 0,
                len: len.min(64),
            })
            .is_some_and(|head| is_executable_format(&head));
        if !exe.executable {
            return exe;
        }
        let budget = Cell::new(MAX_HEADER_READ);
        exe.images = match source {
            Source::Mem(b) => images(View::new(b, whole, &budget)),
            Source::File(f) => images(View::new(&object::ReadCache::new(f), whole, &budget)),
        };
        exe.read
            .set(exe.read.get() + (MAX_HEADER_READ - budget.get()));
        exe
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Whether it starts like an executable ([`is_executable_format`]).
    pub(crate) fn executable(&self) -> bool {
        self.executable
    }

    /// The bytes of `e`; `None` when they are not all in the file or cannot be read.
    pub(crate) fn read(&self, e: Extent) -> Option<Cow<'a, [u8]>> {
        if !e.within(Extent {
            offset: 0,
            len: self.len,
        }) {
            return None;
        }
        self.read.set(self.read.get().saturating_add(e.len));
        match self.source {
            Source::Mem(b) => b
                .get(usize::try_from(e.offset).ok()?..usize::try_from(e.end()).ok()?)
                .map(Cow::Borrowed),
            Source::File(f) => {
                let mut buf = vec![0; usize::try_from(e.len).ok()?];
                std::os::unix::fs::FileExt::read_exact_at(f, &mut buf, e.offset).ok()?;
                Some(Cow::Owned(buf))
            }
        }
    }

    /// How many bytes were read so far, headers included.
    #[cfg(test)]
    pub(crate) fn bytes_read(&self) -> u64 {
        self.read.get()
    }
}

/// The images of a whole file.
fn images<'d, R: ReadRef<'d>>(data: View<'_, R>) -> Vec<Image> {
    slices(data)
        .into_iter()
        .filter_map(|e| image(data.within(e), Mode::Whole))
        .collect()
}

/// The extents of a file's object files: a universal Mach-O's slices (those inside the file),
/// else the whole file; none when the file is of no known kind.
fn slices<'d, R: ReadRef<'d>>(data: View<'_, R>) -> Vec<Extent> {
    fn fat<'d, Fat: object::read::macho::FatArch, R: ReadRef<'d>>(
        data: View<'_, R>,
    ) -> Vec<Extent> {
        let Ok(file) = object::read::macho::MachOFatFile::<Fat>::parse(data) else {
            return Vec::new();
        };
        file.arches()
            .iter()
            .map(|a| {
                let (offset, len) = a.file_range();
                Extent { offset, len }
            })
            .filter(|e| e.within(data.extent()))
            .take(MAX_FAT_ARCHES as usize)
            .collect()
    }
    match FileKind::parse(data) {
        Ok(FileKind::MachOFat32) => fat::<macho::FatArch32, _>(data),
        Ok(FileKind::MachOFat64) => fat::<macho::FatArch64, _>(data),
        Ok(_) => vec![data.extent()],
        Err(_) => Vec::new(),
    }
}

/// How much of a file the data given to [`image`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// All of it: a table that does not read is broken.
    Whole,
    /// The first bytes of a stream, maybe not all the headers yet (`last`: all there will
    /// be). An ELF section table that does not read is left for later.
    Head { last: bool },
}

/// The layout of the object file `data` holds (ELF, PE or Mach-O).
fn image<'d, R: ReadRef<'d>>(data: View<'_, R>, mode: Mode) -> Option<Image> {
    match FileKind::parse(data).ok()? {
        FileKind::Elf32 => elf_image::<elf::FileHeader32<Endianness>, R>(data, mode),
        FileKind::Elf64 => elf_image::<elf::FileHeader64<Endianness>, R>(data, mode),
        FileKind::MachO32 => macho_image::<macho::MachHeader32<Endianness>, R>(data, mode),
        FileKind::MachO64 => macho_image::<macho::MachHeader64<Endianness>, R>(data, mode),
        FileKind::Pe32 => pe_image::<pe::ImageNtHeaders32, R>(data),
        FileKind::Pe64 => pe_image::<pe::ImageNtHeaders64, R>(data),
        _ => None,
    }
}

fn elf_image<'d, Elf, R>(data: View<'_, R>, mode: Mode) -> Option<Image>
where
    Elf: object::read::elf::FileHeader<Endian = Endianness>,
    R: ReadRef<'d>,
{
    let at = data.base;
    let header = Elf::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let segments = header
        .program_headers(endian, data)
        .ok()?
        .iter()
        .filter(|p| p.p_type(endian) == elf::PT_LOAD)
        .map(|p| {
            let flags = p.p_flags(endian);
            let (offset, len) = p.file_range(endian);
            Segment {
                address: p.p_vaddr(endian).into(),
                file: Extent {
                    offset: at.saturating_add(offset),
                    len,
                },
                writable: flags.contains(elf::PF_W) && !flags.contains(elf::PF_X),
            }
        })
        .collect();
    let (sections, section_table) = match header.sections(endian, data) {
        Ok(table) => {
            let sections = table
                .iter()
                .skip(1)
                .map(|s| {
                    let flags = s.sh_flags(endian);
                    let loaded = flags.contains(elf::SHF_ALLOC);
                    Section {
                        name: table.section_name(endian, s).unwrap_or_default().to_vec(),
                        segment: None,
                        address: s.sh_addr(endian).into(),
                        file: s.file_range(endian).map(|(offset, len)| Extent {
                            offset: at.saturating_add(offset),
                            len,
                        }),
                        writable_data: s.sh_type(endian) == elf::SHT_PROGBITS
                            && loaded
                            && flags.contains(elf::SHF_WRITE)
                            && !flags.intersects(elf::SHF_EXECINSTR | elf::SHF_TLS),
                        loaded,
                    }
                })
                .collect();
            (Some(sections), None)
        }
        Err(_) if mode != Mode::Whole => {
            let count = u64::from(header.e_shnum(endian));
            let table = Extent {
                offset: at.saturating_add(header.e_shoff(endian).into()),
                len: count * u64::from(header.e_shentsize(endian)),
            };
            (None, (count > 0).then_some(table))
        }
        Err(_) => return None,
    };
    Some(Image {
        format: Format::Elf,
        extent: data.extent(),
        sections,
        segments,
        section_table,
    })
}

fn macho_image<'d, Mach, R>(data: View<'_, R>, mode: Mode) -> Option<Image>
where
    Mach: object::read::macho::MachHeader<Endian = Endianness>,
    R: ReadRef<'d>,
{
    let at = data.base;
    let header = Mach::parse(data, 0).ok()?;
    let endian = header.endian().ok()?;
    let object_file = header.filetype(endian) == macho::MH_OBJECT;
    let mut segments = Vec::new();
    let mut sections = Vec::new();
    // As `object` does: a file whose load commands do not read has no sections.
    match header.load_commands(endian, data, 0) {
        Ok(mut commands) => {
            while let Ok(Some(command)) = commands.next() {
                let Some((segment, section_data)) = Mach::Segment::from_command(command).ok()?
                else {
                    continue;
                };
                let (offset, len) = segment.file_range(endian);
                let prot = segment.initprot(endian);
                segments.push(Segment {
                    address: segment.vmaddr(endian).into(),
                    file: Extent {
                        offset: at.saturating_add(offset),
                        len,
                    },
                    writable: prot.contains(macho::VM_PROT_WRITE)
                        && !prot.contains(macho::VM_PROT_EXECUTE),
                });
                let readonly = !prot.contains(macho::VM_PROT_WRITE)
                    || segment.flags(endian).contains(macho::SG_READ_ONLY);
                let table = segment.sections(endian, section_data).ok()?;
                for entry in segment.section_offsets(endian, table) {
                    let (s, offset) = entry.ok()?;
                    sections.push(Section {
                        name: s.name().to_vec(),
                        segment: Some(s.segment_name().to_vec()),
                        address: s.addr(endian).into(),
                        file: s.file_range(endian, offset).map(|(offset, len)| Extent {
                            offset: at.saturating_add(offset),
                            len,
                        }),
                        writable_data: macho_data(endian, s, (!object_file).then_some(readonly)),
                        loaded: true,
                    });
                }
            }
        }
        Err(_) if mode == (Mode::Head { last: false }) => return None,
        Err(_) => {}
    }
    Some(Image {
        format: Format::MachO,
        extent: data.extent(),
        sections: Some(sections),
        segments,
        section_table: None,
    })
}

/// Whether `object` classes a Mach-O section as `SectionKind::Data` (its `parse_kind`).
fn macho_data<S: object::read::macho::Section<Endian = Endianness>>(
    endian: Endianness,
    s: &S,
    readonly: Option<bool>,
) -> bool {
    let flags = s.flags(endian);
    if s.segment_name() == b"__DWARF" || flags.contains(macho::S_ATTR_DEBUG) {
        return false;
    }
    let plain = matches!(
        flags.typ(),
        macho::S_REGULAR
            | macho::S_COALESCED
            | macho::S_NON_LAZY_SYMBOL_POINTERS
            | macho::S_LAZY_SYMBOL_POINTERS
            | macho::S_MOD_INIT_FUNC_POINTERS
            | macho::S_MOD_TERM_FUNC_POINTERS
            | macho::S_INTERPOSING
            | macho::S_LAZY_DYLIB_SYMBOL_POINTERS
            | macho::S_THREAD_LOCAL_VARIABLE_POINTERS
            | macho::S_THREAD_LOCAL_INIT_FUNCTION_POINTERS
            | macho::S_INIT_FUNC_OFFSETS
    );
    plain
        && !flags.intersects(macho::S_ATTR_PURE_INSTRUCTIONS | macho::S_ATTR_SOME_INSTRUCTIONS)
        && !readonly.unwrap_or(s.segment_name() == b"__TEXT")
}

fn pe_image<'d, Pe, R>(data: View<'_, R>) -> Option<Image>
where
    Pe: object::read::pe::ImageNtHeaders,
    R: ReadRef<'d>,
{
    let at = data.base;
    let dos = pe::ImageDosHeader::parse(data).ok()?;
    let mut offset = dos.nt_headers_offset().into();
    let (nt, _) = Pe::parse(data, &mut offset).ok()?;
    let table = nt.sections(data, offset).ok()?;
    let image_base = nt.optional_header().image_base();
    // Names over 8 bytes are offsets into the COFF string table, after the symbols; found
    // without reading the symbols (megabytes in an unstripped Go binary).
    let file_header = nt.file_header();
    let strings_at = u64::from(file_header.pointer_to_symbol_table())
        + u64::from(file_header.number_of_symbols()) * 18;
    let strings = data
        .read_bytes_at(strings_at, 4)
        .ok()
        .filter(|_| file_header.pointer_to_symbol_table() != 0)
        .map(|n| u64::from(u32::from_le_bytes([n[0], n[1], n[2], n[3]])))
        .map_or_else(Default::default, |n| {
            object::read::StringTable::new(data, strings_at, strings_at + n)
        });
    let mut segments = Vec::new();
    let mut sections = Vec::new();
    for s in table.iter() {
        let flags = s.characteristics.get(LE);
        let (offset, len) = s.pe_file_range();
        let file = Extent {
            offset: at.saturating_add(offset.into()),
            len: len.into(),
        };
        let address = image_base.wrapping_add(s.virtual_address.get(LE).into());
        let writable = flags.contains(pe::IMAGE_SCN_MEM_WRITE);
        segments.push(Segment {
            address,
            file,
            writable: writable && !flags.contains(pe::IMAGE_SCN_MEM_EXECUTE),
        });
        sections.push(Section {
            name: s.name(strings).unwrap_or_default().to_vec(),
            segment: None,
            address,
            file: Some(file),
            writable_data: !flags.intersects(pe::IMAGE_SCN_CNT_CODE | pe::IMAGE_SCN_MEM_EXECUTE)
                && flags.contains(pe::IMAGE_SCN_CNT_INITIALIZED_DATA)
                && !flags.contains(pe::IMAGE_SCN_MEM_DISCARDABLE)
                && writable,
            loaded: true,
        });
    }
    Some(Image {
        format: Format::Pe,
        extent: data.extent(),
        sections: Some(sections),
        segments,
        section_table: None,
    })
}

/// Data for `object`'s parsers: `len` bytes of `data` from `base`, each read charged to a
/// shared budget.
#[derive(Clone, Copy)]
struct View<'b, R> {
    data: R,
    base: u64,
    len: u64,
    budget: &'b Cell<u64>,
}

impl<'b, R> View<'b, R> {
    fn new(data: R, e: Extent, budget: &'b Cell<u64>) -> Self {
        Self {
            data,
            base: e.offset,
            len: e.len,
            budget,
        }
    }

    /// The same data, for the part `e` (in file offsets) of it.
    fn within(self, e: Extent) -> Self {
        Self::new(self.data, e, self.budget)
    }

    fn extent(&self) -> Extent {
        Extent {
            offset: self.base,
            len: self.len,
        }
    }

    /// Reads `n` bytes with `read` if the budget allows, and charges them if they were read.
    fn spend<T>(&self, n: u64, read: impl FnOnce() -> Result<T, ()>) -> Result<T, ()> {
        let left = self.budget.get().checked_sub(n).ok_or(())?;
        let got = read()?;
        self.budget.set(left);
        Ok(got)
    }
}

impl<'d, R: ReadRef<'d>> ReadRef<'d> for View<'_, R> {
    fn len(self) -> Result<u64, ()> {
        Ok(self.len)
    }

    fn read_bytes_at(self, offset: u64, size: u64) -> Result<&'d [u8], ()> {
        if offset.checked_add(size).ok_or(())? > self.len {
            return Err(());
        }
        let at = self.base.checked_add(offset).ok_or(())?;
        self.spend(size, || self.data.read_bytes_at(at, size))
    }

    fn read_bytes_at_until(self, range: Range<u64>, delimiter: u8) -> Result<&'d [u8], ()> {
        let end = range.end.min(self.len);
        if range.start > end {
            return Err(());
        }
        let abs = self.base.checked_add(range.start).ok_or(())?..self.base + end;
        let found = self.data.read_bytes_at_until(abs, delimiter)?;
        self.spend(found.len() as u64, || Ok(found))
    }
}

/// Bytes of a stream kept at their file offsets (headers, a section table), as `object` data:
/// a read outside them fails.
struct Pieces<'p>(Vec<(u64, &'p [u8])>);

impl Pieces<'_> {
    /// The piece holding `offset`, from there on.
    fn at(&self, offset: u64) -> Option<&[u8]> {
        self.0.iter().find_map(|&(at, bytes)| {
            let i = usize::try_from(offset.checked_sub(at)?).ok()?;
            (i < bytes.len()).then(|| &bytes[i..])
        })
    }
}

impl<'a> ReadRef<'a> for &'a Pieces<'a> {
    fn len(self) -> Result<u64, ()> {
        Ok(self
            .0
            .iter()
            .map(|(at, b)| at + b.len() as u64)
            .max()
            .unwrap_or(0))
    }

    fn read_bytes_at(self, offset: u64, size: u64) -> Result<&'a [u8], ()> {
        if size == 0 {
            return Ok(&[]);
        }
        let size = usize::try_from(size).map_err(|_| ())?;
        self.at(offset).and_then(|b| b.get(..size)).ok_or(())
    }

    fn read_bytes_at_until(self, range: Range<u64>, delimiter: u8) -> Result<&'a [u8], ()> {
        let b = self.at(range.start).ok_or(())?;
        let n = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(usize::MAX);
        let b = &b[..n.min(b.len())];
        let end = b.iter().position(|&c| c == delimiter).ok_or(())?;
        Ok(&b[..end])
    }
}

/// A reader of a stream: shown each image's layout as soon as its headers are read, then every
/// byte of the file, in order.
pub(crate) trait Watch {
    /// Image `index` (in the order a universal file's table lists them; 0 otherwise) was
    /// parsed from the headers at its start. Called before the bytes from its start on are fed.
    fn image(&mut self, index: usize, image: &Image);
    /// `chunk` is the file's bytes from offset `at`. Calls come in file order, without gaps.
    fn feed(&mut self, at: u64, chunk: &[u8]);
    /// Whether it needs no more bytes.
    fn done(&self) -> bool;
    /// The bytes it holds, counted against [`MAX_HELD`].
    fn held(&self) -> usize;
}

/// What [`watch`] saw of a stream.
#[derive(Debug)]
pub(crate) struct Watched {
    /// Per slice (one for a plain file), as far as the headers could be read: ELF section
    /// tables met after the data are filled in, without names unless those came along.
    pub(crate) images: Vec<Option<Image>>,
    /// The most the reading held at once, readers included.
    #[cfg_attr(not(test), expect(dead_code, reason = "the tests check it"))]
    pub(crate) peak_held: usize,
}

/// Reads a stream of `size` bytes once, front to back, showing it to `watchers`. Stops early
/// once every watcher is done. Fails when the stream ends early or the watchers would hold
/// more than [`MAX_HELD`].
pub(crate) fn watch(
    r: &mut dyn Read,
    size: u64,
    watchers: &mut [&mut dyn Watch],
) -> Result<Watched, String> {
    watch_in(r, size, watchers, STREAM_CHUNK)
}

/// [`watch`], reading `chunk` bytes at a time.
fn watch_in(
    r: &mut dyn Read,
    size: u64,
    watchers: &mut [&mut dyn Watch],
    chunk: usize,
) -> Result<Watched, String> {
    let mut w = Walk {
        r,
        size,
        chunk,
        pos: 0,
        pending: Vec::new(),
        scratch: Vec::new(),
        pending_at: 0,
        tables: Vec::new(),
        watchers,
        peak: 0,
    };
    w.fill(FIRST_HEAD)?;
    if !is_executable_format(&w.pending) {
        return Ok(Watched {
            images: Vec::new(),
            peak_held: w.pending.len(),
        });
    }
    // Each parse of buffered headers has its own budget: what they read stays in the buffer,
    // which bounds it, and a head parsed again once grown is charged again.
    let budget = || Cell::new(MAX_HEADER_READ);
    let whole = Extent {
        offset: 0,
        len: size,
    };
    let slices = {
        let first = Pieces(vec![(0, &w.pending[..])]);
        slices(View::new(&first, whole, &budget()))
    };
    let mut images = vec![None; slices.len()];
    let mut order: Vec<usize> = (0..slices.len()).collect();
    order.sort_by_key(|&i| slices[i].offset);
    for i in order {
        let e = slices[i];
        if e.offset < w.pending_at {
            continue; // Overlaps a slice before it: already gone by.
        }
        w.run_to(e.offset, false)?;
        let head = w.head(e)?;
        if let Some(image) = &head {
            if let (None, Some(table)) = (&image.sections, image.section_table)
                && table.len <= MAX_HEADER_READ
            {
                let head_len = w.pending.len().min(MAX_HEAD);
                w.tables.push(Table {
                    slice: i,
                    head: w.pending[..head_len].to_vec(),
                    extent: table,
                    bytes: Vec::new(),
                });
            }
            for watcher in w.watchers.iter_mut() {
                watcher.image(i, image);
            }
        }
        images[i] = head;
    }
    w.run_to(size, true)?;
    for t in &w.tables {
        if t.bytes.len() as u64 != t.extent.len {
            continue;
        }
        let pieces = Pieces(vec![
            (slices[t.slice].offset, &t.head[..]),
            (t.extent.offset, &t.bytes[..]),
        ]);
        let budget = budget();
        let view = View::new(&pieces, slices[t.slice], &budget);
        if let Some(image) = image(view, Mode::Head { last: true }) {
            images[t.slice] = Some(image);
        }
    }
    Ok(Watched {
        images,
        peak_held: w.peak,
    })
}

/// An ELF section table to pick up on the way.
struct Table {
    slice: usize,
    /// The slice's first bytes, to parse the table with.
    head: Vec<u8>,
    extent: Extent,
    bytes: Vec<u8>,
}

/// The state of [`watch`].
struct Walk<'r, 'w, 'x> {
    r: &'r mut dyn Read,
    size: u64,
    chunk: usize,
    /// How far the stream was read.
    pos: u64,
    /// Read, not yet fed to the watchers: from `pending_at` to `pos`.
    pending: Vec<u8>,
    /// What the stream is read into.
    scratch: Vec<u8>,
    pending_at: u64,
    tables: Vec<Table>,
    watchers: &'w mut [&'x mut dyn Watch],
    peak: usize,
}

impl Walk<'_, '_, '_> {
    /// Reads up to `n` more bytes into `pending` (fewer at the end of the file).
    fn fill(&mut self, n: usize) -> Result<(), String> {
        let n = usize::try_from((n as u64).min(self.size - self.pos)).unwrap_or(n);
        if self.scratch.len() < n {
            self.scratch.resize(n, 0);
        }
        let read = self.r.read_exact(&mut self.scratch[..n]);
        self.pending.extend_from_slice(&self.scratch[..n]);
        if let Err(e) = read {
            return Err(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                format!(
                    "cut short: the stream ends before its {} bytes (read {} so far)",
                    self.size, self.pos
                )
            } else {
                e.to_string()
            });
        }
        self.pos += n as u64;
        Ok(())
    }

    /// The image whose headers start the slice `e`, which starts `pending`: buffers more of
    /// it until they parse.
    fn head(&mut self, e: Extent) -> Result<Option<Image>, String> {
        let most = usize::try_from(e.len).unwrap_or(usize::MAX).min(MAX_HEAD);
        let mut want = FIRST_HEAD.min(most);
        loop {
            if self.pending.len() < want {
                self.fill(want - self.pending.len())?;
            }
            let last = want >= most || self.pending.len() < want;
            let pieces = Pieces(vec![(e.offset, &self.pending[..])]);
            let budget = Cell::new(MAX_HEADER_READ);
            let found = image(View::new(&pieces, e, &budget), Mode::Head { last });
            if found.is_some() || last {
                return Ok(found);
            }
            want = (want * 2).min(most);
        }
    }

    /// Feeds what is pending before `target`, then reads and feeds on up to it, or, if
    /// `may_stop`, until every watcher is done and no section table is still to come.
    fn run_to(&mut self, target: u64, may_stop: bool) -> Result<(), String> {
        self.pass(target)?;
        while self.pos < target {
            if may_stop
                && self.watchers.iter().all(|w| w.done())
                && self.tables.iter().all(|t| t.extent.end() <= self.pos)
            {
                break;
            }
            let n =
                usize::try_from((target - self.pos).min(self.chunk as u64)).unwrap_or(self.chunk);
            self.fill(n)?;
            self.pass(target)?;
        }
        Ok(())
    }

    /// Shows the pending bytes before `limit` to the section tables being picked up and to
    /// the watchers; the rest stays pending.
    fn pass(&mut self, limit: u64) -> Result<(), String> {
        let at = self.pending_at;
        let n = usize::try_from(limit.saturating_sub(at))
            .unwrap_or(usize::MAX)
            .min(self.pending.len());
        let chunk = &self.pending[..n];
        for t in &mut self.tables {
            if let Some((_, b)) = clip(at, chunk, t.extent.offset..t.extent.end()) {
                t.bytes.extend_from_slice(b);
            }
        }
        for w in self.watchers.iter_mut() {
            w.feed(at, chunk);
        }
        let held = self.pending.len()
            + self.scratch.len()
            + self
                .tables
                .iter()
                .map(|t| t.head.len() + t.bytes.len())
                .sum::<usize>()
            + self.watchers.iter().map(|w| w.held()).sum::<usize>();
        self.peak = self.peak.max(held);
        if held > MAX_HELD {
            return Err(format!(
                "reading it would hold over {MAX_HELD} bytes at once: gave up"
            ));
        }
        self.pending.drain(..n);
        self.pending_at = at + n as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek as _, SeekFrom, Write as _};
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::analyzer::{Analyzer as _, Input, Parsed};
    use crate::facts::{Entry, Fact};
    use crate::lang::cargo::tests::demo_svc;
    use crate::lang::golang::tests::{fat, fixture};
    use crate::lang::{LangPackage, cargo, golang};
    use crate::langs::BinaryAnalyzer;
    use crate::walk;

    /// Real binaries: Go 1.18+ (ELF, PE, Mach-O, universal), Go 1.15 (pointer format, in each
    /// format) and a cargo-auditable Rust binary.
    fn real_binaries() -> Vec<(&'static str, Vec<u8>)> {
        let macho = fixture("demo-go-darwin-arm64.sparse.gz");
        let mut all = vec![
            ("demo-go", fixture("demo-go")),
            (
                "demo-go-windows",
                fixture("demo-go-windows-amd64.sparse.gz"),
            ),
            ("demo-go-darwin-fat", fat(&macho)),
            ("demo-go-darwin", macho),
            ("demo-svc", demo_svc()),
        ];
        for os in ["linux-64", "linux-32", "darwin-64", "windows-64"] {
            let name = format!("esbuild-0.8.9/esbuild-{os}.sparse.gz");
            all.push(("esbuild (Go 1.15)", fixture(&name)));
        }
        all
    }

    fn packages(p: &Parsed) -> &[LangPackage] {
        match &p.fact {
            Fact::Lang(p) => p,
            other => panic!("{other:?}"),
        }
    }

    /// What the binaries analyzer makes of `bin` from a seekable file and from a stream read
    /// `chunk` bytes at a time.
    fn file_and_stream(bin: &[u8], chunk: usize) -> (Parsed, Parsed) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bin).unwrap();
        let size = bin.len() as u64;
        let file = BinaryAnalyzer
            .parse_stream("x", size, Input::File(&mut f))
            .unwrap();
        let mut go = golang::BuildinfoWatch::new(size);
        let mut rust = cargo::AuditableWatch::default();
        let watched = watch_in(&mut &bin[..], size, &mut [&mut go, &mut rust], chunk).unwrap();
        let mut problems = Vec::new();
        let mut found = go.finish(&mut problems).unwrap().unwrap_or_default();
        found.extend(
            rust.finish(&watched.images, &mut problems)
                .unwrap()
                .unwrap_or_default(),
        );
        let stream = Parsed {
            fact: Fact::Lang(found),
            problems,
        };
        (file, stream)
    }

    #[test]
    fn real_binaries_read_the_same_whole_from_a_file_and_as_a_stream() {
        for (name, bin) in real_binaries() {
            let whole = BinaryAnalyzer.parse("x", &bin).unwrap();
            assert!(whole.problems.is_empty(), "{name}");
            assert!(!packages(&whole).is_empty(), "{name}");
            for chunk in [STREAM_CHUNK, 4099, 13] {
                let (file, stream) = file_and_stream(&bin, chunk);
                assert_eq!(packages(&file), packages(&whole), "{name}: file");
                assert!(file.problems.is_empty(), "{name}");
                if name.starts_with("esbuild") {
                    // The strings of the pointer format lie behind its header.
                    assert_eq!(packages(&stream), [], "{name}");
                    assert_eq!(stream.problems.len(), 1, "{name}");
                    assert!(
                        stream.problems[0].starts_with("Go < 1.18 buildinfo needs seeking"),
                        "{name}: {:?}",
                        stream.problems
                    );
                } else {
                    assert_eq!(
                        packages(&stream),
                        packages(&whole),
                        "{name}: stream {chunk}"
                    );
                    assert!(stream.problems.is_empty(), "{name}: {:?}", stream.problems);
                }
            }
        }
    }

    /// An `MZ` file `object` cannot read, holding an inline header: searched from its start,
    /// the same three ways.
    #[test]
    fn unreadable_headers_read_the_same_three_ways() {
        let modinfo = "path\tx\nmod\texample.com/x\tv1.0.0\t\ndep\ta.io/b\tv1.2.0\th1:x=\n";
        let bin = golang::tests::raw_inline("go1.22.1", modinfo);
        let whole = BinaryAnalyzer.parse("x", &bin).unwrap();
        assert_eq!(packages(&whole).len(), 3);
        for chunk in [STREAM_CHUNK, 7, 1] {
            let (file, stream) = file_and_stream(&bin, chunk);
            assert_eq!(packages(&file), packages(&whole));
            assert_eq!(packages(&stream), packages(&whole), "chunks of {chunk}");
        }
    }

    /// A 64-bit little-endian ELF with `gap` zero bytes inserted at file offset `at`, its
    /// program and section headers patched so that everything after moved along: still a
    /// valid ELF (`at` inside no segment; `gap` a multiple of the page size). Returned as what
    /// comes before the gap and what comes after.
    fn split_elf(bin: &[u8], at: usize, gap: u64) -> (Vec<u8>, Vec<u8>) {
        let word = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        let half = |b: &[u8], i: usize| usize::from(u16::from_le_bytes([b[i], b[i + 1]]));
        let mut b = bin.to_vec();
        let shift = |b: &mut Vec<u8>, i: usize| {
            let v = word(b, i);
            if v >= at as u64 {
                b[i..i + 8].copy_from_slice(&(v + gap).to_le_bytes());
            }
        };
        let (phoff, shoff) = (word(&b, 0x20) as usize, word(&b, 0x28) as usize);
        for i in 0..half(&b, 0x38) {
            let p = phoff + i * 56;
            let (offset, size) = (word(&b, p + 8), word(&b, p + 32));
            assert!(!(offset < at as u64 && at as u64 + 1 < offset + size));
            shift(&mut b, p + 8);
        }
        for i in 0..half(&b, 0x3c) {
            shift(&mut b, shoff + i * 64 + 0x18);
        }
        shift(&mut b, 0x20);
        shift(&mut b, 0x28);
        let tail = b.split_off(at);
        (b, tail)
    }

    /// Where a section of an ELF starts in the file.
    fn section_offset(bin: &[u8], name: &str) -> usize {
        use object::{Object as _, ObjectSection as _};
        let file = object::File::parse(bin).unwrap();
        let s = file.section_by_name(name).unwrap();
        usize::try_from(s.file_range().unwrap().0).unwrap()
    }

    /// Over the binaries analyzer's 256 MiB limit.
    const GAP: u64 = 260 << 20;

    /// Issue: "Large binaries are read, not skipped": a 706 MB Go binary was skipped as over
    /// the 268435456-byte limit. A real Go binary with 260 MiB inserted before its data (so its
    /// buildinfo lies past the limit) and a real cargo-auditable binary with the same before
    /// its `.dep-v0`, as sparse files in a root filesystem and as a layer's tar entries: both
    /// walks report what the whole binary says, reading a few KiB of the file, holding well
    /// under a MiB of the stream.
    #[test]
    fn big_binaries_are_read_not_skipped() {
        let go = fixture("demo-go");
        let rust = demo_svc();
        let go_data = {
            use object::{Object as _, ObjectSegment as _};
            let file = object::File::parse(&*go).unwrap();
            let seg = file.segments().last().unwrap();
            usize::try_from(seg.file_range().0).unwrap()
        };
        let cases = [
            ("usr/local/bin/big-go", split_elf(&go, go_data, GAP), &go),
            (
                "usr/local/bin/big-rust",
                split_elf(&rust, section_offset(&rust, ".dep-v0"), GAP),
                &rust,
            ),
        ];
        let root = tempfile::tempdir().unwrap();
        let mut layer = Vec::new();
        for (path, (head, tail), whole) in &cases {
            let size = head.len() as u64 + GAP + tail.len() as u64;
            assert!(BinaryAnalyzer.streams(path, size));
            let want = BinaryAnalyzer.parse("x", whole).unwrap();
            assert!(packages(&want).len() >= 4, "{path}");

            // The root filesystem's file, sparse.
            let p = root.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let mut f = std::fs::File::create(&p).unwrap();
            f.write_all(head).unwrap();
            f.seek(SeekFrom::Current(i64::try_from(GAP).unwrap()))
                .unwrap();
            f.write_all(tail).unwrap();
            f.set_permissions(std::fs::Permissions::from_mode(0o755))
                .unwrap();
            drop(f);
            let f = std::fs::File::open(&p).unwrap();
            let exe = Exe::open(Source::File(&f));
            assert_eq!(
                golang::buildinfo(&exe).unwrap().is_some(),
                *path == "usr/local/bin/big-go"
            );
            assert!(
                exe.bytes_read() < 16 << 10,
                "{path}: read {}",
                exe.bytes_read()
            );

            // The layer's entry, read once: held in bounded memory.
            let mut go = golang::BuildinfoWatch::new(size);
            let mut rust = cargo::AuditableWatch::default();
            let mut stream = entry(head, tail);
            let watched = watch(&mut stream, size, &mut [&mut go, &mut rust]).unwrap();
            assert!(
                watched.peak_held < 1 << 20,
                "{path}: held {}",
                watched.peak_held
            );
            layer.push((path, size, head, tail, want));
        }

        let facts = walk::walk_dir(
            root.path(),
            &[&BinaryAnalyzer],
            walk::WalkOptions::default(),
        );
        assert_eq!(facts.warnings, []);
        let mut tar = Vec::<Box<dyn Read>>::new();
        for (path, size, head, tail, _) in &layer {
            let mut h = tar::Header::new_gnu();
            h.set_path(path).unwrap();
            h.set_size(*size);
            h.set_mode(0o755);
            h.set_cksum();
            tar.push(Box::new(std::io::Cursor::new(h.as_bytes().to_vec())));
            tar.push(Box::new(entry(head, tail)));
            let pad = (512 - size % 512) % 512;
            tar.push(Box::new(std::io::repeat(0).take(pad)));
        }
        tar.push(Box::new(std::io::repeat(0).take(1024)));
        let stream = tar.into_iter().reduce(|a, b| Box::new(a.chain(b))).unwrap();
        let (tar_facts, err) = walk::walk_tar(
            stream,
            &[&BinaryAnalyzer],
            "layer",
            walk::WalkOptions::default(),
        );
        assert!(err.is_none(), "{err:?}");
        assert_eq!(tar_facts.warnings, []);
        for (path, _, _, _, want) in &layer {
            for facts in [&facts, &tar_facts] {
                match facts.files.get(**path) {
                    Some(Entry::Fact {
                        fact: Fact::Lang(got),
                    }) => assert_eq!(got, packages(want), "{path}"),
                    other => panic!("{path}: {other:?}"),
                }
            }
        }
    }

    /// A file's bytes with the gap between `head` and `tail`, as a stream.
    fn entry<'a>(head: &'a [u8], tail: &'a [u8]) -> impl Read + 'a {
        head.chain(std::io::repeat(0).take(GAP)).chain(tail)
    }

    /// Section tables of absurd sizes, in a file and in a stream: an error of the headers, not
    /// an allocation the size of the claim.
    #[test]
    fn hostile_headers_cost_a_bounded_read() {
        let mut bin = fixture("demo-go");
        // 65535 section headers of 4 KiB each (256 MiB) where demo-go has 16 of 64 bytes.
        bin[0x3a..0x3c].copy_from_slice(&4096u16.to_le_bytes());
        bin[0x3c..0x3e].copy_from_slice(&u16::MAX.to_le_bytes());
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bin).unwrap();
        f.set_len(300 << 20).unwrap();
        let exe = Exe::open(Source::File(&f));
        assert!(exe.bytes_read() <= MAX_HEADER_READ + 1024);
        let (file, stream) = file_and_stream(&bin, STREAM_CHUNK);
        assert_eq!(packages(&file), packages(&stream));
    }
}
