//! The Bedrock family's part of the kit: the mock started with the credentials it verifies
//! SigV4 signatures with, the botocore service model as a validator, and the requests of
//! every scenario.

use std::sync::OnceLock;

use llm_mock_upstream::MockServer;
use llm_providers::bedrock::Bedrock;
use llm_providers::{AwsSettings, ProviderTarget, Secret};
use llm_types::{ChatCompletionRequest, ChatMessage, Role, Stop};
use serde_json::json;

use super::{
    Spec, image_request, start_mock, tool_conversation, user, weather_tool, with_json_schema,
};

/// The credentials the Bedrock mock verifies signatures with (AWS's documentation example).
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

pub fn bedrock_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("specs/bedrock-runtime/bedrock-runtime.schema.json", "urn:x"))
}

/// The mock, and Bedrock targets pointing at it.
pub struct BedrockHarness {
    pub mock: MockServer,
    pub http: reqwest::Client,
}

impl BedrockHarness {
    pub async fn start() -> BedrockHarness {
        BedrockHarness {
            mock: start_mock(None).await,
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

pub fn tools_request() -> ChatCompletionRequest {
    let mut request = user("Weather in Paris?");
    request.tools = Some(vec![weather_tool(Some("Get weather"))]);
    request.tool_choice = Some(llm_types::ToolChoice::Mode("auto".into()));
    request
}

pub fn tool_result_request() -> ChatCompletionRequest {
    tool_conversation("tooluse_1", r#"{"city":"Paris"}"#)
}

/// A 1x1 PNG.
pub const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

pub fn vision_request() -> ChatCompletionRequest {
    image_request(
        "What is this?",
        &[&format!("data:image/png;base64,{PIXEL}")],
    )
}

pub fn json_request() -> ChatCompletionRequest {
    with_json_schema(
        user("Give me a city"),
        "city",
        json!({"type": "object", "properties": {"name": {"type": "string"}, "population": {"type": "integer"}}, "required": ["name"]}),
        Some(true),
    )
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
