//! Encrypted statements (SPEC §5, reference §8 step 3 and §13 A7): compact JWE decrypted with
//! the realm's own private keys (`RSA-OAEP*`, `ECDH-ES*`) or with a key derived from a
//! publisher's secret (`dir`, `A*KW`), and a `zip: "DEF"` payload inflated to at most 32 KiB.
//!
//! josekit's built-in `DEF` inflates without limit, so decryption goes through a
//! [`JweContext`] of our own whose `DEF` stops reading one byte past the cap; josekit's free
//! `deserialize_compact*` functions (which use the uncapped default context) are never called.
//! josekit inflates only after the authentication tag has verified, so an attacker without a
//! key cannot make the server inflate anything.

use super::error::StatementError;
use super::publisher::SoftwarePublisher;
use super::unverified::decode_json_object;
use flate2::read::DeflateDecoder;
use josekit::jwe::alg::ecdh_es::EcdhEsJweDecrypter;
use josekit::jwe::alg::rsaes::RsaesJweDecrypter;
use josekit::jwe::{self, JweCompression, JweContext, JweDecrypter};
use serde_json::Value;
use std::io::{self, Read};

/// SPEC §5: the most a `zip: "DEF"` payload may inflate to.
pub const MAX_INFLATED_BYTES: usize = 32 * 1024;

const ACCEPTED_ALGS: &str = "RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A192KW, \
                             ECDH-ES+A256KW, dir, A128KW, A192KW, A256KW";
const ACCEPTED_ENCS: &str = "A128CBC-HS256, A256CBC-HS512, A128GCM, A256GCM";

/// The realm's decrypters, built once from its private keys: building one parses and checks
/// the key, which costs several times the decryption itself.
pub struct DecryptionKeys {
    /// RSA-OAEP, then RSA-OAEP-256, once the realm has an RSA key.
    rsa: Option<[RsaesJweDecrypter; 2]>,
    /// ECDH-ES, then ECDH-ES+A128KW, +A192KW, +A256KW, when the realm has a P-256 key.
    ecdh: Option<[EcdhEsJweDecrypter; 4]>,
}

impl DecryptionKeys {
    /// From the realm's RSA and P-256 encryption keys (either may be absent), as PKCS#8 PEM.
    pub fn from_pems(rsa: Option<&str>, ec: Option<&str>) -> Result<Self, String> {
        let unusable = |e: josekit::JoseError| format!("a realm decryption key is unusable: {e}");
        let ecdh = match ec {
            None => None,
            Some(pem) => Some([
                jwe::ECDH_ES.decrypter_from_pem(pem).map_err(unusable)?,
                jwe::ECDH_ES_A128KW
                    .decrypter_from_pem(pem)
                    .map_err(unusable)?,
                jwe::ECDH_ES_A192KW
                    .decrypter_from_pem(pem)
                    .map_err(unusable)?,
                jwe::ECDH_ES_A256KW
                    .decrypter_from_pem(pem)
                    .map_err(unusable)?,
            ]),
        };
        let rsa = match rsa {
            None => None,
            Some(pem) => Some([
                jwe::RSA_OAEP.decrypter_from_pem(pem).map_err(unusable)?,
                jwe::RSA_OAEP_256
                    .decrypter_from_pem(pem)
                    .map_err(unusable)?,
            ]),
        };
        Ok(Self { rsa, ecdh })
    }
}

/// JWE key management accepted for statements. `RSA1_5` is left out on purpose (RFC 8725
/// §3.2: its padding oracles are a known hazard), as are PBES2 and AES-GCM key wrap, which
/// SPEC §5 does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyManagement {
    RsaOaep,
    RsaOaep256,
    EcdhEs,
    EcdhEsA128Kw,
    EcdhEsA192Kw,
    EcdhEsA256Kw,
    /// The derived key is the content-encryption key itself.
    Dir,
    /// AES key wrap with a derived key of this many bytes.
    AesKw(usize),
}

impl KeyManagement {
    fn parse(alg: &str) -> Option<Self> {
        Some(match alg {
            "RSA-OAEP" => Self::RsaOaep,
            "RSA-OAEP-256" => Self::RsaOaep256,
            "ECDH-ES" => Self::EcdhEs,
            "ECDH-ES+A128KW" => Self::EcdhEsA128Kw,
            "ECDH-ES+A192KW" => Self::EcdhEsA192Kw,
            "ECDH-ES+A256KW" => Self::EcdhEsA256Kw,
            "dir" => Self::Dir,
            "A128KW" => Self::AesKw(16),
            "A192KW" => Self::AesKw(24),
            "A256KW" => Self::AesKw(32),
            _ => return None,
        })
    }
}

