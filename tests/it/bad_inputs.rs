//! The bad-input catalogue: every scenario in `tests/bad_inputs/` must be refused with exit
//! code 2, no panic, and a message holding every fragment of its `.expected` file (the file,
//! the line or field, what is allowed). See `tests/bad_inputs/README.md` for the format.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The catalogue's directory.
fn catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

/// One case: its name, scenario file name, extra arguments and expected fragments.
struct Case {
    name: String,
    scenario: String,
    args: Vec<String>,
    expected: Vec<String>,
}

/// Every case of the catalogue, by name.
fn cases() -> Vec<Case> {
    let dir = catalogue();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("tests/bad_inputs exists")
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".expected").map(str::to_string)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let scenario = ["toml", "json"]
                .iter()
                .map(|ext| format!("{name}.{ext}"))
                .find(|f| dir.join(f).exists())
                .unwrap_or_else(|| panic!("{name}.expected has no {name}.toml or {name}.json"));
            let lines = |ext: &str| -> Vec<String> {
                fs::read_to_string(dir.join(format!("{name}.{ext}")))
                    .map(|t| {
                        t.lines()
                            .filter(|l| !l.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            Case {
                scenario,
                args: lines("args"),
                expected: lines("expected"),
                name,
            }
        })
        .collect()
}

/// Runs `lbsim ARGS` in the catalogue's directory (so messages name files as the cases do).
fn lbsim_in(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the lbsim binary runs")
}

/// What is wrong with `o` for `case`, if anything.
fn problems(case: &Case, cmd: &str, o: &Output) -> Option<String> {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let mut wrong = Vec::new();
    if o.status.code() != Some(2) {
        wrong.push(format!("exit code {:?}, expected 2", o.status.code()));
    }
    if text.contains("panicked") {
        wrong.push("it panicked".to_string());
    }
    for w in &case.expected {
        if !text.contains(w.as_str()) {
            wrong.push(format!("missing {w:?}"));
        }
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "{} ({cmd}): {}\n    output:\n      {}",
            case.name,
            wrong.join("; "),
            text.trim_end().replace('\n', "\n      ")
        )
    })
}

#[test]
fn every_bad_input_is_refused_with_a_message_that_says_what_is_allowed() {
    let dir = catalogue();
    let cases = cases();
    assert!(cases.len() >= 70, "only {} cases", cases.len());
    let out = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        assert!(!case.expected.is_empty(), "{}: empty .expected", case.name);
        // --seed and --duration are `run`'s flags; everything else runs `validate` too.
        let run_only = case.args.iter().any(|a| a == "--seed" || a == "--duration");
        // `run` on every case would be slow in debug builds: one in four, and the run-only ones.
        let commands: &[&str] = match (run_only, i % 4 == 0) {
            (true, _) => &["run"],
            (false, true) => &["validate", "run"],
            (false, false) => &["validate"],
        };
        for cmd in commands {
            let mut args = vec![cmd.to_string(), case.scenario.clone()];
            if *cmd == "run" {
                args.push("--out".into());
                args.push(out.path().join(&case.name).display().to_string());
            }
            args.extend(case.args.iter().cloned());
            let o = lbsim_in(&dir, &args);
            failures.extend(problems(case, cmd, &o));
            if *cmd == "run" {
                assert!(
                    !out.path().join(&case.name).exists(),
                    "{}: a refused run wrote its output directory",
                    case.name
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not refused as expected:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The catalogue's data files are all used: a case renamed without its trace would pass for
/// the wrong reason (a missing file).
#[test]
fn every_file_of_the_catalogue_belongs_to_a_case() {
    let names: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    for e in fs::read_dir(catalogue()).unwrap() {
        let f = e.unwrap().file_name().into_string().unwrap();
        if f == "README.md" {
            continue;
        }
        let stem = f.split('.').next().unwrap();
        assert!(
            names.iter().any(|n| n == stem),
            "{f} belongs to no case (no {stem}.expected)"
        );
    }
}

/// A scenario that starts with a UTF-8 byte order mark (TOML or JSON) is read as without it.
#[test]
fn a_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let toml_text = super::cli::BASE;
    let doc: toml::Value = toml::from_str(toml_text).unwrap();
    for (name, text) in [
        ("bom.toml", toml_text.to_string()),
        ("bom.json", serde_json::to_string_pretty(&doc).unwrap()),
    ] {
        let p = dir.path().join(name);
        fs::write(&p, format!("\u{feff}{text}")).unwrap();
        let o = lbsim_in(dir.path(), &["validate".into(), name.into()]);
        let t =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name}: {t}");
    }
}

/// A trace that ends before the run is valid but said: `validate` prints a warning naming
/// the trace, what it covers and that the rate is 0 after it.
#[test]
fn a_trace_shorter_than_the_run_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("one.csv"), "t_s,rps\n0,5\n").unwrap();
    let text = super::cli::BASE
        .replacen(
            r#"arrivals = { process = "poisson", rate_rps = 200.0 }"#,
            r#"arrivals = { process = "trace", file = "one.csv" }"#,
            1,
        )
        .replacen(r#"duration = "20s""#, r#"duration = "1h""#, 1);
    fs::write(dir.path().join("short.toml"), &text).unwrap();
    let o = lbsim_in(dir.path(), &["validate".into(), "short.toml".into()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("warning: one.csv: the trace covers 0–1m of the 1h run")
            && err.contains("the rate is 0 after 1m"),
        "{err}"
    );
    // Looped, it covers the run: no warning.
    fs::write(
        dir.path().join("looped.toml"),
        text.replace(
            r#"file = "one.csv" }"#,
            r#"file = "one.csv", loop = true }"#,
        ),
    )
    .unwrap();
    let o = lbsim_in(dir.path(), &["validate".into(), "looped.toml".into()]);
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
}
