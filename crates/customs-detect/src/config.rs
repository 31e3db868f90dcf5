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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use customs_types::{Digest, Severity};
use regex::{Captures, Regex};

use crate::{Detection, DetectionKind, Location};

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

/// Run every config check.
pub fn check(input: &ConfigInput) -> Vec<Detection> {
    let mut out = Vec::new();
    root_user(input, &mut out);
    secret_env(input, &mut out);
    history(input, &mut out);
    healthcheck(input, &mut out);
    exposed_ports(input, &mut out);
    sudo(input, &mut out);
    package_caches(input, &mut out);
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

// ---------------------------------------------------------------------------------------------
// User

fn root_user(input: &ConfigInput, out: &mut Vec<Detection>) {
    let user = input.user.as_deref().unwrap_or("").trim();
    let (message, evidence) = if user.is_empty() {
        (
            "The image runs as root: no USER is set. Add a USER with a non-zero uid.".to_owned(),
            None,
        )
    } else {
        let name = user.split(':').next().unwrap_or(user);
        if name != "root" && name.parse::<u64>() != Ok(0) {
            return;
        }
        let user = shown(user);
        (
            format!(
                "The image runs as root: USER is {user}. Set USER to a user with a non-zero uid."
            ),
            Some(format!("User={user}")),
        )
    };
    out.push(detection(
        &ROOT_USER,
        message,
        config_location("config:User".to_owned()),
        evidence,
    ));
}

// ---------------------------------------------------------------------------------------------
// Credentials by name: ENV and build arguments

/// Parts of a name, compared with its letters and digits only, that make it a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "ACCESSKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
];

/// Whole `_`-separated parts of a name that make it a credential (`DB_PASS`, `BASIC_AUTH`).
const CREDENTIAL_SEGMENTS: &[&str] = &["AUTH", "PASS", "PWD", "PW"];

/// A last part that says the variable holds where or what the credential is, not the
/// credential (`TOKEN_URL`, `SECRET_NAME`, `PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`).
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "ALG",
    "ALGORITHM",
    "AUDIENCE",
    "DIR",
    "DISABLED",
    "ENABLED",
    "ENDPOINT",
    "EXPIRES",
    "EXPIRY",
    "FILE",
    "FORMAT",
    "HEADER",
    "HOST",
    "ID",
    "ISSUER",
    "KIND",
    "LEN",
    "LENGTH",
    "LOCATION",
    "METHOD",
    "MODE",
    "NAME",
    "PATH",
    "POLICY",
    "PORT",
    "PROVIDER",
    "REALM",
    "REGION",
    "REQUIRED",
    "SCOPE",
    "SCOPES",
    "TIMEOUT",
    "TTL",
    "TYPE",
    "URI",
    "URL",
    "USER",
    "USERNAME",
    "VERSION",
];

/// Whether a variable or build-argument name reads like a credential.
fn credential_name(name: &str) -> bool {
    let upper = capped(name, 256).to_ascii_uppercase();
    // `PWD` and `OLDPWD` are the shell's working directories.
    if upper == "PWD" || upper == "OLDPWD" {
        return false;
    }
    let mut segments = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty());
    let Some(last) = segments.clone().next_back() else {
        return false;
    };
    if NOT_SECRET_SUFFIXES.contains(&last) {
        return false;
    }
    let compact: String = upper.chars().filter(char::is_ascii_alphanumeric).collect();
    CREDENTIAL_WORDS.iter().any(|w| compact.contains(w))
        || segments.any(|s| CREDENTIAL_SEGMENTS.contains(&s))
}

static VARIABLE_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})$").expect("valid regex")
});

/// Whether a credential-named variable's value is worth reporting: set, and not something that
/// is plainly not a secret (a path, a flag, a short number, a reference to another variable, a
/// URL without credentials, a `<placeholder>`).
fn secret_value(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if v.is_empty() || VARIABLE_REFERENCE.is_match(v) {
        return false;
    }
    if ["/", "./", "../", "~/", "file:"]
        .iter()
        .any(|p| v.starts_with(p))
    {
        return false;
    }
    const FLAGS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "enabled", "disabled",
        "required", "optional",
    ];
    if FLAGS.iter().any(|f| v.eq_ignore_ascii_case(f)) {
        return false;
    }
    if v.len() <= 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if v.starts_with('<') && v.ends_with('>') {
        return false;
    }
    if let Some((scheme, rest)) = v.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let plain_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
        if plain_scheme && !authority.contains('@') && !rest.contains('?') {
            return false;
        }
    }
    true
}

fn secret_env(input: &ConfigInput, out: &mut Vec<Detection>) {
    let mut seen = HashSet::new();
    for entry in &input.env {
        let Some((name, value)) = entry.split_once('=') else {
            continue;
        };
        if !credential_name(name) || !secret_value(value) || !seen.insert(name) {
            continue;
        }
        let name = shown(name);
        out.push(detection(
            &SECRET_ENV,
            format!(
                "The environment variable {name} looks like a credential and is set in the image \
                 config, where anyone who pulls the image can read it; remove it from ENV and \
                 supply it when the container starts."
            ),
            config_location(format!("config:Env {name}")),
            Some(format!("{name}={REDACTED}")),
        ));
    }
}

/// `KEY=VALUE` pairs from the tokens of `RUN |N …` or `ARG …`: at most `count` pairs, a value
/// running on over the tokens after it that are not `KEY=…` (a value with a space) until the
/// next pair. `bare_names` (for `ARG`): an upper-case `NAME` alone is an argument without a
/// default, not more of the value before it.
fn key_values(text: &str, count: usize, bare_names: bool) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for token in text.split_whitespace() {
        if pairs.len() >= count {
            break;
        }
        match token.split_once('=') {
            Some((key, value)) if valid_arg_name(key) => {
                pairs.push((key.to_owned(), value.to_owned()));
            }
            _ if bare_names
                && valid_arg_name(token)
                && token.bytes().all(|b| !b.is_ascii_lowercase()) =>
            {
                pairs.push((token.to_owned(), String::new()));
            }
            _ => {
                if let Some((_, value)) = pairs.last_mut() {
                    value.push(' ');
                    value.push_str(token);
                }
            }
        }
    }
    pairs
}

