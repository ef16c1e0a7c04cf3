//! The `lbsim` binary: commands, outputs, exit codes and error messages for bad input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small valid scenario; tests replace parts of it to make it invalid.
pub const BASE: &str = r#"
[simulation]
name = "tiny"
duration = "20s"
warmup = "2s"
seed = 3
metrics_interval = "5s"

[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 200.0 }

[load_balancer]
type = "application"

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "tg" }

[[target_groups]]
name = "tg"
algorithm = "round_robin"

[[services]]
name = "svc"
target_group = "tg"
desired_count = 2
task = { cpu = 1024, memory = 2048 }
request = { cpu_time = { dist = "exponential", mean = "5ms" } }
"#;

pub fn lbsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(args)
        .output()
        .expect("the lbsim binary runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Writes `content` to `name` in a fresh temporary directory.
pub fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, content).unwrap();
    p
}

/// Runs scenario text with `lbsim run` (quiet, no report) in a temporary directory and
/// returns its summary.json; panics with lbsim's output if the run fails.
pub fn run_summary_json(scenario: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "s.toml", scenario);
    let out = dir.path().join("out");
    let o = lbsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--no-report",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn help_has_examples_and_exit_codes() {
    let o = lbsim(&["--help"]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("lbsim run scenarios/nasa-jul95.toml"), "{t}");
    assert!(t.contains("Exit codes"), "{t}");
    assert!(text(&lbsim(&["run", "--help"])).contains("--set"));
}

#[test]
fn run_writes_its_files_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "tiny.toml", BASE);
    let out = dir.path().join("out");
    let o = lbsim(&["run", p(&sc), "--out", p(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("tiny") && t.contains("summary.json"), "{t}");
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".lbsim-output",
            "alarms.csv",
            "cloudwatch.csv",
            "dependencies.csv",
            "events.csv",
            "latency.csv",
            "metrics.csv",
            "plots",
            "report.html",
            "scenario.json",
            "summary.json"
        ]
    );
    let mut plots: Vec<String> = fs::read_dir(out.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    plots.sort();
    assert_eq!(plots, ["dashboard.svg", "latency_cdf.svg"]);
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"], "tiny");
    assert_eq!(summary["seed"], 3);
    assert_eq!(summary["complete"], true);
    // 20 s at 5 s intervals: 4 rows + header.
    let metrics = fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 5, "{metrics}");
    assert!(metrics.starts_with("time_s,interval_s,target_group,arrivals,"));
    let events = fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(events.contains("task_running,svc,svc-1,"), "{events}");
    assert!(events.starts_with("time_s,kind,service,task,target_group,reason,detail\n"));
}

#[test]
fn seed_duration_and_set_flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "tiny.toml", BASE);
    let out = dir.path().join("o");
    let o = lbsim(&[
        "run",
        p(&sc),
        "--out",
        p(&out),
        "--seed",
        "9",
        "--duration",
        "10s",
        "--set",
        "target_groups.tg.algorithm=least_outstanding_requests",
        "--set",
        "services.0.desired_count=3",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
    let s: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["seed"], 9);
    assert_eq!(s["duration_s"], 10.0);
    assert_eq!(
        s["target_groups"][0]["algorithm"],
        "least_outstanding_requests"
    );
    assert_eq!(s["target_groups"][0]["targets"], 3);
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "tiny.toml", BASE);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(["run", p(&sc), "--out", p(&dir.path().join("o"))])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `lbsim run ... | head -0`
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}

#[test]
fn validate_accepts_the_bundled_scenarios() {
    for sc in ["scenarios/nasa-jul95.toml", "benches/reference.toml"] {
        let o = lbsim(&["validate", sc]);
        assert!(o.status.success(), "{sc}: {}", text(&o));
        assert!(text(&o).contains(": ok"), "{}", text(&o));
    }
}

#[test]
fn json_scenarios_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let doc: toml::Value = toml::from_str(BASE).unwrap();
    let sc = write(
        &dir,
        "tiny.json",
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let o = lbsim(&["validate", p(&sc)]);
    assert!(o.status.success(), "{}", text(&o));
}

