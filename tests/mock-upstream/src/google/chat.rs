//! `:generateContent` / `:streamGenerateContent`: the deterministic answer to a Gemini request,
//! rendered as one JSON body or as SSE events (both say the same thing).
//!
//! Like the OpenAI mock: text echoes the last user text (`echo: ...`), a conversation ending in
//! a `functionResponse` is answered `echo: tool result: ...`, declared functions are called
//! with arguments sampled from their schema, JSON mode samples `responseJsonSchema`, usage
//! counts words. Gemini's real shape is kept: `modelVersion`, `responseId`,
//! `promptTokensDetails`, running `usageMetadata` on every event, `\r\n\r\n` event endings,
//! whole function calls in one event, and no `[DONE]`.

use bytes::Bytes;
use serde_json::{Value, json};

use super::errors::GoogleError;
use crate::schema::{self, Fill};
use crate::stream::Transcript;

/// Upper bound on `candidateCount`.
const MAX_CANDIDATES: u64 = 8;

/// The decided answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    thought: Option<String>,
    output: Output,
    finish_reason: &'static str,
    candidates: usize,
    prompt_tokens: u64,
    /// Per candidate.
    candidate_tokens: u64,
    thought_tokens: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Output {
    Text(String),
    Calls(Vec<(String, Value)>),
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn texts(content: &Value) -> Vec<&str> {
    content
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect()
}

/// Decides the answer; a request without `contents` is refused as Gemini does.
pub(crate) fn plan(request: &Value) -> Result<Plan, GoogleError> {
    let contents = request
        .get("contents")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            GoogleError::invalid("* GenerateContentRequest.contents: contents is not specified")
        })?;
    for content in contents {
        match content.get("role").and_then(Value::as_str) {
            None | Some("user" | "model") => {}
            Some(other) => {
                return Err(GoogleError::invalid(format!(
                    "Please use a valid role: user, model. Got '{other}'."
                )));
            }
        }
    }
    let config = request
        .get("generationConfig")
        .cloned()
        .unwrap_or(Value::Null);
    let candidates = config
        .get("candidateCount")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, MAX_CANDIDATES);
    let system_words = request
        .get("systemInstruction")
        .map_or(0, |s| texts(s).iter().map(|t| words(t)).sum());
    let prompt_tokens =
        (contents.iter().flat_map(texts).map(words).sum::<u64>() + system_words).max(1);
    let last = contents.last().cloned().unwrap_or(Value::Null);
    let tool_result = last
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|p| p.get("functionResponse"))
        .map(|r| r.get("response").cloned().unwrap_or(Value::Null));
    let user = contents
        .iter()
        .rev()
        .find(|c| c.get("role").and_then(Value::as_str) != Some("model"))
        .map(|c| texts(c).join(" "))
        .unwrap_or_default();
    let thinking = config
        .pointer("/thinkingConfig/includeThoughts")
        .and_then(Value::as_bool)
        == Some(true);
    let thought = thinking.then(|| format!("thinking about: {user}"));
    let calls = if tool_result.is_some() {
        Vec::new()
    } else {
        calls(request)
    };
    let (output, finish_reason, candidate_tokens) = if !calls.is_empty() {
        let tokens = calls
            .iter()
            .map(|(_, a)| words(&a.to_string()))
            .sum::<u64>();
        (Output::Calls(calls), "STOP", tokens.max(1))
    } else {
        let (text, finish) = reply(&config, request, &user, tool_result.as_ref());
        let tokens = words(&text);
        (Output::Text(text), finish, tokens)
    };
    Ok(Plan {
        thought_tokens: thought.as_deref().map_or(0, words),
        thought,
        output,
        finish_reason,
        candidates: usize::try_from(candidates).unwrap_or(1),
        prompt_tokens,
        candidate_tokens,
    })
}

