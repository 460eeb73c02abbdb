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

/// A random (version 4) UUID from aws-lc's generator (the one secrets and signature nonces
/// come from): `Uuid::new_v4` asks the kernel (`getrandom`) for every one, a system call per
/// client id or token id, and OpenSSL's `RAND_bytes` costs more than the call.
pub fn random_uuid() -> Result<String, aws_lc_rs::error::Unspecified> {
    Ok(uuid::Builder::from_random_bytes(identifier_bytes()?)
        .into_uuid()
        .to_string())
}

/// Random bytes for public identifiers (client ids, token ids), taken from a per-thread
/// page of aws-lc generator output. Each call into the generator costs about 0.5 µs whatever
/// its length (it mixes fresh RDRAND output into the state), which was 2% of a token
/// request; a page serves 256 identifiers. Secrets never come from here, so no secret waits
/// in a buffer before it is used.
fn identifier_bytes() -> Result<[u8; 16], aws_lc_rs::error::Unspecified> {
    const PER_PAGE: usize = 256;
    struct Pool {
        ids: Box<[[u8; 16]; PER_PAGE]>,
        next: usize,
    }
    thread_local! {
        static POOL: std::cell::RefCell<Pool> = std::cell::RefCell::new(Pool {
            ids: Box::new([[0; 16]; PER_PAGE]),
            next: PER_PAGE,
        });
    }
    POOL.with_borrow_mut(|pool| {
        if pool.next >= pool.ids.len() {
            aws_lc_rs::rand::fill(pool.ids.as_flattened_mut())?;
            pool.next = 0;
        }
        let slot = pool
            .ids
            .get_mut(pool.next)
            .ok_or(aws_lc_rs::error::Unspecified)?;
        pool.next += 1;
        // Handed out once: zeros stay behind, not the identifier.
        Ok(std::mem::take(slot))
    })
}

/// A secret value (token, client secret, private key, client assertion) whose `Debug` output
/// never shows the value. Serialized as the plain string, for the store and the one response
/// that must carry it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A fresh 256-bit secret, base64url without padding, from aws-lc's CSPRNG (a
    /// per-thread DRBG seeded from the OS: no lock or syscall per secret, unlike OpenSSL 3's
    /// shared DRBG, which registration paid for twice per client).
    pub fn generate() -> Result<Self, aws_lc_rs::error::Unspecified> {
        let [secret] = Self::generate_many()?;
        Ok(secret)
    }

    /// `N` fresh secrets from one call into the generator. A call costs about 1 µs however
    /// many bytes it returns (fresh RDRAND input and a new AES key schedule each time), and a
    /// registration needs two secrets: drawing them together saved half of that.
    pub fn generate_many<const N: usize>() -> Result<[Self; N], aws_lc_rs::error::Unspecified> {
        let mut bytes = [[0u8; 32]; N];
        aws_lc_rs::rand::fill(bytes.as_flattened_mut())?;
        Ok(bytes.map(|secret| Self(URL_SAFE_NO_PAD.encode(secret))))
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
    fn secrets_drawn_together_are_each_256_bit_and_distinct() {
        let [a, b, c] = Secret::generate_many().unwrap();
        for secret in [&a, &b, &c] {
            assert_eq!(secret.expose().len(), 43);
        }
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn random_uuids_are_distinct_version_4_rfc_9562_uuids() {
        let text = random_uuid().unwrap();
        assert_eq!(text.len(), 36, "hyphenated form: {text}");
        assert!(!text.chars().any(|c| c.is_ascii_uppercase()), "{text}");
        let a = uuid::Uuid::parse_str(&text).unwrap();
        let b = uuid::Uuid::parse_str(&random_uuid().unwrap()).unwrap();
        assert_eq!(a.get_version(), Some(uuid::Version::Random));
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(a, b);
    }

    #[test]
    fn identifiers_stay_distinct_across_refills_of_the_per_thread_page() {
        // 1,000 identifiers span four pages of generator output.
        let ids: std::collections::HashSet<String> =
            (0..1_000).map(|_| random_uuid().unwrap()).collect();
        assert_eq!(ids.len(), 1_000);
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
