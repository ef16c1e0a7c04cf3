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
    /// The load balancer sent the request on a kept-alive target connection that the
    /// target had just closed for being idle longer than the application's keep-alive
    /// timeout (its FIN was still on the way): the ALB answers 502. This is the race AWS
    /// warns of when the target's keep-alive timeout is shorter than the load balancer's
    /// idle timeout ("The target closed the connection with a TCP RST or a TCP FIN while the
    /// load balancer had an outstanding request to the target",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-502-issues>).
    Elb502KeepAliveRace,
    /// The client closed its connection before the load balancer answered (its own timeout
    /// expired): the ALB logs 460 ("The load balancer received a request from a client, but
    /// the client closed the connection with the load balancer before the idle timeout
    /// period elapsed",
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-460-issues>).
    /// With a network load balancer or no load balancer, a client that gave up ends the
    /// same way (no code reaches any log there; lbsim keeps 460 as the name).
    Elb460ClientClosed,
    /// A listener rule's `redirect` action answered 301 (moved permanently); the client
    /// follows the `Location` with a new request
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html>).
    Redirect301,
    /// A listener rule's `redirect` action answered 302 (found, a temporary redirect).
    Redirect302,
    /// A `fixed_response` action answered with a 2XX code of its own (a `/health` 200),
    /// no target involved; the exact code is in the per-rule counts.
    FixedResponse2xx,
    /// A `fixed_response` action answered with a 4XX code (a default 404).
    FixedResponse4xx,
    /// A `fixed_response` action answered with a 5XX code (a maintenance 503).
    FixedResponse5xx,
    /// A WebSocket connection (upgraded with 101 Switching Protocols) ended normally, when
    /// the client closed it after its drawn duration.
    WebsocketClosed,
    /// A WebSocket connection was cut by the load balancer when its target's
    /// `deregistration_delay` expired (or its target stopped): long-lived connections
    /// outlast any drain
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay>).
    WebsocketCut,
    /// No HTTP response at all: with no load balancer in between (direct service discovery,
    /// a stale DNS answer naming a stopped task) or behind a network load balancer, the
    /// client's TCP connection was refused, reset or timed out. Status 0 (none).
    ConnectionFailed,
}

impl Cause {
    /// Every cause, in output column order.
    pub const ALL: [Cause; 18] = [
        Cause::Ok,
        Cause::Elb503NoTargets,
        Cause::Elb502TargetClosed,
        Cause::Target5xx,
        Cause::Elb502DeregistrationDelay,
        Cause::Elb502ConnectionRefused,
        Cause::Elb504IdleTimeout,
        Cause::Elb504ConnectTimeout,
        Cause::Elb502KeepAliveRace,
        Cause::Elb460ClientClosed,
        Cause::Redirect301,
        Cause::Redirect302,
        Cause::FixedResponse2xx,
        Cause::FixedResponse4xx,
        Cause::FixedResponse5xx,
        Cause::WebsocketClosed,
        Cause::WebsocketCut,
        Cause::ConnectionFailed,
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
            Cause::Elb502KeepAliveRace => "elb_502_keepalive_race",
            Cause::Elb460ClientClosed => "elb_460_client_closed",
            Cause::Redirect301 => "redirect_301",
            Cause::Redirect302 => "redirect_302",
            Cause::FixedResponse2xx => "fixed_response_2xx",
            Cause::FixedResponse4xx => "fixed_response_4xx",
            Cause::FixedResponse5xx => "fixed_response_5xx",
            Cause::WebsocketClosed => "websocket_closed",
            Cause::WebsocketCut => "websocket_cut",
            Cause::ConnectionFailed => "connection_failed",
        }
    }

    /// True for a response the client wanted from a target (a target's 200, or a
    /// WebSocket that ended normally): what a routing policy's feedback counts as success.
    pub const fn is_success(self) -> bool {
        matches!(self, Cause::Ok | Cause::WebsocketClosed)
    }

    /// True if the client did not get what it asked for: a 5xx, a 460, a cut WebSocket
    /// or no response at all. Redirects and fixed responses (even a 404) are the listener's
    /// intended answers, not failures.
    pub const fn is_failure(self) -> bool {
        !matches!(
            self,
            Cause::Ok
                | Cause::WebsocketClosed
                | Cause::Redirect301
                | Cause::Redirect302
                | Cause::FixedResponse2xx
                | Cause::FixedResponse4xx
        )
    }

    /// The cause whose [`name`](Cause::name) is `name`, if any.
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.name() == name)
    }

    /// True if the load balancer itself generated the response (CloudWatch's
    /// `HTTPCode_ELB_*` family: ELB errors, redirects and fixed responses).
    pub const fn is_elb_generated(self) -> bool {
        !matches!(
            self,
            Cause::Ok
                | Cause::Target5xx
                | Cause::WebsocketClosed
                | Cause::WebsocketCut
                | Cause::ConnectionFailed
        )
    }

    /// The HTTP status code the client receives: for a fixed response the class's usual
    /// code (200, 404, 503; the action's own code is in the per-rule counts), for a
    /// WebSocket the upgrade's 101, and 0 when no HTTP response came at all.
    pub const fn status(self) -> u16 {
        match self {
            Cause::Ok => 200,
            Cause::Elb503NoTargets => 503,
            Cause::Elb502TargetClosed => 502,
            Cause::Target5xx => 500,
            Cause::Elb502DeregistrationDelay | Cause::Elb502ConnectionRefused => 502,
            Cause::Elb504IdleTimeout | Cause::Elb504ConnectTimeout => 504,
            Cause::Elb502KeepAliveRace => 502,
            Cause::Elb460ClientClosed => 460,
            Cause::Redirect301 => 301,
            Cause::Redirect302 => 302,
            Cause::FixedResponse2xx => 200,
            Cause::FixedResponse4xx => 404,
            Cause::FixedResponse5xx => 503,
            Cause::WebsocketClosed | Cause::WebsocketCut => 101,
            Cause::ConnectionFailed => 0,
        }
    }

    /// Position in [`Cause::ALL`], for per-cause counters.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }
}
