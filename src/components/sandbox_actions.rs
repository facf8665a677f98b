//! Stop and Delete for a sandbox, each behind a confirmation: Stop asks for the grace
//! period between SIGTERM and SIGKILL; Delete says it cannot be undone. The state lives
//! in [`SandboxChanges`], made once per page, so that a list that refreshes its rows
//! keeps an open confirmation and a change in flight.

use leptos::prelude::*;

use crate::api::{ApiError, use_api};
use crate::components::error_panel::ErrorPanel;
use crate::components::toasts::use_toasts;

/// The grace period a stop offers first (the platform's default).
const DEFAULT_GRACE_SECONDS: i32 = 10;
/// The longest grace period the console asks for (local decision).
const MAX_GRACE_SECONDS: i32 = 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Stop,
    Delete,
}

type ChangeAction = Action<(String, Change, i32), (String, Change, Result<(), ApiError>)>;

/// A page's confirmations and changes to its sandboxes.
#[derive(Clone, Copy)]
pub struct SandboxChanges {
    /// Which confirmation is open, for which sandbox.
    open: RwSignal<Option<(String, Change)>>,
    /// The grace period as typed.
    grace: RwSignal<String>,
    act: ChangeAction,
}

impl SandboxChanges {
    /// The page's changes; `done` runs after each one that succeeded.
    pub fn new(done: impl Fn(&str, Change) + 'static) -> SandboxChanges {
        let api = use_api();
        let toasts = use_toasts();
        let open = RwSignal::new(None::<(String, Change)>);
        let act: ChangeAction =
            Action::new_local(move |(id, change, grace): &(String, Change, i32)| {
                let (api, id, change, grace) = (api.clone(), id.clone(), *change, *grace);
                async move {
                    let result = match change {
                        Change::Stop => api.stop_sandbox(&id, grace).await,
                        Change::Delete => api.delete_sandbox(&id).await,
                    };
                    (id, change, result)
                }
            });
        Effect::new(move |_| {
            if let Some((id, change, Ok(()))) = act.value().get() {
                toasts.success(match change {
                    Change::Stop => format!("Stopping {id}"),
                    Change::Delete => format!("Deleted {id}"),
                });
                open.set(None);
                done(&id, change);
            }
        });
        SandboxChanges {
            open,
            grace: RwSignal::new(DEFAULT_GRACE_SECONDS.to_string()),
            act,
        }
    }
}

/// The grace period as typed: whole seconds from 1 to [`MAX_GRACE_SECONDS`].
fn read_grace(text: &str) -> Result<i32, String> {
    match text.trim().parse::<i32>() {
        Ok(seconds) if (1..=MAX_GRACE_SECONDS).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "The grace period is a whole number of seconds from 1 to {MAX_GRACE_SECONDS}."
        )),
    }
}

