//! The Debian security tracker: `data/CVE/list`, `data/DSA/list`, `data/DLA/list` and the JSON
//! export (`https://security-tracker.debian.org/tracker/data/json`).
//!
//! # The text lists
//!
//! The tracker's `data/README` describes one loose grammar shared by all three lists. An entry
//! starts at column 0 and its body lines are indented (a tab, or spaces in older entries):
//!
//! ```text
//! CVE-2021-36367 (PuTTY through 0.75 proceeds with establishing an SSH session ...)
//!         {DLA-2720-1}
//!         - putty 0.75-3 (low; bug #990901)
//!         [bullseye] - putty <no-dsa> (Minor issue)
//!         NOTE: https://...
//! [29 Mar 2023] DSA-5380-1 xorg-server - security update
//!         {CVE-2023-1393}
//!         [bullseye] - xorg-server 2:1.20.11-1+deb11u6
//! ```
//!
//! - The header is `[date] ID description`; the date is only given in the DSA/DLA lists. A CVE
//!   description in `(…)` is copied from MITRE, one in `[…]` written by the team.
//! - `{…}` links other ids: DSAs/DLAs in the CVE list, CVEs in the DSA/DLA lists.
//! - `[release] - source-package state (notes)`: `state` is a fixed version or one of
//!   `<unfixed>`, `<not-affected>`, `<no-dsa>`, `<ignored>`, `<postponed>`, `<end-of-life>`,
//!   `<removed>`, `<itp>`, `<undetermined>`. Without `[release]` the line speaks of unstable
//!   (sid), and the tracker applies it to every release that has no line of its own (it
//!   compares the release's version with it). customs records it as `debian:unstable` only: the
//!   list does not say which releases inherit it, so a matcher should fall back to the
//!   `debian:unstable` statement of the same record for a release that has none.
//! - For a version or `<unfixed>`, the notes are `;`-separated flags: an urgency (`unimportant`,
//!   `low`, `medium`, `high`, sometimes with a trailing `*`), `bug #N`, `bug filed`. For the other
//!   states the parentheses hold free text (the `<no-dsa>` reason).
//! - Upper-case words (`NOTE:`, `TODO:`, `NOT-FOR-US:`, `RESERVED`, `REJECTED`) annotate the
//!   entry; `begin claimed by …` / `end claimed by …` lines bracket work in progress.
//!
//! Entries with no package line (NOT-FOR-US, RESERVED, TODO, DSA announcements) are dropped: they
//! say nothing about any package. REJECTED entries are kept, withdrawn, so a rematch can clear
//! findings they caused.
//!
//! # The JSON export
//!
//! `{source-package: {issue-id: {description, releases: {codename: {status, fixed_version,
//! urgency, nodsa, nodsa_reason}}}}}`. `status` is `resolved`, `open` or `undetermined`; a
//! `resolved` issue whose `fixed_version` is `"0"` never affected the release. `urgency` is
//! `end-of-life` for an open issue in a release past its support. An issue with no releases is
//! written as `[]` rather than `{}`. Records are grouped by issue id across packages.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::FeedError;
use crate::model::{Advisory, Affected, Feed, Namespace, Severity, Status};

/// Release codenames and the version that names their namespace (`debian:<version>`).
const RELEASES: &[(&str, &str)] = &[
    ("buzz", "1.1"),
    ("rex", "1.2"),
    ("bo", "1.3"),
    ("hamm", "2.0"),
    ("slink", "2.1"),
    ("potato", "2.2"),
    ("woody", "3.0"),
    ("sarge", "3.1"),
    ("etch", "4.0"),
    ("lenny", "5"),
    ("squeeze", "6"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
    ("sid", "unstable"),
    ("unstable", "unstable"),
];

/// The version part of a Debian namespace for a release codename: `bookworm` → `"12"`, `sid` and
/// `unstable` → `"unstable"`. `None` for a name customs does not know.
pub(crate) fn debian_release_version(codename: &str) -> Option<&'static str> {
    RELEASES
        .iter()
        .find(|(name, _)| *name == codename)
        .map(|(_, version)| *version)
}

/// Parses `data/CVE/list`: one advisory per CVE (or TEMP) entry that names a package.
pub(crate) fn parse_cve_list(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    parse_list(origin, text, Feed::DebianCveList)
}

