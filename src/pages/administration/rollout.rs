//! Rolling out a new version of a profile: on the chosen runners, one at a time, the
//! binding of profile A is replaced by one of profile B (same alias, default flag and
//! overrides), each with the runner's etag. The first failure stops the rollout, so a
//! bad version never reaches more than one runner.

use leptos::prelude::*;
use leptos_router::components::A;
use sandbox_api::binding::replace_template;
use sandbox_api::format::format_enum;
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::runner::{Runner, RunnerConnectionStatus, RunnerInstallStatus};

use crate::api::{Api, ApiError, use_api};
use crate::components::admin_only::AdminOnly;
use crate::components::error_panel::ErrorPanel;

#[component]
pub fn RolloutPage() -> impl IntoView {
    let api = use_api();
    let data = LocalResource::new(move || {
        let api = api.clone();
        async move {
            let (templates, runners) = futures_util::future::join(
                api.list_profile_templates(),
                api.list_managed_runners(),
            )
            .await;
            Ok::<_, ApiError>((templates?, runners?))
        }
    });
    view! {
        <section class="page" aria-labelledby="rollout-heading">
            <header class="page-header">
                <h1 id="rollout-heading">"Roll out a profile version"</h1>
            </header>
            <p class="hint">"Replaces one profile's binding with another's on each chosen runner, one runner at a time, keeping its alias, default and overrides. The first failure stops the rollout."</p>
            <AdminOnly what="roll out profiles">
                {move || match data.get() {
                    None => view! { <p class="loading" role="status">"Loading profiles and runners…"</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorPanel title="Could not load profiles and runners" error /> }.into_any(),
                    Some(Ok((templates, runners))) => view! { <Rollout templates runners /> }.into_any(),
                }}
            </AdminOnly>
        </section>
    }
}

/// How one runner's step went.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Waiting,
    Replacing,
    Done,
    Failed(String),
    /// Not tried, because an earlier runner failed.
    Skipped,
}

fn runner_id(runner: &Runner) -> String {
    runner
        .identity
        .as_ref()
        .map(|i| i.runner_id.clone())
        .unwrap_or_default()
}

/// What an administrator should know before changing runner `id`: an install that is
/// not ready or a runner not heard from (a binding change waits for it).
fn runner_note(runners: StoredValue<Vec<Runner>>, id: &str) -> Option<String> {
    runners.with_value(|all| {
        let runner = all.iter().find(|r| runner_id(r) == id)?;
        if runner.install_status != RunnerInstallStatus::Ready {
            Some(format!(
                "install {}",
                format_enum(runner.install_status.as_str(), "RUNNER_INSTALL_STATUS_")
                    .to_ascii_lowercase()
            ))
        } else if runner.connection_status != RunnerConnectionStatus::Connected {
            Some("disconnected".to_owned())
        } else {
            None
        }
    })
}

