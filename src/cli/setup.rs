//! `jitgate setup`: registers jitgate in a tenant in one command, signed in as an admin.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::client::{AdminAuthority, admin_token};
use crate::graph::AdminGraph;
use crate::service::setup::{self, Certificate, Desired, Federated, SETUP_SCOPES, config_toml};

/// "Microsoft Graph Command Line Tools", the public client Microsoft documents for signing in
/// to Graph as an admin from a terminal (`Connect-MgGraph`), present in every tenant.
const GRAPH_CLI_CLIENT: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The tenant (its id or a verified domain).
    #[arg(long)]
    tenant: String,
    /// The portal's public URL, e.g. https://jit.contoso.example (the sign-in redirect URI is
    /// made from it).
    #[arg(long)]
    public_url: String,
    /// Print every Graph write it would make (method, path, body) and make none.
    #[arg(long)]
    dry_run: bool,
    /// Sign in with a device code instead of the browser.
    #[arg(long)]
    device_code: bool,
    /// Print the sign-in address instead of opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// The public client the admin signs in with (default: Microsoft Graph Command Line Tools).
    #[arg(long, default_value = GRAPH_CLI_CLIENT)]
    client_id: String,
    /// The portal's app registration's display name.
    #[arg(long, default_value = "jitgate")]
    app_name: String,
    /// The command-line client's registration's display name.
    #[arg(long, default_value = "jitgate CLI")]
    cli_name: String,
    /// Do not register the command-line client.
    #[arg(long)]
    no_cli: bool,
    /// The exclusion group's display name.
    #[arg(long, default_value = "jitgate: device code flow exemption")]
    group_name: String,
    /// Create the exclusion group role-assignable, and grant the app
    /// RoleManagement.ReadWrite.Directory, which managing its members needs.
    #[arg(long)]
    role_assignable: bool,
    /// The report-only device-code block policy's display name.
    #[arg(long, default_value = "Block device code flow (jitgate)")]
    policy_name: String,
    /// A certificate (PEM; only its public part is read and uploaded) to give the app as its
    /// credential; `credential = "certificate"` with this path goes into the configuration.
    #[arg(long)]
    certificate: Option<PathBuf>,
    /// The private key's PEM file, when the certificate's file does not hold it (for the
    /// configuration's `private_key_path`; never read here).
    #[arg(long, requires = "certificate")]
    private_key: Option<PathBuf>,
    /// The issuer of the federated tokens to accept as the app (workload identity), e.g. the
    /// Kubernetes cluster's OIDC issuer URL; with --federated-subject.
    #[arg(long, requires = "federated_subject")]
    federated_issuer: Option<String>,
    /// Their subject, e.g. system:serviceaccount:jitgate:jitgate.
    #[arg(long, requires = "federated_issuer")]
    federated_subject: Option<String>,
    /// Where to write the configuration.
    #[arg(long, default_value = "jitgate.toml")]
    write: PathBuf,
    /// Sign in here instead of Entra's own host (only https, or a host on this machine).
    #[arg(long, default_value = "https://login.microsoftonline.com")]
    authority_host: String,
    /// Microsoft Graph's root (only https, or a host on this machine).
    #[arg(long, default_value = "https://graph.microsoft.com")]
    graph_url: String,
}

pub async fn run(args: SetupArgs) -> anyhow::Result<i32> {
    let public = url::Url::parse(&args.public_url)
        .with_context(|| format!("--public-url '{}' is not a URL", args.public_url))?;
    if public.scheme() != "https" && public.host_str() != Some("localhost") {
        bail!("--public-url must be https (Entra accepts http redirect URIs only for localhost)");
    }
    let graph_root = args.graph_url.trim_end_matches('/').to_owned();
    let scopes = SETUP_SCOPES
        .iter()
        .map(|s| format!("https://graph.microsoft.com/{s}"))
        .collect();
    let token = admin_token(
        AdminAuthority {
            authority_host: args.authority_host.clone(),
            tenant_id: args.tenant.clone(),
            client_id: args.client_id.clone(),
            scopes,
            graph_url: graph_root.clone(),
        },
        args.device_code,
        args.no_browser,
    )
    .await?;
    let graph = AdminGraph::new(&graph_root, token, reqwest::Client::new());
    let desired = Desired {
        tenant_id: args.tenant.clone(),
        public_url: args.public_url.trim_end_matches('/').to_owned(),
        app_name: args.app_name,
        cli_name: (!args.no_cli).then_some(args.cli_name),
        group_name: args.group_name,
        role_assignable: args.role_assignable,
        policy_name: args.policy_name.clone(),
        certificate: args
            .certificate
            .as_deref()
            .map(read_certificate)
            .transpose()?,
        federated: args
            .federated_issuer
            .clone()
            .zip(args.federated_subject.clone())
            .map(|(issuer, subject)| Federated { issuer, subject }),
    };
    let mut outcome = setup::run(&graph, &desired, args.dry_run).await?;
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    outcome.written.credential = if args.certificate.is_some() {
        Some((
            "certificate".into(),
            path(&args.certificate),
            path(&args.private_key),
        ))
    } else if desired.federated.is_some() {
        Some(("workload_identity".into(), None, None))
    } else {
        None
    };
    let verb = if args.dry_run { "Would make" } else { "Made" };
    for c in &outcome.calls {
        println!("{} {}  ({})", c.method.as_str(), c.path, c.what);
        if args.dry_run {
            println!("{}", serde_json::to_string_pretty(&c.body)?);
        }
    }
    let n = outcome.calls.len();
    if n == 0 {
        println!(
            "Nothing to change: the tenant already holds jitgate's registration as it should be."
        );
    } else {
        println!(
            "{verb} {n} change(s) in the tenant, signed in as {}.",
            plain(&outcome.admin)
        );
    }
    let toml = config_toml(&outcome.written);
    if args.dry_run {
        println!("\nWould write {}:\n{toml}", args.write.display());
        return Ok(0);
    }
    std::fs::write(&args.write, &toml)
        .with_context(|| format!("cannot write {}", args.write.display()))?;
    println!("Wrote {}.", args.write.display());
    println!(
        "\nThe policy '{}' blocks the device code flow for everyone but the exclusion group in report-only state: it is logged, not enforced. Once its report (Entra admin center → Protection → Conditional Access → the policy → Report-only insights) shows no one who needs the device code flow outside the group, switch it on there: Enable policy → On. jitgate never does this by itself.",
        plain(&args.policy_name)
    );
    if outcome.written.credential.is_none() {
        println!(
            "No client secret was made. Give the app a certificate (--certificate) or a federated credential (--federated-issuer, --federated-subject), or use a managed identity, before `jitgate serve`."
        );
    }
    Ok(0)
}

/// `s` without control characters, for the terminal.
fn plain(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// The public part of the PEM certificate at `path`: base64 DER and its SHA-256 thumbprint.
fn read_certificate(path: &std::path::Path) -> anyhow::Result<Certificate> {
    use base64::Engine;
    use sha2::Digest;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the certificate {}", path.display()))?;
    let body = text
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
        .with_context(|| {
            format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            )
        })?;
    let b64: String = body.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .with_context(|| format!("{}: the certificate is not valid base64", path.display()))?;
    let thumbprint: String = sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    Ok(Certificate {
        key: base64::engine::general_purpose::STANDARD.encode(&der),
        thumbprint,
    })
}
