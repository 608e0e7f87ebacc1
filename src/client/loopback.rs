//! The one-request web server a browser sign-in redirects to (RFC 8252 §7.3): it listens on a
//! loopback port, takes the first answer that carries a `code` or an `error`, thanks the person
//! and stops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use tokio::sync::oneshot;

/// How long the browser has to come back.
const WAIT: Duration = Duration::from_secs(600);

type Sender = Arc<Mutex<Option<oneshot::Sender<HashMap<String, String>>>>>;

async fn answer(
    State(tx): State<Sender>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    if !q.contains_key("code") && !q.contains_key("error") {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            Html("<p>This address only takes the answer of a jitgate sign-in.</p>".to_string()),
        );
    }
    let failed = q.contains_key("error");
    if let Some(tx) = tx.lock().unwrap().take() {
        let _ = tx.send(q);
    }
    let text = if failed {
        "The sign-in did not succeed; the terminal says why. You can close this tab."
    } else {
        "You are signed in to jitgate. You can close this tab and go back to the terminal."
    };
    (
        axum::http::StatusCode::OK,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>jitgate</title></head><body><p>{text}</p></body></html>"
        )),
    )
}

/// Serves `listener` until the first answer; its query parameters.
pub async fn one_answer(
    listener: tokio::net::TcpListener,
) -> anyhow::Result<HashMap<String, String>> {
    let (tx, rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = Router::new()
        .route("/", get(answer))
        .with_state(Arc::new(Mutex::new(Some(tx))));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    let got = tokio::time::timeout(WAIT, rx).await;
    let _ = stop_tx.send(());
    // The thank-you page is on its way; the server stops once it is sent.
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    got.ok()
        .context("no answer from the browser within 10 minutes; run `jitgate login` again")?
        .context("the sign-in's listener stopped")
}
