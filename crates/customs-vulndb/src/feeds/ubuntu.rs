//! The Ubuntu CVE tracker (`ubuntu-cve-tracker`, UCT): one file per CVE under `active/`,
//! `retired/` and `ignored/`, described in the tracker's README.
//!
//! ```text
//! Candidate: CVE-2019-6234
//! PublicDate: 2019-03-05 16:29:00 UTC
//! Description:
//!  A memory corruption issue was addressed ...
//! Priority: medium
//! CVSS:
//!  nvd: CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H
//!
//! Patches_webkit2gtk:
//! upstream_webkit2gtk: released (2.22.4)
//! trusty/esm_webkit2gtk: DNE
//! xenial_webkit2gtk: deferred
//! bionic_webkit2gtk: released (2.22.4-0ubuntu0.18.04.1)
//! ```
//!
//! - `Key: value` lines, with values continued on lines that start with a space; `#` starts a
//!   comment. The colon is not always followed by a space (`Candidate:CVE-2009-0799`).
//! - `<release>_<source-package>: <status> (<version or note>)`. `released` and `released-esm`
//!   give the fixed version (sometimes in `[…]`, once with two versions `(a, b)` of which the
//!   first is the release's own, once with an unbalanced parenthesis); `needed`, `active` and
//!   `pending` are open; `deferred` and `ignored` (mostly "reached end-of-life") will not be
//!   fixed; `not-affected` and `DNE` (the package does not exist in the release) are not
//!   affected; `needs-triage` is still open to analysis.
//! - Releases are codenames. `trusty/esm`, `esm-infra/xenial`, `esm-apps/focal` are the
//!   Extended Security Maintenance pockets of a release: they share its namespace, and when the
//!   base line and the ESM line disagree the more informative one wins (a fix over an open issue
//!   over triage over won't-fix over not-affected over DNE; the base line on a tie). Other
//!   `release/product` keys (`vivid/ubuntu-core`, `vivid/stable-phone-overlay`, FIPS, ROS) are
//!   separate products and are skipped, as are `upstream`, `devel` (not yet a version),
//!   `product`, `snap`.
//! - `Priority:` is the advisory's severity; `Priority_<package>:` (or
//!   `Priority_<package>_<release>:`) overrides it for one package.
//! - `Patches_`, `Tags_`, `Notes`, `References`, `Bugs`, … are not needed for matching.

use std::collections::HashMap;

use super::FeedError;
use crate::model::{Advisory, Affected, Cvss, Feed, Namespace, Severity, Status};

/// Release codenames and their versions, the namespace `ubuntu:<version>`.
const RELEASES: &[(&str, &str)] = &[
    ("warty", "4.10"),
    ("hoary", "5.04"),
    ("breezy", "5.10"),
    ("dapper", "6.06"),
    ("edgy", "6.10"),
    ("feisty", "7.04"),
    ("gutsy", "7.10"),
    ("hardy", "8.04"),
    ("intrepid", "8.10"),
    ("jaunty", "9.04"),
    ("karmic", "9.10"),
    ("lucid", "10.04"),
    ("maverick", "10.10"),
    ("natty", "11.04"),
    ("oneiric", "11.10"),
    ("precise", "12.04"),
    ("quantal", "12.10"),
    ("raring", "13.04"),
    ("saucy", "13.10"),
    ("trusty", "14.04"),
    ("utopic", "14.10"),
    ("vivid", "15.04"),
    ("wily", "15.10"),
    ("xenial", "16.04"),
    ("yakkety", "16.10"),
    ("zesty", "17.04"),
    ("artful", "17.10"),
    ("bionic", "18.04"),
    ("cosmic", "18.10"),
    ("disco", "19.04"),
    ("eoan", "19.10"),
    ("focal", "20.04"),
    ("groovy", "20.10"),
    ("hirsute", "21.04"),
    ("impish", "21.10"),
    ("jammy", "22.04"),
    ("kinetic", "22.10"),
    ("lunar", "23.04"),
    ("mantic", "23.10"),
    ("noble", "24.04"),
    ("oracular", "24.10"),
    ("plucky", "25.04"),
    ("questing", "25.10"),
    ("resolute", "26.04"),
];

