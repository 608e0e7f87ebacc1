use serde_json::{Value, json};

use super::*;

fn desired() -> Desired {
    Desired {
        tenant_id: "t1".into(),
        public_url: "https://jit.contoso.example".into(),
        app_name: "jitgate".into(),
        cli_name: Some("jitgate CLI".into()),
        group_name: "jitgate: device code flow exemption".into(),
        role_assignable: false,
        policy_name: "Block device code flow (jitgate)".into(),
        certificate: None,
        federated: None,
    }
}

fn graph() -> Value {
    let roles: Vec<Value> = GRAPH_PERMISSIONS
        .iter()
        .chain(&["RoleManagement.ReadWrite.Directory"])
        .map(|p| json!({"id": stable_id(p), "value": p}))
        .collect();
    json!({"id": "graph-sp", "appId": GRAPH_APP_ID, "appRoles": roles})
}

/// The object as Graph would hold it after `call` created it.
fn created(call: &Call) -> Value {
    let mut v = call.body.clone();
    v["id"] = json!("obj-1");
    v["appId"] = json!("app-1");
    v
}

#[test]
fn an_empty_tenant_gets_the_app_with_roles_scope_v2_and_redirect() {
    let d = desired();
    let call = application_call(&d, None, &graph(), None).unwrap().unwrap();
    assert_eq!(call.method, Method::Post);
    assert_eq!(call.path, "/applications");
    let b = &call.body;
    assert_eq!(b["identifierUris"], json!(["api://t1/jitgate"]));
    assert_eq!(
        b["web"]["redirectUris"],
        json!(["https://jit.contoso.example/auth/callback"])
    );
    assert_eq!(b["api"]["requestedAccessTokenVersion"], json!(2));
    assert_eq!(
        b["api"]["oauth2PermissionScopes"][0]["value"],
        "access_as_user"
    );
    let roles: Vec<&str> = b["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["Approver", "Auditor", "Admin", "RequesterOnBehalf"]);
    assert_eq!(
        b["requiredResourceAccess"][0]["resourceAccess"]
            .as_array()
            .unwrap()
            .len(),
        GRAPH_PERMISSIONS.len()
    );
    assert!(b.get("passwordCredentials").is_none(), "never a secret");
}

#[test]
fn what_is_found_as_wanted_is_left_alone_and_only_differences_are_patched() {
    let d = desired();
    let app = created(&application_call(&d, None, &graph(), None).unwrap().unwrap());
    assert_eq!(
        application_call(&d, Some(&app), &graph(), None).unwrap(),
        None
    );

    // Someone added a redirect URI and a role of their own, and renamed it: only the name is
    // put back, their additions stay.
    let mut changed = app.clone();
    changed["displayName"] = json!("old name");
    changed["web"]["redirectUris"]
        .as_array_mut()
        .unwrap()
        .push(json!("https://other/cb"));
    changed["appRoles"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "x", "value": "Mine"}));
    let call = application_call(&d, Some(&changed), &graph(), None)
        .unwrap()
        .unwrap();
    assert_eq!(call.method, Method::Patch);
    assert_eq!(call.path, "/applications/obj-1");
    assert_eq!(call.body, json!({"displayName": "jitgate"}));

    // The public URL moved: the new redirect URI is added beside the old.
    let moved = Desired {
        public_url: "https://new.contoso.example".into(),
        ..d.clone()
    };
    let call = application_call(&moved, Some(&app), &graph(), None)
        .unwrap()
        .unwrap();
    assert_eq!(
        call.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["web"]
    );
    assert_eq!(
        call.body["web"]["redirectUris"].as_array().unwrap().len(),
        2
    );

    // The command-line client, once it exists, is pre-authorized for the scope.
    let call = application_call(&d, Some(&app), &graph(), Some("cli-1"))
        .unwrap()
        .unwrap();
    assert_eq!(
        call.body["api"]["preAuthorizedApplications"][0]["appId"],
        "cli-1"
    );
}

