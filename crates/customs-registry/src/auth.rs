//! Registry authentication: `WWW-Authenticate` challenges, credentials (given on the command
//! line or found in docker's config and credential helpers) and bearer-token responses.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use base64::Engine;

use crate::RegistryError;

/// A password or token. Its `Debug` and `Display` never show the value, so a credential cannot
/// leak into a log line or an error by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a password or token read from the user (stdin, a credential helper).
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a user authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or personal access token), sent as HTTP Basic to a registry
    /// that asks for it, or to the token realm in exchange for a bearer token.
    Basic {
        /// The user name, as given to `docker login` or `--username`; shown in messages when
        /// the registry refuses it.
        username: String,
        /// The password or access token.
        password: Secret,
    },
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged at the token realm.
    IdentityToken(Secret),
    /// A bearer token the registry's token service already issued (what Harbor hands its
    /// scanners): sent as it is to a registry that asks for a bearer token, never exchanged.
    Bearer(Secret),
}

impl Credential {
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Self::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()))
            )),
            Self::IdentityToken(_) | Self::Bearer(_) => None,
        }
    }

    /// The credential an HTTP `Authorization` header value carries: `Basic BASE64(USER:PASS)`
    /// or `Bearer TOKEN` (the scheme in any case); `None` for anything else.
    #[must_use]
    pub fn from_authorization(value: &str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        let rest = rest.trim();
        if rest.is_empty() {
            return None;
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(Self::Bearer(Secret::new(rest)));
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (username, password) = text.split_once(':')?;
        Some(Self::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        })
    }

    /// Who the credential names, for messages: the user, or the kind of token.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Basic { username, .. } => format!("the credentials of user {username:?}"),
            Self::IdentityToken(_) => "the identity token".to_owned(),
            Self::Bearer(_) => "the bearer token given".to_owned(),
        }
    }
}

/// Look up the credential docker would use for `auth_key` (`https://index.docker.io/v1/` for
/// Docker Hub, else `host[:port]`): `credHelpers`, then `auths`, then `credsStore`, from
/// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. `Ok(None)` when none is configured.
pub fn docker_config_credential(auth_key: &str) -> Result<Option<Credential>, RegistryError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    match docker_credential::get_credential(auth_key) {
        Ok(DockerCredential::UsernamePassword(username, password)) => Ok(Some(Credential::Basic {
            username,
            password: Secret::new(password),
        })),
        Ok(DockerCredential::IdentityToken(t)) => Ok(Some(Credential::IdentityToken(Secret(t)))),
        Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => Ok(None),
        // The helper's own output may hold the secret: name the helper, never echo it.
        Err(E::HelperFailure { helper, .. }) => Err(RegistryError::Credentials {
            registry: auth_key.to_owned(),
            why: format!("credential helper {helper} failed"),
        }),
        Err(E::HelperCommunicationError) => Err(RegistryError::Credentials {
            registry: auth_key.to_owned(),
            why: "could not run the configured docker-credential helper (is it on PATH?)"
                .to_owned(),
        }),
        Err(E::MalformedHelperResponse) => Err(RegistryError::Credentials {
            registry: auth_key.to_owned(),
            why: "the docker-credential helper's answer is not the expected JSON".to_owned(),
        }),
        Err(E::CredentialDecodingError) => Err(RegistryError::Credentials {
            registry: auth_key.to_owned(),
            why: "the `auth` entry in docker's config.json is not base64 of USER:PASSWORD"
                .to_owned(),
        }),
        Err(e) => Err(RegistryError::Credentials {
            registry: auth_key.to_owned(),
            why: e.to_string(),
        }),
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parse `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"` (RFC 7235 auth-params:
/// tokens or quoted strings with backslash escapes).
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let k0 = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[k0..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut value = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                // Quoted values are ASCII in practice; step by char to stay on boundaries.
                let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
                value.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
        } else {
            let v0 = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value = s[v0..i].trim().to_owned();
        }
        if !key.is_empty() {
            out.insert(key, value);
        }
    }
    out
}

/// A token endpoint's answer: `token` (Docker) or `access_token` (OAuth2), with a lifetime.
#[derive(Debug, serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// The token and how long it may be used. The distribution spec says a missing `expires_in`
/// means 60 seconds.
pub(crate) fn parse_token(body: &[u8], realm: &str) -> Result<(Secret, Duration), RegistryError> {
    let t: TokenResponse = serde_json::from_slice(body).map_err(|e| RegistryError::Protocol {
        target: realm.to_owned(),
        why: format!("token response is not the expected JSON: {e}"),
    })?;
    let token = t
        .token
        .filter(|t| !t.is_empty())
        .or(t.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| RegistryError::Protocol {
            target: realm.to_owned(),
            why: "token response has neither `token` nor `access_token`".to_owned(),
        })?;
    let life = Duration::from_secs(t.expires_in.unwrap_or(60).clamp(1, 24 * 3600));
    Ok((Secret(token), life))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="http://127.0.0.1:5004/token",service="local-registry",scope="repository:debian-app:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:5004/token".into(),
                service: Some("local-registry".into()),
                scope: Some("repository:debian-app:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="local-registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(r#"bearer realm=https://auth.example/token, scope="a:b:pull,push""#),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: None,
                scope: Some("a:b:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge(""), None);
        // Hostile input never panics.
        for s in [
            "Bearer realm=\"",
            "Bearer =,=\"\\",
            "Bearer realm=\"é\\",
            "Bearer ,,,",
        ] {
            let _ = parse_challenge(s);
        }
    }

    #[test]
    fn tokens() {
        let (t, life) = parse_token(br#"{"token":"abc","expires_in":300}"#, "r").unwrap();
        assert_eq!(t.expose(), "abc");
        assert_eq!(life, Duration::from_secs(300));
        let (t, life) = parse_token(br#"{"access_token":"x"}"#, "r").unwrap();
        assert_eq!(t.expose(), "x");
        assert_eq!(life, Duration::from_secs(60));
        assert!(parse_token(b"{}", "r").is_err());
        assert!(parse_token(b"<html>", "r").is_err());
    }

    #[test]
    fn authorization_headers() {
        assert_eq!(
            Credential::from_authorization("Basic c2Nhbm5lcjpzY2FubmVyLXBhc3M="),
            Some(Credential::Basic {
                username: "scanner".to_owned(),
                password: Secret::new("scanner-pass")
            })
        );
        assert_eq!(
            Credential::from_authorization("bearer abc.def"),
            Some(Credential::Bearer(Secret::new("abc.def")))
        );
        assert_eq!(Credential::from_authorization("Basic !!!"), None);
        assert_eq!(Credential::from_authorization("Basic bm9jb2xvbg=="), None);
        assert_eq!(Credential::from_authorization("Digest x"), None);
        assert_eq!(Credential::from_authorization("Bearer "), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Credential::Basic {
            username: "u".into(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(
            c.basic_header().unwrap(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("u:hunter2")
            )
        );
    }
}
