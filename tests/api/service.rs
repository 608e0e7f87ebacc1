//! The service is the gate: its reads refuse the wrong roles by themselves, with no HTTP layer in
//! front, so a future endpoint or command cannot forget the check.

use jitgate::error::AppError;
use jitgate::service::ExportFormat;
use jitgate::store::AuditFilter;

use crate::helpers::*;
use crate::on_both_databases;

fn forbidden<T>(what: &str, r: Result<T, AppError>) {
    assert!(
        matches!(r, Err(AppError::Forbidden(_))),
        "{what} must be refused"
    );
}

async fn reads_check_the_role_themselves(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    let id = jitgate::domain::RequestId::parse(&id).unwrap();
    let p = t.portal();
    let requester = principal(DANA, &[]);
    let stranger = principal(RILEY, &[]);
    let auditor = principal(AVERY, &["Auditor"]);
    let admin = principal(ALEX, &["Admin"]);
    let approver = principal(JORDAN, &["Approver"]);
    let all = AuditFilter::default();

    forbidden("operations for a requester", p.operations(&requester).await);
    forbidden("operations for an auditor", p.operations(&auditor).await);
    assert_eq!(p.operations(&admin).await.unwrap().grants.len(), 0);

    forbidden(
        "audit events for a requester",
        p.audit_events(&requester, &all).await,
    );
    forbidden(
        "audit export for an approver",
        p.export_audit(&approver, &all, None, ExportFormat::Csv)
            .await,
    );
    forbidden(
        "audit verification for a requester",
        p.verify_audit(&requester).await,
    );
    forbidden(
        "the chain's status for a requester",
        p.audit_chain_status(&requester).await,
    );
    forbidden(
        "subject names for a requester",
        p.subject_names(&requester, &[]).await,
    );
    assert_eq!(
        p.audit_events(&auditor, &all).await.unwrap().events.len(),
        1
    );
    assert!(p.verify_audit(&admin).await.unwrap().ok);

    forbidden("someone else's timeline", p.timeline(&stranger, &id).await);
    let (r, events) = p.timeline(&requester, &id).await.unwrap();
    assert_eq!((r.id.as_str(), events.len()), (id.as_str(), 1));

    forbidden(
        "the approvals queue for a requester",
        p.approval_queue(&stranger).await,
    );
    assert_eq!(p.approval_queue(&approver).await.unwrap().len(), 1);

    // Readiness is open to load balancers: it reveals only whether the portal can work.
    assert!(p.readiness().await.database);
}

/// A request past its time limit cannot be decided, even while the scheduler has not timed it
/// out yet (issue 8, item 5).
async fn no_decision_after_the_time_limit(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    let rid = jitgate::domain::RequestId::parse(&id).unwrap();
    // The scheduler is behind: the jobs stop, the clock passes the 24 h limit.
    let p = t.without_jobs().await;
    t.advance(chrono::Duration::hours(24));
    let morgan = principal(MORGAN, &["Approver"]);
    for decision in [
        jitgate::domain::Decision::Approve,
        jitgate::domain::Decision::Deny,
    ] {
        let input = jitgate::service::DecisionInput {
            comment: Some("too late".into()),
            duration_minutes: None,
        };
        match p.decide(&morgan, &rid, decision, input).await {
            Err(AppError::Conflict(m)) => assert!(m.contains("time limit"), "{m}"),
            other => panic!(
                "a late {decision:?} must be refused: {:?}",
                other.map(|r| r.status)
            ),
        }
    }
    let r = p.get_visible(&morgan, &rid).await.unwrap();
    assert_eq!(
        r.status,
        jitgate::domain::RequestStatus::Pending,
        "nothing changed"
    );
    assert!(r.approvals.is_empty());
    // The scheduler, back, times it out.
    t.start_again().await;
    wait_status(t, &id, "timed_out").await;
}

on_both_databases! {
    with TestApp;
    role_checks => reads_check_the_role_themselves;
    late_decision => no_decision_after_the_time_limit;
}
