//! `report.html`: user text is escaped, the page is self-contained, optional files leave
//! their sections out, errors name the file, `--no-report` skips it. The fixtures here
//! (a run with a hostile name, a sweep's and a comparison's files as formats.md gives
//! them, plots) serve the browser test too.

use std::fs;
use std::path::{Path, PathBuf};

use lbsim::report::html::{compare_report, run_report, sweep_report};

use crate::cli::{BASE, lbsim, text, write};

/// User text that must render as text.
pub const EVIL: &str = "<script>alert(1)</script>";
/// [`EVIL`] as the page must show it.
pub const EVIL_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
/// A trace file name a file system allows and HTML must escape.
pub const TRACE_NAME: &str = "tr<b>ace.csv";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `lbsim run` on a small scenario with a health-check path holding [`EVIL`] whose arrivals replay the trace
/// file [`TRACE_NAME`]; returns the output directory (in `dir`).
pub fn evil_run(dir: &tempfile::TempDir) -> PathBuf {
    let mut trace = String::from("t_s,rps\n");
    for i in 0..5 {
        trace.push_str(&format!("{},{}\n", i * 5, 100 + 40 * i));
    }
    write(dir, TRACE_NAME, &trace);
    let scenario = BASE
        // Names are restricted to safe characters; a health check's path is free text.
        .replacen(
            r#"algorithm = "round_robin""#,
            r#"algorithm = "round_robin"
health_check = { path = "/<script>alert(1)</script>" }"#,
            1,
        )
        .replacen(
            r#"arrivals = { process = "poisson", rate_rps = 200.0 }"#,
            r#"arrivals = { process = "trace", file = "tr<b>ace.csv" }"#,
            1,
        );
    assert!(scenario.contains(EVIL) && scenario.contains(TRACE_NAME));
    let sc = write(dir, "evil.toml", &scenario);
    let out = dir.path().join("out");
    let o = lbsim(&["run", p(&sc), "--out", p(&out), "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    out
}

/// Runs `lbsim sweep` and `lbsim compare` on [`evil_run`]'s scenario (the comparison
/// against a copy in a file named `a<i>lt.toml`); returns their output directories.
pub fn evil_sweep_and_compare(dir: &tempfile::TempDir) -> (PathBuf, PathBuf) {
    evil_run(dir);
    let sc = dir.path().join("evil.toml");
    let alt = dir.path().join("a<i>lt.toml");
    fs::copy(&sc, &alt).unwrap();
    let sweep = dir.path().join("sweep");
    let o = lbsim(&[
        "sweep",
        p(&sc),
        "--vary",
        // Names are restricted to safe characters: the user text is a varied free-text value.
        "target_groups.0.health_check.path=/ok,/<script>alert(1)</script>",
        "--replications",
        "2",
        "--out",
        p(&sweep),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let cmp = dir.path().join("compare");
    let o = lbsim(&[
        "compare",
        p(&sc),
        p(&alt),
        "--replications",
        "2",
        "--out",
        p(&cmp),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    (sweep, cmp)
}

/// An SVG like plotters draws (text escaped), with a title holding [`EVIL`], axes, and
/// unless `blank` two coloured lines. It also holds a script, which must never run.
pub fn plot_svg(blank: bool) -> String {
    let lines = if blank {
        String::new()
    } else {
        r##"<polyline fill="none" stroke="#E6194B" stroke-width="3" points="60,340 160,300 260,320 360,200 460,220 560,120 660,150 760,60"/>
<polyline fill="none" stroke="#3CB44B" stroke-width="3" points="60,360 160,340 260,350 360,260 460,280 560,200 660,230 760,150"/>"##
            .to_string()
    };
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg width="800" height="400" viewBox="0 0 800 400" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="800" height="400" fill="#FFFFFF"/>
<text x="400" y="30" text-anchor="middle" font-family="sans-serif" font-size="20">{EVIL_ESCAPED} latency (ms)</text>
<polyline fill="none" stroke="#000000" points="50,50 50,370 780,370"/>
{lines}
<script>console.error("a script in a plot ran")</script>
</svg>
"##
    )
}

/// Puts a hand-made plot in `<dir>/plots/` unless the directory already has plots (drawn
/// by `lbsim`'s plot step), so each report has something to show.
pub fn ensure_plot(dir: &Path, blank: bool) -> bool {
    let plots = dir.join("plots");
    let has_svg = fs::read_dir(&plots).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "svg"))
    });
    if has_svg {
        return false;
    }
    fs::create_dir_all(&plots).unwrap();
    fs::write(plots.join("fixture.svg"), plot_svg(blank)).unwrap();
    true
}

const VARY: &str = "services.0.deregistration_delay";
const METRICS: [&str; 4] = [
    "latency_p50_ms",
    "latency_p99_ms",
    "fraction_5xx",
    "cost_total_usd",
];

/// A sweep's (or, with `compare`, a comparison's) files in `dir`, as formats.md gives
/// them, with user text ([`EVIL`]) in the scenario name, its file name, a varied value
/// and (comparison) an alternative's label.
pub fn sweep_fixture(dir: &Path, compare: bool) {
    fs::create_dir_all(dir).unwrap();
    let (column, values): (&str, [&str; 2]) = if compare {
        ("alternative", ["baseline", EVIL])
    } else {
        (VARY, ["0s", EVIL])
    };
    let points: Vec<serde_json::Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::json!({
                "point": i,
                "label": format!("{column}={v}"),
                "values": { column: v },
            })
        })
        .collect();
    let mut runs = Vec::new();
    let mut sweep_csv = format!(
        "point,replication,seed,{column},run_id,{}\n",
        METRICS.join(",")
    );
    for point in 0..2u64 {
        for rep in 0..3u64 {
            let id = format!("p{point}-r{rep}");
            let seed = 7 + rep;
            runs.push(
                serde_json::json!({"id": id, "point": point, "replication": rep, "seed": seed}),
            );
            let f = (point * 3 + rep) as f64;
            sweep_csv.push_str(&format!(
                "{point},{rep},{seed},{},{id},{},{},{},{}\n",
                values[point as usize],
                4.0 + 0.1 * f,
                40.0 + f,
                if point == 0 { 0.0 } else { 0.001 * f },
                0.08 + 0.001 * f
            ));
        }
    }
    let doc = serde_json::json!({
        "kind": if compare { "compare" } else { "sweep" },
        "lbsim_version": "0.1.0",
        "scenario": EVIL,
        "scenario_file": format!("scenarios/{EVIL}.toml"),
        "replications": 3,
        "base_seed": 7,
        "vary": [{"path": column, "values": values}],
        "points": points,
        "runs": runs,
    });
    fs::write(
        dir.join("sweep.json"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    fs::write(dir.join("sweep.csv"), sweep_csv).unwrap();
    let mut summary = format!("point,{column},metric,n,mean,std,ci95_low,ci95_high\n");
    for (point, v) in values.iter().enumerate() {
        for (m, name) in METRICS.iter().enumerate() {
            let mean = 10.0 * (m + 1) as f64 + point as f64;
            summary.push_str(&format!(
                "{point},{v},{name},3,{mean},0.5,{},{}\n",
                mean - 1.24,
                mean + 1.24
            ));
        }
        summary.push_str(&format!("{point},{v},requests_in_flight_at_end,1,0,,,\n"));
    }
    fs::write(dir.join("sweep_summary.csv"), summary).unwrap();
    if compare {
        let mut c = String::from(
            "metric,baseline,alternative,n,baseline_mean,alternative_mean,diff_mean,\
             diff_ci95_low,diff_ci95_high,significant\n",
        );
        for (m, name) in METRICS.iter().enumerate() {
            let sig = m % 2 == 0;
            let (lo, hi) = if sig { (0.2, 1.8) } else { (-0.5, 2.5) };
            c.push_str(&format!(
                "{name},baseline,{EVIL},3,{b},{a},1,{lo},{hi},{sig}\n",
                b = 10 * (m + 1),
                a = 10 * (m + 1) + 1
            ));
        }
        fs::write(dir.join("compare.csv"), c).unwrap();
    }
}

/// Fails unless every `src`/`href` of `page` is a `data:` URI or a fragment, and nothing
/// runs script or pulls in another document.
pub fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for tag in [
        "<script", "<iframe", "<object", "<embed", "<link", "<base", "url(",
    ] {
        assert!(!lower.contains(tag), "the report has {tag}");
    }
    for attr in ["src=\"", "href=\"", "srcset=\"", "action=\""] {
        for (at, _) in lower.match_indices(attr) {
            let value = &lower[at + attr.len()..];
            assert!(
                value.starts_with("data:image/") || value.starts_with('#'),
                "not self-contained: {}",
                &page[at..(at + 80).min(page.len())]
            );
        }
    }
}

