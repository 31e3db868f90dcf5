//! The scanner: one keyword pass over the bytes picks the rules to run, their regexes find
//! candidates, and the candidates go through the rule's checks (entropy, decoding, allow
//! lists), the user's allow entries and the inline `customs:allow` comments.
//!
//! Everything is linear in the input: the automaton and the regexes are (the regex crate
//! guarantees it), candidates per rule and hits per file are capped, and the evidence of a
//! hit looks at a bounded window around it, so a hostile file costs at most a few passes.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::decode::{self, Decode, DockerConfig};
use super::rules::Rule;
use super::{REDACTED, RuleSet};

/// Candidates kept per rule and file; the rest are counted as dropped.
const MAX_CANDIDATES: usize = 4096;
/// Hits reported per file; the rest are counted as dropped.
pub(super) const MAX_HITS: usize = 100;
/// The longest evidence, in characters.
const EVIDENCE_CHARS: usize = 200;
/// How far from a match the evidence looks for its line's ends, in bytes.
const REACH_BACK: usize = 256;
const REACH_FORWARD: usize = 1024;

/// What a scan applies besides the rules themselves.
#[derive(Debug, Clone, Copy)]
pub(super) struct Opts<'p> {
    /// The file's path: path-scoped rules run, and allow entries with a path apply. `None`
    /// for a text.
    pub(super) path: Option<&'p str>,
    /// Apply the user's allow entries.
    pub(super) entries: bool,
    /// Apply `customs:allow` comments.
    pub(super) inline: bool,
    /// Run only this rule (checking its examples).
    pub(super) only: Option<usize>,
}

/// One reported secret.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) rule: usize,
    /// Where the rule's match starts: its line is the hit's.
    pub(super) at: usize,
    pub(super) line: usize,
}

/// What a scan found.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Reported hits, one per rule and line, in the order of the text, at most [`MAX_HITS`].
    pub(super) found: Vec<Found>,
    /// Every value a rule would report (before inline comments, deduplication and the cap):
    /// what [`RuleSet::redact`] replaces. Sorted and disjoint.
    pub(super) reported: Vec<Range<usize>>,
    /// Every value that passed its rule's own checks, allow-listed or not: what evidence
    /// hides. Sorted and disjoint.
    pub(super) masked: Vec<Range<usize>>,
    /// Candidates and hits beyond the caps.
    pub(super) dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Failed the entropy or decoding check: not a secret.
    Weak,
    /// A secret, but allow-listed (by the rule or a user's entry) or covered by a more
    /// specific rule.
    Allowed,
    /// To report.
    Pass,
}

#[derive(Debug)]
struct Candidate {
    rule: usize,
    at: usize,
    secret: Range<usize>,
    state: State,
}

/// Scan `bytes` with the rules of `set`.
pub(super) fn run(set: &RuleSet, bytes: &[u8], opts: &Opts<'_>) -> Outcome {
    let mut out = Outcome::default();
    let (active, marker) = active_rules(set, bytes, opts);
    let mut cands: Vec<Candidate> = Vec::new();
    for (r, rule) in set.rules.iter().enumerate() {
        if active[r] {
            out.dropped += candidates(rule, r, bytes, &mut cands);
        }
    }
    if cands.is_empty() {
        return out;
    }
    // A fallback rule yields to any other rule that matched the same value, whatever that
    // rule then made of it (an allow-listed documentation key is not reported twice over).
    let specific = merged(
        cands
            .iter()
            .filter(|c| !set.rules[c.rule].fallback)
            .map(|c| c.secret.clone()),
    );
    for c in &mut cands {
        if c.state == State::Pass && set.rules[c.rule].fallback && overlaps(&specific, &c.secret) {
            c.state = State::Allowed;
        }
        if c.state == State::Pass
            && opts.entries
            && set
                .allow_entries
                .iter()
                .any(|e| e.covers(&set.rules[c.rule], opts.path, &bytes[c.secret.clone()]))
        {
            c.state = State::Allowed;
        }
    }
    out.masked = merged(
        cands
            .iter()
            .filter(|c| c.state != State::Weak)
            .map(|c| c.secret.clone()),
    );
    out.reported = merged(
        cands
            .iter()
            .filter(|c| c.state == State::Pass)
            .map(|c| c.secret.clone()),
    );
    cands.retain(|c| c.state == State::Pass);
    if cands.is_empty() {
        return out;
    }
    cands.sort_by_key(|c| (c.at, c.rule));
    let lines = line_numbers(bytes, cands.iter().map(|c| c.at));
    let allowed_lines = if opts.inline && marker {
        inline_allowed_lines(bytes)
    } else {
        Vec::new()
    };
    for (c, line) in cands.iter().zip(lines) {
        if allowed_lines.binary_search(&line).is_ok()
            || out.found.iter().any(|f| f.rule == c.rule && f.line == line)
        {
            continue;
        }
        if out.found.len() == MAX_HITS {
            out.dropped += 1;
            continue;
        }
        out.found.push(Found {
            rule: c.rule,
            at: c.at,
            line,
        });
    }
    out
}

