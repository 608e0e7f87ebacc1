//! A package's rules on who may hold it, from where, how much, and with what: each rule has a
//! key (its name in the configuration, in refusals and in the audit trail), is checked at one or
//! more stages of a request's life, and refuses with a sentence a person understands.
//!
//! - `auto_approve`: rules that approve a request without a person;
//! - `break_glass`: who may take the package in an emergency without approval, how long and
//!   how often;
//! - `networks`: the client addresses requests and decisions may come from;
//! - `quota`: granted time per person in a rolling window (`max_hours_per_user`);
//! - `slots`: how many people may hold the package at once (`max_active`).

pub mod auto_approve;
pub mod break_glass;
pub mod networks;
pub mod quota;
pub mod slots;

use serde_json::Value;

/// A package rule that can refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    EligibleGroups,
    TicketPattern,
    TicketValidator,
    AuthContext,
    TrustedNetworks,
    MaxActive,
    MaxHoursPerUser,
    DenyPrivileged,
    /// An emergency ask without approval that may not be made this way at all (a token for the
    /// requests API).
    BreakGlass,
    BreakGlassGroups,
    BreakGlassPerUser,
}

impl Rule {
    pub const ALL: [Rule; 11] = [
        Rule::EligibleGroups,
        Rule::TicketPattern,
        Rule::TicketValidator,
        Rule::AuthContext,
        Rule::TrustedNetworks,
        Rule::MaxActive,
        Rule::MaxHoursPerUser,
        Rule::DenyPrivileged,
        Rule::BreakGlass,
        Rule::BreakGlassGroups,
        Rule::BreakGlassPerUser,
    ];

    /// The rule's configuration key.
    pub fn key(self) -> &'static str {
        match self {
            Rule::EligibleGroups => "eligible_groups",
            Rule::TicketPattern => "ticket_pattern",
            Rule::TicketValidator => "ticket_validator",
            Rule::AuthContext => "auth_context",
            Rule::TrustedNetworks => "trusted_networks",
            Rule::MaxActive => "max_active",
            Rule::MaxHoursPerUser => "max_hours_per_user",
            Rule::DenyPrivileged => "deny_privileged",
            Rule::BreakGlass => "break_glass",
            Rule::BreakGlassGroups => "break_glass_groups",
            Rule::BreakGlassPerUser => "break_glass_per_user",
        }
    }

    /// Whether a refusal says "not you, not from there" (403) rather than "not this request,
    /// not now" (422).
    pub fn forbids(self) -> bool {
        matches!(
            self,
            Rule::EligibleGroups
                | Rule::TrustedNetworks
                | Rule::DenyPrivileged
                | Rule::AuthContext
                | Rule::BreakGlass
                | Rule::BreakGlassGroups
        )
    }

    /// The form field a refusal is about, if any.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Rule::TicketPattern | Rule::TicketValidator => Some("ticket"),
            Rule::MaxHoursPerUser => Some("duration_minutes"),
            _ => None,
        }
    }
}

/// When rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A person asks for the package.
    Request,
    /// An approver approves (each approval).
    Approval,
    /// A denial: only where the decider is may matter.
    Denial,
    /// The requester asks for more time, or an approver approves it.
    Extension,
    /// Just before the membership is added.
    BeforeAdd,
    /// A person takes the package in an emergency, without approval (break-glass).
    BreakGlass,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Request => "request",
            Stage::Approval => "approval",
            Stage::Denial => "denial",
            Stage::Extension => "extension",
            Stage::BeforeAdd => "before_add",
            Stage::BreakGlass => "break_glass",
        }
    }
}

/// A rule said no: which, why in words, and the facts behind it for the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub rule: Rule,
    pub message: String,
    pub facts: Value,
}

impl Refusal {
    pub fn new(rule: Rule, message: impl Into<String>, facts: Value) -> Refusal {
        Refusal {
            rule,
            message: message.into(),
            facts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_distinct_key() {
        let mut keys: Vec<_> = Rule::ALL.iter().map(|r| r.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Rule::ALL.len());
        assert!(Rule::DenyPrivileged.forbids() && !Rule::MaxActive.forbids());
        assert!(Rule::BreakGlassGroups.forbids() && !Rule::BreakGlassPerUser.forbids());
        assert_eq!(Rule::TicketValidator.field(), Some("ticket"));
    }
}
