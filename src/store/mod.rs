//! Durable storage on sled. Knows keys, values and flushing; knows nothing about OAuth.
//!
//! Every realm's data lives in one shared sled tree, each key stored as `{realm}/{key}` (the
//! realm layer chooses `key`). One tree per realm would cost a sled tree's overhead per realm:
//! about 150 KB on disk each and a database reopen that grows with the number of trees, far
//! too much for 100,000 realms. Next to the data, the same tree holds the realm index,
//! `\0index/{realm}`, so listing realms never reads realm data; a realm exists exactly when its
//! index entry does, and the entry is written in the same atomic batch as the realm's first
//! content (and removed in the same batch as its last).
//!
//! Realm counters (e.g. the number of dynamic clients, rewritten by every registration) live
//! in a tree of their own, `counters`, keyed `{realm}/{name}`. In the realm tree each rewrite
//! of a counter would add a delta to a leaf of client records and, every tenth time, rewrite
//! that whole leaf into sled's log: measured, about 300 bytes of log per registration that
//! segment cleaning reclaims only later (the data directory grew by 1,169 bytes per client
//! instead of 817). In their own tree the counters share leaves with other counters only.

mod durable;
mod error;
mod group_commit;
mod migrate;
mod tree;

pub use durable::Durability;
pub use error::StoreError;
pub use tree::{decode_value, encode, BatchOp, ReadMark, RealmTree, StoredBytes};

use durable::SledFiles;
use group_commit::GroupCommit;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tree::Liveness;

/// The tree of every realm's data and the realm index.
const REALMS_TREE: &str = "realms";
/// Prefix of the realm index in [`REALMS_TREE`]; realm names never start with a NUL byte.
const INDEX_PREFIX: &[u8] = b"\0index/";
/// In the default tree, apart from every realm's.
const READY_PROBE_KEY: &[u8] = b"dynreg/ready-probe";
/// Period of sled's own background thread, which cleans log segments for up to half of each
/// period (our durability does not depend on it: see [`GroupCommit`]). sled's default, 500 ms,
/// let a burst of 1,000,000 registrations leave a cleaning backlog that grew the data directory
/// by another ~10% and slowed reads for ~30 s after the burst (measured: 582-599 bytes per
/// client settled and read p99 up to 3-5x for a while, against 532 bytes and no slump at
/// 100 ms; no difference in registrations per CPU-second at 100,000 clients).
const SLED_TICK_MS: u64 = 100;
/// Every realm's counters, `{realm}/{name}` → JSON integer.
const COUNTERS_TREE: &str = "counters";
/// Tree of realm tombstones: realm name → why it is gone (SPEC §4).
const TOMBSTONE_TREE: &str = "tombstones";

/// How long an open waits for the lock on sled's directory before it reports the directory
/// as in use ([`StoreError::Locked`]).
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// sled locks its directory while its files are open, and its IO threads let go of the files
/// a moment after the last `Db` handle is dropped (sled's own tests block on the lock for
/// that reason). So an open right after a close in the same process (a test, an in-process
/// restart), or while a stopped server is still exiting, can find the lock taken: it retries
/// for up to [`LOCK_WAIT`]. Still taken then, another process is using the directory.
fn open_when_unlocked(config: &sled::Config) -> Result<sled::Db, StoreError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if Instant::now() >= deadline {
                    return Err(StoreError::Locked);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            opened => return Ok(opened?),
        }
    }
}

/// The database: one per process, cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Every realm's data and the realm index ([`REALMS_TREE`]).
    realms: sled::Tree,
    /// Every realm's counters ([`COUNTERS_TREE`]).
    counters: sled::Tree,
    /// Liveness and write counts of each realm a view was opened for, so dropping a realm
    /// stops the writes of views opened before, and readers know when nothing was written
    /// (see [`tree::Liveness`]).
    alive: Arc<Mutex<HashMap<String, Arc<Liveness>>>>,
    commits: Arc<GroupCommit>,
}

