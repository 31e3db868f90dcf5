//! Confirmations that look inside a matched value (`decode = "…"` in a rule): a value a
//! regex matched is reported only when it decodes as the credential it looks like.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// Base64 with or without padding: `docker login` pads, hand-written files may not.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How a rule confirms its matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decode {
    /// `basic-auth`: base64 of `user:password`, with a password.
    BasicAuth,
    /// `docker-config`: the file is a Docker (or Podman) auth config; see [`DockerConfig`].
    DockerConfig,
    /// `jwt`: the header decodes to a JSON object with `alg`, the payload to an object.
    Jwt,
}

impl Decode {
    pub(super) fn parse(name: &str) -> Result<Self, String> {
        match name {
            "basic-auth" => Ok(Self::BasicAuth),
            "docker-config" => Ok(Self::DockerConfig),
            "jwt" => Ok(Self::Jwt),
            other => Err(format!(
                "decode {other:?}: the decoders are basic-auth, docker-config and jwt"
            )),
        }
    }
}

/// Whether `value` is base64 of `user:password` with a non-empty password.
pub(super) fn basic_auth(value: &[u8]) -> bool {
    STANDARD.decode(value.trim_ascii()).is_ok_and(|d| {
        d.iter()
            .position(|&b| b == b':')
            .is_some_and(|i| i + 1 < d.len())
    })
}

/// Whether `value` is `header.payload.signature` with JSON objects in the first two.
pub(super) fn jwt(value: &[u8]) -> bool {
    let mut parts = value.split(|&b| b == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let object = |part: &[u8]| {
        URL_SAFE
            .decode(part)
            .ok()
            .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
            .filter(Value::is_object)
    };
    object(header).is_some_and(|h| h.get("alg").is_some()) && object(payload).is_some()
}

/// A Docker `config.json` (or `.dockercfg`, or Podman's `auth.json`), read as JSON once per
/// file: the `auth` values of its registry entries that hold a password and their
/// `identitytoken`s are the secrets. A file that is not JSON falls back to judging each
/// matched value as [`basic_auth`].
pub(super) struct DockerConfig {
    secrets: Option<Vec<String>>,
}

impl DockerConfig {
    pub(super) fn read(bytes: &[u8]) -> Self {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            return Self { secrets: None };
        };
        // `{"auths": {registry: entry}}`, or the old `.dockercfg`'s `{registry: entry}`.
        let entries = match v.get("auths") {
            Some(Value::Object(auths)) => auths.values().collect::<Vec<_>>(),
            _ => v
                .as_object()
                .map(|o| o.values().collect())
                .unwrap_or_default(),
        };
        let mut secrets = Vec::new();
        for e in entries {
            if let Some(auth) = e.get("auth").and_then(Value::as_str)
                && basic_auth(auth.as_bytes())
            {
                secrets.push(auth.to_owned());
            }
            for key in ["identitytoken", "registrytoken"] {
                if let Some(t) = e.get(key).and_then(Value::as_str)
                    && !t.trim().is_empty()
                {
                    secrets.push(t.to_owned());
                }
            }
        }
        Self {
            secrets: Some(secrets),
        }
    }

    /// Whether a matched value (as written in the file, JSON escapes and all) is a secret.
    pub(super) fn confirms(&self, raw: &[u8]) -> bool {
        let Some(secrets) = &self.secrets else {
            return basic_auth(raw);
        };
        let value = if raw.contains(&b'\\') {
            let mut quoted = Vec::with_capacity(raw.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(raw);
            quoted.push(b'"');
            match serde_json::from_slice::<String>(&quoted) {
                Ok(s) => s,
                Err(_) => return false,
            }
        } else {
            match std::str::from_utf8(raw) {
                Ok(s) => s.to_owned(),
                Err(_) => return false,
            }
        };
        secrets.contains(&value)
    }
}
