//! The notification channels against real receivers: a local HTTP server standing in for the
//! Teams, Slack and generic webhooks, an independent Python check of the webhook signatures
//! (tests/channels/verify_webhook.py, standard library only), and a real SMTP server
//! (aiosmtpd, tests/channels/smtp_sink.py).
//!
//! The SMTP tests need `JITGATE_TEST_SMTP_PYTHON`, a Python with aiosmtpd 1.4.6 (scripts/test.sh
//! installs one in tests/channels/.venv). Without it they are skipped, loudly, except under CI
//! (`CI=true`), where they fail. The same goes for `python3` and the signature check.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use jitgate::channels::webhook;
use jitgate::channels::{
    ChannelError, ChatMessage, Poster, SmtpConfig, SmtpMailer, SmtpSecurity, WebhookSecret,
    slack_payload, teams_payload,
};
use serde_json::{Value, json};

use common::receivers::*;

/// A Workflows-like URL on `addr`, with a signature in its query as the real ones have.
fn teams_url(addr: SocketAddr) -> url::Url {
    url::Url::parse(&format!(
        "http://{addr}/workflows/0f1e2d3c/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=T0P-S3CRET-SIG"
    ))
    .unwrap()
}

/// A Slack-like URL on `addr`, the secret in its path.
fn slack_url(addr: SocketAddr) -> url::Url {
    url::Url::parse(&format!(
        "http://{addr}/services/T0001/B0001/SLACKSECRETTOKEN"
    ))
    .unwrap()
}

/// Asserts that `e` says nothing of `url`'s secrets.
fn assert_hides(e: &ChannelError, url: &url::Url) {
    for secret in [
        url.as_str(),
        url.path(),
        url.query().unwrap_or("\u{0}"),
        "T0P-S3CRET-SIG",
        "SLACKSECRETTOKEN",
    ] {
        assert!(
            !e.message.contains(secret),
            "the error shows {secret:?}: {e}"
        );
    }
}

fn message() -> ChatMessage<'static> {
    ChatMessage {
        title: "Access requested: Device code flow exemption",
        text: "Dana Scully asks for 2 hours.\nReason: incident <INC-42> & follow-up",
        link: Some("https://jit.example.com/requests/7d0e6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
    }
}

fn poster() -> Poster {
    Poster::new(Duration::from_secs(5))
}

