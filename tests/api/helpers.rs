//! `spawn_app()`: a real server on 127.0.0.1:0 with its own temporary data directory, the
//! repository's `realms/` and a known admin token; plus request helpers.

use awc::http::{header::HeaderMap, Method, StatusCode};
use dynreg::config::Settings;
use dynreg::startup::Application;
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    /// Held so the directory lives as long as the server; dropping it deletes the data.
    #[allow(dead_code)]
    pub data_dir: TempDir,
}

/// A response with its body parsed as JSON (`Value::Null` when empty or not JSON).
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
        address,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        data_dir,
    }
}

/// Base path `B` of a realm.
pub fn base(realm: &str) -> String {
    if realm == "root" {
        "/am/oauth2/realms/root".to_owned()
    } else {
        format!("/am/oauth2/realms/root/realms/{realm}")
    }
}

impl TestApp {
    /// Sends a request; `body` is sent as is, `bearer` as `Authorization: Bearer`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        bearer: Option<&str>,
    ) -> TestResponse {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(token) = bearer {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut response = match body {
            Some(body) => request
                .insert_header(("Content-Type", "application/json"))
                .send_body(body.to_vec()),
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

    pub async fn post_json(&self, path: &str, body: &Value, bearer: Option<&str>) -> TestResponse {
        let bytes = serde_json::to_vec(body).unwrap();
        self.request(Method::POST, path, Some(&bytes), bearer).await
    }

    /// `POST B/register` without a token.
    pub async fn register(&self, realm: &str, body: &Value) -> TestResponse {
        self.post_json(&format!("{}/register", base(realm)), body, None)
            .await
    }

    /// Registers and asserts 201; returns the response body.
    pub async fn register_ok(&self, realm: &str, body: &Value) -> Value {
        let response = self.register(realm, body).await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.body
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
        let path = format!("{}/register?client_id={client_id}", base(realm));
        self.request(method, &path, bytes.as_deref(), token).await
    }

    /// An admin call with the admin token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> TestResponse {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.request(method, path, bytes.as_deref(), Some(ADMIN_TOKEN))
            .await
    }
}

/// The seed's open-registration request body.
pub fn seed_registration() -> Value {
    serde_json::json!({
        "redirect_uris": ["https://client.example.com/callback"],
        "client_name#en": "My Client",
        "client_name#ja-Jpan-JP": "\u{30AF}\u{30E9}\u{30A4}\u{30A2}\u{30F3}\u{30C8}\u{540D}",
        "client_uri": "https://client.example.com/"
    })
}
