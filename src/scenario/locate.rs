//! Finding the line of a field in a TOML scenario, so errors can say `file:line`.

/// Line (1-based) where the value at dotted `path` starts in TOML `text`, or where the
/// deepest existing part of the path starts. `None` if the text does not parse or the path's
/// first part is absent.
pub fn toml_line(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut array: Option<&toml::de::DeArray> = None;
    for seg in path.split('.') {
        let next = if let Some(t) = table {
            t.iter().find(|(k, _)| k.get_ref() == seg).map(|(_, v)| v)
        } else if let Some(a) = array {
            seg.parse::<usize>().ok().and_then(|i| a.get(i))
        } else {
            None
        };
        let Some(v) = next else { break };
        span = Some(v.span());
        table = None;
        array = None;
        match v.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    let s = span?;
    Some(text[..s.start.min(text.len())].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_fields_and_array_tables() {
        let t = "[simulation]\nduration = \"1h\"\n\n[[services]]\nname = \"a\"\n\n[[services]]\nname = \"b\"\ntask = { cpu = 1000 }\n";
        assert_eq!(toml_line(t, "simulation.duration"), Some(2));
        assert_eq!(toml_line(t, "services.1.name"), Some(8));
        assert_eq!(toml_line(t, "services.1.task.cpu"), Some(9));
        // A missing leaf points at its parent.
        assert_eq!(toml_line(t, "services.1.desired_count"), Some(7));
        assert_eq!(toml_line(t, "nothing"), None);
    }
}
