//! `RealmActor`: one per realm, the single writer of the realm's sled tree.
//!
//! Every write happens synchronously inside a handler, so the actor orders all changes of its
//! realm, and checks that depend on the current state (a registration access token still
//! being the current one) sit in the same handler run as the write they guard. Handlers never
//! wait for the disk: the caller's handle awaits the shared group commit after the reply, so
//! writes of concurrent requests share one flush and the actor moves straight on.

use super::error::RealmError;
use super::initial_access::{id_of, InitialAccessToken};
use super::messages::*;
use super::reaping::UsageTracker;
use super::record::{
    client_key, document_ops, initial_access_key, publisher_key, static_client_ops, static_key,
    usage_key, ClientOrigin, ClientRecord, TokenMatch, CLIENT_PREFIX, DYNAMIC_CLIENTS_COUNTER,
    KEYS_KEY, LEGACY_DYNAMIC_COUNT_KEY, PUBLISHER_PREFIX, SETTINGS_KEY, STATIC_INDEX_KEY,
    STATIC_PREFIX,
};
use super::settings::ProviderSettings;
use super::state::{snapshot, RealmState, RealmStatus, SharedState, StatusCell};
use super::RealmName;
use crate::jose::RealmKeys;
use crate::jose::StoredKeys;
use crate::secret::SecretHash;
use crate::software_statement::{DecryptionKeys, SoftwarePublisher};
use crate::store::{BatchOp, RealmTree};
use actix::{Actor, ActorContext, Context, Handler};
use std::sync::Arc;

/// Owner of one realm's state.
pub struct RealmActor {
    name: RealmName,
    tree: RealmTree,
    state: SharedState,
    /// Dynamic clients in the realm (also stored, in the batch of every change to it).
    dynamic_clients: u64,
    usage: Arc<UsageTracker>,
    status: Arc<StatusCell>,
}

impl Actor for RealmActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.schedule_housekeeping(ctx);
        log::debug!("realm={} actor started", self.name);
    }
}

impl RealmActor {
    /// `dynamic_clients` is the stored count ([`upgrade_client_indexes`]).
    pub fn new(
        name: RealmName,
        tree: RealmTree,
        state: SharedState,
        dynamic_clients: u64,
        usage: Arc<UsageTracker>,
        status: Arc<StatusCell>,
    ) -> Self {
        Self {
            name,
            tree,
            state,
            dynamic_clients,
            usage,
            status,
        }
    }

    pub(super) fn name(&self) -> &RealmName {
        &self.name
    }

    pub(super) fn tree(&self) -> &RealmTree {
        &self.tree
    }

    pub(super) fn shared(&self) -> &SharedState {
        &self.state
    }

    pub(super) fn usage(&self) -> &UsageTracker {
        &self.usage
    }

    /// Refuses a write while the realm is fenced or moved away. Checked inside each write
    /// handler, so no write slips in after the fence took effect.
    pub(super) fn writable(&self) -> Result<(), RealmError> {
        match self.status.get() {
            RealmStatus::Open => Ok(()),
            RealmStatus::Fenced => Err(RealmError::Fenced),
            RealmStatus::Moved => Err(RealmError::Moved),
        }
    }

    fn read(&self, client_id: &str) -> Result<Option<ClientRecord>, RealmError> {
        Ok(self.tree.get(&client_key(client_id))?)
    }

    /// Applies `ops`, which remove `removed` dynamic clients, with the new count.
    pub(super) fn remove_dynamic(
        &mut self,
        mut ops: Vec<BatchOp>,
        removed: u64,
    ) -> Result<(), RealmError> {
        let count = self.dynamic_clients.saturating_sub(removed);
        ops.push(dynamic_count(count));
        self.tree.apply(ops)?;
        self.dynamic_clients = count;
        Ok(())
    }

    /// The initial access token behind `hash` with one use taken, if it has one left.
    fn take_initial_access(
        &self,
        hash: &SecretHash,
        now: u64,
    ) -> Result<InitialAccessToken, RealmError> {
        let key = initial_access_key(&id_of(hash));
        match self.tree.get::<InitialAccessToken>(&key)? {
            Some(mut token) if token.hash.ct_eq(hash) && token.usable(now) => {
                token.uses_left -= 1;
                Ok(token)
            }
            _ => Err(RealmError::InvalidAccessToken),
        }
    }

