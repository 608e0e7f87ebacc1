//! The Entra ID emulator, driven over HTTP like the portal and Microsoft's clients drive Entra.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jitgate::emulator::{
    Emulator, EmulatorConfig, Fault, GRAPH_RESOURCE, NotMemberStyle, TokenSpec, demo,
};
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[path = "emulator/conditions.rs"]
mod conditions;
#[path = "emulator/credentials.rs"]
mod credentials;
#[path = "emulator/device_code.rs"]
mod device_code;
#[path = "emulator/directory_roles.rs"]
mod directory_roles;
#[path = "emulator/public_client.rs"]
mod public_client;
#[path = "emulator/step_up.rs"]
mod step_up;
#[path = "emulator/user_search.rs"]
mod user_search;

async fn start(config: EmulatorConfig) -> Emulator {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Emulator::start(config, listener).await.unwrap()
}

fn http() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

fn token_url(emu: &Emulator) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        emu.base_url(),
        emu.config().tenant_id
    )
}

fn authorize_url(emu: &Emulator) -> String {
    format!(
        "{}/{}/oauth2/v2.0/authorize",
        emu.base_url(),
        emu.config().tenant_id
    )
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of the sign-in form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + "<input type=\"hidden\" name=\"".len()..];
        let name_end = rest.find('"').unwrap();
        let name = unescape(&rest[..name_end]);
        rest = &rest[name_end..];
        let v = rest.find("value=\"").unwrap() + "value=\"".len();
        rest = &rest[v..];
        let value_end = rest.find('"').unwrap();
        out.push((name, unescape(&rest[..value_end])));
        rest = &rest[value_end..];
    }
    out
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

struct SignIn {
    client_id: String,
    verifier: String,
    nonce: String,
    redirect_uri: String,
}

impl SignIn {
    fn new() -> Self {
        SignIn {
            client_id: demo::CLIENT_ID.to_owned(),
            verifier: format!("verifier-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4()),
            nonce: format!("nonce-{}", uuid::Uuid::new_v4()),
            redirect_uri: demo::REDIRECT_URIS[0].to_owned(),
        }
    }

    /// The command line's sign-in: the public client, redirected to a loopback port.
    fn cli(redirect_uri: &str) -> Self {
        SignIn {
            client_id: demo::CLI_CLIENT_ID.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            ..SignIn::new()
        }
    }

    fn params(&self, scope: &str, state: &str) -> Vec<(&'static str, String)> {
        vec![
            ("client_id", self.client_id.clone()),
            ("response_type", "code".to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", scope.to_owned()),
            ("state", state.to_owned()),
            ("nonce", self.nonce.clone()),
            ("code_challenge", challenge(&self.verifier)),
            ("code_challenge_method", "S256".to_owned()),
        ]
    }

    /// Opens the sign-in page and picks `user`; returns the authorization code.
    async fn code(&self, emu: &Emulator, http: &Client, scope: &str, user: &str) -> String {
        let page = http
            .get(authorize_url(emu))
            .query(&self.params(scope, "st-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        let mut form = hidden_fields(&html);
        form.push(("user".to_owned(), user.to_owned()));
        let resp = http
            .post(authorize_url(emu))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_redirection(), "{}", resp.status());
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&self.redirect_uri));
        assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
        query_param(&location, "code").expect("code in the redirect")
    }
}

async fn token_request(emu: &Emulator, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = http().post(token_url(emu)).form(form).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn assert_aad_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("Trace ID: "));
    for key in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[key].is_string(), "missing {key} in {body}");
    }
}

