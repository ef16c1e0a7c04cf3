//! The README cannot drift: every command it shows runs as shown, and the figures it quotes
//! are those runs' figures.
//!
//! - Every line of every ```` ```sh ```` block is a command. `cargo run --release -- ARGS`
//!   and `lbsim ARGS` are run here with the binary under test, from the project's root, and
//!   must succeed (a `run` gets `--out` into a temporary directory, so the repository is not
//!   written to). Any other command (`cargo test --release`, `cargo install --path .`) must
//!   appear in `.ci/run`, which CI executes.
//! - The figures of the "Then try another algorithm" paragraph are recomputed from the two
//!   runs' `summary.json` and `metrics.csv` and must appear, as formatted here, in the README
//!   (whitespace-insensitive): change the model and this test says which sentence is stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const README: &str = include_str!("../../README.md");
const CI: &str = include_str!("../../.ci/run");

/// The lines of the README's `sh` code blocks (fences may be indented, as in a list).
fn sh_commands() -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in README.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            inside = !inside && t == "```sh";
            continue;
        }
        if inside && !t.is_empty() && !t.starts_with('#') {
            out.push(t.to_string());
        }
    }
    out
}

/// The arguments of a command this test runs itself, or `None`.
fn lbsim_args(cmd: &str) -> Option<Vec<String>> {
    let rest = cmd
        .strip_prefix("cargo run --release -- ")
        .or_else(|| cmd.strip_prefix("lbsim "))?;
    assert!(
        !rest.contains(['"', '\'', '$', '|', '>']),
        "README command {cmd:?}: quotes and shell syntax are not supported by this test"
    );
    Some(rest.split_whitespace().map(String::from).collect())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Thousands separators.
fn count(n: u64) -> String {
    lbsim::model::estimate::thousands(n)
}

/// `time_s` of a minute as the wall clock of the trace's day (t = 0 is 00:00).
fn clock(time_s: u64) -> String {
    format!("{:02}:{:02}", time_s / 3600, time_s % 3600 / 60)
}

/// summary.json and metrics.csv of one run.
struct RunOut {
    summary: Value,
    rows: Vec<BTreeMap<String, String>>,
}

impl RunOut {
    fn read(dir: &Path) -> RunOut {
        let summary =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        let rows = crate::support::read_metrics_csv(&dir.join("metrics.csv"));
        RunOut { summary, rows }
    }

    fn p99(&self) -> f64 {
        self.summary["latency_ms"]["p99"].as_f64().unwrap()
    }

    fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
        row[col].parse().unwrap_or(0.0)
    }

    /// The row with the highest `latency_p99_ms`.
    fn worst(&self) -> &BTreeMap<String, String> {
        self.rows
            .iter()
            .max_by(|a, b| {
                Self::num(a, "latency_p99_ms").total_cmp(&Self::num(b, "latency_p99_ms"))
            })
            .unwrap()
    }

    fn at(&self, time_s: &str) -> &BTreeMap<String, String> {
        self.rows.iter().find(|r| r["time_s"] == time_s).unwrap()
    }
}