/// Release keys that are not a distribution release.
const NOT_RELEASES: &[&str] = &["upstream", "devel", "product", "snap", "sid"];

fn ubuntu_release_version(codename: &str) -> Option<&'static str> {
    RELEASES
        .iter()
        .find(|(name, _)| *name == codename)
        .map(|(_, version)| *version)
}

/// What a status line's release key means.
#[derive(Debug, PartialEq)]
enum Release {
    /// A release, and whether this is its ESM pocket.
    Version(&'static str, bool),
    Skip,
}

fn release(key: &str) -> Result<Release, String> {
    if NOT_RELEASES.contains(&key) {
        return Ok(Release::Skip);
    }
    if let Some(version) = ubuntu_release_version(key) {
        return Ok(Release::Version(version, false));
    }
    if let Some((left, right)) = key.split_once('/') {
        let esm = |s: &str| s == "esm" || s.starts_with("esm-");
        return match (ubuntu_release_version(left), ubuntu_release_version(right)) {
            (Some(version), None) if esm(right) => Ok(Release::Version(version, true)),
            (None, Some(version)) if esm(left) => Ok(Release::Version(version, true)),
            (Some(_), None) | (None, Some(_)) => Ok(Release::Skip),
            _ => Err(format!("unknown Ubuntu release {key:?}")),
        };
    }
    Err(format!("unknown Ubuntu release {key:?}"))
}

fn priority(word: &str) -> Result<Option<Severity>, String> {
    Ok(match word {
        "negligible" => Some(Severity::Negligible),
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        "critical" => Some(Severity::Critical),
        "untriaged" | "" => None,
        other => return Err(format!("unknown priority {other:?}")),
    })
}

fn line_error(origin: &str, line: usize, problem: impl std::fmt::Display) -> FeedError {
    FeedError::new(origin, format!("line {line}: {problem}"))
}

/// One `<release>_<package>` line.
struct Statement {
    namespace: Namespace,
    package: String,
    status: Status,
    /// Orders statements for the same namespace and package: the higher wins.
    rank: u8,
    esm: bool,
    note: Option<String>,
}

/// The header field whose continuation lines are being read.
enum Field {
    Description,
    UbuntuDescription,
    Cvss,
    Other,
}

/// Parses one UCT CVE file into one advisory.
pub(crate) fn parse_uct(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let mut candidate: Option<(String, usize)> = None;
    let mut published = None;
    let mut severity = None;
    let mut description = String::new();
    let mut ubuntu_description = String::new();
    let mut cvss: Vec<Cvss> = Vec::new();
    let mut overrides: Vec<(String, Option<String>, Option<Severity>)> = Vec::new();
    let mut statements: Vec<Statement> = Vec::new();
    let mut field: Option<Field> = None;

    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        // A blank line may separate paragraphs of one field (Description, Notes).
        if trimmed.is_empty() {
            continue;
        }
        // "-- Tags_xen: …" is how a few files comment a line out. An indented '#' is text
        // (a quoted configuration file in Mitigation).
        if raw.starts_with('#') || raw.starts_with("--") {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            match field {
                Some(Field::Description) => append(&mut description, trimmed),
                Some(Field::UbuntuDescription) => append(&mut ubuntu_description, trimmed),
                Some(Field::Cvss) => {
                    cvss.extend(parse_cvss(trimmed).map_err(|e| line_error(origin, number, e))?);
                }
                Some(Field::Other) => {}
                None => {
                    return Err(line_error(
                        origin,
                        number,
                        "continuation line without a field",
                    ));
                }
            }
            continue;
        }
        let (key, value) = raw.split_once(':').ok_or_else(|| {
            line_error(
                origin,
                number,
                format!("expected \"Key: value\", got {trimmed:?}"),
            )
        })?;
        let (key, value) = (key.trim(), value.trim());
        field = Some(Field::Other);
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-/.+".contains(&b))
        {
            return Err(line_error(origin, number, format!("bad key {key:?}")));
        }
        if key.starts_with(|c: char| c.is_ascii_uppercase()) {
            match key {
                "Candidate" => {
                    if value.is_empty() || value.contains(char::is_whitespace) {
                        return Err(line_error(
                            origin,
                            number,
                            format!("bad candidate {value:?}"),
                        ));
                    }
                    candidate = Some((value.to_owned(), number));
                }
                "PublicDate" => published = public_date(value),
                "Priority" => {
                    // A trailing remark ("medium (was high)") does not change the word.
                    let word = value.split_whitespace().next().unwrap_or_default();
                    severity = priority(word).map_err(|e| line_error(origin, number, e))?;
                }
                "Description" => {
                    field = Some(Field::Description);
                    append(&mut description, value);
                }
                "Ubuntu-Description" => {
                    field = Some(Field::UbuntuDescription);
                    append(&mut ubuntu_description, value);
                }
                "CVSS" => {
                    field = Some(Field::Cvss);
                    if !value.is_empty() {
                        cvss.extend(parse_cvss(value).map_err(|e| line_error(origin, number, e))?);
                    }
                }
                _ => {
                    if let Some(target) = key.strip_prefix("Priority_") {
                        let word = value.split_whitespace().next().unwrap_or_default();
                        let level = priority(word).map_err(|e| line_error(origin, number, e))?;
                        let (package, release) = match target.split_once('_') {
                            Some((package, release)) => (package, Some(release.to_owned())),
                            None => (target, None),
                        };
                        overrides.push((package.to_owned(), release, level));
                    }
                }
            }
            continue;
        }
        let Some((release_key, package)) = key.split_once('_') else {
            return Err(line_error(
                origin,
                number,
                format!("unrecognised line {trimmed:?}"),
            ));
        };
        if package.is_empty() {
            return Err(line_error(origin, number, format!("no package in {key:?}")));
        }
        let version = match release(release_key).map_err(|e| line_error(origin, number, e))? {
            Release::Skip => continue,
            Release::Version(version, esm) => (version, esm),
        };
        let statement = parse_status(value, version, package, release_key)
            .map_err(|e| line_error(origin, number, format!("{e} in {trimmed:?}")))?;
        statements.extend(statement);
    }

