//! API tokens: made at random, shown once, kept only as a hash (`customs token`).
//!
//! A token is 32 random bytes, so a plain SHA-256 of it is enough to keep it safe at rest:
//! a slow password hash protects guessable secrets, and these cannot be guessed.

use customs_store::{Store, Timestamp, TokenRecord};
use sha2::{Digest, Sha256};

use crate::ServerError;

/// What a token may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read images, findings, history, jobs and the database status.
    Read,
    /// Also queue scans.
    Scan,
    /// Also queue rematches and manage the service.
    Admin,
}

impl Scope {
    /// The word the store and the command line use.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Scan => "scan",
            Self::Admin => "admin",
        }
    }

    /// Whether a token of this scope may do what `needed` allows.
    #[must_use]
    pub fn allows(self, needed: Self) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for Scope {
    type Err = ServerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "scan" => Ok(Self::Scan),
            "admin" => Ok(Self::Admin),
            _ => Err(ServerError::Invalid(format!(
                "{s:?} is not a token scope (read, scan or admin)"
            ))),
        }
    }
}

/// A token just made: the secret (shown once) and what the store keeps.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The bearer token; not kept anywhere by customs.
    pub secret: String,
    /// Its record.
    pub record: TokenRecord,
}

/// The hash the store keeps of a token.
#[must_use]
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Make a token named `name` with `scope`.
///
/// # Errors
/// A name that is empty, too long or not made of letters, digits, `.`, `_` and `-`; a name
/// already used; no randomness; the store's errors.
pub fn create(store: &mut dyn Store, name: &str, scope: Scope) -> Result<NewToken, ServerError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(ServerError::Invalid(format!(
            "token name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-'"
        )));
    }
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServerError::Invalid(format!("no randomness for a token: {e}")))?;
    let secret = format!("cst_{}", hex::encode(bytes));
    let record = store.create_token(name, scope.as_str(), &hash(&secret), Timestamp::now())?;
    Ok(NewToken { secret, record })
}

/// The token `secret` stands for and its scope, if it is known and not revoked.
///
/// # Errors
/// The store's errors, or a stored scope customs does not know.
pub fn verify(
    store: &mut dyn Store,
    secret: &str,
) -> Result<Option<(TokenRecord, Scope)>, ServerError> {
    let Some(record) = store.token_by_hash(&hash(secret))? else {
        return Ok(None);
    };
    if record.revoked_at.is_some() {
        return Ok(None);
    }
    let scope = record.scope.parse()?;
    Ok(Some((record, scope)))
}

/// Revoke the token named `name`; `false` if no live token has that name.
///
/// # Errors
/// The store's errors.
pub fn revoke(store: &mut dyn Store, name: &str) -> Result<bool, ServerError> {
    Ok(store.revoke_token(name, Timestamp::now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest() {
        assert!(Scope::Admin.allows(Scope::Scan));
        assert!(Scope::Scan.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Scan));
        assert!(!Scope::Scan.allows(Scope::Admin));
        assert!("root".parse::<Scope>().is_err());
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
