//! Access tokens: hand-minted HS256 tokens (any JWT library can make them), invalid tokens of
//! every kind, PyJWT interop, RS256/ES256 keys and key/secret checks.
// Two `#[backend(..)]` attributes with the same `lifetime = 3600` trip clippy's
// `duplicated_attributes` (a known false positive: rust-lang/rust-clippy#13238).
#![allow(clippy::duplicated_attributes)]

mod common;

use axum::http::StatusCode;
use axum::Router;
use axum_users::prelude::*;
use axum_users::{Algorithm, JwtKeys};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const AUD: &str = "fastapi-users:auth";

struct Fixture {
    store: MemoryStore,
    app: Router,
    user: User,
}

async fn fixture() -> Fixture {
    let store = MemoryStore::new();
    let state = state_for::<Auth>(store.clone());
    let user = regular_user(&state, "alice@example.com").await;
    Fixture {
        store,
        app: app(&state),
        user,
    }
}

/// Status of `GET /me` with `token` as bearer, and (same answer expected) as cookie.
async fn status_of(app: &Router, token: &str) -> StatusCode {
    let (bearer, _, body) = send(app, get_bearer("/me", token)).await;
    let (cookie, _, _) = send(app, get_cookie("/me", &format!("fastapiusersauth={token}"))).await;
    assert_eq!(bearer, cookie, "bearer and cookie agree");
    if bearer == StatusCode::UNAUTHORIZED {
        assert_eq!(body, json!({"detail": "Unauthorized"}));
    }
    bearer
}

fn claims(user: &User) -> Value {
    json!({"sub": user.id.to_string(), "aud": [AUD], "exp": now() + 3600})
}

fn with(mut payload: Value, key: &str, value: Value) -> Value {
    payload[key] = value;
    payload
}

fn without(mut payload: Value, key: &str) -> Value {
    payload.as_object_mut().unwrap().remove(key);
    payload
}

#[tokio::test]
async fn hand_minted_token_is_accepted() {
    let Fixture { app, user, .. } = fixture().await;
    let token = mint(&claims(&user));
    let (status, _, body) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], user.id.to_string());
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);

    // No `typ`, claims in another order, extra claims: still a valid token.
    let token = mint_with(
        SECRET.as_bytes(),
        &json!({"alg": "HS256"}),
        &json!({
            "exp": now() + 60,
            "iat": now(),
            "jti": "abc",
            "iss": "someone",
            "aud": [AUD],
            "sub": user.id.to_string(),
        }),
    );
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);
    // Upper-case id, as Python's uuid.UUID accepts it.
    let token = mint(&with(
        claims(&user),
        "sub",
        json!(user.id.to_string().to_uppercase()),
    ));
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);
}

#[tokio::test]
async fn expiry_is_enforced() {
    let Fixture { app, user, .. } = fixture().await;
    let expired = mint(&with(claims(&user), "exp", json!(now() - 1)));
    assert_eq!(status_of(&app, &expired).await, StatusCode::UNAUTHORIZED);
    let long_expired = mint(&with(claims(&user), "exp", json!(now() - 86_400)));
    assert_eq!(
        status_of(&app, &long_expired).await,
        StatusCode::UNAUTHORIZED
    );
    let not_a_number = mint(&with(claims(&user), "exp", json!("tomorrow")));
    assert_eq!(
        status_of(&app, &not_a_number).await,
        StatusCode::UNAUTHORIZED
    );
    let soon = mint(&with(claims(&user), "exp", json!(now() + 5)));
    assert_eq!(status_of(&app, &soon).await, StatusCode::OK);
}

