"""Anthropic family end to end: the official `openai` SDK -> the gateway -> the mock of Anthropic's Messages API.

A LiteLLM `config.yaml` points `anthropic/...` deployments at the mock (`api_base` is the mock's root; the
adapter appends `/v1/messages`). Every OpenAI body the gateway returns is validated against the OpenAI spec, and
the mock's log shows what the gateway sent upstream (`x-api-key`, `anthropic-version`, the Messages body)."""

import json

import pytest

from family_support import (WEATHER, raw_stream, running_gateway, running_mock, sdk_client, stream_chunks,
                            streamed_text, tool_call_deltas, tool_round_trip)
from support import PNG_DATA_URL, UPSTREAM_KEY, UPSTREAM_KEY_ENV, assemble_tool_calls, create_chat, nonce, user

CHAT = "claude"
RATE_LIMITED = "claude-rate-limited"
OVERLOADED_MID_STREAM = "claude-overloaded"


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    with running_mock(tmp_path_factory, "anthropic", api_key=UPSTREAM_KEY) as mock:
        yield mock


@pytest.fixture(scope="module")
def gateway(mock, tmp_path_factory):
    def deployment(name: str, model: str) -> dict:
        return {"model_name": name, "litellm_params": {
            "model": f"anthropic/{model}", "api_base": mock.process.url, "api_key": f"os.environ/{UPSTREAM_KEY_ENV}"}}

    model_list = [
        deployment(CHAT, "claude-sonnet-4-5"),
        deployment(RATE_LIMITED, "error-429"),
        deployment(OVERLOADED_MID_STREAM, "overloaded-after-2"),
    ]
    with running_gateway(tmp_path_factory, "anthropic", model_list) as process:
        yield process


@pytest.fixture
def client(gateway):
    with sdk_client(gateway) as c:
        yield c


def test_chat_goes_out_as_an_anthropic_message(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, max_tokens=100, stop=["NEVER"],
                                   messages=[{"role": "system", "content": "be brief"}, user(f"hello {marker}")])
    choice = completion.choices[0]
    assert choice.message.content == f"echo: hello {marker}"
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens == 4 and completion.usage.completion_tokens == 3
    sent = mock.one_request_with(marker)
    assert sent["path"] == "/v1/messages"
    headers = {k.lower(): v for k, v in sent["headers"]}
    assert headers["x-api-key"] == UPSTREAM_KEY and headers["anthropic-version"] == "2023-06-01"
    assert sent["body"] == {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "be brief",
                            "stop_sequences": ["NEVER"], "messages": [user(f"hello {marker}")]}


def test_stream_with_usage(client, spec):
    marker = nonce()
    chunks = stream_chunks(client, spec, model=CHAT, messages=[user(f"one two {marker}")],
                           stream_options={"include_usage": True})
    text = streamed_text(chunks)
    assert text == f"echo: one two {marker}"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 3 + 4
    # The SDK's own parsing of the same stream.
    streamed = client.chat.completions.create(model=CHAT, messages=[user(f"again {marker}")], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == f"echo: again {marker}"


def test_tools_stream_and_round_trip(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, tools=[WEATHER], tool_choice="required",
                                   parallel_tool_calls=False, messages=[user(f"weather? {marker}")])
    (call,) = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "mock"}
    sent = mock.one_request_with(marker)["body"]
    assert sent["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}

    chunks = stream_chunks(client, spec, model=CHAT, tools=[WEATHER], messages=[user(f"weather? {nonce()}")])
    deltas = tool_call_deltas(chunks)
    assert len(deltas) > 2, "arguments arrive in pieces"
    (streamed,) = assemble_tool_calls(deltas).values()
    assert streamed["name"] == "get_weather" and streamed["id"] and streamed["type"] == "function"
    assert json.loads(streamed["arguments"]) == {"city": "mock"}

    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, tools=[WEATHER], messages=tool_round_trip(user(f"weather? {marker}"), call))
    assert completion.choices[0].message.content == "echo: tool result: 22C sunny"
    sent = mock.one_request_with(marker)["body"]
    assert sent["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call.id, "content": "22C sunny"}]}


def test_json_mode_vision_and_reasoning(client, spec, mock):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    completion, _, _ = create_chat(client, spec, model=CHAT, messages=[user(f"a city {nonce()}")],
                                   response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema}})
    assert json.loads(completion.choices[0].message.content) == {"city": "mock"}
    assert completion.choices[0].finish_reason == "stop"

    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, messages=[{"role": "user", "content": [
        {"type": "text", "text": f"what is this {marker}"}, {"type": "image_url", "image_url": {"url": PNG_DATA_URL}}]}])
    assert completion.choices[0].message.content == f"echo: what is this {marker} [images: 1]"
    image = mock.one_request_with(marker)["body"]["messages"][0]["content"][1]
    assert image["type"] == "image" and image["source"]["type"] == "base64"
    assert image["source"]["media_type"] == "image/png"

    marker = nonce()
    _, body, _ = create_chat(client, spec, model=CHAT, reasoning_effort="low", messages=[user(f"think {marker}")])
    assert body["choices"][0]["message"]["reasoning_content"] == f"thinking about: think {marker}"
    assert mock.one_request_with(marker)["body"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    # The signed thinking block comes back as LiteLLM's thinking_blocks, and handed back on the
    # assistant turn it reaches Anthropic with its signature.
    message = body["choices"][0]["message"]
    [block] = message["thinking_blocks"]
    assert block["type"] == "thinking" and block["thinking"] == message["reasoning_content"] and block["signature"]
    again = nonce()
    create_chat(client, spec, model=CHAT, reasoning_effort="low", messages=[
        user(f"think {marker}"),
        {"role": "assistant", "content": message["content"], "thinking_blocks": message["thinking_blocks"]},
        user(f"more {again}")])
    assert mock.one_request_with(again)["body"]["messages"][1]["content"][0] == block


def test_errors_and_embeddings(client, gateway):
    import openai

    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=RATE_LIMITED, messages=[user("hi")])
    assert raised.value.response.headers.get("retry-after") == "7"

    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model=CHAT, input="hi")
    assert "embeddings are not supported by anthropic" in raised.value.response.text

    text, transcript = raw_stream(gateway, OVERLOADED_MID_STREAM, [user("one two three four")])
    assert transcript.errors, f"the mid-stream overload ends the stream with an error event: {text!r}"