/// Each case: a replacement applied to BASE (or extra files), and fragments the error must
/// contain. Every case must exit with 2 and name the file.
#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "unknown field",
            "desired_count = 2",
            "desired_count = 2\ndesired_cuont = 3",
            &[":28:", "services.0", "unknown field `desired_cuont`"],
        ),
        (
            "duration without unit",
            r#"duration = "20s""#,
            "duration = 20",
            &[":4:", "simulation.duration", "a duration with a unit"],
        ),
        (
            "duration string without unit",
            r#"duration = "20s""#,
            r#"duration = "20""#,
            &[":4:", "simulation.duration", "has no unit"],
        ),
        (
            "rate out of range",
            "rate_rps = 200.0",
            "rate_rps = -5.0",
            &[":11:", "clients.0.arrivals.rate_rps", "must be > 0"],
        ),
        (
            "deterministic rate out of range",
            r#"process = "poisson", rate_rps = 200.0"#,
            r#"process = "deterministic", rate_rps = 0.0"#,
            &[":11:", "clients.0.arrivals.rate_rps", "must be > 0"],
        ),
        (
            "unknown algorithm",
            r#"algorithm = "round_robin""#,
            r#"algorithm = "round-robin""#,
            &[
                ":22:",
                "target_groups.0.algorithm",
                "allowed: round_robin, least_outstanding_requests",
            ],
        ),
        (
            "invalid Fargate size",
            "memory = 2048",
            "memory = 1024",
            &[":28:", "services.0.task.memory", "allowed 2048–8192"],
        ),
        (
            "invalid Fargate cpu",
            "cpu = 1024",
            "cpu = 1000",
            &["services.0.task.cpu", "256, 512, 1024"],
        ),
        (
            "forward to unknown target group",
            r#"target_group = "tg" }"#,
            r#"target_group = "nope" }"#,
            &[
                "default_action.target_group",
                "no target group is named \"nope\"",
            ],
        ),
        (
            "warm-up longer than the run",
            r#"warmup = "2s""#,
            r#"warmup = "1h""#,
            &["simulation.warmup", "shorter than simulation.duration"],
        ),
        (
            "missing trace file",
            r#"arrivals = { process = "poisson", rate_rps = 200.0 }"#,
            r#"arrivals = { process = "trace", file = "missing.csv" }"#,
            &[
                "missing.csv",
                "cannot read trace",
                "clients.0.arrivals.file",
            ],
        ),
        (
            "invalid TOML",
            "[simulation]",
            "[simulation",
            &[":2:", "invalid TOML"],
        ),
        (
            "target group name against AWS rules",
            r#"name = "tg""#,
            r#"name = "-tg""#,
            &["target_groups.0.name", "hyphen"],
        ),
        (
            "pareto without a finite mean",
            r#"{ dist = "exponential", mean = "5ms" }"#,
            r#"{ dist = "pareto", mean = "5ms", alpha = 0.9 }"#,
            &["services.0.request.cpu_time.alpha", "must be > 1"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, from, to, wants) in cases {
        assert!(BASE.contains(from), "{what}: BASE lacks {from}");
        let sc = write(&dir, "bad.toml", &BASE.replacen(from, to, 1));
        for cmd in ["validate", "run"] {
            let o = lbsim(
                &[cmd, p(&sc), "--out", p(&dir.path().join("o"))]
                    [..if cmd == "run" { 4 } else { 2 }],
            );
            let t = text(&o);
            assert_eq!(o.status.code(), Some(2), "{what} ({cmd}): {t}");
            assert!(!t.contains("panicked"), "{what}: {t}");
            assert!(
                t.contains("bad.toml") || t.contains("missing.csv"),
                "{what}: {t}"
            );
            for w in *wants {
                assert!(t.contains(w), "{what} ({cmd}): expected {w:?} in:\n{t}");
            }
        }
    }
}

#[test]
fn malformed_trace_rows_name_the_trace_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("t_s,rps\n0,1.0\n60,abc\n", ":3", "malformed row"),
        ("t_s,rps\n0,1.0\n60,-2\n", ":3", "rps = -2"),
        ("t_s,rps\n0,1.0\n0,2\n", ":3", "increasing time order"),
        ("time,rate\n0,1.0\n", ":1", "t_s,rps"),
        ("t_s,rps\n", "", "no rows"),
        ("t_s,rps\n0,1\n1e300,1\n", ":3", "seconds from 0 to"),
    ];
    for (csv, line, want) in cases {
        write(&dir, "trace.csv", csv);
        let sc = write(
            &dir,
            "t.toml",
            &BASE.replacen(
                r#"arrivals = { process = "poisson", rate_rps = 200.0 }"#,
                r#"arrivals = { process = "trace", file = "trace.csv" }"#,
                1,
            ),
        );
        let o = lbsim(&["validate", p(&sc)]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains(&format!("trace.csv{line}")), "{csv:?}: {t}");
        assert!(t.contains(want), "{csv:?}: {t}");
    }
}

#[test]
fn bad_overrides_and_missing_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "tiny.toml", BASE);
    for (args, want) in [
        (vec!["--set", "services.5.desired_count=1"], "out of range"),
        (
            vec!["--set", "services.svc.desired_count=-1"],
            "services.0.desired_count",
        ),
        (vec!["--set", "nonsense"], "expected path=value"),
        (
            vec!["--set", "target_groups.0.algorithm=fastest"],
            "(set by --set",
        ),
        (vec!["--duration", "forever"], "not a duration"),
    ] {
        let mut a = vec!["validate", p(&sc)];
        if args[0] == "--duration" {
            a[0] = "run";
        }
        a.extend(args.iter());
        let o = lbsim(&a);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {t}");
        assert!(t.contains(want), "{a:?}: expected {want:?} in {t}");
    }
    let o = lbsim(&["validate", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no/such/file.toml"));
    let o = lbsim(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2), "clap usage errors exit 2");
}
