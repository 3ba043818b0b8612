"""Embeddings: the SDK's default (base64 on the wire), explicit floats, batches and `dimensions`.

The mock returns one vector per input, of dimension `dimensions` (default 8)."""

import base64
import json
import math
import struct

import pytest

from support import AUTH, EMBEDDING_MODEL, make_client, nonce

DEFAULT_DIM = 8


def _floats(vector) -> bool:
    return all(isinstance(x, float) and math.isfinite(x) for x in vector)


def test_embeddings_sdk_default_base64(client):
    # Without encoding_format the SDK asks for base64 and decodes the vectors itself.
    result = client.embeddings.create(model=EMBEDDING_MODEL, input=f"hello {nonce()}")
    assert result.object == "list"
    assert len(result.data) == 1
    assert result.data[0].index == 0
    vector = result.data[0].embedding
    assert len(vector) == DEFAULT_DIM and _floats(vector)


def test_embeddings_float_batch_matches_the_spec(client, spec):
    inputs = [f"first {nonce()}", "second", "third one here"]
    raw = client.embeddings.with_raw_response.create(model=EMBEDDING_MODEL, input=inputs, encoding_format="float")
    body = json.loads(raw.text)
    spec.check("CreateEmbeddingResponse", body)
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    for d in body["data"]:
        assert d["object"] == "embedding"
        assert len(d["embedding"]) == DEFAULT_DIM
    assert body["usage"]["total_tokens"] >= body["usage"]["prompt_tokens"] >= 0


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_embeddings_dimensions(client, encoding_format):
    result = client.embeddings.create(model=EMBEDDING_MODEL, input=["dims please", nonce()], dimensions=16,
                                      encoding_format=encoding_format)
    assert len(result.data) == 2
    for item in result.data:
        vector = item.embedding
        if isinstance(vector, str):  # an explicit base64 request is returned undecoded by the SDK
            raw = base64.b64decode(vector)
            assert len(raw) == 16 * 4, "base64 embeddings are little-endian float32"
            vector = list(struct.unpack("<16f", raw))
        assert len(vector) == 16


def test_embeddings_base64_raw_is_float32(http):
    r = http.post("/v1/embeddings", headers=AUTH,
                  json={"model": EMBEDDING_MODEL, "input": "raw base64", "encoding_format": "base64"})
    assert r.status_code == 200, r.text
    (item,) = r.json()["data"]
    assert isinstance(item["embedding"], str)
    raw = base64.b64decode(item["embedding"], validate=True)
    assert len(raw) == DEFAULT_DIM * 4
    assert all(math.isfinite(x) for x in struct.unpack(f"<{DEFAULT_DIM}f", raw))


def test_embeddings_route_without_v1_prefix(gateway, spec):
    with make_client(gateway, base_path="") as c:
        raw = c.embeddings.with_raw_response.create(model=EMBEDDING_MODEL, input="no prefix", encoding_format="float")
    spec.check("CreateEmbeddingResponse", json.loads(raw.text))
