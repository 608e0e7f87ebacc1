//! Access reviews (issue 21, part 3), from the start of a campaign to its applied result, with
//! the hand-driven clock: the first campaign at the first midnight after the package's reviews
//! were configured, its items (settings, standing members, people who held a grant), decisions
//! (never through the requests API, never about oneself), the reminders, the due date's
//! default, a standing member denied and so removed from the group through the outbox, a
//! person denied and so refused their next request until an admin restores them.

use chrono::{DateTime, Duration, Utc};
use jitgate::emulator::TokenSpec;
use jitgate::emulator::demo::REQUESTS_API_ID;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

/// The first package reviewed every 90 days (due in 14), with Sam as a standing member; the
/// others not reviewed. `by` and `default` are its `review_by` and `review_default`.
async fn spawn(db: &TestDb, by: &str, default: &str) -> TestApp {
    spawn_standing(db, by, default, &format!("\"{SAM}\"")).await
}

/// As [`spawn`], with `standing` as the package's standing members (TOML list items).
async fn spawn_standing(db: &TestDb, by: &str, default: &str, standing: &str) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        s.replacen("review_every = \"off\"\n", "", 1).replacen(
            "max_duration = \"4h\"",
            &format!(
                "max_duration = \"4h\"\nstanding_members = [{standing}]\nreview_every = \"90d\"\n\
                 review_within = \"14d\"\nreview_by = \"{by}\"\nreview_default = \"{default}\""
            ),
            1,
        ) + "\n[notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\n"
    })
    .await
}

const SAM: &str = jitgate::emulator::demo::SAM;

/// The next midnight (UTC) after `t`: when the first campaign starts.
fn next_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    jitgate::domain::review::first_start(t)
}

/// Waits until the scheduler has seen the package's reviews (its first pass), so that the
/// first campaign is due at the next midnight after now; returns that midnight.
async fn first_midnight(t: &TestApp) -> DateTime<Utc> {
    eventually("the reviews scheduled", || async {
        t.portal().next_review_at().await.is_some()
    })
    .await;
    let at = t.portal().next_review_at().await.unwrap();
    assert_eq!(at, next_midnight(t.clock.now()));
    at
}

