//! `[[subnets]]`: how many (1–16, AWS's limit for one `awsvpcConfiguration`), names (unique),
//! Availability Zones (their shape) and CIDR blocks (an IPv4 block of /16 to /28 as AWS
//! allows, written as its network address, overlapping no other subnet).

use std::net::Ipv4Addr;

use super::{Ctx, MAX_SUBNETS};
use crate::model::ecs::network::{MAX_PREFIX_LEN, MIN_PREFIX_LEN, format_ip, usable_addresses};
use crate::model::{Ipv4Cidr, SubnetSpec};
use crate::scenario::file::SubnetSection;

/// The allowed prefix lengths, for messages.
fn allowed_prefixes() -> String {
    format!(
        "allowed /{MIN_PREFIX_LEN} (65,536 addresses) to /{MAX_PREFIX_LEN} (16 addresses, {} usable), as AWS allows for a subnet",
        usable_addresses(MAX_PREFIX_LEN)
    )
}

/// Checks `[[subnets]]`: `None` (absent) is lbsim's default network, which the model builds
/// from an empty list; `Some` must hold 1–[`MAX_SUBNETS`] valid subnets.
pub(super) fn resolve(ctx: &mut Ctx, subnets: Option<&[SubnetSection]>) -> Vec<SubnetSpec> {
    let Some(subnets) = subnets else {
        return Vec::new();
    };
    if subnets.is_empty() {
        ctx.bad(
            "subnets",
            format!(
                "no subnet given: give 1–{MAX_SUBNETS} [[subnets]] tables, or leave subnets out for lbsim's default network"
            ),
        );
    } else if subnets.len() > MAX_SUBNETS {
        ctx.bad(
            "subnets",
            format!(
                "{} [[subnets]]: at most {MAX_SUBNETS} are allowed (AWS: an awsvpcConfiguration takes at most {MAX_SUBNETS} subnets)",
                subnets.len()
            ),
        );
    }
    ctx.unique(
        "subnet",
        subnets
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("subnets.{i}.name"), s.name.as_str())),
    );
    let parsed: Vec<Option<Ipv4Cidr>> = subnets
        .iter()
        .enumerate()
        .map(|(i, s)| subnet(ctx, i, s))
        .collect();
    // Overlaps, each later subnet against the earlier ones (at most 16 × 15 / 2 pairs; with
    // too many subnets the count is the problem to report).
    if subnets.len() <= MAX_SUBNETS {
        for (j, b) in parsed.iter().enumerate() {
            let Some(b) = b else { continue };
            let earlier = parsed[..j]
                .iter()
                .enumerate()
                .find_map(|(i, a)| a.filter(|a| a.overlaps(*b)).map(|a| (i, a)));
            if let Some((i, a)) = earlier {
                ctx.bad(
                    format!("subnets.{j}.cidr"),
                    format!(
                        "\"{b}\" overlaps subnet \"{}\" (subnets.{i}.cidr = \"{a}\"); the subnets of one VPC must not overlap",
                        subnets[i].name
                    ),
                );
            }
        }
    }
    subnets
        .iter()
        .zip(parsed)
        .map(|(s, cidr)| SubnetSpec {
            name: s.name.clone(),
            availability_zone: s.availability_zone.clone(),
            cidr: cidr.unwrap_or(Ipv4Cidr {
                base: 0,
                prefix_len: MAX_PREFIX_LEN,
            }),
        })
        .collect()
}

/// Checks subnet `i`; returns its block when the CIDR is valid.
fn subnet(ctx: &mut Ctx, i: usize, s: &SubnetSection) -> Option<Ipv4Cidr> {
    let p = format!("subnets.{i}");
    ctx.name(&format!("{p}.name"), &s.name, "subnet", 64, true);
    if !is_zone_name(&s.availability_zone) {
        ctx.bad(
            format!("{p}.availability_zone"),
            format!(
                "\"{}\" is not an Availability Zone name: write the Region and a zone letter, like \"us-east-1a\" (1–64 lowercase letters, digits and hyphens, ending in a digit and a letter)",
                s.availability_zone
            ),
        );
    }
    match parse_cidr(&s.cidr) {
        Ok(c) => Some(c),
        Err(m) => {
            ctx.bad(format!("{p}.cidr"), m);
            None
        }
    }
}

