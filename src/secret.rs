//! Secrets: generation from OS randomness, hashing for storage, constant-time comparison.
//!
//! Registration access tokens and the admin token are high-entropy random strings, so a
//! single SHA-256 is a sufficient one-way function for storing them (no password stretching
//! is needed for 256-bit random values).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::fmt;

/// SHA-256 of `data`. Through OpenSSL's low-level `SHA256_*` functions: its one-shot
/// `SHA256()` (what `openssl::sha::sha256` calls) looks the digest up in the provider
/// registry on every call under OpenSSL 3 (`EVP_Q_digest` → `EVP_MD_fetch`), which cost
/// several times the hash itself on every read and token request.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(data);
    hasher.finish()
}

/// A secret value (token, client secret, private key, client assertion) whose `Debug` output
/// never shows the value. Serialized as the plain string, for the store and the one response
/// that must carry it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A fresh 256-bit secret from the OS random generator, base64url without padding.
    pub fn generate() -> Result<Self, openssl::error::ErrorStack> {
        let mut bytes = [0u8; 32];
        openssl::rand::rand_bytes(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a secret that came from outside (a header, a file, an admin document).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash under which this secret is stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash(sha256(self.0.as_bytes()))
    }

    /// Constant-time equality with another secret of possibly different length.
    pub fn ct_eq(&self, other: &Secret) -> bool {
        self.hash().ct_eq(&other.hash())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

/// SHA-256 of a secret; what the store keeps instead of the secret.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Constant-time comparison, so response timing reveals nothing about the stored hash.
    pub fn ct_eq(&self, other: &SecretHash) -> bool {
        openssl::memcmp::eq(&self.0, &other.0)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl From<SecretHash> for String {
    fn from(hash: SecretHash) -> String {
        URL_SAFE_NO_PAD.encode(hash.0)
    }
}

impl TryFrom<String> for SecretHash {
    type Error = String;
    fn try_from(encoded: String) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded.as_bytes())
            .map_err(|e| format!("secret hash is not base64url: {e}"))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "secret hash is not 32 bytes".to_string())?;
        Ok(Self(array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_256_bit_base64url_and_distinct() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_eq!(a.expose().len(), 43);
        assert!(a
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
    }

    #[test]
    fn hash_round_trips_through_its_stored_form_and_compares() {
        let secret = Secret::new("token");
        let stored: String = secret.hash().into();
        let back = SecretHash::try_from(stored).unwrap();
        assert!(back.ct_eq(&secret.hash()));
        assert!(!back.ct_eq(&Secret::new("other").hash()));
        assert!(Secret::new("abc").ct_eq(&Secret::new("abc")));
        assert!(!Secret::new("abc").ct_eq(&Secret::new("abcd")));
    }

    #[test]
    fn sha256_matches_the_fips_180_test_vector() {
        let digest: String = sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_never_shows_the_value() {
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
    }
}
