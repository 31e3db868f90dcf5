//! Harbor's CVE allowlist (`GET /api/v2.0/system/CVEAllowlist`, or a project's
//! `cve_allowlist`) as exceptions: one per CVE, all with the allowlist's expiry, and the owner
//! and reason Harbor does not record.

use customs_types::Timestamp;
use serde::Deserialize;

use crate::PolicyError;

/// An allowlist is a list of ids; a megabyte is tens of thousands of them.
const MAX_FILE: u64 = 1 << 20;

#[derive(Deserialize)]
struct Allowlist {
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    creation_time: Option<String>,
    #[serde(default)]
    project_id: Option<i64>,
}

#[derive(Deserialize)]
struct Item {
    cve_id: Option<String>,
}

/// An exception, as written into a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewException {
    /// The vulnerability.
    pub vulnerability: String,
    /// Repository globs it is scoped to.
    pub repositories: Vec<String>,
    /// Why.
    pub reason: String,
    /// Who.
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub created: String,
    /// The last day it applies, `YYYY-MM-DD`; `None`: no end.
    pub expires: Option<String>,
}

/// What the owner and reason of imported exceptions are, and what scopes them.
#[derive(Debug, Clone)]
pub struct ImportOptions<'a> {
    /// Who accepts the risks (Harbor does not say).
    pub owner: &'a str,
    /// Why (Harbor does not say).
    pub reason: &'a str,
    /// Repository globs the exceptions are scoped to (a project's allowlist covers that
    /// project's repositories only); none: every repository.
    pub repositories: &'a [String],
    /// The creation date when the allowlist has no `creation_time`.
    pub now: Timestamp,
}

/// The exceptions a Harbor CVE allowlist file amounts to. Harbor's `expires_at` is an instant;
/// an exception applies through its last day, so that day is the one before the instant's
/// second ends (an allowlist expiring at midnight ends the day before).
///
/// # Errors
/// A [`PolicyError`] naming the file: not JSON, not an allowlist, an item without a CVE id.
pub fn import_allowlist(
    path: &std::path::Path,
    o: &ImportOptions<'_>,
) -> Result<Vec<NewException>, PolicyError> {
    let file = path.display().to_string();
    let text = PolicyError::read(path, MAX_FILE)?;
    let plain = |message: String| PolicyError {
        file: file.clone(),
        line: None,
        column: None,
        message,
    };
    let list: Allowlist = serde_json::from_str(&text).map_err(|e| PolicyError {
        file: file.clone(),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
        message: format!("not a Harbor CVE allowlist: {e}"),
    })?;
    if list.items.is_empty() {
        return Err(plain("the allowlist has no items".to_owned()));
    }
    let created = match &list.creation_time {
        Some(t) => Timestamp::parse_lenient(t)
            .map_err(|_| plain(format!("creation_time {t:?} is not a time")))?
            .date(),
        None => o.now.date(),
    };
    let expires = match list.expires_at {
        // Harbor writes 0 or nothing for "never".
        None | Some(0) => None,
        Some(secs) => {
            let end = Timestamp::from_unix_secs(secs.saturating_sub(1));
            Some(end.date().max(created.clone()))
        }
    };
    let mut reason = o.reason.to_owned();
    if let Some(p) = list.project_id.filter(|p| *p > 0) {
        reason.push_str(&format!(" (Harbor project {p}'s CVE allowlist)"));
    }
    let mut out: Vec<NewException> = Vec::new();
    for (n, item) in list.items.iter().enumerate() {
        let id = item
            .cve_id
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .ok_or_else(|| plain(format!("items[{n}] has no cve_id")))?;
        if out.iter().any(|e| e.vulnerability.eq_ignore_ascii_case(id)) {
            continue;
        }
        out.push(NewException {
            vulnerability: id.to_owned(),
            repositories: o.repositories.to_vec(),
            reason: reason.clone(),
            owner: o.owner.to_owned(),
            created: created.clone(),
            expires: expires.clone(),
        });
    }
    Ok(out)
}

/// The exceptions as the `exceptions:` list of a policy file.
#[must_use]
pub fn to_yaml(list: &[NewException]) -> String {
    // A JSON string is a YAML double-quoted scalar: every value is quoted safely.
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from("exceptions:\n");
    for e in list {
        out.push_str(&format!("  - vulnerability: {}\n", q(&e.vulnerability)));
        if !e.repositories.is_empty() {
            let globs: Vec<String> = e.repositories.iter().map(|r| q(r)).collect();
            out.push_str(&format!("    repositories: [{}]\n", globs.join(", ")));
        }
        out.push_str(&format!("    reason: {}\n", q(&e.reason)));
        out.push_str(&format!("    owner: {}\n", q(&e.owner)));
        out.push_str(&format!("    created: {}\n", e.created));
        if let Some(x) = &e.expires {
            out.push_str(&format!("    expires: {x}\n"));
        }
    }
    out
}
