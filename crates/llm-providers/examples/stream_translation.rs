//! Micro-benchmark of stream translation: what one chunk costs to decode, translate and
//! re-type, for the OpenAI passthrough and the Anthropic Messages family, in-process (no
//! network, no server), so the figure is the translation alone.
//!
//! ```sh
//! cargo run --release -p llm-providers --example stream_translation
//! ```
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use bytes::Bytes;
use futures_util::StreamExt;
use llm_providers::anthropic::AnthropicChunks;
use llm_providers::openai_compat::stream::OpenAiChunks;
use llm_providers::sse::SseEvent;
use llm_providers::stream_driver::{SseFraming, Translator, drive_bytes};
use std::time::{Duration, Instant};

const DELTAS: usize = 1_000;
const STREAMS: usize = 200;

fn openai_stream() -> String {
    let mut body = String::new();
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}],\"usage\":null}}\n\n"
        )
    };
    body.push_str(&chunk(r#"{"role":"assistant","content":""}"#, "null"));
    for i in 0..DELTAS {
        body.push_str(&chunk(&format!(r#"{{"content":"word{i} "}}"#), "null"));
    }
    body.push_str(&chunk("{}", r#""stop""#));
    body.push_str("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1000,\"total_tokens\":1010}}\n\ndata: [DONE]\n\n");
    body
}

fn anthropic_stream() -> String {
    let mut body = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n\
         event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..DELTAS {
        body.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"word{i} \"}}}}\n\n"
        ));
    }
    body.push_str(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
         event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":1000}}\n\n\
         event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    body
}

/// Runs `STREAMS` streams through the driver; returns the time per emitted chunk.
async fn measure<T>(body: &str, translator: impl Fn() -> T) -> (Duration, usize)
where
    T: Translator<Frame = SseEvent>,
{
    // The network delivers a stream in pieces; 4 KiB reads are typical.
    let pieces: Vec<Bytes> = body
        .as_bytes()
        .chunks(4096)
        .map(Bytes::copy_from_slice)
        .collect();
    let mut chunks = 0;
    let started = Instant::now();
    for _ in 0..STREAMS {
        let bytes = futures_util::stream::iter(pieces.clone().into_iter().map(Ok)).boxed();
        let mut stream = drive_bytes(
            bytes,
            SseFraming::new(),
            translator(),
            Duration::from_secs(5),
        );
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                return (Duration::ZERO, 0);
            }
            chunks += 1;
        }
    }
    (started.elapsed() / chunks as u32, chunks / STREAMS)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (openai, openai_chunks) = measure(&openai_stream(), OpenAiChunks::default).await;
    let (anthropic, anthropic_chunks) =
        measure(&anthropic_stream(), || AnthropicChunks::new(false, 1)).await;
    println!("stream translation, {STREAMS} streams of {DELTAS} text deltas, per emitted chunk:");
    println!(
        "  openai passthrough   {:>8.0} ns/chunk  ({openai_chunks} chunks/stream)",
        openai.as_nanos()
    );
    println!(
        "  anthropic messages   {:>8.0} ns/chunk  ({anthropic_chunks} chunks/stream)",
        anthropic.as_nanos()
    );
}
