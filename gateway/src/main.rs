//! `sandbox-gateway`: the sandbox platform's API on one machine, backed by SQLite, and
//! the server of the console's static files. See ARCHITECTURE.md for its layers:
//! `http` → `operations` → `read_model`, `fleet` → `store`, `agent` → `process`.

mod agent;
mod auth;
mod capacity;
mod cli;
mod demo;
mod error;
mod fleet;
mod grpc;
mod http;
mod mutex;
mod operations;
mod private_files;
mod process;
mod read_model;
mod run_agent;
mod serve;
mod shutdown;
mod store;
mod token_sources;
mod web;

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
        cli::Command::Agent(args) => run_agent::run(args).await,
    }
}
