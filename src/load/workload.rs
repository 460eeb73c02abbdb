//! What the load tool sends: targets (per realm endpoints), the operation mix, and the
//! per-connection loops.

use super::conn::{Connection, Request, Response};
use super::options::LoadOptions;
use super::report::{Progress, Stats};
use super::setup::Fixtures;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Register,
    Read,
    Update,
    Delete,
    Token,
    RegisterWithToken,
    Get,
}

impl Operation {
    const ALL: [Operation; 7] = [
        Self::Register,
        Self::Read,
        Self::Update,
        Self::Delete,
        Self::Token,
        Self::RegisterWithToken,
        Self::Get,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Token => "token",
            Self::RegisterWithToken => "register-with-token",
            Self::Get => "get",
        }
    }

    fn needs_prepared_clients(self) -> bool {
        matches!(self, Self::Read | Self::Update | Self::Delete)
    }

    pub fn needs_token_client(self) -> bool {
        matches!(self, Self::Token | Self::RegisterWithToken)
    }
}

/// Where one realm's requests go, rendered once.
pub struct Target {
    /// Open registration with the run's body.
    pub register: Option<Request>,
    /// Registration with the initial access token (`register-with-token`).
    pub register_with_token: Option<Request>,
    /// `client_credentials` with the token client.
    pub token: Option<Request>,
    /// The fixed URL of `--url`.
    pub get: Option<Request>,
}

impl Target {
    /// The request of an operation that sends the same bytes every time (`None` for the
    /// operations on registered clients, and for kinds this target does not have).
    fn fixed(&self, operation: Operation) -> Option<&Request> {
        match operation {
            Operation::Register => self.register.as_ref(),
            Operation::RegisterWithToken => self.register_with_token.as_ref(),
            Operation::Token => self.token.as_ref(),
            Operation::Get => self.get.as_ref(),
            Operation::Read | Operation::Update | Operation::Delete => None,
        }
    }
}

/// Everything the connection loops share.
pub struct Plan {
    pub targets: Vec<Target>,
    /// Every connection waits here after its preparation, so measuring starts together.
    gate: tokio::sync::Barrier,
    /// When measuring started: set by the first connection through the gate.
    pub measuring_since: std::sync::OnceLock<Instant>,
    pub mix: Vec<(Operation, u32)>,
    /// The registration body as a JSON object (updates add `client_id` to it).
    pub body: Map<String, Value>,
    deadline: Option<Duration>,
    remaining: Option<AtomicU64>,
    /// Set on Ctrl-C: connections stop at their next request.
    pub stopping: Arc<AtomicBool>,
    /// Whether connections delete the clients they prepared when they finish.
    delete_prepared: bool,
}

impl Plan {
    /// Parses the mix and body, makes the realms and clients the run needs (recorded in
    /// `fixtures` for the clean-up) and checks that every kind of request gets a 2xx.
    pub async fn prepare(
        options: &LoadOptions,
        fixtures: &mut Fixtures,
        stopping: Arc<AtomicBool>,
    ) -> Result<Self, String> {
        let mix = match &options.url {
            Some(_) => vec![(Operation::Get, 1)],
            None => parse_mix(&options.mix)?,
        };
        let body = registration_body(options)?;
        let body_bytes: Bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?.into();
        let targets = fixtures
            .targets(options, &mix, &body_bytes, &stopping)
            .await?;
        let plan = Self {
            targets,
            gate: tokio::sync::Barrier::new(options.connections.max(1)),
            measuring_since: std::sync::OnceLock::new(),
            mix,
            body,
            deadline: match options.requests {
                Some(_) => None,
                None => Some(Duration::from_secs_f64(options.duration.max(0.1))),
            },
            remaining: options.requests.map(AtomicU64::new),
            stopping,
            delete_prepared: !options.keep && !fixtures.owns_realms(),
        };
        plan.probe(fixtures.connection()).await?;
        Ok(plan)
    }

