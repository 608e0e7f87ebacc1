//! What a chat message looks like on the wire: an Adaptive Card for a Microsoft Teams Workflows
//! webhook, Block Kit for a Slack incoming webhook. Pure functions.
//!
//! Messages only inform: they carry a link to the request's page in the portal and no button that
//! acts (approving happens in the portal, signed in). Their text carries what people typed
//! (justifications, comments, names), so it is sent where neither client reads markup: Teams
//! gets it in `TextRun`s (Adaptive Cards render no Markdown there, unlike `TextBlock`), Slack as
//! `plain_text` with `&`, `<` and `>` escaped and the fallback text's mrkdwn turned off. Both
//! show control and invisible characters visibly ([`teams_text`], [`slack_text`]).

use serde_json::{Value, json};

use crate::text::invisible;

/// Slack's limit on a header block's text.
const SLACK_HEADER_MAX: usize = 150;
/// Slack's limit on a section block's text.
const SLACK_SECTION_MAX: usize = 3000;
/// Teams refuses messages over 28 KB; the text is kept far below that.
const TEAMS_TEXT_MAX: usize = 4000;
/// The label of the link to the portal.
const LINK_LABEL: &str = "Open in jitgate";

/// A short, plain notification for a chat channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatMessage<'a> {
    /// One line, such as "Access requested: Device code flow exemption".
    pub title: &'a str,
    /// A few lines of plain text.
    pub text: &'a str,
    /// The request's page in the portal, if there is one.
    pub link: Option<&'a str>,
}

/// Plain text as a chat client may show it: line breaks (`\r\n`, `\r`, `\n`) as `\n` and
/// tabs kept; the other C0 controls and DEL as their visible symbols (ESC as `␛`, NUL as `␀`);
/// the C1 controls and the invisible characters as `<U+XXXX>`.
fn chat_visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('␡'),
            '\u{80}'..='\u{9f}' => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c if invisible(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text for a Teams `TextRun`: shown as it is (no Markdown is read there), control and
/// invisible characters made visible.
pub fn teams_text(s: &str) -> String {
    chat_visible(s)
}

/// Text for Slack, before `&`, `<` and `>` are escaped ([`slack_escape_within`]): control and
/// invisible characters made visible, and the broadcast mentions `@channel`, `@here` and
/// `@everyone` broken with a full-width at sign (`＠here`), so that no setting of the
/// workspace turns them into a notification of everyone.
fn slack_plain(s: &str) -> String {
    let text = chat_visible(s);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let broadcast = ["channel", "here", "everyone"].iter().any(|w| {
            after.len() >= w.len()
                && after.is_char_boundary(w.len())
                && after[..w.len()].eq_ignore_ascii_case(w)
                && !after[w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        out.push(if broadcast { '＠' } else { '@' });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Text for a Slack text object or message: [`slack_plain`], with `&`, `<` and `>` escaped.
pub fn slack_text(s: &str) -> String {
    slack_escape_within(s, usize::MAX)
}

/// One `TextRun` in a `RichTextBlock`, with `style` (weight, size) added.
fn text_run(text: &str, style: Value) -> Value {
    let mut run = json!({"type": "TextRun", "text": truncate(&teams_text(text), TEAMS_TEXT_MAX)});
    if let (Some(run), Some(style)) = (run.as_object_mut(), style.as_object()) {
        run.extend(style.clone());
    }
    json!({"type": "RichTextBlock", "inlines": [run]})
}

/// The body for a Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is
/// received"): a message with one Adaptive Card 1.4 attachment. The title is bold, the text
/// wraps (both `TextRun`s, never read as Markdown), and the link becomes an "Open in jitgate"
/// action.
pub fn teams_payload(m: &ChatMessage) -> Value {
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            text_run(m.title, json!({"weight": "bolder", "size": "medium"})),
            text_run(m.text, json!({}))
        ]
    });
    if let Some(link) = m.link {
        card["actions"] = json!([{
            "type": "Action.OpenUrl",
            "title": LINK_LABEL,
            "url": link
        }]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card
        }]
    })
}

/// The body for a Slack incoming webhook: a header block with the title, a `plain_text` section
/// with the text and, when there is a link, a context block linking to the portal (the one
/// mrkdwn element, holding only the portal's URL). `text` is the fallback that notifications
/// show, with mrkdwn off. Within Slack's limits: longer texts are cut and end with "…".
pub fn slack_payload(m: &ChatMessage) -> Value {
    let mut blocks = Vec::new();
    let title = m.title.trim();
    if !title.is_empty() {
        blocks.push(json!({
            "type": "header",
            "text": {"type": "plain_text", "text": slack_escape_within(title, SLACK_HEADER_MAX)}
        }));
    }
    let text = m.text.trim();
    if !text.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "plain_text", "text": slack_escape_within(text, SLACK_SECTION_MAX)}
        }));
    }
    if let Some(link) = m.link {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("<{}|{LINK_LABEL}>", slack_link(link))}]
        }));
    }
    let fallback = match (title.is_empty(), text.is_empty()) {
        (false, false) => format!("{title}: {text}"),
        (false, true) => title.to_owned(),
        (true, _) => text.to_owned(),
    };
    json!({
        "text": slack_escape_within(&fallback, SLACK_SECTION_MAX),
        "mrkdwn": false,
        "blocks": blocks
    })
}