#[tokio::test]
async fn teams_payload_arrives_as_json() {
    let (addr, seen) = receiver(Answer::status(202)).await;
    let url = teams_url(addr);
    let payload = teams_payload(&message());
    let body = serde_json::to_vec(&payload).unwrap();
    poster()
        .post("Teams webhook", &url, &[], &body)
        .await
        .unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.method, "POST");
    assert_eq!(
        s.path_and_query,
        format!("{}?{}", url.path(), url.query().unwrap())
    );
    assert_eq!(s.headers["content-type"], "application/json");
    let got: Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(got, payload);
    assert_eq!(got["type"], "message");
    let a = &got["attachments"][0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    assert!(a["contentUrl"].is_null());
    assert_eq!(a["content"]["type"], "AdaptiveCard");
    assert_eq!(a["content"]["version"], "1.4");
    assert_eq!(
        a["content"]["body"][0]["inlines"][0]["text"],
        message().title
    );
    assert_eq!(a["content"]["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(a["content"]["actions"][0]["url"], message().link.unwrap());
}

#[tokio::test]
async fn slack_payload_arrives_as_json() {
    let (addr, seen) = receiver(Answer::Status {
        code: 200,
        headers: vec![("content-type", "text/html".into())],
        body: "ok".into(),
    })
    .await;
    let url = slack_url(addr);
    let payload = slack_payload(&message());
    let body = serde_json::to_vec(&payload).unwrap();
    poster()
        .post("Slack webhook", &url, &[], &body)
        .await
        .unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.path_and_query, "/services/T0001/B0001/SLACKSECRETTOKEN");
    assert_eq!(s.headers["content-type"], "application/json");
    let got: Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(got, payload);
    let types: Vec<&str> = got["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["header", "section", "context"]);
    assert_eq!(
        got["blocks"][1]["text"]["text"],
        "Dana Scully asks for 2 hours.\nReason: incident &lt;INC-42&gt; &amp; follow-up"
    );
    assert!(
        got["text"]
            .as_str()
            .unwrap()
            .starts_with("Access requested")
    );
}

#[tokio::test]
async fn server_errors_are_retriable() {
    let (addr, _) = receiver(Answer::Status {
        code: 500,
        headers: Vec::new(),
        body: "Internal failure".into(),
    })
    .await;
    let url = teams_url(addr);
    let e = poster()
        .post("Teams webhook", &url, &[], b"{}")
        .await
        .unwrap_err();
    assert!(e.retriable, "{e:?}");
    assert_eq!(e.retry_after, None);
    assert_eq!(
        e.message,
        "the Teams webhook answered HTTP 500: Internal failure"
    );
    assert_hides(&e, &url);
}

#[tokio::test]
async fn throttling_is_retriable_after_the_asked_wait() {
    let (addr, _) = receiver(Answer::Status {
        code: 429,
        headers: vec![("retry-after", "7".into())],
        body: String::new(),
    })
    .await;
    let url = slack_url(addr);
    let e = poster()
        .post("Slack webhook", &url, &[], b"{}")
        .await
        .unwrap_err();
    assert!(e.retriable, "{e:?}");
    assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(e.message, "the Slack webhook answered HTTP 429");
    assert_hides(&e, &url);
}

#[tokio::test]
async fn unavailable_is_retriable_after_the_asked_wait() {
    let (addr, _) = receiver(Answer::Status {
        code: 503,
        headers: vec![("retry-after", "2".into())],
        body: String::new(),
    })
    .await;
    let e = poster()
        .post("webhook", &teams_url(addr), &[], b"{}")
        .await
        .unwrap_err();
    assert!(e.retriable);
    assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
}

#[tokio::test]
async fn client_errors_are_not_retriable() {
    let (addr, _) = receiver(Answer::Status {
        code: 400,
        headers: Vec::new(),
        body: "invalid_payload".into(),
    })
    .await;
    let url = slack_url(addr);
    let e = poster()
        .post("Slack webhook", &url, &[], b"{}")
        .await
        .unwrap_err();
    assert!(!e.retriable, "{e:?}");
    assert_eq!(e.retry_after, None);
    assert_eq!(
        e.message,
        "the Slack webhook answered HTTP 400: invalid_payload"
    );
    assert_hides(&e, &url);

    let (addr, _) = receiver(Answer::status(404)).await;
    let e = poster()
        .post("Slack webhook", &slack_url(addr), &[], b"{}")
        .await
        .unwrap_err();
    assert!(!e.retriable);
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_retriable_after_the_timeout() {
    let (addr, seen) = receiver(Answer::Never).await;
    let url = teams_url(addr);
    let started = Instant::now();
    let e = Poster::new(Duration::from_millis(300))
        .post("Teams webhook", &url, &[], b"{}")
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(e.retriable, "{e:?}");
    assert_eq!(e.message, "the Teams webhook did not answer in time");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_hides(&e, &url);
    assert_eq!(seen.lock().unwrap().len(), 1, "the request did arrive");
}

#[tokio::test]
async fn a_closed_port_is_retriable_and_hides_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = slack_url(SocketAddr::from(([127, 0, 0, 1], port)));
    let e = poster()
        .post("Slack webhook", &url, &[], b"{}")
        .await
        .unwrap_err();
    assert!(e.retriable, "{e:?}");
    assert!(
        e.message.starts_with("the Slack webhook cannot be reached"),
        "{e}"
    );
    assert_hides(&e, &url);
}

#[tokio::test]
async fn webhook_signatures_verify_independently() {
    let Some(python) = python3() else { return };
    let key: [u8; 32] = rand::random();
    let secret_text = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    let secret = WebhookSecret::parse(&secret_text).unwrap();
    let body = serde_json::to_vec(&json!({
        "type": "request.approved",
        "timestamp": "2026-05-04T10:20:30Z",
        "data": {"request_id": "7d0e6f3a", "note": "Grüße — ok & <fine>"}
    }))
    .unwrap();
    let msg_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let now = chrono::Utc::now().timestamp();
    let headers = webhook::headers(&secret, &msg_id, now, &body);

    let (addr, seen) = receiver(Answer::status(204)).await;
    let url = url::Url::parse(&format!("http://{addr}/hooks/jitgate")).unwrap();
    poster()
        .post("webhook", &url, &headers, &body)
        .await
        .unwrap();
    let got = seen.lock().unwrap()[0].clone();
    assert_eq!(got.headers["webhook-id"], msg_id);
    assert_eq!(got.headers["webhook-timestamp"], now.to_string());
    assert!(got.headers["webhook-signature"].starts_with("v1,"));
    assert_eq!(got.headers["content-type"], "application/json");
    assert_eq!(got.body, body);

    assert!(
        python_verifies(&python, &secret_text, &got),
        "the Python check refused jitgate's signature"
    );
    // The check is real: another body, id or secret fails it.
    let mut tampered = got.clone();
    tampered.body[10] ^= 1;
    assert!(!python_verifies(&python, &secret_text, &tampered));
    let mut other_id = got.clone();
    other_id
        .headers
        .insert("webhook-id".into(), "msg_other".into());
    assert!(!python_verifies(&python, &secret_text, &other_id));
    let other_secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([9u8; 32])
    );
    assert!(!python_verifies(&python, &other_secret, &got));
}

const SUBJECT: &str = "Zugriff beantragt: Geräte-Ausnahme – 2 h";
const BODY: &str = "Dana Scully möchte 2 Stunden Zugriff.\n.\n.a line that starts with a dot\nFrom the portal: https://jit.example.com/requests/7d0e6f3a\n\n— jitgate";

#[tokio::test]
async fn smtp_delivers_one_message_to_a_real_server() {
    let Some(python) = smtp_python() else { return };
    let sink = Sink::start(&python, None).await;
    let mailer = SmtpMailer::new(&sink.config(None)).unwrap();
    mailer
        .send(&["dana@example.com".into()], SUBJECT, BODY)
        .await
        .unwrap();

    let got = sink.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    let m = &got[0];
    assert_eq!(m["mail_from"], "jit@example.com");
    assert_eq!(m["rcpt_tos"], json!(["dana@example.com"]));
    assert_eq!(m["auth_user"], Value::Null);
    assert_eq!(m["from"], "jitgate <jit@example.com>");
    assert_eq!(m["to"], "dana@example.com");
    assert_eq!(m["bcc"], Value::Null);
    assert_eq!(m["subject"], SUBJECT);
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["charset"], "utf-8");
    assert_eq!(text(&m["body"]), BODY);
    let raw = m["raw"].as_str().unwrap();
    assert!(
        raw.contains("\r\nDate: ") || raw.starts_with("Date: "),
        "{raw}"
    );
    let message_id = raw
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_else(|| panic!("no Message-ID:\n{raw}"));
    assert!(message_id.ends_with("@example.com>"), "{message_id}");
}