/// PyJWT (and so fastapi-users) rejects a token when `exp <= now`: it is valid strictly before
/// its `exp` second.
#[tokio::test]
async fn token_expiring_this_second_is_rejected() {
    let Fixture { app, user, .. } = fixture().await;
    let token = mint(&with(claims(&user), "exp", json!(now())));
    let (status, _, _) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn leeway_is_configurable() {
    let store = MemoryStore::new();
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(store)
        .password_hasher(hasher())
        .leeway(120)
        .build()
        .unwrap();
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let recent = mint(&with(claims(&user), "exp", json!(now() - 60)));
    assert_eq!(status_of(&app, &recent).await, StatusCode::OK);
    let old = mint(&with(claims(&user), "exp", json!(now() - 300)));
    assert_eq!(status_of(&app, &old).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn required_claims_must_be_present() {
    let Fixture { app, user, .. } = fixture().await;
    for claim in ["exp", "sub", "aud"] {
        let token = mint(&without(claims(&user), claim));
        assert_eq!(
            status_of(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "without {claim}"
        );
    }
    // The pre-v10.3 `user_id` claim is not a `sub`.
    let legacy = mint(&json!({"user_id": user.id.to_string(), "aud": [AUD], "exp": now() + 60}));
    assert_eq!(status_of(&app, &legacy).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn audience_must_include_the_auth_audience() {
    let Fixture { app, user, .. } = fixture().await;
    for aud in [
        json!("fastapi-users:reset"),
        json!(["fastapi-users:reset"]),
        json!(["fastapi-users:verify"]),
        json!([]),
        json!("fastapi-users:auth:extra"),
    ] {
        let token = mint(&with(claims(&user), "aud", aud.clone()));
        assert_eq!(
            status_of(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "aud {aud}"
        );
    }
    for aud in [json!(AUD), json!(["other", AUD])] {
        let token = mint(&with(claims(&user), "aud", aud.clone()));
        assert_eq!(status_of(&app, &token).await, StatusCode::OK, "aud {aud}");
    }
}

#[tokio::test]
async fn signature_must_match() {
    let Fixture { store, app, user } = fixture().await;
    let state = state_for::<Auth>(store);
    let bob = regular_user(&state, "bob@example.com").await;

    // Tampered payload: Bob's id with Alice's signature.
    let token = mint(&claims(&user));
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload = b64(claims(&bob).to_string().as_bytes());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_eq!(status_of(&app, &tampered).await, StatusCode::UNAUTHORIZED);
    // Signature cut or altered.
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(status_of(&app, &unsigned).await, StatusCode::UNAUTHORIZED);
    let mut altered = parts[2].to_owned();
    let last = if altered.ends_with('A') { "B" } else { "A" };
    altered.replace_range(altered.len() - 1.., last);
    let altered = format!("{}.{}.{}", parts[0], parts[1], altered);
    assert_eq!(status_of(&app, &altered).await, StatusCode::UNAUTHORIZED);

    // Another secret.
    let other = mint_with(
        b"fedcba9876543210fedcba9876543210",
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &other).await, StatusCode::UNAUTHORIZED);
    // Garbage of various shapes.
    for garbage in ["", "x", "a.b", "a.b.c", "a.b.c.d", "....", "%%%.%%%.%%%"] {
        let (status, _, _) = send(&app, get_bearer("/me", garbage)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{garbage:?}");
    }
}

#[tokio::test]
async fn only_the_configured_algorithm_is_accepted() {
    let Fixture { store, app, user } = fixture().await;
    let header_part = |h: &Value| b64(h.to_string().as_bytes());
    let payload = b64(claims(&user).to_string().as_bytes());

    // alg: none, empty signature.
    for alg in ["none", "None", "NONE"] {
        let token = format!(
            "{}.{payload}.",
            header_part(&json!({"alg": alg, "typ": "JWT"}))
        );
        assert_eq!(
            status_of(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{alg}"
        );
    }
    // HS512 with the right secret.
    let input = format!(
        "{}.{payload}",
        header_part(&json!({"alg": "HS512", "typ": "JWT"}))
    );
    let hs512 = format!("{input}.{}", hs512_signature(SECRET.as_bytes(), &input));
    assert_eq!(status_of(&app, &hs512).await, StatusCode::UNAUTHORIZED);
    // HS256 signature under an HS512 header.
    let input = format!(
        "{}.{payload}",
        header_part(&json!({"alg": "HS512", "typ": "JWT"}))
    );
    let lying = format!("{input}.{}", hs256_signature(SECRET.as_bytes(), &input));
    assert_eq!(status_of(&app, &lying).await, StatusCode::UNAUTHORIZED);

    // A real RS256 token for the same user, from an RS256 service over the same store.
    let rs_state = AuthState::builder::<Auth>()
        .jwt_keys(rsa_keys())
        .reset_secret(SECRET)
        .verification_secret(SECRET)
        .store(store)
        .password_hasher(hasher())
        .build()
        .unwrap();
    let rs_app = common::app(&rs_state);
    let rs_token = login_jwt(&rs_app, "alice@example.com", PASSWORD).await;
    assert_eq!(decode_jwt(&rs_token).0["alg"], "RS256");
    assert_eq!(status_of(&rs_app, &rs_token).await, StatusCode::OK);
    assert_eq!(status_of(&app, &rs_token).await, StatusCode::UNAUTHORIZED);

    // Key confusion: HS256 "signed" with the RSA public key against the RS256 service.
    let confused = mint_with(
        &fixture_file("rsa_public.pem"),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(&user),
    );
    assert_eq!(
        status_of(&rs_app, &confused).await,
        StatusCode::UNAUTHORIZED
    );
    // And the HS256 token of the HS256 service is nothing to the RS256 one.
    let hs = mint(&claims(&user));
    assert_eq!(status_of(&rs_app, &hs).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn subject_must_be_a_uuid() {
    let Fixture { app, user, .. } = fixture().await;
    for sub in [
        json!("not-a-uuid"),
        json!(""),
        json!(12345),
        json!(user.id.as_u128().to_string()),
        json!(null),
        json!([user.id.to_string()]),
        json!(format!("{}x", user.id)),
    ] {
        let token = mint(&with(claims(&user), "sub", sub.clone()));
        assert_eq!(
            status_of(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "sub {sub}"
        );
    }
}

/// PyJWT rejects a token whose `nbf` is in the future; so must a fastapi-users-compatible
/// service.
#[tokio::test]
async fn not_before_in_the_future_is_rejected() {
    let Fixture { app, user, .. } = fixture().await;
    let past = mint(&with(claims(&user), "nbf", json!(now() - 10)));
    assert_eq!(status_of(&app, &past).await, StatusCode::OK);
    let future = mint(&with(claims(&user), "nbf", json!(now() + 600)));
    assert_eq!(status_of(&app, &future).await, StatusCode::UNAUTHORIZED);
}

/// PyJWT also rejects a token issued in the future, and an `iat` that is not a number.
#[tokio::test]
async fn issued_in_the_future_is_rejected() {
    let Fixture { app, user, .. } = fixture().await;
    let past = mint(&with(claims(&user), "iat", json!(now() - 10)));
    assert_eq!(status_of(&app, &past).await, StatusCode::OK);
    let future = mint(&with(claims(&user), "iat", json!(now() + 600)));
    assert_eq!(status_of(&app, &future).await, StatusCode::UNAUTHORIZED);
    let text = mint(&with(claims(&user), "iat", json!("yesterday")));
    assert_eq!(status_of(&app, &text).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_critical_header_is_rejected() {
    let Fixture { app, user, .. } = fixture().await;
    let token = mint_with(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT", "crit": ["exp-in-the-past-ok"], "exp-in-the-past-ok": true}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
}

fn pyjwt_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import jwt"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn tokens_interoperate_with_pyjwt() {
    if !pyjwt_available() {
        eprintln!("skipping: PyJWT is not installed (`python3 -c 'import jwt'` failed)");
        return;
    }
    let Fixture { app, user, .. } = fixture().await;
    // PyJWT mints as fastapi-users does; we accept it.
    let token = python(
        "import jwt, sys, time\n\
         print(jwt.encode({'sub': sys.argv[2], 'aud': ['fastapi-users:auth'], 'exp': int(time.time()) + 3600}, sys.argv[1], algorithm='HS256'))",
        &[SECRET, &user.id.to_string()],
    );
    let (status, _, body) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], user.id.to_string());

    // We mint as fastapi-users does; PyJWT (fastapi-users' decode_jwt) accepts it.
    let ours = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let sub = python(
        "import jwt, sys\n\
         print(jwt.decode(sys.argv[2], sys.argv[1], audience=['fastapi-users:auth'], algorithms=['HS256'])['sub'])",
        &[SECRET, &ours],
    );
    assert_eq!(sub, user.id.to_string());
}

fn fixture_file(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn rsa_keys() -> JwtKeys {
    JwtKeys::from_pem(
        Algorithm::RS256,
        &fixture_file("rsa_private.pem"),
        &fixture_file("rsa_public.pem"),
    )
    .unwrap()
}

async fn asymmetric_round_trip(keys: JwtKeys, alg: &str) {
    assert_eq!(format!("{:?}", keys.algorithm()), alg);
    let kid = keys.kid().to_owned();
    let state = AuthState::builder::<Auth>()
        .jwt_keys(keys)
        .reset_secret(SECRET)
        .verification_secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .build()
        .unwrap();
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let (header, payload) = decode_jwt(&token);
    assert_eq!(header, json!({"alg": alg, "typ": "JWT", "kid": kid}));
    assert_eq!(payload["sub"], user.id.to_string());
    assert_eq!(payload["aud"], json!([AUD]));
    let (status, _, body) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], user.id.to_string());
    let cookie = login_cookie(&app, "alice@example.com", PASSWORD).await;
    let (status, _, _) = send(&app, get_cookie("/me", &cookie)).await;
    assert_eq!(status, StatusCode::OK);
    // Tampering is caught here too.
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(
        json!({"sub": Uuid::new_v4().to_string(), "aud": [AUD], "exp": now() + 60})
            .to_string()
            .as_bytes(),
    );
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    let (status, _, _) = send(&app, get_bearer("/me", &tampered)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rs256_keys_sign_and_verify() {
    asymmetric_round_trip(rsa_keys(), "RS256").await;
}

#[tokio::test]
async fn es256_keys_sign_and_verify() {
    let keys = JwtKeys::from_pem(
        Algorithm::ES256,
        &fixture_file("ec_private.pem"),
        &fixture_file("ec_public.pem"),
    )
    .unwrap();
    asymmetric_round_trip(keys, "ES256").await;
}

#[test]
fn mismatched_or_invalid_keys_are_refused() {
    let err = JwtKeys::from_pem(
        Algorithm::RS256,
        &fixture_file("rsa_private.pem"),
        &fixture_file("rsa_other_public.pem"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    assert!(JwtKeys::from_pem(
        Algorithm::ES256,
        &fixture_file("ec_private.pem"),
        &fixture_file("rsa_public.pem"),
    )
    .is_err());
    assert!(JwtKeys::from_pem(
        Algorithm::RS256,
        &fixture_file("ec_private.pem"),
        &fixture_file("ec_public.pem"),
    )
    .is_err());
    assert!(JwtKeys::from_pem(
        Algorithm::RS256,
        b"not a pem",
        &fixture_file("rsa_public.pem")
    )
    .is_err());
    let err = JwtKeys::from_pem(
        Algorithm::HS512,
        &fixture_file("rsa_private.pem"),
        &fixture_file("rsa_public.pem"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unsupported"), "{err}");
}

#[test]
fn secret_must_have_at_least_32_bytes() {
    let build = |secret: &[u8]| {
        AuthState::builder::<Auth>()
            .secret(secret)
            .store(MemoryStore::new())
            .build()
    };
    let err = build(&SECRET.as_bytes()[..31]).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("at least 32 bytes"), "{message}");
    assert!(message.contains("31"), "{message}");
    assert!(build(b"").is_err());
    assert!(build(SECRET.as_bytes()).is_ok());
    // Neither a secret nor keys.
    let err = AuthState::builder::<Auth>()
        .store(MemoryStore::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("secret"), "{err}");
}

/// Reset and verification tokens are HS256: with a key pair for access tokens, their secrets
/// must be given, and the builder says so.
#[test]
fn key_pair_without_purpose_secrets_is_refused() {
    let err = AuthState::builder::<Auth>()
        .jwt_keys(rsa_keys())
        .store(MemoryStore::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("reset_secret"), "{err}");
    let err = AuthState::builder::<Auth>()
        .jwt_keys(rsa_keys())
        .reset_secret(SECRET)
        .store(MemoryStore::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("verification_secret"), "{err}");
}
