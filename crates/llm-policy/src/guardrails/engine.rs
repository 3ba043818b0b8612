//! The guardrail engine: selection of a request's guardrails, and the pre-call, during-call
//! and post-call runs. Every decision is counted and logged with the guardrail's name, the
//! stage, the action and the entity counts: never the text.

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, ContentPart, Error, MessageContent,
};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::config::{Action, GuardrailKind, GuardrailSpec, Stage};
use super::counters::{Counters, Decision, GuardrailCount};
use super::detect::{Detector, Found};
use super::masks::Masks;
use super::stream::StreamGuard;
use super::webhook::{self, Verdict, WebhookClient};
use super::{Blocked, CallInfo};

/// A configured guardrail with its compiled detector.
pub(super) struct Rule {
    pub spec: GuardrailSpec,
    pub detector: Option<Detector>,
}

impl Rule {
    /// The action and unmask flag of a detector guardrail.
    pub fn masking(&self) -> Option<(Action, bool)> {
        match &self.spec.kind {
            GuardrailKind::Pii { action, unmask, .. }
            | GuardrailKind::Regex { action, unmask, .. }
            | GuardrailKind::Keywords { action, unmask, .. } => Some((*action, *unmask)),
            _ => None,
        }
    }
}

pub(super) struct Inner {
    pub rules: Vec<Rule>,
    pub counters: Counters,
    client: Arc<dyn WebhookClient>,
}

impl Inner {
    /// Counts and logs one decision.
    pub fn decide(&self, i: usize, stage: &str, decision: Decision, found: &[Found], id: &str) {
        self.counters.add(i, decision);
        let guardrail = self.rules[i].spec.name.as_str();
        let action = decision.as_str();
        let entities = entity_counts(found);
        if decision == Decision::Allow {
            tracing::debug!(
                request_id = id,
                guardrail,
                stage,
                action,
                "guardrail decision"
            );
        } else {
            tracing::info!(
                request_id = id,
                guardrail,
                stage,
                action,
                entities,
                "guardrail decision"
            );
        }
    }
}

/// The guardrails of the gateway. Cheap to clone.
#[derive(Clone)]
pub struct Guardrails {
    inner: Arc<Inner>,
}

/// The guardrails that apply to one request, in configuration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    rules: Vec<usize>,
}

impl Selection {
    /// Whether no guardrail applies (the gateway can skip every guardrail step).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Guardrails {
    /// Compiles the guardrails; `client` sends webhook calls. Errors are named by path like
    /// [`GuardrailSpec::from_litellm`]'s (already-validated specs never fail).
    pub fn new(
        specs: Vec<GuardrailSpec>,
        client: Arc<dyn WebhookClient>,
    ) -> Result<Guardrails, Vec<(String, String)>> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut errors = Vec::new();
        for (i, spec) in specs.into_iter().enumerate() {
            match Detector::of(&spec.kind) {
                Ok(detector) => rules.push(Rule { spec, detector }),
                Err(e) => errors.push((format!("guardrails[{i}].litellm_params"), e)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let counters = Counters::new(rules.len());
        Ok(Guardrails {
            inner: Arc::new(Inner {
                rules,
                counters,
                client,
            }),
        })
    }

    /// No guardrails at all.
    pub fn empty() -> Guardrails {
        Guardrails {
            inner: Arc::new(Inner {
                rules: Vec::new(),
                counters: Counters::new(0),
                client: Arc::new(super::NoWebhookClient),
            }),
        }
    }

    /// The configured guardrails' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.inner
            .rules
            .iter()
            .map(|r| r.spec.name.as_str())
            .collect()
    }

    /// The names of the guardrails `sel` holds, in configuration order (for logs, and for a
    /// response header listing the guardrails applied).
    pub fn selected_names(&self, sel: &Selection) -> Vec<&str> {
        sel.rules
            .iter()
            .map(|&i| self.inner.rules[i].spec.name.as_str())
            .collect()
    }

    /// The guardrails of a request: the default-on ones, those named by the key and by its
    /// team, and those the request asks for. A requested name that is not configured is a
    /// 400; a key's or team's stale name is skipped with a warning.
    pub fn select(
        &self,
        key: &[String],
        team: &[String],
        requested: &[String],
    ) -> Result<Selection, Error> {
        let find = |name: &str| self.inner.rules.iter().position(|r| r.spec.name == name);
        let mut chosen = vec![false; self.inner.rules.len()];
        for (i, rule) in self.inner.rules.iter().enumerate() {
            chosen[i] = rule.spec.default_on;
        }
        for name in key.iter().chain(team) {
            match find(name) {
                Some(i) => chosen[i] = true,
                None => tracing::warn!(guardrail = %name, "key or team names an unknown guardrail"),
            }
        }
        for name in requested {
            match find(name) {
                Some(i) => chosen[i] = true,
                None => {
                    return Err(Error::invalid_param(
                        "guardrails",
                        format!("unknown guardrail `{name}`"),
                    ));
                }
            }
        }
        let rules = (0..chosen.len()).filter(|&i| chosen[i]).collect();
        Ok(Selection { rules })
    }

    /// The selected guardrails of `stage`: detectors that block first (so a block is decided
    /// on the text as it came, before another guardrail masks it), then the others in
    /// configuration order.
    fn in_stage<'a>(&'a self, sel: &'a Selection, stage: Stage) -> Vec<(usize, &'a Rule)> {
        let mut rules: Vec<(usize, &Rule)> = sel
            .rules
            .iter()
            .map(|&i| (i, &self.inner.rules[i]))
            .filter(|(_, r)| r.spec.runs_in(stage))
            .collect();
        rules.sort_by_key(|(_, r)| !matches!(r.masking(), Some((Action::Block, _))));
        rules
    }

