//! Whole requests with retries, for callers with no protocol of their own: a GET whose body
//! goes to a reader, to memory or to a file (the feeds), and a POST of a JSON body with extra
//! headers (the webhooks).

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use flate2::read::MultiGzDecoder;
use reqwest::StatusCode;
use reqwest::Url;
use reqwest::blocking::Response;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use serde::{Deserialize, Serialize};

use crate::error::redact;
use crate::retry::{Failure, retry_after};
use crate::transport::Miss;
use crate::{HttpError, RetryPolicy, Transport};

/// Bytes of an error answer's body read for [`HttpError::Status`]'s detail.
const DETAIL_BYTES: u64 = 2048;
const DETAIL_CHARS: usize = 200;

/// A POST that was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    /// The success status (2xx).
    pub status: u16,
    /// Requests made, the first included.
    pub attempts: u32,
}

/// What a server said identifies the version of a resource it sent: asked back on the next
/// request (`If-None-Match`, `If-Modified-Since`), it lets the server answer "not modified"
/// with no body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The `ETag` header, as sent.
    pub etag: Option<String>,
    /// The `Last-Modified` header, as sent.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether the server gave neither, so a request cannot be made conditional.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    fn of(resp: &Response) -> Self {
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        }
    }
}

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Conditional<T> {
    /// `304 Not Modified`: the copy the caller holds is current.
    NotModified,
    /// A new version, as `read` made of its body, with its validators.
    Fetched {
        /// What `read` returned.
        value: T,
        /// The new version's validators, for the next request.
        validators: Validators,
    },
}

