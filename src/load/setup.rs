//! What a run needs on the server before it starts, made through the public admin API, and
//! its removal afterwards: realms (`--realms N`), the `client_credentials` client of the token
//! operations, the initial access token of `register-with-token`. Names and secrets are
//! random per run, so nothing the tool leaves behind (with `--keep`) can be guessed from its
//! source. Also the pre-flight checks that the base URL and realm are right.

use super::conn::{Connection, Request, Response};
use super::options::LoadOptions;
use super::workload::{Operation, Target};
use crate::secret::Secret;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};

/// What this run created on the server, to remove at the end.
pub struct Fixtures {
    base: String,
    admin: Option<String>,
    conn: Connection,
    /// Random per run: part of every name the run creates.
    run_id: String,
    /// Realms this run created (`--realms N`).
    realms: Vec<String>,
    /// `(realm, client_id)` of token clients made in existing realms.
    token_clients: Vec<(String, String)>,
    /// Where the requests go, for the operator.
    description: String,
}

/// A `client_credentials` client: id and secret.
struct TokenClient {
    id: String,
    secret: String,
}

impl TokenClient {
    fn authorization(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.id, self.secret))
        )
    }

    /// The admin API's client document: only `client_credentials`, and the registration
    /// scope only when the run registers with initial access tokens.
    fn document(&self, registration_scope: bool) -> Value {
        let scopes: &[&str] = if registration_scope {
            &["dynamic_client_registration"]
        } else {
            &[]
        };
        json!({
            "client_id": self.id,
            "client_secret": self.secret,
            "grant_types": ["client_credentials"],
            "scopes": scopes,
        })
    }
}

/// 256 random bits, base64url: made as the server makes client secrets.
fn random_secret() -> Result<String, String> {
    Secret::generate()
        .map(|secret| secret.expose().to_owned())
        .map_err(|e| format!("no randomness: {e}"))
}

impl Fixtures {
    pub fn new(options: &LoadOptions) -> Result<Self, String> {
        let admin = match (&options.admin_token, &options.admin_token_file) {
            (Some(token), _) => Some(token.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map(|t| t.trim().to_owned())
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            ),
            (None, None) => None,
        };
        let mut run_id = uuid::Uuid::new_v4().simple().to_string();
        run_id.truncate(12);
        Ok(Self {
            base: options.base_url.trim_end_matches('/').to_owned(),
            admin,
            conn: Connection::default(),
            run_id,
            realms: Vec::new(),
            token_clients: Vec::new(),
            description: String::new(),
        })
    }

