//! Enrichment keyed by CVE id: NVD CVSS and descriptions, CISA KEV, FIRST EPSS.
//!
//! - **NVD CVE API 2.0** ([`parse_nvd`]): a page `{"vulnerabilities": [{"cve": {...}}], ...}`
//!   as the API answers, a single `{"cve": {...}}` item, or a bare CVE object. Each
//!   `metrics.cvssMetricV40/V31/V30/V2[]` entry becomes a [`Cvss`] (newest version first, in
//!   NVD's order within a version, which does not always put NVD's `Primary` first: read
//!   `source`) with `cvssData.baseScore`, `vectorString` and the scoring `source`; the
//!   `version` is `cvssData.version`. The description is the `en` one. `vulnStatus: "Rejected"` sets
//!   `rejected`. The retired JSON 1.1 feeds (`CVE_Items`) are refused with that reason.
//! - **CISA KEV**: the JSON catalog ([`parse_kev_json`], `{"vulnerabilities": [...]}`) and its
//!   CSV twin ([`parse_kev_csv`], RFC 4180: quoted fields hold commas, doubled quotes and line
//!   breaks). Fields read: `cveID`, `dateAdded`, `dueDate`, `knownRansomwareCampaignUse`
//!   (`Known`/`Unknown`, kept as written), `vulnerabilityName`.
//! - **FIRST EPSS** ([`parse_epss_csv`]): `#model_version:…,score_date:…` comment line(s), then
//!   `cve,epss,percentile`. The `score_date` becomes each row's `date`; files without the
//!   comment (older downloads) have no date.
//!
//! Every identifier must start with `CVE-`: a shifted CSV column or a stray header shows up
//! as an error naming the line instead of as a bogus key.

use serde::Deserialize;
use serde_json::Value;

use super::FeedError;
use crate::model::{Cvss, Enrichment};

// ---------------------------------------------------------------------------------------------
// NVD

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: String,
    published: Option<String>,
    vuln_status: Option<String>,
    #[serde(default)]
    descriptions: Vec<RawText>,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Deserialize)]
struct RawText {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    #[serde(rename = "cvssMetricV40", default)]
    v40: Vec<RawMetric>,
    #[serde(rename = "cvssMetricV31", default)]
    v31: Vec<RawMetric>,
    #[serde(rename = "cvssMetricV30", default)]
    v30: Vec<RawMetric>,
    #[serde(rename = "cvssMetricV2", default)]
    v2: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric {
    source: Option<String>,
    cvss_data: RawCvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    version: Option<String>,
    vector_string: String,
    base_score: Option<f64>,
}

/// Parses NVD CVE API 2.0 JSON (see the module doc for the accepted shapes).
pub(crate) fn parse_nvd(origin: &str, text: &str) -> Result<Vec<Enrichment>, FeedError> {
    let fail = |problem: String| FeedError::new(origin, problem);
    let value: Value =
        serde_json::from_str(text).map_err(|e| fail(format!("not NVD JSON: {e}")))?;
    let Value::Object(mut top) = value else {
        return Err(fail("not an NVD CVE API 2.0 object".to_owned()));
    };
    // (label for errors, the CVE object)
    let cves: Vec<(String, Value)> = if let Some(list) = top.remove("vulnerabilities") {
        let Value::Array(items) = list else {
            return Err(fail("`vulnerabilities` is not a list".to_owned()));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(mut item) => item
                    .remove("cve")
                    .map(|cve| (format!("vulnerabilities[{i}]"), cve))
                    .ok_or_else(|| fail(format!("vulnerabilities[{i}]: no `cve`"))),
                _ => Err(fail(format!("vulnerabilities[{i}]: not an object"))),
            })
            .collect::<Result<_, _>>()?
    } else if top.contains_key("CVE_Items") {
        return Err(fail(
            "an NVD JSON 1.1 feed (`CVE_Items`); only CVE API 2.0 is read".to_owned(),
        ));
    } else if let Some(cve) = top.remove("cve") {
        vec![("cve".to_owned(), cve)]
    } else if top.contains_key("id") {
        vec![("CVE object".to_owned(), Value::Object(top))]
    } else {
        return Err(fail(
            "neither an API page (`vulnerabilities`), an item (`cve`) nor a CVE (`id`)".to_owned(),
        ));
    };

