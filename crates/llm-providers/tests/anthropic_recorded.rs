//! Every real Anthropic response in the conformance kit through our translators: the
//! pydantic-ai cassettes (JSON messages, SSE streams, error bodies) and the anthropic SDK's
//! recorded streams. Each one must parse, and what we emit must validate strictly against
//! OpenAI's `CreateChatCompletionResponse` / `CreateChatCompletionStreamResponse`.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream;
use llm_providers::anthropic::{
    AnthropicChunks, error_from_response, from_anthropic_response, wire::AnthropicResponse,
};
use llm_providers::stream_driver::{SseFraming, drive_bytes};
use llm_types::{ChatCompletionChunk, Error};
use serde_json::Value;
use support::*;

/// Feeds a recorded SSE body through the translator in small pieces, as a network would.
async fn translate_stream(body: &str) -> (Vec<ChatCompletionChunk>, Option<Error>) {
    let pieces: Vec<reqwest::Result<Bytes>> = body
        .as_bytes()
        .chunks(61)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    let mut chunks_stream = drive_bytes(
        stream::iter(pieces).boxed(),
        SseFraming::new(),
        AnthropicChunks::new(false, 1_700_000_000),
        Duration::from_secs(5),
    );
    let mut chunks = Vec::new();
    while let Some(item) = chunks_stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

/// A recorded stream that ends normally yields chunks, a finish reason and a usage chunk.
fn check_complete_stream(what: &str, chunks: &[ChatCompletionChunk]) {
    check_chunks(what, chunks);
    assert!(
        chunks
            .iter()
            .flat_map(|c| &c.choices)
            .any(|c| c.finish_reason.is_some()),
        "{what}: no finish reason"
    );
    assert!(
        chunks.last().is_some_and(|c| c.is_usage_only()),
        "{what}: no usage chunk at the end"
    );
}

#[tokio::test]
async fn sdk_recorded_streams_translate_to_valid_chunks() {
    let dir = kit().join("fixtures/anthropic-sdk-python-streaming");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "sse" || (e == "txt" && !p.ends_with("SOURCE.txt")))
        })
        .collect();
    files.sort();
    let mut translated = 0;
    for path in &files {
        let what = path.file_name().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read_to_string(path).unwrap();
        let (chunks, error) = translate_stream(&body).await;
        assert!(error.is_none(), "{what}: {error:?}");
        check_complete_stream(&what, &chunks);
        translated += 1;
    }
    eprintln!("anthropic SDK recorded streams translated and validated: {translated}");
    assert_eq!(translated, 10);
}

#[tokio::test]
async fn sdk_recorded_tool_use_stream_keeps_every_argument_piece() {
    let body = std::fs::read_to_string(
        kit().join("fixtures/anthropic-sdk-python-streaming/tool_use_response.txt"),
    )
    .unwrap();
    let (chunks, error) = translate_stream(&body).await;
    assert!(error.is_none());
    let arguments: Value = serde_json::from_str(&arguments_of_call(&chunks, 0)).unwrap();
    assert!(arguments.is_object(), "{arguments}");
    let usage = chunks.last().unwrap().usage.clone().unwrap();
    assert_eq!(usage.prompt_tokens, 377);
}

/// `(file, interaction, status, content type, body)` of every recorded `/v1/messages` answer.
fn recorded_message_answers() -> Vec<(String, usize, u16, String, Value)> {
    let files = cassettes("test_anthropic");
    let mut answers = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(cassette) = serde_yaml::from_str::<Value>(&text) else {
            // Cassettes holding binary bodies (`!!binary`) are none of the Messages API's.
            assert!(text.contains("!!binary"), "{name} does not parse");
            continue;
        };
        for (i, interaction) in cassette["interactions"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            let path = uri.split('?').next().unwrap_or_default();
            if !path.ends_with("/v1/messages") {
                continue;
            }
            let response = &interaction["response"];
            let status = response["status"]["code"].as_u64().unwrap() as u16;
            let content_type = response["headers"]
                .as_object()
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                })
                .and_then(|(_, v)| v[0].as_str())
                .unwrap_or_default()
                .to_owned();
            let body = if response.get("parsed_body").is_some() {
                response["parsed_body"].clone()
            } else {
                response["body"]["string"].clone()
            };
            answers.push((name.clone(), i, status, content_type, body));
        }
    }
    answers
}

#[tokio::test]
async fn pydantic_ai_cassettes_translate_to_valid_openai_bodies() {
    let (mut messages, mut streams, mut errors) = (0, 0, 0);
    for (file, i, status, content_type, body) in recorded_message_answers() {
        let what = format!("{file}#{i}");
        if status != 200 {
            let bytes = serde_json::to_vec(&body).unwrap();
            let error = error_from_response(status, &bytes, None);
            assert_eq!(error.status(), status, "{what}: {error:?}");
            assert!(!error.message.is_empty());
            errors += 1;
        } else if content_type.starts_with("text/event-stream") {
            let (chunks, error) = translate_stream(body.as_str().unwrap()).await;
            assert!(error.is_none(), "{what}: {error:?}");
            check_complete_stream(&what, &chunks);
            streams += 1;
        } else {
            let parsed: AnthropicResponse = serde_json::from_value(body.clone())
                .unwrap_or_else(|e| panic!("{what}: {e}\n{body:#}"));
            let response = from_anthropic_response(parsed, false, 1_700_000_000);
            check_response(&what, &response);
            let usage = response.usage.as_ref().unwrap();
            let expected_prompt = [
                "input_tokens",
                "cache_read_input_tokens",
                "cache_creation_input_tokens",
            ]
            .iter()
            .map(|k| body["usage"][k].as_u64().unwrap_or(0))
            .sum::<u64>();
            assert_eq!(usage.prompt_tokens, expected_prompt, "{what}");
            messages += 1;
        }
    }
    eprintln!(
        "pydantic-ai anthropic cassettes translated and validated: {messages} messages, \
         {streams} streams, {errors} error bodies"
    );
    assert_eq!((messages, streams, errors), (102, 16, 1));
}
