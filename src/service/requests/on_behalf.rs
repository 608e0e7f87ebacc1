//! Asking on someone else's behalf: an approver, an admin or a holder of the
//! `requester_on_behalf` app role asks for a package for other people or device accounts, named
//! by user principal name or object id, one request each from one form or call.
//!
//! What applies to the whole ask is checked once, before anyone is asked for: the sign-in
//! reaches the portal (a requests-API token, which a device-code sign-in and so a phished one
//! can hold, never asks in others' names), the caller may ask on others' behalf, the package
//! exists, the form is valid and names 1 to [`MAX_ON_BEHALF`] people, and the asker's sign-in
//! has made the package's step-up. Then each person is
//! resolved in the directory and asked for in turn, each on their own: a request, its audit
//! event and its notifications in one transaction, or nothing at all for that person. One
//! person refused (not eligible, a directory role, an open request already, a quota) leaves the
//! others' requests standing; each gets their own result, in the order named.

use crate::auth::Principal;
use crate::domain::request::validate_new_request;
use crate::domain::{NewRequestInput, Package, Request, Role, UserRef};
use crate::error::{AppError, AppResult};
use crate::graph::is_object_id;
use crate::service::Portal;

use super::asking::OnBehalf;

/// The most people one ask may name.
pub const MAX_ON_BEHALF: usize = 20;
/// The most people a directory search answers with.
pub const SEARCH_LIMIT: usize = 25;

/// What became of one person named in an ask on others' behalf.
#[derive(Debug)]
pub struct OnBehalfOutcome {
    /// The person as named (a user principal name or an object id).
    pub named: String,
    /// Their request, or why none was made for them.
    pub result: AppResult<Request>,
}

impl Portal {
    /// The app role value that lets its holders ask on others' behalf.
    pub fn on_behalf_role(&self) -> &str {
        &self.settings.roles.requester_on_behalf
    }

    /// Whether `who` may ask for `pkg` (without one: for some package) on someone else's
    /// behalf: the admins, the approvers (the approver role, or the package's approver groups)
    /// and the holders of the `requester_on_behalf` role; never through the requests API.
    pub fn may_ask_on_behalf(&self, who: &Principal, pkg: Option<&Package>) -> bool {
        if who.requests_only() {
            return false;
        }
        self.has_role(who, Role::Admin)
            || self.has_role(who, Role::Approver)
            || self.has_role(who, Role::RequesterOnBehalf)
            || match pkg {
                Some(p) => self.is_package_approver(who, p),
                None => self
                    .packages()
                    .iter()
                    .any(|p| self.is_package_approver(who, p)),
            }
    }

