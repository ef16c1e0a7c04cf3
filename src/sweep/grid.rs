//! `--vary PATH=V1,V2,...`: the parameters of a sweep and the grid of their values.
//!
//! A value list is split on commas that are not inside quotes, braces or brackets, so a
//! value may be any `--set` value (`{ dist = "exponential", mean = "10ms" }`). An item may be
//! a range, expanded inclusively:
//! - integers `1..8` (step 1) or `0..100:25`;
//! - durations `0s..300s:30s` (a step is required; values are written in the largest unit
//!   of `h`, `m`, `s`, `ms` that is exact for every value, else `ns`);
//! - decimals `0.1..0.5:0.1` (values rounded to the step's decimal places).
//!
//! The grid is the Cartesian product of every `--vary`, the first one outermost: with
//! `--vary a=1,2 --vary b=x,y` the points are (1,x), (1,y), (2,x), (2,y).

use serde::{Deserialize, Serialize};

/// The most values one `--vary` may expand to.
pub const MAX_VALUES: usize = 10_000;

/// One varied parameter: a `--set` path and the values it takes, as typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vary {
    /// Dotted path, as `--set` takes it (`target_groups.0.deregistration_delay`).
    pub path: String,
    /// The values, as typed (ranges expanded).
    pub values: Vec<String>,
}

/// Parses `PATH=V1,V2,...` (with ranges).
///
/// # Errors
/// A message naming the argument when there is no `=`, no value, a malformed range, or
/// more than [`MAX_VALUES`] values.
pub fn parse_vary(arg: &str) -> Result<Vary, String> {
    let Some((path, list)) = arg.split_once('=') else {
        return Err(format!(
            "--vary {arg}: expected PATH=V1,V2,... (or a range such as 0s..300s:30s or 1..8), \
             e.g. --vary target_groups.0.algorithm=round_robin,least_outstanding_requests"
        ));
    };
    let path = path.trim();
    if path.is_empty() || path.split('.').any(|s| s.trim().is_empty()) {
        return Err(format!(
            "--vary {arg}: the path \"{path}\" has an empty part"
        ));
    }
    let mut values = Vec::new();
    for item in split_top_level(list) {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!(
                "--vary {arg}: an empty value (two commas in a row?)"
            ));
        }
        match expand_range(item) {
            Some(r) => values.extend(r.map_err(|m| format!("--vary {arg}: {m}"))?),
            None => values.push(item.to_string()),
        }
        if values.len() > MAX_VALUES {
            return Err(format!(
                "--vary {arg}: more than {MAX_VALUES} values; use a larger step"
            ));
        }
    }
    if values.is_empty() {
        return Err(format!("--vary {arg}: no values"));
    }
    Ok(Vary {
        path: path.to_string(),
        values,
    })
}

/// Splits on commas outside quotes, braces and brackets.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// `Some` when `item` is a range (`A..B` or `A..B:STEP`), with its values or why not.
fn expand_range(item: &str) -> Option<Result<Vec<String>, String>> {
    if item.starts_with(['{', '[', '"', '\'']) {
        return None;
    }
    let (lo, rest) = item.split_once("..")?;
    let (hi, step) = match rest.split_once(':') {
        Some((h, s)) => (h.trim(), Some(s.trim())),
        None => (rest.trim(), None),
    };
    let lo = lo.trim();
    Some(expand(item, lo, hi, step))
}

