//! From one sled tree per realm (`realm/{name}`, the layout before the shared realm tree) to
//! the shared tree. Runs at open, before anyone reads: each legacy tree is copied byte for
//! byte under `{name}/` with the realm's index entry in its last batch, everything is made
//! durable, and only then are the legacy trees dropped.
//!
//! A crash at any point is harmless: the legacy trees stay until their copies are durable, and
//! a rerun copies the same bytes again (nothing else writes before the migration finished, so
//! the shared tree holds at most an earlier copy of the same tree under the realm's prefix).

use super::{data_prefix, index_key, StoreError};

/// Name prefix of the legacy per-realm trees.
const LEGACY_PREFIX: &[u8] = b"realm/";
/// Entries per batch: bounds the memory a realm with millions of clients needs to migrate.
const CHUNK: usize = 10_000;

/// Migrates every legacy realm tree into `realms`; `commit` makes written data durable.
/// Answers how many realms were migrated.
pub(super) fn legacy_realm_trees(
    db: &sled::Db,
    realms: &sled::Tree,
    commit: impl Fn() -> Result<(), StoreError>,
) -> Result<usize, StoreError> {
    let legacy: Vec<(sled::IVec, String)> = db
        .tree_names()
        .into_iter()
        .filter_map(|tree| {
            let name = tree.strip_prefix(LEGACY_PREFIX)?;
            let name = String::from_utf8(name.to_vec()).ok()?;
            Some((tree.clone(), name))
        })
        .filter(|(_, name)| {
            // Realm names never held `/` or were empty; anything else is not ours to move.
            let plausible = !name.is_empty() && !name.contains('/');
            if !plausible {
                log::warn!("legacy tree for realm {name:?} left alone: not a realm name");
            }
            plausible
        })
        .collect();
    if legacy.is_empty() {
        return Ok(0);
    }
    let mut migrated = 0;
    for (tree_name, realm) in &legacy {
        let tree = db.open_tree(tree_name)?;
        // An empty tree is what a creation that crashed before its batch left: no realm.
        if tree.is_empty() {
            continue;
        }
        copy(&tree, realms, realm)?;
        migrated += 1;
    }
    commit()?;
    for (tree_name, _) in &legacy {
        db.drop_tree(tree_name)?;
    }
    commit()?;
    log::info!("store: moved {migrated} realm(s) from per-realm trees into the shared realm tree");
    Ok(migrated)
}

/// Copies one legacy tree under the realm's prefix; the last batch indexes the realm.
fn copy(legacy: &sled::Tree, realms: &sled::Tree, realm: &str) -> Result<(), StoreError> {
    let prefix = data_prefix(realm);
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    for entry in legacy.iter() {
        let (key, value) = entry?;
        batch.insert([prefix.as_slice(), &key].concat(), value);
        in_batch += 1;
        if in_batch == CHUNK {
            realms.apply_batch(std::mem::take(&mut batch))?;
            in_batch = 0;
        }
    }
    batch.insert(index_key(realm), &[][..]);
    realms.apply_batch(batch)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use serde_json::{json, Value};

    /// A database as the per-realm-tree layout left it.
    fn legacy_db(dir: &std::path::Path) {
        let db = sled::open(dir).unwrap();
        let alpha = db.open_tree("realm/alpha").unwrap();
        alpha.insert("keys", br#"{"k":1}"#.to_vec()).unwrap();
        alpha.insert("client/a", br#"{"id":"a"}"#.to_vec()).unwrap();
        // More than one batch's worth, so the chunked copy is exercised.
        for i in 0..super::CHUNK + 5 {
            alpha
                .insert(format!("usage/{i:06}"), b"1".to_vec())
                .unwrap();
        }
        db.open_tree("realm/beta")
            .unwrap()
            .insert("keys", b"{}".to_vec())
            .unwrap();
        // A creation that crashed before its batch.
        db.open_tree("realm/half").unwrap();
        db.flush().unwrap();
    }

    #[test]
    fn legacy_realm_trees_are_moved_byte_for_byte_indexed_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        legacy_db(dir.path());
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(store.realm_names().unwrap(), ["alpha", "beta"]);
        let alpha = store.realm_tree("alpha").unwrap();
        assert_eq!(alpha.get::<Value>("keys").unwrap(), Some(json!({"k": 1})));
        let entries = alpha.entries().unwrap();
        assert_eq!(entries.len(), 2 + super::CHUNK + 5);
        assert_eq!(entries[0].0, "client/a");
        assert_eq!(entries[0].1.get(), r#"{"id":"a"}"#);
        assert!(!store.has_realm("half").unwrap());
        let trees = store.db.tree_names();
        assert!(!trees.iter().any(|t| t.starts_with(super::LEGACY_PREFIX)));
    }

    #[test]
    fn a_migration_interrupted_before_dropping_the_legacy_trees_runs_again_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        legacy_db(dir.path());
        {
            // Copied and flushed, but the legacy trees are still there (a crash before the drop).
            let db =
                super::super::open_when_unlocked(&sled::Config::new().path(dir.path())).unwrap();
            let realms = db.open_tree(super::super::REALMS_TREE).unwrap();
            for realm in ["alpha", "beta"] {
                let tree = db.open_tree(format!("realm/{realm}")).unwrap();
                super::copy(&tree, &realms, realm).unwrap();
            }
            db.flush().unwrap();
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(store.realm_names().unwrap(), ["alpha", "beta"]);
        let alpha = store.realm_tree("alpha").unwrap().entries().unwrap();
        assert_eq!(alpha.len(), 2 + super::CHUNK + 5);
        drop(store);
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(store.realm_names().unwrap(), ["alpha", "beta"]);
    }
}
