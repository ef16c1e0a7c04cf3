//! Regression checks against golden files (`lbsim check`): the golden format, per-metric
//! tolerances, and the comparison of a golden with a run's figures. Pure: no file is read
//! here but the `metrics.csv` bytes given; the command (`cli`) runs the scenarios.
//!
//! A golden file (`scenarios/golden/<scenario file stem>.json`) is pretty JSON:
//!
//! - `format` (1), `scenario` (its name), `scenario_file`, `seed`, `lbsim_version` (the
//!   version that blessed it; not compared);
//! - `set`: `--set` overrides applied to the scenario before the run (e.g. a shorter
//!   `simulation.duration="2h"`), optional;
//! - `tolerances`: per metric, `"2%"` (relative to the golden value) or `"0.001"` (absolute,
//!   in the metric's unit); the key `*` applies to every metric without its own; optional,
//!   exact when absent;
//! - `metrics`: every flat metric of the summary ([`crate::metrics::flat_metrics`]), in that
//!   order, `null` when the run has no such figure;
//! - `series`: figures of `metrics.csv` ([`series`]): its row count, and the extremes of a
//!   few columns over every row (every interval of every target group), named
//!   `metrics_csv.<column>.<max|min>`;
//! - `metrics_csv_blake3`: the BLAKE3 digest of the whole `metrics.csv`. It is compared only
//!   when the check is exact (no tolerance applies): then any change in any interval fails;
//!   with tolerances, the figures decide and a changed digest is only reported.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::metrics::FlatMetric;

/// The golden file format's version.
pub const GOLDEN_FORMAT: u32 = 1;

/// Named figures in a fixed order, written as a JSON object in that order (whole numbers
/// as integers); read back in the file's order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures(pub Vec<FlatMetric>);

impl Serialize for Figures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, &json_number(*v))?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Figures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Figures;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of metric names to numbers or null")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Figures, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Option<f64>>()? {
                    out.push((k, v));
                }
                Ok(Figures(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A figure as JSON: a whole number (below 2⁵³) as an integer, others as a float, `None`
/// (and a non-finite value, which JSON cannot hold) as `null`.
fn json_number(v: Option<f64>) -> serde_json::Value {
    match v {
        Some(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 => {
            serde_json::Value::from(x as i64)
        }
        Some(x) => serde_json::Value::from(x),
        None => serde_json::Value::Null,
    }
}

/// `v` as it reads back from a golden file: written and parsed as JSON, so that an exact
/// comparison is not defeated by the JSON reader's last-bit rounding.
pub fn as_stored(v: Option<f64>) -> Option<f64> {
    let text = json_number(v).to_string();
    serde_json::from_str::<Option<f64>>(&text).unwrap_or(v)
}

/// One golden file (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Golden {
    /// The format's version, [`GOLDEN_FORMAT`].
    pub format: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's file name (informational).
    pub scenario_file: String,
    /// The run's seed (the scenario's; informational).
    pub seed: u64,
    /// The lbsim version that blessed the file (informational, not compared).
    pub lbsim_version: String,
    /// `--set` overrides (`PATH=VALUE`) applied before the run, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// Tolerances by metric name (`*`: every other metric), as [`Tolerance::parse`] reads.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tolerances: BTreeMap<String, String>,
    /// The summary's flat metrics.
    pub metrics: Figures,
    /// Figures of `metrics.csv` ([`series`]).
    pub series: Figures,
    /// BLAKE3 digest of `metrics.csv`, hex.
    pub metrics_csv_blake3: String,
}

/// How far a figure may move from its golden value and still pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// At most this much, in the metric's unit.
    Absolute(f64),
    /// At most this fraction of the golden value's magnitude (written as a percentage).
    Relative(f64),
}

impl Tolerance {
    /// Reads `"2%"` (relative) or `"0.001"` (absolute).
    ///
    /// # Errors
    /// A message saying what is allowed, for anything else (negative, not finite, no
    /// number).
    pub fn parse(s: &str) -> Result<Tolerance, String> {
        let t = s.trim();
        let (num, pct) = match t.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (t, false),
        };
        match num.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(if pct {
                Tolerance::Relative(x / 100.0)
            } else {
                Tolerance::Absolute(x)
            }),
            _ => Err(format!(
                "tolerance \"{s}\": write a percentage of the golden value (\"2%\") or an absolute amount in the metric's unit (\"0.001\"), ≥ 0"
            )),
        }
    }

    /// The largest allowed |actual − golden| for this golden value.
    pub fn allowed(self, golden: f64) -> f64 {
        match self {
            Tolerance::Absolute(x) => x,
            Tolerance::Relative(f) => f * golden.abs(),
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Absolute(x) => write!(f, "±{x}"),
            Tolerance::Relative(r) => write!(f, "±{}%", crate::metrics::round_to(r * 100.0, 9)),
        }
    }
}