    cves.into_iter()
        .map(|(label, value)| {
            let hint = value
                .get("id")
                .and_then(Value::as_str)
                .map(|id| format!(" ({id})"));
            let label = format!("{label}{}", hint.unwrap_or_default());
            let cve: RawCve =
                serde_json::from_value(value).map_err(|e| fail(format!("{label}: {e}")))?;
            nvd_enrichment(cve).map_err(|problem| fail(format!("{label}: {problem}")))
        })
        .collect()
}

fn nvd_enrichment(cve: RawCve) -> Result<Enrichment, String> {
    let id = cve_id(&cve.id)?;
    let metrics = cve.metrics;
    let cvss = [
        (metrics.v40, "4.0"),
        (metrics.v31, "3.1"),
        (metrics.v30, "3.0"),
        (metrics.v2, "2.0"),
    ]
    .into_iter()
    .flat_map(|(list, version)| list.into_iter().map(move |m| (m, version)))
    .map(|(metric, version)| Cvss {
        version: metric
            .cvss_data
            .version
            .unwrap_or_else(|| version.to_owned()),
        vector: metric.cvss_data.vector_string,
        score: metric.cvss_data.base_score,
        source: metric.source,
    })
    .collect();
    let description = cve
        .descriptions
        .iter()
        .find(|d| d.lang == "en")
        .or_else(|| cve.descriptions.iter().find(|d| d.lang.starts_with("en")))
        .map(|d| d.value.clone());
    Ok(Enrichment::Nvd {
        cve: id,
        description,
        cvss,
        published: cve.published.filter(|p| !p.is_empty()),
        rejected: cve
            .vuln_status
            .is_some_and(|s| s.eq_ignore_ascii_case("Rejected")),
    })
}

// ---------------------------------------------------------------------------------------------
// CISA KEV

#[derive(Deserialize)]
struct KevCatalog {
    vulnerabilities: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KevEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    date_added: Option<String>,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
    vulnerability_name: Option<String>,
}

/// Parses the KEV catalog JSON (`known_exploited_vulnerabilities.json`).
pub(crate) fn parse_kev_json(origin: &str, text: &str) -> Result<Vec<Enrichment>, FeedError> {
    let fail = |problem: String| FeedError::new(origin, problem);
    let catalog: KevCatalog =
        serde_json::from_str(text).map_err(|e| fail(format!("not a KEV catalog: {e}")))?;
    catalog
        .vulnerabilities
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let entry: KevEntry = serde_json::from_value(value)
                .map_err(|e| fail(format!("vulnerabilities[{i}]: {e}")))?;
            Ok(Enrichment::Kev {
                cve: cve_id(&entry.cve_id)
                    .map_err(|e| fail(format!("vulnerabilities[{i}]: {e}")))?,
                date_added: present(entry.date_added),
                due_date: present(entry.due_date),
                ransomware: present(entry.known_ransomware_campaign_use),
                name: present(entry.vulnerability_name),
            })
        })
        .collect()
}

