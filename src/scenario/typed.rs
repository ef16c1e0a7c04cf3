//! Typing the document: deserializing it into [`ScenarioFile`], and, when that fails, finding
//! as many of its type errors as the parser allows, not only the first.
//!
//! `serde` stops at the first error. To list more, each section (`[simulation]`,
//! `[load_balancer]`, ...) and each element of the top-level arrays (`[[services]]`, ...) is
//! deserialized on its own; within one, a field in error is recorded, removed from the
//! document and the section tried again, until it deserializes or nothing is left to remove.
//! Errors caused by those removals (a "missing field" for a field removed, a container's
//! error about a child removed) are not reported. At most [`MAX_ERRORS`] errors are listed.
//!
//! Integer errors are rewritten to say what is allowed (`70000`, `expected u16` becomes "out
//! of range: allowed 1–65535").

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::file::{
    AssertSection, ClientSection, CloudWatchSection, DependencySection, FaultSection,
    LoadBalancerSection, PricingSection, ScenarioFile, ServiceSection, SimulationSection,
    SubnetSection, TargetGroupSection,
};

/// Most type errors listed for one file.
pub const MAX_ERRORS: usize = 20;

/// Most attempts on one section (each removes a field).
const MAX_ATTEMPTS: usize = 64;

/// One type error: the field's dotted path and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path (`services.0.task.cpu`); empty for the document itself.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// The top-level sections every scenario must have.
const REQUIRED: [&str; 4] = ["simulation", "clients", "load_balancer", "target_groups"];

/// Deserializes `doc`. `poisoned` are paths whose value was already reported (a TOML `nan`
/// or `inf`, read as null): errors they cause are not reported again.
///
/// # Errors
/// Every type error found (at most [`MAX_ERRORS`]), in section order; none when every
/// error comes from a `poisoned` path.
pub fn deserialize(doc: &Value, poisoned: &[String]) -> Result<ScenarioFile, Vec<FieldError>> {
    let first = match serde_path_to_error::deserialize::<_, ScenarioFile>(doc.clone()) {
        Ok(f) => return Ok(f),
        Err(e) => FieldError {
            path: super::dotted(e.path()),
            message: e.inner().to_string(),
        },
    };
    let Value::Object(map) = doc else {
        return Err(vec![first]);
    };
    let mut errors = Vec::new();
    for (key, v) in map {
        let e = &mut errors;
        match key.as_str() {
            "simulation" => section::<SimulationSection>(v, key, poisoned, e),
            "load_balancer" => section::<LoadBalancerSection>(v, key, poisoned, e),
            "cloudwatch" => section::<CloudWatchSection>(v, key, poisoned, e),
            "pricing" => section::<PricingSection>(v, key, poisoned, e),
            "clients" => list::<ClientSection>(v, key, poisoned, e),
            "target_groups" => list::<TargetGroupSection>(v, key, poisoned, e),
            "services" => list::<ServiceSection>(v, key, poisoned, e),
            "dependencies" => list::<DependencySection>(v, key, poisoned, e),
            "faults" => list::<FaultSection>(v, key, poisoned, e),
            // Optional: null (in JSON) is "absent".
            "subnets" if v.is_null() => {}
            "subnets" => list::<SubnetSection>(v, key, poisoned, e),
            "assert" => list::<AssertSection>(v, key, poisoned, e),
            _ => {
                // serde's own message, which lists the known sections.
                let one = serde_json::json!({ key.clone(): null });
                let message = serde_json::from_value::<ScenarioFile>(one)
                    .err()
                    .map_or_else(|| format!("unknown field `{key}`"), |e| e.to_string());
                e.push(FieldError {
                    path: key.clone(),
                    message,
                });
            }
        }
    }
    for r in REQUIRED {
        if !map.contains_key(r) {
            errors.push(FieldError {
                path: String::new(),
                message: format!("missing field `{r}`: every scenario needs {}", table(r)),
            });
        }
    }
    if errors.is_empty() && !caused_by_removal(&first.path, &first.message, poisoned) {
        errors.push(FieldError {
            message: explain(&first.path, &first.message),
            path: first.path,
        });
    }
    errors.truncate(MAX_ERRORS);
    Err(errors)
}

