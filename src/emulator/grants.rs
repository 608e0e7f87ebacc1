//! What the identity platform has handed out and keeps between requests: sign-in pages waiting
//! for their POST, authorization codes, device codes and refresh tokens.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// Authorization codes (and the sign-in page tokens) are valid for ten minutes.
pub(crate) const CODE_LIFETIME_SECS: i64 = 600;
/// Device and user codes live 15 minutes, like Entra's.
pub(crate) const DEVICE_CODE_LIFETIME_SECS: i64 = 900;
/// Entra's default: a refresh token unused for 90 days expires.
const REFRESH_INACTIVE_DAYS: i64 = 90;

/// Authorize parameters carried from the sign-in page to its POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthorizeParams {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) code_challenge: String,
    pub(crate) code_challenge_method: String,
}

/// A sign-in page shown, by its page token.
pub(crate) struct PendingPage {
    pub(crate) params: AuthorizeParams,
    pub(crate) created: DateTime<Utc>,
    /// The authentication contexts its `claims` parameter asks for (the page's MFA step).
    pub(crate) acrs: Vec<String>,
}

/// An authorization code handed out.
pub(crate) struct CodeGrant {
    pub(crate) params: AuthorizeParams,
    pub(crate) user_id: String,
    /// The authentication contexts the sign-in satisfied (the tokens' `acrs`).
    pub(crate) acrs: Vec<String>,
    pub(crate) issued: DateTime<Utc>,
    pub(crate) redeemed: bool,
}

/// Where a device code stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The user has not completed the page yet.
    Pending,
    /// The user signed in (user id); the next poll gets the tokens.
    SignedIn(String),
    /// Conditional Access blocked the user (user id).
    Blocked(String),
    /// The user pressed Deny.
    Declined,
    /// The tokens were handed out.
    Redeemed,
}

/// A device code handed out by `/devicecode`.
pub(crate) struct DeviceGrant {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    /// The authentication contexts its `claims` parameter asks for; once the user completed
    /// the MFA step, those the sign-in satisfied.
    pub(crate) acrs: Vec<String>,
    pub(crate) user_code: String,
    pub(crate) issued: DateTime<Utc>,
    pub(crate) last_poll: Option<DateTime<Utc>>,
    /// Seconds the device must wait between polls.
    pub(crate) interval: i64,
    pub(crate) outcome: Outcome,
}

impl DeviceGrant {
    pub(crate) fn expired(&self, now: DateTime<Utc>) -> bool {
        (now - self.issued).num_seconds() >= DEVICE_CODE_LIFETIME_SECS
    }
}

/// The device codes handed out, by device code.
#[derive(Default)]
pub(crate) struct DeviceFlows {
    pub(crate) grants: HashMap<String, DeviceGrant>,
}

/// An issued refresh token.
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    /// Every scope asked for when it was issued.
    pub(crate) scope: String,
    pub(crate) last_used: DateTime<Utc>,
    /// Obtained through the device code flow (directly or by refreshing such a token).
    pub(crate) device_code: bool,
    /// The authentication contexts the sign-in behind it satisfied, carried on to the tokens
    /// it is redeemed for.
    pub(crate) acrs: Vec<String>,
}

impl RefreshGrant {
    /// Whether it went unused too long to be redeemed.
    pub(crate) fn inactive(&self, now: DateTime<Utc>) -> bool {
        (now - self.last_used).num_days() >= REFRESH_INACTIVE_DAYS
    }
}
