//! `lbsim check` (golden files, tolerances, --bless) and the scenario's `[[assert]]` SLOs
//! in `lbsim run` and `lbsim check`.

use std::fs;
use std::path::Path;

use crate::cli::{BASE, lbsim, text, write};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A scenario directory with the tiny scenario, and a golden directory beside it.
fn setup(extra: &str) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "tiny.toml", &format!("{BASE}{extra}"));
    let golden = dir.path().join("golden");
    (dir, sc, golden)
}

fn golden_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn bless_then_check_passes_and_the_golden_is_readable() {
    let (_d, sc, golden) = setup("");
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = golden.join("tiny.json");
    assert!(text(&o).contains("wrote"), "{}", text(&o));
    let g = golden_json(&file);
    assert_eq!(g["format"], 1);
    assert_eq!(g["scenario"], "tiny");
    assert_eq!(g["seed"], 3);
    assert!(
        g["metrics"]["latency_p99_ms"].as_f64().unwrap() > 0.0,
        "{g}"
    );
    assert!(
        g["metrics"]["requests_arrived"].is_u64(),
        "whole numbers are integers"
    );
    assert_eq!(g["series"]["metrics_csv.rows"], 4, "20 s at 5 s intervals");
    assert_eq!(g["metrics_csv_blake3"].as_str().unwrap().len(), 64);
    // Pretty, in the flat order (requests first), with a final newline.
    let t = fs::read_to_string(&file).unwrap();
    assert!(t.ends_with("}\n") && t.contains("\n  \"metrics\": {\n    \"requests_arrived\""));
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden)]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("tiny.toml: ok") && t.contains("metrics.csv identical"),
        "{t}"
    );
    assert!(
        !t.contains("REGRESSION"),
        "only differing rows are shown: {t}"
    );
    assert!(t.contains("1 passed, 0 failed"), "{t}");
    // No temporary file is left beside the golden.
    assert_eq!(fs::read_dir(&golden).unwrap().count(), 1);
    // Blessing the same run again leaves the file as it was.
    let before = fs::read_to_string(&file).unwrap();
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"]);
    assert!(text(&o).contains("unchanged"), "{}", text(&o));
    assert_eq!(fs::read_to_string(&file).unwrap(), before);
}

#[test]
fn a_changed_scenario_is_a_regression_naming_the_metric() {
    let (_d, sc, golden) = setup("");
    assert!(
        lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"])
            .status
            .success()
    );
    // What-if: one more task, the golden unchanged.
    let o = lbsim(&[
        "check",
        p(&sc),
        "--golden",
        p(&golden),
        "--set",
        "services.0.desired_count=3",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("tiny.toml: FAIL"), "{t}");
    let row = t
        .lines()
        .find(|l| l.contains(" task_seconds "))
        .unwrap_or_else(|| panic!("no task_seconds row: {t}"));
    // 2 tasks × 20 s, now 3 × 20 s: +20 s, +50 %, exact.
    assert!(
        row.contains("40") && row.contains("60") && row.contains("+20") && row.contains("+50.000%"),
        "{row}"
    );
    assert!(row.contains("exact") && row.contains("REGRESSION"), "{row}");
    assert!(t.contains("metrics.csv DIFFERS"), "{t}");
    assert!(t.contains("0 passed, 1 failed"), "{t}");
    // The same change written into the file is caught the same way.
    fs::write(&sc, BASE.replace("desired_count = 2", "desired_count = 3")).unwrap();
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("task_seconds"), "{}", text(&o));
}

