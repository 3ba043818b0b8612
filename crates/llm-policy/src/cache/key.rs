//! The cache key of a request: a hash of everything in its body that can change the answer.
//!
//! Two requests that differ only in who asks (`user`), how the answer is delivered (`stream`,
//! `stream_options`), the gateway's own controls (`cache`, `metadata`, retries, fallbacks,
//! timeouts, dropped params, guardrails, mock testing) or the order of their JSON fields get the
//! same key; a cached non-streamed answer thus serves the same request streamed, and the other
//! way round. `model` is replaced by the model group, so aliases of one group share entries.

use ring::digest::{SHA256, digest};
use serde_json::Value;
use std::fmt::Write as _;

/// Top-level request fields that never change the answer.
const IGNORED: &[&str] = &[
    "user",
    "stream",
    "stream_options",
    "cache",
    "metadata",
    "num_retries",
    "fallbacks",
    "timeout",
    "drop_params",
    "additional_drop_params",
    "guardrails",
];

/// Prefix of LiteLLM's mock-testing switches (`mock_testing_fallbacks`, ...), also ignored.
const IGNORED_PREFIX: &str = "mock_testing_";

/// The cache key of `request` (a chat or embeddings body) served by `model_group`: the SHA-256
/// (lowercase hex) of its canonical JSON, prefixed `<namespace>:` when a namespace is given,
/// as LiteLLM writes namespaced keys. Canonical JSON: object keys sorted at every depth, no
/// whitespace, integral numbers written as integers (`1.0` and `1` are one key).
///
/// Chat and embeddings bodies cannot collide: one has `messages`, the other `input`.
pub fn cache_key(request: &Value, model_group: &str, namespace: Option<&str>) -> String {
    let mut canonical = String::with_capacity(256);
    match request {
        Value::Object(fields) => {
            let mut kept: Vec<(&str, &Value)> = fields
                .iter()
                .filter(|(name, _)| {
                    !IGNORED.contains(&name.as_str()) && !name.starts_with(IGNORED_PREFIX)
                })
                .filter(|(name, _)| name.as_str() != "model")
                .map(|(name, value)| (name.as_str(), value))
                .collect();
            let group = Value::String(model_group.to_owned());
            kept.push(("model", &group));
            write_object(&mut canonical, kept);
        }
        // Not a request body; hashed with the group rather than refused (the caller
        // validated the body).
        other => {
            let group = Value::String(model_group.to_owned());
            write_object(&mut canonical, vec![("body", other), ("model", &group)]);
        }
    }
    let hash = digest(&SHA256, canonical.as_bytes());
    let mut key = String::with_capacity(64 + namespace.map_or(0, |n| n.len() + 1));
    if let Some(namespace) = namespace {
        key.push_str(namespace);
        key.push(':');
    }
    for byte in hash.as_ref() {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// Writes `value` canonically. Sorting here (rather than relying on serde_json's map order)
/// keeps keys stable even if a crate in the build turns on serde_json's `preserve_order`.
fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(fields) => {
            write_object(out, fields.iter().map(|(k, v)| (k.as_str(), v)).collect());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Number(number) => match number.as_f64() {
            // 2^53: integral floats below it are exact integers.
            Some(f) if number.is_f64() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => out.push_str(&number.to_string()),
        },
        // Strings, booleans and null: serde_json's own escaping is canonical enough (one
        // spelling per string).
        other => out.push_str(&other.to_string()),
    }
}

fn write_object(out: &mut String, mut fields: Vec<(&str, &Value)>) {
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (name, value)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(name.to_owned()).to_string());
        out.push(':');
        write_canonical(out, value);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Hi"}],
            "temperature": 0.2,
            "max_tokens": 100,
        })
    }

    /// `base()` with `field` set to `value` (`null` removes it).
    fn with(field: &str, value: Value) -> Value {
        let mut request = base();
        let fields = request.as_object_mut().unwrap();
        if value.is_null() {
            fields.remove(field);
        } else {
            fields.insert(field.to_owned(), value);
        }
        request
    }

    fn key(request: &Value) -> String {
        cache_key(request, "group-a", None)
    }

    #[test]
    fn cache_key_ignores_what_cannot_change_the_answer() {
        let reordered = json!({
            "max_tokens": 100,
            "temperature": 0.2,
            "messages": [{"content": "Be brief.", "role": "system"},
                         {"content": "Hi", "role": "user"}],
            "model": "gpt-4o",
        });
        let cases = [
            ("field order, at every depth", reordered),
            ("user", with("user", json!("alice"))),
            ("stream", with("stream", json!(true))),
            (
                "stream_options",
                with("stream_options", json!({"include_usage": true})),
            ),
            ("cache", with("cache", json!({"no-store": true, "ttl": 60}))),
            ("metadata", with("metadata", json!({"trace": "x"}))),
            ("num_retries", with("num_retries", json!(3))),
            ("fallbacks", with("fallbacks", json!(["gpt-4o-mini"]))),
            ("timeout", with("timeout", json!(30))),
            ("drop_params", with("drop_params", json!(true))),
            (
                "additional_drop_params",
                with("additional_drop_params", json!(["seed"])),
            ),
            ("guardrails", with("guardrails", json!(["pii"]))),
            (
                "mock_testing_*",
                with("mock_testing_fallbacks", json!(true)),
            ),
            (
                "the model alias (the group decides)",
                with("model", json!("my-alias")),
            ),
            ("integral float", with("max_tokens", json!(100.0))),
        ];
        let expected = key(&base());
        assert_eq!(expected.len(), 64);
        assert!(
            expected
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        for (name, request) in cases {
            assert_eq!(key(&request), expected, "{name} changed the key");
        }
    }

    #[test]
    fn cache_key_changes_with_what_changes_the_answer() {
        let cases = [
            ("temperature", with("temperature", json!(0.3))),
            ("temperature absent", with("temperature", Value::Null)),
            ("max_tokens", with("max_tokens", json!(101))),
            ("seed", with("seed", json!(7))),
            ("n", with("n", json!(2))),
            (
                "response_format",
                with("response_format", json!({"type": "json_object"})),
            ),
            (
                "tools",
                with(
                    "tools",
                    json!([{"type": "function", "function": {"name": "f"}}]),
                ),
            ),
            ("tool_choice", with("tool_choice", json!("required"))),
            (
                "messages: one more",
                with("messages", json!([{"role": "user", "content": "Hi"}])),
            ),
            (
                "messages: order",
                with(
                    "messages",
                    json!([{"role": "user", "content": "Hi"},
                                        {"role": "system", "content": "Be brief."}]),
                ),
            ),
            (
                "messages: content",
                with(
                    "messages",
                    json!([{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Hi!"}]),
                ),
            ),
            (
                "a string that looks like the number",
                with("max_tokens", json!("100")),
            ),
        ];
        let base_key = key(&base());
        let mut seen = std::collections::HashSet::from([base_key.clone()]);
        for (name, request) in cases {
            let changed = key(&request);
            assert_ne!(changed, base_key, "{name} did not change the key");
            assert!(seen.insert(changed), "{name} collides with another case");
        }
    }

    #[test]
    fn cache_key_depends_on_group_and_namespace() {
        let request = base();
        let plain = cache_key(&request, "group-a", None);
        let cases = [
            ("another group", cache_key(&request, "group-b", None), false),
            (
                "a namespace",
                cache_key(&request, "group-a", Some("team1")),
                true,
            ),
            (
                "another namespace",
                cache_key(&request, "group-a", Some("team2")),
                true,
            ),
        ];
        let mut seen = std::collections::HashSet::from([plain.clone()]);
        for (name, key, namespaced) in cases {
            assert!(seen.insert(key.clone()), "{name}: same key as another case");
            assert_eq!(key.contains(':'), namespaced, "{name}: {key}");
        }
        assert_eq!(
            cache_key(&request, "group-a", Some("team1")),
            format!("team1:{plain}")
        );
    }
}
