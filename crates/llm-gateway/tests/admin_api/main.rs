//! The admin API on the real binary, on SQLite and on PostgreSQL: round trips of every
//! `/key/*`, `/user/*`, `/team/*`, `/spend/*` and `/model/info` route, 400s naming the field,
//! 401s without the master key, 404s for unknown keys, users and teams, and the `keys` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

mod errors;
mod spend_cli;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::services::{TestDatabase, postgres_available};
use support::{Gateway, http};

pub const MASTER: &str = "sk-admin-master-1234";
pub const UPSTREAM_SECRET: &str = "sk-upstream-secret-never-shown";

pub fn config(database_url: Option<&str>, master: Option<&str>) -> String {
    let mut config = format!(
        "model_list:\n\
         \x20 - model_name: gpt-a\n    litellm_params: {{model: mock/gpt-a}}\n\
         \x20 - model_name: gpt-b\n    litellm_params: {{model: mock/gpt-b}}\n\
         \x20 - model_name: priced\n    litellm_params: {{model: openai/gpt-4o, \
         api_base: \"http://127.0.0.1:9\", api_key: {UPSTREAM_SECRET}}}\n    \
         model_info: {{id: priced-1, input_cost_per_token: 0.000002, output_cost_per_token: 0.00001}}\n\
         general_settings:\n  disable_spend_logs: false\n"
    );
    if let Some(master) = master {
        config.push_str(&format!("  master_key: {master}\n"));
    }
    if let Some(url) = database_url {
        config.push_str(&format!("  database_url: \"{url}\"\n"));
    }
    config
}

/// A gateway on each backend: SQLite in its data directory, PostgreSQL in a database of its
/// own (unless skipped).
pub async fn gateways() -> Vec<(&'static str, Gateway, Option<TestDatabase>)> {
    let mut all = vec![("sqlite", Gateway::start(&config(None, Some(MASTER))), None)];
    if postgres_available() {
        let db = TestDatabase::create("admin_api").await;
        let gateway = Gateway::start(&config(Some(&db.url), Some(MASTER)));
        all.push(("postgres", gateway, Some(db)));
    }
    all
}

