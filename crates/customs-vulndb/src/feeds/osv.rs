//! OSV records (JSON and YAML), recorded OSV API answers, and RustSec advisories.
//!
//! # OSV
//!
//! Follows the OSV schema (<https://ossf.github.io/osv-schema/>). [`parse_osv_json`] and
//! [`parse_osv_yaml`] read the same schema; YAML is what PyPA's advisory database commits. An
//! input holds one record, a list of records, or an object with a `vulns` list (the answer of
//! the API's `/v1/query`). The mapping, and where it is not one to one:
//!
//! - `id`, `aliases`, `published`, `modified` as written, except Go's zero time
//!   `0001-01-01T00:00:00Z`: the golang/vulndb repository writes it in place of dates that are
//!   only set when it publishes, and a date in year 1 would sort every Go record first.
//! - `summary`, or `details` when there is no summary (PyPA records have only details).
//! - `withdrawn` is a timestamp in OSV; its presence sets `withdrawn`.
//! - `severity[]`: `CVSS_V2`/`CVSS_V3`/`CVSS_V4` vectors become [`Cvss`] with the base score
//!   computed from the FIRST specifications for v2 and v3.x. v4 needs the specification's
//!   macro-vector tables, so its score stays `None`. The advisory severity is
//!   `database_specific.severity` (GHSA's LOW/MODERATE/HIGH/CRITICAL) or an `Ubuntu` severity.
//! - `affected[]` with a package becomes one [`Affected`] in namespace `osv:<ecosystem>`, the
//!   ecosystem spelled as the record spells it (`osv:PyPI`, `osv:Debian:12`,
//!   `osv:Ubuntu:22.04:LTS`). Entries without a package describe only a Git repository; they
//!   are skipped and the record is kept.
//! - Ranges keep their `type` as [`Range::kind`]. GIT ranges are kept (the model names them)
//!   but lose their `repo`: their events are commits, never versions of the package.
//! - Go's `ecosystem_specific.imports` (the vulnerable symbols) and `custom_ranges`
//!   (pseudo-version fixes that SEMVER ranges cannot hold) go into [`Affected::note`] as compact
//!   JSON such as `{"imports":[{"path":"net/http","symbols":["Serve"]}]}`: the model has no
//!   field for them.
//! - Per-package `affected[].severity` CVSS vectors join the advisory's list: the model holds
//!   CVSS only per advisory.
//!
//! # Recorded OSV API answers
//!
//! osv-scanner's test cassettes (YAML, `interactions[].request/response`, bodies as JSON text)
//! record `/v1/querybatch` calls. A querybatch answer holds only `id` and `modified` per
//! vulnerability, one result list per query. [`parse_osv_cassette`] therefore turns each id
//! into a stub advisory whose affected entries are the queried packages, each with exactly the
//! queried versions (`Status::Ranges` with no ranges): that is all the answer says. The
//! namespace is the ecosystem the query used, which may be spelled differently from the record
//! (queries say `Ubuntu:22.04`, records `Ubuntu:22.04:LTS`). Other recorded calls
//! (`/v1/query`, `/v1/vulns/<id>`) hold whole records and are read as OSV JSON.
//!
//! # RustSec
//!
//! rustsec/advisory-db files are Markdown with TOML front matter between a ```` ```toml ````
//! line and a ```` ``` ```` line; the first `# ` heading of the Markdown is the title. Files
//! that are TOML throughout (the older layout, title in `[advisory] title`) are read too.
//! RustSec states affected versions as Cargo requirements, not as OSV events:
//! `[versions] patched = [">= 1.2.3", "^0.5.1"]` and `unaffected = ["< 0.1"]`: a version is
//! affected when it matches no patched and no unaffected requirement. That is encoded as one
//! [`Range`] of kind `RUSTSEC` whose events are `Event::Fixed(req)` per patched requirement and
//! `Event::Limit(req)` per unaffected requirement, in file order, requirements verbatim (trimmed).
//! A `RUSTSEC` range without events means every version is affected. Namespace `osv:crates.io`;
//! `informational` ("unmaintained", "unsound", "notice") and `[affected]` functions, os and
//! arch go into [`Affected::note`] as compact JSON. Withdrawn advisories are kept, withdrawn.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::FeedError;
use crate::model::{
    Advisory, Affected, Cvss, Event, Feed, Namespace, Range, RangeKind, Severity, Status,
};

/// What golang/vulndb writes for dates it has not published yet.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Parses OSV JSON: one record, an array of records, or `{"vulns": [...]}`.
pub(crate) fn parse_osv_json(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let document: Document = serde_json::from_str(text)
        .map_err(|e| FeedError::new(origin, format!("not OSV JSON: {e}")))?;
    document.into_advisories(origin)
}

/// Parses OSV YAML (PyPA's advisory database): the same schema and shapes as JSON.
pub(crate) fn parse_osv_yaml(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let document: Document = serde_saphyr::from_str(text)
        .map_err(|e| FeedError::new(origin, format!("not OSV YAML: {e}")))?;
    document.into_advisories(origin)
}

/// The top level of an OSV input. Written by hand because the shape decides how records are
/// read: an untagged enum would buffer YAML scalars and turn versions like `1.10` into floats.
enum Document {
    One(Box<RawRecord>),
    List(Vec<RawRecord>),
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;

        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = Document;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OSV record, a list of records, or an object with a `vulns` list")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
                let mut records = Vec::new();
                while let Some(record) = seq.next_element::<RawRecord>()? {
                    records.push(record);
                }
                Ok(Document::List(records))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Document, A::Error> {
                let mut record =
                    RawRecord::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match record.vulns.take() {
                    Some(vulns) if record.id.is_none() => Ok(Document::List(vulns)),
                    _ => Ok(Document::One(Box::new(record))),
                }
            }
        }

        deserializer.deserialize_any(DocumentVisitor)
    }
}

impl Document {
    fn into_advisories(self, origin: &str) -> Result<Vec<Advisory>, FeedError> {
        match self {
            Document::One(record) => Ok(vec![record.into_advisory(origin, None)?]),
            Document::List(records) => records
                .into_iter()
                .enumerate()
                .map(|(index, record)| record.into_advisory(origin, Some(index)))
                .collect(),
        }
    }
}

/// An OSV record as written. `vulns` is only set on the `/v1/query` answer wrapper.
#[derive(Deserialize)]
struct RawRecord {
    id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
    published: Option<String>,
    modified: Option<String>,
    withdrawn: Option<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    affected: Vec<RawAffected>,
    database_specific: Option<Value>,
    vulns: Option<Vec<RawRecord>>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "null_as_default")]
    versions: Vec<String>,
    ecosystem_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

