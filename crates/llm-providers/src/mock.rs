//! The built-in `mock` provider: deterministic answers without any network.
//!
//! For demos, smoke tests and load tests of the gateway itself, like LiteLLM's `mock_response`.
//! `mock/<anything>` answers with the deployment's `mock_response`, or else echoes the last
//! user message. Streams send one word per chunk; usage counts words; embeddings are
//! deterministic unit vectors.

use llm_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, Choice,
    ChunkChoice, Delta, EmbeddingsRequest, EmbeddingsResponse, Error, FinishReason, ModelRef,
    ResponseMessage, Role, Usage, unix_now,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::provider::{ChatStream, Provider};
use crate::target::ProviderTarget;

/// A mock deployment.
#[derive(Debug, Clone)]
pub struct MockProvider {
    model: Arc<str>,
    reply: Option<Arc<str>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl MockProvider {
    /// A mock for `mock/<model>`, answering `mock_response` when the target sets one.
    pub fn new(target: &ProviderTarget) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        Ok(MockProvider {
            model: Arc::from(model_ref.model),
            reply: target.mock_response.as_deref().map(Arc::from),
        })
    }

    fn reply_to(&self, request: &ChatCompletionRequest) -> (String, FinishReason) {
        let full = match &self.reply {
            Some(reply) => reply.to_string(),
            None => {
                let last_user = request
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::User)
                    .map(ChatMessage::text_content)
                    .unwrap_or_default();
                format!("Hello from the llm-gateway mock provider! You said: {last_user}")
            }
        };
        match request.max_output_tokens() {
            Some(max) if word_count(&full) > max as usize => {
                let cut: Vec<&str> = full.split_whitespace().take(max as usize).collect();
                (cut.join(" "), FinishReason::Length)
            }
            _ => (full, FinishReason::Stop),
        }
    }

    fn usage(request: &ChatCompletionRequest, reply: &str) -> Usage {
        let prompt: usize = request
            .messages
            .iter()
            .map(|m| word_count(&m.text_content()))
            .sum();
        Usage::new(prompt.max(1) as u64, word_count(reply) as u64)
    }
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

fn next_id(prefix: &str) -> String {
    format!("{prefix}-mock{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

impl Provider for MockProvider {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let (reply, finish_reason) = self.reply_to(&request);
        let usage = Self::usage(&request, &reply);
        let choices = (0..request.n.unwrap_or(1))
            .map(|index| Choice {
                index,
                message: ResponseMessage {
                    role: Role::Assistant,
                    content: Some(reply.clone()),
                    refusal: None,
                    tool_calls: None,
                    function_call: None,
                    reasoning_content: None,
                    annotations: None,
                    thinking_blocks: None,
                },
                finish_reason: Some(finish_reason),
                logprobs: None,
            })
            .collect();
        Ok(ChatCompletionResponse {
            id: next_id("chatcmpl"),
            object: "chat.completion".to_owned(),
            created: unix_now(),
            model: self.model.to_string(),
            choices,
            usage: Some(usage),
            system_fingerprint: None,
            service_tier: None,
        })
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let (reply, finish_reason) = self.reply_to(&request);
        let usage = Self::usage(&request, &reply);
        let (id, created, model) = (next_id("chatcmpl"), unix_now(), self.model.to_string());
        let chunk = |delta: Delta, finish: Option<FinishReason>, usage: Option<Usage>| {
            ChatCompletionChunk {
                id: id.clone(),
                object: "chat.completion.chunk".to_owned(),
                created,
                model: model.clone(),
                choices: if usage.is_some() {
                    Vec::new()
                } else {
                    vec![ChunkChoice {
                        index: 0,
                        delta,
                        finish_reason: finish,
                        logprobs: None,
                    }]
                },
                usage,
                system_fingerprint: None,
                service_tier: None,
            }
        };
        let mut chunks = vec![chunk(
            Delta {
                role: Some(Role::Assistant),
                content: Some(String::new()),
                ..Delta::default()
            },
            None,
            None,
        )];
        let words: Vec<&str> = reply.split_inclusive(' ').collect();
        for word in words {
            chunks.push(chunk(
                Delta {
                    content: Some(word.to_owned()),
                    ..Delta::default()
                },
                None,
                None,
            ));
        }
        chunks.push(chunk(Delta::default(), Some(finish_reason), None));
        chunks.push(chunk(Delta::default(), None, Some(usage)));
        Ok(Box::pin(futures_util::stream::iter(
            chunks.into_iter().map(Ok),
        )))
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let dimensions = request.dimensions.unwrap_or(8) as usize;
        let texts = request.input.texts();
        let tokens: usize = texts.iter().map(|t| word_count(t).max(1)).sum();
        let vectors = texts.iter().map(|t| unit_vector(t, dimensions)).collect();
        Ok(crate::embedding::render(
            vectors,
            tokens as u64,
            request.encoding_format,
            &self.model,
        ))
    }
}

/// A deterministic unit vector for `text` (FNV-1a seeded xorshift).
fn unit_vector(text: &str, dimensions: usize) -> Vec<f32> {
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    let mut vector: Vec<f32> = (0..dimensions)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2001) as f32 / 1000.0 - 1.0
        })
        .collect();
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn request(text: &str) -> ChatCompletionRequest {
        ChatCompletionRequest::new("demo", vec![ChatMessage::text(Role::User, text)])
    }

    #[tokio::test]
    async fn echoes_and_streams_the_same_text() {
        let mock = MockProvider::new(&ProviderTarget::new("mock/demo")).unwrap();
        let response = mock.chat(request("ping pong")).await.unwrap();
        let text = response.choices[0].message.content.clone().unwrap();
        assert_eq!(
            text,
            "Hello from the llm-gateway mock provider! You said: ping pong"
        );
        assert_eq!(response.usage.unwrap().completion_tokens, 10);

        let chunks: Vec<_> = mock
            .chat_stream(request("ping pong"))
            .await
            .unwrap()
            .collect()
            .await;
        let streamed: String = chunks
            .iter()
            .filter_map(|c| c.as_ref().unwrap().choices.first()?.delta.content.clone())
            .collect();
        assert_eq!(streamed, text);
        assert!(chunks.last().unwrap().as_ref().unwrap().is_usage_only());
    }

    #[tokio::test]
    async fn honours_mock_response_and_max_tokens() {
        let target = ProviderTarget {
            mock_response: Some("one two three".into()),
            ..ProviderTarget::new("mock/x")
        };
        let mock = MockProvider::new(&target).unwrap();
        let mut req = request("anything");
        req.max_tokens = Some(2);
        let response = mock.chat(req).await.unwrap();
        assert_eq!(
            response.choices[0].message.content.as_deref(),
            Some("one two")
        );
        assert_eq!(
            response.choices[0].finish_reason,
            Some(FinishReason::Length)
        );
    }

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = unit_vector("hello", 16);
        assert_eq!(a, unit_vector("hello", 16));
        assert_ne!(a, unit_vector("hellp", 16));
        let norm: f32 = a.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
