//! The analyzers for language packages: they route files to the parsers in `crate::lang`.
//! Installed metadata, lockfiles and binaries can be anywhere in an image, so each of these
//! looks at the whole tree (`Root::deep("")`) and decides by file name, or for binaries by
//! mode bits and then by the file's first bytes.

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::facts::Fact;
use crate::lang::{cargo, golang, npm, python};

const EVERYWHERE: &[Root] = &[Root::deep("")];
/// Metadata and lockfiles: real ones are kilobytes to a few MiB (a monorepo's lockfile).
const MAX_TEXT: u64 = 16 << 20;
/// Binaries: Go and Rust executables are a few to ~150 MiB.
const MAX_BINARY: u64 = 256 << 20;

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(crate) struct PythonAnalyzer;

impl Analyzer for PythonAnalyzer {
    fn name(&self) -> &'static str {
        "python"
    }
    fn version(&self) -> u32 {
        // 2: licences and authors.
        2
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        python::wants(path)
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        python::parse(path, bytes).map(|p| Fact::Lang(p).into())
    }
}

pub(crate) struct NpmAnalyzer;

impl Analyzer for NpmAnalyzer {
    fn name(&self) -> &'static str {
        "npm"
    }
    fn version(&self) -> u32 {
        // 2: licences and authors.
        2
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        npm::wants(path)
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        npm::parse(path, bytes).map(|p| Fact::Lang(p).into())
    }
}

/// `Cargo.lock`, `go.mod` and `go.sum`.
pub(crate) struct LockAnalyzer;

impl Analyzer for LockAnalyzer {
    fn name(&self) -> &'static str {
        "cargo-go-locks"
    }
    fn version(&self) -> u32 {
        2
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        matches!(base(path), "Cargo.lock" | "go.mod" | "go.sum")
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        let found = match base(path) {
            "Cargo.lock" => cargo::parse_lock(bytes),
            "go.sum" => golang::parse_go_sum(bytes),
            _ => golang::parse_go_mod(bytes),
        };
        found.map(|p| Fact::Lang(p).into())
    }
}

/// Go binaries (buildinfo) and Rust binaries built with cargo-auditable (`.dep-v0`).
pub(crate) struct BinaryAnalyzer;

impl Analyzer for BinaryAnalyzer {
    fn name(&self) -> &'static str {
        "binaries"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        let b = base(path).to_ascii_lowercase();
        b.ends_with(".exe") || b.ends_with(".dll")
    }
    fn wants_entry(&self, path: &str, mode: u32) -> bool {
        (mode & 0o111 != 0) || self.wants(path)
    }
    fn sniff(&self, head: &[u8]) -> bool {
        golang::is_executable_format(head)
    }
    fn max_size(&self) -> u64 {
        MAX_BINARY
    }
    fn parse(&self, _path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        let mut found = golang::parse_buildinfo(bytes)?.unwrap_or_default();
        if let Some(crates) = cargo::parse_auditable(bytes)? {
            found.extend(crates);
        }
        Ok(Fact::Lang(found).into())
    }
}
