//! Source addresses and CIDR blocks of both families, for the `source_ip` rule condition and
//! a client's source pool (`source_ips`).
//!
//! AWS (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html>,
//! "Source IP address conditions"): a `source-ip` condition's values are IPv4 or IPv6
//! addresses in CIDR format; it matches the source address of the client's connection to
//! the load balancer. An IPv4 address never falls in an IPv6 block, and an IPv6 address never
//! in an IPv4 one (no IPv4-mapped matching: the model's dual-stack load balancer sees the
//! family the client connected with).
//!
//! Addresses are [`std::net::IpAddr`]; IPv4 blocks are [`Ipv4Cidr`] (also the subnets'
//! type); IPv6 blocks are [`Ipv6Cidr`], the same arithmetic on a `u128`. Matching an
//! IPv4 address against an IPv4 block is one mask and compare, as before IPv6 existed, plus
//! the family check.

use std::net::{IpAddr, Ipv6Addr};

use super::super::spec::Ipv4Cidr;

/// A block of IPv6 addresses in CIDR notation (`2001:db8::/32`): a base address and a prefix
/// length, 0–128.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv6Cidr {
    /// The block's first address as a `u128` (`Ipv6Addr::to_bits`).
    pub base: u128,
    /// The prefix length: how many leading bits are the network's, 0–128.
    pub prefix_len: u8,
}

impl Ipv6Cidr {
    /// The block `base/prefix_len`.
    pub const fn new(base: Ipv6Addr, prefix_len: u8) -> Self {
        Ipv6Cidr {
            base: base.to_bits(),
            prefix_len,
        }
    }

    /// The network mask as a `u128` (all ones for `/128`, zero for `/0`).
    pub const fn mask(self) -> u128 {
        if self.prefix_len == 0 {
            0
        } else if self.prefix_len >= 128 {
            u128::MAX
        } else {
            u128::MAX << (128 - self.prefix_len as u32)
        }
    }

    /// The block's network address: `base` with the host bits cleared.
    pub const fn network(self) -> u128 {
        self.base & self.mask()
    }

    /// True when `base` has no host bits set.
    pub const fn is_network_address(self) -> bool {
        self.base == self.network()
    }

    /// True when `ip` (as `Ipv6Addr::to_bits`) is in the block.
    pub const fn contains(self, ip: u128) -> bool {
        ip & self.mask() == self.network()
    }
}

impl std::fmt::Display for Ipv6Cidr {
    /// `2001:db8::/32`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv6Addr::from_bits(self.base), self.prefix_len)
    }
}

/// An IPv4 or IPv6 CIDR block, as a `source_ip` condition value or a source pool block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpCidr {
    /// An IPv4 block (prefix 0–32).
    V4(Ipv4Cidr),
    /// An IPv6 block (prefix 0–128).
    V6(Ipv6Cidr),
}

/// The weight, in addresses, an IPv6 block has at most in a client's source pool: 2^32,
/// the size of the whole IPv4 space (lbsim's choice: a pool draws each block with
/// probability proportional to its size, and an uncapped `/64` beside an IPv4 `/24` would
/// take every request).
pub const MAX_BLOCK_WEIGHT: u64 = 1 << 32;

impl IpCidr {
    /// True when `ip` is in the block; an address of the other family never is.
    #[inline]
    pub fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (IpCidr::V4(b), IpAddr::V4(a)) => b.contains(a.to_bits()),
            (IpCidr::V6(b), IpAddr::V6(a)) => b.contains(a.to_bits()),
            _ => false,
        }
    }

    /// The block's weight in a source pool: its number of addresses, at most
    /// [`MAX_BLOCK_WEIGHT`] (an IPv4 block is never capped).
    pub fn weight(self) -> u64 {
        match self {
            IpCidr::V4(b) => b.size(),
            IpCidr::V6(b) => {
                let host_bits = 128 - u32::from(b.prefix_len.min(128));
                if host_bits >= 32 {
                    MAX_BLOCK_WEIGHT
                } else {
                    1 << host_bits
                }
            }
        }
    }
}

impl std::fmt::Display for IpCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IpCidr::V4(b) => b.fmt(f),
            IpCidr::V6(b) => b.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    fn block6(s: &str, len: u8) -> IpCidr {
        IpCidr::V6(Ipv6Cidr::new(s.parse().unwrap(), len))
    }

    /// IPv6 blocks against addresses: inside, just outside, both edges, `/0`, `/128`, and
    /// the other family (never a match).
    #[test]
    fn ipv6_blocks_match_their_addresses_only() {
        let table: &[(&str, u8, &str, bool)] = &[
            // block, prefix, address, expected
            ("2001:db8::", 32, "2001:db8::1", true),
            (
                "2001:db8::",
                32,
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                true,
            ),
            ("2001:db8::", 32, "2001:db9::", false),
            (
                "2001:db8::",
                32,
                "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
                false,
            ),
            ("2001:db8:1:2::", 64, "2001:db8:1:2:abcd::9", true),
            ("2001:db8:1:2::", 64, "2001:db8:1:3::", false),
            ("2001:db8::7", 128, "2001:db8::7", true),
            ("2001:db8::7", 128, "2001:db8::8", false),
            ("::", 0, "ffff::1", true),
            ("::", 0, "::", true),
            ("fe80::", 10, "febf::1", true),
            ("fe80::", 10, "fec0::1", false),
            // An IPv4-mapped IPv6 address is an IPv6 address to a v6 block.
            ("::ffff:0:0", 96, "::ffff:10.0.0.1", true),
        ];
        for &(b, len, a, want) in table {
            assert_eq!(block6(b, len).contains(v6(a)), want, "{b}/{len} vs {a}");
        }
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert!(
            !block6("::", 0).contains(v4),
            "v6 /0 never holds an IPv4 address"
        );
        assert!(
            !block6("::ffff:0:0", 96).contains(v4),
            "no IPv4-mapped matching"
        );
        let any4 = IpCidr::V4(Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0));
        assert!(any4.contains(v4));
        assert!(
            !any4.contains(v6("::ffff:10.0.0.1")),
            "v4 /0 never holds an IPv6 address"
        );
        assert!(!any4.contains(v6("::")));
    }

    #[test]
    fn pool_weights_are_sizes_capped_at_the_ipv4_space() {
        assert_eq!(block6("2001:db8::", 120).weight(), 256);
        assert_eq!(block6("2001:db8::", 96).weight(), MAX_BLOCK_WEIGHT);
        assert_eq!(block6("2001:db8::", 64).weight(), MAX_BLOCK_WEIGHT);
        assert_eq!(block6("::", 0).weight(), MAX_BLOCK_WEIGHT);
        assert_eq!(block6("2001:db8::1", 128).weight(), 1);
        assert_eq!(
            IpCidr::V4(Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 0), 24)).weight(),
            256
        );
        assert_eq!(block6("2001:db8::", 32).to_string(), "2001:db8::/32");
    }
}