fn expand(item: &str, lo: &str, hi: &str, step: Option<&str>) -> Result<Vec<String>, String> {
    let bad_order = || format!("the range {item} ends before it starts");
    if let (Ok(a), Ok(b)) = (lo.parse::<i64>(), hi.parse::<i64>()) {
        let s = match step {
            None => 1,
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| format!("the step of {item} must be a positive integer"))?,
        };
        if b < a {
            return Err(bad_order());
        }
        let n = ((b - a) / s + 1) as usize;
        if n > MAX_VALUES {
            return Err(format!("{item} has more than {MAX_VALUES} values"));
        }
        return Ok((0..n as i64).map(|i| (a + i * s).to_string()).collect());
    }
    let is_num = |s: &str| s.parse::<f64>().is_ok_and(f64::is_finite);
    if is_num(lo) && is_num(hi) {
        let a: f64 = lo.parse().unwrap_or_default();
        let b: f64 = hi.parse().unwrap_or_default();
        let step_text = step
            .ok_or_else(|| format!("the decimal range {item} needs a step, e.g. {lo}..{hi}:0.1"))?;
        let s: f64 = step_text
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .ok_or_else(|| format!("the step of {item} must be a positive number"))?;
        if b < a {
            return Err(bad_order());
        }
        let decimals = [lo, hi, step_text]
            .iter()
            .map(|t| t.split_once('.').map_or(0, |(_, f)| f.len()))
            .max()
            .unwrap_or(0)
            .min(12);
        let n = ((b - a) / s + 1e-9).floor() as usize + 1;
        if n > MAX_VALUES {
            return Err(format!("{item} has more than {MAX_VALUES} values"));
        }
        return Ok((0..n)
            .map(|i| format!("{:.*}", decimals, a + i as f64 * s))
            .collect());
    }
    let dur = |t: &str| {
        humantime::parse_duration(t)
            .map_err(|e| format!("{item}: \"{t}\" is neither a number nor a duration ({e})"))
    };
    let (a, b) = (dur(lo)?, dur(hi)?);
    let s =
        dur(step.ok_or_else(|| {
            format!("the duration range {item} needs a step, e.g. {lo}..{hi}:30s")
        })?)?;
    if s.is_zero() {
        return Err(format!("the step of {item} must be more than 0"));
    }
    if b < a {
        return Err(bad_order());
    }
    let (a, b, s) = (a.as_nanos(), b.as_nanos(), s.as_nanos());
    let n = ((b - a) / s + 1) as usize;
    if n > MAX_VALUES {
        return Err(format!("{item} has more than {MAX_VALUES} values"));
    }
    let values: Vec<u128> = (0..n as u128).map(|i| a + i * s).collect();
    const UNITS: [(u128, &str); 5] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1, "ns"),
    ];
    let (div, unit) = UNITS
        .iter()
        .find(|(d, _)| values.iter().all(|v| v % d == 0))
        .copied()
        .unwrap_or((1, "ns"));
    Ok(values
        .iter()
        .map(|v| format!("{}{unit}", v / div))
        .collect())
}

/// The grid's points: for each, one value index per vary (first vary outermost).
pub fn points(varies: &[Vary]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for v in varies {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..v.values.len()).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(arg: &str) -> Vec<String> {
        parse_vary(arg).unwrap().values
    }

    #[test]
    fn lists_and_ranges() {
        assert_eq!(vals("a=1..4"), ["1", "2", "3", "4"]);
        assert_eq!(vals("a=0..100:25"), ["0", "25", "50", "75", "100"]);
        assert_eq!(vals("a=0s..300s:100s"), ["0s", "100s", "200s", "300s"]);
        assert_eq!(vals("a=0s..3m:1m"), ["0m", "1m", "2m", "3m"]);
        assert_eq!(
            vals("a=0ms..1s:250ms"),
            ["0ms", "250ms", "500ms", "750ms", "1000ms"]
        );
        assert_eq!(vals("a=0.1..0.5:0.1"), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(vals("a=1..2,8, 16"), ["1", "2", "8", "16"]);
        assert_eq!(
            vals("a=round_robin,least_outstanding_requests"),
            ["round_robin", "least_outstanding_requests"]
        );
        assert_eq!(
            vals(
                r#"a={ dist = "exponential", mean = "10ms" },{ dist = "deterministic", value = "10ms" }"#
            ),
            [
                r#"{ dist = "exponential", mean = "10ms" }"#,
                r#"{ dist = "deterministic", value = "10ms" }"#
            ]
        );
    }

    #[test]
    fn bad_varies_say_what_is_wrong() {
        for (arg, want) in [
            ("a", "expected PATH=V1,V2"),
            ("=1,2", "empty part"),
            ("a=1,,2", "empty value"),
            ("a=5..1", "ends before it starts"),
            ("a=0s..300s", "needs a step"),
            ("a=0.1..0.5", "needs a step"),
            ("a=1..10:0", "positive integer"),
            ("a=0s..1s:0s", "more than 0"),
            ("a=1..100000", "more than 10000"),
            ("a=x..y:1s", "neither a number nor a duration"),
        ] {
            let e = parse_vary(arg).unwrap_err();
            assert!(e.contains(want), "{arg}: {e}");
        }
    }

    #[test]
    fn the_grid_is_row_major() {
        let v = [parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let p = points(&v);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], [0, 0]);
        assert_eq!(p[1], [0, 1]);
        assert_eq!(p[3], [1, 0]);
        assert_eq!(points(&[]), vec![Vec::<usize>::new()]);
    }
}
