//! Every real Gemini / Vertex AI answer recorded in the conformance kit (pydantic-ai's
//! cassettes, `test_google/*.yaml`) through our translators: each one parses, and what we emit
//! validates strictly against OpenAI's spec. Streams go through the real stream driver, fed
//! in small pieces so events straddle reads.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use llm_providers::gemini::{response, stream::GeminiChunks, wire::GenerateContentResponse};
use llm_providers::stream_driver::{SseFraming, drive_bytes};
use serde_json::Value;
use support::*;

/// One recorded 200 answer of `generateContent` or `streamGenerateContent`.
struct Recorded {
    name: String,
    vertex: bool,
    streamed: bool,
    body: String,
}

fn recorded() -> Vec<Recorded> {
    let paths = cassettes("test_google");
    let mut out = Vec::new();
    for path in paths {
        let cassette: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, interaction) in cassette["interactions"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            let response = &interaction["response"];
            let generate =
                uri.contains(":generateContent") || uri.contains(":streamGenerateContent");
            if !generate || response["status"]["code"].as_u64() != Some(200) {
                continue;
            }
            let body = match (&response["parsed_body"], &response["body"]["string"]) {
                (Value::Null, Value::String(text)) => text.clone(),
                (Value::Null, _) => panic!("{file}[{i}]: no body"),
                (parsed, _) => parsed.to_string(),
            };
            out.push(Recorded {
                name: format!("{file}[{i}]"),
                vertex: uri.contains("aiplatform"),
                streamed: uri.contains(":streamGenerateContent"),
                body,
            });
        }
    }
    out
}

#[tokio::test]
async fn every_recorded_answer_translates_to_valid_openai() {
    let all = recorded();
    let (mut answers, mut streams, mut chunks_checked, mut vertex) = (0, 0, 0, 0);
    for item in &all {
        vertex += usize::from(item.vertex);
        if item.streamed {
            // Small pieces: events straddle reads, as on a real connection.
            let pieces: Vec<reqwest::Result<Bytes>> = item
                .body
                .as_bytes()
                .chunks(61)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let body = futures_util::stream::iter(pieces).boxed();
            let stream = drive_bytes(
                body,
                SseFraming::new(),
                GeminiChunks::new("recorded"),
                Duration::from_secs(5),
            );
            let items: Vec<_> = stream.collect().await;
            let chunks: Vec<_> = items
                .into_iter()
                .map(|r| r.unwrap_or_else(|e| panic!("{}: {e:?}", item.name)))
                .collect();
            assert!(!chunks.is_empty(), "{}", item.name);
            assert!(
                chunks
                    .iter()
                    .any(|c| c.choices.iter().any(|c| c.finish_reason.is_some())),
                "{}: no finish",
                item.name
            );
            check_chunks(&item.name, &chunks);
            chunks_checked += chunks.len();
            streams += 1;
        } else {
            let parsed: GenerateContentResponse =
                serde_json::from_str(&item.body).unwrap_or_else(|e| panic!("{}: {e}", item.name));
            let translated = response::translate(parsed, "recorded");
            check_response(&item.name, &translated);
            assert!(translated.choices.iter().all(|c| c.finish_reason.is_some()));
            answers += 1;
        }
    }
    // The kit's google cassettes hold 111 complete answers and 13 streams (some of Vertex).
    assert_eq!((answers, streams), (111, 13), "recorded answers found");
    assert!(vertex > 0 && chunks_checked > streams);
    eprintln!(
        "recorded Google answers translated and validated: {answers} complete, {streams} streams ({chunks_checked} chunks), {vertex} from Vertex"
    );
}

#[tokio::test]
async fn recorded_usage_and_reasoning_survive() {
    let all = recorded();
    let mut reasoning = 0;
    let mut cached = 0;
    let mut tool_calls = 0;
    for item in all.iter().filter(|i| !i.streamed) {
        let parsed: GenerateContentResponse = serde_json::from_str(&item.body).unwrap();
        let meta = parsed.usage_metadata;
        let translated = response::translate(parsed, "recorded");
        if let (Some(meta), Some(usage)) = (meta, &translated.usage) {
            // Thoughts are completion tokens, as OpenAI counts reasoning.
            let thoughts = meta.thoughts_token_count.unwrap_or(0);
            assert_eq!(
                usage.completion_tokens,
                meta.candidates_token_count + thoughts,
                "{}",
                item.name
            );
            if thoughts > 0 {
                reasoning += 1;
                let details = usage.completion_tokens_details.as_ref().unwrap();
                assert_eq!(details.reasoning_tokens, Some(thoughts));
            }
            if meta.cached_content_token_count.is_some() {
                cached += 1;
            }
        }
        tool_calls += translated
            .choices
            .iter()
            .filter(|c| c.message.tool_calls.is_some())
            .count();
    }
    assert!(
        reasoning > 0 && tool_calls > 0,
        "reasoning {reasoning}, tool calls {tool_calls}, cached {cached}"
    );
}
