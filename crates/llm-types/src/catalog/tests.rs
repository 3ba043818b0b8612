//! Tests of the embedded catalog: it loads, lookups find what users write, costs are exact.

use super::*;

fn table() -> &'static Catalog {
    match catalog() {
        Ok(c) => c,
        Err(e) => panic!("the embedded catalog does not load: {e}"),
    }
}

#[test]
fn embedded_table_loads_with_its_provenance() {
    let c = table();
    assert!(c.source().starts_with("LiteLLM 1.108.7 "), "{}", c.source());
    let date = c.generated().as_bytes();
    assert!(
        date.len() == 10 && date[4] == b'-' && date[7] == b'-',
        "{}",
        c.generated()
    );
    assert!(c.models().len() > 3_000, "{} models", c.models().len());
    assert!(
        c.models().windows(2).all(|w| w[0].id < w[1].id),
        "ids sorted and unique"
    );
    assert!(c.get("sample_spec").is_none());
}

#[test]
fn lookup_finds_what_users_write() {
    // (written id, catalog id found)
    let cases = [
        ("gpt-4o", Some("gpt-4o")),
        ("openai/gpt-4o", Some("gpt-4o")),
        ("gpt-4o-mini", Some("gpt-4o-mini")),
        ("azure/gpt-4o", Some("azure/gpt-4o")),
        (
            "openai/gpt-3.5-turbo-instruct",
            Some("gpt-3.5-turbo-instruct"),
        ),
        ("text-embedding-3-small", Some("text-embedding-3-small")),
        (
            "openai/text-embedding-3-small",
            Some("text-embedding-3-small"),
        ),
        ("claude-sonnet-4-5", Some("claude-sonnet-4-5")),
        ("anthropic/claude-sonnet-4-5", Some("claude-sonnet-4-5")),
        (
            "vertex_ai/claude-3-5-sonnet",
            Some("vertex_ai/claude-3-5-sonnet"),
        ),
        ("gemini/gemini-2.5-flash", Some("gemini/gemini-2.5-flash")),
        ("vertex_ai/gemini-2.5-flash", Some("gemini-2.5-flash")),
        (
            "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            Some("us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ),
        (
            "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            Some("us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ),
        (
            "bedrock/anthropic.claude-sonnet-4-6",
            Some("anthropic.claude-sonnet-4-6"),
        ),
        // a region with no entry of its own: the Bedrock model without the prefix
        (
            "ca.anthropic.claude-sonnet-4-6",
            Some("anthropic.claude-sonnet-4-6"),
        ),
        (
            "bedrock/ca.anthropic.claude-sonnet-4-6",
            Some("anthropic.claude-sonnet-4-6"),
        ),
        // another provider's model is not borrowed
        ("openai/claude-sonnet-4-5", None),
        ("groq/gpt-4o", None),
        // region prefixes only lead to Bedrock models
        ("us.gpt-4o", None),
        // date suffixes are not guessed
        ("gpt-4o-2099-01-01", None),
        ("", None),
        ("/", None),
        ("openai/", None),
    ];
    for (written, expected) in cases {
        assert_eq!(lookup(written).map(|m| m.id), expected, "{written:?}");
    }
}

#[test]
fn entries_carry_limits_modes_prices_and_capabilities() {
    let gpt = lookup("gpt-4o").unwrap();
    assert_eq!(gpt.provider, Some("openai"));
    assert_eq!(gpt.mode, Some(Mode::Chat));
    assert_eq!(
        (gpt.max_input_tokens, gpt.max_output_tokens),
        (Some(128_000), Some(16_384))
    );
    assert_eq!(
        gpt.prices,
        Prices {
            input: TokenPrice::parse_per_token("2.5e-06"),
            output: TokenPrice::parse_per_token("1e-05"),
            cache_read: TokenPrice::parse_per_token("1.25e-06"),
            cache_creation: None,
            reasoning: None,
        }
    );
    assert_eq!(
        gpt.capabilities,
        Capabilities {
            function_calling: true,
            vision: true,
            response_schema: true,
            prompt_caching: true,
            reasoning: false,
        }
    );
    let embed = lookup("text-embedding-3-small").unwrap();
    assert_eq!(
        (embed.mode, embed.max_output_tokens),
        (Some(Mode::Embedding), None)
    );
    let flash = lookup("gemini/gemini-2.5-flash").unwrap();
    assert!(flash.capabilities.reasoning);
    assert_eq!(
        flash.prices.reasoning,
        TokenPrice::parse_per_token("2.5e-6")
    );
}

