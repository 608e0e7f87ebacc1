//! The directory worker: claims queued directory operations, carries them out against Microsoft
//! Graph, several at once, and hands each answer to the service, which decides what it means.
//!
//! - Up to `[directory] concurrency` calls run at once, each for a different member (the store
//!   hands out only the oldest unfinished operation of a member, so one member's operations stay
//!   in order). A slow or hanging call holds one slot, never the others.
//! - Claimed operations are leased. While calls run the worker renews its leases every third of
//!   the lease, so a live worker keeps them however long Graph takes and a dead one frees them
//!   within one lease. Re-running an operation is safe: Graph's "already a member" and "not a
//!   member" answers count as success.
//! - The worker claims only while it holds its liveness lock (PostgreSQL: a session lock that
//!   tells other replicas it is alive). A database restart or a lost connection drops the lock:
//!   the claim then fails, and the worker waits until the lock is taken again before claiming.
//! - Answers are recorded by one task in as few transactions as they arrive in; a recording that
//!   fails is retried, so no answer is dropped while the process lives.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::error::AppError;
use crate::graph::{Directory, DirectoryError, MemberChange, MemberOp};
use crate::service::Portal;
use crate::service::directory::{Attempt, ReadBack};
use crate::store::{DirectoryOp, OpKind};

/// How often an idle worker looks around anyway (and refreshes its heartbeat).
pub const IDLE_WAKE: Duration = Duration::seconds(15);
/// Operations carried out in one JSON batch at most (Graph's limit).
const MAX_BATCH: usize = 20;
/// Answers recorded in one transaction at most.
const RECORD_BATCH: usize = 500;

pub struct Worker {
    portal: Portal,
    directory: Arc<dyn Directory>,
    id: String,
}

