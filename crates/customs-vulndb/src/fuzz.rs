//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`), one per feed format.
//!
//! Each takes arbitrary bytes, runs the parsers of one upstream format and drops the result:
//! the property under test is that no input makes a parser panic, hang or allocate without
//! bound. Feeds are read as text, so bytes that are not UTF-8 are dropped. Where one format
//! comes in several spellings (OSV as JSON, YAML or recorded API answers; the Debian lists),
//! every spelling's parser reads the input. `cargo test` replays every file under
//! `fuzz/regressions/<target>/` through [`TARGETS`].

use std::path::Path;

use crate::feeds::{alpine, debian, enrich, osv, redhat, ubuntu};

/// What every fuzz target calls.
pub type Entry = fn(&[u8]);

/// Every entry point of this crate, by its fuzz target's name.
pub const TARGETS: &[(&str, Entry)] = &[
    ("feed_osv", feed_osv),
    ("feed_osv_zip", feed_osv_zip),
    ("feed_rustsec", feed_rustsec),
    ("feed_debian_list", feed_debian_list),
    ("feed_debian_json", feed_debian_json),
    ("feed_ubuntu", feed_ubuntu),
    ("feed_redhat", feed_redhat),
    ("feed_redhat_lists", feed_redhat_lists),
    ("feed_alpine", feed_alpine),
    ("feed_nvd", feed_nvd),
    ("feed_kev", feed_kev),
    ("feed_epss", feed_epss),
];

const ORIGIN: &str = "fuzz";

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Red Hat's `changes.csv` / `deletions.csv` and `archive_latest.txt`, as an update reads
/// them before it fetches anything they name.
pub fn feed_redhat_lists(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = crate::vex_archive::listed_since(t, "2026-01-01", "changes.csv");
    let _ = crate::vex_archive::archive_date(t.trim());
}

/// OSV's `all.zip` archives are binary: the bytes go in as they are.
pub fn feed_osv_zip(data: &[u8]) {
    let _ = crate::build::count_records(crate::FeedKind::OsvZip, ORIGIN, data);
}

pub fn feed_osv(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = osv::parse_osv_json(ORIGIN, t);
    let _ = osv::parse_osv_yaml(ORIGIN, t);
    let _ = osv::parse_osv_cassette(ORIGIN, t);
    let _ = crate::detect(Path::new("fuzz.json"), t);
}

pub fn feed_rustsec(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = osv::parse_rustsec(ORIGIN, t);
    let _ = crate::detect(Path::new("RUSTSEC-2020-0001.md"), t);
}

/// The tracker's `data/CVE/list`, `data/DSA/list` and `data/DLA/list`, which share a grammar.
pub fn feed_debian_list(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = debian::parse_cve_list(ORIGIN, t);
    let _ = debian::parse_dsa_list(ORIGIN, t);
    let _ = debian::parse_dla_list(ORIGIN, t);
    let _ = crate::detect(Path::new("list"), t);
}

pub fn feed_debian_json(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = debian::parse_tracker_json(ORIGIN, t);
}

pub fn feed_ubuntu(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = ubuntu::parse_uct(ORIGIN, t);
    let _ = crate::detect(Path::new("CVE-2020-0001"), t);
}

pub fn feed_redhat(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = redhat::parse_csaf_vex(ORIGIN, t);
}

pub fn feed_alpine(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = alpine::parse_secdb_yaml(ORIGIN, t);
    let _ = alpine::parse_secdb_json(ORIGIN, t);
    let _ = crate::detect(Path::new("main.yaml"), t);
}

pub fn feed_nvd(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = enrich::parse_nvd(ORIGIN, t);
}

pub fn feed_kev(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = enrich::parse_kev_json(ORIGIN, t);
    let _ = enrich::parse_kev_csv(ORIGIN, t);
    let _ = crate::detect(Path::new("known_exploited_vulnerabilities.csv"), t);
}

pub fn feed_epss(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = enrich::parse_epss_csv(ORIGIN, t);
}

#[cfg(test)]
#[path = "../../../fuzz/replay.rs"]
mod tests;
