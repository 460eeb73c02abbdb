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
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use tokio::sync::oneshot;

/// What a flush answers: `Ok`, or why the writes it covered may not be durable.
type Outcome = Result<(), String>;

/// One thread's request for a flush, shared by every write of that thread that asks before
/// the flusher takes it.
struct Request {
    joined: Arc<Mutex<Joined>>,
    done: oneshot::Sender<Outcome>,
}

/// Who joined a [`Request`], read and changed only under its lock.
struct Joined {
    /// Set by the flusher before its flush starts: a write that finds it unset is covered by
    /// that flush; one that finds it set must ask for the next.
    taken: bool,
    /// Writes waiting on the request (the flush metrics count writes, not threads).
    writers: usize,
}

impl Joined {
    /// A poisoned lock only means a thread panicked while holding it: two plain fields, each
    /// always valid, so the flag and the count are still right.
    fn lock(joined: &Mutex<Joined>) -> MutexGuard<'_, Joined> {
        joined.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(super) struct GroupCommit {
    /// Tells this instance's requests apart in a thread's [`OPEN_REQUEST`].
    id: u64,
    /// `None` only while dropping.
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    committer: Arc<Mutex<Committer>>,
    flusher: Option<std::thread::JoinHandle<()>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The request this thread sent last, per group commit: the writers of one thread share
    /// it until the flusher takes it, so a flush wakes each waiting thread once, not once per
    /// writer. Waking a writer from the flush thread costs a system call, and on one core the
    /// woken HTTP worker preempts the flusher before it answers the next writer (measured at
    /// 28 writers per flush: 0.6 preemptions of the flusher per registration).
    static OPEN_REQUEST: RefCell<Option<OpenRequest>> = const { RefCell::new(None) };
}

/// The last request a thread sent to one group commit.
struct OpenRequest {
    /// [`GroupCommit::id`].
    commit: u64,
    joined: Arc<Mutex<Joined>>,
    wait: Rc<SharedWait>,
}

/// The answer the writers of one thread wait for together. Any of them may poll the
/// receiver; only the last one to do so is woken by the flusher, and it wakes the others
/// (same thread: no system call).
struct SharedWait {
    state: RefCell<WaitState>,
}

enum WaitState {
    /// No answer yet: its receiver, and the wakers of the writers that wait, by slot.
    Pending {
        receiver: oneshot::Receiver<Outcome>,
        waiting: Vec<Waker>,
    },
    /// The flush's answer; `Err(None)`: the flusher is gone.
    Answered(Result<(), Option<String>>),
}

impl SharedWait {
    fn new(receiver: oneshot::Receiver<Outcome>) -> Rc<Self> {
        Rc::new(Self {
            state: RefCell::new(WaitState::Pending {
                receiver,
                waiting: Vec::new(),
            }),
        })
    }
}

/// One writer's wait on its thread's [`SharedWait`].
struct Durable {
    wait: Rc<SharedWait>,
    /// Where this writer's waker is in [`WaitState::waiting`], once it has waited.
    slot: Option<usize>,
}

impl Future for Durable {
    type Output = Result<(), StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.wait.state.borrow_mut();
        let answer = match &mut *state {
            WaitState::Answered(answer) => answer.clone(),
            WaitState::Pending { receiver, waiting } => match Pin::new(receiver).poll(cx) {
                Poll::Pending => {
                    match this.slot.and_then(|slot| waiting.get_mut(slot)) {
                        Some(waker) => waker.clone_from(cx.waker()),
                        None => {
                            this.slot = Some(waiting.len());
                            waiting.push(cx.waker().clone());
                        }
                    }
                    return Poll::Pending;
                }
                Poll::Ready(answer) => {
                    for (slot, waker) in waiting.drain(..).enumerate() {
                        if this.slot != Some(slot) {
                            waker.wake();
                        }
                    }
                    let answer = answer.map_err(|_| None).and_then(|o| o.map_err(Some));
                    *state = WaitState::Answered(answer.clone());
                    answer
                }
            },
        };
        Poll::Ready(answer.map_err(|why| why.map_or(StoreError::FlusherGone, StoreError::Flush)))
    }
}

