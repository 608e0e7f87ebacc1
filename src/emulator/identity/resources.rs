//! What a request names: the resource its scopes ask for (the portal's API or Microsoft Graph,
//! never both) and the name Entra shows for the app asking.

use axum::http::StatusCode;

use super::errors::{TokenError, terr, unknown_resource};
use crate::emulator::GRAPH_APP_ID;
use crate::emulator::demo;
use crate::emulator::tenant::Emulator;

/// The name Entra shows for an app.
pub(super) fn app_name(emu: &Emulator, client_id: &str) -> String {
    if client_id.eq_ignore_ascii_case(demo::CLI_CLIENT_ID) {
        "jitgate CLI".to_owned()
    } else if client_id.eq_ignore_ascii_case(&emu.config().client_id) {
        "jitgate".to_owned()
    } else {
        client_id.to_owned()
    }
}

/// The resource a scope string asks for: (display name, id).
pub(super) fn resource_of(emu: &Emulator, scope: &str) -> (String, String) {
    let client_id = &emu.config().client_id;
    let api = format!("api://{client_id}/");
    if scope.split_whitespace().any(|s| s.starts_with(&api)) {
        ("jitgate".to_owned(), client_id.clone())
    } else {
        ("Microsoft Graph".to_owned(), GRAPH_APP_ID.to_owned())
    }
}

/// The scopes of a device code request (or of a refresh): `Err` with the token endpoint error
/// when one names an unknown resource or the request mixes resources.
pub(super) fn check_scope(emu: &Emulator, scope: &str) -> Result<(), TokenError> {
    let api = format!("api://{}/", emu.config().client_id);
    let graph_prefixes = [
        "https://graph.microsoft.com/",
        "00000003-0000-0000-c000-000000000000/",
    ];
    let (mut api_scopes, mut graph_scopes) = (0, 0);
    for s in scope.split_whitespace() {
        if ["openid", "profile", "email", "offline_access"].contains(&s) {
            continue;
        }
        if s.starts_with(&api) && s.len() > api.len() {
            api_scopes += 1;
        } else if graph_prefixes.iter().any(|p| s.starts_with(p)) || !s.contains(['/', ':']) {
            graph_scopes += 1;
        } else {
            let resource = s.rsplit_once('/').map_or(s, |(r, _)| r);
            return Err(unknown_resource(emu, resource));
        }
    }
    if api_scopes > 0 && graph_scopes > 0 {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            28000,
            format!(
                "Provided value for the input parameter scope '{scope}' is not valid because it contains more than one resource. The scope {scope} is not valid."
            ),
        ));
    }
    Ok(())
}
