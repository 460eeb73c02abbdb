//! The `dynreg` binary: parse settings, start logging, run the server.

use clap::Parser;
use dynreg::config::Settings;
use dynreg::startup::Application;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
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
}