/// The campaigns `user` sees.
async fn campaigns(t: &TestApp, user: &str) -> Vec<Value> {
    t.get(user, "/api/v1/reviews").await["campaigns"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits for the first campaign and returns its id.
async fn first_campaign(t: &TestApp) -> String {
    eventually("the first campaign to start", || async {
        !campaigns(t, ALEX).await.is_empty()
    })
    .await;
    campaigns(t, ALEX).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The item about `subject` (or the settings, for `None`) in campaign detail `d`.
fn item(d: &Value, subject: Option<&str>) -> Value {
    d["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| match subject {
            Some(s) => i["subject_id"] == s,
            None => i["kind"] == "settings",
        })
        .unwrap_or_else(|| panic!("no item about {subject:?} in {d}"))
        .clone()
}

async fn decide(
    t: &TestApp,
    user: &str,
    c: &str,
    item: &Value,
    decision: &str,
    why: &str,
) -> (StatusCode, Value) {
    t.post(
        user,
        &format!("/api/v1/reviews/{c}/items/{}/decide", item["id"]),
        json!({"decision": decision, "justification": why}),
    )
    .await
}

/// Moves the clock to `at` (forwards).
fn move_to(t: &TestApp, at: DateTime<Utc>) {
    let now = t.clock.now();
    if at > now {
        t.advance(at - now);
    }
}

fn mails_with(t: &TestApp, subject_part: &str) -> usize {
    t.emulator
        .mail()
        .iter()
        .filter(|m| m.subject.contains(subject_part))
        .count()
}

async fn a_review_from_start_to_applied_result(db: &TestDb) {
    let mut t = spawn(db, "deciders", "report").await;
    t.emulator.set_member(GROUP, SAM, true);
    let dana = t.granted(DANA, "device-code", 60, MORGAN).await;
    let riley = t.granted(RILEY, "device-code", 30, JORDAN).await;
    assert!(
        campaigns(&t, MORGAN).await.is_empty(),
        "nothing before midnight"
    );

    // The first midnight: the campaign starts, its reviewers are told.
    let start = first_midnight(&t).await;
    move_to(&t, start + Duration::minutes(1));
    let c = first_campaign(&t).await;
    let d = t.get(MORGAN, &format!("/api/v1/reviews/{c}")).await;
    assert_eq!(d["campaign"]["status"], "open");
    assert_eq!(d["campaign"]["package"], "device-code");
    assert_eq!(at(&d["campaign"]["starts_at"]), start);
    assert_eq!(at(&d["campaign"]["due_at"]), start + Duration::days(14));
    assert_eq!(d["whole"], true);
    assert_eq!(d["items"].as_array().unwrap().len(), 4, "{d}");
    let settings = item(&d, None);
    assert!(
        settings["details"]["posture"]["detail"].is_string(),
        "{settings}"
    );
    assert_eq!(
        settings["details"]["settings"]["standing_members"],
        json!([SAM])
    );
    let sam = item(&d, Some(SAM));
    assert_eq!(sam["kind"], "standing");
    let dana_item = item(&d, Some(DANA));
    assert_eq!(dana_item["kind"], "person");
    let grants = dana_item["details"]["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0]["request_id"], dana.as_str());
    assert_eq!(grants[0]["justification"], "deploying the CI runner");
    assert_eq!(grants[0]["minutes"], 60);
    let riley_item = item(&d, Some(RILEY));
    assert_eq!(
        riley_item["details"]["grants"][0]["request_id"],
        riley.as_str()
    );
    assert!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["may_decide"] == true)
    );
    eventually("the reviewers told of the start", || async {
        mails_with(&t, "please review by") > 0
    })
    .await;
    // Requesters see nothing of a review decided by the deciders.
    assert!(campaigns(&t, DANA).await.is_empty());
    let (status, _) = t.try_get(Some(DANA), &format!("/api/v1/reviews/{c}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Who may decide: not Dana (no reviewer), not through the requests API, not without a
    // justification or with a word Entra does not use; nothing changes.
    let (status, _) = decide(&t, DANA, &c, &riley_item, "Approve", "fine").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let phished = t
        .emulator
        .mint_token(TokenSpec::new(MORGAN, &format!("api://{REQUESTS_API_ID}")));
    let resp = t
        .http
        .post(format!(
            "{}/api/v1/reviews/{c}/items/{}/decide",
            t.url, sam["id"]
        ))
        .bearer_auth(phished)
        .json(&json!({"decision": "Approve", "justification": "keep"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (status, body) = decide(&t, MORGAN, &c, &sam, "Deny", "  ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = decide(&t, MORGAN, &c, &sam, "Maybe", "hm").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(t.events("action=review_decided").await.is_empty());

    // Morgan denies Sam's standing membership and Dana, confirms the settings; Riley is left.
    let (status, body) = decide(&t, MORGAN, &c, &sam, "Approve", "first thought").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = decide(&t, MORGAN, &c, &sam, "Deny", "The device was retired").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decision"], "Deny");
    let (status, _) = decide(&t, MORGAN, &c, &dana_item, "Deny", "Left the team").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = decide(
        &t,
        JORDAN,
        &c,
        &settings,
        "Approve",
        "=HYPERLINK(\"x\") matches the policy",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let decided = t.events("action=review_decided").await;
    assert_eq!(decided.len(), 4);
    assert_eq!(decided[0]["details"]["decision"], "Approve");
    assert_eq!(decided[1]["details"]["previous_decision"], Value::Null);
    assert_eq!(decided[2]["details"]["previous_decision"], "Approve");
    assert_eq!(decided[1]["subject"], DANA);

    // Halfway, and two days before the due date, those with items waiting are reminded.
    move_to(&t, start + Duration::days(7) + Duration::minutes(1));
    eventually("the halfway reminder", || async {
        mails_with(&t, "Reminder: the access review") > 0
    })
    .await;
    let halfway = mails_with(&t, "Reminder: the access review");
    move_to(&t, start + Duration::days(12) + Duration::minutes(1));
    eventually("the reminder two days before", || async {
        mails_with(&t, "Reminder: the access review") > halfway
    })
    .await;
    assert!(t.is_member(SAM), "nothing applied before the due date");
    // Dana asks for a grant starting after the due date; it is approved before it.
    let later = t
        .create(
            DANA,
            json!({"package": "device-code", "duration_minutes": 60,
                   "justification": "deploying the CI runner",
                   "starts_at": (start + Duration::days(15)).to_rfc3339()}),
        )
        .await;
    t.approve(MORGAN, &later).await;

    // The due date: Riley takes the default (reported), Sam's removal and Dana's revocation
    // are applied, the campaign closes.
    move_to(&t, start + Duration::days(14) + Duration::minutes(1));
    eventually("the campaign to close", || async {
        t.get(ALEX, &format!("/api/v1/reviews/{c}")).await["campaign"]["status"] == "closed"
    })
    .await;
    wait_out_of_group(&t, SAM).await;
    let d = t.get(AVERY, &format!("/api/v1/reviews/{c}")).await;
    assert_eq!(item(&d, Some(SAM))["outcome"], "removed");
    assert_eq!(item(&d, Some(DANA))["outcome"], "revoked");
    assert_eq!(item(&d, None)["outcome"], "confirmed");
    let riley_item = item(&d, Some(RILEY));
    assert_eq!(riley_item["outcome"], "reported");
    assert_eq!(riley_item["by_default"], true);
    assert!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["may_decide"] == false)
    );
    let (status, _) = decide(&t, MORGAN, &c, &riley_item, "Approve", "late").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let applied = t.events("action=review_applied").await;
    assert_eq!(applied.len(), 4);
    let closed = t.events("action=review_closed").await;
    assert_eq!(closed[0]["details"]["removed"], 1);
    assert_eq!(closed[0]["details"]["revoked"], 1);
    assert_eq!(closed[0]["details"]["reported"], 1);
    eventually("the close told", || async { mails_with(&t, "closed") > 0 }).await;

    // Her approved grant does not start: it fails, naming the review.
    move_to(&t, start + Duration::days(15) + Duration::minutes(1));
    wait_status(&t, &later, "failed").await;
    let reason = t.status_of(&later).await["close_reason"].clone();
    assert!(
        reason.as_str().unwrap().contains("Left the team"),
        "{reason}"
    );
    assert!(!t.is_member(DANA));

    // Dana is refused her next request, naming the review and its reason ...
    let (status, body) = t
        .post(DANA, "/api/v1/requests", json!({"package": "device-code", "duration_minutes": 60, "justification": "deploying the CI runner"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("access review") && msg.contains("Left the team"),
        "{msg}"
    );
    // ... until an admin restores her, with a reason (approvers may not).
    let list = t.get(AVERY, "/api/v1/reviews/revocations").await;
    assert_eq!(list["revocations"][0]["user_id"], DANA);
    let restore = json!({"package": "device-code", "user_id": DANA, "reason": "Back on the team"});
    let (status, _) = t
        .post(
            MORGAN,
            "/api/v1/reviews/revocations/restore",
            restore.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = t
        .post(
            ALEX,
            "/api/v1/reviews/revocations/restore",
            json!({"package": "device-code", "user_id": DANA, "reason": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = t
        .post(ALEX, "/api/v1/reviews/revocations/restore", restore.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = t
        .post(ALEX, "/api/v1/reviews/revocations/restore", restore)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "restored once");
    t.request(DANA, "device-code", 60).await;
    assert_eq!(t.events("action=review_restored").await.len(), 1);

    // The export an auditor files: CSV (formulas neutralised) and JSON.
    let csv = t
        .http_as(
            Some(AVERY),
            Method::GET,
            &format!("/api/v1/reviews/{c}/export?format=csv"),
        )
        .body_text()
        .await;
    assert!(csv.starts_with("campaign,package,"), "{csv}");
    assert!(
        csv.contains("The device was retired")
            && csv.contains("removed")
            && csv.contains("'=HYPERLINK"),
        "{csv}"
    );
    let json_export: Value = serde_json::from_str(
        &t.http_as(
            Some(AVERY),
            Method::GET,
            &format!("/api/v1/reviews/{c}/export?format=json"),
        )
        .body_text()
        .await,
    )
    .unwrap();
    assert_eq!(json_export["items"].as_array().unwrap().len(), 4);
    let (status, _) = t
        .try_get(Some(DANA), &format!("/api/v1/reviews/{c}/export"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Sam is no longer standing: the Operations page says so.
    let admin = principal(ALEX, &["Admin"]);
    let ops = t.portal().operations(&admin).await.unwrap();
    assert_eq!(ops.reconciliation.standing[0].2, Vec::<String>::new());
    assert_eq!(ops.reconciliation.standing_removed[0].member_id, SAM);

    // The next campaign starts 90 days after this one.
    move_to(&t, start + Duration::days(90) + Duration::minutes(1));
    eventually("the second campaign", || async {
        campaigns(&t, ALEX).await.len() == 2
    })
    .await;
    assert_eq!(t.verify().await["ok"], true);
    t.stop().await;

    // Until an admin changes the file's list: then the file has the word again.
    let mut t = spawn_standing(db, "deciders", "report", &format!("\"{SAM}\", \"{RILEY}\"")).await;
    let ops = t.portal().operations(&admin).await.unwrap();
    assert_eq!(ops.reconciliation.standing[0].2, [SAM, RILEY]);
    assert!(ops.reconciliation.standing_removed.is_empty());
    t.stop().await;
}

async fn self_attestation_removes_those_who_do_not_answer(db: &TestDb) {
    let mut t = spawn(db, "self", "remove").await;
    t.granted(DANA, "device-code", 60, MORGAN).await;
    t.granted(RILEY, "device-code", 30, MORGAN).await;
    let start = first_midnight(&t).await;
    move_to(&t, start + Duration::minutes(1));
    let c = first_campaign(&t).await;

    // Each person sees their own item only; the deciders cannot answer for them, and a person
    // cannot review the standing members.
    let mine = t.get(DANA, &format!("/api/v1/reviews/{c}")).await;
    assert_eq!(mine["whole"], false);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let dana_item = item(&mine, Some(DANA));
    assert_eq!(dana_item["may_decide"], true);
    assert_eq!(campaigns(&t, DANA).await[0]["waiting"], 1);
    let whole = t.get(MORGAN, &format!("/api/v1/reviews/{c}")).await;
    let (status, _) = decide(
        &t,
        MORGAN,
        &c,
        &item(&whole, Some(RILEY)),
        "Approve",
        "I vouch",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = decide(&t, DANA, &c, &item(&whole, Some(SAM)), "Deny", "not mine").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = decide(
        &t,
        DANA,
        &c,
        &dana_item,
        "Approve",
        "Still run the CI runner",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually("each person asked", || async {
        mails_with(&t, "do you still need it?") >= 2
    })
    .await;

    // Riley does not answer: at the due date Riley is revoked (review_default = "remove");
    // Sam, undecided, is removed as well.
    move_to(&t, start + Duration::days(14) + Duration::minutes(1));
    eventually("the campaign to close", || async {
        t.get(ALEX, &format!("/api/v1/reviews/{c}")).await["campaign"]["status"] == "closed"
    })
    .await;
    let d = t.get(ALEX, &format!("/api/v1/reviews/{c}")).await;
    assert_eq!(item(&d, Some(DANA))["outcome"], "kept");
    assert_eq!(item(&d, Some(RILEY))["outcome"], "revoked");
    assert_eq!(item(&d, Some(RILEY))["by_default"], true);
    assert_eq!(item(&d, Some(SAM))["outcome"], "removed");
    let (status, _) = t
        .post(RILEY, "/api/v1/requests", json!({"package": "device-code", "duration_minutes": 60, "justification": "deploying the CI runner"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.request(DANA, "device-code", 60).await;
    t.stop().await;
}

/// `jitgate reviews list`, `show` and `decide` from a reviewer's terminal; a device-code
/// sign-in (a requests-API token, which may have been phished) decides nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_lists_shows_and_decides() {
    use crate::terminal::Terminal;
    let db = TestDb::new(crate::common::db::Backend::Sqlite)
        .await
        .unwrap();
    let mut t = spawn(&db, "deciders", "report").await;
    t.granted(DANA, "device-code", 60, MORGAN).await;
    move_to(&t, first_midnight(&t).await + Duration::minutes(1));
    let c = first_campaign(&t).await;
    let d = t.get(MORGAN, &format!("/api/v1/reviews/{c}")).await;
    let dana_item = item(&d, Some(DANA))["id"].to_string();

    let morgan = Terminal::new(&t.url);
    morgan.login_browser(&t.emulator, MORGAN).await;
    let list: jitgate::contract::ReviewList =
        serde_json::from_value(morgan.json(&["reviews", "list"]).await).unwrap();
    assert_eq!(list.campaigns.len(), 1);
    assert_eq!(list.campaigns[0].waiting, 3);
    let (code, out, err) = morgan.run(&["reviews", "show", &c]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Dana Developer") && out.contains("(yours to decide)"),
        "{out}"
    );
    let decided = morgan
        .json(&[
            "reviews",
            "decide",
            &c,
            &dana_item,
            "--decision",
            "Deny",
            "--reason",
            "Left the team",
        ])
        .await;
    assert_eq!(decided["decision"], "Deny");
    let (code, _, err) = morgan
        .run(&[
            "reviews",
            "decide",
            &c,
            &dana_item,
            "--decision",
            "Perhaps",
            "--reason",
            "hm",
        ])
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("Approve, Deny or DontKnow"), "{err}");

    // Signed in by device code, Morgan's token reaches only the requests API: refused.
    let phone = Terminal::new(&t.url);
    phone.login_device_code(&t.emulator, MORGAN).await;
    let (code, _, err) = phone
        .run(&[
            "reviews",
            "decide",
            &c,
            &dana_item,
            "--decision",
            "Approve",
            "--reason",
            "ok",
        ])
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("requests API"), "{err}");
    let d = t.get(ALEX, &format!("/api/v1/reviews/{c}")).await;
    assert_eq!(item(&d, Some(DANA))["decision"], "Deny");
    t.stop().await;
    db.cleanup().await;
}

on_both_databases! {
    review_start_to_applied_result => a_review_from_start_to_applied_result;
    self_attestation => self_attestation_removes_those_who_do_not_answer;
}
