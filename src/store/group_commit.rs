//! Group commit: many writers wait for one flush.
//!
//! A dedicated thread takes every waiting request, runs one sled flush followed by the syncs
//! that make it survive a power cut ([`SledFiles::sync`]), and answers all of them. A request
//! that arrives while a flush runs waits for the next one, so its write (made before it
//! asked) is always covered by the flush that answers it.
//!
//! Writers that will ask for a flush can announce their write first ([`Announcement`]). When a
//! flush is due while announced writes are still being made, the flusher waits for them, for
//! at most as long as the previous flush took (capped at [`MAX_GATHER`]): under load a batch
//! then takes in the writes already on their way instead of leaving them to the next flush,
//! so each flush (a disk sync and sled's log write) serves more writers; a lone writer never
//! waits, since nothing else is announced. Measured (one core, 64 connections, 3 alternating
//! runs): 8 → 15-16 registrations per flush, and 6-10% more registrations per second.
//!
//! After a failed flush or sync nothing later is acknowledged: the kernel may have dropped the
//! dirty pages the failed sync was about, so a later sync that succeeds proves nothing. Every
//! write then fails until the process restarts and sled recovers from what is on disk.

use super::durable::SledFiles;
use super::StoreError;
use crate::telemetry;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

/// The longest a flush waits for announced writes, whatever the previous flush took.
const MAX_GATHER: Duration = Duration::from_millis(2);

pub(super) struct GroupCommit {
    /// `None` only while dropping.
    requests: Mutex<Option<mpsc::Sender<Waiter>>>,
    committer: Arc<Mutex<Committer>>,
    flusher: Option<std::thread::JoinHandle<()>>,
    in_flight: Arc<InFlight>,
}

/// Announced writes whose writers have not yet asked for their flush.
#[derive(Default)]
struct InFlight {
    state: Mutex<InFlightState>,
    settled: Condvar,
}

#[derive(Default)]
struct InFlightState {
    announced: usize,
    /// The flusher waits on `settled` for `announced` to reach zero.
    gathering: bool,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, InFlightState> {
        // The state is two plain values, consistent after any panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until no announced write is in flight, or `limit` has passed.
    fn wait_settled(&self, limit: Duration) {
        let mut state = self.lock();
        if state.announced == 0 || limit.is_zero() {
            return;
        }
        state.gathering = true;
        let (mut state, _) = self
            .settled
            .wait_timeout_while(state, limit, |state| state.announced > 0)
            .unwrap_or_else(PoisonError::into_inner);
        state.gathering = false;
    }
}

/// A write its writer has announced and will ask to flush ([`GroupCommit::announce`]); a flush
/// that is due waits a little for it. Withdrawn when dropped: after asking for the flush, or
/// when the write did not happen.
pub(super) struct Announcement(Arc<InFlight>);

impl Announcement {
    fn new(in_flight: &Arc<InFlight>) -> Self {
        in_flight.lock().announced += 1;
        Self(Arc::clone(in_flight))
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.announced -= 1;
        if state.announced == 0 && state.gathering {
            self.0.settled.notify_one();
        }
    }
}

/// The database, its files, and whether a flush has ever failed.
struct Committer {
    db: sled::Db,
    files: SledFiles,
    failed: Option<String>,
}

impl Committer {
    /// One durable flush, or the reason none is possible.
    fn commit(&mut self) -> Result<(), String> {
        if let Some(why) = &self.failed {
            return Err(why.clone());
        }
        let outcome = self
            .db
            .flush()
            .map_err(|e| e.to_string())
            .and_then(|_| self.files.sync().map_err(|e| format!("sync: {e}")));
        if let Err(why) = &outcome {
            log::error!("the database could not be made durable; writes fail until restart: {why}");
            self.failed = Some(format!("an earlier flush failed: {why}"));
        }
        outcome
    }
}

impl GroupCommit {
    pub(super) fn start(db: sled::Db, files: SledFiles) -> Result<Self, StoreError> {
        let committer = Arc::new(Mutex::new(Committer {
            db,
            files,
            failed: None,
        }));
        let (sender, receiver) = mpsc::channel::<Waiter>();
        let shared = Arc::clone(&committer);
        let in_flight = Arc::<InFlight>::default();
        let announced = Arc::clone(&in_flight);
        let flusher = std::thread::Builder::new()
            .name("dynreg-flush".into())
            .spawn(move || flush_loop(&shared, &receiver, &announced))
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(Self {
            requests: Mutex::new(Some(sender)),
            committer,
            flusher: Some(flusher),
            in_flight,
        })
    }

