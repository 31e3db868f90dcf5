//! `customs completions SHELL` and `customs man`: the command line describing itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

#[derive(clap::Args)]
pub(crate) struct ManArgs {
    /// Write one page per command (customs.1, customs-scan.1, customs-db-update.1, …) into
    /// this directory instead of printing customs(1).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub(crate) fn completions(args: &CompletionsArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "customs", out);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn man(args: &ManArgs, out: &mut impl Write) -> Result<ExitCode> {
    let cmd = crate::Cli::command();
    match &args.out_dir {
        None => clap_mangen::Man::new(cmd).render(out)?,
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
            write_pages(&cmd, "customs", dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A page for `cmd` named `name.1`, then one for each subcommand, named after its path.
fn write_pages(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let page = dir.join(format!("{name}.1"));
    let mut file = std::fs::File::create(&page).with_context(|| page.display().to_string())?;
    clap_mangen::Man::new(cmd.clone())
        .title(name)
        .render(&mut file)
        .with_context(|| page.display().to_string())?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
