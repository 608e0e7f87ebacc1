//! The Graph directory client against the built-in Entra emulator.

use std::sync::Arc;
use std::time::Duration;

use jitgate::config::EntraCredential;
use jitgate::credential::Credential;
use jitgate::emulator::{Emulator, EmulatorConfig, Fault, NotMemberStyle, demo};
use jitgate::graph::{Directory, DirectoryError, GraphClient, GraphSettings, MemberChange};

async fn start(config: EmulatorConfig) -> Emulator {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Emulator::start(config, listener).await.unwrap()
}

fn settings(emu: &Emulator) -> GraphSettings {
    GraphSettings {
        authority_host: emu.base_url(),
        tenant_id: emu.config().tenant_id.clone(),
        client_id: emu.config().client_id.clone(),
        credential: Credential::of(
            &emu.config().client_id,
            EntraCredential::Secret(emu.config().client_secret.clone().into()),
        ),
        graph_url: emu.base_url(),
        timeout: std::time::Duration::from_secs(10),
        write_budget: None,
    }
}

fn client(emu: &Emulator) -> GraphClient {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    GraphClient::new(settings(emu), http)
}

const G: &str = demo::EXCLUSION_GROUP_ID;

/// Asserts that the error `err` matches `pattern`, and shows it if it does not.
macro_rules! assert_err {
    ($err:expr, $pattern:pat) => {{
        let err = &$err;
        assert!(matches!(err, $pattern), "{err:?}");
    }};
}

#[tokio::test]
async fn add_and_remove_are_idempotent_in_both_not_member_styles() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);

    assert_eq!(
        graph.add_member(G, demo::DANA).await.unwrap(),
        MemberChange::Added
    );
    assert_eq!(emu.members(G), vec![demo::DANA.to_owned()]);
    assert_eq!(
        graph.add_member(G, demo::DANA).await.unwrap(),
        MemberChange::AlreadyMember
    );

    assert_eq!(
        graph.remove_member(G, demo::DANA).await.unwrap(),
        MemberChange::Removed
    );
    assert!(emu.members(G).is_empty());
    assert_eq!(
        graph.remove_member(G, demo::DANA).await.unwrap(),
        MemberChange::NotMember
    );
    emu.set_not_member_style(NotMemberStyle::BadRequest400);
    assert_eq!(
        graph.remove_member(G, demo::DANA).await.unwrap(),
        MemberChange::NotMember
    );

    // Every call carried its own client-request-id.
    let calls = emu.graph_requests();
    assert_eq!(calls.len(), 5);
    let ids: std::collections::HashSet<_> = calls
        .iter()
        .map(|c| c.client_request_id.clone().expect("client-request-id sent"))
        .collect();
    assert_eq!(ids.len(), calls.len());
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].path, format!("/v1.0/groups/{G}/members/$ref"));
    assert_eq!(calls[2].method, "DELETE");
    assert_eq!(
        calls[2].path,
        format!("/v1.0/groups/{G}/members/{}/$ref", demo::DANA)
    );
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        [204, 400, 204, 404, 400]
    );

    // A member that does not exist is a rejection, not a success.
    let ghost = uuid::Uuid::new_v4().to_string();
    match graph.add_member(G, &ghost).await {
        Err(DirectoryError::Rejected {
            status: 404,
            code,
            message,
        }) => {
            assert_eq!(code, "Request_ResourceNotFound");
            assert!(message.contains(&ghost));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_classified_and_writes_not_retried() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);

    emu.inject(Fault::new(429, 1).method("POST").retry_after("0.25"));
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    match &err {
        DirectoryError::Throttled {
            status,
            retry_after,
            ..
        } => {
            assert_eq!(*status, 429);
            assert_eq!(*retry_after, Some(Duration::from_millis(250)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_retriable());
    assert_eq!(err.retry_after(), Some(Duration::from_millis(250)));
    assert_eq!(
        emu.graph_requests().len(),
        1,
        "the client does not retry writes"
    );
    assert!(emu.members(G).is_empty());

    emu.inject(Fault::new(503, 1).method("DELETE").retry_after("1"));
    let err = graph.remove_member(G, demo::DANA).await.unwrap_err();
    assert_err!(err, DirectoryError::Throttled { status: 503, .. });
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));

    emu.inject(Fault::new(503, 1));
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    assert_err!(
        err,
        DirectoryError::Throttled {
            status: 503,
            retry_after: None,
            ..
        }
    );

    emu.inject(Fault::new(504, 1));
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    assert_err!(err, DirectoryError::Throttled { status: 504, .. });

    emu.inject(Fault::new(500, 1));
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    assert_err!(err, DirectoryError::Transient(_));
    assert!(err.is_retriable());
    assert_eq!(emu.graph_requests().len(), 5);

    // Missing permission: will not heal.
    let mut config = EmulatorConfig::demo();
    config.app_permissions = vec!["User.Read.All".to_owned()];
    let emu = start(config).await;
    let err = client(&emu).add_member(G, demo::DANA).await.unwrap_err();
    match &err {
        DirectoryError::Rejected {
            status: 403, code, ..
        } => assert_eq!(code, "Authorization_RequestDenied"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retriable());
}

#[tokio::test]
async fn reads_retry_throttling_inline() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);
    emu.set_member(G, demo::DANA, true);

    emu.inject(Fault::new(429, 1).method("GET").retry_after("0.05"));
    emu.inject(Fault::new(503, 1).method("GET"));
    let members = graph.list_members(G).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        emu.graph_requests()
            .iter()
            .map(|c| c.status)
            .collect::<Vec<_>>(),
        [429, 503, 200]
    );

    // Three retries at most, then the error is returned.
    emu.inject(
        Fault::new(429, 10)
            .path_contains("/users/")
            .retry_after("0.01"),
    );
    let err = graph.get_user(demo::DANA).await.unwrap_err();
    assert_err!(err, DirectoryError::Throttled { status: 429, .. });
    assert_eq!(emu.graph_requests().len(), 3 + 4);
    emu.clear_faults();
    assert!(graph.get_user(demo::DANA).await.unwrap().is_some());
}

