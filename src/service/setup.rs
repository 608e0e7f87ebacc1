//! `jitgate setup`: takes a tenant from nothing to a working registration with the signed-in
//! admin's delegated Graph token. Each object is read first (the portal's app by its identifier
//! URI, the others by name), the pure plan (`domain::setup`) says what write, if any, would make
//! it what jitgate needs, and the write is made, or only reported for `--dry-run`.

use anyhow::Context;
use serde_json::{Value, json};

use crate::domain::setup::{
    Call, GRAPH_APP_ID, Written, admin_role_call, application_call, cli_client_call,
    federated_call, graph_permission_calls, group_call, policy_call, service_principal_call,
};
use crate::graph::AdminGraph;

pub use crate::domain::setup::{Certificate, Desired, Federated, SETUP_SCOPES, config_toml};

/// What a run did (or, dry, would do).
pub struct Outcome {
    /// Every write, in order: made, or only planned for a dry run.
    pub calls: Vec<Call>,
    /// The configuration's values (placeholders for what a dry run did not create).
    pub written: Written,
    /// The signed-in admin's display name.
    pub admin: String,
}

/// A `$filter` for `property eq 'value'`, the value quoted as OData wants and percent-encoded.
fn filter_eq(property: &str, value: &str) -> String {
    let expr = format!("{property} eq '{}'", value.replace('\'', "''"));
    url::form_urlencoded::byte_serialize(expr.as_bytes()).collect()
}

/// The id a dry run gives an object it would create: said as what it is, never sent.
fn placeholder(what: &str) -> String {
    format!("<new {what}>")
}

fn is_placeholder(id: &str) -> bool {
    id.starts_with("<new ")
}

struct Run<'a> {
    graph: &'a AdminGraph,
    dry_run: bool,
    calls: Vec<Call>,
}

impl Run<'_> {
    /// Makes `call` (or, dry, only records it); the object as it is afterwards: Graph's answer
    /// to a `POST`, `found` with the patched members for a `PATCH`; a dry `POST` gives the body
    /// with placeholder ids.
    async fn apply(
        &mut self,
        call: Call,
        found: Option<&Value>,
        kind: &str,
    ) -> anyhow::Result<Value> {
        let method = call.method.as_str();
        let answer = if self.dry_run {
            Value::Null
        } else {
            self.graph.write(method, &call.path, &call.body).await?
        };
        let after = match found {
            Some(f) => {
                let mut f = f.clone();
                if let (Some(obj), Some(patch)) = (f.as_object_mut(), call.body.as_object()) {
                    for (k, v) in patch {
                        obj.insert(k.clone(), v.clone());
                    }
                }
                f
            }
            None if answer.is_object() => answer,
            None => {
                let mut b = call.body.clone();
                b["id"] = json!(placeholder(&format!("{kind} id")));
                b["appId"] = json!(placeholder(&format!("{kind} client id")));
                b
            }
        };
        self.calls.push(call);
        Ok(after)
    }

    /// The first item of a collection, unless `skip` (a dry run's placeholder: nothing to find).
    async fn first(&self, path: &str, skip: bool) -> anyhow::Result<Option<Value>> {
        if skip {
            return Ok(None);
        }
        Ok(self.graph.list(path).await?.into_iter().next())
    }

    async fn all(&self, path: &str, skip: bool) -> anyhow::Result<Vec<Value>> {
        if skip {
            return Ok(Vec::new());
        }
        self.graph.list(path).await
    }
}

