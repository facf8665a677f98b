//! The console ships as more than one page (HTML file and wasm bundle), so that what a
//! view does not use is not downloaded with it: the first page anyone opens (sign-in,
//! and `/`, which sends a signed-in visitor on to the overview) carries only that; the
//! overview, the runners with a runner's own view, profile availability, "will it fit"
//! (with placement's code) and the activity, profiles (with the YAML parser and
//! Monaco), sandboxes (launch, logs, exec) and runner administration are pages of their
//! own. This says which page serves a path: the gateway serves it for deep links,
//! and the console makes links to another page full navigations. Local decision, kept
//! here only.

/// One of the console's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsolePage {
    /// Sign-in and `/`: the first page, kept small.
    Start,
    /// `/overview`, `/runners`, `/runners/{id}`, `/availability`, `/will-it-fit` and
    /// `/activity`: the fleet at a glance, where developers can run, a runner's
    /// capacity, sandboxes and history, which profiles are offered where, where a
    /// sandbox would be placed, and who changed what.
    Placement,
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
        let mut segments = path.trim_matches('/').split('/');
        match (segments.next(), segments.next()) {
            (Some("profiles"), _) => ConsolePage::Profiles,
            (Some("sandboxes"), _) => ConsolePage::Sandboxes,
            (Some("managed-runners" | "rollout"), _) => ConsolePage::RunnerAdmin,
            (Some("runners" | "availability" | "will-it-fit" | "activity" | "overview"), _) => {
                ConsolePage::Placement
            }
            _ => ConsolePage::Start,
        }
    }

    /// Its HTML file in the console's distribution.
    pub fn html_file(self) -> &'static str {
        match self {
            ConsolePage::Start => "index.html",
            ConsolePage::Placement => "placement.html",
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
            ("/", ConsolePage::Start),
            ("/runners", ConsolePage::Placement),
            ("/runners/", ConsolePage::Placement),
            ("/sign-in", ConsolePage::Start),
            ("/runners/r1", ConsolePage::Placement),
            ("/availability", ConsolePage::Placement),
            ("/will-it-fit", ConsolePage::Placement),
            ("/activity", ConsolePage::Placement),
            ("/overview", ConsolePage::Placement),
            ("/profiles", ConsolePage::Profiles),
            ("/profiles/new", ConsolePage::Profiles),
            ("/profiles/0b8e-42/", ConsolePage::Profiles),
            ("/sandboxes", ConsolePage::Sandboxes),
            ("/sandboxes/new", ConsolePage::Sandboxes),
            ("/sandboxes/sb-1", ConsolePage::Sandboxes),
            ("/managed-runners", ConsolePage::RunnerAdmin),
            ("/managed-runners/new", ConsolePage::RunnerAdmin),
            ("/rollout", ConsolePage::RunnerAdmin),
            ("/nowhere/at/all", ConsolePage::Start),
        ];
        for (path, page) in cases {
            assert_eq!(ConsolePage::for_path(path), page, "{path}");
        }
        assert_eq!(ConsolePage::Profiles.html_file(), "profiles.html");
        assert_eq!(ConsolePage::Placement.html_file(), "placement.html");
    }
}
