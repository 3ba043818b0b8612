//! OpenAI request → Gemini body, one `check(input, expected)` table.

use super::*;
use crate::params::ParamPolicy;
use serde_json::{Value, json};

fn check(request: Value, expected: Value) {
    let parsed: ChatCompletionRequest = serde_json::from_value(request.clone()).unwrap();
    let body = build(&parsed, &ParamPolicy::default(), "gemini").unwrap();
    assert_eq!(serde_json::to_value(&body).unwrap(), expected, "{request}");
}

fn refuse(request: Value, param: &str) {
    let parsed: ChatCompletionRequest = serde_json::from_value(request.clone()).unwrap();
    let error = build(&parsed, &ParamPolicy::default(), "gemini").unwrap_err();
    assert_eq!(error.param.as_deref(), Some(param), "{request}");
    assert!(
        build(&parsed, &ParamPolicy::new(true, &[]), "gemini").is_ok()
            || param.starts_with("messages")
            || param == "reasoning_effort",
        "{request}"
    );
}

#[test]
fn translates_requests() {
    let weather =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let cases = vec![
        (
            json!({"model": "m", "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hello"}],
                "temperature": 0.2, "max_tokens": 256, "stop": ["END"]}),
            json!({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
                   "systemInstruction": {"role": "user", "parts": [{"text": "You are terse."}]},
                   "generationConfig": {"temperature": 0.2, "maxOutputTokens": 256, "stopSequences": ["END"]}}),
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "Weather in Paris?"}],
                   "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": weather}}],
                   "tool_choice": "auto"}),
            json!({"contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
                   "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Get weather", "parametersJsonSchema": weather}]}],
                   "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}}}),
        ),
        (
            json!({"model": "m", "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1__thought__c2ln", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
                {"role": "tool", "tool_call_id": "call_1__thought__c2ln", "content": "22C sunny"},
                {"role": "tool", "tool_call_id": "call_2", "content": "{\"time\": \"noon\"}"}],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
            json!({"contents": [
                {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "get_time"}}]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"result": "22C sunny"}}},
                    {"functionResponse": {"name": "get_time", "response": {"time": "noon"}}}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}}),
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?x=1"}},
                {"type": "image_url", "image_url": {"url": "gs://bucket/img"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]}),
            json!({"contents": [{"role": "user", "parts": [
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?x=1"}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/img"}},
                {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}}]}]}),
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                   "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": weather}},
                   "n": 2, "seed": 7, "top_p": 0.9, "presence_penalty": 0.1, "frequency_penalty": 0.2,
                   "max_completion_tokens": 9, "max_tokens": 5, "stop": "STOP", "reasoning_effort": "low"}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                   "generationConfig": {"topP": 0.9, "maxOutputTokens": 9, "stopSequences": ["STOP"],
                       "candidateCount": 2, "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
                       "responseMimeType": "application/json", "responseJsonSchema": weather,
                       "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}}}),
        ),
        (
            json!({"model": "m", "messages": [{"role": "developer", "content": "a"}, {"role": "user", "content": "x"}],
                   "response_format": {"type": "json_object"}, "reasoning_effort": "none", "top_k": 3,
                   "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                   "systemInstruction": {"role": "user", "parts": [{"text": "a"}]},
                   "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
                   "generationConfig": {"topK": 3, "responseMimeType": "application/json",
                       "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": false}}}),
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                   "thinking": {"type": "enabled", "budget_tokens": 500}}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                   "generationConfig": {"thinkingConfig": {"thinkingBudget": 500, "includeThoughts": true}}}),
        ),
    ];
    for (request, expected) in cases {
        check(request, expected);
    }
}

#[test]
fn refuses_what_gemini_cannot_express() {
    let user = json!([{"role": "user", "content": "x"}]);
    let cases = [
        (
            json!({"model": "m", "messages": user, "logit_bias": {"1": 2}}),
            "logit_bias",
        ),
        (
            json!({"model": "m", "messages": user, "logprobs": true}),
            "logprobs",
        ),
        (
            json!({"model": "m", "messages": user, "parallel_tool_calls": false}),
            "parallel_tool_calls",
        ),
        (
            json!({"model": "m", "messages": user, "reasoning_effort": "extreme"}),
            "reasoning_effort",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{bad"}}]}]}),
            "messages[0].tool_calls[0].function.arguments",
        ),
    ];
    for (request, param) in cases {
        refuse(request, param);
    }
}