fn valid_arg_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The build arguments of a step: the pairs after `|N` (BuildKit's `RUN |N …`, the classic
/// builder's `|N …`). The command follows the last pair, so that value ends at its first space.
fn run_build_args(after_bar: &str) -> Vec<(String, String)> {
    let Some((count, rest)) = after_bar.split_once(char::is_whitespace) else {
        return Vec::new();
    };
    match count.parse::<usize>() {
        Ok(count) => key_values(rest, count, false),
        Err(_) => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// History

/// What a history step is, as far as the checks care.
#[derive(Debug, PartialEq, Eq)]
enum Step<'a> {
    /// A command that ran: its build arguments (after `|`, if any) and its text.
    Run {
        args: Option<&'a str>,
        command: &'a str,
    },
    /// `ADD`: what follows the instruction.
    Add(&'a str),
    /// `ARG`: what follows the instruction.
    Arg(&'a str),
    /// Another instruction (`COPY`, `ENV`, `LABEL`, `CMD`, …): nothing to check.
    Other,
}

/// The shell prefix of the classic builder's steps: `/bin/sh -c `, or the `SHELL` it was given
/// (`/bin/bash -o pipefail -c `).
static SHELL_C: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\S*/)?(?:ba|da|z|k|a)?sh\s+(?:-o\s+\S+\s+|-[A-Za-z]+\s+)*?-[A-Za-z]*c\s+")
        .expect("valid regex")
});

const INSTRUCTIONS: &[&str] = &[
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

fn parse_step(created_by: &str) -> Step<'_> {
    let text = created_by.trim_start();
    if let Some(m) = SHELL_C.find(text) {
        let rest = text[m.end()..].trim_start();
        if let Some(nop) = rest.strip_prefix("#(nop)") {
            return instruction(nop.trim_start());
        }
        return Step::Run {
            args: None,
            command: rest,
        };
    }
    if let Some(after_bar) = text.strip_prefix('|') {
        return Step::Run {
            args: Some(after_bar),
            command: text,
        };
    }
    instruction(text)
}

fn instruction(text: &str) -> Step<'_> {
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim_start();
    if word.eq_ignore_ascii_case("RUN") {
        Step::Run {
            args: rest.strip_prefix('|'),
            command: rest,
        }
    } else if word.eq_ignore_ascii_case("ADD") {
        Step::Add(rest)
    } else if word.eq_ignore_ascii_case("ARG") {
        Step::Arg(rest)
    } else if INSTRUCTIONS.iter().any(|i| word.eq_ignore_ascii_case(i)) {
        Step::Other
    } else {
        // A tool that records free text (buildah, kaniko, umoci): read it as a command.
        Step::Run {
            args: None,
            command: text,
        }
    }
}

/// The layer each history step made, by skipping empty steps; all `None` when the non-empty
/// steps and the layers do not pair up one to one.
fn step_layers(input: &ConfigInput) -> Vec<Option<usize>> {
    let non_empty = input.history.iter().filter(|s| !s.empty_layer).count();
    let paired = non_empty == input.layers.len();
    let mut next = 0;
    input
        .history
        .iter()
        .map(|step| {
            if step.empty_layer || !paired {
                return None;
            }
            next += 1;
            Some(next - 1)
        })
        .collect()
}

fn step_location(input: &ConfigInput, index: usize, layer_index: Option<usize>) -> Location {
    Location {
        layer: layer_index.and_then(|i| input.layers.get(i).cloned().flatten()),
        layer_index,
        path: format!("history[{index}].created_by"),
        line: None,
    }
}

/// A credential-named build argument, first seen at `step`, seen in `steps` steps.
struct BuildArg {
    name: String,
    step: usize,
    steps: usize,
}

fn history(input: &ConfigInput, out: &mut Vec<Detection>) {
    let layers = step_layers(input);
    let mut args: Vec<BuildArg> = Vec::new();
    let mut arg_index: HashMap<(String, String), usize> = HashMap::new();
    for (index, step) in input.history.iter().enumerate() {
        let layer_index = layers.get(index).copied().flatten();
        let text = capped(&step.created_by, MAX_STEP_BYTES);
        let pairs = match parse_step(text) {
            Step::Run { args, command } => {
                if let Some(found) = piped_download(command) {
                    out.push(curl_pipe_shell(input, index, layer_index, found));
                }
                args.map(run_build_args).unwrap_or_default()
            }
            Step::Add(rest) => {
                if let Some(url) = remote_add(rest) {
                    out.push(add_remote(input, index, layer_index, &url));
                }
                Vec::new()
            }
            Step::Arg(rest) => key_values(rest, usize::MAX, true),
            Step::Other => Vec::new(),
        };
        let mut in_step = HashSet::new();
        for (name, value) in pairs {
            if !credential_name(&name) || !secret_value(&value) || !in_step.insert(name.clone()) {
                continue;
            }
            let key = (name, value);
            if let Some(&i) = arg_index.get(&key) {
                args[i].steps += 1;
            } else {
                arg_index.insert(key.clone(), args.len());
                args.push(BuildArg {
                    name: key.0,
                    step: index,
                    steps: 1,
                });
            }
        }
    }
    for arg in args {
        let name = shown(&arg.name);
        let also = match arg.steps {
            1 => String::new(),
            n => format!(" (and the same value in {} later steps)", n - 1),
        };
        out.push(detection(
            &SECRET_BUILD_ARG,
            format!(
                "The build argument {name} looks like a credential and its value is recorded in \
                 history step {}{also}, where anyone who pulls the image can read it; pass it \
                 with a BuildKit secret mount (RUN --mount=type=secret) instead.",
                arg.step
            ),
            step_location(input, arg.step, layers.get(arg.step).copied().flatten()),
            Some(format!("{name}={REDACTED}")),
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// ADD of a remote URL

/// The first `http(s)://` source of an `ADD`, unless the step pins it with `--checksum`.
fn remote_add(rest: &str) -> Option<String> {
    let mut url = None;
    for token in rest.split_whitespace() {
        let token = token.trim_matches(|c| matches!(c, '[' | ']' | '"' | '\'' | ','));
        if token.starts_with("--checksum") {
            return None;
        }
        let lower = token.get(..8).unwrap_or(token).to_ascii_lowercase();
        if url.is_none() && (lower.starts_with("http://") || lower.starts_with("https://")) {
            url = Some(token);
        }
    }
    url.map(shown_url)
}

/// A URL for a message: no credentials, no query or fragment.
fn shown_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let url = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rsplit_once('@') {
                Some((_, host)) => {
                    format!("{scheme}://{REDACTED}@{host}{}", &rest[authority_end..])
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    shown(&url)
}

fn add_remote(
    input: &ConfigInput,
    index: usize,
    layer_index: Option<usize>,
    url: &str,
) -> Detection {
    detection(
        &ADD_REMOTE_URL,
        format!(
            "History step {index} fetched {url} with ADD, which takes whatever the server sends \
             without checking it; use ADD --checksum, or download it in a RUN step that verifies \
             its checksum, and COPY local files."
        ),
        step_location(input, index, layer_index),
        Some(format!("ADD {url}")),
    )
}

// ---------------------------------------------------------------------------------------------
// curl | sh

/// `curl … | sh`, `wget -qO- … | sudo -E bash -`: a download piped into a shell, optionally
/// through sudo or env or with variables set (`| VERSION=1 sh`).
static PIPE_TO_SHELL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:curl|wget)\b[^|]*\|\s*",
        r"(?:(?:sudo|env|exec|command|nice|time)",
        r"(?:\s+-[ugCDhpRTU]\s+[^\s-]\S*|\s+-{1,2}[A-Za-z][\w-]*(?:=\S*)?|\s+[A-Za-z_]\w*=\S*)*\s+",
        r"|[A-Za-z_]\w*=\S*\s+)*",
        r#"(?:\S*/)?(?:ba|da|z|k|a)?sh(?:[\s)`'"]|$)"#
    ))
    .expect("valid regex")
});

