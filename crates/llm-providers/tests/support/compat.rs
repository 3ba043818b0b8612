//! The part of the kit shared by the Azure, Cohere, Ollama and OpenAI-compatible tests: their
//! key, their scenarios' requests, the conformance matrix runner (against the family's native
//! mock) and the recorded cassettes of the conformance kit.

use std::time::Duration;

use llm_providers::{Family, Provider};
use llm_types::{ChatCompletionRequest, FinishReason, ResponseFormat, Role};
use serde_json::{Value, json};

use super::*;

/// The key every family mock is started with.
pub const KEY: &str = "test-key-0123456789";

/// A conversation ending in the result of a `get_weather` call.
pub fn tool_result_request() -> ChatCompletionRequest {
    with_tools(tool_conversation("call_1", r#"{"city": "Paris"}"#))
}

/// A 1x1 PNG as a data URL.
pub const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

pub fn vision_request() -> ChatCompletionRequest {
    image_request("what is this?", &[PNG_DATA_URL])
}

pub fn json_request() -> ChatCompletionRequest {
    let mut request = user("give me json");
    request.response_format = Some(ResponseFormat::JsonObject);
    request
}

/// Runs the cases shared by every family (reasoning is family-specific: `reasoning` runs it)
/// and returns the matrix row.
pub async fn run_matrix(
    harness: &Harness,
    model: &str,
    family: Family,
    reasoning: impl AsyncFnOnce(&Harness),
) -> Vec<(&'static str, &'static str)> {
    let mut row = Vec::new();
    let mut reasoning = Some(reasoning);
    for case in CASES {
        if !case.supported_by(family) {
            row.push((case.name(), "unsupported"));
            continue;
        }
        let provider = harness.provider(model);
        match case {
            Case::Chat => {
                let response = provider.chat(user("hello")).await.unwrap();
                check_response("chat", &response);
                let choice = &response.choices[0];
                assert_eq!(choice.message.content.as_deref(), Some("echo: hello"));
                assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
                assert!(response.usage.as_ref().unwrap().prompt_tokens > 0);
            }
            Case::Stream => {
                let (chunks, error) =
                    collect_started(&provider, streamed(user("hello there"))).await;
                assert!(error.is_none(), "{error:?}");
                check_chunks("stream", &chunks);
                assert_eq!(text_of(&chunks), "echo: hello there");
                assert_eq!(finish_of(&chunks), Some(FinishReason::Stop));
                assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
            }
            Case::Tools => {
                let response = provider
                    .chat(with_tools(user("Weather in Paris?")))
                    .await
                    .unwrap();
                check_response("tools", &response);
                let choice = &response.choices[0];
                assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
                let call = &choice.message.tool_calls.as_ref().unwrap()[0];
                assert_eq!(call.function.name, "get_weather");
                assert!(!call.id.is_empty());
                let arguments: Value = serde_json::from_str(&call.function.arguments).unwrap();
                assert!(arguments["city"].is_string(), "{arguments}");
            }
            Case::StreamedToolArguments => {
                let (chunks, error) =
                    collect_started(&provider, streamed(with_tools(user("Weather in Paris?"))))
                        .await;
                assert!(error.is_none(), "{error:?}");
                check_chunks("streamed tools", &chunks);
                let first = chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .find_map(|c| c.delta.tool_calls.as_ref())
                    .unwrap();
                assert!(first[0].id.is_some());
                assert_eq!(
                    first[0].function.as_ref().unwrap().name.as_deref(),
                    Some("get_weather")
                );
                let arguments: Value = serde_json::from_str(&arguments_of(&chunks)).unwrap();
                assert!(arguments["city"].is_string(), "{arguments}");
                assert_eq!(finish_of(&chunks), Some(FinishReason::ToolCalls));
            }
            Case::ToolResultRoundTrip => {
                let response = provider.chat(tool_result_request()).await.unwrap();
                check_response("tool result", &response);
                assert_eq!(
                    response.choices[0].message.content.as_deref(),
                    Some("echo: tool result: 22C sunny")
                );
            }
            Case::JsonMode => {
                let response = provider.chat(json_request()).await.unwrap();
                check_response("json", &response);
                let content = response.choices[0].message.content.as_deref().unwrap();
                let parsed: Value = serde_json::from_str(content).unwrap();
                assert!(parsed.is_object(), "{content}");
            }
            Case::Vision => {
                let response = provider.chat(vision_request()).await.unwrap();
                check_response("vision", &response);
                let content = response.choices[0].message.content.as_deref().unwrap();
                assert!(content.contains("[images: 1]"), "{content}");
            }
            Case::UsageInStream => {
                let (chunks, error) = collect_started(&provider, streamed(user("count me"))).await;
                assert!(error.is_none(), "{error:?}");
                let last = chunks.last().unwrap();
                assert!(last.is_usage_only(), "{last:?}");
                let usage = last.usage.as_ref().unwrap();
                assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
                assert_eq!(
                    usage.total_tokens,
                    usage.prompt_tokens + usage.completion_tokens
                );
                assert!(chunks[..chunks.len() - 1].iter().all(|c| c.usage.is_none()));
            }
            Case::Reasoning => {
                if let Some(reasoning) = reasoning.take() {
                    reasoning(harness).await;
                }
            }
            Case::Unauthorized => {
                let error = harness
                    .provider_with_key(model, "wrong-key")
                    .chat(user("hi"))
                    .await
                    .unwrap_err();
                assert_eq!(error.status(), 401, "{error:?}");
                assert!(!error.message.contains("wrong-key"));
            }
            Case::RateLimited => {
                let error = harness
                    .provider("error-429")
                    .chat(user("hi"))
                    .await
                    .unwrap_err();
                assert_eq!(error.status(), 429, "{error:?}");
                assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
                assert!(error.is_retryable());
                let error = harness
                    .provider("error-503")
                    .chat(user("hi"))
                    .await
                    .unwrap_err();
                assert!(error.status() >= 500 && error.is_retryable(), "{error:?}");
            }
            Case::MidStreamError => {
                let (chunks, error) = collect_started(
                    &harness.provider("cut-2"),
                    streamed(user("one two three four five")),
                )
                .await;
                assert!(error.is_some(), "a cut stream must end in an error");
                assert!(
                    !text_of(&chunks).is_empty(),
                    "chunks before the cut are delivered"
                );
                let (_, error) =
                    collect_started(&harness.provider("garbage"), streamed(user("x"))).await;
                assert!(error.is_some(), "garbage must end in an error");
            }
        }
        row.push((case.name(), "pass"));
    }
    row
}

/// Drops nulls, empty arrays and empty objects, recursively: "equal after dropping defaults".
pub fn without_defaults(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), without_defaults(v)))
                .filter(|(_, v)| !is_default(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_defaults).collect()),
        other => other.clone(),
    }
}

