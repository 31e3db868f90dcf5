//! The routes: `/api/v1` (described by the OpenAPI document generated from these handlers),
//! health, metrics, and the registry hook.

use std::time::Instant;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use customs_app::worker::{self, REMATCH};
use customs_store::{ImageSummary, Job, JobState, NewJob};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ServerError;
use crate::error::ErrorBody;
use crate::state::AppState;
use crate::tokens::Scope;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "customs",
        description = "Container image security lifecycle: scans, stored images, findings and their history, the job queue.",
        version = "1"
    ),
    modifiers(&Bearer),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_scan))
        .routes(routes!(get_scan))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(create_rematch, list_rematches))
        .routes(routes!(list_images))
        .routes(routes!(get_image))
        .routes(routes!(image_findings))
        .routes(routes!(image_history))
        .routes(routes!(diff))
        .routes(routes!(db_status))
        .routes(routes!(schedule))
}

/// The OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

/// Every route, with the limits, the metrics and the trace around them.
pub(crate) fn router(state: AppState) -> axum::Router {
    let (api, doc) = api_router().split_for_parts();
    let doc = serde_json::to_value(&doc).unwrap_or(Value::Null);
    let config = state.config();
    let (limit, timeout) = (config.body_limit, config.request_timeout);
    axum::Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move { Json(doc) }),
        )
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics))
        .route(
            "/hooks/registry",
            axum::routing::post(crate::hooks::registry),
        )
        .route(
            "/harbor/api/v1/metadata",
            axum::routing::get(crate::harbor::metadata),
        )
        .route(
            "/harbor/api/v1/scan",
            axum::routing::post(crate::harbor::scan),
        )
        .route(
            "/harbor/api/v1/scan/{id}/report",
            axum::routing::get(crate::harbor::report),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn not_found() -> ServerError {
    ServerError::NotFound("no such endpoint".to_owned())
}

/// Count and time every request, and log it.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics().request(&method, &route, status, took);
    tracing::info!(
        method,
        route,
        status,
        took_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers and the vulnerability database is there and not empty: a
/// service that would scan against no data must not take traffic.
async fn readyz(State(state): State<AppState>) -> Response {
    let db = state.config().db.clone();
    let checked = state
        .pool()
        .run(move |store| {
            let mut problems = Vec::new();
            if let Err(e) = store.schema_version() {
                problems.push(format!("store: {e}"));
            }
            if let Err(e) = open_db(&db) {
                problems.push(format!("vulnerability database: {e}"));
            }
            Ok(problems)
        })
        .await;
    match checked {
        Ok(p) if p.is_empty() => (StatusCode::OK, "ready\n").into_response(),
        Ok(p) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{}\n", p.join("\n")),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

/// The database named by the settings, opened as it is: the service never builds one.
fn open_db(db: &customs_app::database::DbLocation) -> Result<customs_vulndb::VulnDb, ServerError> {
    let path = db.path()?;
    if !path.is_file() {
        return Err(customs_app::AppError::NoDatabase(path).into());
    }
    let vulndb = customs_vulndb::VulnDb::open(&path).map_err(customs_app::AppError::from)?;
    if vulndb.is_empty() {
        return Err(customs_app::AppError::EmptyDatabase(path).into());
    }
    Ok(vulndb)
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ServerError> {
    let counts = state.pool().run(|store| Ok(store.queue_counts()?)).await?;
    let body = state.metrics().render(counts);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// A job, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobView {
    /// Its id.
    id: i64,
    /// `scan` or `rematch`.
    kind: String,
    /// What de-duplicates it: the digest or reference of a scan.
    key: String,
    /// Its arguments.
    #[schema(value_type = Object)]
    payload: Value,
    /// `queued`, `running`, `done` or `dead` (failed every attempt: the dead letter).
    #[schema(value_type = String)]
    state: JobState,
    /// Times a worker has taken it.
    attempts: u32,
    /// Times it may be taken before it is dead.
    max_attempts: u32,
    /// When it may next run.
    run_at: String,
    /// While running: when its worker's lease ends.
    lease_until: Option<String>,
    /// The worker that holds it or last held it.
    worker: Option<String>,
    /// The last failure.
    last_error: Option<String>,
    /// What it produced, once done (a scan: digest, repository, tag, packages, findings).
    #[schema(value_type = Option<Object>)]
    result: Option<Value>,
    /// When it was queued.
    created_at: String,
    /// When it was done or declared dead.
    finished_at: Option<String>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            key: j.key,
            payload: worker::redact(&j.payload),
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at.to_string(),
            lease_until: j.lease_until.map(|t| t.to_string()),
            worker: j.worker,
            last_error: j.last_error,
            result: j.result,
            created_at: j.created_at.to_string(),
            finished_at: j.finished_at.map(|t| t.to_string()),
        }
    }
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobPage {
    /// The jobs.
    items: Vec<JobView>,
    /// The `before` of the next page; absent on the last.
    next: Option<i64>,
}

/// A request to scan an image.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ScanRequest {
    /// An image reference in a registry: `reg.lan/app:1` or `reg.lan/app@sha256:…`.
    reference: String,
}

/// A queued job.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Queued {
    /// The job's id.
    id: i64,
    /// `false` when the same job was queued or running already (this is its id).
    created: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct JobQuery {
    /// Only jobs in this state: queued, running, done or dead.
    state: Option<String>,
    /// Only jobs with ids below this (the `next` of the previous page).
    before: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    limit: Option<u32>,
}

fn page_limit(limit: Option<u32>) -> Result<u32, ServerError> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=1000) => Ok(n),
        Some(n) => Err(ServerError::Invalid(format!("limit {n}: give 1 to 1000"))),
    }
}

