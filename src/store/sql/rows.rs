//! What the queries read: one row type per table (or join), and its conversion to domain types.

use std::str::FromStr;

use crate::domain::extension::{Extension, ExtensionStatus};
use crate::domain::notification::{Channel, NotificationOutcome};
use crate::domain::sign_in::DeviceSignIn;
use crate::domain::{Approval, AuditEvent, Decision, Request, RequestStatus, UserRef};
use crate::store::{DirectoryOp, Notification, OpKind, OpOutcome, StoreError, from_ms};

#[derive(sqlx::FromRow)]
pub(super) struct RequestRow {
    id: String,
    package: String,
    group_id: String,
    requester_id: String,
    requester_name: String,
    requester_username: String,
    manager_id: Option<String>,
    status: String,
    duration_minutes: i64,
    justification: String,
    ticket: Option<String>,
    created_at: i64,
    requested_start: Option<i64>,
    timeout_at: i64,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    decided_at: Option<i64>,
    added_at: Option<i64>,
    removed_at: Option<i64>,
    close_reason: Option<String>,
    ticket_url: Option<String>,
    asked_by_id: Option<String>,
    asked_by_name: Option<String>,
    asked_by_username: Option<String>,
}

impl RequestRow {
    pub(super) fn into_request(self, approvals: Vec<Approval>) -> Result<Request, StoreError> {
        let status = RequestStatus::from_str(&self.status)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Request {
            id: self.id,
            package: self.package,
            group_id: self.group_id,
            requester: UserRef {
                id: self.requester_id,
                name: self.requester_name,
                username: self.requester_username,
            },
            asked_by: self.asked_by_id.map(|id| UserRef {
                name: self.asked_by_name.unwrap_or_else(|| id.clone()),
                username: self.asked_by_username.unwrap_or_else(|| id.clone()),
                id,
            }),
            manager_id: self.manager_id,
            status,
            duration_minutes: self.duration_minutes,
            justification: self.justification,
            ticket: self.ticket,
            created_at: from_ms(self.created_at),
            requested_start: self.requested_start.map(from_ms),
            timeout_at: from_ms(self.timeout_at),
            starts_at: self.starts_at.map(from_ms),
            ends_at: self.ends_at.map(from_ms),
            decided_at: self.decided_at.map(from_ms),
            added_at: self.added_at.map(from_ms),
            removed_at: self.removed_at.map(from_ms),
            close_reason: self.close_reason,
            ticket_url: self.ticket_url,
            approvals,
        })
    }
}

/// A request with one of its approvals (or none), from a LEFT JOIN.
#[derive(sqlx::FromRow)]
pub(super) struct JoinedRow {
    #[sqlx(flatten)]
    request: RequestRow,
    a_approver_id: Option<String>,
    a_approver_name: Option<String>,
    a_approver_username: Option<String>,
    a_decision: Option<String>,
    a_comment: Option<String>,
    a_at: Option<i64>,
}

