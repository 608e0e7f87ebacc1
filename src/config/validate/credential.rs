//! `[entra] credential` and the keys of each kind: `client_secret`; `certificate_path` and
//! `private_key_path`; `federated_token_file`; `managed_identity_client_id`,
//! `managed_identity_endpoint` and `managed_identity_header`.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use url::Url;

use super::guid;
use crate::config::file::RawEntra;
use crate::config::{ConfigError, EntraCredential, IMDS_ENDPOINT, err};

const KINDS: &str = "\"secret\", \"certificate\", \"workload_identity\" or \"managed_identity\"";

pub(super) fn check(e: &RawEntra) -> Result<EntraCredential, ConfigError> {
    let kind = match e.credential.as_deref().map(str::trim) {
        Some(k) => k.to_string(),
        None if e.client_secret.is_some() => "secret".to_string(),
        None => {
            return Err(err(
                "entra.credential",
                format!(
                    "is needed (no client_secret is set): one of {KINDS}; see the README's \"Credentials\""
                ),
            ));
        }
    };
    // Keys of another kind are a mistake worth naming: the portal would not use them.
    let set: [(&str, bool); 6] = [
        ("client_secret", e.client_secret.is_some()),
        ("certificate_path", e.certificate_path.is_some()),
        ("private_key_path", e.private_key_path.is_some()),
        ("federated_token_file", e.federated_token_file.is_some()),
        (
            "managed_identity_client_id",
            e.managed_identity_client_id.is_some(),
        ),
        (
            "managed_identity_endpoint",
            e.managed_identity_endpoint.is_some() || e.managed_identity_header.is_some(),
        ),
    ];
    let own: &[&str] = match kind.as_str() {
        "secret" => &["client_secret"],
        "certificate" => &["certificate_path", "private_key_path"],
        "workload_identity" => &["federated_token_file"],
        "managed_identity" => &["managed_identity_client_id", "managed_identity_endpoint"],
        other => {
            return Err(err(
                "entra.credential",
                format!("'{other}' is not a credential: one of {KINDS}"),
            ));
        }
    };
    if let Some((stray, _)) = set.iter().find(|(k, on)| *on && !own.contains(k)) {
        return Err(err(
            format!("entra.{stray}"),
            format!(
                "is not used with credential = \"{kind}\"; remove it or change entra.credential"
            ),
        ));
    }
    Ok(match kind.as_str() {
        "secret" => {
            let secret = e
                .client_secret
                .clone()
                .ok_or_else(|| err("entra.client_secret", "is needed with credential = \"secret\""))?;
            if secret.expose_secret().trim().is_empty() {
                return Err(err("entra.client_secret", "must not be empty"));
            }
            EntraCredential::Secret(secret)
        }
        "certificate" => EntraCredential::Certificate {
            certificate_path: path(
                "entra.certificate_path",
                e.certificate_path.as_deref(),
                "a PEM file with the certificate (and its private key, or set private_key_path)",
            )?,
            private_key_path: e
                .private_key_path
                .as_deref()
                .map(|p| path("entra.private_key_path", Some(p), "a PEM private key"))
                .transpose()?,
        },
        "workload_identity" => EntraCredential::WorkloadIdentity {
            token_file: path(
                "entra.federated_token_file",
                e.federated_token_file.as_deref(),
                "the federated token's file (AZURE_FEDERATED_TOKEN_FILE, as the workload identity webhook sets it)",
            )?,
        },
        _ => EntraCredential::ManagedIdentity {
            client_id: guid(
                "entra.managed_identity_client_id",
                e.managed_identity_client_id.as_deref().ok_or_else(|| {
                    err(
                        "entra.managed_identity_client_id",
                        "is needed: the client id of the user-assigned managed identity that is a federated credential of the app registration",
                    )
                })?,
            )?,
            endpoint: identity_endpoint(
                e.managed_identity_endpoint.as_deref().unwrap_or(IMDS_ENDPOINT),
            )?,
            header: e
                .managed_identity_header
                .clone()
                .filter(|h: &SecretString| !h.expose_secret().trim().is_empty()),
        },
    })
}

