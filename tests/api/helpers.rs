//! `spawn_app()`: a real server on 127.0.0.1:0 with its own temporary data directory, the
//! repository's `realms/` and a known admin token; plus request helpers.

use awc::http::{header::HeaderMap, Method, StatusCode};
use dynreg::config::Settings;
use dynreg::startup::Application;
use serde_json::{json, Value};
use std::future::Future;
use std::ops::Deref;
use std::path::PathBuf;
use tempfile::TempDir;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A running server and a client for it. Dereferences to [`Api`], which does the requests.
pub struct TestApp {
    pub api: Api,
    /// Held so the server's data directory lives as long as the test.
    #[allow(dead_code)]
    pub data_dir: TempDir,
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// What sends requests to the server: cheap to clone, so concurrent requests can each own
/// one (awc's client is `!Send`, so they run as local tasks, see [`join_local`]).
#[derive(Clone)]
pub struct Api {
    pub address: String,
    pub client: awc::Client,
}

/// A response with its body parsed as JSON (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as received, for tests of non-JSON answers.
    #[allow(dead_code)]
    pub raw: Vec<u8>,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the RFC error shape and returns the `error` code.
    pub fn error_code(&self) -> &str {
        assert!(
            self.body["error_description"].is_string(),
            "no error_description in {}",
            self.body
        );
        self.body["error"].as_str().expect("error code")
    }

    /// The `error_description` of an error body.
    pub fn error_description(&self) -> &str {
        self.body["error_description"]
            .as_str()
            .unwrap_or_else(|| panic!("no error_description in {}", self.body))
    }

    /// Asserts a JSON error response (`application/json`, `{"error", "error_description"}`)
    /// with this status and code; `context` says which case this is.
    pub fn assert_error(&self, status: u16, code: &str, context: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{context}: status; body {}",
            String::from_utf8_lossy(&self.raw)
        );
        assert_json(self, context);
        assert_eq!(self.error_code(), code, "{context}: error code");
    }
}

/// Asserts the response is labelled and parses as JSON (not actix's plain-text default).
pub fn assert_json(response: &TestResponse, context: &str) {
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{context}: content-type {content_type:?}, body {:?}",
        String::from_utf8_lossy(&response.raw)
    );
    assert!(
        !response.body.is_null(),
        "{context}: body is not JSON: {:?}",
        String::from_utf8_lossy(&response.raw)
    );
}

pub fn repo_realms_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("realms")
}

/// Starts the server with the repository's realm files.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the server after `adjust` has changed its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let token_file = data_dir.path().join("admin-token");
    std::fs::write(&token_file, ADMIN_TOKEN).expect("write admin token");
    let mut settings = Settings::for_data_dir(data_dir.path().join("data"), repo_realms_dir());
    settings.admin_token_file = Some(token_file);
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("server builds");
    let address = format!("http://{}", app.address());
    actix_rt::spawn(app.run_until_stopped());
    TestApp {
        api: Api {
            address,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .finish(),
        },
        data_dir,
    }
}

/// Runs the futures concurrently as local tasks of the current runtime and returns their
/// outputs in order.
pub async fn join_local<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let handles: Vec<_> = futures.into_iter().map(actix_rt::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("task finishes"));
    }
    outputs
}

/// Base path `B` of a realm.
pub fn base(realm: &str) -> String {
    if realm == "root" {
        "/am/oauth2/realms/root".to_owned()
    } else {
        format!("/am/oauth2/realms/root/realms/{realm}")
    }
}

/// `B/register` of a realm.
pub fn register_path(realm: &str) -> String {
    format!("{}/register", base(realm))
}

/// `B/register?client_id=…` of a realm.
pub fn manage_path(realm: &str, client_id: &str) -> String {
    format!("{}/register?client_id={client_id}", base(realm))
}

