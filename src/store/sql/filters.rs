//! The WHERE clauses (and pages) of request and audit listings, and the bound lists of `IN`, the
//! same SQL on either database.

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::REQUEST_COLS;
use crate::store::{AuditFilter, RequestFilter, ms};

/// Appends `(v1, v2, ...)`, each value bound: the list of an `IN`.
pub(super) fn push_list<'args, DB, T>(
    qb: &mut QueryBuilder<'args, DB>,
    values: impl IntoIterator<Item = T>,
) where
    DB: Database,
    T: 'args + Encode<'args, DB> + Type<DB>,
{
    qb.push("(");
    let mut sep = qb.separated(", ");
    for v in values {
        sep.push_bind(v);
    }
    qb.push(")");
}

/// Appends ` WHERE ...` selecting the requests `f` asks for.
pub(super) fn push_request_filter<'args, DB>(qb: &mut QueryBuilder<'args, DB>, f: &RequestFilter)
where
    DB: Database,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if !f.statuses.is_empty() {
        qb.push(" AND status IN ");
        push_list(qb, f.statuses.iter().map(|s| s.as_str()));
    }
    if let Some(p) = &f.package {
        qb.push(" AND package = ").push_bind(p.clone());
    }
    if let Some(r) = &f.requester_id {
        qb.push(" AND requester_id = ").push_bind(r.clone());
    }
    if let Some(a) = &f.asked_by_id {
        qb.push(" AND asked_by_id = ").push_bind(a.clone());
    }
    if !f.ids.is_empty() {
        qb.push(" AND id IN ");
        push_list(qb, f.ids.iter().cloned());
    }
    if let Some(u) = &f.involving {
        qb.push(" AND (requester_id = ").push_bind(u.clone());
        qb.push(" OR asked_by_id = ").push_bind(u.clone());
        qb.push(" OR manager_id = ").push_bind(u.clone()).push(")");
    }
}

/// Appends a `SELECT` of one page of the requests `f` asks for, in `order`.
pub(super) fn push_request_page<'args, DB>(
    qb: &mut QueryBuilder<'args, DB>,
    f: &RequestFilter,
    order: &str,
) where
    DB: Database,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
{
    qb.push(format!("SELECT {REQUEST_COLS} FROM requests"));
    push_request_filter(qb, f);
    qb.push(format!(" ORDER BY {order}"));
    qb.push(" LIMIT ")
        .push_bind(f.limit.unwrap_or(500).clamp(1, 10_000));
    qb.push(" OFFSET ").push_bind(f.offset.unwrap_or(0).max(0));
}

/// Appends ` WHERE ...` selecting the audit events `f` asks for.
pub(super) fn push_event_filter<'args, DB>(qb: &mut QueryBuilder<'args, DB>, f: &AuditFilter)
where
    DB: Database,
    String: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    for (col, val) in [
        ("request_id", &f.request_id),
        ("actor_id", &f.actor_id),
        ("subject_id", &f.subject_id),
        ("action", &f.action),
    ] {
        if let Some(v) = val {
            qb.push(format!(" AND {col} = ")).push_bind(v.clone());
        }
    }
    if let Some(p) = &f.person {
        qb.push(" AND (actor_id = ").push_bind(p.clone());
        qb.push(" OR subject_id = ").push_bind(p.clone());
        qb.push(" OR actor_name = ").push_bind(p.clone()).push(")");
    }
    if let Some(p) = &f.package {
        qb.push(" AND request_id IN (SELECT id FROM requests WHERE package = ")
            .push_bind(p.clone())
            .push(")");
    }
    if let Some(t) = f.since {
        qb.push(" AND at >= ").push_bind(ms(t));
    }
    if let Some(t) = f.until {
        qb.push(" AND at < ").push_bind(ms(t));
    }
    if let Some(s) = f.before_seq {
        qb.push(" AND seq < ").push_bind(s);
    }
}
