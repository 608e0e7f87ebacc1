//! The command line. `setup` (registering jitgate in a tenant) has a file of its own.

mod setup;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use futures_util::StreamExt;

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::graph::posture::{device_code_posture, portal_api_posture, requests_api_posture};
use crate::graph::{Directory, GraphClient, GraphSettings};
use crate::service::audit::{self, ExportFormat, parse_time};
use crate::startup::App;
use crate::store::{self, AuditFilter};

#[derive(Parser)]
#[command(
    name = "jitgate",
    version,
    about = "Just-in-time, time-boxed membership of Microsoft Entra ID groups, with approvals and a tamper-evident audit trail."
)]
pub struct Cli {
    /// The configuration file (TOML). Every key can be overridden with JITGATE_<SECTION>__<KEY>.
    #[arg(long, env = "JITGATE_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal: web UI, JSON API, the directory worker and the expiry scheduler.
    Serve,
    /// Run the whole portal against a built-in emulated Entra ID tenant, on SQLite, with demo users. Needs no configuration.
    Demo {
        /// Where the portal listens (loopback only).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the demo keeps its database and the emulated tenant's state.
        #[arg(long, default_value = ".")]
        data_dir: PathBuf,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Check the configuration, the database, the app's Graph token and permissions, each package's group, reading directory roles and the Conditional Access policy.
    Check,
    /// Register jitgate in a tenant, signed in as an admin: the app registration, its service principal, the command-line client, the exclusion group, Graph permissions with admin consent, the Admin role for you, a report-only device-code block policy; then write jitgate.toml. Re-running changes only what differs; --dry-run prints the Graph writes and makes none.
    Setup(setup::SetupArgs),
    /// Work with the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    #[command(flatten)]
    Client(crate::client::Command),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the chain from the first event (keyed links checked with JITGATE_AUDIT__KEY) and check it against every anchor in `[audit] anchor_file`; exit 1 if any event was altered, removed, reordered or unkeyed after keying began, or the trail disagrees with an anchor (which one is named).
    Verify {
        /// One more anchor file (one anchor a line, as `[audit] anchor_file` holds them, e.g. the anchor webhook receiver's copy): the trail must agree with every anchor in it.
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
    /// Verify the chain and record its head (sequence, hash, time) and, with the audit key, where keying began, signed with the key: printed, and written where `[audit]` says (anchor_file, anchor_webhook).
    Anchor,
    /// Write events (newest first) as CSV or JSON Lines.
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Only events at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only events before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

fn load(config: &Option<PathBuf>) -> anyhow::Result<Settings> {
    let path = config
        .as_ref()
        .context("no configuration: pass --config PATH or set JITGATE_CONFIG")?;
    Ok(Settings::load(path, std::env::vars())?)
}

pub async fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    match cli.command {
        Command::Client(command) => Ok(crate::client::run(command).await),
        Command::Demo { listen, data_dir } => {
            crate::demo::run(crate::demo::DemoOptions { listen, data_dir }).await?;
            Ok(0)
        }
        Command::Serve => {
            let settings = load(&cli.config)?;
            let listener = tokio::net::TcpListener::bind(settings.server.listen)
                .await
                .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
            let directory = Arc::new(GraphClient::new(
                GraphSettings::from_settings(&settings),
                reqwest::Client::new(),
            ));
            let app = App::build(settings, listener, Arc::new(SystemClock), directory).await?;
            app.run_until_stopped().await?;
            Ok(0)
        }
        Command::Migrate => {
            let settings = load(&cli.config)?;
            let s = store::connect(&settings.database_url).await?;
            s.migrate().await?;
            s.session_store().migrate().await?;
            println!("The {} database is up to date.", s.backend());
            if s.backend() == "postgres" {
                println!("{}", store::POSTGRES_RUNTIME_GRANTS);
            }
            Ok(0)
        }
        Command::Setup(args) => setup::run(args).await,
        Command::Check => check(load(&cli.config)?).await,
        Command::Audit { command } => {
            let settings = load(&cli.config)?;
            let s =
                store::connect_keyed(&settings.database_url, settings.audit.key.clone()).await?;
            s.migrate().await?;
            match command {
                AuditCommand::Verify { anchor } => verify(&settings, s.as_ref(), anchor).await,
                AuditCommand::Anchor => {
                    match audit::anchor(s.as_ref(), &settings.audit, None, chrono::Utc::now()).await
                    {
                        Ok(Some(a)) => {
                            println!("{}", serde_json::to_string(&a)?);
                            if a.signature.is_none() {
                                eprintln!(
                                    "The anchor is not signed: set JITGATE_AUDIT__KEY to sign anchors and key the chain."
                                );
                            }
                            if a.seq == 0 {
                                eprintln!(
                                    "Anchored the start of the keyed audit trail (no event yet): every event must be keyed."
                                );
                            } else {
                                eprintln!("Anchored the audit chain at event {}.", a.seq);
                            }
                            Ok(0)
                        }
                        Ok(None) => {
                            eprintln!("The audit trail is empty: nothing to anchor.");
                            Ok(0)
                        }
                        Err(e) => {
                            eprintln!("{e}");
                            Ok(1)
                        }
                    }
                }
                AuditCommand::Export {
                    format,
                    since,
                    until,
                    output,
                } => {
                    let filter = AuditFilter {
                        since: since
                            .map(|v| parse_time("since", &v))
                            .transpose()
                            .map_err(|e| anyhow::anyhow!("{e}"))?,
                        until: until
                            .map(|v| parse_time("until", &v))
                            .transpose()
                            .map_err(|e| anyhow::anyhow!("{e}"))?,
                        ..Default::default()
                    };
                    let format = match format {
                        Format::Csv => ExportFormat::Csv,
                        Format::Jsonl => ExportFormat::JsonLines,
                    };
                    // Written as it is read, a page at a time.
                    let mut out: Box<dyn Write> = match &output {
                        Some(p) => Box::new(std::io::BufWriter::new(
                            std::fs::File::create(p)
                                .with_context(|| format!("cannot write {}", p.display()))?,
                        )),
                        None => Box::new(std::io::stdout().lock()),
                    };
                    let mut export = audit::export(s.clone(), filter, format);
                    let mut events = 0;
                    while let Some(chunk) = export.next().await {
                        let chunk = chunk.map_err(|e| anyhow::anyhow!("{e}"))?;
                        out.write_all(&chunk.bytes)?;
                        events += chunk.events;
                    }
                    out.flush()?;
                    eprintln!("Exported {events} events.");
                    Ok(0)
                }
            }
        }
    }
}

/// `jitgate audit verify`: the verdict as JSON on standard output, in words on standard error;
/// exit status 1 when the chain is broken or disagrees with an anchor.
async fn verify(
    settings: &Settings,
    s: &dyn store::Store,
    anchor: Option<PathBuf>,
) -> anyhow::Result<i32> {
    let audit = &settings.audit;
    let v = audit::verify(s, audit, None, anchor.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&v)?);
    if audit.key.is_none() {
        eprintln!(
            "No audit key (JITGATE_AUDIT__KEY): links are checked as plain SHA-256, which anyone with write access to the database could recompute."
        );
    } else if v.unkeyed > 0 && v.ok {
        eprintln!(
            "{} event(s) from before the audit key was configured are linked without it.",
            v.unkeyed
        );
    }
    if audit.key.is_some() && v.anchors == 0 {
        eprintln!(
            "No anchor was checked: set [audit] anchor_file, or pass --anchor FILE with a copy of the anchors. Without one, a trail rewritten without the key from the moment keying began cannot be told from the real one."
        );
    }
    if audit.anchor_webhook.is_some() {
        eprintln!(
            "The anchors POSTed to [audit] anchor_webhook are not read back: to check against the receiver's copy, save it to a file (one anchor a line) and pass --anchor FILE."
        );
    }
    if v.ok {
        let anchored = v
            .anchor_seq
            .map(|a| {
                format!(
                    ", up to and past the anchor at event {a} ({} anchor(s) checked)",
                    v.anchors
                )
            })
            .unwrap_or_default();
        let keyed = v
            .keyed_from
            .map(|k| format!("; every event from {k} on is keyed"))
            .unwrap_or_default();
        eprintln!(
            "The audit chain of {} events is intact{anchored}{keyed}.",
            v.events
        );
        Ok(0)
    } else {
        eprintln!(
            "The audit chain is BROKEN at event {}: {}.",
            v.first_bad_seq.unwrap_or_default(),
            v.problem.as_deref().unwrap_or("")
        );
        Ok(1)
    }
}

/// Days before a certificate's end from which `jitgate check` warns (the admins' first alert).
const CREDENTIAL_WARN_DAYS: i64 = 30;

/// `jitgate check`'s line about the Entra credential: its kind, and a certificate's end (a
/// failure once past, a warning within [`CREDENTIAL_WARN_DAYS`]). The Graph checks after it use
/// the credential, so they show whether Entra accepts it.
fn credential_report(settings: &Settings, report: &mut impl FnMut(bool, &str, String)) {
    let kind = settings.entra.credential.kind();
    match crate::credential::configured_certificate(&settings.entra.credential) {
        None => report(
            true,
            "credential",
            format!("{kind} (no expiry to read here)"),
        ),
        Some(Err(e)) => report(false, "credential", e.to_string()),
        Some(Ok(cert)) => {
            let left = cert.not_after - chrono::Utc::now();
            let end = cert.not_after.format("%Y-%m-%d %H:%M UTC");
            let what = format!("certificate {} ({})", cert.thumbprint_hex, cert.subject);
            if left <= chrono::Duration::zero() {
                report(false, "credential", format!("{what} expired on {end}"));
            } else {
                report(
                    true,
                    "credential",
                    format!("{what} valid until {end} ({} days)", left.num_days()),
                );
                if left.num_days() < CREDENTIAL_WARN_DAYS {
                    println!(
                        "warn credential: the certificate expires in {} days: upload a new one to the app registration and replace the file",
                        left.num_days()
                    );
                }
            }
        }
    }
}

/// `jitgate check`: every dependency the portal has, one line each, and what the configuration
/// allows but weakens (`warn`).
async fn check(settings: Settings) -> anyhow::Result<i32> {
    let mut failures = 0;
    let mut report = |ok: bool, what: &str, detail: String| {
        println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures += 1;
        }
    };
    report(
        true,
        "configuration",
        format!("{} package(s)", settings.packages.len()),
    );
    // Allowed, so not a failure; said all the same.
    for w in settings.warnings() {
        println!("warn configuration: {w}");
    }
    match store::connect(&settings.database_url).await {
        Ok(s) => match s.ping().await {
            Ok(()) => report(true, "database", format!("{} reachable", s.backend())),
            Err(e) => report(false, "database", e.to_string()),
        },
        Err(e) => report(false, "database", format!("{e:#}")),
    }
    credential_report(&settings, &mut report);
    let oidc = crate::auth::Oidc::new(Arc::new(settings.clone()))?;
    match oidc.discovered(false).await {
        Ok(_) => report(
            true,
            "sign-in",
            format!("OpenID metadata and keys from {}", settings.entra.issuer()),
        ),
        Err(e) => report(false, "sign-in", e.to_string()),
    }
    let graph = GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    );
    for p in &settings.packages {
        match graph.list_members(&p.group_id).await {
            Ok(m) => report(
                true,
                &format!("group of {}", p.id),
                format!("{} readable, {} member(s)", p.group_id, m.len()),
            ),
            Err(e) => report(false, &format!("group of {}", p.id), e.to_string()),
        }
    }
    let denying: Vec<&str> = settings
        .packages
        .iter()
        .filter(|p| p.deny_privileged)
        .map(|p| p.id.as_str())
        .collect();
    match graph.role_eligibility_readable().await {
        Ok(_) => report(
            true,
            "directory roles",
            "role assignments and PIM eligibility readable (RoleManagement.Read.Directory)".into(),
        ),
        Err(e) if denying.is_empty() => println!(
            "note directory roles: PIM eligibility is not readable ({e}); no package sets deny_privileged, so nothing needs it"
        ),
        Err(e) => report(
            false,
            "directory roles",
            format!(
                "cannot read PIM eligibility, which deny_privileged needs (package(s) {}): grant the app RoleManagement.Read.Directory (Application, admin consent): {e}",
                denying.join(", ")
            ),
        ),
    }
    match graph.list_conditional_access_policies().await {
        Ok(policies) => {
            for p in &settings.packages {
                let posture = device_code_posture(&policies, &p.group_id);
                report(
                    posture.ok,
                    &format!("conditional access for {}", p.id),
                    posture.detail,
                );
            }
            // The portal's own API must stay behind the block: a device-code token for it could
            // decide. Only the requests API may be excluded, and that is a remark: without it
            // the command line signs in with a browser.
            let portal = portal_api_posture(&policies, &settings.entra.client_id);
            report(
                portal.ok,
                "device-code block covers the jitgate API",
                portal.detail,
            );
            if settings.entra.cli_client_id.is_some() {
                match &settings.entra.requests_api_id {
                    Some(requests) => {
                        let api = requests_api_posture(&policies, requests);
                        println!(
                            "{} command line (device code): {}",
                            if api.ok { "ok  " } else { "note" },
                            api.detail
                        );
                    }
                    None => println!(
                        "note command line (device code): no requests API is registered ([entra] requests_api_id): `jitgate login --device-code` asks for the jitgate API, which the block covers; see the README, step 8"
                    ),
                }
            }
        }
        Err(e) => report(
            false,
            "conditional access",
            format!("cannot read the policies (Policy.Read.All): {e}"),
        ),
    }
    Ok(if failures == 0 { 0 } else { 1 })
}
