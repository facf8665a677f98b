//! The console ships as more than one page (HTML file and wasm bundle), so that what a
//! view does not use is not downloaded with it: the profile editor, with its YAML
//! parser and Monaco, is its own page, and so is runner administration. This says which page serves a path: the gateway
//! serves it for deep links, and the console makes links to another page full
//! navigations. Local decision, kept here only.

/// One of the console's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsolePage {
    /// Discovery, sandboxes, runners, the profile list, sign-in.
    Main,
    /// `/profiles/new` and `/profiles/{id}`: the profile editor.
    ProfileEditor,
    /// `/managed-runners…` and `/rollout`: creating, changing and deleting runners,
    /// their bindings and overrides, and rolling out a new profile version.
    RunnerAdmin,
}

impl ConsolePage {
    /// The page that serves `path` (without query).
    pub fn for_path(path: &str) -> ConsolePage {
        let mut segments = path.trim_matches('/').split('/');
        match (segments.next(), segments.next(), segments.next()) {
            (Some("profiles"), Some(profile), None) if !profile.is_empty() => {
                ConsolePage::ProfileEditor
            }
            (Some("managed-runners" | "rollout"), _, _) => ConsolePage::RunnerAdmin,
            _ => ConsolePage::Main,
        }
    }

    /// Its HTML file in the console's distribution.
    pub fn html_file(self) -> &'static str {
        match self {
            ConsolePage::Main => "index.html",
            ConsolePage::ProfileEditor => "profile-editor.html",
            ConsolePage::RunnerAdmin => "runner-admin.html",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_serves_one_profile_and_new_the_main_page_the_rest() {
        for path in ["/profiles/new", "/profiles/0b8e-42", "/profiles/abc/"] {
            assert_eq!(
                ConsolePage::for_path(path),
                ConsolePage::ProfileEditor,
                "{path}"
            );
        }
        for path in [
            "/",
            "/profiles",
            "/profiles/",
            "/runners/r1",
            "/sandboxes/new",
            "/profiles/a/b",
        ] {
            assert_eq!(ConsolePage::for_path(path), ConsolePage::Main, "{path}");
        }
        for path in [
            "/managed-runners",
            "/managed-runners/new",
            "/managed-runners/r1",
            "/rollout",
        ] {
            assert_eq!(
                ConsolePage::for_path(path),
                ConsolePage::RunnerAdmin,
                "{path}"
            );
        }
        assert_eq!(
            ConsolePage::ProfileEditor.html_file(),
            "profile-editor.html"
        );
    }
}
