//! A runner's binding list as an editable table: add a profile (each at most once),
//! remove, alias (the profile's name shows when empty), the default as one radio
//! choice, and each binding's overrides. Used when creating a runner and by the binding
//! manager; what the list means (rules, review, apply) is the caller's.

use std::collections::BTreeSet;

use leptos::prelude::*;
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::runner::ProfileBinding;

use crate::components::binding_overrides::{BindingOverrides, UnreadOverrides};

/// The profiles bindings can name, shared by every row.
pub type Templates = StoredValue<Vec<ProfileTemplate>>;

/// The display name of template `id`, or the ID when the organization has no such
/// template (the rules say so).
pub fn template_name(templates: Templates, id: &str) -> String {
    templates.with_value(|all| {
        all.iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_owned(), |t| t.display_name.clone())
    })
}

#[component]
pub fn BindingList(
    draft: RwSignal<Vec<ProfileBinding>>,
    templates: Templates,
    /// Overrides text that does not read yet: the list is not ready.
    unread_overrides: UnreadOverrides,
) -> impl IntoView {
    let ids = move || {
        draft.with(|d| {
            d.iter()
                .map(|b| b.profile_template_id.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <table class="data-table bindings">
            <thead>
                <tr>
                    <th scope="col">"Profile"</th>
                    <th scope="col">"Alias"</th>
                    <th scope="col">"Default"</th>
                    <th scope="col">"Overrides"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <For each=ids key=|id| id.clone() let:id>
                <BindingRow id draft templates unread_overrides />
            </For>
        </table>
        {move || draft.with(Vec::is_empty).then(|| view! { <p class="hint">"No profile is bound yet: add one below."</p> })}
        <AddBinding draft templates />
    }
}

/// One binding: its row, and under it, when opened, its overrides. A `tbody` each, so
/// the pair moves together.
#[component]
fn BindingRow(
    id: String,
    draft: RwSignal<Vec<ProfileBinding>>,
    templates: Templates,
    unread_overrides: UnreadOverrides,
) -> impl IntoView {
    let profile = template_name(templates, &id);
    let binding = {
        let id = id.clone();
        Memo::new(move |_| {
            draft.with(|d| {
                d.iter()
                    .find(|b| b.profile_template_id == id)
                    .cloned()
                    .unwrap_or_default()
            })
        })
    };
    let update = {
        let id = id.clone();
        move |change: &dyn Fn(&mut ProfileBinding)| {
            draft.update(|d| {
                d.iter_mut()
                    .filter(|b| b.profile_template_id == id)
                    .for_each(change)
            });
        }
    };
    // Open when it holds text that does not read yet (kept from before a reload).
    let open = RwSignal::new(unread_overrides.with_untracked(|u| u.contains_key(&id)));
    let slug = id.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let alias_id = format!("binding-alias-{slug}");
    let overrides_id = format!("binding-overrides-{slug}");
    let has_overrides = move || binding.with(|b| !b.overrides_json.trim().is_empty());
    let set_alias = update.clone();
    let set_default = {
        let id = id.clone();
        move |_| {
            draft.update(|d| {
                d.iter_mut()
                    .for_each(|b| b.is_default = b.profile_template_id == id)
            })
        }
    };
    let remove = {
        let id = id.clone();
        move |_| {
            draft.update(|d| d.retain(|b| b.profile_template_id != id));
            unread_overrides.update(|u| {
                u.remove(&id);
            });
        }
    };
    let profile_spec = templates.with_value(|all| {
        all.iter()
            .find(|t| t.id == id)
            .and_then(|t| t.spec.clone())
            .unwrap_or_default()
    });
    view! {
        <tbody class="binding">
            <tr>
                <th scope="row" class="name">{profile.clone()}</th>
                <td>
                    <label class="visually-hidden" for=alias_id.clone()>{format!("Alias for {profile}")}</label>
                    <input
                        id=alias_id
                        prop:value=move || binding.with(|b| b.profile_name.clone())
                        placeholder=format!("uses the profile's name: {profile}")
                        on:change=move |ev| {
                            let alias = event_target_value(&ev).trim().to_owned();
                            set_alias(&|b| b.profile_name = alias.clone());
                        }
                    />
                </td>
                <td class="center">
                    <input
                        type="radio"
                        name="default-binding"
                        aria-label=format!("{profile} is the default")
                        prop:checked=move || binding.with(|b| b.is_default)
                        on:change=set_default
                    />
                </td>
                <td>
                    <button
                        type="button"
                        class="button quiet"
                        aria-expanded=move || open.get().to_string()
                        aria-controls=overrides_id.clone()
                        on:click=move |_| open.update(|o| *o = !*o)
                    >
                        {move || match (open.get(), has_overrides()) {
                            (true, _) => "Hide overrides",
                            (false, true) => "Edit overrides",
                            (false, false) => "Add overrides",
                        }}
                        <span class="visually-hidden">{format!(" for {profile}")}</span>
                    </button>
                    {move || has_overrides().then(|| view! { <span class="badge">"overridden"</span> })}
                </td>
                <td>
                    <button type="button" class="button quiet" aria-label=format!("Remove {profile}") on:click=remove>"Remove"</button>
                </td>
            </tr>
            <Show when=move || open.get()>
                <tr class="overrides-row" id=overrides_id.clone()>
                    <td colspan="5">
                        <BindingOverrides
                            id=id.clone()
                            profile=profile.clone()
                            profile_spec=profile_spec.clone()
                            binding
                            draft
                            unread=unread_overrides
                        />
                    </td>
                </tr>
            </Show>
        </tbody>
    }
}

/// Adds a profile not yet bound; the search narrows a long list.
#[component]
fn AddBinding(draft: RwSignal<Vec<ProfileBinding>>, templates: Templates) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let to_add = RwSignal::new(String::new());
    let addable = move || {
        let needle = search.get().to_lowercase();
        let bound: BTreeSet<String> =
            draft.with(|d| d.iter().map(|b| b.profile_template_id.clone()).collect());
        templates.with_value(|all| {
            all.iter()
                .filter(|t| !bound.contains(&t.id))
                .filter(|t| t.display_name.to_lowercase().contains(&needle))
                .map(|t| (t.id.clone(), t.display_name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let add = move |_| {
        let id = to_add.get_untracked();
        if id.is_empty() {
            return;
        }
        draft.update(|d| {
            // The first binding is the default, as a runner needs one.
            let first = d.is_empty();
            d.push(ProfileBinding {
                profile_template_id: id,
                is_default: first,
                ..ProfileBinding::default()
            });
        });
        to_add.set(String::new());
    };
    view! {
        <div class="form-row">
            <div class="field">
                <label for="binding-search">"Find a profile"</label>
                <input id="binding-search" type="search" placeholder="Part of its name" prop:value=search on:input=move |ev| search.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="binding-add">"Add a profile"</label>
                <select id="binding-add" prop:value=to_add on:change=move |ev| to_add.set(event_target_value(&ev))>
                    <option value="">"Choose a profile…"</option>
                    {move || addable().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
            </div>
            <button type="button" class="button" disabled=move || to_add.with(String::is_empty) on:click=add>"Add"</button>
        </div>
    }
}