/// Folds joined rows (in request order, each request's approvals together) into requests.
pub(super) fn joined(rows: Vec<JoinedRow>) -> Result<Vec<Request>, StoreError> {
    let mut out: Vec<Request> = Vec::new();
    for row in rows {
        let approval = match (row.a_approver_id, row.a_decision, row.a_at) {
            (Some(id), Some(decision), Some(at)) => Some(Approval {
                approver: UserRef {
                    id,
                    name: row.a_approver_name.unwrap_or_default(),
                    username: row.a_approver_username.unwrap_or_default(),
                },
                decision: Decision::parse(&decision)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown decision '{decision}'")))?,
                comment: row.a_comment,
                at: from_ms(at),
            }),
            _ => None,
        };
        match out.last_mut() {
            Some(last) if last.id == row.request.id => last.approvals.extend(approval),
            _ => out.push(row.request.into_request(approval.into_iter().collect())?),
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
pub(super) struct OpRow {
    pub(super) id: i64,
    request_id: String,
    kind: String,
    group_id: String,
    user_id: String,
    created_at: i64,
    not_before: i64,
    attempts: i64,
    last_error: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    done_at: Option<i64>,
    outcome: Option<String>,
    throttled: i64,
}

impl OpRow {
    pub(super) fn into_op(self) -> Result<DirectoryOp, StoreError> {
        let kind = OpKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown op kind '{}'", self.kind)))?;
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(o) => Some(
                OpOutcome::parse(o)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown op outcome '{o}'")))?,
            ),
        };
        Ok(DirectoryOp {
            id: self.id,
            request_id: self.request_id,
            kind,
            group_id: self.group_id,
            user_id: self.user_id,
            created_at: from_ms(self.created_at),
            not_before: from_ms(self.not_before),
            attempts: self.attempts,
            last_error: self.last_error,
            lease_owner: self.lease_owner,
            lease_until: self.lease_until.map(from_ms),
            done_at: self.done_at.map(from_ms),
            outcome,
            throttled: self.throttled,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    seq: i64,
    at: i64,
    actor_id: String,
    actor_name: String,
    action: String,
    request_id: Option<String>,
    subject_id: Option<String>,
    details: String,
    client_ip: Option<String>,
    user_agent: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<EventRow> for AuditEvent {
    fn from(r: EventRow) -> AuditEvent {
        AuditEvent {
            seq: r.seq,
            at: from_ms(r.at),
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            request_id: r.request_id,
            subject_id: r.subject_id,
            details: r.details,
            client_ip: r.client_ip,
            user_agent: r.user_agent,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: i64,
    dedupe_key: String,
    event: String,
    request_id: Option<String>,
    channel: String,
    audience: String,
    subject: String,
    body: String,
    created_at: i64,
    not_before: i64,
    attempts: i64,
    last_error: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    done_at: Option<i64>,
    outcome: Option<String>,
    pace_key: Option<String>,
}

impl NotificationRow {
    pub(super) fn into_notification(self) -> Result<Notification, StoreError> {
        let channel = Channel::parse(&self.channel).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown notification channel '{}'", self.channel))
        })?;
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(o) => Some(NotificationOutcome::parse(o).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown notification outcome '{o}'"))
            })?),
        };
        let audience = serde_json::from_str(&self.audience)
            .map_err(|e| StoreError::Corrupt(format!("notification {} audience: {e}", self.id)))?;
        Ok(Notification {
            id: self.id,
            dedupe_key: self.dedupe_key,
            event: self.event,
            request_id: self.request_id,
            channel,
            audience,
            subject: self.subject,
            body: self.body,
            created_at: from_ms(self.created_at),
            not_before: from_ms(self.not_before),
            attempts: self.attempts,
            last_error: self.last_error,
            lease_owner: self.lease_owner,
            lease_until: self.lease_until.map(from_ms),
            done_at: self.done_at.map(from_ms),
            outcome,
            pace_key: self.pace_key,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ExtensionRow {
    id: String,
    request_id: String,
    minutes: i64,
    justification: String,
    status: String,
    requested_at: i64,
    ends_before: i64,
    ends_after: Option<i64>,
    decided_at: Option<i64>,
    approvals: String,
}

impl ExtensionRow {
    pub(super) fn into_extension(self) -> Result<Extension, StoreError> {
        let status = ExtensionStatus::parse(&self.status).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown extension status '{}'", self.status))
        })?;
        let approvals = serde_json::from_str(&self.approvals)
            .map_err(|e| StoreError::Corrupt(format!("extension {} approvals: {e}", self.id)))?;
        Ok(Extension {
            id: self.id,
            request_id: self.request_id,
            minutes: self.minutes,
            justification: self.justification,
            status,
            requested_at: from_ms(self.requested_at),
            ends_before: from_ms(self.ends_before),
            ends_after: self.ends_after.map(from_ms),
            decided_at: self.decided_at.map(from_ms),
            approvals,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SignInRow {
    id: String,
    at: i64,
    user_id: String,
    user_principal_name: String,
    app_id: String,
    app_name: String,
    ip_address: String,
    conditional_access: String,
    error_code: i64,
    failure_reason: Option<String>,
    request_id: Option<String>,
    resource_id: String,
    to_portal: i64,
}

impl From<SignInRow> for DeviceSignIn {
    fn from(r: SignInRow) -> DeviceSignIn {
        DeviceSignIn {
            id: r.id,
            at: from_ms(r.at),
            user_id: r.user_id,
            user_principal_name: r.user_principal_name,
            app_id: r.app_id,
            app_name: r.app_name,
            ip_address: r.ip_address,
            conditional_access: r.conditional_access,
            error_code: r.error_code,
            failure_reason: r.failure_reason,
            request_id: r.request_id,
            resource_id: r.resource_id,
            to_portal: r.to_portal != 0,
        }
    }
}
