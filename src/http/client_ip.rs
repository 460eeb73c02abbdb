//! The caller's address for rate limits: the TCP peer, or, when the peer is a trusted proxy,
//! the address `X-Forwarded-For` names (the right-most one not itself a trusted proxy, since
//! everything left of it was written by the client and may be forged).

use actix_web::HttpRequest;
use std::net::IpAddr;
use std::str::FromStr;

/// Most `X-Forwarded-For` entries examined (a longer header is read from the right only).
const MAX_FORWARDED_HOPS: usize = 16;

/// An address block, `192.0.2.0/24` or `2001:db8::/32` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (network, ip, width) = match (self.network, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.prefix);
        // A shift of 128 would overflow: a /0 contains everything of its family.
        shift >= 128 || (network >> shift) == (ip >> shift)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed (server setting; empty: none).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(blocks: Vec<Cidr>) -> Self {
        Self(blocks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }

    /// The client's address: the peer's, or what a trusted proxy forwarded.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = canonical(req.peer_addr()?.ip());
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev().take(MAX_FORWARDED_HOPS) {
            match entry.trim().parse::<IpAddr>() {
                Ok(hop) if self.trusts(canonical(hop)) => client = canonical(hop),
                Ok(hop) => return Some(canonical(hop)),
                // Garbage from here on was not written by a proxy we trust.
                Err(_) => return Some(client),
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn proxies(blocks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(blocks.iter().map(|b| b.parse().unwrap()).collect())
    }

    #[test]
    fn cidr_blocks_parse_and_match() {
        let block: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(block.contains("10.1.2.3".parse().unwrap()));
        assert!(block.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("10.1.2.3".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let request = |peer: &str, xff: &str| {
            TestRequest::default()
                .peer_addr(peer.parse().unwrap())
                .insert_header(("X-Forwarded-For", xff))
                .to_http_request()
        };
        let trusted = proxies(&["10.0.0.0/8"]);
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // Untrusted peer: its own address, whatever it claims.
        assert_eq!(
            trusted.client_ip(&request("198.51.100.7:1", "1.2.3.4")),
            ip("198.51.100.7")
        );
        // Trusted peer: the right-most untrusted hop; forged entries to its left are ignored.
        assert_eq!(
            trusted.client_ip(&request("10.0.0.2:1", "6.6.6.6, 203.0.113.5, 10.0.0.9")),
            ip("203.0.113.5")
        );
        assert_eq!(
            trusted.client_ip(&request("10.0.0.2:1", "garbage")),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxies(&[]).client_ip(&request("10.0.0.2:1", "1.2.3.4")),
            ip("10.0.0.2")
        );
    }
}
