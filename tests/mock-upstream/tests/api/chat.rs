//! Chat completions over HTTP: plain, streamed, tools, structured output, bad requests.

use serde_json::{Value, json};

use crate::support::{post, post_ok, server, stream, user};

#[tokio::test]
async fn answers_a_chat_completion() {
    let server = server().await;
    let body = post_ok(
        &server,
        "/chat/completions",
        &user("gpt-4o-mini", "hello there"),
    )
    .await;
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(body["created"].is_u64());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "echo: hello there", "refusal": null, "annotations": []})
    );
    let usage = &body["usage"];
    assert_eq!(
        [
            &usage["prompt_tokens"],
            &usage["completion_tokens"],
            &usage["total_tokens"]
        ],
        [2, 3, 5]
    );
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);
}

#[tokio::test]
async fn shapes_follow_the_request() {
    let server = server().await;
    // (request changes, expected content of every choice, finish reason, number of choices)
    let cases = [
        (json!({"max_tokens": 2}), "echo: one", "length", 1),
        (
            json!({"max_completion_tokens": 1, "n": 2}),
            "echo:",
            "length",
            2,
        ),
        (json!({"n": 3}), "echo: one two three", "stop", 3),
        (
            json!({"response_format": {"type": "json_object"}}),
            r#"{"echo":"one two three"}"#,
            "stop",
            1,
        ),
    ];
    for (extra, content, finish, n) in cases {
        let mut request = user("gpt-4o-mini", "one two three");
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        let body = post_ok(&server, "/chat/completions", &request).await;
        let choices = body["choices"].as_array().unwrap();
        assert_eq!(choices.len(), n, "request {request}");
        for (i, choice) in choices.iter().enumerate() {
            assert_eq!(choice["index"], i, "request {request}");
            assert_eq!(choice["message"]["content"], content, "request {request}");
            assert_eq!(choice["finish_reason"], finish, "request {request}");
        }
    }
}

#[tokio::test]
async fn serves_paths_without_the_v1_prefix() {
    let server = server().await;
    let url = format!("http://{}/chat/completions", server.addr());
    let response = crate::support::client()
        .post(url)
        .json(&user("m", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn streams_words_then_finish_then_usage() {
    let server = server().await;
    let mut request = user("gpt-4o-mini", "hello streaming world");
    request["stream"] = json!(true);
    request["stream_options"] = json!({"include_usage": true});
    let stream = stream(&server, &request).await;
    assert!(stream.done, "stream must end with [DONE]");

    let chunks = &stream.chunks;
    // role chunk, 4 word chunks, finish chunk, usage chunk
    assert_eq!(chunks.len(), 7, "{chunks:#?}");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "");
    let words: Vec<&str> = chunks[1..5]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["echo: ", "hello ", "streaming ", "world"]);
    assert_eq!(chunks[5]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");
    for chunk in &chunks[..6] {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], chunks[0]["id"]);
        assert_eq!(chunk["model"], "gpt-4o-mini");
        assert!(chunk["created"].is_u64());
        assert_eq!(chunk["usage"], Value::Null);
        assert!(chunk.as_object().unwrap().contains_key("usage"));
    }
    let last = &chunks[6];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 3);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert_eq!(last["usage"]["total_tokens"], 7);

    // The streamed text is exactly the non-streamed reply.
    let plain = post_ok(
        &server,
        "/chat/completions",
        &user("gpt-4o-mini", "hello streaming world"),
    )
    .await;
    assert_eq!(stream.content(), plain["choices"][0]["message"]["content"]);
}

#[tokio::test]
async fn streams_without_usage_unless_asked() {
    let server = server().await;
    let mut request = user("gpt-4o-mini", "hi");
    request["stream"] = json!(true);
    let stream = stream(&server, &request).await;
    assert!(stream.done);
    assert!(stream.chunks.iter().all(|c| c.get("usage").is_none()));
    assert!(
        stream
            .chunks
            .iter()
            .all(|c| !c["choices"].as_array().unwrap().is_empty())
    );
}

fn weather_request() -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "weather in Paris?"}],
        "tools": [{"type": "function", "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "detailed": {"type": "boolean"}
                },
                "required": ["city", "days", "unit"]
            }
        }}]
    })
}

