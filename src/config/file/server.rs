//! `[server]` as written: where the portal listens and is reached, session lengths, how often
//! roles are read again, the metrics address and the trusted proxies.

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawServer {
    #[serde(default = "default_listen")]
    pub(in crate::config) listen: String,
    pub(in crate::config) public_url: String,
    #[serde(default = "default_session_idle")]
    pub(in crate::config) session_idle: String,
    #[serde(default = "default_session_max")]
    pub(in crate::config) session_max: String,
    #[serde(default = "default_role_refresh")]
    pub(in crate::config) role_refresh: String,
    #[serde(default)]
    pub(in crate::config) metrics_listen: Option<String>,
    #[serde(default)]
    pub(in crate::config) trusted_proxies: Vec<String>,
    #[serde(default)]
    pub(in crate::config) time_zone: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_session_idle() -> String {
    "8h".into()
}
fn default_session_max() -> String {
    "12h".into()
}
fn default_role_refresh() -> String {
    "15m".into()
}
