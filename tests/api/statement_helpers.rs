//! Helpers for software statement tests: publishers and provider settings through the admin
//! API, statements minted with every algorithm family, JWE to the realm's published keys, and
//! a loopback JWKS server whose keys can change and whose fetches are counted.

use crate::helpers::*;
use actix_web::{web, App, HttpResponse, HttpServer};
use awc::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwe::{JweContext, JweEncrypter, JweHeader};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{self, JwsSigner};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The seed's literal statement (issued 2023-02-01, expired an hour later).
pub const SEED_STATEMENT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWdpc3RyYXJAZXhhbXBsZS5jb20iLCJuYW1lIjoiSm9obiBEb2UiLCJpYXQiOjE2NzUyNDYxOTQsImV4cCI6MTY3NTI0OTc5NCwiaXNzIjoiaHR0cHM6Ly9wdWJsaXNoZXIuZXhhbXBsZS5jb20iLCJyZWRpcmVjdF91cmlzIjpbImh0dHBzOi8vY2xpZW50LmV4YW1wbGUuY29tL2NhbGxiYWNrIl19.7_3nu39GtTTz_RPKZMjj1JuwWWTgeE4Iqx7p3-cfiPg";
/// The seed publisher's issuer and secret (realms/alpha.json).
pub const SEED_ISSUER: &str = "https://publisher.example.com";
pub const SEED_SECRET: &str = "secret";

pub fn now() -> u64 {
    dynreg::time::now_unix()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The seed's claims with current `iat`/`exp`.
pub fn seed_claims() -> Value {
    json!({
        "sub": "registrar@example.com",
        "name": "John Doe",
        "iat": now(),
        "exp": now() + 3600,
        "iss": SEED_ISSUER,
        "redirect_uris": ["https://client.example.com/callback"],
    })
}

/// A compact JWS with exactly the header given, signed by `sign`.
pub fn compact(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// An HMAC-signed statement keyed with the UTF-8 bytes of `key` (as the seed's is).
pub fn hs_statement(alg: &str, key: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match alg {
        "HS256" => jsonwebtoken::Algorithm::HS256,
        "HS384" => jsonwebtoken::Algorithm::HS384,
        "HS512" => jsonwebtoken::Algorithm::HS512,
        other => panic!("not an HMAC algorithm: {other}"),
    };
    let key = jsonwebtoken::EncodingKey::from_secret(key);
    compact(header, claims, |input| {
        let signature = jsonwebtoken::crypto::sign(input, &key, algorithm).unwrap();
        URL_SAFE_NO_PAD.decode(signature).unwrap()
    })
}

/// A fresh statement like the seed's: HS256 keyed with UTF-8 "secret".
pub fn seed_like_statement(claims: &Value) -> String {
    hs_statement(
        "HS256",
        SEED_SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
    )
}

/// A publisher's asymmetric key pair.
pub struct PublisherKey {
    pub alg: &'static str,
    pub kid: String,
    private: Jwk,
    /// The public JWK (with `kid`, without `alg`).
    pub public: Value,
}

impl PublisherKey {
    pub fn generate(alg: &'static str, kid: &str) -> Self {
        let pair: Box<dyn KeyPair> = match alg {
            "RS256" | "PS256" => Box::new(jws::RS256.generate_key_pair(2048).unwrap()),
            "RS384" | "PS384" => Box::new(jws::RS384.generate_key_pair(2048).unwrap()),
            "RS512" | "PS512" => Box::new(jws::RS512.generate_key_pair(2048).unwrap()),
            "ES256" => Box::new(jws::ES256.generate_key_pair().unwrap()),
            "ES384" => Box::new(jws::ES384.generate_key_pair().unwrap()),
            "ES512" => Box::new(jws::ES512.generate_key_pair().unwrap()),
            "EdDSA" => Box::new(jws::EdDSA.generate_key_pair(josekit::jwk::Ed25519).unwrap()),
            other => panic!("not an asymmetric algorithm: {other}"),
        };
        let mut private = pair.to_jwk_key_pair();
        private.set_parameter("alg", None).unwrap();
        private.set_key_id(kid);
        let mut public = pair.to_jwk_public_key();
        public.set_parameter("alg", None).unwrap();
        public.set_key_id(kid);
        Self {
            alg,
            kid: kid.to_owned(),
            private,
            public: serde_json::from_str(&public.to_string()).unwrap(),
        }
    }

    /// Signs `claims` under exactly `header`.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let signer: Box<dyn JwsSigner> = match self.alg {
            "RS256" => Box::new(jws::RS256.signer_from_jwk(&self.private).unwrap()),
            "RS384" => Box::new(jws::RS384.signer_from_jwk(&self.private).unwrap()),
            "RS512" => Box::new(jws::RS512.signer_from_jwk(&self.private).unwrap()),
            "PS256" => Box::new(jws::PS256.signer_from_jwk(&self.private).unwrap()),
            "PS384" => Box::new(jws::PS384.signer_from_jwk(&self.private).unwrap()),
            "PS512" => Box::new(jws::PS512.signer_from_jwk(&self.private).unwrap()),
            "ES256" => Box::new(jws::ES256.signer_from_jwk(&self.private).unwrap()),
            "ES384" => Box::new(jws::ES384.signer_from_jwk(&self.private).unwrap()),
            "ES512" => Box::new(jws::ES512.signer_from_jwk(&self.private).unwrap()),
            "EdDSA" => Box::new(jws::EdDSA.signer_from_jwk(&self.private).unwrap()),
            other => panic!("not an asymmetric algorithm: {other}"),
        };
        compact(header, claims, |input| signer.sign(input).unwrap())
    }

    /// Signs `claims` with `alg` and `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"alg": self.alg, "kid": self.kid}), claims)
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public.clone()] })
    }
}

