//! Where a request really comes from. Behind a reverse proxy every connection comes from the
//! proxy, so per-address budgets (logins, the widget) would be shared by every client, and one
//! attacker could spend them for all. The proxies the operator names in `server.trusted_proxies`
//! are believed about `X-Forwarded-For`; nobody else is, since a client can send any header.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// A `server.trusted_proxies` entry that is neither an IP address nor a CIDR network.
#[derive(Debug, thiserror::Error)]
#[error("server.trusted_proxies: {0:?} is not an IP address or a CIDR network")]
pub struct BadProxyEntry(String);

/// Cheap to clone (extractors take it from the state per request).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    networks: std::sync::Arc<[IpNet]>,
}

impl TrustedProxies {
    /// Parses entries such as `127.0.0.1`, `10.0.0.0/8` or `::1`.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, BadProxyEntry> {
        let networks = entries
            .iter()
            .map(|e| e.as_ref().trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxyEntry(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { networks })
    }

    /// No proxy is named: every connection's own address is its client's.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|n| n.contains(&ip))
    }

    /// The client behind `peer`: while the hop in question is a trusted proxy, the address it
    /// says it was reached from (the last `X-Forwarded-For` entry, right to left, since each
    /// proxy appends the address it saw); the first hop not trusted is the client. An entry that
    /// is not an address ends the walk: what lies left of it cannot be believed.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nobody_is_believed_about_forwarding_unless_named() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("127.0.0.1"), &forwarded(&["203.0.113.7"])),
            ip("127.0.0.1")
        );
        let local = TrustedProxies::new(&["127.0.0.1"]).unwrap();
        // A client that is not the proxy cannot claim another address.
        assert_eq!(
            local.client(ip("198.51.100.2"), &forwarded(&["203.0.113.7"])),
            ip("198.51.100.2")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = TrustedProxies::new(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &forwarded(&["203.0.113.7"])),
            ip("203.0.113.7")
        );
        // The client wrote its own X-Forwarded-For; the proxies appended what they saw.
        assert_eq!(
            proxies.client(
                ip("127.0.0.1"),
                &forwarded(&["6.6.6.6, 198.51.100.9", "10.1.2.3"])
            ),
            ip("198.51.100.9")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &forwarded(&["junk, 10.1.2.3"])),
            ip("10.1.2.3"),
            "nothing left of a malformed entry is believed"
        );
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &HeaderMap::new()),
            ip("::ffff:127.0.0.1"),
            "no header: the proxy itself"
        );
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &forwarded(&["2001:db8::1"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        assert!(TrustedProxies::new(&["::1", "192.168.0.0/16", " "]).is_ok());
        assert!(TrustedProxies::new(&["proxy.internal"]).is_err());
    }
}
