//! `--set path=value` overrides, applied to the parsed document before it is typed and
//! validated, so an override is checked exactly like the file.
//!
//! `path` is dotted: table keys, and array elements by index (`services.0.desired_count`)
//! or, for arrays of named tables, by name (`services.web.desired_count`). `value` is read
//! as a TOML value when it parses as one (`4`, `0.5`, `true`, `"text"`,
//! `{ dist = "exponential", mean = "10ms" }`, and integers up to 2^64 − 1 like the file's
//! `seed`), and as a plain string otherwise (`random`, `5m`). `nan` and `inf` are refused:
//! no field takes a number that is not finite.

use serde_json::Value;

/// One `--set` override.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Dotted path.
    pub path: Vec<String>,
    /// The value to put there.
    pub value: Value,
    /// The argument as typed, for messages.
    pub text: String,
}

/// Parses `path=value`.
///
/// # Errors
/// A message when there is no `=`, the path is empty or has an empty segment, or the value
/// holds a number that is not finite (`nan`, `inf`).
pub fn parse(arg: &str) -> Result<Override, String> {
    let Some((path, value)) = arg.split_once('=') else {
        return Err(format!(
            "--set {arg}: expected path=value, e.g. --set target_groups.0.algorithm=random"
        ));
    };
    let path = path.trim();
    let segs: Vec<String> = path.split('.').map(|s| s.trim().to_string()).collect();
    if path.is_empty() || segs.iter().any(String::is_empty) {
        return Err(format!(
            "--set {arg}: the path \"{path}\" has an empty part"
        ));
    }
    let value = value.trim();
    let doc = format!("v = {value}");
    if !super::non_finite_floats(&doc).is_empty() {
        return Err(format!(
            "--set {arg}: {value} is not a finite number; write a number, or quote it (\"{value}\") for a string"
        ));
    }
    Ok(Override {
        path: segs,
        value: parse_value(value),
        text: arg.to_string(),
    })
}

/// Reads a TOML value if `s` is one (read as the file is, so integers up to 2^64 − 1 are
/// numbers), else a string.
fn parse_value(s: &str) -> Value {
    match toml::from_str::<Value>(&format!("v = {s}")) {
        Ok(Value::Object(mut t)) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(s.to_string())),
        _ => Value::String(s.to_string()),
    }
}

/// Applies `o` to `doc`, creating missing tables on the way. Returns the path as resolved
/// (names replaced by indices), dotted.
///
/// # Errors
/// A message naming the override when a path part does not fit the document (an index
/// out of range, a name no element has, a key under a value that is not a table).
pub fn apply(doc: &mut Value, o: &Override) -> Result<String, String> {
    let mut node = doc;
    let mut resolved = Vec::new();
    let n = o.path.len();
    for (i, seg) in o.path.iter().enumerate() {
        let last = i + 1 == n;
        let here = if resolved.is_empty() {
            "the top level".to_string()
        } else {
            resolved.join(".")
        };
        match node {
            Value::Object(map) => {
                resolved.push(seg.clone());
                if last {
                    map.insert(seg.clone(), o.value.clone());
                    return Ok(resolved.join("."));
                }
                node = map
                    .entry(seg.clone())
                    .or_insert_with(|| Value::Object(Default::default()));
            }
            Value::Array(items) => {
                let idx = match seg.parse::<usize>() {
                    Ok(k) => k,
                    Err(_) => items
                        .iter()
                        .position(|it| it.get("name").and_then(Value::as_str) == Some(seg.as_str()))
                        .ok_or_else(|| {
                            let names: Vec<_> = items
                                .iter()
                                .filter_map(|it| it.get("name").and_then(Value::as_str))
                                .collect();
                            format!(
                                "--set {}: {here} has no element named \"{seg}\" (names: {})",
                                o.text,
                                names.join(", ")
                            )
                        })?,
                };
                let len = items.len();
                let Some(item) = items.get_mut(idx) else {
                    return Err(format!(
                        "--set {}: {here} has {len} element(s), so index {idx} is out of range (0–{})",
                        o.text,
                        len.saturating_sub(1)
                    ));
                };
                resolved.push(idx.to_string());
                if last {
                    *item = o.value.clone();
                    return Ok(resolved.join("."));
                }
                node = item;
            }
            _ => {
                return Err(format!(
                    "--set {}: {here} is a value, not a table, so it has no field \"{seg}\"",
                    o.text
                ));
            }
        }
    }
    unreachable!("a path has at least one segment")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_toml_or_strings() {
        assert_eq!(parse("a=4").unwrap().value, json!(4));
        assert_eq!(parse("a=0.5").unwrap().value, json!(0.5));
        assert_eq!(parse("a=true").unwrap().value, json!(true));
        assert_eq!(parse("a=random").unwrap().value, json!("random"));
        assert_eq!(parse("a=5m").unwrap().value, json!("5m"));
        assert_eq!(parse("a=\"x y\"").unwrap().value, json!("x y"));
        assert_eq!(
            parse("a={ dist = \"exponential\", mean = \"10ms\" }")
                .unwrap()
                .value,
            json!({"dist": "exponential", "mean": "10ms"})
        );
        assert_eq!(
            parse("simulation.seed=18446744073709551615").unwrap().value,
            json!(u64::MAX)
        );
        assert_eq!(parse("a=-3").unwrap().value, json!(-3));
        for bad in ["a=nan", "a=inf", "a=-inf", "a=[1, nan]"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("not a finite number"), "{e}");
        }
        assert!(parse("novalue").is_err());
        assert!(parse("a..b=1").is_err());
    }

    #[test]
    fn paths_by_index_name_and_new_keys() {
        let mut d = json!({"services": [{"name": "web", "desired_count": 2}], "simulation": {}});
        assert_eq!(
            apply(&mut d, &parse("services.0.desired_count=4").unwrap()).unwrap(),
            "services.0.desired_count"
        );
        assert_eq!(d["services"][0]["desired_count"], json!(4));
        apply(&mut d, &parse("services.web.task.cpu=2048").unwrap()).unwrap();
        assert_eq!(d["services"][0]["task"]["cpu"], json!(2048));
        apply(&mut d, &parse("simulation.seed=7").unwrap()).unwrap();
        assert_eq!(d["simulation"]["seed"], json!(7));
        let e = apply(&mut d, &parse("services.3.name=x").unwrap()).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = apply(&mut d, &parse("services.api.name=x").unwrap()).unwrap_err();
        assert!(e.contains("no element named \"api\""), "{e}");
        let e = apply(&mut d, &parse("simulation.seed.x=1").unwrap()).unwrap_err();
        assert!(e.contains("not a table"), "{e}");
    }
}
