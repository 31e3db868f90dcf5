//! The history checks: each `created_by` parsed per builder (BuildKit, the classic builder,
//! free text from other tools), then read for credential build arguments, `ADD` of a remote
//! URL and downloads piped into a shell.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::credentials::{
    credential_name, key_values, redact_command, run_build_args, secret_value, shown_url,
};
use super::{
    ADD_REMOTE_URL, CURL_PIPE_SHELL, ConfigInput, MAX_STEP_BYTES, REDACTED, SECRET_BUILD_ARG,
    capped, detection, shown,
};
use crate::{Detection, Location};

/// What a history step is, as far as the checks care.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step<'a> {
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

pub(super) fn parse_step(created_by: &str) -> Step<'_> {
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
pub(super) fn step_layers(input: &ConfigInput) -> Vec<Option<usize>> {
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

pub(super) fn history(input: &ConfigInput, out: &mut Vec<Detection>) {
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