#[tokio::test]
async fn smtp_several_recipients_do_not_see_each_other() {
    let Some(python) = smtp_python() else { return };
    let sink = Sink::start(&python, None).await;
    let mailer = SmtpMailer::new(&sink.config(None)).unwrap();
    let to = vec![
        "alex@example.com".to_owned(),
        "avery@example.com".to_owned(),
        "Morgan Lee <morgan@example.com>".to_owned(),
    ];
    mailer
        .send(&to, "Approval needed", "Please decide.")
        .await
        .unwrap();

    let got = sink.received();
    assert_eq!(got.len(), 1, "one message for all: {got:#?}");
    let m = &got[0];
    let mut rcpt: Vec<String> = serde_json::from_value(m["rcpt_tos"].clone()).unwrap();
    rcpt.sort();
    assert_eq!(
        rcpt,
        [
            "alex@example.com",
            "avery@example.com",
            "morgan@example.com"
        ]
    );
    assert_eq!(m["to"], Value::Null);
    assert_eq!(m["bcc"], Value::Null);
    let raw = m["raw"].as_str().unwrap();
    let headers = raw.split("\r\n\r\n").next().unwrap();
    for who in ["alex@", "avery@", "morgan@"] {
        assert!(
            !headers.contains(who),
            "{who} shows in the headers:\n{headers}"
        );
    }
    assert_eq!(text(&m["body"]), "Please decide.");
}

#[tokio::test]
async fn smtp_authenticates() {
    let Some(python) = smtp_python() else { return };
    let creds = ("jit-relay", "s3cret pass wörd");
    let sink = Sink::start(&python, Some(creds)).await;
    let mailer = SmtpMailer::new(&sink.config(Some(creds))).unwrap();
    mailer
        .send(&["dana@example.com".into()], SUBJECT, BODY)
        .await
        .unwrap();
    let got = sink.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["auth_user"], "jit-relay");
    assert_eq!(got[0]["subject"], SUBJECT);
    assert_eq!(text(&got[0]["body"]), BODY);
}

#[tokio::test]
async fn smtp_wrong_credentials_are_not_retriable() {
    let Some(python) = smtp_python() else { return };
    let sink = Sink::start(&python, Some(("jit-relay", "right-password"))).await;

    let wrong = "wr0ng-Passw0rd";
    let mailer = SmtpMailer::new(&sink.config(Some(("jit-relay", wrong)))).unwrap();
    let e = mailer
        .send(&["dana@example.com".into()], "s", "b")
        .await
        .unwrap_err();
    assert!(!e.retriable, "{e:?}");
    assert!(e.message.contains("535"), "{e}");
    assert!(!e.message.contains(wrong), "{e}");
    assert!(!e.message.contains("right-password"), "{e}");

    // No credentials at all, where the server requires them.
    let mailer = SmtpMailer::new(&sink.config(None)).unwrap();
    let e = mailer
        .send(&["dana@example.com".into()], "s", "b")
        .await
        .unwrap_err();
    assert!(!e.retriable, "{e:?}");
    assert!(e.message.contains("530"), "{e}");

    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn smtp_server_that_never_greets_is_retriable_after_the_timeout() {
    // Accepts connections and says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    let mailer = SmtpMailer::new(&SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "jit@example.com".into(),
        timeout: Duration::from_millis(300),
    })
    .unwrap();
    let started = Instant::now();
    let e = mailer
        .send(&["dana@example.com".into()], "s", "b")
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(e.retriable, "{e:?}");
    assert!(e.message.ends_with("did not answer in time"), "{e}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(held.lock().unwrap().len(), 1);
}