fn id_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// Runs setup for `d`; `dry_run` reads but writes nothing.
pub async fn run(graph: &AdminGraph, d: &Desired, dry_run: bool) -> anyhow::Result<Outcome> {
    let mut r = Run {
        graph,
        dry_run,
        calls: Vec::new(),
    };
    let me = graph
        .get("/me?$select=id,displayName,userPrincipalName")
        .await
        .context("reading who is signed in")?;
    let admin_id = id_of(&me, "id");
    // `--tenant` may be a domain: the configuration and the identifier URI need its id.
    let org = graph
        .list("/organization?$select=id")
        .await
        .context("reading the tenant's id")?;
    let tenant_id = org
        .first()
        .map(|o| id_of(o, "id"))
        .filter(|id| !id.is_empty())
        .context("Graph named no organization for the signed-in admin")?;
    let d = &Desired {
        tenant_id,
        ..d.clone()
    };
    let graph_sp = r
        .first(
            &format!(
                "/servicePrincipals?$filter={}",
                filter_eq("appId", GRAPH_APP_ID)
            ),
            false,
        )
        .await?
        .context("the tenant has no Microsoft Graph service principal")?;

    // The portal's registration and its service principal.
    let uri = d.identifier_uri();
    let found = r
        .first(
            &format!(
                "/applications?$filter={}",
                url::form_urlencoded::byte_serialize(
                    format!("identifierUris/any(x:x eq '{}')", uri.replace('\'', "''")).as_bytes()
                )
                .collect::<String>()
            ),
            false,
        )
        .await?;
    let mut app = found.clone().unwrap_or(Value::Null);
    if let Some(call) =
        application_call(d, found.as_ref(), &graph_sp, None).map_err(anyhow::Error::msg)?
    {
        app = r.apply(call, found.as_ref(), "application").await?;
    }
    let app_id = id_of(&app, "appId");
    let app_object = id_of(&app, "id");
    if d.federated.is_some() {
        let path = format!("/applications/{app_object}/federatedIdentityCredentials");
        let held = r.all(&path, is_placeholder(&app_object)).await?;
        if let Some(call) = federated_call(d, &app_object, &held) {
            r.apply(call, None, "federated identity credential").await?;
        }
    }
    let sp_path = format!("/servicePrincipals?$filter={}", filter_eq("appId", &app_id));
    let found_sp = r.first(&sp_path, is_placeholder(&app_id)).await?;
    let sp = match service_principal_call(&app_id, found_sp.as_ref(), "the jitgate app") {
        Some(call) => r.apply(call, None, "service principal").await?,
        None => found_sp.unwrap_or(Value::Null),
    };
    let sp_id = id_of(&sp, "id");

    // The command-line client, pre-authorized for the portal's API scope.
    let mut cli_app_id = None;
    if let Some(name) = &d.cli_name {
        let path = format!("/applications?$filter={}", filter_eq("displayName", name));
        let found = r.first(&path, false).await?;
        let mut cli = found.clone().unwrap_or(Value::Null);
        if let Some(call) = cli_client_call(d, name, found.as_ref(), &app) {
            cli = r.apply(call, found.as_ref(), "command-line client").await?;
        }
        let id = id_of(&cli, "appId");
        if let Some(call) =
            application_call(d, Some(&app), &graph_sp, Some(&id)).map_err(anyhow::Error::msg)?
        {
            app = r.apply(call, Some(&app), "application").await?;
        }
        cli_app_id = Some(id);
    }

    // The exclusion group.
    let path = format!(
        "/groups?$filter={}",
        filter_eq("displayName", &d.group_name)
    );
    let found = r.first(&path, false).await?;
    let group = match group_call(d, found.as_ref()) {
        Some(call) => r.apply(call, None, "group").await?,
        None => found.unwrap_or(Value::Null),
    };
    let group_id = id_of(&group, "id");

    // Graph's application permissions, consented; the Admin role for the admin.
    let new_sp = is_placeholder(&sp_id);
    let held = r
        .all(
            &format!("/servicePrincipals/{sp_id}/appRoleAssignments"),
            new_sp,
        )
        .await?;
    for call in graph_permission_calls(d, &graph_sp, &sp_id, &held).map_err(anyhow::Error::msg)? {
        r.apply(call, None, "app role assignment").await?;
    }
    let assigned = r
        .all(
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            new_sp,
        )
        .await?;
    if let Some(call) = admin_role_call(&app, &sp_id, &admin_id, &assigned) {
        r.apply(call, None, "app role assignment").await?;
    }

    // The device-code block, report-only.
    let policies = r.all("/identity/conditionalAccess/policies", false).await?;
    if let Some(call) = policy_call(d, &group_id, &policies) {
        r.apply(call, None, "policy").await?;
    }

    Ok(Outcome {
        calls: r.calls,
        written: Written {
            tenant_id: d.tenant_id.clone(),
            public_url: d.public_url.clone(),
            client_id: app_id,
            cli_client_id: cli_app_id,
            api_scope: d.api_scope(),
            group_id,
            credential: None,
        },
        admin: me["displayName"].as_str().unwrap_or_default().to_owned(),
    })
}