async fn job_page(
    state: &AppState,
    query: JobQuery,
    kind: Option<&'static str>,
) -> Result<JobPage, ServerError> {
    let wanted = query
        .state
        .as_deref()
        .map(|s| s.parse::<JobState>().map_err(ServerError::Invalid))
        .transpose()?;
    let limit = page_limit(query.limit)?;
    let before = query.before;
    let jobs = state
        .pool()
        .run(move |store| {
            // A kind filter reads pages of all jobs until one is full.
            let mut out = Vec::new();
            let mut cursor = before;
            loop {
                let page = store.jobs(wanted, cursor, limit)?;
                let last = page.last().map(|j| j.id);
                let full = page.len() == limit as usize;
                out.extend(
                    page.into_iter()
                        .filter(|j| kind.is_none_or(|k| j.kind == k)),
                );
                if out.len() >= limit as usize || !full {
                    break;
                }
                cursor = last;
            }
            out.truncate(limit as usize);
            Ok(out)
        })
        .await?;
    let next = (jobs.len() == limit as usize)
        .then(|| jobs.last().map(|j| j.id))
        .flatten();
    Ok(JobPage {
        items: jobs.into_iter().map(JobView::from).collect(),
        next,
    })
}

/// Queue a scan of an image in a registry. The same image queued twice while the first is
/// queued or running is one job.
#[utoipa::path(post, path = "/api/v1/scans", request_body = ScanRequest,
    responses(
        (status = 202, description = "Queued (or already queued)", body = Queued),
        (status = 400, description = "Not a registry reference", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "A token without the scan scope", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody)
    ),
    security(("bearer" = [])))]
async fn create_scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Queued>), ServerError> {
    state.authorize(&headers, Scope::Scan).await?;
    let request: ScanRequest = serde_json::from_slice(&body)
        .map_err(|e| ServerError::Invalid(format!("the request body: {e}")))?;
    let attempts = state.config().max_attempts;
    let queued = state
        .pool()
        .run(move |store| {
            Ok(worker::enqueue_scan(
                store,
                &worker::ScanJob {
                    reference: request.reference,
                    tag: None,
                    authorization: None,
                    context: None,
                    also: Vec::new(),
                },
                None,
                attempts,
            )?)
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            id: queued.id,
            created: queued.created,
        }),
    ))
}

async fn one_job(state: &AppState, id: i64, kind: Option<&str>) -> Result<JobView, ServerError> {
    let job = state.pool().run(move |store| Ok(store.job(id)?)).await?;
    match job {
        Some(j) if kind.is_none_or(|k| j.kind == k) => Ok(j.into()),
        _ => Err(ServerError::NotFound(format!("no job {id}"))),
    }
}

/// A scan job: queued, running, done (with its result) or dead.
#[utoipa::path(get, path = "/api/v1/scans/{id}", params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, body = JobView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<JobView>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Path(id) = id.map_err(rejected)?;
    Ok(Json(one_job(&state, id, Some(worker::SCAN)).await?))
}

/// The job queue, newest first: dead letters with `state=dead`.
#[utoipa::path(get, path = "/api/v1/jobs", params(JobQuery),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_jobs(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<JobQuery>, QueryRejection>,
) -> Result<Json<JobPage>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Query(query) = query.map_err(rejected)?;
    Ok(Json(job_page(&state, query, None).await?))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, body = JobView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<JobView>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Path(id) = id.map_err(rejected)?;
    Ok(Json(one_job(&state, id, None).await?))
}

/// Queue a rematch of every stored image against the current database.
#[utoipa::path(post, path = "/api/v1/rematches",
    responses((status = 202, body = Queued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_rematch(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Queued>), ServerError> {
    state.authorize(&headers, Scope::Admin).await?;
    let attempts = state.config().max_attempts;
    let queued = state
        .pool()
        .run(move |store| {
            Ok(store.enqueue_job(&NewJob {
                kind: REMATCH,
                key: "all",
                payload: &Value::Object(serde_json::Map::new()),
                max_attempts: attempts,
            })?)
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            id: queued.id,
            created: queued.created,
        }),
    ))
}

