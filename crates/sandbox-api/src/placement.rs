//! Placement: which runner and binding take a start request, or why none can (SPEC §4).
//! The gateway decides with this code and the console's "will it fit" preview runs the
//! same code, so the two never disagree.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{Code, Reason, Status};
use crate::format::{format_bytes, format_cpu};
use crate::layering::{EffectiveSpec, Layers, effective_spec};
use crate::profile::ProfileSpec;
use crate::quantity::Quantity;
use crate::runner::{RunnerConnectionStatus, RunnerInstallStatus};
use crate::sandbox::StartSandboxRequest;

/// The largest single sandbox an organization may start (local decision: configurable,
/// by default 16 vCPU, 64 GiB and 8 GPUs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SandboxCeiling {
    pub cpu_millicores: i64,
    pub memory_bytes: i64,
    pub gpus: i64,
}

impl Default for SandboxCeiling {
    fn default() -> SandboxCeiling {
        SandboxCeiling {
            cpu_millicores: 16_000,
            memory_bytes: 64 * 1024 * 1024 * 1024,
            gpus: 8,
        }
    }
}

/// A runner as placement sees it: its state, what it has free, and its bindings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CandidateRunner {
    pub runner_id: String,
    pub install_status: RunnerInstallStatus,
    pub connection_status: RunnerConnectionStatus,
    pub healthy: bool,
    pub available_cpu_millicores: i64,
    pub available_memory_bytes: i64,
    pub available_gpus: i64,
    pub gpu_types: Vec<String>,
    /// Defaults of the runner's zone: the bottom layer of every effective spec.
    pub zone_defaults: ProfileSpec,
    /// Shared: the gateway keeps each runner's resolved bindings and hands them to every
    /// placement without copying their specs.
    pub bindings: Arc<Vec<CandidateBinding>>,
}

/// A binding with what it resolves to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CandidateBinding {
    pub profile_template_id: String,
    /// The alias, or the template's display name when the binding has none.
    pub profile_name: String,
    pub is_default: bool,
    pub profile: ProfileSpec,
    pub overrides: ProfileSpec,
}

/// A runner's bindings resolved to what placement needs: each binding's name (its
/// alias, else the template's display name), its profile's spec and its overrides.
/// `template` gives a template's display name and spec by ID; bindings to templates it
/// does not know are left out.
pub fn resolve_bindings(
    bindings: &[crate::runner::ProfileBinding],
    template: impl Fn(&str) -> Option<(String, ProfileSpec)>,
) -> Vec<CandidateBinding> {
    bindings
        .iter()
        .filter_map(|binding| {
            let (display_name, profile) = template(&binding.profile_template_id)?;
            Some(CandidateBinding {
                profile_template_id: binding.profile_template_id.clone(),
                profile_name: crate::binding::effective_name(binding, &display_name),
                is_default: binding.is_default,
                profile,
                // Overrides were checked when the binding was written; reading them
                // here needs only their shape (and keeps the checker out of the console).
                overrides: serde_json::from_str(&binding.overrides_json).unwrap_or_default(),
            })
        })
        .collect()
}

/// The CPU (millicores) and memory (bytes) a sandbox may use at most: its own limit,
/// else its profile's default (both already layered into `effective`), else the
/// gateway's ceiling, and never more than the ceiling (local decision: every sandbox
/// has a limit, as a namespace's LimitRange gives pods one).
pub fn sandbox_limits(effective: &ProfileSpec, ceiling: &SandboxCeiling) -> (i64, i64) {
    let resources = effective.resource_defaults.clone().unwrap_or_default();
    let read = |text: &str| {
        Some(text)
            .filter(|t| !t.is_empty())
            .and_then(|t| Quantity::parse(t).ok())
    };
    let cpu = read(&resources.cpu_limit).map_or(ceiling.cpu_millicores, |q| q.to_millis());
    let memory = read(&resources.memory_limit).map_or(ceiling.memory_bytes, |q| q.to_units());
    (
        cpu.clamp(1, ceiling.cpu_millicores.max(1)),
        memory.clamp(1, ceiling.memory_bytes.max(1)),
    )
}

/// What a request asks of a runner once the profile's defaults are applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Demand {
    pub cpu_millicores: i64,
    pub memory_bytes: i64,
    pub gpus: i64,
    pub gpu_type: String,
    pub egress_mode: String,
    pub ingress_mode: String,
}

