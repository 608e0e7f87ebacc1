//! The rules checked before any write transaction: where the one acting is
//! (`trusted_networks`), and whether the person who would hold the grant is in an eligible group
//! (`eligible_groups`, transitively, read from the directory each time) and holds no directory
//! role (`deny_privileged`, read at most once per `role_refresh`). The directory readings fail
//! closed: a reading that fails refuses nothing and allows nothing (503).

use serde_json::{Value, json};

use super::Ask;
use crate::domain::policy::{Refusal, Rule, Stage};
use crate::domain::privileged::{PrivilegedVerdict, roles_in_words};
use crate::error::{AppError, AppResult};
use crate::service::Portal;

impl Portal {
    /// Checks `ask` against the rules that need no transaction; on a refusal records it and
    /// answers with it. What the audit trail should know of an allowed ask (an exception to
    /// `deny_privileged` used) comes back as details to add to the stage's own event.
    pub(in crate::service) async fn check_outer(&self, ask: &Ask<'_>) -> AppResult<Value> {
        match self.outer_refusal(ask).await? {
            Ok(notes) => Ok(notes),
            Err(refusal) => Err(self.refuse(ask, refusal).await),
        }
    }

    /// The first refusal among the rules, if any, else the notes for the audit trail.
    pub(in crate::service) async fn outer_refusal(
        &self,
        ask: &Ask<'_>,
    ) -> AppResult<Result<Value, Refusal>> {
        let pkg = ask.pkg;
        if let Some(actor) = ask.actor {
            let doing = match ask.stage {
                Stage::Request | Stage::BreakGlass => format!("ask for {}", pkg.name),
                Stage::Extension if ask.by_requester() => format!("extend {}", pkg.name),
                _ => format!("decide requests for {}", pkg.name),
            };
            if let Err(r) = pkg
                .trusted_networks
                .check(actor.client_ip.as_deref(), &doing)
            {
                return Ok(Err(r));
            }
        }
        if ask.stage == Stage::Denial {
            return Ok(Ok(json!({})));
        }
        let (you, you_are) = if ask.by_requester() {
            ("you".to_string(), "You are".to_string())
        } else {
            (
                ask.requester.name.clone(),
                format!("{} is", ask.requester.name),
            )
        };
        if !pkg.eligible_groups.is_empty() {
            let among = self
                .directory
                .member_groups_among(&ask.requester.id, &pkg.eligible_groups)
                .await
                .map_err(|e| {
                    tracing::warn!(user = %ask.requester.id, error = %e, "could not read eligible groups");
                    AppError::Unavailable(format!(
                        "Whether {you} may hold {} cannot be checked at the moment (the directory did not answer). Try again in a few minutes.",
                        pkg.name
                    ))
                })?;
            if among.is_empty() {
                return Ok(Err(Refusal::new(
                    Rule::EligibleGroups,
                    format!(
                        "{you_are} not in any of the groups whose members may hold {}.",
                        pkg.name
                    ),
                    json!({"eligible_groups": pkg.eligible_groups}),
                )));
            }
        }
        let mut notes = json!({});
        let verdict = self.privileged_verdict(pkg, &ask.requester.id).await?;
        match &verdict {
            PrivilegedVerdict::Allowed => {}
            PrivilegedVerdict::AllowedByException(held) => {
                notes["privileged_exception"] = json!({
                    "roles": held,
                    "in_words": roles_in_words(held),
                });
            }
            PrivilegedVerdict::Refused(held) => {
                let message = if ask.by_requester() {
                    verdict.refusal().unwrap_or_default()
                } else {
                    format!(
                        "{} may not be held by accounts that hold an Entra directory role, and {} holds {}.",
                        pkg.name,
                        ask.requester.name,
                        roles_in_words(held)
                    )
                };
                return Ok(Err(Refusal::new(
                    Rule::DenyPrivileged,
                    message,
                    json!({"roles": held}),
                )));
            }
        }
        Ok(Ok(notes))
    }
}