#[tokio::test]
async fn the_app_token_is_cached_and_renewed_after_a_401() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = Arc::new(client(&emu));

    // Concurrent first calls share one token request.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let graph = graph.clone();
        tasks.push(tokio::spawn(
            async move { graph.get_user(demo::DANA).await },
        ));
    }
    for t in tasks {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    assert_eq!(emu.token_requests(), 1);
    graph.list_members(G).await.unwrap();
    graph.add_member(G, demo::DANA).await.unwrap();
    assert_eq!(emu.token_requests(), 1);

    // Graph refuses the token once: the client renews it and retries once.
    emu.inject(Fault::new(401, 1));
    assert_eq!(
        graph.remove_member(G, demo::DANA).await.unwrap(),
        MemberChange::Removed
    );
    assert_eq!(emu.token_requests(), 2);
    let statuses: Vec<u16> = emu
        .graph_requests()
        .iter()
        .rev()
        .take(2)
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [204, 401]);

    // Refused twice in a row: only one renewal, then the 401 is reported.
    emu.inject(Fault::new(401, 2));
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    assert_err!(err, DirectoryError::Rejected { status: 401, .. });
    assert_eq!(emu.token_requests(), 3);
    assert!(emu.members(G).is_empty());
}

#[tokio::test]
async fn list_members_follows_next_links() {
    let emu = start(EmulatorConfig::demo()).await;
    let users = demo::users();
    for u in &users {
        emu.set_member(G, &u.id, true);
    }
    let graph = client(&emu).with_page_size(2);
    let members = graph.list_members(G).await.unwrap();
    assert_eq!(members.len(), users.len());
    for (m, u) in members.iter().zip(&users) {
        assert_eq!(m.id, u.id);
        assert_eq!(m.display_name.as_deref(), Some(u.name.as_str()));
        assert_eq!(m.user_principal_name.as_deref(), Some(u.username.as_str()));
        assert_eq!(m.odata_type.as_deref(), Some("#microsoft.graph.user"));
    }
    let calls = emu.graph_requests();
    assert_eq!(calls.len(), users.len().div_ceil(2));
    assert!(calls[0].path.contains("$top=2"));
    assert!(calls[1..].iter().all(|c| c.path.contains("$skiptoken=")));

    // Empty group, default page size.
    let empty = client(&emu)
        .list_members(demo::APPROVERS_GROUP_ID)
        .await
        .unwrap();
    assert!(empty.is_empty());
}

