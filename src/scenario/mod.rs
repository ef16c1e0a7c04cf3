//! Scenario files: parsing (TOML, or JSON by extension), `--set` overrides, validation
//! against allowed ranges, and resolution into a [`WorldSpec`].
//!
//! The pipeline: read the file (a leading UTF-8 byte order mark is skipped) → parse it into
//! a document tree (syntax errors carry line and column; a TOML `nan` or `inf` is an error
//! naming its field and line) → apply each `--set` → deserialize into the typed
//! [`file`](mod@file) structs (unknown fields and wrong types are errors naming the field;
//! [`typed`] lists as many of them as it can find, not only the first) →
//! [`validate::resolve`] ranges, names and data files (traces, empirical samples) →
//! [`Scenario`], with [`Scenario::warnings`] for what is valid but likely a mistake.
//! Every error is a [`ScenarioError`] naming the file, the line when known, the field's
//! dotted path and what is allowed.

pub mod file;
pub mod locate;
pub mod overrides;
pub mod trace;
pub mod typed;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::WorldSpec;

pub use overrides::Override;
pub use validate::{Assertion, Issue};

/// A loaded, validated scenario: plain data, cheap to clone (traces are shared), `Send`.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// What the model runs.
    pub spec: WorldSpec,
    /// The scenario as read (TOML or JSON), with the `--set` overrides applied, before
    /// defaults are filled in: what `scenario.json` beside a run's outputs holds, and what
    /// reports show as "the resolved scenario".
    pub document: serde_json::Value,
    /// The `[[assert]]` SLOs, in file order: checked on the run's summary by `lbsim run`
    /// and `lbsim check`, not part of the model.
    pub asserts: Vec<Assertion>,
    /// What is valid but probably not meant, one line each, naming the file and the field
    /// (e.g. a trace that ends before the run does, after which its rate is 0). Commands
    /// print them as `warning: LINE` on stderr; they never fail a run.
    pub warnings: Vec<String>,
}

/// A problem with a scenario or a file it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file at fault (the scenario, or a trace it names).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// Dotted path of the field (`services.0.task.cpu`), when the problem is a field.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ScenarioError {
    /// A problem with a data file (a trace's line).
    pub fn in_data(file: &Path, line: Option<u64>, message: String) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            line,
            field: None,
            message,
        }
    }
}

impl fmt::Display for ScenarioError {
    /// `file:line: field: message`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(p) = &self.field {
            write!(f, ": {p}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// All the problems found in one scenario (at least one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

impl From<ScenarioError> for ScenarioErrors {
    fn from(e: ScenarioError) -> Self {
        ScenarioErrors(vec![e])
    }
}

/// Source format, by file extension: `.json` is JSON, anything else TOML.
fn is_json(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Parses `text` into a document tree.
fn parse_document(path: &Path, text: &str) -> Result<Value, ScenarioError> {
    let at = |line: Option<u64>, message: String| ScenarioError {
        file: path.to_path_buf(),
        line,
        field: None,
        message,
    };
    if is_json(path) {
        serde_json::from_str(text)
            .map_err(|e| at(Some(e.line() as u64), format!("invalid JSON: {e}")))
    } else {
        toml::from_str::<Value>(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1);
            at(line, format!("invalid TOML: {}", e.message()))
        })
    }
}

/// The numbers of a TOML document that are not finite (`nan`, `inf`, `-inf`): their dotted
/// paths, lines and text. The TOML reader turns them into null, which would be reported as
/// a type error at the parent table.
pub(crate) fn non_finite_floats(text: &str) -> Vec<(String, u64, String)> {
    use toml::de::{DeTable, DeValue};
    fn walk(
        v: &toml::Spanned<DeValue<'_>>,
        path: &str,
        text: &str,
        out: &mut Vec<(String, u64, String)>,
    ) {
        let join = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        match v.get_ref() {
            DeValue::Float(f) if f.as_str().parse::<f64>().map_or(true, |x| !x.is_finite()) => {
                let line = text[..v.span().start.min(text.len())].matches('\n').count() as u64 + 1;
                out.push((path.to_string(), line, f.as_str().to_string()));
            }
            DeValue::Table(t) => {
                for (k, x) in t.iter() {
                    walk(x, &join(k.get_ref()), text, out);
                }
            }
            DeValue::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &join(&i.to_string()), text, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(root) = DeTable::parse(text) {
        for (k, x) in root.get_ref().iter() {
            walk(x, k.get_ref(), text, &mut out);
        }
    }
    out
}

/// Dotted path of a `serde_path_to_error` path.
fn dotted(p: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let parts: Vec<String> = p
        .iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    parts.join(".")
}

/// Loads, overrides, checks and resolves a scenario file.
///
/// Relative paths inside the file (traces, samples) are read from the file's directory.
///
/// # Errors
/// [`ScenarioErrors`]: the file cannot be read or parsed, an override does not apply, a
/// field is unknown, of the wrong type or out of range, or a data file is missing or
/// malformed. Each names the file, the line when known and the field.
pub fn load(path: &Path, sets: &[Override]) -> Result<Scenario, ScenarioErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: None,
        field: None,
        message: format!("cannot read the scenario file: {e}"),
    })?;
    load_str(path, &text, sets)
}

