//! The command line. Scripts and docs depend on these names: extend, don't rename.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};
use sandbox_api::names::dns1123_label_problem;
use sandbox_api::role::Role;

use crate::agent::wire::check_http_url;
use crate::read_model::HEARTBEAT_TIMEOUT_MS;

#[derive(Parser, Debug)]
#[command(name = "sandbox-gateway", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API and the console.
    Serve(ServeArgs),
    /// Run one runner's agent as its own process: it runs the runner's sandboxes and
    /// heartbeats to a gateway started with --external-agents.
    Agent(AgentArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for the SQLite database and sandbox data; created if missing.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The console's built `dist/` directory. Without it only the API is served.
    #[arg(long)]
    pub console_dir: Option<PathBuf>,
    /// Seed demo data through the API's own code paths (once per data directory). Without
    /// --token, also creates org `demo` with an admin and a user token, printed and
    /// written to DATA_DIR/tokens.txt.
    #[arg(long)]
    pub demo: bool,
    /// A bearer token to accept, as ORG:ROLE:SECRET (ROLE is SANDBOX_ADMIN or
    /// SANDBOX_USER; the secret at least 32 characters). Repeatable. Visible to every
    /// process on the machine: prefer --token-file or SANDBOX_GATEWAY_TOKENS (one
    /// ORG:ROLE:SECRET a line). Each start accepts exactly the tokens it is given (and
    /// the demo tokens of DATA_DIR/tokens.txt); others stop working. Stored hashed.
    #[arg(long = "token", value_name = "ORG:ROLE:SECRET")]
    pub tokens: Vec<TokenGrant>,
    /// A file of tokens to accept, one ORG:ROLE:SECRET a line (`#` comments); refused
    /// unless only its owner may read it.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// A host name (as in the Host header, without port) this gateway answers to besides
    /// the listen address, localhost, 127.0.0.1 and [::1]; other Hosts get 421, which
    /// stops DNS rebinding. Repeatable.
    #[arg(long = "allowed-host", value_name = "NAME", value_parser = parse_host_name)]
    pub allowed_hosts: Vec<String>,
    /// An origin allowed to embed the console in a frame and to send it postMessage
    /// auth (e.g. https://console.example.com). Repeatable.
    #[arg(long = "embed-allowed-origin", value_name = "ORIGIN", value_parser = parse_origin)]
    pub embed_allowed_origins: Vec<String>,
    /// Run sandboxes whose egress mode a local process cannot enforce (allowlist, org,
    /// user, profile) on the host network, flagged as unenforced, instead of refusing
    /// them. --demo sets it.
    #[arg(long)]
    pub allow_unenforced_egress: bool,
    /// The largest sandbox an organization may start: CPU in millicores.
    #[arg(long, default_value_t = 16_000)]
    pub max_sandbox_cpu_millicores: i64,
    /// The largest sandbox an organization may start: memory in bytes (default 64 GiB).
    #[arg(long, default_value_t = 64 * 1024 * 1024 * 1024)]
    pub max_sandbox_memory_bytes: i64,
    /// The largest sandbox an organization may start: GPUs.
    #[arg(long, default_value_t = 8)]
    pub max_sandbox_gpus: i64,
    /// Time between runner install steps, in milliseconds.
    #[arg(long, default_value_t = 500, hide = true)]
    pub install_step_ms: u64,
    /// Time between agent heartbeats, in milliseconds.
    #[arg(long, default_value_t = 5_000, hide = true)]
    pub heartbeat_interval_ms: u64,
    /// How long a runner stays CONNECTED after its last heartbeat, in milliseconds.
    #[arg(long, default_value_t = HEARTBEAT_TIMEOUT_MS, hide = true)]
    pub heartbeat_timeout_ms: u64,
    /// Do not run agents inside the gateway: runners wait in PROVISIONING for an agent
    /// process (`sandbox-gateway agent`) to heartbeat for them. --demo needs in-process
    /// agents.
    #[arg(long, conflicts_with = "demo")]
    pub external_agents: bool,
    /// How sandboxes are kept apart from this machine: each in a container (runc, as
    /// root), or `none`: plain processes of the gateway's user, which can read its files
    /// and reach its network (every such sandbox is flagged unisolated). --demo does not
    /// change it.
    #[arg(long, value_enum, default_value_t = IsolationMode::Container)]
    pub isolation: IsolationMode,
    /// The OCI runtime binary that runs sandbox containers; by default `runc` on PATH.
    #[arg(long, value_name = "PATH")]
    pub runc: Option<PathBuf>,
    /// The most processes and threads one sandbox may run at once.
    #[arg(long, default_value_t = 1024)]
    pub max_sandbox_processes: u64,
    /// The most sandboxes one organization may have running (or starting) at once.
    #[arg(long, default_value_t = 64)]
    pub max_sandboxes_per_org: u32,
    /// The most execs that may run at once in one sandbox.
    #[arg(long, default_value_t = 4)]
    pub max_execs_per_sandbox: u32,
    /// The most execs that may run at once across one organization's sandboxes.
    #[arg(long, default_value_t = 16)]
    pub max_execs_per_org: u32,
    /// The most bytes of output a sandbox's log keeps (default 64 MiB); past it the log
    /// says once that output was dropped.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_log_bytes: u64,
    /// Time between measurements of what each sandbox uses, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..))]
    pub usage_interval_ms: u64,
    /// How many days each object's history is kept (then forgotten, checked hourly).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..))]
    pub history_retention_days: u32,
    /// How long requests in flight (log follows included) may go on after SIGTERM or
    /// SIGINT before the gateway stops anyway, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub shutdown_timeout_ms: u64,
}

