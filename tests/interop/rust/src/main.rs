//! Interop: the Rust `openidconnect` crate 4 against a running dynreg realm. Every response is
//! parsed with the crate's own types, unmodified: RFC 7591 registration (open, and with an
//! initial access token), RFC 7592 read, update and delete, a `client_credentials` token
//! checked as an RFC 9068 access token (signature against the realm's JWK set, `iss`, `aud`,
//! `exp`), an RFC 8707 `resource` the realm does not serve, and the JWK set itself.
//!
//! Usage: `dynreg-interop-rust <issuer>` (a realm with open registration and the static
//! client `registration-service`/`forgerock`, as `realms/alpha.json` ships). Prints one line
//! per step; exits non-zero on the first failure.

mod http;

use openidconnect::core::{
    CoreClient, CoreClientAuthMethod, CoreClientRegistrationRequest,
    CoreClientRegistrationResponse, CoreErrorResponseType, CoreGenderClaim, CoreGrantType,
    CoreJsonWebKeySet, CoreJsonWebKeyUse, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreTokenResponse,
};
use openidconnect::http::{Method, StatusCode};
use openidconnect::registration::EmptyAdditionalClientMetadata;
use openidconnect::{
    AccessToken, AdditionalClaims, ClientId, ClientName, ClientSecret, ClientUrl, HttpResponse,
    IdToken, IdTokenVerifier, IntrospectionUrl, IssuerUrl, JsonWebKey, JsonWebKeySetUrl,
    JsonWebTokenType, LocalizedClaim, OAuth2TokenResponse, RedirectUrl, RegistrationUrl,
    RequestTokenError, Scope, StandardErrorResponse, TokenIntrospectionResponse, TokenUrl,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::error::Error;
use std::str::FromStr;

type Outcome<T> = Result<T, Box<dyn Error>>;
type TokenOutcome = Result<
    CoreTokenResponse,
    RequestTokenError<http::HttpError, StandardErrorResponse<CoreErrorResponseType>>,
>;

fn ensure(condition: bool, what: impl Into<String>) -> Outcome<()> {
    if condition {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// RFC 8414 §2 metadata. The crate's `ProviderMetadata` is OpenID Discovery's, which
/// requires an `authorization_endpoint` that an RFC 8414 server without one omits, so the
/// members this test needs are read here, each into the crate's own URL type.
#[derive(Debug, Deserialize)]
struct AuthorizationServerMetadata {
    issuer: IssuerUrl,
    token_endpoint: TokenUrl,
    registration_endpoint: RegistrationUrl,
    jwks_uri: JsonWebKeySetUrl,
    introspection_endpoint: IntrospectionUrl,
    grant_types_supported: Vec<CoreGrantType>,
}

/// RFC 9068 §2.2 claims an ID token does not have; the rest (`iss`, `aud`, `exp`, `iat`,
/// `sub`) are the crate's standard claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccessTokenClaims {
    client_id: String,
    jti: String,
    scope: String,
}
impl AdditionalClaims for AccessTokenClaims {}

/// An RFC 9068 JWT access token, read with the crate's JWT machinery.
type AccessTokenJwt = IdToken<
    AccessTokenClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Sends a request and parses its JSON answer into `T`, which must accept it unmodified.
fn fetch_json<T: DeserializeOwned>(
    agent: &ureq::Agent,
    method: Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<Vec<u8>>,
    expected: StatusCode,
) -> Outcome<T> {
    let response = http::send(agent, http::request(method.clone(), url, bearer, body)?)?;
    ensure(
        response.status() == expected,
        format!(
            "{method} {url}: HTTP {} (expected {expected}): {}",
            response.status(),
            String::from_utf8_lossy(response.body())
        ),
    )?;
    serde_json::from_slice(response.body())
        .map_err(|e| format!("{method} {url}: the crate's type refused the body: {e}").into())
}

struct Realm {
    agent: ureq::Agent,
    issuer: IssuerUrl,
    metadata: AuthorizationServerMetadata,
    jwks: CoreJsonWebKeySet,
}

impl Realm {
    fn call(&self, request: openidconnect::HttpRequest) -> Outcome<HttpResponse> {
        Ok(http::send(&self.agent, request)?)
    }

    /// A GET, PUT or DELETE whose JSON answer is parsed into `T`.
    fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
        expected: StatusCode,
    ) -> Outcome<T> {
        fetch_json(&self.agent, method, url, bearer, body, expected)
    }

    /// The crate's client for a registered client of this realm.
    fn client(&self, id: &str, secret: &str) -> CoreClient {
        CoreClient::new(
            ClientId::new(id.into()),
            self.issuer.clone(),
            self.jwks.clone(),
        )
        .set_client_secret(ClientSecret::new(secret.into()))
    }

    /// A `client_credentials` token request through the crate's own client.
    fn request_token(
        &self,
        id: &str,
        secret: &str,
        scope: &str,
        resource: Option<&str>,
    ) -> TokenOutcome {
        let client = self
            .client(id, secret)
            .set_token_uri(self.metadata.token_endpoint.clone());
        let http = |request| http::send(&self.agent, request);
        let mut request = client
            .exchange_client_credentials()
            .add_scope(Scope::new(scope.into()));
        if let Some(resource) = resource {
            request = request.add_extra_param("resource", resource.to_owned());
        }
        request.request(&http)
    }

    /// A `client_credentials` token, checked as an RFC 6749 §5.1 response.
    fn token(&self, id: &str, secret: &str, scope: &str) -> Outcome<AccessToken> {
        let response = self
            .request_token(id, secret, scope, None)
            .map_err(|e| format!("client_credentials for {id}: {e:?}"))?;
        ensure(
            response
                .scopes()
                .is_some_and(|s| s.iter().any(|s| **s == scope)),
            format!("token for {id}: scope {scope} not granted"),
        )?;
        ensure(
            response.expires_in().is_some_and(|d| d.as_secs() > 0),
            "token: expires_in",
        )?;
        Ok(response.access_token().clone())
    }

    /// RFC 9068 §4: signature with the realm's keys, `iss`, `aud`, `exp`, plus the claims
    /// §2.2 requires.
    fn validate_access_token(&self, token: &AccessToken, client_id: &str) -> Outcome<()> {
        let jwt = AccessTokenJwt::from_str(token.secret())
            .map_err(|e| format!("access token is not a JWT: {e}"))?;
        let at_jwt = JsonWebTokenType::new("at+jwt".into()).normalize()?;
        // The audience this realm's tokens carry by default is the realm's issuer; the
        // verifier's "client id" is the audience it insists on.
        let verifier = IdTokenVerifier::new_public_client(
            ClientId::new(self.issuer.as_str().to_owned()),
            self.issuer.clone(),
            self.jwks.clone(),
        )
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256])
        .set_allowed_jose_types(vec![at_jwt]);
        let claims = jwt
            .claims(&verifier, |_: Option<&openidconnect::Nonce>| Ok(()))
            .map_err(|e| format!("access token rejected: {e}"))?;
        let extra = claims.additional_claims();
        ensure(
            extra.client_id == client_id && claims.subject().as_str() == client_id,
            "access token: client_id and sub name the client",
        )?;
        ensure(!extra.jti.is_empty(), "access token: jti")?;
        ensure(
            claims.expiration() > claims.issue_time(),
            "access token: exp after iat",
        )?;
        Ok(())
    }
}

