"""Shared constants and helpers for the end-to-end suite (no fixtures here: those live in conftest.py).

The suite starts the real `llm-gateway` binary in front of the `mock-upstream` binary and drives it with the
official `openai` SDK and with raw HTTP (`httpx2`, the HTTP client the SDK itself uses)."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from dataclasses import dataclass

import openai

MASTER_KEY = "sk-e2e-master"
# The upstream key the gateway must send to the mock (the mock rejects any other key).
UPSTREAM_KEY = "sk-e2e-upstream-7f3a"
UPSTREAM_KEY_ENV = "E2E_UPSTREAM_KEY"

WRONG_KEYS = ["sk-wrong-key-0123456789", "sk-not-the-master"]  # keys tests present that must not be echoed
SECRETS = [MASTER_KEY, UPSTREAM_KEY, *WRONG_KEYS]  # never in an error body or a log line

CLIENT_TIMEOUT = 30.0  # seconds for any single HTTP request a test makes: a hang fails, never blocks

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}

# model name (what clients send) -> deployment model (provider/model), and whether it calls the mock over HTTP.
CHAT_MODEL = "gpt-4o-mini"
ALIASED_MODEL = "team-alias"  # routes to openai/gpt-4o-mini: the upstream must see "gpt-4o-mini"
RATE_LIMITED_MODEL = "rate-limited"
BROKEN_STREAM_MODEL = "broken-stream"
GARBAGE_MODEL = "bad-upstream"
EMBEDDING_MODEL = "text-embedding-3-small"
DEMO_MODEL = "demo-mock"

HANGING_MODEL = "hanging"  # the upstream never answers; the deployment's timeout is 1 s
STALLING_MODEL = "stalling-stream"  # the upstream streams 2 chunks then goes silent; stream_timeout 1 s

# (model name, deployment model, extra deployment settings)
DEPLOYMENTS = [
    (CHAT_MODEL, "openai/gpt-4o-mini", {}),
    (ALIASED_MODEL, "openai/gpt-4o-mini", {}),
    (RATE_LIMITED_MODEL, "openai/error-429", {}),
    (BROKEN_STREAM_MODEL, "openai/cut-3", {}),
    (GARBAGE_MODEL, "openai/garbage", {}),
    (HANGING_MODEL, "openai/hang", {"timeout": 1}),
    (STALLING_MODEL, "openai/stall-after-2", {"timeout": 10, "stream_timeout": 1}),
    (EMBEDDING_MODEL, "openai/text-embedding-3-small", {}),
    (DEMO_MODEL, "mock/demo", {}),
]
MODEL_NAMES = [name for name, _, _ in DEPLOYMENTS]

CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"

# A 1x1 transparent PNG.
PNG_DATA_URL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def nonce() -> str:
    """A unique single word, put in prompts so a test finds its own request in the mock's log."""
    return "n" + uuid.uuid4().hex[:16]


def words(text: str) -> int:
    """The mock's token count: whitespace-separated words."""
    return len(text.split())


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def header_values(recorded: dict, name: str) -> list[str]:
    """The values of header `name` in a request recorded by the mock (headers are [name, value] pairs)."""
    return [v for k, v in recorded["headers"] if k.lower() == name.lower()]


# ---------------------------------------------------------------------------------------------- configs


def litellm_config(api_base: str, deployments=DEPLOYMENTS) -> dict:
    """A LiteLLM `config.yaml`, as LiteLLM users have it today."""
    model_list = []
    for name, model, extra in deployments:
        params = {"model": model}
        if model.startswith("openai/"):
            params.update(api_base=api_base, api_key=f"os.environ/{UPSTREAM_KEY_ENV}")
        params.update(extra)
        model_list.append({"model_name": name, "litellm_params": params})
    return {"model_list": model_list, "general_settings": {"master_key": MASTER_KEY}}


