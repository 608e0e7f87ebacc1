//! Reviewing break-glass: `jitgate break-glass-review ID --verdict justified|not-justified
//! --comment "…"`, for an approver of the grant's package.

use super::pick::{pick, whole_guid};
use super::{act, open};
use crate::client::output::{Out, short};
use crate::client::session::Session;
use crate::client::{BreakGlassReviewArgs, ReviewVerdict};
use crate::contract::{
    BreakGlassReviewBody, BreakGlassUse, BreakGlassVerdict, RequestList, RequestQuery,
};

/// The break-glass grant `given` names: a whole id, or the start of one among the break-glass
/// grants the caller may see.
async fn break_glass_grant(s: &mut Session, given: &str) -> anyhow::Result<String> {
    if let Some(id) = whole_guid(given) {
        return Ok(id);
    }
    let q = RequestQuery {
        limit: Some(1000),
        ..Default::default()
    };
    let list: RequestList = s.get("/api/v1/requests", &q).await?;
    let emergency: Vec<_> = list.requests.into_iter().filter(|r| r.emergency).collect();
    Ok(
        pick(&emergency, given, "the break-glass grants you may see")?
            .id
            .clone(),
    )
}

pub(super) async fn break_glass_review(a: BreakGlassReviewArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let id = break_glass_grant(&mut s, &a.id).await?;
    let body = BreakGlassReviewBody {
        verdict: match a.verdict {
            ReviewVerdict::Justified => BreakGlassVerdict::Justified,
            ReviewVerdict::NotJustified => BreakGlassVerdict::NotJustified,
        },
        comment: a.comment,
    };
    act(
        &mut s,
        &id,
        "break-glass/review",
        &body,
        out,
        |u: &BreakGlassUse| {
            let verdict = match u.review.as_ref().map(|r| r.verdict) {
                Some(BreakGlassVerdict::NotJustified) => {
                    "not justified (the requester's manager is told)"
                }
                _ => "justified",
            };
            format!(
                "Reviewed the break-glass grant {}: {verdict}.",
                short(&u.request_id)
            )
        },
    )
    .await
}
