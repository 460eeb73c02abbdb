//! The "trivial handler" ceiling for `scripts/bench.sh`: an actix-web server that answers
//! every request with the same JSON body of a chosen size, with the headers dynreg's profile
//! read sends (`content-type: application/json`, `cache-control: no-store`). It does nothing
//! else, so its throughput on one core bounds what any actix-web handler can reach there.
//!
//! With `STORE_DIR RECORD_BYTES`, each request first makes a registration's durable write
//! (`shared/registration_write.rs`: a record of RECORD_BYTES under a random v4 client id and
//! the realm's client count, in a dynreg `Store` opened in STORE_DIR, answered once durable):
//! an HTTP request plus the storage a registration cannot avoid, in one process on one core,
//! so the figure includes what each costs the other there (the storage threads' work evicts
//! the HTTP worker's caches), and nothing of dynreg's request handling.
//!
//! Usage: `cargo run --release --example fixed_body -- [ADDR] [BODY_BYTES] [WORKERS]
//! [STORE_DIR RECORD_BYTES]` (defaults `127.0.0.1:0`, 1597, 1, no store). Prints
//! `listening on http://<addr>` once bound.

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;
use dynreg::store::{RealmTree, Store};
use registration_write::{random_client_id, register};
use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

#[path = "shared/registration_write.rs"]
mod registration_write;

/// The allocator dynreg runs on (`src/main.rs`), so the ceiling allocates as the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A JSON object of exactly `size` bytes (at least `{"x":""}`, 8 bytes).
fn body_of(size: usize) -> Bytes {
    let filler = size.saturating_sub(8);
    Bytes::from(format!("{{\"x\":\"{}\"}}", "a".repeat(filler)))
}

/// Where `--store` requests write, and how many they wrote.
struct Storing {
    tree: RealmTree,
    record: Vec<u8>,
    written: AtomicU64,
}

fn fixed_response(body: &Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body.clone())
}

/// Answers with the fixed body; takes the request body (as dynreg does), so a request with a
/// body is read to its end before the answer.
async fn answer(body: web::Data<Bytes>, _payload: Bytes) -> HttpResponse {
    fixed_response(&body)
}

/// The same, after a registration's durable write.
async fn answer_after_write(
    body: web::Data<Bytes>,
    storing: web::Data<Storing>,
    _payload: Bytes,
) -> HttpResponse {
    let n = storing.written.fetch_add(1, Ordering::Relaxed) + 1;
    let key = format!("client/{}", random_client_id());
    match register(&storing.tree, &key, n, &storing.record).await {
        Ok(()) => fixed_response(&body),
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
            // As the server runs (`src/main.rs`).
            dynreg::startup::without_transparent_huge_pages();
            let store = Store::open(std::path::Path::new(&dir), 64 * 1024 * 1024)
                .map_err(|e| std::io::Error::other(format!("cannot open a store in {dir}: {e}")))?;
            let tree = store
                .realm_tree("bench")
                .map_err(|e| std::io::Error::other(format!("cannot open a realm view: {e}")))?;
            Some(web::Data::new(Storing {
                tree,
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
