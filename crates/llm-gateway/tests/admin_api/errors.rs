//! 400s naming the field, 404s for unknown keys, users and teams, and 401s without the
//! master key.

use serde_json::{Value, json};

use super::support::{Gateway, error_of};
use super::{Api, MASTER, config, gateways};

#[tokio::test]
async fn bad_requests_name_the_field() {
    for (backend, gateway, _db) in gateways().await {
        let api = Api::new(&gateway);
        api.post(
            "/team/new",
            json!({"team_id": "narrow", "models": ["gpt-a"]}),
        )
        .await;
        let key = api
            .post("/key/generate", json!({"key_alias": "taken"}))
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        // (method, path, body, status, param)
        let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"max_budget": -1})),
                400,
                "max_budget",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"max_budget": "ten"})),
                400,
                "max_budget",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"max_budget": 1e-10})),
                400,
                "max_budget",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"soft_budget": -0.5})),
                400,
                "soft_budget",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"budget_duration": "soon"})),
                400,
                "budget_duration",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"duration": "1y"})),
                400,
                "duration",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"expires": "tomorrow"})),
                400,
                "expires",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"rpm_limit": -5})),
                400,
                "rpm_limit",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"models": "gpt-a"})),
                400,
                "models",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"key_alias": "taken"})),
                400,
                "key_alias",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"key": "not-sk"})),
                400,
                "key",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"team_id": "ghost"})),
                404,
                "team_id",
            ),
            (
                "POST",
                "/key/generate".into(),
                Some(json!({"team_id": "narrow", "models": ["gpt-b"]})),
                403,
                "models",
            ),
            (
                "POST",
                "/key/update".into(),
                Some(json!({"max_budget": 1})),
                400,
                "key",
            ),
            (
                "POST",
                "/key/update".into(),
                Some(json!({"key": "sk-unknown-key-0000", "tags": []})),
                404,
                "key",
            ),
            (
                "POST",
                "/key/update".into(),
                Some(json!({"key": key, "tpm_limit": 1.5})),
                400,
                "tpm_limit",
            ),
            ("POST", "/key/delete".into(), Some(json!({})), 400, "keys"),
            (
                "POST",
                "/key/delete".into(),
                Some(json!({"keys": ["sk-nope-nope-nope"]})),
                404,
                "key",
            ),
            (
                "POST",
                "/key/delete".into(),
                Some(json!({"key_aliases": ["nope"]})),
                404,
                "key_aliases",
            ),
            ("POST", "/key/block".into(), Some(json!({})), 400, "key"),
            (
                "POST",
                "/key/regenerate".into(),
                Some(json!({})),
                400,
                "key",
            ),
            (
                "GET",
                "/key/info?key=sk-nope-nope-nope".into(),
                None,
                404,
                "key",
            ),
            ("GET", "/key/list?size=0".into(), None, 400, "size"),
            ("GET", "/key/list?page=abc".into(), None, 400, "page"),
            (
                "POST",
                "/key/generate".into(),
                Some(Value::String("{not json".into())),
                400,
                "body",
            ),
            (
                "POST",
                "/user/new".into(),
                Some(json!({"user_role": "king"})),
                400,
                "user_role",
            ),
            (
                "POST",
                "/user/new".into(),
                Some(json!({"teams": ["ghost"]})),
                404,
                "teams",
            ),
            (
                "POST",
                "/user/new".into(),
                Some(json!({"user_id": "carl", "key_alias": "taken"})),
                400,
                "key_alias",
            ),
            (
                "GET",
                "/user/info?user_id=carl".into(),
                None,
                404,
                "user_id",
            ),
            (
                "POST",
                "/user/update".into(),
                Some(json!({"user_alias": "x"})),
                400,
                "user_id",
            ),
            (
                "POST",
                "/user/update".into(),
                Some(json!({"user_id": "ghost"})),
                404,
                "user_id",
            ),
            (
                "POST",
                "/user/delete".into(),
                Some(json!({"user_ids": ["ghost"]})),
                404,
                "user_id",
            ),
            (
                "GET",
                "/user/info?user_id=ghost".into(),
                None,
                404,
                "user_id",
            ),
            ("GET", "/user/info".into(), None, 400, "user_id"),
            (
                "POST",
                "/team/new".into(),
                Some(json!({"team_id": "narrow"})),
                400,
                "team_id",
            ),
            (
                "POST",
                "/team/new".into(),
                Some(json!({"members_with_roles": [{"user_id": "a", "role": "boss"}]})),
                400,
                "members_with_roles.role",
            ),
            (
                "POST",
                "/team/update".into(),
                Some(json!({"team_id": "ghost"})),
                404,
                "team_id",
            ),
            (
                "POST",
                "/team/update".into(),
                Some(json!({"team_id": "narrow", "budget_duration": "x"})),
                400,
                "budget_duration",
            ),
            (
                "POST",
                "/team/delete".into(),
                Some(json!({"team_ids": ["ghost"]})),
                404,
                "team_id",
            ),
            (
                "POST",
                "/team/member_delete".into(),
                Some(json!({"team_id": "narrow", "user_id": "nobody"})),
                400,
                "user_id",
            ),
            (
                "POST",
                "/team/block".into(),
                Some(json!({"team_id": "ghost"})),
                404,
                "team_id",
            ),
            (
                "GET",
                "/team/info?team_id=ghost".into(),
                None,
                404,
                "team_id",
            ),
            (
                "GET",
                "/spend/logs?start_date=yesterday".into(),
                None,
                400,
                "start_date",
            ),
            (
                "GET",
                "/spend/logs?end_date=2024-13-01".into(),
                None,
                400,
                "end_date",
            ),
            ("GET", "/spend/logs?limit=0".into(), None, 400, "limit"),
        ];
        for (method, path, body, status, param) in cases {
            let (got, answer) = match &body {
                Some(Value::String(raw)) => {
                    let response = api
                        .client
                        .post(format!("{}{path}", api.url))
                        .bearer_auth(MASTER)
                        .header("content-type", "application/json")
                        .body(raw.clone())
                        .send()
                        .await
                        .unwrap();
                    (
                        response.status().as_u16(),
                        response.json::<Value>().await.unwrap(),
                    )
                }
                _ => api.call(method, &path, Some(MASTER), body.clone()).await,
            };
            assert_eq!(got, status, "{backend} {method} {path} {body:?}: {answer}");
            let error = error_of(&answer);
            assert_eq!(
                error["param"], param,
                "{backend} {method} {path} {body:?}: {answer}"
            );
        }
    }
}

