//! A break-glass grant on its page: when its review is due (or who reviewed it, with what), and
//! the review form for the package's approvers; `POST /requests/{id}/break-glass/review`.

use axum::response::Response;
use serde::Deserialize;

use super::form::{Posted, back_or};
use crate::auth::Principal;
use crate::domain::Request;
use crate::domain::break_glass::{BreakGlassUse, Verdict};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::extract::parse_request_id;
use crate::web::pages::{PageError, when};

/// The break-glass section of a request's page.
pub struct BreakGlassPanel {
    pub due: String,
    pub overdue: bool,
    /// "justified" or "not justified" (empty until reviewed).
    pub verdict: String,
    pub reviewer: String,
    pub reviewed_at: String,
    pub comment: String,
    /// The viewer may review it now.
    pub may_review: bool,
}

impl BreakGlassPanel {
    pub fn new(
        app: &AppState,
        who: &Principal,
        r: &Request,
        used: &BreakGlassUse,
    ) -> BreakGlassPanel {
        let now = app.portal.now();
        let review = used.review.as_ref();
        BreakGlassPanel {
            due: when(used.review_due),
            overdue: used.overdue(now),
            verdict: review
                .map(|v| v.verdict.in_words().to_string())
                .unwrap_or_default(),
            reviewer: review.map(|v| v.reviewer.name.clone()).unwrap_or_default(),
            reviewed_at: review.map(|v| when(v.at)).unwrap_or_default(),
            comment: review.map(|v| v.comment.clone()).unwrap_or_default(),
            may_review: app.portal.may_review_break_glass(who, r, used),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ReviewForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    back: String,
}

/// `POST /requests/{id}/break-glass/review` from the request's page.
pub async fn review(p: Posted<String, ReviewForm>) -> Result<Response, PageError> {
    let f = &p.form;
    let result = async {
        let verdict = Verdict::parse(&f.verdict).ok_or_else(|| {
            AppError::invalid_field("verdict", "Choose justified or not justified.")
        })?;
        let id = parse_request_id(&p.path)?;
        let (r, _) = p
            .app
            .portal
            .review_break_glass(&p.user.who, &id, verdict, &f.comment)
            .await?;
        Ok((r, verdict))
    }
    .await;
    let verdict = result.as_ref().map(|(_, v)| *v).ok();
    let back = format!("/requests/{}", p.path);
    p.after_action(back_or(&f.back, &back), result.map(|(r, _)| r), |r| {
        format!(
            "You reviewed {}'s break-glass access: {}.",
            r.requester.name,
            verdict.map(Verdict::in_words).unwrap_or("recorded")
        )
    })
    .await
}
