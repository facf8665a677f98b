//! Profiles: the organization's profile templates with what each sets (runtime class,
//! namespace strategy, egress modes) and how many runners bind it; search and sort in
//! the URL; each opens in the editor; deleting one names the runners that still bind
//! it instead of failing.

use std::cmp::Ordering;
use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::namespace::strategy_of;
use sandbox_api::placement::offered_modes;
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::role::Role;
use sandbox_api::runner::Runner;

use crate::api::{ApiError, use_api};
use crate::components::admin_only::AdminOnly;
use crate::components::error_panel::ErrorPanel;
use crate::components::sort_header::SortHeader;
use crate::components::toasts::use_toasts;
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::{Sort, link, rel_for};
use crate::session::use_session;

/// One template as the list shows it.
#[derive(Clone, Debug, PartialEq)]
struct ProfileRow {
    id: String,
    name: String,
    description: String,
    labels: Vec<String>,
    runtime_class: String,
    /// `None` when the namespace JSON names no known strategy.
    namespace: Option<&'static str>,
    egress_modes: Vec<String>,
    /// The runners that bind it, by ID.
    bound_by: Vec<String>,
}

impl ProfileRow {
    fn new(template: ProfileTemplate, bound_by: Vec<String>) -> ProfileRow {
        let spec = template.spec.unwrap_or_default();
        ProfileRow {
            id: template.id,
            name: template.display_name,
            description: template.description,
            labels: template
                .labels
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            namespace: strategy_of(&spec.namespace_config_json).map(|s| s.as_str()),
            egress_modes: offered_modes(&spec).egress,
            runtime_class: spec.runtime_class,
            bound_by,
        }
    }

    /// Whether `needle` (lowercase) is in the name, description or labels.
    fn matches(&self, needle: &str) -> bool {
        needle.is_empty()
            || [&self.name, &self.description]
                .into_iter()
                .chain(&self.labels)
                .any(|text| text.to_lowercase().contains(needle))
    }
}

/// The rows from the templates and the runners binding them, searched and sorted.
fn rows(
    templates: &[ProfileTemplate],
    runners: &[Runner],
    search: &str,
    sort: &Sort,
) -> Vec<ProfileRow> {
    let mut bound_by: HashMap<&str, Vec<String>> = HashMap::new();
    for runner in runners {
        let runner_id = runner
            .identity
            .as_ref()
            .map_or(runner.id.as_str(), |i| i.runner_id.as_str());
        for binding in &runner.profile_bindings {
            bound_by
                .entry(binding.profile_template_id.as_str())
                .or_default()
                .push(runner_id.to_owned());
        }
    }
    let needle = search.trim().to_lowercase();
    let mut rows: Vec<ProfileRow> = templates
        .iter()
        .map(|t| {
            ProfileRow::new(
                t.clone(),
                bound_by.remove(t.id.as_str()).unwrap_or_default(),
            )
        })
        .filter(|row| row.matches(&needle))
        .collect();
    rows.sort_by(|a, b| {
        let order = match sort.column.as_str() {
            "runners" => a.bound_by.len().cmp(&b.bound_by.len()),
            "runtime" => a.runtime_class.cmp(&b.runtime_class),
            _ => Ordering::Equal,
        }
        .then_with(|| a.name.cmp(&b.name));
        if sort.descending {
            order.reverse()
        } else {
            order
        }
    });
    rows
}

