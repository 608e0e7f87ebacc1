//! What the command line believes of the sign-in a portal publishes (`GET /api/v1/cli`), so that
//! a fake or typo-squatted portal cannot have it sign people in elsewhere or for something else:
//!
//! - the sign-in service must be one of Microsoft Entra ID's (the global service and the
//!   national clouds), unless the person names it on this machine (`--authority-host`, for an
//!   emulated or test tenant), and then the portal must name the same one;
//! - every scope must be of the portal's own API: `<Application ID URI>/<name>`, the URI one of
//!   the API resources the portal publishes, and never one of Microsoft's own APIs;
//! - the app is a GUID and the tenant one tenant (a GUID or a domain);
//! - what was shown and accepted for a portal is remembered (`cli.toml`), and a later change is
//!   shown and asked about again.

use anyhow::bail;
use chrono::Utc;

use super::home::Accepted;
use super::portal::require_secure;
use super::sign_in::Authority;
use crate::contract::CliSignIn;

/// Microsoft Entra ID's sign-in services, and the cloud each serves (Microsoft's "National
/// clouds" list; `login.chinacloudapi.cn` is the older name of the 21Vianet one).
pub const ENTRA_HOSTS: [(&str, &str); 4] = [
    ("login.microsoftonline.com", "Microsoft Entra ID, global"),
    ("login.microsoftonline.us", "Azure Government"),
    (
        "login.partner.microsoftonline.cn",
        "Azure operated by 21Vianet",
    ),
    ("login.chinacloudapi.cn", "Azure operated by 21Vianet"),
];

/// Hosts of Microsoft's own APIs (Graph, Exchange, SharePoint, Azure, ...): a scope on one of
/// them, or a subdomain, is never the portal's API.
const MICROSOFT_DOMAINS: [&str; 24] = [
    "microsoft.com",
    "microsoft.us",
    "microsoftonline.com",
    "microsoftonline.us",
    "microsoftonline.cn",
    "windows.net",
    "azure.com",
    "azure.net",
    "azure.us",
    "azure.cn",
    "usgovcloudapi.net",
    "chinacloudapi.cn",
    "office.com",
    "office.net",
    "office365.com",
    "office365.us",
    "outlook.com",
    "sharepoint.com",
    "sharepoint.us",
    "sharepoint.cn",
    "dynamics.com",
    "powerbi.com",
    "visualstudio.com",
    "live.com",
];

/// Application ids of Microsoft APIs outside the first-party patterns below: Azure Resource
/// Manager, Azure DevOps, Key Vault, Azure Storage, Azure SQL Database.
const MICROSOFT_APP_IDS: [&str; 5] = [
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "499b84ac-1321-427f-aa17-267ca6975798",
    "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
    "e406a681-f3d4-42a8-90b6-c2b029497af1",
    "022907d3-0f1b-48f7-badc-1ba6abab6d66",
];

/// The sign-in the portal published, checked: where (the portal's sign-in service, or the one
/// `named_host` on this machine), the tenant (`tenant` overrides the portal's), the app and
/// the scopes. Nothing is sent anywhere before this has passed.
pub fn checked(
    published: &CliSignIn,
    named_host: Option<&str>,
    tenant: Option<&str>,
    device_code: bool,
) -> anyhow::Result<Authority> {
    let authority_host = authority_host(&published.authority_host, named_host)?;
    // A device-code sign-in asks for the requests API's scopes (the one jitgate resource the
    // device-code block lets through) where the portal has one; a browser sign-in, the portal's
    // own API. Either must name one of the portal's two APIs.
    let scopes = if device_code && !published.device_code_scopes.is_empty() {
        &published.device_code_scopes
    } else {
        &published.scopes
    };
    let all: Vec<String> = published
        .scopes
        .iter()
        .chain(&published.device_code_scopes)
        .cloned()
        .collect();
    check_scopes(scopes, &api_resources(&all))?;
    let tenant_id = tenant.unwrap_or(&published.tenant_id).trim().to_string();
    check_ids(&tenant_id, &published.client_id)?;
    Ok(Authority {
        authority_host,
        tenant_id,
        client_id: published.client_id.trim().to_ascii_lowercase(),
        scopes: scopes.clone(),
    })
}