#[test]
fn a_graph_without_a_permission_is_a_clear_error() {
    let g = json!({"id": "graph-sp", "appRoles": []});
    let err = application_call(&desired(), None, &g, None).unwrap_err();
    assert!(err.contains("GroupMember.ReadWrite.All"), "{err}");
}

#[test]
fn the_cli_client_is_public_with_the_loopback_redirect() {
    let d = desired();
    let api = json!({"appId": "api-1"});
    let call = cli_client_call(&d, "jitgate CLI", None, &api).unwrap();
    assert_eq!(call.body["isFallbackPublicClient"], json!(true));
    assert_eq!(
        call.body["publicClient"]["redirectUris"],
        json!(["http://127.0.0.1"])
    );
    assert_eq!(
        call.body["requiredResourceAccess"][0]["resourceAppId"],
        "api-1"
    );
    assert_eq!(
        cli_client_call(&d, "jitgate CLI", Some(&created(&call)), &api),
        None
    );
}

#[test]
fn the_group_is_a_security_group_and_a_found_one_is_kept() {
    let mut d = desired();
    let call = group_call(&d, None).unwrap();
    assert_eq!(call.body["securityEnabled"], json!(true));
    assert_eq!(call.body["mailEnabled"], json!(false));
    assert_eq!(call.body["mailNickname"], "jitgatedevicecodeflowexemption");
    assert!(call.body.get("isAssignableToRole").is_none());
    d.role_assignable = true;
    assert_eq!(
        group_call(&d, None).unwrap().body["isAssignableToRole"],
        json!(true)
    );
    assert_eq!(group_call(&d, Some(&json!({"id": "g"}))), None);
}

#[test]
fn permissions_and_the_admin_role_are_granted_once() {
    let g = graph();
    let calls = graph_permission_calls(&desired(), &g, "sp-1", &[]).unwrap();
    assert_eq!(calls.len(), GRAPH_PERMISSIONS.len());
    assert!(
        calls
            .iter()
            .all(|c| c.path == "/servicePrincipals/graph-sp/appRoleAssignedTo")
    );
    let held: Vec<Value> = calls.iter().map(|c| c.body.clone()).collect();
    assert!(
        graph_permission_calls(&desired(), &g, "sp-1", &held)
            .unwrap()
            .is_empty()
    );

    let app = created(
        &application_call(&desired(), None, &g, None)
            .unwrap()
            .unwrap(),
    );
    let call = admin_role_call(&app, "sp-1", "admin-1", &[]).unwrap();
    assert_eq!(call.body["appRoleId"], json!(desired().role_id("Admin")));
    assert_eq!(call.body["principalId"], "admin-1");
    assert_eq!(
        admin_role_call(&app, "sp-1", "admin-1", std::slice::from_ref(&call.body)),
        None
    );
}

#[test]
fn the_policy_is_made_report_only_and_never_enabled_or_disabled() {
    let d = desired();
    let call = policy_call(&d, "g1", &[]).unwrap();
    assert_eq!(call.body["state"], "enabledForReportingButNotEnforced");
    assert_eq!(
        call.body["grantControls"]["builtInControls"],
        json!(["block"])
    );
    assert_eq!(
        call.body["conditions"]["users"]["excludeGroups"],
        json!(["g1"])
    );
    assert_eq!(
        call.body["conditions"]["authenticationFlows"]["transferMethods"],
        "deviceCodeFlow"
    );
    // An admin switched it on: left on. Found without the group: only the group is added.
    let mut found = created(&call);
    found["state"] = json!("enabled");
    assert_eq!(policy_call(&d, "g1", std::slice::from_ref(&found)), None);
    let patch = policy_call(&d, "g2", &[found]).unwrap();
    assert_eq!(patch.method, Method::Patch);
    assert!(patch.body.get("state").is_none());
    assert_eq!(
        patch.body["conditions"]["users"]["excludeGroups"],
        json!(["g1", "g2"])
    );
}

