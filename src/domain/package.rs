//! An access package: one Entra group plus the policy for requesting it.

use chrono::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Object id of the Entra security group membership is granted in.
    pub group_id: String,
    pub min_duration: Duration,
    pub default_duration: Duration,
    pub max_duration: Duration,
    /// Quick picks offered by forms; each lies within the limits.
    pub duration_presets: Vec<Duration>,
    /// How many distinct approvers must approve.
    pub approvals_required: u32,
    pub ticket_required: bool,
    /// The form the whole ticket must have (implies `ticket_required`).
    pub ticket_pattern: Option<super::ticket::TicketRule>,
    /// What a ticket looks like, in words, for the form and for refusals.
    pub ticket_hint: Option<String>,
    /// The ticket system asked whether a request's ticket is valid (implies `ticket_required`).
    pub ticket_validator: Option<TicketValidator>,
    /// Step-up: the Conditional Access authentication context (`c1`..`c99`) a sign-in must have
    /// satisfied (its token's `acrs` claim) to ask for the package and to approve its requests.
    pub auth_context: Option<String>,
    /// When set, only users holding this app role may request the package.
    pub requester_role: Option<String>,
    /// Whether the requester's manager (Graph `/users/{id}/manager`) may approve.
    pub manager_may_approve: bool,
    /// A pending request with no decision after this long times out.
    pub approval_timeout: Duration,
    /// How far ahead a requested later start may lie.
    pub max_start_delay: Duration,
    /// Object ids that belong in the group without a grant (break-glass accounts, per-device
    /// accounts): reconciliation leaves them alone.
    pub standing_members: Vec<String>,
    /// After the removal is verified, end every sign-in session of the user (Graph
    /// `revokeSignInSessions`), so tokens obtained through the exemption stop working at once.
    pub revoke_sessions_on_end: bool,
    /// The requester is reminded this long before the end (none: no reminder).
    pub remind_before: Option<Duration>,
    /// A request still undecided after this long is brought up again, to the deciders and
    /// `escalate_to`.
    pub escalate_after: Option<Duration>,
    /// Backup approvers told at escalation (e-mail addresses or user object ids). Being told
    /// gives no right to decide.
    pub escalate_to: Vec<String>,
    /// Members of these Entra groups (transitively) may decide the package's requests.
    pub approver_groups: Vec<String>,
    /// Whether holders of the global approver role may decide them too.
    pub approver_role_applies: bool,
    /// How far beyond `max_duration` extensions may take a grant, counted from its start.
    pub max_extension: Option<Duration>,
    /// Whether the requester's extensions take effect without approval.
    pub self_extend: bool,
    /// One-shot windows: a grant ends this long after its first successful device-code
    /// sign-in is seen in Entra's sign-in log.
    pub end_after_first_sign_in: Option<Duration>,
    /// Requests one person may make for the package in any hour (cancelled ones count).
    pub max_requests_per_hour: u32,
    /// Extensions one person may ask for on the package's grants in any hour.
    pub max_extensions_per_hour: u32,
    /// Holders of an Entra directory role, active or eligible through PIM, may not ask.
    pub deny_privileged: bool,
    /// Members (transitively) of any of these Entra groups may request; none: anyone the role
    /// allows. With `requester_role` both must hold.
    pub eligible_groups: Vec<String>,
    /// Requests and decisions only from these client addresses (none: anywhere).
    pub trusted_networks: super::policy::networks::Networks,
    /// Never more than this many people hold the package at once.
    pub max_active: Option<u32>,
    /// Granted time per person in a rolling window.
    pub max_hours_per_user: Option<super::policy::quota::HoursQuota>,
    /// Rules that approve without a person, tried in order.
    pub auto_approve: Vec<super::policy::auto_approve::AutoApprove>,
    /// Object ids (lower case) allowed to ask despite `deny_privileged`.
    pub privileged_allow: Vec<String>,
    /// Break-glass: taken at once in an emergency, without approval, then reviewed (none: not
    /// allowed).
    pub break_glass: Option<super::policy::break_glass::BreakGlass>,
    /// Its access reviews: how often, by whom, and what an undecided item becomes.
    pub review: super::review_settings::ReviewSettings,
}

/// Where a package's tickets are checked (`ticket_validator`), and whether a ticket system that
/// does not answer lets the request through (`ticket_validator_fail_open`).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketValidator {
    /// Where the check is POSTed; may carry a credential, so it is never shown.
    pub url: url::Url,
    pub fail_open: bool,
}

impl Package {
    /// Whether `object_id` is one of the package's standing members.
    pub fn is_standing_member(&self, object_id: &str) -> bool {
        self.standing_members
            .iter()
            .any(|m| m.eq_ignore_ascii_case(object_id))
    }

    /// Whether `object_id` is excepted from `deny_privileged`.
    pub fn is_privileged_exception(&self, object_id: &str) -> bool {
        self.privileged_allow
            .iter()
            .any(|m| m.eq_ignore_ascii_case(object_id.trim()))
    }

    /// Whether a user holding `roles` (raw role values from the token) may request this package.
    pub fn is_eligible(&self, roles: &[String]) -> bool {
        match &self.requester_role {
            None => true,
            Some(required) => roles.iter().any(|r| r == required),
        }
    }

