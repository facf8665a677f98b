//! `sandbox-gateway serve`: open the store, register tokens, seed demo data, listen.

use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio::sync::watch;

use std::time::Duration;

use sandbox_api::placement::SandboxCeiling;

use crate::agent::host::HostIsolation;
use crate::auth::TokenHash;
use crate::cli::{IsolationMode, ServeArgs};
use crate::demo;
use crate::fleet::FleetConfig;
use crate::http::console::{ConsoleConfig, ConsoleSite};
use crate::http::{AppState, router};
use crate::operations::{Platform, SandboxPolicy, history, sandboxes};
use crate::private_files;
use crate::shutdown::shutdown_signal;
use crate::store::{Store, organizations};
use crate::token_sources;
use crate::web::hosts::AllowedHosts;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    private_files::make_private(&args.data_dir)?;
    let open_files = crate::process::open_files::raise_limit();
    tracing::debug!(open_files, "open-file limit");
    let store = Store::open(&args.data_dir.join("gateway.db"))?;

    let given = token_sources::gateway_tokens(
        &args.tokens,
        args.token_file.as_deref(),
        std::env::var(token_sources::GATEWAY_TOKENS_VARIABLE)
            .ok()
            .as_deref(),
    )?;
    // Demo tokens: made with --demo when no token is given, and kept by the data
    // directory; they are accepted whenever its tokens.txt holds them.
    let demo_tokens = demo::tokens(&args.data_dir, args.demo && given.is_empty())?;
    let mut grants: Vec<_> = given
        .iter()
        .map(|g| (g.organization.clone(), g.role, TokenHash::of(&g.secret)))
        .collect();
    grants.extend(demo_tokens.iter().flat_map(|t| t.grants()));
    if grants.is_empty() {
        tracing::warn!("no tokens given: every API request will be refused");
    }
    let accepted = grants.len();
    store
        .run(move |connection| organizations::replace_tokens(connection, &grants))
        .await
        .map_err(|e| e.context("registering the tokens"))?;
    tracing::info!(accepted, "tokens accepted (any others are revoked)");

    // In-process agents stopped with the gateway, and their sandboxes with them; agent
    // processes may still run theirs (followed again below).
    if !args.external_agents {
        let failed = sandboxes::fail_unfinished(&store).await?;
        if failed > 0 {
            tracing::warn!(
                failed,
                "sandboxes that were running when the gateway stopped are marked FAILED"
            );
        }
    }
    let policy = SandboxPolicy {
        ceiling: SandboxCeiling {
            cpu_millicores: args.max_sandbox_cpu_millicores,
            memory_bytes: args.max_sandbox_memory_bytes,
            gpus: args.max_sandbox_gpus,
        },
        allow_unenforced_egress: args.allow_unenforced_egress || args.demo,
        max_processes: args.max_sandbox_processes,
        max_log_bytes: args.max_log_bytes,
        max_sandboxes_per_org: args.max_sandboxes_per_org,
        max_execs_per_sandbox: args.max_execs_per_sandbox,
        max_execs_per_org: args.max_execs_per_org,
    };
    // In-process agents run sandboxes here; with agent processes, each decides its own.
    let isolation = if args.external_agents {
        HostIsolation::Unavailable(
            "this gateway runs no sandboxes itself (--external-agents)".into(),
        )
    } else {
        HostIsolation::start(
            args.isolation == IsolationMode::Container,
            args.runc.as_deref(),
            &args.data_dir,
        )
        .await
    };
    let platform = Platform::new(
        store.clone(),
        FleetConfig {
            install_step: Duration::from_millis(args.install_step_ms),
            usage_interval: Duration::from_millis(args.usage_interval_ms),
            heartbeat_interval: Duration::from_millis(args.heartbeat_interval_ms),
            heartbeat_timeout: Duration::from_millis(args.heartbeat_timeout_ms),
            data_dir: args.data_dir.clone(),
            external_agents: args.external_agents,
            isolation,
        },
        policy,
    )
    .await?;
    platform.installer.resume().await?;
    history::prune_periodically(
        store.clone(),
        Duration::from_secs(u64::from(args.history_retention_days) * 86_400),
    );
    if args.external_agents {
        let waiting = sandboxes::follow_after_restart(&platform).await?;
        if waiting > 0 {
            tracing::info!(
                waiting,
                "sandboxes wait for their runners' agents to report"
            );
        }
    }

    // The embedding demo page needs a token to hand over: only with generated demo
    // tokens (never one given with --token).
    let mut embed_demo_token = None;
    if args.demo {
        let organization = demo::organization(&given);
        if let (true, Some(tokens)) = (given.is_empty(), &demo_tokens) {
            println!("{tokens}");
            embed_demo_token = Some(tokens.user().to_owned());
        }
        demo::seed(&platform, &organization).await?;
    }

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let mut embed_allowed_origins = args.embed_allowed_origins;
    if embed_demo_token.is_some() {
        // The demo host page is served from this gateway, so its origin must be allowed.
        embed_allowed_origins.push(format!("http://{address}"));
        if address.ip().is_loopback() {
            embed_allowed_origins.push(format!("http://localhost:{}", address.port()));
        }
    }

    let console = ConsoleSite {
        dist: match args.console_dir {
            Some(dir) if !dir.join("index.html").is_file() => bail!(
                "{} holds no index.html: build the console first (scripts/build-console)",
                dir.display()
            ),
            dir => dir,
        },
        config: ConsoleConfig {
            control_plane_url: String::new(),
            data_plane_url: String::new(),
            embed_allowed_origins,
            base_path: "/".into(),
        },
        embed_demo_token,
    };
    let serves_embed_demo = console.dist.is_some() && console.embed_demo_token.is_some();
    let serves_console = console.dist.is_some();
    // On SIGTERM or SIGINT: stop accepting, end log follows with a last frame, let
    // requests in flight finish, but for no longer than the shutdown timeout.
    let (stopping, stop) = watch::channel(false);
    let app = router(AppState {
        platform,
        console: Arc::new(console),
        stopping: stop.clone(),
        hosts: AllowedHosts::new(address, &args.allowed_hosts),
    });

    // Scripts and the test harness read this line to learn the chosen port.
    println!("listening on http://{address}");
    if serves_console {
        println!("console: open http://{address}/ in a browser");
    }
    if serves_embed_demo {
        println!("embedding demo: open http://{address}/embed-demo.html");
    }
    tracing::info!(%address, "serving");
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stopping.send(true);
    });
    let mut graceful = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    let timeout = Duration::from_millis(args.shutdown_timeout_ms);
    let mut deadline = stop;
    tokio::select! {
        served = server.into_future() => served.context("serving HTTP")?,
        () = async move {
            let _ = deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(timeout).await;
        } => tracing::warn!("clients were still connected {timeout:?} after the signal to stop; stopping anyway"),
    }
    // Returning drops every sandbox's supervisor, which removes its container.
    tracing::info!("stopped");
    Ok(())
}
