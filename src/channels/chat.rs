//! What a chat message looks like on the wire: an Adaptive Card for a Microsoft Teams Workflows
//! webhook, Block Kit for a Slack incoming webhook. Pure functions.
//!
//! Messages only inform: they carry a link to the request's page in the portal and no button that
//! acts (approving happens in the portal, signed in).

use serde_json::{Value, json};

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

/// The body for a Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is
/// received"): a message with one Adaptive Card 1.4 attachment. The title is bold, the text
/// wraps, and the link becomes an "Open in jitgate" action.
pub fn teams_payload(m: &ChatMessage) -> Value {
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": truncate(m.title, TEAMS_TEXT_MAX),
                "weight": "bolder",
                "size": "medium",
                "wrap": true
            },
            {
                "type": "TextBlock",
                "text": truncate(m.text, TEAMS_TEXT_MAX),
                "wrap": true
            }
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

/// The body for a Slack incoming webhook: a header block with the title, a section with the text
/// and, when there is a link, a context block linking to the portal. `text` is the fallback that
/// notifications show. Within Slack's limits: longer texts are cut and end with "…".
pub fn slack_payload(m: &ChatMessage) -> Value {
    let mut blocks = Vec::new();
    let title = m.title.trim();
    if !title.is_empty() {
        blocks.push(json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(title, SLACK_HEADER_MAX)}
        }));
    }
    let text = m.text.trim();
    if !text.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": slack_escape_within(text, SLACK_SECTION_MAX)}
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

/// `s` with Slack's control characters escaped (`&`, `<`, `>`), cut to at most `max` characters
/// of escaped text. An escape is never cut in half.
fn slack_escape_within(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut chars = s.chars().peekable();
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
        assert_eq!(body[0]["type"], "TextBlock");
        assert_eq!(body[0]["text"], message().title);
        assert_eq!(body[0]["weight"], "bolder");
        assert_eq!(body[0]["size"], "medium");
        assert_eq!(body[0]["wrap"], true);
        assert_eq!(body[1]["type"], "TextBlock");
        // Adaptive Cards take the text as it is: JSON does the escaping.
        assert_eq!(body[1]["text"], message().text);
        assert_eq!(body[1]["wrap"], true);
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
        let text = v["attachments"][0]["content"]["body"][1]["text"]
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
        assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
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

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo!", 5), "héll…");
    }
}
