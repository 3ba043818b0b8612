//! Deciding whether the mock answers with tool calls, and building them.

use serde_json::Value;

use crate::error::ApiError;
use crate::ids::Fnv;
use crate::schema::{self, Fill};

/// One function call the mock's "model" makes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    /// A JSON object, serialized, as OpenAI sends it.
    pub arguments: String,
}

/// The calls to make for this request, or an empty list when the reply is text.
///
/// Calls are made when `tools` has functions, `tool_choice` is not `"none"` and the
/// conversation does not end in a tool result (which the mock answers in text instead).
pub(crate) fn plan(request: &Value, messages: &[Value]) -> Result<Vec<ToolCall>, ApiError> {
    let functions: Vec<&Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str).unwrap_or("function") == "function")
        .filter_map(|t| t.get("function"))
        .collect();
    let last_is_tool = messages
        .last()
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
        == Some("tool");
    let choice = request.get("tool_choice");
    if functions.is_empty() || last_is_tool || choice.and_then(Value::as_str) == Some("none") {
        return Ok(Vec::new());
    }
    let chosen: Vec<&Value> = if let Some(name) = named_choice(choice) {
        let function = functions
            .iter()
            .find(|f| f.get("name").and_then(Value::as_str) == Some(name))
            .ok_or_else(|| {
                ApiError::invalid(
                    format!(
                        "Invalid value for 'tool_choice': no function named '{name}' in 'tools'."
                    ),
                    Some("tool_choice"),
                )
            })?;
        vec![*function]
    } else if choice.and_then(Value::as_str) == Some("required") {
        functions
    } else {
        functions.into_iter().take(1).collect()
    };
    // Seeded by the conversation so ids differ between turns yet repeat for a repeated request.
    let last = messages
        .last()
        .map(super::content::text_of)
        .unwrap_or_default();
    let seed = Fnv::new()
        .write(&messages.len().to_le_bytes())
        .write(last.as_bytes());
    Ok(chosen
        .into_iter()
        .enumerate()
        .map(|(index, function)| call(function, index, seed))
        .collect())
}

/// `{"type":"function","function":{"name":...}}` names the one function to call.
fn named_choice(choice: Option<&Value>) -> Option<&str> {
    choice?.get("function")?.get("name")?.as_str()
}

fn call(function: &Value, index: usize, seed: Fnv) -> ToolCall {
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let parameters = function
        .get("parameters")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({"type": "object"}));
    // Tool arguments are always a JSON object, even when the schema forgot to say so.
    let arguments = match schema::sample(&parameters, &parameters, Fill::Required) {
        value @ Value::Object(_) => value,
        _ => Value::Object(serde_json::Map::new()),
    };
    let hash = seed
        .write(name.as_bytes())
        .write(&index.to_le_bytes())
        .finish();
    ToolCall {
        id: format!("call_{hash:016x}"),
        name,
        arguments: arguments.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn weather_and_time() -> Value {
        json!([
            {"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer"},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                    "verbose": {"type": "boolean"}
                },
                "required": ["city", "days", "unit"]
            }}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
        ])
    }

    fn names(request: Value) -> Vec<(String, String)> {
        let messages = request["messages"].as_array().cloned().unwrap_or_default();
        plan(&request, &messages)
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.arguments))
            .collect()
    }

    #[test]
    fn picks_the_calls_tool_choice_asks_for() {
        let user = json!([{"role": "user", "content": "hi"}]);
        let weather = (
            "get_weather".to_owned(),
            r#"{"city":"mock","days":1,"unit":"c"}"#.to_owned(),
        );
        let time = ("get_time".to_owned(), "{}".to_owned());
        let cases = [
            (json!(null), vec![weather.clone()]),
            (json!("auto"), vec![weather.clone()]),
            (json!("none"), vec![]),
            (json!("required"), vec![weather.clone(), time.clone()]),
            (
                json!({"type": "function", "function": {"name": "get_time"}}),
                vec![time],
            ),
        ];
        for (choice, expected) in cases {
            let request =
                json!({"messages": user, "tools": weather_and_time(), "tool_choice": choice});
            assert_eq!(names(request), expected, "tool_choice {choice}");
        }
    }

    #[test]
    fn a_tool_result_is_answered_in_text() {
        let request = json!({
            "messages": [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "x", "content": "sunny"}],
            "tools": weather_and_time()
        });
        assert!(names(request).is_empty());
    }

    #[test]
    fn an_unknown_named_tool_is_a_bad_request() {
        let request = json!({
            "messages": [{"role": "user", "content": "hi"}],
            "tools": weather_and_time(),
            "tool_choice": {"type": "function", "function": {"name": "nope"}}
        });
        let messages = request["messages"].as_array().cloned().unwrap_or_default();
        let err = plan(&request, &messages).unwrap_err();
        assert_eq!(err.param, Some("tool_choice"));
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let request = json!({"messages": [{"role": "user", "content": "hi"}], "tools": weather_and_time(), "tool_choice": "required"});
        let messages = request["messages"].as_array().cloned().unwrap_or_default();
        let first = plan(&request, &messages).unwrap();
        let again = plan(&request, &messages).unwrap();
        assert_eq!(first, again);
        assert_ne!(first[0].id, first[1].id);
        assert!(first[0].id.starts_with("call_"));
    }
}
