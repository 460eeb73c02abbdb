//! The token endpoint (RFC 6749 §4.4 `client_credentials`) and introspection (RFC 7662):
//! client authentication (RFC 6749 §2.3, RFC 7523), scope and resource (RFC 8707) checks and
//! access-token minting (RFC 9068).

use super::client_cache::DecodedClient;
use super::error::{RealmError, TokenError};
use super::handle::RealmHandle;
use super::messages::RotateKeys;
use super::record::ClientRecord;
use super::replay::{ReplayRefusal, MAX_REMEMBERED_PER_CLIENT};
use super::settings::ProviderSettings;
use crate::jose::{
    issue_access_token, new_token_id, unverified_subject, verify_access_token,
    verify_client_assertion, AccessTokenClaims, AssertionClock, Audience,
};
use crate::jwks_fetch::CachePolicy;
use crate::log_value::Logged;
use crate::registration::types::{AuthMethod, ClientKeys};
use crate::secret::Secret;
use crate::telemetry;
use crate::time::now_unix;
use crate::uri;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// No access token lives longer than a day, whatever a client's `access_token_lifetime`
/// says; rotated signing keys therefore stay published for a day.
pub const MAX_ACCESS_TOKEN_LIFETIME: u64 = 86_400;
/// RFC 7523 §3: the assertion-type URN of `private_key_jwt`.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// At most this many RFC 8707 `resource` parameters in one token request.
pub const MAX_RESOURCES_PER_REQUEST: usize = 10;

/// How the caller tried to authenticate (RFC 6749 §2.3).
#[derive(Debug)]
pub enum ClientCredentials {
    /// `Authorization: Basic` (`client_secret_basic`).
    Basic { client_id: String, secret: Secret },
    /// `client_id` and `client_secret` in the form (`client_secret_post`).
    Post { client_id: String, secret: Secret },
    /// `client_assertion` (`private_key_jwt`).
    Assertion {
        client_id: Option<String>,
        assertion: Secret,
    },
    /// Only a `client_id`, or nothing at all.
    Unauthenticated { client_id: Option<String> },
}

/// A token request after form parsing.
#[derive(Debug)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    /// RFC 8707 `resource` parameters, in request order (the parameter may repeat).
    pub resources: Vec<String>,
    pub credentials: ClientCredentials,
}

/// RFC 6749 §5.1 successful response.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: Secret,
    pub expires_in: u64,
    pub scope: String,
}

impl RealmHandle {
    /// `POST B/access_token` with `grant_type=client_credentials`.
    pub async fn issue_token(&self, request: TokenRequest) -> Result<IssuedToken, RealmError> {
        let grant_type = request
            .grant_type
            .ok_or_else(|| TokenError::InvalidRequest("grant_type is required".into()))?;
        let client = self.authenticate_client(request.credentials).await?;
        if grant_type != "client_credentials" {
            return Err(TokenError::UnsupportedGrantType(format!(
                "grant_type {grant_type:?} is not supported; this endpoint issues client_credentials tokens"
            ))
            .into());
        }
        let client = client.record();
        let metadata = &client.profile.metadata;
        if !metadata
            .grant_types
            .iter()
            .any(|g| g == "client_credentials")
        {
            return Err(TokenError::UnauthorizedClient(
                "the client is not registered for the client_credentials grant".into(),
            )
            .into());
        }
        let scopes: Vec<String> = match request.scope.as_deref().map(str::trim) {
            None | Some("") => metadata.scopes.clone(),
            Some(requested) => {
                // Hash sets, so a form full of repeated tokens costs linear time.
                let registered: HashSet<&str> =
                    metadata.scopes.iter().map(String::as_str).collect();
                let mut seen: HashSet<&str> = HashSet::new();
                let mut list: Vec<String> = Vec::new();
                for scope in requested.split(' ').filter(|s| !s.is_empty()) {
                    if !registered.contains(scope) {
                        return Err(TokenError::InvalidScope(format!(
                            "scope {} is not registered for this client",
                            crate::uri::shown(scope)
                        ))
                        .into());
                    }
                    if seen.insert(scope) {
                        list.push(scope.to_owned());
                    }
                }
                list
            }
        };
        let state = self.snapshot();
        let audience = token_audience(
            &state.settings,
            self.issuer(),
            &client.allowed_resources,
            request.resources,
        )?;
        let lifetime = match metadata.lifetimes.access_token_lifetime {
            0 => state.settings.access_token_lifetime_seconds,
            own => own,
        }
        .min(MAX_ACCESS_TOKEN_LIFETIME);
        let now = now_unix();
        let claims = AccessTokenClaims {
            iss: self.issuer().to_owned(),
            aud: audience,
            sub: client.profile.client_id.clone(),
            client_id: client.profile.client_id.clone(),
            scope: scopes.join(" "),
            iat: now,
            exp: now + lifetime,
            jti: new_token_id()?,
        };
        let access_token = issue_access_token(&state.keys, &claims)?;
        self.note_use(&client.profile.client_id);
        telemetry::global().observe_token_issued();
        Ok(IssuedToken {
            access_token: Secret::new(access_token),
            expires_in: lifetime,
            scope: claims.scope,
        })
    }

