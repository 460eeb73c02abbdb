//! Realms: each realm is an actix actor that owns its provider settings and client registry
//! in its own sled tree. Routes reach a realm only through a [`RealmHandle`].

mod access;
mod actor;
mod client_cache;
mod error;
mod export;
mod handle;
mod initial_access;
mod key_stock;
mod messages;
mod name;
mod policy;
mod rate_limit;
mod reaping;
mod record;
#[cfg(test)]
mod redaction_tests;
mod registry;
mod replay;
mod settings;
mod state;
mod stored_client;
#[cfg(test)]
mod stored_client_tests;
mod token;

pub use client_cache::DecodedClient;
pub use error::{RealmError, TokenError};
pub use export::{ExportSummary, RealmExport, EXPORT_FORMAT};
pub use handle::{check_document, RealmHandle, Registered};
pub use initial_access::{InitialAccessRequest, InitialAccessToken};
pub use name::{RealmName, ROOT_REALM};
pub use policy::{RateLimit, Reaping, RegistrationPolicySettings, TokenRotation};
pub use reaping::ReapReport;
pub use record::{ClientOrigin, ClientRecord};
pub use registry::{PutRealm, RealmRegistry};
pub use settings::{ProviderSettings, RealmDocument};
pub use state::RealmStatus;
pub use token::{ClientCredentials, IssuedToken, TokenRequest, JWT_BEARER_ASSERTION};
