//! The "trivial handler" ceiling for `scripts/bench.sh`: an actix-web server that answers
//! every request with the same JSON body of a chosen size, with the headers dynreg's profile
//! read sends (`content-type: application/json`, `cache-control: no-store`). It does nothing
//! else, so its throughput on one core bounds what any actix-web handler can reach there.
//!
//! With `STORE_DIR RECORD_BYTES`, each request first makes a registration's durable write
//! (`shared/durable_writes.rs`: a record of RECORD_BYTES under a random v4 client id and
//! the realm's client count, in a dynreg `Store` opened in STORE_DIR, answered once durable):
//! an HTTP request plus the storage a registration cannot avoid, in one process on one core,
//! so the figure includes what each costs the other there (the storage threads' work evicts
//! the HTTP worker's caches), and nothing of dynreg's request handling. With `realm` after
//! them, each request instead makes a new realm's creation write (its keys of RECORD_BYTES,
//! settings, static-client index marker and index entry, one atomic batch) and is answered
//! `201 Created`, as `PUT /admin/realms/{name}` is.
//!
//! Usage: `cargo run --release --example fixed_body -- [ADDR] [BODY_BYTES] [WORKERS]
//! [STORE_DIR RECORD_BYTES [register|realm]]` (defaults `127.0.0.1:0`, 1597, 1, no store,
//! `register`). Prints `listening on http://<addr>` once bound.

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;
use durable_writes::{create_realm, random_client_id, register};
use dynreg::store::{RealmTree, Store};
use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

#[path = "shared/durable_writes.rs"]
mod durable_writes;

/// The allocator dynreg runs on (`src/main.rs`), so the ceiling allocates as the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A JSON object of exactly `size` bytes (at least `{"x":""}`, 8 bytes).
fn body_of(size: usize) -> Bytes {
    let filler = size.saturating_sub(8);
    Bytes::from(format!("{{\"x\":\"{}\"}}", "a".repeat(filler)))
}

/// Where requests write with a store, what, and how many they wrote.
struct Storing {
    store: Store,
    tree: RealmTree,
    record: Vec<u8>,
    creates_realms: bool,
    written: AtomicU64,
}

fn answer_with(status: StatusCode, body: &Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(ContentType::json())
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body.clone())
}

/// Answers with the fixed body; takes the request body (as dynreg does), so a request with a
/// body is read to its end before the answer.
async fn answer(body: web::Data<Bytes>, _payload: Bytes) -> HttpResponse {
    answer_with(StatusCode::OK, &body)
}

/// The same, after a registration's or a realm creation's durable write.
async fn answer_after_write(
    body: web::Data<Bytes>,
    storing: web::Data<Storing>,
    _payload: Bytes,
) -> HttpResponse {
    let n = storing.written.fetch_add(1, Ordering::Relaxed) + 1;
    let (written, status) = if storing.creates_realms {
        let name = format!("r-{n}");
        let written = create_realm(&storing.store, &name, &storing.record).await;
        (written, StatusCode::CREATED)
    } else {
        let key = format!("client/{}", random_client_id());
        let written = register(&storing.tree, &key, n, &storing.record).await;
        (written, StatusCode::OK)
    };
    match written {
        Ok(()) => answer_with(status, &body),
        Err(why) => HttpResponse::InternalServerError().body(why.to_string()),
    }
}

fn number(arg: Option<String>, default: usize, what: &str) -> std::io::Result<usize> {
    match arg.map(|s| s.parse()) {
        None => Ok(default),
        Some(Ok(n)) => Ok(n),
        Some(Err(e)) => Err(std::io::Error::other(format!("bad {what}: {e}"))),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let size = number(args.next(), 1597, "BODY_BYTES")?;
    let workers = number(args.next(), 1, "WORKERS")?;
    let storing = match args.next() {
        None => None,
        Some(dir) => {
            let record_bytes = number(args.next(), 0, "RECORD_BYTES")?;
            let creates_realms = match args.next().as_deref() {
                None | Some("register") => false,
                Some("realm") => true,
                Some(other) => {
                    return Err(std::io::Error::other(format!(
                        "bad KIND {other}: register or realm"
                    )))
                }
            };
            // As the server runs (`src/main.rs`).
            dynreg::startup::without_transparent_huge_pages();
            let store = Store::open(std::path::Path::new(&dir), 64 * 1024 * 1024)
                .map_err(|e| std::io::Error::other(format!("cannot open a store in {dir}: {e}")))?;
            let tree = store
                .realm_tree("bench")
                .map_err(|e| std::io::Error::other(format!("cannot open a realm view: {e}")))?;
            Some(web::Data::new(Storing {
                store,
                tree,
                creates_realms,
                record: vec![b'x'; record_bytes],
                written: AtomicU64::new(0),
            }))
        }
    };
    let listener = TcpListener::bind(&addr)?;
    let bound = listener.local_addr()?;
    let body = web::Data::new(body_of(size));
    actix_rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let app = App::new().app_data(body.clone());
            match &storing {
                Some(storing) => app
                    .app_data(storing.clone())
                    .default_service(web::to(answer_after_write)),
                None => app.default_service(web::to(answer)),
            }
        })
        .workers(workers)
        .listen(listener)?
        .run();
        let mut out = std::io::stdout();
        writeln!(out, "listening on http://{bound}")?;
        out.flush()?;
        server.await
    })
}
