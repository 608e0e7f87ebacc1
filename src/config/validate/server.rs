//! `[server]`: where the portal listens and is reached, how long sessions last, which reverse
//! proxies are believed, and where `/metrics` is served.

use chrono::Duration;

use super::{duration, each, http_url};
use crate::config::file::RawServer;
use crate::config::{ConfigError, ServerSettings, err};

pub(super) fn check(raw: &RawServer) -> Result<ServerSettings, ConfigError> {
    let listen = raw.listen.parse().map_err(|_| {
        err(
            "server.listen",
            format!("'{}' is not an address like 127.0.0.1:8080", raw.listen),
        )
    })?;
    let public_url = http_url("server.public_url", &raw.public_url)?;
    let session_idle = duration("server.session_idle", &raw.session_idle)?;
    let session_max = duration("server.session_max", &raw.session_max)?;
    let role_refresh = duration("server.role_refresh", &raw.role_refresh)?;
    if role_refresh < Duration::minutes(1) {
        return Err(err(
            "server.role_refresh",
            "must be at least 1m (each check reads the directory)",
        ));
    }
    if session_max < Duration::minutes(5) {
        return Err(err("server.session_max", "must be at least 5m"));
    }
    let trusted_proxies = each("server.trusted_proxies", &raw.trusted_proxies, proxy)?;
    let metrics_listen = match raw.metrics_listen.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(a.parse().map_err(|_| {
            err(
                "server.metrics_listen",
                format!("'{a}' is not an address like 127.0.0.1:9090"),
            )
        })?),
    };
    let time_zone = match raw.time_zone.as_deref().map(str::trim) {
        None | Some("") => Default::default(),
        Some(name) => crate::config::server::TimeZoneName::parse(name)
            .map_err(|e| err("server.time_zone", e))?,
    };
    Ok(ServerSettings {
        time_zone,
        listen,
        public_url,
        session_idle,
        session_max,
        role_refresh,
        metrics_listen,
        trusted_proxies,
    })
}

/// A reverse proxy: a network (CIDR), or a bare address, which is a network of one.
fn proxy(key: &str, c: &str) -> Result<ipnet::IpNet, ConfigError> {
    let c = c.trim();
    c.parse::<ipnet::IpNet>()
        .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            err(
                key,
                format!("'{c}' is not an address or a CIDR like 10.0.0.0/8"),
            )
        })
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{GOOD, key_of, load};

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let with = |list: &str| {
            GOOD.replace(
                "[database]",
                &format!("trusted_proxies = {list}\n\n[database]"),
            )
        };
        let s = load(&with(r#"["10.0.0.0/8", "192.0.2.1"]"#), &[]).unwrap();
        assert_eq!(s.server.trusted_proxies.len(), 2);
        assert!(
            s.server.trusted_proxies[1].contains(&"192.0.2.1".parse::<std::net::IpAddr>().unwrap())
        );
        assert_eq!(
            key_of(&with(r#"["10.0.0.0/8", "proxy"]"#), &[]),
            "server.trusted_proxies[1]"
        );
        assert!(load(GOOD, &[]).unwrap().server.trusted_proxies.is_empty());
    }
}