    /// Whether `post_call` needs [`CallInfo::request_messages`] (a post-call webhook runs).
    pub fn post_call_needs_messages(&self, sel: &Selection) -> bool {
        self.in_stage(sel, Stage::PostCall)
            .into_iter()
            .any(|(_, r)| matches!(r.spec.kind, GuardrailKind::Webhook(_)))
    }

    /// Whether a `during_call` guardrail is selected (else the gateway skips that step).
    pub fn has_during_call(&self, sel: &Selection) -> bool {
        !self.in_stage(sel, Stage::DuringCall).is_empty()
    }

    /// Runs the pre-call guardrails on the request: may block it, mask its messages' text or
    /// (webhooks) replace its messages. Returns the masks to restore in the response.
    pub async fn pre_call(
        &self,
        sel: &Selection,
        ctx: &CallInfo,
        request: &mut ChatCompletionRequest,
    ) -> Result<Masks, Blocked> {
        let mut masks = Masks::new();
        let stage = Stage::PreCall;
        for (i, rule) in self.in_stage(sel, stage) {
            match &rule.spec.kind {
                GuardrailKind::MaxInputTokens { limit } => {
                    self.check_tokens(i, stage, ctx, request, *limit)?
                }
                GuardrailKind::Webhook(spec) => {
                    let client = self.inner.client.as_ref();
                    let verdict =
                        webhook::call(client, spec, stage, ctx, &request.messages, None).await;
                    if let Some(Verdict::Messages(messages)) =
                        self.settle(i, stage, ctx, verdict)?
                    {
                        request.messages = messages;
                    }
                }
                _ => {
                    let Some((action, unmask)) = rule.masking() else {
                        continue;
                    };
                    let mut texts = request_texts(request);
                    let found = find_all(rule, &texts);
                    let all: Vec<Found> = found.iter().flatten().copied().collect();
                    if all.is_empty() {
                        self.inner
                            .decide(i, stage.as_str(), Decision::Allow, &[], &ctx.request_id);
                    } else if action == Action::Block {
                        return Err(self.block_on(i, stage, &all, ctx, "request"));
                    } else {
                        for (text, found) in texts.iter_mut().zip(&found) {
                            if !found.is_empty() {
                                **text = masks.mask(text, found, unmask);
                            }
                        }
                        self.inner
                            .decide(i, stage.as_str(), Decision::Mask, &all, &ctx.request_id);
                    }
                }
            }
        }
        Ok(masks)
    }

