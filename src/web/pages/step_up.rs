//! Step-up on the pages: a form the service refused for want of the package's authentication
//! context (`auth_context`) sends the browser to sign in again asking for it (the sign-in
//! routes add the `claims` request parameter), and back to where it was. What the person typed
//! in the request form waits meanwhile in their session on the server (never in a URL), for
//! them alone and for a short while, and comes back in the form for them to check and send
//! again: nothing is sent on their behalf.

use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::auth::Principal;

/// The session key of a form kept across a step-up sign-in.
const DRAFT: &str = "step_up_draft";

/// How long a kept form waits for its person to come back (a sign-in may take ten minutes).
const DRAFT_LIFETIME: Duration = Duration::minutes(15);

#[derive(Serialize, Deserialize)]
struct Draft<T> {
    /// Whose it is: shown to nobody else, even in the same browser.
    user: String,
    until: DateTime<Utc>,
    form: T,
}

/// Keeps `form`, as `who` typed it, until they come back from the step-up sign-in.
pub async fn keep_draft<T: Serialize>(
    session: &Session,
    who: &Principal,
    form: T,
    now: DateTime<Utc>,
) {
    let draft = Draft {
        user: who.user.id.clone(),
        until: now + DRAFT_LIFETIME,
        form,
    };
    if let Err(e) = session.insert(DRAFT, draft).await {
        tracing::warn!(error = %e, "could not keep the form across the step-up sign-in");
    }
}

/// The form `who` typed before their step-up sign-in, once (it is forgotten as it is read), if
/// it is theirs and still fresh.
pub async fn take_draft<T: DeserializeOwned>(
    session: &Session,
    who: &Principal,
    now: DateTime<Utc>,
) -> Option<T> {
    // Removed only when there is one: reading none must not make the session dirty.
    session.get::<serde_json::Value>(DRAFT).await.ok()??;
    let draft = session.remove::<Draft<T>>(DRAFT).await.ok()??;
    (draft.user == who.user.id && now < draft.until).then_some(draft.form)
}

/// Sends the browser to sign in again asking for authentication context `context`, and back
/// to `return_to` (a local path) afterwards.
pub fn sign_in_again(context: &str, return_to: &str) -> Response {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", return_to)
        .append_pair("auth_context", context)
        .finish();
    Redirect::to(&format!("/auth/login?{q}")).into_response()
}
