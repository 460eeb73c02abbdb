//! Group commit: many writers wait for one flush.
//!
//! A dedicated thread takes every waiting request, runs one sled flush, and answers all of
//! them. A request that arrives while a flush runs waits for the next one, so its write (made
//! before it asked) is always covered by the flush that answers it.

use super::StoreError;
use crate::telemetry;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

pub(super) struct GroupCommit {
    requests: Mutex<mpsc::Sender<Waiter>>,
}

impl GroupCommit {
    pub(super) fn start(db: sled::Db) -> Result<Self, StoreError> {
        let (sender, receiver) = mpsc::channel::<Waiter>();
        std::thread::Builder::new()
            .name("dynreg-flush".into())
            .spawn(move || flush_loop(&db, &receiver))
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(Self {
            requests: Mutex::new(sender),
        })
    }

    pub(super) async fn wait_durable(&self) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        {
            let requests = self.requests.lock().map_err(|_| StoreError::FlusherGone)?;
            requests.send(done).map_err(|_| StoreError::FlusherGone)?;
        }
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Sled(sled::Error::Io(std::io::Error::other(
                message,
            )))),
            Err(_) => Err(StoreError::FlusherGone),
        }
    }
}

fn flush_loop(db: &sled::Db, requests: &mpsc::Receiver<Waiter>) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let started = Instant::now();
        let outcome = db.flush().map(|_| ()).map_err(|e| e.to_string());
        telemetry::global().observe_flush(batch.len(), started.elapsed());
        for waiter in batch {
            // A waiter whose request was cancelled has dropped its receiver; nothing to tell.
            let _ = waiter.send(outcome.clone());
        }
    }
}
