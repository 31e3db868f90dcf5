//! Secret rules and the scanner over them.
//!
//! The rules are data: `rules/secrets.toml`, built in, and a user's file given with
//! `--secret-config` that adds rules, replaces them by id, disables them by id or code, and
//! allow-lists paths and values (each entry with its reason). `docs/secrets.md` describes
//! the rules and the file format.
//!
//! A scan is one pass of an Aho-Corasick automaton over the bytes, which finds the rules
//! whose keywords occur (ASCII case-insensitively); only those rules' regexes run. A match
//! is then confirmed by the rule's checks: the entropy of the secret, a decoder (`jwt`,
//! `basic-auth`, `docker-config`), the rule's allow-list of placeholders, the user's allow
//! entries and inline `customs:allow <reason>` comments.
//!
//! Binary files (a NUL in the first 8 KiB) and files over 10 MiB are skipped and counted.
//! A secret's value never leaves this module: a hit carries the rule, the line and the
//! line's text with every secret on it replaced by `********`.
//!
//! ```
//! use customs_detect::secrets::{RuleSet, SecretStats};
//!
//! let rules = RuleSet::builtin();
//! let token = ["ghp_", "gAcyf6gocckP4PYyuJVqflfBMaK6JVoi6UuM"].concat();
//! let text = format!("#!/bin/sh\nexport GITHUB_TOKEN={token}\n");
//! let mut stats = SecretStats::default();
//! let hits = rules.scan_file("/app/deploy.sh", text.as_bytes(), &mut stats);
//! assert_eq!(hits[0].rule, "github-pat");
//! assert_eq!(hits[0].line, 2);
//! assert_eq!(hits[0].evidence, "export GITHUB_TOKEN=********");
//! assert_eq!(rules.redact(&text), "#!/bin/sh\nexport GITHUB_TOKEN=********\n");
//! ```

mod decode;
mod rules;
mod scan;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use customs_types::Severity;
use serde::{Deserialize, Serialize};

/// What a secret's value becomes in every output.
pub const REDACTED: &str = "********";

/// The built-in rules, as shipped.
const BUILTIN: &str = include_str!("../rules/secrets.toml");
/// How errors in the built-in rules name the file.
const BUILTIN_NAME: &str = "customs-detect/rules/secrets.toml (built in)";

/// The largest file scanned.
const MAX_FILE_SIZE: u64 = 10 << 20;
/// Bytes of a file's head in which a NUL makes it binary (git's and grep's rule).
const BINARY_SNIFF: usize = 8192;

/// One secret found in a file or a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretHit {
    /// The rule's id (`aws-access-key-id`).
    pub rule: String,
    /// The detection code, the rule's `code` (`secret-aws-access-key`); several rules may
    /// share one.
    pub code: String,
    /// The rule's title.
    pub title: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The 1-based line of the match.
    pub line: usize,
    /// The matched line, the secret redacted, at most 200 characters.
    pub evidence: String,
}

/// What a file's scan counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretStats {
    /// Files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Files skipped as larger than the limit.
    pub skipped_large: u64,
    /// Matches not reported because a file had too many (over 100 hits, or over 4096
    /// candidates of one rule): a sign of a generated or hostile file. Serialized only when
    /// not 0, so that results without drops keep the four fields they always had.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hits_dropped: u64,
}

impl SecretStats {
    /// Add another count to this one.
    pub fn add(&mut self, o: &Self) {
        self.files += o.files;
        self.bytes += o.bytes;
        self.skipped_binary += o.skipped_binary;
        self.skipped_large += o.skipped_large;
        self.hits_dropped += o.hits_dropped;
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A loaded rule set: the built-in rules, extended or overridden by a user's file.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<rules::Rule>,
    /// Every rule's keywords and the allow marker, in one automaton.
    keywords: aho_corasick::AhoCorasick,
    /// For each pattern of `keywords`, the rules it turns on.
    keyword_rules: Vec<Vec<usize>>,
    /// The pattern of `keywords` that is [`rules::ALLOW_MARKER`].
    marker_pattern: usize,
    /// Every path-scoped rule's globs, and the rule of each.
    path_globs: globset::GlobSet,
    path_rule_of: Vec<usize>,
    /// Paths never scanned.
    allow_paths: globset::GlobSet,
    allow_entries: Vec<rules::AllowEntry>,
    fingerprint: String,
}

/// A rule file that cannot be used, named with the problem.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct RuleError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub problem: String,
}

/// A rule of a set, as a listing shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo<'a> {
    /// The rule's id (`github-pat`).
    pub id: &'a str,
    /// Its detection code (`secret-github-token`); several rules may share one.
    pub code: &'a str,
    /// Its title.
    pub title: &'a str,
    /// Its severity.
    pub severity: Severity,
}

