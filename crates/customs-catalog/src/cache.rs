//! The layer cache: a layer's facts, stored under `layers/<analyzer-set>/<alg>/<hex>.json` in
//! customs' cache directory and keyed by the layer's diff_id. Writes are atomic (a temporary
//! file renamed into place), so a crash or two concurrent scans never leave a torn entry; an
//! entry that does not parse is treated as a miss.

use std::io::Write;
use std::path::{Path, PathBuf};

use customs_image::Digest;

use crate::facts::LayerFacts;

pub(crate) struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    pub(crate) fn new(root: &Path, set_version: &str) -> Self {
        Self {
            dir: root.join("layers").join(set_version),
        }
    }

    fn path(&self, diff_id: &Digest) -> PathBuf {
        self.dir
            .join(diff_id.algorithm().as_str())
            .join(format!("{}.json", diff_id.hex()))
    }

    pub(crate) fn get(&self, diff_id: &Digest) -> Option<LayerFacts> {
        let bytes = std::fs::read(self.path(diff_id)).ok()?;
        serde_json::from_slice(&bytes).ok()
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