    /// One request of each fixed kind in the mix to the first target, before measuring, so a
    /// wrong URL, realm or policy stops the run with the server's answer instead of a table
    /// of errors. Clients it registers are deleted again.
    async fn probe(&self, conn: &mut Connection) -> Result<(), String> {
        let Some(target) = self.targets.first() else {
            return Err("no target".into());
        };
        for (operation, _) in &self.mix {
            // Read, update and delete are covered by each connection's preparation, which
            // registers its clients.
            let Some(request) = target.fixed(*operation) else {
                continue;
            };
            let response = conn
                .send(request)
                .await
                .map_err(|e| format!("pre-flight {}: {e}", operation.name()))?;
            if !response.is_success() {
                return Err(format!(
                    "pre-flight {} answered {}{}",
                    operation.name(),
                    response.describe(),
                    match operation {
                        Operation::Register => " (is open registration on in this realm?)",
                        _ => "",
                    }
                ));
            }
            if matches!(
                operation,
                Operation::Register | Operation::RegisterWithToken
            ) {
                if let Some(client) = Managed::from_registration(self, &response)? {
                    let _ = conn.send(&client.delete).await;
                }
            }
        }
        Ok(())
    }

    /// One line about the run, for the operator.
    pub fn describe(&self, targets: &str) -> String {
        let mix: Vec<String> = self
            .mix
            .iter()
            .map(|(op, weight)| format!("{}={weight}", op.name()))
            .collect();
        format!("load: {targets}, mix {}", mix.join(","),)
    }