    /// Runs the during-call guardrails: read-only, so any match blocks (a `mask` guardrail
    /// cannot rewrite a request already sent). The gateway runs this beside the upstream call
    /// and discards the answer when it fails.
    pub async fn during_call(
        &self,
        sel: &Selection,
        ctx: &CallInfo,
        request: &ChatCompletionRequest,
    ) -> Result<(), Blocked> {
        let stage = Stage::DuringCall;
        for (i, rule) in self.in_stage(sel, stage) {
            match &rule.spec.kind {
                GuardrailKind::MaxInputTokens { limit } => {
                    self.check_tokens(i, stage, ctx, request, *limit)?
                }
                GuardrailKind::Webhook(spec) => {
                    let client = self.inner.client.as_ref();
                    let verdict =
                        webhook::call(client, spec, stage, ctx, &request.messages, None).await;
                    self.settle(i, stage, ctx, verdict)?;
                }
                _ => {
                    let texts = request_texts_ref(request);
                    let all: Vec<Found> = texts.iter().flat_map(|t| find(rule, t)).collect();
                    if !all.is_empty() {
                        return Err(self.block_on(i, stage, &all, ctx, "request"));
                    }
                    self.inner
                        .decide(i, stage.as_str(), Decision::Allow, &[], &ctx.request_id);
                }
            }
        }
        Ok(())
    }

    /// Runs the post-call guardrails on a complete response (mask or block its text, webhook
    /// verdicts), then restores the values masked before the call by guardrails with `unmask`.
    pub async fn post_call(
        &self,
        sel: &Selection,
        ctx: &CallInfo,
        response: &mut ChatCompletionResponse,
        masks: &Masks,
    ) -> Result<(), Blocked> {
        let stage = Stage::PostCall;
        // New tokens continue the request's numbering; they are never restored.
        let mut work = masks.clone();
        for (i, rule) in self.in_stage(sel, stage) {
            match &rule.spec.kind {
                GuardrailKind::MaxInputTokens { .. } => {}
                GuardrailKind::Webhook(spec) => {
                    let client = self.inner.client.as_ref();
                    let messages = &ctx.request_messages;
                    let verdict =
                        webhook::call(client, spec, stage, ctx, messages, Some(response)).await;
                    if let Some(Verdict::Content(content)) = self.settle(i, stage, ctx, verdict)?
                        && let Some(choice) = response.choices.first_mut()
                    {
                        choice.message.content = Some(content);
                    }
                }
                _ => {
                    let Some((action, _)) = rule.masking() else {
                        continue;
                    };
                    let mut all = Vec::new();
                    for choice in &mut response.choices {
                        let Some(text) = choice.message.content.as_mut() else {
                            continue;
                        };
                        let found = find(rule, text);
                        if found.is_empty() {
                            continue;
                        }
                        all.extend_from_slice(&found);
                        if action == Action::Mask {
                            *text = work.mask(text, &found, false);
                        }
                    }
                    if all.is_empty() {
                        self.inner
                            .decide(i, stage.as_str(), Decision::Allow, &[], &ctx.request_id);
                    } else if action == Action::Block {
                        return Err(self.block_on(i, stage, &all, ctx, "response"));
                    } else {
                        self.inner
                            .decide(i, stage.as_str(), Decision::Mask, &all, &ctx.request_id);
                    }
                }
            }
        }
        if masks.has_unmask() {
            for choice in &mut response.choices {
                if let Some(text) = choice.message.content.as_mut()
                    && let Some(restored) = masks.unmask(text)
                {
                    *text = restored;
                }
            }
        }
        Ok(())
    }

    /// A guard for a streamed response: the post-call detector guardrails of `sel` and the
    /// unmasking of `masks`, applied chunk by chunk. (Post-call webhooks need the whole
    /// response: they do not run on streams.)
    pub fn stream_guard(&self, sel: &Selection, masks: &Masks) -> StreamGuard {
        let rules = self
            .in_stage(sel, Stage::PostCall)
            .into_iter()
            .filter(|(_, r)| r.detector.is_some())
            .map(|(i, _)| i)
            .collect();
        StreamGuard::new(Arc::clone(&self.inner), rules, masks.clone())
    }

    /// Every decision counter, by guardrail and action.
    pub fn counters(&self) -> Vec<GuardrailCount> {
        self.inner.counters.snapshot(&self.names())
    }

    fn check_tokens(
        &self,
        i: usize,
        stage: Stage,
        ctx: &CallInfo,
        request: &ChatCompletionRequest,
        limit: u64,
    ) -> Result<(), Blocked> {
        let tokens = ctx
            .prompt_tokens
            .unwrap_or_else(|| request.estimate_prompt_tokens());
        if tokens > limit {
            self.inner
                .decide(i, stage.as_str(), Decision::Block, &[], &ctx.request_id);
            return Err(Blocked {
                guardrail: self.inner.rules[i].spec.name.clone(),
                reason: format!("prompt of about {tokens} tokens is over the limit of {limit}"),
            });
        }
        self.inner
            .decide(i, stage.as_str(), Decision::Allow, &[], &ctx.request_id);
        Ok(())
    }

