//! A package's rules for ticket references: the whole ticket must match a pattern, explained to
//! people by a hint ("A change or incident number, e.g. CHG0012345"); and what a ticket
//! system's answer to a ticket validator's check means.

/// The longest pattern a package may set, in bytes of its compiled program (the `regex` crate's
/// size limit): a pattern is the operator's, but it runs on every request.
const SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct TicketRule {
    /// As the operator wrote it.
    source: String,
    /// The same, anchored at both ends.
    whole: regex::Regex,
}

impl TicketRule {
    /// `pattern` as a rule the whole ticket must match; the regular expression's own error
    /// otherwise.
    pub fn new(pattern: &str) -> Result<TicketRule, String> {
        let whole = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(TicketRule {
            source: pattern.to_string(),
            whole,
        })
    }

    /// Whether `ticket` (trimmed already) is of the expected form.
    pub fn accepts(&self, ticket: &str) -> bool {
        self.whole.is_match(ticket)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.source
    }
}

impl PartialEq for TicketRule {
    fn eq(&self, other: &TicketRule) -> bool {
        self.source == other.source
    }
}

/// The longest message of a ticket system shown to people, in characters.
const MESSAGE_MAX: usize = 300;
/// The longest ticket link kept, in characters.
const LINK_MAX: usize = 2000;

/// What a ticket system answered about a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketVerdict {
    /// The ticket is good; its link, if the system gave a usable one.
    Valid { url: Option<String> },
    /// The ticket is refused, with the system's reason (clipped to one line), if any.
    Invalid { message: Option<String> },
    /// No usable answer came, and why (for the audit trail; never from the answer's body).
    NoAnswer(String),
}

#[derive(serde::Deserialize)]
struct Answer {
    valid: bool,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// What an answer with HTTP `status` and `body` (`None`: too long to read) means: only a 200
/// with `{"valid": bool, "message"?: str, "url"?: str}` is an answer.
pub fn read_answer(status: u16, body: Option<&[u8]>) -> TicketVerdict {
    if status != 200 {
        return TicketVerdict::NoAnswer(format!("HTTP {status}"));
    }
    let Some(body) = body else {
        return TicketVerdict::NoAnswer("the answer was too long".into());
    };
    let Ok(a) = serde_json::from_slice::<Answer>(body) else {
        return TicketVerdict::NoAnswer("the answer was not the expected JSON".into());
    };
    if a.valid {
        TicketVerdict::Valid {
            url: a.url.as_deref().and_then(link),
        }
    } else {
        TicketVerdict::Invalid {
            message: a.message.as_deref().map(clip).filter(|m| !m.is_empty()),
        }
    }
}

/// Text from another system, made fit to show: control characters become spaces, runs of
/// white space one space, and at most [`MESSAGE_MAX`] characters are kept (an ellipsis marks a
/// cut).
pub fn clip(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() <= MESSAGE_MAX {
        return words;
    }
    let mut cut: String = words.chars().take(MESSAGE_MAX - 1).collect();
    cut.push('…');
    cut
}

/// A ticket link worth showing: an absolute http or https URL of at most [`LINK_MAX`]
/// characters.
fn link(u: &str) -> Option<String> {
    let u = u.trim();
    if u.chars().count() > LINK_MAX {
        return None;
    }
    let parsed = url::Url::parse(u).ok()?;
    matches!(parsed.scheme(), "http" | "https")
        .then(|| parsed.to_string())
        .filter(|s| s.chars().count() <= LINK_MAX)
}

#[cfg(test)]
mod tests {
    use super::TicketRule;
    use super::{TicketVerdict, clip, read_answer};

    #[test]
    fn a_ticket_systems_answer_is_read_strictly() {
        let ok = |b: &str| read_answer(200, Some(b.as_bytes()));
        assert_eq!(
            ok(r#"{"valid": true, "url": "https://itsm.example/CHG1"}"#),
            TicketVerdict::Valid {
                url: Some("https://itsm.example/CHG1".into())
            }
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            &format!("https://x.example/{}", "a".repeat(2000)),
        ] {
            let body = serde_json::json!({"valid": true, "url": bad}).to_string();
            assert_eq!(ok(&body), TicketVerdict::Valid { url: None }, "{bad}");
        }
        assert_eq!(
            ok(r#"{"valid": false, "message": "Closed\n\u001b[31m  ticket"}"#),
            TicketVerdict::Invalid {
                message: Some("Closed [31m ticket".into())
            }
        );
        assert_eq!(
            ok(r#"{"valid": false}"#),
            TicketVerdict::Invalid { message: None }
        );
        assert!(matches!(ok("{}"), TicketVerdict::NoAnswer(_)));
        assert!(matches!(ok("<html>"), TicketVerdict::NoAnswer(_)));
        assert!(matches!(
            read_answer(201, Some(br#"{"valid":true}"#)),
            TicketVerdict::NoAnswer(_)
        ));
        assert!(matches!(read_answer(200, None), TicketVerdict::NoAnswer(_)));
        let long = clip(&"x".repeat(400));
        assert_eq!(long.chars().count(), 300);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn the_whole_ticket_must_match() {
        let r = TicketRule::new("(CHG|INC)[0-9]{7}").unwrap();
        assert!(r.accepts("CHG0012345"));
        assert!(r.accepts("INC7654321"));
        assert!(!r.accepts("CHG001234"));
        assert!(
            !r.accepts("xCHG0012345"),
            "not anchored by the operator, anchored here"
        );
        assert!(!r.accepts("CHG0012345 and more"));
        // Alternatives stay inside the anchors.
        let r = TicketRule::new("A|B").unwrap();
        assert!(!r.accepts("AB"));
        assert!(r.accepts("B"));
    }

    #[test]
    fn a_bad_pattern_says_why() {
        let e = TicketRule::new("(CHG").unwrap_err();
        assert!(e.contains("unclosed group"), "{e}");
        assert!(TicketRule::new("a{1000}{1000}").is_err(), "too big");
    }
}
