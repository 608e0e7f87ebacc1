//! Metrics in Prometheus' text format (the `prometheus` crate): what the directory work is
//! doing, how late it is, and what reconciliation finds. Counters and histograms count what
//! this process did; the gauges are read from the database when scraped, so every replica
//! reports the same backlog.

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use super::Portal;
use crate::domain::RequestStatus;
use crate::error::{AppError, AppResult};
use crate::graph::DirectoryError;
use crate::store::{OpKind, RequestFilter};

/// Seconds: from 5 ms to 10 minutes.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];

pub struct Metrics {
    registry: Registry,
    active_grants: IntGauge,
    pending_ops: IntGauge,
    in_flight_ops: IntGauge,
    attempts: IntCounterVec,
    given_up: IntCounterVec,
    graph_seconds: Histogram,
    added_lag: Histogram,
    removed_lag: Histogram,
    drift_found: IntCounterVec,
    drift_removed: IntCounterVec,
    last_reconciliation: Gauge,
    unreadable_sign_ins: IntCounter,
    asks_refused: IntCounterVec,
    policy_refusals: IntCounterVec,
    credential_expiry: prometheus::GaugeVec,
    break_glass_unreviewed: IntGauge,
}

fn histogram(name: &str, help: &str) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()))
        .expect("a valid histogram")
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::new(),
            active_grants: IntGauge::new("jitgate_active_grants", "Grants in effect now.").expect("gauge"),
            break_glass_unreviewed: IntGauge::new(
                "jitgate_break_glass_unreviewed",
                "Break-glass grants (taken without approval) no approver has reviewed yet.",
            )
            .expect("gauge"),
            pending_ops: IntGauge::new(
                "jitgate_directory_operations_pending",
                "Directory operations not carried out yet (in flight included).",
            )
            .expect("gauge"),
            in_flight_ops: IntGauge::new(
                "jitgate_directory_operations_in_flight",
                "Directory operations a worker holds a lease on now.",
            )
            .expect("gauge"),
            attempts: IntCounterVec::new(
                Opts::new(
                    "jitgate_directory_attempts_total",
                    "Directory operation attempts by kind, result (ok, throttled, error) and Graph status.",
                ),
                &["kind", "result", "status"],
            )
            .expect("counter"),
            given_up: IntCounterVec::new(
                Opts::new(
                    "jitgate_directory_operations_failed_total",
                    "Directory operations given up (an addition refused for good or out of attempts).",
                ),
                &["kind"],
            )
            .expect("counter"),
            graph_seconds: histogram(
                "jitgate_graph_call_seconds",
                "How long each directory change (or batch of changes) took at Graph.",
            ),
            added_lag: histogram(
                "jitgate_added_lag_seconds",
                "From the grant's start (its approval, or the later start asked for) to the member added and verified.",
            ),
            removed_lag: histogram(
                "jitgate_removed_lag_seconds",
                "From the grant's end to the member removed and verified.",
            ),
            drift_found: IntCounterVec::new(
                Opts::new("jitgate_drift_found_total", "Drift found by reconciliation, by kind."),
                &["kind"],
            )
            .expect("counter"),
            drift_removed: IntCounterVec::new(
                Opts::new(
                    "jitgate_drift_removed_total",
                    "Members without a grant removed by reconciliation (result ok or error).",
                ),
                &["result"],
            )
            .expect("counter"),
            last_reconciliation: Gauge::new(
                "jitgate_last_reconciliation_timestamp_seconds",
                "When the last reconciliation round ended (any replica), as a Unix time.",
            )
            .expect("gauge"),
            unreadable_sign_ins: IntCounter::new(
                "jitgate_sign_ins_unreadable_total",
                "Sign-in log entries skipped because they could not be read (each counted once, however often it is read again).",
            )
            .expect("counter"),
            asks_refused: IntCounterVec::new(
                Opts::new(
                    "jitgate_asks_refused_total",
                    "Requests and extensions refused because their requester asked too often (429), by kind.",
                ),
                &["kind"],
            )
            .expect("counter"),
            policy_refusals: IntCounterVec::new(
                Opts::new(
                    "jitgate_policy_refusals_total",
                    "Requests, decisions, extensions and additions refused by a package rule, by package and rule.",
                ),
                &["package", "rule"],
            )
            .expect("counter"),
            credential_expiry: prometheus::GaugeVec::new(
                Opts::new(
                    "jitgate_credential_expiry_seconds",
                    "Seconds until the portal's Entra certificate expires (negative once expired), by kind and SHA-256 thumbprint.",
                ),
                &["kind", "thumbprint"],
            )
            .expect("gauge"),
        };
        let r = &m.registry;
        for c in [
            Box::new(m.active_grants.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.pending_ops.clone()),
            Box::new(m.in_flight_ops.clone()),
            Box::new(m.attempts.clone()),
            Box::new(m.given_up.clone()),
            Box::new(m.graph_seconds.clone()),
            Box::new(m.added_lag.clone()),
            Box::new(m.removed_lag.clone()),
            Box::new(m.drift_found.clone()),
            Box::new(m.drift_removed.clone()),
            Box::new(m.last_reconciliation.clone()),
            Box::new(m.unreadable_sign_ins.clone()),
            Box::new(m.asks_refused.clone()),
            Box::new(m.policy_refusals.clone()),
            Box::new(m.credential_expiry.clone()),
            Box::new(m.break_glass_unreviewed.clone()),
        ] {
            r.register(c).expect("each metric is registered once");
        }
        // Both kinds are exported from the start, at zero.
        for kind in ["request", "extension"] {
            m.asks_refused.with_label_values(&[kind]);
        }
        m
    }

    /// One directory attempt and what Graph answered.
    pub(crate) fn attempt(
        &self,
        kind: OpKind,
        result: &Result<crate::graph::MemberChange, DirectoryError>,
        graph_ms: u64,
    ) {
        let (outcome, status) = match result {
            Ok(_) => ("ok", "2xx".to_string()),
            Err(DirectoryError::Throttled { status: 429, .. }) => ("throttled", "429".to_string()),
            Err(DirectoryError::Throttled { status, .. })
            | Err(DirectoryError::Rejected { status, .. }) => ("error", status.to_string()),
            Err(DirectoryError::Transient(_)) => ("error", "none".to_string()),
            Err(DirectoryError::Token { .. }) => ("error", "token".to_string()),
        };
        self.attempts
            .with_label_values(&[kind.as_str(), outcome, &status])
            .inc();
        self.graph_seconds.observe(graph_ms as f64 / 1000.0);
    }

    pub(crate) fn given_up(&self, kind: OpKind) {
        self.given_up.with_label_values(&[kind.as_str()]).inc();
    }

    /// A membership change in effect `lag_ms` after it was due.
    pub(crate) fn lag(&self, kind: OpKind, lag_ms: i64) {
        let secs = lag_ms.max(0) as f64 / 1000.0;
        match kind {
            OpKind::Add => self.added_lag.observe(secs),
            OpKind::Remove => self.removed_lag.observe(secs),
            OpKind::RevokeSessions => {}
        }
    }

    pub(crate) fn drift_found(&self, kind: &str, n: usize) {
        self.drift_found.with_label_values(&[kind]).inc_by(n as u64);
    }

    /// Sign-in log entries found unreadable for the first time.
    pub(crate) fn unreadable_sign_ins(&self, n: usize) {
        self.unreadable_sign_ins.inc_by(n as u64);
    }

    /// An ask refused by a package's per-person limits.
    pub(crate) fn ask_refused(&self, kind: crate::domain::limits::AskKind) {
        self.asks_refused.with_label_values(&[kind.as_str()]).inc();
    }

    /// Something refused by package `package`'s rule `rule`.
    pub(crate) fn policy_refused(&self, package: &str, rule: crate::domain::policy::Rule) {
        self.policy_refusals
            .with_label_values(&[package, rule.key()])
            .inc();
    }

    pub(crate) fn drift_removed(&self, ok: bool) {
        self.drift_removed
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Portal {
    /// Every metric in Prometheus' text exposition format, the gauges read now.
    pub async fn metrics_text(&self) -> AppResult<String> {
        let m = &self.metrics;
        let active = self
            .store
            .count_requests(&RequestFilter {
                statuses: vec![RequestStatus::Active],
                ..RequestFilter::default()
            })
            .await?;
        m.active_grants.set(active);
        m.break_glass_unreviewed
            .set(self.store.count_unreviewed_break_glass().await?);
        let (pending, in_flight) = self.store.op_counts(self.now()).await?;
        m.pending_ops.set(pending);
        m.in_flight_ops.set(in_flight);
        if let Some((_, at)) = self
            .store
            .heartbeats()
            .await?
            .into_iter()
            .find(|(job, _)| job == "reconciler")
        {
            m.last_reconciliation
                .set(at.timestamp_millis() as f64 / 1000.0);
        }
        // The certificate's own end, read from its file at each scrape (it may be renewed).
        m.credential_expiry.reset();
        if let Some(Ok(cert)) =
            crate::credential::configured_certificate(&self.settings.entra.credential)
        {
            m.credential_expiry
                .with_label_values(&["certificate", &cert.thumbprint_hex])
                .set((cert.not_after - self.now()).num_seconds() as f64);
        }
        // A client secret's end, read through Graph (the soonest-ending secret of the app).
        if let Some(secret) = self.secret_in_use().await
            && let Some(end) = secret.end
        {
            m.credential_expiry
                .with_label_values(&["secret", &secret.label()])
                .set((end - self.now()).num_seconds() as f64);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&m.registry.gather(), &mut out)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding metrics: {e}")))?;
        String::from_utf8(out)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding metrics: {e}")))
    }
}
