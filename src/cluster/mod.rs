//! `dynreg realm …`: operator commands for realms placed across nodes behind HAProxy.
//!
//! Like `dynreg load`, a plain HTTP client of the admin API (it uses none of the server's
//! modules), plus HAProxy's runtime API on its admin socket and the map file that HAProxy
//! reads at start. The map file is the placement's source of truth: every runtime change is
//! written back to it, so a reload never loses one.

mod admin;
mod haproxy;
mod move_realm;
mod sync_map;

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Operator commands for realms on several nodes.
#[derive(Debug, Subcommand)]
pub enum RealmCommand {
    /// Move a realm live to another node: fence, export, import, verify, switch HAProxy's
    /// map, mark moved. Any failure rolls back to the source, unfenced.
    Move(MoveOptions),
    /// Rebuild HAProxy's realm map from what each node holds (after creating realms, or to
    /// repair the map).
    SyncMap(SyncMapOptions),
}

/// The admin token, shared by the commands.
#[derive(Debug, Clone, Args)]
pub struct AdminToken {
    /// Admin token of the nodes (all nodes of a cluster share one).
    #[arg(long, env = "DYNREG_ADMIN_TOKEN")]
    pub admin_token: Option<String>,

    /// File holding the admin token.
    #[arg(long)]
    pub admin_token_file: Option<PathBuf>,
}

impl AdminToken {
    fn resolve(&self) -> Result<String, String> {
        if let Some(token) = &self.admin_token {
            return Ok(token.clone());
        }
        match &self.admin_token_file {
            Some(path) => std::fs::read_to_string(path)
                .map(|token| token.trim().to_owned())
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
            None => Err("the admin token is needed (--admin-token or --admin-token-file)".into()),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct MoveOptions {
    /// The realm to move.
    #[arg(long)]
    pub realm: String,
    /// Base URL of the node that holds the realm now.
    #[arg(long)]
    pub from: String,
    /// Base URL of the node that receives it.
    #[arg(long)]
    pub to: String,
    /// HAProxy backend of the receiving node (default: the one-server backend whose server
    /// has the address of --to, asked from HAProxy).
    #[arg(long)]
    pub to_backend: Option<String>,
    /// HAProxy's realm map file (`realm backend` lines), rewritten with the change.
    #[arg(long)]
    pub map: PathBuf,
    /// HAProxy's admin socket (runtime API).
    #[arg(long)]
    pub haproxy_socket: PathBuf,
    /// How long the source answers 421 for the realm before deleting it, in seconds.
    #[arg(long, default_value_t = 60)]
    pub grace_seconds: u64,
    #[command(flatten)]
    pub admin: AdminToken,
}

#[derive(Debug, Clone, Args)]
pub struct SyncMapOptions {
    /// A node as BACKEND=URL (its HAProxy backend name and base URL); repeat for each node.
    #[arg(long = "node", required = true)]
    pub nodes: Vec<String>,
    /// HAProxy's realm map file, rewritten.
    #[arg(long)]
    pub map: PathBuf,
    /// HAProxy's admin socket; without it only the file is written (for a reload).
    #[arg(long)]
    pub haproxy_socket: Option<PathBuf>,
    #[command(flatten)]
    pub admin: AdminToken,
}

/// Runs one realm command.
pub fn run(command: RealmCommand) -> Result<(), String> {
    let system = actix_rt::System::new();
    match command {
        RealmCommand::Move(options) => system.block_on(move_realm::run(&options)),
        RealmCommand::SyncMap(options) => system.block_on(sync_map::run(&options)),
    }
}
