//! Everything read from a statement before any key has checked it: the size bound, the
//! JWS/JWE split (RFC 7515 §7.1, RFC 7516 §7.1) and the decoded header and claims. Names say
//! `unverified_*` so no caller mistakes them for trusted values.

use super::error::StatementError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// SPEC §6: software statements above 64 KiB are refused before parsing.
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;

/// A statement's compact serialization, by part count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compact<'a> {
    /// Three parts: header, payload, signature.
    Jws(&'a str),
    /// Five parts: header, encrypted key, IV, ciphertext, tag.
    Jwe(&'a str),
}

/// Size bound, then the split by part count.
pub(crate) fn classify(raw: &str) -> Result<Compact<'_>, StatementError> {
    if raw.len() > MAX_STATEMENT_BYTES {
        return Err(StatementError::TooLarge(MAX_STATEMENT_BYTES));
    }
    match raw.bytes().filter(|b| *b == b'.').count() {
        2 => Ok(Compact::Jws(raw)),
        4 => Ok(Compact::Jwe(raw)),
        dots => Err(StatementError::Malformed(format!(
            "a compact JWS has 3 dot-separated parts and a compact JWE 5; this has {}",
            dots + 1
        ))),
    }
}

/// Whether the statement is a compact JWE (five parts): decrypting it is the expensive step,
/// which callers may move off the async executor.
pub fn is_encrypted(raw: &str) -> bool {
    matches!(classify(raw), Ok(Compact::Jwe(_)))
}

/// A compact JWS decoded, not yet verified.
#[derive(Debug, Clone)]
pub(crate) struct UnverifiedJws {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: what the signature covers.
    signing_input: String,
    signature_b64: String,
    signature: Vec<u8>,
}

impl UnverifiedJws {
    /// Decodes a three-part compact JWS. Refuses, before any key is looked at: unsigned
    /// statements (RFC 7591 §2.3), any `crit` (RFC 7515 §4.1.11: we understand no extension),
    /// a non-object payload, and malformed `alg`/`kid` headers.
    pub(crate) fn parse(compact: &str) -> Result<Self, StatementError> {
        let mut parts = compact.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StatementError::Malformed(
                "a compact JWS has exactly 3 dot-separated parts".into(),
            ));
        };
        let header = decode_json_object("JWS header", header_b64)?;
        if let Some(crit) = header.get("crit") {
            return Err(StatementError::UnsupportedCritical(crit.to_string()));
        }
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg,
            Some(_) => return Err(StatementError::Malformed("alg must be a string".into())),
            None => {
                return Err(StatementError::Malformed(
                    "the JWS header has no alg".into(),
                ))
            }
        };
        if alg.eq_ignore_ascii_case("none") || signature_b64.is_empty() {
            return Err(StatementError::Unsigned);
        }
        if header.get("kid").is_some_and(|kid| !kid.is_string()) {
            return Err(StatementError::Malformed("kid must be a string".into()));
        }
        let claims = decode_json_object("JWS payload (claims)", payload_b64)?;
        let signature = decode_part("JWS signature", signature_b64)?;
        Ok(Self {
            header,
            claims,
            signing_input: format!("{header_b64}.{payload_b64}"),
            signature_b64: signature_b64.to_owned(),
            signature,
        })
    }

    pub(crate) fn unverified_alg(&self) -> &str {
        self.header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The `kid` header: it may only pick among the publisher's own keys.
    pub(crate) fn unverified_kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The `iss` claim, which selects the publisher whose keys then decide.
    pub(crate) fn unverified_iss(&self) -> Result<&str, StatementError> {
        match self.claims.get("iss") {
            Some(Value::String(iss)) if !iss.is_empty() => Ok(iss),
            _ => Err(StatementError::MissingIssuer),
        }
    }

    pub(crate) fn unverified_claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    pub(crate) fn into_unverified_claims(self) -> Map<String, Value> {
        self.claims
    }

    pub(crate) fn signing_input(&self) -> &str {
        &self.signing_input
    }

    pub(crate) fn signature_b64(&self) -> &str {
        &self.signature_b64
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// One base64url part (RFC 7515 §2: no padding).
pub(crate) fn decode_part(what: &str, part: &str) -> Result<Vec<u8>, StatementError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| StatementError::Malformed(format!("the {what} is not base64url")))
}

/// One base64url part holding a JSON object.
pub(crate) fn decode_json_object(
    what: &str,
    part: &str,
) -> Result<Map<String, Value>, StatementError> {
    let bytes = decode_part(what, part)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StatementError::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
        Err(_) => Err(StatementError::Malformed(format!(
            "the {what} is not valid JSON"
        ))),
    }
}