#[tokio::test]
async fn users_managers_and_policies() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);

    let dana = graph.get_user(demo::DANA).await.unwrap().unwrap();
    assert_eq!(dana.id, demo::DANA);
    assert_eq!(dana.display_name.as_deref(), Some("Dana Developer"));
    let by_upn = graph
        .get_user(&format!("dana@{}", demo::DOMAIN))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_upn.id, demo::DANA);
    let ghost = uuid::Uuid::new_v4().to_string();
    assert_eq!(graph.get_user(&ghost).await.unwrap(), None);

    let manager = graph.get_manager(demo::DANA).await.unwrap().unwrap();
    assert_eq!(manager.id, demo::MORGAN);
    assert_eq!(manager.odata_type.as_deref(), Some("#microsoft.graph.user"));
    assert_eq!(graph.get_manager(demo::RILEY).await.unwrap(), None);
    // An unknown user is not "no manager".
    let err = graph.get_manager(&ghost).await.unwrap_err();
    assert_err!(err, DirectoryError::Rejected { status: 404, .. });

    let policies = graph.list_conditional_access_policies().await.unwrap();
    let policy = &policies["value"][0];
    assert_eq!(policy["state"], "enabled");
    assert_eq!(
        policy["conditions"]["users"]["excludeGroups"],
        serde_json::json!([demo::EXCLUSION_GROUP_ID])
    );
}

#[tokio::test]
async fn malformed_ids_never_reach_the_network() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);
    for result in [
        graph.add_member("not-a-guid", demo::DANA).await,
        graph.add_member(G, "dana").await,
        graph.remove_member(G, "../../users").await,
        graph.remove_member("", demo::DANA).await,
    ] {
        let err = result.unwrap_err();
        assert_err!(err, DirectoryError::Rejected { status: 400, .. });
        assert!(!err.is_retriable());
    }
    assert_err!(
        graph.list_members("x").await.unwrap_err(),
        DirectoryError::Rejected { status: 400, .. }
    );
    assert_err!(
        graph.get_manager("x").await.unwrap_err(),
        DirectoryError::Rejected { status: 400, .. }
    );
    assert_err!(
        graph.get_user("x/../y").await.unwrap_err(),
        DirectoryError::Rejected { status: 400, .. }
    );
    assert!(emu.graph_requests().is_empty());
    assert_eq!(emu.token_requests(), 0);
}

