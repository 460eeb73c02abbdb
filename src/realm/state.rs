//! The realm state the handles read without asking the actor: settings, keys and software
//! publishers. The actor replaces it as a whole (copy on write), so a reader always sees a
//! consistent set.

use super::settings::ProviderSettings;
use crate::jose::RealmKeys;
use crate::software_statement::{DecryptionKeys, SoftwarePublisher};
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

/// The current snapshot, shared by the actor (writer) and its handles (readers).
pub type SharedState = Arc<RwLock<Arc<RealmState>>>;

/// The current snapshot, even if a writer panicked while holding the lock.
pub fn snapshot(shared: &SharedState) -> Arc<RealmState> {
    match shared.read() {
        Ok(state) => Arc::clone(&state),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
}