    /// People and device accounts whose display name or user principal name has a word
    /// starting with `term` (at least 2 characters), for whoever may ask on others' behalf: at
    /// most [`SEARCH_LIMIT`], as the directory has them now.
    pub async fn search_people(&self, who: &Principal, term: &str) -> AppResult<Vec<UserRef>> {
        self.require_portal_reach(who, "Searching the directory")?;
        if !self.may_ask_on_behalf(who, None) {
            return Err(AppError::Forbidden(format!(
                "Searching the directory is for those who may ask on others' behalf: approvers, admins and holders of the {} app role.",
                self.on_behalf_role()
            )));
        }
        let term = term.trim();
        if term.chars().count() < 2 || term.chars().count() > 64 {
            return Err(AppError::invalid_field(
                "search",
                "Search with 2 to 64 characters of a name or a user principal name.",
            ));
        }
        let found = self
            .directory
            .search_users(term, SEARCH_LIMIT)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "could not search the directory");
                AppError::Unavailable(
                    "The directory cannot be searched at the moment. Try again in a few minutes."
                        .into(),
                )
            })?;
        Ok(found
            .into_iter()
            .filter(|u| {
                u.odata_type
                    .as_deref()
                    .is_none_or(|t| t == "#microsoft.graph.user")
            })
            .map(|u| {
                let username = u.user_principal_name.unwrap_or_else(|| u.id.clone());
                UserRef {
                    name: u.display_name.unwrap_or_else(|| username.clone()),
                    username,
                    id: u.id.to_lowercase(),
                }
            })
            .collect())
    }

    /// Requests for `pkg` for each person `named`, asked by `who` (see the module's
    /// description): an error for the whole ask, or one outcome per person.
    #[tracing::instrument(skip_all, fields(user = %who.user.id, package = %input.package, named = named.len()))]
    pub async fn create_requests_on_behalf(
        &self,
        who: &Principal,
        input: NewRequestInput,
        named: &[String],
    ) -> AppResult<Vec<OnBehalfOutcome>> {
        self.require_portal_reach(who, "Asking on someone else's behalf")?;
        let pkg = self.package(input.package.trim()).ok_or_else(|| {
            AppError::invalid_field(
                "package",
                format!("There is no package '{}'.", input.package.trim()),
            )
        })?;
        if !self.may_ask_on_behalf(who, Some(pkg)) {
            return Err(AppError::Forbidden(format!(
                "Asking on someone else's behalf is for approvers, admins and holders of the {} app role.",
                self.on_behalf_role()
            )));
        }
        if input.emergency {
            return Err(AppError::invalid_field(
                "emergency",
                "Break-glass is for oneself: it cannot be asked on someone else's behalf.",
            ));
        }
        let names = beneficiaries(named)?;
        // The form's own rules hold for everyone alike: refused once, for the whole ask.
        validate_new_request(pkg, &input, self.now()).map_err(AppError::invalid)?;
        // The step-up is the asker's: asked for once (a claims challenge), not once per person.
        self.require_step_up(who, pkg)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let result = match self.beneficiary(who, &name).await {
                Ok(b) => self.ask(who, input.clone(), Some(&b)).await,
                Err(e) => Err(e),
            };
            if let Err(e) = &result {
                tracing::info!(named = %name, error = %e, "no request on behalf");
            }
            out.push(OnBehalfOutcome {
                named: name,
                result,
            });
        }
        Ok(out)
    }

    /// The person `name` names, as the directory has them now, with their app roles.
    async fn beneficiary(&self, who: &Principal, name: &str) -> AppResult<OnBehalf> {
        let unreadable = |e: crate::graph::DirectoryError| {
            tracing::warn!(named = %name, error = %e, "could not read a person asked for");
            AppError::Unavailable(format!(
                "{name} cannot be looked up at the moment (the directory did not answer). Try again in a few minutes."
            ))
        };
        let missing =
            || AppError::NotFound(format!("There is no account {name} in the directory."));
        let user = self
            .directory
            .get_user(name)
            .await
            .map_err(unreadable)?
            .ok_or_else(missing)?;
        if user.id.eq_ignore_ascii_case(&who.user.id) {
            return Err(AppError::invalid_field(
                "on_behalf_of",
                format!("{name} is you: ask for yourself without naming anyone."),
            ));
        }
        let access = self
            .directory
            .user_access(&user.id)
            .await
            .map_err(unreadable)?
            .ok_or_else(missing)?;
        let username = user
            .user_principal_name
            .clone()
            .unwrap_or_else(|| user.id.clone());
        let person = UserRef {
            name: user
                .display_name
                .clone()
                .unwrap_or_else(|| username.clone()),
            username,
            id: user.id.to_lowercase(),
        };
        if !access.enabled {
            return Err(AppError::Forbidden(format!(
                "{}'s account ({}) is disabled in the directory.",
                person.name, person.username
            )));
        }
        Ok(OnBehalf {
            user: person,
            roles: access.roles,
        })
    }
}

/// The people named, trimmed, each once (ignoring case), in order; refused when none, too many,
/// or one is neither a user principal name nor an object id.
fn beneficiaries(named: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for n in named.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let shaped = is_object_id(n)
            || (n.len() <= 256
                && n.contains('@')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()));
        if !shaped {
            return Err(AppError::invalid_field(
                "on_behalf_of",
                format!(
                    "'{}' is neither a user principal name (name@domain) nor an object id.",
                    n.chars().take(100).collect::<String>()
                ),
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(n)) {
            out.push(n.to_string());
        }
    }
    if out.is_empty() {
        return Err(AppError::invalid_field(
            "on_behalf_of",
            "Name at least one person or device account (user principal name or object id).",
        ));
    }
    if out.len() > MAX_ON_BEHALF {
        return Err(AppError::invalid_field(
            "on_behalf_of",
            format!("At most {MAX_ON_BEHALF} people or device accounts at once."),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::beneficiaries;

    #[test]
    fn names_are_checked_and_taken_once() {
        let named = vec![
            " scanner-07@contoso.example ".to_string(),
            "SCANNER-07@contoso.example".to_string(),
            String::new(),
            "0f8fad5b-d9cb-469f-a165-70867728950e".to_string(),
        ];
        assert_eq!(
            beneficiaries(&named).unwrap(),
            [
                "scanner-07@contoso.example",
                "0f8fad5b-d9cb-469f-a165-70867728950e"
            ]
        );
        assert!(beneficiaries(&[]).is_err());
        assert!(beneficiaries(&["dana".to_string()]).is_err());
        assert!(beneficiaries(&["a b@c".to_string()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("d{i}@c.example")).collect();
        assert!(beneficiaries(&many).is_err());
    }
}
