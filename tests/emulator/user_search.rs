//! `GET /users` with `$search` (issue 21): Graph's advanced query on directory objects, refused
//! without `ConsistencyLevel: eventual`; display names matched word by word from their start,
//! user principal names from theirs; clauses joined by `OR` and `AND`.

use jitgate::emulator::{EmulatorConfig, demo};
use reqwest::StatusCode;
use serde_json::Value;

use super::{Graph, graph_error, start};

/// `GET /users?{query}` with the header when `eventual`.
async fn search(graph: &Graph, query: &str, eventual: bool) -> reqwest::Response {
    let mut req = graph
        .http
        .get(format!("{}/users?{query}", graph.base))
        .bearer_auth(&graph.token);
    if eventual {
        req = req.header("ConsistencyLevel", "eventual");
    }
    req.send().await.unwrap()
}

fn upns(body: &Value) -> Vec<String> {
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userPrincipalName"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_is_an_advanced_query() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let q = r#"$search="displayName:scan" OR "userPrincipalName:scan"&$select=id,displayName,userPrincipalName"#;
    // Without the header: Graph's 400.
    let message = graph_error(
        search(&graph, q, false).await,
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
    )
    .await;
    assert!(message.contains("ConsistencyLevel: eventual"), "{message}");

    // With it: the device accounts, with the properties selected.
    let resp = search(&graph, q, true).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        upns(&body),
        [
            "scanner-07@jitgate-demo.onmicrosoft.com",
            "scanner-08@jitgate-demo.onmicrosoft.com"
        ]
    );
    assert_eq!(body["value"][0]["id"], demo::SCANNER_07);
    assert_eq!(body["value"][0]["displayName"], "Scanner 07 (warehouse)");
    assert!(body["value"][0].get("mail").is_none(), "{body}");
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#users(id,displayName,userPrincipalName)"),
        "{body}"
    );

    // Display names word by word, from a word's start, any case; not from inside a word.
    let body: Value = search(&graph, r#"$search="displayName:MAN""#, true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(upns(&body), ["morgan@jitgate-demo.onmicrosoft.com"]);
    let body: Value = search(&graph, r#"$search="displayName:anager""#, true)
        .await
        .json()
        .await
        .unwrap();
    assert!(upns(&body).is_empty(), "{body}");
    let body: Value = search(&graph, r#"$search="displayName:07 ware""#, true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(upns(&body), ["scanner-07@jitgate-demo.onmicrosoft.com"]);
    // The user principal name from its start; AND narrows, $top and $count as Graph has them.
    let body: Value = search(
        &graph,
        r#"$search="userPrincipalName:scanner" AND "displayName:08"&$count=true"#,
        true,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(upns(&body), ["scanner-08@jitgate-demo.onmicrosoft.com"]);
    assert_eq!(body["@odata.count"], 1);
    let body: Value = search(&graph, r#"$search="userPrincipalName:s"&$top=1"#, true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 1);

    // What is not a search: 400.
    for bad in [
        "$search=dana",
        r#"$search="displayName:dana" OR"#,
        r#"$search="jobTitle:dev""#,
    ] {
        let resp = search(&graph, bad, true).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    // Without $search, every user.
    let body: Value = search(&graph, "$select=id", false)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), demo::users().len());
}

#[tokio::test]
async fn search_needs_permission_to_read_users() {
    let mut cfg = EmulatorConfig::demo();
    cfg.app_permissions = vec!["GroupMember.ReadWrite.All".into()];
    let emu = start(cfg).await;
    let graph = Graph::new(&emu).await;
    let resp = search(&graph, r#"$search="displayName:dana""#, true).await;
    graph_error(resp, StatusCode::FORBIDDEN, "Authorization_RequestDenied").await;
}
