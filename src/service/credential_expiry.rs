//! The portal's Entra certificate coming to its end: the admins are alerted 30 and 7 days
//! before, each once (the reconciler asks after each round).

use super::Portal;
use crate::error::AppResult;

/// Days before a certificate's end at which the admins are alerted.
pub const CREDENTIAL_ALERT_DAYS: [i64; 2] = [30, 7];

impl Portal {
    /// For `credential = "secret"`: the app registration's client secret that ends first, read
    /// through Graph (which cannot tell which secret jitgate holds, so the soonest stands for
    /// it). None for other credentials, a registration without dated secrets, or a Graph read
    /// that failed (logged: the expiry is then unknown, nothing else is affected).
    pub async fn secret_in_use(&self) -> Option<crate::graph::AppCredential> {
        if !matches!(
            self.settings.entra.credential,
            crate::config::EntraCredential::Secret(_)
        ) {
            return None;
        }
        match self
            .directory
            .app_credentials(&self.settings.entra.client_id)
            .await
        {
            Ok(all) => all
                .into_iter()
                .filter(|c| c.kind == "secret" && c.end.is_some())
                .min_by_key(|c| c.end),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the app registration's client secrets; their expiry is unknown");
                None
            }
        }
    }

    async fn alert_secret(&self, secret: &crate::graph::AppCredential) -> AppResult<usize> {
        let Some(end) = secret.end else {
            return Ok(0);
        };
        let now = self.now();
        let Some(threshold) = due_threshold(end - now) else {
            return Ok(0);
        };
        let label = secret.label();
        let mut tx = self.store.begin().await?;
        let queued = self
            .outbox
            .secret_expiring(&mut *tx, &label, end, threshold, now)
            .await?;
        tx.commit().await?;
        if queued > 0 {
            tracing::warn!(secret = %label, end = %end, "the Entra client secret expires soon; the admins were told");
            self.notify();
        }
        Ok(queued)
    }

    /// Queues the alert for each threshold the configured certificate has come within (none
    /// for other credentials, or a certificate that cannot be read: `jitgate check` and the
    /// token requests say why). How many notifications were queued now.
    pub async fn check_credential_expiry(&self) -> AppResult<usize> {
        if let Some(secret) = self.secret_in_use().await {
            return self.alert_secret(&secret).await;
        }
        let Some(Ok(cert)) =
            crate::credential::configured_certificate(&self.settings.entra.credential)
        else {
            return Ok(0);
        };
        let now = self.now();
        let left = cert.not_after - now;
        let Some(threshold) = due_threshold(left) else {
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

/// The nearest alert threshold a credential `left` from its end has come within: a credential
/// found 5 days from its end tells once.
fn due_threshold(left: chrono::Duration) -> Option<i64> {
    CREDENTIAL_ALERT_DAYS
        .into_iter()
        .rev()
        .find(|d| left <= chrono::Duration::days(*d))
}
