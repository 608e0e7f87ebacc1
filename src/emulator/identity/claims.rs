//! The `claims` request parameter (OpenID Connect Core §5.5) as Entra uses it for Conditional
//! Access authentication contexts: `{"id_token":{"acrs":{"essential":true,"value":"c1"}}}`
//! and/or the same under `access_token` (`value`, or `values` for several), on `/authorize`,
//! on the device code flow's `/devicecode`, and on a refresh. The contexts asked for make the
//! sign-in page ask the demo user to complete MFA; once done, the ID and access tokens carry
//! them in `acrs`. Other requested claims (`xms_cc`, …) are accepted and ignored.
//!
//! What the emulator keeps simple: a context is satisfied only by a sign-in that asked for it
//! (no tenant-wide session remembers an earlier MFA), and refresh tokens carry on the contexts
//! of the sign-in they came from.

use serde_json::Value;

use super::errors::{MALFORMED, TokenError, invalid_grant, terr};
use crate::emulator::tenant::Emulator;
use crate::emulator::wire::html_escape;

/// The authentication contexts a `claims` parameter asks for (lower case, each once); none
/// without one. A parameter that is not a JSON object is refused.
pub(super) fn requested_acrs(raw: Option<&str>) -> Result<Vec<String>, String> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(Vec::new());
    };
    let Ok(Value::Object(request)) = serde_json::from_str::<Value>(raw) else {
        return Err(format!(
            "{MALFORMED} The 'claims' parameter must be a JSON object (OpenID Connect claims request)."
        ));
    };
    let mut acrs: Vec<String> = Vec::new();
    for token in ["id_token", "access_token"] {
        let Some(asked) = request.get(token).and_then(|t| t.get("acrs")) else {
            continue;
        };
        let values = asked
            .get("values")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .chain(asked.get("value").cloned());
        for v in values {
            if let Some(id) = v.as_str().map(|s| s.trim().to_ascii_lowercase())
                && !id.is_empty()
                && !acrs.contains(&id)
            {
                acrs.push(id);
            }
        }
    }
    Ok(acrs)
}

/// The contexts `form`'s `claims` asks for, where the tenant honours claims requests; the
/// token endpoint's error for a malformed one.
pub(super) fn form_acrs(
    emu: &Emulator,
    form: &std::collections::HashMap<String, String>,
) -> Result<Vec<String>, TokenError> {
    let acrs = requested_acrs(form.get("claims").map(String::as_str)).map_err(|m| {
        terr(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_request",
            9002313,
            m,
        )
    })?;
    Ok(if emu.state().claims_ignored {
        Vec::new()
    } else {
        acrs
    })
}

/// AADSTS50076, what a silent redemption (a refresh) gets when its claims ask for a context the
/// sign-in behind it never satisfied: the user must sign in interactively.
pub(super) fn needs_interaction(missing: &[String]) -> TokenError {
    invalid_grant(
        50076,
        &format!(
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource (authentication context {}).",
            missing.join(", ")
        ),
    )
    .with("suberror", serde_json::json!("basic_action"))
}

/// The sign-in page's MFA step for the contexts `acrs` asks for (empty when none): a box the
/// demo user ticks to "complete MFA".
pub(super) fn mfa_step(acrs: &[String]) -> String {
    if acrs.is_empty() {
        return String::new();
    }
    format!(
        "<fieldset class=\"mfa\" id=\"mfa-step\" data-acrs=\"{list}\"><legend>More verification required</legend>\n<p class=\"note\">The application asks for authentication context {list}: your organisation requires multi-factor authentication for it.</p>\n<label><input type=\"checkbox\" name=\"mfa\" id=\"mfa\" value=\"done\" required> Complete MFA (approve the sign-in in the authenticator app)</label>\n</fieldset>\n",
        list = html_escape(&acrs.join(", ")),
    )
}

/// Whether a submitted page completed the MFA step (or had none to complete).
pub(super) fn mfa_done(acrs: &[String], form: &std::collections::HashMap<String, String>) -> bool {
    acrs.is_empty() || form.get("mfa").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_requests_name_the_contexts_for_either_token() {
        let asked = |raw: &str| requested_acrs(Some(raw)).unwrap();
        assert_eq!(
            asked(r#"{"id_token":{"acrs":{"essential":true,"value":"c1"}}}"#),
            ["c1"]
        );
        assert_eq!(
            asked(
                r#"{"access_token":{"xms_cc":{"values":["cp1"]},"acrs":{"essential":true,"value":"C25"}}}"#
            ),
            ["c25"]
        );
        assert_eq!(
            asked(
                r#"{"id_token":{"acrs":{"values":["c1","c2"]}},"access_token":{"acrs":{"value":"c1"}}}"#
            ),
            ["c1", "c2"]
        );
        assert!(asked(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#).is_empty());
        assert!(requested_acrs(None).unwrap().is_empty());
        assert!(requested_acrs(Some("  ")).unwrap().is_empty());
        for bad in ["c1", "[]", "{", "\"x\""] {
            assert!(requested_acrs(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_mfa_step_is_asked_only_for_a_context() {
        assert_eq!(mfa_step(&[]), "");
        let step = mfa_step(&["c1".into()]);
        assert!(
            step.contains("Complete MFA") && step.contains("name=\"mfa\""),
            "{step}"
        );
        let form = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::HashMap<_, _>>()
        };
        assert!(mfa_done(&[], &form(&[])));
        assert!(!mfa_done(&["c1".into()], &form(&[])));
        assert!(mfa_done(&["c1".into()], &form(&[("mfa", "done")])));
    }
}
