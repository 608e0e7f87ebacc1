//! The demo's "Try the device code flow" panel: a device-code sign-in for the signed-in demo
//! user, run against the emulated tenant, whose Conditional Access blocks the flow for everyone
//! outside the exclusion group. Before a grant it is blocked, during it the user signs in, after
//! it ends it is blocked again: the exemption at work. Demo mode only.

use super::Portal;
use crate::auth::Principal;
use crate::auth::device_code::{self, DeviceCodeOutcome};
use crate::error::{AppError, AppResult};

/// How the try went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodeTry {
    pub signed_in: bool,
    /// What Entra said, in a sentence.
    pub message: String,
    /// The code the device showed.
    pub user_code: String,
}

impl Portal {
    /// Runs a device-code sign-in for `who` against the emulated tenant: the command-line
    /// client asks for a code, the demo completes the tenant's device-login page as `who`, and
    /// the code is redeemed.
    pub async fn try_device_code(&self, who: &Principal) -> AppResult<DeviceCodeTry> {
        if !self.settings.demo {
            return Err(AppError::NotFound("There is no such page.".into()));
        }
        let entra = &self.settings.entra;
        let client = entra.cli_client_id.as_deref().ok_or_else(|| {
            AppError::Conflict(
                "No command-line client is registered ([entra] cli_client_id).".into(),
            )
        })?;
        let authority = entra.authority_host.as_str();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Internal(e.into()))?;
        let started =
            device_code::start(&http, authority, &entra.tenant_id, client, "openid profile")
                .await
                .map_err(AppError::Unavailable)?;
        // What the person would do in a browser: enter the code, pick themselves.
        http.post(&started.verification_uri)
            .form(&[
                ("otc", started.user_code.as_str()),
                ("user", who.user.id.as_str()),
                ("action", "continue"),
            ])
            .send()
            .await
            .map_err(|e| {
                AppError::Unavailable(format!(
                    "the device-login page cannot be reached: {}",
                    e.without_url()
                ))
            })?;
        let outcome = device_code::redeem(
            &http,
            authority,
            &entra.tenant_id,
            client,
            &started.device_code,
        )
        .await
        .map_err(AppError::Unavailable)?;
        let (signed_in, message) = match outcome {
            DeviceCodeOutcome::SignedIn => (
                true,
                "Signed in with the device code flow: you are in the exclusion group, so Conditional Access let it through.".to_string(),
            ),
            DeviceCodeOutcome::Blocked(m) => (false, format!("Blocked by Conditional Access: {m}")),
            DeviceCodeOutcome::Pending => (false, "The sign-in was not completed.".to_string()),
            DeviceCodeOutcome::Failed(m) => (false, format!("The sign-in failed: {m}")),
        };
        tracing::info!(user = %who.user.id, signed_in, "demo device-code try");
        Ok(DeviceCodeTry {
            signed_in,
            message,
            user_code: started.user_code,
        })
    }
}
