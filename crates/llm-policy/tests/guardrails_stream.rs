//! Guardrails on streams: matches split over chunk boundaries are masked whole (whatever the
//! chunk sizes), text without matches flows chunk by chunk held back by at most the window,
//! tokens are restored across chunks, a block stops the stream before the text goes out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_policy::guardrails::{
    CallInfo, GuardrailSpec, Guardrails, Masks, NoWebhookClient, STREAM_WINDOW, Selection,
};
use llm_types::{ChatCompletionChunk, ChatCompletionRequest, ChatMessage, Role};
use serde_json::json;
use std::sync::Arc;

fn engine() -> Guardrails {
    let specs = GuardrailSpec::from_litellm(&json!([
        {"guardrail_name": "pii", "litellm_params": {"guardrail": "pii", "mode": ["pre_call", "post_call"],
            "default_on": true, "unmask": true}},
        {"guardrail_name": "no-ssn", "litellm_params": {"guardrail": "pii", "mode": "post_call",
            "action": "block", "entities": ["ssn"]}}
    ]))
    .unwrap();
    Guardrails::new(specs, Arc::new(NoWebhookClient)).unwrap()
}

fn select(g: &Guardrails, names: &[&str]) -> Selection {
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    g.select(&names, &[], &[]).unwrap()
}

fn chunk(index: u32, content: Option<&str>, finish: bool) -> ChatCompletionChunk {
    serde_json::from_value(json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": index, "delta": {"content": content},
                     "finish_reason": if finish { Some("stop") } else { None }}]
    }))
    .unwrap()
}

fn text_of(chunks: &[ChatCompletionChunk], index: u32) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter(|c| c.index == index)
        .filter_map(|c| c.delta.content.as_deref())
        .collect()
}

/// Streams `text` in pieces of `size` characters; answers the chunks sent.
fn stream(
    g: &Guardrails,
    sel: &Selection,
    masks: &Masks,
    text: &str,
    size: usize,
) -> Vec<ChatCompletionChunk> {
    let mut guard = g.stream_guard(sel, masks);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    for piece in chars.chunks(size) {
        let piece: String = piece.iter().collect();
        out.extend(guard.push(chunk(0, Some(&piece), false)).unwrap());
    }
    out.extend(guard.push(chunk(0, None, true)).unwrap());
    out.extend(guard.finish().unwrap());
    out
}

#[test]
fn guardrail_stream_masks_across_any_chunking() {
    let g = engine();
    let sel = select(&g, &[]);
    let key = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".repeat(8)
    );
    let cases: Vec<(String, String)> = vec![
        (
            "my card is 4111 1111 1111 1111, thanks".into(),
            "my card is [CREDIT_CARD_1], thanks".into(),
        ),
        (
            "write to jane.doe@example.com or jane.doe@example.com.au".into(),
            "write to [EMAIL_1] or [EMAIL_2]".into(),
        ),
        (
            format!("{} then +44 20 7946 0958", "filler text ".repeat(20)),
            format!("{} then [PHONE_1]", "filler text ".repeat(20)),
        ),
        (
            format!("key:\n{key}\ndone"),
            "key:\n[SECRET_1]\ndone".into(),
        ),
        (
            "unterminated -----BEGIN RSA PRIVATE KEY-----\nMIIEow".into(),
            "unterminated [SECRET_1]".into(),
        ),
    ];
    for (text, want) in &cases {
        for size in [1, 2, 3, 5, 8, 13, 64, 1000] {
            let out = stream(&g, &sel, &Masks::new(), text, size);
            assert_eq!(&text_of(&out, 0), want, "chunk size {size}");
        }
    }
}

#[test]
fn guardrail_stream_card_split_over_three_chunks() {
    let g = engine();
    let sel = select(&g, &[]);
    let mut guard = g.stream_guard(&sel, &Masks::new());
    let mut out = Vec::new();
    for piece in ["pay with 4111 11", "11 1111 11", "11 today"] {
        out.extend(guard.push(chunk(0, Some(piece), false)).unwrap());
    }
    out.extend(guard.push(chunk(0, None, true)).unwrap());
    out.extend(guard.finish().unwrap());
    assert_eq!(text_of(&out, 0), "pay with [CREDIT_CARD_1] today");
    assert!(
        out.iter()
            .all(|c| !serde_json::to_string(c).unwrap().contains("1111"))
    );
    assert!(out.last().unwrap().choices[0].finish_reason.is_some());
}

