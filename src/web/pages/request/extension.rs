//! The extension forms: the requester asks for more time on a live grant (given at once when
//! the package lets requesters extend their own), an approver approves or denies it.

use axum::response::Response;
use serde::Deserialize;

use super::form::{ActionForm, Posted, back_or, decision, unless_blank};
use crate::domain::extension::ExtensionStatus;
use crate::error::AppError;
use crate::service::ExtendInput;
use crate::web::extract::parse_request_id;
use crate::web::pages::{PageError, when};

#[derive(Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    back: String,
}

/// `POST /requests/{id}/extend` from the request's page (the reminder's link lands there).
pub async fn extend(p: Posted<String, ExtendForm>) -> Result<Response, PageError> {
    let (id, f) = (&p.path, &p.form);
    let request_page = format!("/requests/{id}");
    let back = back_or(&f.back, &request_page);
    let mut status = None;
    let result = async {
        let minutes = f
            .minutes
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest("Choose how much more time you need.".into()))?;
        let input = ExtendInput {
            minutes,
            justification: f.justification.clone(),
        };
        let (r, x) = p
            .app
            .portal
            .extend(&p.user.who, &parse_request_id(id)?, input)
            .await?;
        status = Some(x.status);
        Ok(r)
    }
    .await;
    p.after_action(back, result, |r| match status {
        Some(ExtensionStatus::Approved) => format!(
            "Your grant is extended; it now ends {}.",
            r.ends_at.map(when).unwrap_or_default()
        ),
        _ => "Your extension is waiting for approval. Your access stays in effect meanwhile; if nobody decides before the end, it ends as planned.".into(),
    })
    .await
}

/// `POST /requests/{id}/extension/approve` and `/deny` from the approvals page or the
/// request's page.
pub async fn decide(p: Posted<(String, String), ActionForm>) -> Result<Response, PageError> {
    let (id, verb) = &p.path;
    let decision = decision(verb).await?;
    let comment = unless_blank(&p.form.comment);
    let mut status = None;
    let result = async {
        let id = parse_request_id(id)?;
        let (r, x) = p
            .app
            .portal
            .decide_extension(&p.user.who, &id, decision, comment)
            .await?;
        status = Some(x.status);
        Ok(r)
    }
    .await;
    p.after_action(
        back_or(&p.form.back, "/approvals"),
        result,
        |r| match status {
            Some(ExtensionStatus::Approved) => format!(
                "You extended {}'s grant; it now ends {}.",
                r.requester.name,
                r.ends_at.map(when).unwrap_or_default()
            ),
            Some(ExtensionStatus::Denied) => {
                format!("You denied {}'s extension.", r.requester.name)
            }
            _ => format!(
                "Your approval of {}'s extension is recorded; more approvals are needed.",
                r.requester.name
            ),
        },
    )
    .await
}
