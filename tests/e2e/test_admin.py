"""Virtual keys through the admin API, used with the official `openai` SDK: a generated key works; its `models`
bind it (403 `model_not_allowed`); `duration` expires it (401 `key_expired`); block / unblock, regenerate and
delete take effect (401 `key_blocked` / `invalid_api_key`); the admin API needs the master key; the spend log is
keyed by the gateway's own `x-request-id`.

Changes reach the gateway's key cache within a second, so refusals are polled for with a deadline."""

from __future__ import annotations

import time

import httpx2
import openai
import pytest

from conftest import launch_gateway
from support import AUTH, CHAT_MODEL, CLIENT_TIMEOUT, DEMO_MODEL, MASTER_KEY, SECRETS, litellm_config, user

PROPAGATION_DEADLINE = 5.0  # seconds; the contract is one second, the margin absorbs a slow machine


class AdminGateway:
    def __init__(self, process):
        self.process = process
        self.url = process.url
        self.http = httpx2.Client(base_url=self.url, timeout=CLIENT_TIMEOUT, trust_env=False)

    def admin(self, method: str, path: str, body: dict | None = None, *, status: int = 200) -> dict:
        r = self.http.request(method, path, json=body, headers=AUTH)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        body = r.json()
        # Every virtual key handed out joins the secrets the log scan looks for (conftest).
        if isinstance(body, dict) and str(body.get("key", "")).startswith("sk-"):
            SECRETS.append(body["key"])
        return body

    def generate(self, **fields) -> dict:
        return self.admin("POST", "/key/generate", fields)

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0, timeout=CLIENT_TIMEOUT)


@pytest.fixture(scope="module")
def admin_gateway(mock_upstream, tmp_path_factory) -> AdminGateway:
    """A gateway of its own with a master key and a SQLite store in its working directory."""
    workdir = tmp_path_factory.mktemp("gateway-admin")
    process = launch_gateway("llm-gateway[admin]", litellm_config(mock_upstream.api_base), workdir)
    gw = AdminGateway(process)
    yield gw
    gw.http.close()
    process.stop()


def chat(client: openai.OpenAI, model: str = CHAT_MODEL):
    return client.chat.completions.create(model=model, messages=[user("hello there")], max_tokens=5)


def wait_for(outcome, *, what: str, deadline: float = PROPAGATION_DEADLINE):
    """Calls `outcome()` until it returns a truthy value, failing after `deadline` seconds."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        last = outcome()
        if last:
            return last
        time.sleep(0.05)  # polling with a deadline, not synchronisation
    pytest.fail(f"{what}: not within {deadline}s (last: {last!r})")


def refused(client: openai.OpenAI, error: type, code: str, model: str = CHAT_MODEL):
    """An outcome for `wait_for`: the call fails with `error` whose `code` is `code`."""
    def attempt():
        try:
            chat(client, model)
        except error as e:
            return e if e.code == code else None
        except openai.APIStatusError:
            return None
        return None
    return attempt


def works(client: openai.OpenAI, model: str = CHAT_MODEL):
    def attempt():
        try:
            return chat(client, model)
        except openai.APIStatusError:
            return None
    return attempt


def test_a_generated_key_works_with_the_sdk(admin_gateway):
    key = admin_gateway.generate(key_alias="sdk-key")["key"]
    assert key.startswith("sk-")
    reply = chat(admin_gateway.client(key))
    assert reply.choices[0].message.content
    assert reply.usage.total_tokens > 0


def test_models_bind_the_key(admin_gateway):
    key = admin_gateway.generate(models=[CHAT_MODEL])["key"]
    client = admin_gateway.client(key)
    assert chat(client).choices
    with pytest.raises(openai.PermissionDeniedError) as raised:
        chat(client, DEMO_MODEL)
    assert raised.value.status_code == 403
    assert raised.value.code == "model_not_allowed"


def test_a_key_expires_after_its_duration(admin_gateway):
    generated = admin_gateway.generate(duration="1s")
    assert generated["expires"]
    client = admin_gateway.client(generated["key"])
    e = wait_for(refused(client, openai.AuthenticationError, "key_expired"), what="expired key refused",
                 deadline=10.0)
    assert e.status_code == 401


def test_block_and_unblock(admin_gateway):
    key = admin_gateway.generate()["key"]
    client = admin_gateway.client(key)
    assert chat(client).choices
    assert admin_gateway.admin("POST", "/key/block", {"key": key})["blocked"] is True
    wait_for(refused(client, openai.AuthenticationError, "key_blocked"), what="blocked key refused")
    assert admin_gateway.admin("POST", "/key/unblock", {"key": key})["blocked"] is False
    wait_for(works(client), what="unblocked key works again")


def test_regenerate_replaces_the_key(admin_gateway):
    old = admin_gateway.generate(key_alias="to-regenerate")["key"]
    assert chat(admin_gateway.client(old)).choices
    new = admin_gateway.admin("POST", "/key/regenerate", {"key": old})["key"]
    assert new != old
    wait_for(refused(admin_gateway.client(old), openai.AuthenticationError, "invalid_api_key"),
             what="old key refused after regenerate")
    wait_for(works(admin_gateway.client(new)), what="new key works")
    info = admin_gateway.admin("GET", f"/key/info?key={new}")
    assert info["info"]["key_alias"] == "to-regenerate"


def test_delete_revokes_the_key(admin_gateway):
    key = admin_gateway.generate()["key"]
    client = admin_gateway.client(key)
    assert chat(client).choices
    admin_gateway.admin("POST", "/key/delete", {"keys": [key]})
    wait_for(refused(client, openai.AuthenticationError, "invalid_api_key"), what="deleted key refused")
    admin_gateway.admin("GET", f"/key/info?key={key}", status=404)


def test_the_admin_api_needs_the_master_key(admin_gateway):
    key = admin_gateway.generate()["key"]
    for presented in (None, "sk-wrong-key-0123456789", key):
        headers = {"Authorization": f"Bearer {presented}"} if presented else {}
        r = admin_gateway.http.post("/key/generate", json={}, headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "invalid_api_key"
    # A key may read its own info without naming itself.
    r = admin_gateway.http.get("/key/info", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert MASTER_KEY not in r.text


def test_spend_rows_carry_the_gateways_request_id(admin_gateway):
    key = admin_gateway.generate(key_alias="spender")["key"]
    raw = admin_gateway.client(key).chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=[user("count me")], max_tokens=5)
    request_id = raw.headers["x-request-id"]

    def row():
        rows = admin_gateway.admin("GET", f"/spend/logs?api_key={key}")
        return next((r for r in rows if r["request_id"] == request_id), None)

    found = wait_for(row, what="the spend row of the request", deadline=10.0)
    assert found["model_group"] == CHAT_MODEL
    assert found["total_tokens"] > 0
    assert found["spend"] >= 0
