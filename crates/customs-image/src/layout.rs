//! Opening an image: from a source to its manifest, config and layers.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::archive::ArchiveIndex;
use crate::manifest::{self, Descriptor, ImageConfig, Parsed};
use crate::store::Store;
use crate::{Digest, ImageError, LayerReader, Platform, SourceKind, SourceRef, StreamLimits};

/// Manifests, indexes and configs are small; anything bigger is not one.
const MAX_JSON: u64 = 8 << 20;
/// Index → index nesting allowed before we call it a cycle.
const MAX_DEPTH: usize = 4;
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Where an opened image came from, as recorded in its inventory and report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The kind the image was read as: the one named, or for a bare path the one detected
    /// from its contents (for a compressed archive, once decompressed).
    pub kind: SourceKind,
    /// The source exactly as the user typed it ([`SourceRef::input`]): `oci:dir:tag`,
    /// `image.tar`, `nginx:1.25`. Not normalised, so the same image named two ways gives two
    /// references.
    pub reference: String,
    /// For an OCI layout or archive: the tag the image has in it
    /// (`org.opencontainers.image.ref.name`), whether it was named or the only image there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// For an SBOM source: the image the SBOM says it describes, as it names it
    /// (`registry.example/app:1.2`, or a path for an SBOM made of a local layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described: Option<String>,
}

/// A layer of an opened image. Deserialized (from a stored inventory) it describes the layer but
/// cannot be opened: where its blob lives is not serialized.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    /// The layer's position in the manifest, counted from 0 at the base layer; the argument
    /// [`Image::open_layer`] takes.
    pub index: usize,
    /// The blob digest (compressed), when the source records one. A legacy docker archive
    /// names layers by path and has none.
    pub digest: Option<Digest>,
    /// The digest of the uncompressed tar, from the config's `rootfs.diff_ids`; `None` when
    /// the config lists none. Equal to `digest` for an uncompressed layer.
    pub diff_id: Option<Digest>,
    /// The media type the manifest gives the layer (`application/vnd.oci.image.layer.v1.tar+gzip`
    /// and the like); docker archives give none. Informative only: the stream is decompressed
    /// by magic number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The blob's size in bytes as the manifest gives it (compressed); `None` for docker
    /// archives. When present, opening a blob of another size fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip)]
    blob: String,
}

/// An opened image (or root filesystem).
#[derive(Debug)]
pub struct Image {
    /// What the user named and how it was read.
    pub source: SourceInfo,
    /// The digest of the image manifest that was chosen (after any index was resolved to one
    /// platform), as a registry would name the image. `None` for a root filesystem and for a
    /// legacy docker archive, which carries no manifest.
    pub manifest_digest: Option<Digest>,
    /// The digest of the image config blob (for a docker archive: the SHA-256 of the config
    /// file, which is docker's image ID). `None` for a root filesystem.
    pub config_digest: Option<Digest>,
    /// The parsed image config; all defaults for a root filesystem.
    pub config: ImageConfig,
    /// The layers in manifest order, base first; empty for a root filesystem.
    pub layers: Vec<Layer>,
    /// The chosen manifest's `annotations` (`org.opencontainers.image.base.digest`, …);
    /// empty for a root filesystem and a docker archive, which have no manifest of their own.
    pub annotations: std::collections::BTreeMap<String, String>,
    store: Option<Arc<Store>>,
    rootfs: Option<PathBuf>,
}

impl Image {
    /// The root directory, for a `dir:` source.
    pub fn rootfs(&self) -> Option<&Path> {
        self.rootfs.as_deref()
    }

    /// A human name for layer `i`, used in warnings.
    pub fn describe_layer(&self, i: usize) -> String {
        match (&self.store, self.layers.get(i)) {
            (Some(s), Some(l)) => s.describe(&l.blob),
            _ => format!("layer {i}"),
        }
    }

