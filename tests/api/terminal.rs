//! The command-line client (issue 10), the real binary against a running portal and the
//! emulated tenant: a requester signs in by device code and asks with `--wait`, an approver
//! signs in through the browser (authorization code + PKCE, loopback redirect) and approves
//! from another session, the wait returns with the end time; extensions, the end, silent token
//! renewal, and each sign-in failure explained.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jitgate::contract;
use jitgate::emulator::Emulator;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use crate::common::db::{Backend, TestDb};
use crate::common::html::{browser, form_in, location};
use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_jitgate");

/// One person's terminal: a client home of their own.
pub(crate) struct Terminal {
    pub(crate) home: tempfile::TempDir,
    pub(crate) portal: String,
}

/// A client command still running, its standard error read as it comes.
pub(crate) struct Running {
    child: tokio::process::Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Terminal {
    pub(crate) fn new(portal: &str) -> Terminal {
        Terminal {
            home: tempfile::tempdir().unwrap(),
            portal: portal.to_string(),
        }
    }

    pub(crate) fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(BIN);
        c.args(args)
            .env("JITGATE_CLI_HOME", self.home.path())
            .env_remove("JITGATE_PORTAL")
            .env_remove("JITGATE_OUTPUT")
            .env_remove("JITGATE_CONFIG")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs `args` to the end: exit status, standard output, standard error.
    pub(crate) async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("the command ends")
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    /// `args` with `--output json`, which must succeed: its answer.
    pub(crate) async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let (code, out, err) = self.run(&all).await;
        assert_eq!(code, 0, "jitgate {args:?}: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    pub(crate) fn spawn(&self, args: &[&str]) -> Running {
        let mut child = self.command(args).spawn().unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                sink.lock().unwrap().push(l);
            }
        });
        Running { child, stderr }
    }

    /// The cached account of the portal.
    pub(crate) fn cached(&self) -> Value {
        let text = std::fs::read_to_string(self.home.path().join("tokens.json")).unwrap();
        let cache: Value = serde_json::from_str(&text).unwrap();
        cache["portals"][&self.portal].clone()
    }

    /// Changes `field` of the cached account, as time or an attacker might.
    pub(crate) fn tamper(&self, field: &str, value: &str) {
        let path = self.home.path().join("tokens.json");
        let mut cache: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        cache["portals"][&self.portal][field] = Value::from(value);
        std::fs::write(path, serde_json::to_vec(&cache).unwrap()).unwrap();
    }

    /// Signs in as `user` by device code, the code entered on the emulated tenant's page.
    pub(crate) async fn login_device_code(&self, emu: &Emulator, user: &str) -> Value {
        let mut r = self.spawn(&[
            "login",
            "--device-code",
            "--portal",
            &self.portal,
            "--authority-host",
            &emu.base_url(),
            "--output",
            "json",
        ]);
        let code = user_code(&r.wait_stderr("enter the code").await);
        emu.complete_device_login(&code, user).unwrap();
        let (status, out, err) = r.finish().await;
        assert_eq!(status, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }

    /// Signs in as `user` through the browser: the sign-in page opened by hand, the demo user
    /// picked, the redirect followed to the client's loopback listener.
    pub(crate) async fn login_browser(&self, emu: &Emulator, user: &str) -> Value {
        let mut r = self.spawn(&[
            "login",
            "--no-browser",
            "--portal",
            &self.portal,
            "--authority-host",
            &emu.base_url(),
            "--output",
            "json",
        ]);
        let line = r.wait_stderr("/oauth2/v2.0/authorize?").await;
        let url = line.trim().to_string();
        let http = browser();
        let page = http.get(&url).send().await.unwrap().text().await.unwrap();
        let (action, mut fields) = form_in(&page).expect("the sign-in form");
        fields.push(("user".into(), user.into()));
        let resp = http
            .post(format!("{}{action}", emu.base_url()))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let back = location(&resp);
        // The loopback redirect names the address, not `localhost` (RFC 8252 §8.3).
        assert!(back.starts_with("http://127.0.0.1:"), "{back}");
        // An answer with another state is not this sign-in's: ignored, even an error.
        let listener = url::Url::parse(&back).unwrap();
        let forged = format!(
            "http://127.0.0.1:{}/?error=access_denied&error_description=forged&state=not-this-one",
            listener.port().unwrap()
        );
        let refused = http.get(&forged).send().await.unwrap();
        assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
        let thanks = http.get(&back).send().await.unwrap().text().await.unwrap();
        assert!(thanks.contains("You are signed in to jitgate"), "{thanks}");
        let (status, out, err) = r.finish().await;
        assert_eq!(status, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }
}

impl Running {
    /// The first line of standard error containing `text` (waiting up to 30 s for it).
    pub(crate) async fn wait_stderr(&mut self, text: &str) -> String {
        for _ in 0..600 {
            if let Some(l) = self
                .stderr
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(text))
            {
                return l.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no '{text}' on standard error: {:?}",
            self.stderr.lock().unwrap()
        );
    }

    pub(crate) async fn finish(mut self) -> (i32, String, String) {
        let mut stdout = self.child.stdout.take().unwrap();
        let mut out = String::new();
        let read = async {
            use tokio::io::AsyncReadExt;
            stdout.read_to_string(&mut out).await.unwrap();
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("the command ends");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the command ends")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let err = self.stderr.lock().unwrap().join("\n");
        (status.code().unwrap_or(-1), out, err)
    }

    pub(crate) fn interrupt(&self) {
        let pid = self.child.id().unwrap().to_string();
        let ok = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

/// A command's result that must be a failure with exit status `status`, its standard error
/// saying each of `said`.
pub(crate) fn failed(result: (i32, String, String), status: i32, said: &[&str]) {
    let (code, out, err) = result;
    assert_eq!(code, status, "{out}{err}");
    for s in said {
        assert!(err.contains(s), "no '{s}' in: {err}");
    }
}

/// A portal on a fresh SQLite database.
pub(crate) async fn portal() -> (TestDb, TestApp) {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let t = TestApp::spawn(&db).await;
    (db, t)
}

pub(crate) async fn done(db: TestDb, mut t: TestApp) {
    t.stop().await;
    db.cleanup().await;
}

/// The code in Entra's "... enter the code XXXXXXXXX to authenticate." sentence.
pub(crate) fn user_code(line: &str) -> String {
    line.split("enter the code ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no code in: {line}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_waits_at_the_terminal_while_an_approver_approves_from_another() {
    let (db, t) = portal().await;
    let dana = Terminal::new(&t.url);
    let morgan = Terminal::new(&t.url);

    // Dana signs in by device code; the token cache is hers alone.
    let signed_in = dana.login_device_code(&t.emulator, DANA).await;
    assert_eq!(signed_in["account"]["id"], DANA);
    assert_eq!(signed_in["device_code"], true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dana.home.path().join("tokens.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The device-code sign-in to the portal's API went through: the block excludes the API.
    let logged = t.emulator.sign_ins().pop().unwrap();
    assert_eq!((logged.user_id.as_str(), logged.error_code), (DANA, 0));

    // What she may ask for.
    let (_, listed, _) = dana.run(&["packages"]).await;
    assert!(
        listed.contains("device-code")
            && listed.contains("15m to 4h (default 2h), no directory role holders"),
        "{listed}"
    );
    assert!(
        listed.contains("developers-only") && listed.contains("(not open to you)"),
        "{listed}"
    );

    // She asks and waits (the portal remembered from the sign-in).
    let mut wait = dana.spawn(&[
        "request",
        "--package",
        "device-code",
        "--for",
        "1h",
        "--reason",
        "Signing in the Azure CLI on the build container",
        "--ticket",
        "CHG-7",
        "--wait",
        "--output",
        "json",
    ]);
    wait.wait_stderr("Waiting until access is in effect").await;

    // Morgan signs in through the browser, sees it, approves it by the start of its id.
    let signed_in = morgan.login_browser(&t.emulator, MORGAN).await;
    assert_eq!(
        signed_in["account"]["roles"],
        serde_json::json!(["approver"])
    );
    let queue: contract::ApprovalQueue =
        serde_json::from_value(morgan.json(&["approvals"]).await).unwrap();
    let asked = queue
        .requests
        .iter()
        .find(|e| e.request.requester.id == DANA)
        .expect("Dana's request waits for Morgan");
    assert!(asked.may_decide);
    assert_eq!(asked.request.ticket.as_deref(), Some("CHG-7"));
    let (_, human, _) = morgan.run(&["approvals"]).await;
    assert!(
        human.contains("Dana Developer") && human.contains("1h"),
        "{human}"
    );
    let id = asked.request.id.clone();
    let approved = morgan
        .json(&["approve", &id[..8], "--comment", "ok for the build"])
        .await;
    assert_eq!(approved["status"], "active");

    // Her wait returns once she is in the group, with the end time.
    let (code, out, err) = wait.finish().await;
    assert_eq!(code, 0, "{err}");
    let granted: contract::Request = serde_json::from_str(&out).unwrap();
    assert_eq!(granted.id, id);
    assert_eq!(granted.status, contract::Status::Active);
    assert!(granted.membership.added_at.is_some());
    let end = granted.ends_at.expect("the end time");
    assert_eq!((end - granted.starts_at.unwrap()).num_minutes(), 60);
    assert!(err.contains("active until"), "{err}");
    assert!(t.is_member(DANA));

    // Her status, in words and in JSON.
    let (_, human, _) = dana.run(&["status"]).await;
    assert!(
        human.contains(&id[..8]) && human.contains("active until"),
        "{human}"
    );
    let detail = dana.json(&["status", &id[..8]]).await;
    assert_eq!(
        detail["request"]["approvals"][0]["comment"],
        "ok for the build"
    );

    // More time: asked at the terminal, approved by Morgan at his.
    let x: contract::Extended = serde_json::from_value(
        dana.json(&[
            "extend",
            "--for",
            "30m",
            "--reason",
            "the migration runs long",
        ])
        .await,
    )
    .unwrap();
    assert_eq!(x.extension.status, contract::ExtensionStatus::Pending);
    let (_, human, _) = morgan.run(&["approvals"]).await;
    assert!(human.contains("extension +30m"), "{human}");
    let x: contract::Extended =
        serde_json::from_value(morgan.json(&["approve", &id[..8]]).await).unwrap();
    assert_eq!(x.extension.status, contract::ExtensionStatus::Approved);
    assert_eq!(x.request.ends_at, Some(end + chrono::Duration::minutes(30)));

    // She gives it back early.
    let (code, human, err) = dana.run(&["end", "--reason", "done"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(human.contains("ended"), "{human}");
    wait_out_of_group(&t, DANA).await;

    // Refusals come back as the API's error, exit status 1; and nothing left to end.
    let (code, out, _) = dana
        .run(&[
            "request",
            "--package",
            "device-code",
            "--for",
            "9h",
            "--reason",
            "x",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 1);
    let refused: contract::ErrorBody = serde_json::from_str(&out).unwrap();
    assert_eq!(refused.error.code, "invalid_request");
    let (code, _, err) = dana
        .run(&[
            "request",
            "--package",
            "device-code",
            "--for",
            "9h",
            "--reason",
            "x",
        ])
        .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("--for:"),
        "the field is named by its flag: {err}"
    );
    failed(dana.run(&["end"]).await, 2, &["no active grant"]);

    // A denial ends a wait with exit status 1 and the reason.
    let mut wait = dana.spawn(&[
        "request",
        "--package",
        "device-code",
        "--reason",
        "asking again for the build",
        "--wait",
    ]);
    wait.wait_stderr("Waiting until access is in effect").await;
    let queue: contract::ApprovalQueue =
        serde_json::from_value(morgan.json(&["approvals"]).await).unwrap();
    let second = queue.requests[0].request.id.clone();
    let (code, _, err) = morgan
        .run(&["deny", &second, "--comment", "use the pipeline's identity"])
        .await;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = wait.finish().await;
    assert_eq!(code, 1);
    assert!(
        out.contains("Denied by Morgan Manager: use the pipeline's identity"),
        "{out}"
    );

    // Signing out forgets the tokens.
    let (code, _, _) = dana.run(&["logout"]).await;
    assert_eq!(code, 0);
    failed(
        dana.run(&["status"]).await,
        2,
        &["not signed in", "jitgate login"],
    );

    done(db, t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_renewed_silently_until_the_sign_in_lapses() {
    let (db, t) = portal().await;
    let dana = Terminal::new(&t.url);
    dana.login_device_code(&t.emulator, DANA).await;
    let first = dana.cached();

    // An access token about to expire is renewed with the refresh token before the call.
    dana.tamper("expires_at", "2020-01-01T00:00:00Z");
    let before = t.emulator.token_requests();
    dana.json(&["status"]).await;
    assert_eq!(t.emulator.token_requests(), before + 1, "one refresh");
    let renewed = dana.cached();
    assert_ne!(renewed["access_token"], first["access_token"]);
    assert_ne!(renewed["refresh_token"], first["refresh_token"]);

    // A token the portal refuses (401) is renewed once and the call repeated.
    dana.tamper("access_token", "not-a-token");
    dana.json(&["status"]).await;

    // Once Entra refuses the refresh token (idle for 90 days), the person is told to sign in.
    t.emulator.advance(chrono::Duration::days(91));
    dana.tamper("expires_at", "2020-01-01T00:00:00Z");
    failed(
        dana.run(&["status"]).await,
        2,
        &["AADSTS700082", "jitgate login"],
    );

    done(db, t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_say_what_to_do() {
    let (db, t) = portal().await;
    let term = Terminal::new(&t.url);
    let url = t.url.clone();
    let emulator = t.emulator.base_url();
    let login = |extra: &[&str]| {
        let mut args = vec![
            "login",
            "--device-code",
            "--portal",
            url.as_str(),
            "--authority-host",
            emulator.as_str(),
        ];
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

    // An unknown tenant (AADSTS90002), and `/common` refused before asking (50059, 90133).
    failed(
        run(login(&["--tenant", "00000000-0000-0000-0000-0000000000aa"])).await,
        2,
        &["AADSTS90002", "does not exist"],
    );
    failed(
        run(login(&["--tenant", "common"])).await,
        2,
        &["AADSTS90133", "tenant's id"],
    );

    // A tenant whose block covers the requests API too: Conditional Access refuses (53003).
    t.emulator
        .set_device_code_policy_excludes_requests_api(false);
    let args = login(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut r = term.spawn(&args);
    let code = user_code(&r.wait_stderr("enter the code").await);
    t.emulator.complete_device_login(&code, DANA).unwrap();
    let (status, _, err) = r.finish().await;
    assert_eq!(status, 2);
    assert!(
        err.contains("AADSTS53003") && err.contains("exclude the jitgate requests API"),
        "{err}"
    );
    t.emulator
        .set_device_code_policy_excludes_requests_api(true);

    // Declined on the device-login page.
    let mut r = term.spawn(&args);
    let code = user_code(&r.wait_stderr("enter the code").await);
    t.emulator.decline_device_login(&code, DANA).unwrap();
    let (status, _, err) = r.finish().await;
    assert_eq!(status, 2);
    assert!(err.contains("declined"), "{err}");

    // Nobody enters the code for 15 minutes (the tenant's clock moves on).
    let mut r = term.spawn(&args);
    r.wait_stderr("The code expires at").await;
    t.emulator.advance(chrono::Duration::minutes(16));
    let (status, _, err) = r.finish().await;
    assert_eq!(status, 2);
    assert!(
        err.contains("expired") && err.contains("15 minutes"),
        "{err}"
    );

    // Ctrl-C cancels the wait; nothing is signed in.
    let mut r = term.spawn(&args);
    r.wait_stderr("Ctrl-C cancels").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    r.interrupt();
    let (status, _, err) = r.finish().await;
    assert_eq!(status, 130, "{err}");
    assert!(err.contains("Cancelled"), "{err}");
    assert!(!term.home.path().join("tokens.json").exists());

    // Without a portal, or not signed in to it: what to do next.
    failed(term.run(&["status"]).await, 2, &["--portal"]);
    failed(
        term.run(&["status", "--portal", &t.url]).await,
        2,
        &["not signed in"],
    );
    failed(
        term.run(&["status", "--portal", "http://jit.contoso.example"])
            .await,
        2,
        &["https"],
    );

    done(db, t).await;
}

/// `jitgate check` says whether the block policy lets the command line's device-code sign-in
/// through (the requests API excluded), as a remark that does not fail the check, and fails
/// when the policy excludes the portal's own API (a device-code token for it could decide).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_whether_the_api_is_excluded_from_the_block() {
    let (db, t) = portal().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jitgate.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n{}",
            jitgate::demo::emulator_sections(&t.url, &t.emulator.base_url(), &db.url),
            SECTIONS.replace("\"GROUP\"", &format!("\"{GROUP}\""))
        ),
    )
    .unwrap();
    let term = Terminal::new(&t.url);
    let config = config.to_str().unwrap();
    let (code, out, err) = term.run(&["check", "--config", config]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ok   conditional access for device-code"),
        "{out}"
    );
    assert!(
        out.contains("ok   command line (device code): the jitgate requests API"),
        "{out}"
    );
    assert!(
        out.contains("ok   device-code block covers the jitgate API"),
        "{out}"
    );
    // Packages deny privileged accounts by default: reading directory roles is checked.
    assert!(
        out.contains("ok   directory roles: role assignments and PIM eligibility readable"),
        "{out}"
    );
    t.emulator
        .set_device_code_policy_excludes_requests_api(false);
    let (code, out, _) = term.run(&["check", "--config", config]).await;
    assert_eq!(code, 0, "a remark, not a failure: {out}");
    assert!(
        out.contains("note command line (device code): Block device code flow block"),
        "{out}"
    );
    // The portal's own API excluded from the block: a failure that says why.
    t.emulator
        .set_device_code_policy_excludes_requests_api(true);
    t.emulator.set_device_code_policy_excludes_portal(true);
    let (code, out, _) = term.run(&["check", "--config", config]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL device-code block covers the jitgate API: Block device code flow exclude the jitgate API"),
        "{out}"
    );
    assert!(out.contains("could decide requests"), "{out}");
    done(db, t).await;
}
