//! The settings every runner has and an administrator may change: display name, zone,
//! runner group, release channel and maintenance windows (cron and length, with the
//! next openings shown). Edits a `Runner` in place; creating adds the runner ID,
//! cluster and bindings around it. Problems come from `sandbox_api::runner_rules` and
//! from the server, both by field path, and show under their field.

use leptos::prelude::*;
use sandbox_api::maintenance::{CronSchedule, describe_window};
use sandbox_api::runner::{
    MaintenancePolicy, MaintenanceWindow, ManagedSpec, ReleaseChannel, Runner, RunnerIdentity,
};
use time::OffsetDateTime;

use crate::components::field::TextField;

/// How many upcoming openings a window lists.
const NEXT_OPENINGS: usize = 3;

/// Messages by field path (`runner.identity.zone`) for the fields of a form.
#[derive(Clone, Copy)]
pub struct FieldProblems(pub Signal<Vec<(String, String)>>);

impl FieldProblems {
    /// What is wrong with `field` and everything under it.
    pub fn at(self, field: impl Into<String>) -> impl IntoView {
        self.matching(field.into(), true)
    }

    /// What is wrong with `field` itself, not its parts.
    pub fn only(self, field: impl Into<String>) -> impl IntoView {
        self.matching(field.into(), false)
    }

    fn matching(self, field: String, with_parts: bool) -> impl IntoView {
        move || {
            self.0.with(|problems| {
                problems
                    .iter()
                    .filter(|(path, _)| {
                        *path == field
                            || with_parts
                                && path
                                    .strip_prefix(field.as_str())
                                    .is_some_and(|rest| rest.starts_with(['.', '[']))
                    })
                    .map(|(_, message)| view! { <p class="field-error">{message.clone()}</p> })
                    .collect_view()
            })
        }
    }
}

pub fn identity(runner: &mut Runner) -> &mut RunnerIdentity {
    runner.identity.get_or_insert_with(Default::default)
}

fn spec(runner: &mut Runner) -> &mut ManagedSpec {
    runner.managed_spec.get_or_insert_with(Default::default)
}

fn policy(runner: &mut Runner) -> &mut MaintenancePolicy {
    spec(runner)
        .maintenance_policy
        .get_or_insert_with(Default::default)
}

/// A text field bound to one string of the runner.
#[component]
pub fn RunnerTextField(
    runner: RwSignal<Runner>,
    id: &'static str,
    label: &'static str,
    field: fn(&mut Runner) -> &mut String,
    problems: FieldProblems,
    problem_path: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    view! {
        <TextField id label placeholder
            value=Signal::derive(move || field(&mut runner.get()).clone())
            on_input=Callback::new(move |value| runner.update(|r| *field(r) = value))
            on_change=Callback::new(move |value: String| runner.update(|r| *field(r) = value.trim().to_owned()))>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            {problems.at(problem_path)}
        </TextField>
    }
}

#[component]
pub fn RunnerSettings(runner: RwSignal<Runner>, problems: FieldProblems) -> impl IntoView {
    let channel = move || {
        runner.with(|r| {
            r.managed_spec
                .as_ref()
                .map(|s| s.release_channel)
                .unwrap_or_default()
        })
    };
    view! {
        <div class="form-grid">
            <RunnerTextField runner id="runner-display-name" label="Display name" field=|r| &mut r.display_name problems problem_path="runner.display_name" />
            <RunnerTextField runner id="runner-zone" label="Zone" field=|r| &mut identity(r).zone problems problem_path="runner.identity.zone" placeholder="us-east-04a" />
            <RunnerTextField runner id="runner-group" label="Runner group" field=|r| &mut identity(r).runner_group_id problems problem_path="runner.identity.runner_group_id" hint="Optional: runners of one group are picked together." />
            <div class="field">
                <label for="runner-channel">"Release channel"</label>
                <select
                    id="runner-channel"
                    prop:value=move || channel().as_str()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        let chosen = if value == ReleaseChannel::Rapid.as_str() { ReleaseChannel::Rapid } else { ReleaseChannel::Stable };
                        runner.update(|r| spec(r).release_channel = chosen);
                    }
                >
                    <option value=ReleaseChannel::Stable.as_str()>"Stable"</option>
                    <option value=ReleaseChannel::Rapid.as_str()>"Rapid (newer releases sooner)"</option>
                </select>
                {problems.at("runner.managed_spec.release_channel")}
            </div>
        </div>
        <MaintenanceWindows runner problems />
    }
}