    /// Open layer `i` as an uncompressed tar stream, checked against its digests.
    pub fn open_layer(&self, i: usize, limits: StreamLimits) -> Result<LayerReader, ImageError> {
        let layer = self
            .layers
            .get(i)
            .ok_or_else(|| ImageError::invalid(&self.source.reference, format!("no layer {i}")))?;
        let store = self.store.as_ref().ok_or_else(|| {
            ImageError::invalid(&self.source.reference, "a root filesystem has no layers")
        })?;
        let what = store.describe(&layer.blob);
        let blob =
            store
                .open_sized(&layer.blob, layer.size)?
                .ok_or_else(|| ImageError::MissingBlob {
                    what: self.source.reference.clone(),
                    digest: layer
                        .digest
                        .as_ref()
                        .map_or_else(|| layer.blob.clone(), ToString::to_string),
                })?;
        if let Some(want) = layer.size
            && want != blob.size
        {
            return Err(ImageError::invalid(
                what,
                format!("blob is {} bytes, the manifest says {want}", blob.size),
            ));
        }
        LayerReader::new(
            blob.reader,
            &what,
            layer.digest.as_ref(),
            layer.diff_id.as_ref(),
            limits,
        )
    }
}

/// How to open an image.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The platform whose image is chosen from a multi-platform index (and from a layout or
    /// archive holding one image per platform); [`Platform::host`] by default.
    pub platform: Platform,
    /// Where a compressed archive (`image.tar.gz`) is decompressed to before it is indexed;
    /// customs passes its own cache directory. Without one, compressed archives are refused.
    pub scratch_dir: Option<PathBuf>,
    /// Decompression-bomb bounds for unpacking a compressed archive into `scratch_dir`. Layer
    /// streams take theirs in [`Image::open_layer`].
    pub limits: StreamLimits,
    /// The client for registry sources; one with default options is made when `None`.
    pub registry: Option<customs_registry::Client>,
    /// Where a registry image's config is kept by digest once fetched, and read from the next
    /// time (checked against its digest): a scan resumed after its process died, or a warm
    /// scan, fetches only the manifest. `None`: always fetched.
    pub config_cache: Option<PathBuf>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            platform: Platform::host(),
            scratch_dir: None,
            limits: StreamLimits::default(),
            registry: None,
            config_cache: None,
        }
    }
}

/// Open the image a source names.
pub fn open(src: &SourceRef, opts: &OpenOptions) -> Result<Image, ImageError> {
    let platform = &opts.platform;
    let mut kind = src.kind;
    let archive = if matches!(kind, SourceKind::OciArchive | SourceKind::DockerArchive) {
        let index = ArchiveIndex::open(&src.path, opts.scratch_dir.as_deref(), opts.limits)?;
        if src.detected {
            kind = crate::source::archive_kind(&index)?;
        }
        Some(index)
    } else {
        None
    };
    let source = SourceInfo {
        kind,
        reference: src.input.clone(),
        tag: None,
        described: None,
    };
    match kind {
        SourceKind::Sbom => Err(ImageError::BadSource {
            input: src.input.clone(),
            why: "an SBOM is a list of packages, not an image: read it with customs_report::sbom"
                .to_owned(),
        }),
        SourceKind::Registry => {
            let Some(image) = src.image.clone() else {
                return Err(ImageError::BadSource {
                    input: src.input.clone(),
                    why: "no image reference".to_owned(),
                });
            };
            let client = match &opts.registry {
                Some(c) => c.clone(),
                None => customs_registry::Client::with_defaults()?,
            };
            open_registry(source, client, image, platform, opts.config_cache.clone())
        }
        SourceKind::Dir => {
            if !src.path.is_dir() {
                return Err(ImageError::BadSource {
                    input: src.input.clone(),
                    why: "not a directory".to_owned(),
                });
            }
            Ok(Image {
                source,
                manifest_digest: None,
                config_digest: None,
                config: ImageConfig::default(),
                layers: Vec::new(),
                annotations: std::collections::BTreeMap::new(),
                store: None,
                rootfs: Some(src.path.clone()),
            })
        }
        SourceKind::Oci => {
            if !src.path.is_dir() {
                return Err(ImageError::BadSource {
                    input: src.input.clone(),
                    why: "an OCI layout is a directory (for a tar file use oci-archive:)"
                        .to_owned(),
                });
            }
            open_layout(
                source,
                Store::Dir(src.path.clone()),
                src.selector.as_deref(),
                platform,
            )
        }
        SourceKind::OciArchive | SourceKind::DockerArchive => {
            let Some(index) = archive else {
                unreachable!("archive kinds are indexed above")
            };
            let store = Store::Archive(index);
            if kind == SourceKind::OciArchive {
                open_layout(source, store, src.selector.as_deref(), platform)
            } else {
                open_docker_archive(source, store, src.selector.as_deref(), platform)
            }
        }
    }
}

