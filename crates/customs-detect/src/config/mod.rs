//! Checks on the image config and its build history.
//!
//! [`check`] reads a [`ConfigInput`] (the config's `User`, `Env`, `Healthcheck`, `ExposedPorts`,
//! the history, the installed OS packages and the package-manager caches the catalog found) and
//! returns one [`Detection`] per problem, sorted by code then location. Every check is listed in
//! [`CHECKS`] with its stable code, severity and the external ids it maps to; `docs/checks.md`
//! is the user's side of the same table.
//!
//! | code | severity | fires on | references |
//! |---|---|---|---|
//! | `config-root-user` | high | `User` unset, `root`, `0`, `root:…`, `0:…` | CIS 4.1, CIS-DI-0001 |
//! | `config-secret-env` | high | an `Env` name that reads like a credential, with a value | CIS 4.10, CIS-DI-0010 |
//! | `config-secret-build-arg` | high | the same over `RUN \|N K=V …` and `ARG K=V` in the history | CIS 4.10, CIS-DI-0010 |
//! | `config-add-remote-url` | medium | `ADD http(s)://…` in the history | CIS 4.9, CIS-DI-0009 |
//! | `config-curl-pipe-shell` | high | `curl … \| sh`, `sh -c "$(curl …)"`, `bash <(curl …)` | — |
//! | `config-no-healthcheck` | low | no `Healthcheck`, or `HEALTHCHECK NONE` | CIS 4.6, CIS-DI-0006 |
//! | `config-expose-ssh` | medium | `22/tcp` exposed | CIS v1.2.0 5.6 and 5.8 |
//! | `config-expose-telnet` | high | `23/tcp` exposed | CIS v1.2.0 5.8 |
//! | `config-sudo-installed` | medium | the `sudo`, `sudo-ldap`, `doas` or `opendoas` package | DKL-DI-0001 |
//! | `config-package-cache` | low | each [`CacheUse`] with files in it | DKL-DI-0005, DKL-DI-0004, DKL-LI-0003 |
//!
//! # Quirks
//!
//! - **History strings differ per builder.** BuildKit writes `RUN |2 A=1 B=2 /bin/sh -c … #
//!   buildkit`, `ADD https://… /dst` and `ARG NAME=default`; the classic builder writes
//!   `/bin/sh -c #(nop) ADD file:<hash> in /` for its own steps, `/bin/sh -c <command>` for a
//!   `RUN` and `|1 NAME=value /bin/sh -c …` when build arguments were in scope. Other tools
//!   (buildah, kaniko, umoci) write free text, which is scanned as a command.
//! - **Build-argument values are not quoted** in `RUN |N`, so a value with a space cannot be
//!   told from the command after it. That only matters to the "is this value a secret?"
//!   heuristic: no value is ever copied into a detection (evidence is `NAME=********`).
//! - **A history step is paired with a layer** by skipping `empty_layer` steps, and only when
//!   the non-empty steps and the layers are equally many; otherwise the step's layer is left
//!   unknown rather than guessed.
//! - **Hostile input:** one `created_by` is read up to [`MAX_STEP_BYTES`]; names, paths and
//!   commands shown in a detection are cut to a few hundred characters and lose control
//!   characters; every regex is the `regex` crate's, linear in its input.

use customs_types::{Digest, Severity};

use crate::{Detection, DetectionKind, Location};

mod caches;
mod credentials;
mod history;
mod settings;
#[cfg(test)]
mod tests;

/// One build step.
#[derive(Debug, Clone, Default)]
pub struct HistoryStep {
    /// The command that made the step, as recorded (already redacted by the secret rules).
    pub created_by: String,
    /// Whether the step made no layer.
    pub empty_layer: bool,
}

/// A package manager's cache left in the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheUse {
    /// The cache directory (`/var/cache/apt/archives`, `/root/.cache/pip`).
    pub path: String,
    /// Files under it in the final filesystem.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The layer that last added a file there.
    pub layer_index: Option<usize>,
}

/// What the checks read.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    /// `config.User`; `None` or empty: root.
    pub user: Option<String>,
    /// `config.Env`, `KEY=VALUE`.
    pub env: Vec<String>,
    /// The history, oldest first.
    pub history: Vec<HistoryStep>,
    /// `config.Healthcheck.Test`; `None`: the config declares none.
    pub healthcheck: Option<Vec<String>>,
    /// `PORT/PROTO`.
    pub exposed_ports: Vec<String>,
    /// Names of the installed OS packages.
    pub packages: Vec<String>,
    /// Package-manager caches in the final filesystem.
    pub caches: Vec<CacheUse>,
    /// Each layer's diff_id, base first.
    pub layers: Vec<Option<Digest>>,
}

/// One config check: its stable code, the severity of its findings, its title and the
/// external ids (CIS Docker Benchmark items, Dockle checkpoints) it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// The stable kebab-case code (`config-root-user`).
    pub code: &'static str,
    /// The severity of every finding of the check.
    pub severity: Severity,
    /// The title its findings carry.
    pub title: &'static str,
    /// The external ids; a finding carries these or, for `config-package-cache`, the ones
    /// that fit its package manager.
    pub references: &'static [&'static str],
}

