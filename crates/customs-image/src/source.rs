//! What the user named: `KIND:PATH[:SELECTOR]`, or a bare path whose kind is detected.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::ImageError;

/// The kinds of source customs reads an image from; the `KIND:` prefix of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// An OCI image layout directory.
    Oci,
    /// An OCI image layout in a tar file.
    OciArchive,
    /// `docker save` output (legacy `manifest.json`, or Docker 25's OCI layout in a tar).
    DockerArchive,
    /// An unpacked root filesystem.
    Dir,
    /// An SBOM file (CycloneDX, SPDX or syft JSON) standing for an image: `customs-report`
    /// reads it into an inventory; it has no layers to open.
    Sbom,
    /// An image in an OCI distribution registry.
    Registry,
}

impl SourceKind {
    /// The kind's prefix as the user writes it (`oci-archive`), which is also its serialized
    /// form in inventories and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oci => "oci",
            Self::OciArchive => "oci-archive",
            Self::DockerArchive => "docker-archive",
            Self::Dir => "dir",
            Self::Sbom => "sbom",
            Self::Registry => "registry",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed source: its kind, the path, and an optional selector (a tag in a layout, a
/// `repo:tag` or `@N` in a docker archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// The kind named, or detected from the path's contents (see `detected`).
    pub kind: SourceKind,
    /// The file or directory on disk; empty for a registry source.
    pub path: PathBuf,
    /// What follows the path: a tag (`oci:`, `oci-archive:`), `REPO:TAG` or `@N` (counted
    /// from 0) for a `docker-archive:`. `None` when nothing follows; never empty.
    pub selector: Option<String>,
    /// What the user typed.
    pub input: String,
    /// The kind was detected, not named: a compressed archive is re-detected once decompressed.
    pub detected: bool,
    /// The image reference, for a registry source.
    pub image: Option<customs_registry::Reference>,
}

impl SourceRef {
    /// Parse `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF|:@N]`,
    /// `dir:DIR`, `sbom:FILE` (`sbom:-`: standard input), `registry:REF` (or `docker://REF`), or a bare path, whose kind is detected
    /// from its contents (a directory with `index.json` is an OCI layout, any other a root
    /// filesystem; a tar with `manifest.json` is a docker archive, one with only `index.json`
    /// an oci-archive). Where a selector may follow, the path part may itself contain `:`:
    /// it is all path when that exists on disk, else the path ends at the first `:` before
    /// which what precedes exists. A bare input that is not a path on disk is read as an image
    /// reference, as `docker pull` would (`nginx:1.25`, `127.0.0.1:5000/app@sha256:…`),
    /// unless it looks like a path (it starts with `/`, `.` or `~`, ends with `/`, or is named
    /// like an archive, `*.tar`, `*.tar.gz`, `*.oci`, …): then it is a missing file, and no
    /// registry is asked.
    pub fn parse(input: &str) -> Result<Self, ImageError> {
        let bad = |why: String| ImageError::BadSource {
            input: input.to_owned(),
            why,
        };
        if let Some(rest) = input.strip_prefix("sbom:") {
            if rest.is_empty() {
                return Err(bad(
                    "no path given (sbom:FILE, or sbom:- for standard input)".to_owned(),
                ));
            }
            let path = PathBuf::from(rest);
            if rest != "-" && !path.is_file() {
                return Err(ImageError::NotFound {
                    path,
                    hint: String::new(),
                });
            }
            return Ok(Self {
                kind: SourceKind::Sbom,
                path,
                selector: None,
                input: input.to_owned(),
                detected: false,
                image: None,
            });
        }
        let named_registry = input
            .strip_prefix("registry:")
            .or_else(|| input.strip_prefix("docker://"));
        let bare_missing = named_registry.is_none()
            && !Path::new(input).exists()
            && !["oci:", "oci-archive:", "docker-archive:", "dir:"]
                .iter()
                .any(|k| input.starts_with(k));
        if bare_missing && let Some(like) = PathLike::of(input) {
            return Err(ImageError::NotFound {
                path: PathBuf::from(input),
                hint: like.hint(input),
            });
        }
        if let Some(r) = named_registry.or(bare_missing.then_some(input)) {
            let image = customs_registry::Reference::parse(r).map_err(|e| {
                if named_registry.is_some() {
                    bad(e.to_string())
                } else {
                    bad(format!(
                        "no such file or directory, and not an image reference ({e})"
                    ))
                }
            })?;
            return Ok(Self {
                kind: SourceKind::Registry,
                path: PathBuf::new(),
                selector: None,
                input: input.to_owned(),
                detected: named_registry.is_none(),
                image: Some(image),
            });
        }
        let (kind, rest) = match input.split_once(':') {
            Some(("oci", r)) => (Some(SourceKind::Oci), r),
            Some(("oci-archive", r)) => (Some(SourceKind::OciArchive), r),
            Some(("docker-archive", r)) => (Some(SourceKind::DockerArchive), r),
            Some(("dir", r)) => (Some(SourceKind::Dir), r),
            _ => (None, input),
        };
        if rest.is_empty() {
            return Err(bad("no path given".to_owned()));
        }
        let (path, selector) = if kind == Some(SourceKind::Dir) || kind.is_none() {
            (PathBuf::from(rest), None)
        } else {
            split_existing(rest).ok_or_else(|| ImageError::NotFound {
                path: PathBuf::from(rest),
                hint: String::new(),
            })?
        };
        if !path.exists() {
            return Err(ImageError::NotFound {
                path,
                hint: String::new(),
            });
        }
        let detected = kind.is_none();
        let kind = match kind {
            Some(k) => k,
            None => detect(&path)?,
        };
        if let Some(s) = &selector
            && (kind == SourceKind::Dir || s.is_empty())
        {
            return Err(bad(format!("unexpected selector {s:?}")));
        }
        Ok(Self {
            kind,
            path,
            selector,
            input: input.to_owned(),
            detected,
            image: None,
        })
    }
}

/// Why a bare input that is not on disk is a file the user named, not an image reference.
///
/// Asking a registry for `missing.tar` meant a Docker Hub round trip, retried, to learn what
/// the user already knew: the name is a file's. So an input is taken for a path when
///
/// - it starts with `/`, `.` or `~` (`/abs`, `./x`, `../x`, `.hidden`, `~/x`): no reference can,
///   as docker's grammar starts registry hosts and repository components with a letter or
///   digit;
/// - it ends with `/`: a directory; a reference cannot end so either;
/// - or its last component ends with an archive's extension: `.tar`, `.tar.gz`, `.tgz`,
///   `.tar.zst`, `.tar.zstd`, `.tzst` (what `docker save`, skopeo and `tar` write, compressed
///   or not) or `.oci` (a name some guides give oci-archives). A reference *can* end so (a tag
///   `v1.tar`, a repository `org/app.oci`), but hardly ever does, and `registry:REF` still
///   reaches one; the message says so.
///
/// Everything else (`nginx`, `a/b`, `nginx:1.25`, `host:5000/repo:tag`, `app@sha256:…`) is a
/// reference, as `docker pull` reads it. `.tar.xz` and `.tar.bz2` are not listed: customs
/// does not read those archives, and such a file, present, is refused as "not a tar archive".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathLike {
    /// Starts with `/`, `.` or ends with `/`.
    Path,
    /// Starts with `~`: the shell expands it, and did not (it was quoted).
    Tilde,
    /// Named like an archive.
    ArchiveName,
}