/// The windows in which the platform may update the runner; none means any time.
#[component]
fn MaintenanceWindows(runner: RwSignal<Runner>, problems: FieldProblems) -> impl IntoView {
    let count = move || {
        runner.with(|r| {
            r.managed_spec
                .as_ref()
                .and_then(|s| s.maintenance_policy.as_ref())
                .map_or(0, |p| p.windows.len())
        })
    };
    let add = move |_| {
        runner.update(|r| {
            policy(r).windows.push(MaintenanceWindow {
                cron: "0 3 * * sun".into(),
                duration_seconds: 2 * 3600,
            })
        })
    };
    view! {
        <fieldset class="maintenance">
            <legend>"Maintenance windows"</legend>
            <p class="hint">"When updates may start, as cron expressions in UTC (minute hour day-of-month month day-of-week). Without a window, any time."</p>
            <For each=move || 0..count() key=|i| *i let:index>
                <WindowRow runner index problems />
            </For>
            <button type="button" class="button" on:click=add>"Add a window"</button>
        </fieldset>
    }
}

#[component]
fn WindowRow(runner: RwSignal<Runner>, index: usize, problems: FieldProblems) -> impl IntoView {
    let window = Memo::new(move |_| {
        runner.with(|r| {
            r.managed_spec
                .as_ref()
                .and_then(|s| s.maintenance_policy.as_ref())
                .and_then(|p| p.windows.get(index).cloned())
                .unwrap_or_default()
        })
    });
    let edit = move |change: &dyn Fn(&mut MaintenanceWindow)| {
        runner.update(|r| {
            if let Some(window) = policy(r).windows.get_mut(index) {
                change(window);
            }
        })
    };
    let cron_id = format!("window-cron-{index}");
    let length_id = format!("window-length-{index}");
    let openings = move || {
        let window = window.get();
        let Ok(schedule) = CronSchedule::parse(&window.cron) else {
            return None;
        };
        let now = OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let next = schedule.next_occurrences(now, NEXT_OPENINGS);
        Some(if next.is_empty() {
            view! { <p class="hint warning">"This expression matches no time in the next five years."</p> }.into_any()
        } else {
            view! {
                <ul class="openings" aria-label=format!("Next openings of window {}", index + 1)>
                    {next.into_iter().map(|at| view! { <li>{describe_window(at, window.duration_seconds)}</li> }).collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    let path = format!("runner.managed_spec.maintenance_policy.windows[{index}]");
    let (cron_path, length_path) = (format!("{path}.cron"), format!("{path}.duration_seconds"));
    view! {
        <div class="form-row window" role="group" aria-label=format!("Window {}", index + 1)>
            <div class="field">
                <label for=cron_id.clone()>"Starts (cron)"</label>
                <input id=cron_id type="text" class="code" prop:value=move || window.get().cron
                    on:input=move |ev| {
                        let cron = event_target_value(&ev);
                        edit(&|w| w.cron = cron.clone());
                    }
                    on:change=move |ev| {
                        let cron = event_target_value(&ev).trim().to_owned();
                        edit(&|w| w.cron = cron.clone());
                    }
                />
                {problems.at(cron_path)}
            </div>
            <div class="field">
                <label for=length_id.clone()>"Length (minutes)"</label>
                <input id=length_id type="number" min="1" prop:value=move || (window.get().duration_seconds / 60).to_string() on:input=move |ev| {
                    let minutes = event_target_value(&ev).trim().parse::<i64>().unwrap_or(0);
                    edit(&|w| w.duration_seconds = minutes.saturating_mul(60));
                } />
                {problems.at(length_path)}
            </div>
            <button type="button" class="button quiet" aria-label=format!("Remove window {}", index + 1) on:click=move |_| runner.update(|r| {
                let windows = &mut policy(r).windows;
                if index < windows.len() {
                    windows.remove(index);
                }
            })>"Remove"</button>
            {openings}
        </div>
    }
}