    /// The connection used for set-up, pre-flight and clean-up.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Whether the run made its realms (then removing them removes everything in them).
    pub fn owns_realms(&self) -> bool {
        !self.realms.is_empty()
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Checks the server and makes what the run needs; returns the targets, one per realm.
    pub async fn targets(
        &mut self,
        options: &LoadOptions,
        mix: &[(Operation, u32)],
        body: &[u8],
        stopping: &AtomicBool,
    ) -> Result<Vec<Target>, String> {
        if let Some(url) = &options.url {
            let headers: Vec<(&str, &str)> = options
                .header
                .iter()
                .map(|h| h.split_once(':').map(|(n, v)| (n.trim(), v.trim())))
                .collect::<Option<_>>()
                .ok_or("--header must be \"Name: value\"")?;
            self.description = format!("GET {url}");
            return Ok(vec![Target {
                register: None,
                register_with_token: None,
                token: None,
                get: Some(Request::new("GET", url, &headers, None)?),
            }]);
        }
        let needs_token = mix.iter().any(|(op, _)| op.needs_token_client());
        let with_initial_token = mix
            .iter()
            .any(|(op, _)| *op == Operation::RegisterWithToken);
        let given_client = options
            .token_client
            .as_deref()
            .map(|pair| {
                pair.split_once(':')
                    .map(|(id, secret)| TokenClient {
                        id: id.to_owned(),
                        secret: secret.to_owned(),
                    })
                    .ok_or("--token-client must be client_id:client_secret")
            })
            .transpose()?;
        let token_client = match given_client {
            Some(client) => Some(client),
            None if needs_token => Some(TokenClient {
                id: format!("load-token-{}", self.run_id),
                secret: random_secret()?,
            }),
            None => None,
        };
        let made_by_us = needs_token && options.token_client.is_none();
        let realm_names = match options.realms {
            Some(count) => {
                if options.token_client.is_some() {
                    return Err("--token-client cannot be used with --realms (the run makes the token client of its realms)".into());
                }
                let realm_token_client = token_client
                    .as_ref()
                    .map(|client| client.document(with_initial_token));
                for i in 0..count {
                    if stopping.load(Ordering::Relaxed) {
                        return Err("interrupted while creating realms".into());
                    }
                    let name = format!("load-{}-{i}", self.run_id);
                    self.create_realm(&name, realm_token_client.as_ref())
                        .await?;
                    self.realms.push(name);
                }
                self.realms.clone()
            }
            None => {
                let realms: Vec<String> = options
                    .realm
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned)
                    .collect();
                for realm in &realms {
                    if stopping.load(Ordering::Relaxed) {
                        return Err("interrupted while checking realms".into());
                    }
                    if options.registration_endpoint.is_none() || options.token_endpoint.is_none() {
                        self.check_realm(realm).await?;
                    }
                    if let (Some(client), true) = (&token_client, made_by_us) {
                        self.create_token_client(realm, client, with_initial_token)
                            .await?;
                    }
                }
                realms
            }
        };
        let mut targets = Vec::with_capacity(realm_names.len());
        for name in &realm_names {
            let realm_base = format!("{}/am/oauth2/realms/root/realms/{name}", self.base);
            let registration = options
                .registration_endpoint
                .clone()
                .unwrap_or_else(|| format!("{realm_base}/register"));
            let token_endpoint = options
                .token_endpoint
                .clone()
                .unwrap_or_else(|| format!("{realm_base}/access_token"));
            let json_body = [("Content-Type", "application/json")];
            let token = token_client
                .as_ref()
                .map(|client| {
                    Request::new(
                        "POST",
                        &token_endpoint,
                        &[
                            ("Authorization", client.authorization().as_str()),
                            ("Content-Type", "application/x-www-form-urlencoded"),
                        ],
                        Some(b"grant_type=client_credentials"),
                    )
                })
                .transpose()?;
            let register_with_token = match (&token, with_initial_token) {
                (Some(token), true) => {
                    let access = self.initial_access_token(token).await?;
                    Some(Request::new(
                        "POST",
                        &registration,
                        &[
                            ("Authorization", format!("Bearer {access}").as_str()),
                            json_body[0],
                        ],
                        Some(body),
                    )?)
                }
                _ => None,
            };
            targets.push(Target {
                register: Some(Request::new("POST", &registration, &json_body, Some(body))?),
                register_with_token,
                token,
                get: None,
            });
        }
        self.description = match self.realms.as_slice() {
            [] => format!("realm {} at {}", realm_names.join(","), self.base),
            [first, .., last] => format!("{} new realms {first} … {last}", self.realms.len()),
            [only] => format!("new realm {only}"),
        };
        Ok(targets)
    }

