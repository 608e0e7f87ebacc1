//! Directory roles on the wire (issue 20): a user's active roles and groups
//! (`transitiveMemberOf` and its casts) and PIM's role eligibility schedule instances, in
//! Graph's shapes, with limited information or 403 for an app that may not read them.

use jitgate::emulator::{EmulatorConfig, RoleGiven, demo};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Graph, graph_error, start};

const GA: &str = demo::GLOBAL_ADMINISTRATOR;

#[tokio::test]
async fn active_roles_and_groups_in_graphs_shape() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let group = demo::APPROVERS_GROUP_ID;
    emu.set_member(group, demo::DANA, true);
    emu.set_role_assignable(group, true);
    emu.give_directory_role(group, GA, RoleGiven::Active);

    let resp = graph
        .get(&format!(
            "/users/{}/transitiveMemberOf/microsoft.graph.directoryRole",
            demo::DANA
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#directoryRoles", emu.base_url())
    );
    let role = &body["value"][0];
    assert_eq!(body["value"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(role["@odata.type"], "#microsoft.graph.directoryRole");
    assert_eq!(role["displayName"], "Global Administrator");
    assert_eq!(role["roleTemplateId"], GA);
    assert!(role["deletedDateTime"].is_null() && role["description"].is_string());
    assert_ne!(
        role["id"], GA,
        "the activated role's object id is not its template id"
    );

    // Without a cast: the group and the role; a group cast with $select.
    let all: Value = graph
        .get(&format!("/users/{}/transitiveMemberOf", demo::DANA))
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["#microsoft.graph.group", "#microsoft.graph.directoryRole"]
    );
    let groups: Value = graph
        .get(&format!(
            "/users/{}/transitiveMemberOf/microsoft.graph.group?$select=id,isAssignableToRole",
            demo::DANA
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        groups["value"],
        json!([{"@odata.type": "#microsoft.graph.group", "id": group, "isAssignableToRole": true}])
    );
    // What Graph refuses: an unknown property, an unknown user.
    graph_error(
        graph
            .get(&format!(
                "/users/{}/transitiveMemberOf/microsoft.graph.group?$select=colour",
                demo::DANA
            ))
            .await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    graph_error(
        graph
            .get(&format!(
                "/users/{}/transitiveMemberOf",
                uuid::Uuid::new_v4()
            ))
            .await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
}

#[tokio::test]
async fn eligibility_instances_in_graphs_shape() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let path = "/roleManagement/directory/roleEligibilityScheduleInstances";
    let body: Value = graph
        .get(&format!(
            "{path}?$filter=principalId eq '{}'&$expand=roleDefinition",
            demo::SAM
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances(roleDefinition())",
            emu.base_url()
        )
    );
    let e = &body["value"][0];
    assert_eq!(e["principalId"], demo::SAM);
    assert_eq!(e["roleDefinitionId"], GA);
    assert_eq!(e["directoryScopeId"], "/");
    assert_eq!(e["memberType"], "Direct");
    assert!(e["appScopeId"].is_null() && e["endDateTime"].is_null());
    assert!(e["id"].as_str().unwrap().ends_with("-1-e"));
    chrono::DateTime::parse_from_rfc3339(e["startDateTime"].as_str().unwrap()).unwrap();
    assert_eq!(e["roleDefinition"]["displayName"], "Global Administrator");
    assert_eq!(e["roleDefinition"]["templateId"], GA);
    assert_eq!(e["roleDefinition"]["isBuiltIn"], true);

    // Without $expand no definition; for someone else, nothing.
    let plain: Value = graph.get(path).await.json().await.unwrap();
    assert!(plain["value"][0].get("roleDefinition").is_none());
    let none: Value = graph
        .get(&format!("{path}?$filter=principalId eq '{}'", demo::DANA))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["value"], json!([]));

    // An eligibility with an end shows it (given again, it replaces the one without).
    emu.give_directory_role(demo::DANA, GA, RoleGiven::Eligible);
    emu.give_directory_role(
        demo::DANA,
        GA,
        RoleGiven::EligibleUntil(emu.now() + chrono::Duration::minutes(5)),
    );
    let until: Value = graph
        .get(&format!("{path}?$filter=principalId eq '{}'", demo::DANA))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(until["value"].as_array().unwrap().len(), 1, "{until}");
    assert!(until["value"][0]["endDateTime"].is_string(), "{until}");

    for bad in [
        format!("{path}?$filter=roleDefinitionId eq '{GA}'"),
        format!("{path}?$expand=colour"),
    ] {
        graph_error(graph.get(&bad).await, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
}

/// An app with `User.Read.All` alone reads a user's roles with limited information (type and
/// id), as Graph answers it, and is refused PIM's eligibility.
#[tokio::test]
async fn without_role_permissions() {
    let mut cfg = EmulatorConfig::demo();
    cfg.app_permissions = vec!["User.Read.All".to_owned()];
    let emu = start(cfg).await;
    emu.give_directory_role(demo::DANA, GA, RoleGiven::Active);
    let graph = Graph::new(&emu).await;
    let body: Value = graph
        .get(&format!(
            "/users/{}/transitiveMemberOf/microsoft.graph.directoryRole",
            demo::DANA
        ))
        .await
        .json()
        .await
        .unwrap();
    let role = &body["value"][0];
    assert_eq!(role["@odata.type"], "#microsoft.graph.directoryRole");
    assert!(role["id"].is_string());
    assert!(
        role["displayName"].is_null() && role["roleTemplateId"].is_null(),
        "{role}"
    );
    graph_error(
        graph
            .get("/roleManagement/directory/roleEligibilityScheduleInstances")
            .await,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    )
    .await;
}
