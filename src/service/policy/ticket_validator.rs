//! `ticket_validator`: the package's ticket system asked whether a request's ticket is good,
//! when the request is made and again at each approval, always outside any write transaction
//! (it is a call over the network). The call is a JSON POST signed like the audit webhook
//! (Standard Webhooks, `[notify] webhook_secret`); the answer is read in
//! `domain::ticket::read_answer`. A ticket system that does not answer in time, or not as
//! agreed, refuses the request unless the package says `ticket_validator_fail_open`.

use std::sync::OnceLock;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::json;

use super::Ask;
use crate::channels::http::Poster;
use crate::channels::webhook::{WebhookSecret, headers};
use crate::domain::policy::{Refusal, Rule};
use crate::domain::ticket::{TicketVerdict, clip, read_answer};
use crate::error::AppResult;
use crate::service::Portal;

/// How long the ticket system has to answer, connecting included.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The longest answer read.
const ANSWER_MAX: usize = 64 * 1024;
/// What a person is told when the ticket system gave no usable answer.
const NO_ANSWER: &str = "The ticket system did not answer; try again in a few minutes.";

/// What is checked: the request as asked for (or as it stands, at approval).
pub(in crate::service) struct TicketAsk<'a> {
    pub(in crate::service) ticket: Option<&'a str>,
    pub(in crate::service) duration_minutes: i64,
    pub(in crate::service) justification: &'a str,
}

/// What the check allowed.
#[derive(Debug, Default, PartialEq)]
pub(in crate::service) struct TicketChecked {
    /// The ticket's link, as the ticket system gave it.
    pub(in crate::service) url: Option<String>,
    /// For the audit trail: `skipped: <why>` when the ticket system did not answer and the
    /// package lets requests through then.
    pub(in crate::service) note: Option<String>,
}

fn poster() -> &'static Poster {
    static POSTER: OnceLock<Poster> = OnceLock::new();
    POSTER.get_or_init(|| Poster::new(TIMEOUT))
}

impl Portal {
    /// Asks the package's ticket system about `t`; a refusal is recorded and answered with.
    /// Nothing is asked for a package without a validator.
    pub(in crate::service) async fn check_ticket(
        &self,
        ask: &Ask<'_>,
        t: TicketAsk<'_>,
    ) -> AppResult<TicketChecked> {
        let Some(validator) = &ask.pkg.ticket_validator else {
            return Ok(TicketChecked::default());
        };
        let ticket = t.ticket.unwrap_or_default();
        let shown: String = ticket.chars().take(100).collect();
        let verdict = match self.ask_ticket_system(&validator.url, ask, &t).await {
            Ok(v) => v,
            Err(why) => TicketVerdict::NoAnswer(why),
        };
        let refusal = match verdict {
            TicketVerdict::Valid { url } => return Ok(TicketChecked { url, note: None }),
            TicketVerdict::NoAnswer(why) if validator.fail_open => {
                tracing::warn!(package = %ask.pkg.id, why = %why, "the ticket system did not answer; let through (fail open)");
                return Ok(TicketChecked {
                    url: None,
                    note: Some(format!("skipped: {why}")),
                });
            }
            TicketVerdict::NoAnswer(why) => {
                tracing::warn!(package = %ask.pkg.id, why = %why, "the ticket system did not answer");
                Refusal::new(
                    Rule::TicketValidator,
                    NO_ANSWER,
                    json!({"ticket": shown, "answer": "none", "why": why}),
                )
            }
            TicketVerdict::Invalid { message } => {
                let message = match message {
                    Some(m) => format!("The ticket system refused the ticket: {m}"),
                    None => "The ticket system refused the ticket.".to_string(),
                };
                Refusal::new(
                    Rule::TicketValidator,
                    message,
                    json!({"ticket": shown, "answer": "invalid"}),
                )
            }
        };
        Err(self.refuse(ask, refusal).await)
    }

    /// One signed call to the ticket system and its answer; why none came otherwise.
    async fn ask_ticket_system(
        &self,
        url: &url::Url,
        ask: &Ask<'_>,
        t: &TicketAsk<'_>,
    ) -> Result<TicketVerdict, String> {
        let hook = self.settings.notify.webhook.as_ref().ok_or_else(|| {
            // The configuration refuses a validator without it.
            "no webhook secret to sign with".to_string()
        })?;
        let secret = WebhookSecret::parse(hook.secret.expose_secret())
            .map_err(|_| "the webhook secret cannot be used".to_string())?;
        let mut body = json!({
            "ticket": t.ticket,
            "requester": {"id": ask.requester.id, "upn": ask.requester.username},
            "package": ask.pkg.id,
            "duration_minutes": t.duration_minutes,
            "justification": t.justification,
        });
        // Asked on the requester's behalf: the ticket system hears by whom too.
        let asked_by = match ask.request {
            Some(r) => r.asked_by.as_ref(),
            None => ask
                .actor
                .map(|a| &a.user)
                .filter(|a| a.id != ask.requester.id),
        };
        if let Some(by) = asked_by {
            body["asked_by"] = json!({"id": by.id, "upn": by.username});
        }
        let body = body.to_string();
        let msg_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let h = headers(&secret, &msg_id, self.now().timestamp(), body.as_bytes());
        let (status, answer) = poster()
            .exchange("ticket system", url, &h, body.as_bytes(), ANSWER_MAX)
            .await
            .map_err(|e| clip(&e.message))?;
        Ok(read_answer(status, answer.as_deref()))
    }
}