fn discover(issuer: &str) -> Outcome<Realm> {
    let issuer = IssuerUrl::new(issuer.trim_end_matches('/').into())?;
    // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
    let mut metadata_url = issuer.url().clone();
    metadata_url.set_path(&format!(
        "/.well-known/oauth-authorization-server{}",
        issuer.url().path()
    ));
    let metadata_url = metadata_url.to_string();
    let agent = http::agent();
    let metadata: AuthorizationServerMetadata = fetch_json(
        &agent,
        Method::GET,
        &metadata_url,
        None,
        None,
        StatusCode::OK,
    )?;
    ensure(
        metadata.issuer == issuer,
        format!("RFC 8414 issuer {:?} is not {:?}", metadata.issuer, issuer),
    )?;
    ensure(
        metadata.grant_types_supported == [CoreGrantType::ClientCredentials],
        "RFC 8414 grant_types_supported",
    )?;
    ensure(
        metadata
            .introspection_endpoint
            .as_str()
            .ends_with("/introspect"),
        "RFC 8414 introspection_endpoint",
    )?;
    let jwks: CoreJsonWebKeySet = fetch_json(
        &agent,
        Method::GET,
        metadata.jwks_uri.as_str(),
        None,
        None,
        StatusCode::OK,
    )?;
    let realm = Realm {
        agent,
        issuer,
        metadata,
        jwks,
    };
    let keys = realm.jwks.keys();
    let signing = keys
        .iter()
        .filter(|k| k.key_use() == Some(&CoreJsonWebKeyUse::Signature))
        .count();
    let encryption = keys
        .iter()
        .filter(|k| k.key_use() == Some(&CoreJsonWebKeyUse::Encryption))
        .count();
    ensure(
        signing >= 1 && encryption == 2,
        format!("JWK set kept {signing} signing and {encryption} encryption keys (want 1+ and 2)"),
    )?;
    println!(
        "metadata: RFC 8414 at {metadata_url}; JWK set parsed: {signing} signing, {encryption} encryption keys"
    );
    Ok(realm)
}

