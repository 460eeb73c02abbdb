//! Fuzz target: a registration body through `parse_request` and `validate`, under the policy
//! of an open realm and under the unrestricted one of static clients. Must never panic.

use dynreg::registration::{parse_request, validate, RegistrationPolicy};

fn main() {
    let allowlist: Vec<String> = ["openid", "profile", "email"].map(String::from).to_vec();
    let policies = [
        RegistrationPolicy {
            scope_allowlist: Some(&allowlist),
            default_scopes: &allowlist,
            may_set_info_uris: false,
        },
        RegistrationPolicy {
            scope_allowlist: None,
            default_scopes: &allowlist,
            may_set_info_uris: true,
        },
    ];
    afl::fuzz!(|data: &[u8]| {
        if let Ok(request) = parse_request(data) {
            for policy in &policies {
                let _ = validate(&request, policy);
            }
        }
    });
}
