//! Key rotation, key ids and the issuer, through the router: tokens signed with a previous
//! secret stay valid, new tokens name the newest key in their `kid`, an unknown or mismatched
//! `kid` is refused, algorithms never cross keys, `iss` is enforced when configured, and
//! fastapi-users tokens (no `kid`) and PyJWT interoperate.
#![allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238, in `common`

mod common;

use axum::http::StatusCode;
use axum::Router;
use axum_users::prelude::*;
use axum_users::{Algorithm, ConfigError, JwtKeys};
use common::*;
use serde_json::{json, Value};

/// The secret before the rotation (the test secret of every other suite).
const OLD: &str = SECRET;
/// The secret after it.
const NEW: &str = "the brand new secret, 32 bytes or more";
/// A secret nobody configured.
const OTHER: &str = "a secret this service never had!!";
const ISSUER: &str = "https://auth.example.com";
const AUD: &str = "fastapi-users:auth";

/// A state over `store` signing with `secret`, verifying also with `previous` (newest first).
fn state_with(
    store: &MemoryStore,
    secret: &str,
    previous: &[&str],
    issuer: Option<&str>,
) -> AuthState {
    let mut builder = AuthState::builder::<Auth>()
        .secret(secret)
        .store(store.clone())
        .password_hasher(hasher());
    for old in previous {
        builder = builder.previous_secret(old);
    }
    if let Some(issuer) = issuer {
        builder = builder.issuer(issuer);
    }
    builder.build().unwrap()
}

/// `GET /me` with `token` as bearer and as cookie (both must agree).
async fn status_of(app: &Router, token: &str) -> StatusCode {
    let (bearer, _, body) = send(app, get_bearer("/me", token)).await;
    let (cookie, _, _) = send(app, get_cookie("/me", &format!("fastapiusersauth={token}"))).await;
    assert_eq!(bearer, cookie, "bearer and cookie agree ({body})");
    bearer
}

/// The standard access claims for `user`.
fn claims(user: &User) -> Value {
    json!({"sub": user.id.to_string(), "aud": [AUD], "exp": now() + 3600})
}

