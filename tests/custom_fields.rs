//! Custom user fields: declared with `UserFields`, stored in extra columns of the SQLite `user`
//! table, accepted by registration and PATCH, returned in the user JSON.

mod common;

use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::{Field, FieldKind, UserFields};
use common::*;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

#[derive(AuthConfig)]
#[backend(jwt)]
struct Auth;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Profile {
    #[serde(deserialize_with = "short_name")]
    display_name: Option<String>,
    age: i64,
}

/// An application rule that only the Rust type knows: at most 20 characters.
fn short_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = Option::<String>::deserialize(d)?;
    match &name {
        Some(n) if n.chars().count() > 20 => Err(serde::de::Error::custom(
            "display_name is longer than 20 characters",
        )),
        _ => Ok(name),
    }
}

impl UserFields for Profile {
    const FIELDS: &'static [Field] = &[
        Field::optional("display_name", FieldKind::Text),
        Field::required("age", FieldKind::Integer),
    ];
}

#[protected]
async fn profile(user: CurrentUser) -> Json<Value> {
    let profile: Profile = user.fields_as().unwrap();
    Json(json!({ "display_name": profile.display_name, "age": profile.age }))
}

async fn setup(url: &str) -> (AuthState, Router, SqliteStore) {
    let store = SqliteStore::connect(url)
        .await
        .unwrap()
        .with_fields(Profile::FIELDS)
        .await
        .unwrap();
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(store.clone())
        .password_hasher(PasswordHasher::with_params(1024, 1, 1).unwrap())
        .user_fields::<Profile>()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/profile", get(profile))
        .merge(Auth::router())
        .with_state(state.clone());
    (state, app, store)
}

#[tokio::test]
async fn fields_round_trip_through_register_patch_and_the_database() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("users.db").display());
    let (_, app, _) = setup(&url).await;

    let (status, _, body) = send(
        &app,
        post_json(
            "/auth/register",
            &json!({"email": "arthur@camelot.bt", "password": PASSWORD, "display_name": "Arthur", "age": 40}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["display_name"], "Arthur");
    assert_eq!(body["age"], 40);
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "age",
            "display_name",
            "email",
            "id",
            "is_active",
            "is_superuser",
            "is_verified"
        ]
    );

    let token = login_jwt(&app, "arthur@camelot.bt", PASSWORD).await;
    let (status, _, body) = send(&app, get_bearer("/profile", &token)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"display_name": "Arthur", "age": 40}));

    let (status, _, body) = send(&app, patch_me(&token, json!({"display_name": null}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["display_name"], Value::Null);
    assert_eq!(body["age"], 40, "fields not sent stay");

    // A new process on the same file sees the stored columns.
    let (_, _, store) = setup(&url).await;
    let user = store
        .get_by_email("arthur@camelot.bt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.fields.get("display_name"), Some(&Value::Null));
    assert_eq!(user.fields.get("age"), Some(&json!(40)));
}

#[tokio::test]
async fn fields_are_validated_like_pydantic_and_by_the_rust_type() {
    let (state, app, _) = setup("sqlite::memory:").await;
    let register = |body: Value| send(&app, post_json("/auth/register", &body));

    let (status, _, body) = register(json!({"email": "a@camelot.bt", "password": PASSWORD})).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "missing");
    assert_eq!(body["detail"][0]["loc"], json!(["body", "age"]));

    let (status, _, body) = register(
        json!({"email": "a@camelot.bt", "password": PASSWORD, "age": "forty", "display_name": 7}),
    )
    .await;
    assert_eq!(status, 422);
    let kinds: Vec<_> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["type"].clone(), i["loc"][1].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("string_type"), json!("display_name")),
            (json!("int_type"), json!("age"))
        ]
    );

    let (status, _, body) = register(json!({
        "email": "a@camelot.bt", "password": PASSWORD, "age": 3,
        "display_name": "a name far longer than twenty characters"
    }))
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "value_error");
    assert!(body["detail"][0]["msg"]
        .as_str()
        .unwrap()
        .contains("longer than 20 characters"));
    assert!(state
        .store()
        .get_by_email("a@camelot.bt")
        .await
        .unwrap()
        .is_none());

    let user = regular_user_with(&state, "b@camelot.bt", json!({"age": 5})).await;
    let token = login_jwt(&app, &user.email, PASSWORD).await;
    let (status, _, body) = send(&app, patch_me(&token, json!({"age": 1.5}))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["detail"][0]["type"], "int_type");
    let stored = state.store().get(user.id).await.unwrap().unwrap();
    assert_eq!(stored.fields["age"], 5);
}

#[test]
fn field_names_must_be_columns() {
    #[derive(Serialize, Deserialize)]
    struct Bad {}
    impl UserFields for Bad {
        const FIELDS: &'static [Field] = &[Field::optional("email", FieldKind::Text)];
    }
    let err = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .user_fields::<Bad>()
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("\"email\""), "{err}");
}

async fn regular_user_with(state: &AuthState, email: &str, fields: Value) -> User {
    let new = NewUser {
        fields: fields.as_object().unwrap().clone(),
        ..NewUser::new(email, PASSWORD)
    };
    state.create_user(new).await.unwrap()
}

fn patch_me(token: &str, body: Value) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method("PATCH")
        .uri("/users/me")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}