impl Drop for Durable {
    /// The flusher wakes only the writer that polled last; if that one goes away (its request
    /// was cancelled), the others must poll again so one of them is woken instead.
    fn drop(&mut self) {
        if let Ok(state) = self.wait.state.try_borrow() {
            if let WaitState::Pending { waiting, .. } = &*state {
                // By reference: the others keep their slots.
                waiting.iter().for_each(Waker::wake_by_ref);
            }
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
        let (sender, receiver) = mpsc::channel::<Request>();
        let shared = Arc::clone(&committer);
        let flusher = std::thread::Builder::new()
            .name("dynreg-flush".into())
            .spawn(move || flush_loop(&shared, &receiver))
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            requests: Mutex::new(Some(sender)),
            committer,
            flusher: Some(flusher),
        })
    }

    /// Waits until every write this thread made before the call is durable.
    pub(super) async fn wait_durable(&self) -> Result<(), StoreError> {
        let wait = OPEN_REQUEST.with(|open| -> Result<Rc<SharedWait>, StoreError> {
            let mut open = open.borrow_mut();
            if let Some(request) = open.as_ref().filter(|open| open.commit == self.id) {
                let mut joined = Joined::lock(&request.joined);
                if !joined.taken {
                    joined.writers += 1;
                    return Ok(Rc::clone(&request.wait));
                }
            }
            let joined = Arc::new(Mutex::new(Joined {
                taken: false,
                writers: 1,
            }));
            let (done, receiver) = oneshot::channel();
            {
                let requests = self.requests.lock().map_err(|_| StoreError::FlusherGone)?;
                let requests = requests.as_ref().ok_or(StoreError::FlusherGone)?;
                let request = Request {
                    joined: Arc::clone(&joined),
                    done,
                };
                requests
                    .send(request)
                    .map_err(|_| StoreError::FlusherGone)?;
            }
            let wait = SharedWait::new(receiver);
            *open = Some(OpenRequest {
                commit: self.id,
                joined,
                wait: Rc::clone(&wait),
            });
            Ok(wait)
        })?;
        Durable { wait, slot: None }.await
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

fn flush_loop(committer: &Mutex<Committer>, requests: &mpsc::Receiver<Request>) {
    while let Ok(first) = requests.recv() {
        // Let the writers that share this core finish what they were doing before the batch
        // is cut: on one core the first request wakes this thread while the HTTP worker and
        // the realm actor still hold the next writes, and a flush of one or two makes the
        // rest wait for the one after it. One yield took the mean batch at 32 connections
        // from 9 to 28 and cut the CPU per registration (issue 9). A core with nothing else
        // to run returns at once.
        std::thread::yield_now();
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let mut writers = 0;
        for request in &batch {
            let mut joined = Joined::lock(&request.joined);
            joined.taken = true;
            writers += joined.writers;
        }
        let started = Instant::now();
        let outcome = match committer.lock() {
            Ok(mut committer) => committer.commit(),
            Err(_) => Err("the flusher panicked".to_owned()),
        };
        telemetry::global().observe_flush(writers, started.elapsed());
        for request in batch {
            // A thread whose writers were all cancelled has dropped its receiver.
            let _ = request.done.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// A task's waker that counts its wake-ups.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn writers(n: usize) -> (oneshot::Sender<Outcome>, Vec<(Durable, Arc<Counting>)>) {
        let (done, receiver) = oneshot::channel();
        let wait = SharedWait::new(receiver);
        let writers = (0..n)
            .map(|_| {
                let durable = Durable {
                    wait: Rc::clone(&wait),
                    slot: None,
                };
                (durable, Arc::new(Counting::default()))
            })
            .collect();
        (done, writers)
    }

    fn poll(writer: &mut (Durable, Arc<Counting>)) -> Poll<Result<(), StoreError>> {
        let waker = Waker::from(Arc::clone(&writer.1));
        Pin::new(&mut writer.0).poll(&mut Context::from_waker(&waker))
    }

    fn wakes(writer: &(Durable, Arc<Counting>)) -> usize {
        writer.1 .0.load(Ordering::SeqCst)
    }

    #[test]
    fn one_answer_from_the_flusher_wakes_every_writer_of_the_thread() {
        let (done, mut writers) = writers(3);
        for writer in &mut writers {
            assert!(poll(writer).is_pending());
        }
        assert!(
            poll(&mut writers[0]).is_pending(),
            "polled again, same slot"
        );
        done.send(Ok(())).unwrap();
        // Only the writer that polled the receiver last was woken by the send; it wakes the rest.
        assert_eq!(writers.iter().map(wakes).collect::<Vec<_>>(), [1, 0, 0]);
        assert!(matches!(poll(&mut writers[0]), Poll::Ready(Ok(()))));
        assert_eq!(writers.iter().map(wakes).collect::<Vec<_>>(), [1, 1, 1]);
        for writer in &mut writers[1..] {
            assert!(matches!(poll(writer), Poll::Ready(Ok(()))));
        }
    }

    #[test]
    fn a_cancelled_writer_hands_the_wait_to_the_others() {
        let (done, mut writers) = writers(3);
        for writer in &mut writers {
            assert!(poll(writer).is_pending());
        }
        // The last to poll holds the receiver's waker; its request is cancelled.
        drop(writers.pop());
        assert_eq!(writers.iter().map(wakes).collect::<Vec<_>>(), [1, 1]);
        // They poll again (in any order) and keep their own slots.
        assert!(poll(&mut writers[1]).is_pending());
        assert!(poll(&mut writers[0]).is_pending());
        done.send(Err("disk gone".into())).unwrap();
        assert_eq!(writers.iter().map(wakes).collect::<Vec<_>>(), [2, 1]);
        for writer in &mut writers {
            assert!(
                matches!(poll(writer), Poll::Ready(Err(StoreError::Flush(why))) if why == "disk gone")
            );
        }
    }

    #[test]
    fn writers_learn_when_the_flusher_is_gone() {
        let (done, mut writers) = writers(2);
        assert!(poll(&mut writers[0]).is_pending());
        drop(done);
        assert!(matches!(
            poll(&mut writers[1]),
            Poll::Ready(Err(StoreError::FlusherGone))
        ));
        assert!(matches!(
            poll(&mut writers[0]),
            Poll::Ready(Err(StoreError::FlusherGone))
        ));
    }
}
