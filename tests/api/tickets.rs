//! A package's ticket rule (issue 20): the whole ticket must match `ticket_pattern`, and
//! `ticket_hint` says in words what one looks like, on the form, in `GET /api/v1/packages` and in
//! the refusal.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const HINT: &str = "A change or incident number, e.g. CHG0012345";

async fn with_ticket_rule(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        s.replacen(
            "id = \"device-code\"\n",
            &format!(
                "id = \"device-code\"\nticket_pattern = \"(CHG|INC)[0-9]{{7}}\"\nticket_hint = \"{HINT}\"\n"
            ),
            1,
        )
    })
    .await
}

async fn a_ticket_of_the_wrong_form_is_refused_with_the_hint(db: &TestDb) {
    let t = with_ticket_rule(db).await;
    let ask = |ticket: Option<&str>| {
        let mut body = json!({"package": "device-code", "duration_minutes": 60,
            "justification": "deploying the CI runner"});
        if let Some(x) = ticket {
            body["ticket"] = json!(x);
        }
        body
    };
    // Known before asking: the rule is in the package list and on the form.
    let packages = t.get(DANA, "/api/v1/packages").await;
    let p = packages["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "device-code")
        .unwrap()
        .clone();
    assert_eq!(
        p["ticket_required"], true,
        "a pattern implies a ticket: {p}"
    );
    assert_eq!(p["ticket_pattern"], "(CHG|INC)[0-9]{7}");
    assert_eq!(p["ticket_hint"], HINT);
    let page = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(page.contains(HINT), "the form shows the hint");

    let before = t.audit_count().await;
    for (ticket, why) in [
        (None, "no ticket"),
        (Some("CHG-42"), "the wrong form"),
        (Some("xCHG0012345"), "more than the pattern"),
    ] {
        let (status, body) = t.post(DANA, "/api/v1/requests", ask(ticket)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {body}");
        assert_eq!(
            body["error"]["fields"][0]["field"], "ticket",
            "{why}: {body}"
        );
    }
    let (_, body) = t.post(DANA, "/api/v1/requests", ask(Some("CHG-42"))).await;
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with(HINT),
        "{body}"
    );
    assert!(
        t.events("action=request_created").await.is_empty(),
        "nothing was asked"
    );
    // Each ticket of the wrong form is the rule refusing, in the audit trail; a missing one is
    // plain invalid input.
    assert_eq!(t.audit_count().await, before + 3);
    let refused = t.events("action=request_refused").await;
    assert!(
        refused
            .iter()
            .all(|e| e["details"]["rule"] == "ticket_pattern")
    );

    let (status, body) = t
        .post(DANA, "/api/v1/requests", ask(Some(" INC0012345 ")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["ticket"], "INC0012345");
}

on_both_databases! {
    ticket_pattern => a_ticket_of_the_wrong_form_is_refused_with_the_hint;
}
