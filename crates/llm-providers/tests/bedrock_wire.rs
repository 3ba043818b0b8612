//! AWS Bedrock wire level: the SigV4 golden vector, the AWS event-stream codec vectors, the
//! recorded sample stream, the request translation table, and the mock's own frames and bodies
//! checked against the botocore service model.

// Test helpers unwrap and panic to fail the test at the point of the problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use llm_providers::Secret;
use llm_providers::bedrock::credentials::AwsCredentials;
use llm_providers::bedrock::request::converse_body;
use llm_providers::bedrock::sign::sign_post;
use llm_providers::bedrock::stream::{ConverseChunks, EventStreamFraming};
use llm_providers::params::ParamPolicy;
use llm_providers::stream_driver::{Framing, drive_bytes};
use llm_types::ChatCompletionRequest;
use serde_json::{Value, json};
use support::bedrock::*;
use support::*;

fn golden_request() -> (String, String) {
    let text = std::fs::read_to_string(kit().join("samples/bedrock_signed_request.http")).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    let authorization = head
        .lines()
        .find_map(|l| l.strip_prefix("Authorization: "))
        .unwrap()
        .to_owned();
    (authorization, body.trim_end_matches('\n').to_owned())
}

/// The conformance kit's golden vector: same credentials, time, URL and body → the same
/// `Authorization` header, byte for byte.
#[test]
fn signs_the_golden_vector() {
    let (expected, body) = golden_request();
    assert!(expected.contains("Signature=b364b179") && expected.ends_with("4a2c"));
    let credentials = AwsCredentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: Secret::new(SECRET_KEY),
        session_token: None,
    };
    let url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200); // 2024-01-01T00:00:00Z
    let headers = sign_post(&credentials, "us-east-1", url, body.as_bytes(), time).unwrap();
    assert_eq!(headers["authorization"].to_str().unwrap(), expected);
    assert_eq!(headers["x-amz-date"], "20240101T000000Z");
    assert!(headers.get("x-amz-content-sha256").is_none());
    // The golden body is what the adapter sends for the `basic` scenario.
    let sent = converse_body(MODEL, &basic_request(), &ParamPolicy::default()).unwrap();
    assert_eq!(
        serde_json::to_value(&sent.body).unwrap(),
        serde_json::from_str::<Value>(&body).unwrap()
    );
    // A session token is sent and signed, like boto3 does.
    let with_token = AwsCredentials {
        session_token: Some(Secret::new("FQoGZXIvYXdzEXAMPLE")),
        ..credentials
    };
    let headers = sign_post(&with_token, "us-east-1", url, body.as_bytes(), time).unwrap();
    assert_eq!(headers["x-amz-security-token"], "FQoGZXIvYXdzEXAMPLE");
    assert!(
        headers["authorization"]
            .to_str()
            .unwrap()
            .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,")
    );
}

/// Signatures botocore 1.44.8 (`SigV4Auth(creds, "bedrock", region)`) computes for the same
/// requests: session token, another region, a non-default port and an inference-profile id.
#[test]
fn signs_like_botocore() {
    let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
    let cases = [
        (
            "http://127.0.0.1:8123/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse-stream",
            "eu-west-3",
            Some("TOKEN/with+chars="),
            1_732_500_000, // 2024-11-25T02:00:00Z
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20241125/eu-west-3/bedrock/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
         Signature=ab9857f82793a8d5e92d27a47b5b16c0a57d13cc64087e05714de5ac70add0ff",
        ),
        (
            "https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123%3Ainference-profile%2Fx/converse",
            "us-west-2",
            None,
            1_732_500_000,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20241125/us-west-2/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=e102a1a3c2536bd2b9c708f2f2fca452d0222e3bfb777a25cce9c10d698fc87d",
        ),
    ];
    for (url, region, token, secs, expected) in cases {
        let credentials = AwsCredentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: Secret::new(SECRET_KEY),
            session_token: token.map(Secret::new),
        };
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let headers = sign_post(&credentials, region, url, body, time).unwrap();
        assert_eq!(
            headers["authorization"].to_str().unwrap(),
            expected,
            "{url}"
        );
    }
}

