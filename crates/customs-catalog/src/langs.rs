//! The analyzers for language packages: they route files to the parsers in `crate::lang`.
//! Installed metadata, lockfiles and binaries can be anywhere in an image, so each of these
//! looks at the whole tree (`Root::deep("")`) and decides by file name, or for binaries by
//! mode bits and then by the file's first bytes.

use crate::analyzer::{Analyzer, Input, Parsed, Root};
use crate::facts::Fact;
use crate::lang::exe;
use crate::lang::{cargo, golang, java, npm, python};

const EVERYWHERE: &[Root] = &[Root::deep("")];
/// Metadata and lockfiles: real ones are kilobytes to a few MiB (a monorepo's lockfile).
const MAX_TEXT: u64 = 16 << 20;
/// Binaries read whole: Go and Rust executables are a few to ~150 MiB. Bigger ones (a 700 MB
/// Terraform provider) are read in bounded memory instead (`BinaryAnalyzer::streams`).
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

/// Java archives, read as streams with every archive nested in them, whatever their size;
/// and on disk `pom.xml` and Gradle lockfiles.
pub(crate) struct JavaAnalyzer;

impl Analyzer for JavaAnalyzer {
    fn name(&self) -> &'static str {
        "java"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        java::wants(path)
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn streams(&self, path: &str, _size: u64) -> bool {
        java::is_archive(path)
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        if base(path) == "pom.xml" {
            let (pkgs, left_out) = java::parse_pom_file(bytes)?;
            return Ok(Parsed {
                fact: Fact::Lang(pkgs),
                problems: left_out,
            });
        }
        java::parse_gradle_lock(bytes).map(|p| Fact::Lang(p).into())
    }
    fn parse_stream(&self, path: &str, _size: u64, input: Input<'_>) -> Result<Parsed, String> {
        let found = java::read_archive(path, input);
        Ok(Parsed {
            fact: Fact::Lang(found.packages),
            problems: found.problems,
        })
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
        // 2: binaries over MAX_BINARY are read (streamed), not skipped.
        2
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
        binary(&exe::Exe::open(exe::Source::Mem(bytes)))
    }
    /// Beyond [`MAX_BINARY`] (a 700 MB Terraform provider), a binary is read in bounded
    /// memory instead: through its headers when it can seek, else as it goes by.
    fn streams(&self, _path: &str, size: u64) -> bool {
        size > MAX_BINARY
    }
    fn parse_stream(&self, _path: &str, size: u64, input: Input<'_>) -> Result<Parsed, String> {
        let r = match input {
            Input::File(f) => return binary(&exe::Exe::open(exe::Source::File(f))),
            Input::Stream(r) => r,
        };
        let mut go = golang::BuildinfoWatch::new(size);
        let mut rust = cargo::AuditableWatch::default();
        let watched = exe::watch(r, size, &mut [&mut go, &mut rust])?;
        let mut problems = Vec::new();
        let mut found = go.finish(&mut problems)?.unwrap_or_default();
        if let Some(crates) = rust.finish(&watched.images, &mut problems)? {
            found.extend(crates);
        }
        Ok(Parsed {
            fact: Fact::Lang(found),
            problems,
        })
    }
}

/// What a Go or Rust binary says it was built from.
fn binary(exe: &exe::Exe<'_>) -> Result<Parsed, String> {
    let mut found = golang::buildinfo(exe)?.unwrap_or_default();
    if let Some(crates) = cargo::auditable(exe)? {
        found.extend(crates);
    }
    Ok(Fact::Lang(found).into())
}

/// Installed gem specifications and `Gemfile.lock` (`crate::lang::ruby`).
pub(crate) struct RubyAnalyzer;

impl Analyzer for RubyAnalyzer {
    fn name(&self) -> &'static str {
        "ruby"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        crate::lang::ruby::wants(path)
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        crate::lang::ruby::parse(path, bytes).map(|p| Fact::Lang(p).into())
    }
}

/// Composer's `vendor/composer/installed.json` and `composer.lock` (`crate::lang::php`).
pub(crate) struct PhpAnalyzer;

impl Analyzer for PhpAnalyzer {
    fn name(&self) -> &'static str {
        "php"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        crate::lang::php::wants(path)
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        crate::lang::php::parse(path, bytes).map(|p| Fact::Lang(p).into())
    }
}

/// .NET's `*.deps.json` and NuGet's `packages.lock.json` (`crate::lang::dotnet`).
pub(crate) struct DotnetAnalyzer;

impl Analyzer for DotnetAnalyzer {
    fn name(&self) -> &'static str {
        "dotnet"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        EVERYWHERE
    }
    fn wants(&self, path: &str) -> bool {
        crate::lang::dotnet::wants(path)
    }
    fn max_size(&self) -> u64 {
        MAX_TEXT
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        crate::lang::dotnet::parse(path, bytes).map(|p| Fact::Lang(p).into())
    }
}
