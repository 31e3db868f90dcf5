//! Reading an image into an inventory, and matching it: `customs sbom` and `customs scan`.

use std::sync::Arc;

use customs_catalog::customs_detect::{RuleSet, Scanners};
use customs_catalog::{CatalogOptions, Inventory};
use customs_image::{OpenOptions, Platform, SourceKind, SourceRef};
use customs_vulndb::VulnDb;

use crate::database::DatabaseInfo;
use crate::report::ScanReport;
use crate::{AppError, CacheDir, Result};

/// How to read an image.
#[derive(Debug, Clone)]
pub struct ImageOptions {
    /// Picked from a multi-platform index; `None` for this machine's.
    pub platform: Option<Platform>,
    /// Leave out language packages only needed for development.
    pub exclude_dev: bool,
    /// Also list every file of the final filesystem.
    pub list_files: bool,
    /// customs' cache: layer facts, and scratch space for compressed archives.
    pub cache: CacheDir,
    /// Read and write layer facts in the cache.
    pub use_layer_cache: bool,
    /// The client for registry sources (with the caller's credentials, TLS options and
    /// observer); one with default options is made when `None`.
    pub registry: Option<customs_registry::Client>,
    /// Layer facts shared by a fleet of workers (in its store), besides the local cache.
    pub shared_layers: Option<std::sync::Arc<dyn customs_catalog::SharedFacts>>,
    /// Which scanners run (`vuln` is the matcher's; the others the catalog's), the secret
    /// rules, and the checks and paths left out.
    pub inspect: Inspect,
}

/// The secret, config and file scanners' options (`--scanners`, `--secret-config`,
/// `--skip-check`, `--skip-path`).
#[derive(Debug, Clone)]
pub struct Inspect {
    /// The scanners that run.
    pub scanners: Scanners,
    /// The secret rules; the built-in ones when `None`.
    pub rules: Option<Arc<RuleSet>>,
    /// Codes of checks whose detections are dropped (globs: `config-*`).
    pub skip_checks: Vec<String>,
    /// Path globs whose detections are dropped (`/app/testdata/**`).
    pub skip_paths: Vec<String>,
}

impl Default for Inspect {
    /// Every scanner, the built-in rules, nothing skipped.
    fn default() -> Self {
        Self {
            scanners: Scanners::default(),
            rules: None,
            skip_checks: Vec::new(),
            skip_paths: Vec::new(),
        }
    }
}

impl Inspect {
    /// Only the inventory: no secret, config or file scanner (`customs sbom`). The config's
    /// `Env` and history are still redacted.
    #[must_use]
    pub fn none() -> Self {
        Self {
            scanners: Scanners::parse("vuln").unwrap_or_default(),
            ..Self::default()
        }
    }

    /// Check the globs, so a mistake is an error before any image is read.
    ///
    /// # Errors
    /// A glob that does not parse, named.
    pub fn validate(&self) -> Result<()> {
        self.globs().map(|_| ())
    }

    fn globs(&self) -> Result<(globset::GlobSet, globset::GlobSet)> {
        let set = |list: &[String], what: &str| {
            let mut b = globset::GlobSetBuilder::new();
            for g in list {
                b.add(globset::Glob::new(g).map_err(|e| AppError::Invalid {
                    what: format!("{what} {g:?}"),
                    why: e.to_string(),
                })?);
            }
            b.build().map_err(|e| AppError::Invalid {
                what: what.to_owned(),
                why: e.to_string(),
            })
        };
        Ok((
            set(&self.skip_checks, "--skip-check")?,
            set(&self.skip_paths, "--skip-path")?,
        ))
    }

    /// Drop the detections `--skip-check` and `--skip-path` name, counting them by code in
    /// `inspected.skipped`, so a report says what it does not show.
    fn filter(&self, inv: &mut Inventory) -> Result<()> {
        if self.skip_checks.is_empty() && self.skip_paths.is_empty() {
            return Ok(());
        }
        let (codes, paths) = self.globs()?;
        let mut skipped = std::collections::BTreeMap::<String, usize>::new();
        inv.detections.retain(|d| {
            let drop = codes.is_match(&d.code) || paths.is_match(&d.location.path);
            if drop {
                *skipped.entry(d.code.clone()).or_default() += 1;
            }
            !drop
        });
        if let Some(i) = &mut inv.inspected {
            i.skipped = skipped;
        }
        Ok(())
    }
}

/// Inventory what a source holds (`customs sbom`).
///
/// # Errors
/// A source that cannot be parsed, opened or read. Problems inside the image are warnings in
/// the inventory.
pub fn inventory(source: &str, opts: &ImageOptions) -> Result<Inventory> {
    let src = SourceRef::parse(source)?;
    if src.kind == SourceKind::Sbom {
        let mut inv = read_sbom(&src)?;
        if opts.exclude_dev {
            inv.packages.retain(|p| !p.dev);
        }
        return Ok(inv);
    }
    let image = customs_image::open(&src, &open_options(opts))?;
    inventory_of(&image, source, opts)
}

