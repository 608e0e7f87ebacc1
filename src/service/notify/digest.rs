//! The deciders' e-mails about one person, paced: a decider is never sent more than one
//! e-mail a minute about the same person. The first goes out at once; what comes within the
//! minute after it is held back until the minute is over, then sent as one digest listing the
//! held messages. Pacing is per requester (the notification's `pace_key`), which covers every
//! decider of every package they ask for; when it is due, every held e-mail about the person
//! is taken together, and each decider gets one message with the ones they would have been
//! sent. When the last one went out is kept in the database and changed in the serialized
//! transaction that takes the held e-mails, so two replicas' senders cannot both send within
//! the minute.

use std::collections::BTreeMap;

use chrono::Duration;

use super::{LEASE, Undelivered, still_applies};
use crate::domain::Request;
use crate::error::AppResult;
use crate::service::Portal;
use crate::store::Notification;

/// At most one e-mail per pace key in this long.
pub const PACE: Duration = Duration::minutes(1);

impl Portal {
    /// Delivers `n`, a decider e-mail paced under `key`: held until the minute since the last
    /// one is over, or sent now with every other one due under the key.
    pub(super) async fn deliver_paced(&self, n: &Notification, key: &str) -> AppResult<()> {
        let now = self.now();
        let owner = n.lease_owner.clone().unwrap_or_default();
        let mut tx = self.store.begin().await?;
        // A notification tried before (its sender died or its send failed) set the pace itself
        // and was not delivered, as far as anyone knows: holding it would delay it by up to a
        // minute for a mail that may never have gone out.
        let retried = n.attempts > 1;
        if let Some(last) = tx.paced_sent_at(key).await?
            && last + PACE > now
            && !retried
        {
            tx.hold_notification(n.id, last + PACE).await?;
            tx.commit().await?;
            tracing::info!(notification = n.id, until = %(last + PACE), "decider e-mail held back: one a minute about the same person");
            return Ok(());
        }
        let taken = tx.take_paced(key, now, &owner, LEASE).await?;
        if !taken.iter().any(|t| t.id == n.id) {
            // Already sent, with an earlier one of this sender's batch.
            return Ok(());
        }
        tx.set_paced_sent_at(key, now).await?;
        tx.commit().await?;

        let mut held = Vec::new();
        for t in taken {
            let request = match &t.request_id {
                Some(id) => self.store.get_request(id).await?,
                None => None,
            };
            if still_applies(&t, request.as_ref()) {
                held.push((t, request));
            } else {
                self.skip(&t).await?;
            }
        }
        match held.len() {
            0 => Ok(()),
            1 => {
                let (t, r) = &held[0];
                let delivered = self.send(t, r.as_ref()).await;
                self.record_delivery(t, r.as_ref(), delivered, 1).await
            }
            together => {
                let outcome = self.send_digests(&held).await;
                for (i, (t, r)) in held.iter().enumerate() {
                    let delivered = outcome.clone().map(|to| to[i].clone());
                    self.record_delivery(t, r.as_ref(), delivered, together)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Sends `held` as digests: each address one e-mail with the messages it would have been
    /// sent (addresses told the same ones share an e-mail, in Bcc). Who received each message.
    async fn send_digests(
        &self,
        held: &[(Notification, Option<Request>)],
    ) -> Result<Vec<Vec<String>>, Undelivered> {
        let mut told: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, (t, r)) in held.iter().enumerate() {
            for a in self.addresses(t, r.as_ref()).await? {
                told.entry(a).or_default().push(i);
            }
        }
        let mut groups: BTreeMap<Vec<usize>, Vec<String>> = BTreeMap::new();
        for (address, which) in told {
            groups.entry(which).or_default().push(address);
        }
        let person = held
            .iter()
            .find_map(|(_, r)| r.as_ref().map(|r| r.requester.name.clone()))
            .unwrap_or_else(|| "the same person".into());
        let mut received = vec![Vec::new(); held.len()];
        for (which, to) in &groups {
            let parts: Vec<&Notification> = which.iter().map(|&i| &held[i].0).collect();
            let (subject, body) = digest(&person, &parts);
            self.send_email(to, &subject, &body).await?;
            for &i in which {
                received[i].extend(to.iter().cloned());
            }
        }
        Ok(received)
    }
}

/// One e-mail listing `parts`, all about `person`.
fn digest(person: &str, parts: &[&Notification]) -> (String, String) {
    if let [one] = parts {
        return (one.subject.clone(), one.body.clone());
    }
    let subject = format!("{} messages about {person}", parts.len());
    let mut body = format!(
        "jitgate sends you at most one e-mail a minute about the same person; these {} came within the minute and are sent together.\n",
        parts.len()
    );
    for (i, p) in parts.iter().enumerate() {
        body.push_str(&format!(
            "\n{}. {}\n\n{}\n",
            i + 1,
            p.subject,
            p.body.trim_end()
        ));
    }
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(subject: &str, body: &str) -> Notification {
        Notification {
            id: 1,
            dedupe_key: "k".into(),
            event: "request_created".into(),
            request_id: None,
            channel: crate::domain::notification::Channel::Email,
            audience: serde_json::json!({}),
            subject: subject.into(),
            body: body.into(),
            created_at: chrono::Utc::now(),
            not_before: chrono::Utc::now(),
            attempts: 1,
            last_error: None,
            lease_owner: None,
            lease_until: None,
            done_at: None,
            outcome: None,
            pace_key: Some("deciders:dana".into()),
        }
    }

    #[test]
    fn a_digest_lists_every_held_message() {
        let a = note(
            "Dana asks for P",
            "Dana asks for P for 1h.\nhttps://x/requests/1\n",
        );
        let b = note(
            "Dana asks to extend P by 30m",
            "More time.\nhttps://x/requests/1\n",
        );
        let (subject, body) = digest("Dana", &[&a, &b]);
        assert_eq!(subject, "2 messages about Dana");
        assert!(
            body.contains("1. Dana asks for P\n\nDana asks for P for 1h."),
            "{body}"
        );
        assert!(
            body.contains("2. Dana asks to extend P by 30m\n\nMore time."),
            "{body}"
        );
        // One alone is sent as it is.
        assert_eq!(digest("Dana", &[&a]), (a.subject.clone(), a.body.clone()));
    }
}
