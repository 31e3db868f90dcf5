//! The trust policy: which repositories must be signed, by whom, how many of them, and whether
//! an unsigned image is refused or only reported. It blends Notation's trust policy (scopes
//! per repository, levels) with sigstore policy-controller's `authorities` (keys and keyless
//! identities), in YAML:
//!
//! ```yaml
//! version: 1
//! policies:
//!   - name: production
//!     repositories: ["registry.example/prod/**"]   # `*` stays within a path segment, `**` crosses them
//!     mode: enforce                                   # or warn: reported, never refused;
//!                                                     # or skip: not verified (no authorities)
//!     required: 1                                     # how many distinct authorities must have signed
//!     signed-object: either                           # for an index: either, index or platform
//!     authorities:
//!       - name: release-key
//!         key: keys/release.pub                       # relative to this file
//!       - name: ci
//!         keyless:
//!           identity: https://github.com/org/app/.github/workflows/release.yml@refs/heads/main
//!           issuer: https://token.actions.githubusercontent.com
//!           # or identity-regexp / issuer-regexp (matched against the whole value)
//!           # trusted-root: roots/trusted_root.json  (default: the caller's, else production)
//! ```
//!
//! The first policy (in file order) with a repository glob matching `REGISTRY/REPOSITORY`
//! applies; a repository no policy names is refused with `no-policy`, not passed. Every
//! mistake in the file is an error naming its line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::bundle::{Pattern, Signer, TrustedRoot};

/// A policy file is a few kilobytes.
const MAX_FILE: u64 = 1 << 20;

/// What happens when a policy is not satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Refused (exit 1, and a failed verdict).
    #[default]
    Enforce,
    /// Reported as a warning; the verdict passes.
    Warn,
    /// Not verified at all (Notation's `skip` level): no signature is read, and the verdict
    /// says `skip`, never `pass`. The policy names no authorities.
    Skip,
}

/// For an image given as an index (several platforms), which signature counts: the index's
/// (what the tag names), the platform manifest's (what is scanned and run), or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignedObject {
    /// A signature on the index or on the platform's manifest.
    #[default]
    Either,
    /// Only a signature on the index.
    Index,
    /// Only a signature on the platform's manifest.
    Platform,
}

/// A trust policy file, read and checked.
#[derive(Debug)]
pub struct TrustPolicy {
    /// The file it came from.
    pub path: PathBuf,
    /// Its policies, in file order.
    pub policies: Vec<Policy>,
}

/// One policy: repositories, and who must have signed them.
#[derive(Debug)]
pub struct Policy {
    /// Its name (reports quote it).
    pub name: String,
    /// The repository globs it applies to.
    pub repositories: Vec<String>,
    globs: globset::GlobSet,
    /// Enforce or warn.
    pub mode: Mode,
    /// How many distinct authorities must have signed.
    pub required: usize,
    /// For an index: which object's signature counts.
    pub signed_object: SignedObject,
    /// Who may sign.
    pub authorities: Vec<Authority>,
}

/// A signer a policy trusts.
#[derive(Debug)]
pub struct Authority {
    /// Its name.
    pub name: String,
    /// Who it is.
    pub kind: AuthorityKind,
}

/// A Sigstore signer (key or identity) or a Notation trust store.
#[derive(Debug)]
pub enum AuthorityKind {
    /// A cosign key or keyless identity.
    Sigstore {
        /// The key or identity.
        signer: Signer,
        /// The trusted root for a keyless authority, when the policy names one.
        trusted_root: Option<TrustedRoot>,
    },
    /// Notation: signatures whose chain ends at this trust store, checked at this level.
    Notation {
        /// The trust store.
        store: crate::notation::TrustStore,
        /// Strict, permissive or audit.
        level: crate::notation::Level,
    },
}

