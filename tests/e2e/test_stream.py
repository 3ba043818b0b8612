"""Streaming chat completions: chunks, usage in streams, and streams the upstream cuts or stalls mid-way.

The mock streams one chunk per word. The gateway always asks the upstream for usage
(`stream_options.include_usage: true`) so it can account for the call, but shows the usage chunk to the client
only when the client asked for it."""

import pytest

import openai
from support import (BROKEN_STREAM_MODEL, CHAT_MODEL, STALLING_MODEL, assert_error_body, check_stream_chunks,
                     finish_reasons, nonce, post_sse, stream_text, user, words)


def test_stream_without_include_usage_has_no_usage_chunk(client):
    n = nonce()
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"stream me please {n}")],
                                                 stream=True))
    assert all(c.usage is None for c in chunks), "usage was not asked for, yet a chunk carries it"
    assert all(c.choices for c in chunks), "a chunk without choices (a usage chunk?) was sent unasked"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == f"echo: stream me please {n}"
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_with_include_usage_ends_with_one_usage_chunk(client):
    n = nonce()
    prompt = f"count my words {n}"
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=[user(prompt)], stream=True,
                                                 stream_options={"include_usage": True}))
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1, f"expected exactly one usage chunk, got {len(with_usage)}"
    last = chunks[-1]
    assert last is with_usage[0], "the usage chunk must be the last chunk"
    assert last.choices == []
    reply = f"echo: {prompt}"
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == reply
    assert last.usage.prompt_tokens == words(prompt)
    assert last.usage.completion_tokens == words(reply)
    assert last.usage.total_tokens == words(prompt) + words(reply)


@pytest.mark.parametrize("include_usage", [False, True], ids=["no-usage", "usage"])
def test_stream_raw_chunks_match_the_spec(http, spec, include_usage):
    n = nonce()
    body = {"model": CHAT_MODEL, "messages": [user(f"validate every chunk {n}")], "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    resp, transcript = post_sse(http, body)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert transcript.done, f"the stream must end with data: [DONE], got {transcript.payloads[-3:]!r}"
    assert transcript.errors == []
    chunks = check_stream_chunks(spec, transcript)
    assert stream_text(chunks) == f"echo: validate every chunk {n}"
    assert finish_reasons(chunks) == ["stop"]
    usage_chunks = [c for c in chunks if c.get("usage")]
    if include_usage:
        assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1] and chunks[-1]["choices"] == []
    else:
        assert usage_chunks == [] and all(c["choices"] for c in chunks)


@pytest.mark.parametrize("stream_options", [None, {"include_usage": False}, {"include_usage": True}],
                         ids=["absent", "false", "true"])
def test_gateway_always_asks_upstream_for_stream_usage(client, mock_upstream, stream_options):
    n = nonce()
    kwargs = {"stream_options": stream_options} if stream_options is not None else {}
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=[user(f"usage upstream {n}")],
                                                 stream=True, **kwargs))
    sent = mock_upstream.one_request_with(n)["body"]
    assert sent.get("stream") is True
    assert (sent.get("stream_options") or {}).get("include_usage") is True, (
        f"the upstream was not asked for usage: stream_options={sent.get('stream_options')!r}")
    client_asked = bool(stream_options and stream_options["include_usage"])
    assert [c.usage is not None for c in chunks].count(True) == (1 if client_asked else 0)


def test_stream_max_tokens_finishes_with_length(client):
    n = nonce()
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, stream=True, max_tokens=3,
                                                 messages=[user(f"a b c d e f {n}")],
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert words(text) == 3 and f"echo: a b c d e f {n}".startswith(text)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]
    assert chunks[-1].usage.completion_tokens == 3


LONG_PROMPT = "one two three four five six seven eight nine ten"


def test_cut_stream_raises_api_error_after_the_chunks_sent(client):
    n = nonce()
    received = []
    stream = client.chat.completions.create(model=BROKEN_STREAM_MODEL, stream=True,
                                            messages=[user(f"{LONG_PROMPT} {n}")])
    with pytest.raises(openai.APIError) as excinfo:
        for chunk in stream:
            received.append(chunk)
    err = excinfo.value
    assert not isinstance(err, openai.APIConnectionError), (
        f"the gateway broke the connection (or hung) instead of sending an error event: {err!r}")
    assert err.message and err.message != "An error occurred during streaming", (
        f"the error event has no message: body={err.body!r}")
    text = "".join(c.choices[0].delta.content or "" for c in received if c.choices)
    assert text, "the chunks the upstream sent before the cut must reach the client"
    assert f"echo: {LONG_PROMPT} {n}".startswith(text)
    assert words(text) <= 3, "the upstream sent only 3 chunks"


def test_cut_stream_raw_ends_with_error_event(http, spec):
    n = nonce()
    resp, transcript = post_sse(http, {"model": BROKEN_STREAM_MODEL, "stream": True,
                                       "messages": [user(f"{LONG_PROMPT} {n}")]})
    assert resp.status_code == 200
    events = transcript.json_events
    assert events and "error" in events[-1], f"the last event must be an error event, got {transcript.payloads!r}"
    assert len(transcript.errors) == 1
    assert_error_body(events[-1])
    chunks = check_stream_chunks(spec, transcript)
    assert stream_text(chunks), "the chunks sent before the cut must be forwarded"
    assert finish_reasons(chunks) == [], "a cut stream must not claim it finished normally"


def test_stalled_stream_ends_with_error_event(http, spec):
    # The upstream sends 2 chunks and then nothing; the deployment's stream_timeout is 1 s.
    n = nonce()
    resp, transcript = post_sse(http, {"model": STALLING_MODEL, "stream": True,
                                       "messages": [user(f"{LONG_PROMPT} {n}")]})
    assert resp.status_code == 200
    events = transcript.json_events
    assert events and "error" in events[-1], f"the last event must be an error event, got {transcript.payloads!r}"
    assert_error_body(events[-1])
    chunks = check_stream_chunks(spec, transcript)
    assert f"echo: {LONG_PROMPT} {n}".startswith(stream_text(chunks)) and stream_text(chunks)
    assert finish_reasons(chunks) == []


def test_stalled_stream_raises_api_error_in_the_sdk(client):
    stream = client.chat.completions.create(model=STALLING_MODEL, stream=True,
                                            messages=[user(f"{LONG_PROMPT} {nonce()}")])
    with pytest.raises(openai.APIError) as excinfo:
        for _ in stream:
            pass
    assert not isinstance(excinfo.value, openai.APIConnectionError), (
        f"the client timed out or lost the connection instead of getting an error event: {excinfo.value!r}")
