//! The layer cache: a layer's facts, stored as `<analyzer-set>/<alg>/<hex>.json` under the
//! directory it is given (customs' cache directory gives its `layers/`; `customs-app` owns that
//! layout) and keyed by the layer's diff_id. Writes are atomic (a temporary
//! file renamed into place), so a crash or two concurrent scans never leave a torn entry; an
//! entry that does not parse is treated as a miss. An entry's mtime is its last use (a hit
//! refreshes it), which is what `customs cache prune` goes by.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use customs_image::Digest;

use crate::analyzer;
use crate::facts::LayerFacts;

/// The directory name (`<layer cache>/<name>`) this build's analyzers cache under: it changes whenever
/// the walker or any analyzer changes what it extracts, so entries of another set are stale.
/// Listing files caches more per layer, hence its own `-files` set.
pub fn cache_set_version(list_files: bool) -> String {
    let mut set = analyzer::set_version(analyzer::all());
    if list_files {
        set.push_str("-files");
    }
    set
}

/// The set a catalog run caches under: [`cache_set_version`], and when the secret, config or
/// file scanners run, what they keep per layer (`-s` and the secret rules' fingerprint, `-m`
/// for the file and config checks' entries).
pub(crate) fn cache_set(
    list_files: bool,
    scanners: &customs_detect::Scanners,
    rules: &customs_detect::RuleSet,
) -> String {
    let mut set = cache_set_version(list_files);
    if scanners.secret {
        set.push_str("-s");
        set.push_str(&rules.fingerprint());
    }
    if scanners.file || scanners.config {
        set.push_str("-m");
    }
    set
}

/// Whether a layer cache set's directory name is one this build writes (for `cache prune`).
pub fn is_current_cache_set(name: &str) -> bool {
    [cache_set_version(true), cache_set_version(false)]
        .iter()
        .any(|base| {
            name.strip_prefix(base.as_str()).is_some_and(|rest| {
                rest.is_empty()
                    || rest == "-m"
                    || rest.strip_prefix("-s").is_some_and(|r| {
                        let fp = r.strip_suffix("-m").unwrap_or(r);
                        fp.bytes().all(|b| b.is_ascii_hexdigit())
                    })
            })
        })
}

pub(crate) struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    pub(crate) fn new(root: &Path, set_version: &str) -> Self {
        Self {
            dir: root.join(set_version),
        }
    }

    fn path(&self, diff_id: &Digest) -> PathBuf {
        self.dir
            .join(diff_id.algorithm().as_str())
            .join(format!("{}.json", diff_id.hex()))
    }

    pub(crate) fn get(&self, diff_id: &Digest) -> Option<LayerFacts> {
        let mut file = std::fs::File::open(self.path(diff_id)).ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        let facts = serde_json::from_slice(&bytes).ok()?;
        // A read-only or foreign-owned cache still serves hits; it just ages as if unused.
        let _ = file.set_modified(std::time::SystemTime::now());
        Some(facts)
    }

    pub(crate) fn put(&self, diff_id: &Digest, facts: &LayerFacts) -> std::io::Result<()> {
        let path = self.path(diff_id);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), facts)?;
        tmp.as_file_mut().flush()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    #[test]
    fn a_hit_refreshes_the_entry_mtime() {
        let root = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(root.path(), "test");
        let d: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        cache.put(&d, &LayerFacts::default()).unwrap();
        let path = cache.path(&d);
        let old = SystemTime::now() - Duration::from_secs(90 * 86_400);
        std::fs::File::open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(cache.get(&d).is_some());
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert!(mtime > old + Duration::from_secs(86_400), "{mtime:?}");
    }

    #[test]
    fn a_miss_creates_nothing() {
        let root = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(root.path(), "test");
        let d: Digest = format!("sha256:{}", "cd".repeat(32)).parse().unwrap();
        assert!(cache.get(&d).is_none());
        assert!(!root.path().join("test").exists());
    }

    #[test]
    fn the_files_set_is_its_own() {
        assert_eq!(cache_set_version(true), cache_set_version(false) + "-files");
    }
}
