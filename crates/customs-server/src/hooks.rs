//! Scan on push: the CNCF distribution registry's notifications (`POST /hooks/registry`).
//!
//! The registry posts an envelope `{"events": [...]}` (`application/vnd.docker.distribution.
//! events.v1+json`, or `v2` from distribution 3). Each `push` of a manifest becomes a scan of
//! `HOST/REPOSITORY@DIGEST`, keyed by that digest: the registry delivers at least once and
//! may send the same push again, and a digest already queued or running is not queued twice.
//! Layer pushes, pulls and deletes are ignored. The notifications carry no signature, so the
//! endpoint requires the static token the registry's endpoint config sends
//! (`headers: {Authorization: [Bearer …]}`), compared in constant time.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ServerError;
use crate::state::{AppState, bearer};

/// Manifest media types a push of which is an image to scan.
const MANIFESTS: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

#[derive(Debug, Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: Target,
    #[serde(default)]
    request: Option<RequestInfo>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    tag: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RequestInfo {
    #[serde(default)]
    host: String,
}

/// What became of a notification's events.
#[derive(Debug, Default, Serialize)]
pub(crate) struct HookResult {
    /// Scan jobs queued, by id.
    queued: Vec<i64>,
    /// Pushes whose digest was already queued or running.
    duplicates: usize,
    /// Pushes of a digest stored already under the same tag.
    stored: usize,
    /// Events that are not manifest pushes, or that name no usable image.
    ignored: usize,
}

/// A manifest push to scan.
#[derive(Debug, PartialEq, Eq)]
struct Push {
    /// `HOST/REPOSITORY@DIGEST`: pulled by digest, the tag may have moved since.
    reference: String,
    /// The tag it was pushed under, recorded with the scan.
    tag: Option<String>,
    /// The manifest's digest: the job's key.
    digest: String,
    /// `HOST/REPOSITORY:TAG`, when a tag was pushed.
    tagged: Option<String>,
}

pub(crate) async fn registry(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<HookResult>), ServerError> {
    let Some(expected) = state.config().hook_token.clone() else {
        return Err(ServerError::NotFound(
            "scan on push is off (serve --hook-token)".to_owned(),
        ));
    };
    let given = bearer(&headers).unwrap_or_default();
    // Compare hashes, so the time taken does not depend on where the two differ.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) || given.is_empty() {
        return Err(ServerError::Unauthorized(
            "the registry hook needs its token".to_owned(),
        ));
    }
    let envelope: Envelope = serde_json::from_slice(&body)
        .map_err(|e| ServerError::Invalid(format!("the notification envelope: {e}")))?;
    let mut scans = Vec::new();
    let mut result = HookResult::default();
    for event in envelope.events {
        match image_of(&event) {
            Some(push) => scans.push(push),
            None => {
                result.ignored += 1;
                state.metrics().hook_event("ignored");
            }
        }
    }
    let attempts = state.config().max_attempts;
    let queued = state
        .pool()
        .run(move |store| {
            let mut out = Vec::new();
            for push in scans {
                // Stored already, with this tag pointing at it: nothing to learn from a
                // rescan (a rematch keeps its findings current).
                let stored = store.image(&push.digest)?.is_some()
                    && match &push.tagged {
                        None => true,
                        Some(tagged) => store
                            .image(tagged)?
                            .is_some_and(|i| i.summary.digest == push.digest),
                    };
                if stored {
                    out.push(None);
                    continue;
                }
                out.push(Some(customs_app::worker::enqueue_scan(
                    store,
                    &customs_app::worker::ScanJob {
                        reference: push.reference,
                        tag: push.tag,
                        authorization: None,
                        context: None,
                        also: Vec::new(),
                    },
                    Some(&push.digest),
                    attempts,
                )?));
            }
            Ok(out)
        })
        .await?;
    for q in queued {
        let Some(q) = q else {
            result.stored += 1;
            state.metrics().hook_event("stored");
            continue;
        };
        if q.created {
            result.queued.push(q.id);
            state.metrics().hook_event("queued");
        } else {
            result.duplicates += 1;
            state.metrics().hook_event("duplicate");
        }
    }
    tracing::info!(queued = ?result.queued, duplicates = result.duplicates, stored = result.stored, ignored = result.ignored, "registry notification");
    Ok((StatusCode::OK, Json(result)))
}

