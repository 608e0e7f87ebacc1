//! The sign-in reader: every `[sign_ins] every`, reads the device-code sign-ins of the last
//! `lookback` from Entra's sign-in log (which adds them minutes late) and hands them to the
//! service, which keeps the new ones. Off with `[sign_ins] read = false`. Without
//! `AuditLog.Read.All` Graph answers 403: the reader says so once and tries again hourly.

use std::sync::Arc;

use crate::graph::{Directory, DirectoryError};
use crate::service::Portal;

pub struct SignInReader {
    portal: Portal,
    directory: Arc<dyn Directory>,
}

impl SignInReader {
    pub fn new(portal: Portal, directory: Arc<dyn Directory>) -> SignInReader {
        SignInReader { portal, directory }
    }

    pub async fn run(self) {
        let Some((every, lookback)) = self.portal.sign_in_reading() else {
            return;
        };
        let mut refused = false;
        loop {
            let now = self.portal.now();
            match self
                .directory
                .device_code_sign_ins(now - lookback, None)
                .await
            {
                Ok(log) => {
                    refused = false;
                    if let Err(e) = self.portal.record_sign_ins(&log).await {
                        e.log();
                    }
                }
                Err(DirectoryError::Rejected { status: 403, .. }) => {
                    if !refused {
                        tracing::warn!(
                            "the sign-in log cannot be read (grant AuditLog.Read.All, or set [sign_ins] read = false); trying again hourly"
                        );
                    }
                    refused = true;
                }
                Err(e) => tracing::warn!(error = %e, "reading the sign-in log failed"),
            }
            let wait = if refused {
                chrono::Duration::hours(1)
            } else {
                every
            };
            self.portal.sleep_until(self.portal.now() + wait).await;
        }
    }
}
