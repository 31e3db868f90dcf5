//! The vulnerability database as a signed OCI artifact (`customs db push`, `customs db pull`).
//!
//! **Layout.** One OCI image manifest with `artifactType` [`ARTIFACT_TYPE`], a config of
//! [`CONFIG_TYPE`] ([`ArtifactConfig`]: schema, build time, newest record, counts, feeds), and
//! one layer per feed: that feed's staging database from `db update` (a SQLite file of the
//! database schema holding the feed's records alone), compressed with zstd, titled with the
//! feed's name. A database built any other way (`db build`, the snapshot) is one layer.
//! The manifest's annotations repeat the schema, build time and newest record, so a registry
//! UI shows them.
//!
//! **Signature.** cosign's key-based format ([`customs_sign::cosign`]): a simple signing
//! payload naming the manifest's digest, signed with ECDSA P-256 or Ed25519, stored under the
//! tag `sha256-<hex>.sig` in the same repository. `cosign verify --key db.pub` accepts it.
//!
//! **Increments.** A feed that did not change keeps its staging database byte for byte, so
//! its layer keeps its digest: a pull keeps the layers it has (by digest, under the cache's
//! `feeds/pulled/`) and downloads only the others. The registry's content addressing is the
//! increment.
//!
//! **Fail closed.** A pull checks the manifest's digest against the signature, every blob
//! against its digest and size, rebuilds the database from the layers into a new file, checks
//! it holds what the config says, and only then renames it over the old one. Anything wrong
//! leaves the old database as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use customs_registry::{Client, Reference, RegistryError};
use customs_sign::cosign::{self, Claims};
use customs_sign::{SigningKey, VerifyingKey};
use customs_types::{Algorithm, Digest, Hasher, Timestamp};
use customs_vulndb::{DB_SCHEMA_VERSION, DbWriter, FileStamp, VulnDb};
use serde::{Deserialize, Serialize};

use crate::database::DbLocation;
use crate::{AppError, CacheDir, Result};

/// The manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.customs.vulndb.v1";
/// The config blob's media type.
pub const CONFIG_TYPE: &str = "application/vnd.customs.vulndb.config.v1+json";
/// A feed layer's media type: a SQLite database of the customs schema, zstd-compressed.
pub const LAYER_TYPE: &str = "application/vnd.customs.vulndb.feed.v1.sqlite+zstd";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const TITLE: &str = "org.opencontainers.image.title";
const CREATED: &str = "org.opencontainers.image.created";
const ANN_SCHEMA: &str = "dev.customs.vulndb.schema";
const ANN_NEWEST: &str = "dev.customs.vulndb.newest";
const ANN_ADVISORIES: &str = "dev.customs.vulndb.advisories";
const ANN_RECORDS: &str = "dev.customs.vulndb.records";

/// zstd level for the layers: about 6× smaller than SQLite's pages at a few hundred MB/s.
/// Deterministic for the same input, which keeps an unchanged feed's digest.
const ZSTD_LEVEL: i32 = 9;
/// Bounds on what a pull accepts from a registry.
const MAX_LAYERS: usize = 256;
const MAX_CONFIG: u64 = 1 << 20;
const MAX_LAYER: u64 = 4 << 30;
const MAX_LAYER_DB: u64 = 16 << 30;

/// What the artifact's config says of the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactConfig {
    /// The database schema version the layers are written in.
    pub schema: i64,
    /// When the database was built.
    pub built_at: Option<Timestamp>,
    /// The newest record date of any feed.
    pub newest_advisory: Option<Timestamp>,
    /// Advisory records in the whole database (a pull checks the rebuilt file against it).
    pub advisories: i64,
    /// NVD, KEV and EPSS records.
    pub enrichment: i64,
    /// The layers' feed names, in layer order.
    pub feeds: Vec<String>,
}

/// One layer of a pushed or pulled artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// The feed's name (the layer's title).
    pub feed: String,
    /// The compressed blob's digest.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Whether this run moved it: uploaded by a push (the registry lacked it), downloaded
    /// by a pull (the cache lacked it).
    pub transferred: bool,
}

