//! Signing in to the portal's API as Microsoft's MSAL does for a public client, with the
//! `oauth2` crate: always at a tenant-specific authority (`{authority_host}/{tenant}`), the
//! device code flow for headless machines, the authorization code flow with PKCE and a loopback
//! redirect otherwise, and refresh tokens for silent renewal. Entra's AADSTS errors that people
//! can act on are turned into sentences that say what to do.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet,
    EndpointSet, ExtraDeviceAuthorizationFields, PkceCodeChallenge, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

/// Where a sign-in goes, and for what.
#[derive(Debug, Clone)]
pub struct Authority {
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Tokens as a sign-in or a refresh left them (no `Debug`: nothing prints them).
#[derive(Clone)]
pub struct Tokens {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_token: Option<String>,
}

/// What the person is shown to complete a device-code sign-in.
#[derive(Debug, Clone)]
pub struct DevicePrompt {
    /// Entra's sentence: where to go and which code to enter.
    pub message: String,
    pub expires_at: DateTime<Utc>,
}

/// Tenants that are not one tenant: MSAL's device-code guidance asks for a tenant-specific
/// authority, and Entra refuses the device code flow at `/common` and `/consumers`.
const MULTI_TENANT: [&str; 3] = ["common", "organizations", "consumers"];

/// Scopes asked for besides the API's: an ID token and a refresh token.
const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

type Client = BasicClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Entra's device authorization answer carries a ready-made `message`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntraDeviceFields {
    #[serde(default)]
    message: Option<String>,
}
impl ExtraDeviceAuthorizationFields for EntraDeviceFields {}

impl Authority {
    /// `{authority_host}/{tenant}`: refused for `common`, `organizations` and `consumers`, and
    /// for plain http anywhere but on this machine.
    pub fn base(&self) -> anyhow::Result<String> {
        let tenant = self.tenant_id.trim();
        if tenant.is_empty() || tenant.contains(['/', '?', '#']) {
            bail!("'{tenant}' is not a tenant id");
        }
        if MULTI_TENANT.iter().any(|t| t.eq_ignore_ascii_case(tenant)) {
            bail!(
                "jitgate signs in to one tenant, not '/{tenant}': Entra cannot tell which directory '/{tenant}' means for this app (AADSTS50059) and refuses the device code flow there (AADSTS90133). Use the tenant's id (a GUID) or its domain."
            );
        }
        let host = url::Url::parse(&self.authority_host)
            .with_context(|| format!("'{}' is not a URL", self.authority_host))?;
        super::portal::require_secure(&host, "sign-in service")?;
        Ok(format!(
            "{}/{tenant}",
            self.authority_host.trim_end_matches('/')
        ))
    }

    fn client(&self, redirect: Option<String>) -> anyhow::Result<Client> {
        let base = self.base()?;
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::new(format!("{base}/oauth2/v2.0/authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{base}/oauth2/v2.0/token"))?)
            .set_device_authorization_url(DeviceAuthorizationUrl::new(format!(
                "{base}/oauth2/v2.0/devicecode"
            ))?);
        Ok(match redirect {
            Some(r) => client.set_redirect_uri(RedirectUrl::new(r)?),
            None => client,
        })
    }

    fn all_scopes(&self) -> Vec<Scope> {
        OIDC_SCOPES
            .iter()
            .map(|s| s.to_string())
            .chain(self.scopes.iter().cloned())
            .map(Scope::new)
            .collect()
    }
}

/// The HTTP client the flows use: no redirects followed (the `oauth2` crate's advice against
/// SSRF), a time limit on every call.
pub fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?)
}

fn tokens(t: &BasicTokenResponse, now: DateTime<Utc>) -> Tokens {
    let lifetime = t.expires_in().unwrap_or(Duration::from_secs(3600));
    Tokens {
        access_token: t.access_token().secret().clone(),
        expires_at: now
            + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1)),
        refresh_token: t.refresh_token().map(|r| r.secret().clone()),
    }
}

