//! Rule files: the TOML as written ([`RawFile`]) turned into checked [`Rule`]s and
//! [`AllowEntry`]s, and several files (the built-in one, then the user's) merged into one
//! [`RuleSet`]. Every problem is a [`RuleError`] naming the file, the line and the rule.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use customs_types::Severity;
use globset::{GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use toml::Spanned;

use super::decode::Decode;
use super::{RuleError, RuleSet, scan};

/// Bumped whenever the scanner reads the same rules differently, so cached layers are
/// rescanned: part of [`RuleSet::fingerprint`].
const ENGINE_VERSION: &str = "customs-secrets-1";

/// The keyword whose presence makes the scanner look for inline allow comments.
pub(super) const ALLOW_MARKER: &str = "customs:allow";

// ------------------------------------------------------------------------------ raw TOML

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    allow: RawAllow,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    entries: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: Option<String>,
    path: Option<String>,
    value: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    code: String,
    title: String,
    severity: String,
    #[serde(default)]
    keywords: Vec<String>,
    regex: String,
    secret_group: Option<Groups>,
    entropy: Option<f64>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    allow_match: Vec<String>,
    decode: Option<String>,
    #[serde(default)]
    fallback: bool,
    #[serde(default)]
    examples: RawExamples,
}

/// `secret_group = 1`, or `[2, 3]` for a regex whose alternatives capture the secret in
/// different groups: the first group that took part in the match is the secret.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Groups {
    One(usize),
    Many(Vec<usize>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    path: Option<String>,
    #[serde(default)]
    true_positives: Vec<String>,
    #[serde(default)]
    false_positives: Vec<String>,
}

// ------------------------------------------------------------------------- checked rules

/// One checked rule.
#[derive(Debug)]
pub(super) struct Rule {
    pub(super) id: String,
    pub(super) code: String,
    pub(super) title: String,
    pub(super) severity: Severity,
    /// Lowercase; empty only for a rule with `paths`.
    pub(super) keywords: Vec<String>,
    pub(super) regex: Regex,
    /// The capture groups that may hold the secret, the first that took part in a match
    /// wins; `[0]`: the whole match.
    pub(super) secret_groups: Vec<usize>,
    pub(super) entropy: Option<f64>,
    /// The rule runs only on files these match (never on texts) when set.
    pub(super) paths: Option<Vec<String>>,
    pub(super) allow: Vec<Regex>,
    pub(super) allow_match: Vec<Regex>,
    pub(super) decode: Option<Decode>,
    pub(super) fallback: bool,
    pub(super) examples: Examples,
}

#[derive(Debug, Default)]
pub(super) struct Examples {
    pub(super) path: Option<String>,
    pub(super) true_positives: Vec<String>,
    pub(super) false_positives: Vec<String>,
}

impl Rule {
    /// Whether `name` (from `disable` or an allow entry) names this rule.
    pub(super) fn named(&self, name: &str) -> bool {
        self.id == name || self.code == name
    }

    fn from_raw(raw: RawRule, user: bool) -> Result<Self, String> {
        if !is_kebab(&raw.id) {
            return Err("the id must be kebab-case (`aws-access-key-id`)".into());
        }
        if !raw.code.strip_prefix("secret-").is_some_and(is_kebab) {
            return Err(format!(
                "code {:?}: a secret code is kebab-case and starts with `secret-`",
                raw.code
            ));
        }
        if raw.title.trim().is_empty() {
            return Err("the title is empty".into());
        }
        let severity = Severity::parse_lenient(&raw.severity).map_err(|e| e.to_string())?;
        let mut keywords = Vec::with_capacity(raw.keywords.len());
        for k in &raw.keywords {
            if k.trim().is_empty() {
                return Err("a keyword is empty".into());
            }
            keywords.push(k.to_ascii_lowercase());
        }
        if keywords.is_empty() && raw.paths.is_empty() {
            return Err(
                "no keywords: a rule without `paths` needs keywords, or its regex would run on every file"
                    .into(),
            );
        }
        let regex = regex(&raw.regex).map_err(|e| format!("bad regex: {e}"))?;
        let secret_groups = match raw.secret_group {
            None => vec![0],
            Some(Groups::One(g)) => vec![g],
            Some(Groups::Many(gs)) if gs.is_empty() => {
                return Err("secret_group: the list is empty".into());
            }
            Some(Groups::Many(gs)) => gs,
        };
        if let Some(g) = secret_groups.iter().find(|&&g| g >= regex.captures_len()) {
            return Err(format!(
                "secret_group {g}: the regex has only {} capture group(s)",
                regex.captures_len() - 1
            ));
        }
        if let Some(e) = raw.entropy
            && !(0.0..=8.0).contains(&e)
        {
            return Err(format!("entropy {e}: bits per byte lie between 0 and 8"));
        }
        for p in &raw.paths {
            glob(p).map_err(|e| format!("bad path glob {p:?}: {e}"))?;
        }
        let allow = compile_all(&raw.allow, "allow")?;
        let allow_match = compile_all(&raw.allow_match, "allow_match")?;
        let decode = raw.decode.as_deref().map(Decode::parse).transpose()?;
        let examples = raw.examples;
        if user && examples.true_positives.is_empty() {
            return Err(
                "no true positive: a rule of yours needs at least one example in [rules.examples] true_positives, which is checked when the file is loaded"
                    .into(),
            );
        }
        let paths = (!raw.paths.is_empty()).then_some(raw.paths);
        if let Some(paths) = &paths
            && (!examples.true_positives.is_empty() || !examples.false_positives.is_empty())
        {
            let Some(p) = &examples.path else {
                return Err(
                    "the rule has `paths`, so its examples need one too: [rules.examples] path = \"/a/matching/file\""
                        .into(),
                );
            };
            if !paths
                .iter()
                .any(|g| glob(g).is_ok_and(|g| g.compile_matcher().is_match(p)))
            {
                return Err(format!(
                    "the examples' path {p:?} matches none of the rule's paths"
                ));
            }
        }
        Ok(Self {
            id: raw.id,
            code: raw.code,
            title: raw.title,
            severity,
            keywords,
            regex,
            secret_groups,
            entropy: raw.entropy,
            paths,
            allow,
            allow_match,
            decode,
            fallback: raw.fallback,
            examples: Examples {
                path: examples.path,
                true_positives: examples.true_positives,
                false_positives: examples.false_positives,
            },
        })
    }
}

