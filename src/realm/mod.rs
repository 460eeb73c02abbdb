//! Realms: each realm is an actix actor that owns its provider settings and client registry
//! in its own sled tree. Routes reach a realm only through a [`RealmHandle`].

mod access;
mod actor;
mod error;
mod handle;
mod messages;
mod name;
mod record;
mod registry;
mod settings;

pub use error::RealmError;
pub use handle::{RealmHandle, Registered};
pub use name::{RealmName, ROOT_REALM};
pub use record::{ClientOrigin, ClientRecord};
pub use registry::RealmRegistry;
pub use settings::{ProviderSettings, RealmDocument};
