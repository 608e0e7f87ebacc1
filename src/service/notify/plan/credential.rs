//! The admins' alert that the portal's Entra certificate expires: 30 days and 7 days before,
//! each once (the outbox queues a key once).

use chrono::{DateTime, Utc};

use super::recipients::{Message, To, queue};
use crate::config::Settings;
use crate::store::NewNotification;

/// The alert for `threshold` days before the certificate `thumbprint` (`subject`) ends at
/// `not_after`, written at `now`.
pub(super) fn expiring(
    settings: &Settings,
    thumbprint: &str,
    subject: &str,
    not_after: DateTime<Utc>,
    threshold: i64,
    now: DateTime<Utc>,
) -> Vec<NewNotification> {
    let days = (not_after - now).num_days().max(0);
    let m = Message {
        event: "credential_expiring".into(),
        key: format!("alert:credential_expiring:{thumbprint}:{threshold}"),
        subject: format!("jitgate's Entra certificate expires in {days} days"),
        body: format!(
            "The certificate jitgate signs in to Entra with ({subject}, SHA-256 thumbprint {thumbprint}) \
             expires on {}. After that jitgate can neither change group memberships nor sign anyone in.\n\n\
             Upload a new certificate to the app registration (Certificates & secrets), replace the \
             file jitgate reads (entra.certificate_path; no restart needed), then remove the old \
             certificate from the registration.\n\nSee the Operations page:",
            not_after.format("%Y-%m-%d %H:%M UTC")
        ),
        not_before: now,
        only_if: None,
    };
    let mut out = Vec::new();
    queue(settings, &mut out, None, &To::Admins, true, m);
    out
}

/// The alert for `threshold` days before the client secret `label` (its hint and key id, never
/// the secret) ends at `end`, written at `now`. `soonest` when the secret in use could not be
/// told apart from the app's other secrets and this is the one ending first.
pub(super) fn secret_expiring(
    settings: &Settings,
    label: &str,
    end: DateTime<Utc>,
    threshold: i64,
    now: DateTime<Utc>,
) -> Vec<NewNotification> {
    let days = (end - now).num_days().max(0);
    let m = Message {
        event: "credential_expiring".into(),
        key: format!("alert:credential_expiring:secret:{label}:{threshold}"),
        subject: format!("jitgate's Entra client secret expires in {days} days"),
        body: format!(
            "A client secret of jitgate's app registration ({label}; the one ending first, as \
             Graph cannot tell which one jitgate uses) expires on {}. After that jitgate can \
             neither change group memberships nor sign anyone in.\n\nAdd a new secret to the \
             app registration (Certificates & secrets), give it to jitgate (entra.client_secret) \
             and restart it, then remove the old secret — or move to a certificate or workload \
             identity.\n\nSee the Operations page:",
            end.format("%Y-%m-%d %H:%M UTC")
        ),
        not_before: now,
        only_if: None,
    };
    let mut out = Vec::new();
    queue(settings, &mut out, None, &To::Admins, true, m);
    out
}