    let (id, line) =
        candidate.ok_or_else(|| FeedError::new(origin, "no Candidate: line".to_owned()))?;
    let withdrawn = description.starts_with("** REJECT **");
    let summary = [ubuntu_description, description]
        .into_iter()
        .find(|d| !d.is_empty());
    let affected = merge(statements)
        .into_iter()
        .map(|s| {
            let over = overrides
                .iter()
                .filter(|(package, _, _)| *package == s.package)
                .find(|(_, release, _)| {
                    release.as_deref().is_none_or(|r| {
                        ubuntu_release_version(r)
                            .is_some_and(|v| s.namespace == format!("ubuntu:{v}"))
                    })
                });
            Affected {
                severity: over.map_or(severity, |(_, _, level)| *level),
                namespace: s.namespace,
                package: s.package,
                status: s.status,
                note: s.note,
            }
        })
        .collect();
    Ok(vec![Advisory {
        id,
        aliases: Vec::new(),
        feed: Feed::UbuntuUct,
        record: format!("{origin}:{line}"),
        published,
        modified: None,
        summary,
        severity,
        cvss,
        affected,
        withdrawn,
    }])
}

fn append(text: &mut String, line: &str) {
    if line.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(line);
}

/// `2019-03-05 16:29:00 UTC` → `2019-03-05T16:29:00Z`; a bare date is kept; other zones are kept
/// as written rather than guessed.
fn public_date(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let is_date = |d: &str| {
        d.len() == 10
            && d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    let is_time = |t: &str| t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit() || b == b':');
    match parts.as_slice() {
        [] => None,
        [date] if is_date(date) => Some((*date).to_owned()),
        [date, time] | [date, time, "UTC"] if is_date(date) && is_time(time) => {
            Some(format!("{date}T{time}Z"))
        }
        _ if value.eq_ignore_ascii_case("unknown") => None,
        _ => Some(value.to_owned()),
    }
}