    /// `POST B/introspect`: RFC 7662 answer for `token`, for an authenticated client.
    pub async fn introspect(
        &self,
        credentials: ClientCredentials,
        token: Option<String>,
    ) -> Result<Value, RealmError> {
        self.authenticate_client(credentials).await?;
        let token = token.ok_or_else(|| TokenError::InvalidRequest("token is required".into()))?;
        let state = self.snapshot();
        Ok(
            match verify_access_token(&state.keys, &token, self.issuer(), now_unix()) {
                Ok(claims) => json!({
                    "active": true,
                    "scope": claims.scope,
                    "client_id": claims.client_id,
                    "sub": claims.sub,
                    "token_type": "Bearer",
                    "exp": claims.exp,
                    "iat": claims.iat,
                    "iss": claims.iss,
                    "aud": claims.aud,
                    "jti": claims.jti,
                }),
                // RFC 7662 §2.2: an inactive token reveals nothing else.
                Err(_) => json!({ "active": false }),
            },
        )
    }

    /// Starts signing with a new key; the old one stays published while its tokens live.
    pub async fn rotate_keys(&self) -> Result<(), RealmError> {
        let _key_change = self.context.key_change.lock().await;
        self.write(RotateKeys {
            now: now_unix(),
            keep_seconds: MAX_ACCESS_TOKEN_LIFETIME,
        })
        .await
    }

    /// RFC 6749 §2.3 / RFC 7523 §2.2: the client behind the credentials, which must use the
    /// client's registered `token_endpoint_auth_method`.
    async fn authenticate_client(
        &self,
        credentials: ClientCredentials,
    ) -> Result<Arc<DecodedClient>, RealmError> {
        let (client_id, method) = match &credentials {
            ClientCredentials::Basic { client_id, .. } => {
                (client_id.clone(), AuthMethod::ClientSecretBasic)
            }
            ClientCredentials::Post { client_id, .. } => {
                (client_id.clone(), AuthMethod::ClientSecretPost)
            }
            ClientCredentials::Assertion {
                client_id,
                assertion,
            } => {
                let id = client_id
                    .clone()
                    .or_else(|| unverified_subject(assertion.expose()))
                    .ok_or_else(|| {
                        TokenError::InvalidClient("the client assertion names no client".into())
                    })?;
                (id, AuthMethod::PrivateKeyJwt)
            }
            ClientCredentials::Unauthenticated { .. } => {
                return Err(TokenError::InvalidClient(
                    "client authentication is required (public clients cannot use this endpoint)"
                        .into(),
                )
                .into())
            }
        };
        let unknown = || TokenError::InvalidClient("client authentication failed".into());
        let Some(client) = self.load_client(&client_id)? else {
            // Hash anyway, so an unknown client costs what a wrong secret costs.
            if let ClientCredentials::Basic { secret, .. }
            | ClientCredentials::Post { secret, .. } = &credentials
            {
                let _ = secret.hash();
            }
            return Err(unknown().into());
        };
        let registered = client.profile().metadata.token_endpoint_auth_method;
        if registered != method {
            return Err(TokenError::InvalidClient(format!(
                "the client must authenticate with {}",
                registered.as_str()
            ))
            .into());
        }
        match credentials {
            ClientCredentials::Basic { secret, .. } | ClientCredentials::Post { secret, .. } => {
                if !client.secret_matches(&secret) {
                    return Err(unknown().into());
                }
            }
            ClientCredentials::Assertion { assertion, .. } => {
                self.check_assertion(client.record(), assertion.expose())
                    .await?;
            }
            ClientCredentials::Unauthenticated { .. } => return Err(unknown().into()),
        }
        Ok(client)
    }