#[test]
fn every_readme_command_runs_and_its_figures_are_current() {
    let tmp = tempfile::tempdir().unwrap();
    let commands = sh_commands();
    assert!(commands.len() >= 5, "{commands:?}");
    let mut outs: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (i, cmd) in commands.iter().enumerate() {
        let Some(mut args) = lbsim_args(cmd) else {
            assert!(
                CI.contains(cmd.as_str()),
                "README command {cmd:?} is neither run by this test nor by .ci/run"
            );
            continue;
        };
        // Every --out goes into the temporary directory, and a later command naming the same
        // directory (lbsim merge, lbsim plot) reads it there.
        for a in args.iter_mut().skip(1) {
            if let Some(mapped) = dirs.get(a.as_str()) {
                *a = mapped.display().to_string();
            }
        }
        if ["run", "sweep", "compare", "merge"].contains(&args[0].as_str()) {
            let out = tmp.path().join(format!("out{i}"));
            match args.iter().position(|a| a == "--out") {
                Some(k) => {
                    dirs.insert(args[k + 1].clone(), out.clone());
                    args[k + 1] = out.display().to_string();
                }
                None => args.extend(["--out".into(), out.display().to_string()]),
            }
            args.push("--quiet".into());
            outs.insert(cmd.clone(), out);
        }
        let o = Command::new(env!("CARGO_BIN_EXE_lbsim"))
            .args(&args)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "README command {cmd:?} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    let rr = RunOut::read(&outs["cargo run --release -- run scenarios/nasa-jul95.toml"]);
    let lor_cmd = outs
        .keys()
        .find(|c| c.starts_with("lbsim run") && c.contains("least_outstanding_requests"))
        .expect("the README compares least_outstanding_requests")
        .clone();
    let lor = RunOut::read(&outs[&lor_cmd]);
    let text: String = README.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut stale = Vec::new();
    let mut want = |phrase: String| {
        if !text.contains(&phrase) {
            stale.push(phrase);
        }
    };

    let w = rr.worst();
    let t: u64 = w["time_s"].parse().unwrap();
    assert_eq!(
        t / 3600,
        9,
        "round robin's worst minute is no longer in the launch morning"
    );
    want(format!(
        "`round_robin` gives p99 {:.0} ms overall",
        rr.p99()
    ));
    want(format!(
        "worst minute of the launch-morning peak ({}, `time_s` {t} in `metrics.csv`, {} responses at {:.0} % CPU), p99 {:.0} ms",
        clock(t),
        count(w["responses_ok"].parse().unwrap()),
        RunOut::num(w, "cpu_utilization_mean_pct"),
        RunOut::num(w, "latency_p99_ms"),
    ));
    want(format!(
        "`least_outstanding_requests` gives p99 {:.0} ms overall and {:.0} ms in that same minute",
        lor.p99(),
        RunOut::num(lor.at(&w["time_s"]), "latency_p99_ms"),
    ));
    let cpu = |r: &RunOut| r.summary["cpu_utilization"]["mean_pct"].as_f64().unwrap();
    assert_eq!(cpu(&rr), cpu(&lor), "the same requests need the same CPU");
    want(format!("with the same mean CPU ({:.1} %)", cpu(&rr)));
    let lw = lor.worst();
    let lt: u64 = lw["time_s"].parse().unwrap();
    assert_ne!(
        lt, t,
        "least outstanding requests' worst minute is the peak's now"
    );
    let n: u64 = lw["responses_ok"].parse().unwrap();
    assert!(
        n < 1000,
        "its worst minute is no longer a quiet one ({n} requests)"
    );
    want(format!(
        "Its own worst minute is another one: {} (`time_s` {lt}), a quiet minute of {n} requests whose p99 of {:.0} ms",
        clock(lt),
        RunOut::num(lw, "latency_p99_ms"),
    ));
    // The deregistration-delay sweep of "Sweeps and comparisons".
    let sweep_dir = outs
        .iter()
        .find(|(c, _)| c.starts_with("lbsim sweep scenarios/deploy-502.toml"))
        .map(|(_, d)| d.clone())
        .expect("the README sweeps deploy-502's deregistration delay");
    let rows = super::support::read_metrics_csv(&sweep_dir.join("sweep_summary.csv"));
    let at = |delay: &str, metric: &str| -> (f64, f64) {
        let r = rows
            .iter()
            .find(|r| r["target_groups.0.deregistration_delay"] == delay && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric} at {delay}"));
        let mean: f64 = r["mean"].parse().unwrap();
        let hi: f64 = r["ci95_high"].parse().unwrap();
        (mean, hi - mean)
    };
    let cut = "requests_elb_502_deregistration_delay";
    let (m0, h0) = at("0s", cut);
    let (m10, h10) = at("10s", cut);
    want(format!(
        "{m0:.0} ± {h0:.0} requests cut with a 502 at 0 s, {m10:.0} ± {h10:.0} at 10 s"
    ));
    let first_zero = ["0s", "5s", "10s", "15s", "20s", "25s", "30s"]
        .into_iter()
        .find(|d| at(d, cut).0 == 0.0)
        .expect("some delay cuts no request");
    want(format!(
        "none from {} s (the longest request)",
        first_zero.trim_end_matches('s')
    ));
    want(format!(
        "a deployment that takes {:.0} s at 0 s and {:.0} s from {} s",
        at("0s", "deployment_duration_s").0,
        at(first_zero, "deployment_duration_s").0,
        first_zero.trim_end_matches('s')
    ));
    assert!(
        stale.is_empty(),
        "the README quotes figures the runs no longer give; expected these phrases:\n{}",
        stale.join("\n")
    );
}

/// The harness itself: it finds the commands, and a figure that changed is reported.
#[test]
fn the_harness_finds_commands_and_rejects_unknown_ones() {
    let cmds = sh_commands();
    assert!(cmds.contains(&"cargo run --release -- run scenarios/nasa-jul95.toml".to_string()));
    assert!(cmds.contains(&"cargo test --release".to_string()));
    assert_eq!(
        lbsim_args("lbsim validate a.toml --set x=1"),
        Some(vec![
            "validate".into(),
            "a.toml".into(),
            "--set".into(),
            "x=1".into()
        ])
    );
    assert_eq!(lbsim_args("cargo test --release"), None);
    assert!(
        !CI.contains("cargo frobnicate"),
        "an unknown command would be reported"
    );
    assert_eq!(count(16074), "16,074");
    assert_eq!(clock(35340), "09:49");
}