/// Lower-case, checked against the input's last `/`-separated component.
const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.zst",
    ".tar.zstd",
    ".tzst",
    ".oci",
];

impl PathLike {
    fn of(input: &str) -> Option<Self> {
        if input.starts_with('~') {
            return Some(Self::Tilde);
        }
        if input.starts_with(['/', '.']) || input.ends_with('/') {
            return Some(Self::Path);
        }
        let last = input
            .rsplit('/')
            .next()
            .unwrap_or(input)
            .to_ascii_lowercase();
        ARCHIVE_EXTENSIONS
            .iter()
            .any(|ext| last.ends_with(ext))
            .then_some(Self::ArchiveName)
    }

    /// What to add to "no such file or directory", if anything.
    fn hint(self, input: &str) -> String {
        match self {
            Self::Path => String::new(),
            Self::Tilde => {
                " (customs does not expand ~; the shell does, when it is not quoted)".to_owned()
            }
            Self::ArchiveName if customs_registry::Reference::parse(input).is_ok() => {
                format!(" (for an image of that name in a registry, write registry:{input})")
            }
            Self::ArchiveName => String::new(),
        }
    }
}

/// Split `PATH[:SELECTOR]` at the first `:` whose prefix exists on disk.
fn split_existing(rest: &str) -> Option<(PathBuf, Option<String>)> {
    if Path::new(rest).exists() {
        return Some((PathBuf::from(rest), None));
    }
    rest.match_indices(':').find_map(|(i, _)| {
        let p = Path::new(&rest[..i]);
        p.exists()
            .then(|| (p.to_owned(), Some(rest[i + 1..].to_owned())))
    })
}

