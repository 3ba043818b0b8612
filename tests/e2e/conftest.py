"""Fixtures: the mock upstream and the gateway as real processes on ephemeral ports, clients, the spec validator.

Environment (defaults in brackets, relative to the repository root):
  LLM_GATEWAY_BIN   the gateway binary   [target/debug/llm-gateway]
  MOCK_UPSTREAM_BIN the mock upstream    [target/debug/mock-upstream]
  CONFORMANCE_DIR   the conformance kit  [../shared/conformance]

The gateway fixture is parametrized over two config formats (LiteLLM `config.yaml` and the native format), so
every test that uses it runs once per format against one gateway process per format."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest
import yaml

from support import (CLIENT_TIMEOUT, SECRETS, UPSTREAM_KEY, UPSTREAM_KEY_ENV, litellm_config, make_client,
                     native_config)

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0  # seconds for a process to print its banner and become ready
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL


def _path_from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).resolve() if value else default


GATEWAY_BIN = _path_from_env("LLM_GATEWAY_BIN", REPO / "target" / "debug" / "llm-gateway")
MOCK_UPSTREAM_BIN = _path_from_env("MOCK_UPSTREAM_BIN", REPO / "target" / "debug" / "mock-upstream")
CONFORMANCE_DIR = _path_from_env("CONFORMANCE_DIR", REPO.parent / "shared" / "conformance")


def _require_binary(path: Path, var: str, crate: str) -> None:
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"{var}: no executable at {path}. Build it with `cargo build -p {crate}` "
            f"or point {var} at the binary.",
            pytrace=False,
        )


# ---------------------------------------------------------------------------------------------- processes

_LIVE: list["ServerProcess"] = []  # processes whose logs are attached to failing tests


class ServerProcess:
    """A child process that announces its URL on stdout. Its stderr (and any later stdout) goes to a log file."""

    def __init__(self, name: str, argv: list[str], *, banner: str, log_path: Path, env: dict, cwd: Path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab", buffering=0)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
                                     env=env, cwd=cwd)
        self._drain: threading.Thread | None = None
        try:
            self.url = self._read_banner(re.compile(banner))
        except BaseException:
            self.stop()
            raise
        _LIVE.append(self)

    def _read_banner(self, banner: re.Pattern) -> str:
        """The first stdout line must match `banner`; a read timeout makes a broken binary fail fast."""
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        buf = b""
        while b"\n" not in buf:
            if time.monotonic() > deadline:
                self._fail(f"printed no startup line within {STARTUP_TIMEOUT:.0f}s (stdout so far: {buf!r})")
            try:
                part = os.read(fd, 4096)
            except BlockingIOError:
                part = None
            if part == b"":
                self.proc.wait(timeout=STOP_TIMEOUT)
                self._fail(f"exited with status {self.proc.returncode} before its startup line (stdout: {buf!r})")
            if part:
                buf += part
            else:
                time.sleep(0.02)  # polling the pipe with a deadline, not synchronisation
        line, _, rest = buf.partition(b"\n")
        os.set_blocking(fd, True)
        m = banner.fullmatch(line.decode(errors="replace").strip())
        if not m:
            self._fail(f"first stdout line {line!r} does not match {banner.pattern!r}")
        self._log.write(rest)
        self._drain = threading.Thread(target=self._copy_stdout, daemon=True)
        self._drain.start()
        return m.group(1)

    def _copy_stdout(self) -> None:
        for chunk in iter(lambda: os.read(self.proc.stdout.fileno(), 65536), b""):
            try:
                self._log.write(chunk)
            except ValueError:  # log closed
                return

    def log_text(self, start: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _fail(self, what: str) -> None:
        self.stop()
        pytest.fail(f"{self.name} ({' '.join(self.argv)}) {what}\n--- {self.name} log ---\n{self.log_text()[-20000:]}",
                    pytrace=False)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        if self._drain is not None:
            self._drain.join(timeout=STOP_TIMEOUT)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        if self in _LIVE:
            _LIVE.remove(self)


def _child_env(**extra: str) -> dict:
    env = dict(os.environ)
    # Loopback traffic must never go through a proxy.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(var, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.setdefault("RUST_BACKTRACE", "1")
    env.setdefault("NO_COLOR", "1")  # plain logs in the files attached to failing tests
    env.update(extra)
    return env


# Attach the log lines a process wrote during a failing test to that test's report.
@pytest.fixture(autouse=True)
def _log_offsets(request):
    offsets = {p: p.log_size() for p in _LIVE}
    request.node._e2e_log_offsets = offsets
    yield
    # "Secrets never appear in errors or logs" (design, section 4): scan what each gateway logged meanwhile.
    for p in list(_LIVE):
        if p.name.startswith("llm-gateway"):
            text = p.log_text(offsets.get(p, 0))
            leaked = [s for s in SECRETS if s in text]
            assert not leaked, f"{p.name} logged secrets {leaked} during this test"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    offsets = getattr(item, "_e2e_log_offsets", {})
    for p in list(_LIVE):
        text = p.log_text(offsets.get(p, 0))
        if text.strip():
            report.sections.append((f"{p.name} log during this test", text[-20000:]))
        if not p.alive():
            report.sections.append((f"{p.name} process", f"EXITED with status {p.proc.returncode}"))


# ---------------------------------------------------------------------------------------------- mock upstream


class MockUpstream:
    def __init__(self, process: ServerProcess):
        self.process = process
        self.url = process.url
        self.http = httpx2.Client(base_url=self.url, timeout=CLIENT_TIMEOUT, trust_env=False)

    @property
    def api_base(self) -> str:
        return self.url + "/v1"

    def requests(self) -> list[dict]:
        """Every request the mock received, oldest first; `body` parsed as JSON when it is JSON text."""
        r = self.http.get("/__mock/requests")
        r.raise_for_status()
        out = []
        for rec in r.json():
            body = rec.get("body")
            if isinstance(body, str):
                try:
                    body = json.loads(body)
                except ValueError:
                    pass
            out.append({**rec, "body": body})
        return out

    def clear(self) -> None:
        self.http.delete("/__mock/requests").raise_for_status()

    def requests_with(self, marker: str) -> list[dict]:
        """The recorded requests whose body mentions `marker` (tests put a nonce in their prompt)."""
        return [r for r in self.requests() if marker in json.dumps(r.get("body"))]

    def one_request_with(self, marker: str) -> dict:
        found = self.requests_with(marker)
        assert len(found) == 1, (
            f"expected exactly one upstream request containing {marker!r}, got {len(found)}: {found!r}")
        return found[0]


@pytest.fixture(scope="session")
def mock_upstream(tmp_path_factory) -> MockUpstream:
    _require_binary(MOCK_UPSTREAM_BIN, "MOCK_UPSTREAM_BIN", "llm-mock-upstream")
    workdir = tmp_path_factory.mktemp("mock-upstream")
    process = ServerProcess(
        "mock-upstream",
        [str(MOCK_UPSTREAM_BIN), "--port", "0", "--api-key", UPSTREAM_KEY],
        banner=r"mock-upstream listening on (http://127\.0\.0\.1:\d+)",
        log_path=workdir / "mock-upstream.log", env=_child_env(), cwd=workdir,
    )
    mock = MockUpstream(process)
    yield mock
    mock.http.close()
    process.stop()


# ---------------------------------------------------------------------------------------------- gateway


CONFIG_FORMATS = {"litellm": litellm_config, "native": native_config}


class Gateway:
    def __init__(self, process: ServerProcess, config_format: str, config_path: Path):
        self.process = process
        self.url = process.url
        self.config_format = config_format
        self.config_path = config_path

    def alive(self) -> bool:
        return self.process.alive()


def launch_gateway(name: str, config: dict, workdir: Path) -> ServerProcess:
    """Writes `config` to workdir/config.yaml and starts a gateway on it, ready (readiness 200) on return."""
    _require_binary(GATEWAY_BIN, "LLM_GATEWAY_BIN", "llm-gateway")
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    process = ServerProcess(
        name,
        [str(GATEWAY_BIN), "--config", str(config_path), "--host", "127.0.0.1", "--port", "0"],
        banner=r"llm-gateway listening on (http://127\.0\.0\.1:\d+)",
        log_path=workdir / "gateway.log", env=gateway_env(), cwd=workdir,
    )
    _wait_ready(process)
    return process


@pytest.fixture(scope="session", params=list(CONFIG_FORMATS))
def gateway(request, mock_upstream, tmp_path_factory) -> Gateway:
    fmt = request.param
    workdir = tmp_path_factory.mktemp(f"gateway-{fmt}")
    process = launch_gateway(f"llm-gateway[{fmt}]", CONFIG_FORMATS[fmt](mock_upstream.api_base), workdir)
    yield Gateway(process, fmt, workdir / "config.yaml")
    process.stop()


@pytest.fixture
def start_gateway(tmp_path):
    """Starts extra gateways (own process, own config) for tests that stop or break them; all stopped after."""
    started: list[ServerProcess] = []

    def start(config: dict) -> ServerProcess:
        workdir = tmp_path / f"gateway-{len(started)}"
        workdir.mkdir()
        started.append(launch_gateway(f"llm-gateway[extra-{len(started)}]", config, workdir))
        return started[-1]

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def gateway_cli(tmp_path):
    """Runs the gateway binary to completion: `gateway_cli(*args)` -> CompletedProcess (text, bounded time)."""
    _require_binary(GATEWAY_BIN, "LLM_GATEWAY_BIN", "llm-gateway")

    def run(*args: str, timeout: float = STARTUP_TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run([str(GATEWAY_BIN), *args], cwd=tmp_path, env=gateway_env(), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    return run


def gateway_env(**extra: str) -> dict:
    """The gateway's environment: the upstream key variable the configs reference, and debug logs from the
    project's own crates (unless RUST_LOG is set), so failures come with context and the secret scan sees more."""
    env = _child_env(**{UPSTREAM_KEY_ENV: UPSTREAM_KEY}, **extra)
    env.setdefault("RUST_LOG", "info,llm_gateway=debug,llm_router=debug,llm_providers=debug,llm_policy=debug")
    return env


