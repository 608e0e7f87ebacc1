//! The sender: claims due notifications and hands each to the service, which delivers it and
//! records the outcome. Woken when a change queues one; otherwise it looks when the next is due.

use std::time::Duration;

use crate::service::Portal;

/// Notifications claimed at once.
const BATCH: i64 = 20;
/// The longest sleep between looks (new work usually wakes it sooner).
const IDLE: Duration = Duration::from_secs(5);

pub struct Sender {
    portal: Portal,
    owner: String,
}

impl Sender {
    pub fn new(portal: Portal) -> Sender {
        Sender {
            portal,
            owner: format!("sender-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub async fn run(self) {
        loop {
            let claimed = match self.portal.claim_notifications(&self.owner, BATCH).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim notifications");
                    Vec::new()
                }
            };
            let busy = claimed.len() as i64 == BATCH;
            for n in &claimed {
                if let Err(e) = self.portal.deliver_notification(n).await {
                    tracing::warn!(notification = n.id, error = %e, "could not record a notification's delivery");
                }
            }
            if busy {
                continue;
            }
            match self.portal.next_notification_at().await {
                // Due later: sleep on the portal's clock until then, unless new work comes.
                Ok(Some(at)) if at > self.portal.now() => {
                    tokio::select! {
                        _ = self.portal.sleep_until(at) => {}
                        _ = self.portal.sender_wait(IDLE) => {}
                    }
                }
                // Due, but nothing was claimable a moment ago: look again shortly.
                Ok(Some(_)) if claimed.is_empty() => {
                    self.portal.sender_wait(Duration::from_millis(50)).await;
                }
                Ok(Some(_)) => {}
                _ => self.portal.sender_wait(IDLE).await,
            }
        }
    }
}
