//! `-o FORMAT[=FILE]`: one scan, written in every format asked for, each to its file or to
//! standard output.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use customs_report::{DocOptions, Format, OutputSpec, Subject};

/// The `-o`/`--format` options of `scan` and `sbom`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct OutputArgs {
    /// Write FORMAT to FILE, or to standard output without `=FILE`; repeat for several
    /// documents from one scan. FORMAT: table, json, cyclonedx (CycloneDX 1.6 JSON), spdx-json
    /// (SPDX 2.3), sarif (SARIF 2.1.0), html (one self-contained page), or
    /// template=TEMPLATE (a minijinja template file). Default: table. SOURCE_DATE_EPOCH pins
    /// the documents' timestamps.
    #[arg(long = "output", short = 'o', value_name = "FORMAT[=FILE]", value_parser = str::parse::<OutputSpec>)]
    pub(crate) outputs: Vec<OutputSpec>,
    /// The same as `-o FORMAT` (kept for scripts written before `-o`).
    #[arg(long, short = 'f', value_name = "FORMAT", value_parser = str::parse::<OutputSpec>)]
    pub(crate) format: Option<OutputSpec>,
}

impl OutputArgs {
    /// Every output asked for (the table when none), checked: at most one goes to standard
    /// output, no two to the same file.
    pub(crate) fn specs(&self, scan: bool) -> Result<Vec<OutputSpec>> {
        let mut specs: Vec<OutputSpec> = self.format.iter().chain(&self.outputs).cloned().collect();
        if specs.is_empty() {
            specs.push(OutputSpec {
                format: Format::Table,
                file: None,
            });
        }
        if specs.iter().filter(|s| s.file.is_none()).count() > 1 {
            bail!(
                "more than one output goes to standard output: give all but one a file (-o FORMAT=FILE)"
            );
        }
        let mut files: Vec<&Path> = specs.iter().filter_map(|s| s.file.as_deref()).collect();
        files.sort();
        if let Some(w) = files.windows(2).find(|w| w[0] == w[1]) {
            bail!("two outputs go to {}", w[0].display());
        }
        if !scan && let Some(s) = specs.iter().find(|s| !s.format.for_inventories()) {
            bail!(
                "-o {}: it describes findings; use it with `customs scan`",
                s.format
            );
        }
        Ok(specs)
    }
}

/// Write `subject` in each of `specs`; `table` draws the table (the command line's own).
pub(crate) fn write_all(
    specs: &[OutputSpec],
    subject: Subject<'_>,
    out: &mut impl Write,
    table: impl Fn(&mut Vec<u8>, bool) -> Result<()>,
) -> Result<()> {
    let opts = DocOptions::from_env(env!("CARGO_PKG_VERSION")).map_err(anyhow::Error::msg)?;
    for spec in specs {
        let mut bytes = Vec::new();
        match &spec.format {
            Format::Table => {
                let color =
                    spec.file.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
                table(&mut bytes, color)?;
            }
            f => bytes = customs_report::render(f, subject, &opts)?.into_bytes(),
        }
        match &spec.file {
            None => out.write_all(&bytes)?,
            Some(path) => write_file(path, &bytes)?,
        }
    }
    out.flush()?;
    Ok(())
}

/// Written whole or not at all: a reader never sees half a report.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.flush())
        .with_context(|| format!("writing {}", path.display()))?;
    // A report is for reading: the temporary file's owner-only mode would hide it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