/// The image a push event names; `None` for any other event.
fn image_of(event: &Event) -> Option<Push> {
    let t = &event.target;
    if event.action != "push" || !MANIFESTS.contains(&t.media_type.as_str()) {
        return None;
    }
    let hex = t.digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if !valid_repository(&t.repository) {
        return None;
    }
    // The registry's address as the registry itself wrote it in the target's URL, else as
    // the pushing client named it.
    let host = host_of(&t.url)
        .or_else(|| event.request.as_ref().map(|r| r.host.clone()))
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })?;
    // No tag is a push by digest; a tag that is not one is not a push a registry made.
    let tag = t.tag.as_deref().filter(|tag| !tag.is_empty());
    if tag.is_some_and(|tag| {
        tag.len() > 128
            || !tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    }) {
        return None;
    }
    // Signatures, attestations and SBOMs pushed as tags are not images to scan.
    if tag.is_some_and(|tag| {
        tag.starts_with("sha256-") || [".sig", ".att", ".sbom"].iter().any(|s| tag.ends_with(s))
    }) {
        return None;
    }
    Some(Push {
        reference: format!("{host}/{}@{}", t.repository, t.digest),
        tag: tag.map(str::to_owned),
        digest: t.digest.clone(),
        tagged: tag.map(|tag| format!("{host}/{}:{tag}", t.repository)),
    })
}

/// The distribution spec's repository name: `/`-separated components of lower-case letters
/// and digits, joined inside a component by `.`, `_`, `__` or dashes.
fn valid_repository(name: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    name.len() <= 255
        && name.split('/').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && alnum(b[0])
                && alnum(b[b.len() - 1])
                && b.iter().all(|&x| alnum(x) || b"._-".contains(&x))
                && !c.contains("..")
        })
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(file: &str) -> Vec<Event> {
        let path = format!(
            "{}/data/api/registry-notifications/{file}",
            std::env::var("CUSTOMS_SHARED").unwrap_or_else(|_| "../../../shared".to_owned())
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str::<Envelope>(&text).unwrap().events
    }

    #[test]
    fn the_documented_push_yields_one_scan_and_the_pull_none() {
        let push = events("envelope-push-3-events.events-v2.json");
        let images: Vec<_> = push
            .iter()
            .filter_map(image_of)
            .map(|p| p.reference)
            .collect();
        // The manifest push; the two layer pushes are not images.
        assert_eq!(
            images,
            [
                "example.com/library/test@sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf"
            ]
        );
        // v1 events name a schema-1 manifest, which no registry serves any more.
        let v1 = events("envelope-push-3-events.events-v1.json");
        assert!(v1.iter().filter_map(image_of).next().is_none());
        let pull = events("envelope-pull-1-event.json");
        assert!(pull.iter().filter_map(image_of).next().is_none());
    }

    #[test]
    fn hostile_targets_are_ignored() {
        let event = |repo: &str, tag: Option<&str>, url: &str| Event {
            action: "push".to_owned(),
            target: Target {
                media_type: MANIFESTS[0].to_owned(),
                digest: format!("sha256:{}", "a".repeat(64)),
                repository: repo.to_owned(),
                url: url.to_owned(),
                tag: tag.map(str::to_owned),
            },
            request: None,
        };
        let url = "http://127.0.0.1:5000/v2/x/manifests/y";
        assert!(image_of(&event("app", Some("1"), url)).is_some());
        assert!(image_of(&event("../etc", None, url)).is_none());
        assert!(image_of(&event("app", Some("x y"), url)).is_none());
        assert!(image_of(&event("app", Some("sha256-abc.sig"), url)).is_none());
        assert!(image_of(&event("app", None, "http://a b/v2")).is_none());
        assert!(image_of(&event("app", None, "")).is_none());
        let push = image_of(&event("app", Some("1"), url)).unwrap();
        assert_eq!(
            push.reference,
            format!("127.0.0.1:5000/app@sha256:{}", "a".repeat(64))
        );
        assert_eq!(push.tag.as_deref(), Some("1"));
        assert_eq!(push.tagged.as_deref(), Some("127.0.0.1:5000/app:1"));
    }
}
