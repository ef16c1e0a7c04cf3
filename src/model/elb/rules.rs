//! Listener rules and actions: conditions, their matching, and the actions a listener runs.
//!
//! AWS semantics (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html>,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html>):
//! a listener's rules are evaluated in priority order, lowest value first (1–50000); the
//! first rule whose conditions all match runs its action; the default rule (no
//! conditions) comes last. Within one condition the values are ORed, separate conditions
//! are ANDed.
//!
//! Per condition:
//! - `path_pattern`: case-sensitive, `*` (0 or more characters) and `?` (exactly one);
//!   matched against the path only, not the query string.
//! - `host_header`: case-insensitive, `*` and `?`.
//! - `http_header`: header name case-insensitive (no wildcards), values case-insensitive
//!   with `*` and `?`.
//! - `http_request_method`: case-sensitive, exact.
//! - `query_string`: key/value pairs, case-insensitive, `*` and `?`; a pair without a key
//!   matches any parameter with that value.
//! - `source_ip`: IPv4 and IPv6 CIDR blocks, against the connection's source address; an
//!   address never matches a block of the other family (see [`super::source_ip`]).
//!
//! Matching is on ASCII: `?` matches one byte and case folding is ASCII's.
//!
//! The model evaluates rules when a request arrives (before the load balancer's processing
//! time). A request whose client has no request mix is `GET /` with host
//! [`DEFAULT_HOST`], no headers and no query string.

use std::borrow::Cow;

use super::super::ids::TargetGroupId;
use super::super::outcome::Cause;
use super::super::spec::ActionSpec;
use super::source_ip::IpCidr;
use crate::engine::{SimDuration, keyed};

/// Lowest and highest rule priority (AWS: 1–50000; ALB-UG `load-balancer-access-logs.html`
/// records "a value from 1 to 50,000").
pub const PRIORITY_RANGE: (u32, u32) = (1, 50_000);

/// The host of a request whose client has no request mix (or whose mix entry names none):
/// lbsim's placeholder, not an AWS name.
pub const DEFAULT_HOST: &str = "example.com";

/// One listener rule: a priority, its conditions and its action.
#[derive(Clone, Debug, Default)]
pub struct RuleSpec {
    /// 1–50000, unique per listener; lower runs first.
    pub priority: u32,
    /// All must match (AND); each is true if any of its values matches (OR). No condition
    /// at all matches every request.
    pub conditions: ConditionsSpec,
    /// What the rule does with a request that matches.
    pub action: ActionSpec,
}

/// A rule's conditions. Empty lists are absent conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionsSpec {
    /// `path-pattern` values (case-sensitive, wildcards).
    pub path_pattern: Vec<String>,
    /// `host-header` values (case-insensitive, wildcards).
    pub host_header: Vec<String>,
    /// `http-request-method` values (case-sensitive, exact).
    pub http_request_method: Vec<String>,
    /// `source-ip` CIDR blocks, IPv4 or IPv6.
    pub source_ip: Vec<IpCidr>,
    /// `http-header` conditions, each ANDed with the others.
    pub http_header: Vec<HttpHeaderCondition>,
    /// `query-string` key/value pairs (one condition: any pair may match).
    pub query_string: Vec<QueryStringPair>,
}

/// An `http-header` condition: a header name and the values it may have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpHeaderCondition {
    /// Header name (case-insensitive, no wildcards).
    pub name: String,
    /// Values (case-insensitive, wildcards); any may match.
    pub values: Vec<String>,
}

/// A `query-string` pair: a parameter key (optional) and value, both case-insensitive with
/// wildcards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryStringPair {
    /// Parameter name; `None` matches any parameter with the value.
    pub key: Option<String>,
    /// Parameter value.
    pub value: String,
}

/// One target group of a weighted forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightedTargetGroup {
    /// Index into [`WorldSpec::target_groups`](crate::model::WorldSpec::target_groups).
    pub target_group: usize,
    /// 0–999; the group's share is weight / Σ weights.
    pub weight: u32,
}

