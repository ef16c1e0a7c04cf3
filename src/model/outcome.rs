//! How a request ends. Every request ends exactly once, with one [`Cause`].

use serde::Serialize;

/// Why a request ended, which fixes the HTTP status code the client saw.
///
/// Names follow the ALB's split between target-generated and ELB-generated responses
/// (CloudWatch `HTTPCode_Target_*` vs `HTTPCode_ELB_*`,
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The target answered (HTTP 200).
    Ok,
    /// The forward action's target group had no registered targets: the ALB answers 503
    /// itself ("The target groups for the load balancer have no registered targets",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-503-issues>).
    Elb503NoTargets,
    /// The target closed the connection while the load balancer had a request outstanding
    /// (its task stopped or crashed): the ALB answers 502 ("The target closed the
    /// connection with a TCP RST or a TCP FIN while the load balancer had an outstanding
    /// request to the target",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-502-issues>).
    Elb502TargetClosed,
    /// The target answered with a 5xx because a call to a dependency failed (the
    /// dependency was down, or full and rejecting calls): CloudWatch
    /// `HTTPCode_Target_5XX_Count`. The target's response is a 500.
    Target5xx,
    /// The target group's `deregistration_delay` expired while the request was still at
    /// its draining target: the ALB answers 502 ("The deregistration delay period elapsed
    /// for a request being handled by a target that was deregistered",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-502-issues>).
    Elb502DeregistrationDelay,
    /// The target refused the connection (its task crashed, or its application does not
    /// listen yet), and the load balancer routed to it anyway (its target was still
    /// registered and routable, or the group failed open): the ALB answers 502 ("The load
    /// balancer received a TCP RST from the target when attempting to establish a
    /// connection",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-502-issues>).
    Elb502ConnectionRefused,
    /// The target accepted the connection but sent no response for the load balancer's
    /// `idle_timeout` (its application hung, or its Availability Zone became unreachable
    /// with the request in flight): the ALB answers 504 ("The load balancer established a
    /// connection to the target but the target did not respond before the idle timeout
    /// period elapsed",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-504-issues>).
    Elb504IdleTimeout,
    /// The load balancer could not establish a connection to the target within 10 s (the
    /// target's Availability Zone is unreachable): the ALB answers 504 ("The load balancer
    /// failed to establish a connection to the target before the connection timeout expired
    /// (10 seconds)",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-504-issues>).
    Elb504ConnectTimeout,
}

impl Cause {
    /// Every cause, in output column order.
    pub const ALL: [Cause; 8] = [
        Cause::Ok,
        Cause::Elb503NoTargets,
        Cause::Elb502TargetClosed,
        Cause::Target5xx,
        Cause::Elb502DeregistrationDelay,
        Cause::Elb502ConnectionRefused,
        Cause::Elb504IdleTimeout,
        Cause::Elb504ConnectTimeout,
    ];

    /// The stable name used in output files (`ok`, `elb_503_no_targets`...).
    pub const fn name(self) -> &'static str {
        match self {
            Cause::Ok => "ok",
            Cause::Elb503NoTargets => "elb_503_no_targets",
            Cause::Elb502TargetClosed => "elb_502_target_closed",
            Cause::Target5xx => "target_5xx",
            Cause::Elb502DeregistrationDelay => "elb_502_deregistration_delay",
            Cause::Elb502ConnectionRefused => "elb_502_connection_refused",
            Cause::Elb504IdleTimeout => "elb_504_idle_timeout",
            Cause::Elb504ConnectTimeout => "elb_504_connect_timeout",
        }
    }

    /// True for a response the client wanted (a target's 200).
    pub const fn is_success(self) -> bool {
        matches!(self, Cause::Ok)
    }

    /// The HTTP status code the client receives.
    pub const fn status(self) -> u16 {
        match self {
            Cause::Ok => 200,
            Cause::Elb503NoTargets => 503,
            Cause::Elb502TargetClosed => 502,
            Cause::Target5xx => 500,
            Cause::Elb502DeregistrationDelay | Cause::Elb502ConnectionRefused => 502,
            Cause::Elb504IdleTimeout | Cause::Elb504ConnectTimeout => 504,
        }
    }

    /// Position in [`Cause::ALL`], for per-cause counters.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }
}
