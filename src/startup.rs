//! Wiring: open the store, load the admin token, start the realms, bind the listener.

use crate::config::Settings;
use crate::http::client_ip::TrustedProxies;
use crate::http::{self, AppState};
use crate::jwks_fetch::JwksFetcher;
use crate::realm::RealmRegistry;
use crate::secret::{Secret, SecretHash};
use crate::store::{Durability, Store};
use actix::Arbiter;
use actix_web::dev::Server;
use actix_web::web;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// File descriptors kept free of HTTP connections: sled's files, `jwks_uri` fetches, logs.
const RESERVED_FDS: u64 = 256;

/// A built server, bound and ready to run.
pub struct Application {
    server: Server,
    address: SocketAddr,
    store: Store,
}

impl Application {
    /// Opens everything and binds the listener; errors say what failed and where.
    pub async fn build(settings: Settings) -> Result<Self, String> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            format!(
                "cannot create data directory {}: {e}",
                settings.data_dir.display()
            )
        })?;
        let public_url = settings
            .public_url
            .as_deref()
            .map(checked_public_url)
            .transpose()?;
        let admin_token = load_or_create_admin_token(&settings.admin_token_path())?;
        let durability = Durability {
            skip_fsync: settings.bench_skip_fsync,
            fail_while_exists: settings.fault_fail_flush_while.clone(),
        };
        if durability.skip_fsync {
            log::warn!("fsync after flushes is off: a 2xx does not survive a power cut");
        }
        let store = Store::open_with(
            &settings.data_dir.join("sled"),
            settings.cache_mb << 20,
            durability,
        )
        .map_err(|e| open_store_error(&settings.data_dir, &e))?;
        let listener = bind(&settings.listen, settings.backlog)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let public_url = public_url.unwrap_or_else(|| format!("http://{address}"));

        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arbiters = (0..cores).map(|_| Arbiter::new().handle()).collect();
        let fetcher = Arc::new(
            JwksFetcher::new(settings.allow_insecure_fetch)
                .map_err(|e| format!("cannot set up the jwks_uri fetcher: {e}"))?,
        );
        let registry = Arc::new(
            RealmRegistry::open(store.clone(), arbiters, public_url.clone(), fetcher)
                .map_err(|e| format!("cannot load realms: {e}"))?,
        );
        registry.import_dir(&settings.realms_dir).await?;
        if settings.realm_idle_seconds > 0 {
            registry.stop_idle_realms_after(Duration::from_secs(settings.realm_idle_seconds));
        }

        let request_timeout = Duration::from_secs(settings.request_timeout.max(1));
        let state = web::Data::new(AppState {
            registry,
            public_url,
            admin_token,
            store: store.clone(),
            draining: AtomicBool::new(false),
            trusted_proxies: TrustedProxies::new(settings.trusted_proxies.clone()),
            request_timeout,
        });
        mark_draining_on_shutdown_signal(state.clone());
        let workers = settings.workers.unwrap_or(cores).max(1);
        let max_connections = connection_budget(settings.max_connections);
        let limits = http::server::ServerLimits {
            workers,
            connections_per_worker: max_connections.div_ceil(workers).max(1),
            request_timeout,
            keep_alive: Duration::from_secs(settings.keep_alive),
        };
        let server = http::server::serve(listener, limits, state)
            .map_err(|e| format!("cannot start the HTTP server: {e}"))?;
        Ok(Self {
            server,
            address,
            store,
        })
    }

    /// The bound address (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops the server when asked (what SIGTERM does), for callers that restart it.
    pub fn stop_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, lets in-flight requests finish, then flushes the store.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await?;
        self.store.flush_now().map_err(std::io::Error::other)
    }
}

