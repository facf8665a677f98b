//! A runner's profile bindings, edited as a list and applied as one change. The API
//! replaces the whole list on every update, so nothing is sent until a review has
//! shown exactly what will be attached, detached and changed; the default is a single
//! choice, so there is always at most one, and the rules of `sandbox_api::binding`
//! (at least one binding, exactly one default, each profile once, valid aliases) are
//! checked before anything can be applied. The runner's etag goes with the change.

use std::collections::HashMap;

use leptos::prelude::*;
use sandbox_api::binding::{BindingDiff, diff_bindings, effective_name, validate_bindings};
use sandbox_api::field_path::FieldPath;
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::runner::{ProfileBinding, Runner};

use crate::api::{ApiError, use_api};
use crate::components::error_panel::ErrorPanel;
use crate::components::toasts::use_toasts;

#[component]
pub fn BindingManager(
    runner_id: String,
    /// Told after a change is applied, so the page can show its effect elsewhere.
    on_applied: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let reloads = RwSignal::new(0u32);
    let data = LocalResource::new({
        let (api, runner_id) = (api.clone(), runner_id.clone());
        move || {
            reloads.track();
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
                Some(Ok((runner, templates))) => {
                    let applied = Callback::new(move |()| {
                        reloads.update(|n| *n += 1);
                        on_applied.run(());
                    });
                    view! { <BindingEditor runner templates on_applied=applied /> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn BindingEditor(
    runner: Runner,
    templates: Vec<ProfileTemplate>,
    on_applied: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let names: HashMap<String, String> = templates
        .iter()
        .map(|t| (t.id.clone(), t.display_name.clone()))
        .collect();
    let name_of = {
        let names = names.clone();
        move |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    };
    let current = runner.profile_bindings.clone();
    let draft = RwSignal::new(current.clone());
    let reviewing = RwSignal::new(false);
    let problems = {
        let names = names.clone();
        Memo::new(move |_| {
            draft.with(|bindings| {
                validate_bindings(
                    bindings,
                    |id| names.get(id).cloned(),
                    &FieldPath::root().key("profile_bindings"),
                )
                .into_iter()
                .map(|v| v.message)
                .collect::<Vec<_>>()
            })
        })
    };
    let diff = {
        let current = current.clone();
        Memo::new(move |_| draft.with(|d| diff_bindings(&current, d)))
    };
    let runner_id = runner
        .identity
        .as_ref()
        .map(|i| i.runner_id.clone())
        .unwrap_or_default();
    let etag = runner.etag.clone();
    let apply = Action::new_local(move |bindings: &Vec<ProfileBinding>| {
        let (api, runner_id, etag, bindings) = (
            api.clone(),
            runner_id.clone(),
            etag.clone(),
            bindings.clone(),
        );
        async move { api.update_bindings(&runner_id, bindings, &etag).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = apply.value().get() {
            toasts.success("The bindings were applied");
            on_applied.run(());
        }
    });
    let addable = {
        let templates = templates.clone();
        move || {
            let bound: Vec<String> =
                draft.with(|d| d.iter().map(|b| b.profile_template_id.clone()).collect());
            templates
                .iter()
                .filter(|t| !bound.contains(&t.id))
                .map(|t| (t.id.clone(), t.display_name.clone()))
                .collect::<Vec<_>>()
        }
    };
    let to_add = RwSignal::new(String::new());
    let add = move |_| {
        let id = to_add.get_untracked();
        if id.is_empty() {
            return;
        }
        draft.update(|d| {
            let first = d.is_empty();
            d.push(ProfileBinding {
                profile_template_id: id,
                is_default: first,
                ..ProfileBinding::default()
            });
        });
        to_add.set(String::new());
    };

    let rows = {
        let name_of = name_of.clone();
        move || {
            draft
                .get()
                .into_iter()
                .enumerate()
                .map(|(index, binding)| {
                    let profile = name_of(&binding.profile_template_id);
                    let alias_id = format!("binding-alias-{index}");
                    let fallback = format!("uses the profile's name: {profile}");
                    let remove_label = format!("Remove {profile}");
                    let default_label = format!("{profile} is the default");
                    view! {
                        <tr>
                            <th scope="row" class="name">{profile.clone()}</th>
                            <td>
                                <label class="visually-hidden" for=alias_id.clone()>{format!("Alias for {profile}")}</label>
                                <input id=alias_id prop:value=binding.profile_name.clone() placeholder=fallback on:change=move |ev| {
                                    let alias = event_target_value(&ev);
                                    draft.update(|d| d[index].profile_name = alias.trim().to_owned());
                                } />
                            </td>
                            <td class="center">
                                <input type="radio" name="default-binding" aria-label=default_label prop:checked=binding.is_default on:change=move |_| {
                                    draft.update(|d| d.iter_mut().enumerate().for_each(|(i, b)| b.is_default = i == index));
                                } />
                            </td>
                            <td>
                                <button type="button" class="button quiet" aria-label=remove_label on:click=move |_| draft.update(|d| { d.remove(index); })>"Remove"</button>
                            </td>
                        </tr>
                    }
                })
                .collect_view()
        }
    };
    let review = {
        let name_of = name_of.clone();
        move || {
            let BindingDiff {
                attached,
                detached,
                updated,
            } = diff.get();
            let name = |b: &ProfileBinding| effective_name(b, &name_of(&b.profile_template_id));
            let mut lines: Vec<(&'static str, String)> = Vec::new();
            lines.extend(attached.iter().map(|b| {
                (
                    "attach",
                    format!(
                        "Attach {}{}",
                        name(b),
                        if b.is_default { " (default)" } else { "" }
                    ),
                )
            }));
            lines.extend(
                detached
                    .iter()
                    .map(|b| ("detach", format!("Detach {}", name(b)))),
            );
            lines.extend(updated.iter().map(|(before, after)| {
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
            if lines.is_empty() {
                return view! { <p class="hint">"Nothing has changed."</p> }.into_any();
            }
            view! {
                <ul class="binding-review" aria-label="What applying will do">
                    {lines.into_iter().map(|(kind, text)| view! { <li class=kind>{text}</li> }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    let can_review = move || problems.with(Vec::is_empty) && !diff.with(BindingDiff::is_empty);

    view! {
        <table class="data-table bindings">
            <thead>
                <tr>
                    <th scope="col">"Profile"</th>
                    <th scope="col">"Alias"</th>
                    <th scope="col">"Default"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <div class="form-row">
            <div class="field">
                <label for="binding-add">"Add a profile"</label>
                <select id="binding-add" prop:value=to_add on:change=move |ev| to_add.set(event_target_value(&ev))>
                    <option value="">"Choose a profile…"</option>
                    {move || addable().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
            </div>
            <button type="button" class="button" disabled=move || to_add.with(String::is_empty) on:click=add>"Add"</button>
        </div>
        {move || {
            let problems = problems.get();
            (!problems.is_empty()).then(|| view! {
                <ul class="violations" aria-label="To fix before applying">
                    {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            })
        }}
        <Show when=move || reviewing.get()>
            <div class="review">
                <h3>"Review"</h3>
                {review.clone()}
            </div>
        </Show>
        {move || apply.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel title="The bindings were not applied; your list is kept" error /> })}
        <div class="form-actions">
            <Show
                when=move || reviewing.get()
                fallback=move || view! { <button type="button" class="button primary" disabled=move || !can_review() on:click=move |_| reviewing.set(true)>"Review changes"</button> }
            >
                <button type="button" class="button primary" disabled=move || !can_review() || apply.pending().get() on:click=move |_| { apply.dispatch(draft.get_untracked()); }>
                    {move || if apply.pending().get() { "Applying…" } else { "Apply" }}
                </button>
                <button type="button" class="button" on:click=move |_| reviewing.set(false)>"Keep editing"</button>
            </Show>
            <button type="button" class="button quiet" on:click={
                let current = current.clone();
                move |_| { draft.set(current.clone()); reviewing.set(false); }
            }>"Undo my changes"</button>
        </div>
    }
}