/// Claims of a JWT without verifying it.
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn app_token(emu: &Emulator) -> String {
    let (status, body) = token_request(
        emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

struct Graph {
    base: String,
    token: String,
    http: Client,
}

impl Graph {
    async fn new(emu: &Emulator) -> Self {
        Graph {
            base: format!("{}/v1.0", emu.base_url()),
            token: app_token(emu).await,
            http: http(),
        }
    }

    fn with_token(emu: &Emulator, token: String) -> Self {
        Graph {
            base: format!("{}/v1.0", emu.base_url()),
            token,
            http: http(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    async fn add(&self, group: &str, user: &str) -> reqwest::Response {
        let body = json!({ "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}") });
        self.send(
            reqwest::Method::POST,
            &format!("/groups/{group}/members/$ref"),
            Some(body),
        )
        .await
    }

    async fn remove(&self, group: &str, user: &str) -> reqwest::Response {
        self.send(
            reqwest::Method::DELETE,
            &format!("/groups/{group}/members/{user}/$ref"),
            None,
        )
        .await
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, None).await
    }
}

/// Checks the Graph error template: exactly `error{code,message,innerError{date,request-id,client-request-id}}`.
async fn graph_error(resp: reqwest::Response, status: StatusCode, code: &str) -> String {
    assert_eq!(resp.status(), status);
    let request_id = resp.headers()["request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(top, ["error"], "{body}");
    let error = body["error"].as_object().unwrap();
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "innerError", "message"], "{body}");
    assert_eq!(error["code"], code, "{body}");
    let inner = error["innerError"].as_object().unwrap();
    let date = inner["date"].as_str().unwrap();
    assert!(!date.ends_with('Z') && date.len() == 19, "{date}");
    chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%S").unwrap();
    assert_eq!(inner["request-id"], request_id.as_str());
    assert!(inner["client-request-id"].is_string());
    error["message"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_and_jwks_look_like_entra() {
    let emu = start(EmulatorConfig::demo()).await;
    let base = emu.base_url();
    let t = demo::TENANT_ID;
    let resp = http()
        .get(format!("{base}/{t}/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["issuer"], emu.issuer());
    assert_eq!(emu.issuer(), format!("{base}/{t}/v2.0"));
    assert_eq!(doc["authorization_endpoint"], authorize_url(&emu));
    assert_eq!(doc["token_endpoint"], token_url(&emu));
    assert_eq!(doc["jwks_uri"], format!("{base}/{t}/discovery/v2.0/keys"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["pairwise"]));
    assert!(doc.get("code_challenge_methods_supported").is_none());

    let jwks: Value = http()
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], key["x5t"]);
    assert_eq!(key["e"], "AQAB");
    assert!(key.get("alg").is_none());
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256, "2048-bit modulus");

    let resp = http()
        .get(format!(
            "{base}/contoso.example/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_aad_error(&resp.json().await.unwrap(), "invalid_tenant", 90002);
}

#[tokio::test]
async fn authorize_page_lists_users_and_guards_the_redirect() {
    let emu = start(EmulatorConfig::demo()).await;
    let http = http();
    let sign_in = SignIn::new();

    // A redirect URI that is not registered: an error page, never a redirect.
    let mut params = sign_in.params("openid profile", "abc");
    params[2].1 = "https://evil.example/callback".to_owned();
    let resp = http
        .get(authorize_url(&emu))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    let html = resp.text().await.unwrap();
    assert!(html.contains("AADSTS50011"), "{html}");
    assert!(html.contains("https://evil.example/callback"));

    // Unknown client: error page too.
    let mut params = sign_in.params("openid", "abc");
    params[0].1 = uuid::Uuid::new_v4().to_string();
    let resp = http
        .get(authorize_url(&emu))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("AADSTS700016"));

    // Missing PKCE with a good redirect URI: the error goes back to the app with the state.
    let params: Vec<_> = sign_in
        .params("openid", "xyz")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    let resp = http
        .get(authorize_url(&emu))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("xyz"));

    // The page itself.
    let resp = http
        .get(authorize_url(&emu))
        .query(&sign_in.params("openid profile", "s<t>\"1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("<title>Sign in to the jitgate demo tenant</title>"));
    for user in demo::users() {
        let button = format!(
            "<button type=\"submit\" name=\"user\" value=\"{}\" data-username=\"{}\">",
            user.id, user.username
        );
        assert!(html.contains(&button), "missing {button}");
        assert!(html.contains(&user.name));
    }
    assert!(html.contains("roles: Approver"));
    assert!(!html.contains("s<t>"), "state must be escaped");
    assert!(html.contains("s&lt;t&gt;&quot;1"));
    let form = hidden_fields(&html);
    assert!(form.iter().any(|(k, v)| k == "page_token" && v.len() >= 32));

    // A forged page token is refused.
    let mut forged = form.clone();
    for (k, v) in forged.iter_mut() {
        if k == "page_token" {
            *v = "forged".to_owned();
        }
    }
    forged.push(("user".to_owned(), demo::DANA.to_owned()));
    let resp = http
        .post(authorize_url(&emu))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());

    // Altered hidden fields are refused (and burn the page token).
    let mut altered = form.clone();
    for (k, v) in altered.iter_mut() {
        if k == "redirect_uri" {
            *v = demo::REDIRECT_URIS[1].to_owned();
        }
    }
    altered.push(("user".to_owned(), demo::DANA.to_owned()));
    let resp = http
        .post(authorize_url(&emu))
        .form(&altered)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Cancel on a fresh page.
    let html = http
        .get(authorize_url(&emu))
        .query(&sign_in.params("openid profile", "st-9"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut cancel = hidden_fields(&html);
    cancel.push(("cancel".to_owned(), "1".to_owned()));
    let resp = http
        .post(authorize_url(&emu))
        .form(&cancel)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(demo::REDIRECT_URIS[0]));
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_param(location, "error_description").is_some());
    assert_eq!(query_param(location, "state").as_deref(), Some("st-9"));
    assert_eq!(query_param(location, "code"), None);

    // The page token is single-use.
    let resp = http
        .post(authorize_url(&emu))
        .form(&cancel)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Picking a user redirects with a code and the state.
    let code = sign_in
        .code(&emu, &http, "openid profile", demo::DANA)
        .await;
    assert!(code.len() > 20);
}

#[tokio::test]
async fn code_redemption_with_pkce_and_a_verifiable_id_token() {
    let emu = start(EmulatorConfig::demo()).await;
    let http = http();
    let sign_in = SignIn::new();
    let scope = "openid profile email offline_access";
    let code = sign_in.code(&emu, &http, scope, demo::MORGAN).await;
    let redeem = |code: String, verifier: String, secret: &'static str, redirect: String| {
        let emu = emu.clone();
        async move {
            token_request(
                &emu,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", demo::CLIENT_ID),
                    ("client_secret", secret),
                    ("code", &code),
                    ("redirect_uri", &redirect),
                    ("code_verifier", &verifier),
                    ("scope", scope),
                ],
            )
            .await
        }
    };
    let good_redirect = sign_in.redirect_uri.clone();

    // Wrong client secret: 401 invalid_client.
    let (status, body) = redeem(
        code.clone(),
        sign_in.verifier.clone(),
        "wrong",
        good_redirect.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_aad_error(&body, "invalid_client", 7000215);

    // Wrong verifier: 501481.
    let (status, body) = redeem(
        code.clone(),
        "x".repeat(43),
        demo::CLIENT_SECRET,
        good_redirect.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_grant", 501481);

    // Missing verifier: 501481.
    let (status, body) = redeem(
        code.clone(),
        String::new(),
        demo::CLIENT_SECRET,
        good_redirect.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_grant", 501481);

    // A different (even registered) redirect URI than at authorize.
    let (status, body) = redeem(
        code.clone(),
        sign_in.verifier.clone(),
        demo::CLIENT_SECRET,
        demo::REDIRECT_URIS[1].to_owned(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // Good, with client_secret_basic.
    let resp = http
        .post(token_url(&emu))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &good_redirect),
            ("code_verifier", &sign_in.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["ext_expires_in"].is_number());
    assert!(body["scope"].is_string());
    assert!(
        body["refresh_token"].is_string(),
        "offline_access was asked"
    );
    let id_token = body["id_token"].as_str().unwrap();
    let access_token = body["access_token"].as_str().unwrap();

    // Verify the ID token against the JWKS.
    let jwks: Value = http
        .get(format!(
            "{}/{}/discovery/v2.0/keys",
            emu.base_url(),
            demo::TENANT_ID
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("kid in the header");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[demo::CLIENT_ID]);
    validation.set_issuer(&[emu.issuer()]);
    let data = jsonwebtoken::decode::<Value>(id_token, &key, &validation).unwrap();
    let c = data.claims;
    assert_eq!(c["aud"], demo::CLIENT_ID);
    assert_eq!(c["iss"], emu.issuer());
    assert_eq!(c["nonce"], sign_in.nonce.as_str());
    assert_eq!(c["oid"], demo::MORGAN);
    assert_eq!(c["tid"], demo::TENANT_ID);
    assert_eq!(c["roles"], json!(["Approver"]));
    assert_eq!(c["name"], "Morgan Manager");
    assert_eq!(c["preferred_username"], format!("morgan@{}", demo::DOMAIN));
    assert_eq!(c["ver"], "2.0");
    assert!(c["sub"].as_str().unwrap().len() >= 40);
    assert_ne!(c["sub"], demo::MORGAN);
    let exp = c["exp"].as_i64().unwrap();
    assert!((exp - c["iat"].as_i64().unwrap() - 3600).abs() <= 1);
    assert!(c["nbf"].is_i64());

    // A token signed by a key outside the JWKS fails verification.
    let foreign = emu.mint_foreign_token(TokenSpec::new(demo::MORGAN, demo::CLIENT_ID));
    assert!(jsonwebtoken::decode::<Value>(&foreign, &key, &validation).is_err());
    let ours = emu.mint_token(TokenSpec::new(demo::MORGAN, demo::CLIENT_ID));
    assert!(jsonwebtoken::decode::<Value>(&ours, &key, &validation).is_ok());

    // Without an API scope the access token is for Graph.
    assert_eq!(
        claims(access_token)["aud"],
        "00000003-0000-0000-c000-000000000000"
    );

    // Replay: 54005.
    let (status, body) = redeem(
        code,
        sign_in.verifier.clone(),
        demo::CLIENT_SECRET,
        good_redirect,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_grant", 54005);

    // Users without roles get no roles claim; the subject is stable per user.
    let code = sign_in
        .code(&emu, &http, "openid profile", demo::DANA)
        .await;
    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", &sign_in.redirect_uri),
            ("code_verifier", &sign_in.verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = claims(body["id_token"].as_str().unwrap());
    assert!(c.get("roles").is_none());
    assert_eq!(c["oid"], demo::DANA);
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn access_token_for_the_portal_api() {
    let emu = start(EmulatorConfig::demo()).await;
    let http = http();
    let sign_in = SignIn::new();
    let scope = format!("openid profile api://{}/access_as_user", demo::CLIENT_ID);
    let code = sign_in.code(&emu, &http, &scope, demo::ALEX).await;
    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", &sign_in.redirect_uri),
            ("code_verifier", &sign_in.verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], format!("api://{}", demo::CLIENT_ID));
    assert_eq!(c["scp"], "access_as_user");
    assert_eq!(c["oid"], demo::ALEX);
    assert_eq!(c["tid"], demo::TENANT_ID);
    assert_eq!(c["roles"], json!(["Admin"]));
    assert_eq!(c["preferred_username"], format!("alex@{}", demo::DOMAIN));
    assert_eq!(c["name"], "Alex Admin");
}

#[tokio::test]
async fn client_credentials_grant() {
    let emu = start(EmulatorConfig::demo()).await;
    let token = app_token(&emu).await;
    let c = claims(&token);
    assert_eq!(c["aud"], GRAPH_RESOURCE);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["appid"], demo::CLIENT_ID);
    assert_eq!(c["tid"], demo::TENANT_ID);
    assert_eq!(
        c["roles"],
        json!([
            "GroupMember.ReadWrite.All",
            "User.Read.All",
            "Application.Read.All",
            "Policy.Read.All",
            "User.RevokeSessions.All",
            "Mail.Send",
            "AuditLog.Read.All",
            "RoleManagement.Read.Directory"
        ])
    );

    // Basic authentication and the emulator's own URL as the Graph resource.
    let resp = http()
        .post(token_url(&emu))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &format!("{}/.default", emu.base_url())),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none());
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["aud"],
        GRAPH_RESOURCE
    );

    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            (
                "scope",
                "https://graph.microsoft.com/GroupMember.ReadWrite.All",
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_scope", 1002012);

    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", "not-the-secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_aad_error(&body, "invalid_client", 7000215);

    let other = uuid::Uuid::new_v4().to_string();
    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &other),
            ("client_secret", demo::CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "unauthorized_client", 700016);

    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "password"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "unsupported_grant_type", 70003);

    let resp = http()
        .post(format!("{}/not-a-tenant/oauth2/v2.0/token", emu.base_url()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_aad_error(&resp.json().await.unwrap(), "invalid_tenant", 90002);
    assert!(emu.token_requests() >= 7);
}

#[tokio::test]
async fn graph_add_and_remove_members() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let g = demo::EXCLUSION_GROUP_ID;

    let resp = graph.add(g, demo::DANA).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.headers().contains_key("request-id"));
    assert_eq!(emu.members(g), vec![demo::DANA.to_owned()]);

    // `/users/{id}` is accepted as the reference too.
    let body = json!({ "@odata.id": format!("{}/users/{}", graph.base, demo::RILEY) });
    let resp = graph
        .send(
            reqwest::Method::POST,
            &format!("/groups/{g}/members/$ref"),
            Some(body),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Duplicate: the exact Graph body, with the client-request-id echoed.
    let client_request_id = uuid::Uuid::new_v4().to_string();
    let resp = graph
        .http
        .post(format!("{}/groups/{g}/members/$ref", graph.base))
        .bearer_auth(&graph.token)
        .header("client-request-id", &client_request_id)
        .json(&json!({ "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", demo::DANA) }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["client-request-id"],
        client_request_id.as_str()
    );
    assert_eq!(resp.headers()["content-type"], "application/json");
    let request_id = resp.headers()["request-id"].to_str().unwrap().to_owned();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    let date = body["error"]["innerError"]["date"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!date.ends_with('Z'));
    assert_eq!(
        body,
        json!({
            "error": {
                "code": "Request_BadRequest",
                "message": "One or more added object references already exist for the following modified properties: 'members'.",
                "innerError": {
                    "date": date,
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        })
    );
    let last = emu.graph_requests().last().cloned().unwrap();
    assert_eq!(last.status, 400);
    assert_eq!(last.method, "POST");
    assert_eq!(last.path, format!("/v1.0/groups/{g}/members/$ref"));
    assert_eq!(
        last.client_request_id.as_deref(),
        Some(client_request_id.as_str())
    );

    // Unknown user / group: 404 naming the missing id.
    let ghost = uuid::Uuid::new_v4().to_string();
    let msg = graph_error(
        graph.add(g, &ghost).await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
    assert_eq!(
        msg,
        format!(
            "Resource '{ghost}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    let msg = graph_error(
        graph.add(&ghost, demo::DANA).await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
    assert!(msg.contains(&ghost));
    // Not a GUID.
    let msg = graph_error(
        graph.add(g, "dana").await,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
    )
    .await;
    assert_eq!(msg, "Invalid object identifier 'dana'.");

    // Remove.
    let resp = graph.remove(g, demo::DANA).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(emu.members(g), vec![demo::RILEY.to_owned()]);

    // Not a member: 404 naming the group (default style).
    let msg = graph_error(
        graph.remove(g, demo::DANA).await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
    assert_eq!(
        msg,
        format!(
            "Resource '{g}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    // ... or the 400 style.
    emu.set_not_member_style(NotMemberStyle::BadRequest400);
    let msg = graph_error(
        graph.remove(g, demo::DANA).await,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
    )
    .await;
    assert_eq!(
        msg,
        "One or more removed object references do not exist for the following modified properties: 'members'."
    );

    // DELETE without $ref would delete the user: refused.
    let resp = graph
        .send(
            reqwest::Method::DELETE,
            &format!("/groups/{g}/members/{}", demo::RILEY),
            None,
        )
        .await;
    let msg = graph_error(resp, StatusCode::FORBIDDEN, "Authorization_RequestDenied").await;
    assert_eq!(msg, "Insufficient privileges to complete the operation.");
    assert_eq!(emu.members(g), vec![demo::RILEY.to_owned()]);

    // Out-of-band changes are visible through Graph.
    emu.set_member(g, demo::ALEX, true);
    let resp = graph.add(g, demo::ALEX).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn graph_member_listing_pages() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let g = demo::EXCLUSION_GROUP_ID;
    let users = demo::users();
    for u in &users {
        emu.set_member(g, &u.id, true);
    }
    assert!(users.len() >= 5);

    let mut next = Some(format!("/groups/{g}/members?$select=id,displayName&$top=2"));
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = graph.get(&url).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["odata-version"], "4.0");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json;odata.metadata=minimal")
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["@odata.context"],
            format!(
                "{}/v1.0/$metadata#directoryObjects(id,displayName)",
                emu.base_url()
            )
        );
        let value = body["value"].as_array().unwrap();
        assert!(value.len() <= 2);
        for item in value {
            assert_eq!(item["@odata.type"], "#microsoft.graph.user");
            let mut keys: Vec<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort();
            assert_eq!(keys, ["@odata.type", "displayName", "id"]);
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        if let Some(link) = body.get("@odata.nextLink") {
            let link = link.as_str().unwrap();
            assert!(link.starts_with(&format!("{}/v1.0/groups/", emu.base_url())));
            assert!(link.contains("$skiptoken="));
            next = Some(link.to_owned());
        }
    }
    assert_eq!(pages, users.len().div_ceil(2));
    let expected: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(seen, expected);

    // Default page size 100 and default properties.
    let body: Value = graph
        .get(&format!("/groups/{g}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), users.len());
    assert!(body.get("@odata.nextLink").is_none());
    assert_eq!(body["value"][0]["userPrincipalName"], users[0].username);
    assert!(body["value"][0].get("businessPhones").is_some());

    // $top out of range, unknown property, bad skiptoken.
    graph_error(
        graph.get(&format!("/groups/{g}/members?$top=1000")).await,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
    )
    .await;
    graph_error(
        graph.get(&format!("/groups/{g}/members?$top=0")).await,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
    )
    .await;
    graph_error(
        graph
            .get(&format!("/groups/{g}/members?$select=bogus"))
            .await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    graph_error(
        graph
            .get(&format!("/groups/{g}/members?$skiptoken=zzz"))
            .await,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
    )
    .await;
    let ghost = uuid::Uuid::new_v4();
    graph_error(
        graph.get(&format!("/groups/{ghost}/members")).await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
}

#[tokio::test]
async fn graph_users_and_managers() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;

    let resp = graph.get(&format!("/users/{}", demo::DANA)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["odata-version"], "4.0");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], demo::DANA);
    assert_eq!(body["displayName"], "Dana Developer");
    assert_eq!(body["userPrincipalName"], format!("dana@{}", demo::DOMAIN));
    assert!(body.get("accountEnabled").is_none(), "only with $select");
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#users/$entity", emu.base_url())
    );

    // By UPN, with $select.
    let body: Value = graph
        .get(&format!(
            "/users/dana@{}?$select=displayName,accountEnabled",
            demo::DOMAIN
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], demo::DANA);
    assert_eq!(body["accountEnabled"], true);
    assert!(body.get("mail").is_none());

    let ghost = uuid::Uuid::new_v4().to_string();
    let msg = graph_error(
        graph.get(&format!("/users/{ghost}")).await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
    assert!(msg.starts_with(&format!("Resource '{ghost}'")));

    let body: Value = graph
        .get(&format!("/users/{}/manager", demo::DANA))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["@odata.type"], "#microsoft.graph.user");
    assert_eq!(body["id"], demo::MORGAN);
    assert_eq!(body["displayName"], "Morgan Manager");
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#directoryObjects/$entity", emu.base_url())
    );

    let msg = graph_error(
        graph.get(&format!("/users/{}/manager", demo::RILEY)).await,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    )
    .await;
    assert_eq!(
        msg,
        "Resource 'manager' does not exist or one of its queried reference-property objects are not present."
    );
}

#[tokio::test]
async fn graph_authentication_and_permissions() {
    let mut config = EmulatorConfig::demo();
    config.app_permissions = vec!["GroupMember.ReadWrite.All".to_owned()];
    let emu = start(config).await;
    let g = demo::EXCLUSION_GROUP_ID;
    let path = format!("/groups/{g}/members");

    let resp = http()
        .get(format!("{}/v1.0{path}", emu.base_url()))
        .send()
        .await
        .unwrap();
    let msg = graph_error(resp, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken").await;
    assert_eq!(msg, "Access token is empty.");

    let graph_token = |expires: i64, aud: &str, roles: &[&str]| {
        let mut spec = TokenSpec::new(demo::ALEX, aud);
        spec.expires_in_secs = expires;
        spec.roles = Some(roles.iter().map(|r| (*r).to_owned()).collect());
        spec
    };
    let expired = emu.mint_token(graph_token(
        -120,
        GRAPH_RESOURCE,
        &["GroupMember.ReadWrite.All"],
    ));
    let msg = graph_error(
        Graph::with_token(&emu, expired).get(&path).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    )
    .await;
    assert_eq!(msg, "Lifetime validation failed, the token is expired.");

    let wrong_aud = emu.mint_token(graph_token(
        3600,
        demo::CLIENT_ID,
        &["GroupMember.ReadWrite.All"],
    ));
    let msg = graph_error(
        Graph::with_token(&emu, wrong_aud).get(&path).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    )
    .await;
    assert_eq!(msg, "Access token validation failure. Invalid audience.");

    let foreign = emu.mint_foreign_token(graph_token(
        3600,
        GRAPH_RESOURCE,
        &["GroupMember.ReadWrite.All"],
    ));
    graph_error(
        Graph::with_token(&emu, foreign).get(&path).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    )
    .await;

    let minted = emu.mint_token(graph_token(
        3600,
        GRAPH_RESOURCE,
        &["GroupMember.ReadWrite.All"],
    ));
    assert_eq!(
        Graph::with_token(&emu, minted).get(&path).await.status(),
        StatusCode::OK
    );

    // A token whose roles do not cover the call.
    let read_users = emu.mint_token(graph_token(3600, GRAPH_RESOURCE, &["User.Read.All"]));
    let reader = Graph::with_token(&emu, read_users);
    let msg = graph_error(
        reader.add(g, demo::DANA).await,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    )
    .await;
    assert_eq!(msg, "Insufficient privileges to complete the operation.");
    assert!(emu.members(g).is_empty());

    // The app registration lacks User.Read.All and Policy.Read.All here.
    let app = Graph::new(&emu).await;
    graph_error(
        app.get(&format!("/users/{}", demo::DANA)).await,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    )
    .await;
    graph_error(
        app.get("/identity/conditionalAccess/policies").await,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
    )
    .await;
    assert_eq!(
        app.add(g, demo::DANA).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn conditional_access_policies() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let resp = graph.get("/identity/conditionalAccess/policies").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let policies = body["value"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    let p = &policies[0];
    assert_eq!(p["state"], "enabled");
    assert_eq!(p["displayName"], "Block device code flow");
    assert!(
        p["conditions"]["authenticationFlows"]["transferMethods"]
            .as_str()
            .unwrap()
            .split(',')
            .any(|m| m == "deviceCodeFlow")
    );
    assert_eq!(
        p["conditions"]["users"]["excludeGroups"],
        json!([demo::EXCLUSION_GROUP_ID])
    );
    assert_eq!(p["conditions"]["users"]["includeUsers"], json!(["All"]));
    assert_eq!(p["grantControls"]["builtInControls"], json!(["block"]));
}

#[tokio::test]
async fn injected_faults_are_consumed_in_order() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Graph::new(&emu).await;
    let g = demo::EXCLUSION_GROUP_ID;
    emu.inject(
        Fault::new(429, 1)
            .method("POST")
            .path_contains("/members/$ref")
            .retry_after("0.25"),
    );
    emu.inject(Fault::new(503, 1));
    emu.inject(Fault::new(429, 1).path_contains("/users/"));

    // The GET matches the 503 only (the first fault is for POSTs).
    let resp = graph.get(&format!("/groups/{g}/members")).await;
    assert!(resp.headers().get("retry-after").is_none());
    graph_error(resp, StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable").await;

    let resp = graph.add(g, demo::DANA).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "0.25");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(body["error"]["message"], "Please retry again later.");
    assert_eq!(body["error"]["innerError"]["status"], "429");
    assert!(
        emu.members(g).is_empty(),
        "a faulted request changes nothing"
    );

    // Consumed: the same requests now go through.
    assert_eq!(
        graph.add(g, demo::DANA).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        graph.get(&format!("/groups/{g}/members")).await.status(),
        StatusCode::OK
    );

    // The third fault (429 without Retry-After) waits for a /users/ path.
    let resp = graph.get(&format!("/users/{}", demo::DANA)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_none());
    assert_eq!(
        graph.get(&format!("/users/{}", demo::DANA)).await.status(),
        StatusCode::OK
    );

    // 504 and a generic status.
    emu.inject(Fault::new(504, 1));
    emu.inject(Fault::new(500, 1));
    graph_error(
        graph.get("/identity/conditionalAccess/policies").await,
        StatusCode::GATEWAY_TIMEOUT,
        "gatewayTimeout",
    )
    .await;
    graph_error(
        graph.get("/identity/conditionalAccess/policies").await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "UnknownError",
    )
    .await;

    let statuses: Vec<u16> = emu.graph_requests().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [503, 429, 204, 200, 429, 200, 504, 500]);
}

#[tokio::test]
async fn memberships_survive_a_restart_with_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EmulatorConfig::demo();
    config.state_file = Some(dir.path().join("emulator-state.json"));
    let g = demo::EXCLUSION_GROUP_ID;
    {
        let emu = start(config.clone()).await;
        let graph = Graph::new(&emu).await;
        assert_eq!(
            graph.add(g, demo::DANA).await.status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            graph.add(g, demo::RILEY).await.status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            graph.remove(g, demo::DANA).await.status(),
            StatusCode::NO_CONTENT
        );
        emu.set_member(demo::APPROVERS_GROUP_ID, demo::MORGAN, true);
        emu.shutdown();
    }
    assert!(dir.path().join("emulator-state.json").exists());
    let emu = start(config).await;
    assert_eq!(emu.members(g), vec![demo::RILEY.to_owned()]);
    assert_eq!(
        emu.members(demo::APPROVERS_GROUP_ID),
        vec![demo::MORGAN.to_owned()]
    );
    let graph = Graph::new(&emu).await;
    let body: Value = graph
        .get(&format!("/groups/{g}/members?$select=id"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"][0]["id"], demo::RILEY);
}

/// The portal signs in with the `openidconnect` crate: discovery, PKCE, code exchange with
/// client_secret_basic and ID token verification must all work against the emulator.
#[tokio::test]
async fn openidconnect_crate_signs_in_against_the_emulator() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse,
    };

    let emu = start(EmulatorConfig::demo()).await;
    let http = http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(emu.issuer()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(demo::CLIENT_ID.to_owned()),
        Some(ClientSecret::new(demo::CLIENT_SECRET.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(demo::REDIRECT_URIS[0].to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();

    let html = http
        .get(auth_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = hidden_fields(&html);
    form.push(("user".to_owned(), demo::AVERY.to_owned()));
    let resp = http
        .post(authorize_url(&emu))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    let code = query_param(&location, "code").unwrap();

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = token.id_token().expect("an ID token");
    let verified = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(verified.issuer().as_str(), emu.issuer());
    assert_eq!(
        verified.preferred_username().map(|u| u.as_str().to_owned()),
        Some(format!("avery@{}", demo::DOMAIN))
    );
    let raw = claims(&id_token.to_string());
    assert_eq!(raw["oid"], demo::AVERY);
    assert_eq!(raw["roles"], json!(["Auditor"]));

    // A different nonce is refused.
    assert!(
        id_token
            .claims(&client.id_token_verifier(), &Nonce::new("other".to_owned()))
            .is_err()
    );
}
