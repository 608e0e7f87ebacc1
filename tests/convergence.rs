//! Access really ends, whatever happens: real `jitgate serve` processes, killed with SIGKILL at
//! random moments, while the emulated Graph fails about 30% of writes (429, 503, calls that
//! hang past the client's timeout and land anyway); and several replicas on one PostgreSQL
//! database sharing a mass expiry. At the end the group holds exactly the active grants, every
//! ended grant's removal is verified, none is more than 5 s late, and the audit chain verifies.
//! Also: a Graph write that lands after jitgate gave up is undone by the drift check, with one
//! replica and with two (the time from landing to removal is printed).
//!
//! These run on the real clock: grants last one or two minutes (whole minutes are the shortest
//! grant), so each test takes about three minutes. A larger run is `scripts/convergence.sh`.

mod common;
#[path = "convergence/harness.rs"]
mod harness;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use common::db::{Backend, TestDb};
use harness::*;
use jitgate::emulator::demo::{ALEX, AVERY, MORGAN};
use jitgate::emulator::{Chaos, Landing, LateWrite};
use rand::{Rng, SeedableRng};

/// The package and the directory settings of the runs: one-minute grants, one approval, Graph
/// calls given up after a second.
fn sections(lease: &str) -> String {
    format!(
        r#"
[scheduler]
sweep = "*/10 * * * * *"
lease = "{lease}"

[directory]
timeout = "1s"

[reconcile]
every = "20s"

[[package]]
id = "p"
name = "Device code flow exemption"
group_id = "{GROUP}"
min_duration = "1m"
default_duration = "1m"
max_duration = "4h"
"#
    )
}

/// What a run measured.
#[derive(Debug, Default)]
struct Figures {
    grants: usize,
    ended: usize,
    active_at_end: usize,
    kills: usize,
    faults: u64,
    lag_ms: Vec<i64>,
}

impl Figures {
    fn p(&self, q: f64) -> i64 {
        let mut v = self.lag_ms.clone();
        v.sort_unstable();
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    }
}

