//! The authorization code flow's two ends: the authorization request the browser is sent to
//! (PKCE S256, `state`, `nonce`), and the provider's answer at the redirect URI (its issuer, an
//! error it reports, the code redeemed with the PKCE verifier).

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse,
};
use serde::Deserialize;

use super::Oidc;
use super::failure::{SignInFailure, refused};
use super::login_state::{LOGIN_LIFETIME, LoginState};
use crate::auth::Principal;
use crate::domain::step_up::{ClaimsFor, claims_request};
use crate::error::AppError;

/// The provider's answer at the redirect URI.
#[derive(Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Oidc {
    /// Starts a sign-in: the provider's authorization URL (PKCE S256, `state`, `nonce`) and what
    /// the session must keep until the browser comes back. `return_to` must already be a safe
    /// local path. With `step_up` (an authentication context id, checked already), the sign-in
    /// asks for it with the `claims` request parameter, `{"id_token":{"acrs":{"essential":true,
    /// "value":"c1"}}}`, so that Conditional Access has the person satisfy its policy (MFA).
    pub async fn begin_sign_in(
        &self,
        return_to: String,
        step_up: Option<String>,
    ) -> Result<(String, LoginState), AppError> {
        let d = self.discovered(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge);
        if let Some(context) = &step_up {
            request =
                request.add_extra_param("claims", claims_request(ClaimsFor::IdToken, context));
        }
        let (url, state, nonce) = request.url();
        let login = LoginState {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            return_to,
            step_up,
            expires: chrono::Utc::now().timestamp() + LOGIN_LIFETIME.as_secs() as i64,
        };
        Ok((url.to_string(), login))
    }

    /// Finishes a sign-in whose `state` was already matched against `login`: checks the issuer
    /// (RFC 9207), redeems the code with the PKCE verifier, verifies the ID token (signature,
    /// issuer, audience, expiry, nonce) and the tenant, and returns who signed in.
    pub async fn finish_sign_in(
        &self,
        login: LoginState,
        q: CallbackParams,
    ) -> Result<Principal, SignInFailure> {
        // RFC 9207: a provider that names itself must be the one we sent the browser to.
        if let Some(iss) = &q.iss
            && iss.trim_end_matches('/') != self.issuer().trim_end_matches('/')
        {
            tracing::warn!(%iss, "sign-in answer from another issuer");
            return Err(refused(
                400,
                "The sign-in answer came from another identity provider.",
            ));
        }
        if let Some(err) = q.error {
            let desc = q.error_description.unwrap_or_default();
            tracing::warn!(error = %err, "the identity provider refused the sign-in");
            let sep = if desc.is_empty() { "" } else { ": " };
            return Err(refused(
                401,
                format!("The identity provider said: {err}{sep}{desc}"),
            ));
        }
        let Some(code) = q.code else {
            return Err(refused(
                400,
                "The identity provider's answer was incomplete.",
            ));
        };
        let d = self.discovered(false).await?;
        let mut exchange = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| AppError::Internal(e.into()))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier));
        if self.credential.secret().is_none() {
            let token_url = d
                .client
                .token_uri()
                .map(|u| u.url().to_string())
                .unwrap_or_default();
            let auth = self.credential.client_auth(&token_url).await.map_err(|e| {
                tracing::error!(credential = self.credential.kind(), error = %e, "the sign-in's code redemption has no credential");
                refused(
                    503,
                    "The portal cannot prove itself to the identity provider right now (its credential is not usable); please tell your administrator.",
                )
            })?;
            for (name, value) in auth.form() {
                exchange = exchange.add_extra_param(name, value);
            }
        }
        let token = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "code redemption failed");
                if let openidconnect::RequestTokenError::ServerResponse(r) = &e
                    && *r.error() == openidconnect::core::CoreErrorResponseType::InvalidClient
                {
                    tracing::error!(
                        credential = self.credential.kind(),
                        said = r.error_description().map(String::as_str).unwrap_or(""),
                        "the identity provider refused the portal's credential at the sign-in"
                    );
                    return refused(
                        503,
                        "The identity provider refused the portal's own credential, so no sign-in can finish; please tell your administrator (the portal's log says why).",
                    );
                }
                refused(401, "The identity provider did not accept the sign-in code (it may have been used already).")
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| refused(502, "The identity provider sent no ID token."))?;
        let who = self.signed_in(&d.client, id_token, login.nonce)?;
        // A step-up the provider did not confirm is refused here, once: sending the browser back
        // to ask again would only go round in a loop.
        if let Some(context) = &login.step_up
            && !who.satisfies(context)
        {
            tracing::warn!(user = %who.user.id, context, "a step-up sign-in came back without the authentication context");
            return Err(refused(
                403,
                format!(
                    "The sign-in did not confirm the authentication context {context} (rule {}): \
                     the identity provider did not report the multi-factor sign-in this needs. \
                     Nothing was asked or approved. Ask your administrator to check the \
                     Conditional Access policy for this authentication context.",
                    crate::domain::step_up::RULE
                ),
            ));
        }
        Ok(who)
    }
}