/// Parses `data/DSA/list`: one advisory per DSA, its CVEs as aliases.
pub(crate) fn parse_dsa_list(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    parse_list(origin, text, Feed::DebianDsa)
}

/// Parses `data/DLA/list`, the LTS team's list in the DSA list's format.
pub(crate) fn parse_dla_list(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    parse_list(origin, text, Feed::DebianDla)
}

fn line_error(origin: &str, line: usize, problem: impl std::fmt::Display) -> FeedError {
    FeedError::new(origin, format!("line {line}: {problem}"))
}

/// The entry being read.
struct Entry {
    id: String,
    line: usize,
    published: Option<String>,
    summary: Option<String>,
    aliases: Vec<String>,
    affected: Vec<Affected>,
    rejected: bool,
}

impl Entry {
    fn finish(mut self, origin: &str, feed: Feed, out: &mut Vec<Advisory>) {
        if self.affected.is_empty() && !self.rejected {
            return;
        }
        let mut seen = HashSet::new();
        self.aliases.retain(|a| seen.insert(a.clone()));
        out.push(Advisory {
            id: self.id,
            aliases: self.aliases,
            feed,
            record: format!("{origin}:{}", self.line),
            published: self.published,
            modified: None,
            summary: self.summary,
            severity: None,
            cvss: Vec::new(),
            affected: self.affected,
            withdrawn: self.rejected,
        });
    }
}

fn parse_list(origin: &str, text: &str, feed: Feed) -> Result<Vec<Advisory>, FeedError> {
    let mut out = Vec::new();
    let mut entry: Option<Entry> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !raw.starts_with([' ', '\t']) {
            if trimmed.starts_with("begin claimed by") || trimmed.starts_with("end claimed by") {
                continue;
            }
            if let Some(done) = entry.take() {
                done.finish(origin, feed, &mut out);
            }
            let mut header = parse_header(trimmed).map_err(|e| line_error(origin, number, e))?;
            header.line = number;
            entry = Some(header);
            continue;
        }
        let Some(current) = entry.as_mut() else {
            return Err(line_error(
                origin,
                number,
                "indented line before the first entry",
            ));
        };
        parse_body_line(current, trimmed).map_err(|e| line_error(origin, number, e))?;
    }
    if let Some(done) = entry.take() {
        done.finish(origin, feed, &mut out);
    }
    Ok(out)
}

fn parse_header(line: &str) -> Result<Entry, String> {
    let (published, rest) = if let Some(after) = line.strip_prefix('[') {
        let (date, rest) = after
            .split_once(']')
            .ok_or_else(|| format!("unclosed date in header {line:?}"))?;
        (Some(parse_date(date)?), rest.trim_start())
    } else {
        (None, line)
    };
    let (id, description) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    if !is_identifier(id) {
        return Err(format!("expected an advisory id at the start of {line:?}"));
    }
    let description = description.trim();
    let description = description
        .strip_prefix('(')
        .and_then(|d| d.strip_suffix(')'))
        .or_else(|| {
            description
                .strip_prefix('[')
                .and_then(|d| d.strip_suffix(']'))
        })
        // DSA headers read "pkg - title"; a few old ones start with a stray "- ".
        .unwrap_or_else(|| description.strip_prefix("- ").unwrap_or(description))
        .trim();
    Ok(Entry {
        id: id.to_owned(),
        line: 0,
        published,
        summary: (!description.is_empty()).then(|| description.to_owned()),
        aliases: Vec::new(),
        affected: Vec::new(),
        rejected: false,
    })
}

/// `CVE-2021-36367`, `CVE-2023-XXXX` (not yet assigned), `TEMP-0000000-1E0ACB`, `DSA-135`,
/// `DLA-3380-1`.
fn is_identifier(token: &str) -> bool {
    let Some((prefix, rest)) = token.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `29 Mar 2023` → `2023-03-29`.
fn parse_date(text: &str) -> Result<String, String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = text.split_whitespace();
    let (Some(day), Some(month), Some(year), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("date {text:?} is not \"dd Mon yyyy\""));
    };
    let month = MONTHS
        .iter()
        .position(|m| *m == month)
        .ok_or_else(|| format!("unknown month in date {text:?}"))?;
    let day: u8 = day
        .parse()
        .ok()
        .filter(|d| (1..=31).contains(d))
        .ok_or_else(|| format!("bad day in date {text:?}"))?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad year in date {text:?}"));
    }
    Ok(format!("{year}-{:02}-{day:02}", month + 1))
}

