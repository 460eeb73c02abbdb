//! The `dynreg` binary: without a subcommand it serves; `dynreg load` generates load;
//! `dynreg realm` moves realms between nodes behind HAProxy.

use clap::{Parser, Subcommand};
use dynreg::cluster::RealmCommand;
use dynreg::config::Settings;
use dynreg::load::LoadOptions;
use dynreg::startup::Application;
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: request handling allocates and frees many small
/// buffers across threads, where glibc's arenas cost about a fifth of a registration.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "dynreg",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Load-test per-realm endpoints of a running server.
    Load(LoadOptions),
    /// Realms across several nodes behind HAProxy: move one live, rebuild the map.
    #[command(subcommand)]
    Realm(RealmCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    dynreg::logging::init(cli.serve.log_format);
    match cli.command {
        Some(Command::Load(options)) => match dynreg::load::run(options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("dynreg load: {why}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Realm(command)) => match dynreg::cluster::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("dynreg realm: {why}");
                ExitCode::FAILURE
            }
        },
        None => serve(cli.serve),
    }
}

fn serve(settings: Settings) -> ExitCode {
    dynreg::startup::without_transparent_huge_pages();
    let system = actix_rt::System::new();
    system.block_on(async move {
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(why) => {
                log::error!("{why}");
                return ExitCode::FAILURE;
            }
        };
        log::info!("dynreg listening on http://{}", app.address());
        match app.run_until_stopped().await {
            Ok(()) => {
                log::info!("stopped cleanly");
                ExitCode::SUCCESS
            }
            Err(e) => {
                log::error!("server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
