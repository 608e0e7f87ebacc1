//! What the forms about one request share: the fields they post, who posts them, and the way
//! back to the page they came from with what happened as a flash message.

use axum::Form;
use axum::extract::{FromRequest, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::domain::{Decision, Request};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::step_up::sign_in_again;
use crate::web::pages::{PageError, PageUser, not_found, set_flash};
use crate::web::return_path::safe_return_path;

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub back: String,
    /// Approvals only: the duration granted (the requested one, or shorter).
    #[serde(default)]
    pub duration_minutes: String,
}

/// A form posted about one request, with all its handler needs. They are read in the order a
/// handler lists them, so a post from nobody signed in is refused before its form is read.
pub struct Posted<P, F> {
    pub app: AppState,
    pub session: Session,
    pub user: PageUser,
    /// The path's parameters: the request id, and the decision where the route names one.
    pub path: P,
    pub form: F,
}

impl<P, F> FromRequest<AppState> for Posted<P, F>
where
    P: DeserializeOwned + Send,
    F: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, app: &AppState) -> Result<Self, Response> {
        let (State(app), session, user, Path(path), Form(form)) =
            <(State<AppState>, Session, PageUser, Path<P>, Form<F>)>::from_request(req, app)
                .await?;
        Ok(Posted {
            app,
            session,
            user,
            path,
            form,
        })
    }
}

impl<P, F> Posted<P, F> {
    /// Runs an action and returns to where the form was, with what happened as a flash message.
    pub async fn after_action(
        &self,
        back: &str,
        result: Result<Request, AppError>,
        done: impl FnOnce(&Request) -> String,
    ) -> Result<Response, PageError> {
        let msg = match result {
            Ok(r) => done(&r),
            // A role or ownership violation is an error page, never a quiet redirect.
            Err(
                e @ (AppError::Forbidden(_) | AppError::Unauthorized(_) | AppError::NotFound(_)),
            ) => {
                return Err(e.into());
            }
            // The package needs a step-up: sign in again asking for it, then back to the page.
            Err(AppError::StepUpRequired(s)) => {
                let back = safe_return_path(self.app.portal.public_url(), Some(back));
                return Ok(sign_in_again(&s.context, &back));
            }
            Err(e) if e.status().is_client_error() => e.public_message(),
            Err(e) => return Err(e.into()),
        };
        set_flash(&self.session, msg).await;
        let to = safe_return_path(self.app.portal.public_url(), Some(back));
        Ok(Redirect::to(&to).into_response())
    }
}

/// Where a form goes back to: the page it names, or `default` when it names none.
pub fn back_or<'a>(back: &'a str, default: &'a str) -> &'a str {
    if back.is_empty() { default } else { back }
}

/// A text field as the service takes it: none when left blank.
pub fn unless_blank(text: &str) -> Option<String> {
    Some(text.to_owned()).filter(|t| !t.trim().is_empty())
}

/// The decision a route names, `approve` or `deny`; any other word is no such page.
pub async fn decision(verb: &str) -> Result<Decision, PageError> {
    match Decision::parse(verb) {
        Some(decision) => Ok(decision),
        None => Err(not_found().await),
    }
}
