//! Bounds on client metadata (README "Limits"). Every list is counted before any of its
//! elements is looked at, and every string is measured and scanned for control characters
//! before it is parsed, so the cost of validating a body grows linearly with its size and
//! never exceeds a few milliseconds within the 64 KiB body cap.

use crate::uri::shown;

/// Longest free-text value (`client_name`, `software_id`, a contact, an ACR value, …), in
/// bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Longest scope token, in bytes.
pub const MAX_SCOPE_BYTES: usize = 128;
/// Most `redirect_uris`, `post_logout_redirect_uris` or `request_uris`.
pub const MAX_URIS: usize = 64;
/// Most scope tokens in `scope`, `scopes` or `default_scopes`.
pub const MAX_SCOPES: usize = 128;
/// Most `contacts`.
pub const MAX_CONTACTS: usize = 16;
/// Most `grant_types`, `response_types` or `default_acr_values`.
pub const MAX_ENUM_VALUES: usize = 16;
/// Most language-tagged values of the localizable fields (`client_name#en`, …) together.
pub const MAX_LOCALIZED_VALUES: usize = 64;
pub use crate::jwks_fetch::MAX_JWKS_KEYS;

/// Refuses a string longer than `max_bytes` or containing a control character (which covers
/// NUL, CR and LF); the error names the field and never echoes the whole value.
pub fn check_text(field: &str, value: &str, max_bytes: usize) -> Result<(), String> {
    if value.len() > max_bytes {
        return Err(format!("{field} must not exceed {max_bytes} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{field}: {} contains a control character",
            shown(value)
        ));
    }
    Ok(())
}

/// Refuses a list longer than `max_items`.
pub fn check_count(field: &str, count: usize, max_items: usize) -> Result<(), String> {
    if count > max_items {
        return Err(format!(
            "{field} must not have more than {max_items} entries"
        ));
    }
    Ok(())
}
