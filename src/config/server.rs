//! `[server]` as the portal uses it: where it listens and is reached, how long sessions last,
//! which reverse proxies are believed, and where `/metrics` is served.

use std::net::SocketAddr;

use chrono::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub public_url: Url,
    /// Sessions end after this long without activity.
    pub session_idle: Duration,
    /// Sessions end this long after sign-in, however active.
    pub session_max: Duration,
    /// A signed-in person's account state and app roles are read again from the directory
    /// when they are older than this.
    pub role_refresh: Duration,
    /// When set, `/metrics` is served only on this address, not on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (CIDRs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where working hours are told (`[[package.auto_approve]] hours`): an IANA name.
    pub time_zone: TimeZoneName,
}

impl ServerSettings {
    /// Cookies are `Secure` unless the portal is served over plain http on loopback.
    pub fn secure_cookies(&self) -> bool {
        !(self.public_url.scheme() == "http" && is_loopback(&self.public_url))
    }
}

/// Whether `u` names this machine (`localhost`, or a loopback address).
pub(super) fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An IANA time zone, by name and as rules (from the time zone database built into jitgate).
#[derive(Debug, Clone)]
pub struct TimeZoneName {
    pub name: String,
    pub zone: jiff::tz::TimeZone,
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl TimeZoneName {
    /// `name` as a time zone; the error says what it is not.
    pub fn parse(name: &str) -> Result<TimeZoneName, String> {
        let name = name.trim();
        jiff::tz::TimeZone::get(name)
            .map(|zone| TimeZoneName {
                name: name.to_string(),
                zone,
            })
            .map_err(|_| format!("'{name}' is not an IANA time zone like Europe/Amsterdam or UTC"))
    }

    /// Monday-first weekday (0 = Monday) and minute after midnight of `at`, here.
    pub fn local(&self, at: chrono::DateTime<chrono::Utc>) -> (usize, u32) {
        let ts = jiff::Timestamp::from_millisecond(at.timestamp_millis())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let z = ts.to_zoned(self.zone.clone());
        let weekday = z.weekday().to_monday_zero_offset() as usize;
        (weekday, z.hour() as u32 * 60 + z.minute() as u32)
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        TimeZoneName {
            name: "UTC".into(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }
}
