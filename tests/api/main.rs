//! Black-box tests over HTTP: one binary, one real server per test.

mod access_tokens;
mod admin;
mod client_cache;
mod client_management;
mod connections;
mod console;
mod helpers;
mod hostile_input;
mod limits;
mod load_tool;
mod metadata;
mod open_registration;
mod openapi;
mod operator_errors;
mod realm_lifecycle;
mod realm_move;
mod realm_scale;
mod registration_policy;
mod software_statement;
mod statement_helpers;
mod token_endpoint;
mod token_helpers;
mod token_registration;