def native_config(api_base: str, deployments=DEPLOYMENTS) -> dict:
    """The same deployments in the gateway's native format."""
    models = []
    for name, model, extra in deployments:
        entry = {"name": name, "model": model}
        if model.startswith("openai/"):
            entry.update(api_base=api_base, api_key="${" + UPSTREAM_KEY_ENV + "}")
        entry.update(extra)
        models.append(entry)
    return {"server": {"master_key": MASTER_KEY}, "models": models}


# ---------------------------------------------------------------------------------------------- error bodies


ERROR_KEYS = {"message", "type", "param", "code"}


def assert_error_body(body, *, status: int | None = None) -> dict:
    """`body` (bytes, str or parsed JSON) is `{"error": {"message", "type", "param", "code"}}` with a useful
    message. Returns the inner error object."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as e:
            raise AssertionError(f"error body (HTTP {status}) is not JSON: {body[:500]!r}") from e
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"error body (HTTP {status}) is not {{'error': {{...}}}}: {body!r}"
    )
    err = body["error"]
    missing = ERROR_KEYS - err.keys()
    assert not missing, f"error object (HTTP {status}) lacks {sorted(missing)}: {body!r}"
    assert isinstance(err["message"], str) and err["message"].strip(), f"empty error message: {body!r}"
    assert isinstance(err["type"], str) and err["type"], f"error type must be a non-empty string: {body!r}"
    assert err["param"] is None or isinstance(err["param"], str), f"param must be string or null: {body!r}"
    assert err["code"] is None or isinstance(err["code"], str), f"code must be string or null: {body!r}"
    return err


def describe(resp) -> str:
    """One line about an httpx2 response, for assertion messages."""
    try:
        text = resp.text
    except Exception:  # a streamed response that was not read
        text = "<unread body>"
    return f"HTTP {resp.status_code} {dict(resp.headers)!r} body={text[:800]!r}"


# ---------------------------------------------------------------------------------------------- SSE


@dataclass
class SseTranscript:
    """The `data:` payloads of an SSE response, in order."""

    payloads: list[str]

    @property
    def done(self) -> bool:
        return bool(self.payloads) and self.payloads[-1] == "[DONE]"

    @property
    def json_events(self) -> list[dict]:
        return [json.loads(p) for p in self.payloads if p != "[DONE]"]

    @property
    def chunks(self) -> list[dict]:
        """Completion chunks (events that are not errors)."""
        return [e for e in self.json_events if "error" not in e]

    @property
    def errors(self) -> list[dict]:
        return [e for e in self.json_events if "error" in e]


def parse_sse(text: str) -> SseTranscript:
    payloads: list[str] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
        if data:
            payloads.append("\n".join(data))
    return SseTranscript(payloads)


def stream_text(chunks: list[dict]) -> str:
    return "".join((c.get("delta") or {}).get("content") or "" for ch in chunks for c in ch.get("choices") or [])


def finish_reasons(chunks: list[dict]) -> list[str]:
    return [c["finish_reason"] for ch in chunks for c in ch.get("choices") or [] if c.get("finish_reason")]


def assemble_tool_calls(deltas) -> dict[int, dict]:
    """Merge streamed tool-call deltas (dicts or SDK objects) by index: {index: {id, type, name, arguments}}."""
    calls: dict[int, dict] = {}
    for d in deltas:
        if not isinstance(d, dict):
            d = d.model_dump(exclude_none=True)
        call = calls.setdefault(d["index"], {"id": None, "type": None, "name": "", "arguments": ""})
        if d.get("id"):
            call["id"] = d["id"]
        if d.get("type"):
            call["type"] = d["type"]
        fn = d.get("function") or {}
        call["name"] += fn.get("name") or ""
        call["arguments"] += fn.get("arguments") or ""
    return calls


# ---------------------------------------------------------------------------------------------- raw HTTP


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lowercased names
    body: bytes


def raw_post(url: str, path: str, body: bytes, *, headers: dict[str, str], chunked: bool = False,
             timeout: float = 60.0) -> RawResponse:
    """POST over a plain socket, reading the response while the body is still being sent.

    An HTTP client that writes the whole body before reading cannot see an early 413: the server answers and
    closes, and the client gets a broken pipe instead. So the body is written from a thread and the response is
    read concurrently. `chunked=True` sends the body without Content-Length (Transfer-Encoding: chunked)."""
    assert url.startswith("http://")
    host, _, port = url[len("http://"):].rstrip("/").partition(":")
    sock = socket.create_connection((host, int(port or 80)), timeout=timeout)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())

        def send_body() -> None:
            try:
                step = 256 * 1024
                for i in range(0, len(body), step):
                    part = body[i:i + step]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server stopped reading (expected after an early 413)

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        received = bytearray()
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            received += part
            parsed = _parse_response(bytes(received))
            if parsed is not None:
                return parsed
        parsed = _parse_response(bytes(received), eof=True)
        assert parsed is not None, f"no complete HTTP response received (got {bytes(received[:500])!r})"
        return parsed
    finally:
        sock.close()


def _parse_response(data: bytes, eof: bool = False) -> RawResponse | None:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    if status == 100:  # 100 Continue: the real response follows
        return _parse_response(rest, eof)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        return RawResponse(status, headers, rest[:n]) if len(rest) >= n else None
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, pos = bytearray(), 0
        while True:
            end = rest.find(b"\r\n", pos)
            if end < 0:
                return None
            size = int(rest[pos:end].split(b";")[0], 16)
            if size == 0:
                return RawResponse(status, headers, bytes(body))
            if len(rest) < end + 2 + size + 2:
                return None
            body += rest[end + 2:end + 2 + size]
            pos = end + 2 + size + 2
    return RawResponse(status, headers, rest) if eof else None


# ---------------------------------------------------------------------------------------------- SDK calls


def make_client(gateway, *, api_key: str = MASTER_KEY, base_path: str = "/v1", **kwargs) -> openai.OpenAI:
    """The official SDK on the gateway: no retries (a retry would hide the first answer), bounded time."""
    return openai.OpenAI(base_url=gateway.url + base_path, api_key=api_key, max_retries=0,
                         timeout=CLIENT_TIMEOUT, **kwargs)


def create_chat(client, spec, **kwargs):
    """A non-stream chat completion through the SDK. The raw body is validated against the OpenAI spec.
    Returns (parsed ChatCompletion, raw JSON body, LegacyAPIResponse)."""
    raw = client.chat.completions.with_raw_response.create(**kwargs)
    body = json.loads(raw.text)
    spec.check("CreateChatCompletionResponse", body)
    return raw.parse(), body, raw


def post_sse(http, body: dict, *, path: str = CHAT_PATH, headers: dict | None = None):
    """POST a streaming request with raw HTTP and read the whole SSE body.
    Returns (httpx2 response, SseTranscript). A connection the gateway cuts raises here (a contract breach:
    a failed stream must end with an error event, not a broken connection)."""
    with http.stream("POST", path, json=body, headers=AUTH if headers is None else headers) as resp:
        try:
            text = resp.read().decode()
        except Exception as e:  # httpx2.RemoteProtocolError and friends
            raise AssertionError(
                f"the gateway broke the connection instead of ending the stream cleanly: {e!r}") from e
    return resp, parse_sse(text)


def check_stream_chunks(spec, transcript: SseTranscript) -> list[dict]:
    """Every completion chunk validates as CreateChatCompletionStreamResponse and they share one id."""
    chunks = transcript.chunks
    assert chunks, f"no chunks in the stream: {transcript.payloads!r}"
    for chunk in chunks:
        spec.check("CreateChatCompletionStreamResponse", chunk)
    assert len({c["id"] for c in chunks}) == 1, f"chunks of one stream carry different ids: {chunks!r}"
    return chunks
