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
        description = "Just-in-time, time-boxed membership of Microsoft Entra ID security groups, with approvals and a tamper-evident audit trail. Times are RFC 3339 in UTC. Every error is `{\"error\": {\"code\", \"message\", \"fields\"?, \"rule\"?}}`: 400 or 422 for invalid input (nothing changes), 401 (`insufficient_claims` with a claims challenge when a package needs a step-up), 403, 404, 409; `rule` names the package rule behind a refusal.",
        license(name = "MIT"),
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "requests", description = "Asking for access, and the grants that follow"),
        (name = "decisions", description = "Approving and denying"),
        (name = "extensions", description = "More time on an active grant"),
        (name = "audit", description = "The audit trail (auditors, admins)"),
        (name = "reviews", description = "Access reviews: recurring campaigns that recertify each package"),
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
    let mut doc = serde_json::to_value(&doc).expect("the OpenAPI document serialises");
    complete(&mut doc);
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document serialises")
});

/// What every operation of a kind can answer, besides what its own annotation says: added
/// here once rather than on each handler, so that none is forgotten.
fn common_answers(
    public: bool,
    by_id: bool,
    reads_input: bool,
    has_body: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if reads_input {
        out.push((
            "400",
            "The body or the query is not valid JSON or not of this shape",
        ));
    }
    if !public {
        out.push((
            "401",
            "Not signed in, or the token is not valid (expired, another tenant or audience)",
        ));
    }
    if by_id {
        out.push(("404", "No such request (or not a request id)"));
    }
    if has_body {
        out.push(("413", "The body is too large"));
    }
    out.push((
        "503",
        "The database cannot be reached; try again after `Retry-After` seconds",
    ));
    out
}

/// Adds to the generated document what the annotations cannot say: the answers every operation
/// shares, the text rules on bodies (`contract::rules`), and the audit actions one may filter by.
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
    let optional_bodies = bodies_without_required_fields(doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let public = op["security"].as_array().is_some_and(|s| {
                    s.iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                });
                let has_body = op.get("requestBody").is_some();
                let has_query = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
                let answers = common_answers(
                    public,
                    path.contains("{id}"),
                    has_body || has_query,
                    has_body,
                );
                let responses = op["responses"].as_object_mut().expect("responses");
                for (status, description) in answers {
                    responses.entry(status).or_insert_with(
                        || json!({"description": description, "content": error.clone()}),
                    );
                }
                if path == "/api/v1/audit" {
                    restrict_actions(op);
                }
                // The server refuses a NUL byte anywhere in the address.
                let params = op.get_mut("parameters").and_then(Value::as_array_mut);
                for p in params.into_iter().flatten() {
                    let schema = &mut p["schema"];
                    let text = schema["type"] == "string"
                        || schema["type"]
                            .as_array()
                            .is_some_and(|t| t.contains(&json!("string")));
                    if text && schema.get("pattern").is_none() && schema.get("enum").is_none() {
                        schema["pattern"] = json!(r"^[^\u0000]*$");
                    }
                }
                // No body reads as `{}`: where nothing in it is required, it may be left out.
                if let Some(body) = op.get_mut("requestBody")
                    && let Some(name) = body
                        .pointer("/content/application~1json/schema/$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.rsplit('/').next())
                    && optional_bodies.contains(&name.to_string())
                {
                    body["required"] = json!(false);
                }
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (schema, property, pattern) in crate::contract::rules::TEXT_PATTERNS {
            let prop = schemas
                .get_mut(*schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
                .unwrap_or_else(|| panic!("{schema}.{property} is in the document"));
            prop["pattern"] = json!(pattern);
        }
    }
}

/// The schemas with no required property.
fn bodies_without_required_fields(doc: &serde_json::Value) -> Vec<String> {
    doc.pointer("/components/schemas")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, s)| s["required"].as_array().is_none_or(Vec::is_empty))
        .map(|(name, _)| name.clone())
        .collect()
}

/// The audit list's `action` is one of the actions the trail records.
fn restrict_actions(op: &mut serde_json::Value) {
    let actions: Vec<&str> = crate::domain::AuditAction::ALL
        .iter()
        .map(|a| a.as_str())
        .collect();
    let params = op
        .get_mut("parameters")
        .and_then(serde_json::Value::as_array_mut);
    for p in params.into_iter().flatten() {
        if p["name"] == "action" {
            p["schema"]["enum"] = serde_json::json!(actions);
        }
    }
}

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
