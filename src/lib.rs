//! dynreg: a multi-realm OAuth 2.0 / OpenID Connect Dynamic Client Registration server.
//!
//! Layers, each depending only on the ones below it:
//! `http` (routes, extractors, error mapping) → `realm` (the per-realm actor, its messages,
//! the registry of realms) → `software_statement` (statement verification, pure) →
//! `registration` (client metadata rules, pure) → `store` (sled).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::indexing_slicing
)]

pub mod cluster;
pub mod config;
pub mod http;
pub mod jose;
pub mod jwks_fetch;
pub mod load;
pub mod log_value;
pub mod logging;
pub mod realm;
pub mod registration;
pub mod secret;
pub mod software_statement;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod uri;
