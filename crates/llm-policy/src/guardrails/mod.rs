//! Guardrails: checks on what goes to a model and what comes back, configured in LiteLLM's
//! `guardrails:` list shape ([`GuardrailSpec::from_litellm`]).
//!
//! - built-ins: `pii` (email, phone, credit card with Luhn, IBAN with mod-97, US SSN, IP,
//!   secrets; mask or block), `regex` and `keywords` deny lists, `max_input_tokens`;
//! - `webhook`: the user's HTTP service decides, through the gateway's [`WebhookClient`];
//! - stages: `pre_call` (may block or rewrite the request), `during_call` (read-only, run
//!   beside the upstream call), `post_call` (the complete response) and streams
//!   ([`StreamGuard`]: only a short tail of each choice's text is held back).
//!
//! [`Guardrails`] is the engine the gateway holds: it selects a request's guardrails
//! (default-on, the key's, the team's, the request's own), runs them, counts and logs every
//! decision without the text it looked at. A refusal is a [`Blocked`], which becomes the
//! OpenAI-shaped 400 with `code: guardrail_blocked`.

mod config;
mod counters;
mod detect;
mod engine;
pub mod keywords;
mod masks;
pub mod pii;
pub mod regex_rule;
mod stream;
mod webhook;

pub use config::{
    Action, ConfigError, DEFAULT_WEBHOOK_TIMEOUT, GuardrailKind, GuardrailSpec, Stage, WebhookSpec,
};
pub use counters::{Decision, GuardrailCount};
pub use detect::{Detector, Found};
pub use engine::{Guardrails, Selection};
pub use masks::Masks;
pub use pii::{Entity, PiiDetector};
pub use stream::{STREAM_WINDOW, StreamGuard};
pub use webhook::{NoWebhookClient, WebhookClient};

use llm_types::{ChatCompletionRequest, ChatMessage, Error};

/// The error code of a refusal by a guardrail.
pub const BLOCKED_CODE: &str = "guardrail_blocked";

/// What the guardrails know of a call besides its messages (sent to webhooks, used in logs).
#[derive(Debug, Clone, Default)]
pub struct CallInfo {
    /// For log lines only.
    pub request_id: String,
    /// The model group the client asked for.
    pub model: String,
    pub key_alias: Option<String>,
    pub team_id: Option<String>,
    /// The key's metadata (LiteLLM's `metadata` on `/key/generate`).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The caller's prompt-token estimate; the request's own estimate when `None`.
    pub prompt_tokens: Option<u64>,
    /// The request's messages after `pre_call`, for post-call webhooks (which see the
    /// conversation besides the response). Fill it only when
    /// [`Guardrails::post_call_needs_messages`] says so: it is a copy.
    pub request_messages: Vec<ChatMessage>,
}

/// A refusal: which guardrail and why (never the text it matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub guardrail: String,
    pub reason: String,
}

impl Blocked {
    /// The 400 the client gets: `invalid_request_error`, `code: guardrail_blocked`.
    pub fn into_error(self) -> Error {
        Error::invalid_request(format!(
            "blocked by guardrail `{}`: {}",
            self.guardrail, self.reason
        ))
        .with_code(BLOCKED_CODE)
    }
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "guardrail `{}`: {}", self.guardrail, self.reason)
    }
}

/// Takes the per-request guardrail names out of the body (`"guardrails": ["name", ...]`, as
/// LiteLLM clients send it), so they are not forwarded upstream.
pub fn take_requested(request: &mut ChatCompletionRequest) -> Result<Vec<String>, Error> {
    let Some(value) = request.extra.remove("guardrails") else {
        return Ok(Vec::new());
    };
    let names: Option<Vec<String>> = value
        .as_array()
        .and_then(|list| list.iter().map(|v| v.as_str().map(str::to_owned)).collect());
    names.ok_or_else(|| {
        Error::invalid_param(
            "guardrails",
            "`guardrails` must be a list of guardrail names",
        )
    })
}
