//! Shared helpers of the Anthropic family's tests: the conformance kit's schemas, the native
//! mock with adapters pointed at it, and stream collection.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use jsonschema::{Draft, Registry, Resource, Validator};
use llm_mock_upstream::{MockOptions, MockServer, RecordedRequest};
use llm_providers::{AnyProvider, ProviderTarget, Secret};
use llm_types::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, Error};
use serde_json::{Value, json};

/// The key the mock expects.
pub const KEY: &str = "sk-ant-test-key-0123456789";

/// `../shared/conformance`, beside the project.
pub fn kit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

/// A JSON Schema document from the kit, ready to reference by JSON pointer.
pub struct Spec {
    registry: Registry<'static>,
    uri: &'static str,
}

impl Spec {
    pub fn load(relative: &str, uri: &'static str) -> Spec {
        let path = kit().join(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is missing ({e})", path.display()));
        let document: Value = serde_json::from_str(&text).unwrap();
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(uri, Resource::from_contents(document))
            .unwrap()
            .prepare()
            .unwrap();
        Spec { registry, uri }
    }

    pub fn validator(&self, pointer: &str) -> Validator {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&json!({"$ref": format!("{}#{pointer}", self.uri)}))
            .unwrap()
    }

    /// Every violation of the schema at `pointer` in `body`.
    pub fn errors(&self, pointer: &str, body: &Value) -> Vec<String> {
        self.validator(pointer)
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }
}

pub fn openai_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("specs/openai/openapi.normalized.json", "urn:openai"))
}

/// The anthropic SDK's request schema, every object closed.
pub fn anthropic_request_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        Spec::load(
            "specs/anthropic/MessageCreateParams.closed.schema.json",
            "urn:anthropic-request",
        )
    })
}

/// Fails unless `response` validates strictly as `CreateChatCompletionResponse`.
pub fn check_response(what: &str, response: &ChatCompletionResponse) {
    let body = serde_json::to_value(response).unwrap();
    let errors = openai_spec().errors("/components/schemas/CreateChatCompletionResponse", &body);
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{body:#}");
}

/// Fails unless every chunk validates strictly as `CreateChatCompletionStreamResponse`.
pub fn check_chunks(what: &str, chunks: &[ChatCompletionChunk]) {
    let validator =
        openai_spec().validator("/components/schemas/CreateChatCompletionStreamResponse");
    for (i, chunk) in chunks.iter().enumerate() {
        let body = serde_json::to_value(chunk).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{what} chunk {i}: {errors:#?}\n{body:#}");
    }
}

/// The native mock with the key [`KEY`].
pub struct Harness {
    pub server: MockServer,
}

impl Harness {
    pub async fn start() -> Harness {
        let server = MockServer::start(MockOptions {
            api_key: Some(KEY.to_owned()),
            ..MockOptions::default()
        })
        .await
        .unwrap();
        Harness { server }
    }

    pub fn target(&self, model: &str, key: &str) -> ProviderTarget {
        ProviderTarget {
            api_base: Some(format!("http://{}", self.server.addr())),
            api_key: Some(Secret::new(key)),
            stream_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(10)),
            ..ProviderTarget::new(format!("anthropic/{model}"))
        }
    }

    pub fn provider(&self, model: &str) -> AnyProvider {
        self.provider_with_key(model, KEY)
    }

    pub fn provider_with_key(&self, model: &str, key: &str) -> AnyProvider {
        let http = llm_providers::http_client::build_http_client().unwrap();
        AnyProvider::build(&self.target(model, key), &http).unwrap()
    }

    pub fn last_request(&self) -> RecordedRequest {
        self.server
            .requests()
            .pop()
            .expect("the mock received no request")
    }
}

/// Every chunk of a stream, and the error that ended it (if any).
pub async fn collect(
    provider: &AnyProvider,
    request: ChatCompletionRequest,
) -> (Vec<ChatCompletionChunk>, Option<Error>) {
    use llm_providers::Provider;
    let mut stream = match provider.chat_stream(request).await {
        Ok(stream) => stream,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

pub fn text_of(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.content.as_deref())
        .collect()
}

pub fn reasoning_of(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.reasoning_content.as_deref())
        .collect()
}

/// The arguments of streamed tool call `index`, concatenated.
pub fn arguments_of(chunks: &[ChatCompletionChunk], index: u32) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter(|t| t.index == index)
        .filter_map(|t| t.function.as_ref()?.arguments.as_deref())
        .collect()
}