/// The content-encryption key length in bytes of each accepted `enc` (RFC 7518 §5.1).
fn content_key_bytes(enc: &str) -> Option<usize> {
    match enc {
        "A128GCM" => Some(16),
        "A256GCM" | "A128CBC-HS256" => Some(32),
        "A256CBC-HS512" => Some(64),
        _ => None,
    }
}

/// Decrypts a five-part compact JWE and returns its plaintext, which must be a compact JWS
/// (SPEC §5: "compact JWE whose plaintext is a signed JWT").
pub(crate) fn decrypt(
    compact: &str,
    publishers: &[SoftwarePublisher],
    keys: &DecryptionKeys,
) -> Result<String, StatementError> {
    let header_b64 = compact.split('.').next().unwrap_or_default();
    let header = decode_json_object("JWE header", header_b64)?;
    if let Some(crit) = header.get("crit") {
        return Err(StatementError::UnsupportedCritical(crit.to_string()));
    }
    let alg = header_string(&header, "alg")?;
    let management = KeyManagement::parse(&alg).ok_or(StatementError::UnsupportedEncryption {
        what: "alg",
        value: alg.clone(),
        accepted: ACCEPTED_ALGS,
    })?;
    let enc = header_string(&header, "enc")?;
    let content_key_len = content_key_bytes(&enc).ok_or(StatementError::UnsupportedEncryption {
        what: "enc",
        value: enc.clone(),
        accepted: ACCEPTED_ENCS,
    })?;
    match header.get("zip") {
        None => {}
        Some(Value::String(zip)) if zip == "DEF" => {}
        Some(other) => {
            return Err(StatementError::UnsupportedEncryption {
                what: "zip",
                value: other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned),
                accepted: "DEF",
            })
        }
    }
    let context = capped_context();
    let plaintext = match management {
        KeyManagement::RsaOaep | KeyManagement::RsaOaep256 => {
            // A realm has no RSA key until its key set was first published: nobody can have
            // encrypted to it.
            let [oaep, oaep_256] = keys.rsa.as_ref().ok_or(StatementError::Undecryptable(
                "the realm has published no RSA encryption key",
            ))?;
            let decrypter = match management {
                KeyManagement::RsaOaep => oaep,
                _ => oaep_256,
            };
            open_with(&context, compact, decrypter)?
        }
        KeyManagement::EcdhEs
        | KeyManagement::EcdhEsA128Kw
        | KeyManagement::EcdhEsA192Kw
        | KeyManagement::EcdhEsA256Kw => {
            let [plain, a128, a192, a256] = keys.ecdh.as_ref().ok_or(
                StatementError::Undecryptable("the realm has no ECDH-ES key"),
            )?;
            let decrypter = match management {
                KeyManagement::EcdhEsA128Kw => a128,
                KeyManagement::EcdhEsA192Kw => a192,
                KeyManagement::EcdhEsA256Kw => a256,
                _ => plain,
            };
            open_with(&context, compact, decrypter)?
        }
        KeyManagement::Dir | KeyManagement::AesKw(_) => {
            open_with_publisher_secrets(&context, compact, management, content_key_len, publishers)?
        }
    };
    let nested = String::from_utf8(plaintext).map_err(|_| StatementError::NotNested)?;
    if nested.bytes().filter(|b| *b == b'.').count() != 2 {
        return Err(StatementError::NotNested);
    }
    Ok(nested)
}

