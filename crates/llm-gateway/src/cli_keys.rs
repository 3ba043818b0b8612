//! `llm-gateway keys create|list|revoke`: virtual keys for operators, through a running
//! gateway's admin API (`--url`, default http://127.0.0.1:4000 or LLM_GATEWAY_URL) with the
//! master key (`--master-key`, or LLM_GATEWAY_MASTER_KEY / LITELLM_MASTER_KEY). Answers are
//! printed as JSON on stdout; errors on stderr with a non-zero exit.

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;

use crate::output;

/// `llm-gateway keys ...`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The gateway's base URL.
    #[arg(
        long,
        env = "LLM_GATEWAY_URL",
        default_value = "http://127.0.0.1:4000",
        global = true
    )]
    url: String,
    /// The gateway's master key (else LLM_GATEWAY_MASTER_KEY or LITELLM_MASTER_KEY).
    #[arg(
        long,
        env = "LLM_GATEWAY_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    master_key: Option<String>,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a key (`POST /key/generate`); prints it once, with its settings.
    Create {
        #[arg(long)]
        alias: Option<String>,
        /// Model groups the key may call, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// Budget in dollars.
        #[arg(long)]
        max_budget: Option<f64>,
        /// Lifetime: `30s`, `1h`, `30d`, ...
        #[arg(long)]
        duration: Option<String>,
        #[arg(long)]
        team_id: Option<String>,
        #[arg(long)]
        user_id: Option<String>,
    },
    /// List keys (`GET /key/list`), as full objects (never the keys themselves).
    List {
        #[arg(long)]
        user_id: Option<String>,
        #[arg(long)]
        team_id: Option<String>,
    },
    /// Delete a key, given as `sk-...` or its hash (`POST /key/delete`).
    Revoke { key: String },
}

/// Runs a `keys` subcommand.
pub fn run(args: KeysArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::fatal(&format!("cannot start the async runtime: {error}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(args)) {
        Ok(value) => {
            output::json(&value);
            ExitCode::SUCCESS
        }
        Err(message) => {
            output::fatal(&message);
            ExitCode::FAILURE
        }
    }
}

async fn execute(args: KeysArgs) -> Result<Value, String> {
    let master_key = args
        .master_key
        .or_else(|| std::env::var("LITELLM_MASTER_KEY").ok())
        .filter(|k| !k.is_empty())
        .ok_or("no master key: pass --master-key or set LLM_GATEWAY_MASTER_KEY")?;
    let base = args.url.trim_end_matches('/');
    let (method, path, body) = match args.command {
        KeysCommand::Create {
            alias,
            models,
            max_budget,
            duration,
            team_id,
            user_id,
        } => {
            let mut body = json!({});
            let fields = [
                ("key_alias", alias.map(Value::from)),
                ("models", (!models.is_empty()).then(|| Value::from(models))),
                ("max_budget", max_budget.map(Value::from)),
                ("duration", duration.map(Value::from)),
                ("team_id", team_id.map(Value::from)),
                ("user_id", user_id.map(Value::from)),
            ];
            for (name, value) in fields {
                if let Some(value) = value {
                    body[name] = value;
                }
            }
            ("POST", "/key/generate".to_owned(), Some(body))
        }
        KeysCommand::List { user_id, team_id } => {
            let mut path = "/key/list?return_full_object=true&size=1000".to_owned();
            for (name, value) in [("user_id", user_id), ("team_id", team_id)] {
                if let Some(value) = value {
                    path.push_str(&format!("&{name}={}", percent_encode(&value)));
                }
            }
            ("GET", path, None)
        }
        KeysCommand::Revoke { key } => (
            "POST",
            "/key/delete".to_owned(),
            Some(json!({ "keys": [key] })),
        ),
    };
    let client = llm_providers::http_client::build_http_client().map_err(|e| e.to_string())?;
    let url = format!("{base}{path}");
    let request = match body {
        Some(body) => client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string()),
        None if method == "GET" => client.get(&url),
        None => client.post(&url),
    };
    let response = request
        .bearer_auth(master_key)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("cannot reach the gateway at {base}: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("cannot read the gateway's answer: {e}"))?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_success() {
        Ok(value)
    } else {
        let message = value["error"]["message"]
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        Err(format!(
            "the gateway answered {}: {message}",
            status.as_u16()
        ))
    }
}

/// Percent-encodes a query value (ids are usually plain; anything else is escaped).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_escaped() {
        let cases = [
            ("team-1", "team-1"),
            ("a b&c", "a%20b%26c"),
            ("é", "%C3%A9"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(percent_encode(raw), encoded);
        }
    }
}
