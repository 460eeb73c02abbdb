//! Who may register: the bearer-token and open-registration rules of SPEC §3, initial access
//! tokens (RFC 7591 §3) and the strict token mode.

use super::error::RealmError;
use super::initial_access::InitialAccessToken;
use super::state::RealmState;
use super::token::default_audience;
use crate::jose::verify_access_token;
use crate::secret::{Secret, SecretHash};

/// What an authorized registration request may do.
#[derive(Debug, Clone)]
pub(crate) struct RegistrationGrant {
    /// The request carried a valid token (it always gets a registration access token).
    pub by_token: bool,
    /// Whether `client_uri`, `logo_uri` and `policy_uri` may be registered.
    pub may_set_info_uris: bool,
    /// The initial access token the request presented, and its hash (the actor takes a use).
    pub initial_access: Option<(InitialAccessToken, SecretHash)>,
}

/// An access token is a JWT (it has dots); an initial access token is base64url (none).
pub(crate) fn looks_like_initial_access_token(token: &Secret) -> bool {
    !token.expose().contains('.')
}

/// SPEC §3 "Authorization": a token, if sent, must be a live initial access token of this
/// realm, or a live access token of this realm meant for it (RFC 9068 §4: its `aud` names the
/// realm's issuer or default audience, so a token minted for another resource cannot be
/// replayed here); without one, open registration must be on. Only a token carrying the
/// realm's registration scope may register `client_uri`, `logo_uri` and `policy_uri`, and in
/// strict token mode only such a token may register at all. `initial_access` is the stored
/// initial access token the bearer token names, if any.
pub(crate) fn authorize_registration(
    bearer: Option<&Secret>,
    initial_access: Option<InitialAccessToken>,
    state: &RealmState,
    issuer: &str,
    now: u64,
) -> Result<RegistrationGrant, RealmError> {
    let settings = &state.settings;
    match bearer {
        Some(token) if looks_like_initial_access_token(token) => {
            let hash = token.hash();
            match initial_access {
                Some(stored) if stored.hash.ct_eq(&hash) && stored.usable(now) => {
                    Ok(RegistrationGrant {
                        by_token: true,
                        may_set_info_uris: true,
                        initial_access: Some((stored, hash)),
                    })
                }
                _ => Err(RealmError::InvalidAccessToken),
            }
        }
        Some(token) => {
            let claims = verify_access_token(&state.keys, token.expose(), issuer, now)
                .map_err(|_| RealmError::InvalidAccessToken)?;
            if !claims.aud.contains(issuer)
                && !claims.aud.contains(default_audience(settings, issuer))
            {
                return Err(RealmError::InvalidAccessToken);
            }
            let scope = &settings.dynamic_client_registration_scope;
            let has_scope = claims.has_scope(scope);
            if settings.policy.require_registration_scope && !has_scope {
                return Err(RealmError::InsufficientScope(scope.clone()));
            }
            Ok(RegistrationGrant {
                by_token: true,
                may_set_info_uris: has_scope,
                initial_access: None,
            })
        }
        None if settings.allow_open_dynamic_registration => Ok(RegistrationGrant {
            by_token: false,
            may_set_info_uris: true,
            initial_access: None,
        }),
        None => Err(RealmError::RegistrationNotOpen),
    }
}
