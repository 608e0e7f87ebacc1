//! Issue 21, part 2: requests on behalf of people and device accounts. Who may ask so (and
//! never with a requests-API token), one request per person named with each answered on its
//! own, every rule checked against the person it is for (a device account with a directory
//! role refused), neither the asker nor the person it is for deciding it, the person told, and
//! the audit trail naming both.

use jitgate::emulator::demo::{REQUESTS_API_ID, SCANNER_07, SCANNER_08, USER_ADMINISTRATOR};
use jitgate::emulator::{RoleGiven, SentMail, TokenSpec};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const FROM: &str = "alex@jitgate-demo.onmicrosoft.com";
const SCANNER_07_UPN: &str = "scanner-07@jitgate-demo.onmicrosoft.com";
const SCANNER_08_UPN: &str = "scanner-08@jitgate-demo.onmicrosoft.com";
const DANA_UPN: &str = "dana@jitgate-demo.onmicrosoft.com";
const MORGAN_MAIL: &str = "morgan@jitgate-demo.onmicrosoft.com";

async fn with_email(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n")
    })
    .await
}

fn ask(package: &str, named: &[&str]) -> Value {
    json!({
        "package": package,
        "duration_minutes": 60,
        "justification": "warehouse scanners re-enrolled",
        "ticket": "INC-7",
        "on_behalf_of": named,
    })
}

/// The results of an ask on others' behalf, by the name given.
fn result<'a>(answer: &'a Value, named: &str) -> &'a Value {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {answer}"))
        .iter()
        .find(|r| r["on_behalf_of"] == named)
        .unwrap_or_else(|| panic!("no result for {named}: {answer}"))
}

fn mail_about(t: &TestApp, subject: &str) -> Vec<SentMail> {
    t.emulator
        .mail()
        .into_iter()
        .filter(|m| m.subject.contains(subject))
        .collect()
}

