//! The package-manager cache check: which manager a cache belongs to and how big it is.

use super::{ConfigInput, PACKAGE_CACHE, detection, shown};
use crate::{Detection, Location};

/// The manager a cache belongs to, how to avoid leaving it, and the Dockle checkpoint.
fn cache_manager(path: &str) -> (&'static str, &'static str, &'static str) {
    if path.contains("/apt/") || path.ends_with("/apt") {
        (
            "apt",
            "run `apt-get clean && rm -rf /var/lib/apt/lists/*` in the RUN step that installs the packages",
            "DKL-DI-0005",
        )
    } else if path.contains("/apk") {
        ("apk", "install with `apk add --no-cache`", "DKL-DI-0004")
    } else if path.contains("/dnf") {
        (
            "dnf",
            "run `dnf clean all` in the RUN step that installs the packages",
            "DKL-LI-0003",
        )
    } else if path.contains("/yum") {
        (
            "yum",
            "run `yum clean all` in the RUN step that installs the packages",
            "DKL-LI-0003",
        )
    } else if path.contains("/pip") {
        (
            "pip",
            "install with `pip install --no-cache-dir`",
            "DKL-LI-0003",
        )
    } else if path.contains(".npm") || path.contains("/npm") {
        (
            "npm",
            "run `npm cache clean --force` in the RUN step that installs the packages",
            "DKL-LI-0003",
        )
    } else {
        (
            "package manager",
            "delete it in the RUN step that fills it",
            "DKL-LI-0003",
        )
    }
}

/// `1536` → `1.5 KiB`.
pub(super) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024 * 1024 && unit + 1 < UNITS.len() {
        value /= 1024;
        unit += 1;
    }
    // `value` is now below 1 MiB of the unit below `UNITS[unit]`: one decimal, rounded down.
    let tenths = value * 10 / 1024;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

pub(super) fn package_caches(input: &ConfigInput, out: &mut Vec<Detection>) {
    for cache in &input.caches {
        if cache.files == 0 {
            continue;
        }
        let path = shown(&cache.path);
        let (manager, advice, reference) = cache_manager(&cache.path);
        let files = match cache.files {
            1 => "1 file".to_owned(),
            n => format!("{n} files"),
        };
        let mut found = detection(
            &PACKAGE_CACHE,
            format!(
                "The {manager} cache {path} holds {files} ({}) that only make the image bigger; \
                 {advice}.",
                human_bytes(cache.bytes)
            ),
            Location {
                layer: cache
                    .layer_index
                    .and_then(|i| input.layers.get(i).cloned().flatten()),
                layer_index: cache.layer_index,
                path,
                line: None,
            },
            Some(format!("{files}, {} bytes", cache.bytes)),
        );
        found.references = vec![reference.to_owned()];
        out.push(found);
    }
}
