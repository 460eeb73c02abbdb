//! `RealmRegistry`: realm name → handle. Creates and deletes realms at run time, imports realm
//! files, and starts realm actors over a small pool of arbiters (threads).
//!
//! Realms start lazily: at start-up the registry only learns the realm names from the store,
//! and a realm's keys, settings and actor are loaded on its first request (a new realm too).
//! Each realm has its own once-slot, so starting one (sled reads and key parsing, on the
//! blocking pool) never holds up requests to others. A realm unused for a while is stopped
//! and goes back to dormant. A server with many realms therefore starts at once and spends
//! memory only on the realms in use.

use super::actor::upgrade_client_indexes;
use super::actor::RealmActor;
use super::client_cache::{ClientCache, CLIENT_CACHE_BYTES};
use super::error::RealmError;
use super::export::{ExportSummary, RealmExport};
use super::handle::{blocking, parse_document, ParsedDocument, RealmContext, RealmHandle};
use super::key_stock::KeyStock;
use super::messages::Stop;
use super::record::{document_ops, is_derived, KEYS_KEY, PUBLISHER_PREFIX, SETTINGS_KEY};
use super::settings::{ProviderSettings, RealmDocument};
use super::state::{load_keys, RealmState, RealmStatus, StatusCell};
use super::RealmName;
use crate::jose::StoredKeys;
use crate::jwks_fetch::JwksFetcher;
use crate::log_value::Logged;
use crate::software_statement::{PublisherDocument, SoftwarePublisher};
use crate::store::{BatchOp, RealmTree, Store};
use crate::time::now_unix;
use actix::{Actor, ArbiterHandle};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

/// One realm of the map: its handle once started, and what a stopped run left behind.
struct RealmSlot {
    /// Set by the first request that finds the realm dormant; the others wait for it.
    running: tokio::sync::OnceCell<Arc<RealmHandle>>,
    /// The context of the run before, when an idle realm was stopped: its replay cache, rate
    /// limiters and noted uses carry over, so a restart reopens no replay window.
    previous: Option<Arc<RealmContext>>,
    /// The registry's count of running realms: one for this slot while `running` is set, so
    /// the metrics read a number instead of walking every realm.
    running_realms: Arc<AtomicUsize>,
}

impl RealmSlot {
    fn dormant(
        previous: Option<Arc<RealmContext>>,
        running_realms: &Arc<AtomicUsize>,
    ) -> Arc<Self> {
        Arc::new(Self {
            running: tokio::sync::OnceCell::new(),
            previous,
            running_realms: Arc::clone(running_realms),
        })
    }

    fn started(handle: RealmHandle, running_realms: &Arc<AtomicUsize>) -> Arc<Self> {
        running_realms.fetch_add(1, Ordering::Relaxed);
        Arc::new(Self {
            running: tokio::sync::OnceCell::new_with(Some(Arc::new(handle))),
            previous: None,
            running_realms: Arc::clone(running_realms),
        })
    }

    /// The running handle, if it may be stopped at `now`: open, idle for `idle_seconds`,
    /// without reaping (which runs in the actor), and no request holding a handle (a handle
    /// is the only other holder of its context besides this slot).
    fn stoppable(&self, now: u64, idle_seconds: u64) -> Option<&RealmHandle> {
        let handle = self.running.get()?;
        let held_here = 1 + usize::from(self.previous.is_some());
        let stoppable = handle.status() == RealmStatus::Open
            && handle.context.idle_at(now, idle_seconds)
            && Arc::strong_count(&handle.context) == held_here
            && !handle.snapshot().settings.policy.reaping.enabled;
        stoppable.then_some(handle)
    }
}

