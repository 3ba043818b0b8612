"""Gemini and Vertex AI end to end: the official `openai` SDK -> the gateway -> the mock of Google's APIs.

A LiteLLM `config.yaml` points `gemini/...` deployments (key in `x-goog-api-key`) and `vertex_ai/...` deployments
(`vertex_project`, `vertex_location`, `vertex_credentials` as a service-account key file whose `token_uri` is the
mock's OAuth2 endpoint) at the mock. Every OpenAI body the gateway returns is validated against the OpenAI spec,
and the mock's log shows what the gateway sent upstream."""

import base64
import json

import openai
import pytest

from conftest import REPO
from family_support import (WEATHER, running_gateway, running_mock, sdk_client, stream_chunks, streamed_text,
                            tool_call_deltas, tool_round_trip)
from support import PNG_DATA_URL, UPSTREAM_KEY, UPSTREAM_KEY_ENV, assemble_tool_calls, create_chat, nonce, user

GEMINI = "gemini-chat"
VERTEX = "vertex-chat"
GEMINI_EMBED = "gemini-embed"
VERTEX_EMBED = "vertex-embed"
RATE_LIMITED = "gemini-rate-limited"
CUT_STREAM = "vertex-cut-stream"
VERTEX_CLAUDE = "vertex-claude"
SERVICE_ACCOUNT = REPO / "tests" / "mock-upstream" / "fixtures" / "google" / "test-service-account.json"


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    with running_mock(tmp_path_factory, "google", api_key=UPSTREAM_KEY) as mock:
        yield mock


@pytest.fixture(scope="module")
def gateway(mock, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("google-gateway")
    # The committed test key, its token endpoint pointed at the mock; given as a file path as users do.
    account = json.loads(SERVICE_ACCOUNT.read_text())
    account["token_uri"] = f"{mock.process.url}/token"
    credentials = workdir / "service-account.json"
    credentials.write_text(json.dumps(account))

    def gemini(name: str, model: str) -> dict:
        return {"model_name": name, "litellm_params": {
            "model": f"gemini/{model}", "api_base": mock.process.url, "api_key": f"os.environ/{UPSTREAM_KEY_ENV}"}}

    def vertex(name: str, model: str) -> dict:
        return {"model_name": name, "litellm_params": {
            "model": f"vertex_ai/{model}", "api_base": mock.process.url, "vertex_project": "e2e-proj",
            "vertex_location": "europe-west4", "vertex_credentials": str(credentials)}}

    model_list = [
        gemini(GEMINI, "gemini-2.5-flash"),
        vertex(VERTEX, "gemini-2.5-pro"),
        gemini(GEMINI_EMBED, "text-embedding-004"),
        vertex(VERTEX_EMBED, "text-embedding-005"),
        gemini(RATE_LIMITED, "error-429"),
        vertex(CUT_STREAM, "cut-2"),
        vertex(VERTEX_CLAUDE, "claude-sonnet-4-5"),
    ]
    with running_gateway(tmp_path_factory, "google", model_list, workdir=workdir) as process:
        yield process


@pytest.fixture
def client(gateway):
    with sdk_client(gateway) as c:
        yield c


def test_gemini_chat_goes_out_as_generate_content(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=GEMINI, max_tokens=100, stop=["NEVER"], temperature=0.5,
                                   messages=[{"role": "system", "content": "be brief"}, user(f"hello {marker}")])
    choice = completion.choices[0]
    assert choice.message.content == f"echo: hello {marker}"
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens == 4 and completion.usage.completion_tokens == 3
    sent = mock.one_request_with(marker)
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    headers = {k.lower(): v for k, v in sent["headers"]}
    assert headers["x-goog-api-key"] == UPSTREAM_KEY and "authorization" not in headers
    assert sent["body"] == {
        "contents": [{"role": "user", "parts": [{"text": f"hello {marker}"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "be brief"}]},
        "generationConfig": {"temperature": 0.5, "maxOutputTokens": 100, "stopSequences": ["NEVER"]},
    }


def test_vertex_chat_uses_a_minted_token(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=VERTEX, messages=[user(f"hi {marker}")])
    assert completion.choices[0].message.content == f"echo: hi {marker}"
    sent = mock.one_request_with(marker)
    assert sent["path"] == ("/v1/projects/e2e-proj/locations/europe-west4/publishers/google/models/"
                            "gemini-2.5-pro:generateContent")
    headers = {k.lower(): v for k, v in sent["headers"]}
    assert headers["authorization"].startswith("Bearer ya29.mock-access-token-")
    create_chat(client, spec, model=VERTEX, messages=[user(f"again {nonce()}")])
    tokens = [r for r in mock.recorded() if r["path"] == "/token"]
    assert len(tokens) == 1, "the access token is cached between requests"


@pytest.mark.parametrize("model", [GEMINI, VERTEX])
def test_stream_with_usage(client, spec, model):
    marker = nonce()
    chunks = stream_chunks(client, spec, model=model, messages=[user(f"one two {marker}")],
                           stream_options={"include_usage": True})
    text = streamed_text(chunks)
    assert text == f"echo: one two {marker}"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 3 + 4
    streamed = client.chat.completions.create(model=model, messages=[user(f"again {marker}")], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == f"echo: again {marker}"


def test_tools_stream_and_round_trip(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=GEMINI, tools=[WEATHER], tool_choice="required",
                                   messages=[user(f"weather? {marker}")])
    (call,) = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "mock"}
    sent = mock.one_request_with(marker)["body"]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert sent["tools"] == [{"functionDeclarations": [{
        "name": "get_weather", "description": "Current weather for a city",
        "parametersJsonSchema": WEATHER["function"]["parameters"]}]}]

    chunks = stream_chunks(client, spec, model=VERTEX, tools=[WEATHER], messages=[user(f"weather? {nonce()}")])
    deltas = tool_call_deltas(chunks)
    (streamed,) = assemble_tool_calls(deltas).values()
    assert streamed["name"] == "get_weather" and streamed["id"] and streamed["type"] == "function"
    assert json.loads(streamed["arguments"]) == {"city": "mock"}

    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=GEMINI, tools=[WEATHER], messages=tool_round_trip(user(f"weather? {marker}"), call))
    assert completion.choices[0].message.content == 'echo: tool result: {"result":"22C sunny"}'
    sent = mock.one_request_with(marker)["body"]
    assert sent["contents"][1] == {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "mock"}}}]}
    assert sent["contents"][2] == {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"result": "22C sunny"}}}]}


