//! Who may register: the bearer-token and open-registration rules of SPEC §3.

use super::error::RealmError;
use super::settings::ProviderSettings;
use crate::secret::Secret;

/// What an authorized registration request may do.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegistrationGrant {
    /// The request carried a valid access token (it always gets a registration access token).
    pub by_access_token: bool,
    /// Whether `client_uri`, `logo_uri` and `policy_uri` may be registered.
    pub may_set_info_uris: bool,
}

/// SPEC §3 "Authorization": a token, if sent, must be live; without one, open registration
/// must be on.
pub(crate) fn authorize_registration(
    bearer: Option<&Secret>,
    settings: &ProviderSettings,
) -> Result<RegistrationGrant, RealmError> {
    match bearer {
        // The realm has no token endpoint yet (issue #3 adds it), so no access token it could
        // have issued exists and every presented token is refused.
        Some(_) => Err(RealmError::InvalidAccessToken),
        None if settings.allow_open_dynamic_registration => Ok(RegistrationGrant {
            by_access_token: false,
            may_set_info_uris: true,
        }),
        None => Err(RealmError::RegistrationNotOpen),
    }
}