impl RuleSet {
    /// The built-in rules (`rules/secrets.toml`), read once per process.
    ///
    /// # Panics
    /// If the built-in file is broken, which its tests rule out.
    pub fn builtin() -> Arc<Self> {
        static SET: OnceLock<Arc<RuleSet>> = OnceLock::new();
        SET.get_or_init(|| {
            let set = rules::build(&[builtin_source()])
                .unwrap_or_else(|e| panic!("the built-in secret rules are broken: {e}"));
            Arc::new(set)
        })
        .clone()
    }

    /// The built-in rules with a user's file applied (`--secret-config`).
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML, or a rule, glob, regex or allow entry in
    /// it is wrong (an entry without a reason, a rule whose examples fail).
    pub fn with_file(path: &Path) -> Result<Self, RuleError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            file: name.clone(),
            problem: format!("cannot read it: {e}"),
        })?;
        Self::with_toml(&name, &text)
    }

    /// The built-in rules with a user's rule file, given as text, applied; `name` names it
    /// in errors.
    ///
    /// # Errors
    /// As [`with_file`](Self::with_file).
    pub fn with_toml(name: &str, text: &str) -> Result<Self, RuleError> {
        rules::build(&[
            builtin_source(),
            rules::Source {
                name,
                text,
                user: true,
            },
        ])
    }

    /// A short hash of the effective rules, so cached layer results are per rule set.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// The largest file scanned.
    pub fn max_file_size(&self) -> u64 {
        MAX_FILE_SIZE
    }

    /// Whether a file at this path is scanned at all (allow-listed paths are not).
    pub fn wants_path(&self, path: &str) -> bool {
        !self.allow_paths.is_match(path)
    }

    /// The rules, in the order of the files.
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> {
        self.rules.iter().map(|r| RuleInfo {
            id: &r.id,
            code: &r.code,
            title: &r.title,
            severity: r.severity,
        })
    }

    /// Scan a file's bytes (`path` absolute in the image). Binary files count in `stats` and
    /// yield nothing.
    pub fn scan_file(&self, path: &str, bytes: &[u8], stats: &mut SecretStats) -> Vec<SecretHit> {
        if !self.wants_path(path) {
            return Vec::new();
        }
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_SIZE {
            stats.skipped_large += 1;
            return Vec::new();
        }
        if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
            stats.skipped_binary += 1;
            return Vec::new();
        }
        stats.files += 1;
        stats.bytes += bytes.len() as u64;
        let out = scan::run(
            self,
            bytes,
            &scan::Opts {
                path: Some(path),
                entries: true,
                inline: true,
                only: None,
            },
        );
        stats.hits_dropped += out.dropped;
        self.hits(bytes, &out)
    }

    /// Scan a text that is not a file (an `Env` entry, a history step). Rules scoped to
    /// paths do not run; lines are counted in the text.
    pub fn scan_text(&self, text: &str) -> Vec<SecretHit> {
        let out = scan::run(
            self,
            text.as_bytes(),
            &scan::Opts {
                path: None,
                entries: true,
                inline: true,
                only: None,
            },
        );
        self.hits(text.as_bytes(), &out)
    }

    /// The text with every value a rule matches replaced by `********`: every value
    /// [`scan_text`](Self::scan_text) would report, and those an inline `customs:allow`
    /// comment excuses too (a value is never kept for a comment's sake).
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let out = scan::run(
            self,
            text.as_bytes(),
            &scan::Opts {
                path: None,
                entries: true,
                inline: false,
                only: None,
            },
        );
        if out.reported.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut s = String::with_capacity(text.len());
        let mut pos = 0;
        for span in &out.reported {
            // A user's byte-level regex may split a character: widen to whole characters.
            let mut a = span.start.max(pos);
            while !text.is_char_boundary(a) {
                a -= 1;
            }
            let mut b = span.end;
            while !text.is_char_boundary(b) {
                b += 1;
            }
            if b <= pos {
                continue;
            }
            if a > pos {
                s.push_str(&text[pos..a]);
            }
            s.push_str(REDACTED);
            pos = b;
        }
        s.push_str(&text[pos..]);
        Cow::Owned(s)
    }

    fn hits(&self, bytes: &[u8], out: &scan::Outcome) -> Vec<SecretHit> {
        out.found
            .iter()
            .map(|f| {
                let r = &self.rules[f.rule];
                SecretHit {
                    rule: r.id.clone(),
                    code: r.code.clone(),
                    title: r.title.clone(),
                    severity: r.severity,
                    line: f.line,
                    evidence: scan::evidence(bytes, f.at, &out.masked),
                }
            })
            .collect()
    }
}

fn builtin_source() -> rules::Source<'static> {
    rules::Source {
        name: BUILTIN_NAME,
        text: BUILTIN,
        user: false,
    }
}
