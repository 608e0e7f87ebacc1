//! Completing a device login, from the device-login page or a test: the code must still be
//! good, Conditional Access decides with the memberships of that moment, the outcome is what
//! the polling device gets next, and every attempt is written to the sign-in log.

use chrono::SubsecRound;

use super::conditional_access::{BLOCKED, blocked_by_conditional_access};
use super::resources::{app_name, resource_of};
use super::user_codes::by_user_code;
use crate::emulator::SignIn;
use crate::emulator::config::DemoUser;
use crate::emulator::grants::{DeviceGrant, Outcome};
use crate::emulator::state::State;
use crate::emulator::tenant::Emulator;

/// The caller's address when the page is completed from a test.
pub(crate) const LOCAL_IP: &str = "127.0.0.1";
/// AADSTS65004, what a device whose user pressed Deny is told.
pub(super) const DECLINED: &str = "User declined to consent to access the app.";
const DISABLED: &str =
    "User account is disabled. The account has been disabled by an administrator.";

/// How a completed device login ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceLogin {
    /// The user signed in; the device gets its tokens.
    SignedIn,
    /// Conditional Access blocked the sign-in (AADSTS53003); the device gets `access_denied`.
    Blocked,
}

/// Why a code entered on the device-login page (or given to a test helper) does not work.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PageError {
    UnknownCode,
    ExpiredCode,
    UsedCode,
    UnknownUser,
    Disabled,
    /// The code's `claims` asked for authentication contexts and the MFA step was not done.
    MfaRequired,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PageError::UnknownCode => "That code didn't work. Check the code and try again.",
            PageError::ExpiredCode => {
                "That code has expired. Go back to the app or device and start the sign-in again."
            }
            PageError::UsedCode => {
                "That code was already used. Go back to the app or device and start the sign-in again."
            }
            PageError::UnknownUser => "The user account does not exist in the jitgate demo tenant.",
            PageError::Disabled => "AADSTS50057: The user account is disabled.",
            PageError::MfaRequired => {
                "Complete MFA to continue: your organisation requires it for this application."
            }
        })
    }
}

/// What the page needs to know about a code that works.
pub(super) struct Live {
    pub(super) client_id: String,
    scope: String,
    /// The authentication contexts the code's `claims` asked for (the page's MFA step).
    pub(super) acrs: Vec<String>,
}

/// The grant for `user_code` when it can still be completed.
pub(super) fn live<'a>(
    st: &'a mut State,
    user_code: &str,
) -> Result<(Live, &'a mut DeviceGrant), PageError> {
    let now = st.now();
    let (_, grant) = by_user_code(&mut st.device, user_code).ok_or(PageError::UnknownCode)?;
    if grant.expired(now) {
        return Err(PageError::ExpiredCode);
    }
    if grant.outcome != Outcome::Pending {
        return Err(PageError::UsedCode);
    }
    let info = Live {
        client_id: grant.client_id.clone(),
        scope: grant.scope.clone(),
        acrs: grant.acrs.clone(),
    };
    Ok((info, grant))
}

/// How one device-code sign-in ended, as the sign-in log says it.
struct Verdict {
    conditional_access: &'static str,
    error_code: i64,
    failure_reason: &'static str,
    additional_details: Option<&'static str>,
}

const SIGNED_IN: Verdict = Verdict {
    // The only policy excludes this user (or is off): no policy applied.
    conditional_access: "notApplied",
    error_code: 0,
    failure_reason: "Other.",
    additional_details: None,
};
const BLOCKED_BY_POLICY: Verdict = Verdict {
    conditional_access: "failure",
    error_code: 53003,
    failure_reason: BLOCKED,
    additional_details: Some(
        "Your sign-in was successful but does not meet the criteria to access this resource.",
    ),
};
const ACCOUNT_DISABLED: Verdict = Verdict {
    conditional_access: "notApplied",
    error_code: 50057,
    failure_reason: DISABLED,
    additional_details: None,
};
const DENIED: Verdict = Verdict {
    conditional_access: "notApplied",
    error_code: 65004,
    failure_reason: DECLINED,
    additional_details: Some("The user pressed Deny on the device login page."),
};

/// Writes one device-code sign-in of `user` to the device code `code`, from `ip`, to the log.
fn record(emu: &Emulator, st: &mut State, code: &Live, user: &DemoUser, ip: &str, v: Verdict) {
    let (resource_name, resource_id) = resource_of(emu, &code.scope);
    let entry = SignIn {
        id: uuid::Uuid::new_v4().to_string(),
        // Microseconds are plenty, and keep `createdDateTime` short.
        created: st.now().trunc_subsecs(6),
        user_id: user.id.clone(),
        user_principal_name: user.username.clone(),
        user_display_name: user.name.clone(),
        app_id: code.client_id.clone(),
        app_display_name: app_name(emu, &code.client_id),
        ip_address: ip.to_owned(),
        client_app_used: "Mobile Apps and Desktop clients".to_owned(),
        is_interactive: true,
        conditional_access_status: v.conditional_access.to_owned(),
        error_code: v.error_code,
        failure_reason: v.failure_reason.to_owned(),
        additional_details: v.additional_details.map(str::to_owned),
        authentication_protocol: "deviceCode".to_owned(),
        resource_display_name: resource_name,
        resource_id,
        correlation_id: uuid::Uuid::new_v4().to_string(),
    };
    tracing::debug!(user = %entry.user_id, error_code = entry.error_code, "emulator logged a device-code sign-in");
    st.sign_ins.push(entry);
}

/// Completes the device login for `user_code` as `user_id`, seen from `ip`, with the MFA step
/// done or not (`mfa`): a code whose `claims` asked for authentication contexts needs it, and
/// its tokens then carry them in `acrs`.
pub(crate) fn complete(
    emu: &Emulator,
    user_code: &str,
    user_id: &str,
    ip: &str,
    mfa: bool,
) -> Result<DeviceLogin, PageError> {
    let user = emu.user(user_id);
    let mut st = emu.state();
    let (info, _) = live(&mut st, user_code)?;
    let user = user.ok_or(PageError::UnknownUser)?;
    if !info.acrs.is_empty() && !mfa {
        return Err(PageError::MfaRequired);
    }
    if st.disabled.contains(&user.id.to_ascii_lowercase()) {
        record(emu, &mut st, &info, user, ip, ACCOUNT_DISABLED);
        return Err(PageError::Disabled);
    }
    let blocked = blocked_by_conditional_access(emu, &st, user, &info.scope);
    let (_, grant) = live(&mut st, user_code)?;
    grant.outcome = if blocked {
        Outcome::Blocked(user.id.clone())
    } else {
        Outcome::SignedIn(user.id.clone())
    };
    let verdict = if blocked {
        BLOCKED_BY_POLICY
    } else {
        SIGNED_IN
    };
    record(emu, &mut st, &info, user, ip, verdict);
    Ok(if blocked {
        DeviceLogin::Blocked
    } else {
        DeviceLogin::SignedIn
    })
}

/// Denies the device login for `user_code` as `user_id`, seen from `ip`.
pub(crate) fn decline(
    emu: &Emulator,
    user_code: &str,
    user_id: &str,
    ip: &str,
) -> Result<(), PageError> {
    let user = emu.user(user_id);
    let mut st = emu.state();
    let (info, grant) = live(&mut st, user_code)?;
    let user = user.ok_or(PageError::UnknownUser)?;
    grant.outcome = Outcome::Declined;
    record(emu, &mut st, &info, user, ip, DENIED);
    Ok(())
}
