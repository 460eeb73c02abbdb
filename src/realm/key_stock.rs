//! Keys for new realms, made ahead of time. Two P-256 key generations and their PKCS#8
//! encoding cost a blocking-pool round trip on every realm creation; with a few key sets made
//! in the background while earlier creations wait for their flush, a creation only waits for
//! its write. Each key set is handed out once and never stored before its realm is; a stock
//! left at shutdown is simply dropped.

use super::error::RealmError;
use super::handle::blocking;
use crate::jose::StoredKeys;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Key sets kept ready: enough for a burst of creations on a few connections.
const STOCK: usize = 4;

#[derive(Default)]
pub(super) struct KeyStock {
    ready: Mutex<Vec<StoredKeys>>,
    /// A background refill runs; at most one at a time.
    refilling: AtomicBool,
}

impl KeyStock {
    /// A key set nobody else gets: from the stock, or made now when it is empty. Either way
    /// the stock is topped up in the background.
    pub(super) async fn take(self: &Arc<Self>) -> Result<StoredKeys, RealmError> {
        let stocked = self.ready.lock().ok().and_then(|mut ready| ready.pop());
        self.refill();
        match stocked {
            Some(keys) => Ok(keys),
            None => Ok(blocking(StoredKeys::generate).await??),
        }
    }

    /// Fills the stock up to [`STOCK`] on the blocking pool unless a refill already runs.
    fn refill(self: &Arc<Self>) {
        if self.refilling.swap(true, Ordering::AcqRel) {
            return;
        }
        let stock = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            while stock.len() < STOCK {
                match StoredKeys::generate() {
                    Ok(keys) => match stock.ready.lock() {
                        Ok(mut ready) => ready.push(keys),
                        Err(_) => break,
                    },
                    Err(e) => {
                        log::error!("realm keys could not be made ahead: {e}");
                        break;
                    }
                }
            }
            stock.refilling.store(false, Ordering::Release);
        });
    }

    fn len(&self) -> usize {
        self.ready.lock().map_or(STOCK, |ready| ready.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn every_key_set_is_handed_out_once_and_the_stock_refills_in_the_background() {
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
    }
}