    /// Announces a write the caller is about to make and then wait for.
    pub(super) fn announce(&self) -> Announcement {
        Announcement::new(&self.in_flight)
    }

    /// Waits until every write made before this call is durable; `announced`, the
    /// announcement of such a write, is withdrawn once the request is queued.
    pub(super) async fn wait_durable(
        &self,
        announced: Option<Announcement>,
    ) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        {
            let requests = self.requests.lock().map_err(|_| StoreError::FlusherGone)?;
            let requests = requests.as_ref().ok_or(StoreError::FlusherGone)?;
            requests.send(done).map_err(|_| StoreError::FlusherGone)?;
        }
        drop(announced);
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Flush(message)),
            Err(_) => Err(StoreError::FlusherGone),
        }
    }

    /// A durable flush on the calling thread (shutdown, rare start-up writes).
    pub(super) fn commit_now(&self) -> Result<(), StoreError> {
        let mut committer = self.committer.lock().map_err(|_| StoreError::FlusherGone)?;
        committer.commit().map_err(StoreError::Flush)
    }
}

impl Drop for GroupCommit {
    /// Stops the flush thread and waits for it, so the database is closed (and its lock
    /// released) when the last `Store` is gone.
    fn drop(&mut self) {
        if let Ok(mut requests) = self.requests.lock() {
            requests.take();
        }
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
    }
}

fn flush_loop(
    committer: &Mutex<Committer>,
    requests: &mpsc::Receiver<Waiter>,
    in_flight: &InFlight,
) {
    let mut previous_flush = Duration::ZERO;
    while let Ok(first) = requests.recv() {
        in_flight.wait_settled(previous_flush.min(MAX_GATHER));
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let started = Instant::now();
        let outcome = match committer.lock() {
            Ok(mut committer) => committer.commit(),
            Err(_) => Err("the flusher panicked".to_owned()),
        };
        previous_flush = started.elapsed();
        telemetry::global().observe_flush(batch.len(), previous_flush);
        for waiter in batch {
            // A waiter whose request was cancelled has dropped its receiver; nothing to tell.
            let _ = waiter.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_nothing_announced_a_due_flush_does_not_wait() {
        let in_flight = InFlight::default();
        let started = Instant::now();
        in_flight.wait_settled(Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_due_flush_waits_for_announced_writes_until_they_are_withdrawn() {
        let in_flight = Arc::<InFlight>::default();
        let (first, second) = (Announcement::new(&in_flight), Announcement::new(&in_flight));
        let withdraw = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(first);
            std::thread::sleep(Duration::from_millis(50));
            drop(second);
        });
        let started = Instant::now();
        in_flight.wait_settled(Duration::from_secs(10));
        let waited = started.elapsed();
        withdraw.join().unwrap();
        assert!(waited >= Duration::from_millis(100), "waited {waited:?}");
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
        assert_eq!(in_flight.lock().announced, 0);
        assert!(!in_flight.lock().gathering);
    }

    #[test]
    fn a_due_flush_waits_no_longer_than_its_limit_for_a_write_never_withdrawn() {
        let in_flight = Arc::<InFlight>::default();
        let _kept = Announcement::new(&in_flight);
        let started = Instant::now();
        in_flight.wait_settled(Duration::from_millis(50));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(50), "waited {waited:?}");
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    }
}
