"""Non-stream chat completions through the official SDK: content, usage, finish_reason, vision, JSON modes.

The mock upstream replies `"echo: " + <last user message>` and counts whitespace words as tokens, so every
number below is exact. Every raw body is validated against the OpenAI spec's CreateChatCompletionResponse."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import CHAT_MODEL, DEMO_MODEL, PNG_DATA_URL, create_chat, make_client, nonce, user, words


def test_chat_reply_usage_and_finish_reason(client, spec):
    n = nonce()
    messages = [{"role": "system", "content": "Answer in one short line."}, user(f"hello there {n}")]
    completion, body, _ = create_chat(client, spec, model=CHAT_MODEL, messages=messages)

    assert body["object"] == "chat.completion"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == f"echo: hello there {n}"
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    # Required nulls are present on the wire, not merely absent.
    assert body["choices"][0]["logprobs"] is None
    assert "refusal" in body["choices"][0]["message"]

    usage = completion.usage
    assert usage.prompt_tokens == words("Answer in one short line.") + words(f"hello there {n}")
    assert usage.completion_tokens == words(f"echo: hello there {n}")
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_chat_multi_turn_replies_to_last_user_message(client, spec):
    n = nonce()
    messages = [
        user("first question"),
        {"role": "assistant", "content": "first answer"},
        user(f"second question {n}"),
    ]
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, messages=messages)
    assert completion.choices[0].message.content == f"echo: second question {n}"
    assert completion.usage.prompt_tokens == sum(words(m["content"]) for m in messages)


def test_chat_max_tokens_truncates_with_finish_reason_length(client, spec):
    n = nonce()
    full = f"echo: one two three four five {n}"
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, max_tokens=2,
                                   messages=[user(f"one two three four five {n}")])
    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    assert completion.usage.completion_tokens == 2
    assert words(choice.message.content) == 2
    assert full.startswith(choice.message.content)


def test_chat_n_choices(client, spec):
    n = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, n=2, messages=[user(f"twice {n}")])
    assert [c.index for c in completion.choices] == [0, 1]
    assert [c.message.content for c in completion.choices] == [f"echo: twice {n}"] * 2


def test_chat_route_without_v1_prefix(gateway, spec):
    n = nonce()
    with make_client(gateway, base_path="") as c:
        completion, _, _ = create_chat(c, spec, model=CHAT_MODEL, messages=[user(f"no prefix {n}")])
    assert completion.choices[0].message.content == f"echo: no prefix {n}"


def test_chat_image_input_as_data_url(client, spec, mock_upstream):
    n = nonce()
    content = [
        {"type": "text", "text": f"what is in these {n}"},
        {"type": "image_url", "image_url": {"url": PNG_DATA_URL}},
        {"type": "image_url", "image_url": {"url": PNG_DATA_URL, "detail": "low"}},
    ]
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, messages=[{"role": "user", "content": content}])
    assert completion.choices[0].message.content == f"echo: what is in these {n} [images: 2]"

    sent = mock_upstream.one_request_with(n)["body"]["messages"][0]["content"]
    urls = [p["image_url"]["url"] for p in sent if p.get("type") == "image_url"]
    assert urls == [PNG_DATA_URL, PNG_DATA_URL], "the data: URLs must reach the upstream unchanged"


PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "height": {"type": "number"},
        "verified": {"type": "boolean"},
        "mood": {"type": "string", "enum": ["happy", "sad"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age", "height", "verified", "mood", "tags"],
    "additionalProperties": False,
}


def test_chat_json_schema_response_format(client, spec):
    completion, _, _ = create_chat(
        client, spec, model=CHAT_MODEL, messages=[user(f"describe a person {nonce()}")],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": True}},
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    person = json.loads(choice.message.content)
    assert set(person) == set(PERSON_SCHEMA["properties"])
    assert isinstance(person["name"], str)
    assert isinstance(person["age"], int) and not isinstance(person["age"], bool)
    assert isinstance(person["height"], (int, float)) and not isinstance(person["height"], bool)
    assert person["verified"] is True
    assert person["mood"] == "happy"  # the first enum value
    assert isinstance(person["tags"], list)


def test_chat_json_object_response_format(client, spec):
    n = nonce()
    completion, _, _ = create_chat(client, spec, model=CHAT_MODEL, response_format={"type": "json_object"},
                                   messages=[user(f"reply in json {n}")])
    data = json.loads(completion.choices[0].message.content)
    assert isinstance(data, dict) and n in data["echo"]


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_builtin_demo_model_needs_no_upstream(client, spec, mock_upstream, stream):
    n = nonce()
    if stream:
        chunks = list(client.chat.completions.create(model=DEMO_MODEL, messages=[user(f"hi demo {n}")], stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    else:
        completion, _, _ = create_chat(client, spec, model=DEMO_MODEL, messages=[user(f"hi demo {n}")])
        text = completion.choices[0].message.content
        assert completion.choices[0].finish_reason == "stop"
        assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert isinstance(text, str) and text.strip()
    assert mock_upstream.requests_with(n) == [], "the built-in mock provider must not call any upstream"


def test_concurrent_requests_each_get_their_own_reply(client):
    """Interleaved streamed and non-streamed requests on a shared client: no reply crosses to another request."""
    nonces = [nonce() for _ in range(16)]

    def ask(i: int) -> str:
        messages = [user(f"concurrent {nonces[i]}")]
        if i % 2:
            chunks = client.chat.completions.create(model=CHAT_MODEL, messages=messages, stream=True)
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return client.chat.completions.create(model=CHAT_MODEL, messages=messages).choices[0].message.content

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(ask, range(len(nonces))))
    assert replies == [f"echo: concurrent {n}" for n in nonces]
