//! Privileged accounts: whether a person who holds Entra directory roles (administrator roles,
//! active or eligible through Privileged Identity Management) may ask for a package. A package
//! with `deny_privileged` refuses them, unless their object id is one of its `privileged_allow`
//! exceptions (each such use is worth an audit event). What the person holds is read from the
//! directory elsewhere; this decides and words it.

use serde::Serialize;

use super::Package;

/// How a directory role is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Holding {
    /// Assigned and in effect now (directly, through a role-assignable group, or activated
    /// through PIM).
    Active,
    /// Eligible through PIM: the person may activate it at any moment.
    Eligible,
}

/// A directory role a person holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldRole {
    /// The role's template id (for built-in roles the same in every tenant, e.g.
    /// `62e90394-69f5-4237-9190-012177145e10` for Global Administrator), lower case.
    pub id: String,
    /// Its display name, when the directory gave one.
    pub name: Option<String>,
    pub holding: Holding,
}

impl HeldRole {
    /// "Global Administrator (eligible)", "directory role 62e90394-… (active)".
    pub fn describe(&self) -> String {
        let name = match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => format!("directory role {}", self.id),
        };
        let how = match self.holding {
            Holding::Active => "active",
            Holding::Eligible => "eligible",
        };
        format!("{name} ({how})")
    }
}

/// The roles in words: "Global Administrator (eligible)", "A (active) and B (eligible)",
/// "A (active), B (eligible) and C (active)".
pub fn roles_in_words(held: &[HeldRole]) -> String {
    let words: Vec<String> = held.iter().map(HeldRole::describe).collect();
    match words.as_slice() {
        [] => "no directory role".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What `deny_privileged` makes of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivilegedVerdict {
    /// The package does not deny privileged accounts, or the person holds no directory role.
    Allowed,
    /// The person holds these roles but is one of the package's `privileged_allow`.
    AllowedByException(Vec<HeldRole>),
    /// The person holds these roles: refused.
    Refused(Vec<HeldRole>),
}

impl PrivilegedVerdict {
    /// The sentence a refused person is shown; `None` unless refused.
    pub fn refusal(&self) -> Option<String> {
        match self {
            PrivilegedVerdict::Refused(held) => Some(format!(
                "This package is not open to accounts that hold an Entra directory role, and you hold {}. Ask with an account that holds no directory role.",
                roles_in_words(held)
            )),
            _ => None,
        }
    }
}

/// Whether `package` lets `user_id`, who holds `held`, ask: with `deny_privileged` on, anyone
/// holding a directory role (active or eligible) is refused unless their object id is in
/// `privileged_allow` (compared without regard to case).
pub fn judge(package: &Package, user_id: &str, held: &[HeldRole]) -> PrivilegedVerdict {
    judge_rule(
        package.deny_privileged,
        &package.privileged_allow,
        user_id,
        held,
    )
}

/// [`judge`] on the two keys themselves.
pub fn judge_rule(
    deny_privileged: bool,
    privileged_allow: &[String],
    user_id: &str,
    held: &[HeldRole],
) -> PrivilegedVerdict {
    if !deny_privileged || held.is_empty() {
        return PrivilegedVerdict::Allowed;
    }
    let excepted = privileged_allow
        .iter()
        .any(|a| a.trim().eq_ignore_ascii_case(user_id.trim()));
    if excepted {
        PrivilegedVerdict::AllowedByException(held.to_vec())
    } else {
        PrivilegedVerdict::Refused(held.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c06";
    const GA: &str = "62e90394-69f5-4237-9190-012177145e10";

    fn role(name: Option<&str>, holding: Holding) -> HeldRole {
        HeldRole {
            id: GA.to_string(),
            name: name.map(str::to_string),
            holding,
        }
    }

    #[test]
    fn nobody_is_refused_without_the_rule_or_without_a_role() {
        let held = [role(Some("Global Administrator"), Holding::Eligible)];
        assert_eq!(
            judge_rule(false, &[], USER, &held),
            PrivilegedVerdict::Allowed
        );
        assert_eq!(judge_rule(true, &[], USER, &[]), PrivilegedVerdict::Allowed);
        assert_eq!(
            judge_rule(true, &[USER.to_string()], USER, &[]),
            PrivilegedVerdict::Allowed,
            "an exception without a role is no use of it"
        );
    }

    #[test]
    fn holders_are_refused_unless_excepted_whatever_the_case() {
        let held = vec![
            role(Some("Global Administrator"), Holding::Eligible),
            role(None, Holding::Active),
        ];
        let refused = judge_rule(true, &[], USER, &held);
        assert_eq!(refused, PrivilegedVerdict::Refused(held.clone()));
        let other = ["11111111-2222-3333-4444-555555555555".to_string()];
        assert!(matches!(
            judge_rule(true, &other, USER, &held),
            PrivilegedVerdict::Refused(_)
        ));
        let upper = [USER.to_ascii_uppercase()];
        assert_eq!(
            judge_rule(true, &upper, USER, &held),
            PrivilegedVerdict::AllowedByException(held.clone())
        );
        assert_eq!(
            judge_rule(true, &[USER.to_string()], &USER.to_ascii_uppercase(), &held),
            PrivilegedVerdict::AllowedByException(held)
        );
    }

    #[test]
    fn the_package_keys_decide() {
        let mut p = Package::example("p", "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b");
        let held = [role(Some("Global Administrator"), Holding::Active)];
        assert!(p.deny_privileged, "denied unless said otherwise");
        assert!(matches!(
            judge(&p, USER, &held),
            PrivilegedVerdict::Refused(_)
        ));
        p.privileged_allow = vec![USER.to_string()];
        assert!(matches!(
            judge(&p, USER, &held),
            PrivilegedVerdict::AllowedByException(_)
        ));
        p.deny_privileged = false;
        p.privileged_allow.clear();
        assert_eq!(judge(&p, USER, &held), PrivilegedVerdict::Allowed);
    }

    #[test]
    fn refusals_name_the_roles() {
        let one = [role(Some("Global Administrator"), Holding::Eligible)];
        assert_eq!(
            PrivilegedVerdict::Refused(one.to_vec()).refusal().unwrap(),
            "This package is not open to accounts that hold an Entra directory role, and you hold Global Administrator (eligible). Ask with an account that holds no directory role."
        );
        let three = [
            role(Some("Global Administrator"), Holding::Eligible),
            role(Some("User Administrator"), Holding::Active),
            role(Some("  "), Holding::Active),
        ];
        assert_eq!(
            roles_in_words(&three),
            format!(
                "Global Administrator (eligible), User Administrator (active) and directory role {GA} (active)"
            )
        );
        assert_eq!(
            roles_in_words(&three[..2]),
            "Global Administrator (eligible) and User Administrator (active)"
        );
        assert_eq!(PrivilegedVerdict::Allowed.refusal(), None);
        assert_eq!(
            PrivilegedVerdict::AllowedByException(one.to_vec()).refusal(),
            None
        );
    }
}
