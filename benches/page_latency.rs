//! Server time of the main pages with 1,000 requests and 10,000 audit events in the database.
//!
//! `cargo bench --bench page_latency` (SQLite); `JITGATE_BENCH_POSTGRES=postgres://…/db` for PostgreSQL.
//! Requests go through the whole router in-process (bearer authentication, sessions, CSRF and
//! security layers, the handler and its queries, template rendering); no socket is involved.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use chrono::{Duration as Span, Utc};
use jitgate::auth::Oidc;
use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::domain::{
    Approval, AuditAction, Decision, NewAuditEvent, Request as Req, RequestStatus, UserRef,
};
use jitgate::emulator::demo::{ALEX, AVERY, CLIENT_ID, DANA, EXCLUSION_GROUP_ID, JORDAN};
use jitgate::emulator::{Emulator, EmulatorConfig, TokenSpec};
use jitgate::graph::{GraphClient, GraphSettings};
use jitgate::service::Portal;
use jitgate::store;
use jitgate::web::{self, AppState};
use tower::ServiceExt;

const REQUESTS: usize = 1_000;
const EVENTS: usize = 10_000;

fn user(i: usize) -> UserRef {
    if i == 0 {
        return UserRef {
            id: DANA.into(),
            name: "Dana Developer".into(),
            username: "dana@example.com".into(),
        };
    }
    UserRef {
        id: format!("00000000-0000-4000-8000-{i:012}"),
        name: format!("User {i}"),
        username: format!("user{i}@example.com"),
    }
}

/// Request ids are GUIDs.
fn request_id(i: usize) -> String {
    format!("00000000-0000-4000-9000-{i:012}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("page_latency: run it with `cargo bench --bench page_latency`");
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let db_url = std::env::var("JITGATE_BENCH_POSTGRES").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("pages.db").display()
        )
    });
    let emulator = Emulator::start(
        EmulatorConfig::demo(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;
    let toml = format!(
        "{}\n[[package]]\nid = \"device-code\"\nname = \"Device code flow exemption\"\ngroup_id = \"{EXCLUSION_GROUP_ID}\"\nmin_duration = \"15m\"\ndefault_duration = \"2h\"\nmax_duration = \"4h\"\n",
        jitgate::demo::emulator_sections("http://127.0.0.1:8080", &emulator.base_url(), &db_url)
    );
    let settings = Arc::new(Settings::from_toml(&toml, [])?);
    let st = store::connect(&db_url).await?;
    st.migrate().await?;
    st.session_store().migrate().await?;

    // Seed: 1,000 requests by 200 people (each person's requests one after another), most of them closed.
    let seed = Instant::now();
    let now = Utc::now();
    let mut tx = st.begin().await?;
    let mut made = 0;
    'outer: for round in 0..5 {
        for u in 0..200 {
            let i = round * 200 + u;
            let created = now - Span::days(20) + Span::minutes(i as i64 * 20);
            let status = match (round, u % 20) {
                (4, 0..=4) => RequestStatus::Pending,
                (4, 5..=7) => RequestStatus::Active,
                (4, 8) => RequestStatus::Approved,
                (_, 0) => RequestStatus::Denied,
                (_, 1) => RequestStatus::Revoked,
                _ => RequestStatus::Expired,
            };
            let started = status != RequestStatus::Pending && status != RequestStatus::Denied;
            let r = Req {
                id: request_id(i),
                package: "device-code".into(),
                group_id: EXCLUSION_GROUP_ID.into(),
                requester: user(u),
                asked_by: None,
                manager_id: None,
                status,
                duration_minutes: 120,
                justification: format!("benchmark request number {i}, for the CI runner"),
                ticket: Some(format!("INC-{i}")),
                ticket_url: None,
                created_at: created,
                requested_start: None,
                timeout_at: created + Span::hours(24),
                starts_at: started.then_some(created + Span::minutes(5)),
                ends_at: started.then_some(if status == RequestStatus::Active {
                    now + Span::hours(1)
                } else {
                    created + Span::minutes(125)
                }),
                decided_at: (status != RequestStatus::Pending)
                    .then_some(created + Span::minutes(5)),
                added_at: started.then_some(created + Span::minutes(5)),
                removed_at: (started
                    && status != RequestStatus::Active
                    && status != RequestStatus::Approved)
                    .then_some(created + Span::minutes(125)),
                close_reason: None,
                approvals: vec![],
            };
            tx.insert_request(&r).await?;
            if status != RequestStatus::Pending {
                let decision = if status == RequestStatus::Denied {
                    Decision::Deny
                } else {
                    Decision::Approve
                };
                tx.insert_approval(
                    &r.id,
                    &Approval {
                        approver: user(199),
                        decision,
                        comment: Some("ok".into()),
                        at: created + Span::minutes(5),
                    },
                )
                .await?;
            }
            made += 1;
            if made == REQUESTS {
                break 'outer;
            }
        }
    }
    for e in 0..EVENTS {
        let r = request_id(e % REQUESTS);
        let action = AuditAction::ALL[e % 12];
        tx.append_event(NewAuditEvent {
            at: now - Span::days(20) + Span::seconds(e as i64 * 150),
            actor_id: user(e % 200).id,
            actor_name: user(e % 200).name,
            action,
            request_id: Some(r),
            subject_id: Some(user(e % 200).id),
            details: serde_json::json!({"comment": "benchmark", "duration_minutes": 120, "justification": "benchmark event"}),
            client_ip: Some("10.1.2.3".into()),
            user_agent: Some("bench".into()),
        })
        .await?;
    }
    tx.commit().await?;
    println!(
        "backend: {}; seeded {REQUESTS} requests and {EVENTS} audit events in {:.1} s",
        st.backend(),
        seed.elapsed().as_secs_f64()
    );

    let full = Instant::now();
    let v = jitgate::service::audit::verify(st.as_ref(), &settings.audit, None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "full chain walk ({} events, ok={}): {:.1} ms",
        v.events,
        v.ok,
        full.elapsed().as_secs_f64() * 1000.0
    );

    let directory = Arc::new(GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    ));
    let sessions = st.session_store();
    let portal = Portal::new(settings.clone(), st, directory, Arc::new(SystemClock));
    let router = web::router(
        AppState {
            portal,
            oidc: Arc::new(Oidc::new(settings.clone())?),
        },
        &settings,
        sessions,
    );
    let token = |u: &str| emulator.mint_token(TokenSpec::new(u, &format!("api://{CLIENT_ID}")));
    let pages = [
        ("My access (requester with history)", DANA, "/".to_string()),
        ("Approvals (50 waiting)", JORDAN, "/approvals".to_string()),
        ("Audit (newest 50 of 10,000)", AVERY, "/audit".to_string()),
        (
            "Audit filtered by person and action",
            AVERY,
            format!("/audit?person={DANA}&action=grant_expired"),
        ),
        (
            "Request timeline",
            AVERY,
            format!("/requests/{}", request_id(42)),
        ),
        ("Operations (admin)", ALEX, "/operations".to_string()),
    ];
    println!("{:<40} {:>9} {:>9} {:>9}", "page", "median", "p95", "max");
    for (name, who, path) in pages {
        let t = token(who);
        let mut times = Vec::new();
        for i in 0..230 {
            let req = Request::get(path.as_str())
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())?;
            let start = Instant::now();
            let resp = router.clone().oneshot(req).await?;
            let status = resp.status();
            let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
            let took = start.elapsed();
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            if i >= 30 {
                times.push(took);
            }
        }
        times.sort();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:<40} {:>9} {:>9} {:>9}",
            name,
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}