fn read_json(store: &Store, rel: &str) -> Result<Vec<u8>, ImageError> {
    store
        .read_small(rel, MAX_JSON)?
        .ok_or_else(|| ImageError::invalid(store.describe(rel), "missing"))
}

/// Read a blob named by a descriptor, checking its digest.
fn read_blob(store: &Store, reference: &str, d: &Digest) -> Result<Vec<u8>, ImageError> {
    let rel = d.blob_path();
    let bytes = store
        .read_small(&rel, MAX_JSON)?
        .ok_or_else(|| ImageError::MissingBlob {
            what: reference.to_owned(),
            digest: d.to_string(),
        })?;
    if !d.matches(&bytes) {
        return Err(ImageError::DigestMismatch {
            what: store.describe(&rel),
            expected: d.to_string(),
            actual: Digest::compute(d.algorithm(), &bytes).to_string(),
        });
    }
    Ok(bytes)
}

/// An image's config: for a registry image, from the config cache when it holds the blob
/// whole (its digest checked), else fetched and kept there; elsewhere, the image's own file.
/// A cache that cannot be written costs a fetch next time, nothing more.
fn read_config(store: &Store, reference: &str, d: &Digest) -> Result<Vec<u8>, ImageError> {
    let Store::Registry {
        config_cache: Some(dir),
        ..
    } = store
    else {
        return read_blob(store, reference, d);
    };
    let path = dir.join(d.blob_path());
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_JSON)
        && let Ok(bytes) = std::fs::read(&path)
        && d.matches(&bytes)
    {
        // The file's time is its last use, which `customs cache prune --older-than` reads.
        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        return Ok(bytes);
    }
    let bytes = read_blob(store, reference, d)?;
    if let Some(parent) = path.parent()
        && std::fs::create_dir_all(parent).is_ok()
        && let Ok(mut tmp) = tempfile::NamedTempFile::new_in(parent)
        && std::io::Write::write_all(&mut tmp, &bytes).is_ok()
    {
        let _ = tmp.persist(&path);
    }
    Ok(bytes)
}

/// Fetch the manifest a reference names, check it, and resolve it to one image. Only the
/// manifest(s) and the config are fetched here; layers are streamed when the catalog reads them.
fn open_registry(
    source: SourceInfo,
    client: customs_registry::Client,
    image: customs_registry::Reference,
    platform: &Platform,
    config_cache: Option<PathBuf>,
) -> Result<Image, ImageError> {
    let fetched = client.manifest(&image, image.manifest_ref())?;
    let what = format!("{image} (manifest)");
    let digest = match &image.digest {
        Some(pinned) => {
            let d: Digest = pinned.parse()?;
            check_bytes(&what, &d, &fetched.bytes)?;
            d
        }
        None => Digest::compute(crate::Algorithm::Sha256, &fetched.bytes),
    };
    // The header is the registry's word for what it sent: a mismatch means the bytes changed
    // on the way.
    if let Some(h) = &fetched.digest_header
        && let Ok(d) = h.parse::<Digest>()
    {
        check_bytes(&what, &d, &fetched.bytes)?;
    }
    let desc = Descriptor {
        media_type: fetched.media_type.clone(),
        digest,
        size: i64::try_from(fetched.bytes.len()).ok(),
        platform: None,
        annotations: std::collections::BTreeMap::new(),
    };
    let store = Store::Registry {
        client,
        image,
        config_cache,
    };
    resolve_from(
        source,
        Arc::new(store),
        desc,
        Some(fetched.bytes),
        platform,
        0,
        &mut HashSet::new(),
    )
}

