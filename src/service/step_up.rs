//! Step-up (a package's `auth_context`): asking for the package, approving its requests and
//! extending its grants need a sign-in that satisfied the package's Conditional Access
//! authentication context, which Entra shows in the token's `acrs` claim. Without it the caller
//! is answered with a claims challenge ([`AppError::StepUpRequired`]) naming where to sign in
//! again and what to ask for, so that it can, instead of a dead end.

use crate::auth::Principal;
use crate::config::EntraSettings;
use crate::domain::Package;
use crate::domain::step_up::StepUp;
use crate::error::{AppError, AppResult};
use crate::service::Portal;

impl Portal {
    /// Ok when `pkg` needs no step-up, or `who`'s sign-in satisfied its authentication context;
    /// else 401 `insufficient_claims` with the claims challenge for it.
    pub fn require_step_up(&self, who: &Principal, pkg: &Package) -> AppResult<()> {
        step_up(&self.settings.entra, who, pkg)
    }
}

/// [`Portal::require_step_up`] in the tenant `entra`.
fn step_up(entra: &EntraSettings, who: &Principal, pkg: &Package) -> AppResult<()> {
    let Some(context) = pkg.auth_context.as_deref() else {
        return Ok(());
    };
    if who.satisfies(context) {
        return Ok(());
    }
    tracing::info!(user = %who.user.id, package = %pkg.id, context, "a step-up is needed");
    Err(AppError::StepUpRequired(Box::new(StepUp {
        package: pkg.name.clone(),
        context: context.to_string(),
        tenant: entra.tenant_id.clone(),
        authorization_uri: format!(
            "{}/{}/oauth2/v2.0/authorize",
            entra.authority_host.as_str().trim_end_matches('/'),
            entra.tenant_id
        ),
    })))
}

#[cfg(test)]
mod tests {
    use super::step_up;
    use crate::auth::Principal;
    use crate::config::Settings;
    use crate::domain::{Package, UserRef};
    use crate::error::AppError;

    fn someone(acrs: &[&str]) -> Principal {
        let mut p = Principal::new(
            UserRef {
                id: "u1".into(),
                name: "U".into(),
                username: "u@contoso.example".into(),
            },
            vec![],
        );
        p.acrs = acrs.iter().map(|a| a.to_string()).collect();
        p
    }

    #[test]
    fn a_package_with_an_auth_context_needs_it_in_the_sign_in() {
        let settings = Settings::for_tests("https://jit.contoso.example");
        let entra = &settings.entra;
        let mut pkg = Package::example("p", "g");
        assert!(step_up(entra, &someone(&[]), &pkg).is_ok());
        pkg.auth_context = Some("c1".into());
        match step_up(entra, &someone(&["c2"]), &pkg) {
            Err(AppError::StepUpRequired(s)) => {
                assert_eq!(s.context, "c1");
                assert!(
                    s.authorization_uri.ends_with("/oauth2/v2.0/authorize")
                        && s.authorization_uri.contains(&s.tenant),
                    "{s:?}"
                );
            }
            other => panic!("a step-up, not {other:?}"),
        }
        assert!(step_up(entra, &someone(&["c2", "c1"]), &pkg).is_ok());
    }
}
