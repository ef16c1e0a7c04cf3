//! The README's scenario reference documents every field of the scenario format.
//!
//! The test walks the JSON Schema of a scenario file ([`lbsim::scenario::file::schema`],
//! derived from the serde types, so it follows their renames and tags) and collects
//!
//! - every **field**, with its path: `services[].task.cpu`, and for a field of a variant of a
//!   tagged enum the variant too: `clients[].arrivals{process=trace}.loop`;
//! - every **value** of an enum: the tag values of tagged enums (`clients[].arrivals.process
//!   = "trace"`, `...cpu_time.dist = "lognormal"`, `...default_action.type = "forward"`) and
//!   plain enum values (`shape = "linear"`).
//!
//! It then looks for each in the README's `## Scenario reference` section (up to the next
//! `## ` heading). The matching rule:
//!
//! 1. Only text in backticks counts. A code span is read as *names*: `[]` is dropped, the
//!    span is cut at every character other than an ASCII letter, digit, `_` or `.`, and each
//!    piece is split at dots into components. So `listeners[].port` is the name
//!    `listeners.port`, and `{ type = "forward", target_group = "NAME" }` holds the names
//!    `type`, `forward`, `target_group` and `NAME`.
//! 2. A field or value `x` whose parent path is `p` (field names from the top: array items
//!    and variants add none) is matched by a name in which `x` is a component and the
//!    components before it end `p`: `services[].task.cpu` is matched by `task.cpu` or `cpu`,
//!    `load_balancer.listeners[].port` by `listeners[].port`, but not by `foo.cpu`.
//! 3. The name must be in a table row (a line starting with `|`) *in scope*: under a `###`
//!    heading that names, in backticks, a table that is a prefix of the item's path
//!    (`[[services]]` for `services[].task.cpu`; `[load_balancer]` or
//!    `[[load_balancer.listeners]]` for `load_balancer.listeners[].port`), or under a heading
//!    that names no table (`### Distributions`, shared by every delay).
//! 4. A field of a tagged-enum variant must be in the variant's own row: a row in scope that
//!    also holds the tag value (`loop` in the row of `"trace"`).
//! 5. The top-level tables (`simulation`, `clients`, ...) are matched against the `###`
//!    headings instead of rows: `[simulation]`, `[[clients]]`.
//!
//! On failure the test lists every item not found, by schema path.

use std::collections::BTreeMap;

use serde_json::Value;

/// Something the README must document.
#[derive(Clone, Debug)]
struct Item {
    /// The item's schema path, as reported: `clients[].arrivals{process=trace}.loop`.
    shown: String,
    /// The field name or enum value to find.
    name: String,
    /// Field names from the top to the item's parent; empty for a top-level table.
    parent: Vec<String>,
    /// For a field of a tagged-enum variant: the variant's tag value.
    variant: Option<String>,
}

/// Where the walk is: the field names from the top, and the path as reported.
#[derive(Clone, Debug, Default)]
struct At {
    fields: Vec<String>,
    shown: String,
}

impl At {
    /// The path of the field `name` under this one (`variant` shown as `{key=value}`).
    fn field(&self, name: &str, variant: Option<(&str, &str)>) -> At {
        let mut shown = self.shown.clone();
        if let Some((k, v)) = variant {
            shown.push_str(&format!("{{{k}={v}}}"));
        }
        if !shown.is_empty() {
            shown.push('.');
        }
        shown.push_str(name);
        let mut fields = self.fields.clone();
        fields.push(name.to_string());
        At { fields, shown }
    }
}

/// Collects the [`Item`]s of a schema, by their shown path.
struct Walker<'a> {
    root: &'a Value,
    items: BTreeMap<String, Item>,
}

impl Walker<'_> {
    fn add(&mut self, shown: String, name: &str, parent: &[String], variant: Option<&str>) {
        self.items.entry(shown.clone()).or_insert(Item {
            shown,
            name: name.to_string(),
            parent: parent.to_vec(),
            variant: variant.map(str::to_string),
        });
    }

    /// Walks the schema `s` of the thing at `at`.
    fn walk(&mut self, s: &Value, at: &At, depth: usize) {
        assert!(depth < 64, "schema nesting too deep at {}", at.shown);
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let target = r
                .strip_prefix('#')
                .and_then(|p| self.root.pointer(p))
                .unwrap_or_else(|| panic!("unresolved $ref {r} at {}", at.shown));
            self.walk(target, at, depth + 1);
        }
        for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
            for sub in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                self.walk(sub, at, depth + 1);
            }
        }
        if let Some(items) = s.get("items").filter(|i| i.is_object()) {
            let elements = At {
                fields: at.fields.clone(),
                shown: format!("{}[]", at.shown),
            };
            self.walk(items, &elements, depth + 1);
        }
        let values = s.get("const").into_iter().chain(
            s.get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for v in values.filter_map(Value::as_str) {
            self.add(format!("{} = {v:?}", at.shown), v, &at.fields, None);
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            self.properties(props, at, depth);
        }
    }

    /// Walks an object's properties; a property with a constant string value is a tagged
    /// enum's tag, and the object one of its variants.
    fn properties(&mut self, props: &serde_json::Map<String, Value>, at: &At, depth: usize) {
        let tag = props.iter().find_map(|(k, v)| {
            let value = v.get("const").and_then(Value::as_str)?;
            Some((k.as_str(), value))
        });
        for (name, sub) in props {
            let variant = tag.filter(|(k, _)| k != name);
            let here = at.field(name, variant);
            self.add(
                here.shown.clone(),
                name,
                &at.fields,
                variant.map(|(_, v)| v),
            );
            self.walk(sub, &here, depth + 1);
        }
    }
}

