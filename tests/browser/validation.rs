//! A request the server refuses comes back as the same page: status 422, what was typed still
//! there, and the error beside the field it is about.

use crate::common::db::Backend;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_short_justification_keeps_the_input_and_marks_the_field() {
    let Some(s) = start(Backend::Sqlite).await else {
        return;
    };
    let dana = s.signed_in(DANA).await;

    let form = package_form(PACKAGE);
    fill_request(&dana, PACKAGE, "60", "too short", "INC-42").await;
    // The browser's own checks (minlength, required) would stop the form before the server sees
    // it; switch them off so that the server's validation is what is tested.
    dana.js(
        "document.querySelector(arguments[0]).noValidate = true; return null;",
        vec![form.clone().into()],
    )
    .await;
    submit_request(&dana, PACKAGE).await;

    assert_eq!(dana.status().await, 422, "a refused form answers 422");
    let field = format!(r#"{form} textarea[name="justification"]"#);
    assert_eq!(
        dana.value(&field).await,
        "too short",
        "the justification was lost"
    );
    assert_eq!(
        dana.value(&format!(r#"{form} input[name="ticket"]"#)).await,
        "INC-42",
        "the ticket was lost"
    );
    assert_eq!(
        dana.value(&format!(r#"{form} select[name="duration_minutes"]"#))
            .await,
        "60",
        "the chosen duration was lost"
    );

    let error = dana
        .must(&format!(
            r#"{form} .field-error[data-field="justification"]"#
        ))
        .await;
    assert!(error.is_displayed().await.unwrap(), "the error is hidden");
    assert!(
        !error.text().await.unwrap().trim().is_empty(),
        "the error says nothing"
    );
    // Beside the field: within a couple of lines of it, above or below.
    let (_, fy, _, fh) = dana.must(&field).await.rectangle().await.unwrap();
    let (_, ey, _, eh) = error.rectangle().await.unwrap();
    let gap = if ey >= fy + fh {
        ey - (fy + fh)
    } else if fy >= ey + eh {
        fy - (ey + eh)
    } else {
        0.0
    };
    assert!(
        gap < 60.0,
        "the error is {gap}px away from the justification field"
    );
    assert!(
        !dana.has(r#".field-error[data-field="ticket"]"#).await,
        "the ticket was fine"
    );
    assert!(
        !dana.has("article.grant").await,
        "a refused request was stored"
    );
    dana.screenshot("my-access-invalid").await;

    s.finish([dana]).await;
}
