"""The response cache with the official SDK: the second identical request is answered from the cache (the upstream
is asked once), a cached answer replays as a stream whose every chunk validates against the OpenAI spec, and a
streamed answer is stored once complete and serves a plain request."""

from __future__ import annotations

import httpx2
import pytest

from support import AUTH, CHAT_MODEL, CHAT_PATH, CLIENT_TIMEOUT, check_stream_chunks, litellm_config, make_client, \
    nonce, post_sse, stream_text, user


@pytest.fixture(scope="module")
def cached_gateway(mock_upstream, tmp_path_factory):
    from conftest import launch_gateway

    config = litellm_config(mock_upstream.api_base)
    config["litellm_settings"] = {"cache": True, "cache_params": {"type": "local", "ttl": 600}}
    process = launch_gateway("llm-gateway[cache]", config, tmp_path_factory.mktemp("gateway-cache"))
    yield process
    process.stop()


@pytest.fixture
def cached_http(cached_gateway):
    with httpx2.Client(base_url=cached_gateway.url, timeout=CLIENT_TIMEOUT, trust_env=False) as http:
        yield http


def test_the_second_identical_request_is_a_hit(cached_gateway, mock_upstream):
    client = make_client(cached_gateway)
    n = nonce()
    answers = []
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=[user(f"cache me {n}")])
        answers.append((raw.headers["x-llm-cache-hit"], raw.headers["x-llm-cache-key"], raw.parse()))
    (first_hit, first_key, first), (second_hit, second_key, second) = answers
    assert (first_hit, second_hit) == ("false", "true")
    assert first_key == second_key
    assert second.choices[0].message.content == first.choices[0].message.content == f"echo: cache me {n}"
    assert len(mock_upstream.requests_with(n)) == 1, "the hit must not reach the upstream"


@pytest.mark.parametrize("include_usage", [False, True], ids=["no-usage", "usage"])
def test_a_cached_answer_replays_as_a_valid_stream(cached_gateway, cached_http, mock_upstream, spec, include_usage):
    n = nonce()
    body = {"model": CHAT_MODEL, "messages": [user(f"replay me {n}")]}
    first = cached_http.post(CHAT_PATH, json=body, headers=AUTH)
    assert first.status_code == 200 and first.headers["x-llm-cache-hit"] == "false"
    streamed = dict(body, stream=True)
    if include_usage:
        streamed["stream_options"] = {"include_usage": True}
    resp, transcript = post_sse(cached_http, streamed)
    assert resp.status_code == 200 and resp.headers["x-llm-cache-hit"] == "true"
    assert transcript.done and transcript.errors == []
    chunks = check_stream_chunks(spec, transcript)
    assert stream_text(chunks) == f"echo: replay me {n}"
    usage_chunks = [c for c in chunks if c.get("usage")]
    assert len(usage_chunks) == (1 if include_usage else 0)
    if include_usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == first.json()["usage"]
    assert len(mock_upstream.requests_with(n)) == 1


def test_a_streamed_answer_is_stored_once_complete(cached_gateway, cached_http, mock_upstream):
    n = nonce()
    body = {"model": CHAT_MODEL, "messages": [user(f"stream then read {n}")]}
    resp, transcript = post_sse(cached_http, dict(body, stream=True))
    assert resp.headers["x-llm-cache-hit"] == "false" and transcript.done
    # The answer is stored before the stream's `[DONE]`: the next identical request is a hit.
    answer = cached_http.post(CHAT_PATH, json=body, headers=AUTH)
    assert answer.headers["x-llm-cache-hit"] == "true"
    assert answer.json()["choices"][0]["message"]["content"] == f"echo: stream then read {n}"
    assert len(mock_upstream.requests_with(n)) == 1
