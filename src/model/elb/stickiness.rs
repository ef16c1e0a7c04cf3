//! Sticky sessions (target group attribute `stickiness.*`): a session's requests go to the
//! target its cookie names, while that cookie is valid and the target routable.
//!
//! AWS semantics (ALB User Guide, "Sticky sessions for your Application Load Balancer",
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html>,
//! and `load-balancer-target-groups.html#target-group-attributes`):
//! - `lb_cookie`: the load balancer issues the cookie `AWSALB` naming the target; its
//!   duration (`stickiness.lb_cookie.duration_seconds`) is 1 s–7 days, default 1 day, and the
//!   expiry is reset on every request.
//! - `app_cookie`: stickiness follows the application's own cookie (`cookie_name`, which must
//!   not start with `AWSALB`, `AWSALBAPP` or `AWSALBTG`); the load balancer adds
//!   `AWSALBAPP-*` naming the target, with the same duration range and default.
//! - If the cookie names a target that is deregistered, draining or unhealthy (not
//!   routable), the load balancer picks a target with the routing algorithm and rewrites the
//!   cookie; the session then stays with the new target even if the old one recovers.
//! - Stickiness overrides the algorithm after the first choice (with
//!   `least_outstanding_requests` too: only the first choice is the algorithm's).
//!
//! **The model.** A cookie is the client's: one per session per target group, kept here in a
//! table indexed by the session's number (dense: every client's sessions numbered from its
//! base, so the table is a `Vec` whose size is fixed when the run starts: bounded, and no
//! hash order reaches an output). A cookie holds the target's task (a target is a task's IP
//! and port, never reused), its slot and its expiry. It is written when the response to a
//! routed request ends (the client stores the `Set-Cookie` it carries), with expiry = that
//! time + duration:
//! - `lb_cookie`: on every response to a request the load balancer sent to a target,
//!   whatever its outcome (an error from the target included);
//! - `app_cookie`: lbsim's model of the application is that it sets its cookie on its first
//!   response, so a cookie is written when the target *answered* (`ok` or `target_5xx`);
//!   a request that the load balancer answered itself (503, 502, 504) leaves the session
//!   unstuck (or stuck where it was).
//!
//! For a closed-loop user the next request leaves after the response, so it always carries
//! the cookie of the previous one; requests of an open-loop session that overlap its first
//! one go out without a cookie, as a browser's parallel first requests do. A new session (a
//! closed-loop user starting over) clears its cookies.

use crate::engine::{SimDuration, SimTime};
use crate::model::ids::TaskId;
use crate::model::outcome::Cause;

/// AWS's default cookie duration, 1 day (86 400 s).
pub const DEFAULT_STICKINESS_DURATION: SimDuration = SimDuration::from_secs(86_400);
/// AWS's shortest cookie duration, 1 s.
pub const MIN_STICKINESS_DURATION: SimDuration = SimDuration::from_secs(1);
/// AWS's longest cookie duration, 7 days (604 800 s).
pub const MAX_STICKINESS_DURATION: SimDuration = SimDuration::from_secs(604_800);

/// Which cookie makes a session sticky (`stickiness.type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StickinessKind {
    /// `lb_cookie`: the load balancer's own cookie `AWSALB`.
    LbCookie,
    /// `app_cookie`: the application's cookie, here named `cookie_name`.
    AppCookie {
        /// The application's cookie name (informational: never starts with `AWSALB`).
        cookie_name: String,
    },
}

/// A target group's sticky sessions (`stickiness.enabled = true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickinessSpec {
    /// `stickiness.type`.
    pub kind: StickinessKind,
    /// `stickiness.lb_cookie.duration_seconds` or `stickiness.app_cookie.duration_seconds`:
    /// how long a cookie stays valid after the last response that set it; 1 s–7 days,
    /// default 1 day ([`DEFAULT_STICKINESS_DURATION`]).
    pub duration: SimDuration,
}

/// One session's cookie for one target group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cookie {
    /// The task it names (`TaskId.0`).
    task: u32,
    /// That target's slot.
    slot: u32,
    /// When it expires; `SimTime::ZERO`: no cookie.
    expires: SimTime,
}

