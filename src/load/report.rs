//! Counting and reporting: HDR latency histograms per operation, errors by status, progress.

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests completed so far, for the progress line.
#[derive(Default)]
pub struct Progress {
    done: AtomicU64,
    failed: AtomicU64,
    stopped: AtomicBool,
}

impl Progress {
    /// Counts one answered (or failed) request.
    pub fn tick(&self, success: bool) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if !success {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Prints one progress line per second to stderr until stopped: the rate over the last
    /// second (not the average since the start, which hides a stall), the total and the
    /// failures so far.
    pub fn spawn_ticker(
        self: &Arc<Self>,
        started: Instant,
        quiet: bool,
    ) -> std::thread::JoinHandle<()> {
        let progress = Arc::clone(self);
        std::thread::spawn(move || {
            let mut last_second = 0;
            let mut last = (started, 0);
            while !progress.stopped.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = Instant::now();
                let second = now.duration_since(started).as_secs();
                if second > last_second && !quiet {
                    last_second = second;
                    let done = progress.done.load(Ordering::Relaxed);
                    let failed = progress.failed.load(Ordering::Relaxed);
                    let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
                    last = (now, done);
                    eprintln!(
                        "  {second:>4}s  last second: {rate:>9.0} req/s  total: {done:>10} requests, {failed} failed"
                    );
                }
            }
        })
    }
}

/// Outcomes of one operation.
struct OperationStats {
    latency_us: Histogram<u64>,
    by_status: BTreeMap<u16, u64>,
    transport_errors: u64,
}

impl OperationStats {
    fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, 120_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable_histogram())),
            by_status: BTreeMap::new(),
            transport_errors: 0,
        }
    }

    fn errors(&self) -> u64 {
        self.transport_errors
            + self
                .by_status
                .iter()
                .filter(|(status, _)| !(200..300).contains(*status))
                .map(|(_, n)| n)
                .sum::<u64>()
    }
}

/// `Histogram::new(3)` cannot fail for 3 significant digits; this keeps the code panic-free.
fn unreachable_histogram() -> Histogram<u64> {
    Histogram::new_with_max(u64::MAX >> 1, 2).unwrap_or_else(|_| std::process::abort())
}

/// Everything measured, per operation.
#[derive(Default)]
pub struct Stats {
    operations: BTreeMap<&'static str, OperationStats>,
    /// When the last connection stopped sending.
    finished: Option<Instant>,
}

impl Stats {
    pub fn finished_at(&mut self, at: Instant) {
        self.finished = self.finished.max(Some(at));
    }

    /// The measured window: from `since` to the last connection's end.
    pub fn window(&self, since: Instant) -> Duration {
        self.finished
            .map(|end| end.saturating_duration_since(since))
            .unwrap_or_default()
    }

    pub fn record(
        &mut self,
        operation: &'static str,
        latency: Duration,
        outcome: Result<u16, String>,
    ) {
        let entry = self
            .operations
            .entry(operation)
            .or_insert_with(OperationStats::new);
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let _ = entry.latency_us.record(micros.min(120_000_000));
        match outcome {
            Ok(status) => *entry.by_status.entry(status).or_default() += 1,
            Err(_) => entry.transport_errors += 1,
        }
    }

    pub fn merge(&mut self, other: Stats) {
        self.finished = self.finished.max(other.finished);
        for (name, theirs) in other.operations {
            let ours = self
                .operations
                .entry(name)
                .or_insert_with(OperationStats::new);
            let _ = ours.latency_us.add(&theirs.latency_us);
            for (status, n) in theirs.by_status {
                *ours.by_status.entry(status).or_default() += n;
            }
            ours.transport_errors += theirs.transport_errors;
        }
    }
}

/// The final figures.
pub struct Report {
    stats: Stats,
    elapsed: Duration,
}

const PERCENTILES: [(&str, f64); 4] =
    [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)];

impl Report {
    pub fn new(stats: Stats, elapsed: Duration) -> Self {
        Self { stats, elapsed }
    }

    /// Requests that got no 2xx answer, with their statuses (`404×12, transport×3`).
    pub fn failures(&self) -> (u64, String) {
        let mut by_status: BTreeMap<u16, u64> = BTreeMap::new();
        let mut transport = 0;
        for op in self.stats.operations.values() {
            for (status, n) in op
                .by_status
                .iter()
                .filter(|(s, _)| !(200..300).contains(*s))
            {
                *by_status.entry(*status).or_default() += n;
            }
            transport += op.transport_errors;
        }
        let mut parts: Vec<String> = by_status.iter().map(|(s, n)| format!("{s}×{n}")).collect();
        if transport > 0 {
            parts.push(format!("transport error×{transport}"));
        }
        (
            by_status.values().sum::<u64>() + transport,
            parts.join(", "),
        )
    }

    pub fn total_requests(&self) -> u64 {
        self.stats
            .operations
            .values()
            .map(|o| o.latency_us.len())
            .sum()
    }

    pub fn to_table(&self) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<20} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}  errors",
            "operation", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
        );
        for (name, op) in &self.stats.operations {
            let h = &op.latency_us;
            let ms = |q: f64| h.value_at_quantile(q / 100.0) as f64 / 1000.0;
            let errors: Vec<String> = op
                .by_status
                .iter()
                .filter(|(s, _)| !(200..300).contains(*s))
                .map(|(s, n)| format!("{s}x{n}"))
                .chain(
                    (op.transport_errors > 0)
                        .then(|| format!("transport x{}", op.transport_errors)),
                )
                .collect();
            let _ = writeln!(
                out,
                "{:<20} {:>10} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {}",
                name,
                h.len(),
                h.len() as f64 / seconds,
                ms(50.0),
                ms(90.0),
                ms(99.0),
                ms(99.9),
                h.max() as f64 / 1000.0,
                if errors.is_empty() {
                    "-".to_owned()
                } else {
                    errors.join(" ")
                }
            );
        }
        let _ = writeln!(
            out,
            "total {} requests in {:.2}s = {:.0} req/s",
            self.total_requests(),
            seconds,
            self.total_requests() as f64 / seconds
        );
        out
    }

    pub fn to_json(&self) -> Value {
        let seconds = self.elapsed.as_secs_f64();
        let mut operations = Map::new();
        for (name, op) in &self.stats.operations {
            let h = &op.latency_us;
            let mut latency = Map::new();
            for (label, q) in PERCENTILES {
                latency.insert(
                    label.into(),
                    json!(h.value_at_quantile(q / 100.0) as f64 / 1000.0),
                );
            }
            latency.insert("max".into(), json!(h.max() as f64 / 1000.0));
            let statuses: Map<String, Value> = op
                .by_status
                .iter()
                .map(|(s, n)| (s.to_string(), json!(n)))
                .collect();
            operations.insert(
                (*name).to_owned(),
                json!({
                    "requests": h.len(),
                    "requests_per_second": h.len() as f64 / seconds,
                    "latency_ms": latency,
                    "statuses": statuses,
                    "transport_errors": op.transport_errors,
                    "errors": op.errors(),
                }),
            );
        }
        json!({
            "duration_seconds": seconds,
            "total_requests": self.total_requests(),
            "failed_requests": self.failures().0,
            "requests_per_second": self.total_requests() as f64 / seconds,
            "operations": operations,
        })
    }
}
