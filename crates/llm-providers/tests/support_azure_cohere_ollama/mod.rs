//! Test kit shared by the Azure, Cohere and Ollama family tests: the OpenAI spec validator,
//! the conformance matrix runner (against the family's native mock), stream collection and
//! the recorded cassettes of the conformance kit.

// Each test crate uses a different part of the kit.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use jsonschema::{Draft, Registry, Resource, Validator};
use llm_mock_upstream::{MockOptions, MockServer, RecordedRequest};
use llm_providers::{AnyProvider, Family, Provider, ProviderTarget, Secret};
use llm_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, ContentPart,
    Error, FinishReason, ImageUrl, MessageContent, ResponseFormat, Role, Tool,
};
use serde_json::{Value, json};

/// The key every family mock is started with.
pub const KEY: &str = "test-key-0123456789";

/// `../shared/conformance`, beside the project.
pub fn kit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

/// A JSON Schema document with `$ref`s resolved through a registry.
pub struct Spec {
    registry: Registry<'static>,
    uri: &'static str,
}

impl Spec {
    pub fn load(relative: &str, uri: &'static str) -> Spec {
        let path = kit().join(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("missing {} ({e})", path.display()));
        let spec: Value = serde_json::from_str(&text).unwrap();
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(uri, Resource::from_contents(spec))
            .unwrap()
            .prepare()
            .unwrap();
        Spec { registry, uri }
    }

    /// A validator for the schema at `pointer` (`/components/schemas/X`).
    pub fn validator(&self, pointer: &str) -> Validator {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&json!({"$ref": format!("{}#{pointer}", self.uri)}))
            .unwrap()
    }

    /// Fails the test with every violation.
    pub fn check(&self, pointer: &str, what: &str, body: &Value) {
        let validator = self.validator(pointer);
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} vs {pointer}:\n{}\n{body:#}",
            errors.join("\n")
        );
    }
}

/// OpenAI's spec (normalized), for what we emit.
pub fn openai_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("specs/openai/openapi.normalized.json", "urn:openai"))
}

pub fn check_response(what: &str, response: &ChatCompletionResponse) {
    openai_spec().check(
        "/components/schemas/CreateChatCompletionResponse",
        what,
        &serde_json::to_value(response).unwrap(),
    );
}

pub fn check_chunks(what: &str, chunks: &[ChatCompletionChunk]) {
    for chunk in chunks {
        openai_spec().check(
            "/components/schemas/CreateChatCompletionStreamResponse",
            what,
            &serde_json::to_value(chunk).unwrap(),
        );
    }
}

/// A family's native mock with the key [`KEY`], and adapters pointed at it.
pub struct Harness {
    pub server: MockServer,
    pub prefix: &'static str,
}

impl Harness {
    pub async fn start(prefix: &'static str) -> Harness {
        let server = MockServer::start(MockOptions {
            api_key: Some(KEY.to_owned()),
            ..MockOptions::default()
        })
        .await
        .unwrap();
        Harness { server, prefix }
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
        self.provider_with_key(model, KEY)
    }

    pub fn provider_with_key(&self, model: &str, key: &str) -> AnyProvider {
        let http = llm_providers::http_client::build_http_client().unwrap();
        AnyProvider::build(&self.target(model, key), &http).unwrap()
    }

