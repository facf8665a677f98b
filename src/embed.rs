//! Living inside a host cloud console (SPEC §5): `?embed=1` hides the console's own
//! chrome; the host hands over the token and theme by `postMessage`, accepted only from
//! the parent window and only from the origins in `embedAllowedOrigins`; the console
//! tells the host its height and where it navigated.

use sandbox_api::role::Role;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::Api;
use crate::session::Session;

/// Whether this page is embedded in a host console; decided once, at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Embedding {
    pub embedded: bool,
}

impl Embedding {
    pub fn from_location() -> Embedding {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let embedded = search
            .trim_start_matches('?')
            .split('&')
            .any(|pair| pair == "embed=1" || pair == "embed=true");
        Embedding { embedded }
    }
}

/// A message from the host.
enum HostMessage {
    Auth { token: String },
    Theme { theme: String },
}

impl HostMessage {
    /// Reads a message object (`{type, token}` or `{type, theme}`); anything else is
    /// not for the console.
    fn read(data: &JsValue) -> Option<HostMessage> {
        let field = |name: &str| {
            js_sys::Reflect::get(data, &JsValue::from_str(name))
                .ok()?
                .as_string()
        };
        match field("type")?.as_str() {
            "sandbox-console:auth" => Some(HostMessage::Auth {
                token: field("token")?,
            }),
            "sandbox-console:theme" => Some(HostMessage::Theme {
                theme: field("theme")?,
            }),
            _ => None,
        }
    }
}

/// Listens for host messages for the life of the page.
pub fn listen_to_host(api: Api, session: Session) {
    let Some(window) = web_sys::window() else {
        return;
    };
    // Only the window that frames this page speaks for the host. A message's origin
    // names the site that sent it, not the window: any other window of an allowed
    // origin (another frame on the host's page, a popup the host's site opened) could
    // otherwise sign the console in with a token of its choosing, so that the user
    // works in that token's organization, or set its theme. A page that is not framed
    // is its own parent and has no host to listen to. A frame's parent never changes,
    // so it is read once.
    let Some(parent) = window
        .parent()
        .ok()
        .flatten()
        .filter(|parent| !js_sys::Object::is(parent, &window))
    else {
        return;
    };
    let allowed = api.config().embed_allowed_origins.clone();
    let handler =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let from_parent = event
                .source()
                .is_some_and(|source| js_sys::Object::is(&source, &parent));
            // Anything from another window or an origin not on the list is ignored,
            // whatever it says.
            if !from_parent || !allowed.iter().any(|origin| *origin == event.origin()) {
                return;
            }
            let Some(message) = HostMessage::read(&event.data()) else {
                return;
            };
            match message {
                HostMessage::Auth { token } => {
                    let (api, token) = (api.clone(), token.trim().to_owned());
                    leptos::task::spawn_local(async move {
                        if api.check_token(&token).await.is_ok() {
                            let role = api.probe_role(&token).await.unwrap_or(Role::User);
                            session.sign_in(token, role);
                        }
                    });
                }
                HostMessage::Theme { theme } => set_theme(&theme),
            }
        });
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    handler.forget();
}

/// `light` or `dark` from the host; anything else returns to the OS preference.
pub fn set_theme(theme: &str) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = match theme {
        "light" | "dark" => root.set_attribute("data-theme", theme),
        _ => root.remove_attribute("data-theme"),
    };
}

/// `{type, <key>: value}` as a JavaScript object, for `postMessage`.
fn message(kind: &str, key: &str, value: JsValue) -> JsValue {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &object,
        &JsValue::from_str("type"),
        &JsValue::from_str(kind),
    );
    let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
    object.into()
}

/// Tells the host the console navigated to `path`.
pub fn report_navigation(allowed: &[String], path: &str) {
    tell_host(
        allowed,
        &message("sandbox-console:navigated", "path", JsValue::from_str(path)),
    );
}

/// Posts `message` to the embedding host, if it is an allowed origin.
fn tell_host(allowed: &[String], message: &JsValue) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(host) = host_origin(&window).filter(|origin| allowed.contains(origin)) else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let _ = parent.post_message(message, &host);
}

/// The origin of the page that frames this one.
fn host_origin(window: &web_sys::Window) -> Option<String> {
    // `location.ancestorOrigins` (Chromium, WebKit) names the framing origin exactly.
    let ancestors = js_sys::Reflect::get(&window.location(), &"ancestorOrigins".into()).ok();
    if let Some(first) = ancestors
        .and_then(|a| a.dyn_into::<web_sys::DomStringList>().ok())
        .and_then(|list| list.item(0))
    {
        return Some(first);
    }
    let referrer = window.document()?.referrer();
    let url = web_sys::Url::new(&referrer).ok()?;
    Some(url.origin())
}

/// Reports the page height to the host whenever it changes.
pub fn report_height(allowed: Vec<String>) {
    let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    else {
        return;
    };
    // The body's own height, not the document's scroll height: that is never less
    // than the frame, so a frame sized to it could grow but never shrink.
    let measured = body.clone();
    let callback = Closure::<dyn Fn()>::new(move || {
        let height = measured.get_bounding_client_rect().height().ceil() as i32;
        tell_host(
            &allowed,
            &message("sandbox-console:resize", "height", JsValue::from(height)),
        );
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
        observer.observe(&body);
        // Both live as long as the page.
        std::mem::forget(observer);
    }
    callback.forget();
}
