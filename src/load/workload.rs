//! What the load tool sends: targets (per realm endpoints), the operation mix, and the
//! per-connection loops.

use super::options::LoadOptions;
use super::report::{Progress, Stats};
use awc::http::{Method, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN_CLIENT_ID: &str = "load-token-client";
const TOKEN_CLIENT_SECRET: &str = "load-token-client-secret";

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Register,
    Read,
    Update,
    Delete,
    Token,
    RegisterWithToken,
}

impl Operation {
    const ALL: [Operation; 6] = [
        Self::Register,
        Self::Read,
        Self::Update,
        Self::Delete,
        Self::Token,
        Self::RegisterWithToken,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Token => "token",
            Self::RegisterWithToken => "register-with-token",
        }
    }

    fn needs_prepared_clients(self) -> bool {
        matches!(self, Self::Read | Self::Update | Self::Delete)
    }

    fn needs_token_client(self) -> bool {
        matches!(self, Self::Token | Self::RegisterWithToken)
    }
}

/// Where one realm's requests go.
struct Target {
    registration_endpoint: String,
    token_endpoint: String,
    /// `Authorization: Basic` value of the token client.
    token_client: Option<String>,
    /// Initial access token for `register-with-token`.
    initial_token: Option<String>,
}

/// Everything the connection loops share.
pub struct Plan {
    targets: Vec<Target>,
    /// Every connection waits here after its preparation, so measuring starts together.
    gate: tokio::sync::Barrier,
    /// When measuring started: set by the first connection through the gate.
    pub measuring_since: std::sync::OnceLock<Instant>,
    mix: Vec<(Operation, u32)>,
    body: bytes::Bytes,
    deadline: Option<Duration>,
    remaining: Option<AtomicU64>,
}

