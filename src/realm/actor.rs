//! `RealmActor`: one per realm, the single writer of the realm's sled tree.
//!
//! Every write happens synchronously inside a handler, so the actor orders all changes of its
//! realm. The wait for durability does not: handlers return a future that awaits the shared
//! group commit, and the actor moves on to the next message meanwhile. Writes of concurrent
//! requests therefore share one disk flush, and each reply still leaves only once its own
//! write is on disk.

use super::error::RealmError;
use super::messages::*;
use super::record::{
    client_key, ClientOrigin, ClientRecord, CLIENT_PREFIX, KEYS_KEY, SETTINGS_KEY,
};
use super::settings::ProviderSettings;
use super::state::{RealmState, SharedState};
use super::RealmName;
use crate::jose::RealmKeys;
use crate::store::{BatchOp, RealmTree};
use actix::{Actor, Context, Handler, ResponseFuture};
use std::sync::Arc;

/// Owner of one realm's state.
pub struct RealmActor {
    name: RealmName,
    tree: RealmTree,
    state: SharedState,
}

impl Actor for RealmActor {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Self::Context) {
        log::debug!("realm={} actor started", self.name);
    }
}

impl RealmActor {
    pub fn new(name: RealmName, tree: RealmTree, state: SharedState) -> Self {
        Self { name, tree, state }
    }

    /// Replies with `value` once everything written so far is on disk.
    fn when_durable<T: 'static>(&self, value: T) -> ResponseFuture<Result<T, RealmError>> {
        let tree = self.tree.clone();
        Box::pin(async move {
            tree.flush().await?;
            Ok(value)
        })
    }

    fn read(&self, client_id: &str) -> Result<Option<ClientRecord>, RealmError> {
        Ok(self.tree.get(&client_key(client_id))?)
    }

    /// Makes a new state visible to the handles: settings, keys, or both.
    fn publish(&self, settings: Option<ProviderSettings>, keys: Option<Arc<RealmKeys>>) {
        if let Ok(mut shared) = self.state.write() {
            let current = Arc::clone(&shared);
            *shared = Arc::new(RealmState {
                settings: settings.unwrap_or_else(|| current.settings.clone()),
                keys: keys.unwrap_or_else(|| Arc::clone(&current.keys)),
            });
        }
    }
}

/// Turns a synchronous step's error into the handler's future result.
macro_rules! try_or_reply {
    ($step:expr) => {
        match $step {
            Ok(value) => value,
            Err(error) => return Box::pin(async move { Err(RealmError::from(error)) }),
        }
    };
}

impl Handler<RegisterClient> for RealmActor {
    type Result = ResponseFuture<Result<(), RealmError>>;

    fn handle(&mut self, msg: RegisterClient, _: &mut Context<Self>) -> Self::Result {
        let key = client_key(&msg.record.profile.client_id);
        try_or_reply!(self.tree.put(&key, &msg.record));
        self.when_durable(())
    }
}

impl Handler<ReplaceClient> for RealmActor {
    type Result = ResponseFuture<Result<(), RealmError>>;

    fn handle(&mut self, msg: ReplaceClient, _: &mut Context<Self>) -> Self::Result {
        let client_id = &msg.replacement.profile.client_id;
        let current = try_or_reply!(self.read(client_id));
        if !current.is_some_and(|c| c.accepts_registration_token(&msg.presented)) {
            return Box::pin(async { Err(RealmError::InvalidRegistrationToken) });
        }
        try_or_reply!(self.tree.put(&client_key(client_id), &msg.replacement));
        self.when_durable(())
    }
}

impl Handler<DeleteClient> for RealmActor {
    type Result = ResponseFuture<Result<(), RealmError>>;

    fn handle(&mut self, msg: DeleteClient, _: &mut Context<Self>) -> Self::Result {
        let current = try_or_reply!(self.read(&msg.client_id));
        let allowed = match (&current, &msg.presented) {
            (None, None) => {
                let what = format!("no client {:?} in this realm", msg.client_id);
                return Box::pin(async move { Err(RealmError::NotFound(what)) });
            }
            (Some(_), None) => true,
            (Some(record), Some(presented)) => record.accepts_registration_token(presented),
            (None, Some(_)) => false,
        };
        if !allowed {
            return Box::pin(async { Err(RealmError::InvalidRegistrationToken) });
        }
        try_or_reply!(self.tree.remove(&client_key(&msg.client_id)));
        self.when_durable(())
    }
}

