//! Plots and the HTML report, drawn from a run's, a sweep's or a comparison's output files
//! (never from the model), so results from old runs and other machines can be drawn again.

pub mod html;
pub mod plot;