/// `sh -c "$(curl …)"`, `bash -c "`wget -O- …`"`, `eval "$(curl …)"`, `bash <(curl …)`,
/// `source <(curl …)`.
static SUBSTITUTED_DOWNLOAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?:^|[\s;&|(])(?:"#,
        r#"(?:\S*/)?(?:ba|da|z|k|a)?sh\s+(?:-\S+\s+)*?-[A-Za-z]*c\s+["']?\s*(?:\$\(|`)"#,
        r#"|eval\s+["']?\s*(?:\$\(|`)"#,
        r#"|(?:(?:\S*/)?(?:ba|da|z|k|a)?sh|source|\.)\s+(?:-\S+\s+)*<\("#,
        r#")\s*(?:\S*/)?(?:curl|wget)\b"#
    ))
    .expect("valid regex")
});

/// The part of a command that pipes a download into a shell, if any.
fn piped_download(command: &str) -> Option<&str> {
    // Each simple command on its own, so `curl -o f && sha256sum -c f.sha256 | …` cannot pair
    // a download in one with a shell in another.
    command
        .split(['\n', ';'])
        .flat_map(|part| part.split("&&"))
        .flat_map(|part| part.split("||"))
        .find(|segment| PIPE_TO_SHELL.is_match(segment) || SUBSTITUTED_DOWNLOAD.is_match(segment))
        .map(str::trim)
}

static URL_USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@").expect("valid regex"));
static AUTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)((?:authorization|[\w-]*(?:token|api-?key|secret|password)[\w-]*)\s*:\s*"#,
        r#"(?:(?:bearer|basic|token)\s+)?)[^\s"']+"#
    ))
    .expect("valid regex")
});
static USER_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:^|\s)(?:-u|--user|--password|--http-password|--proxy-user|--oauth2-bearer)(?:\s+|=))[^\s"']+"#,
    )
    .expect("valid regex")
});
static QUERY_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)([?&](?:access_token|token|key|api_key|apikey|password|secret|sig|signature|auth)=)[^&\s"']+"#,
    )
    .expect("valid regex")
});
static KEY_VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\S+)").expect("valid regex"));

/// A command for evidence, with what could be a credential in it replaced: URL user info,
/// auth headers, `-u user:password`, secret query parameters and credential-named
/// `KEY=VALUE`s. (The caller has already applied the secret rules; this catches what they
/// have no pattern for.)
fn redact_command(command: &str) -> String {
    let text = URL_USERINFO.replace_all(command, format!("${{1}}{REDACTED}@"));
    let text = AUTH_HEADER.replace_all(&text, format!("${{1}}{REDACTED}"));
    let text = USER_FLAG.replace_all(&text, format!("${{1}}{REDACTED}"));
    let text = QUERY_SECRET.replace_all(&text, format!("${{1}}{REDACTED}"));
    KEY_VALUE
        .replace_all(&text, |c: &Captures<'_>| {
            if credential_name(&c[1]) && secret_value(&c[2]) {
                format!("{}={REDACTED}", &c[1])
            } else {
                c[0].to_owned()
            }
        })
        .into_owned()
}

fn curl_pipe_shell(
    input: &ConfigInput,
    index: usize,
    layer_index: Option<usize>,
    segment: &str,
) -> Detection {
    detection(
        &CURL_PIPE_SHELL,
        format!(
            "History step {index} pipes a download straight into a shell, so whatever the server \
             sent at build time ran unchecked; download the script to a file, verify its \
             checksum or signature, then run it."
        ),
        step_location(input, index, layer_index),
        Some(shown(&redact_command(segment))),
    )
}

// ---------------------------------------------------------------------------------------------
// Healthcheck, ports, sudo

fn healthcheck(input: &ConfigInput, out: &mut Vec<Detection>) {
    let message = match input.healthcheck.as_deref() {
        None | Some([]) => "The image declares no HEALTHCHECK, so the runtime cannot tell a hung \
                            container from a working one; add a HEALTHCHECK that probes the service."
            .to_owned(),
        Some([first, ..]) if first.eq_ignore_ascii_case("NONE") => {
            "The image disables its health check (HEALTHCHECK NONE), so the runtime cannot tell a \
             hung container from a working one; add a HEALTHCHECK that probes the service."
                .to_owned()
        }
        Some(_) => return,
    };
    out.push(detection(
        &NO_HEALTHCHECK,
        message,
        config_location("config:Healthcheck".to_owned()),
        None,
    ));
}

/// `PORT[/PROTO]` or `LOW-HIGH[/PROTO]` as a TCP range; `None` for UDP, SCTP or nonsense.
fn tcp_ports(spec: &str) -> Option<(u16, u16)> {
    let (ports, proto) = spec.trim().split_once('/').unwrap_or((spec.trim(), "tcp"));
    if !proto.trim().eq_ignore_ascii_case("tcp") {
        return None;
    }
    let (low, high) = ports.split_once('-').unwrap_or((ports, ports));
    let (low, high) = (low.trim().parse().ok()?, high.trim().parse().ok()?);
    (low <= high).then_some((low, high))
}

