//! The rpm analyzer: finds rpm databases in any of their three backends and locations. The
//! formats themselves are read by [`crate::rpm`].

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::facts::Fact;

/// Where rpm keeps its database: the classic location, and `/usr/lib/sysimage/rpm` (Fedora 36+,
/// SUSE, RHEL 10), in each backend's file name.
pub(crate) const DB_PATHS: &[&str] = &[
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages.db",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages",
];

pub(crate) struct RpmAnalyzer;

impl Analyzer for RpmAnalyzer {
    fn name(&self) -> &'static str {
        "rpm"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[
            Root::flat("var/lib/rpm"),
            Root::flat("usr/lib/sysimage/rpm"),
        ];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        DB_PATHS.contains(&path)
    }
    fn max_size(&self) -> u64 {
        // Large RHEL hosts reach a few hundred MB of Berkeley DB.
        1 << 30
    }
    fn parse(&self, _path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        crate::rpm::parse_db(bytes)
            .map(|p| Fact::RpmDb(p).into())
            .map_err(|e| {
                // The errors nest (which record, then what is wrong in it): show the whole chain.
                let mut msg = format!("corrupt rpm database: {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    let sep = if msg.ends_with(':') { " " } else { ": " };
                    msg.push_str(&format!("{sep}{c}"));
                    cause = c.source();
                }
                msg
            })
    }
}

/// Preference among several databases in one image: newer backends first.
pub(crate) fn rank(path: &str) -> usize {
    DB_PATHS
        .iter()
        .position(|p| *p == path)
        .unwrap_or(usize::MAX)
}
