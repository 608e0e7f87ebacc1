//! What a package's per-person limits cost on the request path (issue 19, item 10).
//!
//! `cargo bench --bench ask_limits` (SQLite, a file in a temporary folder);
//! `JITGATE_BENCH_POSTGRES=postgres://…/empty_db` for PostgreSQL. On a store with a history
//! (`JITGATE_BENCH_PEOPLE` people, default 500, with 40 requests each over the last 30 days and
//! an extension on every fourth), one person with 9 requests and 9 extensions in the last hour
//! (one under the default limit) asks again and again. Each round measures, back to back:
//!
//! - `insert`: the write transaction that adds a request, as before the limits;
//! - `count + insert`: the same with the limit's count read first, in that transaction;
//! - `extension count`: the count of extensions asked in the hour (a join through requests);
//! - `refusal`: what a refused ask reads (the count, and whether the refusal is already
//!   recorded in the audit trail) before its transaction is dropped;
//! - `pacing`: what the sender's pacing of a decider e-mail reads and writes (when the last
//!   went out, taking what is due under the person's key, noting the new time).
//!
//! The requests added are dated two hours back, so the counted window stays at 9 throughout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jitgate::domain::extension::{Extension, ExtensionStatus};
use jitgate::domain::limits::AskKind;
use jitgate::domain::request::ValidRequest;
use jitgate::domain::{
    AuditAction, NewAuditEvent, Package, Request, RequestId, RequestStatus, UserRef,
};
use jitgate::store::Store;

const ROUNDS: usize = 2000;
const BENCH_USER: &str = "bench-user";

fn user(id: &str) -> UserRef {
    UserRef {
        id: id.into(),
        name: format!("User {id}"),
        username: format!("{id}@example.com"),
    }
}

/// A closed request of `who` for `pkg`, made at `at`.
fn request(pkg: &Package, who: &str, at: chrono::DateTime<Utc>) -> Request {
    let valid = ValidRequest {
        duration_minutes: 60,
        justification: "deploying the CI runner".into(),
        ticket: None,
        requested_start: None,
        timeout_at: at + chrono::Duration::hours(24),
    };
    let mut r = Request::pending(RequestId::new(), pkg, user(who), None, valid, at);
    r.status = RequestStatus::Cancelled;
    r
}

fn extension(r: &Request, at: chrono::DateTime<Utc>) -> Extension {
    Extension {
        id: format!("x-{}", uuid::Uuid::new_v4().simple()),
        request_id: r.id.clone(),
        minutes: 30,
        justification: "the migration runs long".into(),
        status: ExtensionStatus::Approved,
        requested_at: at,
        ends_before: at,
        ends_after: Some(at),
        decided_at: Some(at),
        approvals: vec![],
    }
}

