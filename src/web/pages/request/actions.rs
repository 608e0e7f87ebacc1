//! The forms that change a request: its requester cancels it or ends the access early (an admin
//! may end anyone's), an approver approves or denies it.

use axum::response::Response;

use super::form::{ActionForm, Posted, back_or, decision, unless_blank};
use crate::domain::{Decision, RequestStatus};
use crate::error::AppError;
use crate::service::DecisionInput;
use crate::web::extract::parse_request_id;
use crate::web::pages::{PageError, when};

/// `POST /requests/{id}/cancel` from "My access" or the request's page.
pub async fn cancel(p: Posted<String, ActionForm>) -> Result<Response, PageError> {
    let result = async {
        p.app
            .portal
            .cancel(&p.user.who, &parse_request_id(&p.path)?)
            .await
    }
    .await;
    p.after_action(&p.form.back, result, |_| "The request is cancelled.".into())
        .await
}

/// `POST /requests/{id}/end` from "My access" or the request's page.
pub async fn end(p: Posted<String, ActionForm>) -> Result<Response, PageError> {
    let reason = unless_blank(&p.form.reason);
    let result = async {
        p.app
            .portal
            .end(&p.user.who, &parse_request_id(&p.path)?, reason)
            .await
    }
    .await;
    p.after_action(&p.form.back, result, |r| match r.status {
        RequestStatus::Revoked => format!(
            "{}'s grant is revoked; the membership is being removed.",
            r.requester.name
        ),
        _ => "Your access has ended; the membership is being removed.".into(),
    })
    .await
}

/// `POST /requests/{id}/approve` and `/deny` from the approvals page or a request's page.
pub async fn decide(p: Posted<(String, String), ActionForm>) -> Result<Response, PageError> {
    let (id, verb) = &p.path;
    let decision = decision(verb).await?;
    let f = &p.form;
    let comment = unless_blank(&f.comment);
    let result = async {
        let duration_minutes = match f.duration_minutes.trim() {
            "" => None,
            m => Some(m.parse::<i64>().map_err(|_| {
                AppError::BadRequest("The duration must be a whole number of minutes.".into())
            })?),
        };
        let input = DecisionInput {
            comment,
            duration_minutes,
        };
        let id = parse_request_id(id)?;
        p.app.portal.decide(&p.user.who, &id, decision, input).await
    }
    .await;
    p.after_action(back_or(&f.back, "/approvals"), result, |r| {
        match (decision, r.status) {
            (Decision::Deny, _) => format!("You denied {}'s request.", r.requester.name),
            (_, RequestStatus::Pending) => format!(
                "Your approval of {}'s request is recorded; more approvals are needed.",
                r.requester.name
            ),
            (_, RequestStatus::Approved) => format!(
                "You approved {}'s request; access starts {}.",
                r.requester.name,
                r.starts_at.map(when).unwrap_or_default()
            ),
            _ => format!(
                "You approved {}'s request; access is being granted now.",
                r.requester.name
            ),
        }
    })
    .await
}
