//! AWS Bedrock family against its native mock (which verifies every SigV4 signature
//! independently): the conformance matrix, what the adapter sends validated against the
//! botocore service model and compared with boto3's own requests, embeddings, scripted errors
//! and unsupported parameters.

// Test helpers unwrap and panic to fail the test at the point of the problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use llm_providers::{Family, Provider, Secret};
use llm_types::{ChatCompletionRequest, EmbeddingInput, EmbeddingVector, FinishReason};
use serde_json::{Value, json};
use support::bedrock::*;
use support::*;

/// Runs one case against the mock; `Ok(())` is a pass.
async fn run(harness: &BedrockHarness, case: Case) -> Result<(), String> {
    let chat = |model: &str, request: ChatCompletionRequest| {
        let provider = harness.provider(model);
        async move { provider.chat(request).await }
    };
    let stream = |model: &'static str, request| stream_of(harness, model, request);
    match case {
        Case::Chat => {
            let answer = chat(MODEL, user("hello there"))
                .await
                .map_err(|e| format!("{e:?}"))?;
            check_response("chat", &answer);
            let message = &answer.choices[0].message;
            ensure(
                message.content.as_deref() == Some("echo: hello there"),
                "content",
            )?;
            ensure(
                answer.choices[0].finish_reason == Some(FinishReason::Stop),
                "finish",
            )?;
            ensure(
                answer.id.starts_with("chatcmpl-") && answer.usage.is_some(),
                "id/usage",
            )
        }
        Case::Stream | Case::UsageInStream => {
            let (chunks, error) = stream(MODEL, user("hello there")).await?;
            ensure(error.is_none(), "stream error")?;
            check_chunks("stream", &chunks);
            ensure(text_of(&chunks) == "echo: hello there", "text")?;
            let last = chunks.last().ok_or("no chunks")?;
            let finish = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .find_map(|c| c.finish_reason);
            ensure(finish == Some(FinishReason::Stop), "finish")?;
            let usage = last
                .usage
                .as_ref()
                .filter(|_| last.choices.is_empty())
                .ok_or("no usage chunk")?;
            ensure(
                usage.prompt_tokens == 2 && usage.completion_tokens == 3,
                "usage counts",
            )
        }
        Case::Tools => {
            let answer = chat(MODEL, tools_request())
                .await
                .map_err(|e| format!("{e:?}"))?;
            check_response("tools", &answer);
            let calls = answer.choices[0]
                .message
                .tool_calls
                .as_ref()
                .ok_or("no tool calls")?;
            ensure(calls[0].function.name == "get_weather", "name")?;
            ensure(
                calls[0].function.arguments == r#"{"city":"mock"}"#,
                "arguments",
            )?;
            ensure(
                answer.choices[0].finish_reason == Some(FinishReason::ToolCalls),
                "finish",
            )
        }
        Case::StreamedToolArguments => {
            let (chunks, error) = stream(MODEL, tools_request()).await?;
            ensure(error.is_none(), "stream error")?;
            check_chunks("streamed tools", &chunks);
            let pieces = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .filter(|c| {
                    c.delta
                        .tool_calls
                        .as_ref()
                        .is_some_and(|t| t[0].id.is_none())
                })
                .count();
            ensure(pieces > 1, "arguments arrive in pieces")?;
            ensure(arguments_of(&chunks) == r#"{"city":"mock"}"#, "arguments")?;
            let finish = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .find_map(|c| c.finish_reason);
            ensure(finish == Some(FinishReason::ToolCalls), "finish")
        }
        Case::ToolResultRoundTrip => {
            let answer = chat(MODEL, tool_result_request())
                .await
                .map_err(|e| format!("{e:?}"))?;
            check_response("tool result", &answer);
            ensure(
                answer.choices[0].message.content.as_deref() == Some("echo: 22C sunny"),
                "content",
            )
        }
        Case::JsonMode => {
            let answer = chat(MODEL, json_request())
                .await
                .map_err(|e| format!("{e:?}"))?;
            check_response("json", &answer);
            let content = answer.choices[0]
                .message
                .content
                .as_deref()
                .ok_or("no content")?;
            let value: Value = serde_json::from_str(content).map_err(|e| e.to_string())?;
            ensure(
                value == json!({"name": "mock", "population": 1}),
                "json content",
            )?;
            ensure(
                answer.choices[0].message.tool_calls.is_none(),
                "no tool calls",
            )?;
            ensure(
                answer.choices[0].finish_reason == Some(FinishReason::Stop),
                "finish",
            )?;
            let (chunks, _) = stream(MODEL, json_request()).await?;
            check_chunks("json stream", &chunks);
            ensure(
                serde_json::from_str::<Value>(&text_of(&chunks)).ok() == Some(value),
                "streamed json",
            )
        }
        Case::Vision => {
            let answer = chat(MODEL, vision_request())
                .await
                .map_err(|e| format!("{e:?}"))?;
            check_response("vision", &answer);
            ensure(
                answer.choices[0].message.content.as_deref()
                    == Some("echo: What is this? [1 image(s)]"),
                "content",
            )
        }
        Case::Reasoning => {
            let mut request = user("why?");
            request.reasoning_effort = Some("low".into());
            let answer = chat(MODEL, request.clone())
                .await
                .map_err(|e| format!("{e:?}"))?;
            check_response("reasoning", &answer);
            // The reasoning block with its signature, whole in the answer, as the last
            // thinking_blocks piece in the stream.
            let signed = |b: &llm_types::ThinkingBlock| {
                b.kind == "thinking" && b.signature.as_deref() == Some("mock-signature")
            };
            let message = &answer.choices[0].message;
            ensure(
                message.reasoning_content.as_deref() == Some("thinking about: why?")
                    && message
                        .thinking_blocks
                        .as_ref()
                        .is_some_and(|blocks| blocks.len() == 1 && signed(&blocks[0])),
                "reasoning",
            )?;
            let (chunks, _) = stream(MODEL, request).await?;
            check_chunks("reasoning stream", &chunks);
            let streamed_signature = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .flat_map(|c| c.delta.thinking_blocks.iter().flatten())
                .any(signed);
            ensure(
                reasoning_of(&chunks) == "thinking about: why?" && streamed_signature,
                "streamed reasoning",
            )
        }
        Case::Unauthorized => {
            let mut target = harness.target(MODEL);
            target.aws.secret_access_key = Some(Secret::new("wrong-secret"));
            let provider =
                llm_providers::bedrock::Bedrock::new(&target, harness.http.clone()).unwrap();
            let error = provider.chat(user("hi")).await.err().ok_or("accepted")?;
            ensure(
                error.status() == 401 && error.message.contains("InvalidSignatureException"),
                "401",
            )?;
            let mut target = harness.target(MODEL);
            target.aws.access_key_id = Some("AKIDUNKNOWN".into());
            let provider =
                llm_providers::bedrock::Bedrock::new(&target, harness.http.clone()).unwrap();
            let error = provider.chat(user("hi")).await.err().ok_or("accepted")?;
            ensure(
                error.status() == 401 && error.message.contains("UnrecognizedClientException"),
                "401 unknown key",
            )
        }
        Case::RateLimited => {
            let error = chat("error-429", user("hi"))
                .await
                .err()
                .ok_or("accepted")?;
            ensure(error.status() == 429 && error.is_retryable(), "429")?;
            ensure(
                error.retry_after == Some(Duration::from_secs(7)),
                "retry-after",
            )?;
            let provider = harness.provider("error-429");
            let error = provider
                .chat_stream(streamed(user("hi")))
                .await
                .err()
                .ok_or("stream accepted")?;
            ensure(error.status() == 429, "stream 429")
        }
        Case::MidStreamError => {
            let (chunks, error) = stream("throttlingException-after-1", user("a b c")).await?;
            let error = error.ok_or("no error")?;
            ensure(
                error.status() == 429 && error.message.contains("throttlingException"),
                "in-stream 429",
            )?;
            ensure(text_of(&chunks) == "echo:", "content before the exception")?;
            let (_, error) = stream("modelStreamErrorException-after-0", user("a")).await?;
            ensure(error.is_some_and(|e| e.status() == 502), "in-stream 5xx")?;
            let (_, error) = stream("validationException-after-0", user("a")).await?;
            ensure(error.is_some_and(|e| e.status() == 400), "in-stream 400")?;
            let (chunks, error) = stream("cut-1", user("a b c")).await?;
            ensure(
                error.is_some_and(|e| e.status() == 502) && text_of(&chunks) == "echo:",
                "cut",
            )
        }
    }
}

async fn stream_of(
    harness: &BedrockHarness,
    model: &str,
    request: ChatCompletionRequest,
) -> Result<
    (
        Vec<llm_types::ChatCompletionChunk>,
        Option<llm_types::Error>,
    ),
    String,
> {
    let provider = harness.provider(model);
    let stream = provider
        .chat_stream(streamed(request))
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(collect_stream(stream).await)
}

fn ensure(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{what} wrong"))
    }
}

