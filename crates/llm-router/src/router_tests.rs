//! Router behaviour on scripted providers, on tokio's paused clock.

use super::*;
use futures_util::stream;
use llm_types::{ChatMessage, Choice, EmbeddingUsage, FinishReason, ResponseMessage, Role};
use std::sync::Mutex;
use std::time::Duration;

/// A provider that answers with its name, or fails with the scripted errors first.
#[derive(Debug)]
struct Scripted {
    name: &'static str,
    failures: Mutex<Vec<Error>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(name: &'static str, failures: Vec<Error>) -> Self {
        Scripted {
            name,
            failures: Mutex::new(failures),
            calls: AtomicUsize::new(0),
        }
    }

    fn next(&self) -> Result<(), Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut failures = self.failures.lock().unwrap();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.remove(0))
        }
    }
}

impl Provider for Scripted {
    async fn chat(&self, _: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        self.next()?;
        Ok(ChatCompletionResponse {
            id: "x".into(),
            object: "chat.completion".into(),
            created: 0,
            model: self.name.into(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: Role::Assistant,
                    content: Some(self.name.into()),
                    refusal: None,
                    tool_calls: None,
                    function_call: None,
                    reasoning_content: None,
                    annotations: None,
                },
                finish_reason: Some(FinishReason::Stop),
                logprobs: None,
            }],
            usage: None,
            system_fingerprint: None,
            service_tier: None,
        })
    }

    async fn chat_stream(&self, _: ChatCompletionRequest) -> Result<ChatStream, Error> {
        self.next()?;
        Ok(Box::pin(stream::empty()))
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        self.next()?;
        Ok(EmbeddingsResponse {
            object: "list".into(),
            data: vec![],
            model: request.model,
            usage: EmbeddingUsage::default(),
        })
    }
}

fn deployment(
    group: &str,
    name: &'static str,
    max_retries: u32,
    failures: Vec<Error>,
) -> Deployment<Scripted> {
    Deployment {
        id: Arc::from(name),
        model_name: Arc::from(group),
        target_model: Arc::from(format!("test/{name}")),
        max_retries,
        provider: Scripted::new(name, failures),
    }
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(model, vec![ChatMessage::text(Role::User, "hi")])
}

fn upstream(status: u16) -> Error {
    Error::upstream(
        ErrorKind::from_upstream_status(status),
        Some(status),
        "scripted",
    )
}

#[tokio::test]
async fn deployments_of_a_group_take_turns() {
    let router = Router::new(vec![
        deployment("g", "a", 0, vec![]),
        deployment("g", "b", 0, vec![]),
        deployment("other", "c", 0, vec![]),
    ]);
    let mut served = Vec::new();
    for _ in 0..4 {
        served.push(
            router
                .chat(request("g"))
                .await
                .unwrap()
                .deployment
                .id
                .to_string(),
        );
    }
    assert_eq!(served, ["a", "b", "a", "b"]);
    assert_eq!(router.model_names().collect::<Vec<_>>(), ["g", "other"]);
}

#[tokio::test]
async fn unknown_model_is_a_404_naming_the_available_ones() {
    let router = Router::new(vec![
        deployment("g", "a", 0, vec![]),
        deployment("h", "b", 0, vec![]),
    ]);
    let error = router.chat(request("nope")).await.unwrap_err();
    assert_eq!(error.status(), 404);
    assert_eq!(error.param.as_deref(), Some("model"));
    assert!(
        error.message.contains("available models: g, h"),
        "{}",
        error.message
    );
}

#[tokio::test(start_paused = true)]
async fn retries_follow_the_policy() {
    // (max_retries, failures of the single deployment, expected outcome, expected calls)
    type Case = (u32, Vec<Error>, Result<(), u16>, usize);
    let cases: Vec<Case> = vec![
        (0, vec![upstream(500)], Err(502), 1),
        (2, vec![upstream(500), upstream(503)], Ok(()), 3),
        (1, vec![upstream(500), upstream(503)], Err(503), 2),
        (3, vec![upstream(400)], Err(400), 1),
        (3, vec![upstream(401)], Err(401), 1),
        (1, vec![upstream(429)], Ok(()), 2),
    ];
    for (max_retries, failures, expected, calls) in cases {
        let router = Router::new(vec![deployment("g", "a", max_retries, failures.clone())]);
        let outcome = router
            .chat(request("g"))
            .await
            .map(|_| ())
            .map_err(|e| e.status());
        let made = router.deployments("g").unwrap()[0]
            .provider
            .calls
            .load(Ordering::SeqCst);
        assert_eq!(
            (outcome, made),
            (expected, calls),
            "max_retries {max_retries}, failures {failures:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_goes_to_the_next_deployment_and_waits_for_retry_after() {
    let limited = upstream(429).with_retry_after(Some(Duration::from_secs(3)));
    let router = Router::new(vec![
        deployment("g", "a", 1, vec![limited]),
        deployment("g", "b", 1, vec![]),
    ]);
    let started = tokio::time::Instant::now();
    let routed = router.chat(request("g")).await.unwrap();
    assert_eq!((routed.deployment.id.as_ref(), routed.attempts), ("b", 2));
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn streams_and_embeddings_retry_before_anything_is_sent() {
    let router = Router::new(vec![deployment(
        "g",
        "a",
        1,
        vec![upstream(502), upstream(502)],
    )]);
    assert!(router.chat_stream(request("g")).await.is_err());
    let router = Router::new(vec![deployment("g", "a", 1, vec![upstream(502)])]);
    assert_eq!(router.chat_stream(request("g")).await.unwrap().attempts, 2);
    let embed = EmbeddingsRequest {
        model: "g".into(),
        input: llm_types::EmbeddingInput::Text("x".into()),
        encoding_format: None,
        dimensions: None,
        user: None,
        extra: Default::default(),
    };
    let router = Router::new(vec![deployment("g", "a", 1, vec![upstream(504)])]);
    assert_eq!(router.embeddings(embed).await.unwrap().attempts, 2);
}
