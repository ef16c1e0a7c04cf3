//! Bounded by design: the work budget (`--force`), the in-flight limit of unstable runs
//! (partial outputs, exit 1), progress on a terminal, and interrupted runs (SIGINT,
//! SIGTERM: partial outputs; SIGKILL: the previous outputs stay whole). Real `lbsim`
//! processes, real signals.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cli::{BASE, lbsim, text, write};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn summary(dir: &Path) -> serde_json::Value {
    let t = fs::read_to_string(dir.join("summary.json")).expect("summary.json is written");
    serde_json::from_str(&t).unwrap()
}

/// BASE with a different arrival rate and duration.
fn scenario(rate: &str, duration: &str) -> String {
    BASE.replacen("rate_rps = 200.0", &format!("rate_rps = {rate}"), 1)
        .replacen(
            r#"duration = "20s""#,
            &format!("duration = \"{duration}\""),
            1,
        )
}

#[test]
fn runs_over_the_budget_are_refused_with_the_estimate_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    // The issue's year at 1e7 requests/s, and a 100 ms metrics interval over a year.
    let huge = write(&dir, "huge.toml", &scenario("1e7", "366d"));
    let rows = write(
        &dir,
        "rows.toml",
        &scenario("1.0", "366d").replacen(
            r#"metrics_interval = "5s""#,
            r#"metrics_interval = "100ms""#,
            1,
        ),
    );
    let out = dir.path().join("o");
    for (file, wants) in [
        (&huge, vec!["3.2e14 requests", "budget of 1e9 requests"]),
        (
            &rows,
            vec![
                "rows of metrics.csv",
                "of output expected",
                "budget of 1.0 GB",
            ],
        ),
    ] {
        let o = lbsim(&["run", p(file), "--out", p(&out)]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains(p(file)), "names the file: {t}");
        assert!(t.contains("--force"), "names the override: {t}");
        for w in wants {
            assert!(t.contains(w), "expected {w:?} in {t}");
        }
        assert!(!out.exists(), "nothing is written");
        // validate says it is valid, and that run will refuse it.
        let o = lbsim(&["validate", p(file)]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("warning: ") && text(&o).contains("without --force"));
        // A sweep refuses it too.
        let o = lbsim(&[
            "sweep",
            p(file),
            "--vary",
            "services.0.desired_count=1,2",
            "-r",
            "1",
            "--out",
            p(&out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--force"));
    }
    // Under the budget: a day at 1e3/s (8.6e7 requests) is not refused (validated, not run).
    let ok = write(&dir, "ok.toml", &scenario("1e3", "1d"));
    let o = lbsim(&["run", p(&ok), "--out", p(&out), "--duration", "5s"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn the_estimate_is_close_to_the_requests_of_a_real_trace() {
    // nasa-jul95 replays a real day (scaled 40×): 5,365,245 requests arrive with seed 1.
    let o = lbsim(&["validate", "scenarios/nasa-jul95.toml"]);
    let t = text(&o);
    assert!(
        t.contains("about 5.4e6 requests, 1,440 rows of metrics.csv"),
        "{t}"
    );
}

#[test]
fn an_unstable_run_stops_at_the_in_flight_limit_with_partial_outputs() {
    let dir = tempfile::tempdir().unwrap();
    // 1e7 requests/s into 2 tasks of 1 vCPU at 5 ms: capacity 400/s.
    let sc = write(&dir, "unstable.toml", &scenario("1e7", "60s"));
    let out = dir.path().join("o");
    let o = lbsim(&["run", p(&sc), "--out", p(&out), "--max-in-flight", "20000"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    for w in [
        "unstable: ",
        "requests in flight at t = ",
        "(limit 20,000)",
        "offered 1e7/s vs capacity 400/s",
        "complete\": false",
        "--max-in-flight",
    ] {
        assert!(t.contains(w), "expected {w:?} in {t}");
    }
    let s = summary(&out);
    assert_eq!(s["complete"], false);
    let reason = s["stop_reason"].as_str().unwrap();
    assert!(reason.starts_with("unstable: "), "{reason}");
    let reached = s["duration_s"].as_f64().unwrap();
    assert!(reached > 0.0 && reached < 0.1, "stops early: {reached}");
    let in_flight = s["requests"]["in_flight_at_end"].as_u64().unwrap();
    assert!(
        (20_000..20_000 + 5_000).contains(&in_flight),
        "stops near the limit: {in_flight}"
    );
    for f in ["metrics.csv", "events.csv", "latency.csv", "scenario.json"] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    // The same scenario with capacity to spare runs to its end: no stop reason.
    let stable = write(&dir, "stable.toml", &scenario("100.0", "20s"));
    let o = lbsim(&["run", p(&stable), "--out", p(&dir.path().join("s"))]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = summary(&dir.path().join("s"));
    assert_eq!(s["complete"], true);
    assert_eq!(s["stop_reason"], serde_json::Value::Null);
}

#[test]
fn an_unstable_sweep_run_is_marked_incomplete_and_the_sweep_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "s.toml", &scenario("2e6", "10s"));
    let out = dir.path().join("sw");
    let o = lbsim(&[
        "sweep",
        p(&sc),
        "--vary",
        "services.0.desired_count=1,2",
        "-r",
        "1",
        "--out",
        p(&out),
        "--no-report",
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("warning: 2 run(s) stopped before their end"),
        "{t}"
    );
    let mut n = 0;
    for e in fs::read_dir(out.join("runs")).unwrap() {
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
        assert_eq!(v["complete"], false);
        assert!(v["stop_reason"].as_str().unwrap().starts_with("unstable"));
        n += 1;
    }
    assert_eq!(n, 2);
}

/// Runs `lbsim ARGS` under a pseudo-terminal (util-linux `script`), returning what the
/// terminal showed.
fn on_a_terminal(args: &str) -> String {
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_lbsim"));
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` gives the test a terminal");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn long_runs_show_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    // A few seconds of wall time: 300 requests/s for 6 h (6.5e6 requests).
    let sc = write(&dir, "long.toml", &scenario("300.0", "6h"));
    let out = dir.path().join("o");
    let args = format!("run {} --out {} --no-report", p(&sc), p(&out));
    let shown = on_a_terminal(&args);
    assert!(
        shown.contains("/21600 s simulated")
            && shown.contains("requests (")
            && shown.contains("ETA"),
        "a progress bar on the terminal: {shown}"
    );
    assert!(
        shown.contains("scenario tiny · seed 3 · 21600 s simulated"),
        "then the summary: {shown}"
    );
    let quiet = on_a_terminal(&format!("{args} --quiet --overwrite"));
    assert!(!quiet.contains("/21600 s simulated"), "--quiet: {quiet}");
    // Not a terminal: no bar.
    let o = lbsim(&["run", p(&sc), "--out", p(&out), "--no-report"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!text(&o).contains("/21600 s simulated"), "{}", text(&o));
}

/// Starts a long run into `out`, waits until it is busy (its staging directory exists, or
/// 1.5 s), sends `signal` and returns the exit code and the output.
fn interrupt(sc: &Path, out: &Path, signal: &str) -> (Option<i32>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(["run", p(sc), "--out", p(out), "--no-report"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let k = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stops promptly"
    );
    (o.status.code(), text(&o))
}

#[test]
fn sigint_and_sigterm_stop_at_an_event_boundary_with_partial_outputs() {
    let dir = tempfile::tempdir().unwrap();
    // 5e8 requests: minutes of work, interrupted after 1.5 s.
    let sc = write(&dir, "long.toml", &scenario("200.0", "29d"));
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = dir.path().join(&signal[1..]);
        let (status, t) = interrupt(&sc, &out, signal);
        assert_eq!(status, Some(code), "{signal}: {t}");
        let name = if signal == "-INT" {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        assert!(t.contains(&format!("interrupted by {name} at t = ")), "{t}");
        let s = summary(&out);
        assert_eq!(s["complete"], false, "{signal}");
        assert!(
            s["stop_reason"]
                .as_str()
                .unwrap()
                .starts_with(&format!("interrupted by {name}"))
        );
        let reached = s["duration_s"].as_f64().unwrap();
        assert!(reached > 0.0 && reached < 29.0 * 86_400.0, "{reached}");
        // The partial files agree with the time reached.
        let metrics = fs::read_to_string(out.join("metrics.csv")).unwrap();
        // The last row is the interval cut short: time_s (its start) + interval_s.
        let last: Vec<f64> = metrics
            .lines()
            .last()
            .unwrap()
            .split(',')
            .take(2)
            .map(|x| x.parse().unwrap())
            .collect();
        assert!(
            (last[0] + last[1] - reached).abs() < 1e-3,
            "{last:?} vs {reached}"
        );
        assert_no_debris(dir.path());
    }
}

/// No staging directory or temporary file is left beside or inside the outputs.
fn assert_no_debris(dir: &Path) {
    for e in walk(dir) {
        let name = e.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name == lbsim::metrics::staging::MARKER
                || (!name.contains(".lbsim-") && !name.ends_with(".tmp")),
            "debris left: {}",
            e.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn sigkill_leaves_the_previous_outputs_whole_and_the_next_run_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "s.toml", &scenario("200.0", "20s"));
    let out = dir.path().join("o");
    let o = lbsim(&["run", p(&sc), "--out", p(&out), "--no-report"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before: Vec<(String, Vec<u8>)> = fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    assert!(before.len() >= 7);
    // The same scenario and seed, much longer, killed mid-run.
    let long = write(&dir, "s.toml", &scenario("200.0", "29d"));
    let (status, _) = interrupt(&long, &out, "-KILL");
    assert_eq!(status, None, "killed");
    for (name, bytes) in &before {
        assert_eq!(
            &fs::read(out.join(name)).unwrap(),
            bytes,
            "{name} is the previous run's"
        );
    }
    let debris: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".lbsim-"))
        .collect();
    assert!(!debris.is_empty(), "the killed run's staging directory");
    // The next run removes it.
    let short = write(&dir, "s.toml", &scenario("200.0", "20s"));
    let o = lbsim(&["run", p(&short), "--out", p(&out), "--no-report"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_no_debris(dir.path());
}
