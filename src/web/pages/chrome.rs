//! What every page shares: who is signed in, the navigation they may use, the flash message.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::PageError;
use crate::auth::Principal;
use crate::domain::Role;
use crate::error::AppError;
use crate::web::return_path::MAX_RETURN_PATH;
use crate::web::{AppState, MaybeAuth};

const FLASH: &str = "flash";

pub async fn set_flash(session: &Session, message: String) {
    let _ = session.insert(FLASH, message).await;
}

#[derive(Default, Clone)]
pub struct Chrome {
    pub demo: bool,
    /// In demo mode, the emulator's page of the e-mail sent to the demo users.
    pub demo_mailbox: String,
    pub user: Option<ChromeUser>,
    pub nav_approvals: bool,
    pub nav_audit: bool,
    pub nav_operations: bool,
    /// Asking on others' behalf (approvers, admins, the `requester_on_behalf` role).
    pub nav_on_behalf: bool,
    /// Requests waiting for this approver.
    pub badge: usize,
    /// Which navigation entry is current.
    pub active: &'static str,
    pub flash: Option<String>,
}

#[derive(Clone)]
pub struct ChromeUser {
    pub name: String,
    pub username: String,
    pub roles: String,
}

/// A signed-in person on a page: GET pages send anonymous visitors to sign in, and come back.
pub struct PageUser {
    pub who: Principal,
    pub chrome: Chrome,
}

impl PageUser {
    pub fn page_error(&self, e: AppError) -> PageError {
        PageError::from(e).with_chrome(self.chrome.clone())
    }
}

pub enum PageRejection {
    SignIn(String),
    Error(PageError),
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self {
            PageRejection::SignIn(path) if path.len() > MAX_RETURN_PATH => {
                // Too long to come back to: signing in leads to the home page.
                Redirect::to("/auth/login").into_response()
            }
            PageRejection::SignIn(path) => {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", &path)
                    .finish();
                Redirect::to(&format!("/auth/login?{q}")).into_response()
            }
            PageRejection::Error(e) => e.into_response(),
        }
    }
}

pub async fn chrome_for(
    app: &AppState,
    who: Option<&Principal>,
    session: Option<&Session>,
    active: &'static str,
) -> Chrome {
    let flash = match session {
        // Removed only when there is one: reading no flash must not make the session dirty.
        Some(s) => match s.get::<String>(FLASH).await.ok().flatten() {
            Some(f) => {
                let _ = s.remove::<String>(FLASH).await;
                Some(f)
            }
            None => None,
        },
        None => None,
    };
    let mut c = Chrome {
        demo: app.portal.is_demo(),
        demo_mailbox: app.portal.demo_mailbox().unwrap_or_default(),
        flash,
        active,
        ..Default::default()
    };
    if let Some(who) = who {
        let p = &app.portal;
        let roles = p.roles_of(who);
        c.user = Some(ChromeUser {
            name: who.user.name.clone(),
            username: who.user.username.clone(),
            roles: if roles.is_empty() {
                "requester".into()
            } else {
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
        c.nav_audit = roles.contains(&Role::Auditor) || roles.contains(&Role::Admin);
        c.nav_operations = roles.contains(&Role::Admin);
        c.nav_on_behalf = p.may_ask_on_behalf(who, None);
        let is_manager = p.managers_may_approve();
        // The approvals page counts its own queue; elsewhere the badge needs the queue here.
        let approver = p.approves_anything(who);
        if active == "approvals" {
            c.nav_approvals = approver || is_manager;
        } else if approver || is_manager {
            let queue = p.decisions_waiting(who).await.unwrap_or(0);
            c.nav_approvals = approver || queue > 0;
            c.badge = queue;
        }
    }
    c
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeAuth(who) = MaybeAuth::from_request_parts(parts, app)
            .await
            .map_err(|e| PageRejection::Error(e.into()))?;
        let Some(who) = who else {
            if parts.method == axum::http::Method::GET {
                let path = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                return Err(PageRejection::SignIn(path));
            }
            return Err(PageRejection::Error(
                AppError::Unauthorized("Please sign in first.".into()).into(),
            ));
        };
        let session = Session::from_request_parts(parts, app).await.ok();
        let active = match parts.uri.path() {
            p if p.starts_with("/approvals") => "approvals",
            p if p.starts_with("/audit") => "audit",
            p if p.starts_with("/operations") => "operations",
            p if p.starts_with("/on-behalf") => "on-behalf",
            _ => "access",
        };
        let chrome = chrome_for(app, Some(&who), session.as_ref(), active).await;
        Ok(PageUser { who, chrome })
    }
}
