//! `[entra]` and `[roles]` as the portal uses them: the tenant and the portal's app registration,
//! where Entra and Graph are, the command-line client's registration and the API scope it asks
//! for; and the values of the app roles that make an approver, an auditor and an admin.

use secrecy::SecretString;
use url::Url;

#[derive(Debug, Clone)]
pub struct EntraSettings {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub authority_host: Url,
    pub graph_url: Url,
    /// The command-line client's app registration (a public client), for `jitgate login` and
    /// the demo's device-code try-out.
    pub cli_client_id: Option<String>,
    /// The delegated scope of the portal's API the command-line client asks for; default
    /// `api://{client_id}/access_as_user`.
    pub api_scope: Option<String>,
    /// The "jitgate requests API" registration (its client id): the one jitgate resource the
    /// device-code block policy excludes. Its tokens may only ask for access and act on the
    /// caller's own requests.
    pub requests_api_id: Option<String>,
    /// The delegated scope of the requests API a device-code sign-in asks for; default
    /// `api://{requests_api_id}/access_as_requester`.
    pub requests_api_scope: Option<String>,
}

impl EntraSettings {
    /// `{authority_host}/{tenant_id}/v2.0`, the tenant-specific issuer.
    pub fn issuer(&self) -> String {
        format!(
            "{}/{}/v2.0",
            self.authority_host.as_str().trim_end_matches('/'),
            self.tenant_id
        )
    }

    /// The scope the command-line client asks for: `[entra] api_scope`, or
    /// `api://{client_id}/access_as_user`.
    pub fn api_scope(&self) -> String {
        self.api_scope
            .clone()
            .unwrap_or_else(|| format!("api://{}/access_as_user", self.client_id))
    }

    /// The scope a device-code sign-in of the command-line client asks for: `[entra]
    /// requests_api_scope`, or `api://{requests_api_id}/access_as_requester`; none without a
    /// requests API.
    pub fn requests_api_scope(&self) -> Option<String> {
        let id = self.requests_api_id.as_ref()?;
        Some(
            self.requests_api_scope
                .clone()
                .unwrap_or_else(|| format!("api://{id}/access_as_requester")),
        )
    }
}

#[derive(Debug, Clone)]
pub struct RoleSettings {
    pub approver: String,
    pub auditor: String,
    pub admin: String,
    /// May ask on someone else's behalf (as approvers and admins may): people, device accounts.
    pub requester_on_behalf: String,
}
