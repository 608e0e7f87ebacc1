//! `jitgate demo`: the whole portal on an embedded SQLite database, signed in through a built-in
//! emulated Entra ID tenant. Loopback only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::SystemClock;
use crate::config::{EntraCredential, Settings};
use crate::emulator::demo::{
    CLI_CLIENT_ID, CLIENT_ID, CLIENT_SECRET, DANA, DOMAIN, EXCLUSION_GROUP_ID, KIOSK_01,
    ON_CALL_GROUP_ID, REQUESTS_API_ID, TENANT_ID,
};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::graph::{GraphClient, GraphSettings};
use crate::startup::App;

pub struct DemoOptions {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
}

/// The `[server]`, `[database]` and `[entra]` sections of a portal signed in through the emulator's
/// demo tenant (the demo, the tests and the benchmarks).
pub fn emulator_sections(portal_url: &str, emulator_url: &str, db_url: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
public_url = "{portal_url}"

[database]
url = "{db_url}"

[entra]
tenant_id = "{TENANT_ID}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
authority_host = "{emulator_url}"
graph_url = "{emulator_url}"
cli_client_id = "{CLI_CLIENT_ID}"
requests_api_id = "{REQUESTS_API_ID}"
"#
    )
}

/// The demo's configuration: short durations so expiry can be watched.
pub fn settings(portal_url: &str, emulator_url: &str, db_url: &str) -> anyhow::Result<Settings> {
    let head = emulator_sections(portal_url, emulator_url, db_url);
    let toml = format!(
        r#"{head}
[scheduler]
sweep = "*/30 * * * * *"

[[package]]
id = "device-code-exemption"
name = "Device code flow exemption"
description = "Membership of the group excluded from the Conditional Access policy that blocks the device code flow."
group_id = "{EXCLUSION_GROUP_ID}"
min_duration = "1m"
default_duration = "2m"
max_duration = "4h"
duration_presets = ["1m", "2m", "5m", "15m", "1h", "2h", "4h"]
manager_may_approve = true
remind_before = "1m"
escalate_after = "3m"
# Break-glass for the on-call engineers (Dana): at once, without approval, reviewed afterwards.
break_glass = true
break_glass_groups = ["{ON_CALL_GROUP_ID}"]
break_glass_max = "15m"
break_glass_review_within = "1h"
# The loading dock's kiosk, a device account, stays in the group without a grant.
standing_members = ["{KIOSK_01}"]
# An access review every 90 days, due 3 days after it starts (the demo's first starts at once).
review_every = "90d"
review_within = "3d"

[[package]]
id = "device-code-production"
name = "Device code flow exemption, production change"
description = "The same exemption for production work: needs a ticket, two approvals and a fresh multi-factor sign-in."
group_id = "{EXCLUSION_GROUP_ID}"
min_duration = "5m"
default_duration = "1h"
max_duration = "8h"
approvals_required = 2
ticket_required = true
# Step-up: asking and approving need the emulated tenant's "complete MFA" (its acrs claim).
auth_context = "c1"

[notify]
# E-mail through the emulated tenant's Graph sendMail; the demo banner links to the mailbox.
email_from = "alex@{DOMAIN}"
"#
    );
    let mut s = Settings::from_toml(&toml, [])?;
    s.demo = true;
    Ok(s)
}

pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    anyhow::ensure!(
        opts.listen.ip().is_loopback(),
        "jitgate demo only listens on loopback (127.0.0.1 or ::1), not {}",
        opts.listen
    );
    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("cannot create {}", opts.data_dir.display()))?;
    let data_dir = opts.data_dir.canonicalize()?;
    let listener = TcpListener::bind(opts.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is it in use? pick another with --listen)",
            opts.listen
        )
    })?;
    let portal_url = format!("http://{}", listener.local_addr()?);

    // No secret: the portal signs in with a certificate made now, uploaded to the emulated
    // tenant's app registration as an admin would upload theirs.
    let certificate_path = data_dir.join("jitgate-demo-certificate.pem");
    let certificate = demo_certificate(&certificate_path)?;
    let mut cfg = EmulatorConfig::demo();
    cfg.certificates = vec![certificate];
    cfg.client_secret = String::new();
    cfg.redirect_uris = vec![format!("{portal_url}/auth/callback")];
    cfg.state_file = Some(data_dir.join("jitgate-demo-entra.json"));
    let users = cfg.users.clone();
    let emulator = Emulator::start(cfg, TcpListener::bind((opts.listen.ip(), 0)).await?).await?;
    // Dana is on call: she may use break-glass on the first package.
    emulator.set_member(ON_CALL_GROUP_ID, DANA, true);
    // The kiosk is a standing member of the exclusion group.
    emulator.set_member(EXCLUSION_GROUP_ID, KIOSK_01, true);

    let db = data_dir.join("jitgate-demo.db");
    let db_url = format!("sqlite://{}?mode=rwc", db.display());
    let mut settings = settings(&portal_url, &emulator.base_url(), &db_url)?;
    settings.entra.credential = EntraCredential::Certificate {
        certificate_path,
        private_key_path: None,
    };
    // The demo's audit trail is keyed and anchored like a real one: the key is made once and
    // kept in the data folder (a real deployment passes it in JITGATE_AUDIT__KEY instead).
    settings
        .audit
        .set_key(&demo_audit_key(&data_dir.join("jitgate-demo-audit.key"))?)?;
    settings.audit.anchor_file = Some(data_dir.join("jitgate-demo-anchors.jsonl"));
    let directory = Arc::new(GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    ));
    let app = App::build(settings, listener, Arc::new(SystemClock), directory).await?;
    // A review due in the demo: its packages count as configured a day ago, so that their
    // first access review (at the first midnight after) starts now.
    app.portal
        .backdate_review_schedules(chrono::Duration::days(1))
        .await?;

    let line = "=".repeat(78);
    println!("{line}");
    println!("  jitgate DEMO: an emulated Entra ID tenant, for trying things out only");
    println!("{line}");
    println!("  Open {portal_url} and sign in as one of the demo users:");
    for u in &users {
        let roles = if u.roles.is_empty() {
            "requester".to_string()
        } else {
            u.roles.join(", ")
        };
        println!("    {:<18} {:<12} {}", u.name, roles, u.username);
    }
    println!();
    println!("  Try it: sign in as Dana, request 1 minute of the device code flow exemption;");
    println!("  sign out, sign in as Morgan (Dana's manager) and approve it; sign back in as");
    println!("  Dana and watch the membership appear in the group and disappear when it ends.");
    println!();
    println!(
        "  \"Try the device code flow\" on My access runs a device-code sign-in as you: blocked by"
    );
    println!("  Conditional Access without a grant, signed in during one, blocked again after it.");
    println!("  The production change package needs a fresh multi-factor sign-in: asking for it");
    println!("  sends you to sign in again, where the emulated tenant asks you to complete MFA.");
    println!("  Dana is reminded a minute before the end and may extend from the request's page;");
    println!(
        "  she is on call, so she may also tick \"Emergency, no approval\" (break-glass): access"
    );
    println!("  at once, everyone told, and Morgan reviews it afterwards on the request's page;");
    println!(
        "  Reviews: an access review of each package is open (Morgan reviews, Alex sees all):"
    );
    println!(
        "  keep or remove the loading dock's kiosk (a standing member), confirm the settings;"
    );
    println!(
        "  every e-mail jitgate sends is in the demo mailbox: {}/mailbox",
        emulator.base_url()
    );
    println!("  Signed in as Alex (admin) or Morgan (approver), \"On behalf\" asks for device");
    println!("  accounts: search \"scanner\", tick Scanner 07 and 08, one request each; someone");
    println!("  else (Jordan) decides them.");
    println!();
    println!("  From a terminal, the same as Dana (another terminal, as Morgan, approves);");
    println!("  --authority-host names the emulated tenant, which is not one of Entra's own:");
    println!(
        "    jitgate login --device-code --portal {portal_url} --authority-host {}",
        emulator.base_url()
    );
    println!(
        "    jitgate request --package device-code-exemption --for 2m --reason \"trying jitgate\" --wait"
    );
    println!("    jitgate approvals; jitgate approve ID      (signed in as Morgan)");
    println!(
        "  The device-login page is {}; pick the demo user there.",
        emulator.device_login_url()
    );
    println!();
    println!("  Data: {}", data_dir.display());
    println!("  Audit: keyed with jitgate-demo-audit.key, anchored to jitgate-demo-anchors.jsonl");
    println!("  Entra credential: the certificate in jitgate-demo-certificate.pem (no secret)");
    println!("  Emulated tenant: {} (loopback only)", emulator.base_url());
    println!("  Stop with Ctrl-C.");
    println!("{line}");
    app.run_until_stopped().await?;
    emulator.shutdown();
    Ok(())
}

/// A new self-signed certificate and its key, valid for a year, written to `path` (one PEM
/// file, readable by the owner only); the certificate's PEM, for the emulated tenant.
fn demo_certificate(path: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Write;
    let now = std::time::SystemTime::now();
    let (cert, key) = crate::credential::self_signed(
        "jitgate demo",
        now - std::time::Duration::from_secs(60),
        now + std::time::Duration::from_secs(365 * 24 * 3600),
    )?;
    let _ = std::fs::remove_file(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(format!("{cert}{key}").as_bytes())?;
    Ok(cert)
}

/// The demo's audit key: read from `path`, or made (48 random bytes, base64) and written there
/// readable by the owner only.
fn demo_audit_key(path: &std::path::Path) -> anyhow::Result<String> {
    use base64::Engine;
    let key = match std::fs::read_to_string(path) {
        Ok(k) => k.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 48];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let k = base64::engine::general_purpose::STANDARD.encode(bytes);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            std::io::Write::write_all(&mut opts.open(path)?, k.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            k
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(key)
}

#[cfg(test)]
mod tests {
    /// The demo shows every kind of package, one behind a step-up among them.
    #[test]
    fn the_demo_has_a_package_behind_a_step_up() {
        let s = super::settings(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:9000",
            "sqlite::memory:",
        )
        .unwrap();
        let behind: Vec<&str> = s
            .packages
            .iter()
            .filter(|p| p.auth_context.as_deref() == Some("c1"))
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(behind, ["device-code-production"]);
    }

    /// The demo's on-call engineers (Dana) may break the glass on the first package.
    #[test]
    fn the_demo_has_a_package_with_break_glass() {
        let s = super::settings(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:9000",
            "sqlite::memory:",
        )
        .unwrap();
        let b = s.packages[0].break_glass.as_ref().expect("break-glass on");
        assert_eq!(b.groups, [crate::emulator::demo::ON_CALL_GROUP_ID]);
        assert!(s.packages[1].break_glass.is_none());
    }
}
