//! The console ships as more than one page (HTML file and wasm bundle), so that what a
//! view does not use is not downloaded with it: the first page a developer opens
//! (runner discovery) carries only discovery; profiles (with the YAML parser and
//! Monaco), sandboxes (launch, logs, exec) and runner administration are pages of
//! their own. This says which page serves a path: the gateway serves it for deep links,
//! and the console makes links to another page full navigations. Local decision, kept
//! here only.

/// One of the console's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsolePage {
    /// Runner discovery, runner capacity, profile availability, sign-in.
    Discovery,
    /// `/profiles…`: the profile list and the profile editor.
    Profiles,
    /// `/sandboxes…`: the sandbox list, launch, and each sandbox with its logs.
    Sandboxes,
    /// `/managed-runners…` and `/rollout`: creating, changing and deleting runners,
    /// their bindings and overrides, and rolling out a new profile version.
    RunnerAdmin,
}

impl ConsolePage {
    /// The page that serves `path` (without query).
    pub fn for_path(path: &str) -> ConsolePage {
        match path.trim_matches('/').split('/').next() {
            Some("profiles") => ConsolePage::Profiles,
            Some("sandboxes") => ConsolePage::Sandboxes,
            Some("managed-runners" | "rollout") => ConsolePage::RunnerAdmin,
            _ => ConsolePage::Discovery,
        }
    }

    /// Its HTML file in the console's distribution.
    pub fn html_file(self) -> &'static str {
        match self {
            ConsolePage::Discovery => "index.html",
            ConsolePage::Profiles => "profiles.html",
            ConsolePage::Sandboxes => "sandboxes.html",
            ConsolePage::RunnerAdmin => "runner-admin.html",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_has_its_page() {
        let cases = [
            ("/", ConsolePage::Discovery),
            ("/runners", ConsolePage::Discovery),
            ("/runners/r1", ConsolePage::Discovery),
            ("/availability", ConsolePage::Discovery),
            ("/sign-in", ConsolePage::Discovery),
            ("/profiles", ConsolePage::Profiles),
            ("/profiles/new", ConsolePage::Profiles),
            ("/profiles/0b8e-42/", ConsolePage::Profiles),
            ("/sandboxes", ConsolePage::Sandboxes),
            ("/sandboxes/new", ConsolePage::Sandboxes),
            ("/sandboxes/sb-1", ConsolePage::Sandboxes),
            ("/managed-runners", ConsolePage::RunnerAdmin),
            ("/managed-runners/new", ConsolePage::RunnerAdmin),
            ("/rollout", ConsolePage::RunnerAdmin),
            ("/nowhere/at/all", ConsolePage::Discovery),
        ];
        for (path, page) in cases {
            assert_eq!(ConsolePage::for_path(path), page, "{path}");
        }
        assert_eq!(ConsolePage::Profiles.html_file(), "profiles.html");
    }
}