/// What `db push` did.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// Where the artifact went (`REGISTRY/REPO:TAG`).
    pub reference: String,
    /// The manifest's digest, which the signature names.
    pub digest: Digest,
    /// The layers, one per feed.
    pub layers: Vec<Layer>,
    /// The tag the signature is stored under.
    pub signature_tag: String,
    /// The signing key's fingerprint (`sha256:` of its public key).
    pub key: String,
    /// The config pushed.
    pub config: ArtifactConfig,
}

/// What `db pull` did.
#[derive(Debug, Clone, Serialize)]
pub struct PullReport {
    /// What was pulled, as given.
    pub reference: String,
    /// The manifest's digest.
    pub digest: Digest,
    /// The database file written (or already current).
    pub path: PathBuf,
    /// The layers.
    pub layers: Vec<Layer>,
    /// What the verified signature claims.
    pub claims: Claims,
    /// The key that verified it.
    pub key: String,
    /// The artifact's config.
    pub config: ArtifactConfig,
    /// The database already was this artifact's: nothing was rebuilt.
    pub unchanged: bool,
}

/// Publish the database at `location` to `target` (a tag) as a signed artifact: the layers
/// the registry lacks, the manifest, and its cosign signature.
///
/// # Errors
/// [`AppError::NoDatabase`] / [`AppError::EmptyDatabase`] (nothing worth publishing),
/// [`AppError::Invalid`] for a target pinned by digest, the registry's errors.
pub fn push(
    client: &Client,
    location: &DbLocation,
    cache: &CacheDir,
    target: &Reference,
    key: &SigningKey,
) -> Result<PushReport> {
    let path = location.path()?;
    if !path.is_file() {
        return Err(AppError::NoDatabase(path));
    }
    let Some(tag) = target.tag.as_deref().filter(|_| target.digest.is_none()) else {
        return Err(AppError::invalid(
            "db push",
            "push to a tag (REGISTRY/REPO:TAG); a digest names content that already exists",
        ));
    };
    let db = VulnDb::open(&path)?;
    if db.is_empty() {
        return Err(AppError::EmptyDatabase(path));
    }
    let info = db.info()?;
    drop(db);
    // Per feed when the database is the one `db update` last built from its staging
    // databases; else the whole file as one layer.
    let files: Vec<(String, PathBuf)> = match customs_vulndb::built_from(&cache.feeds(), &path) {
        Some(staging) => staging
            .into_iter()
            .map(|p| {
                let name = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, p)
            })
            .collect(),
        None => vec![("database".to_owned(), path.clone())],
    };
    let mut layers = Vec::new();
    let mut descriptors = Vec::new();
    for (feed, file) in &files {
        let raw = std::fs::File::open(file).map_err(AppError::io(file))?;
        let blob = zstd::stream::encode_all(raw, ZSTD_LEVEL).map_err(AppError::io(file))?;
        let records = VulnDb::open(file)?.info()?.advisories;
        let digest = Digest::compute(Algorithm::Sha256, &blob);
        let size = blob.len() as u64;
        let transferred = client.push_blob(target, &digest.to_string(), blob.into())?;
        descriptors.push(serde_json::json!({
            "mediaType": LAYER_TYPE,
            "digest": digest.to_string(),
            "size": size,
            "annotations": {TITLE: feed, ANN_RECORDS: records.to_string()},
        }));
        layers.push(Layer {
            feed: feed.clone(),
            digest,
            size,
            transferred,
        });
    }
    let config = ArtifactConfig {
        schema: DB_SCHEMA_VERSION,
        built_at: info.built_at,
        newest_advisory: info.newest_advisory,
        advisories: info.advisories,
        enrichment: info.nvd + info.kev + info.epss,
        feeds: layers.iter().map(|l| l.feed.clone()).collect(),
    };
    let config_blob =
        serde_json::to_vec(&config).map_err(|e| AppError::invalid("config", e.to_string()))?;
    let config_digest = Digest::compute(Algorithm::Sha256, &config_blob);
    client.push_blob(
        target,
        &config_digest.to_string(),
        config_blob.clone().into(),
    )?;
    let mut annotations = BTreeMap::from([
        (ANN_SCHEMA.to_owned(), DB_SCHEMA_VERSION.to_string()),
        (ANN_ADVISORIES.to_owned(), info.advisories.to_string()),
    ]);
    if let Some(t) = info.built_at {
        annotations.insert(CREATED.to_owned(), t.to_string());
    }
    if let Some(t) = info.newest_advisory {
        annotations.insert(ANN_NEWEST.to_owned(), t.to_string());
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {
            "mediaType": CONFIG_TYPE,
            "digest": config_digest.to_string(),
            "size": config_blob.len(),
        },
        "layers": descriptors,
        "annotations": annotations,
    });
    let manifest =
        serde_json::to_vec(&manifest).map_err(|e| AppError::invalid("manifest", e.to_string()))?;
    let digest = Digest::compute(Algorithm::Sha256, &manifest);
    let stored = client.put_manifest(target, tag, OCI_MANIFEST, manifest.into())?;
    if let Some(d) = stored.filter(|d| *d != digest.to_string()) {
        return Err(AppError::invalid(
            format!("{}/{}:{tag}", target.registry, target.repository),
            format!("the registry stored the manifest as {d}, not {digest}"),
        ));
    }
    let signed = cosign::sign(
        key,
        &format!("{}/{}", target.registry, target.repository),
        &digest,
        &BTreeMap::from([(ANN_SCHEMA.to_owned(), DB_SCHEMA_VERSION.to_string())]),
    );
    client.push_blob(
        target,
        &signed.payload_digest.to_string(),
        signed.payload.clone().into(),
    )?;
    let sig_config = Digest::compute(Algorithm::Sha256, &signed.config);
    client.push_blob(
        target,
        &sig_config.to_string(),
        signed.config.clone().into(),
    )?;
    let signature_tag = cosign::signature_tag(&digest);
    client.put_manifest(target, &signature_tag, OCI_MANIFEST, signed.manifest.into())?;
    Ok(PushReport {
        reference: format!("{}/{}:{tag}", target.registry, target.repository),
        digest,
        layers,
        signature_tag,
        key: key.verifying_key().fingerprint(),
        config,
    })
}