#[tokio::test]
async fn token_failures() {
    let emu = start(EmulatorConfig::demo()).await;

    let mut bad = settings(&emu);
    bad.credential = Credential::of(
        &bad.client_id,
        EntraCredential::Secret("wrong-secret".to_owned().into()),
    );
    let graph = GraphClient::new(bad, reqwest::Client::new());
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    match &err {
        DirectoryError::Token { retriable, message } => {
            assert!(!retriable);
            assert!(message.contains("AADSTS7000215"), "{message}");
            assert!(!message.contains("wrong-secret"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retriable());
    assert!(emu.graph_requests().is_empty());

    // The token endpoint is down for a moment: retriable.
    let graph = client(&emu);
    emu.inject(Fault::new(503, 1).path_contains("/oauth2/v2.0/token"));
    let err = graph.add_member(G, demo::DANA).await.unwrap_err();
    assert_err!(
        err,
        DirectoryError::Token {
            retriable: true,
            ..
        }
    );
    assert_eq!(
        graph.add_member(G, demo::DANA).await.unwrap(),
        MemberChange::Added
    );

    // Nothing listens at the authority: retriable.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut unreachable = settings(&emu);
    unreachable.authority_host = format!("http://127.0.0.1:{port}");
    let err = GraphClient::new(unreachable, reqwest::Client::new())
        .add_member(G, demo::DANA)
        .await
        .unwrap_err();
    assert_err!(
        err,
        DirectoryError::Token {
            retriable: true,
            ..
        }
    );
}

/// Issue 9: e-mail as the application through `POST /users/{sender}/sendMail`.
#[tokio::test]
async fn mail_is_sent_as_the_application() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);
    let to = vec![
        "morgan@jitgate-demo.onmicrosoft.com".to_owned(),
        "jordan@jitgate-demo.onmicrosoft.com".to_owned(),
    ];
    graph
        .send_mail(
            "alex@jitgate-demo.onmicrosoft.com",
            &to,
            "Dana asks for the device code flow exemption",
            "Decide it at https://jit.contoso.example/requests/1",
        )
        .await
        .unwrap();
    let mail = emu.mail();
    assert_eq!(mail.len(), 1);
    // Recipients' addresses come from Graph: `mail`, else the user principal name.
    let morgan = graph.get_user(demo::MORGAN).await.unwrap().unwrap();
    assert_eq!(morgan.email(), Some("morgan@jitgate-demo.onmicrosoft.com"));
    assert_eq!(mail[0].from, "alex@jitgate-demo.onmicrosoft.com");
    // Several recipients are all in Bcc: none sees another's address (issue 19, item 11).
    assert_eq!(mail[0].bcc, to);
    assert!(mail[0].to.is_empty() && mail[0].cc.is_empty(), "{mail:?}");
    assert_eq!(
        mail[0].subject,
        "Dana asks for the device code flow exemption"
    );
    // One recipient is named in To.
    graph
        .send_mail(
            "alex@jitgate-demo.onmicrosoft.com",
            &to[..1],
            "Your request was approved",
            "It starts now.",
        )
        .await
        .unwrap();
    let mail = emu.mail();
    assert_eq!((mail[1].to.as_slice(), mail[1].bcc.len()), (&to[..1], 0));
    // A mailbox that does not exist, and an app without Mail.Send, are refused for good.
    let err = graph
        .send_mail("nobody@jitgate-demo.onmicrosoft.com", &to, "s", "b")
        .await
        .unwrap_err();
    assert_err!(err, DirectoryError::Rejected { status: 404, .. });
    let mut cfg = EmulatorConfig::demo();
    cfg.app_permissions.retain(|p| p != "Mail.Send");
    let emu = start(cfg).await;
    let err = client(&emu)
        .send_mail("alex@jitgate-demo.onmicrosoft.com", &to, "s", "b")
        .await
        .unwrap_err();
    assert_err!(err, DirectoryError::Rejected { status: 403, .. });
    assert!(emu.mail().is_empty());
}

#[tokio::test]
async fn member_delta_pages_changes_and_an_expired_link() {
    let mut cfg = EmulatorConfig::demo();
    let ids: Vec<String> = (0..105)
        .map(|i| format!("20000000-0000-4000-8000-{i:012}"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        cfg.users.push(jitgate::emulator::DemoUser {
            id: id.clone(),
            name: format!("User {i}"),
            username: format!("user{i}@contoso.example"),
            roles: Vec::new(),
            manager_id: None,
        });
    }
    let emu = start(cfg).await;
    for id in &ids {
        emu.set_member(G, id, true);
    }
    let graph = client(&emu);
    let delta_calls = || {
        emu.graph_requests()
            .iter()
            .filter(|c| c.path.contains("/groups/delta"))
            .count()
    };

    // First look: every member, over two pages (100 member entries a page).
    let first = graph.member_delta(G, None).await.unwrap();
    assert!(first.full);
    assert_eq!(first.present.len(), 105);
    assert!(first.gone.is_empty());
    assert_eq!(delta_calls(), 2);
    assert!(emu.graph_requests()[0].path.contains("$filter=id%20eq%20"));
    assert!(first.delta_link.contains("$deltatoken="));

    // Nothing changed: one call, nothing named.
    let quiet = graph
        .member_delta(G, Some(&first.delta_link))
        .await
        .unwrap();
    assert!(!quiet.full && quiet.present.is_empty() && quiet.gone.is_empty());
    assert_eq!(delta_calls(), 3);

    // Two leave, one joins.
    emu.set_member(G, &ids[0], false);
    emu.set_member(G, &ids[1], false);
    emu.set_member(G, demo::DANA, true);
    let changed = graph
        .member_delta(G, Some(&quiet.delta_link))
        .await
        .unwrap();
    assert_eq!(changed.present, vec![demo::DANA.to_ascii_lowercase()]);
    assert_eq!(changed.gone, vec![ids[0].clone(), ids[1].clone()]);

    // Graph forgets its sync state: the link is refused, and a fresh start works.
    emu.expire_delta_tokens();
    let err = graph
        .member_delta(G, Some(&changed.delta_link))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DirectoryError::Rejected { status: 400, code, .. } if code == "syncStateNotFound"),
        "{err:?}"
    );
    assert!(!err.is_retriable());
    let again = graph.member_delta(G, None).await.unwrap();
    assert_eq!(again.present.len(), 104);

    // A link to anywhere but Graph is never followed (the token would go with it).
    let calls = delta_calls();
    let err = graph
        .member_delta(
            G,
            Some("https://attacker.example/v1.0/groups/delta?$deltatoken=x"),
        )
        .await
        .unwrap_err();
    assert_err!(err, DirectoryError::Rejected { .. });
    assert_eq!(delta_calls(), calls);
}

