//! The one-request web server a browser sign-in redirects to (RFC 8252 §7.3): it listens on a
//! loopback port, takes the first answer that carries this sign-in's `state` and a `code` or
//! an `error`, thanks the person and stops. Anything else, an error with another `state`
//! included, is turned away and changes nothing: `state` is checked before anything is read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// How long the browser has to come back.
const WAIT: Duration = Duration::from_secs(600);

type Answer = HashMap<String, String>;

/// The `state` the answer must carry, and where the answer goes.
struct Waiting {
    state: String,
    tx: Mutex<Option<oneshot::Sender<Answer>>>,
}

/// Whether the answer's `state` is this sign-in's (compared by digest, so that the time taken
/// does not depend on how much of it matches).
fn same_state(given: Option<&String>, expected: &str) -> bool {
    given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(expected.as_bytes()))
}

async fn answer(State(w): State<Arc<Waiting>>, Query(q): Query<Answer>) -> impl IntoResponse {
    let ours = same_state(q.get("state"), &w.state);
    if !ours || (!q.contains_key("code") && !q.contains_key("error")) {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            Html("<p>This address only takes the answer of the jitgate sign-in that is waiting for it.</p>".to_string()),
        );
    }
    let failed = q.contains_key("error");
    if let Some(tx) = w.tx.lock().unwrap().take() {
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

/// Serves `listener` until the first answer carrying `state`; its query parameters.
pub async fn one_answer(
    listener: tokio::net::TcpListener,
    state: String,
) -> anyhow::Result<Answer> {
    let (tx, rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = Router::new()
        .route("/", get(answer))
        .with_state(Arc::new(Waiting {
            state,
            tx: Mutex::new(Some(tx)),
        }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_answer_with_this_sign_ins_state_is_taken() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "http://127.0.0.1:{}/",
            listener.local_addr().unwrap().port()
        );
        let waiting = tokio::spawn(one_answer(listener, "st-right".into()));
        let http = reqwest::Client::new();
        // An error with another state, or with none, a code without a state, and a stray
        // visit are turned away; the sign-in keeps waiting.
        for q in [
            "?error=access_denied&error_description=forged&state=st-wrong",
            "?error=access_denied",
            "?code=c-forged",
            "",
        ] {
            let r = http.get(format!("{base}{q}")).send().await.unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST, "{q}");
        }
        assert!(!waiting.is_finished());
        let r = http
            .get(format!("{base}?code=c-1&state=st-right"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let got = waiting.await.unwrap().unwrap();
        assert_eq!(got.get("code").map(String::as_str), Some("c-1"));
    }
}
