//! IP networks as keys' allowlists and trusted proxies are written: a CIDR
//! or a single address (a /32 or /128).

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses `value` as a CIDR or one address; the network's host bits are
/// cleared (`10.1.2.3/8` is `10.0.0.0/8`).
pub fn parse(value: &str) -> Option<IpNet> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .ok()
        .or_else(|| value.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|n| n.trunc())
}

/// Whether `ip` is in one of `networks`, IPv4-mapped IPv6 addresses
/// counting as their IPv4 address.
pub fn contains(networks: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    networks.iter().any(|n| n.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_and_single_addresses() {
        assert_eq!(parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(parse("2001:db8::/32").unwrap().to_string(), "2001:db8::/32");
        assert!(parse("10.0.0.0/33").is_none());
        assert!(parse("example.com").is_none());
        let nets = [parse("192.0.2.0/24").unwrap()];
        assert!(contains(&nets, "192.0.2.9".parse().unwrap()));
        assert!(contains(&nets, "::ffff:192.0.2.9".parse().unwrap()));
        assert!(!contains(&nets, "198.51.100.1".parse().unwrap()));
    }
}
