//! Claude on Vertex AI (`vertex_ai/claude-...`) against the mock: `rawPredict` /
//! `streamRawPredict` with the Anthropic body (`anthropic_version: "vertex-2023-10-16"`, no
//! `model`), the OAuth2 token, the Anthropic SDK's closed request schema, and errors.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_providers::Provider;
use llm_types::{ChatCompletionRequest, ErrorKind, FinishReason};
use serde_json::{Value, json};
use support::anthropic::anthropic_request_spec;
use support::google::*;
use support::*;

const MODEL: &str = "claude-sonnet-4-5";

fn request(body: Value) -> ChatCompletionRequest {
    let mut body = body;
    body["model"] = json!("ignored");
    serde_json::from_value(body).unwrap()
}

/// The last call that reached Vertex's Anthropic publisher (the mock logs the Messages call it
/// became right after it).
fn last_raw_predict(h: &GoogleHarness) -> llm_mock_upstream::RecordedRequest {
    h.server
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.contains("/publishers/anthropic/"))
        .unwrap()
}

#[tokio::test]
async fn claude_on_vertex() {
    let h = GoogleHarness::start().await;
    let p = h.provider(Google::Vertex, MODEL);
    let weather = json!({"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}});
    let base =
        format!("/v1/projects/proj/locations/us-central1/publishers/anthropic/models/{MODEL}");
    // (request, streamed, expected text or tool name, finish reason)
    let cases = [
        (
            json!({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}], "max_tokens": 50}),
            false,
            "echo: hello",
            FinishReason::Stop,
        ),
        (
            json!({"messages": [{"role": "user", "content": "one two"}]}),
            true,
            "echo: one two",
            FinishReason::Stop,
        ),
        (
            json!({"messages": [{"role": "user", "content": "weather?"}], "tools": [weather], "tool_choice": "required"}),
            false,
            "get_weather",
            FinishReason::ToolCalls,
        ),
        (
            json!({"messages": [{"role": "user", "content": "weather?"}], "tools": [weather]}),
            true,
            "get_weather",
            FinishReason::ToolCalls,
        ),
    ];
    for (body, streamed, expected, finish) in cases {
        let what = format!("{body} streamed={streamed}");
        if streamed {
            let (chunks, error) = collect(&p, request(body)).await;
            assert!(error.is_none(), "{what}: {error:?}");
            check_chunks(&what, &chunks);
            let text = text_of(&chunks);
            let tool = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .flat_map(|c| c.delta.tool_calls.iter().flatten())
                .find_map(|t| t.function.as_ref().and_then(|f| f.name.clone()));
            assert_eq!(tool.unwrap_or(text), expected, "{what}");
            let finishes: Vec<_> = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .filter_map(|c| c.finish_reason)
                .collect();
            assert_eq!(finishes, [finish], "{what}");
            assert!(chunks.last().unwrap().is_usage_only(), "{what}");
        } else {
            let r = p.chat(request(body)).await.unwrap();
            check_response(&what, &r);
            let message = &r.choices[0].message;
            let got = match &message.tool_calls {
                Some(calls) => calls[0].function.name.clone(),
                None => message.content.clone().unwrap(),
            };
            assert_eq!(
                (got.as_str(), r.choices[0].finish_reason),
                (expected, Some(finish)),
                "{what}"
            );
        }
        let sent = last_raw_predict(&h);
        let method = if streamed {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        assert_eq!(sent.path, format!("{base}:{method}"), "{what}");
        assert!(
            sent.header("authorization")
                .unwrap()
                .starts_with("Bearer ya29.mock-")
        );
        assert_eq!(sent.body["anthropic_version"], "vertex-2023-10-16");
        assert!(sent.body.get("model").is_none(), "{what}");
        // Apart from the envelope it is the Messages body, valid for the SDK's closed schema.
        let mut messages_body = sent.body.clone();
        messages_body
            .as_object_mut()
            .unwrap()
            .remove("anthropic_version");
        messages_body["model"] = json!(MODEL);
        let errors = anthropic_request_spec().errors("", &messages_body);
        assert!(errors.is_empty(), "{what}: {errors:#?}");
    }
    // Same translation as the Anthropic family: cache counts kept apart, signed thinking.
    let thinking =
        json!({"messages": [{"role": "user", "content": "why"}], "reasoning_effort": "low"});
    let r = p.chat(request(thinking)).await.unwrap();
    check_response("thinking", &r);
    let usage = r.usage.unwrap();
    assert_eq!(
        (
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens
        ),
        (Some(0), Some(0))
    );
    let blocks = r.choices[0].message.thinking_blocks.clone().unwrap();
    assert_eq!(blocks[0].thinking, r.choices[0].message.reasoning_content);
    assert!(
        blocks[0]
            .signature
            .as_deref()
            .is_some_and(|s| !s.is_empty())
    );
    let tokens = h
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .count();
    assert_eq!(tokens, 1);
}

#[tokio::test]
async fn claude_on_vertex_errors() {
    let h = GoogleHarness::start().await;
    let hello = || request(json!({"messages": [{"role": "user", "content": "hi"}]}));
    // The mock reads scripted faults after the `claude-` prefix.
    let cases = [
        ("error-429", 429, ErrorKind::RateLimited),
        ("error-529", 503, ErrorKind::UpstreamUnavailable),
        ("prompt-too-long", 400, ErrorKind::ContextLengthExceeded),
    ];
    for (model, status, kind) in cases {
        let p = h.provider(Google::Vertex, &format!("claude-{model}"));
        let error = p.chat(hello()).await.unwrap_err();
        assert_eq!(
            (error.status(), error.kind),
            (status, kind),
            "{model}: {error:?}"
        );
    }
    let embeddings = h
        .provider(Google::Vertex, MODEL)
        .embeddings(serde_json::from_value(json!({"model": "x", "input": "a"})).unwrap())
        .await
        .unwrap_err();
    assert_eq!(embeddings.status(), 400);
}
