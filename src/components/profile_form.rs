//! The profile as a form, for administrators who would rather not write YAML. The text
//! stays the one truth: every field reads the parsed document, and every change writes
//! the document back as text (in the form and format the text is in), so the form and
//! the editor can never disagree. What the form has no field for (custom egress mode
//! names, annotations…) is kept as it is. Problems `sandbox_api` finds show under the
//! field they concern, as you type.

use std::collections::BTreeMap;

use leptos::prelude::*;
use sandbox_api::namespace::NamespaceStrategy;
use sandbox_api::network::{EgressType, IngressScope, ServiceType};
use sandbox_api::profile::ResourceDefaults;
use sandbox_api::profile_document::{
    ParsedProfile, ProfileDocument, read_fragment, write_fragment, write_profile,
};
use serde_json::{Map, Value, json};

use crate::components::field::TextField;

/// Changes the document behind `text` and writes it back.
fn edit(
    parsed: Memo<ParsedProfile>,
    text: RwSignal<String>,
    change: impl FnOnce(&mut ProfileDocument),
) {
    let Some((mut document, form, format)) =
        parsed.with_untracked(|p| p.document.clone().map(|d| (d, p.form, p.format)))
    else {
        return;
    };
    change(&mut document);
    text.set(write_profile(&document, form, format));
}

/// A reading of the document for a field (the empty value when there is none).
fn read<T: Default>(parsed: Memo<ParsedProfile>, field: impl Fn(&ProfileDocument) -> T) -> T {
    parsed.with(|p| p.document.as_ref().map(&field).unwrap_or_default())
}

