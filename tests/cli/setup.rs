//! `jitgate setup` against the emulated tenant, signed in as an admin with a device code: from a
//! tenant with none of jitgate's registration to all of it, then again with nothing to change,
//! and `--dry-run`, which writes nothing.

use std::process::Stdio;

use jitgate::emulator::{Emulator, EmulatorConfig, GraphCall, demo};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

/// Microsoft Graph Command Line Tools, the public client setup signs in with.
const GRAPH_CLI: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
const PUBLIC_URL: &str = "https://jit.contoso.example";

async fn tenant() -> Emulator {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = EmulatorConfig::demo();
    config.public_clients.push(GRAPH_CLI.to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emu = Emulator::start(config, listener).await.unwrap();
    // The tenant's own "block device code flow" policy would stop the admin's device-code sign-in.
    emu.set_device_code_policy_enabled(false);
    emu
}

/// Runs `jitgate setup` with `extra` arguments, completing its device-code sign-in as Sam:
/// exit status and standard output.
async fn setup(emu: &Emulator, dir: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let base = emu.base_url();
    let mut child = tokio::process::Command::new(super::BIN)
        .args([
            "setup",
            "--tenant",
            // A domain, as people know their tenant: setup writes the tenant's id.
            demo::DOMAIN,
            "--public-url",
            PUBLIC_URL,
            "--device-code",
            "--authority-host",
            &base,
            "--graph-url",
            &base,
        ])
        .args(extra)
        .current_dir(dir)
        .env_remove("JITGATE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let code = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(l) = err.next_line().await.unwrap() {
            if let Some(rest) = l.split("enter the code ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("no code printed")
    })
    .await
    .unwrap();
    emu.complete_device_login(&code, demo::SAM).unwrap();
    let rest = tokio::spawn(async move {
        let mut text = String::new();
        while let Ok(Some(l)) = err.next_line().await {
            text.push_str(&l);
            text.push('\n');
        }
        text
    });
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = rest.await.unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    (out.status.code().unwrap_or(-1), stdout)
}

fn writes(calls: &[GraphCall]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.method != "GET")
        .map(|c| format!("{} {} {}", c.method, c.path, c.status))
        .collect()
}