fn registration_request() -> Outcome<CoreClientRegistrationRequest> {
    Ok(CoreClientRegistrationRequest::new(
        vec![RedirectUrl::new(
            "https://client.example.com/callback".into(),
        )?],
        EmptyAdditionalClientMetadata {},
    )
    .set_grant_types(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::ClientCredentials,
    ]))
    .set_token_endpoint_auth_method(Some(CoreClientAuthMethod::ClientSecretBasic))
    .set_client_name(Some(LocalizedClaim::from(ClientName::new(
        "openidconnect-rs interop".into(),
    )))))
}

/// RFC 7591 → RFC 7592 read, update, delete, with a client_credentials token in between.
fn manage_a_client(realm: &Realm) -> Outcome<()> {
    let http = |request| http::send(&realm.agent, request);
    let registered: CoreClientRegistrationResponse = registration_request()?
        .register(&realm.metadata.registration_endpoint, &http)
        .map_err(|e| format!("open registration: {e:?}"))?;
    let client_id = registered.client_id().to_string();
    let secret = registered
        .client_secret()
        .ok_or("registration: no client_secret")?
        .secret()
        .clone();
    let token = registered
        .registration_access_token()
        .ok_or("registration: no registration_access_token")?
        .secret()
        .clone();
    let uri = registered
        .registration_client_uri()
        .ok_or("registration: no registration_client_uri")?
        .to_string();
    ensure(
        registered.redirect_uris()
            == &vec![RedirectUrl::new(
                "https://client.example.com/callback".into(),
            )?],
        "registration: redirect_uris",
    )?;
    println!("register (open): client_id={client_id}");

    let read: CoreClientRegistrationResponse =
        realm.json(Method::GET, &uri, Some(&token), None, StatusCode::OK)?;
    ensure(read.client_id().as_str() == client_id, "read: client_id")?;
    ensure(
        read.client_secret().map(|s| s.secret()) == Some(&secret),
        "read: client_secret",
    )?;
    ensure(read.registration_access_token().is_none(), "read: no token")?;
    println!("read (RFC 7592): parsed as CoreClientRegistrationResponse");

    // RFC 7592 §2.2: send back what was read, with the change.
    let changed = read.set_client_name(Some(LocalizedClaim::from(ClientName::new(
        "openidconnect-rs interop, updated".into(),
    ))));
    let body = serde_json::to_vec(&changed)?;
    let updated: CoreClientRegistrationResponse =
        realm.json(Method::PUT, &uri, Some(&token), Some(body), StatusCode::OK)?;
    let name = updated
        .client_name()
        .and_then(|names| names.get(None))
        .map(|name| name.as_str().to_owned());
    ensure(
        name.as_deref() == Some("openidconnect-rs interop, updated"),
        format!("update: client_name is {name:?}"),
    )?;
    let new_token = updated
        .registration_access_token()
        .ok_or("update: no new registration_access_token")?
        .secret()
        .clone();
    ensure(new_token != token, "update: the token rotates")?;
    println!("update (RFC 7592): parsed, registration access token rotated");

    let access_token = realm.token(&client_id, &secret, "openid")?;
    realm.validate_access_token(&access_token, &client_id)?;
    println!("token: client_credentials, RFC 9068 JWT verified (signature, iss, aud, exp)");
    introspect(realm, &access_token, &client_id, &secret)?;

    refuse_foreign_resource(realm, &client_id, &secret)?;

    let deleted = realm.call(http::request(Method::DELETE, &uri, Some(&new_token), None)?)?;
    ensure(
        deleted.status() == StatusCode::NO_CONTENT,
        format!("delete: HTTP {}", deleted.status()),
    )?;
    let gone = realm.call(http::request(Method::GET, &uri, Some(&new_token), None)?)?;
    ensure(
        gone.status() == StatusCode::UNAUTHORIZED,
        format!("read after delete: HTTP {}", gone.status()),
    )?;
    println!("delete (RFC 7592): HTTP 204, then 401");
    Ok(())
}