fn assert_escaped(page: &str, what: &str) {
    assert!(
        !page.to_ascii_lowercase().contains("<script"),
        "{what}: a <script> tag"
    );
    assert!(page.contains(EVIL_ESCAPED), "{what}: no {EVIL_ESCAPED}");
}

#[test]
fn a_run_report_shows_user_text_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = evil_run(&dir);
    ensure_plot(&out, false);
    let page = fs::read_to_string(run_report(&out).unwrap()).unwrap();
    assert_escaped(&page, "run");
    // The title is the scenario's name, which validation restricts to safe characters.
    assert!(page.contains("<title>lbsim run: tiny</title>"), "the title");
    // The trace file's name, in the resolved scenario.
    assert!(page.contains("tr&lt;b&gt;ace.csv"), "the trace file's name");
    assert!(!page.contains("<b>"), "an unescaped <b>");
    assert_self_contained(&page);
    for section in [
        "id=\"key\"",
        "id=\"plots\"",
        "id=\"outcomes\"",
        "id=\"latency\"",
        "id=\"events\"",
        "id=\"scenario\"",
    ] {
        assert!(page.contains(section), "no {section}");
    }
    // The plot is an image: its script and its text are inside the data URI only.
    assert!(page.contains("<img src=\"data:image/svg+xml;base64,"));
    assert!(!page.contains("a script in a plot ran"));
}