/// `https://host[:port]` as the client uses it: no path, no trailing slash.
fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether `url` is a bare address (`https://host` or `https://host/`): no path, query,
/// fragment or credentials.
fn bare(url: &url::Url) -> bool {
    url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// The sign-in service: the portal's `published` one if it is one of Entra's; or `named` on
/// this machine (https, or http on loopback), which the portal must name too.
pub fn authority_host(published: &str, named: Option<&str>) -> anyhow::Result<String> {
    let portal_says = url::Url::parse(published.trim()).ok();
    if let Some(named) = named.map(str::trim).filter(|n| !n.is_empty()) {
        let url = url::Url::parse(named).map_err(|_| {
            anyhow::anyhow!(
                "--authority-host '{named}' is not a URL like https://login.microsoftonline.com"
            )
        })?;
        require_secure(&url, "sign-in service named with --authority-host")?;
        if !bare(&url) {
            bail!(
                "--authority-host '{named}' must be the sign-in service's address alone, like https://login.microsoftonline.com"
            );
        }
        let same = portal_says
            .as_ref()
            .is_some_and(|p| bare(p) && origin(p) == origin(&url));
        if !same {
            bail!(
                "the portal signs in at '{}', but --authority-host names {}: nothing was signed in. Name the portal's sign-in service, or leave --authority-host out.",
                published.trim(),
                origin(&url)
            );
        }
        return Ok(origin(&url));
    }
    let known = portal_says.as_ref().filter(|u| {
        u.scheme() == "https"
            && u.port().is_none()
            && bare(u)
            && matches!(u.host(), Some(url::Host::Domain(d)) if ENTRA_HOSTS.iter().any(|(h, _)| *h == d))
    });
    match known {
        Some(u) => Ok(origin(u)),
        None => bail!(
            "the portal asks to sign you in at '{}', which is not one of Microsoft Entra's sign-in services ({}); nothing was signed in. Check the portal's address. To sign in at a service you trust that is not Entra's own (an emulated or test tenant), name it yourself: --authority-host URL (or JITGATE_AUTHORITY_HOST).",
            published.trim(),
            ENTRA_HOSTS
                .iter()
                .map(|(h, _)| *h)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Which cloud `authority_host` serves, in words (empty for a host named on this machine).
pub fn cloud_of(authority_host: &str) -> &'static str {
    let host = url::Url::parse(authority_host)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    ENTRA_HOSTS
        .iter()
        .find(|(h, _)| *h == host)
        .map(|(_, cloud)| *cloud)
        .unwrap_or("named with --authority-host")
}

/// A scope's resource and name: `api://x/access_as_user` → (`api://x`, `access_as_user`).
fn split_scope(scope: &str) -> Option<(&str, &str)> {
    let (resource, name) = scope.trim().rsplit_once('/')?;
    let resource = resource.trim_end_matches('/');
    (!resource.is_empty() && !name.is_empty() && !scope.contains(char::is_whitespace))
        .then_some((resource, name))
}

/// The API resources (Application ID URIs) the published `scopes` belong to, each once. A
/// portal publishes one API resource today; one that publishes its resources by name passes
/// them to [`check_scopes`] instead.
pub fn api_resources(scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (resource, _) in scopes.iter().filter_map(|s| split_scope(s)) {
        if !out.iter().any(|r| r.eq_ignore_ascii_case(resource)) {
            out.push(resource.to_string());
        }
    }
    out
}

/// Whether `id` is the application id of one of Microsoft's own APIs: the first-party
/// patterns (`0000000x-0000-0000-c000-000000000000` like Graph, `0000000x-0000-0ff1-ce00-…`
/// like Exchange and SharePoint) and the Azure APIs listed above.
fn microsoft_app_id(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    id.ends_with("-0000-0000-c000-000000000000")
        || id.ends_with("-0000-0ff1-ce00-000000000000")
        || MICROSOFT_APP_IDS.contains(&id.as_str())
}

/// Why `resource` cannot be the portal's own API, if it cannot.
fn not_the_portals(resource: &str) -> Option<&'static str> {
    let lower = resource.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("api://") {
        let first = rest.split('/').next().unwrap_or("");
        return (first.is_empty() || microsoft_app_id(first)).then_some("a Microsoft API");
    }
    if lower.starts_with("https://") {
        let host = url::Url::parse(&lower)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let microsoft = MICROSOFT_DOMAINS
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")));
        return (host.is_empty() || microsoft).then_some("a Microsoft API");
    }
    if lower.starts_with("urn:") {
        return None;
    }
    if uuid::Uuid::try_parse(&lower).is_ok() && microsoft_app_id(&lower) {
        return Some("a Microsoft API");
    }
    Some("not an API's Application ID URI (api://…, https://… or urn:…)")
}

/// Refuses `scopes` unless each is a scope of one of the portal's `api_resources`, and none of
/// those is Microsoft's own (Graph, Exchange, SharePoint, Azure Resource Manager, ...). A
/// scope without a resource (`User.Read`, `openid`) is Microsoft Graph's or the client's own,
/// and refused too.
pub fn check_scopes(scopes: &[String], api_resources: &[String]) -> anyhow::Result<()> {
    if scopes.is_empty() {
        bail!("the portal names no scope of its API to sign in for; nothing was signed in");
    }
    for resource in api_resources {
        if let Some(why) = not_the_portals(resource) {
            bail!(
                "the portal asks for a scope of '{resource}' ({why}), not of its own API: nothing was signed in. jitgate signs in for the portal's API only; the portal may not be what it claims."
            );
        }
    }
    for scope in scopes {
        let own = split_scope(scope)
            .is_some_and(|(r, _)| api_resources.iter().any(|a| a.eq_ignore_ascii_case(r)));
        if !own {
            bail!(
                "the portal asks for the scope '{scope}', which is not of its own API ({}): nothing was signed in. jitgate signs in for the portal's API only; the portal may not be what it claims.",
                api_resources.join(", ")
            );
        }
    }
    Ok(())
}

/// The app must be a GUID, the tenant a GUID or a domain name.
fn check_ids(tenant: &str, client_id: &str) -> anyhow::Result<()> {
    if uuid::Uuid::try_parse(client_id.trim()).is_err() {
        bail!(
            "the portal names the app '{client_id}', which is not an application (client) id; nothing was signed in"
        );
    }
    // One tenant's name, or `common` and the like, which `Authority::base` explains.
    let domain = |t: &str| {
        t.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    if uuid::Uuid::try_parse(tenant).is_err() && !domain(tenant) && !tenant.is_empty() {
        bail!("'{tenant}' is not a tenant: a directory (tenant) id or one of its domains");
    }
    Ok(())
}

/// What of a portal's sign-in was named on this machine, and so needs no question.
#[derive(Debug, Clone, Copy, Default)]
pub struct Named {
    /// `--authority-host`.
    pub authority_host: bool,
    /// `--tenant`.
    pub tenant: bool,
}

/// What to do with a portal's sign-in before signing in.
#[derive(Debug, PartialEq, Eq)]
pub enum Review {
    /// As accepted before: nothing to say.
    Same,
    /// New or changed only in what was named here: said, and remembered without a question.
    Tell(String),
    /// New, or changed since it was accepted: shown, and signed in only once confirmed.
    Ask(String),
}

impl Accepted {
    /// What `a` signs in with, accepted now.
    pub fn of(a: &Authority) -> Accepted {
        Accepted {
            authority_host: a.authority_host.clone(),
            tenant_id: a.tenant_id.clone(),
            client_id: a.client_id.clone(),
            accepted_at: Utc::now(),
        }
    }

    /// The lines that show it.
    fn lines(&self) -> String {
        format!(
            "  sign-in service  {} ({})\n  tenant           {}\n  app              {} (the portal's command-line client)",
            self.authority_host,
            cloud_of(&self.authority_host),
            self.tenant_id,
            self.client_id
        )
    }
}

/// Compares the sign-in about to be used (`now`) for `portal` with what was accepted `before`.
pub fn review(portal: &str, before: Option<&Accepted>, now: &Accepted, named: Named) -> Review {
    let Some(before) = before else {
        let text = format!(
            "{portal} asks to sign you in, for the first time on this machine, with:\n{}",
            now.lines()
        );
        return if named.authority_host {
            Review::Tell(format!(
                "{text}\nRemembered for this portal: a later change will be asked about."
            ))
        } else {
            Review::Ask(format!(
                "{text}\nA fake portal could name another tenant or app: check them with your administrator. Once accepted they are remembered for this portal."
            ))
        };
    };
    let mut changed = Vec::new();
    if !before
        .authority_host
        .eq_ignore_ascii_case(&now.authority_host)
    {
        changed.push((
            "sign-in service",
            &before.authority_host,
            &now.authority_host,
            named.authority_host,
        ));
    }
    if !before.tenant_id.eq_ignore_ascii_case(&now.tenant_id) {
        changed.push(("tenant", &before.tenant_id, &now.tenant_id, named.tenant));
    }
    if !before.client_id.eq_ignore_ascii_case(&now.client_id) {
        changed.push(("app", &before.client_id, &now.client_id, false));
    }
    if changed.is_empty() {
        return Review::Same;
    }
    let list = changed
        .iter()
        .map(|(what, was, is, _)| format!("  {what:<16} {was} -> {is}"))
        .collect::<Vec<_>>()
        .join("\n");
    if changed.iter().all(|(.., named_here)| *named_here) {
        return Review::Tell(format!(
            "Signing in to {portal} with what you named (remembered):\n{list}"
        ));
    }
    Review::Ask(format!(
        "{portal} now names another sign-in than the one accepted on this machine on {}:\n{list}\nA portal that changed hands would do this. Check with your administrator before you accept.",
        before.accepted_at.format("%Y-%m-%d")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const APP: &str = "9c1d4e7b-2a5f-4b8c-a3d6-5e0f1b2c7d84";

    fn published(host: &str, scopes: &[&str]) -> CliSignIn {
        CliSignIn {
            authority_host: host.into(),
            tenant_id: TENANT.into(),
            client_id: APP.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            device_code_scopes: Vec::new(),
        }
    }

    #[test]
    fn only_entras_sign_in_services_unless_named_here() {
        for (host, _) in ENTRA_HOSTS {
            for form in [format!("https://{host}"), format!("https://{host}/")] {
                assert_eq!(
                    authority_host(&form, None).unwrap(),
                    format!("https://{host}")
                );
            }
        }
        for bad in [
            "http://login.microsoftonline.com",
            "https://login.microsoftonline.com:444",
            "https://login.microsoftonline.com/tenant",
            "https://login.microsoftonline.com.evil.example",
            "https://evil.example",
            "https://user@login.microsoftonline.com",
            "http://127.0.0.1:9000",
            "not a url",
        ] {
            let e = authority_host(bad, None).unwrap_err().to_string();
            assert!(e.contains("--authority-host"), "{bad}: {e}");
        }
        // Named here: any https, or http on this machine, when the portal names the same.
        assert_eq!(
            authority_host("http://127.0.0.1:9000/", Some("http://127.0.0.1:9000")).unwrap(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            authority_host(
                "https://login.test.example",
                Some("https://login.test.example/")
            )
            .unwrap(),
            "https://login.test.example"
        );
        for (portal, named) in [
            ("http://login.example.com", "http://login.example.com"),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9001"),
            (
                "https://login.microsoftonline.com",
                "https://login.microsoftonline.us",
            ),
            ("https://login.test.example", "https://login.test.example/x"),
        ] {
            assert!(
                authority_host(portal, Some(named)).is_err(),
                "{portal} / {named}"
            );
        }
        assert_eq!(
            cloud_of("https://login.microsoftonline.us"),
            "Azure Government"
        );
    }

    #[test]
    fn only_scopes_of_the_portals_own_api() {
        let own = |scopes: &[&str]| {
            let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
            check_scopes(&scopes, &api_resources(&scopes))
        };
        for ok in [
            "api://3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f/access_as_user",
            "api://jitgate-prod/access_as_user",
            "https://jit.contoso.example/api/access_as_user",
            "api://3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f/.default",
            "urn:contoso:jitgate/access_as_user",
        ] {
            own(&[ok]).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "https://graph.microsoft.com/.default",
            "https://graph.microsoft.us/Mail.Read",
            "https://microsoftgraph.chinacloudapi.cn/Mail.Read",
            "00000003-0000-0000-c000-000000000000/Mail.Read",
            "api://00000003-0000-0000-c000-000000000000/Mail.Read",
            "00000002-0000-0ff1-ce00-000000000000/EWS.AccessAsUser.All",
            "https://contoso.sharepoint.com/AllSites.Read",
            "https://management.azure.com/user_impersonation",
            "797f4846-ba00-4fd7-ba43-dac1f8f63013/user_impersonation",
            "3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f/access_as_user",
            "User.Read",
            "openid",
            "api:///access_as_user",
            "api://x/access as user",
        ] {
            assert!(own(&[bad]).is_err(), "{bad}");
        }
        assert!(own(&[]).is_err());
        // With the portal's resources given: a scope of any other resource is refused.
        let scopes = vec!["api://jitgate/access_as_user".to_string()];
        assert!(check_scopes(&scopes, &["api://jitgate".to_string()]).is_ok());
        assert!(check_scopes(&scopes, &["api://other".to_string()]).is_err());
        // A second resource of the same portal fits.
        let two = vec![
            "api://jitgate/access_as_user".to_string(),
            "api://jitgate-requests/requests".to_string(),
        ];
        assert_eq!(api_resources(&two).len(), 2);
        assert!(check_scopes(&two, &api_resources(&two)).is_ok());
    }

    #[test]
    fn the_app_is_a_guid_and_the_tenant_one_tenant() {
        let scope = "api://jitgate/access_as_user";
        let host = "https://login.microsoftonline.com";
        let a = checked(&published(host, &[scope]), None, None, false).unwrap();
        assert_eq!((a.tenant_id.as_str(), a.client_id.as_str()), (TENANT, APP));
        let a = checked(
            &published(host, &[scope]),
            None,
            Some("contoso.onmicrosoft.com"),
            false,
        )
        .unwrap();
        assert_eq!(a.tenant_id, "contoso.onmicrosoft.com");
        let mut p = published(host, &[scope]);
        p.client_id = "04b07795-8ddb-461a-bbee-02f9e1bf7b46\u{1b}[31m".into();
        assert!(checked(&p, None, None, false).is_err());
        for t in ["evil/../x", "a b", "\u{1b}[2J"] {
            assert!(
                checked(&published(host, &[scope]), None, Some(t), false).is_err(),
                "{t}"
            );
        }
    }

    #[test]
    fn a_device_code_sign_in_asks_for_the_requests_api() {
        let host = "https://login.microsoftonline.com";
        let mut p = published(host, &["api://jitgate/access_as_user"]);
        p.device_code_scopes = vec!["api://jitgate-requests/access_as_requester".into()];
        let browser = checked(&p, None, None, false).unwrap();
        assert_eq!(browser.scopes, ["api://jitgate/access_as_user"]);
        let device = checked(&p, None, None, true).unwrap();
        assert_eq!(
            device.scopes,
            ["api://jitgate-requests/access_as_requester"]
        );
        // A portal without a requests API: the device code flow asks for the portal's API.
        p.device_code_scopes.clear();
        assert_eq!(
            checked(&p, None, None, true).unwrap().scopes,
            ["api://jitgate/access_as_user"]
        );
        // The requests API's scope is held to the same rule: never one of Microsoft's APIs.
        p.device_code_scopes = vec!["https://graph.microsoft.com/.default".into()];
        assert!(checked(&p, None, None, true).is_err());
    }

    #[test]
    fn first_use_is_asked_or_told_and_changes_are_asked() {
        let now = Accepted {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: TENANT.into(),
            client_id: APP.into(),
            accepted_at: Utc::now(),
        };
        let portal = "https://jit.contoso.example";
        let named = Named {
            authority_host: true,
            tenant: false,
        };
        match review(portal, None, &now, Named::default()) {
            Review::Ask(text) => {
                assert!(text.contains(TENANT) && text.contains(APP), "{text}");
                assert!(text.contains("Microsoft Entra ID, global"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(review(portal, None, &now, named), Review::Tell(_)));
        assert_eq!(
            review(portal, Some(&now), &now, Named::default()),
            Review::Same
        );

        let mut other_app = now.clone();
        other_app.client_id = "0b9c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4".into();
        for n in [Named::default(), named] {
            match review(portal, Some(&now), &other_app, n) {
                Review::Ask(text) => assert!(
                    text.contains(&format!("{APP} -> {}", other_app.client_id)),
                    "{text}"
                ),
                other => panic!("{other:?}"),
            }
        }
        let mut elsewhere = now.clone();
        elsewhere.authority_host = "http://127.0.0.1:9000".into();
        assert!(matches!(
            review(portal, Some(&now), &elsewhere, Named::default()),
            Review::Ask(_)
        ));
        assert!(matches!(
            review(portal, Some(&now), &elsewhere, named),
            Review::Tell(_)
        ));
        let mut tenant = now.clone();
        tenant.tenant_id = "contoso.onmicrosoft.com".into();
        assert!(matches!(
            review(portal, Some(&now), &tenant, Named::default()),
            Review::Ask(_)
        ));
        assert!(matches!(
            review(
                portal,
                Some(&now),
                &tenant,
                Named {
                    authority_host: false,
                    tenant: true
                }
            ),
            Review::Tell(_)
        ));
    }
}
