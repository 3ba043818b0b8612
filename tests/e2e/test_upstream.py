"""What the upstream receives: the deployment's model, its own key (never the master key), the path under
`api_base`, the client's parameters, and request fields the gateway does not know (forwarded as they are)."""

import json

import pytest

from support import (ALIASED_MODEL, CHAT_MODEL, EMBEDDING_MODEL, MASTER_KEY, UPSTREAM_KEY, header_values, nonce,
                     user)


def _no_master_key_anywhere(recorded: dict) -> None:
    for name, value in recorded["headers"]:
        assert MASTER_KEY not in value, f"the master key reached the upstream in header {name!r}"
    assert MASTER_KEY not in json.dumps(recorded["body"]), "the master key reached the upstream in the body"


def test_upstream_gets_its_own_key_and_the_deployment_model(client, mock_upstream):
    n = nonce()
    client.chat.completions.create(model=ALIASED_MODEL, messages=[user(f"who am I {n}")])
    recorded = mock_upstream.one_request_with(n)
    assert recorded["method"] == "POST"
    assert recorded["path"] == "/v1/chat/completions"
    assert recorded["body"]["model"] == "gpt-4o-mini", "the upstream must see the deployment's model, not the alias"
    assert header_values(recorded, "authorization") == [f"Bearer {UPSTREAM_KEY}"]
    _no_master_key_anywhere(recorded)


def test_client_x_api_key_is_not_forwarded(client, mock_upstream):
    n = nonce()
    client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"x-api-key {n}")],
                                   extra_headers={"x-api-key": MASTER_KEY})
    recorded = mock_upstream.one_request_with(n)
    assert header_values(recorded, "authorization") == [f"Bearer {UPSTREAM_KEY}"]
    _no_master_key_anywhere(recorded)


def test_embeddings_upstream_request(client, mock_upstream):
    n = nonce()
    client.embeddings.create(model=EMBEDDING_MODEL, input=[f"embed {n}"], encoding_format="float", dimensions=4)
    recorded = mock_upstream.one_request_with(n)
    assert recorded["path"] == "/v1/embeddings"
    assert recorded["body"]["model"] == "text-embedding-3-small"
    assert recorded["body"]["input"] == [f"embed {n}"]
    assert recorded["body"]["dimensions"] == 4
    assert header_values(recorded, "authorization") == [f"Bearer {UPSTREAM_KEY}"]
    _no_master_key_anywhere(recorded)


def test_client_parameters_reach_the_upstream(client, mock_upstream):
    n = nonce()
    params = {"temperature": 0.25, "top_p": 0.5, "seed": 42, "stop": ["\n\n", "END"], "presence_penalty": 0.5,
              "frequency_penalty": -0.5, "user": "end-user-7", "logit_bias": {"50256": -100}}
    client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"params {n}")], **params)
    sent = mock_upstream.one_request_with(n)["body"]
    for key, value in params.items():
        assert sent.get(key) == value, f"{key}: sent {value!r}, upstream got {sent.get(key)!r}"


@pytest.mark.parametrize("extra", [
    {"some_vendor_flag": 1},
    {"vendor_options": {"nested": [1, "two", {"three": None}], "on": True}},
], ids=["scalar", "nested"])
def test_unknown_fields_are_forwarded(client, mock_upstream, extra):
    n = nonce()
    completion = client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"extra {n}")], extra_body=extra)
    assert completion.choices[0].message.content == f"echo: extra {n}"
    sent = mock_upstream.one_request_with(n)["body"]
    for key, value in extra.items():
        assert key in sent, f"unknown field {key!r} was not forwarded; upstream body keys: {sorted(sent)}"
        assert sent[key] == value


def test_unknown_fields_are_forwarded_in_streams(client, mock_upstream):
    n = nonce()
    list(client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"extra stream {n}")], stream=True,
                                        extra_body={"some_vendor_flag": 1}))
    assert mock_upstream.one_request_with(n)["body"].get("some_vendor_flag") == 1
