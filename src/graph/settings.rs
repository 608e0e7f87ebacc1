//! Where and as whom jitgate talks to Microsoft Graph.

use std::time::Duration;

use crate::config::{Settings, WriteBudget};
use crate::credential::Credential;

/// Where and as whom jitgate talks to Microsoft Graph.
#[derive(Clone, Debug)]
pub struct GraphSettings {
    /// `https://login.microsoftonline.com` (sovereign clouds and the emulator override it).
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    /// How the app proves itself to the token endpoint.
    pub credential: Credential,
    /// `https://graph.microsoft.com`; requests go to `{graph_url}/v1.0/...`.
    pub graph_url: String,
    /// Every call (token requests included) fails after this long, connecting included.
    pub timeout: Duration,
    /// Client-side pace of writes; `None` leaves them unpaced.
    pub write_budget: Option<WriteBudget>,
}

impl GraphSettings {
    /// The app registration from the `[entra]` section, where to find the authority and Graph, and
    /// the call timeout from `[directory]`.
    pub fn from_settings(s: &Settings) -> GraphSettings {
        let e = &s.entra;
        GraphSettings {
            timeout: s.directory.timeout,
            write_budget: Some(s.directory.write_budget),
            authority_host: e.authority_host.as_str().trim_end_matches('/').to_string(),
            tenant_id: e.tenant_id.clone(),
            client_id: e.client_id.clone(),
            credential: Credential::new(e),
            graph_url: e.graph_url.as_str().trim_end_matches('/').to_string(),
        }
    }
}
