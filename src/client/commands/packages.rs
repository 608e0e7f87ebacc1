//! `jitgate packages`: the packages, their limits, and whether the caller may request each.

use super::open;
use crate::client::Common;
use crate::client::output::{Out, minutes, visible};
use crate::contract::PackageList;

pub(super) async fn packages(c: Common, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&c).await?;
    let list: PackageList = s.get("/api/v1/packages", &()).await?;
    out.answer(&list, || {
        let mut lines = Vec::new();
        for p in &list.packages {
            let mut rules = vec![format!(
                "{} to {} (default {})",
                minutes(p.min_duration_minutes),
                minutes(p.max_duration_minutes),
                minutes(p.default_duration_minutes)
            )];
            if p.approvals_required > 1 {
                rules.push(format!("{} approvals", p.approvals_required));
            }
            if p.ticket_required {
                rules.push(match (&p.ticket_hint, &p.ticket_pattern) {
                    (Some(h), _) => format!("a ticket ({})", visible(h)),
                    (None, Some(pattern)) => format!("a ticket matching {}", visible(pattern)),
                    (None, None) => "a ticket".into(),
                });
            }
            if p.deny_privileged {
                rules.push(if p.privileged_exception {
                    "no directory role holders (you are excepted)".into()
                } else {
                    "no directory role holders".into()
                });
            }
            if let Some(m) = p.end_after_first_sign_in_minutes {
                rules.push(format!("ends {} after the first sign-in", minutes(m)));
            }
            lines.push(format!(
                "{:<24}  {}{}\n{:<24}  {}",
                visible(&p.id),
                visible(&p.name),
                if p.may_request {
                    ""
                } else {
                    "  (not open to you)"
                },
                "",
                rules.join(", ")
            ));
            // The rules on who, from where and how much, one sentence a line.
            for r in &p.rules {
                lines.push(format!("{:<24}  {}", "", visible(&r.text)));
            }
        }
        if lines.is_empty() {
            "This portal has no packages.".into()
        } else {
            lines.join("\n")
        }
    });
    Ok(0)
}
