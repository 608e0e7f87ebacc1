//! Issue 21, part 1: break-glass. A package may let members of its break-glass groups take it at
//! once, without approval ("emergency": true): granted through the same outbox as an approval,
//! recorded as approved by nobody (`break-glass`), every admin and decider told at once on every
//! channel, then reviewed by another approver (justified or not, with a comment), reminded
//! halfway and escalated when the review is late; "not justified" is told to the manager. The
//! package's rules still apply, a token for the requests API never breaks the glass, and each
//! person may break it only so often.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use jitgate::emulator::SentMail;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::common::receivers::{Answer, Seen, receiver};
use crate::helpers::*;
use crate::on_both_databases;

const ON_CALL: &str = "7e57a11e-0000-4000-8000-0000000b9a55";
const FROM: &str = "alex@jitgate-demo.onmicrosoft.com";
const DANA_MAIL: &str = "dana@jitgate-demo.onmicrosoft.com";
const MORGAN_MAIL: &str = "morgan@jitgate-demo.onmicrosoft.com";
const JORDAN_MAIL: &str = "jordan@jitgate-demo.onmicrosoft.com";
const ALEX_MAIL: &str = "alex@jitgate-demo.onmicrosoft.com";
const BACKUP: &str = "backup-approver@contoso.example";

/// Break-glass on the first package (for the on-call group), `package` lines added to it, and
/// e-mail through Graph with `notify` lines added to `[notify]`.
async fn with_break_glass(db: &TestDb, package: &str, notify: &str) -> TestApp {
    let (package, notify) = (package.to_string(), notify.to_string());
    TestApp::spawn_configured(db, false, move |s| {
        let s = s.replacen(
            "max_duration = \"4h\"\n",
            &format!(
                "max_duration = \"4h\"\nbreak_glass = true\nbreak_glass_groups = [\"{ON_CALL}\"]\n{package}"
            ),
            1,
        );
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n{notify}")
    })
    .await
}

fn emergency(minutes: i64) -> Value {
    json!({"package": "device-code", "duration_minutes": minutes, "emergency": true,
        "justification": "INC0042: payments down, nobody awake to approve"})
}

fn mail_about(t: &TestApp, subject: &str) -> Vec<SentMail> {
    t.emulator
        .mail()
        .into_iter()
        .filter(|m| m.subject.contains(subject))
        .collect()
}

async fn one_mail(t: &TestApp, subject: &str) -> SentMail {
    eventually(&format!("a message about '{subject}'"), || async {
        !mail_about(t, subject).is_empty()
    })
    .await;
    let found = mail_about(t, subject);
    assert_eq!(found.len(), 1, "exactly once: {found:?}");
    found[0].clone()
}

/// Nothing about `subject` was sent (the sender had its chance).
async fn no_mail(t: &TestApp, subject: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(
        mail_about(t, subject).is_empty(),
        "{:?}",
        mail_about(t, subject)
    );
}

fn recipients(m: &SentMail) -> Vec<String> {
    let mut r: Vec<String> = m.recipients().cloned().collect();
    r.sort();
    r
}

fn posts(seen: &Arc<Mutex<Vec<Seen>>>, path: &str) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|s| s.path_and_query.starts_with(path))
        .map(|s| String::from_utf8_lossy(&s.body).to_string())
        .collect()
}

fn error_rule(v: &Value) -> &str {
    v["error"]["rule"].as_str().unwrap_or("")
}

async fn review(
    t: &TestApp,
    user: &str,
    id: &str,
    verdict: &str,
    comment: &str,
) -> (StatusCode, Value) {
    t.post(
        user,
        &format!("/api/v1/requests/{id}/break-glass/review"),
        json!({"verdict": verdict, "comment": comment}),
    )
    .await
}