/// Why a pull refused what the registry sent. The database is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No signature is stored for the manifest.
    #[error(
        "{reference}: the artifact {digest} is not signed (no {tag} in the repository); nothing was changed"
    )]
    NotSigned {
        /// What was pulled.
        reference: String,
        /// The manifest's digest.
        digest: Digest,
        /// The signature tag looked for.
        tag: String,
    },
    /// Signatures are there, but none verifies with the key for this manifest.
    #[error("{reference}: no signature of {digest} verifies with the key {key}: {}; nothing was changed", .why.join("; "))]
    BadSignature {
        /// What was pulled.
        reference: String,
        /// The manifest's digest.
        digest: Digest,
        /// The key's fingerprint.
        key: String,
        /// Why each signature was refused.
        why: Vec<String>,
    },
    /// A manifest, config or layer that is not what was announced or signed.
    #[error("{reference}: {what}: {why}; nothing was changed")]
    Content {
        /// What was pulled.
        reference: String,
        /// Which part.
        what: String,
        /// What is wrong.
        why: String,
    },
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// What a pull remembers of the artifact the database came from (`feeds/pulled/pulled.json`),
/// so pulling the same manifest again rebuilds nothing.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Pulled {
    digest: Digest,
    #[serde(flatten)]
    db: FileStamp,
}

impl Pulled {
    const FILE: &'static str = "pulled.json";

    fn of(digest: &Digest, db: &Path) -> Option<Self> {
        Some(Self {
            digest: digest.clone(),
            db: FileStamp::of(db)?,
        })
    }
}

