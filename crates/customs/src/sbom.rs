//! `customs sbom SOURCE`: the inventory of an image, as a table or as JSON.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use customs_catalog::{CatalogOptions, Inventory};
use customs_image::{OpenOptions, Platform, SourceKind, SourceRef};

use crate::{CommonArgs, Format};

#[derive(clap::Args)]
pub(crate) struct SbomArgs {
    /// An image reference (nginx:1.25, 127.0.0.1:5000/app@sha256:…, registry:REF),
    /// oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG|:@N], dir:DIR, or a
    /// path whose kind is detected.
    source: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    /// Also list every file of the final filesystem (JSON `files`), whiteouts applied.
    #[arg(long)]
    files: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub(crate) fn inventory(source: &str, common: &CommonArgs, list_files: bool) -> Result<Inventory> {
    let src = SourceRef::parse(source)?;
    let platform = match &common.platform {
        Some(p) => p.parse::<Platform>()?,
        None => Platform::host(),
    };
    let cache_root = common.cache_root();
    let client = match src.kind {
        SourceKind::Registry => Some(crate::pull::client(
            &common.registry,
            common.quiet,
            common.verbose,
        )?),
        _ => None,
    };
    let opts = OpenOptions {
        platform,
        scratch_dir: cache_root.as_ref().map(|c| c.join("tmp")),
        registry: client.clone(),
        ..OpenOptions::default()
    };
    let mut catalog_opts = CatalogOptions {
        cache_dir: if common.no_cache { None } else { cache_root },
        list_files,
        ..CatalogOptions::default()
    };
    if client.is_some() {
        // Downloads wait on the network more than on the CPU.
        catalog_opts.jobs = catalog_opts.jobs.max(4);
    }
    let result = customs_image::open(&src, &opts)
        .map_err(anyhow::Error::from)
        .and_then(|image| {
            customs_catalog::catalog(&image, &catalog_opts)
                .with_context(|| format!("cataloguing {source}"))
        });
    if let Some(c) = &client
        && common.verbose
    {
        crate::pull::report(c);
    }
    let mut inv = result?;
    if common.exclude_dev {
        inv.packages.retain(|p| !p.dev);
    }
    Ok(inv)
}

pub(crate) fn run(args: &SbomArgs) -> Result<ExitCode> {
    let inv = inventory(&args.source, &args.common, args.files)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &inv)?;
            writeln!(out)?;
        }
        Format::Table => print_table(&mut out, &inv)?,
    }
    out.flush()?;
    if !args.common.quiet && !inv.warnings.is_empty() {
        let mut err = std::io::stderr().lock();
        for w in &inv.warnings {
            writeln!(err, "warning: {}: {}", w.file, w.problem)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn short(d: &customs_image::Digest) -> String {
    d.hex().chars().take(12).collect()
}

fn print_table(out: &mut impl Write, inv: &Inventory) -> Result<()> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["NAME", "VERSION", "ECOSYSTEM", "LAYER"]);
    for p in &inv.packages {
        let layer = match (p.layer_index, &p.layer) {
            (Some(i), Some(d)) => format!("{i} {}", short(d)),
            (Some(i), None) => i.to_string(),
            _ => String::new(),
        };
        let eco = if p.dev {
            format!("{} (dev)", p.ecosystem)
        } else {
            p.ecosystem.to_string()
        };
        t.add_row([
            p.name.as_str(),
            p.version.as_str(),
            eco.as_str(),
            layer.as_str(),
        ]);
    }
    writeln!(out, "{t}")?;
    let distro = inv.distro.as_ref().map_or_else(
        || "unknown distribution".to_owned(),
        |d| d.pretty_name.clone().unwrap_or_else(|| d.id.clone()),
    );
    writeln!(
        out,
        "{} packages; {distro}; {} warnings",
        inv.packages.len(),
        inv.warnings.len()
    )?;
    Ok(())
}
