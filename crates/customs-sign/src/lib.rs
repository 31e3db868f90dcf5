//! Keys and signatures for customs.
//!
//! - [`SigningKey`] / [`VerifyingKey`]: ECDSA P-256 (SHA-256) and Ed25519 keys, read from the
//!   PEM files `openssl` and cosign write: a private key as PKCS#8 (`BEGIN PRIVATE KEY`) or
//!   SEC1 (`BEGIN EC PRIVATE KEY`), a public key as SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`,
//!   the form of `cosign.pub`).
//! - [`cosign`]: cosign's key-based signature format: a "simple signing" payload that names a
//!   manifest digest, signed, and stored as the one layer of a manifest tagged
//!   `sha256-<hex>.sig` next to the signed object.
//!
//! The RustCrypto crates do the arithmetic; this crate only chooses the scheme from the key
//! and turns every failure into one error that names the file.

pub mod attestation;
pub mod bundle;
pub mod cosign;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod image;
pub mod notation;
pub mod policy;

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use p256::ecdsa::signature::{Signer as _, Verifier as _};

/// Why a key could not be read, or a signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no key customs can use.
    #[error("{origin}: {why}")]
    Key {
        /// The file (or other origin) of the key.
        origin: String,
        /// What is wrong.
        why: String,
    },
    /// The signature does not verify with this key.
    #[error("the signature does not verify with the key {key}: {why}")]
    BadSignature {
        /// The key's fingerprint.
        key: String,
        /// What failed (a malformed signature, or a valid one by another key or over other
        /// bytes).
        why: String,
    },
}

/// The signature scheme a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ECDSA on NIST P-256 over SHA-256, signatures ASN.1 DER: cosign's default.
    EcdsaP256Sha256,
    /// Ed25519 (pure), 64-byte signatures.
    Ed25519,
    /// RSA PKCS#1 v1.5 over SHA-256 (2048 to 8192 bits): cosign's RSA keys. Verified only.
    RsaPkcs1Sha256,
}

impl Scheme {
    /// The name cosign gives it (`ECDSA_P256_SHA256`, `ED25519`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "ECDSA_P256_SHA256",
            Self::Ed25519 => "ED25519",
            Self::RsaPkcs1Sha256 => "RSA_PKCS1V15_SHA256",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A private key that signs.
pub enum SigningKey {
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret: the scheme and the public half's fingerprint.
        write!(
            f,
            "SigningKey({}, {})",
            self.scheme(),
            self.verifying_key().fingerprint()
        )
    }
}

impl SigningKey {
    /// Read a private key file.
    ///
    /// # Errors
    /// [`SignError::Io`], or [`SignError::Key`] for anything but an unencrypted P-256 or
    /// Ed25519 private key in PEM.
    pub fn from_file(path: &Path) -> Result<Self, SignError> {
        let text = read_pem(path)?;
        Self::from_pem(&text, &path.display().to_string())
    }

    /// Parse a private key from PEM text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`SignError::Key`].
    pub fn from_pem(text: &str, origin: &str) -> Result<Self, SignError> {
        let bad = |why: String| SignError::Key {
            origin: origin.to_owned(),
            why,
        };
        let label = pem_label(text).ok_or_else(|| bad("no PEM block".to_owned()))?;
        match label {
            "PRIVATE KEY" => {
                if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(text) {
                    return Ok(Self::P256(k));
                }
                ed25519_dalek::SigningKey::from_pkcs8_pem(text)
                    .map(Self::Ed25519)
                    .map_err(|e| {
                        bad(format!(
                            "a PKCS#8 private key, but neither P-256 nor Ed25519 ({e})"
                        ))
                    })
            }
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_pem(text)
                .map(|k| Self::P256(k.into()))
                .map_err(|e| bad(format!("a SEC1 EC private key, but not on P-256 ({e})"))),
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => Err(bad(format!(
                "a cosign encrypted private key ({label}): give its password \
                 (SigningKey::from_cosign_pem; the CLI reads COSIGN_PASSWORD)"
            ))),
            "ENCRYPTED PRIVATE KEY" => Err(bad(format!(
                "an encrypted private key ({label}); give an unencrypted PKCS#8 key, e.g. \
                     `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.plain`"
            ))),
            other => Err(bad(format!(
                "a PEM {other:?} block, not a private key (PRIVATE KEY or EC PRIVATE KEY)"
            ))),
        }
    }

