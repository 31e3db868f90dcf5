//! Harbor's Pluggable Scanner API v1.2 (`/harbor/api/v1`): customs as Harbor's vulnerability
//! scanner and SBOM generator.
//!
//! Harbor registers a scanner by URL and credentials (here: a customs API token with the
//! `scan` scope, as `Bearer`), reads its capabilities (`GET /metadata`), asks for a scan of
//! an artifact with a registry URL and an `Authorization` header to pull it with
//! (`POST /scan` → 202 and an id), and polls `GET /scan/{id}/report` until it answers 200
//! (the report) or 500 (the scan failed); meanwhile 302 with `Refresh-After`. One scan serves
//! both capabilities: the vulnerability report and the SBOM report (SPDX or CycloneDX, as
//! `?sbom_media_type=` asks) are both written from what the scan stored. The scan is a
//! job like any other, run by the workers with the credential Harbor sent (kept in the job
//! until it ends, hidden from the API's job listings).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use customs_app::worker::{self, SCAN};
use customs_store::JobState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ServerError;
use crate::state::AppState;
use crate::tokens::Scope;

const METADATA: &str = "application/vnd.scanner.adapter.metadata+json; version=1.1";
const SCAN_RESPONSE: &str = "application/vnd.scanner.adapter.scan.response+json; version=1.0";
const ERROR: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
const REPORT_1_1: &str = "application/vnd.security.vulnerability.report; version=1.1";
const REPORT_1_0: &str = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
const SBOM_REPORT: &str = "application/vnd.security.sbom.report+json; version=1.0";
const SPDX: &str = "application/spdx+json";
const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
const CONSUMES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
/// Seconds Harbor is told to wait before polling a report again.
const REFRESH_AFTER: &str = "5";

/// An answer in Harbor's error format.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({"error": {"message": message.into()}}).to_string();
    (status, [(header::CONTENT_TYPE, ERROR)], body).into_response()
}

/// The service's own errors (a missing token, the store), in Harbor's error format.
fn harbor_error(e: &ServerError) -> Response {
    let response = e.to_string();
    let status = match e {
        ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServerError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServerError::Invalid(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut r = error(status, response);
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"customs\""),
        );
    }
    r
}

/// customs as Harbor names a scanner, in the metadata and in every report.
fn scanner() -> Value {
    json!({
        "name": "customs",
        "vendor": "customs",
        "version": env!("CARGO_PKG_VERSION"),
    })
}

fn json_with(status: StatusCode, content_type: &'static str, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

pub(crate) async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = state.authorize(&headers, Scope::Read).await {
        return harbor_error(&e);
    }
    let db = state.config().db.clone();
    let built = state
        .pool()
        .run(move |_| {
            let path = db.path()?;
            let vulndb =
                customs_vulndb::VulnDb::open(&path).map_err(customs_app::AppError::from)?;
            Ok(vulndb.meta().map_err(customs_app::AppError::from)?.built_at)
        })
        .await
        .ok()
        .flatten();
    let mut properties = json!({
        "harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
    });
    if let Some(t) = built {
        properties["harbor.scanner-adapter/vulnerability-database-updated-at"] =
            json!(t.to_string());
    }
    json_with(
        StatusCode::OK,
        METADATA,
        &json!({
            "scanner": scanner(),
            "capabilities": [{
                "type": "vulnerability",
                "consumes_mime_types": CONSUMES,
                "produces_mime_types": [REPORT_1_1, REPORT_1_0],
            }, {
                "type": "sbom",
                "consumes_mime_types": CONSUMES,
                "produces_mime_types": [SBOM_REPORT],
                "additional_attributes": {"sbom_media_types": [SPDX, CYCLONEDX]},
            }],
            "properties": properties,
        }),
    )
}

#[derive(Debug, Deserialize)]
struct ScanRequest {
    registry: Registry,
    artifact: Artifact,
    #[serde(default)]
    enabled_capabilities: Option<Vec<Capability>>,
}

