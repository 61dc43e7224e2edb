//! The client's address, for the per-client rate limits: the socket's peer, or the address a
//! trusted reverse proxy reports in `X-Forwarded-For`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::HeaderMap;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address (`127.0.0.1`, `::1`).
///
/// Used for [`AuthStateBuilder::trusted_proxies`](crate::AuthStateBuilder::trusted_proxies).
/// Host bits below the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`). IPv4-mapped IPv6
/// addresses (`::ffff:10.0.0.1`) are compared as the IPv4 address they carry.
///
/// ```
/// use axum_users_runtime::Cidr;
///
/// let private: Cidr = "10.0.0.0/8".parse().unwrap();
/// assert!(private.contains("10.20.30.40".parse().unwrap()));
/// assert!(private.contains("::ffff:10.0.0.1".parse().unwrap()));
/// assert!(!private.contains("11.0.0.1".parse().unwrap()));
///
/// let loopback: Cidr = "::1".parse().unwrap();
/// assert_eq!(loopback.to_string(), "::1/128");
/// assert!("10.0.0.0/33".parse::<Cidr>().is_err());
/// assert!("localhost".parse::<Cidr>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a [`Cidr`] did not parse.
///
/// ```
/// use axum_users_runtime::{Cidr, CidrError};
///
/// let err: CidrError = "10.0.0.0/40".parse::<Cidr>().unwrap_err();
/// assert!(!err.to_string().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CidrError(&'static str);

impl Cidr {
    /// The network `addr/prefix`; `None` when the prefix is longer than the address (32 bits
    /// for IPv4, 128 for IPv6).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use axum_users_runtime::Cidr;
    ///
    /// let net = Cidr::new(Ipv4Addr::new(192, 168, 7, 9).into(), 16).unwrap();
    /// assert_eq!(net.to_string(), "192.168.0.0/16");
    /// assert!(Cidr::new(Ipv4Addr::LOCALHOST.into(), 40).is_none());
    /// ```
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then(|| Cidr {
            network: mask(addr, prefix),
            prefix,
        })
    }

    /// Whether `addr` lies inside the network.
    ///
    /// ```
    /// let net: axum_users_runtime::Cidr = "2001:db8::/32".parse().unwrap();
    /// assert!(net.contains("2001:db8::1".parse().unwrap()));
    /// assert!(!net.contains("192.0.2.1".parse().unwrap()));
    /// ```
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        addr.is_ipv4() == self.network.is_ipv4() && mask(addr, self.prefix) == self.network
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| CidrError("not an IPv4 or IPv6 address"))?;
        let addr = addr.to_canonical();
        let prefix = match prefix {
            None => {
                if addr.is_ipv4() {
                    32
                } else {
                    128
                }
            }
            Some(prefix) if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) => {
                prefix
                    .parse()
                    .map_err(|_| CidrError("the prefix length is too long"))?
            }
            Some(_) => return Err(CidrError("the prefix length must be a number")),
        };
        Cidr::new(addr, prefix).ok_or(CidrError("the prefix length is too long"))
    }
}

/// `addr` with every bit after the first `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4((u32::from(v4) & bits).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & bits))
        }
    }
}

/// The client's address of a request: the socket's peer (`ConnectInfo<SocketAddr>`); when the
/// peer is one of the `trusted` proxies, the right-most `X-Forwarded-For` address that is not
/// itself trusted (every entry trusted: the left-most; a malformed entry before an untrusted
/// one, or no header: the peer). `None` without `ConnectInfo`.
pub(crate) fn client_ip(parts: &Parts, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    if !trusted.iter().any(|net| net.contains(peer)) {
        return Some(peer);
    }
    Some(forwarded_for(&parts.headers, trusted).unwrap_or(peer))
}