fn check_bytes(what: &str, d: &Digest, bytes: &[u8]) -> Result<(), ImageError> {
    if d.matches(bytes) {
        return Ok(());
    }
    Err(ImageError::DigestMismatch {
        what: what.to_owned(),
        expected: d.to_string(),
        actual: Digest::compute(d.algorithm(), bytes).to_string(),
    })
}

/// A manifest or index named by digest: a blob in a layout, a manifest endpoint in a registry.
fn read_manifest(store: &Store, reference: &str, d: &Digest) -> Result<Vec<u8>, ImageError> {
    match store {
        Store::Registry { client, image, .. } => {
            let fetched = client.manifest(image, &d.to_string())?;
            check_bytes(&store.describe(&d.blob_path()), d, &fetched.bytes)?;
            Ok(fetched.bytes)
        }
        _ => read_blob(store, reference, d),
    }
}

fn open_layout(
    source: SourceInfo,
    store: Store,
    tag: Option<&str>,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let reference = source.reference.clone();
    if let Some(bytes) = store.read_small("oci-layout", 4096)? {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct LayoutFile {
            image_layout_version: String,
        }
        let v: LayoutFile = serde_json::from_slice(&bytes).map_err(|source| ImageError::Json {
            what: store.describe("oci-layout"),
            source,
        })?;
        if !v.image_layout_version.starts_with("1.") {
            return Err(ImageError::unsupported(
                store.describe("oci-layout"),
                format!("image layout version {}", v.image_layout_version),
            ));
        }
    }
    let what = store.describe("index.json");
    let Some(bytes) = store.read_small("index.json", MAX_JSON)? else {
        return Err(ImageError::invalid(
            store.root().display().to_string(),
            "not an OCI image layout: no index.json",
        ));
    };
    let index = match manifest::parse(&what, &bytes, None)? {
        Parsed::Index(i) => i,
        Parsed::Manifest(_) => {
            return Err(ImageError::invalid(
                what,
                "holds an image manifest; an OCI layout's index.json must be an image index",
            ));
        }
    };
    let desc = choose_top(&reference, &index.manifests, tag, platform)?;
    let source = SourceInfo {
        tag: tag_of(&desc).filter(|t| is_tag(t)).or(source.tag),
        ..source
    };
    resolve(
        source,
        Arc::new(store),
        desc,
        platform,
        0,
        &mut HashSet::new(),
    )
}

/// Choose the entry of a layout's `index.json`: by tag when given, else the one image in it.
fn choose_top(
    reference: &str,
    entries: &[Descriptor],
    tag: Option<&str>,
    platform: &Platform,
) -> Result<Descriptor, ImageError> {
    let tags = || {
        let mut t: Vec<String> = entries.iter().filter_map(tag_of).collect();
        t.sort();
        t.dedup();
        if t.is_empty() {
            "(none)".to_owned()
        } else {
            t.join(", ")
        }
    };
    if let Some(tag) = tag {
        let hits: Vec<&Descriptor> = entries
            .iter()
            .filter(|d| tag_of(d).as_deref() == Some(tag) || name_matches(d, tag))
            .collect();
        if hits.is_empty() {
            return Err(ImageError::Ambiguous {
                reference: reference.to_owned(),
                why: format!("no image tagged {tag:?}; tags here: {}", tags()),
            });
        }
        return pick(reference, &hits, platform);
    }
    let all: Vec<&Descriptor> = entries.iter().collect();
    if all.is_empty() {
        return Err(ImageError::invalid(reference, "index.json lists no images"));
    }
    pick(reference, &all, platform).map_err(|e| match e {
        ImageError::Ambiguous { .. } => ImageError::Ambiguous {
            reference: reference.to_owned(),
            why: format!(
                "holds several images; name one by tag as KIND:PATH:TAG (tags: {})",
                tags()
            ),
        },
        e => e,
    })
}

