//! The price book: what each deployment's tokens cost (the config's `*_cost_per_token` over
//! the model catalog's), and what a request to a model group may cost at most, for budget
//! reservations. Built once per configuration; spend is computed from it in integers.

use llm_types::catalog::{self, Prices};
use llm_types::money::NanoDollars;
use llm_types::{ChatCompletionRequest, Usage};
use std::collections::HashMap;

/// Output tokens reserved for a request that sets no `max_tokens`, capped by the model's own
/// output limit when the catalog knows it.
pub const DEFAULT_RESERVED_OUTPUT_TOKENS: u64 = 4096;

/// Prices by deployment id, and the dearest prices of each model group.
#[derive(Debug, Default)]
pub struct PriceBook {
    deployments: HashMap<String, Prices>,
    groups: HashMap<String, GroupCeiling>,
}

/// The dearest input and output price among a group's deployments (a reservation must cover
/// whichever deployment the router picks), and the largest output limit.
#[derive(Debug, Default, Clone, Copy)]
struct GroupCeiling {
    prices: Prices,
    max_output_tokens: Option<u64>,
}

impl PriceBook {
    /// Adds deployment `id` of `group`, calling `target_model` at the `configured` prices
    /// (the catalog fills the rest).
    pub fn insert(&mut self, id: &str, group: &str, configured: &Prices, target_model: &str) {
        let prices = merged(configured, target_model);
        let max_output = catalog::lookup(target_model).and_then(|m| m.max_output_tokens);
        let ceiling = self.groups.entry(group.to_owned()).or_default();
        ceiling.prices.input = dearest(ceiling.prices.input, prices.input);
        ceiling.prices.output = dearest(ceiling.prices.output, prices.output);
        ceiling.max_output_tokens = dearest(ceiling.max_output_tokens, max_output);
        self.deployments.insert(id.to_owned(), prices);
    }

    /// The prices of the deployment `id` calling `target_model` (wildcard deployments, made
    /// per request, are priced from the catalog).
    pub fn deployment(&self, id: &str, target_model: &str) -> Prices {
        self.deployments
            .get(id)
            .copied()
            .unwrap_or_else(|| merged(&Prices::default(), target_model))
    }

    /// What `usage` cost on deployment `id`; `None` when neither its input nor its output
    /// price is known (a wrong figure is worse than none).
    pub fn cost(&self, id: &str, target_model: &str, usage: &Usage) -> Option<NanoDollars> {
        let prices = self.deployment(id, target_model);
        (prices.input.is_some() || prices.output.is_some()).then(|| prices.cost(usage))
    }

    /// The most a chat request may cost on `group`: its estimated prompt at the dearest input
    /// price plus its output cap (or a default) at the dearest output price. Unknown prices
    /// reserve nothing.
    pub fn reservation(
        &self,
        group: &str,
        request: &ChatCompletionRequest,
        prompt_tokens: u64,
    ) -> NanoDollars {
        let ceiling = self.ceiling(group);
        let output_cap = request.max_output_tokens().map(u64::from).unwrap_or(
            ceiling
                .max_output_tokens
                .map_or(DEFAULT_RESERVED_OUTPUT_TOKENS, |m| {
                    m.min(DEFAULT_RESERVED_OUTPUT_TOKENS)
                }),
        );
        ceiling.prices.cost(&Usage::new(prompt_tokens, output_cap))
    }

    /// The most `prompt_tokens` of input cost on `group` (embeddings, abandoned requests).
    pub fn input_estimate(&self, group: &str, prompt_tokens: u64) -> NanoDollars {
        self.ceiling(group)
            .prices
            .cost(&Usage::new(prompt_tokens, 0))
    }

    fn ceiling(&self, group: &str) -> GroupCeiling {
        self.groups.get(group).copied().unwrap_or_else(|| {
            // A wildcard group's model is the catalog's.
            let prices = merged(&Prices::default(), group);
            GroupCeiling {
                prices,
                max_output_tokens: catalog::lookup(group).and_then(|m| m.max_output_tokens),
            }
        })
    }
}

/// The config's prices, each missing one taken from the catalog entry of `model`.
fn merged(configured: &Prices, model: &str) -> Prices {
    let catalog = catalog::lookup(model).map(|m| m.prices).unwrap_or_default();
    Prices {
        input: configured.input.or(catalog.input),
        output: configured.output.or(catalog.output),
        cache_read: configured.cache_read.or(catalog.cache_read),
        cache_creation: configured.cache_creation.or(catalog.cache_creation),
        reasoning: configured.reasoning.or(catalog.reasoning),
    }
}

