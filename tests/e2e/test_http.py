"""HTTP-level contract: every response carries `x-request-id`, success or error, stream or not."""

import pytest

from support import (AUTH, CHAT_MODEL, CHAT_PATH, EMBEDDING_MODEL, EMBEDDINGS_PATH, MODELS_PATH,
                     assert_error_body, describe, nonce, user)

CHAT_BODY = {"model": CHAT_MODEL, "messages": [user("request id please")]}

REQUESTS = {
    "chat": ("POST", CHAT_PATH, CHAT_BODY, AUTH, 200),
    "chat-no-v1": ("POST", "/chat/completions", CHAT_BODY, AUTH, 200),
    "embeddings": ("POST", EMBEDDINGS_PATH, {"model": EMBEDDING_MODEL, "input": "x"}, AUTH, 200),
    "models": ("GET", MODELS_PATH, None, AUTH, 200),
    "liveliness": ("GET", "/health/liveliness", None, {}, 200),
    "readiness": ("GET", "/health/readiness", None, {}, 200),
    "401": ("POST", CHAT_PATH, CHAT_BODY, {}, 401),
    "404-model": ("POST", CHAT_PATH, {**CHAT_BODY, "model": "no-such-model"}, AUTH, 404),
    "400": ("POST", CHAT_PATH, {"model": CHAT_MODEL, "messages": "nope"}, AUTH, 400),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_every_response_has_a_request_id(http, name):
    method, path, body, headers, status = REQUESTS[name]
    r = http.request(method, path, json=body, headers=headers)
    assert r.status_code == status, describe(r)
    assert r.headers.get("x-request-id", "").strip(), f"no x-request-id: {describe(r)}"


def test_stream_response_has_a_request_id(http):
    with http.stream("POST", CHAT_PATH, headers=AUTH, json={**CHAT_BODY, "stream": True}) as r:
        r.read()
    assert r.status_code == 200
    assert r.headers.get("x-request-id", "").strip()


def test_request_ids_are_unique(http):
    ids = {http.post(CHAT_PATH, headers=AUTH, json=CHAT_BODY).headers.get("x-request-id") for _ in range(5)}
    assert len(ids) == 5 and None not in ids


def test_sdk_sees_the_request_id(client):
    raw = client.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=[user(f"sdk {nonce()}")])
    assert raw.headers.get("x-request-id")
    assert raw.parse().choices[0].message.content.startswith("echo: sdk ")


def test_unknown_path_is_404_json(http):
    r = http.get("/v1/no-such-route", headers=AUTH)
    assert r.status_code == 404, describe(r)
    assert_error_body(r.content, status=404)


@pytest.mark.parametrize("method,path", [("GET", CHAT_PATH), ("PUT", MODELS_PATH), ("DELETE", EMBEDDINGS_PATH)])
def test_wrong_method_is_405_json(http, method, path):
    r = http.request(method, path, headers=AUTH)
    assert r.status_code == 405, describe(r)
    assert_error_body(r.content, status=405)
    assert r.headers.get("x-request-id")