/// Tolerances by metric name; `*` is every metric without its own. Empty: exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tolerances(pub BTreeMap<String, Tolerance>);

impl Tolerances {
    /// Reads `NAME=TOL` pairs (`latency_p99_ms=2%`, `fraction_5xx=0.001`, `*=1%`).
    ///
    /// # Errors
    /// A message naming the bad pair.
    pub fn parse_pairs<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut out = BTreeMap::new();
        for p in pairs {
            let Some((name, tol)) = p.split_once('=') else {
                return Err(format!(
                    "--tolerance \"{p}\": write METRIC=TOLERANCE, e.g. latency_p99_ms=2% or fraction_5xx=0.001"
                ));
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(format!("--tolerance \"{p}\": no metric name before '='"));
            }
            out.insert(name.to_string(), Tolerance::parse(tol)?);
        }
        Ok(Tolerances(out))
    }

    /// Reads a golden file's `tolerances`.
    ///
    /// # Errors
    /// A message naming the metric whose tolerance cannot be read.
    pub fn from_golden(map: &BTreeMap<String, String>) -> Result<Self, String> {
        map.iter()
            .map(|(k, v)| {
                Tolerance::parse(v)
                    .map(|t| (k.clone(), t))
                    .map_err(|e| format!("tolerances.{k}: {e}"))
            })
            .collect::<Result<_, _>>()
            .map(Tolerances)
    }

    /// These, with `over`'s replacing any of the same name.
    pub fn overridden_by(&self, over: &Tolerances) -> Tolerances {
        let mut m = self.0.clone();
        m.extend(over.0.iter().map(|(k, v)| (k.clone(), *v)));
        Tolerances(m)
    }

    /// The tolerance of `metric`: its own, else `*`'s, else none (exact).
    pub fn of(&self, metric: &str) -> Option<Tolerance> {
        self.0.get(metric).or_else(|| self.0.get("*")).copied()
    }

    /// True when no tolerance is given: every figure must be equal.
    pub fn is_exact(&self) -> bool {
        self.0.is_empty()
    }

    /// As strings for a golden file.
    pub fn to_golden(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(k, t)| {
                let s = match t {
                    Tolerance::Absolute(x) => format!("{x}"),
                    Tolerance::Relative(r) => {
                        format!("{}%", crate::metrics::round_to(r * 100.0, 9))
                    }
                };
                (k.clone(), s)
            })
            .collect()
    }
}

/// How a figure compares with its golden value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Equal (both absent counts as equal).
    Same,
    /// Different, within its tolerance: passes.
    Within,
    /// Different beyond its tolerance (or one side has no value): a regression.
    Changed,
    /// In the run, not in the golden (a metric added since it was blessed): passes,
    /// reported so the golden can be re-blessed.
    New,
    /// In the golden, not in the run (a metric renamed or removed): a regression.
    Missing,
}

impl Status {
    /// True for the statuses that fail a check.
    pub fn fails(self) -> bool {
        matches!(self, Status::Changed | Status::Missing)
    }

    /// The word shown in the table.
    pub fn word(self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Within => "within tolerance",
            Status::Changed => "REGRESSION",
            Status::New => "new (not in golden)",
            Status::Missing => "MISSING from run",
        }
    }
}

/// One compared figure. `golden` / `actual`: `None` when the figure is not in that side at
/// all, `Some(None)` when it is there without a value (`null`).
#[derive(Clone, Debug, PartialEq)]
pub struct DiffRow {
    /// The figure's name.
    pub metric: String,
    /// Its golden value.
    pub golden: Option<Option<f64>>,
    /// Its value in this run.
    pub actual: Option<Option<f64>>,
    /// The tolerance applied, if any.
    pub tolerance: Option<Tolerance>,
    /// The verdict.
    pub status: Status,
}

impl DiffRow {
    /// actual − golden, when both are numbers.
    pub fn change(&self) -> Option<f64> {
        match (self.golden, self.actual) {
            (Some(Some(g)), Some(Some(a))) => Some(a - g),
            _ => None,
        }
    }

    /// The change as a percentage of |golden|, when both are numbers and golden ≠ 0.
    pub fn change_pct(&self) -> Option<f64> {
        match (self.golden, self.change()) {
            (Some(Some(g)), Some(c)) if g != 0.0 => Some(c / g.abs() * 100.0),
            _ => None,
        }
    }
}

