//! The client's address, right even behind a reverse proxy, and address ranges.

use std::net::{IpAddr, SocketAddr};

/// An address or a CIDR range (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for IpRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("not an IP address: {s}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix length: {s}"))?,
            None => max,
        };
        Ok(IpRange { addr, prefix })
    }
}

impl IpRange {
    /// True when `ip` is inside the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// The client's address for a request: the peer, or, when the peer is a trusted proxy, the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(
    peer: Option<SocketAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpRange],
) -> String {
    let Some(peer) = peer.map(|p| p.ip()) else {
        return "unknown".into();
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let mut client = peer;
    if let Some(header) = forwarded_for {
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !is_trusted(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    client.to_string()
}

/// The client address of the current request (set by the middleware).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(
            s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            1234,
        ))
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpRange> = vec!["10.0.0.0/8".parse().unwrap_or(IpRange {
            addr: IpAddr::from([0, 0, 0, 0]),
            prefix: 32,
        })];
        assert_eq!(
            client_ip(peer("192.0.2.9"), Some("203.0.113.5"), &trusted),
            "192.0.2.9"
        );
        assert_eq!(
            client_ip(peer("10.1.2.3"), Some("203.0.113.5"), &trusted),
            "203.0.113.5"
        );
        // A client cannot spoof by prepending: the right-most untrusted hop wins.
        assert_eq!(
            client_ip(
                peer("10.1.2.3"),
                Some("198.51.100.1, 203.0.113.5, 10.9.9.9"),
                &trusted
            ),
            "203.0.113.5"
        );
        assert_eq!(
            client_ip(peer("10.1.2.3"), Some("garbage"), &trusted),
            "10.1.2.3"
        );
        assert_eq!(client_ip(None, None, &trusted), "unknown");
    }

    #[test]
    fn ranges_parse_and_match() {
        let r: IpRange = "2001:db8::/32".parse().unwrap_or(IpRange {
            addr: IpAddr::from([0, 0, 0, 0]),
            prefix: 32,
        });
        assert!(r.contains("2001:db8::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("nonsense".parse::<IpRange>().is_err());
    }
}