/// Decide a bare path's kind: a directory with `index.json` (or an `oci-layout` file) is an OCI
/// layout, any other directory a root filesystem; a tar with `manifest.json` is a docker
/// archive, one with only `index.json` an oci-archive.
pub(crate) fn detect(path: &Path) -> Result<SourceKind, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| ImageError::io(path, e))?;
    if meta.is_dir() {
        let oci = path.join("index.json").exists() || path.join("oci-layout").is_file();
        return Ok(if oci {
            SourceKind::Oci
        } else {
            SourceKind::Dir
        });
    }
    let mut head = [0u8; 512];
    let mut f = std::fs::File::open(path).map_err(|e| ImageError::io(path, e))?;
    let n = read_full(&mut f, &mut head).map_err(|e| ImageError::io(path, e))?;
    let is_tar = n == 512 && &head[257..262] == b"ustar";
    // A compressed archive is told apart once decompressed (see `open`).
    if matches!(
        &head[..n.min(4)],
        [0x1f, 0x8b, ..] | [0x28, 0xb5, 0x2f, 0xfd]
    ) {
        return Ok(SourceKind::DockerArchive);
    }
    if !is_tar {
        // Naming a kind would not help: every kind but `dir:` is a directory or a tar.
        return Err(ImageError::NotTar {
            path: path.to_owned(),
            compression: crate::Compression::None,
        });
    }
    let index = crate::archive::ArchiveIndex::open(path, None, crate::StreamLimits::default())?;
    archive_kind(&index)
}