impl Drop for RealmSlot {
    fn drop(&mut self) {
        if self.running.initialized() {
            self.running_realms.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Why a dormant realm did not start.
enum StartFailure {
    /// It has no index entry: a creation that crashed before its batch. The remains are gone.
    Incomplete,
    Failed(RealmError),
}

impl From<RealmError> for StartFailure {
    fn from(error: RealmError) -> Self {
        Self::Failed(error)
    }
}

/// A stored realm read from its tree, ready for its actor.
struct LoadedRealm {
    tree: RealmTree,
    state: RealmState,
    dynamic_clients: u64,
}

/// What `PUT /admin/realms/{name}` did.
pub enum PutRealm {
    /// A new realm, durable, as its export (without secrets) reads it.
    Created(Box<RealmDocument>),
    /// The existing realm's settings, publishers and static clients were replaced.
    Replaced,
}

/// Every realm of the server.
pub struct RealmRegistry {
    store: Store,
    /// Scheme, host and port clients see; realm issuers are built on it.
    public_url: String,
    fetcher: Arc<JwksFetcher>,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    /// Realms whose actor runs (see [`RealmSlot`]).
    running_realms: Arc<AtomicUsize>,
    /// Every realm, in name order (for paged listing).
    realms: RwLock<BTreeMap<RealmName, Arc<RealmSlot>>>,
    /// Serializes realm creation and deletion (rare admin operations).
    changes: tokio::sync::Mutex<()>,
    /// Keys for the next new realms.
    new_keys: Arc<KeyStock>,
    /// When this registry opened: realms loaded from the store remember used client
    /// assertions from then on.
    opened_at: u64,
    /// Decoded clients of every realm (bounded; see `client_cache`).
    clients: Arc<ClientCache>,
}

impl RealmRegistry {
    /// Learns every realm in the store, without starting any.
    pub fn open(
        store: Store,
        arbiters: Vec<ArbiterHandle>,
        public_url: String,
        fetcher: Arc<JwksFetcher>,
    ) -> Result<Self, RealmError> {
        let registry = Self {
            store,
            public_url,
            fetcher,
            arbiters,
            next_arbiter: AtomicUsize::new(0),
            running_realms: Arc::default(),
            realms: RwLock::new(BTreeMap::new()),
            changes: tokio::sync::Mutex::new(()),
            new_keys: Arc::default(),
            opened_at: crate::time::now_unix(),
            clients: Arc::new(ClientCache::new(CLIENT_CACHE_BYTES)),
        };
        let mut dormant = BTreeMap::new();
        for name in registry.store.realm_names()? {
            // A realm moved away whose grace period a restart cut short: finish deleting it.
            if registry.store.tombstone(&name)?.is_some() {
                registry.store.drop_realm(&name)?;
                log::info!("realm={name} left behind by a move: deleted");
                continue;
            }
            match RealmName::parse(&name) {
                Ok(name) => {
                    dormant.insert(name, RealmSlot::dormant(None, &registry.running_realms));
                }
                Err(why) => log::warn!("skipping stored realm: {why}"),
            }
        }
        if let Ok(mut realms) = registry.realms.write() {
            *realms = dormant;
        }
        Ok(registry)
    }

    /// The realm called `name`, started if it is dormant; `None` if it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<Arc<RealmHandle>>, RealmError> {
        let Ok(name) = RealmName::parse(name) else {
            return Ok(None);
        };
        let Some(slot) = self.read_map(|realms| realms.get(&name).cloned()) else {
            return Ok(None);
        };
        let handle = match slot.running.get() {
            Some(handle) => handle.clone(),
            None => match self.activate(&name, &slot).await? {
                Some(handle) => handle,
                None => return Ok(None),
            },
        };
        handle.context.touch(now_unix());
        if handle.status() == RealmStatus::Moved {
            return Err(RealmError::Moved);
        }
        Ok(Some(handle))
    }

    /// Whether a realm exists, without starting it.
    pub fn contains(&self, name: &RealmName) -> bool {
        self.read_map(|realms| realms.contains_key(name))
    }

    /// Starts a dormant realm; of requests racing to start it, one does and all get it. A
    /// realm without its index entry does not exist (its creation never completed, or it was
    /// dropped meanwhile): whatever it left behind is dropped.
    async fn activate(
        &self,
        name: &RealmName,
        slot: &Arc<RealmSlot>,
    ) -> Result<Option<Arc<RealmHandle>>, RealmError> {
        let started = slot
            .running
            .get_or_try_init(|| async {
                let handle = self.start(name.clone(), slot.previous.clone()).await?;
                self.running_realms.fetch_add(1, Ordering::Relaxed);
                Ok(Arc::new(handle))
            })
            .await;
        match started {
            Ok(handle) => Ok(Some(handle.clone())),
            Err(StartFailure::Failed(error)) => Err(error),
            Err(StartFailure::Incomplete) => {
                if let Ok(mut realms) = self.realms.write() {
                    if realms.get(name).is_some_and(|s| Arc::ptr_eq(s, slot)) {
                        realms.remove(name);
                    }
                }
                Ok(None)
            }
        }
    }

    /// How many realms exist, and how many of them run (for metrics).
    pub fn realm_counts(&self) -> (usize, usize) {
        let running = self.running_realms.load(Ordering::Relaxed);
        (self.read_map(BTreeMap::len), running)
    }

    /// Up to `limit` realm names after `after`, in name order.
    pub fn names(&self, after: Option<&RealmName>, limit: usize) -> Vec<String> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.read_map(|realms| {
            realms
                .range((from, Bound::Unbounded))
                .take(limit)
                .map(|(name, _)| name.to_string())
                .collect()
        })
    }

    /// Creates a realm from a document, or replaces an existing one; answers whether it was
    /// created. A new realm is durable when this answers, and dormant until its first request.
    pub async fn put_realm(
        &self,
        name: RealmName,
        document: &RealmDocument,
    ) -> Result<PutRealm, RealmError> {
        // Keys (two P-256 keys; the RSA key comes later, see `RealmHandle::jwks`) come from
        // the stock a lowest-priority thread makes ahead (`key_stock`), outside the lock.
        let fresh = if self.contains(&name) {
            None
        } else {
            Some((parse_document(document)?, self.new_keys.take().await?))
        };
        let _guard = self.changes.lock().await;
        if let Some(existing) = self.get(name.as_str()).await? {
            existing.replace(document).await?;
            return Ok(PutRealm::Replaced);
        }
        let (parsed, keys) = match fresh {
            Some(fresh) => fresh,
            // The realm was deleted (or found half-created) since the check above.
            None => (parse_document(document)?, self.new_keys.take().await?),
        };
        let stored = match self.create(&name, &keys, parsed).await {
            Ok(stored) => stored,
            Err(error) => {
                // A failed flush leaves the outcome unknown; either way the realm is not
                // visible and must not come back half-made at the next start.
                let _ = self.store.drop_realm(name.as_str());
                return Err(error);
            }
        };
        if let Ok(mut realms) = self.realms.write() {
            realms.insert(name.clone(), RealmSlot::dormant(None, &self.running_realms));
        }
        // Creating a realm through the admin API is the operator's explicit wish.
        if self.store.remove_tombstone(name.as_str())? {
            self.store.flush().await?;
        }
        log::info!("realm={name} created");
        // Answered from what was stored: the realm stays dormant until its first request.
        Ok(PutRealm::Created(Box::new(stored.exported(&name, false))))
    }

    /// Stores a new realm: keys, settings, publishers, static clients and the realm's index
    /// entry in one atomic batch, durable before anyone can see the realm. A crash leaves all
    /// of it or none of it (no index entry, no realm: see [`RealmRegistry::activate`]).
    async fn create(
        &self,
        name: &RealmName,
        keys: &StoredKeys,
        parsed: ParsedDocument,
    ) -> Result<ParsedDocument, RealmError> {
        let mut ops = vec![BatchOp::put(KEYS_KEY, keys)?];
        ops.extend(document_ops(
            &parsed.settings,
            &parsed.publishers,
            &parsed.static_clients,
        )?);
        let tree = self.store.realm_tree(name.as_str())?;
        tree.create(ops)?;
        tree.flush().await?;
        Ok(parsed)
    }

    /// Deletes a realm and all its data; `root` cannot be deleted.
    pub async fn delete_realm(&self, name: &RealmName) -> Result<(), RealmError> {
        if name.is_root() {
            return Err(RealmError::InvalidRequest(
                "the root realm cannot be deleted".into(),
            ));
        }
        let _guard = self.changes.lock().await;
        if !self.contains(name) {
            return Err(RealmError::NotFound(format!("no realm {name}")));
        }
        self.remove(name, "deleted").await?;
        log::info!("realm={name} deleted");
        Ok(())
    }

    /// Forgets a realm and drops its data, leaving a tombstone first so that neither a crash
    /// half-way nor a restart brings it back from its realm file (SPEC §4).
    async fn remove(&self, name: &RealmName, reason: &str) -> Result<(), RealmError> {
        self.store.put_tombstone(name.as_str(), reason)?;
        self.forget(name);
        self.store.drop_realm(name.as_str())?;
        self.store.flush().await?;
        Ok(())
    }

    /// Creates a realm from a complete export, in one atomic batch; refused when the realm
    /// exists here. Clears the realm's tombstone: importing is the operator's explicit wish.
    pub async fn import_realm(
        &self,
        name: RealmName,
        export: RealmExport,
    ) -> Result<ExportSummary, RealmError> {
        if export.realm != name.as_str() {
            return Err(RealmError::InvalidRequest(
                "realm export: its realm does not match the realm in the path".into(),
            ));
        }
        export.check()?;
        let _guard = self.changes.lock().await;
        if self.contains(&name) {
            return Err(RealmError::AlreadyExists(format!(
                "realm {name} already exists on this node"
            )));
        }
        let tree = self.store.realm_tree(name.as_str())?;
        // The derived indexes are rebuilt from the records when the realm starts, never
        // taken from a document.
        let mut entries = export.entries;
        entries.retain(|(key, _)| !is_derived(key));
        tree.replace_all(&entries)?;
        self.store.remove_tombstone(name.as_str())?;
        self.store.flush().await?;
        drop(tree);
        let handle = match self.start(name.clone(), None).await {
            Ok(handle) => handle,
            Err(failure) => {
                self.store.drop_realm(name.as_str())?;
                return Err(match failure {
                    StartFailure::Failed(error) => error,
                    StartFailure::Incomplete => {
                        RealmError::InvalidRequest("realm export: it has no keys".into())
                    }
                });
            }
        };
        handle.remember_used_assertions(export.used_assertions)?;
        if let Ok(mut realms) = self.realms.write() {
            realms.insert(
                name.clone(),
                RealmSlot::started(handle.clone(), &self.running_realms),
            );
        }
        let imported = handle.export_all().await?;
        log::info!("realm={name} imported ({} clients)", imported.clients);
        Ok(imported.summary())
    }

    /// Marks a realm moved to another node: from now on it answers 421, it leaves a
    /// tombstone, and its data is deleted after `grace` (a restart before then deletes it at
    /// start).
    pub async fn mark_moved(
        self: &Arc<Self>,
        name: &RealmName,
        grace: std::time::Duration,
    ) -> Result<(), RealmError> {
        let handle = self
            .get(name.as_str())
            .await?
            .ok_or_else(|| RealmError::NotFound(format!("no realm {name}")))?;
        handle.set_status(RealmStatus::Moved).await?;
        self.store.put_tombstone(name.as_str(), "moved")?;
        self.store.flush().await?;
        let registry = Arc::clone(self);
        let name = name.clone();
        actix_rt::spawn(async move {
            actix_rt::time::sleep(grace).await;
            let _guard = registry.changes.lock().await;
            let still_moved = registry
                .read_map(|realms| realms.get(&name).cloned())
                .and_then(|slot| slot.running.get().map(|handle| handle.status()))
                == Some(RealmStatus::Moved);
            if still_moved {
                match registry.remove(&name, "moved").await {
                    Ok(()) => log::info!("realm={name} moved away: deleted after its grace period"),
                    Err(why) => log::error!("realm={name} moved away, not deleted: {why}"),
                }
            }
        });
        Ok(())
    }

    /// Every tombstone as (realm, reason).
    pub fn tombstones(&self) -> Result<Vec<(String, String)>, RealmError> {
        Ok(self.store.tombstones()?)
    }

    /// Removes a realm's tombstone, so its realm file is imported again at the next start.
    pub async fn remove_tombstone(&self, name: &RealmName) -> Result<(), RealmError> {
        let _guard = self.changes.lock().await;
        if self.contains(name) {
            return Err(RealmError::InvalidRequest(format!(
                "realm {name} is still here; its tombstone goes with it"
            )));
        }
        if !self.store.remove_tombstone(name.as_str())? {
            return Err(RealmError::NotFound(format!(
                "no tombstone for realm {name}"
            )));
        }
        self.store.flush().await?;
        Ok(())
    }

    /// Imports `realms/NAME.json` for every realm that does not exist yet (SPEC §4), then
    /// makes sure `root` exists.
    pub async fn import_dir(&self, dir: &Path) -> Result<(), String> {
        let mut files: Vec<_> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(format!(
                    "cannot read realms directory {}: {e}",
                    dir.display()
                ))
            }
        };
        files.sort();
        for path in files {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name =
                RealmName::parse(&stem).map_err(|why| format!("{}: {why}", path.display()))?;
            if self.exists(&name).await? {
                continue;
            }
            if let Some(reason) = self
                .store
                .tombstone(name.as_str())
                .map_err(|e| e.to_string())?
            {
                log::info!(
                    "realm={name} not imported from {}: it was {reason} (remove its tombstone to \
                     import it again)",
                    path.display()
                );
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let document: RealmDocument =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            if document.name.as_deref().is_some_and(|n| n != name.as_str()) {
                return Err(format!(
                    "{}: name does not match the file name",
                    path.display()
                ));
            }
            self.put_realm(name.clone(), &document)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            log::info!("realm={name} imported from {}", path.display());
        }
        if !self.exists(&RealmName::root()).await? {
            self.put_realm(RealmName::root(), &RealmDocument::default())
                .await
                .map_err(|e| format!("cannot create the root realm: {e}"))?;
        }
        Ok(())
    }