    /// Makes a new state visible to the handles; parts the change leaves out stay as they are.
    fn publish(&self, change: StateChange) {
        if let Ok(mut shared) = self.state.write() {
            let current = Arc::clone(&shared);
            *shared = Arc::new(RealmState {
                settings: change.settings.unwrap_or_else(|| current.settings.clone()),
                keys: change.keys.unwrap_or_else(|| Arc::clone(&current.keys)),
                decryption: change
                    .decryption
                    .unwrap_or_else(|| Arc::clone(&current.decryption)),
                publishers: match change.publishers {
                    Some(mut publishers) => {
                        // Same order as their sled keys, so lists and exports are stable.
                        publishers.sort_by(|a, b| a.agent_id().cmp(b.agent_id()));
                        Arc::new(publishers)
                    }
                    None => Arc::clone(&current.publishers),
                },
            });
        }
    }

    /// The publishers as the handles see them (the actor is their only writer).
    fn publishers(&self) -> Arc<Vec<SoftwarePublisher>> {
        Arc::clone(&snapshot(&self.state).publishers)
    }
}

/// Clients read per step of [`upgrade_client_indexes`]'s scan (bounds its memory).
const UPGRADE_PAGE: usize = 1_000;

/// The write that stores the number of dynamic clients.
fn dynamic_count(count: u64) -> BatchOp {
    BatchOp::SetCounter {
        name: DYNAMIC_CLIENTS_COUNTER,
        value: count,
    }
}

/// The realm's number of dynamic clients as stored, after making sure the static-client index
/// is complete. Only a realm that lacks either (stored by an earlier version, or imported:
/// exports leave the derived index out) pays one scan of its clients, at its start (on the
/// blocking pool, see `load_realm`); the result is written in one batch, durable with the next
/// flush (a crash before it just means another scan at the next start). A number stored by an
/// earlier version among the realm's data moves to the counter in the same batch.
pub(super) fn upgrade_client_indexes(tree: &RealmTree) -> Result<u64, RealmError> {
    let legacy = tree.get::<u64>(LEGACY_DYNAMIC_COUNT_KEY)?;
    let stored = tree.counter(DYNAMIC_CLIENTS_COUNTER)?.or(legacy);
    let move_legacy = legacy.map(|_| BatchOp::Remove {
        key: LEGACY_DYNAMIC_COUNT_KEY.to_owned(),
    });
    if let Some(count) = stored {
        if tree.contains(STATIC_INDEX_KEY)? {
            if let Some(remove) = move_legacy {
                tree.apply(vec![remove, dynamic_count(count)])?;
            }
            return Ok(count);
        }
    }
    let mut ops: Vec<BatchOp> = tree
        .keys_with_prefix(STATIC_PREFIX)?
        .into_iter()
        .map(|key| BatchOp::Remove { key })
        .collect();
    let mut dynamic = 0u64;
    let mut after: Option<String> = None;
    loop {
        let page = tree.page::<ClientRecord>(CLIENT_PREFIX, after.as_deref(), UPGRADE_PAGE)?;
        for (client_id, record) in &page {
            match record.origin {
                ClientOrigin::Dynamic => dynamic += 1,
                ClientOrigin::Static => ops.push(BatchOp::put(static_key(client_id), &true)?),
            }
        }
        match page.last() {
            Some((client_id, _)) if page.len() == UPGRADE_PAGE => after = Some(client_id.clone()),
            _ => break,
        }
    }
    let count = stored.unwrap_or(dynamic);
    ops.extend(move_legacy);
    ops.push(dynamic_count(count));
    ops.push(BatchOp::put(STATIC_INDEX_KEY, &true)?);
    tree.apply(ops)?;
    Ok(count)
}

/// The parts of the realm state a write replaces.
#[derive(Default)]
struct StateChange {
    settings: Option<ProviderSettings>,
    keys: Option<Arc<RealmKeys>>,
    decryption: Option<Arc<DecryptionKeys>>,
    publishers: Option<Vec<SoftwarePublisher>>,
}

impl Handler<RegisterClient> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: RegisterClient, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        if msg
            .max_dynamic_clients
            .is_some_and(|max| self.dynamic_clients >= max)
        {
            return Err(RealmError::QuotaExceeded(self.dynamic_clients));
        }
        let count = self.dynamic_clients + 1;
        let record_key = client_key(&msg.client_id);
        match &msg.initial_access {
            Some(hash) => {
                // The token's use and the client land together, in one atomic batch.
                let token = self.take_initial_access(hash, msg.now)?;
                self.tree.apply(vec![
                    BatchOp::put(initial_access_key(&token.id), &token)?,
                    BatchOp::Put {
                        key: record_key,
                        value: msg.record,
                    },
                    dynamic_count(count),
                ])?;
            }
            None => {
                // Two single-key writes, not a batch: sled 0.34's batches take a
                // database-wide lock, which halved registration throughput (5.2k vs 11.4k/s
                // measured). sled recovers its log up to the first gap, so a crash between
                // the two can only leave the count one low for a client whose registration
                // was never acknowledged: the 2xx waits for the flush that covers both.
                self.tree.put_encoded(&record_key, msg.record)?;
                self.tree.set_counter(DYNAMIC_CLIENTS_COUNTER, count)?;
            }
        }
        self.dynamic_clients = count;
        Ok(())
    }
}

