//! The other channels through the running portal (issue 9): Teams and Slack webhooks, the
//! signed generic webhook (every audit event, verified by an independent implementation), and
//! e-mail through a real SMTP server. A receiver that keeps failing is retried with backoff and
//! then recorded as failed, and the portal keeps working.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use serde_json::Value;

use crate::common::db::TestDb;
use crate::common::receivers::{
    Answer, Seen, Sink, python_verifies, python3, receiver, smtp_python,
};
use crate::helpers::*;
use crate::on_both_databases;

/// 32 bytes, base64: a Standard Webhooks secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=";

async fn with_channels(db: &TestDb, addr: SocketAddr) -> TestApp {
    TestApp::spawn_configured(db, false, move |s| {
        format!(
            "{s}\n[notify]\nteams_webhook = \"http://{addr}/teams?sig=secret-in-the-url\"\n\
             slack_webhook = \"http://{addr}/slack/T0/B0/secret\"\n\
             webhook_url = \"http://{addr}/hook\"\nwebhook_secret = \"{SECRET}\"\n"
        )
    })
    .await
}

fn posts(seen: &Arc<Mutex<Vec<Seen>>>, path: &str) -> Vec<Seen> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|s| s.path_and_query.starts_with(path))
        .cloned()
        .collect()
}

fn json_of(s: &Seen) -> Value {
    serde_json::from_slice(&s.body).unwrap()
}

