//! The Gemini (Google AI Studio) and Vertex AI families against the Google mock: the
//! conformance matrix, what we send (Vertex's published schema, closed, and google-genai's
//! own reference requests), authentication (API key; service-account JWT grant with a cached
//! token), errors, faults and embeddings.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_providers::{Family, Provider, ProviderTarget, Secret};
use llm_types::{
    ChatCompletionRequest, EmbeddingVector, EmbeddingsRequest, ErrorKind, FinishReason,
};
use serde_json::{Value, json};
use support::google::*;
use support::*;

fn request(body: Value) -> ChatCompletionRequest {
    let mut body = body;
    body["model"] = json!("ignored");
    serde_json::from_value(body).unwrap()
}

fn weather() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Get weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

fn hello() -> ChatCompletionRequest {
    request(json!({"messages": [{"role": "user", "content": "Hello there"}]}))
}

fn tools() -> ChatCompletionRequest {
    request(
        json!({"messages": [{"role": "user", "content": "Weather in Paris?"}],
                   "tools": [weather()], "tool_choice": "auto"}),
    )
}

fn tool_result() -> ChatCompletionRequest {
    request(json!({"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22C sunny"}],
        "tools": [weather()]}))
}

/// One conformance case; `true` when it passed (a failure panics).
async fn run_case(h: &GoogleHarness, family: Google, case: &str) -> bool {
    let what = format!("{family:?} {case}");
    let p = h.provider(family, "gemini-2.5-flash");
    match case {
        "chat" => {
            let r = p.chat(hello()).await.unwrap();
            check_response(&what, &r);
            assert_eq!(
                r.choices[0].message.content.as_deref(),
                Some("echo: Hello there")
            );
            assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
            let usage = r.usage.unwrap();
            assert_eq!((usage.prompt_tokens, usage.completion_tokens), (2, 3));
        }
        "stream" => {
            let (chunks, error) = collect(&p, hello()).await;
            assert!(error.is_none(), "{what}: {error:?}");
            check_chunks(&what, &chunks);
            assert_eq!(text_of(&chunks), "echo: Hello there");
            let finish: Vec<_> = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .filter_map(|c| c.finish_reason)
                .collect();
            assert_eq!(finish, [FinishReason::Stop]);
        }
        "tools" => {
            let r = p.chat(tools()).await.unwrap();
            check_response(&what, &r);
            let calls = r.choices[0].message.tool_calls.clone().unwrap();
            assert_eq!(calls[0].function.name, "get_weather");
            assert_eq!(calls[0].function.arguments, r#"{"city":"mock"}"#);
            assert!(calls[0].id.starts_with("call_"));
            assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        }
        "streamed tool-call arguments" => {
            let (chunks, error) = collect(&p, tools()).await;
            assert!(error.is_none(), "{what}: {error:?}");
            check_chunks(&what, &chunks);
            let deltas: Vec<_> = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .flat_map(|c| c.delta.tool_calls.iter().flatten())
                .collect();
            assert_eq!(deltas.len(), 1);
            let function = deltas[0].function.as_ref().unwrap();
            assert_eq!(function.arguments.as_deref(), Some(r#"{"city":"mock"}"#));
            assert!(deltas[0].id.is_some());
            let finish = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .find_map(|c| c.finish_reason);
            assert_eq!(finish, Some(FinishReason::ToolCalls));
        }
        "tool-result round trip" => {
            let first = p.chat(tools()).await.unwrap();
            let call = first.choices[0]
                .message
                .tool_calls
                .clone()
                .unwrap()
                .remove(0);
            let mut follow = tool_result();
            follow.messages[1].tool_calls = Some(vec![call.clone()]);
            follow.messages[2].tool_call_id = Some(call.id);
            let r = p.chat(follow).await.unwrap();
            check_response(&what, &r);
            assert_eq!(
                r.choices[0].message.content.as_deref(),
                Some(r#"echo: tool result: {"result":"22C sunny"}"#)
            );
            let sent = h.last_request().body;
            assert_eq!(
                sent.pointer("/contents/2/parts/0/functionResponse/name"),
                Some(&json!("get_weather"))
            );
        }
        "JSON mode" => {
            let mut req = hello();
            req.response_format = serde_json::from_value(json!({"type": "json_schema",
                "json_schema": {"name": "city", "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}})).unwrap();
            let r = p.chat(req).await.unwrap();
            check_response(&what, &r);
            let parsed: Value =
                serde_json::from_str(r.choices[0].message.content.as_deref().unwrap()).unwrap();
            assert_eq!(parsed, json!({"name": "mock"}));
            assert_eq!(
                h.last_request()
                    .body
                    .pointer("/generationConfig/responseMimeType"),
                Some(&json!("application/json"))
            );
        }
        "vision" => {
            let req = request(json!({"messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}]}));
            let r = p.chat(req).await.unwrap();
            check_response(&what, &r);
            assert_eq!(
                r.choices[0].message.content.as_deref(),
                Some("echo: what is this [media: 2]")
            );
        }
        "usage in stream" => {
            let (chunks, _) = collect(&p, hello()).await;
            let last = chunks.last().unwrap();
            assert!(last.is_usage_only(), "{what}: {last:?}");
            let usage = last.usage.clone().unwrap();
            assert_eq!(
                (
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.total_tokens
                ),
                (2, 3, 5)
            );
            assert_eq!(chunks.iter().filter(|c| c.usage.is_some()).count(), 1);
        }
        "reasoning" => {
            let mut req = hello();
            req.reasoning_effort = Some("low".into());
            let r = p.chat(req.clone()).await.unwrap();
            check_response(&what, &r);
            assert_eq!(
                r.choices[0].message.reasoning_content.as_deref(),
                Some("thinking about: Hello there")
            );
            let details = r.usage.unwrap().completion_tokens_details.unwrap();
            assert_eq!(details.reasoning_tokens, Some(4));
            let (chunks, _) = collect(&p, req).await;
            check_chunks(&what, &chunks);
            assert!(
                chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .any(|c| c.delta.reasoning_content.is_some())
            );
        }
        "401" => {
            let bad = match family {
                Google::Gemini => ProviderTarget {
                    api_key: Some(Secret::new("AIza-wrong")),
                    ..h.target(family, "gemini-2.5-flash")
                },
                Google::Vertex => ProviderTarget {
                    api_key: Some(Secret::new("ya29.not-a-token")),
                    vertex: llm_providers::VertexSettings {
                        credentials: None,
                        ..h.target(family, "x").vertex
                    },
                    ..h.target(family, "gemini-2.5-flash")
                },
            };
            let error = build(&bad).chat(hello()).await.unwrap_err();
            assert_eq!(
                (error.status(), error.kind),
                (401, ErrorKind::Authentication),
                "{what}: {error:?}"
            );
        }
        "429" => {
            let error = h
                .provider(family, "error-429")
                .chat(hello())
                .await
                .unwrap_err();
            assert_eq!(error.status(), 429);
            assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(7)));
            assert!(error.is_retryable());
        }
        "mid-stream error" => {
            let (chunks, error) = collect(&h.provider(family, "cut-2"), hello()).await;
            assert_eq!(text_of(&chunks), "echo: Hello");
            assert_eq!(error.unwrap().kind, ErrorKind::UpstreamBadResponse);
        }
        other => panic!("unknown case {other}"),
    }
    true
}

/// Which matrix cases a capability gates.
fn capability_of(case: &str) -> Option<&'static str> {
    match case {
        "tools" | "streamed tool-call arguments" | "tool-result round trip" => Some("tools"),
        "JSON mode" => Some("JSON mode"),
        "vision" => Some("vision"),
        "usage in stream" => Some("streaming usage"),
        "reasoning" => Some("reasoning"),
        _ => None,
    }
}

#[tokio::test]
async fn conformance_matrix() {
    let cases = [
        "chat",
        "stream",
        "tools",
        "streamed tool-call arguments",
        "tool-result round trip",
        "JSON mode",
        "vision",
        "usage in stream",
        "reasoning",
        "401",
        "429",
        "mid-stream error",
    ];
    let h = GoogleHarness::start().await;
    for family in BOTH {
        let capabilities = match family {
            Google::Gemini => Family::Gemini,
            Google::Vertex => Family::Vertex,
        }
        .capabilities();
        for case in cases {
            let passed = run_case(&h, family, case).await;
            if let Some(column) = capability_of(case) {
                let declared = capabilities
                    .columns()
                    .iter()
                    .any(|(c, on)| *c == column && *on);
                assert_eq!(
                    passed, declared,
                    "{family:?} {case} disagrees with the capability table"
                );
            }
        }
    }
}

/// google-genai's reference request for a scenario, with the SDK's snake_case schema field
/// and empty objects normalized away.
fn reference(provider: &str, scenario: &str) -> Value {
    let path = kit().join(format!(
        "fixtures/sdk-reference-requests/{provider}/{scenario}.json"
    ));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("\"parameters_json_schema\"", "\"parametersJsonSchema\"");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn requests_match_google_genai_and_the_vertex_schema() {
    let h = GoogleHarness::start().await;
    let basic = request(
        json!({"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello"}],
        "temperature": 0.2, "max_tokens": 256, "stop": ["END"]}),
    );
    let stream = request(json!({"messages": [{"role": "user", "content": "Hello"}]}));
    let scenarios = [
        ("basic", basic, false),
        ("stream", stream, true),
        ("tools", tools(), false),
        ("tool_result", tool_result(), false),
    ];
    let capture = std::env::var_os("GEMINI_CAPTURE_DIR");
    let spec = vertex_spec();
    for family in BOTH {
        let (provider_dir, path_prefix) = match family {
            Google::Gemini => ("gemini", "/v1beta/models/gemini-2.5-flash:".to_owned()),
            Google::Vertex => ("vertex", "/v1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:".to_owned()),
        };
        let p = h.provider(family, "gemini-2.5-flash");
        for (scenario, req, streamed) in &scenarios {
            if *streamed {
                let (_, error) = collect(&p, req.clone()).await;
                assert!(error.is_none());
            } else {
                p.chat(req.clone()).await.unwrap();
            }
            let sent = h.last_request();
            let what = format!("{provider_dir}/{scenario}");
            let method = if *streamed {
                "streamGenerateContent"
            } else {
                "generateContent"
            };
            assert_eq!(sent.path, format!("{path_prefix}{method}"), "{what}");
            let expected = reference(provider_dir, scenario);
            assert_eq!(
                without_empty_objects(&sent.body),
                without_empty_objects(&expected["body"]),
                "{what}"
            );
            match family {
                Google::Gemini => assert_eq!(sent.header("x-goog-api-key"), Some(KEY)),
                Google::Vertex => assert!(
                    sent.header("authorization")
                        .unwrap()
                        .starts_with("Bearer ya29.mock-")
                ),
            }
            assert_eq!(sent.header("content-type"), Some("application/json"));
            let errors = spec.errors(
                "/$defs/GoogleCloudAiplatformV1GenerateContentRequest",
                &sent.body,
            );
            assert!(errors.is_empty(), "{what}: {errors:#?}");
            if let Some(dir) = &capture {
                let dir = std::path::Path::new(dir).join(provider_dir);
                std::fs::create_dir_all(&dir).unwrap();
                let query = if *streamed { "?alt=sse" } else { "" };
                let record = json!({"method": "POST", "path": format!("{}{query}", sent.path), "body": sent.body});
                std::fs::write(dir.join(format!("{scenario}.json")), record.to_string()).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn every_translated_request_fits_the_vertex_schema() {
    let h = GoogleHarness::start().await;
    let p = h.provider(Google::Vertex, "gemini-2.5-flash");
    let everything = request(json!({"messages": [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
            {"type": "image_url", "image_url": {"url": "gs://bucket/cat.png"}}]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "now"}],
        "temperature": 0.5, "top_p": 0.9, "top_k": 40, "n": 2, "seed": 3, "presence_penalty": 0.1,
        "frequency_penalty": 0.2, "max_completion_tokens": 100, "stop": "END", "reasoning_effort": "high",
        "response_format": {"type": "json_object"}, "tools": [weather()], "tool_choice": "required",
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"}]}));
    let r = p.chat(everything).await.unwrap();
    check_response("everything", &r);
    assert_eq!(r.choices.len(), 2);
    let sent = h.last_request().body;
    let errors = vertex_spec().errors(
        "/$defs/GoogleCloudAiplatformV1GenerateContentRequest",
        &sent,
    );
    assert!(errors.is_empty(), "{errors:#?}\n{sent:#}");
    // The schema is closed: a snake_case or unknown field would not pass.
    let mut wrong = sent.clone();
    wrong["generationConfig"]["max_output_tokens"] = json!(1);
    let errors = vertex_spec().errors(
        "/$defs/GoogleCloudAiplatformV1GenerateContentRequest",
        &wrong,
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    // And the kit's own bad sample (`max_tokens` in `generationConfig`) is refused.
    let bad: Value = serde_json::from_str(
        &std::fs::read_to_string(kit().join("samples/gemini_request_bad.json")).unwrap(),
    )
    .unwrap();
    let errors = vertex_spec().errors("/$defs/GoogleCloudAiplatformV1GenerateContentRequest", &bad);
    assert!(!errors.is_empty());
}

#[tokio::test]
async fn vertex_mints_one_token_and_reuses_it() {
    let h = GoogleHarness::start().await;
    let p = h.provider(Google::Vertex, "gemini-2.5-flash");
    let (a, b) = tokio::join!(p.chat(hello()), p.chat(hello()));
    a.unwrap();
    b.unwrap();
    p.chat(hello()).await.unwrap();
    let tokens: Vec<_> = h
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect();
    assert_eq!(
        tokens.len(),
        1,
        "one token for every call of the deployment"
    );
    assert_eq!(
        tokens[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // A token endpoint that refuses the grant (here: an `aud` it does not accept) is a 401.
    let mut account: Value = serde_json::from_str(&h.credentials()).unwrap();
    account["token_uri"] = json!(format!("{}/token?wrong-audience", h.base()));
    let mut target = h.target(Google::Vertex, "gemini-2.5-flash");
    target.vertex.credentials = Some(Secret::new(account.to_string()));
    let error = build(&target).chat(hello()).await.unwrap_err();
    assert_eq!(error.status(), 401, "{error:?}");
    assert!(error.message.contains("invalid_grant"), "{error:?}");
}

#[tokio::test]
async fn upstream_errors_map_to_what_openai_clients_expect() {
    let h = GoogleHarness::start().await;
    let cases = [
        ("error-400", 400, false),
        ("error-403", 403, false),
        ("error-404", 404, false),
        ("error-429", 429, true),
        ("error-500", 502, true),
        ("error-503", 503, true),
        ("garbage", 502, true),
    ];
    for family in BOTH {
        for (model, status, retryable) in cases {
            let error = h.provider(family, model).chat(hello()).await.unwrap_err();
            assert_eq!(
                (error.status(), error.is_retryable()),
                (status, retryable),
                "{family:?} {model}: {error:?}"
            );
            let (_, streamed) = collect(&h.provider(family, model), hello()).await;
            assert_eq!(
                streamed.unwrap().status(),
                status,
                "{family:?} {model} streamed"
            );
        }
    }
}

#[tokio::test]
async fn unsupported_parameters_are_refused_or_dropped() {
    let h = GoogleHarness::start().await;
    let mut req = hello();
    req.logit_bias = Some([("1".to_owned(), 1.0)].into());
    let error = h
        .provider(Google::Gemini, "m")
        .chat(req.clone())
        .await
        .unwrap_err();
    assert_eq!(
        (error.status(), error.param.as_deref()),
        (400, Some("logit_bias"))
    );
    assert!(error.message.contains("gemini"));
    let mut target = h.target(Google::Vertex, "m");
    target.drop_params = true;
    build(&target).chat(req).await.unwrap();
}

#[tokio::test]
async fn embeddings_on_both_apis() {
    let h = GoogleHarness::start().await;
    let embed = |input: Value, extra: Value| {
        let mut body = json!({"model": "ignored", "input": input});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value::<EmbeddingsRequest>(body).unwrap()
    };
    let cases = [
        (
            Google::Gemini,
            json!("hello"),
            json!({"dimensions": 4}),
            "embedContent",
            1,
            4,
        ),
        (
            Google::Gemini,
            json!(["a", "b", "c"]),
            json!({}),
            "batchEmbedContents",
            3,
            8,
        ),
        (
            Google::Vertex,
            json!(["a b", "c"]),
            json!({"dimensions": 5}),
            "predict",
            2,
            5,
        ),
    ];
    for (family, input, extra, method, count, dims) in cases {
        let p = h.provider(family, "text-embedding-004");
        let out = p
            .embeddings(embed(input.clone(), extra.clone()))
            .await
            .unwrap();
        assert_eq!(out.data.len(), count);
        assert!(
            h.last_request().path.ends_with(&format!(":{method}")),
            "{method}"
        );
        match &out.data[0].embedding {
            EmbeddingVector::Float(v) => assert_eq!(v.len(), dims),
            other => panic!("{other:?}"),
        }
        let mut extra = extra;
        extra["encoding_format"] = json!("base64");
        let encoded = p.embeddings(embed(input, extra)).await.unwrap();
        assert!(
            matches!(&encoded.data[0].embedding, EmbeddingVector::Base64(b) if b.len() == (dims * 4).div_ceil(3) * 4)
        );
    }
}
