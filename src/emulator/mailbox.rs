//! The demo tenant's mailbox: every message sent through the emulated `sendMail`, newest first,
//! so a newcomer trying `jitgate demo` sees who was told what. Loopback only, like the rest of
//! the emulator; `?to=address` shows one person's messages.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::wire::html_escape;
use super::{Emulator, SentMail};

#[derive(Deserialize)]
pub(crate) struct MailboxQuery {
    #[serde(default)]
    to: Option<String>,
}

pub(crate) async fn page(State(emu): State<Emulator>, Query(q): Query<MailboxQuery>) -> Response {
    let mut mail = emu.mail();
    mail.reverse();
    let to = q.to.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(to) = to {
        mail.retain(|m| m.recipients().any(|r| r.eq_ignore_ascii_case(to)));
    }
    let mut people: Vec<String> = emu
        .mail()
        .iter()
        .flat_map(|m| m.recipients().cloned().collect::<Vec<_>>())
        .collect();
    people.sort();
    people.dedup();
    let filters: String = people
        .iter()
        .map(|p| {
            format!(
                "<a href=\"?to={0}\"{1}>{0}</a>",
                html_escape(p),
                if Some(p.as_str()) == to {
                    " aria-current=\"page\""
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let items: String = mail
        .iter()
        .map(|m| {
            format!(
                "<article class=\"mail\"><h2>{}</h2><p class=\"meta\">{} · from {} to {}</p><pre>{}</pre></article>",
                html_escape(&m.subject),
                m.at.format("%Y-%m-%d %H:%M:%S UTC"),
                html_escape(&m.from),
                html_escape(&addressed(m)),
                linkify(&html_escape(&m.body)),
            )
        })
        .collect();
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>Demo mailbox</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }}
.note {{ background: #fff8c5; padding: .5rem 1rem; border-radius: 6px; }}
.mail {{ border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }}
.mail h2 {{ font-size: 1.1rem; margin: .3rem 0; }}
.meta {{ color: #59636e; margin: 0; }}
pre {{ white-space: pre-wrap; font: inherit; }}
</style></head><body>
<h1>Demo mailbox</h1>
<p class="note">The e-mail jitgate sent through the emulated tenant's Microsoft Graph <code>sendMail</code>. Nothing leaves this machine. The page refreshes every 10 seconds.</p>
<p>{count} message(s){shown}. <a href="?">Everyone</a>{sep}{filters}</p>
{items}
</body></html>"#,
        count = mail.len(),
        shown = to
            .map(|t| format!(" to {}", html_escape(t)))
            .unwrap_or_default(),
        sep = if filters.is_empty() { "" } else { " · " },
    );
    Html(body).into_response()
}

/// Who a message went to, as the sender's copy shows it: `To`, then `Cc` and `Bcc` named.
fn addressed(m: &SentMail) -> String {
    let mut parts = Vec::new();
    if !m.to.is_empty() {
        parts.push(m.to.join(", "));
    }
    if !m.cc.is_empty() {
        parts.push(format!("cc {}", m.cc.join(", ")));
    }
    if !m.bcc.is_empty() {
        parts.push(format!("bcc {}", m.bcc.join(", ")));
    }
    parts.join("; ")
}

/// Turns the portal links in an escaped body into links.
fn linkify(escaped: &str) -> String {
    escaped
        .split('\n')
        .map(|line| {
            let t = line.trim();
            if (t.starts_with("http://") || t.starts_with("https://")) && !t.contains(' ') {
                format!("<a href=\"{t}\">{t}</a>")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
