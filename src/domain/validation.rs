//! Validating what people submit: a new request against its package, and decision comments.
//! Every problem is reported against its field.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::package::{Package, format_duration};

/// What a requester submits (also the API's request body: unknown fields are refused).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequestInput {
    pub package: String,
    pub duration_minutes: Option<i64>,
    #[serde(default)]
    pub justification: String,
    pub ticket: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    /// Break-glass: taken at once without approval, where the package allows it.
    #[serde(default)]
    pub emergency: bool,
}

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

pub const JUSTIFICATION_MIN: usize = 10;
pub const JUSTIFICATION_MAX: usize = 1000;
pub const TICKET_MAX: usize = 100;
pub const COMMENT_MAX: usize = 1000;
/// A requested start this close to now (or slightly past, from clock skew) means "now".
pub const START_SKEW: Duration = Duration::seconds(60);

/// The validated fields of a new request.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRequest {
    pub duration_minutes: i64,
    pub justification: String,
    pub ticket: Option<String>,
    pub requested_start: Option<DateTime<Utc>>,
    pub timeout_at: DateTime<Utc>,
}

/// A justification, trimmed: long enough in visible characters, not too long, no control
/// characters (requests and extensions ask for one alike).
pub fn check_justification(raw: &str) -> Result<String, FieldError> {
    let justification = raw.trim().to_string();
    let len = justification.chars().count();
    // Zero-width and other invisible characters do not explain anything.
    let visible = justification.chars().filter(|c| !is_invisible(*c)).count();
    if visible < JUSTIFICATION_MIN {
        Err(FieldError::new(
            "justification",
            format!(
                "Please explain why you need access in at least {JUSTIFICATION_MIN} characters."
            ),
        ))
    } else if len > JUSTIFICATION_MAX {
        Err(FieldError::new(
            "justification",
            format!(
                "The justification is {len} characters long; at most {JUSTIFICATION_MAX} are allowed."
            ),
        ))
    } else if has_control_chars(&justification) {
        Err(FieldError::new(
            "justification",
            "The justification contains control characters.",
        ))
    } else {
        Ok(justification)
    }
}

/// Checks a new request against its package. Every problem is reported, each against its field.
pub fn validate_new_request(
    pkg: &Package,
    input: &NewRequestInput,
    now: DateTime<Utc>,
) -> Result<ValidRequest, Vec<FieldError>> {
    let mut errors = Vec::new();

    let break_glass = pkg.break_glass.as_ref().filter(|_| input.emergency);
    if input.emergency && break_glass.is_none() {
        errors.push(FieldError::new(
            "emergency",
            format!(
                "{} does not allow break-glass: ask for it the usual way, and an approver decides.",
                pkg.name
            ),
        ));
    }
    // Break-glass grants are at most break_glass_max (which lies within the package's limits).
    let longest = break_glass.map_or(pkg.max_duration, |b| b.max);
    let duration_minutes = input
        .duration_minutes
        .unwrap_or(pkg.default_duration.min(longest).num_minutes());
    let (min, max) = (pkg.min_duration.num_minutes(), longest.num_minutes());
    if break_glass.is_some() && duration_minutes > max && duration_minutes >= min {
        errors.push(FieldError::new(
            "duration_minutes",
            format!(
                "Break-glass access lasts at most {} for {} ({} minutes asked).",
                format_duration(longest),
                pkg.name,
                duration_minutes
            ),
        ));
    } else if duration_minutes < min || duration_minutes > max {
        errors.push(FieldError::new(
            "duration_minutes",
            format!(
                "The duration must be between {} and {} for {} ({} minutes asked).",
                format_duration(pkg.min_duration),
                format_duration(pkg.max_duration),
                pkg.name,
                duration_minutes
            ),
        ));
    }

    let justification = match check_justification(&input.justification) {
        Ok(j) => j,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };

    let ticket = input
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    match &ticket {
        None if pkg.ticket_required => errors.push(FieldError::new(
            "ticket",
            format!("{} needs a ticket number.", pkg.name),
        )),
        Some(t) if t.chars().count() > TICKET_MAX => errors.push(FieldError::new(
            "ticket",
            format!("The ticket reference is too long (at most {TICKET_MAX} characters)."),
        )),
        Some(t) if t.chars().any(char::is_control) => errors.push(FieldError::new(
            "ticket",
            "The ticket reference contains control characters.",
        )),
        Some(t) if pkg.ticket_pattern.as_ref().is_some_and(|r| !r.accepts(t)) => {
            errors.push(FieldError::new("ticket", ticket_form(pkg)))
        }
        _ => {}
    }

    let requested_start = match input.starts_at {
        None => None,
        Some(at) if break_glass.is_some() && at > now + START_SKEW => {
            errors.push(FieldError::new(
                "starts_at",
                "Break-glass access starts at once: leave the start out.",
            ));
            None
        }
        Some(at) if at < now - START_SKEW => {
            errors.push(FieldError::new(
                "starts_at",
                "The start time is in the past.",
            ));
            None
        }
        Some(at) if at <= now + START_SKEW => None,
        Some(at) if at > now + pkg.max_start_delay => {
            errors.push(FieldError::new(
                "starts_at",
                format!(
                    "The start may be at most {} ahead.",
                    format_duration(pkg.max_start_delay)
                ),
            ));
            None
        }
        Some(at) => Some(at),
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidRequest {
        duration_minutes,
        justification,
        ticket,
        requested_start,
        timeout_at: now + pkg.approval_timeout,
    })
}

