//! `[entra]`: the tenant, the portal's app registration and its credential (`credential`), where Entra and Graph
//! are, the command-line client's registration and the API scope it asks for, the requests API's
//! registration and its scope; and `[roles]`, the
//! values of the app roles that make an approver, an auditor and an admin.

use super::credential;
use super::{guid, http_url, non_empty};
use crate::config::file::{RawEntra, RawRoles};
use crate::config::{ConfigError, EntraSettings, RoleSettings, err};

pub(super) fn check(e: RawEntra) -> Result<EntraSettings, ConfigError> {
    let credential = credential::check(&e)?;
    let requests_api_id = e
        .requests_api_id
        .as_deref()
        .map(|c| guid("entra.requests_api_id", c))
        .transpose()?;
    if requests_api_id
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case(e.client_id.trim()))
    {
        return Err(err(
            "entra.requests_api_id",
            "must be a registration of its own, not the portal's (client_id): the block policy excludes it, and must keep covering the portal",
        ));
    }
    Ok(EntraSettings {
        tenant_id: guid("entra.tenant_id", &e.tenant_id)?,
        client_id: non_empty("entra.client_id", &e.client_id)?,
        credential,
        authority_host: http_url("entra.authority_host", &e.authority_host)?,
        graph_url: http_url("entra.graph_url", &e.graph_url)?,
        cli_client_id: e
            .cli_client_id
            .as_deref()
            .map(|c| guid("entra.cli_client_id", c))
            .transpose()?,
        api_scope: e
            .api_scope
            .as_deref()
            .map(|s| scope("entra.api_scope", s))
            .transpose()?,
        requests_api_id: requests_api_id.clone(),
        requests_api_scope: match (&requests_api_id, e.requests_api_scope.as_deref()) {
            (_, None) => None,
            (Some(_), Some(s)) => Some(scope("entra.requests_api_scope", s)?),
            (None, Some(_)) => {
                return Err(err(
                    "entra.requests_api_scope",
                    "needs entra.requests_api_id, the registration whose scope it is",
                ));
            }
        },
    })
}

pub(super) fn roles(raw: &RawRoles) -> Result<RoleSettings, ConfigError> {
    Ok(RoleSettings {
        approver: non_empty("roles.approver", &raw.approver)?,
        auditor: non_empty("roles.auditor", &raw.auditor)?,
        admin: non_empty("roles.admin", &raw.admin)?,
        requester_on_behalf: non_empty("roles.requester_on_behalf", &raw.requester_on_behalf)?,
    })
}

/// A delegated scope of an API: `<application ID URI>/<scope name>`, e.g.
/// `api://<client id>/access_as_user`.
fn scope(key: &str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    match v.rsplit_once('/') {
        Some((uri, name))
            if !uri.is_empty()
                && uri.contains(':')
                && !name.is_empty()
                && !v.contains(char::is_whitespace) =>
        {
            Ok(v.to_string())
        }
        _ => Err(err(
            key,
            format!(
                "'{v}' is not an API scope like api://<client id>/access_as_user (the Application ID URI, a slash, the scope's name)"
            ),
        )),
    }
}
