//! The network a service's tasks take their addresses from (the awsvpc network mode), and
//! the service throttle that spaces out launches that keep failing.
//!
//! Fargate runs every task in the awsvpc network mode: each task has its own elastic network
//! interface with one private IPv4 address from one of the subnets of the service's
//! `awsvpcConfiguration`, held from PROVISIONING until DEPROVISIONING ends
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking.html>). A
//! launch that finds no free address in any subnet fails with
//! `InsufficientFreeAddressesInSubnet` (the task reached PROVISIONING, then stops), and the
//! service retries with a growing back-off: [`LaunchThrottle`].
//!
//! [`Network`] is the model's view of those subnets, shared by every service (each service
//! uses all of them):
//! - **addresses**: AWS reserves 5 addresses of each subnet, the network address, `.1` (the
//!   VPC router), `.2` (DNS), `.3` (future use) and the last (broadcast), so a `/24` has 251
//!   usable addresses and a `/28` 11
//!   (<https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html>);
//! - **placement**: Fargate spreads a service's tasks over the Availability Zones of its
//!   subnets; a launch goes to the zone with the fewest tasks of the service (ECS-DG
//!   `ecs_services.html`; ties: the zone listed first), and, if that zone has no free address,
//!   to the next-fewest;
//! - **which address**: AWS does not say which free address a new interface gets. The model
//!   gives the lowest never-used address first, and only then addresses released earlier,
//!   oldest release first, so a replacement task gets a new IP rather than the one its
//!   predecessor just freed (which would hide the churn in the outputs).
//!
//! Everything is deterministic: plain `Vec`s, a FIFO and ordered maps, no hashing.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use crate::engine::SimDuration;
use crate::model::ids::ServiceId;
use crate::model::spec::{Ipv4Cidr, SubnetSpec};

/// Addresses AWS reserves in every subnet: the first four (network address, VPC router, DNS,
/// future use) and the last (broadcast)
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html>).
pub const RESERVED_PER_SUBNET: u32 = 5;
/// The shortest subnet prefix AWS allows: `/16` (65,536 addresses).
pub const MIN_PREFIX_LEN: u8 = 16;
/// The longest subnet prefix AWS allows: `/28` (16 addresses, 11 usable).
pub const MAX_PREFIX_LEN: u8 = 28;
/// The reason a launch stops with when no subnet has a free address (ECS's stop code).
pub const INSUFFICIENT_FREE_ADDRESSES: &str = "InsufficientFreeAddressesInSubnet";

/// The first delay of the [`LaunchThrottle`]: 10 s (a calibrated guess, see there).
pub const THROTTLE_FIRST_DELAY: SimDuration = SimDuration::from_secs(10);
/// The longest delay of the [`LaunchThrottle`]: 15 minutes, as AWS says ("up to a maximum of
/// 15 minutes").
pub const THROTTLE_MAX_DELAY: SimDuration = SimDuration::from_secs(15 * 60);

/// Usable addresses in a subnet of prefix length `prefix_len` (its size less the
/// [`RESERVED_PER_SUBNET`]): 251 for a `/24`, 11 for a `/28`, 65,531 for a `/16`; 0 for a
/// prefix longer than `/29`, which has no more than 5 addresses.
pub const fn usable_addresses(prefix_len: u8) -> u32 {
    if prefix_len > 29 {
        return 0;
    }
    let size = 1u64 << (32 - prefix_len as u32);
    (size - RESERVED_PER_SUBNET as u64) as u32
}

/// An IPv4 address in dotted-quad form (`10.0.0.4`).
pub fn format_ip(ip: u32) -> String {
    Ipv4Addr::from_bits(ip).to_string()
}

/// Why a [`Network`] cannot be built, or a lease cannot be given back.
///
/// (The model's own guard: `scenario` validation reports bad subnets first, with the file,
/// line and field.)
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// A subnet the model cannot use: a prefix outside `/16`–`/28`, host bits set, an empty
    /// name or zone, a name used twice, or a block overlapping another subnet's.
    #[error("subnet {subnet}: {why}")]
    InvalidSubnet {
        /// The subnet's name.
        subnet: String,
        /// What is wrong.
        why: String,
    },
    /// [`Network::release`] or [`Network::stop_counting`] of a lease the network did not
    /// give out, or gave back already.
    #[error("the address {ip} of subnet {subnet} is not leased to service {service}")]
    NotLeased {
        /// The lease's address, dotted.
        ip: String,
        /// The lease's subnet index (or name when it exists).
        subnet: String,
        /// The lease's service index.
        service: u32,
    },
}