/// Whether a ref name is a tag (`1`, `v2.0`) rather than a whole reference
/// (`docker.io/library/x:1`, which some tools write there).
fn is_tag(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn tag_of(d: &Descriptor) -> Option<String> {
    d.annotations.get(REF_NAME).cloned()
}

fn name_matches(d: &Descriptor, wanted: &str) -> bool {
    d.annotations
        .get(CONTAINERD_NAME)
        .is_some_and(|n| n == wanted || n.ends_with(&format!("/{wanted}")))
}

/// Among candidate descriptors, pick one: the same digest listed twice is one image; several
/// platforms are chosen between; anything else is ambiguous.
fn pick(
    reference: &str,
    cands: &[&Descriptor],
    platform: &Platform,
) -> Result<Descriptor, ImageError> {
    let mut seen = HashSet::new();
    let unique: Vec<&Descriptor> = cands
        .iter()
        .copied()
        .filter(|d| seen.insert(d.digest.clone()))
        .collect();
    if let [only] = unique.as_slice() {
        return Ok((*only).clone());
    }
    if unique.iter().all(|d| d.platform.is_some()) {
        return choose_platform(reference, &unique, platform);
    }
    Err(ImageError::Ambiguous {
        reference: reference.to_owned(),
        why: format!("{} different images match", unique.len()),
    })
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .get("vnd.docker.reference.type")
        .is_some_and(|t| t == "attestation-manifest")
        || d.platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

fn choose_platform(
    reference: &str,
    entries: &[&Descriptor],
    platform: &Platform,
) -> Result<Descriptor, ImageError> {
    let usable: Vec<&&Descriptor> = entries.iter().filter(|d| !is_attestation(d)).collect();
    if let Some(hit) = usable.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| platform.accepts(&p.os, &p.architecture, p.variant.as_deref()))
    }) {
        return Ok((**hit).clone());
    }
    // One entry without any platform is the image itself (indexes written by hand do this).
    if let [only] = usable.as_slice()
        && only.platform.is_none()
    {
        return Ok((**only).clone());
    }
    let offered: Vec<String> = usable
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .map(|p| match &p.variant {
            Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        })
        .collect();
    Err(ImageError::NoPlatform {
        reference: reference.to_owned(),
        wanted: platform.to_string(),
        offered: if offered.is_empty() {
            "nothing".to_owned()
        } else {
            offered.join(", ")
        },
    })
}

/// Follow a descriptor through indexes to an image manifest, then read its config.
fn resolve(
    source: SourceInfo,
    store: Arc<Store>,
    desc: Descriptor,
    platform: &Platform,
    depth: usize,
    visited: &mut HashSet<Digest>,
) -> Result<Image, ImageError> {
    resolve_from(source, store, desc, None, platform, depth, visited)
}