#[test]
fn guardrail_stream_clean_text_flows_within_the_window() {
    let g = engine();
    let sel = select(&g, &[]);
    let mut guard = g.stream_guard(&sel, &Masks::new());
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(10);
    let mut pushed = 0;
    let mut sent = String::new();
    let mut chunks_out = 0;
    for piece in text.as_bytes().chunks(7) {
        let piece = std::str::from_utf8(piece).unwrap();
        pushed += piece.len();
        let out = guard.push(chunk(0, Some(piece), false)).unwrap();
        chunks_out += out.len();
        sent.push_str(&text_of(&out, 0));
        assert!(
            pushed - sent.len() <= STREAM_WINDOW,
            "held {}",
            pushed - sent.len()
        );
    }
    let out = guard.push(chunk(0, None, true)).unwrap();
    sent.push_str(&text_of(&out, 0));
    assert_eq!(sent, text);
    assert!(
        chunks_out >= text.len() / 7 - STREAM_WINDOW / 7 - 1,
        "{chunks_out}"
    );
}

#[tokio::test]
async fn guardrail_stream_unmasks_tokens_split_over_chunks() {
    let g = engine();
    let sel = select(&g, &[]);
    let mut request = ChatCompletionRequest::new(
        "m",
        vec![ChatMessage::text(Role::User, "I'm jane@example.com")],
    );
    let masks = g
        .pre_call(&sel, &CallInfo::default(), &mut request)
        .await
        .unwrap();
    assert_eq!(request.messages[0].text_content(), "I'm [EMAIL_1]");
    for size in [1, 3, 4, 100] {
        let out = stream(
            &g,
            &sel,
            &masks,
            "Hello [EMAIL_1], and hello bob@corp.io.",
            size,
        );
        assert_eq!(
            text_of(&out, 0),
            "Hello jane@example.com, and hello [EMAIL_2].",
            "size {size}"
        );
    }
}

#[test]
fn guardrail_stream_block_stops_before_the_text_goes_out() {
    let g = engine();
    let sel = select(&g, &["no-ssn"]);
    let mut guard = g.stream_guard(&sel, &Masks::new());
    let mut sent = String::new();
    let mut blocked = None;
    let pieces = [
        "Sure. ",
        "The number is 123-",
        "45-6789 and ",
        "more text follows here.",
    ];
    for piece in pieces {
        match guard.push(chunk(0, Some(piece), false)) {
            Ok(out) => sent.push_str(&text_of(&out, 0)),
            Err(b) => {
                blocked = Some(b);
                break;
            }
        }
    }
    let blocked = match blocked {
        Some(b) => b,
        None => guard.finish().unwrap_err(),
    };
    assert_eq!(blocked.guardrail, "no-ssn");
    assert!(!sent.contains("6789"), "{sent}");
    assert!(
        guard.push(chunk(0, Some("x"), false)).is_err(),
        "stays blocked"
    );
}

#[test]
fn guardrail_stream_keeps_roles_usage_and_choices_apart() {
    let g = engine();
    let sel = select(&g, &[]);
    let mut guard = g.stream_guard(&sel, &Masks::new());
    let role: ChatCompletionChunk = serde_json::from_value(json!({
        "id": "c", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]
    }))
    .unwrap();
    let first = guard.push(role.clone()).unwrap();
    assert_eq!(first, vec![role], "the role chunk goes out as it came");
    let mut out = Vec::new();
    for (index, piece) in [
        (0, "a@b.io "),
        (1, "call 415-555-"),
        (0, "ok"),
        (1, "2671 now"),
    ] {
        out.extend(guard.push(chunk(index, Some(piece), false)).unwrap());
    }
    out.extend(guard.push(chunk(0, None, true)).unwrap());
    out.extend(guard.push(chunk(1, None, true)).unwrap());
    let usage: ChatCompletionChunk = serde_json::from_value(json!({
        "id": "c", "created": 1, "model": "m", "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    }))
    .unwrap();
    let tail = guard.push(usage.clone()).unwrap();
    assert_eq!(tail, vec![usage]);
    assert!(guard.finish().unwrap().is_empty());
    assert_eq!(text_of(&out, 0), "[EMAIL_1] ok");
    assert_eq!(text_of(&out, 1), "call [PHONE_1] now");
}