/// Issue 20: the directory roles a person holds, active (`transitiveMemberOf`, directly or
/// through a role-assignable group) or eligible through PIM (schedule instances in effect).
#[tokio::test]
async fn directory_roles_active_and_eligible() {
    use jitgate::emulator::RoleGiven;
    use jitgate::graph::{DirectoryRole, RoleHolding};
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);
    let role = |id: &str, name: &str, holding| DirectoryRole {
        id: id.to_owned(),
        name: Some(name.to_owned()),
        holding,
    };

    // The demo's one privileged account: Sam, eligible for Global Administrator.
    assert_eq!(
        graph.privileged_roles(demo::SAM).await.unwrap(),
        [role(
            demo::GLOBAL_ADMINISTRATOR,
            "Global Administrator",
            RoleHolding::Eligible
        )]
    );
    // Everyone else holds none unless a test gives them one.
    for u in demo::users().iter().filter(|u| u.id != demo::SAM) {
        assert!(
            graph.privileged_roles(&u.id).await.unwrap().is_empty(),
            "{}",
            u.name
        );
    }
    let paths: Vec<String> = emu
        .graph_requests()
        .iter()
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(
        paths[..3],
        [
            format!(
                "/v1.0/users/{}/transitiveMemberOf/microsoft.graph.directoryRole?$top=999",
                demo::SAM
            ),
            format!(
                "/v1.0/users/{}/transitiveMemberOf/microsoft.graph.group?$select=id,isAssignableToRole&$top=999",
                demo::SAM
            ),
            format!(
                "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId%20eq%20%27{}%27&$expand=roleDefinition",
                demo::SAM
            ),
        ]
    );

    // Active, given directly; a role both active and eligible counts once, as active.
    emu.give_directory_role(demo::DANA, demo::USER_ADMINISTRATOR, RoleGiven::Active);
    emu.give_directory_role(demo::DANA, demo::USER_ADMINISTRATOR, RoleGiven::Eligible);
    assert_eq!(
        graph.privileged_roles(demo::DANA).await.unwrap(),
        [role(
            demo::USER_ADMINISTRATOR,
            "User Administrator",
            RoleHolding::Active
        )]
    );
    emu.take_directory_role(demo::DANA, demo::USER_ADMINISTRATOR);
    assert!(graph.privileged_roles(demo::DANA).await.unwrap().is_empty());

    // Through a role-assignable group: active and eligible alike reach its members.
    let group = demo::APPROVERS_GROUP_ID;
    emu.set_member(group, demo::RILEY, true);
    emu.give_directory_role(group, demo::GLOBAL_ADMINISTRATOR, RoleGiven::Active);
    emu.give_directory_role(group, demo::USER_ADMINISTRATOR, RoleGiven::Eligible);
    assert!(
        graph
            .privileged_roles(demo::RILEY)
            .await
            .unwrap()
            .is_empty(),
        "a group that is not role-assignable holds no role"
    );
    emu.set_role_assignable(group, true);
    assert_eq!(
        graph.privileged_roles(demo::RILEY).await.unwrap(),
        [
            role(
                demo::GLOBAL_ADMINISTRATOR,
                "Global Administrator",
                RoleHolding::Active
            ),
            role(
                demo::USER_ADMINISTRATOR,
                "User Administrator",
                RoleHolding::Eligible
            ),
        ]
    );
    emu.set_member(group, demo::RILEY, false);
    assert!(
        graph
            .privileged_roles(demo::RILEY)
            .await
            .unwrap()
            .is_empty()
    );

    // An eligibility that has ended is no longer one.
    let end = emu.now() + chrono::Duration::hours(1);
    emu.give_directory_role(
        demo::JORDAN,
        demo::GLOBAL_ADMINISTRATOR,
        RoleGiven::EligibleUntil(end),
    );
    assert_eq!(graph.privileged_roles(demo::JORDAN).await.unwrap().len(), 1);
    emu.advance(chrono::Duration::hours(1));
    assert!(
        graph
            .privileged_roles(demo::JORDAN)
            .await
            .unwrap()
            .is_empty()
    );

    // A malformed id never reaches the network.
    let calls = emu.graph_requests().len();
    assert_err!(
        graph.privileged_roles("x/../y").await.unwrap_err(),
        DirectoryError::Rejected { status: 400, .. }
    );
    assert_eq!(emu.graph_requests().len(), calls);
}