/// `s` cut to at most `max` characters, the last being "…" when it was cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// [`slack_plain`] of `s` with Slack's control characters escaped (`&`, `<`, `>`), cut to at
/// most `max` characters of escaped text. An escape is never cut in half.
fn slack_escape_within(s: &str, max: usize) -> String {
    let plain = slack_plain(s);
    let mut out = String::new();
    let mut count = 0;
    let mut chars = plain.chars().peekable();
    while let Some(c) = chars.next() {
        let piece = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            _ => "",
        };
        let width = if piece.is_empty() { 1 } else { piece.len() };
        // Room is kept for the "…" unless this is the last character.
        let room = if chars.peek().is_some() {
            max.saturating_sub(1)
        } else {
            max
        };
        if count + width > room {
            out.push('…');
            return out;
        }
        if piece.is_empty() {
            out.push(c);
        } else {
            out.push_str(piece);
        }
        count += width;
    }
    out
}

/// A URL made safe inside Slack's `<url|label>`: `&` escaped, and the characters that would end
/// the link percent-encoded.
fn slack_link(url: &str) -> String {
    url.replace('&', "&amp;")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('|', "%7C")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://jit.example.com/requests/7d0e6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6";

    fn message() -> ChatMessage<'static> {
        ChatMessage {
            title: "Access requested: Device code flow exemption",
            text: "Dana Scully asks for 2 hours.\nReason: incident <INC-42> & follow-up",
            link: Some(LINK),
        }
    }

    #[test]
    fn teams_payload_is_a_workflows_adaptive_card() {
        let v = teams_payload(&message());
        assert_eq!(v["type"], "message");
        let attachments = v["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1);
        let a = &attachments[0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert!(a["contentUrl"].is_null());
        assert!(a.as_object().unwrap().contains_key("contentUrl"));
        let card = &a["content"];
        assert_eq!(
            card["$schema"],
            "http://adaptivecards.io/schemas/adaptive-card.json"
        );
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        let body = card["body"].as_array().unwrap();
        assert_eq!(body.len(), 2);
        // Text goes in TextRuns, which Adaptive Cards never read as Markdown.
        assert_eq!(
            body[0],
            json!({"type": "RichTextBlock", "inlines": [
                {"type": "TextRun", "text": message().title, "weight": "bolder", "size": "medium"}
            ]})
        );
        assert_eq!(
            body[1],
            json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": message().text}]})
        );
        let actions = card["actions"].as_array().unwrap();
        assert_eq!(
            actions,
            &vec![json!({"type": "Action.OpenUrl", "title": "Open in jitgate", "url": LINK})]
        );
    }

    #[test]
    fn teams_payload_without_a_link_has_no_actions() {
        let v = teams_payload(&ChatMessage {
            link: None,
            ..message()
        });
        let card = &v["attachments"][0]["content"];
        assert!(card.get("actions").is_none(), "{card}");
    }

    #[test]
    fn teams_text_is_bounded() {
        let long = "x".repeat(50_000);
        let v = teams_payload(&ChatMessage {
            title: "t",
            text: &long,
            link: None,
        });
        let text = v["attachments"][0]["content"]["body"][1]["inlines"][0]["text"]
            .as_str()
            .unwrap();
        assert_eq!(text.chars().count(), TEAMS_TEXT_MAX);
        assert!(text.ends_with('…'));
        assert!(serde_json::to_vec(&v).unwrap().len() < 28 * 1024);
    }

    #[test]
    fn slack_payload_is_block_kit_without_buttons() {
        let v = slack_payload(&message());
        assert_eq!(
            v["text"],
            "Access requested: Device code flow exemption: Dana Scully asks for 2 hours.\nReason: incident &lt;INC-42&gt; &amp; follow-up"
        );
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 3);
        assert_eq!(
            blocks[0],
            json!({"type": "header", "text": {"type": "plain_text", "text": message().title}})
        );
        assert_eq!(blocks[1]["type"], "section");
        // Plain text: no mrkdwn formatting, links or mentions in what people typed.
        assert_eq!(blocks[1]["text"]["type"], "plain_text");
        assert_eq!(v["mrkdwn"], false);
        assert_eq!(
            blocks[1]["text"]["text"],
            "Dana Scully asks for 2 hours.\nReason: incident &lt;INC-42&gt; &amp; follow-up"
        );
        assert_eq!(
            blocks[2],
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{LINK}|Open in jitgate>")}]})
        );
        let all = v.to_string();
        assert!(!all.contains("\"actions\""), "{all}");
        assert!(!all.contains("\"button\""), "{all}");
    }

    #[test]
    fn slack_without_a_link_or_text() {
        let v = slack_payload(&ChatMessage {
            title: "Access ended",
            text: "  ",
            link: None,
        });
        assert_eq!(v["text"], "Access ended");
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0]["type"], "header");
    }

    #[test]
    fn slack_links_cannot_break_out() {
        let v = slack_payload(&ChatMessage {
            title: "t",
            text: "x",
            link: Some("https://jit.example.com/r?a=1&b=2|<evil>"),
        });
        assert_eq!(
            v["blocks"][2]["elements"][0]["text"],
            "<https://jit.example.com/r?a=1&amp;b=2%7C%3Cevil%3E|Open in jitgate>"
        );
    }

    #[test]
    fn slack_limits_are_kept() {
        let title = "T".repeat(400);
        let text = "&".repeat(2000); // 10 000 characters once escaped
        let v = slack_payload(&ChatMessage {
            title: &title,
            text: &text,
            link: None,
        });
        let header = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), SLACK_HEADER_MAX);
        assert!(header.ends_with('…'));
        let section = v["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(section.chars().count() <= SLACK_SECTION_MAX);
        assert!(
            section.ends_with("&amp;…"),
            "an escape was cut: {section:.40}"
        );
        assert!(v["text"].as_str().unwrap().chars().count() <= SLACK_SECTION_MAX);
    }

    #[test]
    fn slack_escape_within_the_limit() {
        assert_eq!(slack_escape_within("a<b", 10), "a&lt;b");
        assert_eq!(slack_escape_within("abcdef", 6), "abcdef");
        assert_eq!(slack_escape_within("abcdefg", 6), "abcde…");
        assert_eq!(slack_escape_within("ab&cd", 6), "ab…");
        assert_eq!(slack_escape_within("é".repeat(10).as_str(), 5), "éééé…");
    }

    /// What a requester might type to dress up a message to the deciders.
    const HOSTILE: &str = "[Approve here](https://evil.example) **now** _it_ ~s~ `c`\r\n# Heading\n> quoted\n- item\n<b>bold</b> <at>Morgan</at> {{DATE(2017-02-14T06:08:39Z, SHORT)}}\n<https://evil.example|Approve> <!here> <!channel> @channel @here @everyone &amp;\u{1b}[31m\u{202e}lanoisivorp\u{200b}\0";

    #[test]
    fn teams_shows_what_people_typed_as_text() {
        let v = teams_payload(&ChatMessage {
            title: "Dana **asks** [x](https://evil.example)",
            text: HOSTILE,
            link: None,
        });
        let body = &v["attachments"][0]["content"]["body"];
        // No TextBlock (which reads a Markdown subset) carries anything typed.
        assert!(!v.to_string().contains(r#""type":"TextBlock""#), "{v}");
        assert_eq!(body[0]["inlines"][0]["type"], "TextRun");
        assert_eq!(
            body[0]["inlines"][0]["text"],
            "Dana **asks** [x](https://evil.example)"
        );
        let text = body[1]["inlines"][0]["text"].as_str().unwrap();
        assert_eq!(body[1]["inlines"][0]["type"], "TextRun");
        // Line breaks stay line breaks; what hides, reverses or controls is shown.
        assert_eq!(
            text,
            "[Approve here](https://evil.example) **now** _it_ ~s~ `c`\n# Heading\n> quoted\n- item\n<b>bold</b> <at>Morgan</at> {{DATE(2017-02-14T06:08:39Z, SHORT)}}\n<https://evil.example|Approve> <!here> <!channel> @channel @here @everyone &amp;␛[31m<U+202E>lanoisivorp<U+200B>␀"
        );
        assert_eq!(teams_text("a\rb\tc"), "a\nb\tc");
    }

    #[test]
    fn slack_shows_what_people_typed_as_text() {
        let v = slack_payload(&ChatMessage {
            title: "Dana <!here> & *co*",
            text: HOSTILE,
            link: Some(LINK),
        });
        assert_eq!(v["mrkdwn"], false, "the fallback text is not mrkdwn");
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        assert_eq!(blocks[0]["text"]["text"], "Dana &lt;!here&gt; &amp; *co*");
        assert_eq!(blocks[1]["text"]["type"], "plain_text");
        let section = blocks[1]["text"]["text"].as_str().unwrap();
        assert_eq!(
            section,
            "[Approve here](https://evil.example) **now** _it_ ~s~ `c`\n# Heading\n&gt; quoted\n- item\n&lt;b&gt;bold&lt;/b&gt; &lt;at&gt;Morgan&lt;/at&gt; {{DATE(2017-02-14T06:08:39Z, SHORT)}}\n&lt;https://evil.example|Approve&gt; &lt;!here&gt; &lt;!channel&gt; ＠channel ＠here ＠everyone &amp;amp;␛[31m&lt;U+202E&gt;lanoisivorp&lt;U+200B&gt;␀"
        );
        // Only the portal's own link is a link, in the one mrkdwn element.
        let all = v.to_string();
        assert_eq!(all.matches(r#""type":"mrkdwn""#).count(), 1, "{all}");
        assert!(!all.contains("<https://evil"), "{all}");
        assert!(
            !all.contains("<!here>") && !all.contains("@channel"),
            "{all}"
        );
        assert!(v["text"].as_str().unwrap().contains("＠here"), "{all}");
        assert_eq!(slack_text("a\rb@Here"), "a\nb＠Here");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo!", 5), "héll…");
    }
}