#[derive(Debug, Deserialize)]
struct Registry {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    authorization: Option<String>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct Artifact {
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mime_type: Option<String>,
}

/// The capabilities a scan request may enable.
const CAPABILITIES: [&str; 2] = ["vulnerability", "sbom"];

#[derive(Debug, Deserialize)]
struct Capability {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The registry's host (and port) from Harbor's registry URL.
fn registry_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.trim_end_matches('/');
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    valid.then_some(host)
}

pub(crate) async fn scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = state.authorize(&headers, Scope::Scan).await {
        return harbor_error(&e);
    }
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the scan request: {e}")),
    };
    if let Some(caps) = &request.enabled_capabilities
        && !caps.is_empty()
        && !caps
            .iter()
            .any(|c| c.kind.as_deref().is_none_or(|k| CAPABILITIES.contains(&k)))
    {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "customs reports vulnerabilities and SBOMs; no other capability is enabled here",
        );
    }
    if let Some(m) = &request.artifact.mime_type
        && !CONSUMES.contains(&m.as_str())
    {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            format!("customs scans image manifests, not {m}"),
        );
    }
    let Some(host) = request.registry.url.as_deref().and_then(registry_host) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "registry.url: give the registry's base URL, http(s)://HOST[:PORT]",
        );
    };
    let (Some(repository), Some(digest)) = (&request.artifact.repository, &request.artifact.digest)
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "artifact.repository and artifact.digest are required",
        );
    };
    let job = worker::ScanJob {
        reference: format!("{host}/{repository}@{digest}"),
        tag: request.artifact.tag.clone(),
        authorization: request.registry.authorization.clone(),
        context: serde_json::to_value(&request.artifact).ok(),
        also: Vec::new(),
    };
    let attempts = state.config().max_attempts;
    let key = format!("harbor:{host}/{repository}@{digest}");
    let queued = state
        .pool()
        .run(move |store| Ok(worker::enqueue_scan(store, &job, Some(&key), attempts)?))
        .await;
    match queued {
        Ok(q) => json_with(
            StatusCode::ACCEPTED,
            SCAN_RESPONSE,
            &json!({"id": q.id.to_string()}),
        ),
        Err(ServerError::App(customs_app::AppError::Invalid { what, why })) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, format!("{what}: {why}"))
        }
        Err(e) => harbor_error(&e),
    }
}

/// What a report request asks for.
#[derive(Debug, Clone, Copy)]
enum Wanted {
    /// The vulnerability report, in this media type.
    Vulnerabilities(&'static str),
    /// The SBOM report, its document in this format (`application/spdx+json` or
    /// `application/vnd.cyclonedx+json`).
    Sbom(&'static str),
}

/// `?sbom_media_type=` of a report request: SPDX or CycloneDX. A client that leaves the `+`
/// of the media type unescaped sends a space, by the rules of form-encoded queries: both are
/// taken.
fn sbom_media_type(given: Option<&str>) -> Result<&'static str, String> {
    match given.map(|m| m.replace(' ', "+")).as_deref() {
        Some(SPDX) => Ok(SPDX),
        Some(CYCLONEDX) => Ok(CYCLONEDX),
        Some(other) => Err(format!(
            "sbom_media_type {other:?}: customs writes {SPDX} or {CYCLONEDX}"
        )),
        None => Err(format!(
            "an SBOM report needs ?sbom_media_type={SPDX} or {CYCLONEDX}"
        )),
    }
}

/// The query of a report request.
#[derive(Debug, Deserialize)]
pub(crate) struct ReportQuery {
    sbom_media_type: Option<String>,
}

pub(crate) async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Response {
    if let Err(e) = state.authorize(&headers, Scope::Read).await {
        return harbor_error(&e);
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(REPORT_1_1);
    let wanted = if accept.contains("vnd.security.sbom.report+json") {
        let given = match &query {
            Ok(Query(q)) => q.sbom_media_type.as_deref(),
            Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
        };
        match sbom_media_type(given) {
            Ok(m) => Wanted::Sbom(m),
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        }
    } else if accept.contains("vnd.scanner.adapter.vuln.report.harbor+json") {
        Wanted::Vulnerabilities(REPORT_1_0)
    } else if accept.contains("vnd.security.vulnerability.report") || accept.contains("*/*") {
        Wanted::Vulnerabilities(REPORT_1_1)
    } else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            format!("customs does not produce {accept}"),
        );
    };
    // The spec gives 404 no body.
    let not_found = || StatusCode::NOT_FOUND.into_response();
    let Ok(Path(id)) = id else { return not_found() };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let found = state
        .pool()
        .run(move |store| {
            let Some(job) = store.job(id)? else {
                return Ok(None);
            };
            if job.kind != SCAN || !job.key.starts_with("harbor:") {
                return Ok(None);
            }
            let report = match (&job.state, job.result.as_ref()) {
                (JobState::Done, Some(result)) => {
                    let digest = result["digest"].as_str().unwrap_or_default();
                    Some(match wanted {
                        Wanted::Vulnerabilities(_) => {
                            vulnerability_report(&job, &store.history(digest)?)
                        }
                        Wanted::Sbom(media_type) => sbom_report(store, &job, digest, media_type)?,
                    })
                }
                _ => None,
            };
            Ok(Some((job, report)))
        })
        .await;
    let (job, report) = match found {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(),
        Err(e) => return harbor_error(&e),
    };
    match (job.state, report) {
        (JobState::Done, Some(report)) => {
            let content_type = match wanted {
                Wanted::Vulnerabilities(t) => t,
                Wanted::Sbom(_) => SBOM_REPORT,
            };
            json_with(StatusCode::OK, content_type, &report)
        }
        (JobState::Dead, _) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "the scan failed: {}",
                job.last_error.as_deref().unwrap_or("no reason recorded")
            ),
        ),
        _ => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut()
                .insert("Refresh-After", HeaderValue::from_static(REFRESH_AFTER));
            r
        }
    }
}