/// Why one (runner, binding) candidate cannot take the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectionReason {
    NotReady(RunnerInstallStatus),
    Disconnected,
    Unhealthy,
    /// The runner binds none of the requested profiles.
    ProfileNotBound {
        requested: Vec<String>,
    },
    EgressModeNotOffered {
        requested: String,
        offered: Vec<String>,
    },
    IngressModeNotOffered {
        requested: String,
        offered: Vec<String>,
    },
    GpuTypeNotSupported {
        requested: String,
        supported: Vec<String>,
    },
    GpuTypeOutsideProfile {
        requested: String,
        instance_types: Vec<String>,
    },
    NotEnoughCpu {
        needed: i64,
        available: i64,
    },
    NotEnoughMemory {
        needed: i64,
        available: i64,
    },
    NotEnoughGpus {
        needed: i64,
        available: i64,
    },
    AboveCeiling {
        resource: &'static str,
        needed: String,
        ceiling: String,
    },
    /// Neither the request nor any layer of this binding's spec (profile, overrides,
    /// zone defaults) names an image (local decision: the request's image may be left
    /// to the profile, SPEC §4 notwithstanding).
    NoImage,
    /// The request's quantities do not parse; nothing can take it.
    InvalidQuantity {
        field: &'static str,
        problem: String,
    },
}

impl RejectionReason {
    /// A short machine-readable name, used as `ErrorInfo.metadata` values.
    pub fn code(&self) -> &'static str {
        match self {
            RejectionReason::NotReady(_) => "RUNNER_NOT_READY",
            RejectionReason::Disconnected => "RUNNER_DISCONNECTED",
            RejectionReason::Unhealthy => "RUNNER_UNHEALTHY",
            RejectionReason::ProfileNotBound { .. } => "PROFILE_NOT_BOUND",
            RejectionReason::EgressModeNotOffered { .. } => "EGRESS_MODE_NOT_OFFERED",
            RejectionReason::IngressModeNotOffered { .. } => "INGRESS_MODE_NOT_OFFERED",
            RejectionReason::GpuTypeNotSupported { .. } => "GPU_TYPE_NOT_SUPPORTED",
            RejectionReason::GpuTypeOutsideProfile { .. } => "GPU_TYPE_OUTSIDE_PROFILE",
            RejectionReason::NotEnoughCpu { .. } => "INSUFFICIENT_CPU",
            RejectionReason::NotEnoughMemory { .. } => "INSUFFICIENT_MEMORY",
            RejectionReason::NotEnoughGpus { .. } => "INSUFFICIENT_GPU",
            RejectionReason::AboveCeiling { .. } => "ABOVE_SANDBOX_CEILING",
            RejectionReason::NoImage => "NO_IMAGE",
            RejectionReason::InvalidQuantity { .. } => "INVALID_QUANTITY",
        }
    }
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        match self {
            RejectionReason::NotReady(status) => {
                write!(f, "runner is not ready ({})", status.as_str())
            }
            RejectionReason::Disconnected => f.write_str("runner is disconnected"),
            RejectionReason::Unhealthy => f.write_str("runner is unhealthy"),
            RejectionReason::ProfileNotBound { requested } => {
                write!(
                    f,
                    "runner does not offer profile {}",
                    requested.join(" or ")
                )
            }
            RejectionReason::EgressModeNotOffered { requested, offered } => {
                write!(
                    f,
                    "egress mode {requested:?} is not offered (offered: {})",
                    list(offered)
                )
            }
            RejectionReason::IngressModeNotOffered { requested, offered } => {
                write!(
                    f,
                    "ingress mode {requested:?} is not offered (offered: {})",
                    list(offered)
                )
            }
            RejectionReason::GpuTypeNotSupported {
                requested,
                supported,
            } => {
                write!(
                    f,
                    "GPU type {requested} is not on this runner (has: {})",
                    list(supported)
                )
            }
            RejectionReason::GpuTypeOutsideProfile {
                requested,
                instance_types,
            } => {
                write!(
                    f,
                    "GPU type {requested} is outside the profile's instance types ({})",
                    list(instance_types)
                )
            }
            RejectionReason::NotEnoughCpu { needed, available } => {
                write!(
                    f,
                    "needs {} but {} is free",
                    format_cpu(*needed),
                    format_cpu(*available)
                )
            }
            RejectionReason::NotEnoughMemory { needed, available } => {
                write!(
                    f,
                    "needs {} of memory but {} is free",
                    format_bytes(*needed),
                    format_bytes(*available)
                )
            }
            RejectionReason::NotEnoughGpus { needed, available } => {
                write!(f, "needs {needed} GPU(s) but {available} are free")
            }
            RejectionReason::AboveCeiling {
                resource,
                needed,
                ceiling,
            } => {
                write!(
                    f,
                    "{resource} {needed} is above the per-sandbox limit of {ceiling}"
                )
            }
            RejectionReason::NoImage => {
                f.write_str("no image: the request names none and this profile sets none")
            }
            RejectionReason::InvalidQuantity { field, problem } => write!(f, "{field}: {problem}"),
        }
    }
}