async fn get(emu: &Emulator, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/v1.0{path}", emu.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn setup_registers_jitgate_from_an_empty_tenant_and_a_rerun_changes_nothing() {
    let emu = tenant().await;
    let dir = tempfile::tempdir().unwrap();

    // --dry-run: every write printed, none made, no file written.
    let (_, said) = setup(&emu, dir.path(), &["--dry-run"]).await;
    assert!(writes(&emu.graph_requests()).is_empty(), "{said}");
    assert!(said.contains("POST /applications"), "{said}");
    assert!(
        said.contains("\"enabledForReportingButNotEnforced\""),
        "{said}"
    );
    assert!(!dir.path().join("jitgate.toml").exists());

    // From nothing to all of it.
    let before = emu.graph_requests().len();
    let (_, said) = setup(&emu, dir.path(), &[]).await;
    let calls = emu.graph_requests()[before..].to_vec();
    let made = writes(&calls);
    println!(
        "setup from an empty tenant: {} Graph calls, {} writes:\n{}",
        calls.len(),
        made.len(),
        made.join("\n")
    );
    assert!(
        made.iter()
            .all(|w| w.ends_with(" 201") || w.ends_with(" 204")),
        "{made:?}"
    );
    // App, its service principal, the CLI client, the app again (the client pre-authorized),
    // the group, six Graph permissions, the Admin role, the policy.
    assert_eq!(made.len(), 13, "{made:?}\n{said}");
    assert!(said.contains("report-only"), "{said}");
    let toml = std::fs::read_to_string(dir.path().join("jitgate.toml")).unwrap();
    let conf: toml::Value = toml::from_str(&toml).unwrap();
    let client_id = conf["entra"]["client_id"].as_str().unwrap().to_owned();
    let group_id = conf["package"][0]["group_id"].as_str().unwrap().to_owned();
    assert_eq!(conf["entra"]["tenant_id"].as_str(), Some(demo::TENANT_ID));
    assert!(conf["entra"]["cli_client_id"].as_str().is_some());
    assert!(
        !toml.contains("client_secret ="),
        "no secret is made: {toml}"
    );

    // What the tenant now holds, read as the app itself would be (a Graph token with reads).
    let token = emu.mint_token(jitgate::emulator::TokenSpec {
        roles: Some(vec![
            "Application.Read.All".into(),
            "Policy.Read.All".into(),
        ]),
        ..jitgate::emulator::TokenSpec::new(demo::SAM, "https://graph.microsoft.com")
    });
    let sps = get(
        &emu,
        &token,
        &format!("/servicePrincipals?$filter=appId%20eq%20'{client_id}'"),
    )
    .await;
    let sp = sps["value"][0]["id"].as_str().unwrap().to_owned();
    let held = get(
        &emu,
        &token,
        &format!("/servicePrincipals/{sp}/appRoleAssignments"),
    )
    .await;
    assert_eq!(held["value"].as_array().unwrap().len(), 6, "{held}");
    let assigned = get(
        &emu,
        &token,
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
    )
    .await;
    assert_eq!(
        assigned["value"][0]["principalId"].as_str(),
        Some(demo::SAM),
        "{assigned}"
    );
    let policies = get(&emu, &token, "/identity/conditionalAccess/policies").await;
    let ours = policies["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == "Block device code flow (jitgate)")
        .unwrap();
    assert_eq!(ours["state"], "enabledForReportingButNotEnforced");
    assert_eq!(
        ours["conditions"]["users"]["excludeGroups"][0].as_str(),
        Some(group_id.as_str())
    );

    // Again: everything is found, nothing is written, the same configuration.
    let before = emu.graph_requests().len();
    let (_, said) = setup(&emu, dir.path(), &[]).await;
    let again = writes(&emu.graph_requests()[before..]);
    assert!(again.is_empty(), "{again:?}\n{said}");
    assert!(said.contains("Nothing to change"), "{said}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("jitgate.toml")).unwrap(),
        toml
    );
}

/// A certificate (its public part) and a federated identity credential are given to the app, and
/// a re-run finds both (Graph never reads a certificate's key back) and writes nothing.
#[tokio::test]
async fn setup_gives_the_app_a_certificate_and_a_federated_credential_once() {
    let emu = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("jitgate.pem");
    std::fs::write(
        &pem,
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUb3Jub3QtYS1yZWFsLWNlcnQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let pem_arg = pem.display().to_string();
    let args = [
        "--certificate",
        pem_arg.as_str(),
        "--federated-issuer",
        "https://oidc.prod-aks.azure.com/tenant/cluster/",
        "--federated-subject",
        "system:serviceaccount:jitgate:jitgate",
        "--no-cli",
    ];
    let (_, said) = setup(&emu, dir.path(), &args).await;
    let made = writes(&emu.graph_requests());
    assert!(
        made.iter()
            .any(|w| w.contains("/federatedIdentityCredentials 201")),
        "{made:?}\n{said}"
    );
    let toml = std::fs::read_to_string(dir.path().join("jitgate.toml")).unwrap();
    // The file written is one jitgate itself accepts, certificate and all.
    let settings = jitgate::config::Settings::from_toml(&toml, [])
        .unwrap_or_else(|e| panic!("the written configuration loads: {e:#}\n{toml}"));
    assert_eq!(settings.packages.len(), 1);
    let conf: toml::Value = toml::from_str(&toml).unwrap();
    assert_eq!(conf["entra"]["credential"].as_str(), Some("certificate"));
    assert_eq!(
        conf["entra"]["certificate_path"].as_str(),
        Some(pem_arg.as_str())
    );
    assert!(conf["entra"].get("cli_client_id").is_none());
    let client_id = conf["entra"]["client_id"].as_str().unwrap().to_owned();
    let token = emu.mint_token(jitgate::emulator::TokenSpec {
        roles: Some(vec!["Application.Read.All".into()]),
        ..jitgate::emulator::TokenSpec::new(demo::SAM, "https://graph.microsoft.com")
    });
    let apps = get(&emu, &token, "/applications").await;
    let app = apps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appId"] == client_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(app["keyCredentials"][0]["type"], "AsymmetricX509Cert");
    assert_eq!(
        app["keyCredentials"][0]["key"],
        Value::Null,
        "Graph never reads a key back"
    );
    assert!(
        app.get("passwordCredentials")
            .is_none_or(|p| p.as_array().is_some_and(Vec::is_empty)),
        "no secret: {app}"
    );
    let id = app["id"].as_str().unwrap();
    let fics = get(
        &emu,
        &token,
        &format!("/applications/{id}/federatedIdentityCredentials"),
    )
    .await;
    assert_eq!(
        fics["value"][0]["subject"],
        "system:serviceaccount:jitgate:jitgate"
    );

    let before = emu.graph_requests().len();
    let (_, said) = setup(&emu, dir.path(), &args).await;
    let again = writes(&emu.graph_requests()[before..]);
    assert!(again.is_empty(), "{again:?}\n{said}");
}

/// The Graph writes setup makes need the admin's delegated permissions: a token that may only
/// read (the portal's own app-only permissions, say) is refused each of them, and nothing is made.
#[tokio::test]
async fn the_tenant_refuses_setups_writes_to_a_token_that_may_only_read() {
    let emu = tenant().await;
    let token = emu.mint_token(jitgate::emulator::TokenSpec {
        roles: Some(
            [
                "Application.Read.All",
                "GroupMember.ReadWrite.All",
                "Policy.Read.All",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ..jitgate::emulator::TokenSpec::new(demo::SAM, "https://graph.microsoft.com")
    });
    let http = reqwest::Client::new();
    let graph_sp = get(&emu, &token, "/servicePrincipals").await["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, body) in [
        ("/applications", serde_json::json!({"displayName": "x"})),
        (
            "/groups",
            serde_json::json!({"displayName": "x", "mailNickname": "x", "mailEnabled": false, "securityEnabled": true}),
        ),
        (
            "/identity/conditionalAccess/policies",
            serde_json::json!({"displayName": "x", "state": "enabled", "conditions": {}}),
        ),
        (
            &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
            serde_json::json!({"principalId": demo::SAM, "resourceId": graph_sp, "appRoleId": "dbaae8cf-10b5-4b86-a4a1-f871c94c6695"}),
        ),
    ] {
        let resp = http
            .post(format!("{}/v1.0{path}", emu.base_url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{path}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(
            err["error"]["code"], "Authorization_RequestDenied",
            "{path}"
        );
    }
    assert!(
        get(&emu, &token, "/applications").await["value"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        get(&emu, &token, "/servicePrincipals").await["value"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );
}
