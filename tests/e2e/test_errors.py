"""Errors as the SDK sees them: auth, unknown model, invalid bodies, upstream 429 / garbage.

Every error body is `{"error": {"message", "type", "param", "code"}}` (all four keys), valid against the
spec's ErrorResponse, and never echoes a secret."""

import json

import pytest

import openai
from support import (CHAT_MODEL, HANGING_MODEL, CHAT_PATH, EMBEDDING_MODEL, EMBEDDINGS_PATH, GARBAGE_MODEL, MASTER_KEY,
                     MODEL_NAMES, MODELS_PATH, RATE_LIMITED_MODEL, SECRETS, WRONG_KEYS, assert_error_body, describe,
                     make_client, nonce, user)

NO_AUTH = {"Authorization": openai.omit}


def check_error(err: openai.APIStatusError, spec, status: int) -> dict:
    resp = err.response
    assert resp.status_code == status, describe(resp)
    assert resp.headers.get("content-type", "").startswith("application/json"), describe(resp)
    spec.check("ErrorResponse", json.loads(resp.text))
    inner = assert_error_body(resp.text, status=status)
    leaked = [secret for secret in SECRETS if secret in resp.text]
    assert not leaked, f"the error body leaks {leaked}: {resp.text}"
    return inner


# ---------------------------------------------------------------------------------------------- authentication


def test_wrong_key_is_authentication_error(gateway, spec):
    with make_client(gateway, api_key=WRONG_KEYS[0]) as c:
        with pytest.raises(openai.AuthenticationError) as excinfo:
            c.chat.completions.create(model=CHAT_MODEL, messages=[user("hi")])
    check_error(excinfo.value, spec, 401)  # which also checks that the presented key is not echoed


def test_missing_key_is_authentication_error(client, spec):
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client.chat.completions.create(model=CHAT_MODEL, messages=[user("hi")], extra_headers=NO_AUTH)
    check_error(excinfo.value, spec, 401)


def test_x_api_key_header_is_accepted(client):
    n = nonce()
    completion = client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"via x-api-key {n}")],
                                                extra_headers={**NO_AUTH, "x-api-key": MASTER_KEY})
    assert completion.choices[0].message.content == f"echo: via x-api-key {n}"


def test_wrong_x_api_key_is_authentication_error(client, spec):
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client.chat.completions.create(model=CHAT_MODEL, messages=[user("hi")],
                                       extra_headers={**NO_AUTH, "x-api-key": WRONG_KEYS[1]})
    check_error(excinfo.value, spec, 401)


@pytest.mark.parametrize("path,body", [
    (CHAT_PATH, {"model": CHAT_MODEL, "messages": [user("hi")]}),
    ("/chat/completions", {"model": CHAT_MODEL, "messages": [user("hi")]}),
    (EMBEDDINGS_PATH, {"model": EMBEDDING_MODEL, "input": "hi"}),
    ("/embeddings", {"model": EMBEDDING_MODEL, "input": "hi"}),
], ids=["chat", "chat-no-v1", "embeddings", "embeddings-no-v1"])
@pytest.mark.parametrize("auth", [None, f"Bearer {WRONG_KEYS[0]}", "Basic c2stZTJlLW1hc3Rlcjo=", "Bearer"],
                         ids=["none", "wrong-bearer", "basic", "empty-bearer"])
def test_every_llm_route_needs_the_key(http, path, body, auth):
    r = http.post(path, json=body, headers={"Authorization": auth} if auth else {})
    assert r.status_code == 401, describe(r)
    assert_error_body(r.content, status=401)


@pytest.mark.parametrize("path", ["/health/liveliness", "/health/readiness"])
def test_health_needs_no_key(http, path):
    r = http.get(path)
    assert r.status_code == 200, describe(r)


# ---------------------------------------------------------------------------------------------- unknown model


def test_unknown_model_is_not_found_and_lists_models(client, spec):
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.chat.completions.create(model="no-such-model", messages=[user("hi")])
    err = check_error(excinfo.value, spec, 404)
    assert "no-such-model" in err["message"]
    for name in MODEL_NAMES:
        assert name in err["message"], f"the 404 message should name the available models: {err['message']!r}"


def test_unknown_model_in_stream_is_not_found(client, spec):
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.chat.completions.create(model="no-such-model", messages=[user("hi")], stream=True)
    check_error(excinfo.value, spec, 404)


def test_unknown_embedding_model_is_not_found(client, spec):
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.embeddings.create(model="no-such-embedder", input="hi")
    check_error(excinfo.value, spec, 404)


# ---------------------------------------------------------------------------------------------- invalid bodies


@pytest.mark.parametrize("overrides,field", [
    ({"messages": "hello"}, "messages"),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages"),
    ({"temperature": "hot"}, "temperature"),
    ({"max_tokens": -1}, "max_tokens"),
    ({"n": "two"}, "n"),
    ({"tools": "get_weather"}, "tools"),
], ids=["messages-string", "unknown-role", "temperature-string", "max-tokens-negative", "n-string", "tools-string"])
def test_invalid_body_is_bad_request_naming_the_field(client, spec, overrides, field):
    kwargs = {"model": CHAT_MODEL, "messages": [user("hi")], **overrides}
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(**kwargs)
    err = check_error(excinfo.value, spec, 400)
    assert field in err["message"], f"the message should name {field!r}: {err!r}"
    assert err["param"] is not None and field in err["param"], f"param should name {field!r}: {err!r}"


def test_invalid_embeddings_body_is_bad_request(client, spec):
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.embeddings.create(model=EMBEDDING_MODEL, input={"not": "valid"})
    err = check_error(excinfo.value, spec, 400)
    assert "input" in err["message"] and err["param"] and "input" in err["param"], err


# ---------------------------------------------------------------------------------------------- upstream errors


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_upstream_429_is_rate_limit_error_with_retry_after(client, spec, stream):
    with pytest.raises(openai.RateLimitError) as excinfo:
        result = client.chat.completions.create(model=RATE_LIMITED_MODEL, messages=[user(f"hi {nonce()}")],
                                                stream=stream)
        if stream:
            list(result)
    check_error(excinfo.value, spec, 429)
    assert excinfo.value.response.headers.get("retry-after") == "7", describe(excinfo.value.response)


def test_upstream_garbage_is_a_5xx_error(client, spec):
    with pytest.raises(openai.APIStatusError) as excinfo:
        client.chat.completions.create(model=GARBAGE_MODEL, messages=[user(f"hi {nonce()}")])
    status = excinfo.value.status_code
    assert 500 <= status <= 599, describe(excinfo.value.response)
    check_error(excinfo.value, spec, status)


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_upstream_that_never_answers_times_out_cleanly(client, spec, stream):
    # The deployment's timeout is 1 s; the client's own timeout (30 s) must never be what ends the call.
    with pytest.raises(openai.APIStatusError) as excinfo:
        result = client.chat.completions.create(model=HANGING_MODEL, messages=[user(f"hi {nonce()}")], stream=stream)
        if stream:
            list(result)
    status = excinfo.value.status_code
    assert status in (408, 504), describe(excinfo.value.response)
    check_error(excinfo.value, spec, status)


def test_models_route_error_shape_without_key(http, spec):
    r = http.get(MODELS_PATH)
    assert r.status_code == 401, describe(r)
    spec.check("ErrorResponse", r.json())