    async fn check_assertion(
        &self,
        record: &ClientRecord,
        assertion: &str,
    ) -> Result<(), RealmError> {
        let metadata = &record.profile.metadata;
        let invalid = |why: String| RealmError::from(TokenError::InvalidClient(why));
        let jwks = match &metadata.keys {
            ClientKeys::Jwks(jwks) => std::sync::Arc::new(jwks.clone()),
            ClientKeys::JwksUri(uri) => {
                let kid = jsonwebtoken::decode_header(assertion)
                    .ok()
                    .and_then(|h| h.kid);
                let policy = CachePolicy {
                    timeout_ms: metadata.jwks_cache_timeout,
                    miss_cache_ms: metadata.jwks_cache_miss_cache_time,
                };
                self.context
                    .fetcher
                    .get(uri, policy, kid.as_deref())
                    .await
                    .map_err(|e| invalid(e.to_string()))?
            }
            ClientKeys::None => {
                return Err(invalid(
                    "the client has registered no keys (jwks or jwks_uri)".into(),
                ))
            }
        };
        let clock = AssertionClock {
            now: now_unix(),
            not_issued_before: self.context.remembering_since,
        };
        let issuer = self.issuer();
        let audiences = [
            issuer.to_owned(),
            format!("{issuer}/access_token"),
            format!("{issuer}/introspect"),
        ];
        let claims = verify_client_assertion(
            assertion,
            &record.profile.client_id,
            &jwks,
            metadata
                .algorithms
                .token_endpoint_auth_signing_alg
                .as_deref(),
            &audiences,
            clock,
        )
        .map_err(|e| invalid(e.to_string()))?;
        // RFC 7523 §3: a `jti` may be used once while its assertion is valid.
        match self.context.used_assertions.remember(
            &record.profile.client_id,
            &claims.jti,
            claims.replayable_until(),
            clock.now,
        ) {
            Ok(()) => Ok(()),
            Err(ReplayRefusal::Replayed) => Err(invalid(
                "the client assertion has already been used (jti replay)".into(),
            )),
            Err(ReplayRefusal::Full) => {
                log::warn!(
                    "realm={} the client assertion replay cache is full",
                    self.name()
                );
                Err(RealmError::Unavailable)
            }
            Err(ReplayRefusal::ClientShareFull) => {
                log::warn!(
                    "realm={} client_id={} holds its whole share of the replay cache",
                    self.name(),
                    Logged(&record.profile.client_id)
                );
                Err(RealmError::AssertionShareFull(MAX_REMEMBERED_PER_CLIENT))
            }
        }
    }
}

/// The realm's default audience: `default_access_token_audience`, else the realm's issuer.
pub(crate) fn default_audience<'a>(settings: &'a ProviderSettings, issuer: &'a str) -> &'a str {
    settings
        .default_access_token_audience
        .as_deref()
        .unwrap_or(issuer)
}

/// RFC 9068 §2.2 `aud` of a new token: the default audience when no `resource` was asked
/// for, else the resources, each of which the realm or the client must allow (RFC 8707 §2:
/// anything else is `invalid_target`). The realm's issuer and default audience are always
/// allowed.
fn token_audience(
    settings: &ProviderSettings,
    issuer: &str,
    client_allowed: &[String],
    resources: Vec<String>,
) -> Result<Audience, TokenError> {
    let default = default_audience(settings, issuer);
    if resources.is_empty() {
        return Ok(Audience::One(default.to_owned()));
    }
    if resources.len() > MAX_RESOURCES_PER_REQUEST {
        return Err(TokenError::InvalidTarget(format!(
            "at most {MAX_RESOURCES_PER_REQUEST} resource parameters"
        )));
    }
    let mut audience: Vec<String> = Vec::with_capacity(resources.len());
    for resource in resources {
        check_resource_indicator(&resource)
            .map_err(|why| TokenError::InvalidTarget(format!("resource: {why}")))?;
        // Compared in canonical form; the audience carries the spelling the realm configured,
        // which is what its resource servers know themselves by.
        let configured = [issuer, default]
            .into_iter()
            .chain(settings.allowed_resources.iter().map(String::as_str))
            .chain(client_allowed.iter().map(String::as_str))
            .find(|allowed| uri::same_canonical(allowed, &resource))
            .ok_or_else(|| {
                TokenError::InvalidTarget(format!(
                    "resource {} is not a resource of this realm",
                    uri::shown(&resource)
                ))
            })?;
        if !audience.iter().any(|chosen| chosen == configured) {
            audience.push(configured.to_owned());
        }
    }
    Ok(Audience::from_values(audience))
}

