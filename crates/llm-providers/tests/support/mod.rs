//! The test kit every family's tests share: the conformance kit's specs as validators, the
//! native mock with adapters pointed at it, stream collection, request builders and the
//! conformance matrix's cases. Family-specific pieces live in one submodule per family
//! (`anthropic`, `bedrock`, `google`, `compat` for Azure, Cohere, Ollama and OpenAI-compatible
//! hosts); a test binary declares `mod support;` and imports `support::*` and its family's
//! module.

// Each test binary uses a different part of the kit.
#![allow(dead_code)]

pub mod anthropic;
pub mod bedrock;
pub mod compat;
pub mod google;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use jsonschema::{Draft, Registry, Resource, Validator};
use llm_mock_upstream::{MockOptions, MockServer, RecordedRequest};
use llm_providers::{AnyProvider, ChatStream, Family, Provider, ProviderTarget, Secret};
use llm_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, ContentPart,
    EmbeddingInput, EmbeddingsRequest, EmbeddingsResponse, Error, FinishReason, FunctionCall,
    FunctionDefinition, ImageUrl, JsonSchemaFormat, MessageContent, ResponseFormat, Role, Tool,
    ToolCall,
};
use serde_json::{Value, json};

/// `../shared/conformance`, beside the project.
pub fn kit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

/// A JSON document of the kit.
pub fn read_kit(relative: &str) -> Value {
    let path = kit().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e})", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The pydantic-ai cassettes `fixtures/pydantic-ai/<dir>/*.yaml`, sorted.
pub fn cassettes(dir: &str) -> Vec<PathBuf> {
    let dir = kit().join("fixtures/pydantic-ai").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The SDK reference request `fixtures/sdk-reference-requests/<provider>/<scenario>.json`.
pub fn reference_request(provider: &str, scenario: &str) -> Value {
    read_kit(&format!(
        "fixtures/sdk-reference-requests/{provider}/{scenario}.json"
    ))
}

/// A JSON Schema document, ready to reference by JSON pointer (`/components/schemas/X`,
/// `/$defs/X`, or `""` for the root).
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

    /// The kit's document at `relative`.
    pub fn load(relative: &str, uri: &'static str) -> Spec {
        Spec::new(read_kit(relative), uri)
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

    /// Fails the test with every violation.
    pub fn check(&self, pointer: &str, what: &str, body: &Value) {
        let errors = self.errors(pointer, body);
        assert!(
            errors.is_empty(),
            "{what} violates {pointer}:\n{}\n{body:#}",
            errors.join("\n")
        );
    }
}

/// OpenAI's spec (normalized), for what we emit.
pub fn openai_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("specs/openai/openapi.normalized.json", "urn:openai"))
}

/// Fails unless `response` validates strictly as `CreateChatCompletionResponse`.
pub fn check_response(what: &str, response: &ChatCompletionResponse) {
    openai_spec().check(
        "/components/schemas/CreateChatCompletionResponse",
        what,
        &serde_json::to_value(response).unwrap(),
    );
}

/// Fails unless every chunk validates strictly as `CreateChatCompletionStreamResponse`.
pub fn check_chunks(what: &str, chunks: &[ChatCompletionChunk]) {
    for (i, chunk) in chunks.iter().enumerate() {
        openai_spec().check(
            "/components/schemas/CreateChatCompletionStreamResponse",
            &format!("{what} chunk {i}"),
            &serde_json::to_value(chunk).unwrap(),
        );
    }
}

/// Fails unless `response` validates strictly as `CreateEmbeddingResponse`.
pub fn check_embeddings(response: &EmbeddingsResponse) {
    openai_spec().check(
        "/components/schemas/CreateEmbeddingResponse",
        "embeddings",
        &serde_json::to_value(response).unwrap(),
    );
}

/// The mock, expecting `key` (or no key at all).
pub async fn start_mock(key: Option<&str>) -> MockServer {
    MockServer::start(MockOptions {
        api_key: key.map(str::to_owned),
        ..MockOptions::default()
    })
    .await
    .unwrap()
}

