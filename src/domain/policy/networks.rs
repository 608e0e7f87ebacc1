//! `trusted_networks`: the client addresses (as `[server] trusted_proxies` establishes them)
//! from which a package may be requested and its requests decided. IPv4 and IPv6; an
//! IPv4-mapped IPv6 address counts as the IPv4 address it carries.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::json;

use super::{Refusal, Rule};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// Networks (`203.0.113.0/24`) or single addresses (`198.51.100.7`); the first that is
    /// neither is named in the error.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Networks, String> {
        items
            .iter()
            .map(|s| {
                let s = s.as_ref().trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| {
                        format!("'{s}' is not a network like 203.0.113.0/24 or 2001:db8::/32")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Networks)
    }

    /// No networks: any address may ask.
    pub fn is_any(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` (as the portal recorded it) lies in one of the networks. Without networks
    /// every address does; with them, an unknown address does not.
    pub fn allows(&self, ip: Option<&str>) -> bool {
        if self.is_any() {
            return true;
        }
        let Some(ip) = ip.and_then(|s| s.trim().parse::<IpAddr>().ok()) else {
            return false;
        };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The networks as written for people: "203.0.113.0/24, 2001:db8::/32".
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn list(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// `Ok` when `ip` may `doing` ("ask for Device code access", "decide this request").
    pub fn check(&self, ip: Option<&str>, doing: &str) -> Result<(), Refusal> {
        if self.allows(ip) {
            return Ok(());
        }
        let from = ip.unwrap_or("an unknown address");
        Err(Refusal::new(
            Rule::TrustedNetworks,
            format!(
                "You cannot {doing} from {from}: only from {}.",
                self.describe()
            ),
            json!({"client_ip": ip, "trusted_networks": self.list()}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets() -> Networks {
        Networks::parse(&["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]).unwrap()
    }

    #[test]
    fn addresses_inside_pass_and_others_do_not() {
        let n = nets();
        assert!(n.allows(Some("203.0.113.9")));
        assert!(n.allows(Some("198.51.100.7")));
        assert!(!n.allows(Some("198.51.100.8")));
        assert!(n.allows(Some("2001:db8::1")));
        assert!(!n.allows(Some("2001:db9::1")));
        assert!(n.allows(Some("::ffff:203.0.113.200")), "IPv4-mapped");
        assert!(!n.allows(Some("::ffff:192.0.2.1")));
        assert!(!n.allows(None), "an unknown address is not trusted");
        assert!(!n.allows(Some("not an address")));
        assert!(Networks::default().allows(None), "no networks: anywhere");
    }

    #[test]
    fn refusals_say_where_from_and_where_allowed() {
        let e = nets().check(Some("192.0.2.1"), "ask for Device code").unwrap_err();
        assert_eq!(e.rule, Rule::TrustedNetworks);
        assert_eq!(
            e.message,
            "You cannot ask for Device code from 192.0.2.1: only from 203.0.113.0/24, 2001:db8::/32, 198.51.100.7/32."
        );
    }

    #[test]
    fn bad_networks_are_named() {
        let e = Networks::parse(&["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err();
        assert!(e.contains("'10.0.0.0/33'"), "{e}");
        assert!(Networks::parse(&["office"]).is_err());
        // Host bits are dropped, not refused.
        assert_eq!(
            Networks::parse(&["203.0.113.7/24"]).unwrap().describe(),
            "203.0.113.0/24"
        );
    }
}