impl Worker {
    pub fn new(portal: Portal, directory: Arc<dyn Directory>) -> Worker {
        Worker {
            portal,
            directory,
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub async fn run(self) {
        let concurrency = self.portal.directory_concurrency();
        let alive = self.portal.hold_worker_lock(&self.id).await;
        tracing::info!(worker = %self.id, concurrency, "directory worker started");
        let slots = Arc::new(Semaphore::new(concurrency));
        let freed = Arc::new(Notify::new());
        let (answers, inbox) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record(
            self.portal.clone(),
            self.id.clone(),
            inbox,
            freed.clone(),
        ));
        let renewer = tokio::spawn(renew(self.portal.clone(), self.id.clone()));
        let _stop = AbortOnDrop(vec![recorder, renewer]);
        // The calls in flight end with the worker (as they would in a crash).
        let mut calls = JoinSet::new();
        let mut last_heartbeat = None;
        loop {
            let now = self.portal.now();
            if last_heartbeat.is_none_or(|t| now - t >= Duration::seconds(5)) {
                self.portal.heartbeat("worker").await;
                last_heartbeat = Some(now);
            }
            while calls.try_join_next().is_some() {}
            let free = slots.available_permits();
            if free == 0 {
                // Every slot is busy: nothing to claim until one frees up.
                freed.notified().await;
                continue;
            }
            let claimed = {
                match self
                    .portal
                    .claim_directory_ops(&self.id, free * MAX_BATCH)
                    .await
                {
                    Ok(ops) => {
                        let n = ops.len();
                        for group in split(ops, free) {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let directory = self.directory.clone();
                            let answers = answers.clone();
                            let freed = freed.clone();
                            calls.spawn(async move {
                                for answer in carry_out(directory, group).await {
                                    let _ = answers.send(answer);
                                }
                                drop(slot);
                                freed.notify_one();
                            });
                        }
                        n
                    }
                    Err(AppError::Unavailable(_)) => {
                        // The database is unreachable, or the worker's lock was lost with its
                        // connection: claim again once the lock is held (taken again if need
                        // be), never before, or other replicas could run the same work.
                        alive.confirm().await;
                        tokio::time::sleep(StdDuration::from_millis(100)).await;
                        continue;
                    }
                    Err(e) => {
                        e.log();
                        tracing::error!(error = %e, "claiming directory operations failed");
                        tokio::time::sleep(StdDuration::from_secs(1)).await;
                        continue;
                    }
                }
            };
            if claimed > 0 && claimed >= free {
                // Every slot was filled: wait for one to free up.
                freed.notified().await;
                continue;
            }
            let now = self.portal.now();
            let next = self.portal.next_directory_op_at().await;
            let wake_at = next.map_or(now + IDLE_WAKE, |n| n.min(now + IDLE_WAKE));
            tokio::select! {
                _ = self.portal.sleep_until(wake_at) => {}
                _ = self.portal.wake.worker.notified() => {}
                _ = freed.notified() => {}
            }
        }
    }
}

/// Carries out `ops` (one call each, or JSON batches when there are several), then reads back
/// the memberships that changed. A panic is an answer too, so no lease is renewed forever for
/// an operation nobody carries out.
async fn carry_out(
    directory: Arc<dyn Directory>,
    ops: Vec<DirectoryOp>,
) -> Vec<(DirectoryOp, Attempt)> {
    if let [op] = ops.as_slice()
        && op.kind == OpKind::RevokeSessions
    {
        return vec![(ops[0].clone(), revoke(directory, &ops[0]).await)];
    }
    let changes: Vec<MemberOp> = ops
        .iter()
        .map(|op| MemberOp {
            add: op.kind == OpKind::Add,
            group_id: op.group_id.clone(),
            user_id: op.user_id.clone(),
        })
        .collect();
    // A set of one: aborted with the worker, and a panic comes back as an error.
    let mut work = JoinSet::new();
    let n = ops.len();
    work.spawn(async move {
        let started = std::time::Instant::now();
        let results = if changes.len() == 1 {
            let c = &changes[0];
            vec![if c.add {
                directory.add_member(&c.group_id, &c.user_id).await
            } else {
                directory.remove_member(&c.group_id, &c.user_id).await
            }]
        } else {
            directory.change_members(&changes).await
        };
        let graph_ms = started.elapsed().as_millis() as u64;
        let read_backs = read_back(directory.as_ref(), &changes, &results).await;
        results
            .into_iter()
            .zip(read_backs)
            .map(|(result, read_back)| Attempt {
                result,
                graph_ms,
                read_back,
            })
            .collect::<Vec<_>>()
    });
    let attempts = match work.join_next().await {
        Some(Ok(attempts)) if attempts.len() == n => attempts,
        other => {
            let why = match other {
                Some(Err(e)) => format!("the directory call failed: {e}"),
                _ => "the directory call was lost".to_string(),
            };
            (0..n)
                .map(|_| Attempt::unverified(Err(DirectoryError::Transient(why.clone())), 0))
                .collect()
        }
    };
    ops.into_iter().zip(attempts).collect()
}

/// Shares `ops` among at most `slots` calls: one operation each while they fit, else batches of
/// at most [`MAX_BATCH`] as even as can be.
fn split(ops: Vec<DirectoryOp>, slots: usize) -> Vec<Vec<DirectoryOp>> {
    // Revocations go alone (they are few, and are not membership changes).
    let (revocations, ops): (Vec<_>, Vec<_>) = ops
        .into_iter()
        .partition(|op| op.kind == OpKind::RevokeSessions);
    let mut out: Vec<Vec<DirectoryOp>> = revocations.into_iter().map(|op| vec![op]).collect();
    let slots = slots.saturating_sub(out.len()).max(1);
    out.extend(split_changes(ops, slots));
    out
}

fn split_changes(ops: Vec<DirectoryOp>, slots: usize) -> Vec<Vec<DirectoryOp>> {
    if ops.is_empty() {
        return Vec::new();
    }
    if ops.len() <= slots {
        return ops.into_iter().map(|op| vec![op]).collect();
    }
    let groups = ops
        .len()
        .div_ceil(MAX_BATCH)
        .max(slots.min(ops.len()))
        .max(1);
    let mut out: Vec<Vec<DirectoryOp>> = (0..groups).map(|_| Vec::new()).collect();
    for (i, op) in ops.into_iter().enumerate() {
        out[i % groups].push(op);
    }
    out
}

/// Revokes the user's sign-in sessions (nothing to read back).
async fn revoke(directory: Arc<dyn Directory>, op: &DirectoryOp) -> Attempt {
    let started = std::time::Instant::now();
    let user = op.user_id.clone();
    let mut work = JoinSet::new();
    work.spawn(async move { directory.revoke_sign_in_sessions(&user).await });
    let result = match work.join_next().await {
        Some(Ok(r)) => r.map(|()| MemberChange::SessionsRevoked),
        Some(Err(e)) => Err(DirectoryError::Transient(format!(
            "the directory call failed: {e}"
        ))),
        None => Err(DirectoryError::Transient(
            "the directory call was lost".into(),
        )),
    };
    Attempt::unverified(result, started.elapsed().as_millis() as u64)
}

/// Pauses between read-backs of a change that does not show yet (Graph is eventually consistent).
const READ_BACK_PAUSES_MS: [u64; 6] = [0, 250, 500, 1000, 1000, 2000];

/// Reads back each membership that changed successfully, a few times until it shows as expected.
async fn read_back(
    directory: &dyn Directory,
    changes: &[MemberOp],
    results: &[Result<MemberChange, DirectoryError>],
) -> Vec<Option<ReadBack>> {
    let mut out: Vec<Option<ReadBack>> = results
        .iter()
        .map(|r| {
            r.is_ok().then_some(ReadBack {
                member_seen: None,
                reads: 0,
                error: None,
            })
        })
        .collect();
    let mut pending: Vec<usize> = (0..changes.len()).filter(|i| out[*i].is_some()).collect();
    for pause in READ_BACK_PAUSES_MS {
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(pause)).await;
        let pairs: Vec<(String, String)> = pending
            .iter()
            .map(|i| (changes[*i].group_id.clone(), changes[*i].user_id.clone()))
            .collect();
        let seen = if pairs.len() == 1 {
            vec![directory.is_member(&pairs[0].0, &pairs[0].1).await]
        } else {
            directory.are_members(&pairs).await
        };
        let mut still = Vec::new();
        for (i, answer) in pending.into_iter().zip(seen) {
            let rb = out[i].as_mut().expect("read back only what changed");
            rb.reads += 1;
            match answer {
                Ok(member) => {
                    rb.member_seen = Some(member);
                    rb.error = None;
                    if member != changes[i].add {
                        still.push(i);
                    }
                }
                Err(e) => {
                    rb.error = Some(e.to_string());
                    still.push(i);
                }
            }
        }
        pending = still;
    }
    out
}