    /// Whether a realm exists completely (starting it, so a half-created one is dropped).
    async fn exists(&self, name: &RealmName) -> Result<bool, String> {
        self.get(name.as_str())
            .await
            .map(|handle| handle.is_some())
            .map_err(|e| format!("realm {name}: {e}"))
    }

    /// Loads a stored realm on the blocking pool and starts its actor, with the context of
    /// its previous run if it had one.
    async fn start(
        &self,
        name: RealmName,
        previous: Option<Arc<RealmContext>>,
    ) -> Result<RealmHandle, StartFailure> {
        let store = self.store.clone();
        let realm = name.clone();
        let loaded = blocking(move || load_realm(&store, &realm)).await??;
        let Some(loaded) = loaded else {
            log::warn!("realm={name} was never completely created; its remains are dropped");
            return Err(StartFailure::Incomplete);
        };
        let context = previous.unwrap_or_else(|| {
            RealmContext::new(
                format!("{}{}", self.public_url, base_path(&name)),
                Arc::clone(&self.fetcher),
                // Assertions issued before this process started may have been used before
                // it did.
                self.opened_at,
                Arc::new(StatusCell::default()),
                Arc::clone(&self.clients),
            )
        });
        let shared = Arc::new(RwLock::new(Arc::new(loaded.state)));
        let actor = RealmActor::new(
            name.clone(),
            loaded.tree.clone(),
            Arc::clone(&shared),
            loaded.dynamic_clients,
            Arc::clone(&context.usage),
            Arc::clone(&context.status),
        );
        let addr = match self.pick_arbiter() {
            Some(arbiter) => RealmActor::start_in_arbiter(arbiter, |_| actor),
            None => actor.start(),
        };
        log::debug!("realm={name} started");
        Ok(RealmHandle::new(name, addr, loaded.tree, shared, context))
    }

