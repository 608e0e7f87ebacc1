//! The Graph route table: a request's path (under `/v1.0` or `/beta`) and method to the endpoint
//! that answers it, once the caller is authenticated; 405 and 400 for what Graph does not serve.

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

use super::caller::authenticate;
use super::errors::{bad_request, forbidden};
use super::query::qparam;
use super::{
    app_registrations, applications, assignments, delta, groups, member_of, members, policies,
    role_eligibility, sign_ins, user_actions, user_search, users,
};
use crate::emulator::Emulator;
use crate::emulator::wire::{GraphCtx, graph_error, percent_decode};

/// One Graph request: the caller authenticated, then the endpoint for its method and path.
pub(super) fn route(
    emu: &Emulator,
    ctx: &GraphCtx,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let (beta, rest) = match uri.path().strip_prefix("/beta") {
        Some(rest) => (true, rest),
        None => (false, uri.path().strip_prefix("/v1.0").unwrap_or("")),
    };
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let q = |name: &str| qparam(&query, name);
    let caller = match authenticate(emu, ctx, headers) {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match (method, segs.as_slice()) {
        (&Method::POST, ["groups", g, "members", "$ref"]) => {
            members::add(emu, ctx, &caller, g, body)
        }
        (&Method::DELETE, ["groups", g, "members", u, "$ref"]) => {
            members::remove(emu, ctx, &caller, g, u)
        }
        // Without `$ref` Graph would delete the object itself; an app that may not do that gets 403.
        (&Method::DELETE, ["groups", _, "members", u]) if *u != "$ref" => forbidden(ctx),
        (&Method::GET, ["groups", g, "members"]) => members::list(emu, ctx, &caller, g, &query),
        // The emulator's groups hold users only: transitive members are the direct ones.
        (
            &Method::GET,
            ["groups", g, "transitiveMembers"]
            | ["groups", g, "transitiveMembers", "microsoft.graph.user"],
        ) => members::list(emu, ctx, &caller, g, &query),
        (&Method::GET, ["groups"]) => groups::list(emu, ctx, &caller, &query),
        (&Method::POST, ["groups"]) => groups::create(emu, ctx, &caller, body),
        (&Method::GET, ["organization"]) => users::organization(emu),
        (&Method::GET, ["me"]) => users::me(emu, ctx, &caller, q("$select")),
        (&Method::GET, ["applications"]) => app_registrations::list(emu, ctx, &caller, &query),
        (&Method::POST, ["applications"]) => app_registrations::create(emu, ctx, &caller, body),
        (&Method::GET, ["applications", id]) => app_registrations::get(emu, ctx, &caller, id),
        (&Method::PATCH, ["applications", id]) => {
            app_registrations::update(emu, ctx, &caller, id, body)
        }
        (&Method::GET, ["applications", id, "federatedIdentityCredentials"]) => {
            app_registrations::list_federated(emu, ctx, &caller, id)
        }
        (&Method::POST, ["applications", id, "federatedIdentityCredentials"]) => {
            app_registrations::add_federated(emu, ctx, &caller, id, body)
        }
        (&Method::GET, ["servicePrincipals"]) => {
            app_registrations::list_service_principals(emu, ctx, &caller, &query)
        }
        (&Method::POST, ["servicePrincipals"]) => {
            app_registrations::create_service_principal(emu, ctx, &caller, body)
        }
        (&Method::GET, ["servicePrincipals", sp, "appRoleAssignments"]) => {
            assignments::held_by(emu, ctx, &caller, sp)
        }
        (&Method::POST, ["servicePrincipals", sp, "appRoleAssignedTo"]) => {
            assignments::assign(emu, ctx, &caller, sp, body)
        }
        (&Method::GET, ["servicePrincipals", sp, "appRoleAssignedTo"])
            if assignments::known(emu, sp) =>
        {
            assignments::assigned_to(emu, ctx, &caller, sp)
        }
        (&Method::POST, ["identity", "conditionalAccess", "policies"]) => {
            policies::create(emu, ctx, &caller, body)
        }
        (&Method::PATCH, ["identity", "conditionalAccess", "policies", id]) => {
            policies::update(emu, ctx, &caller, id, body)
        }
        (&Method::GET, ["groups", "delta" | "delta()"]) => delta::delta(emu, ctx, &caller, &query),
        (&Method::GET, ["groups", g]) => groups::get(emu, ctx, &caller, g),
        (&Method::GET, ["users"]) => user_search::list(emu, ctx, &caller, headers, &query),
        (&Method::GET, ["users", id]) => users::get(emu, ctx, &caller, id, q("$select")),
        (&Method::GET, ["users", id, "manager"]) => {
            users::manager(emu, ctx, &caller, id, q("$select"))
        }
        (&Method::GET, ["users", id, "transitiveMemberOf"]) => {
            member_of::list(emu, ctx, &caller, id, None, &query)
        }
        (&Method::GET, ["users", id, "transitiveMemberOf", cast]) => {
            member_of::list(emu, ctx, &caller, id, Some(cast), &query)
        }
        (
            &Method::GET,
            [
                "roleManagement",
                "directory",
                "roleEligibilityScheduleInstances",
            ],
        ) => role_eligibility::list(emu, ctx, &caller, &query),
        (&Method::GET, ["identity", "conditionalAccess", "policies"]) => {
            policies::list(emu, ctx, &caller)
        }
        (&Method::POST, ["users" | "directoryObjects", id, "checkMemberGroups"]) => {
            user_actions::check_member_groups(emu, ctx, &caller, id, body)
        }
        (&Method::GET, [sp]) if sp.starts_with("servicePrincipals(appId=") => {
            let app_id = sp
                .trim_start_matches("servicePrincipals(appId=")
                .trim_end_matches(')')
                .trim_matches('\'');
            applications::by_app_id(emu, ctx, &caller, app_id)
        }
        (&Method::GET, [app]) if app.starts_with("applications(appId=") => {
            let app_id = app
                .trim_start_matches("applications(appId=")
                .trim_end_matches(')')
                .trim_matches('\'');
            applications::registration_by_app_id(emu, ctx, &caller, app_id)
        }
        (&Method::GET, ["servicePrincipals", sp, "appRoleAssignedTo"]) => {
            applications::assigned_to(emu, ctx, &caller, sp)
        }
        (&Method::POST, ["users", id, "sendMail"]) => {
            user_actions::send_mail(emu, ctx, &caller, id, body)
        }
        (&Method::POST, ["users", id, "revokeSignInSessions"]) => {
            user_actions::revoke_sign_in_sessions(emu, ctx, &caller, id)
        }
        (&Method::GET, ["auditLogs", "signIns"]) => sign_ins::list(emu, ctx, &caller, beta, &query),
        (&Method::GET, ["auditLogs", "signIns", id]) => sign_ins::get(emu, ctx, &caller, beta, id),
        (
            _,
            ["groups", _, "members", "$ref"]
            | ["groups", _, "members", _, "$ref"]
            | ["groups", _, "members"]
            | ["groups", _]
            | ["users", _]
            | ["users", _, "manager"]
            | ["users", _, "transitiveMemberOf"]
            | ["users", _, "transitiveMemberOf", _]
            | [
                "roleManagement",
                "directory",
                "roleEligibilityScheduleInstances",
            ]
            | ["identity", "conditionalAccess", "policies"]
            | ["auditLogs", "signIns"]
            | ["auditLogs", "signIns", _],
        ) => graph_error(
            ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request uri.",
        ),
        _ => {
            let segment = segs.last().copied().unwrap_or("v1.0");
            bad_request(
                ctx,
                "BadRequest",
                &format!("Resource not found for the segment '{segment}'."),
            )
        }
    }
}
