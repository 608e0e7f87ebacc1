//! The tenant's sign-in log record, `SignIn`: written by the identity platform when it records a
//! sign-in, read by Graph's `auditLogs/signIns` and by tests (`Emulator::sign_ins`); and the
//! quirks a test may have Graph serve one entry with (`SignInQuirk`).

use chrono::{DateTime, Utc};

/// One recorded sign-in, the Graph `signIn` resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignIn {
    /// Unique id of the sign-in (a GUID).
    pub id: String,
    /// When it happened, on the emulator's clock (`createdDateTime`).
    pub created: DateTime<Utc>,
    /// Object id of the user.
    pub user_id: String,
    /// The user's principal name.
    pub user_principal_name: String,
    /// The user's display name.
    pub user_display_name: String,
    /// Client id of the app that signed in.
    pub app_id: String,
    /// The app's name, e.g. "jitgate CLI".
    pub app_display_name: String,
    /// Address the sign-in came from.
    pub ip_address: String,
    /// Always "Mobile Apps and Desktop clients" for the device code flow.
    pub client_app_used: String,
    /// Whether the user took part (always true for the device code flow).
    pub is_interactive: bool,
    /// `success`, `failure` or `notApplied`.
    pub conditional_access_status: String,
    /// 0 on success, e.g. 53003 when Conditional Access blocked the sign-in.
    pub error_code: i64,
    /// The error's text; "Other." on success.
    pub failure_reason: String,
    /// More about the outcome, when there is more to say.
    pub additional_details: Option<String>,
    /// `deviceCode` (beta only on Graph).
    pub authentication_protocol: String,
    /// The resource the token was asked for, e.g. "Microsoft Graph".
    pub resource_display_name: String,
    /// Application id of that resource.
    pub resource_id: String,
    /// A GUID tying the sign-in to its requests.
    pub correlation_id: String,
}

/// How Graph serves one sign-in log entry out of its usual shape, set by a test with
/// [`Emulator::set_sign_in_quirk`](super::Emulator::set_sign_in_quirk): what a reader of the
/// log must survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInQuirk {
    /// `createdDateTime` left out: an entry no reader can place in time.
    NoCreatedDateTime,
    /// `status.errorCode` sent as a JSON string (`"0"`, `"53003"`) rather than a number.
    ErrorCodeAsString,
}
