//! A client's request mix (`[[clients.requests]]`) and source address pool
//! (`source_ips`): what each request looks like to the listener's rules, and the CPU demand
//! its path overrides.
//!
//! Every draw is a keyed draw from the request's seed, with its own purpose: the entry
//! (`client/<name>/mix`), the numbers of a templated path (`client/<name>/path`) and the
//! source address (`client/<name>/source_ip`). A client with no mix and no pool draws
//! nothing, so adding the feature changes no existing run.

use std::borrow::Cow;

use super::super::ModelError;
use super::super::dist::Sampler;
use super::super::elb::rules::{DEFAULT_HOST, RequestView, render_path};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::super::spec::{ClientSpec, DistSpec, IpCidr};
use crate::engine::{self, keyed};

/// The highest number a templated path segment (`{id}`) takes: each is drawn uniformly
/// from 1–`TEMPLATE_MAX` (lbsim's choice).
pub const TEMPLATE_MAX: u64 = 1_000_000;

/// One entry of a client's request mix.
#[derive(Clone, Debug)]
pub struct MixEntrySpec {
    /// Relative weight, > 0: the entry's share is weight / Σ weights.
    pub weight: f64,
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// `Host` header; `None` is [`DEFAULT_HOST`].
    pub host: Option<String>,
    /// Path; `{name}` segments are templated (a number drawn per request, 1–[`TEMPLATE_MAX`]).
    pub path: String,
    /// Query string parameters, in order.
    pub query: Vec<(String, String)>,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// CPU demand of requests on this path, replacing the draw of every CPU step of the
    /// serving service's profile (its `cpu_time`, or each `cpu` step); `None` keeps the
    /// service's.
    pub cpu_time: Option<DistSpec>,
}

impl Default for MixEntrySpec {
    /// `GET /` with weight 1, the default host, nothing else.
    fn default() -> Self {
        MixEntrySpec {
            weight: 1.0,
            method: "GET".into(),
            host: None,
            path: "/".into(),
            query: Vec::new(),
            headers: Vec::new(),
            cpu_time: None,
        }
    }
}

/// A compiled mix: entries, cumulative weights, draw keys, CPU overrides.
#[derive(Clone, Debug)]
pub struct Mix {
    entries: Vec<MixEntrySpec>,
    /// Cumulative weights, normalised to end at 1.
    cumulative: Vec<f64>,
    mix_key: u64,
    path_key: u64,
    /// Per entry: its CPU sampler and key (`client/<name>/mix/<i>/cpu_time`).
    cpu: Vec<Option<(Sampler, u64)>>,
    /// Some entry overrides the CPU demand.
    pub overrides_cpu: bool,
    /// Some entry has a templated path.
    pub templated: bool,
    /// The client has a user mix (else: one `GET /` entry, drawn without a draw).
    pub user: bool,
}

/// The source address pool: blocks and their cumulative weights.
///
/// A block is drawn with probability proportional to its weight ([`IpCidr::weight`]: its
/// size, an IPv6 block's capped at 2^32), then an address uniformly in it. One keyed draw of
/// a `u64` below the total picks both the block and, for an IPv4 block (or an IPv6 block of
/// at most 2^32 addresses), the address; a larger IPv6 block draws its host bits with a
/// second `u128` from the same keyed stream.
#[derive(Clone, Debug, Default)]
pub struct SourcePool {
    blocks: Vec<(IpCidr, u64)>,
    total: u64,
    key: u64,
}

impl SourcePool {
    /// The pool of `c`.
    pub fn new(seed: u64, c: &ClientSpec) -> SourcePool {
        let mut total = 0;
        let blocks = c
            .source_ips
            .iter()
            .map(|b| {
                total += b.weight();
                (*b, total)
            })
            .collect();
        SourcePool {
            blocks,
            total,
            key: engine::stream_key(seed, &format!("client/{}/source_ip", c.name)),
        }
    }

