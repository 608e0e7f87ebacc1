//! Device-code sign-ins (issue 10): what the sign-in reader found in Entra's log is kept once,
//! tied to the grant whose window it fell in, and recorded on that grant's timeline
//! (`device_code_sign_in`). A one-shot package's grant ends `end_after_first_sign_in` after its
//! first successful sign-in (`grant_shortened`). Sign-ins blocked by Conditional Access outside
//! any grant show who may need an exemption. Sign-ins to jitgate itself (the requests API, which
//! the block excludes, or the portal's own) are no use of an exemption: they are kept apart, in
//! the audit trail (`portal_sign_in`) and on the person's own page, since a phished token of
//! theirs would show there first. An entry of the log that cannot be read is skipped, the rest
//! kept; it is logged and counted once (`jitgate_sign_ins_unreadable_total`), however many
//! readings find it again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Portal, event, system_event};
use crate::auth::Principal;
use crate::domain::sign_in::{DeviceSignIn, one_shot_end};
use crate::domain::{AuditAction, RequestId, RequestStatus, Role};
use crate::error::AppResult;
use crate::graph::{SignIn, SignInLog, UnreadableSignIn};

/// What one reading of the sign-in log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInReading {
    /// Sign-ins not seen before.
    pub new: usize,
    /// Of those, the ones that fell in a grant's window.
    pub in_grants: usize,
    /// Grants a one-shot package ended early.
    pub shortened: usize,
    /// Of the new ones, sign-ins to jitgate itself.
    pub to_portal: usize,
    /// Entries that could not be read and that the previous reading did not find.
    pub unreadable: usize,
}

/// The unreadable entries the last reading found, by key. The lookback reads an entry again at
/// every reading until it is too old: one missing from the last reading is new.
#[derive(Default)]
pub(crate) struct UnreadableSeen(HashSet<String>);

impl UnreadableSeen {
    /// Logs each entry of `found` the last reading did not find, once, and remembers this
    /// reading's; how many were new.
    fn note(&mut self, found: &[UnreadableSignIn]) -> usize {
        let mut new = 0;
        for u in found.iter().filter(|u| !self.0.contains(&u.key)) {
            tracing::warn!(
                entry = %u.key,
                problem = %u.problem,
                "a sign-in log entry could not be read; skipped, the others kept"
            );
            new += 1;
        }
        self.0 = found.iter().map(|u| u.key.clone()).collect();
        new
    }
}

impl Portal {
    /// Whether the sign-in reader runs, and how far back it looks.
    pub fn sign_in_reading(&self) -> Option<(chrono::Duration, chrono::Duration)> {
        let s = &self.settings.sign_ins;
        s.read.then_some((s.every, s.lookback))
    }

