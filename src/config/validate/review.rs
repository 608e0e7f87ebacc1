//! A package's access reviews: `review_every` (at least a day, or "off"), `review_within` (at
//! least a day, shorter than `review_every`), `reviewers` (group object ids), `review_by`
//! ("deciders" or "self") and `review_default` ("keep", "remove" or "report").

use chrono::Duration;

use super::{duration, each, guid};
use crate::config::file::RawPackage;
use crate::config::{ConfigError, err};
use crate::domain::review::{ReviewBy, ReviewDefault, ReviewSettings};

pub(super) fn review(
    k: &dyn Fn(&str) -> String,
    p: &RawPackage,
) -> Result<ReviewSettings, ConfigError> {
    let every = match p.review_every.trim() {
        "off" | "never" => None,
        v => {
            let d = duration(&k("review_every"), v)?;
            if d < Duration::days(1) {
                return Err(err(k("review_every"), "must be at least 1d (or \"off\")"));
            }
            Some(d)
        }
    };
    let within = duration(&k("review_within"), &p.review_within)?;
    if within < Duration::days(1) {
        return Err(err(k("review_within"), "must be at least 1d"));
    }
    if every.is_some_and(|e| within >= e) {
        return Err(err(
            k("review_within"),
            "must be shorter than review_every (a campaign is due before the next one starts)",
        ));
    }
    let by = ReviewBy::parse(&p.review_by)
        .ok_or_else(|| err(k("review_by"), "must be \"deciders\" or \"self\""))?;
    let default = ReviewDefault::parse(&p.review_default).ok_or_else(|| {
        err(
            k("review_default"),
            "must be \"keep\", \"remove\" or \"report\"",
        )
    })?;
    let reviewers = each(&k("reviewers"), &p.reviewers, guid)?;
    if every.is_some()
        && reviewers.is_empty()
        && !p.approver_role_applies
        && p.approver_groups.is_empty()
    {
        return Err(err(
            k("reviewers"),
            "the package's reviews need reviewers: its approver_groups, the approver role, or reviewers = [\"<group id>\"] (or review_every = \"off\")",
        ));
    }
    Ok(ReviewSettings {
        every,
        within,
        reviewers,
        by,
        default,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{GOOD, key_of, load};
    use crate::domain::review::{ReviewBy, ReviewDefault};

    fn with(lines: &str) -> String {
        GOOD.replacen("[[package]]\n", &format!("[[package]]\n{lines}\n"), 1)
    }

    #[test]
    fn reviews_are_yearly_by_deciders_reporting_by_default() {
        let s = load(GOOD, &[]).unwrap();
        let r = &s.packages[0].review;
        assert_eq!(r.every, Some(chrono::Duration::days(365)));
        assert_eq!(r.within, chrono::Duration::days(14));
        assert_eq!(r.by, ReviewBy::Deciders);
        assert_eq!(r.default, ReviewDefault::Report);
        assert!(r.reviewers.is_empty());
    }

    #[test]
    fn review_keys_are_checked() {
        let s = load(
            &with("review_every = \"90d\"\nreview_by = \"self\"\nreview_default = \"remove\"\nreviewers = [\"C0A8E2D4-1F3B-4A5C-8D6E-7F9A0B1C2D3E\"]"),
            &[],
        )
        .unwrap();
        let r = &s.packages[0].review;
        assert_eq!(r.every, Some(chrono::Duration::days(90)));
        assert_eq!(r.by, ReviewBy::SelfAttest);
        assert_eq!(r.default, ReviewDefault::Remove);
        assert_eq!(r.reviewers, ["c0a8e2d4-1f3b-4a5c-8d6e-7f9a0b1c2d3e"]);
        let off = load(&with("review_every = \"off\""), &[]).unwrap();
        assert_eq!(off.packages[0].review.every, None);
        for (line, key) in [
            ("review_every = \"12h\"", "package[0].review_every"),
            ("review_every = \"soon\"", "package[0].review_every"),
            ("review_within = \"2h\"", "package[0].review_within"),
            (
                "review_every = \"7d\"\nreview_within = \"7d\"",
                "package[0].review_within",
            ),
            ("review_by = \"managers\"", "package[0].review_by"),
            ("review_default = \"delete\"", "package[0].review_default"),
            ("reviewers = [\"security\"]", "package[0].reviewers[0]"),
        ] {
            assert_eq!(key_of(&with(line), &[]), key, "{line}");
        }
    }
}