    /// A new P-256 key from the system's random source (aws-lc-rs): an ephemeral key for a
    /// keyless signature, whose certificate lives ten minutes.
    ///
    /// # Errors
    /// [`SignError::Key`] if the random source fails.
    pub fn generate_p256() -> Result<Self, SignError> {
        let bad = |why: String| SignError::Key {
            origin: "a new key".to_owned(),
            why,
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .map_err(|_| bad("the random source failed".to_owned()))?;
        p256::ecdsa::SigningKey::from_pkcs8_der(doc.as_ref())
            .map(Self::P256)
            .map_err(|e| bad(e.to_string()))
    }

    /// Read a private key file that may be cosign's encrypted format (`ENCRYPTED SIGSTORE
    /// PRIVATE KEY` or the older `ENCRYPTED COSIGN PRIVATE KEY`), decrypting it with
    /// `password`; an unencrypted key is read as [`Self::from_file`] reads it.
    ///
    /// # Errors
    /// As [`Self::from_file`]; a wrong password or a damaged file is [`SignError::Key`].
    pub fn from_file_with_password(path: &Path, password: &[u8]) -> Result<Self, SignError> {
        let text = read_pem(path)?;
        let origin = path.display().to_string();
        match pem_label(&text) {
            Some("ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY") => {
                Self::from_cosign_pem(&text, password, &origin)
            }
            _ => Self::from_pem(&text, &origin),
        }
    }

    /// Decrypt cosign's encrypted private key: base64 JSON giving scrypt's parameters and
    /// salt, and a NaCl secretbox (XSalsa20-Poly1305) sealing the PKCS#8 key.
    ///
    /// # Errors
    /// [`SignError::Key`] for a wrong password, unknown algorithms or a damaged file.
    pub fn from_cosign_pem(text: &str, password: &[u8], origin: &str) -> Result<Self, SignError> {
        use crypto_secretbox::aead::{Aead as _, KeyInit as _};
        #[derive(serde::Deserialize)]
        struct Sealed {
            kdf: Kdf,
            cipher: Cipher,
            ciphertext: String,
        }
        #[derive(serde::Deserialize)]
        struct Kdf {
            name: String,
            params: KdfParams,
            salt: String,
        }
        #[derive(serde::Deserialize)]
        #[allow(non_snake_case)]
        struct KdfParams {
            N: u64,
            r: u32,
            p: u32,
        }
        #[derive(serde::Deserialize)]
        struct Cipher {
            name: String,
            nonce: String,
        }
        let bad = |why: String| SignError::Key {
            origin: origin.to_owned(),
            why,
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .flat_map(|l| l.trim().chars())
            .collect();
        let json = b64
            .decode(body)
            .map_err(|e| bad(format!("not base64: {e}")))?;
        let sealed: Sealed = serde_json::from_slice(&json)
            .map_err(|e| bad(format!("not cosign's encrypted key document: {e}")))?;
        if sealed.kdf.name != "scrypt" || sealed.cipher.name != "nacl/secretbox" {
            return Err(bad(format!(
                "kdf {:?} and cipher {:?}; cosign writes scrypt and nacl/secretbox",
                sealed.kdf.name, sealed.cipher.name
            )));
        }
        let p = &sealed.kdf.params;
        // scrypt's cost is N = 2^log_n; cosign uses 2^15 or 2^16. Far more is a hostile file
        // asking for gigabytes of memory.
        if !p.N.is_power_of_two() || p.N > 1 << 20 || p.r == 0 || p.r > 32 || p.p == 0 || p.p > 16 {
            return Err(bad(format!(
                "scrypt parameters N={} r={} p={} are out of bounds",
                p.N, p.r, p.p
            )));
        }
        let log_n = u8::try_from(p.N.trailing_zeros()).unwrap_or(u8::MAX);
        let params = scrypt::Params::new(log_n, p.r, p.p, 32)
            .map_err(|e| bad(format!("scrypt parameters: {e}")))?;
        let salt = b64
            .decode(sealed.kdf.salt.trim())
            .map_err(|e| bad(format!("salt: {e}")))?;
        let mut key = [0u8; 32];
        scrypt::scrypt(password, &salt, &params, &mut key)
            .map_err(|e| bad(format!("scrypt: {e}")))?;
        let nonce = b64
            .decode(sealed.cipher.nonce.trim())
            .map_err(|e| bad(format!("nonce: {e}")))?;
        if nonce.len() != 24 {
            return Err(bad(format!(
                "a {}-byte nonce; secretbox's is 24",
                nonce.len()
            )));
        }
        let ciphertext = b64
            .decode(sealed.ciphertext.trim())
            .map_err(|e| bad(format!("ciphertext: {e}")))?;
        let plain = crypto_secretbox::XSalsa20Poly1305::new(&key.into())
            .decrypt(
                crypto_secretbox::Nonce::from_slice(&nonce),
                ciphertext.as_slice(),
            )
            .map_err(|_| bad("wrong password (or a damaged key file)".to_owned()))?;
        key.fill(0);
        let plain = zeroize::Zeroizing::new(plain);
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(&plain) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(&plain) {
            return Ok(Self::Ed25519(k));
        }
        Err(bad(
            "decrypted, but neither a P-256 nor an Ed25519 key: customs signs with those \
             (an RSA key can verify, not sign)"
                .to_owned(),
        ))
    }

    /// The scheme this key signs with.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::P256(_) => Scheme::EcdsaP256Sha256,
            Self::Ed25519(_) => Scheme::Ed25519,
        }
    }