/// An admin client of one gateway.
pub struct Api {
    pub url: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(gateway: &Gateway) -> Api {
        Api {
            url: gateway.url.clone(),
            client: http(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let mut request = match method {
            "GET" => self.client.get(&url),
            _ => self.client.post(&url),
        };
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call("POST", path, Some(MASTER), Some(body)).await;
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, answer) = self.call("GET", path, Some(MASTER), None).await;
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }

    /// A chat completion with `key`: (status, error code if any).
    pub async fn chat(&self, key: &str, model: &str) -> (u16, Option<String>) {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        let (status, answer) = self
            .call("POST", "/v1/chat/completions", Some(key), Some(body))
            .await;
        (status, answer["error"]["code"].as_str().map(str::to_owned))
    }

    /// Polls a chat call with `key` until it answers `status` (changes reach the key cache
    /// within a second), failing after 5 s.
    pub async fn chat_until(&self, key: &str, model: &str, status: u16, code: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.chat(key, model).await;
            if got.0 == status && got.1.as_deref() == code {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{model}: wanted {status} {code:?}, got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn keys_round_trip() {
    for (backend, gateway, _db) in gateways().await {
        let api = Api::new(&gateway);
        api.post(
            "/team/new",
            json!({"team_id": "team-k", "models": ["gpt-a", "gpt-b"]}),
        )
        .await;
        let generated = api
            .post(
                "/key/generate",
                json!({
                    "key_alias": "alias-1", "models": ["gpt-a"], "max_budget": 12.5,
                    "soft_budget": 0.1, "budget_duration": "30d", "rpm_limit": 60,
                    "tpm_limit": 1000, "max_parallel_requests": 2, "duration": "1h",
                    "metadata": {"owner": "ana", "n": [1, 2]}, "user_id": "user-k",
                    "team_id": "team-k", "aliases": {"fast": "gpt-a"},
                    "allowed_routes": ["/chat/completions"], "tags": ["t1"], "blocked": false
                }),
            )
            .await;
        let key = generated["key"].as_str().unwrap().to_owned();
        let hash = generated["token"].as_str().unwrap().to_owned();
        assert!(
            key.starts_with("sk-") && key.len() >= 40,
            "{backend}: {generated}"
        );
        assert_eq!(generated["token_id"], hash.as_str());
        assert_eq!(
            generated["key_name"],
            format!("sk-...{}", &key[key.len() - 4..])
        );
        let expected = [
            ("key_alias", json!("alias-1")),
            ("models", json!(["gpt-a"])),
            ("max_budget", json!(12.5)),
            ("soft_budget", json!(0.1)),
            ("budget_duration", json!("30d")),
            ("rpm_limit", json!(60)),
            ("tpm_limit", json!(1000)),
            ("max_parallel_requests", json!(2)),
            ("metadata", json!({"owner": "ana", "n": [1, 2]})),
            ("user_id", json!("user-k")),
            ("team_id", json!("team-k")),
            ("aliases", json!({"fast": "gpt-a"})),
            ("allowed_routes", json!(["/chat/completions"])),
            ("tags", json!(["t1"])),
            ("blocked", json!(false)),
            ("spend", json!(0.0)),
        ];
        // The same object from generate, and from info by key and by hash.
        let by_key = api.get(&format!("/key/info?key={key}")).await;
        let by_hash = api.get(&format!("/key/info?key={hash}")).await;
        assert_eq!(by_key["info"], by_hash["info"], "{backend}");
        for (field, value) in &expected {
            assert_eq!(&generated[*field], value, "{backend} generate {field}");
            assert_eq!(&by_key["info"][*field], value, "{backend} info {field}");
        }
        assert!(
            generated["expires"].as_str().unwrap().ends_with('Z'),
            "{generated}"
        );
        assert!(!by_key.to_string().contains(&key[3..]) || by_key["key"] == key.as_str());

        // The key works, within its models.
        api.chat_until(&key, "gpt-a", 200, None).await;

        // update: given fields change, others stay.
        let updated = api
            .post(
                "/key/update",
                json!({"key": key, "max_budget": 20, "tags": ["t2"], "models": ["gpt-a", "gpt-b"]}),
            )
            .await;
        assert_eq!(updated["max_budget"], json!(20.0), "{backend}");
        assert_eq!(updated["tags"], json!(["t2"]), "{backend}");
        assert_eq!(updated["key_alias"], json!("alias-1"), "{backend}");

        // block / unblock.
        let blocked = api.post("/key/block", json!({"key": key})).await;
        assert_eq!(blocked["blocked"], json!(true));
        api.chat_until(&key, "gpt-a", 401, Some("key_blocked"))
            .await;
        let unblocked = api.post("/key/unblock", json!({"key": hash})).await;
        assert_eq!(unblocked["blocked"], json!(false));
        api.chat_until(&key, "gpt-a", 200, None).await;

        // list: filters and paging.
        api.post(
            "/key/generate",
            json!({"key_alias": "alias-2", "user_id": "user-k"}),
        )
        .await;
        api.post("/key/generate", json!({"key_alias": "alias-3"}))
            .await;
        let cases = [
            ("/key/list", 3, 3),
            ("/key/list?user_id=user-k", 2, 2),
            ("/key/list?team_id=team-k", 1, 1),
            ("/key/list?key_alias=alias-3", 1, 1),
            ("/key/list?size=2&page=2", 1, 3),
            ("/key/list?user_id=nobody", 0, 0),
        ];
        for (path, listed, total) in cases {
            let answer = api.get(path).await;
            assert_eq!(
                answer["keys"].as_array().unwrap().len(),
                listed,
                "{backend} {path}: {answer}"
            );
            assert_eq!(answer["total_count"], json!(total), "{backend} {path}");
        }
        let full = api
            .get("/key/list?key_alias=alias-1&return_full_object=true")
            .await;
        assert_eq!(full["keys"][0]["token"], hash.as_str(), "{backend}");
        assert_eq!(
            api.get("/key/list?key_alias=alias-1").await["keys"][0],
            hash.as_str()
        );

        // regenerate (body, then path): the old key stops, the new one works, the row stays.
        let regenerated = api.post("/key/regenerate", json!({"key": key})).await;
        let key2 = regenerated["key"].as_str().unwrap().to_owned();
        assert_ne!(key2, key);
        assert_eq!(regenerated["key_alias"], json!("alias-1"), "{backend}");
        api.chat_until(&key, "gpt-a", 401, Some("invalid_api_key"))
            .await;
        api.chat_until(&key2, "gpt-a", 200, None).await;
        let regenerated = api
            .post(&format!("/key/{key2}/regenerate"), json!({"max_budget": 3}))
            .await;
        let key3 = regenerated["key"].as_str().unwrap().to_owned();
        assert_eq!(regenerated["max_budget"], json!(3.0), "{backend}");
        let (status, _) = api
            .call("GET", &format!("/key/info?key={key2}"), Some(MASTER), None)
            .await;
        assert_eq!(status, 404, "{backend}");

        // delete by key and by alias.
        let deleted = api
            .post(
                "/key/delete",
                json!({"keys": [key3], "key_aliases": ["alias-2"]}),
            )
            .await;
        assert_eq!(
            deleted["deleted_keys"].as_array().unwrap().len(),
            2,
            "{backend}"
        );
        api.chat_until(&key3, "gpt-a", 401, Some("invalid_api_key"))
            .await;
        assert_eq!(
            api.get("/key/list").await["total_count"],
            json!(1),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn users_and_teams_round_trip() {
    for (backend, gateway, _db) in gateways().await {
        let api = Api::new(&gateway);
        let team = api
            .post(
                "/team/new",
                json!({
                    "team_id": "team-1", "team_alias": "Research", "models": ["gpt-a"],
                    "max_budget": 100, "budget_duration": "1d", "rpm_limit": 10,
                    "tpm_limit": 500, "metadata": {"cc": 42},
                    "members_with_roles": [{"role": "admin", "user_id": "ana"}]
                }),
            )
            .await;
        for (field, value) in [
            ("team_alias", json!("Research")),
            ("models", json!(["gpt-a"])),
            ("max_budget", json!(100.0)),
            ("budget_duration", json!("1d")),
            ("rpm_limit", json!(10)),
            ("tpm_limit", json!(500)),
            ("metadata", json!({"cc": 42})),
            ("admins", json!(["ana"])),
            ("blocked", json!(false)),
        ] {
            assert_eq!(team[field], value, "{backend} team {field}");
        }
        let generated_team = api.post("/team/new", json!({"team_alias": "no id"})).await;
        assert_eq!(
            generated_team["team_id"].as_str().unwrap().len(),
            36,
            "{backend}"
        );

        // A user with a key, joining the team.
        let user = api
            .post(
                "/user/new",
                json!({"user_id": "bob", "user_email": "bob@example.com", "user_role": "internal_user",
                       "max_budget": 5, "teams": ["team-1"], "key_alias": "bob-key"}),
            )
            .await;
        let bob_key = user["key"].as_str().unwrap().to_owned();
        assert_eq!(user["user_email"], "bob@example.com", "{backend}");
        assert_eq!(user["max_budget"], json!(5.0), "{backend}");
        assert_eq!(user["key_alias"], "bob-key", "{backend}");
        api.chat_until(&bob_key, "gpt-a", 200, None).await;
        let no_key = api
            .post("/user/new", json!({"auto_create_key": false}))
            .await;
        assert_eq!(no_key["key"], Value::Null, "{backend}");

        let info = api.get("/user/info?user_id=bob").await;
        assert_eq!(
            info["user_info"]["user_email"], "bob@example.com",
            "{backend}"
        );
        assert_eq!(info["keys"].as_array().unwrap().len(), 1, "{backend}");
        assert_eq!(info["teams"][0]["team_id"], "team-1", "{backend}");
        let updated = api
            .post(
                "/user/update",
                json!({"user_id": "bob", "user_alias": "Bobby"}),
            )
            .await;
        assert_eq!(updated["user_alias"], "Bobby", "{backend}");
        assert_eq!(updated["max_budget"], json!(5.0), "{backend}");
        let page = api.get("/user/list?page=1&page_size=1").await;
        assert_eq!(
            (
                page["total"].clone(),
                page["users"].as_array().unwrap().len()
            ),
            (json!(2), 1)
        );

        // Members.
        let team = api
            .post(
                "/team/member_add",
                json!({"team_id": "team-1", "member": {"role": "user", "user_id": "cy"}}),
            )
            .await;
        assert_eq!(team["members"], json!(["ana", "bob", "cy"]), "{backend}");
        let team = api
            .post(
                "/team/member_add",
                json!({"team_id": "team-1", "member": [{"user_id": "dee"}]}),
            )
            .await;
        assert_eq!(team["members"].as_array().unwrap().len(), 4, "{backend}");
        let team = api
            .post(
                "/team/member_delete",
                json!({"team_id": "team-1", "user_id": "cy"}),
            )
            .await;
        assert_eq!(team["members"], json!(["ana", "bob", "dee"]), "{backend}");
        assert_eq!(
            api.get("/team/list?user_id=dee")
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(api.get("/team/list").await.as_array().unwrap().len(), 2);

        // A team key, team update, block.
        let team_key = api
            .post("/key/generate", json!({"team_id": "team-1"}))
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let updated = api
            .post(
                "/team/update",
                json!({"team_id": "team-1", "max_budget": 7}),
            )
            .await;
        assert_eq!(updated["data"]["max_budget"], json!(7.0), "{backend}");
        assert_eq!(updated["data"]["team_alias"], "Research", "{backend}");
        let info = api.get("/team/info?team_id=team-1").await;
        assert_eq!(info["team_info"]["max_budget"], json!(7.0), "{backend}");
        assert_eq!(info["keys"].as_array().unwrap().len(), 1, "{backend}");
        api.chat_until(&team_key, "gpt-a", 200, None).await;
        assert_eq!(
            api.post("/team/block", json!({"team_id": "team-1"})).await["blocked"],
            json!(true)
        );
        api.chat_until(&team_key, "gpt-a", 401, Some("key_blocked"))
            .await;
        assert_eq!(
            api.post("/team/unblock", json!({"team_id": "team-1"}))
                .await["blocked"],
            json!(false)
        );
        api.chat_until(&team_key, "gpt-a", 200, None).await;

        // Deleting a user or a team deletes its keys.
        let deleted = api.post("/user/delete", json!({"user_ids": ["bob"]})).await;
        assert_eq!(deleted["deleted_keys"], json!(1), "{backend}");
        api.chat_until(&bob_key, "gpt-a", 401, Some("invalid_api_key"))
            .await;
        let team = api.get("/team/info?team_id=team-1").await;
        assert_eq!(
            team["team_info"]["members"],
            json!(["ana", "dee"]),
            "{backend}"
        );
        let deleted = api
            .post("/team/delete", json!({"team_ids": ["team-1"]}))
            .await;
        assert_eq!(deleted["deleted_keys"], json!(1), "{backend}");
        api.chat_until(&team_key, "gpt-a", 401, Some("invalid_api_key"))
            .await;
        let (status, _) = api
            .call("GET", "/team/info?team_id=team-1", Some(MASTER), None)
            .await;
        assert_eq!(status, 404, "{backend}");
    }
}