/// The mock expecting a key, and adapters of the family `prefix` (`anthropic`, `azure`, ...)
/// pointed at it.
pub struct Harness {
    pub server: MockServer,
    pub prefix: &'static str,
    pub key: &'static str,
}

impl Harness {
    pub async fn start(prefix: &'static str, key: &'static str) -> Harness {
        let server = start_mock(Some(key)).await;
        Harness {
            server,
            prefix,
            key,
        }
    }

    /// `http://127.0.0.1:PORT`, the root every native family appends its paths to.
    pub fn root(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn target(&self, model: &str, key: &str) -> ProviderTarget {
        ProviderTarget {
            api_base: Some(self.root()),
            api_key: Some(Secret::new(key)),
            stream_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(10)),
            ..ProviderTarget::new(format!("{}/{model}", self.prefix))
        }
    }

    pub fn provider(&self, model: &str) -> AnyProvider {
        self.provider_with_key(model, self.key)
    }

    pub fn provider_with_key(&self, model: &str, key: &str) -> AnyProvider {
        build(&self.target(model, key))
    }

    /// The last request the mock received.
    pub fn last_request(&self) -> RecordedRequest {
        self.server
            .requests()
            .pop()
            .expect("the mock received no request")
    }
}

/// The adapter for `target`, on a fresh HTTP client.
pub fn build(target: &ProviderTarget) -> AnyProvider {
    let http = llm_providers::http_client::build_http_client().unwrap();
    AnyProvider::build(target, &http).unwrap()
}

/// Every chunk of a stream, and the error that ended it (if any).
pub async fn collect_stream(mut stream: ChatStream) -> (Vec<ChatCompletionChunk>, Option<Error>) {
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

/// Every chunk of a streamed request, and the error that ended it (or refused to start it).
pub async fn collect(
    provider: &AnyProvider,
    request: ChatCompletionRequest,
) -> (Vec<ChatCompletionChunk>, Option<Error>) {
    match provider.chat_stream(request).await {
        Ok(stream) => collect_stream(stream).await,
        Err(error) => (Vec::new(), Some(error)),
    }
}

/// Like [`collect`], but a stream that fails to start fails the test.
pub async fn collect_started(
    provider: &AnyProvider,
    request: ChatCompletionRequest,
) -> (Vec<ChatCompletionChunk>, Option<Error>) {
    collect_stream(provider.chat_stream(request).await.unwrap()).await
}

/// The text a stream spelt out.
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

/// The arguments of every streamed tool call, concatenated.
pub fn arguments_of(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter_map(|t| t.function.as_ref()?.arguments.as_deref())
        .collect()
}

/// The arguments of streamed tool call `index`, concatenated.
pub fn arguments_of_call(chunks: &[ChatCompletionChunk], index: u32) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter(|t| t.index == index)
        .filter_map(|t| t.function.as_ref()?.arguments.as_deref())
        .collect()
}

pub fn finish_of(chunks: &[ChatCompletionChunk]) -> Option<FinishReason> {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .find_map(|c| c.finish_reason)
}

/// One user message (the adapter sends its own model, so the request's is `ignored`).
pub fn user(text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new("ignored", vec![ChatMessage::text(Role::User, text)])
}

pub fn streamed(mut request: ChatCompletionRequest) -> ChatCompletionRequest {
    request.stream = Some(true);
    request
}

/// `get_weather(city)`.
pub fn weather_tool(description: Option<&str>) -> Tool {
    Tool {
        kind: "function".into(),
        function: Some(FunctionDefinition {
            name: "get_weather".into(),
            description: description.map(str::to_owned),
            parameters: Some(json!({
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            })),
            strict: None,
        }),
        extra: serde_json::Map::new(),
    }
}

/// `request` offering [`weather_tool`] ("Get weather").
pub fn with_tools(mut request: ChatCompletionRequest) -> ChatCompletionRequest {
    request.tools = Some(vec![weather_tool(Some("Get weather"))]);
    request
}

