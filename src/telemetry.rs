//! Logging: human-readable by default, JSON with `JITGATE_LOG_FORMAT=json`; level from `RUST_LOG`.
//! Tokens, secrets and authorization codes are never logged.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let json = std::env::var("JITGATE_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Standard error, so that what a command prints (an export, an anchor) is never mixed with
    // log lines; colours only on a terminal.
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