/// Fetch the artifact at `source`, verify its signature with `key` and every blob's digest,
/// and swap the database it holds in at `location`. Layers already in the cache (by digest)
/// are not downloaded again.
///
/// # Errors
/// [`PullError`] (as [`AppError::Pull`]) for an unsigned artifact, a signature that does not
/// verify, and content that is not what it claims; the registry's errors. The database is
/// then as it was.
pub fn pull(
    client: &Client,
    location: &DbLocation,
    cache: &CacheDir,
    source: &Reference,
    key: &VerifyingKey,
) -> Result<PullReport> {
    let reference = format!(
        "{}/{}{}",
        source.registry,
        source.repository,
        source
            .digest
            .as_deref()
            .map(|d| format!("@{d}"))
            .or_else(|| source.tag.as_deref().map(|t| format!(":{t}")))
            .unwrap_or_default()
    );
    let content = |what: &str, why: String| {
        AppError::Pull(PullError::Content {
            reference: reference.clone(),
            what: what.to_owned(),
            why,
        })
    };
    let path = location.path()?;
    let fetched = client.manifest(source, source.manifest_ref())?;
    let digest = Digest::compute(Algorithm::Sha256, &fetched.bytes);
    if let Some(pinned) = &source.digest
        && *pinned != digest.to_string()
    {
        return Err(content(
            "manifest",
            format!("asked for {pinned}, the registry sent {digest}"),
        ));
    }
    let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| content("manifest", format!("not an OCI manifest: {e}")))?;
    if manifest.artifact_type.as_deref() != Some(ARTIFACT_TYPE)
        && manifest.config.media_type != CONFIG_TYPE
    {
        return Err(content(
            "manifest",
            format!(
                "not a customs database (artifactType {:?}, config {:?})",
                manifest.artifact_type, manifest.config.media_type
            ),
        ));
    }
    if manifest
        .media_type
        .as_deref()
        .is_some_and(|m| m != OCI_MANIFEST)
    {
        return Err(content(
            "manifest",
            format!("media type {:?}", manifest.media_type),
        ));
    }
    // The signature first: nothing the manifest names is fetched before it is trusted.
    let claims = verify_signature(client, source, &reference, &digest, key)?;

    let config_blob = fetch_small(
        client,
        source,
        &manifest.config,
        MAX_CONFIG,
        "config",
        &content,
    )?;
    let config: ArtifactConfig = serde_json::from_slice(&config_blob)
        .map_err(|e| content("config", format!("not a customs database config: {e}")))?;
    if config.schema != DB_SCHEMA_VERSION {
        return Err(content(
            "config",
            format!(
                "database schema {}, this customs reads {DB_SCHEMA_VERSION}; pull a tag built by a matching customs",
                config.schema
            ),
        ));
    }
    let layers = check_layers(&manifest.layers, &config, &content)?;

    let store = cache.db_layers();
    std::fs::create_dir_all(&store).map_err(AppError::io(&store))?;
    let mut report_layers = Vec::new();
    for (feed, d, size) in &layers {
        let file = store.join(format!("{}.zst", d.hex()));
        let have = std::fs::metadata(&file).is_ok_and(|m| m.len() == *size)
            && file_digest(&file).is_ok_and(|h| h == *d);
        if !have {
            download(client, source, d, *size, &file, &content)?;
        }
        report_layers.push(Layer {
            feed: feed.clone(),
            digest: d.clone(),
            size: *size,
            transferred: !have,
        });
    }

    let marker = store.join(Pulled::FILE);
    let current = std::fs::read(&marker)
        .ok()
        .and_then(|b| serde_json::from_slice::<Pulled>(&b).ok());
    let unchanged = current.is_some() && current == Pulled::of(&digest, &path);
    if !unchanged {
        rebuild(&path, &store, &layers, &config, cache, &content)?;
        if let Some(p) = Pulled::of(&digest, &path) {
            let json =
                serde_json::to_vec_pretty(&p).map_err(|e| content("pulled.json", e.to_string()))?;
            std::fs::write(&marker, json).map_err(AppError::io(&marker))?;
        }
    }
    // Layers no longer named by the artifact are dead weight.
    let keep: BTreeSet<String> = layers
        .iter()
        .map(|(_, d, _)| format!("{}.zst", d.hex()))
        .collect();
    if let Ok(dir) = std::fs::read_dir(&store) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".zst") && !keep.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(PullReport {
        reference,
        digest,
        path,
        layers: report_layers,
        claims,
        key: key.fingerprint(),
        config,
        unchanged,
    })
}

