//! One request: the page that shows it, the forms that change it and its extensions; and how a
//! request is shown in the other pages' lists.
//!
//! - `detail.rs`: the request's page, `GET /requests/{id}` (reading only).
//! - `view.rs`: how a request, its extensions and its device-code sign-ins are shown, on its
//!   page and in the lists of "My access", "Approvals" and "Operations".
//! - `timeline.rs`: a label and a sentence for each audit event, also used by the audit pages.
//! - `actions.rs`: the forms that cancel, end, approve or deny a request.
//! - `extension.rs`: the forms that ask for an extension and approve or deny it.
//! - `break_glass.rs`: a break-glass grant's review, shown and made.
//! - `form.rs`: what those forms share: the posted fields, who posts them, and the way back
//!   with a flash message.
//!
//! Asking for access is the form of "My access" (`../access.rs`), which shows its mistakes.

mod actions;
mod break_glass;
mod detail;
mod extension;
pub(super) mod form;
mod timeline;
mod view;

use axum::Router;
use axum::routing::{get, post};

use crate::web::AppState;

pub use timeline::{describe, label};
pub use view::{ExtensionRow, RequestView, SignInRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests/{id}", get(detail::detail))
        .route("/requests/{id}/cancel", post(actions::cancel))
        .route("/requests/{id}/end", post(actions::end))
        // `approve` or `deny`
        .route("/requests/{id}/{decision}", post(actions::decide))
        .route("/requests/{id}/extend", post(extension::extend))
        .route(
            "/requests/{id}/break-glass/review",
            post(break_glass::review),
        )
        .route(
            "/requests/{id}/extension/{decision}",
            post(extension::decide),
        )
}