/// ` nvd: CVSS:3.1/AV:N/… [9.8 CRITICAL]`.
fn parse_cvss(line: &str) -> Result<Option<Cvss>, String> {
    let Some((source, rest)) = line.split_once(':') else {
        return Err(format!("expected \"source: vector\" in CVSS line {line:?}"));
    };
    let rest = rest.trim();
    let (vector, score) = match rest.split_once('[') {
        Some((vector, score)) => (
            vector.trim(),
            score
                .trim_end_matches(']')
                .split_whitespace()
                .next()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|s| (0.0..=10.0).contains(s)),
        ),
        None => (rest, None),
    };
    if vector.is_empty() {
        return Ok(None);
    }
    let version = match vector.strip_prefix("CVSS:") {
        Some(tail) => tail.split('/').next().unwrap_or_default().to_owned(),
        None => "2.0".to_owned(),
    };
    let source = match source.trim() {
        "nvd" => Some("nvd@nist.gov".to_owned()),
        "unknown" | "" => None,
        other => Some(other.to_owned()),
    };
    Ok(Some(Cvss {
        version,
        vector: vector.to_owned(),
        score,
        source,
    }))
}

fn parse_status(
    value: &str,
    (version, esm): (&'static str, bool),
    package: &str,
    release_key: &str,
) -> Result<Option<Statement>, String> {
    let (word, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    let rest = rest.trim();
    // "(note)" or "[note]", sometimes unbalanced or doubled at the end.
    let detail = rest
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']'])
        .trim();
    let detail = (!detail.is_empty()).then_some(detail);
    let with_detail = |name: &str| match detail {
        Some(d) => format!("{name}: {d}"),
        None => name.to_owned(),
    };
    let (status, rank) = match word {
        "" => return Ok(None),
        "released" | "released-esm" => {
            let detail = detail.ok_or("released without a version")?;
            // "a, b": the first is the release's own build.
            let fixed = detail.split(',').next().unwrap_or_default().trim();
            if fixed.is_empty()
                || !fixed
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".+~:-_".contains(&b))
            {
                return Err(format!("{fixed:?} is not a version"));
            }
            (
                Status::Fixed {
                    fixed: fixed.to_owned(),
                    date: None,
                },
                5,
            )
        }
        "needed" | "active" | "pending" => (Status::Unfixed, 4),
        "needs-triage" => (Status::UnderInvestigation, 3),
        "deferred" | "ignored" => (
            Status::WontFix {
                reason: with_detail(word),
            },
            2,
        ),
        "not-affected" => (
            Status::NotAffected {
                reason: detail.map(str::to_owned),
            },
            1,
        ),
        "DNE" => (
            Status::NotAffected {
                reason: Some("DNE: the package does not exist in this release".to_owned()),
            },
            0,
        ),
        other => return Err(format!("unknown status {other:?}")),
    };
    let mut note = detail.map(str::to_owned);
    if esm {
        note = Some(match note {
            Some(n) => format!("{release_key}: {n}"),
            None => release_key.to_owned(),
        });
    }
    Ok(Some(Statement {
        namespace: Namespace::distro("ubuntu", version).map_err(|e| e.to_string())?,
        package: package.to_owned(),
        status,
        rank,
        esm,
        note,
    }))
}

