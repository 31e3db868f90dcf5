//! Credentials by name: the heuristics that tell a credential-named variable with a secret
//! value, the `Env` and build-argument pairs they run over, and the redaction of what could
//! be a credential in evidence (URLs, commands).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::{ConfigInput, REDACTED, SECRET_ENV, capped, config_location, detection, shown};
use crate::Detection;

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
pub(super) fn credential_name(name: &str) -> bool {
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
pub(super) fn secret_value(value: &str) -> bool {
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

pub(super) fn secret_env(input: &ConfigInput, out: &mut Vec<Detection>) {
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
pub(super) fn key_values(text: &str, count: usize, bare_names: bool) -> Vec<(String, String)> {
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
pub(super) fn run_build_args(after_bar: &str) -> Vec<(String, String)> {
    let Some((count, rest)) = after_bar.split_once(char::is_whitespace) else {
        return Vec::new();
    };
    match count.parse::<usize>() {
        Ok(count) => key_values(rest, count, false),
        Err(_) => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Redaction of evidence

/// A URL for a message: no credentials, no query or fragment.
pub(super) fn shown_url(url: &str) -> String {
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
pub(super) fn redact_command(command: &str) -> String {
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
