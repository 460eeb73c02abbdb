//! Group commit: many writers wait for one flush.
//!
//! A dedicated thread takes every waiting request, runs one sled flush followed by the syncs
//! that make it survive a power cut ([`SledFiles::sync`]), and answers all of them. A request
//! that arrives while a flush runs waits for the next one, so its write (made before it
//! asked) is always covered by the flush that answers it.
//!
//! After a failed flush or sync nothing later is acknowledged: the kernel may have dropped the
//! dirty pages the failed sync was about, so a later sync that succeeds proves nothing. Every
//! write then fails until the process restarts and sled recovers from what is on disk.

use super::durable::SledFiles;
use super::StoreError;
use crate::telemetry;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

pub(super) struct GroupCommit {
    /// `None` only while dropping.
    requests: Mutex<Option<mpsc::Sender<Waiter>>>,
    committer: Arc<Mutex<Committer>>,
    flusher: Option<std::thread::JoinHandle<()>>,
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
        let flusher = std::thread::Builder::new()
            .name("dynreg-flush".into())
            .spawn(move || flush_loop(&shared, &receiver))
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(Self {
            requests: Mutex::new(Some(sender)),
            committer,
            flusher: Some(flusher),
        })
    }

    pub(super) async fn wait_durable(&self) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        {
            let requests = self.requests.lock().map_err(|_| StoreError::FlusherGone)?;
            let requests = requests.as_ref().ok_or(StoreError::FlusherGone)?;
            requests.send(done).map_err(|_| StoreError::FlusherGone)?;
        }
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

fn flush_loop(committer: &Mutex<Committer>, requests: &mpsc::Receiver<Waiter>) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let started = Instant::now();
        let outcome = match committer.lock() {
            Ok(mut committer) => committer.commit(),
            Err(_) => Err("the flusher panicked".to_owned()),
        };
        telemetry::global().observe_flush(batch.len(), started.elapsed());
        for waiter in batch {
            // A waiter whose request was cancelled has dropped its receiver; nothing to tell.
            let _ = waiter.send(outcome.clone());
        }
    }
}
