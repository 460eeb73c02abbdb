//! The few admin API calls the realm commands make.

use awc::http::{Method, StatusCode};
use serde::Deserialize;
use std::time::Duration;

/// A realm export is read whole: 10,000 clients take about 20 MB.
const MAX_EXPORT_BYTES: usize = 256 * 1024 * 1024;

/// The fields of an export or import answer the move verifies.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub clients: usize,
    pub digest: String,
}

/// One node's admin API.
pub struct Node {
    base: String,
    token: String,
    http: awc::Client,
}

impl Node {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .disable_redirects()
                .finish(),
        }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// Sends an admin request; answers the status and the body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<bytes::Bytes>,
    ) -> Result<(StatusCode, bytes::Bytes), String> {
        let url = format!("{}{path}", self.base);
        let request = self
            .http
            .request(method, &url)
            .insert_header(("Authorization", format!("Bearer {}", self.token)));
        let mut response = match body {
            Some(body) => {
                request
                    .insert_header(("Content-Type", "application/json"))
                    .send_body(body)
                    .await
            }
            None => request.send().await,
        }
        .map_err(|e| format!("{url}: {e}"))?;
        let bytes = response
            .body()
            .limit(MAX_EXPORT_BYTES)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok((response.status(), bytes))
    }

    /// Sends an admin request that must answer `expected`.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<bytes::Bytes>,
        expected: StatusCode,
    ) -> Result<bytes::Bytes, String> {
        let (status, answer) = self.call(method.clone(), path, body).await?;
        if status != expected {
            return Err(format!(
                "{method} {}{path} answered {status}: {}",
                self.base,
                String::from_utf8_lossy(&answer)
            ));
        }
        Ok(answer)
    }

    /// The names of the realms this node holds.
    pub async fn realms(&self) -> Result<Vec<String>, String> {
        #[derive(Deserialize)]
        struct Listing {
            realms: Vec<String>,
        }
        let body = self
            .expect(Method::GET, "/admin/realms", None, StatusCode::OK)
            .await?;
        let listing: Listing = serde_json::from_slice(&body)
            .map_err(|e| format!("{}/admin/realms: {e}", self.base))?;
        Ok(listing.realms)
    }
}

/// Reads the verification fields of an export or import answer.
pub fn summary(body: &[u8]) -> Result<Summary, String> {
    serde_json::from_slice(body).map_err(|e| format!("unexpected export or import answer: {e}"))
}
