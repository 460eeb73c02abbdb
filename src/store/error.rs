//! Storage failures. Always a server-side problem: never the client's fault.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(sled::Error),
    /// The tree was dropped (its realm deleted) while the operation ran.
    #[error("the collection was dropped")]
    Dropped,
    #[error("stored value for key {key} cannot be decoded: {source}")]
    Decode {
        key: String,
        source: serde_json::Error,
    },
    #[error("value cannot be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    /// Another process holds sled's lock on the directory.
    #[error("the database directory is locked by another process")]
    Locked,
    #[error("the flusher thread is gone")]
    FlusherGone,
    /// A flush or the sync after it failed: the write may or may not be on disk.
    #[error("the database could not be made durable: {0}")]
    Flush(String),
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        match error {
            sled::Error::CollectionNotFound(_) => Self::Dropped,
            other => Self::Sled(other),
        }
    }
}