fn verify_signature(
    client: &Client,
    source: &Reference,
    reference: &str,
    digest: &Digest,
    key: &VerifyingKey,
) -> Result<Claims> {
    let tag = cosign::signature_tag(digest);
    let sig = match client.manifest(source, &tag) {
        Ok(m) => m,
        Err(RegistryError::NotFound { .. }) => {
            return Err(AppError::Pull(PullError::NotSigned {
                reference: reference.to_owned(),
                digest: digest.clone(),
                tag,
            }));
        }
        Err(e) => return Err(e.into()),
    };
    let refused = |why: Vec<String>| {
        AppError::Pull(PullError::BadSignature {
            reference: reference.to_owned(),
            digest: digest.clone(),
            key: key.fingerprint(),
            why,
        })
    };
    let layers = cosign::signature_layers(&sig.bytes).map_err(|e| refused(vec![e.to_string()]))?;
    if layers.is_empty() {
        return Err(refused(vec![format!("{tag} holds no signature layer")]));
    }
    let mut why = Vec::new();
    for l in layers {
        if l.size > cosign::MAX_PAYLOAD {
            why.push(format!("payload {} of {} bytes", l.digest, l.size));
            continue;
        }
        let payload = match read_blob(client, source, &l.digest, cosign::MAX_PAYLOAD) {
            Ok(p) => p,
            Err(e) => {
                why.push(format!("payload {}: {e}", l.digest));
                continue;
            }
        };
        match cosign::verify(key, &payload, &l.signature, digest) {
            Ok(claims) => return Ok(claims),
            Err(e) => why.push(e.to_string()),
        }
    }
    Err(refused(why))
}

/// A blob read whole, at most `max` bytes, checked against its digest.
pub(crate) fn read_blob(
    client: &Client,
    source: &Reference,
    digest: &Digest,
    max: u64,
) -> std::result::Result<Vec<u8>, String> {
    let reader = client
        .blob(source, &digest.to_string(), None)
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {max} bytes"));
    }
    if !digest.matches(&bytes) {
        return Err(format!(
            "the registry sent bytes that hash to {}",
            Digest::compute(digest.algorithm(), &bytes)
        ));
    }
    Ok(bytes)
}

fn fetch_small(
    client: &Client,
    source: &Reference,
    d: &Descriptor,
    max: u64,
    what: &str,
    content: &dyn Fn(&str, String) -> AppError,
) -> Result<Vec<u8>> {
    let digest: Digest = d
        .digest
        .parse()
        .map_err(|e: customs_types::DigestError| content(what, e.to_string()))?;
    if d.size > max {
        return Err(content(
            what,
            format!("{} bytes, over the {max}-byte limit", d.size),
        ));
    }
    let bytes = read_blob(client, source, &digest, max).map_err(|e| content(what, e))?;
    if bytes.len() as u64 != d.size {
        return Err(content(
            what,
            format!("{} bytes, the manifest says {}", bytes.len(), d.size),
        ));
    }
    Ok(bytes)
}