/// No subnet has a free address: the launch fails with
/// [`INSUFFICIENT_FREE_ADDRESSES`] (`InsufficientFreeAddressesInSubnet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "InsufficientFreeAddressesInSubnet: no free address in any of the {subnets} subnets ({addresses} usable addresses, all leased)"
)]
pub struct Exhausted {
    /// The number of subnets, all full.
    pub subnets: u32,
    /// Their usable addresses in all, all leased.
    pub addresses: u64,
}

/// One address given to one task: which service, subnet, Availability Zone and IP. Give it
/// back with [`Network::release`] when the task's DEPROVISIONING ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lease {
    /// The service whose task holds it.
    pub service: ServiceId,
    /// Index of the subnet, in [`Network::subnets`].
    pub subnet: u32,
    /// Index of the Availability Zone, in [`Network::availability_zones`].
    pub az: u32,
    /// The address, as a `u32` ([`format_ip`] writes it dotted).
    pub ip: u32,
}

/// One subnet: its block, its Availability Zone and its address pool.
#[derive(Clone, Debug)]
pub struct Subnet {
    name: String,
    az: u32,
    cidr: Ipv4Cidr,
    /// The next never-used address; `end` once every usable address was leased once.
    next_fresh: u32,
    /// One past the last usable address (the broadcast address, reserved).
    end: u32,
    /// Addresses given back, oldest release first.
    released: VecDeque<u32>,
    /// Leased addresses: the service holding each, and whether the task still counts for
    /// the service's spread over zones.
    leased: BTreeMap<u32, (ServiceId, bool)>,
}

impl Subnet {
    /// The subnet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Index of its Availability Zone, in [`Network::availability_zones`].
    pub fn az(&self) -> u32 {
        self.az
    }

    /// Its IPv4 block.
    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    /// Usable addresses: the block's size less the 5 AWS reserves.
    pub fn usable(&self) -> u32 {
        usable_addresses(self.cidr.prefix_len)
    }

    /// Addresses leased now.
    pub fn leased(&self) -> u32 {
        self.leased.len() as u32
    }

    /// Free addresses now: never used, or released.
    pub fn free(&self) -> u32 {
        (self.end - self.next_fresh) + self.released.len() as u32
    }

    /// Takes the next address: the lowest never-used one, else the one released longest ago.
    fn take(&mut self, service: ServiceId) -> Option<u32> {
        let ip = if self.next_fresh < self.end {
            self.next_fresh += 1;
            self.next_fresh - 1
        } else {
            self.released.pop_front()?
        };
        self.leased.insert(ip, (service, true));
        Some(ip)
    }
}

/// The subnets every service's tasks take their addresses from, the Availability Zones they
/// are in, and how many tasks of each service each zone has. See the [module](self) docs.
#[derive(Clone, Debug)]
pub struct Network {
    subnets: Vec<Subnet>,
    /// Zone names, in the order they first appear among the subnets.
    azs: Vec<String>,
    /// Each zone's subnet indices, in scenario order.
    az_subnets: Vec<Vec<u32>>,
    /// Tasks counted for the spread, by service index then zone index (grown on demand).
    live: Vec<Vec<u32>>,
}

