//! The page that shows one request: its details, its timeline, its extensions and the
//! device-code sign-ins made during it, with the forms the viewer may use.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};

use super::break_glass::BreakGlassPanel;
use super::timeline::{TimelineEntry, describe, label};
use super::view::{ExtensionRow, RequestView, SignInRow};
use crate::domain::Request;
use crate::domain::extension::{EXTENSION_MIN_MINUTES, ExtensionStatus};
use crate::web::AppState;
use crate::web::extract::parse_request_id;
use crate::web::pages::{Chrome, PageError, PageUser, minutes, when};

#[derive(Template, WebTemplate)]
#[template(path = "requests/detail.html")]
pub struct DetailPage {
    chrome: Chrome,
    r: RequestView,
    group_id: String,
    timeline: Vec<TimelineEntry>,
    extensions: Vec<ExtensionRow>,
    /// The viewer may decide the extension waiting on this grant.
    may_decide_extension: bool,
    /// Quick picks for an extension: (minutes, label), within what the package still allows.
    extend_choices: Vec<(i64, String)>,
    /// The shortest extension, in minutes.
    extend_min: i64,
    /// Device-code sign-ins during this grant.
    sign_ins: Vec<SignInRow>,
    /// The requester's device-code sign-ins in the last 30 days (shown to deciders).
    past_use: Vec<SignInRow>,
    sign_ins_read: bool,
    /// Taken with break-glass: its review.
    break_glass: Option<BreakGlassPanel>,
}

pub async fn detail(
    State(app): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<DetailPage, PageError> {
    let p = &app.portal;
    let (r, events) = async { p.timeline(&user.who, &parse_request_id(&id)?).await }
        .await
        .map_err(|e| user.page_error(e))?;
    let now = p.now();
    let list = p
        .extensions(&user.who, &r_id(&r))
        .await
        .map_err(|e| user.page_error(e))?;
    let may_decide_extension = list.iter().any(|x| {
        x.status == ExtensionStatus::Pending
            && p.package(&r.package).is_some_and(|pkg| {
                x.check_decider(
                    &r,
                    &user.who.user.id,
                    p.is_package_approver(&user.who, pkg),
                    pkg,
                    now,
                )
                .is_ok()
            })
    });
    let extensions = list.iter().map(|x| ExtensionRow::new(x, now)).collect();
    let timeline = events
        .iter()
        .map(|e| TimelineEntry {
            action: e.action.clone(),
            label: label(&e.action),
            at: when(e.at),
            actor: e.actor_name.clone(),
            note: describe(&e.action, &e.details_json()),
        })
        .collect();
    let extend_choices = extend_choices(&app, &r, now);
    let break_glass = match r.is_break_glass() {
        true => p
            .break_glass_of(&user.who, &r_id(&r))
            .await
            .map_err(|e| user.page_error(e))?
            .map(|used| BreakGlassPanel::new(&app, &user.who, &r, &used)),
        false => None,
    };
    let sign_ins = p
        .sign_ins_for(&user.who, &r_id(&r))
        .await
        .map_err(|e| user.page_error(e))?
        .iter()
        .map(SignInRow::new)
        .collect();
    let past_use = if r.requester.id != user.who.user.id && p.may_decide(&user.who, &r) {
        p.requester_sign_ins(&user.who, &r_id(&r), now - chrono::Duration::days(30))
            .await
            .map_err(|e| user.page_error(e))?
            .iter()
            .filter(|s| s.request_id.as_deref() != Some(r.id.as_str()))
            .map(SignInRow::new)
            .collect()
    } else {
        Vec::new()
    };
    Ok(DetailPage {
        r: RequestView::new(&app, &user.who, &r, now),
        group_id: r.group_id.clone(),
        timeline,
        extensions,
        may_decide_extension,
        extend_choices,
        extend_min: EXTENSION_MIN_MINUTES,
        sign_ins,
        past_use,
        sign_ins_read: p.sign_in_reading().is_some(),
        break_glass,
        chrome: user.chrome,
    })
}

fn r_id(r: &Request) -> crate::domain::RequestId {
    crate::domain::RequestId::parse(&r.id).expect("stored request ids parse")
}

/// Extensions the package still allows for `r`: 15 minutes to 2 hours, and what is left (at
/// least the shortest extension).
fn extend_choices(app: &AppState, r: &Request, now: DateTime<Utc>) -> Vec<(i64, String)> {
    let (Some(pkg), Some(start), Some(end)) =
        (app.portal.package(&r.package), r.starts_at, r.ends_at)
    else {
        return Vec::new();
    };
    if end <= now {
        return Vec::new();
    }
    let room = (start + pkg.longest_grant() - end).num_minutes();
    let mut out: Vec<(i64, String)> = [15, 30, 60, 120]
        .into_iter()
        .filter(|m| *m <= room)
        .map(|m| (m, minutes(m)))
        .collect();
    if room >= EXTENSION_MIN_MINUTES && !out.iter().any(|(m, _)| *m == room) {
        out.push((room, format!("{} (the most allowed)", minutes(room))));
    }
    out
}
