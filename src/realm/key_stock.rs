//! Keys for new realms, made ahead of time. Two P-256 key generations and their PKCS#8
//! encoding cost ~80 µs of CPU per realm creation; made ahead by a thread of the lowest
//! priority, they are made while the core would otherwise idle (a creation mostly waits for
//! its flush) and hardly ever delay a request: woken on the blocking pool at normal priority, the
//! refill used to preempt the creation that woke it and the flusher after it (~140 µs of a
//! ~850 µs creation on one connection, measured with a timing build). Each key set is handed
//! out once and never stored before its realm is; a stock left at shutdown is simply dropped.

use super::error::RealmError;
use super::handle::blocking;
use crate::jose::StoredKeys;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Key sets kept ready: enough for a burst of creations on several connections.
const STOCK: usize = 16;

/// The nice value of the key maker: the lowest priority, so it runs on an otherwise idle core.
#[cfg(target_os = "linux")]
const MAKER_NICE: i32 = 19;

#[derive(Default)]
pub(super) struct KeyStock {
    ready: Mutex<Vec<StoredKeys>>,
    /// Wakes the maker thread (started by the first `take`); it ends once the stock is
    /// dropped, as the sender goes with it.
    maker: OnceLock<Option<SyncSender<()>>>,
}

impl KeyStock {
    /// A key set nobody else gets: from the stock, or made now on the blocking pool when the
    /// stock is empty (the maker starved by a busy core, or not started). Either way the
    /// stock is topped up in the background.
    pub(super) async fn take(self: &Arc<Self>) -> Result<StoredKeys, RealmError> {
        let stocked = self.ready.lock().ok().and_then(|mut ready| ready.pop());
        self.wake_maker();
        match stocked {
            Some(keys) => Ok(keys),
            None => Ok(blocking(StoredKeys::generate).await??),
        }
    }

    fn wake_maker(self: &Arc<Self>) {
        let maker = self.maker.get_or_init(|| start_maker(Arc::downgrade(self)));
        // A full channel means a wake-up is already pending.
        if let Some(wake) = maker {
            let _ = wake.try_send(());
        }
    }

    fn len(&self) -> usize {
        self.ready.lock().map_or(STOCK, |ready| ready.len())
    }

    /// Tops the stock up to [`STOCK`]; false once the stock is gone or its lock poisoned.
    fn refill(&self) -> bool {
        while self.len() < STOCK {
            match StoredKeys::generate() {
                Ok(keys) => match self.ready.lock() {
                    Ok(mut ready) => ready.push(keys),
                    Err(_) => return false,
                },
                Err(e) => {
                    log::error!("realm keys could not be made ahead: {e}");
                    return true;
                }
            }
        }
        true
    }
}

/// Gives the calling thread the lowest priority. Only on Linux, where `setpriority` on the
/// calling "process" sets the nice value of the calling thread alone; elsewhere it would slow
/// the whole server, so the maker keeps its priority there.
fn lower_own_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(None, MAKER_NICE) {
        log::debug!("the realm key maker keeps its priority: {e}");
    }
}

/// Starts the thread that refills the stock whenever woken; `None` (creations then make
/// their keys on the blocking pool) if no thread can be started.
fn start_maker(stock: Weak<KeyStock>) -> Option<SyncSender<()>> {
    let (wake, woken) = sync_channel(1);
    let started = std::thread::Builder::new()
        .name("dynreg-keys".into())
        .spawn(move || make_keys(&stock, &woken));
    match started {
        Ok(_) => Some(wake),
        Err(e) => {
            log::warn!("no thread to make realm keys ahead ({e}); made per creation instead");
            None
        }
    }
}

fn make_keys(stock: &Weak<KeyStock>, woken: &Receiver<()>) {
    lower_own_priority();
    while woken.recv().is_ok() {
        let Some(stock) = stock.upgrade() else { return };
        if !stock.refill() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn every_key_set_is_handed_out_once_and_a_lowest_priority_thread_refills_the_stock() {
        let stock = Arc::new(KeyStock::default());
        let mut kids = std::collections::HashSet::new();
        for _ in 0..(3 * STOCK) {
            let keys = stock.take().await.unwrap();
            assert!(
                kids.insert(keys.signing[0].kid.clone()),
                "a key set came twice"
            );
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while stock.len() < STOCK {
            assert!(
                std::time::Instant::now() < deadline,
                "the stock was not refilled"
            );
            actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        #[cfg(target_os = "linux")]
        {
            // Other tests' makers may have just started, before lowering their priority.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let makers = key_maker_nice_values();
                assert!(!makers.is_empty(), "no dynreg-keys thread");
                if makers.iter().all(|nice| *nice == MAKER_NICE) {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "key makers' nice values: {makers:?}"
                );
                actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }

    /// The nice value (field 19 of `/proc/self/task/*/stat`) of every key maker thread.
    #[cfg(target_os = "linux")]
    fn key_maker_nice_values() -> Vec<i32> {
        let mut values = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let path = task.unwrap().path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if comm.trim() != "dynreg-keys" {
                continue;
            }
            let stat = std::fs::read_to_string(path.join("stat")).unwrap();
            // Fields after the parenthesised name: state is field 3, nice field 19.
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            values.push(after_name.split(' ').nth(16).unwrap().parse().unwrap());
        }
        values
    }
}