/// `--isolation`: how sandboxes are kept apart from the machine they run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IsolationMode {
    Container,
    None,
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    /// The gateway's base URL, e.g. http://127.0.0.1:8080 (plain HTTP).
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub gateway: String,
    /// The runner this agent serves, by runner ID.
    #[arg(long, value_parser = parse_runner_id)]
    pub runner_id: String,
    /// A bearer token of the runner's organization with the SANDBOX_ADMIN role. On the
    /// command line it is visible to every process: prefer --token-file or the
    /// SANDBOX_AGENT_TOKEN environment variable.
    #[arg(
        long,
        value_name = "SECRET",
        env = "SANDBOX_AGENT_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// A file holding the agent's token; refused unless only its owner may read it.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Address the agent API listens on; port 0 picks a free port (the chosen one is
    /// printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The URL at which the gateway reaches this agent; by default http://ADDRESS of
    /// --listen. Needed when listening on all interfaces.
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub advertise_url: Option<String>,
    /// Directory for the sandboxes' working directories and logs; created if missing.
    #[arg(long, default_value = "agent-data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub capacity: DeclaredCapacity,
    /// The runner's zone. If given, the gateway refuses the agent unless it is the
    /// runner's `identity.zone`.
    #[arg(long)]
    pub zone: Option<String>,
    /// Time between heartbeats, in milliseconds.
    #[arg(long, default_value_t = 5_000)]
    pub heartbeat_interval_ms: u64,
    /// How this agent keeps sandboxes apart from its machine (see `serve --isolation`).
    #[arg(long, value_enum, default_value_t = IsolationMode::Container)]
    pub isolation: IsolationMode,
    /// The OCI runtime binary (see `serve --runc`).
    #[arg(long, value_name = "PATH")]
    pub runc: Option<PathBuf>,
}

/// Capacity an agent declares instead of measuring it. Any of these makes the reported
/// capacity declared (discovery tags it `capacity:declared`); what is not given is still
/// measured on this machine.
#[derive(Args, Debug, Default, Clone, PartialEq)]
pub struct DeclaredCapacity {
    /// Declared CPU in millicores, instead of this machine's. Any capacity flag marks the
    /// reported capacity declared.
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub cpu_millicores: Option<i64>,
    /// Declared memory in bytes, instead of this machine's.
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub memory_bytes: Option<i64>,
    /// Declared number of GPUs.
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub gpus: Option<i64>,
    /// A declared GPU type (e.g. H100). Repeatable.
    #[arg(long = "gpu-type", value_name = "TYPE")]
    pub gpu_types: Vec<String>,
    /// A declared CPU architecture, as Kubernetes names it (amd64, arm64), instead of
    /// this machine's. Repeatable.
    #[arg(long = "arch", value_name = "ARCH")]
    pub architectures: Vec<String>,
}

impl DeclaredCapacity {
    pub fn is_empty(&self) -> bool {
        *self == DeclaredCapacity::default()
    }
}

/// An agent or gateway base URL (see `agent::wire::check_http_url`), without a trailing
/// slash.
fn parse_http_url(s: &str) -> Result<String, String> {
    check_http_url(s).map(|()| s.trim_end_matches('/').to_owned())
}

fn parse_runner_id(s: &str) -> Result<String, String> {
    match dns1123_label_problem(s) {
        Some(problem) => Err(format!("runner ID {s:?} {problem}")),
        None => Ok(s.to_owned()),
    }
}

