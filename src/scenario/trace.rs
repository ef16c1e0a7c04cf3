//! Reading `t_s,rps` traces and empirical samples from CSV files.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::ScenarioError;
use super::validate::MAX_RATE_RPS;
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::model::{RateProfile, RateSegment};

/// A trace as read: row `i` holds `rps[i]` over `[t[i], t[i+1])`; the last row lasts as
/// long as the row before it (60 s for the bundled traces), or 60 s when it is the only row.
/// After the trace's end the rate is 0, unless the client loops it; a scenario whose run
/// outlasts its trace gets a warning ([`super::Scenario::warnings`]).
#[derive(Clone, Debug)]
pub struct Trace {
    /// Start of each row, ns from the trace's t = 0.
    pub starts: Vec<u64>,
    /// Mean rate over each row, requests/s.
    pub rps: Vec<f64>,
    /// End of the last row, ns.
    pub end: u64,
}

/// Latest row start accepted, s (about 31 years: far beyond any trace, far from overflow).
const MAX_T_S: f64 = 1e9;
/// Longest duration in an empirical sample, ms (the same 1e9 s).
const MAX_SAMPLE_MS: f64 = 1e12;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    t_s: f64,
    rps: f64,
}

/// Reads a `t_s,rps` CSV (header required; `t_s` from 0 to 1e9 s and strictly increasing;
/// `rps` from 0 to [`MAX_RATE_RPS`], the cap of every rate). A UTF-8 byte order mark before
/// the header is skipped.
///
/// # Errors
/// [`ScenarioError`] naming the file and the line: missing file, wrong header, a value
/// that is not a number, out of range or out of order, or no rows.
pub fn read_trace(path: &Path) -> Result<Trace, ScenarioError> {
    let err = |line: Option<u64>, msg: String| ScenarioError::in_data(path, line, msg);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(None, format!("cannot read trace: {}", io_message(&e))))?;
    let headers = rdr
        .headers()
        .map_err(|e| err(Some(1), format!("cannot read the header: {e}")))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != ["t_s", "rps"] {
        return Err(err(
            Some(1),
            format!(
                "header is {:?}; a trace needs exactly the columns t_s,rps (seconds, requests per second)",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let mut starts = Vec::new();
    let mut rps = Vec::new();
    let mut prev: Option<f64> = None;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line());
            err(line, format!("malformed row: {e}"))
        })?;
        let line = rec.position().map(|p| p.line());
        let row: Row = rec.deserialize(Some(&headers)).map_err(|e| {
            err(
                line,
                format!("malformed row ({e}); expected t_s,rps numbers"),
            )
        })?;
        if !(row.t_s.is_finite() && (0.0..=MAX_T_S).contains(&row.t_s)) {
            return Err(err(
                line,
                format!(
                    "t_s = {}: must be a number of seconds from 0 to {MAX_T_S:e}",
                    short(row.t_s)
                ),
            ));
        }
        if let Some(p) = prev
            && row.t_s <= p
        {
            return Err(err(
                line,
                format!(
                    "t_s = {} is not after the previous row's {p}: rows must be in increasing time order",
                    row.t_s
                ),
            ));
        }
        if !(row.rps.is_finite() && (0.0..=MAX_RATE_RPS).contains(&row.rps)) {
            return Err(err(
                line,
                format!(
                    "rps = {}: must be a finite number from 0 to {MAX_RATE_RPS} requests/s (the cap of every rate)",
                    short(row.rps)
                ),
            ));
        }
        prev = Some(row.t_s);
        starts.push(SimDuration::from_secs_f64(row.t_s).0);
        rps.push(row.rps);
    }
    if starts.is_empty() {
        return Err(err(None, "the trace has no rows".into()));
    }
    let last_width = if starts.len() >= 2 {
        starts[starts.len() - 1] - starts[starts.len() - 2]
    } else {
        60 * NANOS_PER_SEC
    };
    let end = starts[starts.len() - 1] + last_width;
    Ok(Trace { starts, rps, end })
}