async fn who_may_ask_on_behalf(t: &mut TestApp) {
    // A requester may not, nor may anyone through the requests API, whatever their roles.
    let (status, body) = t
        .post(
            DANA,
            "/api/v1/requests",
            ask("device-code", &[SCANNER_07_UPN]),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RequesterOnBehalf"),
        "{body}"
    );
    let phished = t
        .emulator
        .mint_token(TokenSpec::new(ALEX, &format!("api://{REQUESTS_API_ID}")));
    let resp = t
        .http
        .post(format!("{}/api/v1/requests", t.url))
        .bearer_auth(&phished)
        .json(&ask("device-code", &[SCANNER_07_UPN]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = t
        .http
        .get(format!("{}/api/v1/people?search=scanner", t.url))
        .bearer_auth(&phished)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(t.audit_actions_total("request_created").await, 0);

    // The holders of the requester_on_behalf role may, as admins and approvers do.
    t.emulator.set_roles(RILEY, &["RequesterOnBehalf"]);
    let (status, body) = t
        .post(
            RILEY,
            "/api/v1/requests",
            ask("device-code", &[SCANNER_07_UPN]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let one = result(&body, SCANNER_07_UPN);
    assert_eq!(one["status"], 201, "{body}");
    assert_eq!(one["request"]["requester"]["id"], SCANNER_07);
    assert_eq!(one["request"]["asked_by"]["id"], RILEY);
    // ... and find people to ask for; nobody else may search the directory.
    let found = t.get(RILEY, "/api/v1/people?search=scan").await;
    let names: Vec<&str> = found["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, [SCANNER_07_UPN, SCANNER_08_UPN], "{found}");
    let (status, _) = t.try_get(Some(DANA), "/api/v1/people?search=scan").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = t.try_get(Some(RILEY), "/api/v1/people?search=s").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The hour's limit on asking is the person's it is for: asked for (and cancelled) ten
    // times, Scanner 08 is refused the eleventh, with when it fits again.
    for _ in 0..10 {
        let (_, body) = t
            .post(
                ALEX,
                "/api/v1/requests",
                ask("device-code", &[SCANNER_08_UPN]),
            )
            .await;
        let one = result(&body, SCANNER_08_UPN);
        assert_eq!(one["status"], 201, "{body}");
        let id = one["request"]["id"].as_str().unwrap().to_string();
        let (status, body) = t.cancel(ALEX, &id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, body) = t
        .post(
            ALEX,
            "/api/v1/requests",
            ask("device-code", &[SCANNER_08_UPN]),
        )
        .await;
    let over = result(&body, SCANNER_08_UPN);
    assert_eq!(over["status"], 429, "{body}");
    assert!(
        over["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Scanner 08 (warehouse) has been asked for Device code flow exemption 10 times in the last hour"),
        "{body}"
    );

    // Bad input refuses the whole ask, nothing written.
    let before = t.audit_actions_total("request_created").await;
    for bad in [
        ask("device-code", &["not-an-upn"]),
        json!({"package": "device-code", "justification": "short", "on_behalf_of": [SCANNER_08_UPN]}),
        json!({"package": "nope", "justification": "warehouse scanners", "on_behalf_of": [SCANNER_08_UPN]}),
    ] {
        let (status, body) = t.post(ALEX, "/api/v1/requests", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    assert_eq!(t.audit_actions_total("request_created").await, before);
}

async fn each_person_is_asked_for_on_their_own(t: &mut TestApp) {
    // Scanner 08 holds a directory role: a device account like that is refused.
    t.emulator
        .give_directory_role(SCANNER_08, USER_ADMINISTRATOR, RoleGiven::Active);
    let nobody = "nobody@jitgate-demo.onmicrosoft.com";
    let (status, body) = t
        .post(
            MORGAN,
            "/api/v1/requests",
            ask(
                "device-code",
                &[SCANNER_07_UPN, SCANNER_08_UPN, nobody, DANA],
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 4, "{body}");
    let scanner = result(&body, SCANNER_07_UPN);
    assert_eq!(scanner["status"], 201, "{body}");
    assert_eq!(scanner["request"]["status"], "pending");
    assert_eq!(scanner["request"]["asked_by"]["id"], MORGAN);
    let privileged = result(&body, SCANNER_08_UPN);
    assert_eq!(privileged["status"], 403, "{body}");
    assert_eq!(privileged["error"]["rule"], "deny_privileged");
    assert!(
        privileged["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Scanner 08 (warehouse) holds User Administrator"),
        "{body}"
    );
    assert_eq!(result(&body, nobody)["status"], 404, "{body}");
    let dana = result(&body, DANA);
    assert_eq!(dana["status"], 201, "{body}");
    let scanner_id = scanner["request"]["id"].as_str().unwrap().to_string();
    let dana_id = dana["request"]["id"].as_str().unwrap().to_string();

    // One open request per person and package: asking again is refused for that person.
    let (_, again) = t
        .post(
            MORGAN,
            "/api/v1/requests",
            ask("device-code", &[SCANNER_07_UPN]),
        )
        .await;
    let again = result(&again, SCANNER_07_UPN);
    assert_eq!(again["status"], 409);
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Scanner 07 (warehouse) already has"),
        "{again}"
    );
    // The package's requester_role is the person's, read from the directory.
    let (_, dev) = t
        .post(
            MORGAN,
            "/api/v1/requests",
            ask("developers-only", &[SCANNER_07_UPN]),
        )
        .await;
    assert_eq!(result(&dev, SCANNER_07_UPN)["status"], 403, "{dev}");
    t.emulator.set_roles(SCANNER_07, &["Developer"]);
    let (_, dev) = t
        .post(
            MORGAN,
            "/api/v1/requests",
            ask("developers-only", &[SCANNER_07_UPN]),
        )
        .await;
    assert_eq!(result(&dev, SCANNER_07_UPN)["status"], 201, "{dev}");

    // The audit trail: asked by Morgan (the actor), about the scanner (the subject).
    let created = &t
        .events(&format!("request={scanner_id}&action=request_created"))
        .await[0];
    assert_eq!(created["actor"]["id"], MORGAN, "{created}");
    assert_eq!(created["subject"], SCANNER_07, "{created}");
    assert_eq!(created["details"]["asked_by"]["id"], MORGAN, "{created}");
    assert_eq!(created["details"]["asked_by"]["name"], "Morgan Manager");
    assert_eq!(
        created["details"]["on_behalf_of"]["username"], SCANNER_07_UPN,
        "{created}"
    );
    let refused = t
        .events(&format!("subject={SCANNER_08}&action=request_refused"))
        .await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["actor"]["id"], MORGAN);
    assert_eq!(refused[0]["details"]["rule"], "deny_privileged");

    // The person told: the device account's mailbox, and Dana.
    eventually("the scanner told", || async {
        !mail_about(t, "asked for Device code flow exemption for 1h for you").is_empty()
    })
    .await;
    eventually("both told", || async {
        mail_about(t, "for you").len() >= 3
    })
    .await;
    let told: Vec<Vec<String>> = mail_about(t, "for you")
        .iter()
        .map(|m| m.to.clone())
        .collect();
    assert!(told.contains(&vec![SCANNER_07_UPN.to_string()]), "{told:?}");
    assert!(told.contains(&vec![DANA_UPN.to_string()]), "{told:?}");
    let mail = mail_about(t, "for you")
        .into_iter()
        .find(|m| m.to == [DANA_UPN])
        .unwrap();
    assert_eq!(
        mail.subject,
        "Morgan Manager asked for Device code flow exemption for 1h for you"
    );
    assert!(
        mail.body.contains(&format!("{}/requests/{dana_id}", t.url)),
        "{}",
        mail.body
    );
    // The deciders hear who asked, and the asker is not among them.
    eventually("the deciders told", || async {
        !mail_about(
            t,
            "Morgan Manager asks for Device code flow exemption for Scanner 07",
        )
        .is_empty()
    })
    .await;
    let deciders = &mail_about(
        t,
        "Morgan Manager asks for Device code flow exemption for Scanner 07",
    )[0];
    assert!(
        !deciders.recipients().any(|r| r == MORGAN_MAIL),
        "{deciders:?}"
    );

    // Neither the asker nor the person it is for decides it.
    let (status, body) = t.try_approve(MORGAN, &scanner_id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("on the requester's behalf"),
        "{body}"
    );
    let (status, _) = t.deny(MORGAN, &scanner_id, Some("no")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.emulator.set_roles(DANA, &["Approver"]);
    let (status, body) = t.try_approve(DANA, &dana_id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let approved = t.approve(JORDAN, &scanner_id).await;
    assert_eq!(approved["asked_by"]["id"], MORGAN);
    wait_added(t, &scanner_id).await;
    assert!(t.emulator.members(GROUP).contains(&SCANNER_07.to_string()));

    // Each sees it: the person in their own list, the asker among what they asked for.
    let mine = t.get(DANA, "/api/v1/requests?mine=true").await;
    assert!(
        mine["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == dana_id.as_str()),
        "{mine}"
    );
    let asked = t.get(MORGAN, "/api/v1/requests?asked_by_me=true").await;
    let ids: Vec<&str> = asked["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&scanner_id.as_str()) && ids.contains(&dana_id.as_str()),
        "{asked}"
    );
    assert!(
        asked["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["asked_by"]["id"] == MORGAN)
    );
    // The asker may take a request back and end the grant (a device account cannot); the page
    // says who asked.
    let (status, body) = t.cancel(MORGAN, &dana_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = t.end(JORDAN, &scanner_id, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = t.end(MORGAN, &scanner_id, Some("scanners enrolled")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ended", "{body}");
    let page = t
        .fetch(Some(MORGAN), &format!("/requests/{scanner_id}"))
        .await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains(
            "Morgan Manager (morgan@jitgate-demo.onmicrosoft.com), on the requester&#x27;s behalf"
        ) || html.contains(
            "Morgan Manager (morgan@jitgate-demo.onmicrosoft.com), on the requester's behalf"
        ),
        "{html}"
    );
}

/// The page, without script: a search lists people with a box each; the form asks for each
/// ticked (and typed) person and says what became of each.
async fn the_page_asks_for_the_people_ticked(t: &mut TestApp) {
    let t: &TestApp = t;
    let page = |user: &'static str, path: String| async move {
        let r = t.fetch(Some(user), &path).await;
        (r.status(), r.text().await.unwrap())
    };
    let (status, _) = page(DANA, "/on-behalf".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, home) = page(DANA, "/".into()).await;
    assert!(!home.contains(r#"data-nav="on-behalf""#));
    let (status, html) = page(ALEX, "/on-behalf?search=scanner".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-nav="on-behalf""#), "{html}");
    for upn in [SCANNER_07_UPN, SCANNER_08_UPN] {
        assert!(
            html.contains(&format!(
                r#"<input type="checkbox" name="on_behalf_of" value="{upn}">"#
            )),
            "{html}"
        );
    }
    let post = |form: Vec<(&'static str, String)>| async move {
        let r = t
            .http_as(Some(ALEX), reqwest::Method::POST, "/on-behalf")
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let nobody = "nobody@jitgate-demo.onmicrosoft.com";
    let form = |justification: &str| {
        vec![
            ("search", "scanner".to_string()),
            ("on_behalf_of", SCANNER_07_UPN.to_string()),
            ("on_behalf_of", SCANNER_08_UPN.to_string()),
            ("named", format!("{nobody}\n")),
            ("package", "device-code".to_string()),
            ("duration_minutes", "60".to_string()),
            ("justification", justification.to_string()),
            ("ticket", String::new()),
        ]
    };
    // A form the package refuses comes back with what was ticked and typed; nothing asked.
    let (status, html) = post(form("short")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(&format!(
            r#"<input type="checkbox" name="on_behalf_of" value="{SCANNER_07_UPN}" checked>"#
        )),
        "{html}"
    );
    assert!(html.contains(r#"class="problem""#), "{html}");
    assert_eq!(t.audit_actions_total("request_created").await, 0);

    let (status, html) = post(form("re-enrolling the warehouse scanners")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for upn in [SCANNER_07_UPN, SCANNER_08_UPN] {
        assert!(
            html.contains(&format!(r#"data-named="{upn}" data-outcome="asked""#)),
            "{html}"
        );
    }
    assert!(
        html.contains(&format!(r#"data-named="{nobody}" data-outcome="refused""#)),
        "{html}"
    );
    let asked = t.get(ALEX, "/api/v1/requests?asked_by_me=true").await;
    assert_eq!(asked["requests"].as_array().unwrap().len(), 2, "{asked}");
    let (_, html) = page(ALEX, "/on-behalf".into()).await;
    assert!(
        html.contains("Scanner 07 (warehouse)") && html.contains(r#"id="asked""#),
        "{html}"
    );
}

impl TestApp {
    /// How many `action` events the trail holds.
    async fn audit_actions_total(&self, action: &str) -> usize {
        self.events(&format!("action={action}&limit=1000"))
            .await
            .len()
    }
}

async fn rules(db: &TestDb) {
    let mut t = with_email(db).await;
    who_may_ask_on_behalf(&mut t).await;
    t.stop().await;
}

async fn the_page(db: &TestDb) {
    let mut t = with_email(db).await;
    the_page_asks_for_the_people_ticked(&mut t).await;
    t.stop().await;
}

async fn outcomes(db: &TestDb) {
    let mut t = with_email(db).await;
    each_person_is_asked_for_on_their_own(&mut t).await;
    t.stop().await;
}

on_both_databases! {
    on_behalf_who_may => rules;
    on_behalf_each_person => outcomes;
    on_behalf_page => the_page;
}

/// `jitgate request --on-behalf-of upn1,upn2`: one line per person (exit status 1 when one was
/// refused), the API's answer with `--output json`; refused from a device-code sign-in, whose
/// token reaches the requests API only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_asks_on_behalf() {
    use crate::terminal::{Terminal, done, portal};
    let (db, t) = portal().await;
    let morgan = Terminal::new(&t.url);
    morgan.login_browser(&t.emulator, MORGAN).await;
    let nobody = "nobody@jitgate-demo.onmicrosoft.com";
    let named = format!("{SCANNER_07_UPN},{nobody}");
    let (code, out, err) = morgan
        .run(&[
            "request",
            "--package",
            "device-code",
            "--for",
            "1h",
            "--reason",
            "warehouse scanners re-enrolled",
            "--on-behalf-of",
            &named,
        ])
        .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{SCANNER_07_UPN}: asked for device-code for 1h (request "
        )) && out.contains("waiting for approval"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{nobody}: refused (404): There is no account {nobody}"
        )),
        "{out}"
    );
    // An approver's queue says who asked, and for whom.
    let jordan = Terminal::new(&t.url);
    jordan.login_browser(&t.emulator, JORDAN).await;
    let (_, queue, _) = jordan.run(&["approvals"]).await;
    assert!(
        queue.contains("Scanner 07 (warehouse)")
            && queue.contains(
                "asked on their behalf by Morgan Manager (morgan@jitgate-demo.onmicrosoft.com)"
            ),
        "{queue}"
    );
    // JSON: the API's own answer; exit status 0 once every person was asked for.
    let (code, out, _) = morgan
        .run(&[
            "request",
            "--package",
            "developers-only",
            "--reason",
            "warehouse scanners re-enrolled",
            "--on-behalf-of",
            SCANNER_08_UPN,
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 1, "{out}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["results"][0]["status"], 403, "{answer}");
    t.emulator.set_roles(SCANNER_08, &["Developer"]);
    let answer = morgan
        .json(&[
            "request",
            "--package",
            "developers-only",
            "--reason",
            "warehouse scanners re-enrolled",
            "--on-behalf-of",
            SCANNER_08_UPN,
        ])
        .await;
    assert_eq!(answer["results"][0]["status"], 201, "{answer}");
    assert_eq!(answer["results"][0]["request"]["asked_by"]["id"], MORGAN);
    // --wait follows one's own request only; --package is required.
    let (code, _, err) = morgan
        .run(&["request", "--reason", "x", "--on-behalf-of", SCANNER_07_UPN])
        .await;
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = morgan
        .run(&[
            "request",
            "--package",
            "device-code",
            "--reason",
            "warehouse scanners re-enrolled",
            "--wait",
            "--on-behalf-of",
            SCANNER_07_UPN,
        ])
        .await;
    assert_eq!(code, 2, "{err}");

    // A device-code sign-in (the requests API) may not ask in others' names.
    let device = Terminal::new(&t.url);
    device.login_device_code(&t.emulator, ALEX).await;
    let (code, out, err) = device
        .run(&[
            "request",
            "--package",
            "device-code",
            "--reason",
            "warehouse scanners re-enrolled",
            "--on-behalf-of",
            SCANNER_07_UPN,
        ])
        .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("requests API"), "{err}");
    done(db, t).await;
}
