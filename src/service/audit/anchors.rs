//! Anchoring the chain's head outside the database (the log, `[audit] anchor_file`,
//! `[audit] anchor_webhook`), and reading the last anchor back from an anchor file.

use chrono::{DateTime, Utc};

use super::chain::extend;
use crate::config::AuditSettings;
use crate::domain::audit::{Anchor, ChainVerifier};
use crate::error::{AppError, AppResult};
use crate::store::Store;

/// Verifies the whole chain and, when it is intact, records its head `(seq, hash, time)`,
/// signed with the audit key, outside the database: in the log (target `jitgate::audit::anchor`),
/// appended to `[audit] anchor_file`, and POSTed to `[audit] anchor_webhook`, where configured.
/// A broken chain is not anchored (that would bless it): an error. Nothing to anchor: `None`.
pub async fn anchor(
    store: &dyn Store,
    settings: &AuditSettings,
    now: DateTime<Utc>,
) -> AppResult<Option<Anchor>> {
    let mut v = ChainVerifier::new(settings.key.clone(), None);
    extend(store, &mut v).await?;
    let status = v.status();
    if !status.ok {
        return Err(AppError::Conflict(format!(
            "The audit chain is broken ({}); it is not anchored.",
            status.problem.unwrap_or_default()
        )));
    }
    if v.last_seq() == 0 {
        return Ok(None);
    }
    let a = Anchor::new(v.last_seq(), v.last_hash(), now, settings.key.as_ref());
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
        let sent = reqwest::Client::new()
            .post(url.clone())
            .timeout(std::time::Duration::from_secs(10))
            .json(&a)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        if let Err(e) = sent {
            return Err(AppError::Unavailable(format!(
                "The anchor could not be sent to the webhook: {e}"
            )));
        }
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

/// The last anchor in an anchor file (one JSON object a line, as [`anchor`] writes them).
pub fn last_anchor(path: &std::path::Path) -> anyhow::Result<Anchor> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("{} holds no anchor", path.display()))?;
    serde_json::from_str(line)
        .map_err(|e| anyhow::anyhow!("the last line of {} is not an anchor: {e}", path.display()))
}