/// One candidate that cannot take the request, with every reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementRejection {
    pub runner_id: String,
    /// Empty when the runner was rejected before any binding was considered.
    pub profile_name: String,
    pub reasons: Vec<RejectionReason>,
}

/// The chosen runner and binding.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub runner_id: String,
    pub profile_template_id: String,
    pub profile_name: String,
    pub effective: EffectiveSpec,
    pub demand: Demand,
    /// The candidates that could not take it, for the "will it fit" view.
    pub rejections: Vec<PlacementRejection>,
}

/// No candidate can take the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementFailure {
    pub reason: Reason,
    pub rejections: Vec<PlacementRejection>,
}

impl PlacementFailure {
    /// FAILED_PRECONDITION with the reason, and per candidate why it was rejected, in
    /// the message and in `ErrorInfo.metadata` (`"runner/profile": "CODE, CODE"`).
    pub fn to_status(&self) -> Status {
        let mut message = match self.reason {
            Reason::ProfileMismatch => {
                "no runner offers the requested profile with what the request needs".to_owned()
            }
            _ => "no runner can take this sandbox".to_owned(),
        };
        let mut metadata = BTreeMap::new();
        for rejection in &self.rejections {
            let who = rejection.candidate();
            let reasons: Vec<String> = rejection.reasons.iter().map(ToString::to_string).collect();
            message.push_str(&format!("; {who}: {}", reasons.join(", ")));
            let codes: Vec<&str> = rejection
                .reasons
                .iter()
                .map(RejectionReason::code)
                .collect();
            metadata.insert(who, codes.join(","));
        }
        if self.rejections.is_empty() {
            message.push_str("; there are no runners to choose from");
        }
        Status::new(Code::FailedPrecondition, message).with_reason(self.reason, metadata)
    }
}

impl PlacementRejection {
    /// `runner` or `runner/profile`.
    pub fn candidate(&self) -> String {
        if self.profile_name.is_empty() {
            self.runner_id.clone()
        } else {
            format!("{}/{}", self.runner_id, self.profile_name)
        }
    }
}

/// Chooses where `request` runs among `runners`: every candidate is checked, the one
/// with the most free CPU wins (then most free memory, then runner ID, then profile
/// name), and every other candidate is explained. Deterministic for the same input.
pub fn place(
    request: &StartSandboxRequest,
    runners: &[CandidateRunner],
    ceiling: &SandboxCeiling,
) -> Result<Placement, PlacementFailure> {
    let named_profiles: Vec<String> = request
        .profile_names
        .iter()
        .chain(&request.profile_ids)
        .cloned()
        .collect();
    let reason = if named_profiles.is_empty() {
        Reason::NoSuitableRunner
    } else {
        Reason::ProfileMismatch
    };
    let mut rejections = Vec::new();
    let mut fits: Vec<(&CandidateRunner, &CandidateBinding, EffectiveSpec, Demand)> = Vec::new();

    let in_scope = runners
        .iter()
        .filter(|r| request.runner_ids.is_empty() || request.runner_ids.contains(&r.runner_id));
    for runner in in_scope {
        let mut state = Vec::new();
        if runner.install_status != RunnerInstallStatus::Ready {
            state.push(RejectionReason::NotReady(runner.install_status));
        }
        if runner.connection_status != RunnerConnectionStatus::Connected {
            state.push(RejectionReason::Disconnected);
        }
        if !runner.healthy {
            state.push(RejectionReason::Unhealthy);
        }
        let bindings: Vec<&CandidateBinding> = runner
            .bindings
            .iter()
            .filter(|b| {
                if named_profiles.is_empty() {
                    b.is_default
                } else {
                    request.profile_names.contains(&b.profile_name)
                        || request.profile_ids.contains(&b.profile_template_id)
                }
            })
            .collect();
        if bindings.is_empty() {
            state.push(RejectionReason::ProfileNotBound {
                requested: if named_profiles.is_empty() {
                    vec!["(default)".to_owned()]
                } else {
                    named_profiles.clone()
                },
            });
        }
        if !state.is_empty() {
            rejections.push(PlacementRejection {
                runner_id: runner.runner_id.clone(),
                profile_name: if bindings.len() == 1 {
                    bindings[0].profile_name.clone()
                } else {
                    String::new()
                },
                reasons: state,
            });
            continue;
        }
        for binding in bindings {
            let effective = effective_spec(Layers {
                zone_defaults: Some(&runner.zone_defaults),
                profile: &binding.profile,
                overrides: Some(&binding.overrides),
                request: Some(request),
            });
            let (demand, reasons) = judge(request, runner, &effective, ceiling);
            if reasons.is_empty() {
                fits.push((runner, binding, effective, demand));
            } else {
                rejections.push(PlacementRejection {
                    runner_id: runner.runner_id.clone(),
                    profile_name: binding.profile_name.clone(),
                    reasons,
                });
            }
        }
    }

    fits.sort_by(|a, b| {
        (b.0.available_cpu_millicores, b.0.available_memory_bytes)
            .cmp(&(a.0.available_cpu_millicores, a.0.available_memory_bytes))
            .then_with(|| a.0.runner_id.cmp(&b.0.runner_id))
            .then_with(|| a.1.profile_name.cmp(&b.1.profile_name))
    });
    let mut fits = fits.into_iter();
    let Some((runner, binding, effective, demand)) = fits.next() else {
        return Err(PlacementFailure { reason, rejections });
    };
    Ok(Placement {
        runner_id: runner.runner_id.clone(),
        profile_template_id: binding.profile_template_id.clone(),
        profile_name: binding.profile_name.clone(),
        effective,
        demand,
        rejections,
    })
}

