//! `[entra]` as written: the tenant, the portal's app registration and its credential, where Entra
//! and Graph are (public Azure by default), the command-line client and its scope, the requests
//! API (the one resource device-code sign-ins may reach) and its scope; and `[roles]`,
//! the app role values (`Approver`, `Auditor`, `Admin` by default).

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawEntra {
    #[serde(default)]
    pub(in crate::config) tenant_id: String,
    #[serde(default)]
    pub(in crate::config) client_id: String,
    /// `secret`, `certificate`, `workload_identity` or `managed_identity`; `secret` when
    /// `client_secret` is set.
    #[serde(default)]
    pub(in crate::config) credential: Option<String>,
    #[serde(default)]
    pub(in crate::config) client_secret: Option<SecretString>,
    #[serde(default)]
    pub(in crate::config) certificate_path: Option<String>,
    #[serde(default)]
    pub(in crate::config) private_key_path: Option<String>,
    #[serde(default)]
    pub(in crate::config) federated_token_file: Option<String>,
    #[serde(default)]
    pub(in crate::config) managed_identity_client_id: Option<String>,
    #[serde(default)]
    pub(in crate::config) managed_identity_endpoint: Option<String>,
    #[serde(default)]
    pub(in crate::config) managed_identity_header: Option<SecretString>,
    #[serde(default = "default_authority")]
    pub(in crate::config) authority_host: String,
    #[serde(default = "default_graph")]
    pub(in crate::config) graph_url: String,
    #[serde(default)]
    pub(in crate::config) cli_client_id: Option<String>,
    #[serde(default)]
    pub(in crate::config) api_scope: Option<String>,
    #[serde(default)]
    pub(in crate::config) requests_api_id: Option<String>,
    #[serde(default)]
    pub(in crate::config) requests_api_scope: Option<String>,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_graph() -> String {
    "https://graph.microsoft.com".into()
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawRoles {
    pub(in crate::config) approver: String,
    pub(in crate::config) auditor: String,
    pub(in crate::config) admin: String,
    pub(in crate::config) requester_on_behalf: String,
}

impl Default for RawRoles {
    fn default() -> Self {
        RawRoles {
            approver: "Approver".into(),
            auditor: "Auditor".into(),
            admin: "Admin".into(),
            requester_on_behalf: "RequesterOnBehalf".into(),
        }
    }
}