fn reply(
    config: &Value,
    request: &Value,
    user: &str,
    tool: Option<&Value>,
) -> (String, &'static str) {
    if let Some(result) = tool {
        return (format!("echo: tool result: {result}"), "STOP");
    }
    if config.get("responseMimeType").and_then(Value::as_str) == Some("application/json") {
        let schema = config
            .get("responseJsonSchema")
            .or_else(|| config.get("responseSchema"));
        return match schema {
            Some(schema) => (
                schema::sample(schema, schema, Fill::All).to_string(),
                "STOP",
            ),
            None => (json!({ "echo": user }).to_string(), "STOP"),
        };
    }
    let mut text = format!("echo: {user}");
    let media = request
        .get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("parts").and_then(Value::as_array))
        .flatten()
        .filter(|p| p.get("inlineData").is_some() || p.get("fileData").is_some())
        .count();
    if media > 0 {
        text.truncate(text.trim_end().len());
        text.push_str(&format!(" [media: {media}]"));
    }
    let max = config.get("maxOutputTokens").and_then(Value::as_u64);
    match max {
        Some(max) if words(&text) > max => {
            let max = usize::try_from(max).unwrap_or(usize::MAX);
            let short: Vec<&str> = text.split_whitespace().take(max).collect();
            (short.join(" "), "MAX_TOKENS")
        }
        _ => (text, "STOP"),
    }
}

/// The function calls to make: none when `toolConfig` says `NONE`; the allowed (or all)
/// functions for `ANY`; the first one otherwise.
fn calls(request: &Value) -> Vec<(String, Value)> {
    let declarations: Vec<&Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("functionDeclarations").and_then(Value::as_array))
        .flatten()
        .collect();
    let config = request.pointer("/toolConfig/functionCallingConfig");
    let mode = config
        .and_then(|c| c.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("AUTO");
    let allowed: Option<Vec<&str>> = config
        .and_then(|c| c.get("allowedFunctionNames"))
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect());
    let chosen: Vec<&Value> = match mode {
        "NONE" => Vec::new(),
        "ANY" => declarations
            .into_iter()
            .filter(|d| {
                let name = d.get("name").and_then(Value::as_str).unwrap_or_default();
                allowed.as_ref().is_none_or(|a| a.contains(&name))
            })
            .collect(),
        _ => declarations.into_iter().take(1).collect(),
    };
    chosen
        .into_iter()
        .map(|d| {
            let name = d.get("name").and_then(Value::as_str).unwrap_or_default();
            let schema = d
                .get("parametersJsonSchema")
                .or_else(|| d.get("parameters_json_schema"))
                .or_else(|| d.get("parameters"))
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            let args = match schema::sample(&schema, &schema, Fill::Required) {
                value @ Value::Object(_) => value,
                _ => json!({}),
            };
            (name.to_owned(), args)
        })
        .collect()
}

/// What the rendering needs besides the plan.
pub(crate) struct Meta<'a> {
    pub model: &'a str,
    pub response_id: String,
    pub vertex: bool,
}

impl Plan {
    fn usage(&self, final_counts: bool) -> Value {
        let n = self.candidates as u64;
        let mut usage = json!({
            "promptTokenCount": self.prompt_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": self.prompt_tokens}],
        });
        let candidates = if final_counts {
            self.candidate_tokens * n
        } else {
            0
        };
        let thoughts = if final_counts {
            self.thought_tokens * n
        } else {
            0
        };
        if final_counts {
            usage["candidatesTokenCount"] = json!(candidates);
            if thoughts > 0 {
                usage["thoughtsTokenCount"] = json!(thoughts);
            }
        }
        usage["totalTokenCount"] = json!(self.prompt_tokens + candidates + thoughts);
        usage
    }

    fn envelope(&self, meta: &Meta<'_>, candidates: Vec<Value>, final_counts: bool) -> Value {
        let mut usage = self.usage(final_counts);
        let mut body = json!({
            "candidates": candidates,
            "modelVersion": meta.model,
            "responseId": meta.response_id,
        });
        if meta.vertex {
            usage["trafficType"] = json!("ON_DEMAND");
            body["createTime"] = json!("2026-01-01T00:00:00.000000Z");
        }
        body["usageMetadata"] = usage;
        body
    }

    fn call_parts(&self, calls: &[(String, Value)]) -> Vec<Value> {
        calls
            .iter()
            .map(|(name, args)| {
                let mut part = json!({"functionCall": {"name": name, "args": args}});
                if self.thought.is_some() {
                    part["thoughtSignature"] = json!("bW9jay1zaWduYXR1cmU=");
                }
                part
            })
            .collect()
    }