impl Transport {
    /// GET `url` unless it is unchanged since the version `held` identifies: the request
    /// carries `If-None-Match` and `If-Modified-Since` from `held`, and a `304` answer is
    /// [`Conditional::NotModified`] with no body read. Otherwise as [`Transport::get_with`].
    ///
    /// # Errors
    /// As [`Transport::get_with`].
    pub fn get_if_changed<T>(
        &self,
        url: &str,
        held: &Validators,
        read: impl FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> Result<Conditional<T>, HttpError> {
        self.get_inner(url, Some(held), &[], read)
    }

    /// GET `url` and hand its body to `read`, retrying under the policy. A body that breaks
    /// off is a failed attempt: the next attempt starts over and `read` is called again, so
    /// it must start from scratch each time. An error `read` returns that did not come from
    /// the network (a write, a decompression) is final: [`HttpError::Body`].
    ///
    /// The request accepts gzip and the body is decompressed when the server used it as a
    /// transfer encoding (`Content-Encoding: gzip`); files that are gzip themselves arrive as
    /// they are.
    ///
    /// # Errors
    /// [`HttpError::BadUrl`], [`HttpError::Failed`], [`HttpError::Status`] for an answer
    /// other than 2xx, [`HttpError::Body`].
    pub fn get_with<T>(
        &self,
        url: &str,
        read: impl FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> Result<T, HttpError> {
        self.get_with_headers(url, &[], read)
    }

    /// [`Transport::get_with`], with more request headers.
    fn get_with_headers<T>(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        read: impl FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> Result<T, HttpError> {
        match self.get_inner(url, None, headers, read)? {
            Conditional::Fetched { value, .. } => Ok(value),
            // Only a conditional request is answered 304; judge() refuses it otherwise.
            Conditional::NotModified => Err(HttpError::Status {
                target: format!("GET {}", crate::redact_url(url)),
                status: 304,
                detail: "not modified, to a request that was not conditional".to_owned(),
                attempts: 1,
            }),
        }
    }

    fn get_inner<T>(
        &self,
        url: &str,
        held: Option<&Validators>,
        headers: &[(&str, &str)],
        mut read: impl FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> Result<Conditional<T>, HttpError> {
        let url = parse(url)?;
        let target = format!("GET {}", redact(&url));
        let client = self.client_for(&url)?;
        let (v, _) = self.with_retries(&target, |last| {
            let mut request = client.get(url.clone()).header(ACCEPT_ENCODING, "gzip");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(held) = held {
                if let Some(etag) = &held.etag {
                    request = request.header(IF_NONE_MATCH, etag);
                }
                if let Some(date) = &held.last_modified {
                    request = request.header(IF_MODIFIED_SINCE, date);
                }
            }
            let resp = request.send().map_err(|e| Miss::Failure(Failure::of(&e)))?;
            if held.is_some_and(|h| !h.is_empty()) && resp.status() == StatusCode::NOT_MODIFIED {
                return Ok(Conditional::NotModified);
            }
            let resp = judge(resp, last)?;
            let validators = Validators::of(&resp);
            let gzip = resp
                .headers()
                .get(CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
            let mut body = Watched {
                inner: resp,
                failed: None,
            };
            let got = if gzip {
                read(&mut MultiGzDecoder::new(&mut body))
            } else {
                read(&mut body)
            };
            got.map(|value| Conditional::Fetched { value, validators })
                .map_err(|e| body.miss(e, &target))
        })?;
        Ok(v)
    }

    /// [`Transport::get_bytes`] with one more request header (an API key; headers, unlike
    /// query strings, stay out of error messages).
    ///
    /// # Errors
    /// As [`Transport::get_bytes`].
    pub fn get_bytes_with_header(
        &self,
        url: &str,
        name: &str,
        value: &str,
        limit: u64,
    ) -> Result<Vec<u8>, HttpError> {
        self.bytes_with_headers(url, &[(name, value)], limit)
    }

    /// GET `url` into memory, at most `limit` bytes (after transfer decoding).
    ///
    /// # Errors
    /// As [`Transport::get_with`], and [`HttpError::TooLarge`].
    pub fn get_bytes(&self, url: &str, limit: u64) -> Result<Vec<u8>, HttpError> {
        self.bytes_with_headers(url, &[], limit)
    }

    fn bytes_with_headers(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        limit: u64,
    ) -> Result<Vec<u8>, HttpError> {
        let bytes = self.get_with_headers(url, headers, |body| {
            let mut buf = Vec::new();
            body.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
            Ok(buf)
        })?;
        if bytes.len() as u64 > limit {
            return Err(too_large(url, limit));
        }
        Ok(bytes)
    }

    /// GET `url` into the file `dest`, at most `limit` bytes (after transfer decoding). The
    /// file is written next to `dest` and renamed over it only when the download is
    /// complete, so a failed download leaves the previous file as it was. Returns the size.
    ///
    /// # Errors
    /// As [`Transport::get_with`], [`HttpError::TooLarge`], and [`HttpError::Local`] when the
    /// file cannot be written.
    pub fn get_to_file(&self, url: &str, dest: &Path, limit: u64) -> Result<u64, HttpError> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let local = |source: io::Error| HttpError::Local {
            path: dest.to_owned(),
            source,
        };
        let (tmp, n) = self.get_with(url, |body| {
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
            let n = io::copy(&mut body.take(limit.saturating_add(1)), tmp.as_file_mut())?;
            Ok((tmp, n))
        })?;
        if n > limit {
            return Err(too_large(url, limit));
        }
        let mut tmp = tmp;
        tmp.as_file_mut().flush().map_err(local)?;
        tmp.persist(dest).map_err(|e| local(e.error))?;
        Ok(n)
    }

    /// POST `body` (JSON, sent as it is) to `url` with `Content-Type: application/json` and
    /// the extra `headers` (a signature, say), retrying under the same policy as a GET.
    /// Delivery is at least once: a POST whose answer was lost is sent again, so receivers
    /// should tolerate duplicates.
    ///
    /// # Errors
    /// [`HttpError::BadUrl`], [`HttpError::Failed`] (an invalid header among them, not
    /// retried), [`HttpError::Status`] for an answer other than 2xx.
    pub fn post_json(
        &self,
        url: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Posted, HttpError> {
        let url = parse(url)?;
        let target = format!("POST {}", redact(&url));
        let client = self.client_for(&url)?;
        let (status, attempts) = self.with_retries(&target, |last| {
            let mut rb = client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
            for (name, value) in headers {
                rb = rb.header(*name, *value);
            }
            let resp = rb.send().map_err(|e| Miss::Failure(Failure::of(&e)))?;
            let resp = judge(resp, last)?;
            let status = resp.status().as_u16();
            // Read the (small) answer so the connection can be reused.
            let _ = io::copy(&mut resp.take(DETAIL_BYTES), &mut io::sink());
            Ok(status)
        })?;
        Ok(Posted { status, attempts })
    }
}

impl Transport {
    /// POST `body` (JSON) to `url` and return the answer's body, at most `limit` bytes: for
    /// a service whose answer is the point (a certificate, a log entry). Retried under the
    /// same policy as a GET, so delivery is at least once.
    ///
    /// # Errors
    /// As [`Self::post_json`]; [`HttpError::TooLarge`] for a longer answer.
    pub fn post_json_for(&self, url: &str, body: &[u8], limit: u64) -> Result<Vec<u8>, HttpError> {
        let url = parse(url)?;
        let target = format!("POST {}", redact(&url));
        let client = self.client_for(&url)?;
        let (bytes, _) = self.with_retries(&target, |last| {
            let resp = client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header("accept", "application/json")
                .body(body.to_vec())
                .send()
                .map_err(|e| Miss::Failure(Failure::of(&e)))?;
            let resp = judge(resp, last)?;
            let mut body = Watched {
                inner: resp,
                failed: None,
            };
            let mut out = Vec::new();
            (&mut body)
                .take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| body.miss(e, &target))?;
            Ok(out)
        })?;
        if bytes.len() as u64 > limit {
            return Err(HttpError::TooLarge { target, limit });
        }
        Ok(bytes)
    }
}

fn parse(url: &str) -> Result<Url, HttpError> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        _ => Err(HttpError::BadUrl {
            url: crate::redact_url(url),
        }),
    }
}

fn too_large(url: &str, limit: u64) -> HttpError {
    HttpError::TooLarge {
        target: format!("GET {}", crate::redact_url(url)),
        limit,
    }
}

/// A success passes; a retryable status is retried (or, on the last attempt, reported with a
/// detail); any other status is final.
fn judge(resp: Response, last: bool) -> Result<Response, Miss> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retryable = RetryPolicy::retryable_response(status, resp.headers());
    let after = retry_after(resp.headers(), SystemTime::now());
    let detail = if retryable && !last {
        String::new()
    } else {
        detail(resp)
    };
    Err(Miss::Status {
        status: status.as_u16(),
        retryable,
        retry_after: after,
        detail,
    })
}

/// An excerpt of an error answer's body on one line, when it is text; markup pages (a
/// proxy's HTML) say nothing the status does not.
fn detail(resp: Response) -> String {
    let mut bytes = Vec::new();
    let _ = resp.take(DETAIL_BYTES).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.starts_with('<') {
        return String::new();
    }
    let one_line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    if one_line.chars().count() > DETAIL_CHARS {
        let cut: String = one_line.chars().take(DETAIL_CHARS).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// The network side of a body: remembers how a read failed, so that the caller's own errors
/// (writing, decompressing) can be told from a connection that broke.
struct Watched {
    inner: Response,
    failed: Option<Failure>,
}

impl Watched {
    /// What a failed read of the body means for the retry loop: the connection's failure
    /// when the read saw one (retried), else an error of the body itself (final).
    fn miss(&mut self, e: io::Error, target: &str) -> Miss {
        match self.failed.take() {
            Some(f) => Miss::Failure(f),
            None => Miss::Fatal(HttpError::Body {
                target: target.to_owned(),
                source: e,
            }),
        }
    }
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed = Some(Failure::of_read(e));
            }
        })
    }
}