fn exposed_ports(input: &ConfigInput, out: &mut Vec<Detection>) {
    let mut seen = BTreeSet::new();
    for spec in &input.exposed_ports {
        let Some((low, high)) = tcp_ports(spec) else {
            continue;
        };
        let shown_spec = if low == high {
            format!("{low}/tcp")
        } else {
            format!("{low}-{high}/tcp")
        };
        for (port, info, service, advice) in [
            (
                22,
                &EXPOSE_SSH,
                "SSH",
                "drop the SSH server and use `docker exec` or your orchestrator to get a shell",
            ),
            (
                23,
                &EXPOSE_TELNET,
                "telnet, which sends passwords in clear text",
                "remove the telnet server and the EXPOSE",
            ),
        ] {
            if (low..=high).contains(&port) && seen.insert((info.code, shown_spec.clone())) {
                out.push(detection(
                    info,
                    format!(
                        "The image exposes port {shown_spec}, the port of {service}; {advice}."
                    ),
                    config_location(format!("config:ExposedPorts {shown_spec}")),
                    Some(format!("EXPOSE {}", shown(spec.trim()))),
                ));
            }
        }
    }
}

fn sudo(input: &ConfigInput, out: &mut Vec<Detection>) {
    let mut seen = BTreeSet::new();
    for name in &input.packages {
        let name = name.trim();
        if !["sudo", "sudo-ldap", "doas", "opendoas"].contains(&name) || !seen.insert(name) {
            continue;
        }
        out.push(detection(
            &SUDO_INSTALLED,
            format!(
                "The OS package {name} is installed, which can hand root back to a process in the \
                 container; remove it and set the right USER instead (or switch users in the \
                 entrypoint with gosu or su-exec)."
            ),
            config_location(format!("package:{name}")),
            None,
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Package-manager caches

/// The manager a cache belongs to, how to avoid leaving it, and the Dockle checkpoint.
fn cache_manager(path: &str) -> (&'static str, &'static str, &'static str) {
    if path.contains("/apt/") || path.ends_with("/apt") {
        (
            "apt",
            "run `apt-get clean && rm -rf /var/lib/apt/lists/*` in the RUN step that installs the packages",
            "DKL-DI-0005",
        )
    } else if path.contains("/apk") {
        ("apk", "install with `apk add --no-cache`", "DKL-DI-0004")
    } else if path.contains("/dnf") {
        (
            "dnf",
            "run `dnf clean all` in the RUN step that installs the packages",
            "DKL-LI-0003",
        )
    } else if path.contains("/yum") {
        (
            "yum",
            "run `yum clean all` in the RUN step that installs the packages",
            "DKL-LI-0003",
        )
    } else if path.contains("/pip") {
        (
            "pip",
            "install with `pip install --no-cache-dir`",
            "DKL-LI-0003",
        )
    } else if path.contains(".npm") || path.contains("/npm") {
        (
            "npm",
            "run `npm cache clean --force` in the RUN step that installs the packages",
            "DKL-LI-0003",
        )
    } else {
        (
            "package manager",
            "delete it in the RUN step that fills it",
            "DKL-LI-0003",
        )
    }
}

/// `1536` → `1.5 KiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024 * 1024 && unit + 1 < UNITS.len() {
        value /= 1024;
        unit += 1;
    }
    // `value` is now below 1 MiB of the unit below `UNITS[unit]`: one decimal, rounded down.
    let tenths = value * 10 / 1024;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

fn package_caches(input: &ConfigInput, out: &mut Vec<Detection>) {
    for cache in &input.caches {
        if cache.files == 0 {
            continue;
        }
        let path = shown(&cache.path);
        let (manager, advice, reference) = cache_manager(&cache.path);
        let files = match cache.files {
            1 => "1 file".to_owned(),
            n => format!("{n} files"),
        };
        let mut found = detection(
            &PACKAGE_CACHE,
            format!(
                "The {manager} cache {path} holds {files} ({}) that only make the image bigger; \
                 {advice}.",
                human_bytes(cache.bytes)
            ),
            Location {
                layer: cache
                    .layer_index
                    .and_then(|i| input.layers.get(i).cloned().flatten()),
                layer_index: cache.layer_index,
                path,
                line: None,
            },
            Some(format!("{files}, {} bytes", cache.bytes)),
        );
        found.references = vec![reference.to_owned()];
        out.push(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The config blob of the corpus image `debian-app`
    /// (`/var/tmp/customs-corpus/out/debian-app/oci`, config `sha256:e5f5f8f1d3fd…`), whose
    /// history umoci wrote. The fixture token is spliced in at run time so that secret scanners
    /// of this repository do not take the test for a leak.
    const DEBIAN_APP_CONFIG: &str = r#"{
      "created": "2025-01-01T00:00:00Z",
      "architecture": "amd64",
      "os": "linux",
      "config": {
        "User": "app",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "APP_ENV=production",
          "LANG=C.UTF-8",
          "GITHUB_TOKEN=@TOKEN@"
        ],
        "Cmd": ["/app/start.sh"],
        "WorkingDir": "/app"
      },
      "rootfs": {
        "type": "layers",
        "diff_ids": [
          "sha256:fa9e728d8fcbf9d428b1400949a1c1cce053681d69fcafe55a6e310d5940f3ed",
          "sha256:76b65115991c53232b14a743465242f9862f9240e6e36b2405cc14a9cfa22166"
        ]
      },
      "history": [
        {"created_by": "debootstrap --variant=minbase bookworm", "comment": "base: Debian bookworm minbase"},
        {"created_by": "COPY app/ /", "comment": "app layer: python/npm/cargo/java deps, secrets, setuid, whiteouts"},
        {"created_by": "config: --config.cmd /app/start.sh --config.user app --config.workingdir /app --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env APP_ENV=production --config.env LANG=C", "empty_layer": true}
      ]
    }"#;

    fn debian_app_token() -> String {
        ["ghp_", "x7K2mN9pQ4rS6tU8vW0y", "Z1aB3cD5eF7gH9iJ"].concat()
    }

    /// What the catalog hands over, read from a config blob as the catalog reads it.
    fn input_from_config(json: &str) -> ConfigInput {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let config = &v["config"];
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        ConfigInput {
            user: config["User"].as_str().map(str::to_owned),
            env: strings(&config["Env"]),
            history: v["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| HistoryStep {
                    created_by: h["created_by"].as_str().unwrap_or("").to_owned(),
                    empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
                })
                .collect(),
            healthcheck: config.get("Healthcheck").map(|h| strings(&h["Test"])),
            exposed_ports: config["ExposedPorts"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default(),
            packages: Vec::new(),
            caches: Vec::new(),
            layers: v["rootfs"]["diff_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().and_then(|d| d.parse().ok()))
                .collect(),
        }
    }

    fn digest(n: u8) -> Digest {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
            .parse()
            .unwrap()
    }

    /// An input with this history, one layer per non-empty step.
    fn with_history(steps: &[(&str, bool)]) -> ConfigInput {
        let history: Vec<HistoryStep> = steps
            .iter()
            .map(|(created_by, empty_layer)| HistoryStep {
                created_by: (*created_by).to_owned(),
                empty_layer: *empty_layer,
            })
            .collect();
        let layers = (0..history.iter().filter(|s| !s.empty_layer).count())
            .map(|i| Some(digest(u8::try_from(i).unwrap())))
            .collect();
        ConfigInput {
            user: Some("1000".to_owned()),
            healthcheck: Some(vec!["CMD".to_owned(), "/healthz".to_owned()]),
            history,
            layers,
            ..ConfigInput::default()
        }
    }

    fn codes(found: &[Detection]) -> Vec<&str> {
        found.iter().map(|d| d.code.as_str()).collect()
    }

    fn only<'a>(found: &'a [Detection], code: &str) -> Vec<&'a Detection> {
        found.iter().filter(|d| d.code == code).collect()
    }

    #[test]
    fn debian_app_corpus_image() {
        let json = DEBIAN_APP_CONFIG.replace("@TOKEN@", &debian_app_token());
        let input = input_from_config(&json);
        let found = check(&input);
        assert_eq!(
            codes(&found),
            ["config-no-healthcheck", "config-secret-env"]
        );
        let env = &found[1];
        assert_eq!(env.location.path, "config:Env GITHUB_TOKEN");
        assert_eq!(env.evidence.as_deref(), Some("GITHUB_TOKEN=********"));
        assert_eq!(env.severity, Severity::High);
        assert_eq!(env.kind, DetectionKind::Config);
        assert_eq!(env.references, ["CIS-DI-0010", "CIS Docker Benchmark 4.10"]);
        let out = serde_json::to_string(&found).unwrap();
        assert!(!out.contains(&debian_app_token()[4..]), "{out}");
        // umoci's steps pair with the two layers; the config step is empty.
        assert_eq!(
            step_layers(&input),
            [Some(0), Some(1), None],
            "history pairs with rootfs.diff_ids"
        );
    }

    #[test]
    fn root_user_fires_for_no_user_root_and_uid_0() {
        for user in [
            None,
            Some(""),
            Some("  "),
            Some("root"),
            Some("0"),
            Some("root:root"),
            Some("0:1000"),
            Some("00"),
        ] {
            let input = ConfigInput {
                user: user.map(str::to_owned),
                ..ConfigInput::default()
            };
            let found = check(&input);
            let root = only(&found, "config-root-user");
            assert_eq!(root.len(), 1, "{user:?}");
            assert_eq!(root[0].location.path, "config:User");
            assert_eq!(
                root[0].references,
                ["CIS-DI-0001", "CIS Docker Benchmark 4.1"]
            );
        }
        let unset = check(&ConfigInput::default());
        assert_eq!(
            only(&unset, "config-root-user")[0].message,
            "The image runs as root: no USER is set. Add a USER with a non-zero uid."
        );
    }

    #[test]
    fn root_user_quiet_for_non_root_users() {
        for user in [
            "1000",
            "app",
            "nobody",
            "1000:0",
            "app:root",
            "rootless",
            "65534:65534",
        ] {
            let input = ConfigInput {
                user: Some(user.to_owned()),
                ..ConfigInput::default()
            };
            assert!(
                only(&check(&input), "config-root-user").is_empty(),
                "{user}"
            );
        }
    }

    #[test]
    fn secret_env_fires_on_credential_names_with_values() {
        let env = [
            "DB_PASS=hunter2hunter2",
            "BASIC_AUTH=admin:s3cret",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "SECRET_KEY_BASE=9f8e7d6c5b4a",
            "api-key=x1y2z3",
            "NPM_AUTH_TOKEN=npm_abcdef",
            "MYSQL_ROOT_PASSWORD=changeme",
            "PRIVATE_KEY=-----BEGIN",
            "REGISTRY_CREDENTIALS=user:pw",
            "GIT_AUTH=https://user:pw@git.example.com/",
        ];
        let input = ConfigInput {
            env: env.iter().map(|e| (*e).to_owned()).collect(),
            ..ConfigInput::default()
        };
        let found = check(&input);
        let secret = only(&found, "config-secret-env");
        assert_eq!(secret.len(), env.len(), "{secret:#?}");
        let out = serde_json::to_string(&found).unwrap();
        for e in env {
            let (name, value) = e.split_once('=').unwrap();
            assert!(out.contains(&format!("config:Env {name}")), "{name}");
            assert!(!out.contains(value), "{value} leaked: {out}");
        }
    }

    #[test]
    fn secret_env_quiet_on_near_misses() {
        let env = [
            "TOKEN_URL=https://auth.example.com/oauth/token",
            "SECRET_NAME=app-db",
            "PASSWORD_FILE=/run/secrets/db_password",
            "API_KEY=$API_KEY",
            "DB_PASSWORD=${DB_PASSWORD}",
            "DB_PASSWORD=",
            "PASSWORD_MIN_LENGTH=12",
            "AUTH_ENABLED=true",
            "TOKENIZERS_PARALLELISM=false",
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
            "AUTHOR=Jane",
            "GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json",
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "PWD=/app",
            "OAUTH_SERVER=https://login.example.com",
            "SECRET_TOKEN=<your token here>",
            "PATH=/usr/local/bin:/usr/bin",
            "no-equals-sign-TOKEN",
        ];
        let input = ConfigInput {
            env: env.iter().map(|e| (*e).to_owned()).collect(),
            ..ConfigInput::default()
        };
        assert!(only(&check(&input), "config-secret-env").is_empty());
    }

    #[test]
    fn buildkit_run_build_arg_fires_and_value_is_nowhere_in_the_output() {
        // Written to BuildKit's format: `ARG NAME` without a default is an empty step, and each
        // RUN in its scope records `|N NAME=value` before the shell.
        let token = "ghp_R4nd0mV4lu3Th4tMustN3v3rL34k00000000";
        let run = format!(
            "RUN |1 GITHUB_TOKEN={token} /bin/sh -c git clone https://$GITHUB_TOKEN@github.com/org/private.git /src # buildkit"
        );
        let input = with_history(&[
            ("/bin/sh -c #(nop) ADD file:0a1b2c3d in / ", false),
            ("ARG GITHUB_TOKEN", true),
            (&run, false),
        ]);
        let found = check(&input);
        assert_eq!(codes(&found), ["config-secret-build-arg"]);
        let d = &found[0];
        assert_eq!(d.location.path, "history[2].created_by");
        assert_eq!(d.location.layer_index, Some(1));
        assert_eq!(d.location.layer, Some(digest(1)));
        assert_eq!(d.evidence.as_deref(), Some("GITHUB_TOKEN=********"));
        assert_eq!(d.references, ["CIS-DI-0010", "CIS Docker Benchmark 4.10"]);
        let out = serde_json::to_string(&found).unwrap();
        assert!(!out.contains(token), "{out}");
        assert!(!out.contains("R4nd0m"), "{out}");
    }

    #[test]
    fn build_arg_default_and_its_uses_are_one_finding() {
        // BuildKit records `ARG NAME=default` (an empty step) and then the value in each RUN.
        let input = with_history(&[
            ("ARG NPM_TOKEN=npm_a1b2c3d4e5 VERSION=1.2.3", true),
            (
                "RUN |2 NPM_TOKEN=npm_a1b2c3d4e5 VERSION=1.2.3 /bin/sh -c npm ci # buildkit",
                false,
            ),
            (
                "RUN |2 NPM_TOKEN=npm_a1b2c3d4e5 VERSION=1.2.3 /bin/sh -c npm run build # buildkit",
                false,
            ),
        ]);
        let found = check(&input);
        assert_eq!(codes(&found), ["config-secret-build-arg"]);
        assert_eq!(found[0].location.path, "history[0].created_by");
        assert_eq!(
            found[0].location.layer_index, None,
            "an empty step has no layer"
        );
        assert_eq!(found[0].location.layer, None);
        assert!(
            found[0].message.contains("2 later steps"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn classic_builder_build_args() {
        // Written to the classic builder's format: `|N NAME=value` then the shell, no `RUN`.
        let input = with_history(&[
            ("|1 NPM_TOKEN=abcd1234efgh /bin/sh -c npm ci", false),
            ("|1 TARGETARCH=amd64 /bin/sh -c apt-get update", false),
            ("/bin/sh -c #(nop)  ARG DB_PASSWORD=s3cr3t-default", true),
            ("/bin/sh -c #(nop)  ARG TOKEN_TTL=3600", true),
        ]);
        let found = check(&input);
        let paths: Vec<_> = found.iter().map(|d| d.location.path.as_str()).collect();
        assert_eq!(codes(&found), ["config-secret-build-arg"; 2]);
        assert_eq!(paths, ["history[0].created_by", "history[2].created_by"]);
        assert_eq!(found[0].evidence.as_deref(), Some("NPM_TOKEN=********"));
        assert_eq!(found[1].evidence.as_deref(), Some("DB_PASSWORD=********"));
    }

    #[test]
    fn build_args_that_are_not_credentials() {
        let input = with_history(&[
            (
                "RUN |1 TARGETARCH=amd64 /bin/sh -c apt-get update # buildkit",
                false,
            ),
            (
                "RUN |2 DEBIAN_FRONTEND=noninteractive TOKEN_URL=https://x.example/t /bin/sh -c true # buildkit",
                false,
            ),
            ("RUN |1 API_TOKEN= /bin/sh -c true # buildkit", false),
            (
                "RUN |1 API_TOKEN=$CI_TOKEN /bin/sh -c true # buildkit",
                false,
            ),
            ("ARG NPM_TOKEN", true),
        ]);
        assert!(check(&input).is_empty());
    }

    #[test]
    fn several_build_args_in_one_run() {
        let pairs = run_build_args("3 A=1 NPM_TOKEN=xyz123abc B=two words /bin/sh -c true");
        assert_eq!(
            pairs,
            [
                ("A".to_owned(), "1".to_owned()),
                ("NPM_TOKEN".to_owned(), "xyz123abc".to_owned()),
                ("B".to_owned(), "two".to_owned()),
            ]
        );
        let spaced = run_build_args("2 MSG=hello world TOKEN=abc /bin/sh -c true");
        assert_eq!(spaced[0], ("MSG".to_owned(), "hello world".to_owned()));
        assert_eq!(spaced[1], ("TOKEN".to_owned(), "abc".to_owned()));
    }

    #[test]
    fn add_of_a_remote_url() {
        let input = with_history(&[
            // classic builder's own ADD of the base tarball: not remote
            ("/bin/sh -c #(nop) ADD file:abc in / ", false),
            (
                "/bin/sh -c #(nop) ADD https://example.com/tool.tar.gz in /opt/ ",
                false,
            ),
            (
                "ADD https://user:pw@dl.example.com/app.tgz?sig=abc /srv/ # buildkit",
                false,
            ),
            (
                "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x.tgz /x # buildkit",
                false,
            ),
            ("ADD app.tar.gz /srv/ # buildkit", false),
            ("COPY https-notes.txt /srv/ # buildkit", false),
        ]);
        let found = check(&input);
        assert_eq!(codes(&found), ["config-add-remote-url"; 2]);
        assert_eq!(found[0].location.path, "history[1].created_by");
        assert_eq!(
            found[0].references,
            ["CIS-DI-0009", "CIS Docker Benchmark 4.9"]
        );
        assert_eq!(found[1].location.path, "history[2].created_by");
        assert_eq!(
            found[1].evidence.as_deref(),
            Some("ADD https://********@dl.example.com/app.tgz")
        );
        let out = serde_json::to_string(&found).unwrap();
        assert!(!out.contains("pw@") && !out.contains("sig=abc"), "{out}");
    }

    #[test]
    fn curl_piped_into_a_shell() {
        let fires = [
            "/bin/sh -c curl -fsSL https://get.docker.com | sh",
            "RUN /bin/sh -c curl -sL https://deb.nodesource.com/setup_20.x | bash - # buildkit",
            "RUN /bin/sh -c wget -O- https://example.com/install.sh | sh # buildkit",
            "/bin/sh -c apt-get update && wget -qO- https://example.com/i.sh| sudo bash",
            "RUN /bin/sh -c curl -fsSL https://x.example/setup | sudo -E bash - # buildkit",
            "RUN /bin/sh -c curl https://sh.rustup.rs -sSf | sh -s -- -y # buildkit",
            "RUN /bin/sh -c curl -sSL https://x.example/i | /bin/bash # buildkit",
            r#"RUN /bin/sh -c sh -c "$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)" # buildkit"#,
            "RUN /bin/bash -o pipefail -c bash <(curl -s https://x.example/install) # buildkit",
            r#"/bin/sh -c eval "$(wget -qO- https://x.example/env)""#,
            "RUN |1 V=1 /bin/sh -c curl -fsSL https://x.example/$V/install | env FOO=1 bash # buildkit",
            "buildah: curl -fsSL https://get.example.com | sh",
        ];
        for created_by in fires {
            let found = check(&with_history(&[(created_by, false)]));
            assert_eq!(codes(&found), ["config-curl-pipe-shell"], "{created_by}");
            assert_eq!(found[0].location.layer_index, Some(0));
        }
    }

    #[test]
    fn downloads_that_are_checked_or_not_run() {
        let quiet = [
            // the documented way: download, check, unpack
            r#"RUN /bin/sh -c curl -fsSLo /tmp/node.tgz https://nodejs.org/dist/v20.0.0/node.tgz && echo "abc  /tmp/node.tgz" | sha256sum -c - && tar -xzf /tmp/node.tgz # buildkit"#,
            "RUN /bin/sh -c curl -fsSL https://x.example/key.gpg | gpg --dearmor -o /usr/share/keyrings/x.gpg # buildkit",
            "RUN /bin/sh -c curl -fsSL https://x.example/a.tgz | tar -xz -C /usr/local/bin # buildkit",
            "RUN /bin/sh -c curl -fsSL https://x.example/a.sha | shasum -a 256 -c # buildkit",
            r#"RUN /bin/sh -c curl -s https://api.github.com/repos/x/y/releases/latest | python3 -c "import json,sys; print(json.load(sys.stdin)['tag_name'])" # buildkit"#,
            "/bin/sh -c echo hi | sh",
            "/bin/sh -c curl -o /tmp/x https://x.example/x; cat /tmp/x | sha256sum",
            "/bin/sh -c #(nop)  CMD [\"sh\" \"-c\" \"curl https://x | sh\"]",
            "LABEL install=\"curl https://x | sh\"",
        ];
        for created_by in quiet {
            let found = check(&with_history(&[(created_by, false)]));
            assert!(found.is_empty(), "{created_by}: {found:#?}");
        }
    }

    #[test]
    fn curl_evidence_is_redacted() {
        let created_by = r#"RUN /bin/sh -c curl -H "Authorization: Bearer sekr1tbearer" -H "X-Vault-Token: hvs.vaulttok" --oauth2-bearer oauthtok -u bob:hunter2pw "https://alice:pa55@x.example/i.sh?token=qwerty123" | API_TOKEN=zzz999yyy sh # buildkit"#;
        let found = check(&with_history(&[(created_by, false)]));
        assert_eq!(codes(&found), ["config-curl-pipe-shell"]);
        let evidence = found[0].evidence.as_deref().unwrap();
        for secret in [
            "sekr1tbearer",
            "hunter2pw",
            "pa55",
            "qwerty123",
            "zzz999yyy",
        ] {
            assert!(!evidence.contains(secret), "{secret} in {evidence}");
        }
        assert!(evidence.contains("curl"), "{evidence}");
    }

    #[test]
    fn healthcheck_missing_or_disabled() {
        for test in [None, Some(vec![]), Some(vec!["NONE".to_owned()])] {
            let input = ConfigInput {
                user: Some("app".to_owned()),
                healthcheck: test.clone(),
                ..ConfigInput::default()
            };
            let found = check(&input);
            assert_eq!(codes(&found), ["config-no-healthcheck"], "{test:?}");
            assert_eq!(found[0].severity, Severity::Low);
            assert_eq!(
                found[0].references,
                ["CIS-DI-0006", "CIS Docker Benchmark 4.6"]
            );
        }
        let declared = ConfigInput {
            user: Some("app".to_owned()),
            healthcheck: Some(vec![
                "CMD-SHELL".to_owned(),
                "curl -f http://localhost/ || exit 1".to_owned(),
            ]),
            ..ConfigInput::default()
        };
        assert!(check(&declared).is_empty());
    }

    #[test]
    fn ssh_and_telnet_ports() {
        let ports = |specs: &[&str]| {
            let input = ConfigInput {
                exposed_ports: specs.iter().map(|s| (*s).to_owned()).collect(),
                ..with_history(&[])
            };
            check(&input)
        };
        let found = ports(&["22/tcp", "22", "23/tcp", "8080/tcp"]);
        assert_eq!(codes(&found), ["config-expose-ssh", "config-expose-telnet"]);
        assert_eq!(found[0].location.path, "config:ExposedPorts 22/tcp");
        assert_eq!(found[0].severity, Severity::Medium);
        assert_eq!(found[1].severity, Severity::High);
        let range = ports(&["20-25/tcp"]);
        assert_eq!(codes(&range), ["config-expose-ssh", "config-expose-telnet"]);
        let quiet = ports(&[
            "22/udp",
            "2222/tcp",
            "8022",
            "230/tcp",
            "99999/tcp",
            "/tcp",
            "-",
            "25-20/tcp",
            "",
        ]);
        assert!(quiet.is_empty(), "{quiet:#?}");
    }

    #[test]
    fn sudo_and_doas_packages() {
        let input = ConfigInput {
            packages: ["bash", "sudo", "sudo", "doas", "libsudo-dev", "pseudo"]
                .map(str::to_owned)
                .to_vec(),
            ..with_history(&[])
        };
        let found = check(&input);
        assert_eq!(codes(&found), ["config-sudo-installed"; 2]);
        assert_eq!(found[0].location.path, "package:doas");
        assert_eq!(found[1].location.path, "package:sudo");
        assert_eq!(found[1].references, ["DKL-DI-0001"]);
    }

    #[test]
    fn package_caches_with_size_and_layer() {
        let mut input = with_history(&[("base", false), ("RUN apt-get install -y curl", false)]);
        input.caches = vec![
            CacheUse {
                path: "/var/cache/apt/archives".to_owned(),
                files: 12,
                bytes: 36_700_160,
                layer_index: Some(1),
            },
            CacheUse {
                path: "/root/.cache/pip".to_owned(),
                files: 1,
                bytes: 1536,
                layer_index: None,
            },
            CacheUse {
                path: "/var/cache/apk".to_owned(),
                files: 0,
                bytes: 0,
                layer_index: Some(1),
            },
        ];
        let found = check(&input);
        assert_eq!(codes(&found), ["config-package-cache"; 2]);
        let pip = &found[0];
        assert_eq!(pip.location.path, "/root/.cache/pip");
        assert!(pip.message.contains("1 file (1.5 KiB)"), "{}", pip.message);
        assert!(pip.message.contains("--no-cache-dir"), "{}", pip.message);
        assert_eq!(pip.references, ["DKL-LI-0003"]);
        let apt = &found[1];
        assert_eq!(apt.location.layer_index, Some(1));
        assert_eq!(apt.location.layer, Some(digest(1)));
        assert!(
            apt.message.contains("12 files (35.0 MiB)"),
            "{}",
            apt.message
        );
        assert_eq!(apt.references, ["DKL-DI-0005"]);
    }

    #[test]
    fn human_readable_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
        assert_eq!(human_bytes(u64::MAX), "16383.9 PiB", "rounded down");
    }

    #[test]
    fn history_steps_parse_per_builder() {
        assert_eq!(
            parse_step("/bin/sh -c #(nop) ADD file:abc in / "),
            Step::Add("file:abc in / ")
        );
        assert_eq!(parse_step("/bin/sh -c #(nop)  ENV A=b"), Step::Other);
        assert_eq!(
            parse_step("/bin/sh -c apt-get update"),
            Step::Run {
                args: None,
                command: "apt-get update"
            }
        );
        assert_eq!(
            parse_step("RUN |1 A=b /bin/sh -c x # buildkit"),
            Step::Run {
                args: Some("1 A=b /bin/sh -c x # buildkit"),
                command: "|1 A=b /bin/sh -c x # buildkit"
            }
        );
        assert_eq!(parse_step("ARG A=1"), Step::Arg("A=1"));
        assert_eq!(parse_step("COPY . /app # buildkit"), Step::Other);
        assert!(matches!(
            parse_step("debootstrap --variant=minbase bookworm"),
            Step::Run { args: None, .. }
        ));
    }

    #[test]
    fn unpaired_history_leaves_layers_unknown() {
        let mut input = with_history(&[("RUN /bin/sh -c curl https://x | sh # buildkit", false)]);
        input.layers.push(Some(digest(9)));
        let found = check(&input);
        assert_eq!(found[0].location.layer_index, None);
        assert_eq!(found[0].location.layer, None);
    }

    #[test]
    fn sorted_by_code_then_natural_path() {
        let steps: Vec<String> = (0..12)
            .map(|i| format!("RUN |1 TOKEN_{i}=v4lue{i}xyz /bin/sh -c true # buildkit"))
            .collect();
        let steps: Vec<(&str, bool)> = steps.iter().map(|s| (s.as_str(), false)).collect();
        let found = check(&with_history(&steps));
        let paths: Vec<_> = found.iter().map(|d| d.location.path.clone()).collect();
        let want: Vec<_> = (0..12)
            .map(|i| format!("history[{i}].created_by"))
            .collect();
        assert_eq!(paths, want);
    }

    #[test]
    fn every_code_is_listed_once_in_order() {
        let codes: Vec<_> = CHECKS.iter().map(|c| c.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert!(codes.iter().all(|c| c.starts_with("config-")));
    }

    #[test]
    fn hostile_inputs_do_not_panic_or_leak() {
        // a curl | sh past the cap is not read
        let mut long = "RUN /bin/sh -c true ".to_owned();
        long.push_str(&"é".repeat(MAX_STEP_BYTES));
        long.push_str(" && curl https://x | sh");
        // a multibyte character across the cap
        let mut boundary = "x".repeat(MAX_STEP_BYTES - 1);
        boundary.push('€');
        // 60 KB of `curl |` then a shell, inside the cap
        let pipes = format!("RUN /bin/sh -c {}sh", "curl |".repeat(10_000));
        let bars = format!("RUN |{} A=b", "9".repeat(40));
        let many_pairs = format!("RUN |999999 {}", "K=v ".repeat(10_000));
        let input = ConfigInput {
            user: Some(format!("0:{}", "\u{202e}".repeat(10_000))),
            env: vec![
                String::new(),
                "=".to_owned(),
                "=value".to_owned(),
                format!("{}TOKEN=abc123", "\u{0}".repeat(1000)),
                format!("{}=x", "A".repeat(1 << 20)),
                "TOKEN\u{202e}\u{1b}[31m=abcdef123".to_owned(),
                "\u{202e}NEKOT_IPA=abcdef123".to_owned(),
            ],
            history: [
                long.as_str(),
                boundary.as_str(),
                pipes.as_str(),
                bars.as_str(),
                many_pairs.as_str(),
                "",
                "|",
                "RUN |",
                "RUN |2",
                "ADD",
                "/bin/sh -c",
                "/bin/sh -c #(nop)",
            ]
            .iter()
            .map(|s| HistoryStep {
                created_by: (*s).to_owned(),
                empty_layer: false,
            })
            .collect(),
            healthcheck: Some(vec![String::new()]),
            exposed_ports: vec!["\u{0}/\u{0}".to_owned(), "22/tcp/tcp".to_owned()],
            packages: vec![String::new()],
            caches: vec![CacheUse {
                path: "\u{1b}[2J/var/cache/apt".repeat(1000),
                files: u64::MAX,
                bytes: u64::MAX,
                layer_index: Some(usize::MAX),
            }],
            layers: vec![None; 3],
        };
        let found = check(&input);
        let out = serde_json::to_string(&found).unwrap();
        assert!(
            !out.contains("abc123") && !out.contains("abcdef123"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "control characters are dropped");
        assert!(
            !out.contains('\u{202e}'),
            "bidirectional overrides are dropped"
        );
        assert!(found.iter().all(|d| d.message.chars().count() < 1000));
        let curl = only(&found, "config-curl-pipe-shell");
        assert_eq!(curl.len(), 1, "not the one past the cap");
        assert_eq!(curl[0].location.path, "history[2].created_by");
        assert_eq!(only(&found, "config-root-user").len(), 1);
        assert!(
            check(&ConfigInput::default()).len() == 2,
            "root and no healthcheck"
        );
    }
}
