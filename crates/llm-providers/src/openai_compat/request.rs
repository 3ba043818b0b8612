//! The outgoing request body: the client's request with the deployment's model and host quirks.

use llm_types::{ChatCompletionRequest, Error, StreamOptions};

use crate::hosts::Host;

/// Serializes `request` for the host: the deployment's model name, `max_completion_tokens`
/// renamed where the host knows only `max_tokens`, and for streams a request for the usage
/// chunk (which we need for accounting even when the client did not ask for it).
pub(crate) fn chat_body(
    host: &Host,
    upstream_model: &str,
    mut request: ChatCompletionRequest,
    stream: bool,
) -> Result<Vec<u8>, Error> {
    upstream_model.clone_into(&mut request.model);
    request.stream = stream.then_some(true);
    if stream && host.quirks.stream_usage_option {
        request
            .stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
    } else {
        request.stream_options = None;
    }
    if host.quirks.max_tokens_only
        && let Some(max) = request.max_completion_tokens.take()
    {
        request.max_tokens = Some(max);
    }
    serde_json::to_vec(&request)
        .map_err(|e| Error::internal(format!("cannot encode the chat request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::find_host;
    use llm_types::{ChatMessage, Role};
    use serde_json::{Value, json};

    fn body(host: &str, stream: bool, edit: impl FnOnce(&mut ChatCompletionRequest)) -> Value {
        let mut request =
            ChatCompletionRequest::new("public-name", vec![ChatMessage::text(Role::User, "hi")]);
        edit(&mut request);
        let bytes = chat_body(find_host(host).unwrap(), "upstream-model", request, stream).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    type Edit = Box<dyn FnOnce(&mut ChatCompletionRequest)>;

    #[test]
    fn builds_the_upstream_body() {
        let messages = json!([{"role": "user", "content": "hi"}]);
        let cases: Vec<(&str, bool, Edit, Value)> = vec![
            (
                "openai",
                false,
                Box::new(|_| {}),
                json!({"model": "upstream-model", "messages": messages}),
            ),
            (
                "openai",
                true,
                Box::new(|_| {}),
                json!({"model": "upstream-model", "messages": messages, "stream": true,
                       "stream_options": {"include_usage": true}}),
            ),
            (
                "mistral",
                true,
                Box::new(|r| r.max_completion_tokens = Some(5)),
                json!({"model": "upstream-model", "messages": messages, "stream": true, "max_tokens": 5}),
            ),
            (
                "openai",
                false,
                Box::new(|r| {
                    r.extra.insert("vendor_flag".into(), json!(1));
                }),
                json!({"model": "upstream-model", "messages": messages, "vendor_flag": 1}),
            ),
        ];
        for (host, stream, edit, expected) in cases {
            assert_eq!(body(host, stream, edit), expected, "{host} stream={stream}");
        }
    }

    /// Content parts reach the host exactly as the client wrote them: `cache_control` on a
    /// part is forwarded (hosts such as OpenRouter read it), and absent where it was absent.
    #[test]
    fn forwards_part_cache_control_unchanged() {
        let messages = json!([
            {"role": "system", "content": [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [
                {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}, "cache_control": {"type": "ephemeral"}},
                {"type": "file", "file": {"file_id": "f1"}, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "q"}]}]);
        let request: ChatCompletionRequest =
            serde_json::from_value(json!({"model": "public-name", "messages": messages})).unwrap();
        for host in ["openai", "openrouter"] {
            let bytes = chat_body(find_host(host).unwrap(), "m", request.clone(), false).unwrap();
            let sent: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(sent["messages"], messages, "{host}");
        }
    }
}
