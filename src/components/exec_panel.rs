//! Run a command in a running sandbox and read what it printed and how it exited.
//! The command line is split as a POSIX shell would (quotes, escapes) but not run by
//! one; the session's commands stay listed, newest first, and the arrow keys recall
//! them.

use leptos::prelude::*;
use sandbox_api::ansi;
use sandbox_api::sandbox::ExecResponse;

use crate::api::{ApiError, use_api};

/// How long a command may run before the sandbox gives up on it.
const TIMEOUT_SECONDS: i32 = 60;

#[derive(Clone)]
struct Run {
    id: usize,
    command: String,
    outcome: Result<ExecResponse, ApiError>,
}

#[component]
pub fn ExecPanel(sandbox_id: String) -> impl IntoView {
    let api = use_api();
    let line = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let runs = RwSignal::new(Vec::<Run>::new());
    // Which earlier command the arrow keys recalled (0 = the newest).
    let recalled = RwSignal::new(None::<usize>);
    let exec = Action::new_local(move |command: &String| {
        let (api, id, command) = (api.clone(), sandbox_id.clone(), command.clone());
        async move {
            let argv = shell_words::split(&command).unwrap_or_default();
            let outcome = api.exec(&id, argv, TIMEOUT_SECONDS).await;
            (command, outcome)
        }
    });
    Effect::new(move |_| {
        if let Some((command, outcome)) = exec.value().get() {
            runs.update(|runs| {
                let id = runs.len();
                runs.insert(
                    0,
                    Run {
                        id,
                        command,
                        outcome,
                    },
                );
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let command = line.get_untracked();
        match shell_words::split(&command) {
            Ok(argv) if argv.is_empty() => problem.set(Some("Type a command to run.".into())),
            Ok(_) => {
                problem.set(None);
                recalled.set(None);
                exec.dispatch(command);
                line.set(String::new());
            }
            Err(_) => problem.set(Some("A quote is not closed.".into())),
        }
    };
    let recall = move |ev: leptos::ev::KeyboardEvent| {
        let step: isize = match ev.key().as_str() {
            "ArrowUp" => 1,
            "ArrowDown" => -1,
            _ => return,
        };
        ev.prevent_default();
        let count = runs.with_untracked(Vec::len);
        let next = match recalled.get_untracked() {
            None if step > 0 && count > 0 => Some(0),
            None => None,
            Some(at) => at.checked_add_signed(step).filter(|&i| i < count),
        };
        recalled.set(next);
        let text =
            next.and_then(|i| runs.with_untracked(|r| r.get(i).map(|run| run.command.clone())));
        line.set(text.unwrap_or_default());
    };

    view! {
        <section class="card exec-panel" aria-labelledby="exec-heading">
            <h2 id="exec-heading">"Run a command"</h2>
            <form class="exec-form" on:submit=submit>
                <label for="exec-command">"Command"</label>
                <input
                    id="exec-command"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="e.g. ls -la /tmp"
                    prop:value=line
                    on:input=move |ev| line.set(event_target_value(&ev))
                    on:keydown=recall
                />
                <button type="submit" class="button primary" disabled=move || exec.pending().get()>
                    {move || if exec.pending().get() { "Running…" } else { "Run" }}
                </button>
            </form>
            {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
            <ol class="exec-runs" aria-label="Commands run in this session">
                <For each=move || runs.get() key=|run| run.id let:run>
                    <li class="exec-run">
                        <p class="exec-command"><code>{format!("$ {}", run.command)}</code></p>
                        {match run.outcome {
                            Ok(result) => view! { <ExecResult result /> }.into_any(),
                            Err(error) => view! { <p class="field-error">{error.to_string()}</p> }.into_any(),
                        }}
                    </li>
                </For>
            </ol>
        </section>
    }
}

#[component]
fn ExecResult(result: ExecResponse) -> impl IntoView {
    let text = |bytes: &[u8]| ansi::strip(&String::from_utf8_lossy(bytes));
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    let truncated = result.stdout_truncated || result.stderr_truncated;
    view! {
        <p class=if result.exit_code == 0 { "exec-exit status ok" } else { "exec-exit status bad" }>
            {format!("exit code {}", result.exit_code)}
        </p>
        {(!stdout.is_empty()).then(|| view! { <pre class="exec-stdout" aria-label="Standard output">{stdout}</pre> })}
        {(!stderr.is_empty()).then(|| view! { <pre class="exec-stderr" aria-label="Standard error">{stderr}</pre> })}
        {truncated.then(|| view! { <p class="hint">"The output was cut at the server's limit."</p> })}
    }
}
