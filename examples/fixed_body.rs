//! The "trivial handler" ceiling for `scripts/bench.sh`: an actix-web server that answers
//! every request with the same JSON body of a chosen size, with the headers dynreg's profile
//! read sends (`content-type: application/json`, `cache-control: no-store`). It does nothing
//! else, so its throughput on one core bounds what any actix-web handler can reach there.
//!
//! Usage: `cargo run --release --example fixed_body -- [ADDR] [BODY_BYTES] [WORKERS]`
//! (defaults `127.0.0.1:0`, 1597, 1). Prints `listening on http://<addr>` once bound.

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;
use std::io::Write;
use std::net::TcpListener;

/// A JSON object of exactly `size` bytes (at least `{"x":""}`, 8 bytes).
fn body_of(size: usize) -> Bytes {
    let filler = size.saturating_sub(8);
    Bytes::from(format!("{{\"x\":\"{}\"}}", "a".repeat(filler)))
}

/// Answers with the fixed body; takes the request body (as dynreg does), so a request with a
/// body is read to its end before the answer.
async fn answer(body: web::Data<Bytes>, _payload: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body.get_ref().clone())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let size: usize = match args.next().map(|s| s.parse()) {
        None => 1597,
        Some(Ok(n)) => n,
        Some(Err(e)) => return Err(std::io::Error::other(format!("bad BODY_BYTES: {e}"))),
    };
    let workers: usize = match args.next().map(|s| s.parse()) {
        None => 1,
        Some(Ok(n)) => n,
        Some(Err(e)) => return Err(std::io::Error::other(format!("bad WORKERS: {e}"))),
    };
    let listener = TcpListener::bind(&addr)?;
    let bound = listener.local_addr()?;
    let body = web::Data::new(body_of(size));
    actix_rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(body.clone())
                .default_service(web::to(answer))
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
