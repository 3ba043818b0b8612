//! The webhook guardrail against a real HTTP server on loopback (a tiny HTTP/1.1 responder on
//! a tokio `TcpListener`) through a tiny HTTP/1.1 client on `TcpStream`: allow, block with a
//! reason, modify (messages before the call, content after), and every failure (timeout,
//! garbage, non-2xx, refused connection) with `fail_open` true and false.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::future::BoxFuture;
use llm_policy::guardrails::{CallInfo, GuardrailSpec, Guardrails, Masks, WebhookClient};
use llm_types::{ChatCompletionRequest, ChatCompletionResponse, ChatMessage, Role};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the test server answers.
#[derive(Clone)]
enum Reply {
    Answer(u16, String),
    /// Reads the request and never answers.
    Hang,
}

/// A seen request: its head (request line and headers, lower-cased) and its JSON body.
struct Seen {
    head: String,
    body: Value,
}

async fn server(reply: Reply) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let path = if matches!(reply, Reply::Hang) {
        "hang"
    } else {
        "check"
    };
    let url = format!("http://{}/{path}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (tx, reply) = (tx.clone(), reply.clone());
            tokio::spawn(async move {
                let (head, body) = read_message(&mut stream).await;
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let _ = tx.send(Seen {
                    head: head.to_ascii_lowercase(),
                    body,
                });
                match reply {
                    Reply::Answer(status, text) => {
                        let response = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\nconnection: close\r\n\r\n{text}",
                            text.len()
                        );
                        let _ = stream.write_all(response.as_bytes()).await;
                    }
                    Reply::Hang => std::future::pending::<()>().await,
                }
            });
        }
    });
    (url, rx)
}

/// Reads an HTTP/1.1 message with a `content-length` body.
async fn read_message(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut byte).await.unwrap();
        assert!(n > 0, "connection closed mid-head");
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut byte).await.unwrap();
        assert!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&byte[..n]);
    }
    (head, buf[head_end..head_end + length].to_vec())
}

/// The tiny client the gateway's HTTP client stands in for.
struct TinyClient;

