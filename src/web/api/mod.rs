//! The JSON API under `/api/v1`. Every route is declared with its OpenAPI operation
//! (`utoipa_axum::routes!`), so the router and the document at `/api/v1/openapi.json` cannot
//! disagree.
//!
//! One router per feature: `me` (who is calling, the packages they may ask for), `people` (the
//! directory searched, to ask on others' behalf), `requests`
//! (requests, their extensions and sign-ins), `approvals` (what waits for the caller's
//! decision), `break_glass` (a grant's break-glass use and its review), `audit` (the trail, exported and verified), `reviews` (access reviews) and `cli` (how the command line signs
//! in); `openapi` serves the document. They answer through `views` (the service's answers in
//! the contract's types) and read bodies and paths through `body` (errors in the API's shape).

mod approvals;
pub mod audit;
mod body;
mod break_glass;
mod cli;
mod me;
pub mod openapi;
mod people;
mod requests;
pub mod reviews;
pub mod views;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub use audit::AuditParams;
pub use body::{ApiJson, ApiPath};

/// The API's routes and their document.
fn router_with_document() -> OpenApiRouter<AppState> {
    openapi::routes()
        .merge(me::router())
        .merge(people::router())
        .merge(cli::router())
        .merge(requests::router())
        .merge(approvals::router())
        .merge(break_glass::router())
        .merge(audit::router())
        .merge(reviews::router())
}

pub fn router() -> Router<AppState> {
    router_with_document().split_for_parts().0
}

/// The OpenAPI document, as `/api/v1/openapi.json` serves it.
pub fn openapi_json() -> &'static str {
    openapi::document_json()
}
