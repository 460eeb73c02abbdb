//! Log output: env_logger's text lines, or one JSON object per line for log shippers
//! (`--log-format json`).

use clap::ValueEnum;
use std::io::Write;

/// How log records are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `[time LEVEL target] message`, for people.
    #[default]
    Text,
    /// `{"ts","level","target","msg"}`, one object per line.
    Json,
}

/// Installs the process logger; `RUST_LOG` filters as usual (default `info`).
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|out, record| {
            let line = serde_json::json!({
                "ts": out.timestamp_micros().to_string(),
                "level": record.level().as_str(),
                "target": record.target(),
                "msg": record.args().to_string(),
            });
            writeln!(out, "{line}")
        });
    }
    builder.init();
}
