//! `POST /auth/register`: answers, ignored fields, policy, 422s and concurrent registrations.
// Two `#[backend(..)]` attributes with the same `lifetime = 3600` trip clippy's
// `duplicated_attributes` (a known false positive: rust-lang/rust-clippy#13238).
#![allow(clippy::duplicated_attributes)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use common::*;
use serde_json::{json, Value};

async fn register(app: &Router, body: &Value) -> (StatusCode, Value) {
    let (status, _, body) = send(app, post_json("/auth/register", body)).await;
    (status, body)
}

fn raw_register(content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri("/auth/register");
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn assert_lowercase_hyphenated_uuid(id: &str) {
    assert_eq!(id.len(), 36, "{id}");
    for (i, c) in id.char_indices() {
        if [8, 13, 18, 23].contains(&i) {
            assert_eq!(c, '-', "{id}");
        } else {
            assert!(matches!(c, '0'..='9' | 'a'..='f'), "{id}");
        }
    }
    uuid::Uuid::parse_str(id).unwrap();
}

fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

const USER_KEYS: [&str; 5] = ["email", "id", "is_active", "is_superuser", "is_verified"];

#[tokio::test]
async fn register_answers_201_with_the_user_json() {
    let state = memory_state();
    let app = app(&state);
    let (status, _, bytes) = send_raw(
        &app,
        post_json(
            "/auth/register",
            &json!({"email": "alice@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("hashed_password"), "{text}");
    assert!(!text.contains("argon2"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(sorted_keys(&body), USER_KEYS);
    let id = body["id"].as_str().unwrap();
    assert_lowercase_hyphenated_uuid(id);
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["is_active"], true);
    assert_eq!(body["is_superuser"], false);
    assert_eq!(body["is_verified"], false);

    let user = stored(&state, uuid::Uuid::parse_str(id).unwrap()).await;
    assert_eq!(user.email, "alice@example.com");
    assert!(user.hashed_password.starts_with("$argon2id$"));
    assert!(user.is_active && !user.is_superuser && !user.is_verified);

    // The new user can log in.
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let (status, _, me) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], id);
}

#[tokio::test]
async fn flags_and_id_in_the_body_are_ignored() {
    let state = memory_state();
    let app = app(&state);
    let given_id = uuid::Uuid::new_v4().to_string();
    let (status, body) = register(
        &app,
        &json!({
            "id": given_id,
            "email": "mallory@example.com",
            "password": PASSWORD,
            "is_active": false,
            "is_superuser": true,
            "is_verified": true,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(body["id"], given_id);
    assert_eq!(body["is_active"], true);
    assert_eq!(body["is_superuser"], false);
    assert_eq!(body["is_verified"], false);
    let user = state
        .store()
        .get_by_email("mallory@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id.to_string(), body["id"].as_str().unwrap());
    assert!(user.is_active);
    assert!(!user.is_superuser);
    assert!(!user.is_verified);
    assert!(state
        .store()
        .get(uuid::Uuid::parse_str(&given_id).unwrap())
        .await
        .unwrap()
        .is_none());

    let token = login_jwt(&app, "mallory@example.com", PASSWORD).await;
    let (status, _, body) = send(&app, get_bearer("/admin", &token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({"detail": "Forbidden"}));
}

#[tokio::test]
async fn duplicate_email_is_refused_case_insensitively() {
    let state = memory_state();
    let app = app(&state);
    let (status, first) = register(
        &app,
        &json!({"email": "King.Arthur@Camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    for email in [
        "King.Arthur@Camelot.bt",
        "king.arthur@camelot.bt",
        "KING.ARTHUR@CAMELOT.BT",
    ] {
        let (status, body) = register(
            &app,
            &json!({"email": email, "password": "another password"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
        assert_eq!(body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));
    }
    // The first user is untouched.
    let user = stored(&state, first["id"].as_str().unwrap().parse().unwrap()).await;
    assert_eq!(user.email, "King.Arthur@camelot.bt");
    login_jwt(&app, "king.arthur@camelot.bt", PASSWORD).await;
}

#[tokio::test]
async fn short_password_is_refused_before_the_duplicate_check() {
    let state = memory_state();
    let app = app(&state);
    let invalid = json!({"detail": {
        "code": "REGISTER_INVALID_PASSWORD",
        "reason": "Password should be at least 8 characters",
    }});
    let (status, body) = register(
        &app,
        &json!({"email": "alice@example.com", "password": "1234567"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, invalid);
    assert!(state
        .store()
        .get_by_email("alice@example.com")
        .await
        .unwrap()
        .is_none());

    // Exactly 8 characters (counted as characters, not bytes) is enough.
    let (status, _) = register(
        &app,
        &json!({"email": "alice@example.com", "password": "12345678"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = register(
        &app,
        &json!({"email": "bob@example.com", "password": "ééééééé"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, invalid);

    // Existing e-mail with a bad password: the policy answers first, as in fastapi-users.
    let (status, body) = register(
        &app,
        &json!({"email": "alice@example.com", "password": "short"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, invalid);
}

#[tokio::test]
async fn invalid_email_is_422_value_error() {
    let state = memory_state();
    let app = app(&state);
    for email in [
        "not-an-email",
        "@example.com",
        "alice@",
        "alice@localhost",
        "alice@@example.com",
        "al ice@example.com",
        "alice@exa mple.com",
        "alice..x@example.com",
        "",
    ] {
        let (status, body) = register(&app, &json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email}: {body}");
        let detail = body["detail"].as_array().unwrap();
        assert_eq!(detail.len(), 1, "{email}: {body}");
        let entry = &detail[0];
        assert_eq!(entry["type"], "value_error", "{email}");
        assert_eq!(entry["loc"], json!(["body", "email"]), "{email}");
        assert_eq!(entry["input"], email, "{email}");
        let msg = entry["msg"].as_str().unwrap();
        let reason = entry["ctx"]["reason"].as_str().unwrap();
        assert_eq!(
            msg,
            format!("value is not a valid email address: {reason}"),
            "{email}"
        );
    }
    let (status, body) = register(
        &app,
        &json!({"email": "not-an-email", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["detail"][0]["msg"],
        "value is not a valid email address: An email address must have an @-sign."
    );
}

#[tokio::test]
async fn domain_is_lowercased_and_local_part_kept() {
    let state = memory_state();
    let app = app(&state);
    let (status, body) = register(
        &app,
        &json!({"email": "King.Arthur@Camelot.BT", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["email"], "King.Arthur@camelot.bt");
    let user = stored(&state, body["id"].as_str().unwrap().parse().unwrap()).await;
    assert_eq!(user.email, "King.Arthur@camelot.bt");
}

/// pydantic reports the object a field is missing from as the `input`.
fn missing(field: &str, body: &Value) -> Value {
    json!({"type": "missing", "loc": ["body", field], "msg": "Field required", "input": body})
}

#[tokio::test]
async fn missing_fields_are_422() {
    let state = memory_state();
    let app = app(&state);
    let bodies = [
        json!({}),
        json!({"email": "a@example.com"}),
        json!({"password": PASSWORD}),
    ];
    let cases = [
        (
            &bodies[0],
            vec![
                missing("email", &bodies[0]),
                missing("password", &bodies[0]),
            ],
        ),
        (&bodies[1], vec![missing("password", &bodies[1])]),
        (&bodies[2], vec![missing("email", &bodies[2])]),
    ];
    for (body, detail) in cases {
        let (status, answer) = register(&app, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer, json!({ "detail": detail }), "{body}");
    }
    // Empty body.
    let (status, _, answer) = send(&app, raw_register(Some("application/json"), "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer,
        json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]})
    );
    // Wrong types.
    let (status, answer) = register(&app, &json!({"email": 42, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["detail"][0]["type"], "string_type");
    assert_eq!(answer["detail"][0]["loc"], json!(["body", "email"]));
    assert_eq!(
        state.store().get_by_email("a@example.com").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn non_json_content_type_is_422() {
    let state = memory_state();
    let app = app(&state);
    let json_text = json!({"email": "a@example.com", "password": PASSWORD}).to_string();
    for (ct, body) in [
        ("text/plain", json_text.as_str()),
        (
            "application/x-www-form-urlencoded",
            "email=a%40example.com&password=correct+horse+battery",
        ),
    ] {
        let (status, _, answer) = send(&app, raw_register(Some(ct), body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ct}: {answer}");
        let detail = answer["detail"].as_array().unwrap();
        assert_eq!(detail.len(), 1, "{answer}");
        assert_eq!(detail[0]["type"], "model_attributes_type");
        assert_eq!(detail[0]["loc"], json!(["body"]));
        assert_eq!(
            detail[0]["msg"],
            "Input should be a valid dictionary or object to extract fields from"
        );
    }
    assert_eq!(
        state.store().get_by_email("a@example.com").await.unwrap(),
        None
    );

    // `application/json; charset=utf-8` and a missing content type are read as JSON.
    let (status, _, _) = send(
        &app,
        raw_register(Some("application/json; charset=utf-8"), &json_text),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = json!({"email": "b@example.com", "password": PASSWORD}).to_string();
    let (status, _, _) = send(&app, raw_register(None, &other)).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn invalid_json_is_422_json_invalid() {
    let state = memory_state();
    let app = app(&state);
    let (status, _, answer) = send(
        &app,
        raw_register(Some("application/json"), "{\"email\": \"a@example.com\","),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = answer["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 1);
    assert_eq!(detail[0]["type"], "json_invalid");
    assert_eq!(detail[0]["msg"], "JSON decode error");
    assert_eq!(detail[0]["loc"][0], "body");
    assert!(detail[0]["loc"][1].is_u64(), "{answer}");

    // A JSON value that is not an object.
    let (status, _, answer) = send(&app, raw_register(Some("application/json"), "[1, 2]")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["detail"][0]["type"], "model_attributes_type");
    assert_eq!(answer["detail"][0]["loc"], json!(["body"]));
}

#[tokio::test]
async fn unknown_extra_fields_are_ignored() {
    let state = memory_state();
    let app = app(&state);
    let (status, body) = register(
        &app,
        &json!({
            "email": "alice@example.com",
            "password": PASSWORD,
            "favourite_colour": "blue",
            "hashed_password": "$2b$04$attacker-chosen",
            "nested": {"a": [1, 2]},
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(sorted_keys(&body), USER_KEYS);
    let user = stored(&state, body["id"].as_str().unwrap().parse().unwrap()).await;
    assert!(user.hashed_password.starts_with("$argon2id$"));
    login_jwt(&app, "alice@example.com", PASSWORD).await;
}

#[tokio::test]
async fn custom_password_policy_reaches_the_answer() {
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .manager(StrictPolicy)
        .build()
        .unwrap();
    let app = app(&state);
    let (status, body) = register(
        &app,
        &json!({"email": "alice@example.com", "password": "elevenchars"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": "Password should be at least 12 characters"}})
    );
    let (status, body) = register(
        &app,
        &json!({"email": "alice@example.com", "password": "my name is ALICE!"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": "Password should not contain e-mail"}})
    );
    let (status, body) = register(
        &app,
        &json!({"email": "alice@example.com", "password": "twelve chars"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The policy applies to `create_user` too.
    let err = state
        .create_user(NewUser::new("bob@example.com", "short pass"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        err.body(),
        json!({"detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": "Password should be at least 12 characters"}})
    );
}

/// Sends 16 registrations for the same address (in varying case) at once.
async fn race(app: &Router) -> Vec<(StatusCode, Value)> {
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let app = app.clone();
            let email = if i % 2 == 0 {
                "Race@Example.com".to_owned()
            } else {
                "rAcE@example.COM".to_owned()
            };
            tokio::spawn(async move {
                let (status, _, body) = send(
                    &app,
                    post_json(
                        "/auth/register",
                        &json!({"email": email, "password": PASSWORD}),
                    ),
                )
                .await;
                (status, body)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in futures::future::join_all(handles).await {
        answers.push(handle.unwrap());
    }
    answers
}

fn assert_one_winner(answers: &[(StatusCode, Value)]) -> Value {
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(created.len(), 1, "exactly one 201: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{answers:?}");
        assert_eq!(*body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));
    }
    created[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_registrations_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let url = format!("sqlite://{}", path.display());
    let state = state_for::<Auth>(SqliteStore::connect(&url).await.unwrap());
    let app = app(&state);
    let winner = assert_one_winner(&race(&app).await);

    let user = state
        .store()
        .get_by_email("race@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id.to_string(), winner["id"].as_str().unwrap());
    // A later registration still sees the address taken.
    let (status, body) = register(
        &app,
        &json!({"email": "RACE@EXAMPLE.COM", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));

    // Count the rows from another SQLite client, when one is at hand.
    drop(state);
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM \"user\"').fetchone()[0])")
        .arg(&path)
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let count = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert_eq!(count, "1", "rows in table user");
        }
        other => eprintln!("skipping the row count: python3/sqlite3 unavailable ({other:?})"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_registrations_on_a_memory_store() {
    let store = MemoryStore::new();
    let state = state_for::<Auth>(store.clone());
    let app = app(&state);
    let winner = assert_one_winner(&race(&app).await);
    assert_eq!(store.len(), 1);
    let user = stored(&state, winner["id"].as_str().unwrap().parse().unwrap()).await;
    assert_eq!(user.email.to_lowercase(), "race@example.com");
}