    /// Stops the actors of realms unused for `idle`, every `idle / 4` (at least every
    /// second), for as long as the registry lives.
    pub fn stop_idle_realms_after(self: &Arc<Self>, idle: Duration) {
        let registry = Arc::downgrade(self);
        let idle_seconds = idle.as_secs().max(1);
        let period = Duration::from_secs((idle_seconds / 4).clamp(1, 60));
        actix_rt::spawn(async move {
            let mut ticks = actix_rt::time::interval(period);
            loop {
                ticks.tick().await;
                let Some(registry) = Weak::upgrade(&registry) else {
                    return;
                };
                registry.stop_idle_realms(idle_seconds).await;
            }
        });
    }

    /// Puts realms idle for `idle_seconds` back to dormant and stops their actors.
    async fn stop_idle_realms(&self, idle_seconds: u64) {
        let now = now_unix();
        // A read pass finds candidates without blocking requests; the write pass re-checks.
        let candidates: Vec<RealmName> = self.read_map(|realms| {
            realms
                .iter()
                .filter(|(_, slot)| slot.stoppable(now, idle_seconds).is_some())
                .map(|(name, _)| name.clone())
                .collect()
        });
        if candidates.is_empty() {
            return;
        }
        let mut stopped = Vec::with_capacity(candidates.len());
        if let Ok(mut realms) = self.realms.write() {
            for name in candidates {
                let Some(slot) = realms.get_mut(&name) else {
                    continue;
                };
                // A request that cloned the slot may be about to use it.
                if Arc::strong_count(slot) != 1 {
                    continue;
                }
                let Some(handle) = slot.stoppable(now, idle_seconds).cloned() else {
                    continue;
                };
                *slot = RealmSlot::dormant(Some(Arc::clone(&handle.context)), &self.running_realms);
                stopped.push(handle);
            }
        }
        for handle in &stopped {
            // The actor writes the noted client uses before it stops.
            let _ = handle.addr.send(Stop).await;
        }
        if let Err(e) = self.store.flush().await {
            log::error!("writing the use times of stopped realms failed: {e}");
        }
        log::debug!("{} idle realm(s) stopped", stopped.len());
    }