    fn take_budget(&self) -> bool {
        if self.stopping.load(Ordering::Relaxed) {
            return false;
        }
        match &self.remaining {
            None => true,
            Some(remaining) => remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// The registration body: `--body`, plus the software statement if one is given.
fn registration_body(options: &LoadOptions) -> Result<Map<String, Value>, String> {
    let body: Value =
        serde_json::from_str(&options.body).map_err(|e| format!("--body is not JSON: {e}"))?;
    let Value::Object(mut body) = body else {
        return Err("--body must be a JSON object".into());
    };
    if let Some(path) = &options.software_statement {
        let statement = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        body.insert("software_statement".into(), json!(statement.trim()));
    }
    Ok(body)
}

/// A client a connection registered and manages, with its requests rendered.
struct Managed {
    read: Request,
    update: Request,
    delete: Request,
}

impl Managed {
    /// The client of a successful registration answer; `None` if the answer lacks the
    /// management fields (a server without RFC 7592).
    fn from_registration(plan: &Plan, response: &Response) -> Result<Option<Self>, String> {
        let answer = response.json();
        let field = |name: &str| answer.get(name).and_then(Value::as_str);
        let (Some(client_id), Some(uri), Some(token)) = (
            field("client_id"),
            field("registration_client_uri"),
            field("registration_access_token"),
        ) else {
            return Ok(None);
        };
        Self::new(plan, client_id, uri, token).map(Some)
    }

    fn new(plan: &Plan, client_id: &str, uri: &str, token: &str) -> Result<Self, String> {
        let bearer = format!("Bearer {token}");
        let mut body = plan.body.clone();
        body.insert("client_id".into(), json!(client_id));
        let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        Ok(Self {
            read: Request::new("GET", uri, &[("Authorization", bearer.as_str())], None)?,
            update: Request::new(
                "PUT",
                uri,
                &[
                    ("Authorization", bearer.as_str()),
                    ("Content-Type", "application/json"),
                ],
                Some(&body),
            )?,
            delete: Request::new("DELETE", uri, &[("Authorization", bearer.as_str())], None)?,
        })
    }
}

/// What one connection measured.
pub struct WorkerOutcome {
    pub stats: Stats,
    /// Clients its `register` operations created that it does not delete.
    pub registered: u64,
}

/// One connection's loop.
pub struct Worker {
    plan: Arc<Plan>,
    target: usize,
    conn: Connection,
    managed: Vec<Managed>,
    prepared: usize,
    registered: u64,
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
            conn: Connection::default(),
            managed: Vec::new(),
            prepared: options.prepared_clients.max(1),
            registered: 0,
            rng: 0x9E37_79B9_7F4A_7C15
                ^ (connection as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
            interval,
            offset,
        }
    }

    pub async fn run(mut self, progress: &Progress) -> Result<WorkerOutcome, String> {
        let prepared = self.prepare().await;
        // Wait for every connection even after a failure, so the others are not stuck.
        self.plan.gate.wait().await;
        if let Err(why) = prepared {
            // Stop the other connections too: the run ends with this error.
            self.plan.stopping.store(true, Ordering::Relaxed);
            self.delete_prepared().await;
            return Err(why);
        }
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
            let success = matches!(outcome, Ok(status) if (200..300).contains(&status));
            if success && operation == Operation::Register {
                self.registered += 1;
            }
            stats.record(operation.name(), scheduled.elapsed(), outcome);
            progress.tick(success);
        }
        stats.finished_at(Instant::now());
        self.delete_prepared().await;
        Ok(WorkerOutcome {
            stats,
            registered: self.registered,
        })
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

    /// Deletes the prepared clients still alive (not when `--keep`, nor in realms the run
    /// made, which go as a whole).
    async fn delete_prepared(&mut self) {
        if self.plan.delete_prepared {
            for client in std::mem::take(&mut self.managed) {
                let _ = self.conn.send(&client.delete).await;
            }
        }
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
    async fn perform(&mut self, operation: Operation) -> Result<u16, String> {
        let plan = Arc::clone(&self.plan);
        let target = plan.targets.get(self.target).ok_or("no target")?;
        if let Some(request) = target.fixed(operation) {
            return Ok(self.conn.send(request).await?.status);
        }
        if self.managed.is_empty() {
            self.register_managed().await?;
        }
        let index = (self.rng as usize) % self.managed.len().max(1);
        let client = self.managed.get(index).ok_or("no managed client")?;
        let request = match operation {
            Operation::Read => &client.read,
            Operation::Update => &client.update,
            _ => &client.delete,
        };
        let response = self.conn.send(request).await?;
        if response.is_success() {
            match operation {
                Operation::Update => {
                    // A server that rotates the registration access token on update.
                    let answer = response.json();
                    let rotated = answer
                        .get("registration_access_token")
                        .and_then(Value::as_str);
                    let uri = answer
                        .get("registration_client_uri")
                        .and_then(Value::as_str);
                    let client_id = answer.get("client_id").and_then(Value::as_str);
                    if let (Some(token), Some(uri), Some(client_id)) = (rotated, uri, client_id) {
                        let fresh = Managed::new(&plan, client_id, uri, token)?;
                        if let Some(slot) = self.managed.get_mut(index) {
                            *slot = fresh;
                        }
                    }
                }
                Operation::Delete => {
                    self.managed.swap_remove(index);
                }
                _ => {}
            }
        }
        Ok(response.status)
    }

    async fn register_managed(&mut self) -> Result<(), String> {
        let plan = Arc::clone(&self.plan);
        let target = plan.targets.get(self.target).ok_or("no target")?;
        let register = target.register.as_ref().ok_or("no registration endpoint")?;
        let response = self.conn.send(register).await?;
        let client = if response.is_success() {
            Managed::from_registration(&plan, &response)?
        } else {
            None
        };
        match client {
            Some(client) => {
                self.managed.push(client);
                Ok(())
            }
            None => Err(format!(
                "preparing a client failed: {} (is open registration on, with RFC 7592 management?)",
                response.describe()
            )),
        }
    }
}

fn parse_mix(mix: &str) -> Result<Vec<(Operation, u32)>, String> {
    let mut out = Vec::new();
    for part in mix.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
        let operation = Operation::ALL
            .into_iter()
            .filter(|op| *op != Operation::Get)
            .find(|op| op.name() == name.trim())
            .ok_or_else(|| format!("unknown operation {name:?} in --mix (get: use --url)"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_weights_and_refuses_unknown_names() {
        assert_eq!(
            parse_mix("register=1,read=4").expect("parses"),
            vec![(Operation::Register, 1), (Operation::Read, 4)]
        );
        assert_eq!(
            parse_mix("token").expect("parses"),
            vec![(Operation::Token, 1)]
        );
        assert!(parse_mix("fly=1").is_err());
        assert!(parse_mix("get=1").is_err(), "get needs --url");
        assert!(parse_mix("read=x").is_err());
        assert!(parse_mix("read=0").is_err(), "nothing left to send");
    }
}