/// Target-group stickiness of a weighted forward (`TargetGroupStickinessConfig`, cookie
/// `AWSALBTG`): a client that was sent to one group keeps going to it for `duration`.
/// Range 1 s–7 days (604800 s) per the API
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html>).
///
/// Applies to requests with a session (closed-loop users, open-loop `sessions`): see
/// [`group_stickiness`](super::group_stickiness), which keeps the cookies and asks
/// [`WeightedForward::sticky_group`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupStickinessSpec {
    /// Whether stickiness is on.
    pub enabled: bool,
    /// How long a client stays on its group, 1 s–7 days.
    pub duration: SimDuration,
}

/// What a rule matches against: one request's method, host, path, query string, headers
/// and source address.
#[derive(Clone, Copy, Debug)]
pub struct RequestView<'a> {
    /// HTTP method (`GET`).
    pub method: &'a str,
    /// `Host` header.
    pub host: &'a str,
    /// Path, without the query string.
    pub path: &'a str,
    /// Query string parameters (key, value).
    pub query: &'a [(String, String)],
    /// Headers (name, value).
    pub headers: &'a [(String, String)],
    /// Connection source address (IPv4 or IPv6).
    pub source_ip: std::net::IpAddr,
}

/// True if `text` matches `pattern`, where `*` matches 0 or more characters and `?`
/// exactly one (ASCII; `ignore_case` folds ASCII case). Linear-time greedy matching with
/// one backtrack point (the last `*`).
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || (p[pi] != b'*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The number of wildcards (`*`, `?`) in `s`.
pub fn wildcards(s: &str) -> usize {
    s.bytes().filter(|&c| c == b'*' || c == b'?').count()
}

impl ConditionsSpec {
    /// True if every condition matches `r` (AND), each by any of its values (OR).
    pub fn matches(&self, r: &RequestView<'_>) -> bool {
        let any = |vals: &[String], text: &str, ci: bool| {
            vals.is_empty() || vals.iter().any(|v| wildcard_match(v, text, ci))
        };
        any(&self.path_pattern, r.path, false)
            && any(&self.host_header, r.host, true)
            && (self.http_request_method.is_empty()
                || self.http_request_method.iter().any(|m| m == r.method))
            && (self.source_ip.is_empty() || self.source_ip.iter().any(|c| c.contains(r.source_ip)))
            && self.http_header.iter().all(|h| {
                r.headers.iter().any(|(n, v)| {
                    n.eq_ignore_ascii_case(&h.name)
                        && h.values.iter().any(|p| wildcard_match(p, v, true))
                })
            })
            && (self.query_string.is_empty()
                || self.query_string.iter().any(|q| {
                    r.query.iter().any(|(k, v)| {
                        q.key
                            .as_deref()
                            .is_none_or(|qk| wildcard_match(qk, k, true))
                            && wildcard_match(&q.value, v, true)
                    })
                }))
    }

    /// Condition values counted as AWS counts them towards its 5-per-rule limit: each
    /// value of each condition (an `http_header`'s values; a query pair counts once).
    pub fn values(&self) -> usize {
        self.path_pattern.len()
            + self.host_header.len()
            + self.http_request_method.len()
            + self.source_ip.len()
            + self
                .http_header
                .iter()
                .map(|h| h.values.len())
                .sum::<usize>()
            + self.query_string.len()
    }

    /// Wildcards (`*`, `?`) in every value of the rule (AWS limit: 5 per rule).
    pub fn wildcards(&self) -> usize {
        self.path_pattern
            .iter()
            .map(|s| wildcards(s))
            .sum::<usize>()
            + self.host_header.iter().map(|s| wildcards(s)).sum::<usize>()
            + self
                .http_header
                .iter()
                .flat_map(|h| &h.values)
                .map(|s| wildcards(s))
                .sum::<usize>()
            + self
                .query_string
                .iter()
                .map(|q| q.key.as_deref().map_or(0, wildcards) + wildcards(&q.value))
                .sum::<usize>()
    }

    /// True if the outcome may depend on the request's source address.
    pub fn uses_source_ip(&self) -> bool {
        !self.source_ip.is_empty()
    }
}

/// A weighted forward, compiled: the groups, their weights (changeable at run time), and
/// the key of its per-request draw.
#[derive(Clone, Debug)]
pub struct WeightedForward {
    /// The target groups.
    pub groups: Vec<TargetGroupId>,
    /// Their weights, 0–999 each, not all 0.
    pub weights: Vec<u32>,
    total: u32,
    /// Key of the keyed draw that picks the group.
    key: u64,
    /// Target-group stickiness, if enabled (see [`GroupStickinessSpec`]).
    pub stickiness: Option<SimDuration>,
    /// Index of its cookie table in the load balancer's
    /// ([`group_stickiness::NO_TABLE`](super::group_stickiness::NO_TABLE): none, when
    /// stickiness is off or no client has sessions).
    cookies: u32,
}

impl WeightedForward {
    /// A weighted forward over `groups` (weights not all 0), drawing with `key`.
    pub fn new(
        groups: Vec<TargetGroupId>,
        weights: Vec<u32>,
        key: u64,
        stickiness: Option<SimDuration>,
    ) -> WeightedForward {
        let total = weights.iter().sum();
        WeightedForward {
            groups,
            weights,
            total,
            key,
            stickiness,
            cookies: super::group_stickiness::NO_TABLE,
        }
    }

    /// Index of its `AWSALBTG` cookie table in the load balancer, or
    /// [`NO_TABLE`](super::group_stickiness::NO_TABLE).
    #[inline]
    pub fn cookie_table(&self) -> u32 {
        self.cookies
    }

    /// Gives it cookie table `table` (set when the run's sessions are known).
    pub(in crate::model) fn set_cookie_table(&mut self, table: u32) {
        self.cookies = table;
    }

    /// Replaces the weights (one per group, 0–999, not all 0).
    ///
    /// # Errors
    /// A message if the count differs from the groups', a weight exceeds 999 or all are 0.
    pub fn set_weights(&mut self, weights: &[u32]) -> Result<(), String> {
        if weights.len() != self.groups.len() {
            return Err(format!(
                "{} weights for {} target groups",
                weights.len(),
                self.groups.len()
            ));
        }
        if let Some(w) = weights.iter().find(|&&w| w > 999) {
            return Err(format!("weight {w}: must be 0–999"));
        }
        if weights.iter().all(|&w| w == 0) {
            return Err("all weights are 0: at least one must be positive".into());
        }
        self.weights.copy_from_slice(weights);
        self.total = weights.iter().sum();
        Ok(())
    }

    /// The group for the request whose seed is `seed`: group i with probability
    /// weight_i / Σ weights (a keyed draw, so the same request picks the same point of
    /// [0, Σ) whatever happened before).
    #[inline]
    pub fn pick(&self, seed: u64) -> TargetGroupId {
        use rand::RngExt;
        let mut x = keyed(self.key, seed).random_range(0..self.total);
        for (g, &w) in self.groups.iter().zip(&self.weights) {
            if x < w {
                return *g;
            }
            x -= w;
        }
        *self.groups.last().expect("a weighted forward has groups")
    }

    /// The hook for target-group stickiness: the group a client session stuck to earlier
    /// (`AWSALBTG` cookie, `stuck`), if stickiness is on, still within its duration
    /// (`age` since the cookie was set or renewed) and the group is still in the forward
    /// with a positive weight; `None` means pick with [`WeightedForward::pick`]. Called for
    /// each request of a session by
    /// [`GroupCookies::choose`](super::group_stickiness::GroupCookies::choose).
    pub fn sticky_group(&self, stuck: TargetGroupId, age: SimDuration) -> Option<TargetGroupId> {
        let d = self.stickiness?;
        (age < d
            && self
                .groups
                .iter()
                .zip(&self.weights)
                .any(|(g, &w)| *g == stuck && w > 0))
        .then_some(stuck)
    }
}

/// A compiled action.
#[derive(Clone, Debug)]
pub enum Action {
    /// Forward to one target group.
    Forward(TargetGroupId),
    /// Forward to one of several target groups by weight.
    Weighted(WeightedForward),
    /// Answer with a redirect to a listener of this load balancer.
    Redirect {
        /// Index of the listener the client re-sends to.
        listener: u8,
        /// The host, path and query it re-sends with; `None`: unchanged.
        rewrite: Option<Box<super::redirect::RewriteSpec>>,
        /// [`Cause::Redirect301`] or [`Cause::Redirect302`].
        cause: Cause,
    },
    /// Answer with a fixed response.
    Fixed {
        /// The exact status code (2XX, 4XX, 5XX).
        status: u16,
        /// Its class: [`Cause::FixedResponse2xx`], `4xx` or `5xx`.
        cause: Cause,
    },
}

impl Action {
    /// The exact status code this action answers with, if the load balancer answers
    /// (redirect, fixed response).
    pub fn status(&self) -> Option<u16> {
        match self {
            Action::Redirect { cause, .. } => Some(cause.status()),
            Action::Fixed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The cause of a fixed response with status `code` (2XX, 4XX or 5XX).
    pub fn fixed_cause(code: u16) -> Cause {
        match code / 100 {
            2 => Cause::FixedResponse2xx,
            4 => Cause::FixedResponse4xx,
            _ => Cause::FixedResponse5xx,
        }
    }
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// 1–50000.
    pub priority: u32,
    /// Its conditions.
    pub conditions: ConditionsSpec,
    /// Its action.
    pub action: Action,
}

/// A compiled listener: port, protocol, rules in priority order and default action.
#[derive(Clone, Debug)]
pub struct Listener {
    /// Port.
    pub port: u16,
    /// `HTTP` or `HTTPS`.
    pub protocol: String,
    /// Rules, sorted by priority.
    pub rules: Vec<Rule>,
    /// The default rule's action.
    pub default: Action,
}

/// Rules processed per request that an LCU does not bill (the first 10).
pub const FREE_RULE_EVALUATIONS: usize = 10;

impl Listener {
    /// The index of the rule that handles `r` (its position in [`Listener::rules`], or
    /// `rules.len()` for the default rule) and its action.
    pub fn decide(&self, r: &RequestView<'_>) -> (u8, &Action) {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.conditions.matches(r) {
                return (i as u8, &rule.action);
            }
        }
        (self.rules.len() as u8, &self.default)
    }

    /// The rule evaluations an LCU bills for a request that rule `index` handled
    /// ([`Listener::decide`]; `rules.len()`: the default action): the rules it processed,
    /// in priority order up to the one that matched (all of them for the default), beyond
    /// the first 10, which are free
    /// (<https://aws.amazon.com/elasticloadbalancing/pricing/>, "Rule Evaluations").
    pub fn billed_rule_evaluations(&self, index: u8) -> u64 {
        let processed = (usize::from(index) + 1).min(self.rules.len());
        processed.saturating_sub(FREE_RULE_EVALUATIONS) as u64
    }

    /// The action of rule `index` (`rules.len()`: the default).
    pub fn action(&self, index: u8) -> &Action {
        self.rules
            .get(usize::from(index))
            .map_or(&self.default, |r| &r.action)
    }

    /// The target group every request goes to if the listener has no rule and its default
    /// action forwards to one group (the fast path); `None` otherwise.
    pub fn static_forward(&self) -> Option<TargetGroupId> {
        match (&self.default, self.rules.is_empty()) {
            (Action::Forward(tg), true) => Some(*tg),
            _ => None,
        }
    }

    /// The priority of rule `index`, `None` for the default rule.
    pub fn priority(&self, index: u8) -> Option<u32> {
        self.rules.get(usize::from(index)).map(|r| r.priority)
    }
}

/// Renders `path` with each `{name}` segment replaced by a number from `next`, or borrows
/// it unchanged when it has no template.
pub fn render_path(path: &str, mut next: impl FnMut() -> u64) -> Cow<'_, str> {
    if !path.contains('{') {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str(&next().to_string());
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(
        method: &'a str,
        host: &'a str,
        path: &'a str,
        query: &'a [(String, String)],
        headers: &'a [(String, String)],
    ) -> RequestView<'a> {
        RequestView {
            method,
            host,
            path,
            query,
            headers,
            source_ip: std::net::Ipv4Addr::new(10, 1, 2, 3).into(),
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// AWS's documented examples (ALB-UG `rule-condition-types.html`): path patterns
    /// `/img/*`, `/img/*/pics`, `/js/*`, host `*.example.com`, `?` matching one character.
    #[test]
    fn wildcards_follow_the_aws_examples() {
        let table: &[(&str, &str, bool, bool)] = &[
            // pattern, text, ignore_case, expected
            ("/img/*", "/img/logo.png", false, true),
            ("/img/*", "/img", false, false),
            ("/img/*", "/img/", false, true),
            ("/img/*/pics", "/img/2024/pics", false, true),
            ("/img/*/pics", "/img/2024/pics/x", false, false),
            ("/js/*", "/JS/app.js", false, false), // path is case-sensitive
            ("*.example.com", "www.example.com", true, true),
            ("*.example.com", "WWW.EXAMPLE.COM", true, true), // host is not
            ("*.example.com", "example.com", true, false),
            ("example.com", "example.com", true, true),
            ("?.example.com", "a.example.com", true, true),
            ("?.example.com", "ab.example.com", true, false),
            ("/api/v?/users", "/api/v2/users", false, true),
            ("*", "", false, true),
            ("", "", false, true),
            ("", "/", false, false),
            ("/a*b*c", "/aXXbYYc", false, true),
            ("/a*b*c", "/aXXbYY", false, false),
            ("**", "anything", false, true),
        ];
        for &(p, t, ci, want) in table {
            assert_eq!(wildcard_match(p, t, ci), want, "{p} vs {t}");
        }
    }

    #[test]
    fn conditions_are_or_within_and_across() {
        let c = ConditionsSpec {
            path_pattern: s(&["/api/*", "/v2/*"]),
            http_request_method: s(&["GET", "POST"]),
            ..Default::default()
        };
        assert!(c.matches(&view("GET", "h", "/api/x", &[], &[])));
        assert!(c.matches(&view("POST", "h", "/v2/x", &[], &[])));
        assert!(!c.matches(&view("PUT", "h", "/api/x", &[], &[])));
        assert!(
            !c.matches(&view("get", "h", "/api/x", &[], &[])),
            "method is case-sensitive"
        );
        assert!(!c.matches(&view("GET", "h", "/other", &[], &[])));
    }

    #[test]
    fn path_pattern_ignores_the_query_string_and_query_matches_case_insensitively() {
        let q = vec![("Version".to_string(), "V2".to_string())];
        let c = ConditionsSpec {
            path_pattern: s(&["/api"]),
            ..Default::default()
        };
        assert!(c.matches(&view("GET", "h", "/api", &q, &[])));
        let c = ConditionsSpec {
            query_string: vec![QueryStringPair {
                key: Some("version".into()),
                value: "v*".into(),
            }],
            ..Default::default()
        };
        assert!(c.matches(&view("GET", "h", "/", &q, &[])));
        assert!(!c.matches(&view("GET", "h", "/", &[], &[])));
        let any_key = ConditionsSpec {
            query_string: vec![QueryStringPair {
                key: None,
                value: "v2".into(),
            }],
            ..Default::default()
        };
        assert!(any_key.matches(&view("GET", "h", "/", &q, &[])));
    }

    #[test]
    fn headers_and_source_ips() {
        let h = vec![("x-canary".to_string(), "Yes".to_string())];
        let c = ConditionsSpec {
            http_header: vec![HttpHeaderCondition {
                name: "X-Canary".into(),
                values: s(&["y*"]),
            }],
            source_ip: vec![IpCidr::V4(crate::model::Ipv4Cidr::new(
                std::net::Ipv4Addr::new(10, 0, 0, 0),
                8,
            ))],
            ..Default::default()
        };
        assert!(c.matches(&view("GET", "h", "/", &[], &h)));
        assert!(!c.matches(&view("GET", "h", "/", &[], &[])));
        let mut r = view("GET", "h", "/", &[], &h);
        r.source_ip = std::net::Ipv4Addr::new(192, 168, 0, 1).into();
        assert!(!c.matches(&r));
    }

    #[test]
    fn first_match_by_priority_wins_and_default_is_last() {
        let rule = |priority, path: &str, code| Rule {
            priority,
            conditions: ConditionsSpec {
                path_pattern: s(&[path]),
                ..Default::default()
            },
            action: Action::Fixed {
                status: code,
                cause: Action::fixed_cause(code),
            },
        };
        let l = Listener {
            port: 80,
            protocol: "HTTP".into(),
            rules: vec![rule(5, "/api/users/*", 201), rule(10, "/api/*", 202)],
            default: Action::Fixed {
                status: 404,
                cause: Cause::FixedResponse4xx,
            },
        };
        let d = |p| {
            let (i, a) = l.decide(&view("GET", "h", p, &[], &[]));
            (i, a.status())
        };
        assert_eq!(d("/api/users/1"), (0, Some(201)));
        assert_eq!(d("/api/orders/1"), (1, Some(202)));
        assert_eq!(d("/"), (2, Some(404)));
        assert_eq!(l.priority(2), None);
        assert!(l.static_forward().is_none());
    }

    /// LCU rule evaluations: the rules processed up to the match (all of them for the
    /// default action), the first 10 free.
    #[test]
    fn rule_evaluations_beyond_the_first_ten_are_billed() {
        let rule = |priority: u32| Rule {
            priority,
            conditions: ConditionsSpec {
                path_pattern: s(&[&format!("/r{priority}")]),
                ..Default::default()
            },
            action: Action::Forward(TargetGroupId(0)),
        };
        let l = Listener {
            port: 80,
            protocol: "HTTP".into(),
            rules: (1..=14).map(rule).collect(),
            default: Action::Forward(TargetGroupId(0)),
        };
        let billed = |p| l.billed_rule_evaluations(l.decide(&view("GET", "h", p, &[], &[])).0);
        assert_eq!(billed("/r1"), 0);
        assert_eq!(billed("/r10"), 0);
        assert_eq!(billed("/r11"), 1);
        assert_eq!(billed("/r14"), 4);
        assert_eq!(billed("/none"), 4);
        let few = Listener {
            rules: (1..=3).map(rule).collect(),
            ..l.clone()
        };
        assert_eq!(few.billed_rule_evaluations(3), 0);
    }

    #[test]
    fn weighted_pick_follows_the_weights_and_zero_gets_nothing() {
        let mut w = WeightedForward::new(
            vec![TargetGroupId(0), TargetGroupId(1), TargetGroupId(2)],
            vec![90, 10, 0],
            7,
            None,
        );
        let mut n = [0u32; 3];
        for seed in 0..10_000u64 {
            n[w.pick(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).index()] += 1;
        }
        assert_eq!(n[2], 0);
        assert!((8_800..9_200).contains(&n[0]), "{n:?}");
        w.set_weights(&[0, 0, 5]).unwrap();
        assert_eq!(w.pick(3), TargetGroupId(2));
        assert!(w.set_weights(&[0, 0, 0]).is_err());
        assert!(w.set_weights(&[1000, 0, 0]).is_err());
        assert!(w.set_weights(&[1, 1]).is_err());
    }

    #[test]
    fn counts_values_and_wildcards_as_aws_does() {
        let c = ConditionsSpec {
            path_pattern: s(&["/a/*", "/b/?*"]),
            host_header: s(&["*.x.com"]),
            http_header: vec![HttpHeaderCondition {
                name: "h".into(),
                values: s(&["1", "2"]),
            }],
            ..Default::default()
        };
        assert_eq!(c.values(), 5);
        assert_eq!(c.wildcards(), 4);
    }

    #[test]
    fn templated_paths_render_each_segment() {
        let mut n = 0;
        let p = render_path("/api/users/{id}/orders/{order}", || {
            n += 1;
            n
        });
        assert_eq!(p, "/api/users/1/orders/2");
        assert!(matches!(render_path("/plain", || 0), Cow::Borrowed(_)));
    }
}