#[tokio::test]
async fn calls_a_tool() {
    let server = server().await;
    let body = post_ok(&server, "/chat/completions", &weather_request()).await;
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        arguments,
        json!({"city": "mock", "days": 1, "unit": "celsius"})
    );

    // Answering with the tool's result gets a text reply.
    let mut follow_up = weather_request();
    let messages = follow_up["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21C"}));
    let body = post_ok(&server, "/chat/completions", &follow_up).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "echo: tool result: sunny, 21C"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn streams_a_tool_call_whose_arguments_concatenate_to_json() {
    let server = server().await;
    let plain = post_ok(&server, "/chat/completions", &weather_request()).await;
    let mut request = weather_request();
    request["stream"] = json!(true);
    let stream = stream(&server, &request).await;
    assert!(stream.done);

    let first = &stream.chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    let header = &first["tool_calls"][0];
    assert_eq!(header["index"], 0);
    assert_eq!(
        header["id"],
        plain["choices"][0]["message"]["tool_calls"][0]["id"]
    );
    assert_eq!(header["function"]["name"], "get_weather");
    assert_eq!(header["function"]["arguments"], "");
    for chunk in &stream.chunks[1..stream.chunks.len() - 1] {
        let call = &chunk["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(
            call.as_object().unwrap().len(),
            2,
            "only index and function: {call}"
        );
    }
    let last = stream.chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");

    let arguments = stream.arguments();
    assert!(stream.chunks.len() > 3, "arguments come in several pieces");
    let parsed: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(
        arguments,
        plain["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    );
    assert_eq!(parsed["city"], "mock");
}

#[tokio::test]
async fn required_tool_choice_calls_every_tool() {
    let server = server().await;
    let mut request = weather_request();
    request["tools"].as_array_mut().unwrap().push(json!({"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}));
    request["tool_choice"] = json!("required");
    let body = post_ok(&server, "/chat/completions", &request).await;
    let names: Vec<&Value> = body["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["function"]["name"])
        .collect();
    assert_eq!(names, [&json!("get_weather"), &json!("get_time")]);

    request["stream"] = json!(true);
    let stream = stream(&server, &request).await;
    let headers: Vec<(u64, &str)> = stream
        .chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0/delta/tool_calls/0"))
        .filter_map(|t| Some((t["index"].as_u64()?, t.pointer("/function/name")?.as_str()?)))
        .collect();
    assert_eq!(headers, [(0, "get_weather"), (1, "get_time")]);
}

#[tokio::test]
async fn json_schema_output_parses_and_fits_the_schema() {
    let server = server().await;
    let mut request = user("gpt-4o-mini", "describe a person");
    request["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "person", "strict": true, "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "address": {"$ref": "#/$defs/Address"}
        },
        "required": ["name", "age", "tags", "address"],
        "additionalProperties": false,
        "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}, "kind": {"enum": ["home", "work"]}}}}
    }}});
    let body = post_ok(&server, "/chat/completions", &request).await;
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(content).unwrap();
    assert_eq!(
        parsed,
        json!({"name": "mock", "age": 1, "tags": [], "address": {"city": "mock", "kind": "home"}})
    );

    request["stream"] = json!(true);
    let streamed = stream(&server, &request).await;
    assert_eq!(streamed.content(), content);
}

#[tokio::test]
async fn counts_images_and_audio() {
    let server = server().await;
    let request = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is"},
        {"type": "text", "text": "this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    ]}]});
    let body = post_ok(&server, "/chat/completions", &request).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "echo: what is this? [images: 1] [audio: 1]"
    );
}

#[tokio::test]
async fn rejects_bad_requests_with_openai_errors() {
    let server = server().await;
    let client = crate::support::client();
    let url = format!("{}/chat/completions", server.base_url());
    let cases = [
        ("{not json".to_owned(), Value::Null),
        (
            json!({"messages": [{"role": "user", "content": "x"}]}).to_string(),
            json!("model"),
        ),
        (
            json!({"model": "gpt-4o-mini"}).to_string(),
            json!("messages"),
        ),
    ];
    for (body, param) in cases {
        let response = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "body {body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(
            error["error"]["type"], "invalid_request_error",
            "body {body}"
        );
        assert_eq!(error["error"]["param"], param, "body {body}");
        assert!(error["error"]["message"].is_string());
        assert!(error["error"].as_object().unwrap().contains_key("code"));
    }
    let response = post(&server, "/nope", &json!({})).await;
    assert_eq!(response.status(), 404);
}
