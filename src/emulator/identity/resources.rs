//! What a request names: the resource its scopes ask for (the portal's API, the requests API or
//! Microsoft Graph, never two of them) and the name Entra shows for the app asking.

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
    } else if emu
        .config()
        .requests_api_id
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case(client_id))
    {
        REQUESTS_API_NAME.to_owned()
    } else {
        client_id.to_owned()
    }
}

/// The display name of the requests API's registration.
const REQUESTS_API_NAME: &str = "jitgate requests API";

/// The tenant's own APIs: (display name, application id, `api://{id}/` scope prefix).
fn apis(emu: &Emulator) -> Vec<(&'static str, String, String)> {
    let cfg = emu.config();
    let mut out = vec![(
        "jitgate",
        cfg.client_id.clone(),
        format!("api://{}/", cfg.client_id),
    )];
    if let Some(r) = &cfg.requests_api_id {
        out.push((REQUESTS_API_NAME, r.clone(), format!("api://{r}/")));
    }
    out
}

/// The resource a scope string asks for: (display name, id).
pub(super) fn resource_of(emu: &Emulator, scope: &str) -> (String, String) {
    apis(emu)
        .into_iter()
        .find(|(_, _, prefix)| scope.split_whitespace().any(|s| s.starts_with(prefix)))
        .map(|(name, id, _)| (name.to_owned(), id))
        .unwrap_or_else(|| ("Microsoft Graph".to_owned(), GRAPH_APP_ID.to_owned()))
}

/// The scopes of a device code request (or of a refresh): `Err` with the token endpoint error
/// when one names an unknown resource or the request mixes resources.
pub(super) fn check_scope(emu: &Emulator, scope: &str) -> Result<(), TokenError> {
    let apis = apis(emu);
    let graph_prefixes = [
        "https://graph.microsoft.com/",
        "00000003-0000-0000-c000-000000000000/",
    ];
    // How many scopes name each resource: the tenant's APIs in order, then Graph.
    let mut named = vec![0; apis.len() + 1];
    for s in scope.split_whitespace() {
        if ["openid", "profile", "email", "offline_access"].contains(&s) {
            continue;
        }
        if let Some(i) = apis
            .iter()
            .position(|(_, _, prefix)| s.starts_with(prefix.as_str()) && s.len() > prefix.len())
        {
            named[i] += 1;
        } else if graph_prefixes.iter().any(|p| s.starts_with(p)) || !s.contains(['/', ':']) {
            named[apis.len()] += 1;
        } else {
            let resource = s.rsplit_once('/').map_or(s, |(r, _)| r);
            return Err(unknown_resource(emu, resource));
        }
    }
    if named.iter().filter(|n| **n > 0).count() > 1 {
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