/// An origin as browsers write it: `scheme://host[:port]`, nothing else. Checked
/// strictly because it is copied into the Content-Security-Policy header.
fn parse_origin(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("an origin starts with https:// or http://")?;
    let valid_host_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if rest.is_empty() || !rest.chars().all(valid_host_char) {
        return Err(format!(
            "{s:?} is not an origin: expected scheme://host[:port] with no path"
        ));
    }
    Ok(s.to_owned())
}

/// A host name for `--allowed-host`: letters, digits, dots and dashes (no port, no
/// scheme), compared case-insensitively.
fn parse_host_name(s: &str) -> Result<String, String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-');
    if s.is_empty() || !s.chars().all(valid) {
        return Err(format!(
            "{s:?} is not a host name (no scheme, port or path)"
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// The shortest secret a given token may have: long enough that its unsalted SHA-256
/// in the database cannot be reversed by guessing.
pub const MIN_SECRET_CHARS: usize = 32;

/// A token given on the command line, and what it grants.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenGrant {
    pub organization: String,
    pub role: Role,
    pub secret: String,
}

impl FromStr for TokenGrant {
    type Err = String;

    fn from_str(s: &str) -> Result<TokenGrant, String> {
        let mut parts = s.splitn(3, ':');
        let (Some(organization), Some(role), Some(secret)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err("expected ORG:ROLE:SECRET".into());
        };
        if let Some(problem) = dns1123_label_problem(organization) {
            return Err(format!("organization {organization:?} {problem}"));
        }
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(format!(
                "the secret must be at least {MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 16`)"
            ));
        }
        Ok(TokenGrant {
            organization: organization.to_owned(),
            role: role.parse()?,
            secret: secret.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_grant_parses_and_keeps_colons_in_the_secret() {
        let grant: TokenGrant = "acme:SANDBOX_USER:s3cret:with:colons:0123456789abcdefghij"
            .parse()
            .unwrap();
        assert_eq!(grant.organization, "acme");
        assert_eq!(grant.role, Role::User);
        assert_eq!(grant.secret, "s3cret:with:colons:0123456789abcdefghij");
    }

    #[test]
    fn origins_are_scheme_host_port_only() {
        assert!(parse_origin("https://console.example.com").is_ok());
        assert!(parse_origin("http://127.0.0.1:9000").is_ok());
        assert!(parse_origin("https://host/path").is_err());
        assert!(parse_origin("https://a; script-src *").is_err());
        assert!(parse_origin("host.example").is_err());
    }

    #[test]
    fn agent_urls_are_plain_http_without_trailing_slash() {
        assert_eq!(
            parse_http_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(parse_http_url("https://gateway.example").is_err());
        assert!(parse_http_url("127.0.0.1:8080").is_err());
        assert!(parse_http_url("http://host/?x=1").is_err());
    }

    #[test]
    fn any_capacity_flag_makes_capacity_declared() {
        let parse = |args: &[&str]| {
            let mut argv = vec![
                "sandbox-gateway",
                "agent",
                "--gateway",
                "http://127.0.0.1:1",
                "--runner-id",
                "edge",
                "--token",
                "secret",
            ];
            argv.extend(args);
            match Cli::try_parse_from(argv).unwrap().command {
                Command::Agent(args) => args.capacity,
                Command::Serve(_) => unreachable!("parsed an agent command line"),
            }
        };
        assert!(parse(&[]).is_empty());
        assert!(!parse(&["--gpu-type", "H100"]).is_empty());
        assert_eq!(
            parse(&["--arch", "amd64", "--arch", "arm64"]).architectures,
            ["amd64", "arm64"]
        );
        assert!(
            Cli::try_parse_from([
                "sandbox-gateway",
                "agent",
                "--gateway",
                "http://h",
                "--runner-id",
                "edge",
                "--token",
                "t",
                "--gpus",
                "-1"
            ])
            .is_err()
        );
    }

    #[test]
    fn token_grant_rejects_bad_parts() {
        assert!("acme:SANDBOX_USER".parse::<TokenGrant>().is_err());
        assert!(
            "acme:ROOT:longenough0123456789abcdef0123456789"
                .parse::<TokenGrant>()
                .is_err()
        );
        assert!(
            "Acme:SANDBOX_USER:longenough0123456789abcdef0123456789"
                .parse::<TokenGrant>()
                .is_err()
        );
        assert!(
            "acme:SANDBOX_USER:only-31-characters-long-0123456"
                .parse::<TokenGrant>()
                .is_err()
        );
        assert!(
            "acme:SANDBOX_USER:exactly-32-characters-long-01234"
                .parse::<TokenGrant>()
                .is_ok()
        );
    }
}