/// Compares a run's figures with the golden's: one row per figure, in the run's order, then
/// the golden's figures the run does not have. Values of `actual` are compared as they would
/// be stored ([`as_stored`]).
pub fn compare(golden: &[FlatMetric], actual: &[FlatMetric], tol: &Tolerances) -> Vec<DiffRow> {
    let g: BTreeMap<&str, Option<f64>> = golden.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let a: BTreeMap<&str, Option<f64>> = actual.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut rows: Vec<DiffRow> = actual
        .iter()
        .map(|(name, v)| {
            let v = as_stored(*v);
            let tolerance = tol.of(name);
            let status = match g.get(name.as_str()) {
                None => Status::New,
                Some(gv) => figure_status(*gv, v, tolerance),
            };
            DiffRow {
                metric: name.clone(),
                golden: g.get(name.as_str()).copied(),
                actual: Some(v),
                tolerance,
                status,
            }
        })
        .collect();
    rows.extend(
        golden
            .iter()
            .filter(|(k, _)| !a.contains_key(k.as_str()))
            .map(|(k, v)| DiffRow {
                metric: k.clone(),
                golden: Some(*v),
                actual: None,
                tolerance: tol.of(k),
                status: Status::Missing,
            }),
    );
    rows
}

fn figure_status(golden: Option<f64>, actual: Option<f64>, tol: Option<Tolerance>) -> Status {
    match (golden, actual) {
        (None, None) => Status::Same,
        (Some(g), Some(a)) if g == a => Status::Same,
        (Some(g), Some(a)) => match tol {
            Some(t) if (a - g).abs() <= t.allowed(g) => Status::Within,
            _ => Status::Changed,
        },
        _ => Status::Changed,
    }
}

/// The `metrics.csv` columns summarised in a golden's `series`, and how: the largest or
/// smallest value over every row (empty cells skipped). A column the file lacks is skipped.
pub const SERIES: &[(&str, Extreme)] = &[
    ("responses", Extreme::Max),
    ("latency_p99_ms", Extreme::Max),
    ("cpu_utilization_max_pct", Extreme::Max),
    ("in_flight", Extreme::Max),
    ("tasks_running", Extreme::Min),
    ("tasks_running", Extreme::Max),
    ("targets_healthy", Extreme::Min),
];

/// Which end of a column [`SERIES`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extreme {
    /// The largest value.
    Max,
    /// The smallest value.
    Min,
}