#[component]
pub fn ProfilesPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let embedded = expect_context::<Embedding>().embedded;
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|q| q.get_str("q").unwrap_or_default().to_owned()));
    let sort = Memo::new(move |_| query.with(|q| Sort::parse(q.get_str("sort"), "name")));
    let data = LocalResource::new(move || {
        connectivity.recoveries();
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
    let navigate = use_navigate();
    let on_search = move |ev| {
        let text = event_target_value(&ev);
        let pairs = [("q", text), ("sort", sort.get_untracked().to_param())];
        navigate(
            &link("/profiles", &pairs, embedded),
            leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };

    view! {
        <section class="page" aria-labelledby="profiles-heading">
            <header class="page-header">
                <h1 id="profiles-heading">"Profiles"</h1>
                <div class="page-actions">
                    <AdminOnly what="create or change profiles">
                        <a class="button primary" href=link("/profiles/new", &[], embedded) rel=rel_for("/profiles/new")>"New profile"</a>
                    </AdminOnly>
                    <button class="button" on:click=move |_| data.refetch()>"Refresh"</button>
                </div>
            </header>
            <div class="field">
                <label for="profiles-search">"Search profiles"</label>
                <input id="profiles-search" type="search" placeholder="name, description or label" prop:value=search on:input=on_search />
            </div>
            {move || match data.get() {
                None => view! { <p class="loading" role="status">"Loading profiles…"</p> }.into_any(),
                Some(Ok((templates, _))) if templates.is_empty() => view! { <EmptyProfiles /> }.into_any(),
                Some(Ok((templates, runners))) => {
                    let shown = rows(&templates, &runners, &search.get(), &sort.get());
                    let total = templates.len();
                    let on_deleted = Callback::new(move |()| data.refetch());
                    view! { <ProfileTable rows=shown total sort=sort.get() search=search.get() on_deleted /> }.into_any()
                }
                Some(Err(error)) if error.is_unauthenticated() => view! { <SessionEnded error /> }.into_any(),
                Some(Err(error)) => {
                    let retry = Callback::new(move |()| data.refetch());
                    view! { <ErrorPanel title="Could not load profiles" error on_retry=retry /> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn ProfileTable(
    rows: Vec<ProfileRow>,
    total: usize,
    sort: Sort,
    search: String,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    let count = rows.len();
    let header = move |column: &'static str, label: &'static str| {
        let pairs = [
            ("q", search.clone()),
            ("sort", sort.toggled(column).to_param()),
        ];
        let href = link("/profiles", &pairs, embedded);
        view! { <SortHeader label column sort=sort.clone() href /> }
    };
    if count == 0 {
        return view! {
            <div class="empty-state">
                <p class="empty-title">"No profile matches"</p>
                <p>{format!("None of the {total} profiles has this in its name, description or labels.")}</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="data-table profiles">
            <caption>{format!("{count} of {total} profiles")}</caption>
            <thead>
                <tr>
                    {header("name", "Name")}
                    <th scope="col">"Description"</th>
                    <th scope="col">"Labels"</th>
                    {header("runtime", "Runtime class")}
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Egress modes"</th>
                    {header("runners", "Runners")}
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! { <ProfileRowView row on_deleted /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ProfileRowView(row: ProfileRow, on_deleted: Callback<()>) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    let labels = row.labels.clone();
    let runners = row.bound_by.len();
    let runners_title = row.bound_by.join(", ");
    view! {
        <tr>
            <th scope="row" class="name">
                {
                    let path = format!("/profiles/{}", js_sys::encode_uri_component(&row.id));
                    view! { <a href=link(&path, &[], embedded) rel=rel_for(&path)>{row.name.clone()}</a> }
                }
            </th>
            <td data-label="Description">{row.description.clone()}</td>
            <td data-label="Labels">
                <ul class="chips" aria-label="Labels">
                    {labels.into_iter().map(|l| view! { <li class="chip">{l}</li> }).collect_view()}
                </ul>
            </td>
            <td data-label="Runtime class">{if row.runtime_class.is_empty() { "default".to_owned() } else { row.runtime_class.clone() }}</td>
            <td data-label="Namespace">{row.namespace.unwrap_or("(invalid)")}</td>
            <td data-label="Egress modes">{if row.egress_modes.is_empty() { "none".to_owned() } else { row.egress_modes.join(", ") }}</td>
            <td data-label="Runners" class="number" title=runners_title>{runners}</td>
            // The page says once, by New profile, that only administrators change
            // profiles; a row says nothing more.
            <td>
                {move || (use_session().role() == Some(Role::Admin)).then(|| view! {
                    <DeleteProfile row=row.clone() on_deleted />
                })}
            </td>
        </tr>
    }
}

/// Delete, after a confirmation; for a profile that runners still bind, the runners to
/// detach it from instead.
#[component]
fn DeleteProfile(row: ProfileRow, on_deleted: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let embedded = expect_context::<Embedding>().embedded;
    let open = RwSignal::new(false);
    let name = row.name.clone();
    let delete = Action::new_local(move |id: &String| {
        let (api, id) = (api.clone(), id.clone());
        async move { api.delete_profile_template(&id).await }
    });
    let deleted_name = name.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            toasts.success(format!("Deleted profile {deleted_name}"));
            open.set(false);
            on_deleted.run(());
        }
    });
    let ProfileRow { id, bound_by, .. } = row;
    let label = format!("Delete {name}");
    view! {
        <button type="button" class="button quiet" aria-label=label aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>"Delete…"</button>
        <Show when=move || open.get()>
            {
                let (id, name, bound_by) = (id.clone(), name.clone(), bound_by.clone());
                if bound_by.is_empty() {
                    view! {
                        <div class="confirm" role="alertdialog" aria-label=format!("Delete profile {name}?")>
                            <p>{format!("Delete profile {name}? This cannot be undone.")}</p>
                            {move || delete.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel title="The profile was not deleted" error /> })}
                            <button type="button" class="button danger" disabled=move || delete.pending().get() on:click={
                                let id = id.clone();
                                move |_| { delete.dispatch(id.clone()); }
                            }>"Delete"</button>
                            <button type="button" class="button quiet" on:click=move |_| open.set(false)>"Cancel"</button>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <div class="confirm" role="alertdialog" aria-label=format!("Profile {name} is bound")>
                            <p>{format!("{name} is bound by {} runner{}; detach it from them first:", bound_by.len(), if bound_by.len() == 1 { "" } else { "s" })}</p>
                            <ul class="bound-runners">
                                {bound_by.iter().map(|runner| view! {
                                    <li>
                                        {
                                            let path = format!("/runners/{runner}");
                                            view! { <a href=link(&path, &[], embedded) rel=rel_for(&path)>{runner.clone()}</a> }
                                        }
                                    </li>
                                }).collect_view()}
                            </ul>
                            <button type="button" class="button quiet" on:click=move |_| open.set(false)>"Close"</button>
                        </div>
                    }
                    .into_any()
                }
            }
        </Show>
    }
}

#[component]
fn EmptyProfiles() -> impl IntoView {
    view! {
        <div class="empty-state">
            <p class="empty-title">"No profiles yet"</p>
            <p>
                "A profile is a set of guardrails (image, resources, network) that runners expose to developers. "
                "An administrator creates them with the API or the CLI."
            </p>
        </div>
    }
}

/// The token stopped working (revoked, or the gateway's data was reset).
#[component]
fn SessionEnded(error: crate::api::ApiError) -> impl IntoView {
    let session = use_session();
    // Signing out makes the shell send the user to sign-in, and back here afterwards.
    let sign_in_again = move |_| session.sign_out();
    view! {
        <div class="stack">
            <ErrorPanel title="Your session is no longer valid" error />
            <button class="button primary" on:click=sign_in_again>"Sign in again"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use sandbox_api::profile::ProfileSpec;
    use sandbox_api::runner::{ProfileBinding, RunnerIdentity};

    use super::*;

    fn template(id: &str, name: &str, runtime: &str) -> ProfileTemplate {
        ProfileTemplate {
            id: id.to_owned(),
            display_name: name.to_owned(),
            labels: [("team".to_owned(), format!("team-{name}"))].into(),
            spec: Some(ProfileSpec {
                runtime_class: runtime.to_owned(),
                namespace_config_json: r#"{"strategy": "per-org"}"#.to_owned(),
                network_config_json: r#"{"egress": {"default": "none", "modes": {"none": {"type": "none"}, "org": {"type": "org"}}}}"#.to_owned(),
                ..ProfileSpec::default()
            }),
            ..ProfileTemplate::default()
        }
    }

    fn runner(id: &str, templates: &[&str]) -> Runner {
        Runner {
            identity: Some(RunnerIdentity {
                runner_id: id.to_owned(),
                ..RunnerIdentity::default()
            }),
            profile_bindings: templates
                .iter()
                .map(|t| ProfileBinding {
                    profile_template_id: (*t).to_owned(),
                    ..ProfileBinding::default()
                })
                .collect(),
            ..Runner::default()
        }
    }

    #[test]
    fn rows_say_what_each_profile_sets_and_who_binds_it() {
        let templates = [template("a", "alpha", "gvisor"), template("b", "beta", "")];
        let runners = [runner("r1", &["a", "b"]), runner("r2", &["a"])];
        let shown = rows(&templates, &runners, "", &Sort::parse(None, "name"));
        assert_eq!(shown[0].name, "alpha");
        assert_eq!(shown[0].bound_by, ["r1", "r2"]);
        assert_eq!(shown[0].namespace, Some("per-org"));
        assert_eq!(shown[0].egress_modes, ["none", "org"]);
        assert_eq!(shown[1].bound_by, ["r1"]);
    }

    #[test]
    fn search_looks_at_names_descriptions_and_labels_and_sort_can_flip() {
        let templates = [
            template("a", "alpha", "gvisor"),
            template("b", "beta", "kata"),
        ];
        let runners = [runner("r1", &["a", "b"]), runner("r2", &["a"])];
        let by_label = rows(
            &templates,
            &runners,
            "TEAM-BETA",
            &Sort::parse(None, "name"),
        );
        assert_eq!(by_label.len(), 1);
        assert_eq!(by_label[0].name, "beta");
        let fewest_first = rows(
            &templates,
            &runners,
            "",
            &Sort::parse(Some("runners"), "name"),
        );
        assert_eq!(fewest_first[0].name, "beta");
        let most_first = rows(
            &templates,
            &runners,
            "",
            &Sort::parse(Some("-runners"), "name"),
        );
        assert_eq!(most_first[0].name, "alpha");
    }
}
