//! Settings from flags, with `DYNREG_*` environment fallbacks (SPEC §1).

use crate::http::client_ip::Cidr;
use crate::logging::LogFormat;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// `--request-timeout` when nothing else is said.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a realm may go unused before its actor is stopped.
pub const DEFAULT_REALM_IDLE_SECONDS: u64 = 300;

/// dynreg: multi-realm OAuth 2.0 / OpenID Connect Dynamic Client Registration server.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DYNREG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Directory of the sled database.
    #[arg(long, env = "DYNREG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Directory of realm files imported at start (realms that do not exist yet).
    #[arg(long, env = "DYNREG_REALMS_DIR", default_value = "./realms")]
    pub realms_dir: PathBuf,

    /// Scheme, host and port clients see (issuer, discovery, registration_client_uri).
    /// Default: http://<listen address>.
    #[arg(long, env = "DYNREG_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// File holding the admin token; generated (mode 0600) if missing.
    /// Default: <data-dir>/admin-token.
    #[arg(long, env = "DYNREG_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,

    /// Let jwks_uri fetches use http and loopback/private addresses (development and tests only).
    #[arg(long, env = "DYNREG_ALLOW_INSECURE_FETCH")]
    pub allow_insecure_fetch: bool,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "DYNREG_WORKERS")]
    pub workers: Option<usize>,

    /// sled page cache size in MiB. It fills only with what is read or written; 1 GiB holds
    /// the tree of a realm of about 1,000,000 clients, whose registrations otherwise read
    /// leaves back from the file (measured: 0.79× the rate of an empty realm at 256 MiB,
    /// 0.88–1.0× at 1 GiB). Lower it on a small machine.
    #[arg(long, env = "DYNREG_CACHE_MB", default_value_t = 1024)]
    pub cache_mb: u64,

    /// Proxies (IP addresses or CIDR blocks, comma-separated) whose X-Forwarded-For names the
    /// client address for registration rate limits. Default: none (the TCP peer counts).
    #[arg(
        long = "trusted-proxy",
        env = "DYNREG_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<Cidr>,

    /// Seconds a whole request (head and body) may take to arrive, from its first byte; a late
    /// request gets 408 and its connection is closed.
    #[arg(long, env = "DYNREG_REQUEST_TIMEOUT", default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs())]
    pub request_timeout: u64,

    /// Open connections served at once, over all workers; more wait in the listen backlog.
    /// Capped below the open-file limit.
    #[arg(long, env = "DYNREG_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Connections the kernel queues while every connection slot is taken.
    #[arg(long, env = "DYNREG_BACKLOG", default_value_t = 1024)]
    pub backlog: u32,

    /// Seconds a realm may go unused before its actor is stopped (it starts again on its next
    /// request); 0 keeps every started realm running.
    #[arg(long, env = "DYNREG_REALM_IDLE_SECONDS", default_value_t = DEFAULT_REALM_IDLE_SECONDS)]
    pub realm_idle_seconds: u64,

    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "DYNREG_KEEP_ALIVE", default_value_t = 5)]
    pub keep_alive: u64,

    /// Benchmarks only: skip the fsyncs after each flush, so a 2xx survives `kill -9` but not
    /// a power cut. Lets `scripts/bench.sh` show what they cost.
    #[arg(long, env = "DYNREG_BENCH_SKIP_FSYNC", hide = true)]
    pub bench_skip_fsync: bool,

    /// Tests only (fault injection): while this file exists, every flush fails.
    #[arg(long, env = "DYNREG_FAULT_FAIL_FLUSH_WHILE", hide = true)]
    pub fault_fail_flush_while: Option<PathBuf>,

    /// Log lines as text or as one JSON object per line.
    #[arg(long, env = "DYNREG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Settings {
    /// Defaults for embedding and tests: everything under `data_dir`, a free port.
    pub fn for_data_dir(data_dir: PathBuf, realms_dir: PathBuf) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            data_dir,
            realms_dir,
            public_url: None,
            admin_token_file: None,
            allow_insecure_fetch: false,
            workers: Some(2),
            cache_mb: 64,
            trusted_proxies: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT.as_secs(),
            max_connections: 10_000,
            backlog: 1024,
            keep_alive: 5,
            realm_idle_seconds: DEFAULT_REALM_IDLE_SECONDS,
            bench_skip_fsync: false,
            fault_fail_flush_while: None,
            log_format: LogFormat::Text,
        }
    }

    /// Where the admin token lives.
    pub fn admin_token_path(&self) -> PathBuf {
        self.admin_token_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("admin-token"))
    }
}
