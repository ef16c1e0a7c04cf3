//! Ctrl-C (SIGINT) and SIGTERM during `lbsim run`: the first one asks the run to stop at the
//! next event boundary and write its partial outputs (`complete: false`); a second one ends
//! the process at once (its staging directory is removed by the next run). Uses
//! `signal-hook`'s flag handlers (async-signal-safe: they only set an atomic flag).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// Exit code of a run stopped by SIGINT (128 + 2, the shells' convention).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code of a run stopped by SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// Which stop signals have arrived.
pub struct Interrupts {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Interrupts {
    /// Installs the handlers. If they cannot be installed (no such signals on this
    /// platform), the run goes on without them: an interruption then kills it, and the
    /// staged outputs are never put in place.
    pub fn install() -> Interrupts {
        let int = Arc::new(AtomicBool::new(false));
        let term = Arc::new(AtomicBool::new(false));
        for (sig, f, code) in [(SIGINT, &int, EXIT_SIGINT), (SIGTERM, &term, EXIT_SIGTERM)] {
            // Registered first, so that it sees the flag as the previous signal left it:
            // the second signal of a kind exits at once.
            let _ = flag::register_conditional_shutdown(sig, i32::from(code), Arc::clone(f));
            let _ = flag::register(sig, Arc::clone(f));
        }
        Interrupts { int, term }
    }

    /// The signal that asked to stop, if any: `"SIGINT"` or `"SIGTERM"`, with its exit code.
    pub fn received(&self) -> Option<(&'static str, u8)> {
        if self.int.load(Ordering::Relaxed) {
            Some(("SIGINT", EXIT_SIGINT))
        } else if self.term.load(Ordering::Relaxed) {
            Some(("SIGTERM", EXIT_SIGTERM))
        } else {
            None
        }
    }
}
