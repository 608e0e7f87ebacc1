//! A package's rules on who, from where and how much, in words, for the request form, the API
//! and `jitgate packages`: so that a person knows them before asking.

use super::Package;
use super::durations::format_duration;
use super::policy::Rule;

/// Each rule the package sets (of those about groups, the ticket system, step-up, networks, places and hours),
/// with a sentence saying what it asks.
pub fn rules_in_words(pkg: &Package) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match pkg.eligible_groups.len() {
        0 => {}
        1 => out.push((
            Rule::EligibleGroups.key(),
            "Only members of one eligible group may ask.".to_string(),
        )),
        n => out.push((
            Rule::EligibleGroups.key(),
            format!("Only members of one of {n} eligible groups may ask."),
        )),
    }
    if pkg.ticket_validator.is_some() {
        out.push((
            Rule::TicketValidator.key(),
            "Tickets are checked with the ticket system.".to_string(),
        ));
    }
    if let Some(c) = &pkg.auth_context {
        out.push((
            Rule::AuthContext.key(),
            format!(
                "Asking for it and approving it need a fresh multi-factor sign-in (authentication context {c})."
            ),
        ));
    }
    if !pkg.trusted_networks.is_any() {
        out.push((
            Rule::TrustedNetworks.key(),
            format!(
                "Asking and deciding only from {}.",
                pkg.trusted_networks.describe()
            ),
        ));
    }
    if let Some(n) = pkg.max_active {
        let people = if n == 1 {
            "one person holds".to_string()
        } else {
            format!("{n} people hold")
        };
        out.push((
            Rule::MaxActive.key(),
            format!("At most {people} it at once."),
        ));
    }
    if let Some(q) = pkg.max_hours_per_user {
        out.push((
            Rule::MaxHoursPerUser.key(),
            format!(
                "At most {} per person in any {}.",
                format_duration(q.limit),
                format_duration(q.window)
            ),
        ));
    }
    for rule in &pkg.auto_approve {
        out.push(("auto_approve", rule.describe()));
    }
    if let Some(b) = &pkg.break_glass {
        let groups = match b.groups.len() {
            1 => "one break-glass group".to_string(),
            n => format!("one of {n} break-glass groups"),
        };
        out.push((
            Rule::BreakGlassGroups.key(),
            format!(
                "In an emergency, members of {groups} may take it at once without approval (break-glass): for at most {}, {} times per person in any {}; every admin and approver is told at once, and an approver reviews it within {}.",
                format_duration(b.max),
                b.per_user.count,
                format_duration(b.per_user.window),
                format_duration(b.review_within),
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::networks::Networks;
    use crate::domain::policy::quota::HoursQuota;

    #[test]
    fn each_rule_set_is_said() {
        let mut p = Package::example("p", "g");
        assert!(rules_in_words(&p).is_empty());
        p.eligible_groups = vec!["a".into(), "b".into()];
        p.auth_context = Some("c1".into());
        p.ticket_validator = Some(crate::domain::package::TicketValidator {
            url: url::Url::parse("https://itsm.example/v").unwrap(),
            fail_open: false,
        });
        p.trusted_networks = Networks::parse(&["203.0.113.0/24"]).unwrap();
        p.max_active = Some(1);
        p.max_hours_per_user = Some(HoursQuota::parse("8h/7d").unwrap());
        let words: Vec<String> = rules_in_words(&p).into_iter().map(|(_, w)| w).collect();
        assert_eq!(
            words,
            [
                "Only members of one of 2 eligible groups may ask.",
                "Tickets are checked with the ticket system.",
                "Asking for it and approving it need a fresh multi-factor sign-in (authentication context c1).",
                "Asking and deciding only from 203.0.113.0/24.",
                "At most one person holds it at once.",
                "At most 8h per person in any 7d.",
            ]
        );
    }
}