/// A user's reasoned exception: hits it covers are not reported.
#[derive(Debug)]
pub(super) struct AllowEntry {
    /// A rule id or code; any rule when `None`.
    rule: Option<String>,
    path: Option<GlobMatcher>,
    value: Option<Regex>,
    /// Kept for what it documents; never read by the scanner.
    #[expect(
        dead_code,
        reason = "the reason is required and kept, but only people read it"
    )]
    reason: String,
}

impl AllowEntry {
    /// Whether the entry covers a secret of `rule` at `path` (`None` for a text, which no
    /// entry with a path covers).
    pub(super) fn covers(&self, rule: &Rule, path: Option<&str>, secret: &[u8]) -> bool {
        self.rule.as_deref().is_none_or(|n| rule.named(n))
            && match (&self.path, path) {
                (None, _) => true,
                (Some(g), Some(p)) => g.is_match(p),
                (Some(_), None) => false,
            }
            && self.value.as_ref().is_none_or(|v| v.is_match(secret))
    }
}

// ------------------------------------------------------------------------------ building

/// One rule file's text.
pub(super) struct Source<'a> {
    /// How errors name it.
    pub(super) name: &'a str,
    pub(super) text: &'a str,
    /// A user's file: its rules must carry examples, which are checked.
    pub(super) user: bool,
}

