//! The fuzz targets' entry points, shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and
//! the corpus regression test (`tests/it/fuzz_corpus.rs`), so both run the same code.
//!
//! Each target feeds raw bytes to one of lbsim's parsers and returns `Ok(())` when the
//! parser accepted them or `Err(message)` with its error. Bad input must give an error,
//! never a panic; on top of that the harness checks (by panicking, so libFuzzer reports it)
//! that every error names a file and says something, and that what a parser accepts is
//! sound: an accepted scenario builds a simulation and reads back the same from its
//! `scenario.json` document, an accepted trace is in time order and can be windowed, an
//! accepted empirical sample builds a sampler.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lbsim::model::dist::Sampler;
use lbsim::model::{DistSpec, NoObserver, Simulation};
use lbsim::scenario::{self, Scenario, ScenarioErrors, overrides, trace};

/// Every target, by name: the folders under `fuzz/corpus/` and `fuzz/regressions/`.
#[allow(dead_code)]
pub const TARGETS: [&str; 5] = [
    "scenario_toml",
    "scenario_json",
    "trace_csv",
    "empirical_csv",
    "set_override",
];

/// Runs target `name` (one of [`TARGETS`]) on `data`, with `dir` as its scratch directory
/// (made by [`prepare`]).
///
/// # Panics
/// On an unknown target name, and on any finding.
pub fn run(name: &str, dir: &Path, data: &[u8]) -> Result<(), String> {
    match name {
        "scenario_toml" => scenario_toml(dir, data),
        "scenario_json" => scenario_json(dir, data),
        "trace_csv" => trace_csv(dir, data),
        "empirical_csv" => empirical_csv(dir, data),
        "set_override" => set_override(dir, data),
        _ => panic!("no fuzz target {name}"),
    }
}

/// A valid trace that fuzzed scenarios may name (`file = "trace.csv"`).
const TRACE: &str = "t_s,rps\n0,5\n60,7.5\n120,0\n";
/// A valid empirical sample that fuzzed scenarios may name (`file = "sample.csv"`).
const SAMPLE: &str = "ms\n1\n2.5\n30\n";

/// A small valid scenario, the document the `--set` target overrides.
const SMALL: &str = r#"
[simulation]
name = "small"
duration = "1m"
seed = 1

[[clients]]
name = "users"
arrivals = { process = "poisson", rate_rps = 5 }

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "web" }

[[target_groups]]
name = "web"
algorithm = "least_outstanding_requests"

[[services]]
name = "web"
target_group = "web"
desired_count = 2
request = { cpu_time = { dist = "exponential", mean = "10ms" } }
"#;

/// Creates `dir` with the data files fuzzed scenarios may name (`trace.csv`, `sample.csv`).
///
/// # Panics
/// When the directory cannot be written.
pub fn prepare(dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the scratch directory");
    std::fs::write(dir.join("trace.csv"), TRACE).expect("write trace.csv");
    std::fs::write(dir.join("sample.csv"), SAMPLE).expect("write sample.csv");
}

/// This process's scratch directory, `$TMPDIR/lbsim-fuzz-<pid>`, made on first use (the
/// fuzz targets' choice; the regression test uses a temporary directory of its own).
#[allow(dead_code)]
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("lbsim-fuzz-{}", std::process::id()));
        prepare(&d);
        d
    })
}

/// The scenario parser on TOML text (`scenario.toml` in `dir`).
fn scenario_toml(dir: &Path, data: &[u8]) -> Result<(), String> {
    scenario(dir, data, "scenario.toml")
}

/// The scenario parser on JSON text (`scenario.json` in `dir`).
fn scenario_json(dir: &Path, data: &[u8]) -> Result<(), String> {
    scenario(dir, data, "scenario.json")
}

fn scenario(dir: &Path, data: &[u8], name: &str) -> Result<(), String> {
    // `scenario::load` reads the file as UTF-8 and refuses anything else.
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let path = dir.join(name);
    let s = scenario::load_str(&path, text, &[]).map_err(|e| errors(&e))?;
    accepted(dir, &s);
    Ok(())
}