/// A tar with `manifest.json` is a docker archive (Docker 25 writes `index.json` too); one with
/// only `index.json` an oci-archive; `repositories` alone is a pre-1.10 docker save.
pub(crate) fn archive_kind(index: &crate::archive::ArchiveIndex) -> Result<SourceKind, ImageError> {
    if index.contains("manifest.json") || index.contains("repositories") {
        Ok(SourceKind::DockerArchive)
    } else if index.contains("index.json") {
        Ok(SourceKind::OciArchive)
    } else {
        Err(ImageError::BadSource {
            input: index.display().display().to_string(),
            why: "not an image archive: neither manifest.json (docker-archive) nor index.json (oci-archive)"
                .to_owned(),
        })
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_json() {
        for kind in [
            SourceKind::Oci,
            SourceKind::OciArchive,
            SourceKind::DockerArchive,
            SourceKind::Dir,
            SourceKind::Registry,
        ] {
            let v = serde_json::to_value(kind).unwrap();
            assert_eq!(v, serde_json::Value::from(kind.as_str()));
            assert_eq!(serde_json::from_value::<SourceKind>(v).unwrap(), kind);
        }
        assert!(serde_json::from_value::<SourceKind>("OciArchive".into()).is_err());
    }

    #[test]
    fn parses_kinds_and_selectors() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("lay:out");
        std::fs::create_dir(&layout).unwrap();
        std::fs::write(layout.join("index.json"), "{}").unwrap();
        let s = SourceRef::parse(&format!("oci:{}:v1", layout.display())).unwrap();
        assert_eq!(s.kind, SourceKind::Oci);
        assert_eq!(s.path, layout);
        assert_eq!(s.selector.as_deref(), Some("v1"));
        let s = SourceRef::parse(&layout.display().to_string()).unwrap();
        assert_eq!(s.kind, SourceKind::Oci);
        let s = SourceRef::parse(&format!("dir:{}", dir.path().display())).unwrap();
        assert_eq!(s.kind, SourceKind::Dir);
        assert!(SourceRef::parse("oci:/nonexistent/x").is_err());
        assert!(SourceRef::parse("dir:").is_err());
        let s = SourceRef::parse("nginx:1.25").unwrap();
        assert_eq!(s.kind, SourceKind::Registry);
        assert_eq!(s.image.unwrap().to_string(), "docker.io/library/nginx:1.25");
        let s = SourceRef::parse("docker://127.0.0.1:5000/debian-app:1").unwrap();
        assert_eq!(s.kind, SourceKind::Registry);
        assert!(!s.detected);
        let s = SourceRef::parse("registry:ghcr.io/org/app").unwrap();
        assert_eq!(s.image.unwrap().registry, "ghcr.io");
    }

    /// What a bare input names when nothing is at that path, and what each kind prefix
    /// does with a missing path. Papercut: `customs sbom missing.tar` asked Docker Hub for
    /// `library/missing.tar` and retried the DNS failure six times.
    #[test]
    fn missing_paths_and_references_decision_table() {
        enum Want {
            /// An image reference, as normalised.
            Reference(String),
            /// The whole message of a missing path, no registry asked.
            Missing(String),
            /// Neither: the message contains this.
            Bad(&'static str),
        }
        let reference = |r: &str| Want::Reference(r.to_owned());
        let missing = |path: &str, hint: &str| {
            Want::Missing(format!("{path}: no such file or directory{hint}"))
        };
        let via_registry = |name: &str| {
            format!(" (for an image of that name in a registry, write registry:{name})")
        };
        let tilde = " (customs does not expand ~; the shell does, when it is not quoted)";
        let pinned = format!("127.0.0.1:5000/app@sha256:{}", "0123456789abcdef".repeat(4));
        let mut cases: Vec<(&str, Want)> = Vec::new();
        // Named like an archive: a missing file, with the way to a registry when the name is
        // also a valid reference.
        for name in [
            "missing.tar",
            "images/app.tar.gz",
            "app.tgz",
            "app.tar.zst",
            "app.tar.zstd",
            "app.tzst",
            "app.oci",
            "localhost:5000/app:v1.tar",
        ] {
            cases.push((name, missing(name, &via_registry(name))));
        }
        cases.extend([
            // Upper case is no reference: no hint.
            ("Saved.TAR", missing("Saved.TAR", "")),
            // Starts or ends as only a path can.
            ("/nonexistent/Dir", missing("/nonexistent/Dir", "")),
            ("/nonexistent/x.tar", missing("/nonexistent/x.tar", "")),
            ("./app", missing("./app", "")),
            ("../app", missing("../app", "")),
            (".app", missing(".app", "")),
            ("rootfs/", missing("rootfs/", "")),
            ("~/app.tar", missing("~/app.tar", tilde)),
            // References, as docker reads them.
            ("nginx", reference("docker.io/library/nginx:latest")),
            ("a/b", reference("docker.io/a/b:latest")),
            ("nginx:1.25", reference("docker.io/library/nginx:1.25")),
            ("host:5000/repo:tag", reference("host:5000/repo:tag")),
            (&pinned, reference(&pinned)),
            (
                "ghcr.io/org/tarball",
                reference("ghcr.io/org/tarball:latest"),
            ),
            ("app:v1.tar-1", reference("docker.io/library/app:v1.tar-1")),
            // Forced to a registry, whatever it looks like...
            (
                "registry:missing.tar",
                reference("docker.io/library/missing.tar:latest"),
            ),
            (
                "docker://localhost:5000/app.oci",
                reference("localhost:5000/app.oci:latest"),
            ),
            // ... and refused as a reference, never taken for a missing file.
            (
                "registry:Missing.TAR",
                Want::Bad("invalid source \"registry:Missing.TAR\""),
            ),
            // A kind named, its path missing.
            (
                "oci:/nonexistent/layout",
                missing("/nonexistent/layout", ""),
            ),
            ("oci-archive:missing.tar", missing("missing.tar", "")),
            (
                "docker-archive:./missing.tar:@0",
                missing("./missing.tar:@0", ""),
            ),
            ("dir:/nonexistent/root", missing("/nonexistent/root", "")),
            // Neither a path nor a reference.
            (
                "Upper/Case:1",
                Want::Bad("no such file or directory, and not an image reference"),
            ),
        ]);
        for (input, want) in &cases {
            assert!(!Path::new(input).exists(), "{input} exists here");
            match (want, SourceRef::parse(input)) {
                (Want::Reference(r), Ok(s)) => {
                    assert_eq!(s.kind, SourceKind::Registry, "{input}");
                    assert_eq!(s.image.unwrap().to_string(), *r, "{input}");
                }
                (Want::Missing(m), Err(e @ ImageError::NotFound { .. })) => {
                    assert_eq!(e.to_string(), *m, "{input}");
                }
                (Want::Bad(b), Err(e)) if !matches!(e, ImageError::NotFound { .. }) => {
                    assert!(e.to_string().contains(b), "{input}: {e}");
                }
                (_, got) => panic!("{input}: got {got:?}"),
            }
        }
    }
}