fn header_string(
    header: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<String, StatementError> {
    match header.get(name) {
        Some(Value::String(value)) => Ok(value.clone()),
        _ => Err(StatementError::Malformed(format!(
            "the JWE header has no string {name}"
        ))),
    }
}

/// Decrypts with one realm key.
fn open_with(
    context: &JweContext,
    compact: &str,
    decrypter: &impl JweDecrypter,
) -> Result<Vec<u8>, StatementError> {
    context
        .deserialize_compact(compact, decrypter)
        .map(|(plaintext, _)| plaintext)
        .map_err(|error| refusal(&error, "it was not encrypted to this realm's key"))
}

/// Reference §13 A7: the issuer is unknown until the statement is decrypted, so each
/// publisher that has a secret is tried in turn. A wrong key fails the AES key unwrap's
/// integrity check or the content tag, so no wrong key yields a plaintext.
fn open_with_publisher_secrets(
    context: &JweContext,
    compact: &str,
    management: KeyManagement,
    content_key_len: usize,
    publishers: &[SoftwarePublisher],
) -> Result<Vec<u8>, StatementError> {
    let mut tried = false;
    for secret in publishers.iter().filter_map(SoftwarePublisher::secret) {
        tried = true;
        let secret = secret.expose().as_bytes();
        let result = match management {
            KeyManagement::AesKw(len) => {
                let key = derive_key(secret, len);
                let decrypter = match len {
                    16 => jwe::A128KW.decrypter_from_bytes(&key),
                    24 => jwe::A192KW.decrypter_from_bytes(&key),
                    _ => jwe::A256KW.decrypter_from_bytes(&key),
                };
                match decrypter {
                    Ok(decrypter) => context.deserialize_compact(compact, &decrypter),
                    Err(_) => continue,
                }
            }
            _ => {
                let key = derive_key(secret, content_key_len);
                match jwe::Dir.decrypter_from_bytes(&key) {
                    Ok(decrypter) => context.deserialize_compact(compact, &decrypter),
                    Err(_) => continue,
                }
            }
        };
        match result {
            Ok((plaintext, _)) => return Ok(plaintext),
            // The tag verified (inflation comes after it): the key was right, the payload is
            // not acceptable, and no other secret can change that.
            Err(error) if inflate_cap_exceeded(&error) => {
                return Err(StatementError::InflatesTooFar(MAX_INFLATED_BYTES))
            }
            Err(_) => {}
        }
    }
    Err(StatementError::Undecryptable(if tried {
        "no software publisher's secret decrypts it"
    } else {
        "no software publisher of this realm has a secret to derive the key from"
    }))
}

/// OIDC Core §10.2: the left-most bits of SHA-256 of the UTF-8 secret for keys up to 256
/// bits, of SHA-384 up to 384 bits, of SHA-512 up to 512 bits.
pub(crate) fn derive_key(secret: &[u8], len: usize) -> Vec<u8> {
    let digest: Vec<u8> = if len <= 32 {
        crate::secret::sha256(secret).to_vec()
    } else if len <= 48 {
        openssl::sha::sha384(secret).to_vec()
    } else {
        openssl::sha::sha512(secret).to_vec()
    };
    digest.into_iter().take(len).collect()
}

/// One message for every decryption failure but the inflate cap, so no oracle shows through.
fn refusal(error: &josekit::JoseError, why: &'static str) -> StatementError {
    if inflate_cap_exceeded(error) {
        StatementError::InflatesTooFar(MAX_INFLATED_BYTES)
    } else {
        StatementError::Undecryptable(why)
    }
}

/// A JWE context that decrypts only what SPEC §5 accepts and inflates with a cap.
fn capped_context() -> JweContext {
    let mut context = JweContext::new();
    for unlisted in ["A192CBC-HS384", "A192GCM"] {
        context.remove_content_encryption(unlisted);
    }
    context.remove_compression("DEF");
    context.add_compression(Box::new(CappedDeflate));
    context
}

/// RFC 7516 §4.1.3 `zip: "DEF"` (raw DEFLATE, RFC 1951) that never produces more than
/// [`MAX_INFLATED_BYTES`]: it reads at most one byte past the cap, then gives up.
#[derive(Debug, Clone, Copy)]
struct CappedDeflate;

/// The marker error of [`CappedDeflate`], found again in josekit's error chain.
#[derive(Debug, thiserror::Error)]
#[error("the payload inflates past {MAX_INFLATED_BYTES} bytes")]
struct InflateCapExceeded;

impl JweCompression for CappedDeflate {
    fn name(&self) -> &str {
        "DEF"
    }

    fn compress(&self, _message: &[u8]) -> Result<Vec<u8>, io::Error> {
        // This context only ever decrypts.
        Err(io::Error::other("compression is not offered"))
    }

    fn decompress(&self, message: &[u8]) -> Result<Vec<u8>, io::Error> {
        inflate_capped(message, MAX_INFLATED_BYTES)
    }

    fn box_clone(&self) -> Box<dyn JweCompression> {
        Box::new(*self)
    }
}

/// Inflates raw DEFLATE data, stopping as soon as more than `cap` bytes would come out.
pub(crate) fn inflate_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, io::Error> {
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    DeflateDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)?;
    if out.len() > cap {
        return Err(io::Error::other(InflateCapExceeded));
    }
    Ok(out)
}

/// Whether josekit failed because [`CappedDeflate`] hit its cap (josekit wraps the
/// `io::Error` in `anyhow` inside its own error, so the chain is walked).
fn inflate_cap_exceeded(error: &josekit::JoseError) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = current {
        if error.is::<InflateCapExceeded>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<InflateCapExceeded>())
            {
                return true;
            }
        }
        current = error.source();
    }
    false
}