impl Plan {
    /// Parses the mix and makes the realms, clients and tokens the run needs.
    pub async fn prepare(options: &LoadOptions) -> Result<Self, String> {
        let mix = parse_mix(&options.mix)?;
        let mut body: Value =
            serde_json::from_str(&options.body).map_err(|e| format!("--body is not JSON: {e}"))?;
        if let Some(path) = &options.software_statement {
            let statement = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let object = body
                .as_object_mut()
                .ok_or("--body must be a JSON object to carry a software statement")?;
            object.insert("software_statement".into(), json!(statement.trim()));
        }
        let needs_token_client = mix.iter().any(|(op, _)| op.needs_token_client());
        let http = client();
        let admin = admin_token(options)?;
        let base = options.base_url.trim_end_matches('/');
        let realm_names: Vec<String> = match options.realms {
            Some(count) => (0..count).map(|i| format!("load-{i}")).collect(),
            None => vec![options.realm.clone()],
        };
        let mut targets = Vec::new();
        for name in &realm_names {
            if options.realms.is_some() {
                ensure_realm(&http, base, admin.as_deref(), name).await?;
            } else if needs_token_client && options.token_client.is_none() {
                ensure_token_client(&http, base, admin.as_deref(), name).await?;
            }
            let realm_base = format!("{base}/am/oauth2/realms/root/realms/{name}");
            let token_client = if needs_token_client {
                let pair = options
                    .token_client
                    .clone()
                    .unwrap_or_else(|| format!("{TOKEN_CLIENT_ID}:{TOKEN_CLIENT_SECRET}"));
                Some(format!("Basic {}", STANDARD.encode(pair)))
            } else {
                None
            };
            targets.push(Target {
                registration_endpoint: options
                    .registration_endpoint
                    .clone()
                    .unwrap_or_else(|| format!("{realm_base}/register")),
                token_endpoint: options
                    .token_endpoint
                    .clone()
                    .unwrap_or_else(|| format!("{realm_base}/access_token")),
                token_client,
                initial_token: None,
            });
        }
        if mix
            .iter()
            .any(|(op, _)| *op == Operation::RegisterWithToken)
        {
            for target in &mut targets {
                let (status, answer) = send_token_request(&http, target).await?;
                let token = answer
                    .get("access_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!("token endpoint answered {status} without a token: {answer}")
                    })?;
                target.initial_token = Some(token.to_owned());
            }
        }
        Ok(Self {
            targets,
            gate: tokio::sync::Barrier::new(options.connections.max(1)),
            measuring_since: std::sync::OnceLock::new(),
            mix,
            body: serde_json::to_vec(&body).map_err(|e| e.to_string())?.into(),
            deadline: match options.requests {
                Some(_) => None,
                None => Some(Duration::from_secs_f64(options.duration.max(0.1))),
            },
            remaining: options.requests.map(AtomicU64::new),
        })
    }

    /// One line about the run, for the operator.
    pub fn describe(&self) -> String {
        let mix: Vec<String> = self
            .mix
            .iter()
            .map(|(op, weight)| format!("{}={weight}", op.name()))
            .collect();
        format!(
            "load: {} realm(s), mix {}, first endpoint {}",
            self.targets.len(),
            mix.join(","),
            self.targets
                .first()
                .map(|t| t.registration_endpoint.as_str())
                .unwrap_or("-")
        )
    }

    fn take_budget(&self) -> bool {
        match &self.remaining {
            None => true,
            Some(remaining) => remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// A client this connection registered and manages.
struct Managed {
    uri: String,
    token: String,
}

/// One connection's loop.
pub struct Worker {
    plan: Arc<Plan>,
    target: usize,
    http: awc::Client,
    managed: Vec<Managed>,
    prepared: usize,
    rng: u64,
    interval: Option<Duration>,
    offset: Duration,
}

impl Worker {
    pub fn new(plan: Arc<Plan>, connection: usize, options: &LoadOptions) -> Self {
        let interval = options
            .rate
            .filter(|rate| *rate > 0.0)
            .map(|rate| Duration::from_secs_f64(options.connections as f64 / rate));
        let offset = interval
            .map(|i| i.mul_f64(connection as f64 / options.connections.max(1) as f64))
            .unwrap_or_default();
        Self {
            target: connection % plan.targets.len().max(1),
            plan,
            http: client(),
            managed: Vec::new(),
            prepared: options.prepared_clients.max(1),
            rng: 0x9E37_79B9_7F4A_7C15
                ^ (connection as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
            interval,
            offset,
        }
    }

    pub async fn run(mut self, progress: &Progress) -> Result<Stats, String> {
        let prepared = self.prepare().await;
        // Wait for every connection even after a failure, so the others are not stuck.
        self.plan.gate.wait().await;
        prepared?;
        let run_started = *self.plan.measuring_since.get_or_init(Instant::now);
        let mut stats = Stats::default();
        let mut sent: u32 = 0;
        loop {
            let scheduled = match self.interval {
                Some(interval) => {
                    let at = run_started + self.offset + interval * sent;
                    let now = Instant::now();
                    if at > now {
                        actix_rt::time::sleep(at - now).await;
                    }
                    at
                }
                None => Instant::now(),
            };
            if self
                .plan
                .deadline
                .is_some_and(|deadline| scheduled.duration_since(run_started) >= deadline)
                || !self.plan.take_budget()
            {
                break;
            }
            sent = sent.saturating_add(1);
            let operation = self.pick();
            // Spread requests over every realm, whatever the number of connections.
            self.target = (self.target + 1) % self.plan.targets.len().max(1);
            let outcome = self.perform(operation).await;
            stats.record(operation.name(), scheduled.elapsed(), outcome);
            progress.tick();
        }
        stats.finished_at(Instant::now());
        Ok(stats)
    }

    /// Registers the clients that read, update and delete work on, over every realm.
    async fn prepare(&mut self) -> Result<(), String> {
        if self
            .plan
            .mix
            .iter()
            .any(|(op, _)| op.needs_prepared_clients())
        {
            while self.managed.len() < self.prepared {
                self.register_managed().await?;
                self.target = (self.target + 1) % self.plan.targets.len().max(1);
            }
        }
        Ok(())
    }

    fn pick(&mut self) -> Operation {
        // xorshift64*: cheap, deterministic per connection.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let total: u32 = self.plan.mix.iter().map(|(_, w)| w).sum();
        let mut roll = (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as u32 % total.max(1);
        for (operation, weight) in &self.plan.mix {
            if roll < *weight {
                return *operation;
            }
            roll -= weight;
        }
        Operation::Register
    }

    /// Sends one request; `Ok(status)` for any HTTP answer, `Err` for transport failures.
    async fn perform(&mut self, operation: Operation) -> Result<StatusCode, String> {
        let target = self.plan.targets.get(self.target).ok_or("no target")?;
        match operation {
            Operation::Register => {
                let endpoint = target.registration_endpoint.clone();
                let (status, _) = self.send(Method::POST, &endpoint, None, true).await?;
                Ok(status)
            }
            Operation::RegisterWithToken => {
                let endpoint = target.registration_endpoint.clone();
                let token = target.initial_token.clone();
                let (status, _) = self
                    .send(Method::POST, &endpoint, token.as_deref(), true)
                    .await?;
                Ok(status)
            }
            Operation::Token => Ok(send_token_request(&self.http, target).await?.0),
            Operation::Read | Operation::Update | Operation::Delete => {
                if self.managed.is_empty() {
                    self.register_managed().await?;
                }
                let index = (self.rng as usize) % self.managed.len();
                let Some(client) = self.managed.get(index) else {
                    return Err("no managed client".into());
                };
                let (uri, token) = (client.uri.clone(), client.token.clone());
                let method = match operation {
                    Operation::Read => Method::GET,
                    Operation::Update => Method::PUT,
                    _ => Method::DELETE,
                };
                let with_body = operation == Operation::Update;
                let (status, answer) = self.send(method, &uri, Some(&token), with_body).await?;
                if operation == Operation::Update {
                    if let (Some(fresh), Some(client)) = (
                        answer
                            .get("registration_access_token")
                            .and_then(Value::as_str),
                        self.managed.get_mut(index),
                    ) {
                        client.token = fresh.to_owned();
                    }
                }
                if operation == Operation::Delete && status.is_success() {
                    self.managed.swap_remove(index);
                }
                Ok(status)
            }
        }
    }

    async fn register_managed(&mut self) -> Result<(), String> {
        let target = self.plan.targets.get(self.target).ok_or("no target")?;
        let endpoint = target.registration_endpoint.clone();
        let (status, answer) = self.send(Method::POST, &endpoint, None, true).await?;
        let uri = answer
            .get("registration_client_uri")
            .and_then(Value::as_str);
        let token = answer
            .get("registration_access_token")
            .and_then(Value::as_str);
        match (status.is_success(), uri, token) {
            (true, Some(uri), Some(token)) => {
                self.managed.push(Managed {
                    uri: uri.to_owned(),
                    token: token.to_owned(),
                });
                Ok(())
            }
            _ => Err(format!(
                "preparing a client failed: {status} {answer} (is open registration on?)"
            )),
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        with_body: bool,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self.http.request(method, url);
        if let Some(token) = bearer {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut response = if with_body {
            request
                .insert_header(("Content-Type", "application/json"))
                .send_body(self.plan.body.clone())
                .await
        } else {
            request.send().await
        }
        .map_err(|e| e.to_string())?;
        let bytes = response
            .body()
            .limit(1 << 20)
            .await
            .map_err(|e| e.to_string())?;
        Ok((
            response.status(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .finish()
}

async fn send_token_request(
    http: &awc::Client,
    target: &Target,
) -> Result<(StatusCode, Value), String> {
    let auth = target
        .token_client
        .clone()
        .ok_or("no token client configured")?;
    let mut response = http
        .post(&target.token_endpoint)
        .insert_header(("Authorization", auth))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("grant_type=client_credentials")
        .await
        .map_err(|e| e.to_string())?;
    let bytes = response.body().await.map_err(|e| e.to_string())?;
    Ok((
        response.status(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

fn parse_mix(mix: &str) -> Result<Vec<(Operation, u32)>, String> {
    let mut out = Vec::new();
    for part in mix.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
        let operation = Operation::ALL
            .into_iter()
            .find(|op| op.name() == name.trim())
            .ok_or_else(|| format!("unknown operation {name:?} in --mix"))?;
        let weight: u32 = weight
            .trim()
            .parse()
            .map_err(|_| format!("bad weight in --mix: {part:?}"))?;
        if weight > 0 {
            out.push((operation, weight));
        }
    }
    if out.is_empty() {
        return Err("--mix names no operation".into());
    }
    Ok(out)
}

fn admin_token(options: &LoadOptions) -> Result<Option<String>, String> {
    if let Some(token) = &options.admin_token {
        return Ok(Some(token.clone()));
    }
    match &options.admin_token_file {
        Some(path) => std::fs::read_to_string(path)
            .map(|t| Some(t.trim().to_owned()))
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => Ok(None),
    }
}

async fn admin_call(
    http: &awc::Client,
    method: Method,
    url: &str,
    admin: Option<&str>,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), String> {
    let admin =
        admin.ok_or("this run needs the admin token (--admin-token or --admin-token-file)")?;
    let request = http
        .request(method, url)
        .insert_header(("Authorization", format!("Bearer {admin}")));
    let mut response = match body {
        Some(body) => request.send_json(body).await,
        None => request.send().await,
    }
    .map_err(|e| format!("{url}: {e}"))?;
    let bytes = response.body().await.map_err(|e| e.to_string())?;
    Ok((
        response.status(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

fn token_client_document() -> Value {
    json!({
        "client_id": TOKEN_CLIENT_ID,
        "client_secret": TOKEN_CLIENT_SECRET,
        "grant_types": ["client_credentials"],
        "scopes": ["dynamic_client_registration"],
    })
}

async fn ensure_realm(
    http: &awc::Client,
    base: &str,
    admin: Option<&str>,
    name: &str,
) -> Result<(), String> {
    let url = format!("{base}/admin/realms/{name}");
    let (status, _) = admin_call(http, Method::GET, &url, admin, None).await?;
    if status == StatusCode::NOT_FOUND {
        let document = json!({
            "oauth2_provider": { "allow_open_dynamic_registration": true },
            "clients": [token_client_document()],
        });
        let (status, answer) = admin_call(http, Method::PUT, &url, admin, Some(&document)).await?;
        if !status.is_success() {
            return Err(format!("creating realm {name} failed: {status} {answer}"));
        }
    }
    Ok(())
}

async fn ensure_token_client(
    http: &awc::Client,
    base: &str,
    admin: Option<&str>,
    realm: &str,
) -> Result<(), String> {
    let url = format!("{base}/admin/realms/{realm}/clients/{TOKEN_CLIENT_ID}");
    let (status, answer) = admin_call(
        http,
        Method::PUT,
        &url,
        admin,
        Some(&token_client_document()),
    )
    .await?;
    if !status.is_success() {
        return Err(format!(
            "creating the token client failed: {status} {answer}"
        ));
    }
    Ok(())
}