/// Rematch runs, newest first.
#[utoipa::path(get, path = "/api/v1/rematches", params(JobQuery),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_rematches(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<JobQuery>, QueryRejection>,
) -> Result<Json<JobPage>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Query(query) = query.map_err(rejected)?;
    Ok(Json(job_page(&state, query, Some(REMATCH)).await?))
}

/// A stored image.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImageView {
    /// Its manifest digest.
    digest: String,
    /// The repository it was pulled from.
    repository: Option<String>,
    /// The tags that point at it now.
    tags: Vec<String>,
    /// When it was first scanned.
    first_scanned_at: String,
    /// When it was last scanned or re-matched.
    last_scanned_at: String,
    /// The database its findings come from.
    db_built_at: Option<String>,
    /// Open findings by severity.
    #[schema(value_type = Object)]
    open: Value,
}

impl From<ImageSummary> for ImageView {
    fn from(s: ImageSummary) -> Self {
        Self {
            digest: s.digest,
            repository: s.repository,
            tags: s.tags,
            first_scanned_at: s.first_scanned_at.to_string(),
            last_scanned_at: s.last_scanned_at.to_string(),
            db_built_at: s.db_built_at.map(|t| t.to_string()),
            open: serde_json::to_value(&s.open).unwrap_or(Value::Null),
        }
    }
}

/// A page of stored images, most recently scanned first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImagePage {
    /// The images.
    items: Vec<ImageView>,
    /// Every stored image.
    total: u64,
    /// The `offset` of the next page; absent on the last.
    next: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImageQuery {
    /// Skip this many (the `next` of the previous page).
    offset: Option<u64>,
    /// At most this many (1 to 1000, default 100).
    limit: Option<u32>,
}

/// Stored images, most recently scanned first.
#[utoipa::path(get, path = "/api/v1/images", params(ImageQuery),
    responses((status = 200, body = ImagePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_images(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ImageQuery>, QueryRejection>,
) -> Result<Json<ImagePage>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Query(query) = query.map_err(rejected)?;
    let limit = page_limit(query.limit)?;
    let offset = query.offset.unwrap_or(0);
    let (total, images) = state
        .pool()
        .run(move |store| Ok(store.images_page(offset, limit)?))
        .await?;
    let next = offset.saturating_add(images.len() as u64);
    Ok(Json(ImagePage {
        next: (next < total && !images.is_empty()).then_some(next),
        total,
        items: images.into_iter().map(ImageView::from).collect(),
    }))
}

/// A stored image with its inventory and signature verdict.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImageDetailView {
    /// The image.
    #[serde(flatten)]
    image: ImageView,
    /// Its inventory (the `customs.inventory` document).
    #[schema(value_type = Object)]
    inventory: Value,
    /// Its signature verdict, when a scan checked one.
    #[schema(value_type = Option<Object>)]
    signature: Option<Value>,
}

async fn resolve(
    state: &AppState,
    reference: String,
) -> Result<customs_store::ImageDetail, ServerError> {
    state
        .pool()
        .run(move |store| {
            // A whole digest is one keyed read; anything else may look through every image.
            if is_digest(&reference) {
                return store
                    .image(&reference)?
                    .ok_or_else(|| ServerError::NotFound(format!("no stored image {reference}")));
            }
            Ok(customs_app::images::resolve(store, &reference)?)
        })
        .await
}

/// One stored image, by digest (`sha256:…`) or `REPOSITORY:TAG`.
#[utoipa::path(get, path = "/api/v1/images/{image}", params(("image" = String, Path, description = "A digest, or REPOSITORY:TAG")),
    responses((status = 200, body = ImageDetailView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_image(
    State(state): State<AppState>,
    headers: HeaderMap,
    image: Result<Path<String>, PathRejection>,
) -> Result<Json<ImageDetailView>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Path(image) = image.map_err(rejected)?;
    let detail = resolve(&state, image).await?;
    Ok(Json(ImageDetailView {
        image: detail.summary.into(),
        inventory: detail.inventory,
        signature: detail
            .signature
            .map(|s| serde_json::json!({"verdict": s.verdict, "checked_at": s.checked_at})),
    }))
}

/// A finding and its life in one image.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingView {
    /// The vulnerability id.
    id: String,
    /// The package.
    package_name: String,
    /// Its version.
    package_version: String,
    /// The severity.
    severity: String,
    /// When this image first had it.
    first_seen: String,
    /// When it was resolved; absent while open.
    resolved_at: Option<String>,
    /// Why it was resolved.
    resolved_reason: Option<String>,
    /// The finding as the scan reported it.
    #[schema(value_type = Object)]
    data: Value,
}