/// `key=value` lines as a map; lines without `=` are keys with empty values.
fn pairs_from_lines(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

fn lines_from_pairs(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The object at `spec.<section>`, created when missing.
fn section(slot: &mut Option<Value>) -> &mut Map<String, Value> {
    if !matches!(slot, Some(Value::Object(_))) {
        *slot = Some(Value::Object(Map::new()));
    }
    match slot {
        Some(Value::Object(map)) => map,
        _ => unreachable!("just made an object"),
    }
}

/// The egress `modes` object of a network section, created when missing.
fn egress(network: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let egress = network.entry("egress").or_insert_with(|| json!({}));
    if !egress.is_object() {
        *egress = json!({});
    }
    egress.as_object_mut().expect("an object")
}

fn modes(egress: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let modes = egress.entry("modes").or_insert_with(|| json!({}));
    if !modes.is_object() {
        *modes = json!({});
    }
    modes.as_object_mut().expect("an object")
}

fn string_at(value: Option<&Value>, path: &[&str]) -> String {
    value
        .and_then(|value| path.iter().try_fold(value, |v, key| v.get(key)))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[component]
pub fn ProfileFormView(
    parsed: Memo<ParsedProfile>,
    text: RwSignal<String>,
    /// `field: message` for every problem, to show under the fields.
    problems: Signal<Vec<String>>,
    /// Set when editing a saved profile: its name cannot change.
    locked_name: bool,
) -> impl IntoView {
    let problems_for = move |prefix: &'static str| {
        move || {
            problems
                .get()
                .into_iter()
                .filter(|p| p.starts_with(prefix))
                .map(|p| view! { <p class="field-error">{p}</p> })
                .collect_view()
        }
    };
    // Written to the document as typed, so it is checked as typed and nothing typed
    // waits on leaving the field (another control's change would redraw it from the
    // document). While typing, a field keeps what was typed (`TextField`), so a comma
    // list's `a, ` keeps its comma until the field is left.
    let text_field = move |id: &'static str,
                           label: &'static str,
                           prefix: &'static str,
                           get: fn(&ProfileDocument) -> String,
                           set: fn(&mut ProfileDocument, String)| {
        let write = Callback::new(move |value| edit(parsed, text, |d| set(d, value)));
        view! {
            <TextField id label value=Signal::derive(move || read(parsed, get)) on_input=write>
                {problems_for(prefix)}
            </TextField>
        }
    };
    let list_field = move |id: &'static str,
                           label: &'static str,
                           prefix: &'static str,
                           get: fn(&ProfileDocument) -> String,
                           set: fn(&mut ProfileDocument, String)| {
        let write = Callback::new(move |value| edit(parsed, text, |d| set(d, value)));
        view! {
            <TextField id label value=Signal::derive(move || read(parsed, get)) on_input=write>
                {problems_for(prefix)}
            </TextField>
        }
    };
    let resource_field =
        move |id: &'static str,
              label: &'static str,
              prefix: &'static str,
              field: fn(&mut ResourceDefaults) -> &mut String| {
            let value = Signal::derive(move || {
                read(parsed, |d| {
                    d.spec
                        .resource_defaults
                        .clone()
                        .map(|mut r| field(&mut r).clone())
                        .unwrap_or_default()
                })
            });
            let on_input = Callback::new(move |value: String| {
                edit(parsed, text, |d| {
                    let defaults = d
                        .spec
                        .resource_defaults
                        .get_or_insert_with(ResourceDefaults::default);
                    *field(defaults) = value;
                    if *defaults == ResourceDefaults::default() {
                        d.spec.resource_defaults = None;
                    }
                });
            });
            view! {
                <TextField id label value on_input>
                    {problems_for(prefix)}
                </TextField>
            }
        };
    let strategy = move || {
        read(parsed, |d| {
            string_at(d.spec.namespace.as_ref(), &["strategy"])
        })
    };
    // The CIDRs as typed and what the document said after (see `TextField`).
    let cidrs_typed = RwSignal::new(None::<(String, String)>);
    let cidrs_of = |d: &ProfileDocument| {
        d.spec
            .network
            .as_ref()
            .and_then(|n| n.pointer("/egress/modes/allowlist/cidrs"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    let cidrs = move || read(parsed, cidrs_of);
    let cidrs_untracked = move || untrack(cidrs);
    let write_cidrs = move |value: &str| {
        let cidrs: Vec<&str> = value
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        edit(parsed, text, |d| {
            let modes = modes(egress(section(&mut d.spec.network)));
            if let Some(Value::Object(mode)) = modes.get_mut("allowlist") {
                mode.insert("cidrs".to_owned(), json!(cidrs));
            }
        });
    };
    let egress_modes = move || {
        read(parsed, |d| {
            d.spec
                .network
                .as_ref()
                .and_then(|n| n.get("egress"))
                .and_then(|e| e.get("modes"))
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };

    view! {
        <div class="profile-form" role="group" aria-label="Profile form">
            <fieldset>
                <legend>"About"</legend>
                <div class="field">
                    <label for="form-name">"Display name"</label>
                    <input id="form-name" prop:value=move || read(parsed, |d| d.display_name.clone()) readonly=locked_name aria-describedby="form-name-hint" on:input=move |ev| {
                        let value = event_target_value(&ev);
                        edit(parsed, text, |d| d.display_name = value);
                    } />
                    <p class="hint" id="form-name-hint">{if locked_name { "The name cannot change after the profile is created." } else { "Unique in your organization; it cannot change once the profile is saved." }}</p>
                    {problems_for("display_name")}
                </div>
                {text_field("form-description", "Description", "description", |d| d.description.clone(), |d, v| d.description = v)}
                <div class="field">
                    <label for="form-labels">"Labels (key=value, one a line)"</label>
                    <textarea id="form-labels" rows="3" prop:value=move || read(parsed, |d| lines_from_pairs(&d.labels)) on:change=move |ev| {
                        let value = event_target_value(&ev);
                        edit(parsed, text, |d| d.labels = pairs_from_lines(&value));
                    }></textarea>
                    {problems_for("labels")}
                </div>
            </fieldset>
            <fieldset>
                <legend>"Compute"</legend>
                {text_field("form-image", "Container image", "spec.container_image", |d| d.spec.container_image.clone(), |d, v| d.spec.container_image = v)}
                {text_field("form-runtime", "Runtime class", "spec.runtime_class", |d| d.spec.runtime_class.clone(), |d, v| d.spec.runtime_class = v)}
                <div class="form-row">
                    {resource_field("form-cpu-request", "CPU request", "spec.resource_defaults.cpuRequest", |r| &mut r.cpu_request)}
                    {resource_field("form-cpu-limit", "CPU limit", "spec.resource_defaults.cpuLimit", |r| &mut r.cpu_limit)}
                    {resource_field("form-memory-request", "Memory request", "spec.resource_defaults.memoryRequest", |r| &mut r.memory_request)}
                    {resource_field("form-memory-limit", "Memory limit", "spec.resource_defaults.memoryLimit", |r| &mut r.memory_limit)}
                </div>
                {list_field("form-instance-types", "Instance types (comma-separated)", "spec.instance_types", |d| d.spec.instance_types.join(", "), |d, v| d.spec.instance_types = comma_list(&v))}
                {list_field("form-tags", "Tags (comma-separated)", "spec.tags", |d| d.spec.tags.join(", "), |d, v| d.spec.tags = comma_list(&v))}
                <div class="field">
                    <label for="form-node-selector">"Node selector (key=value, one a line)"</label>
                    <textarea id="form-node-selector" rows="2" prop:value=move || read(parsed, |d| lines_from_pairs(&d.spec.node_selector)) on:change=move |ev| {
                        let value = event_target_value(&ev);
                        edit(parsed, text, |d| d.spec.node_selector = pairs_from_lines(&value));
                    }></textarea>
                    {problems_for("spec.node_selector")}
                </div>
                <PodFragment parsed text problems />
            </fieldset>
            <fieldset>
                <legend>"Namespace"</legend>
                <div class="field">
                    <label for="form-strategy">"Strategy"</label>
                    <select id="form-strategy" prop:value=move || { let s = strategy(); if s.is_empty() { "per-user".to_owned() } else { s } } on:change=move |ev| {
                        let value = event_target_value(&ev);
                        edit(parsed, text, |d| { section(&mut d.spec.namespace).insert("strategy".to_owned(), json!(value)); });
                    }>
                        {NamespaceStrategy::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })}
                    </select>
                    {problems_for("spec.namespace.strategy")}
                </div>
                <Show when=move || strategy() == "static">
                    <div class="field">
                        <label for="form-static-namespace">"Namespace name"</label>
                        <input id="form-static-namespace" prop:value=move || read(parsed, |d| string_at(d.spec.namespace.as_ref(), &["staticNamespace"])) on:input=move |ev| {
                            let value = event_target_value(&ev);
                            edit(parsed, text, |d| { section(&mut d.spec.namespace).insert("staticNamespace".to_owned(), json!(value)); });
                        } />
                    </div>
                </Show>
                {problems_for("spec.namespace.staticNamespace")}
                <div class="field">
                    <label for="form-prefix">"Namespace prefix"</label>
                    <input id="form-prefix" prop:value=move || read(parsed, |d| string_at(d.spec.namespace.as_ref(), &["namespacePrefix"])) on:input=move |ev| {
                        let value = event_target_value(&ev);
                        edit(parsed, text, |d| {
                            let namespace = section(&mut d.spec.namespace);
                            if value.is_empty() { namespace.remove("namespacePrefix"); } else { namespace.insert("namespacePrefix".to_owned(), json!(value)); }
                        });
                    } />
                    {problems_for("spec.namespace.namespacePrefix")}
                </div>
                <label class="field checkbox">
                    <input type="checkbox" prop:checked=move || read(parsed, |d| d.spec.namespace.as_ref().and_then(|n| n.get("autoCreate")).and_then(Value::as_bool).unwrap_or(true)) on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(parsed, text, |d| { section(&mut d.spec.namespace).insert("autoCreate".to_owned(), json!(on)); });
                    } />
                    "Create the namespace when it does not exist"
                </label>
            </fieldset>
            <fieldset>
                <legend>"Egress"</legend>
                <div class="checkbox-row" role="group" aria-label="Egress modes">
                    {EgressType::ALL.iter().map(|kind| {
                        let name = kind.as_str();
                        view! {
                            <label class="field checkbox">
                                <input type="checkbox" prop:checked=move || egress_modes().iter().any(|m| m == name) on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    edit(parsed, text, |d| {
                                        let modes = modes(egress(section(&mut d.spec.network)));
                                        if on { modes.insert(name.to_owned(), json!({"type": name})); } else { modes.remove(name); }
                                    });
                                } />
                                {name}
                            </label>
                        }
                    }).collect_view()}
                </div>
                {problems_for("spec.network.egress.modes")}
                <Show when=move || egress_modes().iter().any(|m| m == "allowlist")>
                    <div class="field">
                        <label for="form-cidrs">"Allowlist CIDRs (one a line)"</label>
                        // Written as typed (so "is required" goes with the first CIDR),
                        // showing what was typed until the field is left.
                        <textarea id="form-cidrs" rows="3" prop:value=move || {
                            let now = cidrs();
                            cidrs_typed.with(|t| match t {
                                Some((text, written)) if *written == now => text.clone(),
                                _ => now,
                            })
                        } on:change=move |ev| {
                            write_cidrs(&event_target_value(&ev));
                            cidrs_typed.set(None);
                        } on:input=move |ev| {
                            let value = event_target_value(&ev);
                            write_cidrs(&value);
                            cidrs_typed.set(Some((value, cidrs_untracked())));
                        }></textarea>
                    </div>
                </Show>
                <div class="field">
                    <label for="form-default-egress">"Default mode"</label>
                    <select id="form-default-egress" prop:value=move || read(parsed, |d| string_at(d.spec.network.as_ref(), &["egress", "default"])) on:change=move |ev| {
                        let value = event_target_value(&ev);
                        edit(parsed, text, |d| { egress(section(&mut d.spec.network)).insert("default".to_owned(), json!(value)); });
                    }>
                        <option value="">"(none chosen)"</option>
                        {move || egress_modes().into_iter().map(|m| view! { <option value=m.clone()>{m.clone()}</option> }).collect_view()}
                    </select>
                    {problems_for("spec.network.egress.default")}
                </div>
            </fieldset>
            <IngressLevels parsed text problems />
        </div>
    }
}

/// Comma-separated items, trimmed, empty ones left out.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The pod template fragment as YAML of its own; a syntax error stays in the field (and
/// is said) rather than reaching the document.
#[component]
fn PodFragment(
    parsed: Memo<ParsedProfile>,
    text: RwSignal<String>,
    problems: Signal<Vec<String>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    view! {
        <div class="field">
            <label for="form-pod">"Pod fragment (YAML)"</label>
            <textarea id="form-pod" class="code" rows="4" prop:value=move || read(parsed, |d| d.spec.pod.as_ref().map(write_fragment).unwrap_or_default()) on:change=move |ev| {
                match read_fragment(&event_target_value(&ev)) {
                    Ok(pod) => {
                        error.set(None);
                        edit(parsed, text, |d| d.spec.pod = pod);
                    }
                    Err(problem) => error.set(Some(problem)),
                }
            }></textarea>
            {move || error.get().map(|e| view! { <p class="field-error">{e}</p> })}
            {move || problems.get().into_iter().filter(|p| p.starts_with("spec.pod")).map(|p| view! { <p class="field-error">{p}</p> }).collect_view()}
        </div>
    }
}

/// A change to one ingress level's object.
type LevelEdit = Box<dyn FnOnce(&mut Map<String, Value>)>;

/// The ingress levels: each a scope, an optional Service type, optional ingress
/// controller and hostname template, and whether it expects an external address.
#[component]
fn IngressLevels(
    parsed: Memo<ParsedProfile>,
    text: RwSignal<String>,
    problems: Signal<Vec<String>>,
) -> impl IntoView {
    let names = move || {
        read(parsed, |d| {
            d.spec
                .network
                .as_ref()
                .and_then(|n| n.get("ingress"))
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let new_name = RwSignal::new(String::new());
    // Edits the level `name`'s object.
    let change = move |name: String, apply: LevelEdit| {
        edit(parsed, text, move |d| {
            let network = section(&mut d.spec.network);
            let ingress = network.entry("ingress").or_insert_with(|| json!({}));
            if let Some(Value::Object(level)) = ingress.get_mut(&name) {
                apply(level);
            }
        });
    };
    let level_view = move |name: String| {
        let at = |key: &'static str| {
            let name = name.clone();
            move || {
                read(parsed, |d| {
                    d.spec
                        .network
                        .as_ref()
                        .and_then(|n| n.pointer(&format!("/ingress/{name}/{key}")))
                        .cloned()
                })
            }
        };
        let (scope, service, controller, template, external) = (
            at("scope"),
            at("service"),
            at("ingress"),
            at("ingress"),
            at("expectsExternalAddress"),
        );
        let id = |field: &str| format!("form-ingress-{name}-{field}");
        let prefix = format!("spec.network.ingress.{name}");
        let (n1, n2, n3, n4, n5, n6) = (
            name.clone(),
            name.clone(),
            name.clone(),
            name.clone(),
            name.clone(),
            name.clone(),
        );
        view! {
            <fieldset class="ingress-level">
                <legend>{format!("Level {name}")}</legend>
                <div class="form-row">
                    <div class="field">
                        <label for=id("scope")>"Scope"</label>
                        <select id=id("scope") prop:value=move || scope().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default() on:change=move |ev| {
                            let value = event_target_value(&ev);
                            change(n1.clone(), Box::new(move |l| { l.insert("scope".to_owned(), json!(value)); }));
                        }>
                            {IngressScope::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for=id("service")>"Service type"</label>
                        <select id=id("service") prop:value=move || service().and_then(|v| v.get("serviceType").and_then(Value::as_str).map(str::to_owned)).unwrap_or_default() on:change=move |ev| {
                            let value = event_target_value(&ev);
                            change(n2.clone(), Box::new(move |l| {
                                if value.is_empty() { l.remove("service"); } else { l.insert("service".to_owned(), json!({"serviceType": value})); }
                            }));
                        }>
                            <option value="">"(none)"</option>
                            {ServiceType::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for=id("controller")>"Ingress controller"</label>
                        <input id=id("controller") prop:value=move || controller().and_then(|v| v.get("controllerName").and_then(Value::as_str).map(str::to_owned)).unwrap_or_default() on:input=move |ev| {
                            let value = event_target_value(&ev);
                            change(n3.clone(), Box::new(move |l| set_route(l, "controllerName", value)));
                        } />
                    </div>
                    <div class="field">
                        <label for=id("template")>"Hostname template"</label>
                        <input id=id("template") prop:value=move || template().and_then(|v| v.get("template").and_then(Value::as_str).map(str::to_owned)).unwrap_or_default() on:input=move |ev| {
                            let value = event_target_value(&ev);
                            change(n4.clone(), Box::new(move |l| set_route(l, "template", value)));
                        } />
                    </div>
                </div>
                <label class="field checkbox">
                    <input type="checkbox" prop:checked=move || external().and_then(|v| v.as_bool()).unwrap_or(false) on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        change(n5.clone(), Box::new(move |l| { l.insert("expectsExternalAddress".to_owned(), json!(on)); }));
                    } />
                    "Expects an external address"
                </label>
                {move || problems.get().into_iter().filter(|p| p.starts_with(&prefix)).map(|p| view! { <p class="field-error">{p}</p> }).collect_view()}
                <button type="button" class="button quiet" on:click=move |_| {
                    let name = n6.clone();
                    edit(parsed, text, move |d| {
                        if let Some(Value::Object(ingress)) = section(&mut d.spec.network).get_mut("ingress") {
                            ingress.remove(&name);
                        }
                    });
                }>{format!("Remove level {name}")}</button>
            </fieldset>
        }
    };
    view! {
        <fieldset>
            <legend>"Ingress levels"</legend>
            {move || names().into_iter().map(level_view).collect_view()}
            <div class="form-row">
                <div class="field">
                    <label for="form-new-level">"New level name"</label>
                    <input id="form-new-level" prop:value=new_name on:input=move |ev| new_name.set(event_target_value(&ev)) />
                </div>
                <button type="button" class="button" disabled=move || new_name.with(|n| n.trim().is_empty()) on:click=move |_| {
                    let name = new_name.get_untracked().trim().to_owned();
                    edit(parsed, text, |d| {
                        let network = section(&mut d.spec.network);
                        let ingress = network.entry("ingress").or_insert_with(|| json!({}));
                        if !ingress.is_object() {
                            *ingress = json!({});
                        }
                        if let Some(ingress) = ingress.as_object_mut() {
                            ingress.entry(name).or_insert_with(|| json!({"scope": "user"}));
                        }
                    });
                    new_name.set(String::new());
                }>"Add level"</button>
            </div>
            {move || problems.get().into_iter().filter(|p| p == "spec.network.ingress" || p.starts_with("spec.network.ingress:")).map(|p| view! { <p class="field-error">{p}</p> }).collect_view()}
        </fieldset>
    }
}

/// Sets `key` of a level's `ingress` route object (removing the object when empty).
fn set_route(level: &mut Map<String, Value>, key: &str, value: String) {
    let route = level.entry("ingress").or_insert_with(|| json!({}));
    if !route.is_object() {
        *route = json!({});
    }
    if let Some(route) = route.as_object_mut() {
        if value.is_empty() {
            route.remove(key);
        } else {
            route.insert(key.to_owned(), json!(value));
        }
        if route.is_empty() {
            level.remove("ingress");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_lines_round_trip() {
        let map = pairs_from_lines("team = ml\n\n tier=gold \nflag");
        assert_eq!(map.get("team").map(String::as_str), Some("ml"));
        assert_eq!(map.get("flag").map(String::as_str), Some(""));
        assert_eq!(lines_from_pairs(&map), "flag=\nteam=ml\ntier=gold");
    }

    #[test]
    fn egress_sections_are_made_when_missing() {
        let mut network = None;
        let modes = modes(egress(section(&mut network)));
        modes.insert("org".to_owned(), json!({"type": "org"}));
        assert_eq!(
            network,
            Some(json!({"egress": {"modes": {"org": {"type": "org"}}}}))
        );
    }
}