impl Network {
    /// The network of `subnets`, in their order; empty means lbsim's default network
    /// ([`SubnetSpec::default_network`]).
    ///
    /// # Errors
    /// [`NetworkError::InvalidSubnet`] for a prefix outside `/16`–`/28`, a block with host
    /// bits set, an empty name or zone, a name used twice, or two overlapping blocks (naming
    /// both).
    pub fn build(subnets: &[SubnetSpec]) -> Result<Network, NetworkError> {
        let default;
        let specs = if subnets.is_empty() {
            default = SubnetSpec::default_network();
            &default[..]
        } else {
            subnets
        };
        let bad = |s: &SubnetSpec, why: String| NetworkError::InvalidSubnet {
            subnet: s.name.clone(),
            why,
        };
        let mut names = BTreeMap::new();
        for s in specs {
            if s.name.is_empty() {
                return Err(bad(s, "the name is empty".into()));
            }
            if s.availability_zone.is_empty() {
                return Err(bad(s, "the Availability Zone is empty".into()));
            }
            if !(MIN_PREFIX_LEN..=MAX_PREFIX_LEN).contains(&s.cidr.prefix_len) {
                return Err(bad(
                    s,
                    format!(
                        "{}: the prefix must be /{MIN_PREFIX_LEN} to /{MAX_PREFIX_LEN} (AWS)",
                        s.cidr
                    ),
                ));
            }
            if !s.cidr.is_network_address() {
                return Err(bad(
                    s,
                    format!(
                        "{}: host bits are set (the block's network address is {})",
                        s.cidr,
                        format_ip(s.cidr.network())
                    ),
                ));
            }
            if names.insert(s.name.as_str(), ()).is_some() {
                return Err(bad(s, "the name is used twice".into()));
            }
        }
        // Overlaps: sorted by first address, a block overlapping any other overlaps the one
        // just before it or one that reaches further (tracked as `reach`).
        let mut order: Vec<usize> = (0..specs.len()).collect();
        order.sort_by_key(|&i| (specs[i].cidr.base, i));
        let mut reach: Option<usize> = None;
        for &i in &order {
            if let Some(r) = reach {
                if specs[r].cidr.overlaps(specs[i].cidr) {
                    let (a, b) = (r.min(i), r.max(i));
                    return Err(bad(
                        &specs[b],
                        format!(
                            "{} overlaps subnet {} ({})",
                            specs[b].cidr, specs[a].name, specs[a].cidr
                        ),
                    ));
                }
            }
            if reach.is_none_or(|r| specs[i].cidr.last() > specs[r].cidr.last()) {
                reach = Some(i);
            }
        }
        let mut azs: Vec<String> = Vec::new();
        let mut az_subnets: Vec<Vec<u32>> = Vec::new();
        let mut built = Vec::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            let az = match azs.iter().position(|a| *a == s.availability_zone) {
                Some(a) => a,
                None => {
                    azs.push(s.availability_zone.clone());
                    az_subnets.push(Vec::new());
                    azs.len() - 1
                }
            };
            az_subnets[az].push(i as u32);
            let network = s.cidr.network();
            built.push(Subnet {
                name: s.name.clone(),
                az: az as u32,
                cidr: s.cidr,
                next_fresh: network + 4,
                end: s.cidr.last(),
                released: VecDeque::new(),
                leased: BTreeMap::new(),
            });
        }
        Ok(Network {
            subnets: built,
            azs,
            az_subnets,
            live: Vec::new(),
        })
    }

    /// The subnets, in scenario order.
    pub fn subnets(&self) -> &[Subnet] {
        &self.subnets
    }

    /// The Availability Zones' names, in the order they first appear among the subnets.
    pub fn availability_zones(&self) -> &[String] {
        &self.azs
    }

    /// The name of zone `az`, or `""` if there is no such zone.
    pub fn az_name(&self, az: u32) -> &str {
        self.azs.get(az as usize).map_or("", String::as_str)
    }

    /// The name of subnet `subnet`, or `""` if there is no such subnet.
    pub fn subnet_name(&self, subnet: u32) -> &str {
        self.subnets.get(subnet as usize).map_or("", Subnet::name)
    }

    /// Tasks of `service` counted in zone `az`: those that took an address there and have
    /// not stopped counting ([`Network::stop_counting`]) nor released it. 0 for an unknown
    /// service or zone.
    pub fn live(&self, service: ServiceId, az: u32) -> u32 {
        self.live
            .get(service.index())
            .and_then(|z| z.get(az as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Free addresses over every subnet.
    pub fn free(&self) -> u64 {
        self.subnets.iter().map(|s| u64::from(s.free())).sum()
    }

    /// Gives a task of `service` an address: in the zone with the fewest tasks of the
    /// service (ties: the zone listed first), in that zone's first subnet with a free
    /// address; if the zone has none, the next-fewest zone, and so on. The address is the
    /// subnet's lowest never-used one, else the one released longest ago. The task counts
    /// in its zone from now.
    ///
    /// # Errors
    /// [`Exhausted`] when no subnet has a free address (the launch fails with
    /// `InsufficientFreeAddressesInSubnet`).
    pub fn allocate(&mut self, service: ServiceId) -> Result<Lease, Exhausted> {
        let mut zones: Vec<u32> = (0..self.azs.len() as u32).collect();
        zones.sort_by_key(|&az| (self.live(service, az), az));
        for az in zones {
            for &subnet in &self.az_subnets[az as usize] {
                if let Some(ip) = self.subnets[subnet as usize].take(service) {
                    *self.live_mut(service, az) += 1;
                    return Ok(Lease {
                        service,
                        subnet,
                        az,
                        ip,
                    });
                }
            }
        }
        Err(Exhausted {
            subnets: self.subnets.len() as u32,
            addresses: self.subnets.iter().map(|s| u64::from(s.usable())).sum(),
        })
    }

    /// The task holding `lease` stops counting towards its service's spread over zones (it
    /// crashed or is being stopped) but keeps its address until [`Network::release`]. Doing
    /// it twice is harmless.
    ///
    /// # Errors
    /// [`NetworkError::NotLeased`] if the network did not give out `lease` or has it back.
    pub fn stop_counting(&mut self, lease: &Lease) -> Result<(), NetworkError> {
        let counted = self.held(lease)?;
        if *counted {
            *counted = false;
            self.uncount(lease);
        }
        Ok(())
    }

    /// Gives `lease`'s address back (the task's DEPROVISIONING ended): it is free again,
    /// behind the never-used addresses and the addresses released before it. The task stops
    /// counting in its zone if it still did.
    ///
    /// # Errors
    /// [`NetworkError::NotLeased`] if the network did not give out `lease` or has it back.
    pub fn release(&mut self, lease: Lease) -> Result<(), NetworkError> {
        let counted = *self.held(&lease)?;
        let subnet = &mut self.subnets[lease.subnet as usize];
        subnet.leased.remove(&lease.ip);
        subnet.released.push_back(lease.ip);
        if counted {
            self.uncount(&lease);
        }
        Ok(())
    }

    /// The "still counted" flag of `lease`, if the network gave it out and does not have it
    /// back.
    fn held(&mut self, lease: &Lease) -> Result<&mut bool, NetworkError> {
        let not_leased = |name: &str| NetworkError::NotLeased {
            ip: format_ip(lease.ip),
            subnet: if name.is_empty() {
                lease.subnet.to_string()
            } else {
                name.to_string()
            },
            service: lease.service.0,
        };
        let Some(subnet) = self.subnets.get_mut(lease.subnet as usize) else {
            return Err(not_leased(""));
        };
        if subnet.az != lease.az {
            return Err(not_leased(&subnet.name));
        }
        match subnet.leased.get_mut(&lease.ip) {
            Some((service, counted)) if *service == lease.service => Ok(counted),
            _ => Err(not_leased(&subnet.name)),
        }
    }

    /// One task fewer of `lease.service` in `lease.az`.
    fn uncount(&mut self, lease: &Lease) {
        let n = self.live_mut(lease.service, lease.az);
        *n = n.saturating_sub(1);
    }

    /// The count of `service`'s tasks in zone `az`, growing the table as needed.
    fn live_mut(&mut self, service: ServiceId, az: u32) -> &mut u32 {
        let zones = self.azs.len();
        if self.live.len() <= service.index() {
            self.live
                .resize_with(service.index() + 1, || vec![0; zones]);
        }
        &mut self.live[service.index()][az as usize]
    }
}

/// The ECS service throttle: the wait before a service retries a launch after launches kept
/// failing before RUNNING (such as `InsufficientFreeAddressesInSubnet`).
///
/// AWS says only that the scheduler waits a growing back-off between retries, "up to a
/// maximum of 15 minutes"
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-throttle-logic.html>),
/// and publishes no sequence. lbsim's sequence is a calibrated guess: the first delay is
/// 10 s, each next one doubles (10 s, 20 s, 40 s, 80 s, 160 s, 320 s, 640 s), then 900 s
/// (15 min) for every retry after; a task that launches successfully resets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchThrottle {
    next: SimDuration,
    failures: u32,
}

