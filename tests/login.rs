//! `POST /auth/{backend}/login` and `/logout`: answers, tokens, cookies, 422s, hash upgrades.
// Two `#[backend(..)]` attributes with the same `lifetime = 3600` trip clippy's
// `duplicated_attributes` (a known false positive: rust-lang/rust-clippy#13238).
#![allow(clippy::duplicated_attributes)]

mod common;

use axum::http::{header, HeaderMap, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use common::*;
use serde_json::{json, Value};

/// A bcrypt hash of `secret-password` (cost 4), made with Python's `bcrypt.hashpw`.
const BCRYPT_HASH: &str = "$2b$04$SmrdHi5Ke4N7Z9dq2IFOruOGT1bKJIShpqaY1wf1UMC8WQxcmxq6y";
const BCRYPT_PASSWORD: &str = "secret-password";

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(cookie, name = "cookie", lifetime = 3600, secure = false)]
struct InsecureCookie;

#[derive(AuthConfig)]
#[backend(
    cookie,
    name = "web",
    lifetime = 120,
    cookie_name = "session",
    path = "/app",
    domain = "example.com",
    same_site = "strict"
)]
#[backend(cookie, name = "loose", lifetime = 60, same_site = none, http_only = false)]
struct CustomCookie;

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn single_set_cookie(headers: &HeaderMap) -> String {
    let all = set_cookies(headers);
    assert_eq!(all.len(), 1, "exactly one Set-Cookie: {all:?}");
    all.into_iter().next().unwrap()
}

fn assert_access_token(token: &str, user: &User, lifetime: u64) {
    let (header, payload) = decode_jwt(token);
    // The key id of the test secret (tests/keys.rs covers key ids).
    let kid = axum_users::JwtKeys::hs256(SECRET).unwrap().kid().to_owned();
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT", "kid": kid}));
    let keys: Vec<&str> = {
        let mut k: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        k.sort_unstable();
        k
    };
    assert_eq!(keys, ["aud", "exp", "sub"]);
    assert_eq!(payload["aud"], json!(["fastapi-users:auth"]));
    assert_eq!(payload["sub"], json!(user.id.hyphenated().to_string()));
    let exp = payload["exp"].as_u64().expect("integer exp");
    let expected = now() + lifetime;
    assert!(
        exp + 5 >= expected && exp <= expected,
        "exp {exp} is not now + {lifetime} ({expected})"
    );
    // The signature is plain HMAC-SHA256 with the secret: any JWT library can check it.
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(
        hs256_signature(SECRET.as_bytes(), signing_input),
        signature,
        "the signature is HS256 over header.payload with the secret"
    );
}

async fn login(app: &Router, backend: &str, body: String) -> (StatusCode, HeaderMap, Value) {
    send(app, post_form(&format!("/auth/{backend}/login"), body)).await
}

