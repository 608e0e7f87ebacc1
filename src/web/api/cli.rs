//! `GET /api/v1/cli`: how the command-line client signs in to this portal's API. Public: a
//! tenant id, a public client's id and a scope name are no secrets (every sign-in shows them).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::contract::{CliSignIn, ErrorBody};
use crate::error::{AppError, AppResult};
use crate::web::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cli))
}

/// Where and as which registration the command-line client signs in, and the scope it asks for.
#[utoipa::path(
    get, path = "/api/v1/cli", operation_id = "get_cli_sign_in", tag = "people", security(()),
    responses(
        (status = 200, body = CliSignIn),
        (status = 404, description = "No command-line client is registered (`[entra] cli_client_id`)", body = ErrorBody),
    ),
)]
async fn cli(State(app): State<AppState>) -> AppResult<Json<CliSignIn>> {
    let entra = app.portal.entra();
    let client_id = entra.cli_client_id.clone().ok_or_else(|| {
        AppError::NotFound(
            "This portal has no command-line client registered ([entra] cli_client_id).".into(),
        )
    })?;
    Ok(Json(CliSignIn {
        authority_host: entra
            .authority_host
            .as_str()
            .trim_end_matches('/')
            .to_string(),
        tenant_id: entra.tenant_id.clone(),
        client_id,
        scopes: vec![entra.api_scope()],
        device_code_scopes: entra.requests_api_scope().into_iter().collect(),
    }))
}
