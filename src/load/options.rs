//! Command-line options of `dynreg load`.

use clap::builder::TypedValueParser;
use clap::Args;
use std::path::PathBuf;

/// Load-test a dynreg deployment (or another RFC 7591 server) per realm.
#[derive(Clone, Args)]
pub struct LoadOptions {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,

    /// Use this existing realm, or these (comma-separated; requests rotate over them).
    /// Ignored when --realms is given.
    #[arg(long, default_value = "alpha")]
    pub realm: String,

    /// Spread the load over N new realms (load-<run>-0 …), created through the admin API with
    /// open registration on (and a token client with a random secret when the mix needs
    /// one); deleted at the end unless --keep.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=10_000).map(usize::from))]
    pub realms: Option<usize>,

    /// Leave what the run created (realms, token client, prepared clients) on the server.
    #[arg(long)]
    pub keep: bool,

    /// Plain GET of this fixed URL instead of the mix (e.g. to measure the tool against a
    /// fixed-body server, or any read endpoint).
    #[arg(long, conflicts_with_all = ["mix", "realms", "token_client"])]
    pub url: Option<String>,

    /// Header sent with --url, as "Name: value" (repeatable).
    #[arg(long, short = 'H', requires = "url")]
    pub header: Vec<String>,

    /// Admin token (needed with --realms and for the token operations).
    #[arg(long, env = "DYNREG_ADMIN_TOKEN")]
    pub admin_token: Option<String>,

    /// File holding the admin token.
    #[arg(long)]
    pub admin_token_file: Option<PathBuf>,

    /// Concurrent connections.
    #[arg(long, short = 'c', default_value_t = 32)]
    pub connections: usize,

    /// Client threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,

    /// How long to run, in seconds (ignored when --requests is given).
    #[arg(long, short = 'd', default_value_t = 10.0)]
    pub duration: f64,

    /// Stop after this many requests in total.
    #[arg(long, short = 'n')]
    pub requests: Option<u64>,

    /// Operation mix as name=weight pairs: register, read, update, delete, token,
    /// register-with-token (e.g. register=1,read=4).
    #[arg(long, default_value = "register=1")]
    pub mix: String,

    /// Total request rate per second, on a fixed schedule (open model); unlimited if absent.
    #[arg(long)]
    pub rate: Option<f64>,

    /// Clients each connection registers before the run, for read/update/delete.
    #[arg(long, default_value_t = 4)]
    pub prepared_clients: usize,

    /// Registration endpoint URL, overriding the dynreg realm path (for other servers).
    #[arg(long)]
    pub registration_endpoint: Option<String>,

    /// Token endpoint URL, overriding the dynreg realm path (for other servers).
    #[arg(long)]
    pub token_endpoint: Option<String>,

    /// client_id:client_secret of an existing client_credentials client (instead of the one
    /// the tool creates through the admin API with a random secret and deletes at the end).
    #[arg(long)]
    pub token_client: Option<String>,

    /// JSON body of registrations.
    #[arg(
        long,
        default_value = r#"{"redirect_uris":["https://client.example.com/callback"],"client_name":"load","grant_types":["authorization_code","client_credentials"]}"#
    )]
    pub body: String,

    /// File holding a software statement (compact JWS or JWE) added to every registration
    /// body, to measure registration with a statement.
    #[arg(long)]
    pub software_statement: Option<PathBuf>,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,

    /// No progress lines.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Keep each client thread polling its sockets instead of sleeping between responses.
    /// On one machine (loopback) a sleeping client must be woken for every response, and the
    /// server's core pays that wake-up (an inter-processor interrupt): the benches measure
    /// the server with this on, so its core does the server's work only.
    #[arg(long)]
    pub busy_poll: bool,
}