/// The `--set` parser: each line of `data` (up to 8) is one `--set` argument, parsed, then
/// applied to [`SMALL`]'s document, then loaded with it as `lbsim run --set ...` does.
fn set_override(dir: &Path, data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let sets = text
        .lines()
        .take(8)
        .map(overrides::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let path = dir.join("small.toml");
    let base = scenario::load_str(&path, SMALL, &[]).expect("SMALL is a valid scenario");
    let mut doc = base.document;
    for o in &sets {
        let at = overrides::apply(&mut doc, o)?;
        assert!(!at.is_empty(), "--set {}: applied at an empty path", o.text);
    }
    let s = scenario::load_str(&path, SMALL, &sets).map_err(|e| errors(&e))?;
    accepted(dir, &s);
    Ok(())
}

/// The trace CSV reader (`t_s,rps`), on `data` written to `input.csv` in `dir`.
fn trace_csv(dir: &Path, data: &[u8]) -> Result<(), String> {
    let path = dir.join("input.csv");
    std::fs::write(&path, data).expect("write the input");
    let t = trace::read_trace(&path).map_err(|e| {
        assert_eq!(e.file, path, "the error names another file: {e}");
        assert!(!e.message.trim().is_empty(), "an empty message: {e:?}");
        e.to_string()
    })?;
    assert!(!t.starts.is_empty() && t.starts.len() == t.rps.len());
    assert!(
        t.starts.windows(2).all(|w| w[0] < w[1]),
        "rows out of order"
    );
    assert!(
        t.end > *t.starts.last().expect("a row"),
        "the trace ends at its last start"
    );
    assert!(
        t.rps.iter().all(|r| r.is_finite() && *r >= 0.0),
        "a bad rate"
    );
    let p = trace::window(&t, lbsim::engine::SimDuration::ZERO, None, 1.0, true)
        .expect("a window from 0 over the whole trace");
    assert!(
        p.segments.windows(2).all(|w| w[0].end <= w[1].start),
        "segments overlap"
    );
    assert!(
        p.segments.iter().all(|s| s.start < s.end),
        "an empty segment"
    );
    Ok(())
}

/// The empirical-sample CSV reader, on `data` written to `input.csv` in `dir`.
fn empirical_csv(dir: &Path, data: &[u8]) -> Result<(), String> {
    let path = dir.join("input.csv");
    std::fs::write(&path, data).expect("write the input");
    let v = trace::read_empirical(&path).map_err(|e| {
        assert_eq!(e.file, path, "the error names another file: {e}");
        assert!(!e.message.trim().is_empty(), "an empty message: {e:?}");
        e.to_string()
    })?;
    Sampler::new(&DistSpec::Empirical(v), "fuzz").expect("an accepted sample builds a sampler");
    Ok(())
}

/// Checks a scenario's errors (at least one, each naming a file and saying something) and
/// returns them as text.
fn errors(e: &ScenarioErrors) -> String {
    assert!(!e.0.is_empty(), "an error with no problem in it");
    for x in &e.0 {
        assert!(
            !x.file.as_os_str().is_empty(),
            "an error naming no file: {x:?}"
        );
        assert!(!x.message.trim().is_empty(), "an empty message: {x:?}");
    }
    e.to_string()
}

/// What an accepted scenario must give: the model builds it, and its document (what
/// `scenario.json` beside a run's outputs holds) loads again, as JSON, into the same world.
fn accepted(dir: &Path, s: &Scenario) {
    if let Err(e) = Simulation::new(&s.spec, NoObserver) {
        panic!("the model refuses a validated scenario: {e}");
    }
    let json = serde_json::to_string(&s.document).expect("a document serialises");
    let again = scenario::load_str(
        &dir.join(s.path.file_name().expect("a file name"))
            .with_extension("json"),
        &json,
        &[],
    )
    .unwrap_or_else(|e| panic!("its scenario.json does not load: {e}\n{json}"));
    assert_eq!(
        format!("{:?}", again.spec),
        format!("{:?}", s.spec),
        "its scenario.json loads into another world"
    );
}