/// The AWS codec vectors: the 3 valid messages decode (whole and byte by byte), the 8 invalid
/// ones are refused.
#[test]
fn decodes_the_aws_event_stream_vectors() {
    let dir = kit().join("fixtures/aws-test-vectors/aws-smithy-eventstream-0.60.21-test_data");
    let mut seen = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let mut framing = EventStreamFraming::default();
        let mut result = Ok(None);
        for byte in &bytes {
            framing.push(std::slice::from_ref(byte));
            result = framing.next_frame();
            if !matches!(result, Ok(None)) {
                break;
            }
        }
        if name.starts_with("valid") {
            seen.0 += 1;
            let message = result
                .unwrap_or_else(|e| panic!("{name}: {e:?}"))
                .expect(&name);
            assert!(framing.finish().unwrap().is_none(), "{name}");
            if name == "valid_with_all_headers_and_payload" {
                assert!(!message.headers().is_empty() && !message.payload().is_empty());
            }
        } else {
            seen.1 += 1;
            let refused = result.is_err() || framing.finish().is_err();
            assert!(refused, "{name} was accepted");
        }
    }
    assert_eq!(seen, (3, 8));
}

/// The recorded real sample stream translates through the driver.
#[tokio::test]
async fn translates_the_recorded_sample_stream() {
    let bytes = std::fs::read(kit().join("samples/bedrock_real_recorded.eventstream")).unwrap();
    let pieces: Vec<reqwest::Result<Bytes>> = bytes
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let translator = ConverseChunks::new("chatcmpl-x".into(), 1, MODEL.into(), false);
    let stream = drive_bytes(
        futures_util::stream::iter(pieces).boxed(),
        EventStreamFraming::default(),
        translator,
        Duration::from_secs(5),
    );
    let (chunks, error) = collect_stream(stream).await;
    assert!(error.is_none(), "{error:?}");
    check_chunks("sample", &chunks);
    assert!(text_of(&chunks).starts_with("The capital of France is Paris."));
    assert!(chunks.last().unwrap().usage.is_some());
}

