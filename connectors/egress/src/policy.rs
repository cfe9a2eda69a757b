//! The operator's allow-list, and the checks every outgoing URL and resolved address pass.

use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

use crate::address::internal_reason;

/// An outgoing call that was not made, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not a URL: {0}")]
    BadUrl(String),
    #[error("only http and https URLs are called, not {0}:")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("{host} is a {why} address ({ip}); outgoing calls reach public addresses only unless outbound.allow_hosts names it")]
    Internal {
        host: String,
        ip: IpAddr,
        why: &'static str,
    },
    #[error("{host} resolves to no public address (first: {ip}, {why}); outgoing calls reach public addresses only unless outbound.allow_hosts names it")]
    ResolvesInternal {
        host: String,
        ip: IpAddr,
        why: &'static str,
    },
    #[error("{0} does not resolve")]
    Unresolved(String),
}

/// An allow-list entry that is neither a host name, an IP address nor a CIDR network.
#[derive(Debug, thiserror::Error)]
#[error("outbound.allow_hosts: {0:?} is not a host name, an IP address or a CIDR network")]
pub struct BadAllowEntry(String);

/// What the operator lets outgoing calls reach besides the public internet: host names (exact,
/// case-insensitive) whose every address is allowed, and networks.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    hosts: Vec<String>,
    networks: Vec<IpNet>,
}

impl EgressPolicy {
    /// Parses entries such as `crm.internal`, `10.0.0.5`, `127.0.0.0/8` or `::1`.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<EgressPolicy, BadAllowEntry> {
        let mut policy = EgressPolicy::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            if let Ok(net) = bare.parse::<IpNet>() {
                policy.networks.push(net);
            } else if let Ok(ip) = bare.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(ip));
            } else if url::Host::parse(entry).is_ok_and(|h| matches!(h, Host::Domain(_))) {
                policy.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(BadAllowEntry(entry.to_string()));
            }
        }
        Ok(policy)
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether `ip`, reached by the name `host`, may be called.
    pub fn address_allowed(&self, host: &str, ip: IpAddr) -> Result<(), &'static str> {
        match internal_reason(ip) {
            None => Ok(()),
            Some(_) if self.host_allowed(host) => Ok(()),
            Some(_) if self.networks.iter().any(|n| n.contains(&ip)) => Ok(()),
            Some(why) => Err(why),
        }
    }

    /// The checks a URL passes before any connection: http(s), and a literal IP address (in any
    /// of the forms the URL parser normalises, such as `0x7f000001` or `2130706433`) that is
    /// public or allowed. Names are checked once resolved, by the client's resolver.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme(url.scheme().to_string()));
        }
        let ip = match url.host().ok_or(Refused::NoHost)? {
            Host::Domain(_) => return Ok(()),
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
        };
        let host = url.host_str().unwrap_or_default().to_string();
        self.address_allowed(&host, ip)
            .map_err(|why| Refused::Internal { host, ip, why })
    }

    /// The resolved addresses of `host` that may be called; an error when none may.
    pub fn filter_resolved(
        &self,
        host: &str,
        addrs: impl IntoIterator<Item = IpAddr>,
    ) -> Result<Vec<IpAddr>, Refused> {
        let mut allowed = Vec::new();
        let mut first_refused = None;
        for ip in addrs {
            match self.address_allowed(host, ip) {
                Ok(()) => allowed.push(ip),
                Err(why) => {
                    first_refused.get_or_insert((ip, why));
                }
            }
        }
        match (allowed.is_empty(), first_refused) {
            (false, _) => Ok(allowed),
            (true, Some((ip, why))) => Err(Refused::ResolvesInternal {
                host: host.to_string(),
                ip,
                why,
            }),
            (true, None) => Err(Refused::Unresolved(host.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &EgressPolicy, url: &str) -> Result<(), Refused> {
        policy.check_url(&Url::parse(url).unwrap())
    }

    #[test]
    fn literal_internal_addresses_are_refused_in_every_spelling() {
        let strict = EgressPolicy::default();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:5432/",
            "http://[::1]:6379/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "https://10.0.0.1/",
            "http://[fd00:ec2::254]/",
        ] {
            assert!(
                matches!(check(&strict, url), Err(Refused::Internal { .. })),
                "{url} should be refused, got {:?}",
                check(&strict, url)
            );
        }
    }

    #[test]
    fn only_http_and_https_are_called() {
        let strict = EgressPolicy::default();
        assert_eq!(
            check(&strict, "ftp://example.com/"),
            Err(Refused::Scheme("ftp".into()))
        );
        assert!(check(&strict, "file:///etc/passwd").is_err());
        assert!(check(&strict, "gopher://127.0.0.1:6379/_INFO").is_err());
        assert_eq!(check(&strict, "https://example.com/hook"), Ok(()));
        assert_eq!(check(&strict, "http://93.184.216.34/hook"), Ok(()));
    }

    #[test]
    fn the_allow_list_opens_named_networks_and_hosts_only() {
        let policy = EgressPolicy::new(&["127.0.0.0/8", "::1", "crm.internal"]).unwrap();
        assert_eq!(check(&policy, "http://127.0.0.1:9000/"), Ok(()));
        assert_eq!(check(&policy, "http://0x7f000001:9000/"), Ok(()));
        assert_eq!(check(&policy, "http://[::1]:9000/"), Ok(()));
        assert!(check(&policy, "http://169.254.169.254/").is_err());
        assert!(check(&policy, "http://10.0.0.1/").is_err());

        let lan: IpAddr = "10.0.0.7".parse().unwrap();
        assert_eq!(policy.filter_resolved("CRM.internal", [lan]), Ok(vec![lan]));
        assert!(policy.filter_resolved("other.internal", [lan]).is_err());
    }

    #[test]
    fn resolved_internal_addresses_are_dropped_and_all_internal_is_refused() {
        let strict = EgressPolicy::default();
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert_eq!(
            strict.filter_resolved("rebind.example", [metadata, public]),
            Ok(vec![public]),
            "a name that also resolves internally is only called on its public address"
        );
        assert!(matches!(
            strict.filter_resolved("evil.example", [metadata]),
            Err(Refused::ResolvesInternal { .. })
        ));
    }

    #[test]
    fn a_garbled_allow_list_entry_is_an_error() {
        assert!(EgressPolicy::new(&["10.0.0.0/33"]).is_err());
        assert!(EgressPolicy::new(&["not a host"]).is_err());
        assert!(EgressPolicy::new(&["", " 10.0.0.0/8 "]).is_ok());
    }
}