/// An image's findings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingList {
    /// The image's digest.
    digest: String,
    /// The findings.
    items: Vec<FindingView>,
}

async fn findings(
    state: &AppState,
    image: String,
    open_only: bool,
) -> Result<FindingList, ServerError> {
    let detail = resolve(state, image).await?;
    let digest = detail.summary.digest;
    let key = digest.clone();
    let history = state
        .pool()
        .run(move |store| Ok(store.history(&key)?))
        .await?;
    let items = history
        .into_iter()
        .filter(|f| !open_only || f.resolved_at.is_none())
        .map(|f| FindingView {
            id: f.id,
            package_name: f.package_name,
            package_version: f.package_version,
            severity: f.severity.to_string(),
            first_seen: f.first_seen.to_string(),
            resolved_at: f.resolved_at.map(|t| t.to_string()),
            resolved_reason: f
                .resolved_reason
                .and_then(|r| serde_json::to_value(r).ok())
                .and_then(|v| v.as_str().map(str::to_owned)),
            data: f.data,
        })
        .collect();
    Ok(FindingList { digest, items })
}

/// An image's open findings.
#[utoipa::path(get, path = "/api/v1/images/{image}/findings", params(("image" = String, Path, description = "A digest, or REPOSITORY:TAG")),
    responses((status = 200, body = FindingList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn image_findings(
    State(state): State<AppState>,
    headers: HeaderMap,
    image: Result<Path<String>, PathRejection>,
) -> Result<Json<FindingList>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Path(image) = image.map_err(rejected)?;
    Ok(Json(findings(&state, image, true).await?))
}

/// Every finding the image has had: first seen, resolved when and why.
#[utoipa::path(get, path = "/api/v1/images/{image}/history", params(("image" = String, Path, description = "A digest, or REPOSITORY:TAG")),
    responses((status = 200, body = FindingList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn image_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    image: Result<Path<String>, PathRejection>,
) -> Result<Json<FindingList>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Path(image) = image.map_err(rejected)?;
    Ok(Json(findings(&state, image, false).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffQuery {
    /// The older image: a digest or REPOSITORY:TAG.
    from: String,
    /// The newer image.
    to: String,
}

/// Two stored images compared: packages and findings added, removed and changed.
#[utoipa::path(get, path = "/api/v1/diff", params(DiffQuery),
    responses((status = 200, description = "The comparison", body = Object), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn diff(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Json<Value>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let Query(query) = query.map_err(rejected)?;
    let diff = state
        .pool()
        .run(move |store| {
            let d = customs_app::images::diff(store, &query.from, &query.to)?;
            serde_json::to_value(d).map_err(|e| ServerError::Internal(e.to_string()))
        })
        .await?;
    Ok(Json(diff))
}

/// The vulnerability database's status.
#[utoipa::path(get, path = "/api/v1/db",
    responses((status = 200, description = "Path, schema, build time, advisories per feed", body = Object), (status = 503, description = "No database, or an empty one", body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn db_status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let db = state.config().db.clone();
    let info = state
        .pool()
        .run(move |_| {
            let vulndb = open_db(&db)?;
            let info = vulndb.info().map_err(customs_app::AppError::from)?;
            serde_json::to_value(info).map_err(|e| ServerError::Internal(e.to_string()))
        })
        .await?;
    Ok(Json(info))
}

/// The scheduled rematch.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScheduleView {
    /// Seconds between rematches; absent when only requests queue them.
    interval_seconds: Option<u64>,
    /// The job of the last scheduled rematch.
    last_job: Option<i64>,
    /// When it was queued.
    last_run_at: Option<String>,
    /// When the next will be queued.
    next_run_at: Option<String>,
    /// Why the last attempt to queue one failed.
    error: Option<String>,
}

/// The scheduled rematch (with the database update and notifications before and after it):
/// its interval, the last run and the next.
#[utoipa::path(get, path = "/api/v1/schedule",
    responses((status = 200, body = ScheduleView), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ScheduleView>, ServerError> {
    state.authorize(&headers, Scope::Read).await?;
    let s = state.schedule();
    Ok(Json(ScheduleView {
        interval_seconds: s.every.map(|d| d.as_secs()),
        last_job: s.last.map(|(id, _)| id),
        last_run_at: s.last.map(|(_, at)| at.to_string()),
        next_run_at: s.next.map(|t| t.to_string()),
        error: s.error,
    }))
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A request axum could not parse (query string, path), answered like every other error.
fn rejected(e: impl std::fmt::Display) -> ServerError {
    ServerError::Invalid(e.to_string())
}