/// RFC 8707 §2: a resource indicator is an absolute URI without a fragment; like every URI
/// here it must be in canonical spelling (no control characters, odd authorities or
/// ambiguous hosts, see [`uri::parse_canonical`]).
pub(crate) fn check_resource_indicator(value: &str) -> Result<(), String> {
    let url = uri::parse_canonical(value)?;
    if url.fragment().is_some() {
        return Err(format!("{} must not contain a fragment", uri::shown(value)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://as.example.com/am/oauth2/realms/root/realms/alpha";

    fn settings(default: Option<&str>, allowed: &[&str]) -> ProviderSettings {
        ProviderSettings {
            default_access_token_audience: default.map(str::to_owned),
            allowed_resources: allowed.iter().map(|r| r.to_string()).collect(),
            ..ProviderSettings::default()
        }
    }

    fn audience(settings: &ProviderSettings, resources: &[&str]) -> Result<Audience, TokenError> {
        audience_for_client(settings, &[], resources)
    }

    fn audience_for_client(
        settings: &ProviderSettings,
        client_allowed: &[&str],
        resources: &[&str],
    ) -> Result<Audience, TokenError> {
        let client_allowed: Vec<String> = client_allowed.iter().map(|r| r.to_string()).collect();
        let resources = resources.iter().map(|r| r.to_string()).collect();
        token_audience(settings, ISSUER, &client_allowed, resources)
    }

    #[test]
    fn a_client_may_name_its_own_allowed_resources_and_only_it() {
        let realm = settings(None, &[]);
        let own = "https://own.example.com/";
        assert_eq!(
            audience_for_client(&realm, &[own], &[own]).unwrap(),
            Audience::One(own.into())
        );
        let error = audience(&realm, &[own]).expect_err("another client");
        assert_eq!(error.code(), "invalid_target");
    }

    #[test]
    fn without_resource_the_audience_is_the_default_or_the_issuer() {
        assert_eq!(
            audience(&settings(None, &[]), &[]).unwrap(),
            Audience::One(ISSUER.into())
        );
        let api = "https://api.example.com/";
        assert_eq!(
            audience(&settings(Some(api), &[]), &[]).unwrap(),
            Audience::One(api.into())
        );
    }

    #[test]
    fn allowed_resources_become_the_audience_in_request_order() {
        let realm = settings(None, &["https://a.example.com/", "https://b.example.com/"]);
        assert_eq!(
            audience(&realm, &["https://b.example.com/"]).unwrap(),
            Audience::One("https://b.example.com/".into())
        );
        assert_eq!(
            audience(
                &realm,
                &["https://b.example.com/", ISSUER, "https://b.example.com/"]
            )
            .unwrap(),
            Audience::Many(vec!["https://b.example.com/".into(), ISSUER.into()])
        );
    }

    #[test]
    fn other_resources_are_invalid_target() {
        let realm = settings(None, &["https://a.example.com/"]);
        let too_many: Vec<&str> = vec!["https://a.example.com/"; MAX_RESOURCES_PER_REQUEST + 1];
        for (resources, why) in [
            (vec!["https://other.example.com/"], "not allowed"),
            (vec!["api"], "relative"),
            (vec!["https://a.example.com/#frag"], "fragment"),
            (
                vec!["https://a.example.com/", "https://x.example.com/"],
                "one of two not allowed",
            ),
            (too_many, "too many"),
        ] {
            let error = audience(&realm, &resources).expect_err(why);
            assert_eq!(error.code(), "invalid_target", "{why}");
        }
    }

    #[test]
    fn resources_match_in_canonical_form_and_the_audience_keeps_the_configured_spelling() {
        let configured = "https://api.example.com";
        let realm = settings(None, &[configured]);
        for asked in [
            "https://api.example.com/",
            "HTTPS://API.example.com",
            configured,
        ] {
            assert_eq!(
                audience(&realm, &[asked]).unwrap(),
                Audience::One(configured.into()),
                "{asked}"
            );
        }
        assert_eq!(
            audience(&realm, &["https://api.example.com/", configured]).unwrap(),
            Audience::One(configured.into()),
            "two spellings of one resource are one audience"
        );
    }

    #[test]
    fn resources_in_odd_spellings_are_invalid_target() {
        let realm = settings(None, &["https://api.example.com/"]);
        for (resource, why) in [
            ("https://api.example.com/\r\nSet-Cookie: x=y", "CRLF"),
            ("https://api.example.com/\0", "NUL"),
            ("https://evil.com\\@api.example.com/", "backslash"),
            ("https:///api.example.com", "empty authority"),
            ("https:api.example.com", "no authority"),
            ("https://api.example.com:443/", "explicit default port"),
            ("http://0x7f.0.0.1/", "hex IPv4"),
            ("https://api.example.com/a/../", "dot segments"),
        ] {
            let error = audience(&realm, &[resource]).expect_err(why);
            assert_eq!(error.code(), "invalid_target", "{why}");
        }
        let long = format!("https://api.example.com/{}", "a".repeat(3000));
        let error = audience(&realm, &[&long]).expect_err("long");
        assert!(error.to_string().len() < 300, "{error}");
    }
}
