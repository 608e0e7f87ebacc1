//! What the command line believes of a portal (issue 19, parts 5 and 6): where `jitgate login`
//! signs in is pinned (Entra's own hosts, or one named on this machine), the scope must be the
//! portal's own API, the tenant and app are shown on first use and remembered per portal, and
//! what requesters typed reaches the decider's terminal with its control characters visible.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use jitgate::emulator::demo::{CLI_CLIENT_ID, TENANT_ID};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::terminal::{Terminal, done, failed, portal, user_code};

/// The portal's own API scope, as a real portal publishes it.
fn own_scope() -> String {
    format!(
        "api://{}/access_as_user",
        jitgate::emulator::demo::CLIENT_ID
    )
}

/// A portal that publishes whatever it is told at `GET /api/v1/cli`, and has nothing else.
struct FakePortal {
    url: String,
    published: Arc<Mutex<Value>>,
}

impl FakePortal {
    async fn start() -> FakePortal {
        let published = Arc::new(Mutex::new(Value::Null));
        let app =
            axum::Router::new()
                .route(
                    "/api/v1/cli",
                    get(|State(p): State<Arc<Mutex<Value>>>| async move {
                        Json(p.lock().unwrap().clone())
                    }),
                )
                .with_state(published.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePortal { url, published }
    }

    /// Publishes this sign-in: `authority_host`, the demo tenant and CLI app, `scopes`.
    fn publish(&self, authority_host: &str, scopes: &[&str]) {
        *self.published.lock().unwrap() = json!({
            "authority_host": authority_host,
            "tenant_id": TENANT_ID,
            "client_id": CLI_CLIENT_ID,
            "scopes": scopes,
        });
    }
}

/// A sign-in service nobody may reach: it counts who connects, and answers nothing.
async fn tripwire() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, hits)
}