/// Starts a device-code sign-in: what to show the person, and a future that polls until the
/// sign-in is completed, declined, blocked or expired (15 minutes). `claims`, a claims request
/// (a step-up the portal asked for), goes on the device authorization request, as MSAL sends it.
pub async fn device_code(
    authority: &Authority,
    http: &reqwest::Client,
    claims: Option<&str>,
) -> anyhow::Result<(
    DevicePrompt,
    impl std::future::Future<Output = anyhow::Result<Tokens>>,
)> {
    let client = authority.client(None)?;
    let mut request = client
        .exchange_device_code()
        .add_scopes(authority.all_scopes());
    if let Some(c) = claims {
        request = request.add_extra_param("claims", c);
    }
    let details: oauth2::DeviceAuthorizationResponse<EntraDeviceFields> = request
        .request_async(http)
        .await
        .map_err(|e| explain_request_error(e, authority))?;
    let now = Utc::now();
    let expires_at = now
        + chrono::Duration::from_std(details.expires_in()).unwrap_or(chrono::Duration::minutes(15));
    let prompt = DevicePrompt {
        message: details.extra_fields().message.clone().unwrap_or_else(|| {
            format!(
                "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
                details.verification_uri().as_str(),
                details.user_code().secret()
            )
        }),
        expires_at,
    };
    let authority = authority.clone();
    let http = http.clone();
    let poll = async move {
        let started = Utc::now();
        let answer = client
            .exchange_device_access_token(&details)
            .request_async(&http, tokio::time::sleep, None)
            .await;
        match answer {
            Ok(t) => Ok(tokens(&t, Utc::now())),
            Err(RequestTokenError::ServerResponse(e)) => {
                let waited = (Utc::now() - started).num_minutes();
                Err(anyhow!(device_error(
                    e.error().as_ref(),
                    e.error_description().map(String::as_str).unwrap_or(""),
                    &authority,
                    waited,
                )))
            }
            Err(e) => Err(anyhow!(
                "the sign-in service did not answer: {}",
                flatten(&e)
            )),
        }
    };
    Ok((prompt, poll))
}

/// What went wrong with a device-code sign-in, and what to do.
fn device_error(error: &str, description: &str, authority: &Authority, waited: i64) -> String {
    match error {
        "expired_token" => format!(
            "The code expired before the sign-in was completed: codes last 15 minutes (this one waited {waited} min). Run `jitgate login --device-code` again and enter the new code within 15 minutes."
        ),
        "authorization_declined" => {
            "The sign-in was declined on the device-login page (someone pressed Deny). Nothing was signed in.".to_string()
        }
        "bad_verification_code" => {
            "Entra no longer knows this device code. Run `jitgate login --device-code` again.".to_string()
        }
        _ => explain(error, description, authority),
    }
}

/// Signs in through the browser: authorization code flow with PKCE (S256), `state` and a
/// `nonce`, redirected to a one-request listener on a loopback port named by its address,
/// `http://127.0.0.1:<port>/` (RFC 8252 §8.3), which takes only the answer that carries this
/// sign-in's `state`. `show` is given the URL to open (and may open it). `claims`, a claims
/// request (a step-up the portal asked for), is sent as the `claims` parameter.
pub async fn browser(
    authority: &Authority,
    http: &reqwest::Client,
    claims: Option<&str>,
    show: impl FnOnce(&str),
) -> anyhow::Result<Tokens> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on a loopback port for the sign-in's answer")?;
    let redirect = format!("http://127.0.0.1:{}/", listener.local_addr()?.port());
    let client = authority.client(Some(redirect))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(authority.all_scopes())
        .set_pkce_challenge(challenge)
        .add_extra_param("nonce", nonce.secret().clone())
        .add_extra_param("response_mode", "query");
    if let Some(c) = claims {
        request = request.add_extra_param("claims", c);
    }
    let (url, state) = request.url();
    let answer = super::loopback::one_answer(listener, state.secret().clone());
    show(url.as_str());
    let params = answer.await?;
    if let Some(error) = params.get("error") {
        let description = params
            .get("error_description")
            .map(String::as_str)
            .unwrap_or("");
        if error == "access_denied" && !description.contains("AADSTS53003") {
            bail!("The sign-in was cancelled in the browser. Nothing was signed in.");
        }
        bail!("{}", explain(error, description, authority));
    }
    let code = params
        .get("code")
        .context("the sign-in's answer carried no code")?;
    let t = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .map_err(|e| explain_request_error(e, authority))?;
    Ok(tokens(&t, Utc::now()))
}