async fn chat_channels_and_the_signed_webhook(db: &TestDb) {
    let (addr, seen) = receiver(Answer::status(200)).await;
    let mut t = with_channels(db, addr).await;
    let id = t.request(DANA, "device-code", 60).await;
    let link = format!("{}/requests/{id}", t.url);

    eventually("the Teams and Slack messages", || async {
        !posts(&seen, "/teams").is_empty() && !posts(&seen, "/slack").is_empty()
    })
    .await;
    let teams = json_of(&posts(&seen, "/teams")[0]);
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0]["content"];
    assert_eq!(
        teams["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(
        card["body"][0]["inlines"][0]["text"],
        "Dana Developer asks for Device code flow exemption"
    );
    let actions = card["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "a link, no approve/deny buttons: {card}");
    assert_eq!(actions[0]["type"], "Action.OpenUrl");
    assert_eq!(actions[0]["url"], link.as_str());
    let slack = json_of(&posts(&seen, "/slack")[0]);
    let blocks = slack["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(
        blocks.iter().all(|b| b["type"] != "actions"),
        "no buttons in Slack: {slack}"
    );
    assert!(slack.to_string().contains(&link), "{slack}");

    // The generic webhook gets every audit event, signed.
    t.approve(MORGAN, &id).await;
    wait_added(&t, &id).await;
    let python = python3();
    let events = || async {
        let mut seqs: Vec<i64> = t
            .events("limit=1000")
            .await
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        seqs.sort_unstable();
        seqs
    };
    let delivered = |seen: &Arc<Mutex<Vec<Seen>>>| {
        let mut ids: Vec<String> = posts(seen, "/hook")
            .iter()
            .map(|s| s.headers["webhook-id"].clone())
            .collect();
        ids.sort();
        ids
    };
    eventually("every audit event at the webhook", || async {
        let mut want: Vec<String> = events().await.iter().map(|s| format!("evt_{s}")).collect();
        want.sort();
        delivered(&seen) == want
    })
    .await;
    for post in posts(&seen, "/hook") {
        let body = json_of(&post);
        assert_eq!(
            post.headers["webhook-id"],
            format!("evt_{}", body["data"]["seq"])
        );
        assert!(body["type"].as_str().unwrap().starts_with("jitgate."));
        if let Some(python) = &python {
            assert!(
                python_verifies(python, SECRET, &post),
                "the signature of {body} does not verify"
            );
        }
    }
    let created: Vec<Value> = posts(&seen, "/hook")
        .iter()
        .map(json_of)
        .filter(|b| b["type"] == "jitgate.request_created")
        .collect();
    assert_eq!(created[0]["data"]["request_id"], id.as_str());
    assert_eq!(
        created[0]["data"]["details"]["justification"],
        "deploying the CI runner"
    );
    // Chat deliveries are in the audit trail, with the channel, never the URL.
    let sent = t.events("action=notification_sent").await;
    let channels: BTreeMap<String, usize> = sent.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e["details"]["channel"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(channels.get("teams"), Some(&1), "{sent:?}");
    assert_eq!(channels.get("slack"), Some(&1), "{sent:?}");
    assert!(!format!("{sent:?}").contains("secret-in-the-url"));

    // Once: a restart sends nothing again.
    let before = seen.lock().unwrap().len();
    t.stop().await;
    t.start_again().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again: Vec<String> = seen.lock().unwrap()[before..]
        .iter()
        .map(|s| s.path_and_query.clone())
        .collect();
    assert!(
        again.iter().all(|p| p.starts_with("/hook")),
        "only new audit events (the restart's own) may follow: {again:?}"
    );
    t.stop().await;
}

async fn a_failing_receiver_is_retried_then_given_up(db: &TestDb) {
    let (addr, seen) = receiver(Answer::status(500)).await;
    let t = with_channels(db, addr).await;
    let id = t.request(DANA, "device-code", 60).await;
    advance_until(
        &t,
        Duration::minutes(1),
        "the Teams message given up",
        || async {
            t.events(&format!("request={id}&action=notification_failed"))
                .await
                .iter()
                .any(|e| e["details"]["channel"] == "teams")
        },
    )
    .await;
    let failed = t
        .events(&format!("request={id}&action=notification_failed"))
        .await;
    let teams = failed
        .iter()
        .find(|e| e["details"]["channel"] == "teams")
        .unwrap();
    assert!(
        teams["details"]["error"].as_str().unwrap().contains("500")
            && !teams["details"].to_string().contains("secret-in-the-url"),
        "{teams}"
    );
    assert_eq!(teams["details"]["attempts"], 6);
    assert_eq!(
        posts(&seen, "/teams").len(),
        6,
        "six attempts, then no more"
    );
    // The portal keeps working.
    t.approve(MORGAN, &id).await;
    wait_added(&t, &id).await;
}

/// A receiver that never answers: each attempt gives up after `[notify] timeout`, is tried
/// again with backoff, and finally recorded as failed.
async fn a_receiver_that_never_answers_is_given_up(db: &TestDb) {
    let (addr, seen) = receiver(Answer::Never).await;
    let t = TestApp::spawn_configured(db, false, move |s| {
        format!(
            "{s}\n[notify]\nslack_webhook = \"http://{addr}/slack/T0/B0/x\"\ntimeout = \"1s\"\n"
        )
    })
    .await;
    let id = t.request(DANA, "device-code", 60).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let failed = t
            .events(&format!("request={id}&action=notification_failed"))
            .await;
        if let Some(e) = failed.first() {
            assert_eq!(e["details"]["channel"], "slack");
            assert_eq!(e["details"]["attempts"], 6);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never given up");
        t.advance(Duration::minutes(1));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(posts(&seen, "/slack").len(), 6);
    // Meanwhile the portal answered as always.
    t.approve(MORGAN, &id).await;
}

/// Issue 19, part 6: what a requester types reaches the deciders' chat as text: no Markdown
/// link in Teams, no mrkdwn or mention in Slack, and nothing invisible.
async fn what_requesters_typed_reaches_chat_as_text(db: &TestDb) {
    let (addr, seen) = receiver(Answer::status(200)).await;
    let t = with_channels(db, addr).await;
    t.create(
        DANA,
        serde_json::json!({
            "package": "device-code",
            "duration_minutes": 60,
            "justification": "[Approve here](https://evil.example) *now* <!here> @channel\r\nrelease \u{202e}gnitset",
        }),
    )
    .await;
    eventually("the Teams and Slack messages", || async {
        !posts(&seen, "/teams").is_empty() && !posts(&seen, "/slack").is_empty()
    })
    .await;
    let teams = json_of(&posts(&seen, "/teams")[0]);
    let body = &teams["attachments"][0]["content"]["body"];
    assert!(
        !teams.to_string().contains(r#""type":"TextBlock""#),
        "no Markdown-reading TextBlock: {teams}"
    );
    let text = body[1]["inlines"][0]["text"].as_str().unwrap();
    assert_eq!(body[1]["inlines"][0]["type"], "TextRun");
    assert!(
        text.contains(
            "[Approve here](https://evil.example) *now* <!here> @channel\nrelease <U+202E>gnitset"
        ),
        "{text:?}"
    );
    let slack = json_of(&posts(&seen, "/slack")[0]);
    assert_eq!(slack["mrkdwn"], false, "{slack}");
    let section = &slack["blocks"][1]["text"];
    assert_eq!(section["type"], "plain_text", "{slack}");
    assert!(
        section["text"].as_str().unwrap().contains(
            "[Approve here](https://evil.example) *now* &lt;!here&gt; ＠channel\nrelease &lt;U+202E&gt;gnitset"
        ),
        "{slack}"
    );
}

async fn email_through_a_real_smtp_server(db: &TestDb) {
    let Some(python) = smtp_python() else {
        return;
    };
    let sink = Sink::start(&python, Some(("jitgate", "relay password"))).await;
    let port = sink.port;
    let t = TestApp::spawn_configured(db, false, move |s| {
        format!(
            "{s}\n[notify.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
             username = \"jitgate\"\npassword = \"relay password\"\nfrom = \"jitgate@contoso.example\"\n"
        )
    })
    .await;
    let id = t.request(DANA, "device-code", 60).await;
    eventually("the message at the SMTP server", || async {
        !sink.received().is_empty()
    })
    .await;
    let got = sink.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let mut rcpt: Vec<String> = serde_json::from_value(got[0]["rcpt_tos"].clone()).unwrap();
    rcpt.sort();
    assert_eq!(
        rcpt,
        [
            "jordan@jitgate-demo.onmicrosoft.com",
            "morgan@jitgate-demo.onmicrosoft.com"
        ]
    );
    assert_eq!(got[0]["mail_from"], "jitgate@contoso.example");
    assert!(
        got[0]["subject"]
            .as_str()
            .unwrap()
            .contains("Dana Developer asks for"),
        "{}",
        got[0]
    );
    eventually("the delivery recorded", || async {
        !t.events(&format!("request={id}&action=notification_sent"))
            .await
            .is_empty()
    })
    .await;
    assert!(
        t.emulator.mail().is_empty(),
        "SMTP instead of Graph, not both"
    );
}

on_both_databases! {
    chat_and_webhook => chat_channels_and_the_signed_webhook;
    failing_receiver => a_failing_receiver_is_retried_then_given_up;
    silent_receiver => a_receiver_that_never_answers_is_given_up;
    smtp => email_through_a_real_smtp_server;
    typed_as_text => what_requesters_typed_reaches_chat_as_text;
}