/// [`resolve`], with the first manifest's bytes already in hand (and checked) when given.
fn resolve_from(
    source: SourceInfo,
    store: Arc<Store>,
    desc: Descriptor,
    prefetched: Option<Vec<u8>>,
    platform: &Platform,
    depth: usize,
    visited: &mut HashSet<Digest>,
) -> Result<Image, ImageError> {
    let reference = source.reference.clone();
    if depth > MAX_DEPTH || !visited.insert(desc.digest.clone()) {
        return Err(ImageError::invalid(
            &reference,
            format!(
                "index nesting loops or is deeper than {MAX_DEPTH} at {}",
                desc.digest
            ),
        ));
    }
    let what = store.describe(&desc.digest.blob_path());
    let bytes = match prefetched {
        Some(b) => b,
        None => read_manifest(&store, &reference, &desc.digest)?,
    };
    match manifest::parse(&what, &bytes, desc.media_type.as_deref())? {
        Parsed::Index(idx) => {
            let entries: Vec<&Descriptor> = idx.manifests.iter().collect();
            if entries.is_empty() {
                return Err(ImageError::invalid(what, "image index lists no manifests"));
            }
            let next = choose_platform(&reference, &entries, platform)?;
            resolve(source, store, next, platform, depth + 1, visited)
        }
        Parsed::Manifest(m) => {
            let cfg_bytes = read_config(&store, &reference, &m.config.digest)?;
            let config =
                manifest::parse_config(&store.describe(&m.config.digest.blob_path()), &cfg_bytes)?;
            let diff_ids = &config.rootfs.diff_ids;
            if !diff_ids.is_empty() && diff_ids.len() != m.layers.len() {
                return Err(ImageError::invalid(
                    what,
                    format!(
                        "{} layers but the config lists {} diff_ids",
                        m.layers.len(),
                        diff_ids.len()
                    ),
                ));
            }
            let layers = m
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    check_layer_media_type(&what, l)?;
                    Ok(Layer {
                        index: i,
                        digest: Some(l.digest.clone()),
                        diff_id: diff_ids.get(i).cloned(),
                        media_type: l.media_type.clone(),
                        size: l.size.and_then(|s| u64::try_from(s).ok()),
                        blob: l.digest.blob_path(),
                    })
                })
                .collect::<Result<Vec<_>, ImageError>>()?;
            Ok(Image {
                source,
                manifest_digest: Some(desc.digest),
                config_digest: Some(m.config.digest),
                config,
                layers,
                annotations: m.annotations,
                store: Some(store),
                rootfs: None,
            })
        }
    }
}

fn check_layer_media_type(what: &str, l: &Descriptor) -> Result<(), ImageError> {
    let Some(mt) = l.media_type.as_deref() else {
        return Ok(());
    };
    if mt.contains("+encrypted") {
        return Err(ImageError::unsupported(
            what,
            format!("encrypted layer {}", l.digest),
        ));
    }
    let known = mt.starts_with("application/vnd.oci.image.layer.")
        || mt.starts_with("application/vnd.docker.image.rootfs.")
        || mt == "application/vnd.docker.image.rootfs.diff.tar";
    if !known {
        return Err(ImageError::unsupported(
            what,
            format!(
                "layer {} has media type {mt:?}, not an image layer",
                l.digest
            ),
        ));
    }
    Ok(())
}

/// One entry of a docker archive's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Option<Vec<String>>,
}

