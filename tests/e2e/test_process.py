"""The gateway as a process: configuration checks (design, section 5) and a graceful stop on SIGTERM.

These start their own gateway processes (or run `llm-gateway check-config`), so they stop or break them freely."""

import threading
import time

import httpx2
import yaml

from support import (AUTH, CHAT_MODEL, CHAT_PATH, CLIENT_TIMEOUT, DEPLOYMENTS, litellm_config, native_config, nonce,
                     user)

GRACE = 15.0  # seconds a stopped gateway may take to finish in-flight work and exit


def _write(tmp_path, config: dict):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_check_config_accepts_the_suite_config(gateway, gateway_cli):
    r = gateway_cli("check-config", str(gateway.config_path))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "warning" not in out.lower(), f"the suite's config uses only supported keys, yet: {out}"


def test_check_config_reports_every_error_with_its_key_path(tmp_path, gateway_cli, mock_upstream):
    config = native_config(mock_upstream.api_base)
    config["server"]["listen_backlogg"] = 5
    config["models"][0]["temperture"] = 0.5
    config["models"][1]["api_key"] = "${E2E_SURELY_UNSET_VARIABLE}"
    r = gateway_cli("check-config", str(_write(tmp_path, config)))
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    lines = out.splitlines()
    # All three problems at once, each with where it is.
    assert any("server" in line and "listen_backlogg" in line for line in lines), out
    assert any("models" in line and "temperture" in line for line in lines), out
    assert any("E2E_SURELY_UNSET_VARIABLE" in line and "api_key" in line for line in lines), out


def test_invalid_config_stops_the_gateway_before_it_listens(tmp_path, gateway_cli, mock_upstream):
    config = native_config(mock_upstream.api_base)
    config["models"][0]["temperture"] = 0.5
    r = gateway_cli("--config", str(_write(tmp_path, config)), "--host", "127.0.0.1", "--port", "0")
    assert r.returncode != 0
    assert "listening" not in r.stdout, f"the gateway started on an invalid config: {r.stdout}"
    assert "temperture" in r.stderr, r.stderr


def test_litellm_unsupported_keys_are_reported_by_name(tmp_path, gateway_cli, mock_upstream):
    config = litellm_config(mock_upstream.api_base)
    config["litellm_settings"] = {"some_unsupported_knob": True}
    config["model_list"][0]["litellm_params"]["weird_param"] = 1
    r = gateway_cli("check-config", str(_write(tmp_path, config)))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "some_unsupported_knob" in out and "weird_param" in out, f"unsupported keys silently ignored: {out}"


def test_sigterm_exits_cleanly(start_gateway, mock_upstream):
    process = start_gateway(native_config(mock_upstream.api_base))
    with httpx2.Client(base_url=process.url, timeout=CLIENT_TIMEOUT, trust_env=False) as http:
        r = http.post(CHAT_PATH, headers=AUTH, json={"model": CHAT_MODEL, "messages": [user("hi")]})
        assert r.status_code == 200, r.text
    process.proc.terminate()
    assert process.proc.wait(timeout=GRACE) == 0


def test_sigterm_lets_the_in_flight_request_finish(start_gateway, mock_upstream):
    slow = ("slow-model", "openai/slow-1500", {})  # the mock waits 1.5 s before answering
    process = start_gateway(native_config(mock_upstream.api_base, [*DEPLOYMENTS, slow]))
    n = nonce()
    result: dict = {}

    def call() -> None:
        with httpx2.Client(base_url=process.url, timeout=CLIENT_TIMEOUT, trust_env=False) as http:
            try:
                result["response"] = http.post(CHAT_PATH, headers=AUTH,
                                               json={"model": "slow-model", "messages": [user(f"drain me {n}")]})
            except httpx2.HTTPError as e:
                result["error"] = e

    caller = threading.Thread(target=call)
    caller.start()
    # Wait (bounded) until the request is in flight: the mock has received it and is sitting on it.
    deadline = time.monotonic() + CLIENT_TIMEOUT
    while not mock_upstream.requests_with(n):
        assert time.monotonic() < deadline and caller.is_alive(), f"the request never reached the upstream: {result}"
        time.sleep(0.01)  # polling the mock's log with a deadline
    process.proc.terminate()
    caller.join(timeout=CLIENT_TIMEOUT)
    assert "error" not in result, f"the in-flight request failed during shutdown: {result['error']!r}"
    resp = result["response"]
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == f"echo: drain me {n}"
    assert process.proc.wait(timeout=GRACE) == 0
