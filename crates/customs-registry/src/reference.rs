//! Image references, normalised the way docker does: `nginx` is
//! `docker.io/library/nginx:latest`, the first path component is a registry only when it looks
//! like a host (has a `.` or a `:`, or is `localhost`), and a digest pins the manifest.

use std::fmt;

use crate::RegistryError;

/// Docker Hub's name in references; its API lives at [`DOCKER_HUB_API`].
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's distribution API answers.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The key Docker Hub credentials are stored under in `~/.docker/config.json`.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

const MAX_NAME: usize = 255;
const MAX_TAG: usize = 128;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`, ...
    pub registry: String,
    /// `library/nginx`, `org/app`, ...
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:...` when pinned by digest.
    pub digest: Option<String>,
}

impl Reference {
    /// Parse a reference as docker does. Rejects what docker rejects: upper-case repository
    /// names, empty components, bad tags and digests.
    pub fn parse(input: &str) -> Result<Self, RegistryError> {
        let bad = |why: &str| RegistryError::BadReference {
            input: input.to_owned(),
            why: why.to_owned(),
        };
        if input.is_empty() {
            return Err(bad("empty"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => {
                check_digest(d).map_err(|why| bad(&why))?;
                (r, Some(d.to_owned()))
            }
            None => (input, None),
        };
        // A tag is after the last ':' that is not followed by a '/' (a port is).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            check_tag(t).map_err(|why| bad(&why))?;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), remainder.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        let registry = if registry == "index.docker.io" || registry == DOCKER_HUB_API {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        check_host(&registry).map_err(|why| bad(&why))?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        check_repository(&repository).map_err(|why| bad(&why))?;
        if registry.len() + 1 + repository.len() > MAX_NAME {
            return Err(bad("name longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, None) => Some("latest".to_owned()),
            (None, Some(_)) => None,
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// What the registry's manifest endpoint is asked for: the digest when pinned, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The host (and port) the distribution API answers at.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The key under which credentials for this registry are looked up.
    pub fn auth_key(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_AUTH_KEY
        } else {
            &self.registry
        }
    }

    /// Whether the registry is on this machine, which docker (and customs) lets speak plain
    /// HTTP without being told.
    pub fn is_loopback(&self) -> bool {
        customs_http::is_loopback_host(&self.registry)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn check_digest(d: &str) -> Result<(), String> {
    let (alg, hex) = d
        .split_once(':')
        .ok_or_else(|| format!("digest {d:?} is not ALGORITHM:HEX"))?;
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(format!("digest algorithm {alg:?} is not supported")),
    };
    if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!("digest {d:?} needs {len} lower-case hex digits"));
    }
    Ok(())
}

fn check_tag(t: &str) -> Result<(), String> {
    let ok = !t.is_empty()
        && t.len() <= MAX_TAG
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {t:?} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"
        ))
    }
}

/// `HOST[:PORT]`: DNS labels (letters, digits and inner `-`, separated by single dots) or a
/// bracketed IPv6 address, and a port of digits. `.` or `..` (a relative path typed where a
/// reference was read) is not a host.
fn check_host(h: &str) -> Result<(), String> {
    let refuse = || Err(format!("registry host {h:?} is not a host name"));
    let (host, port) = match h.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after)) => {
                let v6_ok = !v6.is_empty()
                    && v6.contains(':')
                    && v6
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
                if !v6_ok {
                    return refuse();
                }
                match after {
                    "" => (None, None),
                    p => match p.strip_prefix(':') {
                        Some(p) => (None, Some(p)),
                        None => return refuse(),
                    },
                }
            }
            None => return refuse(),
        },
        None => match h.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(h), None),
        },
    };
    if let Some(host) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || !host.split('.').all(label_ok) {
            return refuse();
        }
    }
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return refuse();
    }
    Ok(())
}

/// Each path component: lower-case alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn check_repository(r: &str) -> Result<(), String> {
    for comp in r.split('/') {
        let b = comp.as_bytes();
        let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let mut ok = !b.is_empty() && alnum(b[0]) && alnum(b[b.len() - 1]);
        let mut i = 0;
        while ok && i < b.len() {
            if alnum(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !alnum(b[i]) {
                i += 1;
            }
            let sep = &comp[start..i];
            ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        }
        if !ok {
            return Err(if comp.bytes().any(|c| c.is_ascii_uppercase()) {
                format!("repository name {r:?} must be lower case")
            } else {
                format!("repository name component {comp:?} is not valid")
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn docker_normalisation() {
        assert_eq!(norm("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(norm("bitnami/redis"), "docker.io/bitnami/redis:latest");
        assert_eq!(norm("docker.io/nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            norm("index.docker.io/library/nginx:1"),
            "docker.io/library/nginx:1"
        );
        assert_eq!(norm("localhost/app"), "localhost/app:latest");
        assert_eq!(
            norm("127.0.0.1:5000/debian-app:1"),
            "127.0.0.1:5000/debian-app:1"
        );
        assert_eq!(norm("localhost:5000/a/b/c"), "localhost:5000/a/b/c:latest");
        assert_eq!(norm("ghcr.io/org/app:v1.2_3"), "ghcr.io/org/app:v1.2_3");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/org/app@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.manifest_ref(), d);
        let r = Reference::parse(&format!("nginx:1.25@{d}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.25"));
        assert_eq!(r.manifest_ref(), d, "the digest wins over the tag");
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.auth_key(), "https://index.docker.io/v1/");
        assert_eq!(
            Reference::parse("127.0.0.1:5000/x").unwrap().auth_key(),
            "127.0.0.1:5000"
        );
        assert_eq!(
            norm("my-registry.io:8443/a__b/c-d"),
            "my-registry.io:8443/a__b/c-d:latest"
        );
    }

    #[test]
    fn rejects_what_docker_rejects() {
        for bad in [
            "",
            "Nginx",
            "docker.io/Library/nginx",
            "nginx:",
            "nginx:-x",
            "nginx@sha256:abc",
            "nginx@md5:0123",
            "a//b",
            "a/b/",
            "-a",
            "a..b",
            "a___b",
            &format!("nginx:{}", "x".repeat(129)),
            &format!("x.io/{}", "a".repeat(260)),
            // Relative paths typed where a reference was read: `.` is no host.
            "./x",
            "../x/y",
            ".../x",
            "a..b.io/x",
            "-x.io/y",
            "x.io:/y",
            "x.io:99999x/y",
            "[zz]:5000/y",
            "[::1/y",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn hosts_with_ports_and_ipv6() {
        for (input, registry) in [
            ("127.0.0.1:5000/app:1", "127.0.0.1:5000"),
            ("localhost/app", "localhost"),
            ("[::1]:5000/app", "[::1]:5000"),
            (
                "my-registry.example.com/team/app:v1",
                "my-registry.example.com",
            ),
        ] {
            assert_eq!(
                Reference::parse(input).unwrap().registry,
                registry,
                "{input}"
            );
        }
    }
}