/// Turns transparent huge pages off for the process (the binary and the storage bound of
/// `examples/durable_store.rs` call it first). mimalloc advises them on its arenas, and
/// the kernel then zeroes a whole 2 MiB page on the first touch of each; with sled's churn of
/// node copies that zeroing was 16% of the realm actor's CPU samples under open registration.
/// Measured with them off (3 alternating pairs, README *Design choices*): the actor's CPU per
/// registration 0.7-1.0 µs lower (its system time ~2.7 → ~0.75 µs), the whole server's
/// within noise, resident memory a quarter lower; reads and tokens unchanged.
///
/// Linux only (other kernels have no such switch).
pub fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        log::warn!("cannot turn transparent huge pages off: {e}");
    }
}

/// A listening socket with an explicit backlog (std's `TcpListener::bind` fixes it at 128):
/// connections beyond `--max-connections` wait there, costing the server no descriptor.
fn bind(address: &str, backlog: u32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    let address = address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    })?;
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

/// How many connections may be open at once: `wanted`, but never so many that the server
/// runs out of file descriptors. Raises the soft open-file limit to the hard one first.
fn connection_budget(wanted: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            log::warn!("cannot raise the open-file limit to its hard limit: {e}");
        }
    }
    let Some(files) = getrlimit(Resource::Nofile).current else {
        return wanted;
    };
    let fitting = usize::try_from(files.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX);
    if wanted > fitting {
        log::warn!(
            "--max-connections {wanted} lowered to {fitting}: the open-file limit is {files}"
        );
    }
    wanted.min(fitting)
}

/// Readiness turns false as soon as SIGTERM or SIGINT arrives, while in-flight requests
/// finish (actix-web's own handler does the graceful stop).
fn mark_draining_on_shutdown_signal(state: web::Data<AppState>) {
    use actix_rt::signal::unix::{signal, SignalKind};
    for kind in [SignalKind::terminate(), SignalKind::interrupt()] {
        let Ok(mut signals) = signal(kind) else {
            log::warn!("cannot watch shutdown signals; /ready will not report draining");
            return;
        };
        // Weak: a watcher waiting for a signal that never comes must not keep the state (and
        // with it the database and its lock) alive after the server has stopped.
        let state = Arc::downgrade(&state.clone().into_inner());
        actix_rt::spawn(async move {
            if signals.recv().await.is_some() {
                if let Some(state) = state.upgrade() {
                    state.draining.store(true, Ordering::Relaxed);
                    log::info!("shutdown signal: draining");
                }
            }
        });
    }
}

/// `--public-url` becomes every realm's issuer, so it must be an absolute http(s) URL with a
/// host and nothing an issuer may not carry (RFC 8414 §2: no query, no fragment); user info
/// is refused too. A path is kept (a reverse proxy may mount dynreg under one); trailing
/// slashes are dropped.
fn checked_public_url(raw: &str) -> Result<String, String> {
    let bad = |why: &str| format!("--public-url {raw:?} {why}; example: https://id.example.com");
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("is not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry user info"));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// The error of an open that could not get the data directory, with its likely cause.
fn open_store_error(data_dir: &Path, error: &crate::store::StoreError) -> String {
    match error {
        crate::store::StoreError::Locked => format!(
            "another dynreg is using {} (its database is locked); stop it or pass another --data-dir",
            data_dir.display()
        ),
        other => format!("cannot open the database in {}: {other}", data_dir.display()),
    }
}

/// SPEC §1: the admin token comes from its file; if the file does not exist, a fresh token is
/// written there (mode 0600). Only the file path is logged, never the token.
fn load_or_create_admin_token(path: &Path) -> Result<SecretHash, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim();
            if token.is_empty() {
                return Err(format!("admin token file {} is empty", path.display()));
            }
            Ok(Secret::new(token).hash())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = Secret::generate().map_err(|e| format!("no randomness: {e}"))?;
            write_private_file(path, token.expose())
                .map_err(|e| format!("cannot write admin token file {}: {e}", path.display()))?;
            log::info!("generated an admin token into {}", path.display());
            Ok(token.hash())
        }
        Err(e) => Err(format!(
            "cannot read admin token file {}: {e}",
            path.display()
        )),
    }
}

fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