def test_vision_and_json_mode(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=GEMINI, messages=[{"role": "user", "content": [
        {"type": "text", "text": f"what is this {marker}"}, {"type": "image_url", "image_url": {"url": PNG_DATA_URL}}]}])
    assert completion.choices[0].message.content == f"echo: what is this {marker} [media: 1]"
    part = mock.one_request_with(marker)["body"]["contents"][0]["parts"][1]
    assert part == {"inlineData": {"mimeType": "image/png", "data": PNG_DATA_URL.split(",", 1)[1]}}
    completion, _, _ = create_chat(client, spec, model=VERTEX, response_format={"type": "json_object"},
                                   messages=[user(f"json {nonce()}")])
    assert json.loads(completion.choices[0].message.content)["echo"].startswith("json ")


@pytest.mark.parametrize("model, path_end", [(GEMINI_EMBED, ":batchEmbedContents"), (VERTEX_EMBED, ":predict")])
def test_embeddings(client, mock, model, path_end):
    marker = nonce()
    result = client.embeddings.create(model=model, input=[f"a {marker}", "b"], dimensions=4)
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 4 for d in result.data)
    assert mock.one_request_with(marker)["path"].endswith(path_end)
    encoded = client.embeddings.create(model=model, input=f"c {nonce()}", encoding_format="base64")
    # Asked for explicitly, base64 reaches the caller as is: little-endian f32, 8 dimensions by default.
    assert len(encoded.data) == 1 and len(base64.b64decode(encoded.data[0].embedding)) == 8 * 4


def test_errors_map_to_openai_errors(client):
    with pytest.raises(openai.RateLimitError) as caught:
        client.with_options(max_retries=0).chat.completions.create(model=RATE_LIMITED, messages=[user("x")])
    assert caught.value.response.headers.get("retry-after") == "7"
    # A stream the upstream cuts short ends in an error the SDK raises, after the text that did arrive.
    received = []
    with pytest.raises(openai.APIError):
        chunks = client.chat.completions.create(model=CUT_STREAM, messages=[user("one two three four")], stream=True)
        for chunk in chunks:
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(received) == "echo: one"


def test_claude_on_vertex_goes_out_as_raw_predict(client, spec, mock):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=VERTEX_CLAUDE, max_tokens=50,
                                   messages=[{"role": "system", "content": "be brief"}, user(f"hello {marker}")])
    assert completion.choices[0].message.content == f"echo: hello {marker}"
    sent = [r for r in mock.recorded() if marker in json.dumps(r.get("body")) and "/publishers/" in r["path"]]
    assert len(sent) == 1
    assert sent[0]["path"] == ("/v1/projects/e2e-proj/locations/europe-west4/publishers/anthropic/models/"
                               "claude-sonnet-4-5:rawPredict")
    assert sent[0]["body"] == {"anthropic_version": "vertex-2023-10-16", "max_tokens": 50, "system": "be brief",
                               "messages": [user(f"hello {marker}")]}
    chunks = stream_chunks(client, spec, model=VERTEX_CLAUDE, messages=[user(f"one two {marker}")],
                           stream_options={"include_usage": True})
    text = streamed_text(chunks)
    assert text == f"echo: one two {marker}" and chunks[-1]["usage"]["total_tokens"] > 0