/// The managed identity endpoint: plain http as Azure serves it, on the link-local metadata
/// address or a loopback one (App Service's and Container Apps' `IDENTITY_ENDPOINT`); https
/// anywhere else.
fn identity_endpoint(v: &str) -> Result<Url, ConfigError> {
    let key = "entra.managed_identity_endpoint";
    let u = Url::parse(v.trim()).map_err(|e| err(key, format!("'{v}' is not a URL ({e})")))?;
    let local = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match u.scheme() {
        "https" => Ok(u),
        "http" if local => Ok(u),
        "http" => Err(err(
            key,
            "must use https, except on the metadata address 169.254.169.254 or a loopback address",
        )),
        s => Err(err(key, format!("scheme '{s}' is not http or https"))),
    }
}

fn path(key: &str, v: Option<&str>, what: &str) -> Result<PathBuf, ConfigError> {
    match v.map(str::trim) {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(err(key, format!("is needed: {what}"))),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{EntraCredential, Settings};

    fn with_entra(entra: &str) -> Result<Settings, String> {
        let toml = format!(
            r#"
[server]
public_url = "https://jit.contoso.example"
[database]
url = "sqlite::memory:"
[entra]
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
client_id = "c"
{entra}
[[package]]
id = "p"
name = "P"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
"#
        );
        Settings::from_toml(&toml, []).map_err(|e| e.to_string())
    }

    #[test]
    fn each_kind_and_its_keys() {
        let s = with_entra(r#"client_secret = "s""#).unwrap();
        assert_eq!(s.entra.credential.kind(), "secret");
        let s = with_entra(
            "credential = \"certificate\"\ncertificate_path = \"/etc/jitgate/entra.pem\"",
        )
        .unwrap();
        assert!(matches!(
            &s.entra.credential,
            EntraCredential::Certificate { certificate_path, private_key_path: None }
                if certificate_path.ends_with("entra.pem")
        ));
        let s = with_entra(
            "credential = \"managed_identity\"\nmanaged_identity_client_id = \"4f6c8a2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\"",
        )
        .unwrap();
        assert!(matches!(
            &s.entra.credential,
            EntraCredential::ManagedIdentity { endpoint, header: None, .. }
                if endpoint.as_str() == crate::config::IMDS_ENDPOINT
        ));

        for (entra, key, words) in [
            (
                "",
                "entra.credential",
                "\"secret\", \"certificate\", \"workload_identity\" or \"managed_identity\"",
            ),
            (
                "credential = \"password\"",
                "entra.credential",
                "'password' is not a credential",
            ),
            (
                "credential = \"certificate\"",
                "entra.certificate_path",
                "is needed",
            ),
            (
                "credential = \"certificate\"\ncertificate_path = \"/x.pem\"\nclient_secret = \"s3cr3t-value\"",
                "entra.client_secret",
                "is not used with credential = \"certificate\"",
            ),
            (
                "credential = \"managed_identity\"",
                "entra.managed_identity_client_id",
                "user-assigned",
            ),
            (
                "credential = \"secret\"",
                "entra.client_secret",
                "is needed",
            ),
        ] {
            let e = with_entra(entra).unwrap_err();
            assert!(e.contains(key) && e.contains(words), "{entra}: {e}");
            assert!(!e.contains("s3cr3t-value"), "{e}");
        }
    }

    #[test]
    fn app_service_sets_the_identity_endpoint() {
        use secrecy::ExposeSecret;
        let text = r#"
[server]
public_url = "https://jit.contoso.example"
[database]
url = "sqlite::memory:"
[entra]
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
client_id = "c"
credential = "managed_identity"
managed_identity_client_id = "4f6c8a2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"
[[package]]
id = "p"
name = "P"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
"#;
        let env = [
            ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"),
            ("IDENTITY_HEADER", "a-header-value"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let s = Settings::from_toml(text, env).unwrap();
        match &s.entra.credential {
            EntraCredential::ManagedIdentity {
                endpoint, header, ..
            } => {
                assert_eq!(endpoint.as_str(), "http://localhost:42356/msi/token");
                assert_eq!(
                    header.as_ref().map(|h| h.expose_secret().to_string()),
                    Some("a-header-value".to_string())
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