/// Stop (while it runs) and Delete (once it has ended, or always with `delete_running`)
/// for sandbox `sandbox_id`, each opening its confirmation.
#[component]
pub fn SandboxActions(
    changes: SandboxChanges,
    sandbox_id: String,
    running: bool,
    /// Offer Delete while the sandbox runs too (it is stopped first).
    #[prop(optional)]
    delete_running: bool,
) -> impl IntoView {
    let SandboxChanges { open, grace, act } = changes;
    let is_open = {
        let id = sandbox_id.clone();
        move |change: Change| {
            open.with(|o| o.as_ref().is_some_and(|(i, c)| *i == id && *c == change))
        }
    };
    let toggle = {
        let id = sandbox_id.clone();
        move |change: Change| {
            let id = id.clone();
            move |_| {
                open.update(|o| {
                    *o = match o {
                        Some((i, c)) if *i == id && *c == change => None,
                        _ => Some((id.clone(), change)),
                    }
                })
            }
        }
    };
    let failure = {
        let id = sandbox_id.clone();
        move |change: Change| {
            let id = id.clone();
            move || {
                act.value().get().and_then(|(i, c, result)| {
                    (i == id && c == change).then_some(result.err()).flatten()
                })
            }
        }
    };
    let (stop_failure, delete_failure) = (failure(Change::Stop), failure(Change::Delete));
    let problem = move || read_grace(&grace.get()).err();
    let (stop_id, delete_id) = (sandbox_id.clone(), sandbox_id.clone());
    let grace_id = format!("grace-{sandbox_id}");
    let stop_open = is_open.clone();
    let delete_open = is_open.clone();
    // Escape closes an open confirmation, as it would a dialog.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            open.set(None);
        }
    };
    view! {
        <span class="sandbox-actions" on:keydown=on_key>
        {running.then(|| view! {
            <button type="button" class="button" aria-label=format!("Stop {sandbox_id}")
                aria-expanded={let is_open = is_open.clone(); move || is_open(Change::Stop).to_string()}
                on:click=toggle.clone()(Change::Stop)>"Stop…"</button>
        })}
        {(!running || delete_running).then(|| view! {
            <button type="button" class="button quiet" aria-label=format!("Delete {sandbox_id}")
                aria-expanded={let is_open = is_open.clone(); move || is_open(Change::Delete).to_string()}
                on:click=toggle.clone()(Change::Delete)>"Delete…"</button>
        })}
        <Show when=move || stop_open(Change::Stop)>
            <div class="confirm popover" role="alertdialog" aria-label=format!("Stop sandbox {stop_id}?")>
                <p>"Stop it? Its processes get SIGTERM, then SIGKILL after the grace period."</p>
                <div class="field">
                    <label for=grace_id.clone()>"Grace period (seconds)"</label>
                    <input id=grace_id.clone() type="number" min="1" max=MAX_GRACE_SECONDS.to_string() inputmode="numeric"
                        prop:value=move || grace.get() on:input=move |ev| grace.set(event_target_value(&ev)) />
                </div>
                {move || problem().map(|p| view! { <p class="field-error" role="status">{p}</p> })}
                {
                    let failure = stop_failure.clone();
                    move || failure().map(|error| view! { <ErrorPanel title="The sandbox was not stopped" error /> })
                }
                <div class="confirm-actions">
                    <button type="button" class="button danger"
                        disabled=move || act.pending().get() || problem().is_some()
                        on:click={
                            let id = stop_id.clone();
                            move |_| {
                                if let Ok(seconds) = read_grace(&grace.get_untracked()) {
                                    act.dispatch((id.clone(), Change::Stop, seconds));
                                }
                            }
                        }>"Stop"</button>
                    <button type="button" class="button quiet" on:click=move |_| open.set(None)>"Cancel"</button>
                </div>
            </div>
        </Show>
        <Show when=move || delete_open(Change::Delete)>
            <div class="confirm popover" role="alertdialog" aria-label=format!("Delete sandbox {delete_id}?")>
                <p>{if running { "Delete it? It is stopped at once, and it and its log are gone for good." } else { "Delete it and its log? This cannot be undone." }}</p>
                {
                    let failure = delete_failure.clone();
                    move || failure().map(|error| view! { <ErrorPanel title="The sandbox was not deleted" error /> })
                }
                <div class="confirm-actions">
                    <button type="button" class="button danger" disabled=move || act.pending().get()
                        on:click={
                            let id = delete_id.clone();
                            move |_| { act.dispatch((id.clone(), Change::Delete, 0)); }
                        }>"Delete"</button>
                    <button type="button" class="button quiet" on:click=move |_| open.set(None)>"Cancel"</button>
                </div>
            </div>
        </Show>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grace_period_is_a_whole_number_of_seconds_within_bounds() {
        assert_eq!(read_grace("10"), Ok(10));
        assert_eq!(read_grace(" 3600 "), Ok(3600));
        for bad in ["", "0", "-1", "1.5", "ten", "3601"] {
            assert!(read_grace(bad).is_err(), "{bad:?}");
        }
    }
}
