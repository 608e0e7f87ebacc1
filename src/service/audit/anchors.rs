//! Anchoring the chain's head outside the database (the log, `[audit] anchor_file`,
//! `[audit] anchor_webhook`). With the audit key an anchor also records where keying began, so
//! the moment it began is anchored too: the first anchor made with the key (at start) marks it,
//! even on an empty trail.

use chrono::{DateTime, Utc};

use super::chain::{extend, verifier};
use crate::channels::http::Poster;
use crate::config::AuditSettings;
use crate::domain::audit::Anchor;
use crate::error::{AppError, AppResult};
use crate::store::Store;

/// How long the anchor webhook may take to answer.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Verifies the whole chain (against the anchors read back, `sent` among them) and, when it is
/// intact, records its head `(seq, hash, time)` and, with the audit key, where keying began
/// (`keyed_from`), signed with the key, outside the database: in the log (target
/// `jitgate::audit::anchor`), appended to `[audit] anchor_file`, and POSTed to
/// `[audit] anchor_webhook`, where configured. A broken chain is not anchored (that would bless
/// it): an error. With the key an empty trail is anchored as event 0 (keying began before any
/// event); without it there is nothing to anchor: `None`.
pub async fn anchor(
    store: &dyn Store,
    settings: &AuditSettings,
    sent: Option<&Anchor>,
    now: DateTime<Utc>,
) -> AppResult<Option<Anchor>> {
    let mut v = verifier(settings, sent, None)?;
    extend(store, &mut v).await?;
    let status = v.status();
    if !status.ok {
        return Err(AppError::Conflict(format!(
            "The audit chain is broken ({}); it is not anchored.",
            status.problem.unwrap_or_default()
        )));
    }
    let key = settings.key.as_ref();
    if v.last_seq() == 0 && key.is_none() {
        return Ok(None);
    }
    let keyed_from = key.map(|_| v.keyed_from());
    let a = Anchor::new(v.last_seq(), v.last_hash(), now, keyed_from, key);
    let line = serde_json::to_string(&a).map_err(|e| AppError::Internal(e.into()))?;
    tracing::info!(target: "jitgate::audit::anchor", anchor = %line, seq = a.seq, "audit chain anchored");
    if let Some(path) = &settings.anchor_file {
        append_line(path, &line).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "cannot append the anchor to {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(url) = &settings.anchor_webhook {
        // The URL is a credential: the poster's errors never hold it, nor its path or query.
        Poster::new(WEBHOOK_TIMEOUT)
            .post("anchor webhook", &url.0, &[], line.as_bytes())
            .await
            .map_err(|e| {
                AppError::Unavailable(format!("The anchor could not be sent: {}", e.message))
            })?;
    }
    Ok(Some(a))
}

fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    writeln!(f, "{line}")?;
    f.sync_all()
}
