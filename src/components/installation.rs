//! A managed runner's installation: install and connection status, revisions, the
//! install error with its remediation hints, and (for administrators) applying an
//! available update, followed until the runner runs the new revision.

use std::time::Duration;

use leptos::prelude::*;
use sandbox_api::format::format_enum;
use sandbox_api::runner::{InstallError, Runner, RunnerConnectionStatus, RunnerInstallStatus};

use crate::api::use_api;
use crate::components::admin_only::AdminOnly;
use crate::components::error_panel::ErrorPanel;
use crate::components::toasts::use_toasts;
use crate::connectivity::use_connectivity;
use crate::repeat;

/// How often to look again while an install or a rollout is under way.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Whether the runner is changing on its own, so the card should keep looking.
fn in_motion(runner: &Runner) -> bool {
    runner.rollout_in_progress
        || matches!(
            runner.install_status,
            RunnerInstallStatus::Pending
                | RunnerInstallStatus::Provisioning
                | RunnerInstallStatus::Deleting
        )
}

/// The runner's release channel, as a person reads it.
pub fn channel_text(runner: &Runner) -> String {
    runner
        .managed_spec
        .as_ref()
        .map(|s| format_enum(s.release_channel.as_str(), "RELEASE_CHANNEL_"))
        .unwrap_or_default()
}

/// The revision the runner runs, and the one it is moving to during a rollout.
pub fn revision_text(active: i64, target: i64, rolling_out: bool) -> String {
    if rolling_out {
        format!("{active} → {target} (rolling out)")
    } else {
        active.to_string()
    }
}

/// A failed install: what happened, its reason code, and how to fix it.
#[component]
pub fn InstallFailure(#[prop(into)] title: String, error: InstallError) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <p class="error-title">{title}</p>
            <p class="error-message">{error.message}</p>
            <p class="error-reason">"Reason: " <code>{error.reason}</code></p>
            <ul class="violations" aria-label="How to fix it">
                {error.remediation_hints.into_iter().map(|hint| view! { <li>{hint}</li> }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
pub fn Installation(runner_id: String) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let connectivity = use_connectivity();
    let refreshes = RwSignal::new(0u64);
    let managed = {
        let (api, id) = (api.clone(), runner_id.clone());
        LocalResource::new(move || {
            refreshes.track();
            connectivity.recoveries();
            let (api, id) = (api.clone(), id.clone());
            async move { api.get_managed_runner(&id).await }
        })
    };
    repeat::every(FOLLOW_EVERY, move || {
        let moving = managed.with_untracked(|m| matches!(m, Some(Ok(runner)) if in_motion(runner)));
        if moving {
            refreshes.update(|n| *n += 1);
        }
    });
    let confirming = RwSignal::new(false);
    let apply = Action::new_local(move |id: &String| {
        let (api, id) = (api.clone(), id.clone());
        async move { api.apply_update(&id).await }
    });
    Effect::new(move |_| match apply.value().get() {
        Some(Ok(runner)) => {
            let id = runner
                .identity
                .as_ref()
                .map(|i| i.runner_id.clone())
                .unwrap_or_default();
            toasts.success(format!(
                "Updating {id} to revision {}",
                runner.target_revision
            ));
            refreshes.update(|n| *n += 1);
        }
        Some(Err(error)) => toasts.failure(format!("Could not apply the update: {error}")),
        None => {}
    });

    move || {
        let runner_id = runner_id.clone();
        match managed.get() {
            None => view! { <p class="loading" role="status">"Loading the installation…"</p> }
                .into_any(),
            Some(Err(error)) => {
                view! { <ErrorPanel title="Could not load the installation" error /> }.into_any()
            }
            Some(Ok(runner)) => {
                let install = format_enum(runner.install_status.as_str(), "RUNNER_INSTALL_STATUS_");
                let connection = format_enum(
                    runner.connection_status.as_str(),
                    "RUNNER_CONNECTION_STATUS_",
                );
                let connected = runner.connection_status == RunnerConnectionStatus::Connected;
                let channel = channel_text(&runner);
                let revisions = revision_text(
                    runner.active_revision,
                    runner.target_revision,
                    runner.rollout_in_progress,
                );
                let update_available = runner.update_available;
                view! {
                    <dl class="facts">
                        <dt>"Install"</dt>
                        <dd class="install-status">{install}</dd>
                        <dt>"Connection"</dt>
                        <dd>
                            <span class=if connected { "status ok" } else { "status bad" }>{connection}</span>
                        </dd>
                        <dt>"Release channel"</dt>
                        <dd>{channel}</dd>
                        <dt>"Revision"</dt>
                        <dd class="revision">{revisions}</dd>
                    </dl>
                    {runner.install_error.map(|error| view! { <InstallFailure title="The install failed" error /> })}
                    {update_available.then(|| view! {
                        <p class="hint">"A newer release of this channel is available."</p>
                        <AdminOnly what="apply updates">
                            {
                                let runner_id = runner_id.clone();
                                move || {
                                    let runner_id = runner_id.clone();
                                    if confirming.get() {
                                        view! {
                                            <div class="confirm" role="group" aria-label="Confirm the update">
                                                <p>"Move this runner to the newest release of its channel now? Its sandboxes keep running."</p>
                                                <button class="button primary" disabled=move || apply.pending().get() on:click=move |_| {
                                                    confirming.set(false);
                                                    apply.dispatch(runner_id.clone());
                                                }>"Apply update"</button>
                                                <button class="button quiet" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                            </div>
                                        }
                                        .into_any()
                                    } else {
                                        view! {
                                            <button class="button" disabled=move || apply.pending().get() on:click=move |_| confirming.set(true)>
                                                "Apply update…"
                                            </button>
                                        }
                                        .into_any()
                                    }
                                }
                            }
                        </AdminOnly>
                    })}
                }
                .into_any()
            }
        }
    }
}
