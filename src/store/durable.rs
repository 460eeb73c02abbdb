//! What sled's flush leaves undone: on Linux sled 0.34 ends a flush with `sync_file_range`,
//! which neither flushes the drive's cache nor the file's metadata, writes value blobs without
//! any sync, and renames snapshots without syncing their directory. So a flushed write
//! survives `kill -9` but not a power cut. [`SledFiles::sync`] finishes the job after each
//! flush: `fdatasync` of the log file (`db`), `fsync` of every blob file written since the
//! last call and of the `blobs/` directory, and `fsync` of the database directory when its
//! entries (snapshots) changed.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// How the group commit makes a flush durable.
#[derive(Debug, Clone, Default)]
pub struct Durability {
    /// Skip the syncs above: a 2xx then survives `kill -9` only. For measuring their cost.
    pub skip_fsync: bool,
    /// Fault injection for tests: while this file exists, every flush fails.
    pub fail_while_exists: Option<PathBuf>,
}

/// The files of one sled database that a flush must leave on stable storage.
pub(super) struct SledFiles {
    dir: PathBuf,
    log: File,
    durability: Durability,
    /// Blob files already synced (blobs are written once and never changed).
    synced_blobs: HashSet<OsString>,
    /// Entries of the database directory when it was last synced.
    entries: HashSet<OsString>,
}

impl SledFiles {
    /// Opens the log of the database in `dir` (already opened by sled) and syncs what sled
    /// created without syncing: its configuration file and the directories.
    pub(super) fn open(dir: &Path, durability: Durability) -> io::Result<Self> {
        let log = File::open(dir.join("db"))?;
        let mut files = Self {
            dir: dir.to_owned(),
            log,
            durability,
            synced_blobs: HashSet::new(),
            entries: HashSet::new(),
        };
        if !files.durability.skip_fsync {
            File::open(dir.join("conf"))?.sync_all()?;
            files.sync()?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(files)
    }

    /// Makes everything sled's last flush wrote durable. One call per group-commit batch.
    pub(super) fn sync(&mut self) -> io::Result<()> {
        if let Some(trigger) = &self.durability.fail_while_exists {
            if trigger.exists() {
                return Err(io::Error::other(format!(
                    "injected flush failure ({} exists)",
                    trigger.display()
                )));
            }
        }
        if self.durability.skip_fsync {
            return Ok(());
        }
        self.log.sync_data()?;
        self.sync_new_blobs()?;
        let entries = names(&self.dir)?;
        if entries != self.entries {
            sync_dir(&self.dir)?;
            self.entries = entries;
        }
        Ok(())
    }

    /// Blobs hold values too big for the log (rare for us: records are a few KiB); listing the
    /// directory costs per live blob, not per stored record.
    fn sync_new_blobs(&mut self) -> io::Result<()> {
        let blobs = self.dir.join("blobs");
        let present = match names(&blobs) {
            Ok(present) => present,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut wrote = false;
        for name in present.difference(&self.synced_blobs) {
            match File::open(blobs.join(name)) {
                Ok(file) => file.sync_all()?,
                // Collected by sled in the meantime: nothing left to keep.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            wrote = true;
        }
        if wrote || present.len() != self.synced_blobs.len() {
            sync_dir(&blobs)?;
        }
        self.synced_blobs = present;
        Ok(())
    }
}

fn names(dir: &Path) -> io::Result<HashSet<OsString>> {
    std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect()
}

/// A directory's entries (created, renamed, removed files) reach the disk with its `fsync`.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