    /// The body of the last request the mock received.
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
    let mut stream = provider.chat_stream(request).await.unwrap();
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

pub fn arguments_of(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter_map(|t| t.function.as_ref()?.arguments.as_deref())
        .collect()
}

pub fn finish_of(chunks: &[ChatCompletionChunk]) -> Option<FinishReason> {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .find_map(|c| c.finish_reason)
}

pub fn user(text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new("ignored", vec![ChatMessage::text(Role::User, text)])
}

pub fn weather_tool() -> Tool {
    serde_json::from_value(json!({"type": "function", "function": {
        "name": "get_weather", "description": "Get weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }}))
    .unwrap()
}

pub fn with_tools(mut request: ChatCompletionRequest) -> ChatCompletionRequest {
    request.tools = Some(vec![weather_tool()]);
    request
}

/// A conversation ending in the result of a `get_weather` call.
pub fn tool_result_request() -> ChatCompletionRequest {
    let messages: Vec<ChatMessage> = serde_json::from_value(json!([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22C sunny"}
    ]))
    .unwrap();
    with_tools(ChatCompletionRequest::new("ignored", messages))
}

/// A 1x1 PNG as a data URL.
pub const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

pub fn vision_request() -> ChatCompletionRequest {
    let mut message = ChatMessage::text(Role::User, "");
    message.content = Some(MessageContent::Parts(vec![
        ContentPart::Text {
            text: "what is this?".into(),
            cache_control: None,
        },
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: PNG_DATA_URL.into(),
                detail: None,
            },
            cache_control: None,
        },
    ]));
    ChatCompletionRequest::new("ignored", vec![message])
}

pub fn json_request() -> ChatCompletionRequest {
    let mut request = user("give me json");
    request.response_format = Some(ResponseFormat::JsonObject);
    request
}

pub fn streamed(mut request: ChatCompletionRequest) -> ChatCompletionRequest {
    request.stream = Some(true);
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

/// Runs the cases shared by every family (reasoning is family-specific: `reasoning` runs it)
/// and returns the matrix row.
pub async fn run_matrix(
    harness: &Harness,
    model: &str,
    family: Family,
    reasoning: impl AsyncFnOnce(&Harness),
) -> Vec<(&'static str, &'static str)> {
    let mut row = Vec::new();
    let mut reasoning = Some(reasoning);
    for case in CASES {
        if !case.supported_by(family) {
            row.push((case.name(), "unsupported"));
            continue;
        }
        let provider = harness.provider(model);
        match case {
            Case::Chat => {
                let response = provider.chat(user("hello")).await.unwrap();
                check_response("chat", &response);
                let choice = &response.choices[0];
                assert_eq!(choice.message.content.as_deref(), Some("echo: hello"));
                assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
                assert!(response.usage.as_ref().unwrap().prompt_tokens > 0);
            }
            Case::Stream => {
                let (chunks, error) = collect(&provider, streamed(user("hello there"))).await;
                assert!(error.is_none(), "{error:?}");
                check_chunks("stream", &chunks);
                assert_eq!(text_of(&chunks), "echo: hello there");
                assert_eq!(finish_of(&chunks), Some(FinishReason::Stop));
                assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
            }
            Case::Tools => {
                let response = provider
                    .chat(with_tools(user("Weather in Paris?")))
                    .await
                    .unwrap();
                check_response("tools", &response);
                let choice = &response.choices[0];
                assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
                let call = &choice.message.tool_calls.as_ref().unwrap()[0];
                assert_eq!(call.function.name, "get_weather");
                assert!(!call.id.is_empty());
                let arguments: Value = serde_json::from_str(&call.function.arguments).unwrap();
                assert!(arguments["city"].is_string(), "{arguments}");
            }
            Case::StreamedToolArguments => {
                let (chunks, error) =
                    collect(&provider, streamed(with_tools(user("Weather in Paris?")))).await;
                assert!(error.is_none(), "{error:?}");
                check_chunks("streamed tools", &chunks);
                let first = chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .find_map(|c| c.delta.tool_calls.as_ref())
                    .unwrap();
                assert!(first[0].id.is_some());
                assert_eq!(
                    first[0].function.as_ref().unwrap().name.as_deref(),
                    Some("get_weather")
                );
                let arguments: Value = serde_json::from_str(&arguments_of(&chunks)).unwrap();
                assert!(arguments["city"].is_string(), "{arguments}");
                assert_eq!(finish_of(&chunks), Some(FinishReason::ToolCalls));
            }
            Case::ToolResultRoundTrip => {
                let response = provider.chat(tool_result_request()).await.unwrap();
                check_response("tool result", &response);
                assert_eq!(
                    response.choices[0].message.content.as_deref(),
                    Some("echo: tool result: 22C sunny")
                );
            }
            Case::JsonMode => {
                let response = provider.chat(json_request()).await.unwrap();
                check_response("json", &response);
                let content = response.choices[0].message.content.as_deref().unwrap();
                let parsed: Value = serde_json::from_str(content).unwrap();
                assert!(parsed.is_object(), "{content}");
            }
            Case::Vision => {
                let response = provider.chat(vision_request()).await.unwrap();
                check_response("vision", &response);
                let content = response.choices[0].message.content.as_deref().unwrap();
                assert!(content.contains("[images: 1]"), "{content}");
            }
            Case::UsageInStream => {
                let (chunks, error) = collect(&provider, streamed(user("count me"))).await;
                assert!(error.is_none(), "{error:?}");
                let last = chunks.last().unwrap();
                assert!(last.is_usage_only(), "{last:?}");
                let usage = last.usage.as_ref().unwrap();
                assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
                assert_eq!(
                    usage.total_tokens,
                    usage.prompt_tokens + usage.completion_tokens
                );
                assert!(chunks[..chunks.len() - 1].iter().all(|c| c.usage.is_none()));
            }
            Case::Reasoning => {
                if let Some(reasoning) = reasoning.take() {
                    reasoning(harness).await;
                }
            }
            Case::Unauthorized => {
                let error = harness
                    .provider_with_key(model, "wrong-key")
                    .chat(user("hi"))
                    .await
                    .unwrap_err();
                assert_eq!(error.status(), 401, "{error:?}");
                assert!(!error.message.contains("wrong-key"));
            }
            Case::RateLimited => {
                let error = harness
                    .provider("error-429")
                    .chat(user("hi"))
                    .await
                    .unwrap_err();
                assert_eq!(error.status(), 429, "{error:?}");
                assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
                assert!(error.is_retryable());
                let error = harness
                    .provider("error-503")
                    .chat(user("hi"))
                    .await
                    .unwrap_err();
                assert!(error.status() >= 500 && error.is_retryable(), "{error:?}");
            }
            Case::MidStreamError => {
                let (chunks, error) = collect(
                    &harness.provider("cut-2"),
                    streamed(user("one two three four five")),
                )
                .await;
                assert!(error.is_some(), "a cut stream must end in an error");
                assert!(
                    !text_of(&chunks).is_empty(),
                    "chunks before the cut are delivered"
                );
                let (_, error) = collect(&harness.provider("garbage"), streamed(user("x"))).await;
                assert!(error.is_some(), "garbage must end in an error");
            }
        }
        row.push((case.name(), "pass"));
    }
    row
}

/// Drops nulls, empty arrays and empty objects, recursively: "equal after dropping defaults".
pub fn without_defaults(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), without_defaults(v)))
                .filter(|(_, v)| !is_default(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_defaults).collect()),
        other => other.clone(),
    }
}

