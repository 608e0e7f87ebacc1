//! What the command line prints: JSON for scripts (`--output json`: one document on standard
//! output, the API's own types), or sentences and short tables for people, with times in the
//! terminal's local time zone. Prompts and progress go to standard error.

use std::io::{IsTerminal, Write};

use chrono::{DateTime, Local, Utc};
use clap::ValueEnum;
use serde::Serialize;

use crate::contract::{Extension, Request, Status, Verdict};
use crate::text::invisible;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy)]
pub struct Out {
    pub format: Format,
}

impl Out {
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// The command's answer: `value` as JSON, or `human` as text.
    pub fn answer<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        let text = match self.format {
            Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
            Format::Human => human(),
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", text.trim_end());
    }

    /// Progress and prompts, on standard error (never mixed with the answer).
    pub fn note(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }

    /// Asks `question` on standard error and reads the answer from standard input: `Some(true)`
    /// for y or yes, `None` when standard input is no terminal to ask on.
    pub fn ask(&self, question: &str) -> Option<bool> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "{question}");
            let _ = stderr.flush();
        }
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok()?;
        Some(matches!(
            line.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }

    /// A line that replaces itself on a terminal (a live wait); plain lines elsewhere are
    /// left to [`Out::note`].
    pub fn live(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        if stderr.is_terminal() {
            let _ = write!(stderr, "\r\x1b[2K{text}");
            let _ = stderr.flush();
        }
    }

    /// Ends a live line.
    pub fn live_done(&self) {
        let mut stderr = std::io::stderr().lock();
        if stderr.is_terminal() {
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

/// Text from elsewhere (what people typed, names, the portal's and Entra's error texts) as the
/// terminal may print it: the C0 controls and DEL as their visible symbols (`\r` → `␍`,
/// `\n` → `␊`, `\t` → `␉`, ESC → `␛`, NUL → `␀`), and the C1 controls and the invisible
/// characters above as `<U+XXXX>`, so nothing moves the cursor, rewrites a line, recolours the
/// terminal, hides or reverses text.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('␡'),
            '\u{80}'..='\u{9f}' => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c if invisible(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `1h 59m`, `42s`, `3d 2h`.
pub fn span(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) if m < 10 && secs % 60 != 0 => format!("{m}m {}s", secs % 60),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// A time in the local time zone: `16:42` today, `Wed 2 Dec 16:42` on another day.
pub fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Local);
    if local.date_naive() == now.with_timezone(&Local).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%a %-d %b %H:%M").to_string()
    }
}

/// `16:42 (in 1h 59m)` or `16:42 (3m ago)`.
pub fn when_relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t >= now {
        format!("{} (in {})", when(t, now), span(t - now))
    } else {
        format!("{} ({} ago)", when(t, now), span(now - t))
    }
}

/// The first 8 characters of an id: enough to name it on the command line.
pub fn short(id: &str) -> String {
    visible(id.get(..8).unwrap_or(id))
}

/// Minutes as a duration: `2h`, `90m` → `1h 30m`.
pub fn minutes(m: i64) -> String {
    span(chrono::Duration::minutes(m))
}

/// Where a request stands, in a few words.
pub fn state(r: &Request, now: DateTime<Utc>) -> String {
    match r.status {
        Status::Pending => {
            let approved: Vec<String> = r
                .approvals
                .iter()
                .filter(|a| a.decision == Verdict::Approved)
                .map(|a| visible(&a.approver.name))
                .collect();
            if approved.is_empty() {
                format!("pending, asked {} ago", span(now - r.created_at))
            } else {
                format!("pending, approved by {} so far", approved.join(", "))
            }
        }
        Status::Approved => match r.starts_at {
            Some(s) => format!("approved, starts {}", when_relative(s, now)),
            None => "approved".into(),
        },
        Status::Active => match (r.membership.added_at, r.ends_at) {
            (None, _) => "active, being added to the group".into(),
            (Some(_), Some(end)) => format!("active until {}", when_relative(end, now)),
            (Some(_), None) => "active".into(),
        },
        other => {
            let at = r.ends_at.or(r.decided_at).unwrap_or(r.created_at);
            format!("{} {}", other.as_str().replace('_', " "), when(at, now))
        }
    }
}

