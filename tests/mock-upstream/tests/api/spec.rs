//! The mock's bodies validated against OpenAI's own OpenAPI spec (from the conformance kit),
//! so the gateway's tests run against the real wire shape and not the mock author's memory.

use std::path::PathBuf;

use jsonschema::{Draft, Registry, Resource, Validator};
use serde_json::{Value, json};

use crate::support::{Stream, post_ok, server, stream, user};

/// The normalized spec (OpenAPI 3.0 `nullable` rewritten into JSON Schema 2020-12).
fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/specs/openai/openapi.normalized.json")
}

const SPEC_URI: &str = "urn:openai-spec";

struct Spec {
    registry: Registry<'static>,
}

impl Spec {
    fn load() -> Spec {
        let path = spec_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the OpenAI spec is missing at {} ({e}); it ships with the conformance kit in \
                 ../shared/conformance beside the project",
                path.display()
            )
        });
        let spec: Value = serde_json::from_str(&text).unwrap();
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(SPEC_URI, Resource::from_contents(spec))
            .unwrap()
            .prepare()
            .unwrap();
        Spec { registry }
    }

    fn validator(&self, component: &str) -> Validator {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&json!({"$ref": format!("{SPEC_URI}#/components/schemas/{component}")}))
            .unwrap()
    }

    /// Fails the test with every violation of `component` found in `bodies`.
    fn check(&self, component: &str, bodies: &[Value]) {
        let validator = self.validator(component);
        let errors: Vec<String> = bodies
            .iter()
            .enumerate()
            .flat_map(|(i, body)| {
                validator
                    .iter_errors(body)
                    .map(move |e| format!("[{i}] {}: {e}", e.instance_path()))
            })
            .collect();
        assert!(
            errors.is_empty(),
            "{component}:\n{}\nbodies: {bodies:#?}",
            errors.join("\n")
        );
    }
}

fn tool_request() -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "weather?"}],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
        ],
        "tool_choice": "required"
    })
}

fn with(mut request: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        request[k] = v.clone();
    }
    request
}

#[tokio::test]
async fn responses_validate_against_the_openai_spec() {
    let spec = Spec::load();
    // The validator must be able to fail: a body missing `refusal` and `logprobs` is rejected.
    let validator = spec.validator("CreateChatCompletionResponse");
    let stale = json!({"id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]});
    assert!(!validator.is_valid(&stale));

    let server = server().await;
    let text = user("gpt-4o-mini", "hello");
    let chats = [
        post_ok(&server, "/chat/completions", &text).await,
        post_ok(
            &server,
            "/chat/completions",
            &with(text.clone(), json!({"n": 2, "max_tokens": 1})),
        )
        .await,
        post_ok(&server, "/chat/completions", &tool_request()).await,
        post_ok(
            &server,
            "/chat/completions",
            &with(
                text.clone(),
                json!({"response_format": {"type": "json_object"}}),
            ),
        )
        .await,
    ];
    spec.check("CreateChatCompletionResponse", &chats);

    let streaming = json!({"stream": true, "stream_options": {"include_usage": true}});
    let transcripts: Vec<Stream> = vec![
        stream(&server, &with(text.clone(), streaming.clone())).await,
        stream(
            &server,
            &with(text.clone(), json!({"stream": true, "n": 2})),
        )
        .await,
        stream(&server, &with(tool_request(), streaming)).await,
    ];
    for transcript in &transcripts {
        assert!(transcript.done);
        spec.check("CreateChatCompletionStreamResponse", &transcript.chunks);
    }

    let embeddings = [
        post_ok(
            &server,
            "/embeddings",
            &json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
        )
        .await,
        post_ok(
            &server,
            "/embeddings",
            &json!({"model": "text-embedding-3-small", "input": "a", "encoding_format": "base64"}),
        )
        .await,
    ];
    // The spec types `embedding` as an array of floats; OpenAI's base64 answer is a string
    // there, so only the float form is held to the spec.
    spec.check("CreateEmbeddingResponse", &embeddings[..1]);
    assert!(embeddings[1]["data"][0]["embedding"].is_string());

    let models: Value = crate::support::client()
        .get(format!("{}/models", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    spec.check("ListModelsResponse", &[models]);
}
