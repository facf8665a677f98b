//! The console's runtime configuration, `config.json` beside `index.html` (SPEC §5):
//! pointing the console at another API is a change of this file, not a rebuild.

use serde::Deserialize;

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsoleConfig {
    /// Base URL of the control plane (`/v1beta2/sandbox/...`); empty: this origin.
    pub control_plane_url: String,
    /// Base URL of the data plane (`/v1beta2/...`); empty: this origin.
    pub data_plane_url: String,
    /// Origins that may embed the console and hand it a token by postMessage.
    pub embed_allowed_origins: Vec<String>,
    pub base_path: String,
}