    /// Keeps the sign-ins read from the log that are new, each tied to the grant whose window
    /// holds it, with its audit event; shortens one-shot grants. One transaction. Sign-ins to
    /// jitgate's own APIs (`jitgate login --device-code`) are no use of the exemption: they are
    /// kept apart, each with a `portal_sign_in` event about its person. Entries that could not
    /// be read are logged and counted the first time a reading finds them.
    pub async fn record_sign_ins(&self, log: &SignInLog) -> AppResult<SignInReading> {
        let unreadable = {
            let mut seen = self
                .unreadable_sign_ins
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            seen.note(&log.unreadable)
        };
        self.metrics.unreadable_sign_ins(unreadable);
        let read = &log.sign_ins;
        let now = self.now();
        let mut found = SignInReading {
            unreadable,
            ..SignInReading::default()
        };
        let entra = &self.settings.entra;
        let ours = |resource: &str| {
            resource.eq_ignore_ascii_case(&entra.client_id)
                || entra
                    .requests_api_id
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(resource))
        };
        let mut oldest_first: Vec<&SignIn> = read.iter().collect();
        oldest_first.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
        let mut tx = self.store.begin().await?;
        for s in oldest_first {
            let to_portal = ours(&s.resource_id);
            let grant = if to_portal {
                None
            } else {
                tx.grant_covering(&s.user_id, s.at).await?
            };
            let kept = DeviceSignIn {
                id: s.id.clone(),
                at: s.at,
                user_id: s.user_id.clone(),
                user_principal_name: s.user_principal_name.clone(),
                app_id: s.app_id.clone(),
                app_name: s.app_name.clone(),
                ip_address: s.ip_address.clone(),
                conditional_access: s.conditional_access.clone(),
                error_code: s.error_code,
                failure_reason: s.failure_reason.clone(),
                request_id: grant.as_ref().map(|r| r.id.clone()),
                resource_id: s.resource_id.clone(),
                to_portal,
            };
            if !tx.insert_sign_in(&kept, now).await? {
                continue;
            }
            found.new += 1;
            let details = json!({
                "sign_in": kept.id,
                "at": kept.at,
                "app": kept.app_name,
                "app_id": kept.app_id,
                "resource_id": kept.resource_id,
                "ip_address": kept.ip_address,
                "result": kept.result(),
                "error_code": kept.error_code,
                "conditional_access": kept.conditional_access,
            });
            if to_portal {
                found.to_portal += 1;
                let e = system_event(AuditAction::PortalSignIn, &kept.user_id, now, details);
                self.outbox.record(&mut *tx, e, None).await?;
                continue;
            }
            let Some(mut r) = grant else {
                continue;
            };
            found.in_grants += 1;
            let e = event(None, AuditAction::DeviceCodeSignIn, &r, now, details);
            self.outbox.record(&mut *tx, e, Some(&r)).await?;
            let first = kept.succeeded() && tx.count_sign_ins(&r.id).await? == 1;
            if first
                && r.status == RequestStatus::Active
                && let Some(pkg) = self.package(&r.package)
                && let Some(end) = one_shot_end(&r, pkg, kept.at, now)
            {
                let was = r.ends_at;
                r.ends_at = Some(end);
                tx.update_request(&r, now).await?;
                let e = event(
                    None,
                    AuditAction::GrantShortened,
                    &r,
                    now,
                    json!({
                        "reason": "one-shot window: the first device-code sign-in was seen",
                        "first_sign_in_at": kept.at,
                        "end_after_first_sign_in_minutes": pkg.end_after_first_sign_in.map(|d| d.num_minutes()),
                        "ends_before": was,
                        "ends_at": end,
                    }),
                );
                self.outbox.record(&mut *tx, e, Some(&r)).await?;
                found.shortened += 1;
            }
        }
        tx.commit().await?;
        if found.new > 0 {
            self.notify();
            tracing::info!(
                new = found.new,
                in_grants = found.in_grants,
                to_jitgate = found.to_portal,
                shortened = found.shortened,
                "device-code sign-ins recorded"
            );
        }
        Ok(found)
    }

    /// The device-code sign-ins during grant `id`, oldest first, for whoever may see it.
    pub async fn sign_ins_for(
        &self,
        who: &Principal,
        id: &RequestId,
    ) -> AppResult<Vec<DeviceSignIn>> {
        let r = self.get_visible(who, id).await?;
        Ok(self.store.sign_ins_for(&r.id).await?)
    }

    /// A requester's device-code sign-ins since `since`, newest first (an approver sees past use
    /// next to a request): for whoever may see `id`, a request of theirs.
    pub async fn requester_sign_ins(
        &self,
        who: &Principal,
        id: &RequestId,
        since: DateTime<Utc>,
    ) -> AppResult<Vec<DeviceSignIn>> {
        let r = self.get_visible(who, id).await?;
        Ok(self
            .store
            .recent_sign_ins(since, Some(&r.requester.id), false, false, 50)
            .await?)
    }

    /// Device-code sign-ins Conditional Access blocked since `since`, newest first: people who
    /// may need an exemption. For admins and auditors.
    pub async fn blocked_sign_ins(
        &self,
        who: &Principal,
        since: DateTime<Utc>,
    ) -> AppResult<Vec<DeviceSignIn>> {
        self.require_any(who, &[Role::Admin, Role::Auditor], "Blocked sign-ins")?;
        Ok(self
            .store
            .recent_sign_ins(since, None, true, false, 100)
            .await?)
    }

    /// `who`'s own device-code sign-ins to jitgate since `since`, newest first: where a token
    /// of theirs for jitgate was obtained (a phished one would show here).
    pub async fn own_portal_sign_ins(
        &self,
        who: &Principal,
        since: DateTime<Utc>,
    ) -> AppResult<Vec<DeviceSignIn>> {
        Ok(self
            .store
            .recent_sign_ins(since, Some(&who.user.id), false, true, 50)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn bad(key: &str) -> UnreadableSignIn {
        UnreadableSignIn {
            key: key.into(),
            problem: "missing field `createdDateTime`".into(),
        }
    }

    /// An entry the lookback finds again at every reading is logged and counted once
    /// (issue 19, item 7).
    #[test]
    fn an_unreadable_entry_is_logged_once() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let mut seen = UnreadableSeen::default();
        let counted: Vec<usize> = tracing::subscriber::with_default(subscriber, || {
            vec![
                seen.note(&[bad("b2")]),
                seen.note(&[bad("b2")]),
                seen.note(&[bad("b2"), bad("e5")]),
                seen.note(&[]),
            ]
        });
        assert_eq!(counted, [1, 0, 1, 0]);
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("entry=b2").count(), 1, "{text}");
        assert_eq!(text.matches("entry=e5").count(), 1, "{text}");
        assert!(text.contains("createdDateTime"), "{text}");
    }
}