impl WebhookClient for TinyClient {
    fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<(u16, Vec<u8>), String>> {
        let url = url.to_owned();
        let headers = headers.to_vec();
        Box::pin(async move {
            let exchange = async {
                let rest = url.strip_prefix("http://").ok_or("not http")?;
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                let mut stream = TcpStream::connect(host).await.map_err(|e| e.to_string())?;
                let mut head = format!(
                    "POST /{path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (name, value) in &headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                stream
                    .write_all(head.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                stream.write_all(&body).await.map_err(|e| e.to_string())?;
                let mut answer = Vec::new();
                stream
                    .read_to_end(&mut answer)
                    .await
                    .map_err(|e| e.to_string())?;
                let text = String::from_utf8_lossy(&answer).to_string();
                let status = text
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or("no status line")?;
                let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
                Ok::<_, String>((status, body.as_bytes().to_vec()))
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .map_err(|_| "timeout".to_owned())?
        })
    }
}

/// `timeout_ms`: short only where the server hangs; generous elsewhere, so a loaded CI
/// machine never turns an answer into a timeout.
fn engine(url: &str, fail_open: bool, mode: &str) -> Guardrails {
    let timeout_ms = if url.ends_with("/hang") { 200 } else { 10_000 };
    let specs = GuardrailSpec::from_litellm(&json!([
        {"guardrail_name": "hook", "litellm_params": {"guardrail": "webhook", "mode": mode,
            "default_on": true, "url": url, "timeout_ms": timeout_ms, "fail_open": fail_open,
            "headers": {"x-token": "s3cret"}}}
    ]))
    .unwrap();
    Guardrails::new(specs, Arc::new(TinyClient)).unwrap()
}

fn ctx() -> CallInfo {
    CallInfo {
        model: "gpt-4o".into(),
        key_alias: Some("ci-key".into()),
        team_id: Some("team-a".into()),
        metadata: json!({"env": "test"}).as_object().unwrap().clone(),
        ..CallInfo::default()
    }
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest::new("gpt-4o", vec![ChatMessage::text(Role::User, "hello")])
}

#[tokio::test]
async fn guardrail_webhook_pre_call_verdicts() {
    // (reply, fail_open, Ok(first message after) | Err(reason contains))
    let cases: Vec<(Reply, bool, Result<&str, &str>)> = vec![
        (
            Reply::Answer(200, r#"{"action":"allow"}"#.into()),
            false,
            Ok("hello"),
        ),
        (
            Reply::Answer(200, r#"{"action":"block","reason":"off-topic"}"#.into()),
            true,
            Err("off-topic"),
        ),
        (
            Reply::Answer(
                200,
                r#"{"action":"modify","messages":[{"role":"user","content":"HELLO"}]}"#.into(),
            ),
            false,
            Ok("HELLO"),
        ),
        (Reply::Hang, true, Ok("hello")),
        // Our deadline or the client's own: either way the reason says so.
        (Reply::Hang, false, Err("time")),
        (Reply::Answer(200, "not json".into()), true, Ok("hello")),
        (
            Reply::Answer(200, "not json".into()),
            false,
            Err("unreadable answer"),
        ),
        (
            Reply::Answer(200, r#"{"action":"shrug"}"#.into()),
            false,
            Err("unreadable answer"),
        ),
        (Reply::Answer(500, "{}".into()), false, Err("HTTP 500")),
        (
            Reply::Answer(200, r#"{"action":"modify"}"#.into()),
            false,
            Err("without `messages`"),
        ),
    ];
    for (reply, fail_open, want) in cases {
        let (url, mut seen) = server(reply).await;
        let g = engine(&url, fail_open, "pre_call");
        let sel = g.select(&[], &[], &[]).unwrap();
        let mut req = request();
        let outcome = g.pre_call(&sel, &ctx(), &mut req).await;
        match (want, outcome) {
            (Ok(first), Ok(_)) => assert_eq!(req.messages[0].text_content(), first),
            (Err(reason), Err(blocked)) => {
                assert_eq!(blocked.guardrail, "hook");
                assert!(blocked.reason.contains(reason), "{}", blocked.reason);
            }
            (want, got) => panic!("fail_open {fail_open}: wanted {want:?}, got {got:?}"),
        }
        let seen = seen.recv().await.unwrap();
        let request_line = seen.head.lines().next().unwrap();
        assert!(request_line.starts_with("post /"), "{request_line}");
        assert!(request_line.ends_with(" http/1.1"), "{request_line}");
        assert!(seen.head.contains("x-token: s3cret"));
        assert!(seen.head.contains("content-type: application/json"));
        assert_eq!(
            seen.body,
            json!({"stage": "pre_call", "model": "gpt-4o", "key_alias": "ci-key", "team_id": "team-a",
                   "metadata": {"env": "test"}, "messages": [{"role": "user", "content": "hello"}]})
        );
    }
}

#[tokio::test]
async fn guardrail_webhook_refused_connection_follows_fail_open() {
    // A port that was just free: nothing listens there.
    let url = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/check", listener.local_addr().unwrap())
    };
    for (fail_open, allowed) in [(true, true), (false, false)] {
        let g = engine(&url, fail_open, "pre_call");
        let sel = g.select(&[], &[], &[]).unwrap();
        let outcome = g.pre_call(&sel, &ctx(), &mut request()).await;
        assert_eq!(
            outcome.is_ok(),
            allowed,
            "fail_open {fail_open}: {outcome:?}"
        );
        let error = g
            .counters()
            .into_iter()
            .find(|c| c.action == "error")
            .unwrap();
        assert_eq!(error.count, 1);
    }
}

#[tokio::test]
async fn guardrail_webhook_post_call_sees_the_response_and_may_rewrite_it() {
    let cases = [
        (r#"{"action":"allow"}"#, Ok("the answer")),
        (
            r#"{"action":"modify","content":"[redacted answer]"}"#,
            Ok("[redacted answer]"),
        ),
        (r#"{"action":"block","reason":"toxic"}"#, Err("toxic")),
    ];
    for (answer, want) in cases {
        let (url, mut seen) = server(Reply::Answer(200, answer.into())).await;
        let g = engine(&url, false, "post_call");
        let sel = g.select(&[], &[], &[]).unwrap();
        assert!(g.post_call_needs_messages(&sel));
        let ctx = CallInfo {
            request_messages: request().messages,
            ..ctx()
        };
        let mut response: ChatCompletionResponse = serde_json::from_value(json!({
            "id": "r", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "the answer"},
                         "finish_reason": "stop"}]
        }))
        .unwrap();
        let outcome = g.post_call(&sel, &ctx, &mut response, &Masks::new()).await;
        match (want, outcome) {
            (Ok(content), Ok(())) => {
                assert_eq!(
                    response.choices[0].message.content.as_deref(),
                    Some(content)
                );
            }
            (Err(reason), Err(blocked)) => assert_eq!(blocked.reason, reason),
            (want, got) => panic!("{answer}: wanted {want:?}, got {got:?}"),
        }
        let seen = seen.recv().await.unwrap();
        assert_eq!(seen.body["stage"], "post_call");
        assert_eq!(seen.body["messages"][0]["content"], "hello");
        assert_eq!(
            seen.body["response"]["choices"][0]["message"]["content"],
            "the answer"
        );
    }
}
