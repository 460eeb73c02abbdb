//! Typed reads of single fields from a JSON request object, each failure naming the field.
//! Every string is bounded and free of control characters, every list is counted before its
//! elements are read (see `limits`).
//!
//! JSON `null` counts as absent, as do empty strings for optional string settings: clients
//! that echo a read response back in a `PUT` send `""` for unset algorithms.

use super::error::{invalid, RegistrationError};
use super::limits::{check_count, check_text, MAX_TEXT_BYTES};
use serde_json::{Map, Value};
use std::collections::HashSet;

pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
}

/// Up to this many members, a request object is searched by scanning instead of hashing.
const SCANNED_MEMBERS: usize = 8;

/// Up to this many items, a list is de-duplicated by comparing instead of hashing.
const SCANNED_ITEMS: usize = 8;

/// The strings a list has had so far. Most lists hold a few items, which are cheaper to
/// compare one by one than to SipHash into a set; a list can hold up to its limit, so past
/// [`SCANNED_ITEMS`] they are hashed.
pub(crate) enum Seen<'s> {
    Few {
        items: [&'s str; SCANNED_ITEMS],
        len: usize,
    },
    Many(HashSet<&'s str>),
}

impl<'s> Seen<'s> {
    /// For a list of `count` items.
    pub(crate) fn for_items(count: usize) -> Self {
        if count <= SCANNED_ITEMS {
            Seen::Few {
                items: [""; SCANNED_ITEMS],
                len: 0,
            }
        } else {
            Seen::Many(HashSet::with_capacity(count))
        }
    }

    /// `true` the first time `item` comes.
    pub(crate) fn insert(&mut self, item: &'s str) -> bool {
        if let Seen::Few { items, len } = self {
            if items.iter().take(*len).any(|seen| *seen == item) {
                return false;
            }
            if let Some(slot) = items.get_mut(*len) {
                *slot = item;
                *len += 1;
                return true;
            }
            // More items than announced: hashed from here on.
            *self = Seen::Many(items.iter().copied().collect());
        }
        match self {
            Seen::Many(seen) => seen.insert(item),
            Seen::Few { .. } => true,
        }
    }
}

impl<'a> Fields<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Self { map }
    }

    fn present(&self, key: &str) -> Option<&'a Value> {
        // `validate` asks for every member it knows (~60) while a request names a handful:
        // comparing a few keys (mostly by length) is cheaper than SipHashing each name.
        let value = if self.map.len() <= SCANNED_MEMBERS {
            self.map
                .iter()
                .find_map(|(name, value)| (name == key).then_some(value))
        } else {
            self.map.get(key)
        };
        value.filter(|v| !v.is_null())
    }

    /// A string of at most [`MAX_TEXT_BYTES`]; `""` counts as absent.
    pub(crate) fn string(&self, key: &str) -> Result<Option<&'a str>, RegistrationError> {
        self.string_up_to(key, MAX_TEXT_BYTES)
    }

    /// A string of at most `max_bytes` without control characters; `""` counts as absent.
    pub(crate) fn string_up_to(
        &self,
        key: &str,
        max_bytes: usize,
    ) -> Result<Option<&'a str>, RegistrationError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => {
                check_text(key, s, max_bytes).map_err(invalid)?;
                Ok(Some(s))
            }
            Some(_) => Err(invalid(format!("{key} must be a string"))),
        }
    }

    /// An array of at most `max_items` strings of at most `max_bytes` each, without control
    /// characters, de-duplicated (by hash) with the first occurrence's order kept.
    pub(crate) fn strings(
        &self,
        key: &str,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Option<Vec<String>>, RegistrationError> {
        self.list(key, max_items, |s| check_text(key, s, max_bytes))
    }

    /// An array of at most `max_items` URIs, de-duplicated; their content is left to the URI
    /// rules, whose refusals carry the field's own error code.
    pub(crate) fn uris(
        &self,
        key: &str,
        max_items: usize,
    ) -> Result<Option<Vec<String>>, RegistrationError> {
        self.list(key, max_items, |_| Ok(()))
    }

    /// An array of strings counted before any is read, each checked by `check`.
    fn list(
        &self,
        key: &str,
        max_items: usize,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Option<Vec<String>>, RegistrationError> {
        let Some(value) = self.present(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(invalid(format!("{key} must be an array of strings")));
        };
        check_count(key, items.len(), max_items).map_err(invalid)?;
        let mut seen = Seen::for_items(items.len());
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let Value::String(s) = item else {
                return Err(invalid(format!("{key} must be an array of strings")));
            };
            check(s).map_err(invalid)?;
            if seen.insert(s) {
                out.push(s.clone());
            }
        }
        Ok(Some(out))
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, RegistrationError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(invalid(format!("{key} must be a boolean"))),
        }
    }

    pub(crate) fn integer(&self, key: &str) -> Result<Option<i64>, RegistrationError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| invalid(format!("{key} must be an integer"))),
            Some(_) => Err(invalid(format!("{key} must be an integer"))),
        }
    }

    /// A non-negative integer, such as a lifetime in seconds.
    pub(crate) fn count(&self, key: &str) -> Result<Option<u64>, RegistrationError> {
        match self.integer(key)? {
            None => Ok(None),
            Some(n) => u64::try_from(n)
                .map(Some)
                .map_err(|_| invalid(format!("{key} must not be negative"))),
        }
    }

    /// A JSON object, kept as it is.
    pub(crate) fn object(&self, key: &str) -> Result<Option<&'a Value>, RegistrationError> {
        match self.present(key) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => Err(invalid(format!("{key} must be a JSON object"))),
        }
    }

    /// A string that must be one of `allowed`.
    pub(crate) fn one_of(
        &self,
        key: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, RegistrationError> {
        match self.string(key)? {
            None => Ok(None),
            Some(value) if allowed.contains(&value) => Ok(Some(value.to_owned())),
            Some(value) => Err(invalid(format!("{key} value {value:?} is not supported"))),
        }
    }

    /// Every key of the request, for fields whose names carry a suffix (`client_name#en`).
    pub(crate) fn keys(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.map.iter().filter(|(_, v)| !v.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::{Seen, SCANNED_ITEMS};

    #[test]
    fn seen_tells_repeats_apart_whether_compared_hashed_or_past_the_announced_count() {
        let words: Vec<String> = (0..3 * SCANNED_ITEMS).map(|i| format!("w{i}")).collect();
        for announced in [2, SCANNED_ITEMS, SCANNED_ITEMS + 1, 3 * SCANNED_ITEMS] {
            let mut seen = Seen::for_items(announced);
            for word in &words {
                assert!(seen.insert(word), "{word} first, announced {announced}");
                assert!(!seen.insert(word), "{word} again, announced {announced}");
            }
            for word in &words {
                assert!(
                    !seen.insert(word),
                    "{word} at the end, announced {announced}"
                );
            }
        }
    }
}
