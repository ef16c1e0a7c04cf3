//! Plots: a run's dashboard and latency CDF, a sweep's metric plots, a comparison's forest
//! plot; `lbsim plot` on good, foreign, empty and malformed directories.

use std::fs;
use std::path::Path;

use lbsim::report::plot::{self, Format};

use crate::cli::{lbsim, text};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The texts of an SVG file's `<text>` elements, unescaped, one a line.
fn texts(p: &Path) -> String {
    let svg = read(p);
    let mut out = String::new();
    for part in svg.split("<text").skip(1) {
        let body = part.split_once('>').map_or("", |x| x.1);
        let body = body.split("</text>").next().unwrap_or("").trim();
        let body = body
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        out.push_str(&body);
        out.push('\n');
    }
    out
}

/// A short run of the autoscaling scenario (CPU target tracking: alarms.csv has the target).
fn run_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = lbsim(&[
        "run",
        root()
            .join("scenarios/autoscaling-cpu70.toml")
            .to_str()
            .unwrap(),
        "--duration",
        "10m",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    dir
}

const SWEEP_SUMMARY: &str = "\
point,services.0.deregistration_delay,target_groups.0.algorithm,metric,n,mean,std,ci95_low,ci95_high
0,0s,round_robin,latency_p99_ms,5,500,40,450,550
0,0s,round_robin,fraction_5xx,5,0.02,0.01,0.01,0.03
1,30s,round_robin,latency_p99_ms,5,520,40,470,570
1,30s,round_robin,fraction_5xx,5,0.001,0.001,0,0.002
2,5m,round_robin,latency_p99_ms,5,600,40,550,650
2,5m,round_robin,fraction_5xx,5,0,0,,
3,0s,least_outstanding_requests,latency_p99_ms,5,400,30,360,440
3,0s,least_outstanding_requests,fraction_5xx,5,0.02,0.01,0.01,0.03
4,30s,least_outstanding_requests,latency_p99_ms,5,410,30,370,450
4,30s,least_outstanding_requests,fraction_5xx,5,0.001,0.001,0,0.002
5,5m,least_outstanding_requests,latency_p99_ms,5,450,30,410,490
5,5m,least_outstanding_requests,fraction_5xx,1,0,,,
";

const COMPARE: &str = "\
metric,baseline,alternative,n,baseline_mean,alternative_mean,diff_mean,diff_ci95_low,diff_ci95_high,significant
latency_p99_ms,blue,green-fast,10,500,450,-50,-80,-20,true
latency_p99_ms,blue,green-slow,10,500,510,10,-15,35,false
fraction_5xx,blue,green-fast,10,0.01,0.011,0.001,-0.002,0.004,false
fraction_5xx,blue,green-slow,10,0.01,0.03,0.02,0.01,0.03,true
";

#[test]
fn a_run_draws_its_dashboard_and_latency_cdf_with_units_and_series_names() {
    let dir = run_dir();
    let run = dir.path().join("run");
    let dash = texts(&run.join("plots/dashboard.svg"));
    for needle in [
        "Run: autoscaling-cpu70",
        "time (s)",
        "requests/s",
        "offered",
        "served",
        "p50",
        "p99",
        "CPU utilization",
        "scaling target 70 %",
        "US$ (cumulative)",
        "ECS tasks",
        "desired",
        "Targets by health state",
        "healthy",
    ] {
        assert!(dash.contains(needle), "dashboard.svg lacks {needle:?}");
    }
    let cdf = texts(&run.join("plots/latency_cdf.svg"));
    for needle in [
        "latency (ms, log scale)",
        "p50 = ",
        "p99 = ",
        "fraction of responses",
    ] {
        assert!(cdf.contains(needle), "latency_cdf.svg lacks {needle:?}");
    }
    // `lbsim plot` draws the same bytes again, from the CSV files alone.
    let before = fs::read(run.join("plots/dashboard.svg")).unwrap();
    fs::remove_dir_all(run.join("plots")).unwrap();
    let o = lbsim(&["plot", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("dashboard.svg"), "{}", text(&o));
    assert_eq!(fs::read(run.join("plots/dashboard.svg")).unwrap(), before);
    let again = fs::read(run.join("plots/latency_cdf.svg")).unwrap();
    plot::run_plots(&run, Format::Svg).unwrap();
    assert_eq!(fs::read(run.join("plots/latency_cdf.svg")).unwrap(), again);
}

#[test]
fn png_plots_are_valid_pngs_with_drawn_text_and_lines() {
    let dir = run_dir();
    let run = dir.path().join("run");
    let o = lbsim(&["plot", run.to_str().unwrap(), "--format", "png"]);
    assert!(o.status.success(), "{}", text(&o));
    for name in ["dashboard.png", "latency_cdf.png"] {
        let bytes = fs::read(run.join("plots").join(name)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("a PNG image");
        assert!(info.width >= 1000 && info.height >= 600, "{name}: {info:?}");
        let px = &buf[..info.buffer_size()];
        let white = px.chunks(3).filter(|c| c == &[255, 255, 255]).count();
        let total = px.len() / 3;
        // Mostly white, but with ink: lines, text, bands.
        assert!(
            white < total * 99 / 100,
            "{name}: {white} of {total} pixels white"
        );
        assert!(white > total / 2, "{name}: {white} of {total} pixels white");
        let dark = px.chunks(3).filter(|c| c.iter().all(|&v| v < 80)).count();
        assert!(dark > 1000, "{name}: only {dark} dark (text) pixels");
        // Byte-identical when drawn again.
        plot::run_plots(&run, Format::Png).unwrap();
        assert_eq!(fs::read(run.join("plots").join(name)).unwrap(), bytes);
    }
}

#[test]
fn a_sweep_draws_each_metric_against_the_first_varied_parameter_with_bands() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("sweep_summary.csv"), SWEEP_SUMMARY).unwrap();
    let o = lbsim(&["plot", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let plots = dir.path().join("plots");
    let p99 = texts(&plots.join("sweep_latency_p99_ms.svg"));
    for needle in [
        "p99 latency",
        "deregistration_delay (s)",
        "\nms\n",
        "algorithm=round_robin",
        "algorithm=least_outstanding_requests",
    ] {
        assert!(
            p99.contains(needle),
            "sweep_latency_p99_ms.svg lacks {needle:?}"
        );
    }
    // The confidence bands.
    assert!(read(&plots.join("sweep_latency_p99_ms.svg")).contains("<polygon"));
    let f = texts(&plots.join("sweep_fraction_5xx.svg"));
    assert!(f.contains("fraction of responses"));
    assert!(plots.join("sweep.svg").is_file());
    // Only the metrics asked for; an unknown one is an error naming the file and the choices.
    let files = plot::sweep_plots(dir.path(), Format::Svg, &["fraction_5xx".into()]).unwrap();
    assert_eq!(files, vec![plots.join("sweep_fraction_5xx.svg")]);
    let o = lbsim(&["plot", dir.path().to_str().unwrap(), "--metric", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains("sweep_summary.csv")
            && msg.contains("\"nope\"")
            && msg.contains("latency_p99_ms"),
        "{msg}"
    );
    // Same bytes twice.
    let before = fs::read(plots.join("sweep.svg")).unwrap();
    plot::sweep_plots(dir.path(), Format::Svg, &[]).unwrap();
    assert_eq!(fs::read(plots.join("sweep.svg")).unwrap(), before);
}

#[test]
fn a_categorical_sweep_names_its_values_on_the_axis() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("sweep_summary.csv"),
        "point,target_groups.0.algorithm,metric,n,mean,std,ci95_low,ci95_high\n\
         0,round_robin,latency_p99_ms,3,400,10,380,420\n\
         1,random,latency_p99_ms,3,450,10,430,470\n",
    )
    .unwrap();
    let files = plot::sweep_plots(dir.path(), Format::Svg, &[]).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let svg = texts(&files[0]);
    assert!(
        svg.contains("\nround_robin\n") && svg.contains("\nrandom\n"),
        "{svg}"
    );
    assert!(svg.contains("mean, 95 % confidence band"));
}

#[test]
fn a_comparison_draws_a_forest_plot_marking_significant_differences() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("compare.csv"), COMPARE).unwrap();
    fs::write(dir.path().join("sweep_summary.csv"), SWEEP_SUMMARY).unwrap();
    let o = lbsim(&["plot", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let plots = dir.path().join("plots");
    assert!(plots.join("sweep_latency_p99_ms.svg").is_file());
    let svg = texts(&plots.join("compare.svg"));
    for needle in [
        "baseline \"blue\"",
        "green-fast",
        "green-slow",
        "p99 latency (ms)",
        "difference (ms)",
        "significant (the interval excludes 0)",
        "not significant",
        "-50 [-80, -20]",
    ] {
        assert!(svg.contains(needle), "compare.svg lacks {needle:?}");
    }
    // Significant ones are filled with the highlight colour: one per significant row.
    let svg = read(&plots.join("compare.svg"));
    let filled = svg.matches("fill=\"#D55E00\" stroke=\"none\"").count()
        + svg.matches("fill=\"#d55e00\" stroke=\"none\"").count();
    assert_eq!(filled, 3, "two significant rows and the legend's dot");
    let before = fs::read(plots.join("compare.svg")).unwrap();
    plot::compare_plots(dir.path(), Format::Svg, &[]).unwrap();
    assert_eq!(fs::read(plots.join("compare.svg")).unwrap(), before);
}

#[test]
fn plot_refuses_an_empty_or_foreign_directory_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let o = lbsim(&["plot", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains(dir.path().to_str().unwrap())
            && msg.contains("not a run, sweep or comparison output directory"),
        "{msg}"
    );
    let o = lbsim(&["plot", dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!dir.path().join("plots").exists());
}

#[test]
fn a_metrics_file_without_optional_columns_still_plots_what_it_has() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("metrics.csv"),
        "time_s,interval_s,arrivals,responses,latency_p99_ms\n\
         0,60,600,590,\n\
         60,60,1200,1190,250.5\n\
         120,60,900,910,180\n",
    )
    .unwrap();
    let files = plot::run_plots(dir.path(), Format::Svg).unwrap();
    assert_eq!(files, vec![dir.path().join("plots/dashboard.svg")]);
    let svg = texts(&files[0]);
    assert!(svg.contains("Request rate") && svg.contains("p99"));
    assert!(!svg.contains("CPU utilization") && !svg.contains("Cost so far"));
    // A header alone: nothing to draw, and no error.
    let empty = tempfile::tempdir().unwrap();
    fs::write(empty.path().join("metrics.csv"), "time_s,interval_s\n").unwrap();
    let o = lbsim(&["plot", empty.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Nothing to draw"), "{}", text(&o));
    // An empty file too.
    fs::write(empty.path().join("metrics.csv"), "").unwrap();
    assert!(
        plot::run_plots(empty.path(), Format::Svg)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_malformed_csv_is_an_error_naming_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("metrics.csv"),
        "time_s,interval_s,arrivals,responses\n0,60,600,590\n60,60,lots,1190\n",
    )
    .unwrap();
    let o = lbsim(&["plot", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains("metrics.csv: line 3, column arrivals: \"lots\" is not a number"),
        "{msg}"
    );
    fs::write(
        dir.path().join("metrics.csv"),
        "time_s,interval_s,arrivals\n0,60,600\n60,60\n",
    )
    .unwrap();
    let e = plot::run_plots(dir.path(), Format::Svg)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("metrics.csv: line 3") && e.contains("2 cells where the header has 3"),
        "{e}"
    );
}
