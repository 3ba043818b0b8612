//! The guardrail engine on complete requests and responses: selection (default-on, key,
//! team, request), masking with per-request numbering, unmask, block, token limits,
//! during-call checks, the 400 a block becomes, and the decision counters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_policy::guardrails::{
    CallInfo, GuardrailSpec, Guardrails, Masks, NoWebhookClient, take_requested,
};
use llm_types::{ChatCompletionRequest, ChatCompletionResponse, ChatMessage, Role};
use serde_json::json;
use std::sync::Arc;

/// About 60 tokens at four characters a token.
const LONG: &str = "a sentence of many words, repeated: a sentence of many words, repeated; \
                    a sentence of many words, repeated: a sentence of many words, repeated; \
                    a sentence of many words, repeated: a sentence of many words, repeated.";

fn engine() -> Guardrails {
    let specs = GuardrailSpec::from_litellm(&json!([
        {"guardrail_name": "pii-mask", "litellm_params": {"guardrail": "pii", "mode": ["pre_call", "post_call"],
            "default_on": true, "entities": ["email", "credit_card", "phone"], "unmask": true}},
        {"guardrail_name": "secrets", "litellm_params": {"guardrail": "pii", "mode": "pre_call",
            "action": "block", "entities": ["secret"]}},
        {"guardrail_name": "words", "litellm_params": {"guardrail": "keywords", "mode": "during_call",
            "words": ["Project Falcon"]}},
        {"guardrail_name": "size", "litellm_params": {"guardrail": "max_input_tokens", "limit": 50}},
        {"guardrail_name": "out-ssn", "litellm_params": {"guardrail": "pii", "mode": "post_call",
            "action": "block", "entities": ["ssn"]}},
        {"guardrail_name": "codename", "litellm_params": {"guardrail": "regex", "mode": "pre_call",
            "action": "mask", "patterns": ["(?i)\\bfalcon-\\d+\\b"]}}
    ]))
    .unwrap();
    Guardrails::new(specs, Arc::new(NoWebhookClient)).unwrap()
}

fn request(texts: &[&str]) -> ChatCompletionRequest {
    let messages = texts
        .iter()
        .map(|t| ChatMessage::text(Role::User, *t))
        .collect();
    ChatCompletionRequest::new("gpt-4o", messages)
}

fn response(content: &str) -> ChatCompletionResponse {
    serde_json::from_value(json!({
        "id": "r", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
    }))
    .unwrap()
}

fn names(sel_of: &[&str]) -> Vec<String> {
    sel_of.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn guardrail_selection_by_default_key_team_and_request() {
    let g = engine();
    // (key's, team's, requested, selected)
    type Case = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (&[], &[], &[], &["pii-mask"]),
        (&["secrets"], &[], &[], &["pii-mask", "secrets"]),
        (&[], &["size"], &[], &["pii-mask", "size"]),
        (&[], &[], &["out-ssn"], &["pii-mask", "out-ssn"]),
        (
            &["gone"],
            &["words"],
            &["size", "size"],
            &["pii-mask", "words", "size"],
        ),
    ];
    for (key, team, requested, want) in cases {
        let sel = g
            .select(&names(key), &names(team), &names(requested))
            .unwrap();
        let chosen = g.selected_names(&sel);
        assert_eq!(&chosen, want, "key {key:?} team {team:?} req {requested:?}");
    }
    let err = g.select(&[], &[], &names(&["nope"])).unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(err.param.as_deref(), Some("guardrails"));
}

#[tokio::test]
async fn guardrail_pre_call_masks_and_post_call_unmasks() {
    let g = engine();
    let sel = g.select(&[], &[], &names(&["codename"])).unwrap();
    let ctx = CallInfo::default();
    let mut req = request(&[
        "I am jane@example.com, card 4111 1111 1111 1111",
        "again jane@example.com, also bob@example.org about FALCON-7",
    ]);
    let masks = g.pre_call(&sel, &ctx, &mut req).await.unwrap();
    let texts: Vec<String> = req.messages.iter().map(|m| m.text_content()).collect();
    assert_eq!(
        texts,
        [
            "I am [EMAIL_1], card [CREDIT_CARD_1]",
            "again [EMAIL_1], also [EMAIL_2] about [REDACTED_1]"
        ]
    );
    assert_eq!(masks.len(), 4);
    assert_eq!(masks.original("[EMAIL_2]"), Some("bob@example.org"));

    // The model echoes tokens; unmask restores the pii guardrail's (it has `unmask: true`)
    // but not the regex guardrail's; a new email in the answer is masked, never restored.
    let mut resp = response("Hello [EMAIL_1] ([CREDIT_CARD_1]), re [REDACTED_1]; cc ops@corp.io");
    g.post_call(&sel, &ctx, &mut resp, &masks).await.unwrap();
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("Hello jane@example.com (4111 1111 1111 1111), re [REDACTED_1]; cc [EMAIL_3]")
    );
}