    /// The complete `generateContent` answer.
    pub(crate) fn render(&self, meta: &Meta<'_>) -> Value {
        let mut parts = Vec::new();
        if let Some(thought) = &self.thought {
            parts.push(json!({"text": thought, "thought": true}));
        }
        match &self.output {
            Output::Text(text) => parts.push(json!({ "text": text })),
            Output::Calls(calls) => parts.extend(self.call_parts(calls)),
        }
        let candidates = (0..self.candidates)
            .map(|i| {
                json!({
                    "content": {"role": "model", "parts": parts},
                    "finishReason": self.finish_reason,
                    "index": i,
                    "avgLogprobs": -0.125,
                })
            })
            .collect();
        self.envelope(meta, candidates, true)
    }

    /// The `alt=sse` events: a thought event, then one event per word (or one with all
    /// function calls); the last carries `finishReason` and the final usage.
    pub(crate) fn transcript(&self, meta: &Meta<'_>) -> Transcript {
        let mut pieces: Vec<Vec<Value>> = Vec::new();
        if let Some(thought) = &self.thought {
            pieces.push(vec![json!({"text": thought, "thought": true})]);
        }
        match &self.output {
            Output::Text(text) => {
                for (i, word) in text.split(' ').enumerate() {
                    let piece = if i == 0 {
                        word.to_owned()
                    } else {
                        format!(" {word}")
                    };
                    pieces.push(vec![json!({ "text": piece })]);
                }
            }
            Output::Calls(calls) => pieces.push(self.call_parts(calls)),
        }
        let last = pieces.len().saturating_sub(1);
        let frames: Vec<Bytes> = pieces
            .into_iter()
            .enumerate()
            .map(|(at, parts)| {
                let candidates = (0..self.candidates)
                    .map(|i| {
                        let mut candidate =
                            json!({"content": {"role": "model", "parts": parts}, "index": i});
                        if at == last {
                            candidate["finishReason"] = json!(self.finish_reason);
                        }
                        candidate
                    })
                    .collect();
                let event = self.envelope(meta, candidates, at == last);
                Bytes::from(format!("data: {event}\r\n\r\n"))
            })
            .collect();
        Transcript {
            finish_at: frames.len().saturating_sub(1),
            frames,
            opening: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta<'static> {
        Meta {
            model: "gemini-test",
            response_id: "r".into(),
            vertex: false,
        }
    }

    #[test]
    fn plans_answers() {
        let weather = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
        let cases = vec![
            (
                json!({"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]}),
                json!({"text": "echo: hi there"}),
                "STOP",
            ),
            (
                json!({"contents": [{"role": "user", "parts": [{"text": "a b c"}]}], "generationConfig": {"maxOutputTokens": 2}}),
                json!({"text": "echo: a"}),
                "MAX_TOKENS",
            ),
            (
                json!({"contents": [{"role": "user", "parts": [{"text": "w"}]}],
                       "tools": [{"functionDeclarations": [{"name": "get_weather", "parametersJsonSchema": weather}]}]}),
                json!({"functionCall": {"name": "get_weather", "args": {"city": "mock"}}}),
                "STOP",
            ),
            (
                json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"result": "22C"}}}]}],
                       "tools": [{"functionDeclarations": [{"name": "f"}]}]}),
                json!({"text": "echo: tool result: {\"result\":\"22C\"}"}),
                "STOP",
            ),
            (
                json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                       "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": weather}}),
                json!({"text": "{\"city\":\"mock\"}"}),
                "STOP",
            ),
        ];
        for (request, part, finish) in cases {
            let body = plan(&request).unwrap().render(&meta());
            assert_eq!(
                body.pointer("/candidates/0/content/parts/0"),
                Some(&part),
                "{request}"
            );
            assert_eq!(
                body.pointer("/candidates/0/finishReason"),
                Some(&json!(finish))
            );
        }
        assert!(plan(&json!({"contents": []})).is_err());
        assert!(plan(&json!({"contents": [{"role": "assistant", "parts": []}]})).is_err());
    }

    #[test]
    fn streams_word_by_word_with_running_usage() {
        let request = json!({"contents": [{"role": "user", "parts": [{"text": "one two"}]}]});
        let transcript = plan(&request).unwrap().transcript(&meta());
        assert_eq!(transcript.frames.len(), 3);
        assert_eq!(transcript.finish_at, 2);
        let last = String::from_utf8(transcript.frames[2].to_vec()).unwrap();
        assert!(
            last.ends_with("\r\n\r\n") && last.contains("\"finishReason\":\"STOP\""),
            "{last}"
        );
        assert!(last.contains("\"candidatesTokenCount\":3"), "{last}");
    }
}
