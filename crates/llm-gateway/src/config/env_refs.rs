//! Secrets and settings referenced from the environment: `os.environ/NAME` (LiteLLM) or
//! `${NAME}` anywhere in a string.

use serde_json::Value;
use std::collections::BTreeMap;

use super::issues::Report;

/// Replaces every environment reference in the string values of `value`, looking names up
/// first in `defined` (the config's own `environment_variables`) and then in the process
/// environment. An unset variable is an error at the key path where it was used.
pub fn resolve(
    value: &mut Value,
    defined: &BTreeMap<String, String>,
    report: &mut Report,
    path: &str,
) {
    match value {
        Value::String(text) => {
            if let Some(resolved) = resolve_str(text, defined, report, path) {
                *text = resolved;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                resolve(item, defined, report, &format!("{path}[{i}]"));
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                resolve(item, defined, report, &child);
            }
        }
        _ => {}
    }
}

/// A variable's value from the config's own definitions or the process environment.
pub fn lookup(name: &str, defined: &BTreeMap<String, String>) -> Option<String> {
    defined
        .get(name)
        .cloned()
        .or_else(|| std::env::var(name).ok())
}

fn resolve_str(
    text: &str,
    defined: &BTreeMap<String, String>,
    report: &mut Report,
    path: &str,
) -> Option<String> {
    if let Some(name) = text.strip_prefix("os.environ/") {
        return Some(lookup(name, defined).unwrap_or_else(|| {
            report.error(path, format!("environment variable `{name}` is not set"));
            String::new()
        }));
    }
    if !text.contains("${") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            report.error(path, "unterminated `${` in value");
            return None;
        };
        let name = &after[..end];
        match lookup(name, defined) {
            Some(value) => out.push_str(&value),
            None => report.error(path, format!("environment variable `{name}` is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_both_reference_styles() {
        let defined = BTreeMap::from([("KEY_A".to_owned(), "alpha".to_owned())]);
        let cases = [
            (json!("os.environ/KEY_A"), json!("alpha"), vec![]),
            (json!("${KEY_A}-x-${KEY_A}"), json!("alpha-x-alpha"), vec![]),
            (json!("plain"), json!("plain"), vec![]),
            (
                json!({"k": ["os.environ/NOPE_UNSET_1"]}),
                json!({"k": [""]}),
                vec!["k[0]"],
            ),
            (json!("${NOPE_UNSET_2}"), json!(""), vec![""]),
            (json!(42), json!(42), vec![]),
        ];
        for (mut input, expected, error_paths) in cases {
            let mut report = Report::default();
            resolve(&mut input, &defined, &mut report, "");
            assert_eq!(input, expected);
            let paths: Vec<&str> = report.issues.iter().map(|i| i.path.as_str()).collect();
            assert_eq!(paths, error_paths);
        }
    }
}