/// Some exporters write `null` for empty lists; the schema means the same as absent.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl RawRecord {
    /// `index` is the position in a list input, for the record locator and errors.
    fn into_advisory(self, origin: &str, index: Option<usize>) -> Result<Advisory, FeedError> {
        let at = index.map(|i| format!("record {i}"));
        let id = nonempty(self.id).ok_or_else(|| {
            let at = at.as_ref().map(|at| format!("{at}: ")).unwrap_or_default();
            FeedError::new(origin, format!("{at}OSV record without an `id`"))
        })?;
        let label = at.map_or_else(|| id.clone(), |at| format!("{at} ({id})"));
        let fail = |problem: String| FeedError::new(origin, format!("{label}: {problem}"));

        let mut cvss = Vec::new();
        let mut rated = None;
        for entry in &self.severity {
            match osv_severity(entry) {
                OsvSeverity::Cvss(score) => cvss.push(score),
                OsvSeverity::Rating(rating) => rated = rated.or(Some(rating)),
                OsvSeverity::Ignored => {}
            }
        }
        let vendor = self
            .database_specific
            .as_ref()
            .and_then(|specific| specific.get("severity"))
            .and_then(Value::as_str)
            .and_then(severity_word);

        let mut affected = Vec::new();
        for (i, entry) in self.affected.into_iter().enumerate() {
            let Some(package) = entry.package else {
                continue;
            };
            let (Some(ecosystem), Some(name)) =
                (nonempty(package.ecosystem), nonempty(package.name))
            else {
                return Err(fail(format!(
                    "affected[{i}]: package without ecosystem or name"
                )));
            };
            let mut ranges = Vec::new();
            for (j, range) in entry.ranges.into_iter().enumerate() {
                let kind = nonempty(range.kind)
                    .ok_or_else(|| {
                        fail(format!("affected[{i}].ranges[{j}]: range without a type"))
                    })?
                    .parse::<RangeKind>()
                    .map_err(|why| fail(format!("affected[{i}].ranges[{j}]: {why}")))?;
                let events = range
                    .events
                    .into_iter()
                    .enumerate()
                    .map(|(k, event)| {
                        event.into_event().ok_or_else(|| {
                            fail(format!(
                                "affected[{i}].ranges[{j}].events[{k}]: an event needs exactly one \
                                 of introduced, fixed, last_affected, limit"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                ranges.push(Range { kind, events });
            }
            let mut severity = None;
            for entry in &entry.severity {
                match osv_severity(entry) {
                    OsvSeverity::Cvss(score) if !cvss.contains(&score) => cvss.push(score),
                    OsvSeverity::Rating(rating) => severity = severity.or(Some(rating)),
                    _ => {}
                }
            }
            let namespace = Namespace::osv(&ecosystem)
                .map_err(|e| fail(format!("affected[{i}].package.ecosystem: {e}")))?;
            affected.push(Affected {
                namespace,
                package: name,
                status: Status::Ranges {
                    ranges,
                    versions: entry.versions,
                },
                severity,
                note: entry.ecosystem_specific.as_ref().and_then(go_note),
            });
        }

        Ok(Advisory {
            record: index.map_or_else(|| origin.to_owned(), |i| format!("{origin}#{i}")),
            id,
            aliases: self.aliases,
            feed: Feed::Osv,
            published: date(self.published),
            modified: date(self.modified),
            summary: nonempty(self.summary).or_else(|| nonempty(self.details)),
            severity: vendor.or(rated),
            cvss,
            affected,
            withdrawn: nonempty(self.withdrawn).is_some(),
        })
    }
}

impl RawEvent {
    fn into_event(self) -> Option<Event> {
        match (self.introduced, self.fixed, self.last_affected, self.limit) {
            (Some(v), None, None, None) => Some(Event::Introduced(v)),
            (None, Some(v), None, None) => Some(Event::Fixed(v)),
            (None, None, Some(v), None) => Some(Event::LastAffected(v)),
            (None, None, None, Some(v)) => Some(Event::Limit(v)),
            _ => None,
        }
    }
}

fn nonempty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn date(value: Option<String>) -> Option<String> {
    nonempty(value).filter(|d| d != ZERO_TIME)
}

/// Keeps the parts of Go's `ecosystem_specific` a matcher needs, as compact JSON.
fn go_note(specific: &Value) -> Option<String> {
    let specific = specific.as_object()?;
    let kept: Map<String, Value> = ["imports", "custom_ranges"]
        .into_iter()
        .filter_map(|key| {
            let value = specific.get(key)?;
            let empty = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
            (!empty).then(|| (key.to_owned(), value.clone()))
        })
        .collect();
    (!kept.is_empty()).then(|| Value::Object(kept).to_string())
}

enum OsvSeverity {
    Cvss(Cvss),
    Rating(Severity),
    Ignored,
}

fn osv_severity(entry: &RawSeverity) -> OsvSeverity {
    match entry.kind.as_str() {
        "CVSS_V2" => OsvSeverity::Cvss(cvss_from_vector(&entry.score, "2.0")),
        "CVSS_V3" => OsvSeverity::Cvss(cvss_from_vector(&entry.score, "3.1")),
        "CVSS_V4" => OsvSeverity::Cvss(cvss_from_vector(&entry.score, "4.0")),
        "Ubuntu" => severity_word(&entry.score).map_or(OsvSeverity::Ignored, OsvSeverity::Rating),
        _ => OsvSeverity::Ignored,
    }
}

/// Vendor words: GHSA (MODERATE), Ubuntu priorities, Red Hat (Important).
fn severity_word(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "important" => Some(Severity::High),
        "moderate" | "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "negligible" => Some(Severity::Negligible),
        "unknown" | "untriaged" => Some(Severity::Unknown),
        _ => None,
    }
}

/// A CVSS vector with its base score where the version's formula is simple (2.0, 3.0, 3.1).
/// The version comes from the `CVSS:x.y/` prefix, else `fallback` (v2 vectors have no
/// prefix). A vector that does not parse keeps `score: None`: the vector is still evidence.
pub(crate) fn cvss_from_vector(vector: &str, fallback: &str) -> Cvss {
    let vector = vector.trim();
    let version = vector
        .strip_prefix("CVSS:")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(fallback)
        .to_owned();
    let score = match version.as_str() {
        "2.0" => cvss2_base_score(vector),
        "3.0" | "3.1" => cvss3_base_score(vector),
        "4.0" => cvss4_base_score(vector),
        _ => None,
    };
    Cvss {
        version,
        vector: vector.to_owned(),
        score,
        source: None,
    }
}

/// Metric → value of a vector, `None` when a metric repeats or a part has no `:`.
fn metrics(vector: &str) -> Option<BTreeMap<&str, &str>> {
    let mut metrics = BTreeMap::new();
    for part in vector.split('/').filter(|p| !p.starts_with("CVSS:")) {
        let (metric, value) = part.split_once(':')?;
        if metrics.insert(metric, value).is_some() {
            return None;
        }
    }
    Some(metrics)
}

/// CVSS v4.0 score of the vector (CVSS-B, or CVSS-BT/BE/BTE with the threat and
/// environmental metrics it carries), by the `cvss` crate's implementation of FIRST's
/// calculator.
fn cvss4_base_score(vector: &str) -> Option<f64> {
    let v: cvss::v4::Vector = vector.parse().ok()?;
    Some(v.score().value())
}

/// CVSS v3.0/v3.1 base score, from the formulas of the v3.1 specification section 7.
fn cvss3_base_score(vector: &str) -> Option<f64> {
    let m = metrics(vector)?;
    let changed = match *m.get("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let attack_vector = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let complexity = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let privileges = match (*m.get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let interaction = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let impact_of = |metric: &str| match *m.get(metric)? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let (c, i, a) = (impact_of("C")?, impact_of("I")?, impact_of("A")?);
    let iss: f64 = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 8.22 * attack_vector * complexity * privileges * interaction;
    let sum = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(roundup(sum.min(10.0)))
}

/// The v3.1 specification's Roundup (Appendix A): works on integers so that 4.000000001 is
/// not rounded up to 4.1 by floating-point noise. v3.0 scores agree except on such noise.
fn roundup(value: f64) -> f64 {
    let hundred_thousandths = (value * 100_000.0).round() as i64;
    if hundred_thousandths % 10_000 == 0 {
        hundred_thousandths as f64 / 100_000.0
    } else {
        (hundred_thousandths / 10_000 + 1) as f64 / 10.0
    }
}

/// CVSS v2 base score, from section 3.2.1 of the v2 guide.
fn cvss2_base_score(vector: &str) -> Option<f64> {
    let m = metrics(vector.trim_start_matches('(').trim_end_matches(')'))?;
    let access_vector = match *m.get("AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let complexity = match *m.get("AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let authentication = match *m.get("Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let impact_of = |metric: &str| match *m.get(metric)? {
        "N" => Some(0.0),
        "P" => Some(0.275),
        "C" => Some(0.660),
        _ => None,
    };
    let (c, i, a) = (impact_of("C")?, impact_of("I")?, impact_of("A")?);
    let impact: f64 = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 20.0 * access_vector * complexity * authentication;
    let base = (0.6 * impact + 0.4 * exploitability - 1.5) * 1.176;
    Some((base * 10.0).round() / 10.0)
}

// ---------------------------------------------------------------------------------------------
// Recorded OSV API answers

/// Parses a recorded osv-scanner cassette (see the module doc): one advisory per vulnerability
/// id, in first-seen order.
#[cfg_attr(
    not(any(test, feature = "fuzzing")),
    expect(dead_code, reason = "test data reader; no feed ships cassettes yet")
)]
pub(crate) fn parse_osv_cassette(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    cassette::parse(origin, text)
}

mod cassette {
    use std::collections::HashMap;

    use serde::Deserialize;

    use super::{FeedError, RawPackage, date, nonempty, null_as_default, parse_osv_json};
    use crate::model::{Advisory, Affected, Feed, Namespace, Status};

    #[derive(Deserialize)]
    struct Cassette {
        #[serde(default)]
        interactions: Vec<Interaction>,
    }

    #[derive(Deserialize)]
    struct Interaction {
        request: Exchange,
        response: Exchange,
    }

    /// The parts of a recorded request or response that matter here.
    #[derive(Deserialize)]
    struct Exchange {
        #[serde(default)]
        url: String,
        #[serde(default)]
        body: String,
        code: Option<u16>,
    }

    #[derive(Deserialize)]
    struct BatchRequest {
        #[serde(default)]
        queries: Vec<BatchQuery>,
    }

    #[derive(Deserialize)]
    struct BatchQuery {
        package: Option<RawPackage>,
        version: Option<String>,
    }

    #[derive(Deserialize)]
    struct BatchAnswer {
        #[serde(default)]
        results: Vec<BatchResult>,
    }

    #[derive(Deserialize)]
    struct BatchResult {
        #[serde(default, deserialize_with = "null_as_default")]
        vulns: Vec<BatchVuln>,
    }

    #[derive(Deserialize)]
    struct BatchVuln {
        id: String,
        modified: Option<String>,
    }

    pub(super) fn parse(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
        let cassette: Cassette = serde_saphyr::from_str(text)
            .map_err(|e| FeedError::new(origin, format!("not a recorded HTTP cassette: {e}")))?;
        let mut advisories = Vec::new();
        // id → (index in `advisories`, whether it is a querybatch stub rather than a record)
        let mut by_id: HashMap<String, (usize, bool)> = HashMap::new();
        for (i, interaction) in cassette.interactions.into_iter().enumerate() {
            let fail =
                |problem: String| FeedError::new(origin, format!("interactions[{i}]: {problem}"));
            let response = interaction.response;
            // A recorded error answer holds a message, not vulnerabilities.
            if response.code.is_some_and(|code| code != 200) {
                continue;
            }
            if !interaction.request.url.ends_with("/v1/querybatch") {
                let body = response.body.trim();
                // `/v1/query` answers `{}` when nothing matches.
                if body.is_empty() || body == "{}" {
                    continue;
                }
                let at = format!("{origin}#interactions[{i}]");
                for advisory in parse_osv_json(&at, body)
                    .map_err(|e| fail(format!("response body: {}", e.problem)))?
                {
                    // A whole record says more than a querybatch stub of it; the first whole
                    // record of an id wins.
                    match by_id.get_mut(&advisory.id) {
                        Some((index, stub)) if *stub => {
                            advisories[*index] = advisory;
                            *stub = false;
                        }
                        Some(_) => {}
                        None => {
                            by_id.insert(advisory.id.clone(), (advisories.len(), false));
                            advisories.push(advisory);
                        }
                    }
                }
                continue;
            }
            let request: BatchRequest = serde_json::from_str(&interaction.request.body)
                .map_err(|e| fail(format!("querybatch request body: {e}")))?;
            let answer: BatchAnswer = serde_json::from_str(&response.body)
                .map_err(|e| fail(format!("querybatch response body: {e}")))?;
            if answer.results.len() != request.queries.len() {
                return Err(fail(format!(
                    "{} queries but {} results: answers pair with queries by position",
                    request.queries.len(),
                    answer.results.len()
                )));
            }
            for (j, (query, result)) in request.queries.into_iter().zip(answer.results).enumerate()
            {
                let target = match (query.package, nonempty(query.version)) {
                    (
                        Some(RawPackage {
                            ecosystem: Some(ecosystem),
                            name: Some(name),
                        }),
                        Some(version),
                    ) => Some((
                        Namespace::osv(&ecosystem).map_err(|e| {
                            fail(format!("interactions[{i}].query.package.ecosystem: {e}"))
                        })?,
                        name,
                        version,
                    )),
                    // Queries by commit or purl name no package version to record.
                    _ => None,
                };
                for vuln in result.vulns {
                    if vuln.id.trim().is_empty() {
                        return Err(fail(format!("results[{j}]: vulnerability without an id")));
                    }
                    let (index, is_stub) = *by_id.entry(vuln.id.clone()).or_insert_with(|| {
                        advisories.push(stub(
                            vuln,
                            format!("{origin}#interactions[{i}].results[{j}]"),
                        ));
                        (advisories.len() - 1, true)
                    });
                    // A whole record already states its affected versions.
                    if let (true, Some((namespace, package, version))) = (is_stub, &target) {
                        add_queried_version(&mut advisories[index], namespace, package, version);
                    }
                }
            }
        }
        Ok(advisories)
    }

    fn stub(vuln: BatchVuln, record: String) -> Advisory {
        Advisory {
            id: vuln.id,
            aliases: Vec::new(),
            feed: Feed::Osv,
            record,
            published: None,
            modified: date(vuln.modified),
            summary: None,
            severity: None,
            cvss: Vec::new(),
            affected: Vec::new(),
            withdrawn: false,
        }
    }

    fn add_queried_version(
        advisory: &mut Advisory,
        namespace: &Namespace,
        package: &str,
        version: &str,
    ) {
        let existing = advisory
            .affected
            .iter_mut()
            .filter(|a| a.namespace == *namespace && a.package == package)
            .find_map(|a| match &mut a.status {
                Status::Ranges { versions, .. } => Some(versions),
                _ => None,
            });
        match existing {
            Some(versions) if versions.iter().any(|v| v == version) => {}
            Some(versions) => versions.push(version.to_owned()),
            None => advisory.affected.push(Affected {
                namespace: namespace.clone(),
                package: package.to_owned(),
                status: Status::Ranges {
                    ranges: Vec::new(),
                    versions: vec![version.to_owned()],
                },
                severity: None,
                note: Some(
                    "the OSV API answered that these versions are affected (querybatch); the full \
                     record was not recorded"
                        .to_owned(),
                ),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RustSec

#[derive(Deserialize)]
struct RustSecFile {
    advisory: RustSecAdvisory,
    #[serde(default)]
    versions: RustSecVersions,
    #[serde(default)]
    affected: RustSecAffected,
}

#[derive(Deserialize)]
struct RustSecAdvisory {
    id: String,
    package: String,
    date: Option<toml::Value>,
    #[serde(default)]
    aliases: Vec<String>,
    cvss: Option<String>,
    informational: Option<String>,
    withdrawn: Option<toml::Value>,
    /// Only in the older TOML-only layout; Markdown files carry the title as a heading.
    title: Option<String>,
}

#[derive(Deserialize, Default)]
struct RustSecVersions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RustSecAffected {
    #[serde(default)]
    functions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    os: Vec<String>,
    #[serde(default)]
    arch: Vec<String>,
}

/// Parses one rustsec/advisory-db advisory (see the module doc for the version encoding).
pub(crate) fn parse_rustsec(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let fail = |problem: String| FeedError::new(origin, problem);
    let (front, body) = match front_matter(text).map_err(fail)? {
        Some((front, body)) => (front, Some(body)),
        None => (text, None),
    };
    let file: RustSecFile = toml::from_str(front).map_err(|e| {
        let what = if body.is_some() {
            "TOML front matter"
        } else {
            "not a RustSec advisory"
        };
        fail(format!("{what}: {e}"))
    })?;
    let advisory = file.advisory;
    if advisory.id.trim().is_empty() || advisory.package.trim().is_empty() {
        return Err(fail("advisory without `id` or `package`".to_owned()));
    }
    let fail = |problem: String| FeedError::new(origin, format!("{}: {problem}", advisory.id));

    let requirement = |list: &str, req: &String| {
        let req = req.trim();
        if req.is_empty() {
            Err(fail(format!("empty requirement in `versions.{list}`")))
        } else {
            Ok(req.to_owned())
        }
    };
    let mut events = Vec::new();
    for req in &file.versions.patched {
        events.push(Event::Fixed(requirement("patched", req)?));
    }
    for req in &file.versions.unaffected {
        events.push(Event::Limit(requirement("unaffected", req)?));
    }

    let published = match advisory.date {
        Some(value) => Some(toml_date(value).map_err(|e| fail(format!("`date` {e}")))?),
        None => None,
    };
    let title = body
        .and_then(|body| body.lines().find_map(|line| line.strip_prefix("# ")))
        .map(|title| title.trim().to_owned());

    Ok(vec![Advisory {
        id: advisory.id,
        aliases: advisory.aliases,
        feed: Feed::RustSec,
        record: origin.to_owned(),
        published,
        modified: None,
        summary: nonempty(title).or_else(|| nonempty(advisory.title)),
        severity: None,
        cvss: advisory
            .cvss
            .map(|v| cvss_from_vector(&v, "3.1"))
            .into_iter()
            .collect(),
        affected: vec![Affected {
            namespace: Namespace::language(customs_types::Ecosystem::Cargo)
                .ok_or_else(|| FeedError::new(origin, "crates.io has no OSV namespace"))?,
            package: advisory.package,
            status: Status::Ranges {
                ranges: vec![Range {
                    kind: RangeKind::Rustsec,
                    events,
                }],
                versions: Vec::new(),
            },
            severity: None,
            note: rustsec_note(advisory.informational, file.affected),
        }],
        withdrawn: advisory.withdrawn.is_some(),
    }])
}

/// Splits ```` ```toml ```` front matter from the Markdown after it. `Ok(None)` when the file
/// does not open with a fence (the TOML-only layout).
fn front_matter(text: &str) -> Result<Option<(&str, &str)>, String> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let Some(rest) = text.strip_prefix("```toml") else {
        return Ok(None);
    };
    let Some((opening, after)) = rest.split_once('\n') else {
        return Err("```toml front matter is not closed".to_owned());
    };
    if !opening.trim().is_empty() {
        return Err("text after the ```toml fence".to_owned());
    }
    let mut offset = 0;
    for line in after.split_inclusive('\n') {
        if line.trim_end() == "```" {
            return Ok(Some((&after[..offset], &after[offset + line.len()..])));
        }
        offset += line.len();
    }
    Err("```toml front matter is not closed".to_owned())
}

/// advisory-db quotes its dates, TOML also allows bare ones.
fn toml_date(value: toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        other => Err(format!("is a TOML {}, not a date", other.type_str())),
    }
}

fn rustsec_note(informational: Option<String>, affected: RustSecAffected) -> Option<String> {
    let mut note = Map::new();
    if let Some(kind) = nonempty(informational) {
        note.insert("informational".to_owned(), Value::String(kind));
    }
    if !affected.functions.is_empty() {
        let functions = affected
            .functions
            .into_iter()
            .map(|(path, reqs)| (path, reqs.into_iter().map(Value::String).collect()))
            .collect();
        note.insert("functions".to_owned(), Value::Object(functions));
    }
    for (key, list) in [("os", affected.os), ("arch", affected.arch)] {
        if !list.is_empty() {
            note.insert(
                key.to_owned(),
                list.into_iter().map(Value::String).collect(),
            );
        }
    }
    (!note.is_empty()).then(|| Value::Object(note).to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories"
    );

    /// Every file under `DATA/dir` ending in `ext`, sorted, as (path relative to DATA, text).
    /// Panics when the folder is missing: these tests must not pass without the data.
    fn read_tree(dir: &str, ext: &str) -> Vec<(String, String)> {
        fn walk(path: &Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
            let entries = std::fs::read_dir(path).unwrap_or_else(|e| {
                panic!("{}: {e} (real data from ../shared/data)", path.display())
            });
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, ext, out);
                } else if path.extension().is_some_and(|e| e == ext) {
                    out.push(path);
                }
            }
        }
        let root = Path::new(DATA);
        let mut paths = Vec::new();
        walk(&root.join(dir), ext, &mut paths);
        paths.sort();
        assert!(!paths.is_empty(), "{dir}: no .{ext} files");
        paths
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                (path.strip_prefix(root).unwrap().display().to_string(), text)
            })
            .collect()
    }

    type Parser = fn(&str, &str) -> Result<Vec<Advisory>, FeedError>;

    fn parse_all(files: &[(String, String)], parse: Parser) -> Vec<Advisory> {
        files
            .iter()
            .flat_map(|(origin, text)| parse(origin, text).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn find<'a>(all: &'a [Advisory], id: &str) -> &'a Advisory {
        all.iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("{id} not parsed"))
    }

    fn ranges(affected: &Affected) -> (&[Range], &[String]) {
        match &affected.status {
            Status::Ranges { ranges, versions } => (ranges, versions),
            other => panic!("{other:?}"),
        }
    }

    fn note(affected: &Affected) -> Value {
        serde_json::from_str(affected.note.as_deref().expect("a note")).unwrap()
    }

    fn events(list: &[(&str, &str)]) -> Vec<Event> {
        list.iter()
            .map(|&(kind, v)| match kind {
                "introduced" => Event::Introduced(v.to_owned()),
                "fixed" => Event::Fixed(v.to_owned()),
                "last_affected" => Event::LastAffected(v.to_owned()),
                _ => Event::Limit(v.to_owned()),
            })
            .collect()
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn go_vulndb_every_record() {
        let files = read_tree("osv-go/data/osv", "json");
        let all = parse_all(&files, parse_osv_json);
        let withdrawn = all.iter().filter(|a| a.withdrawn).count();
        let with_imports = all
            .iter()
            .flat_map(|a| &a.affected)
            .filter(|a| a.note.as_deref().is_some_and(|n| n.contains("\"imports\"")))
            .count();
        println!(
            "osv-go: {} files, {} records, {withdrawn} withdrawn, {with_imports} packages with imports",
            files.len(),
            all.len()
        );
        assert_eq!(
            (files.len(), all.len(), withdrawn, with_imports),
            (4291, 4291, 17, 1110)
        );
        assert!(
            all.iter()
                .all(|a| a.feed == Feed::Osv && a.modified.is_none()),
            "zero times dropped"
        );

        let go = find(&all, "GO-2022-0969");
        assert_eq!(go.aliases, ["CVE-2022-27664", "GHSA-69cg-p879-7622"]);
        assert_eq!(go.published.as_deref(), Some("2022-09-12T20:23:06Z"));
        assert_eq!(
            go.summary.as_deref(),
            Some("Denial of service in net/http and golang.org/x/net/http2")
        );
        assert_eq!(go.record, "osv-go/data/osv/GO-2022-0969.json");
        assert_eq!(go.affected.len(), 2);
        let stdlib = &go.affected[0];
        assert_eq!(
            (stdlib.namespace.as_str(), stdlib.package.as_str()),
            ("osv:Go", "stdlib")
        );
        let (rs, versions) = ranges(stdlib);
        assert!(versions.is_empty());
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].kind, RangeKind::Semver);
        assert_eq!(
            rs[0].events,
            events(&[
                ("introduced", "0"),
                ("fixed", "1.18.6"),
                ("introduced", "1.19.0-0"),
                ("fixed", "1.19.1")
            ])
        );
        assert_eq!(
            note(stdlib),
            json!({"imports": [{"path": "net/http", "symbols": [
                "ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS", "Server.ListenAndServe",
                "Server.ListenAndServeTLS", "Server.Serve", "Server.ServeTLS",
                "http2Server.ServeConn", "http2serverConn.goAway"]}]})
        );
        assert_eq!(
            note(&go.affected[1]),
            json!({"imports": [{"path": "golang.org/x/net/http2", "symbols": ["Server.ServeConn", "serverConn.goAway"]}]})
        );

        let pubnub = find(&all, "GO-2023-2385");
        let v5 = pubnub
            .affected
            .iter()
            .find(|a| a.package == "github.com/pubnub/go/v5")
            .unwrap();
        assert_eq!(
            note(v5)["custom_ranges"],
            json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.0.4-0.20231016150651-428517fef5b9"}]}])
        );
        assert!(find(&all, "GO-2024-2442").withdrawn);
        // An empty `ecosystem_specific` leaves no note.
        assert!(
            find(&all, "GO-2024-3228")
                .affected
                .iter()
                .all(|a| a.note.is_none())
        );
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn pypa_yaml_every_record() {
        let files = read_tree("osv-pypa-yaml/vulns", "yaml");
        let all = parse_all(&files, parse_osv_yaml);
        let withdrawn = all.iter().filter(|a| a.withdrawn).count();
        let cvss = all.iter().filter(|a| !a.cvss.is_empty()).count();
        let git = all
            .iter()
            .flat_map(|a| &a.affected)
            .flat_map(|a| ranges(a).0)
            .filter(|r| r.kind == RangeKind::Git)
            .count();
        println!(
            "osv-pypa-yaml: {} files, {} records, {withdrawn} withdrawn, {cvss} with CVSS, {git} GIT ranges",
            files.len(),
            all.len()
        );
        assert_eq!(
            (files.len(), all.len(), withdrawn, cvss, git),
            (2661, 2661, 10, 202, 1391)
        );
        assert!(
            all.iter()
                .flat_map(|a| &a.affected)
                .all(|a| a.namespace == "osv:PyPI")
        );

        let werkzeug = find(&all, "PYSEC-2023-221");
        assert_eq!(werkzeug.aliases, ["CVE-2023-46136", "GHSA-hrfv-mqp8-q5rw"]);
        assert_eq!(
            werkzeug.modified.as_deref(),
            Some("2023-11-08T18:38:34.170214Z")
        );
        assert!(
            werkzeug
                .summary
                .as_deref()
                .unwrap()
                .starts_with("Werkzeug is a comprehensive WSGI")
        );
        assert_eq!(
            werkzeug.cvss,
            [Cvss {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".into(),
                score: Some(7.5),
                source: None,
            }]
        );
        let (rs, versions) = ranges(&werkzeug.affected[0]);
        assert_eq!(werkzeug.affected[0].package, "werkzeug");
        assert_eq!(rs[0].kind, RangeKind::Git);
        assert_eq!(rs[1].kind, RangeKind::Ecosystem);
        assert_eq!(
            rs[1].events,
            events(&[
                ("introduced", "0"),
                ("fixed", "2.3.8"),
                ("introduced", "3.0.0"),
                ("fixed", "3.0.1")
            ])
        );
        // Quoted and bare YAML scalars alike stay the text written: `'0.10'` is not 0.1.
        assert_eq!(&versions[..3], ["0.1", "0.10", "0.10.1"]);
        assert_eq!(versions.last().map(String::as_str), Some("3.0.0"));
        assert_eq!(versions.len(), 90);

        let redis = find(&all, "PYSEC-2023-73");
        assert!(redis.withdrawn);
        assert_eq!(
            ranges(&redis.affected[0]).0[0].events,
            events(&[("introduced", "0")])
        );
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn rustsec_every_advisory() {
        let files = read_tree("rustsec/crates", "md");
        let all = parse_all(&files, parse_rustsec);
        let count = |f: &dyn Fn(&Advisory) -> bool| all.iter().filter(|a| f(a)).count();
        let withdrawn = count(&|a| a.withdrawn);
        let informational = count(&|a| {
            a.affected[0]
                .note
                .as_deref()
                .is_some_and(|n| n.contains("informational"))
        });
        let cvss = count(&|a| !a.cvss.is_empty());
        println!(
            "rustsec/crates: {} files, {} advisories, {withdrawn} withdrawn, {informational} informational, {cvss} with CVSS",
            files.len(),
            all.len()
        );
        assert_eq!(
            (files.len(), all.len(), withdrawn, informational, cvss),
            (1205, 1205, 13, 476, 417)
        );
        assert!(
            all.iter()
                .all(|a| a.feed == Feed::RustSec && a.affected[0].namespace == "osv:crates.io")
        );
        assert!(
            all.iter().all(|a| a.summary.is_some()),
            "every advisory has a title"
        );
        // Scored wherever the vector is v3.x or v4.0 (RustSec writes no v2 vectors).
        assert!(
            all.iter()
                .flat_map(|a| &a.cvss)
                .all(|c| c.score.is_some() == (c.version.starts_with('3') || c.version == "4.0")),
            "{:?}",
            all.iter()
                .flat_map(|a| &a.cvss)
                .filter(|c| c.score.is_none())
                .collect::<Vec<_>>()
        );
        let v4 = all
            .iter()
            .flat_map(|a| &a.cvss)
            .filter(|c| c.version == "4.0")
            .count();
        println!("rustsec: {v4} CVSS v4.0 vectors, all scored");
        assert!(v4 > 0, "the snapshot has v4.0 vectors to score");

        let tokio = find(&all, "RUSTSEC-2020-0019");
        assert_eq!(tokio.aliases, ["CVE-2020-35875", "GHSA-2jfv-g3fh-xq3v"]);
        assert_eq!(tokio.published.as_deref(), Some("2020-05-19"));
        assert_eq!(
            tokio.summary.as_deref(),
            Some("tokio-rustls reads may cause excessive memory usage")
        );
        assert_eq!(tokio.cvss[0].score, Some(7.5));
        assert_eq!(tokio.affected[0].package, "tokio-rustls");
        assert_eq!(
            ranges(&tokio.affected[0]),
            (
                &[Range {
                    kind: RangeKind::Rustsec,
                    events: events(&[
                        ("fixed", ">= 0.12.3, < 0.13.0"),
                        ("fixed", ">= 0.13.1"),
                        ("limit", "< 0.12")
                    ]),
                }][..],
                &[][..]
            )
        );
        assert!(tokio.affected[0].note.is_none());

        let markdown = find(&all, "RUSTSEC-2022-0044");
        assert!(markdown.withdrawn);
        assert_eq!(
            note(&markdown.affected[0]),
            json!({"informational": "unmaintained"})
        );

        let badge = find(&all, "RUSTSEC-2022-0057");
        assert_eq!(
            ranges(&badge.affected[0]).0[0].events,
            [],
            "no patched version: all affected"
        );

        let sha3 = find(&all, "RUSTSEC-2026-0207");
        // AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H: 8.2 by FIRST's v4.0 calculator (8.7 with AT:N).
        assert_eq!(
            (sha3.cvss[0].version.as_str(), sha3.cvss[0].score),
            ("4.0", Some(8.2))
        );
        assert_eq!(
            ranges(&sha3.affected[0]).0[0].events,
            events(&[("fixed", ">= 0.0.10")])
        );
        assert_eq!(
            note(&sha3.affected[0])["functions"]["libcrux_sha3::portable::incremental::Shake128Xof::squeeze"],
            json!(["<= 0.0.9"])
        );
        assert_eq!(
            note(&find(&all, "RUSTSEC-2022-0082").affected[0]),
            json!({"os": ["windows"]})
        );

        // The toolchain advisories (`rust/`) have the same format.
        assert_eq!(
            parse_all(&read_tree("rustsec/rust", "md"), parse_rustsec).len(),
            20
        );
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn osv_cassettes_every_answer() {
        let files = read_tree("osv-records", "yaml");
        let per_file: Vec<(String, Vec<Advisory>)> = files
            .iter()
            .map(|(origin, text)| {
                (
                    origin.clone(),
                    parse_osv_cassette(origin, text).unwrap_or_else(|e| panic!("{e}")),
                )
            })
            .collect();
        let counts: Vec<usize> = per_file.iter().map(|(_, a)| a.len()).collect();
        let affected: usize = per_file
            .iter()
            .flat_map(|(_, a)| a)
            .map(|a| a.affected.len())
            .sum();
        println!(
            "osv-records: {} cassettes, ids per file {counts:?}, {affected} affected packages",
            files.len()
        );
        assert_eq!(counts, [3, 4, 3, 46, 613, 442]);

        let docker = &per_file[0].1;
        let openssl = find(docker, "ALPINE-CVE-2024-13176");
        assert_eq!(
            openssl.modified.as_deref(),
            Some("2026-06-15T18:18:10.257313Z")
        );
        assert_eq!(
            openssl.record,
            "osv-records/TestCommand_Docker.yaml#interactions[0].results[8]"
        );
        assert_eq!(openssl.affected.len(), 1, "the duplicated query merges");
        assert_eq!(
            (
                openssl.affected[0].namespace.as_str(),
                openssl.affected[0].package.as_str()
            ),
            ("osv:Alpine:v3.18", "openssl")
        );
        assert_eq!(
            ranges(&openssl.affected[0]),
            (&[][..], &["3.1.7-r0".to_owned()][..])
        );

        let oci = &per_file[4].1;
        let go = find(oci, "GO-2024-2963");
        assert_eq!(ranges(&go.affected[0]).1, ["1.18.1", "1.22.4"]);
        let ubuntu = find(oci, "UBUNTU-CVE-2017-11164");
        let spots: Vec<_> = ubuntu
            .affected
            .iter()
            .map(|a| (a.namespace.as_str(), ranges(a).1.to_vec()))
            .collect();
        assert_eq!(
            spots,
            [
                ("osv:Ubuntu:20.04", vec!["2:8.39-12ubuntu0.1".to_owned()]),
                (
                    "osv:Ubuntu:22.04",
                    vec!["2:8.39-13ubuntu0.22.04.1".to_owned()]
                )
            ]
        );
    }

    #[test]
    fn accepted_shapes() {
        let record = json!({"id": "GHSA-1", "modified": "2024-01-01T00:00:00Z",
            "database_specific": {"severity": "MODERATE"},
            "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}],
            "affected": [
                {"ranges": [{"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "abc"}]}]},
                {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
                 "severity": [{"type": "Ubuntu", "score": "medium"}],
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "3.0.2-0ubuntu1.10"}]}]}]});
        let one = parse_osv_json("one.json", &record.to_string()).unwrap();
        assert_eq!(one.len(), 1);
        let ghsa = &one[0];
        assert_eq!(
            (ghsa.record.as_str(), ghsa.severity),
            ("one.json", Some(Severity::Medium))
        );
        assert_eq!(ghsa.cvss[0].version, "2.0");
        assert_eq!(ghsa.cvss[0].score, Some(7.5));
        assert_eq!(
            ghsa.affected.len(),
            1,
            "the repository-only entry is skipped"
        );
        assert_eq!(ghsa.affected[0].namespace, "osv:Ubuntu:22.04:LTS");
        assert_eq!(ghsa.affected[0].severity, Some(Severity::Medium));

        let list =
            parse_osv_json("list.json", &json!([record, {"id": "GHSA-2"}]).to_string()).unwrap();
        assert_eq!(
            list.iter().map(|a| a.record.as_str()).collect::<Vec<_>>(),
            ["list.json#0", "list.json#1"]
        );
        let vulns = parse_osv_json("q.json", &json!({"vulns": [record]}).to_string()).unwrap();
        assert_eq!(vulns[0].id, "GHSA-1");
        assert!(
            parse_osv_json("q.json", r#"{"vulns": []}"#)
                .unwrap()
                .is_empty()
        );
        let yaml = parse_osv_yaml(
            "l.yaml",
            "- id: A\n  aliases: null\n- id: B\n  withdrawn: 2023-08-22T06:18:00Z\n",
        )
        .unwrap();
        assert_eq!((yaml.len(), yaml[1].withdrawn), (2, true));

        let toml_only = "[advisory]\nid = \"RUSTSEC-2019-0001\"\npackage = \"x\"\ndate = 2019-01-01\ntitle = \"T\"\n\n[versions]\npatched = []\n";
        let old = parse_rustsec("old.toml", toml_only).unwrap();
        assert_eq!(
            (old[0].published.as_deref(), old[0].summary.as_deref()),
            (Some("2019-01-01"), Some("T"))
        );
    }

    #[test]
    fn cassette_prefers_whole_records() {
        let cassette = r#"
interactions:
- request: {url: 'https://api.osv.dev/v1/querybatch', body: '{"queries": [
    {"package": {"ecosystem": "PyPI", "name": "a"}, "version": "1.0"}, {"commit": "abc"}]}'}
  response: {code: 200, body: '{"results": [
    {"vulns": [{"id": "PYSEC-1", "modified": "2024-01-01T00:00:00Z"}]}, {"vulns": [{"id": "PYSEC-2"}]}]}'}
- request: {url: 'https://api.osv.dev/v1/vulns/PYSEC-1'}
  response: {code: 200, body: '{"id": "PYSEC-1", "summary": "whole"}'}
- request: {url: 'https://api.osv.dev/v1/query'}
  response: {code: 404, body: 'not found'}
- request: {url: 'https://api.osv.dev/v1/query'}
  response: {code: 200, body: '{}'}
"#;
        let parsed = parse_osv_cassette("c.yaml", cassette).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            (parsed[0].summary.as_deref(), parsed[0].record.as_str()),
            (Some("whole"), "c.yaml#interactions[1]")
        );
        assert!(
            parsed[0].affected.is_empty(),
            "the record's own affected list, not the query"
        );
        assert_eq!(parsed[1].id, "PYSEC-2");
        assert!(
            parsed[1].affected.is_empty(),
            "a commit query names no package version"
        );
    }

    #[test]
    fn cvss_base_scores() {
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(9.8)),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Some(10.0)),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", Some(6.1)),
            // Temporal metrics do not change the base score.
            (
                "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N/E:P",
                Some(1.8),
            ),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", Some(0.0)),
            ("AV:N/AC:M/Au:N/C:N/I:P/A:N", Some(4.3)),
            ("(AV:L/AC:L/Au:N/C:C/I:C/A:C)", Some(7.2)),
            ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),
            ("CVSS:3.1/AV:N/AV:N", None),
            // v4.0: FIRST's calculator (https://www.first.org/cvss/calculator/4-0) gives 9.3
            // for the first, 10 for the second and 6.9 for the third.
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                Some(9.3),
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
                Some(10.0),
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N",
                Some(6.9),
            ),
            ("CVSS:4.0/AV:N/AC:L", None),
            ("garbage", None),
        ] {
            assert_eq!(cvss_from_vector(vector, "2.0").score, score, "{vector}");
        }
        // NVD publishes its scores: every v2 and v3.x vector in the NVD files must agree.
        let mut checked = 0;
        for (origin, text) in read_tree("nvd", "json") {
            let page: Value = serde_json::from_str(&text).unwrap();
            for item in page["vulnerabilities"].as_array().unwrap() {
                for key in ["cvssMetricV2", "cvssMetricV30", "cvssMetricV31"] {
                    for metric in item["cve"]["metrics"][key].as_array().into_iter().flatten() {
                        let data = &metric["cvssData"];
                        let ours = cvss_from_vector(data["vectorString"].as_str().unwrap(), "2.0");
                        assert_eq!(ours.score, data["baseScore"].as_f64(), "{origin}: {data}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn hostile_input_names_the_file() {
        let cases: &[(Parser, &str, &str)] = &[
            (parse_osv_json, "", "not OSV JSON"),
            (parse_osv_json, "null", "not OSV JSON"),
            (parse_osv_json, "[1, 2]", "not OSV JSON"),
            (parse_osv_json, "{\"id\": \"X\", ", "not OSV JSON"),
            (parse_osv_json, r#"{"id": 5}"#, "not OSV JSON"),
            (parse_osv_json, r#"{"summary": "no id"}"#, "without an `id`"),
            (
                parse_osv_json,
                r#"[{"id": "A"}, {"id": ""}]"#,
                "record 1: OSV record without an `id`",
            ),
            (
                parse_osv_json,
                r#"{"id": "A", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}"#,
                "A: affected[0].ranges[0].events[0]: an event needs exactly one",
            ),
            (
                parse_osv_json,
                r#"{"id": "A", "affected": [{"package": {"ecosystem": "PyPI"}}]}"#,
                "A: affected[0]: package without ecosystem or name",
            ),
            (
                parse_osv_json,
                r#"{"id": "A", "affected": [{"package": {"ecosystem": "Go", "name": "m"}, "ranges": [{"events": []}]}]}"#,
                "range without a type",
            ),
            (parse_osv_yaml, "", "not OSV YAML"),
            (parse_osv_yaml, "id: [\n", "not OSV YAML"),
            (parse_osv_yaml, "id: A\naffected: 7\n", "not OSV YAML"),
            (parse_osv_yaml, "&a [*a]", "not OSV YAML"),
            (
                parse_osv_cassette,
                "interactions: 3\n",
                "not a recorded HTTP cassette",
            ),
            (
                parse_osv_cassette,
                "interactions:\n- request: {url: 'https://api.osv.dev/v1/querybatch', body: '{\"queries\": [{}]}'}\n  response: {body: '{\"results\": []}', code: 200}\n",
                "interactions[0]: 1 queries but 0 results",
            ),
            (
                parse_osv_cassette,
                "interactions:\n- request: {url: 'https://api.osv.dev/v1/query', body: ''}\n  response: {body: '[{\"x\": 1}]'}\n",
                "interactions[0]: response body: record 0: OSV record without an `id`",
            ),
            (
                parse_rustsec,
                "```toml\n[advisory]\nid = \"R\"\n",
                "not closed",
            ),
            (
                parse_rustsec,
                "```toml\n[advisory\n```\n# T\n",
                "TOML front matter",
            ),
            (parse_rustsec, "# Just Markdown\n", "not a RustSec advisory"),
            (
                parse_rustsec,
                "```toml\n[advisory]\nid = \"R\"\n```\n",
                "missing field `package`",
            ),
            (
                parse_rustsec,
                "```toml\n[advisory]\nid = \"R\"\npackage = \"p\"\ndate = 5\n```\n",
                "R: `date` is a TOML integer, not a date",
            ),
            (
                parse_rustsec,
                "```toml\n[advisory]\nid = \"R\"\npackage = \"p\"\n[versions]\npatched = [\" \"]\n```\n",
                "R: empty requirement in `versions.patched`",
            ),
        ];
        for (parse, text, expected) in cases {
            let error = parse("bad/input", text).expect_err(text);
            assert_eq!(error.file, "bad/input", "{text}");
            assert!(
                error.problem.contains(expected),
                "{text}\n  gave: {}\n  wanted: {expected}",
                error.problem
            );
        }
    }

    /// Every prefix of real files, cut anywhere: an error or a shorter result, never a panic.
    #[test]
    fn truncated_real_files_never_panic() {
        let samples: [(&str, &str, Parser); 4] = [
            ("osv-go/data/osv", "GO-2023-2385.json", parse_osv_json),
            (
                "osv-pypa-yaml/vulns/werkzeug",
                "PYSEC-2023-221.yaml",
                parse_osv_yaml,
            ),
            (
                "rustsec/crates/libcrux-sha3",
                "RUSTSEC-2026-0207.md",
                parse_rustsec,
            ),
            (
                "osv-records",
                "TestCommand_ExplicitExtractors_WithoutDefaults.yaml",
                parse_osv_cassette,
            ),
        ];
        for (dir, name, parse) in samples {
            let (origin, text) = read_tree(dir, name.rsplit('.').next().unwrap())
                .into_iter()
                .find(|(origin, _)| origin.ends_with(name))
                .unwrap();
            for cut in (0..text.len())
                .filter(|&i| text.is_char_boundary(i))
                .step_by(7)
            {
                if let Err(error) = parse(&origin, &text[..cut]) {
                    assert_eq!(error.file, origin);
                }
            }
        }
    }
}
