//! The device authorization grant (RFC 8628) as a client: start a sign-in at the tenant's
//! `/oauth2/v2.0/devicecode`, then redeem the device code at `/oauth2/v2.0/token`. The demo's
//! "Try the device code flow" panel uses it to show the exemption at work: Entra (here, the
//! emulated tenant) blocks the flow by Conditional Access unless the person holds a grant.

use serde::Deserialize;

/// A started device-code sign-in, as Entra answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceCodeStart {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    pub interval: u64,
    pub message: String,
}

/// How redeeming the device code went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceCodeOutcome {
    /// Tokens were issued.
    SignedIn,
    /// Conditional Access blocked it (AADSTS53003).
    Blocked(String),
    /// Not completed yet (`authorization_pending`, `slow_down`).
    Pending,
    /// Anything else Entra answered: declined, expired, refused.
    Failed(String),
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<i64>,
}

/// `{authority}/{tenant}/oauth2/v2.0/{endpoint}`.
fn endpoint(authority: &str, tenant: &str, endpoint: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/{endpoint}",
        authority.trim_end_matches('/')
    )
}

/// Starts a device-code sign-in for the public client `client_id`.
pub async fn start(
    http: &reqwest::Client,
    authority: &str,
    tenant: &str,
    client_id: &str,
    scope: &str,
) -> Result<DeviceCodeStart, String> {
    let r = http
        .post(endpoint(authority, tenant, "devicecode"))
        .form(&[("client_id", client_id), ("scope", scope)])
        .send()
        .await
        .map_err(|e| format!("the sign-in service cannot be reached: {}", e.without_url()))?;
    if !r.status().is_success() {
        let e: TokenError = r
            .json()
            .await
            .map_err(|e| format!("unexpected answer: {e}"))?;
        return Err(first_line(&e.error_description));
    }
    r.json()
        .await
        .map_err(|e| format!("unexpected answer: {e}"))
}

/// Redeems the device code once.
pub async fn redeem(
    http: &reqwest::Client,
    authority: &str,
    tenant: &str,
    client_id: &str,
    device_code: &str,
) -> Result<DeviceCodeOutcome, String> {
    let r = http
        .post(endpoint(authority, tenant, "token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", device_code),
        ])
        .send()
        .await
        .map_err(|e| format!("the sign-in service cannot be reached: {}", e.without_url()))?;
    if r.status().is_success() {
        return Ok(DeviceCodeOutcome::SignedIn);
    }
    let e: TokenError = r
        .json()
        .await
        .map_err(|e| format!("unexpected answer: {e}"))?;
    Ok(match e.error.as_str() {
        "authorization_pending" | "slow_down" => DeviceCodeOutcome::Pending,
        _ if e.error_codes.contains(&53003) => {
            DeviceCodeOutcome::Blocked(first_line(&e.error_description))
        }
        _ => {
            DeviceCodeOutcome::Failed(format!("{}: {}", e.error, first_line(&e.error_description)))
        }
    })
}

/// Entra's descriptions end with trace and correlation ids on further lines.
fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}