/// [`load`] from text already read; `path` names it in errors and locates relative files.
///
/// # Errors
/// As [`load`].
pub fn load_str(path: &Path, text: &str, sets: &[Override]) -> Result<Scenario, ScenarioErrors> {
    // A UTF-8 byte order mark (as some Windows editors write) is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut doc = parse_document(path, text)?;
    let non_finite = if is_json(path) {
        Vec::new()
    } else {
        non_finite_floats(text)
    };
    let mut overridden = Vec::new();
    for o in sets {
        let resolved = overrides::apply(&mut doc, o).map_err(|m| ScenarioError {
            file: path.to_path_buf(),
            line: None,
            field: Some(o.path.join(".")),
            message: m,
        })?;
        overridden.push((resolved, o.text.clone()));
    }
    let locate = |field: &str| -> (Option<u64>, String) {
        // A field set on the command line is reported as such.
        if let Some((_, arg)) = overridden
            .iter()
            .rev()
            .find(|(p, _)| field.starts_with(p.as_str()))
        {
            return (None, format!(" (set by --set {arg})"));
        }
        let line = if is_json(path) {
            None
        } else {
            locate::toml_line(text, field).map(|l| l as u64)
        };
        (line, String::new())
    };
    let document = doc.clone();
    // Numbers that are not finite, unless a --set replaced them.
    let non_finite: Vec<_> = non_finite
        .into_iter()
        .filter(|(field, _, _)| {
            !overridden
                .iter()
                .any(|(p, _)| field == p || field.starts_with(&format!("{p}.")))
        })
        .collect();
    let mut errors: Vec<ScenarioError> = non_finite
        .iter()
        .map(|(field, line, v)| ScenarioError {
            file: path.to_path_buf(),
            line: Some(*line),
            field: Some(field.clone()),
            message: format!("{v}: must be a finite number (nan and inf are not allowed)"),
        })
        .collect();
    let poisoned: Vec<String> = non_finite.into_iter().map(|(f, _, _)| f).collect();
    let typed = typed::deserialize(&doc, &poisoned).map_err(|es| {
        es.into_iter()
            .map(|e| {
                let (line, via) = locate(&e.path);
                ScenarioError {
                    file: path.to_path_buf(),
                    line,
                    field: (!e.path.is_empty()).then_some(e.path),
                    message: format!("{}{via}", e.message),
                }
            })
            .collect::<Vec<_>>()
    });
    let typed = match typed {
        Ok(t) if errors.is_empty() => t,
        Ok(_) => return Err(ScenarioErrors(errors)),
        Err(es) => {
            errors.extend(es);
            if errors.is_empty() {
                return Err(ScenarioError {
                    file: path.to_path_buf(),
                    line: None,
                    field: None,
                    message: "the document does not fit the scenario format".into(),
                }
                .into());
            }
            // In the file's order: by line (errors without one, from --set, last).
            errors.sort_by_key(|e| e.line.unwrap_or(u64::MAX));
            return Err(ScenarioErrors(errors));
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    // Asserts are checked apart from the model's spec; their issues join the others.
    let resolved = match (
        validate::resolve(&typed, base, stem),
        validate::resolve_asserts(&typed),
    ) {
        (Ok(spec), Ok(asserts)) => Ok((spec, asserts)),
        (r, a) => Err([r.err(), a.err()].into_iter().flatten().flatten().collect()),
    };
    let ((spec, warnings), asserts) = resolved.map_err(|issues: Vec<Issue>| {
        ScenarioErrors(
            issues
                .into_iter()
                .map(|i| match i.data_file {
                    Some((file, line)) => ScenarioError {
                        file,
                        line,
                        field: None,
                        message: format!(
                            "{} (named by {} in {})",
                            i.message,
                            i.path,
                            path.display()
                        ),
                    },
                    None => {
                        let (line, via) = locate(&i.path);
                        ScenarioError {
                            file: path.to_path_buf(),
                            line,
                            field: Some(i.path),
                            message: format!("{}{via}", i.message),
                        }
                    }
                })
                .collect(),
        )
    })?;
    Ok(Scenario {
        path: path.to_path_buf(),
        spec,
        document,
        asserts,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"[simulation]
duration = "10s"
seed = 3

[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 10.0 }

[load_balancer]
listeners = [{ port = 80, default_action = { type = "forward", target_group = "tg" } }]

[[target_groups]]
name = "tg"

[[services]]
name = "s"
target_group = "tg"
desired_count = 1
request = { cpu_time = "1ms" }
"#;

    fn load(text: &str, sets: &[&str]) -> Result<Scenario, ScenarioErrors> {
        let sets: Vec<Override> = sets.iter().map(|s| overrides::parse(s).unwrap()).collect();
        load_str(Path::new("t.toml"), text, &sets)
    }

    fn fields(e: &ScenarioErrors) -> Vec<(Option<u64>, String)> {
        e.0.iter()
            .map(|e| (e.line, e.field.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn several_type_errors_are_listed_together_in_line_order() {
        let text = BASE
            .replace("seed = 3", "seed = \"x\"")
            .replace("port = 80", "port = 70000")
            .replace("desired_count = 1", "desired_count = 1.5\nname2 = 1");
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                (Some(3), "simulation.seed".to_string()),
                (Some(10), "load_balancer.listeners.0.port".to_string()),
                (Some(18), "services.0.desired_count".to_string()),
                (Some(19), "services.0.name2".to_string()),
            ],
            "{e}"
        );
        assert!(e.0[1].message.contains("allowed 1–65535"), "{e}");
    }

    #[test]
    fn nan_and_inf_name_their_field_and_line_once() {
        let text = BASE
            .replace("rate_rps = 10.0", "rate_rps = nan")
            .replace("seed = 3", "seed = inf");
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                (Some(3), "simulation.seed".to_string()),
                (Some(7), "clients.0.arrivals.rate_rps".to_string()),
            ],
            "{e}"
        );
        assert!(e.0[1].message.contains("must be a finite number"), "{e}");
        // A --set that replaces the value makes it valid.
        let text = BASE.replace("rate_rps = 10.0", "rate_rps = nan");
        load(&text, &["clients.0.arrivals.rate_rps=5"]).unwrap();
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_seeds_take_every_u64() {
        let s = load(
            &format!("\u{feff}{BASE}"),
            &["simulation.seed=18446744073709551615"],
        )
        .unwrap();
        assert_eq!(s.spec.seed, u64::MAX);
        assert!(s.warnings.is_empty());
        let e = load(
            &format!("\u{feff}{}", BASE.replace("seed = 3", "seed = -3")),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.0[0].line, Some(3), "{e}");
    }

    #[test]
    fn names_from_files_are_made_safe_and_given_names_are_checked() {
        let s = load_str(Path::new("my scenario.toml"), BASE, &[]).unwrap();
        assert_eq!(s.spec.name, "my_scenario");
        let e = load(BASE, &["simulation.name=../up"]).unwrap_err();
        assert_eq!(e.0[0].field.as_deref(), Some("simulation.name"), "{e}");
    }
}
