//! The realm state the handles read without asking the actor: settings, keys and software
//! publishers. The actor replaces it as a whole (copy on write), so a reader always sees a
//! consistent set.

use super::error::RealmError;
use super::settings::ProviderSettings;
use crate::jose::{JoseError, RealmKeys, StoredKeys};
use crate::software_statement::{DecryptionKeys, SoftwarePublisher};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

/// An immutable snapshot of a realm's settings, keys and publishers.
pub struct RealmState {
    pub settings: ProviderSettings,
    pub keys: Arc<RealmKeys>,
    /// Publisher profiles in `agent_id` order (the order of their sled keys).
    pub publishers: Arc<Vec<SoftwarePublisher>>,
    /// Decrypters of the realm's encryption keys, for encrypted statements.
    pub decryption: Arc<DecryptionKeys>,
}

/// Stored keys made ready to use: the signing keys parsed and the decrypters of the
/// encryption keys built. CPU work (PEM parsing, RSA key checks): callers keep it off the
/// actor and the async workers.
pub(super) fn load_keys(
    stored: StoredKeys,
) -> Result<(Arc<RealmKeys>, Arc<DecryptionKeys>), RealmError> {
    let decryption = DecryptionKeys::from_pems(
        stored
            .encryption
            .as_ref()
            .map(|key| key.private_pem.expose()),
        stored
            .ecdh_encryption
            .as_ref()
            .map(|key| key.private_pem.expose()),
    )
    .map_err(|why| RealmError::Keys(JoseError::Key(why)))?;
    Ok((Arc::new(RealmKeys::load(stored)?), Arc::new(decryption)))
}

/// The current snapshot, shared by the actor (writer) and its handles (readers).
pub type SharedState = Arc<RwLock<Arc<RealmState>>>;

/// The current snapshot, even if a writer panicked while holding the lock.
pub fn snapshot(shared: &SharedState) -> Arc<RealmState> {
    match shared.read() {
        Ok(state) => Arc::clone(&state),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
}

/// Whether a realm takes writes here: the steps of a live move (issue 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealmStatus {
    /// Normal service.
    Open,
    /// Reads keep working; writes answer 503 with `Retry-After` while the realm is copied.
    Fenced,
    /// The realm now lives on another node: every request answers 421.
    Moved,
}

/// A realm's status, written only by its actor (so a write handled after the fence is
/// refused, whatever its timing) and read by its handles.
#[derive(Default)]
pub struct StatusCell(AtomicU8);

impl StatusCell {
    pub fn get(&self) -> RealmStatus {
        match self.0.load(Ordering::Acquire) {
            0 => RealmStatus::Open,
            1 => RealmStatus::Fenced,
            _ => RealmStatus::Moved,
        }
    }

    pub(super) fn set(&self, status: RealmStatus) {
        let raw = match status {
            RealmStatus::Open => 0,
            RealmStatus::Fenced => 1,
            RealmStatus::Moved => 2,
        };
        self.0.store(raw, Ordering::Release);
    }
}
