//! Analyzers: each declares the paths it wants and parses one file at a time.
//!
//! An analyzer is a path predicate plus a pure parser, so the walker can route entries without
//! knowing any format, and a layer's facts can be cached and replayed.

use crate::facts::Fact;

pub(crate) trait Analyzer: Sync {
    /// Stable name, part of the cache key.
    fn name(&self) -> &'static str;
    /// Bumped whenever what `parse` yields changes, so stale cached layers are re-read.
    fn version(&self) -> u32;
    /// The directories whose entries may be wanted. A root-filesystem walk reads only these,
    /// so it never walks a whole `/usr` to find two files.
    fn roots(&self) -> &'static [Root];
    /// Whether the file at `path` (relative, normalised, e.g. `var/lib/dpkg/status`) is wanted.
    fn wants(&self, path: &str) -> bool;
    /// Whether the entry is wanted, given its mode bits too (0 for links). The path decides by
    /// default; a binary analyzer asks for executables wherever they are.
    fn wants_entry(&self, path: &str, mode: u32) -> bool {
        let _ = mode;
        self.wants(path)
    }
    /// Whether a wanted file is worth reading whole, judged by its first [`SNIFF`] bytes (fewer
    /// if it is shorter), so an analyzer that looks at every executable reads only the head of
    /// those it cannot use.
    fn sniff(&self, head: &[u8]) -> bool {
        let _ = head;
        true
    }
    /// Files larger than this are skipped with a warning, which bounds memory, unless
    /// [`streams`](Self::streams) takes them.
    fn max_size(&self) -> u64;
    /// Parse the file's bytes. The error says what is wrong with the file; a file read only in
    /// part says what it left out in [`Parsed::problems`].
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String>;
    /// Whether a wanted file of `size` bytes is handed to [`parse_stream`](Self::parse_stream)
    /// instead of being read whole: for formats read in bounded memory whatever their size
    /// (archives, binaries beyond [`max_size`](Self::max_size)).
    fn streams(&self, path: &str, size: u64) -> bool {
        let _ = (path, size);
        false
    }
    /// Parse a file read as it comes, in bounded memory. Called only when
    /// [`streams`](Self::streams) said so.
    fn parse_stream(&self, path: &str, size: u64, input: Input<'_>) -> Result<Parsed, String> {
        let _ = (path, size, input);
        Err(format!("the {} analyzer reads no streams", self.name()))
    }
}

/// A file handed to [`Analyzer::parse_stream`].
pub(crate) enum Input<'a> {
    /// A layer's tar entry: read once, front to back.
    Stream(&'a mut dyn std::io::Read),
    /// A root filesystem's file, at its start: it may seek.
    File(&'a mut std::fs::File),
}

impl std::io::Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Stream(r) => r.read(buf),
            Self::File(f) => f.read(buf),
        }
    }
}

/// What an analyzer made of one file.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) fact: Fact,
    /// Parts of the file left out of `fact`, and why (a dpkg stanza without a `Version`): each
    /// becomes a warning naming the file, so a bad record costs only itself.
    pub(crate) problems: Vec<String>,
}

impl From<Fact> for Parsed {
    fn from(fact: Fact) -> Self {
        Self {
            fact,
            problems: Vec::new(),
        }
    }
}

/// A directory an analyzer looks in, relative to the image root (`""` is the root itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Root {
    pub(crate) dir: &'static str,
    /// Whether its subdirectories are searched too.
    pub(crate) recursive: bool,
}

impl Root {
    /// Only the directory's own entries.
    pub(crate) const fn flat(dir: &'static str) -> Self {
        Self {
            dir,
            recursive: false,
        }
    }

    /// The directory and everything below it.
    pub(crate) const fn deep(dir: &'static str) -> Self {
        Self {
            dir,
            recursive: true,
        }
    }

    /// Whether this root's walk reaches `other`'s entries too.
    pub(crate) fn covers(&self, other: &Self) -> bool {
        self != other
            && self.recursive
            && (self.dir.is_empty()
                || other.dir == self.dir
                || other.dir.starts_with(&format!("{}/", self.dir)))
    }
}

/// The analyzers a scan runs, in a fixed order: the distribution's release files, the OS
/// package databases ([`crate::osdb::package_dbs`]), then the language packages.
pub(crate) fn all() -> &'static [&'static dyn Analyzer] {
    static ALL: std::sync::OnceLock<Vec<&'static dyn Analyzer>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static dyn Analyzer> =
            vec![&crate::os::OsAnalyzer, &crate::users::UsersAnalyzer];
        for db in crate::osdb::package_dbs() {
            all.push(*db);
        }
        all.extend([
            &crate::langs::PythonAnalyzer as &'static dyn Analyzer,
            &crate::langs::NpmAnalyzer,
            &crate::langs::JavaAnalyzer,
            &crate::langs::LockAnalyzer,
            // Before the binaries: the first analyzer that wants a path reads it, and the
            // binary analyzer wants every executable, which a lockfile copied from a Windows
            // build context is.
            &crate::langs::RubyAnalyzer,
            &crate::langs::PhpAnalyzer,
            &crate::langs::DotnetAnalyzer,
            &crate::langs::BinaryAnalyzer,
        ]);
        all
    })
}

/// Version of the walker's own output format (whiteouts, links, warnings).
const WALK_VERSION: u32 = 2;

/// The cache key part that changes whenever any analyzer's output may change.
pub(crate) fn set_version(analyzers: &[&dyn Analyzer]) -> String {
    let mut s = format!("walk{WALK_VERSION}");
    for a in analyzers {
        s.push_str(&format!("-{}{}", a.name(), a.version()));
    }
    s
}

/// How many bytes [`Analyzer::sniff`] sees.
pub(crate) const SNIFF: usize = 64;

/// The analyzer that wants `path` (with mode bits `mode`, 0 for links), if any.
pub(crate) fn route<'a>(
    analyzers: &[&'a dyn Analyzer],
    path: &str,
    mode: u32,
) -> Option<&'a dyn Analyzer> {
    analyzers
        .iter()
        .copied()
        .find(|a| a.wants_entry(path, mode))
}
