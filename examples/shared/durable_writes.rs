//! A registration's and a realm creation's durable writes as dynreg makes them, without
//! dynreg's request handling: what `durable_store` measures alone and `fixed_body` (with a
//! store) measures behind an HTTP request, so both bounds store exactly the same thing.

use dynreg::realm::ProviderSettings;
use dynreg::store::{BatchOp, RealmTree, Store, StoreError};

/// A registration's writes: its record under `key`, then the realm's client count (`n`);
/// answers once both are durable (the same group commit, sled flush and syncs).
pub async fn register(own: &RealmTree, key: &str, n: u64, value: &[u8]) -> Result<(), StoreError> {
    own.put_encoded(key, value.to_vec())?;
    own.put("count/dynamic_clients", &n)?;
    own.flush().await
}

/// A client id as registration draws it (a random v4 UUID: each record lands in a random
/// leaf of sled's tree).
pub fn random_client_id() -> String {
    dynreg::secret::random_uuid().unwrap_or_else(|e| {
        eprintln!("no randomness for a client id: {e}");
        std::process::exit(1)
    })
}

/// A new realm's writes, as `PUT /admin/realms/{name}` makes them for a document that only
/// opens registration: one atomic batch of its keys (`keys`, their stored size), its
/// settings, the marker of its static-client index and its index entry; answers once durable.
pub async fn create_realm(store: &Store, name: &str, keys: &[u8]) -> Result<(), StoreError> {
    let settings = ProviderSettings {
        allow_open_dynamic_registration: true,
        ..ProviderSettings::default()
    };
    let tree = store.realm_tree(name)?;
    tree.create(vec![
        BatchOp::Put {
            key: "keys".into(),
            value: keys.to_vec(),
        },
        BatchOp::put("settings", &settings)?,
        BatchOp::put("index/static_clients", &true)?,
    ])?;
    tree.flush().await
}
