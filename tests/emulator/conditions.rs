//! The tenant's conditions that directory work must survive: the write budget, latency and
//! hanging calls, eventual consistency, JSON batching, and session revocation.

use std::time::{Duration, Instant};

use jitgate::emulator::{EmulatorConfig, Fault, demo};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Graph, graph_error, start};

const G: &str = demo::EXCLUSION_GROUP_ID;

#[tokio::test]
async fn the_write_budget_answers_graphs_429_with_retry_after() {
    let emu = start(EmulatorConfig::demo()).await;
    emu.set_write_budget(2, Duration::from_secs(10));
    let graph = Graph::new(&emu).await;
    assert_eq!(
        graph.add(G, demo::DANA).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        graph.remove(G, demo::DANA).await.status(),
        StatusCode::NO_CONTENT
    );
    // Reads are not writes.
    assert_eq!(
        graph.get(&format!("/groups/{G}/members")).await.status(),
        StatusCode::OK
    );
    let resp = graph.add(G, demo::RILEY).await;
    let retry_after: f64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((4.0..=5.0).contains(&retry_after), "{retry_after}");
    assert_eq!(
        resp.headers()["x-ms-throttle-information"],
        "WriteLimitExceeded"
    );
    let message = graph_error(resp, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests").await;
    assert_eq!(message, "Please retry again later.");
    assert!(
        emu.members(G).is_empty(),
        "a throttled write changes nothing"
    );
    assert_eq!(emu.write_counts(), (2, 1));
}

#[tokio::test]
async fn latency_and_hanging_calls_delay_the_answer_not_the_change() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    emu.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(
        graph.get(&format!("/groups/{G}")).await.status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    emu.set_latency(Duration::ZERO);

    emu.inject(Fault::hang(Duration::from_secs(2), 1).method("POST"));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gave_up = client
        .post(format!("{}/v1.0/groups/{G}/members/$ref", emu.base_url()))
        .bearer_auth(&graph.token)
        .json(&json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", demo::DANA)}))
        .send()
        .await;
    assert!(gave_up.unwrap_err().is_timeout());
    // The change still lands after the hang, as a real call that timed out on our side may.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !emu.members(G).contains(&demo::DANA.to_string()) {
        assert!(Instant::now() < deadline, "the hung addition never landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn check(graph: &Graph, user: &str) -> Vec<String> {
    let resp = graph
        .send(
            Method::POST,
            &format!("/users/{user}/checkMemberGroups"),
            Some(json!({"groupIds": [G]})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    serde_json::from_value(body["value"].clone()).unwrap()
}

#[tokio::test]
async fn reads_lag_behind_membership_changes() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    emu.set_read_lag(Duration::from_millis(400));
    graph.add(G, demo::DANA).await;
    assert!(
        check(&graph, demo::DANA).await.is_empty(),
        "not visible yet"
    );
    let listed: Value = graph
        .get(&format!("/groups/{G}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["value"].as_array().unwrap().len(), 0);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(check(&graph, demo::DANA).await, [G]);

    graph.remove(G, demo::DANA).await;
    let listed: Value = graph
        .get(&format!("/groups/{G}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["value"][0]["id"],
        demo::DANA,
        "still listed for a while"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(check(&graph, demo::DANA).await.is_empty());
}

#[tokio::test]
async fn json_batches_answer_each_request_on_its_own() {
    let emu = start(EmulatorConfig::demo()).await;
    emu.set_write_budget(2, Duration::from_secs(60));
    let graph = Graph::new(&emu).await;
    let add = |id: &str, user: &str| {
        json!({"id": id, "method": "POST", "url": format!("/groups/{G}/members/$ref"),
               "headers": {"Content-Type": "application/json"},
               "body": {"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")}})
    };
    let resp = graph
        .send(
            Method::POST,
            "/$batch",
            Some(json!({"requests": [
                add("a", demo::DANA),
                {"id": "b", "method": "DELETE", "url": format!("/groups/{G}/members/{}/$ref", demo::RILEY)},
                add("c", demo::RILEY),
            ]})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let by_id = |id: &str| {
        body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("a")["status"], 204);
    assert_eq!(by_id("b")["status"], 404, "Riley was not a member");
    assert_eq!(
        by_id("b")["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    let throttled = by_id("c");
    assert_eq!(throttled["status"], 429, "{throttled}");
    assert!(throttled["headers"]["Retry-After"].as_str().is_some());
    assert_eq!(throttled["body"]["error"]["code"], "TooManyRequests");
    assert_eq!(emu.members(G), [demo::DANA]);

    // Batch-level errors (wire doc §5.3).
    let too_many: Vec<Value> = (0..21).map(|i| add(&i.to_string(), demo::DANA)).collect();
    let resp = graph
        .send(Method::POST, "/$batch", Some(json!({"requests": too_many})))
        .await;
    let message = graph_error(resp, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(message, "Number of requests inside batch exceed the limit.");
    let resp = graph
        .send(
            Method::POST,
            "/$batch",
            Some(json!({"requests": [add("1", demo::DANA), add("1", demo::RILEY)]})),
        )
        .await;
    let message = graph_error(resp, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(message, "Request Id 1 has to be unique in a batch.");
}

#[tokio::test]
async fn sign_in_sessions_are_revoked_and_recorded() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let resp = graph
        .send(
            Method::POST,
            &format!("/users/{}/revokeSignInSessions", demo::DANA),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["value"], true);
    assert_eq!(emu.revocations(), [demo::DANA]);
    let unknown = "00000000-0000-0000-0000-0000000000ff";
    let resp = graph
        .send(
            Method::POST,
            &format!("/users/{unknown}/revokeSignInSessions"),
            None,
        )
        .await;
    graph_error(resp, StatusCode::NOT_FOUND, "Request_ResourceNotFound").await;
}
