//! `customs sbom SOURCE`: the inventory of an image, as a table or as JSON.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use customs_app::scan::{ImageOptions, Inspect};
use customs_catalog::Inventory;

use crate::args::ImageArgs;
use crate::output::OutputArgs;
use crate::render;

#[derive(clap::Args)]
pub(crate) struct SbomArgs {
    /// An image reference (nginx:1.25, 127.0.0.1:5000/app@sha256:…, registry:REF),
    /// oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG|:@N], dir:DIR,
    /// sbom:FILE (a CycloneDX, SPDX or syft JSON SBOM; sbom:- reads standard input), or a
    /// path whose kind is detected.
    source: String,
    #[command(flatten)]
    output: OutputArgs,
    /// Also list every file of the final filesystem (JSON `files`), whiteouts applied.
    #[arg(long)]
    files: bool,
    #[command(flatten)]
    image: ImageArgs,
}

/// Inventory `source` with the command line's image options, reporting the pull's cost under
/// `--verbose`.
pub(crate) fn inventory(
    source: &str,
    image: &ImageArgs,
    list_files: bool,
    inspect: Inspect,
) -> Result<Inventory> {
    let (mut opts, client) = image_options(image, list_files)?;
    opts.inspect = inspect;
    let result = customs_app::scan::inventory(source, &opts);
    if image.verbose && client.stats().requests > 0 {
        crate::progress::report(&client);
    }
    Ok(result?)
}

/// The library's image options from the command line's, and the registry client in them.
pub(crate) fn image_options(
    image: &ImageArgs,
    list_files: bool,
) -> Result<(ImageOptions, customs_registry::Client)> {
    let client = crate::progress::registry_client(image)?;
    let opts = ImageOptions {
        platform: image.platform.as_deref().map(str::parse).transpose()?,
        exclude_dev: image.exclude_dev,
        list_files,
        cache: image.cache.cache()?,
        use_layer_cache: !image.no_cache,
        registry: Some(client.clone()),
        shared_layers: None,
        inspect: Inspect::none(),
    };
    Ok((opts, client))
}

/// Warnings about files inside the image, on standard error.
pub(crate) fn warn_inventory(inv: &Inventory, quiet: bool) -> Result<()> {
    if quiet {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    for w in &inv.warnings {
        writeln!(
            err,
            "warning: {}: {}",
            render::clean(&w.file),
            render::clean(&w.problem)
        )?;
    }
    Ok(())
}

pub(crate) fn run(args: &SbomArgs, out: &mut impl Write) -> Result<ExitCode> {
    let specs = args.output.specs(false)?;
    let inv = inventory(&args.source, &args.image, args.files, Inspect::none())?;
    crate::output::write_all(
        &specs,
        customs_report::Subject::Inventory(&inv),
        out,
        |buf, _| table(buf, &inv),
    )?;
    warn_inventory(&inv, args.image.quiet.quiet)?;
    Ok(ExitCode::SUCCESS)
}

fn table(out: &mut impl Write, inv: &Inventory) -> Result<()> {
    let mut t = render::table(["NAME", "VERSION", "ECOSYSTEM", "LAYER"]);
    for p in &inv.packages {
        let layer = match (p.layer_index, &p.layer) {
            (Some(i), Some(d)) => format!("{i} {}", d.short()),
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
