//! Checks on file modes and owners in the final filesystem (docs/checks.md).

use std::collections::{BTreeMap, HashSet};

use customs_types::{Digest, Severity};

use crate::{Detection, DetectionKind, Location};

/// Package-manager cache directories, relative to the root: what `config-package-cache`
/// reports when files are left in them. A directory's own lock and `partial/` are empty
/// book-keeping and are not counted (see [`cache_dir_of`]).
pub const CACHE_DIRS: &[&str] = &[
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "var/cache/apk",
    "var/cache/yum",
    "var/cache/dnf",
    "var/cache/zypp",
    "root/.cache/pip",
    "root/.npm/_cacache",
    "usr/local/share/.cache/yarn",
    "root/.cache/yarn",
    "root/.composer/cache",
    "root/.cache/composer",
    "root/.m2/repository",
    "root/.gradle/caches",
];

/// The cache directory a file (relative path) is in, if it is a cached download rather than
/// the directory's book-keeping (`lock`, `partial/`, apt's `auxfiles/`).
pub fn cache_dir_of(path: &str) -> Option<&'static str> {
    let dir = CACHE_DIRS.iter().find(|d| {
        path.len() > d.len() && path.starts_with(*d) && path.as_bytes()[d.len()] == b'/'
    })?;
    let rest = &path[dir.len() + 1..];
    let name = rest.rsplit('/').next().unwrap_or(rest);
    if name == "lock" || rest.starts_with("partial/") || rest.starts_with("auxfiles/") {
        return None;
    }
    Some(dir)
}

/// One entry of the final filesystem the checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    /// Absolute path (`/usr/bin/passwd`).
    pub path: String,
    /// `file`, `dir`, `symlink`, … as the inventory's file listing names kinds.
    pub kind: String,
    /// `mode & 0o7777`.
    pub mode: u32,
    /// The owner's uid.
    pub uid: u64,
    /// The layer the entry comes from.
    pub layer: Option<Digest>,
    /// Its index.
    pub layer_index: Option<usize>,
}

/// What the file checks read.
#[derive(Debug, Clone, Default)]
pub struct FilesInput {
    /// The entries with set-id bits, world-writable bits or a non-root owner.
    pub entries: Vec<FileFacts>,
    /// Absolute paths the OS packages' file lists name.
    pub owned: HashSet<String>,
    /// The uids `/etc/passwd` lists; `None` when the image has no readable `/etc/passwd`.
    pub known_uids: Option<Vec<u64>>,
}

fn detection(
    code: &str,
    severity: Severity,
    title: &str,
    message: String,
    e: &FileFacts,
    refs: &[&str],
) -> Detection {
    Detection {
        code: code.to_owned(),
        kind: DetectionKind::File,
        severity,
        title: title.to_owned(),
        message,
        location: Location {
            layer: e.layer.clone(),
            layer_index: e.layer_index,
            path: e.path.clone(),
            line: None,
        },
        removed_in: None,
        evidence: Some(format!("mode {:04o}, uid {}", e.mode, e.uid)),
        references: refs.iter().map(|r| (*r).to_owned()).collect(),
    }
}

/// The other name of a path on a merged-/usr system: dpkg's file lists still name
/// `/bin/su` where the layer holds `usr/bin/su` (`/bin` is a symlink to `usr/bin`), and the
/// other way round.
fn merged_usr_alias(path: &str) -> Option<String> {
    const TOP: &[&str] = &["/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"];
    if let Some(rest) = path.strip_prefix("/usr") {
        return TOP
            .iter()
            .any(|t| rest.starts_with(t))
            .then(|| rest.to_owned());
    }
    TOP.iter()
        .any(|t| path.starts_with(t))
        .then(|| format!("/usr{path}"))
}

/// Most unknown-owner detections reported per uid: a directory tree copied with a build
/// machine's uid is one problem, not ten thousand.
const PER_UID: usize = 5;

