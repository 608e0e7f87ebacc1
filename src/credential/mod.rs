//! How the portal proves itself to Entra's token endpoint, for Graph (client credentials) and for
//! the sign-in's code redemption alike: with its client secret, or with a client assertion
//! (RFC 7523) — one it signs with its certificate, the federated token of a Kubernetes workload
//! identity, or the token of a user-assigned managed identity.
//!
//! - `certificate`: the certificate and key files, read again when they change, and the signed
//!   assertion;
//! - `managed_identity`: the managed identity's token from the instance metadata endpoint or App
//!   Service's / Container Apps' identity endpoint.
//!
//! - `self_signed`: a certificate made here, for the demo and the tests.
//!
//! The federated token file needs no file of its own: it is read for every request.

mod certificate;
mod managed_identity;
mod self_signed;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

pub use certificate::{CertificateInfo, read_certificate};
pub use self_signed::self_signed;

use crate::config::{EntraCredential, EntraSettings};

/// The configured certificate's own expiry (read from its file, not its key): none for the other
/// credentials. For `jitgate check` and `/metrics`.
pub fn configured_certificate(
    kind: &EntraCredential,
) -> Option<Result<CertificateInfo, CredentialError>> {
    let EntraCredential::Certificate {
        certificate_path, ..
    } = kind
    else {
        return None;
    };
    Some(
        std::fs::read_to_string(certificate_path)
            .map_err(|e| {
                fatal(format!(
                    "cannot read the certificate file {}: {e}",
                    certificate_path.display()
                ))
            })
            .and_then(|text| {
                read_certificate(&text)
                    .map_err(|e| fatal(format!("{} {e}", certificate_path.display())))
            }),
    )
}

/// `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience of federated tokens that stand for an app registration.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Why no credential could be presented. The message names the cause and never holds a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CredentialError {
    /// Trying again later may work (an endpoint unreachable or busy), as opposed to a file or
    /// a configuration to fix.
    pub retriable: bool,
    pub message: String,
}

fn fatal(message: impl Into<String>) -> CredentialError {
    CredentialError {
        retriable: false,
        message: message.into(),
    }
}

/// What a token request carries to authenticate the portal.
pub enum ClientAuth {
    Secret(SecretString),
    Assertion(SecretString),
}

impl ClientAuth {
    /// The form parameters that carry it (besides `client_id`).
    pub fn form(&self) -> Vec<(&'static str, String)> {
        match self {
            ClientAuth::Secret(s) => vec![("client_secret", s.expose_secret().to_string())],
            ClientAuth::Assertion(a) => vec![
                ("client_assertion_type", JWT_BEARER.to_string()),
                ("client_assertion", a.expose_secret().to_string()),
            ],
        }
    }
}

/// The portal's credential: cheap to clone, shared by the Graph client and the sign-in.
#[derive(Clone)]
pub struct Credential {
    inner: Arc<Inner>,
}

struct Inner {
    kind: EntraCredential,
    client_id: String,
    http: reqwest::Client,
    certificate: certificate::CertificateFiles,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.inner.kind.kind())
            .field("client_id", &self.inner.client_id)
            .finish()
    }
}

impl Credential {
    /// The credential `[entra]` configures.
    pub fn new(entra: &EntraSettings) -> Credential {
        Credential::of(&entra.client_id, entra.credential.clone())
    }

    /// The app `client_id`'s credential `kind`.
    pub fn of(client_id: &str, kind: EntraCredential) -> Credential {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Credential {
            inner: Arc::new(Inner {
                certificate: certificate::CertificateFiles::new(&kind),
                kind,
                client_id: client_id.to_string(),
                http,
            }),
        }
    }

    /// `secret`, `certificate`, `workload_identity` or `managed_identity`.
    pub fn kind(&self) -> &'static str {
        self.inner.kind.kind()
    }

    /// The client secret, for a portal that has one.
    pub fn secret(&self) -> Option<&SecretString> {
        match &self.inner.kind {
            EntraCredential::Secret(s) => Some(s),
            _ => None,
        }
    }

    /// What a request to the token endpoint at `token_url` presents: the secret, or a fresh
    /// assertion (its audience that endpoint).
    pub async fn client_auth(&self, token_url: &str) -> Result<ClientAuth, CredentialError> {
        let i = &self.inner;
        match &i.kind {
            EntraCredential::Secret(s) => Ok(ClientAuth::Secret(s.clone())),
            EntraCredential::Certificate { .. } => i
                .certificate
                .assertion(&i.client_id, token_url)
                .map(ClientAuth::Assertion),
            EntraCredential::WorkloadIdentity { token_file } => {
                // Read for every request: the kubelet rotates it, and an old one is refused.
                let token = tokio::fs::read_to_string(token_file).await.map_err(|e| {
                    fatal(format!(
                        "cannot read the federated token file {} (entra.federated_token_file, AZURE_FEDERATED_TOKEN_FILE): {e}",
                        token_file.display()
                    ))
                })?;
                let token = token.trim();
                if token.is_empty() {
                    return Err(fatal(format!(
                        "the federated token file {} is empty",
                        token_file.display()
                    )));
                }
                Ok(ClientAuth::Assertion(SecretString::from(token.to_string())))
            }
            EntraCredential::ManagedIdentity {
                client_id,
                endpoint,
                header,
            } => managed_identity::token(
                &i.http,
                endpoint,
                header.as_ref(),
                client_id,
                TOKEN_EXCHANGE_AUDIENCE,
            )
            .await
            .map(ClientAuth::Assertion),
        }
    }

    /// The configured certificate, read now, for its expiry; none for other credentials.
    pub fn certificate(&self) -> Option<Result<CertificateInfo, CredentialError>> {
        match &self.inner.kind {
            EntraCredential::Certificate { .. } => Some(self.inner.certificate.info()),
            _ => None,
        }
    }
}
