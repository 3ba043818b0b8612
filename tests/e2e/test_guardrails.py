"""Guardrails with the official SDK: a blocked prompt raises `BadRequestError` with `code == "guardrail_blocked"`
(and never reaches the upstream), a masked prompt reaches the upstream masked, and a stream a post-call guardrail
blocks ends with an error event then `[DONE]`."""

from __future__ import annotations

import openai
import pytest

from support import AUTH, CHAT_MODEL, litellm_config, make_client, nonce, post_sse, user

GUARDRAILS = [
    {"guardrail_name": "pii-mask",
     "litellm_params": {"guardrail": "pii", "mode": "pre_call", "default_on": True, "action": "mask"}},
    {"guardrail_name": "deny-words",
     "litellm_params": {"guardrail": "keywords", "mode": ["pre_call"], "default_on": True, "words": ["bluebird"]}},
    {"guardrail_name": "clean-output",
     "litellm_params": {"guardrail": "regex", "mode": "post_call", "patterns": ["forbidden-\\w+"]}},
]


@pytest.fixture(scope="module")
def guarded_gateway(mock_upstream, tmp_path_factory):
    from conftest import launch_gateway

    config = litellm_config(mock_upstream.api_base)
    config["guardrails"] = GUARDRAILS
    process = launch_gateway("llm-gateway[guardrails]", config, tmp_path_factory.mktemp("gateway-guardrails"))
    yield process
    process.stop()


def test_a_blocked_prompt_raises_bad_request_with_the_guardrail_code(guarded_gateway, mock_upstream):
    client = make_client(guarded_gateway)
    n = nonce()
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"operation bluebird {n}")])
    assert raised.value.code == "guardrail_blocked"
    assert "deny-words" in raised.value.message
    assert mock_upstream.requests_with(n) == [], "a blocked prompt must not reach the upstream"


def test_a_masked_prompt_reaches_the_upstream_masked(guarded_gateway, mock_upstream):
    client = make_client(guarded_gateway)
    n = nonce()
    reply = client.chat.completions.create(
        model=CHAT_MODEL, messages=[user(f"{n} reach me at jane.doe@example.com or 4111-1111-1111-1111")])
    sent = mock_upstream.one_request_with(n)["body"]["messages"][0]["content"]
    assert sent == f"{n} reach me at [EMAIL_1] or [CREDIT_CARD_1]"
    assert "jane.doe@example.com" not in reply.choices[0].message.content


def test_a_stream_blocked_after_the_call_ends_with_an_error_event(guarded_gateway):
    import httpx2

    n = nonce()
    body = {"model": CHAT_MODEL, "stream": True, "guardrails": ["clean-output"],
            "messages": [user(f"say forbidden-thing {n}")]}
    with httpx2.Client(base_url=guarded_gateway.url, timeout=30.0, trust_env=False) as http:
        resp, transcript = post_sse(http, body, headers=AUTH)
    assert resp.status_code == 200
    assert transcript.done, "the stream must still end with [DONE]"
    assert [e["error"]["code"] for e in transcript.errors] == ["guardrail_blocked"]
    assert "forbidden-thing" not in "".join(transcript.payloads)