/// `cli.toml` of `term`, or nothing.
fn client_config(term: &Terminal) -> String {
    std::fs::read_to_string(term.home.path().join("cli.toml")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_login_refuses_what_a_fake_portal_publishes() {
    let fake = FakePortal::start().await;
    let (trap, hits) = tripwire().await;
    let term = Terminal::new(&fake.url);
    let login = |extra: &[&str]| {
        let mut args = vec!["login", "--device-code", "--portal", fake.url.as_str()];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let term = &term;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            term.run(&args).await
        }
    };
    let scope = own_scope();

    // A sign-in service that is not one of Entra's is refused unless named on this machine:
    // a loopback one, a look-alike, a host with a path or a port.
    for host in [
        trap.as_str(),
        "https://login.evil.example",
        "https://login.microsoftonline.com.evil.example",
        "https://login.microsoftonline.com:8443",
        "https://evil.example/login.microsoftonline.com",
    ] {
        fake.publish(host, &[&scope]);
        failed(
            run(login(&[])).await,
            2,
            &[
                "not one of Microsoft Entra's sign-in services",
                "--authority-host",
            ],
        );
    }

    // Scopes of anything but the portal's own API are refused, even at a sign-in service named
    // here: Microsoft Graph by its URL, its app id, or by a bare permission name; other
    // Microsoft APIs; the OpenID scopes the client adds itself.
    for bad in [
        "https://graph.microsoft.com/.default",
        "https://graph.microsoft.com/Mail.Read",
        "User.Read",
        "00000003-0000-0000-c000-000000000000/Mail.Read",
        "api://00000003-0000-0000-c000-000000000000/Mail.Read",
        "https://outlook.office365.com/EWS.AccessAsUser.All",
        "https://management.azure.com/user_impersonation",
        "https://vault.azure.net/user_impersonation",
        "499b84ac-1321-427f-aa17-267ca6975798/user_impersonation",
        "offline_access",
    ] {
        fake.publish(&trap, &[&scope, bad]);
        let (code, out, err) = run(login(&["--authority-host", &trap])).await;
        assert_eq!(code, 2, "{bad}: {out}{err}");
        assert!(err.contains("scope"), "{bad}: {err}");
    }

    // A sign-in service named here must be https, or http on this machine; and when the portal
    // names another one, neither is used.
    fake.publish(&trap, &[&scope]);
    failed(
        run(login(&["--authority-host", "http://login.example.com"])).await,
        2,
        &["https"],
    );
    failed(
        run(login(&[
            "--authority-host",
            "https://login.microsoftonline.com",
        ]))
        .await,
        2,
        &["--authority-host", &trap],
    );

    // Entra's own host: shown, and not used without a yes (standard input is no terminal here).
    fake.publish("https://login.microsoftonline.com", &[&scope]);
    failed(
        run(login(&[])).await,
        2,
        &[TENANT_ID, CLI_CLIENT_ID, "--yes", "Nothing was signed in"],
    );

    // Plain http portals only on this machine.
    failed(
        term.run(&["login", "--portal", "http://jit.contoso.example"])
            .await,
        2,
        &["https"],
    );

    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the sign-in service the fake portal named"
    );
    assert!(
        !client_config(&term).contains("client_id"),
        "nothing was remembered: {}",
        client_config(&term)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_remembers_the_tenant_and_app_of_each_portal() {
    let (db, t) = portal().await;
    let dana = Terminal::new(&t.url);
    let emulator = t.emulator.base_url();
    let login = |yes: bool| {
        let mut args = vec![
            "login",
            "--device-code",
            "--portal",
            t.url.as_str(),
            "--authority-host",
            emulator.as_str(),
        ];
        if yes {
            args.push("--yes");
        }
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let sign_in = |args: Vec<String>| {
        let dana = &dana;
        let t = &t;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut r = dana.spawn(&args);
            let code = user_code(&r.wait_stderr("enter the code").await);
            t.emulator.complete_device_login(&code, DANA).unwrap();
            r.finish().await
        }
    };

    // First use, the sign-in service named here: no question, but the tenant and the app are
    // shown, and remembered for this portal.
    let (code, _, err) = sign_in(login(false)).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(TENANT_ID) && err.contains(CLI_CLIENT_ID),
        "{err}"
    );
    let remembered = client_config(&dana);
    for v in [t.url.as_str(), TENANT_ID, CLI_CLIENT_ID, emulator.as_str()] {
        assert!(remembered.contains(v), "{v} in {remembered}");
    }

    // The same again: nothing to say.
    let (code, _, err) = sign_in(login(false)).await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(CLI_CLIENT_ID), "{err}");

    // The portal now names another app (as a portal taken over would): refused before any
    // sign-in, saying what changed, until confirmed.
    let other_app = "0b9c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4";
    std::fs::write(
        dana.home.path().join("cli.toml"),
        remembered.replace(CLI_CLIENT_ID, other_app),
    )
    .unwrap();
    let (code, out, err) = dana
        .run(&login(false).iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(code, 2, "{out}{err}");
    for said in [other_app, CLI_CLIENT_ID, "--yes", "Nothing was signed in"] {
        assert!(err.contains(said), "no '{said}' in {err}");
    }
    assert!(!err.contains("enter the code"), "{err}");
    assert!(client_config(&dana).contains(other_app));

    // Confirmed with --yes: signed in, and the new app remembered.
    let (code, _, err) = sign_in(login(true)).await;
    assert_eq!(code, 0, "{err}");
    let now = client_config(&dana);
    assert!(
        now.contains(CLI_CLIENT_ID) && !now.contains(other_app),
        "{now}"
    );

    done(db, t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_shows_what_requesters_typed_with_control_characters_visible() {
    let (db, t) = portal().await;
    let morgan = Terminal::new(&t.url);
    // Deciding needs a browser sign-in (a device-code one reaches the requests API only).
    morgan.login_browser(&t.emulator, MORGAN).await;

    // A justification that would rewrite the decider's line and reverse what follows.
    let id = t
        .create(
            DANA,
            json!({
                "package": "device-code",
                "duration_minutes": 60,
                "justification": "routine build\rAPPROVED by security \u{202e}evil\u{200b}",
            }),
        )
        .await;
    let (code, out, err) = morgan.run(&["approvals"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&id[..8]), "{out}");
    assert!(
        out.contains("routine build␍APPROVED by security <U+202E>evil<U+200B>"),
        "{out:?}"
    );
    assert!(
        !out.contains('\r') && !out.contains('\u{202e}') && !out.contains('\u{200b}'),
        "{out:?}"
    );

    // The portal's error texts too: an unknown package named with an escape sequence.
    let (code, _, err) = morgan
        .run(&[
            "request",
            "--package",
            "evil\u{1b}[2J\u{1b}[31m",
            "--reason",
            "x",
        ])
        .await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("evil␛[2J␛[31m"), "{err:?}");
    assert!(!err.contains('\u{1b}'), "{err:?}");

    done(db, t).await;
}
