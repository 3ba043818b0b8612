//! The webhook guardrail: POST the messages (and, after the call, the response) to the user's
//! service and do what it answers: `allow`, `block` with a reason, or `modify`.
//!
//! llm-policy has no HTTP client of its own (it sits below the provider layer): the gateway
//! hands one in as a [`WebhookClient`]. The deadline is enforced here as well, so a client
//! that ignores it cannot hold a request.

use futures_util::future::BoxFuture;
use llm_types::{ChatCompletionResponse, ChatMessage};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

use super::CallInfo;
use super::config::{Stage, WebhookSpec};

/// How llm-policy sends a webhook: the gateway implements it with its HTTP client.
pub trait WebhookClient: Send + Sync {
    /// POSTs `body` (JSON) to `url` with `headers`; answers the status and the body, or a
    /// transport error. `timeout` bounds the whole exchange.
    fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<(u16, Vec<u8>), String>>;
}

/// A client for configurations without webhook guardrails: every call fails (and so follows
/// the guardrail's `fail_open`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWebhookClient;

impl WebhookClient for NoWebhookClient {
    fn post(
        &self,
        _url: &str,
        _headers: &[(String, String)],
        _body: Vec<u8>,
        _timeout: Duration,
    ) -> BoxFuture<'_, Result<(u16, Vec<u8>), String>> {
        Box::pin(async { Err("no webhook client configured".to_owned()) })
    }
}

/// What the service decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allow,
    Block(String),
    /// New messages (pre_call).
    Messages(Vec<ChatMessage>),
    /// New content for the first choice (post_call).
    Content(String),
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Answer {
    Allow,
    Block {
        #[serde(default)]
        reason: Option<String>,
    },
    Modify {
        #[serde(default)]
        messages: Option<Vec<ChatMessage>>,
        #[serde(default)]
        content: Option<String>,
    },
}

/// Why a webhook call produced no usable answer (the reason names no request text).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure(pub String);

/// Calls the webhook for `stage` and reads its answer.
pub async fn call(
    client: &dyn WebhookClient,
    spec: &WebhookSpec,
    stage: Stage,
    ctx: &CallInfo,
    messages: &[ChatMessage],
    response: Option<&ChatCompletionResponse>,
) -> Result<Verdict, Failure> {
    let mut body = json!({
        "stage": stage.as_str(),
        "model": ctx.model,
        "key_alias": ctx.key_alias,
        "team_id": ctx.team_id,
        "metadata": ctx.metadata,
        "messages": messages,
    });
    if let Some(response) = response {
        body["response"] = serde_json::to_value(response).unwrap_or_default();
    }
    let body = serde_json::to_vec(&body).map_err(|e| Failure(format!("encoding: {e}")))?;
    let mut headers = spec.headers.clone();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    let sent = client.post(&spec.url, &headers, body, spec.timeout);
    let (status, bytes) = match tokio::time::timeout(spec.timeout, sent).await {
        Err(_) => return Err(Failure("timed out".to_owned())),
        Ok(Err(error)) => return Err(Failure(format!("transport error: {error}"))),
        Ok(Ok(answer)) => answer,
    };
    if !(200..300).contains(&status) {
        return Err(Failure(format!("answered HTTP {status}")));
    }
    let answer: Answer =
        serde_json::from_slice(&bytes).map_err(|_| Failure("unreadable answer".to_owned()))?;
    match answer {
        Answer::Allow => Ok(Verdict::Allow),
        Answer::Block { reason } => Ok(Verdict::Block(
            reason.unwrap_or_else(|| "blocked by webhook".to_owned()),
        )),
        Answer::Modify { messages, content } => match (stage, messages, content) {
            (Stage::PostCall, _, Some(content)) => Ok(Verdict::Content(content)),
            (Stage::PreCall, Some(messages), _) if !messages.is_empty() => {
                Ok(Verdict::Messages(messages))
            }
            _ => Err(Failure(format!(
                "`modify` without {} for stage {}",
                if stage == Stage::PostCall {
                    "`content`"
                } else {
                    "`messages`"
                },
                stage.as_str()
            ))),
        },
    }
}
