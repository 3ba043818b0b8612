//! The Gemini and Vertex AI part of the kit: the key and service account the mock knows,
//! Vertex's Discovery document turned into a closed JSON Schema, and the Google mock with
//! adapters of both families pointed at it.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use llm_mock_upstream::{MockServer, RecordedRequest};
use llm_providers::{AnyProvider, ProviderTarget, Secret, VertexSettings};
use serde_json::{Map, Value, json};

use super::{Spec, build, read_kit, start_mock};

/// The key the mock expects (Gemini's `x-goog-api-key`).
pub const KEY: &str = "AIza-test-key-0123456789";

/// The committed test service account (its public half is what the mock verifies with).
pub fn service_account() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/mock-upstream/fixtures/google/test-service-account.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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

/// Which Google family a test drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Google {
    Gemini,
    Vertex,
}

pub const BOTH: [Google; 2] = [Google::Gemini, Google::Vertex];

/// The mock, with the key [`KEY`].
pub struct GoogleHarness {
    pub server: MockServer,
}

impl GoogleHarness {
    pub async fn start() -> GoogleHarness {
        GoogleHarness {
            server: start_mock(Some(KEY)).await,
        }
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
