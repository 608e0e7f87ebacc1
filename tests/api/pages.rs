//! The server-rendered pages, read as HTML.

use reqwest::{Method, StatusCode};

use crate::common::html::browser;
use crate::helpers::*;
use crate::on_both_databases;

/// `GET path` as `user`: the status and the page.
async fn page(t: &TestApp, user: &str, path: &str) -> (StatusCode, String) {
    let r = t.fetch(Some(user), path).await;
    (r.status(), r.text().await.unwrap())
}

/// Posts `form` to `path` as `user`: the status, where it redirects to (if anywhere) and the page.
async fn post_form(
    t: &TestApp,
    user: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let r = t
        .http_as(Some(user), Method::POST, path)
        .form(form)
        .send()
        .await
        .unwrap();
    let location = redirect_to(&r);
    (r.status(), location, r.text().await.unwrap())
}

async fn output_is_escaped(t: &mut TestApp) {
    let evil = "<script>alert(1)</script> needs the CLI";
    let (s, _, _) = post_form(
        t,
        DANA,
        "/requests",
        &[
            ("package", "device-code"),
            ("duration_minutes", "60"),
            ("justification", evil),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    for (user, path) in [(MORGAN, "/approvals"), (DANA, "/"), (AVERY, "/audit")] {
        let (s, html) = page(t, user, path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(
            !html.contains("<script>alert(1)"),
            "{path} must escape the justification"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || html.contains("&#60;script&#62;alert(1)"),
            "{path} shows it as text"
        );
    }
}

async fn invalid_forms_come_back_with_the_input(t: &mut TestApp) {
    let (s, _, html) = post_form(
        t,
        DANA,
        "/requests",
        &[
            ("package", "device-code"),
            ("duration_minutes", "custom"),
            ("custom_minutes", "600"),
            ("justification", "too short"),
            ("ticket", "INC-9"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(r#"class="field-error" data-field="justification""#),
        "{html}"
    );
    assert!(html.contains(r#"class="field-error" data-field="duration_minutes""#));
    assert!(
        html.contains(">too short</textarea>"),
        "the justification is kept"
    );
    assert!(html.contains(r#"value="INC-9""#), "the ticket is kept");
    assert!(
        html.contains(r#"value="600""#),
        "the custom duration is kept"
    );
    assert_eq!(t.audit_count().await, 0, "nothing changed");
    // A conflict is explained on the page too.
    let form = [
        ("package", "device-code"),
        ("duration_minutes", "60"),
        ("justification", "deploying the CI runner"),
    ];
    post_form(t, DANA, "/requests", &form).await;
    let (s, _, html) = post_form(t, DANA, "/requests", &form).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("already have an open request"), "{html}");
}

async fn actions_leave_a_flash_message(t: &mut TestApp) {
    // Bearer-authenticated pages have no session; a flash needs the session, so use the form then
    // read the page in one client with a cookie jar.
    let b = browser();
    let decide = |id: &str, action: &str, comment: &'static str, back: &'static str| {
        let path = format!("/requests/{id}/{action}");
        t.on(&b, Some(MORGAN), Method::POST, &path)
            .form(&[("comment", comment), ("back", back)])
            .send()
    };
    let id = t.request(DANA, "device-code", 60).await;
    let r = decide(&id, "approve", "go ahead", "/approvals")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/approvals");
    let html = t
        .on(&b, Some(MORGAN), Method::GET, "/approvals")
        .body_text()
        .await;
    assert!(
        html.contains(r#"<p class="flash" role="status">You approved Dana Developer"#),
        "{html}"
    );
    // A `back` that leaves the site is ignored.
    let id2 = t.request(RILEY, "device-code", 60).await;
    let r = decide(&id2, "deny", "no", "https://evil.example/")
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
}

/// Issue 9, item 6: the approval form offers the requested duration or less, and an approver
/// can grant less from the page; more than asked, or not a number, is refused and changes nothing.
async fn approvers_may_shorten_from_the_page(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 120).await;
    let (_, html) = page(t, MORGAN, "/approvals").await;
    let select = &html[html
        .find("data-testid=\"grant-duration\"")
        .expect("a duration choice")..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(
        select.contains(r#"<option value="120">2h (as asked)</option>"#),
        "{select}"
    );
    assert!(
        select.contains(r#"<option value="15">15m</option>"#),
        "{select}"
    );
    assert!(
        !select.contains(r#"value="240""#),
        "never longer than asked: {select}"
    );

    let path = format!("/requests/{id}/approve");
    for bad in ["240", "ninety", "5"] {
        let (status, _, _) = post_form(
            t,
            MORGAN,
            &path,
            &[("back", "/approvals"), ("duration_minutes", bad)],
        )
        .await;
        assert!(
            status.is_redirection() || status.is_client_error(),
            "{bad}: {status}"
        );
        assert_eq!(t.status_of(&id).await["status"], "pending", "{bad}");
    }
    let (status, to, _) = post_form(
        t,
        MORGAN,
        &path,
        &[("back", "/approvals"), ("duration_minutes", "15")],
    )
    .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/approvals"));
    let r = t.status_of(&id).await;
    assert_eq!(r["duration_minutes"], 15, "{r}");
    let approved = event_details(t, &id, "request_approved").await;
    assert_eq!(approved["shortened_from"], 120, "{approved}");
}

async fn navigation_follows_the_role(t: &mut TestApp) {
    let nav = |html: &str| {
        ["access", "approvals", "on-behalf", "audit", "operations"]
            .into_iter()
            .filter(|n| html.contains(&format!(r#"data-nav="{n}""#)))
            .collect::<Vec<_>>()
    };
    assert_eq!(nav(&page(t, DANA, "/").await.1), ["access"]);
    assert_eq!(
        nav(&page(t, JORDAN, "/").await.1),
        ["access", "approvals", "on-behalf"]
    );
    assert_eq!(nav(&page(t, AVERY, "/").await.1), ["access", "audit"]);
    assert_eq!(
        nav(&page(t, ALEX, "/").await.1),
        ["access", "on-behalf", "audit", "operations"]
    );
    t.request(DANA, "device-code", 60).await;
    let html = page(t, JORDAN, "/").await.1;
    assert!(
        html.contains(r#"<span class="badge" aria-label="1 waiting">1</span>"#),
        "the approvals badge"
    );
    let (_, html) = page(t, DANA, "/").await;
    assert!(html.contains(r#"data-testid="signed-in-as">Dana Developer<"#));
}

async fn friendly_error_pages(t: &mut TestApp) {
    let (s, html) = page(t, DANA, "/operations").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        html.contains("<h1>You may not see this</h1>") && html.contains("admin role"),
        "{html}"
    );
    let (s, html) = page(t, DANA, "/requests/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("There is no request"));
    let (s, html) = page(t, DANA, "/no/such/page").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("<!doctype html>"));
    // Anonymous visitors are sent to sign in and brought back.
    let r = t.fetch(None, "/audit?action=grant_expired").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/auth/login?return_to=%2Faudit%3Faction%3Dgrant_expired"
    );
    t.try_get(None, "/")
        .await
        .expect_status(StatusCode::OK, "the landing page");
}

async fn timeline_and_audit_pages(t: &mut TestApp) {
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    let (s, html) = page(t, DANA, &format!("/requests/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    for a in [
        "request_created",
        "request_approved",
        "grant_activated",
        "membership_added",
    ] {
        assert!(html.contains(&format!(r#"data-action="{a}""#)), "{a}");
    }
    assert!(html.contains(r#"<time class="countdown""#));
    let (_, html) = page(t, AVERY, "/audit?action=membership_added").await;
    assert!(html.contains(r#"data-ok="true""#));
    assert_eq!(html.matches("<tr data-seq=").count(), 1);
    assert!(
        html.contains(r#"href="/api/v1/audit?format=csv&amp;action=membership_added""#),
        "export keeps the filters"
    );
    let (_, html) = page(t, AVERY, "/audit?limit=2").await;
    assert!(html.contains(r#"id="next-page""#));
    let (_, html) = page(t, ALEX, "/operations").await;
    assert!(html.contains(&format!(r#"<tr data-request-id="{id}""#)));
    assert!(html.contains(r#"data-heartbeat="worker" data-fresh="true""#));
}

on_both_databases! {
    with TestApp;
    escaping => output_is_escaped;
    invalid_forms => invalid_forms_come_back_with_the_input;
    flash => actions_leave_a_flash_message;
    navigation => navigation_follows_the_role;
    shorten => approvers_may_shorten_from_the_page;
    errors => friendly_error_pages;
    timeline => timeline_and_audit_pages;
}

/// `jitgate demo` sends a page asked for under another name of this machine to the address it
/// printed (so the session cookie and the sign-in's return address agree); a real deployment
/// does not.
async fn the_demo_redirects_other_host_names(db: &crate::common::db::TestDb) {
    let get_as = |t: &TestApp, host: String| {
        t.http
            .get(format!("{}/?x=1", t.url))
            .header("host", host)
            .send()
    };
    let mut t = TestApp::spawn_with(db, true).await;
    let port = url::Url::parse(&t.url).unwrap().port().unwrap();
    let r = get_as(&t, format!("localhost:{port}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(r.headers()["location"], format!("{}/?x=1", t.url));
    let r = get_as(&t, format!("127.0.0.1:{port}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    t.stop().await;

    let mut t = TestApp::spawn(db).await;
    let port = url::Url::parse(&t.url).unwrap().port().unwrap();
    let r = get_as(&t, format!("localhost:{port}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "only the demo redirects");
    t.stop().await;
}

/// The demo's e-mail goes through the emulated Graph `sendMail`; the banner links to the
/// emulator's mailbox page, which shows who was told what.
async fn the_demo_mailbox_shows_who_was_told(db: &crate::common::db::TestDb) {
    let t = TestApp::spawn_configured(db, true, |s| {
        format!("{s}\n[notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\n")
    })
    .await;
    let home = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    let link = format!("{}/mailbox", t.emulator.base_url());
    assert!(home.contains(&format!("href=\"{link}\"")), "{home}");
    let id = t.request(DANA, "device-code", 60).await;
    eventually("the approvers' mail", || async {
        !t.emulator.mail().is_empty()
    })
    .await;
    let page = t
        .http
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Dana Developer asks for Device code flow exemption"),
        "{page}"
    );
    assert!(
        page.contains("morgan@jitgate-demo.onmicrosoft.com"),
        "{page}"
    );
    assert!(
        page.contains(&format!("/requests/{id}</a>")),
        "the link is a link: {page}"
    );
    // One person's messages.
    let dana = t
        .http
        .get(format!("{link}?to=dana@jitgate-demo.onmicrosoft.com"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dana.contains("0 message(s)"), "{dana}");
}

on_both_databases! {
    demo_host => the_demo_redirects_other_host_names;
    demo_mailbox => the_demo_mailbox_shows_who_was_told;
}