#[test]
fn the_configuration_names_what_was_registered_and_no_secret() {
    let w = Written {
        tenant_id: "t1".into(),
        public_url: "https://jit.contoso.example".into(),
        client_id: "app-1".into(),
        cli_client_id: Some("cli-1".into()),
        api_scope: desired().api_scope(),
        group_id: "g1".into(),
        credential: Some((
            "certificate".into(),
            Some("/etc/jitgate/cert.pem".into()),
            None,
        )),
    };
    let text = config_toml(&w);
    let v: ::toml::Value = ::toml::from_str(&text).unwrap();
    assert_eq!(v["entra"]["client_id"].as_str(), Some("app-1"));
    assert_eq!(
        v["entra"]["api_scope"].as_str(),
        Some("api://t1/jitgate/access_as_user")
    );
    assert_eq!(v["package"][0]["group_id"].as_str(), Some("g1"));
    assert!(v["entra"].get("client_secret").is_none());
    assert_eq!(v["entra"]["credential"].as_str(), Some("certificate"));
    assert_eq!(
        v["entra"]["certificate_path"].as_str(),
        Some("/etc/jitgate/cert.pem")
    );
}

#[test]
fn a_certificate_is_uploaded_once_and_never_replaces_others() {
    let mut d = desired();
    d.certificate = Some(Certificate {
        key: "AAEC".into(),
        thumbprint: "AB12".into(),
    });
    let call = application_call(&d, None, &graph(), None).unwrap().unwrap();
    let keys = &call.body["keyCredentials"];
    assert_eq!(keys[0]["type"], "AsymmetricX509Cert");
    assert_eq!(keys[0]["usage"], "Verify");
    assert_eq!(keys[0]["key"], "AAEC");
    // Read back, Graph shows no key: found by its name, nothing to do.
    let mut app = created(&call);
    app["keyCredentials"][0]["key"] = Value::Null;
    assert_eq!(
        application_call(&d, Some(&app), &graph(), None).unwrap(),
        None
    );
    // Another certificate is there: setup would have to replace it, so it says what to do.
    app["keyCredentials"][0]["displayName"] = json!("CN=someone else's");
    let err = application_call(&d, Some(&app), &graph(), None).unwrap_err();
    assert!(err.contains("never removes"), "{err}");
}

#[test]
fn a_federated_credential_is_added_once() {
    let mut d = desired();
    assert_eq!(federated_call(&d, "obj-1", &[]), None);
    d.federated = Some(Federated {
        issuer: "https://oidc.aks/".into(),
        subject: "system:serviceaccount:jitgate:jitgate".into(),
    });
    let call = federated_call(&d, "obj-1", &[]).unwrap();
    assert_eq!(
        call.path,
        "/applications/obj-1/federatedIdentityCredentials"
    );
    assert_eq!(
        call.body["audiences"],
        json!(["api://AzureADTokenExchange"])
    );
    assert_eq!(
        federated_call(&d, "obj-1", std::slice::from_ref(&call.body)),
        None
    );
}

#[test]
fn a_role_assignable_group_brings_the_permission_to_manage_it() {
    let mut d = desired();
    let plain = graph_permission_calls(&d, &graph(), "sp-1", &[]).unwrap();
    d.role_assignable = true;
    let calls = graph_permission_calls(&d, &graph(), "sp-1", &[]).unwrap();
    assert_eq!(calls.len(), plain.len() + 1);
    let id = stable_id("RoleManagement.ReadWrite.Directory");
    assert!(calls.iter().any(|c| c.body["appRoleId"] == id.as_str()));
    let app = application_call(&d, None, &graph(), None).unwrap().unwrap();
    let asked = app.body["requiredResourceAccess"][0]["resourceAccess"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(asked, plain.len() + 1);
}