fn open_docker_archive(
    source: SourceInfo,
    store: Store,
    selector: Option<&str>,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let reference = source.reference.clone();
    let what = store.describe("manifest.json");
    let Some(bytes) = store.read_small("manifest.json", MAX_JSON)? else {
        // Docker 25+ always writes manifest.json too, but an OCI layout in a tar is readable.
        if store.read_small("index.json", MAX_JSON)?.is_some() {
            return open_layout(source, store, selector, platform);
        }
        let why = if store.open("repositories")?.is_some() {
            "a `docker save` archive from before Docker 1.10 (no manifest.json): not supported; \
             re-save it with a current docker or skopeo"
        } else {
            "not an image archive: neither manifest.json (docker-archive) nor index.json (oci-archive)"
        };
        return Err(ImageError::invalid(store.root().display().to_string(), why));
    };
    let entries: Option<Vec<DockerEntry>> =
        serde_json::from_slice(&bytes).map_err(|source| ImageError::Json {
            what: what.clone(),
            source,
        })?;
    let entries = entries.unwrap_or_default();
    if entries.is_empty() {
        return Err(ImageError::invalid(what, "lists no images"));
    }
    let all_tags = || {
        entries
            .iter()
            .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let entry = match selector {
        Some(s) if s.starts_with('@') => {
            let n: usize = s[1..].parse().map_err(|_| ImageError::BadSource {
                input: reference.clone(),
                why: format!("{s:?}: @N needs a number"),
            })?;
            entries.get(n).ok_or_else(|| ImageError::Ambiguous {
                reference: reference.clone(),
                why: format!("no image @{n}; the archive holds {}", entries.len()),
            })?
        }
        Some(s) => entries
            .iter()
            .find(|e| {
                e.repo_tags.iter().flatten().any(|t| {
                    t == s || t.ends_with(&format!("/{s}")) || s.ends_with(&format!("/{t}"))
                })
            })
            .ok_or_else(|| ImageError::Ambiguous {
                reference: reference.clone(),
                why: format!("no image tagged {s:?}; tags here: {}", all_tags()),
            })?,
        None if entries.len() == 1 => &entries[0],
        None => {
            return Err(ImageError::Ambiguous {
                reference,
                why: format!(
                    "holds {} images; choose one as docker-archive:PATH:REPO:TAG or :@N (tags: {})",
                    entries.len(),
                    all_tags()
                ),
            });
        }
    };
    let cfg_bytes = read_json(&store, &entry.config).map_err(|e| match e {
        ImageError::Invalid { .. } => ImageError::MissingBlob {
            what: reference.clone(),
            digest: entry.config.clone(),
        },
        e => e,
    })?;
    let config = manifest::parse_config(&store.describe(&entry.config), &cfg_bytes)?;
    let config_digest = Digest::compute(crate::Algorithm::Sha256, &cfg_bytes);
    let layer_paths = entry.layers.clone().unwrap_or_default();
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != layer_paths.len() {
        return Err(ImageError::invalid(
            what,
            format!(
                "{} layers but the config lists {} diff_ids",
                layer_paths.len(),
                diff_ids.len()
            ),
        ));
    }
    let layers = layer_paths
        .iter()
        .enumerate()
        .map(|(i, p)| Layer {
            index: i,
            // Docker 25 names layers by blob digest; the legacy form has only diff_ids.
            digest: p
                .strip_prefix("blobs/sha256/")
                .and_then(|h| format!("sha256:{h}").parse().ok()),
            diff_id: diff_ids.get(i).cloned(),
            media_type: None,
            size: None,
            blob: p.clone(),
        })
        .collect();
    let manifest_digest = docker25_manifest_digest(&store, &config_digest);
    Ok(Image {
        source,
        manifest_digest,
        config_digest: Some(config_digest),
        config,
        layers,
        annotations: std::collections::BTreeMap::new(),
        store: Some(Arc::new(store)),
        rootfs: None,
    })
}

/// Docker 25+ archives carry an OCI index too; find the manifest whose config we read.
fn docker25_manifest_digest(store: &Store, config: &Digest) -> Option<Digest> {
    let bytes = store.read_small("index.json", MAX_JSON).ok()??;
    let Parsed::Index(idx) = manifest::parse("index.json", &bytes, None).ok()? else {
        return None;
    };
    let mut queue: Vec<Descriptor> = idx.manifests;
    for _ in 0..16 {
        let d = queue.pop()?;
        let Ok(b) = read_blob(store, "", &d.digest) else {
            continue;
        };
        match manifest::parse("", &b, d.media_type.as_deref()).ok()? {
            Parsed::Manifest(m) if m.config.digest == *config => return Some(d.digest),
            Parsed::Manifest(_) => {}
            Parsed::Index(i) => queue.extend(i.manifests),
        }
    }
    None
}