/// Records answers as they come, as many per transaction as have arrived. A failed recording is
/// retried with the same answers (the leases stay renewed meanwhile).
async fn record(
    portal: Portal,
    worker: String,
    mut inbox: mpsc::UnboundedReceiver<(DirectoryOp, Attempt)>,
    freed: Arc<Notify>,
) {
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match inbox.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        loop {
            match portal.record_directory_attempts(&worker, &batch).await {
                Ok(()) => break,
                Err(e) => {
                    e.log();
                    tracing::error!(error = %e, answers = batch.len(), "recording directory answers failed; retrying");
                    tokio::time::sleep(StdDuration::from_secs(1)).await;
                }
            }
        }
        // The member's next operation may be claimable now.
        freed.notify_one();
    }
}

/// Renews the worker's leases every third of the lease, by the wall clock or the portal's clock
/// (tests move the latter by hand), whichever comes first.
async fn renew(portal: Portal, worker: String) {
    let third = portal.directory_lease() / 3;
    let every = third.to_std().unwrap_or(StdDuration::from_secs(5));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = portal.sleep_until(portal.now() + third) => {}
        }
        if let Err(e) = portal.renew_directory_leases(&worker).await {
            tracing::warn!(error = %e, "renewing directory leases failed");
        }
    }
}

struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}