    /// A token from the token endpoint, with the token client (the initial access token).
    async fn initial_access_token(&mut self, token: &Request) -> Result<String, String> {
        let response = self
            .conn
            .send(token)
            .await
            .map_err(|e| format!("token request: {e}"))?;
        response
            .json()
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("token endpoint answered {}", response.describe()))
    }

    /// Pre-flight of an existing realm: its discovery document must answer 200.
    async fn check_realm(&mut self, realm: &str) -> Result<(), String> {
        let url = format!(
            "{}/am/oauth2/realms/root/realms/{realm}/.well-known/openid-configuration",
            self.base
        );
        let response = self
            .conn
            .send(&Request::new("GET", &url, &[], None)?)
            .await
            .map_err(|e| self.unreachable(&e))?;
        match response.status {
            200 => Ok(()),
            404 => Err(format!(
                "realm {realm:?} not found at {}: GET {url} answered 404 (check --realm and --base-url)",
                self.base
            )),
            _ => Err(format!("GET {url} answered {}", response.describe())),
        }
    }

    fn unreachable(&self, error: &str) -> String {
        format!(
            "cannot reach {}: {error} (is the server running, is --base-url right?)",
            self.base
        )
    }

    /// A request to the admin API; transport errors and a refused token get clear messages.
    async fn admin(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        needed_for: &str,
    ) -> Result<Response, String> {
        let admin = self.admin.clone().ok_or_else(|| {
            format!("{needed_for} needs the admin token (--admin-token or --admin-token-file)")
        })?;
        let url = format!("{}/admin{path}", self.base);
        let bearer = format!("Bearer {admin}");
        let body = body
            .map(|b| serde_json::to_vec(b).map_err(|e| e.to_string()))
            .transpose()?;
        let request = Request::new(
            method,
            &url,
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/json"),
            ],
            body.as_deref(),
        )?;
        let response = self
            .conn
            .send(&request)
            .await
            .map_err(|e| self.unreachable(&e))?;
        if matches!(response.status, 401 | 403) {
            return Err(format!(
                "the admin API refused the admin token ({method} {url} answered {})",
                response.describe()
            ));
        }
        Ok(response)
    }

    /// Creates a realm with open registration (and the token client, if any); refuses to
    /// touch a realm that already exists.
    async fn create_realm(
        &mut self,
        name: &str,
        token_client: Option<&Value>,
    ) -> Result<(), String> {
        let path = format!("/realms/{name}");
        let existing = self.admin("GET", &path, None, "--realms").await?;
        if existing.status != 404 {
            return Err(format!(
                "realm {name} already exists or cannot be checked (GET answered {})",
                existing.describe()
            ));
        }
        let document = json!({
            "oauth2_provider": { "allow_open_dynamic_registration": true },
            "clients": token_client.into_iter().collect::<Vec<_>>(),
        });
        let created = self
            .admin("PUT", &path, Some(&document), "--realms")
            .await?;
        if !created.is_success() {
            return Err(format!(
                "creating realm {name} failed: {}",
                created.describe()
            ));
        }
        Ok(())
    }

    async fn create_token_client(
        &mut self,
        realm: &str,
        client: &TokenClient,
        registration_scope: bool,
    ) -> Result<(), String> {
        let path = format!("/realms/{realm}/clients/{}", client.id);
        let document = client.document(registration_scope);
        let created = self
            .admin("PUT", &path, Some(&document), "the token operations")
            .await?;
        if !created.is_success() {
            return Err(format!(
                "creating the token client in realm {realm} failed: {}",
                created.describe()
            ));
        }
        self.token_clients
            .push((realm.to_owned(), client.id.clone()));
        Ok(())
    }

    /// Deletes what the run created. Errors name what was left behind.
    pub async fn remove(&mut self) -> Result<(), String> {
        let mut left = Vec::new();
        for (realm, id) in std::mem::take(&mut self.token_clients) {
            let path = format!("/realms/{realm}/clients/{id}");
            match self.admin("DELETE", &path, None, "clean-up").await {
                Ok(r) if r.is_success() || r.status == 404 => {}
                Ok(r) => left.push(format!("client {id} in realm {realm} ({})", r.describe())),
                Err(e) => left.push(format!("client {id} in realm {realm} ({e})")),
            }
        }
        for realm in std::mem::take(&mut self.realms) {
            match self
                .admin("DELETE", &format!("/realms/{realm}"), None, "clean-up")
                .await
            {
                Ok(r) if r.is_success() || r.status == 404 => {}
                Ok(r) => left.push(format!("realm {realm} ({})", r.describe())),
                Err(e) => left.push(format!("realm {realm} ({e})")),
            }
        }
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("clean-up failed, left behind: {}", left.join("; ")))
        }
    }

    /// What `--keep` leaves on the server, for the operator.
    pub fn kept(&self) -> Option<String> {
        let mut kept = Vec::new();
        if let (Some(first), Some(last)) = (self.realms.first(), self.realms.last()) {
            kept.push(format!(
                "{} realm(s) {first} … {last} (open registration on)",
                self.realms.len()
            ));
        }
        for (realm, id) in &self.token_clients {
            kept.push(format!("token client {id} in realm {realm}"));
        }
        (!kept.is_empty()).then(|| kept.join("; "))
    }
}