impl Handler<ReplaceClient> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: ReplaceClient, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let client_id = msg.replacement.profile.client_id.clone();
        let Some(current) = self.read(&client_id)? else {
            return Err(RealmError::InvalidRegistrationToken);
        };
        let Some(matched) = current.match_registration_token(&msg.presented, msg.grace) else {
            return Err(RealmError::InvalidRegistrationToken);
        };
        let mut replacement = msg.replacement;
        (
            replacement.registration_token,
            replacement.previous_registration_token,
        ) = match msg.token {
            TokenUpdate::Rotate(new) => (Some(new), None),
            TokenUpdate::RotateWithGrace(new) => (Some(new), Some(msg.presented)),
            // Using the current token ends the grace of the previous one.
            TokenUpdate::Keep => match matched {
                TokenMatch::Current => (current.registration_token, None),
                TokenMatch::Previous => (
                    current.registration_token,
                    current.previous_registration_token,
                ),
            },
        };
        self.tree.put(&client_key(&client_id), &replacement)?;
        Ok(())
    }
}

impl Handler<ConfirmRegistrationToken> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: ConfirmRegistrationToken, _: &mut Context<Self>) -> Self::Result {
        // While fenced the previous token simply keeps its grace a little longer.
        if self.writable().is_err() {
            return Ok(());
        }
        let Some(mut record) = self.read(&msg.client_id)? else {
            return Ok(());
        };
        if record.match_registration_token(&msg.presented, false) == Some(TokenMatch::Current)
            && record.previous_registration_token.take().is_some()
        {
            self.tree.put(&client_key(&msg.client_id), &record)?;
        }
        Ok(())
    }
}

impl Handler<DeleteClient> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: DeleteClient, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let current = self.read(&msg.client_id)?;
        let allowed = match (&current, &msg.presented) {
            (None, None) => {
                let what = format!("no client {:?} in this realm", msg.client_id);
                return Err(RealmError::NotFound(what));
            }
            (Some(_), None) => true,
            (Some(record), Some(presented)) => record
                .match_registration_token(presented, msg.grace)
                .is_some(),
            (None, Some(_)) => false,
        };
        let Some(record) = current.filter(|_| allowed) else {
            return Err(RealmError::InvalidRegistrationToken);
        };
        let mut ops = vec![BatchOp::Remove {
            key: client_key(&msg.client_id),
        }];
        if record.origin == ClientOrigin::Dynamic {
            ops.push(BatchOp::Remove {
                key: usage_key(&msg.client_id),
            });
            self.remove_dynamic(ops, 1)
        } else {
            ops.push(BatchOp::Remove {
                key: static_key(&msg.client_id),
            });
            Ok(self.tree.apply(ops)?)
        }
    }
}

impl Handler<PutStaticClient> for RealmActor {
    type Result = Result<bool, RealmError>;

    fn handle(&mut self, msg: PutStaticClient, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let client_id = msg.record.profile.client_id.clone();
        let current = self.read(&client_id)?;
        if current
            .as_ref()
            .is_some_and(|c| c.origin == ClientOrigin::Dynamic)
        {
            let why = format!("client_id {client_id:?} belongs to a dynamically registered client");
            return Err(RealmError::InvalidRequest(why));
        }
        let mut record = msg.record;
        if let Some(existing) = &current {
            // Replacing a static client keeps the moment it was first issued.
            record.profile.client_id_issued_at = existing.profile.client_id_issued_at;
        }
        self.tree.apply(static_client_ops(&record)?.into())?;
        Ok(current.is_none())
    }
}

impl Handler<ListStaticClients> for RealmActor {
    type Result = Result<Vec<ClientRecord>, RealmError>;

    fn handle(&mut self, _: ListStaticClients, _: &mut Context<Self>) -> Self::Result {
        let mut clients = Vec::new();
        for client_id in self.static_client_ids()? {
            if let Some(record) = self.read(&client_id)? {
                clients.push(record);
            }
        }
        Ok(clients)
    }
}