/// RFC 8707 §2: a resource the realm does not serve is `invalid_target`, parsed by the
/// crate's error type.
fn refuse_foreign_resource(realm: &Realm, client_id: &str, secret: &str) -> Outcome<()> {
    let refused = realm.request_token(
        client_id,
        secret,
        "openid",
        Some("https://elsewhere.example.com/"),
    );
    match refused {
        Err(RequestTokenError::ServerResponse(error))
            if *error.error() == CoreErrorResponseType::Extension("invalid_target".into()) =>
        {
            println!("token: foreign RFC 8707 resource refused with invalid_target");
            Ok(())
        }
        other => Err(format!("foreign resource: expected invalid_target, got {other:?}").into()),
    }
}

/// RFC 7662 through the crate's introspection request: active, with the token's `aud`.
fn introspect(realm: &Realm, token: &AccessToken, client_id: &str, secret: &str) -> Outcome<()> {
    let client = realm
        .client(client_id, secret)
        .set_introspection_url(realm.metadata.introspection_endpoint.clone());
    let http = |request| http::send(&realm.agent, request);
    let answer = client
        .introspect(token)
        .request(&http)
        .map_err(|e| format!("introspection: {e:?}"))?;
    ensure(answer.active(), "introspection: active")?;
    ensure(
        answer.aud() == Some(&vec![realm.issuer.as_str().to_owned()]),
        format!("introspection: aud is {:?}", answer.aud()),
    )?;
    ensure(
        answer.client_id().map(|id| id.as_str()) == Some(client_id),
        "introspection: client_id",
    )?;
    println!("introspect (RFC 7662): active, aud = the realm's issuer");
    Ok(())
}

/// RFC 7591 §3 with an initial access token from the realm's registration service.
fn register_with_initial_access_token(realm: &Realm) -> Outcome<()> {
    let initial = realm.token(
        "registration-service",
        "forgerock",
        "dynamic_client_registration",
    )?;
    realm.validate_access_token(&initial, "registration-service")?;
    let http = |request| http::send(&realm.agent, request);
    let registered: CoreClientRegistrationResponse = registration_request()?
        .set_client_uri(Some(LocalizedClaim::from(ClientUrl::new(
            "https://client.example.com/".into(),
        )?)))
        .set_initial_access_token(Some(initial))
        .register(&realm.metadata.registration_endpoint, &http)
        .map_err(|e| format!("registration with an initial access token: {e:?}"))?;
    ensure(
        registered
            .client_uri()
            .and_then(|uris| uris.get(None))
            .map(|uri| uri.as_str())
            == Some("https://client.example.com/"),
        "registration with an initial access token: client_uri",
    )?;
    println!(
        "register (initial access token): client_id={}",
        registered.client_id().as_str()
    );
    Ok(())
}

fn run(issuer: &str) -> Outcome<()> {
    let realm = discover(issuer)?;
    manage_a_client(&realm)?;
    register_with_initial_access_token(&realm)?;
    Ok(())
}

fn main() {
    let Some(issuer) = std::env::args().nth(1) else {
        eprintln!("usage: dynreg-interop-rust <issuer>");
        std::process::exit(2);
    };
    match run(&issuer) {
        Ok(()) => println!("openidconnect-rs: every response parsed and checked"),
        Err(error) => {
            eprintln!("openidconnect-rs: FAILED: {error}");
            std::process::exit(1);
        }
    }
}