#[tokio::test]
async fn directory_roles_follow_next_links() {
    use jitgate::emulator::RoleGiven;
    use jitgate::graph::RoleHolding;
    let emu = start(EmulatorConfig::demo()).await;
    let eligible = [
        "62e90394-69f5-4237-9190-012177145e10",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
    ];
    let active = [
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    ];
    for r in eligible {
        emu.give_directory_role(demo::DANA, r, RoleGiven::Eligible);
    }
    for r in active {
        emu.give_directory_role(demo::DANA, r, RoleGiven::Active);
    }
    emu.set_role_page_size(2);
    let roles = client(&emu)
        .with_page_size(2)
        .privileged_roles(demo::DANA)
        .await
        .unwrap();
    let mut found: Vec<(&str, RoleHolding)> =
        roles.iter().map(|r| (r.id.as_str(), r.holding)).collect();
    found.sort();
    let mut expected: Vec<(&str, RoleHolding)> = eligible
        .iter()
        .map(|r| (*r, RoleHolding::Eligible))
        .chain(active.iter().map(|r| (*r, RoleHolding::Active)))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    assert!(roles.iter().all(|r| r.name.is_some()), "{roles:?}");
    let calls = emu.graph_requests();
    let pages = |fragment: &str| calls.iter().filter(|c| c.path.contains(fragment)).count();
    assert_eq!(pages("microsoft.graph.directoryRole"), 2);
    assert_eq!(pages("roleEligibilityScheduleInstances"), 2);
    assert!(
        calls
            .iter()
            .filter(|c| c.path.contains("roleEligibilityScheduleInstances"))
            .all(|c| c.status == 200 && c.path.contains("principalId")),
        "the next link keeps the filter: {calls:?}"
    );
}