#[test]
fn lbsim_run_writes_the_report_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "tiny.toml", BASE);
    let out = dir.path().join("out");
    let o = lbsim(&["run", p(&sc), "--out", p(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let report = out.join("report.html");
    assert!(
        text(&o).contains(&format!("Wrote {}", report.display())),
        "{}",
        text(&o)
    );
    let page = fs::read_to_string(&report).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<title>lbsim run: tiny</title>"));
    // No temporary file is left behind.
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let out2 = dir.path().join("out2");
    let o = lbsim(&["run", p(&sc), "--out", p(&out2), "--no-report"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out2.join("summary.json").exists());
    assert!(!out2.join("report.html").exists(), "--no-report wrote it");
}

#[test]
fn sweep_and_compare_reports_show_user_text_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    sweep_fixture(&sweep, false);
    ensure_plot(&sweep, false);
    let page = fs::read_to_string(sweep_report(&sweep).unwrap()).unwrap();
    assert_escaped(&page, "sweep");
    assert_self_contained(&page);
    assert!(page.contains("<title>lbsim sweep: &lt;script&gt;"));
    assert!(page.contains("scenarios/&lt;script&gt;alert(1)&lt;/script&gt;.toml"));
    for section in [
        "id=\"varied\"",
        "id=\"by-point\"",
        "id=\"runs\"",
        "id=\"plots\"",
    ] {
        assert!(page.contains(section), "sweep: no {section}");
    }
    assert!(!page.contains("id=\"comparison\""));
    // Units in headers; means with their confidence intervals.
    assert!(
        page.contains(">latency_p99 (ms)</th>"),
        "a unit in a header"
    );
    assert!(page.contains("[8.76, 11.24]"), "a confidence interval");

    let cmp = dir.path().join("compare");
    sweep_fixture(&cmp, true);
    ensure_plot(&cmp, false);
    let page = fs::read_to_string(compare_report(&cmp).unwrap()).unwrap();
    assert_escaped(&page, "compare");
    assert_self_contained(&page);
    assert!(page.contains("<title>lbsim compare: &lt;script&gt;"));
    assert!(page.contains("id=\"comparison\""));
    // Significant rows stand out; the others do not.
    assert_eq!(page.matches("<tr class=\"sig\">").count(), 2, "{page}");
}

#[test]
fn lbsim_sweep_and_compare_write_reports_showing_user_text_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let (sweep, cmp) = evil_sweep_and_compare(&dir);
    for (what, out) in [("sweep", &sweep), ("compare", &cmp)] {
        let page = fs::read_to_string(out.join("report.html"))
            .unwrap_or_else(|e| panic!("{what}: no report.html: {e}"));
        // The sweep's user text is a varied value; the comparison's, its alternative's file
        // name (below).
        if what == "sweep" {
            assert_escaped(&page, what);
        }
        assert!(!page.to_ascii_lowercase().contains("<script"), "{what}");
        assert_self_contained(&page);
        assert!(page.contains("id=\"by-point\""), "{what}");
    }
    let page = fs::read_to_string(cmp.join("report.html")).unwrap();
    assert!(page.contains("id=\"comparison\""));
    assert!(page.contains("a&lt;i&gt;lt"), "the alternative's name");
    assert!(!page.contains("<i>"), "an unescaped <i>");
}

#[test]
fn reports_are_byte_identical_when_redone() {
    let dir = tempfile::tempdir().unwrap();
    let out = evil_run(&dir);
    ensure_plot(&out, false);
    let a = fs::read(run_report(&out).unwrap()).unwrap();
    let b = fs::read(run_report(&out).unwrap()).unwrap();
    assert_eq!(a, b);
    let cmp = dir.path().join("compare");
    sweep_fixture(&cmp, true);
    let a = fs::read(compare_report(&cmp).unwrap()).unwrap();
    let b = fs::read(compare_report(&cmp).unwrap()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn missing_optional_files_leave_their_sections_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = evil_run(&dir);
    for f in ["events.csv", "metrics.csv", "latency.csv", "scenario.json"] {
        fs::remove_file(out.join(f)).unwrap();
    }
    let _ = fs::remove_dir_all(out.join("plots"));
    let page = fs::read_to_string(run_report(&out).unwrap()).unwrap();
    assert!(page.contains("id=\"key\""));
    for gone in [
        "id=\"events\"",
        "id=\"latency\"",
        "id=\"scenario\"",
        "id=\"plots\"",
    ] {
        assert!(!page.contains(gone), "{gone} without its file");
    }

    let sweep = dir.path().join("sweep");
    sweep_fixture(&sweep, false);
    fs::remove_file(sweep.join("sweep.csv")).unwrap();
    fs::remove_file(sweep.join("sweep_summary.csv")).unwrap();
    let page = fs::read_to_string(sweep_report(&sweep).unwrap()).unwrap();
    assert!(page.contains("id=\"varied\""));
    assert!(!page.contains("id=\"runs\"") && !page.contains("id=\"by-point\""));
}

#[test]
fn report_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = run_report(dir.path()).unwrap_err().to_string();
    assert!(e.contains("summary.json"), "{e}");

    let sweep = dir.path().join("sweep");
    sweep_fixture(&sweep, false);
    fs::write(sweep.join("sweep.json"), "{\"vary\": [{\"path\": 3}]}").unwrap();
    let e = sweep_report(&sweep).unwrap_err().to_string();
    assert!(
        e.contains("sweep.json") && e.contains("vary[0].path"),
        "{e}"
    );

    sweep_fixture(&sweep, false);
    fs::write(sweep.join("sweep.csv"), b"point,seed\n0,\xff\n").unwrap();
    let e = sweep_report(&sweep).unwrap_err().to_string();
    assert!(e.contains("sweep.csv"), "{e}");

    let out = evil_run(&dir);
    fs::write(out.join("scenario.json"), "{ not json").unwrap();
    let e = run_report(&out).unwrap_err().to_string();
    assert!(e.contains("scenario.json"), "{e}");
}
