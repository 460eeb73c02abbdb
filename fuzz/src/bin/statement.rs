//! Fuzz target: software statements. Input starting with `{` is taken as claims and signed
//! with the seed publisher's secret, so it reaches the time checks, the merge and metadata
//! validation; anything else is a compact JWS/JWE as sent, through decryption and the
//! verifier of both an HS256 and an ES256 publisher. Must never panic.

use dynreg::registration::{validate, RegistrationPolicy};
use dynreg::software_statement::{open, DecryptionKeys};
use dynreg_fuzz::{keys, publishers, sign, HS_SECRET};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Map;

/// A fixed "now" inside the seed statement's lifetime window (2023).
const NOW: u64 = 1_690_000_000;

fn main() {
    let keys = keys();
    let decryption = DecryptionKeys::from_pems(
        keys.encryption.as_ref().map(|k| k.private_pem.expose()),
        keys.ecdh_encryption
            .as_ref()
            .map(|k| k.private_pem.expose()),
    )
    .expect("decryption keys");
    let publishers = publishers(&keys);
    let secret = EncodingKey::from_secret(HS_SECRET.as_bytes());
    let required = vec!["redirect_uris".to_owned()];
    let scopes: Vec<String> = vec!["openid".into()];
    let policy = RegistrationPolicy {
        scope_allowlist: None,
        default_scopes: &scopes,
        may_set_info_uris: true,
    };
    afl::fuzz!(|data: &[u8]| {
        let signed;
        let raw = if data.first() == Some(&b'{') {
            signed = sign(data, Algorithm::HS256, None, &secret);
            signed.as_str()
        } else {
            match std::str::from_utf8(data) {
                Ok(raw) => raw,
                Err(_) => return,
            }
        };
        let Ok(opened) = open(raw, &publishers, &decryption) else {
            return;
        };
        for attested in [None, Some(required.as_slice())] {
            if let Ok(statement) = opened.clone().verify(None, NOW, attested) {
                let mut request = Map::new();
                statement.merge_into(&mut request);
                let _ = validate(&request, &policy);
            }
        }
    });
}
