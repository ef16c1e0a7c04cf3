//! `target_groups[].stickiness`: sticky sessions with AWS's rules: `type` `lb_cookie` or
//! `app_cookie`, a duration of 1 s–7 days in whole seconds (default 1 day), and for
//! `app_cookie` a cookie name that does not start with `AWSALB` (which also rules out
//! `AWSALBAPP` and `AWSALBTG`), the prefix the load balancer keeps for its own cookies
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html>).

use super::Ctx;
use crate::model::{
    DEFAULT_STICKINESS_DURATION, MAX_STICKINESS_DURATION, MIN_STICKINESS_DURATION, StickinessKind,
    StickinessSpec,
};
use crate::scenario::file::{StickinessSection, StickinessType};

/// The longest cookie name lbsim accepts (not an AWS figure: a guard).
const MAX_COOKIE_NAME: usize = 256;

/// Checks `{path}` (a target group's `stickiness`); `None` when absent or not enabled.
pub(super) fn resolve(
    ctx: &mut Ctx,
    path: &str,
    s: &Option<StickinessSection>,
) -> Option<StickinessSpec> {
    let s = s.as_ref()?;
    let duration = match s.duration {
        None => DEFAULT_STICKINESS_DURATION,
        Some(d) => {
            ctx.whole_seconds_in(
                &format!("{path}.duration"),
                d.0,
                MIN_STICKINESS_DURATION,
                MAX_STICKINESS_DURATION,
                "AWS stickiness.lb_cookie.duration_seconds / app_cookie.duration_seconds: 1 s to 7 days",
            );
            d.0.clamp(MIN_STICKINESS_DURATION, MAX_STICKINESS_DURATION)
        }
    };
    let kind = match (s.kind, &s.cookie_name) {
        (StickinessType::LbCookie, None) => StickinessKind::LbCookie,
        (StickinessType::LbCookie, Some(_)) => {
            ctx.bad(
                format!("{path}.cookie_name"),
                "only with type = \"app_cookie\" (lb_cookie uses the load balancer's AWSALB cookie)",
            );
            StickinessKind::LbCookie
        }
        (StickinessType::AppCookie, None) => {
            ctx.bad(
                format!("{path}.cookie_name"),
                "type = \"app_cookie\" needs the application's cookie name (e.g. \"SESSIONID\")",
            );
            StickinessKind::LbCookie
        }
        (StickinessType::AppCookie, Some(name)) => {
            let p = format!("{path}.cookie_name");
            if name.is_empty() || name.len() > MAX_COOKIE_NAME {
                ctx.bad(p, format!("must be 1–{MAX_COOKIE_NAME} characters"));
            } else if name.starts_with("AWSALB") {
                ctx.bad(
                    p,
                    format!(
                        "{name:?}: must not start with AWSALB, AWSALBAPP or AWSALBTG (reserved for the load balancer's cookies)"
                    ),
                );
            } else if name
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || "()<>@,;:\\\"/[]?={}".contains(c))
            {
                ctx.bad(
                    p,
                    format!(
                        "{name:?}: a cookie name has no spaces, controls nor ()<>@,;:\\\"/[]?={{}}"
                    ),
                );
            }
            StickinessKind::AppCookie {
                cookie_name: name.clone(),
            }
        }
    };
    s.enabled.then_some(StickinessSpec { kind, duration })
}
