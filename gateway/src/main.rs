//! `sandbox-gateway`: the sandbox platform's API on one machine, backed by SQLite, and
//! the server of the console's static files. See ARCHITECTURE.md.

mod agent;
mod auth;
mod cli;
mod console;
mod demo;
mod discovery;
mod error;
mod fleet;
mod heartbeats;
mod http;
mod page_token;
mod process;
mod profile_templates;
mod runner_state;
mod runners;
mod sandboxes;
mod serve;
mod store;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::Cli::parse().command {
        cli::Command::Serve(args) => serve::run(args).await,
        cli::Command::Agent(args) => agent::run::run(args).await,
    }
}
