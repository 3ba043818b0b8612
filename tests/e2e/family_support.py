"""Shared pieces of the native-family e2e files (`test_family_*.py`): the mock of the providers' native APIs and a
gateway configured for one family (each a context manager a module-scoped fixture wraps), the SDK client, the
tool every family is offered, and the helpers that read streams and build a tool round trip."""

import json
from contextlib import contextmanager

import httpx2

from conftest import MOCK_UPSTREAM_BIN, ServerProcess, _child_env, _require_binary, launch_gateway
from support import CLIENT_TIMEOUT, MASTER_KEY, check_stream_chunks, make_client, parse_sse

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Mock:
    """The running mock and its log of what the gateway sent upstream."""

    def __init__(self, process: ServerProcess):
        self.process = process
        self.http = httpx2.Client(base_url=process.url, timeout=CLIENT_TIMEOUT, trust_env=False)

    def recorded(self) -> list[dict]:
        r = self.http.get("/__mock/requests")
        r.raise_for_status()
        return r.json()

    def one_request_with(self, marker: str) -> dict:
        found = [rec for rec in self.recorded() if marker in json.dumps(rec.get("body"))]
        assert len(found) == 1, f"expected one upstream request with {marker!r}, got {found!r}"
        return found[0]


@contextmanager
def running_mock(tmp_path_factory, family: str, *, api_key: str | None = None):
    """The mock upstream (expecting `api_key` when given), for the family named `family`."""
    _require_binary(MOCK_UPSTREAM_BIN, "MOCK_UPSTREAM_BIN", "llm-mock-upstream")
    workdir = tmp_path_factory.mktemp(f"{family}-mock")
    key_args = ["--api-key", api_key] if api_key is not None else []
    process = ServerProcess(
        f"mock-upstream[{family}]",
        [str(MOCK_UPSTREAM_BIN), "--port", "0", *key_args],
        banner=r"mock-upstream listening on (http://127\.0\.0\.1:\d+)",
        log_path=workdir / "mock-upstream.log", env=_child_env(), cwd=workdir,
    )
    mock = Mock(process)
    try:
        yield mock
    finally:
        mock.http.close()
        process.stop()


@contextmanager
def running_gateway(tmp_path_factory, family: str, model_list: list[dict], workdir=None):
    """The gateway serving `model_list` (a LiteLLM config with the master key) for the family named `family`."""
    config = {"model_list": model_list, "general_settings": {"master_key": MASTER_KEY}}
    process = launch_gateway(f"llm-gateway[{family}]", config,
                             workdir if workdir is not None else tmp_path_factory.mktemp(f"{family}-gateway"))
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def sdk_client(gateway):
    c = make_client(gateway)
    try:
        yield c
    finally:
        c.close()


def stream_chunks(client, spec, **kwargs) -> list[dict]:
    """A streamed completion through the SDK, its raw chunks validated against the spec."""
    with client.chat.completions.with_streaming_response.create(stream=True, **kwargs) as resp:
        text = resp.read().decode()
    return check_stream_chunks(spec, parse_sse(text))


def streamed_text(chunks: list[dict]) -> str:
    """The text the raw chunks of a stream spell out."""
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def tool_call_deltas(chunks: list[dict]) -> list[dict]:
    """Every tool-call delta of the raw chunks of a stream, in order."""
    return [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls") or []]


def tool_round_trip(question: dict, call) -> list[dict]:
    """`question`, the assistant's `get_weather` call `call` (an SDK tool call), and its result "22C sunny"."""
    return [
        question,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "22C sunny"},
    ]


def raw_stream(gateway, model: str, messages: list[dict]):
    """A streamed completion over plain HTTP (no SDK to raise on an error event), parsed."""
    with httpx2.Client(base_url=gateway.url, timeout=CLIENT_TIMEOUT, trust_env=False) as http:
        with http.stream("POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER_KEY}"},
                         json={"model": model, "stream": True, "messages": messages}) as resp:
            text = resp.read().decode()
    return text, parse_sse(text)
