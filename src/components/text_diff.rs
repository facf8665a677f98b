//! Two versions of a text, line by line: what was removed, what was added, and a few
//! unchanged lines around each change (longer unchanged stretches are folded).

use leptos::prelude::*;
use similar::{ChangeTag, TextDiff as Diff};

/// Unchanged lines shown around each change.
const CONTEXT: usize = 3;

#[component]
pub fn TextDiff(
    before: String,
    after: String,
    /// What the two versions are, for assistive technology.
    label: String,
) -> impl IntoView {
    let diff = Diff::from_lines(&before, &after);
    let groups = diff.grouped_ops(CONTEXT);
    if groups.is_empty() {
        return view! { <p class="hint">"No changes."</p> }.into_any();
    }
    let mut lines = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            lines.push(view! { <span class="diff-line fold">"⋯\n"</span> }.into_any());
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let (class, sign) = match change.tag() {
                    ChangeTag::Delete => ("diff-line removed", "- "),
                    ChangeTag::Insert => ("diff-line added", "+ "),
                    ChangeTag::Equal => ("diff-line", "  "),
                };
                let mut text = format!("{sign}{}", change.value());
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                lines.push(view! { <span class=class>{text}</span> }.into_any());
            }
        }
    }
    view! { <pre class="diff" aria-label=label>{lines}</pre> }.into_any()
}
