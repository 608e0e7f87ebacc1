//! Step-up: a package's Conditional Access authentication context (`auth_context`, Entra's ids
//! `c1` to `c99`), which the tenant's administrator ties to a policy that requires MFA or a
//! phishing-resistant strength. A token shows the contexts its sign-in satisfied in its `acrs`
//! claim; one that lacks the package's is answered with a claims challenge asking for it, the
//! way Microsoft documents it (`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`,
//! base64 in `WWW-Authenticate: Bearer … error="insufficient_claims", claims="…"`).

use base64::Engine;

/// The rule's name, as refusals name it.
pub const RULE: &str = "auth_context";

/// `c1`..`c99` (any case; kept lower-case, as Entra's `acrs` claim carries them), else why not.
pub fn parse_auth_context(raw: &str) -> Result<String, String> {
    let id = raw.trim().to_ascii_lowercase();
    let number = id.strip_prefix('c').unwrap_or("");
    let valid = !number.is_empty()
        && !number.starts_with('0')
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit());
    if valid {
        Ok(id)
    } else {
        Err(format!(
            "'{}' is not an authentication context id: Entra's are c1 to c99",
            raw.trim()
        ))
    }
}

/// Whether a sign-in whose token carried `acrs` satisfied the authentication context `context`.
pub fn satisfied(acrs: &[String], context: &str) -> bool {
    acrs.iter().any(|a| a.trim().eq_ignore_ascii_case(context))
}

/// Which token a claims request asks the context of: the ID token (a browser's sign-in) or the
/// access token (an API client's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsFor {
    IdToken,
    AccessToken,
}

/// The claims request (OpenID Connect Core §5.5) for `context`, minified as Microsoft asks:
/// `{"id_token":{"acrs":{"essential":true,"value":"c1"}}}` or the same for `access_token`.
pub fn claims_request(target: ClaimsFor, context: &str) -> String {
    let token = match target {
        ClaimsFor::IdToken => "id_token",
        ClaimsFor::AccessToken => "access_token",
    };
    serde_json::json!({ token: {"acrs": {"essential": true, "value": context}} }).to_string()
}

/// A step-up the caller must make before jitgate does what they asked: the authentication
/// context, and where to sign in for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUp {
    /// The package's name, as people know it.
    pub package: String,
    /// The authentication context id, `c1`..`c99`.
    pub context: String,
    /// The tenant (the challenge's `realm`).
    pub tenant: String,
    /// The tenant's authorize endpoint, where an interactive sign-in can satisfy it.
    pub authorization_uri: String,
}

impl StepUp {
    /// The sentence a person reads.
    pub fn message(&self) -> String {
        format!(
            "{} needs a fresh multi-factor sign-in for this (authentication context {}): sign in \
             again asking for it (the claims request of the WWW-Authenticate challenge), then \
             try again.",
            self.package, self.context
        )
    }

    /// `WWW-Authenticate`'s value: Microsoft's claims challenge, with the access-token claims
    /// request in standard, padded base64.
    pub fn www_authenticate(&self) -> String {
        let claims = base64::engine::general_purpose::STANDARD
            .encode(claims_request(ClaimsFor::AccessToken, &self.context));
        format!(
            "Bearer realm=\"{}\", authorization_uri=\"{}\", error=\"insufficient_claims\", claims=\"{claims}\"",
            quoted(&self.tenant),
            quoted(&self.authorization_uri),
        )
    }
}

/// A value fit for a quoted-string: no quote, backslash or control character.
fn quoted(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_authentication_context_ids_are_c1_to_c99() {
        for good in ["c1", "C7", " c25 ", "c99"] {
            assert_eq!(
                parse_auth_context(good).unwrap(),
                good.trim().to_ascii_lowercase()
            );
        }
        for bad in [
            "", "c", "c0", "c01", "c100", "1", "cp1", "c1 c2", "urn:c1", "c-1",
        ] {
            assert!(parse_auth_context(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn claims_requests_are_microsofts_minified_json() {
        assert_eq!(
            claims_request(ClaimsFor::IdToken, "c1"),
            r#"{"id_token":{"acrs":{"essential":true,"value":"c1"}}}"#
        );
        assert_eq!(
            claims_request(ClaimsFor::AccessToken, "c25"),
            r#"{"access_token":{"acrs":{"essential":true,"value":"c25"}}}"#
        );
        assert!(satisfied(&["c2".into(), "C1".into()], "c1"));
        assert!(!satisfied(&["c10".into()], "c1"));
        assert!(!satisfied(&[], "c1"));
    }

    #[test]
    fn the_challenge_carries_the_claims_request_in_base64() {
        let s = StepUp {
            package: "Device code flow exemption".into(),
            context: "c1".into(),
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            authorization_uri: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize".into(),
        };
        let h = s.www_authenticate();
        assert!(h.starts_with("Bearer realm=\"72f988bf-"), "{h}");
        assert!(h.contains("error=\"insufficient_claims\""), "{h}");
        // Microsoft's own example, for c1 instead of cp1.
        assert!(
            h.ends_with(
                "claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\""
            ),
            "{h}"
        );
    }
}
