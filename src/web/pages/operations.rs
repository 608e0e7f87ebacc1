//! "Operations": break-glass grants waiting for a review, active grants (with revoke), the
//! directory outbox, errors, heartbeats.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::request::RequestView;
use super::{Chrome, PageError, PageUser, relative, when};
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/operations", get(page))
}

pub struct OpRow {
    pub id: i64,
    pub kind: &'static str,
    /// The page of what the operation is for: a request's, or an access review's.
    pub link: String,
    pub user_id: String,
    pub group_id: String,
    pub due: String,
    pub attempts: i64,
    pub last_error: String,
}

pub struct ErrorRow {
    pub at: String,
    pub request_id: String,
    pub note: String,
}

pub struct Beat {
    pub name: String,
    pub at: String,
    pub age: String,
    pub fresh: bool,
}

pub struct StandingRow {
    pub package: String,
    pub group: String,
    pub members: Vec<String>,
}

/// A device-code sign-in Conditional Access blocked.
pub struct BlockedRow {
    pub at: String,
    pub user: String,
    pub app: String,
    pub ip: String,
}

/// A break-glass grant no approver has reviewed yet.
pub struct BreakGlassRow {
    pub request_id: String,
    pub who: String,
    pub package: String,
    pub used: String,
    pub due: String,
    pub overdue: bool,
}

pub struct DriftRow {
    pub at: String,
    pub subject: String,
    pub note: String,
    pub request_id: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "operations/index.html")]
struct OperationsPage {
    chrome: Chrome,
    grants: Vec<RequestView>,
    ops: Vec<OpRow>,
    errors: Vec<ErrorRow>,
    beats: Vec<Beat>,
    reconcile_every: String,
    reconcile_mode: &'static str,
    reconciled: String,
    standing: Vec<StandingRow>,
    /// Standing members access reviews removed (until an admin changes the file's list).
    standing_removed: Vec<String>,
    drift: Vec<DriftRow>,
    blocked: Vec<BlockedRow>,
    sign_ins_read: bool,
    break_glass: Vec<BreakGlassRow>,
    credential_kind: &'static str,
    /// The certificate's thumbprint, subject, end and how far off it is; whether within 30 days.
    certificate: Option<(String, String, String, bool)>,
    credential_problem: String,
    /// The client secret ending first, its end and how far off; whether within 30 days.
    secret: Option<(String, String, bool)>,
}

async fn page(State(app): State<AppState>, user: PageUser) -> Result<OperationsPage, PageError> {
    let p = &app.portal;
    let ops = p
        .operations(&user.who)
        .await
        .map_err(|e| user.page_error(e))?;
    let now = p.now();
    let rec = ops.reconciliation;
    let blocked = p
        .blocked_sign_ins(&user.who, now - chrono::Duration::days(7))
        .await
        .map_err(|e| user.page_error(e))?
        .into_iter()
        .map(|s| BlockedRow {
            at: when(s.at),
            user: s.user_principal_name,
            app: s.app_name,
            ip: s.ip_address,
        })
        .collect();
    let break_glass = p
        .unreviewed_break_glass(&user.who)
        .await
        .map_err(|e| user.page_error(e))?
        .into_iter()
        .map(|b| BreakGlassRow {
            who: b
                .request
                .as_ref()
                .map(|r| r.requester.name.clone())
                .unwrap_or_else(|| b.used.requester_id.clone()),
            package: p
                .package(&b.used.package)
                .map(|k| k.name.clone())
                .unwrap_or_else(|| b.used.package.clone()),
            used: when(b.used.used_at),
            due: format!(
                "{} ({})",
                when(b.used.review_due),
                relative(b.used.review_due, now)
            ),
            overdue: b.overdue,
            request_id: b.used.request_id,
        })
        .collect();
    let cred = ops.credential;
    let certificate = cred.certificate.map(|(thumbprint, subject, end)| {
        (
            thumbprint,
            subject,
            format!("{} ({})", when(end), relative(end, now)),
            end - now < chrono::Duration::days(30),
        )
    });
    let secret = cred.secret.map(|(label, end)| {
        (
            label,
            format!("{} ({})", when(end), relative(end, now)),
            end - now < chrono::Duration::days(30),
        )
    });
    Ok(OperationsPage {
        secret,
        credential_kind: cred.kind,
        certificate,
        credential_problem: cred.problem.unwrap_or_default(),
        break_glass,
        blocked,
        sign_ins_read: p.sign_in_reading().is_some(),
        reconcile_every: rec.every,
        reconcile_mode: rec.mode,
        reconciled: rec
            .last_at
            .map(|t| format!("{} ({})", relative(t, now), when(t)))
            .unwrap_or_else(|| "not yet".into()),
        standing_removed: rec
            .standing_removed
            .iter()
            .map(|o| {
                format!(
                    "{} ({}) of {}: removed by the access review of {} ({})",
                    o.member_name,
                    o.member_id,
                    o.package,
                    o.at.format("%Y-%m-%d"),
                    o.reason
                )
            })
            .collect(),
        standing: rec
            .standing
            .into_iter()
            .map(|(package, group, members)| StandingRow {
                package,
                group,
                members,
            })
            .collect(),
        drift: rec
            .drift
            .into_iter()
            .map(|e| DriftRow {
                at: when(e.at),
                note: super::request::describe(&e.action, &e.details_json()),
                subject: e.subject_id.clone().unwrap_or_default(),
                request_id: e.request_id.unwrap_or_default(),
            })
            .collect(),
        grants: ops
            .grants
            .iter()
            .map(|r| RequestView::new(&app, &user.who, r, now))
            .collect(),
        ops: ops
            .pending_ops
            .into_iter()
            .map(|o| OpRow {
                id: o.id,
                kind: o.kind.as_str(),
                // A review's removal of a standing member belongs to its campaign.
                link: match o.request_id.strip_prefix("review:") {
                    Some(rest) => {
                        format!("/reviews/{}", rest.split(':').next().unwrap_or_default())
                    }
                    None => format!("/requests/{}", o.request_id),
                },
                user_id: o.user_id,
                group_id: o.group_id,
                due: relative(o.not_before, now),
                attempts: o.attempts,
                last_error: o.last_error.unwrap_or_default(),
            })
            .collect(),
        errors: ops
            .directory_errors
            .into_iter()
            .map(|e| ErrorRow {
                at: when(e.at),
                note: super::request::describe(&e.action, &e.details_json()),
                request_id: e.request_id.unwrap_or_default(),
            })
            .collect(),
        beats: ops
            .heartbeats
            .into_iter()
            .map(|b| Beat {
                name: b.job,
                at: when(b.at),
                age: relative(b.at, now),
                fresh: b.fresh,
            })
            .collect(),
        chrome: user.chrome,
    })
}