/// A policy file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file.
    pub file: String,
    /// Where, when known (1-based).
    pub line: Option<u64>,
    /// Column (1-based).
    pub column: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    /// A YAML file's syntax or shape error, where serde-saphyr found it.
    #[must_use]
    pub fn from_yaml(e: &serde_saphyr::Error, file: &str) -> Self {
        let loc = e.location();
        Self {
            file: file.to_owned(),
            line: loc.map(|l| l.line()),
            column: loc.map(|l| l.column()),
            message: without_location(e.to_string().lines().next().unwrap_or_default()),
        }
    }

    /// The text of a policy file of at most `max` bytes; errors name the file.
    ///
    /// # Errors
    /// The file cannot be read, or is larger than `max`.
    pub fn read(path: &Path, max: u64) -> Result<String, Self> {
        let plain = |message: String| Self {
            file: path.display().to_string(),
            line: None,
            column: None,
            message,
        };
        let len = std::fs::metadata(path)
            .map_err(|e| plain(e.to_string()))?
            .len();
        if len > max {
            return Err(plain(format!(
                "{len} bytes; a policy file is at most {max}"
            )));
        }
        std::fs::read_to_string(path).map_err(|e| plain(e.to_string()))
    }

    /// A mistake at `loc` in `file`.
    #[must_use]
    pub fn at(file: &str, loc: &serde_saphyr::Location, message: String) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(loc.line()),
            column: Some(loc.column()),
            message,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    version: Spanned<u32>,
    policies: Vec<Spanned<PolicyDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDoc {
    name: String,
    repositories: Vec<Spanned<String>>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    required: Option<Spanned<usize>>,
    #[serde(default, rename = "signed-object")]
    signed_object: SignedObject,
    #[serde(default)]
    authorities: Vec<Spanned<AuthorityDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorityDoc {
    name: String,
    #[serde(default)]
    key: Option<Spanned<String>>,
    #[serde(default)]
    keyless: Option<Spanned<KeylessDoc>>,
    #[serde(default)]
    notation: Option<Spanned<NotationDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NotationDoc {
    trust_store: Spanned<String>,
    #[serde(default = "ca", rename = "type")]
    kind: crate::notation::StoreKind,
    #[serde(default)]
    level: crate::notation::Level,
}

fn ca() -> crate::notation::StoreKind {
    crate::notation::StoreKind::Ca
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct KeylessDoc {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    identity_regexp: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    issuer_regexp: Option<String>,
    #[serde(default)]
    trusted_root: Option<Spanned<String>>,
}

impl TrustPolicy {
    /// Reads and checks a policy file: its keys and trusted roots are read too, relative to
    /// the file's folder.
    ///
    /// # Errors
    /// A [`PolicyError`] with the line and column of the mistake.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let file = path.display().to_string();
        let text = PolicyError::read(path, MAX_FILE)?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Self::parse(&text, &file, base)
    }

    /// Parses policy text; `file` names it in errors, `base` is where relative paths start.
    ///
    /// # Errors
    /// A [`PolicyError`] with the line and column of the mistake.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Self, PolicyError> {
        let doc: FileDoc =
            serde_saphyr::from_str(text).map_err(|e| PolicyError::from_yaml(&e, file))?;
        let at =
            |loc: &serde_saphyr::Location, message: String| PolicyError::at(file, loc, message);
        if doc.version.value != 1 {
            return Err(at(
                &doc.version.referenced,
                format!("version {}: customs reads version 1", doc.version.value),
            ));
        }
        let mut policies = Vec::new();
        for p in doc.policies {
            let loc = p.referenced;
            let p = p.value;
            if p.repositories.is_empty() {
                return Err(at(
                    &loc,
                    format!("policy {:?} names no repositories", p.name),
                ));
            }
            let mut set = globset::GlobSetBuilder::new();
            for r in &p.repositories {
                let glob = globset::GlobBuilder::new(&r.value)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        at(&r.referenced, format!("repository glob {:?}: {e}", r.value))
                    })?;
                set.add(glob);
            }
            let globs = set
                .build()
                .map_err(|e| at(&loc, format!("policy {:?}: {e}", p.name)))?;
            if p.mode == Mode::Skip {
                // Notation's skip takes no trust stores: a policy that names signers and
                // checks none of them would read as if it did.
                if let Some(a) = p.authorities.first() {
                    return Err(at(
                        &a.referenced,
                        format!(
                            "policy {:?} has mode skip, which verifies nothing: it names no \
                             authorities",
                            p.name
                        ),
                    ));
                }
                if let Some(r) = &p.required {
                    return Err(at(
                        &r.referenced,
                        format!("policy {:?} has mode skip: required means nothing", p.name),
                    ));
                }
            } else if p.authorities.is_empty() {
                return Err(at(
                    &loc,
                    format!("policy {:?} names no authorities", p.name),
                ));
            }
            let required = match &p.required {
                None if p.mode == Mode::Skip => 0,
                None => 1,
                Some(r) if r.value >= 1 && r.value <= p.authorities.len() => r.value,
                Some(r) => {
                    return Err(at(
                        &r.referenced,
                        format!(
                            "required: {} but the policy has {} authorit{}",
                            r.value,
                            p.authorities.len(),
                            if p.authorities.len() == 1 { "y" } else { "ies" }
                        ),
                    ));
                }
            };
            let mut authorities = Vec::new();
            for a in p.authorities {
                authorities.push(authority(a, base, &at)?);
            }
            policies.push(Policy {
                name: p.name,
                repositories: p.repositories.into_iter().map(|r| r.value).collect(),
                globs,
                mode: p.mode,
                required,
                signed_object: p.signed_object,
                authorities,
            });
        }
        Ok(Self {
            path: PathBuf::from(file),
            policies,
        })
    }

    /// The policy for `repository` (`REGISTRY/REPO`): the first whose glob matches.
    #[must_use]
    pub fn for_repository(&self, repository: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.globs.is_match(repository))
    }
}

