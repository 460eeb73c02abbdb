//! Realm names: 1–64 characters of `a-z 0-9 - _` (SPEC §2).

use std::fmt;

/// The name `root` realm, which always exists.
pub const ROOT_REALM: &str = "root";

/// A checked realm name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RealmName(String);

impl RealmName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "realm name {raw:?} must be 1-64 characters of a-z, 0-9, '-' and '_'"
            ))
        }
    }

    pub fn root() -> Self {
        Self(ROOT_REALM.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == ROOT_REALM
    }
}

impl fmt::Display for RealmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_names_follow_the_spec_alphabet() {
        for ok in ["root", "alpha", "a", "tenant-1_x", &"a".repeat(64)] {
            assert!(RealmName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Alpha", "a b", "a/b", "..", "é", &"a".repeat(65)] {
            assert!(RealmName::parse(bad).is_err(), "{bad}");
        }
    }
}