/// Request translation, one direction at a time: OpenAI request in, Converse body out.
#[test]
fn translates_requests() {
    let mut named = tools_request();
    named.tool_choice = Some(llm_types::ToolChoice::Named(llm_types::NamedToolChoice {
        kind: "function".into(),
        function: llm_types::FunctionName {
            name: "get_weather".into(),
        },
    }));
    let mut none = tools_request();
    none.tool_choice = Some(llm_types::ToolChoice::Mode("none".into()));
    let mut required = tools_request();
    required.tool_choice = Some(llm_types::ToolChoice::Mode("required".into()));
    let mut effort_nova = user("x");
    effort_nova.reasoning_effort = Some("high".into());
    let mut cached = user("x");
    cached.messages[0]
        .extra
        .insert("cache_control".into(), json!({"type": "ephemeral"}));
    let mut merged = user("a");
    merged
        .messages
        .push(llm_types::ChatMessage::text(llm_types::Role::User, "b"));
    let cases: Vec<(&str, ChatCompletionRequest, &str, Value)> = vec![
        (
            "named",
            named,
            "/toolConfig/toolChoice",
            json!({"tool": {"name": "get_weather"}}),
        ),
        (
            "required",
            required,
            "/toolConfig/toolChoice",
            json!({"any": {}}),
        ),
        ("none", none, "/toolConfig", Value::Null),
        (
            "nova effort",
            effort_nova,
            "/additionalModelRequestFields",
            json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}}),
        ),
        (
            "cache",
            cached,
            "/messages/0/content/1",
            json!({"cachePoint": {"type": "default"}}),
        ),
        (
            "merged",
            merged,
            "/messages",
            json!([{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]),
        ),
        (
            "part cache",
            from_json(json!([{"role": "user", "content": [
                {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral"}},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PIXEL}")},
                 "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "q"}]}])),
            "/messages/0/content",
            json!([{"text": "doc"}, {"cachePoint": {"type": "default"}},
                   {"image": {"format": "png", "source": {"bytes": PIXEL}}}, {"cachePoint": {"type": "default"}},
                   {"text": "q"}]),
        ),
        (
            "part and message cache",
            from_json(
                json!([{"role": "user", "cache_control": {"type": "ephemeral"},
                "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}]}]),
            ),
            "/messages/0/content",
            json!([{"text": "a"}, {"cachePoint": {"type": "default"}}]),
        ),
        (
            "system part cache",
            from_json(json!([
                {"role": "system", "content": [
                    {"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "today"}]},
                {"role": "user", "content": "q"}])),
            "/system",
            json!([{"text": "rules"}, {"cachePoint": {"type": "default"}}, {"text": "today"}]),
        ),
        (
            "system part and message cache",
            from_json(json!([
                {"role": "system", "cache_control": {"type": "ephemeral"},
                 "content": [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": "q"}])),
            "/system",
            json!([{"text": "rules"}, {"cachePoint": {"type": "default"}}]),
        ),
        (
            "tool result cache",
            from_json(json!([
                {"role": "user", "content": "q"},
                {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": [
                    {"type": "text", "text": "big", "cache_control": {"type": "ephemeral"}}]}])),
            "/messages/2/content",
            json!([{"toolResult": {"toolUseId": "t1", "content": [{"text": "big"}], "status": "success"}},
                   {"cachePoint": {"type": "default"}}]),
        ),
        (
            // An answer's thinking_blocks handed back: signed reasoning before the tool call.
            "thinking blocks",
            from_json(json!([
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "reasoning_content": "hm",
                 "thinking_blocks": [{"type": "thinking", "thinking": "hm", "signature": "sig"},
                                     {"type": "redacted_thinking", "data": "ZW5j"}],
                 "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": "sunny"}])),
            "/messages/1/content",
            json!([{"reasoningContent": {"reasoningText": {"text": "hm", "signature": "sig"}}},
                   {"reasoningContent": {"redactedContent": "ZW5j"}},
                   {"toolUse": {"toolUseId": "t1", "name": "w", "input": {}}}]),
        ),
        (
            "json",
            json_request(),
            "/toolConfig/toolChoice",
            json!({"tool": {"name": "json_tool_call"}}),
        ),
        (
            "vision",
            vision_request(),
            "/messages/0/content/1",
            json!({"image": {"format": "png", "source": {"bytes": PIXEL}}}),
        ),
    ];
    for (name, request, pointer, expected) in cases {
        let model = if name == "nova effort" {
            "us.amazon.nova-premier-v1:0"
        } else {
            MODEL
        };
        let body = serde_json::to_value(
            converse_body(model, &request, &ParamPolicy::default())
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(
            body.pointer(pointer).cloned().unwrap_or(Value::Null),
            expected,
            "{name}: {body}"
        );
        bedrock_spec().check("/$defs/ConverseRequest", name, &body);
    }
    let mut claude = user("x");
    claude.reasoning_effort = Some("medium".into());
    let body = serde_json::to_value(
        converse_body(MODEL, &claude, &ParamPolicy::default())
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    let mut remote = vision_request();
    if let Some(llm_types::MessageContent::Parts(parts)) = &mut remote.messages[0].content {
        parts[1] = llm_types::ContentPart::ImageUrl {
            image_url: llm_types::ImageUrl {
                url: "https://x/y.png".into(),
                detail: None,
            },
            cache_control: None,
        };
    }
    assert_eq!(
        converse_body(MODEL, &remote, &ParamPolicy::default())
            .unwrap_err()
            .status(),
        400
    );
}

/// A request to the test model with these messages.
fn from_json(messages: Value) -> ChatCompletionRequest {
    serde_json::from_value(json!({"model": format!("bedrock/{MODEL}"), "messages": messages}))
        .unwrap()
}

/// Removes the members real Bedrock sends beyond the botocore model (the mock sends them too,
/// as the conformance README lists), so the rest can be checked strictly.
fn without_quirks(kind: &str, mut payload: Value) -> Value {
    let object = payload.as_object_mut().unwrap();
    assert!(object.remove("p").is_some(), "{kind} lacks the `p` padding");
    if let Some(usage) = object.get_mut("usage").and_then(Value::as_object_mut) {
        for extra in [
            "serverToolUsage",
            "cacheReadInputTokenCount",
            "cacheWriteInputTokenCount",
        ] {
            usage.remove(extra);
        }
    }
    if let Some(tool) = payload
        .pointer_mut("/start/toolUse")
        .and_then(Value::as_object_mut)
    {
        assert_eq!(tool.remove("type"), Some(json!("tool_use")));
    }
    payload
}

/// What the mock answers, read raw and signed by hand: the Converse body validates against
/// `ConverseResponse`, every ConverseStream frame decodes (CRCs checked) and, quirks aside,
/// validates against `ConverseStreamOutput`.
#[tokio::test]
async fn the_mock_speaks_the_service_model() {
    let harness = BedrockHarness::start().await;
    let credentials = AwsCredentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: Secret::new(SECRET_KEY),
        session_token: Some(Secret::new("session-token-1")),
    };
    let base = harness.mock.base_url().trim_end_matches("/v1").to_owned();
    let requests = [
        ("converse", user("hello there")),
        ("converse-stream", user("hello there")),
        ("converse-stream", tools_request()),
        ("converse", tools_request()),
    ];
    for (action, mut request) in requests {
        request.reasoning_effort = Some("low".into());
        let body = serde_json::to_vec(
            &converse_body(MODEL, &request, &ParamPolicy::default())
                .unwrap()
                .body,
        )
        .unwrap();
        let url = format!("{base}/model/anthropic.claude-3-haiku-20240307-v1%3A0/{action}");
        let headers = sign_post(&credentials, "us-east-1", &url, &body, SystemTime::now()).unwrap();
        let response = harness
            .http
            .post(&url)
            .headers(headers)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{action}");
        let bytes = response.bytes().await.unwrap();
        if action == "converse" {
            let mut answer: Value = serde_json::from_slice(&bytes).unwrap();
            for block in answer["output"]["message"]["content"]
                .as_array_mut()
                .unwrap()
            {
                if let Some(tool) = block.get_mut("toolUse").and_then(Value::as_object_mut) {
                    assert_eq!(tool.remove("type"), Some(json!("tool_use")));
                }
            }
            bedrock_spec().check("/$defs/ConverseResponse", action, &answer);
            continue;
        }
        let mut framing = EventStreamFraming::default();
        framing.push(&bytes);
        let mut kinds = Vec::new();
        while let Some(message) = framing.next_frame().unwrap() {
            let kind = llm_providers::bedrock::stream::header(&message, ":event-type")
                .unwrap()
                .to_owned();
            assert_eq!(
                llm_providers::bedrock::stream::header(&message, ":message-type"),
                Some("event")
            );
            let payload: Value = serde_json::from_slice(message.payload()).unwrap();
            let event = json!({ kind.clone(): without_quirks(&kind, payload) });
            bedrock_spec().check("/$defs/ConverseStreamOutput", &kind, &event);
            kinds.push(kind);
        }
        assert!(framing.finish().unwrap().is_none());
        assert_eq!(kinds.first().map(String::as_str), Some("messageStart"));
        assert_eq!(&kinds[kinds.len() - 2..], ["messageStop", "metadata"]);
    }
}
