//! "Reviews": the access review campaigns a person may see, one campaign's page (where its
//! reviewers, or each person attesting for themself, decide its items with a justification;
//! once closed, its report, printable to PDF from the browser), and the revocations reviews
//! left, which admins restore. Roles are checked by the service.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::Value;
use tower_sessions::Session;

use super::request::form::Posted;
use super::{Chrome, PageError, PageUser, set_flash, when};
use crate::domain::Role;
use crate::domain::review::{CampaignStatus, ItemKind, ReviewItem};
use crate::error::AppError;
use crate::service::CampaignView;
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reviews", get(list))
        .route("/reviews/{id}", get(one))
        .route("/reviews/{id}/items/{item}/decide", post(decide))
        .route("/reviews/revocations/restore", post(restore))
}

pub struct CampaignRow {
    pub id: String,
    pub package: String,
    pub period: String,
    pub due: String,
    pub status: &'static str,
    pub waiting: usize,
}

pub struct RevocationRow {
    pub package: String,
    pub user_id: String,
    pub user_name: String,
    pub reason: String,
    pub revoked: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/list.html")]
struct ListPage {
    chrome: Chrome,
    campaigns: Vec<CampaignRow>,
    revocations: Vec<RevocationRow>,
    may_restore: bool,
}

async fn list(State(app): State<AppState>, user: PageUser) -> Result<ListPage, PageError> {
    let p = &app.portal;
    let campaigns = p
        .review_campaigns(&user.who)
        .await
        .map_err(|e| user.page_error(e))?
        .into_iter()
        .map(|(c, waiting)| CampaignRow {
            period: format!(
                "{} – {}",
                c.period_start.format("%Y-%m-%d"),
                c.period_end.format("%Y-%m-%d")
            ),
            due: when(c.due_at),
            status: c.status.as_str(),
            package: c.package_name,
            id: c.id,
            waiting,
        })
        .collect();
    let sees_revocations =
        p.has_role(&user.who, Role::Admin) || p.has_role(&user.who, Role::Auditor);
    let revocations = if sees_revocations {
        p.review_revocations(&user.who, true)
            .await
            .map_err(|e| user.page_error(e))?
            .into_iter()
            .map(|r| RevocationRow {
                package: r.package,
                user_id: r.user_id,
                user_name: r.user_name,
                reason: r.reason,
                revoked: when(r.revoked_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut chrome = user.chrome;
    chrome.active = "reviews";
    Ok(ListPage {
        may_restore: p.has_role(&user.who, Role::Admin),
        chrome,
        campaigns,
        revocations,
    })
}

/// One item as the page shows it.
pub struct ItemRow {
    pub id: i64,
    pub kind: &'static str,
    pub subject: String,
    pub subject_id: String,
    /// What the reviewers look at, as lines.
    pub facts: Vec<String>,
    pub decision: String,
    pub justification: String,
    pub reviewer: String,
    pub decided: String,
    pub outcome: String,
    pub may_decide: bool,
}

fn facts(i: &ReviewItem) -> Vec<String> {
    let d = &i.details;
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match i.kind {
        ItemKind::Settings => {
            let mut out = vec![format!(
                "Conditional Access: {} — {}",
                if d.pointer("/posture/ok") == Some(&Value::Bool(true)) {
                    "as it should be"
                } else {
                    "NOT as it should be"
                },
                s(&d["posture"]["detail"])
            )];
            if let Some(settings) = d["settings"].as_object() {
                for (k, v) in settings {
                    out.push(format!("{k} = {v}"));
                }
            }
            for r in d["rules"].as_array().into_iter().flatten() {
                out.push(s(&r["text"]));
            }
            out
        }
        ItemKind::Standing => vec![format!(
            "Standing member {} {}",
            s(&d["username"]),
            if d["found_in_directory"] == Value::Bool(true) {
                ""
            } else {
                "(not found in the directory)"
            }
        )],
        ItemKind::Person => {
            let mut out = vec![format!(
                "{} · {} granted in all · {} device-code sign-in(s)",
                s(&d["username"]),
                s(&d["total"]),
                d["sign_ins"].as_i64().unwrap_or(0)
            )];
            for g in d["grants"].as_array().into_iter().flatten() {
                out.push(format!(
                    "{} → {} ({} min, {} sign-in(s)){}: {}",
                    s(&g["starts_at"]).get(..16).unwrap_or(""),
                    s(&g["ends_at"]).get(..16).unwrap_or(""),
                    g["minutes"].as_i64().unwrap_or(0),
                    g["sign_ins"].as_i64().unwrap_or(0),
                    g["ticket"]
                        .as_str()
                        .map(|t| format!(" ticket {t}"))
                        .unwrap_or_default(),
                    s(&g["justification"]),
                ));
            }
            out
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    id: String,
    package: String,
    period: String,
    starts: String,
    due: String,
    closed: String,
    open: bool,
    finished: bool,
    whole: bool,
    review_by: &'static str,
    review_default: &'static str,
    items: Vec<ItemRow>,
    summary: Vec<(String, usize)>,
}

async fn one(
    State(app): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<CampaignPage, PageError> {
    let v: CampaignView = app
        .portal
        .review_campaign(&user.who, &id)
        .await
        .map_err(|e| user.page_error(e))?;
    let c = &v.campaign;
    let items: Vec<ItemRow> = v
        .items
        .iter()
        .map(|iv| {
            let i = &iv.item;
            ItemRow {
                id: i.id,
                kind: match i.kind {
                    ItemKind::Settings => "Settings and posture",
                    ItemKind::Standing => "Standing member",
                    ItemKind::Person => "Eligible person",
                },
                subject: i.subject_name.clone(),
                subject_id: i.subject_id.clone().unwrap_or_default(),
                facts: facts(i),
                decision: i
                    .decision
                    .map(|d| d.label().to_string())
                    .unwrap_or_default(),
                justification: i.justification.clone().unwrap_or_default(),
                reviewer: i
                    .reviewer
                    .as_ref()
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                decided: i.decided_at.map(when).unwrap_or_default(),
                outcome: match (i.outcome, i.by_default) {
                    (Some(o), true) => format!("{} (by default)", o.as_str()),
                    (Some(o), false) => o.as_str().to_string(),
                    (None, _) => String::new(),
                },
                may_decide: iv.may_decide,
            }
        })
        .collect();
    let mut summary: Vec<(String, usize)> = Vec::new();
    for i in &v.items {
        let key = i
            .item
            .outcome
            .map(|o| o.as_str().to_string())
            .unwrap_or_else(|| {
                if i.item.decision.is_some() {
                    "decided".into()
                } else {
                    "undecided".into()
                }
            });
        match summary.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => summary.push((key, 1)),
        }
    }
    let mut chrome = user.chrome;
    chrome.active = "reviews";
    Ok(CampaignPage {
        chrome,
        id: c.id.clone(),
        package: c.package_name.clone(),
        period: format!("{} – {}", when(c.period_start), when(c.period_end)),
        starts: when(c.starts_at),
        due: when(c.due_at),
        closed: c.closed_at.map(when).unwrap_or_default(),
        open: v.open,
        finished: c.status == CampaignStatus::Closed,
        whole: v.whole,
        review_by: match c.review_by {
            crate::domain::review::ReviewBy::Deciders => "its reviewers",
            crate::domain::review::ReviewBy::SelfAttest => {
                "each person for themself (standing members and settings: its reviewers)"
            }
        },
        review_default: c.review_default.as_str(),
        items,
        summary,
    })
}

#[derive(Deserialize, Default)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    justification: String,
}

/// Where a page's action went: back to `to`, with what happened (or why not) as a flash.
async fn back(
    session: &Session,
    to: &str,
    result: Result<String, AppError>,
) -> Result<Response, PageError> {
    let msg = match result {
        Ok(m) => m,
        Err(e @ (AppError::Forbidden(_) | AppError::Unauthorized(_) | AppError::NotFound(_))) => {
            return Err(e.into());
        }
        Err(e) if e.status().is_client_error() => e.public_message(),
        Err(e) => return Err(e.into()),
    };
    set_flash(session, msg).await;
    Ok(Redirect::to(to).into_response())
}

/// `POST /reviews/{id}/items/{item}/decide` from the campaign's page.
async fn decide(p: Posted<(String, i64), DecideForm>) -> Result<Response, PageError> {
    let (id, item) = &p.path;
    let result = p
        .app
        .portal
        .decide_review_item(
            &p.user.who,
            id,
            *item,
            &p.form.decision,
            &p.form.justification,
        )
        .await
        .map(|i| {
            format!(
                "Recorded: {} for {}.",
                i.decision.map(|d| d.label()).unwrap_or(""),
                i.subject_name
            )
        });
    // Only a campaign id the service found goes into the address.
    let to = if result.is_ok() {
        format!("/reviews/{id}#item-{item}")
    } else {
        "/reviews".into()
    };
    back(&p.session, &to, result).await
}

#[derive(Deserialize, Default)]
pub struct RestoreForm {
    #[serde(default)]
    package: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    reason: String,
}

/// `POST /reviews/revocations/restore` (admins).
async fn restore(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Form(f): Form<RestoreForm>,
) -> Result<Response, PageError> {
    let result = app
        .portal
        .restore_eligibility(&user.who, f.package.trim(), f.user_id.trim(), &f.reason)
        .await
        .map(|()| "Restored: the person may ask for the package again.".to_string());
    back(&session, "/reviews", result).await
}
