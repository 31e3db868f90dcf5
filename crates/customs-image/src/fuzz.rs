//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`), one per parser.
//!
//! Each takes arbitrary bytes, runs a parser and drops the result: the property under test is
//! that no input makes a parser panic, hang or allocate without bound. Where a type can be
//! printed, what it prints must parse back to the same thing. `cargo test` replays every file
//! under `fuzz/regressions/<target>/` through [`TARGETS`]. Whole archives and layouts are
//! fuzzed from `customs-catalog` (`image_archive`), which can also catalogue them.

use crate::manifest::{self, DOCKER_LIST, DOCKER_MANIFEST, ImageConfig, OCI_INDEX, OCI_MANIFEST};
use crate::platform::Platform;
use customs_types::Digest;

/// What every fuzz target calls.
pub type Entry = fn(&[u8]);

/// Every entry point of this crate, by its fuzz target's name.
pub const TARGETS: &[(&str, Entry)] = &[
    ("image_manifest", image_manifest),
    ("image_config", image_config),
    ("image_refs", image_refs),
];

/// A manifest or index, read as each referrer could declare it (or with no declared type).
pub fn image_manifest(data: &[u8]) {
    for declared in [
        None,
        Some(OCI_MANIFEST),
        Some(OCI_INDEX),
        Some(DOCKER_MANIFEST),
        Some(DOCKER_LIST),
    ] {
        let _ = manifest::parse("fuzz", data, declared);
    }
}

/// An image config; one that parses serialises to JSON that parses to the same JSON.
pub fn image_config(data: &[u8]) {
    let Ok(config) = manifest::parse_config("fuzz", data) else {
        return;
    };
    let printed = serde_json::to_vec(&config).expect("a parsed config serialises");
    let again: ImageConfig =
        manifest::parse_config("fuzz", &printed).expect("a serialised config parses");
    let reprinted = serde_json::to_vec(&again).expect("a parsed config serialises");
    assert_eq!(printed, reprinted, "config JSON is not stable");
}

/// Digests and platforms as users and documents spell them; each one that parses prints back
/// to what it was read from (both are kept as written).
pub fn image_refs(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = text.parse::<Digest>() {
        assert_eq!(d.to_string(), text, "digest does not print as read");
        let again: Digest = d.to_string().parse().expect("a printed digest parses");
        assert_eq!(again, d);
    }
    if let Ok(p) = text.parse::<Platform>() {
        assert_eq!(p.to_string(), text, "platform does not print as read");
        let again: Platform = p.to_string().parse().expect("a printed platform parses");
        assert_eq!(again, p);
    }
}

#[cfg(test)]
#[path = "../../../fuzz/replay.rs"]
mod tests;
