//! Which addresses outbound fetches may connect to: the public internet only.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges refused (address, prefix length), with why.
const V4_DENY: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network", the unspecified address
    (0x0a00_0000, 8),  // 10/8 private (RFC 1918)
    (0x6440_0000, 10), // 100.64/10 carrier-grade NAT (RFC 6598)
    (0x7f00_0000, 8),  // 127/8 loopback
    (0xa9fe_0000, 16), // 169.254/16 link-local (cloud metadata services live here)
    (0xac10_0000, 12), // 172.16/12 private
    (0xc000_0000, 24), // 192.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2/24 documentation
    (0xc058_6300, 24), // 192.88.99/24 6to4 relay anycast (deprecated)
    (0xc0a8_0000, 16), // 192.168/16 private
    (0xc612_0000, 15), // 198.18/15 benchmarking
    (0xc633_6400, 24), // 198.51.100/24 documentation
    (0xcb00_7100, 24), // 203.0.113/24 documentation
    (0xe000_0000, 4),  // 224/4 multicast
    (0xf000_0000, 4),  // 240/4 reserved, and 255.255.255.255 broadcast
];

/// IPv6 ranges refused inside global unicast 2000::/3 (everything outside it is refused anyway).
const V6_DENY: &[(u128, u8)] = &[
    (0x2001_0000 << 96, 23), // 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID)
    (0x2001_0db8 << 96, 32), // 2001:db8::/32 documentation
    (0x3fff_0000 << 96, 20), // 3fff::/20 documentation (RFC 9637)
];

fn in_prefix<T>(addr: T, net: T, len: u8, bits: u32) -> bool
where
    T: Copy + std::ops::Shr<u32, Output = T> + PartialEq,
{
    let shift = bits - u32::from(len);
    addr >> shift == net >> shift
}

fn v4_allowed(ip: Ipv4Addr) -> bool {
    let n = u32::from(ip);
    !V4_DENY.iter().any(|&(net, len)| in_prefix(n, net, len, 32))
}

fn v6_allowed(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    let embedded = |shift: u32| Ipv4Addr::from((n >> shift) as u32);
    // Forms that carry an IPv4 address are judged by it: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d
    // (deprecated, but some stacks still route it), NAT64 64:ff9b::a.b.c.d, and 6to4 2002:aabb:ccdd::.
    if in_prefix(n, 0xffff << 32, 96, 128) || in_prefix(n, 0, 96, 128) {
        return v4_allowed(embedded(0));
    }
    if in_prefix(n, 0x0064_ff9b << 96, 96, 128) {
        return v4_allowed(embedded(0));
    }
    if in_prefix(n, 0x2002 << 112, 16, 128) {
        return v4_allowed(embedded(80));
    }
    // Global unicast only: this refuses ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8, 100::/64, 64:ff9b:1::/48.
    in_prefix(n, 0x2000 << 112, 3, 128) && !V6_DENY.iter().any(|&(net, len)| in_prefix(n, net, len, 128))
}

/// Whether an outbound fetch may connect to `ip`: a public unicast address. Refused: loopback, private
/// (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT (100.64/10), unspecified, multicast,
/// broadcast, documentation, benchmarking and reserved ranges; IPv6 forms embedding an IPv4 address are
/// judged by that address.
pub fn ip_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_allowed(v4),
        IpAddr::V6(v6) => v6_allowed(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        ip_allowed(s.parse().unwrap())
    }

    #[test]
    fn refused_ranges() {
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.0.1",
            "192.0.0.1",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "239.1.1.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b:1::1",
            "2002:7f00:0001::1",
            "2002:0a00:0001::",
            "fc00::1",
            "fdff::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2001:2::1",
            "3fff::1",
            "::ffff:0.0.0.0",
        ] {
            assert!(!ok(bad), "{bad} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for good in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(ok(good), "{good} must pass");
        }
    }
}