#[tokio::test]
async fn guardrail_blocks_and_limits() {
    let g = engine();
    let ctx = CallInfo::default();
    struct Case {
        key: &'static [&'static str],
        texts: &'static [&'static str],
        prompt_tokens: Option<u64>,
        blocked_by: Option<&'static str>,
        reason_has: &'static str,
    }
    let cases = [
        Case {
            key: &["secrets"],
            texts: &["use AKIAIOSFODNN7EXAMPLE please"],
            prompt_tokens: None,
            blocked_by: Some("secrets"),
            reason_has: "secret=1",
        },
        Case {
            key: &["secrets"],
            texts: &["no secret, just sk-learn-is-a-library"],
            prompt_tokens: None,
            blocked_by: None,
            reason_has: "",
        },
        Case {
            key: &["size"],
            texts: &["short"],
            prompt_tokens: Some(51),
            blocked_by: Some("size"),
            reason_has: "51 tokens is over the limit of 50",
        },
        Case {
            key: &["size"],
            texts: &["x"],
            prompt_tokens: None,
            blocked_by: None,
            reason_has: "",
        },
        Case {
            key: &["size"],
            texts: &[LONG, LONG],
            prompt_tokens: None,
            blocked_by: Some("size"),
            reason_has: "over the limit",
        },
    ];
    for case in cases {
        let sel = g.select(&names(case.key), &[], &[]).unwrap();
        let ctx = CallInfo {
            prompt_tokens: case.prompt_tokens,
            ..ctx.clone()
        };
        let mut req = request(case.texts);
        let outcome = g.pre_call(&sel, &ctx, &mut req).await;
        match (case.blocked_by, outcome) {
            (None, Ok(_)) => {}
            (Some(name), Err(blocked)) => {
                assert_eq!(blocked.guardrail, name);
                assert!(
                    blocked.reason.contains(case.reason_has),
                    "{}",
                    blocked.reason
                );
                assert!(
                    !blocked.reason.contains("AKIA"),
                    "the reason never shows the text"
                );
                let error = blocked.into_error();
                assert_eq!(error.status(), 400);
                let body = serde_json::to_value(error.body()).unwrap();
                assert_eq!(body["error"]["code"], "guardrail_blocked");
                assert_eq!(body["error"]["type"], "invalid_request_error");
                assert!(body["error"]["message"].as_str().unwrap().contains(name));
            }
            (want, got) => panic!("{:?}: wanted block by {want:?}, got {got:?}", case.texts),
        }
    }
}

#[tokio::test]
async fn guardrail_during_call_and_post_call_block() {
    let g = engine();
    let ctx = CallInfo::default();
    let sel = g.select(&[], &names(&["words"]), &[]).unwrap();
    let cases = [
        ("tell me about project falcon", true),
        ("tell me about project falconry", false),
        ("a falcon project", false),
    ];
    for (text, blocked) in cases {
        let outcome = g.during_call(&sel, &ctx, &request(&[text])).await;
        assert_eq!(outcome.is_err(), blocked, "{text}");
    }
    let sel = g.select(&[], &[], &names(&["out-ssn"])).unwrap();
    let mut resp = response("the SSN is 123-45-6789");
    let blocked = g
        .post_call(&sel, &ctx, &mut resp, &Masks::new())
        .await
        .unwrap_err();
    assert_eq!(blocked.guardrail, "out-ssn");
    assert_eq!(blocked.reason, "response contains ssn=1");
}

#[tokio::test]
async fn guardrail_counters_count_every_decision() {
    let g = engine();
    let ctx = CallInfo::default();
    let sel = g.select(&names(&["secrets"]), &[], &[]).unwrap();
    for text in ["hi a@b.io", "plain", "AKIAIOSFODNN7EXAMPLE"] {
        let _ = g.pre_call(&sel, &ctx, &mut request(&[text])).await;
    }
    let count = |name: &str, action: &str| {
        g.counters()
            .into_iter()
            .find(|c| c.guardrail == name && c.action == action)
            .map(|c| c.count)
            .unwrap()
    };
    let cases = [
        ("pii-mask", "mask", 1),
        // The block ran first on the third request: pii-mask never saw it.
        ("pii-mask", "allow", 1),
        ("secrets", "allow", 2),
        ("secrets", "block", 1),
        ("size", "allow", 0),
    ];
    for (name, action, n) in cases {
        assert_eq!(count(name, action), n, "{name} {action}");
    }
}

#[test]
fn guardrail_take_requested_names_from_the_body() {
    let cases = [
        (json!({"guardrails": ["a", "b"]}), Ok(vec!["a", "b"])),
        (json!({}), Ok(vec![])),
        (json!({"guardrails": "a"}), Err(())),
    ];
    for (extra, want) in cases {
        let mut req = request(&["x"]);
        req.extra = extra.as_object().unwrap().clone();
        let got = take_requested(&mut req).map_err(|_| ());
        let want = want.map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(got, want);
        assert!(!req.extra.contains_key("guardrails"));
    }
}

/// The gateway runs these futures in axum handlers and spawned tasks: they must be `Send`.
#[test]
fn guardrail_futures_are_send() {
    fn send<T: Send>(_: T) {}
    let g = engine();
    let sel = g.select(&[], &[], &[]).unwrap();
    let ctx = CallInfo::default();
    let mut req = request(&["x"]);
    send(g.pre_call(&sel, &ctx, &mut req));
    let req = request(&["x"]);
    send(g.during_call(&sel, &ctx, &req));
    let mut resp = response("x");
    let masks = Masks::new();
    send(g.post_call(&sel, &ctx, &mut resp, &masks));
    send(g.stream_guard(&sel, &masks));
    send(g.clone());
}
