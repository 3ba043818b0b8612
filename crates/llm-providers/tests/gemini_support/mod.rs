//! Shared helpers of the Gemini and Vertex AI tests: the conformance kit's schemas (OpenAI's
//! spec, and Vertex's Discovery document turned into a closed JSON Schema), the Google mock
//! with adapters of both families pointed at it, and stream collection.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use jsonschema::{Draft, Registry, Resource, Validator};
use llm_mock_upstream::{MockOptions, MockServer, RecordedRequest};
use llm_providers::{AnyProvider, ProviderTarget, Secret, VertexSettings};
use llm_types::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, Error};
use serde_json::{Map, Value, json};

/// The key the mock expects (Gemini's `x-goog-api-key`).
pub const KEY: &str = "AIza-test-key-0123456789";

/// `../shared/conformance`, beside the project.
pub fn kit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

/// The committed test service account (its public half is what the mock verifies with).
pub fn service_account() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/mock-upstream/fixtures/google/test-service-account.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON Schema document, ready to reference by JSON pointer.
pub struct Spec {
    registry: Registry<'static>,
    uri: &'static str,
}

impl Spec {
    pub fn new(document: Value, uri: &'static str) -> Spec {
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

    pub fn errors(&self, pointer: &str, body: &Value) -> Vec<String> {
        self.validator(pointer)
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }
}

fn read_kit(relative: &str) -> Value {
    let path = kit().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e})", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn openai_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        Spec::new(
            read_kit("specs/openai/openapi.normalized.json"),
            "urn:openai",
        )
    })
}

/// Vertex AI's Discovery document (`aiplatform.v1.json`) as JSON Schema: `$ref`s resolved
/// into `$defs`, every object closed (`additionalProperties: false`), so a misspelt or
/// snake_case-only field fails. Gemini's `generateContent` body has the same shape.
pub fn vertex_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let discovery = read_kit("specs/vertex/aiplatform.v1.json");
        let defs: Map<String, Value> = discovery["schemas"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, schema)| (name.clone(), discovery_to_schema(schema)))
            .collect();
        Spec::new(json!({"$defs": defs}), "urn:vertex")
    })
}

/// One Discovery schema as JSON Schema (only the keywords that constrain).
fn discovery_to_schema(schema: &Value) -> Value {
    let mut out = Map::new();
    if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
        out.insert("$ref".into(), json!(format!("#/$defs/{name}")));
        return Value::Object(out);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("any") | None => {}
        Some(kind) => {
            out.insert("type".into(), json!(kind));
        }
    }
    if let Some(values) = schema.get("enum") {
        out.insert("enum".into(), values.clone());
    }
    if let Some(items) = schema.get("items") {
        out.insert("items".into(), discovery_to_schema(items));
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let converted: Map<String, Value> = properties
            .iter()
            .map(|(k, v)| (k.clone(), discovery_to_schema(v)))
            .collect();
        out.insert("properties".into(), Value::Object(converted));
        out.insert("additionalProperties".into(), json!(false));
    }
    if let Some(additional) = schema.get("additionalProperties") {
        out.insert(
            "additionalProperties".into(),
            discovery_to_schema(additional),
        );
    }
    Value::Object(out)
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

/// Which Google family a test drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Google {
    Gemini,
    Vertex,
}

pub const BOTH: [Google; 2] = [Google::Gemini, Google::Vertex];

/// The mock, with the key [`KEY`].
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

    pub fn base(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Service-account credentials whose `token_uri` is the mock's.
    pub fn credentials(&self) -> String {
        let mut account = service_account();
        account["token_uri"] = json!(format!("{}/token", self.base()));
        account.to_string()
    }

    pub fn target(&self, family: Google, model: &str) -> ProviderTarget {
        let common = ProviderTarget {
            api_base: Some(self.base()),
            stream_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(10)),
            ..ProviderTarget::default()
        };
        match family {
            Google::Gemini => ProviderTarget {
                model: format!("gemini/{model}"),
                api_key: Some(Secret::new(KEY)),
                ..common
            },
            Google::Vertex => ProviderTarget {
                model: format!("vertex_ai/{model}"),
                vertex: VertexSettings {
                    project: Some("proj".into()),
                    location: Some("us-central1".into()),
                    credentials: Some(Secret::new(self.credentials())),
                },
                ..common
            },
        }
    }

    pub fn provider(&self, family: Google, model: &str) -> AnyProvider {
        build(&self.target(family, model))
    }

    /// The chat/embeddings requests (token requests left out).
    pub fn api_requests(&self) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path != "/token")
            .collect()
    }

    pub fn last_request(&self) -> RecordedRequest {
        self.api_requests()
            .pop()
            .expect("the mock received no request")
    }
}

pub fn build(target: &ProviderTarget) -> AnyProvider {
    let http = llm_providers::http_client::build_http_client().unwrap();
    AnyProvider::build(target, &http).unwrap()
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

/// The text a stream spelt out.
pub fn streamed_text(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.content.as_deref())
        .collect()
}

/// Recursively drops empty objects (google-genai sends `generationConfig: {}`), so SDK
/// reference bodies compare by meaning.
pub fn without_empty_objects(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), without_empty_objects(v)))
                .filter(|(_, v)| v.as_object().is_none_or(|m| !m.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_empty_objects).collect()),
        other => other.clone(),
    }
}