/// The client `X-Forwarded-For` names, read from the right (the entries the trusted proxies
/// appended) to the left (what the client may have forged).
fn forwarded_for(headers: &HeaderMap, trusted: &[Cidr]) -> Option<IpAddr> {
    let mut entries = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        entries.extend(value.to_str().ok()?.split(','));
    }
    let mut leftmost = None;
    for entry in entries.iter().rev() {
        let addr = parse_entry(entry.trim())?;
        if !trusted.iter().any(|net| net.contains(addr)) {
            return Some(addr);
        }
        leftmost = Some(addr);
    }
    leftmost
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`) or in brackets.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let addr = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse::<Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(addr.to_canonical())
}

/// The subject of a per-client limit: an IPv4 address, or the /64 network of an IPv6 address
/// (one host usually owns a whole /64, so counting single IPv6 addresses would let it rotate
/// through 2^64 of them).
pub(crate) fn client_subject(addr: IpAddr) -> String {
    match addr.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        v6 @ IpAddr::V6(_) => format!("{}/64", mask(v6, 64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: Option<&str>, xff: &[&str]) -> Parts {
        let mut request = Request::builder().uri("/");
        for value in xff {
            request = request.header("x-forwarded-for", *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!(
            "10.0.0.0/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "10.9.9.9/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "0.0.0.0/0".parse::<Cidr>().unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert_eq!("::/0".parse::<Cidr>().unwrap().to_string(), "::/0");
        assert_eq!(
            " 1.2.3.4 ".parse::<Cidr>().unwrap().to_string(),
            "1.2.3.4/32"
        );
        assert_eq!(
            "::ffff:10.0.0.0/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        for bad in [
            "",
            "/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/8/8",
            "10.0.0.0/999999999999999999999",
            "example.com",
            "10.0.0",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn cidr_membership() {
        let all4: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all4.contains(ip("255.255.255.255")));
        assert!(!all4.contains(ip("::1")));
        let net: Cidr = "fd00::/8".parse().unwrap();
        assert!(net.contains(ip("fd12::1")));
        assert!(!net.contains(ip("fe80::1")));
        let one: Cidr = "192.0.2.1/32".parse().unwrap();
        assert!(one.contains(ip("192.0.2.1")));
        assert!(!one.contains(ip("192.0.2.2")));
    }

    #[test]
    fn without_connect_info_there_is_no_client() {
        assert_eq!(client_ip(&parts(None, &["1.2.3.4"]), &[]), None);
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let p = parts(Some("203.0.113.9:4000"), &["1.2.3.4"]);
        assert_eq!(
            client_ip(&p, &nets(&["10.0.0.0/8"])),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client_ip(&p, &[]), Some(ip("203.0.113.9")));
    }

    #[test]
    fn a_trusted_peer_forwards_the_rightmost_untrusted_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let p = parts(Some("10.0.0.1:80"), &["6.6.6.6, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(client_ip(&p, &trusted), Some(ip("203.0.113.9")));
        // Several headers form one list.
        let p = parts(Some("10.0.0.1:80"), &["6.6.6.6", "203.0.113.9:1234"]);
        assert_eq!(client_ip(&p, &trusted), Some(ip("203.0.113.9")));
        let p = parts(Some("[::ffff:10.0.0.1]:80"), &["[2001:db8::5]"]);
        assert_eq!(client_ip(&p, &trusted), Some(ip("2001:db8::5")));
        // Every entry trusted: the left-most.
        let p = parts(Some("10.0.0.1:80"), &["10.0.0.3, 10.0.0.2"]);
        assert_eq!(client_ip(&p, &trusted), Some(ip("10.0.0.3")));
    }

    #[test]
    fn a_malformed_or_missing_header_means_the_peer() {
        let trusted = nets(&["10.0.0.0/8"]);
        for xff in [
            &["garbage"][..],
            &["1.2.3.4, "][..],
            &["1.2.3.4,,10.0.0.2"][..],
            &[][..],
        ] {
            let p = parts(Some("10.0.0.1:80"), xff);
            assert_eq!(client_ip(&p, &trusted), Some(ip("10.0.0.1")), "{xff:?}");
        }
        // A malformed entry left of the client is the client's own business.
        let p = parts(Some("10.0.0.1:80"), &["garbage, 203.0.113.9"]);
        assert_eq!(client_ip(&p, &trusted), Some(ip("203.0.113.9")));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(client_subject(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(client_subject(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            client_subject(ip("2001:db8:1:2:3:4:5:6")),
            client_subject(ip("2001:db8:1:2:ffff::1"))
        );
        assert_eq!(client_subject(ip("2001:db8:1:2::9")), "2001:db8:1:2::/64");
    }
}