/// What the request needs under `effective`, and every reason this runner cannot give it.
fn judge(
    request: &StartSandboxRequest,
    runner: &CandidateRunner,
    effective: &EffectiveSpec,
    ceiling: &SandboxCeiling,
) -> (Demand, Vec<RejectionReason>) {
    let mut reasons = Vec::new();
    if effective.spec.container_image.trim().is_empty() {
        reasons.push(RejectionReason::NoImage);
    }
    let resources = effective.spec.resource_defaults.clone().unwrap_or_default();
    let mut quantity = |field: &'static str, text: &str| -> Quantity {
        if text.is_empty() {
            return Quantity::ZERO;
        }
        Quantity::parse(text).unwrap_or_else(|problem| {
            reasons.push(RejectionReason::InvalidQuantity { field, problem });
            Quantity::ZERO
        })
    };
    let gpu = request
        .resource_requests
        .as_ref()
        .or(request.resources.as_ref())
        .and_then(|r| r.gpu.clone())
        .unwrap_or_default();
    let network = request.network.clone().unwrap_or_default();
    let demand = Demand {
        cpu_millicores: quantity("cpu", &resources.cpu_request).to_millis(),
        memory_bytes: quantity("memory", &resources.memory_request).to_units(),
        gpus: gpu.gpu_count,
        gpu_type: gpu.gpu_type,
        egress_mode: network.egress_mode,
        ingress_mode: network.ingress_mode,
    };

    // Reading the network JSON is the costliest check: only when a mode is asked for.
    let offered = if demand.egress_mode.is_empty() && demand.ingress_mode.is_empty() {
        OfferedModes::default()
    } else {
        offered_modes(&effective.spec)
    };
    if !demand.egress_mode.is_empty() && !offered.egress.contains(&demand.egress_mode) {
        reasons.push(RejectionReason::EgressModeNotOffered {
            requested: demand.egress_mode.clone(),
            offered: offered.egress.clone(),
        });
    }
    if !demand.ingress_mode.is_empty() && !offered.ingress.contains(&demand.ingress_mode) {
        reasons.push(RejectionReason::IngressModeNotOffered {
            requested: demand.ingress_mode.clone(),
            offered: offered.ingress.clone(),
        });
    }
    if !demand.gpu_type.is_empty() {
        if !runner
            .gpu_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&demand.gpu_type))
        {
            reasons.push(RejectionReason::GpuTypeNotSupported {
                requested: demand.gpu_type.clone(),
                supported: runner.gpu_types.clone(),
            });
        }
        let instance_types = &effective.spec.instance_types;
        if !instance_types.is_empty()
            && !instance_types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&demand.gpu_type))
        {
            reasons.push(RejectionReason::GpuTypeOutsideProfile {
                requested: demand.gpu_type.clone(),
                instance_types: instance_types.clone(),
            });
        }
    }
    if demand.cpu_millicores > runner.available_cpu_millicores {
        reasons.push(RejectionReason::NotEnoughCpu {
            needed: demand.cpu_millicores,
            available: runner.available_cpu_millicores,
        });
    }
    if demand.memory_bytes > runner.available_memory_bytes {
        reasons.push(RejectionReason::NotEnoughMemory {
            needed: demand.memory_bytes,
            available: runner.available_memory_bytes,
        });
    }
    if demand.gpus > runner.available_gpus {
        reasons.push(RejectionReason::NotEnoughGpus {
            needed: demand.gpus,
            available: runner.available_gpus,
        });
    }
    for (resource, needed, limit, show) in [
        (
            "CPU",
            demand.cpu_millicores,
            ceiling.cpu_millicores,
            format_cpu as fn(i64) -> String,
        ),
        (
            "memory",
            demand.memory_bytes,
            ceiling.memory_bytes,
            format_bytes,
        ),
        ("GPU count", demand.gpus, ceiling.gpus, |n: i64| {
            n.to_string()
        }),
    ] {
        if needed > limit {
            reasons.push(RejectionReason::AboveCeiling {
                resource,
                needed: show(needed),
                ceiling: show(limit),
            });
        }
    }
    (demand, reasons)
}