const ROOT_USER: CheckInfo = CheckInfo {
    code: "config-root-user",
    severity: Severity::High,
    title: "Image runs as root",
    references: &["CIS-DI-0001", "CIS Docker Benchmark 4.1"],
};
const SECRET_ENV: CheckInfo = CheckInfo {
    code: "config-secret-env",
    severity: Severity::High,
    title: "Credential in the image environment",
    references: &["CIS-DI-0010", "CIS Docker Benchmark 4.10"],
};
const SECRET_BUILD_ARG: CheckInfo = CheckInfo {
    code: "config-secret-build-arg",
    severity: Severity::High,
    title: "Credential in a build argument",
    references: &["CIS-DI-0010", "CIS Docker Benchmark 4.10"],
};
const ADD_REMOTE_URL: CheckInfo = CheckInfo {
    code: "config-add-remote-url",
    severity: Severity::Medium,
    title: "ADD of a remote URL",
    references: &["CIS-DI-0009", "CIS Docker Benchmark 4.9"],
};
const CURL_PIPE_SHELL: CheckInfo = CheckInfo {
    code: "config-curl-pipe-shell",
    severity: Severity::High,
    title: "Download piped into a shell",
    references: &[],
};
const NO_HEALTHCHECK: CheckInfo = CheckInfo {
    code: "config-no-healthcheck",
    severity: Severity::Low,
    title: "No health check",
    references: &["CIS-DI-0006", "CIS Docker Benchmark 4.6"],
};
const EXPOSE_SSH: CheckInfo = CheckInfo {
    code: "config-expose-ssh",
    severity: Severity::Medium,
    title: "SSH port exposed",
    references: &[
        "CIS Docker Benchmark v1.2.0 5.6",
        "CIS Docker Benchmark v1.2.0 5.8",
    ],
};
const EXPOSE_TELNET: CheckInfo = CheckInfo {
    code: "config-expose-telnet",
    severity: Severity::High,
    title: "Telnet port exposed",
    references: &["CIS Docker Benchmark v1.2.0 5.8"],
};
const SUDO_INSTALLED: CheckInfo = CheckInfo {
    code: "config-sudo-installed",
    severity: Severity::Medium,
    title: "sudo installed",
    references: &["DKL-DI-0001"],
};
const PACKAGE_CACHE: CheckInfo = CheckInfo {
    code: "config-package-cache",
    severity: Severity::Low,
    title: "Package manager cache left in the image",
    references: &["DKL-DI-0005", "DKL-DI-0004", "DKL-LI-0003"],
};

/// Every config check, in code order.
pub const CHECKS: &[CheckInfo] = &[
    ADD_REMOTE_URL,
    CURL_PIPE_SHELL,
    EXPOSE_SSH,
    EXPOSE_TELNET,
    NO_HEALTHCHECK,
    PACKAGE_CACHE,
    ROOT_USER,
    SECRET_BUILD_ARG,
    SECRET_ENV,
    SUDO_INSTALLED,
];

/// The longest part of one `created_by` that is read; the rest of a longer one is ignored.
pub const MAX_STEP_BYTES: usize = 64 * 1024;

/// How many characters of a name, path or URL a detection shows.
const MAX_SHOWN: usize = 200;

const REDACTED: &str = "********";

/// An `Env` entry with its value replaced by `********` when the `config-secret-env` check
/// takes it for a credential (`DB_PASSWORD=hunter2hunter2`): the secret rules redact what they
/// have a pattern for, and this what the check reports by name alone, so no value it calls a
/// secret is stored or printed.
#[must_use]
pub fn redact_env(entry: &str) -> std::borrow::Cow<'_, str> {
    match entry.split_once('=') {
        Some((name, value))
            if value != REDACTED
                && credentials::credential_name(name)
                && credentials::secret_value(value) =>
        {
            std::borrow::Cow::Owned(format!("{name}={REDACTED}"))
        }
        _ => std::borrow::Cow::Borrowed(entry),
    }
}

/// A history step's command with what the build-argument and download checks take for a
/// credential replaced by `********` (credential-named `KEY=VALUE`s, URL user info, auth
/// headers, `-u user:password`, secret query parameters), for the same reason.
#[must_use]
pub fn redact_step(created_by: &str) -> std::borrow::Cow<'_, str> {
    let redacted = credentials::redact_command(created_by);
    if redacted == created_by {
        std::borrow::Cow::Borrowed(created_by)
    } else {
        std::borrow::Cow::Owned(redacted)
    }
}

/// Run every config check.
pub fn check(input: &ConfigInput) -> Vec<Detection> {
    let mut out = Vec::new();
    settings::root_user(input, &mut out);
    credentials::secret_env(input, &mut out);
    history::history(input, &mut out);
    settings::healthcheck(input, &mut out);
    settings::exposed_ports(input, &mut out);
    settings::sudo(input, &mut out);
    caches::package_caches(input, &mut out);
    out.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    out
}

/// Code, then location with `history[10]` after `history[9]`, then evidence.
fn sort_key(d: &Detection) -> (&str, &str, u64, &str, Option<&str>) {
    let path = d.location.path.as_str();
    let (head, index, tail) = match path.split_once('[') {
        Some((head, rest)) => {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let index = rest[..digits].parse().unwrap_or(u64::MAX);
            (head, index, &rest[digits..])
        }
        None => (path, 0, ""),
    };
    (d.code.as_str(), head, index, tail, d.evidence.as_deref())
}

fn detection(
    info: &CheckInfo,
    message: String,
    location: Location,
    evidence: Option<String>,
) -> Detection {
    Detection {
        code: info.code.to_owned(),
        kind: DetectionKind::Config,
        severity: info.severity,
        title: info.title.to_owned(),
        message,
        location,
        removed_in: None,
        evidence,
        references: info.references.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn config_location(path: String) -> Location {
    Location {
        path,
        ..Location::default()
    }
}

/// `text` for a message: control characters and bidirectional overrides (which make a terminal
/// show text other than what is there) dropped, at most `MAX_SHOWN` characters.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|&c| {
            !c.is_control()
                && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_SHOWN + 1)
        .collect();
    if out.chars().count() > MAX_SHOWN {
        out = out.chars().take(MAX_SHOWN).collect();
        out.push('…');
    }
    out
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn capped(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
