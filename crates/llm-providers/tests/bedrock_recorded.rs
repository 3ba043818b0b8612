//! Every real recorded Bedrock answer in the conformance kit (the pydantic-ai cassettes and the
//! recorded sample stream) goes through the Bedrock translators: each Converse body parses and
//! its OpenAI translation validates strictly against `CreateChatCompletionResponse`; each
//! ConverseStream body (AWS event-stream, `!!binary` in the YAML) decodes and every chunk
//! validates against `CreateChatCompletionStreamResponse`; recorded errors map to the status
//! an OpenAI client expects.

// Test helpers unwrap and panic to fail the test at the point of the problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use llm_providers::bedrock::error::http_error;
use llm_providers::bedrock::response::chat_response;
use llm_providers::bedrock::stream::{ConverseChunks, EventStreamFraming};
use llm_providers::bedrock::wire::ConverseResponse;
use llm_providers::stream_driver::drive_bytes;
use serde_yaml::Value as Yaml;
use support::*;

/// A YAML string as text.
fn text_of_yaml(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Tagged(tagged) => text_of_yaml(&tagged.value),
        _ => None,
    }
}

/// A `!!binary` YAML value (serde_yaml hands it over as its base64 text) decoded.
fn binary_of(value: &Yaml) -> Option<Vec<u8>> {
    let text: String = text_of_yaml(value)?.split_whitespace().collect();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
}

fn header(response: &Yaml, name: &str) -> Option<String> {
    let values = response
        .get("headers")?
        .as_mapping()?
        .iter()
        .find_map(|(k, v)| {
            k.as_str()
                .filter(|k| k.eq_ignore_ascii_case(name))
                .map(|_| v)
        })?;
    text_of_yaml(values.as_sequence()?.first()?)
}

#[derive(Debug, Default)]
struct Counts {
    responses: usize,
    streams: usize,
    stream_chunks: usize,
    errors: usize,
    skipped: usize,
}

async fn translate_stream(what: &str, bytes: Vec<u8>) -> usize {
    // Cut into odd pieces so frames straddle reads, as on a real connection.
    let pieces: Vec<reqwest::Result<Bytes>> = bytes
        .chunks(97)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let translator = ConverseChunks::new("chatcmpl-rec".into(), 1, "recorded".into(), false);
    let stream = drive_bytes(
        futures_util::stream::iter(pieces).boxed(),
        EventStreamFraming::default(),
        translator,
        Duration::from_secs(5),
    );
    let (chunks, error) = collect_stream(stream).await;
    assert!(error.is_none(), "{what}: {error:?}");
    assert!(!chunks.is_empty(), "{what}: no chunks");
    check_chunks(what, &chunks);
    let finished = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .any(|c| c.finish_reason.is_some());
    assert!(finished, "{what}: no finish reason");
    chunks.len()
}

#[tokio::test]
async fn every_recorded_bedrock_answer_translates_to_valid_openai() {
    let dir = kit().join("fixtures/pydantic-ai/test_bedrock");
    let mut counts = Counts::default();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 78);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let cassette: Yaml =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let interactions = cassette["interactions"].as_sequence().unwrap();
        for (i, interaction) in interactions.iter().enumerate() {
            let what = format!("{name}[{i}]");
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            let response = &interaction["response"];
            let status = response["status"]["code"].as_u64().unwrap() as u16;
            let is_converse = uri.ends_with("/converse");
            let is_stream = uri.ends_with("/converse-stream");
            if !(is_converse || is_stream) {
                // count-tokens and the media downloads pydantic-ai made are not Bedrock chat.
                counts.skipped += 1;
                continue;
            }
            let body: Option<Vec<u8>> = match response.get("parsed_body") {
                Some(parsed) => Some(
                    serde_json::to_vec(
                        &serde_yaml::from_value::<serde_json::Value>(parsed.clone()).unwrap(),
                    )
                    .unwrap(),
                ),
                // Recorded event streams are `!!binary`; other raw bodies are text.
                None if is_stream => response
                    .get("body")
                    .and_then(|b| b.get("string"))
                    .and_then(binary_of),
                None => response
                    .get("body")
                    .and_then(|b| b.get("string"))
                    .and_then(text_of_yaml)
                    .map(String::into_bytes),
            };
            let body = body.unwrap_or_else(|| panic!("{what}: no body"));
            if status != 200 {
                let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let message = parsed["message"].as_str().unwrap_or_default();
                let kind = header(response, "x-amzn-errortype").unwrap_or_default();
                let error = http_error(status, &kind, message);
                assert_eq!(error.status(), 400, "{what}: {error:?}");
                counts.errors += 1;
                continue;
            }
            if is_stream {
                counts.stream_chunks += translate_stream(&what, body).await;
                counts.streams += 1;
            } else {
                let answer: ConverseResponse =
                    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{what}: {e}"));
                let translated = chat_response(answer, "chatcmpl-rec".into(), 1, "recorded", false);
                check_response(&what, &translated);
                assert!(translated.usage.is_some(), "{what}: usage lost");
                counts.responses += 1;
            }
        }
    }
    let sample = std::fs::read(kit().join("samples/bedrock_real_recorded.eventstream")).unwrap();
    counts.stream_chunks += translate_stream("bedrock_real_recorded.eventstream", sample).await;
    counts.streams += 1;
    eprintln!("recorded Bedrock traffic translated and validated: {counts:?}");
    assert_eq!(
        (counts.responses, counts.streams, counts.errors),
        (84, 10, 2),
        "{counts:?}"
    );
}