async fn history(store: &Arc<dyn Store>, pkg: &Package, people: usize) -> anyhow::Result<()> {
    let now = Utc::now();
    for p in 0..people {
        let mut tx = store.begin().await?;
        for i in 0..40 {
            let at = now - chrono::Duration::minutes(30 * 24 * 60 * i / 40 + 90);
            let r = request(pkg, &format!("person-{p}"), at);
            tx.insert_request(&r).await?;
            if i % 4 == 0 {
                tx.insert_extension(&extension(&r, at), at).await?;
            }
        }
        tx.commit().await?;
    }
    let mut tx = store.begin().await?;
    for i in 0..200 {
        let at = now - chrono::Duration::hours(2 + i);
        tx.insert_request(&request(pkg, BENCH_USER, at)).await?;
    }
    for i in 0..9 {
        let at = now - chrono::Duration::minutes(5 * i + 1);
        let r = request(pkg, BENCH_USER, at);
        tx.insert_request(&r).await?;
        tx.insert_extension(&extension(&r, at), at).await?;
    }
    tx.append_event(NewAuditEvent {
        at: now,
        actor_id: BENCH_USER.into(),
        actor_name: "Bench".into(),
        action: AuditAction::RequestRefused,
        request_id: None,
        subject_id: Some(BENCH_USER.into()),
        details: serde_json::json!({"package": pkg.id, "kind": "request"}),
        client_ip: None,
        user_agent: None,
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

struct Timings(Vec<Duration>);

impl Timings {
    fn line(&mut self, what: &str) -> Duration {
        self.0.sort();
        let pct = |p: f64| self.0[((self.0.len() as f64 * p) as usize).min(self.0.len() - 1)];
        println!(
            "{what:<18} median {:>7.3} ms   p90 {:>7.3} ms   p99 {:>7.3} ms",
            ms(pct(0.5)),
            ms(pct(0.9)),
            ms(pct(0.99))
        );
        pct(0.5)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("ask_limits: run it with `cargo bench --bench ask_limits`");
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let people: usize = std::env::var("JITGATE_BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir()?;
    let (db_url, backend) = match std::env::var("JITGATE_BENCH_POSTGRES") {
        Ok(url) => (url, "postgres"),
        Err(_) => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            "sqlite",
        ),
    };
    let store = jitgate::store::connect(&db_url).await?;
    store.migrate().await?;
    let pkg = Package::example("device-code", "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b");
    let started = Instant::now();
    history(&store, &pkg, people).await?;
    println!(
        "{backend}: {} requests of {people} people in the store ({:.1} s to fill); {ROUNDS} rounds",
        people * 40 + 209,
        started.elapsed().as_secs_f64()
    );

    let key = format!("deciders:{BENCH_USER}");
    let (mut insert, mut counted, mut ext, mut refusal, mut pacing) = (
        Timings(vec![]),
        Timings(vec![]),
        Timings(vec![]),
        Timings(vec![]),
        Timings(vec![]),
    );
    for _ in 0..ROUNDS {
        let now = Utc::now();
        let since = now - jitgate::domain::limits::window();
        let old = now - chrono::Duration::hours(2);

        let t = Instant::now();
        let mut tx = store.begin().await?;
        tx.insert_request(&request(&pkg, BENCH_USER, old)).await?;
        tx.commit().await?;
        insert.0.push(t.elapsed());

        let t = Instant::now();
        let mut tx = store.begin().await?;
        let asked = tx
            .asks_since(AskKind::Request, BENCH_USER, &pkg.id, since)
            .await?;
        assert_eq!(asked.len(), 9);
        jitgate::domain::limits::check(AskKind::Request, &asked, 10, now).expect("under the limit");
        tx.insert_request(&request(&pkg, BENCH_USER, old)).await?;
        tx.commit().await?;
        counted.0.push(t.elapsed());

        let t = Instant::now();
        let mut tx = store.begin().await?;
        let asked = tx
            .asks_since(AskKind::Extension, BENCH_USER, &pkg.id, since)
            .await?;
        assert_eq!(asked.len(), 9);
        drop(tx);
        ext.0.push(t.elapsed());

        let t = Instant::now();
        let mut tx = store.begin().await?;
        let asked = tx
            .asks_since(AskKind::Request, BENCH_USER, &pkg.id, since)
            .await?;
        jitgate::domain::limits::check(AskKind::Request, &asked, 9, now).expect_err("over");
        let recorded = tx.refused_packages_since(BENCH_USER, since).await?;
        assert_eq!(recorded, std::slice::from_ref(&pkg.id));
        drop(tx);
        refusal.0.push(t.elapsed());

        let t = Instant::now();
        let mut tx = store.begin().await?;
        let _ = tx.paced_sent_at(&key).await?;
        let _ = tx
            .take_paced(&key, now, "bench", chrono::Duration::seconds(60))
            .await?;
        tx.set_paced_sent_at(&key, now).await?;
        tx.commit().await?;
        pacing.0.push(t.elapsed());
    }
    let base = insert.line("insert");
    let with = counted.line("count + insert");
    ext.line("extension count");
    refusal.line("refusal");
    pacing.line("pacing");
    println!(
        "the limit adds {:.3} ms to the median request write ({:+.0} %)",
        ms(with) - ms(base),
        (ms(with) / ms(base) - 1.0) * 100.0
    );
    store.close().await;
    Ok(())
}