/// How the required section `r` is written in TOML.
fn table(r: &str) -> String {
    if r == "simulation" || r == "load_balancer" {
        format!("a [{r}] table")
    } else {
        format!("at least one [[{r}]] table")
    }
}

/// Deserializes the elements of the top-level array `v` (at `root`) one by one.
fn list<T: DeserializeOwned>(
    v: &Value,
    root: &str,
    poisoned: &[String],
    errors: &mut Vec<FieldError>,
) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                section::<T>(item, &format!("{root}.{i}"), poisoned, errors);
            }
        }
        _ => section::<Vec<T>>(v, root, poisoned, errors),
    }
}

/// Deserializes `v` (at `root`) as a `T`, recording each error and removing its field until
/// it deserializes, nothing is left to remove, or [`MAX_ERRORS`] are recorded.
fn section<T: DeserializeOwned>(
    v: &Value,
    root: &str,
    poisoned: &[String],
    errors: &mut Vec<FieldError>,
) {
    let mut v = v.clone();
    let mut removed: Vec<String> = poisoned.to_vec();
    for _ in 0..MAX_ATTEMPTS {
        if errors.len() >= MAX_ERRORS {
            return;
        }
        let e = match serde_path_to_error::deserialize::<_, T>(v.clone()) {
            Ok(_) => return,
            Err(e) => e,
        };
        let rel = super::dotted(e.path());
        let at = join(root, &rel);
        let message = e.inner().to_string();
        if !caused_by_removal(&at, &message, &removed) {
            errors.push(FieldError {
                message: explain(&at, &message),
                path: at,
            });
        }
        match remove(&mut v, &rel) {
            Some(gone) if !gone.is_empty() => removed.push(join(root, &gone)),
            // The section itself is at fault: nothing more can be learnt from it.
            _ => return,
        }
    }
}

/// `root.rel`, or `root` when `rel` is empty.
fn join(root: &str, rel: &str) -> String {
    match (root.is_empty(), rel.is_empty()) {
        (_, true) => root.to_string(),
        (true, false) => rel.to_string(),
        (false, false) => format!("{root}.{rel}"),
    }
}

/// Whether `r` is `p` or lies under it.
fn within(r: &str, p: &str) -> bool {
    r == p || p.is_empty() || r.starts_with(&format!("{p}."))
}

/// Whether the error `message` at `at` comes from a field already removed (or poisoned): a
/// missing field that was removed, or a container's complaint about a removed child.
fn caused_by_removal(at: &str, message: &str, removed: &[String]) -> bool {
    if message.starts_with("unknown field") {
        return false;
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        let field = join(at, name);
        return removed.iter().any(|r| within(r, &field));
    }
    removed.iter().any(|r| within(r, at))
}

