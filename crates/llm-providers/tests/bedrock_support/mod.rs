//! Test kit of the Bedrock tests: the conformance kit's specs as validators, the mock started
//! with the credentials it knows, requests of every scenario and stream collection.

// Each Bedrock test crate uses a different part of the kit.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use futures_util::StreamExt;
use jsonschema::{Draft, Registry, Resource};
use llm_mock_upstream::{MockOptions, MockServer};
use llm_providers::bedrock::Bedrock;
use llm_providers::{AwsSettings, ChatStream, ProviderTarget, Secret};
use llm_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, ContentPart,
    Error, FunctionCall, FunctionDefinition, ImageUrl, MessageContent, ResponseFormat, Role, Stop,
    Tool, ToolCall,
};
use serde_json::{Value, json};

/// The credentials the Bedrock mock verifies signatures with (AWS's documentation example).
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// `../shared/conformance`, beside the project.
pub fn kit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

/// A JSON Schema document whose components are referenced through a registry.
pub struct Spec {
    registry: Registry<'static>,
    uri: &'static str,
}

impl Spec {
    fn load(relative: &str, uri: &'static str) -> Spec {
        let path = kit().join(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("missing {} ({e})", path.display()));
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(
                uri,
                Resource::from_contents(serde_json::from_str(&text).unwrap()),
            )
            .unwrap()
            .prepare()
            .unwrap();
        Spec { registry, uri }
    }

    /// Every violation of `pointer` (`#/components/schemas/X`, `#/$defs/X`) in `body`.
    pub fn errors(&self, pointer: &str, body: &Value) -> Vec<String> {
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&json!({"$ref": format!("{}{pointer}", self.uri)}))
            .unwrap();
        validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    pub fn check(&self, pointer: &str, what: &str, body: &Value) {
        let errors = self.errors(pointer, body);
        assert!(
            errors.is_empty(),
            "{what} violates {pointer}:\n{}\n{body:#}",
            errors.join("\n")
        );
    }
}

pub fn openai_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("specs/openai/openapi.normalized.json", "urn:openai-spec"))
}

pub fn bedrock_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("specs/bedrock-runtime/bedrock-runtime.schema.json", "urn:x"))
}

pub fn check_response(what: &str, response: &ChatCompletionResponse) {
    openai_spec().check(
        "#/components/schemas/CreateChatCompletionResponse",
        what,
        &serde_json::to_value(response).unwrap(),
    );
}

pub fn check_chunks(what: &str, chunks: &[ChatCompletionChunk]) {
    for (i, chunk) in chunks.iter().enumerate() {
        openai_spec().check(
            "#/components/schemas/CreateChatCompletionStreamResponse",
            &format!("{what} chunk {i}"),
            &serde_json::to_value(chunk).unwrap(),
        );
    }
}

/// The mock, and targets pointing at it.
pub struct Harness {
    pub mock: MockServer,
    pub http: reqwest::Client,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness {
            mock: MockServer::start(MockOptions::default()).await.unwrap(),
            http: llm_providers::http_client::build_http_client().unwrap(),
        }
    }

    pub fn target(&self, model: &str) -> ProviderTarget {
        ProviderTarget {
            api_base: Some(self.mock.base_url().trim_end_matches("/v1").to_owned()),
            aws: AwsSettings {
                access_key_id: Some(ACCESS_KEY.into()),
                secret_access_key: Some(Secret::new(SECRET_KEY)),
                region_name: Some("us-east-1".into()),
                ..AwsSettings::default()
            },
            ..ProviderTarget::new(format!("bedrock/{model}"))
        }
    }

    pub fn provider(&self, model: &str) -> Bedrock {
        Bedrock::new(&self.target(model), self.http.clone()).unwrap()
    }
}

/// Collects a stream: the chunks before the first error, and that error.
pub async fn collect(stream: ChatStream) -> (Vec<ChatCompletionChunk>, Option<Error>) {
    let mut chunks = Vec::new();
    let mut stream = stream;
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

pub fn arguments_of(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter_map(|t| t.function.as_ref()?.arguments.as_deref())
        .collect()
}

pub fn user(text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(
        format!("bedrock/{MODEL}"),
        vec![ChatMessage::text(Role::User, text)],
    )
}

pub fn weather_tool(description: Option<&str>) -> Tool {
    Tool {
        kind: "function".into(),
        function: Some(FunctionDefinition {
            name: "get_weather".into(),
            description: description.map(str::to_owned),
            parameters: Some(
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            ),
            strict: None,
        }),
        extra: Default::default(),
    }
}

pub fn tools_request() -> ChatCompletionRequest {
    let mut request = user("Weather in Paris?");
    request.tools = Some(vec![weather_tool(Some("Get weather"))]);
    request.tool_choice = Some(llm_types::ToolChoice::Mode("auto".into()));
    request
}

pub fn tool_result_request() -> ChatCompletionRequest {
    let mut assistant = ChatMessage::text(Role::Assistant, "");
    assistant.content = None;
    assistant.tool_calls = Some(vec![ToolCall {
        id: "tooluse_1".into(),
        kind: "function".into(),
        function: FunctionCall {
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        },
    }]);
    let mut result = ChatMessage::text(Role::Tool, "22C sunny");
    result.tool_call_id = Some("tooluse_1".into());
    let mut request = ChatCompletionRequest::new(
        format!("bedrock/{MODEL}"),
        vec![
            ChatMessage::text(Role::User, "Weather in Paris?"),
            assistant,
            result,
        ],
    );
    request.tools = Some(vec![weather_tool(None)]);
    request
}

/// A 1x1 PNG.
pub const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

pub fn vision_request() -> ChatCompletionRequest {
    let mut message = ChatMessage::text(Role::User, "");
    message.content = Some(MessageContent::Parts(vec![
        ContentPart::Text {
            text: "What is this?".into(),
            cache_control: None,
        },
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: format!("data:image/png;base64,{PIXEL}"),
                detail: None,
            },
            cache_control: None,
        },
    ]));
    ChatCompletionRequest::new(format!("bedrock/{MODEL}"), vec![message])
}

pub fn json_request() -> ChatCompletionRequest {
    let mut request = user("Give me a city");
    request.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: llm_types::JsonSchemaFormat {
            name: "city".into(),
            description: None,
            schema: Some(
                json!({"type": "object", "properties": {"name": {"type": "string"}, "population": {"type": "integer"}}, "required": ["name"]}),
            ),
            strict: Some(true),
        },
    });
    request
}

/// The SDK reference scenario `basic` (also the golden SigV4 request's body).
pub fn basic_request() -> ChatCompletionRequest {
    let mut request = ChatCompletionRequest::new(
        format!("bedrock/{MODEL}"),
        vec![
            ChatMessage::text(Role::System, "You are terse."),
            ChatMessage::text(Role::User, "Hello"),
        ],
    );
    request.max_tokens = Some(256);
    request.temperature = Some(0.2);
    request.stop = Some(Stop::Many(vec!["END".into()]));
    request
}

pub fn streamed(mut request: ChatCompletionRequest) -> ChatCompletionRequest {
    request.stream = Some(true);
    request
}