/// Replaces `from` with `to` on one runner, as it is now.
async fn replace_on(api: &Api, id: &str, from: &str, to: &str) -> Result<(), String> {
    let runner = api
        .get_managed_runner(id)
        .await
        .map_err(|e| e.to_string())?;
    let bindings = replace_template(&runner.profile_bindings, from, to)?;
    api.update_bindings(id, bindings, &runner.etag)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[component]
fn Rollout(templates: Vec<ProfileTemplate>, runners: Vec<Runner>) -> impl IntoView {
    let api = use_api();
    let templates = StoredValue::new(templates);
    let runners = StoredValue::new(runners);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    // The runners binding `from` (and not yet `to`), with whether each is chosen.
    let candidates = Memo::new(move |_| {
        let (from, to) = (from.get(), to.get());
        runners.with_value(|all| {
            all.iter()
                .filter(|r| {
                    r.profile_bindings
                        .iter()
                        .any(|b| b.profile_template_id == from)
                })
                .filter(|r| {
                    !r.profile_bindings
                        .iter()
                        .any(|b| b.profile_template_id == to)
                })
                .map(runner_id)
                .collect::<Vec<_>>()
        })
    });
    let chosen = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| chosen.set(candidates.get()));
    let steps = RwSignal::new(Vec::<(String, Step)>::new());
    let running = RwSignal::new(false);
    let start = move |_| {
        let (from, to) = (from.get_untracked(), to.get_untracked());
        let order = chosen.get_untracked();
        steps.set(order.iter().map(|id| (id.clone(), Step::Waiting)).collect());
        running.set(true);
        let api = api.clone();
        leptos::task::spawn_local(async move {
            let set = |i: usize, step: Step| steps.update(|s| s[i].1 = step);
            let mut failed = false;
            for (i, id) in order.iter().enumerate() {
                if failed {
                    set(i, Step::Skipped);
                    continue;
                }
                set(i, Step::Replacing);
                match replace_on(&api, id, &from, &to).await {
                    Ok(()) => set(i, Step::Done),
                    Err(reason) => {
                        set(i, Step::Failed(reason));
                        failed = true;
                    }
                }
            }
            running.set(false);
        });
    };
    let options = move |exclude: String| {
        templates.with_value(|all| {
            all.iter()
                .filter(|t| t.id != exclude)
                .map(|t| view! { <option value=t.id.clone()>{t.display_name.clone()}</option> })
                .collect_view()
        })
    };
    let ready = move || {
        !from.with(String::is_empty)
            && !to.with(String::is_empty)
            && !chosen.with(Vec::is_empty)
            && !running.get()
    };
    view! {
        <div class="form-grid">
            <div class="field">
                <label for="rollout-from">"Replace profile"</label>
                <select id="rollout-from" prop:value=from on:change=move |ev| from.set(event_target_value(&ev)) disabled=move || running.get()>
                    <option value="">"Choose the current version…"</option>
                    {move || options(to.get())}
                </select>
            </div>
            <div class="field">
                <label for="rollout-to">"With profile"</label>
                <select id="rollout-to" prop:value=to on:change=move |ev| to.set(event_target_value(&ev)) disabled=move || running.get()>
                    <option value="">"Choose the new version…"</option>
                    {move || options(from.get())}
                </select>
            </div>
        </div>
        {move || {
            let ids = candidates.get();
            if from.with(String::is_empty) {
                return view! { <p class="hint">"Choose the profile to replace."</p> }.into_any();
            }
            if ids.is_empty() {
                return view! { <p class="hint">"No runner binds it without already binding the new version."</p> }.into_any();
            }
            view! {
                <fieldset class="rollout-runners">
                    <legend>"Runners, in this order"</legend>
                    {ids.into_iter().map(|id| {
                        let checked_id = id.clone();
                        let toggled = id.clone();
                        view! {
                            <label class="field checkbox">
                                <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&checked_id)) on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| *x != toggled);
                                        if on {
                                            c.push(toggled.clone());
                                        }
                                    });
                                } disabled=move || running.get() />
                                " " {id.clone()}
                                {runner_note(runners, &id).map(|note| view! { <span class="hint">{format!(" ({note})")}</span> })}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            }
            .into_any()
        }}
        <div class="form-actions">
            <button type="button" class="button primary" disabled=move || !ready() on:click=start>
                {move || if running.get() { "Rolling out…" } else { "Start the rollout" }}
            </button>
        </div>
        {move || {
            let steps = steps.get();
            (!steps.is_empty()).then(|| {
                let done = steps.iter().filter(|(_, s)| *s == Step::Done).count();
                let total = steps.len();
                let stopped = steps.iter().any(|(_, s)| matches!(s, Step::Failed(_)));
                let progress = if stopped {
                    format!("Stopped at the first failure: {done} of {total} runners done")
                } else {
                    format!("{done} of {total} runners done")
                };
                view! {
                    <p class="rollout-progress" role="status">{progress}</p>
                    <ol class="rollout-steps">
                        {steps.into_iter().map(|(id, step)| {
                            let (class, text) = match step {
                                Step::Waiting => ("todo", "waiting".to_owned()),
                                Step::Replacing => ("current", "replacing…".to_owned()),
                                Step::Done => ("done", "done".to_owned()),
                                Step::Failed(reason) => ("failed", format!("failed: {reason}")),
                                Step::Skipped => ("todo", "not started: the rollout stopped".to_owned()),
                            };
                            view! {
                                <li class=class>
                                    <A href=format!("/managed-runners/{id}")>{id.clone()}</A>
                                    " — " {text}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }
            })
        }}
    }
}