/// The conformance matrix: every case passes, and agrees with the capability table.
#[tokio::test]
async fn conformance_matrix() {
    let harness = BedrockHarness::start().await;
    let mut row = Vec::new();
    for case in CASES {
        let outcome = run(&harness, case).await;
        assert!(
            case.supported_by(Family::Bedrock),
            "{case:?} passes but the capability table says unsupported"
        );
        if let Err(why) = &outcome {
            panic!("{case:?}: {why}");
        }
        row.push(format!("{case:?}: pass"));
    }
    assert_eq!(row.len(), 12);
}

/// What the adapter sends (captured by the mock) validates against the botocore model
/// (`ConverseRequest` / `ConverseStreamRequest`), never carries `modelId`, and matches what
/// boto3 sends for the same scenario.
#[tokio::test]
async fn sent_requests_match_the_service_model_and_boto3() {
    let harness = BedrockHarness::start().await;
    let provider = harness.provider(MODEL);
    let scenarios: Vec<(&str, ChatCompletionRequest)> = vec![
        ("basic", basic_request()),
        ("stream", streamed(user("Hello"))),
        ("tools", tools_request()),
        ("tool_result", tool_result_request()),
        ("vision", vision_request()),
        ("json", json_request()),
    ];
    for (name, request) in scenarios {
        harness.mock.clear_requests();
        if request.is_stream() {
            let (_, error) = collect_stream(provider.chat_stream(request).await.unwrap()).await;
            assert!(error.is_none(), "{name}: {error:?}");
        } else {
            provider.chat(request).await.unwrap();
        }
        let sent = harness.mock.requests().pop().unwrap();
        let shape = if sent.path.ends_with("/converse-stream") {
            "ConverseStreamRequest"
        } else {
            "ConverseRequest"
        };
        bedrock_spec().check(&format!("/$defs/{shape}"), name, &sent.body);
        assert!(sent.body.get("modelId").is_none(), "{name}");
        assert_eq!(
            sent.header("content-type"),
            Some("application/json"),
            "{name}"
        );
        assert!(
            sent.header("authorization")
                .unwrap()
                .contains("SignedHeaders=content-type;host;x-amz-date,"),
            "{name}"
        );
        let reference = kit().join(format!(
            "fixtures/sdk-reference-requests/bedrock/{name}.json"
        ));
        if let Ok(text) = std::fs::read_to_string(reference) {
            let reference: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                sent.body, reference["body"],
                "{name} differs from boto3's request"
            );
            assert_eq!(sent.path, reference["path"].as_str().unwrap(), "{name}");
        }
    }
}