/// Removes the node at dotted `rel` from `v`: the deepest part of the path that exists, or,
/// when that is an array's element, the whole array (removing an element would renumber the
/// others). Returns the path removed, empty when it is `v` itself (nothing removed).
fn remove(v: &mut Value, rel: &str) -> Option<String> {
    let segs: Vec<&str> = if rel.is_empty() {
        Vec::new()
    } else {
        rel.split('.').collect()
    };
    // How deep the path exists, and whether each step is into an array.
    let mut depth = 0;
    let mut node = &*v;
    let mut into_array = Vec::new();
    for s in &segs {
        let next = match node {
            Value::Object(m) => m.get(*s).map(|n| (n, false)),
            Value::Array(a) => s
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .map(|n| (n, true)),
            _ => None,
        };
        let Some((n, arr)) = next else { break };
        node = n;
        into_array.push(arr);
        depth += 1;
    }
    // Climb out of array elements: the array itself goes.
    while depth > 0 && into_array[depth - 1] {
        depth -= 1;
    }
    if depth == 0 {
        return Some(String::new());
    }
    let mut parent = &mut *v;
    for s in &segs[..depth - 1] {
        parent = match parent {
            Value::Object(m) => m.get_mut(*s)?,
            Value::Array(a) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match parent {
        Value::Object(m) => {
            m.remove(segs[depth - 1])?;
        }
        _ => return None,
    }
    Some(segs[..depth].join("."))
}

/// `message` (serde's) for the field at `path`, rewritten to say what is allowed when it is
/// about an integer or a number.
pub fn explain(path: &str, message: &str) -> String {
    for ty in ["u16", "u32", "u64", "i64", "usize"] {
        let Some(head) = message.strip_suffix(&format!(", expected {ty}")) else {
            continue;
        };
        let allowed = integer_range(path, ty);
        if let Some(n) = head
            .strip_prefix("invalid value: integer `")
            .and_then(|s| s.strip_suffix('`'))
        {
            return format!("{n} is out of range: allowed {allowed}");
        }
        return format!("{head}, expected an integer: allowed {allowed}");
    }
    if let Some(head) = message.strip_suffix(", expected f64") {
        return format!("{head}, expected a finite number");
    }
    message.to_string()
}

/// What an integer field at `path` of Rust type `ty` allows.
fn integer_range(path: &str, ty: &str) -> String {
    use super::validate::{MAX_CAPACITY, MAX_CONCURRENCY, MAX_DESIRED_COUNT};
    let leaf = path
        .rsplit('.')
        .find(|s| s.parse::<usize>().is_err())
        .unwrap_or("");
    let in_task = path.contains(".task.");
    match leaf {
        "port" => "1–65535".into(),
        "seed" => format!("0–{}", u64::MAX),
        "desired_count" => format!("0–{MAX_DESIRED_COUNT} tasks (ECS tasks per service)"),
        "cpu" if in_task => {
            "one of 256, 512, 1024, 2048, 4096, 8192, 16384 CPU units (1024 = 1 vCPU)".into()
        }
        "memory" if in_task => {
            "512–122880 MiB (which sizes depend on task.cpu: Fargate's table)".into()
        }
        "max_concurrency" => format!("0 (no limit) to {MAX_CONCURRENCY} requests at once"),
        "capacity" | "pool_size" => format!("0 (unlimited) to {MAX_CAPACITY}"),
        _ => match ty {
            "u16" => format!("0–{}", u16::MAX),
            "u32" => format!("0–{}", u32::MAX),
            "u64" | "usize" => format!("0–{}", u64::MAX),
            _ => format!("{}–{}", i64::MIN, i64::MAX),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_messages_say_what_is_allowed() {
        assert_eq!(
            explain(
                "load_balancer.listeners.0.port",
                "invalid value: integer `70000`, expected u16"
            ),
            "70000 is out of range: allowed 1–65535"
        );
        let m = explain(
            "services.0.desired_count",
            "invalid type: floating point `1.5`, expected u32",
        );
        assert!(m.contains("expected an integer: allowed 0–5000"), "{m}");
        assert_eq!(
            explain("x", "invalid type: string \"a\", expected f64"),
            "invalid type: string \"a\", expected a finite number"
        );
    }

    #[test]
    fn removal_climbs_out_of_arrays_and_reports_what_went() {
        let mut v = json!({"a": {"b": 1, "c": [1, {"d": 2}]}});
        assert_eq!(remove(&mut v, "a.b").as_deref(), Some("a.b"));
        assert_eq!(remove(&mut v, "a.c.1.d").as_deref(), Some("a.c.1.d"));
        assert_eq!(remove(&mut v, "a.c.0").as_deref(), Some("a.c"));
        assert_eq!(v, json!({"a": {}}));
        assert_eq!(remove(&mut v, "a.zz.y").as_deref(), Some("a"));
        assert_eq!(remove(&mut v, "").as_deref(), Some(""));
    }

    #[test]
    fn errors_from_removals_are_not_reported() {
        let removed = vec!["s.duration".to_string()];
        assert!(caused_by_removal("s", "missing field `duration`", &removed));
        assert!(!caused_by_removal("s", "missing field `seed`", &removed));
        assert!(!caused_by_removal("s", "unknown field `x`", &removed));
        assert!(caused_by_removal("s", "invalid length 1", &removed));
        assert!(!caused_by_removal("t", "invalid length 1", &removed));
    }

    #[test]
    fn every_section_of_the_file_is_dispatched() {
        // The sections `deserialize` knows must be the file's: a new section needs a line there.
        let schema = super::super::file::schema();
        let mut names: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let doc = json!({});
        for n in &names {
            let mut d = doc.clone();
            d[*n] = json!("not a section");
            let e = deserialize(&d, &[]).unwrap_err();
            assert!(
                e.iter()
                    .any(|e| e.path == *n && !e.message.contains("unknown field")),
                "{n}: {e:?}"
            );
        }
    }
}