    /// The longest a grant may last from its start, extensions included.
    pub fn longest_grant(&self) -> Duration {
        self.max_duration + self.max_extension.unwrap_or_else(Duration::zero)
    }

    /// A package suitable for tests and the demo.
    pub fn example(id: &str, group_id: &str) -> Package {
        Package {
            id: id.to_string(),
            name: format!("Package {id}"),
            description: String::new(),
            group_id: group_id.to_string(),
            min_duration: Duration::minutes(15),
            default_duration: Duration::hours(2),
            max_duration: Duration::hours(4),
            duration_presets: vec![
                Duration::minutes(30),
                Duration::hours(1),
                Duration::hours(2),
                Duration::hours(4),
            ],
            approvals_required: 1,
            ticket_required: false,
            ticket_pattern: None,
            ticket_hint: None,
            ticket_validator: None,
            auth_context: None,
            requester_role: None,
            manager_may_approve: false,
            approval_timeout: Duration::hours(24),
            max_start_delay: Duration::days(7),
            standing_members: Vec::new(),
            revoke_sessions_on_end: false,
            remind_before: Some(Duration::minutes(15)),
            escalate_after: None,
            escalate_to: Vec::new(),
            approver_groups: Vec::new(),
            approver_role_applies: true,
            max_extension: None,
            self_extend: false,
            end_after_first_sign_in: None,
            max_requests_per_hour: 10,
            max_extensions_per_hour: 10,
            deny_privileged: true,
            eligible_groups: Vec::new(),
            trusted_networks: Default::default(),
            max_active: None,
            max_hours_per_user: None,
            auto_approve: Vec::new(),
            privileged_allow: Vec::new(),
            break_glass: None,
            review: Default::default(),
        }
    }
}

pub use super::durations::{format_duration, parse_duration};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_config_durations() {
        assert_eq!(parse_duration("90m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::hours(2));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration(" 45s ").unwrap(), Duration::seconds(45));
        assert!(parse_duration("2 hours and a bit").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5m").is_err());
    }

    /// Found by the parsers' properties (seeds: fuzz/seeds/config/found-*): durations are whole seconds and short enough to
    /// be added to any date; "500ms" was taken (not whole seconds) and "10000000y" too (any
    /// deadline computed from it overflowed, a panic).
    #[test]
    fn durations_are_whole_seconds_and_bounded() {
        assert!(parse_duration("500ms").is_err());
        assert!(parse_duration("1m 1ns").is_err());
        assert!(parse_duration("10000000y").is_err());
        assert!(parse_duration("101y").is_err());
        assert_eq!(parse_duration("1000ms").unwrap(), Duration::seconds(1));
        assert_eq!(parse_duration("36500d").unwrap(), Duration::days(36_500));
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(Duration::minutes(90)), "1h 30m");
        assert_eq!(format_duration(Duration::hours(2)), "2h");
        assert_eq!(format_duration(Duration::minutes(5)), "5m");
        assert_eq!(format_duration(Duration::hours(26)), "1d 2h");
        assert_eq!(format_duration(Duration::zero()), "0m");
    }

    #[test]
    fn eligibility_by_role() {
        let mut p = Package::example("p", "g");
        assert!(p.is_eligible(&[]));
        p.requester_role = Some("Developer".into());
        assert!(!p.is_eligible(&[]));
        assert!(!p.is_eligible(&["Approver".into()]));
        assert!(p.is_eligible(&["Approver".into(), "Developer".into()]));
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// What the `config` fuzz target checks of durations: any text is an error or a
        /// duration of whole seconds, positive, that fits after any date the portal meets.
        #[test]
        fn any_text_is_a_usable_duration_or_an_error(
            text in prop_oneof![
                "\\PC{0,16}",
                // Numbers with units as humantime spells them, a few of each size.
                " ?[0-9]{1,20}(ns|us|ms|s|sec|m|min|h|hr|d|days|w|M|y|years)( [0-9]{1,20}(ns|ms|s|m|h|d|y)){0,3} ?",
            ]
        ) {
            if let Ok(d) = parse_duration(&text) {
                prop_assert!(d > Duration::zero());
                prop_assert_eq!(d.subsec_nanos(), 0);
                prop_assert!(d <= Duration::days(36_525), "{:?}", d);
                let late = chrono::DateTime::parse_from_rfc3339("2200-01-01T00:00:00Z").unwrap();
                prop_assert!(late.checked_add_signed(d).is_some());
            }
        }

        /// A duration as written in the configuration reads back as itself.
        #[test]
        fn written_durations_read_back(
            days in 0i64..=36_000, hours in 0i64..24, minutes in 0i64..60, seconds in 0i64..60,
        ) {
            let total = Duration::days(days) + Duration::hours(hours)
                + Duration::minutes(minutes) + Duration::seconds(seconds);
            let text = format!("{days}d {hours}h {minutes}m {seconds}s");
            if total > Duration::zero() {
                prop_assert_eq!(parse_duration(&text).unwrap(), total);
            } else {
                prop_assert!(parse_duration(&text).is_err());
            }
            if seconds == 0 && total > Duration::zero() {
                prop_assert_eq!(parse_duration(&format_duration(total)).unwrap(), total);
            }
        }
    }
}
