"""Malformed requests, sent as raw bytes: each gets a 4xx with the OpenAI error shape, and the gateway survives.

"Bad input always gets a 4xx with a message that says what to fix; nothing panics on input." (design, section 4)"""

import json
from dataclasses import dataclass

import pytest

from support import (AUTH, CHAT_MODEL, CHAT_PATH, EMBEDDING_MODEL, EMBEDDINGS_PATH, assert_error_body, make_client,
                     nonce, raw_post, user)

MiB = 1024 * 1024
JSON = "application/json"


def body(**fields) -> bytes:
    """A chat body: a valid one, with `fields` replacing (or, with value DROP, removing) keys."""
    doc = {"model": CHAT_MODEL, "messages": [user("hi")]}
    for k, v in fields.items():
        if v is DROP:
            doc.pop(k)
        else:
            doc[k] = v
    return json.dumps(doc).encode()


DROP = object()


@dataclass
class Case:
    id: str
    data: bytes
    status: int | None = 400  # None: any 4xx
    field: str | None = None  # the field the message and param must name
    path: str = CHAT_PATH
    content_type: str | None = JSON
    chunked: bool = False


BIG = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "' + b"a" * (17 * MiB) + b'"}]}'

CASES = [
    Case("bad-json", b'{"model": "gpt-4o-mini", "messages": ['),
    Case("trailing-garbage", body() + b"}}"),
    Case("empty-body", b""),
    Case("json-null", b"null"),
    Case("json-array", b"[" + body() + b"]"),
    Case("json-string", b'"hello"'),
    Case("messages-missing", body(messages=DROP), field="messages"),
    Case("messages-string", body(messages="hello"), field="messages"),
    Case("messages-object", body(messages={"role": "user", "content": "hi"}), field="messages"),
    Case("messages-empty", body(messages=[]), field="messages"),
    Case("message-not-object", body(messages=["hi"]), field="messages"),
    Case("message-unknown-role", body(messages=[{"role": "wizard", "content": "hi"}]), field="messages"),
    Case("message-role-missing", body(messages=[{"content": "hi"}]), field="messages"),
    Case("message-content-number", body(messages=[{"role": "user", "content": 42}]), field="messages"),
    Case("model-missing", body(model=DROP), field="model"),
    Case("model-number", body(model=4), field="model"),
    Case("temperature-string", body(temperature="hot"), field="temperature"),
    Case("temperature-out-of-range", body(temperature=5), field="temperature"),
    Case("max-tokens-negative", body(max_tokens=-5), field="max_tokens"),
    Case("max-tokens-string", body(max_tokens="ten"), field="max_tokens"),
    Case("n-string", body(n="two"), field="n"),
    Case("stream-string", body(stream="yes"), field="stream"),
    Case("tools-string", body(tools="get_weather"), field="tools"),
    Case("stream-options-string", body(stream=True, stream_options="usage"), field="stream_options"),
    Case("invalid-utf8", b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "\xff\xfe\xc3"}]}'),
    Case("nul-bytes", b"\x00" * 64),
    Case("deeply-nested", body()[:-1] + b', "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    Case("huge-number", body()[:-1] + b', "temperature": 1e999999}'),
    Case("form-urlencoded", b"model=gpt-4o-mini&messages=hi", status=None,
         content_type="application/x-www-form-urlencoded"),
    Case("no-content-type-garbage", b"\x89PNG\r\n\x1a\n", status=None, content_type=None),
    Case("embeddings-input-missing", json.dumps({"model": EMBEDDING_MODEL}).encode(), field="input",
         path=EMBEDDINGS_PATH),
    Case("embeddings-input-object", json.dumps({"model": EMBEDDING_MODEL, "input": {"a": 1}}).encode(),
         field="input", path=EMBEDDINGS_PATH),
    Case("embeddings-model-missing", json.dumps({"input": "hi"}).encode(), field="model", path=EMBEDDINGS_PATH),
    Case("embeddings-bad-json", b'{"model": ', path=EMBEDDINGS_PATH),
    Case("too-large-17MiB", BIG, status=413),
    Case("too-large-17MiB-chunked", BIG, status=413, chunked=True),
    Case("embeddings-too-large", json.dumps({"model": EMBEDDING_MODEL, "input": "b" * (17 * MiB)}).encode(),
         status=413, path=EMBEDDINGS_PATH),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_request_gets_4xx_error(gateway, case):
    headers = dict(AUTH)
    if case.content_type:
        headers["Content-Type"] = case.content_type
    resp = raw_post(gateway.url, case.path, case.data, headers=headers, chunked=case.chunked)
    shown = f"HTTP {resp.status} body={resp.body[:600]!r}"
    if case.status is None:
        assert 400 <= resp.status <= 499, shown
    else:
        assert resp.status == case.status, shown
    err = assert_error_body(resp.body, status=resp.status)
    if case.field:
        assert case.field in err["message"], f"the message should name {case.field!r}: {shown}"
        assert err["param"] is not None and case.field in err["param"], f"param should name {case.field!r}: {shown}"
    assert resp.headers.get("x-request-id"), f"no x-request-id: {resp.headers!r}"
    assert gateway.alive(), "the gateway process exited"


def test_gateway_survives_the_malformed_requests(gateway, http):
    """Runs after the table (same module, same gateway process): still alive and still serving."""
    assert gateway.alive(), f"the gateway exited with status {gateway.process.proc.returncode}"
    assert http.get("/health/readiness").status_code == 200
    assert http.get("/health/liveliness").status_code == 200
    n = nonce()
    with make_client(gateway) as c:
        completion = c.chat.completions.create(model=CHAT_MODEL, messages=[user(f"still there {n}")])
    assert completion.choices[0].message.content == f"echo: still there {n}"
