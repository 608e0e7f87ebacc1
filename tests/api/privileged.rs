//! Issue 20, `deny_privileged`: the directory roles a person holds, read through Graph at most
//! once per `role_refresh` (on the portal's clock), never taken for "none" when Graph fails, and
//! what a package's `deny_privileged` and `privileged_allow` make of them.

use jitgate::domain::privileged::{Holding, PrivilegedVerdict};
use jitgate::emulator::demo::{GLOBAL_ADMINISTRATOR, SAM, USER_ADMINISTRATOR};
use jitgate::emulator::{Fault, RoleGiven};
use jitgate::error::AppError;

use crate::helpers::*;
use crate::on_both_databases;

/// Graph calls that read PIM's eligibility so far.
fn eligibility_reads(t: &TestApp) -> usize {
    t.emulator
        .graph_requests()
        .iter()
        .filter(|c| c.path.contains("roleEligibilityScheduleInstances"))
        .count()
}

async fn roles_are_cached_for_role_refresh(t: &mut TestApp) {
    let p = t.portal().clone();
    let roles = p.privileged_roles(SAM).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].id, GLOBAL_ADMINISTRATOR);
    assert_eq!(roles[0].name.as_deref(), Some("Global Administrator"));
    assert_eq!(roles[0].holding, Holding::Eligible);
    let reads = eligibility_reads(t);
    assert!(reads >= 1);

    // Given another role in Entra: the reading stands until role_refresh (15 minutes) passes.
    t.emulator
        .give_directory_role(SAM, USER_ADMINISTRATOR, RoleGiven::Active);
    t.advance(chrono::Duration::minutes(14));
    assert_eq!(p.privileged_roles(SAM).await.unwrap().len(), 1);
    assert_eq!(
        p.privileged_roles(&SAM.to_ascii_uppercase())
            .await
            .unwrap()
            .len(),
        1,
        "one reading per person, whatever the case of the id"
    );
    assert_eq!(
        eligibility_reads(t),
        reads,
        "no Graph call within role_refresh"
    );
    t.advance(chrono::Duration::minutes(1));
    let roles = p.privileged_roles(SAM).await.unwrap();
    assert_eq!(roles.len(), 2, "{roles:?}");
    assert!(eligibility_reads(t) > reads);

    // Someone without a role holds none, and a package that denies them lets them ask.
    assert!(p.privileged_roles(DANA).await.unwrap().is_empty());
    let package = p.package("device-code").unwrap().clone();
    assert!(package.deny_privileged, "the default");
    assert_eq!(
        p.privileged_verdict(&package, DANA).await.unwrap(),
        PrivilegedVerdict::Allowed
    );
    let verdict = p.privileged_verdict(&package, SAM).await.unwrap();
    assert!(matches!(&verdict, PrivilegedVerdict::Refused(r) if r.len() == 2));
    let sentence = verdict.refusal().unwrap();
    assert!(
        sentence.contains("Global Administrator (eligible)")
            && sentence.contains("User Administrator (active)"),
        "{sentence}"
    );
}

async fn a_failed_reading_is_never_none(t: &mut TestApp) {
    let p = t.portal().clone();
    // Graph refuses the eligibility read: an error, not "holds none".
    t.emulator
        .inject(Fault::new(403, 1).path_contains("roleEligibilityScheduleInstances"));
    let err = p.privileged_roles(SAM).await.unwrap_err();
    assert!(matches!(&err, AppError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("directory role"), "{err}");
    let package = p.package("device-code").unwrap().clone();
    t.emulator
        .inject(Fault::new(403, 1).path_contains("roleEligibilityScheduleInstances"));
    assert!(matches!(
        p.privileged_verdict(&package, DANA).await,
        Err(AppError::Unavailable(_))
    ));
    // The failure is not kept: the next call reads again and succeeds.
    assert_eq!(p.privileged_roles(SAM).await.unwrap().len(), 1);
}

async fn exceptions_and_packages_that_admit_holders(t: &mut TestApp) {
    let p = t.portal().clone();
    let excepted = p.package("device-code").unwrap().clone();
    assert_eq!(excepted.privileged_allow, [SAM]);
    let verdict = p.privileged_verdict(&excepted, SAM).await.unwrap();
    assert!(
        matches!(&verdict, PrivilegedVerdict::AllowedByException(r) if r[0].id == GLOBAL_ADMINISTRATOR),
        "{verdict:?}"
    );
    // A package that admits holders of roles reads nothing.
    let open = p.package("developers-only").unwrap().clone();
    assert!(!open.deny_privileged);
    let reads = eligibility_reads(t);
    assert_eq!(
        p.privileged_verdict(&open, JORDAN).await.unwrap(),
        PrivilegedVerdict::Allowed
    );
    assert_eq!(eligibility_reads(t), reads);
    // The API and the form say so.
    let list = t.get(SAM, "/api/v1/packages").await;
    let by_id = |id: &str| {
        list["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("device-code")["deny_privileged"], true);
    assert_eq!(by_id("device-code")["privileged_exception"], true);
    assert_eq!(by_id("developers-only")["deny_privileged"], false);
    assert_eq!(
        t.get(DANA, "/api/v1/packages").await["packages"][0]["privileged_exception"],
        false
    );
    let home = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(
        home.contains("data-rule=\"deny_privileged\"")
            && home.contains("Not open to accounts that hold an Entra directory role"),
        "{home}"
    );
}

async fn with_exceptions(db: &crate::common::db::TestDb) {
    let mut t = TestApp::spawn_configured(db, false, |s| {
        s.replacen(
            "id = \"device-code\"\n",
            &format!("id = \"device-code\"\nprivileged_allow = [\"{SAM}\"]\n"),
            1,
        )
        .replacen(
            "requester_role = \"Developer\"\n",
            "requester_role = \"Developer\"\ndeny_privileged = false\n",
            1,
        )
    })
    .await;
    exceptions_and_packages_that_admit_holders(&mut t).await;
    t.stop().await;
}

on_both_databases! {
    with TestApp;
    privileged_cache => roles_are_cached_for_role_refresh;
    privileged_failure => a_failed_reading_is_never_none;
}

on_both_databases! {
    privileged_exceptions => with_exceptions;
}
