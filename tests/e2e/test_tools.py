"""Tool calls: non-stream, streamed (arguments assembled from deltas), tool_choice, and the tool-result turn.

The mock calls the first tool (or the one tool_choice names) with arguments built from the `required`
properties of its parameters schema: string "mock", number/integer 1, boolean true, array [], object {}."""

import json

from support import (CHAT_MODEL, assemble_tool_calls, check_stream_chunks, create_chat, finish_reasons, nonce,
                     post_sse, stream_text, user)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "lat": {"type": "number"},
                "metric": {"type": "boolean"},
                "hours": {"type": "array", "items": {"type": "integer"}},
                "extra": {"type": "object"},
                "note": {"type": "string"},
            },
            "required": ["city", "days", "lat", "metric", "hours", "extra"],
        },
    },
}
WEATHER_ARGS = {"city": "mock", "days": 1, "lat": 1, "metric": True, "hours": [], "extra": {}}

TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
}
TIME_ARGS = {"zone": "mock"}


def test_tool_call_non_stream(client, spec):
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, tools=[WEATHER, TIME],
                                   messages=[user(f"weather in Paris? {nonce()}")])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function" and call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGS


def test_named_tool_choice_calls_that_tool(client, spec):
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, tools=[WEATHER, TIME],
                                   tool_choice={"type": "function", "function": {"name": "get_time"}},
                                   messages=[user(f"what time is it? {nonce()}")])
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "get_time"
    assert json.loads(call.function.arguments) == TIME_ARGS


def test_required_tool_choice_calls_every_tool(client, spec):
    # The mock answers tool_choice "required" with one call per tool (parallel tool calls).
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, tools=[WEATHER, TIME], tool_choice="required",
                                   messages=[user(f"weather and time {nonce()}")])
    calls = completion.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c.function.arguments) for c in calls] == [WEATHER_ARGS, TIME_ARGS]
    assert len({c.id for c in calls}) == 2, "parallel tool calls need distinct ids"
    assert completion.choices[0].finish_reason == "tool_calls"


def test_tool_choice_none_gets_text(client, spec):
    n = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, tools=[WEATHER], tool_choice="none",
                                   messages=[user(f"just talk {n}")])
    choice = completion.choices[0]
    assert choice.message.tool_calls is None
    assert choice.message.content == f"echo: just talk {n}"
    assert choice.finish_reason == "stop"


def test_tool_call_stream_sdk(client):
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, tools=[WEATHER, TIME], stream=True,
                                                 messages=[user(f"weather, streamed {nonce()}")]))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    calls = assemble_tool_calls(deltas)
    assert list(calls) == [0], f"expected one tool call at index 0, got {calls!r}"
    call = calls[0]
    assert call["id"] and call["type"] == "function" and call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == WEATHER_ARGS
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_parallel_tool_calls_stream_sdk(client):
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, tools=[WEATHER, TIME], tool_choice="required",
                                                 stream=True, messages=[user(f"both, streamed {nonce()}")]))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    calls = assemble_tool_calls(deltas)
    assert sorted(calls) == [0, 1], f"expected tool calls at indices 0 and 1, got {calls!r}"
    assert [calls[i]["name"] for i in (0, 1)] == ["get_weather", "get_time"]
    assert [json.loads(calls[i]["arguments"]) for i in (0, 1)] == [WEATHER_ARGS, TIME_ARGS]
    assert calls[0]["id"] and calls[1]["id"] and calls[0]["id"] != calls[1]["id"]


def test_tool_call_stream_raw_chunks_match_the_spec(http, spec):
    resp, transcript = post_sse(http, {"model": CHAT_MODEL, "stream": True, "tools": [TIME],
                                       "messages": [user(f"time, streamed {nonce()}")]})
    assert resp.status_code == 200 and transcript.done
    chunks = check_stream_chunks(spec, transcript)
    deltas = [tc for c in chunks for ch in c["choices"] for tc in (ch.get("delta") or {}).get("tool_calls") or []]
    calls = assemble_tool_calls(deltas)
    assert json.loads(calls[0]["arguments"]) == TIME_ARGS
    assert finish_reasons(chunks) == ["tool_calls"]
    assert stream_text(chunks) == ""


def test_tool_result_round_trip(client, spec, mock_upstream):
    n = nonce()
    first, _, _ = create_chat(client, spec, model=CHAT_MODEL, tools=[WEATHER],
                              messages=[user(f"weather in Oslo? {n}")])
    call = first.choices[0].message.tool_calls[0]
    messages = [
        user(f"weather in Oslo? {n}"),
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": call.id, "type": "function",
                         "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": f"sunny 21C {n}"},
    ]
    second, _, _ = create_chat(client, spec, model=CHAT_MODEL, tools=[WEATHER], messages=messages)
    choice = second.choices[0]
    assert choice.message.content == f"echo: tool result: sunny 21C {n}"
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None

    sent = [r for r in mock_upstream.requests_with(f"sunny 21C {n}")]
    assert len(sent) == 1
    upstream_messages = sent[0]["body"]["messages"]
    assert upstream_messages[1]["tool_calls"][0]["id"] == call.id
    assert json.loads(upstream_messages[1]["tool_calls"][0]["function"]["arguments"]) == WEATHER_ARGS
    assert upstream_messages[2]["role"] == "tool" and upstream_messages[2]["tool_call_id"] == call.id
