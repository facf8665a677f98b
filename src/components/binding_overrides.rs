//! One binding's overrides: a partial profile spec edited as fields (image, runtime
//! class, resources) or as YAML in the profile's own YAML form, the two kept in step,
//! and the binding's effective spec with each field the overrides change. The API
//! carries overrides as a JSON string (`overridesJson`); nobody types or sees it.

use std::collections::BTreeMap;

use leptos::prelude::*;
use sandbox_api::field_path::FieldPath;
use sandbox_api::overrides::override_changes;
use sandbox_api::profile::{ProfileSpec, ResourceDefaults};
use sandbox_api::profile_document::{read_spec_json, read_spec_yaml, write_spec_yaml};
use sandbox_api::runner::ProfileBinding;

/// Overrides text that does not read yet, by template ID, as typed. Kept (and saved
/// with the caller's draft) so that nothing typed is lost across a reload, and named as
/// a problem so that nothing is applied while it stands.
pub type UnreadOverrides = RwSignal<BTreeMap<String, String>>;

/// The spec `text` holds, or what is wrong with it.
fn read_overrides(text: &str) -> Result<ProfileSpec, Vec<String>> {
    match read_spec_yaml(text, &FieldPath::root()) {
        Ok((parsed, violations)) if violations.is_empty() => Ok(parsed),
        Ok((_, violations)) => Err(violations
            .into_iter()
            .map(|v| format!("{}: {}", v.field, v.message))
            .collect()),
        Err(syntax) => Err(vec![syntax]),
    }
}

/// The overrides JSON of a partial spec; empty when it overrides nothing.
fn encode(spec: &ProfileSpec) -> String {
    if *spec == ProfileSpec::default() {
        String::new()
    } else {
        serde_json::to_string(spec).unwrap_or_default()
    }
}

/// The structured fields: label, and the spec's value in and out.
type Accessor = fn(&mut ProfileSpec) -> &mut String;

fn resources(spec: &mut ProfileSpec) -> &mut ResourceDefaults {
    spec.resource_defaults.get_or_insert_with(Default::default)
}

const FIELDS: [(&str, &str, Accessor); 6] = [
    ("image", "Container image", |s| &mut s.container_image),
    ("runtime-class", "Runtime class", |s| &mut s.runtime_class),
    ("cpu-request", "CPU request", |s| {
        &mut resources(s).cpu_request
    }),
    ("memory-request", "Memory request", |s| {
        &mut resources(s).memory_request
    }),
    ("cpu-limit", "CPU limit", |s| &mut resources(s).cpu_limit),
    ("memory-limit", "Memory limit", |s| {
        &mut resources(s).memory_limit
    }),
];