/// The egress modes and ingress levels a spec offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfferedModes {
    pub egress: Vec<String>,
    pub ingress: Vec<String>,
}

/// Reads the mode names from the spec's network JSON. Placement asks this of every
/// candidate, so only the names are decoded; a network that does not parse offers
/// nothing (validation reports why).
pub fn offered_modes(spec: &ProfileSpec) -> OfferedModes {
    #[derive(serde::Deserialize)]
    struct Network {
        egress: Option<Egress>,
        ingress: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    }
    #[derive(serde::Deserialize)]
    struct Egress {
        modes: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    }
    if spec.network_config_json.trim().is_empty() {
        return OfferedModes::default();
    }
    let Ok(network) = serde_json::from_str::<Network>(&spec.network_config_json) else {
        return OfferedModes::default();
    };
    OfferedModes {
        egress: network
            .egress
            .and_then(|e| e.modes)
            .map(|m| m.into_keys().collect())
            .unwrap_or_default(),
        ingress: network
            .ingress
            .map(|m| m.into_keys().collect())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::profile::ResourceDefaults;

    const GIB: i64 = 1024 * 1024 * 1024;

    fn spec(value: serde_json::Value) -> ProfileSpec {
        serde_json::from_value(value).unwrap()
    }

    fn runner(
        id: &str,
        cpu: i64,
        memory_gib: i64,
        gpus: i64,
        gpu_types: &[&str],
    ) -> CandidateRunner {
        CandidateRunner {
            runner_id: id.into(),
            install_status: RunnerInstallStatus::Ready,
            connection_status: RunnerConnectionStatus::Connected,
            healthy: true,
            available_cpu_millicores: cpu,
            available_memory_bytes: memory_gib * GIB,
            available_gpus: gpus,
            gpu_types: gpu_types.iter().map(|t| t.to_string()).collect(),
            zone_defaults: ProfileSpec::default(),
            bindings: Arc::new(vec![binding(
                "agent",
                true,
                json!({
                    "resourceDefaults": {"cpuRequest": "1", "memoryRequest": "2Gi"},
                    "networkConfigJson": json!({"egress": {"default": "none", "modes": {"none": {"type": "none"}}}}).to_string()
                }),
            )]),
        }
    }

    fn binding(name: &str, is_default: bool, profile: serde_json::Value) -> CandidateBinding {
        CandidateBinding {
            profile_template_id: format!("id-{name}"),
            profile_name: name.into(),
            is_default,
            profile: spec(profile),
            overrides: ProfileSpec::default(),
        }
    }

    fn request(value: serde_json::Value) -> StartSandboxRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_sandbox_is_limited_by_its_own_limit_else_its_profile_else_the_ceiling() {
        let ceiling = SandboxCeiling::default();
        let spec = |cpu: &str, memory: &str| ProfileSpec {
            resource_defaults: Some(ResourceDefaults {
                cpu_limit: cpu.into(),
                memory_limit: memory.into(),
                ..ResourceDefaults::default()
            }),
            ..ProfileSpec::default()
        };
        assert_eq!(
            sandbox_limits(&spec("500m", "64Mi"), &ceiling),
            (500, 64 << 20)
        );
        assert_eq!(
            sandbox_limits(&spec("", ""), &ceiling),
            (ceiling.cpu_millicores, ceiling.memory_bytes)
        );
        assert_eq!(
            sandbox_limits(&spec("999", "1Pi"), &ceiling).0,
            ceiling.cpu_millicores
        );
        assert_eq!(
            sandbox_limits(&ProfileSpec::default(), &ceiling).1,
            ceiling.memory_bytes
        );
    }

    #[test]
    fn a_request_without_an_image_goes_where_a_layer_names_one() {
        // More free CPU, but its default profile sets no image: passed over, saying so.
        let bare = runner("bare", 16_000, 64, 0, &[]);
        let mut imaged = runner("imaged", 8000, 16, 0, &[]);
        Arc::make_mut(&mut imaged.bindings)[0]
            .profile
            .container_image = "python:3.12".into();
        let runners = [bare, imaged];
        let without = request(json!({"command": "python"}));
        let placed = place(&without, &runners, &SandboxCeiling::default()).unwrap();
        assert_eq!(placed.runner_id, "imaged");
        assert_eq!(placed.effective.spec.container_image, "python:3.12");
        assert_eq!(placed.rejections[0].reasons, [RejectionReason::NoImage]);
        assert_eq!(
            placed.rejections[0].reasons[0].to_string(),
            "no image: the request names none and this profile sets none"
        );
        // An image in the request goes anywhere; none anywhere fits nowhere.
        let named = request(json!({"command": "python", "containerImage": "node:22"}));
        let placed = place(&named, &runners, &SandboxCeiling::default()).unwrap();
        assert_eq!(placed.runner_id, "bare");
        let failure = place(&without, &runners[..1], &SandboxCeiling::default()).unwrap_err();
        assert_eq!(failure.rejections[0].reasons, [RejectionReason::NoImage]);
    }

    #[test]
    fn the_runner_with_most_free_cpu_wins_then_memory_then_id() {
        let runners = [
            runner("b", 8000, 16, 0, &[]),
            runner("a", 8000, 16, 0, &[]),
            runner("c", 4000, 64, 0, &[]),
        ];
        let placed = place(
            &request(json!({"command": "x", "containerImage": "i"})),
            &runners,
            &SandboxCeiling::default(),
        )
        .unwrap();
        assert_eq!(placed.runner_id, "a");
        assert_eq!(placed.profile_name, "agent");
        assert_eq!(
            placed.demand.cpu_millicores, 1000,
            "the profile's default applies"
        );
        assert_eq!(placed.demand.memory_bytes, 2 * GIB);
        assert!(placed.rejections.is_empty());
    }

    #[test]
    fn every_rejected_candidate_says_why() {
        let mut gpu = runner("gpu", 32_000, 128, 2, &["H100"]);
        Arc::make_mut(&mut gpu.bindings)[0].profile.instance_types = vec!["a100".into()];
        let mut down = runner("down", 64_000, 256, 0, &[]);
        down.connection_status = RunnerConnectionStatus::Disconnected;
        let small = runner("small", 500, 1, 0, &[]);
        let failure = place(
            &request(json!({"command": "x", "containerImage": "i",
                "resources": {"cpu": "2", "gpu": {"gpuCount": "4", "gpuType": "H100"}},
                "network": {"egressMode": "internet"}})),
            &[gpu, down, small],
            &SandboxCeiling::default(),
        )
        .unwrap_err();
        assert_eq!(failure.reason, Reason::NoSuitableRunner);
        let codes: Vec<(String, Vec<&str>)> = failure
            .rejections
            .iter()
            .map(|r| {
                (
                    r.candidate(),
                    r.reasons.iter().map(RejectionReason::code).collect(),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                (
                    "gpu/agent".into(),
                    vec![
                        "EGRESS_MODE_NOT_OFFERED",
                        "GPU_TYPE_OUTSIDE_PROFILE",
                        "INSUFFICIENT_GPU"
                    ]
                ),
                ("down/agent".into(), vec!["RUNNER_DISCONNECTED"]),
                (
                    "small/agent".into(),
                    vec![
                        "EGRESS_MODE_NOT_OFFERED",
                        "GPU_TYPE_NOT_SUPPORTED",
                        "INSUFFICIENT_CPU",
                        "INSUFFICIENT_MEMORY",
                        "INSUFFICIENT_GPU"
                    ]
                ),
            ]
        );
        let status = failure.to_status();
        assert_eq!(status.code, Code::FailedPrecondition);
        assert_eq!(status.reason(), Some("CWSANDBOX_NO_SUITABLE_RUNNER"));
        assert!(
            status
                .message
                .contains("small/agent: egress mode \"internet\" is not offered (offered: none)"),
            "{}",
            status.message
        );
        assert!(
            status
                .message
                .contains("needs 2.0 vCPU but 0.5 vCPU is free"),
            "{}",
            status.message
        );
    }

    #[test]
    fn naming_a_profile_uses_that_binding_and_mismatch_says_so() {
        let mut r = runner("r", 8000, 16, 0, &[]);
        Arc::make_mut(&mut r.bindings).push(binding(
            "web",
            false,
            json!({
                "networkConfigJson": json!({"ingress": {"public": {"scope": "any"}}}).to_string()
            }),
        ));
        let placed = place(
            &request(json!({"command": "x", "containerImage": "i", "profileNames": ["web"], "network": {"ingressMode": "public"}})),
            std::slice::from_ref(&r),
            &SandboxCeiling::default(),
        )
        .unwrap();
        assert_eq!(placed.profile_name, "web");
        let failure = place(
            &request(json!({"command": "x", "containerImage": "i", "profileNames": ["web"], "network": {"ingressMode": "private"}})),
            &[r.clone()],
            &SandboxCeiling::default(),
        )
        .unwrap_err();
        assert_eq!(failure.reason, Reason::ProfileMismatch);
        let failure = place(
            &request(json!({"command": "x", "containerImage": "i", "profileNames": ["nope"]})),
            &[r],
            &SandboxCeiling::default(),
        )
        .unwrap_err();
        assert_eq!(failure.rejections[0].reasons[0].code(), "PROFILE_NOT_BOUND");
    }

    #[test]
    fn the_ceiling_applies_even_when_a_runner_has_room() {
        let failure = place(
            &request(json!({"command": "x", "containerImage": "i", "resources": {"cpu": "20", "memory": "100Gi"}})),
            &[runner("big", 64_000, 512, 0, &[])],
            &SandboxCeiling::default(),
        )
        .unwrap_err();
        let reasons: Vec<String> = failure.rejections[0]
            .reasons
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            reasons,
            [
                "CPU 20.0 vCPU is above the per-sandbox limit of 16.0 vCPU",
                "memory 100.0 GiB is above the per-sandbox limit of 64.0 GiB"
            ]
        );
    }

    #[test]
    fn runner_ids_restrict_the_candidates() {
        let runners = [runner("a", 8000, 16, 0, &[]), runner("b", 1000, 2, 0, &[])];
        let placed = place(
            &request(json!({"command": "x", "containerImage": "i", "runnerIds": ["b"]})),
            &runners,
            &SandboxCeiling::default(),
        )
        .unwrap();
        assert_eq!(placed.runner_id, "b");
        let failure = place(
            &request(json!({"command": "x", "containerImage": "i", "runnerIds": ["zzz"]})),
            &runners,
            &SandboxCeiling::default(),
        )
        .unwrap_err();
        assert!(failure.to_status().message.contains("there are no runners"));
    }

    fn arbitrary_runner() -> impl Strategy<Value = CandidateRunner> {
        (
            Just(String::new()),
            0i64..20_000,
            0i64..40,
            0i64..5,
            prop::sample::subsequence(vec!["H100", "A100", "L40"], 0..3),
            any::<(bool, bool, bool)>(),
            prop::collection::vec(("[pq]", any::<bool>(), prop::sample::subsequence(vec!["none", "internet", "org"], 0..3), 0u32..4, prop::sample::subsequence(vec!["h100", "a100"], 0..2)), 0..3),
        )
            .prop_map(|(id, cpu, mem, gpus, types, (ready, connected, healthy), bindings)| CandidateRunner {
                runner_id: id,
                install_status: if ready { RunnerInstallStatus::Ready } else { RunnerInstallStatus::Provisioning },
                connection_status: if connected { RunnerConnectionStatus::Connected } else { RunnerConnectionStatus::Disconnected },
                healthy,
                available_cpu_millicores: cpu,
                available_memory_bytes: mem * GIB,
                available_gpus: gpus,
                gpu_types: types.into_iter().map(str::to_owned).collect(),
                zone_defaults: ProfileSpec::default(),
                bindings: bindings
                    .into_iter()
                    .map(|(name, is_default, modes, cpu, instance_types)| {
                        let modes: serde_json::Map<_, _> = modes.iter().map(|m| (m.to_string(), json!({"type": m}))).collect();
                        let default = modes.keys().next().cloned().unwrap_or_default();
                        binding(&name, is_default, json!({
                            "instanceTypes": instance_types,
                            "resourceDefaults": {"cpuRequest": cpu.to_string(), "memoryRequest": format!("{cpu}Gi")},
                            "networkConfigJson": json!({"egress": {"default": default, "modes": modes}}).to_string()
                        }))
                    })
                    .collect::<Vec<_>>()
                    .into(),
            })
    }

    fn arbitrary_request() -> impl Strategy<Value = StartSandboxRequest> {
        (
            prop::option::of(0u32..12),
            prop::option::of(0u32..30),
            0i64..4,
            prop::option::of(prop::sample::select(vec!["H100", "A100", "L40"])),
            prop::option::of(prop::sample::select(vec!["none", "internet", "org"])),
            prop::option::of(prop::sample::select(vec!["p", "q"])),
            prop::option::of(prop::sample::select(vec!["a", "b", "c"])),
        )
            .prop_map(|(cpu, mem, gpus, gpu_type, egress, profile, runner)| {
                request(json!({
                    "command": "x", "containerImage": "i",
                    "resources": {
                        "cpu": cpu.map(|c| c.to_string()).unwrap_or_default(),
                        "memory": mem.map(|m| format!("{m}Gi")).unwrap_or_default(),
                        "gpu": {"gpuCount": gpus.to_string(), "gpuType": gpu_type.unwrap_or_default()}},
                    "network": {"egressMode": egress.unwrap_or_default()},
                    "profileNames": profile.into_iter().collect::<Vec<_>>(),
                    "runnerIds": runner.into_iter().collect::<Vec<_>>(),
                }))
            })
    }

    proptest! {
        #[test]
        fn placement_never_breaks_a_constraint_and_explains_every_rejection(
            runners in prop::collection::vec(arbitrary_runner(), 0..6),
            request in arbitrary_request(),
        ) {
            // Runner IDs are unique within an organization.
            let runners: Vec<CandidateRunner> = runners
                .into_iter()
                .zip(["a", "b", "c", "d", "e", "f"])
                .map(|(runner, id)| CandidateRunner { runner_id: id.into(), ..runner })
                .collect();
            let ceiling = SandboxCeiling { cpu_millicores: 10_000, memory_bytes: 24 * GIB, gpus: 3 };
            let outcome = place(&request, &runners, &ceiling);
            let rejections = match &outcome {
                Ok(placed) => {
                    let runner = runners.iter().find(|r| r.runner_id == placed.runner_id).unwrap();
                    prop_assert_eq!(runner.install_status, RunnerInstallStatus::Ready);
                    prop_assert_eq!(runner.connection_status, RunnerConnectionStatus::Connected);
                    prop_assert!(runner.healthy);
                    let demand = &placed.demand;
                    prop_assert!(demand.cpu_millicores <= runner.available_cpu_millicores.min(ceiling.cpu_millicores));
                    prop_assert!(demand.memory_bytes <= runner.available_memory_bytes.min(ceiling.memory_bytes));
                    prop_assert!(demand.gpus <= runner.available_gpus.min(ceiling.gpus));
                    if !demand.gpu_type.is_empty() {
                        prop_assert!(runner.gpu_types.contains(&demand.gpu_type));
                    }
                    if !demand.egress_mode.is_empty() {
                        let network: serde_json::Value = serde_json::from_str(&placed.effective.spec.network_config_json).unwrap();
                        prop_assert!(network["egress"]["modes"].get(&demand.egress_mode).is_some());
                    }
                    if !request.runner_ids.is_empty() {
                        prop_assert!(request.runner_ids.contains(&placed.runner_id));
                    }
                    if !request.profile_names.is_empty() {
                        prop_assert!(request.profile_names.contains(&placed.profile_name));
                    }
                    &placed.rejections
                }
                Err(failure) => &failure.rejections,
            };
            for rejection in rejections {
                prop_assert!(!rejection.reasons.is_empty(), "{:?}", rejection);
            }
            // Every runner in scope is either the choice, explained, or another fit.
            for runner in runners.iter().filter(|r| request.runner_ids.is_empty() || request.runner_ids.contains(&r.runner_id)) {
                let chosen = outcome.as_ref().is_ok_and(|p| p.runner_id == runner.runner_id);
                let explained = rejections.iter().any(|r| r.runner_id == runner.runner_id);
                if !chosen && !explained {
                    // Not chosen and not explained: it must be a fit that lost on ranking.
                    let alone = StartSandboxRequest { runner_ids: vec![runner.runner_id.clone()], ..request.clone() };
                    let placed = place(&alone, &runners, &ceiling);
                    prop_assert!(placed.is_ok(), "{} neither chosen, explained nor a fit", runner.runner_id);
                }
            }
            // The same input always gives the same answer.
            prop_assert_eq!(place(&request, &runners, &ceiling), outcome);
        }
    }
}