/// Compact JWE of `payload` (`cty: JWT`), compressed with DEF when `zip`.
pub fn encrypt(payload: &[u8], enc: &str, zip: bool, encrypter: &dyn JweEncrypter) -> String {
    let mut header = JweHeader::new();
    header.set_content_encryption(enc);
    header.set_content_type("JWT");
    if zip {
        header.set_compression("DEF");
    }
    JweContext::new()
        .serialize_compact(payload, &header, encrypter)
        .unwrap()
}

/// OIDC Core §10.2: left-most bytes of SHA-256 (≤ 32 bytes) or SHA-512 of the UTF-8 secret.
pub fn derive_key(secret: &str, len: usize) -> Vec<u8> {
    let digest = if len <= 32 {
        openssl::sha::sha256(secret.as_bytes()).to_vec()
    } else {
        openssl::sha::sha512(secret.as_bytes()).to_vec()
    };
    digest[..len].to_vec()
}

/// `agent_id` as a path segment.
pub fn encoded(agent_id: &str) -> String {
    agent_id.replace(' ', "%20")
}

impl TestApp {
    /// `PUT /admin/realms/{realm}/software-publishers/{agent_id}`.
    pub async fn put_publisher(
        &self,
        realm: &str,
        agent_id: &str,
        document: Value,
    ) -> TestResponse {
        self.admin(
            Method::PUT,
            &format!(
                "/admin/realms/{realm}/software-publishers/{}",
                encoded(agent_id)
            ),
            Some(&document),
        )
        .await
    }

    /// Creates a publisher and asserts success.
    pub async fn publisher(&self, realm: &str, agent_id: &str, document: Value) {
        let response = self.put_publisher(realm, agent_id, document).await;
        assert!(response.status.is_success(), "{}", response.body);
    }

    /// Changes some provider settings of `realm`.
    pub async fn change_provider(&self, realm: &str, changes: Value) {
        let path = format!("/admin/realms/{realm}/oauth2-provider");
        let mut settings = self.admin(Method::GET, &path, None).await.body;
        for (key, value) in changes.as_object().unwrap() {
            settings[key] = value.clone();
        }
        let response = self.admin(Method::PUT, &path, Some(&settings)).await;
        assert_eq!(response.status, 200, "{}", response.body);
    }

    /// The realm's published keys (`B/connect/jwk_uri`).
    pub async fn realm_jwks(&self, realm: &str) -> Value {
        self.request(
            Method::GET,
            &format!("{}/connect/jwk_uri", base(realm)),
            None,
            None,
        )
        .await
        .body
    }

    /// The realm's published encryption key of type `kty`, as a josekit JWK.
    pub async fn realm_encryption_key(&self, realm: &str, kty: &str) -> Jwk {
        let jwks = self.realm_jwks(realm).await;
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["use"] == "enc" && k["kty"] == kty)
            .unwrap_or_else(|| panic!("no {kty} encryption key in {jwks}"))
            .clone();
        Jwk::from_map(key.as_object().unwrap().clone()).unwrap()
    }

    /// `POST B/register` (open registration) with `body` plus `software_statement`.
    pub async fn register_with_statement(
        &self,
        realm: &str,
        body: Value,
        statement: &str,
    ) -> TestResponse {
        let mut body = body;
        body["software_statement"] = json!(statement);
        self.register(realm, &body).await
    }
}

/// A loopback JWKS endpoint whose set can be replaced and whose fetches are counted.
pub struct JwksServer {
    pub url: String,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    pub fn start(jwks: Value) -> Self {
        let shared = Arc::new(Mutex::new(jwks));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (Arc::clone(&shared), Arc::clone(&fetches));
        let server = HttpServer::new(move || {
            let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
            App::new().route(
                "/jwks",
                web::get().to(move || {
                    let body = served.lock().unwrap().clone();
                    counted.fetch_add(1, Ordering::SeqCst);
                    async move { HttpResponse::Ok().json(body) }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let address = server.addrs()[0];
        actix_rt::spawn(server.run());
        Self {
            url: format!("http://{address}/jwks"),
            jwks: shared,
            fetches,
        }
    }

    pub fn replace(&self, jwks: Value) {
        *self.jwks.lock().unwrap() = jwks;
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