/// serde-saphyr's message without its own "error: line L column C: " (the error gives them).
fn without_location(message: &str) -> String {
    let m = message.strip_prefix("error: ").unwrap_or(message);
    match m.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((loc, rest)) if loc.contains(" column ") => rest.to_owned(),
        _ => m.to_owned(),
    }
}

fn authority(
    a: Spanned<AuthorityDoc>,
    base: &Path,
    at: &dyn Fn(&serde_saphyr::Location, String) -> PolicyError,
) -> Result<Authority, PolicyError> {
    let loc = a.referenced;
    let a = a.value;
    match (a.key, a.keyless, a.notation) {
        (None, None, Some(n)) => {
            let n = n.value;
            let store =
                crate::notation::TrustStore::from_dir(&base.join(&n.trust_store.value), n.kind)
                    .map_err(|e| at(&n.trust_store.referenced, e.detail))?;
            Ok(Authority {
                name: a.name,
                kind: AuthorityKind::Notation {
                    store,
                    level: n.level,
                },
            })
        }
        (Some(key), None, None) => {
            let path = base.join(&key.value);
            let signer = Signer::key_file(&path).map_err(|e| {
                at(
                    &key.referenced,
                    format!("key {:?}: {}", key.value, e.detail),
                )
            })?;
            if let Signer::Key { pem, origin } = &signer {
                crate::VerifyingKey::from_pem(pem, origin)
                    .map_err(|e| at(&key.referenced, e.to_string()))?;
            }
            Ok(Authority {
                name: a.name,
                kind: AuthorityKind::Sigstore {
                    signer,
                    trusted_root: None,
                },
            })
        }
        (None, Some(k), None) => {
            let kloc = k.referenced;
            let k = k.value;
            let pattern =
                |exact: Option<String>, regexp: Option<String>, what: &str| match (exact, regexp) {
                    (Some(e), None) => Ok(Pattern::Exact(e)),
                    (None, Some(r)) => Pattern::regex(&r)
                        .map_err(|e| at(&kloc, format!("{what}-regexp {}", e.detail))),
                    _ => Err(at(
                        &kloc,
                        format!(
                            "authority {:?}: give {what} or {what}-regexp, one of them",
                            a.name
                        ),
                    )),
                };
            let identity = pattern(k.identity, k.identity_regexp, "identity")?;
            let issuer = pattern(k.issuer, k.issuer_regexp, "issuer")?;
            let signer = match (identity, issuer) {
                (Pattern::Exact(identity), Pattern::Exact(issuer)) => {
                    Signer::Identity { identity, issuer }
                }
                (identity, issuer) => Signer::Matching { identity, issuer },
            };
            let trusted_root = match k.trusted_root {
                None => None,
                Some(r) => Some(
                    crate::bundle::trusted_root(Some(&base.join(&r.value)))
                        .map_err(|e| at(&r.referenced, e.detail))?,
                ),
            };
            Ok(Authority {
                name: a.name,
                kind: AuthorityKind::Sigstore {
                    signer,
                    trusted_root,
                },
            })
        }
        _ => Err(at(
            &loc,
            format!(
                "authority {:?}: give one of key, keyless or notation",
                a.name
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 public key (made with `openssl ecparam` for these tests; no private key kept).
    const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaMA7cFPuY/zKCbE1jqIDl0cfel+5\n93yo5Bu3EMEsLjK/J9znfVoFIkhfsqBUy1gLaVhNq8YWFN/4SvPuSDWavg==\n-----END PUBLIC KEY-----\n";

    fn parse(text: &str) -> Result<TrustPolicy, PolicyError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k.pub"), KEY).unwrap();
        TrustPolicy::parse(text, "trust.yaml", dir.path())
    }

    const GOOD: &str = r#"version: 1
policies:
  - name: prod
    repositories: ["reg.example/prod/*", "reg.example/base"]
    mode: warn
    required: 2
    signed-object: platform
    authorities:
      - name: release
        key: k.pub
      - name: ci
        keyless:
          identity-regexp: "https://github\\.com/org/.*"
          issuer: https://token.actions.githubusercontent.com
      - name: person
        keyless:
          identity: ci@example.com
          issuer-regexp: "https://(accounts\\.google|github)\\.com"
  - name: everything-else
    repositories: ["**"]
    authorities:
      - name: release
        key: k.pub
"#;

    #[test]
    fn every_field_is_read() {
        let p = parse(GOOD).unwrap();
        assert_eq!(p.policies.len(), 2);
        let prod = &p.policies[0];
        assert_eq!(prod.name, "prod");
        assert_eq!(prod.mode, Mode::Warn);
        assert_eq!(prod.required, 2);
        assert_eq!(prod.signed_object, SignedObject::Platform);
        assert_eq!(prod.authorities.len(), 3);
        let signer = |n: usize| match &prod.authorities[n].kind {
            AuthorityKind::Sigstore { signer, .. } => signer,
            other => panic!("{other:?}"),
        };
        assert!(matches!(signer(0), Signer::Key { .. }));
        match signer(1) {
            Signer::Matching { identity, issuer } => {
                assert!(
                    identity.matches(
                        "https://github.com/org/app/.github/workflows/x.yml@refs/heads/main"
                    )
                );
                // Anchored: a prefix elsewhere is not enough.
                assert!(!identity.matches("https://evil.example/https://github.com/org/x"));
                assert!(issuer.matches("https://token.actions.githubusercontent.com"));
            }
            other => panic!("{other:?}"),
        }
        match signer(2) {
            Signer::Matching { identity, issuer } => {
                assert!(identity.matches("ci@example.com"));
                assert!(issuer.matches("https://accounts.google.com"));
                assert!(!issuer.matches("https://accounts.google.com.evil"));
            }
            other => panic!("{other:?}"),
        }
        // Defaults: enforce, one signature.
        let rest = &p.policies[1];
        assert_eq!((rest.mode, rest.required), (Mode::Enforce, 1));
        assert_eq!(rest.signed_object, SignedObject::Either);
    }

    #[test]
    fn the_first_matching_policy_applies_and_globs_keep_to_segments() {
        let p = parse(GOOD).unwrap();
        let name = |r: &str| p.for_repository(r).map(|p| p.name.as_str());
        assert_eq!(name("reg.example/prod/app"), Some("prod"));
        assert_eq!(name("reg.example/base"), Some("prod"));
        // `*` does not cross a slash; `**` does.
        assert_eq!(name("reg.example/prod/team/app"), Some("everything-else"));
        let only_prod = GOOD.split("  - name: everything-else").next().unwrap();
        let p = parse(only_prod).unwrap();
        assert!(p.for_repository("reg.example/prod/team/app").is_none());
        assert!(p.for_repository("other.example/app").is_none());
    }

    #[test]
    fn mistakes_are_reported_with_line_and_column() {
        let cases: &[(&str, &str, (u64, u64), &str)] = &[
            (
                "mode",
                "    mode: warn\n",
                (5, 11),
                "unknown variant `strict`",
            ),
            (
                "field",
                "    mode: warn\n",
                (5, 5),
                "unknown field `colour`",
            ),
            (
                "required",
                "    required: 2\n",
                (6, 15),
                "required: 5 but the policy has 3 authorities",
            ),
            (
                "key",
                "        key: k.pub\n",
                (10, 14),
                "key \"missing.pub\"",
            ),
            (
                "regex",
                "          identity-regexp: \"https://github\\\\.com/org/.*\"\n",
                (13, 11),
                "identity-regexp",
            ),
            (
                "glob",
                "    repositories: [\"reg.example/prod/*\", \"reg.example/base\"]\n",
                (4, 20),
                "repository glob",
            ),
        ];
        for (what, line, (l, c), message) in cases {
            let replacement = match *what {
                "mode" => "    mode: strict\n",
                "field" => "    colour: red\n",
                "required" => "    required: 5\n",
                "key" => "        key: missing.pub\n",
                "regex" => "          identity-regexp: \"(unclosed\"\n",
                _ => "    repositories: [\"reg.example/[prod\"]\n",
            };
            assert!(GOOD.contains(line), "{what}: {line:?}");
            let text = GOOD.replacen(line, replacement, 1);
            let e = parse(&text).unwrap_err();
            assert_eq!((e.line, e.column), (Some(*l), Some(*c)), "{what}: {e}");
            assert!(e.message.contains(message), "{what}: {e}");
            assert!(
                e.to_string().starts_with(&format!("trust.yaml:{l}:{c}: ")),
                "{e}"
            );
        }
        // Not YAML at all, another version, an authority that is neither key nor keyless.
        let e = parse("version: 1\npolicies:\n  - name: \"unterminated\n").unwrap_err();
        assert!(e.line.is_some_and(|l| l >= 3), "{e}");
        let e = parse(&GOOD.replacen("version: 1", "version: 2", 1)).unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), Some(10)), "{e}");
        let neither = GOOD.replacen("        key: k.pub\n", "", 1);
        let e = parse(&neither).unwrap_err();
        assert!(e.message.contains("one of key, keyless or notation"), "{e}");
        assert_eq!(e.line, Some(9), "{e}");
    }

    /// Notation's skip level is a policy's mode: it names no authorities, and a skip policy
    /// that names some, or a `required`, is a mistake with its place.
    #[test]
    fn mode_skip_names_no_authorities() {
        let skip = "version: 1\npolicies:\n  - name: scratch\n    repositories: [\"reg.example/tmp/**\"]\n    mode: skip\n";
        let p = parse(skip).unwrap();
        let only = &p.policies[0];
        assert_eq!((only.mode, only.required), (Mode::Skip, 0));
        assert!(only.authorities.is_empty());
        let with_authority =
            format!("{skip}    authorities:\n      - name: release\n        key: k.pub\n");
        let e = parse(&with_authority).unwrap_err();
        assert_eq!((e.line, e.column), (Some(7), Some(9)), "{e}");
        assert!(
            e.message.contains("mode skip, which verifies nothing"),
            "{e}"
        );
        let e = parse(&format!("{skip}    required: 1\n")).unwrap_err();
        assert_eq!((e.line, e.column), (Some(6), Some(15)), "{e}");
        // Any other mode still needs its authorities.
        let e = parse(&skip.replace("mode: skip", "mode: warn")).unwrap_err();
        assert!(e.message.contains("names no authorities"), "{e}");
    }
}