impl Api {
    /// Sends a request with exactly these headers and body (no body: none is sent).
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> TestResponse {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = match body {
            Some(body) => request.send_body(body),
            None => request.send(),
        }
        .await
        .expect("request reaches the server");
        let raw = response.body().limit(1 << 20).await.expect("body").to_vec();
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            raw,
        }
    }

    /// Sends a request; `body` is sent as is (labelled JSON), `bearer` as `Authorization: Bearer`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        bearer: Option<&str>,
    ) -> TestResponse {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(value) = &authorization {
            headers.push(("Authorization", value));
        }
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        self.request_raw(method, path, &headers, body.map(<[u8]>::to_vec))
            .await
    }

    pub async fn post_json(&self, path: &str, body: &Value, bearer: Option<&str>) -> TestResponse {
        let bytes = serde_json::to_vec(body).unwrap();
        self.request(Method::POST, path, Some(&bytes), bearer).await
    }

    /// `POST B/register` without a token.
    pub async fn register(&self, realm: &str, body: &Value) -> TestResponse {
        self.post_json(&register_path(realm), body, None).await
    }

    /// Registers and asserts 201; returns the response body.
    pub async fn register_ok(&self, realm: &str, body: &Value) -> Value {
        let response = self.register(realm, body).await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.body
    }

    /// Registers the seed's client in `realm`; returns the 201 body.
    pub async fn register_seed_client(&self, realm: &str) -> Value {
        self.register_ok(realm, &seed_registration()).await
    }

    /// A management call on `B/register?client_id=…`.
    pub async fn manage(
        &self,
        method: Method,
        realm: &str,
        client_id: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> TestResponse {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.request(
            method,
            &manage_path(realm, client_id),
            bytes.as_deref(),
            token,
        )
        .await
    }

    /// An admin call with the admin token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> TestResponse {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.request(method, path, bytes.as_deref(), Some(ADMIN_TOKEN))
            .await
    }

    /// Replaces a realm's provider settings through the admin API and asserts 200.
    pub async fn put_provider(&self, realm: &str, settings: &Value) {
        let response = self
            .admin(
                Method::PUT,
                &format!("/admin/realms/{realm}/oauth2-provider"),
                Some(settings),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
    }

    /// Creates or replaces a static client through the admin API; returns the response.
    pub async fn put_static_client(
        &self,
        realm: &str,
        client_id: &str,
        document: &Value,
    ) -> TestResponse {
        self.admin(
            Method::PUT,
            &format!("/admin/realms/{realm}/clients/{client_id}"),
            Some(document),
        )
        .await
    }
}

/// The seed's open-registration request body.
pub fn seed_registration() -> Value {
    json!({
        "redirect_uris": ["https://client.example.com/callback"],
        "client_name#en": "My Client",
        "client_name#ja-Jpan-JP": "\u{30AF}\u{30E9}\u{30A4}\u{30A2}\u{30F3}\u{30C8}\u{540D}",
        "client_uri": "https://client.example.com/"
    })
}

/// The seed's update (`PUT`) body for a registered client.
pub fn seed_update(client_id: &str, client_secret: &str) -> Value {
    json!({
        "client_name#en": "My Client",
        "client_name#ja-jpan-jp": "クライアント名",
        "client_id": client_id,
        "client_secret": client_secret,
        "client_uri": "https://client.example.com/",
        "scope": "openid profile",
        "grant_types": ["authorization_code", "implicit"],
        "redirect_uris": ["https://client.example.com/callback"]
    })
}

/// Provider settings as in `realms/*.json`, with open registration on or off.
pub fn provider_settings(open: bool) -> Value {
    json!({
        "allow_open_dynamic_registration": open,
        "require_software_statement": false,
        "required_software_statement_attested_attributes": ["redirect_uris"],
        "dynamic_client_registration_scope": "dynamic_client_registration",
        "generate_registration_access_tokens": true,
        "client_registration_scope_allowlist": ["address", "phone", "openid", "profile", "email"],
        "default_scopes": ["address", "phone", "openid", "profile", "email"],
        "access_token_lifetime_seconds": 3600,
        "response_profile": "standard",
        "default_access_token_audience": null,
        "allowed_resources": []
    })
}

/// A string field of a JSON body.
pub fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {body}"))
}

/// Copies a directory tree (a server's data, to restart over it in the same process).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub const STABLE_PUBLIC_URL: &str = "http://dynreg.test";

/// A server over `data_dir`, run as a local task; answers its API and a stop handle.
pub async fn start_over(data_dir: &std::path::Path) -> (Api, actix_web::dev::ServerHandle) {
    let token_file = data_dir.join("admin-token");
    if !token_file.exists() {
        std::fs::write(&token_file, ADMIN_TOKEN).unwrap();
    }
    let mut settings = Settings::for_data_dir(data_dir.join("data"), repo_realms_dir());
    settings.admin_token_file = Some(token_file);
    // A fixed public URL keeps the issuer, and so an assertion's `aud`, across restarts.
    settings.public_url = Some(STABLE_PUBLIC_URL.to_owned());
    let app = Application::build(settings).await.expect("server builds");
    let api = Api {
        address: format!("http://{}", app.address()),
        client: awc::Client::default(),
    };
    let handle = app.stop_handle();
    actix_rt::spawn(app.run_until_stopped());
    (api, handle)
}
