"""AWS Bedrock family end to end: the official `openai` SDK -> the gateway -> the mock of Bedrock Runtime.

A LiteLLM `config.yaml` points `bedrock/...` deployments at the mock (`api_base` is the mock's root; the adapter
appends `/model/{modelId}/converse`, `/converse-stream` or `/invoke`) with static AWS keys. The mock refuses any
request whose SigV4 signature it cannot verify, so every passing call proves the signing. Every OpenAI body the
gateway returns is validated against the OpenAI spec; the mock's log shows what the gateway sent upstream."""

import json

import pytest

from family_support import (WEATHER, raw_stream, running_gateway, running_mock, sdk_client, stream_chunks,
                            streamed_text, tool_call_deltas, tool_round_trip)
from support import PNG_DATA_URL, assemble_tool_calls, create_chat, nonce, user

# The credentials the mock verifies signatures with (the AWS documentation's example pair).
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"

CHAT = "claude-on-bedrock"
PROFILE = "claude-inference-profile"
WRONG_KEY = "bedrock-wrong-secret"
RATE_LIMITED = "bedrock-rate-limited"
THROTTLED_MID_STREAM = "bedrock-throttled"
TITAN = "titan-embed"
COHERE = "cohere-embed"


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    with running_mock(tmp_path_factory, "bedrock") as mock:
        yield mock


@pytest.fixture(scope="module")
def gateway(mock, tmp_path_factory):
    def deployment(name: str, model: str, secret: str = SECRET_KEY) -> dict:
        return {"model_name": name, "litellm_params": {
            "model": f"bedrock/{model}", "api_base": mock.process.url, "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": secret, "aws_region_name": "us-east-1"}}

    model_list = [
        deployment(CHAT, MODEL_ID),
        deployment(PROFILE, f"us.{MODEL_ID}"),
        deployment(WRONG_KEY, MODEL_ID, secret="not-the-secret"),
        deployment(RATE_LIMITED, "error-429"),
        deployment(THROTTLED_MID_STREAM, "throttlingException-after-2"),
        deployment(TITAN, "amazon.titan-embed-text-v2:0"),
        deployment(COHERE, "cohere.embed-english-v3"),
    ]
    with running_gateway(tmp_path_factory, "bedrock", model_list) as process:
        yield process


@pytest.fixture
def client(gateway):
    with sdk_client(gateway) as c:
        yield c


def test_chat_goes_out_as_a_signed_converse_call(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, max_tokens=100, temperature=0.2, stop=["NEVER"],
                                   messages=[{"role": "system", "content": "be brief"}, user(f"hello {marker}")])
    choice = completion.choices[0]
    assert choice.message.content == f"echo: hello {marker}"
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens == 4 and completion.usage.completion_tokens == 3
    sent = mock.one_request_with(marker)
    assert sent["path"] == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    headers = {k.lower(): v for k, v in sent["headers"]}
    assert headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date," in headers["authorization"]
    assert sent["body"] == {"messages": [{"role": "user", "content": [{"text": f"hello {marker}"}]}],
                            "system": [{"text": "be brief"}],
                            "inferenceConfig": {"maxTokens": 100, "temperature": 0.2, "stopSequences": ["NEVER"]}}

    marker = nonce()
    create_chat(client, spec, model=PROFILE, messages=[user(f"profile {marker}")])
    assert mock.one_request_with(marker)["path"] == "/model/us.anthropic.claude-3-haiku-20240307-v1%3A0/converse"


