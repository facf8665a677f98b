//! `--demo`: an organization with tokens and the data a real administrator would have
//! written, created through the same operations the API runs.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use sandbox_api::profile::{CreateProfileTemplateRequest, ProfileTemplate};
use sandbox_api::role::Role;
use sandbox_api::runner::CreateRunnerRequest;
use serde_json::json;

use crate::auth::{Caller, TokenHash, generate_secret};
use crate::capacity::Capacity;
use crate::cli::TokenGrant;
use crate::operations::{Platform, profile_templates, runners, sandboxes};
use crate::store::{demo_seeds, organizations};

const DEMO_ORGANIZATION: &str = "demo";
const TOKENS_FILE: &str = "tokens.txt";

/// Where demo data goes: the organization of the first admin token given, else `demo`.
pub fn organization(grants: &[TokenGrant]) -> String {
    grants
        .iter()
        .find(|g| g.role == Role::Admin)
        .map(|g| g.organization.clone())
        .unwrap_or_else(|| DEMO_ORGANIZATION.to_owned())
}

/// The demo organization's tokens, for printing.
pub struct DemoTokens {
    admin: String,
    user: String,
    file: String,
}

impl DemoTokens {
    /// The user token: what the embedding demo page hands to the console.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// What the store accepts for them.
    pub fn grants(&self) -> [(String, Role, TokenHash); 2] {
        [
            (
                DEMO_ORGANIZATION.to_owned(),
                Role::Admin,
                TokenHash::of(&self.admin),
            ),
            (
                DEMO_ORGANIZATION.to_owned(),
                Role::User,
                TokenHash::of(&self.user),
            ),
        ]
    }
}

impl fmt::Display for DemoTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "demo organization {DEMO_ORGANIZATION:?}; sign in with")?;
        writeln!(f, "  admin token (SANDBOX_ADMIN): {}", self.admin)?;
        writeln!(f, "  user token  (SANDBOX_USER):  {}", self.user)?;
        write!(f, "  (also in {})", self.file)
    }
}

