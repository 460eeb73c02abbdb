//! Durable storage on sled. Knows keys, values and flushing; knows nothing about OAuth.
//!
//! Each realm has one sled tree named `realm/{name}`; the realm layer chooses the keys inside.

mod durable;
mod error;
mod group_commit;
mod tree;

pub use durable::Durability;
pub use error::StoreError;
pub use tree::{BatchOp, RealmTree};

use durable::SledFiles;
use group_commit::GroupCommit;
use std::path::Path;
use std::sync::Arc;

const REALM_TREE_PREFIX: &str = "realm/";
/// In the default tree, apart from every realm's.
const READY_PROBE_KEY: &[u8] = b"dynreg/ready-probe";
/// Tree of realm tombstones: realm name → why it is gone (SPEC §4).
const TOMBSTONE_TREE: &str = "tombstones";

/// The database: one per process, cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
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
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()?;
        let files = SledFiles::open(dir, durability).map_err(sled::Error::Io)?;
        let commits = Arc::new(GroupCommit::start(db.clone(), files)?);
        Ok(Self { db, commits })
    }

    /// Names of every realm that has a tree.
    pub fn realm_names(&self) -> Vec<String> {
        self.db
            .tree_names()
            .into_iter()
            .filter_map(|raw| {
                let name = String::from_utf8(raw.to_vec()).ok()?;
                name.strip_prefix(REALM_TREE_PREFIX).map(str::to_owned)
            })
            .collect()
    }

    /// The tree of one realm, created empty if it does not exist.
    pub fn realm_tree(&self, realm: &str) -> Result<RealmTree, StoreError> {
        let tree = self.db.open_tree(format!("{REALM_TREE_PREFIX}{realm}"))?;
        Ok(RealmTree::new(tree, self.clone()))
    }

    /// Deletes a realm's tree and everything in it.
    pub fn drop_realm(&self, realm: &str) -> Result<(), StoreError> {
        self.db.drop_tree(format!("{REALM_TREE_PREFIX}{realm}"))?;
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
