"""Azure OpenAI, Ollama (native) and Cohere v2 end to end: the official `openai` SDK -> the gateway -> the mock
of each provider's native API.

A LiteLLM `config.yaml` points `azure/<deployment>` (key in `api-key`, `api_version`), `ollama_chat/...` (bearer key,
as ollama.com wants) and `cohere_chat/...` / `cohere/...` deployments at the mock. Every OpenAI body the gateway
returns is validated against the OpenAI spec, and the mock's log shows what the gateway sent upstream."""

import json

import openai
import pytest

from family_support import (WEATHER, running_gateway, running_mock, sdk_client, stream_chunks, streamed_text,
                            tool_call_deltas, tool_round_trip)
from support import PNG_DATA_URL, UPSTREAM_KEY, UPSTREAM_KEY_ENV, assemble_tool_calls, create_chat, nonce, user

AZURE = "azure-chat"
OLLAMA = "ollama-chat"
COHERE = "cohere-chat"
CHAT_MODELS = [AZURE, OLLAMA, COHERE]
EMBED_MODELS = {"azure-embed": "/openai/deployments/embed-prod/embeddings", "ollama-embed": "/api/embed",
                "cohere-embed": "/v2/embed"}
RATE_LIMITED = {"azure-rate-limited", "ollama-rate-limited", "cohere-rate-limited"}
CUT_STREAMS = ["azure-cut-stream", "ollama-cut-stream", "cohere-cut-stream"]
CONTENT_FILTERED = "azure-content-filter"
CHAT_PATHS = {AZURE: "/openai/deployments/gpt4o-prod/chat/completions", OLLAMA: "/api/chat", COHERE: "/v2/chat"}


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    with running_mock(tmp_path_factory, "azure-cohere-ollama", api_key=UPSTREAM_KEY) as mock:
        yield mock


