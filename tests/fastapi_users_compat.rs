//! Replays the requests recorded against fastapi-users 15 (tests/fixtures/fastapi_users, made
//! by `make_fixture.py` with the real package) against axum-users serving the database that
//! fastapi-users wrote, and compares every answer: login, register, guards, logout, the
//! `/users` routes, and verification and password reset with the tokens fastapi-users made.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(cookie, name = "cookie", lifetime = 3600)]
struct Auth;

#[protected]
async fn protected_route(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[protected(superuser)]
async fn admin(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fastapi_users")
        .join(name)
}

fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

/// The parts of an answer that must match fastapi-users' byte for byte, with tokens and fresh
/// ids replaced by placeholders (checked separately).
fn normalise(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(obj) = body.as_object_mut() {
        if obj.contains_key("access_token") {
            obj.insert("access_token".into(), json!("<token>"));
        }
        if obj.contains_key("id") && obj.contains_key("email") {
            obj.insert("id".into(), json!("<id>"));
        }
    }
    if let Some(issues) = body.get_mut("detail").and_then(Value::as_array_mut) {
        for issue in issues {
            if issue["type"] == "json_invalid" {
                // The decoder's own wording ("Expecting value" in Python) is not part of the contract.
                issue["ctx"]["error"] = json!("<decoder message>");
            }
        }
    }
    body
}

fn cookie_without_value(set_cookie: &str) -> String {
    match set_cookie.split_once(';') {
        Some((pair, attrs))
            if pair.starts_with("fastapiusersauth=") && pair != "fastapiusersauth=\"\"" =>
        {
            format!("fastapiusersauth=<token>;{attrs}")
        }
        _ => set_cookie.to_owned(),
    }
}

#[tokio::test]
async fn answers_match_fastapi_users_on_its_own_database() {
    let answers: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("answers.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fastapi_users.db");
    std::fs::copy(fixture("fastapi_users.db"), &db).unwrap();

    let store = SqliteStore::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let state = AuthState::builder::<Auth>()
        .secret(answers["secret"].as_str().unwrap())
        .store(store.clone())
        .build()
        .unwrap();
    let app = Router::new()
        .route("/protected", get(protected_route))
        .route("/admin", get(admin))
        .merge(Auth::router())
        .with_state(state.clone());

    let users = &answers["users"];
    let mut mismatches = Vec::new();
    for case in answers["requests"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        // fastapi-users ignores Origin; axum-users' cookie backend wants a trusted one
        // (Starlette's test client sends `Host: testserver`).
        let mut request = Request::builder()
            .method(case["method"].as_str().unwrap())
            .uri(case["path"].as_str().unwrap())
            .header("host", "testserver")
            .header("origin", "http://testserver");
        for (k, v) in case["headers"].as_object().unwrap() {
            request = request.header(k, v.as_str().unwrap());
        }
        let body = case["body"].as_str().map(str::to_owned).unwrap_or_default();
        let response = app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let ours: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };

        let theirs = &case["response_body"];
        if status.as_u16() as u64 != case["status"].as_u64().unwrap() {
            mismatches.push(format!(
                "{name}: status {status}, fastapi-users {}",
                case["status"]
            ));
        }
        if normalise(&ours) != normalise(theirs) {
            mismatches.push(format!("{name}: body {ours}, fastapi-users {theirs}"));
        }
        if bytes.len() as u64 != case["content_length"].as_u64().unwrap()
            && ours.get("access_token").is_none()
            && ours.get("id").is_none()
            && !ours.to_string().contains("json_invalid")
        {
            mismatches.push(format!(
                "{name}: {} body bytes, fastapi-users {}",
                bytes.len(),
                case["content_length"]
            ));
        }
        let theirs_cookie = case["set_cookie"].as_str().map(cookie_without_value);
        if set_cookie.as_deref().map(cookie_without_value) != theirs_cookie {
            mismatches.push(format!(
                "{name}: set-cookie {set_cookie:?}, fastapi-users {theirs_cookie:?}"
            ));
        }
        // Tokens: both sides name the same user with the same claims.
        if let (Some(ours_token), Some(theirs_token)) = (
            ours["access_token"].as_str(),
            theirs["access_token"].as_str(),
        ) {
            let (a, b) = (jwt_payload(ours_token), jwt_payload(theirs_token));
            assert_eq!(a["sub"], b["sub"], "{name}: token subject");
            assert_eq!(a["aud"], b["aud"], "{name}: token audience");
            let keys: Vec<_> = a.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys.len(), 3, "{name}: claims {keys:?}");
        }
    }
    assert!(
        mismatches.is_empty(),
        "differences from fastapi-users:\n{}",
        mismatches.join("\n")
    );

    // Stored rows after the replay, as fastapi-users left them.
    let legacy = store
        .get_by_email(users["legacy"]["email"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        legacy
            .hashed_password
            .starts_with("$argon2id$v=19$m=65536,t=3,p=4$"),
        "bcrypt hash upgraded on login: {}",
        legacy.hashed_password
    );
    let percival = store
        .get_by_email("percival@camelot.bt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(percival.email, "Percival@camelot.bt");
    assert!(!percival.is_superuser && !percival.is_verified && percival.is_active);
    let arthur = store
        .get_by_email("king.arthur@camelot.bt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        arthur.id.to_string(),
        users["arthur"]["id"].as_str().unwrap()
    );
}
