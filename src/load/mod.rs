//! `dynreg load`: a load generator for per-realm registration endpoints.
//!
//! It is a plain HTTP client of the public and admin APIs (it uses none of the server's
//! modules), so it can be pointed at any deployment, and at other RFC 7591/7592 servers through
//! explicit endpoint URLs. Each connection is a loop on one of `--threads` client threads.
//! Before measuring, the run checks the base URL and realm (pre-flight: one request of each
//! kind must get a 2xx), makes what it needs with random names and secrets, and connections
//! register the clients they will read or update; then they start measuring together. With
//! `--rate` the loops send on a fixed schedule and latency counts from the scheduled time, so
//! a stalled server cannot hide its stall (no coordinated omission). At the end (also after
//! Ctrl-C) what the run made is removed unless `--keep`; any failed request makes the exit
//! status non-zero.

mod conn;
mod options;
mod report;
mod setup;
mod workload;

pub use options::LoadOptions;

use report::{Progress, Report, Stats};
use setup::Fixtures;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::{Plan, Worker};

/// Runs the load test described by `options`, prints the report and removes what the run
/// made. An error when the run could not start, was interrupted, any request failed or the
/// clean-up failed.
pub fn run(options: LoadOptions) -> Result<(), String> {
    let stopping = Arc::new(AtomicBool::new(false));
    watch_ctrl_c(Arc::clone(&stopping));
    let system = actix_rt::System::new();
    let mut fixtures = Fixtures::new(&options)?;
    let prepared = system.block_on(Plan::prepare(
        &options,
        &mut fixtures,
        Arc::clone(&stopping),
    ));
    let measured = prepared.and_then(|plan| {
        eprintln!("{}", plan.describe(fixtures.describe()));
        drive(Arc::new(plan), &options)
    });
    let cleaned = if options.keep {
        if let Some(kept) = fixtures.kept() {
            eprintln!("load: kept (--keep): {kept}");
        }
        Ok(())
    } else {
        system.block_on(fixtures.remove())
    };
    let (report, registered) = match (measured, &cleaned) {
        (Ok(measured), _) => measured,
        (Err(why), Ok(())) => return Err(why),
        (Err(why), Err(cleanup)) => return Err(format!("{why}; {cleanup}")),
    };
    if options.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    if registered > 0 && !fixtures.owns_realms() {
        eprintln!(
            "load: {registered} client(s) registered by the run stay in the realm (server-made \
             credentials; --realms N runs in new realms that are deleted at the end)"
        );
    }
    cleaned?;
    if stopping.load(Ordering::Relaxed) {
        return Err("interrupted".into());
    }
    let (failed, statuses) = report.failures();
    if failed > 0 {
        return Err(format!(
            "{failed} of {} requests failed ({statuses})",
            report.total_requests()
        ));
    }
    if report.total_requests() == 0 {
        return Err("no request completed".into());
    }
    Ok(())
}

/// First Ctrl-C: stop sending, report and clean up. Second: quit at once.
fn watch_ctrl_c(stopping: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            if actix_rt::signal::ctrl_c().await.is_err() {
                return;
            }
            stopping.store(true, Ordering::Relaxed);
            eprintln!("load: stopping and cleaning up (Ctrl-C again to quit without clean-up)");
            if actix_rt::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        })
    });
}

/// Never lets the thread's event loop sleep: each yield makes the runtime poll its sockets
/// without a timeout first (tokio polls the I/O driver before it resumes a yielded task).
async fn busy_poll() {
    loop {
        tokio::task::yield_now().await;
    }
}

/// Runs the connections on `--threads` threads and collects their figures; also returns how
/// many clients the `register` operations left.
fn drive(plan: Arc<Plan>, options: &LoadOptions) -> Result<(Report, u64), String> {
    let progress = Arc::new(Progress::default());
    let started = Instant::now();
    let threads = options.threads.max(1);
    let mut handles = Vec::new();
    for thread in 0..threads {
        let plan = Arc::clone(&plan);
        let progress = Arc::clone(&progress);
        let options = options.clone();
        handles.push(std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let connections: Vec<usize> = (0..options.connections)
                    .filter(|c| c % threads == thread)
                    .collect();
                let spinner = options.busy_poll.then(|| actix_rt::spawn(busy_poll()));
                let mut tasks = Vec::new();
                for connection in connections {
                    let worker = Worker::new(Arc::clone(&plan), connection, &options);
                    let progress = Arc::clone(&progress);
                    tasks.push(actix_rt::spawn(async move { worker.run(&progress).await }));
                }
                let mut stats = Stats::default();
                let mut registered = 0;
                let mut failure = None;
                for task in tasks {
                    match task.await {
                        Ok(Ok(part)) => {
                            stats.merge(part.stats);
                            registered += part.registered;
                        }
                        Ok(Err(why)) => failure = Some(why),
                        Err(e) => failure = Some(format!("load task failed: {e}")),
                    }
                }
                if let Some(spinner) = spinner {
                    spinner.abort();
                }
                failure.map_or(Ok((stats, registered)), Err)
            })
        }));
    }
    let ticker = progress.spawn_ticker(started, options.quiet);
    let mut stats = Stats::default();
    let mut registered = 0;
    let mut failure = None;
    for handle in handles {
        match handle.join() {
            Ok(Ok((part, made))) => {
                stats.merge(part);
                registered += made;
            }
            Ok(Err(why)) => failure = Some(why),
            Err(_) => failure = Some("a load thread panicked".to_owned()),
        }
    }
    progress.stop();
    let _ = ticker.join();
    if let Some(why) = failure {
        return Err(why);
    }
    let since = plan.measuring_since.get().copied().unwrap_or(started);
    let elapsed = stats.window(since).max(Duration::from_millis(1));
    Ok((Report::new(stats, elapsed), registered))
}
