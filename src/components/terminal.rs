//! A shell in a running sandbox, in the browser: xterm.js (loaded when first opened)
//! over the gateway's terminal WebSocket, which runs the same terminal exec as gRPC's
//! `StreamExec` with `tty`. The terminal follows its box's size; Ctrl+] moves focus out
//! of it; a dropped connection says so and offers to reconnect (a new shell); leaving
//! the page closes the session.

use leptos::prelude::*;
use sandbox_api::exec_stream::{
    ExecStreamData, ExecStreamInit, ExecStreamRequest, ExecStreamResize, ExecStreamResponse,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

use crate::api::use_api;
use crate::xterm;

/// What the shell is: bash where the sandbox has it, else sh.
const SHELL: [&str; 3] = [
    "/bin/sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi",
];

#[derive(Clone, Debug, PartialEq)]
enum State {
    /// Not opened yet.
    Closed,
    Connecting,
    Open,
    /// The shell or the connection ended: why, in words.
    Ended(String),
}

/// Why a session ended, in words, from its last message (`None`: the connection closed
/// without one).
fn ending(last: Option<&ExecStreamResponse>) -> String {
    match last {
        Some(ExecStreamResponse::Exit(exit)) => {
            format!("The shell exited with code {}.", exit.exit_code)
        }
        Some(ExecStreamResponse::Error(error)) => format!("The terminal closed: {}", error.message),
        _ => "The connection to the sandbox closed.".to_owned(),
    }
}

/// Parts of a live session that must outlive the closures they feed.
struct Live {
    terminal: wasm_bindgen::JsValue,
    socket: Option<web_sys::WebSocket>,
    _callbacks: Vec<Box<dyn std::any::Any>>,
}

#[component]
pub fn TerminalPanel(sandbox_id: String) -> impl IntoView {
    let api = use_api();
    let state = RwSignal::new(State::Closed);
    let host = NodeRef::<leptos::html::Div>::new();
    let leave = NodeRef::<leptos::html::H2>::new();
    let live = StoredValue::new_local(None::<Live>);

    // A new socket for the terminal already shown: the messages go to it, typing and
    // resizes to the socket.
    let connect = {
        let (api, sandbox_id) = (api.clone(), sandbox_id.clone());
        move || {
            let Some(terminal) = live.with_value(|l| l.as_ref().map(|l| l.terminal.clone())) else {
                return;
            };
            state.set(State::Connecting);
            let init = ExecStreamInit {
                sandbox_id: sandbox_id.clone(),
                command: SHELL.iter().map(|s| (*s).to_owned()).collect(),
                tty: true,
                tty_width: xterm::columns(&terminal),
                tty_height: xterm::rows(&terminal),
            };
            let socket = match api.open_terminal(&sandbox_id, init) {
                Ok(socket) => socket,
                Err(error) => {
                    state.set(State::Ended(format!(
                        "The terminal could not connect: {error}"
                    )));
                    return;
                }
            };
            let last = StoredValue::new_local(None::<ExecStreamResponse>);
            let on_message = {
                let terminal = terminal.clone();
                Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                    move |event: web_sys::MessageEvent| {
                        let Some(text) = event.data().as_string() else {
                            return;
                        };
                        let Ok(message) = serde_json::from_str::<ExecStreamResponse>(&text) else {
                            return;
                        };
                        match &message {
                            ExecStreamResponse::Ready(_) => {
                                state.set(State::Open);
                                xterm::focus(&terminal);
                            }
                            ExecStreamResponse::Output(output) => {
                                xterm::write(&terminal, &output.data)
                            }
                            ExecStreamResponse::Exit(_) | ExecStreamResponse::Error(_) => {
                                last.set_value(Some(message));
                            }
                        }
                    },
                )
            };
            let on_close = Closure::<dyn FnMut()>::new(move || {
                let why = last.with_value(|last| ending(last.as_ref()));
                state.set(State::Ended(why));
            });
            socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            live.update_value(|l| {
                if let Some(l) = l {
                    if let Some(old) = l.socket.replace(socket) {
                        let _ = old.close();
                    }
                    l._callbacks.push(Box::new(on_message));
                    l._callbacks.push(Box::new(on_close));
                }
            });
        }
    };

    let send = move |request: ExecStreamRequest| {
        live.with_value(|l| {
            if let Some(socket) = l.as_ref().and_then(|l| l.socket.as_ref())
                && socket.ready_state() == web_sys::WebSocket::OPEN
                && let Ok(text) = serde_json::to_string(&request)
            {
                let _ = socket.send_with_str(&text);
            }
        });
    };

    let open = {
        let connect = connect.clone();
        move |_| {
            state.set(State::Connecting);
            let connect = connect.clone();
            leptos::task::spawn_local(async move {
                if JsFuture::from(xterm::load_xterm()).await.is_err() {
                    state.set(State::Ended("The terminal could not be loaded.".into()));
                    return;
                }
                let Some(element) = host.get_untracked() else {
                    return;
                };
                let on_data = Closure::<dyn FnMut(String)>::new(move |typed: String| {
                    send(ExecStreamRequest::Stdin(ExecStreamData {
                        data: typed.into_bytes(),
                    }));
                });
                let on_resize =
                    Closure::<dyn FnMut(u32, u32)>::new(move |width: u32, height: u32| {
                        send(ExecStreamRequest::Resize(ExecStreamResize {
                            width,
                            height,
                        }));
                    });
                let on_leave = Closure::<dyn FnMut()>::new(move || {
                    // To the panel's heading: Tab goes on from there.
                    if let Some(heading) = leave.get_untracked() {
                        let _ = heading.focus();
                    }
                });
                let terminal = xterm::create_terminal(
                    &element,
                    crate::theme::is_dark(),
                    &on_data,
                    &on_resize,
                    &on_leave,
                );
                live.set_value(Some(Live {
                    terminal,
                    socket: None,
                    _callbacks: vec![Box::new(on_data), Box::new(on_resize), Box::new(on_leave)],
                }));
                connect();
            });
        }
    };

    on_cleanup(move || {
        if let Some(Some(live)) = live.try_update_value(Option::take) {
            if let Some(socket) = &live.socket {
                socket.set_onclose(None);
                let _ = socket.close();
            }
            xterm::dispose(&live.terminal);
        }
    });

    let reconnect = move |_| connect();
    view! {
        <section class="card terminal-panel" aria-labelledby="terminal-heading">
            <header class="terminal-header">
                <h2 id="terminal-heading" tabindex="-1" node_ref=leave>"Terminal"</h2>
                {move || match state.get() {
                    State::Closed => view! {
                        <button type="button" class="button primary" on:click=open.clone()>"Open a shell"</button>
                    }.into_any(),
                    State::Connecting => view! { <span class="hint" role="status">"Connecting…"</span> }.into_any(),
                    State::Open => view! { <span class="hint">"Connected. Ctrl+] leaves the terminal."</span> }.into_any(),
                    State::Ended(why) => view! {
                        <span class="terminal-ended" role="status">{why}</span>
                        " "
                        <button type="button" class="button" on:click=reconnect.clone()>"Reconnect"</button>
                    }.into_any(),
                }}
            </header>
            <div
                class="terminal-host"
                class:hidden=move || state.get() == State::Closed
                node_ref=host
            ></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_api::exec_stream::{ExecStreamError, ExecStreamExit};

    #[test]
    fn an_ending_says_how_the_shell_or_the_connection_ended() {
        assert_eq!(
            ending(Some(&ExecStreamResponse::Exit(ExecStreamExit {
                exit_code: 3
            }))),
            "The shell exited with code 3."
        );
        let error = ExecStreamResponse::Error(ExecStreamError {
            message: "the gateway is stopping".into(),
            code: "UNAVAILABLE".into(),
        });
        assert_eq!(
            ending(Some(&error)),
            "The terminal closed: the gateway is stopping"
        );
        assert_eq!(ending(None), "The connection to the sandbox closed.");
    }
}