/// Which rules run on these bytes, and whether an inline allow comment may be among them.
fn active_rules(set: &RuleSet, bytes: &[u8], opts: &Opts<'_>) -> (Vec<bool>, bool) {
    let n = set.rules.len();
    let mut keyword = vec![false; n];
    let mut marker = false;
    for m in set.keywords.find_overlapping_iter(bytes) {
        let p = m.pattern().as_usize();
        if p == set.marker_pattern {
            marker = true;
        }
        for &r in &set.keyword_rules[p] {
            keyword[r] = true;
        }
    }
    let mut on_path = vec![false; n];
    if let Some(path) = opts.path
        && set.path_globs.is_match(path)
    {
        for g in set.path_globs.matches(path) {
            on_path[set.path_rule_of[g]] = true;
        }
    }
    let active = set
        .rules
        .iter()
        .enumerate()
        .map(|(r, rule)| {
            opts.only.is_none_or(|o| o == r)
                && (rule.keywords.is_empty() || keyword[r])
                && (rule.paths.is_none() || on_path[r])
        })
        .collect();
    (active, marker)
}

/// The rule's candidates, pushed to `out`; returns how many were dropped over the cap.
fn candidates(rule: &Rule, r: usize, bytes: &[u8], out: &mut Vec<Candidate>) -> u64 {
    let docker = (rule.decode == Some(Decode::DockerConfig)).then(|| DockerConfig::read(bytes));
    let mut kept = 0;
    let mut dropped = 0;
    let mut locs = rule.regex.capture_locations();
    let mut from = 0;
    while from <= bytes.len() {
        let Some(m) = rule.regex.captures_read_at(&mut locs, bytes, from) else {
            break;
        };
        from = if m.end() > m.start() {
            m.end()
        } else {
            m.end() + 1
        };
        let Some((s, e)) = rule.secret_groups.iter().find_map(|&g| locs.get(g)) else {
            continue;
        };
        if s == e {
            continue;
        }
        if kept == MAX_CANDIDATES {
            dropped += 1;
            continue;
        }
        kept += 1;
        let secret = &bytes[s..e];
        let state = if rule.entropy.is_some_and(|min| entropy(secret) < min)
            || !confirmed(rule.decode, docker.as_ref(), secret)
        {
            State::Weak
        } else if rule.allow.iter().any(|a| a.is_match(secret))
            || rule.allow_match.iter().any(|a| a.is_match(m.as_bytes()))
        {
            State::Allowed
        } else {
            State::Pass
        };
        out.push(Candidate {
            rule: r,
            at: m.start(),
            secret: s..e,
            state,
        });
    }
    dropped
}

fn confirmed(decode: Option<Decode>, docker: Option<&DockerConfig>, secret: &[u8]) -> bool {
    match decode {
        None => true,
        Some(Decode::BasicAuth) => decode::basic_auth(secret),
        Some(Decode::Jwt) => decode::jwt(secret),
        Some(Decode::DockerConfig) => docker.is_some_and(|d| d.confirms(secret)),
    }
}

