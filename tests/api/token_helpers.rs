//! Helpers for the token endpoint: form posts, a static service client, client assertions
//! and a loopback JWKS server.

use crate::helpers::*;
use actix_web::{web, App, HttpResponse, HttpServer};
use awc::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dynreg::jose::StoredKeys;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

impl TestApp {
    /// Posts a form to `B/{endpoint}` with optional Basic credentials.
    pub async fn post_form(
        &self,
        realm: &str,
        endpoint: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> TestResponse {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = self
            .client
            .post(format!("{}{}/{endpoint}", self.address, base(realm)))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        if let Some((id, secret)) = basic {
            let encoded = STANDARD.encode(format!("{id}:{secret}"));
            request = request.insert_header(("Authorization", format!("Basic {encoded}")));
        }
        let mut response = request.send_body(body).await.expect("request");
        let raw = response.body().await.expect("body").to_vec();
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            raw,
        }
    }

    /// A `client_credentials` token request in alpha authenticated by a `private_key_jwt`
    /// assertion.
    pub async fn token_with_assertion(&self, assertion: &str) -> TestResponse {
        self.post_form(
            "alpha",
            "access_token",
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
            ],
            None,
        )
        .await
    }

    /// A `client_credentials` token for the seed's `registration-service` client of alpha.
    pub async fn service_token(&self, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .post_form(
                "alpha",
                "access_token",
                &form,
                Some(("registration-service", "forgerock")),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a static client in `realm` through the admin API.
    pub async fn static_client(&self, realm: &str, client_id: &str, document: Value) {
        let response = self
            .admin(
                awc::http::Method::PUT,
                &format!("/admin/realms/{realm}/clients/{client_id}"),
                Some(&document),
            )
            .await;
        assert!(response.status.is_success(), "{}", response.body);
    }
}

/// An ES256 key pair: the private key for signing, the public JWK for registering.
pub struct ClientKey {
    pub encoding: EncodingKey,
    pub public_jwk: Value,
    pub kid: String,
}

pub fn client_key() -> ClientKey {
    let keys = StoredKeys::generate().unwrap();
    let signing = &keys.signing[0];
    ClientKey {
        encoding: EncodingKey::from_ec_pem(signing.private_pem.expose().as_bytes()).unwrap(),
        public_jwk: signing.public_jwk.clone(),
        kid: signing.kid.clone(),
    }
}

/// A `private_key_jwt` assertion (RFC 7523) for `client_id` aimed at `audience`.
pub fn assertion(key: &ClientKey, client_id: &str, audience: &str, jti: &str) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    let now = dynreg::time::now_unix();
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "iat": now, "exp": now + 60, "jti": jti,
    });
    encode(&header, &claims, &key.encoding).unwrap()
}

/// Serves `jwks` at `http://127.0.0.1:<port>/jwks`; returns the URL.
pub fn serve_jwks(jwks: Value) -> String {
    let server = HttpServer::new(move || {
        let jwks = jwks.clone();
        App::new().route(
            "/jwks",
            web::get().to(move || {
                let jwks = jwks.clone();
                async move { HttpResponse::Ok().json(jwks) }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    actix_rt::spawn(server.run());
    format!("http://{address}/jwks")
}
