//! Labelled form fields, the same markup on every form: a `div.field` holding the
//! label, the control, then whatever the caller adds under it (a hint, the problems
//! found in the field). Not generic, so each is in a bundle once however many forms
//! use it.

use leptos::prelude::*;

/// A labelled one-line text input showing `value`. `on_input` hears every keystroke,
/// `on_change` the value when the user leaves the field (or presses Enter). Until the
/// field is left, it keeps exactly what was typed, even when `value` (read back from
/// what the typing wrote) says it another way (`a, ` read back as `a`); a change made
/// elsewhere meanwhile shows at once.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// Browsers offer no remembered values (for fields that are not personal data).
    #[prop(optional)]
    no_autocomplete: bool,
    #[prop(optional)] on_input: Option<Callback<String>>,
    #[prop(optional)] on_change: Option<Callback<String>>,
    /// Shown under the input: a hint, the field's problems.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    // What was typed, with what `value` became from it: shown while `value` still says
    // that (a change made elsewhere shows instead).
    let typed = RwSignal::new(None::<(String, String)>);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                autocomplete=no_autocomplete.then_some("off")
                placeholder=placeholder
                prop:value=move || {
                    let now = value.get();
                    typed.with(|t| match t {
                        Some((text, written)) if *written == now => text.clone(),
                        _ => now,
                    })
                }
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    if let Some(on_input) = on_input {
                        on_input.run(text.clone());
                    }
                    typed.set(Some((text, value.get_untracked())));
                }
                on:change=move |ev| {
                    let text = event_target_value(&ev);
                    // A change that came without input (a script clearing the field)
                    // is written as typing would be.
                    if let Some(on_input) = on_input {
                        on_input.run(text.clone());
                    }
                    // Left: the field shows the value as it reads back from now on.
                    typed.set(None);
                    if let Some(on_change) = on_change {
                        on_change.run(text);
                    }
                }
            />
            {children.map(|children| children())}
        </div>
    }
}

/// A labelled choice among `options` (their text is their value), with a first option
/// `none` whose value is empty.
#[component]
pub fn SelectField(
    id: &'static str,
    label: &'static str,
    none: &'static str,
    #[prop(into)] options: Signal<Vec<String>>,
    #[prop(into)] value: Signal<String>,
    on_change: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id prop:value=value on:change=move |ev| on_change.run(event_target_value(&ev))>
                <option value="">{none}</option>
                {move || {
                    let chosen = value.get();
                    options
                        .get()
                        .into_iter()
                        .map(|option| {
                            let selected = option == chosen;
                            let value = option.clone();
                            view! { <option value=value selected=selected>{option}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </div>
    }
}
