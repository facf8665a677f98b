//! What a sandbox, a runner or the fleet uses over time: CPU and memory charts (uPlot,
//! loaded with the first chart), live while the page is open, with the latest values
//! in words beside them for whoever does not see the charts.

use std::time::Duration;

use leptos::prelude::*;
use sandbox_api::usage::{UsageHistoryResponse, columns, describe_now};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::{ApiError, UsageOf, use_api};
use crate::chart;
use crate::repeat;

/// How often the charts ask for new points (the gateway measures every 2 s by default).
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// The two charts, once drawn.
struct Charts {
    cpu: JsValue,
    memory: JsValue,
}

#[component]
pub fn UsageCharts(
    of: UsageOf,
    /// Only the points this recent (all that is kept otherwise).
    #[prop(optional)]
    window: Option<Duration>,
    /// Said while nothing has been measured.
    #[prop(into)]
    empty: String,
) -> impl IntoView {
    let api = use_api();
    let counts = !matches!(of, UsageOf::Sandbox(_));
    let history = RwSignal::new(None::<UsageHistoryResponse>);
    let error = RwSignal::new(None::<ApiError>);
    let unavailable = RwSignal::new(false);
    let charts = StoredValue::new_local(None::<Charts>);
    let cpu_host = NodeRef::<leptos::html::Div>::new();
    let memory_host = NodeRef::<leptos::html::Div>::new();

    let shown = move |response: &UsageHistoryResponse| {
        let since = window.map(|w| crate::components::moment::now() - w);
        response
            .points
            .iter()
            .filter(|p| since.is_none_or(|since| p.time.is_some_and(|t| t >= since)))
            .cloned()
            .collect::<Vec<_>>()
    };
    let draw = move || {
        history.with_untracked(|h| {
            let Some(response) = h else { return };
            let [times, cpu, memory] = columns(shown(response).iter());
            charts.with_value(|c| {
                if let Some(c) = c {
                    chart::set_data(&c.cpu, &times, &cpu);
                    chart::set_data(&c.memory, &times, &memory);
                }
            });
        });
    };
    let fetch = move || {
        let (api, of) = (api.clone(), of.clone());
        leptos::task::spawn_local(async move {
            match api.usage_history(&of).await {
                Ok(response) => {
                    error.set(None);
                    history.set(Some(response));
                    draw();
                }
                Err(failure) => error.set(Some(failure)),
            }
        });
    };
    fetch();
    repeat::every(REFRESH_EVERY, fetch.clone());
    // The charts are drawn once their places are on the page and uPlot has loaded.
    Effect::new(move |drawn: Option<bool>| {
        if drawn == Some(true) {
            return true;
        }
        let (Some(cpu_element), Some(memory_element)) = (cpu_host.get(), memory_host.get()) else {
            return false;
        };
        leptos::task::spawn_local(async move {
            if JsFuture::from(chart::load_uplot()).await.is_err() {
                unavailable.set(true);
                return;
            }
            let dark = crate::theme::is_dark();
            let cpu_element: &web_sys::HtmlElement = cpu_element.unchecked_ref();
            let memory_element: &web_sys::HtmlElement = memory_element.unchecked_ref();
            charts.set_value(Some(Charts {
                cpu: chart::create_chart(cpu_element, "CPU", "cpu", dark),
                memory: chart::create_chart(memory_element, "Memory", "memory", dark),
            }));
            draw();
        });
        true
    });
    on_cleanup(move || {
        if let Some(Some(drawn)) = charts.try_update_value(Option::take) {
            chart::dispose(&drawn.cpu);
            chart::dispose(&drawn.memory);
        }
    });
    let now = move || {
        history.with(|h| {
            h.as_ref()
                .and_then(|response| describe_now(&shown(response), counts))
        })
    };
    view! {
        <div class="usage">
            <p class="usage-now" role="status">
                {move || match (now(), history.with(Option::is_some)) {
                    (Some(text), _) => text,
                    (None, true) => empty.clone(),
                    (None, false) => "Loading usage…".to_owned(),
                }}
            </p>
            {move || error.get().map(|e| view! { <p class="hint">{format!("The latest usage could not be loaded: {e}")}</p> })}
            {move || unavailable.get().then(|| view! { <p class="hint">"The charts could not be loaded; the figures above stay current."</p> })}
            <div class="usage-charts">
                <figure class="usage-chart">
                    <figcaption>"CPU"</figcaption>
                    <div class="chart" data-chart="cpu" node_ref=cpu_host aria-hidden="true"></div>
                </figure>
                <figure class="usage-chart">
                    <figcaption>"Memory"</figcaption>
                    <div class="chart" data-chart="memory" node_ref=memory_host aria-hidden="true"></div>
                </figure>
            </div>
        </div>
    }
}