impl Default for LaunchThrottle {
    /// No failures yet: the next delay is [`THROTTLE_FIRST_DELAY`].
    fn default() -> Self {
        LaunchThrottle {
            next: THROTTLE_FIRST_DELAY,
            failures: 0,
        }
    }
}

impl LaunchThrottle {
    /// A throttle with no failures yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A launch failed: the delay before the next try, and the one after it doubles, up to
    /// [`THROTTLE_MAX_DELAY`].
    pub fn next_delay(&mut self) -> SimDuration {
        let d = self.next;
        self.failures = self.failures.saturating_add(1);
        self.next = SimDuration(self.next.0.saturating_mul(2)).min(THROTTLE_MAX_DELAY);
        d
    }

    /// A launch succeeded: the next failure waits [`THROTTLE_FIRST_DELAY`] again.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Failures since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(name: &str, az: &str, cidr: &str) -> SubnetSpec {
        let (ip, len) = cidr.split_once('/').unwrap();
        SubnetSpec {
            name: name.into(),
            availability_zone: az.into(),
            cidr: Ipv4Cidr::new(ip.parse().unwrap(), len.parse().unwrap()),
        }
    }

    const S: ServiceId = ServiceId(0);

    #[test]
    fn aws_reserves_five_addresses_per_subnet() {
        assert_eq!(usable_addresses(24), 251);
        assert_eq!(usable_addresses(28), 11);
        assert_eq!(usable_addresses(16), 65_531);
        assert_eq!(usable_addresses(30), 0);
        // The first address given is .4 (.0–.3 reserved), the last .254 (.255 reserved).
        let mut n = Network::build(&[subnet("a", "us-east-1a", "10.0.0.0/24")]).unwrap();
        assert_eq!(n.subnets()[0].usable(), 251);
        assert_eq!(n.subnets()[0].free(), 251);
        let ips: Vec<String> = (0..251)
            .map(|_| format_ip(n.allocate(S).unwrap().ip))
            .collect();
        assert_eq!(ips[0], "10.0.0.4");
        assert_eq!(ips[250], "10.0.0.254");
        assert_eq!(n.subnets()[0].free(), 0);
        assert_eq!(n.subnets()[0].leased(), 251);
        assert!(n.allocate(S).is_err());
    }

    #[test]
    fn a_slash_28_has_eleven_usable_addresses() {
        let mut n = Network::build(&[subnet("a", "us-east-1a", "192.168.7.16/28")]).unwrap();
        let ips: Vec<u32> = (0..11).map(|_| n.allocate(S).unwrap().ip).collect();
        assert_eq!(format_ip(ips[0]), "192.168.7.20");
        assert_eq!(format_ip(ips[10]), "192.168.7.30");
        assert_eq!(
            n.allocate(S),
            Err(Exhausted {
                subnets: 1,
                addresses: 11
            })
        );
    }

    #[test]
    fn the_default_network_is_three_slash_24s_in_three_zones() {
        let n = Network::build(&[]).unwrap();
        assert_eq!(
            n.availability_zones(),
            ["us-east-1a", "us-east-1b", "us-east-1c"]
        );
        let cidrs: Vec<String> = n.subnets().iter().map(|s| s.cidr().to_string()).collect();
        assert_eq!(cidrs, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]);
        assert_eq!(n.free(), 753);
        assert_eq!(n.subnet_name(1), "subnet-b");
        assert_eq!(n.az_name(2), "us-east-1c");
        assert_eq!(n.az_name(3), "");
    }

    #[test]
    fn launches_spread_over_zones_fewest_first_ties_to_the_first_listed() {
        let mut n = Network::build(&[]).unwrap();
        let zones: Vec<u32> = (0..7).map(|_| n.allocate(S).unwrap().az).collect();
        assert_eq!(zones, [0, 1, 2, 0, 1, 2, 0]);
        // Another service spreads on its own counts.
        let other = ServiceId(3);
        assert_eq!(n.allocate(other).unwrap().az, 0);
        assert_eq!(n.live(S, 0), 3);
        assert_eq!(n.live(other, 0), 1);
        assert_eq!(n.live(other, 1), 0);
    }

    #[test]
    fn a_replacement_goes_to_the_zone_that_lost_a_task() {
        let mut n = Network::build(&[]).unwrap();
        let leases: Vec<Lease> = (0..3).map(|_| n.allocate(S).unwrap()).collect();
        // The task in zone b crashes: it stops counting at once, but keeps its address
        // through DEPROVISIONING.
        n.stop_counting(&leases[1]).unwrap();
        n.stop_counting(&leases[1]).unwrap(); // harmless twice
        assert_eq!(n.subnets()[1].leased(), 1);
        let replacement = n.allocate(S).unwrap();
        assert_eq!(replacement.az, 1);
        assert_eq!(format_ip(replacement.ip), "10.0.1.5", "a new address");
        n.release(leases[1]).unwrap();
        assert_eq!(n.subnets()[1].leased(), 1);
        assert_eq!(n.live(S, 1), 1);
    }

    #[test]
    fn a_full_zone_sends_the_launch_to_the_next_fewest() {
        let mut n = Network::build(&[
            subnet("a", "us-east-1a", "10.0.0.0/28"),
            subnet("b", "us-east-1b", "10.0.1.0/24"),
        ])
        .unwrap();
        let zones: Vec<u32> = (0..30).map(|_| n.allocate(S).unwrap().az).collect();
        assert_eq!(zones.iter().filter(|&&z| z == 0).count(), 11);
        assert_eq!(zones.iter().filter(|&&z| z == 1).count(), 19);
        // Within a zone, its first subnet with a free address.
        let mut n = Network::build(&[
            subnet("a1", "us-east-1a", "10.0.0.0/28"),
            subnet("b", "us-east-1b", "10.0.1.0/28"),
            subnet("a2", "us-east-1a", "10.0.2.0/28"),
        ])
        .unwrap();
        assert_eq!(n.availability_zones(), ["us-east-1a", "us-east-1b"]);
        let subnets: Vec<u32> = (0..33).map(|_| n.allocate(S).unwrap().subnet).collect();
        assert_eq!(subnets.iter().filter(|&&s| s == 0).count(), 11);
        assert_eq!(subnets.iter().filter(|&&s| s == 1).count(), 11);
        assert_eq!(subnets.iter().filter(|&&s| s == 2).count(), 11);
        assert_eq!(subnets[..4], [0, 1, 0, 1]);
        assert!(subnets[22..].iter().all(|&s| s == 2), "{subnets:?}");
        assert_eq!(
            n.allocate(S),
            Err(Exhausted {
                subnets: 3,
                addresses: 33
            })
        );
    }

    #[test]
    fn released_addresses_are_reused_only_after_the_never_used_ones_oldest_first() {
        let mut n = Network::build(&[subnet("a", "us-east-1a", "10.0.0.0/28")]).unwrap();
        let leases: Vec<Lease> = (0..4).map(|_| n.allocate(S).unwrap()).collect();
        n.release(leases[2]).unwrap(); // .6
        n.release(leases[0]).unwrap(); // .4
        // Never-used .8 to .14 come first, then .6 and .4, in release order.
        let next: Vec<String> = (0..9)
            .map(|_| format_ip(n.allocate(S).unwrap().ip))
            .collect();
        assert_eq!(
            next,
            [
                "10.0.0.8",
                "10.0.0.9",
                "10.0.0.10",
                "10.0.0.11",
                "10.0.0.12",
                "10.0.0.13",
                "10.0.0.14",
                "10.0.0.6",
                "10.0.0.4"
            ]
        );
        assert!(n.allocate(S).is_err());
        assert_eq!(n.free(), 0);
    }

    #[test]
    fn exhaustion_recovers_when_an_address_is_released() {
        let mut n = Network::build(&[subnet("a", "us-east-1a", "10.0.0.0/28")]).unwrap();
        let leases: Vec<Lease> = (0..11).map(|_| n.allocate(S).unwrap()).collect();
        let e = n.allocate(S).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("InsufficientFreeAddressesInSubnet: no free address"),
            "{e}"
        );
        n.release(leases[5]).unwrap();
        assert_eq!(n.allocate(S).unwrap().ip, leases[5].ip);
    }

    #[test]
    fn a_lease_not_held_is_an_error_not_a_panic() {
        let mut n = Network::build(&[]).unwrap();
        let lease = n.allocate(S).unwrap();
        n.release(lease).unwrap();
        let e = n.release(lease).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the address 10.0.0.4 of subnet subnet-a is not leased to service 0"
        );
        assert!(n.stop_counting(&lease).is_err());
        let forged = Lease { subnet: 9, ..lease };
        assert!(n.release(forged).is_err());
        let lease = n.allocate(S).unwrap();
        let wrong_service = Lease {
            service: ServiceId(1),
            ..lease
        };
        assert!(n.release(wrong_service).is_err());
        let wrong_zone = Lease { az: 2, ..lease };
        assert!(n.release(wrong_zone).is_err());
        assert_eq!(n.live(S, lease.az), 1);
    }

    #[test]
    fn bad_subnets_are_errors_naming_the_subnet() {
        let err = |specs: &[SubnetSpec]| Network::build(specs).unwrap_err().to_string();
        assert_eq!(
            err(&[subnet("x", "us-east-1a", "10.0.0.0/29")]),
            "subnet x: 10.0.0.0/29: the prefix must be /16 to /28 (AWS)"
        );
        assert_eq!(
            err(&[subnet("x", "us-east-1a", "10.0.0.0/15")]),
            "subnet x: 10.0.0.0/15: the prefix must be /16 to /28 (AWS)"
        );
        assert_eq!(
            err(&[subnet("x", "us-east-1a", "10.0.0.1/24")]),
            "subnet x: 10.0.0.1/24: host bits are set (the block's network address is 10.0.0.0)"
        );
        assert_eq!(
            err(&[
                subnet("big", "us-east-1a", "10.0.0.0/16"),
                subnet("y", "us-east-1b", "10.1.0.0/24"),
                subnet("small", "us-east-1c", "10.0.200.0/24"),
            ]),
            "subnet small: 10.0.200.0/24 overlaps subnet big (10.0.0.0/16)"
        );
        // An overlap hidden behind a block that reaches further.
        assert_eq!(
            err(&[
                subnet("big", "us-east-1a", "10.0.0.0/16"),
                subnet("mid", "us-east-1b", "10.0.1.0/24"),
                subnet("late", "us-east-1c", "10.0.9.0/24"),
            ]),
            "subnet mid: 10.0.1.0/24 overlaps subnet big (10.0.0.0/16)"
        );
        assert_eq!(
            err(&[
                subnet("x", "us-east-1a", "10.0.0.0/24"),
                subnet("x", "us-east-1b", "10.0.1.0/24"),
            ]),
            "subnet x: the name is used twice"
        );
        assert_eq!(
            err(&[subnet("x", "", "10.0.0.0/24")]),
            "subnet x: the Availability Zone is empty"
        );
        // Adjacent blocks do not overlap.
        assert!(
            Network::build(&[
                subnet("a", "us-east-1a", "10.0.0.0/25"),
                subnet("b", "us-east-1a", "10.0.0.128/25"),
                subnet("top", "us-east-1b", "255.255.0.0/16"),
            ])
            .is_ok()
        );
    }

    #[test]
    fn the_throttle_doubles_from_ten_seconds_up_to_fifteen_minutes() {
        let mut t = LaunchThrottle::new();
        let delays: Vec<u64> = (0..10).map(|_| t.next_delay().0 / 1_000_000_000).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
        assert_eq!(t.failures(), 10);
        t.reset();
        assert_eq!(t.failures(), 0);
        assert_eq!(t.next_delay(), THROTTLE_FIRST_DELAY);
        assert_eq!(t.next_delay(), SimDuration::from_secs(20));
        // It never overflows, however many failures.
        for _ in 0..200 {
            assert!(t.next_delay() <= THROTTLE_MAX_DELAY);
        }
    }
}
