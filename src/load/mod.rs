//! `dynreg load`: a load generator for per-realm registration endpoints.
//!
//! It is a plain HTTP client of the public and admin APIs (it uses none of the server's
//! modules), so it can be pointed at any deployment, and at other RFC 7591/7592 servers through
//! explicit endpoint URLs. Each connection is a loop on one of `--threads` client threads.
//! Connections first register the clients they will read or update, then start measuring
//! together; requests rotate over the realms. With `--rate` the loops send on a fixed schedule and latency counts from the scheduled time, so a
//! stalled server cannot hide its stall (no coordinated omission).

mod options;
mod report;
mod workload;

pub use options::LoadOptions;

use report::{Progress, Report, Stats};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::{Plan, Worker};

/// Runs the load test described by `options` and prints the report.
pub fn run(options: LoadOptions) -> Result<(), String> {
    let plan = Arc::new(actix_rt::System::new().block_on(Plan::prepare(&options))?);
    eprintln!("{}", plan.describe());
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
                let mut tasks = Vec::new();
                for connection in connections {
                    let worker = Worker::new(Arc::clone(&plan), connection, &options);
                    let progress = Arc::clone(&progress);
                    tasks.push(actix_rt::spawn(async move { worker.run(&progress).await }));
                }
                let mut stats = Stats::default();
                for task in tasks {
                    match task.await {
                        Ok(Ok(part)) => stats.merge(part),
                        Ok(Err(why)) => return Err(why),
                        Err(e) => return Err(format!("load task failed: {e}")),
                    }
                }
                Ok(stats)
            })
        }));
    }
    let ticker = progress.spawn_ticker(started, options.quiet);
    let mut stats = Stats::default();
    for handle in handles {
        let part = handle
            .join()
            .map_err(|_| "a load thread panicked".to_owned())??;
        stats.merge(part);
    }
    progress.stop();
    let _ = ticker.join();
    let since = plan.measuring_since.get().copied().unwrap_or(started);
    let elapsed = stats.window(since).max(Duration::from_millis(1));
    let report = Report::new(stats, elapsed);
    if options.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    if report.total_requests() == 0 {
        return Err("no request completed".into());
    }
    Ok(())
}
