//! Placement over 1,000 runners with 10 bindings each: the gateway runs this on every
//! start, and the console's "will it fit" preview on every keystroke.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sandbox_api::placement::{CandidateBinding, CandidateRunner, SandboxCeiling, place};
use sandbox_api::profile::ProfileSpec;
use sandbox_api::runner::{RunnerConnectionStatus, RunnerInstallStatus};
use sandbox_api::sandbox::StartSandboxRequest;
use serde_json::json;

const GIB: i64 = 1024 * 1024 * 1024;

fn fleet() -> Vec<CandidateRunner> {
    (0..1_000)
        .map(|r| CandidateRunner {
            runner_id: format!("runner-{r:04}"),
            install_status: RunnerInstallStatus::Ready,
            connection_status: RunnerConnectionStatus::Connected,
            healthy: r % 17 != 0,
            available_cpu_millicores: (r * 37 % 64) * 1000,
            available_memory_bytes: (r * 53 % 256) * GIB,
            available_gpus: r % 9,
            gpu_types: vec![["H100", "A100", "L40"][(r % 3) as usize].to_owned()],
            zone_defaults: ProfileSpec::default(),
            bindings: (0..10)
                .map(|b| CandidateBinding {
                    profile_template_id: format!("template-{b}"),
                    profile_name: format!("profile-{b}"),
                    is_default: b == 0,
                    profile: serde_json::from_value(json!({
                        "containerImage": "ghcr.io/example/agent:1.4",
                        "instanceTypes": if b % 2 == 0 { json!(["h100", "a100"]) } else { json!([]) },
                        "resourceDefaults": {"cpuRequest": format!("{}", 1 + b % 4), "memoryRequest": format!("{}Gi", 2 + b)},
                        "networkConfigJson": json!({"egress": {"default": "org", "modes": {
                            "org": {"type": "org"}, "internet": {"type": "internet"},
                            "allowlist": {"type": "allowlist", "cidrs": ["10.0.0.0/8", "140.82.112.0/20"]}}},
                            "ingress": {"internal": {"scope": "org", "service": {"serviceType": "ClusterIP"}}}}).to_string()
                    }))
                    .expect("a valid spec"),
                    overrides: ProfileSpec::default(),
                })
                .collect::<Vec<_>>()
                .into(),
        })
        .collect()
}

fn request(value: serde_json::Value) -> StartSandboxRequest {
    serde_json::from_value(value).expect("a valid request")
}

fn placement(c: &mut Criterion) {
    let runners = fleet();
    let ceiling = SandboxCeiling::default();
    let fits = request(
        json!({"command": "x", "containerImage": "i", "profileNames": ["profile-2"],
        "resources": {"cpu": "8", "memory": "32Gi", "gpu": {"gpuCount": "2", "gpuType": "H100"}},
        "network": {"egressMode": "internet"}}),
    );
    let fits_nowhere = request(json!({"command": "x", "containerImage": "i",
        "resources": {"cpu": "15", "memory": "60Gi", "gpu": {"gpuCount": "8", "gpuType": "B200"}}}));
    let every_binding = request(json!({"command": "x", "containerImage": "i",
        "profileNames": (0..10).map(|b| format!("profile-{b}")).collect::<Vec<_>>(),
        "resources": {"cpu": "2", "memory": "4Gi"}}));
    assert!(place(&fits, &runners, &ceiling).is_ok());
    assert!(place(&fits_nowhere, &runners, &ceiling).is_err());

    let mut group = c.benchmark_group("placement 1000 runners x 10 bindings");
    group.bench_function("named profile, fits", |b| {
        b.iter(|| place(black_box(&fits), &runners, &ceiling))
    });
    group.bench_function("default profile, fits nowhere", |b| {
        b.iter(|| place(black_box(&fits_nowhere), &runners, &ceiling))
    });
    group.bench_function("all 10 profiles named", |b| {
        b.iter(|| place(black_box(&every_binding), &runners, &ceiling))
    });
    group.finish();
}

criterion_group!(benches, placement);
criterion_main!(benches);