/// Embeddings through InvokeModel: Titan (one call per input) and Cohere (one call).
#[tokio::test]
async fn embeds_with_titan_and_cohere() {
    let harness = BedrockHarness::start().await;
    let cases = [
        (
            "amazon.titan-embed-text-v2:0",
            Some(4),
            2,
            vec![
                json!({"inputText": "a b", "dimensions": 4}),
                json!({"inputText": "c", "dimensions": 4}),
            ],
        ),
        (
            "amazon.titan-embed-text-v1",
            None,
            2,
            vec![json!({"inputText": "a b"}), json!({"inputText": "c"})],
        ),
        (
            "cohere.embed-english-v3",
            None,
            1,
            vec![json!({"texts": ["a b", "c"], "input_type": "search_document"})],
        ),
    ];
    for (model, dimensions, calls, bodies) in cases {
        harness.mock.clear_requests();
        let request = embeddings_request(
            format!("bedrock/{model}"),
            EmbeddingInput::Texts(vec!["a b".into(), "c".into()]),
            dimensions,
        );
        let answer = harness.provider(model).embeddings(request).await.unwrap();
        assert_eq!(answer.data.len(), 2, "{model}");
        assert_eq!(answer.usage.prompt_tokens, 3, "{model}");
        if let (Some(d), EmbeddingVector::Float(v)) = (dimensions, &answer.data[0].embedding) {
            assert_eq!(v.len(), d as usize);
        }
        let sent = harness.mock.requests();
        assert_eq!(sent.len(), calls, "{model}");
        let sent_bodies: Vec<Value> = sent.iter().map(|r| r.body.clone()).collect();
        assert_eq!(sent_bodies, bodies, "{model}");
        assert!(sent[0].path.ends_with("/invoke"), "{model}");
    }
    let chat_provider = harness.provider(MODEL);
    let chat_model = chat_provider.embeddings(embeddings_request(
        format!("bedrock/{MODEL}"),
        EmbeddingInput::Text("x".into()),
        None,
    ));
    assert_eq!(chat_model.await.unwrap_err().status(), 400);
}

/// HTTP errors of every kind the mock scripts come back with the status OpenAI clients expect.
#[tokio::test]
async fn maps_scripted_http_errors() {
    let harness = BedrockHarness::start().await;
    let cases = [
        (400, 400),
        (403, 403),
        (404, 404),
        (408, 504),
        (429, 429),
        (500, 502),
        (503, 503),
    ];
    for (scripted, expected) in cases {
        let error = harness
            .provider(&format!("error-{scripted}"))
            .chat(user("hi"))
            .await
            .unwrap_err();
        assert_eq!(error.status(), expected, "error-{scripted}: {error:?}");
    }
    let garbage = harness
        .provider("garbage")
        .chat(user("hi"))
        .await
        .unwrap_err();
    assert_eq!(garbage.status(), 502);
    let (_, error) = collect_stream(
        harness
            .provider("garbage")
            .chat_stream(streamed(user("hi")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(error.unwrap().status(), 502);
}

/// Parameters Converse cannot express: 400 naming them, or dropped with `drop_params`.
#[tokio::test]
async fn refuses_or_drops_unsupported_parameters() {
    let harness = BedrockHarness::start().await;
    let mut request = user("hi");
    request.frequency_penalty = Some(0.5);
    let error = harness
        .provider(MODEL)
        .chat(request.clone())
        .await
        .unwrap_err();
    assert_eq!(
        (error.status(), error.param.as_deref()),
        (400, Some("frequency_penalty"))
    );
    assert!(error.message.contains("bedrock"));
    request.drop_params = Some(true);
    assert!(harness.provider(MODEL).chat(request).await.is_ok());
}