/// The whole path: refused outside the break-glass group and beyond its limits; granted at once
/// inside them, recorded as approved by nobody, told to every admin and decider on every
/// channel (the package's own chat and the global one) with a BREAK-GLASS subject, and not as
/// a request to decide; then reviewed once, by another approver, and no longer counted.
async fn emergency_access_is_granted_at_once_told_and_reviewed(db: &TestDb) {
    let (addr, seen) = receiver(Answer::status(200)).await;
    let t = with_break_glass(
        db,
        &format!("teams_webhook = \"http://{addr}/pkg-teams\"\n"),
        &format!(
            "teams_webhook = \"http://{addr}/teams\"\nslack_webhook = \"http://{addr}/slack/T0/B0/x\"\n\
             webhook_url = \"http://{addr}/hook\"\nwebhook_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=\"\n"
        ),
    )
    .await;
    let p = t.get(DANA, "/api/v1/packages").await["packages"][0].clone();
    assert_eq!(p["break_glass"]["groups"], json!([ON_CALL]), "{p}");
    assert_eq!(p["break_glass"]["max_minutes"], 60);
    assert_eq!(p["break_glass"]["per_user"], "2/30d");
    assert!(
        p["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "break_glass_groups"),
        "{p}"
    );

    // Not in the on-call group: refused, recorded, nothing granted.
    let (s, v) = t.post(DANA, "/api/v1/requests", emergency(60)).await;
    assert_eq!(
        (s, error_rule(&v)),
        (StatusCode::FORBIDDEN, "break_glass_groups"),
        "{v}"
    );
    let refused = t.events("action=request_refused").await[0].clone();
    assert_eq!(
        refused["details"]["rule"], "break_glass_groups",
        "{refused}"
    );
    assert_eq!(refused["details"]["stage"], "break_glass");

    t.emulator.set_member(ON_CALL, DANA, true);
    // Longer than break_glass_max, or later: refused with the field named.
    let (s, v) = t.post(DANA, "/api/v1/requests", emergency(90)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "duration_minutes", "{v}");
    let mut later = emergency(30);
    later["starts_at"] = json!((t.clock.now() + Duration::hours(2)).to_rfc3339());
    let (s, v) = t.post(DANA, "/api/v1/requests", later).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "starts_at", "{v}");
    // A package without break-glass refuses it as invalid input.
    let mut other = emergency(30);
    other["package"] = json!("device-code-ticketed");
    other["ticket"] = json!("INC-1");
    let (s, v) = t.post(RILEY, "/api/v1/requests", other).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "emergency", "{v}");

    let (s, r) = t.post(DANA, "/api/v1/requests", emergency(60)).await;
    assert_eq!(
        (s, r["status"].clone()),
        (StatusCode::CREATED, json!("active")),
        "{r}"
    );
    assert_eq!(r["emergency"], true);
    assert_eq!(r["approvals"][0]["approver"]["id"], "break-glass", "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    wait_in_group(&t, DANA).await;
    wait_added(&t, &id).await;
    let actions = t.audit_actions(&id).await;
    for a in [
        "request_created",
        "request_approved",
        "break_glass_used",
        "grant_activated",
        "membership_added",
    ] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
    let approved = t
        .events(&format!("request={id}&action=request_approved"))
        .await[0]
        .clone();
    assert_eq!(approved["actor"]["id"], "break-glass", "{approved}");

    // Everyone who must know, at once, on every channel; nobody is asked to decide it.
    let alert = one_mail(&t, "BREAK-GLASS: Dana Developer took").await;
    assert_eq!(
        recipients(&alert),
        [ALEX_MAIL, JORDAN_MAIL, MORGAN_MAIL],
        "{alert:?}"
    );
    assert!(alert.body.contains("INC0042"), "{}", alert.body);
    eventually("the alert in every channel", || async {
        posts(&seen, "/hook")
            .iter()
            .any(|b| b.contains("break_glass_used"))
            && [("/pkg-teams"), ("/teams"), ("/slack")]
                .iter()
                .all(|p| posts(&seen, p).iter().any(|b| b.contains("BREAK-GLASS")))
    })
    .await;
    no_mail(&t, "Dana Developer asks for").await;
    no_mail(&t, "was approved").await;

    let used = t
        .get(AVERY, &format!("/api/v1/requests/{id}/break-glass"))
        .await;
    assert_eq!(used["review"], Value::Null, "{used}");
    assert_eq!(
        metric(&t, "jitgate_break_glass_unreviewed")
            .await
            .as_deref(),
        Some("1")
    );

    // Waiting for the approvers' review, in their queue (never the requester's own).
    let queue = t.get(MORGAN, "/api/v1/approvals").await;
    assert_eq!(
        queue["break_glass"][0]["request"]["id"],
        id.as_str(),
        "{queue}"
    );
    assert_eq!(queue["break_glass"][0]["overdue"], false);
    assert_eq!(queue["requests"], json!([]), "nothing to approve: {queue}");

    // Not by the one who used it, not by a non-approver, not without a comment.
    let (s, v) = review(&t, DANA, &id, "justified", "it was me, it was fine").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = review(&t, RILEY, &id, "justified", "looks fine to me").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = review(&t, MORGAN, &id, "justified", "  ").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "comment", "{v}");

    let (s, v) = review(
        &t,
        MORGAN,
        &id,
        "justified",
        "INC0042 was real; paged at 03:10",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["review"]["verdict"], "justified", "{v}");
    assert_eq!(v["review"]["reviewer"]["id"], MORGAN);
    // Once.
    let (s, v) = review(&t, JORDAN, &id, "not_justified", "second opinion").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let e = event_details(&t, &id, "break_glass_reviewed").await;
    assert_eq!(e["verdict"], "justified", "{e}");
    assert_eq!(
        metric(&t, "jitgate_break_glass_unreviewed")
            .await
            .as_deref(),
        Some("0")
    );
    let queue = t.get(JORDAN, "/api/v1/approvals").await;
    assert_eq!(queue["break_glass"], json!([]), "reviewed: {queue}");
    let told = one_mail(&t, "Your break-glass access to").await;
    assert_eq!(recipients(&told), [DANA_MAIL]);

    // Reviewed in time: no reminder, no escalation.
    t.advance(Duration::hours(25));
    no_mail(&t, "Review needed").await;
    no_mail(&t, "Review overdue").await;
    assert_eq!(t.verify().await["ok"], true);
}

