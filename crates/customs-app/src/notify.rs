//! Telling others what a rematch changed. Every notification goes through the store's outbox
//! first, so one that cannot be delivered now is retried at the next run instead of being lost.
//!
//! - `webhook=URL`: POST the JSON, signed with HMAC-SHA256 (`X-Customs-Signature:
//!   sha256=HEX` over the exact body, as GitHub signs its webhooks).
//! - `exec=CMD`: run `sh -c CMD` with the JSON on its standard input.

use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};
use std::str::FromStr;

use customs_http::Transport;
use customs_store::Store;
use hmac::{KeyInit, Mac};
use serde::Serialize;

use crate::{AppError, Result};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Customs-Signature";

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// POST to this `http://` or `https://` URL.
    Webhook(String),
    /// Pipe to this shell command.
    Exec(String),
}

impl FromStr for Target {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self> {
        match s.split_once('=') {
            Some(("webhook", url)) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Self::Webhook(url.to_owned()))
            }
            Some(("exec", cmd)) if !cmd.trim().is_empty() => Ok(Self::Exec(cmd.to_owned())),
            _ => Err(AppError::invalid(
                format!("--notify {s:?}"),
                "expected webhook=URL or exec=COMMAND",
            )),
        }
    }
}

impl fmt::Display for Target {
    /// As the outbox keeps it, and as `--notify` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Webhook(url) => write!(f, "webhook={url}"),
            Self::Exec(cmd) => write!(f, "exec={cmd}"),
        }
    }
}

/// Where to send, the webhook secret, and the transport webhooks go through (the one every
/// request of customs uses: `--ca-cert`, proxies, timeouts, the retry policy).
#[derive(Debug, Clone)]
pub struct Notifier {
    /// The targets.
    pub targets: Vec<Target>,
    /// The HMAC key webhooks are signed with; a webhook without one is not sent.
    pub secret: Option<Vec<u8>>,
    /// How webhooks are posted.
    pub http: Transport,
}

/// A notification that could not be delivered; it stays in the outbox for the next run.
#[derive(Debug, Clone, Serialize)]
pub struct Undelivered {
    /// Its outbox id.
    pub id: i64,
    /// Where it was going.
    pub target: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// Why it failed.
    pub error: String,
}

/// What a delivery round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Delivery {
    /// Notifications delivered, earlier ones included.
    pub delivered: usize,
    /// Those still pending.
    pub undelivered: Vec<Undelivered>,
}

/// `sha256=HEX` of HMAC-SHA256(secret, body).
#[must_use]
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Notifier {
    /// Queue `payload` (if any) for every target, then deliver everything pending, earlier
    /// failures first.
    ///
    /// # Errors
    /// The store's errors. A failed delivery is not an error: it is in
    /// [`Delivery::undelivered`] and stays queued.
    pub fn send(
        &self,
        store: &mut dyn Store,
        payload: Option<&serde_json::Value>,
    ) -> Result<Delivery> {
        if let Some(p) = payload {
            for t in &self.targets {
                store.enqueue(&t.to_string(), p)?;
            }
        }
        let mut out = Delivery::default();
        for entry in store.pending()? {
            let body = serde_json::to_vec(&entry.payload)
                .map_err(|e| AppError::invalid("notification payload", e.to_string()))?;
            let sent = entry
                .target
                .parse::<Target>()
                .and_then(|t| self.deliver(&t, &body));
            match sent {
                Ok(()) => {
                    store.mark_delivered(entry.id)?;
                    out.delivered += 1;
                }
                Err(e) => {
                    let error = e.to_string();
                    store.mark_failed(entry.id, &error)?;
                    out.undelivered.push(Undelivered {
                        id: entry.id,
                        target: entry.target,
                        attempts: entry.attempts + 1,
                        error,
                    });
                }
            }
        }
        Ok(out)
    }

    fn deliver(&self, target: &Target, body: &[u8]) -> Result<()> {
        match target {
            Target::Webhook(url) => webhook(&self.http, url, body, self.secret.as_deref()),
            Target::Exec(cmd) => exec(cmd, body),
        }
    }
}

fn webhook(http: &Transport, url: &str, body: &[u8], secret: Option<&[u8]>) -> Result<()> {
    let Some(secret) = secret else {
        return Err(AppError::invalid(
            format!("POST {}", customs_http::redact_url(url)),
            "no webhook secret: pass --webhook-secret-file or set CUSTOMS_WEBHOOK_SECRET",
        ));
    };
    let signature = sign(secret, body);
    http.post_json(url, body, &[(SIGNATURE_HEADER, &signature)])?;
    Ok(())
}

fn exec(cmd: &str, body: &[u8]) -> Result<()> {
    let failed = |why: String| AppError::invalid(format!("{cmd:?}"), why);
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("could not run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that exits without reading is its own business; its status decides.
        let _ = stdin.write_all(body);
    }
    let status = child.wait().map_err(|e| failed(e.to_string()))?;
    if !status.success() {
        return Err(failed(format!("exited with {status}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn targets() {
        assert_eq!(
            "webhook=https://x.example/h".parse::<Target>().unwrap(),
            Target::Webhook("https://x.example/h".into())
        );
        assert_eq!(
            "exec=cat > f".parse::<Target>().unwrap().to_string(),
            "exec=cat > f"
        );
        for bad in ["webhook=ftp://x", "exec= ", "mail=x@y", "webhook"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }
}