    /// The public half.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::P256(k) => VerifyingKey::P256(*k.verifying_key()),
            Self::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
        }
    }

    /// Sign `message`: ECDSA over its SHA-256, DER-encoded (deterministic, RFC 6979), or
    /// Ed25519 over the message itself.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Self::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
        }
    }
}

/// A public key that verifies.
#[derive(Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// ECDSA P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RSA, kept as its SubjectPublicKeyInfo DER; aws-lc-rs (already linked by
    /// sigstore-verify) does the arithmetic, so the `rsa` crate and its timing advisory stay
    /// out.
    Rsa(RsaKey),
}

/// An RSA public key: the SubjectPublicKeyInfo and the PKCS#1 `RSAPublicKey` inside it.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKey {
    spki: Vec<u8>,
    pkcs1: Vec<u8>,
}

/// `rsaEncryption`, the SubjectPublicKeyInfo algorithm of an RSA key.
const RSA_OID: &str = "1.2.840.113549.1.1.1";

fn rsa_from_pem(text: &str) -> Result<RsaKey, String> {
    use p256::pkcs8::der::Decode as _;
    let (_, doc) = p256::pkcs8::spki::Document::from_pem(text).map_err(|e| e.to_string())?;
    let info = p256::pkcs8::spki::SubjectPublicKeyInfoRef::from_der(doc.as_bytes())
        .map_err(|e| e.to_string())?;
    if info.algorithm.oid.to_string() != RSA_OID {
        return Err(format!("algorithm {}", info.algorithm.oid));
    }
    let pkcs1 = info
        .subject_public_key
        .as_bytes()
        .ok_or("the key's bit string is not whole bytes")?
        .to_vec();
    // Parsed once here so a malformed key is an error when it is read, not a refusal later.
    aws_lc_rs::rsa::PublicEncryptingKey::from_der(doc.as_bytes())
        .map_err(|_| "not a usable RSA public key (2048 to 8192 bits)".to_owned())?;
    Ok(RsaKey {
        spki: doc.as_bytes().to_vec(),
        pkcs1,
    })
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({}, {})", self.scheme(), self.fingerprint())
    }
}

impl VerifyingKey {
    /// Read a public key file.
    ///
    /// # Errors
    /// [`SignError::Io`], or [`SignError::Key`] for anything but a P-256 or Ed25519
    /// SubjectPublicKeyInfo in PEM.
    pub fn from_file(path: &Path) -> Result<Self, SignError> {
        let text = read_pem(path)?;
        Self::from_pem(&text, &path.display().to_string())
    }