@pytest.fixture(scope="module")
def gateway(mock, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("aco-gateway")

    def deployment(name: str, model: str, **extra) -> dict:
        return {"model_name": name, "litellm_params": {
            "model": model, "api_base": mock.process.url, "api_key": f"os.environ/{UPSTREAM_KEY_ENV}", **extra}}

    def azure(name: str, deployment_name: str) -> dict:
        return deployment(name, f"azure/{deployment_name}", api_version="2024-10-21")

    model_list = [
        azure(AZURE, "gpt4o-prod"),
        azure("azure-embed", "embed-prod"),
        azure("azure-rate-limited", "error-429"),
        azure("azure-cut-stream", "cut-2"),
        azure(CONTENT_FILTERED, "content-filter"),
        deployment(OLLAMA, "ollama_chat/llama3.2"),
        deployment("ollama-embed", "ollama_chat/embeddinggemma"),
        deployment("ollama-rate-limited", "ollama_chat/error-429"),
        deployment("ollama-cut-stream", "ollama_chat/cut-2"),
        deployment(COHERE, "cohere_chat/command-a-03-2025"),
        deployment("cohere-embed", "cohere/embed-v4.0"),
        deployment("cohere-rate-limited", "cohere_chat/error-429"),
        deployment("cohere-cut-stream", "cohere_chat/cut-2"),
    ]
    with running_gateway(tmp_path_factory, "azure-cohere-ollama", model_list, workdir=workdir) as process:
        yield process


@pytest.fixture
def client(gateway):
    with sdk_client(gateway) as c:
        yield c


def credential(sent: dict) -> tuple[str, str]:
    headers = {k.lower(): v for k, v in sent["headers"]}
    if "api-key" in headers:
        return "api-key", headers["api-key"]
    return "authorization", headers.get("authorization", "")


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_goes_out_in_the_native_format(client, spec, mock, model):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=model, max_tokens=100, stop=["NEVER"], temperature=0.5,
                                   messages=[{"role": "system", "content": "be brief"}, user(f"hello {marker}")])
    choice = completion.choices[0]
    assert choice.message.content == f"echo: hello {marker}"
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens == 3
    sent = mock.one_request_with(marker)
    assert sent["path"] == CHAT_PATHS[model]
    body = sent["body"]
    if model == AZURE:
        assert credential(sent) == ("api-key", UPSTREAM_KEY)
        assert body == {"model": "gpt4o-prod", "max_tokens": 100, "stop": ["NEVER"], "temperature": 0.5,
                        "messages": [{"role": "system", "content": "be brief"}, user(f"hello {marker}")]}
    elif model == OLLAMA:
        assert credential(sent) == ("authorization", f"Bearer {UPSTREAM_KEY}")
        assert body == {"model": "llama3.2", "stream": False,
                        "options": {"num_predict": 100, "stop": ["NEVER"], "temperature": 0.5},
                        "messages": [{"role": "system", "content": "be brief"}, user(f"hello {marker}")]}
    else:
        assert credential(sent) == ("authorization", f"Bearer {UPSTREAM_KEY}")
        assert body == {"model": "command-a-03-2025", "stream": False, "max_tokens": 100,
                        "stop_sequences": ["NEVER"], "temperature": 0.5,
                        "messages": [{"role": "system", "content": "be brief"}, user(f"hello {marker}")]}


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_stream_with_usage(client, spec, model):
    marker = nonce()
    chunks = stream_chunks(client, spec, model=model, messages=[user(f"one two {marker}")],
                           stream_options={"include_usage": True})
    text = streamed_text(chunks)
    assert text == f"echo: one two {marker}"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    streamed = client.chat.completions.create(model=model, messages=[user(f"again {marker}")], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == f"echo: again {marker}"


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_tools_stream_and_round_trip(client, spec, mock, model):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=model, tools=[WEATHER], messages=[user(f"weather? {marker}")])
    (call,) = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and call.id
    arguments = json.loads(call.function.arguments)
    assert isinstance(arguments["city"], str)
    sent = mock.one_request_with(marker)["body"]
    assert sent["tools"][0]["function"]["name"] == "get_weather"

    chunks = stream_chunks(client, spec, model=model, tools=[WEATHER], messages=[user(f"weather? {nonce()}")])
    deltas = tool_call_deltas(chunks)
    (streamed,) = assemble_tool_calls(deltas).values()
    assert streamed["name"] == "get_weather" and streamed["id"] and streamed["type"] == "function"
    assert json.loads(streamed["arguments"]) == arguments

    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=model, tools=[WEATHER], messages=tool_round_trip(user(f"weather? {marker}"), call))
    assert completion.choices[0].message.content == "echo: tool result: 22C sunny"
    sent = mock.one_request_with(marker)["body"]
    if model == OLLAMA:
        assert sent["messages"][1]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": arguments}}]
        assert sent["messages"][2] == {"role": "tool", "content": "22C sunny", "tool_name": "get_weather"}
    else:
        assert sent["messages"][2] == {"role": "tool", "content": "22C sunny", "tool_call_id": call.id}


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_vision_and_json_mode(client, spec, model):
    marker = nonce()
    completion, _, _ = create_chat(client, spec, model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": f"what is this {marker}"}, {"type": "image_url", "image_url": {"url": PNG_DATA_URL}}]}])
    assert completion.choices[0].message.content == f"echo: what is this {marker} [images: 1]"
    completion, _, _ = create_chat(client, spec, model=model, response_format={"type": "json_object"},
                                   messages=[user(f"json {nonce()}")])
    assert json.loads(completion.choices[0].message.content)["echo"].startswith("json ")


@pytest.mark.parametrize("model, path", sorted(EMBED_MODELS.items()))
def test_embeddings(client, mock, model, path):
    marker = nonce()
    result = client.embeddings.create(model=model, input=[f"a {marker}", "b"], dimensions=4)
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 4 for d in result.data)
    assert mock.one_request_with(marker)["path"] == path


@pytest.mark.parametrize("model", sorted(RATE_LIMITED))
def test_rate_limits_keep_retry_after(client, model):
    with pytest.raises(openai.RateLimitError) as caught:
        client.with_options(max_retries=0).chat.completions.create(model=model, messages=[user("x")])
    assert caught.value.response.headers.get("retry-after") == "7"


@pytest.mark.parametrize("model", CUT_STREAMS)
def test_a_cut_stream_fails(client, model):
    with pytest.raises(Exception):
        chunks = client.chat.completions.create(model=model, messages=[user("one two three four")], stream=True)
        for _ in chunks:
            pass


def test_azure_content_filter_is_a_content_policy_violation(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.with_options(max_retries=0).chat.completions.create(model=CONTENT_FILTERED, messages=[user("x")])
    assert caught.value.status_code == 400
    assert caught.value.code == "content_policy_violation"