/// Cuts the window `[start, start + duration)` out of `trace` (to its end if `duration` is
/// `None`), multiplies rates by `scale` and shifts it to t = 0. With `looped`, the window
/// repeats.
///
/// # Errors
/// A message when the window starts at or after the trace's end.
pub fn window(
    trace: &Trace,
    start: SimDuration,
    duration: Option<SimDuration>,
    scale: f64,
    looped: bool,
) -> Result<RateProfile, String> {
    let from = start.0;
    if from >= trace.end {
        return Err(format!(
            "start = {start} is at or after the end of the trace ({})",
            SimDuration(trace.end)
        ));
    }
    let to = match duration {
        Some(d) => from.saturating_add(d.0).min(trace.end),
        None => trace.end,
    };
    let mut segs = Vec::new();
    for i in 0..trace.starts.len() {
        let a = trace.starts[i];
        let b = trace.starts.get(i + 1).copied().unwrap_or(trace.end);
        let (a, b) = (a.max(from), b.min(to));
        if a >= b {
            continue;
        }
        let r = trace.rps[i] * scale;
        segs.push(RateSegment {
            start: SimTime(a - from),
            end: SimTime(b - from),
            rate_start_rps: r,
            rate_end_rps: r,
        });
    }
    Ok(RateProfile {
        segments: Arc::from(segs),
        period: looped.then_some(SimDuration(to - from)),
    })
}

/// Reads an empirical sample: a CSV with a header and durations in milliseconds in the
/// first column (finite, from 0 to 1e12 ms).
///
/// # Errors
/// [`ScenarioError`] naming the file and line.
pub fn read_empirical(path: &Path) -> Result<Arc<[SimDuration]>, ScenarioError> {
    let err = |line: Option<u64>, msg: String| ScenarioError::in_data(path, line, msg);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .map_err(|e| err(None, format!("cannot read sample: {}", io_message(&e))))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            err(
                e.position().map(|p| p.line()),
                format!("malformed row: {e}"),
            )
        })?;
        let line = rec.position().map(|p| p.line());
        let field = rec.get(0).unwrap_or("");
        let v: f64 = field
            .parse()
            .map_err(|_| err(line, format!("\"{field}\" is not a number of milliseconds")))?;
        if !(v.is_finite() && (0.0..=MAX_SAMPLE_MS).contains(&v)) {
            return Err(err(
                line,
                format!(
                    "{}: must be a finite number of milliseconds from 0 to {MAX_SAMPLE_MS:e}",
                    short(v)
                ),
            ));
        }
        out.push(SimDuration::from_secs_f64(v / 1e3));
    }
    if out.is_empty() {
        return Err(err(None, "the sample has no rows".into()));
    }
    Ok(Arc::from(out))
}

/// `v` for a message: in scientific notation when very large or very small.
pub(crate) fn short(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

fn io_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace() -> Trace {
        Trace {
            starts: vec![0, 60 * NANOS_PER_SEC, 120 * NANOS_PER_SEC],
            rps: vec![1.0, 2.0, 3.0],
            end: 180 * NANOS_PER_SEC,
        }
    }

    #[test]
    fn window_cuts_scales_and_shifts() {
        let p = window(
            &trace(),
            SimDuration::from_secs(30),
            Some(SimDuration::from_secs(60)),
            10.0,
            true,
        )
        .unwrap();
        let s: Vec<_> = p
            .segments
            .iter()
            .map(|s| {
                (
                    s.start.0 / NANOS_PER_SEC,
                    s.end.0 / NANOS_PER_SEC,
                    s.rate_start_rps,
                )
            })
            .collect();
        assert_eq!(s, vec![(0, 30, 10.0), (30, 60, 20.0)]);
        assert_eq!(p.period, Some(SimDuration::from_secs(60)));
    }

    #[test]
    fn window_past_the_end_is_an_error() {
        assert!(window(&trace(), SimDuration::from_secs(180), None, 1.0, false).is_err());
    }
}