    /// Parse a public key from PEM text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`SignError::Key`].
    pub fn from_pem(text: &str, origin: &str) -> Result<Self, SignError> {
        let bad = |why: String| SignError::Key {
            origin: origin.to_owned(),
            why,
        };
        match pem_label(text) {
            Some("PUBLIC KEY") => {}
            Some(l) if l.contains("PRIVATE KEY") => {
                return Err(bad(
                    "a private key where the public key belongs; give the public half \
                     (`openssl pkey -in KEY -pubout`)"
                        .to_owned(),
                ));
            }
            Some(other) => return Err(bad(format!("a PEM {other:?} block, not a PUBLIC KEY"))),
            None => return Err(bad("no PEM block".to_owned())),
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(text) {
            return Ok(Self::Ed25519(k));
        }
        rsa_from_pem(text).map(Self::Rsa).map_err(|e| {
            bad(format!(
                "a public key, but neither P-256, Ed25519 nor RSA ({e})"
            ))
        })
    }

    /// The scheme this key verifies.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::P256(_) => Scheme::EcdsaP256Sha256,
            Self::Ed25519(_) => Scheme::Ed25519,
            Self::Rsa(_) => Scheme::RsaPkcs1Sha256,
        }
    }

    /// The key as SubjectPublicKeyInfo DER.
    #[must_use]
    pub fn to_der(&self) -> Vec<u8> {
        let doc = match self {
            Self::P256(k) => p256::pkcs8::EncodePublicKey::to_public_key_der(k),
            Self::Ed25519(k) => k.to_public_key_der(),
            Self::Rsa(k) => return k.spki.clone(),
        };
        // Encoding a valid in-memory key cannot fail; an empty result would only make the
        // fingerprint visibly wrong, never a signature pass.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The key as a PEM `PUBLIC KEY` block (the form of `cosign.pub`).
    #[must_use]
    pub fn to_pem(&self) -> String {
        p256::pkcs8::der::pem::encode_string(
            "PUBLIC KEY",
            p256::pkcs8::der::pem::LineEnding::LF,
            &self.to_der(),
        )
        .unwrap_or_default()
    }

    /// `sha256:<hex>` of the SubjectPublicKeyInfo DER: how reports name a key (the same
    /// value `openssl pkey -pubin -outform DER | sha256sum` prints).
    #[must_use]
    pub fn fingerprint(&self) -> String {
        customs_types::Digest::compute(customs_types::Algorithm::Sha256, &self.to_der()).to_string()
    }

    /// Check `signature` over `message`. Ed25519 is checked strictly (no small-order keys,
    /// canonical `S`), so one message has one valid signature per key.
    ///
    /// # Errors
    /// [`SignError::BadSignature`].
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignError> {
        let bad = |why: String| SignError::BadSignature {
            key: self.fingerprint(),
            why,
        };
        match self {
            Self::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| bad("not a DER-encoded ECDSA P-256 signature".to_owned()))?;
                k.verify(message, &sig)
                    .map_err(|_| bad("ECDSA verification failed".to_owned()))
            }
            Self::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| {
                    bad(format!(
                        "an Ed25519 signature is 64 bytes, this one {}",
                        signature.len()
                    ))
                })?;
                k.verify_strict(message, &sig)
                    .map_err(|_| bad("Ed25519 verification failed".to_owned()))
            }
            Self::Rsa(k) => aws_lc_rs::signature::UnparsedPublicKey::new(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                &k.pkcs1,
            )
            .verify(message, signature)
            .map_err(|_| bad("RSA PKCS#1 v1.5 verification failed".to_owned())),
        }
    }
}

/// Key files are small; anything larger is not one.
const MAX_KEY_FILE: u64 = 64 << 10;

