//! Running the real `dynreg` binary for tests that need a process: kill -9, SIGTERM, the
//! seed script. Each test binary uses a part of this, hence the `dead_code` allowance.
#![allow(dead_code)]

use serde_json::Value;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const ADMIN_TOKEN: &str = "process-test-admin-token-0123456789";

/// How long a server may take to answer `/health` or to exit.
const PATIENCE: Duration = Duration::from_secs(20);

/// A server's home: data directory and admin token file, kept across restarts.
pub struct Home {
    dir: TempDir,
}

impl Home {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("admin-token"), ADMIN_TOKEN).expect("admin token file");
        Self { dir }
    }

    /// A path inside the home, for files a test creates (fault triggers).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn token_file(&self) -> PathBuf {
        self.dir.path().join("admin-token")
    }

    fn log_file(&self, run: usize) -> PathBuf {
        self.dir.path().join(format!("server-{run}.log"))
    }
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

fn repo_realms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("realms")
}

/// A running `dynreg` process; killed on drop if still running.
pub struct Server {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl Server {
    /// Starts the binary on a free port over `home` and waits until `/health` answers.
    /// `run` numbers the starts of one home, so each keeps its own log.
    pub async fn start(home: &Home, run: usize) -> Self {
        Self::start_with_args(home, run, &[]).await
    }

    /// [`Server::start`] with extra command-line arguments.
    pub async fn start_with_args(home: &Home, run: usize, extra: &[&str]) -> Self {
        let port = free_port();
        let log = home.log_file(run);
        let child = Command::new(env!("CARGO_BIN_EXE_dynreg"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(home.data_dir())
            .arg("--realms-dir")
            .arg(repo_realms_dir())
            .arg("--admin-token-file")
            .arg(home.token_file())
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("the dynreg binary starts");
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_healthy().await;
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_healthy(&mut self) {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(2))
            .finish();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!(
                    "dynreg exited with {status} before answering:\n{}",
                    self.log()
                );
            }
            if let Ok(response) = client.get(format!("{}/health", self.url)).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            assert!(
                started.elapsed() < PATIENCE,
                "dynreg did not answer /health:\n{}",
                self.log()
            );
            actix_rt::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL (`Child::kill` on Unix), then reaps the process.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "dynreg did not exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends a request; an error only when no HTTP response came back (e.g. the server died).
pub async fn send(
    client: &awc::Client,
    method: awc::http::Method,
    url: &str,
    body: Option<&Value>,
    bearer: Option<&str>,
) -> Result<(u16, Value), String> {
    let mut request = client.request(method, url);
    if let Some(token) = bearer {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    let mut response = match body {
        Some(body) => request.send_json(body).await,
        None => request.send().await,
    }
    .map_err(|e| e.to_string())?;
    let raw = response.body().await.map_err(|e| e.to_string())?;
    let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Ok((response.status().as_u16(), json))
}

/// A client for these tests.
pub fn http_client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish()
}
