//! Sample values built from a JSON Schema, for tool-call arguments and structured outputs.
//!
//! The mock has no model to fill a schema with meaning, so it fills it by type: strings
//! `"mock"`, numbers `1`, booleans `true`, arrays empty (or `minItems` samples), enums and
//! `const` their first value. Local `$ref`s are followed because pydantic and zod emit
//! `$defs` for nested models.

use serde_json::{Map, Value, json};

/// Which object properties a sample fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Every property listed in `properties` (structured outputs).
    All,
    /// Only the `required` ones (tool-call arguments, as a terse model would answer).
    Required,
}

/// Recursion guard: self-referencing schemas (trees, linked lists) must still terminate.
const MAX_DEPTH: u8 = 24;
/// Caps `minItems` so a hostile schema cannot make the mock allocate without bound.
const MAX_MIN_ITEMS: u64 = 16;

/// A value of the shape `schema` describes; `root` resolves `#/...` references.
pub(crate) fn sample(schema: &Value, root: &Value, fill: Fill) -> Value {
    Sampler { root, fill }.value(schema, 0)
}

struct Sampler<'a> {
    root: &'a Value,
    fill: Fill,
}

impl Sampler<'_> {
    fn value(&self, schema: &Value, depth: u8) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Some(obj) = schema.as_object() else {
            // `true` / `{}` accept anything; a string is as good a guess as any.
            return json!("mock");
        };
        if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
            return match target.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                Some(resolved) => self.value(resolved, depth + 1),
                None => json!("mock"),
            };
        }
        if let Some(value) = obj.get("const") {
            return value.clone();
        }
        if let Some(first) = obj
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(variant) = obj
                .get(key)
                .and_then(Value::as_array)
                .and_then(|v| v.iter().find(|s| !is_null_schema(s)))
            {
                return self.value(variant, depth + 1);
            }
        }
        match type_of(obj) {
            Some("string") => json!("mock"),
            Some("number" | "integer") => json!(1),
            Some("boolean") => json!(true),
            Some("null") => Value::Null,
            Some("array") => self.array(obj, depth),
            Some("object") => self.object(obj, depth),
            _ => json!("mock"),
        }
    }

    fn array(&self, obj: &Map<String, Value>, depth: u8) -> Value {
        let min = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_MIN_ITEMS);
        let items = obj.get("items").unwrap_or(&Value::Bool(true));
        (0..min).map(|_| self.value(items, depth + 1)).collect()
    }

    fn object(&self, obj: &Map<String, Value>, depth: u8) -> Value {
        let empty = Map::new();
        let properties = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required = obj.get("required").and_then(Value::as_array);
        let mut out = Map::new();
        match self.fill {
            Fill::All => {
                for (name, schema) in properties {
                    out.insert(name.clone(), self.value(schema, depth + 1));
                }
            }
            Fill::Required => {
                for name in required.into_iter().flatten().filter_map(Value::as_str) {
                    let schema = properties.get(name).unwrap_or(&Value::Bool(true));
                    out.insert(name.to_owned(), self.value(schema, depth + 1));
                }
            }
        }
        Value::Object(out)
    }
}

/// The schema's type, taking the first non-null one from a type list (`["string","null"]`),
/// and inferring `object` / `array` from `properties` / `items` when `type` is absent.
fn type_of(obj: &Map<String, Value>) -> Option<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or(Some("null")),
        _ if obj.contains_key("properties") => Some("object"),
        _ if obj.contains_key("items") => Some("array"),
        _ => None,
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: Value, fill: Fill, expected: Value) {
        assert_eq!(sample(&schema, &schema, fill), expected, "schema {schema}");
    }

    #[test]
    fn samples_by_type() {
        let cases = [
            (json!({"type": "string"}), json!("mock")),
            (json!({"type": "integer"}), json!(1)),
            (json!({"type": "number"}), json!(1)),
            (json!({"type": "boolean"}), json!(true)),
            (
                json!({"type": "array", "items": {"type": "string"}}),
                json!([]),
            ),
            (
                json!({"type": "array", "minItems": 2, "items": {"type": "integer"}}),
                json!([1, 1]),
            ),
            (json!({"type": ["string", "null"]}), json!("mock")),
            (json!({"type": "null"}), Value::Null),
            (json!({"enum": ["celsius", "fahrenheit"]}), json!("celsius")),
            (json!({"const": 3}), json!(3)),
            (
                json!({"anyOf": [{"type": "null"}, {"type": "integer"}]}),
                json!(1),
            ),
            (json!({}), json!("mock")),
        ];
        for (schema, expected) in cases {
            check(schema, Fill::All, expected);
        }
    }

    #[test]
    fn fills_all_properties_recursively_and_follows_refs() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/Address"},
                "tags": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["name"],
            "$defs": {"Address": {"type": "object", "properties": {"zip": {"type": "integer"}}}}
        });
        let all = json!({"name": "mock", "address": {"zip": 1}, "tags": []});
        check(schema.clone(), Fill::All, all);
        check(schema, Fill::Required, json!({"name": "mock"}));
    }

    #[test]
    fn self_referencing_schemas_terminate() {
        let schema = json!({
            "type": "object",
            "properties": {"next": {"$ref": "#"}},
        });
        let value = sample(&schema, &schema, Fill::All);
        assert!(value.is_object());
    }
}
