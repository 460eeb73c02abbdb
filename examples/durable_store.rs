//! dynreg's durable storage work alone, without HTTP: the bound `scripts/bench.sh` and
//! `scripts/bench-scale.sh` compare registration and realm creation with (issue 9). It opens
//! a `Store` (same sled configuration, same group commit, same `fdatasync` and directory
//! syncs) in a fresh directory and runs WRITERS concurrent writers on one current-thread
//! runtime, as a dynreg HTTP worker does; each writer, in a loop, writes and then waits until
//! its write is durable:
//!
//! - `register`: a record of VALUE_BYTES under `client/{random v4 UUID}` and the realm's
//!   client count, as two single-key writes, all writers in one realm: what an open
//!   registration stores (its client id is a random UUID, so each record lands in a random
//!   leaf of sled's tree, and sled copies that leaf on every insert);
//! - `register-sequential`: the same writes, but each writer in a realm of its own under keys
//!   that grow (`client/{writer}-{n}`), so each insert lands in a leaf the writer just
//!   touched, in cache: what the bound measured until 2026-11-30 (then on glibc's allocator),
//!   kept to show what key order costs;
//! - `realm`: one atomic batch that creates a new realm (its keys as VALUE_BYTES, its settings
//!   and static-client index marker as dynreg stores them, its index entry): what
//!   `PUT /admin/realms/{name}` stores for a document that only opens registration.
//!
//! Usage: `cargo run --release --example durable_store -- DIR MODE WRITERS SECONDS VALUE_BYTES`
//! After one second of warm-up, measures SECONDS and prints one JSON line: `writes`,
//! `seconds`, `cpu_ticks` (user + system of the whole process, all threads, in clock ticks:
//! divide by `getconf CLK_TCK`), `p50_ms` and `p99_ms` (from the write to its durable answer).

use durable_writes::{create_realm, random_client_id, register};
use dynreg::store::{RealmTree, Store, StoreError};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[path = "shared/durable_writes.rs"]
mod durable_writes;

/// The allocator dynreg runs on (`src/main.rs`), so the bound allocates as the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Latency samples kept at most (the rate counts every write).
const MAX_SAMPLES: usize = 1_000_000;
const WARMUP: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Register,
    RegisterSequential,
    Realm,
}

struct Args {
    dir: PathBuf,
    mode: Mode,
    writers: usize,
    seconds: f64,
    value_bytes: usize,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, mode, writers, seconds, value_bytes] = args.as_slice() else {
        return Err(
            "usage: durable_store DIR register|register-sequential|realm WRITERS SECONDS VALUE_BYTES"
                .into(),
        );
    };
    let mode = match mode.as_str() {
        "register" => Mode::Register,
        "register-sequential" => Mode::RegisterSequential,
        "realm" => Mode::Realm,
        other => return Err(format!("unknown mode {other:?}")),
    };
    let number = |text: &str, what: &str| -> Result<f64, String> {
        text.parse::<f64>()
            .ok()
            .filter(|n| *n > 0.0 && n.is_finite())
            .ok_or_else(|| format!("{what} must be a positive number, not {text:?}"))
    };
    Ok(Args {
        dir: PathBuf::from(dir),
        mode,
        writers: number(writers, "WRITERS")?.min(10_000.0) as usize,
        seconds: number(seconds, "SECONDS")?.min(3_600.0),
        value_bytes: number(value_bytes, "VALUE_BYTES")?.min(1_000_000.0) as usize,
    })
}

/// User + system CPU of this process so far, in clock ticks (fields 14 and 15 of its stat).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

/// One durable write as dynreg makes it; `n` numbers the writes of one writer, whose realm
/// (for `register`) is `own`.
async fn write_once(
    store: &Store,
    own: &RealmTree,
    mode: Mode,
    writer: usize,
    n: u64,
    value: &[u8],
) -> Result<(), StoreError> {
    match mode {
        Mode::Register => register(own, &format!("client/{}", random_client_id()), n, value).await,
        Mode::RegisterSequential => register(own, &format!("client/{writer}-{n}"), n, value).await,
        Mode::Realm => create_realm(store, &format!("r-{writer}-{n}"), value).await,
    }
}

#[derive(Default)]
struct Tally {
    writes: u64,
    latencies_ms: Vec<f64>,
    error: Option<String>,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn main() {
    // As the server runs (`src/main.rs`).
    dynreg::startup::without_transparent_huge_pages();
    let args = match parse_args() {
        Ok(args) => args,
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(2);
        }
    };
    let store = match Store::open(&args.dir, 64 * 1024 * 1024) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("cannot open a store in {}: {e}", args.dir.display());
            std::process::exit(1);
        }
    };
    let value = vec![b'x'; args.value_bytes];
    let tally = Rc::new(RefCell::new(Tally::default()));
    let (measured, ticks) = actix_rt::System::new().block_on(async {
        let started = Instant::now();
        let measure_from = started + WARMUP;
        let end = measure_from + Duration::from_secs_f64(args.seconds);
        let mut ticks_at_start = None;
        let mut tasks = Vec::with_capacity(args.writers);
        for writer in 0..args.writers {
            let (store, value, tally) = (store.clone(), value.clone(), Rc::clone(&tally));
            let realm = match args.mode {
                Mode::Register => "bench".to_owned(),
                _ => format!("bench-{writer}"),
            };
            let own = match store.realm_tree(&realm) {
                Ok(tree) => tree,
                Err(e) => {
                    eprintln!("cannot open a realm view: {e}");
                    std::process::exit(1);
                }
            };
            tasks.push(actix_rt::spawn(async move {
                let mut n = 0u64;
                loop {
                    let sent = Instant::now();
                    if sent >= end || tally.borrow().error.is_some() {
                        return;
                    }
                    n += 1;
                    let outcome = write_once(&store, &own, args.mode, writer, n, &value).await;
                    let mut tally = tally.borrow_mut();
                    if let Err(why) = outcome {
                        tally.error = Some(why.to_string());
                        return;
                    }
                    if sent >= measure_from && Instant::now() <= end {
                        tally.writes += 1;
                        if tally.latencies_ms.len() < MAX_SAMPLES {
                            tally.latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                        }
                    }
                }
            }));
        }
        actix_rt::time::sleep_until(measure_from.into()).await;
        ticks_at_start.get_or_insert_with(cpu_ticks);
        actix_rt::time::sleep_until(end.into()).await;
        let ticks = cpu_ticks() - ticks_at_start.unwrap_or(0);
        for task in tasks {
            let _ = task.await;
        }
        (end - measure_from, ticks)
    });
    let mut tally = tally.borrow_mut();
    if let Some(why) = &tally.error {
        eprintln!("a durable write failed: {why}");
        std::process::exit(1);
    }
    tally.latencies_ms.sort_by(f64::total_cmp);
    println!(
        "{{\"writes\": {}, \"seconds\": {:.3}, \"cpu_ticks\": {}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}}}",
        tally.writes,
        measured.as_secs_f64(),
        ticks,
        percentile(&tally.latencies_ms, 0.5),
        percentile(&tally.latencies_ms, 0.99),
    );
}