/// Run every file check.
pub fn check(input: &FilesInput) -> Vec<Detection> {
    let mut out = Vec::new();
    let mut per_uid: BTreeMap<u64, usize> = BTreeMap::new();
    for e in &input.entries {
        let owned = input.owned.contains(&e.path)
            || merged_usr_alias(&e.path).is_some_and(|a| input.owned.contains(&a));
        if e.kind == "file" && e.mode & 0o4000 != 0 && !owned {
            out.push(detection(
                "file-setuid",
                Severity::High,
                "Setuid file no package owns",
                format!(
                    "{} runs as its owner (uid {}) whoever starts it, and no OS package installed it, so no security update will ever fix it. Remove the setuid bit (chmod u-s) unless the image needs it.",
                    e.path, e.uid
                ),
                e,
                &["CIS-DI-0008", "CIS Docker Benchmark 4.8"],
            ));
        }
        if e.kind == "file" && e.mode & 0o2000 != 0 && !owned {
            out.push(detection(
                "file-setgid",
                Severity::Medium,
                "Setgid file no package owns",
                format!(
                    "{} runs with its group's rights whoever starts it, and no OS package installed it. Remove the setgid bit (chmod g-s) unless the image needs it.",
                    e.path
                ),
                e,
                &["CIS-DI-0008", "CIS Docker Benchmark 4.8"],
            ));
        }
        if e.kind == "file" && e.mode & 0o002 != 0 {
            out.push(detection(
                "file-world-writable",
                Severity::Medium,
                "World-writable file",
                format!(
                    "Any user in the container can change {}. Remove the write bit for others (chmod o-w).",
                    e.path
                ),
                e,
                &[],
            ));
        }
        if e.kind == "dir" && e.mode & 0o002 != 0 && e.mode & 0o1000 == 0 {
            out.push(detection(
                "file-world-writable-dir",
                Severity::Medium,
                "World-writable directory without the sticky bit",
                format!(
                    "Any user in the container can delete or replace other users' files in {}. Set the sticky bit (chmod +t), as /tmp has, or remove the write bit for others.",
                    e.path
                ),
                e,
                &[],
            ));
        }
        if e.kind != "symlink" && e.uid != 0 {
            let known = input
                .known_uids
                .as_ref()
                .is_some_and(|u| u.binary_search(&e.uid).is_ok());
            let n = per_uid.entry(e.uid).or_default();
            if !known {
                *n += 1;
                if *n <= PER_UID {
                    let why = if input.known_uids.is_some() {
                        "which /etc/passwd does not list"
                    } else {
                        "and the image has no /etc/passwd"
                    };
                    out.push(detection(
                        "file-unknown-owner",
                        Severity::Low,
                        "File owned by an unknown user",
                        format!(
                            "{} is owned by uid {}, {why}: a user added later with that uid would own it. Usually a build machine's uid copied in; chown it to a user the image defines.",
                            e.path, e.uid
                        ),
                        e,
                        &[],
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: &str, mode: u32, uid: u64) -> FileFacts {
        FileFacts {
            path: path.to_owned(),
            kind: kind.to_owned(),
            mode,
            uid,
            layer: None,
            layer_index: Some(1),
        }
    }

    fn codes(d: &[Detection]) -> Vec<(&str, &str)> {
        d.iter()
            .map(|d| (d.code.as_str(), d.location.path.as_str()))
            .collect()
    }

    #[test]
    fn each_check_and_its_near_miss() {
        let input = FilesInput {
            entries: vec![
                entry("/usr/local/bin/helper", "file", 0o4755, 0),
                entry("/usr/bin/passwd", "file", 0o4755, 0),
                entry("/usr/bin/su", "file", 0o4755, 0),
                entry("/usr/local/bin/report", "file", 0o2755, 0),
                entry("/app/cache", "dir", 0o777, 0),
                entry("/tmp", "dir", 0o1777, 0),
                entry("/app/shared.txt", "file", 0o666, 0),
                entry("/home/app", "dir", 0o755, 1000),
                entry("/srv/x", "file", 0o644, 501),
                entry("/srv/link", "symlink", 0o777, 501),
            ],
            owned: HashSet::from(["/usr/bin/passwd".to_owned(), "/bin/su".to_owned()]),
            known_uids: Some(vec![0, 1000]),
        };
        assert_eq!(
            codes(&check(&input)),
            [
                ("file-setuid", "/usr/local/bin/helper"),
                ("file-setgid", "/usr/local/bin/report"),
                ("file-world-writable-dir", "/app/cache"),
                ("file-world-writable", "/app/shared.txt"),
                ("file-unknown-owner", "/srv/x"),
            ]
        );
    }

    #[test]
    fn unknown_owners_are_capped_per_uid() {
        let input = FilesInput {
            entries: (0..50)
                .map(|i| entry(&format!("/src/{i}"), "file", 0o644, 501))
                .collect(),
            owned: HashSet::new(),
            known_uids: None,
        };
        let d = check(&input);
        assert_eq!(d.len(), PER_UID);
        assert!(d[0].message.contains("no /etc/passwd"));
    }

    #[test]
    fn cache_dirs() {
        assert_eq!(
            cache_dir_of("var/cache/apt/archives/curl_8.deb"),
            Some("var/cache/apt/archives")
        );
        assert_eq!(cache_dir_of("var/cache/apt/archives/lock"), None);
        assert_eq!(cache_dir_of("var/cache/apt/archives/partial/x"), None);
        assert_eq!(cache_dir_of("var/lib/apt/listsx/a"), None);
        assert_eq!(
            cache_dir_of("var/lib/apt/lists/deb.debian.org_InRelease"),
            Some("var/lib/apt/lists")
        );
    }
}
