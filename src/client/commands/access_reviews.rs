//! Access reviews from the terminal: `jitgate reviews list` (what the caller reviews or
//! attests in), `jitgate reviews show <id>` (one review's items) and `jitgate reviews decide
//! <id> <item> --decision Deny --reason "…"`.

use chrono::Utc;

use super::open;
use crate::client::output::{Out, visible, when_relative};
use crate::client::{Common, ReviewsArgs, ReviewsCommand};
use crate::contract::{ReviewDecisionBody, ReviewDetail, ReviewItem, ReviewList};

pub(super) fn common(a: &ReviewsArgs) -> &Common {
    match &a.command {
        ReviewsCommand::List(c) => c,
        ReviewsCommand::Show(a) => &a.common,
        ReviewsCommand::Decide(a) => &a.common,
    }
}

/// A review's id as typed: letters, digits and '-' only, so that it stays one path segment.
fn review_id(id: &str) -> anyhow::Result<&str> {
    let id = id.trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        anyhow::bail!(
            "'{}' is not a review id (`jitgate reviews list` shows them)",
            visible(id)
        );
    }
    Ok(id)
}

pub(super) async fn run(a: ReviewsArgs, out: Out) -> anyhow::Result<i32> {
    match a.command {
        ReviewsCommand::List(c) => list(c, out).await,
        ReviewsCommand::Show(a) => {
            let mut s = open(&a.common).await?;
            let id = review_id(&a.id)?;
            let d: ReviewDetail = s.get(&format!("/api/v1/reviews/{id}"), &()).await?;
            out.answer(&d, || show(&d));
            Ok(0)
        }
        ReviewsCommand::Decide(a) => {
            let mut s = open(&a.common).await?;
            let id = review_id(&a.id)?;
            let body = ReviewDecisionBody {
                decision: a.decision,
                justification: a.reason,
            };
            let item: ReviewItem = s
                .post(
                    &format!("/api/v1/reviews/{id}/items/{}/decide", a.item),
                    &body,
                )
                .await?;
            out.answer(&item, || {
                format!(
                    "Recorded: {} for {}.",
                    visible(item.decision.as_deref().unwrap_or("")),
                    visible(&item.subject_name)
                )
            });
            Ok(0)
        }
    }
}

async fn list(c: Common, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&c).await?;
    let list: ReviewList = s.get("/api/v1/reviews", &()).await?;
    let now = Utc::now();
    out.answer(&list, || {
        let lines: Vec<String> = list
            .campaigns
            .iter()
            .map(|c| {
                format!(
                    "{}  {}  {}  due {}{}",
                    visible(&c.id),
                    visible(&c.package_name),
                    visible(&c.status),
                    when_relative(c.due_at, now),
                    if c.waiting > 0 {
                        format!("  ({} waiting for you)", c.waiting)
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        if lines.is_empty() {
            "No access review for you.".into()
        } else {
            lines.join("\n")
        }
    });
    Ok(0)
}

fn show(d: &ReviewDetail) -> String {
    let c = &d.campaign;
    let mut lines = vec![format!(
        "{} ({}), {} to {}, due {}, {}",
        visible(&c.package_name),
        visible(&c.id),
        c.period_start.format("%Y-%m-%d"),
        c.period_end.format("%Y-%m-%d"),
        c.due_at.format("%Y-%m-%d %H:%M UTC"),
        visible(&c.status)
    )];
    for i in &d.items {
        let decided = match (&i.decision, &i.reviewer) {
            (Some(dec), Some(r)) => format!(
                "{} by {}: {}",
                visible(dec),
                visible(&r.name),
                visible(i.justification.as_deref().unwrap_or(""))
            ),
            _ => "undecided".into(),
        };
        lines.push(format!(
            "{:>5}  {:<8}  {}  {}{}{}",
            i.id,
            visible(&i.kind),
            visible(&i.subject_name),
            decided,
            i.outcome
                .as_deref()
                .map(|o| format!("  → {}", visible(o)))
                .unwrap_or_default(),
            if i.may_decide {
                "  (yours to decide)"
            } else {
                ""
            }
        ));
    }
    lines.join("\n")
}
