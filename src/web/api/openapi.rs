//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' annotations and the
//! contract types (`utoipa`), served at `/api/v1/openapi.json`.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::web::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jitgate",
        description = "Just-in-time, time-boxed membership of Microsoft Entra ID security groups, with approvals and a tamper-evident audit trail. Times are RFC 3339 in UTC. Every error is `{\"error\": {\"code\", \"message\", \"fields\"?}}`: 400 or 422 for invalid input (nothing changes), 401, 403, 404, 409.",
        license(name = "MIT"),
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "requests", description = "Asking for access, and the grants that follow"),
        (name = "decisions", description = "Approving and denying"),
        (name = "extensions", description = "More time on an active grant"),
        (name = "audit", description = "The audit trail (auditors, admins)"),
        (name = "people", description = "The caller, the packages, how to sign in"),
    ),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An Entra ID access token for the portal's API (audience `<client id>` or `api://<client id>`), from the same tenant.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-jitgate_session",
                "The browser's session after signing in to the portal (`jitgate_session` over plain http).",
            ))),
        );
    }
}

/// The API's routes, each with its place in the document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).routes(routes!(document))
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let (_, doc) = super::router_with_document().split_for_parts();
    doc.to_pretty_json()
        .expect("the OpenAPI document serialises")
});

/// The document, as served.
pub fn document_json() -> &'static str {
    &DOCUMENT
}

/// This document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", operation_id = "get_openapi_document", tag = "people", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of /api/v1", content_type = "application/json")),
)]
async fn document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
        .into_response()
}