/// The `kid` of a token's header (`Null` when absent).
fn kid_of(token: &str) -> Value {
    decode_jwt(token).0["kid"].clone()
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

#[tokio::test]
async fn rotation_keeps_old_tokens_until_the_previous_secret_is_dropped() {
    let store = MemoryStore::new();
    let before = state_with(&store, OLD, &[], None);
    let user = regular_user(&before, "alice@example.com").await;
    let before_app = app(&before);
    let old_token = login_jwt(&before_app, "alice@example.com", PASSWORD).await;
    let old_cookie = login_cookie(&before_app, "alice@example.com", PASSWORD).await;
    assert_eq!(kid_of(&old_token), before.keys().kid());

    // Rotated: the new secret signs, the old one still verifies.
    let rotated = state_with(&store, NEW, &[OLD], None);
    let rotated_app = app(&rotated);
    assert_ne!(rotated.keys().kid(), before.keys().kid());
    assert_eq!(status_of(&rotated_app, &old_token).await, StatusCode::OK);
    let (status, _, body) = send(&rotated_app, get_cookie("/me", &old_cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], user.id.to_string());

    let new_token = login_jwt(&rotated_app, "alice@example.com", PASSWORD).await;
    let (header, payload) = decode_jwt(&new_token);
    assert_eq!(
        header,
        json!({"alg": "HS256", "typ": "JWT", "kid": rotated.keys().kid()})
    );
    assert_eq!(payload["sub"], user.id.to_string());
    assert_eq!(status_of(&rotated_app, &new_token).await, StatusCode::OK);
    let new_cookie = login_cookie(&rotated_app, "alice@example.com", PASSWORD).await;
    let (status, _, _) = send(&rotated_app, get_cookie("/me", &new_cookie)).await;
    assert_eq!(status, StatusCode::OK);
    // A service that only knows the old secret does not accept the new tokens.
    assert_eq!(
        status_of(&before_app, &new_token).await,
        StatusCode::UNAUTHORIZED
    );

    // The old secret dropped: its tokens die, the new ones live on.
    let dropped = state_with(&store, NEW, &[], None);
    let dropped_app = app(&dropped);
    assert_eq!(dropped.keys().kid(), rotated.keys().kid());
    assert_eq!(
        status_of(&dropped_app, &old_token).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = send(&dropped_app, get_cookie("/me", &old_cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&dropped_app, &new_token).await, StatusCode::OK);
}

#[tokio::test]
async fn several_previous_secrets_are_tried_newest_first() {
    let store = MemoryStore::new();
    let state = state_with(&store, NEW, &[OLD, OTHER], None);
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let kids: Vec<&str> = state.keys().kids().collect();
    assert_eq!(kids.len(), 3);
    assert_eq!(kids[0], state.keys().kid());
    // Tokens without a `kid` (fastapi-users, older axum-users) from every key of the set.
    for secret in [NEW, OLD, OTHER] {
        let token = mint_with(
            secret.as_bytes(),
            &json!({"alg": "HS256", "typ": "JWT"}),
            &claims(&user),
        );
        assert_eq!(status_of(&app, &token).await, StatusCode::OK, "{secret}");
    }
    // Each key's own `kid` selects it.
    for (secret, kid) in [NEW, OLD, OTHER].iter().zip(&kids) {
        let token = mint_with(
            secret.as_bytes(),
            &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
            &claims(&user),
        );
        assert_eq!(status_of(&app, &token).await, StatusCode::OK, "{kid}");
    }
    // A secret outside the set, with or without a kid.
    for header in [
        json!({"alg": "HS256", "typ": "JWT"}),
        json!({"alg": "HS256", "typ": "JWT", "kid": kids[1]}),
    ] {
        let token = mint_with(
            b"not a configured secret, 32 bytes+",
            &header,
            &claims(&user),
        );
        assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn unknown_and_tampered_kids_are_refused() {
    let store = MemoryStore::new();
    let single = state_with(&store, OLD, &[], None);
    let user = regular_user(&single, "alice@example.com").await;
    let rotated = state_with(&store, NEW, &[OLD], None);
    let new_kid = rotated.keys().kid().to_owned();
    let old_kid = single.keys().kid().to_owned();
    for state in [&single, &rotated] {
        let app = app(state);
        // Correctly signed, but naming a key the service does not have.
        for kid in [json!("unknown"), json!(""), json!(format!("{old_kid}x"))] {
            let token = mint_with(
                OLD.as_bytes(),
                &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
                &claims(&user),
            );
            assert_eq!(
                status_of(&app, &token).await,
                StatusCode::UNAUTHORIZED,
                "kid {kid}"
            );
        }
        // A `kid` that is not a string.
        for kid in [json!(5), json!([old_kid]), json!({"kid": old_kid})] {
            let token = mint_with(
                OLD.as_bytes(),
                &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
                &claims(&user),
            );
            assert_eq!(
                status_of(&app, &token).await,
                StatusCode::UNAUTHORIZED,
                "kid {kid}"
            );
        }
    }
    let app = app(&rotated);
    // Signed with the old secret but naming the new key, and the reverse.
    let token = mint_with(
        OLD.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT", "kid": new_kid}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
    let token = mint_with(
        NEW.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT", "kid": old_kid}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
    // A genuine token whose header is swapped for one naming the other key.
    let genuine = login_jwt(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status_of(&app, &genuine).await, StatusCode::OK);
    let parts: Vec<&str> = genuine.split('.').collect();
    for header in [
        json!({"alg": "HS256", "typ": "JWT", "kid": old_kid}),
        json!({"alg": "HS256", "typ": "JWT"}),
        json!({"alg": "HS256", "typ": "JWT", "kid": new_kid, "x": 1}),
    ] {
        let forged = format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            status_of(&app, &forged).await,
            StatusCode::UNAUTHORIZED,
            "{header}"
        );
    }
}

#[tokio::test]
async fn algorithms_never_cross_keys() {
    // RS256 signs; the HS256 secret of before the switch still verifies.
    let store = MemoryStore::new();
    let state = AuthState::builder::<Auth>()
        .jwt_keys(rsa_keys())
        .previous_secret(OLD)
        .reset_secret(OLD)
        .verification_secret(OLD)
        .store(store.clone())
        .password_hasher(hasher())
        .build()
        .unwrap();
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let kids: Vec<String> = state.keys().kids().map(str::to_owned).collect();
    let (rs_kid, hs_kid) = (&kids[0], &kids[1]);
    assert_eq!(rs_kid, rsa_keys().kid());
    assert_eq!(hs_kid, JwtKeys::hs256(OLD).unwrap().kid());

    // The good cases: each key with its own algorithm, by kid or without one.
    let rs_token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(
        decode_jwt(&rs_token).0,
        json!({"alg": "RS256", "typ": "JWT", "kid": rs_kid})
    );
    assert_eq!(status_of(&app, &rs_token).await, StatusCode::OK);
    let hs_old = mint_with(
        OLD.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &hs_old).await, StatusCode::OK);
    let hs_by_kid = mint_with(
        OLD.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT", "kid": hs_kid}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &hs_by_kid).await, StatusCode::OK);

    // An RS256 token whose kid names the HS256 key.
    let rs_to_hs = rsa_keys()
        .with_kid(hs_kid.as_str())
        .unwrap()
        .access_token(user.id, 3600)
        .unwrap();
    assert_eq!(decode_jwt(&rs_to_hs).0["alg"], "RS256");
    assert_eq!(status_of(&app, &rs_to_hs).await, StatusCode::UNAUTHORIZED);
    // An HS256 token (a valid HMAC with the previous secret) whose kid names the RSA key.
    let hs_to_rs = mint_with(
        OLD.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT", "kid": rs_kid}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &hs_to_rs).await, StatusCode::UNAUTHORIZED);
    // The classic confusion: HS256 keyed with the RSA public key, with and without kid.
    let public = fixture_file("rsa_public.pem");
    for header in [
        json!({"alg": "HS256", "typ": "JWT", "kid": rs_kid}),
        json!({"alg": "HS256", "typ": "JWT"}),
    ] {
        let token = mint_with(&public, &header, &claims(&user));
        assert_eq!(
            status_of(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{header}"
        );
    }
    // An RS256 header on an HMAC signature, and `none`, with either kid.
    for (alg, kid) in [
        ("RS256", hs_kid),
        ("RS256", rs_kid),
        ("none", hs_kid),
        ("none", rs_kid),
    ] {
        let token = mint_with(
            OLD.as_bytes(),
            &json!({"alg": alg, "typ": "JWT", "kid": kid}),
            &claims(&user),
        );
        assert_eq!(
            status_of(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{alg} {kid}"
        );
        let unsigned = format!(
            "{}.{}.",
            b64(json!({"alg": alg, "typ": "JWT", "kid": kid})
                .to_string()
                .as_bytes()),
            b64(claims(&user).to_string().as_bytes())
        );
        assert_eq!(
            status_of(&app, &unsigned).await,
            StatusCode::UNAUTHORIZED,
            "{alg} {kid}"
        );
    }
    // HS512 with the right secret: not the key's algorithm.
    let hs512 = {
        let header = json!({"alg": "HS512", "typ": "JWT", "kid": hs_kid});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims(&user).to_string().as_bytes())
        );
        format!("{input}.{}", hs512_signature(OLD.as_bytes(), &input))
    };
    assert_eq!(status_of(&app, &hs512).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reset_and_verify_tokens_survive_a_rotation() {
    let store = MemoryStore::new();
    let before = state_with(&store, OLD, &[], None);
    let user = regular_user(&before, "alice@example.com").await;
    let bob = regular_user(&before, "bob@example.com").await;
    let reset = before.reset_token(&user).await.unwrap();
    let verify = before.verification_token(&user).unwrap();
    let bob_reset = before.reset_token(&bob).await.unwrap();
    let bob_verify = before.verification_token(&bob).unwrap();
    assert_eq!(kid_of(&reset), before.keys().kid());

    // Dropped at once: the old reset and verification tokens are bad tokens.
    let dropped = app(&state_with(&store, NEW, &[], None));
    let (status, _, body) = send(
        &dropped,
        post_json(
            "/auth/reset-password",
            &json!({"token": bob_reset, "password": "another good password"}),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
        )
    );
    let (status, _, body) = send(
        &dropped,
        post_json("/auth/verify", &json!({"token": bob_verify})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "VERIFY_USER_BAD_TOKEN"})
        )
    );

    // Rotated: they still work.
    let rotated = state_with(&store, NEW, &[OLD], None);
    assert_eq!(rotated.reset_keys().kids().count(), 2);
    assert_eq!(rotated.verify_keys().kids().count(), 2);
    let rotated_app = app(&rotated);
    let (status, _, body) = send(
        &rotated_app,
        post_json("/auth/verify", &json!({"token": verify})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_verified"], true);
    let new_password = "another good password";
    let (status, _, body) = send(
        &rotated_app,
        post_json(
            "/auth/reset-password",
            &json!({"token": reset, "password": new_password}),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    assert!(password_matches(&rotated, "alice@example.com", new_password).await);

    // New ones carry the new kid, verify after the old secret is dropped, and not before
    // the rotation.
    let fresh_reset = rotated.reset_token(&bob).await.unwrap();
    let fresh_verify = rotated.verification_token(&bob).unwrap();
    assert_eq!(kid_of(&fresh_reset), rotated.keys().kid());
    assert_eq!(kid_of(&fresh_verify), rotated.keys().kid());
    let (status, _, _) = send(
        &app(&before),
        post_json("/auth/verify", &json!({"token": fresh_verify})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(
        &dropped,
        post_json("/auth/verify", &json!({"token": fresh_verify})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(
        &dropped,
        post_json(
            "/auth/reset-password",
            &json!({"token": fresh_reset, "password": new_password}),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
}

#[tokio::test]
async fn separate_purpose_secrets_do_not_take_the_previous_secrets() {
    let state = AuthState::builder::<Auth>()
        .secret(NEW)
        .previous_secret(OLD)
        .reset_secret(OTHER)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .build()
        .unwrap();
    assert_eq!(state.keys().kids().count(), 2);
    assert_eq!(state.reset_keys().kids().count(), 1);
    assert_eq!(state.verify_keys().kids().count(), 2);
    let user = regular_user(&state, "alice@example.com").await;
    // A reset token signed with the old main secret is not a reset token here.
    let old_reset = state_with(&MemoryStore::new(), OLD, &[], None)
        .reset_token(&user)
        .await
        .unwrap();
    let (status, _, body) = send(
        &app(&state),
        post_json(
            "/auth/reset-password",
            &json!({"token": old_reset, "password": "another good password"}),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
        )
    );
}

#[tokio::test]
async fn issuer_is_written_and_required_when_configured() {
    let store = MemoryStore::new();
    let state = state_with(&store, OLD, &[], Some(ISSUER));
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let payload = decode_jwt(&token).1;
    assert_eq!(payload["iss"], ISSUER);
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);

    let with_iss = |iss: Value| {
        let mut claims = claims(&user);
        claims["iss"] = iss;
        mint_with(
            OLD.as_bytes(),
            &json!({"alg": "HS256", "typ": "JWT"}),
            &claims,
        )
    };
    assert_eq!(
        status_of(&app, &with_iss(json!(ISSUER))).await,
        StatusCode::OK
    );
    for iss in [
        json!("https://evil.example.com"),
        json!(format!("{ISSUER}/")),
        json!(""),
        json!([ISSUER]),
        json!(null),
        json!(7),
    ] {
        assert_eq!(
            status_of(&app, &with_iss(iss.clone())).await,
            StatusCode::UNAUTHORIZED,
            "iss {iss}"
        );
    }
    // Absent: refused.
    let no_iss = mint_with(
        OLD.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(&user),
    );
    assert_eq!(status_of(&app, &no_iss).await, StatusCode::UNAUTHORIZED);

    // Reset and verification tokens carry it, and must.
    let reset = state.reset_token(&user).await.unwrap();
    assert_eq!(decode_jwt(&reset).1["iss"], ISSUER);
    let verify = state.verification_token(&user).unwrap();
    assert_eq!(decode_jwt(&verify).1["iss"], ISSUER);
    let plain = state_with(&store, OLD, &[], None);
    let plain_verify = plain.verification_token(&user).unwrap();
    let (status, _, body) = send(
        &app,
        post_json("/auth/verify", &json!({"token": plain_verify})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "VERIFY_USER_BAD_TOKEN"})
        )
    );
    let plain_reset = plain.reset_token(&user).await.unwrap();
    let (status, _, body) = send(
        &app,
        post_json(
            "/auth/reset-password",
            &json!({"token": plain_reset, "password": "another good password"}),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
        )
    );
    let (status, _, body) = send(&app, post_json("/auth/verify", &json!({"token": verify}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Not configured: `iss` is not looked at (fastapi-users does not either).
    let plain_app = common::app(&plain);
    assert_eq!(
        decode_jwt(&plain.keys().access_token(user.id, 60).unwrap())
            .1
            .get("iss"),
        None
    );
    for iss in [json!(ISSUER), json!("https://elsewhere.example.com")] {
        assert_eq!(
            status_of(&plain_app, &with_iss(iss.clone())).await,
            StatusCode::OK,
            "iss {iss}"
        );
    }
    assert_eq!(status_of(&plain_app, &token).await, StatusCode::OK);
}

#[tokio::test]
async fn fastapi_users_tokens_without_kid_are_accepted() {
    let store = MemoryStore::new();
    let single = state_with(&store, OLD, &[], None);
    let user = regular_user(&single, "alice@example.com").await;
    // The test minter writes what fastapi-users writes: `{"alg": "HS256", "typ": "JWT"}`.
    let fastapi_token = mint_access(&user.id.to_string());
    assert_eq!(kid_of(&fastapi_token), Value::Null);
    assert_eq!(
        status_of(&app(&single), &fastapi_token).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app(&state_with(&store, NEW, &[OLD], None)), &fastapi_token).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app(&state_with(&store, NEW, &[], None)), &fastapi_token).await,
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn builder_checks_previous_secrets_and_issuer() {
    let build = |previous: &str, issuer: Option<&str>| {
        let mut builder = AuthState::builder::<Auth>()
            .secret(NEW)
            .previous_secret(previous)
            .store(MemoryStore::new());
        if let Some(issuer) = issuer {
            builder = builder.issuer(issuer);
        }
        builder.build()
    };
    let err = build("too short", None).unwrap_err();
    assert!(matches!(err, ConfigError::WeakSecret { len: 9 }), "{err:?}");
    assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    let err = build(OLD, Some("")).unwrap_err();
    assert!(matches!(err, ConfigError::EmptyIssuer), "{err:?}");
    // The current secret among the previous ones: one key, not two.
    let state = build(NEW, None).unwrap();
    assert_eq!(state.keys().kids().count(), 1);
    // Two different keys under one kid.
    let err = JwtKeys::hs256(NEW)
        .unwrap()
        .with_kid("k1")
        .unwrap()
        .with_previous(JwtKeys::hs256(OLD).unwrap().with_kid("k1").unwrap())
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidKeyId { .. }), "{err:?}");
    let err = JwtKeys::hs256(NEW).unwrap().with_kid("").unwrap_err();
    assert!(matches!(err, ConfigError::InvalidKeyId { .. }), "{err:?}");
}

#[test]
fn key_ids_reveal_nothing_and_name_one_key() {
    let old = JwtKeys::hs256(OLD).unwrap();
    let new = JwtKeys::hs256(NEW).unwrap();
    // Known answers, computed with Python's hmac and hashlib: base64url of the first 6 bytes of
    // HMAC-SHA256(secret, "axum-users key id"), and of SHA-256 of the public key PEM.
    assert_eq!(old.kid(), "ClUQPUdk");
    assert_eq!(rsa_keys().kid(), "FieMsHfq");
    let ec = JwtKeys::from_pem(
        Algorithm::ES256,
        &fixture_file("ec_private.pem"),
        &fixture_file("ec_public.pem"),
    )
    .unwrap();
    assert_eq!(ec.kid(), "9izKpCR4");
    assert_eq!(old.kid(), JwtKeys::hs256(OLD).unwrap().kid(), "stable");
    assert_ne!(old.kid(), new.kid());
    assert_eq!(old.kid().len(), 8);
    assert!(old
        .kid()
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(!OLD.contains(old.kid()) && !b64(OLD.as_bytes()).contains(old.kid()));
    let rsa = rsa_keys();
    assert_ne!(rsa.kid(), old.kid());
    assert_eq!(rsa.kid(), rsa_keys().kid());
    let other_rsa = JwtKeys::from_pem(
        Algorithm::RS256,
        &fixture_file("rsa_other_private.pem"),
        &fixture_file("rsa_other_public.pem"),
    )
    .unwrap();
    assert_ne!(rsa.kid(), other_rsa.kid());
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
async fn rotated_tokens_interoperate_with_pyjwt() {
    if !pyjwt_available() {
        eprintln!("skipping: PyJWT is not installed (`python3 -c 'import jwt'` failed)");
        return;
    }
    let store = MemoryStore::new();
    let state = state_with(&store, NEW, &[OLD], Some(ISSUER));
    let user = regular_user(&state, "alice@example.com").await;
    let app = app(&state);

    // Ours, with a kid and an issuer: PyJWT (fastapi-users' decode_jwt) reads it with the
    // secret and the audience, and checks the issuer too.
    let ours = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let read = python(
        "import jwt, sys\n\
         print(jwt.get_unverified_header(sys.argv[2])['kid'])\n\
         print(jwt.decode(sys.argv[2], sys.argv[1], audience=['fastapi-users:auth'], algorithms=['HS256'])['sub'])\n\
         print(jwt.decode(sys.argv[2], sys.argv[1], audience=['fastapi-users:auth'], issuer=sys.argv[3], algorithms=['HS256'])['iss'])",
        &[NEW, &ours, ISSUER],
    );
    assert_eq!(
        read,
        format!("{}\n{}\n{ISSUER}", state.keys().kid(), user.id)
    );

    // PyJWT's tokens signed with the previous secret, as fastapi-users mints them (no kid)
    // and with the previous key's kid, are accepted after the rotation.
    let old_kid = JwtKeys::hs256(OLD).unwrap().kid().to_owned();
    for kid in ["", old_kid.as_str()] {
        let token = python(
            "import jwt, sys, time\n\
             headers = {'kid': sys.argv[3]} if sys.argv[3] else None\n\
             print(jwt.encode({'sub': sys.argv[2], 'aud': ['fastapi-users:auth'], 'iss': sys.argv[4], 'exp': int(time.time()) + 3600}, sys.argv[1], algorithm='HS256', headers=headers))",
            &[OLD, &user.id.to_string(), kid, ISSUER],
        );
        assert_eq!(status_of(&app, &token).await, StatusCode::OK, "kid {kid:?}");
    }
    // The same without `iss`: refused, the issuer being configured.
    let token = python(
        "import jwt, sys, time\n\
         print(jwt.encode({'sub': sys.argv[2], 'aud': ['fastapi-users:auth'], 'exp': int(time.time()) + 3600}, sys.argv[1], algorithm='HS256'))",
        &[OLD, &user.id.to_string()],
    );
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
}