    /// True with no block (every request from 0.0.0.0).
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The source address of the request whose seed is `seed` (0.0.0.0 with no pool).
    pub fn address(&self, seed: u64) -> IpAddr {
        use rand::RngExt;
        if self.total == 0 {
            return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        }
        let mut rng = keyed(self.key, seed);
        let x = rng.random_range(0..self.total);
        let i = self.blocks.partition_point(|&(_, end)| end <= x);
        let (b, end) = self.blocks[i];
        let offset = x - (end - b.weight());
        match b {
            IpCidr::V4(b) => {
                IpAddr::V4(Ipv4Addr::from_bits(b.network().wrapping_add(offset as u32)))
            }
            IpCidr::V6(b) => {
                // At most 2^32 addresses (a prefix of 96 or more): the weight is the size.
                let host = if b.prefix_len >= 96 {
                    u128::from(offset)
                } else {
                    rng.random::<u128>() & !b.mask()
                };
                IpAddr::V6(Ipv6Addr::from_bits(b.network() | host))
            }
        }
    }
}

impl Mix {
    /// The mix of client `c` (the default `GET /` if it names none).
    ///
    /// # Errors
    /// A [`ModelError`] for a bad CPU distribution or a non-positive weight.
    pub fn new(seed: u64, c: &ClientSpec) -> Result<Mix, ModelError> {
        let user = !c.requests.is_empty();
        let entries = if user {
            c.requests.clone()
        } else {
            vec![MixEntrySpec::default()]
        };
        if entries.len() > usize::from(u16::MAX) {
            return Err(ModelError::Unsupported(format!(
                "client {}: more than {} request mix entries",
                c.name,
                u16::MAX
            )));
        }
        let total: f64 = entries.iter().map(|e| e.weight).sum();
        if entries
            .iter()
            .any(|e| !(e.weight.is_finite() && e.weight >= 0.0))
            || !(total > 0.0 && total.is_finite())
        {
            return Err(ModelError::Unsupported(format!(
                "client {}: request mix weights must be ≥ 0, finite and not all 0",
                c.name
            )));
        }
        let mut acc = 0.0;
        let cumulative = entries
            .iter()
            .map(|e| {
                acc += e.weight;
                acc / total
            })
            .collect();
        let mut cpu = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            cpu.push(match &e.cpu_time {
                None => None,
                Some(d) => Some((
                    Sampler::new(d, &format!("clients.{}.requests.{i}.cpu_time", c.name))?,
                    engine::stream_key(seed, &format!("client/{}/mix/{i}/cpu_time", c.name)),
                )),
            });
        }
        Ok(Mix {
            overrides_cpu: cpu.iter().any(Option::is_some),
            templated: entries.iter().any(|e| e.path.contains('{')),
            entries,
            cumulative,
            mix_key: engine::stream_key(seed, &format!("client/{}/mix", c.name)),
            path_key: engine::stream_key(seed, &format!("client/{}/path", c.name)),
            cpu,
            user,
        })
    }

    /// The entry of the request whose seed is `seed` (0 without a user mix: no draw).
    pub fn entry_of(&self, seed: u64) -> u16 {
        use rand::RngExt;
        if self.entries.len() == 1 {
            return 0;
        }
        let u: f64 = keyed(self.mix_key, seed).random();
        let i = self.cumulative.partition_point(|&c| c <= u);
        i.min(self.entries.len() - 1) as u16
    }

    /// The entries.
    pub fn entries(&self) -> &[MixEntrySpec] {
        &self.entries
    }

    /// Entry `i`'s CPU override (sampler, key), if any.
    #[inline]
    pub fn cpu(&self, i: u16) -> Option<&(Sampler, u64)> {
        self.cpu.get(usize::from(i)).and_then(Option::as_ref)
    }

    /// The path of entry `i` for the request whose seed is `seed`: templated segments
    /// filled with keyed draws (1–[`TEMPLATE_MAX`]).
    pub fn path(&self, i: u16, seed: u64) -> Cow<'_, str> {
        use rand::RngExt;
        let mut rng = keyed(self.path_key, seed);
        render_path(&self.entries[usize::from(i)].path, || {
            rng.random_range(1..=TEMPLATE_MAX)
        })
    }

    /// What the rules see of entry `i` with `path` (from [`Mix::path`]) and `source_ip`.
    pub fn view<'a>(&'a self, i: u16, path: &'a str, source_ip: IpAddr) -> RequestView<'a> {
        let e = &self.entries[usize::from(i)];
        RequestView {
            method: &e.method,
            host: e.host.as_deref().unwrap_or(DEFAULT_HOST),
            path,
            query: &e.query,
            headers: &e.headers,
            source_ip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(requests: Vec<MixEntrySpec>, ips: Vec<IpCidr>) -> ClientSpec {
        ClientSpec {
            name: "c".into(),
            requests,
            source_ips: ips,
            ..Default::default()
        }
    }

    #[test]
    fn entries_follow_weights_and_paths_are_templated() {
        let e = |w, p: &str| MixEntrySpec {
            weight: w,
            path: p.into(),
            ..Default::default()
        };
        let m = Mix::new(1, &client(vec![e(3.0, "/a/{id}"), e(1.0, "/b")], vec![])).unwrap();
        let mut n = [0; 2];
        for s in 0..8000u64 {
            n[usize::from(m.entry_of(s.wrapping_mul(0x9E37_79B9_7F4A_7C15)))] += 1;
        }
        assert!((5700..6300).contains(&n[0]), "{n:?}");
        let p = m.path(0, 42);
        let id: u64 = p.strip_prefix("/a/").unwrap().parse().unwrap();
        assert!((1..=TEMPLATE_MAX).contains(&id));
        assert_eq!(
            m.path(0, 42),
            p,
            "a keyed draw: the same request, the same path"
        );
        assert!(m.templated && m.user && !m.overrides_cpu);
        let d = Mix::new(1, &client(vec![], vec![])).unwrap();
        assert_eq!(d.entry_of(5), 0);
        assert_eq!(d.view(0, "/", Ipv4Addr::UNSPECIFIED.into()).method, "GET");
    }

    #[test]
    fn source_addresses_stay_in_the_pool() {
        use crate::model::{Ipv4Cidr, Ipv6Cidr};
        let b = |a, l| IpCidr::V4(Ipv4Cidr::new(a, l));
        let b6 = |a: &str, l| IpCidr::V6(Ipv6Cidr::new(a.parse().unwrap(), l));
        // Mixed families: 4 + 256 IPv4 addresses and 4 IPv6 ones, drawn by size.
        // Two IPv6 blocks of weight 2^32: a /64 (capped) and a /96 (exact).
        for (blocks, want) in [
            (
                vec![
                    b(Ipv4Addr::new(10, 0, 0, 0), 30),
                    b(Ipv4Addr::new(192, 168, 1, 0), 24),
                    b6("2001:db8:2::", 126),
                ],
                [4.0 / 264.0, 256.0 / 264.0, 4.0 / 264.0],
            ),
            (
                vec![b6("2001:db8:1::", 64), b6("2001:db8:3::", 96)],
                [0.5, 0.5, 0.0],
            ),
        ] {
            let c = client(vec![], blocks);
            let pool = SourcePool::new(1, &c);
            let mut n = [0u32; 3];
            let mut low_bits = 0u128;
            for s in 0..8000u64 {
                let ip = pool.address(s.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let i = c.source_ips.iter().position(|b| b.contains(ip));
                n[i.expect("in the pool")] += 1;
                if let IpAddr::V6(a) = ip {
                    low_bits |= a.to_bits() & u128::from(u64::MAX);
                }
            }
            for (k, w) in want.iter().enumerate() {
                let got = f64::from(n[k]) / 8000.0;
                assert!((got - w).abs() < 0.02, "block {k}: {n:?} vs {want:?}");
            }
            if want[2] == 0.0 {
                assert_eq!(
                    low_bits,
                    u128::from(u64::MAX),
                    "the /64's host bits all vary"
                );
            }
        }
        assert_eq!(
            SourcePool::new(1, &client(vec![], vec![])).address(9),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