/// The layers as (feed, digest, size), each checked: our media type, a sane and unique feed
/// name (it becomes a file name), a digest, a size within bounds, and the config's list.
fn check_layers(
    layers: &[Descriptor],
    config: &ArtifactConfig,
    content: &dyn Fn(&str, String) -> AppError,
) -> Result<Vec<(String, Digest, u64)>> {
    if layers.is_empty() || layers.len() > MAX_LAYERS {
        return Err(content(
            "manifest",
            format!("{} layers (1 to {MAX_LAYERS} expected)", layers.len()),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let what = format!("layer {i}");
        if l.media_type != LAYER_TYPE {
            return Err(content(&what, format!("media type {:?}", l.media_type)));
        }
        let feed = l.annotations.get(TITLE).cloned().unwrap_or_default();
        let sane = !feed.is_empty()
            && feed.len() <= 128
            && !feed.starts_with('.')
            && feed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !sane || !seen.insert(feed.clone()) {
            return Err(content(&what, format!("feed name {feed:?} is not usable")));
        }
        let digest: Digest = l
            .digest
            .parse()
            .map_err(|e: customs_types::DigestError| content(&what, e.to_string()))?;
        if l.size > MAX_LAYER {
            return Err(content(&what, format!("{} bytes, over the limit", l.size)));
        }
        out.push((feed, digest, l.size));
    }
    let names: Vec<&String> = out.iter().map(|(f, _, _)| f).collect();
    if names != config.feeds.iter().collect::<Vec<_>>() {
        return Err(content(
            "config",
            format!(
                "lists the feeds {:?}, the layers are {names:?}",
                config.feeds
            ),
        ));
    }
    Ok(out)
}

fn file_digest(path: &Path) -> std::io::Result<Digest> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

/// Download a layer into the cache: into a temporary file beside `file`, hashed on the way,
/// renamed into place only when its size and digest are the manifest's.
fn download(
    client: &Client,
    source: &Reference,
    digest: &Digest,
    size: u64,
    file: &Path,
    content: &dyn Fn(&str, String) -> AppError,
) -> Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let what = format!("layer {digest}");
    let mut reader = client
        .blob(source, &digest.to_string(), Some(size))?
        .take(size + 1);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(AppError::io(dir))?;
    let mut h = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| content(&what, format!("reading: {e}")))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(AppError::io(dir))?;
    }
    if total != size {
        return Err(content(
            &what,
            format!("{total} bytes, the manifest says {size}"),
        ));
    }
    let got = h.finish();
    if got != *digest {
        return Err(content(
            &what,
            format!("the registry sent bytes that hash to {got}"),
        ));
    }
    tmp.persist(file).map_err(|e| AppError::io(file)(e.error))?;
    Ok(())
}

/// Decompress the layers into scratch databases, merge them into a new file beside the
/// database, check it, and rename it into place.
fn rebuild(
    path: &Path,
    store: &Path,
    layers: &[(String, Digest, u64)],
    config: &ArtifactConfig,
    cache: &CacheDir,
    content: &dyn Fn(&str, String) -> AppError,
) -> Result<()> {
    let scratch = cache.scratch();
    std::fs::create_dir_all(&scratch).map_err(AppError::io(&scratch))?;
    let work = tempfile::Builder::new()
        .prefix("db-pull-")
        .tempdir_in(&scratch)
        .map_err(AppError::io(&scratch))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(AppError::io(dir))?;
    }
    let staged = path.with_extension("pulled");
    let mut w = DbWriter::create(&staged)?;
    for (feed, digest, _) in layers {
        let what = format!("layer {feed} ({digest})");
        let blob = store.join(format!("{}.zst", digest.hex()));
        let db = work.path().join(format!("{feed}.db"));
        let unpacked = (|| -> std::io::Result<u64> {
            let dec = zstd::stream::read::Decoder::new(std::fs::File::open(&blob)?)?;
            let mut out = std::fs::File::create(&db)?;
            std::io::copy(&mut dec.take(MAX_LAYER_DB + 1), &mut out)
        })();
        let fail = |w: DbWriter, e: AppError| {
            w.abandon();
            Err(e)
        };
        match unpacked {
            Ok(n) if n > MAX_LAYER_DB => {
                return fail(
                    w,
                    content(&what, format!("decompresses past {MAX_LAYER_DB} bytes")),
                );
            }
            Ok(_) => {}
            Err(e) => return fail(w, content(&what, format!("not zstd: {e}"))),
        }
        if let Err(e) = w.merge(&db) {
            return fail(w, content(&what, format!("not a customs database: {e}")));
        }
        let _ = std::fs::remove_file(&db);
    }
    w.finish(config.built_at.unwrap_or_else(Timestamp::now))?;
    let check = VulnDb::open(&staged).and_then(|db| db.info());
    let advisories = match check {
        Ok(info) => info.advisories,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e.into());
        }
    };
    if advisories != config.advisories || advisories == 0 {
        let _ = std::fs::remove_file(&staged);
        return Err(content(
            "database",
            format!(
                "the layers hold {advisories} advisories, the config says {}",
                config.advisories
            ),
        ));
    }
    std::fs::rename(&staged, path).map_err(AppError::io(path))?;
    Ok(())
}