#[tokio::test]
async fn jwt_login_answers_a_bearer_token_in_fastapi_users_format() {
    let state = memory_state();
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let (status, _, body) = login(&app, "jwt", login_form("alice@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    let object = body.as_object().unwrap();
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "token_type"]);
    assert_eq!(body["token_type"], "bearer");
    let token = body["access_token"].as_str().unwrap();
    assert_access_token(token, &user, 3600);

    let (status, _, body) = send(&app, get_bearer("/me", token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "alice@example.com");
}

#[tokio::test]
async fn cookie_login_answers_204_with_the_exact_cookie() {
    let state = memory_state();
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let (status, headers, bytes) = send_raw(
        &app,
        post_form(
            "/auth/cookie/login",
            login_form("alice@example.com", PASSWORD),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty(), "204 carries no body");
    let cookie = single_set_cookie(&headers);
    let token = cookie
        .strip_prefix("fastapiusersauth=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();
    assert_eq!(
        cookie,
        format!("fastapiusersauth={token}; HttpOnly; Max-Age=3600; Path=/; SameSite=lax; Secure")
    );
    assert_access_token(&token, &user, 3600);

    let (status, _, body) = send(
        &app,
        get_cookie("/me", &format!("fastapiusersauth={token}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "alice@example.com");
}

#[tokio::test]
async fn cookie_declared_insecure_has_no_secure_attribute() {
    let state = state_for::<InsecureCookie>(MemoryStore::new());
    regular_user(&state, "alice@example.com").await;
    let app = app_for::<InsecureCookie>(&state);
    let (status, headers, _) =
        login(&app, "cookie", login_form("alice@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cookie = single_set_cookie(&headers);
    let token = cookie
        .strip_prefix("fastapiusersauth=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert_eq!(
        cookie,
        format!("fastapiusersauth={token}; HttpOnly; Max-Age=3600; Path=/; SameSite=lax")
    );

    let (status, headers, _) = send(
        &app,
        post_with(
            "/auth/cookie/logout",
            None,
            Some(&format!("fastapiusersauth={token}")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        single_set_cookie(&headers),
        "fastapiusersauth=\"\"; HttpOnly; Max-Age=0; Path=/; SameSite=lax"
    );
}

#[tokio::test]
async fn cookie_secure_can_be_switched_off_by_the_builder() {
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .cookie_secure(false)
        .build()
        .unwrap();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let (status, headers, _) =
        login(&app, "cookie", login_form("alice@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cookie = single_set_cookie(&headers);
    assert!(
        cookie.ends_with("; HttpOnly; Max-Age=3600; Path=/; SameSite=lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn custom_cookie_attributes_on_login_logout_and_guard() {
    let state = state_for::<CustomCookie>(MemoryStore::new());
    regular_user(&state, "alice@example.com").await;
    let app = app_for::<CustomCookie>(&state);

    let (status, headers, _) = login(&app, "web", login_form("alice@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cookie = single_set_cookie(&headers);
    let token = cookie
        .strip_prefix("session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        cookie,
        format!(
            "session={token}; Domain=example.com; HttpOnly; Max-Age=120; Path=/app; SameSite=strict; Secure"
        )
    );
    let (_, payload) = decode_jwt(&token);
    let exp = payload["exp"].as_u64().unwrap();
    assert!(exp <= now() + 120 && exp + 5 >= now() + 120);

    // The guard reads the custom cookie name, and no other one.
    let (status, _, body) = send(&app, get_cookie("/me", &format!("session={token}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "alice@example.com");
    let (status, _, _) = send(&app, get_cookie("/me", &format!("sessions={token}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, headers, _) = send(
        &app,
        post_with("/auth/web/logout", None, Some(&format!("session={token}"))),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        single_set_cookie(&headers),
        "session=\"\"; Domain=example.com; HttpOnly; Max-Age=0; Path=/app; SameSite=strict; Secure"
    );

    let (status, headers, _) =
        login(&app, "loose", login_form("alice@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cookie = single_set_cookie(&headers);
    let token = cookie
        .strip_prefix("fastapiusersauth=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert_eq!(
        cookie,
        format!("fastapiusersauth={token}; Max-Age=60; Path=/; SameSite=none; Secure")
    );
}

#[test]
fn same_site_none_cannot_be_made_insecure() {
    let err = AuthState::builder::<CustomCookie>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .cookie_secure(false)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("loose"), "{err}");
}

#[tokio::test]
async fn bad_credentials_are_indistinguishable() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    create_user(&state, "sleepy@example.com", PASSWORD, false, false, false).await;
    let app = app(&state);
    for backend in ["jwt", "cookie"] {
        let mut answers = Vec::new();
        for (email, password) in [
            ("nobody@example.com", PASSWORD),
            ("alice@example.com", "wrong password!"),
            ("sleepy@example.com", PASSWORD),
        ] {
            let (status, headers, bytes) = send_raw(
                &app,
                post_form(
                    &format!("/auth/{backend}/login"),
                    login_form(email, password),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend} {email}");
            assert!(headers.get(header::SET_COOKIE).is_none());
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
            answers.push(bytes);
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "identical bodies");
    }
}

#[tokio::test]
async fn login_email_is_case_insensitive() {
    let state = memory_state();
    let user = regular_user(&state, "King.Arthur@Camelot.BT").await;
    assert_eq!(user.email, "King.Arthur@camelot.bt");
    let app = app(&state);
    for email in [
        "king.arthur@camelot.bt",
        "KING.ARTHUR@CAMELOT.BT",
        "King.Arthur@camelot.bt",
    ] {
        let (status, _, body) = login(&app, "jwt", login_form(email, PASSWORD)).await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        let (_, payload) = decode_jwt(body["access_token"].as_str().unwrap());
        assert_eq!(payload["sub"], user.id.to_string());
    }
}

#[tokio::test]
async fn grant_type_password_is_accepted_and_others_refused() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let body = form_urlencoded(&[
        ("grant_type", "password"),
        ("username", "alice@example.com"),
        ("password", PASSWORD),
        ("scope", ""),
        ("client_id", "front"),
        ("client_secret", "unused"),
    ]);
    let (status, _, answer) = login(&app, "jwt", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "bearer");

    let body = form_urlencoded(&[
        ("grant_type", "client_credentials"),
        ("username", "alice@example.com"),
        ("password", PASSWORD),
    ]);
    for backend in ["jwt", "cookie"] {
        let (status, headers, answer) = login(&app, backend, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(headers.get(header::SET_COOKIE).is_none());
        assert_eq!(
            answer,
            json!({"detail": [{
                "type": "string_pattern_mismatch",
                "loc": ["body", "grant_type"],
                "msg": "String should match pattern '^password$'",
                "input": "client_credentials",
                "ctx": {"pattern": "^password$"},
            }]})
        );
    }
}

fn missing(field: &str) -> Value {
    json!({"type": "missing", "loc": ["body", field], "msg": "Field required", "input": null})
}

#[tokio::test]
async fn missing_or_empty_form_fields_are_422_in_fastapi_format() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let cases: Vec<(String, Vec<Value>)> = vec![
        (
            form_urlencoded(&[("password", PASSWORD)]),
            vec![missing("username")],
        ),
        (
            form_urlencoded(&[("username", "alice@example.com")]),
            vec![missing("password")],
        ),
        (
            String::new(),
            vec![missing("username"), missing("password")],
        ),
        (
            form_urlencoded(&[("username", ""), ("password", PASSWORD)]),
            vec![missing("username")],
        ),
        (
            form_urlencoded(&[("username", "alice@example.com"), ("password", "")]),
            vec![missing("password")],
        ),
        (
            form_urlencoded(&[("username", ""), ("password", "")]),
            vec![missing("username"), missing("password")],
        ),
    ];
    for backend in ["jwt", "cookie"] {
        for (body, detail) in &cases {
            let (status, _, answer) = login(&app, backend, body.clone()).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {body:?}"
            );
            assert_eq!(answer, json!({ "detail": detail }), "{backend} {body:?}");
        }
    }
}

#[tokio::test]
async fn json_body_to_login_is_two_missing_fields() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let (status, _, answer) = send(
        &app,
        post_json(
            "/auth/jwt/login",
            &json!({"username": "alice@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer,
        json!({"detail": [missing("username"), missing("password")]})
    );
}

#[tokio::test]
async fn logout_on_each_backend() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let cookie = login_cookie(&app, "alice@example.com", PASSWORD).await;

    let (status, headers, bytes) =
        send_raw(&app, post_with("/auth/jwt/logout", Some(&token), None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty());
    assert!(headers.get(header::SET_COOKIE).is_none());

    let (status, headers, bytes) =
        send_raw(&app, post_with("/auth/cookie/logout", None, Some(&cookie))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty());
    assert_eq!(
        single_set_cookie(&headers),
        "fastapiusersauth=\"\"; HttpOnly; Max-Age=0; Path=/; SameSite=lax; Secure"
    );
}

#[tokio::test]
async fn logout_without_valid_credentials_is_401() {
    let state = memory_state();
    let sleepy = create_user(&state, "sleepy@example.com", PASSWORD, true, false, false).await;
    let app = app(&state);
    let token = login_jwt(&app, "sleepy@example.com", PASSWORD).await;
    modify(&state, sleepy.id, |u| u.is_active = false).await;
    for backend in ["jwt", "cookie"] {
        let path = format!("/auth/{backend}/logout");
        for (bearer, cookie) in [
            (None, None),
            (Some("garbage"), None),
            (None, Some("fastapiusersauth=garbage")),
            (Some(token.as_str()), None),
        ] {
            let (status, headers, body) = send(&app, post_with(&path, bearer, cookie)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{path} {bearer:?} {cookie:?}"
            );
            assert_eq!(body, json!({"detail": "Unauthorized"}));
            assert!(headers.get(header::SET_COOKIE).is_none());
        }
    }
}

#[tokio::test]
async fn bcrypt_hash_is_verified_and_upgraded_to_argon2id() {
    let state = memory_state();
    let user = regular_user(&state, "legacy@example.com").await;
    modify(&state, user.id, |u| u.hashed_password = BCRYPT_HASH.into()).await;
    let app = app(&state);

    let (status, _, body) = login(
        &app,
        "jwt",
        login_form("legacy@example.com", "wrong-password"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    assert_eq!(stored(&state, user.id).await.hashed_password, BCRYPT_HASH);

    let (status, _, body) = login(
        &app,
        "jwt",
        login_form("legacy@example.com", BCRYPT_PASSWORD),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upgraded = stored(&state, user.id).await.hashed_password;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
        "{upgraded}"
    );

    let (status, _, _) = login(
        &app,
        "cookie",
        login_form("legacy@example.com", BCRYPT_PASSWORD),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Verified as is: no second rehash.
    assert_eq!(stored(&state, user.id).await.hashed_password, upgraded);
}

#[tokio::test]
async fn argon2_hash_with_other_parameters_is_rehashed() {
    let state = memory_state();
    let user = regular_user(&state, "old@example.com").await;
    let old = PasswordHasher::with_params(2048, 2, 1)
        .unwrap()
        .hash(PASSWORD)
        .await
        .unwrap();
    modify(&state, user.id, |u| u.hashed_password = old.clone()).await;
    let app = app(&state);
    let token = login_jwt(&app, "old@example.com", PASSWORD).await;
    assert!(!token.is_empty());
    let now_stored = stored(&state, user.id).await.hashed_password;
    assert_ne!(now_stored, old);
    assert!(
        now_stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
        "{now_stored}"
    );
}

#[tokio::test]
async fn unknown_hash_format_refuses_login() {
    let state = memory_state();
    let user = regular_user(&state, "odd@example.com").await;
    modify(&state, user.id, |u| u.hashed_password = PASSWORD.into()).await;
    let app = app(&state);
    let (status, _, body) = login(&app, "jwt", login_form("odd@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
}

#[tokio::test]
async fn login_on_a_sqlite_store() {
    let state = sqlite_state().await;
    let user = regular_user(&state, "Alice@Example.com").await;
    let app = app(&state);
    let (status, _, body) = login(&app, "jwt", login_form("alice@EXAMPLE.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_access_token(token, &user, 3600);
    let cookie = login_cookie(&app, "ALICE@example.com", PASSWORD).await;
    for request in [get_bearer("/me", token), get_cookie("/me", &cookie)] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["id"], user.id.to_string());
        assert_eq!(body["email"], "Alice@example.com");
    }
    let (status, _, body) = login(&app, "jwt", login_form("alice@example.com", "nope nope")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));

    // bcrypt upgrade through SQLite as well.
    modify(&state, user.id, |u| u.hashed_password = BCRYPT_HASH.into()).await;
    let (status, _, _) = login(
        &app,
        "jwt",
        login_form("alice@example.com", BCRYPT_PASSWORD),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(stored(&state, user.id)
        .await
        .hashed_password
        .starts_with("$argon2id$"));
}

#[tokio::test]
async fn default_hasher_uses_fastapi_users_parameters() {
    fn check(hash: &str) {
        let rest = hash
            .strip_prefix("$argon2id$v=19$m=65536,t=3,p=4$")
            .unwrap_or_else(|| panic!("unexpected PHC prefix: {hash}"));
        let parts: Vec<&str> = rest.split('$').collect();
        assert_eq!(parts.len(), 2, "{hash}");
        assert_eq!(parts[0].len(), 22, "16-byte salt: {hash}");
        assert_eq!(parts[1].len(), 43, "32-byte hash: {hash}");
        let b64 = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
        };
        assert!(b64(parts[0]) && b64(parts[1]), "{hash}");
    }
    // Through the builder's default: registration stores a default hash.
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let app = app(&state);
    let (status, _, body) = send(
        &app,
        post_json(
            "/auth/register",
            &json!({"email": "d@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user = state
        .store()
        .get_by_email("d@example.com")
        .await
        .unwrap()
        .unwrap();
    check(&user.hashed_password);
    let (verified, rehash) = PasswordHasher::default()
        .verify_and_update(PASSWORD, &user.hashed_password)
        .await
        .unwrap();
    assert!(verified);
    assert_eq!(rehash, None);
}

#[tokio::test]
async fn form_content_type_with_charset_is_accepted() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/auth/jwt/login")
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(axum::body::Body::from(login_form(
            "alice@example.com",
            PASSWORD,
        )))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
}

/// FastAPI's `OAuth2PasswordRequestForm` reads `multipart/form-data` as well (what a browser's
/// `fetch(url, {body: new FormData(form)})` sends).
#[tokio::test]
async fn multipart_login_form_is_accepted() {
    let state = memory_state();
    regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let boundary = "----axumusersboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice@example.com\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{PASSWORD}\r\n\
         --{boundary}--\r\n"
    );
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/auth/jwt/login")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
}