/// Parses the KEV catalog CSV (`known_exploited_vulnerabilities.csv`), columns found by name.
pub(crate) fn parse_kev_csv(origin: &str, text: &str) -> Result<Vec<Enrichment>, FeedError> {
    let fail = |problem: String| FeedError::new(origin, problem);
    let (table, [cve]) = Table::parse(text, 1, ["cveID"]).map_err(fail)?;
    let [date_added, due_date, ransomware, name] = [
        "dateAdded",
        "dueDate",
        "knownRansomwareCampaignUse",
        "vulnerabilityName",
    ]
    .map(|column| table.column(column));
    table
        .rows
        .iter()
        .map(|(line, row)| {
            let field = |column: Option<usize>| column.and_then(|c| present(Some(row[c].clone())));
            Ok(Enrichment::Kev {
                cve: cve_id(&row[cve]).map_err(|e| fail(format!("line {line}: {e}")))?,
                date_added: field(date_added),
                due_date: field(due_date),
                ransomware: field(ransomware),
                name: field(name),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// FIRST EPSS

/// Parses an EPSS scores CSV (`epss_scores-YYYY-MM-DD.csv`).
pub(crate) fn parse_epss_csv(origin: &str, text: &str) -> Result<Vec<Enrichment>, FeedError> {
    let fail = |problem: String| FeedError::new(origin, problem);
    let text = text.trim_start_matches('\u{feff}');
    let mut date = None;
    let mut rest = text;
    let mut first_line = 1;
    while rest.starts_with('#') {
        let (comment, after) = rest.split_once('\n').unwrap_or((rest, ""));
        date = comment
            .trim_start_matches('#')
            .split(',')
            .find_map(|part| part.trim().strip_prefix("score_date:"))
            .map(|d| d.trim().to_owned())
            .or(date);
        rest = after;
        first_line += 1;
    }
    let (table, [cve, epss, percentile]) =
        Table::parse(rest, first_line, ["cve", "epss", "percentile"]).map_err(fail)?;
    table
        .rows
        .iter()
        .map(|(line, row)| {
            let fail = |problem: String| fail(format!("line {line}: {problem}"));
            let probability = |column: usize, what: &str| {
                let text = row[column].trim();
                match text.parse::<f64>() {
                    Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
                    _ => Err(fail(format!(
                        "{what} `{text}` is not a number between 0 and 1"
                    ))),
                }
            };
            Ok(Enrichment::Epss {
                cve: cve_id(&row[cve]).map_err(fail)?,
                probability: probability(epss, "epss")?,
                percentile: probability(percentile, "percentile")?,
                date: date.clone(),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shared

fn cve_id(id: &str) -> Result<String, String> {
    let id = id.trim();
    if id.starts_with("CVE-") && id.len() > 4 {
        Ok(id.to_owned())
    } else {
        Err(format!("`{id}` is not a CVE id"))
    }
}

fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A CSV file with a header row: rows checked to have the header's width.
struct Table {
    header: Vec<String>,
    /// (line the row starts on, fields)
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Also returns the indexes of the `required` columns, in the order asked.
    fn parse<const N: usize>(
        text: &str,
        first_line: usize,
        required: [&str; N],
    ) -> Result<(Self, [usize; N]), String> {
        let mut rows = csv_rows(text.trim_start_matches('\u{feff}'), first_line)?.into_iter();
        let (_, header) = rows.next().ok_or("no header row")?;
        let mut table = Table {
            header,
            rows: Vec::new(),
        };
        let mut columns = [0; N];
        for (slot, name) in columns.iter_mut().zip(required) {
            *slot = table
                .column(name)
                .ok_or_else(|| format!("no `{name}` column in the header"))?;
        }
        for (line, row) in rows {
            if row.len() != table.header.len() {
                return Err(format!(
                    "line {line}: {} fields, the header has {}",
                    row.len(),
                    table.header.len()
                ));
            }
            table.rows.push((line, row));
        }
        Ok((table, columns))
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    }
}

/// RFC 4180 records with the line each starts on. Blank lines are skipped; a quote may only
/// open a field, and a quoted field must close before the field ends.
fn csv_rows(text: &str, first_line: usize) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let (mut line, mut row_line) = (first_line, first_line);
    let (mut in_quotes, mut was_quoted) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => {
                    line += usize::from(c == '\n');
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => (in_quotes, was_quoted) = (true, true),
            '"' => return Err(format!("line {line}: a quote inside an unquoted field")),
            ',' => {
                row.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                let blank = row.len() == 1 && row[0].is_empty() && !was_quoted;
                if !blank {
                    rows.push((row_line, std::mem::take(&mut row)));
                }
                row.clear();
                was_quoted = false;
                line += 1;
                row_line = line;
            }
            _ if was_quoted => return Err(format!("line {line}: text after a closing quote")),
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(format!("line {row_line}: a quoted field is not closed"));
    }
    if !field.is_empty() || !row.is_empty() || was_quoted {
        row.push(field);
        rows.push((row_line, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories"
    );

    /// (origin, text) of a real file; panics when it is missing: no silent pass without data.
    fn real(path: &str) -> (String, String) {
        let full = format!("{DATA}/{path}");
        let text = std::fs::read_to_string(&full)
            .unwrap_or_else(|e| panic!("{full}: {e} (real data from ../shared/data)"));
        (path.to_owned(), text)
    }

    type Parser = fn(&str, &str) -> Result<Vec<Enrichment>, FeedError>;

    fn parse(path: &str, parser: Parser) -> Vec<Enrichment> {
        let (origin, text) = real(path);
        parser(&origin, &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn nvd(entries: &[Enrichment], id: &str) -> (Option<String>, Vec<Cvss>, Option<String>, bool) {
        entries
            .iter()
            .find_map(|e| match e {
                Enrichment::Nvd {
                    cve,
                    description,
                    cvss,
                    published,
                    rejected,
                } if cve == id => Some((
                    description.clone(),
                    cvss.clone(),
                    published.clone(),
                    *rejected,
                )),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{id} not parsed"))
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn real_nvd_files() {
        let page = parse("nvd/nvd-api2-page.json", parse_nvd);
        let sample = parse("nvd/nvd-cve-sample.json", parse_nvd);
        println!(
            "nvd: {} CVEs in the API page, {} in the sample",
            page.len(),
            sample.len()
        );
        assert_eq!((page.len(), sample.len()), (38, 13));

        let (description, cvss, published, rejected) = nvd(&page, "CVE-2023-27314");
        assert!(
            description
                .unwrap()
                .starts_with("ONTAP 9 versions prior to 9.8P19"),
            "the English one"
        );
        assert_eq!(published.as_deref(), Some("2023-10-12T19:15:11.747"));
        assert!(!rejected);
        let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";
        assert_eq!(
            cvss,
            [
                Cvss {
                    version: "3.1".into(),
                    vector: vector.into(),
                    score: Some(7.5),
                    source: Some("nvd@nist.gov".into())
                },
                Cvss {
                    version: "3.1".into(),
                    vector: vector.into(),
                    score: Some(7.5),
                    source: Some("security-alert@netapp.com".into()),
                },
            ]
        );
        // Awaiting analysis, no metrics yet.
        assert!(nvd(&page, "CVE-2023-43250").1.is_empty());

        let (_, cvss, _, _) = nvd(&sample, "CVE-2026-20912");
        assert_eq!(
            cvss[0].vector,
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N"
        );
        assert_eq!(cvss[0].score, Some(9.1));

        let source = |c: &Cvss| (c.version.clone(), c.score, c.source.clone().unwrap());
        let (_, cvss, _, _) = nvd(&sample, "CVE-2025-4565");
        assert!(
            cvss[0]
                .vector
                .starts_with("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/")
        );
        assert_eq!(
            cvss.iter().map(source).collect::<Vec<_>>(),
            [
                (
                    "4.0".into(),
                    Some(8.2),
                    "cve-coordination@google.com".into()
                ),
                ("3.1".into(), Some(5.3), "nvd@nist.gov".into())
            ]
        );
        let (_, cvss, _, _) = nvd(&sample, "CVE-2018-14618");
        assert_eq!(
            cvss.iter().map(source).collect::<Vec<_>>(),
            [
                ("3.0".into(), Some(7.5), "secalert@redhat.com".into()),
                ("3.0".into(), Some(9.8), "nvd@nist.gov".into()),
                ("2.0".into(), Some(10.0), "nvd@nist.gov".into())
            ]
        );
        assert_eq!(cvss[2].vector, "AV:N/AC:L/Au:N/C:C/I:C/A:C");
    }

    #[test]
    fn nvd_shapes_versions_and_rejection() {
        let metric = |version: &str, vector: &str, score: f64| {
            json!([{"source": "nvd@nist.gov", "type": "Primary",
                    "cvssData": {"version": version, "vectorString": vector, "baseScore": score}}])
        };
        let cve = json!({
            "id": "CVE-2021-0001", "published": "2021-01-01T00:00:00.000", "vulnStatus": "Rejected",
            "descriptions": [{"lang": "es", "value": "no"}, {"lang": "en", "value": "** REJECT **"}],
            "metrics": {
                "cvssMetricV2": metric("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
                "cvssMetricV30": metric("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
                "cvssMetricV40": metric("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
            }
        });
        for text in [
            cve.to_string(),
            json!({"cve": cve}).to_string(),
            json!({"vulnerabilities": [{"cve": cve}]}).to_string(),
        ] {
            let parsed = parse_nvd("one.json", &text).unwrap();
            let (description, cvss, _, rejected) = nvd(&parsed, "CVE-2021-0001");
            assert_eq!(description.as_deref(), Some("** REJECT **"));
            assert!(rejected);
            let versions: Vec<_> = cvss.iter().map(|c| (c.version.as_str(), c.score)).collect();
            assert_eq!(
                versions,
                [("4.0", Some(9.3)), ("3.0", Some(9.8)), ("2.0", Some(7.5))]
            );
        }
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn real_kev_catalog_json_and_csv_agree() {
        let from_json = parse("kev/known_exploited_vulnerabilities.json", parse_kev_json);
        let from_csv = parse("kev/known_exploited_vulnerabilities.csv", parse_kev_csv);
        println!(
            "kev: {} entries (JSON), {} (CSV)",
            from_json.len(),
            from_csv.len()
        );
        assert_eq!(from_json.len(), 1404);
        assert_eq!(from_json, from_csv, "the two renderings of one catalog");
        let log4shell = from_json
            .iter()
            .find(|e| matches!(e, Enrichment::Kev { cve, .. } if cve == "CVE-2021-44228"))
            .unwrap();
        assert_eq!(
            log4shell,
            &Enrichment::Kev {
                cve: "CVE-2021-44228".into(),
                date_added: Some("2021-12-10".into()),
                due_date: Some("2021-12-24".into()),
                ransomware: Some("Known".into()),
                name: Some("Apache Log4j2 Remote Code Execution Vulnerability".into()),
            }
        );
        let known = from_json
            .iter()
            .filter(|e| matches!(e, Enrichment::Kev { ransomware: Some(r), .. } if r == "Known"))
            .count();
        assert_eq!(known, 293);
    }

    #[test]
    #[expect(
        clippy::print_stdout,
        reason = "the counts are part of the test's report"
    )]
    fn real_epss_files() {
        let example = parse("epss/epss-example.csv", parse_epss_csv);
        let sample = parse("epss/epss-sample.csv", parse_epss_csv);
        println!(
            "epss: {} rows (example), {} rows (sample)",
            example.len(),
            sample.len()
        );
        assert_eq!((example.len(), sample.len()), (5, 29));
        assert_eq!(
            example[4],
            Enrichment::Epss {
                cve: "CVE-1999-0005".into(),
                probability: 0.91963,
                percentile: 0.99214,
                date: Some("2025-02-20T00:00:00+0000".into()),
            }
        );
        assert!(
            matches!(&sample[0], Enrichment::Epss { percentile, date: Some(d), .. }
            if *percentile == 0.99030 && d == "2024-10-25T00:00:00+0000")
        );
        // Older downloads have no comment line, and CRLF line ends.
        let bare =
            parse_epss_csv("old.csv", "cve,epss,percentile\r\nCVE-2020-1,0.5,0.25\r\n").unwrap();
        assert!(
            matches!(&bare[0], Enrichment::Epss { date: None, probability, .. } if *probability == 0.5)
        );
    }

    #[test]
    fn csv_quoting() {
        let text = "a,b,c\n\"x, \"\"y\"\"\",\"two\nlines\",\n\n1,2,3";
        let rows = csv_rows(text, 1).unwrap();
        assert_eq!(
            rows,
            [
                (1, vec!["a".into(), "b".into(), "c".into()]),
                (
                    2,
                    vec!["x, \"y\"".into(), "two\nlines".into(), String::new()]
                ),
                (5, vec!["1".into(), "2".into(), "3".into()]),
            ]
        );
    }

    #[test]
    fn hostile_input_names_the_file() {
        let kev_header = "cveID,dateAdded,vulnerabilityName\n";
        let cases: Vec<(Parser, String, &str)> = vec![
            (parse_nvd, String::new(), "not NVD JSON"),
            (parse_nvd, "[]".into(), "not an NVD CVE API 2.0 object"),
            (parse_nvd, r#"{"vulnerabilities": {}}"#.into(), "`vulnerabilities` is not a list"),
            (parse_nvd, r#"{"vulnerabilities": [{"cve": {"id": "CVE-1"}}, 3]}"#.into(), "vulnerabilities[1]: not an object"),
            (parse_nvd, r#"{"vulnerabilities": [{"x": 1}]}"#.into(), "vulnerabilities[0]: no `cve`"),
            (
                parse_nvd,
                r#"{"cve": {"id": "CVE-2020-1", "metrics": {"cvssMetricV31": [{"cvssData": {}}]}}}"#.into(),
                "cve (CVE-2020-1): missing field `vectorString`",
            ),
            (parse_nvd, r#"{"id": "GHSA-1"}"#.into(), "CVE object (GHSA-1): `GHSA-1` is not a CVE id"),
            (parse_nvd, r#"{"CVE_Items": []}"#.into(), "only CVE API 2.0"),
            (parse_nvd, r#"{"resultsPerPage": 0}"#.into(), "neither an API page"),
            (parse_kev_json, r#"{"vulnerabilities": 1}"#.into(), "not a KEV catalog"),
            (parse_kev_json, r#"{"vulnerabilities": [{"cveID": 7}]}"#.into(), "vulnerabilities[0]: invalid type"),
            (parse_kev_json, r#"{"vulnerabilities": [{"cveID": "X"}]}"#.into(), "vulnerabilities[0]: `X` is not a CVE id"),
            (parse_kev_csv, String::new(), "no header row"),
            (parse_kev_csv, "cve,date\n".into(), "no `cveID` column"),
            (parse_kev_csv, format!("{kev_header}CVE-1,2020-01-01\n"), "line 2: 2 fields, the header has 3"),
            (parse_kev_csv, format!("{kev_header}CVE-1,\"2020,x\n"), "line 2: a quoted field is not closed"),
            (parse_kev_csv, format!("{kev_header}CVE-1,a\"b,c\n"), "line 2: a quote inside an unquoted field"),
            (parse_kev_csv, format!("{kev_header}\"CVE-1\"x,a,b\n"), "line 2: text after a closing quote"),
            (parse_kev_csv, format!("{kev_header}cveID,a,b\n"), "line 2: `cveID` is not a CVE id"),
            (parse_epss_csv, "#model_version:v1,score_date:d\ncve,epss\n".into(), "no `percentile` column"),
            (parse_epss_csv, "#c\ncve,epss,percentile\nCVE-1,0.1,NaN\n".into(), "line 3: percentile `NaN` is not a number"),
            (parse_epss_csv, "cve,epss,percentile\nCVE-1,1.5,0.1\n".into(), "line 2: epss `1.5` is not a number"),
            (parse_epss_csv, "cve,epss,percentile\nCVE-1,-0.0e,0.1\n".into(), "line 2: epss"),
        ];
        for (parse, text, expected) in &cases {
            let error = parse("bad/input", text).expect_err(text);
            assert_eq!(error.file, "bad/input", "{text}");
            assert!(
                error.problem.contains(expected),
                "{text}\n  gave: {}\n  wanted: {expected}",
                error.problem
            );
        }
    }

    /// Every prefix of the real files, cut anywhere: an error or fewer entries, never a panic.
    #[test]
    fn truncated_real_files_never_panic() {
        let samples: [(&str, Parser, usize); 4] = [
            ("nvd/nvd-cve-sample.json", parse_nvd, 97),
            (
                "kev/known_exploited_vulnerabilities.csv",
                parse_kev_csv,
                4001,
            ),
            (
                "kev/known_exploited_vulnerabilities.json",
                parse_kev_json,
                9001,
            ),
            ("epss/epss-sample.csv", parse_epss_csv, 1),
        ];
        for (path, parse, step) in samples {
            let (origin, text) = real(path);
            for cut in (0..text.len())
                .filter(|&i| text.is_char_boundary(i))
                .step_by(step)
            {
                if let Err(error) = parse(&origin, &text[..cut]) {
                    assert_eq!(error.file, origin);
                }
            }
        }
    }
}