fn is_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// The SDK reference request `fixtures/sdk-reference-requests/<provider>/<scenario>.json`.
pub fn reference_request(provider: &str, scenario: &str) -> Value {
    let path = kit()
        .join("fixtures/sdk-reference-requests")
        .join(provider)
        .join(format!("{scenario}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The requests of the four reference scenarios, as an OpenAI client would write them.
pub fn reference_scenarios() -> Vec<(&'static str, ChatCompletionRequest)> {
    let basic: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "ignored",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello"}],
        "max_tokens": 256, "stop": ["END"], "temperature": 0.2
    }))
    .unwrap();
    let stream = streamed(user("Hello"));
    let mut tools = with_tools(user("Weather in Paris?"));
    tools.tool_choice = Some(llm_types::ToolChoice::Mode("auto".into()));
    let mut tool_result = tool_result_request();
    if let Some(tools) = tool_result.tools.as_mut() {
        for tool in tools {
            if let Some(function) = tool.function.as_mut() {
                function.description = None;
            }
        }
    }
    vec![
        ("basic", basic),
        ("stream", stream),
        ("tools", tools),
        ("tool_result", tool_result),
    ]
}

/// One recorded exchange of a pydantic-ai cassette.
pub struct Recorded {
    pub file: String,
    pub index: usize,
    pub uri: String,
    pub body: String,
}

/// The `interactions[].response` bodies of the pydantic-ai cassettes in `dir`.
pub fn cassette_responses(dir: &str) -> Vec<Recorded> {
    let dir = kit().join("fixtures/pydantic-ai").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (index, interaction) in yaml["interactions"]
            .as_sequence()
            .unwrap()
            .iter()
            .enumerate()
        {
            let response = &interaction["response"];
            let text = if let Some(parsed) = response.get("parsed_body") {
                serde_json::to_string(&serde_json::to_value(parsed).unwrap()).unwrap()
            } else {
                response["body"]["string"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            out.push(Recorded {
                file: name.clone(),
                index,
                uri: interaction["request"]["uri"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                body: text,
            });
        }
    }
    out
}