/// Without `RoleManagement.Read.Directory` PIM eligibility is refused (403), and so the
/// reading fails: it is never taken for "holds none".
#[tokio::test]
async fn directory_roles_need_role_management_read() {
    let mut cfg = EmulatorConfig::demo();
    cfg.app_permissions
        .retain(|p| p != "RoleManagement.Read.Directory");
    let emu = start(cfg).await;
    let graph = client(&emu);
    for err in [
        graph.privileged_roles(demo::DANA).await.unwrap_err(),
        graph.role_eligibility_readable().await.unwrap_err(),
    ] {
        match &err {
            DirectoryError::Rejected {
                status: 403, code, ..
            } => assert_eq!(code, "Authorization_RequestDenied"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(!err.is_retriable());
    }
    // With it (the demo's permissions), the tenant's eligibilities are readable.
    let emu = start(EmulatorConfig::demo()).await;
    assert_eq!(client(&emu).role_eligibility_readable().await.unwrap(), 1);
}

/// Issue 21: people are searched with Graph's `$search`, an advanced query (the client sends
/// `ConsistencyLevel: eventual`, which the emulator, like Graph, requires), by name or user
/// principal name; what `$search` would read as syntax is not passed through.
#[tokio::test]
async fn users_are_searched_by_name_or_principal_name() {
    let emu = start(EmulatorConfig::demo()).await;
    let graph = client(&emu);
    let found = graph.search_users("scanner", 25).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, [demo::SCANNER_07, demo::SCANNER_08]);
    assert_eq!(
        found[0].user_principal_name.as_deref(),
        Some("scanner-07@jitgate-demo.onmicrosoft.com")
    );
    // Two words: both must begin a word of the name.
    let found = graph.search_users("Dana Dev", 25).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, demo::DANA);
    // By principal name, and at most `top`.
    let found = graph.search_users("morgan@", 25).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(graph.search_users("s", 1).await.unwrap().len(), 1);
    // Quotes cannot break out of the clause; nothing left to search is no call at all.
    let calls = emu.graph_requests().len();
    assert!(graph.search_users("\"\\", 25).await.unwrap().is_empty());
    assert_eq!(emu.graph_requests().len(), calls);
    assert!(
        graph
            .search_users("dana\" OR \"displayName:s", 25)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The app registration's client secrets (issue 22): `GET /applications(appId='…')` answers in
/// Graph's shape, with the hint and key id but never the secret; another app is not found.
#[tokio::test]
async fn app_credentials_list_the_registrations_secrets() {
    use jitgate::emulator::PasswordCredential;
    let end = chrono::DateTime::parse_from_rfc3339("2027-01-15T10:00:00Z")
        .unwrap()
        .to_utc();
    let mut config = EmulatorConfig::demo();
    config.password_credentials = vec![PasswordCredential {
        key_id: "6f1c3a52-0b8e-4d0e-9d7a-2f4b1c9e8a10".to_owned(),
        display_name: "jitgate".to_owned(),
        hint: "Q~x".to_owned(),
        end,
    }];
    let emu = start(config).await;
    let graph = client(&emu);
    let listed = graph
        .app_credentials(&emu.config().client_id)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let secret = &listed[0];
    assert_eq!(secret.kind, "secret");
    assert_eq!(secret.key_id, "6f1c3a52-0b8e-4d0e-9d7a-2f4b1c9e8a10");
    assert_eq!(secret.hint.as_deref(), Some("Q~x"));
    assert_eq!(secret.display_name.as_deref(), Some("jitgate"));
    assert_eq!(secret.end, Some(end));
    assert_eq!(
        secret.label(),
        "Q~x… (6f1c3a52-0b8e-4d0e-9d7a-2f4b1c9e8a10)"
    );
    assert!(!format!("{listed:?}").contains(&emu.config().client_secret));
    // The request asked only for the credentials, as documented.
    let asked = emu
        .graph_requests()
        .into_iter()
        .map(|c| format!("{c:?}"))
        .find(|c| c.contains("applications(appId="))
        .expect("the registration was read");
    assert!(
        asked.contains("passwordCredentials,keyCredentials"),
        "{asked}"
    );

    let err = graph
        .app_credentials(&uuid::Uuid::new_v4().to_string())
        .await
        .unwrap_err();
    assert_err!(err, DirectoryError::Rejected { status: 404, .. });

    // Without Application.Read.All the read is refused, and says so.
    let mut config = EmulatorConfig::demo();
    config.app_permissions = vec!["GroupMember.ReadWrite.All".to_owned()];
    let emu = start(config).await;
    let err = client(&emu)
        .app_credentials(&emu.config().client_id)
        .await
        .unwrap_err();
    assert_err!(err, DirectoryError::Rejected { status: 403, .. });
}
