//! The progress bar of a long `lbsim run` (indicatif), on stderr when it is a terminal and
//! `--quiet` is not given: simulated time reached, requests so far, simulation speed and
//! the time left.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use lbsim::model::estimate::thousands;

/// `12,345`, `1.25 M`, `3.40 G`.
fn count(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else {
        thousands(x.max(0.0).round() as u64)
    }
}

/// How often the bar is updated (the run looks every few thousand events; this throttles).
const EVERY: Duration = Duration::from_millis(200);

/// A run's progress in simulated seconds.
pub struct RunProgress {
    bar: ProgressBar,
    last: Instant,
    started: Instant,
}

impl RunProgress {
    /// A bar for a run of `duration_s` simulated seconds; hidden when `quiet` or when
    /// stderr is not a terminal.
    pub fn new(duration_s: f64, quiet: bool) -> RunProgress {
        let len = duration_s.ceil().max(1.0) as u64;
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} s simulated · {msg} · {elapsed} elapsed, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        };
        RunProgress {
            bar,
            last: Instant::now(),
            started: Instant::now(),
        }
    }

    /// Tells it the simulated time reached (s) and the requests so far; cheap when called
    /// often.
    pub fn update(&mut self, sim_s: f64, requests: u64) {
        if self.bar.is_hidden() {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last) < EVERY {
            return;
        }
        self.last = now;
        let wall = now.duration_since(self.started).as_secs_f64().max(1e-9);
        self.bar.set_position(sim_s as u64);
        self.bar.set_message(format!(
            "{} requests ({}/s of wall time)",
            count(requests as f64),
            count(requests as f64 / wall)
        ));
    }

    /// Removes the bar (before the summary table is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
