"""The models list: every configured model name, in the OpenAI shape."""

import json

import pytest

from support import AUTH, MODEL_NAMES, make_client


def test_models_list_has_the_configured_names(client, spec):
    raw = client.models.with_raw_response.list()
    body = json.loads(raw.text)
    spec.check("ListModelsResponse", body)
    ids = [m["id"] for m in body["data"]]
    assert set(MODEL_NAMES) <= set(ids), f"missing from /v1/models: {sorted(set(MODEL_NAMES) - set(ids))}"
    assert len(ids) == len(set(ids)), f"duplicate model ids: {ids}"


def test_models_list_through_the_sdk(client):
    models = list(client.models.list())
    assert {m.id for m in models} >= set(MODEL_NAMES)
    assert all(m.object == "model" and isinstance(m.owned_by, str) for m in models)


def test_models_route_without_v1_prefix(gateway):
    with make_client(gateway, base_path="") as c:
        assert {m.id for m in c.models.list()} >= set(MODEL_NAMES)


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
def test_models_list_needs_the_key(http, path):
    assert http.get(path).status_code == 401
    assert http.get(path, headers=AUTH).status_code == 200