    /// Removes a realm from the map; true if it was there.
    fn forget(&self, name: &RealmName) -> bool {
        self.realms
            .write()
            .map(|mut realms| realms.remove(name).is_some())
            .unwrap_or(false)
    }

    fn pick_arbiter(&self) -> Option<&ArbiterHandle> {
        if self.arbiters.is_empty() {
            return None;
        }
        let index = self.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        self.arbiters.get(index)
    }

    fn read_map<T>(&self, f: impl FnOnce(&BTreeMap<RealmName, Arc<RealmSlot>>) -> T) -> T {
        match self.realms.read() {
            Ok(realms) => f(&realms),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }
}

/// Reads a stored realm: settings, keys (parsed), publishers and its count of dynamic
/// clients; `None`, and its remains dropped, when it has no index entry. Blocking: sled reads
/// and PEM parsing.
fn load_realm(store: &Store, name: &RealmName) -> Result<Option<LoadedRealm>, RealmError> {
    if !store.has_realm(name.as_str())? {
        store.drop_realm(name.as_str())?;
        return Ok(None);
    }
    let tree = store.realm_tree(name.as_str())?;
    let Some(mut stored_keys) = tree.get::<StoredKeys>(KEYS_KEY)? else {
        return Err(RealmError::NotFound(format!("realm {name} has no keys")));
    };
    // Realms stored before ECDH-ES statements were accepted get their key now.
    if stored_keys.ensure_ecdh_key()? {
        // Flushed before the key is published, so a statement encrypted to it can still be
        // opened after a crash.
        tree.put(KEYS_KEY, &stored_keys)?;
        store.flush_now()?;
    }
    let settings: ProviderSettings = tree.get(SETTINGS_KEY)?.unwrap_or_default();
    let (keys, decryption) = load_keys(stored_keys)?;
    let state = RealmState {
        settings,
        keys,
        decryption,
        publishers: Arc::new(load_publishers(name, &tree)?),
    };
    let dynamic_clients = upgrade_client_indexes(&tree)?;
    Ok(Some(LoadedRealm {
        tree,
        state,
        dynamic_clients,
    }))
}

/// The stored publisher profiles, in `agent_id` order. One that no longer passes validation
/// is left out (and logged): fewer trusted issuers fails closed.
fn load_publishers(
    realm: &RealmName,
    tree: &RealmTree,
) -> Result<Vec<SoftwarePublisher>, RealmError> {
    let stored = tree.page::<PublisherDocument>(PUBLISHER_PREFIX, None, usize::MAX)?;
    let mut publishers = Vec::with_capacity(stored.len());
    for (agent_id, document) in stored {
        match SoftwarePublisher::parse(&document, Some(&agent_id)) {
            Ok(publisher) => publishers.push(publisher),
            Err(why) => {
                log::error!(
                    "realm={realm} software publisher {} not loaded: {}",
                    Logged(&agent_id),
                    Logged(&why)
                )
            }
        }
    }
    Ok(publishers)
}

/// The realm's base path `B` (SPEC §2).
fn base_path(realm: &RealmName) -> String {
    if realm.is_root() {
        "/am/oauth2/realms/root".to_owned()
    } else {
        format!("/am/oauth2/realms/root/realms/{realm}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::record::publisher_key;
    use serde_json::json;

    #[test]
    fn stored_publishers_load_in_agent_id_order_and_invalid_ones_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let tree = store.realm_tree("alpha").unwrap();
        let valid =
            |issuer: &str| json!({"issuer": issuer, "signing_algorithm": "HS256", "secret": "s"});
        tree.put(&publisher_key("b"), &valid("https://b.example"))
            .unwrap();
        tree.put(&publisher_key("a"), &valid("https://a.example"))
            .unwrap();
        // An HS256 profile without its secret no longer passes validation.
        tree.put(
            &publisher_key("c"),
            &json!({"issuer": "https://c.example", "signing_algorithm": "HS256"}),
        )
        .unwrap();
        let realm = RealmName::parse("alpha").unwrap();
        let loaded = load_publishers(&realm, &tree).unwrap();
        let agents: Vec<&str> = loaded.iter().map(|p| p.agent_id()).collect();
        assert_eq!(agents, ["a", "b"]);
        assert_eq!(loaded[0].secret().map(|s| s.expose()), Some("s"));
    }
}
