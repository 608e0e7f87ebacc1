//! Signing in and out: `jitgate login` (in the browser, or with a device code) checks what the
//! portal says about signing in, shows the tenant and app on first use (or when they change) and
//! asks, keeps the tokens and remembers the portal and what was accepted for it; `jitgate
//! logout` forgets this machine's sign-in to it.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Serialize;

use super::{home_and_portal, or_ctrl_c};
use crate::client::home::{Accepted, CachedAccount};
use crate::client::interactive::{self, How};
use crate::client::output::{Out, visible};
use crate::client::sign_in;
use crate::client::trust::{self, Named, Review};
use crate::client::{Common, LoginArgs};
use crate::contract::Me;

#[derive(Serialize)]
struct SignedIn<'a> {
    portal: &'a str,
    account: &'a Me,
    /// When the access token expires (it is renewed silently until the refresh token lapses).
    expires_at: DateTime<Utc>,
    device_code: bool,
}

/// Shows `text` and goes on once the person confirms it (or gave `--yes`).
fn confirm(out: Out, text: &str, yes: bool) -> anyhow::Result<()> {
    out.note(text);
    if yes {
        out.note("Accepted with --yes.");
        return Ok(());
    }
    match out.ask("Sign in with these? [y/N] ") {
        Some(true) => Ok(()),
        Some(false) => bail!("Nothing was signed in."),
        None => bail!(
            "Nothing was signed in: there is no terminal to ask on. Run `jitgate login` in one, or add --yes once the tenant and app are checked."
        ),
    }
}

pub(super) async fn login(args: LoginArgs, out: Out) -> anyhow::Result<i32> {
    let (home, portal) = home_and_portal(&args.common)?;
    let published = portal.cli_sign_in().await?;
    // Nothing goes to the sign-in service before what the portal published has passed.
    let authority = trust::checked(
        &published,
        args.authority_host.as_deref(),
        args.tenant.as_deref(),
        args.device_code,
    )?;
    authority.base()?;
    let named = Named {
        authority_host: args
            .authority_host
            .as_deref()
            .is_some_and(|h| !h.trim().is_empty()),
        tenant: args.tenant.is_some(),
    };
    let now = Accepted::of(&authority);
    let review = trust::review(
        portal.base(),
        home.config()?.portals.get(portal.base()),
        &now,
        named,
    );
    match &review {
        Review::Same => {}
        Review::Tell(text) => out.note(text),
        Review::Ask(text) => confirm(out, text, args.yes)?,
    }
    let http = sign_in::http()?;
    let how = How {
        device_code: args.device_code,
        no_browser: args.no_browser,
    };
    let tokens = or_ctrl_c(
        interactive::sign_in(&authority, &http, how, None, out),
        "Cancelled: nothing was signed in.",
    )
    .await?;
    let me: Me = portal
        .call(&tokens.access_token, Method::GET, "/api/v1/me", &())
        .await
        .context("signed in to Entra ID, but the portal refused the token")?;
    let account = CachedAccount {
        authority_host: authority.authority_host.clone(),
        tenant_id: authority.tenant_id.clone(),
        client_id: authority.client_id.clone(),
        scopes: authority.scopes.clone(),
        name: me.name.clone(),
        username: me.username.clone(),
        access_token: tokens.access_token,
        expires_at: tokens.expires_at,
        refresh_token: tokens.refresh_token,
        device_code: args.device_code,
        no_browser: args.no_browser,
    };
    let mut cache = home.tokens()?;
    cache
        .portals
        .insert(portal.base().to_string(), account.clone());
    home.save_tokens(&cache)?;
    // Read again: another sign-in may have changed it while this one waited.
    let mut config = home.config()?;
    let remember = review != Review::Same;
    if remember {
        config.portals.insert(portal.base().to_string(), now);
    }
    if remember || config.portal.as_deref() != Some(portal.base()) {
        config.portal = Some(portal.base().to_string());
        home.save_config(&config)?;
    }
    let answer = SignedIn {
        portal: portal.base(),
        account: &me,
        expires_at: account.expires_at,
        device_code: args.device_code,
    };
    out.answer(&answer, || {
        let roles = if me.roles.is_empty() {
            "requester".to_string()
        } else {
            visible(&me.roles.join(", "))
        };
        let reach = if me.reach == "requests" {
            "\nThis device-code sign-in reaches the jitgate requests API only: you can ask for \
             access and act on your own requests. To decide requests, sign in with a browser \
             (`jitgate login` without --device-code)."
        } else {
            ""
        };
        format!(
            "Signed in to {} as {} ({}); roles: {roles}.{reach}",
            portal.base(),
            visible(&me.name),
            visible(&me.username)
        )
    });
    Ok(0)
}

pub(super) async fn logout(c: Common, out: Out) -> anyhow::Result<i32> {
    let (home, portal) = home_and_portal(&c)?;
    let base = portal.base().to_string();
    let mut cache = home.tokens()?;
    let was = cache.portals.remove(&base).is_some();
    home.save_tokens(&cache)?;
    #[derive(Serialize)]
    struct SignedOut<'a> {
        portal: &'a str,
        signed_out: bool,
    }
    out.answer(
        &SignedOut {
            portal: &base,
            signed_out: was,
        },
        || {
            if was {
                format!("Signed out of {base} on this machine (its tokens are deleted).")
            } else {
                format!("You were not signed in to {base} on this machine.")
            }
        },
    );
    Ok(0)
}