impl Handler<PutStaticClient> for RealmActor {
    type Result = ResponseFuture<Result<bool, RealmError>>;

    fn handle(&mut self, msg: PutStaticClient, _: &mut Context<Self>) -> Self::Result {
        let client_id = msg.record.profile.client_id.clone();
        let current = try_or_reply!(self.read(&client_id));
        if current
            .as_ref()
            .is_some_and(|c| c.origin == ClientOrigin::Dynamic)
        {
            let why = format!("client_id {client_id:?} belongs to a dynamically registered client");
            return Box::pin(async move { Err(RealmError::InvalidRequest(why)) });
        }
        let mut record = msg.record;
        if let Some(existing) = &current {
            // Replacing a static client keeps the moment it was first issued.
            record.profile.client_id_issued_at = existing.profile.client_id_issued_at;
        }
        try_or_reply!(self.tree.put(&client_key(&client_id), &record));
        self.when_durable(current.is_none())
    }
}

impl Handler<ListClients> for RealmActor {
    type Result = Result<Vec<ClientRecord>, RealmError>;

    fn handle(&mut self, msg: ListClients, _: &mut Context<Self>) -> Self::Result {
        let page =
            self.tree
                .page::<ClientRecord>(CLIENT_PREFIX, msg.after.as_deref(), msg.limit)?;
        Ok(page.into_iter().map(|(_, record)| record).collect())
    }
}

impl Handler<ListStaticClients> for RealmActor {
    type Result = Result<Vec<ClientRecord>, RealmError>;

    fn handle(&mut self, _: ListStaticClients, _: &mut Context<Self>) -> Self::Result {
        let all = self
            .tree
            .page::<ClientRecord>(CLIENT_PREFIX, None, usize::MAX)?;
        Ok(all
            .into_iter()
            .map(|(_, record)| record)
            .filter(|record| record.origin == ClientOrigin::Static)
            .collect())
    }
}

impl Handler<PutSettings> for RealmActor {
    type Result = ResponseFuture<Result<(), RealmError>>;

    fn handle(&mut self, msg: PutSettings, _: &mut Context<Self>) -> Self::Result {
        try_or_reply!(self.tree.put(SETTINGS_KEY, &msg.settings));
        self.publish(Some(msg.settings), None);
        self.when_durable(())
    }
}

impl Handler<ReplaceRealm> for RealmActor {
    type Result = ResponseFuture<Result<(), RealmError>>;

    fn handle(&mut self, msg: ReplaceRealm, _: &mut Context<Self>) -> Self::Result {
        let ops = try_or_reply!(self.replacement_ops(&msg));
        if let Some(why) = self.dynamic_id_clash(&msg) {
            return Box::pin(async move { Err(RealmError::InvalidRequest(why)) });
        }
        try_or_reply!(self.tree.apply(ops));
        self.publish(Some(msg.settings), None);
        self.when_durable(())
    }
}

impl RealmActor {
    /// The batch that swaps in new settings and static clients atomically.
    fn replacement_ops(&self, msg: &ReplaceRealm) -> Result<Vec<BatchOp>, RealmError> {
        let mut ops = vec![BatchOp::put(SETTINGS_KEY, &msg.settings)?];
        let existing = self
            .tree
            .page::<ClientRecord>(CLIENT_PREFIX, None, usize::MAX)?;
        for (client_id, record) in existing {
            if record.origin == ClientOrigin::Static {
                ops.push(BatchOp::Remove {
                    key: client_key(&client_id),
                });
            }
        }
        for record in &msg.static_clients {
            ops.push(BatchOp::put(client_key(&record.profile.client_id), record)?);
        }
        Ok(ops)
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
    type Result = ResponseFuture<Result<(), RealmError>>;

    fn handle(&mut self, msg: RotateKeys, _: &mut Context<Self>) -> Self::Result {
        let current = match self.state.read() {
            Ok(state) => Arc::clone(&state.keys),
            Err(_) => return Box::pin(async { Err(RealmError::Unavailable) }),
        };
        let rotated = try_or_reply!(current.stored().rotated(msg.now, msg.keep_seconds));
        try_or_reply!(self.tree.put(KEYS_KEY, &rotated));
        let loaded = try_or_reply!(RealmKeys::load(rotated));
        self.publish(None, Some(Arc::new(loaded)));
        self.when_durable(())
    }
}
