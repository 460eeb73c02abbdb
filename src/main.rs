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

/// Turns transparent huge pages off for the process. mimalloc advises them on its arenas, and
/// the kernel then zeroes a whole 2 MiB page on the first touch of each; with sled's churn of
/// node copies that zeroing was 16% of the realm actor's CPU samples under open registration.
/// Measured with them off (3 alternating pairs, README *Performance*): the actor's CPU per
/// registration 0.7-1.0 µs lower (its system time ~2.7 → ~0.75 µs), the whole server's
/// within noise, resident memory a quarter lower; reads and tokens unchanged.
fn without_transparent_huge_pages() {
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        log::warn!("cannot turn transparent huge pages off: {e}");
    }
}

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
    without_transparent_huge_pages();
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