def _wait_ready(process: ServerProcess) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer"
    with httpx2.Client(base_url=process.url, timeout=5.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if not process.alive():
                process._fail(f"exited with status {process.proc.returncode} before it was ready")
            try:
                r = http.get("/health/readiness")
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:300]}"
            except httpx2.TransportError as e:
                last = repr(e)
            time.sleep(0.1)  # polling readiness with a deadline
    process._fail(f"GET /health/readiness not 200 within {STARTUP_TIMEOUT:.0f}s (last: {last})")


# ---------------------------------------------------------------------------------------------- clients


@pytest.fixture
def client(gateway):
    c = make_client(gateway)
    yield c
    c.close()


@pytest.fixture
def http(gateway) -> httpx2.Client:
    """A raw HTTP client on the gateway, without credentials (pass `headers=AUTH`)."""
    with httpx2.Client(base_url=gateway.url, timeout=CLIENT_TIMEOUT, trust_env=False) as c:
        yield c


# ---------------------------------------------------------------------------------------------- spec validation


class Spec:
    """OpenAI OpenAPI spec validation through the conformance kit's `oas_validate.SpecValidator`."""

    def __init__(self, spec_path: Path):
        scripts = str(CONFORMANCE_DIR / "scripts")
        if scripts not in sys.path:
            sys.path.insert(0, scripts)
        from oas_validate import SpecValidator

        self._validator = SpecValidator(str(spec_path))

    def check(self, component: str, obj) -> None:
        errors = self._validator.errors(component, obj)
        assert not errors, f"not a valid {component}:\n  " + "\n  ".join(errors) + f"\ndocument: {obj!r}"[:3000]


@pytest.fixture(scope="session")
def spec() -> Spec:
    path = CONFORMANCE_DIR / "specs" / "openai" / "openapi.json"
    if not path.is_file():
        pytest.fail(f"CONFORMANCE_DIR: no OpenAI spec at {path}; set CONFORMANCE_DIR to the conformance kit",
                    pytrace=False)
    return Spec(path)