/// Merge the files, in order, into one set: a rule with a known id replaces it, others are
/// added; `disable` removes rules by id or code; allow paths and entries add up.
pub(super) fn build(sources: &[Source<'_>]) -> Result<RuleSet, RuleError> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut checked: Vec<(usize, &str, usize)> = Vec::new(); // rule index, file, line
    let mut disables: Vec<(&str, usize, String)> = Vec::new();
    let mut allow_paths = GlobSetBuilder::new();
    let mut raw_entries: Vec<(&str, usize, RawEntry)> = Vec::new();
    let mut hasher = Sha256::new();
    hasher.update(ENGINE_VERSION.as_bytes());
    for src in sources {
        hasher.update([0]);
        hasher.update(src.text.as_bytes());
        let err = |line: usize, problem: String| RuleError {
            file: src.name.to_owned(),
            problem: if line == 0 {
                problem
            } else {
                format!("line {line}: {problem}")
            },
        };
        let raw: RawFile = toml::from_str(src.text).map_err(|e| err(0, e.to_string()))?;
        for r in raw.rules {
            let line = line_of(src.text, r.span().start);
            let raw = r.into_inner();
            let id = raw.id.clone();
            let rule = Rule::from_raw(raw, src.user)
                .map_err(|p| err(line, format!("rule `{id}`: {p}")))?;
            let at = if let Some(i) = rules.iter().position(|o| o.id == rule.id) {
                rules[i] = rule;
                checked.retain(|c| c.0 != i);
                i
            } else {
                rules.push(rule);
                rules.len() - 1
            };
            if src.user {
                checked.push((at, src.name, line));
            }
        }
        for d in raw.disable {
            let line = line_of(src.text, d.span().start);
            disables.push((src.name, line, d.into_inner()));
        }
        for p in raw.allow.paths {
            let line = line_of(src.text, p.span().start);
            let g = glob(p.get_ref())
                .map_err(|e| err(line, format!("allow path {:?}: bad glob: {e}", p.get_ref())))?;
            allow_paths.add(g);
        }
        for e in raw.allow.entries {
            let line = line_of(src.text, e.span().start);
            raw_entries.push((src.name, line, e.into_inner()));
        }
    }
    let err_at = |file: &str, line: usize, problem: String| RuleError {
        file: file.to_owned(),
        problem: format!("line {line}: {problem}"),
    };
    // Entries and disables may name any rule the files define, disabled or not.
    let mut entries = Vec::with_capacity(raw_entries.len());
    for (file, line, e) in raw_entries {
        entries
            .push(entry(e, &rules).map_err(|p| err_at(file, line, format!("allow entry: {p}")))?);
    }
    let mut disabled = vec![false; rules.len()];
    for (file, line, name) in &disables {
        let mut any = false;
        for (i, r) in rules.iter().enumerate() {
            if r.named(name) {
                disabled[i] = true;
                any = true;
            }
        }
        if !any {
            return Err(err_at(
                file,
                *line,
                format!("disable {name:?}: no rule has this id or code"),
            ));
        }
    }
    // Drop the disabled rules, renumbering the ones whose examples are checked.
    let mut renumber = Vec::with_capacity(rules.len());
    let mut kept = Vec::with_capacity(rules.len());
    for (i, r) in rules.into_iter().enumerate() {
        renumber.push(kept.len());
        if !disabled[i] {
            kept.push(r);
        }
    }
    let checked: Vec<_> = checked
        .into_iter()
        .filter(|c| !disabled[c.0])
        .map(|(i, f, l)| (renumber[i], f, l))
        .collect();
    let allow_paths = allow_paths.build().map_err(|e| RuleError {
        file: sources.last().map_or("", |s| s.name).to_owned(),
        problem: format!("allow paths: {e}"),
    })?;
    let digest = hasher.finalize();
    let set =
        assemble(kept, allow_paths, entries, hex::encode(&digest[..8])).map_err(|problem| {
            RuleError {
                file: sources.last().map_or("", |s| s.name).to_owned(),
                problem,
            }
        })?;
    for (i, file, line) in checked {
        scan::check_examples(&set, i)
            .map_err(|p| err_at(file, line, format!("rule `{}`: {p}", set.rules[i].id)))?;
    }
    Ok(set)
}

/// The automaton and glob sets over the final rules.
fn assemble(
    rules: Vec<Rule>,
    allow_paths: GlobSet,
    allow_entries: Vec<AllowEntry>,
    fingerprint: String,
) -> Result<RuleSet, String> {
    let mut patterns: Vec<String> = Vec::new();
    let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        for k in &r.keywords {
            if let Some(p) = patterns.iter().position(|q| q == k) {
                if !keyword_rules[p].contains(&i) {
                    keyword_rules[p].push(i);
                }
            } else {
                patterns.push(k.clone());
                keyword_rules.push(vec![i]);
            }
        }
    }
    patterns.push(ALLOW_MARKER.to_owned());
    keyword_rules.push(Vec::new());
    let keywords = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&patterns)
        .or_else(|_| {
            // Too many keywords for a DFA: the contiguous NFA is slower but has no limit.
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
        })
        .map_err(|e| format!("keywords: {e}"))?;
    let mut path_globs = GlobSetBuilder::new();
    let mut path_rule_of = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        for p in r.paths.iter().flatten() {
            path_globs.add(glob(p).map_err(|e| e.to_string())?);
            path_rule_of.push(i);
        }
    }
    let path_globs = path_globs.build().map_err(|e| e.to_string())?;
    Ok(RuleSet {
        rules,
        keywords,
        keyword_rules,
        marker_pattern: patterns.len() - 1,
        path_globs,
        path_rule_of,
        allow_paths,
        allow_entries,
        fingerprint,
    })
}

fn entry(e: RawEntry, rules: &[Rule]) -> Result<AllowEntry, String> {
    let reason = e.reason.unwrap_or_default();
    if reason.trim().is_empty() {
        return Err("no reason: every allow entry says why (reason = \"…\")".into());
    }
    if e.rule.is_none() && e.path.is_none() && e.value.is_none() {
        return Err(
            "it would allow every secret: give a rule, a path or a value (or disable the scanner)"
                .into(),
        );
    }
    if let Some(name) = &e.rule
        && !rules.iter().any(|r| r.named(name))
    {
        return Err(format!("rule {name:?}: no rule has this id or code"));
    }
    let path = e
        .path
        .as_deref()
        .map(|p| {
            glob(p)
                .map(|g| g.compile_matcher())
                .map_err(|err| format!("path {p:?}: bad glob: {err}"))
        })
        .transpose()?;
    let value = e
        .value
        .as_deref()
        .map(|v| regex(v).map_err(|err| format!("value: bad regex: {err}")))
        .transpose()?;
    Ok(AllowEntry {
        rule: e.rule,
        path,
        value,
        reason,
    })
}

// ------------------------------------------------------------------------------- helpers

fn regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).build()
}

fn compile_all(patterns: &[String], field: &str) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .map(|p| regex(p).map_err(|e| format!("bad {field} regex {p:?}: {e}")))
        .collect()
}

/// Globs match the whole absolute path; `*` stays within a path segment, `**` crosses them.
pub(super) fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