/// The demo tokens the data directory keeps in `DATA_DIR/tokens.txt` (private to its
/// owner, mode 0600); with `create`, made when missing. `None` when there are none.
pub fn tokens(data_dir: &Path, create: bool) -> anyhow::Result<Option<DemoTokens>> {
    let path = data_dir.join(TOKENS_FILE);
    let (admin, user) = match std::fs::read_to_string(&path) {
        Ok(text) => parse_tokens_file(&text)
            .with_context(|| format!("{} is not a tokens file; delete it", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let tokens = (generate_secret()?, generate_secret()?);
            write_tokens_file(&path, &tokens.0, &tokens.1)?;
            tokens
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(Some(DemoTokens {
        admin,
        user,
        file: path.display().to_string(),
    }))
}

fn parse_tokens_file(text: &str) -> Option<(String, String)> {
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Some((value("SANDBOX_ADMIN")?, value("SANDBOX_USER")?))
}

fn write_tokens_file(path: &Path, admin: &str, user: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    write!(
        file,
        "# Bearer tokens of the demo organization {DEMO_ORGANIZATION:?}. Keep them private.\n\
         SANDBOX_ADMIN={admin}\nSANDBOX_USER={user}\n"
    )
    .with_context(|| format!("writing {}", path.display()))
}

/// Seeds `organization` once per data directory; later starts leave its data alone,
/// whatever the administrator has changed since.
pub async fn seed(platform: &Platform, organization: &str) -> anyhow::Result<()> {
    let org = organization.to_owned();
    let first_time = platform
        .store
        .run(move |connection| {
            organizations::ensure(connection, &org)?;
            demo_seeds::record(connection, &org)
        })
        .await
        .map_err(|e| e.context("recording the demo seed"))?;
    if !first_time {
        return Ok(());
    }
    let admin = Caller {
        organization: organization.to_owned(),
        role: Role::Admin,
    };
    let mut template_ids = BTreeMap::new();
    for template in profile_templates()? {
        let name = template.display_name.clone();
        let created = profile_templates::create(
            platform,
            &admin,
            CreateProfileTemplateRequest {
                profile_template: template,
            },
        )
        .await
        .with_context(|| format!("seeding profile {name}"))?;
        template_ids.insert(name, created.id);
    }
    let mut seeded_runners = Vec::new();
    for demo in demo_runners() {
        let bindings = demo
            .bindings
            .iter()
            .enumerate()
            .map(|(i, (profile, alias))| {
                json!({"profileTemplateId": template_ids.get(*profile), "profileName": alias, "isDefault": i == 0})
            })
            .collect::<Vec<_>>();
        let request: CreateRunnerRequest = serde_json::from_value(json!({
            "runnerId": demo.runner_id,
            "runner": {
                "displayName": demo.display_name,
                "identity": {"zone": demo.zone, "clusterName": demo.cluster, "runnerGroupId": demo.group},
                "managedSpec": {
                    "releaseChannel": demo.channel,
                    "maintenancePolicy": {"windows": [{"cron": "0 3 * * sun", "durationSeconds": "7200"}]}
                },
                "profileBindings": bindings
            }
        }))?;
        let runner = runners::create(platform, &admin, request)
            .await
            .with_context(|| format!("seeding runner {}", demo.runner_id))?;
        platform
            .installer
            .declare_capacity(&runner.id, demo.capacity)
            .await?;
        seeded_runners.push(demo.runner_id);
    }
    wait_until_ready(platform, organization, &seeded_runners[..3]).await?;
    for request in demo_sandboxes() {
        sandboxes::start(platform, &admin, serde_json::from_value(request)?)
            .await
            .context("seeding a sandbox")?;
    }
    tracing::info!(organization, "seeded demo data");
    Ok(())
}

/// Waits (at most 30 s) until the named runners are installed and connected.
async fn wait_until_ready(
    platform: &Platform,
    organization: &str,
    runner_ids: &[&str],
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let view = platform
            .discovery_view(organization)
            .await
            .context("reading the demo runners")?;
        let ready = runner_ids.iter().all(|id| {
            view.find_installed(id)
                .is_some_and(|s| s.healthy() && platform.agents.agent(s.stored().uuid()).is_some())
        });
        if ready {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the demo runners did not become ready within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

struct DemoRunner {
    runner_id: &'static str,
    display_name: &'static str,
    zone: &'static str,
    cluster: &'static str,
    group: &'static str,
    channel: &'static str,
    capacity: Capacity,
    /// (profile display name, alias); the first is the default.
    bindings: Vec<(&'static str, &'static str)>,
}

/// Runners in three zones with different GPUs, architectures and sizes, plus one whose
/// install fails (its cluster cannot be reached), so every state can be seen.
fn demo_runners() -> Vec<DemoRunner> {
    const GIB: i64 = 1024 * 1024 * 1024;
    let capacity =
        |cpus: i64, memory_gib: i64, gpus: i64, gpu_types: &[&str], architectures: &[&str]| {
            Capacity {
                cpu_millicores: cpus * 1000,
                memory_bytes: memory_gib * GIB,
                gpus,
                gpu_types: gpu_types.iter().map(|s| s.to_string()).collect(),
                architectures: architectures.iter().map(|s| s.to_string()).collect(),
                declared: true,
                healthy: true,
                // Measured, not declared: the in-process agent probes these when it
                // connects.
                network_isolation: false,
                ..Capacity::default()
            }
        };
    vec![
        DemoRunner {
            runner_id: "gpu-east",
            display_name: "H100 pool, US East",
            zone: "us-east-04a",
            cluster: "east-gpu-01",
            group: "gpu",
            channel: "RELEASE_CHANNEL_RAPID",
            capacity: capacity(96, 1024, 8, &["H100"], &["amd64"]),
            bindings: vec![
                ("gpu-workbench", ""),
                ("agent-allowlist", ""),
                ("internal-worker", ""),
            ],
        },
        DemoRunner {
            runner_id: "cpu-west",
            display_name: "General purpose, US West",
            zone: "us-west-01b",
            cluster: "west-cpu-03",
            group: "cpu",
            channel: "RELEASE_CHANNEL_STABLE",
            capacity: capacity(32, 128, 0, &[], &["amd64"]),
            bindings: vec![
                ("agent-allowlist", ""),
                ("ci-ephemeral", ""),
                ("untrusted-code", ""),
                ("internal-worker", ""),
            ],
        },
        DemoRunner {
            runner_id: "arm-central",
            display_name: "Arm64 and A100, US Central",
            zone: "us-central-02a",
            cluster: "central-arm-02",
            group: "mixed",
            channel: "RELEASE_CHANNEL_STABLE",
            capacity: capacity(64, 256, 4, &["A100"], &["arm64", "amd64"]),
            bindings: vec![
                ("untrusted-code", "sandboxed-python"),
                ("ci-ephemeral", ""),
                ("gpu-workbench", ""),
            ],
        },
        DemoRunner {
            runner_id: "lab-north",
            display_name: "Lab cluster (unreachable)",
            zone: "eu-north-01a",
            cluster: "unreachable-lab-01",
            group: "lab",
            channel: "RELEASE_CHANNEL_STABLE",
            capacity: capacity(8, 32, 0, &[], &["amd64"]),
            bindings: vec![("ci-ephemeral", "")],
        },
    ]
}

/// Sandboxes that leave logs behind: a finished job, a service that keeps logging (with
/// ANSI colours), and one in the no-network profile.
fn demo_sandboxes() -> Vec<serde_json::Value> {
    vec![
        json!({
            "command": "sh", "args": ["-c", "echo 'Preparing data set'; for i in 1 2 3 4 5; do echo \"epoch $i/5: loss=0.$((9 - i))\"; sleep 1; done; echo 'done'"],
            "containerImage": "ghcr.io/example/ci-runner:3.2", "profileNames": ["ci-ephemeral"],
            "tags": ["demo", "training"], "resources": {"cpu": "1", "memory": "1Gi"}
        }),
        json!({
            "command": "sh", "args": ["-c", "i=0; while true; do i=$((i+1)); printf '\\033[32mINFO\\033[0m request %d served in %dms\\n' $i $((i % 37 + 3)); if [ $((i % 10)) -eq 0 ]; then printf '\\033[33mWARN\\033[0m slow upstream on request %d\\n' $i >&2; fi; sleep 2; done"],
            "containerImage": "ghcr.io/example/worker:0.9", "profileNames": ["internal-worker"], "runnerIds": ["cpu-west"],
            "tags": ["demo", "service"], "resources": {"cpu": "2", "memory": "4Gi"}, "maxLifetimeSeconds": 86400
        }),
        json!({
            "command": "sh", "args": ["-c", "echo 'untrusted code running without network'; cat /etc/hostname 2>/dev/null; echo bye"],
            "containerImage": "ghcr.io/example/python-runner:3.12", "profileNames": ["sandboxed-python"],
            "tags": ["demo"]
        }),
    ]
}

/// Profiles an administrator of a GPU cloud would write, in the API form.
fn profile_templates() -> anyhow::Result<Vec<ProfileTemplate>> {
    let templates = json!([
        {
            "displayName": "gpu-workbench",
            "description": "Data-science workbench on H100/A100 nodes with internet egress",
            "labels": {"team": "ml", "workload": "notebook"},
            "spec": {
                "containerImage": "ghcr.io/example/ds-workbench:2025.10",
                "runtimeClass": "kata-qemu-nvidia-gpu",
                "resourceDefaults": {"cpuRequest": "4", "memoryRequest": "32Gi", "cpuLimit": "8", "memoryLimit": "64Gi"},
                "instanceTypes": ["h100", "a100"],
                "nodeSelector": {"pool": "gpu"},
                "tags": ["data-science", "gpu"],
                "namespaceConfigJson": json!({"strategy": "per-user", "namespacePrefix": "ds-", "autoCreate": true}).to_string(),
                "networkConfigJson": json!({"egress": {"default": "internet", "modes": {"internet": {"type": "internet"}, "deny-all": {"type": "none"}}}}).to_string()
            }
        },
        {
            "displayName": "agent-allowlist",
            "description": "Per-user agent sandboxes, allowlisted egress",
            "labels": {"workload": "agent"},
            "spec": {
                "containerImage": "ghcr.io/example/agent:1.4",
                "runtimeClass": "kata-qemu",
                "resourceDefaults": {"cpuRequest": "1", "memoryRequest": "2Gi", "cpuLimit": "2", "memoryLimit": "4Gi"},
                "nodeSelector": {"pool": "cpu"},
                "tags": ["agents"],
                "namespaceConfigJson": json!({"strategy": "per-user", "namespacePrefix": "agent-", "autoCreate": true}).to_string(),
                "networkConfigJson": json!({
                    "egress": {"default": "allowlist", "modes": {
                        "allowlist": {"type": "allowlist", "cidrs": ["140.82.112.0/20"]},
                        "deny-all": {"type": "none"}}},
                    "ingress": {"internal": {"scope": "org", "service": {"serviceType": "ClusterIP"}}}
                }).to_string(),
                "podTemplateJson": json!({"metadata": {"labels": {"app": "agent"}}, "spec": {"securityContext": {"runAsNonRoot": true}}}).to_string()
            }
        },
        {
            "displayName": "ci-ephemeral",
            "description": "Short-lived CI jobs in one shared static namespace",
            "labels": {"workload": "ci"},
            "spec": {
                "containerImage": "ghcr.io/example/ci-runner:3.2",
                "runtimeClass": "gvisor",
                "resourceDefaults": {"cpuRequest": "500m", "memoryRequest": "1Gi", "cpuLimit": "2", "memoryLimit": "4Gi"},
                "tags": ["ci", "ephemeral"],
                "namespaceConfigJson": json!({"strategy": "static", "staticNamespace": "ci-sandboxes", "autoCreate": false}).to_string(),
                "networkConfigJson": json!({"egress": {"default": "org", "modes": {"org": {"type": "org"}, "internet": {"type": "internet"}}}}).to_string()
            }
        },
        {
            "displayName": "untrusted-code",
            "description": "Runs code nobody has reviewed: gVisor, no network at all",
            "labels": {"risk": "high"},
            "spec": {
                "containerImage": "ghcr.io/example/python-runner:3.12",
                "runtimeClass": "gvisor",
                "resourceDefaults": {"cpuRequest": "250m", "memoryRequest": "512Mi", "cpuLimit": "1", "memoryLimit": "1Gi"},
                "tags": ["untrusted"],
                "namespaceConfigJson": json!({"strategy": "per-profile", "namespacePrefix": "untrusted-"}).to_string(),
                "networkConfigJson": json!({"egress": {"default": "none", "modes": {"none": {"type": "none"}}}}).to_string(),
                "podTemplateJson": json!({"spec": {"automountServiceAccountToken": false, "securityContext": {"runAsNonRoot": true, "runAsUser": 65534}}}).to_string()
            }
        },
        {
            "displayName": "internal-worker",
            "description": "Long-running workers that expose an internal service to the organization",
            "labels": {"workload": "service"},
            "spec": {
                "containerImage": "ghcr.io/example/worker:0.9",
                "runtimeClass": "kata-qemu",
                "resourceDefaults": {"cpuRequest": "2", "memoryRequest": "4Gi", "cpuLimit": "4", "memoryLimit": "8Gi"},
                "tags": ["service", "long-running"],
                "namespaceConfigJson": json!({"strategy": "per-org", "namespacePrefix": "workers-", "autoCreate": true}).to_string(),
                "networkConfigJson": json!({
                    "egress": {"default": "org", "modes": {"org": {"type": "org"}}},
                    "ingress": {
                        "internal": {"scope": "org", "service": {"serviceType": "ClusterIP"}},
                        "public": {"scope": "any", "service": {"serviceType": "LoadBalancer"},
                                   "ingress": {"controllerName": "nginx", "template": "{{.SandboxID}}.{{.Namespace}}.apps.example.com"},
                                   "expectsExternalAddress": true}
                    }
                }).to_string()
            }
        }
    ]);
    serde_json::from_value(templates).context("building the demo profiles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_file_parses_what_it_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TOKENS_FILE);
        write_tokens_file(&path, "aaa", "bbb").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(parse_tokens_file(&text), Some(("aaa".into(), "bbb".into())));
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn demo_profiles_pass_validation() {
        for template in profile_templates().unwrap() {
            assert_eq!(
                sandbox_api::profile_rules::validate_new_template(&template),
                vec![],
                "{}",
                template.display_name
            );
        }
    }
}
