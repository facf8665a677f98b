//! A runner's profile bindings, edited as a list and applied as one change. The API
//! replaces the whole list on every update, so nothing is sent until a review has
//! shown exactly what will be attached, detached and changed; the default is a single
//! choice, and the rules of `sandbox_api::binding` (at least one binding, exactly one
//! default, each profile once, valid aliases and overrides) are checked before anything
//! can be applied. The runner's etag goes with the change: when someone changed the
//! bindings meanwhile, their change is shown and mine can be replayed on it.

use std::collections::BTreeMap;

use leptos::prelude::*;
use sandbox_api::binding::{
    BindingDiff, Rebased, diff_bindings, effective_name, rebase_bindings, validate_bindings,
};
use sandbox_api::field_path::FieldPath;
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::runner::{ProfileBinding, Runner};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, use_api};
use crate::components::binding_list::{BindingList, Templates, template_name};
use crate::components::error_panel::ErrorPanel;
use crate::components::toasts::use_toasts;
use crate::drafts;

#[component]
pub fn BindingManager(
    runner_id: String,
    /// Told after a change is applied, so the page can show its effect elsewhere.
    on_applied: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let data = LocalResource::new({
        let (api, runner_id) = (api.clone(), runner_id.clone());
        move || {
            let (api, runner_id) = (api.clone(), runner_id.clone());
            async move {
                let (runner, templates) = futures_util::future::join(
                    api.get_managed_runner(&runner_id),
                    api.list_profile_templates(),
                )
                .await;
                Ok::<_, ApiError>((runner?, templates?))
            }
        }
    });
    view! {
        <section class="card binding-manager" aria-labelledby="bindings-heading">
            <h2 id="bindings-heading">"Profile bindings"</h2>
            {move || match data.get() {
                None => view! { <p class="loading" role="status">"Loading the bindings…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load the bindings" error /> }.into_any(),
                Some(Ok((runner, templates))) => view! { <BindingEditor runner templates on_applied /> }.into_any(),
            }}
        </section>
    }
}

