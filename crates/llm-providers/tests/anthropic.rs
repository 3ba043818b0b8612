//! The Anthropic family against its native mock: the conformance matrix, what we send (the
//! SDK's request schema and the SDK's own reference requests), headers, and error mapping.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use llm_providers::{Family, Provider};
use llm_types::{
    ChatCompletionRequest, ChatMessage, EmbeddingInput, ErrorKind, FinishReason, ResponseFormat,
    Role, Stop, ThinkingBlock,
};
use serde_json::{Value, json};
use support::anthropic::*;
use support::*;

/// The signature the mock puts on its thinking blocks.
const MOCK_SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";

fn tool_result_request() -> ChatCompletionRequest {
    tool_conversation("toolu_1", r#"{"city":"Paris"}"#)
}

fn vision_request() -> ChatCompletionRequest {
    image_request(
        "what is this",
        &[
            "data:image/png;base64,iVBORw0KGgo=",
            "https://example.com/cat.jpg",
        ],
    )
}

fn json_request() -> ChatCompletionRequest {
    with_json_schema(
        user("give me a city"),
        "city",
        json!({
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        }),
        None,
    )
}

impl Case {
    /// Runs the case; an `Err` says what went wrong.
    async fn run(self, harness: &Harness) -> Result<(), String> {
        let provider = harness.provider("claude-sonnet-4-5");
        let ensure = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
        match self {
            Case::Chat => {
                let response = provider
                    .chat(user("hello there"))
                    .await
                    .map_err(|e| e.to_string())?;
                check_response("chat", &response);
                let message = &response.choices[0].message;
                ensure(
                    message.content.as_deref() == Some("echo: hello there")
                        && response.choices[0].finish_reason == Some(FinishReason::Stop),
                    format!("{response:?}"),
                )
            }
            Case::Stream => {
                let (chunks, error) = collect(&provider, streamed(user("hello there"))).await;
                check_chunks("stream", &chunks);
                ensure(
                    error.is_none() && text_of(&chunks) == "echo: hello there",
                    format!("{chunks:?} {error:?}"),
                )
            }
            Case::Tools => {
                let response = provider
                    .chat(with_tools(user("weather?")))
                    .await
                    .map_err(|e| e.to_string())?;
                check_response("tools", &response);
                let calls = response.choices[0]
                    .message
                    .tool_calls
                    .clone()
                    .unwrap_or_default();
                let arguments: Value = calls
                    .first()
                    .map(|c| serde_json::from_str(&c.function.arguments).unwrap())
                    .unwrap_or_default();
                ensure(
                    calls.len() == 1
                        && calls[0].function.name == "get_weather"
                        && arguments["city"].is_string()
                        && response.choices[0].finish_reason == Some(FinishReason::ToolCalls),
                    format!("{response:?}"),
                )
            }
            Case::StreamedToolArguments => {
                let (chunks, error) =
                    collect(&provider, streamed(with_tools(user("weather?")))).await;
                check_chunks("streamed tools", &chunks);
                let pieces = chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .filter(|c| c.delta.tool_calls.is_some())
                    .count();
                let arguments: Value =
                    serde_json::from_str(&arguments_of_call(&chunks, 0)).unwrap_or_default();
                let finish = chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .find_map(|c| c.finish_reason);
                ensure(
                    error.is_none()
                        && pieces > 2
                        && arguments["city"].is_string()
                        && finish == Some(FinishReason::ToolCalls),
                    format!("{chunks:?} {error:?}"),
                )
            }
            Case::ToolResultRoundTrip => {
                let response = provider
                    .chat(tool_result_request())
                    .await
                    .map_err(|e| e.to_string())?;
                check_response("tool result", &response);
                ensure(
                    response.choices[0].message.content.as_deref()
                        == Some("echo: tool result: 22C sunny"),
                    format!("{response:?}"),
                )
            }
            Case::JsonMode => {
                let response = provider
                    .chat(json_request())
                    .await
                    .map_err(|e| e.to_string())?;
                check_response("json", &response);
                let content: Value = serde_json::from_str(
                    response.choices[0].message.content.as_deref().unwrap_or(""),
                )
                .map_err(|e| format!("{e}: {response:?}"))?;
                let (chunks, error) = collect(&provider, streamed(json_request())).await;
                check_chunks("json stream", &chunks);
                let streamed: Value = serde_json::from_str(&text_of(&chunks)).unwrap_or_default();
                ensure(
                    content["name"].is_string()
                        && response.choices[0].message.tool_calls.is_none()
                        && response.choices[0].finish_reason == Some(FinishReason::Stop)
                        && error.is_none()
                        && streamed == content,
                    format!("{response:?} {chunks:?}"),
                )
            }
            Case::Vision => {
                let response = provider
                    .chat(vision_request())
                    .await
                    .map_err(|e| e.to_string())?;
                check_response("vision", &response);
                ensure(
                    response.choices[0].message.content.as_deref()
                        == Some("echo: what is this [images: 2]"),
                    format!("{response:?}"),
                )
            }
            Case::UsageInStream => {
                let (chunks, error) = collect(&provider, streamed(user("one two three"))).await;
                check_chunks("usage", &chunks);
                let last = chunks.last().cloned();
                let usage = last.as_ref().and_then(|c| c.usage.clone());
                ensure(
                    error.is_none()
                        && last.is_some_and(|c| c.choices.is_empty())
                        && usage.is_some_and(|u| {
                            u.prompt_tokens == 3 && u.completion_tokens == 4 && u.total_tokens == 7
                        }),
                    format!("{chunks:?}"),
                )
            }
            Case::Reasoning => {
                let mut request = user("deep question");
                request.reasoning_effort = Some("medium".into());
                let response = provider
                    .chat(request.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                check_response("reasoning", &response);
                let sent = harness.last_request().body;
                let (chunks, error) = collect(&provider, streamed(request)).await;
                check_chunks("reasoning stream", &chunks);
                // The signed thinking block, whole in the answer, as its last piece in the stream.
                let signed = |b: &ThinkingBlock| b.signature.as_deref() == Some(MOCK_SIGNATURE);
                let message = &response.choices[0].message;
                let streamed_signature = chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .flat_map(|c| c.delta.thinking_blocks.iter().flatten())
                    .any(signed);
                ensure(
                    sent["thinking"] == json!({"type": "enabled", "budget_tokens": 2048})
                        && message.reasoning_content.as_deref()
                            == Some("thinking about: deep question")
                        && message.thinking_blocks.as_ref().is_some_and(|blocks| {
                            blocks.len() == 1
                                && signed(&blocks[0])
                                && blocks[0].thinking == message.reasoning_content
                        })
                        && streamed_signature
                        && error.is_none()
                        && reasoning_of(&chunks) == "thinking about: deep question"
                        && text_of(&chunks) == "echo: deep question",
                    format!("{response:?} {sent}"),
                )
            }
            Case::Unauthorized => {
                let provider = harness.provider_with_key("claude-sonnet-4-5", "sk-wrong");
                let error = provider.chat(user("hi")).await.err().ok_or("no error")?;
                let (_, streamed) = collect(&provider, streamed(user("hi"))).await;
                ensure(
                    error.status() == 401
                        && error.kind == ErrorKind::Authentication
                        && streamed.is_some_and(|e| e.status() == 401),
                    format!("{error:?}"),
                )
            }
            Case::RateLimited => {
                let error = harness
                    .provider("error-429")
                    .chat(user("hi"))
                    .await
                    .err()
                    .ok_or("no error")?;
                ensure(
                    error.status() == 429
                        && error.is_retryable()
                        && error.retry_after == Some(Duration::from_secs(7)),
                    format!("{error:?}"),
                )
            }
            Case::MidStreamError => {
                let provider = harness.provider("overloaded-after-2");
                let (chunks, error) =
                    collect(&provider, streamed(user("one two three four"))).await;
                check_chunks("mid-stream", &chunks);
                let error = error.ok_or("no error")?;
                let (_, cut) = collect(&harness.provider("cut-1"), streamed(user("a b c"))).await;
                ensure(
                    text_of(&chunks) == "echo: one "
                        && error.kind == ErrorKind::UpstreamUnavailable
                        && error.is_retryable()
                        && cut.is_some(),
                    format!("{chunks:?} {error:?}"),
                )
            }
        }
    }
}

#[tokio::test]
async fn conformance_matrix() {
    let harness = Harness::start("anthropic", KEY).await;
    let mut row = Vec::new();
    for case in CASES {
        let outcome = case.run(&harness).await;
        let supported = Case::supported_by(case, Family::Anthropic);
        // A declared capability must pass; an undeclared one must not (it would be unsupported).
        assert_eq!(outcome.is_ok(), supported, "{case:?}: {outcome:?}");
        row.push((
            case,
            if outcome.is_ok() {
                "pass"
            } else {
                "unsupported"
            },
        ));
    }
    eprintln!("anthropic matrix: {row:?}");
}

/// `value` without the `stream` key (the schema check removes it, as the kit's checker does)
/// and without `temperature` / `top_p` / `top_k`: API parameters (2023-06-01) the SDK 2.13
/// types no longer list, though the SDK's own reference request sends `temperature`.
fn for_schema(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(map) = body.as_object_mut() {
        for key in ["temperature", "top_p", "top_k"] {
            map.remove(key);
        }
    }
    body
}

#[tokio::test]
async fn requests_match_the_schema_and_the_sdk_reference() {
    let harness = Harness::start("anthropic", KEY).await;
    let provider = harness.provider("claude-sonnet-4-5");
    let mut basic = ChatCompletionRequest::new(
        "ignored",
        vec![
            ChatMessage::text(Role::System, "You are terse."),
            ChatMessage::text(Role::User, "Hello"),
        ],
    );
    basic.stop = Some(Stop::One("END".into()));
    basic.temperature = Some(0.2);
    basic.max_tokens = Some(256);
    let mut tools = with_tools(user("Weather in Paris?"));
    tools.tool_choice = Some(llm_types::ToolChoice::Mode("auto".into()));
    tools.max_tokens = Some(256);
    let mut tool_result = tool_result_request();
    tool_result.max_tokens = Some(256);
    let mut stream = streamed(user("Hello"));
    stream.max_tokens = Some(64);
    let scenarios = [
        ("basic", basic),
        ("tools", tools),
        ("tool_result", tool_result),
        ("stream", stream),
    ];
    let spec = anthropic_request_spec();
    for (scenario, request) in scenarios {
        if request.stream == Some(true) {
            let (_, error) = collect(&provider, request).await;
            assert!(error.is_none(), "{error:?}");
        } else {
            provider.chat(request).await.unwrap();
        }
        let sent = harness.last_request();
        let reference = reference_request("anthropic", scenario);
        assert_eq!(sent.path, "/v1/messages");
        assert_eq!(sent.body, reference["body"], "{scenario}");
        let errors = spec.errors("", &for_schema(&sent.body));
        assert!(errors.is_empty(), "{scenario}: {errors:#?}");
        assert_eq!(sent.header("x-api-key"), Some(KEY));
        assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(sent.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn every_translated_request_validates_against_the_sdk_schema() {
    let harness = Harness::start("anthropic", KEY).await;
    let provider = harness.provider("claude-sonnet-4-5");
    let mut cached_system = ChatMessage::text(Role::System, "long shared context");
    cached_system
        .extra
        .insert("cache_control".into(), json!({"type": "ephemeral"}));
    let mut cached_user = ChatMessage::text(Role::User, "question");
    cached_user.extra.insert(
        "cache_control".into(),
        json!({"type": "ephemeral", "ttl": "1h"}),
    );
    let mut parallel_off = with_tools(user("weather?"));
    parallel_off.parallel_tool_calls = Some(false);
    let mut required = with_tools(user("weather?"));
    required.tool_choice = Some(llm_types::ToolChoice::Mode("required".into()));
    let mut json_object = user("json please");
    json_object.response_format = Some(ResponseFormat::JsonObject);
    let mut reasoning = user("think");
    reasoning.reasoning_effort = Some("high".into());
    reasoning.user = Some("user-42".into());
    let mut thinking_turn = tool_result_request();
    thinking_turn.messages[1].extra.insert(
        "thinking_blocks".into(),
        json!([{"type": "thinking", "thinking": "hm", "signature": "sig"}]),
    );
    thinking_turn.reasoning_effort = Some("low".into());
    let requests = [
        thinking_turn,
        ChatCompletionRequest::new("x", vec![cached_system, cached_user]),
        parallel_off,
        required,
        json_object,
        json_request(),
        reasoning,
        vision_request(),
        tool_result_request(),
    ];
    let spec = anthropic_request_spec();
    // The schema is closed: an unknown field or a wrong tool choice fails it.
    let bogus = json!({"model": "m", "max_tokens": 1, "messages": [], "tool_choice": {"type": "required"}, "n": 2});
    assert!(spec.errors("", &bogus).len() >= 2);
    for request in requests {
        provider.chat(request.clone()).await.unwrap();
        let sent = harness.last_request().body;
        let errors = spec.errors("", &for_schema(&sent));
        assert!(errors.is_empty(), "{errors:#?}\n{sent:#}");
    }
}

#[tokio::test]
async fn cache_tokens_count_as_prompt_tokens_and_reads_as_cached() {
    let harness = Harness::start("anthropic", KEY).await;
    let mut system = ChatMessage::text(Role::System, "a b c d");
    system
        .extra
        .insert("cache_control".into(), json!({"type": "ephemeral"}));
    let request =
        ChatCompletionRequest::new("x", vec![system, ChatMessage::text(Role::User, "e f")]);
    let response = harness
        .provider("claude-sonnet-4-5")
        .chat(request.clone())
        .await
        .unwrap();
    let sent = harness.last_request().body;
    assert_eq!(
        sent["system"],
        json!([{"type": "text", "text": "a b c d", "cache_control": {"type": "ephemeral"}}])
    );
    let usage = response.usage.unwrap();
    // The mock reads all but one of the 6 prompt words from cache (and writes none); reads
    // and writes are also kept apart at the top level, as LiteLLM reports them.
    let counts = |u: &llm_types::Usage| {
        (
            u.prompt_tokens,
            u.cached_tokens(),
            u.cache_read_input_tokens,
            u.cache_creation_input_tokens,
        )
    };
    assert_eq!(counts(&usage), (6, 5, Some(5), Some(0)));
    let (chunks, _) = collect(&harness.provider("claude-sonnet-4-5"), streamed(request)).await;
    let usage = chunks.last().unwrap().usage.clone().unwrap();
    assert_eq!(counts(&usage), (6, 5, Some(5), Some(0)));
    // A breakpoint on a content part reaches Anthropic on that part's block.
    let part_cached: ChatCompletionRequest = serde_json::from_value(json!({"model": "x",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "a b c d", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "e f"}]}]}))
    .unwrap();
    let response = harness
        .provider("claude-sonnet-4-5")
        .chat(part_cached)
        .await
        .unwrap();
    assert_eq!(
        harness.last_request().body["messages"][0]["content"],
        json!([{"type": "text", "text": "a b c d", "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": "e f"}])
    );
    assert_eq!(response.usage.unwrap().cached_tokens(), 5);
}

#[tokio::test]
async fn provider_errors_map_to_what_openai_clients_expect() {
    let harness = Harness::start("anthropic", KEY).await;
    let cases = [
        (
            "prompt-too-long",
            400,
            ErrorKind::ContextLengthExceeded,
            false,
        ),
        ("error-400", 400, ErrorKind::InvalidRequest, false),
        ("error-403", 403, ErrorKind::PermissionDenied, false),
        ("error-404", 404, ErrorKind::NotFound, false),
        ("error-413", 413, ErrorKind::PayloadTooLarge, false),
        ("error-500", 502, ErrorKind::UpstreamServerError, true),
        ("error-529", 503, ErrorKind::UpstreamUnavailable, true),
    ];
    for (model, status, kind, retryable) in cases {
        let error = harness.provider(model).chat(user("hi")).await.unwrap_err();
        assert_eq!(
            (error.status(), error.kind, error.is_retryable()),
            (status, kind, retryable),
            "{model}: {error:?}"
        );
        if kind == ErrorKind::ContextLengthExceeded {
            assert_eq!(
                error.body().error.code.as_deref(),
                Some("context_length_exceeded")
            );
        }
    }
    let error = harness
        .provider("garbage")
        .chat(user("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::UpstreamBadResponse);
}

#[tokio::test]
async fn unsupported_parameters_are_refused_or_dropped_and_embeddings_refused() {
    let harness = Harness::start("anthropic", KEY).await;
    let provider = harness.provider("claude-sonnet-4-5");
    let mut request = user("hi");
    request.frequency_penalty = Some(0.5);
    let error = provider.chat(request.clone()).await.unwrap_err();
    assert_eq!(
        (error.status(), error.param.as_deref()),
        (400, Some("frequency_penalty"))
    );
    assert!(error.message.contains("anthropic"));
    request.drop_params = Some(true);
    provider.chat(request).await.unwrap();
    assert!(
        harness
            .last_request()
            .body
            .get("frequency_penalty")
            .is_none()
    );

    let error = provider
        .embeddings(embeddings_request(
            "x",
            EmbeddingInput::Text("hi".into()),
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400);
    assert!(
        error
            .message
            .contains("embeddings are not supported by anthropic")
    );
}

#[tokio::test]
async fn anthropic_beta_and_extra_headers_pass_through() {
    let harness = Harness::start("anthropic", KEY).await;
    let mut target = harness.target("claude-sonnet-4-5", KEY);
    target.extra_headers = vec![("anthropic-beta".into(), "prompt-caching-2024-07-31".into())];
    let http = llm_providers::http_client::build_http_client().unwrap();
    let provider = llm_providers::AnyProvider::build(&target, &http).unwrap();
    assert_eq!(provider.family(), Family::Anthropic);
    provider.chat(user("hi")).await.unwrap();
    let sent = harness.last_request();
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert_eq!(sent.header("authorization"), None);
}