impl Store {
    /// Opens (or creates) the database under `dir`, durable on power loss.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        Self::open_with(dir, cache_bytes, Durability::default())
    }

    /// Opens (or creates) the database under `dir` with the given durability.
    pub fn open_with(
        dir: &Path,
        cache_bytes: u64,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        let db = open_when_unlocked(
            &sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .flush_every_ms(Some(SLED_TICK_MS)),
        )?;
        let files = SledFiles::open(dir, durability).map_err(sled::Error::Io)?;
        let realms = db.open_tree(REALMS_TREE)?;
        let counters = db.open_tree(COUNTERS_TREE)?;
        let commits = Arc::new(GroupCommit::start(db.clone(), files)?);
        migrate::legacy_realm_trees(&db, &realms, || commits.commit_now())?;
        Ok(Self {
            db,
            realms,
            counters,
            alive: Arc::default(),
            commits,
        })
    }

    /// Names of every realm in the index, in name order. Reads the index only.
    pub fn realm_names(&self) -> Result<Vec<String>, StoreError> {
        self.realms
            .scan_prefix(INDEX_PREFIX)
            .keys()
            .map(|key| {
                let key = key?;
                let name = key.strip_prefix(INDEX_PREFIX).unwrap_or(&key);
                Ok(String::from_utf8_lossy(name).into_owned())
            })
            .collect()
    }

    /// Whether `realm` is in the index: created completely and not dropped.
    pub fn has_realm(&self, realm: &str) -> Result<bool, StoreError> {
        Ok(self.realms.contains_key(index_key(realm))?)
    }

    /// A view of one realm's data. It exists once [`RealmTree::create`] or
    /// [`RealmTree::replace_all`] indexed it; writes through the view before that leave keys
    /// that are no realm.
    pub fn realm_tree(&self, realm: &str) -> Result<RealmTree, StoreError> {
        let alive = {
            let mut alive = self.alive.lock().map_err(|_| StoreError::Dropped)?;
            Arc::clone(alive.entry(realm.to_owned()).or_insert_with(Arc::default))
        };
        Ok(RealmTree::new(
            self.realms.clone(),
            self.counters.clone(),
            data_prefix(realm),
            index_key(realm),
            alive,
            self.clone(),
        ))
    }

    /// Deletes a realm's data and its index entry in one atomic batch, then its counters (not
    /// yet durable). Views opened before fail to write from now on. A crash between the two
    /// leaves counters of no realm, which a later creation under the name clears first.
    pub fn drop_realm(&self, realm: &str) -> Result<(), StoreError> {
        // Held throughout, so no new view of the realm writes while its keys are collected.
        let mut views = self.alive.lock().map_err(|_| StoreError::Dropped)?;
        let dying = views.remove(realm);
        let _stopped = match &dying {
            Some(liveness) => {
                let stopped = liveness.stop_writes()?;
                // The drop is the realm's last write; left unfinished if it fails, so no
                // read of the remains is ever trusted.
                liveness.begin_write();
                Some(stopped)
            }
            None => None,
        };
        let (mut batch, _) = tree::removals(&self.realms, &data_prefix(realm))?;
        batch.remove(index_key(realm));
        self.realms.apply_batch(batch)?;
        tree::clear_prefix(&self.counters, &data_prefix(realm))?;
        if let Some(liveness) = &dying {
            liveness.end_write();
        }
        Ok(())
    }

    /// Remembers that a realm was deleted or moved away, so its realm file is not imported
    /// again (not yet durable).
    pub fn put_tombstone(&self, realm: &str, reason: &str) -> Result<(), StoreError> {
        self.db
            .open_tree(TOMBSTONE_TREE)?
            .insert(realm.as_bytes(), reason.as_bytes())?;
        Ok(())
    }

    /// Why a realm is gone, if it left a tombstone.
    pub fn tombstone(&self, realm: &str) -> Result<Option<String>, StoreError> {
        let raw = self.db.open_tree(TOMBSTONE_TREE)?.get(realm.as_bytes())?;
        Ok(raw.map(|reason| String::from_utf8_lossy(&reason).into_owned()))
    }

    /// Every tombstone as (realm, reason), in name order.
    pub fn tombstones(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .open_tree(TOMBSTONE_TREE)?
            .iter()
            .map(|entry| {
                let (name, reason) = entry?;
                Ok((
                    String::from_utf8_lossy(&name).into_owned(),
                    String::from_utf8_lossy(&reason).into_owned(),
                ))
            })
            .collect()
    }

    /// Forgets a tombstone; true when there was one (not yet durable).
    pub fn remove_tombstone(&self, realm: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .open_tree(TOMBSTONE_TREE)?
            .remove(realm.as_bytes())?
            .is_some())
    }

    /// Waits until every write made before this call is on disk. Concurrent callers share
    /// one sled flush (group commit), so durability costs one disk sync per batch of writes.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.commits.wait_durable().await
    }

    /// Readiness probe: writes a marker and waits until the group commit has made it
    /// durable, which proves the database accepts writes and the flusher thread runs.
    pub async fn probe_writable(&self) -> Result<(), StoreError> {
        self.db
            .insert(READY_PROBE_KEY, &crate::time::now_unix().to_be_bytes())?;
        self.flush().await
    }

    /// Blocking flush for shutdown and rare start-up writes, when no runtime work is left to
    /// batch with; goes through the group commit's syncs like every other flush.
    pub fn flush_now(&self) -> Result<(), StoreError> {
        self.commits.commit_now()
    }
}

/// `{realm}/`, the prefix of every key of the realm's data.
fn data_prefix(realm: &str) -> Vec<u8> {
    format!("{realm}/").into_bytes()
}

/// The realm's entry in the realm index.
fn index_key(realm: &str) -> Vec<u8> {
    [INDEX_PREFIX, realm.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_waits_for_the_lock_a_closing_store_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path(), 1 << 20).unwrap();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(first);
        });
        let started = Instant::now();
        let second = Store::open(dir.path(), 1 << 20);
        assert!(second.is_ok(), "{:?}", second.err());
        assert!(started.elapsed() >= Duration::from_millis(300));
        closer.join().unwrap();
    }
}