/// A token for the requests API (which a device-code sign-in, and so a phished one, can hold)
/// never takes access without approval, whoever holds it; the attempt is recorded.
async fn a_requests_api_token_never_breaks_the_glass(db: &TestDb) {
    let t = with_break_glass(db, "", "").await;
    t.emulator.set_member(ON_CALL, DANA, true);
    let token = t.emulator.mint_token(jitgate::emulator::TokenSpec::new(
        DANA,
        &format!("api://{}", jitgate::emulator::demo::REQUESTS_API_ID),
    ));
    let res = t
        .http
        .post(format!("{}/api/v1/requests", t.url))
        .bearer_auth(token)
        .json(&emergency(30))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let v: Value = res.json().await.unwrap();
    assert_eq!(error_rule(&v), "break_glass", "{v}");
    let refused = t.events("action=request_refused").await[0].clone();
    assert_eq!(refused["details"]["rule"], "break_glass", "{refused}");
    assert_eq!(refused["details"]["via"], "requests_api", "{refused}");
    let mine = t.get(DANA, "/api/v1/requests?mine=true").await;
    assert_eq!(mine["requests"], json!([]), "{mine}");
    assert_eq!(t.member_writes(), 0);
}

/// `break_glass_per_user`: the uses of the last window count, ended ones too; once the oldest
/// leaves the window, one more is possible. The package's quotas apply as to an approval.
async fn each_person_breaks_the_glass_only_so_often(db: &TestDb) {
    let t = with_break_glass(
        db,
        "break_glass_per_user = \"1/7d\"\nmax_active = 1\nself_extend = true\n",
        "",
    )
    .await;
    t.emulator.set_member(ON_CALL, DANA, true);
    t.emulator.set_member(ON_CALL, RILEY, true);

    // Only for oneself: never asked on someone else's behalf.
    let mut for_dana = emergency(15);
    for_dana["on_behalf_of"] = json!([DANA_MAIL]);
    let (s, v) = t.post(MORGAN, "/api/v1/requests", for_dana).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "emergency", "{v}");

    let first = t.create(DANA, emergency(15)).await;
    wait_added(&t, &first).await;
    // Nobody approved it: an extension waits for a person, self_extend or not.
    let (s, v) = t
        .act(
            DANA,
            &first,
            "extend",
            json!({"minutes": 15, "justification": "the fix is still rolling out"}),
        )
        .await;
    assert_eq!(
        (s, v["extension"]["status"].clone()),
        (StatusCode::CREATED, json!("pending")),
        "{v}"
    );
    // The one place is taken: Riley's emergency is refused like an approval would be.
    let (s, v) = t.post(RILEY, "/api/v1/requests", emergency(15)).await;
    assert_eq!(
        (s, error_rule(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "max_active"),
        "{v}"
    );
    t.end(DANA, &first, Some("done")).await;
    wait_out_of_group(&t, DANA).await;

    t.advance(Duration::days(6));
    let (s, v) = t.post(DANA, "/api/v1/requests", emergency(15)).await;
    assert_eq!(
        (s, error_rule(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "break_glass_per_user"),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 time in the last 7d"),
        "{v}"
    );
    let refused = t.events("action=request_refused").await[0].clone();
    assert_eq!(
        refused["details"]["rule"], "break_glass_per_user",
        "{refused}"
    );
    // The usual way is still open.
    let usual = t.request(DANA, "device-code", 30).await;
    t.cancel(DANA, &usual).await;

    t.advance(Duration::days(1) + Duration::minutes(1));
    let again = t.create(DANA, emergency(15)).await;
    wait_added(&t, &again).await;
}

/// Nobody reviews it: the deciders and admins are reminded halfway, and at the due time it is
/// escalated to them and `escalate_to`; listed as overdue meanwhile. A "not justified" review is
/// told to the requester's manager (Morgan, for Dana) and the admins.
async fn unreviewed_use_is_reminded_escalated_and_not_justified_reaches_the_manager(db: &TestDb) {
    let t = with_break_glass(
        db,
        &format!("break_glass_review_within = \"4h\"\nescalate_to = [\"{BACKUP}\"]\n"),
        "",
    )
    .await;
    t.emulator.set_member(ON_CALL, DANA, true);
    let id = t.create(DANA, emergency(30)).await;
    one_mail(&t, "BREAK-GLASS: Dana Developer took").await;

    t.advance(Duration::minutes(119));
    no_mail(&t, "Review needed").await;
    t.advance(Duration::minutes(1));
    let reminder = one_mail(&t, "Review needed: BREAK-GLASS").await;
    assert_eq!(recipients(&reminder), [ALEX_MAIL, JORDAN_MAIL, MORGAN_MAIL]);
    no_mail(&t, "Review overdue").await;

    t.advance(Duration::hours(2));
    let escalation = one_mail(&t, "Review overdue: BREAK-GLASS").await;
    assert_eq!(
        recipients(&escalation),
        [ALEX_MAIL, BACKUP, JORDAN_MAIL, MORGAN_MAIL]
    );
    assert!(escalation.body.contains(&id), "{}", escalation.body);
    assert_eq!(
        metric(&t, "jitgate_break_glass_unreviewed")
            .await
            .as_deref(),
        Some("1")
    );

    let (s, v) = review(
        &t,
        JORDAN,
        &id,
        "not_justified",
        "no incident on record for this",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let e = event_details(&t, &id, "break_glass_reviewed").await;
    assert_eq!(
        (e["verdict"].clone(), e["late"].clone()),
        (json!("not_justified"), json!(true)),
        "{e}"
    );
    let manager = eventually_mail(&t, "BREAK-GLASS not justified", 2).await;
    let to_people = manager
        .iter()
        .find(|m| m.recipients().any(|r| r == DANA_MAIL))
        .expect("the requester and the manager are told");
    assert_eq!(recipients(to_people), [DANA_MAIL, MORGAN_MAIL]);
    assert!(
        to_people.body.contains("no incident on record"),
        "{}",
        to_people.body
    );
    assert!(
        manager.iter().any(|m| recipients(m) == [ALEX_MAIL]),
        "{manager:?}"
    );
}

/// The `n` messages about `subject`, once they are all there.
async fn eventually_mail(t: &TestApp, subject: &str, n: usize) -> Vec<SentMail> {
    eventually(&format!("{n} messages about '{subject}'"), || async {
        mail_about(t, subject).len() >= n
    })
    .await;
    let found = mail_about(t, subject);
    assert_eq!(found.len(), n, "{found:?}");
    found
}

on_both_databases! {
    told_and_reviewed => emergency_access_is_granted_at_once_told_and_reviewed;
    never_by_a_requests_api_token => a_requests_api_token_never_breaks_the_glass;
    per_user_window => each_person_breaks_the_glass_only_so_often;
    reminded_escalated_not_justified => unreviewed_use_is_reminded_escalated_and_not_justified_reaches_the_manager;
}

/// At the terminal: a device-code sign-in (a requests-API token) cannot break the glass and is
/// told to sign in with a browser; a browser sign-in can, `--emergency`; an approver reviews it
/// with `jitgate break-glass-review`, naming it by the first characters of its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_terminal() {
    use crate::terminal::Terminal;
    let db = TestDb::new(crate::common::db::Backend::Sqlite)
        .await
        .unwrap();
    let mut t = with_break_glass(&db, "", "").await;
    t.emulator.set_member(ON_CALL, DANA, true);
    let ask = [
        "request",
        "--package",
        "device-code",
        "--for",
        "30m",
        "--reason",
        "INC0042: payments down, nobody awake",
        "--emergency",
    ];

    let headless = Terminal::new(&t.url);
    headless.login_device_code(&t.emulator, DANA).await;
    let (code, _, err) = headless.run(&ask).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Sign in with a browser"), "{err}");

    let dana = Terminal::new(&t.url);
    dana.login_browser(&t.emulator, DANA).await;
    let (code, out, err) = dana.run(&ask).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Break-glass: granted without approval"),
        "{err}"
    );
    assert!(out.contains("Asked for device-code for 30m"), "{out}");
    let mine = t.get(DANA, "/api/v1/requests?mine=true").await;
    let id = mine["requests"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(mine["requests"][0]["emergency"], true, "{mine}");

    let morgan = Terminal::new(&t.url);
    morgan.login_browser(&t.emulator, MORGAN).await;
    let (_, listed, _) = morgan.run(&["approvals"]).await;
    assert!(
        listed.contains("BREAK-GLASS (no approval)") && listed.contains(&id[..8]),
        "{listed}"
    );
    let (code, out, err) = morgan
        .run(&[
            "break-glass-review",
            &id[..8],
            "--verdict",
            "not-justified",
            "--comment",
            "no incident on record",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("not justified"), "{out}");
    let used = t
        .get(AVERY, &format!("/api/v1/requests/{id}/break-glass"))
        .await;
    assert_eq!(used["review"]["verdict"], "not_justified", "{used}");

    t.stop().await;
    db.cleanup().await;
}
