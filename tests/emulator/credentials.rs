//! The portal's Entra credentials (issue 22) on both of its token paths, against the emulator:
//! Graph's client credentials ([`GraphClient`]) and the sign-in's code redemption ([`Oidc`]).
//! Each kind works; each way it can fail is a clear error naming the cause, with no secret in it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jitgate::auth::{CallbackParams, Oidc, SignInFailure};
use jitgate::config::{EntraCredential, Settings};
use jitgate::credential::{Credential, TOKEN_EXCHANGE_AUDIENCE, self_signed};
use jitgate::emulator::{
    Emulator, EmulatorConfig, FederatedCredential, demo, service_principal_id,
};
use jitgate::graph::{Directory, DirectoryError, GraphClient, GraphSettings};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::json;

use super::{hidden_fields, http, query_param, start, token_request, token_url};

const DAY: Duration = Duration::from_secs(24 * 3600);
const CLUSTER_ISSUER: &str = "https://oidc.cluster.example/6b4f1c2e/";
const SERVICE_ACCOUNT: &str = "system:serviceaccount:jitgate:jitgate";
const MANAGED_IDENTITY: &str = "4f6c8a2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

/// A certificate valid from a day ago for `days` days (negative: expired), and its key.
fn certificate(days: i64) -> (String, String) {
    let now = SystemTime::now();
    let not_after = if days >= 0 {
        now + DAY * days as u32
    } else {
        now - DAY * (-days) as u32
    };
    self_signed("jitgate test", now - DAY * 2, not_after).unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn graph(emu: &Emulator, credential: EntraCredential) -> GraphClient {
    let client_id = emu.config().client_id.clone();
    GraphClient::new(
        GraphSettings {
            authority_host: emu.base_url(),
            tenant_id: emu.config().tenant_id.clone(),
            credential: Credential::of(&client_id, credential),
            client_id,
            graph_url: emu.base_url(),
            timeout: Duration::from_secs(10),
            write_budget: None,
        },
        reqwest::Client::new(),
    )
}

/// Graph with `credential`: a user read, or the token error.
async fn graph_call(g: &GraphClient) -> Result<(), String> {
    match g.get_user(demo::DANA).await {
        Ok(u) => {
            assert!(u.is_some());
            Ok(())
        }
        Err(DirectoryError::Token { message, .. }) => Err(message),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn oidc(emu: &Emulator, credential: EntraCredential) -> Oidc {
    let mut s: Settings =
        jitgate::demo::settings("http://127.0.0.1:8080", &emu.base_url(), "sqlite::memory:")
            .unwrap();
    s.entra.credential = credential;
    Oidc::new(Arc::new(s)).unwrap()
}

/// A whole sign-in as Dana through the emulator's page, the code redeemed by `o`.
async fn sign_in(emu: &Emulator, o: &Oidc) -> Result<String, String> {
    let (authorize, login) = o.begin_sign_in("/".into(), None).await.unwrap();
    let b = http();
    let html = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = hidden_fields(&html);
    form.push(("user".to_owned(), demo::DANA.to_owned()));
    let r = b
        .post(format!(
            "{}/{}/oauth2/v2.0/authorize",
            emu.base_url(),
            emu.config().tenant_id
        ))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let q = CallbackParams {
        code: query_param(&location, "code"),
        state: query_param(&location, "state"),
        iss: query_param(&location, "iss"),
        error: None,
        error_description: None,
    };
    match o.finish_sign_in(login, q).await {
        Ok(who) => Ok(who.user.id),
        Err(SignInFailure::Refused { status, message }) => Err(format!("{status} {message}")),
        Err(SignInFailure::Error(e)) => Err(format!("error {e}")),
    }
}

fn dir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("jitgate.pem");
    (d, p)
}

fn cert_credential(path: &Path) -> EntraCredential {
    EntraCredential::Certificate {
        certificate_path: path.to_path_buf(),
        private_key_path: None,
    }
}

#[tokio::test]
async fn certificate_on_both_paths_rotation_and_expiry() {
    let (old_cert, old_key) = certificate(365);
    let (new_cert, new_key) = certificate(365);
    let mut cfg = EmulatorConfig::demo();
    cfg.certificates = vec![new_cert.clone()];
    let emu = start(cfg).await;
    let (_d, pem) = dir();

    // The file holds a certificate Entra does not know: refused, and said so.
    write(&pem, &format!("{old_cert}{old_key}"));
    let g = graph(&emu, cert_credential(&pem));
    let err = graph_call(&g).await.unwrap_err();
    assert!(
        err.contains("AADSTS700027") && err.contains("The key was not found"),
        "{err}"
    );
    assert!(
        !err.contains("PRIVATE KEY") && !err.contains("eyJ"),
        "{err}"
    );
    let o = oidc(&emu, cert_credential(&pem));
    let err = sign_in(&emu, &o).await.unwrap_err();
    assert!(
        err.starts_with("503") && err.contains("credential"),
        "{err}"
    );

    // Rotated in place (the uploaded one): both paths use it without a restart.
    write(&pem, &format!("{new_key}{new_cert}"));
    graph_call(&g).await.unwrap();
    assert_eq!(sign_in(&emu, &o).await.unwrap(), demo::DANA);

    // The certificate and the key in two files.
    let key_path = pem.with_extension("key");
    write(&pem, &new_cert);
    write(&key_path, &new_key);
    let split = EntraCredential::Certificate {
        certificate_path: pem.clone(),
        private_key_path: Some(key_path.clone()),
    };
    graph_call(&graph(&emu, split.clone())).await.unwrap();
    assert_eq!(sign_in(&emu, &oidc(&emu, split)).await.unwrap(), demo::DANA);

    // A key that is not the certificate's.
    write(&key_path, &old_key);
    let g = graph(
        &emu,
        EntraCredential::Certificate {
            certificate_path: pem.clone(),
            private_key_path: Some(key_path.clone()),
        },
    );
    let err = graph_call(&g).await.unwrap_err();
    assert!(err.contains("does not belong to the certificate"), "{err}");

    // Expired: named before anything is sent.
    let (expired, expired_key) = certificate(-1);
    write(&pem, &format!("{expired}{expired_key}"));
    let before = emu.token_requests();
    let err = graph_call(&graph(&emu, cert_credential(&pem)))
        .await
        .unwrap_err();
    assert!(
        err.contains("certificate") && err.contains("expired on"),
        "{err}"
    );
    let err = sign_in(&emu, &oidc(&emu, cert_credential(&pem)))
        .await
        .unwrap_err();
    assert!(err.starts_with("503"), "{err}");
    assert_eq!(
        emu.token_requests(),
        before,
        "nothing sent with an expired certificate"
    );

    // No file at all.
    let err = graph_call(&graph(&emu, cert_credential(&pem.with_extension("gone"))))
        .await
        .unwrap_err();
    assert!(err.contains("cannot read the certificate file"), "{err}");
}

/// A JWT signed with `key_pem` (RS256), as Entra would be sent it.
fn jwt(key_pem: &str, header: Header, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn public_pem(key_pem: &str) -> String {
    rsa::RsaPrivateKey::from_pkcs8_pem(key_pem)
        .unwrap()
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

/// The emulator checks what an assertion says, as Entra does: its certificate's validity, its
/// audience, its issuer and subject, its lifetime.
#[tokio::test]
async fn the_emulator_checks_certificate_assertions() {
    let (good, good_key) = certificate(365);
    let (expired, expired_key) = certificate(-1);
    let mut cfg = EmulatorConfig::demo();
    cfg.certificates = vec![good.clone(), expired.clone()];
    let emu = start(cfg).await;
    let thumb = |pem: &str| {
        jitgate::credential::read_certificate(pem)
            .unwrap()
            .thumbprint_s256
    };
    let now = chrono::Utc::now().timestamp();
    let assertion = |key: &str, cert: &str, alg: Algorithm, claims: serde_json::Value| {
        let mut h = Header::new(alg);
        h.x5t_s256 = Some(thumb(cert));
        jwt(key, h, claims)
    };
    let claims = |aud: &str, iss: &str, exp: i64| json!({"aud": aud, "iss": iss, "sub": iss, "jti": uuid::Uuid::new_v4().to_string(), "nbf": now - 10, "exp": exp});
    let ask = |a: String| {
        let emu = emu.clone();
        async move {
            token_request(
                &emu,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", demo::CLIENT_ID),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("client_assertion_type", jitgate::credential::JWT_BEARER),
                    ("client_assertion", &a),
                ],
            )
            .await
        }
    };
    let url = token_url(&emu);
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let (s, body) = ask(assertion(
            &good_key,
            &good,
            alg,
            claims(&url, demo::CLIENT_ID, now + 300),
        ))
        .await;
        assert!(s.is_success(), "{alg:?}: {body}");
    }
    let cases = [
        (
            assertion(
                &expired_key,
                &expired,
                Algorithm::PS256,
                claims(&url, demo::CLIENT_ID, now + 300),
            ),
            700027,
            "The key used is expired",
        ),
        (
            assertion(
                &good_key,
                &good,
                Algorithm::PS256,
                claims(
                    "https://login.example/other/token",
                    demo::CLIENT_ID,
                    now + 300,
                ),
            ),
            700023,
            "audience",
        ),
        (
            assertion(
                &good_key,
                &good,
                Algorithm::PS256,
                claims(&url, "someone-else", now + 300),
            ),
            700021,
            "application identifier",
        ),
        (
            assertion(
                &good_key,
                &good,
                Algorithm::PS256,
                claims(&url, demo::CLIENT_ID, now - 900),
            ),
            700024,
            "valid time range",
        ),
        (
            // Signed with another key than the certificate's.
            assertion(
                &expired_key,
                &good,
                Algorithm::PS256,
                claims(&url, demo::CLIENT_ID, now + 300),
            ),
            700027,
            "signature",
        ),
    ];
    for (a, code, words) in cases {
        let (s, body) = ask(a).await;
        assert_eq!(s.as_u16(), 401, "{body}");
        assert_eq!(body["error"], "invalid_client", "{body}");
        assert_eq!(body["error_codes"][0], code, "{body}");
        let d = body["error_description"].as_str().unwrap();
        assert!(
            d.starts_with(&format!("AADSTS{code}:")) && d.contains(words),
            "{d}"
        );
    }
}

fn federated_token(key: &str, sub: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("cluster-key".into());
    jwt(
        key,
        h,
        json!({"iss": CLUSTER_ISSUER, "sub": sub, "aud": [TOKEN_EXCHANGE_AUDIENCE], "iat": now, "nbf": now, "exp": now + exp_in}),
    )
}

#[tokio::test]
async fn workload_identity_on_both_paths_with_a_rotated_token_file() {
    let (_, cluster_key) = certificate(1);
    let mut cfg = EmulatorConfig::demo();
    cfg.federated_credentials = vec![FederatedCredential {
        issuer: CLUSTER_ISSUER.into(),
        subject: SERVICE_ACCOUNT.into(),
        audience: TOKEN_EXCHANGE_AUDIENCE.into(),
        public_key_pem: Some(public_pem(&cluster_key)),
    }];
    let emu = start(cfg).await;
    let (_d, file) = dir();
    let wi = EntraCredential::WorkloadIdentity {
        token_file: file.clone(),
    };
    let g = graph(&emu, wi.clone());
    let o = oidc(&emu, wi.clone());

    // The kubelet's token, an hour old and expired: refused, named.
    let stale = federated_token(&cluster_key, SERVICE_ACCOUNT, -900);
    write(&file, &stale);
    let err = graph_call(&g).await.unwrap_err();
    assert!(
        err.contains("AADSTS700024") && err.contains("valid time range"),
        "{err}"
    );
    assert!(!err.contains(&stale), "{err}");
    assert!(sign_in(&emu, &o).await.unwrap_err().starts_with("503"));

    // Rotated: read again for the next request.
    write(
        &file,
        &format!("{}\n", federated_token(&cluster_key, SERVICE_ACCOUNT, 3600)),
    );
    graph_call(&g).await.unwrap();
    assert_eq!(sign_in(&emu, &o).await.unwrap(), demo::DANA);

    // Another service account: no federated credential matches.
    write(
        &file,
        &federated_token(&cluster_key, "system:serviceaccount:other:other", 3600),
    );
    let err = graph_call(&graph(&emu, wi.clone())).await.unwrap_err();
    assert!(
        err.contains("AADSTS70021") && err.contains("system:serviceaccount:other:other"),
        "{err}"
    );

    // Gone.
    std::fs::remove_file(&file).unwrap();
    let err = graph_call(&graph(&emu, wi)).await.unwrap_err();
    assert!(
        err.contains("cannot read the federated token file"),
        "{err}"
    );
}

/// The webhook's environment fills `[entra]`: the configuration needs only the kind.
#[test]
fn workload_identity_takes_the_webhooks_environment() {
    let toml = r#"
[server]
public_url = "https://jit.contoso.example"
[database]
url = "sqlite::memory:"
[entra]
credential = "workload_identity"
[[package]]
id = "p"
name = "P"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
"#;
    let env = |k: &str, v: &str| (k.to_string(), v.to_string());
    let s = Settings::from_toml(
        toml,
        [
            env("AZURE_CLIENT_ID", "0e7c1b7e-0000-4000-8000-00000000c11e"),
            env("AZURE_TENANT_ID", demo::TENANT_ID),
            env("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
            env(
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
        ],
    )
    .unwrap();
    assert_eq!(s.entra.client_id, "0e7c1b7e-0000-4000-8000-00000000c11e");
    assert_eq!(s.entra.tenant_id, demo::TENANT_ID);
    assert_eq!(
        s.entra.authority_host.as_str(),
        "https://login.microsoftonline.us/"
    );
    assert!(matches!(
        &s.entra.credential,
        EntraCredential::WorkloadIdentity { token_file } if token_file.ends_with("azure-identity-token")
    ));
    // Without them, the missing key is named.
    let err = Settings::from_toml(toml, []).unwrap_err().to_string();
    assert!(err.contains("entra.federated_token_file"), "{err}");
}

#[tokio::test]
async fn managed_identity_on_both_paths_and_an_unreachable_endpoint() {
    let mut cfg = EmulatorConfig::demo();
    cfg.managed_identities = vec![MANAGED_IDENTITY.into()];
    let emu_without = start(cfg.clone()).await;
    // The tenant's own issuer (its address known once bound) names the identity.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!(
        "http://{}/{}/v2.0",
        listener.local_addr().unwrap(),
        cfg.tenant_id
    );
    cfg.federated_credentials = vec![FederatedCredential {
        issuer,
        subject: service_principal_id(MANAGED_IDENTITY),
        audience: TOKEN_EXCHANGE_AUDIENCE.into(),
        public_key_pem: None,
    }];
    let emu = Emulator::start(cfg, listener).await.unwrap();
    assert_eq!(emu.config().federated_credentials[0].issuer, emu.issuer());
    let mi = |emu: &Emulator, header: Option<&str>| EntraCredential::ManagedIdentity {
        client_id: MANAGED_IDENTITY.into(),
        endpoint: url::Url::parse(&format!(
            "{}/metadata/identity/oauth2/token",
            emu.base_url()
        ))
        .unwrap(),
        header: header.map(|h| h.to_string().into()),
    };
    for header in [None, Some("app-service-header")] {
        graph_call(&graph(&emu, mi(&emu, header))).await.unwrap();
        assert_eq!(
            sign_in(&emu, &oidc(&emu, mi(&emu, header))).await.unwrap(),
            demo::DANA
        );
    }

    // A tenant where the identity is no federated credential of the app.
    let err = graph_call(&graph(&emu_without, mi(&emu_without, None)))
        .await
        .unwrap_err();
    assert!(err.contains("AADSTS70021"), "{err}");

    // Not on Azure: the endpoint does not answer.
    let nowhere = EntraCredential::ManagedIdentity {
        client_id: MANAGED_IDENTITY.into(),
        endpoint: url::Url::parse("http://127.0.0.1:9/metadata/identity/oauth2/token").unwrap(),
        header: Some("never-shown-header".to_string().into()),
    };
    let g = graph(&emu, nowhere.clone());
    let err = g.get_user(demo::DANA).await.unwrap_err();
    assert!(err.is_retriable(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("managed identity endpoint http://127.0.0.1:9 cannot be reached"),
        "{text}"
    );
    assert!(!text.contains("never-shown-header"), "{text}");
    assert!(
        sign_in(&emu, &oidc(&emu, nowhere))
            .await
            .unwrap_err()
            .starts_with("503")
    );

    // An identity the endpoint does not know.
    let other = EntraCredential::ManagedIdentity {
        client_id: "9d9d9d9d-0000-4000-8000-000000000000".into(),
        endpoint: url::Url::parse(&format!(
            "{}/metadata/identity/oauth2/token",
            emu.base_url()
        ))
        .unwrap(),
        header: None,
    };
    let err = graph_call(&graph(&emu, other)).await.unwrap_err();
    assert!(
        err.contains("refused a token for the identity 9d9d9d9d")
            && err.contains("Identity not found"),
        "{err}"
    );
}

/// A secret still works on both paths, and a wrong one is named without being shown.
#[tokio::test]
async fn secret_on_both_paths() {
    let emu = start(EmulatorConfig::demo()).await;
    let good = EntraCredential::Secret(demo::CLIENT_SECRET.to_string().into());
    graph_call(&graph(&emu, good.clone())).await.unwrap();
    assert_eq!(sign_in(&emu, &oidc(&emu, good)).await.unwrap(), demo::DANA);
    let bad = EntraCredential::Secret("not-the-secret-xyz".to_string().into());
    let err = graph_call(&graph(&emu, bad.clone())).await.unwrap_err();
    assert!(
        err.contains("AADSTS7000215") && !err.contains("not-the-secret-xyz"),
        "{err}"
    );
    let err = sign_in(&emu, &oidc(&emu, bad)).await.unwrap_err();
    assert!(
        err.starts_with("503") && !err.contains("not-the-secret-xyz"),
        "{err}"
    );
}
