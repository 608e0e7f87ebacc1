//! A package's rule for ticket references: the whole ticket must match a pattern, explained to
//! people by a hint ("A change or incident number, e.g. CHG0012345").

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

#[cfg(test)]
mod tests {
    use super::TicketRule;

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
