//! Fuzz target: `private_key_jwt` client assertions. Input starting with `{` is taken as
//! claims and signed with the client's registered key, so it reaches the lifetime, `iat` and
//! `jti` checks; anything else is an assertion as sent. Must never panic.

use dynreg::jose::{unverified_subject, verify_client_assertion, AssertionClock};
use dynreg_fuzz::{es256_key, keys, sign};
use jsonwebtoken::Algorithm;

const NOW: u64 = 1_900_000_000;

fn main() {
    let keys = keys();
    let signer = es256_key(&keys);
    let kid = keys.signing[0].kid.clone();
    let jwks = serde_json::json!({ "keys": [keys.signing[0].public_jwk] });
    let audiences = vec!["https://as.example.com/am/oauth2/realms/root".to_owned()];
    let clock = AssertionClock {
        now: NOW,
        not_issued_before: NOW - 3_600,
    };
    afl::fuzz!(|data: &[u8]| {
        let signed;
        let assertion = if data.first() == Some(&b'{') {
            let kid = (data.len() % 2 == 0).then_some(kid.as_str());
            signed = sign(data, Algorithm::ES256, kid, &signer);
            signed.as_str()
        } else {
            match std::str::from_utf8(data) {
                Ok(assertion) => assertion,
                Err(_) => return,
            }
        };
        let client_id = unverified_subject(assertion).unwrap_or_else(|| "client".to_owned());
        // One verification per input (a signature check is the cost of an execution); the
        // input's length picks whether the client pinned an algorithm, and which.
        let pinned = [None, Some("ES256"), Some("RS256")][data.len() % 3];
        let _ = verify_client_assertion(assertion, &client_id, &jwks, pinned, &audiences, clock);
    });
}
