//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`). An SBOM handed to
//! `customs scan sbom:` comes from anyone: no input may make the reader panic or allocate
//! without bound. `cargo test` replays every file under `fuzz/regressions/<target>/` through
//! [`TARGETS`].

/// What every fuzz target calls.
pub type Entry = fn(&[u8]);

/// Every entry point of this crate, by its fuzz target's name.
pub const TARGETS: &[(&str, Entry)] = &[("sbom_read", sbom_read)];

/// The input as an SBOM (CycloneDX, SPDX or syft JSON).
pub fn sbom_read(data: &[u8]) {
    let _ = crate::sbom::read(data, "fuzz");
}

#[cfg(test)]
#[path = "../../../fuzz/replay.rs"]
mod tests;
