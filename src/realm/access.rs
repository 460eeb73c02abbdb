//! Who may register: the bearer-token and open-registration rules of SPEC §3.

use super::error::RealmError;
use super::state::RealmState;
use super::token::default_audience;
use crate::jose::verify_access_token;
use crate::secret::Secret;

/// What an authorized registration request may do.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegistrationGrant {
    /// The request carried a valid access token (it always gets a registration access token).
    pub by_access_token: bool,
    /// Whether `client_uri`, `logo_uri` and `policy_uri` may be registered.
    pub may_set_info_uris: bool,
}

/// SPEC §3 "Authorization": a token, if sent, must be a live access token of this realm
/// meant for it (RFC 9068 §4: its `aud` names the realm's issuer or default audience, so a
/// token minted for another resource cannot be replayed here); without one, open
/// registration must be on. Only a token carrying the realm's registration
/// scope may register `client_uri`, `logo_uri` and `policy_uri`.
pub(crate) fn authorize_registration(
    bearer: Option<&Secret>,
    state: &RealmState,
    issuer: &str,
    now: u64,
) -> Result<RegistrationGrant, RealmError> {
    let settings = &state.settings;
    match bearer {
        Some(token) => {
            let claims = verify_access_token(&state.keys, token.expose(), issuer, now)
                .map_err(|_| RealmError::InvalidAccessToken)?;
            if !claims.aud.contains(issuer)
                && !claims.aud.contains(default_audience(settings, issuer))
            {
                return Err(RealmError::InvalidAccessToken);
            }
            Ok(RegistrationGrant {
                by_access_token: true,
                may_set_info_uris: claims.has_scope(&settings.dynamic_client_registration_scope),
            })
        }
        None if settings.allow_open_dynamic_registration => Ok(RegistrationGrant {
            by_access_token: false,
            may_set_info_uris: true,
        }),
        None => Err(RealmError::RegistrationNotOpen),
    }
}
