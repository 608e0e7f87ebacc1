//! `max_active`: never more than so many people hold a package at once. Checked when an
//! approval would open (or schedule) a grant: the grants whose time overlaps the new one's
//! hold the places; when all are held the refusal says who holds them until when, the first
//! to free first, and the request stays pending for a later approval.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Refusal, Rule};

/// A grant that holds a place: whose, and from when until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Whether a grant from `start` to `end` fits beside `holders` with at most `max` at once.
pub fn check(
    max: u32,
    holders: &[Holder],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(), Refusal> {
    let mut overlapping: Vec<&Holder> = holders
        .iter()
        .filter(|h| h.starts_at < end && h.ends_at > start)
        .collect();
    if overlapping.len() < max as usize {
        return Ok(());
    }
    overlapping.sort_by_key(|h| h.ends_at);
    let held = overlapping
        .iter()
        .map(|h| format!("{} until {}", h.name, hhmm(h.ends_at)))
        .collect::<Vec<_>>()
        .join(", ");
    let places = if max == 1 {
        "1 person".to_string()
    } else {
        format!("{max} people")
    };
    Err(Refusal::new(
        Rule::MaxActive,
        format!(
            "This package may be held by {places} at once and all places are taken: {held}. \
             The first frees at {}; the request can be approved then.",
            hhmm(overlapping[0].ends_at)
        ),
        json!({
            "max_active": max,
            "holders": overlapping
                .iter()
                .map(|h| json!({"name": h.name, "ends_at": h.ends_at}))
                .collect::<Vec<_>>(),
        }),
    ))
}

fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::now;
    use chrono::Duration;

    fn holder(name: &str, from: i64, to: i64) -> Holder {
        Holder {
            name: name.into(),
            starts_at: now() + Duration::hours(from),
            ends_at: now() + Duration::hours(to),
        }
    }

    #[test]
    fn only_overlapping_grants_hold_places() {
        let holders = [holder("Riley", -1, 1), holder("Jordan", 3, 5)];
        let (start, end) = (now(), now() + Duration::hours(2));
        assert!(check(2, &holders, start, end).is_ok());
        let e = check(1, &holders, start, end).unwrap_err();
        assert_eq!(e.rule, Rule::MaxActive);
        assert!(e.message.contains("Riley until 2026-11-22 10:00 UTC"), "{}", e.message);
        assert!(!e.message.contains("Jordan"), "{}", e.message);
        // After Riley's grant, the place is free.
        assert!(check(1, &holders, now() + Duration::hours(1), now() + Duration::hours(2)).is_ok());
    }

    #[test]
    fn the_first_to_free_comes_first() {
        let holders = [holder("Jordan", -1, 3), holder("Riley", -2, 1)];
        let e = check(2, &holders, now(), now() + Duration::hours(1)).unwrap_err();
        assert!(
            e.message.contains("2 people at once and all places are taken: Riley until 2026-11-22 10:00 UTC, Jordan until 2026-11-22 12:00 UTC. The first frees at 2026-11-22 10:00 UTC"),
            "{}",
            e.message
        );
    }
}