#[tokio::test]
async fn admin_routes_need_the_master_key() {
    let gateway = Gateway::start(&config(None, Some(MASTER)));
    let api = Api::new(&gateway);
    let generated = api
        .post("/key/generate", json!({"key_alias": "self"}))
        .await;
    let key = generated["key"].as_str().unwrap().to_owned();
    let routes = [
        ("POST", "/key/generate"),
        ("POST", "/key/update"),
        ("POST", "/key/delete"),
        ("GET", "/key/info?key=x"),
        ("GET", "/key/list"),
        ("POST", "/key/regenerate"),
        ("POST", "/key/block"),
        ("POST", "/user/new"),
        ("GET", "/user/list"),
        ("POST", "/team/new"),
        ("GET", "/team/list"),
        ("POST", "/team/member_add"),
        ("GET", "/spend/logs"),
        ("GET", "/global/spend"),
        ("GET", "/global/spend/keys"),
        ("GET", "/model/info"),
        ("GET", "/v1/model/info"),
    ];
    for (method, path) in routes {
        for presented in [None, Some("sk-wrong"), Some(key.as_str())] {
            let (status, answer) = api.call(method, path, presented, Some(json!({}))).await;
            assert_eq!(status, 401, "{method} {path} {presented:?}: {answer}");
            assert_eq!(error_of(&answer)["code"], "invalid_api_key", "{path}");
        }
    }
    // A virtual key may read its own info, and only its own.
    let (status, own) = api.call("GET", "/key/info", Some(&key), None).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["info"]["key_alias"], "self");
    assert_eq!(own["info"]["token"], generated["token"]);

    // Without a configured master key the admin API is closed, and says why.
    let open = Gateway::start(&config(None, None));
    let api = Api::new(&open);
    let (status, answer) = api.call("GET", "/key/list", Some("anything"), None).await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        error_of(&answer)["message"]
            .as_str()
            .unwrap()
            .contains("master_key"),
        "{answer}"
    );
}
