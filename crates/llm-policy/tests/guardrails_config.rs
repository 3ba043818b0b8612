//! `GuardrailSpec::from_litellm`: LiteLLM's list shape and the native flat shape parse; every
//! mistake is reported, named by its key path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_policy::guardrails::{Action, Entity, GuardrailKind, GuardrailSpec, Stage};
use serde_json::json;
use std::time::Duration;

#[test]
fn guardrail_config_parses_every_kind() {
    let value = json!([
        {"guardrail_name": "pii-mask", "litellm_params": {"guardrail": "pii", "mode": ["pre_call", "post_call"],
            "default_on": true, "entities": ["email", "credit_card"], "unmask": true}},
        {"guardrail_name": "deny", "litellm_params": {"guardrail": "regex", "mode": "pre_call",
            "patterns": ["(?i)project\\s+x"], "action": "mask"}},
        {"guardrail_name": "words", "litellm_params": {"guardrail": "keywords", "mode": "during_call",
            "words": ["confidential"]}},
        {"guardrail_name": "size", "litellm_params": {"guardrail": "max_input_tokens", "mode": "pre_call", "limit": 1000}},
        {"guardrail_name": "hook", "litellm_params": {"guardrail": "webhook", "mode": ["pre_call", "post_call"],
            "url": "http://127.0.0.1:9/check", "timeout_ms": 250, "fail_open": true, "headers": {"x-token": "t"}}},
        {"guardrail_name": "flat", "guardrail": "pii", "mode": "post_call", "action": "block"}
    ]);
    let specs = GuardrailSpec::from_litellm(&value).unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["pii-mask", "deny", "words", "size", "hook", "flat"]);
    assert_eq!(specs[0].modes, [Stage::PreCall, Stage::PostCall]);
    assert!(specs[0].default_on && !specs[1].default_on);
    assert_eq!(
        specs[0].kind,
        GuardrailKind::Pii {
            action: Action::Mask,
            entities: vec![Entity::Email, Entity::CreditCard],
            unmask: true
        }
    );
    assert!(matches!(
        specs[1].kind,
        GuardrailKind::Regex {
            action: Action::Mask,
            ..
        }
    ));
    assert!(matches!(
        specs[2].kind,
        GuardrailKind::Keywords {
            action: Action::Block,
            ..
        }
    ));
    assert_eq!(specs[3].kind, GuardrailKind::MaxInputTokens { limit: 1000 });
    let GuardrailKind::Webhook(hook) = &specs[4].kind else {
        panic!("webhook expected")
    };
    assert_eq!(hook.timeout, Duration::from_millis(250));
    assert!(hook.fail_open);
    assert_eq!(hook.headers, [("x-token".to_owned(), "t".to_owned())]);
    match &specs[5].kind {
        GuardrailKind::Pii {
            action, entities, ..
        } => {
            assert_eq!(*action, Action::Block);
            assert_eq!(entities.len(), 7, "all entities by default");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn guardrail_config_errors_are_named_by_path() {
    let cases: &[(serde_json::Value, &[&str])] = &[
        (json!({"a": 1}), &["guardrails"]),
        (
            json!([{"guardrail_name": "x", "litellm_params": {"guardrail": "presidio", "mode": "pre_call"}}]),
            &["guardrails[0].litellm_params.guardrail"],
        ),
        (
            json!([{"guardrail_name": "x", "litellm_params": {"guardrail": "pii", "mode": "sometimes"}}]),
            &["guardrails[0].litellm_params.mode"],
        ),
        (
            json!([{"litellm_params": {"guardrail": "pii", "action": "shout", "entities": ["email", "dna"]}}]),
            &[
                "guardrails[0].guardrail_name",
                "guardrails[0].litellm_params.action",
                "guardrails[0].litellm_params.entities[1]",
            ],
        ),
        (
            json!([
                {"guardrail_name": "ok", "litellm_params": {"guardrail": "keywords", "words": ["a"]}},
                {"guardrail_name": "r", "litellm_params": {"guardrail": "regex", "patterns": ["ok", "(unclosed"]}}
            ]),
            &["guardrails[1].litellm_params.patterns[1]"],
        ),
        (
            json!([{"guardrail_name": "t", "litellm_params": {"guardrail": "max_input_tokens", "mode": "post_call"}}]),
            &[
                "guardrails[0].litellm_params.mode",
                "guardrails[0].litellm_params.limit",
            ],
        ),
        (
            json!([{"guardrail_name": "w", "litellm_params": {"guardrail": "webhook", "url": "ftp://x",
                "timeout_ms": 0, "fail_open": "yes", "headers": {"a": 1}}}]),
            &[
                "guardrails[0].litellm_params.url",
                "guardrails[0].litellm_params.timeout_ms",
                "guardrails[0].litellm_params.fail_open",
                "guardrails[0].litellm_params.headers.a",
            ],
        ),
        (
            json!([
                {"guardrail_name": "d", "litellm_params": {"guardrail": "pii"}},
                {"guardrail_name": "d", "litellm_params": {"guardrail": "pii"}}
            ]),
            &["guardrails[1].guardrail_name"],
        ),
        (
            json!([{"guardrail_name": "k", "litellm_params": {"guardrail": "keywords", "words": []}}]),
            &["guardrails[0].litellm_params.words"],
        ),
    ];
    for (value, paths) in cases {
        let errors = GuardrailSpec::from_litellm(value).unwrap_err();
        let got: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(&got, paths, "{value}: {errors:?}");
    }
}