/// The `series` figures of a run's `metrics.csv` (see [`SERIES`]): `metrics_csv.rows`, then
/// `metrics_csv.<column>.<max|min>` (`None` when the column has no value), and the file's
/// BLAKE3 digest (hex).
///
/// # Errors
/// A message when the CSV cannot be read, or a cell of a summarised column is not a number.
pub fn series(metrics_csv: &[u8]) -> Result<(Vec<FlatMetric>, String), String> {
    let digest = blake3::hash(metrics_csv).to_hex().to_string();
    let mut r = csv::Reader::from_reader(metrics_csv);
    let header = r
        .headers()
        .map_err(|e| format!("metrics.csv: {e}"))?
        .clone();
    let cols: Vec<(usize, &str, Extreme)> = SERIES
        .iter()
        .filter_map(|&(c, x)| header.iter().position(|h| h == c).map(|i| (i, c, x)))
        .collect();
    let mut acc: Vec<Option<f64>> = vec![None; cols.len()];
    let mut rows = 0u64;
    for rec in r.records() {
        let rec = rec.map_err(|e| format!("metrics.csv: {e}"))?;
        rows += 1;
        for (k, &(i, name, x)) in cols.iter().enumerate() {
            let cell = rec.get(i).unwrap_or("");
            if cell.is_empty() {
                continue;
            }
            let v: f64 = cell.parse().map_err(|_| {
                format!("metrics.csv row {rows}: {name} = \"{cell}\" is not a number")
            })?;
            acc[k] = Some(match (acc[k], x) {
                (None, _) => v,
                (Some(m), Extreme::Max) => m.max(v),
                (Some(m), Extreme::Min) => m.min(v),
            });
        }
    }
    let mut out = vec![("metrics_csv.rows".to_string(), Some(rows as f64))];
    for (k, &(_, name, x)) in cols.iter().enumerate() {
        let which = match x {
            Extreme::Max => "max",
            Extreme::Min => "min",
        };
        out.push((format!("metrics_csv.{name}.{which}"), acc[k]));
    }
    Ok((out, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, v: Option<f64>) -> FlatMetric {
        (name.to_string(), v)
    }

    #[test]
    fn exact_by_default_and_tolerances_let_small_changes_pass() {
        let golden = vec![
            f("latency_p99_ms", Some(100.0)),
            f("fraction_5xx", Some(0.01)),
            f("gone", Some(1.0)),
        ];
        let actual = vec![
            f("latency_p99_ms", Some(101.5)),
            f("fraction_5xx", Some(0.01)),
            f("added", None),
        ];
        let rows = compare(&golden, &actual, &Tolerances::default());
        let st: Vec<(&str, Status)> = rows.iter().map(|r| (r.metric.as_str(), r.status)).collect();
        assert_eq!(
            st,
            vec![
                ("latency_p99_ms", Status::Changed),
                ("fraction_5xx", Status::Same),
                ("added", Status::New),
                ("gone", Status::Missing),
            ]
        );
        assert_eq!(rows[0].change(), Some(1.5));
        assert_eq!(rows[0].change_pct(), Some(1.5));
        let t = Tolerances::parse_pairs(["latency_p99_ms=2%"]).unwrap();
        assert_eq!(
            compare(&golden, &actual, &t)[0].status,
            Status::Within,
            "1.5 % is within 2 %"
        );
        let t = Tolerances::parse_pairs(["*=1%"]).unwrap();
        assert_eq!(compare(&golden, &actual, &t)[0].status, Status::Changed);
        let t = Tolerances::parse_pairs(["*=1%", "latency_p99_ms=1.5"]).unwrap();
        assert_eq!(compare(&golden, &actual, &t)[0].status, Status::Within);
        // A figure that lost its value is a regression whatever the tolerance.
        let t = Tolerances::parse_pairs(["*=100%"]).unwrap();
        let rows = compare(&golden, &[f("latency_p99_ms", None)], &t);
        assert_eq!(rows[0].status, Status::Changed);
    }

    #[test]
    fn tolerances_parse_and_print() {
        assert_eq!(Tolerance::parse("2%"), Ok(Tolerance::Relative(0.02)));
        assert_eq!(Tolerance::parse(" 0.001 "), Ok(Tolerance::Absolute(0.001)));
        assert!(Tolerance::parse("-1").is_err());
        assert!(Tolerance::parse("nan").is_err());
        assert!(Tolerance::parse("x%").is_err());
        assert!(Tolerances::parse_pairs(["latency_p99_ms"]).is_err());
        let t = Tolerances::parse_pairs(["a=2.5%", "b=0.5"]).unwrap();
        let back = Tolerances::from_golden(&t.to_golden()).unwrap();
        assert_eq!(back, t);
        assert_eq!(Tolerance::Relative(0.025).to_string(), "±2.5%");
    }

    #[test]
    fn figures_keep_their_order_and_read_back_equal() {
        let figs = Figures(vec![
            f("z", Some(3.0)),
            f("a", Some(0.1 + 0.2)),
            f("m", None),
            f("big", Some(1e300)),
        ]);
        let text = serde_json::to_string(&figs).unwrap();
        assert_eq!(
            text,
            r#"{"z":3,"a":0.30000000000000004,"m":null,"big":1e+300}"#
        );
        let back: Figures = serde_json::from_str(&text).unwrap();
        let stored: Vec<FlatMetric> = figs
            .0
            .iter()
            .map(|(k, v)| (k.clone(), as_stored(*v)))
            .collect();
        assert_eq!(back.0, stored);
        assert!(
            compare(&back.0, &figs.0, &Tolerances::default())
                .iter()
                .all(|r| r.status == Status::Same)
        );
    }

    #[test]
    fn series_takes_the_extremes_of_the_chosen_columns() {
        let csv = "time_s,target_group,responses,latency_p99_ms,tasks_running\n\
                   60,web,10,5.5,2\n120,web,30,,1\n180,web,20,7.25,3\n";
        let (figs, digest) = series(csv.as_bytes()).unwrap();
        assert_eq!(
            figs,
            vec![
                f("metrics_csv.rows", Some(3.0)),
                f("metrics_csv.responses.max", Some(30.0)),
                f("metrics_csv.latency_p99_ms.max", Some(7.25)),
                f("metrics_csv.tasks_running.min", Some(1.0)),
                f("metrics_csv.tasks_running.max", Some(3.0)),
            ]
        );
        assert_eq!(digest, blake3::hash(csv.as_bytes()).to_hex().to_string());
        assert!(series(b"a,responses\n1,x\n").is_err());
    }
}