fn harbor_severity(s: customs_store::Severity) -> &'static str {
    match s {
        customs_store::Severity::Unknown => "Unknown",
        customs_store::Severity::Negligible => "Negligible",
        customs_store::Severity::Low => "Low",
        customs_store::Severity::Medium => "Medium",
        customs_store::Severity::High => "High",
        customs_store::Severity::Critical => "Critical",
    }
}

/// Where a person reads more about `id`.
fn link(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else if id.starts_with("GHSA-") {
        format!("https://github.com/advisories/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

/// Harbor's SBOM report of the stored scan: the stored inventory written as `media_type`
/// (SPDX 2.3 or CycloneDX 1.6 JSON), dated by the scan, so every poll answers the same
/// document.
fn sbom_report(
    store: &mut dyn customs_store::Store,
    job: &customs_store::Job,
    digest: &str,
    media_type: &'static str,
) -> Result<Value, ServerError> {
    let format = if media_type == SPDX {
        customs_report::Format::SpdxJson
    } else {
        customs_report::Format::CycloneDx
    };
    let generated = job.finished_at.unwrap_or(job.created_at);
    let opts = customs_report::DocOptions {
        created: generated,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let (_, document) = customs_app::images::stored_sbom(store, digest, &format, &opts)?;
    let sbom: Value = serde_json::from_str(&document).map_err(|e| {
        ServerError::App(customs_app::AppError::Invalid {
            what: format!("the {media_type} document of {digest}"),
            why: e.to_string(),
        })
    })?;
    Ok(json!({
        "generated_at": generated.to_string(),
        "artifact": job.payload.get("context").cloned().unwrap_or(Value::Null),
        "scanner": scanner(),
        "media_type": media_type,
        "sbom": sbom,
    }))
}

/// Harbor's report from the stored scan: its open findings, suppressed ones left out.
fn vulnerability_report(
    job: &customs_store::Job,
    findings: &[customs_store::FindingHistory],
) -> Value {
    let open: Vec<&customs_store::FindingHistory> = findings
        .iter()
        .filter(|f| f.resolved_at.is_none())
        .filter(|f| f.data.get("suppressed").is_none_or(Value::is_null))
        .collect();
    let items: Vec<Value> = open
        .iter()
        .map(|f| {
            let d = &f.data;
            let mut item = json!({
                "id": f.id,
                "package": f.package_name,
                "version": f.package_version,
                "severity": harbor_severity(f.severity),
                "links": [link(&f.id)],
            });
            if let Some(fixed) = d["fixed_versions"].as_array().filter(|v| !v.is_empty()) {
                let list: Vec<&str> = fixed.iter().filter_map(Value::as_str).collect();
                item["fix_version"] = json!(list.join(", "));
            }
            if let Some(t) = d["title"].as_str() {
                item["description"] = json!(t);
            }
            if let Some(c) = d.get("cvss").filter(|c| c.is_object()) {
                let v3 = c["version"].as_str().is_some_and(|v| v.starts_with('3'));
                let mut cvss = serde_json::Map::new();
                let (score, vector) = if v3 {
                    ("score_v3", "vector_v3")
                } else {
                    ("score_v2", "vector_v2")
                };
                if let Some(s) = c["score"].as_f64() {
                    cvss.insert(score.to_owned(), json!(s));
                }
                if let Some(v) = c["vector"].as_str() {
                    cvss.insert(vector.to_owned(), json!(v));
                }
                item["preferred_cvss"] = Value::Object(cvss);
            }
            item["vendor_attributes"] = json!({
                "customs": {
                    "status": d["status"],
                    "data_source": d["data_source"],
                    "kev": d["kev"],
                    "epss": d["epss"],
                    "aliases": d["aliases"],
                }
            });
            item
        })
        .collect();
    let mut report = json!({
        "generated_at": job.finished_at.unwrap_or(job.created_at).to_string(),
        "artifact": job.payload.get("context").cloned().unwrap_or(Value::Null),
        "scanner": scanner(),
        "vulnerabilities": items,
    });
    if let Some(worst) = open.iter().map(|f| f.severity).max() {
        report["severity"] = json!(harbor_severity(worst));
    }
    report
}