/// One line per request: id, package, duration, state.
pub fn request_line(r: &Request, now: DateTime<Utc>) -> String {
    format!(
        "{}  {:<24}  {:>6}  {}",
        short(&r.id),
        visible(&r.package),
        minutes(r.duration_minutes),
        state(r, now)
    )
}

/// The details of one request, for `jitgate status ID`.
pub fn request_details(r: &Request, extensions: &[Extension], now: DateTime<Utc>) -> String {
    let mut lines = vec![
        format!("Request   {}", visible(&r.id)),
        format!("Package   {}", visible(&r.package)),
        format!(
            "For       {} ({})",
            visible(&r.requester.name),
            visible(&r.requester.username)
        ),
        format!(
            "Asked     {} for {}",
            when(r.created_at, now),
            minutes(r.duration_minutes)
        ),
        format!("Why       {}", visible(&r.justification)),
    ];
    if let Some(by) = &r.asked_by {
        lines.insert(
            3,
            format!(
                "Asked by  {} ({}), on the requester's behalf",
                visible(&by.name),
                visible(&by.username)
            ),
        );
    }
    if let Some(t) = &r.ticket {
        lines.push(format!("Ticket    {}", visible(t)));
    }
    lines.push(format!("Status    {}", state(r, now)));
    for a in &r.approvals {
        let verb = match a.decision {
            Verdict::Approved => "approved",
            Verdict::Denied => "denied",
        };
        let comment = a
            .comment
            .as_deref()
            .map(|c| format!(": {}", visible(c)))
            .unwrap_or_default();
        lines.push(format!(
            "          {} {verb} at {}{comment}",
            visible(&a.approver.name),
            when(a.at, now)
        ));
    }
    if let Some(added) = r.membership.added_at {
        lines.push(format!("In group  since {}", when(added, now)));
    }
    if let Some(removed) = r.membership.removed_at {
        lines.push(format!("Removed   {}", when(removed, now)));
    }
    if let Some(reason) = &r.close_reason {
        lines.push(format!("Reason    {}", visible(reason)));
    }
    for x in extensions {
        lines.push(format!(
            "Extension +{} ({}), asked {}: {}",
            minutes(x.minutes),
            format!("{:?}", x.status).to_lowercase(),
            when(x.requested_at, now),
            visible(&x.justification)
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_shown() {
        assert_eq!(visible("plain text, é ✓"), "plain text, é ✓");
        assert_eq!(visible("ok\rAPPROVED"), "ok␍APPROVED");
        assert_eq!(visible("a\nb\tc"), "a␊b␉c");
        assert_eq!(visible("\u{1b}[31mred\u{1b}[0m"), "␛[31mred␛[0m");
        assert_eq!(
            visible("\u{1b}]8;;https://evil.example\u{7}x"),
            "␛]8;;https://evil.example␇x"
        );
        assert_eq!(visible("nul\0"), "nul␀");
        assert_eq!(visible("del\u{7f}"), "del␡");
        assert_eq!(visible("csi\u{9b}2J"), "csi<U+009B>2J");
        assert_eq!(visible("\u{202e}lanoisivorp"), "<U+202E>lanoisivorp");
        assert_eq!(visible("a\u{2066}b\u{2069}"), "a<U+2066>b<U+2069>");
        assert_eq!(
            visible("zero\u{200b}width\u{feff}"),
            "zero<U+200B>width<U+FEFF>"
        );
        assert_eq!(visible("tag\u{e0041}"), "tag<U+E0041>");
        assert_eq!(visible("line\u{2028}sep"), "line<U+2028>sep");
    }

    #[test]
    fn spans_read_naturally() {
        let d = chrono::Duration::seconds;
        assert_eq!(span(d(42)), "42s");
        assert_eq!(span(d(115)), "1m 55s");
        assert_eq!(span(d(660)), "11m");
        assert_eq!(span(d(60 * 119)), "1h 59m");
        assert_eq!(span(d(7200)), "2h");
        assert_eq!(span(d(86_400 * 3 + 7200 + 5)), "3d 2h");
        assert_eq!(span(d(-5)), "0s");
        assert_eq!(minutes(90), "1h 30m");
        assert_eq!(short("0f8fad5b-d9cb-469f-a165-70867728950e"), "0f8fad5b");
    }
}
