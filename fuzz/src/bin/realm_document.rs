//! Fuzz target: a realm document (admin `PUT`, `realms/*.json`) through deserialization and
//! every check an import makes: settings, publishers, static clients. Must never panic.

use dynreg::realm::{check_document, RealmDocument};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(document) = serde_json::from_slice::<RealmDocument>(data) {
            let _ = check_document(&document);
        }
    });
}
