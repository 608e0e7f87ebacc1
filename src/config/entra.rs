//! `[entra]` and `[roles]` as the portal uses them: the tenant and the portal's app registration,
//! where Entra and Graph are, the command-line client's registration and the API scope it asks
//! for; and the values of the app roles that make an approver, an auditor and an admin.

use std::path::PathBuf;

use secrecy::SecretString;
use url::Url;

/// How the portal proves itself to Entra, for Graph (client credentials) and for the sign-in's
/// code redemption alike.
#[derive(Debug, Clone)]
pub enum EntraCredential {
    /// A client secret (`client_secret`).
    Secret(SecretString),
    /// A certificate uploaded to the app registration: each token request carries an assertion
    /// signed with its private key. The files are read again when they change.
    Certificate {
        certificate_path: PathBuf,
        /// The private key, when not in the certificate's file.
        private_key_path: Option<PathBuf>,
    },
    /// A federated token (Kubernetes workload identity), read from the file for every request.
    WorkloadIdentity { token_file: PathBuf },
    /// A user-assigned managed identity, a federated credential of the app registration: its
    /// token for `api://AzureADTokenExchange` is the assertion.
    ManagedIdentity {
        /// The managed identity's client id.
        client_id: String,
        /// The instance metadata endpoint, or App Service's / Container Apps' `IDENTITY_ENDPOINT`.
        endpoint: Url,
        /// App Service's / Container Apps' `IDENTITY_HEADER`; none for the metadata endpoint.
        header: Option<SecretString>,
    },
}

impl EntraCredential {
    /// `secret`, `certificate`, `workload_identity` or `managed_identity`, as configured.
    pub fn kind(&self) -> &'static str {
        match self {
            EntraCredential::Secret(_) => "secret",
            EntraCredential::Certificate { .. } => "certificate",
            EntraCredential::WorkloadIdentity { .. } => "workload_identity",
            EntraCredential::ManagedIdentity { .. } => "managed_identity",
        }
    }
}

/// The instance metadata endpoint's token address.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

#[derive(Debug, Clone)]
pub struct EntraSettings {
    pub tenant_id: String,
    pub client_id: String,
    pub credential: EntraCredential,
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