/// A conversation ending in the result ("22C sunny") of the `get_weather` call `call_id`
/// made with `arguments`, offering the tool without a description.
pub fn tool_conversation(call_id: &str, arguments: &str) -> ChatCompletionRequest {
    let mut assistant = ChatMessage::text(Role::Assistant, "");
    assistant.content = None;
    assistant.tool_calls = Some(vec![ToolCall {
        id: call_id.into(),
        kind: "function".into(),
        function: FunctionCall {
            name: "get_weather".into(),
            arguments: arguments.into(),
        },
    }]);
    let mut result = ChatMessage::text(Role::Tool, "22C sunny");
    result.tool_call_id = Some(call_id.into());
    let mut request = ChatCompletionRequest::new(
        "ignored",
        vec![
            ChatMessage::text(Role::User, "Weather in Paris?"),
            assistant,
            result,
        ],
    );
    request.tools = Some(vec![weather_tool(None)]);
    request
}

/// One user message of `text` followed by the images at `urls`.
pub fn image_request(text: &str, urls: &[&str]) -> ChatCompletionRequest {
    let mut parts = vec![ContentPart::Text {
        text: text.into(),
        cache_control: None,
    }];
    parts.extend(urls.iter().map(|url| ContentPart::ImageUrl {
        image_url: ImageUrl {
            url: (*url).into(),
            detail: None,
        },
        cache_control: None,
    }));
    let mut message = ChatMessage::text(Role::User, "");
    message.content = Some(MessageContent::Parts(parts));
    ChatCompletionRequest::new("ignored", vec![message])
}

/// Embeddings of `input` with `model` (in `dimensions`, when given).
pub fn embeddings_request(
    model: impl Into<String>,
    input: EmbeddingInput,
    dimensions: Option<u32>,
) -> EmbeddingsRequest {
    EmbeddingsRequest {
        model: model.into(),
        input,
        encoding_format: None,
        dimensions,
        user: None,
        extra: serde_json::Map::new(),
    }
}

/// `request` asking for JSON matching `schema` (named `name`).
pub fn with_json_schema(
    mut request: ChatCompletionRequest,
    name: &str,
    schema: Value,
    strict: Option<bool>,
) -> ChatCompletionRequest {
    request.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: name.into(),
            description: None,
            schema: Some(schema),
            strict,
        },
    });
    request
}

/// The conformance matrix's cases, in the order of the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Chat,
    Stream,
    Tools,
    StreamedToolArguments,
    ToolResultRoundTrip,
    JsonMode,
    Vision,
    UsageInStream,
    Reasoning,
    Unauthorized,
    RateLimited,
    MidStreamError,
}

pub const CASES: [Case; 12] = [
    Case::Chat,
    Case::Stream,
    Case::Tools,
    Case::StreamedToolArguments,
    Case::ToolResultRoundTrip,
    Case::JsonMode,
    Case::Vision,
    Case::UsageInStream,
    Case::Reasoning,
    Case::Unauthorized,
    Case::RateLimited,
    Case::MidStreamError,
];

impl Case {
    pub fn name(self) -> &'static str {
        match self {
            Case::Chat => "chat",
            Case::Stream => "stream",
            Case::Tools => "tools",
            Case::StreamedToolArguments => "streamed tool-call arguments",
            Case::ToolResultRoundTrip => "tool-result round trip",
            Case::JsonMode => "JSON mode",
            Case::Vision => "vision",
            Case::UsageInStream => "usage in stream",
            Case::Reasoning => "reasoning",
            Case::Unauthorized => "401",
            Case::RateLimited => "429",
            Case::MidStreamError => "mid-stream error",
        }
    }

    /// Whether `family`'s capability table says the case must pass.
    pub fn supported_by(self, family: Family) -> bool {
        let caps = family.capabilities();
        match self {
            Case::Tools | Case::StreamedToolArguments | Case::ToolResultRoundTrip => caps.tools,
            Case::JsonMode => caps.json_mode,
            Case::Vision => caps.vision,
            Case::UsageInStream => caps.streaming_usage,
            Case::Reasoning => caps.reasoning,
            Case::Chat
            | Case::Stream
            | Case::Unauthorized
            | Case::RateLimited
            | Case::MidStreamError => true,
        }
    }
}