    /// Counts a webhook verdict and turns failures into allow or block by `fail_open`.
    fn settle(
        &self,
        i: usize,
        stage: Stage,
        ctx: &CallInfo,
        verdict: Result<Verdict, webhook::Failure>,
    ) -> Result<Option<Verdict>, Blocked> {
        let name = &self.inner.rules[i].spec.name;
        let s = stage.as_str();
        let id = ctx.request_id.as_str();
        match verdict {
            Ok(Verdict::Allow) => {
                self.inner.decide(i, s, Decision::Allow, &[], id);
                Ok(None)
            }
            Ok(Verdict::Block(reason)) => {
                self.inner.decide(i, s, Decision::Block, &[], id);
                Err(Blocked {
                    guardrail: name.clone(),
                    reason,
                })
            }
            Ok(modified) => {
                self.inner.decide(i, s, Decision::Modify, &[], id);
                Ok(Some(modified))
            }
            Err(webhook::Failure(why)) => {
                let fail_open = matches!(&self.inner.rules[i].spec.kind, GuardrailKind::Webhook(w) if w.fail_open);
                self.inner.counters.add(i, Decision::Error);
                tracing::warn!(request_id = id, guardrail = %name, stage = s, error = %why, fail_open, "guardrail webhook failed");
                if fail_open {
                    self.inner.decide(i, s, Decision::Allow, &[], id);
                    Ok(None)
                } else {
                    self.inner.decide(i, s, Decision::Block, &[], id);
                    Err(Blocked {
                        guardrail: name.clone(),
                        reason: format!("guardrail webhook failed ({why})"),
                    })
                }
            }
        }
    }

    fn block_on(
        &self,
        i: usize,
        stage: Stage,
        found: &[Found],
        ctx: &CallInfo,
        what: &str,
    ) -> Blocked {
        self.inner
            .decide(i, stage.as_str(), Decision::Block, found, &ctx.request_id);
        Blocked {
            guardrail: self.inner.rules[i].spec.name.clone(),
            reason: block_reason(&self.inner.rules[i].spec.kind, found, what),
        }
    }
}

/// Why a detector blocked, naming entity kinds, never values.
pub(super) fn block_reason(kind: &GuardrailKind, found: &[Found], what: &str) -> String {
    match kind {
        GuardrailKind::Pii { .. } => format!("{what} contains {}", entity_counts(found)),
        GuardrailKind::Keywords { .. } => format!("{what} contains a denied keyword"),
        _ => format!("{what} matches a denied pattern"),
    }
}

/// `credit_card=1 email=2`: what was found, by kind.
pub(super) fn entity_counts(found: &[Found]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in found {
        *counts.entry(f.label).or_default() += 1;
    }
    counts
        .iter()
        .map(|(label, n)| format!("{}={n}", label.to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn find(rule: &Rule, text: &str) -> Vec<Found> {
    rule.detector
        .as_ref()
        .map(|d| d.find(text))
        .unwrap_or_default()
}

fn find_all(rule: &Rule, texts: &[&mut String]) -> Vec<Vec<Found>> {
    texts.iter().map(|t| find(rule, t)).collect()
}

/// The text of every message: string content and text parts (not images, tool calls).
fn request_texts(request: &mut ChatCompletionRequest) -> Vec<&mut String> {
    let mut texts = Vec::new();
    for message in &mut request.messages {
        match &mut message.content {
            Some(MessageContent::Text(text)) => texts.push(text),
            Some(MessageContent::Parts(parts)) => {
                for part in parts {
                    if let ContentPart::Text { text, .. } = part {
                        texts.push(text);
                    }
                }
            }
            None => {}
        }
    }
    texts
}

fn request_texts_ref(request: &ChatCompletionRequest) -> Vec<&str> {
    let mut texts = Vec::new();
    for message in &request.messages {
        match &message.content {
            Some(MessageContent::Text(text)) => texts.push(text.as_str()),
            Some(MessageContent::Parts(parts)) => {
                for part in parts {
                    if let ContentPart::Text { text, .. } = part {
                        texts.push(text.as_str());
                    }
                }
            }
            None => {}
        }
    }
    texts
}
