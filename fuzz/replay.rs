//! The regression tests every parser crate runs over its fuzz entry points (`TARGETS` in
//! its `src/fuzz.rs`), kept once here and included as that module's `tests` with
//! `#[path]`: the crates share no dependency to hold them, and they are tests only.

use std::path::Path;

use super::TARGETS;

fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz"))
}

/// Every crash the fuzzers found stays fixed: its input goes through the same entry point.
#[test]
fn fuzz_regressions_replay() {
    for (name, entry) in TARGETS {
        let dir = fuzz_dir().join("regressions").join(name);
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for file in files {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let replay = std::panic::catch_unwind(|| entry(&data));
            assert!(replay.is_ok(), "{} fails again", path.display());
        }
    }
}

/// The table and the fuzz crate name the same targets, so no regression goes unreplayed.
#[test]
fn every_entry_point_has_a_fuzz_target() {
    for (name, _) in TARGETS {
        let target = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(target.is_file(), "{} is missing", target.display());
    }
}
