//! Notifications of a rematch's delta: `--notify webhook=URL` POSTs the JSON, signed with
//! HMAC-SHA256 (`X-Customs-Signature: sha256=HEX` over the exact body, as GitHub signs its
//! webhooks); `--notify exec=CMD` pipes it to a command. Every notification goes through the
//! store's outbox first, so one that cannot be delivered now is retried at the next run
//! instead of being lost.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use customs_store::Store;
use hmac::{KeyInit, Mac};

/// Header carrying the signature.
pub(crate) const SIGNATURE_HEADER: &str = "X-Customs-Signature";
const ATTEMPTS: u32 = 3;

#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct NotifyArgs {
    /// Where to send what changed: `webhook=URL` (POST, JSON, HMAC-signed) or `exec=CMD`
    /// (the JSON on its standard input). Repeatable.
    #[arg(long = "notify", value_name = "TARGET")]
    pub(crate) targets: Vec<String>,
    /// File holding the webhook's HMAC secret (else `CUSTOMS_WEBHOOK_SECRET`).
    #[arg(long, value_name = "FILE")]
    pub(crate) webhook_secret_file: Option<PathBuf>,
}

impl NotifyArgs {
    fn secret(&self) -> Result<Option<Vec<u8>>> {
        if let Some(f) = &self.webhook_secret_file {
            let s = std::fs::read(f).with_context(|| f.display().to_string())?;
            let s = s.trim_ascii().to_vec();
            if s.is_empty() {
                bail!("{}: the webhook secret is empty", f.display());
            }
            return Ok(Some(s));
        }
        Ok(std::env::var("CUSTOMS_WEBHOOK_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .map(String::into_bytes))
    }

    /// Check the targets before any work is done.
    pub(crate) fn validate(&self) -> Result<()> {
        for t in &self.targets {
            match t.split_once('=') {
                Some(("webhook", url))
                    if url.starts_with("http://") || url.starts_with("https://") => {}
                Some(("exec", cmd)) if !cmd.trim().is_empty() => {}
                _ => bail!("--notify {t:?}: expected webhook=URL or exec=COMMAND"),
            }
        }
        Ok(())
    }
}

/// `sha256=HEX` of HMAC-SHA256(secret, body).
pub(crate) fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Queue `payload` for every target, then deliver everything pending (earlier failures first).
/// Returns (delivered, still pending).
pub(crate) fn send(
    store: &mut dyn Store,
    args: &NotifyArgs,
    payload: Option<&serde_json::Value>,
    quiet: bool,
) -> Result<(usize, usize)> {
    if let Some(p) = payload {
        for t in &args.targets {
            store.enqueue(t, p)?;
        }
    }
    let secret = args.secret()?;
    let mut delivered = 0;
    let mut failed = 0;
    for entry in store.pending()? {
        let body = serde_json::to_vec(&entry.payload)?;
        match deliver(&entry.target, &body, secret.as_deref()) {
            Ok(()) => {
                store.mark_delivered(entry.id)?;
                delivered += 1;
            }
            Err(e) => {
                let why = format!("{e:#}");
                store.mark_failed(entry.id, &why)?;
                failed += 1;
                if !quiet {
                    writeln!(
                        std::io::stderr(),
                        "customs: notification {} to {} not delivered (attempt {}), kept for the next run: {why}",
                        entry.id,
                        entry.target,
                        entry.attempts + 1
                    )?;
                }
            }
        }
    }
    Ok((delivered, failed))
}

fn deliver(target: &str, body: &[u8], secret: Option<&[u8]>) -> Result<()> {
    match target.split_once('=') {
        Some(("webhook", url)) => webhook(url, body, secret),
        Some(("exec", cmd)) => exec(cmd, body),
        _ => bail!("unknown notification target {target:?}"),
    }
}

fn webhook(url: &str, body: &[u8], secret: Option<&[u8]>) -> Result<()> {
    let Some(secret) = secret else {
        bail!("no webhook secret: pass --webhook-secret-file or set CUSTOMS_WEBHOOK_SECRET");
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?;
    let signature = sign(secret, body);
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 << attempt));
        }
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, &signature)
            .body(body.to_vec())
            .send();
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.without_url().to_string(),
        }
    }
    bail!("POST {url}: {last} (after {ATTEMPTS} attempts)")
}

fn exec(cmd: &str, body: &[u8]) -> Result<()> {
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("running {cmd:?}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that exits without reading is its own business; its status decides.
        let _ = stdin.write_all(body);
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} exited with {status}");
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
}
