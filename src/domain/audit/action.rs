//! What an audit event records happened: the closed list of actions, and their names.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    RequestCreated,
    RequestApproved,
    RequestDenied,
    RequestCancelled,
    RequestTimedOut,
    GrantActivated,
    MembershipAdded,
    MembershipRemoved,
    GrantExpired,
    GrantEnded,
    GrantRevoked,
    GrantFailed,
    DirectoryError,
    DriftDetected,
    MembershipVerified,
    DriftRemoved,
    SessionsRevoked,
    NotificationSent,
    NotificationFailed,
    ExtensionRequested,
    ExtensionApproved,
    ExtensionDenied,
    ExtensionLapsed,
    DeviceCodeSignIn,
    GrantShortened,
    PortalSignIn,
    RequestRefused,
    BreakGlassUsed,
    BreakGlassReviewed,
    ReviewStarted,
    ReviewDecided,
    ReviewClosed,
    ReviewApplied,
    ReviewRestored,
}

impl AuditAction {
    pub const ALL: [AuditAction; 34] = [
        AuditAction::RequestCreated,
        AuditAction::RequestApproved,
        AuditAction::RequestDenied,
        AuditAction::RequestCancelled,
        AuditAction::RequestTimedOut,
        AuditAction::GrantActivated,
        AuditAction::MembershipAdded,
        AuditAction::MembershipRemoved,
        AuditAction::GrantExpired,
        AuditAction::GrantEnded,
        AuditAction::GrantRevoked,
        AuditAction::GrantFailed,
        AuditAction::DirectoryError,
        AuditAction::DriftDetected,
        AuditAction::MembershipVerified,
        AuditAction::DriftRemoved,
        AuditAction::SessionsRevoked,
        AuditAction::NotificationSent,
        AuditAction::NotificationFailed,
        AuditAction::ExtensionRequested,
        AuditAction::ExtensionApproved,
        AuditAction::ExtensionDenied,
        AuditAction::ExtensionLapsed,
        AuditAction::DeviceCodeSignIn,
        AuditAction::GrantShortened,
        AuditAction::PortalSignIn,
        AuditAction::RequestRefused,
        AuditAction::BreakGlassUsed,
        AuditAction::BreakGlassReviewed,
        AuditAction::ReviewStarted,
        AuditAction::ReviewDecided,
        AuditAction::ReviewClosed,
        AuditAction::ReviewApplied,
        AuditAction::ReviewRestored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RequestCreated => "request_created",
            AuditAction::RequestApproved => "request_approved",
            AuditAction::RequestDenied => "request_denied",
            AuditAction::RequestCancelled => "request_cancelled",
            AuditAction::RequestTimedOut => "request_timed_out",
            AuditAction::GrantActivated => "grant_activated",
            AuditAction::MembershipAdded => "membership_added",
            AuditAction::MembershipRemoved => "membership_removed",
            AuditAction::GrantExpired => "grant_expired",
            AuditAction::GrantEnded => "grant_ended",
            AuditAction::GrantRevoked => "grant_revoked",
            AuditAction::GrantFailed => "grant_failed",
            AuditAction::DirectoryError => "directory_error",
            AuditAction::DriftDetected => "drift_detected",
            AuditAction::MembershipVerified => "membership_verified",
            AuditAction::DriftRemoved => "drift_removed",
            AuditAction::SessionsRevoked => "sessions_revoked",
            AuditAction::NotificationSent => "notification_sent",
            AuditAction::NotificationFailed => "notification_failed",
            AuditAction::ExtensionRequested => "extension_requested",
            AuditAction::ExtensionApproved => "extension_approved",
            AuditAction::ExtensionDenied => "extension_denied",
            AuditAction::ExtensionLapsed => "extension_lapsed",
            AuditAction::DeviceCodeSignIn => "device_code_sign_in",
            AuditAction::GrantShortened => "grant_shortened",
            AuditAction::PortalSignIn => "portal_sign_in",
            AuditAction::RequestRefused => "request_refused",
            AuditAction::BreakGlassUsed => "break_glass_used",
            AuditAction::BreakGlassReviewed => "break_glass_reviewed",
            AuditAction::ReviewStarted => "review_started",
            AuditAction::ReviewDecided => "review_decided",
            AuditAction::ReviewClosed => "review_closed",
            AuditAction::ReviewApplied => "review_applied",
            AuditAction::ReviewRestored => "review_restored",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(AuditAction::parse("nope"), None);
    }
}
