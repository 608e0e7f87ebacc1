//! Receivers for the notification channels: a local HTTP server standing in for the Teams,
//! Slack and generic webhooks, the independent Python check of webhook signatures
//! (tests/channels/verify_webhook.py) and a real SMTP server (aiosmtpd, tests/channels/smtp_sink.py).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jitgate::channels::{SmtpConfig, SmtpSecurity};
use secrecy::SecretString;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// A webhook receiver

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Answer {
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Never: the request hangs until the client gives up.
    Never,
}

impl Answer {
    pub fn status(code: u16) -> Answer {
        Answer::Status {
            code,
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub answer: Answer,
}

pub async fn record(
    State(r): State<Receiver>,
    uri: Uri,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or("<not text>").to_owned(),
            )
        })
        .collect();
    r.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers,
        body: body.to_vec(),
    });
    match r.answer {
        Answer::Status {
            code,
            headers,
            body,
        } => {
            let mut resp = (StatusCode::from_u16(code).unwrap(), body).into_response();
            for (name, value) in headers {
                resp.headers_mut()
                    .insert(name, HeaderValue::from_str(&value).unwrap());
            }
            resp
        }
        Answer::Never => std::future::pending().await,
    }
}

/// A receiver on 127.0.0.1 answering every request with `answer`: its address and what it saw.
pub async fn receiver(answer: Answer) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(record).with_state(Receiver {
        seen: seen.clone(),
        answer,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

// ---------------------------------------------------------------------------------------------
// Python, for the independent checks

pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips the calling test (returns `None`) with a loud note, or fails it under CI.
pub fn missing(what: &str) -> Option<PathBuf> {
    assert!(!ci(), "{what}: required under CI");
    eprintln!("SKIPPED: {what}");
    None
}

pub fn channels_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/channels")
}

/// `python3` from the PATH, if it runs.
pub fn python3() -> Option<PathBuf> {
    match Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Some(PathBuf::from("python3")),
        Ok(s) => missing(&format!(
            "`python3 --version` failed ({s}); the webhook signature is not checked"
        )),
        Err(e) => missing(&format!(
            "python3 cannot be run ({e}); the webhook signature is not checked"
        )),
    }
}

/// Runs verify_webhook.py: whether it accepts the signature.
pub fn python_verifies(python: &Path, secret: &str, seen: &Seen) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, &seen.body).unwrap();
    let out = Command::new(python)
        .arg(channels_dir().join("verify_webhook.py"))
        .arg(secret)
        .arg(serde_json::to_string(&seen.headers).unwrap())
        .arg(&body)
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => true,
        Some(1) => {
            eprintln!(
                "verify_webhook.py: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            false
        }
        _ => panic!(
            "verify_webhook.py failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP against aiosmtpd

/// The Python with aiosmtpd, from `JITGATE_TEST_SMTP_PYTHON`.
pub fn smtp_python() -> Option<PathBuf> {
    match std::env::var_os("JITGATE_TEST_SMTP_PYTHON") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "JITGATE_TEST_SMTP_PYTHON={} does not exist",
                p.display()
            );
            Some(p)
        }
        _ => missing(
            "JITGATE_TEST_SMTP_PYTHON is not set (a Python with aiosmtpd 1.4.6; scripts/test.sh installs one); the SMTP tests do not run",
        ),
    }
}

/// A running smtp_sink.py; killed when dropped.
pub struct Sink {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Sink {
    /// Starts the sink, requiring `auth` (user, password) when given, and waits until it accepts
    /// connections.
    pub async fn start(python: &Path, auth: Option<(&str, &str)>) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(python);
        cmd.arg(channels_dir().join("smtp_sink.py"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--out")
            .arg(dir.path().join("mail.jsonl"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap());
        if let Some((user, password)) = auth {
            cmd.args(["--user", user, "--password", password]);
        }
        let child = cmd.spawn().unwrap();
        let mut sink = Sink { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = sink.child.try_wait().unwrap() {
                panic!("smtp_sink.py exited ({status}): {}", sink.stderr());
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return sink;
            }
            assert!(
                Instant::now() < deadline,
                "smtp_sink.py does not listen on {port}: {}",
                sink.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.dir.path().join("mail.jsonl")) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn config(&self, auth: Option<(&str, &str)>) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            security: SmtpSecurity::None,
            username: auth.map(|(u, _)| u.to_owned()),
            password: auth.map(|(_, p)| SecretString::from(p.to_owned())),
            from: "jitgate <jit@example.com>".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text as received, with the line ends of the wire made plain again.
pub fn text(v: &Value) -> String {
    v.as_str()
        .unwrap()
        .replace("\r\n", "\n")
        .trim_end()
        .to_owned()
}