#[test]
fn tolerances_let_a_small_change_pass_and_are_kept_in_the_golden() {
    let (_d, sc, golden) = setup("");
    assert!(
        lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"])
            .status
            .success()
    );
    let small = ["--set", "clients.0.arrivals.rate_rps=201"];
    let base = ["check", p(&sc), "--golden", p(&golden)];
    let exact = lbsim(&[&base[..], &small[..]].concat());
    assert_eq!(exact.status.code(), Some(1), "{}", text(&exact));
    // `*` for every figure; the requests in flight at the end (2 → 1) need an absolute one.
    let tol = [
        "--tolerance",
        "*=30%",
        "--tolerance",
        "requests_in_flight_at_end=2",
    ];
    let loose = lbsim(&[&base[..], &small[..], &tol[..]].concat());
    assert!(loose.status.success(), "{}", text(&loose));
    let t = text(&loose);
    assert!(t.contains("within tolerance") && t.contains("±30%"), "{t}");
    assert!(t.contains("not compared byte for byte"), "{t}");
    // A metric's own tolerance beats `*`.
    let strict = lbsim(
        &[
            &base[..],
            &small[..],
            &tol[..],
            &["--tolerance", "requests_arrived=0"],
        ]
        .concat(),
    );
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    let row = text(&strict)
        .lines()
        .find(|l| l.contains(" requests_arrived "))
        .unwrap()
        .to_string();
    assert!(row.contains("±0") && row.contains("REGRESSION"), "{row}");
    // Stored in the golden by --bless, the tolerance applies without the flag.
    let bless = ["check", p(&sc), "--golden", p(&golden), "--bless"];
    assert!(lbsim(&[&bless[..], &tol[..]].concat()).status.success());
    let g = golden_json(&golden.join("tiny.json"));
    assert_eq!(g["tolerances"]["*"], "30%");
    assert_eq!(g["tolerances"]["requests_in_flight_at_end"], "2");
    let o = lbsim(&[&base[..], &small[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn bad_input_exits_2_and_says_how_to_bless() {
    let (_d, sc, golden) = setup("");
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("no golden file") && t.contains("--bless"), "{t}");
    assert!(
        lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"])
            .status
            .success()
    );
    for tol in ["latency_p99_ms", "latency_p99_ms=-1", "latency_p99_ms=x%"] {
        let o = lbsim(&["check", p(&sc), "--golden", p(&golden), "--tolerance", tol]);
        assert_eq!(o.status.code(), Some(2), "{tol}: {}", text(&o));
        assert!(text(&o).contains("tolerance"), "{}", text(&o));
    }
    fs::write(golden.join("tiny.json"), "{\"format\": 1}").unwrap();
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a golden file"), "{}", text(&o));
    // --bless replaces a golden it cannot read.
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        lbsim(&["check", p(&sc), "--golden", p(&golden)])
            .status
            .success()
    );
    let o = lbsim(&["check", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_directory_is_checked_in_name_order_against_golden_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "b.toml", BASE);
    write(&dir, "a.toml", &BASE.replace("seed = 3", "seed = 4"));
    let o = lbsim(&["check", p(dir.path()), "--bless"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("golden/a.json").is_file());
    let o = lbsim(&["check", p(dir.path())]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    let (a, b) = (t.find("a.toml: ok").unwrap(), t.find("b.toml: ok").unwrap());
    assert!(a < b, "{t}");
    assert!(t.contains("2 scenario(s), 2 passed"), "{t}");
}

const SLO_OK: &str = r#"
[[assert]]
metric = "latency_p99_ms"
max = 10000

[[assert]]
metric = "fraction_5xx"
min = 0
max = 0.01
"#;

#[test]
fn asserts_that_hold_exit_0() {
    let (_d, sc, _g) = setup(SLO_OK);
    let out = sc.with_file_name("out");
    let o = lbsim(&["run", p(&sc), "--out", p(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("All 2 [[assert]] hold"), "{}", text(&o));
}

#[test]
fn a_broken_assert_fails_run_and_check_naming_metric_bound_and_value() {
    let slo = "\n[[assert]]\nmetric = \"latency_p50_ms\"\nmax = 0.5\n\n[[assert]]\nmetric = \"requests_arrived\"\nmin = 1\n";
    let (_d, sc, golden) = setup(slo);
    let out = sc.with_file_name("out");
    let o = lbsim(&["run", p(&sc), "--out", p(&out), "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let p50 = summary["latency_ms"]["p50"].as_f64().unwrap();
    let t = text(&o);
    assert!(
        t.contains(&format!("latency_p50_ms = {p50}, above its max 0.5")),
        "{t}"
    );
    assert!(
        !t.contains("requests_arrived"),
        "the assert that holds is not named: {t}"
    );
    assert_eq!(t.matches("broken").count(), 1, "{t}");
    // Outputs are written all the same.
    assert!(out.join("metrics.csv").is_file());
    // lbsim check: the golden matches, the assert still fails the check.
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden), "--bless"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(golden.join("tiny.json").is_file(), "blessed even so");
    let o = lbsim(&["check", p(&sc), "--golden", p(&golden)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("FAIL — 0 of") && t.contains("1 of 2 [[assert]] hold"),
        "{t}"
    );
    assert!(t.contains("above its max 0.5"), "{t}");
}

#[test]
fn bad_asserts_are_validation_errors_naming_the_field() {
    for (slo, field, says) in [
        (
            "[[assert]]\nmetric = \"latency_p98_ms\"\nmax = 1\n",
            "assert.0.metric",
            "known metrics: requests_arrived",
        ),
        (
            "[[assert]]\nmetric = \"latency_p99_ms\"\n",
            "assert.0.metric",
            "no bound",
        ),
        (
            "[[assert]]\nmetric = \"latency_p99_ms\"\nmin = 5\nmax = 1\n",
            "assert.0.min",
            "above max",
        ),
        (
            "[[assert]]\nmetric = \"latency_p99_ms\"\nmax = nan\n",
            "assert.0.max",
            "finite number",
        ),
        (
            "[[assert]]\nmetric = \"latency_p99_ms\"\nmax = 1\nmaximum = 2\n",
            "assert.0",
            "unknown field `maximum`",
        ),
        (
            // Per-group figures exist only with more than one target group.
            "[[assert]]\nmetric = \"tg.tg.latency_p99_ms\"\nmax = 1\n",
            "assert.0.metric",
            "not a metric",
        ),
    ] {
        let (_d, sc, _g) = setup(&format!("\n{slo}"));
        let o = lbsim(&["validate", p(&sc)]);
        assert_eq!(o.status.code(), Some(2), "{slo}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains(field) && t.contains(says), "{slo}: {t}");
        let o = lbsim(&["run", p(&sc), "--out", p(&sc.with_file_name("o"))]);
        assert_eq!(o.status.code(), Some(2), "{slo}: {}", text(&o));
    }
}

/// The README's GitHub Actions job is `examples/ci/github-actions.yml`, verbatim.
#[test]
fn the_readme_ci_job_is_the_example_file() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../examples/ci/github-actions.yml");
    let block = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block in the README");
    assert_eq!(block, example);
    assert!(example.contains("lbsim check scenarios/"));
}