fn read_pem(path: &Path) -> Result<String, SignError> {
    let io = |source| SignError::Io {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_KEY_FILE {
        return Err(SignError::Key {
            origin: path.display().to_string(),
            why: format!("{len} bytes: too large for a key file"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| SignError::Key {
        origin: path.display().to_string(),
        why: "not text: a key must be PEM".to_owned(),
    })
}

/// The label of the first PEM block (`PRIVATE KEY` of `-----BEGIN PRIVATE KEY-----`).
fn pem_label(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &text[start..];
    let end = rest.find("-----")?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Keys made by openssl, the tool a user would make them with; signatures checked both
    /// ways against `openssl pkeyutl`/`dgst`, so neither side only agrees with itself.
    fn openssl(args: &[&str], dir: &Path) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed (scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn keypair(dir: &Path, scheme: &str) -> (SigningKey, VerifyingKey) {
        match scheme {
            "p256" => openssl(
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    "p256.key",
                ],
                dir,
            ),
            _ => openssl(
                &["genpkey", "-algorithm", "ed25519", "-out", "ed25519.key"],
                dir,
            ),
        }
        openssl(
            &[
                "pkey",
                "-in",
                &format!("{scheme}.key"),
                "-pubout",
                "-out",
                &format!("{scheme}.pub"),
            ],
            dir,
        );
        (
            SigningKey::from_file(&dir.join(format!("{scheme}.key"))).unwrap(),
            VerifyingKey::from_file(&dir.join(format!("{scheme}.pub"))).unwrap(),
        )
    }

    #[test]
    fn openssl_verifies_our_signatures_and_we_verify_openssls() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("msg"), b"a message to sign").unwrap();
        for scheme in ["p256", "ed25519"] {
            let (sk, vk) = keypair(d, scheme);
            assert_eq!(sk.verifying_key(), vk);
            // Ours, checked by openssl.
            std::fs::write(d.join("ours.sig"), sk.sign(b"a message to sign")).unwrap();
            let key = format!("{scheme}.pub");
            let mut check = vec!["pkeyutl", "-verify", "-pubin", "-inkey", &key];
            check.extend(["-sigfile", "ours.sig", "-rawin", "-in", "msg"]);
            if scheme == "p256" {
                check.extend(["-digest", "sha256"]);
            }
            openssl(&check, d);
            // openssl's, checked by us.
            let key = format!("{scheme}.key");
            let mut sign = vec!["pkeyutl", "-sign", "-inkey", &key, "-rawin", "-in", "msg"];
            sign.extend(["-out", "theirs.sig"]);
            if scheme == "p256" {
                sign.extend(["-digest", "sha256"]);
            }
            openssl(&sign, d);
            let theirs = std::fs::read(d.join("theirs.sig")).unwrap();
            vk.verify(b"a message to sign", &theirs).unwrap();
            // Other bytes, another key, a mangled signature: refused.
            assert!(vk.verify(b"another message", &theirs).is_err());
            let mut mangled = theirs.clone();
            let last = mangled.len() - 1;
            mangled[last] ^= 1;
            assert!(vk.verify(b"a message to sign", &mangled).is_err());
        }
        let (p, _) = keypair(d, "p256");
        let (_, e) = keypair(d, "ed25519");
        assert!(e.verify(b"x", &p.sign(b"x")).is_err());
    }

    #[test]
    fn the_fingerprint_is_that_of_the_der_key() {
        let dir = tempfile::tempdir().unwrap();
        let (_, vk) = keypair(dir.path(), "p256");
        openssl(
            &[
                "pkey", "-pubin", "-in", "p256.pub", "-outform", "DER", "-out", "p256.der",
            ],
            dir.path(),
        );
        let der = std::fs::read(dir.path().join("p256.der")).unwrap();
        assert_eq!(vk.to_der(), der);
        assert!(vk.fingerprint().starts_with("sha256:"));
    }

    #[test]
    fn sec1_keys_are_read_and_wrong_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "sec1.key",
            ],
            d,
        );
        let k = SigningKey::from_file(&d.join("sec1.key")).unwrap();
        assert_eq!(k.scheme(), Scheme::EcdsaP256Sha256);
        // A P-384 key: the right kind of file, the wrong curve.
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "p384.key",
            ],
            d,
        );
        let e = SigningKey::from_file(&d.join("p384.key")).unwrap_err();
        assert!(e.to_string().contains("p384.key"), "{e}");
        // A private key given as the public one.
        let e = VerifyingKey::from_file(&d.join("sec1.key")).unwrap_err();
        assert!(e.to_string().contains("public half"), "{e}");
        std::fs::write(d.join("junk"), "not a key").unwrap();
        let e = SigningKey::from_file(&d.join("junk")).unwrap_err();
        assert!(e.to_string().contains("no PEM block"), "{e}");
        let e = VerifyingKey::from_file(&d.join("missing.pub")).unwrap_err();
        assert!(e.to_string().contains("missing.pub"), "{e}");
    }

    /// cosign's and sigstore-rs's encrypted keys (`../shared/data/signing/cosign/encrypted-keys`,
    /// public test keys with their passwords in its README).
    #[test]
    fn cosigns_encrypted_keys_decrypt_with_their_password_only() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/signing/cosign/encrypted-keys");
        for (file, password, scheme) in [
            (
                "cosign_generated_encrypted_empty_private.key",
                "",
                Scheme::EcdsaP256Sha256,
            ),
            (
                "ecdsa_encrypted_private.key",
                "123",
                Scheme::EcdsaP256Sha256,
            ),
            ("ed25519_encrypted_private.key", "123", Scheme::Ed25519),
        ] {
            let path = dir.join(file);
            let k = SigningKey::from_file_with_password(&path, password.as_bytes())
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(k.scheme(), scheme, "{file}");
            let sig = k.sign(b"payload");
            k.verifying_key().verify(b"payload", &sig).unwrap();
            let e = SigningKey::from_file_with_password(&path, b"wrong").unwrap_err();
            assert!(e.to_string().contains("wrong password"), "{file}: {e}");
            // Without a password it is refused with a message, not taken for garbage.
            let e = SigningKey::from_file(&path).unwrap_err();
            assert!(
                e.to_string().contains("cosign encrypted private key"),
                "{e}"
            );
        }
        // RSA decrypts, and customs says why it will not sign with it.
        let e = SigningKey::from_file_with_password(&dir.join("rsa_encrypted_private.key"), b"123")
            .unwrap_err();
        assert!(
            e.to_string().contains("RSA key can verify, not sign"),
            "{e}"
        );
    }
}
