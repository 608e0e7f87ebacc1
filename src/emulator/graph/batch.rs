//! JSON batching, `POST /v1.0/$batch` (wire doc §5): up to 20 requests, each answered on its own
//! (faults, the write budget and the read lag apply per request), in one `responses` array.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::entry::{answer, decorate};
use super::errors::bad_request;
use crate::emulator::Emulator;
use crate::emulator::wire::{GraphCtx, json_response};

const MAX_REQUESTS: usize = 20;

pub(crate) async fn handle(
    State(emu): State<Emulator>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = GraphCtx::new(&headers);
    if method != Method::POST {
        return decorate(
            &ctx,
            bad_request(
                &ctx,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request uri.",
            ),
        );
    }
    let resp = match parse(&body) {
        Err(message) => bad_request(&ctx, "BadRequest", message.as_str()),
        Ok(requests) => {
            // Without `dependsOn` Graph runs a batch's requests in parallel.
            let mut running = tokio::task::JoinSet::new();
            for (i, r) in requests.into_iter().enumerate() {
                let (emu, headers) = (emu.clone(), headers.clone());
                running.spawn(async move { (i, one(&emu, &headers, r).await) });
            }
            let mut answered = Vec::new();
            while let Some(done) = running.join_next().await {
                if let Ok(done) = done {
                    answered.push(done);
                }
            }
            answered.sort_by_key(|(i, _)| *i);
            let responses: Vec<Value> = answered.into_iter().map(|(_, r)| r).collect();
            json_response(
                StatusCode::OK,
                "application/json",
                &json!({ "responses": responses }),
            )
        }
    };
    decorate(&ctx, resp)
}

struct Item {
    id: String,
    method: Method,
    url: String,
    body: Option<Value>,
}

fn parse(body: &[u8]) -> Result<Vec<Item>, String> {
    let invalid = || "Invalid batch payload format.".to_string();
    let v: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let list = v
        .get("requests")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(invalid)?;
    if list.len() > MAX_REQUESTS {
        return Err("Number of requests inside batch exceed the limit.".into());
    }
    let mut items: Vec<Item> = Vec::new();
    for r in list {
        let id = r.get("id").and_then(Value::as_str).ok_or_else(invalid)?;
        if items.iter().any(|i| i.id == id) {
            return Err(format!("Request Id {id} has to be unique in a batch."));
        }
        let method = r
            .get("method")
            .and_then(Value::as_str)
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .ok_or_else(invalid)?;
        let url = r.get("url").and_then(Value::as_str).ok_or_else(invalid)?;
        items.push(Item {
            id: id.to_string(),
            method,
            url: url.to_string(),
            body: r.get("body").cloned(),
        });
    }
    Ok(items)
}

/// One request of the batch, answered as Graph answers it on its own.
async fn one(emu: &Emulator, outer: &HeaderMap, item: Item) -> Value {
    let ctx = GraphCtx::new(outer);
    let relative = item.url.trim_start_matches('/');
    let uri: Uri = match format!("/v1.0/{relative}").parse() {
        Ok(u) => u,
        Err(_) => {
            return json!({"id": item.id, "status": 400, "body": {"error": {"code": "BadRequest", "message": "Invalid request URL."}}});
        }
    };
    let body = item
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let resp = answer(emu, &ctx, &item.method, &uri, outer, &body).await;
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for (name, key) in [
        (header::RETRY_AFTER, "Retry-After"),
        (header::CONTENT_TYPE, "Content-Type"),
    ] {
        if let Some(v) = resp.headers().get(&name).and_then(|v| v.to_str().ok()) {
            headers.insert(key.into(), json!(v));
        }
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
    let mut out = json!({"id": item.id, "status": status, "body": body});
    if !headers.is_empty() {
        out["headers"] = Value::Object(headers);
    }
    out
}
