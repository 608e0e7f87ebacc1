//! `GET /api/v1/people`: the directory searched by name or user principal name, for whoever may
//! ask on others' behalf (to pick the people and device accounts to ask for).

use axum::Json;
use axum::extract::{Query, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views;
use crate::contract::{ErrorBody, PeopleQuery, PersonList};
use crate::error::{AppError, AppResult};
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// People and device accounts whose display name or user principal name has a word starting
/// with `search` (at most 25), read from the directory now.
#[utoipa::path(
    get, path = "/api/v1/people", operation_id = "search_people", tag = "people",
    params(PeopleQuery),
    responses(
        (status = 200, body = PersonList),
        (status = 403, description = "The caller may not ask on others' behalf (neither an approver, an admin nor a holder of the `requester_on_behalf` role), or holds a requests-API token", body = ErrorBody),
        (status = 422, description = "The search is shorter than 2 or longer than 64 characters", body = ErrorBody),
    ),
)]
async fn search(
    State(app): State<AppState>,
    Auth(who): Auth,
    params: Result<Query<PeopleQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<PersonList>> {
    let Query(p) =
        params.map_err(|e| AppError::BadRequest(format!("Invalid query: {}.", e.body_text())))?;
    let found = app.portal.search_people(&who, &p.search).await?;
    Ok(Json(PersonList {
        people: found.iter().map(views::person).collect(),
    }))
}