/// Why a ticket was refused for its form: the package's hint, or else its pattern.
fn ticket_form(pkg: &Package) -> String {
    match (&pkg.ticket_hint, &pkg.ticket_pattern) {
        (Some(hint), _) => format!("The ticket is not of the form {} expects: {hint}", pkg.name),
        (None, Some(rule)) => format!(
            "The ticket is not of the form {} expects (it must match {}).",
            pkg.name,
            rule.pattern()
        ),
        (None, None) => "The ticket is not of the expected form.".to_string(),
    }
}

/// White space, and the format characters that show nothing (zero-width spaces and joiners,
/// direction marks, the word joiner, the byte-order mark, the soft hyphen).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

/// Normalises an optional decision comment.
pub fn clean_comment(comment: Option<&str>, required: bool) -> Result<Option<String>, FieldError> {
    let c = comment
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    match &c {
        None if required => Err(FieldError::new("comment", "Please give a reason.")),
        Some(c) if c.chars().count() > COMMENT_MAX => Err(FieldError::new(
            "comment",
            format!("The comment is too long (at most {COMMENT_MAX} characters)."),
        )),
        Some(c) if has_control_chars(c) => Err(FieldError::new(
            "comment",
            "The comment contains control characters.",
        )),
        _ => Ok(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invisible_justification_explains_nothing() {
        let invisible = "\u{200B}".repeat(40) + "\u{FEFF}\u{2060}\u{00AD}";
        assert_eq!(
            fields(validate_new_request(&pkg(), &input(60, &invisible), now()).unwrap_err()),
            ["justification"]
        );
        let padded = "ok\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}";
        assert!(validate_new_request(&pkg(), &input(60, padded), now()).is_err());
    }
    use crate::domain::fixtures::{now, pkg};

    fn input(minutes: i64, justification: &str) -> NewRequestInput {
        NewRequestInput {
            package: "device-code".into(),
            duration_minutes: Some(minutes),
            justification: justification.into(),
            ..Default::default()
        }
    }

    fn fields(errs: Vec<FieldError>) -> Vec<&'static str> {
        errs.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_request_validates() {
        let v = validate_new_request(&pkg(), &input(120, "  deploying the CI runner  "), now())
            .unwrap();
        assert_eq!(v.duration_minutes, 120);
        assert_eq!(v.justification, "deploying the CI runner");
        assert_eq!(v.ticket, None);
        assert_eq!(v.requested_start, None);
        assert_eq!(v.timeout_at, now() + Duration::hours(24));
    }

    #[test]
    fn default_duration_applies_when_missing() {
        let mut i = input(0, "deploying the CI runner");
        i.duration_minutes = None;
        assert_eq!(
            validate_new_request(&pkg(), &i, now())
                .unwrap()
                .duration_minutes,
            120
        );
    }

    #[test]
    fn duration_bounds_are_inclusive() {
        assert!(validate_new_request(&pkg(), &input(15, "0123456789"), now()).is_ok());
        assert!(validate_new_request(&pkg(), &input(240, "0123456789"), now()).is_ok());
        assert_eq!(
            fields(validate_new_request(&pkg(), &input(14, "0123456789"), now()).unwrap_err()),
            ["duration_minutes"]
        );
        assert_eq!(
            fields(validate_new_request(&pkg(), &input(241, "0123456789"), now()).unwrap_err()),
            ["duration_minutes"]
        );
        assert_eq!(
            fields(validate_new_request(&pkg(), &input(-5, "0123456789"), now()).unwrap_err()),
            ["duration_minutes"]
        );
    }

    #[test]
    fn justification_is_trimmed_and_bounded() {
        assert_eq!(
            fields(validate_new_request(&pkg(), &input(60, "   short   "), now()).unwrap_err()),
            ["justification"]
        );
        assert!(
            validate_new_request(&pkg(), &input(60, "éééééééééé"), now()).is_ok(),
            "counts characters, not bytes"
        );
        let long = "x".repeat(1001);
        assert_eq!(
            fields(validate_new_request(&pkg(), &input(60, &long), now()).unwrap_err()),
            ["justification"]
        );
        assert!(validate_new_request(&pkg(), &input(60, &"x".repeat(1000)), now()).is_ok());
        assert_eq!(
            fields(
                validate_new_request(&pkg(), &input(60, "bad \u{7} bell character"), now())
                    .unwrap_err()
            ),
            ["justification"]
        );
        assert!(validate_new_request(&pkg(), &input(60, "line one\nline two"), now()).is_ok());
    }

    #[test]
    fn every_problem_is_reported() {
        let mut p = pkg();
        p.ticket_required = true;
        let mut i = input(1, "short");
        i.starts_at = Some(now() - Duration::hours(1));
        assert_eq!(
            fields(validate_new_request(&p, &i, now()).unwrap_err()),
            ["duration_minutes", "justification", "ticket", "starts_at"]
        );
    }

    #[test]
    fn a_ticket_of_the_wrong_form_is_refused_with_the_hint() {
        let mut p = pkg();
        p.ticket_required = true;
        p.ticket_pattern =
            Some(crate::domain::ticket::TicketRule::new("(CHG|INC)[0-9]{7}").unwrap());
        let mut i = input(60, "deploying the CI runner");
        i.ticket = Some(" CHG0012345 ".into());
        assert_eq!(
            validate_new_request(&p, &i, now())
                .unwrap()
                .ticket
                .as_deref(),
            Some("CHG0012345")
        );
        i.ticket = Some("CHG-42".into());
        let e = validate_new_request(&p, &i, now()).unwrap_err();
        assert_eq!(fields(e.clone()), ["ticket"]);
        assert!(
            e[0].message.contains("must match (CHG|INC)[0-9]{7}"),
            "{}",
            e[0].message
        );
        p.ticket_hint = Some("A change or incident number, e.g. CHG0012345".into());
        let e = validate_new_request(&p, &i, now()).unwrap_err();
        assert!(
            e[0].message
                .ends_with("expects: A change or incident number, e.g. CHG0012345"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn ticket_rules() {
        let mut p = pkg();
        p.ticket_required = true;
        let mut i = input(60, "deploying the CI runner");
        i.ticket = Some("   ".into());
        assert_eq!(
            fields(validate_new_request(&p, &i, now()).unwrap_err()),
            ["ticket"]
        );
        i.ticket = Some(" INC-42 ".into());
        assert_eq!(
            validate_new_request(&p, &i, now())
                .unwrap()
                .ticket
                .as_deref(),
            Some("INC-42")
        );
        i.ticket = Some("x".repeat(101));
        assert_eq!(
            fields(validate_new_request(&p, &i, now()).unwrap_err()),
            ["ticket"]
        );
    }

    #[test]
    fn start_time_rules() {
        let mut i = input(60, "deploying the CI runner");
        i.starts_at = Some(now() + Duration::seconds(30));
        assert_eq!(
            validate_new_request(&pkg(), &i, now())
                .unwrap()
                .requested_start,
            None,
            "within skew = now"
        );
        i.starts_at = Some(now() - Duration::seconds(30));
        assert_eq!(
            validate_new_request(&pkg(), &i, now())
                .unwrap()
                .requested_start,
            None
        );
        i.starts_at = Some(now() + Duration::hours(3));
        assert_eq!(
            validate_new_request(&pkg(), &i, now())
                .unwrap()
                .requested_start,
            Some(now() + Duration::hours(3))
        );
        i.starts_at = Some(now() + Duration::days(8));
        assert_eq!(
            fields(validate_new_request(&pkg(), &i, now()).unwrap_err()),
            ["starts_at"]
        );
    }
}