fn dearest<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::catalog::TokenPrice;
    use llm_types::{ChatMessage, CompletionTokensDetails};

    fn price(per_token: &str) -> Option<TokenPrice> {
        Some(TokenPrice::parse_per_token(per_token).unwrap())
    }

    fn usage(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> Usage {
        let mut usage = Usage::new(prompt, completion).with_cache(Some(cached), None);
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            ..Default::default()
        });
        usage
    }

    #[test]
    fn spend_is_priced_per_deployment_exactly() {
        let full = Prices {
            input: price("0.000001"),
            output: price("0.000002"),
            cache_read: price("0.0000005"),
            cache_creation: None,
            reasoning: price("0.000004"),
        };
        let plain = Prices {
            input: price("0.000001"),
            output: price("0.000002"),
            ..Prices::default()
        };
        let input_only = Prices {
            input: price("0.000001"),
            ..Prices::default()
        };
        let mini = catalog::lookup("openai/gpt-4o-mini").unwrap().prices;
        let mut book = PriceBook::default();
        book.insert("full", "g", &full, "mock/unknown");
        book.insert("plain", "g", &plain, "mock/unknown");
        book.insert("bare", "g", &Prices::default(), "mock/unknown");
        book.insert("override", "g", &input_only, "openai/gpt-4o-mini");
        book.insert("catalog", "g", &Prices::default(), "openai/gpt-4o-mini");
        let cases = [
            // 600 uncached + 400 cached at half price, 300 output + 200 reasoning at 2x.
            ("full", usage(1000, 400, 500, 200), Some(2_200_000)),
            // No cache or reasoning price: cached tokens at the input price, reasoning at output.
            ("plain", usage(1000, 400, 500, 200), Some(2_000_000)),
            ("plain", usage(0, 0, 0, 0), Some(0)),
            // No price at all: no figure rather than a wrong one.
            ("bare", usage(1000, 0, 10, 0), None),
            // The config's input price, the catalog's output price.
            (
                "override",
                usage(1000, 0, 100, 0),
                Some(
                    1_000_000
                        + Prices {
                            output: mini.output,
                            ..Prices::default()
                        }
                        .cost(&Usage::new(0, 100))
                        .0,
                ),
            ),
            (
                "catalog",
                usage(1000, 0, 100, 0),
                Some(mini.cost(&Usage::new(1000, 100)).0),
            ),
            // A deployment made per request (wildcard): catalog prices of its model.
            (
                "unknown-id",
                usage(1000, 0, 100, 0),
                Some(mini.cost(&Usage::new(1000, 100)).0),
            ),
        ];
        for (id, usage, expected) in cases {
            let model = if id == "unknown-id" {
                "openai/gpt-4o-mini"
            } else {
                "mock/unknown"
            };
            assert_eq!(
                book.cost(id, model, &usage).map(|c| c.0),
                expected,
                "{id} {usage:?}"
            );
        }
    }

    #[test]
    fn reservations_cover_the_dearest_deployment_and_the_output_cap() {
        let cheap = Prices {
            input: price("0.000001"),
            output: price("0.000001"),
            ..Prices::default()
        };
        let dear = Prices {
            input: price("0.000003"),
            output: price("0.00001"),
            ..Prices::default()
        };
        let mut book = PriceBook::default();
        book.insert("a", "g", &cheap, "mock/a");
        book.insert("b", "g", &dear, "mock/b");
        let mut request = ChatCompletionRequest::new(
            "g",
            vec![ChatMessage::text(llm_types::Role::User, "x".repeat(400))],
        );
        let prompt = request.estimate_prompt_tokens();
        let cases = [
            (Some(100), prompt * 3_000 + 100 * 10_000),
            (
                None,
                prompt * 3_000 + DEFAULT_RESERVED_OUTPUT_TOKENS * 10_000,
            ),
        ];
        for (max_tokens, expected_nanos) in cases {
            request.max_tokens = max_tokens;
            assert_eq!(
                book.reservation("g", &request, prompt).0 as u64,
                expected_nanos,
                "{max_tokens:?}"
            );
        }
        // A group without prices reserves nothing.
        assert_eq!(
            book.reservation("other", &request, prompt),
            NanoDollars::ZERO
        );
    }
}