/// Checks the end state through the API: the group holds exactly the active grants, every ended
/// grant's removal is verified and in time, the chain verifies. Returns the figures.
async fn check_converged(
    people: &People,
    base: &str,
    emu: &jitgate::emulator::Emulator,
    late_limit_ms: i64,
) -> Figures {
    // Wait (bounded) until the outbox is empty and every ended grant's removal is recorded.
    let deadline = Instant::now() + Duration::from_secs(60);
    let all = loop {
        let all = people.all(base, ALEX).await;
        let waiting = all.iter().any(|r| {
            let ended =
                ["expired", "ended", "revoked", "failed"].contains(&r["status"].as_str().unwrap());
            ended
                && r["membership"]["added_at"].is_string()
                && r["membership"]["removed_at"].is_null()
        });
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let pending = text
            .lines()
            .any(|l| l.starts_with("jitgate_directory_operations_pending ") && !l.ends_with(" 0"));
        if !waiting && !pending {
            break all;
        }
        assert!(Instant::now() < deadline, "the directory never caught up");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut f = Figures::default();
    let active: BTreeSet<String> = all
        .iter()
        .filter(|r| r["status"] == "active")
        .map(|r| r["requester"]["id"].as_str().unwrap().to_string())
        .collect();
    let members: BTreeSet<String> = emu.members(GROUP).into_iter().collect();
    assert_eq!(members, active, "the group holds exactly the active grants");
    f.active_at_end = active.len();

    let verified: HashMap<String, Vec<serde_json::Value>> = people
        .events(base, AVERY, "membership_verified")
        .await
        .into_iter()
        .fold(HashMap::new(), |mut m, e| {
            m.entry(e["request_id"].as_str().unwrap_or("").to_string())
                .or_default()
                .push(e);
            m
        });
    for r in &all {
        f.grants += 1;
        let status = r["status"].as_str().unwrap();
        if !["expired", "ended", "revoked"].contains(&status) {
            continue;
        }
        f.ended += 1;
        let id = r["id"].as_str().unwrap();
        if r["membership"]["added_at"].is_null() {
            // Ended before the addition was carried out: nothing to remove.
            continue;
        }
        let removed = &r["membership"]["removed_at"];
        assert!(removed.is_string(), "{id} ended without its removal: {r}");
        assert!(
            verified
                .get(id)
                .is_some_and(|v| v.iter().any(|e| e["details"]["member_seen"] == false)),
            "{id}: the removal was not verified"
        );
        let lag = (at(removed) - at(&r["ends_at"])).num_milliseconds();
        f.lag_ms.push(lag);
        assert!(
            lag <= late_limit_ms,
            "{id} was removed {lag} ms after its end: {r}"
        );
    }
    let (_, v) = people
        .call(
            base,
            AVERY,
            reqwest::Method::GET,
            "/api/v1/audit/verify",
            None,
        )
        .await;
    assert_eq!(v["ok"], true, "the audit chain verifies: {v}");
    f
}

async fn kills_and_faults(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    // `scripts/convergence.sh` runs it larger.
    let grants: usize = std::env::var("JITGATE_CONVERGENCE_GRANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let emu = tenant(grants).await;
    emu.set_chaos(Some(Chaos {
        rate: 0.3,
        hang: Duration::from_millis(1500),
        max_in_a_row: 2,
        seed: 7,
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), "serve", &db.url, &emu, &sections("3s")).await;
    let base = server.url.clone();
    let people = People::new(&emu);
    let started = Instant::now();

    // People ask (one every 200 ms), are approved, and some end early or are revoked.
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut plans = Vec::new();
    for i in 0..grants {
        let minutes = if i % 10 == 0 {
            30
        } else {
            rng.gen_range(1..=2)
        };
        let early = match rng.gen_range(0..10) {
            0 | 1 => Some((user_id(i), rng.gen_range(5..50))),
            2 => Some((ALEX.to_string(), rng.gen_range(5..50))),
            _ => None,
        };
        plans.push((i, minutes, early, Duration::from_millis(i as u64 * 200)));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, minutes, early, delay) in plans {
        let (people, base) = (people.clone(), base.clone());
        tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            let user = user_id(i);
            let id = people.request(&base, &user, minutes).await;
            people.approve(&base, MORGAN, &id).await;
            if let Some((who, after)) = early {
                tokio::time::sleep(Duration::from_secs(after)).await;
                people.end(&base, &who, &id, who == user).await;
            }
        });
    }

    // The process is killed every 6 to 12 s until the last short grant has ended.
    let asking = Duration::from_millis(grants as u64 * 200);
    let until = started + asking + Duration::from_secs(120 + 5);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(6000..12000))).await;
        server.kill_and_restart().await;
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let mut f = check_converged(&people, &base, &emu, 5000).await;
    f.kills = server.kills;
    f.faults = emu.chaos_failures();
    assert!(f.kills >= 10, "{f:?}");
    assert!(f.faults > 0);
    assert!(
        f.active_at_end > 0,
        "some grants still run: the group is not simply empty"
    );
    eprintln!(
        "convergence ({backend:?}): {} grants, {} ended, {} active at the end, {} kills, {} faults injected; removal lag p50 {} ms, p99 {} ms, max {} ms",
        f.grants,
        f.ended,
        f.active_at_end,
        f.kills,
        f.faults,
        f.p(0.5),
        f.p(0.99),
        f.p(1.0)
    );
    drop(server);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_and_faults_sqlite() {
    kills_and_faults(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_and_faults_postgres() {
    kills_and_faults(Backend::Postgres).await;
}

/// Three replicas on one PostgreSQL database; 120 grants end within the same few seconds, and
/// the server is crash-restarted between the additions and the expiry (while readiness and the
/// API are polled): every addition and every removal is carried out exactly once all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_a_mass_expiry() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    const GRANTS: usize = 120;
    let emu = tenant(GRANTS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut servers = Vec::new();
    for n in 0..3 {
        servers.push(
            Server::start(
                dir.path(),
                &format!("replica{n}"),
                &db.url,
                &emu,
                &sections("15s"),
            )
            .await,
        );
    }
    let people = People::new(&emu);
    // Asked for and approved through different replicas, all within a few seconds.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..GRANTS {
        let (people, base) = (people.clone(), servers[i % 3].url.clone());
        tasks.spawn(async move {
            let id = people.request(&base, &user_id(i), 1).await;
            people.approve(&base, MORGAN, &id).await;
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let asked = Instant::now();
    // Every addition carried out (and the first ones answered) before the restart.
    let deadline = asked + Duration::from_secs(30);
    while emu.members(GROUP).len() < GRANTS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = tokio::spawn(probe_outage(
        people.clone(),
        servers[0].url.clone(),
        stop.clone(),
    ));
    let outage = restart_postgres(&db.url).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let probed = probe.await.unwrap();
    assert!(
        probed.slowest_unavailable <= Duration::from_secs(4),
        "an answer during the outage took too long: {probed:?}"
    );
    tokio::time::sleep(Duration::from_secs(65).saturating_sub(asked.elapsed())).await;
    let f = check_converged(&people, &servers[1].url, &emu, 5000).await;
    assert_eq!(f.ended, GRANTS);
    // Each addition and each removal carried out exactly once, whichever replica took it, the
    // restart notwithstanding.
    let (adds, deletes) = member_writes(&emu);
    assert_eq!(deletes.len(), GRANTS, "every member removed");
    let extra = adds + deletes.values().sum::<usize>() - 2 * GRANTS;
    assert!(
        deletes.values().all(|n| *n == 1),
        "each exactly once: {deletes:?}"
    );
    assert_eq!(adds, GRANTS, "each addition exactly once");
    eprintln!(
        "replicas: {} grants ended on 3 replicas, PostgreSQL restarted (away {} ms; {probed:?}); {extra} extra Graph writes; removal lag p50 {} ms, p99 {} ms, max {} ms",
        f.ended,
        outage.as_millis(),
        f.p(0.5),
        f.p(0.99),
        f.p(1.0)
    );
    drop(servers);
    db.cleanup().await;
}

/// What `/readyz` and the API answered while the database was away.
#[derive(Debug, Default)]
struct Probed {
    /// 503 answers, and how many of them carried `Retry-After`.
    unavailable: usize,
    with_retry_after: usize,
    /// Other failures (500s, no answer).
    other_failures: usize,
    slowest_unavailable: Duration,
    slowest: Duration,
}

/// Polls `/readyz` and a request listing every 100 ms until `stop`.
async fn probe_outage(
    people: People,
    base: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Probed {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let token = people.token(AVERY);
    let mut p = Probed::default();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        for api in [false, true] {
            let started = Instant::now();
            let req = if api {
                http.get(format!("{base}/api/v1/requests?limit=1"))
                    .bearer_auth(&token)
            } else {
                http.get(format!("{base}/readyz"))
            };
            let answer = req.send().await;
            let took = started.elapsed();
            p.slowest = p.slowest.max(took);
            match answer {
                Ok(r) if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                    p.unavailable += 1;
                    p.slowest_unavailable = p.slowest_unavailable.max(took);
                    if r.headers().contains_key(reqwest::header::RETRY_AFTER) || !api {
                        p.with_retry_after += 1;
                    }
                }
                Ok(r) if r.status().is_success() => {}
                _ => p.other_failures += 1,
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    p
}

/// SQLite on a small filesystem that fills up while grants end: their removals wait for the
/// space to return, and are then carried out within seconds, by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk() {
    let Some(fs) = common::small_fs::SmallFs::mount(16) else {
        return;
    };
    const GRANTS: usize = 4;
    let emu = tenant(GRANTS).await;
    let url = format!(
        "sqlite://{}?mode=rwc",
        fs.path().join("jitgate.db").display()
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "full", &url, &emu, &sections("5s")).await;
    let people = People::new(&emu);
    for i in 0..GRANTS {
        let id = people.request(&server.url, &user_id(i), 1).await;
        people.approve(&server.url, MORGAN, &id).await;
    }
    let all = people.all(&server.url, ALEX).await;
    let ends: Vec<_> = all.iter().map(|r| at(&r["ends_at"])).collect();
    let (first_end, last_end) = (*ends.iter().min().unwrap(), *ends.iter().max().unwrap());
    let until = |t: chrono::DateTime<chrono::FixedOffset>| {
        (t - chrono::Utc::now().fixed_offset())
            .to_std()
            .unwrap_or_default()
    };
    // Full from 10 s before the first end until 10 s after the last.
    tokio::time::sleep(until(first_end - chrono::Duration::seconds(10))).await;
    assert_eq!(emu.members(GROUP).len(), GRANTS, "every grant added");
    // The write-ahead log emptied first, or the next writes could reuse its space.
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for _ in 0..20 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut c)
                .await
                .unwrap();
            if busy == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        c.close().await.unwrap();
    }
    fs.fill();
    tokio::time::sleep(until(last_end + chrono::Duration::seconds(10))).await;
    assert_eq!(
        emu.members(GROUP).len(),
        GRANTS,
        "nothing removed while the disk was full (the removals could not be recorded)"
    );
    fs.free();
    let freed = Instant::now();
    let first_removal = loop {
        if emu.members(GROUP).len() < GRANTS {
            break freed.elapsed();
        }
        assert!(
            freed.elapsed() < Duration::from_secs(30),
            "nothing was removed within 30 s of space returning: {}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let f = check_converged(&people, &server.url, &emu, 60_000).await;
    assert_eq!(f.ended, GRANTS);
    assert!(
        first_removal < Duration::from_secs(15),
        "the first removal came {first_removal:?} after space returned"
    );
    eprintln!(
        "full disk (SQLite): {GRANTS} grants ended while the disk was full; first removal {} ms after space returned, all removed {} ms late at most",
        first_removal.as_millis(),
        f.p(1.0)
    );
    drop(server);
}

/// A Graph write that lands after jitgate gave up, on the real clock: a user's additions time
/// out (the emulator holds them), the grant is ended, its removal finds nobody; then the held
/// additions land. Measured: the time from the landing to the member's removal by the drift
/// check (`delta_every` at its default, 10 s; full reconciliation every 5 minutes, out of the
/// way), with one replica on SQLite and with two on PostgreSQL.
async fn late_landing(backend: Backend, replicas: usize) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let emu = tenant(1).await;
    let user = user_id(0);
    emu.delay_landing(LateWrite::additions(100, Landing::OnTrigger).of(&user));
    let dir = tempfile::tempdir().unwrap();
    let sections = sections("15s").replace("every = \"20s\"", "every = \"5m\"");
    let mut servers = Vec::new();
    for n in 0..replicas {
        servers
            .push(Server::start(dir.path(), &format!("late{n}"), &db.url, &emu, &sections).await);
    }
    let base = servers[0].url.clone();
    let people = People::new(&emu);
    let id = people.request(&base, &user, 5).await;
    people.approve(&base, MORGAN, &id).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.held_writes() == 0 {
        assert!(Instant::now() < deadline, "the addition was never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Past the client's timeout: the addition failed as far as jitgate knows.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    people
        .end(&servers[replicas - 1].url, &user, &id, true)
        .await;
    let removed = |people: People, base: String, id: String| async move {
        people
            .events(&base, AVERY, "membership_removed")
            .await
            .iter()
            .any(|e| e["request_id"] == id.as_str())
    };
    while !removed(people.clone(), base.clone(), id.clone()).await {
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "the grant's removal never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!emu.members(GROUP).contains(&user));
    let landed = Instant::now();
    assert!(emu.land_late_writes() >= 1);
    assert!(
        emu.members(GROUP).contains(&user),
        "the late addition landed"
    );
    while emu.members(GROUP).contains(&user) {
        assert!(
            landed.elapsed() < Duration::from_secs(60),
            "still a member a minute after landing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = landed.elapsed();
    eprintln!(
        "late landing ({backend:?}, {replicas} replica(s)): removed {} ms after it landed",
        took.as_millis()
    );
    assert!(
        took < Duration::from_secs(30),
        "removed {took:?} after landing"
    );
    drop(servers);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_landing_is_undone_sqlite() {
    late_landing(Backend::Sqlite, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_landing_is_undone_on_two_replicas() {
    late_landing(Backend::Postgres, 2).await;
}
