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
