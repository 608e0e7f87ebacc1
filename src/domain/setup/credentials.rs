//! The app's credential as setup leaves it: a certificate uploaded (its public part, never a
//! secret), or a federated identity credential for workload identity. Neither is ever removed.

use serde_json::{Value, json};

use super::calls::Call;
use super::desired::{Desired, Federated, TOKEN_EXCHANGE_AUDIENCE, stable_id};

/// The `keyCredentials` to send with the app, if the certificate must be added; `found` is the
/// app as Graph shows it. Graph replaces the whole collection and never returns a key's `key`, so
/// a certificate can only be added where none is yet: beside others, it is an error that says
/// what to do.
pub(super) fn key_credentials(d: &Desired, found: Option<&Value>) -> Result<Option<Value>, String> {
    let Some(cert) = &d.certificate else {
        return Ok(None);
    };
    let held: Vec<Value> = found
        .and_then(|f| f["keyCredentials"].as_array().cloned())
        .unwrap_or_default();
    let name = cert.display_name();
    if held
        .iter()
        .any(|k| k["displayName"].as_str() == Some(name.as_str()))
    {
        return Ok(None);
    }
    if !held.is_empty() {
        return Err(format!(
            "the app registration already has {} certificate(s) and setup never removes one: upload the certificate in the Entra admin center (App registrations → jitgate → Certificates & secrets), or run setup without --certificate",
            held.len()
        ));
    }
    Ok(Some(json!([{
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "key": cert.key,
        "displayName": name,
    }])))
}

/// The federated identity credential of the app (object id `app_object_id`), unless one with the
/// same issuer and subject is among `found` (its `federatedIdentityCredentials`).
pub fn federated_call(d: &Desired, app_object_id: &str, found: &[Value]) -> Option<Call> {
    let Federated { issuer, subject } = d.federated.as_ref()?;
    let held = found.iter().any(|f| {
        f["issuer"].as_str() == Some(issuer.as_str())
            && f["subject"].as_str() == Some(subject.as_str())
    });
    if held {
        return None;
    }
    // Names are unique per app: one derived from the subject.
    let name = format!(
        "jitgate-{}",
        &stable_id(&format!("{issuer}|{subject}"))[..8]
    );
    Some(Call::post(
        format!("/applications/{app_object_id}/federatedIdentityCredentials"),
        json!({
            "name": name,
            "issuer": issuer,
            "subject": subject,
            "audiences": [TOKEN_EXCHANGE_AUDIENCE],
            "description": "jitgate's workload identity (added by jitgate setup)",
        }),
        "add the federated identity credential (workload identity)",
    ))
}
