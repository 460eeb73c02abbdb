//! A realm's complete export: every entry of its tree (settings, keys with their private
//! halves, publishers with their secrets, static and dynamic clients with their secrets and
//! registration token hashes, and anything else the realm stores), plus the `jti`s of client
//! assertions already used. It is what a live move copies and an operator's backup of a realm.
//!
//! The entries are copied as they are stored rather than rebuilt from domain types, so state
//! that a later version adds to the realm tree travels without a change here.

use super::error::RealmError;
use super::record::{CLIENT_PREFIX, KEYS_KEY};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The format name of [`RealmExport`] documents.
pub const EXPORT_FORMAT: &str = "dynreg-realm-export/1";

/// Everything a realm is. Holds secrets: no `Debug`, and only the admin API hands it out.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmExport {
    pub format: String,
    pub realm: String,
    /// Number of clients (static and dynamic) among the entries.
    pub clients: usize,
    /// SHA-256 (hex) of the entries, see [`digest`].
    pub digest: String,
    /// Every stored entry of the realm as (key, JSON value), in key order.
    pub entries: Vec<(String, Box<RawValue>)>,
    /// Fingerprint of `client_id` and `jti` (hex SHA-256) → the time until which a client
    /// assertion already used must stay refused (RFC 7523 §3).
    #[serde(default)]
    pub used_assertions: BTreeMap<String, u64>,
}

/// What a reader checks after an import: the target holds what the source exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub realm: String,
    pub clients: usize,
    pub digest: String,
}

impl RealmExport {
    pub(crate) fn new(
        realm: String,
        entries: Vec<(String, Box<RawValue>)>,
        used_assertions: BTreeMap<String, u64>,
    ) -> Self {
        Self {
            format: EXPORT_FORMAT.to_owned(),
            realm,
            clients: count_clients(&entries),
            digest: digest(&entries),
            entries,
            used_assertions,
        }
    }

    pub fn summary(&self) -> ExportSummary {
        ExportSummary {
            realm: self.realm.clone(),
            clients: self.clients,
            digest: self.digest.clone(),
        }
    }

    /// Refuses a document that is not a complete, intact export.
    pub(crate) fn check(&self) -> Result<(), RealmError> {
        let refuse = |why: &str| Err(RealmError::InvalidRequest(format!("realm export: {why}")));
        if self.format != EXPORT_FORMAT {
            return refuse(&format!("format must be {EXPORT_FORMAT:?}"));
        }
        if !self.entries.iter().any(|(key, _)| key == KEYS_KEY) {
            return refuse("it holds no realm keys");
        }
        let keys = self.entries.iter().map(|(key, _)| key);
        if keys
            .clone()
            .zip(keys.skip(1))
            .any(|(before, after)| before >= after)
        {
            return refuse("entries must be in strictly increasing key order");
        }
        if count_clients(&self.entries) != self.clients || digest(&self.entries) != self.digest {
            return refuse("the client count or digest does not match the entries");
        }
        Ok(())
    }
}

fn count_clients(entries: &[(String, Box<RawValue>)]) -> usize {
    entries
        .iter()
        .filter(|(key, _)| key.starts_with(CLIENT_PREFIX))
        .count()
}

/// SHA-256 over each entry's key and stored JSON text, each length-prefixed, in order. The
/// import writes the text byte for byte, so equal digests mean equal realms.
pub fn digest(entries: &[(String, Box<RawValue>)]) -> String {
    let mut hasher = openssl::sha::Sha256::new();
    for (key, value) in entries {
        let value = value.get();
        for part in [key.as_bytes(), value.as_bytes()] {
            hasher.update(&(part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
    }
    hasher
        .finish()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn raw(value: Value) -> Box<RawValue> {
        RawValue::from_string(value.to_string()).unwrap()
    }

    fn sample() -> Vec<(String, Box<RawValue>)> {
        vec![
            (
                "client/a".into(),
                raw(json!({"profile": {"client_id": "a"}})),
            ),
            ("keys".into(), raw(json!({"signing": []}))),
        ]
    }

    #[test]
    fn digest_changes_with_any_key_or_value_and_is_not_fooled_by_moving_bytes() {
        let base = digest(&sample());
        let mut changed = sample();
        changed[0].1 = raw(json!({"profile": {"client_id": "b"}}));
        assert_ne!(base, digest(&changed));
        let shifted = vec![
            ("client/".into(), raw(json!("a"))),
            ("keys".into(), raw(json!({}))),
        ];
        let unshifted = vec![
            ("client/a".into(), raw(json!(""))),
            ("keys".into(), raw(json!({}))),
        ];
        assert_ne!(digest(&shifted), digest(&unshifted));
        assert_eq!(base, digest(&sample()));
    }

    #[test]
    fn check_refuses_tampered_unordered_or_keyless_exports() {
        let good = RealmExport::new("alpha".into(), sample(), BTreeMap::new());
        assert_eq!(good.clients, 1);
        assert!(good.check().is_ok());

        let mut tampered = RealmExport::new("alpha".into(), sample(), BTreeMap::new());
        tampered.entries[0].1 = raw(json!({"profile": {"client_id": "evil"}}));
        assert!(tampered.check().is_err());

        let mut reversed = sample();
        reversed.reverse();
        assert!(RealmExport::new("alpha".into(), reversed, BTreeMap::new())
            .check()
            .is_err());

        let keyless = vec![("client/a".into(), raw(json!({})))];
        assert!(RealmExport::new("alpha".into(), keyless, BTreeMap::new())
            .check()
            .is_err());
    }
}