fn parse_body_line(entry: &mut Entry, line: &str) -> Result<(), String> {
    if let Some(inner) = line.strip_prefix('{') {
        let ids = inner
            .strip_suffix('}')
            .ok_or_else(|| format!("unclosed id list {line:?}"))?;
        entry
            .aliases
            .extend(ids.split_whitespace().map(str::to_owned));
        return Ok(());
    }
    if line.starts_with('-') || line.starts_with('[') {
        entry.affected.extend(parse_package_line(line)?);
        return Ok(());
    }
    match line {
        "REJECTED" => entry.rejected = true,
        "RESERVED" | "HELD" => {}
        _ => {
            // Annotations are one upper-case word and a colon: NOTE:, TODO:, NOT-FOR-US:, ...
            let word = line.split([':', ' ', '\t']).next().unwrap_or_default();
            let annotation = !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
            if !annotation {
                return Err(format!("unrecognised line {line:?}"));
            }
        }
    }
    Ok(())
}

/// `[release] - package state (notes)` or `- package state (notes)`. `None` for a release that
/// is not a distribution (`experimental`).
fn parse_package_line(line: &str) -> Result<Option<Affected>, String> {
    let (release, rest) = if let Some(after) = line.strip_prefix('[') {
        let (release, rest) = after
            .split_once(']')
            .ok_or_else(|| format!("unclosed release in {line:?}"))?;
        (Some(release.trim()), rest.trim_start())
    } else {
        (None, line)
    };
    let rest = rest
        .strip_prefix('-')
        .ok_or_else(|| format!("expected \"- package\" in {line:?}"))?
        .trim_start();
    let (package, rest) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    if package.is_empty() || !package.bytes().all(is_package_byte) {
        return Err(format!("bad package name {package:?} in {line:?}"));
    }
    let rest = rest.trim();
    let (state, notes) = if rest.is_empty() || rest.starts_with('(') {
        (None, rest)
    } else {
        let (state, notes) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        (Some(state), notes.trim())
    };
    let notes = if notes.is_empty() {
        None
    } else {
        let inner = notes
            .strip_prefix('(')
            .and_then(|n| n.strip_suffix(')'))
            .ok_or_else(|| format!("notes must be in parentheses in {line:?}"))?;
        Some(inner.trim()).filter(|n| !n.is_empty())
    };
    let namespace = match release {
        None => Namespace::distro("debian", "unstable").map_err(|e| e.to_string())?,
        // Experimental is a staging area on top of unstable, never installed as a release.
        Some("experimental") => return Ok(None),
        Some(codename) => match debian_release_version(codename) {
            Some(version) => Namespace::distro("debian", version).map_err(|e| e.to_string())?,
            None => return Err(format!("unknown Debian release {codename:?} in {line:?}")),
        },
    };
    let (status, severity) = interpret(state, notes).map_err(|e| format!("{e} in {line:?}"))?;
    Ok(Some(Affected {
        namespace,
        package: package.to_owned(),
        status,
        severity,
        note: notes.map(str::to_owned),
    }))
}

fn is_package_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'_')
}

/// Debian policy's version characters (upstream, revision, epoch). Policy also wants a leading
/// digit, but the lists hold a few slips (DSA-423 names its package twice) that the tracker
/// itself accepts as versions; refusing them would refuse the whole file.
fn is_version(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'~' | b':'))
}

fn interpret(
    state: Option<&str>,
    notes: Option<&str>,
) -> Result<(Status, Option<Severity>), String> {
    let with_note = |name: &str| match notes {
        Some(n) => format!("{name}: {n}"),
        None => name.to_owned(),
    };
    let status = match state {
        // "- pkg (bug #N)": no version yet, as in old entries.
        None | Some("<unfixed>") => return Ok((Status::Unfixed, flags_urgency(notes))),
        Some("<not-affected>") => Status::NotAffected {
            reason: notes.map(str::to_owned),
        },
        Some(s @ ("<no-dsa>" | "<ignored>" | "<postponed>" | "<end-of-life>" | "<removed>")) => {
            Status::WontFix {
                reason: with_note(s.trim_matches(['<', '>'])),
            }
        }
        // An intent to package: the software is not in the archive, so nothing installed has it.
        Some("<itp>") => Status::NotAffected {
            reason: Some(with_note("itp")),
        },
        Some("<undetermined>") => Status::UnderInvestigation,
        Some(other) if other.starts_with('<') => return Err(format!("unknown state {other:?}")),
        Some(version) if is_version(version) => {
            return Ok((
                Status::Fixed {
                    fixed: version.to_owned(),
                    date: None,
                },
                flags_urgency(notes),
            ));
        }
        Some(other) => return Err(format!("{other:?} is neither a version nor a <state>")),
    };
    Ok((status, None))
}