/// Shannon entropy in bits per byte.
pub(super) fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[usize::from(b)] += 1;
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "a secret is far shorter than 2^52"
    )]
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Sorted, disjoint ranges covering the given ones.
fn merged(spans: impl Iterator<Item = Range<usize>>) -> Vec<Range<usize>> {
    let mut v: Vec<Range<usize>> = spans.collect();
    v.sort_by_key(|s| s.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(v.len());
    for s in v {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// Whether `q` overlaps one of the sorted, disjoint `spans`.
fn overlaps(spans: &[Range<usize>], q: &Range<usize>) -> bool {
    let i = spans.partition_point(|s| s.end <= q.start);
    spans.get(i).is_some_and(|s| s.start < q.end)
}

/// The 1-based lines of ascending offsets, in one pass.
fn line_numbers(bytes: &[u8], offsets: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut line = 1;
    let mut pos = 0;
    offsets
        .map(|off| {
            line += bytes[pos..off].iter().filter(|&&b| b == b'\n').count();
            pos = off;
            line
        })
        .collect()
}

/// `customs:allow`, then the rest of the line: the reason.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"customs:allow([^\r\n]*)").expect("the inline allow pattern is valid")
});

/// The lines (ascending) with a `customs:allow` comment that gives a reason.
fn inline_allowed_lines(bytes: &[u8]) -> Vec<usize> {
    let offsets: Vec<usize> = MARKER
        .captures_iter(bytes)
        .filter(|c| c.get(1).is_some_and(|r| has_reason(r.as_bytes())))
        .filter_map(|c| c.get(0).map(|m| m.start()))
        .collect();
    let mut lines = line_numbers(bytes, offsets.into_iter());
    lines.dedup();
    lines
}

/// A reason is at least three visible characters besides punctuation that only closes a
/// comment (`-->`, `*/`) or separates the marker (`:`, `-`).
pub(super) fn has_reason(rest: &[u8]) -> bool {
    rest.iter()
        .filter(|b| b.is_ascii_alphanumeric() || !b.is_ascii())
        .count()
        >= 3
}

/// The hit's line with every masked value replaced, trimmed and at most
/// [`EVIDENCE_CHARS`] long: the whole line when it fits, else a window that shows the match,
/// with an ellipsis where it is cut.
pub(super) fn evidence(bytes: &[u8], at: usize, masked: &[Range<usize>]) -> String {
    let back = at.saturating_sub(REACH_BACK);
    let (mut start, cut_before) = match bytes[back..at].iter().rposition(|&b| b == b'\n') {
        Some(i) => (back + i + 1, false),
        None if back == 0 => (0, false),
        None => (at - REACH_BACK / 2, true),
    };
    // Start on a character, not inside one.
    while start < at && bytes[start] & 0xC0 == 0x80 {
        start += 1;
    }
    let ahead = (at + REACH_FORWARD).min(bytes.len());
    let (end, cut_after) = match bytes[at..ahead].iter().position(|&b| b == b'\n') {
        Some(i) => (at + i, false),
        None => (ahead, ahead < bytes.len()),
    };
    // The line, masked; `mark` is where the match starts in it.
    let mut line = Vec::with_capacity(end - start + REDACTED.len());
    let mut mark = None;
    let mut pos = start;
    for s in &masked[masked.partition_point(|s| s.end <= start)..] {
        if s.start >= end {
            break;
        }
        if s.start > pos {
            if (pos..s.start).contains(&at) {
                mark = Some(line.len() + at - pos);
            }
            line.extend_from_slice(&bytes[pos..s.start]);
        }
        if mark.is_none() && at < s.end {
            mark = Some(line.len());
        }
        line.extend_from_slice(REDACTED.as_bytes());
        pos = pos.max(s.end);
    }
    if pos < end {
        if mark.is_none() {
            mark = Some(line.len() + at.saturating_sub(pos));
        }
        line.extend_from_slice(&bytes[pos..end]);
    }
    let mark = mark.unwrap_or(0).min(line.len());
    let text = String::from_utf8_lossy(&line);
    let lead = text.len() - text.trim_start().len();
    let mark = String::from_utf8_lossy(&line[..mark])
        .chars()
        .count()
        .saturating_sub(text[..lead].chars().count());
    // Control characters (a terminal's escape sequences among them) are not shown as such.
    let chars: Vec<char> = text
        .trim()
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    let n = chars.len();
    if n <= EVIDENCE_CHARS && !cut_before && !cut_after {
        return chars.into_iter().collect();
    }
    // Room for an ellipsis at each end; the match some way into the window.
    let room = EVIDENCE_CHARS - 2;
    let from = mark.saturating_sub(60).min(n.saturating_sub(room));
    let to = (from + room).min(n);
    let mut out = String::with_capacity(4 * EVIDENCE_CHARS);
    if from > 0 || cut_before {
        out.push('…');
    }
    out.extend(&chars[from..to]);
    if to < n || cut_after {
        out.push('…');
    }
    out
}

/// Check that each true positive example of rule `r` yields a hit of it, and each false
/// positive none, with the rule alone (the user's allow lists do not apply).
pub(super) fn check_examples(set: &RuleSet, r: usize) -> Result<(), String> {
    let rule = &set.rules[r];
    let opts = Opts {
        path: rule.examples.path.as_deref(),
        entries: false,
        inline: false,
        only: Some(r),
    };
    for (i, tp) in rule.examples.true_positives.iter().enumerate() {
        if run(set, tp.as_bytes(), &opts).found.is_empty() {
            return Err(format!(
                "true_positives[{i}] yields no hit: check the keywords (one must occur in it), the regex, the entropy and the allow lists"
            ));
        }
    }
    for (i, fp) in rule.examples.false_positives.iter().enumerate() {
        if !run(set, fp.as_bytes(), &opts).found.is_empty() {
            return Err(format!("false_positives[{i}] yields a hit"));
        }
    }
    Ok(())
}