/// How [`inventory`] opens an image: the caller's platform, scratch space and registry client.
#[must_use]
pub fn open_options(opts: &ImageOptions) -> OpenOptions {
    OpenOptions {
        platform: opts.platform.clone().unwrap_or_else(Platform::host),
        scratch_dir: Some(opts.cache.scratch()),
        registry: opts.registry.clone(),
        // With the layer cache: a warm or resumed scan of a registry image then fetches its
        // manifest alone.
        config_cache: opts.use_layer_cache.then(|| opts.cache.configs()),
        ..OpenOptions::default()
    }
}

/// Inventory an image opened already (with [`open_options`]), named `source`: what an audit
/// does with the images it opened to read their build dates.
///
/// # Errors
/// A layer that cannot be read. Problems inside the image are warnings in the inventory.
pub fn inventory_of(
    image: &customs_image::Image,
    source: &str,
    opts: &ImageOptions,
) -> Result<Inventory> {
    let mut catalog = CatalogOptions {
        layer_cache: opts.use_layer_cache.then(|| opts.cache.layers()),
        list_files: opts.list_files,
        shared: opts.shared_layers.clone(),
        scanners: opts.inspect.scanners,
        secret_rules: opts.inspect.rules.clone(),
        ..CatalogOptions::default()
    };
    if image.source.kind == SourceKind::Registry {
        // Downloads wait on the network more than on the CPU.
        catalog.jobs = catalog.jobs.max(4);
    }
    let mut inv = customs_catalog::catalog(image, &catalog).map_err(|e| AppError::Catalog {
        source_ref: source.to_owned(),
        source: e,
    })?;
    if opts.exclude_dev {
        inv.packages.retain(|p| !p.dev);
    }
    opts.inspect.filter(&mut inv)?;
    Ok(inv)
}

/// Read an SBOM source (`sbom:FILE`, or `sbom:-` for standard input) into an inventory: its
/// packages stand for the image's, and are matched like them.
///
/// # Errors
/// A file that cannot be read, one over the size limit, or one that is no SBOM customs reads.
pub fn read_sbom(src: &SourceRef) -> Result<Inventory> {
    use std::io::Read as _;
    let limit = customs_report::sbom::MAX_SBOM_BYTES as u64;
    let mut bytes = Vec::new();
    let origin = src.path.display().to_string();
    if origin == "-" {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(AppError::io("standard input"))?;
    } else {
        std::fs::File::open(&src.path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
            .map_err(AppError::io(&src.path))?;
    }
    let origin = if origin == "-" {
        "standard input".to_owned()
    } else {
        origin
    };
    // Over the limit by one byte is enough to know: the reader refuses it with its message.
    let mut inv = customs_report::sbom::read(&bytes, &origin)?;
    inv.source.reference.clone_from(&src.input);
    Ok(inv)
}

/// A report of an inventory not matched against any database (`--scanners` without
/// `vuln`): its detections only. It says so (`scanners.vuln` is false), so no reader takes
/// its empty findings for a clean match.
#[must_use]
pub fn unmatched(inventory: Inventory, scanners: Scanners) -> ScanReport {
    ScanReport {
        inventory,
        findings: Vec::new(),
        namespaces: Vec::new(),
        database: DatabaseInfo {
            path: std::path::PathBuf::new(),
            built_at: None,
            newest_advisory: None,
            empty: false,
        },
        match_warnings: Vec::new(),
        withdrawn: std::collections::BTreeSet::new(),
        coverage: Vec::new(),
        signature: None,
        policy: None,
        vex: None,
        scanners: Scanners {
            vuln: false,
            ..scanners
        },
    }
}

/// Match an inventory against a database.
///
/// # Errors
/// The database's errors.
pub fn match_inventory(inventory: Inventory, db: &VulnDb) -> Result<ScanReport> {
    let m = customs_match::match_inventory(db, &inventory)?;
    let scanners = customs_report::recorded_scanners(&inventory, true);
    Ok(ScanReport {
        inventory,
        findings: m.findings,
        namespaces: m.namespaces,
        database: DatabaseInfo::of(db)?,
        match_warnings: m.warnings,
        withdrawn: m.withdrawn,
        coverage: m.coverage,
        signature: None,
        policy: None,
        vex: None,
        scanners,
    })
}

/// Inventory a source and match it (`customs scan`).
///
/// # Errors
/// As [`inventory`] and [`match_inventory`].
pub fn scan(source: &str, opts: &ImageOptions, db: &VulnDb) -> Result<ScanReport> {
    match_inventory(inventory(source, opts)?, db)
}