/// The urgency among `;`-separated flags such as `low; bug #990901`.
fn flags_urgency(notes: Option<&str>) -> Option<Severity> {
    notes?.split(';').find_map(|flag| urgency(flag.trim()))
}

/// Tracker urgencies. `**` marks an urgency taken from NVD rather than set by the team.
fn urgency(word: &str) -> Option<Severity> {
    match word.trim_end_matches('*') {
        "unimportant" => Some(Severity::Negligible),
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        _ => None,
    }
}

#[derive(Deserialize)]
struct JsonIssue {
    #[serde(default)]
    description: Option<String>,
    /// An object of releases, or `[]` when there is none.
    #[serde(default)]
    releases: serde_json::Value,
}

#[derive(Deserialize)]
struct JsonRelease {
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

/// Parses the tracker's JSON export: one advisory per issue id, with every package and release
/// the export lists for it.
pub(crate) fn parse_tracker_json(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let packages: BTreeMap<String, BTreeMap<String, JsonIssue>> =
        serde_json::from_str(text).map_err(|e| FeedError::new(origin, e.to_string()))?;
    let mut issues: BTreeMap<String, Advisory> = BTreeMap::new();
    for (package, package_issues) in packages {
        for (id, issue) in package_issues {
            let path = format!("{package}/{id}");
            let advisory = issues.entry(id.clone()).or_insert_with(|| Advisory {
                id: id.clone(),
                aliases: Vec::new(),
                feed: Feed::DebianJson,
                record: format!("{origin}:{id}"),
                published: None,
                modified: None,
                summary: None,
                severity: None,
                cvss: Vec::new(),
                affected: Vec::new(),
                withdrawn: false,
            });
            if advisory.summary.is_none() {
                advisory.summary = issue.description.filter(|d| !d.is_empty());
            }
            let releases = match issue.releases {
                serde_json::Value::Object(releases) => releases,
                serde_json::Value::Array(list) if list.is_empty() => continue,
                serde_json::Value::Null => continue,
                _ => {
                    return Err(FeedError::new(
                        origin,
                        format!("{path}: \"releases\" is neither an object nor []"),
                    ));
                }
            };
            for (codename, release) in releases {
                let path = format!("{path}/{codename}");
                let release: JsonRelease = serde_json::from_value(release)
                    .map_err(|e| FeedError::new(origin, format!("{path}: {e}")))?;
                let version = debian_release_version(&codename).ok_or_else(|| {
                    FeedError::new(origin, format!("{path}: unknown Debian release"))
                })?;
                let affected = json_affected(&release, &package, version)
                    .map_err(|e| FeedError::new(origin, format!("{path}: {e}")))?;
                advisory.affected.push(affected);
            }
        }
    }
    Ok(issues.into_values().collect())
}

fn json_affected(release: &JsonRelease, package: &str, version: &str) -> Result<Affected, String> {
    let urgency_word = release.urgency.as_deref().unwrap_or_default();
    let nodsa = release.nodsa.as_deref().filter(|n| !n.is_empty());
    let mut note = nodsa.map(str::to_owned);
    let status = match release.status.as_str() {
        "resolved" => match release.fixed_version.as_deref() {
            // "0": the tracker's `<not-affected>`, the fix predates every upload.
            Some("0") => Status::NotAffected {
                reason: Some("fixed_version 0: never affected".to_owned()),
            },
            None => Status::NotAffected {
                reason: Some("resolved, no fixed version given".to_owned()),
            },
            Some(fixed) => Status::Fixed {
                fixed: fixed.to_owned(),
                date: None,
            },
        },
        "open" if urgency_word == "end-of-life" => Status::WontFix {
            reason: "end-of-life".to_owned(),
        },
        "open" if nodsa.is_some() || release.nodsa_reason.is_some() => {
            // nodsa_reason is "" for a plain <no-dsa>.
            let kind = release
                .nodsa_reason
                .as_deref()
                .filter(|r| matches!(*r, "postponed" | "ignored"))
                .unwrap_or("no-dsa");
            Status::WontFix {
                reason: match nodsa {
                    Some(text) => format!("{kind}: {text}"),
                    None => kind.to_owned(),
                },
            }
        }
        "open" => Status::Unfixed,
        "undetermined" => Status::UnderInvestigation,
        other => return Err(format!("unknown status {other:?}")),
    };
    if note.is_none() && !urgency_word.is_empty() {
        note = Some(format!("urgency {urgency_word}"));
    }
    Ok(Affected {
        namespace: Namespace::distro("debian", version).map_err(|e| e.to_string())?,
        package: package.to_owned(),
        status,
        severity: urgency(urgency_word),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories"
    );

    fn read(relative: &str) -> String {
        let path = format!("{DATA}/{relative}");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("real test data missing: {path}: {e} (see shared/data)"))
    }

    fn find<'a>(advisories: &'a [Advisory], id: &str) -> &'a Advisory {
        advisories
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("{id} not parsed"))
    }

    fn fixed(version: &str) -> Status {
        Status::Fixed {
            fixed: version.to_owned(),
            date: None,
        }
    }

    #[test]
    fn release_codenames() {
        assert_eq!(debian_release_version("bookworm"), Some("12"));
        assert_eq!(debian_release_version("bullseye"), Some("11"));
        assert_eq!(debian_release_version("trixie"), Some("13"));
        assert_eq!(debian_release_version("forky"), Some("14"));
        assert_eq!(debian_release_version("lenny"), Some("5"));
        assert_eq!(debian_release_version("woody"), Some("3.0"));
        assert_eq!(debian_release_version("buzz"), Some("1.1"));
        assert_eq!(debian_release_version("sid"), Some("unstable"));
        assert_eq!(debian_release_version("unstable"), Some("unstable"));
        assert_eq!(debian_release_version("Bookworm"), None);
        assert_eq!(debian_release_version("experimental"), None);
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn real_dsa_and_dla_lists() {
        let dsa = parse_dsa_list("data/DSA/list", &read("debian-tracker/data/DSA/list")).unwrap();
        let dla = parse_dla_list("data/DLA/list", &read("debian-tracker/data/DLA/list")).unwrap();
        let packages = |list: &[Advisory]| list.iter().map(|a| a.affected.len()).sum::<usize>();
        eprintln!(
            "debian-tracker: DSA {} advisories / {} package lines, DLA {} / {}",
            dsa.len(),
            packages(&dsa),
            dla.len(),
            packages(&dla)
        );
        // 5,406 DSA and 3,534 DLA headers; the 23 and 4 without a package line are
        // announcements (end of life, key changes) and are dropped.
        assert_eq!((dsa.len(), packages(&dsa)), (5_383, 6_988));
        assert_eq!((dla.len(), packages(&dla)), (3_530, 3_535));
        assert!(
            dsa.iter()
                .all(|a| a.feed == Feed::DebianDsa && a.id.starts_with("DSA-"))
        );
        assert!(
            dla.iter()
                .all(|a| a.feed == Feed::DebianDla && a.id.starts_with("DLA-"))
        );

        let xen = find(&dsa, "DSA-5378-1");
        assert_eq!(xen.record, "data/DSA/list:7");
        assert_eq!(xen.published.as_deref(), Some("2023-03-25"));
        assert_eq!(xen.summary.as_deref(), Some("xen - security update"));
        assert_eq!(
            xen.aliases,
            [
                "CVE-2022-23824",
                "CVE-2022-42331",
                "CVE-2022-42332",
                "CVE-2022-42333",
                "CVE-2022-42334"
            ]
        );
        assert_eq!(
            xen.affected,
            [Affected {
                namespace: "debian:11".parse().unwrap(),
                package: "xen".into(),
                status: fixed("4.14.5+94-ge49571868d-1"),
                severity: None,
                note: None,
            }]
        );

        // A regression update: packages, no CVE.
        let sox = find(&dsa, "DSA-5356-2");
        assert!(sox.aliases.is_empty());
        assert_eq!(
            sox.affected[0].status,
            fixed("14.4.2+git20190427-2+deb11u2")
        );

        // Old DSA ids have no revision; several packages; woody is 3.0.
        let openssl = find(&dsa, "DSA-136");
        assert_eq!(openssl.published.as_deref(), Some("2002-07-30"));
        let names: Vec<_> = openssl
            .affected
            .iter()
            .map(|a| a.package.as_str())
            .collect();
        assert_eq!(names, ["openssl094", "openssl095", "openssl"]);
        assert!(openssl.affected.iter().all(|a| a.namespace == "debian:3.0"));
        assert_eq!(openssl.affected[2].status, fixed("0.9.6c-2.woody.1"));

        // States and urgencies inside the DSA list.
        let states: Vec<_> = dsa
            .iter()
            .flat_map(|a| &a.affected)
            .filter(|a| matches!(a.status, Status::NotAffected { .. }))
            .collect();
        assert!(states.len() > 40, "{}", states.len());
        let urgent = dsa
            .iter()
            .flat_map(|a| &a.affected)
            .filter(|a| a.severity == Some(Severity::Medium))
            .count();
        assert!(urgent > 5, "{urgent}");

        let ssl = find(&dla, "DLA-0008-1");
        assert_eq!(ssl.aliases, ["CVE-2012-4929", "CVE-2014-0224"]);
        assert_eq!(ssl.affected[0].namespace, "debian:6");
        assert_eq!(ssl.affected[0].package, "openssl");
        assert_eq!(ssl.affected[0].status, fixed("0.9.8o-4squeeze16"));
        let fw = find(&dla, "DLA-3380-1");
        assert_eq!(fw.aliases.len(), 11);
        assert_eq!(fw.affected[0].namespace, "debian:10");
        assert_eq!(
            fw.affected[0].status,
            fixed("20190114+really20220913-0+deb10u1")
        );
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn real_cve_list_excerpt() {
        let list = parse_cve_list(
            "CVE-list-excerpt",
            &read("debian-tracker/format-samples/CVE-list-excerpt"),
        )
        .unwrap();
        eprintln!(
            "debian-tracker/format-samples: CVE list excerpt {} advisories",
            list.len()
        );
        // Two entries have no package line (TODO, NOT-FOR-US).
        let ids: Vec<_> = list.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "CVE-2023-XXXX",
                "CVE-2023-XXXX",
                "CVE-2021-36373",
                "CVE-2021-36367"
            ]
        );

        let foot = &list[0];
        assert_eq!(
            foot.summary.as_deref(),
            Some("code execution via malformed XTGETTCAP")
        );
        assert_eq!(foot.record, "CVE-list-excerpt:1");
        assert_eq!(
            foot.affected,
            [
                Affected {
                    namespace: "debian:unstable".parse().unwrap(),
                    package: "foot".into(),
                    status: fixed("1.15.3-2"),
                    severity: None,
                    note: Some("bug #1053115".into()),
                },
                Affected {
                    namespace: "debian:12".parse().unwrap(),
                    package: "foot".into(),
                    status: fixed("1.13.1-2+deb12u1"),
                    severity: None,
                    note: None,
                },
                Affected {
                    namespace: "debian:11".parse().unwrap(),
                    package: "foot".into(),
                    status: Status::WontFix {
                        reason: "no-dsa: Minor issue".into()
                    },
                    severity: None,
                    note: Some("Minor issue".into()),
                },
            ]
        );
        assert_eq!(list[1].affected[0].status, Status::Unfixed);
        assert_eq!(list[1].affected[0].package, "wordpress");

        // Unimportant keeps <unfixed>, with negligible severity.
        let ant = &list[2].affected[0];
        assert_eq!(ant.status, Status::Unfixed);
        assert_eq!(ant.severity, Some(Severity::Negligible));
        assert!(
            list[2]
                .summary
                .as_deref()
                .unwrap()
                .starts_with("When reading a specially")
        );

        let putty = &list[3];
        assert_eq!(putty.affected[0].status, fixed("0.75-3"));
        assert_eq!(putty.affected[0].severity, Some(Severity::Low));
        assert_eq!(putty.affected[0].note.as_deref(), Some("low; bug #990901"));
        assert_eq!(putty.affected[2].namespace, "debian:10");
    }

    #[test]
    fn cve_list_states_aliases_and_rejections() {
        let text = "\
CVE-2024-0001 (Something ...)
\t{DSA-5600-1 DLA-3700-1}
\t[experimental] - foo 2.0-1
\t- foo 1.2-3 (high**; bug #1)
\t[trixie] - foo <not-affected> (Vulnerable code not present)
\t[bookworm] - foo <postponed> (Revisit when fixed upstream)
\t[bullseye] - foo <ignored> (Minor issue)
\t[buster] - foo <end-of-life>
\t[stretch] - foo <removed>
\t- bar <itp> (bug #2)
\t- baz <undetermined>
CVE-2024-0002
\tRESERVED
CVE-2024-0003
\tREJECTED
begin claimed by someone
CVE-2024-0004 (Not for us ...)
\tNOT-FOR-US: Something else
end claimed by someone
";
        let list = parse_cve_list("list", text).unwrap();
        assert_eq!(list.len(), 2);
        let a = &list[0];
        assert_eq!(a.aliases, ["DSA-5600-1", "DLA-3700-1"]);
        assert!(!a.withdrawn);
        let got: Vec<_> = a
            .affected
            .iter()
            .map(|x| {
                (
                    x.namespace.as_str(),
                    x.package.as_str(),
                    &x.status,
                    x.severity,
                )
            })
            .collect();
        let wont = |r: &str| Status::WontFix { reason: r.into() };
        assert_eq!(
            got,
            [
                (
                    "debian:unstable",
                    "foo",
                    &fixed("1.2-3"),
                    Some(Severity::High)
                ),
                (
                    "debian:13",
                    "foo",
                    &Status::NotAffected {
                        reason: Some("Vulnerable code not present".into())
                    },
                    None
                ),
                (
                    "debian:12",
                    "foo",
                    &wont("postponed: Revisit when fixed upstream"),
                    None
                ),
                ("debian:11", "foo", &wont("ignored: Minor issue"), None),
                ("debian:10", "foo", &wont("end-of-life"), None),
                ("debian:9", "foo", &wont("removed"), None),
                (
                    "debian:unstable",
                    "bar",
                    &Status::NotAffected {
                        reason: Some("itp: bug #2".into())
                    },
                    None
                ),
                ("debian:unstable", "baz", &Status::UnderInvestigation, None),
            ]
        );
        assert_eq!(list[1].id, "CVE-2024-0003");
        assert!(list[1].withdrawn);
        assert!(list[1].affected.is_empty());
    }

    #[test]
    fn garbage_is_an_error_with_the_line() {
        let cases = [
            ("\t- foo 1.0\n", "line 1"),
            ("CVE-2024-1 (x)\n\t[bookworm - foo 1.0\n", "line 2"),
            ("CVE-2024-1 (x)\n\t[narnia] - foo 1.0\n", "line 2"),
            ("CVE-2024-1 (x)\n\t- foo <fixed-ish>\n", "line 2"),
            ("CVE-2024-1 (x)\n\t- foo 1.0 (low\n", "line 2"),
            ("CVE-2024-1 (x)\n\t- foo (bar) 1.0\n", "line 2"),
            ("CVE-2024-1 (x)\n\t- foo ver$ion\n", "line 2"),
            ("CVE-2024-1 (x)\n\t{CVE-1\n", "line 2"),
            ("CVE-2024-1 (x)\n\tthis is prose\n", "line 2"),
            ("\n\nhello world\n", "line 3"),
            ("[31 Foo 2023] DSA-1-1 x - y\n", "line 1"),
            ("[1 Jan 2023 DSA-1-1 x - y\n", "line 1"),
            ("CVE-2024-1 (x)\n\t- \u{0}\n", "line 2"),
        ];
        for (text, line) in cases {
            let err = parse_cve_list("bad.list", text).unwrap_err();
            assert_eq!(err.file, "bad.list");
            assert!(err.problem.starts_with(line), "{text:?}: {err}");
        }
        // Truncated anywhere: never a panic.
        let real = read("debian-tracker/data/DSA/list");
        for cut in (0..4_000).step_by(7) {
            let _ = parse_dsa_list("cut", &real[..real.floor_char_boundary(cut)]);
        }
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn real_tracker_json() {
        let list = parse_tracker_json(
            "tracker-json-sample.json",
            &read("debian-tracker-json/tracker-json-sample.json"),
        )
        .unwrap();
        eprintln!(
            "debian-tracker-json: {} advisories / {} release statements",
            list.len(),
            list.iter().map(|a| a.affected.len()).sum::<usize>()
        );
        // Six issues; CVE-2022-0358 (chromium-browser) has no release.
        assert_eq!(list.len(), 7);
        assert!(find(&list, "CVE-2022-0358").affected.is_empty());

        let proto = find(&list, "CVE-2008-7220");
        assert_eq!(proto.record, "tracker-json-sample.json:CVE-2008-7220");
        let sid = proto
            .affected
            .iter()
            .find(|a| a.namespace == "debian:unstable")
            .unwrap();
        assert_eq!(sid.package, "prototypejs");
        assert_eq!(sid.status, fixed("1.6.0.2-1"));
        assert_eq!(sid.severity, Some(Severity::High));

        let never = find(&list, "CVE-2007-2383");
        assert!(never.affected.iter().all(|a| {
            matches!(a.status, Status::NotAffected { .. })
                && a.severity == Some(Severity::Negligible)
        }));

        let chromium = find(&list, "CVE-2022-0456");
        let by_ns = |ns: &str| {
            chromium
                .affected
                .iter()
                .find(|a| a.namespace == ns)
                .unwrap()
        };
        assert_eq!(by_ns("debian:11").status, fixed("98.0.4758.80-1~deb11u1"));
        assert_eq!(by_ns("debian:11").severity, None);
        assert_eq!(
            by_ns("debian:10").status,
            Status::WontFix {
                reason: "end-of-life".into()
            }
        );
        assert_eq!(
            by_ns("debian:9").status,
            Status::WontFix {
                reason: "end-of-life".into()
            }
        );
        assert_eq!(by_ns("debian:12").status, fixed("98.0.4758.80-1"));

        let sope = find(&list, "CVE-2025-53603");
        assert_eq!(sope.affected.len(), 4);
        let trixie = sope
            .affected
            .iter()
            .find(|a| a.namespace == "debian:13")
            .unwrap();
        assert_eq!(trixie.status, fixed("5.12.1-2"));
    }

    #[test]
    fn tracker_json_no_dsa_and_garbage() {
        let text = r#"{"foo": {"CVE-2024-1": {"releases": {
            "bookworm": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": ""},
            "bullseye": {"status": "open", "urgency": "unimportant", "nodsa": "x", "nodsa_reason": "postponed"},
            "trixie": {"status": "open", "urgency": "medium"},
            "sid": {"status": "undetermined", "urgency": "not yet assigned"}}}}}"#;
        let list = parse_tracker_json("t.json", text).unwrap();
        let statuses: Vec<_> = list[0]
            .affected
            .iter()
            .map(|a| (a.namespace.as_str(), a.status.clone(), a.severity))
            .collect();
        assert_eq!(
            statuses,
            [
                (
                    "debian:12",
                    Status::WontFix {
                        reason: "no-dsa: Minor issue".into()
                    },
                    Some(Severity::Low)
                ),
                (
                    "debian:11",
                    Status::WontFix {
                        reason: "postponed: x".into()
                    },
                    Some(Severity::Negligible)
                ),
                ("debian:unstable", Status::UnderInvestigation, None),
                ("debian:13", Status::Unfixed, Some(Severity::Medium)),
            ]
        );

        for bad in [
            "",
            "{",
            "[]",
            r#"{"foo": {"CVE-1": {"releases": 3}}}"#,
            r#"{"foo": {"CVE-1": {"releases": {"narnia": {"status": "open"}}}}}"#,
            r#"{"foo": {"CVE-1": {"releases": {"sid": {"status": "weird"}}}}}"#,
            r#"{"foo": {"CVE-1": {"releases": {"sid": {}}}}}"#,
        ] {
            let err = parse_tracker_json("t.json", bad).unwrap_err();
            assert_eq!(err.file, "t.json", "{bad}");
        }
        let err = parse_tracker_json("t.json", "{\n\"foo\": 3}").unwrap_err();
        assert!(err.problem.contains("line 2"), "{err}");
    }
}
