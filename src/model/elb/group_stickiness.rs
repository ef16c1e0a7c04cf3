//! Target-group stickiness of a weighted `forward` (cookie `AWSALBTG`): a session that a
//! weighted forward sent to one target group keeps going to that group while its cookie is
//! fresh.
//!
//! AWS semantics (ALB User Guide, "Listener rules", forward actions,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions>,
//! and the API's `TargetGroupStickinessConfig`,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html>):
//! weighted target groups do not keep a client on one group by themselves; with
//! target-group stickiness on the action, the load balancer issues the cookie `AWSALBTG`
//! (and `AWSALBTGCORS`) naming the group, and a request carrying a valid one goes to that
//! group without the weighted draw. `DurationSeconds`: 1 s–7 days (604 800 s). Inside the
//! group, the group's own target stickiness (`AWSALB`, `AWSALBAPP-*`; see
//! [`stickiness`](super::stickiness)) applies as usual.
//!
//! **The model.** One cookie per session per sticky weighted action, in a table indexed by
//! the session's number (dense over all clients, like the target cookies: a `Vec` sized when
//! the run starts; no hash order reaches an output). A cookie holds the group and when it
//! was last set. It is written, as the target cookie `lb_cookie` is, when the response to a
//! request the action forwarded ends, whatever its outcome (the load balancer sets it, an
//! error it answers itself included): so each request renews it, and its age is counted from
//! the last response through the action. A request of a session goes to its cookie's group
//! when [`WeightedForward::sticky_group`] agrees: the cookie is younger than the duration
//! and the group still has a positive weight (a blue/green shift that sets the group's
//! weight to 0 releases every session stuck to it). Otherwise the weights pick (the
//! action's keyed draw, the same as without stickiness) and the response rewrites the
//! cookie. A request with no session (an open-loop client without `sessions`) is never
//! sticky; a new session (a closed-loop user starting over) has no cookie.
//!
//! lbsim's choices where AWS documents nothing: the cookie is written for a response the
//! load balancer answered itself (a 503 when the group has no routable target, a 502) as
//! for any other, so a session stays with its group while the group keeps a positive
//! weight; expiry is checked as the target cookie's is (a cookie exactly `duration` old has
//! expired).

use super::super::ids::TargetGroupId;
use super::NO_GROUP;
use super::rules::WeightedForward;
use crate::engine::SimTime;

/// A weighted forward with no cookie table (stickiness off, or no client has sessions).
pub const NO_TABLE: u32 = u32::MAX;

/// One session's `AWSALBTG` cookie for one weighted forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GroupCookie {
    /// The group it names; [`NO_GROUP`]: no cookie.
    group: TargetGroupId,
    /// When the response that set (or renewed) it ended.
    set: SimTime,
}

const NO_COOKIE: GroupCookie = GroupCookie {
    group: NO_GROUP,
    set: SimTime::ZERO,
};

/// The `AWSALBTG` cookies of one sticky weighted forward, per session, and what they did.
#[derive(Clone, Debug)]
pub struct GroupCookies {
    cookies: Vec<GroupCookie>,
    /// Requests sent to the group their fresh cookie named.
    pub hits: u64,
    /// Requests whose cookie was `duration` old or more: the weights picked.
    pub expired: u64,
    /// Requests whose cookie named a group whose weight is now 0 (or that left the
    /// forward): the weights picked.
    pub released: u64,
}

impl GroupCookies {
    /// The table for `sessions` sessions (numbered from 0), none holding a cookie.
    pub fn new(sessions: u32) -> GroupCookies {
        GroupCookies {
            cookies: vec![NO_COOKIE; sessions as usize],
            hits: 0,
            expired: 0,
            released: 0,
        }
    }

    /// The group for the request (seed `seed`) of session `session` that forward `w`
    /// handles at `now`: its cookie's group if [`WeightedForward::sticky_group`] keeps it,
    /// else the weights' pick ([`WeightedForward::pick`]).
    pub fn choose(
        &mut self,
        w: &WeightedForward,
        session: u32,
        seed: u64,
        now: SimTime,
    ) -> TargetGroupId {
        if let Some(c) = self.cookies.get(session as usize)
            && c.group != NO_GROUP
        {
            let age = now.saturating_since(c.set);
            if let Some(g) = w.sticky_group(c.group, age) {
                self.hits += 1;
                return g;
            }
            if w.stickiness.is_some_and(|d| age >= d) {
                self.expired += 1;
            } else {
                self.released += 1;
            }
        }
        w.pick(seed)
    }

    /// The response to a request of `session` that the forward sent to `group` ends at
    /// `now`: the cookie names `group`, set now.
    pub fn responded(&mut self, session: u32, group: TargetGroupId, now: SimTime) {
        if let Some(c) = self.cookies.get_mut(session as usize) {
            *c = GroupCookie { group, set: now };
        }
    }

    /// Session `session` starts over: its cookie is gone.
    pub fn clear(&mut self, session: u32) {
        if let Some(c) = self.cookies.get_mut(session as usize) {
            *c = NO_COOKIE;
        }
    }

    /// The group session `session`'s cookie names, and when it was set, if it has one
    /// (fresh or not).
    pub fn cookie(&self, session: u32) -> Option<(TargetGroupId, SimTime)> {
        self.cookies
            .get(session as usize)
            .filter(|c| c.group != NO_GROUP)
            .map(|c| (c.group, c.set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn forward(weights: Vec<u32>) -> WeightedForward {
        WeightedForward::new(
            vec![TargetGroupId(0), TargetGroupId(1)],
            weights,
            11,
            Some(SimDuration::from_secs(10)),
        )
    }

    #[test]
    fn a_fresh_cookie_keeps_its_group_until_it_expires_or_the_weight_is_zero() {
        let mut w = forward(vec![1, 1]);
        let mut t = GroupCookies::new(2);
        // Seeds that the weights send to group 0.
        let seeds: Vec<u64> = (0..64).filter(|&s| w.pick(s) == TargetGroupId(0)).collect();
        t.responded(1, TargetGroupId(1), at(5));
        for &s in &seeds {
            assert_eq!(t.choose(&w, 1, s, at(14)), TargetGroupId(1));
        }
        assert_eq!(t.hits, seeds.len() as u64);
        // 10 s old: expired, the weights pick.
        assert_eq!(t.choose(&w, 1, seeds[0], at(15)), TargetGroupId(0));
        assert_eq!(t.expired, 1);
        // Renewed, then group 1's weight drops to 0: released.
        t.responded(1, TargetGroupId(1), at(20));
        w.set_weights(&[1, 0]).unwrap();
        assert_eq!(t.choose(&w, 1, 3, at(21)), TargetGroupId(0));
        assert_eq!(t.released, 1);
        // Another session has no cookie; a cleared one neither.
        assert_eq!(t.cookie(0), None);
        t.clear(1);
        assert_eq!(t.cookie(1), None);
        assert_eq!(t.choose(&w, 1, 3, at(22)), TargetGroupId(0));
        assert_eq!((t.hits, t.expired, t.released), (seeds.len() as u64, 1, 1));
    }
}
