//! The HTTP/1.1 server: actix-web's app on actix-http's service, assembled here rather than by
//! `HttpServer` because every connection's stream is wrapped in a
//! [`DeadlineStream`](super::deadline::DeadlineStream), which `HttpServer` offers no hook for.

use super::deadline::{self, DeadlineStream};
use super::{configure, not_found, ops, AppState};
use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol};
use actix_rt::net::TcpStream;
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::middleware::from_fn;
use actix_web::{web, App};
use std::net::TcpListener;
use std::time::Duration;

/// How the server treats connections.
pub struct ServerLimits {
    pub workers: usize,
    /// Connections served at once by each worker (actix counts per worker).
    pub connections_per_worker: usize,
    /// The whole request, head and body, must arrive within this.
    pub request_timeout: Duration,
    pub keep_alive: Duration,
}

/// Seconds in-flight requests get to finish after a stop.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 10;

/// How long closing a connection (flushing the last answer) may take before it is dropped.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves `state`'s routes on `listener` until stopped (SIGINT/SIGTERM or the handle).
pub fn serve(
    listener: TcpListener,
    limits: ServerLimits,
    state: web::Data<AppState>,
) -> std::io::Result<Server> {
    let local_addr = listener.local_addr()?;
    let builder = Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    let ServerLimits {
        workers,
        connections_per_worker,
        request_timeout,
        keep_alive,
    } = limits;
    Ok(builder
        .workers(workers)
        .max_concurrent_connections(connections_per_worker)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS)
        .listen("dynreg-http", listener, move || {
            let shutdown = shutdown.clone();
            let app = App::new()
                .app_data(state.clone())
                .wrap(from_fn(ops::observe))
                .wrap(from_fn(deadline::track))
                .configure(configure)
                .default_service(web::to(not_found))
                .into_factory()
                .map_err(|e| e.error_response());
            let http = HttpService::build()
                // Idle keep-alive connections close as soon as a stop begins.
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .keep_alive(keep_alive)
                // Times the first request's head from the accept, before any byte arrives;
                // the stream and the body extractor keep the rest of the deadline.
                .client_request_timeout(request_timeout)
                // As `HttpServer` sets it: a connection being closed gets 1 s to finish.
                .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
                .local_addr(local_addr)
                .on_connect_ext(|io: &DeadlineStream, data| {
                    data.insert(io.clock());
                })
                .finish(map_config(app, |_| AppConfig::default()));
            fn_service(move |io: TcpStream| {
                let io = DeadlineStream::new(io, request_timeout);
                let peer = io.peer_addr();
                std::future::ready(Ok::<_, DispatchError>((io, Protocol::Http1, peer)))
            })
            .and_then(http)
        })?
        .run())
}