impl Handler<PutSettings> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: PutSettings, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        self.tree.put(SETTINGS_KEY, &msg.settings)?;
        self.publish(StateChange {
            settings: Some(msg.settings),
            ..StateChange::default()
        });
        Ok(())
    }
}

impl Handler<ReplaceRealm> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: ReplaceRealm, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let ops = self.replacement_ops(&msg)?;
        if let Some(why) = self.dynamic_id_clash(&msg) {
            return Err(RealmError::InvalidRequest(why));
        }
        self.tree.apply(ops)?;
        self.publish(StateChange {
            settings: Some(msg.settings),
            publishers: Some(msg.publishers),
            ..StateChange::default()
        });
        Ok(())
    }
}

impl RealmActor {
    /// The batch that swaps in new settings, publishers and static clients atomically.
    fn replacement_ops(&self, msg: &ReplaceRealm) -> Result<Vec<BatchOp>, RealmError> {
        let mut ops = Vec::new();
        for key in self.tree.keys_with_prefix(PUBLISHER_PREFIX)? {
            ops.push(BatchOp::Remove { key });
        }
        for client_id in self.static_client_ids()? {
            ops.push(BatchOp::Remove {
                key: client_key(&client_id),
            });
            ops.push(BatchOp::Remove {
                key: static_key(&client_id),
            });
        }
        // Puts after the removals: a publisher or static client that stays is rewritten.
        ops.extend(document_ops(
            &msg.settings,
            &msg.publishers,
            &msg.static_clients,
        )?);
        Ok(ops)
    }

    /// The ids of the static clients, from their index (never reads a dynamic client).
    fn static_client_ids(&self) -> Result<Vec<String>, RealmError> {
        Ok(self
            .tree
            .keys_with_prefix(STATIC_PREFIX)?
            .into_iter()
            .filter_map(|key| key.strip_prefix(STATIC_PREFIX).map(str::to_owned))
            .collect())
    }

    fn dynamic_id_clash(&self, msg: &ReplaceRealm) -> Option<String> {
        msg.static_clients.iter().find_map(|record| {
            let id = &record.profile.client_id;
            match self.read(id) {
                Ok(Some(existing)) if existing.origin == ClientOrigin::Dynamic => Some(format!(
                    "client_id {id:?} belongs to a dynamically registered client"
                )),
                _ => None,
            }
        })
    }
}

impl Handler<RotateKeys> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: RotateKeys, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let current = match self.state.read() {
            Ok(state) => Arc::clone(&state.keys),
            Err(_) => return Err(RealmError::Unavailable),
        };
        let rotated = current.stored().rotated(msg.now, msg.keep_seconds)?;
        self.tree.put(KEYS_KEY, &rotated)?;
        let loaded = RealmKeys::load(rotated)?;
        self.publish(StateChange {
            keys: Some(Arc::new(loaded)),
            ..StateChange::default()
        });
        Ok(())
    }
}

impl Handler<AddEncryptionKey> for RealmActor {
    type Result = Result<StoredKeys, RealmError>;

    fn handle(&mut self, msg: AddEncryptionKey, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let mut stored = self
            .tree
            .get::<StoredKeys>(KEYS_KEY)?
            .ok_or(RealmError::Unavailable)?;
        if stored.add_rsa_key(msg.key) {
            self.tree.put(KEYS_KEY, &stored)?;
        }
        Ok(stored)
    }
}

impl Handler<PublishKeys> for RealmActor {
    type Result = ();

    fn handle(&mut self, msg: PublishKeys, _: &mut Context<Self>) -> Self::Result {
        self.publish(StateChange {
            keys: Some(msg.keys),
            decryption: Some(msg.decryption),
            ..StateChange::default()
        });
    }
}

impl Handler<Stop> for RealmActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) -> Self::Result {
        self.write_usage();
        ctx.stop();
        log::debug!("realm={} idle: actor stopped", self.name);
    }
}

impl Handler<PutPublisher> for RealmActor {
    type Result = Result<bool, RealmError>;

    fn handle(&mut self, msg: PutPublisher, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let current = self.publishers();
        let agent_id = msg.publisher.agent_id().to_owned();
        // SPEC §4: `iss` selects the publisher, so an issuer may belong to one profile only.
        if let Some(other) = current
            .iter()
            .find(|p| p.issuer() == msg.publisher.issuer() && p.agent_id() != agent_id)
        {
            let why = format!(
                "issuer {:?} is already the issuer of software publisher {:?}",
                other.issuer(),
                other.agent_id()
            );
            return Err(RealmError::InvalidRequest(why));
        }
        self.tree
            .put(&publisher_key(&agent_id), &msg.publisher.to_document(true))?;
        let mut publishers: Vec<SoftwarePublisher> = current
            .iter()
            .filter(|p| p.agent_id() != agent_id)
            .cloned()
            .collect();
        let created = publishers.len() == current.len();
        publishers.push(msg.publisher);
        self.publish(StateChange {
            publishers: Some(publishers),
            ..StateChange::default()
        });
        Ok(created)
    }
}

