//! The portal's Entra certificate coming to its end: the admins are alerted 30 and 7 days
//! before, each once (the reconciler asks after each round).

use super::Portal;
use crate::error::AppResult;

/// Days before a certificate's end at which the admins are alerted.
pub const CREDENTIAL_ALERT_DAYS: [i64; 2] = [30, 7];

impl Portal {
    /// Queues the alert for each threshold the configured certificate has come within (none
    /// for other credentials, or a certificate that cannot be read: `jitgate check` and the
    /// token requests say why). How many notifications were queued now.
    pub async fn check_credential_expiry(&self) -> AppResult<usize> {
        let Some(Ok(cert)) =
            crate::credential::configured_certificate(&self.settings.entra.credential)
        else {
            return Ok(0);
        };
        let now = self.now();
        let left = cert.not_after - now;
        let due: Vec<i64> = CREDENTIAL_ALERT_DAYS
            .into_iter()
            .filter(|d| left <= chrono::Duration::days(*d))
            .collect();
        // Only the nearest threshold: a certificate found 5 days from its end tells once.
        let Some(threshold) = due.last().copied() else {
            return Ok(0);
        };
        let mut tx = self.store.begin().await?;
        let queued = self
            .outbox
            .credential_expiring(
                &mut *tx,
                &cert.thumbprint_hex,
                &cert.subject,
                cert.not_after,
                threshold,
                now,
            )
            .await?;
        tx.commit().await?;
        if queued > 0 {
            tracing::warn!(thumbprint = %cert.thumbprint_hex, not_after = %cert.not_after, "the Entra certificate expires soon; the admins were told");
            self.notify();
        }
        Ok(queued)
    }
}