/// The cookies of one sticky target group, per session, and what they did.
#[derive(Clone, Debug)]
pub struct StickyTable {
    duration: SimDuration,
    app_cookie: bool,
    cookies: Vec<Cookie>,
    /// Requests sent to the target their cookie named.
    pub hits: u64,
    /// Requests whose cookie named a target no longer routable (deregistered, draining,
    /// unhealthy): the algorithm chose again.
    pub fallbacks: u64,
    /// Requests whose cookie had expired.
    pub expired: u64,
}

impl StickyTable {
    /// The table of a group with `spec`, for `sessions` sessions (numbered from 0).
    pub fn new(spec: &StickinessSpec, sessions: u32) -> Self {
        StickyTable {
            duration: spec.duration,
            app_cookie: matches!(spec.kind, StickinessKind::AppCookie { .. }),
            cookies: vec![Cookie::default(); sessions as usize],
            hits: 0,
            fallbacks: 0,
            expired: 0,
        }
    }

    /// The target (task, slot) session `session`'s valid cookie names at `now`, if any.
    #[inline]
    pub fn lookup(&mut self, session: u32, now: SimTime) -> Option<(TaskId, u32)> {
        let c = self.cookies.get(session as usize)?;
        if c.expires == SimTime::ZERO {
            return None;
        }
        if c.expires <= now {
            self.expired += 1;
            return None;
        }
        Some((TaskId(c.task), c.slot))
    }

    /// The response to a request of `session` that was sent to `task` at `slot` ends at
    /// `now` with `cause`: the cookie is written (or renewed) as the module documents.
    #[inline]
    pub fn responded(&mut self, session: u32, task: TaskId, slot: u32, now: SimTime, cause: Cause) {
        if self.app_cookie && !matches!(cause, Cause::Ok | Cause::Target5xx) {
            return;
        }
        if let Some(c) = self.cookies.get_mut(session as usize) {
            *c = Cookie {
                task: task.0,
                slot,
                expires: now.checked_add(self.duration).unwrap_or(SimTime::MAX),
            };
        }
    }

    /// Session `session` starts over: its cookie is gone.
    pub fn clear(&mut self, session: u32) {
        if let Some(c) = self.cookies.get_mut(session as usize) {
            *c = Cookie::default();
        }
    }

    /// Sessions holding a cookie valid at `now`, per target slot (index: slot).
    pub fn sessions_per_slot(&self, now: SimTime) -> Vec<u32> {
        let mut v = Vec::new();
        for c in self.cookies.iter().filter(|c| c.expires > now) {
            let s = c.slot as usize;
            if v.len() <= s {
                v.resize(s + 1, 0);
            }
            v[s] += 1;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_cookie_is_renewed_by_each_response_and_expires_after_its_duration() {
        let spec = StickinessSpec {
            kind: StickinessKind::LbCookie,
            duration: SimDuration::from_secs(10),
        };
        let mut t = StickyTable::new(&spec, 3);
        assert_eq!(t.lookup(1, at(0)), None, "no cookie yet");
        t.responded(1, TaskId(7), 2, at(0), Cause::Elb502ConnectionRefused);
        assert_eq!(t.lookup(1, at(9)), Some((TaskId(7), 2)));
        // Renewed at 9 s: valid to 19 s.
        t.responded(1, TaskId(7), 2, at(9), Cause::Ok);
        assert_eq!(t.lookup(1, at(18)), Some((TaskId(7), 2)));
        assert_eq!(t.lookup(1, at(19)), None, "expired");
        assert_eq!(t.expired, 1);
        assert_eq!(t.lookup(0, at(1)), None, "another session has none");
        assert_eq!(t.sessions_per_slot(at(18)), vec![0, 0, 1]);
        t.clear(1);
        assert_eq!(t.lookup(1, at(10)), None, "a new session has no cookie");
    }

    #[test]
    fn an_app_cookie_needs_an_answer_from_the_application() {
        let spec = StickinessSpec {
            kind: StickinessKind::AppCookie {
                cookie_name: "SESSIONID".into(),
            },
            duration: DEFAULT_STICKINESS_DURATION,
        };
        let mut t = StickyTable::new(&spec, 1);
        t.responded(0, TaskId(1), 0, at(0), Cause::Elb502ConnectionRefused);
        assert_eq!(t.lookup(0, at(1)), None);
        t.responded(0, TaskId(1), 0, at(1), Cause::Target5xx);
        assert_eq!(t.lookup(0, at(2)), Some((TaskId(1), 0)));
    }
}