#[component]
pub fn BindingOverrides(
    /// The binding's template ID.
    id: String,
    /// The profile's name, for labels.
    profile: String,
    profile_spec: ProfileSpec,
    binding: Memo<ProfileBinding>,
    draft: RwSignal<Vec<ProfileBinding>>,
    unread: UnreadOverrides,
) -> impl IntoView {
    let spec = Memo::new(move |_| {
        binding.with(|b| read_spec_json(&b.overrides_json, &FieldPath::root()).0)
    });
    // Text left unread before a reload comes back as it was typed.
    let kept = unread.with_untracked(|u| u.get(&id).cloned());
    let yaml_problems = RwSignal::new(
        kept.as_deref()
            .map(read_overrides)
            .and_then(Result::err)
            .unwrap_or_default(),
    );
    let yaml = RwSignal::new(kept.unwrap_or_else(|| spec.with_untracked(write_spec_yaml)));
    let store = {
        let id = id.clone();
        move |json: String| {
            draft.update(|d| {
                d.iter_mut()
                    .filter(|b| b.profile_template_id == id)
                    .for_each(|b| b.overrides_json = json.clone())
            })
        }
    };
    // `None`: the text reads; `Some(text)`: it does not yet. Writes only what changes,
    // since the effect below reads the map.
    let mark_unread = {
        let id = id.clone();
        move |text: Option<String>| {
            let current = unread.with_untracked(|u| u.get(&id).cloned());
            if current != text {
                unread.update(|u| match text {
                    Some(text) => {
                        u.insert(id.clone(), text);
                    }
                    None => {
                        u.remove(&id);
                    }
                })
            }
        }
    };
    // The text follows the overrides when they change from elsewhere (a conflict
    // resolved, an undo), and when the caller drops this binding's unread text (an undo
    // with the overrides unchanged); while the overrides come from this text, its own
    // layout is kept. (Text that does not read never changes the overrides, so a change
    // then came from elsewhere too.) The effect remembers the overrides and whether the
    // text was unread when it last ran.
    Effect::new({
        let (id, mark_unread) = (id.clone(), mark_unread.clone());
        move |last: Option<(ProfileSpec, bool)>| {
            let current = spec.get();
            let is_unread = unread.with(|u| u.contains_key(&id));
            if let Some((previous, was_unread)) = last {
                let says = yaml.with_untracked(|text| {
                    read_spec_yaml(text, &FieldPath::root())
                        .ok()
                        .map(|(spec, _)| spec)
                });
                let out_of_step = says.as_ref() != Some(&current);
                let dropped = was_unread && !is_unread;
                if out_of_step && (previous != current || dropped) {
                    yaml.set(write_spec_yaml(&current));
                    yaml_problems.set(Vec::new());
                    mark_unread(None);
                }
            }
            (current, is_unread)
        }
    });
    let on_yaml = {
        let (store, mark_unread) = (store.clone(), mark_unread.clone());
        move |text: String| {
            yaml.set(text.clone());
            match read_overrides(&text) {
                Ok(parsed) => {
                    store(encode(&parsed));
                    mark_unread(None);
                    yaml_problems.set(Vec::new());
                }
                Err(problems) => {
                    mark_unread(Some(text));
                    yaml_problems.set(problems);
                }
            }
        }
    };
    let slug = id.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let fields = FIELDS
        .into_iter()
        .map(|(key, label, field)| {
            let input_id = format!("override-{key}-{slug}");
            let (store, mark_unread) = (store.clone(), mark_unread.clone());
            let profile_value = field(&mut profile_spec.clone()).clone();
            let placeholder = if profile_value.is_empty() {
                "not set by the profile".to_owned()
            } else {
                format!("profile: {profile_value}")
            };
            view! {
                <div class="field">
                    <label for=input_id.clone()>{label}</label>
                    <input
                        id=input_id
                        type="text"
                        placeholder=placeholder
                        prop:value=move || field(&mut spec.get()).clone()
                        on:change=move |ev| {
                            let mut next = spec.get_untracked();
                            *field(&mut next) = event_target_value(&ev).trim().to_owned();
                            if next.resource_defaults == Some(ResourceDefaults::default()) {
                                next.resource_defaults = None;
                            }
                            // The fields write the text too, so both say the same.
                            yaml.set(write_spec_yaml(&next));
                            yaml_problems.set(Vec::new());
                            mark_unread(None);
                            store(encode(&next));
                        }
                    />
                </div>
            }
        })
        .collect_view();
    let yaml_id = format!("override-yaml-{slug}");
    let effective = move || {
        let (effective, changes) = override_changes(&profile_spec, &spec.get());
        let changes = if changes.is_empty() {
            view! { <p class="hint">"The overrides change nothing: this binding runs the profile as it is."</p> }.into_any()
        } else {
            view! {
                <table class="data-table override-changes">
                    <caption>"What the overrides change"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Field"</th>
                            <th scope="col">"Profile"</th>
                            <th scope="col">"This binding"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {changes.into_iter().map(|c| view! {
                            <tr>
                                <th scope="row" class="name">{c.field}</th>
                                <td>{c.profile.unwrap_or_else(|| "(not set)".to_owned())}</td>
                                <td>{c.effective.unwrap_or_else(|| "(not set)".to_owned())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        };
        view! {
            {changes}
            <details class="effective-spec">
                <summary>"Effective spec (profile and overrides)"</summary>
                <pre>{write_spec_yaml(&effective)}</pre>
            </details>
        }
    };
    view! {
        <div class="binding-overrides" role="group" aria-label=format!("Overrides for {profile}")>
            <div class="form-grid">{fields}</div>
            <div class="field">
                <label for=yaml_id.clone()>"Overrides as YAML (any part of a profile's spec)"</label>
                <textarea
                    id=yaml_id
                    class="code"
                    rows="6"
                    spellcheck="false"
                    placeholder="runtime_class: gvisor\nnode_selector:\n  pool: fast"
                    prop:value=yaml
                    on:input=move |ev| on_yaml(event_target_value(&ev))
                ></textarea>
                {move || yaml_problems.get().into_iter().map(|p| view! { <p class="field-error">{p}</p> }).collect_view()}
            </div>
            {effective}
        </div>
    }
}
