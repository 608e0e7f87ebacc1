//! Sign-ins on the grant's timeline (issue 10): the sign-in reader finds device-code sign-ins in
//! the emulated tenant's sign-in log; one during a grant lands on its timeline and its page, one
//! blocked by Conditional Access outside any grant on the Operations page; a one-shot package's
//! grant ends `end_after_first_sign_in` after the first sign-in is seen.

use chrono::Duration;
use jitgate::emulator::demo::{CLI_CLIENT_ID, CLIENT_ID, REQUESTS_API_ID, TENANT_ID};
use jitgate::emulator::{DeviceLogin, SignInQuirk};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

async fn spawn(db: &TestDb, package: &str) -> TestApp {
    let package = package.to_string();
    TestApp::spawn_configured(db, false, move |s| {
        let s = s.replacen(
            "max_duration = \"4h\"\n",
            &format!("max_duration = \"4h\"\n{package}"),
            1,
        );
        format!("{s}\n[sign_ins]\nevery = \"1m\"\nlookback = \"2h\"\n")
    })
    .await
}

/// Moves the portal's and the emulated tenant's clocks on together.
fn advance(t: &TestApp, by: Duration) {
    t.emulator.advance(by);
    t.advance(by);
}

/// Moves both clocks on a minute at a time (the reader reads every minute) until `check` holds.
async fn read_until<F, Fut>(t: &TestApp, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..60 {
        advance(t, Duration::minutes(1));
        for _ in 0..10 {
            if check().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
    }
    panic!("timed out waiting for: {what}");
}

/// A device-code sign-in by `user` through the emulated tenant: asked for by the CLI client,
/// completed on the device-login page.
async fn device_code_sign_in(t: &TestApp, user: &str) -> DeviceLogin {
    device_code_sign_in_to(t, user, "openid profile").await
}

/// The same, for `scope`.
async fn device_code_sign_in_to(t: &TestApp, user: &str, scope: &str) -> DeviceLogin {
    let started: serde_json::Value = t
        .http
        .post(format!(
            "{}/{TENANT_ID}/oauth2/v2.0/devicecode",
            t.emulator.base_url()
        ))
        .form(&[("client_id", CLI_CLIENT_ID), ("scope", scope)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = started["user_code"].as_str().unwrap();
    t.emulator.complete_device_login(code, user).unwrap()
}

async fn sign_ins_land_on_the_grant_and_blocks_on_operations(db: &TestDb) {
    let t = spawn(db, "").await;
    // Before any grant: blocked, and listed for the admins.
    assert_eq!(device_code_sign_in(&t, DANA).await, DeviceLogin::Blocked);
    read_until(&t, "the blocked sign-in on the Operations page", || async {
        let page = t
            .fetch(Some(ALEX), "/operations")
            .await
            .text()
            .await
            .unwrap();
        page.contains("dana@jitgate-demo.onmicrosoft.com")
    })
    .await;

    // During the grant: signed in, on the grant's timeline and page.
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    wait_in_group(&t, DANA).await;
    advance(&t, Duration::minutes(1));
    assert_eq!(device_code_sign_in(&t, DANA).await, DeviceLogin::SignedIn);
    read_until(&t, "the sign-in on the grant", || async {
        t.get(DANA, &format!("/api/v1/requests/{id}/sign-ins"))
            .await["sign_ins"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    })
    .await;
    let listed = t
        .get(DANA, &format!("/api/v1/requests/{id}/sign-ins"))
        .await;
    let s = &listed["sign_ins"][0];
    assert_eq!(s["error_code"], 0);
    assert_eq!(s["app_id"], CLI_CLIENT_ID);
    let e = event_details(&t, &id, "device_code_sign_in").await;
    assert_eq!(e["result"], "signed in");
    let page = t
        .fetch(Some(MORGAN), &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("grant-sign-ins"), "{page}");
    // Read again: kept once.
    advance(&t, Duration::minutes(1));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        t.events(&format!("request={id}&action=device_code_sign_in"))
            .await
            .len(),
        1
    );

    // After the grant: blocked again.
    let (status, _) = t.end(DANA, &id, None).await;
    assert!(status.is_success());
    wait_out_of_group(&t, DANA).await;
    advance(&t, Duration::minutes(1));
    assert_eq!(device_code_sign_in(&t, DANA).await, DeviceLogin::Blocked);

    // Her next request shows approvers her past use next to it.
    let next = t.request(DANA, "device-code", 60).await;
    let page = t
        .fetch(Some(MORGAN), "/approvals")
        .await
        .text()
        .await
        .unwrap();
    let row = page
        .split(&format!("data-request-id=\"{next}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no row for {next}: {page}"));
    let row = row.split("</tr>").next().unwrap();
    assert!(
        row.contains("1 device-code sign-in in the last 30 days"),
        "{row}"
    );
}

async fn one_shot_windows_end_after_the_first_sign_in(db: &TestDb) {
    let t = spawn(db, "end_after_first_sign_in = \"10m\"\n").await;
    let id = t.granted(DANA, "device-code", 120, MORGAN).await;
    wait_in_group(&t, DANA).await;
    // Signing the command line in to jitgate by device code (the requests API, which the block
    // excludes, or the portal's own API, which a member of the group reaches) is no use of the
    // exemption: read, kept as a sign-in to jitgate, on no grant, starting no one-shot end.
    for api in [
        format!("openid profile offline_access api://{REQUESTS_API_ID}/access_as_requester"),
        format!("openid profile offline_access api://{CLIENT_ID}/access_as_user"),
    ] {
        assert_eq!(
            device_code_sign_in_to(&t, DANA, &api).await,
            DeviceLogin::SignedIn
        );
    }
    read_until(&t, "both sign-ins to jitgate kept", || async {
        t.events(&format!("subject={DANA}&action=portal_sign_in"))
            .await
            .len()
            == 2
    })
    .await;
    assert!(
        t.events(&format!("request={id}&action=device_code_sign_in"))
            .await
            .is_empty()
    );
    assert_eq!(t.status_of(&id).await["duration_minutes"], 120);
    advance(&t, Duration::minutes(2));
    assert_eq!(device_code_sign_in(&t, DANA).await, DeviceLogin::SignedIn);
    // The sign-in's own time, as the log has it.
    let first = t.emulator.sign_ins().last().unwrap().created;
    let shortened = {
        read_until(&t, "the grant shortened", || async {
            !t.events(&format!("request={id}&action=grant_shortened"))
                .await
                .is_empty()
        })
        .await;
        event_details(&t, &id, "grant_shortened").await
    };
    let end = at(&t.status_of(&id).await["ends_at"]);
    assert_eq!(
        end.timestamp_millis(),
        (first + Duration::minutes(10)).timestamp_millis(),
        "{shortened}"
    );
    advance(&t, Duration::minutes(10));
    wait_status(&t, &id, "expired").await;
    wait_out_of_group(&t, DANA).await;
}

/// Issue 19, item 4: a one-shot package that lets requesters extend themselves. Before the first
/// sign-in an extension takes effect at once; after it, an extension waits for an approver and
/// the one-shot end stays the end until one approves, which lifts it on the record.
async fn one_shot_self_extension_after_the_first_sign_in_needs_an_approver(db: &TestDb) {
    let t = spawn(
        db,
        "end_after_first_sign_in = \"10m\"\nself_extend = true\nmax_extension = \"2h\"\n",
    )
    .await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    wait_in_group(&t, DANA).await;
    let extend = |minutes: i64| {
        let path = format!("/api/v1/requests/{id}/extend");
        let t = &t;
        async move {
            t.post(
                DANA,
                &path,
                serde_json::json!({"minutes": minutes, "justification": "the rollout runs late"}),
            )
            .await
        }
    };
    // Before any sign-in: self-extended at once, as the package allows.
    let (status, body) = extend(15).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["extension"]["status"], "approved", "{body}");

    advance(&t, Duration::minutes(1));
    assert_eq!(device_code_sign_in(&t, DANA).await, DeviceLogin::SignedIn);
    let first = t.emulator.sign_ins().last().unwrap().created;
    read_until(&t, "the grant shortened", || async {
        !t.events(&format!("request={id}&action=grant_shortened"))
            .await
            .is_empty()
    })
    .await;
    let one_shot_end = first + Duration::minutes(10);
    let ends_at = || async { at(&t.status_of(&id).await["ends_at"]).timestamp_millis() };
    assert_eq!(ends_at().await, one_shot_end.timestamp_millis());

    // After it: the extension waits for an approver, and the one-shot end stays.
    let (status, body) = extend(30).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["extension"]["status"], "pending", "{body}");
    assert_eq!(
        ends_at().await,
        one_shot_end.timestamp_millis(),
        "the cap stays"
    );
    let asked = event_details(&t, &id, "extension_requested").await;
    assert_eq!(asked["self_extend"], false, "{asked}");
    assert_eq!(
        at(&asked["one_shot_end"]).timestamp_millis(),
        one_shot_end.timestamp_millis(),
        "{asked}"
    );
    // The approvers are asked, as for any extension that needs them.
    let queue = t.get(MORGAN, "/api/v1/approvals").await;
    assert!(queue.to_string().contains(&id), "{queue}");
    // The requester cannot approve it herself.
    let (status, _) = t
        .post(
            DANA,
            &format!("/api/v1/requests/{id}/extension/approve"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 403);

    // An approver's approval lifts the one-shot end, on the record.
    let (status, body) = t
        .post(
            JORDAN,
            &format!("/api/v1/requests/{id}/extension/approve"),
            serde_json::json!({"comment": "one more deploy"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["extension"]["status"], "approved", "{body}");
    assert_eq!(
        ends_at().await,
        (one_shot_end + Duration::minutes(30)).timestamp_millis()
    );
    let approved = event_details(&t, &id, "extension_approved").await;
    assert_eq!(approved["lifts_one_shot_end"], true, "{approved}");
    assert_eq!(
        at(&approved["one_shot_end"]).timestamp_millis(),
        one_shot_end.timestamp_millis(),
        "{approved}"
    );
}

/// The value of the metric sample `name` (no labels) on `/metrics`.
async fn metric(t: &TestApp, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("{}/metrics", t.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// One malformed entry does not cost the reading its others (issue 19, item 7): an entry
/// without `createdDateTime` is skipped and counted once, however often it is read again; one
/// whose `status.errorCode` is the string "0" is read as the success it is.
async fn a_malformed_entry_is_skipped_and_the_rest_kept(db: &TestDb) {
    let t = spawn(db, "").await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    wait_in_group(&t, DANA).await;
    // Entra's log delay: the entries show only once they are out of shape.
    t.emulator
        .set_sign_in_log_delay(std::time::Duration::from_secs(600));
    for _ in 0..3 {
        advance(&t, Duration::minutes(1));
        assert_eq!(device_code_sign_in(&t, DANA).await, DeviceLogin::SignedIn);
    }
    let logged: Vec<String> = t.emulator.sign_ins().into_iter().map(|s| s.id).collect();
    let [good, undated, as_text] = &logged[logged.len() - 3..] else {
        unreachable!()
    };
    t.emulator
        .set_sign_in_quirk(undated, Some(SignInQuirk::NoCreatedDateTime));
    t.emulator
        .set_sign_in_quirk(as_text, Some(SignInQuirk::ErrorCodeAsString));
    read_until(&t, "the two readable sign-ins on the grant", || async {
        t.get(DANA, &format!("/api/v1/requests/{id}/sign-ins"))
            .await["sign_ins"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    })
    .await;
    let listed = t
        .get(DANA, &format!("/api/v1/requests/{id}/sign-ins"))
        .await;
    let kept: Vec<(&str, i64)> = listed["sign_ins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["error_code"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        kept,
        [(good.as_str(), 0), (as_text.as_str(), 0)],
        "{listed}"
    );
    // Read again and again: still counted once.
    for _ in 0..3 {
        advance(&t, Duration::minutes(1));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&t, "jitgate_sign_ins_unreadable_total").await,
        Some(1.0)
    );
    assert_eq!(
        t.events(&format!("request={id}&action=device_code_sign_in"))
            .await
            .len(),
        2
    );
}

on_both_databases! {
    sign_ins_on_the_grant => sign_ins_land_on_the_grant_and_blocks_on_operations;
    one_shot => one_shot_windows_end_after_the_first_sign_in;
    one_shot_self_extension => one_shot_self_extension_after_the_first_sign_in_needs_an_approver;
    malformed_entry => a_malformed_entry_is_skipped_and_the_rest_kept;
}