fn is_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Sends a reference scenario's request (streamed or not), failing the test on an error.
pub async fn send_scenario(provider: &AnyProvider, request: ChatCompletionRequest) {
    if request.is_stream() {
        let (_, error) = collect_started(provider, request).await;
        assert!(error.is_none());
    } else {
        provider.chat(request).await.unwrap();
    }
}

/// The requests of the four reference scenarios, as an OpenAI client would write them.
pub fn reference_scenarios() -> Vec<(&'static str, ChatCompletionRequest)> {
    let basic: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "ignored",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello"}],
        "max_tokens": 256, "stop": ["END"], "temperature": 0.2
    }))
    .unwrap();
    let stream = streamed(user("Hello"));
    let mut tools = with_tools(user("Weather in Paris?"));
    tools.tool_choice = Some(llm_types::ToolChoice::Mode("auto".into()));
    let mut tool_result = tool_result_request();
    if let Some(tools) = tool_result.tools.as_mut() {
        for tool in tools {
            if let Some(function) = tool.function.as_mut() {
                function.description = None;
            }
        }
    }
    vec![
        ("basic", basic),
        ("stream", stream),
        ("tools", tools),
        ("tool_result", tool_result),
    ]
}

/// One recorded exchange of a pydantic-ai cassette.
pub struct Recorded {
    pub file: String,
    pub index: usize,
    pub uri: String,
    pub body: String,
}

/// The `interactions[].response` bodies of the pydantic-ai cassettes in `dir`.
pub fn cassette_responses(dir: &str) -> Vec<Recorded> {
    let files = cassettes(dir);
    let mut out = Vec::new();
    for file in files {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (index, interaction) in yaml["interactions"]
            .as_sequence()
            .unwrap()
            .iter()
            .enumerate()
        {
            let response = &interaction["response"];
            let text = if let Some(parsed) = response.get("parsed_body") {
                serde_json::to_string(&serde_json::to_value(parsed).unwrap()).unwrap()
            } else {
                response["body"]["string"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            out.push(Recorded {
                file: name.clone(),
                index,
                uri: interaction["request"]["uri"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                body: text,
            });
        }
    }
    out
}