/// The lines of a review: what replacing `before` with `after` does, in words.
pub fn describe_diff(diff: &BindingDiff, templates: Templates) -> Vec<(&'static str, String)> {
    let name =
        |b: &ProfileBinding| effective_name(b, &template_name(templates, &b.profile_template_id));
    let mut lines: Vec<(&'static str, String)> = Vec::new();
    lines.extend(diff.attached.iter().map(|b| {
        let default = if b.is_default { " (default)" } else { "" };
        ("attach", format!("Attach {}{default}", name(b)))
    }));
    lines.extend(
        diff.detached
            .iter()
            .map(|b| ("detach", format!("Detach {}", name(b)))),
    );
    lines.extend(diff.updated.iter().map(|(before, after)| {
        let mut changes = Vec::new();
        if before.profile_name != after.profile_name {
            changes.push(format!(
                "alias {:?} → {:?}",
                before.profile_name, after.profile_name
            ));
        }
        if before.is_default != after.is_default {
            changes.push(if after.is_default {
                "becomes the default".to_owned()
            } else {
                "is no longer the default".to_owned()
            });
        }
        if before.overrides_json != after.overrides_json {
            changes.push("overrides change".to_owned());
        }
        (
            "update",
            format!("Update {}: {}", name(before), changes.join(", ")),
        )
    }));
    lines
}

#[component]
fn DiffList(lines: Vec<(&'static str, String)>, #[prop(into)] label: String) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="hint">"Nothing has changed."</p> }.into_any();
    }
    view! {
        <ul class="binding-review" aria-label=label>
            {lines.into_iter().map(|(kind, text)| view! { <li class=kind>{text}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The runner as the server had it when the change I am making started.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
struct Base {
    bindings: Vec<ProfileBinding>,
    etag: String,
}

/// An unapplied edit, kept across reloads with the version it started from, so that
/// applying it after a reload still meets any change made meanwhile, and with any
/// overrides text that does not read yet.
#[derive(Serialize, Deserialize)]
struct Draft {
    base: Base,
    bindings: Vec<ProfileBinding>,
    #[serde(default)]
    unread_overrides: BTreeMap<String, String>,
}

fn draft_key(runner_id: &str) -> String {
    format!("bindings:{runner_id}")
}

/// Someone else's change, found when mine was refused.
#[derive(Clone)]
struct Conflict {
    theirs: Runner,
    their_change: Vec<(&'static str, String)>,
}

#[component]
fn BindingEditor(
    runner: Runner,
    templates: Vec<ProfileTemplate>,
    on_applied: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let templates: Templates = StoredValue::new(templates);
    let runner_id = runner
        .identity
        .as_ref()
        .map(|i| i.runner_id.clone())
        .unwrap_or_default();
    let key = draft_key(&runner_id);
    let saved = drafts::load_json::<Draft>(&key);
    let restored = saved.is_some();
    let (base, draft, unread) = match saved {
        Some(Draft {
            base,
            bindings,
            unread_overrides,
        }) => (base, bindings, unread_overrides),
        None => (
            Base {
                bindings: runner.profile_bindings.clone(),
                etag: runner.etag.clone(),
            },
            runner.profile_bindings.clone(),
            BTreeMap::new(),
        ),
    };
    let (base, draft) = (RwSignal::new(base), RwSignal::new(draft));
    let unread_overrides = RwSignal::new(unread);
    Effect::new(move |_| {
        let (base, bindings, unread_overrides) = (base.get(), draft.get(), unread_overrides.get());
        if base.bindings == bindings && unread_overrides.is_empty() {
            drafts::discard(&key);
        } else {
            drafts::save_json(
                &key,
                &Draft {
                    base,
                    bindings,
                    unread_overrides,
                },
            );
        }
    });
    let reviewing = RwSignal::new(false);
    let conflict = RwSignal::new(None::<Conflict>);
    let both_changed = RwSignal::new(Vec::<String>::new());
    let problems = Memo::new(move |_| {
        let mut problems: Vec<String> = draft.with(|bindings| {
            validate_bindings(
                bindings,
                |id| {
                    templates.with_value(|all| {
                        all.iter()
                            .find(|t| t.id == id)
                            .map(|t| t.display_name.clone())
                    })
                },
                &FieldPath::root().key("profile_bindings"),
            )
            .into_iter()
            .map(|v| v.message)
            .collect()
        });
        problems.extend(unread_overrides.get().keys().map(|id| {
            format!(
                "The overrides of {} do not read yet",
                template_name(templates, id)
            )
        }));
        problems
    });
    let diff = Memo::new(move |_| base.with(|b| draft.with(|d| diff_bindings(&b.bindings, d))));

    let apply = Action::new_local({
        let (api, runner_id) = (api.clone(), runner_id.clone());
        move |(bindings, etag): &(Vec<ProfileBinding>, String)| {
            let (api, runner_id, bindings, etag) = (
                api.clone(),
                runner_id.clone(),
                bindings.clone(),
                etag.clone(),
            );
            async move {
                match api.update_bindings(&runner_id, bindings, &etag).await {
                    Err(error) if error.is_stale_etag() => {
                        // Their version, to show what they changed.
                        let theirs = api.get_managed_runner(&runner_id).await?;
                        Ok(Err((theirs, error)))
                    }
                    other => other.map(Ok),
                }
            }
        }
    });
    Effect::new(move |_| match apply.value().get() {
        Some(Ok(Ok(updated))) => {
            toasts.success("The bindings were applied");
            base.set(Base {
                bindings: updated.profile_bindings.clone(),
                etag: updated.etag,
            });
            draft.set(updated.profile_bindings);
            reviewing.set(false);
            conflict.set(None);
            both_changed.set(Vec::new());
            on_applied.run(());
        }
        Some(Ok(Err((theirs, _)))) => {
            let their_change = base.with_untracked(|b| {
                describe_diff(
                    &diff_bindings(&b.bindings, &theirs.profile_bindings),
                    templates,
                )
            });
            conflict.set(Some(Conflict {
                theirs,
                their_change,
            }));
        }
        _ => {}
    });
    // Going on from their version: mine replayed on theirs, or theirs as it is.
    let adopt = move |theirs: Runner, replay: bool| {
        let Rebased {
            bindings,
            both_changed: clashes,
        } = if replay {
            base.with_untracked(|b| {
                draft.with_untracked(|mine| {
                    rebase_bindings(&b.bindings, mine, &theirs.profile_bindings)
                })
            })
        } else {
            Rebased {
                bindings: theirs.profile_bindings.clone(),
                both_changed: Vec::new(),
            }
        };
        base.set(Base {
            bindings: theirs.profile_bindings.clone(),
            etag: theirs.etag.clone(),
        });
        draft.set(bindings);
        both_changed.set(clashes);
        conflict.set(None);
        reviewing.set(replay);
    };

    let can_review = move || problems.with(Vec::is_empty) && !diff.with(BindingDiff::is_empty);
    let apply_now = move |_| {
        apply.dispatch((
            draft.get_untracked(),
            base.with_untracked(|b| b.etag.clone()),
        ));
    };
    let undo = move |_| {
        draft.set(base.with_untracked(|b| b.bindings.clone()));
        unread_overrides.set(BTreeMap::new());
        reviewing.set(false);
    };

    view! {
        {restored.then(|| view! { <p class="hint warning" role="status">"Your unapplied changes from before the reload are back."</p> })}
        <BindingList draft templates unread_overrides />
        {move || {
            let problems = problems.get();
            (!problems.is_empty()).then(|| view! {
                <ul class="violations" aria-label="To fix before applying">
                    {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            })
        }}
        {move || conflict.get().map(|Conflict { theirs, their_change }| {
            let (replay, discard) = (theirs.clone(), theirs);
            view! {
                <div class="error-panel conflict" role="alert">
                    <p class="error-title">"Someone changed this runner's bindings since you opened it"</p>
                    <p>"Nothing of yours was applied, and your list is kept. Their change:"</p>
                    <DiffList lines=their_change label="What they changed" />
                    <div class="form-actions">
                        <button type="button" class="button primary" on:click=move |_| adopt(replay.clone(), true)>
                            "Re-apply my change on theirs"
                        </button>
                        <button type="button" class="button" on:click=move |_| adopt(discard.clone(), false)>
                            "Discard mine, take theirs"
                        </button>
                    </div>
                </div>
            }
        })}
        {move || {
            let clashes = both_changed.get();
            (!clashes.is_empty()).then(|| {
                let names: Vec<String> = clashes.iter().map(|id| template_name(templates, id)).collect();
                view! {
                    <p class="hint warning" role="status">
                        {format!("You and they both changed {}: yours is kept. Check the review.", names.join(", "))}
                    </p>
                }
            })
        }}
        <Show when=move || reviewing.get()>
            <div class="review">
                <h3>"Review"</h3>
                {move || view! { <DiffList lines=describe_diff(&diff.get(), templates) label="What applying will do" /> }}
            </div>
        </Show>
        {move || match apply.value().get() {
            Some(Err(error)) => Some(view! { <ErrorPanel title="The bindings were not applied; your list is kept" error /> }),
            _ => None,
        }}
        <div class="form-actions">
            <Show
                when=move || reviewing.get()
                fallback=move || view! { <button type="button" class="button primary" disabled=move || !can_review() on:click=move |_| reviewing.set(true)>"Review changes"</button> }
            >
                <button type="button" class="button primary" disabled=move || !can_review() || apply.pending().get() on:click=apply_now>
                    {move || if apply.pending().get() { "Applying…" } else { "Apply" }}
                </button>
                <button type="button" class="button" on:click=move |_| reviewing.set(false)>"Keep editing"</button>
            </Show>
            <button type="button" class="button quiet" on:click=undo>"Undo my changes"</button>
        </div>
    }
}