/// One statement per namespace and package, in order of first appearance.
fn merge(statements: Vec<Statement>) -> Vec<Statement> {
    let mut out: Vec<Statement> = Vec::new();
    let mut index: HashMap<(Namespace, String), usize> = HashMap::new();
    for s in statements {
        match index.get(&(s.namespace.clone(), s.package.clone())) {
            Some(&at) => {
                let kept = &out[at];
                let better = s.rank > kept.rank || (s.rank == kept.rank && kept.esm && !s.esm);
                if better {
                    out[at] = s;
                }
            }
            None => {
                index.insert((s.namespace.clone(), s.package.clone()), out.len());
                out.push(s);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UCT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories/ubuntu-uct/active"
    );

    fn read(name: &str) -> Advisory {
        let path = format!("{UCT}/{name}");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("real test data missing: {path}: {e} (see shared/data)"));
        let mut list = parse_uct(name, &text).unwrap();
        assert_eq!(list.len(), 1);
        list.remove(0)
    }

    fn status(advisory: &Advisory, namespace: &str, package: &str) -> (Status, Option<Severity>) {
        let a = advisory
            .affected
            .iter()
            .find(|a| a.namespace == namespace && a.package == package)
            .unwrap_or_else(|| panic!("{namespace} {package} not in {}", advisory.id));
        (a.status.clone(), a.severity)
    }

    fn fixed(version: &str) -> Status {
        Status::Fixed {
            fixed: version.to_owned(),
            date: None,
        }
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn every_real_file() {
        let entries = std::fs::read_dir(UCT)
            .unwrap_or_else(|e| panic!("real test data missing: {UCT}: {e} (see shared/data)"));
        let mut files = 0;
        let mut statements = 0;
        let mut by_state: HashMap<&'static str, usize> = HashMap::new();
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("CVE-") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let list = parse_uct(&name, &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(list[0].id, name);
            files += 1;
            for a in &list[0].affected {
                statements += 1;
                let state = match a.status {
                    Status::Fixed { .. } => "fixed",
                    Status::Unfixed => "unfixed",
                    Status::WontFix { .. } => "wont-fix",
                    Status::NotAffected { .. } => "not-affected",
                    Status::UnderInvestigation => "under-investigation",
                    Status::Ranges { .. } => "ranges",
                };
                *by_state.entry(state).or_default() += 1;
            }
        }
        let mut by_state: Vec<_> = by_state.into_iter().collect();
        by_state.sort_unstable();
        eprintln!("ubuntu-uct: {files} advisories / {statements} statements {by_state:?}");
        assert_eq!((files, statements), (6_509, 178_666));
    }

    #[test]
    fn webkit_file() {
        let a = read("CVE-2019-6234");
        assert_eq!(a.id, "CVE-2019-6234");
        assert_eq!(a.record, "CVE-2019-6234:1");
        assert_eq!(a.feed, Feed::UbuntuUct);
        assert_eq!(a.published.as_deref(), Some("2019-03-05T16:29:00Z"));
        assert_eq!(a.severity, Some(Severity::Medium));
        assert!(
            a.summary
                .as_deref()
                .unwrap()
                .starts_with("A memory corruption issue")
        );
        assert!(
            a.summary
                .as_deref()
                .unwrap()
                .ends_with("arbitrary code execution.")
        );
        assert_eq!(
            a.cvss,
            [Cvss {
                version: "3.0".into(),
                vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H".into(),
                score: None,
                source: Some("nvd@nist.gov".into()),
            }]
        );
        let medium = Some(Severity::Medium);
        assert_eq!(
            status(&a, "ubuntu:18.04", "webkit2gtk"),
            (fixed("2.22.4-0ubuntu0.18.04.1"), medium)
        );
        assert_eq!(
            status(&a, "ubuntu:19.04", "webkit2gtk"),
            (fixed("2.22.4-1"), medium)
        );
        assert_eq!(
            status(&a, "ubuntu:16.04", "webkit2gtk"),
            (
                Status::WontFix {
                    reason: "deferred".into()
                },
                medium
            )
        );
        assert_eq!(
            status(&a, "ubuntu:14.04", "webkit2gtk").0,
            Status::NotAffected {
                reason: Some("DNE: the package does not exist in this release".into())
            }
        );
        assert_eq!(
            status(&a, "ubuntu:18.04", "webkitgtk").0,
            Status::UnderInvestigation
        );
        // trusty says ignored, trusty/esm says DNE: the base line is more informative.
        assert_eq!(
            status(&a, "ubuntu:14.04", "webkitgtk").0,
            Status::WontFix {
                reason: "ignored: reached end-of-life".into()
            }
        );
        // precise has only its ESM pocket here.
        let precise = a
            .affected
            .iter()
            .find(|x| x.namespace == "ubuntu:12.04" && x.package == "qtwebkit")
            .unwrap();
        assert_eq!(precise.note.as_deref(), Some("precise/esm"));
        // upstream and devel are not releases.
        assert!(
            a.affected
                .iter()
                .all(|x| x.namespace.starts_with("ubuntu:"))
        );
        // Five packages in seven releases, but qtwebkit has no cosmic line.
        assert_eq!(a.affected.len(), 34);
    }

    #[test]
    fn wordpress_file_with_not_affected() {
        let a = read("CVE-2018-12895");
        assert_eq!(
            status(&a, "ubuntu:19.04", "wordpress").0,
            Status::NotAffected {
                reason: Some("4.9.7+dfsg1-1".into())
            }
        );
        assert_eq!(status(&a, "ubuntu:18.04", "wordpress").0, Status::Unfixed);
        assert_eq!(status(&a, "ubuntu:16.04", "wordpress").0, Status::Unfixed);
        assert_eq!(
            status(&a, "ubuntu:17.10", "wordpress").0,
            Status::WontFix {
                reason: "ignored: reached end-of-life".into()
            }
        );
        assert_eq!(
            status(&a, "ubuntu:12.04", "wordpress").0,
            Status::NotAffected {
                reason: Some("DNE: the package does not exist in this release".into())
            }
        );
    }

    #[test]
    fn quirks() {
        let text = "\
Candidate:CVE-2020-0001
PublicDate: 2016-07-18 14:00:00
Description:
 Line one
 line two.
Priority: low
Priority_bar: high
Priority_baz_bionic: critical
CVSS:
 nvd: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H [9.8 CRITICAL]
 unknown: AV:N/AC:L/Au:N/C:P/I:P/A:P
# bionic_foo: needed
-- Tags_foo: universe-binary

Patches_foo:
 upstream: https://example.invalid/patch
upstream_foo: released (1.0)
devel_foo: needed
trusty_foo: ignored (reached end-of-life)
trusty/esm_foo: released [1.0-1ubuntu0.1~esm1]
esm-infra/xenial_foo: released (1.0-2ubuntu0.1+esm1)
xenial_foo: needed
vivid/ubuntu-core_foo: needed
precise_foo: released (0.27-1+deb7u1build0.12.04.1, 0.28-1+deb8u1)
cosmic_foo: released (0.168-0.2))
disco_foo:pending (1.2-3)
bionic_bar: active
bionic_baz: needs-triage
focal_baz: needed
";
        let a = parse_uct("f", text).unwrap().remove(0);
        assert_eq!(a.id, "CVE-2020-0001");
        assert_eq!(a.published.as_deref(), Some("2016-07-18T14:00:00Z"));
        assert_eq!(a.summary.as_deref(), Some("Line one line two."));
        assert_eq!(a.cvss.len(), 2);
        assert_eq!(a.cvss[0].score, Some(9.8));
        assert_eq!(a.cvss[1].version, "2.0");
        assert_eq!(a.cvss[1].source, None);
        let low = Some(Severity::Low);
        assert_eq!(
            status(&a, "ubuntu:14.04", "foo"),
            (fixed("1.0-1ubuntu0.1~esm1"), low)
        );
        assert_eq!(
            status(&a, "ubuntu:16.04", "foo"),
            (fixed("1.0-2ubuntu0.1+esm1"), low)
        );
        assert_eq!(
            status(&a, "ubuntu:12.04", "foo").0,
            fixed("0.27-1+deb7u1build0.12.04.1")
        );
        assert_eq!(status(&a, "ubuntu:18.10", "foo").0, fixed("0.168-0.2"));
        assert_eq!(status(&a, "ubuntu:19.04", "foo").0, Status::Unfixed);
        assert_eq!(
            status(&a, "ubuntu:18.04", "bar"),
            (Status::Unfixed, Some(Severity::High))
        );
        assert_eq!(
            status(&a, "ubuntu:18.04", "baz"),
            (Status::UnderInvestigation, Some(Severity::Critical))
        );
        assert_eq!(status(&a, "ubuntu:20.04", "baz"), (Status::Unfixed, low));
        // bionic_foo is commented out, vivid/ubuntu-core is another product.
        for gone in ["ubuntu:18.04", "ubuntu:15.04"] {
            assert!(
                !a.affected
                    .iter()
                    .any(|x| x.namespace == gone && x.package == "foo")
            );
        }
        assert_eq!(a.affected.len(), 8);
    }

    #[test]
    fn release_keys() {
        assert_eq!(release("noble"), Ok(Release::Version("24.04", false)));
        assert_eq!(release("trusty"), Ok(Release::Version("14.04", false)));
        assert_eq!(release("jammy"), Ok(Release::Version("22.04", false)));
        assert_eq!(
            release("esm-apps/jammy"),
            Ok(Release::Version("22.04", true))
        );
        assert_eq!(
            release("esm-infra-legacy/trusty"),
            Ok(Release::Version("14.04", true))
        );
        assert_eq!(release("xenial/esm"), Ok(Release::Version("16.04", true)));
        assert_eq!(release("fips-updates/focal"), Ok(Release::Skip));
        assert_eq!(release("upstream"), Ok(Release::Skip));
        assert!(release("narnia").is_err());
        assert!(release("esm/narnia").is_err());
    }

    #[test]
    fn garbage_is_an_error_with_the_line() {
        let cases = [
            ("", "no Candidate"),
            ("\n indented\nCandidate: CVE-1\n", "line 2"),
            ("Candidate: CVE-1\nno colon here\n", "line 2"),
            ("Candidate: CVE-1\nbionic_foo: fixed (1.0)\n", "line 2"),
            ("Candidate: CVE-1\nbionic_foo: released\n", "line 2"),
            ("Candidate: CVE-1\nbionic_foo: released (<1.0>)\n", "line 2"),
            ("Candidate: CVE-1\nnarnia_foo: needed\n", "line 2"),
            ("Candidate: CVE-1\nbionic_: needed\n", "line 2"),
            ("Candidate: CVE-1\nbionicfoo: needed\n", "line 2"),
            ("Candidate: CVE-1\nPriority: urgent\n", "line 2"),
            ("Candidate: CVE-1\nCVSS:\n garbage\n", "line 3"),
            ("Candidate: CVE 1\n", "line 1"),
            ("Candidate: CVE-1\nbio nic_foo: needed\n", "line 2"),
        ];
        for (text, expected) in cases {
            let err = parse_uct("bad", text).unwrap_err();
            assert_eq!(err.file, "bad");
            assert!(err.problem.starts_with(expected), "{text:?}: {err}");
        }
        let path = format!("{UCT}/CVE-2019-6234");
        let real = std::fs::read_to_string(&path).unwrap();
        for cut in 0..real.len() {
            if real.is_char_boundary(cut) {
                let _ = parse_uct("cut", &real[..cut]);
            }
        }
    }
}