impl Handler<DeletePublisher> for RealmActor {
    type Result = Result<(), RealmError>;

    fn handle(&mut self, msg: DeletePublisher, _: &mut Context<Self>) -> Self::Result {
        self.writable()?;
        let current = self.publishers();
        if !current.iter().any(|p| p.agent_id() == msg.agent_id) {
            let what = format!("no software publisher {:?} in this realm", msg.agent_id);
            return Err(RealmError::NotFound(what));
        }
        self.tree.remove(&publisher_key(&msg.agent_id))?;
        let publishers = current
            .iter()
            .filter(|p| p.agent_id() != msg.agent_id)
            .cloned()
            .collect();
        self.publish(StateChange {
            publishers: Some(publishers),
            ..StateChange::default()
        });
        Ok(())
    }
}

impl Handler<SetStatus> for RealmActor {
    type Result = ();

    fn handle(&mut self, msg: SetStatus, _: &mut Context<Self>) -> Self::Result {
        self.status.set(msg.status);
        log::info!("realm={} status {:?}", self.name, msg.status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registration::{validate, ClientProfile, RegistrationPolicy};
    use crate::store::Store;
    use serde_json::json;

    fn record(client_id: &str, origin: ClientOrigin) -> ClientRecord {
        let policy = RegistrationPolicy {
            scope_allowlist: None,
            default_scopes: &[],
            may_set_info_uris: true,
        };
        let request = json!({"redirect_uris": ["https://app.example/cb"]});
        ClientRecord {
            profile: ClientProfile {
                client_id: client_id.to_owned(),
                client_secret: Some(crate::secret::Secret::new("s")),
                client_id_issued_at: 1,
                metadata: validate(request.as_object().unwrap(), &policy).unwrap(),
            },
            origin,
            registration_token: None,
            allowed_resources: Vec::new(),
            previous_registration_token: None,
        }
    }

    #[test]
    fn a_realm_without_its_client_indexes_gets_them_once_and_a_stored_count_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let tree = store.realm_tree("alpha").unwrap();
        for (id, origin) in [
            ("a", ClientOrigin::Dynamic),
            ("b", ClientOrigin::Dynamic),
            ("s", ClientOrigin::Static),
        ] {
            tree.put(&client_key(id), &record(id, origin)).unwrap();
        }
        // A marker without a static client behind it (e.g. from a hand-made import).
        tree.put(&static_key("a"), &true).unwrap();
        assert_eq!(upgrade_client_indexes(&tree).unwrap(), 2);
        assert_eq!(tree.keys_with_prefix(STATIC_PREFIX).unwrap(), ["static/s"]);
        assert_eq!(tree.counter(DYNAMIC_CLIENTS_COUNTER).unwrap(), Some(2));

        tree.set_counter(DYNAMIC_CLIENTS_COUNTER, 7).unwrap();
        assert_eq!(upgrade_client_indexes(&tree).unwrap(), 7);
        tree.remove(STATIC_INDEX_KEY).unwrap();
        assert_eq!(upgrade_client_indexes(&tree).unwrap(), 7);
        assert!(tree.contains(STATIC_INDEX_KEY).unwrap());
    }

    #[test]
    fn a_count_stored_among_the_data_by_an_earlier_version_moves_to_the_counter_unscanned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let tree = store.realm_tree("alpha").unwrap();
        tree.put(&client_key("a"), &record("a", ClientOrigin::Dynamic))
            .unwrap();
        tree.put(STATIC_INDEX_KEY, &true).unwrap();
        // Not the number of records: the stored number is taken, nothing is recounted.
        tree.put(LEGACY_DYNAMIC_COUNT_KEY, &5u64).unwrap();
        assert_eq!(upgrade_client_indexes(&tree).unwrap(), 5);
        assert_eq!(tree.counter(DYNAMIC_CLIENTS_COUNTER).unwrap(), Some(5));
        assert!(!tree.contains(LEGACY_DYNAMIC_COUNT_KEY).unwrap());
        assert_eq!(upgrade_client_indexes(&tree).unwrap(), 5);
    }
}