/// True for an Availability Zone name's shape: `<region>-<digit><letter>` loosely, that is
/// 1–64 lowercase ASCII letters, digits and hyphens, with a hyphen, not beginning with one,
/// ending in a digit and a letter (`us-east-1a`, `eu-central-2c`, `us-gov-west-1b`,
/// `us-west-2-lax-1a` for a Local Zone). Zone IDs (`use1-az1`) are not names.
fn is_zone_name(az: &str) -> bool {
    let b = az.as_bytes();
    let n = b.len();
    (3..=64).contains(&n)
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.contains(&b'-')
        && b[0] != b'-'
        && b[n - 2].is_ascii_digit()
        && b[n - 1].is_ascii_lowercase()
}

/// Parses `a.b.c.d/len` into a subnet block: a /16–/28 prefix, no host bits set.
///
/// # Errors
/// A message naming the value and what is allowed.
fn parse_cidr(s: &str) -> Result<Ipv4Cidr, String> {
    let example = "write an IPv4 address and a prefix length, like \"10.0.0.0/24\"";
    let Some((addr, len)) = s.trim().split_once('/') else {
        return Err(format!("\"{s}\" is not a CIDR block: {example}"));
    };
    let addr: Ipv4Addr = addr.trim().parse().map_err(|_| {
        format!(
            "\"{s}\": \"{addr}\" is not an IPv4 address (four numbers 0–255 separated by dots); {example}"
        )
    })?;
    let len = len.trim();
    let prefix_len: u8 = match len.parse::<u8>() {
        Ok(l) if (MIN_PREFIX_LEN..=MAX_PREFIX_LEN).contains(&l) => l,
        Ok(l) => {
            let why = if l < MIN_PREFIX_LEN {
                "too large a block"
            } else {
                "too small a block"
            };
            return Err(format!("\"{s}\": /{l} is {why}; {}", allowed_prefixes()));
        }
        Err(_) => {
            return Err(format!(
                "\"{s}\": the prefix length \"{len}\" is not a number; {}",
                allowed_prefixes()
            ));
        }
    };
    let cidr = Ipv4Cidr::new(addr, prefix_len);
    if !cidr.is_network_address() {
        let network = format_ip(cidr.network());
        return Err(format!(
            "\"{s}\": host bits are set: a /{prefix_len} block must start at its network address, here {network} (write \"{network}/{prefix_len}\")"
        ));
    }
    Ok(cidr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_checked_loosely() {
        for ok in [
            "us-east-1a",
            "eu-central-2c",
            "us-gov-west-1b",
            "us-west-2-lax-1a",
        ] {
            assert!(is_zone_name(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "us-east-1",
            "US-EAST-1A",
            "use1-az1",
            "-us-east-1a",
            "us east 1a",
            "useast1a",
        ] {
            assert!(!is_zone_name(bad), "{bad}");
        }
    }

    #[test]
    fn cidrs_parse_or_say_why_not() {
        assert_eq!(
            parse_cidr("10.0.0.0/24").unwrap(),
            Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 0), 24)
        );
        assert_eq!(
            parse_cidr(" 172.16.32.0 / 20 ").unwrap(),
            Ipv4Cidr::new(Ipv4Addr::new(172, 16, 32, 0), 20)
        );
        let e = |s| parse_cidr(s).unwrap_err();
        assert!(e("10.0.0.0").contains("is not a CIDR block"));
        assert!(e("10.0.0.256/24").contains("is not an IPv4 address"));
        assert!(e("10.0.0/24").contains("is not an IPv4 address"));
        assert!(e("10.0.0.0/x").contains("the prefix length \"x\" is not a number"));
        assert!(e("10.0.0.0/33").contains("/33 is too small a block"));
        assert!(e("10.0.0.0/-1").contains("is not a number"));
        assert!(e("10.0.0.0/8").contains("/8 is too large a block"));
        assert!(e("10.0.0.128/24").contains("write \"10.0.0.0/24\""));
    }
}