/// Every item of the scenario format's schema.
fn schema_items() -> Vec<Item> {
    let schema = lbsim::scenario::file::schema();
    let mut w = Walker {
        root: &schema,
        items: BTreeMap::new(),
    };
    w.walk(&schema, &At::default(), 0);
    w.items.into_values().collect()
}

/// The names in a code span (rule 1).
fn names(code: &str) -> Vec<Vec<String>> {
    code.replace("[]", "")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|piece| {
            piece
                .split('.')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The code spans of a line.
fn code_spans(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

/// A table row of the reference: the tables its heading names, and its names.
struct Row {
    scope: Vec<Vec<String>>,
    names: Vec<Vec<String>>,
}

/// The reference section of a README: its headings' tables, and its table rows.
struct Reference {
    tables: Vec<Vec<String>>,
    rows: Vec<Row>,
}

impl Reference {
    /// Reads the `## Scenario reference` section of `readme`.
    fn parse(readme: &str) -> Reference {
        let mut lines = readme.lines().skip_while(|l| *l != "## Scenario reference");
        assert!(
            lines.next().is_some(),
            "the README has no \"## Scenario reference\" section"
        );
        let mut r = Reference {
            tables: Vec::new(),
            rows: Vec::new(),
        };
        let mut scope = Vec::new();
        for line in lines.take_while(|l| !l.starts_with("## ")) {
            if line.starts_with("### ") {
                scope = code_spans(line)
                    .filter(|c| c.starts_with('['))
                    .flat_map(names)
                    .collect();
                r.tables.extend(scope.iter().cloned());
            } else if line.starts_with('|') {
                r.rows.push(Row {
                    scope: scope.clone(),
                    names: code_spans(line).flat_map(names).collect(),
                });
            }
        }
        r
    }

    /// True when the README documents `item` (rules 2–5).
    fn documents(&self, item: &Item) -> bool {
        if item.parent.is_empty() {
            return self.tables.iter().any(|t| *t == [item.name.as_str()]);
        }
        let mut path = item.parent.clone();
        path.push(item.name.clone());
        self.rows.iter().any(|row| {
            let in_scope = row.scope.is_empty() || row.scope.iter().any(|t| path.starts_with(t));
            let in_variant_row = item
                .variant
                .as_ref()
                .is_none_or(|v| row.names.iter().any(|n| n.contains(v)));
            in_scope
                && in_variant_row
                && row
                    .names
                    .iter()
                    .any(|n| names_item(n, &item.name, &item.parent))
        })
    }
}

/// Rule 2: `name` has `x` as a component, preceded by components that end `parent`.
fn names_item(name: &[String], x: &str, parent: &[String]) -> bool {
    name.iter()
        .enumerate()
        .any(|(j, c)| c == x && parent.ends_with(&name[..j]))
}

#[test]
fn every_scenario_field_and_enum_value_is_in_the_readme_reference() {
    let items = schema_items();
    // A walk that lost its way (unresolved references, renames, tags) finds far fewer.
    assert!(
        items.len() >= 80,
        "the schema walk found only {} items",
        items.len()
    );
    for expected in [
        "simulation.metrics_interval",
        "services[].task.cpu",
        "services[].request.cpu_time{dist=lognormal}.cv",
        "load_balancer.type",
        "load_balancer.listeners[].default_action{type=forward}.target_group",
        "clients[].arrivals{process=trace}.loop",
        "clients[].arrivals{process=schedule}.shape = \"linear\"",
        "clients[].arrivals.process = \"deterministic\"",
        "clients[].rtt.dist = \"empirical\"",
        "target_groups[].algorithm = \"power_of_two_choices\"",
    ] {
        assert!(
            items.iter().any(|i| i.shown == expected),
            "the schema walk did not find {expected}"
        );
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    let reference = Reference::parse(&readme);
    let missing: Vec<&str> = items
        .iter()
        .filter(|i| !reference.documents(i))
        .map(|i| i.shown.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} scenario fields and values are not in a table row of the README's \
         \"Scenario reference\" (see the matching rule in tests/it/scenario_docs.rs):\n  {}",
        missing.len(),
        items.len(),
        missing.join("\n  ")
    );
}

/// The matching rule on a small made-up reference.
#[test]
fn the_matching_rule_needs_the_right_parent_scope_and_variant_row() {
    let reference = Reference::parse(
        "## Scenario reference\n\
         ### `[[services]]`\n\
         | `task.cpu` | `foo.memory` |\n\
         | `\"poisson\"` | `rate_rps` |\n\
         ### Distributions\n\
         | `\"lognormal\"` | `mean`, `cv` |\n\
         ## Outputs\n\
         | `late` |\n",
    );
    let item = |shown: &str, variant: Option<&str>| {
        let mut parts: Vec<String> = shown.split('.').map(str::to_string).collect();
        let name = parts.pop().unwrap();
        Item {
            shown: shown.to_string(),
            name,
            parent: parts,
            variant: variant.map(str::to_string),
        }
    };
    let documented =
        |shown: &str, variant: Option<&str>| reference.documents(&item(shown, variant));
    assert!(documented("services", None));
    assert!(!documented("clients", None), "not a heading");
    assert!(documented("services.task.cpu", None));
    assert!(documented("services.task", None), "a component of task.cpu");
    assert!(!documented("services.task.memory", None), "foo is not task");
    assert!(
        !documented("clients.task.cpu", None),
        "out of the heading's scope"
    );
    assert!(documented("services.cpu_time.mean", Some("lognormal")));
    assert!(!documented("services.cpu_time.alpha", Some("lognormal")));
    assert!(documented("services.arrivals.rate_rps", Some("poisson")));
    assert!(
        !documented("services.arrivals.rate_rps", Some("lognormal")),
        "not in the variant's row"
    );
    assert!(!documented("services.late", None), "after the section");
}