/// Renews the tokens with a refresh token, without the person. Err with a sentence that tells
/// them to sign in again when Entra refuses it.
pub async fn refresh(
    authority: &Authority,
    http: &reqwest::Client,
    refresh_token: &str,
) -> anyhow::Result<Tokens> {
    let client = authority.client(None)?;
    let t = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.to_string()))
        .add_scopes(authority.all_scopes())
        .request_async(http)
        .await
        .map_err(|e| explain_request_error(e, authority))?;
    let mut out = tokens(&t, Utc::now());
    // Entra rotates refresh tokens; when an answer carries none, the old one still works.
    if out.refresh_token.is_none() {
        out.refresh_token = Some(refresh_token.to_string());
    }
    Ok(out)
}

fn flatten(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn explain_request_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, BasicErrorResponse>,
    authority: &Authority,
) -> anyhow::Error {
    match e {
        RequestTokenError::ServerResponse(r) => anyhow!(explain(
            r.error().as_ref(),
            r.error_description().map(String::as_str).unwrap_or(""),
            authority
        )),
        other => anyhow!(
            "the sign-in service did not answer as expected: {}",
            flatten(&other)
        ),
    }
}

/// The AADSTS number at the start of an Entra error description.
pub fn aadsts(description: &str) -> Option<u32> {
    let rest = description.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A sentence for an Entra error, saying what to do. Codes people can act on are spelled out;
/// anything else is quoted (its first line) with its AADSTS number.
pub fn explain(error: &str, description: &str, authority: &Authority) -> String {
    let first = description.lines().next().unwrap_or("").trim();
    let tenant = &authority.tenant_id;
    let client = &authority.client_id;
    match aadsts(description) {
        Some(53003) => "Conditional Access blocked the sign-in (AADSTS53003). Your tenant blocks the device code flow, and its policy does not exclude the jitgate requests API: ask your Entra administrator to exclude the jitgate requests API (and only it) from the \"block device code flow\" policy (see the README, \"Registering jitgate in Entra ID\", step 8), or sign in with a browser: `jitgate login` without --device-code.".to_string(),
        Some(50059) => format!(
            "Entra could not tell which tenant to sign in to (AADSTS50059). jitgate signs in at the tenant the portal names; check the portal's [entra] tenant_id, or pass --tenant <tenant id>. (It was '{tenant}'.)"
        ),
        Some(90002) => format!(
            "The tenant '{tenant}' does not exist in Entra ID (AADSTS90002). Check the portal's [entra] tenant_id or the --tenant you gave: it must be the directory (tenant) id of your organisation, or one of its domains."
        ),
        Some(90133) => format!(
            "Entra refuses the device code flow at '/{tenant}' (AADSTS90133): it needs a tenant-specific authority. Pass --tenant <your tenant id>, or sign in with a browser: `jitgate login`."
        ),
        Some(700016) => format!(
            "The command-line client '{client}' is not registered in tenant '{tenant}' (AADSTS700016). Check the portal's [entra] cli_client_id: it must be the application (client) id of the jitgate CLI registration in this tenant."
        ),
        Some(65001) => "An administrator must first grant consent for the jitgate CLI to use the jitgate API (AADSTS65001): Entra admin center, App registrations, jitgate CLI, API permissions, Grant admin consent.".to_string(),
        Some(50057) => "Your account is disabled in Entra ID (AADSTS50057).".to_string(),
        Some(50076) | Some(50079) => format!(
            "This needs a multi-factor sign-in, which only you can complete ({first}). Run `jitgate login` again and complete it."
        ),
        Some(70008) | Some(700082) | Some(50173) | Some(9002313) => format!(
            "Your sign-in has expired or was revoked ({}). Run `jitgate login` again.",
            first
        ),
        Some(7000218) | Some(700025) => format!(
            "The command-line client '{client}' is not registered as a public client ({first}). In its app registration, under Authentication, set \"Allow public client flows\" to Yes."
        ),
        Some(50011) => format!(
            "Entra refused the redirect back to this machine ({first}). The jitgate CLI registration needs the redirect URI http://127.0.0.1 of type InstalledClient (\"Mobile and desktop applications\"), added in its Manifest (see the README, \"Registering jitgate in Entra ID\")."
        ),
        _ if first.is_empty() => format!("The sign-in failed: {error}."),
        _ => format!("The sign-in failed: {first}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(tenant: &str) -> Authority {
        Authority {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: tenant.into(),
            client_id: "9c1d4e7b-2a5f-4b8c-a3d6-5e0f1b2c7d84".into(),
            scopes: vec!["api://x/access_as_user".into()],
        }
    }

    #[test]
    fn entra_errors_people_can_act_on_say_what_to_do() {
        let a = authority("72f988bf-86f1-41af-91ab-2d7cd011db47");
        let said = |error: &str, description: &str| explain(error, description, &a);
        // (error, its description, what the explanation must say)
        let cases: [(&str, &str, &[&str]); 5] = [
            (
                "invalid_grant",
                "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.\r\nTrace ID: 1\r\nCorrelation ID: 2",
                &["AADSTS53003", "exclude the jitgate requests API"],
            ),
            (
                "invalid_request",
                "AADSTS50059: No tenant-identifying information found in either the request or implied by any provided credentials.",
                &["--tenant"],
            ),
            (
                "invalid_tenant",
                "AADSTS90002: Tenant '72f988bf-86f1-41af-91ab-2d7cd011db47' not found.",
                &["does not exist", "tenant_id"],
            ),
            (
                "invalid_request",
                "AADSTS90133: Device Code flow is not supported under /common or /consumers endpoint.",
                &["tenant-specific"],
            ),
            (
                "invalid_grant",
                "AADSTS700082: The refresh token has expired due to inactivity.",
                &["jitgate login"],
            ),
        ];
        for (error, description, must_say) in cases {
            let text = said(error, description);
            assert!(must_say.iter().all(|m| text.contains(m)), "{text}");
        }
        assert_eq!(
            said("server_error", "AADSTS12345: Something new.\r\nTrace ID: 1"),
            "The sign-in failed: AADSTS12345: Something new."
        );
        assert_eq!(aadsts("AADSTS90133: x"), Some(90133));
        assert_eq!(aadsts("no code"), None);
        assert!(
            device_error(
                "expired_token",
                "AADSTS70019: Verification code expired.",
                &a,
                15
            )
            .contains("15 minutes")
        );
    }

    #[test]
    fn only_one_tenant_and_https_outside_this_machine() {
        for t in ["common", "Organizations", "consumers"] {
            let e = authority(t).base().unwrap_err().to_string();
            assert!(
                e.contains("AADSTS50059") && e.contains("AADSTS90133"),
                "{e}"
            );
        }
        assert_eq!(
            authority("contoso.onmicrosoft.com").base().unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com"
        );
        let mut plain = authority("72f988bf-86f1-41af-91ab-2d7cd011db47");
        plain.authority_host = "http://login.example.com".into();
        assert!(plain.base().is_err());
        plain.authority_host = "http://127.0.0.1:9000".into();
        assert!(plain.base().is_ok());
    }
}