def test_stream_with_usage(client, spec, mock):
    marker = nonce()
    chunks = stream_chunks(client, spec, model=CHAT, messages=[user(f"one two {marker}")],
                           stream_options={"include_usage": True})
    text = streamed_text(chunks)
    assert text == f"echo: one two {marker}"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 3 + 4
    assert mock.one_request_with(marker)["path"].endswith("/converse-stream")
    streamed = client.chat.completions.create(model=CHAT, messages=[user(f"again {marker}")], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == f"echo: again {marker}"


def test_tools_stream_and_round_trip(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, tools=[WEATHER], tool_choice="required",
                                   messages=[user(f"weather? {marker}")])
    (call,) = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "mock"}
    sent = mock.one_request_with(marker)["body"]
    assert sent["toolConfig"]["toolChoice"] == {"any": {}}
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {"json": WEATHER["function"]["parameters"]}

    chunks = stream_chunks(client, spec, model=CHAT, tools=[WEATHER], messages=[user(f"weather? {nonce()}")])
    deltas = tool_call_deltas(chunks)
    assert len(deltas) > 2, "arguments arrive in pieces"
    (streamed,) = assemble_tool_calls(deltas).values()
    assert streamed["name"] == "get_weather" and streamed["id"] and streamed["type"] == "function"
    assert json.loads(streamed["arguments"]) == {"city": "mock"}

    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, tools=[WEATHER], messages=tool_round_trip(user(f"weather? {marker}"), call))
    assert completion.choices[0].message.content == "echo: 22C sunny"
    sent = mock.one_request_with(marker)["body"]
    assert sent["messages"][2] == {"role": "user", "content": [
        {"toolResult": {"toolUseId": call.id, "content": [{"text": "22C sunny"}], "status": "success"}}]}


def test_json_mode_vision_and_reasoning(client, spec, mock):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    completion, _, _ = create_chat(client, spec, model=CHAT, messages=[user(f"a city {nonce()}")],
                                   response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema}})
    assert json.loads(completion.choices[0].message.content) == {"city": "mock"}
    assert completion.choices[0].finish_reason == "stop"

    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT, messages=[{"role": "user", "content": [
        {"type": "text", "text": f"what is this {marker}"}, {"type": "image_url", "image_url": {"url": PNG_DATA_URL}}]}])
    assert completion.choices[0].message.content == f"echo: what is this {marker} [1 image(s)]"
    image = mock.one_request_with(marker)["body"]["messages"][0]["content"][1]
    assert image == {"image": {"format": "png", "source": {"bytes": PNG_DATA_URL.split(",", 1)[1]}}}

    marker = nonce()
    _, body, _ = create_chat(client, spec, model=CHAT, reasoning_effort="low", messages=[user(f"think {marker}")])
    assert body["choices"][0]["message"]["reasoning_content"] == f"thinking about: think {marker}"
    assert mock.one_request_with(marker)["body"]["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024}}
    # reasoningContent comes back as a signed thinking block, and handed back it is sent as one.
    message = body["choices"][0]["message"]
    [block] = message["thinking_blocks"]
    assert block["type"] == "thinking" and block["thinking"] == message["reasoning_content"] and block["signature"]
    again = nonce()
    create_chat(client, spec, model=CHAT, reasoning_effort="low", messages=[
        user(f"think {marker}"),
        {"role": "assistant", "content": message["content"], "thinking_blocks": message["thinking_blocks"]},
        user(f"more {again}")])
    assert mock.one_request_with(again)["body"]["messages"][1]["content"][0] == {
        "reasoningContent": {"reasoningText": {"text": block["thinking"], "signature": block["signature"]}}}


def test_embeddings_titan_and_cohere(client, spec, mock):
    for model in (TITAN, COHERE):
        result = client.embeddings.create(model=model, input=["hello world", "again"], encoding_format="float")
        assert len(result.data) == 2 and [d.index for d in result.data] == [0, 1]
        assert result.usage.prompt_tokens == 3
    marker = nonce()
    client.embeddings.create(model=TITAN, input=f"one {marker}", dimensions=4)
    sent = mock.one_request_with(marker)
    assert sent["path"] == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert sent["body"] == {"inputText": f"one {marker}", "dimensions": 4}
    # The SDK's default encoding (base64) is honoured too.
    assert len(client.embeddings.create(model=COHERE, input="x").data[0].embedding) == 8


def test_errors(client, gateway):
    import openai

    with pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(model=WRONG_KEY, messages=[user("hi")])
    assert "InvalidSignatureException" in raised.value.response.text
    assert "not-the-secret" not in raised.value.response.text

    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=RATE_LIMITED, messages=[user("hi")])
    assert raised.value.response.headers.get("retry-after") == "7"

    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model=CHAT, input="hi")
    assert "embeddings are not supported by bedrock" in raised.value.response.text

    text, transcript = raw_stream(gateway, THROTTLED_MID_STREAM, [user("one two three four")])
    assert transcript.errors, f"the in-stream throttlingException ends the stream with an error event: {text!r}"