fn usage(prompt: u64, completion: u64, cached: Option<u64>, created: Option<u64>) -> Usage {
    Usage::new(prompt, completion).with_cache(cached, created)
}

#[test]
fn cost_of_known_models_matches_hand_computed_figures() {
    // (model, usage, nano-dollars, the hand computation)
    let cases = [
        (
            "gpt-4o",
            usage(1_000, 500, None, None),
            7_500_000,
            "1000·2500 + 500·10000",
        ),
        (
            "gpt-4o",
            usage(1_000, 500, Some(400), None),
            7_000_000,
            "600·2500 + 400·1250 + 500·10000",
        ),
        (
            "gpt-4o-mini",
            usage(3, 1, Some(1), None),
            975,
            "2·150 + 1·75 + 1·600",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            usage(10_000, 1_000, Some(6_000), Some(2_000)),
            30_300_000,
            "2000·3000 + 6000·300 + 2000·3750 + 1000·15000",
        ),
        (
            "text-embedding-3-small",
            usage(1_000_000, 0, None, None),
            20_000_000,
            "$0.02 / 1M",
        ),
        // a cache price below one nano-dollar: 8.75 per token, rounded once at the end
        (
            "amazon.nova-micro-v1:0",
            usage(2, 0, Some(2), None),
            18,
            "2·8.75 = 17.5 → 18",
        ),
    ];
    for (model, usage, nanos, why) in cases {
        let info = lookup(model).unwrap_or_else(|| panic!("{model} not found"));
        assert_eq!(info.cost(&usage), NanoDollars(nanos), "{model}: {why}");
    }
}

#[test]
fn reasoning_tokens_use_their_own_price_where_there_is_one() {
    let flash = lookup("gemini/gemini-2.5-flash").unwrap();
    let mut u = usage(100, 50, None, None);
    u.completion_tokens_details = Some(crate::CompletionTokensDetails {
        reasoning_tokens: Some(30),
        ..Default::default()
    });
    // 100·300 + 20·2500 + 30·2500 (gemini prices reasoning like output)
    assert_eq!(flash.cost(&u), NanoDollars(155_000));
}

#[test]
fn every_price_round_trips_through_its_decimal_text() {
    let mut seen = 0;
    for m in table().models() {
        let p = m.prices;
        for price in [
            p.input,
            p.output,
            p.cache_read,
            p.cache_creation,
            p.reasoning,
        ]
        .into_iter()
        .flatten()
        {
            let text = price.to_string();
            assert_eq!(
                TokenPrice::parse_per_token(&text),
                Some(price),
                "{} {text}",
                m.id
            );
            seen += 1;
        }
    }
    assert!(seen > 8_000, "{seen} prices");
}

#[test]
fn a_table_of_another_layout_is_an_error_not_a_panic() {
    let cases = [
        "not json",
        r#"{"source": "s", "generated": "d", "price_unit": "dollars", "columns": [], "models": []}"#,
        r#"{"source": "s", "generated": "d",
            "price_unit": "nano-dollars per million tokens (1e-15 USD per token)",
            "columns": ["id","provider","mode","max_input_tokens","max_output_tokens","input",
                        "output","cache_read","cache_creation","reasoning","flags"],
            "models": [["m",null,null,null,null,null,null,null,null,null,"x"]]}"#,
    ];
    for text in cases {
        assert!(parse(text).is_err(), "{text}");
    }
}
